//! The adaptive look-ahead attacker: it forks the learner, simulates the defender's next h
//! steps for candidate flip sets and plays the set that hurts the defender most afterwards.

use faer::MatRef;
use floral_data::{FlipSet, FloralRng, Labels};
use floral_game::{Attacker, GameError, RoundView};

use crate::{AttackError, RandomTopK, RandomTopKParams};

/// How candidate flip sets are searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum LookAheadSearch {
    /// Score each candidate flipped alone and play the k best singles: B simulations.
    Singles,
    /// Grow the set one flip at a time, each time adding the candidate whose addition scores
    /// best: Σ_{j<k} (B − j) simulations.
    Greedy,
    /// Beam search: keep the `width` best sets of each size: about width × Σ_{j<k} (B − j)
    /// simulations.
    Beam {
        /// Sets kept per size, ≥ 1.
        width: usize,
    },
}

/// What the look-ahead maximises after the simulated steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum LookAheadObjective {
    /// Mean hinge loss (1/m) Σ_i max(0, 1 − y_i f(x_i)) on the attacker's evaluation points.
    Hinge,
    /// Error rate (1/m) #{i : y_i f(x_i) ≤ 0}; ties broken by the hinge loss.
    Error,
}

/// Parameters of [`LookAhead`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LookAheadParams {
    /// Flips per round (the budget k).
    pub k: usize,
    /// Candidate pool size B (default None: 2k): the top-B support vectors by λ, filled up with
    /// the smallest clean margins when there are fewer support vectors.
    #[serde(default)]
    pub pool: Option<usize>,
    /// Learner steps simulated per candidate set, h ≥ 1. Default 1.
    #[serde(default = "one")]
    pub horizon: usize,
    /// The search. Default `Singles`.
    #[serde(default = "singles")]
    pub search: LookAheadSearch,
    /// The objective. Default `Hinge`.
    #[serde(default = "hinge")]
    pub objective: LookAheadObjective,
    /// Draws of FLORAL's randomized top-k scored alongside the searched set (the first uses
    /// the rng exactly as [`RandomTopK`] would). Default 1.
    #[serde(default = "one")]
    pub draws: usize,
    /// λ_i above this counts as a support vector. Default 1e-5.
    #[serde(default = "default_sv_threshold")]
    pub sv_threshold: f64,
}

fn one() -> usize {
    1
}
fn singles() -> LookAheadSearch {
    LookAheadSearch::Singles
}
fn hinge() -> LookAheadObjective {
    LookAheadObjective::Hinge
}
fn default_sv_threshold() -> f64 {
    1e-5
}

impl Default for LookAheadParams {
    fn default() -> Self {
        Self {
            k: 5,
            pool: None,
            horizon: 1,
            search: LookAheadSearch::Singles,
            objective: LookAheadObjective::Hinge,
            draws: 1,
            sv_threshold: 1e-5,
        }
    }
}

/// The points and labels the attacker scores the simulated defender on.
#[derive(Debug, Clone, Copy)]
pub enum EvalSet<'a> {
    /// The training points with these (clean) labels: f = ỹ∘(Q̃λ) + b from the simulated
    /// learner, O(n).
    Train(&'a Labels),
    /// Other points: `k` = K(eval, train) (m × n) and their labels; f = K(ỹ∘λ) + b, O(mn).
    Cross {
        /// K(eval, train).
        k: MatRef<'a, f64>,
        /// The evaluation labels.
        y: &'a Labels,
    },
}

/// The search's settings, shared by the in-game attacker and the offline poisoner.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchConfig {
    /// Candidate pool size B.
    pub pool: usize,
    /// Simulated steps h ≥ 1.
    pub horizon: usize,
    /// The search.
    pub search: LookAheadSearch,
    /// The objective.
    pub objective: LookAheadObjective,
    /// Support-vector threshold.
    pub sv_threshold: f64,
}

