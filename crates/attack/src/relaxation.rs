//! The look-ahead attacker's continuous relaxation: flip weights q ∈ [0, 1]ⁿ with Σq = k, the
//! defender's next h steps unrolled, the gradient back through them (proofs/lookahead.md), an
//! L-BFGS ascent (argmin), and the k largest weights played.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use argmin::core::{CostFunction, Error as ArgminError, Executor, Gradient};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use faer::{ColRef, MatRef};
use floral_data::{FlipSet, FloralRng, Labels};
use floral_game::{Attacker, GameError, RoundView};
use floral_projection::{Bounds, ExactProjector, Projector};
use floral_svm::{Gram, PgdMap, SignedGram, SvmError, kernel_matvec_into};

use crate::AttackError;
use crate::lookahead::candidates;

/// The unrolled look-ahead objective as a function of the flip weights q (docs: see
/// [`Unrolled::value_and_gradient`]).
#[derive(Debug, Clone, Copy)]
pub struct Unrolled<'a> {
    /// The training Gram matrix (shared).
    pub gram: &'a Arc<Gram>,
    /// The clean training labels y.
    pub clean: &'a [f64],
    /// λ⁰, the learner's state the steps start from.
    pub lambda0: &'a [f64],
    /// The step η (the same for the h steps).
    pub eta: f64,
    /// The box bounds.
    pub bounds: Bounds<'a>,
    /// Unrolled steps h ≥ 1.
    pub horizon: usize,
    /// K(eval, train) (m × n); None: the training points themselves.
    pub eval_k: Option<MatRef<'a, f64>>,
    /// The evaluation labels (length m, or n for the training points).
    pub eval_y: &'a [f64],
    /// The projector Π.
    pub projector: &'a dyn Projector,
}

fn matvec(k: MatRef<'_, f64>, v: &[f64]) -> Vec<f64> {
    let mut out = faer::Col::zeros(k.nrows());
    kernel_matvec_into(k, ColRef::from_slice(v), out.as_mut());
    out.iter().copied().collect()
}

fn matvec_t(k: MatRef<'_, f64>, v: &[f64]) -> Vec<f64> {
    crate::lookahead::cross_matvec(k.transpose(), v)
}

