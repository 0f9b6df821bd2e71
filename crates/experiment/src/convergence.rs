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

use std::path::Path;
use std::sync::Arc;

use faer::Col;
use floral_attack::RandomTopKParams;
use floral_data::{Split, Streams};
use floral_defense::{
    Defence, FitInput, FloralParams, Init, Schedule, Solver, SvmDefence, SvmDefenceParams, TrustedPool, TrustedSvm,
    TrustedSvmParams,
};
use floral_game::{Control, Evaluator, Fanout, GameError, GameParams, Observer, OutputRule, Recorder, RoundRecord};
use floral_game::{SplitKernels, SplitScores};
use floral_projection::{ExactProjector, Projector};
use floral_report::{
    Block, Cell, ColorScale, Document, Figure, HeatmapOverlay, HeatmapPlot, LinePlot, Plot, Series, Table, fmt_fixed,
    fmt_num,
};
use floral_stability::{AnalyticJacobian, AnalyticParams, MonitorParams, StabilityAnalyzer, Trajectory};
use floral_svm::{BoxBounds, PgdMap, SignedGram, Smo, SmoParams};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::spec::{AttackerSpec, DataSpec, KernelSpec, PoisonSpec};
use crate::study::{Study, StudyOutput};
use crate::{ExperimentError, Plan};

// ------------------------------------------------------------------------------------ spec

/// A convergence-regime study (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename = "Convergence")]
pub struct ConvergenceSpec {
    /// Name; the default output directory is `reports/<name>`.
    pub name: String,
    /// One free-text line shown under the title.
    #[serde(default)]
    pub description: String,
    /// Replication seeds (attacker draws; data split and poisoning too when they are drawn).
    pub seeds: Vec<u64>,
    /// The data (needs a validation split: the best-validation round reads it).
    pub data: DataSpec,
    /// The one poisoning level of the training labels.
    pub poison: PoisonSpec,
    /// The kernel.
    pub kernel: KernelSpec,
    /// Box bound C > 0.
    pub c: f64,
    /// λ⁰ (default `Zero`).
    #[serde(default = "zero_init")]
    pub init: Init,
    /// The step sizes of the map, strictly increasing.
    pub eta: EtaGrid,
    /// The attacker settings of the map: (k, B) pairs, 1 ≤ k ≤ B ≤ n_train.
    pub attackers: Vec<(usize, usize)>,
    /// Learner steps T of every game.
    pub rounds: usize,
    /// Initial rounds without attack (default 0).
    #[serde(default)]
    pub unattacked_rounds: usize,
    /// The last rounds the regime, the accuracy spread and the step decay are measured over
    /// (1..=rounds; default 50).
    #[serde(default = "fifty")]
    pub tail: usize,
    /// A tail whose test accuracy spans more than this (max − min, as a fraction) cycles
    /// (default 0.01).
    #[serde(default = "one_percent")]
    pub spread_tol: f64,
    /// A run whose consecutive tail steps Δ^t = λ^t − λ^{t−1} have a mean cosine
    /// cos(Δ^t, Δ^{t−1}) below this overshoots back and forth, and diverges (in (−1, 1);
    /// default −0.5).
    #[serde(default = "minus_half")]
    pub diverge_cosine: f64,
    /// Spectral samples every this many rounds of the tail (default 5).
    #[serde(default = "five")]
    pub monitor_every: usize,
    /// What the comparison table plays.
    pub compare: CompareSpec,
}

fn zero_init() -> Init {
    Init::Zero
}
fn fifty() -> usize {
    50
}
fn five() -> usize {
    5
}
fn minus_half() -> f64 {
    -0.5
}

/// A run whose net displacement over the tail, ‖λ^T − λ^{T−tail}‖, is at least this share of the
/// path it walked there (the sum of its steps) drifts: λ still moves one way.
pub const DRIFT_NET: f64 = 0.5;
fn one_percent() -> f64 {
    0.01
}

/// The η axis of the map.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum EtaGrid {
    /// Multiples of the label-independent bound 2/λ_max(K) of each seed's training kernel
    /// matrix, so the axis means the same on every data set.
    KernelBound(Vec<f64>),
    /// Absolute step sizes.
    Absolute(Vec<f64>),
}

impl EtaGrid {
    fn values(&self) -> &[f64] {
        match self {
            EtaGrid::KernelBound(v) | EtaGrid::Absolute(v) => v,
        }
    }
    /// The absolute step for grid value `u`, given 2/λ_max(K).
    fn absolute(&self, u: f64, kernel_bound: f64) -> f64 {
        match self {
            EtaGrid::KernelBound(_) => u * kernel_bound,
            EtaGrid::Absolute(_) => u,
        }
    }
    fn unit(&self) -> &'static str {
        match self {
            EtaGrid::KernelBound(_) => "× 2/λ_max(K)",
            EtaGrid::Absolute(_) => "absolute",
        }
    }
}

/// The comparison of output rules, schedules and solvers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompareSpec {
    /// The steps compared, in the unit of the `eta` grid.
    pub eta: Vec<f64>,
    /// The attacker (k, B).
    pub attacker: (usize, usize),
    /// Iterates averaged by the averaged model (1..=rounds; default 50).
    #[serde(default = "fifty")]
    pub average_last: usize,
    /// Step-size schedules played with the base step (last iterate).
    #[serde(default)]
    pub schedules: Vec<Schedule>,
    /// Learners other than PGD played at the constant step (last iterate).
    #[serde(default)]
    pub solvers: Vec<Solver>,
}

// ------------------------------------------------------------------------------------ check

/// A checked convergence study.
pub struct ConvergenceStudy {
    spec: ConvergenceSpec,
    plan: Plan,
    canonical: String,
    hash: String,
}

impl std::fmt::Debug for ConvergenceStudy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConvergenceStudy").field("name", &self.spec.name).finish_non_exhaustive()
    }
}

/// Parse a `Convergence(...)` RON text; errors carry `path:line:col`.
///
/// # Errors
/// [`ExperimentError::Parse`].
pub fn parse(text: &str, path: &Path) -> Result<ConvergenceSpec, ExperimentError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    ron::Options::default().from_str::<ConvergenceSpec>(text).map_err(|e| ExperimentError::Parse {
        path: path.to_path_buf(),
        line: e.span.start.line,
        col: e.span.start.col,
        message: e.code.to_string(),
    })
}

fn invalid(path: &Path, field: impl Into<String>, expected: impl Into<String>, got: impl ToString) -> ExperimentError {
    ExperimentError::invalid(path, field, expected, got)
}

fn check_steps(path: &Path, field: &str, v: &[f64], increasing: bool) -> Result<(), ExperimentError> {
    if v.is_empty() {
        return Err(invalid(path, field, "at least one step", "[]"));
    }
    for (i, &x) in v.iter().enumerate() {
        if !(x.is_finite() && x > 0.0) {
            return Err(invalid(path, format!("{field}[{i}]"), "a finite number > 0", x));
        }
        if increasing && i > 0 && x <= v[i - 1] {
            return Err(invalid(path, format!("{field}[{i}]"), "strictly increasing steps", x));
        }
    }
    Ok(())
}