/// A score, compared lexicographically (primary, then secondary).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LookAheadScore {
    /// Hinge loss (objective `Hinge`) or error rate (objective `Error`).
    pub primary: f64,
    /// 0 (objective `Hinge`) or the hinge loss (objective `Error`).
    pub secondary: f64,
}

impl LookAheadScore {
    fn better_than(&self, other: &LookAheadScore) -> bool {
        (self.primary, self.secondary) > (other.primary, other.secondary)
    }
}

/// The objective of decision values `f` against labels `y`: mean hinge (1/m) Σ max(0, 1 − y_i f_i)
/// and error (1/m) #{y_i f_i ≤ 0}, combined as `objective` says.
pub fn objective_value(f: &[f64], y: &[f64], objective: LookAheadObjective) -> LookAheadScore {
    let m = y.len().max(1) as f64;
    let hinge = f.iter().zip(y).map(|(fi, yi)| (1.0 - yi * fi).max(0.0)).sum::<f64>() / m;
    match objective {
        LookAheadObjective::Hinge => LookAheadScore { primary: hinge, secondary: 0.0 },
        LookAheadObjective::Error => {
            let err = f.iter().zip(y).filter(|(fi, yi)| *yi * *fi <= 0.0).count() as f64 / m;
            LookAheadScore { primary: err, secondary: hinge }
        }
    }
}

/// Simulate `flips` for `horizon` steps from the view's state ([`RoundView::simulate`]: the
/// real learner is untouched) and score the simulated model on `eval`.
///
/// # Errors
/// The simulated learner's error.
pub fn score_flips(
    view: &RoundView<'_>,
    flips: &FlipSet,
    horizon: usize,
    eval: &EvalSet<'_>,
    objective: LookAheadObjective,
    rng: &mut FloralRng,
) -> Result<LookAheadScore, GameError> {
    let sim = view.simulate(flips, horizon, rng)?;
    let b = sim.bias();
    let yt = sim.q.labels().as_slice();
    let n = yt.len();
    let f: Vec<f64> = match eval {
        EvalSet::Train(_) => {
            let ql: Vec<f64> = match sim.learner.q_lambda() {
                Some(ql) => ql.iter().copied().collect(),
                None => {
                    let mut out = faer::Col::zeros(n);
                    sim.q.matvec_into(sim.lambda(), out.as_mut());
                    out.iter().copied().collect()
                }
            };
            ql.iter().zip(yt).map(|(q, y)| y * q + b).collect()
        }
        EvalSet::Cross { k, .. } => {
            let lam = sim.lambda();
            let v: Vec<f64> = (0..n).map(|j| yt[j] * lam[j]).collect();
            cross_matvec(*k, &v).into_iter().map(|g| g + b).collect()
        }
    };
    let y = match eval {
        EvalSet::Train(y) | EvalSet::Cross { y, .. } => y.as_slice(),
    };
    Ok(objective_value(&f, y, objective))
}

/// out = K v for a rectangular K (m × n): each entry one sequential dot product in index order
/// (deterministic whatever the thread count).
///
/// # Panics
/// If `v` does not have K's column count.
pub fn cross_matvec(k: MatRef<'_, f64>, v: &[f64]) -> Vec<f64> {
    assert_eq!(k.ncols(), v.len(), "cross_matvec: lengths");
    (0..k.nrows()).map(|i| (0..k.ncols()).map(|j| k[(i, j)] * v[j]).sum()).collect()
}

/// The candidate pool: support vectors (λ_i > threshold, not excluded) by λ descending, the
/// first B; when fewer than B, filled with the other non-excluded points by ascending margin
/// ỹ_i f(x_i) on the view's labels. Ties: lower index first.
pub fn candidates(view: &RoundView<'_>, pool: usize, sv_threshold: f64, exclude: Option<&[bool]>) -> Vec<usize> {
    let n = view.lambda.nrows();
    let lam = view.lambda;
    let ok = |i: usize| exclude.is_none_or(|e| !e[i]);
    let mut sv: Vec<usize> = (0..n).filter(|&i| ok(i) && lam[i] > sv_threshold).collect();
    sv.sort_by(|&a, &b| lam[b].total_cmp(&lam[a]).then(a.cmp(&b)));
    sv.truncate(pool);
    if sv.len() < pool {
        let y = view.clean.as_slice();
        let f = view.decision_values;
        let mut rest: Vec<usize> = (0..n).filter(|&i| ok(i) && lam[i] <= sv_threshold).collect();
        rest.sort_by(|&a, &b| (y[a] * f[a]).total_cmp(&(y[b] * f[b])).then(a.cmp(&b)));
        rest.truncate(pool - sv.len());
        sv.extend(rest);
    }
    sv
}

