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
    /// Two splits of one data set have different numbers of features.
    #[error(
        "{} has {a_dim} features but {} has {b_dim}: the splits must describe the same features (a dense CSV never omits columns; set `pad_features: true` in Files(…) to pad the narrower file with zero columns)",
        a.display(),
        b.display()
    )]
    SplitDimensions {
        /// The first file.
        a: std::path::PathBuf,
        /// Its width.
        a_dim: usize,
        /// The second file.
        b: std::path::PathBuf,
        /// Its width.
        b_dim: usize,
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
    /// A token that is not what the format expects at that place.
    #[error("{path}:{line}: malformed token `{token}`: expected {expected}")]
    MalformedToken {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The token as found (shortened to 40 characters).
        token: String,
        /// What was expected there, in words.
        expected: &'static str,
    },
    /// A LIBSVM feature index 0 (indices are 1-based).
    #[error("{path}:{line}: feature index 0; LIBSVM feature indices are 1-based")]
    ZeroFeatureIndex {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
    },
    /// A LIBSVM feature index not larger than the one before it on the same line.
    #[error("{path}:{line}: feature index {index} follows index {previous}; indices must be strictly increasing")]
    NonIncreasingIndex {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The offending index (1-based, as written).
        index: usize,
        /// The index before it on the same line.
        previous: usize,
    },
    /// A value that parses to NaN or ±infinity.
    #[error("{path}:{line}: value `{token}` is not finite; expected a finite number")]
    NonFiniteValue {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The token as found (shortened to 40 characters).
        token: String,
    },
    /// A CSV row whose number of fields differs from the header's.
    #[error("{path}:{line}: {got} columns, but the header has {expected}")]
    ColumnCount {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// Number of columns in the header.
        expected: usize,
        /// Number of columns in this row.
        got: usize,
    },
    /// A CSV header without a `label` column.
    #[error("{path}:{line}: no `label` column in the header `{header}`")]
    MissingLabelColumn {
        /// The file.
        path: PathBuf,
        /// 1-based line number of the header.
        line: usize,
        /// The header as found (shortened to 80 characters).
        header: String,
    },
    /// A label outside the allowed set (an integer while parsing; {+1, −1} or {1, 0} when
    /// converting to binary labels).
    #[error("{}{}: label {value} is not allowed: expected {allowed}", path.display(), if *line > 0 { format!(":{line}") } else { String::new() })]
    LabelOutOfSet {
        /// The file.
        path: PathBuf,
        /// 1-based line number (0 when unknown).
        line: usize,
        /// The label found.
        value: f64,
        /// The allowed labels, in words (and what the file holds, when that explains more).
        allowed: String,
    },
    /// A data file with no data rows.
    #[error("{path}: the file holds no data rows")]
    EmptyFile {
        /// The file.
        path: PathBuf,
    },
    /// A binary data set whose labels are all the same.
    #[error("{path}: every label is {label}: a single class where two are needed")]
    SingleClass {
        /// The file.
        path: PathBuf,
        /// The only label present (as written in the file).
        label: f64,
    },
    /// A data file whose dense size would exceed floral's limits.
    #[error("{path}:{line}: {what} is {got}, above the limit {limit}")]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// 1-based line number (0 when the problem is the whole file).
        line: usize,
        /// What is too large.
        what: &'static str,
        /// The limit.
        limit: usize,
        /// The size found (saturated at `usize::MAX`).
        got: usize,
    },
    /// A binary file (`.npy`, `.npz`) that is not in the format it claims.
    #[error("{path}: not a valid {format} file: {message}")]
    Malformed {
        /// The file (an archive member as `archive.npz[x.npy]`).
        path: PathBuf,
        /// The format expected, e.g. `.npy`.
        format: &'static str,
        /// What was wrong, in words.
        message: String,
    },
    /// A binary file that ends before the data its header promises.
    #[error("{}: truncated: {}", path.display(), truncation(*expected, *got))]
    Truncated {
        /// The file.
        path: PathBuf,
        /// Bytes the header promises (preamble and data), when known.
        expected: Option<u64>,
        /// Bytes the file holds, when known.
        got: Option<u64>,
    },
    /// A NumPy array of the wrong dimensionality or shape.
    #[error("{}: the array has shape ({}); expected {expected}", path.display(), shape.iter().map(u64::to_string).collect::<Vec<_>>().join(", "))]
    NpyShape {
        /// The file.
        path: PathBuf,
        /// The shape found.
        shape: Vec<u64>,
        /// What was expected, in words.
        expected: &'static str,
    },
    /// A NumPy array whose dtype floral does not read there.
    #[error("{path}: unsupported dtype `{dtype}`; expected {expected}")]
    NpyDtype {
        /// The file.
        path: PathBuf,
        /// The dtype as NumPy writes it, e.g. `<c16`.
        dtype: String,
        /// What was expected, in words.
        expected: &'static str,
    },
    /// A NaN or infinite value in a NumPy feature array.
    #[error("{path}: feature ({row}, {col}) is {value}; expected a finite number")]
    NpyNonFinite {
        /// The file.
        path: PathBuf,
        /// Row index (0-based).
        row: usize,
        /// Column index (0-based).
        col: usize,
        /// The value found.
        value: f64,
    },
    /// A NumPy label that is not a finite integer.
    #[error("{path}: label at index {index} is {value}; expected a finite integer of magnitude at most 2^53")]
    NpyLabel {
        /// The file.
        path: PathBuf,
        /// Index of the label (0-based).
        index: usize,
        /// The value found.
        value: f64,
    },
    /// Features and labels from two sources with different numbers of rows.
    #[error("{features} has {rows} rows but {labels} holds {count} labels; expected one label per row")]
    RowCountMismatch {
        /// The features' source.
        features: PathBuf,
        /// Its number of rows.
        rows: usize,
        /// The labels' source.
        labels: PathBuf,
        /// Its number of labels.
        count: usize,
    },
    /// An `.npz` archive without the array asked for.
    #[error("{path}: no array named `{name}` in the archive (it holds: {available})")]
    NpzMissingArray {
        /// The archive.
        path: PathBuf,
        /// The name asked for.
        name: String,
        /// The arrays the archive holds, comma separated (`none` when empty).
        available: String,
    },
}

/// The detail of a [`DataError::Truncated`] message.
fn truncation(expected: Option<u64>, got: Option<u64>) -> String {
    match (expected, got) {
        (Some(e), Some(g)) => format!("the header promises {e} bytes, the file holds {g}"),
        (Some(e), None) => format!("the header promises {e} bytes, the data ends before them"),
        (None, _) => "the file ends inside the .npy header".into(),
    }
}
