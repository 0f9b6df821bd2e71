//! The `Influence(...)` study (issue #15): does the dual variable λ_i measure how much training
//! point i moves the SVM?
//!
//! For every cell (seed × poison level) it trains the SVM on the cell's training labels, and for
//! every training point (or a seeded sample) measures the effect of flipping its label and of
//! removing it by exact warm-started retraining, plus the first-order estimate
//! ([`floral_svm::influence`], `proofs/influence.md`). It plays FLORAL on the same labels and
//! records the learner's λ at chosen rounds. The report gives Spearman and Kendall correlations
//! between λ and each influence measure, the overlap of the top-B points by λ with the top-B
//! by influence, their change along FLORAL's rounds, with the poisoning level, and between
//! points with clean and with flipped labels, with two-level bootstrap intervals (seeds, then
//! points).

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use floral_data::{Labels, Split, Stream, Streams, stream};
use floral_defense::FloralLearner;
use floral_game::{Control, GameError, GameParams, Observer, RoundRecord, SplitKernels};
use floral_report::{Block, Cell, DecisionPlot, Document, Figure, LinePlot, Plot, PlotPoint, Series, Table, fmt_num};
use floral_svm::{InfluenceParams, InfluenceSets, PointInfluence, SmoParams};
use rand::seq::index::sample;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::spec::{AttackerSpec, DataSpec, FloralSpec, KernelSpec, PoisonSpec};
use crate::stats::{Estimate, PairStat, bootstrap, kendall_tau_b, spearman, top_overlap};
use crate::study::{Study, StudyOutput};
use crate::{ExperimentError, Plan};

/// The RON form of an influence study (`docs/experiments.md`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename = "Influence")]
pub struct InfluenceSpec {
    /// Name; the default output directory is `reports/<name>`.
    pub name: String,
    /// One free-text line shown under the title.
    #[serde(default)]
    pub description: String,
    /// Replication seeds (data draw and split, poisoner, FLORAL's attacker, point sample).
    pub seeds: Vec<u64>,
    /// The data; it must have a validation split (influence is measured on it).
    pub data: DataSpec,
    /// Poisoning levels of the training labels.
    pub poison: Vec<PoisonSpec>,
    /// The kernel.
    pub kernel: KernelSpec,
    /// Box bound C of the SVMs whose λ and influence are measured.
    pub c: f64,
    /// The FLORAL setting whose λ is compared (no `tune`).
    pub floral: FloralSpec,
    /// FLORAL rounds at which λ is correlated with influence; the last round is always added.
    #[serde(default)]
    pub rounds: Vec<usize>,
    /// The B values of the top-B overlap curves (each 1..=points measured).
    pub top_b: Vec<usize>,
    /// Measure this many training points per cell, drawn without replacement from the seed's
    /// analysis stream; None: every point.
    #[serde(default)]
    pub sample: Option<usize>,
    /// Bootstrap replicates of every interval (0: no intervals). Default 1000.
    #[serde(default = "default_bootstrap")]
    pub bootstrap: usize,
    /// Warm-start the retrains (false: every retrain from λ = 0). Default true.
    #[serde(default = "yes")]
    pub warm_start: bool,
}

fn default_bootstrap() -> usize {
    1000
}
fn yes() -> bool {
    true
}

/// A checked influence study.
#[derive(Debug)]
pub struct InfluenceStudy {
    spec: InfluenceSpec,
    plan: Plan,
    canonical: String,
    hash: String,
    rounds: Vec<usize>,
}

/// Parse and check the RON text of an `Influence(...)` study.
///
/// # Errors
/// [`ExperimentError::Parse`] with line and column, or [`ExperimentError::Invalid`] naming the
/// field.
pub fn load(text: &str, path: &Path) -> Result<Box<dyn Study>, ExperimentError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let spec = ron::Options::default().from_str::<InfluenceSpec>(text).map_err(|e| ExperimentError::Parse {
        path: path.to_path_buf(),
        line: e.span.start.line,
        col: e.span.start.col,
        message: e.code.to_string(),
    })?;
    Ok(Box::new(check(spec, path)?))
}

