//! The SMO loop: LIBSVM's `Solver` (Fan, Chen, Lin 2005) for
//! min ½λᵀQ̃λ − 1ᵀλ  s.t. 0 ≤ λ_i ≤ C_i, ỹᵀλ = 0,
//! with second-order working-set selection, optional shrinking and per-point bounds.
//!
//! Notation as in LIBSVM: `g` is the gradient G = Q̃λ − 1 (p = −1), `g_bar` is
//! Ḡ_j = Σ_{i at upper bound} C_i Q̃_ij, used to rebuild G for shrunk variables.

use super::qmatrix::{CachedQ, RowSource};
use crate::Termination;

/// τ of LIBSVM: the curvature used when a_ij = Q̃_ii + Q̃_jj − 2ỹ_iỹ_jQ̃_ij ≤ 0 (non-PSD kernels).
const TAU: f64 = 1e-12;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Status {
    Lower,
    Upper,
    Free,
    /// C_i = 0: pinned at 0, both at the lower and the upper bound.
    Fixed,
}

/// What the loop returns, in the caller's original index order.
pub(crate) struct SolverOutput {
    pub(crate) alpha: Vec<f64>,
    pub(crate) rho: f64,
    pub(crate) obj: f64,
    pub(crate) iters: usize,
    pub(crate) status: Termination,
}

pub(crate) struct SolverSettings {
    pub(crate) eps: f64,
    pub(crate) max_iter: usize,
    pub(crate) shrinking: bool,
}

struct Solver<S: RowSource> {
    q: CachedQ<S>,
    l: usize,
    active_size: usize,
    y: Vec<f64>,
    g: Vec<f64>,
    g_bar: Vec<f64>,
    alpha: Vec<f64>,
    status: Vec<Status>,
    c: Vec<f64>,
    qd: Vec<f64>,
    active_set: Vec<usize>,
    unshrink: bool,
    eps: f64,
}

/// Run SMO. `y` are the signs ỹ (±1), `c` the bounds C_i ≥ 0, `alpha` a feasible start (all in
/// original order; `alpha` is checked by the caller).
pub(crate) fn solve<S: RowSource>(
    q: CachedQ<S>,
    y: &[f64],
    c: &[f64],
    alpha: Vec<f64>,
    settings: &SolverSettings,
) -> SolverOutput {
    let l = q.n();
    let qd: Vec<f64> = (0..l).map(|i| q.diag(i)).collect();
    let mut s = Solver {
        q,
        l,
        active_size: l,
        y: y.to_vec(),
        g: vec![-1.0; l],
        g_bar: vec![0.0; l],
        alpha,
        status: vec![Status::Lower; l],
        c: c.to_vec(),
        qd,
        active_set: (0..l).collect(),
        unshrink: false,
        eps: settings.eps,
    };
    for i in 0..l {
        s.update_status(i);
    }
    s.init_gradient();
    let (iters, status) = s.run(settings);
    let rho = s.calculate_rho();
    let mut obj = 0.0;
    for i in 0..l {
        obj += s.alpha[i] * (s.g[i] - 1.0);
    }
    obj /= 2.0;
    let mut out = vec![0.0; l];
    for i in 0..l {
        out[s.active_set[i]] = s.alpha[i];
    }
    SolverOutput {
        alpha: out,
        rho,
        obj,
        iters,
        status,
    }
}

impl<S: RowSource> Solver<S> {
    #[inline]
    fn update_status(&mut self, i: usize) {
        let (a, c) = (self.alpha[i], self.c[i]);
        self.status[i] = if c <= 0.0 {
            Status::Fixed
        } else if a >= c {
            Status::Upper
        } else if a <= 0.0 {
            Status::Lower
        } else {
            Status::Free
        };
    }

    #[inline]
    fn is_upper(&self, i: usize) -> bool {
        matches!(self.status[i], Status::Upper | Status::Fixed)
    }

    #[inline]
    fn is_lower(&self, i: usize) -> bool {
        matches!(self.status[i], Status::Lower | Status::Fixed)
    }

