//! The game crate's error type.

/// Errors of the game loop and its players.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GameError {
    /// An attacker returned more flips than its budget allows.
    #[error("attacker `{attacker}` flipped {got} labels in round {round}; the budget is k = {k}")]
    BudgetExceeded {
        /// The attacker's name.
        attacker: &'static str,
        /// The round.
        round: usize,
        /// Number of flips returned.
        got: usize,
        /// The budget.
        k: usize,
    },
    /// A player failed.
    #[error("{name}: {source}")]
    Player {
        /// The player's name.
        name: &'static str,
        /// What went wrong.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// A NaN or infinity appeared.
    #[error("round {round}: {quantity} is not finite")]
    NonFinite {
        /// The round.
        round: usize,
        /// Which quantity.
        quantity: &'static str,
    },
    /// Invalid game parameters.
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
    /// SVM error.
    #[error(transparent)]
    Svm(#[from] floral_svm::SvmError),
    /// Projection error.
    #[error(transparent)]
    Projection(#[from] floral_projection::ProjError),
}

impl GameError {
    /// A player's own error, wrapped with the player's name (how attacker and learner crates
    /// report their failures through the game).
    pub fn player(name: &'static str, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        GameError::Player { name, source: Box::new(source) }
    }
}
