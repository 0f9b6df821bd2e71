//! floral-defense: learners and defences.
//!
//! In-game learners (implement [`floral_game::Learner`]):
//! - [`FloralLearner`]: FLORAL's projected-gradient step on the kernel-SVM dual (the pure map
//!   [`floral_svm::PgdMap`] plus caches; forkable in O(n)), with step-size [`Schedule`]s,
//!   [`Init`]ialisation, [`BiasChoice`] and per-point bounds; [`FloralParams::reference`] is
//!   the authors' released configuration.
//! - [`ExtragradientLearner`]: extragradient on the same map: extrapolate λ̂ = T(λ), take the
//!   gradient at λ̂ (optionally after an inner responder's attack at λ̂), update from λ.
//! - [`OptimisticLearner`]: optimistic gradient (OGDA), λ⁺ = Π(λ − η(2g_t − g_{t−1})).
//!
//! Defences (implement [`Defence`]: [`FitInput`] → [`Fitted`]):
//! - [`SvmDefence`]: plain kernel SVM by exact SMO on the labels as received.
//! - [`FloralDefence`]: the FLORAL game against an in-game attacker from an
//!   [`AttackerFactory`]; outputs last / averaged / best-validation models.
//!
//! Adding a defence: a file here with `<Name>Params` and `<Name>::new(params)`, the `Defence`
//! impl, one `mod`/`pub use` line below, a line in `tests/conformance.rs`, and one arm in the
//! experiment crate's registry (see CONTRIBUTING.md).
//!
//! ```
//! use floral_defense::Schedule;
//! assert_eq!(Schedule::Constant.eta(0.5, 10), 0.5);
//! ```

mod defence;
mod error;
mod extragradient;
mod floral;
mod floral_defence;
mod optimistic;
mod svm;

pub use defence::{Defence, FitInput, Fitted, FittedOutput};
pub use error::DefenseError;
pub use extragradient::{ExtragradientLearner, ExtragradientParams};
pub use floral::{BiasChoice, FloralLearner, FloralParams, Init, Schedule};
pub use floral_defence::{AttackerFactory, FloralDefence, FloralFitParams, rule_name};
pub use optimistic::{OptimisticLearner, OptimisticParams};
pub use svm::{SVM_CACHE_MB, SvmDefence, SvmDefenceParams};
