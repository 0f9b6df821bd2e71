//! ALFA, the adversarial label flip attack of Xiao, Xiao and Eckert (ECAI 2012, "Adversarial
//! label flips attack on support vector machines"), docs/method.md §6.
//!
//! The attack works on U = S ∪ S′, the training set S = {(x_i, y_i)} together with its flipped
//! copy S′ = {(x_i, −y_i)}. Write q_i ∈ [0, 1] for the relaxed indicator "label i is flipped"
//! (the paper's q_{n+i}; the paper's q_i is 1 − q_i here), f_S for the SVM trained on the clean
//! labels, ξ⁰_i = max(0, 1 − y_i f_S(x_i)) and ξ¹_i = max(0, 1 + y_i f_S(x_i)) for its hinge losses
//! on the original and the flipped copy, and ε⁰_i, ε¹_i for the same losses of the current
//! tainted SVM f. ALFA alternates two convex problems, both solved with Clarabel:
//!
//! - LP (f fixed): min_q Σ_i [(1 − q_i)(ε⁰_i − ξ⁰_i) + q_i(ε¹_i − ξ¹_i)] s.t. Σ_i q_i = budget,
//!   0 ≤ q ≤ 1. That is, maximise the loss difference Σ_{u ∈ U} q_u (ξ_u − ε_u) the paper's
//!   bilevel problem relaxes: pick the labels that the clean SVM fits badly and a tainted SVM
//!   fits well. The constant part is dropped: the LP's costs are
//!   c_i = (ε¹_i − ξ¹_i) − (ε⁰_i − ξ⁰_i).
//! - QP (q fixed): the SVM on U with per-point weights, min_{f,ε} ½‖f‖² + C Σ_u w_u ε_u s.t.
//!   y_u f(x_u) ≥ 1 − ε_u, ε ≥ 0, with w = 1 − q_i on (x_i, y_i) and w = q_i on (x_i, −y_i),
//!   solved in its dual: min_α ½αᵀQ_Uα − 1ᵀα s.t. u_Uᵀα = 0, 0 ≤ α_u ≤ C w_u, where u_U = (y, −y)
//!   and (Q_U)_{ab} = u_a u_b K(x_a, x_b). Then f(x) = Σ_j β_j K(x_j, x) + b with
//!   β_j = y_j (α_j − α_{n+j}), b the multiplier of the equality constraint, and the new
//!   ε⁰_i = max(0, 1 − y_i f(x_i)), ε¹_i = max(0, 1 + y_i f(x_i)).
//!
//! Starting from ε = 0 (the paper's initialisation), LP and QP alternate until the LP's q moves
//! by at most `tolerance` (max-norm) or after `iterations` LPs; the labels with the `budget`
//! largest q_i are flipped (ties by lower index).
//!
//! Cost: the QP has up to 2n variables and a dense (2n)×(2n) quadratic term; Clarabel factors
//! it with a sparse LDLᵀ, so each interior-point iteration is O(n³) in the worst case. Dual
//! variables whose bound C·w_u is below 1e-9·C (their weight is numerically zero) are fixed at 0
//! and left out, which roughly halves the QP once q is close to a vertex. Meant for training
//! sets of up to a few hundred points.

use clarabel::algebra::CscMatrix;
use clarabel::solver::{DefaultSettings, DefaultSolver, IPSolver, NonnegativeConeT, SolverStatus, ZeroConeT};
use faer::Col;
use floral_data::{FlipSet, FloralRng, Labels};
use floral_svm::{Gram, SignedGram, kernel_matvec_into};
use serde::{Deserialize, Serialize};

use crate::model_common::{check_c, decision_values, preamble, smo, top_k_desc, train};
use crate::{AttackError, PoisonInput, Poisoner};

/// Weights below this fraction of C count as zero in the QP (the variable is fixed at 0).
const ZERO_WEIGHT: f64 = 1e-9;

/// Parameters of [`Alfa`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlfaParams {
    /// Box bound C of the clean and the tainted SVMs. Finite, > 0. Default 1 (the reference
    /// configuration of the FLORAL authors' code).
    #[serde(default = "default_c")]
    pub c: f64,
    /// Maximum number of LP steps (each followed by a QP step unless it is the last). ≥ 1.
    /// Default 10, the FLORAL authors' code (chosen there from the ALFA paper's experiments).
    #[serde(default = "default_iterations")]
    pub iterations: usize,
    /// Stop when max_i |q_i − q_i^prev| ≤ tolerance between two consecutive LP solutions.
    /// Finite, ≥ 0 (0: always run `iterations` steps). Default 1e-6.
    #[serde(default = "default_tolerance")]
    pub tolerance: f64,
}

