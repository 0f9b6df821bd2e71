//! Kernels: [`Linear`], [`Rbf`] and [`Poly`], behind the [`Kernel`] trait.
//!
//! Gram blocks are computed as X·Zᵀ with faer's matmul (one sequential matmul per fixed-width
//! column block, the blocks spread over rayon), followed by an elementwise map. The block layout
//! does not depend on the number of threads, so results are identical for any thread count.

use std::sync::Arc;

use faer::linalg::matmul::matmul;
use faer::prelude::{IntoConst, ReborrowMut};
use faer::{Accum, MatMut, MatRef, Par, RowRef};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::SvmError;

/// Width of the column blocks a Gram matrix is computed in (fixed: results do not depend on the
/// thread count).
const GRAM_BLOCK: usize = 128;
/// Tile size of the cache-blocked mirror copy.
const MIRROR_TILE: usize = 64;

/// A kernel as LIBSVM's model files describe it (`kernel_type`, `degree`, `gamma`, `coef0`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LibsvmKernel {
    /// `kernel_type linear`: k = aᵀb.
    Linear,
    /// `kernel_type rbf`: k = exp(−γ‖a − b‖²).
    Rbf {
        /// γ.
        gamma: f64,
    },
    /// `kernel_type polynomial`: k = (γaᵀb + coef0)^degree.
    Poly {
        /// degree.
        degree: u32,
        /// γ.
        gamma: f64,
        /// coef0.
        coef0: f64,
    },
}

/// A positive semi-definite kernel k(a, b) on feature vectors.
///
/// Implementations must be symmetric, k(a, b) = k(b, a); [`Kernel::gram_into`] called with the
/// same view for `x` and `z` must return an exactly (bitwise) symmetric matrix.
pub trait Kernel: Send + Sync + std::fmt::Debug {
    /// A short name ("linear", "rbf", "poly").
    fn name(&self) -> &'static str;

    /// k(a, b) for two feature vectors of the same length.
    ///
    /// # Panics
    /// May panic if `a` and `b` differ in length.
    fn eval(&self, a: RowRef<'_, f64>, b: RowRef<'_, f64>) -> f64;

    /// The Gram block K_ij = k(x_i, z_j) into `out` (x.nrows() × z.nrows()).
    ///
    /// When `x` and `z` are the same view the result is exactly symmetric.
    ///
    /// # Panics
    /// If `x` and `z` differ in column count or `out` has the wrong shape.
    fn gram_into(&self, x: MatRef<'_, f64>, z: MatRef<'_, f64>, out: MatMut<'_, f64>);

    /// The symmetric Gram matrix K_ij = k(x_i, x_j) of the rows of `x` into `out` (n×n),
    /// exactly (bitwise) symmetric. The default computes [`Kernel::gram_into`] and copies the
    /// lower triangle over the upper one; the built-in kernels compute one triangle only.
    ///
    /// # Panics
    /// If `out` is not n×n.
    fn gram_symmetric_into(&self, x: MatRef<'_, f64>, mut out: MatMut<'_, f64>) {
        self.gram_into(x, x, out.rb_mut());
        mirror_lower_to_upper(out);
    }

    /// A shared copy of this kernel, so a fitted [`crate::SvmModel`] can own its kernel when the
    /// solver was handed a `&dyn Kernel`. Typically `Arc::new(*self)` or `Arc::new(self.clone())`.
    fn clone_arc(&self) -> Arc<dyn Kernel>;

    /// The kernel as LIBSVM's model format names it (None: not a LIBSVM kernel). Default: None.
    fn libsvm(&self) -> Option<LibsvmKernel> {
        None
    }

    /// One kernel row against a row-major block: out_t = k(a, z_t), where z_t =
    /// `z[t·d .. (t+1)·d]` and d = `a.len()`. Used by the SMO solver to compute kernel rows on
    /// demand. The default calls [`Kernel::eval`] per entry; the built-in kernels override it
    /// with the same arithmetic as `eval`, so both give bitwise equal values.
    ///
    /// # Panics
    /// If `z.len() != out.len() * a.len()`.
    fn row_into(&self, a: &[f64], z: &[f64], out: &mut [f64]) {
        let d = a.len();
        assert_eq!(z.len(), out.len() * d, "row_into: z must hold out.len() rows of length a.len()");
        let ar = RowRef::from_slice(a);
        for (t, o) in out.iter_mut().enumerate() {
            *o = self.eval(ar, RowRef::from_slice(&z[t * d..(t + 1) * d]));
        }
    }
}

/// Parameters of the linear kernel k(a, b) = aᵀb (it has none).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinearParams {}

/// The linear kernel k(a, b) = aᵀb.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Linear {
    _private: (),
}

