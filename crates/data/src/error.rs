//! The data crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong while building labels, flip sets and data sets, or while reading
/// a data file. Every variant names what was wrong and where.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// A label was not exactly +1.0 or -1.0.
    #[error("label at index {index} is {value}; expected exactly +1 or -1")]
    InvalidLabel {
        /// Position of the offending label.
        index: usize,
        /// The value found.
        value: f64,
    },
    /// A flip index is out of range.
    #[error("flip index {index} is out of range for {n} labels")]
    FlipOutOfRange {
        /// The offending index.
        index: usize,
        /// Number of labels.
        n: usize,
    },
    /// A flip index appears twice.
    #[error("flip index {index} appears more than once")]
    DuplicateFlip {
        /// The repeated index.
        index: usize,
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
    /// A non-finite feature value.
    #[error("feature ({row}, {col}) is {value}; expected a finite number")]
    NonFinite {
        /// Row index (0-based).
        row: usize,
        /// Column index (0-based).
        col: usize,
        /// The value found.
        value: f64,
    },
    /// A data file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A data file is malformed at a given line.
    #[error("{path}:{line}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line number (0 when the problem is the whole file).
        line: usize,
        /// What was wrong and what was expected.
        message: String,
    },
    /// A named data set is not shipped with floral.
    #[error("unknown data set `{name}`; known: {known}")]
    UnknownDataset {
        /// The name asked for.
        name: String,
        /// The names that exist, comma separated.
        known: String,
    },
}
