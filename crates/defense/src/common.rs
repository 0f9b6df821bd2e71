//! Pieces the baseline defences share: parameter and input checks, the SVM fit on the shared
//! Gram matrix with per-point bounds, and Euclidean nearest neighbours.

use std::sync::Arc;

use faer::{Col, MatRef};
use floral_data::Labels;
use floral_game::DualModel;
use floral_projection::Bounds;
use floral_svm::{Gram, SignedGram, Smo, SmoParams};

use crate::{DefenseError, SVM_CACHE_MB};

/// Check the box bound C: finite and > 0.
pub(crate) fn check_c(c: f64) -> Result<(), DefenseError> {
    if c.is_finite() && c > 0.0 {
        Ok(())
    } else {
        Err(DefenseError::InvalidParam { field: "c", expected: "a finite number > 0", got: c.to_string() })
    }
}

/// The SMO settings of every SVM a defence fits (those of [`crate::SvmDefence`]).
pub(crate) fn smo_params() -> SmoParams {
    SmoParams { cache_mb: SVM_CACHE_MB, ..SmoParams::default() }
}

/// Counts of +1 and −1 labels among `labels` restricted to the points where `keep` is true.
fn class_counts(labels: &[f64], keep: impl Fn(usize) -> bool) -> (usize, usize) {
    let mut pos = 0;
    let mut neg = 0;
    for (i, &y) in labels.iter().enumerate() {
        if keep(i) {
            if y > 0.0 {
                pos += 1;
            } else {
                neg += 1;
            }
        }
    }
    (pos, neg)
}

/// Check that the points where `keep` is true hold both classes; otherwise an
/// [`DefenseError::InvalidInput`] naming `field` and saying what was left (`what`).
pub(crate) fn both_classes(
    labels: &[f64],
    keep: impl Fn(usize) -> bool,
    field: &'static str,
    expected: &'static str,
    what: &str,
) -> Result<(), DefenseError> {
    let (pos, neg) = class_counts(labels, keep);
    if pos > 0 && neg > 0 {
        Ok(())
    } else {
        Err(DefenseError::InvalidInput {
            field,
            expected,
            got: format!("{what}: {pos} points labelled +1 and {neg} labelled −1"),
        })
    }
}

/// Check that the training labels hold both classes (every baseline defence fits a two-class
/// SVM on them).
pub(crate) fn train_has_both_classes(y: &Labels) -> Result<(), DefenseError> {
    both_classes(y.as_slice(), |_| true, "train", "a training set with both classes", "the training set")
}

/// One SVM fit: the model, λ and what reports show.
#[derive(Debug)]
pub(crate) struct SvmRun {
    /// λ (length n).
    pub lambda: Col<f64>,
    /// The bias b.
    pub bias: f64,
    /// SMO iterations.
    pub iterations: usize,
    /// Support vectors (λ_j > 0).
    pub n_sv: usize,
}

impl SvmRun {
    /// The model f(x) = Σ_j λ_j ỹ_j k(x_j, x) + b for labels ỹ.
    pub fn model(&self, y: &Labels) -> DualModel {
        DualModel::new(self.lambda.as_ref(), y, self.bias)
    }
}

/// Solve min ½λᵀQ̃λ − 1ᵀλ s.t. 0 ≤ λ_i ≤ C_i, ỹᵀλ = 0 with Q̃ = diag(ỹ) K diag(ỹ) by SMO.
/// A point with C_i = 0 is pinned at λ_i = 0 and takes no part in the working set or the bias,
/// so the solution is exactly that of the SVM on the other points (how the defences drop
/// points without copying the Gram matrix).
pub(crate) fn svm(gram: Arc<Gram>, y: &Labels, bounds: Bounds<'_>) -> Result<SvmRun, DefenseError> {
    let q = SignedGram::new(gram, y)?;
    let sol = Smo::new(smo_params())?.solve(&q, bounds, None)?;
    let n_sv = sol.lambda.iter().filter(|&&l| l > 0.0).count();
    Ok(SvmRun { lambda: sol.lambda, bias: sol.bias, iterations: sol.iterations, n_sv })
}

/// Squared Euclidean distance ‖x_i − x_j‖² between rows i and j of `x`.
pub(crate) fn sq_dist(x: MatRef<'_, f64>, i: usize, j: usize) -> f64 {
    (0..x.ncols()).map(|c| (x[(i, c)] - x[(j, c)]).powi(2)).sum()
}

