//! The extragradient learner: extrapolate with the current attack, let an attacker respond at
//! the extrapolated point, and update from the original point with the gradient there.
//!
//! ```text
//! λ̂   = Π_{S(ỹ^t)}(λ − η_t(Q̃^t λ − 1))           (extrapolation: one FLORAL step, T_t(λ))
//! ỹ̂   = the responder's labels at λ̂               (or ỹ^t when there is no responder)
//! λ⁺  = Π_{S(ỹ^t)}(λ − η_t(Q̂ λ̂ − 1)),  Q̂ = diag(ỹ̂) K diag(ỹ̂)
//! ```
//!
//! # Design: an inner responder, not a change to the game loop
//!
//! [`Learner::step`] sees only this round's labels ỹ^t, yet extragradient needs the attacker's
//! move at the extrapolated point λ̂. Two designs were possible: (1) widen the game (an
//! optional `Learner::extrapolate` and a second attacker call inside `floral_game::play`), or
//! (2) give the learner its own *responder*, an attacker built by an [`AttackerFactory`] and
//! shown a [`RoundView`] of λ̂. We chose (2):
//!
//! - `play` stays the one game loop, untouched, so every existing game and committed report is
//!   bit-identical by construction (nothing to regenerate, no new trait method that every
//!   learner and observer would have to reason about);
//! - the responder is an ordinary [`floral_game::Attacker`] behind the same factory the FLORAL
//!   defence already uses, so any in-game attacker can serve (typically a fresh instance of
//!   the game's own attacker);
//! - the cost of (2) is stated rather than hidden: the responder draws from the *learner's*
//!   random stream (the one `step` receives), not the attacker's, and it is built afresh by the
//!   factory for every extrapolation, so it carries no state between rounds. That also makes
//!   [`Learner::fork`] exact: a fork holds the same factory and steps identically.
//!
//! What the responder sees: round t, λ̂, the round's labels ỹ^t (its `q`), the clean labels
//! (those `q` held at [`Learner::reset`]: `play` resets on the clean labels), the budget given
//! to [`ExtragradientLearner::with_responder`], decision values and bias of λ̂, and as
//! `learner` a [`FloralLearner`] at λ̂ (so a look-ahead responder simulates FLORAL steps from
//! λ̂, not extragradient ones: an approximation). Rounds before `from_round` (e.g. the game's
//! unattacked rounds) extrapolate on ỹ^t without consulting it.
//!
//! The update projects onto S(ỹ^t), the round's labels that the game records and the model is
//! reported with (α = λ ∘ ỹ^t), so λ⁺ is feasible for the labels it is paired with and the
//! bias and Q̃λ cache refer to them; only the gradient comes from the response. Without a
//! responder (ỹ̂ = ỹ^t) this is the classical extragradient map of the learner's problem,
//! T_EG(λ) = T(λ) with T's gradient taken at T(λ) ([`floral_svm::PgdMap::extragradient`];
//! `floral_stability::ExtragradientJacobian`, `proofs/stability.md` (h)).
//!
//! Cost per round: FLORAL's Q̃λ (incremental across few flips), the products Q̃^tλ̂ and Q̃^tλ⁺,
//! and Q̂λ̂ when the response changes the labels; two projections.

use std::sync::Arc;

use faer::{Col, ColMut, ColRef};
use floral_data::{FloralRng, Labels};
use floral_game::{Budget, GameError, Learner, RoundView, StepInfo};
use floral_projection::{Bounds, Projector};
use floral_svm::{BoxBounds, SignedGram};

use crate::{AttackerFactory, DefenseError, FloralLearner, FloralParams};

/// Parameters of [`ExtragradientLearner`]. Fields left out of a RON file take their defaults.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExtragradientParams {
    /// C, η, schedule, initialisation, bias rule and support-vector threshold, as for FLORAL.
    /// Both half-steps of round t use η_t. Default: [`FloralParams::reference`].
    pub base: FloralParams,
}

/// The attacker that responds at the extrapolated point (see the module docs).
#[derive(Clone)]
struct Responder {
    factory: AttackerFactory,
    budget: Budget,
    from_round: usize,
}

/// The extragradient learner (see the module docs for the update and the design).
/// Cloning (and [`Learner::fork`]) copies O(n) state; the responder's factory is shared.
#[derive(Clone)]
pub struct ExtragradientLearner {
    base: FloralLearner,
    responder: Option<Responder>,
    /// The clean labels, from the labels `q` held at reset.
    clean: Option<Labels>,
    /// Q̂λ̂, the gradient point's product (scratch).
    q_hat: Col<f64>,
    /// Decision values of λ̂ for the responder's view (scratch).
    f_hat: Col<f64>,
    /// The labels ỹ̂ of the last step (the responder's, or ỹ^t).
    response: Option<Labels>,
}

