//! The FLORAL learner: one projected-gradient step on the kernel-SVM dual per round.

use std::sync::Arc;

use faer::{ColMut, ColRef};
use floral_data::FloralRng;
use floral_game::{GameError, Learner, StepInfo};
use floral_projection::{Bounds, ProjInfo, Projector};
use floral_svm::{BiasRule, BoxBounds, PgdMap, SignedGram, Smo, SmoParams, SvmError};

use crate::DefenseError;

/// Step-size schedule η_t for round t = 1, 2, ...
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Schedule {
    /// η_t = η.
    Constant,
    /// Cumulative step decay: η_t = η · factor^⌊t / every⌋.
    StepDecay {
        /// Decay period in rounds.
        every: usize,
        /// Multiplier per period (e.g. 0.1).
        factor: f64,
    },
    /// The authors' code: η_t = η · factor when t is a positive multiple of `every`, else η
    /// (a non-cumulative quirk: only rounds 100, 200, ... use η/10).
    ReferenceQuirk {
        /// Period in rounds.
        every: usize,
        /// Multiplier on those rounds.
        factor: f64,
    },
    /// η_t = η / √t.
    InverseSqrt,
}

impl Schedule {
    /// η_t for base step `eta` in round `t` (see the variants for the formulas).
    pub fn eta(&self, eta: f64, t: usize) -> f64 {
        match *self {
            Schedule::Constant => eta,
            Schedule::StepDecay { every, factor } => {
                let p = t / every.max(1);
                eta * factor.powi(i32::try_from(p).unwrap_or(i32::MAX))
            }
            Schedule::ReferenceQuirk { every, factor } => {
                if t > 0 && t % every.max(1) == 0 {
                    eta * factor
                } else {
                    eta
                }
            }
            Schedule::InverseSqrt => eta / (t.max(1) as f64).sqrt(),
        }
    }
}

/// λ^0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Init {
    /// λ^0 = 0 (the authors' code).
    Zero,
    /// λ^0 = the exact SVM dual solution (SMO) on the labels the game starts from.
    Svm,
}

/// Which support vectors the bias averages over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum BiasChoice {
    /// The authors' code: mean over all λ_i > threshold of ỹ_s − Σ_j λ_j ỹ_j K_sj.
    AllSupportVectors,
    /// LIBSVM's rule: mean over free SVs 0 < λ_i < C, with LIBSVM's fallback.
    FreeSupportVectors,
}

/// Parameters of [`FloralLearner`]. Fields left out of a RON file take the reference values
/// ([`FloralParams::reference`]).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FloralParams {
    /// Box bound C > 0.
    pub c: f64,
    /// Base step size η > 0.
    pub eta: f64,
    /// Step-size schedule.
    pub schedule: Schedule,
    /// Initialisation λ^0.
    pub init: Init,
    /// Bias rule.
    pub bias: BiasChoice,
    /// λ_i above this counts as a support vector (bias rule and reporting). Default 1e-5.
    pub sv_threshold: f64,
}

impl FloralParams {
    /// The authors' released configuration (docs/method.md §4): C = 10, η = 1e-4, the non-cumulative
    /// ÷10 every 100 rounds quirk, λ^0 = 0, bias over all SVs, threshold 1e-5.
    pub fn reference() -> Self {
        Self {
            c: 10.0,
            eta: 1e-4,
            schedule: Schedule::ReferenceQuirk { every: 100, factor: 0.1 },
            init: Init::Zero,
            bias: BiasChoice::AllSupportVectors,
            sv_threshold: 1e-5,
        }
    }
}

impl Default for FloralParams {
    fn default() -> Self {
        Self::reference()
    }
}

