//! The study's units of work: one seed's shared state (its poisoned split, kernel matrices, the
//! predicted boundary and the baselines) and one game played against it.

use std::sync::Arc;

use faer::Col;
use floral_attack::RandomTopKParams;
use floral_data::{Split, Streams};
use floral_defense::{
    Defence, FitInput, FloralParams, Schedule, Solver, SvmDefence, SvmDefenceParams, TrustedPool, TrustedSvm,
    TrustedSvmParams,
};
use floral_game::{Control, Evaluator, Fanout, GameError, GameParams, Observer, OutputRule, Recorder, RoundRecord};
use floral_game::{SplitKernels, SplitScores};
use floral_projection::{ExactProjector, Projector};
use floral_report::fmt_num;
use floral_stability::{AnalyticJacobian, AnalyticParams, MonitorParams, StabilityAnalyzer, Trajectory};
use floral_svm::{BoxBounds, PgdMap, SignedGram, Smo, SmoParams};
use serde::{Deserialize, Serialize};

use super::ConvergenceStudy;
use super::spec::EtaGrid;
use crate::ExperimentError;
use crate::spec::AttackerSpec;

/// A run whose net displacement over the tail, ‖λ^T − λ^{T−tail}‖, is at least this share of the
/// path it walked there (the sum of its steps) drifts: λ still moves one way.
pub const DRIFT_NET: f64 = 0.5;

/// What one game of the study is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Game {
    pub(super) eta: f64,
    pub(super) k: usize,
    pub(super) pool: usize,
    pub(super) schedule: Schedule,
    pub(super) solver: Solver,
    pub(super) average_last: usize,
}

/// What one game measured (as `results.json` lists it per seed).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GameRun {
    pub(super) last: f64,
    pub(super) average: f64,
    pub(super) best_validation: f64,
    pub(super) best_validation_round: Option<usize>,
    /// max − min of the test accuracy over the tail.
    pub(super) spread: f64,
    /// mean step over the tail / mean step over the first `tail` rounds.
    pub(super) decay: f64,
    /// ‖λ^T − λ^{T−tail}‖ / the sum of the tail's steps.
    pub(super) net: f64,
    /// Mean cos(Δ^t, Δ^{t−1}) over the tail (NaN without steps).
    pub(super) cosine: f64,
    pub(super) tail_samples: usize,
    pub(super) tail_unstable: usize,
    pub(super) max_tail_rho: Option<f64>,
    pub(super) monitor_last: String,
    pub(super) regime: Regime,
}

/// One cell's result: the game's measurements and its per-round series (the plots read them;
/// `results.json` lists only the measurements).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GameCell {
    /// The measurements.
    pub(super) run: GameRun,
    /// Test accuracy of λ^t per round t = 1..T.
    pub(super) test_accuracy: Vec<f64>,
    /// ‖λ^t − λ^{t−1}‖₂ per round t = 2..T.
    pub(super) steps: Vec<f64>,
}

/// A run's regime (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Regime {
    /// The last iterate settles.
    Converges,
    /// λ still moves one way at the end.
    Drifts,
    /// The test accuracy keeps moving, or λ repeats.
    Cycles,
    /// The round's map expands, or λ overshoots back and forth.
    Diverges,
}

impl Regime {
    /// Every regime, from the mildest to the most severe.
    pub(super) const ALL: [Regime; 4] = [Regime::Converges, Regime::Drifts, Regime::Cycles, Regime::Diverges];
    /// The regime's name in the report.
    pub(super) fn name(self) -> &'static str {
        match self {
            Regime::Converges => "converges",
            Regime::Drifts => "drifts",
            Regime::Cycles => "cycles",
            Regime::Diverges => "diverges",
        }
    }
}

