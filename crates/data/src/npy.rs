//! NumPy arrays: embeddings as `.npy` feature and label files, or both in one `.npz` archive.
//!
//! The `.npy` format: the magic bytes `\x93NUMPY`, a version (1.0, 2.0 or 3.0), the header
//! length (u16 little endian for 1.0, u32 for 2.0 and 3.0), a Python dict literal
//! `{'descr': '<f4', 'fortran_order': False, 'shape': (n, d), }` padded with spaces and a
//! newline, then the n·d values in C (row-major) or Fortran (column-major) order. This module
//! reads it itself: it checks the preamble first (magic, version, a header of at most
//! [`MAX_NPY_HEADER`] bytes, a shape of at most two axes within [`MAX_CELLS`](crate::MAX_CELLS)
//! cells) so that no input, however corrupt, reaches an allocation or arithmetic it cannot
//! survive, then parses the header dict (a small Python-literal reader: strings, `True`/`False`,
//! integers, tuples, lists and dicts, nested at most [`MAX_DEPTH`] deep) and decodes the values
//! in either byte order. `.npz` archives (`numpy.savez` and `numpy.savez_compressed`: a zip file
//! of `.npy` members, stored or deflated) are opened with the `zip` crate.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use faer::Mat;

use crate::read::is_integer_label;
use crate::{DataError, MAX_CELLS, RawData};

/// Largest `.npy` header (the dict literal) accepted, in bytes: 65,536. NumPy writes headers of
/// a few hundred bytes and itself refuses more than 10,000 by default.
pub const MAX_NPY_HEADER: usize = 1 << 16;

/// Deepest nesting of tuples, lists and dicts read in a header (a structured dtype nests two or
/// three levels); deeper input is refused rather than recursed into.
const MAX_DEPTH: usize = 16;

