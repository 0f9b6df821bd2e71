//! The report of an influence study: pure in the collected cells (the document's sections,
//! `results.json` in [`super::json`], the answer's sentences in [`super::answer`]).

use floral_report::{Block, Cell, DecisionPlot, Document, Figure, LinePlot, Plot, PlotPoint, Series, Table, fmt_num};

use super::numbers::{LevelNumbers, MEASURES};
use super::{CellResult, InfluenceStudy};
use crate::frame::report_frame::hashed_data_files;
use crate::frame::{DataSizes, ReportFrame, StudyOutput};
use crate::spec::{DataSpec, PoisonSpec};
use crate::stats::Estimate;

/// A table cell: the value, with its interval when intervals are computed.
pub(super) fn ci_cell(e: &Estimate, with_ci: bool) -> Cell {
    if with_ci {
        Cell::Text(format!("{} [{}, {}]", fmt_num(e.value), fmt_num(e.lo), fmt_num(e.hi)))
    } else {
        Cell::Num(e.value)
    }
}

impl InfluenceStudy {
    /// The report, `results.json` and the terminal summary from every cell (cell order).
    pub(super) fn render(&self, cells: &[CellResult]) -> StudyOutput {
        let nums = self.numbers(cells);
        let names = &self.plan.poison_names;
        let s = &self.spec;
        let with_ci = s.bootstrap > 0;
        let measured = cells.first().map_or(0, |c| c.points.len());
        let frame = self.frame(cells);
        let mut doc = frame.document();
        self.correlations(&mut doc, &nums, with_ci);
        self.overlap(&mut doc, &nums, measured, with_ci);
        self.along_rounds(&mut doc, &nums, with_ci);
        self.clean_vs_flipped(&mut doc, &nums, with_ci);
        self.scatter(&mut doc, cells);
        doc.push(Block::Heading { level: 2, text: "Answer".into() });
        doc.push(Block::List(self.answer(&nums)));
        doc.push(Block::Heading { level: 2, text: "Limits".into() });
        doc.push(limits());
        frame.close(&mut doc);

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

    /// The report frame: question, data, λ, influence, baselines, intervals, budgets.
    fn frame(&self, cells: &[CellResult]) -> ReportFrame<'_> {
        let s = &self.spec;
        let names = &self.plan.poison_names;
        let first = cells.first();
        let n_train = first.map_or(0, |c| c.n_train);
        let measured = first.map_or(0, |c| c.points.len());
        let fl = &s.floral;
        let setup = vec![
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
            "Baselines: a random ranking (expected overlap B/n, expected correlation 0) and the cheap first-order \
             estimate used as a score."
                .into(),
        ];
        let varies = format!(
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
        );
        ReportFrame {
            title: format!("floral influence study: {}", s.name),
            header: crate::frame::Kind::header(self),
            description: &s.description,
            question: Some(
                "FLORAL's attacker flips the labels of the support vectors with the largest dual variables λ_i, on \
                 the premise that a large λ_i marks a point that moves the decision boundary. Does it? For every \
                 training point we measure its actual influence by exact retraining and compare the rankings."
                    .into(),
            ),
            hash_covers: hashed_data_files(&self.plan.data_files),
            data: DataSizes {
                train: n_train,
                validation: first.map_or(0, |c| c.n_validation),
                test: first.map_or(0, |c| c.n_test),
                features: self.plan.clean[0].train.dim(),
                scope: "per cell".into(),
                note: Some(format!(
                    "A cell is one seed at one poison level: {} seeds × {} poison levels ({}).",
                    s.seeds.len(),
                    names.len(),
                    names.join(", ")
                )),
            },
            setup,
            seeds: &s.seeds,
            varies,
            budgets: "no method is selected on data here; the validation split (clean labels) is used only to \
                      measure influence, and no trusted data enters λ or FLORAL."
                .into(),
        }
    }

    /// The rank correlations of SVM λ and FLORAL λ with each influence measure.
    fn correlations(&self, doc: &mut Document, nums: &[LevelNumbers], with_ci: bool) {
        let names = &self.plan.poison_names;
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
    }

    /// The top-B overlap table and its plot against B.
    fn overlap(&self, doc: &mut Document, nums: &[LevelNumbers], measured: usize, with_ci: bool) {
        let names = &self.plan.poison_names;
        let s = &self.spec;
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
    }

    /// FLORAL's λ against the flip influence along the study rounds.
    fn along_rounds(&self, doc: &mut Document, nums: &[LevelNumbers], with_ci: bool) {
        let names = &self.plan.poison_names;
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
    }

    /// Points with clean and with flipped labels (poisoned levels only).
    fn clean_vs_flipped(&self, doc: &mut Document, nums: &[LevelNumbers], with_ci: bool) {
        let names = &self.plan.poison_names;
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
    }

    /// Scatter plots of SVM λ against the flip influence, the first seed of each level.
    fn scatter(&self, doc: &mut Document, cells: &[CellResult]) {
        let names = &self.plan.poison_names;
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
    }
}

/// What the study does not measure.
fn limits() -> Block {
    Block::List(vec![
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
    ])
}
