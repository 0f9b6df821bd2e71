//! Private helpers shared by the projectors: input checks, exact power-of-two rescaling,
//! per-point bound access, clipping and compensated sums.

use faer::{ColMut, ColRef};
use floral_data::Labels;

use crate::{Bounds, ProjError};

/// Above this magnitude (times n) sums could overflow: rescale by a power of two.
const HUGE: f64 = 8.452_712_498_170_644e270; // 2^900
/// Below this magnitude products could underflow: rescale by a power of two.
const TINY: f64 = 1.183_052_186_166_774_7e-271; // 2^-900

/// 2^k for k in [-1022, 1023], built from its bits (exact).
pub(crate) fn pow2(k: i32) -> f64 {
    let k = k.clamp(-1022, 1023);
    f64::from_bits(((k + 1023) as u64) << 52)
}

/// A power of two `sc` such that the problem scaled by `sc` (z·sc, C·sc) has magnitudes in a
/// safe range: 1 when `s` (the largest magnitude) is unremarkable. Multiplying by a power of two
/// is exact for normal numbers, and the projection is positively homogeneous,
/// Π_{sc·C}(sc·z) = sc·Π_C(z), so this changes nothing but the range.
pub(crate) fn scale_for(s: f64, n: usize) -> f64 {
    if s == 0.0 || !s.is_finite() {
        return 1.0;
    }
    let big = s * (n.max(1) as f64) * 4.0;
    if !big.is_finite() || big > HUGE {
        let e = s.log2().ceil() as i32;
        pow2(-e.min(1022))
    } else if s < TINY {
        pow2(900)
    } else {
        1.0
    }
}

/// Check the lengths of `y`, `out` and the bounds against `z`, and every bound.
pub(crate) fn check_dims(n: usize, y: &Labels, c: Bounds<'_>, out_len: usize) -> Result<(), ProjError> {
    if y.len() != n {
        return Err(ProjError::DimensionMismatch { what: "labels vs z", expected: n, got: y.len() });
    }
    if out_len != n {
        return Err(ProjError::DimensionMismatch { what: "out vs z", expected: n, got: out_len });
    }
    c.validate(n)
}

/// max_i |z_i|, or the first non-finite entry as an error. (Four lanes without an early exit,
/// so the common all-finite case vectorises; the offending index is searched only on failure.)
#[allow(clippy::neg_cmp_op_on_partial_ord)] // !(a <= MAX) is true exactly for NaN and ±inf
pub(crate) fn max_abs_finite(z: &[f64]) -> Result<f64, ProjError> {
    let mut m = [0.0_f64; 4];
    let mut bad = [false; 4];
    let mut quads = z.chunks_exact(4);
    for q in &mut quads {
        for k in 0..4 {
            let a = q[k].abs();
            m[k] = fmax(m[k], a);
            bad[k] |= !(a <= f64::MAX); // NaN or ±inf
        }
    }
    for &v in quads.remainder() {
        m[0] = m[0].max(v.abs());
        bad[0] |= !(v.abs() <= f64::MAX);
    }
    if bad.iter().any(|&b| b) {
        if let Some((index, &value)) = z.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(ProjError::NonFinite { index, value });
        }
    }
    Ok(m[0].max(m[1]).max(m[2].max(m[3])))
}

/// Run `f` on `z` and `out` as contiguous slices, copying through `zbuf`/`obuf` when a view is
/// strided.
pub(crate) fn with_slices<R>(
    z: ColRef<'_, f64>,
    mut out: ColMut<'_, f64>,
    zbuf: &mut Vec<f64>,
    obuf: &mut Vec<f64>,
    f: impl FnOnce(&[f64], &mut [f64]) -> R,
) -> R {
    let zs: &[f64] = match z.try_as_col_major() {
        Some(c) => c.as_slice(),
        None => {
            zbuf.clear();
            zbuf.extend(z.iter().copied());
            zbuf
        }
    };
    if let Some(o) = out.as_mut().try_as_col_major_mut() {
        return f(zs, o.as_slice_mut());
    }
    obuf.clear();
    obuf.resize(zs.len(), 0.0);
    let r = f(zs, obuf);
    out.copy_from(ColRef::from_slice(obuf));
    r
}

