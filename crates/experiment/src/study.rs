//! Study kinds: the top-level name of a RON file picks its runner.
//!
//! `Experiment(...)` is the comparison table of methods × poison levels × seeds ([`Plan`]).
//! Other kinds (e.g. a convergence map or an influence study) ask a different question of the
//! same data, kernels and poison levels; each is a [`Study`] registered in [`KINDS`] with the
//! function that parses and checks its RON text. A study usually embeds the shared fields
//! (seeds, data, poison, kernel) and builds them with [`crate::plan::check_base`].
//!
//! `floral run FILE` and `floral check FILE` work on every kind; the report is written the same
//! way (report.md, results.json, plots; each file atomically).

use std::path::{Path, PathBuf};

use crate::ExperimentError;
use crate::frame::ShardRun;
use crate::frame::store::{CELLS_DIR, CellStore, Shard, find_stores, store_err};
pub use crate::frame::{Study, StudyOutput};

/// Parses and checks one kind's RON text (`path` names the file in errors).
pub type Loader = fn(&str, &Path) -> Result<Box<dyn Study>, ExperimentError>;

/// Every kind `floral run` knows, by its top-level RON name.
pub const KINDS: &[(&str, Loader)] = &[
    ("Experiment", crate::studies::experiment::load),
    ("Multiclass", crate::studies::multiclass::load),
    ("Convergence", crate::studies::convergence::load),
    ("TrustedSize", crate::studies::trusted_size::load),
    ("Influence", crate::studies::influence::load),
    ("AttackStudy", crate::studies::attack_study::load),
];

/// The top-level name of a RON text: the first identifier after a byte-order mark, blank space,
/// comments and `#![enable(...)]` attributes; None when the text does not start with one.
pub fn kind_of(text: &str) -> Option<&str> {
    let mut s = text.strip_prefix('\u{feff}').unwrap_or(text);
    loop {
        s = s.trim_start();
        if let Some(rest) = s.strip_prefix("//") {
            s = rest.find('\n').map_or("", |i| &rest[i..]);
        } else if let Some(rest) = s.strip_prefix("/*") {
            s = rest.find("*/").map_or("", |i| &rest[i + 2..]);
        } else if let Some(rest) = s.strip_prefix("#![") {
            s = rest.find(']').map_or("", |i| &rest[i + 1..]);
        } else {
            break;
        }
    }
    let end = s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(s.len());
    let id = &s[..end];
    (!id.is_empty() && !id.starts_with(|c: char| c.is_ascii_digit())).then_some(id)
}

/// Parse and check a RON text of any kind. A text without a top-level name is read as an
/// `Experiment` (RON allows omitting struct names).
///
/// # Errors
/// An unknown kind (the error lists the known ones), or the kind's own parse/check errors.
pub fn load(text: &str, path: &Path) -> Result<Box<dyn Study>, ExperimentError> {
    let kind = kind_of(text).unwrap_or("Experiment");
    let Some((_, loader)) = KINDS.iter().find(|(k, _)| *k == kind) else {
        let known: Vec<&str> = KINDS.iter().map(|(k, _)| *k).collect();
        return Err(ExperimentError::invalid(path, "(top level)", format!("one of {}", known.join(", ")), kind));
    };
    loader(text, path)
}

/// Read, parse and check a file of any kind.
///
/// # Errors
/// [`ExperimentError::Io`] or as [`load`].
pub fn load_file(path: &Path) -> Result<Box<dyn Study>, ExperimentError> {
    let text =
        std::fs::read_to_string(path).map_err(|source| ExperimentError::Io { path: path.to_path_buf(), source })?;
    load(&text, path)
}

/// The file beside a report that says which build wrote it. It is the one file of a report
/// that may differ between two builds giving identical results, so byte comparisons of reports
/// skip it.
pub const PROVENANCE_FILE: &str = "provenance.json";

