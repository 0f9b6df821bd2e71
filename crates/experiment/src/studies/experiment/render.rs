//! Turn a plan and its results into the report document and `results.json`.

use std::collections::BTreeMap;

use floral_report::{
    Block, Cell, DecisionPlot, Document, Figure, LinePlot, Plot, PlotPoint, Series, Table, fmt_fixed, fmt_num,
};
use serde_json::json;

use floral_data::Split;

use crate::frame::report_frame::hashed_data_files;
use crate::frame::{DataSizes, ReportFrame, StudyHeader};
use crate::names::slug;
use crate::plan::{Family, Plan};
pub use crate::rows::select;
use crate::rows::{accs, runs_of};
use crate::run::Executed;
use crate::run::{GRID, RunResult, grid_range};
use crate::stats::{MeanStd, mean_std};

/// One row of the summary: a method (with its output rule) at one poison level.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SummaryRow {
    /// Method and output rule, e.g. `floral (last)`.
    pub method: String,
    /// Poison level.
    pub poison: String,
    /// Mean test accuracy over seeds.
    pub test_accuracy_mean: f64,
    /// Sample standard deviation of the test accuracy over seeds (0 with one seed).
    pub test_accuracy_std: f64,
    /// Mean validation accuracy (None without a validation split).
    pub validation_accuracy_mean: Option<f64>,
    /// Number of seeds.
    pub n_seeds: usize,
    /// For validation-selected rows: the chosen setting.
    pub selected: Option<String>,
}

fn row(method: String, poison: &str, runs: &[&RunResult], rule: &str, selected: Option<String>) -> Option<SummaryRow> {
    let (t, v) = accs(runs, rule);
    if t.is_empty() {
        return None;
    }
    let MeanStd { mean: m, std: s } = mean_std(&t);
    Some(SummaryRow {
        method,
        poison: poison.to_string(),
        test_accuracy_mean: m,
        test_accuracy_std: s,
        validation_accuracy_mean: (v.len() == t.len()).then(|| mean_std(&v).mean),
        n_seeds: t.len(),
        selected,
    })
}

/// The summary rows of an experiment, in method order then poison order.
pub fn summary(plan: &Plan, results: &[RunResult]) -> Vec<SummaryRow> {
    let mut rows = Vec::new();
    for m in &plan.methods {
        let name = &m.name;
        for (p, pname) in plan.poison_names.iter().enumerate() {
            if m.tuned {
                if let Some((vi, rule, _)) = select(plan, results, name, m.variants.len(), p) {
                    let runs = runs_of(results, name, vi, p);
                    let label = match &m.family {
                        Family::Svm { .. } => m.variants[vi].label.clone(),
                        Family::Floral { .. } | Family::Baseline => format!("{}, output={rule}", m.variants[vi].label),
                    };
                    rows.extend(row(format!("{name} (val-selected)"), pname, &runs, &rule, Some(label)));
                }
                continue;
            }
            let runs = runs_of(results, name, 0, p);
            let rules: Vec<String> =
                runs.first().map(|r| r.outputs.iter().map(|o| o.rule.clone()).collect()).unwrap_or_default();
            match &m.family {
                // One model: the row is the method's name.
                Family::Svm { .. } => {
                    for rule in rules {
                        rows.extend(row(name.clone(), pname, &runs, &rule, None));
                    }
                }
                Family::Floral { .. } => {
                    for rule in rules {
                        rows.extend(row(format!("{name} ({rule})"), pname, &runs, &rule, None));
                    }
                }
                // A baseline with one output model is named alone; several get their rule.
                Family::Baseline => {
                    let single = rules.len() == 1;
                    for rule in rules {
                        let label = if single { name.clone() } else { format!("{name} ({rule})") };
                        rows.extend(row(label, pname, &runs, &rule, None));
                    }
                }
            }
        }
    }
    rows
}

