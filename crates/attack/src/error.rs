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
    /// SVM error (a poisoner that trains or scores a model).
    #[error(transparent)]
    Svm(#[from] floral_svm::SvmError),
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

