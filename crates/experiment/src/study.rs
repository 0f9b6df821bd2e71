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

use std::path::Path;

use crate::{ExperimentError, Plan};

/// What a study hands back after running: its report and what the terminal shows.
#[derive(Debug, Clone)]
pub struct StudyOutput {
    /// The report.
    pub document: floral_report::Document,
    /// `results.json` (canonicalised when written).
    pub results: serde_json::Value,
    /// Lines printed on the terminal after the run (a short summary).
    pub summary: Vec<String>,
    /// Warnings for the terminal (the report states them too).
    pub warnings: Vec<String>,
}

/// A checked study, ready to run. Checking does every cross-field check and loads the data, so
/// a study that checks runs unless a numerical failure occurs.
pub trait Study: Send + Sync {
    /// The RON kind (`Experiment`, `Convergence`, …).
    fn kind(&self) -> &'static str;
    /// The study's name; the default output directory is `reports/<name>`.
    fn name(&self) -> &str;
    /// Units of work the progress callback will be called for (0: no progress reporting).
    fn jobs(&self) -> usize;
    /// Lines `floral check` prints under its `ok` line (sizes, memory estimate, …).
    fn describe(&self) -> Vec<String>;
    /// Run it. `progress` is called once per finished unit of work, possibly from worker
    /// threads, with a short description.
    ///
    /// # Errors
    /// A numerical or internal failure.
    fn run(&self, progress: &(dyn Fn(&str) + Sync)) -> Result<StudyOutput, ExperimentError>;
    /// The content hash of the study (spec and data files), when it has one.
    fn hash(&self) -> Option<&str> {
        None
    }
    /// The experiment plan, for the `Experiment` kind (`floral bench scale` times its parts).
    fn as_plan(&self) -> Option<&Plan> {
        None
    }
    /// The peak-memory estimate, when the kind makes one (`floral submit` sizes its request).
    fn memory(&self) -> Option<&crate::memory::MemoryEstimate> {
        None
    }
    /// What the cell store's manifest needs, for a kind on the study frame ([`crate::frame`]):
    /// such a kind runs through the cell store (resumable, `--shard`, `floral merge`). None for
    /// a kind that runs whole.
    fn stored(&self) -> Option<crate::frame::StoreInfo<'_>> {
        None
    }
    /// Compute the cells of `shard` missing from `store` (see [`crate::frame::runner::run_stored`]).
    ///
    /// # Errors
    /// A numerical or internal failure, a store write error, or [`ExperimentError::Store`] for a
    /// kind that runs whole.
    fn run_cells(
        &self,
        store: &crate::cells::CellStore,
        shard: crate::cells::Shard,
        progress: &(dyn Fn(&str) + Sync),
    ) -> Result<crate::run::ShardRun, ExperimentError> {
        let _ = (shard, progress);
        Err(ExperimentError::Store {
            path: store.dir().to_path_buf(),
            message: format!("a {} study runs whole (no cell store)", self.kind()),
        })
    }
    /// The report assembled from the cells in `stores` (see [`crate::frame::runner::assemble`]).
    ///
    /// # Errors
    /// [`ExperimentError::Store`] when cells are missing or the kind runs whole.
    fn assemble(&self, stores: &[crate::cells::CellStore]) -> Result<StudyOutput, ExperimentError> {
        Err(ExperimentError::Store {
            path: stores.first().map_or_else(std::path::PathBuf::new, |s| s.dir().to_path_buf()),
            message: format!("a {} study runs whole (no cell store)", self.kind()),
        })
    }
}

/// Parses and checks one kind's RON text (`path` names the file in errors).
pub type Loader = fn(&str, &Path) -> Result<Box<dyn Study>, ExperimentError>;

/// Every kind `floral run` knows, by its top-level RON name.
pub const KINDS: &[(&str, Loader)] = &[
    ("Experiment", load_experiment),
    ("Multiclass", crate::multiclass::load),
    ("Convergence", crate::convergence::load),
    ("TrustedSize", crate::trusted_size::load),
    ("Influence", crate::studies::influence::load),
    ("AttackStudy", crate::attack_study::load),
];

fn load_experiment(text: &str, path: &Path) -> Result<Box<dyn Study>, ExperimentError> {
    let spec = crate::parse(text, path)?;
    Ok(crate::frame::boxed(crate::check(spec, path)?))
}

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

/// The git commit the running binary was built from ("unknown" outside a git checkout;
/// uncommitted changes are not detected).
pub const BUILT_FROM_COMMIT: &str = env!("FLORAL_GIT_COMMIT");

/// `provenance.json`: the study's kind, name and content hash, floral's version and the commit
/// the binary was built from.
pub fn provenance(study: &dyn Study) -> serde_json::Value {
    serde_json::json!({
        "kind": study.kind(),
        "name": study.name(),
        "content_hash": study.hash(),
        "floral_version": env!("CARGO_PKG_VERSION"),
        "built_from_commit": BUILT_FROM_COMMIT,
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

/// The report, results.json, summary and warnings of an experiment's results: the one
/// rendering path of `floral run` (in memory or through the cell store) and `floral merge`.
pub fn experiment_output(plan: &Plan, ran: &crate::Executed) -> StudyOutput {
    {
        let document = crate::document(plan, ran);
        let results = crate::results_json(plan, ran);
        let summary = crate::summary(plan, &ran.results)
            .into_iter()
            .map(|r| {
                format!(
                    "{:<28} {:<16} test accuracy {} ± {} ({} seeds)",
                    r.method,
                    r.poison,
                    floral_report::fmt_num(r.test_accuracy_mean),
                    floral_report::fmt_num(r.test_accuracy_std),
                    r.n_seeds
                )
            })
            .collect();
        StudyOutput { document, results, summary, warnings: ran.step_warnings(plan) }
    }
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
        // The build script reruns when HEAD moves, so the recorded commit is today's HEAD.
        let head =
            std::process::Command::new("git").args(["rev-parse", "HEAD"]).output().ok().filter(|o| o.status.success());
        let want =
            head.map_or_else(|| "unknown".to_string(), |o| String::from_utf8_lossy(&o.stdout).trim().to_string());
        assert_eq!(p["built_from_commit"], want.as_str());
    }
}
