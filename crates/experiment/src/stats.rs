//! Statistics for studies: average ranks, Spearman's ρ, Kendall's τ-b, the overlap of two top-B
//! sets, a seeded two-level (seeds, then points) percentile bootstrap, and the paired Student-t
//! interval every study's paired comparisons use.

use floral_data::FloralRng;
use rand::Rng;

/// Ranks 1..n of `v` with ties given the average of the ranks they span (values compared with
/// `f64::total_cmp`).
pub fn average_ranks(v: &[f64]) -> Vec<f64> {
    let n = v.len();
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]).then(a.cmp(&b)));
    let mut r = vec![0.0; n];
    let mut s = 0;
    while s < n {
        let mut e = s + 1;
        while e < n && v[idx[e]].total_cmp(&v[idx[s]]).is_eq() {
            e += 1;
        }
        // Positions s..e (0-based) hold ranks s+1..=e; their average is (s + 1 + e)/2.
        let avg = (s + 1 + e) as f64 / 2.0;
        for &i in &idx[s..e] {
            r[i] = avg;
        }
        s = e;
    }
    r
}

/// Pearson's correlation Σ(a−ā)(b−b̄) / √(Σ(a−ā)² Σ(b−b̄)²); 0 when either side is constant or
/// fewer than two pairs are given.
pub fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    if n < 2 {
        return 0.0;
    }
    let ma = a[..n].iter().sum::<f64>() / n as f64;
    let mb = b[..n].iter().sum::<f64>() / n as f64;
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for i in 0..n {
        let (da, db) = (a[i] - ma, b[i] - mb);
        sab += da * db;
        saa += da * da;
        sbb += db * db;
    }
    if saa <= 0.0 || sbb <= 0.0 { 0.0 } else { sab / (saa * sbb).sqrt() }
}

/// Spearman's ρ: Pearson's correlation of the average ranks ([`average_ranks`]) of a and b;
/// 0 when either side is constant.
pub fn spearman(a: &[f64], b: &[f64]) -> f64 {
    pearson(&average_ranks(a), &average_ranks(b))
}

/// Kendall's τ-b = (n_c − n_d) / √((n₀ − n₁)(n₀ − n₂)), n₀ = n(n−1)/2, n_c/n_d the concordant and
/// discordant pairs, n₁/n₂ the pairs tied in a/b; 0 when either side is constant. O(n²).
pub fn kendall_tau_b(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (mut s, mut ta, mut tb) = (0i64, 0i64, 0i64);
    for i in 0..n {
        for j in (i + 1)..n {
            let da = a[i].total_cmp(&a[j]) as i64;
            let db = b[i].total_cmp(&b[j]) as i64;
            s += da * db;
            ta += i64::from(da == 0);
            tb += i64::from(db == 0);
        }
    }
    let n0 = (n * n.saturating_sub(1) / 2) as i64;
    let den = ((n0 - ta) as f64) * ((n0 - tb) as f64);
    if den <= 0.0 { 0.0 } else { s as f64 / den.sqrt() }
}

/// Indices of the `b` largest scores, ties by lower index.
pub fn top_indices(scores: &[f64], b: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&x, &y| scores[y].total_cmp(&scores[x]).then(x.cmp(&y)));
    idx.truncate(b);
    idx
}

/// |top_B(a) ∩ top_B(b)| / B, with top sets from [`top_indices`] (B clipped to n; 0 for B = 0).
pub fn top_overlap(a: &[f64], b: &[f64], big_b: usize) -> f64 {
    let k = big_b.min(a.len()).min(b.len());
    if k == 0 {
        return 0.0;
    }
    let ta = top_indices(a, k);
    let mut in_b = vec![false; a.len()];
    for i in top_indices(b, k) {
        in_b[i] = true;
    }
    ta.iter().filter(|&&i| in_b[i]).count() as f64 / k as f64
}

/// A point estimate with a percentile interval.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Estimate {
    /// The statistic on the data as observed (mean over groups of the per-group value).
    pub value: f64,
    /// The 2.5th percentile of the bootstrap distribution.
    pub lo: f64,
    /// The 97.5th percentile.
    pub hi: f64,
}

/// The value at quantile p of sorted data, by linear interpolation between order statistics
/// (position p·(n−1)).
fn quantile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let pos = p * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (pos - lo as f64) * (sorted[hi] - sorted[lo])
}

/// A statistic of paired samples, e.g. [`spearman`].
pub type PairStat<'a> = &'a (dyn Fn(&[f64], &[f64]) -> f64 + Sync);

