//! The report of a `Multiclass` study and its `results.json`: a pure function of the checked
//! study, the seeds' records and the collected cells.

mod answer;
mod plots;

use floral_attack::NewClass;
use floral_report::{Block, Cell, Table, fmt_fixed, fmt_num};

use super::MulticlassStudy;
use super::cells::{Run, SeedRecord};
use super::spec::MulticlassPoison;
use crate::ExperimentError;
use crate::frame::report_frame::hashed_data_files;
use crate::frame::{DataSizes, ReportFrame, StudyOutput};
use crate::stats::{MeanStd, mean_std};

/// The methods, in the order of a [`Run`]'s arrays.
pub(super) const METHODS: [&str; 4] = ["OvR SVM", "OvO SVM", "FLORAL (last)", "FLORAL (avg)"];

/// Every run, per seed then per level.
type Runs = [Vec<Run>];

/// The accuracies of method `m` at level `li` over the seeds.
fn acc(runs: &Runs, li: usize, m: usize) -> Vec<f64> {
    runs.iter().map(|r| r[li].accuracy[m]).collect()
}

/// A share as a percentage with one decimal.
fn pct(v: f64) -> String {
    format!("{} %", fmt_fixed(100.0 * v, 1))
}

impl MulticlassStudy {
    /// The report from the seeds' records (seed order) and the cells ((seed, level) order).
    pub(super) fn render(&self, groups: &[SeedRecord], cells: Vec<Run>) -> Result<StudyOutput, ExperimentError> {
        let per_seed = self.levels.len();
        let seeds_match = groups.len() == self.spec.seeds.len()
            && groups.iter().zip(&self.spec.seeds).all(|(g, s)| g.seed == *s && g.points == self.n_used());
        if !seeds_match || cells.len() != per_seed * self.spec.seeds.len() {
            return Err(ExperimentError::Run {
                what: "multi-class report".into(),
                message: "the collected seeds or cells do not match the study".into(),
            });
        }
        let mut runs = Vec::with_capacity(groups.len());
        let mut it = cells.into_iter();
        for _ in 0..groups.len() {
            runs.push(it.by_ref().take(per_seed).collect::<Vec<_>>());
        }
        Ok(self.output(&runs))
    }

    fn output(&self, runs: &Runs) -> StudyOutput {
        let frame = self.frame();
        let mut doc = frame.document();
        doc.push(Block::Heading { level: 2, text: "Test accuracy".into() });
        doc.push(Block::Table(self.accuracy_table(runs)));
        doc.push(self.accuracy_figure(runs));
        doc.push(Block::Heading { level: 2, text: "Paired: FLORAL (avg) − OvR SVM".into() });
        let (paired, diffs_by_level) = self.paired(runs);
        doc.push(Block::Table(paired));
        let conf_json = self.confusion_section(&mut doc, runs);
        doc.push(Block::Heading { level: 2, text: "Answer".into() });
        doc.push(Block::Paragraph(self.answer(runs, &diffs_by_level)));
        doc.push(Block::Heading { level: 2, text: "Limits".into() });
        doc.push(Block::List(self.limits()));
        frame.close(&mut doc);
        let results = self.results_json(runs, conf_json);
        StudyOutput { document: doc, results, summary: self.summary(runs), warnings: Vec::new() }
    }

