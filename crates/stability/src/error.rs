//! The stability crate's error type.

/// Everything that can go wrong in floral-stability. Verdicts (stable, unstable, degenerate)
/// are data in [`crate::StabilityReport`], never errors; errors are bad parameters, mismatched
/// sizes and numerical failures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StabilityError {
    /// A parameter is outside its allowed range.
    #[error("invalid parameter `{field}`: expected {expected}, got {got}")]
    InvalidParam {
        /// Field name.
        field: &'static str,
        /// Allowed range, in words.
        expected: &'static str,
        /// The value received.
        got: String,
    },
    /// The point λ does not have one entry per training point.
    #[error("{what}: expected length {expected}, got {got}")]
    DimensionMismatch {
        /// What was being matched.
        what: &'static str,
        /// Expected length.
        expected: usize,
        /// Length found.
        got: usize,
    },
    /// A NaN or infinite entry in the point λ or in a computed quantity.
    #[error("{what} at index {index} is {value}; expected a finite number")]
    NonFinite {
        /// The quantity.
        what: &'static str,
        /// Its position.
        index: usize,
        /// The value found.
        value: f64,
    },
    /// An eigenvalue computation did not converge.
    #[error("eigenvalue computation did not converge for a {n}×{n} {what}")]
    Eigen {
        /// Which matrix.
        what: &'static str,
        /// Its order.
        n: usize,
    },
    /// An error from the svm crate (the map, the Gram matrix).
    #[error(transparent)]
    Svm(#[from] floral_svm::SvmError),
    /// An error from the projector inside the map.
    #[error(transparent)]
    Projection(#[from] floral_projection::ProjError),
}
