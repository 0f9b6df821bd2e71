//! [`PgdMap`]: the learner's update as a pure map, T(λ) = Π_{S(ỹ)}(λ − η(Q̃λ − 1)), and
//! [`BoxBounds`], owned box bounds that a learner and its forks share.
//!
//! The FLORAL learner, simulating attackers and the stability analyzer all call the same map, so
//! the update's arithmetic exists once: z_i = λ_i − η((Q̃λ)_i − 1), then the projector.

use std::sync::Arc;

use faer::{Col, ColMut, ColRef};
use floral_projection::{Bounds, ProjInfo, Projector};

use crate::{SignedGram, SvmError};

/// Box bounds 0 ≤ λ_i ≤ C_i owned by a learner: one C for every point, or per-point C_i
/// (shared by reference counting, so a fork copies no O(n) data).
#[derive(Debug, Clone, PartialEq)]
pub enum BoxBounds {
    /// C_i = C for every i.
    Uniform(f64),
    /// C_i per point.
    PerPoint(Arc<[f64]>),
}

impl BoxBounds {
    /// The borrowed form the projectors and solvers take.
    pub fn as_bounds(&self) -> Bounds<'_> {
        match self {
            BoxBounds::Uniform(c) => Bounds::Uniform(*c),
            BoxBounds::PerPoint(cs) => Bounds::PerPoint(cs),
        }
    }

    /// C_i.
    ///
    /// # Panics
    /// For per-point bounds, if `i` is out of range.
    pub fn upper(&self, i: usize) -> f64 {
        self.as_bounds().upper(i)
    }
}

/// The projected-gradient map of the kernel-SVM dual on fixed labels ỹ (docs/method.md §4):
///
/// ```text
/// T(λ) = Π_{S(ỹ)}(λ − η(Q̃λ − 1)),   S(ỹ) = {λ : 0 ≤ λ_i ≤ C_i, ỹᵀλ = 0}.
/// ```
///
/// No hidden state: the map borrows Q̃ (a view over the shared Gram matrix and the labels), the
/// step η, the bounds and the projector. Every method is a function of its arguments.
#[derive(Debug, Clone, Copy)]
pub struct PgdMap<'a> {
    q: &'a SignedGram,
    eta: f64,
    bounds: Bounds<'a>,
    projector: &'a dyn Projector,
}

impl<'a> PgdMap<'a> {
    /// The map for labels and Gram matrix `q`, step `eta`, bounds and projector.
    ///
    /// # Errors
    /// [`SvmError::InvalidParam`] for η not finite and > 0; [`SvmError::Projection`] for bounds
    /// that are negative, not finite or of the wrong length.
    pub fn new(
        q: &'a SignedGram,
        eta: f64,
        bounds: Bounds<'a>,
        projector: &'a dyn Projector,
    ) -> Result<Self, SvmError> {
        if !(eta.is_finite() && eta > 0.0) {
            return Err(SvmError::InvalidParam { field: "eta", expected: "a finite number > 0", got: eta.to_string() });
        }
        bounds.validate(q.n())?;
        Ok(Self { q, eta, bounds, projector })
    }