/// Check a parsed influence spec and load its data.
///
/// # Errors
/// [`ExperimentError::Invalid`] naming the field, or the shared checks' errors.
pub fn check(spec: InfluenceSpec, path: &Path) -> Result<InfluenceStudy, ExperimentError> {
    let bad = |field: &str, expected: &str, got: String| ExperimentError::invalid(path, field, expected, got);
    if !(spec.c.is_finite() && spec.c > 0.0) {
        return Err(bad("c", "a finite number > 0", spec.c.to_string()));
    }
    let f = &spec.floral;
    if f.tune.is_some() {
        return Err(bad("floral.tune", "None (an influence study compares one FLORAL setting)", "Some(...)".into()));
    }
    if f.rounds == 0 {
        return Err(bad("floral.rounds", ">= 1", "0".into()));
    }
    FloralLearner::new(f.learner.clone(), Arc::new(floral_projection::ExactProjector::default()))
        .map_err(|e| bad("floral.learner", "valid learner parameters", e.to_string()))?;
    crate::registry::attacker(&f.attacker)
        .map_err(|e| bad("floral.attacker", "valid attacker parameters", e.to_string()))?;
    if let Some(i) = spec.rounds.iter().position(|&r| r == 0 || r > f.rounds) {
        return Err(bad(&format!("rounds[{i}]"), &format!("a round in 1..={}", f.rounds), spec.rounds[i].to_string()));
    }
    if spec.top_b.is_empty() {
        return Err(bad("top_b", "at least one B", "[]".into()));
    }
    let plan = crate::plan::check_base(
        &spec.name,
        spec.seeds.clone(),
        spec.data.clone(),
        spec.poison.clone(),
        spec.kernel.clone(),
        path,
    )?;
    let n = plan.clean.iter().map(|s| s.train.n()).min().unwrap_or(0);
    if plan.clean.iter().any(|s| s.validation.is_none()) {
        return Err(bad(
            "data",
            "data with a validation split (influence is measured on it): a validation_fraction > 0 or a validation file",
            "no validation split".into(),
        ));
    }
    if let Some(m) = spec.sample {
        if m < 2 || m > n {
            return Err(bad("sample", &format!("None or a count in 2..={n} (the training points)"), m.to_string()));
        }
    }
    let measured = spec.sample.unwrap_or(n);
    if let Some(i) = spec.top_b.iter().position(|&b| b == 0 || b > measured) {
        return Err(bad(&format!("top_b[{i}]"), &format!("a count in 1..={measured}"), spec.top_b[i].to_string()));
    }
    if let AttackerSpec::RandomTopK(p) = &f.attacker {
        let pool = p.pool.unwrap_or(2 * p.k);
        if p.k > n || pool > n {
            return Err(bad(
                "floral.attacker",
                &format!("k <= pool <= {n} (the training points)"),
                format!("k = {}, pool = {pool}", p.k),
            ));
        }
    }
    let mut rounds: BTreeSet<usize> = spec.rounds.iter().copied().collect();
    rounds.insert(f.rounds);
    let canonical = ron::ser::to_string_pretty(&spec, ron::ser::PrettyConfig::new().struct_names(true))
        .map_err(|e| ExperimentError::Run { what: "echo spec".into(), message: e.to_string() })?;
    let mut hashed = format!("{canonical}\n{}", plan.hash);
    hashed.push_str("\ninfluence");
    let hash = format!("{:x}", Sha256::digest(hashed.as_bytes()));
    Ok(InfluenceStudy { spec, plan, canonical, hash, rounds: rounds.into_iter().collect() })
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

/// One cell's measurements.
#[derive(Debug, Clone)]
struct CellResult {
    seed: u64,
    level: usize,
    n_train: usize,
    n_validation: usize,
    n_test: usize,
    base_hinge: f64,
    base_error: f64,
    /// Training indices whose label differs from the clean one.
    flipped: Vec<usize>,
    points: Vec<PointInfluence>,
    /// FLORAL's λ_i at each study round, for the measured points (round-major).
    floral: Vec<Vec<f64>>,
    floral_rounds_played: usize,
}

impl CellResult {
    fn col(&self, f: impl Fn(&PointInfluence) -> f64) -> Vec<f64> {
        self.points.iter().map(f).collect()
    }
    fn floral_last(&self) -> Vec<f64> {
        self.floral.last().cloned().unwrap_or_default()
    }
}

/// The exact influence measures, by name, as magnitudes (a point is influential when its change
/// moves the model, in either direction).
type Measure = (&'static str, fn(&PointInfluence) -> f64);

const MEASURES: &[Measure] = &[
    ("flip: |Δ val hinge|", |p| p.flip_val_hinge_delta.abs()),
    ("flip: |Δ val error|", |p| p.flip_val_error_delta.abs()),
    ("flip: mean |Δf| on test", |p| p.flip_test_df),
    ("removal: |Δ val hinge|", |p| p.loo_val_hinge_delta.abs()),
    ("removal: mean |Δf| on test", |p| p.loo_test_df),
];

/// The headline ground truth: |Δ validation hinge| when the label is flipped.
fn truth(p: &PointInfluence) -> f64 {
    p.flip_val_hinge_delta.abs()
}

fn first_order(p: &PointInfluence) -> f64 {
    p.first_order_flip_val_hinge_delta.abs()
}

fn run_err(what: &str, e: impl std::fmt::Display) -> ExperimentError {
    ExperimentError::Run { what: what.to_string(), message: e.to_string() }
}

impl InfluenceStudy {
    fn n_cells(&self) -> usize {
        self.spec.seeds.len() * self.plan.levels.len()
    }

    fn run_cell(
        &self,
        si: usize,
        li: usize,
        split: &Split,
        kernels: &SplitKernels,
        cache: &mut Vec<(Labels, Vec<usize>, Arc<floral_svm::Influence>)>,
    ) -> Result<CellResult, ExperimentError> {
        let seed = self.spec.seeds[si];
        let what = format!("influence / {} / seed {seed}", self.plan.poison_names[li]);
        let train = &split.train;
        let n = train.n();
        let indices: Vec<usize> = match self.spec.sample {
            Some(m) => {
                let mut v = sample(&mut stream(seed, Stream::Analysis), n, m).into_vec();
                v.sort_unstable();
                v
            }
            None => (0..n).collect(),
        };
        let flipped = match &split.train_clean {
            Some(clean) => clean.diff(train.y()).map_err(|e| run_err(&what, e))?,
            None => Vec::new(),
        };
        // Identical labels and points (a shipped set, a deterministic poisoner) give identical
        // influence: reuse it.
        let hit = cache.iter().find(|(y, idx, _)| y == train.y() && *idx == indices).map(|c| c.2.clone());
        let inf = match hit {
            Some(inf) => inf,
            None => {
                let Some(kv) = kernels.validation.as_ref() else {
                    return Err(run_err(&what, "no validation split"));
                };
                let Some(val) = split.validation.as_ref() else {
                    return Err(run_err(&what, "no validation split"));
                };
                let sets =
                    InfluenceSets { validation: kv.as_ref(), validation_labels: val.y(), test: kernels.test.as_ref() };
                let params =
                    InfluenceParams { c: self.spec.c, warm_start: self.spec.warm_start, smo: SmoParams::default() };
                let inf = Arc::new(
                    floral_svm::influence(&kernels.train, train.y(), &sets, &params, &indices)
                        .map_err(|e| run_err(&what, e))?,
                );
                cache.push((train.y().clone(), indices.clone(), inf.clone()));
                inf
            }
        };
        // FLORAL on the cell's labels.
        let f = &self.spec.floral;
        let (factory, budget) = crate::registry::attacker(&f.attacker)?;
        let mut attacker = factory().map_err(|e| run_err(&what, e))?;
        let projector = crate::registry::projector(&f.projector)?;
        let mut learner = FloralLearner::new(f.learner.clone(), projector).map_err(|e| run_err(&what, e))?;
        let params = GameParams {
            rounds: f.rounds,
            budget,
            unattacked_rounds: f.unattacked_rounds,
            tol: None,
            diverge_above: 1e12,
        };
        let mut q = floral_svm::SignedGram::new(kernels.train.clone(), train.y()).map_err(|e| run_err(&what, e))?;
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
        .map_err(|e| run_err(&what, e))?;
        let mut floral: Vec<Vec<f64>> = obs.got.iter().map(|lam| indices.iter().map(|&i| lam[i]).collect()).collect();
        // A game stopped early: its last λ stands for the rounds not reached.
        while floral.len() < self.rounds.len() {
            floral.push(indices.iter().map(|&i| out.lambda[i]).collect());
        }
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
            floral_rounds_played: out.rounds_played,
        })
    }

    fn execute(&self, progress: &(dyn Fn(&str) + Sync)) -> Result<Vec<CellResult>, ExperimentError> {
        let mut cells = Vec::with_capacity(self.n_cells());
        for group in &self.plan.groups {
            let Some(&first) = group.first() else { continue };
            let kernels = SplitKernels::new(self.plan.kernel.as_ref(), &self.plan.clean[first]);
            let mut cache = Vec::new();
            for &si in group {
                for (li, level) in self.plan.levels.iter().enumerate() {
                    let split = crate::run::poisoned_split(&self.plan, level, si, &kernels)?;
                    cells.push(self.run_cell(si, li, &split, &kernels, &mut cache)?);
                    progress(&format!("{} / seed {}", self.plan.poison_names[li], self.spec.seeds[si]));
                }
            }
        }
        cells.sort_by_key(|c| (c.level, self.spec.seeds.iter().position(|&s| s == c.seed)));
        Ok(cells)
    }
}

