//! A group's shared state (the kernel matrices of seeds sharing their points) and one cell's
//! measurements (one poison level and seed): the SVM's influence per point and FLORAL's λ.

use std::sync::{Arc, Mutex, PoisonError};

use floral_data::{Labels, Split, Stream, Streams, stream};
use floral_game::{Control, GameError, Observer, RoundRecord, SplitKernels};
use floral_svm::{Influence, InfluenceParams, InfluenceSets, PointInfluence, SmoParams};
use rand::seq::index::sample;
use serde::{Deserialize, Serialize};

use super::InfluenceStudy;
use crate::ExperimentError;
use crate::frame::CellId;

/// One cell's work: the seed and the poison level (indices into the spec).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct What {
    /// The seed's index.
    pub si: usize,
    /// The poison level's index.
    pub li: usize,
}

/// The influence of one set of training labels on the measured points, with everything it was
/// computed from besides the group's kernels and the spec.
type Memo = (Labels, Labels, Vec<usize>, Arc<Influence>);

/// What the cells of one group share: the kernel matrices of its points, and the influence
/// computed so far by its cells, by (training labels, validation labels, measured points).
///
/// The memo only saves time: [`floral_svm::influence`] is a deterministic function of the
/// kernels, the labels, the measured points and the spec's parameters, so a cell gets the same
/// numbers whether another cell of the group (a shipped set and a sheet give every seed the same
/// labels) computed them first or not. It is never held while computing, so cells never wait.
#[derive(Debug)]
pub struct Group {
    kernels: SplitKernels,
    memo: Mutex<Vec<Memo>>,
}

/// What building a group records: its seeds (the report reads only the cells).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupRecord {
    /// The seeds sharing the group's points.
    pub seeds: Vec<u64>,
}

/// The measured influence of one training point, as a cell stores it.
pub type Point = PointInfluence;

/// One cell's measurements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellResult {
    /// The seed.
    pub seed: u64,
    /// The poison level's index.
    pub level: usize,
    /// Training points.
    pub n_train: usize,
    /// Validation points.
    pub n_validation: usize,
    /// Test points.
    pub n_test: usize,
    /// The base SVM's mean validation hinge loss.
    pub base_hinge: f64,
    /// The base SVM's validation 0-1 error.
    pub base_error: f64,
    /// Training indices whose label differs from the clean one.
    pub flipped: Vec<usize>,
    /// The measured points, in index order.
    pub points: Vec<Point>,
    /// FLORAL's λ_i at each study round, for the measured points (round-major).
    pub floral: Vec<Vec<f64>>,
    /// The rounds FLORAL's game played.
    pub floral_rounds_played: usize,
}

impl CellResult {
    pub(super) fn col(&self, f: impl Fn(&Point) -> f64) -> Vec<f64> {
        self.points.iter().map(f).collect()
    }
    pub(super) fn floral_last(&self) -> Vec<f64> {
        self.floral.last().cloned().unwrap_or_default()
    }
}

/// Records λ at chosen rounds of a FLORAL game.
struct LambdaAt<'a> {
    rounds: &'a [usize],
    got: Vec<Vec<f64>>,
}

impl Observer for LambdaAt<'_> {
    fn on_round(&mut self, rec: &RoundRecord<'_>) -> Result<Control, GameError> {
        if self.rounds.contains(&rec.round) {
            self.got.push(rec.lambda.iter().copied().collect());
        }
        Ok(Control::Continue)
    }
}

fn run_err(what: &str, e: impl std::fmt::Display) -> ExperimentError {
    ExperimentError::Run { what: what.to_string(), message: e.to_string() }
}

impl InfluenceStudy {
    /// Every cell, poison level by poison level, then seed by seed (the report's order).
    pub(super) fn cell_ids(&self) -> Vec<CellId<What>> {
        let group_of = |si: usize| self.plan.groups.iter().position(|g| g.contains(&si)).unwrap_or(usize::MAX);
        (0..self.plan.levels.len())
            .flat_map(|li| (0..self.spec.seeds.len()).map(move |si| What { si, li }))
            .map(|w| CellId {
                group: group_of(w.si),
                key: format!("p{}-s{}", w.li, w.si),
                label: format!("{} / seed {}", self.plan.poison_names[w.li], self.spec.seeds[w.si]),
                what: w,
            })
            .collect()
    }

    /// Group `g`: the kernel matrices of its seeds' (identical) points.
    pub(super) fn group(&self, g: usize) -> Result<(Group, GroupRecord), ExperimentError> {
        let seeds = self.plan.groups.get(g).ok_or_else(|| run_err("influence", "a group out of range"))?;
        let &first = seeds.first().ok_or_else(|| run_err("influence", "an empty group of seeds"))?;
        let kernels = SplitKernels::new(self.plan.kernel.as_ref(), &self.plan.clean[first]);
        let record = GroupRecord { seeds: seeds.iter().map(|&si| self.spec.seeds[si]).collect() };
        Ok((Group { kernels, memo: Mutex::new(Vec::new()) }, record))
    }

