//! The `Experiment` kind: methods × poison levels × seeds, each (method, variant, level, seed)
//! one cell ([`run`]), seeds sharing their points one group (one set of kernel matrices,
//! the poisoned labels of every level), and the comparison report ([`render`],
//! [`evaluation`]).

pub mod evaluation;
pub mod render;
pub mod run;

use std::path::Path;
use std::sync::Arc;

use floral_data::FlipSet;
use floral_game::SplitKernels;
use rayon::prelude::*;

use crate::frame::{CellId, Kind, Study, StudyHeader, StudyOutput};
use crate::run::{
    CellRecord, ExperimentGroup, GroupRecord, Job, cell_key, describe_job, group_bound, group_kernels, jobs,
    poison_flips, run_err, run_job, split_with_flips,
};
use crate::{ExperimentError, Plan, job_count};

/// The `Experiment` loader of [`crate::study::KINDS`].
///
/// # Errors
/// As [`crate::parse`] and [`crate::check`].
pub fn load(text: &str, path: &Path) -> Result<Box<dyn Study>, ExperimentError> {
    Ok(crate::frame::boxed(crate::check(crate::parse(text, path)?, path)?))
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

impl Kind for Plan {
    type What = Job;
    type Group = ExperimentGroup;
    type GroupRecord = GroupRecord;
    type Cell = CellRecord;
    const KIND: &'static str = "Experiment";

    fn header(&self) -> StudyHeader<'_> {
        StudyHeader { name: &self.spec.name, source: &self.source, canonical: &self.canonical, hash: &self.hash }
    }
    fn describe(&self) -> Vec<String> {
        let m = &self.memory;
        let avail =
            m.available_bytes.map_or_else(|| "unknown".to_string(), |a| format!("{:.0} MiB", a as f64 / 1048576.0));
        vec![
            format!(
                "{} methods, {} poison levels, {} seeds, {} runs",
                self.methods.len(),
                self.poison_names.len(),
                self.spec.seeds.len(),
                job_count(self)
            ),
            format!("estimated peak memory {}; available {avail}", m.describe()),
        ]
    }
    fn groups(&self) -> usize {
        self.groups.len()
    }
    fn cells(&self) -> Vec<CellId<Job>> {
        jobs(self)
            .into_iter()
            .map(|j| CellId {
                group: self.groups.iter().position(|g| g.contains(&j.seed)).unwrap_or(usize::MAX),
                key: cell_key(j.method, j.variant, j.poison, j.seed),
                label: describe_job(self, &j),
                what: j,
            })
            .collect()
    }
    fn build_group(&self, g: usize) -> Result<(ExperimentGroup, GroupRecord), ExperimentError> {
        let group = self.groups.get(g).ok_or_else(|| run_err("plan", "a group out of range"))?;
        let first = *group.first().ok_or_else(|| run_err("plan", "an empty group of seeds"))?;
        let kernels = Arc::new(SplitKernels::new(self.kernel.as_ref(), &self.clean[first]));
        let bound = group_bound(self, group, &kernels);
        // Poison every (level, seed) of the group in parallel: each draws from its own seeded
        // stream, and the results are kept in (level, seed) order, so the thread count does not
        // matter.
        let pairs: Vec<(usize, usize)> =
            (0..self.levels.len()).flat_map(|p| group.iter().map(move |&si| (p, si))).collect();
        let flips: Vec<Result<Option<FlipSet>, ExperimentError>> = pairs
            .par_iter()
            .with_max_len(1)
            .map(|&(p, si)| poison_flips(self, &self.levels[p], si, &kernels))
            .collect();
        let mut splits = Vec::with_capacity(pairs.len());
        let mut recorded = Vec::with_capacity(pairs.len());
        for (&(p, si), f) in pairs.iter().zip(flips) {
            let f = f?;
            splits.push(((p, si), split_with_flips(self, &self.levels[p], si, f.as_ref())?));
            recorded.push(((p, si), f.map(|f| f.indices().to_vec())));
        }
        let kernels = group_kernels(self, first, &kernels);
        Ok((ExperimentGroup { splits, kernels }, GroupRecord { bound, flips: recorded }))
    }
    fn compute(&self, group: &ExperimentGroup, cell: &CellId<Job>) -> Result<CellRecord, ExperimentError> {
        let j = &cell.what;
        let s = group.split(j.poison, j.seed).ok_or_else(|| run_err("plan", "a job's split was not prepared"))?;
        let mut result = run_job(self, j, s, &group.kernels)?;
        let grid = result.grid.take();
        Ok(CellRecord { result, grid })
    }
    fn report(&self, groups: Vec<GroupRecord>, cells: Vec<CellRecord>) -> Result<StudyOutput, ExperimentError> {
        Ok(experiment_output(self, &crate::run::executed(self, groups, cells)?))
    }
    fn as_plan(&self) -> Option<&Plan> {
        Some(self)
    }
    fn memory(&self) -> Option<&crate::memory::MemoryEstimate> {
        Some(&self.memory)
    }
}
