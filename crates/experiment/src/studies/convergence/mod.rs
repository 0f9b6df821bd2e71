//! `Convergence(...)`: the convergence-regime study (docs/method.md §8, proofs/stability.md).
//!
//! Question: for which step sizes η and attacker settings (k flips drawn from a pool of the top
//! B support vectors) does the last iterate of the FLORAL game converge, keep cycling, or
//! diverge, and does the boundary sit where the fixed-label analysis predicts, η = 2/μ_max (μ_max
//! the largest eigenvalue of P Q̃_FF P at the SVM solution of the poisoned labels)? And does a
//! step-size schedule, iterate averaging, or an extragradient / optimistic learner give a last
//! iterate as good as the best-validation round, without validation data?
//!
//! The study plays, for every seed, every η of the grid and every (k, B) of `attackers`, one
//! game of constant-step projected gradient descent (FLORAL's learner), and records per round
//! the test accuracy, the step ‖λ^t − λ^{t−1}‖₂ and, over the last `tail` rounds, the
//! spectral radius of the round's map at λ^t ([`crate::StabilityObserver`]). A run's regime:
//!
//! - **diverges** when more than half of the tail's spectral samples have ρ > 1 (the round's map
//!   expands around λ^t), the monitor's last state is diverging (step norms rising), or the mean
//!   cosine of consecutive tail steps cos(Δ^t, Δ^{t−1}) is below `diverge_cosine`: the iterate
//!   overshoots back and forth (the period-2 oscillation of an unstable map, which large steps
//!   drive into the box, where the free set, and so ρ at λ^t, is small);
//! - else **drifts** when the tail's net displacement ‖λ^T − λ^{T−tail}‖ is at least
//!   [`DRIFT_NET`] of the path it walked (λ still moves one way: not settled in T rounds);
//! - else **cycles** when the test accuracy over the tail spans more than `spread_tol`
//!   (max − min), or the monitor found λ repeating;
//! - else **converges**.
//!
//! A cell's regime is the most common over the seeds (ties: the later of converges, cycles,
//! diverges). The comparison then plays, at each η of `compare.eta` and the attacker
//! `compare.attacker`, constant-step PGD (last iterate, average of the last m iterates, the
//! best-validation round), each schedule of `compare.schedules` and each solver of
//! `compare.solvers` (last iterates), plus an SVM on the poisoned labels and an SVM on the
//! trusted validation points alone.
//!
//! On the study frame ([`crate::frame`]): a group is one seed (its poisoned split, kernel
//! matrices, the predicted boundary and the two baselines, [`SeedSetup`] its record); a
//! cell is one game of that seed (a map cell or a compared variant), seed-major in job order.

mod answer;
mod cells;
mod check;
mod plots;
mod report;
mod sections;
mod spec;
#[cfg(test)]
mod tests;

use std::path::Path;

pub use cells::{DRIFT_NET, GameCell, JobKind, SeedGroup, SeedSetup};
pub use check::{ConvergenceStudy, check, parse};
pub use spec::{CompareSpec, ConvergenceSpec, EtaGrid};

use crate::ExperimentError;
use crate::frame::CellId;
use crate::frame::{Study, StudyHeader, StudyOutput};

/// The `Convergence` loader of [`crate::study::KINDS`].
///
/// # Errors
/// As [`parse`] and [`check`].
pub fn load(text: &str, path: &Path) -> Result<Box<dyn Study>, ExperimentError> {
    Ok(crate::frame::boxed(check(parse(text, path)?, path)?))
}

/// The store key of job `job` of seed index `si`.
fn cell_key(si: usize, job: JobKind) -> String {
    match job {
        JobKind::Cell(e, a) => format!("s{si}-map-e{e}-a{a}"),
        JobKind::Compare(e, v) => format!("s{si}-cmp-e{e}-v{v}"),
    }
}

impl crate::frame::Kind for ConvergenceStudy {
    type What = JobKind;
    type Group = SeedGroup;
    type GroupRecord = SeedSetup;
    type Cell = GameCell;
    const KIND: &'static str = "Convergence";

    fn header(&self) -> StudyHeader<'_> {
        StudyHeader { name: &self.spec.name, source: &self.plan.source, canonical: &self.canonical, hash: &self.hash }
    }
    fn describe(&self) -> Vec<String> {
        let s = &self.spec;
        vec![format!(
            "{} steps × {} attackers map + {} compared steps × {} variants, {} seeds: {} games of {} rounds",
            s.eta.values().len(),
            s.attackers.len(),
            s.compare.eta.len(),
            self.variants().len(),
            s.seeds.len(),
            self.job_list().len() * s.seeds.len(),
            s.rounds
        )]
    }
    fn groups(&self) -> usize {
        self.spec.seeds.len()
    }
    fn cells(&self) -> Vec<CellId<JobKind>> {
        let jobs = self.job_list();
        let variants = self.variants();
        let unit = self.spec.eta.unit();
        let mut out = Vec::with_capacity(jobs.len() * self.spec.seeds.len());
        for (si, seed) in self.spec.seeds.iter().enumerate() {
            for &job in &jobs {
                let label = match job {
                    JobKind::Cell(e, a) => {
                        let (k, b) = self.spec.attackers[a];
                        let u = floral_report::fmt_num(self.spec.eta.values()[e]);
                        format!("seed {seed}: map η = {u} ({unit}), k = {k}, B = {b}")
                    }
                    JobKind::Compare(e, v) => {
                        let u = floral_report::fmt_num(self.spec.compare.eta[e]);
                        format!("seed {seed}: compare η = {u} ({unit}), {}", variants[v].name)
                    }
                };
                out.push(CellId { group: si, key: cell_key(si, job), label, what: job });
            }
        }
        out
    }
    fn build_group(&self, g: usize) -> Result<(SeedGroup, SeedSetup), ExperimentError> {
        if g >= self.spec.seeds.len() {
            return Err(cells::run_err("convergence study", "a group out of range"));
        }
        self.setup(g)
    }
    fn compute(&self, group: &SeedGroup, cell: &CellId<JobKind>) -> Result<GameCell, ExperimentError> {
        self.compute_job(group, cell.what)
    }
    fn report(&self, groups: Vec<SeedSetup>, cells: Vec<GameCell>) -> Result<StudyOutput, ExperimentError> {
        Ok(self.output(&self.ran(groups, cells)?))
    }
    fn memory(&self) -> Option<&crate::memory::MemoryEstimate> {
        Some(&self.plan.memory)
    }
}