    /// The training points measured for seed `seed` out of `n`: a sorted sample drawn from the
    /// seed's analysis stream, or every point.
    fn measured(&self, seed: u64, n: usize) -> Vec<usize> {
        match self.spec.sample {
            Some(m) => {
                let mut v = sample(&mut stream(seed, Stream::Analysis), n, m).into_vec();
                v.sort_unstable();
                v
            }
            None => (0..n).collect(),
        }
    }

    /// The influence of every measured point of `split`'s training labels, from the group's
    /// memo or computed (and then kept in it).
    fn influence(
        &self,
        group: &Group,
        split: &Split,
        indices: &[usize],
        what: &str,
    ) -> Result<Arc<Influence>, ExperimentError> {
        let (Some(kv), Some(val)) = (group.kernels.validation.as_ref(), split.validation.as_ref()) else {
            return Err(run_err(what, "no validation split"));
        };
        let (y, yv) = (split.train.y(), val.y());
        let find = |memo: &[Memo]| memo.iter().find(|m| m.0 == *y && m.1 == *yv && m.2 == indices).map(|m| m.3.clone());
        if let Some(hit) = find(&group.memo.lock().unwrap_or_else(PoisonError::into_inner)) {
            return Ok(hit);
        }
        let sets = InfluenceSets { validation: kv.as_ref(), validation_labels: yv, test: group.kernels.test.as_ref() };
        let params = InfluenceParams { c: self.spec.c, warm_start: self.spec.warm_start, smo: SmoParams::default() };
        let inf = Arc::new(
            floral_svm::influence(&group.kernels.train, y, &sets, &params, indices).map_err(|e| run_err(what, e))?,
        );
        let mut memo = group.memo.lock().unwrap_or_else(PoisonError::into_inner);
        if find(&memo).is_none() {
            memo.push((y.clone(), yv.clone(), indices.to_vec(), inf.clone()));
        }
        Ok(inf)
    }

    /// FLORAL played on `split`'s training labels: the learner's λ on the measured points at
    /// each study round (a game stopped early: its last λ stands for the rounds not reached),
    /// and the rounds played.
    fn floral_lambda(
        &self,
        group: &Group,
        split: &Split,
        seed: u64,
        indices: &[usize],
        what: &str,
    ) -> Result<(Vec<Vec<f64>>, usize), ExperimentError> {
        let train = &split.train;
        let f = &self.spec.floral;
        let crate::registry::FloralGame { mut attacker, mut learner, params } = crate::registry::floral_game(f, what)?;
        let mut q =
            floral_svm::SignedGram::new(group.kernels.train.clone(), train.y()).map_err(|e| run_err(what, e))?;
        let mut obs = LambdaAt { rounds: &self.rounds, got: Vec::new() };
        let out = floral_game::play(
            &params,
            &mut q,
            train.y(),
            attacker.as_mut(),
            &mut learner,
            &mut Streams::new(seed),
            &mut obs,
        )
        .map_err(|e| run_err(what, e))?;
        let mut floral: Vec<Vec<f64>> = obs.got.iter().map(|lam| indices.iter().map(|&i| lam[i]).collect()).collect();
        while floral.len() < self.rounds.len() {
            floral.push(indices.iter().map(|&i| out.lambda[i]).collect());
        }
        Ok((floral, out.rounds_played))
    }

    /// One cell: poison the seed's training labels at the level, measure the influence of the
    /// chosen points, and play FLORAL on the same labels.
    pub(super) fn run_cell(&self, group: &Group, w: What) -> Result<CellResult, ExperimentError> {
        let What { si, li } = w;
        let seed = self.spec.seeds[si];
        let what = format!("influence / {} / seed {seed}", self.plan.poison_names[li]);
        let split = crate::run::poisoned_split(&self.plan, &self.plan.levels[li], si, &group.kernels)?;
        let n = split.train.n();
        let indices = self.measured(seed, n);
        let flipped = match &split.train_clean {
            Some(clean) => clean.diff(split.train.y()).map_err(|e| run_err(&what, e))?,
            None => Vec::new(),
        };
        let inf = self.influence(group, &split, &indices, &what)?;
        let (floral, floral_rounds_played) = self.floral_lambda(group, &split, seed, &indices, &what)?;
        Ok(CellResult {
            seed,
            level: li,
            n_train: n,
            n_validation: split.validation.as_ref().map_or(0, |v| v.n()),
            n_test: split.test.n(),
            base_hinge: inf.base_validation.hinge,
            base_error: inf.base_validation.error,
            flipped,
            points: inf.points.clone(),
            floral,
            floral_rounds_played,
        })
    }
}
