//! [`Gram`] (a checked symmetric kernel matrix) and [`SignedGram`] (Q̃ = diag(ỹ) K diag(ỹ), kept
//! in step with the labels by O(n) flips).
#![allow(non_snake_case)]

use faer::diag::Diag;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::evd::{self, ComputeEigenvectors};
use faer::linalg::matmul::matmul;
use faer::prelude::ReborrowMut;
use faer::{Accum, ColMut, ColRef, Mat, MatRef, Par};
use floral_data::Labels;

use crate::{Kernel, SvmError};

/// A kernel (Gram) matrix K, n×n, checked square, finite and exactly symmetric.
#[derive(Debug, Clone, PartialEq)]
pub struct Gram {
    k: Mat<f64>,
}

impl Gram {
    /// K_ij = k(x_i, x_j) for the rows of `x` (n×d), computed with
    /// [`Kernel::gram_symmetric_into`] (parallel for the built-in kernels, thread-count
    /// independent). The result is exactly symmetric by construction: one triangle is computed
    /// and copied to the other.
    pub fn new(kernel: &dyn Kernel, x: MatRef<'_, f64>) -> Gram {
        let n = x.nrows();
        let mut k = Mat::zeros(n, n);
        kernel.gram_symmetric_into(x, k.as_mut());
        debug_assert!(first_asymmetry(k.as_ref()).is_none());
        Gram { k }
    }

    /// Wrap an existing matrix.
    ///
    /// # Errors
    /// [`SvmError::DimensionMismatch`] if not square, [`SvmError::NonFinite`] for a NaN or
    /// infinite entry, [`SvmError::NotSymmetric`] if some K_ij ≠ K_ji (bitwise comparison).
    pub fn from_mat(k: Mat<f64>) -> Result<Gram, SvmError> {
        if k.nrows() != k.ncols() {
            return Err(SvmError::DimensionMismatch {
                what: "Gram matrix columns vs rows",
                expected: k.nrows(),
                got: k.ncols(),
            });
        }
        let n = k.nrows();
        for j in 0..n {
            for i in 0..n {
                let v = k[(i, j)];
                if !v.is_finite() {
                    return Err(SvmError::NonFinite {
                        what: "Gram entry",
                        index: i * n + j,
                        value: v,
                    });
                }
            }
        }
        if let Some((row, col)) = first_asymmetry(k.as_ref()) {
            return Err(SvmError::NotSymmetric {
                row,
                col,
                value: k[(row, col)],
                mirror: k[(col, row)],
            });
        }
        Ok(Gram { k })
    }

    /// The matrix K.
    pub fn as_ref(&self) -> MatRef<'_, f64> {
        self.k.as_ref()
    }

    /// The order n.
    pub fn n(&self) -> usize {
        self.k.nrows()
    }

    /// Consume into the matrix.
    pub fn into_mat(self) -> Mat<f64> {
        self.k
    }

    /// All eigenvalues of K in nondecreasing order (faer self-adjoint EVD, sequential, so the
    /// result does not depend on the thread count).
    ///
    /// # Errors
    /// [`SvmError::Eigen`] if the QR iteration does not converge.
    pub fn eigenvalues(&self) -> Result<Vec<f64>, SvmError> {
        symmetric_eigenvalues(self.k.as_ref())
    }

    /// λ_max(K), the largest eigenvalue (0 for n = 0). The FLORAL step size is stable for
    /// every labelling when η < 2/λ_max(K) (FLORAL.md §8), since Q̃ and K share their spectrum.
    ///
    /// # Errors
    /// [`SvmError::Eigen`] if the eigenvalue iteration does not converge.
    pub fn max_eigenvalue(&self) -> Result<f64, SvmError> {
        Ok(self.eigenvalues()?.last().copied().unwrap_or(0.0))
    }
}

