//! Defence-aware offline poisoning against FLORAL: the look-ahead search run against the
//! defender's own dynamics from scratch, accumulating its flips into one poisoned training set.

use std::sync::Arc;

use faer::Mat;
use floral_data::{FlipSet, FloralRng};
use floral_game::{Budget, GameError, Learner, RoundView};
use floral_svm::SignedGram;

use crate::lookahead::{EvalSet, LookAheadObjective, LookAheadSearch, SearchConfig, search_flips};
use crate::{AttackError, PoisonInput, Poisoner};

/// Builds the defender's learner (fresh, not reset) for a poisoning run. The attack crate never
/// names a concrete learner: the experiment's registry supplies this (e.g. FLORAL's).
pub type LearnerFactory = Arc<dyn Fn() -> Result<Box<dyn Learner>, GameError> + Send + Sync>;

/// Which labelled points the poisoner scores the simulated defender on (its data budget).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum AttackerData {
    /// The training points with their clean labels (no data beyond the training set).
    Train,
    /// The validation split (the experiment must have one).
    Validation,
}

/// Parameters of [`LookAheadPoisoner`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LookAheadPoisonParams {
    /// New flips chosen per look-ahead search, ≥ 1. Default 5.
    #[serde(default = "five")]
    pub per_round: usize,
    /// Simulated learner steps per candidate set, ≥ 1. Default 1.
    #[serde(default = "one")]
    pub horizon: usize,
    /// Candidate pool size B ≥ per_round (default None: 2·per_round).
    #[serde(default)]
    pub pool: Option<usize>,
    /// The search. Default `Singles`.
    #[serde(default = "singles")]
    pub search: LookAheadSearch,
    /// The objective. Default `Hinge`.
    #[serde(default = "hinge")]
    pub objective: LookAheadObjective,
    /// Learner steps on the clean labels before the first search. Default 100.
    #[serde(default = "hundred")]
    pub warmup: usize,
    /// Learner steps on the poisoned labels after each search. Default 10.
    #[serde(default = "ten")]
    pub steps_between: usize,
    /// The attacker's evaluation data. Default `Validation`.
    #[serde(default = "validation")]
    pub data: AttackerData,
}

fn one() -> usize {
    1
}
fn five() -> usize {
    5
}
fn ten() -> usize {
    10
}
fn hundred() -> usize {
    100
}
fn singles() -> LookAheadSearch {
    LookAheadSearch::Singles
}
fn hinge() -> LookAheadObjective {
    LookAheadObjective::Hinge
}
fn validation() -> AttackerData {
    AttackerData::Validation
}

impl Default for LookAheadPoisonParams {
    fn default() -> Self {
        Self {
            per_round: 5,
            horizon: 1,
            pool: None,
            search: LookAheadSearch::Singles,
            objective: LookAheadObjective::Hinge,
            warmup: 100,
            steps_between: 10,
            data: AttackerData::Validation,
        }
    }
}

/// The defence-aware look-ahead poisoner. From the clean labels y and a fresh defender learner:
/// `warmup` learner steps; then, until the budget is spent, a look-ahead search
/// ([`search_flips`]) for min(per_round, budget left) new flips among the points not yet flipped
/// (the defender's state and labels so far; candidates as the in-game attacker's), scored
/// after h simulated steps on the clean labels of the attacker's data; the flips join the
/// poisoned set, and the learner takes `steps_between` steps on the poisoned labels. The output
/// is the accumulated set: exactly `budget` flips. Deterministic given the rng (the FLORAL
/// learner draws nothing from it).
#[derive(Clone)]
pub struct LookAheadPoisoner {
    p: LookAheadPoisonParams,
    learner: LearnerFactory,
}

impl std::fmt::Debug for LookAheadPoisoner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LookAheadPoisoner").field("p", &self.p).finish_non_exhaustive()
    }
}

impl LookAheadPoisoner {
    /// Validate: per_round ≥ 1, horizon ≥ 1, B ≥ per_round, beam width ≥ 1.
    ///
    /// # Errors
    /// [`AttackError::InvalidParam`] naming the field.
    pub fn new(p: LookAheadPoisonParams, learner: LearnerFactory) -> Result<Self, AttackError> {
        let bad = |field, expected, got: String| AttackError::InvalidParam { field, expected, got };
        if p.per_round == 0 {
            return Err(bad("per_round", ">= 1", "0".into()));
        }
        if p.horizon == 0 {
            return Err(bad("horizon", ">= 1", "0".into()));
        }
        if p.pool.is_some_and(|b| b < p.per_round) {
            return Err(bad("pool", ">= per_round", format!("{:?}", p.pool)));
        }
        if let LookAheadSearch::Beam { width: 0 } = p.search {
            return Err(bad("search.width", ">= 1", "0".into()));
        }
        Ok(Self { p, learner })
    }

    /// The parameters.
    pub fn params(&self) -> &LookAheadPoisonParams {
        &self.p
    }
}

impl Poisoner for LookAheadPoisoner {
    fn name(&self) -> &'static str {
        "look_ahead"
    }
    fn draws_per_seed(&self) -> bool {
        true
    }

    fn poison(&self, input: &PoisonInput<'_>, budget: usize, rng: &mut FloralRng) -> Result<FlipSet, AttackError> {
        let train = input.train;
        let n = train.n();
        let clean = train.y().clone();
        let kval: Option<Mat<f64>> = match self.p.data {
            AttackerData::Train => None,
            AttackerData::Validation => {
                let Some(val) = input.validation else {
                    return Err(AttackError::InvalidParam {
                        field: "data",
                        expected: "Train, or a validation split in the experiment",
                        got: "Validation without a validation split".into(),
                    });
                };
                let mut k = Mat::zeros(val.n(), n);
                input.kernel.gram_into(val.x(), train.x(), k.as_mut());
                Some(k)
            }
        };
        let eval = match (&kval, input.validation) {
            (Some(k), Some(val)) => EvalSet::Cross { k: k.as_ref(), y: val.y() },
            _ => EvalSet::Train(&clean),
        };
        let mut q = SignedGram::new(input.gram.clone(), &clean)?;
        let mut learner = (self.learner)()?;
        learner.reset(&q)?;
        let mut round = 1;
        for _ in 0..self.p.warmup {
            learner.step(round, &q, rng)?;
            round += 1;
        }
        let mut mask = vec![false; n];
        let mut cur = clean.clone();
        let mut count = 0;
        let mut f_buf = faer::Col::zeros(n);
        while count < budget.min(n) {
            let kk = self.p.per_round.min(budget - count);
            let cfg = SearchConfig {
                pool: self.p.pool.unwrap_or(2 * self.p.per_round).max(kk),
                horizon: self.p.horizon,
                search: self.p.search,
                objective: self.p.objective,
                sv_threshold: 1e-5,
            };
            let found = {
                let view = RoundView::new(round, learner.as_ref(), &q, &cur, Budget { k: kk }, &mut f_buf);
                search_flips(&view, &cfg, &eval, Some(&mask), rng)?
            };
            if found.flips.is_empty() {
                break;
            }
            for &i in &found.flips {
                mask[i] = true;
                cur.flip(i);
            }
            count += found.flips.len();
            q.set_labels(&cur)?;
            for _ in 0..self.p.steps_between {
                learner.step(round, &q, rng)?;
                round += 1;
            }
        }
        let idx: Vec<usize> = (0..n).filter(|&i| mask[i]).collect();
        Ok(FlipSet::new(idx, n)?)
    }
}
