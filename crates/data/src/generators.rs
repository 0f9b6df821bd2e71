//! Synthetic two-class data: `moons`, `circles` and `blobs` (scikit-learn's geometry), with
//! Gaussian noise drawn by Box–Muller from an explicit [`FloralRng`].

use std::f64::consts::PI;

use faer::Mat;
use rand::Rng;
use rand::seq::SliceRandom;

use crate::{DataError, Dataset, FloralRng, Labels};

/// One standard normal draw by the Box–Muller transform:
/// z = √(−2 ln u₁) · cos(2π u₂), with u₁ uniform on (0, 1] and u₂ uniform on [0, 1).
///
/// Consumes exactly two `f64` draws from `rng` (the sine partner is discarded, so the number of
/// draws per point never depends on earlier calls).
pub fn standard_normal(rng: &mut FloralRng) -> f64 {
    let u1 = 1.0 - rng.random::<f64>();
    let u2 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * PI * u2).cos()
}

/// `k` points evenly spaced on [a, b] including both ends (numpy's `linspace`; `[a]` for k = 1).
fn linspace(a: f64, b: f64, k: usize) -> impl Iterator<Item = f64> {
    let step = if k > 1 { (b - a) / (k - 1) as f64 } else { 0.0 };
    (0..k).map(move |i| a + step * i as f64)
}

/// `k` points evenly spaced on [a, b) (numpy's `linspace(..., endpoint=False)`).
fn linspace_open(a: f64, b: f64, k: usize) -> impl Iterator<Item = f64> {
    let step = if k > 0 { (b - a) / k as f64 } else { 0.0 };
    (0..k).map(move |i| a + step * i as f64)
}

fn check_n(n: usize) -> Result<(), DataError> {
    if n < 2 {
        return Err(DataError::InvalidParam {
            field: "n",
            expected: "n >= 2 (one point per class at least)",
            got: n.to_string(),
        });
    }
    Ok(())
}

fn check_spread(field: &'static str, v: f64) -> Result<(), DataError> {
    if !(v.is_finite() && v >= 0.0) {
        return Err(DataError::InvalidParam {
            field,
            expected: "a finite number >= 0",
            got: v.to_string(),
        });
    }
    Ok(())
}

/// Adds N(0, noise²) to every coordinate (row by row), shuffles the points with `rng`, and builds
/// the data set. `positive[i]` is the class of point i.
fn finish(
    mut pts: Vec<Vec<f64>>,
    positive: Vec<bool>,
    noise: f64,
    rng: &mut FloralRng,
) -> Result<Dataset, DataError> {
    if noise > 0.0 {
        for p in &mut pts {
            for v in p.iter_mut() {
                *v += noise * standard_normal(rng);
            }
        }
    }
    let mut order: Vec<usize> = (0..pts.len()).collect();
    order.shuffle(rng);
    let d = pts.first().map_or(0, Vec::len);
    let x = Mat::from_fn(pts.len(), d, |i, j| pts[order[i]][j]);
    let y = Labels::from_signs(order.iter().map(|&i| positive[i]));
    Dataset::new(x, y)
}

/// Two interleaving half circles (scikit-learn `make_moons` geometry).
///
/// n_out = ⌊n/2⌋ outer points (cos t, sin t) with t = linspace(0, π, n_out), label −1;
/// n_in = n − n_out inner points (1 − cos t, 1 − sin t − 0.5) with t = linspace(0, π, n_in),
/// label +1. Each coordinate then gets independent N(0, noise²) noise (drawn with
/// [`standard_normal`], points in that order, x before y), and the points are shuffled with `rng`.
///
/// # Errors
/// [`DataError::InvalidParam`] for n < 2 or a noise that is negative or not finite;
/// [`DataError::NonFinite`] if the noise is so large that a coordinate overflows.
pub fn moons(n: usize, noise: f64, rng: &mut FloralRng) -> Result<Dataset, DataError> {
    check_n(n)?;
    check_spread("noise", noise)?;
    let n_out = n / 2;
    let n_in = n - n_out;
    let mut pts = Vec::with_capacity(n);
    pts.extend(linspace(0.0, PI, n_out).map(|t| vec![t.cos(), t.sin()]));
    pts.extend(linspace(0.0, PI, n_in).map(|t| vec![1.0 - t.cos(), 1.0 - t.sin() - 0.5]));
    let positive = (0..n).map(|i| i >= n_out).collect();
    finish(pts, positive, noise, rng)
}

