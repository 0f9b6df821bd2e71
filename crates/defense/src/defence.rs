//! The [`Defence`] trait: (training set, optional trusted set, shared kernels, seeded streams) →
//! a [`Fitted`] classifier whose decision values the caller computes through the same shared
//! kernels.

use std::sync::Arc;

use floral_data::{Dataset, Labels, Streams};
use floral_game::{DualModel, RoundMetrics, SplitKernels, Termination};
use floral_svm::Kernel;

use crate::DefenseError;

/// What a defence is fitted on.
///
/// `train` holds the labels as the defender received them (possibly poisoned). `trusted` is
/// clean labelled data the defence may use (today: the validation split, when the experiment
/// gives one); a defence that reads it says so in its docs, and reports state it. `kernels`
/// holds the Gram matrix of `train` and the cross-kernels of the other splits, shared by every
/// job on the same points.
///
/// `monitor` is for per-round traces only (test accuracy along a game, for plots): scores it
/// returns must never drive a choice. A defence that plays no game ignores it.
#[derive(Debug)]
pub struct FitInput<'a> {
    /// The training set with the labels the defender received.
    pub train: &'a Dataset,
    /// Clean labelled data the defence may use (the validation split), if any.
    pub trusted: Option<&'a Dataset>,
    /// The kernel function.
    pub kernel: &'a dyn Kernel,
    /// Shared kernel matrices over these points (K(train, train) and the cross-kernels).
    pub kernels: &'a Arc<SplitKernels>,
    /// Evaluation hook for per-round traces (never for selection; see the type's docs).
    pub monitor: Option<floral_game::Evaluator>,
}

/// The points a fitted model's kernel expansion runs over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Basis {
    /// The training points (coefficient j belongs to training point j); evaluated through the
    /// shared kernel matrices.
    #[default]
    Train,
    /// The trusted points (`FitInput::trusted`), e.g. an SVM trained on them alone.
    Trusted,
    /// The training points followed by the trusted points (n_train + n_trusted coefficients).
    TrainThenTrusted,
}

/// One output model of a fit: a kernel expansion over the points of its [`Basis`],
/// f(x) = Σ_j coef_j k(x_j, x) + b.
#[derive(Debug, Clone, PartialEq)]
pub struct FittedOutput {
    /// The output rule's name in reports (`svm`, `last`, `avg-50`, `best-val`, …).
    pub rule: String,
    /// The model.
    pub model: DualModel,
    /// The points the coefficients belong to.
    pub basis: Basis,
}

/// A fitted defence.
#[derive(Debug, Clone)]
pub struct Fitted {
    /// The output models, in report order (a game yields several: last, averaged, best-val).
    pub outputs: Vec<FittedOutput>,
    /// The model decision-boundary plots show (FLORAL: the last iterate).
    pub plot_model: Option<DualModel>,
    /// Per-round metrics (games only).
    pub trace: Vec<RoundMetrics>,
    /// How the game ended (games only).
    pub status: Option<Termination>,
    /// Rounds played (games) or solver iterations.
    pub iterations: usize,
    /// The training labels at the end (games: ỹ^T), for the sanitisation rate.
    pub final_labels: Option<Labels>,
    /// Support vectors of the final model.
    pub n_sv: usize,
    /// The round the best-validation rule picked (games with a validation split).
    pub best_validation_round: Option<usize>,
    /// Attacked rounds in which the in-game attacker flipped fewer than k labels.
    pub under_budget_rounds: usize,
    /// What a screening defence did to the training set before its SVM (points dropped or
    /// relabelled, per-point bounds); None for defences that screen nothing.
    pub screening: Option<Screening>,
}

/// What a screening defence (Curie, label sanitisation, K-LID, confident learning) did to the
/// training set before fitting its SVM.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Screening {
    /// Training points removed from the fit (sorted): their coefficient is 0 in every output.
    pub dropped: Vec<usize>,
    /// Training points whose label the defence changed (sorted); the new labels are in
    /// [`Fitted::final_labels`].
    pub relabelled: Vec<usize>,
    /// The per-point box bounds C_i the SVM was solved with, when they are not all equal to C.
    pub bounds: Option<Vec<f64>>,
    /// Passes of an iterative screening (label sanitisation: relabelling sweeps; 1 otherwise).
    pub passes: usize,
    /// Whether an iterative screening reached its fixed point within its pass limit (true for
    /// one-pass screenings).
    pub converged: bool,
}

impl Fitted {
    /// A single-model fit (`rule` names it) with no game.
    pub fn single(rule: &str, model: DualModel, iterations: usize, n_sv: usize) -> Self {
        Self {
            outputs: vec![FittedOutput { rule: rule.to_string(), model: model.clone(), basis: Basis::Train }],
            plot_model: Some(model),
            trace: Vec::new(),
            status: None,
            iterations,
            final_labels: None,
            n_sv,
            best_validation_round: None,
            under_budget_rounds: 0,
            screening: None,
        }
    }
}

/// A defence: fits a classifier on (possibly poisoned) training labels.
///
/// Implementations: [`crate::SvmDefence`] (plain kernel SVM, exact SMO) and
/// [`crate::FloralDefence`] (the FLORAL game against an in-game attacker).
pub trait Defence: std::fmt::Debug + Send + Sync {
    /// Short stable name.
    fn name(&self) -> &'static str;
    /// Fit on `input`; every random draw comes from `rngs`.
    ///
    /// # Errors
    /// A [`DefenseError`] for inputs that do not fit together or a numerical failure.
    fn fit(&self, input: FitInput<'_>, rngs: &mut Streams) -> Result<Fitted, DefenseError>;
    /// True when the defence trains on the trusted (validation) data: a plan then needs a
    /// validation split, and reports count that data as the defence's trusted data.
    fn reads_trusted(&self) -> bool {
        false
    }
    /// Bytes of the defence's own matrices beyond the shared kernels and its SVM's working set,
    /// for `n` training and `m` trusted points (`floral check`'s memory estimate adds them).
    fn extra_bytes(&self, n: usize, m: usize) -> usize {
        let _ = (n, m);
        0
    }
    /// What the defence draws random numbers for, when it draws any (reports say so in what
    /// their ± varies over); None for a deterministic fit.
    fn random_draws(&self) -> Option<&'static str> {
        None
    }
}

/// 8·k² bytes: one k × k f64 matrix (saturating).
pub(crate) fn square_bytes(k: usize) -> usize {
    8usize.saturating_mul(k).saturating_mul(k)
}

/// Check that the shared kernels were computed on `train`'s points.
pub(crate) fn check_input(input: &FitInput<'_>) -> Result<(), DefenseError> {
    let n = input.train.n();
    if input.kernels.train.n() != n {
        return Err(DefenseError::Input(format!(
            "the shared Gram matrix has order {}, the training set {n} points",
            input.kernels.train.n()
        )));
    }
    Ok(())
}
