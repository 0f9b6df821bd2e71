//! Run every (method, variant, poison level, seed) job of a [`Plan`].
//!
//! Seeds that share their points form a group (see [`Plan::groups`]). Groups run one after the
//! other: each computes its Gram matrix and cross-kernels once ([`SplitKernels`]), poisons the
//! training labels of every level through the registry's poisoners, runs its jobs in parallel
//! (rayon) against the shared kernels, and drops them before the next group. Results are
//! collected in job order, so they do not depend on the thread count.

use std::sync::Arc;

use floral_attack::{PoisonInput, poison_exact};
use floral_data::{FlipSet, Split, Streams};
use floral_defense::{Basis, FitInput, Fitted};
use floral_game::{DualModel, Evaluator, RoundMetrics, SplitKernels, SplitScores, Termination};
use floral_svm::Kernel;

use crate::ExperimentError;
use crate::memory::GRID_CHUNK;
use crate::plan::Plan;
use crate::registry::{PlannedPoison, poison_rng};

pub use floral_defense::rule_name;

/// The payload of one cell file: a job's result, its plot grid included (results.json leaves
/// the grid out, the report's plots need it).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct CellRecord {
    /// The result.
    pub result: RunResult,
    /// The decision values on the plot grid (see [`RunResult::grid`]).
    pub grid: Option<Vec<Vec<f64>>>,
}

/// The key of job (method, variant, poison level, seed index).
pub fn cell_key(method: usize, variant: usize, poison: usize, seed: usize) -> String {
    format!("m{method}-v{variant}-p{poison}-s{seed}")
}

/// The poisoner's flips of one (poison level, seed): None for clean labels.
pub type SplitRecord = Option<Vec<usize>>;

/// Scores of one output model of a run.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OutputScores {
    /// The output rule ("svm" for the plain SVM).
    pub rule: String,
    /// Scores on every split.
    pub scores: SplitScores,
}

/// The result of one job (serialisable both ways: the cell store keeps it, see [`crate::cells`]).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RunResult {
    /// Method name.
    pub method: String,
    /// Variant index within the method (0 for untuned methods).
    pub variant: usize,
    /// Poison level index.
    pub poison: usize,
    /// Seed.
    pub seed: u64,
    /// Scores of each output model.
    pub outputs: Vec<OutputScores>,
    /// Per-round metrics (FLORAL only).
    pub trace: Vec<RoundMetrics>,
    /// How the game ended (FLORAL only).
    pub status: Option<Termination>,
    /// Rounds played (FLORAL) or SMO iterations (SVM).
    pub iterations: usize,
    /// Share of initially poisoned training labels that the final labels ỹ^T restore (FLORAL
    /// only; None when the training labels are clean).
    pub sanitisation: Option<f64>,
    /// Share of the training labels the poisoning left clean that the final labels change
    /// (defences that relabel: FLORAL's ỹ^T, label sanitisation, confident learning with
    /// relabelling; None for the others).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broken: Option<f64>,
    /// Share of the poisoned training points a screening defence dropped (None without
    /// screening or without poisoned points).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dropped_poisoned: Option<f64>,
    /// Share of the clean (unflipped) training points a screening defence dropped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dropped_clean: Option<f64>,
    /// Support vectors of the final model.
    pub n_sv: usize,
    /// Round picked by the best-validation rule.
    pub best_validation_round: Option<usize>,
    /// Attacked rounds in which the in-game attacker flipped fewer than k labels (FLORAL only;
    /// omitted from results.json when 0).
    #[serde(skip_serializing_if = "is_zero", default)]
    pub under_budget_rounds: usize,
    /// Final decision values on a grid (2-D data, first seed only), for plots.
    #[serde(skip)]
    pub grid: Option<Vec<Vec<f64>>>,
}

fn is_zero(v: &usize) -> bool {
    *v == 0
}

/// Grid geometry for decision plots.
pub(crate) const GRID: usize = 60;

