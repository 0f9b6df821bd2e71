//! The contract every projector satisfies: [`Bounds`], [`ProjInfo`] and [`Projector`].

use faer::{ColMut, ColRef};
use floral_data::Labels;

use crate::ProjError;

/// Box bounds of the feasible set S = {0 ≤ λ_i ≤ C_i, yᵀλ = 0}: one C for all points, or a C_i
/// per point (e.g. K-LID's weighted box C_i = C·w_i, docs/method.md §7).
///
/// Every bound must be finite and ≥ 0 ([`Bounds::validate`]); C = 0 is allowed (the feasible set
/// is then {0}).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bounds<'a> {
    /// The same bound C for every point.
    Uniform(f64),
    /// Bound C_i for point i; the slice must have one entry per point.
    PerPoint(&'a [f64]),
}

impl Bounds<'_> {
    /// The upper bound C_i of point i.
    ///
    /// # Panics
    /// For [`Bounds::PerPoint`], if `i` is out of range of the slice.
    #[inline]
    pub fn upper(&self, i: usize) -> f64 {
        match self {
            Bounds::Uniform(c) => *c,
            Bounds::PerPoint(cs) => cs[i],
        }
    }

    /// Check the bounds for a problem with `n` points: every C_i finite and ≥ 0, and a per-point
    /// slice of length `n`.
    ///
    /// # Errors
    /// [`ProjError::DimensionMismatch`] for a per-point slice of the wrong length,
    /// [`ProjError::InvalidBound`] naming the first bound that is negative, NaN or infinite.
    pub fn validate(&self, n: usize) -> Result<(), ProjError> {
        let ok = |c: f64| c.is_finite() && c >= 0.0;
        match self {
            Bounds::Uniform(c) => {
                if ok(*c) {
                    Ok(())
                } else {
                    Err(ProjError::InvalidBound { index: None, value: *c })
                }
            }
            Bounds::PerPoint(cs) => {
                if cs.len() != n {
                    return Err(ProjError::DimensionMismatch {
                        what: "per-point bounds vs z",
                        expected: n,
                        got: cs.len(),
                    });
                }
                match cs.iter().position(|&c| !ok(c)) {
                    Some(i) => Err(ProjError::InvalidBound { index: Some(i), value: cs[i] }),
                    None => Ok(()),
                }
            }
        }
    }

    /// The largest bound max_i C_i (0 for an empty per-point slice).
    pub fn max(&self) -> f64 {
        match self {
            Bounds::Uniform(c) => *c,
            Bounds::PerPoint(cs) => cs.iter().copied().fold(0.0, f64::max),
        }
    }
}

impl From<f64> for Bounds<'_> {
    fn from(c: f64) -> Self {
        Bounds::Uniform(c)
    }
}

impl<'a> From<&'a [f64]> for Bounds<'a> {
    fn from(cs: &'a [f64]) -> Self {
        Bounds::PerPoint(cs)
    }
}

/// What a projection did: the multiplier μ of the output λ = clip(z − μy, 0, C), the number of
/// iterations spent, and the residual |yᵀλ| of the output actually written (0 up to rounding for
/// an exact projector; for an iterative one it equals the ℓ1 distance ‖λ − Π(z)‖₁ to the exact
/// projection, see `proofs/projection.md` claim (d)).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProjInfo {
    /// The multiplier μ of the equality constraint yᵀλ = 0 (the output is clip(z − μy, 0, C)).
    pub mu: f64,
    /// Iterations: pivot/bisection steps of an exact method, fixed-point updates of Algorithm 2.
    pub iterations: usize,
    /// |yᵀλ| of the output λ, computed with compensated summation.
    pub residual: f64,
}

/// Euclidean projection onto S(y) = {λ : 0 ≤ λ_i ≤ C_i, yᵀλ = 0} (docs/method.md §5).
///
/// Implementations: [`crate::ExactProjector`] (breakpoint selection or sort, exact to rounding)
/// and [`crate::FixedPointProjector`] (Algorithm 2 of the paper).
pub trait Projector: Send + Sync + std::fmt::Debug {
    /// A short stable name (`"exact"`, `"fixed_point"`) for reports and bench ids.
    fn name(&self) -> &'static str;

    /// out = argmin_{0 ≤ λ ≤ C, yᵀλ = 0} ‖λ − z‖², written as out = clip(z − μy, 0, C).
    ///
    /// # Errors
    /// [`ProjError::DimensionMismatch`] when `y`, `out` or per-point bounds do not have the
    /// length of `z`; [`ProjError::NonFinite`] for a NaN or infinite entry of `z`;
    /// [`ProjError::InvalidBound`] for a negative, NaN or infinite bound. On error `out` is left
    /// untouched.
    fn project_into(
        &self,
        z: ColRef<'_, f64>,
        y: &Labels,
        c: Bounds<'_>,
        out: ColMut<'_, f64>,
    ) -> Result<ProjInfo, ProjError>;
}
