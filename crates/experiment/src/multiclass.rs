//! The `Multiclass(...)` study: multi-class label poisoning on a multi-class data set, with the
//! one-vs-rest and one-vs-one SVMs and multi-class FLORAL (last and averaged outputs) compared
//! per poison level over seeds, and confusion matrices.
//!
//! Per seed: a random subsample of the training points (Data stream), one shared Gram matrix,
//! the cross-kernel to the test points; per poison level, the offline relabelling (its own
//! stream, [`crate::registry::poison_rng`]) and the four methods on the relabelled training
//! set. Runs are independent and collected in (seed, level) order, so results do not depend on
//! the thread count.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use floral_attack::{ConfusableTopK, ConfusableTopKParams, NewClass, random_relabels, targeted_relabels};
use floral_data::{ClassLabels, MulticlassData, RawData, Stream, stream};
use floral_defense::{MulticlassFloral, MulticlassFloralParams};
use floral_projection::{ExactParams, ExactProjector, Projector};
use floral_report::{
    Block, Cell, ColorScale, Document, Figure, HeatmapPlot, LinePlot, Plot, Series, Table, fmt_fixed, fmt_num,
};
use floral_svm::{Gram, SmoParams, confusion, cross_gram, fit_ovo, fit_ovr, multiclass_accuracy};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::spec::KernelSpec;
use crate::study::{Study, StudyOutput};
use crate::{ExperimentError, render::mean_std};

/// A `Multiclass(...)` file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename = "Multiclass")]
pub struct MulticlassSpec {
    /// Study name; the default output directory is `reports/<name>`.
    pub name: String,
    /// Free text shown under the title.
    #[serde(default)]
    pub description: String,
    /// Seeds (distinct, at least one); each draws the subsample, the poisoning and the attacker.
    pub seeds: Vec<u64>,
    /// Training data: a shipped sheet `name:sheet` (e.g. `mnist_5k:train`) or a LIBSVM file path
    /// (relative to the experiment file). Labels are integers, at least two classes.
    pub train: String,
    /// Test data, as `train`; its labels must be classes of the training data.
    pub test: String,
    /// Training points drawn uniformly without replacement per seed (None: all of them).
    #[serde(default)]
    pub train_points: Option<usize>,
    /// The kernel.
    pub kernel: KernelSpec,
    /// Box bound C > 0 of the SVM baselines (FLORAL's C is `floral.learner.c`).
    pub c: f64,
    /// Poison levels, in report order.
    pub poison: Vec<MulticlassPoison>,
    /// Multi-class FLORAL: the learners' parameters, rounds, budget k per round, averaging.
    pub floral: MulticlassFloralParams,
    /// The in-game attacker's pool size B (None: 2k).
    #[serde(default)]
    pub attacker_pool: Option<usize>,
    /// The in-game attacker's choice of new class.
    #[serde(default = "default_new_class")]
    pub attacker_new_class: NewClass,
}

fn default_new_class() -> NewClass {
    NewClass::MostConfusable
}

/// One poison level of a multi-class study (fractions of the training points used).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum MulticlassPoison {
    /// The labels as given.
    Clean,
    /// round(fraction·n) points drawn uniformly, each moved to a uniformly drawn other class.
    Random {
        /// In (0, 1].
        fraction: f64,
    },
    /// round(fraction·n) points drawn uniformly among the points of the source classes, each
    /// moved to its source's target.
    Targeted {
        /// In (0, 1].
        fraction: f64,
        /// (source, target) pairs of labels as written in the data file, e.g. `[(7, 1)]`.
        pairs: Vec<(i64, i64)>,
    },
}

/// A checked `Multiclass` study: the spec, the loaded data and the kernel.
pub struct MulticlassStudy {
    spec: MulticlassSpec,
    train: MulticlassData,
    test: MulticlassData,
    kernel: Arc<dyn floral_svm::Kernel>,
    /// Per level: its name and class-index pairs (targeted levels).
    levels: Vec<(String, Vec<(usize, usize)>)>,
    hash: String,
    canonical: String,
}

const METHODS: [&str; 4] = ["OvR SVM", "OvO SVM", "FLORAL (last)", "FLORAL (avg)"];

fn invalid(path: &Path, field: impl Into<String>, expected: impl Into<String>, got: impl ToString) -> ExperimentError {
    ExperimentError::invalid(path, field, expected, got)
}