    /// Q̃ (labels and Gram matrix).
    pub fn signed_gram(&self) -> &'a SignedGram {
        self.q
    }

    /// The step η.
    pub fn eta(&self) -> f64 {
        self.eta
    }

    /// The bounds C_i.
    pub fn bounds(&self) -> Bounds<'a> {
        self.bounds
    }

    /// The projector Π.
    pub fn projector(&self) -> &'a dyn Projector {
        self.projector
    }

    /// The number of dual variables n.
    pub fn n(&self) -> usize {
        self.q.n()
    }

    /// The gradient step before projection, in place: on entry `buf` = Q̃λ, on exit
    /// buf_i = z_i = λ_i − η((Q̃λ)_i − 1).
    ///
    /// # Panics
    /// If `lambda` and `buf` differ in length.
    pub fn gradient_step_in_place(&self, lambda: &[f64], buf: &mut [f64]) {
        assert_eq!(lambda.len(), buf.len(), "gradient_step_in_place: lengths");
        let eta = self.eta;
        for (z, &l) in buf.iter_mut().zip(lambda) {
            *z = l - eta * (*z - 1.0);
        }
    }

    /// The optimistic (OGDA) gradient step before projection, in place: on entry `buf` = Q̃λ,
    /// on exit buf_i = z_i = λ_i − η(2g_i − g_prev,i) with g = Q̃λ − 1 and `prev_gradient` =
    /// g_prev (the gradient of the previous step, possibly for other labels). With g_prev = g
    /// this is bit for bit the plain step (2a − a = a exactly in floating point).
    ///
    /// # Panics
    /// If `lambda`, `prev_gradient` and `buf` differ in length.
    pub fn optimistic_step_in_place(&self, lambda: &[f64], prev_gradient: &[f64], buf: &mut [f64]) {
        assert_eq!(lambda.len(), buf.len(), "optimistic_step_in_place: lengths");
        assert_eq!(prev_gradient.len(), buf.len(), "optimistic_step_in_place: lengths");
        let eta = self.eta;
        for ((z, &l), &gp) in buf.iter_mut().zip(lambda).zip(prev_gradient) {
            let g = *z - 1.0;
            *z = l - eta * (2.0 * g - gp);
        }
    }

    /// out = Π_{S(ỹ)}(z): the projection half of the map.
    ///
    /// # Errors
    /// [`SvmError::Projection`] from the projector (e.g. a non-finite z).
    pub fn project_into(&self, z: &[f64], out: ColMut<'_, f64>) -> Result<ProjInfo, SvmError> {
        Ok(self.projector.project_into(ColRef::from_slice(z), self.q.labels(), self.bounds, out)?)
    }

    /// out = T(λ) when Q̃λ is already known (O(n) plus one projection): `z` (length n) is
    /// scratch for z = λ − η(Q̃λ − 1).
    ///
    /// # Errors
    /// [`SvmError::Projection`] from the projector (e.g. a non-finite z).
    ///
    /// # Panics
    /// If a length differs from n.
    pub fn apply_with_q_lambda_into(
        &self,
        lambda: &[f64],
        q_lambda: ColRef<'_, f64>,
        z: &mut [f64],
        out: ColMut<'_, f64>,
    ) -> Result<ProjInfo, SvmError> {
        let n = self.n();
        assert_eq!(q_lambda.nrows(), n, "apply: q_lambda length");
        for (zi, i) in z.iter_mut().zip(0..n) {
            *zi = q_lambda[i];
        }
        self.gradient_step_in_place(lambda, z);
        Ok(self.projector.project_into(ColRef::from_slice(z), self.q.labels(), self.bounds, out)?)
    }

    /// out = T(λ): one Q̃λ product (O(n²)), the gradient step and the projection. `z` and
    /// `scratch` (length n each) are workspace.
    ///
    /// # Errors
    /// [`SvmError::Projection`] from the projector.
    ///
    /// # Panics
    /// If a length differs from n.
    pub fn apply_into(
        &self,
        lambda: &[f64],
        z: &mut [f64],
        scratch: &mut [f64],
        out: ColMut<'_, f64>,
    ) -> Result<ProjInfo, SvmError> {
        self.q.matvec_with_scratch_into(ColRef::from_slice(lambda), scratch, ColMut::from_slice_mut(z));
        self.gradient_step_in_place(lambda, z);
        Ok(self.projector.project_into(ColRef::from_slice(z), self.q.labels(), self.bounds, out)?)
    }

    /// T(λ), allocating (convenient for analyses; the game uses the `_into` forms).
    ///
    /// # Errors
    /// [`SvmError::Projection`] from the projector.
    ///
    /// # Panics
    /// If `lambda` does not have length n.
    pub fn apply(&self, lambda: ColRef<'_, f64>) -> Result<Col<f64>, SvmError> {
        let n = self.n();
        assert_eq!(lambda.nrows(), n, "apply: lambda length");
        let l: Vec<f64> = lambda.iter().copied().collect();
        let mut z = vec![0.0; n];
        let mut scratch = vec![0.0; n];
        let mut out = Col::zeros(n);
        self.apply_into(&l, &mut z, &mut scratch, out.as_mut())?;
        Ok(out)
    }
}

