//! Influence of single training points on a trained kernel SVM (`proofs/influence.md`).
//!
//! Ground truth by exact retraining: for a training point i, flip its label (or remove it) and
//! solve the dual again with SMO, warm-started from the current solution made feasible for the
//! changed problem ([`warm_start_without`]); measure the change of the mean hinge loss and the
//! 0-1 error on a validation set and of the decision function on a test set. A first-order
//! estimate of the flip's effect comes from linearising the KKT conditions on the free set
//! ([`FirstOrder`]).
#![allow(non_snake_case)]

use std::sync::Arc;

use faer::diag::Diag;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::evd::{self, ComputeEigenvectors};
use faer::{Col, ColRef, Mat, MatRef, Par};
use floral_data::Labels;
use rayon::prelude::*;

use crate::{Bounds, DualSolution, Gram, SignedGram, Smo, SmoParams, SvmError};

/// A feasible warm start for the labels `y` from λ (feasible for the same labels with y_j
/// flipped, or for the same labels when point j is being removed): λ_j ← 0, then the
/// imbalance r = Σ_i y_i λ_i is taken off the class with the sign of r by scaling that class's
/// weights by (1 − |r|/S), S = Σ_{i: y_i = sign r} λ_i. Afterwards 0 ≤ λ ≤ C and yᵀλ = 0 hold
/// up to rounding. Returns false (and leaves `out` unspecified) when that class cannot absorb r
/// (S < |r|); the caller then starts from λ = 0.
///
/// # Panics
/// Debug builds assert that `out`, `lambda` and `y` have the same length and j < n.
pub fn warm_start_without(lambda: ColRef<'_, f64>, y: &Labels, j: usize, out: &mut Col<f64>) -> bool {
    let n = lambda.nrows();
    debug_assert!(out.nrows() == n && y.len() == n && j < n);
    let ys = y.as_slice();
    for i in 0..n {
        out[i] = lambda[i];
    }
    out[j] = 0.0;
    let r: f64 = (0..n).map(|i| ys[i] * out[i]).sum();
    if r == 0.0 {
        return true;
    }
    let sign = r.signum();
    let s: f64 = (0..n).filter(|&i| ys[i] == sign).map(|i| out[i]).sum();
    if s < r.abs() || s <= 0.0 {
        return false;
    }
    let scale = 1.0 - r.abs() / s;
    for i in 0..n {
        if ys[i] == sign {
            out[i] *= scale;
        }
    }
    true
}

/// Decision values on an evaluation set: f(x_v) = b + Σ_j K_vj ỹ_j λ_j for every row v of the
/// cross-kernel K(eval, train) (only the support vectors λ_j > 0 are visited).
///
/// # Panics
/// Debug builds assert k.ncols() = λ's length = the number of labels.
pub fn cross_decision_values(k: MatRef<'_, f64>, labels: &Labels, lambda: ColRef<'_, f64>, bias: f64) -> Vec<f64> {
    debug_assert!(k.ncols() == lambda.nrows() && labels.len() == lambda.nrows());
    let mut f = vec![bias; k.nrows()];
    for (j, &yj) in labels.as_slice().iter().enumerate() {
        let a = lambda[j] * yj;
        if a == 0.0 {
            continue;
        }
        for (fv, &kvj) in f.iter_mut().zip(k.col(j).iter()) {
            *fv += a * kvj;
        }
    }
    f
}

/// Mean hinge loss and 0-1 error of decision values on labelled points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EvalLoss {
    /// (1/m) Σ_v max(0, 1 − y_v f_v).
    pub hinge: f64,
    /// The fraction of points with sign(f_v) ≠ y_v (f = 0 counts as +1).
    pub error: f64,
}

impl EvalLoss {
    /// hinge = (1/m) Σ_v max(0, 1 − y_v f_v), error = (1/m) #{v : sign(f_v) ≠ y_v} (f = 0 → +1);
    /// both 0 for m = 0.
    pub fn of(f: &[f64], y: &Labels) -> EvalLoss {
        let m = f.len();
        if m == 0 {
            return EvalLoss { hinge: 0.0, error: 0.0 };
        }
        let mut hinge = 0.0;
        let mut wrong = 0usize;
        for (fv, yv) in f.iter().zip(y.as_slice()) {
            hinge += (1.0 - yv * fv).max(0.0);
            let pred = if *fv >= 0.0 { 1.0 } else { -1.0 };
            wrong += usize::from(pred != *yv);
        }
        EvalLoss { hinge: hinge / m as f64, error: wrong as f64 / m as f64 }
    }
}

