//! Our SMO against LIBSVM 3.24 on the shipped data and a generated moons set.
//!
//! The reference figures were produced with `svm-train` / `svm-predict` (commands in
//! `fixtures/libsvm_reference.json`); LIBSVM is not needed to run this test. Tolerances (from the
//! task): dual objective within 1e-3 relative, nSV within 2 %, test accuracy within 0.5 points.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::path::Path;

use floral_data::{Dataset, Stream, moons, shipped, stream};
use floral_svm::{Bounds, Dual, Gram, Rbf, RbfParams, SignedGram, Smo, SmoParams, Termination};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Fixture {
    libsvm_version: String,
    cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
struct Case {
    name: String,
    train: String,
    test: String,
    gamma: f64,
    c: f64,
    eps: f64,
    train_command: String,
    obj: f64,
    rho: f64,
    n_sv: usize,
    n_bounded_sv: usize,
    test_accuracy_percent: f64,
}

fn fixture() -> Fixture {
    serde_json::from_str(include_str!("fixtures/libsvm_reference.json")).unwrap()
}

/// A shipped `name:sheet`, or the generated moons written as
/// `moons(n=1000, noise=0.2, seed=7)` in the fixture.
fn load(spec: &str) -> Dataset {
    if let Some(args) = spec.strip_prefix("moons(").and_then(|s| s.strip_suffix(')')) {
        let mut n = 0usize;
        let mut noise = 0.0;
        let mut seed = 0u64;
        for kv in args.split(", ") {
            let (k, v) = kv.split_once('=').unwrap();
            match k {
                "n" => n = v.parse().unwrap(),
                "noise" => noise = v.parse().unwrap(),
                "seed" => seed = v.parse().unwrap(),
                other => panic!("unknown moons argument {other}"),
            }
        }
        return moons(n, noise, &mut stream(seed, Stream::Data)).unwrap();
    }
    shipped::resolve(spec).unwrap().into_binary(Path::new(spec)).unwrap()
}

fn check_case(case: &Case, dense_limit_mb: f64) {
    // dense_min_dim = 0: the storage is chosen by `dense_limit_mb` alone, so both paths run.
    let train = load(&case.train);
    let test = load(&case.test);
    let kernel = Rbf::new(RbfParams { gamma: case.gamma }).unwrap();
    let mut smo =
        Smo::new(SmoParams { eps: case.eps, dense_limit_mb, dense_min_dim: 0, ..SmoParams::default() }).unwrap();
    let model = smo.fit(&kernel, &train, case.c).unwrap();
    let what = format!("{} (dense_limit_mb = {dense_limit_mb}; LIBSVM: {})", case.name, case.train_command);
    assert_eq!(model.status(), Some(Termination::Converged), "{what}");
    let obj = model.objective().unwrap();
    assert!((obj - case.obj).abs() <= 1e-3 * case.obj.abs(), "{what}: objective {obj} vs LIBSVM {}", case.obj);
    let nsv = model.n_sv() as f64;
    assert!((nsv - case.n_sv as f64).abs() <= 0.02 * case.n_sv as f64, "{what}: nSV {nsv} vs LIBSVM {}", case.n_sv);
    let nbsv = model.n_bounded_sv().unwrap() as f64;
    assert!(
        (nbsv - case.n_bounded_sv as f64).abs() <= 0.02 * case.n_sv as f64,
        "{what}: nBSV {nbsv} vs LIBSVM {}",
        case.n_bounded_sv
    );
    let acc = 100.0 * model.accuracy(&test);
    assert!(
        (acc - case.test_accuracy_percent).abs() <= 0.5,
        "{what}: test accuracy {acc} % vs LIBSVM {} %",
        case.test_accuracy_percent
    );
    // ρ = −b: LIBSVM's rule on a solution of the same accuracy agrees to a few eps.
    assert!(
        (-model.bias() - case.rho).abs() <= 10.0 * case.eps * (1.0 + case.rho.abs()),
        "{what}: rho {} vs LIBSVM {}",
        -model.bias(),
        case.rho
    );
    // The returned λ satisfies the stopping rule when checked from scratch.
    let gram = Gram::new(&kernel, train.x());
    let q = SignedGram::new(gram.clone(), train.y()).unwrap();
    let dual = Dual::new(&q, Bounds::Uniform(case.c)).unwrap();
    assert!(dual.kkt_violation(model.lambda()) <= case.eps * 1.01, "{what}: KKT gap");
    assert!(dual.feasibility_residual(model.lambda()) <= 1e-10, "{what}: feasibility");
    assert!((dual.objective(model.lambda()) - obj).abs() <= 1e-9 * obj.abs(), "{what}: objective recomputed");
}

#[test]
fn fixture_is_complete() {
    let f = fixture();
    assert!(f.libsvm_version.starts_with("3."));
    let names: Vec<&str> = f.cases.iter().map(|c| c.name.as_str()).collect();
    for want in ["moon_train", "moon_train_adv_10", "breast_cancer", "mnist_1v7", "moons_generated"] {
        assert!(names.contains(&want), "missing case {want}");
    }
}

#[test]
fn smo_matches_libsvm_dense_gram() {
    for case in &fixture().cases {
        check_case(case, 1024.0);
    }
}

#[test]
fn smo_matches_libsvm_kernel_rows_on_demand() {
    for case in &fixture().cases {
        check_case(case, 0.0);
    }
}