impl Linear {
    /// The linear kernel.
    ///
    /// # Errors
    /// None today; the `Result` keeps the constructor shape of every kernel.
    pub fn new(_params: LinearParams) -> Result<Self, SvmError> {
        Ok(Self { _private: () })
    }
}

/// Parameters of the RBF kernel k(a, b) = exp(−γ‖a − b‖²).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RbfParams {
    /// Width γ > 0, finite. Default 1.0 (LIBSVM's default is 1/d; the FLORAL Moon setting is 0.5).
    pub gamma: f64,
}

impl Default for RbfParams {
    fn default() -> Self {
        Self { gamma: 1.0 }
    }
}

/// The Gaussian (RBF) kernel k(a, b) = exp(−γ‖a − b‖²).
///
/// Gram blocks use ‖a − b‖² = ‖a‖² + ‖b‖² − 2aᵀb (faer matmul for aᵀb), clamped at 0;
/// [`Kernel::eval`] and [`Kernel::row_into`] sum (a_k − b_k)² directly. The two agree to
/// rounding (about 1e-15 relative).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rbf {
    gamma: f64,
}

impl Rbf {
    /// The RBF kernel with width γ.
    ///
    /// # Errors
    /// [`SvmError::InvalidParam`] unless γ is finite and > 0.
    pub fn new(params: RbfParams) -> Result<Self, SvmError> {
        check_gamma(params.gamma)?;
        Ok(Self { gamma: params.gamma })
    }

    /// γ.
    pub fn gamma(&self) -> f64 {
        self.gamma
    }
}

/// Parameters of the polynomial kernel k(a, b) = (γ aᵀb + coef0)^degree.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolyParams {
    /// Degree ≥ 1. Default 3 (as LIBSVM).
    pub degree: u32,
    /// Scale γ > 0, finite. Default 1.0 (LIBSVM's default is 1/d).
    pub gamma: f64,
    /// Offset coef0, finite. Default 0.0 (as LIBSVM).
    pub coef0: f64,
}

impl Default for PolyParams {
    fn default() -> Self {
        Self { degree: 3, gamma: 1.0, coef0: 0.0 }
    }
}

/// The polynomial kernel k(a, b) = (γ aᵀb + coef0)^degree.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Poly {
    degree: i32,
    gamma: f64,
    coef0: f64,
}

impl Poly {
    /// The polynomial kernel.
    ///
    /// # Errors
    /// [`SvmError::InvalidParam`] for degree 0 (or above `i32::MAX`), γ not finite and > 0, or a
    /// non-finite coef0.
    pub fn new(params: PolyParams) -> Result<Self, SvmError> {
        let degree = i32::try_from(params.degree).ok().filter(|&d| d >= 1).ok_or_else(|| SvmError::InvalidParam {
            field: "degree",
            expected: "an integer in 1..=2147483647",
            got: params.degree.to_string(),
        })?;
        check_gamma(params.gamma)?;
        if !params.coef0.is_finite() {
            return Err(SvmError::InvalidParam {
                field: "coef0",
                expected: "a finite number",
                got: params.coef0.to_string(),
            });
        }
        Ok(Self { degree, gamma: params.gamma, coef0: params.coef0 })
    }

    /// The degree.
    pub fn degree(&self) -> u32 {
        self.degree.unsigned_abs()
    }