/// FLORAL's learner: λ^t = T_t(λ^{t−1}) with the pure map T_t(λ) = Π_{S(ỹ)}(λ − η_t(Q̃λ − 1))
/// ([`PgdMap`]), S(ỹ) = {0 ≤ λ ≤ C, ỹᵀλ = 0} (docs/method.md §4). On top of the map it keeps only
/// caches: Q̃λ for the labels of the last step (updated in O(n·|flips|) across label flips,
/// so a round costs one O(n²) product) and the bias.
///
/// Cloning (and [`Learner::fork`]) copies O(n) state; the projector and bounds are shared.
#[derive(Debug, Clone)]
pub struct FloralLearner {
    p: FloralParams,
    projector: Arc<dyn Projector>,
    bounds: BoxBounds,
    lambda: Vec<f64>,
    z: Vec<f64>,
    next: Vec<f64>,
    scratch: Vec<f64>,
    /// Q̃λ for the current λ and the labels `qlam_labels` (valid after the first step).
    qlam: Vec<f64>,
    qlam_labels: Vec<f64>,
    qlam_valid: bool,
    flipped: Vec<usize>,
    bias: f64,
}

impl FloralLearner {
    /// Validate the parameters (C > 0, η > 0, finite; schedule periods ≥ 1; factor > 0).
    /// The bounds are C_i = C for every point ([`FloralLearner::with_bounds`] sets per-point
    /// bounds).
    ///
    /// # Errors
    /// [`DefenseError::InvalidParam`] naming the field.
    pub fn new(p: FloralParams, projector: Arc<dyn Projector>) -> Result<Self, DefenseError> {
        let bad = |field, expected, got: f64| DefenseError::InvalidParam { field, expected, got: got.to_string() };
        if !(p.c.is_finite() && p.c > 0.0) {
            return Err(bad("c", "a finite number > 0", p.c));
        }
        if !(p.eta.is_finite() && p.eta > 0.0) {
            return Err(bad("eta", "a finite number > 0", p.eta));
        }
        if !(p.sv_threshold.is_finite() && p.sv_threshold >= 0.0) {
            return Err(bad("sv_threshold", "a finite number >= 0", p.sv_threshold));
        }
        match p.schedule {
            Schedule::StepDecay { every, factor } | Schedule::ReferenceQuirk { every, factor } => {
                if every == 0 {
                    return Err(bad("schedule.every", ">= 1", 0.0));
                }
                if !(factor.is_finite() && factor > 0.0) {
                    return Err(bad("schedule.factor", "a finite number > 0", factor));
                }
            }
            Schedule::Constant | Schedule::InverseSqrt => {}
        }
        let bounds = BoxBounds::Uniform(p.c);
        Ok(Self {
            p,
            projector,
            bounds,
            lambda: Vec::new(),
            z: Vec::new(),
            next: Vec::new(),
            scratch: Vec::new(),
            qlam: Vec::new(),
            qlam_labels: Vec::new(),
            qlam_valid: false,
            flipped: Vec::new(),
            bias: 0.0,
        })
    }

    /// Per-point bounds 0 ≤ λ_i ≤ C_i instead of the uniform C (e.g. K-LID's weighted box);
    /// checked against n at [`Learner::reset`].
    ///
    /// # Errors
    /// [`DefenseError::InvalidParam`] for a bound that is negative or not finite.
    pub fn with_bounds(mut self, bounds: BoxBounds) -> Result<Self, DefenseError> {
        if let BoxBounds::PerPoint(cs) = &bounds {
            if let Some(i) = cs.iter().position(|c| !(c.is_finite() && *c >= 0.0)) {
                return Err(DefenseError::InvalidParam {
                    field: "bounds",
                    expected: "finite numbers >= 0",
                    got: format!("C_{i} = {}", cs[i]),
                });
            }
        }
        self.bounds = bounds;
        Ok(self)
    }

    /// The parameters.
    pub fn params(&self) -> &FloralParams {
        &self.p
    }

    fn rule(&self) -> BiasRule {
        match self.p.bias {
            BiasChoice::AllSupportVectors => BiasRule::AllSupportVectors { threshold: self.p.sv_threshold },
            BiasChoice::FreeSupportVectors => BiasRule::FreeSupportVectors,
        }
    }

