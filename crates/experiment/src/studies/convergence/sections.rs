//! The report's sections: setup, predicted boundary, phase diagram, comparison, limits.

use floral_report::{Block, Cell, Document, Figure, Plot, Table, fmt_num};

use super::ConvergenceStudy;
use super::cells::{DRIFT_NET, SeedSetup};
use super::plots::{HeatmapKind, column_position};
use super::report::{CellSummary, CompareRow, Ran};
use super::spec::EtaGrid;
use crate::frame::report_frame::hashed_data_files;
use crate::frame::{DataSizes, ReportFrame};
use crate::spec::PoisonSpec;
use crate::stats::TInterval;

/// A fraction as a percentage, formatted.
pub(super) fn pct(v: f64) -> String {
    fmt_num(100.0 * v)
}

impl ConvergenceStudy {
    /// The report frame: question, data (`s0`: the first seed), learner, η axis, seeds, budgets.
    pub(super) fn frame(&self, s0: &SeedSetup) -> ReportFrame<'_> {
        let spec = &self.spec;
        ReportFrame {
            title: format!("floral convergence study: {}", spec.name),
            header: crate::frame::Kind::header(self),
            description: &spec.description,
            question: Some(
                "For which step sizes η and attacker settings (k flips drawn from the top B support vectors) does the \
                 last iterate of the FLORAL game converge, cycle or diverge; does the boundary sit at the fixed-label \
                 prediction η = 2/μ_max; and does a step-size schedule, iterate averaging, or an extragradient / \
                 optimistic learner give a last iterate as good as the best-validation round without validation data?"
                    .into(),
            ),
            hash_covers: hashed_data_files(&self.plan.data_files),
            data: DataSizes {
                train: s0.n_train,
                validation: s0.n_validation,
                test: s0.n_test,
                features: self.plan.clean[0].train.dim(),
                scope: format!("for seed {}", s0.seed),
                note: Some(format!("{} training labels are poisoned ({}).", s0.n_poisoned, self.plan.poison_names[0])),
            },
            setup: vec![
                format!(
                    "Learner: C = {}, λ⁰ = {:?}, T = {} rounds ({} unattacked); exact projection. The map plays \
                     constant-step projected gradient descent (FLORAL's learner); the tail is the last {} rounds; \
                     spectral samples every {} tail rounds; a tail whose test accuracy spans more than {} pp cycles.",
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
            ],
            seeds: &spec.seeds,
            varies: format!(
                "Every ± is the sample standard deviation over the seeds; what varies across seeds: {}.",
                self.seeds_vary()
            ),
            budgets: format!(
                "the best-validation round scores every one of the {} rounds on the {} validation points \
                 (validation budget {}); the SVM on the validation points trains on those {} trusted points; the last \
                 iterate, the average, the schedules and the other solvers use no validation or trusted data.",
                spec.rounds, s0.n_validation, spec.rounds, s0.n_validation
            ),
        }
    }

    /// The predicted boundary: one row per seed.
    pub(super) fn push_boundary(&self, doc: &mut Document, ran: &Ran) {
        let unit = self.spec.eta.unit();
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
    }

    /// The phase diagram: how a run's regime is read, the three heatmaps and the table of cells.
    pub(super) fn push_phase_diagram(&self, doc: &mut Document, cells: &[Vec<CellSummary>], boundary: Option<f64>) {
        let spec = &self.spec;
        let unit = spec.eta.unit();
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
                plot: Plot::Heatmap(Box::new(self.heatmap(cells, boundary, which))),
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
    }

    /// The comparison with the best-validation round: the table and the per-η plots.
    pub(super) fn push_comparison(&self, doc: &mut Document, ran: &Ran, rows: &[CompareRow]) {
        let spec = &self.spec;
        let unit = spec.eta.unit();
        let s0 = &ran.setups[0];
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
                        r.diff.map_or(Cell::Missing, |TInterval { mean: d, lo, hi }| {
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
    }

    /// The limits of the study.
    pub(super) fn limits(&self) -> Vec<String> {
        let spec = &self.spec;
        vec![
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
        ]
    }

    /// What varies across the seeds, as the setup list says it.
    fn seeds_vary(&self) -> String {
        let data = if self.plan.groups.len() > 1 { "the data split, " } else { "" };
        let poison = match self.spec.poison {
            PoisonSpec::Clean | PoisonSpec::Sheet(_) => "",
            _ => "the poisoned labels, ",
        };
        format!("{data}{poison}the attacker's draws (and the extragradient responder's)")
    }
}
