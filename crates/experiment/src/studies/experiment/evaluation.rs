//! The evaluation sections of an experiment report: each method's validation budget
//! and trusted data, what the ± std over seeds varies over, what the sanitising defences did to
//! the poisoned and the clean labels, accuracy against the poisoning budget per attack, and a
//! short answer written from the measured numbers.

use floral_report::{Block, Cell, Figure, LinePlot, Plot, Series, Table, fmt_fixed};

use crate::names::slug;
use crate::plan::{Family, Plan};
use crate::registry::{PoisonBudget, attack_name};
use crate::rows::{accs, runs_of, select};
use crate::run::RunResult;
use crate::spec::{DataSpec, DefenceSpec, MethodSpec, OfflineAttack, PoisonSpec};
use crate::stats::{PairedComparison, TInterval, mean_std, paired};

const ACC_DECIMALS: u8 = 3;

/// One row of the comparison: a method and the output rule its accuracy comes from.
#[derive(Debug, Clone)]
pub struct RowKey {
    /// The name in the summary table (`floral (best-val)`, `svm-tuned (val-selected)`, …).
    pub label: String,
    /// Index into `plan.methods`.
    pub method: usize,
    /// The output rule (None for a tuned method: its rule is chosen per level).
    pub rule: Option<String>,
}

/// The rows of the summary table, in the same order and with the same names as
/// [`crate::summary`].
pub fn row_keys(plan: &Plan, results: &[RunResult]) -> Vec<RowKey> {
    let mut out = Vec::new();
    for (mi, m) in plan.methods.iter().enumerate() {
        if m.tuned {
            out.push(RowKey { label: format!("{} (val-selected)", m.name), method: mi, rule: None });
            continue;
        }
        let rules: Vec<String> = runs_of(results, &m.name, 0, 0)
            .first()
            .map(|r| r.outputs.iter().map(|o| o.rule.clone()).collect())
            .unwrap_or_default();
        let single = rules.len() == 1;
        for rule in rules {
            let label = match m.family {
                Family::Svm { .. } => m.name.clone(),
                Family::Baseline if single => m.name.clone(),
                Family::Floral { .. } | Family::Baseline => format!("{} ({rule})", m.name),
            };
            out.push(RowKey { label, method: mi, rule: Some(rule) });
        }
    }
    out
}

/// Test accuracies of a row at poison level `p`, one per seed in seed order (a tuned row uses
/// the setting chosen on validation at that level).
pub fn row_accuracies(plan: &Plan, results: &[RunResult], key: &RowKey, p: usize) -> Vec<f64> {
    let m = &plan.methods[key.method];
    let (vi, rule) = match &key.rule {
        Some(r) => (0, r.clone()),
        None => match select(plan, results, &m.name, m.variants.len(), p) {
            Some((vi, rule, _)) => (vi, rule),
            None => return Vec::new(),
        },
    };
    accs(&runs_of(results, &m.name, vi, p), &rule).0
}

/// Candidates a rule scores on the validation split: the best-validation round picks among
/// every round of its trajectory (rounds candidates); the last iterate and the average pick
/// nothing (0), but inside a tuned grid each counts as one candidate.
fn rule_candidates(rule: &str, rounds: usize, in_grid: bool) -> usize {
    match (rule, in_grid) {
        ("best-val", _) => rounds,
        (_, true) => 1,
        (_, false) => 0,
    }
}

/// The number of candidates a row chooses among on the validation split, counted as
/// docs/experiments.md says: a tuned method's grid points × their output rules, with every
/// round of a best-validation trajectory a candidate of its own.
pub fn validation_budget(plan: &Plan, results: &[RunResult], key: &RowKey) -> usize {
    let m = &plan.methods[key.method];
    match (&m.family, &key.rule) {
        (Family::Svm { .. }, _) => {
            if m.tuned {
                m.variants.len()
            } else {
                0
            }
        }
        (Family::Baseline, _) => 0,
        (Family::Floral { variants }, Some(rule)) => rule_candidates(rule, variants[0].spec.rounds, false),
        (Family::Floral { variants }, None) => variants
            .iter()
            .enumerate()
            .map(|(vi, v)| {
                let rules: Vec<String> = runs_of(results, &m.name, vi, 0)
                    .first()
                    .map(|r| r.outputs.iter().map(|o| o.rule.clone()).collect())
                    .unwrap_or_default();
                rules.iter().map(|r| rule_candidates(r, v.spec.rounds, true)).sum::<usize>()
            })
            .sum(),
    }
}

