//! The optimistic-gradient learner (OGDA): the projected gradient step with the previous
//! round's gradient as a prediction of the next one.
//!
//! ```text
//! λ^t = Π_{S(ỹ^t)}(λ^{t−1} − η_t(2g_t − g_{t−1})),   g_t = Q̃^t λ^{t−1} − 1,
//! ```
//!
//! where g_{t−1} = Q̃^{t−1} λ^{t−2} − 1 is the gradient the previous round computed (with the
//! previous round's labels), kept in the learner's state and copied by [`Learner::fork`]. The
//! first round after [`Learner::reset`] has no previous gradient and is a plain projected
//! gradient step, λ^1 = T(λ^0). Everything else (step schedule, initialisation, bias rule,
//! support-vector threshold, per-point bounds, the Q̃λ cache) is [`FloralLearner`]'s: the
//! learner wraps one and routes its update through the same [`floral_svm::PgdMap`]
//! ([`floral_svm::PgdMap::optimistic_step_in_place`], then the map's projection).
//!
//! With the labels held fixed the iteration is a map on the pair (λ^{t−1}, λ^{t−2});
//! `floral_stability::OptimisticJacobian` linearises it (`proofs/stability.md` (i)).

use std::sync::Arc;

use faer::ColRef;
use floral_data::FloralRng;
use floral_game::{GameError, Learner, StepInfo};
use floral_projection::{Bounds, Projector};
use floral_svm::{BoxBounds, SignedGram};

use crate::{DefenseError, FloralLearner, FloralParams};

/// Parameters of [`OptimisticLearner`]. Fields left out of a RON file take their defaults.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OptimisticParams {
    /// C, η, schedule, initialisation, bias rule and support-vector threshold, as for FLORAL.
    /// Default: [`FloralParams::reference`].
    pub base: FloralParams,
}

/// The optimistic-gradient learner: λ⁺ = Π(λ − η(2g_t − g_{t−1})) (see the module docs).
/// Cloning (and [`Learner::fork`]) copies O(n) state: λ, the caches and g_{t−1}.
#[derive(Debug, Clone)]
pub struct OptimisticLearner {
    base: FloralLearner,
    /// g_{t−1}, valid when `has_prev`.
    prev_gradient: Vec<f64>,
    /// Scratch for g_t while the update runs.
    gradient: Vec<f64>,
    has_prev: bool,
}

impl OptimisticLearner {
    /// Validate the parameters as [`FloralLearner::new`] does.
    ///
    /// # Errors
    /// [`DefenseError::InvalidParam`] naming the field.
    pub fn new(p: OptimisticParams, projector: Arc<dyn Projector>) -> Result<Self, DefenseError> {
        Ok(Self {
            base: FloralLearner::new(p.base, projector)?,
            prev_gradient: Vec::new(),
            gradient: Vec::new(),
            has_prev: false,
        })
    }

    /// Per-point bounds 0 ≤ λ_i ≤ C_i, as [`FloralLearner::with_bounds`].
    ///
    /// # Errors
    /// [`DefenseError::InvalidParam`] for a bound that is negative or not finite.
    pub fn with_bounds(mut self, bounds: BoxBounds) -> Result<Self, DefenseError> {
        self.base = self.base.with_bounds(bounds)?;
        Ok(self)
    }

    /// The parameters shared with FLORAL.
    pub fn params(&self) -> &FloralParams {
        self.base.params()
    }

    /// g_{t−1} = Q̃^{t−1}λ^{t−2} − 1, the gradient of the last step (None before the first).
    pub fn previous_gradient(&self) -> Option<ColRef<'_, f64>> {
        self.has_prev.then(|| ColRef::from_slice(&self.prev_gradient))
    }
}

impl Learner for OptimisticLearner {
    fn name(&self) -> &'static str {
        "optimistic"
    }

    fn reset(&mut self, q: &SignedGram) -> Result<(), GameError> {
        self.base.reset(q)?;
        self.prev_gradient = vec![0.0; q.n()];
        self.gradient = vec![0.0; q.n()];
        self.has_prev = false;
        Ok(())
    }

    /// λ⁺ = Π(λ − η_t(2g_t − g_{t−1})) with g_t = Q̃λ − 1 for the labels of `q`; the first step
    /// after a reset is λ⁺ = Π(λ − η_t g_t).
    fn step(&mut self, round: usize, q: &SignedGram, _rng: &mut FloralRng) -> Result<StepInfo, GameError> {
        if self.gradient.len() != q.n() {
            return Err(GameError::player(
                "optimistic",
                DefenseError::Input(format!("stepped on {} points before a reset for them", q.n())),
            ));
        }
        // z ← Q̃λ (incrementally across few flips, as FLORAL).
        self.base.q_lambda_into_z(q);
        let has_prev = self.has_prev;
        let (gradient, prev) = (&mut self.gradient, &self.prev_gradient);
        let info = self.base.update_with(round, q, "optimistic", |map, lambda, z, next| {
            for (g, &ql) in gradient.iter_mut().zip(z.iter()) {
                *g = ql - 1.0;
            }
            if has_prev {
                map.optimistic_step_in_place(lambda, prev, z);
            } else {
                map.gradient_step_in_place(lambda, z);
            }
            map.project_into(z, next)
        })?;
        std::mem::swap(&mut self.gradient, &mut self.prev_gradient);
        self.has_prev = true;
        Ok(info)
    }

    fn lambda(&self) -> ColRef<'_, f64> {
        self.base.lambda()
    }

    fn bias(&self, q: &SignedGram) -> f64 {
        self.base.bias(q)
    }

    fn q_lambda(&self) -> Option<ColRef<'_, f64>> {
        self.base.q_lambda()
    }

    fn eta(&self, round: usize) -> Option<f64> {
        self.base.eta(round)
    }

    fn bounds(&self) -> Option<Bounds<'_>> {
        self.base.bounds()
    }

    fn fork(&self) -> Box<dyn Learner> {
        Box::new(self.clone())
    }
}
