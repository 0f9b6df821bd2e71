//! The `Multiclass(...)` study: multi-class label poisoning on a multi-class data set, with the
//! one-vs-rest and one-vs-one SVMs and multi-class FLORAL (last and averaged outputs) compared
//! per poison level over seeds, and confusion matrices.
//!
//! On the study frame ([`crate::frame`]): a group is one seed (a random subsample of the
//! training points drawn from the Data stream, one shared Gram matrix, the cross-kernel to the
//! test points); a cell is one poison level at that seed (the offline relabelling from its own
//! stream, [`crate::registry::poison_rng`], and the four methods on the relabelled training
//! set). Cells are independent and collected in (seed, level) order, so results do not depend
//! on the thread count, the shard or what a resumed run had already stored.
//!
//! - [`spec`]: the RON types; `check`: the checks and the content hash; [`cells`]: groups and
//!   cells; `report`: the report and `results.json` from the collected cells.

pub mod cells;
mod check;
mod report;
pub mod spec;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use floral_data::MulticlassData;

pub use check::check;
pub use spec::{MulticlassPoison, MulticlassSpec};

use crate::ExperimentError;
use crate::frame::CellId;
use crate::frame::{Study, StudyHeader, StudyOutput};
use cells::{LevelAtSeed, Run, SeedGroup, SeedRecord};

/// A checked `Multiclass` study: the spec, the loaded data and the kernel.
pub struct MulticlassStudy {
    spec: MulticlassSpec,
    train: MulticlassData,
    test: MulticlassData,
    kernel: Arc<dyn floral_svm::Kernel>,
    /// Per level: its name and class-index pairs (targeted levels).
    levels: Vec<(String, Vec<(usize, usize)>)>,
    hash: String,
    canonical: String,
    /// The data files the hash covers.
    data_files: Vec<crate::plan::DataFile>,
    source: PathBuf,
}

/// Parse and check a `Multiclass(...)` text.
///
/// # Errors
/// [`ExperimentError::Parse`] with line and column; [`ExperimentError::Invalid`] naming the
/// field; [`ExperimentError::Data`] for unreadable data.
pub fn load(text: &str, path: &Path) -> Result<Box<dyn Study>, ExperimentError> {
    let spec: MulticlassSpec = crate::frame::load::parse_ron(text, path)?;
    Ok(crate::frame::boxed(check(spec, path)?))
}

impl crate::frame::Kind for MulticlassStudy {
    type What = LevelAtSeed;
    type Group = SeedGroup;
    type GroupRecord = SeedRecord;
    type Cell = Run;
    const KIND: &'static str = "Multiclass";

    fn header(&self) -> StudyHeader<'_> {
        StudyHeader { name: &self.spec.name, source: &self.source, canonical: &self.canonical, hash: &self.hash }
    }
    fn describe(&self) -> Vec<String> {
        let n = self.n_used();
        vec![
            format!(
                "{} classes, {} of {} training points per seed, {} test points, {} features",
                self.train.y().n_classes(),
                n,
                self.train.n(),
                self.test.n(),
                self.train.dim()
            ),
            format!(
                "{} poison levels × {} seeds = {} runs of 4 methods; Gram {:.0} MiB per seed",
                self.levels.len(),
                self.spec.seeds.len(),
                self.spec.seeds.len() * self.levels.len(),
                (n * n * 8) as f64 / 1048576.0
            ),
        ]
    }
    fn groups(&self) -> usize {
        self.spec.seeds.len()
    }
    fn cells(&self) -> Vec<CellId<LevelAtSeed>> {
        let mut out = Vec::with_capacity(self.spec.seeds.len() * self.levels.len());
        for (si, seed) in self.spec.seeds.iter().enumerate() {
            for (li, (level, _)) in self.levels.iter().enumerate() {
                out.push(CellId {
                    group: si,
                    key: format!("s{si}-p{li}"),
                    label: format!("seed {seed} / {level}"),
                    what: LevelAtSeed { seed: si, level: li },
                });
            }
        }
        out
    }
    fn build_group(&self, g: usize) -> Result<(SeedGroup, SeedRecord), ExperimentError> {
        self.seed_group(g)
    }
    fn compute(&self, group: &SeedGroup, cell: &CellId<LevelAtSeed>) -> Result<Run, ExperimentError> {
        self.run_one(group, cell.what)
    }
    fn report(&self, groups: Vec<SeedRecord>, cells: Vec<Run>) -> Result<StudyOutput, ExperimentError> {
        self.render(&groups, cells)
    }
}

#[cfg(test)]
mod tests;
