//! The RON experiment format: serde-only types, no logic. Every struct denies unknown fields.
//! `docs/experiments.md` documents every field and its default (a test keeps it complete).
//!
//! ```text
//! Experiment(
//!     name: "quickstart",
//!     seeds: [7, 8, 9],
//!     data: Moons(n: 300, noise: 0.15, validation_fraction: 0.2, test_fraction: 0.3),
//!     poison: [Clean, RandomFlips(fraction: 0.1)],
//!     kernel: Rbf(gamma: 1.0),
//!     methods: [
//!         Floral((name: "floral", learner: (c: 1.0, eta: 0.05, schedule: Constant, init: Zero,
//!                bias: AllSupportVectors, sv_threshold: 1e-5),
//!                projector: Exact, attacker: RandomTopK((k: 5, pool: Some(25))), rounds: 200)),
//!         Svm(name: "svm", c: 1.0),
//!     ],
//! )
//! ```

use floral_attack::{
    AlfaParams, AlfaTiltParams, KnnAwareFlipsParams, LfaParams, LookAheadParams, LookAheadPoisonParams,
    MarginFlipsParams, RandomTopKParams, RelaxedLookAheadParams, TopLambdaFlipsParams, ZeroSumParams,
};
use floral_defense::{
    ConfidentLearningParams, CurieParams, KLidParams, LabelSanitisationParams, LnSvmParams, TrustedSvmParams,
};
use floral_defense::{FloralParams, Init, Schedule, Solver};
use floral_game::OutputRule;
use serde::{Deserialize, Serialize};

/// A whole experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename = "Experiment")]
pub struct ExperimentSpec {
    /// Name; the default output directory is `reports/<name>`.
    pub name: String,
    /// One free-text line shown under the title.
    #[serde(default)]
    pub description: String,
    /// Replication seeds; each seed gives every role its own ChaCha stream.
    pub seeds: Vec<u64>,
    /// The data.
    pub data: DataSpec,
    /// Poisoning levels of the training labels (the test labels stay clean).
    pub poison: Vec<PoisonSpec>,
    /// The kernel.
    pub kernel: KernelSpec,
    /// The methods compared.
    pub methods: Vec<MethodSpec>,
    /// Record metrics every this many rounds (the last round is always recorded).
    #[serde(default = "one")]
    pub record_every: usize,
    /// Draw decision-boundary plots (2-D data only).
    #[serde(default = "yes")]
    pub decision_plots: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn one() -> usize {
    1
}
fn yes() -> bool {
    true
}

/// Where the data comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum DataSpec {
    /// scikit-learn-style two moons, generated from the seed, split stratified, standardised on
    /// the training part.
    Moons {
        /// Number of points.
        n: usize,
        /// Gaussian noise standard deviation.
        noise: f64,
        /// Share of points for validation.
        validation_fraction: f64,
        /// Share of points for test.
        test_fraction: f64,
    },
    /// A seeded Gaussian mixture (a stand-in for sentence embeddings at scale), split stratified
    /// and standardised like `Moons`.
    GaussianMixture {
        /// Number of points.
        n: usize,
        /// Number of features.
        d: usize,
        /// The mixture's shape (defaults: 4 components per class, separation 2.5, component
        /// spread 0.5, within-component scale 1).
        #[serde(default)]
        params: floral_data::GaussianMixtureParams,
        /// Share of points for validation.
        validation_fraction: f64,
        /// Share of points for test.
        test_fraction: f64,
    },
    /// Dense features from NumPy files, as users bring foundation-model embeddings: each split
    /// is a 2-D `.npy` of features with a 1-D `.npy` of labels beside it, or one `.npz` holding
    /// both (arrays `x` and `y`).
    Embeddings {
        /// Training features: `features.npy` or `archive.npz`.
        train: String,
        /// Training labels (`.npy`); None for an `.npz`.
        #[serde(default)]
        train_labels: Option<String>,
        /// Test features: `.npy` or `.npz`.
        test: String,
        /// Test labels (`.npy`); None for an `.npz`.
        #[serde(default)]
        test_labels: Option<String>,
        /// Share of the training points held out for validation (stratified, data stream).
        #[serde(default)]
        validation_fraction: f64,
        /// Standardise features with the training mean and standard deviation.
        #[serde(default)]
        standardize: bool,
    },
    /// A data set shipped with floral (`moon_floral_seed42`, `breast_cancer`, `mnist_1v7`). For
    /// the Moon file, the splits are the authors' train/validation/test sheets (or, with
    /// `resplit`, a fresh stratified draw of the same sizes from its `main` pool per seed).
    Shipped {
        /// The data set's name.
        name: String,
        /// Share of the training sheet held out for validation when the set has no
        /// validation sheet (stratified, drawn from the data stream of the seed).
        #[serde(default)]
        validation_fraction: f64,
        /// Draw each seed's own split (stratified, data stream): the Moon file's 2,000-point
        /// `main` pool into 500/500/1,000 train/validation/test (the sizes of the authors'
        /// sheets); another set's train ∪ test into parts of the shipped train and test sizes,
        /// then `validation_fraction` of the train part held out. Off by default (the shipped
        /// sheets, which `Sheet(...)` poison levels need).
        #[serde(default, skip_serializing_if = "is_false")]
        resplit: bool,
    },
    /// Files (LIBSVM/svmlight or CSV with a `label` column).
    Files {
        /// Training data.
        train: String,
        /// Validation data (optional).
        #[serde(default)]
        validation: Option<String>,
        /// Test data.
        test: String,
        /// Standardise features with the training mean and standard deviation.
        #[serde(default)]
        standardize: bool,
        /// Pad a split with fewer features with zero columns. Off by default: widths must agree,
        /// except between LIBSVM files, whose omitted trailing features are zeros anyway.
        #[serde(default)]
        pad_features: bool,
    },
}

