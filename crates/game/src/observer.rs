//! Observers: side concerns of the game loop (recording, progress, early stopping).

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

/// Everything that happened in one round, lent to observers.
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

/// A side concern of the game loop.
pub trait Observer {
    /// Called after every round.
    ///
    /// # Errors
    /// Any error aborts the game.
    fn on_round(&mut self, rec: &RoundRecord<'_>) -> Result<Control, GameError>;
    /// Called once when the game ends.
    ///
    /// # Errors
    /// Any error is returned by `play`.
    fn on_finish(&mut self, _out: &GameOutcome) -> Result<(), GameError> {
        Ok(())
    }
}

/// Several observers in order; the game stops when any asks to.
#[derive(Default)]
pub struct Fanout<'a>(pub Vec<&'a mut dyn Observer>);

impl Observer for Fanout<'_> {
    fn on_round(&mut self, rec: &RoundRecord<'_>) -> Result<Control, GameError> {
        let mut c = Control::Continue;
        for o in self.0.iter_mut() {
            if o.on_round(rec)? == Control::Stop {
                c = Control::Stop;
            }
        }
        Ok(c)
    }
    fn on_finish(&mut self, out: &GameOutcome) -> Result<(), GameError> {
        for o in self.0.iter_mut() {
            o.on_finish(out)?;
        }
        Ok(())
    }
}

/// An observer that does nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoObserver;

impl Observer for NoObserver {
    fn on_round(&mut self, _rec: &RoundRecord<'_>) -> Result<Control, GameError> {
        Ok(Control::Continue)
    }
}