/// An owned paired statistic (a top-B overlap for one B).
type BoxedStat = Box<dyn Fn(&[f64], &[f64]) -> f64 + Sync>;

/// One bootstrapped statistic of a poison level.
struct Stat<'a> {
    level: usize,
    groups: Vec<(Vec<f64>, Vec<f64>)>,
    f: PairStat<'a>,
    /// Resample points within seeds (false for set statistics: seeds only).
    points: bool,
}

fn estimate_all(stats: &[Stat<'_>], resamples: usize, first_seed: u64) -> Vec<Estimate> {
    stats
        .par_iter()
        .enumerate()
        .map(|(k, s)| {
            let mut rng = stream(first_seed.wrapping_add(0x1f1_u64.wrapping_mul(k as u64 + 1)), Stream::Analysis);
            bootstrap(&s.groups, s.f, resamples, s.points, &mut rng)
        })
        .collect()
}

fn ci_cell(e: &Estimate, with_ci: bool) -> Cell {
    if with_ci {
        Cell::Text(format!("{} [{}, {}]", fmt_num(e.value), fmt_num(e.lo), fmt_num(e.hi)))
    } else {
        Cell::Num(e.value)
    }
}

fn est_json(e: &Estimate) -> Value {
    json!({ "value": e.value, "lo": e.lo, "hi": e.hi })
}

impl Study for InfluenceStudy {
    fn kind(&self) -> &'static str {
        "Influence"
    }
    fn name(&self) -> &str {
        &self.spec.name
    }
    fn jobs(&self) -> usize {
        self.n_cells()
    }
    fn describe(&self) -> Vec<String> {
        let n = self.plan.clean.first().map_or(0, |s| s.train.n());
        vec![
            format!(
                "{} poison levels × {} seeds = {} cells; {} training points measured per cell (2 retrains each)",
                self.plan.levels.len(),
                self.spec.seeds.len(),
                self.n_cells(),
                self.spec.sample.unwrap_or(n)
            ),
            format!("estimated peak memory {}", self.plan.memory.describe()),
        ]
    }
    fn hash(&self) -> Option<&str> {
        Some(&self.hash)
    }

    fn run(&self, progress: &(dyn Fn(&str) + Sync)) -> Result<StudyOutput, ExperimentError> {
        let cells = self.execute(progress)?;
        Ok(self.render(&cells))
    }
}

/// The per-level bootstrapped numbers the report and the answer use.
struct LevelNumbers {
    /// [measure][score: svm, floral] → (spearman, kendall).
    corr: Vec<[(Estimate, Estimate); 2]>,
    /// Spearman and Kendall of the first-order estimate with the exact flip hinge change.
    first_vs_exact: (Estimate, Estimate),
    /// [B] → (svm λ, floral λ, first-order) overlap with the truth's top-B.
    overlap: Vec<[Estimate; 3]>,
    /// [study round] → Spearman of FLORAL's λ with the truth.
    rounds: Vec<Estimate>,
    /// Poisoned levels: Spearman of SVM λ with the truth on clean-label / flipped points, mean
    /// λ and mean truth on each (None when too few flipped points).
    split: Option<SplitNumbers>,
    /// (B, the mean over seeds of the fraction of the top-B points by the truth that are not
    /// support vectors of the SVM, λ = 0).
    top_non_sv: (usize, f64),
}

struct SplitNumbers {
    n_flipped: f64,
    corr_clean: Estimate,
    corr_flipped: Estimate,
    lambda_clean: f64,
    lambda_flipped: f64,
    truth_clean: f64,
    truth_flipped: f64,
}

fn mean(v: &[f64]) -> f64 {
    if v.is_empty() { 0.0 } else { v.iter().sum::<f64>() / v.len() as f64 }
}

