//! `RawData` (features and labels as read from a file), the conversion to binary labels, the
//! file-type dispatch, transparent gzip, and the helpers the parsers share.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use faer::Mat;

use crate::{DataError, Dataset, Labels};

/// Largest feature index (1-based) a LIBSVM file may use: 2²² = 4,194,304. Features are stored
/// densely, so a larger index is refused with [`DataError::TooLarge`] instead of allocating.
pub const MAX_FEATURES: usize = 1 << 22;

/// Largest number of dense cells n·d a data file may produce: 2²⁷ = 134,217,728 (1 GiB of `f64`).
pub const MAX_CELLS: usize = 1 << 27;

/// Labels larger than this in magnitude (2⁵³) are refused: beyond it `f64` stops holding every
/// integer exactly.
const MAX_LABEL: f64 = 9_007_199_254_740_992.0;

/// Features and labels as read from a data file, before any interpretation of the labels.
///
/// Labels are the integers written in the file (`+1`, `-1`, `0`, `7`, ...) stored as `f64`, so
/// binary and multi-class files load alike; [`RawData::into_binary`] turns a two-class file into
/// a [`Dataset`], [`RawData::classes`] lists the classes of a multi-class one.
#[derive(Debug, Clone)]
pub struct RawData {
    /// The n×d feature matrix, one row per data row of the file.
    pub x: Mat<f64>,
    /// The n labels as written (integer-valued).
    pub labels: Vec<f64>,
    /// The 1-based source line of each row, for error messages; empty when the data did not
    /// come from a file.
    pub lines: Vec<usize>,
    /// True for sparse formats (LIBSVM/svmlight): an absent feature is zero, so the width is the
    /// largest index seen and files of one data set may legitimately differ in width.
    pub sparse: bool,
}

impl RawData {
    /// Raw data from a feature matrix and integer-valued labels (no source lines).
    ///
    /// # Errors
    /// [`DataError::DimensionMismatch`] when the row and label counts differ, and
    /// [`DataError::LabelOutOfSet`] for a label that is not a finite integer.
    pub fn new(x: Mat<f64>, labels: Vec<f64>) -> Result<Self, DataError> {
        if x.nrows() != labels.len() {
            return Err(DataError::DimensionMismatch {
                what: "number of labels vs feature rows",
                expected: x.nrows(),
                got: labels.len(),
            });
        }
        if let Some(&value) = labels.iter().find(|&&v| !is_integer_label(v)) {
            return Err(DataError::LabelOutOfSet {
                path: PathBuf::new(),
                line: 0,
                value,
                allowed: "an integer".into(),
            });
        }
        Ok(Self { x, labels, lines: Vec::new(), sparse: false })
    }

    /// Number of rows n.
    pub fn n(&self) -> usize {
        self.x.nrows()
    }

    /// Number of features d.
    pub fn dim(&self) -> usize {
        self.x.ncols()
    }

    /// The distinct labels, sorted ascending (for multi-class users).
    pub fn classes(&self) -> Vec<i64> {
        // Labels are integer-valued with |v| ≤ 2⁵³ by construction, so `as` is exact.
        let mut c: Vec<i64> = self.labels.iter().map(|&v| v as i64).collect();
        c.sort_unstable();
        c.dedup();
        c
    }

    /// Binary labels: {+1, −1} are kept, and a file labelled {1, 0} maps 1 → +1, 0 → −1.
    ///
    /// When any label is −1 the allowed set is {+1, −1}; otherwise it is {1, 0}. `path` names the
    /// source in errors.
    ///
    /// # Errors
    /// [`DataError::EmptyFile`] when there are no rows; [`DataError::LabelOutOfSet`] naming the
    /// file and line of the first label outside the allowed set; [`DataError::SingleClass`] when
    /// every label is the same ("a single class where two are needed"); the errors of
    /// [`Dataset::new`] if `x` and `labels` disagree in length or `x` holds a non-finite value.
    pub fn into_binary(self, path: &Path) -> Result<Dataset, DataError> {
        let Some(&first) = self.labels.first() else {
            return Err(DataError::EmptyFile { path: path.to_path_buf() });
        };
        let signed = self.labels.contains(&-1.0);
        let ok: fn(f64) -> bool = if signed { |v| v == 1.0 || v == -1.0 } else { |v| v == 1.0 || v == 0.0 };
        if let Some((row, &value)) = self.labels.iter().enumerate().find(|&(_, &v)| !ok(v)) {
            let mut distinct: Vec<f64> = self.labels.clone();
            distinct.sort_by(f64::total_cmp);
            distinct.dedup();
            let shown: Vec<String> = distinct.iter().take(6).map(|v| v.to_string()).collect();
            let more = if distinct.len() > 6 { ", …" } else { "" };
            return Err(DataError::LabelOutOfSet {
                path: path.to_path_buf(),
                line: self.lines.get(row).copied().unwrap_or(0),
                value,
                allowed: format!(
                    "a binary labelling, +1/-1 or 1/0 (this file's labels are {{{}{more}}}: {} classes)",
                    shown.join(", "),
                    distinct.len()
                ),
            });
        }
        if self.labels.iter().all(|&v| v == first) {
            return Err(DataError::SingleClass { path: path.to_path_buf(), label: first });
        }
        let y = Labels::from_signs(self.labels.iter().map(|&v| v == 1.0));
        Dataset::new(self.x, y)
    }
}