fn check_attacker(path: &Path, field: &str, (k, b): (usize, usize), n: usize) -> Result<(), ExperimentError> {
    if k == 0 || k > b || b > n {
        return Err(invalid(path, field, format!("(k, B) with 1 <= k <= B <= n_train = {n}"), format!("({k}, {b})")));
    }
    Ok(())
}

/// Check a parsed spec and load its data (as an experiment does).
///
/// # Errors
/// [`ExperimentError::Invalid`] naming the field, or the data's loading errors.
pub fn check(spec: ConvergenceSpec, path: &Path) -> Result<ConvergenceStudy, ExperimentError> {
    let plan = crate::plan::check_base(
        &spec.name,
        spec.seeds.clone(),
        spec.data.clone(),
        vec![spec.poison.clone()],
        spec.kernel.clone(),
        path,
    )?;
    if !(spec.c.is_finite() && spec.c > 0.0) {
        return Err(invalid(path, "c", "a finite number > 0", spec.c));
    }
    if spec.rounds == 0 || spec.rounds > 1_000_000 {
        return Err(invalid(path, "rounds", "1..=1000000", spec.rounds));
    }
    if spec.unattacked_rounds >= spec.rounds {
        return Err(invalid(path, "unattacked_rounds", "fewer than rounds", spec.unattacked_rounds));
    }
    if spec.tail == 0 || spec.tail > spec.rounds {
        return Err(invalid(path, "tail", format!("1..=rounds ({})", spec.rounds), spec.tail));
    }
    if !(spec.spread_tol.is_finite() && spec.spread_tol >= 0.0) {
        return Err(invalid(path, "spread_tol", "a finite number >= 0", spec.spread_tol));
    }
    if !(spec.diverge_cosine.is_finite() && spec.diverge_cosine > -1.0 && spec.diverge_cosine < 1.0) {
        return Err(invalid(path, "diverge_cosine", "a number in (-1, 1)", spec.diverge_cosine));
    }
    if spec.monitor_every == 0 || spec.monitor_every > spec.tail {
        return Err(invalid(path, "monitor_every", format!("1..=tail ({})", spec.tail), spec.monitor_every));
    }
    check_steps(path, "eta", spec.eta.values(), true)?;
    check_steps(path, "compare.eta", &spec.compare.eta, false)?;
    if spec.attackers.is_empty() {
        return Err(invalid(path, "attackers", "at least one (k, B) pair", "[]"));
    }
    for (si, s) in plan.clean.iter().enumerate() {
        let n = s.train.n();
        for (i, &a) in spec.attackers.iter().enumerate() {
            check_attacker(path, &format!("attackers[{i}]"), a, n)?;
        }
        check_attacker(path, "compare.attacker", spec.compare.attacker, n)?;
        if s.validation.as_ref().is_none_or(|v| v.n() == 0) {
            return Err(invalid(
                path,
                "data",
                "a validation split (the best-validation round and the trusted SVM read it)",
                format!("no validation points for seed {}", spec.seeds[si]),
            ));
        }
    }
    if spec.compare.average_last == 0 || spec.compare.average_last > spec.rounds {
        return Err(invalid(
            path,
            "compare.average_last",
            format!("1..=rounds ({})", spec.rounds),
            spec.compare.average_last,
        ));
    }
    for (i, &schedule) in spec.compare.schedules.iter().enumerate() {
        let p = FloralParams { c: spec.c, eta: 1.0, schedule, init: spec.init, ..FloralParams::reference() };
        floral_defense::FloralLearner::new(p, Arc::new(ExactProjector::default()))
            .map_err(|e| invalid(path, format!("compare.schedules[{i}]"), "a valid schedule", e))?;
    }
    let canonical = ron::ser::to_string_pretty(&spec, ron::ser::PrettyConfig::new().struct_names(true))
        .map_err(|e| ExperimentError::Run { what: "echo spec".into(), message: e.to_string() })?;
    let mut hashed = canonical.clone();
    for d in &plan.data_files {
        hashed.push_str(&format!("\n{} {} {}", d.role, d.path, d.sha256));
    }
    let hash = format!("{:x}", Sha256::digest(hashed.as_bytes()));
    Ok(ConvergenceStudy { spec, plan, canonical, hash })
}

/// The `Convergence` loader of [`crate::study::KINDS`].
///
/// # Errors
/// As [`parse`] and [`check`].
pub fn load(text: &str, path: &Path) -> Result<Box<dyn Study>, ExperimentError> {
    Ok(Box::new(check(parse(text, path)?, path)?))
}

// ------------------------------------------------------------------------------------ runs

/// What one game of the study is.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Game {
    eta: f64,
    k: usize,
    pool: usize,
    schedule: Schedule,
    solver: Solver,
    average_last: usize,
}

/// What one game measured.
#[derive(Debug, Clone, Serialize)]
struct GameRun {
    /// Test accuracy of λ^t per round t = 1..T.
    #[serde(skip)]
    test_accuracy: Vec<f64>,
    /// ‖λ^t − λ^{t−1}‖₂ per round t = 2..T.
    #[serde(skip)]
    steps: Vec<f64>,
    last: f64,
    average: f64,
    best_validation: f64,
    best_validation_round: Option<usize>,
    /// max − min of the test accuracy over the tail.
    spread: f64,
    /// mean step over the tail / mean step over the first `tail` rounds.
    decay: f64,
    /// ‖λ^T − λ^{T−tail}‖ / the sum of the tail's steps.
    net: f64,
    /// Mean cos(Δ^t, Δ^{t−1}) over the tail (NaN without steps).
    cosine: f64,
    tail_samples: usize,
    tail_unstable: usize,
    max_tail_rho: Option<f64>,
    monitor_last: String,
    regime: Regime,
}

/// A run's regime (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
enum Regime {
    Converges,
    Drifts,
    Cycles,
    Diverges,
}

