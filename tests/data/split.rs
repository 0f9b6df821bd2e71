//! stratified_split and Standardizer.

use faer::Mat;
use floral_data::{DataError, Dataset, Labels, Split, Standardizer, Stream, stratified_split, stream};
use proptest::prelude::*;

/// n_neg points labelled −1 then n_pos labelled +1; feature 0 is the point's index (so a point
/// can be traced through a split), feature 1 a constant.
fn tagged(n_neg: usize, n_pos: usize) -> Dataset {
    let n = n_neg + n_pos;
    Dataset::new(
        Mat::from_fn(n, 2, |i, j| if j == 0 { i as f64 } else { 3.0 }),
        Labels::from_signs((0..n).map(|i| i >= n_neg)),
    )
    .unwrap()
}

fn ids(d: &Dataset) -> Vec<usize> {
    (0..d.n()).map(|i| d.x()[(i, 0)] as usize).collect()
}

fn expected_counts(n_c: usize, val: f64, test: f64) -> (usize, usize, usize) {
    let t = (test * n_c as f64).round() as usize;
    let v = (val * n_c as f64).round() as usize;
    (n_c - t - v, v, t)
}

fn class_counts(d: &Dataset) -> (usize, usize) {
    let p = d.y().n_positive();
    (d.n() - p, p)
}

fn check_split(s: &Split, n_neg: usize, n_pos: usize, val: f64, test: f64) {
    let (tr_n, va_n, te_n) = expected_counts(n_neg, val, test);
    let (tr_p, va_p, te_p) = expected_counts(n_pos, val, test);
    assert_eq!(class_counts(&s.train), (tr_n, tr_p));
    assert_eq!(class_counts(&s.test), (te_n, te_p));
    match &s.validation {
        Some(v) => assert_eq!(class_counts(v), (va_n, va_p)),
        None => assert_eq!(val, 0.0),
    }
    assert_eq!(s.train_clean.as_ref(), Some(s.train.y()));
    // The parts partition the points, each keeps data order and each point keeps its label.
    let mut all: Vec<usize> = ids(&s.train);
    all.extend(ids(&s.test));
    if let Some(v) = &s.validation {
        all.extend(ids(v));
    }
    for part in [Some(&s.train), Some(&s.test), s.validation.as_ref()].into_iter().flatten() {
        let p = ids(part);
        assert!(p.windows(2).all(|w| w[0] < w[1]));
        for (k, &i) in p.iter().enumerate() {
            assert_eq!(part.y().get(k), if i >= n_neg { 1.0 } else { -1.0 });
        }
    }
    all.sort_unstable();
    assert_eq!(all, (0..n_neg + n_pos).collect::<Vec<_>>());
}

#[test]
fn split_sizes_follow_the_rounding_rule() {
    let d = tagged(31, 19);
    let s = stratified_split(&d, 0.2, 0.3, &mut stream(1, Stream::Data)).unwrap();
    // −1: test round(9.3) = 9, validation round(6.2) = 6, train 16; +1: 6, 4, 9.
    assert_eq!(class_counts(&s.test), (9, 6));
    assert_eq!(class_counts(s.validation.as_ref().unwrap()), (6, 4));
    assert_eq!(class_counts(&s.train), (16, 9));
    check_split(&s, 31, 19, 0.2, 0.3);
}

#[test]
fn zero_validation_fraction_gives_none() {
    let d = tagged(10, 10);
    let s = stratified_split(&d, 0.0, 0.5, &mut stream(1, Stream::Data)).unwrap();
    assert!(s.validation.is_none());
    check_split(&s, 10, 10, 0.0, 0.5);
}

#[test]
fn split_is_deterministic_and_seed_dependent() {
    let d = tagged(40, 40);
    let a = stratified_split(&d, 0.25, 0.25, &mut stream(1, Stream::Data)).unwrap();
    let b = stratified_split(&d, 0.25, 0.25, &mut stream(1, Stream::Data)).unwrap();
    let c = stratified_split(&d, 0.25, 0.25, &mut stream(2, Stream::Data)).unwrap();
    assert_eq!(ids(&a.test), ids(&b.test));
    assert_ne!(ids(&a.test), ids(&c.test));
}

