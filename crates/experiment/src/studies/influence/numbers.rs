//! The per-level bootstrapped numbers the report and the answer read, computed from the cells.

use rayon::prelude::*;

use super::{CellResult, InfluenceStudy, Point};
use crate::stats::{Estimate, PairStat, bootstrap, kendall_tau_b, spearman, top_overlap};

/// The exact influence measures, by name, as magnitudes (a point is influential when its change
/// moves the model, in either direction).
pub(super) type Measure = (&'static str, fn(&Point) -> f64);

pub(super) const MEASURES: &[Measure] = &[
    ("flip: |Δ val hinge|", |p| p.flip_val_hinge_delta.abs()),
    ("flip: |Δ val error|", |p| p.flip_val_error_delta.abs()),
    ("flip: mean |Δf| on test", |p| p.flip_test_df),
    ("removal: |Δ val hinge|", |p| p.loo_val_hinge_delta.abs()),
    ("removal: mean |Δf| on test", |p| p.loo_test_df),
];

/// The headline ground truth: |Δ validation hinge| when the label is flipped.
pub(super) fn truth(p: &Point) -> f64 {
    p.flip_val_hinge_delta.abs()
}

fn first_order(p: &Point) -> f64 {
    p.first_order_flip_val_hinge_delta.abs()
}

/// An owned paired statistic (a top-B overlap for one B).
type BoxedStat = Box<dyn Fn(&[f64], &[f64]) -> f64 + Sync>;

/// One bootstrapped statistic of a poison level.
struct Stat<'a> {
    level: usize,
    groups: Vec<(Vec<f64>, Vec<f64>)>,
    f: PairStat<'a>,
    /// Resample points within seeds (false for set statistics: seeds only).
    points: bool,
}