impl Regime {
    const ALL: [Regime; 4] = [Regime::Converges, Regime::Drifts, Regime::Cycles, Regime::Diverges];
    fn name(self) -> &'static str {
        match self {
            Regime::Converges => "converges",
            Regime::Drifts => "drifts",
            Regime::Cycles => "cycles",
            Regime::Diverges => "diverges",
        }
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

fn run_err(what: &str, e: impl std::fmt::Display) -> ExperimentError {
    ExperimentError::Run { what: what.to_string(), message: e.to_string() }
}

fn mean(v: &[f64]) -> f64 {
    if v.is_empty() { f64::NAN } else { v.iter().sum::<f64>() / v.len() as f64 }
}

impl ConvergenceStudy {
    fn play(
        &self,
        g: &Game,
        seed: u64,
        split: &Split,
        kernels: &Arc<SplitKernels>,
    ) -> Result<GameRun, ExperimentError> {
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
        let game = GameParams {
            rounds: spec.rounds,
            budget,
            unattacked_rounds: spec.unattacked_rounds,
            tol: None,
            diverge_above: 1e12,
        };
        let mut rngs = Streams::new(seed);
        {
            let mut fan = Fanout(vec![&mut rec, &mut stab, &mut steps]);
            floral_game::play(&game, &mut q, split.train.y(), attacker.as_mut(), learner.as_mut(), &mut rngs, &mut fan)
                .map_err(|e| err(&e))?;
        }
        let test_accuracy: Vec<f64> = rec.metrics.iter().map(|m| m.scores.test.accuracy).collect();
        let score = |rec: &mut Recorder, rule| -> Result<SplitScores, ExperimentError> {
            let model = rec.model(rule).ok_or_else(|| run_err(&what, "the game recorded no model"))?;
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
        Ok(GameRun {
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
            test_accuracy,
            steps: steps.steps,
        })
    }
}

/// What one seed's data looks like to the study.
#[derive(Debug, Clone, Serialize)]
struct SeedSetup {
    seed: u64,
    #[serde(skip)]
    split: Split,
    #[serde(skip)]
    kernels: Arc<SplitKernels>,
    n_train: usize,
    n_validation: usize,
    n_test: usize,
    /// Poisoned training labels (flips of the poison level).
    n_poisoned: usize,
    /// λ_max(K) of the training kernel matrix.
    lambda_max_k: f64,
    /// 2/λ_max(K).
    kernel_bound: f64,
    /// At the SVM solution of the poisoned labels: |F|, μ_max, 2/μ_max.
    free: usize,
    mu_max: f64,
    critical_eta: Option<f64>,
    /// 2/μ_max in the unit of the η grid.
    critical_in_unit: Option<f64>,
    /// Test accuracy of the SVM on the poisoned labels, and of the SVM on the validation points.
    svm: f64,
    trusted_svm: f64,
}

/// The kind of one job.
#[derive(Debug, Clone, Copy, PartialEq)]
enum JobKind {
    /// Map cell (eta index, attacker index).
    Cell(usize, usize),
    /// Comparison: (compare eta index, variant index).
    Compare(usize, usize),
}

/// A comparison variant: what is played and which output is read.
#[derive(Debug, Clone, PartialEq)]
struct Variant {
    name: String,
    schedule: Schedule,
    solver: Solver,
}

fn schedule_name(s: &Schedule) -> String {
    match *s {
        Schedule::Constant => "constant".into(),
        Schedule::StepDecay { every, factor } => format!("step decay ×{} every {every}", fmt_num(factor)),
        Schedule::ReferenceQuirk { every, factor } => format!("×{} on every {every}th round", fmt_num(factor)),
        Schedule::InverseSqrt => "η/√t".into(),
    }
}

fn pct(v: f64) -> String {
    fmt_num(100.0 * v)
}

impl ConvergenceStudy {
    fn variants(&self) -> Vec<Variant> {
        let mut v = vec![Variant { name: "pgd".into(), schedule: Schedule::Constant, solver: Solver::Pgd }];
        for s in &self.spec.compare.schedules {
            v.push(Variant { name: format!("pgd, {}", schedule_name(s)), schedule: *s, solver: Solver::Pgd });
        }
        for s in &self.spec.compare.solvers {
            v.push(Variant { name: s.name().into(), schedule: Schedule::Constant, solver: *s });
        }
        v
    }

    fn job_list(&self) -> Vec<JobKind> {
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

    fn setup(&self, si: usize) -> Result<SeedSetup, ExperimentError> {
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
        let baseline = |d: &dyn Defence| -> Result<f64, ExperimentError> {
            let input = FitInput {
                train: &split.train,
                trusted: split.validation.as_ref(),
                kernel: plan.kernel.as_ref(),
                kernels: &kernels,
                monitor: Some(Evaluator::shared(kernels.clone(), &split)),
            };
            let fitted = d.fit(input, &mut Streams::new(seed)).map_err(|e| run_err(&what, e))?;
            let o = fitted.outputs.first().ok_or_else(|| run_err(&what, "a baseline without output"))?;
            let scores = match o.basis {
                floral_defense::Basis::Train => Evaluator::shared(kernels.clone(), &split).scores(&o.model),
                basis => crate::run::scores_over_basis(plan.kernel.as_ref(), &split, basis, &o.model)
                    .map_err(|e| run_err(&what, e))?,
            };
            Ok(scores.test.accuracy)
        };
        let svm = baseline(&SvmDefence::new(SvmDefenceParams { c: self.spec.c }).map_err(|e| run_err(&what, e))?)?;
        let trusted_svm = baseline(
            &TrustedSvm::new(TrustedSvmParams { c: self.spec.c, pool: TrustedPool::Trusted })
                .map_err(|e| run_err(&what, e))?,
        )?;
        Ok(SeedSetup {
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
            split,
            kernels,
        })
    }

    fn game_of(&self, job: JobKind, setup: &SeedSetup) -> Game {
        let spec = &self.spec;
        match job {
            JobKind::Cell(e, a) => Game {
                eta: spec.eta.absolute(spec.eta.values()[e], setup.kernel_bound),
                k: spec.attackers[a].0,
                pool: spec.attackers[a].1,
                schedule: Schedule::Constant,
                solver: Solver::Pgd,
                average_last: spec.compare.average_last,
            },
            JobKind::Compare(e, v) => {
                let var = &self.variants()[v];
                Game {
                    eta: spec.eta.absolute(spec.compare.eta[e], setup.kernel_bound),
                    k: spec.compare.attacker.0,
                    pool: spec.compare.attacker.1,
                    schedule: var.schedule,
                    solver: var.solver,
                    average_last: spec.compare.average_last,
                }
            }
        }
    }

    /// Every game, seeds one after the other (one set of kernel matrices at a time), each
    /// seed's games in parallel, collected in job order.
    fn execute(&self, progress: &(dyn Fn(&str) + Sync)) -> Result<Ran, ExperimentError> {
        let jobs = self.job_list();
        let mut setups = Vec::new();
        let mut runs = Vec::new();
        for si in 0..self.plan.spec.seeds.len() {
            let setup = self.setup(si)?;
            let out: Vec<GameRun> = jobs
                .par_iter()
                .map(|&j| {
                    let r = self.play(&self.game_of(j, &setup), setup.seed, &setup.split, &setup.kernels);
                    progress(&format!("seed {}", setup.seed));
                    r
                })
                .collect::<Result<_, _>>()?;
            runs.push(out);
            setups.push(setup);
        }
        Ok(Ran { jobs, setups, runs })
    }
}

/// Everything a study run measured: `runs[seed][job]`.
struct Ran {
    jobs: Vec<JobKind>,
    setups: Vec<SeedSetup>,
    runs: Vec<Vec<GameRun>>,
}

impl Ran {
    /// The runs of one job over the seeds.
    fn over_seeds(&self, job: JobKind) -> Vec<&GameRun> {
        let Some(j) = self.jobs.iter().position(|&k| k == job) else { return Vec::new() };
        self.runs.iter().map(|r| &r[j]).collect()
    }
}

/// A map cell over the seeds.
#[derive(Debug, Clone, Serialize)]
struct CellSummary {
    eta: f64,
    k: usize,
    pool: usize,
    regime: Regime,
    /// Seeds per regime: converges, drifts, cycles, diverges.
    counts: [usize; 4],
    spread_mean: f64,
    decay_mean: f64,
    last_mean: f64,
    last_std: f64,
    best_validation_mean: f64,
}

fn cell_summary(runs: &[&GameRun], eta: f64, (k, pool): (usize, usize)) -> CellSummary {
    let mut counts = [0usize; 4];
    for r in runs {
        counts[r.regime as usize] += 1;
    }
    // Most common; ties go to the later (more severe) regime.
    let regime = Regime::ALL.into_iter().max_by_key(|&g| (counts[g as usize], g as usize)).unwrap_or(Regime::Converges);
    let col = |f: fn(&GameRun) -> f64| runs.iter().map(|r| f(r)).collect::<Vec<f64>>();
    let (last_mean, last_std) = crate::render::mean_std(&col(|r| r.last));
    CellSummary {
        eta,
        k,
        pool,
        regime,
        counts,
        spread_mean: mean(&col(|r| r.spread)),
        decay_mean: mean(&col(|r| r.decay)),
        last_mean,
        last_std,
        best_validation_mean: mean(&col(|r| r.best_validation)),
    }
}

/// A comparison row over the seeds.
#[derive(Debug, Clone, Serialize)]
struct CompareRow {
    eta: f64,
    method: String,
    /// Candidates scored on the validation split (rounds), 0 for none.
    validation_budget: usize,
    accuracy: Vec<f64>,
    mean: f64,
    std: f64,
    /// Paired difference to the best-validation round: mean and 95 % t interval.
    diff: Option<(f64, f64, f64)>,
    /// Seeds where the method is better / worse than the best-validation round.
    better: usize,
    worse: usize,
}

// ------------------------------------------------------------------------------------ report

/// Where `x` falls on the column axis of increasing grid values `u` (column j centred at
/// j + 0.5), interpolated in log η between neighbouring centres and extrapolated with the end
/// spacing; None for a single column or a non-positive value.
fn column_position(u: &[f64], x: f64) -> Option<f64> {
    if u.len() < 2 || !(x.is_finite() && x > 0.0) {
        return None;
    }
    let l: Vec<f64> = u.iter().map(|v| v.ln()).collect();
    let lx = x.ln();
    let j = l.windows(2).position(|w| lx <= w[1]).unwrap_or(l.len() - 2);
    Some(j as f64 + 0.5 + (lx - l[j]) / (l[j + 1] - l[j]))
}

fn median(v: &mut [f64]) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some(0.5 * (v[n / 2 - 1] + v[n / 2])),
    }
}

impl ConvergenceStudy {
    fn cells(&self, ran: &Ran) -> Vec<Vec<CellSummary>> {
        let spec = &self.spec;
        (0..spec.attackers.len())
            .map(|a| {
                (0..spec.eta.values().len())
                    .map(|e| {
                        cell_summary(&ran.over_seeds(JobKind::Cell(e, a)), spec.eta.values()[e], spec.attackers[a])
                    })
                    .collect()
            })
            .collect()
    }