/// The evaluation sets of an influence computation: the validation cross-kernel K(val, train)
/// with the validation labels, and the test cross-kernel K(test, train).
#[derive(Debug, Clone, Copy)]
pub struct InfluenceSets<'a> {
    /// K(validation, train), m × n.
    pub validation: MatRef<'a, f64>,
    /// The validation labels (length m).
    pub validation_labels: &'a Labels,
    /// K(test, train), t × n.
    pub test: MatRef<'a, f64>,
}

/// Settings of [`influence`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InfluenceParams {
    /// The box bound C of every SVM (base and retrained). Finite, > 0.
    pub c: f64,
    /// Warm-start each retrain from the base solution ([`warm_start_without`]); false: from λ = 0.
    pub warm_start: bool,
    /// The SMO settings of every solve.
    pub smo: SmoParams,
}

/// The measured influence of one training point i (all deltas are retrained minus base).
/// Serialisable: a study stores it as it is (RON and JSON read every f64 back to the same bits).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PointInfluence {
    /// The point's index in the training set.
    pub index: usize,
    /// λ_i of the base SVM.
    pub lambda: f64,
    /// Δ mean validation hinge loss when y_i is flipped.
    pub flip_val_hinge_delta: f64,
    /// Δ validation 0-1 error when y_i is flipped.
    pub flip_val_error_delta: f64,
    /// (1/t) Σ_test |f′(x) − f(x)| when y_i is flipped.
    pub flip_test_df: f64,
    /// Δ mean validation hinge loss when point i is removed (leave-one-out).
    pub loo_val_hinge_delta: f64,
    /// Δ validation 0-1 error when point i is removed.
    pub loo_val_error_delta: f64,
    /// (1/t) Σ_test |f′(x) − f(x)| when point i is removed.
    pub loo_test_df: f64,
    /// The first-order estimate of `flip_val_hinge_delta` ([`FirstOrder::flip`]).
    pub first_order_flip_val_hinge_delta: f64,
    /// The first-order estimate of `flip_test_df`.
    pub first_order_flip_test_df: f64,
    /// SMO iterations of the flip retrain.
    pub flip_iterations: usize,
    /// SMO iterations of the removal retrain.
    pub loo_iterations: usize,
}

/// The result of [`influence`]: the base SVM, its validation loss, and one entry per point asked.
#[derive(Debug, Clone)]
pub struct Influence {
    /// The SVM trained on the given labels (SMO from λ = 0).
    pub base: DualSolution,
    /// Its validation loss.
    pub base_validation: EvalLoss,
    /// One entry per requested index, in the order asked.
    pub points: Vec<PointInfluence>,
}

/// Mean absolute difference (1/t) Σ_v |a_v − b_v| (0 for empty inputs).
fn mean_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    if a.is_empty() {
        return 0.0;
    }
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f64>() / a.len() as f64
}