fn summary_table(plan: &Plan, rows: &[SummaryRow], validation: bool) -> Table {
    let mut headers = vec!["method".to_string()];
    headers.extend(plan.poison_names.iter().cloned());
    let mut by: BTreeMap<usize, Vec<Cell>> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for r in rows {
        if !order.contains(&r.method) {
            order.push(r.method.clone());
        }
    }
    for (i, name) in order.iter().enumerate() {
        let mut cells = vec![Cell::Text(name.clone())];
        for p in &plan.poison_names {
            let c = rows.iter().find(|r| &r.method == name && &r.poison == p).map_or(Cell::Missing, |r| {
                if validation {
                    r.validation_accuracy_mean
                        .map_or(Cell::Missing, |v| Cell::Fixed { value: v, decimals: ACC_DECIMALS })
                } else {
                    Cell::MeanStdFixed { mean: r.test_accuracy_mean, std: r.test_accuracy_std, decimals: ACC_DECIMALS }
                }
            });
            cells.push(c);
        }
        by.insert(i, cells);
    }
    Table {
        caption: Some(if validation {
            "Mean validation accuracy over seeds (what settings are chosen on).".into()
        } else {
            format!("Test accuracy, mean ± std over {} seed(s).", plan.spec.seeds.len())
        }),
        headers,
        rows: by.into_values().collect(),
    }
}

/// The FLORAL method, variant and display name used for plots at a poison level.
fn plotted_variant(plan: &Plan, results: &[RunResult], p: usize) -> Vec<(String, usize)> {
    let mut v = Vec::new();
    for m in &plan.methods {
        if let Family::Floral { .. } = m.family {
            let vi = if m.tuned { select(plan, results, &m.name, m.variants.len(), p).map_or(0, |s| s.0) } else { 0 };
            v.push((m.name.clone(), vi));
        }
    }
    v
}

/// The SVM variant shown for a poison level: the validation-selected C when tuned.
fn svm_variant(plan: &Plan, results: &[RunResult], name: &str, n: usize, tuned: bool, p: usize) -> usize {
    if tuned { select(plan, results, name, n, p).map_or(0, |s| s.0) } else { 0 }
}

fn accuracy_plot(plan: &Plan, results: &[RunResult], p: usize) -> Option<Figure> {
    let mut series = Vec::new();
    let mut levels: Vec<(String, f64)> = Vec::new();
    let mut max_round = 1.0f64;
    for (name, vi) in plotted_variant(plan, results, p) {
        let runs = runs_of(results, &name, vi, p);
        let Some(first) = runs.first() else { continue };
        let mut pts = Vec::new();
        let mut band = Vec::new();
        for (ri, m) in first.trace.iter().enumerate() {
            let vals: Vec<f64> = runs.iter().filter_map(|r| r.trace.get(ri)).map(|t| t.scores.test.accuracy).collect();
            let MeanStd { mean: mu, std: sd } = mean_std(&vals);
            let x = m.round as f64;
            max_round = max_round.max(x);
            pts.push((x, mu));
            band.push((x, (mu - sd).max(0.0), (mu + sd).min(1.0)));
        }
        series.push(Series {
            name: format!("{name} (test, last iterate)"),
            points: pts,
            band: (runs.len() > 1).then_some(band),
        });
        // The other output models (averaged, best-validation round) as levels.
        for o in first.outputs.iter().filter(|o| o.rule != "last") {
            let (t, _) = accs(&runs, &o.rule);
            levels.push((format!("{name} ({}, test)", o.rule), mean_std(&t).mean));
        }
    }
    if series.is_empty() {
        return None;
    }
    for (name, mu) in levels {
        series.push(Series { name, points: vec![(1.0, mu), (max_round, mu)], band: None });
    }
    for m in &plan.methods {
        if let Family::Svm { cs, .. } = &m.family {
            let (name, tuned) = (&m.name, &m.tuned);
            let vi = svm_variant(plan, results, name, cs.len(), *tuned, p);
            let (t, _) = accs(&runs_of(results, name, vi, p), "svm");
            let mu = mean_std(&t).mean;
            series.push(Series {
                name: format!("{name} (test)"),
                points: vec![(1.0, mu), (max_round, mu)],
                band: None,
            });
        }
    }
    let pname = &plan.poison_names[p];
    Some(Figure {
        file: format!("accuracy_{}.svg", slug(pname)),
        caption: format!("Test accuracy vs round, training labels: {pname} (mean over seeds; band ± std)."),
        plot: Plot::Lines(LinePlot {
            title: format!("Test accuracy vs round ({pname})"),
            x_label: "round".into(),
            y_label: "test accuracy".into(),
            series,
            y_range: None,
        }),
    })
}