    fn compare_rows(&self, ran: &Ran) -> Vec<CompareRow> {
        let spec = &self.spec;
        let variants = self.variants();
        let mut rows = Vec::new();
        let row = |eta: f64, method: String, budget: usize, acc: Vec<f64>, best: &[f64], is_best: bool| {
            let (mean, std) = crate::render::mean_std(&acc);
            let d: Vec<f64> = acc.iter().zip(best).map(|(a, b)| a - b).collect();
            CompareRow {
                eta,
                method,
                validation_budget: budget,
                mean,
                std,
                diff: (!is_best).then(|| crate::stats::paired_interval(&d)),
                better: if is_best { 0 } else { d.iter().filter(|&&x| x > 0.0).count() },
                worse: if is_best { 0 } else { d.iter().filter(|&&x| x < 0.0).count() },
                accuracy: acc,
            }
        };
        for (e, &eta) in spec.compare.eta.iter().enumerate() {
            let pgd = ran.over_seeds(JobKind::Compare(e, 0));
            let best: Vec<f64> = pgd.iter().map(|r| r.best_validation).collect();
            let m = spec.compare.average_last;
            rows.push(row(eta, "pgd, last iterate".into(), 0, pgd.iter().map(|r| r.last).collect(), &best, false));
            rows.push(row(
                eta,
                format!("pgd, average of the last {m} iterates"),
                0,
                pgd.iter().map(|r| r.average).collect(),
                &best,
                false,
            ));
            for (v, var) in variants.iter().enumerate().skip(1) {
                let runs = ran.over_seeds(JobKind::Compare(e, v));
                rows.push(row(
                    eta,
                    format!("{}, last iterate", var.name),
                    0,
                    runs.iter().map(|r| r.last).collect(),
                    &best,
                    false,
                ));
            }
            rows.push(row(eta, "pgd, best-validation round".into(), spec.rounds, best.clone(), &best, true));
        }
        // Baselines do not depend on η; compared with the first compared step's best round.
        if let Some(best) = spec
            .compare
            .eta
            .first()
            .map(|_| ran.over_seeds(JobKind::Compare(0, 0)).iter().map(|r| r.best_validation).collect::<Vec<f64>>())
        {
            let svm: Vec<f64> = ran.setups.iter().map(|s| s.svm).collect();
            let trusted: Vec<f64> = ran.setups.iter().map(|s| s.trusted_svm).collect();
            rows.push(row(f64::NAN, "SVM on the poisoned labels".into(), 0, svm, &best, false));
            rows.push(row(f64::NAN, "SVM on the validation points alone (trusted)".into(), 0, trusted, &best, false));
        }
        rows
    }

    fn predicted_boundary(&self, ran: &Ran) -> Option<f64> {
        let mut v: Vec<f64> = ran.setups.iter().filter_map(|s| s.critical_in_unit).collect();
        median(&mut v)
    }