/// What one seed's data looks like to the study (a group's record).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SeedSetup {
    pub(super) seed: u64,
    pub(super) n_train: usize,
    pub(super) n_validation: usize,
    pub(super) n_test: usize,
    /// Poisoned training labels (flips of the poison level).
    pub(super) n_poisoned: usize,
    /// λ_max(K) of the training kernel matrix.
    pub(super) lambda_max_k: f64,
    /// 2/λ_max(K).
    pub(super) kernel_bound: f64,
    /// At the SVM solution of the poisoned labels: |F|, μ_max, 2/μ_max.
    pub(super) free: usize,
    pub(super) mu_max: f64,
    pub(super) critical_eta: Option<f64>,
    /// 2/μ_max in the unit of the η grid.
    pub(super) critical_in_unit: Option<f64>,
    /// Test accuracy of the SVM on the poisoned labels, and of the SVM on the validation points.
    pub(super) svm: f64,
    pub(super) trusted_svm: f64,
}

/// One seed's shared state: what every game of the seed reads.
pub struct SeedGroup {
    seed: u64,
    split: Split,
    kernels: Arc<SplitKernels>,
    /// 2/λ_max(K) of the seed's training kernel matrix (the unit of a `KernelBound` axis).
    kernel_bound: f64,
}

/// The kind of one job.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum JobKind {
    /// Map cell (eta index, attacker index).
    Cell(usize, usize),
    /// Comparison: (compare eta index, variant index).
    Compare(usize, usize),
}

/// A comparison variant: what is played and which output is read.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Variant {
    pub(super) name: String,
    pub(super) schedule: Schedule,
    pub(super) solver: Solver,
}

fn schedule_name(s: &Schedule) -> String {
    match *s {
        Schedule::Constant => "constant".into(),
        Schedule::StepDecay { every, factor } => format!("step decay ×{} every {every}", fmt_num(factor)),
        Schedule::ReferenceQuirk { every, factor } => format!("×{} on every {every}th round", fmt_num(factor)),
        Schedule::InverseSqrt => "η/√t".into(),
    }
}

/// Records the step ‖λ^t − λ^{t−1}‖₂ of every round t ≥ 2, and λ at round `anchor_round` (the
/// round before the tail) for the tail's net displacement.
struct StepObserver {
    previous: Option<Col<f64>>,
    steps: Vec<f64>,
    anchor_round: usize,
    anchor: Option<Col<f64>>,
    /// Δ^{t−1} = λ^{t−1} − λ^{t−2}.
    last_step: Option<Col<f64>>,
    /// cos(Δ^t, Δ^{t−1}) of the tail rounds (pairs with a zero step skipped).
    cosines: Vec<f64>,
}

/// The Euclidean distance ‖a − b‖₂.
fn dist(a: faer::ColRef<'_, f64>, b: faer::ColRef<'_, f64>) -> f64 {
    (0..a.nrows()).map(|i| (a[i] - b[i]).powi(2)).sum::<f64>().sqrt()
}

impl Observer for StepObserver {
    fn on_round(&mut self, rec: &RoundRecord<'_>) -> Result<Control, GameError> {
        if let Some(p) = &self.previous {
            let step = Col::from_fn(p.nrows(), |i| rec.lambda[i] - p[i]);
            let norm = step.norm_l2();
            self.steps.push(norm);
            if let Some(last) = self.last_step.as_ref().filter(|_| rec.round > self.anchor_round) {
                let denom = norm * last.norm_l2();
                if denom > 0.0 {
                    self.cosines.push((0..p.nrows()).map(|i| step[i] * last[i]).sum::<f64>() / denom);
                }
            }
            self.last_step = Some(step);
        }
        self.previous = Some(rec.lambda.to_owned());
        if rec.round == self.anchor_round {
            self.anchor = Some(rec.lambda.to_owned());
        }
        Ok(Control::Continue)
    }
}

/// A run error naming what failed.
pub(super) fn run_err(what: &str, e: impl std::fmt::Display) -> ExperimentError {
    ExperimentError::Run { what: what.to_string(), message: e.to_string() }
}

/// The arithmetic mean (NaN for an empty slice).
pub(super) fn mean(v: &[f64]) -> f64 {
    if v.is_empty() { f64::NAN } else { v.iter().sum::<f64>() / v.len() as f64 }
}

/// What the observers of a finished game hold, read into a [`GameCell`].
struct Played {
    rec: Recorder,
    stab: crate::StabilityObserver,
    steps: StepObserver,
}