impl Unrolled<'_> {
    /// L(q) and ∇L(q), with soft labels ỹ = y∘(1 − 2q) and hard labels s_i = −y_i when
    /// q_i > ½, else y_i:
    ///
    /// ```text
    /// u_t = K(ỹ∘λ_t),  z_t = λ_t − η(ỹ∘u_t − 1),  λ_{t+1} = Π_{S(s)}(z_t),  t = 0..h−1
    /// g = K_eval(ỹ∘λ_h),  L(q) = (1/m) Σ_i max(0, 1 − y_i g_i)
    /// ```
    ///
    /// (bias-free decision values; the projection's constraint uses the hard labels, so L is
    /// piecewise smooth in q). The gradient is reverse-mode through the steps; the projection's
    /// derivative on the free set F = {0 < λ_{t+1,i} < C_i} is ∂Π/∂z = P_F = I_F − s_F s_Fᵀ/|F|
    /// (zero off F), derived in proofs/lookahead.md:
    ///
    /// ```text
    /// z̄ = P_F λ̄_{t+1};  λ̄_t = z̄ − η ỹ∘K(ỹ∘z̄);  ỹ̄ += −η (z̄∘u_t + λ_t∘K(ỹ∘z̄));  ∂L/∂q = −2 y∘ỹ̄.
    /// ```
    ///
    /// # Errors
    /// [`SvmError`] from the projection (e.g. a non-finite step).
    ///
    /// # Panics
    /// If `q` does not have length n.
    pub fn value_and_gradient(&self, q: &[f64]) -> Result<(f64, Vec<f64>), SvmError> {
        let n = self.clean.len();
        assert_eq!(q.len(), n, "value_and_gradient: q length");
        let k = Gram::as_ref(self.gram);
        let yt: Vec<f64> = (0..n).map(|i| self.clean[i] * (1.0 - 2.0 * q[i])).collect();
        let hard = Labels::new((0..n).map(|i| if q[i] > 0.5 { -self.clean[i] } else { self.clean[i] }).collect())?;
        let sg = SignedGram::new(self.gram.clone(), &hard)?;
        let map = PgdMap::new(&sg, self.eta, self.bounds, self.projector)?;
        let s = hard.as_slice();
        // Forward.
        let mut lams: Vec<Vec<f64>> = vec![self.lambda0.to_vec()];
        let mut us: Vec<Vec<f64>> = Vec::with_capacity(self.horizon);
        let mut z = vec![0.0; n];
        for t in 0..self.horizon {
            let lam = &lams[t];
            let v: Vec<f64> = (0..n).map(|i| yt[i] * lam[i]).collect();
            let u = matvec(k, &v);
            for i in 0..n {
                z[i] = lam[i] - self.eta * (yt[i] * u[i] - 1.0);
            }
            let mut next = faer::Col::zeros(n);
            map.project_into(&z, next.as_mut())?;
            us.push(u);
            lams.push(next.iter().copied().collect());
        }
        let lam_h = &lams[self.horizon];
        let v: Vec<f64> = (0..n).map(|i| yt[i] * lam_h[i]).collect();
        let g = match self.eval_k {
            Some(ke) => crate::lookahead::cross_matvec(ke, &v),
            None => matvec(k, &v),
        };
        let m = self.eval_y.len().max(1) as f64;
        let mut value = 0.0;
        let mut gbar = vec![0.0; g.len()];
        for (i, (&gi, &yi)) in g.iter().zip(self.eval_y).enumerate() {
            let h = 1.0 - yi * gi;
            if h > 0.0 {
                value += h / m;
                gbar[i] = -yi / m;
            }
        }
        // Backward.
        let w = match self.eval_k {
            Some(ke) => matvec_t(ke, &gbar),
            None => matvec(k, &gbar),
        };
        let mut lbar: Vec<f64> = (0..n).map(|i| yt[i] * w[i]).collect();
        let mut ybar: Vec<f64> = (0..n).map(|i| lam_h[i] * w[i]).collect();
        for t in (0..self.horizon).rev() {
            let next = &lams[t + 1];
            let free: Vec<usize> = (0..n).filter(|&i| next[i] > 0.0 && next[i] < self.bounds.upper(i)).collect();
            let mut zbar = vec![0.0; n];
            if !free.is_empty() {
                let mean = free.iter().map(|&i| s[i] * lbar[i]).sum::<f64>() / free.len() as f64;
                for &i in &free {
                    zbar[i] = lbar[i] - s[i] * mean;
                }
            }
            let yz: Vec<f64> = (0..n).map(|i| yt[i] * zbar[i]).collect();
            let kyz = matvec(k, &yz);
            let lam = &lams[t];
            for i in 0..n {
                ybar[i] += -self.eta * (zbar[i] * us[t][i] + lam[i] * kyz[i]);
                lbar[i] = zbar[i] - self.eta * yt[i] * kyz[i];
            }
        }
        let grad: Vec<f64> = (0..n).map(|i| -2.0 * self.clean[i] * ybar[i]).collect();
        Ok((value, grad))
    }
}

/// Parameters of [`RelaxedLookAhead`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelaxedLookAheadParams {
    /// Flips per round (the budget k).
    pub k: usize,
    /// Candidate pool size B ≥ k carrying the weights (default None: 2k); the pool is the
    /// look-ahead attacker's.
    #[serde(default)]
    pub pool: Option<usize>,
    /// Unrolled steps h ≥ 1. Default 1.
    #[serde(default = "one")]
    pub horizon: usize,
    /// L-BFGS iterations per round, ≥ 1. Default 10.
    #[serde(default = "ten")]
    pub iters: usize,
    /// Weight ρ of the penalty ρ Σ max(0, q_i − 1)² that keeps q_i ≤ 1. Default 10.
    #[serde(default = "ten_f")]
    pub penalty: f64,
}

