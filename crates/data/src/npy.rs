//! NumPy arrays: embeddings as `.npy` feature and label files, or both in one `.npz` archive.
//!
//! The `.npy` format: the magic bytes `\x93NUMPY`, a version (1.0, 2.0 or 3.0), the header
//! length (u16 little endian for 1.0, u32 for 2.0 and 3.0), a Python dict literal
//! `{'descr': '<f4', 'fortran_order': False, 'shape': (n, d), }` padded with spaces and a
//! newline, then the n·d values in C (row-major) or Fortran (column-major) order. The header
//! and the values are decoded by `npyz`; this module first checks the preamble itself (magic,
//! version, a header of at most [`MAX_NPY_HEADER`] bytes, a shape of at most two axes within
//! [`MAX_CELLS`](crate::MAX_CELLS) cells) so that no input, however corrupt, reaches an
//! allocation or arithmetic it cannot survive. `.npz` archives (`numpy.savez` and
//! `numpy.savez_compressed`: a zip file of `.npy` members, stored or deflated) are opened with
//! the `zip` crate.

use std::fs::File;
use std::io::{BufReader, Cursor, Read};
use std::path::{Path, PathBuf};

use faer::Mat;
use npyz::{DType, NpyFile, Order, TypeChar};

use crate::read::is_integer_label;
use crate::{DataError, MAX_CELLS, RawData};

/// Largest `.npy` header (the dict literal) accepted, in bytes: 65,536. NumPy writes headers of
/// a few hundred bytes and itself refuses more than 10,000 by default.
pub const MAX_NPY_HEADER: usize = 1 << 16;

/// The element types floral reads from a `.npy` file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    F32,
    F64,
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
    Bool,
}

impl Kind {
    fn of(dtype: &DType) -> Option<Kind> {
        let DType::Plain(ts) = dtype else {
            return None;
        };
        Some(match (ts.type_char(), ts.size_field()) {
            (TypeChar::Float, 4) => Kind::F32,
            (TypeChar::Float, 8) => Kind::F64,
            (TypeChar::Int, 1) => Kind::I8,
            (TypeChar::Int, 2) => Kind::I16,
            (TypeChar::Int, 4) => Kind::I32,
            (TypeChar::Int, 8) => Kind::I64,
            (TypeChar::Uint, 1) => Kind::U8,
            (TypeChar::Uint, 2) => Kind::U16,
            (TypeChar::Uint, 4) => Kind::U32,
            (TypeChar::Uint, 8) => Kind::U64,
            (TypeChar::Bool, 1) => Kind::Bool,
            _ => return None,
        })
    }

    fn is_float(self) -> bool {
        matches!(self, Kind::F32 | Kind::F64)
    }

    /// Bytes per element.
    fn size(self) -> u64 {
        match self {
            Kind::I8 | Kind::U8 | Kind::Bool => 1,
            Kind::I16 | Kind::U16 => 2,
            Kind::F32 | Kind::I32 | Kind::U32 => 4,
            Kind::F64 | Kind::I64 | Kind::U64 => 8,
        }
    }
}

/// A `.npy` stream whose preamble has been checked, ready to decode its values.
struct Checked<R: Read> {
    file: NpyFile<std::io::Chain<Cursor<Vec<u8>>, R>>,
    shape: Vec<usize>,
    order: Order,
    kind: Kind,
    /// Total bytes the header promises (preamble and values).
    expected: u64,
}

/// A dtype as NumPy spells it: `<f8` for a plain type, the descr literal for a structured one.
fn dtype_name(dtype: &DType) -> String {
    match dtype {
        DType::Plain(ts) => ts.to_string(),
        other => other.descr(),
    }
}

fn malformed(path: &Path, message: impl Into<String>) -> DataError {
    DataError::Malformed { path: path.to_path_buf(), format: ".npy", message: message.into() }
}