pub(crate) fn grid_range(s: &Split) -> ((f64, f64), (f64, f64)) {
    let x = s.train.x();
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for i in 0..x.nrows() {
        x0 = x0.min(x[(i, 0)]);
        x1 = x1.max(x[(i, 0)]);
        y0 = y0.min(x[(i, 1)]);
        y1 = y1.max(x[(i, 1)]);
    }
    ((x0 - 0.5, x1 + 0.5), (y0 - 0.5, y1 + 0.5))
}

fn grid_points(s: &Split) -> faer::Mat<f64> {
    let ((x0, x1), (y0, y1)) = grid_range(s);
    faer::Mat::from_fn(GRID * GRID, 2, |r, c| {
        let (iy, ix) = (r / GRID, r % GRID);
        if c == 0 {
            x0 + (x1 - x0) * ix as f64 / (GRID - 1) as f64
        } else {
            y0 + (y1 - y0) * iy as f64 / (GRID - 1) as f64
        }
    })
}

/// Decision values of `model` on the plot grid, computed in chunks of [`GRID_CHUNK`] grid
/// points (the grid × train kernel is never held whole).
fn grid_values(kernel: &dyn Kernel, s: &Split, model: &DualModel) -> Vec<Vec<f64>> {
    let pts = grid_points(s);
    values_over(kernel, pts.as_ref(), s.train.x(), model).chunks(GRID).map(<[f64]>::to_vec).collect()
}

/// The rows of `x` then the rows of `y` (same width).
fn stack(x: faer::MatRef<'_, f64>, y: faer::MatRef<'_, f64>) -> faer::Mat<f64> {
    faer::Mat::from_fn(
        x.nrows() + y.nrows(),
        x.ncols(),
        |i, j| if i < x.nrows() { x[(i, j)] } else { y[(i - x.nrows(), j)] },
    )
}

/// Decision values f = K(points, basis) α + b, the kernel computed in chunks of [`GRID_CHUNK`]
/// rows (the points × basis matrix is never held whole).
fn values_over(
    kernel: &dyn Kernel,
    points: faer::MatRef<'_, f64>,
    basis: faer::MatRef<'_, f64>,
    model: &DualModel,
) -> Vec<f64> {
    let mut f = Vec::with_capacity(points.nrows());
    let mut k = faer::Mat::zeros(GRID_CHUNK.min(points.nrows()), basis.nrows());
    let mut buf = Vec::new();
    let mut r0 = 0;
    while r0 < points.nrows() {
        let m = GRID_CHUNK.min(points.nrows() - r0);
        let mut kc = k.as_mut().subrows_mut(0, m);
        kernel.gram_into(points.subrows(r0, m), basis, kc.as_mut());
        model.decision_values_into(kc.as_ref(), &mut buf);
        f.extend_from_slice(&buf);
        r0 += m;
    }
    f
}

/// Scores of a model whose expansion runs over the trusted points (or train then trusted):
/// its kernels against every split are computed here, not shared.
pub(crate) fn scores_over_basis(
    kernel: &dyn Kernel,
    s: &Split,
    basis: Basis,
    model: &DualModel,
) -> Result<SplitScores, String> {
    let trusted = s.validation.as_ref().ok_or("a model over trusted points without a validation split")?;
    let points = match basis {
        Basis::Trusted => trusted.x().to_owned(),
        Basis::TrainThenTrusted => stack(s.train.x(), trusted.x()),
        Basis::Train => s.train.x().to_owned(),
    };
    if points.nrows() != model.coef.nrows() {
        return Err(format!("a model with {} coefficients over {} points", model.coef.nrows(), points.nrows()));
    }
    let score =
        |d: &floral_data::Dataset| floral_game::score(&values_over(kernel, d.x(), points.as_ref(), model), d.y());
    Ok(SplitScores { train: score(&s.train), validation: s.validation.as_ref().map(score), test: score(&s.test) })
}