/// How the training labels are poisoned before the game.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum PoisonSpec {
    /// Clean training labels.
    Clean,
    /// A poisoned training sheet of a shipped data set (e.g. `train_adv_10` of the Moon file).
    Sheet(String),
    /// Flip this fraction of training labels chosen uniformly at random (data stream).
    RandomFlips {
        /// Fraction in [0, 1).
        fraction: f64,
    },
    /// An offline poisoning attack run by floral on the clean training set, with the budget
    /// round(fraction · n) flips, exactly.
    Attack {
        /// Fraction in [0, 1).
        fraction: f64,
        /// The attack and its parameters.
        attack: OfflineAttack,
    },
}

/// An offline poisoning attack (`docs/method.md` §6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum OfflineAttack {
    /// Flip labels chosen uniformly at random.
    Random,
    /// Flip by the margin of a clean SVM: far from the boundary first, or nearest first.
    Margin(MarginFlipsParams),
    /// Flip the support vectors with the largest λ of a clean SVM.
    TopLambda(TopLambdaFlipsParams),
    /// ALFA (Xiao et al. 2012): alternating LP over relaxed flips and a QP (Clarabel).
    Alfa(AlfaParams),
    /// ALFA-tilt (Xiao et al. 2015): the most damaging of N tilted trials.
    AlfaTilt(AlfaTiltParams),
    /// Greedy label-flip attack: each flip the one that most raises validation error.
    Lfa(LfaParams),
    /// Defence-aware against FLORAL: the look-ahead search run against FLORAL's learner
    /// dynamics from scratch, its flips accumulated to the budget.
    LookAheadFloral {
        /// The FLORAL learner whose dynamics are simulated (the defended method's settings).
        learner: FloralParams,
        /// The search and its schedule.
        attack: LookAheadPoisonParams,
    },
    /// Defence-aware against kNN label sanitisation: flips whose neighbours mostly share the
    /// flipped label, so the relabelling keeps them.
    KnnAware(KnnAwareFlipsParams),
}

/// The kernel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum KernelSpec {
    /// k(a, b) = aᵀb.
    Linear,
    /// k(a, b) = exp(−γ‖a − b‖²).
    Rbf {
        /// γ > 0.
        gamma: f64,
    },
    /// k(a, b) = (γ aᵀb + coef0)^degree.
    Poly {
        /// Degree ≥ 1.
        degree: u32,
        /// γ > 0.
        gamma: f64,
        /// coef0.
        coef0: f64,
    },
}

/// The projector inside the FLORAL learner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum ProjectorSpec {
    /// Exact breakpoint projection.
    Exact,
    /// The paper's Algorithm 2.
    FixedPoint {
        /// Tolerance on |Δμ| (reference 1e-21).
        tol: f64,
        /// Iteration limit (reference 1000).
        max_iter: usize,
        /// Finish exactly once the active set has settled.
        finish_exact: bool,
    },
}

/// The in-game attacker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum AttackerSpec {
    /// FLORAL's randomized top-k.
    RandomTopK(RandomTopKParams),
    /// The zero-sum minimax attacker (the paper's Eq. 3): the k flips that most raise the
    /// learner's own hinge loss (or dual objective) at its current model.
    ZeroSum(ZeroSumParams),
    /// The adaptive look-ahead attacker: simulates h learner steps per candidate flip set.
    LookAhead(LookAheadParams),
    /// The look-ahead's continuous relaxation (unrolled gradient, L-BFGS), rounded to k flips.
    RelaxedLookAhead(RelaxedLookAheadParams),
    /// No attack (plain projected gradient descent on the given labels).
    None,
}

