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
//! - [`TrustedSvm`]: the trusted-data baselines: an SVM on the trusted (clean validation)
//!   points alone, or on the training points together with them.
//! - [`FloralDefence`]: the FLORAL game against an in-game attacker from an
//!   [`AttackerFactory`], with the learner's update chosen by [`Solver`] (projected gradient,
//!   extragradient, optimistic); outputs last / averaged / best-validation models.
//! - [`LnSvm`]: LN-SVM (Biggio et al. 2011), the SVM on a kernel corrected for label noise of
//!   rate μ (off-diagonal scaled by 1 − 4μ(1 − μ)).
//! - [`Curie`]: Curie (Laishram & Phoha 2016), DBSCAN clusters, drop the points far from their
//!   cluster in [x, w·y], SVM on the rest.
//! - [`LabelSanitisation`]: LS-SVM (Paudice et al. 2018), kNN relabelling to a fixed point,
//!   SVM on the result.
//! - [`KLid`]: K-LID (Weerasinghe et al. 2021), box bounds C_i = C·w_i from kernel LID
//!   likelihood ratios; reads the trusted set.
//! - [`ConfidentLearning`]: confident learning (Northcutt et al. 2021) with cross-validated
//!   Platt-calibrated SVMs ([`Platt`]); drops or relabels the flagged points.
//!
//! Multi-class: [`MulticlassFloral`], K one-vs-rest [`FloralLearner`]s on one shared kernel
//! matrix stepping in lockstep against a [`floral_game::MulticlassAttacker`]; a relabel flips
//! exactly the two binary problems it touches; outputs last and averaged one-vs-rest models.
//!
//! Screening defences report what they dropped, relabelled or bounded in
//! [`Fitted::screening`] ([`Screening`]).
//!
//! Adding a defence: a file here with `<Name>Params` and `<Name>::new(params)`, the `Defence`
//! impl, one `mod`/`pub use` line below, a line in `tests/conformance.rs`, and one arm in the
//! experiment crate's registry (see CONTRIBUTING.md).
//!
//! ```
//! use floral_defense::Schedule;
//! assert_eq!(Schedule::Constant.eta(0.5, 10), 0.5);
//! ```

mod common;
mod confident;
mod curie;
mod defence;
mod error;
mod extragradient;
mod floral;
mod floral_defence;
mod klid;
mod ln_svm;
mod multiclass_floral;
mod optimistic;
mod platt;
mod sanitisation;
mod svm;
mod trusted;

pub use confident::{CleanAction, ConfidentLearning, ConfidentLearningParams, ConfidentScreen};
pub use curie::{Curie, CurieParams, CurieScreen};
pub use defence::{Basis, Defence, FitInput, Fitted, FittedOutput, Screening};
pub use error::DefenseError;
pub use extragradient::{ExtragradientLearner, ExtragradientParams};
pub use floral::{BiasChoice, FloralLearner, FloralParams, Init, Schedule};
pub use floral_defence::{AttackerFactory, FloralDefence, FloralFitParams, Solver, rule_name};
pub use klid::{KLid, KLidParams, KLidWeighting, KLidWeights};
pub use ln_svm::{LnSvm, LnSvmParams};
pub use multiclass_floral::{MulticlassFloral, MulticlassFloralFit, MulticlassFloralParams};
pub use optimistic::{OptimisticLearner, OptimisticParams};
pub use platt::Platt;
pub use sanitisation::{LabelSanitisation, LabelSanitisationParams, Sanitised};
pub use svm::{SVM_CACHE_MB, SvmDefence, SvmDefenceParams};
pub use trusted::{TrustedPool, TrustedSvm, TrustedSvmParams};
