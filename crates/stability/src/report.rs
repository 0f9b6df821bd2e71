//! [`StabilityReport`] and the [`Verdict`] (data, never an error).

use serde::Serialize;

/// Why a point is neither clearly stable nor clearly unstable.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DegenerateReason {
    /// No coordinate of T(λ) is strictly inside its box: T is locally constant (J = 0) when the
    /// bound margins are positive, and the linearisation on a free set says nothing.
    EmptyFreeSet,
    /// Strict complementarity fails: point `index` has margin ≤ tol·scale (a λ_i at a bound
    /// with zero gradient slack, or a free λ_i within tolerance of a bound), so T is not affine
    /// near λ and the active set can change under any perturbation.
    NoStrictComplementarity {
        /// The point with the smallest margin.
        index: usize,
        /// Its margin (see [`crate::Linearization`]).
        margin: f64,
    },
    /// The spectral radius is within tolerance of 1 (e.g. Q̃_FF singular on range(P), so the
    /// fixed point is not isolated): linearisation decides nothing.
    Marginal {
        /// The spectral radius.
        spectral_radius: f64,
    },
    /// The attacker's choice of labels is known not to be locally constant (it changed between
    /// the rounds analysed), so the map with fixed labels does not describe the game near λ.
    AttackerNotLocallyConstant,
}

impl std::fmt::Display for DegenerateReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DegenerateReason::EmptyFreeSet => f.write_str("empty free set"),
            DegenerateReason::NoStrictComplementarity { index, margin } => {
                write!(f, "no strict complementarity at point {index} (margin {margin:e})")
            }
            DegenerateReason::Marginal { spectral_radius } => {
                write!(f, "spectral radius {spectral_radius} within tolerance of 1")
            }
            DegenerateReason::AttackerNotLocallyConstant => f.write_str("attacker's choice not locally constant"),
        }
    }
}

/// The local verdict at the analysed point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Spectral radius of J on range(P) below 1: a fixed point here is locally asymptotically
    /// stable (docs/method.md §8).
    Stable,
    /// Spectral radius above 1: iterates started near a fixed point here move away.
    Unstable,
    /// The linearisation does not decide.
    Degenerate {
        /// Why.
        reason: DegenerateReason,
    },
}

impl Verdict {
    /// "stable", "unstable" or "degenerate".
    pub fn as_str(&self) -> &'static str {
        match self {
            Verdict::Stable => "stable",
            Verdict::Unstable => "unstable",
            Verdict::Degenerate { .. } => "degenerate",
        }
    }

    /// The reason of a degenerate verdict.
    pub fn reason(&self) -> Option<DegenerateReason> {
        match self {
            Verdict::Degenerate { reason } => Some(*reason),
            _ => None,
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Verdict::Degenerate { reason } => write!(f, "degenerate ({reason})"),
            other => f.write_str(other.as_str()),
        }
    }
}

/// What is known about the attacker's choice of labels near the analysed point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AttackerLocality {
    /// Nothing is known; the analysis assumes fixed labels (or labels taken in expectation).
    #[default]
    Unknown,
    /// The labels are known to be constant near the point (e.g. no attacker, or a deterministic
    /// attacker whose choice did not change).
    LocallyConstant,
    /// The labels are known to change near the point.
    NotLocallyConstant,
}

/// The finite-difference check of a [`crate::FiniteDifference`] analysis.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FdCheck {
    /// The central-difference step h.
    pub h: f64,
    /// max_ij |J_fd − J_analytic| over the full n×n Jacobian of T.
    pub max_abs_diff: f64,
    /// The analytic spectral radius, for comparison with the report's (finite-difference) one.
    pub analytic_spectral_radius: f64,
}