impl PgdMap<'_> {
    /// The extragradient map with the labels held fixed, allocating (for analyses; the
    /// extragradient learner performs the same arithmetic with its caches):
    ///
    /// ```text
    /// λ̂ = T(λ) = Π(λ − η(Q̃λ − 1)),   T_EG(λ) = Π(λ − η(Q̃λ̂ − 1)).
    /// ```
    ///
    /// Two Q̃-products and two projections.
    ///
    /// # Errors
    /// [`SvmError::Projection`] from the projector.
    ///
    /// # Panics
    /// If `lambda` does not have length n.
    pub fn extragradient(&self, lambda: ColRef<'_, f64>) -> Result<Col<f64>, SvmError> {
        let n = self.n();
        let hat = self.apply(lambda)?;
        let mut q_hat = Col::zeros(n);
        let mut scratch = vec![0.0; n];
        self.q.matvec_with_scratch_into(hat.as_ref(), &mut scratch, q_hat.as_mut());
        let l: Vec<f64> = lambda.iter().copied().collect();
        let mut z = vec![0.0; n];
        let mut out = Col::zeros(n);
        self.apply_with_q_lambda_into(&l, q_hat.as_ref(), &mut z, out.as_mut())?;
        Ok(out)
    }

    /// The optimistic (OGDA) map on the pair (λ, λ_prev) with the labels held fixed,
    /// allocating (for analyses; the optimistic learner performs the same arithmetic):
    ///
    /// ```text
    /// λ⁺ = Π(λ − η(2g(λ) − g(λ_prev))),   g(λ) = Q̃λ − 1.
    /// ```
    ///
    /// Returns λ⁺; the pair map is (λ, λ_prev) ↦ (λ⁺, λ). Two Q̃-products, one projection.
    ///
    /// # Errors
    /// [`SvmError::Projection`] from the projector.
    ///
    /// # Panics
    /// If `lambda` or `lambda_prev` does not have length n.
    pub fn optimistic(&self, lambda: ColRef<'_, f64>, lambda_prev: ColRef<'_, f64>) -> Result<Col<f64>, SvmError> {
        let n = self.n();
        assert_eq!(lambda.nrows(), n, "optimistic: lambda length");
        assert_eq!(lambda_prev.nrows(), n, "optimistic: lambda_prev length");
        let mut scratch = vec![0.0; n];
        let mut g_prev = vec![0.0; n];
        self.q.matvec_with_scratch_into(lambda_prev, &mut scratch, faer::ColMut::from_slice_mut(&mut g_prev));
        for g in &mut g_prev {
            *g -= 1.0;
        }
        let mut z = vec![0.0; n];
        self.q.matvec_with_scratch_into(lambda, &mut scratch, faer::ColMut::from_slice_mut(&mut z));
        let l: Vec<f64> = lambda.iter().copied().collect();
        self.optimistic_step_in_place(&l, &g_prev, &mut z);
        let mut out = Col::zeros(n);
        self.project_into(&z, out.as_mut())?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Gram, Smo, SmoParams};
    use faer::Mat;
    use floral_data::Labels;
    use floral_projection::ExactProjector;

    fn problem() -> SignedGram {
        let x = Mat::from_fn(12, 2, |i, j| ((i * 7 + j * 3) % 11) as f64 / 5.0 + if i < 6 { 0.0 } else { 1.5 });
        let g = Gram::new(&crate::Rbf::new(crate::RbfParams { gamma: 0.7 }).unwrap(), x.as_ref());
        let y = Labels::from_signs((0..12).map(|i| i >= 6));
        SignedGram::new(g, &y).unwrap()
    }

    #[test]
    fn the_svm_optimum_is_a_fixed_point() {
        let q = problem();
        let c = 2.0;
        let sol = Smo::new(SmoParams { eps: 1e-12, ..SmoParams::default() })
            .unwrap()
            .solve(&q, Bounds::Uniform(c), None)
            .unwrap();
        let p = ExactProjector::default();
        let map = PgdMap::new(&q, 0.3, Bounds::Uniform(c), &p).unwrap();
        let t = map.apply(sol.lambda.as_ref()).unwrap();
        let worst = (0..q.n()).map(|i| (t[i] - sol.lambda[i]).abs()).fold(0.0, f64::max);
        assert!(worst < 1e-8, "T(λ*) moved λ* by {worst}");
        // Away from the optimum, T moves the point.
        let zero = Col::zeros(q.n());
        let t0 = map.apply(zero.as_ref()).unwrap();
        assert!(t0.iter().any(|&v| v > 0.0));
    }

    #[test]
    fn known_and_fresh_products_give_the_same_bits() {
        let q = problem();
        let p = ExactProjector::default();
        let map = PgdMap::new(&q, 0.05, Bounds::Uniform(1.0), &p).unwrap();
        let lambda: Vec<f64> = (0..q.n()).map(|i| (i % 4) as f64 * 0.1).collect();
        let mut ql = Col::zeros(q.n());
        q.matvec_into(ColRef::from_slice(&lambda), ql.as_mut());
        let (mut z, mut s) = (vec![0.0; q.n()], vec![0.0; q.n()]);
        let mut a = Col::zeros(q.n());
        let mut b = Col::zeros(q.n());
        map.apply_into(&lambda, &mut z, &mut s, a.as_mut()).unwrap();
        map.apply_with_q_lambda_into(&lambda, ql.as_ref(), &mut z, b.as_mut()).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn solver_maps_share_the_fixed_points_of_t_and_reduce_to_it() {
        let q = problem();
        let c = 2.0;
        let sol = Smo::new(SmoParams { eps: 1e-12, ..SmoParams::default() })
            .unwrap()
            .solve(&q, Bounds::Uniform(c), None)
            .unwrap();
        let p = ExactProjector::default();
        let map = PgdMap::new(&q, 0.3, Bounds::Uniform(c), &p).unwrap();
        let eg = map.extragradient(sol.lambda.as_ref()).unwrap();
        let og = map.optimistic(sol.lambda.as_ref(), sol.lambda.as_ref()).unwrap();
        for v in [&eg, &og] {
            let worst = (0..q.n()).map(|i| (v[i] - sol.lambda[i]).abs()).fold(0.0, f64::max);
            assert!(worst < 1e-8, "moved the optimum by {worst}");
        }
        // Away from the optimum: OGDA with λ_prev = λ is T bit for bit; EG is not T.
        let lambda = Col::from_fn(q.n(), |i| (i % 3) as f64 * 0.2);
        let t = map.apply(lambda.as_ref()).unwrap();
        assert_eq!(map.optimistic(lambda.as_ref(), lambda.as_ref()).unwrap(), t);
        let eg = map.extragradient(lambda.as_ref()).unwrap();
        assert!((0..q.n()).any(|i| (eg[i] - t[i]).abs() > 1e-6));
    }

    #[test]
    fn bad_step_and_bounds_are_refused() {
        let q = problem();
        let p = ExactProjector::default();
        assert!(matches!(
            PgdMap::new(&q, 0.0, Bounds::Uniform(1.0), &p),
            Err(SvmError::InvalidParam { field: "eta", .. })
        ));
        assert!(matches!(PgdMap::new(&q, 0.1, Bounds::PerPoint(&[1.0]), &p), Err(SvmError::Projection(_))));
    }
}