/// The result of one search.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchResult {
    /// The chosen flips (sorted).
    pub flips: Vec<usize>,
    /// Their score after the simulated steps.
    pub score: LookAheadScore,
    /// Simulations run.
    pub simulations: usize,
}

fn set(idx: &[usize], n: usize) -> Result<FlipSet, GameError> {
    FlipSet::new(idx.to_vec(), n).map_err(|e| GameError::player("look_ahead", AttackError::from(e)))
}

/// Search min(k, |pool|) flips among the candidates (see [`LookAheadSearch`]); `exclude` masks
/// points that may not be flipped. Deterministic given the rng state.
///
/// # Errors
/// A simulated learner's error.
pub fn search_flips(
    view: &RoundView<'_>,
    cfg: &SearchConfig,
    eval: &EvalSet<'_>,
    exclude: Option<&[bool]>,
    rng: &mut FloralRng,
) -> Result<SearchResult, GameError> {
    let n = view.lambda.nrows();
    let cand = candidates(view, cfg.pool, cfg.sv_threshold, exclude);
    let k = view.budget.k.min(cand.len());
    let mut sims = 0usize;
    let mut score = |idx: &[usize], rng: &mut FloralRng| -> Result<LookAheadScore, GameError> {
        sims += 1;
        score_flips(view, &set(idx, n)?, cfg.horizon, eval, cfg.objective, rng)
    };
    if k == 0 {
        let s = score(&[], rng)?;
        return Ok(SearchResult { flips: Vec::new(), score: s, simulations: sims });
    }
    let (flips, best) = match cfg.search {
        LookAheadSearch::Singles => {
            let mut scored = Vec::with_capacity(cand.len());
            for &c in &cand {
                scored.push((c, score(&[c], rng)?));
            }
            scored.sort_by(|a, b| {
                (b.1.primary, b.1.secondary)
                    .partial_cmp(&(a.1.primary, a.1.secondary))
                    .unwrap_or(std::cmp::Ordering::Equal)
                    .then(a.0.cmp(&b.0))
            });
            let mut f: Vec<usize> = scored.iter().take(k).map(|(c, _)| *c).collect();
            f.sort_unstable();
            let s = if k == 1 { scored[0].1 } else { score(&f, rng)? };
            (f, s)
        }
        LookAheadSearch::Greedy | LookAheadSearch::Beam { .. } => {
            let width = match cfg.search {
                LookAheadSearch::Beam { width } => width.max(1),
                _ => 1,
            };
            let mut beams: Vec<(Vec<usize>, LookAheadScore)> =
                vec![(Vec::new(), LookAheadScore { primary: f64::NEG_INFINITY, secondary: 0.0 })];
            for _ in 0..k {
                let mut next: Vec<(Vec<usize>, LookAheadScore)> = Vec::new();
                for (b, _) in &beams {
                    for &c in &cand {
                        if b.contains(&c) {
                            continue;
                        }
                        let mut s = b.clone();
                        s.push(c);
                        s.sort_unstable();
                        if next.iter().any(|(t, _)| *t == s) {
                            continue;
                        }
                        let sc = score(&s, rng)?;
                        next.push((s, sc));
                    }
                }
                // Stable: equal scores keep the earlier (lower-index) set first.
                next.sort_by(|a, b| {
                    (b.1.primary, b.1.secondary)
                        .partial_cmp(&(a.1.primary, a.1.secondary))
                        .unwrap_or(std::cmp::Ordering::Equal)
                });
                next.truncate(width);
                beams = next;
            }
            let (f, s) = beams.swap_remove(0);
            (f, s)
        }
    };
    Ok(SearchResult { flips, score: best, simulations: sims })
}