/// An I/O error while reading `path`: an unexpected end of data is a truncated file.
/// `expected` is the total length the header promises, when known.
fn io_error(path: &Path, e: std::io::Error, expected: Option<u64>) -> DataError {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        DataError::Truncated { path: path.to_path_buf(), expected, got: None }
    } else if e.kind() == std::io::ErrorKind::InvalidData {
        malformed(path, e.to_string())
    } else {
        DataError::Io { path: path.to_path_buf(), source: e }
    }
}

/// The dimensions written after `'shape':` in a header dict, e.g. `(20000, 768)` → [20000, 768].
/// Accepts what NumPy writes (a tuple or list of decimal integers, Python 2's `L` suffix, a
/// trailing comma); `None` for anything else.
fn scan_shape(text: &str) -> Option<Vec<u64>> {
    // Exactly one occurrence: then npyz's dict entry `shape` is the one read here.
    if text.matches("shape").count() != 1 {
        return None;
    }
    let at = text.find("shape")?;
    let rest = text[at + "shape".len()..].trim_start_matches(['\'', '"']);
    let rest = rest.trim_start().strip_prefix(':')?.trim_start();
    let close = match rest.chars().next()? {
        '(' => ')',
        '[' => ']',
        _ => return None,
    };
    let end = rest.find(close)?;
    let inner = &rest[1..end];
    let mut dims = Vec::new();
    for token in inner.split(',') {
        let token = token.trim();
        if token.is_empty() {
            continue;
        }
        let digits = token.strip_suffix(['L', 'l']).unwrap_or(token);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        dims.push(digits.parse().ok()?);
    }
    Some(dims)
}

/// Reads and checks the preamble of a `.npy` stream (magic, version, header, shape bounds,
/// dtype, total length against `available` bytes when known) and hands the rest to npyz.
fn check<R: Read>(mut reader: R, available: Option<u64>, path: &Path) -> Result<Checked<R>, DataError> {
    let mut pre = vec![0u8; 8];
    reader.read_exact(&mut pre).map_err(|e| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            malformed(path, "shorter than the 8-byte .npy preamble (magic \\x93NUMPY and version)")
        } else {
            io_error(path, e, None)
        }
    })?;
    if &pre[..6] != b"\x93NUMPY" {
        return Err(malformed(path, "no \\x93NUMPY magic at the start: not a .npy file"));
    }
    let len_bytes = match (pre[6], pre[7]) {
        (1, 0) => 2,
        (2, 0) | (3, 0) => 4,
        (a, b) => {
            return Err(malformed(path, format!("format version {a}.{b}; expected 1.0, 2.0 or 3.0")));
        }
    };
    let mut len = [0u8; 4];
    reader.read_exact(&mut len[..len_bytes]).map_err(|e| io_error(path, e, None))?;
    pre.extend_from_slice(&len[..len_bytes]);
    let header_len = u32::from_le_bytes(len) as usize;
    if header_len > MAX_NPY_HEADER {
        return Err(malformed(path, format!("header of {header_len} bytes; at most {MAX_NPY_HEADER} are accepted")));
    }
    let start = pre.len();
    pre.resize(start + header_len, 0);
    reader.read_exact(&mut pre[start..]).map_err(|e| io_error(path, e, Some(pre.len() as u64)))?;
    let text = std::str::from_utf8(&pre[start..]).map_err(|_| malformed(path, "the header is not UTF-8 text"))?;
    let dims = scan_shape(text).ok_or_else(|| malformed(path, "no `shape` tuple of integers in the header dict"))?;
    if dims.len() > 2 {
        return Err(DataError::NpyShape { path: path.to_path_buf(), shape: dims, expected: "a 1-D or 2-D array" });
    }
    let mut cells: u64 = 1;
    for &dim in &dims {
        cells = cells.saturating_mul(dim);
    }
    if cells > MAX_CELLS as u64 || dims.iter().any(|&d| d > MAX_CELLS as u64) {
        return Err(DataError::TooLarge {
            path: path.to_path_buf(),
            line: 0,
            what: "the number of array elements",
            limit: MAX_CELLS,
            got: usize::try_from(cells).unwrap_or(usize::MAX),
        });
    }
    let preamble_len = pre.len() as u64;
    let file = NpyFile::new(Cursor::new(pre).chain(reader)).map_err(|e| io_error(path, e, None))?;
    let shape: Vec<usize> = file.shape().iter().map(|&d| d as usize).collect();
    if file.shape() != dims.as_slice() {
        return Err(malformed(path, "the header's `shape` could not be read unambiguously"));
    }
    let dtype = file.dtype();
    let kind = Kind::of(&dtype).ok_or_else(|| DataError::NpyDtype {
        path: path.to_path_buf(),
        dtype: dtype_name(&dtype),
        expected: "a numeric dtype (float32/float64 features; integer, bool or float labels)",
    })?;
    let expected = preamble_len + cells * kind.size();
    if let Some(got) = available
        && got < expected
    {
        return Err(DataError::Truncated { path: path.to_path_buf(), expected: Some(expected), got: Some(got) });
    }
    let order = file.order();
    Ok(Checked { file, shape, order, kind, expected })
}

