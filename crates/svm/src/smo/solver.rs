//! The SMO loop: LIBSVM's `Solver` (Fan, Chen, Lin 2005) for
//! min ½λᵀQ̃λ − 1ᵀλ  s.t. 0 ≤ λ_i ≤ C_i, ỹᵀλ = 0,
//! with second-order working-set selection, optional shrinking and per-point bounds.
//!
//! Notation as in LIBSVM: `g` is the gradient G = Q̃λ − 1 (p = −1), `g_bar` is
//! Ḡ_j = Σ_{i at upper bound} C_i Q̃_ij, used to rebuild G for shrunk variables.

use super::qmatrix::{CachedQ, RowSource};
use crate::Termination;

/// Entries per block of the branch-free WSS loop.
const WSS_CHUNK: usize = 8;

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
    /// 0 when the index is in I_up, −∞ otherwise (kept in step with `status` and `y`).
    pen_up: Vec<f64>,
    /// 0 when the index is in I_low, −∞ otherwise.
    pen_low: Vec<f64>,
    c: Vec<f64>,
    qd: Vec<f64>,
    active_set: Vec<usize>,
    unshrink: bool,
    eps: f64,
    /// (max_{t ∈ I_up} −ỹ_tG_t, its last arg-max) over the current active set, computed during
    /// the gradient update of the previous step; `None` when it must be recomputed.
    next_up: Option<(f64, usize)>,
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
        pen_up: vec![0.0; l],
        pen_low: vec![0.0; l],
        c: c.to_vec(),
        qd,
        active_set: (0..l).collect(),
        unshrink: false,
        eps: settings.eps,
        next_up: None,
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
    SolverOutput { alpha: out, rho, obj, iters, status }
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
        let (not_upper, not_lower) = match self.status[i] {
            Status::Lower => (true, false),
            Status::Upper => (false, true),
            Status::Free => (true, true),
            Status::Fixed => (false, false),
        };
        let (up, low) = if self.y[i] > 0.0 { (not_upper, not_lower) } else { (not_lower, not_upper) };
        self.pen_up[i] = if up { 0.0 } else { f64::NEG_INFINITY };
        self.pen_low[i] = if low { 0.0 } else { f64::NEG_INFINITY };
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
                    self.next_up = None;
                }
            }
            let (i, j) = match self.select_working_set() {
                Some(p) => p,
                None => {
                    // Optimal on the active set: rebuild the whole gradient and check again.
                    self.reconstruct_gradient();
                    self.active_size = l;
                    self.next_up = None;
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
        let status = if converged { Termination::Converged } else { Termination::MaxIters };
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
        let ui = self.is_upper(i);
        let uj = self.is_upper(j);
        self.update_status(i);
        self.update_status(j);
        {
            // G_k += Q̃_ik Δλ_i + Q̃_jk Δλ_j, fused with the first half of the next working-set
            // selection: the last arg-max of −ỹ_kG_k over I_up (statuses are already updated).
            let (qi, qj) = self.q.rows2(i, j, asz);
            let y = &self.y[..asz];
            let pen_up = &self.pen_up[..asz];
            let (gmax, gmax_idx) = update_gradient(&mut self.g[..asz], qi, qj, dai, daj, y, pen_up);
            self.next_up = Some((gmax, gmax_idx));
        }
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
    /// −b_ij²/a_ij over the j ∈ I_low that violate with i, where b_ij = −ỹ_iG_i + ỹ_jG_j > 0 and
    /// a_ij = Q̃_ii + Q̃_jj − 2ỹ_iỹ_jQ̃_ij (τ when ≤ 0). None when m(λ) − M(λ) < eps.
    ///
    /// Same arithmetic and tie-breaking (last index wins) as LIBSVM. Set membership enters as
    /// additive penalties (0 or −∞), so each block of `WSS_CHUNK` entries is computed without
    /// branches (vectorised); a block is scanned element by element only when it can improve
    /// the running optimum.
    fn select_working_set(&mut self) -> Option<(usize, usize)> {
        let asz = self.active_size;
        let y = &self.y[..asz];
        let g = &self.g[..asz];
        let pen_up = &self.pen_up[..asz];
        let pen_low = &self.pen_low[..asz];
        let (gmax, gmax_idx) = match self.next_up.take() {
            Some(found) => found,
            None => max_up(y, g, pen_up),
        };
        let i = gmax_idx;
        if i == usize::MAX {
            return None;
        }
        let yi = y[i];
        let qdi = self.qd[i];
        let qd = &self.qd[..asz];
        let qi = self.q.row(i, asz);
        let (gmax2, best_idx) = select_j(gmax, yi, qdi, y, g, pen_low, qi, qd);
        if gmax + gmax2 < self.eps || best_idx == usize::MAX { None } else { Some((i, best_idx)) }
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
        self.pen_up.swap(i, j);
        self.pen_low.swap(i, j);
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
                for ((&q, &a), &st) in qi.iter().zip(&self.alpha[..asz]).zip(&self.status[..asz]) {
                    if st == Status::Free {
                        add += a * q;
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
                for (gj, &q) in self.g[asz..l].iter_mut().zip(&qi[asz..l]) {
                    *gj += ai * q;
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

/// Fold a block of values into a running (maximum, last arg-max), skipping −∞. The block is
/// reduced branch-free first and scanned only when it can change the result.
#[inline(always)]
fn fold_max(v: &[f64], base: usize, best: &mut f64, idx: &mut usize) {
    let mut cmax = f64::NEG_INFINITY;
    for &x in v {
        cmax = if x > cmax { x } else { cmax };
    }
    if cmax >= *best && cmax > f64::NEG_INFINITY {
        for (k, &x) in v.iter().enumerate() {
            if x >= *best && x > f64::NEG_INFINITY {
                *best = x;
                *idx = base + k;
            }
        }
    }
}

/// Fold a block of values into a running (minimum, last arg-min), skipping +∞.
#[inline(always)]
fn fold_min(v: &[f64], base: usize, best: &mut f64, idx: &mut usize) {
    let mut cmin = f64::INFINITY;
    for &x in v {
        cmin = if x < cmin { x } else { cmin };
    }
    if cmin <= *best && cmin < f64::INFINITY {
        for (k, &x) in v.iter().enumerate() {
            if x <= *best && x < f64::INFINITY {
                *best = x;
                *idx = base + k;
            }
        }
    }
}

/// (max_t −ỹ_tG_t + pen_t, last arg-max): with pen = 0 on I_up and −∞ elsewhere, LIBSVM's
/// choice of i. (−∞, usize::MAX) when I_up is empty.
fn max_up(y: &[f64], g: &[f64], pen_up: &[f64]) -> (f64, usize) {
    let n = y.len();
    let (g, pen_up) = (&g[..n], &pen_up[..n]);
    let mut v = [0.0f64; WSS_CHUNK];
    let (mut gmax, mut idx) = (f64::NEG_INFINITY, usize::MAX);
    let mut s = 0;
    while s + WSS_CHUNK <= n {
        let (yb, gb, pb) = (&y[s..s + WSS_CHUNK], &g[s..s + WSS_CHUNK], &pen_up[s..s + WSS_CHUNK]);
        for k in 0..WSS_CHUNK {
            v[k] = -yb[k] * gb[k] + pb[k];
        }
        fold_max(&v, s, &mut gmax, &mut idx);
        s += WSS_CHUNK;
    }
    let m = n - s;
    for k in 0..m {
        v[k] = -y[s + k] * g[s + k] + pen_up[s + k];
    }
    fold_max(&v[..m], s, &mut gmax, &mut idx);
    (gmax, idx)
}

/// G_k += Q̃_ik Δλ_i + Q̃_jk Δλ_j for every k, fused with [`max_up`] on the updated G.
fn update_gradient(
    g: &mut [f64],
    qi: &[f64],
    qj: &[f64],
    dai: f64,
    daj: f64,
    y: &[f64],
    pen_up: &[f64],
) -> (f64, usize) {
    let n = g.len();
    let (qi, qj, y, pen_up) = (&qi[..n], &qj[..n], &y[..n], &pen_up[..n]);
    let mut v = [0.0f64; WSS_CHUNK];
    let (mut gmax, mut idx) = (f64::NEG_INFINITY, usize::MAX);
    let mut s = 0;
    while s + WSS_CHUNK <= n {
        let gb = &mut g[s..s + WSS_CHUNK];
        let (ab, bb, yb, pb) =
            (&qi[s..s + WSS_CHUNK], &qj[s..s + WSS_CHUNK], &y[s..s + WSS_CHUNK], &pen_up[s..s + WSS_CHUNK]);
        for k in 0..WSS_CHUNK {
            gb[k] += ab[k] * dai + bb[k] * daj;
            v[k] = -yb[k] * gb[k] + pb[k];
        }
        fold_max(&v, s, &mut gmax, &mut idx);
        s += WSS_CHUNK;
    }
    let m = n - s;
    for k in 0..m {
        g[s + k] += qi[s + k] * dai + qj[s + k] * daj;
        v[k] = -y[s + k] * g[s + k] + pen_up[s + k];
    }
    fold_max(&v[..m], s, &mut gmax, &mut idx);
    (gmax, idx)
}

/// The second half of WSS2 for a given i: over j with ỹ_jG_j + pen_j (pen = 0 on I_low, −∞
/// elsewhere), returns (max_j ỹ_jG_j over I_low, the last j minimising −b²/a with
/// b = gmax + ỹ_jG_j > 0, a = Q̃_ii + Q̃_jj − 2ỹ_iỹ_jQ̃_ij, a := τ when a ≤ 0).
#[allow(clippy::too_many_arguments)]
fn select_j(
    gmax: f64,
    yi: f64,
    qdi: f64,
    y: &[f64],
    g: &[f64],
    pen_low: &[f64],
    qi: &[f64],
    qd: &[f64],
) -> (f64, usize) {
    let n = y.len();
    let (g, pen_low, qi, qd) = (&g[..n], &pen_low[..n], &qi[..n], &qd[..n]);
    #[inline(always)]
    fn one(gmax: f64, yi: f64, qdi: f64, y: f64, g: f64, pen: f64, q: f64, qd: f64) -> (f64, f64) {
        let yg = y * g + pen;
        let grad_diff = gmax + yg;
        let quad = qdi + qd - 2.0 * yi * y * q;
        let quad = if quad > 0.0 { quad } else { TAU };
        let o = -(grad_diff * grad_diff) / quad;
        (yg, if grad_diff > 0.0 { o } else { f64::INFINITY })
    }
    let mut od = [0.0f64; WSS_CHUNK];
    let mut yg = [0.0f64; WSS_CHUNK];
    let mut gmax2 = f64::NEG_INFINITY;
    let (mut best, mut idx) = (f64::INFINITY, usize::MAX);
    let mut s = 0;
    while s + WSS_CHUNK <= n {
        let (yb, gb, pb, qb, qdb) = (
            &y[s..s + WSS_CHUNK],
            &g[s..s + WSS_CHUNK],
            &pen_low[s..s + WSS_CHUNK],
            &qi[s..s + WSS_CHUNK],
            &qd[s..s + WSS_CHUNK],
        );
        for k in 0..WSS_CHUNK {
            (yg[k], od[k]) = one(gmax, yi, qdi, yb[k], gb[k], pb[k], qb[k], qdb[k]);
        }
        for &x in &yg {
            gmax2 = if x > gmax2 { x } else { gmax2 };
        }
        fold_min(&od, s, &mut best, &mut idx);
        s += WSS_CHUNK;
    }
    let m = n - s;
    for k in 0..m {
        let t = s + k;
        (yg[k], od[k]) = one(gmax, yi, qdi, y[t], g[t], pen_low[t], qi[t], qd[t]);
    }
    for &x in &yg[..m] {
        gmax2 = if x > gmax2 { x } else { gmax2 };
    }
    fold_min(&od[..m], s, &mut best, &mut idx);
    (gmax2, idx)
}
