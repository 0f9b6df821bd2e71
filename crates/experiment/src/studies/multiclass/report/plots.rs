//! The figures and confusion tables of a `Multiclass` report.

use floral_report::{Block, Cell, ColorScale, Document, Figure, HeatmapPlot, LinePlot, Plot, Series, Table};

use super::{METHODS, Runs, acc};
use crate::stats::mean_std;
use crate::studies::multiclass::MulticlassStudy;
use crate::studies::multiclass::spec::MulticlassPoison;

impl MulticlassStudy {
    /// Mean test accuracy against the relabelled fraction, one line per method and attack kind
    /// (the clean level at 0 % in both).
    pub(super) fn accuracy_figure(&self, runs: &Runs) -> Block {
        let n_seeds = self.spec.seeds.len();
        let mut series = Vec::new();
        for (kind, is_kind) in [("random", 0usize), ("targeted", 1)] {
            for (m, method) in METHODS.iter().enumerate() {
                let mut pts = Vec::new();
                for (li, p) in self.spec.poison.iter().enumerate() {
                    let x = match (p, is_kind) {
                        (MulticlassPoison::Clean, _) => 0.0,
                        (MulticlassPoison::Random { fraction }, 0)
                        | (MulticlassPoison::Targeted { fraction, .. }, 1) => 100.0 * fraction,
                        _ => continue,
                    };
                    pts.push((x, mean_std(&acc(runs, li, m)).mean));
                }
                pts.sort_by(|a, b| a.0.total_cmp(&b.0));
                series.push(Series { name: format!("{method}, {kind}"), points: pts, band: None });
            }
        }
        Block::Figure(Figure {
            file: "accuracy_vs_poison.svg".into(),
            caption: "Mean test accuracy against the relabelled fraction, per method and attack".into(),
            plot: Plot::Lines(LinePlot {
                title: "Test accuracy vs relabelled fraction".into(),
                x_label: "relabelled training points (%)".into(),
                y_label: format!("test accuracy (mean over {n_seeds} seeds)"),
                series,
                y_range: None,
            }),
        })
    }

    /// Confusion matrices of the OvR SVM and FLORAL (avg) at the last targeted level (else the
    /// last level), summed over seeds: a heading, a table and a heatmap each. Returns their
    /// `results.json` entries.
    pub(super) fn confusion_section(&self, doc: &mut Document, runs: &Runs) -> Vec<serde_json::Value> {
        let n_seeds = self.spec.seeds.len();
        let li_conf = self
            .spec
            .poison
            .iter()
            .rposition(|p| matches!(p, MulticlassPoison::Targeted { .. }))
            .unwrap_or(self.levels.len() - 1);
        let level = &self.levels[li_conf].0;
        doc.push(Block::Heading { level: 2, text: format!("Confusion matrices at {level}") });
        doc.push(Block::Paragraph(format!(
            "Rows: true test class; columns: predicted class; counts summed over the {n_seeds} seeds ({} test predictions per seed).",
            self.test.n()
        )));
        let names = self.train.names();
        let mut conf_json = Vec::new();
        for m in [0usize, 3] {
            let k = names.len();
            let mut total = vec![vec![0usize; k]; k];
            for r in runs {
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
            doc.push(confusion_figure(m, level, &total, names, n_seeds));
            conf_json.push(serde_json::json!({ "method": METHODS[m], "level": level, "matrix": total }));
        }
        conf_json
    }
}

/// The heatmap of one method's summed confusion matrix: each row as shares of its true class.
fn confusion_figure(m: usize, level: &str, total: &[Vec<usize>], names: &[i64], n_seeds: usize) -> Block {
    let labels: Vec<String> = names.iter().map(i64::to_string).collect();
    let values: Vec<Vec<f64>> = total
        .iter()
        .map(|row| {
            let sum: usize = row.iter().sum();
            row.iter().map(|&v| if sum == 0 { f64::NAN } else { v as f64 / sum as f64 }).collect()
        })
        .collect();
    let file = format!("confusion_{}.svg", if m == 0 { "ovr_svm" } else { "floral_avg" });
    Block::Figure(Figure {
        file,
        caption: format!(
            "Confusion matrix of {} at {level}: share of each true class predicted as each class (cell text: counts over {n_seeds} seeds)",
            METHODS[m]
        ),
        plot: Plot::Heatmap(Box::new(HeatmapPlot {
            title: format!("{}, {level}", METHODS[m]),
            x_label: "predicted class".into(),
            y_label: "true class".into(),
            columns: labels.clone(),
            rows: labels,
            values,
            scale: ColorScale::Continuous { label: "share of the true class".into(), range: Some((0.0, 1.0)) },
            annotations: total.iter().map(|r| r.iter().map(|v| v.to_string()).collect()).collect(),
            overlay: None,
        })),
    })
}