/// min(a, b) for non-NaN inputs, as one compare-select (`f64::min` adds NaN handling that
/// costs three extra instructions per use in vectorised loops).
#[inline(always)]
pub(crate) fn fmin(a: f64, b: f64) -> f64 {
    if a < b { a } else { b }
}

/// max(a, b) for non-NaN inputs, as one compare-select.
#[inline(always)]
pub(crate) fn fmax(a: f64, b: f64) -> f64 {
    if a > b { a } else { b }
}

/// 1.0 if `c`, else 0.0 (compiles to a compare and a mask, no branch).
#[inline(always)]
pub(crate) fn ind(c: bool) -> f64 {
    if c { 1.0 } else { 0.0 }
}

/// clip(x, 0, c) = min(max(x, 0), c) for c ≥ 0 and x not NaN.
#[inline(always)]
pub(crate) fn clip(x: f64, c: f64) -> f64 {
    fmin(fmax(x, 0.0), c)
}

/// Compensated (Kahan–Babuška/Neumaier-style) sum: the running sum and its correction term.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct KahanSum {
    sum: f64,
    comp: f64,
}

impl KahanSum {
    /// Add one term: the rounding error of sum + x is recovered exactly by Knuth's branch-free
    /// TwoSum and accumulated separately.
    #[inline(always)]
    pub(crate) fn add(&mut self, x: f64) {
        let t = self.sum + x;
        let bp = t - self.sum;
        self.comp += (self.sum - (t - bp)) + (x - bp);
        self.sum = t;
    }

    /// The compensated total.
    #[inline(always)]
    pub(crate) fn value(self) -> f64 {
        self.sum + self.comp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pow2_is_exact_and_clamped() {
        assert_eq!(pow2(0), 1.0);
        assert_eq!(pow2(3), 8.0);
        assert_eq!(pow2(-2), 0.25);
        assert_eq!(pow2(1023), 2f64.powi(1023));
        assert_eq!(pow2(-1022), f64::MIN_POSITIVE);
        assert_eq!(pow2(5000), pow2(1023));
    }

    #[test]
    fn scale_only_when_needed() {
        assert_eq!(scale_for(1.0, 1000), 1.0);
        assert_eq!(scale_for(0.0, 10), 1.0);
        let sc = scale_for(1e300, 10);
        assert!(sc < 1.0 && (1e300 * sc) <= 4.0 && (1e300 * sc) >= 0.25);
        assert_eq!(sc, pow2(sc.log2() as i32));
        let sc = scale_for(f64::MAX, 1);
        assert!((f64::MAX * sc).is_finite() && f64::MAX * sc <= 4.0);
        let sc = scale_for(1e-300, 10);
        assert_eq!(sc, pow2(900));
        assert!(1e-300 * sc < 1.0);
    }

    #[test]
    fn kahan_beats_naive_on_cancellation() {
        let mut k = KahanSum::default();
        for x in [1e16, 1.0, -1e16, 1.0] {
            k.add(x);
        }
        assert_eq!(k.value(), 2.0);
    }

    #[test]
    fn clip_and_max_abs() {
        assert_eq!(clip(-1.0, 2.0), 0.0);
        assert_eq!(clip(3.0, 2.0), 2.0);
        assert_eq!(clip(1.5, 2.0), 1.5);
        assert_eq!(max_abs_finite(&[1.0, -3.0]).unwrap(), 3.0);
        assert!(matches!(max_abs_finite(&[1.0, f64::NAN]), Err(ProjError::NonFinite { index: 1, .. })));
    }
}