/// Bytes decoded per read while streaming the values.
const CHUNK: usize = 1 << 16;

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
    /// The kind of a type character and size (`'f'`, 8 → float64), if floral reads it.
    fn of(type_char: char, size: usize) -> Option<Kind> {
        Some(match (type_char, size) {
            ('f', 4) => Kind::F32,
            ('f', 8) => Kind::F64,
            ('i', 1) => Kind::I8,
            ('i', 2) => Kind::I16,
            ('i', 4) => Kind::I32,
            ('i', 8) => Kind::I64,
            ('u', 1) => Kind::U8,
            ('u', 2) => Kind::U16,
            ('u', 4) => Kind::U32,
            ('u', 8) => Kind::U64,
            ('b', 1) => Kind::Bool,
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

/// The first `N` bytes of `b` (callers pass exactly `N`).
fn bytes<const N: usize>(b: &[u8]) -> [u8; N] {
    let mut a = [0u8; N];
    let n = N.min(b.len());
    a[..n].copy_from_slice(&b[..n]);
    a
}

/// One element of `kind` stored in `b`, big endian when `big`; `None` for a bool byte other
/// than 0 or 1.
fn decode(kind: Kind, big: bool, b: &[u8]) -> Option<f64> {
    macro_rules! num {
        ($t:ty, $n:literal) => {{
            let a = bytes::<$n>(b);
            if big { <$t>::from_be_bytes(a) } else { <$t>::from_le_bytes(a) }
        }};
    }
    Some(match kind {
        Kind::F32 => f64::from(num!(f32, 4)),
        Kind::F64 => num!(f64, 8),
        Kind::I8 => f64::from(num!(i8, 1)),
        Kind::I16 => f64::from(num!(i16, 2)),
        Kind::I32 => f64::from(num!(i32, 4)),
        // Values beyond 2⁵³ round; the label check then refuses them.
        Kind::I64 => num!(i64, 8) as f64,
        Kind::U8 => f64::from(num!(u8, 1)),
        Kind::U16 => f64::from(num!(u16, 2)),
        Kind::U32 => f64::from(num!(u32, 4)),
        Kind::U64 => num!(u64, 8) as f64,
        Kind::Bool => match b.first() {
            Some(0) => 0.0,
            Some(1) => 1.0,
            _ => return None,
        },
    })
}

/// A value of the header's Python dict literal.
#[derive(Debug, Clone, PartialEq)]
enum Py {
    Str(String),
    Bool(bool),
    /// An integer; `None` when negative or beyond `u64`.
    Int(Option<u64>),
    None,
    /// A tuple or a list.
    Seq(Vec<Py>),
    /// The entries of a dict, each with the source text of its value.
    Dict(Vec<(Py, Py, String)>),
}

/// A reader of the Python literals NumPy writes in `.npy` headers.
struct Literal<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Literal<'a> {
    fn peek(&self) -> Option<char> {
        self.text[self.at..].chars().next()
    }

    fn skip_space(&mut self) {
        let rest = &self.text[self.at..];
        self.at += rest.len() - rest.trim_start().len();
    }

    /// Consumes `c` (after any whitespace) if it comes next.
    fn eat(&mut self, c: char) -> bool {
        self.skip_space();
        if self.peek() == Some(c) {
            self.at += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> Result<Py, String> {
        if depth > MAX_DEPTH {
            return Err(format!("the header nests deeper than {MAX_DEPTH} levels"));
        }
        self.skip_space();
        let Some(c) = self.peek() else {
            return Err("the header dict ends early".into());
        };
        match c {
            '\'' | '"' => self.string(c),
            '(' => self.seq(')', depth).map(Py::Seq),
            '[' => self.seq(']', depth).map(Py::Seq),
            '{' => self.dict(depth),
            '0'..='9' | '-' => Ok(self.int()),
            _ => self.word(),
        }
    }

    fn string(&mut self, quote: char) -> Result<Py, String> {
        self.at += quote.len_utf8();
        let mut out = String::new();
        let mut chars = self.text[self.at..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, e)) => out.push(e),
                    None => break,
                },
                c if c == quote => {
                    self.at += i + c.len_utf8();
                    return Ok(Py::Str(out));
                }
                c => out.push(c),
            }
        }
        Err("a string in the header dict is not closed".into())
    }

    fn int(&mut self) -> Py {
        let rest = &self.text[self.at..];
        let negative = rest.starts_with('-');
        let digits = rest[usize::from(negative)..].bytes().take_while(u8::is_ascii_digit).count();
        let end = usize::from(negative) + digits;
        let value = if negative || digits == 0 { None } else { rest[..end].parse().ok() };
        self.at += end;
        // Python 2 wrote long integers with an `L` suffix.
        if matches!(self.peek(), Some('L' | 'l')) {
            self.at += 1;
        }
        Py::Int(value)
    }

    fn word(&mut self) -> Result<Py, String> {
        let rest = &self.text[self.at..];
        let len = rest.bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'_').count();
        let value = match &rest[..len] {
            "True" => Py::Bool(true),
            "False" => Py::Bool(false),
            "None" => Py::None,
            _ => return Err(format!("unexpected `{}` in the header dict", rest.chars().take(16).collect::<String>())),
        };
        self.at += len;
        Ok(value)
    }

    /// The items of a tuple or list up to `close` (a trailing comma allowed).
    fn seq(&mut self, close: char, depth: usize) -> Result<Vec<Py>, String> {
        self.at += 1;
        let mut items = Vec::new();
        loop {
            if self.eat(close) {
                return Ok(items);
            }
            items.push(self.value(depth + 1)?);
            if !self.eat(',') {
                if self.eat(close) {
                    return Ok(items);
                }
                return Err(format!("expected `,` or `{close}` in the header dict"));
            }
        }
    }

    fn dict(&mut self, depth: usize) -> Result<Py, String> {
        self.at += 1;
        let mut entries = Vec::new();
        loop {
            if self.eat('}') {
                return Ok(Py::Dict(entries));
            }
            let key = self.value(depth + 1)?;
            if !self.eat(':') {
                return Err("expected `:` after a key in the header dict".into());
            }
            self.skip_space();
            let start = self.at;
            let value = self.value(depth + 1)?;
            let source = self.text[start..self.at].to_string();
            entries.push((key, value, source));
            if !self.eat(',') {
                if self.eat('}') {
                    return Ok(Py::Dict(entries));
                }
                return Err("expected `,` or `}` in the header dict".into());
            }
        }
    }
}

/// What a `.npy` header says: the dtype (as written), its kind and byte order when floral reads
/// it, the memory order and the shape.
struct Header {
    descr: String,
    kind: Result<(Kind, bool), ()>,
    fortran: bool,
    shape: Vec<u64>,
}