pub(crate) fn run_err(what: &str, e: impl std::fmt::Display) -> ExperimentError {
    ExperimentError::Run { what: what.to_string(), message: e.to_string() }
}

fn want_grid(plan: &Plan, s: &Split, seed_index: usize) -> bool {
    plan.spec.decision_plots && seed_index == 0 && s.train.dim() == 2
}

/// The split of seed `si` at poison level `level`: the clean split with the poisoner's flips
/// applied to the training labels (features shared, only labels copied). `kernels` must be
/// built on the clean split of seed `si` (or one sharing its points).
///
/// # Errors
/// The poisoner's failure, as a run error naming the level and seed.
pub fn poisoned_split(
    plan: &Plan,
    level: &PlannedPoison,
    si: usize,
    kernels: &SplitKernels,
) -> Result<Split, ExperimentError> {
    let flips = poison_flips(plan, level, si, kernels)?;
    split_with_flips(plan, level, si, flips.as_ref())
}

/// The poisoner's flips of the training labels of seed `si` at poison level `level` (None for a
/// clean level); see [`poisoned_split`].
///
/// # Errors
/// The poisoner's failure, as a run error naming the level and seed.
pub fn poison_flips(
    plan: &Plan,
    level: &PlannedPoison,
    si: usize,
    kernels: &SplitKernels,
) -> Result<Option<FlipSet>, ExperimentError> {
    let clean = &plan.clean[si];
    let Some((poisoner, budget)) = &level.poisoner else {
        return Ok(None);
    };
    let what = format!("poison level {} / seed {}", level.name, plan.spec.seeds[si]);
    let input = PoisonInput {
        train: &clean.train,
        kernel: plan.kernel.as_ref(),
        gram: &kernels.train,
        validation: match &plan.attack_validation {
            Some(v) => v.get(si).and_then(Option::as_ref),
            None => clean.validation.as_ref(),
        },
    };
    let mut rng = poison_rng(plan.spec.seeds[si]);
    let flips = poison_exact(poisoner.as_ref(), &input, budget.flips(clean.train.n()), &mut rng)
        .map_err(|e| run_err(&what, e))?;
    Ok(Some(flips))
}

/// The split of seed `si` at `level` given the poisoner's flips (None: the clean split); a
/// poisoned level keeps the clean training labels in `train_clean`.
///
/// # Errors
/// Flips out of range for the training set, as a run error.
pub fn split_with_flips(
    plan: &Plan,
    level: &PlannedPoison,
    si: usize,
    flips: Option<&FlipSet>,
) -> Result<Split, ExperimentError> {
    let clean = &plan.clean[si];
    let Some(flips) = flips.filter(|_| level.poisoner.is_some()) else {
        return Ok(clean.clone());
    };
    let what = format!("poison level {} / seed {}", level.name, plan.spec.seeds[si]);
    let y = clean.train.y().apply(flips).map_err(|e| run_err(&what, e))?;
    let mut s = clean.clone();
    s.train = clean.train.with_labels(y).map_err(|e| run_err(&what, e))?;
    s.train_clean = Some(clean.train.y().clone());
    Ok(s)
}

