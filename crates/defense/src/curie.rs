//! Curie (Laishram & Phoha 2016, "Curie: a method for protecting SVM classifier from poisoning
//! attack"): cluster the features, drop the points whose labelled position is far from their
//! cluster, fit the SVM on the rest (docs/method.md §7).

use std::collections::VecDeque;

use faer::MatRef;
use floral_data::{FloralRng, Labels, Streams};
use floral_projection::Bounds;
use rand::seq::index::sample;

use crate::common::{both_classes, check_c, drop_bounds, indices, sq_dist, svm, train_has_both_classes};
use crate::defence::{Screening, check_input};
use crate::{Defence, DefenseError, FitInput, Fitted};

/// Parameters of [`Curie`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CurieParams {
    /// Box bound C > 0 of the SVM on the kept points. Default 1.
    pub c: f64,
    /// DBSCAN radius ε > 0 (Euclidean, in feature space). Default 0.5.
    pub eps: f64,
    /// DBSCAN core-point threshold: a point is a core point when at least this many points,
    /// itself included, lie within ε. ≥ 1. Default 5.
    pub min_samples: usize,
    /// Weight w ≥ 0 of the label in the augmented space [x, w·y]. Default 0.05.
    pub label_weight: f64,
    /// Points of its cluster each point is compared with (fewer when the cluster is smaller).
    /// ≥ 1. Default 20.
    pub samples: usize,
    /// Points whose z-scored distance exceeds this are dropped. Finite. Default 0.75.
    pub z_threshold: f64,
}

impl Default for CurieParams {
    fn default() -> Self {
        Self { c: 1.0, eps: 0.5, min_samples: 5, label_weight: 0.05, samples: 20, z_threshold: 0.75 }
    }
}

/// Curie: (1) DBSCAN on the features x (radius ε, `min_samples`); (2) for each point i, the mean
/// Euclidean distance in the augmented space [x, w·y] to `samples` points drawn uniformly
/// without replacement from the other points of its cluster, d_i = mean_j √(‖x_i − x_j‖² +
/// w²(y_i − y_j)²); DBSCAN's noise points form one group together, as in the FLORAL authors'
/// reference code; (3) z_i = (d_i − mean d)/std d (population standard deviation); (4) the
/// points with z_i > `z_threshold` are dropped (none when std d = 0) and the SVM is fitted on
/// the rest.
///
/// That reference code samples among the cluster's points including the point itself, divides
/// the summed distances by the cluster size rather than the number sampled, and lowers its
/// sample count for good once it meets a small cluster; here d_i is the mean over the sampled
/// other points.
///
/// A point alone in its group has d_i = 0. The draws come from `rngs.learner`. Uses no trusted
/// data. Dropped points get coefficient 0 (C_i = 0 in SMO on the shared Gram matrix, which
/// solves exactly the SVM on the kept points); they are listed in [`Fitted::screening`].
#[derive(Debug, Clone)]
pub struct Curie {
    p: CurieParams,
}

/// What Curie's screening computed, per training point.
#[derive(Debug, Clone, PartialEq)]
pub struct CurieScreen {
    /// DBSCAN cluster of each point (None: noise).
    pub clusters: Vec<Option<usize>>,
    /// Mean augmented-space distance d_i to the sampled points of its group.
    pub distances: Vec<f64>,
    /// z-scored distances.
    pub z: Vec<f64>,
    /// Whether the point is dropped (z_i > threshold).
    pub dropped: Vec<bool>,
}