    /// The report frame: question, data, kernel, baselines, FLORAL, poisoning, seeds, budgets.
    fn frame(&self) -> ReportFrame<'_> {
        let s = &self.spec;
        let n_seeds = s.seeds.len();
        let nu = self.n_used();
        let f = &s.floral;
        let lp = &f.learner;
        let setup = vec![
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
            format!(
                "Poisoning: a level relabels round(fraction·n) training points exactly; `random` moves each to a uniformly drawn other class, `targeted` draws among the source classes of its pairs and moves each to its target ({}).",
                s.poison
                    .iter()
                    .find_map(|p| match p {
                        MulticlassPoison::Targeted { pairs, .. } => Some(
                            pairs.iter().map(|(a, b)| format!("{a}→{b}")).collect::<Vec<_>>().join(", ")
                        ),
                        _ => None,
                    })
                    .unwrap_or_else(|| "none in this study".into())
            ),
        ];
        ReportFrame {
            title: format!("floral multi-class study: {}", s.name),
            header: crate::frame::Kind::header(self),
            description: &s.description,
            question: Some(
                "Under multi-class label flips, does multi-class FLORAL (one-vs-rest games on one kernel) keep more test accuracy than the plain one-vs-rest and one-vs-one SVMs trained on the received labels?".into(),
            ),
            hash_covers: hashed_data_files(&self.data_files),
            data: DataSizes {
                train: nu,
                validation: 0,
                test: self.test.n(),
                features: self.train.dim(),
                scope: "per seed".into(),
                note: Some(format!(
                    "Train `{}` ({} points, {} classes), test `{}`; each seed draws {} of the {} training points uniformly without replacement.",
                    s.train,
                    self.train.n(),
                    self.train.y().n_classes(),
                    s.test,
                    nu,
                    self.train.n()
                )),
            },
            setup,
            seeds: &s.seeds,
            varies: format!(
                "Every ± is the sample standard deviation over {n_seeds} seeds; a seed changes the training subsample, the poisoning draw and the in-game attacker's draws."
            ),
            budgets: "no method uses validation or trusted data (validation budget 0 for every method; all settings fixed in the experiment file before the run).".into(),
        }
    }

    /// Test accuracy per level and method, mean ± std over the seeds.
    fn accuracy_table(&self, runs: &Runs) -> Table {
        let n_seeds = self.spec.seeds.len();
        let mut rows = Vec::new();
        for (li, (name, _)) in self.levels.iter().enumerate() {
            let mut row = vec![Cell::Text(name.clone()), Cell::Int(runs[0][li].flips as i64)];
            for m in 0..4 {
                let MeanStd { mean, std } = mean_std(&acc(runs, li, m));
                row.push(Cell::MeanStdFixed { mean, std, decimals: 3 });
            }
            rows.push(row);
        }
        let mut headers = vec!["poison level".to_string(), "relabelled (seed 1)".into()];
        headers.extend(METHODS.iter().map(|m| m.to_string()));
        Table { caption: Some(format!("Test accuracy, mean ± std over {n_seeds} seeds")), headers, rows }
    }

    /// The paired difference FLORAL (avg) − OvR SVM per level with its 95 % t interval, and
    /// per level (name, mean, interval low, interval high, wins, losses).
    fn paired(&self, runs: &Runs) -> (Table, Vec<answer::Paired>) {
        let n_seeds = self.spec.seeds.len();
        let mut prow = Vec::new();
        let mut diffs_by_level = Vec::new();
        for (li, (name, _)) in self.levels.iter().enumerate() {
            let d: Vec<f64> = runs.iter().map(|r| r[li].accuracy[3] - r[li].accuracy[0]).collect();
            let MeanStd { mean, std } = mean_std(&d);
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
        let table = Table {
            caption: Some(
                "Paired difference in test accuracy (same seed: same subsample and poisoning), 95 % t interval".into(),
            ),
            headers: vec!["poison level".into(), "mean difference".into(), "95 % interval".into(), "seeds".into()],
            rows: prow,
        };
        (table, diffs_by_level)
    }

    /// The terminal summary: per level, each method's mean ± std.
    fn summary(&self, runs: &Runs) -> Vec<String> {
        self.levels
            .iter()
            .enumerate()
            .map(|(li, (name, _))| {
                let cells: Vec<String> = (0..4)
                    .map(|m| {
                        let MeanStd { mean: a, std: b } = mean_std(&acc(runs, li, m));
                        format!("{} {} ± {}", METHODS[m], fmt_fixed(a, 3), fmt_fixed(b, 3))
                    })
                    .collect();
                format!("{name:<16} {}", cells.join("  "))
            })
            .collect()
    }
}
