//! moons, circles, blobs and the Gaussian mixture: geometry, class sizes, determinism and
//! parameter validation.

use floral_data::{DataError, Dataset, GaussianMixtureParams, Stream, blobs, circles, gaussian_mixture, moons, stream};
use proptest::prelude::*;

fn points(d: &Dataset, label: f64) -> Vec<(f64, f64)> {
    (0..d.n()).filter(|&i| d.y().get(i) == label).map(|i| (d.x()[(i, 0)], d.x()[(i, 1)])).collect()
}

fn sorted(mut v: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v
}

fn close(a: &[(f64, f64)], b: &[(f64, f64)]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(p, q)| (p.0 - q.0).abs() < 1e-12 && (p.1 - q.1).abs() < 1e-12)
}

#[test]
fn moons_without_noise_match_sklearn_points() {
    // make_moons(5, noise=0): outer t = linspace(0, π, 2), inner t = linspace(0, π, 3).
    let d = moons(5, 0.0, &mut stream(1, Stream::Data)).unwrap();
    assert_eq!((d.n(), d.dim()), (5, 2));
    assert!(close(&sorted(points(&d, -1.0)), &[(-1.0, 0.0), (1.0, 0.0)]));
    assert!(close(&sorted(points(&d, 1.0)), &[(0.0, 0.5), (1.0, -0.5), (2.0, 0.5)]));
}

#[test]
fn moons_lie_on_their_arcs() {
    let d = moons(101, 0.0, &mut stream(2, Stream::Data)).unwrap();
    let outer = points(&d, -1.0);
    let inner = points(&d, 1.0);
    assert_eq!((outer.len(), inner.len()), (50, 51));
    for (x, y) in outer {
        assert!((x * x + y * y - 1.0).abs() < 1e-12 && y >= -1e-12);
    }
    for (x, y) in inner {
        assert!(((x - 1.0).powi(2) + (y - 0.5).powi(2) - 1.0).abs() < 1e-12 && y <= 0.5 + 1e-12);
    }
}

#[test]
fn moons_noise_has_the_requested_spread() {
    // Radial residuals of the outer arc: for noise σ ≪ 1 their sd is close to σ.
    let d = moons(4000, 0.05, &mut stream(3, Stream::Data)).unwrap();
    let r: Vec<f64> = points(&d, -1.0).iter().map(|(x, y)| (x * x + y * y).sqrt() - 1.0).collect();
    let m = r.iter().sum::<f64>() / r.len() as f64;
    let sd = (r.iter().map(|v| (v - m).powi(2)).sum::<f64>() / r.len() as f64).sqrt();
    assert!((sd - 0.05).abs() < 0.005, "sd {sd}");
    assert!(m.abs() < 0.005, "mean {m}");
}

#[test]
fn generators_are_deterministic_and_shuffled() {
    let a = moons(50, 0.1, &mut stream(9, Stream::Data)).unwrap();
    let b = moons(50, 0.1, &mut stream(9, Stream::Data)).unwrap();
    let c = moons(50, 0.1, &mut stream(10, Stream::Data)).unwrap();
    assert_eq!(a.x(), b.x());
    assert_eq!(a.y(), b.y());
    assert_ne!(a.x(), c.x());
    // Shuffled: the labels are not the unshuffled block [-1 × 25, +1 × 25].
    let block: Vec<f64> = (0..50).map(|i| if i < 25 { -1.0 } else { 1.0 }).collect();
    assert_ne!(a.y().as_slice(), block.as_slice());
}

#[test]
fn circles_have_radius_one_and_factor() {
    let d = circles(40, 0.0, 0.3, &mut stream(4, Stream::Data)).unwrap();
    let outer = points(&d, -1.0);
    let inner = points(&d, 1.0);
    assert_eq!((outer.len(), inner.len()), (20, 20));
    assert!(outer.iter().all(|(x, y)| ((x * x + y * y).sqrt() - 1.0).abs() < 1e-12));
    assert!(inner.iter().all(|(x, y)| ((x * x + y * y).sqrt() - 0.3).abs() < 1e-12));
    // endpoint = false: the first angle 0 appears once, 2π (a duplicate of it) never.
    assert_eq!(outer.iter().filter(|p| (p.0 - 1.0).abs() < 1e-12).count(), 1);
}

