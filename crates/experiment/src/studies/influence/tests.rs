//! The influence study's tests: a small study end to end, the field checks, the frame's shard,
//! merge and resume checks, and the content hash.

use std::path::Path;

use super::*;
use crate::frame::Kind;
use crate::stats::spearman;

const SMALL: &str = r#"Influence(
    name: "inf_test",
    seeds: [1, 2],
    data: Moons(n: 120, noise: 0.2, validation_fraction: 0.25, test_fraction: 0.25),
    poison: [Clean, RandomFlips(fraction: 0.1)],
    kernel: Rbf(gamma: 1.0),
    c: 1.0,
    floral: (
        name: "f",
        learner: (c: 1.0, eta: 0.05, schedule: Constant, init: Zero, bias: AllSupportVectors, sv_threshold: 1e-5),
        attacker: RandomTopK((k: 3, pool: Some(6))),
        rounds: 30,
        unattacked_rounds: 1,
    ),
    rounds: [1, 10],
    top_b: [3, 10],
    sample: Some(40),
    bootstrap: 50,
)"#;

fn load_small(text: &str) -> Result<Box<dyn Study>, ExperimentError> {
    crate::study::load(text, Path::new("inf.ron"))
}

#[test]
fn a_small_study_runs_and_keeps_every_point() {
    let s = load_small(SMALL).unwrap();
    assert_eq!(s.kind(), "Influence");
    assert_eq!(s.jobs(), 4);
    let out = s.run(&|_| {}).unwrap();
    let cells = out.results["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 4);
    for c in cells {
        let pts = c["points"].as_array().unwrap();
        assert_eq!(pts.len(), 40);
        for p in pts {
            for key in [
                "index",
                "lambda",
                "floral_lambda",
                "flip_val_hinge_delta",
                "flip_val_error_delta",
                "loo_val_hinge_delta",
                "first_order_flip_val_hinge_delta",
            ] {
                assert!(p[key].is_number(), "{key} missing in {p}");
            }
            // Removing a non-support vector changes nothing.
            if p["lambda"].as_f64() == Some(0.0) {
                assert!(p["loo_val_hinge_delta"].as_f64().unwrap().abs() < 1e-6, "{p}");
            }
        }
        // The poisoned cells know their flipped labels (round(0.1 · n_train)).
        let n_train = c["n_train"].as_f64().unwrap();
        let want = if c["poison"] == "clean" { 0.0 } else { (0.1 * n_train).round() };
        assert_eq!(c["flipped"].as_array().unwrap().len() as f64, want);
    }
    // The summary correlations are recomputable from the points: seed 1, clean level.
    let c0 = &cells[0];
    let pts = c0["points"].as_array().unwrap();
    let lam: Vec<f64> = pts.iter().map(|p| p["lambda"].as_f64().unwrap()).collect();
    let t: Vec<f64> = pts.iter().map(|p| p["flip_val_hinge_delta"].as_f64().unwrap().abs()).collect();
    let r1 = spearman(&lam, &t);
    let c1 = &cells[1];
    assert_eq!(c1["poison"], c0["poison"]);
    let pts = c1["points"].as_array().unwrap();
    let lam: Vec<f64> = pts.iter().map(|p| p["lambda"].as_f64().unwrap()).collect();
    let t: Vec<f64> = pts.iter().map(|p| p["flip_val_hinge_delta"].as_f64().unwrap().abs()).collect();
    let r2 = spearman(&lam, &t);
    let v = out.results["levels"][0]["correlations"][0]["svm_lambda"]["spearman"]["value"].as_f64().unwrap();
    assert!((v - (r1 + r2) / 2.0).abs() < 1e-12, "{v} vs {r1}, {r2}");
    // Deterministic.
    let again = load_small(SMALL).unwrap().run(&|_| {}).unwrap();
    assert_eq!(again.results, out.results);
    assert!(floral_report::render_markdown(&out.document).contains("## Answer"));
}

#[test]
fn bad_fields_are_named() {
    for (from, to, field) in [
        ("c: 1.0,", "c: -1.0,", "`c`"),
        ("top_b: [3, 10]", "top_b: [3, 50]", "top_b[1]"),
        ("rounds: [1, 10]", "rounds: [1, 31]", "rounds[1]"),
        ("sample: Some(40)", "sample: Some(1)", "sample"),
        ("validation_fraction: 0.25", "validation_fraction: 0.0", "data"),
    ] {
        let text = SMALL.replace(from, to);
        let e = load_small(&text).err().unwrap_or_else(|| panic!("{to} was accepted"));
        assert!(e.is_input_error(), "{e}");
        assert!(e.to_string().contains(field), "{to}: {e}");
    }
    let e = load_small(&SMALL.replace("top_b:", "top_bee:")).err().unwrap();
    assert!(e.to_string().contains("inf.ron"), "{e}");
}

#[test]
fn the_influence_study_shards_merge_and_resume_byte_for_byte() {
    // Two seeds of generated moons: two groups, 2 poison levels × 2 seeds = 4 cells.
    let tiny = SMALL
        .replace("n: 120", "n: 60")
        .replace("sample: Some(40)", "sample: Some(12)")
        .replace("top_b: [3, 10]", "top_b: [3, 6]");
    let src = Path::new("inf.ron");
    crate::frame::testing::assert_shards_merge_to_the_whole_run(&tiny, src, "influence-shards");
    crate::frame::testing::assert_resume_recomputes_only_missing_cells(&tiny, src, "influence-resume");
}

#[test]
fn a_cell_is_the_same_whether_the_groups_memo_holds_its_influence_or_not() {
    let spec: InfluenceSpec = crate::frame::load::parse_ron(SMALL, Path::new("inf.ron")).unwrap();
    let study = check(spec, Path::new("inf.ron")).unwrap();
    let cells = study.cells();
    assert!(cells.iter().map(|c| c.group).collect::<std::collections::BTreeSet<_>>().len() >= 2);
    let encode = |c: &CellResult| ron::to_string(c).unwrap();
    for cell in [&cells[0], &cells[3]] {
        let (fresh, _) = study.build_group(cell.group).unwrap();
        let alone = encode(&study.compute(&fresh, cell).unwrap());
        let (warm, _) = study.build_group(cell.group).unwrap();
        for other in cells.iter().filter(|c| c.group == cell.group) {
            study.compute(&warm, other).unwrap();
        }
        assert_eq!(encode(&study.compute(&warm, cell).unwrap()), alone, "{}", cell.key);
    }
}

#[test]
fn the_hash_covers_the_canonical_text_and_the_data_files() {
    let spec: InfluenceSpec = crate::frame::load::parse_ron(SMALL, Path::new("inf.ron")).unwrap();
    let study = check(spec.clone(), Path::new("inf.ron")).unwrap();
    let canonical = ron::ser::to_string_pretty(&spec, ron::ser::PrettyConfig::new().struct_names(true)).unwrap();
    assert_eq!(study.header().canonical, canonical);
    assert_eq!(study.header().hash, crate::frame::load::content_hash(&canonical, &study.plan.data_files));
    let other = SMALL.replacen("bootstrap: 50", "bootstrap: 150", 1);
    assert_ne!(other, SMALL);
    let s2 = check(crate::frame::load::parse_ron(&other, Path::new("inf.ron")).unwrap(), Path::new("inf.ron")).unwrap();
    assert_ne!(s2.header().hash, study.header().hash, "a changed field changes the hash");
}
