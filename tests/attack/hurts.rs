//! The optimised poisoners hurt a plain SVM at least as much as random flips of the same budget.
//!
//! Data: two moons (noise 0.2, 240 points), stratified into train / validation / test
//! (≈ 108 / 48 / 84), standardised on the training split, for seeds 1..=5. Kernel RBF with
//! γ = 1, C = 1. Budget: 20 % of the training points. For each poisoner and seed the plain SVM
//! (SMO, C = 1) is retrained on the poisoned training labels and scored on the clean test split;
//! the mean test accuracy over the seeds of ALFA, ALFA-tilt and LFA must not exceed that of
//! random flips (whose rng is the seed's attacker stream, as the others').
//!
//! Run `cargo test -p floral-attack --test hurts -- --nocapture` to see the table.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use floral_attack::{
    Alfa, AlfaParams, AlfaTilt, AlfaTiltParams, Lfa, LfaParams, MarginFlips, MarginFlipsParams, MarginOrder,
    PoisonInput, Poisoner, RandomFlips, TopLambdaFlips, TopLambdaFlipsParams, poison_exact,
};
use floral_data::{Split, Standardizer, Stream, moons, stratified_split, stream};
use floral_svm::{Gram, Rbf, RbfParams, Smo, SmoParams};

const SEEDS: [u64; 5] = [1, 2, 3, 4, 5];
const FRACTION: f64 = 0.2;

fn split(seed: u64) -> Split {
    let mut rng = stream(seed, Stream::Data);
    let data = moons(240, 0.2, &mut rng).unwrap();
    Standardizer::transform_split(stratified_split(&data, 0.2, 0.35, &mut rng).unwrap()).unwrap()
}

/// Test accuracy of the plain SVM trained on the training split with its labels flipped by `p`.
fn poisoned_accuracy(p: &dyn Poisoner, s: &Split, k: &Rbf, seed: u64) -> f64 {
    let gram = Arc::new(Gram::new(k, s.train.x()));
    let input = PoisonInput { train: &s.train, kernel: k, gram: &gram, validation: s.validation.as_ref() };
    let budget = (FRACTION * s.train.n() as f64).round() as usize;
    let flips = poison_exact(p, &input, budget, &mut stream(seed, Stream::Attacker)).unwrap();
    assert_eq!(flips.len(), budget);
    let poisoned = s.train.with_labels(s.train.y().apply(&flips).unwrap()).unwrap();
    let model = Smo::new(SmoParams::default()).unwrap().fit(k, &poisoned, 1.0).unwrap();
    model.accuracy(&s.test)
}

#[test]
fn optimised_poisoners_hurt_at_least_as_much_as_random_flips() {
    let k = Rbf::new(RbfParams { gamma: 1.0 }).unwrap();
    let poisoners: Vec<(&str, Box<dyn Poisoner>)> = vec![
        ("random", Box::new(RandomFlips)),
        ("alfa", Box::new(Alfa::new(AlfaParams::default()).unwrap())),
        ("alfa_tilt", Box::new(AlfaTilt::new(AlfaTiltParams::default()).unwrap())),
        ("lfa", Box::new(Lfa::new(LfaParams::default()).unwrap())),
        ("margin_far", Box::new(MarginFlips::new(MarginFlipsParams::default()).unwrap())),
        (
            "margin_near",
            Box::new(
                MarginFlips::new(MarginFlipsParams { order: MarginOrder::NearestFirst, ..Default::default() }).unwrap(),
            ),
        ),
        ("top_lambda", Box::new(TopLambdaFlips::new(TopLambdaFlipsParams::default()).unwrap())),
    ];
    let splits: Vec<Split> = SEEDS.iter().map(|&s| split(s)).collect();
    let clean: Vec<f64> = splits
        .iter()
        .map(|s| Smo::new(SmoParams::default()).unwrap().fit(&k, &s.train, 1.0).unwrap().accuracy(&s.test))
        .collect();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    eprintln!("test accuracy of the plain SVM, budget {FRACTION} of n_train = {}:", splits[0].train.n());
    eprintln!("  {:<12} {:?} mean {:.4}", "clean", clean, mean(&clean));
    let mut means = std::collections::BTreeMap::new();
    for (name, p) in &poisoners {
        let acc: Vec<f64> =
            splits.iter().zip(SEEDS).map(|(s, seed)| poisoned_accuracy(p.as_ref(), s, &k, seed)).collect();
        eprintln!("  {:<12} {:?} mean {:.4}", name, acc, mean(&acc));
        means.insert(*name, mean(&acc));
    }
    let random = means["random"];
    assert!(random < mean(&clean), "random flips should hurt at all: {random} vs clean {}", mean(&clean));
    for name in ["alfa", "alfa_tilt", "lfa"] {
        assert!(means[name] <= random, "{name}: mean accuracy {} above random flips' {random}", means[name]);
    }
}