/// The mean over groups (seeds) of `stat(a_g, b_g)` and its two-level percentile bootstrap
/// interval: each of `resamples` replicates draws the groups with replacement, then (when
/// `resample_points`) within each drawn group its points with replacement, and averages the
/// statistic over the drawn groups; the interval is the 2.5th–97.5th percentile of the
/// replicates. All draws come from `rng`. With `resamples` = 0 the interval is (value, value).
/// Groups with no points are skipped. Statistics of sets (such as [`top_overlap`]) are not
/// defined on samples with repeated points: bootstrap them over the groups only.
pub fn bootstrap(
    groups: &[(Vec<f64>, Vec<f64>)],
    stat: PairStat<'_>,
    resamples: usize,
    resample_points: bool,
    rng: &mut FloralRng,
) -> Estimate {
    let groups: Vec<&(Vec<f64>, Vec<f64>)> = groups.iter().filter(|g| !g.0.is_empty()).collect();
    if groups.is_empty() {
        return Estimate { value: 0.0, lo: 0.0, hi: 0.0 };
    }
    let g = groups.len();
    let value = groups.iter().map(|(a, b)| stat(a, b)).sum::<f64>() / g as f64;
    if resamples == 0 {
        return Estimate { value, lo: value, hi: value };
    }
    let mut reps = Vec::with_capacity(resamples);
    let (mut ra, mut rb) = (Vec::new(), Vec::new());
    for _ in 0..resamples {
        let mut total = 0.0;
        for _ in 0..g {
            let (a, b) = groups[rng.random_range(0..g)];
            if !resample_points {
                total += stat(a, b);
                continue;
            }
            ra.clear();
            rb.clear();
            for _ in 0..a.len() {
                let i = rng.random_range(0..a.len());
                ra.push(a[i]);
                rb.push(b[i]);
            }
            total += stat(&ra, &rb);
        }
        reps.push(total / g as f64);
    }
    reps.sort_by(f64::total_cmp);
    Estimate { value, lo: quantile(&reps, 0.025), hi: quantile(&reps, 0.975) }
}

/// The 97.5 % quantile of Student's t with `df` degrees of freedom, t₀.₉₇₅(df) (table for
/// 1..=30, the normal 1.96 beyond; NaN for df = 0).
pub fn t975(df: usize) -> f64 {
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ];
    if df == 0 { f64::NAN } else { T.get(df - 1).copied().unwrap_or(1.96) }
}

/// A mean with its 95 % t interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TInterval {
    /// The mean d̄.
    pub mean: f64,
    /// d̄ − h.
    pub lo: f64,
    /// d̄ + h.
    pub hi: f64,
}

/// Mean of paired differences d with its 95 % t interval: (d̄, d̄ − h, d̄ + h) with
/// h = t₀.₉₇₅(n − 1) · sd(d)/√n (sample standard deviation; NaN bounds for n < 2).
pub fn paired_interval(d: &[f64]) -> TInterval {
    let MeanStd { mean, std } = mean_std(d);
    let h = t975(d.len().saturating_sub(1)) * std / (d.len() as f64).sqrt();
    TInterval { mean, lo: mean - h, hi: mean + h }
}

/// Written as `[mean, lo, hi]` (the form `results.json` has always used).
impl serde::Serialize for TInterval {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (self.mean, self.lo, self.hi).serialize(s)
    }
}

/// Two rows compared seed by seed: the differences a − b, their mean with its 95 % t interval
/// ([`paired_interval`]), and on how many seeds a was strictly better.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairedComparison {
    /// Mean difference a − b and its 95 % t interval.
    pub diff: TInterval,
    /// Seeds with a − b > 0.
    pub wins: usize,
    /// Seeds compared.
    pub n: usize,
}

/// [`PairedComparison`] of `a` against `b` (paired by index); None unless both hold the same
/// number (≥ 2) of values.
pub fn paired(a: &[f64], b: &[f64]) -> Option<PairedComparison> {
    if a.len() != b.len() || a.len() < 2 {
        return None;
    }
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    let wins = d.iter().filter(|&&x| x > 0.0).count();
    Some(PairedComparison { diff: paired_interval(&d), wins, n: d.len() })
}

/// A sample's mean and sample standard deviation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeanStd {
    /// The mean.
    pub mean: f64,
    /// The sample standard deviation (n − 1 in the denominator; 0 for one value).
    pub std: f64,
}