fn one() -> usize {
    1
}
fn ten() -> usize {
    10
}
fn ten_f() -> f64 {
    10.0
}

impl Default for RelaxedLookAheadParams {
    fn default() -> Self {
        Self { k: 5, pool: None, horizon: 1, iters: 10, penalty: 10.0 }
    }
}

/// Evaluations allowed per round (argmin's line search has no limit of its own).
const MAX_EVALS: usize = 200;

/// The lowest cost evaluated and its θ, shared with the caller.
type BestTheta = Arc<Mutex<Option<(f64, Vec<f64>)>>>;

struct Relaxed<'a> {
    unrolled: Unrolled<'a>,
    pool: &'a [usize],
    k: f64,
    penalty: f64,
    evals: AtomicUsize,
    best: BestTheta,
}

/// q on the pool: q_p = k·softmax(θ)_p (Σq = k, q ≥ 0); zero elsewhere. Returns (q, softmax).
fn weights(theta: &[f64], pool: &[usize], k: f64, n: usize) -> (Vec<f64>, Vec<f64>) {
    let mx = theta.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = theta.iter().map(|t| (t - mx).exp()).collect();
    let z: f64 = e.iter().sum();
    let p: Vec<f64> = e.iter().map(|v| v / z).collect();
    let mut q = vec![0.0; n];
    for (j, &i) in pool.iter().enumerate() {
        q[i] = k * p[j];
    }
    (q, p)
}

impl Relaxed<'_> {
    /// c(θ) = −L(q(θ)) + ρ Σ max(0, q_i − 1)² and its gradient through the softmax:
    /// ∂c/∂θ_j = q_j (q̄_j − Σ_i q̄_i p_i), q̄ = ∂c/∂q.
    fn eval(&self, theta: &[f64]) -> Result<(f64, Vec<f64>), ArgminError> {
        if self.evals.fetch_add(1, Ordering::Relaxed) >= MAX_EVALS {
            return Err(ArgminError::msg("evaluation budget spent"));
        }
        let (q, p) = weights(theta, self.pool, self.k, self.unrolled.clean.len());
        let (l, gl) = self.unrolled.value_and_gradient(&q).map_err(|e| ArgminError::msg(e.to_string()))?;
        let mut c = -l;
        let mut qbar = vec![0.0; self.pool.len()];
        for (j, &i) in self.pool.iter().enumerate() {
            let over = (q[i] - 1.0).max(0.0);
            c += self.penalty * over * over;
            qbar[j] = -gl[i] + 2.0 * self.penalty * over;
        }
        let dot: f64 = qbar.iter().zip(&p).map(|(a, b)| a * b).sum();
        let grad: Vec<f64> = (0..self.pool.len()).map(|j| q[self.pool[j]] * (qbar[j] - dot)).collect();
        if let Ok(mut b) = self.best.lock() {
            if b.as_ref().is_none_or(|(bc, _)| c < *bc) {
                *b = Some((c, theta.to_vec()));
            }
        }
        Ok((c, grad))
    }
}

impl CostFunction for Relaxed<'_> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, p: &Self::Param) -> Result<f64, ArgminError> {
        Ok(self.eval(p)?.0)
    }
}

impl Gradient for Relaxed<'_> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;
    fn gradient(&self, p: &Self::Param) -> Result<Vec<f64>, ArgminError> {
        Ok(self.eval(p)?.1)
    }
}

/// The relaxed look-ahead attacker. Each round: the pool P (the look-ahead attacker's
/// candidates, B points), weights q_P = k·softmax(θ) (so Σq = k, q ≥ 0; the penalty
/// ρ Σ max(0, q_i − 1)² keeps q ≤ 1), θ from 0 (uniform q = k/B), argmin's L-BFGS (memory 5,
/// Moré–Thuente) on −L(q(θ)) + penalty for `iters` iterations or 200 evaluations
/// ([`Unrolled`], evaluated on the clean training labels with the round's η and bounds and the
/// exact projection), keeping the best θ evaluated; then the k largest q (ties: lower index) are
/// flipped. Deterministic; uses no randomness.
#[derive(Debug, Clone)]
pub struct RelaxedLookAhead {
    pool: Option<usize>,
    horizon: usize,
    iters: usize,
    penalty: f64,
    projector: ExactProjector,
}

