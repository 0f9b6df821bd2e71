//! [`FixedPointProjector`]: Algorithm 2 of the FLORAL paper (docs/method.md §5), the fixed-point
//! iteration on the multiplier μ of yᵀλ = 0.

use faer::{ColMut, ColRef};
use floral_data::Labels;
use serde::{Deserialize, Serialize};

use crate::common::{KahanSum, check_dims, clip, max_abs_finite, scale_for, with_slices};
use crate::lanes::{Per, Uni, Upper};
use crate::{Bounds, ProjError, ProjInfo, Projector};

/// Parameters of [`FixedPointProjector`]. Defaults are the reference code's.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FixedPointParams {
    /// Stop when |μ_{k+1} − μ_k| ≤ tol. Default 1e-21 (the reference value; in practice the
    /// iteration then stops when the update rounds to zero). Must be finite and ≥ 0.
    pub tol: f64,
    /// At most this many updates. Default 1000 (the reference value). Must be ≥ 1.
    pub max_iter: usize,
    /// Finish exactly once the active set has settled: when two consecutive iterates have the
    /// same sets I_C, I_x (and |I_x| > 0), jump to the root of φ on that linear piece,
    /// μ ← μ + φ(μ)/|I_x|, and keep it if the active set at the new μ is unchanged (one extra
    /// O(n) pass; the active sets are kept in an n-byte buffer allocated per call). Default false
    /// (the reference behaviour). It cannot help when the iteration cycles (the active set then
    /// never settles; proofs/projection.md claim (c5)).
    pub finish_exact: bool,
}

impl Default for FixedPointParams {
    fn default() -> Self {
        Self { tol: 1e-21, max_iter: 1000, finish_exact: false }
    }
}

/// Algorithm 2 (docs/method.md §5): μ_0 = 0; repeat
/// I_C = {i : z_i − μy_i ≥ C_i}, I_x = {i : 0 < z_i − μy_i < C_i}, ρ = max(2|I_x|, 1),
/// μ ← ((ρ − |I_x|)/ρ) μ + (1/ρ)(Σ_{I_C} y_i C_i + Σ_{I_x} z_i y_i)
/// until |Δμ| ≤ tol or max_iter updates; output clip(z − μy, 0, C).
///
/// The update equals μ ← μ + φ(μ)/max(2|I_x|, 1), a half-damped Newton step on
/// φ(μ) = Σ_i y_i clip(z_i − μ y_i, 0, C_i) (proofs/projection.md claim (c)). It does not
/// enforce yᵀλ = 0: [`ProjInfo::residual`] reports |yᵀλ| of the output, which equals the ℓ1
/// distance to the exact projection (claim (d)). It need not converge: on an open set of
/// inputs it cycles (claim (c), counterexample), and then stops at `max_iter` with a large
/// residual.
///
/// A problem whose magnitudes could overflow is rescaled by an exact power of two first (the
/// iterates scale with it; tol is scaled too).
#[derive(Debug, Clone, Default)]
pub struct FixedPointProjector {
    params: FixedPointParams,
}

impl FixedPointProjector {
    /// A projector with validated parameters.
    ///
    /// # Errors
    /// [`ProjError::InvalidParam`] for `tol` NaN, infinite or negative, or `max_iter` = 0.
    pub fn new(params: FixedPointParams) -> Result<Self, ProjError> {
        if !(params.tol.is_finite() && params.tol >= 0.0) {
            return Err(ProjError::InvalidParam {
                field: "tol",
                expected: "a finite number >= 0",
                got: params.tol.to_string(),
            });
        }
        if params.max_iter == 0 {
            return Err(ProjError::InvalidParam {
                field: "max_iter",
                expected: ">= 1",
                got: params.max_iter.to_string(),
            });
        }
        Ok(Self { params })
    }

    /// The parameters.
    pub fn params(&self) -> FixedPointParams {
        self.params
    }
}

impl Projector for FixedPointProjector {
    fn name(&self) -> &'static str {
        if self.params.finish_exact { "fixed_point_exact_finish" } else { "fixed_point" }
    }

    fn project_into(
        &self,
        z: ColRef<'_, f64>,
        y: &Labels,
        c: Bounds<'_>,
        out: ColMut<'_, f64>,
    ) -> Result<ProjInfo, ProjError> {
        let n = z.nrows();
        check_dims(n, y, c, out.nrows())?;
        let (mut zbuf, mut obuf) = (Vec::new(), Vec::new());
        with_slices(z, out, &mut zbuf, &mut obuf, |zs, os| {
            let zmax = max_abs_finite(zs)?;
            let sc = scale_for(zmax.max(c.max()), n);
            let ys = y.as_slice();
            Ok(match c {
                Bounds::Uniform(cu) => Iter { z: zs, y: ys, b: Uni(cu), sc }.run(&self.params, os),
                Bounds::PerPoint(cs) => Iter { z: zs, y: ys, b: Per(cs), sc }.run(&self.params, os),
            })
        })
    }
}

/// Active-set membership of one coordinate at a given μ.
const AT_ZERO: u8 = 0;
const FREE: u8 = 1;
const AT_UPPER: u8 = 2;

struct Iter<'a, B: Upper> {
    z: &'a [f64],
    y: &'a [f64],
    b: B,
    sc: f64,
}