    /// γ.
    pub fn gamma(&self) -> f64 {
        self.gamma
    }

    /// coef0.
    pub fn coef0(&self) -> f64 {
        self.coef0
    }
}

fn check_gamma(gamma: f64) -> Result<(), SvmError> {
    if gamma.is_finite() && gamma > 0.0 {
        Ok(())
    } else {
        Err(SvmError::InvalidParam { field: "gamma", expected: "a finite number > 0", got: gamma.to_string() })
    }
}

#[inline]
fn dot_slices(a: &[f64], b: &[f64]) -> f64 {
    let mut s = 0.0;
    for (x, y) in a.iter().zip(b) {
        s += x * y;
    }
    s
}

#[inline]
fn sqdist_slices(a: &[f64], b: &[f64]) -> f64 {
    let mut s = 0.0;
    for (x, y) in a.iter().zip(b) {
        let t = x - y;
        s += t * t;
    }
    s
}

/// e^x computed from IEEE multiplications and additions only (no libm): Cody–Waite reduction
/// x = n·ln2 + r with |r| ≤ ln2/2, e^r by its Taylor polynomial of degree 13 (truncation error
/// below 1e-17), then scaling by 2^n through the exponent bits. Measured error ≤ 1 ulp against
/// the correctly rounded value over [−708, 0]; results below e^−708 ≈ 3.3e-308 are flushed to 0,
/// above e^709 give +∞, NaN gives NaN.
///
/// Because it uses no fused operations, the scalar and the vectorised (runtime-dispatched)
/// versions give bitwise equal results on every x86-64 machine, and so do [`Kernel::eval`],
/// [`Kernel::row_into`] and [`Kernel::gram_into`] of [`Rbf`] (which all use it).
#[inline(always)]
pub(crate) fn exp_det(x: f64) -> f64 {
    const LN2_HI: f64 = 0.693_147_180_369_123_8;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    /// 1.5·2^52: adding it rounds to the nearest integer, kept in the low mantissa bits.
    const SHIFT: f64 = 6_755_399_441_055_744.0;
    let xc = x.clamp(-708.0, 709.0);
    let t = xc * std::f64::consts::LOG2_E + SHIFT;
    let n = t - SHIFT;
    let r = (xc - n * LN2_HI) - n * LN2_LO;
    let mut p = 1.0 / 6_227_020_800.0;
    p = p * r + 1.0 / 479_001_600.0;
    p = p * r + 1.0 / 39_916_800.0;
    p = p * r + 1.0 / 3_628_800.0;
    p = p * r + 1.0 / 362_880.0;
    p = p * r + 1.0 / 40_320.0;
    p = p * r + 1.0 / 5_040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    // n ∈ [−1022, 1023] after the clamp, so the biased exponent n + 1023 is in range.
    let ni = t.to_bits().wrapping_sub(SHIFT.to_bits());
    let scale = f64::from_bits(ni.wrapping_add(1023) << 52);
    let v = p * scale;
    let v = if x < -708.0 { 0.0 } else { v };
    let v = if x > 709.0 { f64::INFINITY } else { v };
    if x.is_nan() { x } else { v }
}

/// v_t ← e^(−γ v_t) for every entry, vectorised with runtime CPU dispatch (bitwise equal to the
/// scalar [`exp_det`]).
fn exp_neg_scaled(gamma: f64, v: &mut [f64]) {
    pulp::Arch::new().dispatch(|| {
        for x in v.iter_mut() {
            *x = exp_det(-gamma * *x);
        }
    });
}

fn dot_rows(a: RowRef<'_, f64>, b: RowRef<'_, f64>) -> f64 {
    assert_eq!(a.ncols(), b.ncols(), "kernel: vectors differ in length");
    let mut s = 0.0;
    for k in 0..a.ncols() {
        s += a[k] * b[k];
    }
    s
}

fn sqdist_rows(a: RowRef<'_, f64>, b: RowRef<'_, f64>) -> f64 {
    assert_eq!(a.ncols(), b.ncols(), "kernel: vectors differ in length");
    let mut s = 0.0;
    for k in 0..a.ncols() {
        let t = a[k] - b[k];
        s += t * t;
    }
    s
}