/// Train the SVM on `labels` (min ½λᵀQ̃λ − 1ᵀλ s.t. 0 ≤ λ ≤ C, ỹᵀλ = 0, docs/method.md §2) and
/// measure, for every index in `indices`, the effect of flipping that label and of removing
/// that point (C_i = 0, which is the same problem as dropping the point) by exact retraining,
/// plus the first-order estimate of the flip ([`FirstOrder`]). Points are processed in
/// parallel; each one's numbers depend only on the inputs (not on the thread count).
///
/// # Errors
/// [`SvmError::InvalidParam`] for C not finite and > 0 or an index out of range;
/// [`SvmError::DimensionMismatch`] when the kernels or labels disagree in size; the solver's
/// errors.
pub fn influence(
    gram: &Arc<Gram>,
    labels: &Labels,
    sets: &InfluenceSets<'_>,
    params: &InfluenceParams,
    indices: &[usize],
) -> Result<Influence, SvmError> {
    let n = gram.n();
    let c = params.c;
    if !(c.is_finite() && c > 0.0) {
        return Err(SvmError::InvalidParam { field: "c", expected: "a finite number > 0", got: c.to_string() });
    }
    for (what, got) in [
        ("labels vs Gram order", labels.len()),
        ("validation kernel columns vs Gram order", sets.validation.ncols()),
        ("test kernel columns vs Gram order", sets.test.ncols()),
    ] {
        if got != n {
            return Err(SvmError::DimensionMismatch { what, expected: n, got });
        }
    }
    if sets.validation_labels.len() != sets.validation.nrows() {
        return Err(SvmError::DimensionMismatch {
            what: "validation labels vs validation kernel rows",
            expected: sets.validation.nrows(),
            got: sets.validation_labels.len(),
        });
    }
    if let Some(&i) = indices.iter().find(|&&i| i >= n) {
        return Err(SvmError::InvalidParam { field: "indices", expected: "indices < n", got: i.to_string() });
    }
    let q = SignedGram::new(gram.clone(), labels)?;
    let base = Smo::new(params.smo)?.solve(&q, Bounds::Uniform(c), None)?;
    let f_val = cross_decision_values(sets.validation, labels, base.lambda.as_ref(), base.bias);
    let f_test = cross_decision_values(sets.test, labels, base.lambda.as_ref(), base.bias);
    let base_validation = EvalLoss::of(&f_val, sets.validation_labels);
    let first = FirstOrder::new(gram.as_ref(), labels, base.lambda.as_ref(), c)?;
    let points = indices
        .par_iter()
        .map(|&i| {
            let mut smo = Smo::new(params.smo)?;
            let mut q = q.clone();
            let mut warm = Col::<f64>::zeros(n);
            // Flip y_i.
            q.flip(i);
            let start = (params.warm_start && warm_start_without(base.lambda.as_ref(), q.labels(), i, &mut warm))
                .then_some(warm.as_ref());
            let flip = smo.solve(&q, Bounds::Uniform(c), start)?;
            let fv = cross_decision_values(sets.validation, q.labels(), flip.lambda.as_ref(), flip.bias);
            let ft = cross_decision_values(sets.test, q.labels(), flip.lambda.as_ref(), flip.bias);
            q.flip(i);
            let flip_val = EvalLoss::of(&fv, sets.validation_labels);
            // Remove point i: C_i = 0.
            let mut cs = vec![c; n];
            cs[i] = 0.0;
            let start = (params.warm_start && warm_start_without(base.lambda.as_ref(), labels, i, &mut warm))
                .then_some(warm.as_ref());
            let loo = smo.solve(&q, Bounds::PerPoint(&cs), start)?;
            let lv = cross_decision_values(sets.validation, labels, loo.lambda.as_ref(), loo.bias);
            let lt = cross_decision_values(sets.test, labels, loo.lambda.as_ref(), loo.bias);
            let loo_val = EvalLoss::of(&lv, sets.validation_labels);
            let est = first.flip(i, sets.validation, sets.validation_labels, &f_val);
            let est_test = first.flip_decision_change(i, sets.test);
            Ok(PointInfluence {
                index: i,
                lambda: base.lambda[i],
                flip_val_hinge_delta: flip_val.hinge - base_validation.hinge,
                flip_val_error_delta: flip_val.error - base_validation.error,
                flip_test_df: mean_abs_diff(&ft, &f_test),
                loo_val_hinge_delta: loo_val.hinge - base_validation.hinge,
                loo_val_error_delta: loo_val.error - base_validation.error,
                loo_test_df: mean_abs_diff(&lt, &f_test),
                first_order_flip_val_hinge_delta: est,
                first_order_flip_test_df: est_test.iter().map(|d| d.abs()).sum::<f64>() / est_test.len().max(1) as f64,
                flip_iterations: flip.iterations,
                loo_iterations: loo.iterations,
            })
        })
        .collect::<Result<Vec<_>, SvmError>>()?;
    Ok(Influence { base, base_validation, points })
}