/// Pads `a` with zero feature columns on the right until it has `d` features.
///
/// A LIBSVM file omits zeros, so a file whose last features are all zero reads narrower than
/// its siblings; padding restores the documented width.
///
/// # Errors
/// [`DataError::DimensionMismatch`] when `a` already has more than `d` features.
pub fn pad_features(a: &mut RawData, d: usize) -> Result<(), DataError> {
    let have = a.x.ncols();
    if have > d {
        return Err(DataError::DimensionMismatch {
            what: "features to pad to (fewer than the data has)",
            expected: d,
            got: have,
        });
    }
    if have < d {
        let n = a.x.nrows();
        a.x.resize_with(n, d, |_, _| 0.0);
    }
    Ok(())
}

/// Brings two splits of one data set to the same number of features, refusing a mismatch that
/// cannot be a sparse file's omitted trailing zeros.
///
/// Equal widths: nothing to do. Different widths: when both files are sparse (LIBSVM/svmlight,
/// where a trailing feature that is zero in every row of a file simply never appears), or when
/// `allow_padding` is set, the narrower one is padded with zero columns ([`align_dims`]);
/// otherwise (a dense CSV on either side) it is an error.
///
/// # Errors
/// [`DataError::SplitDimensions`] naming both files and widths.
pub fn align_dims_checked(
    a: &mut RawData,
    a_path: &Path,
    b: &mut RawData,
    b_path: &Path,
    allow_padding: bool,
) -> Result<(), DataError> {
    if a.dim() == b.dim() {
        return Ok(());
    }
    if allow_padding || (a.sparse && b.sparse) {
        align_dims(a, b);
        return Ok(());
    }
    Err(DataError::SplitDimensions { a: a_path.to_path_buf(), a_dim: a.dim(), b: b_path.to_path_buf(), b_dim: b.dim() })
}

/// Pads the narrower of `a` and `b` with zero columns so both have the same number of features
/// (e.g. a LIBSVM train and test file whose trailing features are zero in one of them).
/// Unchecked: [`align_dims_checked`] refuses widths that cannot differ legitimately.
pub fn align_dims(a: &mut RawData, b: &mut RawData) {
    let d = a.dim().max(b.dim());
    for r in [a, b] {
        if r.dim() < d {
            let n = r.x.nrows();
            r.x.resize_with(n, d, |_, _| 0.0);
        }
    }
}

/// Reads a data file, choosing the format by its name: `.csv` or `.csv.gz` (any case) →
/// [`read_csv`](crate::read_csv), anything else → [`read_libsvm`](crate::read_libsvm). Gzip is
/// detected by content, so a compressed file reads transparently.
///
/// # Errors
/// The errors of the chosen reader.
pub fn read_data_file(path: &Path) -> Result<RawData, DataError> {
    if is_csv_name(path) { crate::read_csv(path) } else { crate::read_libsvm(path) }
}

/// True when the file name ends in `.csv` or `.csv.gz` (ASCII case-insensitive).
pub(crate) fn is_csv_name(path: &Path) -> bool {
    let name = path.file_name().map(|s| s.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    name.ends_with(".csv") || name.ends_with(".csv.gz")
}

/// The whole text of a (possibly gzip-compressed) file, e.g. a saved model.
///
/// # Errors
/// [`DataError::Io`] naming the file (also for text that is not UTF-8).
pub fn read_text_file(path: &Path) -> Result<String, DataError> {
    let mut r = open_maybe_gz(path)?;
    let mut s = String::new();
    std::io::Read::read_to_string(&mut r, &mut s)
        .map_err(|source| DataError::Io { path: path.to_path_buf(), source })?;
    Ok(s)
}

/// Opens `path` for buffered reading, decompressing it when it starts with the gzip magic bytes
/// `1f 8b` (multi-member gzip is supported).
pub(crate) fn open_maybe_gz(path: &Path) -> Result<Box<dyn BufRead>, DataError> {
    let file = File::open(path).map_err(|source| DataError::Io { path: path.to_path_buf(), source })?;
    maybe_gunzip(BufReader::new(file), path)
}

/// Wraps `reader` in a gzip decoder when its first bytes are the gzip magic `1f 8b`.
pub(crate) fn maybe_gunzip<R: BufRead + 'static>(mut reader: R, path: &Path) -> Result<Box<dyn BufRead>, DataError> {
    let head = reader.fill_buf().map_err(|source| DataError::Io { path: path.to_path_buf(), source })?;
    if head.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(BufReader::new(flate2::bufread::MultiGzDecoder::new(reader))))
    } else {
        Ok(Box::new(reader))
    }
}

