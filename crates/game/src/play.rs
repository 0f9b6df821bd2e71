//! The one game loop.

use faer::Col;
use floral_data::{FlipSet, Labels, Streams};
use floral_svm::SignedGram;

use crate::{Attacker, Budget, Control, GameError, Learner, Observer, RoundRecord, RoundView};

/// Parameters of one game.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GameParams {
    /// Number of learner steps T (≥ 1).
    pub rounds: usize,
    /// The attacker's per-round budget.
    pub budget: Budget,
    /// Number of initial rounds played on the clean labels without consulting the attacker.
    /// The authors' code has one (its round 0 is a warm-up, so its first step sees clean labels).
    pub unattacked_rounds: usize,
    /// Stop with `Converged` once ‖λ^t − λ^{t−1}‖₂ ≤ tol (None: never).
    pub tol: Option<f64>,
    /// Stop with `Diverged` once max_i |λ_i| exceeds this (a learner without a box, or a
    /// broken one). Default 1e12; `f64::INFINITY` disables the check.
    #[serde(default = "default_diverge_above")]
    pub diverge_above: f64,
}

/// The default of [`GameParams::diverge_above`]: far beyond any box C a spec can ask for, so
/// only a learner without a box (or a broken one) reaches it.
pub const DIVERGE_ABOVE: f64 = 1e12;

fn default_diverge_above() -> f64 {
    DIVERGE_ABOVE
}

impl Default for GameParams {
    fn default() -> Self {
        Self::new(200, 5, 0)
    }
}

impl GameParams {
    /// A game of `rounds` rounds, `k` flips a round after `unattacked_rounds` clean rounds, no
    /// convergence tolerance, and the default divergence bound [`DIVERGE_ABOVE`]: the one place
    /// the game's defaults are written.
    pub fn new(rounds: usize, k: usize, unattacked_rounds: usize) -> Self {
        Self { rounds, budget: Budget { k }, unattacked_rounds, tol: None, diverge_above: DIVERGE_ABOVE }
    }

    /// The same game, stopping once the step norm is at most `tol` (None: never).
    #[must_use]
    pub fn with_tol(self, tol: Option<f64>) -> Self {
        Self { tol, ..self }
    }

    /// The same game with divergence checked at `bound` (`f64::INFINITY`: never).
    #[must_use]
    pub fn with_diverge_above(self, bound: f64) -> Self {
        Self { diverge_above: bound, ..self }
    }
}

/// How a game ended. Termination is data, not an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Termination {
    /// All rounds were played.
    RoundsDone,
    /// The step norm fell below the tolerance.
    Converged,
    /// An observer asked to stop.
    StoppedByObserver,
    /// max_i |λ_i| exceeded `GameParams::diverge_above` (λ still finite; a NaN is an error).
    Diverged,
}

/// The result of a game.
#[derive(Debug, Clone)]
pub struct GameOutcome {
    /// How the game ended.
    pub status: Termination,
    /// Rounds actually played.
    pub rounds_played: usize,
    /// The flips of the last round.
    pub final_flips: FlipSet,
    /// The labels ỹ^T of the last step.
    pub final_labels: Labels,
    /// λ^T.
    pub lambda: Col<f64>,
    /// b^T.
    pub bias: f64,
    /// Attacked rounds in which the attacker flipped fewer than k labels (e.g. fewer than k
    /// support vectors to choose from). Reported, never silently accepted.
    pub under_budget_rounds: usize,
}

/// Play the game: for t = 1..=T,
///   ỹ^t = y with the attacker's flips (from λ^{t−1}; none in the unattacked rounds),
///   λ^t = learner step on Q̃(ỹ^t) (FLORAL: λ^t = Π_{S(ỹ^t)}(λ^{t−1} − η_t(Q̃^t λ^{t−1} − 1))),
/// then notify the observers (docs/method.md §4, Algorithm 1).
///
/// `q` must hold the Gram matrix of the training points; its labels are reset to `clean` and
/// updated in O(1) per changed label each round. The attacker's [`RoundView`] carries the
/// model's decision values, bias, next step size, bounds and a fork handle on the learner;
/// attacked rounds with fewer than k flips are counted in
/// [`GameOutcome::under_budget_rounds`].
///
/// # Errors
/// A budget violation (naming the attacker), a non-finite λ or bias (naming the round), or any
/// player's or observer's error.
pub fn play(
    params: &GameParams,
    q: &mut SignedGram,
    clean: &Labels,
    attacker: &mut dyn Attacker,
    learner: &mut dyn Learner,
    rngs: &mut Streams,
    obs: &mut dyn Observer,
) -> Result<GameOutcome, GameError> {
    if params.rounds == 0 {
        return Err(GameError::InvalidParam { field: "rounds", expected: ">= 1", got: "0".into() });
    }
    let n = clean.len();
    q.set_labels(clean)?;
    learner.reset(q)?;
    let mut flips = FlipSet::empty(n);
    let mut status = Termination::RoundsDone;
    let mut played = 0;
    let mut under_budget = 0;
    let mut f_train = Col::<f64>::zeros(n);
    for round in 1..=params.rounds {
        let new_flips = if round <= params.unattacked_rounds {
            FlipSet::empty(n)
        } else {
            let view = RoundView::new(round, &*learner, q, clean, params.budget, &mut f_train);
            let chosen = attacker.attack(&view, &mut rngs.attacker)?;
            if chosen.len() < params.budget.k {
                under_budget += 1;
            }
            chosen
        };
        if new_flips.len() > params.budget.k {
            return Err(GameError::BudgetExceeded {
                attacker: attacker.name(),
                round,
                got: new_flips.len(),
                k: params.budget.k,
            });
        }
        if new_flips.n() != n {
            return Err(GameError::Player {
                name: attacker.name(),
                source: format!("round {round}: flip set built for {} labels, the training set has {n}", new_flips.n())
                    .into(),
            });
        }
        for &i in flips.symmetric_difference(&new_flips)?.indices() {
            q.flip(i);
        }
        flips = new_flips;
        let step = learner.step(round, q, &mut rngs.learner)?;
        let lambda = learner.lambda();
        if lambda.iter().any(|v| !v.is_finite()) {
            return Err(GameError::NonFinite { round, quantity: "lambda" });
        }
        let diverged = lambda.iter().any(|v| v.abs() > params.diverge_above);
        let bias = learner.bias(q);
        if !bias.is_finite() {
            return Err(GameError::NonFinite { round, quantity: "bias" });
        }
        played = round;
        let rec = RoundRecord {
            round,
            flips: &flips,
            labels: q.labels(),
            q,
            lambda,
            bias,
            step,
            q_lambda: learner.q_lambda(),
        };
        let control = obs.on_round(&rec)?;
        if diverged {
            status = Termination::Diverged;
            break;
        }
        if control == Control::Stop {
            status = Termination::StoppedByObserver;
            break;
        }
        if let Some(tol) = params.tol {
            if step.step_norm <= tol {
                status = Termination::Converged;
                break;
            }
        }
    }
    let out = GameOutcome {
        status,
        rounds_played: played,
        final_flips: flips,
        final_labels: q.labels().clone(),
        lambda: learner.lambda().to_owned(),
        bias: learner.bias(q),
        under_budget_rounds: under_budget,
    };
    obs.on_finish(&out)?;
    Ok(out)
}