fn decision_plots(plan: &Plan, splits: &[Vec<Split>], results: &[RunResult], p: usize) -> Vec<Figure> {
    let s = &splits[p][0];
    if !plan.spec.decision_plots || s.train.dim() != 2 {
        return Vec::new();
    }
    let (xr, yr) = grid_range(s);
    let x = s.train.x();
    let points: Vec<PlotPoint> = (0..s.train.n())
        .map(|i| PlotPoint {
            x: x[(i, 0)],
            y: x[(i, 1)],
            label: s.train.y().get(i),
            highlighted: s.train_clean.as_ref().is_some_and(|c| c.get(i) != s.train.y().get(i)),
        })
        .collect();
    let mut want: Vec<(String, usize, String)> = plotted_variant(plan, results, p)
        .into_iter()
        .take(1)
        .map(|(n, v)| (n.clone(), v, format!("{n}, last iterate")))
        .collect();
    if let Some((m, cs)) = plan.methods.iter().find_map(|m| match &m.family {
        Family::Svm { cs, .. } => Some((m, cs)),
        Family::Floral { .. } | Family::Baseline => None,
    }) {
        let (name, tuned) = (&m.name, &m.tuned);
        let vi = svm_variant(plan, results, name, cs.len(), *tuned, p);
        let title = if *tuned { format!("{name}, {} (val-selected)", m.variants[vi].label) } else { name.clone() };
        want.push((name.clone(), vi, title));
    }
    let pname = &plan.poison_names[p];
    let mut figs = Vec::new();
    for (name, vi, title) in want {
        let Some(r) = results
            .iter()
            .find(|r| r.method == name && r.variant == vi && r.poison == p && r.seed == plan.spec.seeds[0])
        else {
            continue;
        };
        let Some(grid) = &r.grid else { continue };
        debug_assert_eq!(grid.len(), GRID);
        figs.push(Figure {
            file: format!("decision_{}_{}.svg", slug(&name), slug(pname)),
            caption: format!("Decision boundary of {title}, training labels {pname}, seed {} (ringed: training labels the poisoning flipped).", plan.spec.seeds[0]),
            plot: Plot::Decision(DecisionPlot {
                title: format!("{title} ({pname})"),
                x_range: xr,
                y_range: yr,
                grid: grid.clone(),
                points: points.clone(),
                x_label: "feature 1".into(),
                y_label: "feature 2".into(),
                highlight_label: "poisoned label".into(),
            }),
        });
    }
    figs
}

