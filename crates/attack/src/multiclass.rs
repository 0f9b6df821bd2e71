//! Multi-class label poisoning: the in-game attacker [`ConfusableTopK`] (multi-class FLORAL's
//! attacker) and the offline poisoners [`random_relabels`] and [`targeted_relabels`].

use floral_data::{ClassLabels, FloralRng};
use floral_game::{GameError, MulticlassAttacker, MulticlassView, Relabel};
use rand::Rng;
use rand::seq::index::sample;

use crate::AttackError;

/// Which class a relabelled point moves to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum NewClass {
    /// The most confusable class: argmax_{c ≠ c_i} f_c(x_i) at λ^{t−1} (ties: lowest index).
    MostConfusable,
    /// Uniformly among the K − 1 other classes.
    Uniform,
}

/// Parameters of [`ConfusableTopK`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfusableTopKParams {
    /// Relabels per round (the budget k, multi-class label changes).
    pub k: usize,
    /// Candidate pool size B. Default (None): 2k, as the binary attacker.
    #[serde(default)]
    pub pool: Option<usize>,
    /// λ above this makes a point a candidate. Default 1e-5.
    #[serde(default = "default_sv_threshold")]
    pub sv_threshold: f64,
    /// The new class. Default [`NewClass::MostConfusable`].
    #[serde(default = "default_new_class")]
    pub new_class: NewClass,
}

fn default_sv_threshold() -> f64 {
    1e-5
}

fn default_new_class() -> NewClass {
    NewClass::MostConfusable
}

/// The multi-class randomized top-k attacker. A point's weight is its λ in the one-vs-rest
/// problem of its own clean class, s_i = λ^{t−1}_{c_i, i} (the problem where it is a positive
/// example, so s_i > 0 means it supports its own class's boundary). Candidates
/// SV = {i : s_i > threshold}, sorted by s_i descending (ties: lower index); pool = the first
/// min(|SV|, B); k points drawn uniformly without replacement from the pool (all of it when
/// smaller); each moves to [`NewClass`] (by default the most confusable class
/// argmax_{c ≠ c_i} f_c(x_i)). Relabels are relative to the clean labels, so they do not
/// accumulate across rounds.
#[derive(Debug, Clone)]
pub struct ConfusableTopK {
    k: usize,
    pool: usize,
    sv_threshold: f64,
    new_class: NewClass,
    order: Vec<usize>,
}

impl ConfusableTopK {
    /// Validate the parameters: B ≥ k, threshold finite and ≥ 0.
    ///
    /// # Errors
    /// [`AttackError::InvalidParam`] naming the field.
    pub fn new(p: ConfusableTopKParams) -> Result<Self, AttackError> {
        let pool = crate::random_top_k::pool_and_threshold(p.k, p.pool, p.sv_threshold)?;
        Ok(Self { k: p.k, pool, sv_threshold: p.sv_threshold, new_class: p.new_class, order: Vec::new() })
    }

    /// The budget k.
    pub fn k(&self) -> usize {
        self.k
    }
}

impl MulticlassAttacker for ConfusableTopK {
    fn name(&self) -> &'static str {
        "confusable_top_k"
    }

    fn attack(&mut self, view: &MulticlassView<'_>, rng: &mut FloralRng) -> Result<Vec<Relabel>, GameError> {
        let y = view.clean;
        let n = y.len();
        let kc = y.n_classes();
        let s = |i: usize| view.lambda[y.get(i)][i];
        let k = view.k.min(self.k);
        self.order.clear();
        self.order.extend((0..n).filter(|&i| s(i) > self.sv_threshold));
        let cmp = |a: &usize, b: &usize| s(*b).total_cmp(&s(*a)).then(a.cmp(b));
        let m = self.order.len().min(self.pool);
        if m > 0 && m < self.order.len() {
            self.order.select_nth_unstable_by(m - 1, cmp);
            self.order.truncate(m);
        }
        self.order.sort_unstable_by(cmp);
        let mut picks: Vec<usize> = sample(rng, m, k.min(m)).iter().map(|j| self.order[j]).collect();
        picks.sort_unstable();
        let mut out = Vec::with_capacity(picks.len());
        for i in picks {
            let own = y.get(i);
            let class = match self.new_class {
                NewClass::MostConfusable => {
                    let mut best = usize::from(own == 0);
                    for c in 0..kc {
                        if c != own && view.decision[(i, c)] > view.decision[(i, best)] {
                            best = c;
                        }
                    }
                    best
                }
                NewClass::Uniform => other_class(own, kc, rng),
            };
            out.push(Relabel { point: i, class });
        }
        Ok(out)
    }
}

/// A class drawn uniformly among the K − 1 classes other than `own`.
fn other_class(own: usize, k: usize, rng: &mut FloralRng) -> usize {
    let c = rng.random_range(0..k - 1);
    if c >= own { c + 1 } else { c }
}