fn check_row_block(a: &[f64], z: &[f64], out: &[f64]) -> usize {
    let d = a.len();
    assert_eq!(z.len(), out.len() * d, "row_into: z must hold out.len() rows of length a.len()");
    d
}

impl Kernel for Linear {
    fn libsvm(&self) -> Option<LibsvmKernel> {
        Some(LibsvmKernel::Linear)
    }

    fn clone_arc(&self) -> Arc<dyn Kernel> {
        Arc::new(*self)
    }

    fn name(&self) -> &'static str {
        "linear"
    }

    /// k(a, b) = aᵀb.
    fn eval(&self, a: RowRef<'_, f64>, b: RowRef<'_, f64>) -> f64 {
        dot_rows(a, b)
    }

    /// K = X·Zᵀ.
    fn gram_into(&self, x: MatRef<'_, f64>, z: MatRef<'_, f64>, out: MatMut<'_, f64>) {
        gram_with(x, z, out, |dot, _, _| dot);
    }

    fn gram_symmetric_into(&self, x: MatRef<'_, f64>, out: MatMut<'_, f64>) {
        gram_sym(x, out, |dot, _, _| dot);
    }

    fn row_into(&self, a: &[f64], z: &[f64], out: &mut [f64]) {
        let d = check_row_block(a, z, out);
        if d == 0 {
            out.fill(0.0);
            return;
        }
        for (o, zt) in out.iter_mut().zip(z.chunks_exact(d)) {
            *o = dot_slices(a, zt);
        }
    }
}

impl Kernel for Rbf {
    fn libsvm(&self) -> Option<LibsvmKernel> {
        Some(LibsvmKernel::Rbf { gamma: self.gamma() })
    }

    fn clone_arc(&self) -> Arc<dyn Kernel> {
        Arc::new(*self)
    }

    fn name(&self) -> &'static str {
        "rbf"
    }

    /// k(a, b) = exp(−γ Σ_k (a_k − b_k)²).
    fn eval(&self, a: RowRef<'_, f64>, b: RowRef<'_, f64>) -> f64 {
        exp_det(-self.gamma * sqdist_rows(a, b))
    }

    /// K_ij = exp(−γ max(0, ‖x_i‖² + ‖z_j‖² − 2 x_iᵀz_j)).
    fn gram_into(&self, x: MatRef<'_, f64>, z: MatRef<'_, f64>, out: MatMut<'_, f64>) {
        let g = self.gamma;
        gram_with(x, z, out, move |dot, sa, sb| {
            let d2 = sa + sb - 2.0 * dot;
            exp_det(-g * if d2 > 0.0 { d2 } else { 0.0 })
        });
    }

    fn gram_symmetric_into(&self, x: MatRef<'_, f64>, out: MatMut<'_, f64>) {
        let g = self.gamma;
        gram_sym(x, out, move |dot, sa, sb| {
            let d2 = sa + sb - 2.0 * dot;
            exp_det(-g * if d2 > 0.0 { d2 } else { 0.0 })
        });
    }

    fn row_into(&self, a: &[f64], z: &[f64], out: &mut [f64]) {
        let d = check_row_block(a, z, out);
        if d == 0 {
            out.fill(1.0);
            return;
        }
        for (o, zt) in out.iter_mut().zip(z.chunks_exact(d)) {
            *o = sqdist_slices(a, zt);
        }
        exp_neg_scaled(self.gamma, out);
    }
}

impl Kernel for Poly {
    fn libsvm(&self) -> Option<LibsvmKernel> {
        Some(LibsvmKernel::Poly { degree: self.degree(), gamma: self.gamma(), coef0: self.coef0() })
    }

    fn clone_arc(&self) -> Arc<dyn Kernel> {
        Arc::new(*self)
    }