pub(crate) fn run_job(
    plan: &Plan,
    j: &Job,
    s: &Split,
    group: &[Arc<SplitKernels>],
) -> Result<RunResult, ExperimentError> {
    let m = &plan.methods[j.method];
    let seed = plan.spec.seeds[j.seed];
    let what = format!("{} / {} / seed {seed}", m.name, plan.poison_names[j.poison]);
    let variant = &m.variants[j.variant];
    let defence = &variant.defence;
    // The variant's own kernel (an SVM's γ grid) or the experiment's; `group[0]` holds the
    // experiment kernel's matrices, `group[1 + k]` those of `plan.variant_kernels[k]`.
    let (kernel, kernels) = match variant.kernel {
        Some(k) => (plan.variant_kernels[k].as_ref(), &group[1 + k]),
        None => (plan.kernel.as_ref(), &group[0]),
    };
    let input = FitInput {
        train: &s.train,
        trusted: s.validation.as_ref(),
        kernel,
        kernels,
        monitor: Some(Evaluator::shared(kernels.clone(), s)),
    };
    let mut rngs = Streams::new(seed);
    let fitted: Fitted = defence.fit(input, &mut rngs).map_err(|e| run_err(&what, e))?;
    let mut eval = Evaluator::shared(kernels.clone(), s);
    let mut outputs = Vec::new();
    for o in &fitted.outputs {
        let scores = match o.basis {
            Basis::Train => eval.scores(&o.model),
            basis => scores_over_basis(kernel, s, basis, &o.model).map_err(|e| run_err(&what, e))?,
        };
        outputs.push(OutputScores { rule: o.rule.clone(), scores });
    }
    let audit = match &s.train_clean {
        Some(clean) => {
            let poisoned = clean.diff(s.train.y()).map_err(|e| run_err(&what, e))?;
            LabelAudit::of(clean, &poisoned, &fitted)
        }
        None => LabelAudit::default(),
    };
    let grid = match (&fitted.plot_model, want_grid(plan, s, j.seed)) {
        (Some(model), true) => Some(grid_values(kernel, s, model)),
        _ => None,
    };
    Ok(RunResult {
        method: m.name.clone(),
        variant: j.variant,
        poison: j.poison,
        seed,
        outputs,
        trace: fitted.trace,
        status: fitted.status,
        iterations: fitted.iterations,
        sanitisation: audit.restored,
        broken: audit.broken,
        dropped_poisoned: audit.dropped_poisoned,
        dropped_clean: audit.dropped_clean,
        n_sv: fitted.n_sv,
        best_validation_round: fitted.best_validation_round,
        under_budget_rounds: fitted.under_budget_rounds,
        grid,
    })
}

/// What the progress callback says about a job, e.g. `floral / random 10% / seed 7`.
pub(crate) fn describe_job(plan: &Plan, j: &Job) -> String {
    let m = &plan.methods[j.method];
    let variant = if m.variants.len() > 1 { format!(" [{}]", m.variants[j.variant].label) } else { String::new() };
    format!("{}{variant} / {} / seed {}", m.name, plan.poison_names[j.poison], plan.spec.seeds[j.seed])
}

/// The step-size bound of one group: λ_max(K) of its training Gram matrix (power iteration to
/// 1e-9 relative) and 2/λ_max(K) (infinite for a zero kernel).
pub(crate) fn group_bound(plan: &Plan, group: &[usize], kernels: &SplitKernels) -> GroupBound {
    let lmax = kernels.train.max_eigenvalue_power(1e-9, 1000).value;
    GroupBound {
        seeds: group.iter().map(|&si| plan.spec.seeds[si]).collect(),
        lambda_max: lmax,
        eta_bound: if lmax > 0.0 { 2.0 / lmax } else { f64::INFINITY },
    }
}

/// The kernel matrices a group's jobs read: `[0]` the experiment kernel's (`kernels`), then
/// one set per `plan.variant_kernels` entry (an SVM's γ grid), built on the group's points.
pub(crate) fn group_kernels(plan: &Plan, first: usize, kernels: &Arc<SplitKernels>) -> Vec<Arc<SplitKernels>> {
    let mut v = vec![kernels.clone()];
    for k in &plan.variant_kernels {
        v.push(Arc::new(SplitKernels::new(k.as_ref(), &plan.clean[first])));
    }
    v
}

