//! [`Gram`] (a checked symmetric kernel matrix) and [`SignedGram`] (Q̃ = diag(ỹ) K diag(ỹ), kept
//! in step with the labels by O(n) flips).
#![allow(non_snake_case)]

use faer::diag::Diag;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::evd::{self, ComputeEigenvectors};
use faer::linalg::matmul::matmul;
use faer::prelude::ReborrowMut;
use faer::{Accum, ColMut, ColRef, Mat, MatRef, Par};
use std::sync::Arc;

use floral_data::Labels;
use rayon::prelude::*;

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
                    return Err(SvmError::NonFinite { what: "Gram entry", index: i * n + j, value: v });
                }
            }
        }
        if let Some((row, col)) = first_asymmetry(k.as_ref()) {
            return Err(SvmError::NotSymmetric { row, col, value: k[(row, col)], mirror: k[(col, row)] });
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
    /// every labelling when η < 2/λ_max(K) (docs/method.md §8), since Q̃ and K share their spectrum.
    ///
    /// # Errors
    /// [`SvmError::Eigen`] if the eigenvalue iteration does not converge.
    pub fn max_eigenvalue(&self) -> Result<f64, SvmError> {
        Ok(self.eigenvalues()?.last().copied().unwrap_or(0.0))
    }
}

/// The result of [`Gram::max_eigenvalue_power`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PowerEstimate {
    /// The Rayleigh quotient vᵀKv of the last iterate (‖v‖ = 1): a lower bound on λ_max(K)
    /// that converges to it.
    pub value: f64,
    /// Products K·v computed.
    pub iterations: usize,
    /// True when the relative change of the quotient fell below the tolerance.
    pub converged: bool,
}