impl InfluenceStudy {
    #[allow(clippy::too_many_lines)]
    fn numbers(&self, cells: &[CellResult]) -> Vec<LevelNumbers> {
        let sp: PairStat<'_> = &spearman;
        let kt: PairStat<'_> = &kendall_tau_b;
        let overlap_fns: Vec<BoxedStat> =
            self.spec.top_b.iter().map(|&b| Box::new(move |a: &[f64], t: &[f64]| top_overlap(a, t, b)) as _).collect();
        let nl = self.plan.levels.len();
        let mut stats: Vec<Stat<'_>> = Vec::new();
        let of = |li: usize| cells.iter().filter(move |c| c.level == li);
        for li in 0..nl {
            for (_, m) in MEASURES {
                let svm: Vec<_> = of(li).map(|c| (c.col(|p| p.lambda), c.col(m))).collect();
                let fl: Vec<_> = of(li).map(|c| (c.floral_last(), c.col(m))).collect();
                for g in [svm, fl] {
                    stats.push(Stat { level: li, groups: g.clone(), f: sp, points: true });
                    stats.push(Stat { level: li, groups: g, f: kt, points: true });
                }
            }
            let fe: Vec<_> = of(li).map(|c| (c.col(first_order), c.col(truth))).collect();
            stats.push(Stat { level: li, groups: fe.clone(), f: sp, points: true });
            stats.push(Stat { level: li, groups: fe, f: kt, points: true });
            for o in &overlap_fns {
                for score in [0, 1, 2] {
                    let g: Vec<_> = of(li)
                        .map(|c| {
                            let s = match score {
                                0 => c.col(|p| p.lambda),
                                1 => c.floral_last(),
                                _ => c.col(first_order),
                            };
                            (s, c.col(truth))
                        })
                        .collect();
                    stats.push(Stat { level: li, groups: g, f: o.as_ref(), points: false });
                }
            }
            for r in 0..self.rounds.len() {
                let g: Vec<_> = of(li).map(|c| (c.floral[r].clone(), c.col(truth))).collect();
                stats.push(Stat { level: li, groups: g, f: sp, points: true });
            }
            // Clean-label vs flipped points.
            let mut clean_g = Vec::new();
            let mut flip_g = Vec::new();
            for c in of(li) {
                let is_flipped: Vec<bool> =
                    c.points.iter().map(|p| c.flipped.binary_search(&p.index).is_ok()).collect();
                let pick = |want: bool| -> (Vec<f64>, Vec<f64>) {
                    c.points
                        .iter()
                        .zip(&is_flipped)
                        .filter(|(_, f)| **f == want)
                        .map(|(p, _)| (p.lambda, truth(p)))
                        .unzip()
                };
                clean_g.push(pick(false));
                let fl = pick(true);
                if fl.0.len() >= 3 {
                    flip_g.push(fl);
                }
            }
            stats.push(Stat { level: li, groups: clean_g, f: sp, points: true });
            stats.push(Stat { level: li, groups: flip_g, f: sp, points: true });
        }
        let est = estimate_all(&stats, self.spec.bootstrap, self.spec.seeds[0]);
        let per_level = est.len() / nl.max(1);
        debug_assert!(stats.iter().enumerate().all(|(k, s)| s.level == k / per_level));
        (0..nl)
            .map(|li| {
                let mut it = est[li * per_level..(li + 1) * per_level].iter().copied();
                let mut next = || it.next().unwrap_or(Estimate { value: 0.0, lo: 0.0, hi: 0.0 });
                let corr = MEASURES.iter().map(|_| [(next(), next()), (next(), next())]).collect();
                let first_vs_exact = (next(), next());
                let overlap = self.spec.top_b.iter().map(|_| [next(), next(), next()]).collect();
                let rounds = self.rounds.iter().map(|_| next()).collect();
                let corr_clean = next();
                let corr_flipped = next();
                let level_cells: Vec<&CellResult> = of(li).collect();
                let n_flipped = mean(&level_cells.iter().map(|c| c.flipped.len() as f64).collect::<Vec<_>>());
                let split = (n_flipped > 0.0).then(|| {
                    let (mut lc, mut lf, mut tc, mut tf) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
                    for c in &level_cells {
                        for p in &c.points {
                            if c.flipped.binary_search(&p.index).is_ok() {
                                lf.push(p.lambda);
                                tf.push(truth(p));
                            } else {
                                lc.push(p.lambda);
                                tc.push(truth(p));
                            }
                        }
                    }
                    SplitNumbers {
                        n_flipped,
                        corr_clean,
                        corr_flipped,
                        lambda_clean: mean(&lc),
                        lambda_flipped: mean(&lf),
                        truth_clean: mean(&tc),
                        truth_flipped: mean(&tf),
                    }
                });
                let b = self.spec.top_b[self.spec.top_b.len() / 2];
                let fr: Vec<f64> = level_cells
                    .iter()
                    .map(|c| {
                        let t = c.col(truth);
                        let top = crate::stats::top_indices(&t, b);
                        top.iter().filter(|&&k| c.points[k].lambda == 0.0).count() as f64 / b.max(1) as f64
                    })
                    .collect();
                LevelNumbers { corr, first_vs_exact, overlap, rounds, split, top_non_sv: (b, mean(&fr)) }
            })
            .collect()
    }