/// What a row does with the trusted (validation) data, in words.
fn trusted_use(plan: &Plan, key: &RowKey, budget: usize) -> String {
    let m_val = plan.clean.first().and_then(|s| s.validation.as_ref()).map_or(0, floral_data::Dataset::n);
    let n = plan.clean.first().map_or(0, |s| s.train.n());
    let mut uses = Vec::new();
    if let MethodSpec::Baseline(b) = &plan.spec.methods[key.method] {
        match &b.defence {
            DefenceSpec::TrustedSvm(p) => match p.pool {
                floral_defense::TrustedPool::Trusted => {
                    uses.push(format!("trains on the validation split alone ({m_val} points)"));
                }
                floral_defense::TrustedPool::TrainAndTrusted => {
                    uses.push(format!("trains on train ∪ validation ({n} + {m_val} points)"));
                }
            },
            DefenceSpec::KLid(_) => {
                uses.push(format!("weights from densities on the validation split ({m_val} points)"))
            }
            _ => {}
        }
    }
    if budget > 0 {
        uses.push(format!("selects on the validation split ({m_val} points)"));
    }
    if uses.is_empty() { "none".into() } else { uses.join("; ") }
}

/// The budget table: per row, the candidates chosen on validation and the trusted data used.
pub fn budget_table(plan: &Plan, results: &[RunResult], keys: &[RowKey]) -> Table {
    let rows = keys
        .iter()
        .map(|k| {
            let b = validation_budget(plan, results, k);
            vec![Cell::Text(k.label.clone()), Cell::Int(b as i64), Cell::Text(trusted_use(plan, k, b))]
        })
        .collect();
    Table {
        caption: Some("Validation budget (candidates each row chooses among on the validation split: grid points × output rules, every round of a best-validation trajectory counted) and the trusted clean data each row uses.".into()),
        headers: ["method", "validation candidates", "trusted data"].map(String::from).to_vec(),
        rows,
    }
}

/// What differs between two seeds' runs, in one sentence built from the spec: the data split,
/// the poisoning flips per level, the defences' own random draws.
pub fn variation_text(plan: &Plan) -> String {
    let spec = &plan.spec;
    let split = match &spec.data {
        DataSpec::Moons { .. } | DataSpec::GaussianMixture { .. } => Some("its own generated points and split"),
        DataSpec::Shipped { resplit: true, .. } => Some("its own stratified train/validation/test split of the data"),
        DataSpec::Shipped { validation_fraction, .. } | DataSpec::Embeddings { validation_fraction, .. }
            if *validation_fraction > 0.0 =>
        {
            Some("its own train/validation partition (the test set is fixed)")
        }
        _ => None,
    };
    let (mut varying, mut fixed) = (Vec::new(), Vec::new());
    for (p, level) in spec.poison.iter().enumerate() {
        let name = &plan.poison_names[p];
        let Some((poisoner, _)) = &plan.levels[p].poisoner else { continue };
        // An attack reads the data, so its flips follow a per-seed split as well.
        let draws = poisoner.draws_per_seed() || (matches!(level, PoisonSpec::Attack { .. }) && split.is_some());
        if draws { varying.push(name.clone()) } else { fixed.push(name.clone()) }
    }
    let random_defences: Vec<String> = plan
        .methods
        .iter()
        .filter_map(|m| {
            let why = m.variants.first()?.defence.random_draws()?;
            Some(format!("{} ({why})", m.name))
        })
        .collect();
    let mut parts = Vec::new();
    match split {
        Some(s) => parts.push(format!("each seed draws {s}")),
        None => parts.push("the data and its split are the same for every seed".into()),
    }
    if !varying.is_empty() {
        parts.push(format!("the flips of {} are drawn per seed", varying.join(", ")));
    }
    if !fixed.is_empty() {
        parts.push(format!("the flips of {} are the same for every seed", fixed.join(", ")));
    }
    if random_defences.is_empty() {
        parts.push("no method draws random numbers".into());
    } else {
        let verb = if random_defences.len() == 1 { "draws" } else { "draw" };
        parts.push(format!("of the methods only {} {verb} random numbers", random_defences.join(", ")));
    }
    let mut text = format!("What the ± std over the {} seeds varies over: {}.", spec.seeds.len(), parts.join("; "));
    if split.is_none() && !fixed.is_empty() {
        text.push_str(
            " A deterministic method at such a level shows ± 0 by construction: its spread measures nothing.",
        );
    }
    text
}