impl Gram {
    /// λ_max(K) by power iteration: v_0 = 1/√n, v_{t+1} = K v_t / ‖K v_t‖, estimate
    /// ρ_t = v_tᵀ K v_t, stopping when |ρ_t − ρ_{t−1}| ≤ tol·ρ_t or after `max_iter` products.
    /// O(n²) per product (the thread-count independent [`kernel_matvec_into`]), no n×n work
    /// space: cheap where the full eigen-decomposition is not.
    pub fn max_eigenvalue_power(&self, tol: f64, max_iter: usize) -> PowerEstimate {
        let n = self.n();
        if n == 0 {
            return PowerEstimate { value: 0.0, iterations: 0, converged: true };
        }
        let mut v = faer::Col::from_fn(n, |_| 1.0 / (n as f64).sqrt());
        let mut kv = faer::Col::zeros(n);
        let mut rho = 0.0;
        for it in 1..=max_iter.max(1) {
            kernel_matvec_into(self.k.as_ref(), v.as_ref(), kv.as_mut());
            let next: f64 = (0..n).map(|i| v[i] * kv[i]).sum();
            let norm = kv.norm_l2();
            if !(norm > 0.0 && norm.is_finite()) {
                return PowerEstimate { value: next.max(0.0), iterations: it, converged: true };
            }
            let done = it > 1 && (next - rho).abs() <= tol * next.abs();
            rho = next;
            if done {
                return PowerEstimate { value: rho, iterations: it, converged: true };
            }
            for i in 0..n {
                v[i] = kv[i] / norm;
            }
        }
        PowerEstimate { value: rho, iterations: max_iter.max(1), converged: false }
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
    let mut buf =
        MemBuffer::new(evd::self_adjoint_evd_scratch::<f64>(n, ComputeEigenvectors::No, par, Default::default()));
    evd::self_adjoint_evd(a, s.as_mut(), None, par, MemStack::new(&mut buf), Default::default())
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

/// The signed Gram matrix Q̃ = diag(ỹ) K diag(ỹ), i.e. Q̃_ij = ỹ_i ỹ_j K_ij (docs/method.md §2), as a
/// view: the shared kernel matrix K (`Arc<Gram>`) and the current labels ỹ. Q̃ is never
/// materialised; products use Q̃λ = ỹ ∘ K(ỹ ∘ λ).
///
/// Cloning is O(n) (the labels; K is shared), so an attacker can relabel a copy freely.
/// Flipping label i is O(1). Multiplying by ±1 is exact in floating point, so every product
/// equals, bit for bit, the product with an explicitly signed matrix built as K_ij·(ỹ_i ỹ_j).
#[derive(Debug, Clone)]
pub struct SignedGram {
    k: Arc<Gram>,
    y: Labels,
}

impl SignedGram {
    /// Q̃ = diag(ỹ) K diag(ỹ) for the given labels over a shared Gram matrix (no copy of K:
    /// pass an `Arc<Gram>` to share it, or a `Gram` to hand it over).
    ///
    /// # Errors
    /// [`SvmError::DimensionMismatch`] when the label count differs from the Gram order.
    pub fn new(gram: impl Into<Arc<Gram>>, y: &Labels) -> Result<Self, SvmError> {
        let k = gram.into();
        let n = k.n();
        if y.len() != n {
            return Err(SvmError::DimensionMismatch {
                what: "number of labels vs Gram order",
                expected: n,
                got: y.len(),
            });
        }
        Ok(Self { k, y: y.clone() })
    }

    /// The order n.
    pub fn n(&self) -> usize {
        self.k.n()
    }

    /// The current labels ỹ.
    pub fn labels(&self) -> &Labels {
        &self.y
    }

    /// The unsigned kernel matrix K.
    pub fn k(&self) -> MatRef<'_, f64> {
        Gram::as_ref(&self.k)
    }

    /// The shared Gram matrix.
    pub fn gram(&self) -> &Arc<Gram> {
        &self.k
    }

    /// Q̃_ij = ỹ_i ỹ_j K_ij (computed as K_ij·(ỹ_i ỹ_j)).
    ///
    /// # Panics
    /// If `i` or `j` is out of range.
    pub fn entry(&self, i: usize, j: usize) -> f64 {
        Gram::as_ref(&self.k)[(i, j)] * (self.y.get(i) * self.y.get(j))
    }

    /// Q̃ as a dense matrix, Q̃_ij = K_ij·(ỹ_i ỹ_j). Allocates n×n: for checks and small
    /// problems only; the game never calls it.
    pub fn to_dense(&self) -> Mat<f64> {
        let ys = self.y.as_slice();
        let k = Gram::as_ref(&self.k);
        Mat::from_fn(self.n(), self.n(), |i, j| k[(i, j)] * (ys[i] * ys[j]))
    }

    /// Flip label i: ỹ_i ← −ỹ_i, which negates row i and column i of Q̃ except the diagonal.
    /// O(1): only the label changes.
    ///
    /// # Panics
    /// If `i >= n`.
    pub fn flip(&mut self, i: usize) {
        let n = self.n();
        assert!(i < n, "flip index {i} out of range for n = {n}");
        self.y.flip(i);
    }

    /// Bring Q̃ in step with new labels, flipping only the indices where they differ: O(n).
    ///
    /// # Errors
    /// [`SvmError::Data`] (dimension mismatch) when the label count differs.
    pub fn set_labels(&mut self, y: &Labels) -> Result<(), SvmError> {
        for i in self.y.diff(y)? {
            self.flip(i);
        }
        Ok(())
    }

    /// out = Q̃λ = ỹ ∘ K(ỹ ∘ λ), with `scratch` (length n) holding ỹ ∘ λ. Sequential faer matvec
    /// for n ≤ [`PAR_MATVEC_MIN`], fixed row blocks in parallel above (each row's sum is one
    /// sequential dot product in the same order whatever the thread count). No allocation.
    ///
    /// # Panics
    /// If `lambda`, `scratch` or `out` does not have length n.
    pub fn matvec_with_scratch_into(&self, lambda: ColRef<'_, f64>, scratch: &mut [f64], mut out: ColMut<'_, f64>) {
        let n = self.n();
        assert_eq!(lambda.nrows(), n, "matvec_into: lambda length");
        assert_eq!(scratch.len(), n, "matvec_into: scratch length");
        assert_eq!(out.nrows(), n, "matvec_into: out length");
        let ys = self.y.as_slice();
        for ((s, &yi), i) in scratch.iter_mut().zip(ys).zip(0..n) {
            *s = yi * lambda[i];
        }
        kernel_matvec_into(Gram::as_ref(&self.k), ColRef::from_slice(scratch), out.rb_mut());
        for (i, &yi) in ys.iter().enumerate() {
            out[i] *= yi;
        }
    }

    /// out = Q̃λ = ỹ ∘ K(ỹ ∘ λ) (allocates an n-vector of scratch; see
    /// [`SignedGram::matvec_with_scratch_into`]).
    ///
    /// # Panics
    /// If `lambda` or `out` does not have length n.
    pub fn matvec_into(&self, lambda: ColRef<'_, f64>, out: ColMut<'_, f64>) {
        let mut scratch = vec![0.0; self.n()];
        self.matvec_with_scratch_into(lambda, &mut scratch, out);
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

/// Below this order the kernel matvec runs as one sequential faer product; at or above it, in
/// fixed blocks of [`MATVEC_ROWS`] rows in parallel.
pub const PAR_MATVEC_MIN: usize = 4096;
/// Rows per parallel block of the kernel matvec.
pub const MATVEC_ROWS: usize = 512;

/// out = K v for a symmetric K (n×n). Sequential faer matvec below [`PAR_MATVEC_MIN`]; above,
/// out is cut into fixed blocks of [`MATVEC_ROWS`] rows computed in parallel, each from the
/// matching columns of K (K symmetric: rows r..r+m of K v = (K[:, r..r+m])ᵀ v), so each entry
/// is one dot product summed in a fixed order: the result does not depend on the thread count.
///
/// # Panics
/// If the lengths do not match.
pub fn kernel_matvec_into(k: MatRef<'_, f64>, v: ColRef<'_, f64>, out: ColMut<'_, f64>) {
    let n = k.nrows();
    assert_eq!(k.ncols(), n, "kernel_matvec_into: K must be square");
    assert_eq!(v.nrows(), n, "kernel_matvec_into: v length");
    assert_eq!(out.nrows(), n, "kernel_matvec_into: out length");
    if n < PAR_MATVEC_MIN {
        matmul(out.as_mat_mut(), Accum::Replace, k, v.as_mat(), 1.0, Par::Seq);
        return;
    }
    let Some(vs) = v.try_as_col_major() else {
        matmul(out.as_mat_mut(), Accum::Replace, k, v.as_mat(), 1.0, Par::Seq);
        return;
    };
    let vs = vs.as_slice();
    let mut out = out;
    let Some(os) = out.rb_mut().try_as_col_major_mut() else {
        matmul(out.as_mat_mut(), Accum::Replace, k, v.as_mat(), 1.0, Par::Seq);
        return;
    };
    let contiguous: Option<Vec<&[f64]>> = (0..n).map(|j| k.col(j).try_as_col_major().map(|c| c.as_slice())).collect();
    let Some(cols) = contiguous else {
        os.as_slice_mut().par_chunks_mut(MATVEC_ROWS).enumerate().for_each(|(b, chunk)| {
            let r0 = b * MATVEC_ROWS;
            for (t, o) in chunk.iter_mut().enumerate() {
                let col = k.col(r0 + t);
                *o = (0..n).map(|i| col[i] * vs[i]).sum();
            }
        });
        return;
    };
    let cols = &cols;
    os.as_slice_mut().par_chunks_mut(MATVEC_ROWS).enumerate().for_each(|(b, chunk)| {
        let r0 = b * MATVEC_ROWS;
        let mut quads = chunk.chunks_exact_mut(4);
        let mut r = r0;
        for q in &mut quads {
            let d = dot4([cols[r], cols[r + 1], cols[r + 2], cols[r + 3]], vs);
            q.copy_from_slice(&d);
            r += 4;
        }
        for o in quads.into_remainder() {
            *o = dot(cols[r], vs);
            r += 1;
        }
    });
}

/// Four dot products cᵀv sharing the loads of v, each in the same fixed order as [`dot`]
/// (four interleaved partial sums per column, then a fixed reduction).
fn dot4(c: [&[f64]; 4], v: &[f64]) -> [f64; 4] {
    let n = v.len();
    let mut acc = [[0.0f64; 4]; 4];
    let m = n - n % 4;
    let mut i = 0;
    while i < m {
        let (v0, v1, v2, v3) = (v[i], v[i + 1], v[i + 2], v[i + 3]);
        for (a, col) in acc.iter_mut().zip(&c) {
            let x = &col[i..i + 4];
            a[0] += x[0] * v0;
            a[1] += x[1] * v1;
            a[2] += x[2] * v2;
            a[3] += x[3] * v3;
        }
        i += 4;
    }
    let mut out = [0.0; 4];
    for ((o, a), col) in out.iter_mut().zip(&acc).zip(&c) {
        let mut tail = 0.0;
        for j in m..n {
            tail += col[j] * v[j];
        }
        *o = ((a[0] + a[2]) + (a[1] + a[3])) + tail;
    }
    out
}

/// Σ a_i b_i in four interleaved partial sums, reduced as ((s0 + s2) + (s1 + s3)) + tail: the
/// same order as each column of [`dot4`], so a row's value does not depend on its position.
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let n = b.len();
    let m = n - n % 4;
    let mut acc = [0.0f64; 4];
    let mut i = 0;
    while i < m {
        acc[0] += a[i] * b[i];
        acc[1] += a[i + 1] * b[i + 1];
        acc[2] += a[i + 2] * b[i + 2];
        acc[3] += a[i + 3] * b[i + 3];
        i += 4;
    }
    let mut tail = 0.0;
    for j in m..n {
        tail += a[j] * b[j];
    }
    ((acc[0] + acc[2]) + (acc[1] + acc[3])) + tail
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Rbf, RbfParams};

    #[test]
    fn from_mat_rejects_bad_matrices() {
        assert!(matches!(Gram::from_mat(Mat::zeros(2, 3)), Err(SvmError::DimensionMismatch { .. })));
        let mut m = Mat::<f64>::identity(3, 3);
        m[(2, 0)] = 0.5;
        assert!(matches!(Gram::from_mat(m.clone()), Err(SvmError::NotSymmetric { row: 2, col: 0, .. })));
        m[(0, 2)] = 0.5;
        assert!(Gram::from_mat(m.clone()).is_ok());
        m[(1, 1)] = f64::NAN;
        assert!(matches!(Gram::from_mat(m), Err(SvmError::NonFinite { index: 4, .. })));
    }

    #[test]
    fn power_iteration_matches_the_eigensolver() {
        let x = Mat::from_fn(60, 2, |i, j| ((i * 13 + j * 7) % 17) as f64 / 6.0);
        let g = Gram::new(&Rbf::new(RbfParams { gamma: 0.4 }).unwrap(), x.as_ref());
        let exact = g.max_eigenvalue().unwrap();
        let p = g.max_eigenvalue_power(1e-12, 10_000);
        assert!(p.converged);
        assert!(p.value <= exact * (1.0 + 1e-12));
        assert!((p.value - exact).abs() <= 1e-8 * exact, "{} vs {exact}", p.value);
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
    fn parallel_matvec_is_thread_count_independent_and_accurate() {
        // n above PAR_MATVEC_MIN and not a multiple of the block or of 4: every tail path runs.
        let n = PAR_MATVEC_MIN + 517;
        let x = Mat::from_fn(n, 2, |i, j| ((i * 31 + j * 17) % 97) as f64 / 40.0);
        let g = Gram::new(&Rbf::new(RbfParams { gamma: 0.3 }).unwrap(), x.as_ref());
        let v = faer::Col::from_fn(n, |i| ((i * 7) % 13) as f64 * 0.1 - 0.6);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let mut out = faer::Col::zeros(n);
            pool.install(|| kernel_matvec_into(g.as_ref(), v.as_ref(), out.as_mut()));
            out
        };
        let one = run(1);
        assert_eq!(one, run(3), "bits differ between 1 and 3 threads");
        let k = g.as_ref();
        for i in (0..n).step_by(97) {
            let direct: f64 = (0..n).map(|j| k[(i, j)] * v[j]).sum();
            assert!((one[i] - direct).abs() <= 1e-11 * (1.0 + direct.abs()), "row {i}");
        }
    }

    #[test]
    fn flip_twice_restores_and_keeps_diagonal() {
        let x = Mat::from_fn(5, 2, |i, j| (i + 2 * j) as f64 / 4.0);
        let g = Gram::new(&Rbf::new(RbfParams { gamma: 0.5 }).unwrap(), x.as_ref());
        let y = Labels::new(vec![1.0, -1.0, 1.0, 1.0, -1.0]).unwrap();
        let mut q = SignedGram::new(g, &y).unwrap();
        let before = q.to_dense();
        q.flip(3);
        assert_eq!(q.entry(3, 3), before[(3, 3)]);
        assert_eq!(q.entry(3, 1), -before[(3, 1)]);
        q.flip(3);
        assert_eq!(q.to_dense(), before);
        assert_eq!(q.labels(), &y);
    }
}