    #[allow(clippy::too_many_lines)]
    fn render(&self, cells: &[CellResult]) -> StudyOutput {
        let nums = self.numbers(cells);
        let names = &self.plan.poison_names;
        let s = &self.spec;
        let with_ci = s.bootstrap > 0;
        let first = cells.first();
        let n_train = first.map_or(0, |c| c.n_train);
        let measured = first.map_or(0, |c| c.points.len());
        let mut doc = Document::new(format!("Influence study: {}", s.name));
        if !s.description.is_empty() {
            doc.push(Block::Paragraph(s.description.clone()));
        }
        doc.push(Block::Heading { level: 2, text: "Question".into() });
        doc.push(Block::Paragraph(
            "FLORAL's attacker flips the labels of the support vectors with the largest dual variables λ_i, on the \
             premise that a large λ_i marks a point that moves the decision boundary. Does it? For every training \
             point we measure its actual influence by exact retraining and compare the rankings."
                .into(),
        ));
        doc.push(Block::Heading { level: 2, text: "Setup".into() });
        let fl = &s.floral;
        doc.push(Block::List(vec![
            format!(
                "Data: {} training, {} validation, {} test points per cell; {} seeds × {} poison levels ({}).",
                n_train,
                first.map_or(0, |c| c.n_validation),
                first.map_or(0, |c| c.n_test),
                s.seeds.len(),
                names.len(),
                names.join(", ")
            ),
            format!(
                "λ: the dual variables of the SVM (exact SMO, C = {}) trained on the cell's training labels; \
                 FLORAL's λ: the learner's λ_i after round {} of the game `{}` ({} rounds, η = {}, C = {}) played on \
                 the same labels.",
                fmt_num(s.c),
                fl.rounds,
                fl.name,
                fl.rounds,
                fmt_num(fl.learner.eta),
                fmt_num(fl.learner.c)
            ),
            format!(
                "Influence of point i ({} of the {} training points per cell{}): retrain the SVM (same C and kernel) \
                 with y_i flipped, or with point i removed, warm-started from the base solution{}; the change of the \
                 mean validation hinge loss and 0-1 error, and the mean |Δf| over the test points. The headline \
                 ground truth is |Δ validation hinge| under the flip. The first-order estimate linearises the KKT \
                 system on the free set (`proofs/influence.md`).",
                measured,
                n_train,
                if s.sample.is_some() { ", a seeded sample" } else { "" },
                if s.warm_start { "" } else { " (here: cold, from λ = 0)" }
            ),
            "Budgets: no method is selected on data here; the validation split (clean labels) is used only to \
             measure influence, and no trusted data enters λ or FLORAL."
                .into(),
            format!(
                "Intervals: [lo, hi] are 95% percentile intervals of a two-level bootstrap ({} replicates): the \
                 seeds are resampled, then the points within each seed (top-B overlaps: the seeds only, as a \
                 top-B set is not defined on a sample with repeated points); a value is the mean over seeds of \
                 the per-seed statistic. Seeds vary {}.",
                s.bootstrap,
                match s.data {
                    DataSpec::Shipped { validation_fraction, .. } if validation_fraction > 0.0 => {
                        "the validation split drawn from the training sheet, the poisoner's draws and FLORAL's attacker"
                    }
                    DataSpec::Moons { .. } | DataSpec::GaussianMixture { .. } => {
                        "the data draw and split, the poisoner's draws and FLORAL's attacker"
                    }
                    _ if s.poison.iter().all(|p| matches!(p, PoisonSpec::Clean | PoisonSpec::Sheet(_))) => {
                        "FLORAL's attacker only (the data and the poisoned sheets are fixed, so the SVM's numbers are \
                         the same for every seed)"
                    }
                    _ => "the poisoner's draws and FLORAL's attacker (the data are fixed)",
                }
            ),
            "Baselines: a random ranking (expected overlap B/n, expected correlation 0) and the cheap first-order \
             estimate used as a score."
                .into(),
        ]));

        // Correlation table.
        doc.push(Block::Heading { level: 2, text: "Rank correlations".into() });
        let mut rows = Vec::new();
        for (li, ln) in nums.iter().enumerate() {
            for (mi, (mname, _)) in MEASURES.iter().enumerate() {
                let [(a, b), (c, d)] = &ln.corr[mi];
                rows.push(vec![
                    Cell::Text(names[li].clone()),
                    Cell::Text((*mname).into()),
                    ci_cell(a, with_ci),
                    ci_cell(b, with_ci),
                    ci_cell(c, with_ci),
                    ci_cell(d, with_ci),
                ]);
            }
            rows.push(vec![
                Cell::Text(names[li].clone()),
                Cell::Text("first-order estimate vs exact flip |Δ val hinge|".into()),
                ci_cell(&ln.first_vs_exact.0, with_ci),
                ci_cell(&ln.first_vs_exact.1, with_ci),
                Cell::Missing,
                Cell::Missing,
            ]);
        }
        doc.push(Block::Table(Table {
            caption: Some("Spearman ρ and Kendall τ-b between a score and an influence measure (magnitudes).".into()),
            headers: vec![
                "poison".into(),
                "influence measure".into(),
                "ρ (SVM λ)".into(),
                "τ-b (SVM λ)".into(),
                "ρ (FLORAL λ)".into(),
                "τ-b (FLORAL λ)".into(),
            ],
            rows,
        }));

        // Overlap.
        doc.push(Block::Heading { level: 2, text: "Top-B overlap".into() });
        let mut rows = Vec::new();
        for (li, ln) in nums.iter().enumerate() {
            for (bi, &b) in s.top_b.iter().enumerate() {
                let [a, f, o] = &ln.overlap[bi];
                rows.push(vec![
                    Cell::Text(names[li].clone()),
                    b.into(),
                    ci_cell(a, with_ci),
                    ci_cell(f, with_ci),
                    ci_cell(o, with_ci),
                    Cell::Num(b as f64 / measured.max(1) as f64),
                ]);
            }
        }
        doc.push(Block::Table(Table {
            caption: Some(
                "|top-B by score ∩ top-B by flip |Δ val hinge|| / B; the random ranking's expectation is B/n.".into(),
            ),
            headers: vec![
                "poison".into(),
                "B".into(),
                "SVM λ".into(),
                "FLORAL λ".into(),
                "first-order".into(),
                "random".into(),
            ],
            rows,
        }));
        let mut series = Vec::new();
        for (li, ln) in nums.iter().enumerate() {
            for (k, label) in [(0, "SVM λ"), (1, "FLORAL λ")] {
                series.push(Series {
                    name: format!("{label}, {}", names[li]),
                    points: s.top_b.iter().zip(&ln.overlap).map(|(&b, o)| (b as f64, o[k].value)).collect(),
                    band: with_ci
                        .then(|| s.top_b.iter().zip(&ln.overlap).map(|(&b, o)| (b as f64, o[k].lo, o[k].hi)).collect()),
                });
            }
        }
        series.push(Series {
            name: "random (B/n)".into(),
            points: s.top_b.iter().map(|&b| (b as f64, b as f64 / measured.max(1) as f64)).collect(),
            band: None,
        });
        doc.push(Block::Figure(Figure {
            file: "overlap_vs_b.svg".into(),
            caption: "Top-B overlap of λ with the flip influence, against B".into(),
            plot: Plot::Lines(LinePlot {
                title: "top-B overlap with flip |Δ val hinge|".into(),
                x_label: "B".into(),
                y_label: "overlap".into(),
                series,
                y_range: Some((0.0, 1.0)),
            }),
        }));

        // Along FLORAL's rounds.
        doc.push(Block::Heading { level: 2, text: "Along FLORAL's rounds".into() });
        let mut rows = Vec::new();
        for (li, ln) in nums.iter().enumerate() {
            let mut row = vec![Cell::Text(names[li].clone())];
            row.extend(ln.rounds.iter().map(|e| ci_cell(e, with_ci)));
            rows.push(row);
        }
        let mut headers = vec!["poison".to_string()];
        headers.extend(self.rounds.iter().map(|r| format!("round {r}")));
        doc.push(Block::Table(Table {
            caption: Some("Spearman ρ between FLORAL's λ at a round and the flip |Δ val hinge|.".into()),
            headers,
            rows,
        }));
        doc.push(Block::Figure(Figure {
            file: "rounds.svg".into(),
            caption: "Spearman ρ of FLORAL's λ with the flip influence along the rounds".into(),
            plot: Plot::Lines(LinePlot {
                title: "ρ(FLORAL λ at round t, flip |Δ val hinge|)".into(),
                x_label: "round".into(),
                y_label: "Spearman ρ".into(),
                series: nums
                    .iter()
                    .enumerate()
                    .map(|(li, ln)| Series {
                        name: names[li].clone(),
                        points: self.rounds.iter().zip(&ln.rounds).map(|(&r, e)| (r as f64, e.value)).collect(),
                        band: with_ci.then(|| {
                            self.rounds.iter().zip(&ln.rounds).map(|(&r, e)| (r as f64, e.lo, e.hi)).collect()
                        }),
                    })
                    .collect(),
                y_range: None,
            }),
        }));

        // Clean vs flipped labels.
        if nums.iter().any(|n| n.split.is_some()) {
            doc.push(Block::Heading { level: 2, text: "Clean and poisoned labels".into() });
            let rows = nums
                .iter()
                .enumerate()
                .filter_map(|(li, ln)| {
                    let sp = ln.split.as_ref()?;
                    Some(vec![
                        Cell::Text(names[li].clone()),
                        Cell::Num(sp.n_flipped),
                        Cell::Num(sp.lambda_clean),
                        Cell::Num(sp.lambda_flipped),
                        Cell::Num(sp.truth_clean),
                        Cell::Num(sp.truth_flipped),
                        ci_cell(&sp.corr_clean, with_ci),
                        ci_cell(&sp.corr_flipped, with_ci),
                    ])
                })
                .collect();
            doc.push(Block::Table(Table {
                caption: Some(
                    "Points whose training label is clean vs flipped by the poisoner: mean SVM λ, mean flip \
                     |Δ val hinge|, and Spearman ρ of SVM λ with it within each group (flipped: seeds with ≥ 3 such \
                     points measured)."
                        .into(),
                ),
                headers: vec![
                    "poison".into(),
                    "flipped labels (mean per seed)".into(),
                    "mean λ, clean".into(),
                    "mean λ, flipped".into(),
                    "mean influence, clean".into(),
                    "mean influence, flipped".into(),
                    "ρ within clean".into(),
                    "ρ within flipped".into(),
                ],
                rows,
            }));
        }

        // Scatter plots (first seed of each level).
        doc.push(Block::Heading { level: 2, text: "λ against influence".into() });
        for (li, name) in names.iter().enumerate() {
            let Some(c) = cells.iter().find(|c| c.level == li) else { continue };
            let pts: Vec<(f64, f64, f64, bool)> = c
                .points
                .iter()
                .map(|p| (p.lambda, p.flip_val_hinge_delta, 0.0, c.flipped.binary_search(&p.index).is_ok()))
                .collect();
            let range = |v: &mut dyn Iterator<Item = f64>| {
                let (lo, hi) = v.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(x), b.max(x)));
                let pad = ((hi - lo) * 0.05).max(1e-9);
                (lo - pad, hi + pad)
            };
            let x_range = range(&mut pts.iter().map(|p| p.0));
            let y_range = range(&mut pts.iter().map(|p| p.1));
            let labels: Vec<f64> = c.points.iter().map(|p| self.train_label(c, p.index)).collect();
            doc.push(Block::Figure(Figure {
                file: format!("scatter_{li}.svg"),
                caption: format!("SVM λ_i against the flip Δ val hinge, {name}, seed {}", c.seed),
                plot: Plot::Decision(DecisionPlot {
                    title: format!("λ vs flip Δ val hinge ({name}, seed {})", c.seed),
                    x_range,
                    y_range,
                    grid: Vec::new(),
                    points: pts
                        .iter()
                        .zip(&labels)
                        .map(|(p, &l)| PlotPoint { x: p.0, y: p.1, label: l, highlighted: p.3 })
                        .collect(),
                    x_label: "SVM λ_i".into(),
                    y_label: "Δ validation hinge when y_i is flipped".into(),
                    highlight_label: "label flipped by the poisoner".into(),
                }),
            }));
        }

        // Answer.
        doc.push(Block::Heading { level: 2, text: "Answer".into() });
        doc.push(Block::List(self.answer(&nums)));
        doc.push(Block::Heading { level: 2, text: "Limits".into() });
        doc.push(Block::List(vec![
            "Influence is measured one point at a time; FLORAL's attacker flips k points together, and joint \
             effects are not captured."
                .into(),
            "The ground truth is the SVM retrained with the study's C and kernel; FLORAL's λ comes from a \
             different learner (projected gradient steps on an attacked game), so its correlation mixes the \
             two questions 'is FLORAL's λ close to the SVM's' and 'does the SVM's λ track influence'."
                .into(),
            "Retrains stop at SMO's tolerance 1e-3; influence differences below that scale are noise.".into(),
            "The first-order estimate holds the free set fixed; a flip usually changes it, so the estimate is a \
             ranking heuristic, exact only in the small-step limit (`proofs/influence.md`)."
                .into(),
        ]));
        doc.push(Block::Heading { level: 2, text: "Specification".into() });
        doc.push(Block::Paragraph(format!("Content hash `{}`.", self.hash)));
        doc.push(Block::Code { lang: "ron".into(), text: self.canonical.clone() });

        let results = self.results_json(cells, &nums);
        let summary = nums
            .iter()
            .enumerate()
            .map(|(li, ln)| {
                format!(
                    "{:<16} Spearman(SVM λ, flip |Δ val hinge|) {}  (FLORAL λ {})",
                    names[li],
                    fmt_num(ln.corr[0][0].0.value),
                    fmt_num(ln.corr[0][1].0.value)
                )
            })
            .collect();
        StudyOutput { document: doc, results, summary, warnings: Vec::new() }
    }

    fn train_label(&self, c: &CellResult, i: usize) -> f64 {
        let si = self.spec.seeds.iter().position(|&s| s == c.seed).unwrap_or(0);
        let clean = self.plan.clean[si].train.y().get(i);
        if c.flipped.binary_search(&i).is_ok() { -clean } else { clean }
    }

    /// Sentences generated from the measured numbers.
    fn answer(&self, nums: &[LevelNumbers]) -> Vec<String> {
        let names = &self.plan.poison_names;
        let strength = |r: f64| match r.abs() {
            x if x >= 0.7 => "strong",
            x if x >= 0.4 => "moderate",
            x if x >= 0.2 => "weak",
            _ => "negligible",
        };
        let interval = |e: &Estimate| {
            if self.spec.bootstrap > 0 { format!(" [{}, {}]", fmt_num(e.lo), fmt_num(e.hi)) } else { String::new() }
        };
        let mut out = Vec::new();
        for (li, ln) in nums.iter().enumerate() {
            let svm = &ln.corr[0][0].0;
            let loo = &ln.corr[3][0].0;
            let flo = &ln.corr[0][1].0;
            let mut best = (0, f64::NEG_INFINITY);
            for (mi, c) in ln.corr.iter().enumerate() {
                if c[0].0.value > best.1 {
                    best = (mi, c[0].0.value);
                }
            }
            out.push(format!(
                "{}: the SVM's λ ranks points by their flip influence (|Δ validation hinge|) with Spearman ρ = {}{} \
                 ({}), and by their removal influence with ρ = {}{} ({}); FLORAL's final λ gives ρ = {}{} ({}). \
                 λ tracks '{}' best (ρ = {}).",
                names[li],
                fmt_num(svm.value),
                interval(svm),
                strength(svm.value),
                fmt_num(loo.value),
                interval(loo),
                strength(loo.value),
                fmt_num(flo.value),
                interval(flo),
                strength(flo.value),
                MEASURES[best.0].0,
                fmt_num(best.1)
            ));
            if let (Some(o), Some(&b)) = (ln.overlap.last(), self.spec.top_b.last()) {
                let n = self.spec.sample.unwrap_or_else(|| self.plan.clean.first().map_or(1, |s| s.train.n()));
                out.push(format!(
                    "{}: of the top {} points by flip influence, the top {} by SVM λ recover a fraction {} (random: \
                     {}), by FLORAL's λ {}, by the first-order estimate {}; the first-order estimate ranks like the \
                     exact flip with ρ = {}.",
                    names[li],
                    b,
                    b,
                    fmt_num(o[0].value),
                    fmt_num(b as f64 / n.max(1) as f64),
                    fmt_num(o[1].value),
                    fmt_num(o[2].value),
                    fmt_num(ln.first_vs_exact.0.value)
                ));
            }
            out.push(format!(
                "{}: of the top {} points by flip influence, a fraction {} are not support vectors (λ = 0): their \
                 flip turns a confidently classified point into an outlier, which λ cannot see.",
                names[li],
                ln.top_non_sv.0,
                fmt_num(ln.top_non_sv.1)
            ));
            if let Some(sp) = &ln.split {
                out.push(format!(
                    "{}: points with flipped labels have mean λ {} vs {} for clean labels, and mean flip influence \
                     {} vs {}; within the clean-label points ρ = {}.",
                    names[li],
                    fmt_num(sp.lambda_flipped),
                    fmt_num(sp.lambda_clean),
                    fmt_num(sp.truth_flipped),
                    fmt_num(sp.truth_clean),
                    fmt_num(sp.corr_clean.value)
                ));
            }
        }
        if let (Some(f), Some(l)) = (nums.first(), nums.last()) {
            if nums.len() > 1 {
                let (a, b) = (f.corr[0][0].0.value, l.corr[0][0].0.value);
                out.push(format!(
                    "From {} to {}, ρ(SVM λ, flip influence) goes from {} to {} ({}).",
                    names[0],
                    names[nums.len() - 1],
                    fmt_num(a),
                    fmt_num(b),
                    if b < a { "weaker with poisoning" } else { "not weaker with poisoning" }
                ));
            }
            let r = &f.rounds;
            if let (Some(r0), Some(r1)) = (r.first(), r.last()) {
                if r.len() > 1 {
                    out.push(format!(
                        "Along FLORAL's rounds ({}), ρ(FLORAL λ, flip influence) moves from {} at round {} to {} at \
                         round {}.",
                        names[0],
                        fmt_num(r0.value),
                        self.rounds[0],
                        fmt_num(r1.value),
                        self.rounds[self.rounds.len() - 1]
                    ));
                }
            }
        }
        out
    }

    fn results_json(&self, cells: &[CellResult], nums: &[LevelNumbers]) -> Value {
        let names = &self.plan.poison_names;
        let cells_json: Vec<Value> = cells
            .iter()
            .map(|c| {
                let last = c.floral_last();
                let points: Vec<Value> = c
                    .points
                    .iter()
                    .enumerate()
                    .map(|(k, p)| {
                        json!({
                            "index": p.index,
                            "lambda": p.lambda,
                            "floral_lambda": last.get(k).copied().unwrap_or(0.0),
                            "label_flipped": c.flipped.binary_search(&p.index).is_ok(),
                            "flip_val_hinge_delta": p.flip_val_hinge_delta,
                            "flip_val_error_delta": p.flip_val_error_delta,
                            "flip_test_mean_abs_df": p.flip_test_df,
                            "loo_val_hinge_delta": p.loo_val_hinge_delta,
                            "loo_val_error_delta": p.loo_val_error_delta,
                            "loo_test_mean_abs_df": p.loo_test_df,
                            "first_order_flip_val_hinge_delta": p.first_order_flip_val_hinge_delta,
                            "first_order_flip_test_mean_abs_df": p.first_order_flip_test_df,
                        })
                    })
                    .collect();
                let floral_rounds: Vec<Value> =
                    self.rounds.iter().zip(&c.floral).map(|(r, lam)| json!({ "round": r, "lambda": lam })).collect();
                json!({
                    "seed": c.seed,
                    "poison": names[c.level],
                    "n_train": c.n_train,
                    "n_validation": c.n_validation,
                    "n_test": c.n_test,
                    "base_val_hinge": c.base_hinge,
                    "base_val_error": c.base_error,
                    "flipped": c.flipped,
                    "floral_rounds_played": c.floral_rounds_played,
                    "floral_lambda_at_rounds": floral_rounds,
                    "points": points,
                })
            })
            .collect();
        let levels: Vec<Value> = nums
            .iter()
            .enumerate()
            .map(|(li, ln)| {
                let corr: Vec<Value> = MEASURES
                    .iter()
                    .zip(&ln.corr)
                    .map(|((m, _), c)| {
                        json!({
                            "measure": m,
                            "svm_lambda": { "spearman": est_json(&c[0].0), "kendall": est_json(&c[0].1) },
                            "floral_lambda": { "spearman": est_json(&c[1].0), "kendall": est_json(&c[1].1) },
                        })
                    })
                    .collect();
                let overlap: Vec<Value> = self
                    .spec
                    .top_b
                    .iter()
                    .zip(&ln.overlap)
                    .map(|(b, o)| {
                        json!({ "b": b, "svm_lambda": est_json(&o[0]), "floral_lambda": est_json(&o[1]), "first_order": est_json(&o[2]) })
                    })
                    .collect();
                let rounds: Vec<Value> = self
                    .rounds
                    .iter()
                    .zip(&ln.rounds)
                    .map(|(r, e)| json!({ "round": r, "spearman": est_json(e) }))
                    .collect();
                json!({
                    "poison": names[li],
                    "correlations": corr,
                    "first_order_vs_exact": { "spearman": est_json(&ln.first_vs_exact.0), "kendall": est_json(&ln.first_vs_exact.1) },
                    "overlap": overlap,
                    "top_b_by_flip_influence_non_sv": { "b": ln.top_non_sv.0, "fraction": ln.top_non_sv.1 },
                    "rounds": rounds,
                    "clean_vs_flipped": ln.split.as_ref().map(|sp| json!({
                        "n_flipped_mean": sp.n_flipped,
                        "mean_lambda_clean": sp.lambda_clean,
                        "mean_lambda_flipped": sp.lambda_flipped,
                        "mean_influence_clean": sp.truth_clean,
                        "mean_influence_flipped": sp.truth_flipped,
                        "spearman_clean": est_json(&sp.corr_clean),
                        "spearman_flipped": est_json(&sp.corr_flipped),
                    })),
                })
            })
            .collect();
        json!({
            "kind": "Influence",
            "name": self.spec.name,
            "hash": self.hash,
            "c": self.spec.c,
            "rounds": self.rounds,
            "top_b": self.spec.top_b,
            "bootstrap": self.spec.bootstrap,
            "levels": levels,
            "cells": cells_json,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = r#"Influence(
        name: "inf_test",
        seeds: [1, 2],
        data: Moons(n: 120, noise: 0.2, validation_fraction: 0.25, test_fraction: 0.25),
        poison: [Clean, RandomFlips(fraction: 0.1)],
        kernel: Rbf(gamma: 1.0),
        c: 1.0,
        floral: (
            name: "f",
            learner: (c: 1.0, eta: 0.05, schedule: Constant, init: Zero, bias: AllSupportVectors, sv_threshold: 1e-5),
            attacker: RandomTopK((k: 3, pool: Some(6))),
            rounds: 30,
            unattacked_rounds: 1,
        ),
        rounds: [1, 10],
        top_b: [3, 10],
        sample: Some(40),
        bootstrap: 50,
    )"#;

    fn load_small(text: &str) -> Result<Box<dyn Study>, ExperimentError> {
        crate::study::load(text, Path::new("inf.ron"))
    }

    #[test]
    fn a_small_study_runs_and_keeps_every_point() {
        let s = load_small(SMALL).unwrap();
        assert_eq!(s.kind(), "Influence");
        assert_eq!(s.jobs(), 4);
        let out = s.run(&|_| {}).unwrap();
        let cells = out.results["cells"].as_array().unwrap();
        assert_eq!(cells.len(), 4);
        for c in cells {
            let pts = c["points"].as_array().unwrap();
            assert_eq!(pts.len(), 40);
            for p in pts {
                for key in [
                    "index",
                    "lambda",
                    "floral_lambda",
                    "flip_val_hinge_delta",
                    "flip_val_error_delta",
                    "loo_val_hinge_delta",
                    "first_order_flip_val_hinge_delta",
                ] {
                    assert!(p[key].is_number(), "{key} missing in {p}");
                }
                // Removing a non-support vector changes nothing.
                if p["lambda"].as_f64() == Some(0.0) {
                    assert!(p["loo_val_hinge_delta"].as_f64().unwrap().abs() < 1e-6, "{p}");
                }
            }
            // The poisoned cells know their flipped labels (round(0.1 · n_train)).
            let n_train = c["n_train"].as_f64().unwrap();
            let want = if c["poison"] == "clean" { 0.0 } else { (0.1 * n_train).round() };
            assert_eq!(c["flipped"].as_array().unwrap().len() as f64, want);
        }
        // The summary correlations are recomputable from the points: seed 1, clean level.
        let c0 = &cells[0];
        let pts = c0["points"].as_array().unwrap();
        let lam: Vec<f64> = pts.iter().map(|p| p["lambda"].as_f64().unwrap()).collect();
        let t: Vec<f64> = pts.iter().map(|p| p["flip_val_hinge_delta"].as_f64().unwrap().abs()).collect();
        let r1 = spearman(&lam, &t);
        let c1 = &cells[1];
        assert_eq!(c1["poison"], c0["poison"]);
        let pts = c1["points"].as_array().unwrap();
        let lam: Vec<f64> = pts.iter().map(|p| p["lambda"].as_f64().unwrap()).collect();
        let t: Vec<f64> = pts.iter().map(|p| p["flip_val_hinge_delta"].as_f64().unwrap().abs()).collect();
        let r2 = spearman(&lam, &t);
        let v = out.results["levels"][0]["correlations"][0]["svm_lambda"]["spearman"]["value"].as_f64().unwrap();
        assert!((v - (r1 + r2) / 2.0).abs() < 1e-12, "{v} vs {r1}, {r2}");
        // Deterministic.
        let again = load_small(SMALL).unwrap().run(&|_| {}).unwrap();
        assert_eq!(again.results, out.results);
        assert!(floral_report::render_markdown(&out.document).contains("## Answer"));
    }

    #[test]
    fn bad_fields_are_named() {
        for (from, to, field) in [
            ("c: 1.0,", "c: -1.0,", "`c`"),
            ("top_b: [3, 10]", "top_b: [3, 50]", "top_b[1]"),
            ("rounds: [1, 10]", "rounds: [1, 31]", "rounds[1]"),
            ("sample: Some(40)", "sample: Some(1)", "sample"),
            ("validation_fraction: 0.25", "validation_fraction: 0.0", "data"),
        ] {
            let text = SMALL.replace(from, to);
            let e = load_small(&text).err().unwrap_or_else(|| panic!("{to} was accepted"));
            assert!(e.is_input_error(), "{e}");
            assert!(e.to_string().contains(field), "{to}: {e}");
        }
        let e = load_small(&SMALL.replace("top_b:", "top_bee:")).err().unwrap();
        assert!(e.to_string().contains("inf.ron"), "{e}");
    }
}