/// The result of a [`crate::StabilityAnalyzer`] at one point.
///
/// Notation (docs/method.md §8): F the free set of T(λ), m = |F|, P = I − ỹ_F ỹ_Fᵀ/m,
/// J = P(I − ηQ̃_FF)P, μ_j the eigenvalues of P Q̃_FF P on range(P) (m − 1 of them).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StabilityReport {
    /// Which analyzer: "analytic" or "finite_difference" (PGD's map T), "extragradient" or
    /// "optimistic" (those solvers' fixed-label maps, `floral_stability::ExtragradientJacobian`,
    /// `OptimisticJacobian`; there the critical step, the bound, the radius and the eigenvalues
    /// below are the solver's).
    pub method: &'static str,
    /// Number of dual variables n.
    pub n: usize,
    /// The step η of the map.
    pub eta: f64,
    /// |F|.
    pub free: usize,
    /// Points with T(λ)_i = 0.
    pub at_lower: usize,
    /// Points with T(λ)_i = C_i.
    pub at_upper: usize,
    /// λ_max(K), when the analyzer computes it (the whole n×n kernel matrix's spectrum).
    pub lambda_max_k: Option<f64>,
    /// The label-independent step bound, when computed (None when λ_max(K) = 0): 2/λ_max(K) for
    /// PGD, 1/λ_max(K) for extragradient, 2/(3λ_max(K)) for optimistic gradient.
    pub eta_bound: Option<f64>,
    /// μ_max = the largest eigenvalue of P Q̃_FF P (0 when m ≤ 1).
    pub mu_max: f64,
    /// The smallest μ_j on range(P) (None when m ≤ 1).
    pub mu_min: Option<f64>,
    /// The critical step 2/μ_max (extragradient 1/μ_max, optimistic 2/(3μ_max); None when
    /// μ_max = 0: every η > 0 is stable on this free set unless m ≤ 1).
    pub critical_eta: Option<f64>,
    /// The spectral radius of J on range(P), max_j |1 − ημ_j| (0 when m ≤ 1); equal to the
    /// spectral radius of the full n×n Jacobian of T at the point.
    pub spectral_radius: f64,
    /// The eigenvalues 1 − ημ_j of J on range(P), ascending (the analytic analyzer only; the
    /// solvers' analyzers give theirs: 1 − ημ_j + (ημ_j)², or the pair ν± per μ_j).
    #[serde(skip)]
    pub jacobian_eigenvalues: Vec<f64>,
    /// min_i margin_i (see [`crate::Linearization`]).
    pub min_margin: f64,
    /// ‖T(λ) − λ‖_∞: how far the point is from being a fixed point.
    pub fixed_point_residual: f64,
    /// The finite-difference check, for the finite-difference analyzer.
    pub fd: Option<FdCheck>,
    /// The verdict.
    pub verdict: Verdict,
}

impl StabilityReport {
    /// The verdict once the attacker's locality is known: [`AttackerLocality::NotLocallyConstant`]
    /// turns any verdict into `Degenerate { AttackerNotLocallyConstant }`; the other values
    /// leave it unchanged.
    pub fn with_attacker(mut self, attacker: AttackerLocality) -> Self {
        if attacker == AttackerLocality::NotLocallyConstant {
            self.verdict = Verdict::Degenerate { reason: DegenerateReason::AttackerNotLocallyConstant };
        }
        self
    }
}

/// The verdict from the linearisation data, in this order: empty free set, no strict
/// complementarity (min margin ≤ tol·scale), |ρ − 1| ≤ tol (marginal), then ρ < 1 stable and
/// ρ > 1 unstable.
pub(crate) fn decide(
    free: usize,
    min_margin: f64,
    min_margin_index: Option<usize>,
    scale: f64,
    spectral_radius: f64,
    tol: f64,
) -> Verdict {
    if free == 0 {
        return Verdict::Degenerate { reason: DegenerateReason::EmptyFreeSet };
    }
    if min_margin <= tol * scale {
        return Verdict::Degenerate {
            reason: DegenerateReason::NoStrictComplementarity {
                index: min_margin_index.unwrap_or(0),
                margin: min_margin,
            },
        };
    }
    if (spectral_radius - 1.0).abs() <= tol {
        return Verdict::Degenerate { reason: DegenerateReason::Marginal { spectral_radius } };
    }
    if spectral_radius < 1.0 { Verdict::Stable } else { Verdict::Unstable }
}