fn default_c() -> f64 {
    1.0
}

fn default_iterations() -> usize {
    10
}

fn default_tolerance() -> f64 {
    1e-6
}

impl Default for AlfaParams {
    fn default() -> Self {
        Self { c: default_c(), iterations: default_iterations(), tolerance: default_tolerance() }
    }
}

/// ALFA (Xiao et al. 2012): alternate an LP over relaxed flip indicators and a weighted SVM QP
/// on the mixed labels, then flip the `budget` largest indicators (formulas in the module
/// docs). Deterministic: the rng is not used.
#[derive(Debug, Clone)]
pub struct Alfa {
    params: AlfaParams,
}

impl Alfa {
    /// Validate the parameters.
    ///
    /// # Errors
    /// [`AttackError::InvalidParam`] naming the field: `c` not finite and > 0, `iterations` = 0,
    /// `tolerance` negative or not finite.
    pub fn new(params: AlfaParams) -> Result<Self, AttackError> {
        check_c(params.c)?;
        if params.iterations == 0 {
            return Err(AttackError::InvalidParam {
                field: "iterations",
                expected: "an integer >= 1",
                got: "0".into(),
            });
        }
        if !(params.tolerance.is_finite() && params.tolerance >= 0.0) {
            return Err(AttackError::InvalidParam {
                field: "tolerance",
                expected: "a finite number >= 0",
                got: params.tolerance.to_string(),
            });
        }
        Ok(Self { params })
    }

    /// The parameters.
    pub fn params(&self) -> &AlfaParams {
        &self.params
    }
}

/// Hinge losses of decision values f against labels y (ε⁰_i = max(0, 1 − y_i f_i)) and against
/// the flipped labels (ε¹_i = max(0, 1 + y_i f_i)).
fn hinge_pair(f: &[f64], y: &Labels) -> (Vec<f64>, Vec<f64>) {
    let ys = y.as_slice();
    let l0 = f.iter().zip(ys).map(|(fi, yi)| (1.0 - yi * fi).max(0.0)).collect();
    let l1 = f.iter().zip(ys).map(|(fi, yi)| (1.0 + yi * fi).max(0.0)).collect();
    (l0, l1)
}

fn settings() -> DefaultSettings<f64> {
    DefaultSettings { verbose: false, ..DefaultSettings::default() }
}

/// Run Clarabel on min ½xᵀPx + cᵀx s.t. Ax + s = b, s ∈ {0}^1 × R₊^(m−1); returns (x, z).
fn clarabel_solve(
    p: &CscMatrix<f64>,
    c: &[f64],
    a: &CscMatrix<f64>,
    b: &[f64],
    step: String,
) -> Result<(Vec<f64>, Vec<f64>), AttackError> {
    let cones = [ZeroConeT(1), NonnegativeConeT(b.len() - 1)];
    let fail = |detail: String| AttackError::Solver { poisoner: "alfa", step: step.clone(), detail };
    let mut solver = DefaultSolver::new(p, c, a, b, &cones, settings()).map_err(|e| fail(e.to_string()))?;
    solver.solve();
    let sol = &solver.solution;
    match sol.status {
        SolverStatus::Solved | SolverStatus::AlmostSolved => {}
        s => return Err(fail(format!("Clarabel status {s:?}"))),
    }
    if let Some(i) = sol.x.iter().position(|v| !v.is_finite()) {
        return Err(fail(format!("non-finite solution entry {i}")));
    }
    Ok((sol.x.clone(), sol.z.clone()))
}

/// The LP step: min cᵀq s.t. Σq = budget, 0 ≤ q ≤ 1 (rows: 1ᵀ; −I; I), solved with Clarabel;
/// the result is clipped to [0, 1].
fn lp_step(cost: &[f64], budget: usize, iteration: usize) -> Result<Vec<f64>, AttackError> {
    let n = cost.len();
    let mut colptr = Vec::with_capacity(n + 1);
    let mut rowval = Vec::with_capacity(3 * n);
    let mut nzval = Vec::with_capacity(3 * n);
    for i in 0..n {
        colptr.push(3 * i);
        rowval.extend([0, 1 + i, 1 + n + i]);
        nzval.extend([1.0, -1.0, 1.0]);
    }
    colptr.push(3 * n);
    let a = CscMatrix::new(1 + 2 * n, n, colptr, rowval, nzval);
    let mut b = vec![0.0; 1 + 2 * n];
    b[0] = budget as f64;
    b[1 + n..].fill(1.0);
    let p = CscMatrix::zeros((n, n));
    let (x, _) = clarabel_solve(&p, cost, &a, &b, format!("LP step in iteration {}", iteration + 1))?;
    Ok(x.into_iter().map(|v| v.clamp(0.0, 1.0)).collect())
}

