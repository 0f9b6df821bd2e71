//! Multi-class kernel SVMs on one shared Gram matrix: one-vs-rest ([`fit_ovr`], [`OvrModel`]) and
//! one-vs-one ([`fit_ovo`], [`OvoModel`], LIBSVM's construction and voting).
//!
//! One-vs-rest: for each class c, the binary dual with labels ỹ^c_i = +1 if c_i = c else −1
//! (a [`SignedGram`] view of the shared K: no copy); prediction argmax_c f_c(x) with
//! f_c(x) = Σ_j α_cj k(x_j, x) + b_c, α_cj = λ_cj ỹ^c_j (ties: the lowest class index).
//!
//! One-vs-one (LIBSVM): classes in an order o (LIBSVM's is first appearance in the training
//! data); for each pair (o_s, o_t), s < t, the binary dual on the points of those two classes
//! (class o_s first, each in data order) with ỹ = +1 for o_s, read in place from K
//! ([`Smo::solve_subset`]). Each pair votes o_s when f_st(x) > 0, else o_t; the class with most
//! votes wins, ties going to the class earliest in o.

use std::sync::Arc;

use faer::{Mat, MatRef};
use floral_data::{ClassLabels, Labels};
use rayon::prelude::*;

use crate::{Bounds, Gram, Kernel, SignedGram, Smo, SmoParams, SvmError, Termination};

/// A one-vs-rest model over the n training points: coefficients α_c = λ_c ∘ ỹ^c (K × n) and
/// biases b_c. Also the form of multi-class FLORAL's output.
#[derive(Debug, Clone, PartialEq)]
pub struct OvrModel {
    coef: Vec<Vec<f64>>,
    bias: Vec<f64>,
}

impl OvrModel {
    /// A model from its coefficients (one n-vector per class) and biases.
    ///
    /// # Errors
    /// [`SvmError::DimensionMismatch`] when fewer than two classes, the bias count differs or
    /// the coefficient vectors differ in length; [`SvmError::NonFinite`] for a non-finite entry.
    pub fn new(coef: Vec<Vec<f64>>, bias: Vec<f64>) -> Result<Self, SvmError> {
        if coef.len() < 2 || bias.len() != coef.len() {
            return Err(SvmError::DimensionMismatch {
                what: "one-vs-rest classes (coefficient vectors vs biases, at least 2)",
                expected: coef.len().max(2),
                got: bias.len(),
            });
        }
        let n = coef[0].len();
        if let Some(c) = coef.iter().find(|c| c.len() != n) {
            return Err(SvmError::DimensionMismatch { what: "coefficient vector length", expected: n, got: c.len() });
        }
        for (what, v) in coef.iter().flatten().chain(&bias).map(|&v| ("one-vs-rest coefficient", v)) {
            if !v.is_finite() {
                return Err(SvmError::NonFinite { what, index: 0, value: v });
            }
        }
        Ok(Self { coef, bias })
    }

    /// Number of classes K.
    pub fn n_classes(&self) -> usize {
        self.coef.len()
    }

    /// The coefficients α_c of class c (length n).
    ///
    /// # Panics
    /// If c ≥ K.
    pub fn coef(&self, c: usize) -> &[f64] {
        &self.coef[c]
    }

    /// The biases b_c.
    pub fn bias(&self) -> &[f64] {
        &self.bias
    }

    /// Decision values F (m × K): F_xc = Σ_j α_cj k_cross[x, j] + b_c, with `k_cross` (m × n) the
    /// kernel between the evaluation points and the training points ([`cross_gram`]).
    ///
    /// # Panics
    /// If `k_cross` does not have n columns.
    pub fn decision_values(&self, k_cross: MatRef<'_, f64>) -> Mat<f64> {
        let n = self.coef[0].len();
        assert_eq!(k_cross.ncols(), n, "decision_values: k_cross must have n columns");
        let a = Mat::from_fn(n, self.coef.len(), |j, c| self.coef[c][j]);
        let mut f = Mat::zeros(k_cross.nrows(), self.coef.len());
        faer::linalg::matmul::matmul(f.as_mut(), faer::Accum::Replace, k_cross, a.as_ref(), 1.0, faer::Par::Seq);
        for (c, &b) in self.bias.iter().enumerate() {
            for x in 0..f.nrows() {
                f[(x, c)] += b;
            }
        }
        f
    }