fn level_name(p: &MulticlassPoison) -> String {
    match p {
        MulticlassPoison::Clean => "clean".into(),
        MulticlassPoison::Random { fraction } => format!("random {}%", fmt_num(fraction * 100.0)),
        MulticlassPoison::Targeted { fraction, .. } => format!("targeted {}%", fmt_num(fraction * 100.0)),
    }
}

fn load_data(spec: &str, base: &Path) -> Result<(RawData, PathBuf), ExperimentError> {
    let data_err = |source| ExperimentError::Data { path: base.to_path_buf(), source };
    if let Some((name, sheet)) = spec.split_once(':') {
        if floral_data::shipped::names().contains(&name) {
            let p = floral_data::shipped::sheet_path(name, sheet).map_err(data_err)?;
            return Ok((floral_data::shipped::load_sheet(name, sheet).map_err(data_err)?, p));
        }
    }
    let p = crate::plan::resolve_relative(base, spec);
    Ok((floral_data::read_libsvm(&p).map_err(data_err)?, p))
}

/// Parse and check a `Multiclass(...)` text.
///
/// # Errors
/// [`ExperimentError::Parse`] with line and column; [`ExperimentError::Invalid`] naming the
/// field; [`ExperimentError::Data`] for unreadable data.
pub fn load(text: &str, path: &Path) -> Result<Box<dyn Study>, ExperimentError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let spec: MulticlassSpec = ron::Options::default().from_str(text).map_err(|e| ExperimentError::Parse {
        path: path.to_path_buf(),
        line: e.span.start.line,
        col: e.span.start.col,
        message: e.code.to_string(),
    })?;
    Ok(Box::new(check(spec, path)?))
}

