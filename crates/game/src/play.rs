//! The one game loop ([`drive`]) and the binary game it plays ([`play`]); the multi-class game
//! ([`crate::play_multiclass`]) is played by the same loop.

use faer::Col;
use floral_data::{FlipSet, FloralRng, Labels, Streams};
use floral_svm::SignedGram;

use crate::{
    Attacker, BinaryGame, Budget, Control, GameError, GameKind, Learner, Observer, RoundRecord, RoundView, StepInfo,
};

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

    /// Check what the loop needs: at least one round.
    ///
    /// # Errors
    /// [`GameError::InvalidParam`] naming `rounds`.
    pub fn check(&self) -> Result<(), GameError> {
        if self.rounds == 0 {
            return Err(GameError::InvalidParam { field: "rounds", expected: ">= 1", got: "0".into() });
        }
        Ok(())
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

/// What a round's learner move left behind, for the loop's termination checks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Moved {
    /// ‖λ^t − λ^{t−1}‖₂ over every learner's λ.
    pub step_norm: f64,
    /// max_i |λ_i| over every learner's λ (finite: the game checked it).
    pub max_abs_lambda: f64,
}

/// How the loop ended, before the game assembles its outcome.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ended {
    pub status: Termination,
    pub rounds_played: usize,
    pub under_budget_rounds: usize,
}

/// The per-round work of one kind of game; [`drive`] is the loop around it.
pub(crate) trait Rounds<G: GameKind> {
    /// Before `round`: the attacker's move from the current state (none when `attacked` is
    /// false), checked against the budget and applied to the labels. Returns how many labels
    /// the attacker changed relative to the clean ones.
    fn attack(&mut self, round: usize, attacked: bool, rng: &mut FloralRng) -> Result<usize, GameError>;
    /// The learner step(s) of `round` on its labels, checked finite (a NaN or infinity is an
    /// error naming the round).
    fn step(&mut self, round: usize, rng: &mut FloralRng) -> Result<Moved, GameError>;
    /// Lend the round's record to `obs`.
    fn notify(&self, round: usize, obs: &mut dyn Observer<G>) -> Result<Control, GameError>;
}

/// The one game loop, for every kind of game: for t = 1..=T, the attacker moves (from round
/// `unattacked_rounds + 1` on), the learners step, the observers see the round; the loop stops
/// early when max |λ| exceeds `diverge_above` (`Diverged`), when an observer asks
/// (`StoppedByObserver`), or when the step norm is at most `tol` (`Converged`), in that order
/// of precedence. Attacked rounds in which the attacker changed fewer than k labels are counted.
pub(crate) fn drive<G: GameKind>(
    params: &GameParams,
    game: &mut impl Rounds<G>,
    rngs: &mut Streams,
    obs: &mut dyn Observer<G>,
) -> Result<Ended, GameError> {
    params.check()?;
    let mut ended = Ended { status: Termination::RoundsDone, rounds_played: 0, under_budget_rounds: 0 };
    for round in 1..=params.rounds {
        let attacked = round > params.unattacked_rounds;
        let changed = game.attack(round, attacked, &mut rngs.attacker)?;
        if attacked && changed < params.budget.k {
            ended.under_budget_rounds += 1;
        }
        let moved = game.step(round, &mut rngs.learner)?;
        ended.rounds_played = round;
        let control = game.notify(round, obs)?;
        if moved.max_abs_lambda > params.diverge_above {
            ended.status = Termination::Diverged;
            break;
        }
        if control == Control::Stop {
            ended.status = Termination::StoppedByObserver;
            break;
        }
        if params.tol.is_some_and(|tol| moved.step_norm <= tol) {
            ended.status = Termination::Converged;
            break;
        }
    }
    Ok(ended)
}

/// The binary game's state between rounds.
struct Binary<'a> {
    q: &'a mut SignedGram,
    clean: &'a Labels,
    attacker: &'a mut dyn Attacker,
    learner: &'a mut dyn Learner,
    budget: Budget,
    flips: FlipSet,
    f_train: Col<f64>,
    bias: f64,
    step: StepInfo,
}

impl Rounds<BinaryGame> for Binary<'_> {
    fn attack(&mut self, round: usize, attacked: bool, rng: &mut FloralRng) -> Result<usize, GameError> {
        let n = self.clean.len();
        let new_flips = if attacked {
            let view = RoundView::new(round, &*self.learner, self.q, self.clean, self.budget, &mut self.f_train);
            self.attacker.attack(&view, rng)?
        } else {
            FlipSet::empty(n)
        };
        if new_flips.len() > self.budget.k {
            return Err(GameError::BudgetExceeded {
                attacker: self.attacker.name(),
                round,
                got: new_flips.len(),
                k: self.budget.k,
            });
        }
        if new_flips.n() != n {
            return Err(GameError::Player {
                name: self.attacker.name(),
                source: format!("round {round}: flip set built for {} labels, the training set has {n}", new_flips.n())
                    .into(),
            });
        }
        for &i in self.flips.symmetric_difference(&new_flips)?.indices() {
            self.q.flip(i);
        }
        self.flips = new_flips;
        Ok(self.flips.len())
    }

    fn step(&mut self, round: usize, rng: &mut FloralRng) -> Result<Moved, GameError> {
        self.step = self.learner.step(round, self.q, rng)?;
        let lambda = self.learner.lambda();
        if lambda.iter().any(|v| !v.is_finite()) {
            return Err(GameError::NonFinite { round, quantity: "lambda" });
        }
        let max_abs_lambda = lambda.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
        self.bias = self.learner.bias(self.q);
        if !self.bias.is_finite() {
            return Err(GameError::NonFinite { round, quantity: "bias" });
        }
        Ok(Moved { step_norm: self.step.step_norm, max_abs_lambda })
    }

    fn notify(&self, round: usize, obs: &mut dyn Observer<BinaryGame>) -> Result<Control, GameError> {
        obs.on_round(&RoundRecord {
            round,
            flips: &self.flips,
            labels: self.q.labels(),
            q: self.q,
            lambda: self.learner.lambda(),
            bias: self.bias,
            step: self.step,
            q_lambda: self.learner.q_lambda(),
        })
    }
}

/// Play the binary game with [`drive`]: for t = 1..=T,
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
    params.check()?;
    let n = clean.len();
    q.set_labels(clean)?;
    learner.reset(q)?;
    let mut game = Binary {
        q,
        clean,
        attacker,
        learner,
        budget: params.budget,
        flips: FlipSet::empty(n),
        f_train: Col::zeros(n),
        bias: 0.0,
        step: StepInfo::default(),
    };
    let ended = drive(params, &mut game, rngs, obs)?;
    let out = GameOutcome {
        status: ended.status,
        rounds_played: ended.rounds_played,
        final_labels: game.q.labels().clone(),
        lambda: game.learner.lambda().to_owned(),
        bias: game.learner.bias(game.q),
        final_flips: game.flips,
        under_budget_rounds: ended.under_budget_rounds,
    };
    obs.on_finish(&out)?;
    Ok(out)
}