    fn heatmap(&self, cells: &[Vec<CellSummary>], boundary: Option<f64>, which: HeatmapKind) -> HeatmapPlot {
        let spec = &self.spec;
        let u = spec.eta.values();
        let overlay = boundary.and_then(|b| column_position(u, b)).map(|x| HeatmapOverlay {
            name: "2/μ_max (predicted)".into(),
            points: vec![(x, 0.0), (x, cells.len() as f64)],
        });
        let values: Vec<Vec<f64>> = cells
            .iter()
            .map(|row| {
                row.iter()
                    .map(|c| match which {
                        HeatmapKind::Regime => c.regime as usize as f64,
                        HeatmapKind::Decay => c.decay_mean.log10(),
                        HeatmapKind::LastAccuracy => 100.0 * c.last_mean,
                    })
                    .collect()
            })
            .collect();
        let annotations: Vec<Vec<String>> = cells
            .iter()
            .map(|row| {
                row.iter()
                    .map(|c| match which {
                        HeatmapKind::Regime => fmt_fixed(100.0 * c.spread_mean, 1),
                        HeatmapKind::Decay => fmt_num(c.decay_mean),
                        HeatmapKind::LastAccuracy => fmt_fixed(100.0 * c.last_mean, 1),
                    })
                    .collect()
            })
            .collect();
        let (title, scale) = match which {
            HeatmapKind::Regime => (
                "Regime; cells: tail accuracy spread (pp)",
                ColorScale::Categorical {
                    names: Regime::ALL.iter().map(|r| r.name().to_string()).collect(),
                    colors: vec![(44, 160, 44), (174, 199, 232), (255, 187, 120), (214, 39, 40)],
                },
            ),
            HeatmapKind::Decay => (
                "Step decay: tail / first-rounds mean ‖Δλ‖",
                ColorScale::Continuous { label: "log10 ratio".into(), range: None },
            ),
            HeatmapKind::LastAccuracy => {
                ("Last-iterate test accuracy (%)", ColorScale::Continuous { label: "accuracy (%)".into(), range: None })
            }
        };
        HeatmapPlot {
            title: title.into(),
            x_label: format!("step size η ({})", spec.eta.unit()),
            y_label: "attacker: k flips from the top B".into(),
            columns: u.iter().map(|&v| fmt_num(v)).collect(),
            rows: spec.attackers.iter().map(|(k, b)| format!("k={k}, B={b}")).collect(),
            values,
            scale,
            annotations,
            overlay,
        }
    }

    fn accuracy_plot(&self, ran: &Ran, e: usize) -> LinePlot {
        let variants = self.variants();
        let series = variants
            .iter()
            .enumerate()
            .map(|(v, var)| {
                let runs = ran.over_seeds(JobKind::Compare(e, v));
                let t = runs.iter().map(|r| r.test_accuracy.len()).min().unwrap_or(0);
                let stats: Vec<(f64, f64)> = (0..t)
                    .map(|i| crate::render::mean_std(&runs.iter().map(|r| r.test_accuracy[i]).collect::<Vec<_>>()))
                    .collect();
                Series {
                    name: var.name.clone(),
                    points: stats.iter().enumerate().map(|(i, &(m, _))| ((i + 1) as f64, m)).collect(),
                    band: Some(
                        stats
                            .iter()
                            .enumerate()
                            .map(|(i, &(m, s))| ((i + 1) as f64, (m - s).max(0.0), (m + s).min(1.0)))
                            .collect(),
                    ),
                }
            })
            .collect();
        LinePlot {
            title: format!(
                "Test accuracy vs round at η = {} ({}), mean ± std over seeds",
                fmt_num(self.spec.compare.eta[e]),
                self.spec.eta.unit()
            ),
            x_label: "round".into(),
            y_label: "test accuracy".into(),
            series,
            y_range: Some((0.0, 1.0)),
        }
    }

    fn step_plot(&self, ran: &Ran, e: usize) -> LinePlot {
        let series = self
            .variants()
            .iter()
            .enumerate()
            .map(|(v, var)| {
                let runs = ran.over_seeds(JobKind::Compare(e, v));
                let t = runs.iter().map(|r| r.steps.len()).min().unwrap_or(0);
                Series {
                    name: var.name.clone(),
                    points: (0..t)
                        .map(|i| ((i + 2) as f64, mean(&runs.iter().map(|r| r.steps[i]).collect::<Vec<_>>()).log10()))
                        .collect(),
                    band: None,
                }
            })
            .collect();
        LinePlot {
            title: format!(
                "Step norm vs round at η = {} ({}), mean over seeds",
                fmt_num(self.spec.compare.eta[e]),
                self.spec.eta.unit()
            ),
            x_label: "round t".into(),
            y_label: "log10 ‖λ^t − λ^(t−1)‖".into(),
            series,
            y_range: None,
        }
    }

    fn seeds_vary(&self) -> String {
        let data = if self.plan.groups.len() > 1 { "the data split, " } else { "" };
        let poison = match self.spec.poison {
            PoisonSpec::Clean | PoisonSpec::Sheet(_) => "",
            _ => "the poisoned labels, ",
        };
        format!("{data}{poison}the attacker's draws (and the extragradient responder's)")
    }

    /// The generated answer (every number from the measurements).
    fn answer(&self, cells: &[Vec<CellSummary>], rows: &[CompareRow], boundary: Option<f64>) -> Vec<String> {
        let spec = &self.spec;
        let unit = spec.eta.unit();
        let mut out = Vec::new();
        let mut counts = [0usize; 4];
        for c in cells.iter().flatten() {
            counts[c.regime as usize] += 1;
        }
        out.push(format!(
            "Regimes: of {} cells (η × attacker), {} converge, {} drift (not settled in {} rounds), {} cycle and {} \
             diverge (most common over {} seeds).",
            counts.iter().sum::<usize>(),
            counts[0],
            counts[1],
            spec.rounds,
            counts[2],
            counts[3],
            spec.seeds.len()
        ));
        let u = spec.eta.values();
        for row in cells {
            let Some(c0) = row.first() else { continue };
            let first_div = row.iter().position(|c| c.regime == Regime::Diverges);
            let observed = match first_div {
                None => format!("no step of the grid diverges (up to {})", fmt_num(u[u.len() - 1])),
                Some(0) => format!("every step of the grid diverges (from {})", fmt_num(u[0])),
                Some(j) => {
                    format!("the last iterate first diverges between {} and {}", fmt_num(u[j - 1]), fmt_num(u[j]))
                }
            };
            let verdict = match (boundary, first_div) {
                (Some(b), Some(j)) if j > 0 => {
                    if b > u[j - 1] && b <= u[j] {
                        "which brackets the predicted boundary".to_string()
                    } else if b > u[j] {
                        format!("below the predicted boundary (by a factor of at least {})", fmt_num(b / u[j]))
                    } else {
                        format!("above the predicted boundary (by a factor of at least {})", fmt_num(u[j - 1] / b))
                    }
                }
                (Some(b), None) if b <= u[u.len() - 1] => {
                    format!("although the prediction {} lies inside the grid", fmt_num(b))
                }
                _ => String::new(),
            };
            out.push(format!(
                "For k = {}, B = {}: {observed} ({unit}){}{verdict}.",
                c0.k,
                c0.pool,
                if verdict.is_empty() { "" } else { ", " }
            ));
        }
        if let Some(b) = boundary {
            out.push(format!(
                "The predicted boundary 2/μ_max at the SVM solution of the poisoned labels is {} ({unit}; median over \
                 seeds){}.",
                fmt_num(b),
                match spec.eta {
                    EtaGrid::KernelBound(_) => "; the label-independent bound 2/λ_max(K) is 1 on this axis",
                    EtaGrid::Absolute(_) => "",
                }
            ));
        }
        for &eta in &spec.compare.eta {
            let at: Vec<&CompareRow> = rows.iter().filter(|r| r.eta == eta).collect();
            let Some(best) = at.iter().find(|r| r.diff.is_none()) else { continue };
            let mut same = Vec::new();
            let mut worse = Vec::new();
            let mut better = Vec::new();
            for r in at.iter().filter(|r| r.validation_budget == 0) {
                let Some((d, lo, hi)) = r.diff else { continue };
                let text = format!(
                    "{} ({} pp, 95 % CI [{}, {}])",
                    r.method,
                    fmt_num(100.0 * d),
                    fmt_num(100.0 * lo),
                    fmt_num(100.0 * hi)
                );
                if hi < 0.0 {
                    worse.push(text);
                } else if lo > 0.0 {
                    better.push(text);
                } else {
                    same.push(text);
                }
            }
            let list = |v: &[String]| if v.is_empty() { "none".to_string() } else { v.join("; ") };
            let closest = at
                .iter()
                .filter(|r| r.validation_budget == 0)
                .filter_map(|r| r.diff.map(|d| (r, d.0)))
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .map_or(String::new(), |(r, d)| {
                    format!(
                        " Closest without validation data: {} ({} %, Δ {} pp).",
                        r.method,
                        pct(r.mean),
                        fmt_num(100.0 * d)
                    )
                });
            out.push(format!(
                "At η = {} ({unit}) the best-validation round reaches {} % test accuracy. Without validation data, \
                 no difference from it is shown for: {}. Worse: {}. Better: {}.{closest}",
                fmt_num(eta),
                pct(best.mean),
                list(&same),
                list(&worse),
                list(&better)
            ));
        }
        let base = |name: &str| rows.iter().find(|r| r.eta.is_nan() && r.method.starts_with(name));
        if let (Some(svm), Some(trusted)) = (base("SVM on the poisoned"), base("SVM on the validation")) {
            out.push(format!(
                "Baselines: the SVM on the poisoned labels reaches {} % ± {} and the SVM trained on the {} trusted \
                 validation points alone {} % ± {}.",
                pct(svm.mean),
                pct(svm.std),
                self.plan.clean.first().and_then(|s| s.validation.as_ref()).map_or(0, |v| v.n()),
                pct(trusted.mean),
                pct(trusted.std)
            ));
        }
        out
    }

