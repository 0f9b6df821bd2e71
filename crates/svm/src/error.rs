//! The svm crate's error type.

/// Everything that can go wrong in floral-svm: bad parameters, mismatched sizes, infeasible warm
/// starts, non-finite numbers. Every variant names what was wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SvmError {
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
    /// Two objects that must agree in size do not.
    #[error("{what}: expected {expected}, got {got}")]
    DimensionMismatch {
        /// What was being matched.
        what: &'static str,
        /// Expected size.
        expected: usize,
        /// Size found.
        got: usize,
    },
    /// A matrix that must be symmetric is not.
    #[error("matrix is not symmetric: entry ({row}, {col}) is {value} but ({col}, {row}) is {mirror}")]
    NotSymmetric {
        /// Row of the first asymmetric entry found.
        row: usize,
        /// Column of the first asymmetric entry found.
        col: usize,
        /// Value at (row, col).
        value: f64,
        /// Value at (col, row).
        mirror: f64,
    },
    /// A NaN or infinite number where a finite one is required.
    #[error("{what} at index {index} is {value}; expected a finite number")]
    NonFinite {
        /// The quantity (e.g. "Gram entry", "warm start λ").
        what: &'static str,
        /// Position (row-major flat index for matrices).
        index: usize,
        /// The value found.
        value: f64,
    },
    /// A warm start violates 0 ≤ λ_i ≤ C_i or ỹᵀλ = 0 by more than the tolerance.
    #[error("infeasible warm start: {reason}")]
    InfeasibleWarmStart {
        /// Which constraint failed, with the offending index and value.
        reason: String,
    },
    /// An eigenvalue computation failed to converge.
    #[error("eigenvalue computation did not converge for a {n}×{n} matrix")]
    Eigen {
        /// Matrix order.
        n: usize,
    },
    /// An error from the data crate (labels, data sets, files).
    #[error(transparent)]
    Data(#[from] floral_data::DataError),
    /// A LIBSVM model file is malformed.
    #[error("{}:{line}: expected {message}", path.display())]
    ModelFile {
        /// The file.
        path: std::path::PathBuf,
        /// 1-based line.
        line: usize,
        /// What was expected, and what was found.
        message: String,
    },
    /// An error from the projection inside the projected-gradient map.
    #[error(transparent)]
    Projection(#[from] floral_projection::ProjError),
}