    /// Q̃λ for the current λ and the labels of `q`, as the next step computes it: incrementally
    /// from the cached Q̃λ of the last step's labels when fewer than n/8 labels differ, else
    /// one fresh product. For checks of the incremental path; does not change λ.
    ///
    /// # Panics
    /// If `q` has another n than the game the learner was reset for.
    pub fn q_lambda_for(&mut self, q: &SignedGram) -> ColRef<'_, f64> {
        self.q_lambda_into_z(q);
        ColRef::from_slice(&self.z)
    }

    /// z ← Q̃λ for the labels of `q`. When Q̃λ is known for the previous labels and only a few
    /// labels changed (set F), it is updated in O(n|F|) instead of O(n²): with
    /// u = K(λ∘ỹ_prev) = ỹ_prev∘(Q̃_prev λ), u' = u − 2 Σ_{j∈F} λ_j ỹ_prev,j K_{:,j}, and
    /// Q̃λ = ỹ∘u'.
    pub(crate) fn q_lambda_into_z(&mut self, q: &SignedGram) {
        let n = q.n();
        let y = q.labels().as_slice();
        self.flipped.clear();
        if self.qlam_valid {
            self.flipped.extend((0..n).filter(|&i| self.qlam_labels[i] != y[i]));
        }
        if self.qlam_valid && self.flipped.len() * 8 < n {
            let k = q.k();
            for ((z, &l), &g) in self.z.iter_mut().zip(&self.qlam_labels).zip(&self.qlam) {
                *z = l * g;
            }
            for &j in &self.flipped {
                let a = 2.0 * self.lambda[j] * self.qlam_labels[j];
                if a == 0.0 {
                    continue;
                }
                match k.col(j).try_as_col_major() {
                    Some(col) => {
                        for (z, &kij) in self.z.iter_mut().zip(col.as_slice()) {
                            *z -= a * kij;
                        }
                    }
                    None => {
                        let col = k.col(j);
                        for (i, z) in self.z.iter_mut().enumerate() {
                            *z -= a * col[i];
                        }
                    }
                }
            }
            for (z, &yi) in self.z.iter_mut().zip(y) {
                *z *= yi;
            }
        } else {
            q.matvec_with_scratch_into(
                ColRef::from_slice(&self.lambda),
                &mut self.scratch,
                ColMut::from_slice_mut(&mut self.z),
            );
        }
    }

    /// One update of λ through the map of round `round` on the labels of `q`, shared by the
    /// learners of this crate so the bookkeeping exists once: `update(map, λ, z, next)` writes
    /// λ⁺ into `next` (`z` is length-n scratch that holds Q̃λ when
    /// [`FloralLearner::q_lambda_into_z`] ran just before). Then λ ← λ⁺, one O(n²) product
    /// Q̃λ⁺ for the labels of `q` (the cache), and the bias from it. `who` names the learner in
    /// errors. The reported step norm is ‖λ⁺ − λ‖₂.
    ///
    /// # Errors
    /// [`GameError::Player`] naming `who` for an invalid step or bounds, or a failing update.
    pub(crate) fn update_with<F>(
        &mut self,
        round: usize,
        q: &SignedGram,
        who: &'static str,
        update: F,
    ) -> Result<StepInfo, GameError>
    where
        F: FnOnce(&PgdMap<'_>, &[f64], &mut [f64], ColMut<'_, f64>) -> Result<ProjInfo, SvmError>,
    {
        let y = q.labels().as_slice();
        let eta = self.p.schedule.eta(self.p.eta, round);
        let map = PgdMap::new(q, eta, self.bounds.as_bounds(), self.projector.as_ref())
            .map_err(|e| GameError::player(who, DefenseError::from(e)))?;
        let info = update(&map, &self.lambda, &mut self.z, ColMut::from_slice_mut(&mut self.next))
            .map_err(|e| GameError::player(who, DefenseError::from(e)))?;
        let d2: f64 = self.next.iter().zip(&self.lambda).map(|(a, b)| (a - b) * (a - b)).sum();
        std::mem::swap(&mut self.lambda, &mut self.next);
        // One O(n²) product per round: Q̃λ^t, used by the bias now and the next gradient.
        q.matvec_with_scratch_into(
            ColRef::from_slice(&self.lambda),
            &mut self.scratch,
            ColMut::from_slice_mut(&mut self.qlam),
        );
        self.qlam_labels.clear();
        self.qlam_labels.extend_from_slice(y);
        self.qlam_valid = true;
        self.bias = floral_svm::bias_from_q_lambda(
            self.rule(),
            y,
            ColRef::from_slice(&self.lambda),
            ColRef::from_slice(&self.qlam),
            self.bounds.as_bounds(),
        );
        Ok(StepInfo { eta, residual: info.residual, projection_iterations: info.iterations, step_norm: d2.sqrt() })
    }

    /// The map T_t of round `round` on the labels of `q`.
    ///
    /// # Errors
    /// [`GameError::Player`] when the step or the bounds are invalid for `q`.
    pub fn map<'a>(&'a self, round: usize, q: &'a SignedGram) -> Result<PgdMap<'a>, GameError> {
        let eta = self.p.schedule.eta(self.p.eta, round);
        PgdMap::new(q, eta, self.bounds.as_bounds(), self.projector.as_ref())
            .map_err(|e| GameError::player("floral", DefenseError::from(e)))
    }
}