/// First-order (influence-function style) estimate of a label flip, by linearising the KKT
/// conditions of the SVM on its free set (`proofs/influence.md` (c)).
///
/// The flip of y_i is embedded in a path of labels y_i(t) = y_i(1 − 2t), t ∈ [0, 1] (t = 1 is
/// the flip), with the dual min ½λᵀD(t)KD(t)λ − 1ᵀλ, 0 ≤ λ ≤ C, y(t)ᵀλ = 0. With
/// α_k = y_k(t)λ_k, the decision function is f(x) = Σ_k α_k k(x, x_k) + b. Holding the free set
/// F = {k : 0 < λ_k < C} and the bound values fixed, the KKT conditions
/// y_j(t) f(x_j) = 1 (j ∈ F) and Σ_k α_k = 0 differentiate at t = 0 to
///
/// ```text
/// [K_FF 1; 1ᵀ 0] [u; db] = [f′_F − K_{F,i} a_i; −a_i],   a_i = −2 y_i λ_i,
/// f′_j = 2 y_i if j = i ∈ F, else 0,
/// ```
///
/// where u = dα_F − a_i e_i (dα_i = a_i + u_i when i ∈ F). Then
/// df(x)/dt = Σ_{k∈F} k(x, x_k) u_k + k(x, x_i) a_i + db, and the estimate of a change is its
/// value at t = 1 (one Euler step). The KKT matrix is the same for every i, so its
/// pseudo-inverse (eigendecomposition, eigenvalues below 1e-10·max|e| dropped) is computed
/// once; a singular system (e.g. an empty free set) gets the minimum-norm solution.
#[derive(Debug, Clone)]
pub struct FirstOrder {
    /// The free set F, ascending.
    free: Vec<usize>,
    /// Pseudo-inverse of [K_FF 1; 1ᵀ 0], (|F|+1)².
    pinv: Mat<f64>,
    /// K_{F,·}: the Gram rows of the free set, |F| × n.
    kf: Mat<f64>,
    y: Vec<f64>,
    lambda: Vec<f64>,
}

impl FirstOrder {
    /// Prepare the estimate at the solution λ of the SVM with labels `labels`, bound C and
    /// Gram matrix `gram` (free set F = {k : 0 < λ_k < C}).
    ///
    /// # Errors
    /// [`SvmError::DimensionMismatch`] for sizes that disagree, [`SvmError::Eigen`] if the
    /// eigensolver fails.
    pub fn new(gram: &Gram, labels: &Labels, lambda: ColRef<'_, f64>, c: f64) -> Result<FirstOrder, SvmError> {
        let n = gram.n();
        for got in [labels.len(), lambda.nrows()] {
            if got != n {
                return Err(SvmError::DimensionMismatch { what: "first-order: labels/λ vs Gram", expected: n, got });
            }
        }
        let K = gram.as_ref();
        let free: Vec<usize> = (0..n).filter(|&k| lambda[k] > 0.0 && lambda[k] < c).collect();
        let m = free.len();
        let M = Mat::from_fn(m + 1, m + 1, |r, s| match (r < m, s < m) {
            (true, true) => K[(free[r], free[s])],
            (true, false) | (false, true) => 1.0,
            (false, false) => 0.0,
        });
        let pinv = symmetric_pinv(M.as_ref())?;
        Ok(FirstOrder {
            pinv,
            kf: Mat::from_fn(free.len(), n, |r, j| K[(free[r], j)]),
            y: labels.as_slice().to_vec(),
            lambda: (0..n).map(|k| lambda[k]).collect(),
            free,
        })
    }

    /// The free set F = {k : 0 < λ_k < C}, ascending.
    pub fn free_set(&self) -> &[usize] {
        &self.free
    }

    /// (u, db, a_i) of the linearised KKT system for flipping y_i (see the type's docs).
    fn direction(&self, i: usize) -> (Vec<f64>, f64, f64) {
        let m = self.free.len();
        let yi = self.y[i];
        let ai = -2.0 * yi * self.lambda[i];
        let mut rhs = vec![0.0; m + 1];
        for (r, &j) in self.free.iter().enumerate() {
            let fprime = if j == i { 2.0 * yi } else { 0.0 };
            rhs[r] = fprime - self.kf[(r, i)] * ai;
        }
        rhs[m] = -ai;
        let mut sol = vec![0.0; m + 1];
        for (s, &v) in rhs.iter().enumerate() {
            if v == 0.0 {
                continue;
            }
            for (r, out) in sol.iter_mut().enumerate() {
                *out += self.pinv[(r, s)] * v;
            }
        }
        let db = sol[m];
        sol.truncate(m);
        (sol, db, ai)
    }

