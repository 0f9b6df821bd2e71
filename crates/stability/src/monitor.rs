//! [`StabilityMonitor`]: per-round monitoring of a trajectory λ^1, λ^2, … of the game: the
//! spectral radius of J every m rounds, and detection of convergence, divergence and cycling.
//!
//! The monitor lives here, below the game crate (floral-stability depends on data, projection
//! and svm only), and is fed one round at a time through [`StabilityMonitor::observe`]: the
//! round, the map of that round (labels, η, bounds, projector) and λ after the step. The
//! game's `Observer` adapter that feeds it from a `RoundRecord` is
//! `floral_experiment::StabilityObserver`, in the one crate that knows every concrete type.

use std::collections::VecDeque;

use faer::{Col, ColRef};
use floral_svm::PgdMap;
use serde::{Deserialize, Serialize};

use crate::analytic::check_tol;
use crate::{AnalyticJacobian, AnalyticParams, AttackerLocality, StabilityAnalyzer, StabilityError, Verdict};

/// Parameters of [`StabilityMonitor`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonitorParams {
    /// Analyse the spectral radius every `every` rounds (rounds divisible by it). ≥ 1.
    /// Default 10.
    pub every: usize,
    /// The longest cycle period looked for. ≥ 2. Default 8.
    pub max_period: usize,
    /// λ is back where it was p rounds ago when ‖λ^t − λ^{t−p}‖₂ ≤ cycle_tol·‖λ^t − λ^{t−1}‖₂.
    /// Finite, in (0, 1). Default 1e-6.
    pub cycle_tol: f64,
    /// A step with ‖λ^t − λ^{t−1}‖₂ ≤ converged_tol·max(1, ‖λ^t‖₂) counts as converged.
    /// Finite, ≥ 0. Default 1e-12.
    pub converged_tol: f64,
    /// Divergence: the step norms rose in each of the last `divergence_window` rounds. ≥ 1.
    /// Default 10.
    pub divergence_window: usize,
    /// … and grew by at least this factor over that window. Finite, > 1. Default 2.
    pub divergence_growth: f64,
    /// The analyzer's tolerance ([`AnalyticParams::tol`]). Finite, in [0, 1). Default 1e-9.
    pub tol: f64,
}

impl Default for MonitorParams {
    fn default() -> Self {
        Self {
            every: 10,
            max_period: 8,
            cycle_tol: 1e-6,
            converged_tol: 1e-12,
            divergence_window: 10,
            divergence_growth: 2.0,
            tol: 1e-9,
        }
    }
}

/// The state of the trajectory after a round.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trajectory {
    /// Not enough rounds yet, or none of the other states.
    Moving,
    /// The last step was below the convergence tolerance.
    Converged,
    /// λ repeats with this period (≥ 2): for each of the last p rounds s,
    /// ‖λ^s − λ^{s−p}‖ ≤ cycle_tol·‖λ^s − λ^{s−1}‖.
    Cycling {
        /// The smallest period found.
        period: usize,
    },
    /// The step norms rose in each of the last `divergence_window` rounds and grew by
    /// `growth` ≥ `divergence_growth` over them (or λ stopped being finite: growth = ∞).
    Diverging {
        /// Growth factor of the step norm over the window.
        growth: f64,
    },
}

/// One spectral sample along the trajectory.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonitorSample {
    /// The round.
    pub round: usize,
    /// The step η of the round's map.
    pub eta: f64,
    /// |F| at λ^t.
    pub free: usize,
    /// μ_max of P Q̃_FF P.
    pub mu_max: f64,
    /// 2/μ_max.
    pub critical_eta: Option<f64>,
    /// Spectral radius of J at λ^t for this round's labels.
    pub spectral_radius: f64,
    /// Whether the labels differ from the previous round's.
    pub labels_changed: bool,
    /// The verdict: the fixed-label verdict, or `Degenerate { AttackerNotLocallyConstant }`
    /// when the labels changed since the previous round.
    pub verdict: Verdict,
}

