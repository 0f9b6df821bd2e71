//! The RON types of a `Convergence(...)` study.

use floral_defense::{Init, Schedule, Solver};
use serde::{Deserialize, Serialize};

use crate::spec::{DataSpec, KernelSpec, PoisonSpec};

/// A convergence-regime study (see the module docs of [`super`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename = "Convergence")]
pub struct ConvergenceSpec {
    /// Name; the default output directory is `reports/<name>`.
    pub name: String,
    /// One free-text line shown under the title.
    #[serde(default)]
    pub description: String,
    /// Replication seeds (attacker draws; data split and poisoning too when they are drawn).
    pub seeds: Vec<u64>,
    /// The data (needs a validation split: the best-validation round reads it).
    pub data: DataSpec,
    /// The one poisoning level of the training labels.
    pub poison: PoisonSpec,
    /// The kernel.
    pub kernel: KernelSpec,
    /// Box bound C > 0.
    pub c: f64,
    /// λ⁰ (default `Zero`).
    #[serde(default = "zero_init")]
    pub init: Init,
    /// The step sizes of the map, strictly increasing.
    pub eta: EtaGrid,
    /// The attacker settings of the map: (k, B) pairs, 1 ≤ k ≤ B ≤ n_train.
    pub attackers: Vec<(usize, usize)>,
    /// Learner steps T of every game.
    pub rounds: usize,
    /// Initial rounds without attack (default 0).
    #[serde(default)]
    pub unattacked_rounds: usize,
    /// The last rounds the regime, the accuracy spread and the step decay are measured over
    /// (1..=rounds; default 50).
    #[serde(default = "fifty")]
    pub tail: usize,
    /// A tail whose test accuracy spans more than this (max − min, as a fraction) cycles
    /// (default 0.01).
    #[serde(default = "one_percent")]
    pub spread_tol: f64,
    /// A run whose consecutive tail steps Δ^t = λ^t − λ^{t−1} have a mean cosine
    /// cos(Δ^t, Δ^{t−1}) below this overshoots back and forth, and diverges (in (−1, 1);
    /// default −0.5).
    #[serde(default = "minus_half")]
    pub diverge_cosine: f64,
    /// Spectral samples every this many rounds of the tail (default 5).
    #[serde(default = "five")]
    pub monitor_every: usize,
    /// What the comparison table plays.
    pub compare: CompareSpec,
}

fn zero_init() -> Init {
    Init::Zero
}
fn fifty() -> usize {
    50
}
fn five() -> usize {
    5
}
fn minus_half() -> f64 {
    -0.5
}
fn one_percent() -> f64 {
    0.01
}

/// The η axis of the map.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum EtaGrid {
    /// Multiples of the label-independent bound 2/λ_max(K) of each seed's training kernel
    /// matrix, so the axis means the same on every data set.
    KernelBound(Vec<f64>),
    /// Absolute step sizes.
    Absolute(Vec<f64>),
}

impl EtaGrid {
    /// The grid values, in the grid's unit.
    pub(super) fn values(&self) -> &[f64] {
        match self {
            EtaGrid::KernelBound(v) | EtaGrid::Absolute(v) => v,
        }
    }
    /// The absolute step for grid value `u`, given 2/λ_max(K): η = u · 2/λ_max(K) on a
    /// `KernelBound` axis, η = u on an `Absolute` one.
    pub(super) fn absolute(&self, u: f64, kernel_bound: f64) -> f64 {
        match self {
            EtaGrid::KernelBound(_) => u * kernel_bound,
            EtaGrid::Absolute(_) => u,
        }
    }
    /// The grid's unit, as the report prints it.
    pub(super) fn unit(&self) -> &'static str {
        match self {
            EtaGrid::KernelBound(_) => "× 2/λ_max(K)",
            EtaGrid::Absolute(_) => "absolute",
        }
    }
}

/// The comparison of output rules, schedules and solvers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompareSpec {
    /// The steps compared, in the unit of the `eta` grid.
    pub eta: Vec<f64>,
    /// The attacker (k, B).
    pub attacker: (usize, usize),
    /// Iterates averaged by the averaged model (1..=rounds; default 50).
    #[serde(default = "fifty")]
    pub average_last: usize,
    /// Step-size schedules played with the base step (last iterate).
    #[serde(default)]
    pub schedules: Vec<Schedule>,
    /// Learners other than PGD played at the constant step (last iterate).
    #[serde(default)]
    pub solvers: Vec<Solver>,
}
