//! The projection crate's error type.

/// Everything that can go wrong when building or running a projector. Every variant names what
/// was wrong and where.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ProjError {
    /// An entry of the point `z` to project is NaN or infinite.
    #[error("z[{index}] is {value}; expected a finite number")]
    NonFinite {
        /// Position of the offending entry.
        index: usize,
        /// The value found.
        value: f64,
    },
    /// Two objects that must agree in length do not.
    #[error("{what}: expected length {expected}, got {got}")]
    DimensionMismatch {
        /// What was being matched (e.g. `"labels vs z"`).
        what: &'static str,
        /// Expected length (the length of `z`).
        expected: usize,
        /// Length found.
        got: usize,
    },
    /// A parameter is out of its allowed range.
    #[error("invalid parameter `{field}`: expected {expected}, got {got}")]
    InvalidParam {
        /// Field name.
        field: &'static str,
        /// Allowed range, in words.
        expected: &'static str,
        /// The value received.
        got: String,
    },
    /// A box bound C (or C_i) is negative, NaN or infinite.
    #[error("box bound {}is {value}; expected a finite number >= 0", match index { Some(i) => format!("C[{i}] "), None => String::from("C ") })]
    InvalidBound {
        /// The point whose bound is wrong (`None` for a uniform bound).
        index: Option<usize>,
        /// The value found.
        value: f64,
    },
}
