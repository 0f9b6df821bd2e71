//! ALFA-tilt (Xiao, Biggio, Nelson, Xiao, Eckert, Roli, "Support vector machines under
//! adversarial label contamination", Neurocomputing 2015), docs/method.md §6.

use faer::Col;
use floral_data::{FlipSet, FloralRng, Labels};
use floral_svm::{Gram, SignedGram, kernel_matvec_into};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::model_common::{
    Damage, Judge, check_c, check_nonneg, decision_values, margins, preamble, smo, top_k_desc, train,
};
use crate::{AttackError, PoisonInput, Poisoner};

/// Parameters of [`AlfaTilt`]. Defaults are the reference values C = 1, β1 = β2 = 1, N = 5
/// (the kernel, γ = 1 in the reference, is the one the input carries).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlfaTiltParams {
    /// Box bound C of the SVMs (clean and retrained). Finite, > 0. Default 1.
    #[serde(default = "one")]
    pub c: f64,
    /// Weight β1 of the true SVM's normalised margin. Finite, ≥ 0. Default 1.
    #[serde(default = "one")]
    pub beta1: f64,
    /// Weight β2 of the random SVM's normalised margin. Finite, ≥ 0. Default 1.
    #[serde(default = "one")]
    pub beta2: f64,
    /// Number of trials N (random SVMs). ≥ 1. Default 5.
    #[serde(default = "default_trials")]
    pub trials: usize,
}

fn one() -> f64 {
    1.0
}

fn default_trials() -> usize {
    5
}

impl Default for AlfaTiltParams {
    fn default() -> Self {
        Self { c: one(), beta1: one(), beta2: one(), trials: default_trials() }
    }
}

/// ALFA-tilt. Train the SVM on the clean labels (SMO over the shared Gram, box C) to get λ and
/// the margins s_i = y_i f(x_i), normalised as s_i / max_j |s_j|. Then N times: draw a random
/// SVM f_rnd(x) = Σ_j a_j K(x_j, x) + b_rnd with a_j, b_rnd uniform in [−1, 1) (from the rng),
/// take its normalised margins q_i = y_i f_rnd(x_i) / max_j |y_j f_rnd(x_j)|, score every point
/// by v_i = λ_i/C − β1 s_i − β2 q_i and flip the `budget` lowest (ties by lower index).
///
/// Of the N candidate flip sets the most damaging one is kept: the SVM retrained (SMO, box C)
/// on each candidate's poisoned labels is scored on the validation split with its clean labels
/// when the input has one, else on the training points with their clean labels, and the
/// candidate with the highest 0-1 error wins, ties broken by the higher mean hinge loss
/// max(0, 1 − y f(x)), then by the earlier trial. (The paper's intent; the FLORAL authors'
/// released code instead keeps the trial whose retrained SVM is *least* tilted from the clean
/// one.)
#[derive(Debug, Clone)]
pub struct AlfaTilt {
    params: AlfaTiltParams,
}

impl AlfaTilt {
    /// Validate the parameters.
    ///
    /// # Errors
    /// [`AttackError::InvalidParam`] naming the field: `c` not finite and > 0, `beta1` or
    /// `beta2` negative or not finite, `trials` = 0.
    pub fn new(params: AlfaTiltParams) -> Result<Self, AttackError> {
        check_c(params.c)?;
        check_nonneg("beta1", params.beta1)?;
        check_nonneg("beta2", params.beta2)?;
        if params.trials == 0 {
            return Err(AttackError::InvalidParam { field: "trials", expected: "an integer >= 1", got: "0".into() });
        }
        Ok(Self { params })
    }

    /// The parameters.
    pub fn params(&self) -> &AlfaTiltParams {
        &self.params
    }
}

/// v / max_i |v_i| (v unchanged when it is all zero).
fn normalise(mut v: Vec<f64>) -> Vec<f64> {
    let m = v.iter().fold(0.0_f64, |a, b| a.max(b.abs()));
    if m > 0.0 {
        v.iter_mut().for_each(|x| *x /= m);
    }
    v
}

/// Whether damage `a` beats `b`: higher error, then higher mean hinge loss.
fn worse(a: Damage, b: Damage) -> bool {
    a.error > b.error || (a.error == b.error && a.hinge > b.hinge)
}