    /// Predicted classes: argmax_c F_xc (ties: the lowest class index).
    ///
    /// # Panics
    /// As [`OvrModel::decision_values`].
    pub fn predict(&self, k_cross: MatRef<'_, f64>) -> Vec<usize> {
        argmax_rows(self.decision_values(k_cross).as_ref())
    }
}

/// For each row x, argmax_c F_xc (ties: the lowest index c).
pub fn argmax_rows(f: MatRef<'_, f64>) -> Vec<usize> {
    (0..f.nrows())
        .map(|x| {
            let mut best = 0;
            for c in 1..f.ncols() {
                if f[(x, c)] > f[(x, best)] {
                    best = c;
                }
            }
            best
        })
        .collect()
}

/// The kernel between evaluation points and training points: out[x, j] = k(z_x, x_j) (m × n).
///
/// # Panics
/// If the feature counts differ.
pub fn cross_gram(kernel: &dyn Kernel, eval: MatRef<'_, f64>, train: MatRef<'_, f64>) -> Mat<f64> {
    let mut out = Mat::zeros(eval.nrows(), train.nrows());
    kernel.gram_into(eval, train, out.as_mut());
    out
}

/// How the K binary problems of a multi-class fit ended: SMO status and iterations per problem.
#[derive(Debug, Clone, PartialEq)]
pub struct MulticlassFitInfo {
    /// One status per binary problem (class order for OvR, pair order for OvO).
    pub status: Vec<Termination>,
    /// SMO iterations per binary problem.
    pub iterations: Vec<usize>,
}

fn check_fit(gram: &Gram, y: &ClassLabels, c: f64) -> Result<(), SvmError> {
    if y.len() != gram.n() {
        return Err(SvmError::DimensionMismatch { what: "labels vs Gram order", expected: gram.n(), got: y.len() });
    }
    if !(c.is_finite() && c > 0.0) {
        return Err(SvmError::InvalidParam { field: "c", expected: "a finite number > 0", got: c.to_string() });
    }
    Ok(())
}

/// One-vs-rest SVM: for each class c, SMO on the dual min ½λᵀQ̃^cλ − 1ᵀλ, 0 ≤ λ ≤ C,
/// (ỹ^c)ᵀλ = 0, Q̃^c = diag(ỹ^c) K diag(ỹ^c), ỹ^c_i = +1 iff c_i = c; α_c = λ_c ∘ ỹ^c and
/// b_c = LIBSVM's bias. The K problems run in parallel (rayon), results collected in class
/// order, each solve sequential: the model does not depend on the thread count.
///
/// # Errors
/// [`SvmError::DimensionMismatch`] when `y` and the Gram order differ; [`SvmError::InvalidParam`]
/// for C not finite and > 0 or invalid SMO parameters; the SMO errors.
pub fn fit_ovr(
    gram: &Arc<Gram>,
    y: &ClassLabels,
    c: f64,
    smo: SmoParams,
) -> Result<(OvrModel, MulticlassFitInfo), SvmError> {
    check_fit(gram, y, c)?;
    let solver = Smo::new(smo)?;
    let sols: Vec<Result<_, SvmError>> = (0..y.n_classes())
        .into_par_iter()
        .map(|cl| {
            let labels = y.one_vs_rest(cl);
            let q = SignedGram::new(gram.clone(), &labels)?;
            let sol = solver.clone().solve(&q, Bounds::Uniform(c), None)?;
            let coef: Vec<f64> = (0..y.len()).map(|i| sol.lambda[i] * labels.get(i)).collect();
            Ok((coef, sol.bias, sol.status, sol.iterations))
        })
        .collect();
    let (mut coef, mut bias, mut status, mut iterations) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for s in sols {
        let (a, b, st, it) = s?;
        coef.push(a);
        bias.push(b);
        status.push(st);
        iterations.push(it);
    }
    Ok((OvrModel::new(coef, bias)?, MulticlassFitInfo { status, iterations }))
}