/// The QP step: the weighted SVM on U = S ∪ S′ in its dual (module docs), solved with Clarabel
/// over the variables whose bound C·w_u is at least 1e-9·C. Returns the decision values
/// f(x_i) = Σ_j β_j K_ij + b on the training points.
fn qp_step(gram: &Gram, y: &Labels, q: &[f64], c: f64, iteration: usize) -> Result<Vec<f64>, AttackError> {
    let n = y.len();
    let ys = y.as_slice();
    // Active dual variables u ∈ 0..2n: point u mod n, label sign s_u, bound C·w_u.
    let mut act: Vec<(usize, f64, f64)> = Vec::with_capacity(2 * n);
    for (u, (w, s)) in q
        .iter()
        .map(|qi| 1.0 - qi)
        .zip(ys.iter().copied())
        .chain(q.iter().copied().zip(ys.iter().map(|v| -v)))
        .enumerate()
    {
        if w >= ZERO_WEIGHT {
            act.push((u % n, s, c * w));
        }
    }
    let m = act.len();
    let k = gram.as_ref();
    // P: the upper triangle of Q_U over the active set, column by column.
    let mut colptr = Vec::with_capacity(m + 1);
    let mut rowval = Vec::with_capacity(m * (m + 1) / 2);
    let mut nzval = Vec::with_capacity(m * (m + 1) / 2);
    for (col, &(j, sj, _)) in act.iter().enumerate() {
        colptr.push(rowval.len());
        for (row, &(i, si, _)) in act.iter().enumerate().take(col + 1) {
            rowval.push(row);
            nzval.push(si * sj * k[(i, j)]);
        }
    }
    colptr.push(rowval.len());
    let p = CscMatrix::new(m, m, colptr, rowval, nzval);
    // A: rows 0 (u_Uᵀα = 0), 1..=m (−α ≤ 0), m+1..=2m (α ≤ C·w).
    let mut colptr = Vec::with_capacity(m + 1);
    let mut rowval = Vec::with_capacity(3 * m);
    let mut nzval = Vec::with_capacity(3 * m);
    for (col, &(_, s, _)) in act.iter().enumerate() {
        colptr.push(3 * col);
        rowval.extend([0, 1 + col, 1 + m + col]);
        nzval.extend([s, -1.0, 1.0]);
    }
    colptr.push(3 * m);
    let a = CscMatrix::new(1 + 2 * m, m, colptr, rowval, nzval);
    let mut b = vec![0.0; 1 + 2 * m];
    for (t, &(_, _, ub)) in act.iter().enumerate() {
        b[1 + m + t] = ub;
    }
    let cost = vec![-1.0; m];
    let (alpha, z) = clarabel_solve(&p, &cost, &a, &b, format!("QP step in iteration {}", iteration + 1))?;
    // β_i = Σ over the active copies of point i of s_u α_u (clipped into the box).
    let mut beta = Col::<f64>::zeros(n);
    for (t, &(i, s, ub)) in act.iter().enumerate() {
        beta[i] += s * alpha[t].clamp(0.0, ub);
    }
    // Multiplier of the equality row: Clarabel's KKT Px + c + Aᵀz = 0 reads, for a free α_u,
    // s_u (Σ_v s_v α_v K_uv + z_0) = 1, so z_0 is the bias b.
    let bias = z[0];
    let mut f = Col::<f64>::zeros(n);
    kernel_matvec_into(k, beta.as_ref(), f.as_mut());
    Ok((0..n).map(|i| f[i] + bias).collect())
}