/// A small circle inside a large one (scikit-learn `make_circles` geometry).
///
/// n_out = ⌊n/2⌋ outer points (cos t, sin t) with t = linspace(0, 2π, n_out, endpoint = false),
/// label −1; n_in = n − n_out inner points factor·(cos t, sin t) with t = linspace(0, 2π, n_in,
/// endpoint = false), label +1; then N(0, noise²) noise on each coordinate and a shuffle, as in
/// [`moons`].
///
/// # Errors
/// [`DataError::InvalidParam`] for n < 2, a negative or non-finite noise, or factor outside (0, 1).
pub fn circles(
    n: usize,
    noise: f64,
    factor: f64,
    rng: &mut FloralRng,
) -> Result<Dataset, DataError> {
    check_n(n)?;
    check_spread("noise", noise)?;
    if !(factor > 0.0 && factor < 1.0) {
        return Err(DataError::InvalidParam {
            field: "factor",
            expected: "0 < factor < 1",
            got: factor.to_string(),
        });
    }
    let n_out = n / 2;
    let n_in = n - n_out;
    let mut pts = Vec::with_capacity(n);
    pts.extend(linspace_open(0.0, 2.0 * PI, n_out).map(|t| vec![t.cos(), t.sin()]));
    pts.extend(
        linspace_open(0.0, 2.0 * PI, n_in).map(|t| vec![factor * t.cos(), factor * t.sin()]),
    );
    let positive = (0..n).map(|i| i >= n_out).collect();
    finish(pts, positive, noise, rng)
}

/// Two isotropic Gaussian blobs: ⌊n/2⌋ points x = `centers[0]` + std·z with label −1 and the
/// remaining n − ⌊n/2⌋ points around `centers[1]` with label +1 (z standard normal per
/// coordinate, [`standard_normal`]), shuffled with `rng`. The dimension d is the centres' length.
///
/// # Errors
/// [`DataError::InvalidParam`] for n < 2, a negative or non-finite `std`, empty centres or
/// centres with non-finite coordinates; [`DataError::DimensionMismatch`] when the two centres
/// differ in length.
pub fn blobs(
    n: usize,
    centers: [&[f64]; 2],
    std: f64,
    rng: &mut FloralRng,
) -> Result<Dataset, DataError> {
    check_n(n)?;
    check_spread("std", std)?;
    let [a, b] = centers;
    if a.is_empty() || a.iter().chain(b).any(|v| !v.is_finite()) {
        return Err(DataError::InvalidParam {
            field: "centers",
            expected: "two non-empty vectors of finite coordinates",
            got: format!("{a:?}, {b:?}"),
        });
    }
    if a.len() != b.len() {
        return Err(DataError::DimensionMismatch {
            what: "length of centers[1] vs centers[0]",
            expected: a.len(),
            got: b.len(),
        });
    }
    let n_neg = n / 2;
    let pts = (0..n)
        .map(|i| if i < n_neg { a.to_vec() } else { b.to_vec() })
        .collect();
    let positive = (0..n).map(|i| i >= n_neg).collect();
    finish(pts, positive, std, rng)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linspace_matches_numpy() {
        let v: Vec<f64> = linspace(0.0, 1.0, 5).collect();
        assert_eq!(v, vec![0.0, 0.25, 0.5, 0.75, 1.0]);
        assert_eq!(linspace(0.0, 1.0, 1).collect::<Vec<_>>(), vec![0.0]);
        assert_eq!(linspace(0.0, 1.0, 0).count(), 0);
        let w: Vec<f64> = linspace_open(0.0, 1.0, 4).collect();
        assert_eq!(w, vec![0.0, 0.25, 0.5, 0.75]);
    }

    #[test]
    fn standard_normal_has_unit_moments() {
        let mut rng = crate::stream(3, crate::Stream::Data);
        let k = 20_000;
        let z: Vec<f64> = (0..k).map(|_| standard_normal(&mut rng)).collect();
        let mean = z.iter().sum::<f64>() / k as f64;
        let var = z.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / k as f64;
        // Standard errors: mean 1/√k ≈ 0.007, variance √(2/k) ≈ 0.01.
        assert!(mean.abs() < 0.03, "mean {mean}");
        assert!((var - 1.0).abs() < 0.05, "var {var}");
        assert!(z.iter().all(|v| v.is_finite()));
    }
}