/// Eigenvalues (ascending) of a symmetric matrix, from its lower triangle, with `Par::Seq`.
pub(crate) fn symmetric_eigenvalues(a: MatRef<'_, f64>) -> Result<Vec<f64>, SvmError> {
    let n = a.nrows();
    if n == 0 {
        return Ok(Vec::new());
    }
    let par = Par::Seq;
    let mut s = Diag::<f64>::zeros(n);
    let mut buf = MemBuffer::new(evd::self_adjoint_evd_scratch::<f64>(
        n,
        ComputeEigenvectors::No,
        par,
        Default::default(),
    ));
    evd::self_adjoint_evd(
        a,
        s.as_mut(),
        None,
        par,
        MemStack::new(&mut buf),
        Default::default(),
    )
    .map_err(|_| SvmError::Eigen { n })?;
    let mut v: Vec<f64> = s.column_vector().iter().copied().collect();
    v.sort_by(f64::total_cmp);
    Ok(v)
}

/// The first (row, col) with row > col where K_row,col ≠ K_col,row bitwise.
fn first_asymmetry(k: MatRef<'_, f64>) -> Option<(usize, usize)> {
    let n = k.nrows();
    for j in 0..n {
        for i in (j + 1)..n {
            if k[(i, j)].to_bits() != k[(j, i)].to_bits() {
                return Some((i, j));
            }
        }
    }
    None
}

/// The signed Gram matrix Q̃ = diag(ỹ) K diag(ỹ), i.e. Q̃_ij = ỹ_i ỹ_j K_ij (FLORAL.md §2), kept
/// in step with the labels ỹ. The unsigned K is kept alongside.
///
/// Flipping label i negates row i and column i of Q̃ (the diagonal stays): O(n), and exact,
/// so after any sequence of flips Q̃ equals a fresh rebuild bitwise.
#[derive(Debug, Clone)]
pub struct SignedGram {
    k: Mat<f64>,
    q: Mat<f64>,
    y: Labels,
}

impl SignedGram {
    /// Q̃_ij = ỹ_i ỹ_j K_ij for the given labels.
    ///
    /// # Errors
    /// [`SvmError::DimensionMismatch`] when the label count differs from the Gram order.
    pub fn new(gram: &Gram, y: &Labels) -> Result<Self, SvmError> {
        let n = gram.n();
        if y.len() != n {
            return Err(SvmError::DimensionMismatch {
                what: "number of labels vs Gram order",
                expected: n,
                got: y.len(),
            });
        }
        let k = gram.as_ref().to_owned();
        let ys = y.as_slice();
        let mut q = k.clone();
        for (j, &yj) in ys.iter().enumerate() {
            let mut col = q.col_mut(j);
            for (i, &yi) in ys.iter().enumerate() {
                // K_ij·(ỹ_i ỹ_j): the same value as every other signed entry in the crate.
                col[i] *= yi * yj;
            }
        }
        Ok(Self { k, q, y: y.clone() })
    }

    /// The order n.
    pub fn n(&self) -> usize {
        self.q.nrows()
    }

    /// The current labels ỹ.
    pub fn labels(&self) -> &Labels {
        &self.y
    }