/// The share columns of one (method, level) over its runs: restored, broken, dropped
/// poisoned, dropped clean (means over seeds; None when no run has it).
fn audit_means(runs: &[&RunResult]) -> [Option<(f64, f64)>; 4] {
    let col = |f: &dyn Fn(&RunResult) -> Option<f64>| {
        let v: Vec<f64> = runs.iter().filter_map(|r| f(r)).collect();
        (!v.is_empty()).then(|| {
            let s = mean_std(&v);
            (s.mean, s.std)
        })
    };
    [col(&|r| r.sanitisation), col(&|r| r.broken), col(&|r| r.dropped_poisoned), col(&|r| r.dropped_clean)]
}

/// What the sanitising defences did to the labels: per method and poisoned level, the share
/// of poisoned labels restored (or dropped) and of clean labels broken (or dropped).
pub fn label_audit_table(plan: &Plan, results: &[RunResult]) -> Option<Table> {
    let mut rows = Vec::new();
    for m in &plan.methods {
        if m.tuned {
            continue;
        }
        // Dropped shares only for a method that drops points somewhere (a reweighting or
        // relabelling screening drops none: its zeros would say nothing).
        let drops = results
            .iter()
            .any(|r| r.method == m.name && r.dropped_poisoned.unwrap_or(0.0) + r.dropped_clean.unwrap_or(0.0) > 0.0);
        for (p, pname) in plan.poison_names.iter().enumerate() {
            if plan.levels[p].poisoner.is_none() {
                continue;
            }
            let runs = runs_of(results, &m.name, 0, p);
            let mut cols = audit_means(&runs);
            if !drops {
                cols[2] = None;
                cols[3] = None;
            }
            if cols.iter().all(Option::is_none) {
                continue;
            }
            let mut cells = vec![Cell::Text(m.name.clone()), Cell::Text(pname.clone())];
            for c in cols {
                cells.push(c.map_or(Cell::Missing, |(mean, std)| Cell::MeanStdFixed {
                    mean,
                    std,
                    decimals: ACC_DECIMALS,
                }));
            }
            rows.push(cells);
        }
    }
    (!rows.is_empty()).then(|| Table {
        caption: Some("What the sanitising defences did to the training labels (mean ± std over seeds): restored = share of the poisoned labels whose final label is the clean one; broken = share of the labels the poisoning left clean that the defence changed; dropped = share of poisoned / clean points a screening removed from the fit. FLORAL's final labels are its attacker's last ỹ^T.".into()),
        headers: ["method", "poison", "poisoned restored", "clean broken", "poisoned dropped", "clean dropped"]
            .map(String::from)
            .to_vec(),
        rows,
    })
}

/// The attack family and budget fraction of each poison level (clean: no family, 0).
pub fn level_axes(plan: &Plan) -> Vec<(Option<String>, f64)> {
    let n = plan.clean.first().map_or(1, |s| s.train.n()).max(1);
    plan.spec
        .poison
        .iter()
        .zip(&plan.levels)
        .map(|(spec, level)| match spec {
            PoisonSpec::Clean => (None, 0.0),
            PoisonSpec::Sheet(s) => {
                let family = if s.ends_with("_lfa") { "authors' LFA sheets" } else { "authors' sheets" };
                let flips = match level.poisoner {
                    Some((_, PoisonBudget::Exact(m))) => m,
                    Some((_, b @ PoisonBudget::Fraction(_))) => b.flips(n),
                    None => 0,
                };
                (Some(family.to_string()), flips as f64 / n as f64)
            }
            PoisonSpec::RandomFlips { fraction } => (Some("random".into()), *fraction),
            PoisonSpec::Attack { fraction, attack } => (Some(attack_name(attack)), *fraction),
        })
        .collect()
}

