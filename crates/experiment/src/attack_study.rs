//! The `AttackStudy` kind (issue #14): an experiment (methods × poison levels × seeds) asked an
//! attack question, with a measured answer. It runs the embedded `Experiment` exactly as
//! `floral run` would, keeps its report, and adds the question, the budgets, an answer written
//! from the measured numbers, and the limits. `Formulations` also plots where each in-game
//! attacker's flips lie relative to a clean SVM's boundary.

use std::path::Path;
use std::sync::Arc;

use faer::Col;
use floral_data::{FlipSet, FloralRng, Streams};
use floral_game::{Attacker, GameError, GameParams, NoObserver, RoundView};
use floral_report::{Block, Cell, Document, Figure, LinePlot, Plot, Series, Table, fmt_num};
use floral_svm::{BiasRule, Bounds, Gram, SignedGram, Smo, SmoParams};
use serde::{Deserialize, Serialize};

use crate::render::SummaryRow;
use crate::spec::{ExperimentSpec, MethodSpec};
use crate::study::{Study, StudyOutput};
use crate::{ExperimentError, Plan};

/// An attack study: the question, budgets and limits as text; the answer computed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename = "AttackStudy")]
pub struct AttackStudySpec {
    /// The question the report answers (shown first).
    pub question: String,
    /// What validation or trusted data each method and attacker uses (one item each).
    pub budgets: Vec<String>,
    /// What every ± varies over.
    pub variation: String,
    /// The report's limits (one item each).
    pub limits: Vec<String>,
    /// How the answer is computed from the summary.
    pub answer: AnswerSpec,
    /// The experiment run.
    pub experiment: ExperimentSpec,
}

/// How the answer is computed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum AnswerSpec {
    /// Zero-sum vs Stackelberg: FLORAL trained against each formulation, compared per poison
    /// level, and where each formulation's flips lie.
    Formulations {
        /// FLORAL's output rule compared (`last`, `avg-<m>`, `best-val`).
        rule: String,
        /// The FLORAL method trained with the Stackelberg (randomized top-k) attacker.
        stackelberg: String,
        /// The FLORAL methods trained with zero-sum attackers.
        zero_sum: Vec<String>,
        /// The plain SVM method.
        svm: String,
    },
    /// Defence-aware evaluation: each defence's robust accuracy under an adaptive attack vs
    /// the strongest of the oblivious attacks of the same budget.
    Adaptive {
        /// FLORAL's output rule compared.
        rule: String,
        /// The comparisons.
        comparisons: Vec<Comparison>,
    },
}

/// One adaptive poison level and the oblivious levels of the same budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Comparison {
    /// The adaptive level's name (as in the report's table).
    pub adaptive: String,
    /// The oblivious levels' names.
    pub oblivious: Vec<String>,
}

/// A checked attack study.
#[derive(Debug)]
pub struct AttackStudy {
    spec: AttackStudySpec,
    plan: Plan,
}

