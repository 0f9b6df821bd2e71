//! The RON form of an `Influence(...)` study (`docs/experiments.md`).

use serde::{Deserialize, Serialize};

use crate::spec::{DataSpec, FloralSpec, KernelSpec, PoisonSpec};

/// The RON form of an influence study (`docs/experiments.md`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename = "Influence")]
pub struct InfluenceSpec {
    /// Name; the default output directory is `reports/<name>`.
    pub name: String,
    /// One free-text line shown under the title.
    #[serde(default)]
    pub description: String,
    /// Replication seeds (data draw and split, poisoner, FLORAL's attacker, point sample).
    pub seeds: Vec<u64>,
    /// The data; it must have a validation split (influence is measured on it).
    pub data: DataSpec,
    /// Poisoning levels of the training labels.
    pub poison: Vec<PoisonSpec>,
    /// The kernel.
    pub kernel: KernelSpec,
    /// Box bound C of the SVMs whose λ and influence are measured.
    pub c: f64,
    /// The FLORAL setting whose λ is compared (no `tune`).
    pub floral: FloralSpec,
    /// FLORAL rounds at which λ is correlated with influence; the last round is always added.
    #[serde(default)]
    pub rounds: Vec<usize>,
    /// The B values of the top-B overlap curves (each 1..=points measured).
    pub top_b: Vec<usize>,
    /// Measure this many training points per cell, drawn without replacement from the seed's
    /// analysis stream; None: every point.
    #[serde(default)]
    pub sample: Option<usize>,
    /// Bootstrap replicates of every interval (0: no intervals). Default 1000.
    #[serde(default = "default_bootstrap")]
    pub bootstrap: usize,
    /// Warm-start the retrains (false: every retrain from λ = 0). Default true.
    #[serde(default = "yes")]
    pub warm_start: bool,
}

fn default_bootstrap() -> usize {
    1000
}
fn yes() -> bool {
    true
}