impl ConvergenceStudy {
    /// Every comparison variant: constant-step PGD, then each schedule, then each solver.
    pub(super) fn variants(&self) -> Vec<Variant> {
        let mut v = vec![Variant { name: "pgd".into(), schedule: Schedule::Constant, solver: Solver::Pgd }];
        for s in &self.spec.compare.schedules {
            v.push(Variant { name: format!("pgd, {}", schedule_name(s)), schedule: *s, solver: Solver::Pgd });
        }
        for s in &self.spec.compare.solvers {
            v.push(Variant { name: s.name().into(), schedule: Schedule::Constant, solver: *s });
        }
        v
    }

    /// One seed's jobs, in report order: the map (attacker-major), then the comparison.
    pub(super) fn job_list(&self) -> Vec<JobKind> {
        let mut jobs = Vec::new();
        for a in 0..self.spec.attackers.len() {
            for e in 0..self.spec.eta.values().len() {
                jobs.push(JobKind::Cell(e, a));
            }
        }
        for e in 0..self.spec.compare.eta.len() {
            for v in 0..self.variants().len() {
                jobs.push(JobKind::Compare(e, v));
            }
        }
        jobs
    }

    /// The game of `job` for a seed whose 2/λ_max(K) is `kernel_bound`.
    pub(super) fn game_of(&self, job: JobKind, kernel_bound: f64) -> Game {
        let spec = &self.spec;
        match job {
            JobKind::Cell(e, a) => Game {
                eta: spec.eta.absolute(spec.eta.values()[e], kernel_bound),
                k: spec.attackers[a].0,
                pool: spec.attackers[a].1,
                schedule: Schedule::Constant,
                solver: Solver::Pgd,
                average_last: spec.compare.average_last,
            },
            JobKind::Compare(e, v) => {
                let var = &self.variants()[v];
                Game {
                    eta: spec.eta.absolute(spec.compare.eta[e], kernel_bound),
                    k: spec.compare.attacker.0,
                    pool: spec.compare.attacker.1,
                    schedule: var.schedule,
                    solver: var.solver,
                    average_last: spec.compare.average_last,
                }
            }
        }
    }

    /// Play job `job` against its seed's state.
    pub(super) fn compute_job(&self, group: &SeedGroup, job: JobKind) -> Result<GameCell, ExperimentError> {
        self.play(&self.game_of(job, group.kernel_bound), group.seed, &group.split, &group.kernels)
    }

    /// Play one game and measure it.
    fn play(
        &self,
        g: &Game,
        seed: u64,
        split: &Split,
        kernels: &Arc<SplitKernels>,
    ) -> Result<GameCell, ExperimentError> {
        let spec = &self.spec;
        let what = format!("{} η = {} (k, B) = ({}, {}) seed {seed}", g.solver.name(), fmt_num(g.eta), g.k, g.pool);
        let err = |e: &dyn std::fmt::Display| run_err(&what, e);
        let projector: Arc<dyn Projector> = Arc::new(ExactProjector::default());
        let params =
            FloralParams { c: spec.c, eta: g.eta, schedule: g.schedule, init: spec.init, ..FloralParams::reference() };
        let sv = params.sv_threshold;
        let (factory, budget) = crate::registry::attacker(&AttackerSpec::RandomTopK(RandomTopKParams {
            k: g.k,
            pool: Some(g.pool),
            ..RandomTopKParams::default()
        }))?;
        let mut learner = g
            .solver
            .learner(params, projector.clone(), &factory, budget, spec.unattacked_rounds)
            .map_err(|e| err(&e))?;
        let mut attacker = factory().map_err(|e| err(&e))?;
        let mut q = SignedGram::new(kernels.train.clone(), split.train.y()).map_err(|e| err(&e))?;
        let mut rec = Recorder::new(Evaluator::shared(kernels.clone(), split), spec.rounds, 1, g.average_last, sv);
        let tail_start = spec.rounds - spec.tail + 1;
        let monitor = MonitorParams { every: spec.monitor_every, ..MonitorParams::default() };
        let mut stab = crate::StabilityObserver::new(monitor, BoxBounds::Uniform(spec.c), projector)
            .map_err(|e| err(&e))?
            .analyse_from(tail_start);
        let mut steps = StepObserver {
            previous: None,
            steps: Vec::new(),
            anchor_round: tail_start - 1,
            anchor: None,
            last_step: None,
            cosines: Vec::new(),
        };
        let game = GameParams::new(spec.rounds, budget.k, spec.unattacked_rounds);
        let mut rngs = Streams::new(seed);
        {
            let mut fan = Fanout(vec![&mut rec, &mut stab, &mut steps]);
            floral_game::play(&game, &mut q, split.train.y(), attacker.as_mut(), learner.as_mut(), &mut rngs, &mut fan)
                .map_err(|e| err(&e))?;
        }
        self.measure(Played { rec, stab, steps }, g, &what)
    }