    /// df(x)/dt at t = 0 for every row x of the cross-kernel K(eval, train) when y_i is flipped:
    /// Σ_{k∈F} K_xk u_k + K_xi a_i + db.
    ///
    /// # Panics
    /// If i ≥ n (debug builds also assert the kernel's width).
    pub fn flip_decision_change(&self, i: usize, k_eval: MatRef<'_, f64>) -> Vec<f64> {
        debug_assert_eq!(k_eval.ncols(), self.y.len());
        let (u, db, ai) = self.direction(i);
        let mut df = vec![db; k_eval.nrows()];
        for (v, d) in df.iter_mut().enumerate() {
            let mut s = k_eval[(v, i)] * ai;
            for (uk, &k) in u.iter().zip(&self.free) {
                s += k_eval[(v, k)] * uk;
            }
            *d += s;
        }
        df
    }

    /// The first-order estimate of the change in mean hinge loss on labelled points when y_i is
    /// flipped: (1/m) Σ_v h′_v with h_v = 1 − y_v f_v, dh_v = −y_v df_v, and
    /// h′_v = dh_v if h_v > 0, max(0, dh_v) if h_v = 0, 0 if h_v < 0 (the directional derivative
    /// of max(0, h)). `f` are the base decision values on those points.
    ///
    /// # Panics
    /// If i ≥ n (debug builds also assert the sizes).
    pub fn flip(&self, i: usize, k_eval: MatRef<'_, f64>, y_eval: &Labels, f: &[f64]) -> f64 {
        debug_assert!(f.len() == k_eval.nrows() && y_eval.len() == f.len());
        let df = self.flip_decision_change(i, k_eval);
        if df.is_empty() {
            return 0.0;
        }
        let mut s = 0.0;
        for ((dfv, fv), yv) in df.iter().zip(f).zip(y_eval.as_slice()) {
            let h = 1.0 - yv * fv;
            let dh = -yv * dfv;
            s += if h > 0.0 {
                dh
            } else if h == 0.0 {
                dh.max(0.0)
            } else {
                0.0
            };
        }
        s / df.len() as f64
    }
}

