//! The LIBSVM / svmlight text format: `label index:value index:value ...`, one point per line.

use std::io::BufRead;
use std::path::Path;

use faer::Mat;

use crate::DataError;
use crate::read::{LineReader, MAX_CELLS, MAX_FEATURES, RawData, parse_label, parse_value, shorten};

/// Reads a LIBSVM / svmlight file (gzip-compressed files are detected and read transparently).
///
/// See [`parse_libsvm_reader`] for the accepted format.
///
/// # Errors
/// [`DataError::Io`] when the file cannot be opened or decompressed, and every error of
/// [`parse_libsvm_reader`].
pub fn read_libsvm(path: &Path) -> Result<RawData, DataError> {
    let reader = crate::read::open_maybe_gz(path)?;
    parse_libsvm_reader(reader, path)
}

/// Parses LIBSVM / svmlight text from any buffered reader; `path` only names the source in errors.
///
/// Format: one point per line, `label index:value index:value ...`, separated by whitespace.
/// The label is an integer (`+1`, `-1`, `1`, `0`, `7`; `1.0` is accepted). Feature indices are
/// 1-based and strictly increasing within a line; omitted features are 0. Everything after a `#`
/// is a comment; blank and comment-only lines are skipped; `qid:N` tokens (svmlight ranking) are
/// ignored. The number of features d is the largest index seen (see
/// [`pad_features`](crate::pad_features) / [`align_dims`](crate::align_dims) to widen). Row i of
/// the result comes from the i-th data line, and `lines[i]` is that line's number.
///
/// # Errors
/// All carry the path and the 1-based line:
/// [`DataError::MalformedToken`] (a token that is not `index:value`, an index or value that is not
/// a number, a label that is not a number), [`DataError::ZeroFeatureIndex`],
/// [`DataError::NonIncreasingIndex`], [`DataError::NonFiniteValue`] (NaN, inf, or overflow such
/// as `1e999`), [`DataError::LabelOutOfSet`] (a non-integer label), [`DataError::TooLarge`]
/// (an index above [`MAX_FEATURES`](crate::MAX_FEATURES), or n·d above
/// [`MAX_CELLS`](crate::MAX_CELLS), reported with line 0), [`DataError::Parse`] (a line that is
/// not UTF-8), [`DataError::EmptyFile`] when there is no data line, and [`DataError::Io`] when
/// the reader fails.
pub fn parse_libsvm_reader<R: BufRead>(reader: R, path: &Path) -> Result<RawData, DataError> {
    let mut lines = LineReader::new(reader, path);
    let mut labels: Vec<f64> = Vec::new();
    let mut line_of: Vec<usize> = Vec::new();
    let mut entries: Vec<(usize, f64)> = Vec::new();
    let mut starts: Vec<usize> = vec![0];
    let mut d = 0usize;
    while let Some((line, text)) = lines.next_line()? {
        let content = text.split_once('#').map_or(text, |(before, _)| before);
        let mut tokens = content.split_whitespace();
        let Some(label_token) = tokens.next() else {
            continue;
        };
        labels.push(parse_label(label_token, path, line)?);
        line_of.push(line);
        let mut previous = 0usize;
        for token in tokens {
            let Some((index_text, value_text)) = token.split_once(':') else {
                return Err(malformed(path, line, token, "`index:value`"));
            };
            if index_text == "qid" {
                continue;
            }
            let index = parse_index(index_text, token, path, line)?;
            if index == 0 {
                return Err(DataError::ZeroFeatureIndex { path: path.to_path_buf(), line });
            }
            if index <= previous {
                return Err(DataError::NonIncreasingIndex { path: path.to_path_buf(), line, index, previous });
            }
            previous = index;
            let value = parse_value(value_text, path, line)?;
            d = d.max(index);
            if value != 0.0 {
                entries.push((index - 1, value));
            }
        }
        starts.push(entries.len());
    }
    let n = labels.len();
    if n == 0 {
        return Err(DataError::EmptyFile { path: path.to_path_buf() });
    }
    let cells = n.saturating_mul(d);
    if cells > MAX_CELLS {
        return Err(DataError::TooLarge {
            path: path.to_path_buf(),
            line: 0,
            what: "the dense size n*d",
            limit: MAX_CELLS,
            got: cells,
        });
    }
    let mut x = Mat::<f64>::zeros(n, d);
    for (i, w) in starts.windows(2).enumerate() {
        for &(j, v) in &entries[w[0]..w[1]] {
            x[(i, j)] = v;
        }
    }
    Ok(RawData { x, labels, lines: line_of, sparse: true })
}

/// Parses a 1-based feature index (digits only); overflow or an index above [`MAX_FEATURES`] is
/// [`DataError::TooLarge`].
fn parse_index(text: &str, token: &str, path: &Path, line: usize) -> Result<usize, DataError> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed(path, line, token, "`index:value` with a non-negative integer index"));
    }
    let index = text.parse::<usize>().unwrap_or(usize::MAX);
    if index > MAX_FEATURES {
        return Err(DataError::TooLarge {
            path: path.to_path_buf(),
            line,
            what: "a feature index",
            limit: MAX_FEATURES,
            got: index,
        });
    }
    Ok(index)
}

fn malformed(path: &Path, line: usize, token: &str, expected: &'static str) -> DataError {
    DataError::MalformedToken { path: path.to_path_buf(), line, token: shorten(token, 40), expected }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_index_accepts_digits_only() {
        let p = Path::new("p");
        assert_eq!(parse_index("12", "12:1", p, 1).unwrap(), 12);
        assert!(matches!(parse_index("+1", "+1:1", p, 1), Err(DataError::MalformedToken { .. })));
        assert!(matches!(parse_index("", ":1", p, 1), Err(DataError::MalformedToken { .. })));
        assert!(matches!(
            parse_index("99999999999999999999999", "x", p, 4),
            Err(DataError::TooLarge { line: 4, got: usize::MAX, .. })
        ));
    }
}
