//! The RON types of the `AttackStudy` kind.

use serde::{Deserialize, Serialize};

use crate::spec::ExperimentSpec;

/// An attack study: the question, budgets and limits as text; the answer computed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename = "AttackStudy")]
pub struct AttackStudySpec {
    /// The question the report answers (shown first).
    pub question: String,
    /// What validation or trusted data each method and attacker uses (one item each).
    pub budgets: Vec<String>,
    /// What every ± varies over.
    pub variation: String,
    /// The report's limits (one item each).
    pub limits: Vec<String>,
    /// How the answer is computed from the summary.
    pub answer: AnswerSpec,
    /// The experiment run.
    pub experiment: ExperimentSpec,
}

/// How the answer is computed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum AnswerSpec {
    /// Zero-sum vs Stackelberg: FLORAL trained against each formulation, compared per poison
    /// level, and where each formulation's flips lie.
    Formulations {
        /// FLORAL's output rule compared (`last`, `avg-<m>`, `best-val`).
        rule: String,
        /// The FLORAL method trained with the Stackelberg (randomized top-k) attacker.
        stackelberg: String,
        /// The FLORAL methods trained with zero-sum attackers.
        zero_sum: Vec<String>,
        /// The plain SVM method.
        svm: String,
    },
    /// Defence-aware evaluation: each defence's robust accuracy under an adaptive attack vs
    /// the strongest of the oblivious attacks of the same budget.
    Adaptive {
        /// FLORAL's output rule compared.
        rule: String,
        /// The comparisons.
        comparisons: Vec<Comparison>,
    },
}

/// One adaptive poison level and the oblivious levels of the same budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Comparison {
    /// The adaptive level's name (as in the report's table).
    pub adaptive: String,
    /// The oblivious levels' names.
    pub oblivious: Vec<String>,
}