/// For every row i of `x`, the min(k, n − 1) other rows nearest in Euclidean distance, nearest
/// first; ties are broken by the smaller index, so the lists do not depend on anything but `x`.
pub(crate) fn knn(x: MatRef<'_, f64>, k: usize) -> Vec<Vec<usize>> {
    let n = x.nrows();
    let k = k.min(n.saturating_sub(1));
    let mut row: Vec<(f64, usize)> = Vec::with_capacity(n);
    (0..n)
        .map(|i| {
            row.clear();
            row.extend((0..n).filter(|&j| j != i).map(|j| (sq_dist(x, i, j), j)));
            let by = |a: &(f64, usize), b: &(f64, usize)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
            if k < row.len() {
                row.select_nth_unstable_by(k, by);
                row.truncate(k);
            }
            row.sort_unstable_by(by);
            row.iter().map(|&(_, j)| j).collect()
        })
        .collect()
}

/// The indices where `flag` is true, ascending.
pub(crate) fn indices(flag: &[bool]) -> Vec<usize> {
    flag.iter().enumerate().filter(|&(_, &f)| f).map(|(i, _)| i).collect()
}

/// Per-point bounds: 0 for the points in `drop`, C for the others.
pub(crate) fn drop_bounds(n: usize, c: f64, drop: &[bool]) -> Vec<f64> {
    (0..n).map(|i| if drop[i] { 0.0 } else { c }).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use faer::Mat;

    #[test]
    fn knn_lists_nearest_first_and_breaks_ties_by_index() {
        // Points on a line at 0, 1, 2, 3, 10.
        let x = Mat::from_fn(5, 1, |i, _| [0.0, 1.0, 2.0, 3.0, 10.0][i]);
        let nn = knn(x.as_ref(), 2);
        assert_eq!(nn[0], vec![1, 2]);
        // Point 1 has 0 and 2 at distance 1: the smaller index first.
        assert_eq!(nn[1], vec![0, 2]);
        assert_eq!(nn[4], vec![3, 2]);
        // k larger than n − 1 is cut to n − 1.
        assert_eq!(knn(x.as_ref(), 9)[2].len(), 4);
    }

    #[test]
    fn one_class_is_an_input_error_naming_the_field() {
        let y = Labels::new(vec![1.0, 1.0, 1.0]).unwrap();
        let e = train_has_both_classes(&y).unwrap_err().to_string();
        assert!(e.contains("`train`") && e.contains("3 points labelled +1"), "{e}");
        let y = Labels::new(vec![1.0, -1.0, 1.0]).unwrap();
        assert!(train_has_both_classes(&y).is_ok());
        // Restricted to the kept points.
        let e = both_classes(y.as_slice(), |i| i != 1, "train", "x", "after dropping").unwrap_err();
        assert!(e.to_string().contains("0 labelled −1"), "{e}");
    }

    #[test]
    fn a_zero_bound_drops_the_point_from_the_svm() {
        use floral_svm::{Rbf, RbfParams};
        // Six points on a line; point 2 sits among the positives with a negative label.
        let x = Mat::from_fn(6, 1, |i, _| [-2.0, -1.5, 1.2, 1.0, 1.5, 2.0][i]);
        let y = Labels::new(vec![-1.0, -1.0, -1.0, 1.0, 1.0, 1.0]).unwrap();
        let k = Rbf::new(RbfParams { gamma: 0.5 }).unwrap();
        let gram = Arc::new(Gram::new(&k, x.as_ref()));
        let full = svm(gram.clone(), &y, Bounds::PerPoint(&[1.0, 1.0, 0.0, 1.0, 1.0, 1.0])).unwrap();
        assert_eq!(full.lambda[2], 0.0);
        // The same fit on the five other points alone.
        let keep = [0usize, 1, 3, 4, 5];
        let xs = Mat::from_fn(5, 1, |i, _| x[(keep[i], 0)]);
        let ys = y.select(&keep);
        let sub = svm(Arc::new(Gram::new(&k, xs.as_ref())), &ys, Bounds::Uniform(1.0)).unwrap();
        for (a, &i) in keep.iter().enumerate() {
            assert!((sub.lambda[a] - full.lambda[i]).abs() < 1e-9);
        }
        assert!((sub.bias - full.bias).abs() < 1e-9);
        // Kept in, the mislabelled point is a support vector.
        let with = svm(gram, &y, Bounds::Uniform(1.0)).unwrap();
        assert!(with.lambda[2] > 0.0);
    }
}
