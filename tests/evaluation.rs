//! Per-seed resplits, the SVM's (C, γ) grid and its validation budget, the label
//! audit of sanitising defences, thread-count independence of parallel poisoning, and the
//! trusted-set-size study.

use std::path::Path;

use floral::experiment::evaluation::{RowKey, row_keys, validation_budget};
use floral::experiment::run::LabelAudit;
use floral::experiment::stats::paired;

fn plan(text: &str) -> floral::experiment::Plan {
    let spec = floral::experiment::parse(text, Path::new("t.ron")).unwrap();
    floral::experiment::check(spec, Path::new("t.ron")).unwrap()
}

fn class_counts(d: &floral::data::Dataset) -> (usize, usize) {
    let pos = d.y().n_positive();
    (d.n() - pos, pos)
}

#[test]
fn moon_resplit_draws_a_stratified_500_500_1000_split_per_seed() {
    let p = plan(
        r#"Experiment(name: "r", seeds: [1, 2], data: Shipped(name: "moon_floral_seed42", resplit: true),
           poison: [Clean], kernel: Rbf(gamma: 0.5), methods: [Svm(name: "s", c: 10.0)])"#,
    );
    for s in &p.clean {
        let v = s.validation.as_ref().unwrap();
        assert_eq!((s.train.n(), v.n(), s.test.n()), (500, 500, 1000));
        // The pool holds 1,000 points per class: exactly half of each part per class.
        assert_eq!(class_counts(&s.train), (250, 250));
        assert_eq!(class_counts(v), (250, 250));
        assert_eq!(class_counts(&s.test), (500, 500));
        // The three parts partition the pool: 2,000 distinct points.
        let mut rows: Vec<(u64, u64)> = Vec::new();
        for d in [&s.train, v, &s.test] {
            for i in 0..d.n() {
                rows.push((d.x()[(i, 0)].to_bits(), d.x()[(i, 1)].to_bits()));
            }
        }
        rows.sort_unstable();
        rows.dedup();
        assert_eq!(rows.len(), 2000);
    }
    assert!(!p.clean[0].train.same_features(&p.clean[1].train), "two seeds drew the same split");
    assert_eq!(p.groups.len(), 2, "each seed its own kernel matrices");
    // The fixed split stays the default: one group for all seeds.
    let fixed = plan(
        r#"Experiment(name: "r", seeds: [1, 2], data: Shipped(name: "moon_floral_seed42"),
           poison: [Clean], kernel: Rbf(gamma: 0.5), methods: [Svm(name: "s", c: 10.0)])"#,
    );
    assert_eq!(fixed.groups, vec![vec![0, 1]]);
}

#[test]
fn shipped_resplit_keeps_the_sizes_and_class_shares() {
    let text = |resplit: bool| {
        format!(
            r#"Experiment(name: "r", seeds: [3, 4], data: Shipped(name: "breast_cancer", validation_fraction: 0.25, resplit: {resplit}),
               poison: [Clean], kernel: Rbf(gamma: 0.1), methods: [Svm(name: "s", c: 1.0)])"#
        )
    };
    let fixed = plan(&text(false));
    let p = plan(&text(true));
    for (a, b) in fixed.clean.iter().zip(&p.clean) {
        let n = |s: &floral::data::Split| s.train.n() + s.validation.as_ref().unwrap().n();
        assert_eq!(n(a), n(b));
        assert_eq!(a.test.n(), b.test.n());
        let all = |s: &floral::data::Split| {
            class_counts(&s.train).1 + class_counts(s.validation.as_ref().unwrap()).1 + class_counts(&s.test).1
        };
        assert_eq!(all(a), all(b), "the pool's positives are all placed");
        // Stratified: the test part's positive share within one point of the pool's.
        let share = all(b) as f64 / (n(b) + b.test.n()) as f64;
        assert!((class_counts(&b.test).1 as f64 - share * b.test.n() as f64).abs() <= 1.0);
    }
    assert!(!fixed.clean[0].test.same_features(&p.clean[0].test), "resplit kept the shipped test set");
    assert!(!p.clean[0].test.same_features(&p.clean[1].test), "two seeds drew the same test set");
}

