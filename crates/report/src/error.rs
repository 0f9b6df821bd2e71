//! The report crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong while rendering or writing a report. IO variants name the path.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// A filesystem operation failed.
    #[error("cannot {op} {}: {source}", path.display())]
    Io {
        /// What was being done ("create directory", "write temporary file", "rename", ...).
        op: &'static str,
        /// The path the operation was applied to.
        path: PathBuf,
        /// The underlying IO error.
        #[source]
        source: std::io::Error,
    },
    /// A figure's file name is not a safe bare `*.svg` file name.
    #[error("figure file name {file:?} is invalid: {reason}")]
    InvalidFigureName {
        /// The rejected name.
        file: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// Two figures of one document use the same file name.
    #[error("figure file name {file:?} is used by more than one figure")]
    DuplicateFigure {
        /// The repeated name.
        file: String,
    },
    /// A plot's data or ranges are unusable.
    #[error("plot {plot:?}: `{field}` expected {expected}, got {got}")]
    InvalidPlot {
        /// Title of the plot.
        plot: String,
        /// The offending field.
        field: &'static str,
        /// What was expected.
        expected: &'static str,
        /// What was found.
        got: String,
    },
    /// plotters reported a drawing error.
    #[error("plot {plot:?}: rendering failed: {message}")]
    Render {
        /// Title of the plot.
        plot: String,
        /// The drawing error, as text.
        message: String,
    },
    /// The results value could not be serialized to JSON.
    #[error("cannot serialize results.json: {source}")]
    Json {
        /// The serde_json error.
        #[from]
        source: serde_json::Error,
    },
}