/// Random multi-class poisoning: exactly `budget` points drawn uniformly without replacement,
/// each moved to a class drawn uniformly among the K − 1 others.
///
/// # Errors
/// [`AttackError::InvalidParam`] when `budget` > n.
pub fn random_relabels(y: &ClassLabels, budget: usize, rng: &mut FloralRng) -> Result<ClassLabels, AttackError> {
    if budget > y.len() {
        return Err(AttackError::InvalidParam {
            field: "budget",
            expected: "at most the number of training points",
            got: format!("{budget} (n = {})", y.len()),
        });
    }
    let mut idx = sample(rng, y.len(), budget).into_vec();
    idx.sort_unstable();
    let mut out = y.clone();
    for i in idx {
        let c = other_class(y.get(i), y.n_classes(), rng);
        out.set(i, c)?;
    }
    Ok(out)
}

/// Class-targeted multi-class poisoning: with `pairs` = [(source, target), …] (distinct sources,
/// target ≠ source), exactly `budget` points drawn uniformly without replacement among the
/// points whose class is a source, each moved to its source's target (e.g. 7 → 1).
///
/// # Errors
/// [`AttackError::InvalidParam`] for a class out of range, a repeated source, a pair with
/// target = source, or `budget` above the number of source-class points.
pub fn targeted_relabels(
    y: &ClassLabels,
    pairs: &[(usize, usize)],
    budget: usize,
    rng: &mut FloralRng,
) -> Result<ClassLabels, AttackError> {
    let k = y.n_classes();
    let mut target = vec![None; k];
    for &(s, t) in pairs {
        if s >= k || t >= k || s == t || target[s].is_some() {
            return Err(AttackError::InvalidParam {
                field: "pairs",
                expected: "(source, target) class pairs, distinct sources, target ≠ source, classes < K",
                got: format!("{pairs:?} (K = {k})"),
            });
        }
        target[s] = Some(t);
    }
    let eligible: Vec<usize> = (0..y.len()).filter(|&i| target[y.get(i)].is_some()).collect();
    if budget > eligible.len() {
        return Err(AttackError::InvalidParam {
            field: "budget",
            expected: "at most the number of points in the source classes",
            got: format!("{budget} ({} source-class points)", eligible.len()),
        });
    }
    let mut idx: Vec<usize> = sample(rng, eligible.len(), budget).iter().map(|j| eligible[j]).collect();
    idx.sort_unstable();
    let mut out = y.clone();
    for i in idx {
        if let Some(t) = target[y.get(i)] {
            out.set(i, t)?;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::Mat;
    use floral_data::{Stream, stream};

    fn labels() -> ClassLabels {
        ClassLabels::new((0..60).map(|i| (i % 3) as u16).collect(), 3).unwrap()
    }

    #[test]
    fn offline_budgets_are_exact_and_seeded() {
        let y = labels();
        for b in [0, 1, 17, 60] {
            let p = random_relabels(&y, b, &mut stream(3, Stream::Attacker)).unwrap();
            let d = y.diff(&p).unwrap();
            assert_eq!(d.len(), b);
            assert_eq!(p, random_relabels(&y, b, &mut stream(3, Stream::Attacker)).unwrap());
        }
        assert!(random_relabels(&y, 61, &mut stream(3, Stream::Attacker)).is_err());
        let p = targeted_relabels(&y, &[(2, 1)], 15, &mut stream(3, Stream::Attacker)).unwrap();
        let d = y.diff(&p).unwrap();
        assert_eq!(d.len(), 15);
        assert!(d.iter().all(|&i| y.get(i) == 2 && p.get(i) == 1));
        assert!(targeted_relabels(&y, &[(2, 1)], 21, &mut stream(3, Stream::Attacker)).is_err());
        assert!(targeted_relabels(&y, &[(2, 2)], 1, &mut stream(3, Stream::Attacker)).is_err());
        assert!(targeted_relabels(&y, &[(2, 1), (2, 0)], 1, &mut stream(3, Stream::Attacker)).is_err());
    }

    #[test]
    fn in_game_attacker_picks_top_lambda_and_the_most_confusable_class() {
        // Point weights in their own class's problem: point i has λ = i / 10 there.
        let y = ClassLabels::new(vec![0, 1, 2, 0, 1, 2], 3).unwrap();
        let mut lambda = vec![vec![0.0; 6]; 3];
        for i in 0..6 {
            lambda[y.get(i)][i] = i as f64 / 10.0;
        }
        // Decision values: class 1 is most confusable for everyone except class-1 points (→ 2).
        let dec = Mat::from_fn(6, 3, |i, c| {
            if c == 1 {
                1.0
            } else if c == 2 {
                0.5
            } else {
                -(i as f64)
            }
        });
        let view = MulticlassView { round: 1, k: 2, clean: &y, lambda: &lambda, decision: dec.as_ref() };
        let mut a = ConfusableTopK::new(ConfusableTopKParams {
            k: 2,
            pool: Some(2),
            sv_threshold: 1e-5,
            new_class: NewClass::MostConfusable,
        })
        .unwrap();
        let r = a.attack(&view, &mut stream(1, Stream::Attacker)).unwrap();
        // Pool = the top 2 by λ: points 5 and 4; both taken.
        assert_eq!(r, vec![Relabel { point: 4, class: 2 }, Relabel { point: 5, class: 1 }]);
        assert!(ConfusableTopK::new(ConfusableTopKParams { k: 3, pool: Some(2), ..a_params() }).is_err());
    }

    fn a_params() -> ConfusableTopKParams {
        ConfusableTopKParams { k: 1, pool: None, sv_threshold: 1e-5, new_class: NewClass::Uniform }
    }
}
