//! The RON types of the `TrustedSize` kind.

use serde::{Deserialize, Serialize};

use crate::spec::{DataSpec, KernelSpec, MethodSpec, PoisonSpec};

/// A trusted-set-size study.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename = "TrustedSize")]
pub struct TrustedSizeSpec {
    /// Name; the default output directory is `reports/<name>`.
    pub name: String,
    /// One free-text line shown under the title (the question).
    #[serde(default)]
    pub description: String,
    /// Replication seeds.
    pub seeds: Vec<u64>,
    /// The data (it must give a validation split: the trusted set).
    pub data: DataSpec,
    /// Poisoning levels of the training labels.
    pub poison: Vec<PoisonSpec>,
    /// The kernel.
    pub kernel: KernelSpec,
    /// The methods compared (the two trusted-data SVMs are added when missing).
    pub methods: Vec<MethodSpec>,
    /// Trusted-set sizes, increasing; each at most the validation split's size.
    pub sizes: Vec<usize>,
    /// C of the trusted-data SVMs added when the methods lack them (default: the C of the
    /// first `Svm` method, else 1).
    #[serde(default)]
    pub trusted_c: Option<f64>,
    /// Record FLORAL's metrics every this many rounds.
    #[serde(default = "ten")]
    pub record_every: usize,
}

fn ten() -> usize {
    10
}