/// Check a parsed spec and load its data.
///
/// # Errors
/// As [`load`].
pub fn check(spec: MulticlassSpec, path: &Path) -> Result<MulticlassStudy, ExperimentError> {
    if spec.name.is_empty() || spec.name.contains(['/', '\\']) || spec.name.starts_with('.') {
        return Err(invalid(path, "name", "a non-empty name without path separators", &spec.name));
    }
    if spec.seeds.is_empty() {
        return Err(invalid(path, "seeds", "at least one seed", "[]"));
    }
    let mut seen = std::collections::BTreeSet::new();
    for (i, s) in spec.seeds.iter().enumerate() {
        if !seen.insert(*s) {
            return Err(invalid(path, format!("seeds[{i}]"), "distinct seeds", s));
        }
    }
    if !(spec.c.is_finite() && spec.c > 0.0) {
        return Err(invalid(path, "c", "a finite number > 0", spec.c));
    }
    if spec.poison.is_empty() {
        return Err(invalid(path, "poison", "at least one level (e.g. [Clean])", "[]"));
    }
    let kernel = crate::plan::build_kernel(path, &spec.kernel)?;
    let projector: Arc<dyn Projector> =
        Arc::new(ExactProjector::new(ExactParams::default()).map_err(|e| invalid(path, "projector", "valid", e))?);
    MulticlassFloral::new(spec.floral.clone(), projector)
        .map_err(|e| invalid(path, "floral", "valid multi-class FLORAL settings", e))?;
    if spec.floral.k == 0 {
        return Err(invalid(path, "floral.k", ">= 1", 0));
    }
    ConfusableTopK::new(ConfusableTopKParams {
        k: spec.floral.k,
        pool: spec.attacker_pool,
        sv_threshold: spec.floral.learner.sv_threshold,
        new_class: spec.attacker_new_class,
    })
    .map_err(|e| invalid(path, "attacker_pool", ">= floral.k", e))?;
    let (mut tr, tr_path) = load_data(&spec.train, path)?;
    let (mut te, te_path) = load_data(&spec.test, path)?;
    if tr.dim() != te.dim() {
        if tr.sparse && te.sparse {
            floral_data::align_dims(&mut tr, &mut te);
        } else {
            return Err(invalid(path, "test", format!("{} features as the training data", tr.dim()), te.dim()));
        }
    }
    let names = tr.classes();
    if names.len() < 2 {
        return Err(invalid(path, "train", "at least two classes", format!("{} class", names.len())));
    }
    let data_err = |p: &Path| {
        let p = p.to_path_buf();
        move |source| ExperimentError::Data { path: p.clone(), source }
    };
    let train = MulticlassData::from_raw(tr, &names, &tr_path).map_err(data_err(&tr_path))?;
    let test = MulticlassData::from_raw(te, &names, &te_path).map_err(data_err(&te_path))?;
    let n_used = match spec.train_points {
        Some(m) if m < 2 || m > train.n() => {
            return Err(invalid(path, "train_points", format!("2..={} (the training points)", train.n()), m));
        }
        Some(m) => m,
        None => train.n(),
    };
    let mut levels = Vec::new();
    for (li, p) in spec.poison.iter().enumerate() {
        let field = format!("poison[{li}]");
        let mut pairs = Vec::new();
        match p {
            MulticlassPoison::Clean => {}
            MulticlassPoison::Random { fraction } | MulticlassPoison::Targeted { fraction, .. } => {
                if !(fraction.is_finite() && *fraction > 0.0 && *fraction <= 1.0) {
                    return Err(invalid(path, format!("{field}.fraction"), "a number in (0, 1]", fraction));
                }
            }
        }
        if let MulticlassPoison::Targeted { fraction, pairs: ps } = p {
            if ps.is_empty() {
                return Err(invalid(path, format!("{field}.pairs"), "at least one (source, target) pair", "[]"));
            }
            for &(s, t) in ps {
                let find = |v: i64| names.iter().position(|&c| c == v);
                match (find(s), find(t)) {
                    (Some(a), Some(b)) if a != b && !pairs.iter().any(|&(x, _)| x == a) => pairs.push((a, b)),
                    _ => {
                        return Err(invalid(
                            path,
                            format!("{field}.pairs"),
                            format!("(source, target) pairs of distinct classes among {names:?}, each source once"),
                            format!("({s}, {t})"),
                        ));
                    }
                }
            }
            // The smallest source-class count over seeds is unknown before the draw; require the
            // budget to fit the expected count with a margin, and let the run report a shortfall.
            let budget = budget(*fraction, n_used);
            let share: usize = pairs.iter().map(|&(a, _)| train.y().counts()[a]).sum();
            let expected = share * n_used / train.n().max(1);
            if budget > expected {
                return Err(invalid(
                    path,
                    format!("{field}.fraction"),
                    format!("a budget within the source classes' ~{expected} points"),
                    format!("{budget} points"),
                ));
            }
        }
        let name = level_name(p);
        if levels.iter().any(|(n, _): &(String, _)| *n == name) {
            return Err(invalid(path, field, "distinct poison levels", name));
        }
        levels.push((name, pairs));
    }
    let canonical = ron::ser::to_string_pretty(&spec, ron::ser::PrettyConfig::new().struct_names(true))
        .map_err(|e| ExperimentError::Run { what: "echo spec".into(), message: e.to_string() })?;
    let mut hashed = canonical.clone();
    for p in [&tr_path, &te_path] {
        let bytes = std::fs::read(p).map_err(|source| ExperimentError::Io { path: p.clone(), source })?;
        hashed.push_str(&format!("\n{:x}", Sha256::digest(&bytes)));
    }
    let hash = format!("{:x}", Sha256::digest(hashed.as_bytes()));
    Ok(MulticlassStudy { spec, train, test, kernel, levels, hash, canonical })
}

fn budget(fraction: f64, n: usize) -> usize {
    // fraction ∈ (0, 1], so the product is in [0, n].
    (fraction * n as f64).round() as usize
}

/// One (seed, level) run: accuracy and test predictions per method, and FLORAL's budget use.
#[derive(Debug, Clone)]
struct Run {
    accuracy: [f64; 4],
    confusion: [Vec<Vec<usize>>; 4],
    flips: usize,
    max_relabelled: usize,
}

impl MulticlassStudy {
    fn n_used(&self) -> usize {
        self.spec.train_points.unwrap_or(self.train.n())
    }

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