fn diagnostics(plan: &Plan, results: &[RunResult]) -> Option<Table> {
    let mut rows = Vec::new();
    for (p, pname) in plan.poison_names.iter().enumerate() {
        for (name, vi) in plotted_variant(plan, results, p) {
            let runs = runs_of(results, &name, vi, p);
            if runs.is_empty() {
                continue;
            }
            let san: Vec<f64> = runs.iter().filter_map(|r| r.sanitisation).collect();
            let nsv: Vec<f64> = runs.iter().map(|r| r.n_sv as f64).collect();
            let maxl: Vec<f64> = runs.iter().filter_map(|r| r.trace.last().map(|t| t.max_lambda)).collect();
            let res: f64 =
                runs.iter().filter_map(|r| r.trace.iter().map(|t| t.residual).reduce(f64::max)).fold(0.0, f64::max);
            let status: Vec<String> = runs
                .iter()
                .filter_map(|r| r.status.map(status_name))
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            let bv: Vec<f64> = runs.iter().filter_map(|r| r.best_validation_round.map(|x| x as f64)).collect();
            rows.push(vec![
                Cell::Text(name.clone()),
                Cell::Text(pname.clone()),
                if san.is_empty() {
                    Cell::Missing
                } else {
                    let MeanStd { mean: m, std: s } = mean_std(&san);
                    Cell::MeanStdFixed { mean: m, std: s, decimals: ACC_DECIMALS }
                },
                {
                    let MeanStd { mean: m, std: s } = mean_std(&nsv);
                    Cell::MeanStdFixed { mean: m, std: s, decimals: 1 }
                },
                {
                    let MeanStd { mean: m, std: s } = mean_std(&maxl);
                    Cell::MeanStd { mean: m, std: s }
                },
                Cell::Num(res),
                if bv.is_empty() { Cell::Missing } else { Cell::Fixed { value: mean_std(&bv).mean, decimals: 1 } },
                Cell::Text(status.join(", ")),
            ]);
        }
    }
    (!rows.is_empty()).then(|| Table {
        caption: Some("FLORAL diagnostics (mean ± std over seeds): sanitisation = share of initially poisoned training labels that the final labels ỹ^T restore; |SV| and max λ at the last round; worst projection residual |ỹᵀλ| over recorded rounds; mean best-validation round.".into()),
        headers: ["method", "poison", "sanitisation", "|SV|", "max λ", "max residual", "best-val round", "status"].map(String::from).to_vec(),
        rows,
    })
}

/// Decimals of accuracies and shares in tables (test sets of up to 1,000 points: exact).
const ACC_DECIMALS: u8 = 3;

/// How a game ended, in words.
fn status_name(t: floral_game::Termination) -> String {
    match t {
        floral_game::Termination::RoundsDone => "all rounds played",
        floral_game::Termination::Converged => "converged",
        floral_game::Termination::StoppedByObserver => "stopped by an observer",
        floral_game::Termination::Diverged => "diverged",
    }
    .to_string()
}

/// The stability bound η < 2/λ_max(K) of each group of seeds, and the FLORAL steps above it.
fn step_bound_text(plan: &Plan, ran: &Executed) -> String {
    let bounds: Vec<String> = ran
        .bounds
        .iter()
        .map(|b| {
            let seeds = if ran.bounds.len() > 1 {
                let word = if b.seeds.len() == 1 { "seed" } else { "seeds" };
                format!(" ({word} {})", b.seeds.iter().map(u64::to_string).collect::<Vec<_>>().join(", "))
            } else {
                String::new()
            };
            format!("λ_max(K) = {}, bound {}{seeds}", fmt_num(b.lambda_max), fmt_num(b.eta_bound))
        })
        .collect();
    let mut text = format!(
        "Step-size bound (docs/method.md §8): the update is locally stable for every labelling when η < 2/λ_max(K); here {}.",
        bounds.join("; ")
    );
    let warnings = ran.step_warnings(plan);
    if warnings.is_empty() {
        text.push_str(" Every FLORAL step size is below it.");
    } else {
        text.push_str(" Warning: ");
        text.push_str(&warnings.join("; "));
        text.push('.');
    }
    text
}

/// A sentence on attacked rounds with fewer than k flips (None when there were none).
fn under_budget(results: &[RunResult]) -> Option<String> {
    let runs: Vec<&RunResult> = results.iter().filter(|r| r.under_budget_rounds > 0).collect();
    if runs.is_empty() {
        return None;
    }
    let total: usize = runs.iter().map(|r| r.under_budget_rounds).sum();
    let most = runs.iter().map(|r| r.under_budget_rounds).max().unwrap_or(0);
    Some(format!(
        "Under budget: in {} of {} runs the in-game attacker flipped fewer than k labels in some attacked rounds ({total} rounds in all, at most {most} in one run), because fewer than k support vectors were there to choose from (e.g. the first round from λ⁰ = 0). Per run: `under_budget_rounds` in results.json.",
        runs.len(),
        results.iter().filter(|r| r.status.is_some()).count()
    ))
}

