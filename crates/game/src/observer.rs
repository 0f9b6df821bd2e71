//! Observers: side concerns of the game loop (recording, progress, early stopping), for every
//! kind of game the loop plays ([`GameKind`]: the binary game and the multi-class one).

use faer::ColRef;
use floral_data::{FlipSet, Labels};
use floral_svm::SignedGram;

use crate::{GameError, GameOutcome, StepInfo};

/// What an observer tells the loop after a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Keep playing.
    Continue,
    /// Stop after this round (the outcome's status is `StoppedByObserver`).
    Stop,
}

/// A kind of game the one loop plays: what it lends its observers after each round and what it
/// returns at the end.
pub trait GameKind {
    /// Everything that happened in one round.
    type Record<'a>;
    /// The result of a game.
    type Outcome;
}

/// The binary game: one learner on ±1 labels, the attacker flips labels ([`crate::play`]).
#[derive(Debug, Clone, Copy)]
pub enum BinaryGame {}

impl GameKind for BinaryGame {
    type Record<'a> = RoundRecord<'a>;
    type Outcome = GameOutcome;
}

/// Everything that happened in one round of the binary game, lent to observers.
#[derive(Debug, Clone, Copy)]
pub struct RoundRecord<'a> {
    /// The round (1-based).
    pub round: usize,
    /// The flips applied this round (relative to the clean labels).
    pub flips: &'a FlipSet,
    /// The labels ỹ the learner stepped on.
    pub labels: &'a Labels,
    /// The signed Gram matrix for `labels`.
    pub q: &'a SignedGram,
    /// λ^t after the step.
    pub lambda: ColRef<'a, f64>,
    /// The model's bias b^t.
    pub bias: f64,
    /// Q̃λ^t on `labels`, when the learner provides it.
    pub q_lambda: Option<ColRef<'a, f64>>,
    /// What the learner reported.
    pub step: StepInfo,
}

/// A side concern of the game loop, for games of kind `G` (the binary game unless named).
pub trait Observer<G: GameKind = BinaryGame> {
    /// Called after every round.
    ///
    /// # Errors
    /// Any error aborts the game.
    fn on_round(&mut self, rec: &G::Record<'_>) -> Result<Control, GameError>;
    /// Called once when the game ends.
    ///
    /// # Errors
    /// Any error is returned by the loop.
    fn on_finish(&mut self, _out: &G::Outcome) -> Result<(), GameError> {
        Ok(())
    }
}

/// Several observers in order; the game stops when any asks to.
pub struct Fanout<'a, G: GameKind = BinaryGame>(pub Vec<&'a mut dyn Observer<G>>);

impl<G: GameKind> Default for Fanout<'_, G> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<G: GameKind> Observer<G> for Fanout<'_, G> {
    fn on_round(&mut self, rec: &G::Record<'_>) -> Result<Control, GameError> {
        let mut c = Control::Continue;
        for o in self.0.iter_mut() {
            if o.on_round(rec)? == Control::Stop {
                c = Control::Stop;
            }
        }
        Ok(c)
    }
    fn on_finish(&mut self, out: &G::Outcome) -> Result<(), GameError> {
        for o in self.0.iter_mut() {
            o.on_finish(out)?;
        }
        Ok(())
    }
}

/// An observer that does nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoObserver;

impl<G: GameKind> Observer<G> for NoObserver {
    fn on_round(&mut self, _rec: &G::Record<'_>) -> Result<Control, GameError> {
        Ok(Control::Continue)
    }
}