/// The sums one pass of Algorithm 2 needs at a given μ.
struct Pass {
    /// |I_x|.
    n_x: usize,
    /// Σ_{I_C} y_i C_i + Σ_{I_x} z_i y_i.
    sum: f64,
    /// φ(μ) = Σ_{I_C} y_i C_i + Σ_{I_x} y_i (z_i − μ y_i), compensated.
    phi: f64,
    /// Coordinates whose membership differs from the stored state.
    changed: usize,
}

impl<B: Upper> Iter<'_, B> {
    /// One pass at μ (scaled units), without branches on the data. With `TRACK`, also φ(μ)
    /// (compensated) and, given `state`, the memberships: changes against the stored state are
    /// counted, and stored when `record`.
    fn pass<const TRACK: bool>(&self, mu: f64, state: Option<&mut [u8]>, record: bool) -> Pass {
        let mut n_x = 0usize;
        let mut sum_c = 0.0;
        let mut sum_x = 0.0;
        let mut phi = KahanSum::default();
        let mut changed = 0usize;
        let mut state = state;
        for i in 0..self.z.len() {
            let (zi, yi) = (self.z[i] * self.sc, self.y[i]);
            let ci = self.b.at(i) * self.sc;
            let v = zi - mu * yi;
            let upper = v >= ci; // I_C
            let free = (v > 0.0) & !upper; // I_x
            let (uf, ff) = (f64::from(u8::from(upper)), f64::from(u8::from(free)));
            n_x += usize::from(free);
            sum_c += uf * (yi * ci);
            sum_x += ff * (zi * yi);
            if TRACK {
                phi.add(uf * (yi * ci) + ff * (yi * v));
                if let Some(st) = state.as_deref_mut() {
                    let s = AT_ZERO + u8::from(upper) * AT_UPPER + u8::from(free) * FREE;
                    changed += usize::from(st[i] != s);
                    if record {
                        st[i] = s;
                    }
                }
            }
        }
        Pass { n_x, sum: sum_c + sum_x, phi: phi.value(), changed }
    }

    fn run(&self, p: &FixedPointParams, out: &mut [f64]) -> ProjInfo {
        let n = self.z.len();
        let tol = p.tol * self.sc;
        let mut state = if p.finish_exact { vec![u8::MAX; n] } else { Vec::new() };
        let mut mu = 0.0_f64;
        let mut iterations = 0usize;
        while iterations < p.max_iter {
            let ps = if p.finish_exact {
                self.pass::<true>(mu, Some(state.as_mut_slice()), true)
            } else {
                self.pass::<false>(mu, None, false)
            };
            let rho = (2 * ps.n_x).max(1) as f64;
            let mu_new = ((rho - ps.n_x as f64) / rho) * mu + (1.0 / rho) * ps.sum;
            iterations += 1;
            if p.finish_exact && iterations >= 2 && ps.changed == 0 && ps.n_x > 0 {
                let mu_hat = mu + ps.phi / ps.n_x as f64;
                if mu_hat.is_finite() && self.pass::<true>(mu_hat, Some(state.as_mut_slice()), false).changed == 0 {
                    mu = mu_hat;
                    break;
                }
            }
            if !mu_new.is_finite() {
                break; // cannot happen for finite inputs; keep the last finite iterate
            }
            let step = (mu_new - mu).abs();
            mu = mu_new;
            if step <= tol {
                break;
            }
        }
        // Residual summed in scaled units (no overflow for huge outputs), then unscaled.
        let inv = 1.0 / self.sc;
        let mut r = KahanSum::default();
        for (i, o) in out.iter_mut().enumerate() {
            let (zi, yi) = (self.z[i] * self.sc, self.y[i]);
            let l = clip(zi - mu * yi, self.b.at(i) * self.sc);
            *o = l * inv;
            r.add(yi * l);
        }
        ProjInfo { mu: mu * inv, iterations, residual: r.value().abs() * inv }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_are_validated() {
        assert!(FixedPointProjector::new(FixedPointParams::default()).is_ok());
        let e = FixedPointProjector::new(FixedPointParams { tol: f64::NAN, ..Default::default() });
        assert!(matches!(e, Err(ProjError::InvalidParam { field: "tol", .. })));
        let e = FixedPointProjector::new(FixedPointParams { tol: -1.0, ..Default::default() });
        assert!(matches!(e, Err(ProjError::InvalidParam { field: "tol", .. })));
        let e = FixedPointProjector::new(FixedPointParams { max_iter: 0, ..Default::default() });
        assert!(matches!(e, Err(ProjError::InvalidParam { field: "max_iter", .. })));
    }

    #[test]
    fn pass_counts_sets_and_phi() {
        let it = Iter { z: &[2.0, 0.5, -1.0], y: &[1.0, 1.0, -1.0], b: Uni(1.0), sc: 1.0 };
        let p = it.pass::<true>(0.0, None, false);
        // z − 0·y = (2, 0.5, −1): I_C = {0}, I_x = {1}, I_0 = {2}.
        assert_eq!(p.n_x, 1);
        assert_eq!(p.sum, 1.0 + 0.5);
        assert_eq!(p.phi, 1.0 + 0.5);
        let mut st = vec![u8::MAX; 3];
        assert_eq!(it.pass::<true>(0.0, Some(&mut st), true).changed, 3);
        assert_eq!(st, vec![AT_UPPER, FREE, AT_ZERO]);
        assert_eq!(it.pass::<true>(0.0, Some(&mut st), false).changed, 0);
        let q = it.pass::<false>(0.0, None, false);
        assert_eq!((q.n_x, q.sum), (p.n_x, p.sum));
    }
}