/// True for a finite, integer-valued label of magnitude at most 2⁵³.
pub(crate) fn is_integer_label(v: f64) -> bool {
    v.is_finite() && v.fract() == 0.0 && v.abs() <= MAX_LABEL
}

/// A token shortened to at most `max` characters for an error message (an ellipsis marks a cut).
pub(crate) fn shorten(token: &str, max: usize) -> String {
    match token.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &token[..cut]),
        None => token.to_string(),
    }
}

/// Reads a text source line by line, with 1-based line numbers, `\r\n` endings accepted and
/// invalid UTF-8 reported as a typed error.
pub(crate) struct LineReader<'a, R> {
    reader: R,
    buf: Vec<u8>,
    line: usize,
    path: &'a Path,
}

impl<'a, R: BufRead> LineReader<'a, R> {
    /// A line reader over `reader`; `path` names the source in errors.
    pub(crate) fn new(reader: R, path: &'a Path) -> Self {
        Self { reader, buf: Vec::new(), line: 0, path }
    }

    /// The next line (without its line ending) and its 1-based number, or `None` at the end.
    pub(crate) fn next_line(&mut self) -> Result<Option<(usize, &str)>, DataError> {
        self.buf.clear();
        let got = self
            .reader
            .read_until(b'\n', &mut self.buf)
            .map_err(|source| DataError::Io { path: self.path.to_path_buf(), source })?;
        if got == 0 {
            return Ok(None);
        }
        self.line += 1;
        let mut bytes: &[u8] = &self.buf;
        if let Some(rest) = bytes.strip_suffix(b"\n") {
            bytes = rest;
        }
        if let Some(rest) = bytes.strip_suffix(b"\r") {
            bytes = rest;
        }
        match std::str::from_utf8(bytes) {
            Ok(text) => Ok(Some((self.line, text))),
            Err(e) => Err(DataError::Parse {
                path: self.path.to_path_buf(),
                line: self.line,
                message: format!("the line is not valid UTF-8 (bad byte at column {})", e.valid_up_to() + 1),
            }),
        }
    }
}

/// Parses an integer class label token (`+1`, `-1`, `0`, `7`, `1.0`).
pub(crate) fn parse_label(token: &str, path: &Path, line: usize) -> Result<f64, DataError> {
    let value: f64 = token.parse().map_err(|_| DataError::MalformedToken {
        path: path.to_path_buf(),
        line,
        token: shorten(token, 40),
        expected: "an integer class label such as +1, -1, 0 or 3",
    })?;
    if !value.is_finite() {
        return Err(DataError::NonFiniteValue { path: path.to_path_buf(), line, token: shorten(token, 40) });
    }
    if !is_integer_label(value) {
        return Err(DataError::LabelOutOfSet {
            path: path.to_path_buf(),
            line,
            value,
            allowed: "an integer of magnitude at most 2^53".into(),
        });
    }
    Ok(value)
}