/// `provenance.json`: the study's kind, name and content hash, floral's version and the commit
/// the binary was built from ([`crate::built_from_commit`]).
pub fn provenance(study: &dyn Study) -> serde_json::Value {
    serde_json::json!({
        "kind": study.kind(),
        "name": study.name(),
        "content_hash": study.hash(),
        "floral_version": env!("CARGO_PKG_VERSION"),
        "built_from_commit": crate::built_from_commit(),
    })
}

/// Run a checked study and write its report into `out` (each file atomically), with
/// [`PROVENANCE_FILE`] beside it.
///
/// # Errors
/// The study's failure or a report write error.
pub fn run_study(
    study: &dyn Study,
    out: &Path,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<StudyOutput, ExperimentError> {
    let output = study.run(progress)?;
    write_output(study, out, &output)?;
    Ok(output)
}

/// Write a study's report into `out` (each file atomically), with [`PROVENANCE_FILE`] beside
/// it: what [`run_study`], a whole `floral run` through the cell store and `floral merge` write.
///
/// # Errors
/// A report write error.
pub fn write_output(study: &dyn Study, out: &Path, output: &StudyOutput) -> Result<(), ExperimentError> {
    floral_report::write_report(out, &output.document, &output.results)?;
    let mut text = serde_json::to_string_pretty(&provenance(study))
        .map_err(|e| ExperimentError::Run { what: "provenance".into(), message: e.to_string() })?;
    text.push('\n');
    floral_report::write_text_atomic(&out.join(PROVENANCE_FILE), &text)?;
    Ok(())
}

/// What [`run_stored`] hands back.
#[derive(Debug)]
pub struct StoredRun {
    /// Cells of the shard, computed and found stored.
    pub run: ShardRun,
    /// Damaged store files found (never used; their contents were computed again).
    pub damaged: Vec<PathBuf>,
    /// The store directory.
    pub store_dir: PathBuf,
    /// The report's contents, written to `out`, for a whole run (no shard); None for a shard.
    pub output: Option<StudyOutput>,
}

/// `floral run` for a study on the frame: compute the cells of `shard` (None: all of them)
/// missing from the store under `out` ([`Study::run_cells`]). A shard stops there (even `0/1`:
/// `floral merge` writes its report). A whole run then assembles every cell from the store
/// ([`Study::assemble`]), writes the report into `out`, and deletes the store unless
/// `keep_cells`.
///
/// # Errors
/// As [`Study::run_cells`], [`Study::assemble`] and the report writer.
pub fn run_stored(
    study: &dyn Study,
    out: &Path,
    shard: Option<Shard>,
    keep_cells: bool,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<StoredRun, ExperimentError> {
    let store = CellStore::open(out, study)?;
    let run = study.run_cells(&store, shard.unwrap_or(Shard::ALL), progress)?;
    let store_dir = store.dir().to_path_buf();
    if shard.is_some() {
        return Ok(StoredRun { run, damaged: store.damaged(), store_dir, output: None });
    }
    let stores = [store];
    let output = study.assemble(&stores)?;
    write_output(study, out, &output)?;
    let [store] = stores;
    let damaged = store.damaged();
    if !keep_cells {
        store.remove()?;
    }
    Ok(StoredRun { run, damaged, store_dir, output: Some(output) })
}

/// What [`merge`] hands back.
pub struct Merged {
    /// The study loaded again from the stores' manifest.
    pub study: Box<dyn Study>,
    /// The report's contents, written to `out`.
    pub output: StudyOutput,
    /// Damaged store files found (never used).
    pub damaged: Vec<PathBuf>,
}

impl std::fmt::Debug for Merged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Merged")
            .field("study", &self.study.name())
            .field("damaged", &self.damaged)
            .finish_non_exhaustive()
    }
}