/// mean and sample standard deviation (n − 1; 0 for one value).
pub fn mean_std(v: &[f64]) -> MeanStd {
    if v.is_empty() {
        return MeanStd { mean: f64::NAN, std: f64::NAN };
    }
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    if v.len() < 2 {
        return MeanStd { mean: m, std: 0.0 };
    }
    let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0);
    MeanStd { mean: m, std: var.sqrt() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use floral_data::{Stream, stream};
    use proptest::prelude::*;

    #[test]
    fn paired_interval_uses_student_t() {
        let TInterval { mean: m, lo, hi } = paired_interval(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(m, 3.0);
        // s = √2.5, t(0.975, 4) = 2.776.
        let h = 2.776 * 2.5f64.sqrt() / 5f64.sqrt();
        assert!((hi - m - h).abs() < 1e-12 && (m - lo - h).abs() < 1e-12);
        assert_eq!(t975(1), 12.706);
        assert_eq!(t975(100), 1.96);
        assert!(t975(0).is_nan());
    }

    #[test]
    fn ranks_average_ties() {
        assert_eq!(average_ranks(&[10.0, 20.0, 20.0, 5.0]), vec![2.0, 3.5, 3.5, 1.0]);
        assert_eq!(average_ranks(&[1.0, 1.0, 1.0]), vec![2.0, 2.0, 2.0]);
        assert!(average_ranks(&[]).is_empty());
    }

    #[test]
    fn spearman_and_kendall_known_values() {
        let a = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert!((spearman(&a, &[2.0, 4.0, 6.0, 8.0, 100.0]) - 1.0).abs() < 1e-15);
        assert!((spearman(&a, &[5.0, 4.0, 3.0, 2.0, 1.0]) + 1.0).abs() < 1e-15);
        assert!((kendall_tau_b(&a, &[5.0, 4.0, 3.0, 2.0, 1.0]) + 1.0).abs() < 1e-15);
        // One swapped adjacent pair: ρ = 1 − 6·2/(5·24) = 0.9, τ = (9 − 1)/10 = 0.8.
        let b = [1.0, 3.0, 2.0, 4.0, 5.0];
        assert!((spearman(&a, &b) - 0.9).abs() < 1e-12);
        assert!((kendall_tau_b(&a, &b) - 0.8).abs() < 1e-12);
        // Ties (scipy.stats.kendalltau([1,2,3,4], [1,1,2,2]) = 0.8164965809277261,
        // spearmanr = 0.8944271909999159).
        let (x, y) = ([1.0, 2.0, 3.0, 4.0], [1.0, 1.0, 2.0, 2.0]);
        assert!((kendall_tau_b(&x, &y) - 0.816_496_580_927_726).abs() < 1e-12);
        assert!((spearman(&x, &y) - 0.894_427_190_999_916).abs() < 1e-12);
        assert_eq!(spearman(&x, &[3.0; 4]), 0.0);
        assert_eq!(kendall_tau_b(&x, &[3.0; 4]), 0.0);
    }

    #[test]
    fn overlap_of_top_sets() {
        let a = [5.0, 4.0, 3.0, 2.0, 1.0];
        let b = [5.0, 1.0, 4.0, 2.0, 3.0];
        assert_eq!(top_overlap(&a, &b, 1), 1.0);
        assert_eq!(top_overlap(&a, &b, 2), 0.5);
        assert_eq!(top_overlap(&a, &b, 5), 1.0);
        assert_eq!(top_overlap(&a, &b, 0), 0.0);
    }

    #[test]
    fn bootstrap_is_seeded_and_brackets_the_value() {
        let mut r = stream(1, Stream::Analysis);
        let a: Vec<f64> = (0..60).map(|_| r.random::<f64>()).collect();
        let b: Vec<f64> = a.iter().map(|x| x + 0.3 * r.random::<f64>()).collect();
        let c: Vec<f64> = (0..60).map(|_| r.random::<f64>()).collect();
        let groups = vec![(a.clone(), b.clone()), (a, c)];
        let run = |s| bootstrap(&groups, &spearman, 200, true, &mut stream(s, Stream::Analysis));
        let e = run(2);
        assert_eq!(e, run(2));
        assert_ne!(e, run(3));
        assert!(e.lo < e.value && e.value < e.hi, "{e:?}");
        // Two very different groups: the seed level makes the interval wide.
        assert!(e.hi - e.lo > 0.2, "{e:?}");
        let none = bootstrap(&groups, &spearman, 0, true, &mut stream(2, Stream::Analysis));
        assert_eq!((none.lo, none.hi), (none.value, none.value));
        // Over groups only: the replicates are means of the two groups' values.
        let (v0, v1) = (spearman(&groups[0].0, &groups[0].1), spearman(&groups[1].0, &groups[1].1));
        let g = bootstrap(&groups, &spearman, 200, false, &mut stream(2, Stream::Analysis));
        assert!(g.lo >= v0.min(v1) - 1e-12 && g.hi <= v0.max(v1) + 1e-12, "{g:?}");
        let one = vec![groups[0].clone()];
        let o = bootstrap(&one, &spearman, 50, false, &mut stream(2, Stream::Analysis));
        assert_eq!((o.lo, o.hi), (o.value, o.value));
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// ρ and τ-b lie in [−1, 1], are symmetric, invariant under strictly increasing maps,
        /// and flip sign under a decreasing one.
        #[test]
        fn rank_correlations_are_rank_invariant(v in proptest::collection::vec((-5i32..5, -5i32..5), 2..30)) {
            let a: Vec<f64> = v.iter().map(|p| f64::from(p.0)).collect();
            let b: Vec<f64> = v.iter().map(|p| f64::from(p.1)).collect();
            let a3: Vec<f64> = a.iter().map(|x| x * x * x + 7.0).collect();
            let neg: Vec<f64> = b.iter().map(|x| -x).collect();
            for f in [spearman as fn(&[f64], &[f64]) -> f64, kendall_tau_b] {
                let r = f(&a, &b);
                prop_assert!((-1.0 - 1e-12..=1.0 + 1e-12).contains(&r));
                prop_assert!((r - f(&b, &a)).abs() < 1e-12);
                prop_assert!((r - f(&a3, &b)).abs() < 1e-12);
                prop_assert!((r + f(&a, &neg)).abs() < 1e-12);
            }
        }
    }
}
