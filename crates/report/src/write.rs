//! Writing a report directory: render everything in memory, then replace files atomically.

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;

use crate::document::Document;
use crate::error::ReportError;
use crate::markdown::render_markdown;
use crate::plot::render_svg;

/// File name of the Markdown report inside the report directory.
pub const MARKDOWN_FILE: &str = "report.md";
/// File name of the machine-readable results inside the report directory.
pub const JSON_FILE: &str = "results.json";

/// Paths of the files written by [`write_report`] (the directory joined with each file name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFiles {
    /// `dir/report.md`.
    pub markdown: PathBuf,
    /// `dir/results.json`.
    pub json: PathBuf,
    /// `dir/<figure.file>` for each figure, in document order.
    pub figures: Vec<PathBuf>,
}

/// Checks that a figure file name is a safe, bare `*.svg` name: 1..=128 bytes of ASCII
/// letters, digits, `-`, `_` and `.`, not starting with `.`, without `..`, ending in `.svg`.
/// So it cannot name a directory, escape the report directory, or overwrite `report.md` /
/// `results.json`.
///
/// # Errors
/// [`ReportError::InvalidFigureName`] naming the file and the rule broken.
pub fn validate_figure_name(file: &str) -> Result<(), ReportError> {
    let reason = if file.is_empty() || file.len() > 128 {
        Some("must be 1 to 128 bytes long")
    } else if !file.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')) {
        Some("only ASCII letters, digits, '-', '_' and '.' are allowed (no path separators)")
    } else if file.starts_with('.') {
        Some("must not start with '.'")
    } else if file.contains("..") {
        Some("must not contain '..'")
    } else if !file.ends_with(".svg") || file.len() == 4 {
        Some("must end in '.svg'")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(ReportError::InvalidFigureName { file: file.to_string(), reason }),
        None => Ok(()),
    }
}

/// Returns `v` with every object's keys in sorted (byte) order, whatever map type serde_json
/// was built with. Without serde_json's `preserve_order` feature maps are `BTreeMap`s and
/// already sorted; with it (possibly enabled by another crate through feature unification)
/// rebuilding each map in sorted order makes the insertion order sorted too.
pub fn canonical_json(v: &Value) -> Value {
    match v {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k.clone(), canonical_json(v))).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(canonical_json).collect()),
        other => other.clone(),
    }
}

/// Writes a report into `dir`: `report.md` ([`render_markdown`]), `results.json` (`results`,
/// pretty-printed with keys sorted by [`canonical_json`], two-space indent, trailing newline)
/// and one SVG per [`Figure`](crate::Figure) ([`render_svg`]).
///
/// Order of work:
/// 1. every figure name is validated ([`validate_figure_name`], no duplicates), every plot
///    rendered and the JSON serialized, all in memory: any error here returns before the
///    filesystem is touched, so a previous report in `dir` is left exactly as it was;
/// 2. `dir` and its parents are created;
/// 3. each file is written to a hidden temporary file in `dir`, flushed to disk (`sync_all`)
///    and renamed over its target, figures first, then `results.json`, then `report.md`.
///    A reader therefore sees each file either whole-old or whole-new; an IO failure part-way
///    through can leave some files new and others old, and removes its temporary file.
///
/// Files in `dir` that the new report does not write (e.g. a figure that was dropped) are
/// left alone. Returned paths are `dir` joined with the file names; nothing about `dir`,
/// time or the machine reaches the written files.
///
/// # Errors
/// [`ReportError::InvalidFigureName`], [`ReportError::DuplicateFigure`],
/// [`ReportError::InvalidPlot`], [`ReportError::Render`], [`ReportError::Json`] before any
/// write; [`ReportError::Io`] (naming the path) while writing.
pub fn write_report(dir: &Path, doc: &Document, results: &Value) -> Result<ReportFiles, ReportError> {
    let mut seen = BTreeSet::new();
    let mut svgs = Vec::new();
    for fig in doc.figures() {
        validate_figure_name(&fig.file)?;
        if !seen.insert(fig.file.as_str()) {
            return Err(ReportError::DuplicateFigure { file: fig.file.clone() });
        }
        svgs.push((fig.file.as_str(), render_svg(&fig.plot)?));
    }
    let markdown = render_markdown(doc);
    let mut json = serde_json::to_string_pretty(&canonical_json(results))?;
    json.push('\n');

    fs::create_dir_all(dir).map_err(|source| ReportError::Io {
        op: "create directory",
        path: dir.to_path_buf(),
        source,
    })?;
    let mut figures = Vec::with_capacity(svgs.len());
    for (name, svg) in &svgs {
        let path = dir.join(name);
        write_atomic(&path, svg.as_bytes())?;
        figures.push(path);
    }
    let json_path = dir.join(JSON_FILE);
    write_atomic(&json_path, json.as_bytes())?;
    let md_path = dir.join(MARKDOWN_FILE);
    write_atomic(&md_path, markdown.as_bytes())?;
    Ok(ReportFiles { markdown: md_path, json: json_path, figures })
}

