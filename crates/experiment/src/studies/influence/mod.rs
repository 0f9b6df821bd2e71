//! The `Influence(...)` study: does the dual variable λ_i measure how much training point i
//! moves the SVM?
//!
//! For every cell (seed × poison level) it trains the SVM on the cell's training labels, and for
//! every training point (or a seeded sample) measures the effect of flipping its label and of
//! removing it by exact warm-started retraining, plus the first-order estimate
//! ([`floral_svm::influence`], `proofs/influence.md`). It plays FLORAL on the same labels and
//! records the learner's λ at chosen rounds. The report gives Spearman and Kendall correlations
//! between λ and each influence measure, the overlap of the top-B points by λ with the top-B
//! by influence, their change along FLORAL's rounds, with the poisoning level, and between
//! points with clean and with flipped labels, with two-level bootstrap intervals (seeds, then
//! points).
//!
//! On the frame ([`crate::frame`]): a group is a set of seeds sharing their points
//! ([`Plan::groups`]: one set of kernel matrices), a cell is one (poison level, seed), listed
//! level by level as the report reads them. Layout: [`spec`] (the RON types), `check` (the
//! checks), `cells` (a group's kernels, one cell's measurements), `numbers` (the bootstrapped
//! statistics), `report`, `answer` and `json` (the report, pure in the collected cells).

mod answer;
mod cells;
mod check;
mod json;
mod numbers;
mod report;
pub mod spec;
#[cfg(test)]
mod tests;

use std::path::Path;

pub use cells::{CellResult, Group, GroupRecord, Point, What};
pub use check::check;
pub use spec::InfluenceSpec;

use crate::frame::CellId;
use crate::frame::{Study, StudyHeader, StudyOutput};
use crate::{ExperimentError, Plan};

/// A checked influence study.
#[derive(Debug)]
pub struct InfluenceStudy {
    spec: InfluenceSpec,
    plan: Plan,
    canonical: String,
    hash: String,
    /// The study rounds, ascending (the spec's and the last).
    rounds: Vec<usize>,
}

/// Parse and check the RON text of an `Influence(...)` study.
///
/// # Errors
/// [`ExperimentError::Parse`] with line and column, or [`ExperimentError::Invalid`] naming the
/// field.
pub fn load(text: &str, path: &Path) -> Result<Box<dyn Study>, ExperimentError> {
    let spec: InfluenceSpec = crate::frame::load::parse_ron(text, path)?;
    Ok(crate::frame::boxed(check(spec, path)?))
}

impl crate::frame::Kind for InfluenceStudy {
    type What = What;
    type Group = Group;
    type GroupRecord = GroupRecord;
    type Cell = CellResult;
    const KIND: &'static str = "Influence";

    fn header(&self) -> StudyHeader<'_> {
        StudyHeader { name: &self.spec.name, source: &self.plan.source, canonical: &self.canonical, hash: &self.hash }
    }
    fn describe(&self) -> Vec<String> {
        let n = self.plan.clean.first().map_or(0, |s| s.train.n());
        vec![
            format!(
                "{} poison levels × {} seeds = {} cells; {} training points measured per cell (2 retrains each)",
                self.plan.levels.len(),
                self.spec.seeds.len(),
                self.plan.levels.len() * self.spec.seeds.len(),
                self.spec.sample.unwrap_or(n)
            ),
            format!("estimated peak memory {}", self.plan.memory.describe()),
        ]
    }
    fn groups(&self) -> usize {
        self.plan.groups.len()
    }
    fn cells(&self) -> Vec<CellId<What>> {
        self.cell_ids()
    }
    fn build_group(&self, g: usize) -> Result<(Group, GroupRecord), ExperimentError> {
        self.group(g)
    }
    fn compute(&self, group: &Group, cell: &CellId<What>) -> Result<CellResult, ExperimentError> {
        self.run_cell(group, cell.what)
    }
    fn report(&self, _groups: Vec<GroupRecord>, cells: Vec<CellResult>) -> Result<StudyOutput, ExperimentError> {
        Ok(self.render(&cells))
    }
    fn memory(&self) -> Option<&crate::memory::MemoryEstimate> {
        Some(&self.plan.memory)
    }
}
