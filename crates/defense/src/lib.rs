//! floral-defense: learners and defences.
//!
//! In-game learners (implement [`floral_game::Learner`]):
//! - [`FloralLearner`]: FLORAL's projected-gradient step on the kernel-SVM dual, with step-size
//!   [`Schedule`]s, [`Init`]ialisation and [`BiasChoice`]; [`FloralParams::reference`] is the
//!   authors' released configuration.
//!
//! ```
//! use floral_defense::Schedule;
//! assert_eq!(Schedule::Constant.eta(0.5, 10), 0.5);
//! ```

mod error;
mod floral;

pub use error::DefenseError;
pub use floral::{BiasChoice, FloralLearner, FloralParams, Init, Schedule};