impl Poisoner for Alfa {
    fn name(&self) -> &'static str {
        "alfa"
    }

    fn poison(&self, input: &PoisonInput<'_>, budget: usize, _rng: &mut FloralRng) -> Result<FlipSet, AttackError> {
        if let Some(done) = preamble(input, budget, self.name())? {
            return Ok(done);
        }
        let n = input.train.n();
        let budget = budget.min(n);
        let y = input.train.y();
        let c = self.params.c;
        // The clean SVM f_S and its hinge losses ξ⁰, ξ¹.
        let qs = SignedGram::new(input.gram.clone(), y)?;
        let clean = train(&mut smo()?, &qs, c, None)?;
        let (xi0, xi1) = hinge_pair(&decision_values(&qs, &clean), y);
        let (mut eps0, mut eps1) = (vec![0.0; n], vec![0.0; n]);
        let mut prev: Option<Vec<f64>> = None;
        let mut q = Vec::new();
        for it in 0..self.params.iterations {
            let cost: Vec<f64> = (0..n).map(|i| (eps1[i] - xi1[i]) - (eps0[i] - xi0[i])).collect();
            q = lp_step(&cost, budget, it)?;
            if let Some(p) = &prev {
                let moved = q.iter().zip(p).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
                if moved <= self.params.tolerance {
                    break;
                }
            }
            if it + 1 < self.params.iterations {
                let f = qp_step(input.gram, y, &q, c, it)?;
                (eps0, eps1) = hinge_pair(&f, y);
            }
            prev = Some(q.clone());
        }
        Ok(FlipSet::new(top_k_desc(&q, budget), n)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::poison_exact;
    use floral_data::{Dataset, Stream, moons, stream};
    use floral_svm::{Rbf, RbfParams};
    use std::sync::Arc;

    fn setup(n: usize, seed: u64) -> (Dataset, Rbf, Arc<Gram>) {
        let train = moons(n, 0.15, &mut stream(seed, Stream::Data)).unwrap();
        let k = Rbf::new(RbfParams { gamma: 1.0 }).unwrap();
        let gram = Arc::new(Gram::new(&k, train.x()));
        (train, k, gram)
    }

    #[test]
    fn qp_with_no_flips_is_the_clean_svm() {
        // q = 0: the copies S′ have weight 0 and the QP is the plain SVM; Clarabel's decision
        // values must match SMO's (run to a KKT gap of 1e-8).
        let (train, _, gram) = setup(40, 3);
        let y = train.y();
        let qs = SignedGram::new(gram.clone(), y).unwrap();
        let sol = train_clean(&qs);
        let f_smo = decision_values(&qs, &sol);
        let f_qp = qp_step(&gram, y, &vec![0.0; 40], 1.0, 0).unwrap();
        let worst = f_smo.iter().zip(&f_qp).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        // The bias is far from 0 here, so a wrong sign for Clarabel's multiplier would show.
        assert!(sol.bias.abs() > 1e-2, "bias {}", sol.bias);
        assert!(worst < 1e-5, "max |f_smo − f_qp| = {worst}");
    }

    #[test]
    fn qp_with_all_flipped_is_the_svm_on_flipped_labels() {
        let (train, _, gram) = setup(30, 5);
        let y = train.y();
        let flipped = Labels::new(y.as_slice().iter().map(|v| -v).collect()).unwrap();
        let qs = SignedGram::new(gram.clone(), &flipped).unwrap();
        let f_smo = decision_values(&qs, &train_clean(&qs));
        let f_qp = qp_step(&gram, y, &vec![1.0; 30], 1.0, 0).unwrap();
        let worst = f_smo.iter().zip(&f_qp).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        assert!(worst < 1e-5, "max |f_smo − f_qp| = {worst}");
    }

    fn train_clean(q: &SignedGram) -> floral_svm::DualSolution {
        let mut s = floral_svm::Smo::new(floral_svm::SmoParams { eps: 1e-8, ..Default::default() }).unwrap();
        train(&mut s, q, 1.0, None).unwrap()
    }

    #[test]
    fn lp_picks_the_cheapest_coordinates() {
        let q = lp_step(&[0.5, -2.0, 1.0, -1.0, 0.0], 2, 0).unwrap();
        assert_eq!(top_k_desc(&q, 2), vec![1, 3]);
        assert!((q.iter().sum::<f64>() - 2.0).abs() < 1e-6);
        assert!(q[1] > 0.999 && q[3] > 0.999 && q[0] < 1e-3 && q[2] < 1e-3 && q[4] < 1e-3);
    }

    #[test]
    fn exact_budget_and_deterministic() {
        let (train, k, gram) = setup(30, 2);
        let input = PoisonInput { train: &train, kernel: &k, gram: &gram, validation: None };
        let a = Alfa::new(AlfaParams::default()).unwrap();
        let f1 = poison_exact(&a, &input, 6, &mut stream(1, Stream::Data)).unwrap();
        let f2 = poison_exact(&a, &input, 6, &mut stream(9, Stream::Data)).unwrap();
        assert_eq!(f1.len(), 6);
        assert_eq!(f1, f2, "ALFA does not use the rng");
    }

    #[test]
    fn params_are_validated() {
        for (p, field) in [
            (AlfaParams { c: 0.0, ..Default::default() }, "`c`"),
            (AlfaParams { iterations: 0, ..Default::default() }, "`iterations`"),
            (AlfaParams { tolerance: -1.0, ..Default::default() }, "`tolerance`"),
            (AlfaParams { tolerance: f64::NAN, ..Default::default() }, "`tolerance`"),
        ] {
            let e = Alfa::new(p).unwrap_err().to_string();
            assert!(e.contains(field), "{e}");
        }
    }
}