impl Learner for FloralLearner {
    fn name(&self) -> &'static str {
        "floral"
    }

    fn reset(&mut self, q: &SignedGram) -> Result<(), GameError> {
        let n = q.n();
        self.bounds.as_bounds().validate(n).map_err(|e| GameError::player("floral", DefenseError::from(e)))?;
        self.z = vec![0.0; n];
        self.next = vec![0.0; n];
        self.scratch = vec![0.0; n];
        self.qlam = vec![0.0; n];
        self.qlam_valid = false;
        self.bias = 0.0;
        self.lambda = match self.p.init {
            Init::Zero => vec![0.0; n],
            Init::Svm => {
                let mut smo =
                    Smo::new(SmoParams::default()).map_err(|e| GameError::player("floral", DefenseError::from(e)))?;
                let sol = smo
                    .solve(q, self.bounds.as_bounds(), None)
                    .map_err(|e| GameError::player("floral", DefenseError::from(e)))?;
                sol.lambda.iter().copied().collect()
            }
        };
        Ok(())
    }

    fn step(&mut self, round: usize, q: &SignedGram, _rng: &mut FloralRng) -> Result<StepInfo, GameError> {
        self.q_lambda_into_z(q);
        // z = λ − η(Q̃λ − 1), then λ' = Π(z): T(λ) with the known Q̃λ.
        self.update_with(round, q, "floral", |map, lambda, z, next| {
            map.gradient_step_in_place(lambda, z);
            map.project_into(z, next)
        })
    }

    fn lambda(&self) -> ColRef<'_, f64> {
        ColRef::from_slice(&self.lambda)
    }

    fn bias(&self, q: &SignedGram) -> f64 {
        if self.qlam_valid && self.qlam_labels.as_slice() == q.labels().as_slice() {
            self.bias
        } else {
            floral_svm::bias(self.rule(), q, ColRef::from_slice(&self.lambda), self.bounds.as_bounds())
        }
    }

    fn q_lambda(&self) -> Option<ColRef<'_, f64>> {
        self.qlam_valid.then(|| ColRef::from_slice(&self.qlam))
    }

    fn eta(&self, round: usize) -> Option<f64> {
        Some(self.p.schedule.eta(self.p.eta, round))
    }

    fn bounds(&self) -> Option<Bounds<'_>> {
        Some(self.bounds.as_bounds())
    }

    fn fork(&self) -> Box<dyn Learner> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_follow_their_formulas() {
        let q = Schedule::ReferenceQuirk { every: 100, factor: 0.1 };
        assert_eq!(q.eta(1.0, 99), 1.0);
        assert!((q.eta(1.0, 200) - 0.1).abs() < 1e-15);
        assert_eq!(q.eta(1.0, 201), 1.0);
        let d = Schedule::StepDecay { every: 100, factor: 0.1 };
        assert_eq!(d.eta(1.0, 99), 1.0);
        assert!((d.eta(1.0, 250) - 0.01).abs() < 1e-15);
        assert!((Schedule::InverseSqrt.eta(2.0, 4) - 1.0).abs() < 1e-15);
    }
}