/// Parse and check an `AttackStudy(...)` text.
///
/// # Errors
/// A parse error with line and column, the experiment's own check errors, or a name in
/// `answer` that is not a method or poison level of the experiment.
pub fn load(text: &str, path: &Path) -> Result<Box<dyn Study>, ExperimentError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let spec: AttackStudySpec = ron::Options::default().from_str(text).map_err(|e| ExperimentError::Parse {
        path: path.to_path_buf(),
        line: e.span.start.line,
        col: e.span.start.col,
        message: e.code.to_string(),
    })?;
    let plan = crate::check(spec.experiment.clone(), path)?;
    let methods: Vec<&str> = spec.experiment.methods.iter().map(method_name).collect();
    let method = |field: &str, m: &str| {
        if methods.contains(&m) {
            Ok(())
        } else {
            Err(ExperimentError::invalid(path, field, format!("one of the methods {}", methods.join(", ")), m))
        }
    };
    let level = |field: &str, l: &str| {
        if plan.poison_names.iter().any(|p| p == l) {
            Ok(())
        } else {
            Err(ExperimentError::invalid(
                path,
                field,
                format!("one of the poison levels {}", plan.poison_names.join(", ")),
                l,
            ))
        }
    };
    match &spec.answer {
        AnswerSpec::Formulations { stackelberg, zero_sum, svm, .. } => {
            method("answer.stackelberg", stackelberg)?;
            method("answer.svm", svm)?;
            for z in zero_sum {
                method("answer.zero_sum", z)?;
            }
            for m in std::iter::once(stackelberg).chain(zero_sum) {
                if floral_spec(&spec.experiment, m).is_none() {
                    return Err(ExperimentError::invalid(path, "answer", "a FLORAL method", m));
                }
            }
        }
        AnswerSpec::Adaptive { comparisons, .. } => {
            if comparisons.is_empty() {
                return Err(ExperimentError::invalid(path, "answer.comparisons", "at least one", 0));
            }
            for c in comparisons {
                level("answer.comparisons.adaptive", &c.adaptive)?;
                if c.oblivious.is_empty() {
                    return Err(ExperimentError::invalid(path, "answer.comparisons.oblivious", "at least one", 0));
                }
                for o in &c.oblivious {
                    level("answer.comparisons.oblivious", o)?;
                }
            }
        }
    }
    Ok(Box::new(AttackStudy { spec, plan }))
}

fn method_name(m: &MethodSpec) -> &str {
    match m {
        MethodSpec::Floral(f) => &f.name,
        MethodSpec::Baseline(b) => &b.name,
        MethodSpec::Svm { name, .. } => name,
    }
}

fn floral_spec<'a>(e: &'a ExperimentSpec, name: &str) -> Option<&'a crate::spec::FloralSpec> {
    e.methods.iter().find_map(|m| match m {
        MethodSpec::Floral(f) if f.name == name => Some(f.as_ref()),
        _ => None,
    })
}

/// The summary row of `method` at `poison`: FLORAL rows are `name (rule)`, others `name`.
fn find<'a>(rows: &'a [SummaryRow], method: &str, rule: &str, poison: &str) -> Option<&'a SummaryRow> {
    let with_rule = format!("{method} ({rule})");
    rows.iter().find(|r| r.poison == poison && (r.method == method || r.method == with_rule))
}

/// Records what the wrapped attacker plays.
#[derive(Debug)]
struct Record {
    inner: Box<dyn Attacker>,
    flips: Vec<FlipSet>,
}

impl Attacker for Record {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    fn attack(&mut self, v: &RoundView<'_>, r: &mut FloralRng) -> Result<FlipSet, GameError> {
        let f = self.inner.attack(v, r)?;
        self.flips.push(f.clone());
        Ok(f)
    }
}

/// Flip margins of one formulation: the clean SVM margin y_i f(x_i) of every flip of every round.
struct FlipMargins {
    method: String,
    margins: Vec<f64>,
}

fn pct(x: f64) -> String {
    format!("{}%", fmt_num(100.0 * x))
}