/// One binary problem of a one-vs-one model: class `pos` (+1) against class `neg` (−1) on the
/// training points `idx`, f(x) = Σ_t coef_t k(x_{idx[t]}, x) + bias.
#[derive(Debug, Clone, PartialEq)]
pub struct OvoPair {
    /// The class voted for when f(x) > 0.
    pub pos: usize,
    /// The class voted for otherwise.
    pub neg: usize,
    /// The training points of the pair (class `pos` first, each in data order).
    pub idx: Vec<usize>,
    /// λ_t ỹ_t per point of `idx`.
    pub coef: Vec<f64>,
    /// The bias.
    pub bias: f64,
}

/// A one-vs-one model: K(K − 1)/2 pairwise problems and the class order that orients them and
/// breaks voting ties.
#[derive(Debug, Clone, PartialEq)]
pub struct OvoModel {
    pairs: Vec<OvoPair>,
    order: Vec<usize>,
    n_classes: usize,
    n_train: usize,
}

impl OvoModel {
    /// The pairwise problems, in LIBSVM's order ((o_0, o_1), (o_0, o_2), …, (o_{K−2}, o_{K−1})).
    pub fn pairs(&self) -> &[OvoPair] {
        &self.pairs
    }

    /// The class order o.
    pub fn order(&self) -> &[usize] {
        &self.order
    }

    /// Votes V (m × K): V_xc = number of pairs voting c at evaluation point x, where pair
    /// (pos, neg) votes pos when Σ_t coef_t k_cross[x, idx[t]] + bias > 0, else neg.
    ///
    /// # Panics
    /// If `k_cross` does not have n columns.
    pub fn votes(&self, k_cross: MatRef<'_, f64>) -> Vec<Vec<usize>> {
        assert_eq!(k_cross.ncols(), self.n_train, "votes: k_cross must have n columns");
        (0..k_cross.nrows())
            .map(|x| {
                let row = k_cross.row(x);
                let mut v = vec![0; self.n_classes];
                for p in &self.pairs {
                    let f: f64 = p.idx.iter().zip(&p.coef).map(|(&j, &a)| a * row[j]).sum::<f64>() + p.bias;
                    v[if f > 0.0 { p.pos } else { p.neg }] += 1;
                }
                v
            })
            .collect()
    }

    /// Predicted classes: most votes; a tie goes to the class earliest in the order o
    /// (LIBSVM's rule).
    ///
    /// # Panics
    /// As [`OvoModel::votes`].
    pub fn predict(&self, k_cross: MatRef<'_, f64>) -> Vec<usize> {
        self.votes(k_cross)
            .iter()
            .map(|v| {
                let mut best = self.order[0];
                for &c in &self.order[1..] {
                    if v[c] > v[best] {
                        best = c;
                    }
                }
                best
            })
            .collect()
    }
}