impl Curie {
    /// Validate the parameters.
    ///
    /// # Errors
    /// [`DefenseError::InvalidParam`] naming the first bad field: `c`, `eps` (finite, > 0),
    /// `min_samples` (≥ 1), `label_weight` (finite, ≥ 0), `samples` (≥ 1), `z_threshold`
    /// (finite).
    pub fn new(p: CurieParams) -> Result<Self, DefenseError> {
        check_c(p.c)?;
        let bad = |field: &'static str, expected: &'static str, got: String| {
            Err(DefenseError::InvalidParam { field, expected, got })
        };
        if !(p.eps.is_finite() && p.eps > 0.0) {
            return bad("eps", "a finite number > 0", p.eps.to_string());
        }
        if p.min_samples == 0 {
            return bad("min_samples", "an integer ≥ 1", "0".into());
        }
        if !(p.label_weight.is_finite() && p.label_weight >= 0.0) {
            return bad("label_weight", "a finite number ≥ 0", p.label_weight.to_string());
        }
        if p.samples == 0 {
            return bad("samples", "an integer ≥ 1", "0".into());
        }
        if !p.z_threshold.is_finite() {
            return bad("z_threshold", "a finite number", p.z_threshold.to_string());
        }
        Ok(Self { p })
    }

    /// Curie's screening of the points `x` with labels `y` (steps 1–4 of the type's docs).
    pub fn screen(&self, x: MatRef<'_, f64>, y: &Labels, rng: &mut FloralRng) -> CurieScreen {
        let n = x.nrows();
        let clusters = dbscan(x, self.p.eps, self.p.min_samples);
        // Groups: one per cluster, then the noise points together.
        let n_clusters = clusters.iter().flatten().max().map_or(0, |&m| m + 1);
        let mut groups: Vec<Vec<usize>> = vec![Vec::new(); n_clusters + 1];
        for (i, c) in clusters.iter().enumerate() {
            groups[c.unwrap_or(n_clusters)].push(i);
        }
        let w2 = self.p.label_weight * self.p.label_weight;
        let mut distances = vec![0.0; n];
        let mut others: Vec<usize> = Vec::new();
        for (i, d) in distances.iter_mut().enumerate() {
            let g = &groups[clusters[i].unwrap_or(n_clusters)];
            others.clear();
            others.extend(g.iter().copied().filter(|&j| j != i));
            if others.is_empty() {
                continue;
            }
            let m = self.p.samples.min(others.len());
            let picked = sample(rng, others.len(), m);
            let sum: f64 = picked
                .iter()
                .map(|a| {
                    let j = others[a];
                    (sq_dist(x, i, j) + w2 * (y.get(i) - y.get(j)).powi(2)).sqrt()
                })
                .sum();
            *d = sum / m as f64;
        }
        let mean = distances.iter().sum::<f64>() / n.max(1) as f64;
        let std = (distances.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / n.max(1) as f64).sqrt();
        let z: Vec<f64> = distances.iter().map(|d| if std > 0.0 { (d - mean) / std } else { 0.0 }).collect();
        let dropped = z.iter().map(|&z| z > self.p.z_threshold).collect();
        CurieScreen { clusters, distances, z, dropped }
    }
}

/// DBSCAN (Ester, Kriegel, Sander, Xu 1996) with scikit-learn's conventions: the ε-neighbourhood
/// of a point is every point at Euclidean distance ≤ ε, itself included; a core point has at
/// least `min_samples` points in it; clusters grow from the core points in index order (a
/// cluster is complete before the next starts), so a border point reachable from two clusters
/// joins the one found first. Returns each point's cluster (numbered from 0 in order of
/// discovery) or None for noise.
pub(crate) fn dbscan(x: MatRef<'_, f64>, eps: f64, min_samples: usize) -> Vec<Option<usize>> {
    let n = x.nrows();
    let eps2 = eps * eps;
    // Neighbourhoods are recomputed when needed (counted once, listed once per core point as
    // the cluster grows), so memory stays O(n) however dense the data.
    let neighbours = |i: usize| (0..n).filter(move |&j| sq_dist(x, i, j) <= eps2);
    let core: Vec<bool> = (0..n).map(|i| neighbours(i).count() >= min_samples).collect();
    let mut label: Vec<Option<usize>> = vec![None; n];
    let mut next = 0usize;
    let mut queue = VecDeque::new();
    for start in 0..n {
        if label[start].is_some() || !core[start] {
            continue;
        }
        label[start] = Some(next);
        queue.push_back(start);
        while let Some(p) = queue.pop_front() {
            if !core[p] {
                continue;
            }
            for q in neighbours(p) {
                if label[q].is_none() {
                    label[q] = Some(next);
                    queue.push_back(q);
                }
            }
        }
        next += 1;
    }
    label
}