/// One line plot per attack family: test accuracy (mean over seeds) against the poisoned
/// fraction, one line per row, the clean level (if any) at 0.
pub fn budget_plots(plan: &Plan, results: &[RunResult], keys: &[RowKey]) -> Vec<Figure> {
    let axes = level_axes(plan);
    let clean = axes.iter().position(|(f, _)| f.is_none());
    let mut families: Vec<String> = Vec::new();
    for (f, _) in &axes {
        if let Some(f) = f {
            if !families.contains(f) {
                families.push(f.clone());
            }
        }
    }
    let mut figs = Vec::new();
    for fam in families {
        let mut levels: Vec<(f64, usize)> = clean.map(|c| vec![(0.0, c)]).unwrap_or_default();
        levels
            .extend(axes.iter().enumerate().filter(|(_, (f, _))| f.as_ref() == Some(&fam)).map(|(p, (_, x))| (*x, p)));
        levels.sort_by(|a, b| a.0.total_cmp(&b.0));
        if levels.len() < 2 {
            continue;
        }
        let series = keys
            .iter()
            .map(|k| Series {
                name: k.label.clone(),
                points: levels
                    .iter()
                    .filter_map(|&(x, p)| {
                        let a = row_accuracies(plan, results, k, p);
                        (!a.is_empty()).then(|| (100.0 * x, mean_std(&a).mean))
                    })
                    .collect(),
                band: None,
            })
            .collect();
        figs.push(Figure {
            file: format!("budget_{}.svg", slug(&fam)),
            caption: format!(
                "Test accuracy vs poisoning budget, attack: {fam} (mean over {} seeds; x = flipped share of the training labels).",
                plan.spec.seeds.len()
            ),
            plot: Plot::Lines(LinePlot {
                title: format!("Test accuracy vs budget ({fam})"),
                x_label: "flipped training labels (%)".into(),
                y_label: "test accuracy".into(),
                series,
                y_range: None,
            }),
        });
    }
    figs
}

fn acc(v: f64) -> String {
    fmt_fixed(v, ACC_DECIMALS)
}

/// The first row whose method spec matches `f`.
fn find_row<'a>(plan: &Plan, keys: &'a [RowKey], f: impl Fn(&MethodSpec) -> bool) -> Option<&'a RowKey> {
    keys.iter().find(|k| f(&plan.spec.methods[k.method]))
}

/// "What this shows": sentences generated from the measured numbers. For each poisoned level:
/// the most accurate row, the plain SVM, and the paired comparison of the best row that uses
/// trusted data with the SVM trained on the trusted points alone.
pub fn findings(plan: &Plan, results: &[RunResult], keys: &[RowKey]) -> Vec<Block> {
    let svm = find_row(
        plan,
        keys,
        |m| matches!(m, MethodSpec::Svm { c_grid, gamma_grid, .. } if c_grid.is_empty() && gamma_grid.is_empty()),
    );
    let trusted_alone = find_row(
        plan,
        keys,
        |m| matches!(m, MethodSpec::Baseline(b) if matches!(&b.defence, DefenceSpec::TrustedSvm(p) if p.pool == floral_defense::TrustedPool::Trusted)),
    );
    let mut items = Vec::new();
    let mut best_counts: Vec<(String, usize)> = Vec::new();
    let (mut beat, mut tied, mut lost, mut compared) = (0, 0, 0, 0);
    for (p, pname) in plan.poison_names.iter().enumerate() {
        if plan.levels[p].poisoner.is_none() {
            continue;
        }
        let scored: Vec<(&RowKey, Vec<f64>, f64)> = keys
            .iter()
            .filter_map(|k| {
                let a = row_accuracies(plan, results, k, p);
                (!a.is_empty()).then(|| {
                    let m = mean_std(&a).mean;
                    (k, a, m)
                })
            })
            .collect();
        let Some(best) = scored.iter().max_by(|a, b| a.2.total_cmp(&b.2)) else { continue };
        match best_counts.iter_mut().find(|(l, _)| *l == best.0.label) {
            Some(c) => c.1 += 1,
            None => best_counts.push((best.0.label.clone(), 1)),
        }
        let mut s = format!("{pname}: the most accurate row is {} ({})", best.0.label, acc(best.2));
        if let Some(svm) = svm.and_then(|k| scored.iter().find(|x| x.0.label == k.label)) {
            s.push_str(&format!(", plain {} scores {}", svm.0.label, acc(svm.2)));
        }
        let untrusted = scored
            .iter()
            .filter(|x| trusted_use(plan, x.0, validation_budget(plan, results, x.0)) == "none")
            .max_by(|a, b| a.2.total_cmp(&b.2));
        if let Some(u) = untrusted {
            s.push_str(&format!(", the best row without trusted data is {} ({})", u.0.label, acc(u.2)));
        }
        if let Some(ta) = trusted_alone.and_then(|k| scored.iter().find(|x| x.0.label == k.label)) {
            // The best row other than the trusted-alone SVM that uses the trusted data.
            let users = scored.iter().filter(|x| {
                x.0.label != ta.0.label && trusted_use(plan, x.0, validation_budget(plan, results, x.0)) != "none"
            });
            if let Some(u) = users.max_by(|a, b| a.2.total_cmp(&b.2)) {
                if let Some(PairedComparison { diff: TInterval { mean: d, lo, hi }, wins, n }) = paired(&u.1, &ta.1) {
                    compared += 1;
                    let verdict = if lo > 0.0 {
                        beat += 1;
                        "better"
                    } else if hi < 0.0 {
                        lost += 1;
                        "worse"
                    } else {
                        tied += 1;
                        "no difference shown"
                    };
                    // Equal differences on every seed (both rows deterministic on a fixed
                    // split): one comparison repeated, not a replicated one.
                    let fixed = (hi - lo).abs() < 1e-12;
                    let interval = if fixed {
                        format!("the same on all {n} seeds: no seed-to-seed spread, so no interval")
                    } else {
                        format!(
                            "95 % t interval [{}, {}], better on {wins} of {n} seeds",
                            fmt_fixed(lo, ACC_DECIMALS),
                            fmt_fixed(hi, ACC_DECIMALS)
                        )
                    };
                    let verdict = if fixed { format!("{verdict} on this one split") } else { verdict.to_string() };
                    s.push_str(&format!(
                        "; the best row using the trusted data, {}, against {} ({}): paired difference {} ({interval}): {verdict}",
                        u.0.label,
                        ta.0.label,
                        acc(ta.2),
                        fmt_fixed(d, ACC_DECIMALS),
                    ));
                }
            }
        }
        s.push('.');
        items.push(s);
    }
    if items.is_empty() {
        return Vec::new();
    }
    best_counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let levels = items.len();
    let mut summary = format!(
        "Over the {levels} poisoned level(s), the most accurate row is {}",
        best_counts.iter().map(|(l, c)| format!("{l} at {c} of them")).collect::<Vec<_>>().join(", ")
    );
    if compared > 0 {
        summary.push_str(&format!(
            ". Against the SVM trained on the trusted points alone, the best defence that uses those points is better at {beat}, worse at {lost}, and not distinguishable at {tied} of {compared} level(s) (paired over seeds, 95 % t interval)"
        ));
    }
    summary.push('.');
    vec![
        Block::Heading { level: 2, text: "What this shows".into() },
        Block::Paragraph(summary),
        Block::List(items),
        Block::Paragraph(limits(plan)),
    ]
}