/// Decodes every value of `c` in storage order, calling `sink(k, v)` with the flat index k.
fn for_each_value<R: Read>(
    c: Checked<R>,
    path: &Path,
    mut sink: impl FnMut(usize, f64) -> Result<(), DataError>,
) -> Result<(), DataError> {
    fn drain<T: npyz::Deserialize, R: Read>(
        file: NpyFile<R>,
        path: &Path,
        expected: u64,
        conv: fn(T) -> f64,
        sink: &mut dyn FnMut(usize, f64) -> Result<(), DataError>,
    ) -> Result<(), DataError> {
        let data = file.data::<T>().map_err(|e| malformed(path, e.to_string()))?;
        for (k, item) in data.enumerate() {
            let v = item.map_err(|e| io_error(path, e, Some(expected)))?;
            sink(k, conv(v))?;
        }
        Ok(())
    }
    let s = &mut sink;
    let expected = c.expected;
    match c.kind {
        Kind::F32 => drain::<f32, _>(c.file, path, expected, f64::from, s),
        Kind::F64 => drain::<f64, _>(c.file, path, expected, |v| v, s),
        Kind::I8 => drain::<i8, _>(c.file, path, expected, f64::from, s),
        Kind::I16 => drain::<i16, _>(c.file, path, expected, f64::from, s),
        Kind::I32 => drain::<i32, _>(c.file, path, expected, f64::from, s),
        // Values beyond 2⁵³ round; the label check then refuses them.
        Kind::I64 => drain::<i64, _>(c.file, path, expected, |v| v as f64, s),
        Kind::U8 => drain::<u8, _>(c.file, path, expected, f64::from, s),
        Kind::U16 => drain::<u16, _>(c.file, path, expected, f64::from, s),
        Kind::U32 => drain::<u32, _>(c.file, path, expected, f64::from, s),
        Kind::U64 => drain::<u64, _>(c.file, path, expected, |v| v as f64, s),
        Kind::Bool => drain::<bool, _>(c.file, path, expected, |v| f64::from(u8::from(v)), s),
    }
}

/// The file length, when the metadata gives one.
fn open(path: &Path) -> Result<(BufReader<File>, Option<u64>), DataError> {
    let file = File::open(path).map_err(|source| DataError::Io { path: path.to_path_buf(), source })?;
    let len = file.metadata().ok().map(|m| m.len());
    Ok((BufReader::new(file), len))
}

