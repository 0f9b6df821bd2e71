//! The two players' traits and what they see.

use faer::ColRef;
use floral_data::{FlipSet, FloralRng, Labels};
use floral_projection::Bounds;
use floral_svm::SignedGram;

use crate::GameError;

/// The attacker's budget: at most `k` label flips per round, counted against the clean labels
/// (Hamming distance ‖ỹ − y‖₀ ≤ k).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Budget {
    /// Maximum number of flipped labels per round.
    pub k: usize,
}

/// What the attacker sees at the start of a round: the learner's current model, the labels it
/// was trained on, and a handle to fork and simulate the learner.
#[derive(Clone, Copy)]
pub struct RoundView<'a> {
    /// The round about to be played (1-based: round 1 is the first learner step).
    pub round: usize,
    /// The learner's current dual variables λ^{t−1}.
    pub lambda: ColRef<'a, f64>,
    /// The signed Gram matrix Q̃ for the labels of the previous round.
    pub q: &'a SignedGram,
    /// The clean training labels y (as given to the game; flips are relative to these).
    pub clean: &'a Labels,
    /// The per-round budget: the one place the attacker reads k from.
    pub budget: Budget,
    /// Decision values of the current model on the training points, bias included:
    /// f(x_i) = Σ_j λ_j ỹ_j K_ij + b = ỹ_i (Q̃λ)_i + b, with ỹ the labels of `q`.
    pub decision_values: ColRef<'a, f64>,
    /// The bias b of the current model.
    pub bias: f64,
    /// The step size the learner will use this round (None when the learner has none).
    pub eta: Option<f64>,
    /// The learner's box bounds C_i (None when it has none).
    pub bounds: Option<Bounds<'a>>,
    /// The learner, read-only: [`RoundView::fork_learner`] and [`RoundView::simulate`] copy its
    /// state (O(n)) to try hypothetical flips without touching the real game.
    pub learner: &'a dyn Learner,
}

impl std::fmt::Debug for RoundView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoundView")
            .field("round", &self.round)
            .field("n", &self.lambda.nrows())
            .field("budget", &self.budget)
            .field("bias", &self.bias)
            .field("eta", &self.eta)
            .field("learner", &self.learner.name())
            .finish()
    }
}

/// The result of [`RoundView::simulate`]: a forked learner after h simulated steps and the
/// signed Gram matrix (hypothetical labels) it stepped on.
#[derive(Debug)]
pub struct Simulation {
    /// The forked learner after the simulated steps.
    pub learner: Box<dyn Learner>,
    /// The hypothetical labels ỹ = y with the flips, over the shared Gram matrix.
    pub q: SignedGram,
    /// What each simulated step reported.
    pub steps: Vec<StepInfo>,
}

impl Simulation {
    /// The simulated learner's λ.
    pub fn lambda(&self) -> ColRef<'_, f64> {
        self.learner.lambda()
    }

    /// The simulated learner's bias on the hypothetical labels.
    pub fn bias(&self) -> f64 {
        self.learner.bias(&self.q)
    }
}

impl<'a> RoundView<'a> {
    /// The view of `learner`'s current model on the labels of `q`: f = ỹ ∘ (Q̃λ) + b is written
    /// into `f_buf` (O(n) from the learner's cached Q̃λ, else one O(n²) product), and the step
    /// size and bounds are the learner's for `round`.
    pub fn new(
        round: usize,
        learner: &'a dyn Learner,
        q: &'a SignedGram,
        clean: &'a Labels,
        budget: Budget,
        f_buf: &'a mut faer::Col<f64>,
    ) -> Self {
        let n = q.n();
        if f_buf.nrows() != n {
            *f_buf = faer::Col::zeros(n);
        }
        let bias = learner.bias(q);
        match learner.q_lambda() {
            Some(ql) => f_buf.copy_from(ql),
            None => q.matvec_into(learner.lambda(), f_buf.as_mut()),
        }
        for (i, &yi) in q.labels().as_slice().iter().enumerate() {
            f_buf[i] = yi * f_buf[i] + bias;
        }
        Self {
            round,
            lambda: learner.lambda(),
            q,
            clean,
            budget,
            decision_values: f_buf.as_ref(),
            bias,
            eta: learner.eta(round),
            bounds: learner.bounds(),
            learner,
        }
    }

    /// An independent copy of the learner's state (λ, caches, schedule position, bias rule):
    /// O(n) memory; the Gram matrix and the projector are shared, never copied.
    pub fn fork_learner(&self) -> Box<dyn Learner> {
        self.learner.fork()
    }