/// Parses the header dict `{'descr': …, 'fortran_order': …, 'shape': (…), }`.
fn parse_header(text: &str) -> Result<Header, String> {
    let mut lit = Literal { text, at: 0 };
    let Py::Dict(entries) = lit.value(0)? else {
        return Err("the header is not a Python dict literal".into());
    };
    lit.skip_space();
    if lit.at != text.len() {
        return Err("text after the header dict".into());
    }
    let mut descr = None;
    let mut fortran = None;
    let mut shape = None;
    for (key, value, source) in entries {
        let Py::Str(key) = key else {
            return Err("a key of the header dict is not a string".into());
        };
        let slot = match key.as_str() {
            "descr" => &mut descr,
            "fortran_order" => &mut fortran,
            "shape" => &mut shape,
            other => return Err(format!("unexpected key `{other}` in the header dict")),
        };
        if slot.replace((value, source)).is_some() {
            return Err(format!("the key `{key}` appears twice in the header dict"));
        }
    }
    let Some((descr, descr_source)) = descr else {
        return Err("no `descr` in the header dict".into());
    };
    let fortran = match fortran {
        Some((Py::Bool(b), _)) => b,
        Some(_) => return Err("`fortran_order` is neither True nor False".into()),
        None => return Err("no `fortran_order` in the header dict".into()),
    };
    let shape = match shape {
        Some((Py::Seq(items), _)) => items
            .into_iter()
            .map(|d| match d {
                Py::Int(Some(v)) => Ok(v),
                _ => Err("`shape` is not a tuple of non-negative integers".to_string()),
            })
            .collect::<Result<Vec<u64>, String>>()?,
        _ => return Err("`shape` is not a tuple of non-negative integers".into()),
    };
    let (descr, kind) = match descr {
        Py::Str(s) => {
            let kind = type_str(&s)?;
            (s, kind)
        }
        // A structured dtype (a list of fields) or anything else: reported as written.
        _ => (descr_source.trim().to_string(), Err(())),
    };
    Ok(Header { descr, kind, fortran, shape })
}

/// The kind and byte order (`true` = big endian) of a plain type string such as `<f8`; `Err(())`
/// for a type floral does not read; an error message for a numeric type of more than one byte
/// marked `|` (no byte order).
fn type_str(s: &str) -> Result<Result<(Kind, bool), ()>, String> {
    let mut chars = s.chars();
    let (Some(order), Some(type_char)) = (chars.next(), chars.next()) else {
        return Ok(Err(()));
    };
    let Ok(size) = chars.as_str().parse::<usize>() else {
        return Ok(Err(()));
    };
    let Some(kind) = Kind::of(type_char, size) else {
        return Ok(Err(()));
    };
    match order {
        '<' => Ok(Ok((kind, false))),
        '>' => Ok(Ok((kind, true))),
        '|' if size == 1 => Ok(Ok((kind, false))),
        '|' => Err(format!("type string '{s}' has no byte order")),
        _ => Ok(Err(())),
    }
}

/// A `.npy` stream whose preamble and header have been checked, positioned at its values.
struct Checked<R: Read> {
    reader: R,
    shape: Vec<usize>,
    fortran: bool,
    kind: Kind,
    big: bool,
    /// The dtype as written in the header.
    descr: String,
    /// Total bytes the header promises (preamble and values).
    expected: u64,
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
    // Exactly one occurrence: then the dict entry `shape` parsed later is the one read here.
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
/// dtype, total length against `available` bytes when known), leaving the reader at the values.
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
    let header = parse_header(text).map_err(|message| malformed(path, message))?;
    if header.shape != dims {
        return Err(malformed(path, "the header's `shape` could not be read unambiguously"));
    }
    let shape: Vec<usize> = dims.iter().map(|&d| d as usize).collect();
    let Ok((kind, big)) = header.kind else {
        return Err(DataError::NpyDtype {
            path: path.to_path_buf(),
            dtype: header.descr,
            expected: "a numeric dtype (float32/float64 features; integer, bool or float labels)",
        });
    };
    let expected = preamble_len + cells * kind.size();
    if let Some(got) = available
        && got < expected
    {
        return Err(DataError::Truncated { path: path.to_path_buf(), expected: Some(expected), got: Some(got) });
    }
    Ok(Checked { reader, shape, fortran: header.fortran, kind, big, descr: header.descr, expected })
}

/// Decodes every value of `c` in storage order, calling `sink(k, v)` with the flat index k.
fn for_each_value<R: Read>(
    mut c: Checked<R>,
    path: &Path,
    mut sink: impl FnMut(usize, f64) -> Result<(), DataError>,
) -> Result<(), DataError> {
    let size = c.kind.size() as usize;
    let total: usize = c.shape.iter().product();
    let per_chunk = (CHUNK / size).min(total);
    let mut buf = vec![0u8; per_chunk * size];
    let mut k = 0;
    while k < total {
        let m = per_chunk.min(total - k);
        let chunk = &mut buf[..m * size];
        c.reader.read_exact(chunk).map_err(|e| io_error(path, e, Some(c.expected)))?;
        for (i, b) in chunk.chunks_exact(size).enumerate() {
            let v = decode(c.kind, c.big, b).ok_or_else(|| {
                malformed(path, format!("invalid value for bool: {}", b.first().copied().unwrap_or(0)))
            })?;
            sink(k + i, v)?;
        }
        k += m;
    }
    Ok(())
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
            dtype: c.descr.clone(),
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
    let fortran = c.fortran;
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
