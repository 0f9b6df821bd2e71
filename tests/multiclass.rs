//! Multi-class SVMs and multi-class FLORAL end to end on the shipped `mnist_5k`.

use std::sync::Arc;

use floral::data::{MulticlassData, shipped};
use floral::svm::{Gram, Rbf, RbfParams, SmoParams, cross_gram, fit_ovo, multiclass_accuracy};

/// LIBSVM's figure recorded by `scripts/libsvm-mnist-reference` (key-value lines).
fn libsvm_reference() -> (f64, f64, usize, usize) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/libsvm_mnist_5k.txt");
    let text = std::fs::read_to_string(path).unwrap();
    let get = |key: &str| -> String {
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(' ')).map(str::to_string))
            .unwrap_or_else(|| panic!("{path}: no `{key}` line"))
    };
    (
        get("c").parse().unwrap(),
        get("gamma").parse().unwrap(),
        get("correct").parse().unwrap(),
        get("total").parse().unwrap(),
    )
}

pub(crate) fn mnist_5k() -> (MulticlassData, MulticlassData) {
    let train = shipped::load_sheet("mnist_5k", "train").unwrap();
    let test = shipped::load_sheet("mnist_5k", "test").unwrap();
    let names = train.classes();
    let train = MulticlassData::from_raw(train, &names, &shipped::sheet_path("mnist_5k", "train").unwrap()).unwrap();
    let test = MulticlassData::from_raw(test, &names, &shipped::sheet_path("mnist_5k", "test").unwrap()).unwrap();
    (train, test)
}

/// Our one-vs-one SVM (LIBSVM's pair order and voting) on mnist_5k with LIBSVM's settings lands
/// within 0.5 point of LIBSVM's own test accuracy.
#[test]
fn ovo_matches_libsvm_on_mnist_5k() {
    let (c, gamma, correct, total) = libsvm_reference();
    let (train, test) = mnist_5k();
    assert_eq!((train.n(), test.n(), train.y().n_classes()), (4000, 1000, 10));
    assert_eq!(total, test.n());
    let kernel = Rbf::new(RbfParams { gamma }).unwrap();
    let gram = Arc::new(Gram::new(&kernel, train.x()));
    let order = train.y().first_appearance_order();
    let (model, info) = fit_ovo(&gram, train.y(), c, SmoParams::default(), &order).unwrap();
    assert_eq!(model.pairs().len(), 45);
    assert!(info.status.iter().all(|s| s.as_str() == "converged"));
    let pred = model.predict(cross_gram(&kernel, test.x(), train.x()).as_ref());
    let ours = multiclass_accuracy(test.y(), &pred);
    let libsvm = correct as f64 / total as f64;
    assert!((ours - libsvm).abs() <= 0.005, "ours {ours} vs LIBSVM {libsvm}");
}