impl AttackStudy {
    /// Replay each formulation's FLORAL game on the first poison level's training set of the
    /// first seed, recording its flips, and measure them by the margin y_i f(x_i) of an exact SVM
    /// (SMO, the Stackelberg method's C, LIBSVM's bias) trained on that level's labels.
    fn flip_margins(&self, ran: &crate::Executed, methods: &[String]) -> Result<Vec<FlipMargins>, ExperimentError> {
        let fail = |what: &str, e: &dyn std::fmt::Display| ExperimentError::Run {
            what: format!("flip-location replay: {what}"),
            message: e.to_string(),
        };
        let split = &ran.splits[0][0];
        let train = &split.train;
        let gram = Arc::new(Gram::new(self.plan.kernel.as_ref(), train.x()));
        let mut out = Vec::new();
        let Some(first) = methods.first().and_then(|m| floral_spec(&self.spec.experiment, m)) else {
            return Ok(out);
        };
        let c = first.learner.c;
        let q = SignedGram::new(gram.clone(), train.y()).map_err(|e| fail("gram", &e))?;
        let sol = Smo::new(SmoParams::default()).and_then(|mut s| s.solve(&q, Bounds::Uniform(c), None));
        let sol = sol.map_err(|e| fail("reference SVM", &e))?;
        let b = floral_svm::bias(BiasRule::FreeSupportVectors, &q, sol.lambda.as_ref(), Bounds::Uniform(c));
        let mut ql = Col::zeros(train.n());
        q.matvec_into(sol.lambda.as_ref(), ql.as_mut());
        let y = train.y().as_slice();
        let margin: Vec<f64> = (0..train.n()).map(|i| ql[i] + y[i] * b).collect();
        for m in methods {
            let Some(f) = floral_spec(&self.spec.experiment, m) else { continue };
            let (factory, budget) = crate::registry::attacker(&f.attacker)?;
            let mut rec = Record { inner: factory().map_err(|e| fail("attacker", &e))?, flips: Vec::new() };
            let projector = crate::registry::projector(&f.projector)?;
            let mut learner =
                floral_defense::FloralLearner::new(f.learner.clone(), projector).map_err(|e| fail("learner", &e))?;
            let params = GameParams {
                rounds: f.rounds,
                budget,
                unattacked_rounds: f.unattacked_rounds,
                tol: None,
                diverge_above: 1e12,
            };
            let mut qg = SignedGram::new(gram.clone(), train.y()).map_err(|e| fail("gram", &e))?;
            let seed = self.spec.experiment.seeds.first().copied().unwrap_or(0);
            floral_game::play(
                &params,
                &mut qg,
                train.y(),
                &mut rec,
                &mut learner,
                &mut Streams::new(seed),
                &mut NoObserver,
            )
            .map_err(|e| fail("game", &e))?;
            let margins = rec.flips.iter().flat_map(|fs| fs.indices().iter().map(|&i| margin[i])).collect();
            out.push(FlipMargins { method: m.clone(), margins });
        }
        Ok(out)
    }

