//! The two players' traits and what they see.

use faer::ColRef;
use floral_data::{FlipSet, FloralRng, Labels};
use floral_svm::SignedGram;

use crate::GameError;

/// The attacker's budget: at most `k` label flips per round, counted against the clean labels
/// (Hamming distance ‖ỹ − y‖₀ ≤ k).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Budget {
    /// Maximum number of flipped labels per round.
    pub k: usize,
}

/// What the attacker sees at the start of a round.
#[derive(Debug, Clone, Copy)]
pub struct RoundView<'a> {
    /// The round about to be played (1-based: round 1 is the first learner step).
    pub round: usize,
    /// The learner's current dual variables λ^{t−1}.
    pub lambda: ColRef<'a, f64>,
    /// The signed Gram matrix Q̃ for the labels of the previous round.
    pub q: &'a SignedGram,
    /// The clean training labels y (as given to the game; flips are relative to these).
    pub clean: &'a Labels,
    /// The per-round budget.
    pub budget: Budget,
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

/// A learner: updates its dual variables λ given the current signed Gram matrix.
pub trait Learner: std::fmt::Debug {
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
    /// (lets observers skip an O(n²) product). Default: None.
    fn q_lambda(&self) -> Option<ColRef<'_, f64>> {
        None
    }
}