impl Defence for Curie {
    fn name(&self) -> &'static str {
        "curie"
    }
    fn random_draws(&self) -> Option<&'static str> {
        Some("its distance samples")
    }

    fn fit(&self, input: FitInput<'_>, rngs: &mut Streams) -> Result<Fitted, DefenseError> {
        check_input(&input)?;
        let y = input.train.y();
        train_has_both_classes(y)?;
        let screen = self.screen(input.train.x(), y, &mut rngs.learner);
        both_classes(
            y.as_slice(),
            |i| !screen.dropped[i],
            "train",
            "both classes among the points Curie keeps",
            "after Curie's filter",
        )?;
        let bounds = drop_bounds(y.len(), self.p.c, &screen.dropped);
        let run = svm(input.kernels.train.clone(), y, Bounds::PerPoint(&bounds))?;
        let mut fitted = Fitted::single("curie", run.model(y), run.iterations, run.n_sv);
        fitted.screening =
            Some(Screening { dropped: indices(&screen.dropped), passes: 1, converged: true, ..Screening::default() });
        Ok(fitted)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use faer::Mat;
    use floral_data::{Stream, stream};

    #[test]
    fn dbscan_finds_two_clusters_and_noise() {
        // Two runs of five points 0.1 apart, far from each other, and one isolated point.
        let v = [0.0, 0.1, 0.2, 0.3, 0.4, 5.0, 5.1, 5.2, 5.3, 5.4, 20.0];
        let x = Mat::from_fn(v.len(), 1, |i, _| v[i]);
        let c = dbscan(x.as_ref(), 0.15, 3);
        assert_eq!(&c[..5], &[Some(0); 5]);
        assert_eq!(&c[5..10], &[Some(1); 5]);
        assert_eq!(c[10], None);
        // With min_samples above every neighbourhood size, everything is noise.
        assert!(dbscan(x.as_ref(), 0.15, 4).iter().all(|c| c.is_none()));
    }

    #[test]
    fn dbscan_border_points_join_a_cluster_without_extending_it() {
        // eps 1.2, min_samples 3: 1 and 2 are core points; 0 and 3 have two points within eps
        // (border points, reached from 1 and 2); 4.5 has only itself (noise).
        let v = [0.0, 1.0, 2.0, 3.0, 4.5];
        let x = Mat::from_fn(v.len(), 1, |i, _| v[i]);
        let c = dbscan(x.as_ref(), 1.2, 3);
        assert_eq!(c, vec![Some(0), Some(0), Some(0), Some(0), None]);
    }

    #[test]
    fn the_flipped_point_of_a_pure_cluster_has_the_largest_z() {
        // A 6×6 grid of spacing 0.01 labelled +1 with one point (14) labelled −1.
        let x = Mat::from_fn(36, 2, |i, c| if c == 0 { (i % 6) as f64 * 0.01 } else { (i / 6) as f64 * 0.01 });
        let y = Labels::from_signs((0..36).map(|i| i != 14));
        let curie = Curie::new(CurieParams::default()).unwrap();
        let s = curie.screen(x.as_ref(), &y, &mut stream(1, Stream::Learner));
        assert!(s.clusters.iter().all(|&c| c == Some(0)));
        let top = (0..36).max_by(|&a, &b| s.z[a].total_cmp(&s.z[b])).unwrap();
        assert_eq!(top, 14);
        assert!(s.dropped[14]);
        // z is a standardisation: mean 0, population variance 1.
        let m = s.z.iter().sum::<f64>() / 36.0;
        let v = s.z.iter().map(|z| (z - m).powi(2)).sum::<f64>() / 36.0;
        assert!(m.abs() < 1e-12 && (v - 1.0).abs() < 1e-12);
    }
}
