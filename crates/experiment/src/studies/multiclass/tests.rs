use std::path::{Path, PathBuf};

use super::check::budget;

#[test]
fn t_quantiles_and_budgets() {
    assert_eq!(crate::stats::t975(4), 2.776);
    assert_eq!(crate::stats::t975(100), 1.96);
    assert!(crate::stats::t975(0).is_nan());
    assert_eq!(budget(0.25, 1000), 250);
    assert_eq!(budget(0.05, 999), 50);
}

/// Three classes of points around three centres in the plane, in LIBSVM's format.
fn tiny_libsvm(n: usize, offset: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        let c = i % 3;
        let j = (i + offset) as f64;
        let (x, y) = (c as f64 + 0.3 * (j * 0.7).sin(), (c as f64 * 1.3) % 2.0 + 0.3 * (j * 1.1).cos());
        s.push_str(&format!("{} 1:{x} 2:{y}\n", c + 1));
    }
    s
}

/// A scratch directory holding a tiny 3-class training and test set; returns the path of a
/// (not written) study file inside it.
fn tiny_source(name: &str) -> PathBuf {
    let dir = crate::frame::testing::scratch(name);
    std::fs::write(dir.join("train.libsvm"), tiny_libsvm(30, 0)).unwrap();
    std::fs::write(dir.join("test.libsvm"), tiny_libsvm(12, 100)).unwrap();
    dir.join("tiny_multiclass.ron")
}

const TINY: &str = r#"Multiclass(
    name: "tiny_multiclass",
    seeds: [1, 2],
    train: "train.libsvm",
    test: "test.libsvm",
    train_points: Some(24),
    kernel: Rbf(gamma: 0.5),
    c: 1.0,
    poison: [Clean, Random(fraction: 0.1), Targeted(fraction: 0.1, pairs: [(1, 2)])],
    floral: (
        learner: (c: 1.0, eta: 0.01, schedule: Constant, init: Svm, bias: FreeSupportVectors),
        rounds: 5,
        k: 1,
        average_last: 2,
    ),
)"#;

#[test]
fn the_multiclass_study_shards_merge_and_resume_byte_for_byte() {
    let source = tiny_source("multiclass-data");
    crate::frame::testing::assert_shards_merge_to_the_whole_run(TINY, &source, "multiclass-shards");
    crate::frame::testing::assert_resume_recomputes_only_missing_cells(TINY, &source, "multiclass-resume");
    let _ = std::fs::remove_dir_all(source.parent().unwrap_or(Path::new("/nonexistent")));
}