#[test]
fn bad_fractions_are_refused() {
    let d = tagged(10, 10);
    let mut rng = stream(0, Stream::Data);
    let field = |r: Result<Split, DataError>| match r {
        Err(DataError::InvalidParam { field, .. }) => field,
        other => panic!("{other:?}"),
    };
    assert_eq!(field(stratified_split(&d, -0.1, 0.2, &mut rng)), "validation_fraction");
    assert_eq!(field(stratified_split(&d, 0.1, f64::NAN, &mut rng)), "test_fraction");
    assert_eq!(field(stratified_split(&d, 0.1, 0.0, &mut rng)), "test_fraction");
    assert_eq!(field(stratified_split(&d, 0.5, 0.5, &mut rng)), "validation_fraction + test_fraction");
    // 2 points per class: round(0.2 · 2) = 0 test points.
    assert_eq!(field(stratified_split(&tagged(2, 2), 0.0, 0.2, &mut rng)), "test_fraction");
    assert_eq!(field(stratified_split(&tagged(2, 2), 0.2, 0.5, &mut rng)), "validation_fraction");
    // Train empty: 1 point per class, test round(0.5) = 1.
    assert_eq!(field(stratified_split(&tagged(1, 1), 0.0, 0.5, &mut rng)), "validation_fraction + test_fraction");
}

#[test]
fn standardizer_centres_and_scales_train() {
    let x = Mat::from_fn(4, 3, |i, j| match j {
        0 => i as f64,       // 0,1,2,3: mean 1.5, population sd √1.25
        1 => 7.0,            // constant: scale 1
        _ => (i * i) as f64, // 0,1,4,9
    });
    let d = Dataset::new(x, Labels::from_signs([true, false, true, false])).unwrap();
    let s = Standardizer::fit(&d);
    assert_eq!(s.mean(), &[1.5, 7.0, 3.5]);
    assert!((s.scale()[0] - 1.25f64.sqrt()).abs() < 1e-15);
    assert_eq!(s.scale()[1], 1.0);
    let z = s.transform(&d).unwrap();
    assert_eq!(z.y(), d.y());
    for j in [0, 2] {
        let m = (0..4).map(|i| z.x()[(i, j)]).sum::<f64>() / 4.0;
        let v = (0..4).map(|i| (z.x()[(i, j)] - m).powi(2)).sum::<f64>() / 4.0;
        assert!(m.abs() < 1e-15 && (v - 1.0).abs() < 1e-12, "feature {j}: {m} {v}");
    }
    assert!((0..4).all(|i| z.x()[(i, 1)] == 0.0));
    let wrong = Dataset::new(Mat::zeros(1, 2), Labels::from_signs([true])).unwrap();
    assert!(matches!(s.transform(&wrong), Err(DataError::DimensionMismatch { expected: 3, got: 2, .. })));
}

#[test]
fn transform_split_uses_the_train_fit_everywhere() {
    let d = tagged(20, 20);
    let s = stratified_split(&d, 0.25, 0.25, &mut stream(3, Stream::Data)).unwrap();
    let fit = Standardizer::fit(&s.train);
    let t = Standardizer::transform_split(s.clone()).unwrap();
    assert_eq!(t.train_clean, s.train_clean);
    for (raw, out) in
        [(&s.train, &t.train), (&s.test, &t.test), (s.validation.as_ref().unwrap(), t.validation.as_ref().unwrap())]
    {
        assert_eq!(raw.y(), out.y());
        for i in 0..raw.n() {
            let want = (raw.x()[(i, 0)] - fit.mean()[0]) / fit.scale()[0];
            assert!((out.x()[(i, 0)] - want).abs() < 1e-12);
        }
    }
    // Test data is not re-centred on itself.
    let test_mean = (0..t.test.n()).map(|i| t.test.x()[(i, 0)]).sum::<f64>() / t.test.n() as f64;
    let train_mean = (0..t.train.n()).map(|i| t.train.x()[(i, 0)]).sum::<f64>() / t.train.n() as f64;
    assert!(train_mean.abs() < 1e-12);
    assert!(test_mean.abs() > 1e-6 || t.test.n() == 0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn split_partitions_or_refuses(n_neg in 1usize..40, n_pos in 1usize..40,
                                   val in 0.0f64..0.5, test in 0.01f64..0.5, seed in any::<u64>()) {
        let d = tagged(n_neg, n_pos);
        match stratified_split(&d, val, test, &mut stream(seed, Stream::Data)) {
            Ok(s) => check_split(&s, n_neg, n_pos, val, test),
            Err(DataError::InvalidParam { .. }) => {
                let (tr_n, va_n, te_n) = expected_counts(n_neg, val, test);
                let (tr_p, va_p, te_p) = expected_counts(n_pos, val, test);
                let empty = tr_n + tr_p == 0 || te_n + te_p == 0 || (val > 0.0 && va_n + va_p == 0);
                prop_assert!(empty || val + test >= 1.0);
            }
            Err(e) => prop_assert!(false, "{:?}", e),
        }
    }
}