/// What a defence did to the poisoned and the clean training labels (each a share, None when
/// it does not apply).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LabelAudit {
    /// restored = |{i ∈ P : ŷ_i = y_i}| / |P|, P the poisoned points, ŷ the defence's final labels.
    pub restored: Option<f64>,
    /// broken = |{i ∉ P : ŷ_i ≠ y_i}| / (n − |P|).
    pub broken: Option<f64>,
    /// dropped_poisoned = |D ∩ P| / |P|, D the points a screening dropped.
    pub dropped_poisoned: Option<f64>,
    /// dropped_clean = |D \ P| / (n − |P|).
    pub dropped_clean: Option<f64>,
}

impl LabelAudit {
    /// The audit of a fit against the clean labels `clean` (y) and the poisoned indices
    /// `poisoned` (P, sorted): restored and broken from the final labels when the defence hands
    /// them out, the dropped shares when it screened points out.
    pub fn of(clean: &floral_data::Labels, poisoned: &[usize], fitted: &Fitted) -> Self {
        let n = clean.len();
        let is_p = |i: usize| poisoned.binary_search(&i).is_ok();
        let share = |count: usize, of: usize| (of > 0).then(|| count as f64 / of as f64);
        let mut a = LabelAudit::default();
        if let Some(fin) = fitted.final_labels.as_ref().filter(|f| f.len() == n) {
            a.restored = share(poisoned.iter().filter(|&&i| fin.get(i) == clean.get(i)).count(), poisoned.len());
            a.broken = share((0..n).filter(|&i| !is_p(i) && fin.get(i) != clean.get(i)).count(), n - poisoned.len());
        }
        if let Some(sc) = &fitted.screening {
            let dp = sc.dropped.iter().filter(|&&i| is_p(i)).count();
            a.dropped_poisoned = share(dp, poisoned.len());
            a.dropped_clean = share(sc.dropped.len() - dp, n - poisoned.len());
        }
        a
    }
}

/// One unit of work of an experiment: indices of the method, its variant, the poison level and
/// the seed.
#[derive(Debug, Clone, Copy)]
pub struct Job {
    /// The method's index.
    pub method: usize,
    /// The variant's index within the method.
    pub variant: usize,
    /// The poison level's index.
    pub poison: usize,
    /// The seed's index.
    pub seed: usize,
}

/// All jobs of a plan, in a fixed order (method, variant, poison level, seed).
pub(crate) fn jobs(plan: &Plan) -> Vec<Job> {
    let mut v = Vec::new();
    for (mi, m) in plan.methods.iter().enumerate() {
        for variant in 0..m.variants.len() {
            for poison in 0..plan.levels.len() {
                for seed in 0..plan.spec.seeds.len() {
                    v.push(Job { method: mi, variant, poison, seed });
                }
            }
        }
    }
    v
}

/// Number of jobs a plan runs (for progress bars).
pub fn job_count(plan: &Plan) -> usize {
    jobs(plan).len()
}

/// The step-size bound of one group of seeds sharing points (docs/method.md §8): FLORAL's
/// update is locally stable for every labelling when η < 2/λ_max(K).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GroupBound {
    /// The seeds of the group.
    pub seeds: Vec<u64>,
    /// λ_max(K) of the group's training Gram matrix (power iteration to 1e-9 relative).
    pub lambda_max: f64,
    /// 2/λ_max(K).
    pub eta_bound: f64,
}

/// The results of a plan and the training splits they were fitted on.
#[derive(Debug)]
pub struct Executed {
    /// One result per job, in job order.
    pub results: Vec<RunResult>,
    /// The split of every (poison level, seed): `splits[poison][seed]`.
    pub splits: Vec<Vec<Split>>,
    /// The step-size bound of each group of seeds, in group order.
    pub bounds: Vec<GroupBound>,
}