    fn run_one(
        &self,
        seed: u64,
        li: usize,
        y: &ClassLabels,
        gram: &Arc<Gram>,
        kc: &faer::Mat<f64>,
    ) -> Result<Run, ExperimentError> {
        let what = format!("{} / seed {seed}", self.levels[li].0);
        let err = |e: &dyn std::fmt::Display| ExperimentError::Run { what: what.clone(), message: e.to_string() };
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
        let fit = game.fit(gram, &yp, &mut attacker, &mut stream(seed, Stream::Attacker)).map_err(|e| err(&e))?;
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

    fn execute(&self, progress: &(dyn Fn(&str) + Sync)) -> Result<Vec<Vec<Run>>, ExperimentError> {
        let mut out = Vec::new();
        for &seed in &self.spec.seeds {
            let idx = self.subsample(seed);
            let sub = self.train.select(&idx);
            let gram = Arc::new(Gram::new(self.kernel.as_ref(), sub.x()));
            let kc = cross_gram(self.kernel.as_ref(), self.test.x(), sub.x());
            let runs: Vec<Result<Run, ExperimentError>> = (0..self.levels.len())
                .into_par_iter()
                .map(|li| {
                    let r = self.run_one(seed, li, sub.y(), &gram, &kc);
                    progress(&format!("seed {seed} / {}", self.levels[li].0));
                    r
                })
                .collect();
            out.push(runs.into_iter().collect::<Result<Vec<_>, _>>()?);
        }
        Ok(out)
    }
}

fn pct(v: f64) -> String {
    format!("{} %", fmt_fixed(100.0 * v, 1))
}

impl Study for MulticlassStudy {
    fn kind(&self) -> &'static str {
        "Multiclass"
    }
    fn name(&self) -> &str {
        &self.spec.name
    }
    fn jobs(&self) -> usize {
        self.spec.seeds.len() * self.levels.len()
    }
    fn describe(&self) -> Vec<String> {
        let n = self.n_used();
        vec![
            format!(
                "{} classes, {} of {} training points per seed, {} test points, {} features",
                self.train.y().n_classes(),
                n,
                self.train.n(),
                self.test.n(),
                self.train.dim()
            ),
            format!(
                "{} poison levels × {} seeds = {} runs of 4 methods; Gram {:.0} MiB per seed",
                self.levels.len(),
                self.spec.seeds.len(),
                self.jobs(),
                (n * n * 8) as f64 / 1048576.0
            ),
        ]
    }
    fn hash(&self) -> Option<&str> {
        Some(&self.hash)
    }