    /// G = Q̃α − 1 and Ḡ = Σ_{upper} C_i Q̃_i from the starting α.
    fn init_gradient(&mut self) {
        let l = self.l;
        for i in 0..l {
            if self.is_lower(i) {
                continue;
            }
            let ai = self.alpha[i];
            let upper = self.status[i] == Status::Upper;
            let ci = self.c[i];
            let qi = self.q.row(i, l);
            for (gj, &qij) in self.g.iter_mut().zip(qi) {
                *gj += ai * qij;
            }
            if upper {
                for (bj, &qij) in self.g_bar.iter_mut().zip(qi) {
                    *bj += ci * qij;
                }
            }
        }
    }

    fn run(&mut self, st: &SolverSettings) -> (usize, Termination) {
        let l = self.l;
        let mut iter = 0usize;
        let mut counter = l.min(1000) + 1;
        let mut converged = false;
        while iter < st.max_iter {
            counter -= 1;
            if counter == 0 {
                counter = l.min(1000);
                if st.shrinking {
                    self.do_shrinking();
                }
            }
            let (i, j) = match self.select_working_set() {
                Some(p) => p,
                None => {
                    // Optimal on the active set: rebuild the whole gradient and check again.
                    self.reconstruct_gradient();
                    self.active_size = l;
                    match self.select_working_set() {
                        Some(p) => {
                            counter = 1; // shrink at the next iteration
                            p
                        }
                        None => {
                            converged = true;
                            break;
                        }
                    }
                }
            };
            iter += 1;
            self.take_step(i, j);
        }
        if !converged && self.active_size < l {
            self.reconstruct_gradient();
            self.active_size = l;
        }
        let status = if converged {
            Termination::Converged
        } else {
            Termination::MaxIters
        };
        (iter, status)
    }

    /// Optimise the pair (i, j) analytically, clip to the box, update G and Ḡ.
    fn take_step(&mut self, i: usize, j: usize) {
        let asz = self.active_size;
        let (ci, cj) = (self.c[i], self.c[j]);
        let old_ai = self.alpha[i];
        let old_aj = self.alpha[j];
        {
            let (qi, _) = self.q.rows2(i, j, asz);
            let qij = qi[j];
            let (mut ai, mut aj) = (old_ai, old_aj);
            if self.y[i] != self.y[j] {
                let mut quad = self.qd[i] + self.qd[j] + 2.0 * qij;
                if quad <= 0.0 {
                    quad = TAU;
                }
                let delta = (-self.g[i] - self.g[j]) / quad;
                let diff = ai - aj;
                ai += delta;
                aj += delta;
                if diff > 0.0 {
                    if aj < 0.0 {
                        aj = 0.0;
                        ai = diff;
                    }
                } else if ai < 0.0 {
                    ai = 0.0;
                    aj = -diff;
                }
                if diff > ci - cj {
                    if ai > ci {
                        ai = ci;
                        aj = ci - diff;
                    }
                } else if aj > cj {
                    aj = cj;
                    ai = cj + diff;
                }
            } else {
                let mut quad = self.qd[i] + self.qd[j] - 2.0 * qij;
                if quad <= 0.0 {
                    quad = TAU;
                }
                let delta = (self.g[i] - self.g[j]) / quad;
                let sum = ai + aj;
                ai -= delta;
                aj += delta;
                if sum > ci {
                    if ai > ci {
                        ai = ci;
                        aj = sum - ci;
                    }
                } else if aj < 0.0 {
                    aj = 0.0;
                    ai = sum;
                }
                if sum > cj {
                    if aj > cj {
                        aj = cj;
                        ai = sum - cj;
                    }
                } else if ai < 0.0 {
                    ai = 0.0;
                    aj = sum;
                }
            }
            self.alpha[i] = ai;
            self.alpha[j] = aj;
        }
        let dai = self.alpha[i] - old_ai;
        let daj = self.alpha[j] - old_aj;
        {
            let (qi, qj) = self.q.rows2(i, j, asz);
            for ((gk, &a), &b) in self.g[..asz].iter_mut().zip(qi).zip(qj) {
                *gk += a * dai + b * daj;
            }
        }
        let ui = self.is_upper(i);
        let uj = self.is_upper(j);
        self.update_status(i);
        self.update_status(j);
        let l = self.l;
        if ui != self.is_upper(i) {
            let qi = self.q.row(i, l);
            let s = if ui { -ci } else { ci };
            for (bk, &v) in self.g_bar.iter_mut().zip(qi) {
                *bk += s * v;
            }
        }
        if uj != self.is_upper(j) {
            let qj = self.q.row(j, l);
            let s = if uj { -cj } else { cj };
            for (bk, &v) in self.g_bar.iter_mut().zip(qj) {
                *bk += s * v;
            }
        }
    }