    fn formulations(
        &self,
        rows: &[SummaryRow],
        ran: &crate::Executed,
        doc: &mut Document,
    ) -> Result<(Vec<String>, serde_json::Value), ExperimentError> {
        let AnswerSpec::Formulations { rule, stackelberg, zero_sum, svm } = &self.spec.answer else {
            return Ok((Vec::new(), serde_json::Value::Null));
        };
        let levels = &self.plan.poison_names;
        let mut answer = Vec::new();
        let mut json = serde_json::Map::new();
        let mut table = Table {
            caption: Some(format!(
                "Mean test accuracy difference, Stackelberg FLORAL ({rule}) minus the other method, per poison level; \
                 in brackets the larger of the two methods' standard deviations over seeds."
            )),
            headers: std::iter::once("poison".to_string())
                .chain(zero_sum.iter().cloned().chain(std::iter::once(svm.to_string())).map(|m| format!("vs {m}")))
                .collect(),
            rows: Vec::new(),
        };
        let others: Vec<String> = zero_sum.iter().cloned().chain(std::iter::once(svm.to_string())).collect();
        let mut diffs: Vec<Vec<(String, f64, f64)>> = vec![Vec::new(); others.len()];
        for l in levels {
            let Some(s) = find(rows, stackelberg, rule, l) else { continue };
            let mut cells = vec![Cell::Text(l.clone())];
            for (j, o) in others.iter().enumerate() {
                match find(rows, o, rule, l) {
                    Some(r) => {
                        let d = s.test_accuracy_mean - r.test_accuracy_mean;
                        let sd = s.test_accuracy_std.max(r.test_accuracy_std);
                        diffs[j].push((l.clone(), d, sd));
                        cells.push(Cell::Text(format!("{} ({})", fmt_num(d), fmt_num(sd))));
                    }
                    None => cells.push(Cell::Text("—".into())),
                }
            }
            table.rows.push(cells);
        }
        doc.push(Block::Table(table));
        let mut parts = Vec::new();
        for (j, o) in others.iter().enumerate() {
            let d = &diffs[j];
            if d.is_empty() {
                continue;
            }
            let wins = d.iter().filter(|x| x.1 > 0.0).count();
            let clear = d.iter().filter(|x| x.1.abs() > x.2).count();
            let mean = d.iter().map(|x| x.1).sum::<f64>() / d.len() as f64;
            let lo = d.iter().min_by(|a, b| a.1.total_cmp(&b.1)).map(|x| (x.0.clone(), x.1)).unwrap_or_default();
            let hi = d.iter().max_by(|a, b| a.1.total_cmp(&b.1)).map(|x| (x.0.clone(), x.1)).unwrap_or_default();
            parts.push(format!(
                "than {o} at {wins} of {} poison levels (mean difference {}, from {} at {} to {} at {}; larger than the seeds' standard deviation at {clear} of {})",
                d.len(),
                fmt_num(mean),
                fmt_num(lo.1),
                lo.0,
                fmt_num(hi.1),
                hi.0,
                d.len()
            ));
            json.insert(
                format!("stackelberg_minus_{o}"),
                serde_json::json!({"wins": wins, "levels": d.len(), "mean": mean, "clear": clear}),
            );
        }
        answer.push(format!(
            "FLORAL trained against the Stackelberg (randomized top-k) attacker, `{rule}` output, had higher mean robust accuracy {}.",
            parts.join("; ")
        ));
        // The same count for the other output rules (the table has them all).
        let prefix = format!("{stackelberg} (");
        let mut rules: Vec<String> = Vec::new();
        for r in rows {
            if let Some(x) = r.method.strip_prefix(&prefix).and_then(|x| x.strip_suffix(')')) {
                if x != rule && !rules.iter().any(|y| y == x) {
                    rules.push(x.to_string());
                }
            }
        }
        let mut other = Vec::new();
        for z in zero_sum {
            for r in &rules {
                let (mut wins, mut total) = (0, 0);
                for l in levels {
                    if let (Some(a), Some(b)) = (find(rows, stackelberg, r, l), find(rows, z, r, l)) {
                        total += 1;
                        if a.test_accuracy_mean > b.test_accuracy_mean {
                            wins += 1;
                        }
                    }
                }
                other.push(format!("`{r}` vs {z}: {wins} of {total}"));
            }
        }
        if !other.is_empty() {
            answer.push(format!(
                "With the other output rules (same rule on both sides), the Stackelberg-trained FLORAL was higher at: {} levels.",
                other.join(", ")
            ));
        }
        // Where the flips lie.
        let methods: Vec<String> = std::iter::once(stackelberg.to_string()).chain(zero_sum.iter().cloned()).collect();
        let fm = self.flip_margins(ran, &methods)?;
        if !fm.is_empty() {
            doc.push(Block::Heading { level: 2, text: "Where the flips lie".into() });
            doc.push(Block::Paragraph(format!(
                "Each formulation's FLORAL game replayed on the `{}` training labels of seed {} (as in the table); every flip of every round is placed by its margin y_i f(x_i) under an exact SVM trained on those labels (the Stackelberg method's C). Margin < 0: misclassified by that SVM; 0–1: inside the margin band; > 1: far on the correct side.",
                levels.first().cloned().unwrap_or_default(),
                self.spec.experiment.seeds.first().copied().unwrap_or(0)
            )));
            let mut t = Table {
                caption: Some("Flips by clean-SVM margin (all rounds).".into()),
                headers: vec![
                    "method".into(),
                    "flips".into(),
                    "mean margin".into(),
                    "margin < 0".into(),
                    "0 ≤ margin ≤ 1".into(),
                    "margin > 1".into(),
                ],
                rows: Vec::new(),
            };
            let mut series = Vec::new();
            let mut summary = Vec::new();
            for f in &fm {
                let n = f.margins.len().max(1) as f64;
                let mean = f.margins.iter().sum::<f64>() / n;
                let neg = f.margins.iter().filter(|&&m| m < 0.0).count() as f64 / n;
                let far = f.margins.iter().filter(|&&m| m > 1.0).count() as f64 / n;
                t.rows.push(vec![
                    Cell::Text(f.method.clone()),
                    Cell::Int(f.margins.len() as i64),
                    Cell::Num(mean),
                    Cell::Text(pct(neg)),
                    Cell::Text(pct(1.0 - neg - far)),
                    Cell::Text(pct(far)),
                ]);
                summary.push(format!("{} {} (beyond margin 1: {})", f.method, fmt_num(mean), pct(far)));
                json.insert(
                    format!("flip_margin_{}", f.method),
                    serde_json::json!({"flips": f.margins.len(), "mean": mean, "negative": neg, "far": far}),
                );
                // Histogram, bins of width 0.25 on [−2, 4], the ends collecting the tails.
                let bins = 24;
                let mut h = vec![0.0; bins];
                for &m in &f.margins {
                    let b = (((m + 2.0) / 0.25).floor().max(0.0) as usize).min(bins - 1);
                    h[b] += 1.0 / n;
                }
                series.push(Series {
                    name: f.method.clone(),
                    points: (0..bins).map(|b| (-2.0 + 0.25 * (b as f64 + 0.5), h[b])).collect(),
                    band: None,
                });
            }
            doc.push(Block::Table(t));
            doc.push(Block::Figure(Figure {
                file: "flip_margins.svg".into(),
                caption: "Share of each formulation's flips by the clean SVM's margin y f(x) (bins of 0.25; the end bins hold the tails)".into(),
                plot: Plot::Lines(LinePlot {
                    title: "Where the flips lie relative to the boundary".into(),
                    x_label: "margin y f(x) under an SVM on the level's labels".into(),
                    y_label: "share of flips".into(),
                    series,
                    y_range: None,
                }),
            }));
            answer.push(format!(
                "Mean margin of the flipped points under that SVM (all rounds, one seed): {}.",
                summary.join(", ")
            ));
        }
        Ok((answer, serde_json::Value::Object(json)))
    }