/// `floral merge DIR...`: read the cell stores under `dirs`, check that they belong to one
/// experiment (one [`Plan::hash`]), rebuild the plan from the manifest (re-reading data files,
/// whose hashes must still match), check that every cell is present, and write the report into
/// `out` with the same rendering as `floral run`. Nothing is written unless all checks pass.
///
/// # Errors
/// [`ExperimentError::Store`] (no store, stores of different experiments, missing cells, data
/// changed since the shards ran), the plan's own check errors, or a report write error.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<Merged, ExperimentError> {
    let Some(first_dir) = dirs.first() else {
        return Err(store_err(Path::new("."), "no directory to merge"));
    };
    let found = find_stores(dirs)?;
    let mut hashes: Vec<(&str, Vec<String>)> = Vec::new();
    for (s, _) in &found {
        let d = s.dir().display().to_string();
        match hashes.iter_mut().find(|(h, _)| *h == s.hash()) {
            Some((_, v)) => v.push(d),
            None => hashes.push((s.hash(), vec![d])),
        }
    }
    if hashes.len() > 1 {
        let list: Vec<String> =
            hashes.iter().map(|(h, ds)| format!("hash {} in {}", &h[..h.len().min(16)], ds.join(", "))).collect();
        return Err(store_err(
            first_dir,
            format!(
                "the cell stores come from {} different experiments (content hashes differ: {}); merge the shards of one experiment file (remove stale stores under */{CELLS_DIR}/)",
                hashes.len(),
                list.join("; ")
            ),
        ));
    }
    let Some((_, manifest)) = found.first() else {
        return Err(store_err(first_dir, "no cell store found"));
    };
    let manifest = manifest.clone();
    let study = crate::study::load(&manifest.canonical, &manifest.source)?;
    if study.kind() != manifest.kind {
        return Err(store_err(
            first_dir,
            format!("the manifest names a {} study but its text loads as {}", manifest.kind, study.kind()),
        ));
    }
    let hash = study.hash().to_string();
    if hash != manifest.hash {
        return Err(store_err(
            first_dir,
            format!(
                "the study's content hash is now {} but the shards ran with {}: a data file of {} changed since",
                hash,
                manifest.hash,
                manifest.source.display()
            ),
        ));
    }
    let stores: Vec<CellStore> = found.into_iter().map(|(s, _)| s).collect();
    let output = study.assemble(&stores)?;
    write_output(study.as_ref(), out, &output)?;
    let damaged = stores.iter().flat_map(CellStore::damaged).collect();
    Ok(Merged { study, output, damaged })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_skips_bom_comments_and_attributes() {
        assert_eq!(kind_of("Experiment(name: \"x\")"), Some("Experiment"));
        assert_eq!(
            kind_of("\u{feff}  // a comment\n/* block */ #![enable(implicit_some)]\nConvergence(a: 1)"),
            Some("Convergence")
        );
        assert_eq!(kind_of("(name: \"x\")"), None);
        assert_eq!(kind_of("// only a comment"), None);
        assert_eq!(kind_of("9lives()"), None);
    }

    #[test]
    fn unknown_kinds_are_refused_with_the_known_ones() {
        let Err(e) = load("Nonsense(a: 1)", Path::new("x.ron")) else { panic!("an unknown kind loaded") };
        let msg = e.to_string();
        assert!(e.is_input_error(), "{msg}");
        assert!(msg.contains("Nonsense") && msg.contains("Experiment"), "{msg}");
    }

    #[test]
    fn the_quickstart_loads_as_an_experiment() {
        let s = load(crate::QUICKSTART, Path::new("quickstart.ron")).unwrap();
        assert_eq!(s.kind(), "Experiment");
        assert_eq!(s.name(), "quickstart");
        assert!(s.jobs() > 0);
        assert!(s.describe()[0].contains("runs"));
        let p = provenance(s.as_ref());
        assert_eq!(p["kind"], "Experiment");
        assert_eq!(p["content_hash"].as_str().map(str::len), Some(64));
        // The commit is the one the binary hands in at start (the root tests compare a run's
        // provenance.json with HEAD); this unit test is no such binary.
        assert_eq!(p["built_from_commit"], crate::built_from_commit());
    }
}