/// The Moore–Penrose pseudo-inverse of a symmetric matrix from its eigendecomposition
/// A = V diag(e) Vᵀ: A⁺ = V diag(e⁺) Vᵀ, e⁺_k = 1/e_k when |e_k| > 1e-10·max|e|, else 0
/// (sequential, so reports do not depend on the thread count).
fn symmetric_pinv(a: MatRef<'_, f64>) -> Result<Mat<f64>, SvmError> {
    let n = a.nrows();
    let par = Par::Seq;
    let mut s = Diag::<f64>::zeros(n);
    let mut v = Mat::<f64>::zeros(n, n);
    let mut buf =
        MemBuffer::new(evd::self_adjoint_evd_scratch::<f64>(n, ComputeEigenvectors::Yes, par, Default::default()));
    evd::self_adjoint_evd(a, s.as_mut(), Some(v.as_mut()), par, MemStack::new(&mut buf), Default::default())
        .map_err(|_| SvmError::Eigen { n })?;
    let e: Vec<f64> = s.column_vector().iter().copied().collect();
    let emax = e.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let inv: Vec<f64> = e.iter().map(|&x| if x.abs() > 1e-10 * emax { 1.0 / x } else { 0.0 }).collect();
    Ok(Mat::from_fn(n, n, |r, c| (0..n).map(|k| v[(r, k)] * inv[k] * v[(c, k)]).sum()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Dual, Kernel, Rbf, RbfParams};
    use floral_data::{Stream, moons, stratified_split, stream};

    fn setup(seed: u64) -> (floral_data::Dataset, floral_data::Dataset, Arc<Gram>, Rbf) {
        let data = moons(120, 0.2, &mut stream(seed, Stream::Data)).unwrap();
        let split = stratified_split(&data, 0.3, 0.2, &mut stream(seed, Stream::Data)).unwrap();
        let k = Rbf::new(RbfParams { gamma: 1.0 }).unwrap();
        let gram = Arc::new(Gram::new(&k, split.train.x()));
        (split.train, split.validation.unwrap(), gram, k)
    }

    #[test]
    fn warm_starts_are_feasible_for_flip_and_removal() {
        let (train, _, gram, _) = setup(3);
        let q = SignedGram::new(gram.clone(), train.y()).unwrap();
        let sol = Smo::new(SmoParams::default()).unwrap().solve(&q, Bounds::Uniform(1.0), None).unwrap();
        let n = train.n();
        let mut w = Col::zeros(n);
        for j in (0..n).filter(|&j| sol.lambda[j] > 0.0).take(6) {
            // Removal: same labels, C_j = 0.
            assert!(warm_start_without(sol.lambda.as_ref(), train.y(), j, &mut w));
            let mut cs = vec![1.0; n];
            cs[j] = 0.0;
            let d = Dual::new(&q, Bounds::PerPoint(&cs)).unwrap();
            assert!(d.feasibility_residual(w.as_ref()) < 1e-12);
            // Flip.
            let mut qf = q.clone();
            qf.flip(j);
            assert!(warm_start_without(sol.lambda.as_ref(), qf.labels(), j, &mut w));
            let d = Dual::new(&qf, Bounds::Uniform(1.0)).unwrap();
            assert!(d.feasibility_residual(w.as_ref()) < 1e-12);
            assert_eq!(w[j], 0.0);
        }
    }

    #[test]
    fn cross_decision_values_match_the_training_decision_values() {
        let (train, _, gram, _) = setup(4);
        let q = SignedGram::new(gram.clone(), train.y()).unwrap();
        let sol = Smo::new(SmoParams::default()).unwrap().solve(&q, Bounds::Uniform(1.0), None).unwrap();
        let f = cross_decision_values(gram.as_ref().as_ref(), train.y(), sol.lambda.as_ref(), sol.bias);
        let mut g = Col::zeros(train.n());
        q.decision_values_into(sol.lambda.as_ref(), g.as_mut());
        for i in 0..train.n() {
            assert!((f[i] - g[i] - sol.bias).abs() < 1e-10);
        }
    }

    #[test]
    fn eval_loss_counts_zero_as_positive() {
        let y = Labels::new(vec![1.0, -1.0, -1.0, 1.0]).unwrap();
        let l = EvalLoss::of(&[2.0, 0.0, -0.5, -1.0], &y);
        assert_eq!(l.error, 0.5);
        assert!((l.hinge - (0.0 + 1.0 + 0.5 + 2.0) / 4.0).abs() < 1e-15);
    }

    #[test]
    fn influence_is_the_same_with_and_without_warm_starts() {
        let (train, val, gram, k) = setup(5);
        let mut kv = Mat::zeros(val.n(), train.n());
        k.gram_into(val.x(), train.x(), kv.as_mut());
        let sets = InfluenceSets { validation: kv.as_ref(), validation_labels: val.y(), test: kv.as_ref() };
        let smo = SmoParams { eps: 1e-8, ..SmoParams::default() };
        let idx: Vec<usize> = (0..train.n()).collect();
        let warm =
            influence(&gram, train.y(), &sets, &InfluenceParams { c: 1.0, warm_start: true, smo }, &idx).unwrap();
        let cold =
            influence(&gram, train.y(), &sets, &InfluenceParams { c: 1.0, warm_start: false, smo }, &idx).unwrap();
        for (a, b) in warm.points.iter().zip(&cold.points) {
            assert!((a.flip_val_hinge_delta - b.flip_val_hinge_delta).abs() < 1e-5, "{a:?} {b:?}");
            assert!((a.loo_val_hinge_delta - b.loo_val_hinge_delta).abs() < 1e-5, "{a:?} {b:?}");
            assert!((a.flip_test_df - b.flip_test_df).abs() < 1e-5);
        }
        // A non-support vector's removal changes nothing.
        let p = warm.points.iter().find(|p| p.lambda == 0.0).unwrap();
        assert!(p.loo_val_hinge_delta.abs() < 1e-6 && p.loo_test_df < 1e-6, "{p:?}");
    }

    #[test]
    fn bad_inputs_are_errors() {
        let (train, val, gram, k) = setup(6);
        let mut kv = Mat::zeros(val.n(), train.n());
        k.gram_into(val.x(), train.x(), kv.as_mut());
        let sets = InfluenceSets { validation: kv.as_ref(), validation_labels: val.y(), test: kv.as_ref() };
        let p = InfluenceParams { c: 1.0, warm_start: true, smo: SmoParams::default() };
        assert!(matches!(
            influence(&gram, train.y(), &sets, &p, &[train.n()]),
            Err(SvmError::InvalidParam { field: "indices", .. })
        ));
        let p = InfluenceParams { c: -1.0, ..p };
        assert!(matches!(influence(&gram, train.y(), &sets, &p, &[0]), Err(SvmError::InvalidParam { field: "c", .. })));
    }
}