/// Parses a 2-D float32 or float64 `.npy` stream into an n×d matrix (see [`read_npy_features`]).
/// `available` is the stream's length in bytes when known (a shorter stream is reported as
/// truncated before any value is read); `path` names the source in errors.
///
/// # Errors
/// As [`read_npy_features`].
pub fn parse_npy_features<R: Read>(reader: R, available: Option<u64>, path: &Path) -> Result<Mat<f64>, DataError> {
    let c = check(reader, available, path)?;
    let &[n, d] = c.shape.as_slice() else {
        return Err(DataError::NpyShape {
            path: path.to_path_buf(),
            shape: c.shape.iter().map(|&v| v as u64).collect(),
            expected: "a 2-D array (n rows × d features)",
        });
    };
    if !c.kind.is_float() {
        return Err(DataError::NpyDtype {
            path: path.to_path_buf(),
            dtype: dtype_name(&c.file.dtype()),
            expected: "float32 or float64 features",
        });
    }
    if n == 0 {
        return Err(DataError::EmptyFile { path: path.to_path_buf() });
    }
    if d == 0 {
        return Err(DataError::NpyShape {
            path: path.to_path_buf(),
            shape: vec![n as u64, 0],
            expected: "at least one feature column",
        });
    }
    let fortran = c.order == Order::Fortran;
    let mut x = Mat::<f64>::zeros(n, d);
    for_each_value(c, path, |k, v| {
        let (i, j) = if fortran { (k % n, k / n) } else { (k / d, k % d) };
        if !v.is_finite() {
            return Err(DataError::NpyNonFinite { path: path.to_path_buf(), row: i, col: j, value: v });
        }
        x[(i, j)] = v;
        Ok(())
    })?;
    Ok(x)
}

/// Parses a label `.npy` stream (see [`read_npy_labels`]); `available` and `path` as in
/// [`parse_npy_features`].
///
/// # Errors
/// As [`read_npy_labels`].
pub fn parse_npy_labels<R: Read>(reader: R, available: Option<u64>, path: &Path) -> Result<Vec<f64>, DataError> {
    let c = check(reader, available, path)?;
    let n = match c.shape.as_slice() {
        &[n] | &[n, 1] => n,
        _ => {
            return Err(DataError::NpyShape {
                path: path.to_path_buf(),
                shape: c.shape.iter().map(|&v| v as u64).collect(),
                expected: "a 1-D array of labels (or n×1)",
            });
        }
    };
    if n == 0 {
        return Err(DataError::EmptyFile { path: path.to_path_buf() });
    }
    let mut labels = vec![0.0; n];
    for_each_value(c, path, |k, v| {
        if !is_integer_label(v) {
            return Err(DataError::NpyLabel { path: path.to_path_buf(), index: k, value: v });
        }
        labels[k] = v;
        Ok(())
    })?;
    Ok(labels)
}

/// Reads an n×d feature matrix from a `.npy` file: a 2-D float32 (`f4`) or float64 (`f8`)
/// array, C or Fortran order, little or big endian, every value finite. float32 values are
/// widened to `f64` exactly.
///
/// # Errors
/// [`DataError::Io`] when the file cannot be read; [`DataError::Malformed`] for a file that is
/// not `.npy` (magic, version, header); [`DataError::NpyShape`] for an array that is not 2-D or
/// has no columns; [`DataError::NpyDtype`] for another dtype; [`DataError::EmptyFile`] for zero
/// rows; [`DataError::TooLarge`] above [`MAX_CELLS`](crate::MAX_CELLS) values;
/// [`DataError::Truncated`] when the file holds fewer bytes than its header promises;
/// [`DataError::NpyNonFinite`] naming the row and column of a NaN or infinity.
pub fn read_npy_features(path: &Path) -> Result<Mat<f64>, DataError> {
    let (r, len) = open(path)?;
    parse_npy_features(r, len, path)
}

/// Reads n labels from a `.npy` file: a 1-D (or n×1) array of any integer dtype, bool, float32
/// or float64, either byte order. Labels are returned as written (as `f64`), like
/// [`RawData::labels`]; each must be a finite integer of magnitude at most 2⁵³ (so `1.0` is
/// accepted, `0.5` is not).
///
/// # Errors
/// As [`read_npy_features`] (the shape must be 1-D or n×1; any numeric dtype is accepted), and
/// [`DataError::NpyLabel`] naming the index of a label that is not a finite integer.
pub fn read_npy_labels(path: &Path) -> Result<Vec<f64>, DataError> {
    let (r, len) = open(path)?;
    parse_npy_labels(r, len, path)
}

