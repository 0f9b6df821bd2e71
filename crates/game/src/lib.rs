//! floral-game: the attacker ⇄ learner game of FLORAL (docs/method.md §4, Algorithm 1).
//!
//! - [`Attacker`], [`Learner`]: the two players; [`RoundView`] is what the attacker sees.
//! - [`play`]: the one game loop (attack → O(n·k) label flips on the signed Gram → learner
//!   step → observers), returning a [`GameOutcome`] whose [`Termination`] is data.
//! - [`play_multiclass`]: the multi-class game (K one-vs-rest learners in lockstep) through the
//!   same loop; [`MulticlassAttacker`], [`MulticlassView`], [`Relabel`], [`apply_relabels`]: its
//!   attacker seam (a relabel touches exactly two one-vs-rest problems; k counts relabels);
//!   [`OvrRecorder`]: its output models.
//! - [`Observer`] (for either [`GameKind`]), [`Fanout`], [`Recorder`]: per-round metrics ([`RoundMetrics`]) and the
//!   models the output rules ([`OutputRule`]) need; [`Evaluator`] scores kernel models with
//!   precomputed cross-kernels.
//!
//! ```
//! use floral_data::Labels;
//! use floral_game::score;
//! let y = Labels::new(vec![1.0, -1.0]).unwrap();
//! assert_eq!(score(&[0.3, -2.0], &y).accuracy, 1.0);
//! ```

mod error;
mod eval;
mod multiclass;
mod observer;
mod play;
mod player;
mod recorder;

pub use error::GameError;
pub use eval::{DualModel, Evaluator, Score, SplitKernels, SplitScores, score};
pub use multiclass::{
    MulticlassAttacker, MulticlassGame, MulticlassOutcome, MulticlassRecord, MulticlassView, OvrRecorder, Relabel,
    apply_relabels, play_multiclass,
};
pub use observer::{BinaryGame, Control, Fanout, GameKind, NoObserver, Observer, RoundRecord};
pub use play::{GameOutcome, GameParams, Termination, play};
pub use player::{Attacker, Budget, FrozenLearner, Learner, RoundView, Simulation, StepInfo};
pub use recorder::{OutputRule, Recorder, RoundMetrics};