    fn adaptive(
        &self,
        rows: &[SummaryRow],
        doc: &mut Document,
        rule: &str,
        comparisons: &[Comparison],
    ) -> (Vec<String>, serde_json::Value) {
        let methods: Vec<String> = self.spec.experiment.methods.iter().map(|m| method_name(m).to_string()).collect();
        let mut table = Table {
            caption: Some(format!(
                "Robust accuracy under the adaptive attack minus the lowest robust accuracy under the oblivious attacks of the same budget (FLORAL: `{rule}` output); negative: the adaptive attack hurts more. In brackets the adaptive level's accuracy ± std."
            )),
            headers: std::iter::once("defence".to_string())
                .chain(comparisons.iter().map(|c| c.adaptive.clone()))
                .collect(),
            rows: Vec::new(),
        };
        let mut per_method: Vec<(String, Vec<f64>)> = Vec::new();
        let mut worst: Option<(String, String, f64, String)> = None;
        let mut json = serde_json::Map::new();
        for m in &methods {
            let mut cells = vec![Cell::Text(m.clone())];
            let mut ds = Vec::new();
            for c in comparisons {
                let a = find(rows, m, rule, &c.adaptive);
                let obl = c
                    .oblivious
                    .iter()
                    .filter_map(|o| find(rows, m, rule, o).map(|r| (o.clone(), r.test_accuracy_mean)))
                    .min_by(|a, b| a.1.total_cmp(&b.1));
                match (a, obl) {
                    (Some(a), Some((oname, oacc))) => {
                        let d = a.test_accuracy_mean - oacc;
                        ds.push(d);
                        cells.push(Cell::Text(format!(
                            "{} ({} ± {})",
                            fmt_num(d),
                            fmt_num(a.test_accuracy_mean),
                            fmt_num(if a.test_accuracy_std < 1e-12 { 0.0 } else { a.test_accuracy_std })
                        )));
                        if worst.as_ref().is_none_or(|w| d < w.2) {
                            worst = Some((m.clone(), c.adaptive.clone(), d, oname));
                        }
                        json.insert(
                            format!("{m} | {}", c.adaptive),
                            serde_json::json!({"delta": d, "strongest_oblivious": oacc}),
                        );
                    }
                    _ => cells.push(Cell::Text("—".into())),
                }
            }
            table.rows.push(cells);
            if !ds.is_empty() {
                per_method.push((m.clone(), ds));
            }
        }
        doc.push(Block::Table(table));
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
        let mut answer = Vec::new();
        // Loss relative to clean labels: clean accuracy minus robust accuracy, averaged over the
        // adaptive settings, for the adaptive attack and for the strongest oblivious attack.
        let mut losses = Vec::new();
        for m in &methods {
            let Some(clean) = find(rows, m, rule, "clean") else { continue };
            let (mut la, mut lo) = (Vec::new(), Vec::new());
            for c in comparisons {
                let a = find(rows, m, rule, &c.adaptive);
                let o = c
                    .oblivious
                    .iter()
                    .filter_map(|o| find(rows, m, rule, o).map(|r| r.test_accuracy_mean))
                    .min_by(|a, b| a.total_cmp(b));
                if let (Some(a), Some(o)) = (a, o) {
                    la.push(clean.test_accuracy_mean - a.test_accuracy_mean);
                    lo.push(clean.test_accuracy_mean - o);
                }
            }
            if !la.is_empty() {
                losses.push(format!("{m} {} vs {}", fmt_num(mean(&la)), fmt_num(mean(&lo))));
            }
        }
        if !losses.is_empty() {
            answer.push(format!(
                "Averaged over the {} adaptive settings, robust accuracy lost against clean training labels (`{rule}` output for FLORAL) under the defence-aware attack vs under the strongest oblivious attack of the same budget: {}.",
                comparisons.len(),
                losses.join(", ")
            ));
        }
        let pairs: usize = per_method.iter().map(|(_, d)| d.len()).sum();
        let worse = per_method.iter().flat_map(|(_, d)| d.iter()).filter(|&&d| d < 0.0).count();
        match worst {
            Some((m, a, d, o)) if d < 0.0 => answer.push(format!(
                "The adaptive attack was more damaging than every oblivious attack of its budget in {worse} of {pairs} (defence, setting) pairs; the largest excess loss was {} for {m} under `{a}` (strongest oblivious attack there: `{o}`).",
                fmt_num(-d)
            )),
            _ => answer.push(format!(
                "The adaptive attack was more damaging than every oblivious attack of its budget in {worse} of {pairs} (defence, setting) pairs."
            )),
        }
        if let (Some(best), Some(least)) = (
            per_method.iter().max_by(|a, b| mean(&a.1).total_cmp(&mean(&b.1))),
            per_method.iter().min_by(|a, b| mean(&a.1).total_cmp(&mean(&b.1))),
        ) {
            answer.push(format!(
                "Adaptive minus strongest oblivious accuracy, averaged over the settings, ranged from {} ({}) to {} ({}).",
                fmt_num(mean(&least.1)),
                least.0,
                fmt_num(mean(&best.1)),
                best.0
            ));
        }
        (answer, serde_json::Value::Object(json))
    }
}