    fn document(&self, ran: &Ran) -> (Document, serde_json::Value) {
        let spec = &self.spec;
        let cells = self.cells(ran);
        let rows = self.compare_rows(ran);
        let boundary = self.predicted_boundary(ran);
        let s0 = &ran.setups[0];
        let unit = spec.eta.unit();
        let mut doc = Document::new(format!("floral convergence study: {}", spec.name));
        if !spec.description.is_empty() {
            doc.push(Block::Paragraph(spec.description.clone()));
        }
        doc.push(Block::Paragraph(
            "**Question.** For which step sizes η and attacker settings (k flips drawn from the top B support vectors) \
             does the last iterate of the FLORAL game converge, cycle or diverge; does the boundary sit at the \
             fixed-label prediction η = 2/μ_max; and does a step-size schedule, iterate averaging, or an \
             extragradient / optimistic learner give a last iterate as good as the best-validation round without \
             validation data?"
                .into(),
        ));
        doc.push(Block::Heading { level: 2, text: "Setup".into() });
        doc.push(Block::List(vec![
            format!(
                "Command: `floral run experiments/{}.ron`; floral {}; content hash `{}`.",
                spec.name,
                env!("CARGO_PKG_VERSION"),
                self.hash
            ),
            format!(
                "Data: {} training points ({} with poisoned labels: {}), {} validation, {} test (clean labels) for seed {}; {} features.",
                s0.n_train,
                s0.n_poisoned,
                self.plan.poison_names[0],
                s0.n_validation,
                s0.n_test,
                s0.seed,
                s0.split.train.dim()
            ),
            format!(
                "Learner: C = {}, λ⁰ = {:?}, T = {} rounds ({} unattacked); exact projection. The map plays constant-step \
                 projected gradient descent (FLORAL's learner); the tail is the last {} rounds; spectral samples every {} \
                 tail rounds; a tail whose test accuracy spans more than {} pp cycles.",
                fmt_num(spec.c),
                spec.init,
                spec.rounds,
                spec.unattacked_rounds,
                spec.tail,
                spec.monitor_every,
                pct(spec.spread_tol)
            ),
            format!(
                "η axis: {}. 2/λ_max(K) = {} (λ_max(K) = {}) for seed {}.",
                match spec.eta {
                    EtaGrid::KernelBound(_) => "multiples of each seed's label-independent bound 2/λ_max(K)",
                    EtaGrid::Absolute(_) => "absolute steps",
                },
                fmt_num(s0.kernel_bound),
                fmt_num(s0.lambda_max_k),
                s0.seed
            ),
            format!(
                "Seeds: {} ({}). Every ± is the sample standard deviation over the seeds; what varies across seeds: {}.",
                spec.seeds.len(),
                spec.seeds.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", "),
                self.seeds_vary()
            ),
            format!(
                "Budgets: the best-validation round scores every one of the {} rounds on the {} validation points \
                 (validation budget {}); the SVM on the validation points trains on those {} trusted points; the last \
                 iterate, the average, the schedules and the other solvers use no validation or trusted data.",
                spec.rounds, s0.n_validation, spec.rounds, s0.n_validation
            ),
        ]));

        doc.push(Block::Heading { level: 2, text: "Predicted boundary".into() });
        doc.push(Block::Table(Table {
            caption: Some(format!(
                "At the SVM solution (SMO) of each seed's poisoned labels: free set |F|, μ_max of P Q̃_FF P, the critical \
                 step 2/μ_max, and it in the grid's unit ({unit})."
            )),
            headers: ["seed", "λ_max(K)", "2/λ_max(K)", "|F|", "μ_max", "2/μ_max", "2/μ_max (unit)"]
                .map(String::from)
                .to_vec(),
            rows: ran
                .setups
                .iter()
                .map(|s| {
                    vec![
                        Cell::Text(s.seed.to_string()),
                        Cell::Num(s.lambda_max_k),
                        Cell::Num(s.kernel_bound),
                        Cell::from(s.free),
                        Cell::Num(s.mu_max),
                        s.critical_eta.map_or(Cell::Missing, Cell::Num),
                        s.critical_in_unit.map_or(Cell::Missing, Cell::Num),
                    ]
                })
                .collect(),
        }));

