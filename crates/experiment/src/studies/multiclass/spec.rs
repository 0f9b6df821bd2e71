//! The serde RON types of a `Multiclass(...)` file.

use floral_attack::NewClass;
use floral_defense::MulticlassFloralParams;
use serde::{Deserialize, Serialize};

use crate::spec::KernelSpec;

/// A `Multiclass(...)` file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename = "Multiclass")]
pub struct MulticlassSpec {
    /// Study name; the default output directory is `reports/<name>`.
    pub name: String,
    /// Free text shown under the title.
    #[serde(default)]
    pub description: String,
    /// Seeds (distinct, at least one); each draws the subsample, the poisoning and the attacker.
    pub seeds: Vec<u64>,
    /// Training data: a shipped sheet `name:sheet` (e.g. `mnist_5k:train`) or a LIBSVM file path
    /// (relative to the experiment file). Labels are integers, at least two classes.
    pub train: String,
    /// Test data, as `train`; its labels must be classes of the training data.
    pub test: String,
    /// Training points drawn uniformly without replacement per seed (None: all of them).
    #[serde(default)]
    pub train_points: Option<usize>,
    /// The kernel.
    pub kernel: KernelSpec,
    /// Box bound C > 0 of the SVM baselines (FLORAL's C is `floral.learner.c`).
    pub c: f64,
    /// Poison levels, in report order.
    pub poison: Vec<MulticlassPoison>,
    /// Multi-class FLORAL: the learners' parameters, rounds, budget k per round, averaging.
    pub floral: MulticlassFloralParams,
    /// The in-game attacker's pool size B (None: 2k).
    #[serde(default)]
    pub attacker_pool: Option<usize>,
    /// The in-game attacker's choice of new class.
    #[serde(default = "default_new_class")]
    pub attacker_new_class: NewClass,
}

fn default_new_class() -> NewClass {
    NewClass::MostConfusable
}

/// One poison level of a multi-class study (fractions of the training points used).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum MulticlassPoison {
    /// The labels as given.
    Clean,
    /// round(fraction·n) points drawn uniformly, each moved to a uniformly drawn other class.
    Random {
        /// In (0, 1].
        fraction: f64,
    },
    /// round(fraction·n) points drawn uniformly among the points of the source classes, each
    /// moved to its source's target.
    Targeted {
        /// In (0, 1].
        fraction: f64,
        /// (source, target) pairs of labels as written in the data file, e.g. `[(7, 1)]`.
        pairs: Vec<(i64, i64)>,
    },
}