impl RelaxedLookAhead {
    /// Validate: h ≥ 1, iters ≥ 1, B ≥ k, ρ finite and ≥ 0.
    ///
    /// # Errors
    /// [`AttackError::InvalidParam`] naming the field.
    pub fn new(p: RelaxedLookAheadParams) -> Result<Self, AttackError> {
        let bad = |field, expected, got: String| AttackError::InvalidParam { field, expected, got };
        if p.horizon == 0 {
            return Err(bad("horizon", ">= 1", "0".into()));
        }
        if p.iters == 0 {
            return Err(bad("iters", ">= 1", "0".into()));
        }
        if p.pool.is_some_and(|b| b < p.k) {
            return Err(bad("pool", ">= k", format!("{:?} (k = {})", p.pool, p.k)));
        }
        if !(p.penalty.is_finite() && p.penalty >= 0.0) {
            return Err(bad("penalty", "a finite number >= 0", p.penalty.to_string()));
        }
        Ok(Self {
            pool: p.pool,
            horizon: p.horizon,
            iters: p.iters,
            penalty: p.penalty,
            projector: ExactProjector::default(),
        })
    }
}

impl Attacker for RelaxedLookAhead {
    fn name(&self) -> &'static str {
        "relaxed_look_ahead"
    }

    fn attack(&mut self, view: &RoundView<'_>, _rng: &mut FloralRng) -> Result<FlipSet, GameError> {
        let n = view.lambda.nrows();
        let k = view.budget.k;
        let pool = candidates(view, self.pool.unwrap_or(2 * k), 1e-5, None);
        let kk = k.min(pool.len());
        let fail = |m: String| {
            GameError::player(
                "relaxed_look_ahead",
                AttackError::InvalidParam {
                    field: "(round)",
                    expected: "a learner with a step size and bounds",
                    got: m,
                },
            )
        };
        if kk == 0 {
            return Ok(FlipSet::empty(n));
        }
        let eta = view.eta.ok_or_else(|| fail("no step size".into()))?;
        let bounds = view.bounds.ok_or_else(|| fail("no bounds".into()))?;
        let lambda0: Vec<f64> = view.lambda.iter().copied().collect();
        let unrolled = Unrolled {
            gram: view.q.gram(),
            clean: view.clean.as_slice(),
            lambda0: &lambda0,
            eta,
            bounds,
            horizon: self.horizon,
            eval_k: None,
            eval_y: view.clean.as_slice(),
            projector: &self.projector,
        };
        let best: BestTheta = Arc::new(Mutex::new(None));
        let problem = Relaxed {
            unrolled,
            pool: &pool,
            k: kk as f64,
            penalty: self.penalty,
            evals: AtomicUsize::new(0),
            best: best.clone(),
        };
        let theta0 = vec![0.0; pool.len()];
        let solver = LBFGS::new(MoreThuenteLineSearch::new(), 5);
        // The run ends at the iteration limit, a converged gradient or the evaluation budget
        // (an error by design); the best θ evaluated is kept either way.
        let _ =
            Executor::new(problem, solver).configure(|s| s.param(theta0.clone()).max_iters(self.iters as u64)).run();
        let theta = best.lock().ok().and_then(|b| b.clone()).map_or(theta0, |(_, t)| t);
        let (q, _) = weights(&theta, &pool, kk as f64, n);
        let mut order = pool.clone();
        order.sort_by(|&a, &b| q[b].total_cmp(&q[a]).then(a.cmp(&b)));
        order.truncate(kk);
        order.sort_unstable();
        FlipSet::new(order, n).map_err(|e| GameError::player("relaxed_look_ahead", AttackError::from(e)))
    }
}