        doc.push(Block::Heading { level: 2, text: "Phase diagram".into() });
        doc.push(Block::Paragraph(format!(
            "Per cell, {} games of constant-step PGD. A run **diverges** when more than half of its tail's spectral \
             samples have ρ > 1 (the round's map, labels held fixed, expands around λ^t), the monitor's last state \
             is diverging, or the mean cosine of its consecutive tail steps is below {} (λ overshoots back and \
             forth); it **drifts** when its net displacement over the tail is at least {} of the path it walked \
             there (λ still moves one way: not settled in {} rounds); else it **cycles** when its tail test \
             accuracy spans more than {} pp or λ repeats; else it **converges**. The cell shows the most common \
             regime over the seeds (ties: the more severe). The \
             black line is the predicted boundary 2/μ_max (median over seeds{}).",
            spec.seeds.len(),
            fmt_num(spec.diverge_cosine),
            fmt_num(DRIFT_NET),
            spec.rounds,
            pct(spec.spread_tol),
            if boundary.and_then(|b| column_position(spec.eta.values(), b)).is_some() {
                ""
            } else {
                "; not drawn: outside the grid or undefined"
            }
        )));
        for (file, which, caption) in [
            ("regime.svg", HeatmapKind::Regime, "Regime per step size and attacker"),
            ("step_decay.svg", HeatmapKind::Decay, "Decay of the step norm"),
            ("last_accuracy.svg", HeatmapKind::LastAccuracy, "Last-iterate test accuracy"),
        ] {
            doc.push(Block::Figure(Figure {
                file: file.into(),
                caption: caption.into(),
                plot: Plot::Heatmap(Box::new(self.heatmap(&cells, boundary, which))),
            }));
        }
        doc.push(Block::Table(Table {
            caption: Some(format!(
                "Every cell: seeds per regime (converges / drifts / cycles / diverges), tail spread of the test accuracy (pp, mean), \
                 step decay (tail mean step / first-rounds mean step, mean), last-iterate and best-validation test \
                 accuracy (%, mean over {} seeds).",
                spec.seeds.len()
            )),
            headers: [
                "k",
                "B",
                &format!("η ({unit})"),
                "regime",
                "C / Dr / Cy / D",
                "spread (pp)",
                "step decay",
                "last (%)",
                "best-val (%)",
            ]
            .map(String::from)
            .to_vec(),
            rows: cells
                .iter()
                .flatten()
                .map(|c| {
                    vec![
                        Cell::from(c.k),
                        Cell::from(c.pool),
                        Cell::Num(c.eta),
                        Cell::from(c.regime.name()),
                        Cell::Text(format!("{} / {} / {} / {}", c.counts[0], c.counts[1], c.counts[2], c.counts[3])),
                        Cell::Num(100.0 * c.spread_mean),
                        Cell::Num(c.decay_mean),
                        Cell::MeanStdFixed { mean: 100.0 * c.last_mean, std: 100.0 * c.last_std, decimals: 1 },
                        Cell::Fixed { value: 100.0 * c.best_validation_mean, decimals: 1 },
                    ]
                })
                .collect(),
        }));

        doc.push(Block::Heading { level: 2, text: "Last iterate against the best-validation round".into() });
        doc.push(Block::Table(Table {
            caption: Some(format!(
                "Attacker k = {}, B = {}; test accuracy (%) mean ± std over {} seeds; Δ is the paired difference to the \
                 best-validation round at the same η and seed (pp, mean and 95 % t interval; the baselines are compared \
                 with the first η's); better / worse counts seeds.",
                spec.compare.attacker.0,
                spec.compare.attacker.1,
                spec.seeds.len()
            )),
            headers: [
                &format!("η ({unit})"),
                "method",
                "validation / trusted data",
                "test accuracy (%)",
                "Δ vs best-val (pp)",
                "better / worse",
            ]
            .map(String::from)
            .to_vec(),
            rows: rows
                .iter()
                .map(|r| {
                    let data = if r.validation_budget > 0 {
                        format!("{} rounds scored on validation", r.validation_budget)
                    } else if r.method.contains("trusted") {
                        format!("trains on {} validation points", s0.n_validation)
                    } else {
                        "none".into()
                    };
                    vec![
                        if r.eta.is_nan() { Cell::Missing } else { Cell::Num(r.eta) },
                        Cell::Text(r.method.clone()),
                        Cell::Text(data),
                        Cell::MeanStdFixed { mean: 100.0 * r.mean, std: 100.0 * r.std, decimals: 1 },
                        r.diff.map_or(Cell::Missing, |(d, lo, hi)| {
                            Cell::Text(format!(
                                "{} [{}, {}]",
                                fmt_num(100.0 * d),
                                fmt_num(100.0 * lo),
                                fmt_num(100.0 * hi)
                            ))
                        }),
                        if r.diff.is_some() { Cell::Text(format!("{} / {}", r.better, r.worse)) } else { Cell::Missing },
                    ]
                })
                .collect(),
        }));
        for e in 0..spec.compare.eta.len() {
            doc.push(Block::Figure(Figure {
                file: format!("accuracy_eta_{e}.svg"),
                caption: format!("Test accuracy vs round at η = {} ({unit})", fmt_num(spec.compare.eta[e])),
                plot: Plot::Lines(self.accuracy_plot(ran, e)),
            }));
            doc.push(Block::Figure(Figure {
                file: format!("step_norm_eta_{e}.svg"),
                caption: format!("Step norm vs round at η = {} ({unit})", fmt_num(spec.compare.eta[e])),
                plot: Plot::Lines(self.step_plot(ran, e)),
            }));
        }

        doc.push(Block::Heading { level: 2, text: "Answer".into() });
        doc.push(Block::List(self.answer(&cells, &rows, boundary)));
        doc.push(Block::Heading { level: 2, text: "Limits".into() });
        doc.push(Block::List(vec![
            "The prediction linearises the learner's map with the labels held fixed at the SVM solution of the \
             poisoned labels; the randomised attacker changes the labels every round, so 2/μ_max is a proxy for the \
             game's boundary, not a theorem about it (proofs/stability.md (g))."
                .into(),
            "The regime thresholds (the majority of tail samples with ρ > 1; the spread tolerance) are choices; a \
             longer game could move cells that still drift between regimes."
                .into(),
            "One data set and one poisoning level per report, one kernel and C; the in-game attacker is FLORAL's \
             randomised top-k, not the strongest known attack."
                .into(),
            format!(
                "{} seeds: the intervals are wide, and \"no difference shown\" is not evidence of equality.",
                spec.seeds.len()
            ),
        ]));
        doc.push(Block::Heading { level: 2, text: "Study".into() });
        doc.push(Block::Code { lang: "ron".into(), text: self.canonical.clone() });

        let per_seed: Vec<serde_json::Value> = ran
            .jobs
            .iter()
            .enumerate()
            .map(|(j, job)| {
                let runs: Vec<&GameRun> = ran.runs.iter().map(|r| &r[j]).collect();
                let g = self.game_of(*job, s0);
                serde_json::json!({
                    "job": match job {
                        JobKind::Cell(e, a) => serde_json::json!({"cell": {"eta": spec.eta.values()[*e], "k": spec.attackers[*a].0, "pool": spec.attackers[*a].1}}),
                        JobKind::Compare(e, v) => serde_json::json!({"compare": {"eta": spec.compare.eta[*e], "variant": self.variants()[*v].name}}),
                    },
                    "solver": g.solver.name(),
                    "runs": runs,
                })
            })
            .collect();
        let json = serde_json::json!({
            "kind": "Convergence",
            "name": spec.name,
            "floral_version": env!("CARGO_PKG_VERSION"),
            "hash": self.hash,
            "spec": self.canonical,
            "data_files": self.plan.data_files,
            "seeds": spec.seeds,
            "setups": ran.setups,
            "predicted_boundary_median": boundary,
            "cells": cells,
            "compare": rows,
            "games": per_seed,
            "answer": self.answer(&cells, &rows, boundary),
        });
        (doc, json)
    }
}

#[derive(Debug, Clone, Copy)]
enum HeatmapKind {
    Regime,
    Decay,
    LastAccuracy,
}