impl Study for AttackStudy {
    fn kind(&self) -> &'static str {
        "AttackStudy"
    }
    fn name(&self) -> &str {
        &self.plan.spec.name
    }
    fn jobs(&self) -> usize {
        crate::job_count(&self.plan)
    }
    fn describe(&self) -> Vec<String> {
        crate::frame::Kind::describe(&self.plan)
    }
    fn run(&self, progress: &(dyn Fn(&str) + Sync)) -> Result<StudyOutput, ExperimentError> {
        let ran = crate::execute(&self.plan, progress)?;
        let rows = crate::summary(&self.plan, &ran.results);
        let base = crate::document(&self.plan, &ran);
        let mut doc = Document::new(format!("floral attack study: {}", self.plan.spec.name));
        doc.push(Block::Heading { level: 2, text: "Question".into() });
        doc.push(Block::Paragraph(self.spec.question.clone()));
        doc.push(Block::Heading { level: 2, text: "Budgets".into() });
        doc.push(Block::List(self.spec.budgets.clone()));
        doc.push(Block::Paragraph(format!("Every ± in this report: {}", self.spec.variation)));
        doc.push(Block::Heading { level: 2, text: "Comparison".into() });
        let (answer, extra) = match &self.spec.answer {
            AnswerSpec::Formulations { .. } => self.formulations(&rows, &ran, &mut doc)?,
            AnswerSpec::Adaptive { rule, comparisons } => self.adaptive(&rows, &mut doc, rule, comparisons),
        };
        for b in base.blocks {
            doc.push(match b {
                Block::Heading { level: 1, text } => Block::Heading { level: 2, text },
                b => b,
            });
        }
        doc.push(Block::Heading { level: 2, text: "Answer".into() });
        doc.push(Block::Paragraph(answer.join(" ")));
        doc.push(Block::Heading { level: 2, text: "Limits".into() });
        doc.push(Block::List(self.spec.limits.clone()));
        let mut results = crate::results_json(&self.plan, &ran);
        if let Some(o) = results.as_object_mut() {
            o.insert("answer".into(), serde_json::json!({"text": answer, "numbers": extra}));
        }
        let summary = rows
            .iter()
            .map(|r| {
                format!(
                    "{:<28} {:<22} test accuracy {} ± {}",
                    r.method,
                    r.poison,
                    fmt_num(r.test_accuracy_mean),
                    fmt_num(r.test_accuracy_std)
                )
            })
            .chain(answer.iter().cloned())
            .collect();
        Ok(StudyOutput { document: doc, results, summary, warnings: ran.step_warnings(&self.plan) })
    }
    fn hash(&self) -> Option<&str> {
        Some(&self.plan.hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(answer: &str) -> String {
        format!(
            r#"AttackStudy(question: "q", budgets: [], variation: "v", limits: [], answer: {answer},
            experiment: Experiment(name: "t", seeds: [1],
                data: Moons(n: 60, noise: 0.2, validation_fraction: 0.2, test_fraction: 0.3),
                poison: [Clean, Attack(fraction: 0.1, attack: KnnAware(()))], kernel: Rbf(gamma: 1.0),
                methods: [Floral((name: "f", learner: (c: 1.0, eta: 0.05, schedule: Constant), attacker: ZeroSum((k: 2)), rounds: 5)),
                          Svm(name: "svm", c: 1.0)]))"#
        )
    }

    fn err(t: &str) -> String {
        match load(t, Path::new("a.ron")) {
            Ok(_) => panic!("loaded"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn issue_14_answer_names_must_exist() {
        let ok = text(r#"Formulations(rule: "last", stackelberg: "f", zero_sum: [], svm: "svm")"#);
        let s = load(&ok, Path::new("a.ron")).unwrap();
        assert_eq!(s.kind(), "AttackStudy");
        let bad = text(r#"Formulations(rule: "last", stackelberg: "nope", zero_sum: [], svm: "svm")"#);
        let e = err(&bad);
        assert!(e.contains("answer.stackelberg") && e.contains("nope"), "{e}");
        let not_floral = text(r#"Formulations(rule: "last", stackelberg: "svm", zero_sum: [], svm: "svm")"#);
        assert!(err(&not_floral).contains("FLORAL"));
        let bad_level = text(r#"Adaptive(rule: "last", comparisons: [(adaptive: "knn-aware 10%", oblivious: ["x"])])"#);
        let e = err(&bad_level);
        assert!(e.contains("answer.comparisons.oblivious") && e.contains("clean"), "{e}");
    }

    #[test]
    fn issue_14_a_small_adaptive_study_runs_and_answers_from_its_numbers() {
        let t = text(r#"Adaptive(rule: "last", comparisons: [(adaptive: "knn-aware 10%", oblivious: ["clean"])])"#);
        let s = load(&t, Path::new("a.ron")).unwrap();
        let out = s.run(&|_| {}).unwrap();
        let md = floral_report::render_markdown(&out.document);
        assert!(md.contains("## Answer") && md.contains("## Limits") && md.contains("## Budgets"), "{md}");
        let answer = out.results["answer"]["numbers"].as_object().unwrap();
        // One entry per method, each a measured difference.
        assert_eq!(answer.len(), 2);
        for v in answer.values() {
            assert!(v["delta"].as_f64().unwrap().is_finite());
        }
    }
}
