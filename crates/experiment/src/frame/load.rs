//! The one loader every kind shares: byte-order mark, RON parse with `file:line:col` errors,
//! canonical RON and the content hash.

use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::ExperimentError;

/// A data file a study reads, and its content hash.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DataFile {
    /// Its role: `train`, `validation`, `test`, `train_labels`, ….
    pub role: &'static str,
    /// The path as written in the spec.
    pub path: String,
    /// sha256 of the file's bytes, hex.
    pub sha256: String,
}

impl DataFile {
    /// Read the file at `at` (the spec's `written` path, resolved) and hash its bytes.
    ///
    /// # Errors
    /// [`ExperimentError::Io`] naming `at`.
    pub fn read(role: &'static str, written: &str, at: &Path) -> Result<Self, ExperimentError> {
        let bytes = std::fs::read(at).map_err(|source| ExperimentError::Io { path: at.to_path_buf(), source })?;
        Ok(Self { role, path: written.to_string(), sha256: format!("{:x}", Sha256::digest(&bytes)) })
    }
}

/// Parse a RON text into a kind's spec type. A UTF-8 byte-order mark (some editors write one)
/// is not part of the RON text; errors carry `path:line:col`.
///
/// # Errors
/// [`ExperimentError::Parse`].
pub fn parse_ron<T: DeserializeOwned>(text: &str, path: &Path) -> Result<T, ExperimentError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    ron::Options::default().from_str::<T>(text).map_err(|e| ExperimentError::Parse {
        path: path.to_path_buf(),
        line: e.span.start.line,
        col: e.span.start.col,
        message: e.code.to_string(),
    })
}

/// The canonical RON of a spec: pretty-printed with struct names (what a report echoes and
/// what a merge re-parses).
///
/// # Errors
/// [`ExperimentError::Run`] when the spec cannot be serialised (an internal failure).
pub fn canonical<T: Serialize>(spec: &T) -> Result<String, ExperimentError> {
    ron::ser::to_string_pretty(spec, ron::ser::PrettyConfig::new().struct_names(true))
        .map_err(|e| ExperimentError::Run { what: "echo spec".into(), message: e.to_string() })
}

/// The content hash of a study: sha256 (hex) of its canonical RON followed, per data file it
/// reads, by a line `role path sha256`.
pub fn content_hash(canonical: &str, data_files: &[DataFile]) -> String {
    let mut hashed = canonical.to_string();
    for d in data_files {
        hashed.push_str(&format!("\n{} {} {}", d.role, d.path, d.sha256));
    }
    format!("{:x}", Sha256::digest(hashed.as_bytes()))
}

/// [`canonical`] and [`content_hash`] in one call.
///
/// # Errors
/// As [`canonical`].
pub fn canonical_and_hash<T: Serialize>(
    spec: &T,
    data_files: &[DataFile],
) -> Result<(String, String), ExperimentError> {
    let c = canonical(spec)?;
    let h = content_hash(&c, data_files);
    Ok((c, h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, serde::Serialize, PartialEq)]
    #[serde(deny_unknown_fields, rename = "Tiny")]
    struct Tiny {
        a: u32,
    }

    #[test]
    fn a_bom_is_skipped_and_errors_name_line_and_column() {
        let t: Tiny = parse_ron("\u{feff}Tiny(a: 3)", Path::new("x.ron")).unwrap();
        assert_eq!(t, Tiny { a: 3 });
        let e = parse_ron::<Tiny>("Tiny(\n  b: 3)", Path::new("x.ron")).unwrap_err();
        let msg = e.to_string();
        assert!(msg.starts_with("x.ron:2:"), "{msg}");
        assert!(e.is_input_error());
    }

    #[test]
    fn the_hash_covers_the_canonical_text_and_every_data_file() {
        let (c, h) = canonical_and_hash(&Tiny { a: 1 }, &[]).unwrap();
        assert!(c.starts_with("Tiny("), "{c}");
        let f = DataFile { role: "train", path: "t.csv".into(), sha256: "00".into() };
        let h2 = content_hash(&c, std::slice::from_ref(&f));
        assert_ne!(h, h2);
        assert_eq!(h.len(), 64);
        let g = DataFile { sha256: "01".into(), ..f };
        assert_ne!(h2, content_hash(&c, &[g]));
    }
}
