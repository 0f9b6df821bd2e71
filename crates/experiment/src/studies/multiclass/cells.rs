//! Groups and cells: a group is one seed (its training subsample, the Gram matrix on it and the
//! cross-kernel to the test points); a cell is one poison level at that seed (the offline
//! relabelling and the four methods on the relabelled labels).

use std::sync::Arc;

use floral_attack::{ConfusableTopK, ConfusableTopKParams, random_relabels, targeted_relabels};
use floral_data::{MulticlassData, Stream, Streams, stream};
use floral_defense::MulticlassFloral;
use floral_projection::{ExactParams, ExactProjector, Projector};
use floral_svm::{Gram, SmoParams, confusion, cross_gram, fit_ovo, fit_ovr, multiclass_accuracy};
use serde::{Deserialize, Serialize};

use super::MulticlassStudy;
use super::check::budget;
use super::spec::MulticlassPoison;
use crate::ExperimentError;

/// What one cell computes: a poison level at a seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LevelAtSeed {
    /// The seed's index in the spec (and the group's index).
    pub seed: usize,
    /// The poison level's index in the spec.
    pub level: usize,
}

/// One seed's shared state: the subsampled training set, its Gram matrix and the test points'
/// cross-kernel.
pub struct SeedGroup {
    sub: MulticlassData,
    gram: Arc<Gram>,
    kc: faer::Mat<f64>,
}

/// What building a seed's group records: the seed and the number of training points drawn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedRecord {
    /// The seed.
    pub seed: u64,
    /// Training points in its subsample.
    pub points: usize,
}

/// One (seed, level) run: accuracy and test confusion matrix per method (OvR SVM, OvO SVM,
/// FLORAL last, FLORAL average), the points relabelled offline, and the most points FLORAL's
/// in-game attacker relabelled in one round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    /// Test accuracy per method.
    pub accuracy: [f64; 4],
    /// Test confusion matrix per method (rows: true class, columns: predicted).
    pub confusion: [Vec<Vec<usize>>; 4],
    /// Training points relabelled by the offline poisoning.
    pub flips: usize,
    /// The most points the in-game attacker relabelled in one round.
    pub max_relabelled: usize,
}

impl MulticlassStudy {
    /// Training points used per seed.
    pub(super) fn n_used(&self) -> usize {
        self.spec.train_points.unwrap_or(self.train.n())
    }

    /// The seed's subsample: `n_used` indices drawn uniformly without replacement (Data
    /// stream), sorted; every index when all points are used.
    fn subsample(&self, seed: u64) -> Vec<usize> {
        let n = self.train.n();
        let m = self.n_used();
        if m == n {
            return (0..n).collect();
        }
        let mut idx = rand::seq::index::sample(&mut stream(seed, Stream::Data), n, m).into_vec();
        idx.sort_unstable();
        idx
    }

    /// Build seed `g`'s subsample and kernels.
    pub(super) fn seed_group(&self, g: usize) -> Result<(SeedGroup, SeedRecord), ExperimentError> {
        let seed = *self.spec.seeds.get(g).ok_or_else(|| ExperimentError::Run {
            what: "multi-class study".into(),
            message: format!("group {g} out of range"),
        })?;
        let sub = self.train.select(&self.subsample(seed));
        let gram = Arc::new(Gram::new(self.kernel.as_ref(), sub.x()));
        let kc = cross_gram(self.kernel.as_ref(), self.test.x(), sub.x());
        let points = sub.n();
        Ok((SeedGroup { sub, gram, kc }, SeedRecord { seed, points }))
    }

    /// One cell: relabel the seed's subsample at the level (its own stream,
    /// [`crate::registry::poison_rng`]), fit the four methods, predict the test points. Every
    /// draw comes from a stream seeded by the seed alone, so no cell depends on another.
    pub(super) fn run_one(&self, group: &SeedGroup, at: LevelAtSeed) -> Result<Run, ExperimentError> {
        let seed = self.spec.seeds[at.seed];
        let li = at.level;
        let what = format!("{} / seed {seed}", self.levels[li].0);
        let err = |e: &dyn std::fmt::Display| ExperimentError::Run { what: what.clone(), message: e.to_string() };
        let y = group.sub.y();
        let (gram, kc) = (&group.gram, &group.kc);
        let n = y.len();
        let mut prng = crate::registry::poison_rng(seed);
        let yp = match &self.spec.poison[li] {
            MulticlassPoison::Clean => y.clone(),
            MulticlassPoison::Random { fraction } => {
                random_relabels(y, budget(*fraction, n), &mut prng).map_err(|e| err(&e))?
            }
            MulticlassPoison::Targeted { fraction, .. } => {
                targeted_relabels(y, &self.levels[li].1, budget(*fraction, n), &mut prng).map_err(|e| err(&e))?
            }
        };
        let flips = y.diff(&yp).map_err(|e| err(&e))?.len();
        let truth = self.test.y();
        let (ovr, _) = fit_ovr(gram, &yp, self.spec.c, SmoParams::default()).map_err(|e| err(&e))?;
        let order = yp.first_appearance_order();
        let (ovo, _) = fit_ovo(gram, &yp, self.spec.c, SmoParams::default(), &order).map_err(|e| err(&e))?;
        let projector: Arc<dyn Projector> = Arc::new(ExactProjector::new(ExactParams::default()).map_err(|e| err(&e))?);
        let game = MulticlassFloral::new(self.spec.floral.clone(), projector).map_err(|e| err(&e))?;
        let mut attacker = ConfusableTopK::new(ConfusableTopKParams {
            k: self.spec.floral.k,
            pool: self.spec.attacker_pool,
            sv_threshold: self.spec.floral.learner.sv_threshold,
            new_class: self.spec.attacker_new_class,
        })
        .map_err(|e| err(&e))?;
        let fit = game.fit(gram, &yp, &mut attacker, &mut Streams::new(seed)).map_err(|e| err(&e))?;
        let preds = [
            ovr.predict(kc.as_ref()),
            ovo.predict(kc.as_ref()),
            fit.last.predict(kc.as_ref()),
            fit.average.predict(kc.as_ref()),
        ];
        let accuracy = [0, 1, 2, 3].map(|m| multiclass_accuracy(truth, &preds[m]));
        let confusion = [0, 1, 2, 3].map(|m| confusion(truth, &preds[m]));
        Ok(Run { accuracy, confusion, flips, max_relabelled: fit.relabelled.iter().copied().max().unwrap_or(0) })
    }
}