    /// WSS2 (second-order working-set selection): i maximises −ỹ_i G_i over I_up; j minimises
    /// −b_ij²/a_ij over the j ∈ I_low that violate with i. None when m(λ) − M(λ) < eps.
    fn select_working_set(&mut self) -> Option<(usize, usize)> {
        let asz = self.active_size;
        let mut gmax = f64::NEG_INFINITY;
        let mut gmax2 = f64::NEG_INFINITY;
        let mut gmax_idx = usize::MAX;
        for t in 0..asz {
            if self.y[t] > 0.0 {
                if !self.is_upper(t) && -self.g[t] >= gmax {
                    gmax = -self.g[t];
                    gmax_idx = t;
                }
            } else if !self.is_lower(t) && self.g[t] >= gmax {
                gmax = self.g[t];
                gmax_idx = t;
            }
        }
        let i = gmax_idx;
        let mut gmin_idx = usize::MAX;
        let mut obj_diff_min = f64::INFINITY;
        if i != usize::MAX {
            let yi = self.y[i];
            let qdi = self.qd[i];
            let qi = self.q.row(i, asz);
            for j in 0..asz {
                let gj = self.g[j];
                if self.y[j] > 0.0 {
                    if !matches!(self.status[j], Status::Lower | Status::Fixed) {
                        let grad_diff = gmax + gj;
                        if gj >= gmax2 {
                            gmax2 = gj;
                        }
                        if grad_diff > 0.0 {
                            let quad = qdi + self.qd[j] - 2.0 * yi * qi[j];
                            let obj_diff = if quad > 0.0 {
                                -(grad_diff * grad_diff) / quad
                            } else {
                                -(grad_diff * grad_diff) / TAU
                            };
                            if obj_diff <= obj_diff_min {
                                gmin_idx = j;
                                obj_diff_min = obj_diff;
                            }
                        }
                    }
                } else if !matches!(self.status[j], Status::Upper | Status::Fixed) {
                    let grad_diff = gmax - gj;
                    if -gj >= gmax2 {
                        gmax2 = -gj;
                    }
                    if grad_diff > 0.0 {
                        let quad = qdi + self.qd[j] + 2.0 * yi * qi[j];
                        let obj_diff = if quad > 0.0 {
                            -(grad_diff * grad_diff) / quad
                        } else {
                            -(grad_diff * grad_diff) / TAU
                        };
                        if obj_diff <= obj_diff_min {
                            gmin_idx = j;
                            obj_diff_min = obj_diff;
                        }
                    }
                }
            }
        }
        if gmax + gmax2 < self.eps || gmin_idx == usize::MAX {
            None
        } else {
            Some((i, gmin_idx))
        }
    }

    fn be_shrunk(&self, i: usize, gmax1: f64, gmax2: f64) -> bool {
        match self.status[i] {
            Status::Upper => {
                if self.y[i] > 0.0 {
                    -self.g[i] > gmax1
                } else {
                    -self.g[i] > gmax2
                }
            }
            Status::Lower => {
                if self.y[i] > 0.0 {
                    self.g[i] > gmax2
                } else {
                    self.g[i] > gmax1
                }
            }
            Status::Free => false,
            // Pinned at 0 with C_i = 0: never moves, can always be shrunk.
            Status::Fixed => true,
        }
    }