/// The adaptive look-ahead attacker. Each round: draw `draws` randomized top-k sets (the first
/// exactly as [`RandomTopK`] would on the same rng state), search a set over the candidate pool
/// ([`search_flips`], [`LookAheadSearch`]), simulate each set for h learner steps with
/// [`RoundView::simulate`] (the real game is untouched) and play the set whose simulated model
/// has the largest objective on the clean training labels (the attacker's evaluation data: the
/// training points it already sees, no validation data). Ties: the searched set first, then
/// the draws in order. Because the draws are among the scored sets, the chosen set is never
/// worse by this objective than the randomized top-k draw on the same state.
///
/// Cost per round: (search simulations + draws) × h learner steps; [`LookAhead::simulations`]
/// counts them.
#[derive(Debug, Clone)]
pub struct LookAhead {
    cfg_pool: Option<usize>,
    horizon: usize,
    search: LookAheadSearch,
    objective: LookAheadObjective,
    draws: usize,
    sv_threshold: f64,
    simulations: usize,
}

impl LookAhead {
    /// Validate: h ≥ 1, B ≥ k, beam width ≥ 1, threshold finite and ≥ 0.
    ///
    /// # Errors
    /// [`AttackError::InvalidParam`] naming the field.
    pub fn new(p: LookAheadParams) -> Result<Self, AttackError> {
        if p.horizon == 0 {
            return Err(AttackError::InvalidParam { field: "horizon", expected: ">= 1", got: "0".into() });
        }
        crate::random_top_k::pool_and_threshold(p.k, p.pool, p.sv_threshold)?;
        if let LookAheadSearch::Beam { width: 0 } = p.search {
            return Err(AttackError::InvalidParam { field: "search.width", expected: ">= 1", got: "0".into() });
        }
        Ok(Self {
            cfg_pool: p.pool,
            horizon: p.horizon,
            search: p.search,
            objective: p.objective,
            draws: p.draws,
            sv_threshold: p.sv_threshold,
            simulations: 0,
        })
    }

    /// Simulations run so far (each is h learner steps).
    pub fn simulations(&self) -> usize {
        self.simulations
    }

    /// The search settings for a budget k.
    pub fn config(&self, k: usize) -> SearchConfig {
        SearchConfig {
            pool: self.cfg_pool.unwrap_or(2 * k),
            horizon: self.horizon,
            search: self.search,
            objective: self.objective,
            sv_threshold: self.sv_threshold,
        }
    }
}

impl Attacker for LookAhead {
    fn name(&self) -> &'static str {
        "look_ahead"
    }

    fn attack(&mut self, view: &RoundView<'_>, rng: &mut FloralRng) -> Result<FlipSet, GameError> {
        let n = view.lambda.nrows();
        let k = view.budget.k;
        let cfg = self.config(k);
        // The randomized top-k draws come first, so the first uses the rng as RandomTopK would.
        let mut rtk = RandomTopK::new(RandomTopKParams { k, pool: Some(cfg.pool), sv_threshold: self.sv_threshold })
            .map_err(|e| GameError::player("look_ahead", e))?;
        let mut draws = Vec::with_capacity(self.draws);
        for _ in 0..self.draws {
            draws.push(rtk.attack(view, rng)?);
        }
        let eval = EvalSet::Train(view.clean);
        let found = search_flips(view, &cfg, &eval, None, rng)?;
        self.simulations += found.simulations;
        let mut best = (set(&found.flips, n)?, found.score);
        for d in draws {
            let s = score_flips(view, &d, cfg.horizon, &eval, cfg.objective, rng)?;
            self.simulations += 1;
            if s.better_than(&best.1) {
                best = (d, s);
            }
        }
        Ok(best.0)
    }
}
