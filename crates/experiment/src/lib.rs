//! floral-experiment: RON experiment specs → checked [`Plan`] → built players → run → report.
//!
//! - [`spec`]: the serde-only RON types ([`ExperimentSpec`] and friends).
//! - [`plan`]: [`parse`]/[`read`] (errors with file:line:col) and [`check`] (cross-field checks,
//!   data loading) yielding a [`Plan`].
//! - [`registry`]: the one map from spec variants to defences, attackers, projectors and
//!   poisoners.
//! - [`memory`]: the peak-memory estimate `check` compares with the available memory.
//! - [`run`]: runs every job, one group of seeds sharing points (one set of kernel matrices)
//!   at a time ([`execute`]).
//! - [`cells`]: the cell store: resumable runs, `--shard I/N` and `floral merge` ([`run_stored`],
//!   [`merge`]).
//! - [`render`]: the report [`floral_report::Document`] and `results.json`.
//! - [`studies`]: study kinds on the frame, one folder each; [`influence`]: the `Influence(...)`
//!   study: does λ_i measure a point's influence?
//! - [`frame`]: the study frame every kind runs on (cells, groups, the shared runner and loader).
//! - [`stats`]: rank correlations (Spearman, Kendall τ-b), top-B overlap, two-level bootstrap.
//! - [`study`]: study kinds; a RON file's top-level name (`Experiment`, …) picks its runner.
//! - [`multiclass`]: the `Multiclass(...)` study (OvR / OvO SVMs and multi-class FLORAL under
//!   random and class-targeted relabelling, confusion matrices).
//! - [`convergence`]: the `Convergence(...)` study: regimes of the last iterate over η × attacker,
//!   the predicted boundary 2/μ_max, and last iterate / average / schedules / solvers against the
//!   best-validation round.
//! - [`StabilityObserver`]: the game observer feeding floral-stability's per-round monitor.
//!
//! It is the only crate that knows every concrete type; it re-exports the lower crates so the
//! command-line front end needs few direct dependencies.
//!
//! ```
//! use floral_experiment::{check, parse, QUICKSTART};
//! let spec = parse(QUICKSTART, "quickstart.ron".as_ref()).unwrap();
//! assert_eq!(spec.name, "quickstart");
//! ```

pub use floral_attack as attack;
pub use floral_data as data;
pub use floral_defense as defense;
pub use floral_game as game;
pub use floral_projection as projection;
pub use floral_report as report;
pub use floral_stability as stability;
pub use floral_svm as svm;

pub mod attack_study;
pub mod cells;
pub mod convergence;
mod error;
pub mod evaluation;
pub mod frame;
pub mod memory;
pub mod multiclass;
pub mod names;
pub mod plan;
pub mod registry;
pub mod render;
pub mod run;
pub mod spec;
mod stability_observer;
pub mod stats;
pub mod studies;
pub mod study;
pub mod trusted_size;

use std::path::Path;

pub use cells::{CellStore, Merged, Shard, StoredRun, merge, run_stored};
pub use error::ExperimentError;
pub use plan::{Plan, QUICKSTART, check, parse, read};
pub use render::{SummaryRow, document, results_json, summary};
pub use run::{Executed, GroupBound, RunResult, ShardRun, execute, job_count};
pub use spec::ExperimentSpec;
pub use stability_observer::StabilityObserver;
/// The `Influence(...)` study, at its former path.
pub use studies::influence;
pub use study::{PROVENANCE_FILE, Study, StudyOutput, load as load_study, load_file as load_study_file, run_study};

/// Run a checked plan and write its report (report.md, results.json, plots) into `out`,
/// atomically per file. Returns the summary rows.
///
/// # Errors
/// A failing run or a report write error.
pub fn run_and_report(plan: &Plan, out: &Path, progress: &(dyn Fn(&str) + Sync)) -> Result<Reported, ExperimentError> {
    let ran = execute(plan, progress)?;
    let doc = document(plan, &ran);
    let json = results_json(plan, &ran);
    floral_report::write_report(out, &doc, &json)?;
    Ok(Reported { rows: summary(plan, &ran.results), warnings: ran.step_warnings(plan) })
}

/// What [`run_and_report`] hands back to the front end.
#[derive(Debug, Clone)]
pub struct Reported {
    /// The summary rows.
    pub rows: Vec<SummaryRow>,
    /// Warnings the user should see on the terminal too (also in the report).
    pub warnings: Vec<String>,
}
