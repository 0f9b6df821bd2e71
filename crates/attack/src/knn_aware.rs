//! A poisoner aimed at kNN label sanitisation: flips that the relabelling keeps.

use floral_data::{FlipSet, FloralRng};

use crate::{AttackError, PoisonInput, Poisoner};

/// Parameters of [`KnnAwareFlips`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KnnAwareFlipsParams {
    /// Neighbours per point, k ≥ 1 (the sanitiser's k; cut to n − 1). Default 20.
    pub k: usize,
}

impl Default for KnnAwareFlipsParams {
    fn default() -> Self {
        Self { k: 20 }
    }
}

/// Defence-aware poisoning against kNN label sanitisation (LS-SVM), which relabels a point when
/// at least a share τ of its k nearest neighbours carries the other label. Greedy: with the
/// poisoned labels ỹ so far (ỹ = y at the start), the next flip is the unflipped point i with the
/// largest agreement a_i = #{j ∈ N_k(i) : ỹ_j = −y_i} / k, i.e. whose neighbours most share the
/// label it would get (ties: lower index); flipping i raises its neighbours' agreement, so flips
/// grow in clusters that the relabelling keeps (it keeps a flipped point while a_i > 1 − τ).
/// Neighbours: Euclidean in feature space, the point itself excluded, ties by index. Exactly
/// `budget` flips; no randomness; O(n² log k + budget·n·k).
#[derive(Debug, Clone)]
pub struct KnnAwareFlips {
    k: usize,
}

impl KnnAwareFlips {
    /// Validate: k ≥ 1.
    ///
    /// # Errors
    /// [`AttackError::InvalidParam`] for k = 0.
    pub fn new(p: KnnAwareFlipsParams) -> Result<Self, AttackError> {
        if p.k == 0 {
            return Err(AttackError::InvalidParam { field: "k", expected: ">= 1", got: "0".into() });
        }
        Ok(Self { k: p.k })
    }
}

/// The k nearest other points of each row of `x` (Euclidean; ties by index).
pub fn knn_indices(x: faer::MatRef<'_, f64>, k: usize) -> Vec<Vec<usize>> {
    let n = x.nrows();
    let k = k.min(n.saturating_sub(1));
    (0..n)
        .map(|i| {
            let mut d: Vec<(f64, usize)> = (0..n)
                .filter(|&j| j != i)
                .map(|j| ((0..x.ncols()).map(|c| (x[(i, c)] - x[(j, c)]).powi(2)).sum::<f64>(), j))
                .collect();
            d.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            d.truncate(k);
            d.into_iter().map(|(_, j)| j).collect()
        })
        .collect()
}

impl Poisoner for KnnAwareFlips {
    fn name(&self) -> &'static str {
        "knn_aware"
    }

    fn poison(&self, input: &PoisonInput<'_>, budget: usize, _rng: &mut FloralRng) -> Result<FlipSet, AttackError> {
        let train = input.train;
        let n = train.n();
        let y = train.y().as_slice();
        let nb = knn_indices(train.x(), self.k);
        let mut yt = y.to_vec();
        let mut flipped = vec![false; n];
        for _ in 0..budget.min(n) {
            let mut best: Option<(usize, usize)> = None;
            for i in 0..n {
                if flipped[i] {
                    continue;
                }
                let agree = nb[i].iter().filter(|&&j| yt[j] == -y[i]).count();
                if best.is_none_or(|(_, a)| agree > a) {
                    best = Some((i, agree));
                }
            }
            let Some((i, _)) = best else { break };
            flipped[i] = true;
            yt[i] = -y[i];
        }
        let idx: Vec<usize> = (0..n).filter(|&i| flipped[i]).collect();
        Ok(FlipSet::new(idx, n)?)
    }
}