/// A method compared in the experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum MethodSpec {
    /// The FLORAL game.
    Floral(Box<FloralSpec>),
    /// A baseline defence from the registry.
    Baseline(BaselineSpec),
    /// Plain kernel SVM (exact SMO) trained on the poisoned labels.
    Svm {
        /// Method name in the report.
        name: String,
        /// Box bound C.
        c: f64,
        /// Alternative values of C chosen per poisoning level by mean validation accuracy over
        /// the seeds (the same selection budget FLORAL's `tune` gets). Empty: C alone.
        #[serde(default)]
        c_grid: Vec<f64>,
        /// Alternative RBF widths γ (an `Rbf` experiment kernel only): the grid is
        /// c_grid × gamma_grid, each γ with its own kernel matrices. Empty: the kernel's γ.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        gamma_grid: Vec<f64>,
    },
}

/// A baseline defence from the registry, with its name in the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineSpec {
    /// Method name in the report.
    pub name: String,
    /// The defence and its parameters.
    pub defence: DefenceSpec,
}

/// A baseline defence (`docs/method.md` §7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum DefenceSpec {
    /// An SVM on the trusted (validation) points alone, or on train ∪ trusted.
    TrustedSvm(TrustedSvmParams),
    /// LN-SVM (Biggio et al. 2011): the SVM on a kernel corrected for label noise of rate μ.
    LnSvm(LnSvmParams),
    /// Curie (Laishram & Phoha 2016): drop points far from their DBSCAN cluster in [x, w·y].
    Curie(CurieParams),
    /// LS-SVM label sanitisation (Paudice et al. 2018): kNN relabelling to a fixed point.
    LabelSanitisation(LabelSanitisationParams),
    /// K-LID (Weerasinghe et al. 2021), our reconstruction: box bounds C_i = C·w_i from kernel
    /// local intrinsic dimensionality, densities from the trusted set.
    KLid(KLidParams),
    /// Confident learning with cross-validated Platt-scaled SVMs: drop or relabel the points
    /// whose given label is unlikely.
    ConfidentLearning(ConfidentLearningParams),
}

/// A FLORAL method (one setting, or a validation-selected grid).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FloralSpec {
    /// Method name in the report.
    pub name: String,
    /// The learner's parameters.
    pub learner: FloralParams,
    /// The projector.
    #[serde(default = "exact")]
    pub projector: ProjectorSpec,
    /// The attacker.
    pub attacker: AttackerSpec,
    /// The learner's update rule: `Pgd` (FLORAL's projected gradient step, the default),
    /// `Extragradient(respond: bool)` or `Optimistic`.
    /// Left out of the canonical RON (and so of the content hash) when it is the default, so
    /// files written before the field existed keep their hash and reports.
    #[serde(default, skip_serializing_if = "is_pgd")]
    pub solver: Solver,
    /// Learner steps T.
    pub rounds: usize,
    /// Initial rounds without attack (the authors' code: 1).
    #[serde(default)]
    pub unattacked_rounds: usize,
    /// How many final iterates the averaged model uses: 1..=rounds (default 50, or every round
    /// when there are fewer than 50).
    #[serde(default = "fifty")]
    pub average_last: usize,
    /// A grid of alternatives, chosen per poisoning level by mean validation accuracy over the
    /// seeds (never the test split). Empty: this one setting.
    #[serde(default)]
    pub tune: Option<TuneSpec>,
}

fn is_pgd(s: &Solver) -> bool {
    *s == Solver::Pgd
}
fn exact() -> ProjectorSpec {
    ProjectorSpec::Exact
}
/// The default of `average_last`; with fewer rounds than this, all rounds are averaged.
pub const DEFAULT_AVERAGE_LAST: usize = 50;

fn fifty() -> usize {
    DEFAULT_AVERAGE_LAST
}

/// Grid dimensions for validation-based selection. An empty list keeps the base value.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TuneSpec {
    /// Base step sizes η.
    pub eta: Vec<f64>,
    /// Schedules.
    pub schedule: Vec<Schedule>,
    /// Initialisations.
    pub init: Vec<Init>,
    /// Output rules.
    pub output: Vec<OutputRule>,
    /// (k, pool) pairs for the randomized top-k attacker.
    pub k_pool: Vec<(usize, usize)>,
    /// Rounds T.
    pub rounds: Vec<usize>,
}