/// Parses a finite feature value token.
pub(crate) fn parse_value(token: &str, path: &Path, line: usize) -> Result<f64, DataError> {
    let value: f64 = token.parse().map_err(|_| DataError::MalformedToken {
        path: path.to_path_buf(),
        line,
        token: shorten(token, 40),
        expected: "a number",
    })?;
    if !value.is_finite() {
        return Err(DataError::NonFiniteValue { path: path.to_path_buf(), line, token: shorten(token, 40) });
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::io::Cursor;

    fn raw(labels: Vec<f64>) -> RawData {
        let n = labels.len();
        RawData::new(Mat::from_fn(n, 1, |i, _| i as f64), labels).unwrap()
    }

    #[test]
    fn into_binary_maps_one_zero_and_keeps_signs() {
        let p = Path::new("f");
        let d = raw(vec![1.0, 0.0, 1.0]).into_binary(p).unwrap();
        assert_eq!(d.y().as_slice(), &[1.0, -1.0, 1.0]);
        let d = raw(vec![-1.0, 1.0]).into_binary(p).unwrap();
        assert_eq!(d.y().as_slice(), &[-1.0, 1.0]);
    }

    #[test]
    fn into_binary_names_line_of_bad_label() {
        let mut r = raw(vec![1.0, -1.0, 0.0]);
        r.lines = vec![3, 5, 9];
        let e = r.into_binary(Path::new("a.libsvm")).unwrap_err();
        assert!(matches!(e, DataError::LabelOutOfSet { line: 9, value: 0.0, .. }), "{e}");
        assert!(e.to_string().starts_with("a.libsvm:9:"), "{e}");
        let e = raw(vec![1.0, 2.0]).into_binary(Path::new("b")).unwrap_err();
        assert!(matches!(e, DataError::LabelOutOfSet { value: 2.0, line: 0, .. }));
    }

    #[test]
    fn into_binary_refuses_single_class_and_empty() {
        let e = raw(vec![0.0, 0.0]).into_binary(Path::new("c")).unwrap_err();
        assert!(e.to_string().contains("a single class where two are needed"));
        assert!(matches!(e, DataError::SingleClass { label: 0.0, .. }));
        let e = raw(vec![]).into_binary(Path::new("c")).unwrap_err();
        assert!(matches!(e, DataError::EmptyFile { .. }));
    }

    #[test]
    fn classes_are_sorted_unique() {
        assert_eq!(raw(vec![3.0, -1.0, 3.0, 0.0]).classes(), vec![-1, 0, 3]);
    }

    #[test]
    fn raw_new_checks_shape_and_integers() {
        assert!(RawData::new(Mat::zeros(2, 1), vec![1.0]).is_err());
        assert!(RawData::new(Mat::zeros(1, 1), vec![0.5]).is_err());
        assert!(RawData::new(Mat::zeros(1, 1), vec![f64::NAN]).is_err());
    }

    #[test]
    fn pad_and_align_add_zero_columns() {
        let mut a = raw(vec![1.0, -1.0]);
        pad_features(&mut a, 3).unwrap();
        assert_eq!((a.n(), a.dim()), (2, 3));
        assert_eq!(a.x[(1, 0)], 1.0);
        assert_eq!(a.x[(1, 2)], 0.0);
        assert!(pad_features(&mut a, 2).is_err());
        let mut b = raw(vec![1.0]);
        align_dims(&mut b, &mut a);
        assert_eq!((b.dim(), a.dim()), (3, 3));
        assert_eq!(b.x[(0, 0)], 0.0);
        assert_eq!(b.x[(0, 2)], 0.0);
    }

    #[test]
    fn csv_names_are_recognised() {
        assert!(is_csv_name(Path::new("a/b.csv")));
        assert!(is_csv_name(Path::new("B.CSV.GZ")));
        assert!(!is_csv_name(Path::new("b.libsvm.gz")));
        assert!(!is_csv_name(Path::new("csv")));
    }

    #[test]
    fn shorten_cuts_on_char_boundaries() {
        assert_eq!(shorten("abc", 5), "abc");
        assert_eq!(shorten("ééééé", 2), "éé…");
    }

    #[test]
    fn line_reader_numbers_lines_and_strips_crlf() {
        let mut r = LineReader::new(Cursor::new(b"a\r\n\nb".to_vec()), Path::new("p"));
        assert_eq!(r.next_line().unwrap(), Some((1, "a")));
        assert_eq!(r.next_line().unwrap(), Some((2, "")));
        assert_eq!(r.next_line().unwrap(), Some((3, "b")));
        assert_eq!(r.next_line().unwrap(), None);
        let mut r = LineReader::new(Cursor::new(b"ok\n\xff\n".to_vec()), Path::new("p"));
        assert!(r.next_line().is_ok());
        assert!(matches!(r.next_line(), Err(DataError::Parse { line: 2, .. })));
    }

    #[test]
    fn gzip_is_detected_by_content() {
        use std::io::{Read, Write};
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(b"+1 1:2\n").unwrap();
        let gz = enc.finish().unwrap();
        let mut s = String::new();
        maybe_gunzip(Cursor::new(gz), Path::new("g")).unwrap().read_to_string(&mut s).unwrap();
        assert_eq!(s, "+1 1:2\n");
        let mut s = String::new();
        maybe_gunzip(Cursor::new(b"plain".to_vec()), Path::new("g")).unwrap().read_to_string(&mut s).unwrap();
        assert_eq!(s, "plain");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Bytes behind a gzip magic number: both parsers give Ok or a typed error, never panic.
        #[test]
        fn corrupt_gzip_never_panics(tail in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut bytes = vec![0x1f, 0x8b];
            bytes.extend(tail);
            for csv in [false, true] {
                let r = maybe_gunzip(Cursor::new(bytes.clone()), Path::new("z.gz")).unwrap();
                let out = if csv {
                    crate::csv::parse_csv_reader(r, Path::new("z.gz"))
                } else {
                    crate::libsvm::parse_libsvm_reader(r, Path::new("z.gz"))
                };
                if let Err(e) = out {
                    prop_assert!(e.to_string().starts_with("z.gz"), "{}", e);
                }
            }
        }
    }
}
