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
        return Err(DataError::InvalidParam { field, expected: "a finite number >= 0", got: v.to_string() });
    }
    Ok(())
}

/// Adds N(0, noise²) to every coordinate (row by row), shuffles the points with `rng`, and builds
/// the data set. `positive[i]` is the class of point i.
fn finish(mut pts: Vec<Vec<f64>>, positive: Vec<bool>, noise: f64, rng: &mut FloralRng) -> Result<Dataset, DataError> {
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
pub fn circles(n: usize, noise: f64, factor: f64, rng: &mut FloralRng) -> Result<Dataset, DataError> {
    check_n(n)?;
    check_spread("noise", noise)?;
    if !(factor > 0.0 && factor < 1.0) {
        return Err(DataError::InvalidParam { field: "factor", expected: "0 < factor < 1", got: factor.to_string() });
    }
    let n_out = n / 2;
    let n_in = n - n_out;
    let mut pts = Vec::with_capacity(n);
    pts.extend(linspace_open(0.0, 2.0 * PI, n_out).map(|t| vec![t.cos(), t.sin()]));
    pts.extend(linspace_open(0.0, 2.0 * PI, n_in).map(|t| vec![factor * t.cos(), factor * t.sin()]));
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
pub fn blobs(n: usize, centers: [&[f64]; 2], std: f64, rng: &mut FloralRng) -> Result<Dataset, DataError> {
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
    let pts = (0..n).map(|i| if i < n_neg { a.to_vec() } else { b.to_vec() }).collect();
    let positive = (0..n).map(|i| i >= n_neg).collect();
    finish(pts, positive, std, rng)
}

/// Parameters of [`gaussian_mixture`]: each class is a mixture of isotropic Gaussian
/// components around a class centre.
///
/// Defaults (used by the paper-scale stand-in for sentence embeddings of IMDB reviews,
/// n = 20,000, d = 768): 4 components per class, separation 2.5, component spread 0.5,
/// within-component scale 1.0. Along the class direction each class is then N(±1.25, 1.25)
/// (variance 0.5² + 1² = 1.25), so the best linear rule is right about Φ(1.25/√1.25) ≈ 87% of
/// the time, close to a linear probe on real sentence embeddings.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GaussianMixtureParams {
    /// Components per class, k ≥ 1 (default 4).
    pub components_per_class: usize,
    /// Distance s ≥ 0 between the two class centres (default 2.5).
    pub separation: f64,
    /// Per-coordinate standard deviation τ ≥ 0 of the component means around their class
    /// centre (default 0.5).
    pub component_spread: f64,
    /// Per-coordinate standard deviation σ ≥ 0 of the points around their component mean
    /// (default 1.0).
    pub within_scale: f64,
}

impl Default for GaussianMixtureParams {
    fn default() -> Self {
        Self { components_per_class: 4, separation: 2.5, component_spread: 0.5, within_scale: 1.0 }
    }
}

/// A balanced two-class Gaussian mixture in d dimensions, a stand-in for foundation-model
/// embeddings (e.g. n = 20,000, d = 768 for the paper's IMDB scale).
///
/// With s = `separation`, τ = `component_spread`, σ = `within_scale`, k =
/// `components_per_class`, and every z below an independent standard normal vector in R^d
/// ([`standard_normal`] per coordinate):
/// 1. the class direction u = z₀ / ‖z₀‖ (a uniformly random unit vector); the class centres
///    are c₊ = +(s/2)·u and c₋ = −(s/2)·u, so ‖c₊ − c₋‖ = s;
/// 2. the component means m_{c,j} = c_c + τ·z_{c,j} for j = 0..k, class −1 first;
/// 3. the labels: the first ⌊n/2⌋ points are −1, the other n − ⌊n/2⌋ are +1; point i of a
///    class (counted within the class) belongs to component j = i mod k, so components are
///    balanced too;
/// 4. the points are shuffled with `rng` (a uniform permutation), then row r of the result is
///    x_r = m_{y_r, j_r} + σ·z_r, drawn row by row.
///
/// Every draw comes from `rng`, in the order above, so a seed fixes the data. Memory is the
/// n×d matrix plus 2k + 1 vectors of length d and the n-point permutation: O(n·d).
///
/// # Errors
/// [`DataError::InvalidParam`] for n < 2, d = 0, n·d above [`MAX_CELLS`](crate::MAX_CELLS),
/// k = 0, or a separation, spread or scale that is negative or not finite;
/// [`DataError::NonFinite`] if the parameters are so large that a coordinate overflows.
pub fn gaussian_mixture(
    n: usize,
    d: usize,
    params: &GaussianMixtureParams,
    rng: &mut FloralRng,
) -> Result<Dataset, DataError> {
    check_n(n)?;
    if d == 0 {
        return Err(DataError::InvalidParam { field: "d", expected: "d >= 1", got: d.to_string() });
    }
    if n.checked_mul(d).is_none_or(|c| c > crate::MAX_CELLS) {
        return Err(DataError::InvalidParam {
            field: "n·d",
            expected: "n·d <= 2^27 (MAX_CELLS)",
            got: format!("{n}·{d}"),
        });
    }
    let k = params.components_per_class;
    if k == 0 {
        return Err(DataError::InvalidParam {
            field: "components_per_class",
            expected: "an integer >= 1",
            got: k.to_string(),
        });
    }
    check_spread("separation", params.separation)?;
    check_spread("component_spread", params.component_spread)?;
    check_spread("within_scale", params.within_scale)?;

    // 1. The class direction.
    let mut u: Vec<f64> = (0..d).map(|_| standard_normal(rng)).collect();
    let norm = u.iter().map(|v| v * v).sum::<f64>().sqrt();
    if norm > 0.0 {
        u.iter_mut().for_each(|v| *v /= norm);
    } else {
        // Probability zero; any unit vector will do.
        u[0] = 1.0;
    }
    // 2. Component means, class −1 (index 0) then class +1 (index 1).
    let half = params.separation / 2.0;
    let tau = params.component_spread;
    let means: Vec<Vec<Vec<f64>>> = [-half, half]
        .iter()
        .map(|&sign_half| {
            (0..k).map(|_| u.iter().map(|&uj| sign_half * uj + tau * standard_normal(rng)).collect()).collect()
        })
        .collect();
    // 3. Labels and components, then 4. the shuffle and the points.
    let n_neg = n / 2;
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(rng);
    let sigma = params.within_scale;
    let mut x = Mat::<f64>::zeros(n, d);
    let mut positive = Vec::with_capacity(n);
    for (r, &i) in order.iter().enumerate() {
        let (class, within) = if i < n_neg { (0, i) } else { (1, i - n_neg) };
        let mean = &means[class][within % k];
        for (j, &m) in mean.iter().enumerate() {
            x[(r, j)] = m + sigma * standard_normal(rng);
        }
        positive.push(class == 1);
    }
    Dataset::new(x, Labels::from_signs(positive))
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
