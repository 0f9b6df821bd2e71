//! Build the players of a [`Plan`] and run every (method, variant, poison level, seed) job.
//! Jobs run in parallel across independent runs (rayon) and are collected in input order, so
//! results do not depend on the thread count.

use floral_data::{Split, Streams};
use floral_game::{
    DualModel, Evaluator, GameParams, OutputRule, Recorder, RoundMetrics, SplitScores, Termination,
};
use floral_svm::{Gram, SignedGram, Smo, SmoParams};
use rayon::prelude::*;

use crate::plan::{FloralVariant, Plan, PlannedMethod};
use crate::spec::{AttackerSpec, ProjectorSpec};
use crate::ExperimentError;

/// Name of an output rule in reports.
pub fn rule_name(r: OutputRule) -> String {
    match r {
        OutputRule::Last => "last".into(),
        OutputRule::Average { last } => format!("avg-{last}"),
        OutputRule::BestValidation => "best-val".into(),
    }
}

/// Scores of one output model of a run.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OutputScores {
    /// The output rule ("svm" for the plain SVM).
    pub rule: String,
    /// Scores on every split.
    pub scores: SplitScores,
}

/// The result of one job.
#[derive(Debug, Clone, serde::Serialize)]
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
    /// Support vectors of the final model.
    pub n_sv: usize,
    /// Round picked by the best-validation rule.
    pub best_validation_round: Option<usize>,
    /// Final decision values on a grid (2-D data, first seed only), for plots.
    #[serde(skip)]
    pub grid: Option<Vec<Vec<f64>>>,
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

fn grid_values(plan: &Plan, s: &Split, model: &DualModel) -> Vec<Vec<f64>> {
    let pts = grid_points(s);
    let mut k = faer::Mat::zeros(pts.nrows(), s.train.n());
    plan.kernel.gram_into(pts.as_ref(), s.train.x(), k.as_mut());
    let mut f = Vec::new();
    model.decision_values_into(k.as_ref(), &mut f);
    f.chunks(GRID).map(<[f64]>::to_vec).collect()
}

fn run_err(what: &str, e: impl std::fmt::Display) -> ExperimentError {
    ExperimentError::Run {
        what: what.to_string(),
        message: e.to_string(),
    }
}

/// Build the projector a spec names.
///
/// # Errors
/// [`ExperimentError::Run`] when the projector rejects its parameters.
pub fn build_projector(p: &ProjectorSpec) -> Result<Box<dyn floral_projection::Projector>, ExperimentError> {
    Ok(match *p {
        ProjectorSpec::Exact => Box::new(floral_projection::ExactProjector::default()),
        ProjectorSpec::FixedPoint { tol, max_iter, finish_exact } => Box::new(
            floral_projection::FixedPointProjector::new(floral_projection::FixedPointParams {
                tol,
                max_iter,
                finish_exact,
            })
            .map_err(|e| run_err("projector", e))?,
        ),
    })
}

fn want_grid(plan: &Plan, s: &Split, seed_index: usize) -> bool {
    plan.spec.decision_plots && seed_index == 0 && s.train.dim() == 2
}

fn run_svm(plan: &Plan, name: &str, vi: usize, c: f64, p: usize, si: usize) -> Result<RunResult, ExperimentError> {
    let s = &plan.splits[p][si];
    let what = format!("{name} / {} / seed {}", plan.poison_names[p], plan.spec.seeds[si]);
    let gram = Gram::new(plan.kernel.as_ref(), s.train.x());
    let q = SignedGram::new(&gram, s.train.y()).map_err(|e| run_err(&what, e))?;
    let mut smo = Smo::new(SmoParams::default()).map_err(|e| run_err(&what, e))?;
    let sol = smo
        .solve(&q, floral_projection::Bounds::Uniform(c), None)
        .map_err(|e| run_err(&what, e))?;
    let model = DualModel::new(sol.lambda.as_ref(), s.train.y(), sol.bias);
    let mut eval = Evaluator::new(plan.kernel.as_ref(), s);
    let scores = eval.scores(&model);
    Ok(RunResult {
        method: name.to_string(),
        variant: vi,
        poison: p,
        seed: plan.spec.seeds[si],
        outputs: vec![OutputScores { rule: "svm".into(), scores }],
        trace: Vec::new(),
        status: None,
        iterations: sol.iterations,
        sanitisation: None,
        n_sv: sol.lambda.iter().filter(|&&l| l > 0.0).count(),
        best_validation_round: None,
        grid: want_grid(plan, s, si).then(|| grid_values(plan, s, &model)),
    })
}

