//! The trusted-size study's report: every row's accuracy against the trusted-set size.

use floral_report::{Block, Cell, Document, Figure, LinePlot, Plot, Series, Table, fmt_fixed};
use serde::Serialize;
use serde_json::json;

use super::TrustedSize;
use crate::evaluation::{RowKey, row_accuracies, row_keys};
use crate::frame::StudyOutput;
use crate::names::slug;
use crate::spec::{DefenceSpec, MethodSpec};
use crate::stats::{MeanStd, PairedComparison, TInterval, mean_std, paired};
use crate::{Plan, RunResult};

/// One measured point: a row at a poison level and a trusted size.
#[derive(Debug, Clone, Serialize)]
struct Point {
    method: String,
    poison: String,
    size: usize,
    test_accuracy: Vec<f64>,
    mean: f64,
    std: f64,
}

impl TrustedSize {
    /// The report from each size's results (sizes in order).
    pub(super) fn render(&self, results: &[Vec<RunResult>]) -> StudyOutput {
        let sizes = &self.spec.sizes;
        let per_size: Vec<(&Plan, &Vec<RunResult>)> = self.plans.iter().zip(results).collect();
        let (plan0, res0) = &per_size[0];
        let keys = row_keys(plan0, res0);
        let mut points = Vec::new();
        for (p, pname) in self.base.poison_names.iter().enumerate() {
            for k in &keys {
                for ((plan, results), &size) in per_size.iter().zip(sizes) {
                    let a = row_accuracies(plan, results, k, p);
                    let MeanStd { mean, std } = mean_std(&a);
                    points.push(Point {
                        method: k.label.clone(),
                        poison: pname.clone(),
                        size,
                        test_accuracy: a,
                        mean,
                        std,
                    });
                }
            }
        }
        let document = self.document(&keys, &per_size, &points);
        let results = json!({
            "kind": "TrustedSize",
            "name": self.spec.name,
            "floral_version": env!("CARGO_PKG_VERSION"),
            "hash": self.base.hash,
            "spec": ron::ser::to_string_pretty(&self.spec, ron::ser::PrettyConfig::new().struct_names(true)).unwrap_or_default(),
            "sizes": sizes,
            "seeds": self.spec.seeds,
            "poison": self.base.poison_names,
            "points": points,
        });
        let summary = points
            .iter()
            .filter(|pt| pt.size == *sizes.last().unwrap_or(&0) || pt.size == sizes[0])
            .map(|pt| {
                format!(
                    "{:<28} {:<16} trusted {:>4}: test accuracy {} ± {}",
                    pt.method,
                    pt.poison,
                    pt.size,
                    fmt_fixed(pt.mean, 3),
                    fmt_fixed(pt.std, 3)
                )
            })
            .collect();
        StudyOutput { document, results, summary, warnings: Vec::new() }
    }
}

fn acc(v: f64) -> String {
    fmt_fixed(v, 3)
}

impl TrustedSize {
    fn document(&self, keys: &[RowKey], per_size: &[(&Plan, &Vec<RunResult>)], points: &[Point]) -> Document {
        let sizes = &self.spec.sizes;
        let b = &self.base;
        let mut frame = crate::render::report_frame(
            b,
            format!("floral trusted-size study: {}", self.spec.name),
            format!(
                "{} At each size the trusted subset is drawn per seed as well.",
                crate::evaluation::variation_text(b)
            ),
        );
        frame.header = crate::frame::Kind::header(self);
        frame.data.note = Some(format!(
            "The validation split is the trusted set; the study varies its size over {}: each seed's trusted set at size s is a stratified subset of its validation split, nested across sizes (drawn from a stream of the seed of its own). The offline attacks see the full validation split at every size, so the poisoned training labels are the same for every size.",
            sizes.iter().map(usize::to_string).collect::<Vec<_>>().join(", "),
        ));
        frame.budgets = "in the table below (at the largest size; at size s the trusted points are s).".into();
        let mut doc = frame.document();
        if let Some((plan, results)) = per_size.last() {
            let mut t = crate::evaluation::budget_table(plan, results, keys);
            t.caption = Some(format!(
                "Validation budget and trusted data at the largest size ({}); at size s the trusted points are s.",
                sizes.last().copied().unwrap_or(0)
            ));
            doc.push(Block::Table(t));
        }
        let ta = keys.iter().find(|k| {
            matches!(&b.spec.methods[k.method], MethodSpec::Baseline(bs) if matches!(&bs.defence, DefenceSpec::TrustedSvm(p) if p.pool == floral_defense::TrustedPool::Trusted))
        });
        let mut answers = Vec::new();
        let mut figs = Vec::new();
        for pname in &b.poison_names {
            doc.push(Block::Heading { level: 2, text: format!("Training labels: {pname}") });
            let (table, figure) = self.level_table_and_figure(keys, points, pname);
            doc.push(Block::Table(table));
            figs.push(figure);
            if let Some(a) = ta.and_then(|ta| self.level_answer(ta, points, pname)) {
                answers.push(a);
            }
        }
        if !answers.is_empty() {
            doc.push(Block::Heading { level: 2, text: "What this shows".into() });
            doc.push(Block::Paragraph(
                "Per poison level and trusted size, the most accurate row other than the SVM on the trusted points alone, compared with that SVM (paired over seeds):".into(),
            ));
            doc.push(Block::List(answers));
            doc.push(Block::Paragraph(format!(
                "Limits: one data set; {} seeds; the defences' own settings are fixed (not re-tuned per size), except where a method's grid is chosen on the trusted subset itself.",
                b.spec.seeds.len()
            )));
        }
        doc.push(Block::Heading { level: 2, text: "Plots".into() });
        for f in figs {
            doc.push(Block::Figure(f));
        }
        frame.close(&mut doc);
        doc
    }