    /// A finished game's measurements and its regime (see the module docs).
    fn measure(&self, played: Played, g: &Game, what: &str) -> Result<GameCell, ExperimentError> {
        let spec = &self.spec;
        let Played { mut rec, stab, steps } = played;
        let tail_start = spec.rounds - spec.tail + 1;
        let test_accuracy: Vec<f64> = rec.metrics.iter().map(|m| m.scores.test.accuracy).collect();
        let score = |rec: &mut Recorder, rule| -> Result<SplitScores, ExperimentError> {
            let model = rec.model(rule).ok_or_else(|| run_err(what, "the game recorded no model"))?;
            Ok(rec.scores(&model))
        };
        let last = score(&mut rec, OutputRule::Last)?.test.accuracy;
        let average = score(&mut rec, OutputRule::Average { last: g.average_last })?.test.accuracy;
        let best_validation = score(&mut rec, OutputRule::BestValidation)?.test.accuracy;
        let tail = &test_accuracy[test_accuracy.len().saturating_sub(spec.tail)..];
        let spread =
            tail.iter().copied().fold(f64::NEG_INFINITY, f64::max) - tail.iter().copied().fold(f64::INFINITY, f64::min);
        let st = &steps.steps;
        let w = spec.tail.min(st.len());
        let decay = mean(&st[st.len() - w..]) / mean(&st[..w]);
        // Net displacement over the tail / the path length walked in it: near 1 for a drift,
        // near 0 for an iterate going back and forth.
        let path: f64 = st[st.len() - w..].iter().sum();
        let net = match (&steps.anchor, &steps.previous) {
            (Some(a), Some(l)) if path > 0.0 => dist(l.as_ref(), a.as_ref()) / path,
            _ => 0.0,
        };
        let m = stab.monitor();
        let samples: Vec<f64> =
            m.samples().iter().filter(|s| s.round >= tail_start).map(|s| s.spectral_radius).collect();
        let unstable = samples.iter().filter(|&&r| r > 1.0 + 1e-9).count();
        let summary = m.summary();
        let cosine = mean(&steps.cosines);
        let regime = if 2 * unstable > samples.len()
            || matches!(summary.last, Trajectory::Diverging { .. })
            || cosine < spec.diverge_cosine
        {
            Regime::Diverges
        } else if net >= DRIFT_NET {
            Regime::Drifts
        } else if spread > spec.spread_tol
            || matches!(summary.last, Trajectory::Cycling { .. })
            || summary.first_cycle.is_some_and(|(r, _)| r >= tail_start)
        {
            Regime::Cycles
        } else {
            Regime::Converges
        };
        let run = GameRun {
            last,
            average,
            best_validation,
            best_validation_round: rec.best_validation_round(),
            spread,
            decay,
            net,
            cosine,
            tail_samples: samples.len(),
            tail_unstable: unstable,
            max_tail_rho: samples.iter().copied().reduce(f64::max),
            monitor_last: format!("{:?}", summary.last),
            regime,
        };
        Ok(GameCell { run, test_accuracy, steps: steps.steps })
    }

