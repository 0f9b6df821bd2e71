//! The multi-class game's attacker seam: what a multi-class attacker sees
//! ([`MulticlassView`]), what it returns ([`Relabel`]s) and the budget check
//! ([`apply_relabels`]). The loop itself (K one-vs-rest FLORAL learners in lockstep) lives with
//! the learner in floral-defense.
//!
//! A relabel moves point i from its clean class c_i to another class c′ ≠ c_i. In the K
//! one-vs-rest problems that is exactly two binary flips: ỹ^{c_i}_i goes +1 → −1 and
//! ỹ^{c′}_i goes −1 → +1; every other problem keeps its labels. The budget k counts relabels
//! (multi-class label changes), not binary flips.

use faer::MatRef;
use floral_data::{ClassLabels, FloralRng};

use crate::GameError;

/// Move point `point` to class `class` (relative to the clean labels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Relabel {
    /// The point.
    pub point: usize,
    /// Its new class (≠ its clean class).
    pub class: usize,
}

/// What a multi-class attacker sees before round t.
#[derive(Debug, Clone, Copy)]
pub struct MulticlassView<'a> {
    /// The round t (1-based).
    pub round: usize,
    /// The budget k: at most k relabels this round.
    pub k: usize,
    /// The clean labels c_i.
    pub clean: &'a ClassLabels,
    /// λ^{t−1}_c of each one-vs-rest problem c (K vectors of length n).
    pub lambda: &'a [Vec<f64>],
    /// Decision values at λ^{t−1} (n × K): f_c(x_i) = Σ_j λ_cj ỹ^c_j K_ij + b_c.
    pub decision: MatRef<'a, f64>,
}

/// A multi-class in-game attacker: each round, up to k relabels from the clean labels (flips do
/// not accumulate across rounds, as for the binary FLORAL attacker).
pub trait MulticlassAttacker: std::fmt::Debug + Send {
    /// A short name.
    fn name(&self) -> &'static str;

    /// This round's relabels.
    ///
    /// # Errors
    /// The attacker's own failures, wrapped with [`GameError::player`].
    fn attack(&mut self, view: &MulticlassView<'_>, rng: &mut FloralRng) -> Result<Vec<Relabel>, GameError>;
}

/// The labels of round t: the clean labels with `relabels` applied, after checking them: at
/// most `k`, distinct points in range, each new class in range and different from the point's
/// clean class.
///
/// # Errors
/// [`GameError::BudgetExceeded`] naming `attacker` for more than k relabels;
/// [`GameError::Player`] naming `attacker` for a repeated point, an index or class out of range,
/// or a relabel to the point's own class.
pub fn apply_relabels(
    clean: &ClassLabels,
    relabels: &[Relabel],
    k: usize,
    attacker: &'static str,
    round: usize,
) -> Result<ClassLabels, GameError> {
    if relabels.len() > k {
        return Err(GameError::BudgetExceeded { attacker, round, got: relabels.len(), k });
    }
    let bad = |what: String| {
        GameError::player(
            attacker,
            floral_data::DataError::InvalidParam {
                field: "relabel",
                expected: "distinct points in range, each moved to another valid class",
                got: what,
            },
        )
    };
    let mut out = clean.clone();
    let mut seen = std::collections::BTreeSet::new();
    for r in relabels {
        if !seen.insert(r.point) {
            return Err(bad(format!("point {} relabelled twice in round {round}", r.point)));
        }
        if r.point < clean.len() && clean.get(r.point) == r.class {
            return Err(bad(format!("point {} moved to its own class {} in round {round}", r.point, r.class)));
        }
        out.set(r.point, r.class).map_err(|e| GameError::player(attacker, e))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relabels_are_checked() {
        let y = ClassLabels::new(vec![0, 1, 2], 3).unwrap();
        let ok = apply_relabels(&y, &[Relabel { point: 0, class: 2 }], 1, "t", 1).unwrap();
        assert_eq!(ok.as_slice(), &[2, 1, 2]);
        let two = [Relabel { point: 0, class: 2 }, Relabel { point: 1, class: 0 }];
        assert!(matches!(apply_relabels(&y, &two, 1, "t", 1), Err(GameError::BudgetExceeded { got: 2, k: 1, .. })));
        assert!(apply_relabels(&y, &[Relabel { point: 1, class: 1 }], 1, "t", 1).is_err());
        assert!(apply_relabels(&y, &[Relabel { point: 3, class: 1 }], 1, "t", 1).is_err());
        assert!(apply_relabels(&y, &[Relabel { point: 0, class: 3 }], 1, "t", 1).is_err());
        let dup = [Relabel { point: 0, class: 2 }, Relabel { point: 0, class: 1 }];
        assert!(apply_relabels(&y, &dup, 2, "t", 1).is_err());
    }
}