/// What the monitor saw over a whole trajectory.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonitorSummary {
    /// Rounds observed.
    pub rounds: usize,
    /// Spectral samples taken.
    pub samples: usize,
    /// The largest spectral radius sampled (None without samples).
    pub max_spectral_radius: Option<f64>,
    /// Samples with spectral radius > 1.
    pub unstable_samples: usize,
    /// The first round at which divergence was detected.
    pub first_divergence: Option<usize>,
    /// The first round at which a cycle was detected, with its period.
    pub first_cycle: Option<(usize, usize)>,
    /// The state after the last round.
    pub last: Trajectory,
}

/// Per-round stability monitoring (see the module docs). Memory: 2·max_period copies of λ.
#[derive(Debug, Clone)]
pub struct StabilityMonitor {
    params: MonitorParams,
    analyzer: AnalyticJacobian,
    /// λ^t, λ^{t−1}, … (front = newest).
    history: VecDeque<Col<f64>>,
    /// Step norms ‖λ^s − λ^{s−1}‖, front = newest.
    steps: VecDeque<f64>,
    samples: Vec<MonitorSample>,
    rounds: usize,
    last: Trajectory,
    first_divergence: Option<usize>,
    first_cycle: Option<(usize, usize)>,
}

impl StabilityMonitor {
    /// The monitor.
    ///
    /// # Errors
    /// [`StabilityError::InvalidParam`] naming the first field out of range.
    pub fn new(params: MonitorParams) -> Result<Self, StabilityError> {
        let bad = |field: &'static str, expected: &'static str, got: String| {
            Err(StabilityError::InvalidParam { field, expected, got })
        };
        if params.every == 0 {
            return bad("every", "an integer >= 1", params.every.to_string());
        }
        if params.max_period < 2 {
            return bad("max_period", "an integer >= 2", params.max_period.to_string());
        }
        if !(params.cycle_tol.is_finite() && params.cycle_tol > 0.0 && params.cycle_tol < 1.0) {
            return bad("cycle_tol", "a finite number in (0, 1)", params.cycle_tol.to_string());
        }
        if !(params.converged_tol.is_finite() && params.converged_tol >= 0.0) {
            return bad("converged_tol", "a finite number >= 0", params.converged_tol.to_string());
        }
        if params.divergence_window == 0 {
            return bad("divergence_window", "an integer >= 1", params.divergence_window.to_string());
        }
        if !(params.divergence_growth.is_finite() && params.divergence_growth > 1.0) {
            return bad("divergence_growth", "a finite number > 1", params.divergence_growth.to_string());
        }
        check_tol(params.tol)?;
        let analyzer = AnalyticJacobian::new(AnalyticParams { tol: params.tol, kernel_bound: false })?;
        Ok(Self {
            params,
            analyzer,
            history: VecDeque::new(),
            steps: VecDeque::new(),
            samples: Vec::new(),
            rounds: 0,
            last: Trajectory::Moving,
            first_divergence: None,
            first_cycle: None,
        })
    }

    /// The parameters.
    pub fn params(&self) -> &MonitorParams {
        &self.params
    }

    /// Record λ^t after round `round` and, when `map` is given and `round` is a multiple of
    /// `every`, analyse J at λ^t for the round's map (labels ỹ^t, step η_t). `labels_changed`
    /// says whether ỹ^t differs from ỹ^{t−1}; if so the sample's verdict is
    /// `Degenerate { AttackerNotLocallyConstant }` (its spectral radius is still the
    /// fixed-label one). Returns the trajectory's state after this round.
    ///
    /// # Errors
    /// The analyzer's errors (a point of the wrong length, an eigenvalue failure). A
    /// non-finite λ is not an error: the state becomes `Diverging { growth: ∞ }`.
    pub fn observe(
        &mut self,
        round: usize,
        map: Option<&PgdMap<'_>>,
        lambda: ColRef<'_, f64>,
        labels_changed: bool,
    ) -> Result<Trajectory, StabilityError> {
        self.rounds += 1;
        let finite = lambda.iter().all(|v| v.is_finite());
        if !finite {
            let state = Trajectory::Diverging { growth: f64::INFINITY };
            self.first_divergence.get_or_insert(round);
            self.last = state;
            return Ok(state);
        }
        if let Some(map) = map {
            if round % self.params.every == 0 {
                let report = self.analyzer.analyze(map, lambda)?;
                let attacker =
                    if labels_changed { AttackerLocality::NotLocallyConstant } else { AttackerLocality::Unknown };
                let report = report.with_attacker(attacker);
                self.samples.push(MonitorSample {
                    round,
                    eta: report.eta,
                    free: report.free,
                    mu_max: report.mu_max,
                    critical_eta: report.critical_eta,
                    spectral_radius: report.spectral_radius,
                    labels_changed,
                    verdict: report.verdict,
                });
            }
        }
        let state = self.track(lambda);
        match state {
            Trajectory::Diverging { .. } => {
                self.first_divergence.get_or_insert(round);
            }
            Trajectory::Cycling { period } => {
                self.first_cycle.get_or_insert((round, period));
            }
            _ => {}
        }
        self.last = state;
        Ok(state)
    }

