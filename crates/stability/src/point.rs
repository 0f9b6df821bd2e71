//! [`Linearization`]: where the map T(λ) = Π_{S(ỹ)}(λ − η(Q̃λ − 1)) is linearised, its free set
//! and how far the point is from changing that set (strict complementarity).

use faer::{Col, ColRef};
use floral_svm::PgdMap;

use crate::StabilityError;

/// The active sets of T at a point λ (docs/method.md §8).
///
/// With z = λ − η(Q̃λ − 1) and the projection's multiplier μ, T(λ) = clip(z − μỹ, 0, C). Let
/// v_i = z_i − μỹ_i (the unclipped value). The **free set** is F = {i : 0 < T(λ)_i < C_i}; the
/// others sit at 0 (lower) or C_i (upper). While every v_i stays strictly inside or strictly
/// outside [0, C_i], the sets do not change and T is affine, so the derivative of T at λ is
/// determined by the free set of the image T(λ), not of λ itself; at a fixed point the two
/// coincide. The **margin** of point i is the distance from v_i to the nearer of 0 and C_i:
///
/// ```text
/// margin_i = min(T(λ)_i, C_i − T(λ)_i)   for i ∈ F,
/// margin_i = −v_i                         at the lower bound,
/// margin_i = v_i − C_i                    at the upper bound.
/// ```
///
/// At a fixed point the bound margins are η times the gradient slack: −v_i = η(g_i + νỹ_i) with
/// g = Q̃λ − 1 and ν = μ/η the multiplier of ỹᵀλ = 0 in the dual's KKT conditions, so strict
/// complementarity (every slack nonzero, no free λ_i on a bound) is min_i margin_i > 0.
#[derive(Debug, Clone)]
pub struct Linearization {
    /// T(λ).
    pub image: Col<f64>,
    /// The projection's multiplier μ (T(λ) = clip(z − μỹ, 0, C)).
    pub mu: f64,
    /// F = {i : 0 < T(λ)_i < C_i}, ascending.
    pub free: Vec<usize>,
    /// Points with T(λ)_i = 0.
    pub at_lower: usize,
    /// Points with T(λ)_i = C_i (and C_i > 0).
    pub at_upper: usize,
    /// min_i margin_i (+∞ for n = 0).
    pub min_margin: f64,
    /// The point attaining `min_margin`.
    pub min_margin_index: Option<usize>,
    /// ‖T(λ) − λ‖_∞: 0 at a fixed point.
    pub fixed_point_residual: f64,
    /// max(1, max_i C_i): the scale the tolerances are relative to.
    pub scale: f64,
}

impl Linearization {
    /// Evaluate T at `at` and classify every coordinate (one Q̃λ product and one projection).
    ///
    /// # Errors
    /// [`StabilityError::DimensionMismatch`] when `at` does not have length n,
    /// [`StabilityError::NonFinite`] for a NaN or infinite λ_i, and the map's errors.
    pub fn new(map: &PgdMap<'_>, at: ColRef<'_, f64>) -> Result<Self, StabilityError> {
        let n = map.n();
        if at.nrows() != n {
            return Err(StabilityError::DimensionMismatch {
                what: "point λ vs number of training points",
                expected: n,
                got: at.nrows(),
            });
        }
        if let Some(i) = (0..n).find(|&i| !at[i].is_finite()) {
            return Err(StabilityError::NonFinite { what: "point λ", index: i, value: at[i] });
        }
        let lambda: Vec<f64> = at.iter().copied().collect();
        let mut z = vec![0.0; n];
        let mut scratch = vec![0.0; n];
        map.signed_gram().matvec_with_scratch_into(at, &mut scratch, faer::ColMut::from_slice_mut(&mut z));
        map.gradient_step_in_place(&lambda, &mut z);
        Self::from_step(map, at, &z)
    }

    /// The active sets of Π_{S(ỹ)}(z) for a given pre-projection point `z` (the step of another
    /// solver: extragradient's λ − η(Q̃λ̂ − 1), optimistic gradient's λ − η(2g − g_prev)),
    /// classified as in [`Linearization::new`]; `fixed_point_residual` is ‖Π(z) − λ‖_∞ with λ =
    /// `at`.
    ///
    /// # Errors
    /// [`StabilityError::DimensionMismatch`] when `at` or `z` does not have length n,
    /// [`StabilityError::NonFinite`] for a NaN or infinite entry, and the projector's errors.
    pub fn from_step(map: &PgdMap<'_>, at: ColRef<'_, f64>, z: &[f64]) -> Result<Self, StabilityError> {
        let n = map.n();
        if at.nrows() != n || z.len() != n {
            return Err(StabilityError::DimensionMismatch {
                what: "point λ or step z vs number of training points",
                expected: n,
                got: if at.nrows() != n { at.nrows() } else { z.len() },
            });
        }
        if let Some(i) = (0..n).find(|&i| !at[i].is_finite()) {
            return Err(StabilityError::NonFinite { what: "point λ", index: i, value: at[i] });
        }
        if let Some(i) = (0..n).find(|&i| !z[i].is_finite()) {
            return Err(StabilityError::NonFinite { what: "step z", index: i, value: z[i] });
        }
        let lambda: Vec<f64> = at.iter().copied().collect();
        let mut image = Col::zeros(n);
        let info = map.project_into(z, image.as_mut())?;
        let mu = info.mu;
        let ys = map.signed_gram().labels().as_slice();
        let bounds = map.bounds();
        let mut free = Vec::new();
        let (mut at_lower, mut at_upper) = (0, 0);
        let mut min_margin = f64::INFINITY;
        let mut min_margin_index = None;
        let mut cmax = 0.0_f64;
        let mut residual = 0.0_f64;
        for i in 0..n {
            let c = bounds.upper(i);
            cmax = cmax.max(c);
            let t = image[i];
            if !t.is_finite() {
                return Err(StabilityError::NonFinite { what: "T(λ)", index: i, value: t });
            }
            residual = residual.max((t - lambda[i]).abs());
            let v = z[i] - mu * ys[i];
            let margin = if t > 0.0 && t < c {
                free.push(i);
                t.min(c - t)
            } else if t <= 0.0 {
                at_lower += 1;
                (-v).max(0.0)
            } else {
                at_upper += 1;
                (v - c).max(0.0)
            };
            if margin < min_margin {
                min_margin = margin;
                min_margin_index = Some(i);
            }
        }
        Ok(Self {
            image,
            mu,
            free,
            at_lower,
            at_upper,
            min_margin,
            min_margin_index,
            fixed_point_residual: residual,
            scale: cmax.max(1.0),
        })
    }

    /// Strict complementarity to tolerance `tol`: min_i margin_i > tol·scale.
    pub fn strictly_complementary(&self, tol: f64) -> bool {
        self.min_margin > tol * self.scale
    }
}
