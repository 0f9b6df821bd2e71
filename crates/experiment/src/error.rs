//! The experiment crate's error type.

use std::path::PathBuf;

/// Errors of reading, checking, building and running experiments.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExperimentError {
    /// The experiment file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The experiment file is not valid RON for the experiment format.
    #[error("{path}:{line}:{col}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        col: usize,
        /// What was wrong.
        message: String,
    },
    /// A field has a value outside its allowed range (cross-field checks included).
    #[error("{path}: field `{field}`: expected {expected}, got {got}")]
    Invalid {
        /// The file (or `<built-in>`).
        path: PathBuf,
        /// Dotted field path, e.g. `methods[0].attacker.pool`.
        field: String,
        /// What is allowed.
        expected: String,
        /// What was given.
        got: String,
    },
    /// Loading data failed (bad input).
    #[error("{path}: data: {source}")]
    Data {
        /// The experiment file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: floral_data::DataError,
    },
    /// A numerical or internal failure while running.
    #[error("run `{what}`: {message}")]
    Run {
        /// Which run (method, poison level, seed).
        what: String,
        /// What went wrong.
        message: String,
    },
    /// A cell store cannot be used as asked (no store, stores of different experiments,
    /// missing cells, a flag the study kind does not support).
    #[error("{path}: {message}")]
    Store {
        /// The output directory or store concerned.
        path: PathBuf,
        /// What is wrong and what was expected.
        message: String,
    },
    /// Writing the report failed.
    #[error(transparent)]
    Report(#[from] floral_report::ReportError),
}

impl ExperimentError {
    /// [`ExperimentError::Invalid`] for the experiment file `path`.
    pub fn invalid(
        path: &std::path::Path,
        field: impl Into<String>,
        expected: impl Into<String>,
        got: impl ToString,
    ) -> Self {
        ExperimentError::Invalid {
            path: path.to_path_buf(),
            field: field.into(),
            expected: expected.into(),
            got: got.to_string(),
        }
    }

    /// True when the user's input is to blame (exit code 1); false for numerical or internal
    /// failures (exit code 2).
    pub fn is_input_error(&self) -> bool {
        matches!(
            self,
            ExperimentError::Io { .. }
                | ExperimentError::Parse { .. }
                | ExperimentError::Invalid { .. }
                | ExperimentError::Data { .. }
                | ExperimentError::Store { .. }
                // An output directory that cannot be written is a bad `--out`.
                | ExperimentError::Report(floral_report::ReportError::Io { .. })
        )
    }
}