fn tuning_table(plan: &Plan, results: &[RunResult]) -> Vec<Block> {
    let mut blocks = Vec::new();
    for m in &plan.methods {
        let Family::Floral { variants } = &m.family else { continue };
        if !m.tuned {
            continue;
        }
        let name = &m.name;
        let mut headers = vec!["setting".to_string(), "output".to_string()];
        for p in &plan.poison_names {
            headers.push(format!("{p} val"));
            headers.push(format!("{p} test"));
        }
        let mut rows = Vec::new();
        for (vi, v) in variants.iter().enumerate() {
            let runs0 = runs_of(results, name, vi, 0);
            let rules: Vec<String> =
                runs0.first().map(|r| r.outputs.iter().map(|o| o.rule.clone()).collect()).unwrap_or_default();
            for rule in rules {
                let mut cells = vec![Cell::Text(v.label.clone()), Cell::Text(rule.clone())];
                for p in 0..plan.poison_names.len() {
                    let chosen =
                        select(plan, results, name, variants.len(), p).is_some_and(|s| s.0 == vi && s.1 == rule);
                    let (t, va) = accs(&runs_of(results, name, vi, p), &rule);
                    let vm = mean_std(&va).mean;
                    cells.push(Cell::Text(format!(
                        "{}{}",
                        fmt_fixed(vm, ACC_DECIMALS),
                        if chosen { " ◀" } else { "" }
                    )));
                    cells.push(Cell::Fixed { value: mean_std(&t).mean, decimals: ACC_DECIMALS });
                }
                rows.push(cells);
            }
        }
        blocks.push(Block::Heading { level: 2, text: format!("Validation-based selection: {name}") });
        blocks.push(Block::Paragraph(format!(
            "{} grid points × output rules. For each poisoning level the setting with the highest mean validation accuracy over the seeds is chosen (◀); its test accuracy is what the summary reports as `{name} (val-selected)`. Test columns are shown for transparency only and play no part in the choice.",
            variants.len()
        )));
        blocks.push(Block::Table(Table { caption: None, headers, rows }));
    }
    blocks
}

/// Build the report document: the [`report_frame`] around [`document_body`].
pub fn document(plan: &Plan, ran: &Executed) -> Document {
    let frame =
        report_frame(plan, format!("floral experiment: {}", plan.spec.name), crate::evaluation::variation_text(plan));
    let mut doc = frame.document();
    doc.blocks.extend(document_body(plan, ran));
    frame.close(&mut doc);
    doc
}

/// The report's sections between its frame's head and tail: test accuracy, budgets, labels
/// restored and broken, findings, FLORAL diagnostics, tuning, plots.
pub fn document_body(plan: &Plan, ran: &Executed) -> Vec<Block> {
    let (splits, results) = (&ran.splits, &ran.results[..]);
    let rows = summary(plan, results);
    let mut doc = Document::new("");
    doc.push(Block::Heading { level: 2, text: "Test accuracy".into() });
    doc.push(Block::Table(summary_table(plan, &rows, false)));
    let keys = crate::evaluation::row_keys(plan, results);
    doc.push(Block::Table(crate::evaluation::budget_table(plan, results, &keys)));
    if rows.iter().any(|r| r.validation_accuracy_mean.is_some()) {
        doc.push(Block::Table(summary_table(plan, &rows, true)));
    }
    let selected: Vec<String> =
        rows.iter().filter_map(|r| r.selected.as_ref().map(|s| format!("{} at {}: {s}", r.method, r.poison))).collect();
    if !selected.is_empty() {
        doc.push(Block::Paragraph("Validation-selected settings:".into()));
        doc.push(Block::List(selected));
    }
    if let Some(t) = crate::evaluation::label_audit_table(plan, results) {
        doc.push(Block::Heading { level: 2, text: "Labels restored and broken".into() });
        doc.push(Block::Table(t));
    }
    for b in crate::evaluation::findings(plan, results, &keys) {
        doc.push(b);
    }
    if let Some(t) = diagnostics(plan, results) {
        doc.push(Block::Heading { level: 2, text: "FLORAL diagnostics".into() });
        doc.push(Block::Table(t));
        if let Some(p) = under_budget(results) {
            doc.push(Block::Paragraph(p));
        }
        doc.push(Block::Paragraph(step_bound_text(plan, ran)));
    }
    for b in tuning_table(plan, results) {
        doc.push(b);
    }
    let mut figs = crate::evaluation::budget_plots(plan, results, &keys);
    for p in 0..plan.poison_names.len() {
        figs.extend(accuracy_plot(plan, results, p));
    }
    for p in 0..plan.poison_names.len() {
        figs.extend(decision_plots(plan, splits, results, p));
    }
    if !figs.is_empty() {
        doc.push(Block::Heading { level: 2, text: "Plots".into() });
        for f in figs {
            doc.push(Block::Figure(f));
        }
    }
    doc.blocks
}