impl Poisoner for AlfaTilt {
    fn name(&self) -> &'static str {
        "alfa_tilt"
    }
    fn draws_per_seed(&self) -> bool {
        true
    }

    fn poison(&self, input: &PoisonInput<'_>, budget: usize, rng: &mut FloralRng) -> Result<FlipSet, AttackError> {
        if let Some(done) = preamble(input, budget, self.name())? {
            return Ok(done);
        }
        let n = input.train.n();
        let budget = budget.min(n);
        let y = input.train.y();
        let AlfaTiltParams { c, beta1, beta2, trials } = self.params;
        let mut smo = smo()?;
        let q0 = SignedGram::new(input.gram.clone(), y)?;
        let clean = train(&mut smo, &q0, c, None)?;
        let s = normalise(margins(&decision_values(&q0, &clean), y));
        let judge = Judge::new(input);
        let mut scratch = Vec::new();
        let mut best: Option<(Vec<usize>, Damage)> = None;
        let mut a = Col::<f64>::zeros(n);
        let mut g = Col::<f64>::zeros(n);
        for _ in 0..trials {
            for j in 0..n {
                a[j] = rng.random_range(-1.0..1.0);
            }
            let b_rnd: f64 = rng.random_range(-1.0..1.0);
            kernel_matvec_into(Gram::as_ref(input.gram), a.as_ref(), g.as_mut());
            let f_rnd: Vec<f64> = (0..n).map(|i| g[i] + b_rnd).collect();
            let qm = normalise(margins(&f_rnd, y));
            // Flip the lowest v: rank −v descending.
            let neg_v: Vec<f64> = (0..n).map(|i| -(clean.lambda[i] / c - beta1 * s[i] - beta2 * qm[i])).collect();
            let flips = top_k_desc(&neg_v, budget);
            let mut z: Labels = y.clone();
            for &i in &flips {
                z.flip(i);
            }
            let qz = SignedGram::new(input.gram.clone(), &z)?;
            let sol = train(&mut smo, &qz, c, None)?;
            let d = judge.damage(input.gram, &z, &sol, &mut scratch);
            if best.as_ref().is_none_or(|(_, bd)| worse(d, *bd)) {
                best = Some((flips, d));
            }
        }
        let idx = best.map(|(f, _)| f).unwrap_or_default();
        Ok(FlipSet::new(idx, n)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::poison_exact;
    use floral_data::{Stream, moons, stream};
    use floral_svm::{Gram, Rbf, RbfParams};
    use std::sync::Arc;

    #[test]
    fn keeps_the_most_damaging_trial() {
        // With N trials the kept set does at least as much damage as the one from a single
        // trial drawn from the same stream (the first of the N).
        let data = moons(60, 0.15, &mut stream(4, Stream::Data)).unwrap();
        let k = Rbf::new(RbfParams { gamma: 1.0 }).unwrap();
        let gram = Arc::new(Gram::new(&k, data.x()));
        let input = PoisonInput { train: &data, kernel: &k, gram: &gram, validation: None };
        let damage = |flips: &FlipSet| {
            let z = data.y().apply(flips).unwrap();
            let q = SignedGram::new(gram.clone(), &z).unwrap();
            let sol = train(&mut smo().unwrap(), &q, 1.0, None).unwrap();
            Judge::new(&input).damage(&gram, &z, &sol, &mut Vec::new())
        };
        let one = AlfaTilt::new(AlfaTiltParams { trials: 1, ..Default::default() }).unwrap();
        let five = AlfaTilt::new(AlfaTiltParams::default()).unwrap();
        let f1 = poison_exact(&one, &input, 9, &mut stream(7, Stream::Attacker)).unwrap();
        let f5 = poison_exact(&five, &input, 9, &mut stream(7, Stream::Attacker)).unwrap();
        let (d1, d5) = (damage(&f1), damage(&f5));
        assert!(!worse(d1, d5), "five trials {d5:?} must be at least as damaging as one {d1:?}");
    }

    #[test]
    fn params_are_validated() {
        for (p, field) in [
            (AlfaTiltParams { c: f64::NAN, ..Default::default() }, "`c`"),
            (AlfaTiltParams { beta1: -1.0, ..Default::default() }, "`beta1`"),
            (AlfaTiltParams { beta2: f64::INFINITY, ..Default::default() }, "`beta2`"),
            (AlfaTiltParams { trials: 0, ..Default::default() }, "`trials`"),
        ] {
            let e = AlfaTilt::new(p).unwrap_err().to_string();
            assert!(e.contains(field), "{e}");
        }
    }

    #[test]
    fn normalise_scales_to_unit_max() {
        assert_eq!(normalise(vec![2.0, -4.0, 1.0]), vec![0.5, -1.0, 0.25]);
        assert_eq!(normalise(vec![0.0, 0.0]), vec![0.0, 0.0]);
    }
}