/// One-vs-one SVM (LIBSVM's construction, see the module doc): for each pair s < t of the class
/// order `order` (a permutation of 0..K; LIBSVM uses [`ClassLabels::first_appearance_order`]),
/// SMO on the points of classes o_s and o_t with ỹ = +1 for o_s. Pairs run in parallel, collected
/// in pair order; each solve is sequential. A pair with an empty class is skipped (it never votes).
///
/// # Errors
/// As [`fit_ovr`]; [`SvmError::InvalidParam`] when `order` is not a permutation of 0..K.
pub fn fit_ovo(
    gram: &Arc<Gram>,
    y: &ClassLabels,
    c: f64,
    smo: SmoParams,
    order: &[usize],
) -> Result<(OvoModel, MulticlassFitInfo), SvmError> {
    check_fit(gram, y, c)?;
    let k = y.n_classes();
    let mut seen = vec![false; k];
    if order.len() != k || order.iter().any(|&c| c >= k || std::mem::replace(&mut seen[c], true)) {
        return Err(SvmError::InvalidParam {
            field: "order",
            expected: "a permutation of the class indices",
            got: format!("{order:?}"),
        });
    }
    let solver = Smo::new(smo)?;
    let members: Vec<Vec<usize>> = (0..k).map(|c| y.indices_of(c)).collect();
    let pairs: Vec<(usize, usize)> = (0..k)
        .flat_map(|s| ((s + 1)..k).map(move |t| (s, t)))
        .map(|(s, t)| (order[s], order[t]))
        .filter(|&(a, b)| !members[a].is_empty() && !members[b].is_empty())
        .collect();
    let kref = Gram::as_ref(gram);
    let sols: Vec<Result<_, SvmError>> = pairs
        .par_iter()
        .map(|&(pos, neg)| {
            let idx: Vec<usize> = members[pos].iter().chain(&members[neg]).copied().collect();
            let labels = Labels::from_signs((0..idx.len()).map(|t| t < members[pos].len()));
            let sol = solver.clone().solve_subset(kref, &idx, &labels, Bounds::Uniform(c))?;
            let coef: Vec<f64> = (0..idx.len()).map(|t| sol.lambda[t] * labels.get(t)).collect();
            Ok((OvoPair { pos, neg, idx, coef, bias: sol.bias }, sol.status, sol.iterations))
        })
        .collect();
    let (mut out, mut status, mut iterations) = (Vec::new(), Vec::new(), Vec::new());
    for s in sols {
        let (p, st, it) = s?;
        out.push(p);
        status.push(st);
        iterations.push(it);
    }
    Ok((
        OvoModel { pairs: out, order: order.to_vec(), n_classes: k, n_train: y.len() },
        MulticlassFitInfo { status, iterations },
    ))
}

/// The confusion matrix M (K × K): M[a][p] = number of points of true class a predicted p.
///
/// # Panics
/// If the lengths differ or a prediction is ≥ K.
pub fn confusion(truth: &ClassLabels, pred: &[usize]) -> Vec<Vec<usize>> {
    assert_eq!(truth.len(), pred.len(), "confusion: one prediction per point");
    let k = truth.n_classes();
    let mut m = vec![vec![0; k]; k];
    for (i, &p) in pred.iter().enumerate() {
        m[truth.get(i)][p] += 1;
    }
    m
}