impl Executed {
    /// One sentence per FLORAL method whose base step η exceeds 2/λ_max(K) in some group: the
    /// last iterate may then oscillate or diverge.
    pub fn step_warnings(&self, plan: &Plan) -> Vec<String> {
        let mut out = Vec::new();
        for m in &plan.methods {
            let crate::plan::Family::Floral { variants } = &m.family else { continue };
            let mut etas: Vec<f64> = variants.iter().map(|v| v.spec.learner.eta).collect();
            etas.sort_by(f64::total_cmp);
            etas.dedup();
            for b in &self.bounds {
                let above: Vec<String> =
                    etas.iter().filter(|&&e| e > b.eta_bound).map(|e| floral_report::fmt_num(*e)).collect();
                if above.is_empty() {
                    continue;
                }
                out.push(format!(
                    "method `{}`: step η = {} exceeds the stability bound 2/λ_max(K) = {} (λ_max(K) = {}, seed(s) {}); its last iterate may oscillate or diverge",
                    m.name,
                    above.join(", "),
                    floral_report::fmt_num(b.eta_bound),
                    floral_report::fmt_num(b.lambda_max),
                    b.seeds.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
                ));
            }
        }
        out
    }
}

/// Run every job in memory, group by group; `progress` is called once per finished job (from
/// worker threads) with its description, e.g. `floral / random 10% / seed 7`.
///
/// # Errors
/// The first failing job's error in job order within the first group that fails.
pub fn execute(plan: &Plan, progress: &(dyn Fn(&str) + Sync)) -> Result<Executed, ExperimentError> {
    let (records, cells) = crate::frame::runner::run_in_memory(plan, progress)?;
    executed(plan, records, cells)
}

/// The [`Executed`] of a plan from its group records (group order) and cells (job order): the
/// splits rebuilt from the recorded flips, so the report does not depend on where or how the
/// cells were computed.
///
/// # Errors
/// A run error when recorded flips do not fit the data or a (level, seed) is unrecorded.
pub fn executed(plan: &Plan, records: Vec<GroupRecord>, cells: Vec<CellRecord>) -> Result<Executed, ExperimentError> {
    let results = cells
        .into_iter()
        .map(|CellRecord { mut result, grid }| {
            result.grid = grid;
            result
        })
        .collect();
    let mut splits: Vec<Vec<Option<Split>>> = vec![vec![None; plan.spec.seeds.len()]; plan.levels.len()];
    let mut bounds = Vec::with_capacity(records.len());
    for r in records {
        for ((p, si), rec) in r.flips {
            let level = plan.levels.get(p).ok_or_else(|| run_err("stored flips", "a poison level out of range"))?;
            let n = plan.clean.get(si).ok_or_else(|| run_err("stored flips", "a seed out of range"))?.train.n();
            let what = format!("stored flips of poison level {} / seed {}", level.name, plan.spec.seeds[si]);
            let flips = rec.map(|v| FlipSet::new(v, n)).transpose().map_err(|e| run_err(&what, e))?;
            splits[p][si] = Some(split_with_flips(plan, level, si, flips.as_ref())?);
        }
        bounds.push(r.bound);
    }
    let splits = splits
        .into_iter()
        .map(|v| v.into_iter().collect::<Option<Vec<_>>>())
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| run_err("plan", "a split was not prepared"))?;
    Ok(Executed { results, splits, bounds })
}

/// What building one group of an experiment measures: its step-size bound and the poisoner's
/// flips of every (poison level, seed index) of its seeds (None for a clean level).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct GroupRecord {
    /// The group's step-size bound.
    pub bound: GroupBound,
    /// ((poison level, seed index), flips), in (level, seed) order.
    pub flips: Vec<((usize, usize), SplitRecord)>,
}

/// The state the jobs of one group share: the poisoned split of each (level, seed) of the group
/// and the kernel matrices ([`group_kernels`]).
pub struct ExperimentGroup {
    pub(crate) splits: Vec<((usize, usize), Split)>,
    pub(crate) kernels: Vec<Arc<SplitKernels>>,
}

impl ExperimentGroup {
    pub(crate) fn split(&self, p: usize, si: usize) -> Option<&Split> {
        self.splits.iter().find(|(k, _)| *k == (p, si)).map(|(_, s)| s)
    }
}