impl Study for ConvergenceStudy {
    fn kind(&self) -> &'static str {
        "Convergence"
    }
    fn name(&self) -> &str {
        &self.spec.name
    }
    fn jobs(&self) -> usize {
        self.job_list().len() * self.spec.seeds.len()
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
            self.jobs(),
            s.rounds
        )]
    }
    fn run(&self, progress: &(dyn Fn(&str) + Sync)) -> Result<StudyOutput, ExperimentError> {
        let ran = self.execute(progress)?;
        let (document, results) = self.document(&ran);
        let cells = self.cells(&ran);
        let summary = self.answer(&cells, &self.compare_rows(&ran), self.predicted_boundary(&ran));
        Ok(StudyOutput { document, results, summary, warnings: Vec::new() })
    }
    fn hash(&self) -> Option<&str> {
        Some(&self.hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_positions_interpolate_in_log_eta() {
        let u = [1.0, 2.0, 4.0, 8.0];
        assert_eq!(column_position(&u, 1.0), Some(0.5));
        assert_eq!(column_position(&u, 4.0), Some(2.5));
        assert!((column_position(&u, 2f64.powf(1.5)).unwrap() - 2.0).abs() < 1e-12);
        // Extrapolated with the end spacing on both sides.
        assert!((column_position(&u, 0.5).unwrap() + 0.5).abs() < 1e-12);
        assert!((column_position(&u, 16.0).unwrap() - 4.5).abs() < 1e-12);
        assert_eq!(column_position(&[1.0], 1.0), None);
        assert_eq!(column_position(&u, 0.0), None);
        assert_eq!(column_position(&u, f64::NAN), None);
    }

    #[test]
    fn cell_regime_is_the_most_common_ties_to_the_more_severe() {
        let run = |regime| GameRun {
            test_accuracy: vec![],
            steps: vec![],
            last: 0.5,
            average: 0.5,
            best_validation: 0.5,
            best_validation_round: None,
            spread: 0.0,
            decay: 1.0,
            net: 0.0,
            cosine: 0.0,
            tail_samples: 0,
            tail_unstable: 0,
            max_tail_rho: None,
            monitor_last: String::new(),
            regime,
        };
        let (c, y, d) = (run(Regime::Converges), run(Regime::Cycles), run(Regime::Diverges));
        assert_eq!(cell_summary(&[&c, &c, &d], 1.0, (1, 2)).regime, Regime::Converges);
        assert_eq!(cell_summary(&[&c, &y], 1.0, (1, 2)).regime, Regime::Cycles);
        assert_eq!(cell_summary(&[&c, &y, &d], 1.0, (1, 2)).regime, Regime::Diverges);
        assert_eq!(cell_summary(&[&c, &y, &d], 1.0, (1, 2)).counts, [1, 0, 1, 1]);
    }

    const TINY: &str = "Convergence(name: \"tiny\", seeds: [1, 2], \
        data: Moons(n: 80, noise: 0.2, validation_fraction: 0.2, test_fraction: 0.25), \
        poison: RandomFlips(fraction: 0.1), kernel: Rbf(gamma: 1.0), c: 1.0, \
        eta: KernelBound([0.5, 4.0, 400.0]), attackers: [(1, 2), (3, 6)], rounds: 40, tail: 10, \
        compare: (eta: [4.0], attacker: (3, 6), average_last: 10, schedules: [InverseSqrt], \
        solvers: [Extragradient(respond: true), Optimistic]))";

    fn tiny(replace: (&str, &str)) -> Result<Box<dyn Study>, ExperimentError> {
        load(&TINY.replace(replace.0, replace.1), Path::new("tiny.ron"))
    }

    #[test]
    fn issue_12_the_study_runs_maps_and_compares_deterministically() {
        let s = tiny(("", "")).unwrap();
        assert_eq!(s.kind(), "Convergence");
        // (3 steps × 2 attackers + 1 step × 4 variants) × 2 seeds.
        assert_eq!(s.jobs(), 20);
        let a = s.run(&|_| {}).unwrap();
        let b = s.run(&|_| {}).unwrap();
        assert_eq!(a.results, b.results, "two runs differ");
        let cells = a.results["cells"].as_array().unwrap();
        assert_eq!(cells.len(), 2);
        for row in cells {
            for c in row.as_array().unwrap() {
                let counts: u64 = c["counts"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).sum();
                assert_eq!(counts, 2, "one regime per seed");
            }
        }
        // 400 × 2/λ_max(K) is far above every critical step: that column diverges.
        assert_eq!(cells[0][2]["regime"], "diverges", "{}", cells[0][2]);
        // The boundary is measured per seed and lies above the label-independent bound.
        for setup in a.results["setups"].as_array().unwrap() {
            assert!(setup["critical_in_unit"].as_f64().unwrap() >= 1.0 - 1e-9, "{setup}");
        }
        // pgd last / average / ×1 schedule / 2 solvers / best-val, then 2 baselines.
        let rows = a.results["compare"].as_array().unwrap();
        assert_eq!(rows.len(), 8);
        assert!(rows.iter().filter(|r| r["diff"].is_null()).count() == 1, "only best-val has no difference");
        let heatmaps = a.document.figures().filter(|f| matches!(f.plot, Plot::Heatmap(_))).count();
        assert_eq!(heatmaps, 3);
        let md = floral_report::render_markdown(&a.document);
        for needle in ["**Question.**", "## Answer", "## Limits", "validation budget 40", "2/μ_max (predicted)"] {
            assert!(
                md.contains(needle) || a.document.figures().any(|f| format!("{:?}", f.plot).contains(needle)),
                "{needle}"
            );
        }
        assert!(!a.summary.is_empty());
    }

    #[test]
    fn bad_input_names_the_field() {
        for (from, to, field) in [
            ("tail: 10", "tail: 41", "tail"),
            ("[0.5, 4.0, 400.0]", "[4.0, 0.5]", "eta[1]"),
            ("[(1, 2), (3, 6)]", "[(3, 2)]", "attackers[0]"),
            ("attacker: (3, 6)", "attacker: (0, 6)", "compare.attacker"),
            ("average_last: 10", "average_last: 0", "compare.average_last"),
            ("c: 1.0", "c: -1.0", "c"),
            ("validation_fraction: 0.2", "validation_fraction: 0.0", "data"),
            ("rounds: 40", "rounds: 0", "rounds"),
            ("eta: [4.0]", "eta: []", "compare.eta"),
            ("tail: 10", "tail: 10, diverge_cosine: -1.0", "diverge_cosine"),
        ] {
            let Err(e) = tiny((from, to)) else { panic!("{to} was accepted") };
            let msg = e.to_string();
            assert!(e.is_input_error() && msg.contains("tiny.ron") && msg.contains(field), "{to}: {msg}");
        }
        let Err(e) = tiny(("tail: 10", "tail: 10, bogus: 1")) else { panic!("unknown field accepted") };
        assert!(e.to_string().contains("bogus"), "{e}");
    }

    #[test]
    fn median_of_even_and_odd() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&mut []), None);
    }
}