/// Accuracy (1/m) Σ_x [pred_x = c_x].
///
/// # Panics
/// If the lengths differ.
pub fn multiclass_accuracy(truth: &ClassLabels, pred: &[usize]) -> f64 {
    assert_eq!(truth.len(), pred.len(), "accuracy: one prediction per point");
    if pred.is_empty() {
        return 0.0;
    }
    pred.iter().enumerate().filter(|&(i, &p)| truth.get(i) == p).count() as f64 / pred.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Rbf, RbfParams};

    /// Three clusters on a line at 0, 10, 20 (three points each).
    fn three() -> (Mat<f64>, ClassLabels) {
        let x = Mat::from_fn(9, 1, |i, _| (i / 3) as f64 * 10.0 + (i % 3) as f64 * 0.5);
        let y = ClassLabels::new((0..9).map(|i| (i / 3) as u16).collect(), 3).unwrap();
        (x, y)
    }

    #[test]
    fn ovr_and_ovo_separate_three_clusters() {
        let (x, y) = three();
        let k = Rbf::new(RbfParams { gamma: 0.1 }).unwrap();
        let g = Arc::new(Gram::new(&k, x.as_ref()));
        let kc = cross_gram(&k, x.as_ref(), x.as_ref());
        let (ovr, info) = fit_ovr(&g, &y, 10.0, SmoParams::default()).unwrap();
        assert_eq!(info.status.len(), 3);
        assert_eq!(ovr.predict(kc.as_ref()), (0..9).map(|i| i / 3).collect::<Vec<_>>());
        let (ovo, info) = fit_ovo(&g, &y, 10.0, SmoParams::default(), &[2, 0, 1]).unwrap();
        assert_eq!(info.status.len(), 3);
        assert_eq!(ovo.pairs().iter().map(|p| (p.pos, p.neg)).collect::<Vec<_>>(), vec![(2, 0), (2, 1), (0, 1)]);
        assert_eq!(ovo.predict(kc.as_ref()), (0..9).map(|i| i / 3).collect::<Vec<_>>());
        let pred = ovo.predict(kc.as_ref());
        assert_eq!(multiclass_accuracy(&y, &pred), 1.0);
        assert_eq!(confusion(&y, &pred), vec![vec![3, 0, 0], vec![0, 3, 0], vec![0, 0, 3]]);
    }

    #[test]
    fn ovo_pair_equals_the_binary_svm_on_the_subset() {
        // The in-place subset solve equals SMO on the copied sub-Gram, bit for bit.
        let (x, y) = three();
        let k = Rbf::new(RbfParams { gamma: 0.05 }).unwrap();
        let g = Arc::new(Gram::new(&k, x.as_ref()));
        let (ovo, _) = fit_ovo(&g, &y, 1.0, SmoParams::default(), &[0, 1, 2]).unwrap();
        let p = &ovo.pairs()[1]; // (0, 2)
        let sub = Gram::from_mat(Mat::from_fn(p.idx.len(), p.idx.len(), |s, t| Gram::as_ref(&g)[(p.idx[s], p.idx[t])]))
            .unwrap();
        let labels = Labels::from_signs((0..6).map(|t| t < 3));
        let q = SignedGram::new(sub, &labels).unwrap();
        let sol = Smo::new(SmoParams::default()).unwrap().solve(&q, Bounds::Uniform(1.0), None).unwrap();
        let coef: Vec<f64> = (0..6).map(|t| sol.lambda[t] * labels.get(t)).collect();
        assert_eq!(coef, p.coef);
        assert_eq!(sol.bias, p.bias);
    }

    #[test]
    fn ties_follow_the_documented_rules() {
        let f = Mat::from_fn(2, 3, |x, c| if x == 0 { [1.0, 2.0, 2.0][c] } else { 0.0 });
        assert_eq!(argmax_rows(f.as_ref()), vec![1, 0]);
        // Three classes, every pair votes for its second class: a three-way tie (1 vote each)
        // goes to the class earliest in the order.
        let ovo = OvoModel {
            pairs: vec![
                OvoPair { pos: 1, neg: 2, idx: vec![0], coef: vec![0.0], bias: -1.0 },
                OvoPair { pos: 1, neg: 0, idx: vec![0], coef: vec![0.0], bias: -1.0 },
                OvoPair { pos: 2, neg: 0, idx: vec![0], coef: vec![0.0], bias: 1.0 },
            ],
            order: vec![1, 2, 0],
            n_classes: 3,
            n_train: 1,
        };
        let kc = Mat::from_fn(1, 1, |_, _| 1.0);
        assert_eq!(ovo.votes(kc.as_ref()), vec![vec![1, 0, 2]]);
        let tie = OvoModel { pairs: ovo.pairs[..2].to_vec(), ..ovo.clone() };
        // Votes: 2 (pair 0) and 0 (pair 1): classes 0 and 2 tie at one vote, 2 comes first in the order.
        assert_eq!(tie.predict(kc.as_ref()), vec![2]);
    }

    #[test]
    fn bad_orders_and_sizes_are_refused() {
        let (x, y) = three();
        let k = Rbf::new(RbfParams { gamma: 0.1 }).unwrap();
        let g = Arc::new(Gram::new(&k, x.as_ref()));
        assert!(fit_ovo(&g, &y, 1.0, SmoParams::default(), &[0, 0, 1]).is_err());
        assert!(fit_ovr(&g, &y, 0.0, SmoParams::default()).is_err());
        assert!(fit_ovr(&g, &y.select(&[0, 1]), 1.0, SmoParams::default()).is_err());
        assert!(OvrModel::new(vec![vec![0.0]], vec![0.0]).is_err());
    }
}