fn run_floral(
    plan: &Plan,
    name: &str,
    vi: usize,
    v: &FloralVariant,
    p: usize,
    si: usize,
) -> Result<RunResult, ExperimentError> {
    let s = &plan.splits[p][si];
    let seed = plan.spec.seeds[si];
    let what = format!("{name} / {} / seed {seed}", plan.poison_names[p]);
    let f = &v.spec;
    let gram = Gram::new(plan.kernel.as_ref(), s.train.x());
    let mut q = SignedGram::new(&gram, s.train.y()).map_err(|e| run_err(&what, e))?;
    let projector = build_projector(&f.projector)?;
    let mut learner = floral_defense::FloralLearner::new(f.learner.clone(), projector)
        .map_err(|e| run_err(&what, e))?;
    let (mut attacker, k): (Box<dyn floral_game::Attacker>, usize) = match &f.attacker {
        AttackerSpec::RandomTopK(params) => (
            Box::new(floral_attack::RandomTopK::new(params.clone()).map_err(|e| run_err(&what, e))?),
            params.k,
        ),
        AttackerSpec::None => (Box::new(NoAttack), 0),
    };
    let params = GameParams {
        rounds: f.rounds,
        budget: floral_game::Budget { k },
        unattacked_rounds: f.unattacked_rounds,
        tol: None,
        diverge_above: 1e12,
    };
    let eval = Evaluator::new(plan.kernel.as_ref(), s);
    let average_last = match v.output {
        Some(OutputRule::Average { last }) => last,
        _ => f.average_last,
    };
    let mut rec = Recorder::new(eval, f.rounds, plan.spec.record_every, average_last, f.learner.sv_threshold);
    let mut rngs = Streams::new(seed);
    let out = floral_game::play(
        &params,
        &mut q,
        s.train.y(),
        attacker.as_mut(),
        &mut learner,
        &mut rngs,
        &mut rec,
    )
    .map_err(|e| run_err(&what, e))?;
    let rules: Vec<OutputRule> = match v.output {
        Some(r) => vec![r],
        None => {
            let mut r = vec![OutputRule::Last, OutputRule::Average { last: average_last }];
            if s.validation.is_some() {
                r.push(OutputRule::BestValidation);
            }
            r
        }
    };
    let mut outputs = Vec::new();
    for r in rules {
        if let Some(m) = rec.model(r) {
            outputs.push(OutputScores {
                rule: rule_name(r),
                scores: rec.scores(&m),
            });
        }
    }
    let sanitisation = match &s.train_clean {
        Some(clean) => {
            let poisoned = clean.diff(s.train.y()).map_err(|e| run_err(&what, e))?;
            if poisoned.is_empty() {
                None
            } else {
                let restored = poisoned
                    .iter()
                    .filter(|&&i| out.final_labels.get(i) == clean.get(i))
                    .count();
                Some(restored as f64 / poisoned.len() as f64)
            }
        }
        None => None,
    };
    let grid = if want_grid(plan, s, si) {
        rec.model(OutputRule::Last).map(|m| grid_values(plan, s, &m))
    } else {
        None
    };
    Ok(RunResult {
        method: name.to_string(),
        variant: vi,
        poison: p,
        seed,
        outputs,
        best_validation_round: rec.best_validation_round(),
        trace: std::mem::take(&mut rec.metrics),
        status: Some(out.status),
        iterations: out.rounds_played,
        sanitisation,
        n_sv: out.lambda.iter().filter(|&&l| l > f.learner.sv_threshold).count(),
        grid,
    })
}

/// An attacker that never flips (for `AttackerSpec::None`).
#[derive(Debug)]
struct NoAttack;

impl floral_game::Attacker for NoAttack {
    fn name(&self) -> &'static str {
        "none"
    }
    fn attack(
        &mut self,
        view: &floral_game::RoundView<'_>,
        _rng: &mut floral_data::FloralRng,
    ) -> Result<floral_data::FlipSet, floral_game::GameError> {
        Ok(floral_data::FlipSet::empty(view.clean.len()))
    }
}

/// One unit of work.
#[derive(Debug, Clone, Copy)]
struct Job {
    method: usize,
    variant: usize,
    poison: usize,
    seed: usize,
}

/// All jobs of a plan, in a fixed order.
fn jobs(plan: &Plan) -> Vec<Job> {
    let mut v = Vec::new();
    for (mi, m) in plan.methods.iter().enumerate() {
        let nv = match m {
            PlannedMethod::Svm { cs, .. } => cs.len(),
            PlannedMethod::Floral { variants, .. } => variants.len(),
        };
        for variant in 0..nv {
            for poison in 0..plan.splits.len() {
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

/// Run every job; `progress` is called once per finished job (from worker threads).
///
/// # Errors
/// The first failing job's error, in job order.
pub fn execute(plan: &Plan, progress: &(dyn Fn() + Sync)) -> Result<Vec<RunResult>, ExperimentError> {
    let js = jobs(plan);
    let results: Vec<Result<RunResult, ExperimentError>> = js
        .par_iter()
        .map(|j| {
            let r = match &plan.methods[j.method] {
                PlannedMethod::Svm { name, cs, .. } => run_svm(plan, name, j.variant, cs[j.variant], j.poison, j.seed),
                PlannedMethod::Floral { name, variants, .. } => {
                    run_floral(plan, name, j.variant, &variants[j.variant], j.poison, j.seed)
                }
            };
            progress();
            r
        })
        .collect();
    results.into_iter().collect()
}
