//! The report's plots: the three heatmaps of the map and the per-round lines of the comparison.

use floral_report::{ColorScale, HeatmapOverlay, HeatmapPlot, LinePlot, Series, fmt_fixed, fmt_num};

use super::ConvergenceStudy;
use super::cells::{JobKind, Regime, mean};
use super::report::{CellSummary, Ran};

/// Which heatmap of the map.
#[derive(Debug, Clone, Copy)]
pub(super) enum HeatmapKind {
    /// The regime (annotated with the tail spread).
    Regime,
    /// The decay of the step norm.
    Decay,
    /// The last iterate's test accuracy.
    LastAccuracy,
}

/// Where `x` falls on the column axis of increasing grid values `u` (column j centred at
/// j + 0.5), interpolated in log η between neighbouring centres and extrapolated with the end
/// spacing; None for a single column or a non-positive value.
pub(super) fn column_position(u: &[f64], x: f64) -> Option<f64> {
    if u.len() < 2 || !(x.is_finite() && x > 0.0) {
        return None;
    }
    let l: Vec<f64> = u.iter().map(|v| v.ln()).collect();
    let lx = x.ln();
    let j = l.windows(2).position(|w| lx <= w[1]).unwrap_or(l.len() - 2);
    Some(j as f64 + 0.5 + (lx - l[j]) / (l[j + 1] - l[j]))
}

impl ConvergenceStudy {
    /// One heatmap of the map (rows: attackers; columns: η), with the predicted boundary.
    pub(super) fn heatmap(&self, cells: &[Vec<CellSummary>], boundary: Option<f64>, which: HeatmapKind) -> HeatmapPlot {
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

    /// Test accuracy per round at compared step `e`, mean ± std over the seeds, per variant.
    pub(super) fn accuracy_plot(&self, ran: &Ran, e: usize) -> LinePlot {
        let variants = self.variants();
        let series = variants
            .iter()
            .enumerate()
            .map(|(v, var)| {
                let runs = ran.over_seeds(JobKind::Compare(e, v));
                let t = runs.iter().map(|r| r.test_accuracy.len()).min().unwrap_or(0);
                let stats: Vec<crate::stats::MeanStd> = (0..t)
                    .map(|i| crate::stats::mean_std(&runs.iter().map(|r| r.test_accuracy[i]).collect::<Vec<_>>()))
                    .collect();
                Series {
                    name: var.name.clone(),
                    points: stats.iter().enumerate().map(|(i, s)| ((i + 1) as f64, s.mean)).collect(),
                    band: Some(
                        stats
                            .iter()
                            .enumerate()
                            .map(|(i, s)| ((i + 1) as f64, (s.mean - s.std).max(0.0), (s.mean + s.std).min(1.0)))
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

    /// Step norm per round at compared step `e`, mean over the seeds, per variant.
    pub(super) fn step_plot(&self, ran: &Ran, e: usize) -> LinePlot {
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
}
