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
}

impl AttackError {
    /// Wrap into a [`floral_game::GameError`] naming the attacker.
    pub fn into_game(self, name: &'static str) -> floral_game::GameError {
        floral_game::GameError::Player {
            name,
            source: Box::new(self),
        }
    }
}