    /// The accuracy-vs-size table and plot of one poison level.
    fn level_table_and_figure(&self, keys: &[RowKey], points: &[Point], pname: &str) -> (Table, Figure) {
        let sizes = &self.spec.sizes;
        let b = &self.base;
        let mut headers = vec!["method".to_string()];
        headers.extend(sizes.iter().map(|s| format!("trusted {s}")));
        let rows = keys
            .iter()
            .map(|k| {
                let mut cells = vec![Cell::Text(k.label.clone())];
                for &size in sizes {
                    let pt = points.iter().find(|x| x.method == k.label && x.poison == *pname && x.size == size);
                    cells.push(
                        pt.filter(|x| !x.test_accuracy.is_empty()).map_or(Cell::Missing, |x| Cell::MeanStdFixed {
                            mean: x.mean,
                            std: x.std,
                            decimals: 3,
                        }),
                    );
                }
                cells
            })
            .collect();
        let table = Table {
            caption: Some(format!(
                "Test accuracy (mean ± std over {} seeds) against the size of the trusted set, training labels {pname}.",
                b.spec.seeds.len()
            )),
            headers,
            rows,
        };
        let series = keys
            .iter()
            .map(|k| Series {
                name: k.label.clone(),
                points: points
                    .iter()
                    .filter(|x| x.method == k.label && x.poison == *pname && !x.test_accuracy.is_empty())
                    .map(|x| (x.size as f64, x.mean))
                    .collect(),
                band: None,
            })
            .collect();
        let figure = Figure {
            file: format!("trusted_size_{}.svg", slug(pname)),
            caption: format!("Test accuracy vs trusted-set size, training labels {pname} (mean over seeds)."),
            plot: Plot::Lines(LinePlot {
                title: format!("Test accuracy vs trusted size ({pname})"),
                x_label: "trusted (validation) points".into(),
                y_label: "test accuracy".into(),
                series,
                y_range: None,
            }),
        };
        (table, figure)
    }

    /// The answer at one poison level: per size, the best row against the SVM on the trusted
    /// points alone `ta` (paired over seeds).
    fn level_answer(&self, ta: &RowKey, points: &[Point], pname: &str) -> Option<String> {
        let sizes = &self.spec.sizes;
        let mut verdicts = Vec::new();
        for &size in sizes {
            let at = |label: &str| points.iter().find(|x| x.method == label && x.poison == *pname && x.size == size);
            let Some(tap) = at(&ta.label) else { continue };
            let best = points
                .iter()
                .filter(|x| x.poison == *pname && x.size == size && x.method != ta.label && !x.test_accuracy.is_empty())
                .max_by(|a, b| a.mean.total_cmp(&b.mean));
            let Some(best) = best else { continue };
            let v = match paired(&best.test_accuracy, &tap.test_accuracy) {
                Some(PairedComparison { diff: TInterval { mean: d, lo, hi }, wins, n }) => format!(
                    "{size}: best other row {} {} vs {} {} (paired difference {}, 95 % t interval [{}, {}], better on {wins} of {n} seeds{})",
                    best.method,
                    acc(best.mean),
                    ta.label,
                    acc(tap.mean),
                    fmt_fixed(d, 3),
                    fmt_fixed(lo, 3),
                    fmt_fixed(hi, 3),
                    if lo > 0.0 {
                        ""
                    } else if hi < 0.0 {
                        "; worse"
                    } else {
                        "; no difference shown"
                    }
                ),
                None => format!(
                    "{size}: best other row {} {} vs {} {}",
                    best.method,
                    acc(best.mean),
                    ta.label,
                    acc(tap.mean)
                ),
            };
            verdicts.push(v);
        }
        Some(format!("{pname}: {}.", verdicts.join("; ")))
    }
}
