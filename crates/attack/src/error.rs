//! The attack crate's error type.

/// Errors of attackers.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AttackError {
    /// A parameter is out of range.
    #[error("invalid parameter `{field}`: expected {expected}, got {got}")]
    InvalidParam {
        /// Field name.
        field: &'static str,
        /// Allowed range.
        expected: &'static str,
        /// Value received.
        got: String,
    },
    /// Data error.
    #[error(transparent)]
    Data(#[from] floral_data::DataError),
    /// A simulated game's error (a poisoner that plays the defender's dynamics).
    #[error(transparent)]
    Game(#[from] floral_game::GameError),
    /// SVM error (a poisoner that trains or scores a model).
    #[error(transparent)]
    Svm(#[from] floral_svm::SvmError),
    /// A model-based poisoner needs both classes in the training set.
    #[error("poisoner `{poisoner}` needs both classes in the training set; all {n} labels are {label}")]
    SingleClass {
        /// The poisoner's name.
        poisoner: &'static str,
        /// Number of training points.
        n: usize,
        /// The one label present (+1 or −1).
        label: f64,
    },
    /// An optimisation step of a poisoner did not reach a usable solution.
    #[error("poisoner `{poisoner}`: the {step} did not solve: {detail}")]
    Solver {
        /// The poisoner's name.
        poisoner: &'static str,
        /// Which step (e.g. "LP step in iteration 3").
        step: String,
        /// The solver's status or error.
        detail: String,
    },
    /// A poisoner returned a flip set whose size is not the budget.
    #[error("poisoner `{poisoner}` returned {got} flips; the budget is exactly {budget}")]
    BudgetNotMet {
        /// The poisoner's name.
        poisoner: &'static str,
        /// Flips returned.
        got: usize,
        /// The budget.
        budget: usize,
    },
}