    /// Fork the learner and play `steps` learner moves (rounds `round`, `round + 1`, …) on the
    /// clean labels with `flips` applied, as the real game would if the attacker played `flips`
    /// in each of those rounds. The real game is untouched. Costs O(n·steps) memory beyond the
    /// shared Gram matrix and one Q̃λ product per step.
    ///
    /// # Errors
    /// A flip set for another n, or the forked learner's error.
    pub fn simulate(&self, flips: &FlipSet, steps: usize, rng: &mut FloralRng) -> Result<Simulation, GameError> {
        let mut q = self.q.clone();
        let labels = self.clean.apply(flips)?;
        q.set_labels(&labels)?;
        let mut learner = self.learner.fork();
        let mut infos = Vec::with_capacity(steps);
        for h in 0..steps {
            infos.push(learner.step(self.round + h, &q, rng)?);
        }
        Ok(Simulation { learner, q, steps: infos })
    }
}

/// An attacker: chooses which training labels to flip this round.
pub trait Attacker: std::fmt::Debug {
    /// Short stable name (used in reports and errors).
    fn name(&self) -> &'static str;
    /// The flips for this round, relative to the clean labels `view.clean`.
    ///
    /// # Errors
    /// A [`GameError`] when the attacker cannot act.
    fn attack(&mut self, view: &RoundView<'_>, rng: &mut FloralRng) -> Result<FlipSet, GameError>;
}

/// What a learner step reports.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct StepInfo {
    /// Step size used in this round.
    pub eta: f64,
    /// Projection residual |ỹᵀλ| after the step.
    pub residual: f64,
    /// Projection iterations (1 for exact projectors).
    pub projection_iterations: usize,
    /// ‖λ^t − λ^{t−1}‖₂.
    pub step_norm: f64,
}

/// A learner that holds a fixed model and never moves: for attacker tests and offline analyses
/// of a given λ (e.g. an SVM solution). Its step leaves λ unchanged.
#[derive(Debug, Clone)]
pub struct FrozenLearner {
    lambda: faer::Col<f64>,
    bias: f64,
}

impl FrozenLearner {
    /// The model (λ, b).
    pub fn new(lambda: ColRef<'_, f64>, bias: f64) -> Self {
        Self { lambda: lambda.to_owned(), bias }
    }
}

impl Learner for FrozenLearner {
    fn name(&self) -> &'static str {
        "frozen"
    }
    fn reset(&mut self, q: &SignedGram) -> Result<(), GameError> {
        if self.lambda.nrows() != q.n() {
            return Err(GameError::InvalidParam {
                field: "lambda",
                expected: "one entry per training point",
                got: self.lambda.nrows().to_string(),
            });
        }
        Ok(())
    }
    fn step(&mut self, _round: usize, _q: &SignedGram, _rng: &mut FloralRng) -> Result<StepInfo, GameError> {
        Ok(StepInfo::default())
    }
    fn lambda(&self) -> ColRef<'_, f64> {
        self.lambda.as_ref()
    }
    fn bias(&self, _q: &SignedGram) -> f64 {
        self.bias
    }
    fn fork(&self) -> Box<dyn Learner> {
        Box::new(self.clone())
    }
}

/// A learner: updates its dual variables λ given the current signed Gram matrix.
pub trait Learner: std::fmt::Debug + Send {
    /// Short stable name.
    fn name(&self) -> &'static str;
    /// Initialise for a game on `q` (sets λ^0).
    ///
    /// # Errors
    /// A [`GameError`] when initialisation fails (e.g. a warm-start solver error).
    fn reset(&mut self, q: &SignedGram) -> Result<(), GameError>;
    /// One learner move in round `round` on the labels held by `q`.
    ///
    /// # Errors
    /// A [`GameError`] for a numerical failure.
    fn step(&mut self, round: usize, q: &SignedGram, rng: &mut FloralRng) -> Result<StepInfo, GameError>;
    /// The current dual variables λ.
    fn lambda(&self) -> ColRef<'_, f64>;
    /// The bias b of the current model on the labels held by `q`.
    fn bias(&self, q: &SignedGram) -> f64;
    /// Q̃λ for the current λ and the labels of the last step, when the learner already has it
    /// (lets observers and the attacker's view skip an O(n²) product). Default: None.
    fn q_lambda(&self) -> Option<ColRef<'_, f64>> {
        None
    }
    /// The step size the learner uses in round `round` (None when it has none). Default: None.
    fn eta(&self, _round: usize) -> Option<f64> {
        None
    }
    /// The learner's box bounds C_i (None when it has none). Default: None.
    fn bounds(&self) -> Option<Bounds<'_>> {
        None
    }
    /// A copy of the learner's whole state for simulation (λ, caches, schedule position, bias
    /// rule), O(n) memory: shared immutable parts (Gram matrix, projector) are not copied.
    /// Stepping the copy never affects `self`.
    fn fork(&self) -> Box<dyn Learner>;
}