#[test]
fn blobs_centre_on_their_centres() {
    let d = blobs(2001, [&[0.0, 0.0, 0.0], &[4.0, -2.0, 1.0]], 0.5, &mut stream(5, Stream::Data)).unwrap();
    assert_eq!((d.n(), d.dim(), d.y().n_positive()), (2001, 3, 1001));
    for (label, centre) in [(-1.0, [0.0, 0.0, 0.0]), (1.0, [4.0, -2.0, 1.0])] {
        let rows: Vec<usize> = (0..d.n()).filter(|&i| d.y().get(i) == label).collect();
        for (j, c) in centre.iter().enumerate() {
            let m = rows.iter().map(|&i| d.x()[(i, j)]).sum::<f64>() / rows.len() as f64;
            // Standard error 0.5/√1000 ≈ 0.016.
            assert!((m - c).abs() < 0.08, "class {label} feature {j}: mean {m}");
        }
    }
}

#[test]
fn invalid_parameters_are_named() {
    let mut rng = stream(0, Stream::Data);
    let field = |r: Result<Dataset, DataError>| match r {
        Err(DataError::InvalidParam { field, .. }) => field,
        other => panic!("{other:?}"),
    };
    assert_eq!(field(moons(1, 0.1, &mut rng)), "n");
    assert_eq!(field(moons(10, -0.1, &mut rng)), "noise");
    assert_eq!(field(moons(10, f64::NAN, &mut rng)), "noise");
    assert_eq!(field(circles(10, 0.1, 1.0, &mut rng)), "factor");
    assert_eq!(field(circles(10, 0.1, 0.0, &mut rng)), "factor");
    assert_eq!(field(circles(10, f64::INFINITY, 0.5, &mut rng)), "noise");
    assert_eq!(field(blobs(10, [&[], &[]], 1.0, &mut rng)), "centers");
    assert_eq!(field(blobs(10, [&[0.0], &[f64::NAN]], 1.0, &mut rng)), "centers");
    assert_eq!(field(blobs(10, [&[0.0], &[1.0]], -1.0, &mut rng)), "std");
    assert!(matches!(
        blobs(10, [&[0.0], &[1.0, 2.0]], 1.0, &mut rng),
        Err(DataError::DimensionMismatch { expected: 1, got: 2, .. })
    ));
    let e = moons(1, 0.1, &mut rng).unwrap_err();
    assert_eq!(e.to_string(), "invalid parameter `n`: expected n >= 2 (one point per class at least), got 1");
}

#[test]
fn overflowing_noise_is_a_typed_error() {
    let r = moons(10, f64::MAX, &mut stream(0, Stream::Data));
    assert!(matches!(r, Err(DataError::NonFinite { .. })), "{r:?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn moons_sizes_and_finiteness(n in 2usize..300, noise in 0.0f64..2.0, seed in any::<u64>()) {
        let d = moons(n, noise, &mut stream(seed, Stream::Data)).unwrap();
        prop_assert_eq!(d.n(), n);
        prop_assert_eq!(d.dim(), 2);
        prop_assert_eq!(d.y().n_positive(), n - n / 2);
        let e = moons(n, noise, &mut stream(seed, Stream::Data)).unwrap();
        prop_assert_eq!(d.x(), e.x());
    }
}

fn mixture(n: usize, d: usize, p: GaussianMixtureParams, seed: u64) -> Dataset {
    gaussian_mixture(n, d, &p, &mut stream(seed, Stream::Data)).unwrap()
}

/// The mean of the rows of class `label`.
fn class_mean(data: &Dataset, label: f64) -> Vec<f64> {
    let rows: Vec<usize> = (0..data.n()).filter(|&i| data.y().get(i) == label).collect();
    (0..data.dim()).map(|j| rows.iter().map(|&i| data.x()[(i, j)]).sum::<f64>() / rows.len() as f64).collect()
}

#[test]
fn gaussian_mixture_is_deterministic_per_seed() {
    let p = GaussianMixtureParams::default();
    let a = mixture(300, 16, p, 7);
    let b = mixture(300, 16, p, 7);
    let c = mixture(300, 16, p, 8);
    assert!(a.same_features(&b));
    assert_eq!(a.y().as_slice(), b.y().as_slice());
    assert!(!a.same_features(&c));
}

#[test]
fn gaussian_mixture_is_balanced_shuffled_and_finite() {
    let d = mixture(101, 8, GaussianMixtureParams::default(), 3);
    assert_eq!((d.n(), d.dim()), (101, 8));
    let pos = d.y().as_slice().iter().filter(|&&v| v == 1.0).count();
    assert_eq!((101 - pos, pos), (50, 51));
    // Shuffled: the labels are not sorted.
    assert!(d.y().as_slice().windows(2).any(|w| w[0] > w[1]));
    assert!(d.y().as_slice().windows(2).any(|w| w[0] < w[1]));
    for j in 0..d.dim() {
        for i in 0..d.n() {
            assert!(d.x()[(i, j)].is_finite());
        }
    }
}