    /// Seed `si`'s shared state and record: its poisoned split and kernel matrices, the
    /// predicted boundary at the SVM solution of the poisoned labels, and the two baselines.
    pub(super) fn setup(&self, si: usize) -> Result<(SeedGroup, SeedSetup), ExperimentError> {
        let plan = &self.plan;
        let seed = plan.spec.seeds[si];
        let what = format!("setup of seed {seed}");
        let clean_kernels = SplitKernels::new(plan.kernel.as_ref(), &plan.clean[si]);
        let split = crate::run::poisoned_split(plan, &plan.levels[0], si, &clean_kernels)?;
        let kernels = Arc::new(clean_kernels);
        let q = SignedGram::new(kernels.train.clone(), split.train.y()).map_err(|e| run_err(&what, e))?;
        let sol = Smo::new(SmoParams::default())
            .and_then(|mut s| s.solve(&q, floral_projection::Bounds::Uniform(self.spec.c), None))
            .map_err(|e| run_err(&what, e))?;
        let analyzer =
            AnalyticJacobian::new(AnalyticParams { tol: 1e-9, kernel_bound: true }).map_err(|e| run_err(&what, e))?;
        let projector = ExactProjector::default();
        let map = PgdMap::new(&q, 1.0, floral_projection::Bounds::Uniform(self.spec.c), &projector)
            .map_err(|e| run_err(&what, e))?;
        let r = analyzer.analyze(&map, sol.lambda.as_ref()).map_err(|e| run_err(&what, e))?;
        let lambda_max_k = r.lambda_max_k.ok_or_else(|| run_err(&what, "no λ_max(K)"))?;
        let kernel_bound = 2.0 / lambda_max_k;
        let critical_in_unit = r.critical_eta.map(|c| match self.spec.eta {
            EtaGrid::KernelBound(_) => c / kernel_bound,
            EtaGrid::Absolute(_) => c,
        });
        let n_poisoned = split.train_clean.as_ref().map_or(0, |c| c.diff(split.train.y()).map_or(0, |d| d.len()));
        let svm = SvmDefence::new(SvmDefenceParams { c: self.spec.c }).map_err(|e| run_err(&what, e))?;
        let svm = self.baseline(&svm, seed, &split, &kernels, &what)?;
        let trusted = TrustedSvm::new(TrustedSvmParams { c: self.spec.c, pool: TrustedPool::Trusted })
            .map_err(|e| run_err(&what, e))?;
        let trusted_svm = self.baseline(&trusted, seed, &split, &kernels, &what)?;
        let record = SeedSetup {
            seed,
            n_train: split.train.n(),
            n_validation: split.validation.as_ref().map_or(0, |v| v.n()),
            n_test: split.test.n(),
            n_poisoned,
            lambda_max_k,
            kernel_bound,
            free: r.free,
            mu_max: r.mu_max,
            critical_eta: r.critical_eta,
            critical_in_unit,
            svm,
            trusted_svm,
        };
        Ok((SeedGroup { seed, split, kernels, kernel_bound }, record))
    }

    /// The test accuracy of a baseline defence fitted on the seed's poisoned split.
    fn baseline(
        &self,
        d: &dyn Defence,
        seed: u64,
        split: &Split,
        kernels: &Arc<SplitKernels>,
        what: &str,
    ) -> Result<f64, ExperimentError> {
        let plan = &self.plan;
        let input = FitInput {
            train: &split.train,
            trusted: split.validation.as_ref(),
            kernel: plan.kernel.as_ref(),
            kernels,
            monitor: Some(Evaluator::shared(kernels.clone(), split)),
        };
        let fitted = d.fit(input, &mut Streams::new(seed)).map_err(|e| run_err(what, e))?;
        let o = fitted.outputs.first().ok_or_else(|| run_err(what, "a baseline without output"))?;
        let scores = match o.basis {
            floral_defense::Basis::Train => Evaluator::shared(kernels.clone(), split).scores(&o.model),
            basis => crate::run::scores_over_basis(plan.kernel.as_ref(), split, basis, &o.model)
                .map_err(|e| run_err(what, e))?,
        };
        Ok(scores.test.accuracy)
    }
}