/// Every statistic's two-level bootstrap estimate, each from its own stream seeded by the first
/// seed and the statistic's position.
fn estimate_all(stats: &[Stat<'_>], resamples: usize, first_seed: u64) -> Vec<Estimate> {
    stats
        .par_iter()
        .enumerate()
        .map(|(k, s)| {
            let mut rng = floral_data::named_stream(first_seed, floral_data::NamedStream::Bootstrap(k as u64));
            bootstrap(&s.groups, s.f, resamples, s.points, &mut rng)
        })
        .collect()
}

/// The per-level bootstrapped numbers the report and the answer use.
pub(super) struct LevelNumbers {
    /// [measure][score: svm, floral] → (spearman, kendall).
    pub(super) corr: Vec<[(Estimate, Estimate); 2]>,
    /// Spearman and Kendall of the first-order estimate with the exact flip hinge change.
    pub(super) first_vs_exact: (Estimate, Estimate),
    /// [B] → (svm λ, floral λ, first-order) overlap with the truth's top-B.
    pub(super) overlap: Vec<[Estimate; 3]>,
    /// [study round] → Spearman of FLORAL's λ with the truth.
    pub(super) rounds: Vec<Estimate>,
    /// Poisoned levels: Spearman of SVM λ with the truth on clean-label / flipped points, mean
    /// λ and mean truth on each (None when too few flipped points).
    pub(super) split: Option<SplitNumbers>,
    /// (B, the mean over seeds of the fraction of the top-B points by the truth that are not
    /// support vectors of the SVM, λ = 0).
    pub(super) top_non_sv: (usize, f64),
}

/// Clean-label against flipped points of one poison level.
pub(super) struct SplitNumbers {
    pub(super) n_flipped: f64,
    pub(super) corr_clean: Estimate,
    pub(super) corr_flipped: Estimate,
    pub(super) lambda_clean: f64,
    pub(super) lambda_flipped: f64,
    pub(super) truth_clean: f64,
    pub(super) truth_flipped: f64,
}

/// The arithmetic mean (1/m) Σ v_i, 0 for an empty slice.
fn mean(v: &[f64]) -> f64 {
    if v.is_empty() { 0.0 } else { v.iter().sum::<f64>() / v.len() as f64 }
}

/// The (λ, truth) pairs of a cell's points with clean labels (`want` false) or flipped ones.
fn pick(c: &CellResult, want: bool) -> (Vec<f64>, Vec<f64>) {
    c.points.iter().filter(|p| c.flipped.binary_search(&p.index).is_ok() == want).map(|p| (p.lambda, truth(p))).unzip()
}

impl InfluenceStudy {
    /// The statistics of level `li`, in the order [`Self::level_numbers`] reads them back (the
    /// order also seeds each statistic's bootstrap stream).
    fn level_stats<'a>(&self, li: usize, cells: &[&CellResult], overlaps: &'a [BoxedStat]) -> Vec<Stat<'a>> {
        let sp: PairStat<'_> = &spearman;
        let kt: PairStat<'_> = &kendall_tau_b;
        let mut stats = Vec::new();
        for (_, m) in MEASURES {
            let svm: Vec<_> = cells.iter().map(|c| (c.col(|p| p.lambda), c.col(m))).collect();
            let fl: Vec<_> = cells.iter().map(|c| (c.floral_last(), c.col(m))).collect();
            for g in [svm, fl] {
                stats.push(Stat { level: li, groups: g.clone(), f: sp, points: true });
                stats.push(Stat { level: li, groups: g, f: kt, points: true });
            }
        }
        let fe: Vec<_> = cells.iter().map(|c| (c.col(first_order), c.col(truth))).collect();
        stats.push(Stat { level: li, groups: fe.clone(), f: sp, points: true });
        stats.push(Stat { level: li, groups: fe, f: kt, points: true });
        for o in overlaps {
            for score in [0, 1, 2] {
                let g: Vec<_> = cells
                    .iter()
                    .map(|c| {
                        let s = match score {
                            0 => c.col(|p| p.lambda),
                            1 => c.floral_last(),
                            _ => c.col(first_order),
                        };
                        (s, c.col(truth))
                    })
                    .collect();
                stats.push(Stat { level: li, groups: g, f: o.as_ref(), points: false });
            }
        }
        for r in 0..self.rounds.len() {
            let g: Vec<_> = cells.iter().map(|c| (c.floral[r].clone(), c.col(truth))).collect();
            stats.push(Stat { level: li, groups: g, f: sp, points: true });
        }
        // Clean-label vs flipped points.
        let clean_g: Vec<_> = cells.iter().map(|c| pick(c, false)).collect();
        let flip_g: Vec<_> = cells.iter().map(|c| pick(c, true)).filter(|f| f.0.len() >= 3).collect();
        stats.push(Stat { level: li, groups: clean_g, f: sp, points: true });
        stats.push(Stat { level: li, groups: flip_g, f: sp, points: true });
        stats
    }

    /// Level numbers from the level's estimates (in [`Self::level_stats`] order) and cells.
    fn level_numbers(&self, est: &[Estimate], cells: &[&CellResult]) -> LevelNumbers {
        let mut it = est.iter().copied();
        let mut next = || it.next().unwrap_or(Estimate { value: 0.0, lo: 0.0, hi: 0.0 });
        let corr = MEASURES.iter().map(|_| [(next(), next()), (next(), next())]).collect();
        let first_vs_exact = (next(), next());
        let overlap = self.spec.top_b.iter().map(|_| [next(), next(), next()]).collect();
        let rounds = self.rounds.iter().map(|_| next()).collect();
        let corr_clean = next();
        let corr_flipped = next();
        let n_flipped = mean(&cells.iter().map(|c| c.flipped.len() as f64).collect::<Vec<_>>());
        let split = (n_flipped > 0.0).then(|| {
            let (mut lc, mut lf, mut tc, mut tf) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for c in cells {
                for p in &c.points {
                    if c.flipped.binary_search(&p.index).is_ok() {
                        lf.push(p.lambda);
                        tf.push(truth(p));
                    } else {
                        lc.push(p.lambda);
                        tc.push(truth(p));
                    }
                }
            }
            SplitNumbers {
                n_flipped,
                corr_clean,
                corr_flipped,
                lambda_clean: mean(&lc),
                lambda_flipped: mean(&lf),
                truth_clean: mean(&tc),
                truth_flipped: mean(&tf),
            }
        });
        let b = self.spec.top_b[self.spec.top_b.len() / 2];
        let fr: Vec<f64> = cells
            .iter()
            .map(|c| {
                let t = c.col(truth);
                let top = crate::stats::top_indices(&t, b);
                top.iter().filter(|&&k| c.points[k].lambda == 0.0).count() as f64 / b.max(1) as f64
            })
            .collect();
        LevelNumbers { corr, first_vs_exact, overlap, rounds, split, top_non_sv: (b, mean(&fr)) }
    }

    /// Every level's numbers: every statistic of every level bootstrapped in one parallel pass.
    pub(super) fn numbers(&self, cells: &[CellResult]) -> Vec<LevelNumbers> {
        let overlaps: Vec<BoxedStat> =
            self.spec.top_b.iter().map(|&b| Box::new(move |a: &[f64], t: &[f64]| top_overlap(a, t, b)) as _).collect();
        let nl = self.plan.levels.len();
        let of = |li: usize| cells.iter().filter(|c| c.level == li).collect::<Vec<_>>();
        let stats: Vec<Stat<'_>> = (0..nl).flat_map(|li| self.level_stats(li, &of(li), &overlaps)).collect();
        let est = estimate_all(&stats, self.spec.bootstrap, self.spec.seeds[0]);
        let per_level = est.len() / nl.max(1);
        debug_assert!(stats.iter().enumerate().all(|(k, s)| s.level == k / per_level));
        (0..nl).map(|li| self.level_numbers(&est[li * per_level..(li + 1) * per_level], &of(li))).collect()
    }
}