    /// Q̃.
    pub fn q(&self) -> MatRef<'_, f64> {
        self.q.as_ref()
    }

    /// The unsigned kernel matrix K.
    pub fn k(&self) -> MatRef<'_, f64> {
        self.k.as_ref()
    }

    /// Flip label i: ỹ_i ← −ỹ_i, and negate row i and column i of Q̃ except the diagonal. O(n).
    ///
    /// # Panics
    /// If `i >= n`.
    pub fn flip(&mut self, i: usize) {
        let n = self.n();
        assert!(i < n, "flip index {i} out of range for n = {n}");
        self.y.flip(i);
        // Negate all of column i and all of row i: the diagonal entry is negated twice and so
        // keeps its sign, exactly as diag(ỹ) K diag(ỹ) requires.
        for v in self.q.col_mut(i).iter_mut() {
            *v = -*v;
        }
        for v in self.q.row_mut(i).iter_mut() {
            *v = -*v;
        }
    }

    /// Bring Q̃ in step with new labels, flipping only the indices where they differ:
    /// O(n · #differences).
    ///
    /// # Errors
    /// [`SvmError::Data`] (dimension mismatch) when the label count differs.
    pub fn set_labels(&mut self, y: &Labels) -> Result<(), SvmError> {
        for i in self.y.diff(y)? {
            self.flip(i);
        }
        Ok(())
    }

    /// out = Q̃λ (sequential faer matvec: independent of the thread count; no allocation).
    ///
    /// # Panics
    /// If `lambda` or `out` does not have length n.
    pub fn matvec_into(&self, lambda: ColRef<'_, f64>, out: ColMut<'_, f64>) {
        let n = self.n();
        assert_eq!(lambda.nrows(), n, "matvec_into: lambda length");
        assert_eq!(out.nrows(), n, "matvec_into: out length");
        matmul(
            out.as_mat_mut(),
            Accum::Replace,
            self.q.as_ref(),
            lambda.as_mat(),
            1.0,
            Par::Seq,
        );
    }

    /// The training-point decision values without bias: out_i = f(x_i) − b = Σ_j λ_j ỹ_j K_ij
    /// = ỹ_i (Q̃λ)_i.
    ///
    /// # Panics
    /// If `lambda` or `out` does not have length n.
    pub fn decision_values_into(&self, lambda: ColRef<'_, f64>, mut out: ColMut<'_, f64>) {
        self.matvec_into(lambda, out.rb_mut());
        for (i, &yi) in self.y.as_slice().iter().enumerate() {
            out[i] *= yi;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Rbf, RbfParams};

    #[test]
    fn from_mat_rejects_bad_matrices() {
        assert!(matches!(
            Gram::from_mat(Mat::zeros(2, 3)),
            Err(SvmError::DimensionMismatch { .. })
        ));
        let mut m = Mat::<f64>::identity(3, 3);
        m[(2, 0)] = 0.5;
        assert!(matches!(
            Gram::from_mat(m.clone()),
            Err(SvmError::NotSymmetric { row: 2, col: 0, .. })
        ));
        m[(0, 2)] = 0.5;
        assert!(Gram::from_mat(m.clone()).is_ok());
        m[(1, 1)] = f64::NAN;
        assert!(matches!(
            Gram::from_mat(m),
            Err(SvmError::NonFinite { index: 4, .. })
        ));
    }

    #[test]
    fn eigenvalues_of_a_known_matrix() {
        let m = Mat::from_fn(2, 2, |i, j| if i == j { 2.0 } else { 1.0 });
        let g = Gram::from_mat(m).unwrap();
        let ev = g.eigenvalues().unwrap();
        assert!((ev[0] - 1.0).abs() < 1e-12 && (ev[1] - 3.0).abs() < 1e-12);
        assert!((g.max_eigenvalue().unwrap() - 3.0).abs() < 1e-12);
    }

    #[test]
    fn flip_twice_restores_and_keeps_diagonal() {
        let x = Mat::from_fn(5, 2, |i, j| (i + 2 * j) as f64 / 4.0);
        let g = Gram::new(&Rbf::new(RbfParams { gamma: 0.5 }).unwrap(), x.as_ref());
        let y = Labels::new(vec![1.0, -1.0, 1.0, 1.0, -1.0]).unwrap();
        let mut q = SignedGram::new(&g, &y).unwrap();
        let before = q.q().to_owned();
        q.flip(3);
        assert_eq!(q.q()[(3, 3)], before[(3, 3)]);
        assert_eq!(q.q()[(3, 1)], -before[(3, 1)]);
        q.flip(3);
        assert_eq!(q.q(), before.as_ref());
        assert_eq!(q.labels(), &y);
    }
}
