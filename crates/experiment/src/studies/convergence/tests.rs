//! The convergence study's tests.

use std::path::Path;

use floral_report::Plot;

use super::cells::{GameRun, Regime};
use super::plots::column_position;
use super::report::{cell_summary, median};
use super::*;

#[test]
fn column_positions_interpolate_in_log_eta() {
    let u = [1.0, 2.0, 4.0, 8.0];
    assert_eq!(column_position(&u, 1.0), Some(0.5));
    assert_eq!(column_position(&u, 4.0), Some(2.5));
    assert!((column_position(&u, 2f64.powf(1.5)).unwrap() - 2.0).abs() < 1e-12);
    // Extrapolated with the end spacing on both sides.
    assert!((column_position(&u, 0.5).unwrap() + 0.5).abs() < 1e-12);
    assert!((column_position(&u, 16.0).unwrap() - 4.5).abs() < 1e-12);
    assert_eq!(column_position(&[1.0], 1.0), None);
    assert_eq!(column_position(&u, 0.0), None);
    assert_eq!(column_position(&u, f64::NAN), None);
}

#[test]
fn cell_regime_is_the_most_common_ties_to_the_more_severe() {
    let run = |regime| GameRun {
        last: 0.5,
        average: 0.5,
        best_validation: 0.5,
        best_validation_round: None,
        spread: 0.0,
        decay: 1.0,
        net: 0.0,
        cosine: 0.0,
        tail_samples: 0,
        tail_unstable: 0,
        max_tail_rho: None,
        monitor_last: String::new(),
        regime,
    };
    let (c, y, d) = (run(Regime::Converges), run(Regime::Cycles), run(Regime::Diverges));
    assert_eq!(cell_summary(&[&c, &c, &d], 1.0, (1, 2)).regime, Regime::Converges);
    assert_eq!(cell_summary(&[&c, &y], 1.0, (1, 2)).regime, Regime::Cycles);
    assert_eq!(cell_summary(&[&c, &y, &d], 1.0, (1, 2)).regime, Regime::Diverges);
    assert_eq!(cell_summary(&[&c, &y, &d], 1.0, (1, 2)).counts, [1, 0, 1, 1]);
}

const TINY: &str = "Convergence(name: \"tiny\", seeds: [1, 2], \
    data: Moons(n: 80, noise: 0.2, validation_fraction: 0.2, test_fraction: 0.25), \
    poison: RandomFlips(fraction: 0.1), kernel: Rbf(gamma: 1.0), c: 1.0, \
    eta: KernelBound([0.5, 4.0, 400.0]), attackers: [(1, 2), (3, 6)], rounds: 40, tail: 10, \
    compare: (eta: [4.0], attacker: (3, 6), average_last: 10, schedules: [InverseSqrt], \
    solvers: [Extragradient(respond: true), Optimistic]))";

fn tiny(replace: (&str, &str)) -> Result<Box<dyn Study>, ExperimentError> {
    load(&TINY.replace(replace.0, replace.1), Path::new("tiny.ron"))
}

#[test]
fn the_study_runs_maps_and_compares_deterministically() {
    let s = tiny(("", "")).unwrap();
    assert_eq!(s.kind(), "Convergence");
    // (3 steps × 2 attackers + 1 step × 4 variants) × 2 seeds.
    assert_eq!(s.jobs(), 20);
    let a = s.run(&|_| {}).unwrap();
    let b = s.run(&|_| {}).unwrap();
    assert_eq!(a.results, b.results, "two runs differ");
    let cells = a.results["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 2);
    for row in cells {
        for c in row.as_array().unwrap() {
            let counts: u64 = c["counts"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).sum();
            assert_eq!(counts, 2, "one regime per seed");
        }
    }
    // 400 × 2/λ_max(K) is far above every critical step: that column diverges.
    assert_eq!(cells[0][2]["regime"], "diverges", "{}", cells[0][2]);
    // The boundary is measured per seed and lies above the label-independent bound.
    for setup in a.results["setups"].as_array().unwrap() {
        assert!(setup["critical_in_unit"].as_f64().unwrap() >= 1.0 - 1e-9, "{setup}");
    }
    // pgd last / average / ×1 schedule / 2 solvers / best-val, then 2 baselines.
    let rows = a.results["compare"].as_array().unwrap();
    assert_eq!(rows.len(), 8);
    assert!(rows.iter().filter(|r| r["diff"].is_null()).count() == 1, "only best-val has no difference");
    let heatmaps = a.document.figures().filter(|f| matches!(f.plot, Plot::Heatmap(_))).count();
    assert_eq!(heatmaps, 3);
    let md = floral_report::render_markdown(&a.document);
    for needle in ["**Question.**", "## Answer", "## Limits", "validation budget 40", "2/μ_max (predicted)"] {
        assert!(
            md.contains(needle) || a.document.figures().any(|f| format!("{:?}", f.plot).contains(needle)),
            "{needle}"
        );
    }
    assert!(!a.summary.is_empty());
}

#[test]
fn bad_input_names_the_field() {
    for (from, to, field) in [
        ("tail: 10", "tail: 41", "tail"),
        ("[0.5, 4.0, 400.0]", "[4.0, 0.5]", "eta[1]"),
        ("[(1, 2), (3, 6)]", "[(3, 2)]", "attackers[0]"),
        ("attacker: (3, 6)", "attacker: (0, 6)", "compare.attacker"),
        ("average_last: 10", "average_last: 0", "compare.average_last"),
        ("c: 1.0", "c: -1.0", "c"),
        ("validation_fraction: 0.2", "validation_fraction: 0.0", "data"),
        ("rounds: 40", "rounds: 0", "rounds"),
        ("eta: [4.0]", "eta: []", "compare.eta"),
        ("tail: 10", "tail: 10, diverge_cosine: -1.0", "diverge_cosine"),
    ] {
        let Err(e) = tiny((from, to)) else { panic!("{to} was accepted") };
        let msg = e.to_string();
        assert!(e.is_input_error() && msg.contains("tiny.ron") && msg.contains(field), "{to}: {msg}");
    }
    let Err(e) = tiny(("tail: 10", "tail: 10, bogus: 1")) else { panic!("unknown field accepted") };
    assert!(e.to_string().contains("bogus"), "{e}");
}

#[test]
fn median_of_even_and_odd() {
    assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
    assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), Some(2.5));
    assert_eq!(median(&mut []), None);
}

#[test]
fn the_convergence_study_shards_merge_and_resume_byte_for_byte() {
    // 2 seeds (groups) × (2 map cells + 2 compared variants): 8 cells.
    let ron = TINY
        .replace("[0.5, 4.0, 400.0]", "[0.5, 400.0]")
        .replace("[(1, 2), (3, 6)]", "[(3, 6)]")
        .replace("schedules: [InverseSqrt]", "schedules: []")
        .replace("solvers: [Extragradient(respond: true), Optimistic]", "solvers: [Optimistic]");
    assert_eq!(tiny_text(&ron).jobs(), 8);
    let src = Path::new("tiny.ron");
    crate::frame::testing::assert_shards_merge_to_the_whole_run(&ron, src, "convergence-shards");
    crate::frame::testing::assert_resume_recomputes_only_missing_cells(&ron, src, "convergence-resume");
}

fn tiny_text(ron: &str) -> Box<dyn Study> {
    load(ron, Path::new("tiny.ron")).unwrap()
}