    fn run(&self, progress: &(dyn Fn(&str) + Sync)) -> Result<StudyOutput, ExperimentError> {
        let runs = self.execute(progress)?;
        let s = &self.spec;
        let n_seeds = s.seeds.len();
        let acc = |li: usize, m: usize| -> Vec<f64> { runs.iter().map(|r| r[li].accuracy[m]).collect() };
        let mut doc = Document::new(format!("{}: multi-class label poisoning and multi-class FLORAL", s.name));
        let question = "Under multi-class label flips, does multi-class FLORAL (one-vs-rest games on one kernel) keep more test accuracy than the plain one-vs-rest and one-vs-one SVMs trained on the received labels?";
        doc.push(Block::Paragraph(format!("**Question.** {question}")));
        if !s.description.is_empty() {
            doc.push(Block::Paragraph(s.description.clone()));
        }
        doc.push(Block::Heading { level: 2, text: "Setup".into() });
        let nu = self.n_used();
        let f = &s.floral;
        let lp = &f.learner;
        doc.push(Block::List(vec![
            format!(
                "Command: `floral run experiments/{}.ron --out reports/{}`; content hash `{}`; floral {}.",
                s.name,
                s.name,
                self.hash,
                env!("CARGO_PKG_VERSION")
            ),
            format!(
                "Data: train `{}` ({} points, {} classes, {} features), test `{}` ({} points, clean labels). Each seed draws {} of the {} training points uniformly without replacement.",
                s.train,
                self.train.n(),
                self.train.y().n_classes(),
                self.train.dim(),
                s.test,
                self.test.n(),
                nu,
                self.train.n()
            ),
            format!("Kernel: {:?}; SVM baselines: C = {}, LIBSVM's SMO (eps 1e-3).", s.kernel, fmt_num(s.c)),
            "Baselines: one-vs-rest SVM (argmax of the K decision values) and one-vs-one SVM (LIBSVM's pairs and voting, its tie rule: the class seen first in the training labels wins), both on the labels as received.".into(),
            format!(
                "Multi-class FLORAL: K one-vs-rest FLORAL learners on the shared Gram, C = {}, η = {}, schedule {:?}, λ⁰ {:?}, bias {:?}; T = {} rounds; the in-game attacker relabels k = {} points per round among the top B = {} by λ in their own class's problem, each to {}. Outputs: the last iterate and the average of the last {} rounds' predictors.",
                fmt_num(lp.c),
                fmt_num(lp.eta),
                lp.schedule,
                lp.init,
                lp.bias,
                f.rounds,
                f.k,
                s.attacker_pool.unwrap_or(2 * f.k),
                match s.attacker_new_class {
                    NewClass::MostConfusable => "its most confusable class (largest other decision value)",
                    NewClass::Uniform => "a uniformly drawn other class",
                },
                f.average_last
            ),
            "Budgets: no method uses validation or trusted data (validation budget 0 for every method; all settings fixed in the experiment file before the run).".into(),
            format!(
                "Poisoning: a level relabels round(fraction·n) training points exactly; `random` moves each to a uniformly drawn other class, `targeted` draws among the source classes of its pairs and moves each to its target ({}).",
                self.spec
                    .poison
                    .iter()
                    .find_map(|p| match p {
                        MulticlassPoison::Targeted { pairs, .. } => Some(
                            pairs.iter().map(|(a, b)| format!("{a}→{b}")).collect::<Vec<_>>().join(", ")
                        ),
                        _ => None,
                    })
                    .unwrap_or_else(|| "none in this study".into())
            ),
            format!(
                "Every ± is the sample standard deviation over {n_seeds} seeds; a seed changes the training subsample, the poisoning draw and the in-game attacker's draws."
            ),
        ]));
        doc.push(Block::Heading { level: 2, text: "Test accuracy".into() });
        let mut rows = Vec::new();
        for (li, (name, _)) in self.levels.iter().enumerate() {
            let mut row = vec![Cell::Text(name.clone()), Cell::Int(runs[0][li].flips as i64)];
            for m in 0..4 {
                let (mean, std) = mean_std(&acc(li, m));
                row.push(Cell::MeanStdFixed { mean, std, decimals: 3 });
            }
            rows.push(row);
        }
        let mut headers = vec!["poison level".to_string(), "relabelled (seed 1)".into()];
        headers.extend(METHODS.iter().map(|m| m.to_string()));
        doc.push(Block::Table(Table {
            caption: Some(format!("Test accuracy, mean ± std over {n_seeds} seeds")),
            headers,
            rows,
        }));
        // Accuracy vs poisoned fraction, per attack kind.
        let mut series = Vec::new();
        for (kind, is_kind) in [("random", 0usize), ("targeted", 1)] {
            for (m, method) in METHODS.iter().enumerate() {
                let mut pts = Vec::new();
                for (li, p) in s.poison.iter().enumerate() {
                    let x = match (p, is_kind) {
                        (MulticlassPoison::Clean, _) => 0.0,
                        (MulticlassPoison::Random { fraction }, 0)
                        | (MulticlassPoison::Targeted { fraction, .. }, 1) => 100.0 * fraction,
                        _ => continue,
                    };
                    pts.push((x, mean_std(&acc(li, m)).0));
                }
                pts.sort_by(|a, b| a.0.total_cmp(&b.0));
                series.push(Series { name: format!("{method}, {kind}"), points: pts, band: None });
            }
        }
        doc.push(Block::Figure(Figure {
            file: "accuracy_vs_poison.svg".into(),
            caption: "Mean test accuracy against the relabelled fraction, per method and attack".into(),
            plot: Plot::Lines(LinePlot {
                title: "Test accuracy vs relabelled fraction".into(),
                x_label: "relabelled training points (%)".into(),
                y_label: format!("test accuracy (mean over {n_seeds} seeds)"),
                series,
                y_range: None,
            }),
        }));
        doc.push(Block::Heading { level: 2, text: "Paired: FLORAL (avg) − OvR SVM".into() });
        let mut prow = Vec::new();
        let mut diffs_by_level = Vec::new();
        for (li, (name, _)) in self.levels.iter().enumerate() {
            let d: Vec<f64> = runs.iter().map(|r| r[li].accuracy[3] - r[li].accuracy[0]).collect();
            let (mean, std) = mean_std(&d);
            let half = crate::stats::t975(n_seeds.saturating_sub(1)) * std / (n_seeds as f64).sqrt();
            let wins = d.iter().filter(|&&v| v > 0.0).count();
            let losses = d.iter().filter(|&&v| v < 0.0).count();
            diffs_by_level.push((name.clone(), mean, mean - half, mean + half, wins, losses));
            prow.push(vec![
                Cell::Text(name.clone()),
                Cell::Fixed { value: mean, decimals: 4 },
                Cell::Text(if n_seeds > 1 {
                    format!("[{}, {}]", fmt_fixed(mean - half, 4), fmt_fixed(mean + half, 4))
                } else {
                    "—".into()
                }),
                Cell::Text(format!("better on {wins}, worse on {losses} of {n_seeds}")),
            ]);
        }
        doc.push(Block::Table(Table {
            caption: Some(
                "Paired difference in test accuracy (same seed: same subsample and poisoning), 95 % t interval".into(),
            ),
            headers: vec!["poison level".into(), "mean difference".into(), "95 % interval".into(), "seeds".into()],
            rows: prow,
        }));
        // Confusion matrices at the last targeted level (else the last level), summed over seeds.
        let li_conf = s
            .poison
            .iter()
            .rposition(|p| matches!(p, MulticlassPoison::Targeted { .. }))
            .unwrap_or(self.levels.len() - 1);
        doc.push(Block::Heading { level: 2, text: format!("Confusion matrices at {}", self.levels[li_conf].0) });
        doc.push(Block::Paragraph(format!(
            "Rows: true test class; columns: predicted class; counts summed over the {n_seeds} seeds ({} test predictions per seed).",
            self.test.n()
        )));
        let names = self.train.names();
        let mut conf_json = Vec::new();
        for m in [0usize, 3] {
            let k = names.len();
            let mut total = vec![vec![0usize; k]; k];
            for r in &runs {
                for (a, row) in r[li_conf].confusion[m].iter().enumerate() {
                    for (p, v) in row.iter().enumerate() {
                        total[a][p] += v;
                    }
                }
            }
            let mut headers = vec!["true \\ predicted".to_string()];
            headers.extend(names.iter().map(i64::to_string));
            let rows = total
                .iter()
                .enumerate()
                .map(|(a, row)| {
                    let mut r = vec![Cell::Text(names[a].to_string())];
                    r.extend(row.iter().map(|&v| Cell::Int(v as i64)));
                    r
                })
                .collect();
            doc.push(Block::Table(Table { caption: Some(METHODS[m].to_string()), headers, rows }));
            let labels: Vec<String> = names.iter().map(i64::to_string).collect();
            let values: Vec<Vec<f64>> = total
                .iter()
                .map(|row| {
                    let sum: usize = row.iter().sum();
                    row.iter().map(|&v| if sum == 0 { f64::NAN } else { v as f64 / sum as f64 }).collect()
                })
                .collect();
            let file = format!("confusion_{}.svg", if m == 0 { "ovr_svm" } else { "floral_avg" });
            doc.push(Block::Figure(Figure {
                file,
                caption: format!(
                    "Confusion matrix of {} at {}: share of each true class predicted as each class (cell text: counts over {n_seeds} seeds)",
                    METHODS[m], self.levels[li_conf].0
                ),
                plot: Plot::Heatmap(Box::new(HeatmapPlot {
                    title: format!("{}, {}", METHODS[m], self.levels[li_conf].0),
                    x_label: "predicted class".into(),
                    y_label: "true class".into(),
                    columns: labels.clone(),
                    rows: labels,
                    values,
                    scale: ColorScale::Continuous { label: "share of the true class".into(), range: Some((0.0, 1.0)) },
                    annotations: total.iter().map(|r| r.iter().map(|v| v.to_string()).collect()).collect(),
                    overlay: None,
                })),
            }));
            conf_json
                .push(serde_json::json!({ "method": METHODS[m], "level": self.levels[li_conf].0, "matrix": total }));
        }
        // The answer, generated from the numbers.
        doc.push(Block::Heading { level: 2, text: "Answer".into() });
        let better: Vec<&str> = diffs_by_level.iter().filter(|d| d.2 > 0.0).map(|d| d.0.as_str()).collect();
        let worse: Vec<&str> = diffs_by_level.iter().filter(|d| d.3 < 0.0).map(|d| d.0.as_str()).collect();
        let same: Vec<&str> =
            diffs_by_level.iter().filter(|d| d.2 <= 0.0 && d.3 >= 0.0).map(|d| d.0.as_str()).collect();
        let list = |v: &[&str]| if v.is_empty() { "no level".to_string() } else { v.join(", ") };
        let mut answer = format!(
            "Averaged multi-class FLORAL against the one-vs-rest SVM (paired over {n_seeds} seeds, 95 % t interval): better at {}; worse at {}; no difference shown at {}.",
            list(&better),
            list(&worse),
            list(&same)
        );
        if let Some(worst) =
            (0..self.levels.len()).min_by(|&a, &b| mean_std(&acc(a, 0)).0.total_cmp(&mean_std(&acc(b, 0)).0))
        {
            answer.push_str(&format!(
                " The hardest level for the one-vs-rest SVM is {} ({} mean accuracy; one-vs-one {}, FLORAL last {}, FLORAL avg {}).",
                self.levels[worst].0,
                pct(mean_std(&acc(worst, 0)).0),
                pct(mean_std(&acc(worst, 1)).0),
                pct(mean_std(&acc(worst, 2)).0),
                pct(mean_std(&acc(worst, 3)).0)
            ));
        }
        let max_used = runs.iter().flatten().map(|r| r.max_relabelled).max().unwrap_or(0);
        answer.push_str(&format!(
            " In every run the in-game attacker relabelled at most {max_used} points per round (budget k = {}).",
            f.k
        ));
        doc.push(Block::Paragraph(answer));
        doc.push(Block::Heading { level: 2, text: "Limits".into() });
        doc.push(Block::List(vec![
            "One data set (a 5,000-image MNIST sample), one kernel and one C, chosen a priori (the LIBSVM-checked setting), not tuned per method.".into(),
            format!("Each seed trains on a {nu}-point subsample to keep the study's run short; FLORAL runs {} rounds only.", f.rounds),
            "Multi-class FLORAL is our reconstruction (one-vs-rest games sharing the kernel, the attacker's λ taken in the point's own class's problem, the most confusable class as the new label); the paper defines FLORAL for binary labels only.".into(),
            "The offline attacks are random and class-targeted relabellings, not optimised multi-class attacks; a stronger attacker could change the answer.".into(),
            "FLORAL's step size, budget k and pool were fixed a priori, not tuned (no validation data is used); its own in-game attacker relabels points in every round, so on clean labels it trains on perturbed labels by design. Other settings could change the answer.".into(),
        ]));
        doc.push(Block::Heading { level: 2, text: "Spec".into() });
        doc.push(Block::Code { lang: "ron".into(), text: self.canonical.clone() });
        let results = serde_json::json!({
            "kind": "Multiclass",
            "floral_version": env!("CARGO_PKG_VERSION"),
            "hash": self.hash,
            "spec": serde_json::to_value(&self.spec).unwrap_or(serde_json::Value::Null),
            "methods": METHODS,
            "levels": self.levels.iter().map(|l| l.0.clone()).collect::<Vec<_>>(),
            "seeds": s.seeds,
            "runs": runs.iter().zip(&s.seeds).map(|(r, seed)| serde_json::json!({
                "seed": seed,
                "levels": r.iter().zip(&self.levels).map(|(x, l)| serde_json::json!({
                    "level": l.0,
                    "relabelled": x.flips,
                    "accuracy": x.accuracy,
                    "floral_max_relabelled_per_round": x.max_relabelled,
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "confusion": conf_json,
        });
        let summary = self
            .levels
            .iter()
            .enumerate()
            .map(|(li, (name, _))| {
                let cells: Vec<String> = (0..4)
                    .map(|m| {
                        let (a, b) = mean_std(&acc(li, m));
                        format!("{} {} ± {}", METHODS[m], fmt_fixed(a, 3), fmt_fixed(b, 3))
                    })
                    .collect();
                format!("{name:<16} {}", cells.join("  "))
            })
            .collect();
        Ok(StudyOutput { document: doc, results, summary, warnings: Vec::new() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_and_budgets() {
        assert_eq!(crate::stats::t975(4), 2.776);
        assert_eq!(crate::stats::t975(100), 1.96);
        assert!(crate::stats::t975(0).is_nan());
        assert_eq!(budget(0.25, 1000), 250);
        assert_eq!(budget(0.05, 999), 50);
    }
}