/// The threats to validity a reader should weigh, from the spec: one data set, the seed count,
/// the trusted split the selection and the trusted baselines share, attacks weakened for time.
pub fn limits(plan: &Plan) -> String {
    let spec = &plan.spec;
    let mut out = vec![
        "one data set".to_string(),
        format!("{} seeds (intervals from few seeds are wide)", spec.seeds.len()),
        "settings not in a grid are fixed by hand, not tuned per attack".to_string(),
    ];
    let trusted_svm = spec
        .methods
        .iter()
        .any(|m| matches!(m, MethodSpec::Baseline(b) if matches!(b.defence, DefenceSpec::TrustedSvm(_))));
    let reads_validation = plan.methods.iter().any(|m| m.tuned)
        || spec.methods.iter().any(|m| matches!(m, MethodSpec::Floral(_)))
        || plan.methods.iter().any(|m| m.variants.iter().any(|v| v.defence.reads_trusted()));
    if trusted_svm {
        out.push("the validation-selected rows choose on the same trusted split the trusted-data SVMs train on".into());
    } else if reads_validation && plan.clean.iter().all(|s| s.validation.is_some()) {
        out.push("no SVM trained on the trusted (validation) data is in the comparison: the baseline a row that reads that data must beat".into());
    }
    let mut push = |s: String| {
        if !out.contains(&s) {
            out.push(s);
        }
    };
    for level in &spec.poison {
        match level {
            PoisonSpec::Attack { attack: OfflineAttack::Lfa(p), .. } => {
                if let Some(m) = p.candidates {
                    push(format!(
                        "LFA tries {m} sampled labels per flip rather than every label (a weaker attacker than the full greedy search)"
                    ));
                }
            }
            PoisonSpec::Attack { attack: OfflineAttack::Alfa(p), .. } => {
                push(format!("ALFA stops after {} LP/QP alternations", p.iterations));
            }
            _ => {}
        }
    }
    push("every attack is offline (it does not anticipate the defence)".into());
    format!("Limits: {}.", out.join("; "))
}