    fn do_shrinking(&mut self) {
        let mut gmax1 = f64::NEG_INFINITY; // max { −ỹ_i G_i : i ∈ I_up }
        let mut gmax2 = f64::NEG_INFINITY; // max { ỹ_i G_i : i ∈ I_low }
        for i in 0..self.active_size {
            let gi = self.g[i];
            if self.y[i] > 0.0 {
                if !self.is_upper(i) && -gi >= gmax1 {
                    gmax1 = -gi;
                }
                if !self.is_lower(i) && gi >= gmax2 {
                    gmax2 = gi;
                }
            } else {
                if !self.is_upper(i) && -gi >= gmax2 {
                    gmax2 = -gi;
                }
                if !self.is_lower(i) && gi >= gmax1 {
                    gmax1 = gi;
                }
            }
        }
        if !self.unshrink && gmax1 + gmax2 <= self.eps * 10.0 {
            self.unshrink = true;
            self.reconstruct_gradient();
            self.active_size = self.l;
        }
        let mut i = 0;
        while i < self.active_size {
            if self.be_shrunk(i, gmax1, gmax2) {
                self.active_size -= 1;
                while self.active_size > i {
                    if !self.be_shrunk(self.active_size, gmax1, gmax2) {
                        self.swap_index(i, self.active_size);
                        break;
                    }
                    self.active_size -= 1;
                }
            }
            i += 1;
        }
    }

    fn swap_index(&mut self, i: usize, j: usize) {
        self.q.swap_index(i, j);
        self.y.swap(i, j);
        self.g.swap(i, j);
        self.status.swap(i, j);
        self.alpha.swap(i, j);
        self.active_set.swap(i, j);
        self.g_bar.swap(i, j);
        self.c.swap(i, j);
        self.qd.swap(i, j);
    }

    /// Rebuild G_j for the shrunk (inactive) j from Ḡ and the free variables.
    fn reconstruct_gradient(&mut self) {
        let (asz, l) = (self.active_size, self.l);
        if asz == l {
            return;
        }
        for j in asz..l {
            self.g[j] = self.g_bar[j] - 1.0;
        }
        let nr_free = (0..asz).filter(|&j| self.status[j] == Status::Free).count();
        if nr_free * l > 2 * asz * (l - asz) {
            for i in asz..l {
                let qi = self.q.row(i, asz);
                let mut add = 0.0;
                for j in 0..asz {
                    if self.status[j] == Status::Free {
                        add += self.alpha[j] * qi[j];
                    }
                }
                self.g[i] += add;
            }
        } else {
            for i in 0..asz {
                if self.status[i] != Status::Free {
                    continue;
                }
                let ai = self.alpha[i];
                let qi = self.q.row(i, l);
                for j in asz..l {
                    self.g[j] += ai * qi[j];
                }
            }
        }
    }

    /// ρ = −b: the mean of ỹ_i G_i over free variables, or the midpoint of the feasible interval
    /// [lb, ub] when none is free (the finite end when one end is unbounded; 0 when both are).
    fn calculate_rho(&self) -> f64 {
        let mut ub = f64::INFINITY;
        let mut lb = f64::NEG_INFINITY;
        let mut nr_free = 0usize;
        let mut sum_free = 0.0;
        for i in 0..self.active_size {
            let yg = self.y[i] * self.g[i];
            match self.status[i] {
                Status::Upper => {
                    if self.y[i] < 0.0 {
                        ub = ub.min(yg);
                    } else {
                        lb = lb.max(yg);
                    }
                }
                Status::Lower => {
                    if self.y[i] > 0.0 {
                        ub = ub.min(yg);
                    } else {
                        lb = lb.max(yg);
                    }
                }
                Status::Free => {
                    nr_free += 1;
                    sum_free += yg;
                }
                Status::Fixed => {}
            }
        }
        if nr_free > 0 {
            sum_free / nr_free as f64
        } else {
            match (ub.is_finite(), lb.is_finite()) {
                (true, true) => (ub + lb) / 2.0,
                (true, false) => ub,
                (false, true) => lb,
                (false, false) => 0.0,
            }
        }
    }
}