#[test]
fn gaussian_mixture_class_means_are_the_separation_apart() {
    // τ = 0: the class means are c± = ±(s/2)·u, estimated from 2000 points each with
    // per-coordinate noise sd σ/√2000, so ‖m̄₊ − m̄₋‖² ≈ s² + 2·d·σ²/2000 = 6.25 + 0.032.
    let p =
        GaussianMixtureParams { components_per_class: 3, separation: 2.5, component_spread: 0.0, within_scale: 1.0 };
    let data = mixture(4000, 32, p, 11);
    let (a, b) = (class_mean(&data, 1.0), class_mean(&data, -1.0));
    let dist = a.iter().zip(&b).map(|(x, y)| (x - y).powi(2)).sum::<f64>().sqrt();
    assert!((dist - 2.5).abs() < 0.1, "distance between class means {dist}");
    // Per-coordinate spread around the class mean is σ = 1.
    let rows: Vec<usize> = (0..data.n()).filter(|&i| data.y().get(i) == 1.0).collect();
    let var = rows.iter().map(|&i| (0..32).map(|j| (data.x()[(i, j)] - a[j]).powi(2)).sum::<f64>()).sum::<f64>()
        / (rows.len() * 32) as f64;
    assert!((var - 1.0).abs() < 0.05, "within-class variance {var}");
}

/// Accuracy on the second half of a nearest-class-mean rule fitted on the first half.
fn nearest_mean_accuracy(data: &Dataset) -> f64 {
    let n = data.n();
    let fit: Vec<usize> = (0..n / 2).collect();
    let mean = |label: f64| -> Vec<f64> {
        let rows: Vec<usize> = fit.iter().copied().filter(|&i| data.y().get(i) == label).collect();
        (0..data.dim()).map(|j| rows.iter().map(|&i| data.x()[(i, j)]).sum::<f64>() / rows.len() as f64).collect()
    };
    let (mp, mn) = (mean(1.0), mean(-1.0));
    let w: Vec<f64> = mp.iter().zip(&mn).map(|(a, b)| a - b).collect();
    let b: f64 = mp.iter().zip(&mn).zip(&w).map(|((a, c), w)| w * (a + c) / 2.0).sum();
    let right = (n / 2..n)
        .filter(|&i| {
            let score: f64 = (0..data.dim()).map(|j| w[j] * data.x()[(i, j)]).sum::<f64>() - b;
            (score > 0.0) == (data.y().get(i) == 1.0)
        })
        .count();
    right as f64 / (n - n / 2) as f64
}

#[test]
fn gaussian_mixture_is_linearly_separable_in_proportion_to_the_separation() {
    // Defaults: about 87% for the best linear rule (see GaussianMixtureParams); a plug-in
    // nearest-mean rule on 2000 points stays well above chance.
    let good = nearest_mean_accuracy(&mixture(4000, 64, GaussianMixtureParams::default(), 5));
    assert!(good > 0.8, "accuracy with the default separation {good}");
    // No separation and a single component per class: nothing to learn.
    let none =
        GaussianMixtureParams { components_per_class: 1, separation: 0.0, component_spread: 0.0, within_scale: 1.0 };
    let chance = nearest_mean_accuracy(&mixture(4000, 64, none, 5));
    assert!((chance - 0.5).abs() < 0.05, "accuracy without separation {chance}");
}

#[test]
fn gaussian_mixture_validates_parameters() {
    let ok = GaussianMixtureParams::default();
    let bad = |n: usize, d: usize, p: GaussianMixtureParams| {
        gaussian_mixture(n, d, &p, &mut stream(0, Stream::Data)).unwrap_err()
    };
    for (n, d, p, field) in [
        (1, 4, ok, "n"),
        (10, 0, ok, "d"),
        (1 << 20, 1 << 20, ok, "n·d"),
        (10, 4, GaussianMixtureParams { components_per_class: 0, ..ok }, "components_per_class"),
        (10, 4, GaussianMixtureParams { separation: -1.0, ..ok }, "separation"),
        (10, 4, GaussianMixtureParams { component_spread: f64::NAN, ..ok }, "component_spread"),
        (10, 4, GaussianMixtureParams { within_scale: f64::INFINITY, ..ok }, "within_scale"),
    ] {
        let e = bad(n, d, p);
        assert!(matches!(e, DataError::InvalidParam { field: f, .. } if f == field), "{field}: {e:?}");
    }
}