/// Pairs features and labels read from two sources into [`RawData`] (dense, no source lines).
fn pair(x: Mat<f64>, x_src: &Path, labels: Vec<f64>, y_src: &Path) -> Result<RawData, DataError> {
    if x.nrows() != labels.len() {
        return Err(DataError::RowCountMismatch {
            features: x_src.to_path_buf(),
            rows: x.nrows(),
            labels: y_src.to_path_buf(),
            count: labels.len(),
        });
    }
    Ok(RawData { x, labels, lines: Vec::new(), sparse: false })
}

/// An embedding data set from two `.npy` files: the n×d features ([`read_npy_features`]) and
/// the n labels ([`read_npy_labels`]), row i of one matching entry i of the other. The result is
/// dense [`RawData`] with no source lines; [`RawData::into_binary`] makes it a
/// [`Dataset`](crate::Dataset).
///
/// # Errors
/// The errors of the two readers, and [`DataError::RowCountMismatch`] naming both files when
/// the row and label counts differ.
pub fn read_embeddings(features: &Path, labels: &Path) -> Result<RawData, DataError> {
    let x = read_npy_features(features)?;
    let y = read_npy_labels(labels)?;
    pair(x, features, y, labels)
}

/// An embedding data set from one `.npz` archive (`numpy.savez` or `numpy.savez_compressed`)
/// holding the features under `x_name` and the labels under `y_name` (the names given to
/// `savez`, e.g. `"x"` and `"y"`; a trailing `.npy` is optional). Each member is read as by
/// [`read_npy_features`] and [`read_npy_labels`]; errors name a member as `archive.npz[x.npy]`.
///
/// # Errors
/// [`DataError::Io`] when the file cannot be opened; [`DataError::Malformed`] for a file that is
/// not a zip archive or a member that cannot be decompressed; [`DataError::NpzMissingArray`]
/// naming the archive, the missing name and the arrays it does hold; the errors of the two
/// readers; [`DataError::RowCountMismatch`].
pub fn read_npz(path: &Path, x_name: &str, y_name: &str) -> Result<RawData, DataError> {
    let file = File::open(path).map_err(|source| DataError::Io { path: path.to_path_buf(), source })?;
    let mut archive = zip::ZipArchive::new(BufReader::new(file)).map_err(|e| zip_error(path, e))?;
    let (x, x_src) = npz_member(&mut archive, path, x_name, |r, len, src| parse_npy_features(r, len, src))?;
    let (y, y_src) = npz_member(&mut archive, path, y_name, |r, len, src| parse_npy_labels(r, len, src))?;
    pair(x, &x_src, y, &y_src)
}

fn zip_error(path: &Path, e: zip::result::ZipError) -> DataError {
    match e {
        zip::result::ZipError::Io(source) => DataError::Io { path: path.to_path_buf(), source },
        other => DataError::Malformed { path: path.to_path_buf(), format: ".npz (zip)", message: other.to_string() },
    }
}

/// Reads the member `name` (or `name.npy`) of an open archive with `parse`.
fn npz_member<T, R: Read + std::io::Seek>(
    archive: &mut zip::ZipArchive<R>,
    path: &Path,
    name: &str,
    parse: impl FnOnce(&mut dyn Read, Option<u64>, &Path) -> Result<T, DataError>,
) -> Result<(T, PathBuf), DataError> {
    let base = name.strip_suffix(".npy").unwrap_or(name);
    let member = [format!("{base}.npy"), base.to_string()].into_iter().find(|m| archive.index_for_name(m).is_some());
    let Some(member) = member else {
        let mut names: Vec<String> =
            archive.file_names().map(|m| m.strip_suffix(".npy").unwrap_or(m).to_string()).collect();
        names.sort();
        return Err(DataError::NpzMissingArray {
            path: path.to_path_buf(),
            name: name.to_string(),
            available: if names.is_empty() { "none".into() } else { names.join(", ") },
        });
    };
    let src = PathBuf::from(format!("{}[{member}]", path.display()));
    let mut entry = archive.by_name(&member).map_err(|e| zip_error(&src, e))?;
    let len = Some(entry.size());
    let value = parse(&mut entry, len, &src)?;
    Ok((value, src))
}
