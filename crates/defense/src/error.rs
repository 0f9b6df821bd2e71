//! The defense crate's error type.

/// Errors of learners and defences.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DefenseError {
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
    /// An input of a fit (the training set, the trusted set) cannot be used as it is.
    #[error("invalid input `{field}`: expected {expected}, got {got}")]
    InvalidInput {
        /// Which input (`train`, `trusted`).
        field: &'static str,
        /// What the defence needs.
        expected: &'static str,
        /// What it received.
        got: String,
    },
    /// Projection failed.
    #[error(transparent)]
    Projection(#[from] floral_projection::ProjError),
    /// SVM solver failed.
    #[error(transparent)]
    Svm(#[from] floral_svm::SvmError),
    /// The game a defence plays failed (a player's error, a budget violation, a NaN).
    #[error(transparent)]
    Game(#[from] floral_game::GameError),
    /// The inputs of a fit do not fit together (sizes, missing splits).
    #[error("{0}")]
    Input(String),
}