    fn name(&self) -> &'static str {
        "poly"
    }

    /// k(a, b) = (γ aᵀb + coef0)^degree.
    fn eval(&self, a: RowRef<'_, f64>, b: RowRef<'_, f64>) -> f64 {
        (self.gamma * dot_rows(a, b) + self.coef0).powi(self.degree)
    }

    /// K = (γ X·Zᵀ + coef0)^degree elementwise.
    fn gram_into(&self, x: MatRef<'_, f64>, z: MatRef<'_, f64>, out: MatMut<'_, f64>) {
        let (g, c, p) = (self.gamma, self.coef0, self.degree);
        gram_with(x, z, out, move |dot, _, _| (g * dot + c).powi(p));
    }

    fn gram_symmetric_into(&self, x: MatRef<'_, f64>, out: MatMut<'_, f64>) {
        let (g, c, p) = (self.gamma, self.coef0, self.degree);
        gram_sym(x, out, move |dot, _, _| (g * dot + c).powi(p));
    }

    fn row_into(&self, a: &[f64], z: &[f64], out: &mut [f64]) {
        let d = check_row_block(a, z, out);
        let (g, c, p) = (self.gamma, self.coef0, self.degree);
        if d == 0 {
            out.fill(c.powi(p));
            return;
        }
        for (o, zt) in out.iter_mut().zip(z.chunks_exact(d)) {
            *o = (g * dot_slices(a, zt) + c).powi(p);
        }
    }
}

/// Squared row norms ‖x_i‖², accumulated column by column (fixed order).
pub(crate) fn sq_norms(x: MatRef<'_, f64>) -> Vec<f64> {
    let mut s = vec![0.0; x.nrows()];
    for k in 0..x.ncols() {
        let col = x.col(k);
        for (i, si) in s.iter_mut().enumerate() {
            let v = col[i];
            *si += v * v;
        }
    }
    s
}

/// True when `x` and `z` are the same view (same memory, shape and strides).
fn same_view(x: MatRef<'_, f64>, z: MatRef<'_, f64>) -> bool {
    x.as_ptr() == z.as_ptr()
        && x.nrows() == z.nrows()
        && x.ncols() == z.ncols()
        && x.row_stride() == z.row_stride()
        && x.col_stride() == z.col_stride()
}

