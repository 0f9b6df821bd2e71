//! Comma-separated values with a header row and a `label` column.

use std::io::BufRead;
use std::path::Path;

use faer::Mat;

use crate::DataError;
use crate::read::{LineReader, MAX_CELLS, RawData, parse_label, parse_value, shorten};

/// Reads a CSV data file (gzip-compressed files are detected and read transparently).
///
/// See [`parse_csv_reader`] for the accepted format.
///
/// # Errors
/// [`DataError::Io`] when the file cannot be opened or decompressed, and every error of
/// [`parse_csv_reader`].
pub fn read_csv(path: &Path) -> Result<RawData, DataError> {
    let reader = crate::read::open_maybe_gz(path)?;
    parse_csv_reader(reader, path)
}

/// Parses CSV text from any buffered reader; `path` only names the source in errors.
///
/// Format: the first non-blank line is a header of comma-separated column names; exactly one of
/// them is `label` (ASCII case-insensitive), in any position. Every other column is a numeric
/// feature, in header order. Each following non-blank line is one point with the same number of
/// fields. Fields are trimmed of spaces and of one pair of surrounding double quotes (quoted
/// fields may not contain commas). Labels are integers (`1`, `-1`, `0`, `7`); features finite
/// numbers. Row i of the result comes from the i-th data line, and `lines[i]` is its number.
///
/// # Errors
/// All carry the path and the 1-based line:
/// [`DataError::MissingLabelColumn`], [`DataError::Parse`] (two `label` columns, or a line that
/// is not UTF-8), [`DataError::ColumnCount`], [`DataError::MalformedToken`] (an empty or
/// non-numeric field), [`DataError::NonFiniteValue`], [`DataError::LabelOutOfSet`] (a
/// non-integer label), [`DataError::TooLarge`] (n·d above [`MAX_CELLS`](crate::MAX_CELLS)),
/// [`DataError::EmptyFile`] when there is no header or no data row, and [`DataError::Io`] when
/// the reader fails.
pub fn parse_csv_reader<R: BufRead>(reader: R, path: &Path) -> Result<RawData, DataError> {
    let mut lines = LineReader::new(reader, path);
    let (n_cols, label_col) = loop {
        let Some((line, text)) = lines.next_line()? else {
            return Err(DataError::EmptyFile { path: path.to_path_buf() });
        };
        if text.trim().is_empty() {
            continue;
        }
        let names: Vec<&str> = text.split(',').map(field).collect();
        let mut label_cols =
            names.iter().enumerate().filter(|(_, name)| name.eq_ignore_ascii_case("label")).map(|(k, _)| k);
        let Some(label_col) = label_cols.next() else {
            return Err(DataError::MissingLabelColumn { path: path.to_path_buf(), line, header: shorten(text, 80) });
        };
        if let Some(second) = label_cols.next() {
            return Err(DataError::Parse {
                path: path.to_path_buf(),
                line,
                message: format!("the header has two `label` columns (columns {} and {})", label_col + 1, second + 1),
            });
        }
        break (names.len(), label_col);
    };
    let d = n_cols - 1;
    let mut values: Vec<f64> = Vec::new();
    let mut labels: Vec<f64> = Vec::new();
    let mut line_of: Vec<usize> = Vec::new();
    while let Some((line, text)) = lines.next_line()? {
        if text.trim().is_empty() {
            continue;
        }
        let got = text.split(',').count();
        if got != n_cols {
            return Err(DataError::ColumnCount { path: path.to_path_buf(), line, expected: n_cols, got });
        }
        let cells = (labels.len() + 1).saturating_mul(d);
        if cells > MAX_CELLS {
            return Err(DataError::TooLarge {
                path: path.to_path_buf(),
                line,
                what: "the dense size n*d",
                limit: MAX_CELLS,
                got: cells,
            });
        }
        for (k, raw) in text.split(',').enumerate() {
            let token = field(raw);
            if k == label_col {
                labels.push(parse_label(token, path, line)?);
            } else {
                values.push(parse_value(token, path, line)?);
            }
        }
        line_of.push(line);
    }
    let n = labels.len();
    if n == 0 {
        return Err(DataError::EmptyFile { path: path.to_path_buf() });
    }
    let x = Mat::from_fn(n, d, |i, j| values[i * d + j]);
    Ok(RawData { x, labels, lines: line_of, sparse: false })
}

/// A field trimmed of spaces and of one pair of surrounding double quotes.
fn field(raw: &str) -> &str {
    let t = raw.trim();
    t.strip_prefix('"').and_then(|s| s.strip_suffix('"')).map_or(t, str::trim)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_trims_spaces_and_quotes() {
        assert_eq!(field("  a "), "a");
        assert_eq!(field(" \" label \" "), "label");
        assert_eq!(field("\""), "\"");
        assert_eq!(field(""), "");
    }
}