const SMALL: &str = r#"Experiment(
    name: "small",
    seeds: [1, 2],
    data: Moons(n: 120, noise: 0.2, validation_fraction: 0.25, test_fraction: 0.3),
    poison: [Clean, Attack(fraction: 0.1, attack: Random), Attack(fraction: 0.1, attack: AlfaTilt(()))],
    kernel: Rbf(gamma: 1.0),
    methods: [
        Svm(name: "svm", c: 1.0),
        Svm(name: "svm-tuned", c: 1.0, c_grid: [0.1, 10.0], gamma_grid: [0.5, 1.0, 4.0]),
        Baseline((name: "ls", defence: LabelSanitisation((c: 1.0, k: 5)))),
        Baseline((name: "trusted", defence: TrustedSvm((c: 1.0, pool: Trusted)))),
        Floral((name: "floral", learner: (c: 1.0, eta: 0.02), attacker: RandomTopK((k: 4, pool: Some(8))), rounds: 30)),
    ],
    record_every: 5,
    decision_plots: false,
)"#;

#[test]
fn the_svm_grid_spans_c_and_gamma_and_budgets_are_counted() {
    let p = plan(SMALL);
    let tuned = &p.methods[1];
    assert!(tuned.tuned);
    assert_eq!(tuned.variants.len(), 6);
    let labels: Vec<&str> = tuned.variants.iter().map(|v| v.label.as_str()).collect();
    assert_eq!(labels, ["C=0.1, γ=0.5", "C=10, γ=0.5", "C=0.1, γ=1", "C=10, γ=1", "C=0.1, γ=4", "C=10, γ=4"]);
    // γ = 1 is the experiment's kernel: two kernels of their own (0.5 and 4).
    assert_eq!(p.variant_kernels.len(), 2);
    assert_eq!(tuned.variants[2].kernel, None);
    assert_eq!(tuned.variants[0].kernel, Some(0));
    assert_eq!(tuned.variants[5].kernel, Some(1));
    let ran = floral::experiment::execute(&p, &|_| {}).unwrap();
    let keys = row_keys(&p, &ran.results);
    let budget = |label: &str| {
        let k: &RowKey = keys.iter().find(|k| k.label == label).unwrap_or_else(|| panic!("no row {label}"));
        validation_budget(&p, &ran.results, k)
    };
    assert_eq!(budget("svm"), 0);
    assert_eq!(budget("svm-tuned (val-selected)"), 6);
    assert_eq!(budget("floral (last)"), 0);
    assert_eq!(budget("floral (best-val)"), 30, "every round of the trajectory is a candidate");
    assert_eq!(budget("trusted"), 0);
    // A variant with its own γ is fitted with that kernel: scores differ across γ at one C.
    let acc = |v: usize| {
        ran.results
            .iter()
            .find(|r| r.method == "svm-tuned" && r.variant == v && r.poison == 0)
            .map(|r| r.outputs[0].scores.train.accuracy)
            .unwrap()
    };
    assert!(acc(1) != acc(5) || acc(1) != acc(3), "γ had no effect on the fit");
    let doc = floral::experiment::document(&p, &ran);
    let md = floral::report::render_markdown(&doc);
    assert!(
        md.contains("validation candidates") && md.contains("trains on the validation split alone (30 points)"),
        "{md}"
    );
    assert!(
        md.contains("What the ± std over the 2 seeds varies over: each seed draws its own generated points and split"),
        "{md}"
    );
    assert!(md.contains("What this shows") && md.contains("budget_alfa_tilt.svg"), "{md}");
    assert!(md.contains("clean broken"), "{md}");
}

#[test]
fn a_tuned_grid_counts_every_rule_and_round() {
    let text = SMALL.replace("rounds: 30)),", "rounds: 30, tune: Some((eta: [0.01, 0.02], rounds: [10, 30])))),");
    let p = plan(&text);
    let ran = floral::experiment::execute(&p, &|_| {}).unwrap();
    let keys = row_keys(&p, &ran.results);
    let k = keys.iter().find(|k| k.label == "floral (val-selected)").unwrap();
    // 2 step sizes × (10 or 30 rounds): per grid point last + average + every round.
    assert_eq!(validation_budget(&p, &ran.results, k), 2 * ((2 + 10) + (2 + 30)));
}