impl std::fmt::Debug for ExtragradientLearner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExtragradientLearner")
            .field("params", self.base.params())
            .field("responder", &self.responder.as_ref().map(|r| (r.budget, r.from_round)))
            .finish_non_exhaustive()
    }
}

impl ExtragradientLearner {
    /// Validate the parameters as [`FloralLearner::new`] does. Without
    /// [`ExtragradientLearner::with_responder`] the extrapolated point is evaluated on the
    /// round's labels.
    ///
    /// # Errors
    /// [`DefenseError::InvalidParam`] naming the field.
    pub fn new(p: ExtragradientParams, projector: Arc<dyn Projector>) -> Result<Self, DefenseError> {
        Ok(Self {
            base: FloralLearner::new(p.base, projector)?,
            responder: None,
            clean: None,
            q_hat: Col::zeros(0),
            f_hat: Col::zeros(0),
            response: None,
        })
    }

    /// Let a fresh attacker from `factory` respond at the extrapolated point λ̂ in every round
    /// t ≥ `from_round` (≥ 1), with budget `budget` (normally the game's).
    ///
    /// # Errors
    /// [`DefenseError::InvalidParam`] naming `from_round` when it is 0.
    pub fn with_responder(
        mut self,
        factory: AttackerFactory,
        budget: Budget,
        from_round: usize,
    ) -> Result<Self, DefenseError> {
        if from_round == 0 {
            return Err(DefenseError::InvalidParam { field: "from_round", expected: ">= 1", got: "0".into() });
        }
        self.responder = Some(Responder { factory, budget, from_round });
        Ok(self)
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

    /// The labels ỹ̂ whose gradient the last step used (the responder's response, or the
    /// round's labels); None before the first step.
    pub fn last_response(&self) -> Option<&Labels> {
        self.response.as_ref()
    }

    fn err(e: impl Into<DefenseError>) -> GameError {
        GameError::player("extragradient", e.into())
    }
}

impl Learner for ExtragradientLearner {
    fn name(&self) -> &'static str {
        "extragradient"
    }

    fn reset(&mut self, q: &SignedGram) -> Result<(), GameError> {
        self.base.reset(q)?;
        self.clean = Some(q.labels().clone());
        self.q_hat = Col::zeros(q.n());
        self.f_hat = Col::zeros(q.n());
        self.response = None;
        Ok(())
    }

    /// λ̂ = T_t(λ), ỹ̂ = the response at λ̂ (or ỹ^t), λ⁺ = Π_{S(ỹ^t)}(λ − η_t(Q̂λ̂ − 1)).
    /// The reported projection iterations are those of both projections; the residual is the
    /// final one's.
    fn step(&mut self, round: usize, q: &SignedGram, rng: &mut FloralRng) -> Result<StepInfo, GameError> {
        let n = q.n();
        if self.q_hat.nrows() != n {
            return Err(Self::err(DefenseError::Input(format!("stepped on {n} points before a reset for them"))));
        }
        // Extrapolation: a FLORAL step on a copy, which also leaves Q̃^tλ̂ and b(λ̂) cached.
        let mut hat = self.base.clone();
        let inner = hat.step(round, q, rng)?;
        let responder = self.responder.as_ref().filter(|r| round >= r.from_round);
        let response = match (responder, self.clean.as_ref()) {
            (Some(r), Some(clean)) => {
                let mut attacker = (r.factory)()?;
                let view = RoundView::new(round, &hat, q, clean, r.budget, &mut self.f_hat);
                let flips = attacker.attack(&view, rng)?;
                if flips.len() > r.budget.k {
                    return Err(GameError::BudgetExceeded {
                        attacker: attacker.name(),
                        round,
                        got: flips.len(),
                        k: r.budget.k,
                    });
                }
                clean.apply(&flips).map_err(GameError::from)?
            }
            _ => q.labels().clone(),
        };
        let hat_lambda = hat.lambda();
        match hat.q_lambda() {
            Some(ql) if response.as_slice() == q.labels().as_slice() => self.q_hat.copy_from(ql),
            _ => {
                let mut q_resp = q.clone();
                q_resp.set_labels(&response).map_err(Self::err)?;
                q_resp.matvec_into(hat_lambda, self.q_hat.as_mut());
            }
        }
        let q_hat = &self.q_hat;
        // λ⁺ = Π_{S(ỹ^t)}(λ − η_t(Q̂λ̂ − 1)): the map with the gradient's product taken at λ̂.
        let mut info = self.base.update_with(round, q, "extragradient", |map, lambda, z, next: ColMut<'_, f64>| {
            map.apply_with_q_lambda_into(lambda, q_hat.as_ref(), z, next)
        })?;
        info.projection_iterations += inner.projection_iterations;
        self.response = Some(response);
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