/// Distinguishes temporary files of concurrent writers within one process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes a text file atomically (temporary file beside it, synced, renamed over it): a failed
/// write leaves any previous file intact. For outputs other than reports (e.g. a model file).
///
/// # Errors
/// [`ReportError::Io`] naming the path.
pub fn write_text_atomic(path: &Path, text: &str) -> Result<(), ReportError> {
    write_atomic(path, text.as_bytes())
}

/// Writes `bytes` to `.{name}.{pid}.{n}.tmp` beside `path`, syncs it and renames it over `path`.
/// On failure the temporary file is removed (best effort) and the error names the path.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let tmp = path.with_file_name(format!(".{name}.{}.{n}.tmp", std::process::id()));
    let io_err = |op: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |source| ReportError::Io { op, path, source }
    };
    let written = File::create(&tmp)
        .map_err(io_err("create temporary file", &tmp))
        .and_then(|mut f| {
            f.write_all(bytes).map_err(io_err("write temporary file", &tmp))?;
            f.sync_all().map_err(io_err("sync temporary file", &tmp))
        })
        .and_then(|()| fs::rename(&tmp, path).map_err(io_err("rename temporary file onto", path)));
    if written.is_err() {
        // Best effort: the temporary file may not exist; the original error is what matters.
        let _ = fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figure_names() {
        for ok in ["a.svg", "accuracy_vs_round.svg", "fig-1.v2.svg", "A0.svg"] {
            assert!(validate_figure_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            ".svg",
            "../x.svg",
            "a/b.svg",
            "a\\b.svg",
            ".hidden.svg",
            "a..svg",
            "report.md",
            "x.png",
            "a b.svg",
            "é.svg",
            "/abs.svg",
            "C:x.svg",
        ] {
            assert!(
                matches!(validate_figure_name(bad), Err(ReportError::InvalidFigureName { .. })),
                "{bad:?} accepted"
            );
        }
        assert!(validate_figure_name(&format!("{}.svg", "a".repeat(125))).is_err());
    }

    #[test]
    fn canonical_json_sorts_nested_keys() {
        let v = serde_json::json!({"b": 1, "a": {"z": [ {"y": 1, "x": 2} ], "c": null}});
        let s = serde_json::to_string(&canonical_json(&v)).unwrap();
        assert_eq!(s, r#"{"a":{"c":null,"z":[{"x":2,"y":1}]},"b":1}"#);
    }

    #[test]
    fn atomic_write_replaces_and_cleans_up() {
        let dir = std::env::temp_dir().join(format!("floral-report-unit-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f.txt");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("f.txt")]);
        // Renaming onto a directory fails: the error names the target, no temp file remains.
        let sub = dir.join("sub.svg");
        fs::create_dir_all(sub.join("inner")).unwrap();
        let err = write_atomic(&sub, b"x").unwrap_err();
        assert!(matches!(&err, ReportError::Io { path, .. } if path == &sub), "{err}");
        let count = fs::read_dir(&dir).unwrap().count();
        assert_eq!(count, 2, "only f.txt and sub.svg/ remain");
        fs::remove_dir_all(&dir).unwrap();
    }
}