#[test]
fn label_audit_counts_restored_broken_and_dropped() {
    use floral::data::Labels;
    use floral::defense::{Fitted, Screening};
    let clean = Labels::new(vec![1.0, 1.0, -1.0, -1.0, 1.0, -1.0]).unwrap();
    let poisoned = [1, 3]; // flipped by the attack
    let model = floral::game::DualModel { coef: faer::Col::zeros(6), bias: 0.0 };
    let mut f = Fitted::single("svm", model, 0, 0);
    // Final labels: point 1 restored, point 3 not; clean point 4 broken.
    f.final_labels = Some(Labels::new(vec![1.0, 1.0, -1.0, 1.0, -1.0, -1.0]).unwrap());
    f.screening = Some(Screening { dropped: vec![0, 3, 5], ..Default::default() });
    let a = LabelAudit::of(&clean, &poisoned, &f);
    assert_eq!(a.restored, Some(0.5));
    assert_eq!(a.broken, Some(0.25));
    assert_eq!(a.dropped_poisoned, Some(0.5));
    assert_eq!(a.dropped_clean, Some(0.5));
    // Nothing poisoned: no restored share; nothing screened: no dropped shares.
    let mut g = f.clone();
    g.screening = None;
    let b = LabelAudit::of(&clean, &[], &g);
    assert_eq!((b.restored, b.dropped_poisoned, b.dropped_clean), (None, None, None));
    assert_eq!(b.broken, Some(2.0 / 6.0));
}

#[test]
fn paired_interval_and_sign_count() {
    // Differences 0.1, 0.2, 0.3: mean 0.2, sd 0.1, t(2) = 4.303.
    let c = paired(&[0.6, 0.7, 0.8], &[0.5, 0.5, 0.5]).unwrap();
    let (m, lo, hi, wins, n) = (c.diff.mean, c.diff.lo, c.diff.hi, c.wins, c.n);
    assert!((m - 0.2).abs() < 1e-12);
    let h = 4.303 * 0.1 / 3f64.sqrt();
    assert!((lo - (0.2 - h)).abs() < 1e-9 && (hi - (0.2 + h)).abs() < 1e-9);
    assert_eq!((wins, n), (3, 3));
    assert!(paired(&[0.5], &[0.4]).is_none());
}

#[test]
fn parallel_poisoning_is_thread_count_independent() {
    let p = plan(SMALL);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            let ran = floral::experiment::execute(&p, &|_| {}).unwrap();
            serde_json::to_string(&floral::experiment::results_json(&p, &ran)).unwrap()
        })
    };
    assert_eq!(run(1), run(2));
}

#[test]
fn trusted_size_study_runs_nested_subsets_and_adds_the_trusted_svms() {
    let text = r#"TrustedSize(
        name: "ts",
        seeds: [1, 2],
        data: Moons(n: 160, noise: 0.2, validation_fraction: 0.25, test_fraction: 0.3),
        poison: [Clean, Attack(fraction: 0.1, attack: Random)],
        kernel: Rbf(gamma: 1.0),
        methods: [Svm(name: "svm", c: 1.0)],
        sizes: [10, 40],
    )"#;
    let study = floral::experiment::load_study(text, Path::new("ts.ron")).unwrap();
    assert_eq!(study.kind(), "TrustedSize");
    // 3 methods (svm + the two trusted SVMs) × 2 levels × 2 seeds × 2 sizes.
    assert_eq!(study.jobs(), 24);
    let out = study.run(&|_| {}).unwrap();
    let points = out.results["points"].as_array().unwrap();
    let methods: std::collections::BTreeSet<&str> = points.iter().map(|p| p["method"].as_str().unwrap()).collect();
    assert_eq!(methods, ["svm", "svm-train+trusted", "svm-trusted"].into_iter().collect());
    // The plain SVM reads no trusted data: its accuracy is the same at every size.
    let acc = |m: &str, size: u64| {
        points
            .iter()
            .find(|p| p["method"] == m && p["size"] == size && p["poison"] == "random 10%")
            .map(|p| p["mean"].as_f64().unwrap())
            .unwrap()
    };
    assert_eq!(acc("svm", 10), acc("svm", 40));
    assert_ne!(acc("svm-trusted", 10), acc("svm-trusted", 40));
    let md = floral::report::render_markdown(&out.document);
    assert!(md.contains("trusted_size_random_10.svg") && md.contains("What this shows"), "{md}");
}