/// Apply `f` to every entry of a block column by column; entry (i, j) of `blk` corresponds to
/// global row `row0 + i` and global column `col0 + j`.
fn map_block<F>(blk: MatMut<'_, f64>, row0: usize, col0: usize, sx: &[f64], sz: &[f64], f: &F)
where
    F: Fn(f64, f64, f64) -> f64,
{
    pulp::Arch::new().dispatch(|| map_block_inner(blk, row0, col0, sx, sz, f));
}

#[inline(always)]
fn map_block_inner<F>(mut blk: MatMut<'_, f64>, row0: usize, col0: usize, sx: &[f64], sz: &[f64], f: &F)
where
    F: Fn(f64, f64, f64) -> f64,
{
    let m = blk.nrows();
    for jj in 0..blk.ncols() {
        let szj = sz[col0 + jj];
        let sxr = &sx[row0..row0 + m];
        let col = blk.rb_mut().col_mut(jj);
        match col.try_as_col_major_mut() {
            Some(c) => {
                for (v, &sa) in c.as_slice_mut().iter_mut().zip(sxr) {
                    *v = f(*v, sa, szj);
                }
            }
            None => {
                let mut c = blk.rb_mut().col_mut(jj);
                for (ii, &sa) in sxr.iter().enumerate() {
                    c[ii] = f(c[ii], sa, szj);
                }
            }
        }
    }
}

/// K_ij = f(x_iᵀz_j, ‖x_i‖², ‖z_j‖²), computed by fixed-width column blocks in parallel.
///
/// When `x` and `z` are the same view only the lower triangle is computed (the diagonal with
/// x_iᵀx_i := ‖x_i‖², so that e.g. the RBF diagonal is exactly 1), then mirrored: the result is
/// exactly symmetric.
fn gram_with<F>(x: MatRef<'_, f64>, z: MatRef<'_, f64>, out: MatMut<'_, f64>, f: F)
where
    F: Fn(f64, f64, f64) -> f64 + Sync,
{
    assert_eq!(x.ncols(), z.ncols(), "gram_into: x and z differ in column count");
    assert_eq!(out.nrows(), x.nrows(), "gram_into: out rows must equal x rows");
    assert_eq!(out.ncols(), z.nrows(), "gram_into: out columns must equal z rows");
    if same_view(x, z) {
        gram_sym(x, out, f);
    } else {
        let sx = sq_norms(x);
        let sz = sq_norms(z);
        let (f, sx, sz) = (&f, &sx, &sz);
        out.par_col_chunks_mut(GRAM_BLOCK).enumerate().for_each(|(b, mut blk)| {
            let j0 = b * GRAM_BLOCK;
            let w = blk.ncols();
            matmul(blk.rb_mut(), Accum::Replace, x, z.subrows(j0, w).transpose(), 1.0, Par::Seq);
            map_block(blk, 0, j0, sx, sz, f);
        });
    }
}

/// The symmetric Gram K_ij = f(x_iᵀx_j, ‖x_i‖², ‖x_j‖²) of the rows of `x`, exactly symmetric.
///
/// `out` is cut into fixed-width column blocks, each split at its diagonal into an upper part
/// (rows above the block) and a lower strip. Phase 1 computes every lower strip in parallel
/// (one sequential matmul each, the diagonal with x_iᵀx_i := ‖x_i‖², the diagonal tile made
/// symmetric); phase 2 fills every upper part in parallel by transposing tiles of the strips,
/// which are only read by then. Work split and arithmetic do not depend on the thread count.
fn gram_sym<F>(x: MatRef<'_, f64>, out: MatMut<'_, f64>, f: F)
where
    F: Fn(f64, f64, f64) -> f64 + Sync,
{
    let n = x.nrows();
    assert_eq!(out.nrows(), n, "gram: out rows must equal x rows");
    assert_eq!(out.ncols(), n, "gram: out columns must equal x rows");
    let sx = sq_norms(x);
    let mut uppers = Vec::new();
    let mut lowers = Vec::new();
    let mut rest = out;
    let mut j0 = 0;
    while j0 < n {
        let w = GRAM_BLOCK.min(n - j0);
        let (blk, r) = rest.split_at_col_mut(w);
        rest = r;
        let (up, low) = blk.split_at_row_mut(j0);
        uppers.push(up);
        lowers.push(low);
        j0 += w;
    }
    let (f, sx) = (&f, &sx);
    lowers.par_iter_mut().enumerate().for_each(|(b, strip)| {
        let j0 = b * GRAM_BLOCK;
        let w = strip.ncols();
        matmul(strip.rb_mut(), Accum::Replace, x.subrows(j0, n - j0), x.subrows(j0, w).transpose(), 1.0, Par::Seq);
        for jj in 0..w {
            strip[(jj, jj)] = sx[j0 + jj];
        }
        map_block(strip.rb_mut(), j0, j0, sx, sx, f);
        for jj in 0..w {
            for ii in 0..jj {
                strip[(ii, jj)] = strip[(jj, ii)];
            }
        }
    });
    let lowers: Vec<MatRef<'_, f64>> = lowers.into_iter().map(|m| m.into_const()).collect();
    let lowers = &lowers;
    uppers.into_par_iter().enumerate().for_each(|(b, mut up)| {
        let j0 = b * GRAM_BLOCK;
        let w = up.ncols();
        // K_ij for i < j0, j in this block, is K_ji: rows j0 − i0 .. of the strip of i's block.
        for (ib, low) in lowers.iter().enumerate().take(b) {
            let i0 = ib * GRAM_BLOCK;
            let r0 = j0 - i0;
            copy_transposed(low.submatrix(r0, 0, w, low.ncols()), up.rb_mut().subrows_mut(i0, low.ncols()));
        }
    });
}

/// dst = srcᵀ (src w×h, dst h×w), in 8×8 tiles over contiguous column slices (with an indexed
/// fallback for other layouts).
fn copy_transposed(src: MatRef<'_, f64>, mut dst: MatMut<'_, f64>) {
    const T: usize = 8;
    let (w, h) = (src.nrows(), src.ncols());
    let src_cols: Option<Vec<&[f64]>> = (0..h).map(|c| src.col(c).try_as_col_major().map(|s| s.as_slice())).collect();
    let contiguous_dst = (0..w).all(|r| dst.rb_mut().col_mut(r).try_as_col_major_mut().is_some());
    let Some(src_cols) = src_cols.filter(|_| contiguous_dst) else {
        for r in 0..w {
            for c in 0..h {
                dst[(c, r)] = src[(r, c)];
            }
        }
        return;
    };
    let mut r0 = 0;
    while r0 < w {
        let re = (r0 + T).min(w);
        let mut c0 = 0;
        while c0 < h {
            let ce = (c0 + T).min(h);
            let tile = &src_cols[c0..ce];
            for r in r0..re {
                if let Some(d) = dst.rb_mut().col_mut(r).try_as_col_major_mut() {
                    let d = &mut d.as_slice_mut()[c0..ce];
                    for (dv, sc) in d.iter_mut().zip(tile) {
                        *dv = sc[r];
                    }
                }
            }
            c0 += T;
        }
        r0 += T;
    }
}

/// out_ij = out_ji for i < j (cache-blocked copy of the strict lower triangle to the upper).
pub(crate) fn mirror_lower_to_upper(mut out: MatMut<'_, f64>) {
    let n = out.nrows().min(out.ncols());
    let mut jb = 0;
    while jb < n {
        let je = (jb + MIRROR_TILE).min(n);
        let mut ib = 0;
        while ib < je {
            let ie = (ib + MIRROR_TILE).min(n);
            for j in jb..je {
                for i in ib..ie.min(j) {
                    out[(i, j)] = out[(j, i)];
                }
            }
            ib += MIRROR_TILE;
        }
        jb += MIRROR_TILE;
    }
}

/// Plain triple-loop Gram K_ij = k(x_i, z_j) through [`Kernel::eval`]: the benchmark baseline
/// and a test oracle. Sequential.
pub fn gram_naive(kernel: &dyn Kernel, x: MatRef<'_, f64>, z: MatRef<'_, f64>) -> faer::Mat<f64> {
    faer::Mat::from_fn(x.nrows(), z.nrows(), |i, j| kernel.eval(x.row(i), z.row(j)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::Mat;

    fn data(n: usize, d: usize) -> Mat<f64> {
        Mat::from_fn(n, d, |i, j| ((i * 7 + j * 3) % 11) as f64 / 5.0 - 1.0)
    }

    #[test]
    fn exp_det_is_within_one_ulp_and_dispatch_is_bitwise_equal() {
        let mut xs: Vec<f64> = (0..200_001).map(|i| -(i as f64) * 708.0 / 200_000.0).collect();
        xs.extend((0..10_001).map(|i| -(i as f64) * 1e-4));
        xs.extend([1.0, 10.0, 700.0]);
        for &x in &xs {
            let (a, b) = (exp_det(x), x.exp());
            assert!((a - b).abs() <= 2.3e-16 * b, "x = {x}: {a} vs {b}");
        }
        assert_eq!(exp_det(0.0), 1.0);
        assert_eq!(exp_det(-800.0), 0.0);
        assert_eq!(exp_det(f64::NEG_INFINITY), 0.0);
        assert_eq!(exp_det(1000.0), f64::INFINITY);
        assert!(exp_det(f64::NAN).is_nan());
        let mut v: Vec<f64> = xs.iter().map(|x| -x).collect();
        exp_neg_scaled(1.0, &mut v);
        for (x, e) in xs.iter().zip(&v) {
            assert_eq!(e.to_bits(), exp_det(*x).to_bits());
        }
    }

    #[test]
    fn params_are_validated() {
        assert!(Rbf::new(RbfParams { gamma: 0.0 }).is_err());
        assert!(Rbf::new(RbfParams { gamma: f64::NAN }).is_err());
        assert!(Rbf::new(RbfParams { gamma: 0.5 }).is_ok());
        let e = Poly::new(PolyParams { degree: 0, ..PolyParams::default() }).unwrap_err();
        assert!(matches!(e, SvmError::InvalidParam { field: "degree", .. }));
        assert!(Poly::new(PolyParams { coef0: f64::INFINITY, ..PolyParams::default() }).is_err());
    }

    #[test]
    fn gram_matches_naive_and_is_symmetric_across_block_edges() {
        // n crosses two block boundaries so the mirror and the tile logic are exercised.
        let x = data(2 * GRAM_BLOCK + 17, 3);
        let kernels: Vec<Box<dyn Kernel>> = vec![
            Box::new(Linear::new(LinearParams {}).unwrap()),
            Box::new(Rbf::new(RbfParams { gamma: 0.7 }).unwrap()),
            Box::new(Poly::new(PolyParams { degree: 2, gamma: 0.5, coef0: 1.0 }).unwrap()),
        ];
        for k in &kernels {
            let n = x.nrows();
            let mut g = Mat::zeros(n, n);
            k.gram_into(x.as_ref(), x.as_ref(), g.as_mut());
            let naive = gram_naive(k.as_ref(), x.as_ref(), x.as_ref());
            for i in 0..n {
                for j in 0..n {
                    assert_eq!(g[(i, j)].to_bits(), g[(j, i)].to_bits(), "{} ({i},{j})", k.name());
                    assert!((g[(i, j)] - naive[(i, j)]).abs() <= 1e-12 * (1.0 + naive[(i, j)].abs()));
                }
            }
        }
    }

    #[test]
    fn rbf_diagonal_is_exactly_one_and_rectangular_blocks_match() {
        let x = data(40, 5);
        let z = data(GRAM_BLOCK + 3, 5);
        let k = Rbf::new(RbfParams { gamma: 0.3 }).unwrap();
        let mut g = Mat::zeros(40, 40);
        k.gram_into(x.as_ref(), x.as_ref(), g.as_mut());
        assert!((0..40).all(|i| g[(i, i)] == 1.0));
        let mut r = Mat::zeros(40, z.nrows());
        k.gram_into(x.as_ref(), z.as_ref(), r.as_mut());
        let naive = gram_naive(&k, x.as_ref(), z.as_ref());
        for i in 0..40 {
            for j in 0..z.nrows() {
                assert!((r[(i, j)] - naive[(i, j)]).abs() <= 1e-12);
            }
        }
    }

    #[test]
    fn row_into_equals_eval_bitwise() {
        let x = data(9, 4);
        let mut rm = Vec::new();
        for i in 0..9 {
            for j in 0..4 {
                rm.push(x[(i, j)]);
            }
        }
        let ks: Vec<Box<dyn Kernel>> = vec![
            Box::new(Linear::new(LinearParams {}).unwrap()),
            Box::new(Rbf::new(RbfParams { gamma: 1.3 }).unwrap()),
            Box::new(Poly::new(PolyParams::default()).unwrap()),
        ];
        for k in &ks {
            let mut out = vec![0.0; 9];
            k.row_into(&rm[8..12], &rm, &mut out);
            for (j, o) in out.iter().enumerate() {
                assert_eq!(o.to_bits(), k.eval(x.row(2), x.row(j)).to_bits());
            }
        }
    }

    #[test]
    fn mirror_copies_strict_lower_triangle() {
        let mut m =
            Mat::from_fn(MIRROR_TILE + 5, MIRROR_TILE + 5, |i, j| if i >= j { (i * 100 + j) as f64 } else { -1.0 });
        mirror_lower_to_upper(m.as_mut());
        for i in 0..m.nrows() {
            for j in 0..m.ncols() {
                assert_eq!(m[(i, j)], m[(j, i)]);
            }
        }
        assert_eq!(m[(3, 66)], (66 * 100 + 3) as f64);
    }
}