    /// Push λ^t into the history and classify the trajectory.
    fn track(&mut self, lambda: ColRef<'_, f64>) -> Trajectory {
        let new = lambda.to_owned();
        if let Some(prev) = self.history.front() {
            if prev.nrows() == new.nrows() {
                self.steps.push_front(dist(new.as_ref(), prev.as_ref()));
            } else {
                self.history.clear();
                self.steps.clear();
            }
        }
        self.history.push_front(new);
        let keep = 2 * self.params.max_period;
        self.history.truncate(keep);
        self.steps.truncate(keep.max(self.params.divergence_window + 1));
        let Some(&step) = self.steps.front() else {
            return Trajectory::Moving;
        };
        let norm = lambda.iter().map(|x| x * x).sum::<f64>().sqrt();
        if step <= self.params.converged_tol * norm.max(1.0) {
            return Trajectory::Converged;
        }
        if let Some(period) = self.cycle_period() {
            return Trajectory::Cycling { period };
        }
        let w = self.params.divergence_window;
        if self.steps.len() > w {
            let rising = (0..w).all(|k| self.steps[k] > self.steps[k + 1]);
            let base = self.steps[w];
            if rising && base > 0.0 {
                let growth = self.steps[0] / base;
                if growth >= self.params.divergence_growth {
                    return Trajectory::Diverging { growth };
                }
            }
        }
        Trajectory::Moving
    }

    /// The smallest p in 2..=max_period with ‖λ^{t−k} − λ^{t−k−p}‖ ≤ cycle_tol·‖λ^{t−k} −
    /// λ^{t−k−1}‖ for k = 0..p−1 (a whole period returns; needs 2p rounds of history).
    fn cycle_period(&self) -> Option<usize> {
        let h = &self.history;
        (2..=self.params.max_period).find(|&p| {
            h.len() >= 2 * p
                && (0..p).all(|k| {
                    let step = self.steps.get(k).copied().unwrap_or(0.0);
                    step > 0.0 && dist(h[k].as_ref(), h[k + p].as_ref()) <= self.params.cycle_tol * step
                })
        })
    }

    /// The spectral samples so far.
    pub fn samples(&self) -> &[MonitorSample] {
        &self.samples
    }

    /// The state after the last round observed.
    pub fn last(&self) -> Trajectory {
        self.last
    }

    /// The summary of everything observed.
    pub fn summary(&self) -> MonitorSummary {
        MonitorSummary {
            rounds: self.rounds,
            samples: self.samples.len(),
            max_spectral_radius: self.samples.iter().map(|s| s.spectral_radius).reduce(f64::max),
            unstable_samples: self.samples.iter().filter(|s| s.spectral_radius > 1.0).count(),
            first_divergence: self.first_divergence,
            first_cycle: self.first_cycle,
            last: self.last,
        }
    }
}

/// ‖a − b‖₂.
fn dist(a: ColRef<'_, f64>, b: ColRef<'_, f64>) -> f64 {
    a.iter().zip(b.iter()).map(|(x, y)| (x - y) * (x - y)).sum::<f64>().sqrt()
}