/// The data sizes of a plan's clean splits: the first seed's, stated `per seed` when every seed
/// has the same sizes.
pub fn data_sizes(plan: &Plan) -> DataSizes {
    let size = |s: &Split| (s.train.n(), s.validation.as_ref().map_or(0, |v| v.n()), s.test.n());
    let s0 = &plan.clean[0];
    let same = plan.clean.iter().all(|s| size(s) == size(s0));
    let (train, validation, test) = size(s0);
    DataSizes {
        train,
        validation,
        test,
        features: s0.train.dim(),
        scope: if same { "per seed".into() } else { format!("for seed {}", plan.spec.seeds[0]) },
        note: None,
    }
}

/// The report frame of an experiment plan: `varies` says what its ± varies over; the data files
/// are hashed with the study; each row's budget is in the budget table.
pub fn report_frame(plan: &Plan, title: String, varies: String) -> ReportFrame<'_> {
    ReportFrame {
        title,
        header: StudyHeader {
            name: &plan.spec.name,
            source: &plan.source,
            canonical: &plan.canonical,
            hash: &plan.hash,
        },
        description: &plan.spec.description,
        question: None,
        hash_covers: hashed_data_files(&plan.data_files),
        data: data_sizes(plan),
        setup: Vec::new(),
        seeds: &plan.spec.seeds,
        varies,
        budgets: "each row's validation budget (the candidates it chooses among on the validation split) and the trusted clean data it uses are in the table under the test accuracies.".into(),
    }
}

/// All numbers of the report, machine-readable. Per-round traces are kept for untuned methods
/// and for the grid points a tuned method selected; other grid points keep their scores only
/// (a sweep's traces would otherwise dominate the file).
pub fn results_json(plan: &Plan, ran: &Executed) -> serde_json::Value {
    let results = &ran.results[..];
    let mut keep = std::collections::BTreeSet::new();
    for m in &plan.methods {
        if let Family::Svm { .. } = m.family {
            continue;
        }
        for p in 0..plan.poison_names.len() {
            if !m.tuned {
                keep.insert((m.name.clone(), 0, p));
            } else if let Some((vi, _, _)) = select(plan, results, &m.name, m.variants.len(), p) {
                keep.insert((m.name.clone(), vi, p));
            }
        }
    }
    let runs: Vec<RunResult> = results
        .iter()
        .map(|r| {
            let mut r = r.clone();
            if !keep.contains(&(r.method.clone(), r.variant, r.poison)) {
                r.trace.clear();
            }
            r
        })
        .collect();
    json!({
        "name": plan.spec.name,
        "floral_version": env!("CARGO_PKG_VERSION"),
        "hash": plan.hash,
        "spec": plan.canonical,
        "data_files": plan.data_files,
        "step_bounds": ran.bounds,
        "seeds": plan.spec.seeds,
        "poison": plan.poison_names,
        "summary": summary(plan, results),
        "runs": runs,
    })
}
