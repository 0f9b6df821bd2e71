//! floral-experiment: RON study files → checked studies → cells → reports.
//!
//! - [`spec`]: the serde-only RON types shared by every kind ([`ExperimentSpec`] and friends).
//! - [`plan`]: [`parse`]/[`read`] (errors with file:line:col) and [`check`] (cross-field checks,
//!   data loading) yielding a [`Plan`]; `plan::check_base` loads a study's shared fields.
//! - [`registry`]: the one map from spec variants to defences, attackers, projectors and
//!   poisoners.
//! - [`memory`]: the peak-memory estimate `check` compares with the available memory.
//! - [`frame`]: the study frame every kind runs on: `frame::Kind` (cells, groups, report), the
//!   one runner (memory, cell store, shards), the cell store and the one loader.
//! - [`studies`]: the kinds, one folder each: `Experiment` (cells in [`run`], report in
//!   [`render`] and [`evaluation`]), `AttackStudy`, `Convergence`, `Influence`, `Multiclass`,
//!   `TrustedSize`.
//! - [`study`]: the registry of kinds (a RON file's top-level name picks one) and the drivers of
//!   a whole run, a shard and a merge.
//! - [`stats`]: mean and standard deviation, rank correlations (Spearman, Kendall τ-b), top-B
//!   overlap, two-level bootstrap, the paired t interval.
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

pub mod studies;
pub use studies::attack_study;
pub use studies::convergence;
pub use studies::experiment::{evaluation, render, run};
mod build_info;
mod error;
pub mod frame;
pub mod memory;
pub mod names;
pub mod plan;
pub mod registry;
mod rows;
pub mod spec;
mod stability_observer;
pub mod stats;
pub mod study;
pub use studies::trusted_size;

pub use studies::influence;
pub use studies::multiclass;

pub use build_info::{built_from_commit, set_built_from_commit};

use std::path::Path;

pub use error::ExperimentError;
pub use frame::{CellStore, Shard, ShardRun};
pub use plan::{Plan, QUICKSTART, check, parse, read};
pub use render::{SummaryRow, document, results_json, summary};
pub use run::{Executed, GroupBound, RunResult, execute, job_count};
pub use spec::ExperimentSpec;
pub use stability_observer::StabilityObserver;
pub use study::{
    Merged, PROVENANCE_FILE, StoredRun, Study, StudyOutput, load as load_study, load_file as load_study_file, merge,
    run_stored, run_study,
};

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
