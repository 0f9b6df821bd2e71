//! [`ExactProjector`]: the projection onto S(y) = {0 ≤ λ ≤ C, yᵀλ = 0} through the exact root μ
//! of φ(μ) = Σ_i y_i clip(z_i − μ y_i, 0, C_i) (FLORAL.md §5, `proofs/projection.md`).

use std::sync::Mutex;

use faer::{ColMut, ColRef};
use floral_data::Labels;
use serde::{Deserialize, Serialize};

use crate::common::{
    KahanSum, Per, Uni, Upper, check_dims, clip, max_abs_finite, scale_for, with_slices,
};
use crate::{Bounds, ProjError, ProjInfo, Projector};

/// How [`ExactProjector`] locates the segment of φ that holds its root.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ExactMethod {
    /// Median-of-breakpoints selection (default): each step evaluates φ at the median of the
    /// breakpoints still inside the bracket and drops the points whose state is then known;
    /// O(n) time (the median is found by `select_nth_unstable`, linear in the worst case).
    #[default]
    Select,
    /// Sort all 2n breakpoints, then binary-search the sorted list with O(n) evaluations of φ:
    /// O(n log n). Kept as the baseline of the benchmark group.
    Sort,
}

/// Parameters of [`ExactProjector`].
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExactParams {
    /// Root-finding method; default [`ExactMethod::Select`].
    pub method: ExactMethod,
}

/// Reusable work buffers of [`ExactProjector`] (O(n) floats). Pass one to
/// [`ExactProjector::project_with_scratch`] to avoid per-call allocation; the trait method
/// [`Projector::project_into`] reuses a buffer kept inside the projector when it is free.
#[derive(Debug, Default, Clone)]
pub struct ProjScratch {
    items: Vec<Item>,
    bps: Vec<f64>,
    zbuf: Vec<f64>,
    obuf: Vec<f64>,
}

impl ProjScratch {
    /// Empty buffers; they grow to the largest n seen.
    pub fn new() -> Self {
        Self::default()
    }

    /// Release the memory held by the buffers.
    pub fn clear(&mut self) {
        *self = Self::default();
    }
}

/// The exact Euclidean projection onto S(y) = {λ : 0 ≤ λ_i ≤ C_i, yᵀλ = 0}.
///
/// Π(z) = clip(z − μ*y, 0, C) where μ* is a root of the continuous, piecewise-linear,
/// non-increasing φ(μ) = Σ_i y_i clip(z_i − μ y_i, 0, C_i) (proofs/projection.md claims (a),
/// (b)). The root is bracketed between two consecutive breakpoints (by selection or by sort,
/// [`ExactMethod`]), then solved on that linear piece: μ = t + (Σ_{I_C} y_i C_i +
/// Σ_{I_x} (y_i z_i − t)) / |I_x| for a reference point t of the bracket, with compensated sums.
/// If the resulting |yᵀλ| is above 1e-13·(1 + Σλ) (only for ill-conditioned inputs, e.g. C below
/// the spacing of the floats near z), the problem is solved once more for δ = μ − μ₁ with every
/// z_i − μ₁y_i formed first, and λ = clip((z − μ₁y) − δy, 0, C) is kept if its residual is
/// smaller.
///
/// Numerics: bounds above 2·max|z| are capped at 2·max|z| (this does not change Π, proofs claim
/// (e)), and a problem whose magnitudes could overflow or underflow is rescaled by an exact power
/// of two (Π is positively homogeneous). Accuracy is then relative to max(|z|, C).
pub struct ExactProjector {
    params: ExactParams,
    scratch: Mutex<ProjScratch>,
}

impl std::fmt::Debug for ExactProjector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExactProjector").field("params", &self.params).finish_non_exhaustive()
    }
}

impl Clone for ExactProjector {
    fn clone(&self) -> Self {
        Self { params: self.params, scratch: Mutex::new(ProjScratch::default()) }
    }
}

impl Default for ExactProjector {
    fn default() -> Self {
        Self { params: ExactParams::default(), scratch: Mutex::new(ProjScratch::default()) }
    }
}

impl ExactProjector {
    /// A projector with the given parameters.
    ///
    /// # Errors
    /// None at present (every [`ExactParams`] value is valid); the `Result` keeps the
    /// params → `new` → `Result` convention.
    pub fn new(params: ExactParams) -> Result<Self, ProjError> {
        Ok(Self { params, scratch: Mutex::new(ProjScratch::default()) })
    }

    /// The parameters.
    pub fn params(&self) -> ExactParams {
        self.params
    }

    /// [`Projector::project_into`] with caller-owned work buffers (no allocation once the
    /// buffers have grown to n).
    ///
    /// # Errors
    /// As [`Projector::project_into`].
    pub fn project_with_scratch(
        &self,
        z: ColRef<'_, f64>,
        y: &Labels,
        c: Bounds<'_>,
        out: ColMut<'_, f64>,
        scratch: &mut ProjScratch,
    ) -> Result<ProjInfo, ProjError> {
        let n = z.nrows();
        check_dims(n, y, c, out.nrows())?;
        let ProjScratch { items, bps, zbuf, obuf } = scratch;
        let method = self.params.method;
        with_slices(z, out, zbuf, obuf, |zs, os| {
            let zmax = max_abs_finite(zs)?;
            let cap = 2.0 * zmax;
            let cmax = c.max().min(cap);
            let sc = scale_for(zmax.max(cmax), n);
            let ys = y.as_slice();
            Ok(match c {
                Bounds::Uniform(cu) => {
                    let p = Prob { z: zs, y: ys, b: Uni(cu), sc, cap, shift: 0.0 };
                    p.solve(method, items, bps, os)
                }
                Bounds::PerPoint(cs) => {
                    let p = Prob { z: zs, y: ys, b: Per(cs), sc, cap, shift: 0.0 };
                    p.solve(method, items, bps, os)
                }
            })
        })
    }
}

impl Projector for ExactProjector {
    fn name(&self) -> &'static str {
        match self.params.method {
            ExactMethod::Select => "exact",
            ExactMethod::Sort => "exact_sort",
        }
    }

    fn project_into(
        &self,
        z: ColRef<'_, f64>,
        y: &Labels,
        c: Bounds<'_>,
        out: ColMut<'_, f64>,
    ) -> Result<ProjInfo, ProjError> {
        match self.scratch.try_lock() {
            Ok(mut s) => self.project_with_scratch(z, y, c, out, &mut s),
            // Busy (another thread) or poisoned: use fresh buffers rather than wait or fail.
            Err(_) => self.project_with_scratch(z, y, c, out, &mut ProjScratch::default()),
        }
    }
}

/// One coordinate in the sign-folded form u = y·z·sc − shift, bound c = min(C, cap)·sc, so
/// that z − μy = y(u − μ) and the term of φ is y·clip(y(u − μ), 0, c). The term is linear with
/// slope −1 ("free") between the breakpoints a ≤ b. Every operation is branch-free (labels are
/// random, so branches on them would mispredict half of the time).
#[derive(Debug, Clone, Copy)]
struct Item {
    u: f64,
    c: f64,
    /// The label y_i = ±1.
    s: f64,
}

impl Item {
    /// 1 for y = +1, 0 for y = −1.
    #[inline(always)]
    fn p(self) -> f64 {
        0.5 + 0.5 * self.s
    }

    /// Breakpoints (a, b): y = +1 → (u − c, u); y = −1 → (u, u + c).
    #[inline(always)]
    fn breaks(self) -> (f64, f64) {
        let p = self.p();
        (self.u - p * self.c, self.u + (1.0 - p) * self.c)
    }

    /// y_i clip(z_i − μ y_i, 0, C_i) in the folded form.
    #[inline(always)]
    fn term(self, mu: f64) -> f64 {
        self.s * clip(self.s * (self.u - mu), self.c)
    }

    /// λ_i = clip(z_i − μ y_i, 0, C_i) (scaled).
    #[inline(always)]
    fn lambda(self, mu: f64) -> f64 {
        clip(self.s * (self.u - mu), self.c)
    }
}

/// Sample size (in items) for the pivot of one selection step.
const SAMPLE: usize = 1024;

/// Running totals of the items whose state is known on the whole bracket:
/// φ(μ) = k_const + s_free − m·μ + Σ_{open items} term(μ).
#[derive(Default)]
struct Settled {
    k_const: f64,
    s_free: f64,
    m: f64,
}

/// A validated problem in folded, capped, scaled form.
#[derive(Clone, Copy)]
struct Prob<'a, B: Upper> {
    z: &'a [f64],
    y: &'a [f64],
    b: B,
    sc: f64,
    cap: f64,
    /// Reference subtracted from every u (the refinement step solves for μ − shift).
    shift: f64,
}

impl<B: Upper> Prob<'_, B> {
    #[inline(always)]
    fn item(&self, i: usize) -> Item {
        let yi = self.y[i];
        Item { u: yi * self.z[i] * self.sc - self.shift, c: self.b.at(i).min(self.cap) * self.sc, s: yi }
    }

    fn n(&self) -> usize {
        self.z.len()
    }

    /// φ(μ) over all points (scaled units).
    fn phi(&self, mu: f64) -> f64 {
        (0..self.n()).map(|i| self.item(i).term(mu)).sum()
    }

    fn solve(
        &self,
        method: ExactMethod,
        items: &mut Vec<Item>,
        bps: &mut Vec<f64>,
        out: &mut [f64],
    ) -> ProjInfo {
        let n = self.n();
        if n == 0 {
            return ProjInfo { mu: 0.0, iterations: 0, residual: 0.0 };
        }
        let (mu, mut iterations) = self.root(method, items, bps);
        let (r, sum, _) = self.write(mu, out);
        let mut best = (0.0, mu, r);
        if r.abs() > 1e-13 * (self.sc + sum) {
            // Ill-conditioned in floating point (e.g. C far below the spacing of the floats near
            // z, or heavy cancellation): solve again for δ = μ − μ₁ with u shifted by μ₁, where
            // the coordinates near the root are represented exactly (Sterbenz), and keep the
            // better output.
            let shifted = Prob { shift: self.shift + mu, ..*self };
            let (delta, it2) = shifted.root(method, items, bps);
            iterations += it2;
            let (r2, _, _) = shifted.write(delta, out);
            if r2.abs() < r.abs() {
                best = (mu, delta, r2);
            } else {
                self.write(mu, out);
            }
        }
        let (base, delta, r) = best;
        ProjInfo { mu: (base + delta) / self.sc, iterations, residual: r.abs() / self.sc }
    }

    /// A root of φ (scaled units, relative to `shift`) and the iterations spent.
    fn root(&self, method: ExactMethod, items: &mut Vec<Item>, bps: &mut Vec<f64>) -> (f64, usize) {
        let (lo, hi, iterations) = match method {
            ExactMethod::Select => self.bracket_select(items, bps),
            ExactMethod::Sort => self.bracket_sort(bps),
        };
        (self.root_on_bracket(lo, hi), iterations)
    }

    /// Bracket [lo, hi] with φ(lo) ≥ 0 ≥ φ(hi) and no breakpoint strictly inside, by
    /// median-of-breakpoints selection. Returns (lo, hi, pivots evaluated).
    ///
    /// Each step takes as pivot the median of the in-bracket breakpoints of a strided sample of
    /// the open items (all of them when few, or when the previous sampled step removed less than
    /// a quarter of the open items, which keeps the total work O(n) in the worst case), evaluates
    /// φ there, halves the bracket, and folds the items whose state is then known into
    /// [`Settled`].
    fn bracket_select(&self, items: &mut Vec<Item>, bps: &mut Vec<f64>) -> (f64, f64, usize) {
        items.clear();
        items.extend((0..self.n()).map(|i| self.item(i)));
        let (mut lo, mut hi) = (f64::NEG_INFINITY, f64::INFINITY);
        let mut st = Settled::default();
        let mut iters = 0;
        let mut full = false;
        while !items.is_empty() {
            let Some(pivot) = pivot(items, lo, hi, bps, full) else {
                break; // no breakpoint inside: every item is settled (cannot happen, see `fold`)
            };
            let f = st.k_const + st.s_free - st.m * pivot
                + items.iter().map(|it| it.term(pivot)).sum::<f64>();
            iters += 1;
            if f > 0.0 {
                lo = pivot;
            } else if f < 0.0 {
                hi = pivot;
            } else {
                lo = pivot;
                hi = pivot;
            }
            let before = items.len();
            fold(items, lo, hi, &mut st);
            // A sampled pivot that removed too little: take the exact median next time.
            full = !full && 4 * items.len() > 3 * before;
        }
        (lo, hi, iters)
    }

    /// Bracket by sorting the 2n breakpoints and binary-searching for the first b_k with
    /// φ(b_k) ≤ 0. Returns (lo, hi, evaluations of φ).
    fn bracket_sort(&self, bps: &mut Vec<f64>) -> (f64, f64, usize) {
        bps.clear();
        for i in 0..self.n() {
            let (a, b) = self.item(i).breaks();
            bps.push(a);
            bps.push(b);
        }
        bps.sort_unstable_by(f64::total_cmp);
        let (mut l, mut r) = (0usize, bps.len());
        let mut iters = 0;
        while l < r {
            let mid = l + (r - l) / 2;
            iters += 1;
            if self.phi(bps[mid]) <= 0.0 {
                r = mid;
            } else {
                l = mid + 1;
            }
        }
        let lo = if l == 0 { f64::NEG_INFINITY } else { bps[l - 1] };
        let hi = bps.get(l).copied().unwrap_or(f64::INFINITY);
        (lo, hi, iters)
    }

    /// The root of φ on a bracket [lo, hi] holding no breakpoint strictly inside, where φ is
    /// linear: φ(μ) = K + Σ_{free} (u_i − t) − m(μ − t) for a reference t in the bracket.
    fn root_on_bracket(&self, lo: f64, hi: f64) -> f64 {
        let t = match (lo.is_finite(), hi.is_finite()) {
            (true, true) => lo + (hi - lo) / 2.0,
            (true, false) => lo,
            (false, true) => hi,
            (false, false) => 0.0,
        };
        let mut k = KahanSum::default();
        let mut s = KahanSum::default();
        let mut m = 0usize;
        for i in 0..self.n() {
            let it = self.item(i);
            let (a, b) = it.breaks();
            let p = it.p();
            let left = t <= a; // y = +1: clipped at C; y = −1: at 0
            let right = t >= b; // y = +1: at 0; y = −1: clipped at C
            let free = !(left | right);
            k.add(f64::from(u8::from(left)) * p * it.c - f64::from(u8::from(right)) * (1.0 - p) * it.c);
            s.add(f64::from(u8::from(free)) * (it.u - t));
            m += usize::from(free);
        }
        let k = k.value();
        if m == 0 {
            // φ ≡ K on the bracket. K ≠ 0 only when rounding merged breakpoints (C below the
            // float spacing near z): φ(lo) ≥ 0 ≥ φ(hi) then puts the root at the end where φ
            // actually changes sign.
            return if k > 0.0 && hi.is_finite() {
                hi
            } else if k < 0.0 && lo.is_finite() {
                lo
            } else {
                t
            };
        }
        let mu = t + (k + s.value()) / m as f64;
        mu.max(lo).min(hi)
    }

    /// out_i = clip(z_i − μ y_i, 0, C_i) in original units; returns (yᵀλ, Σ λ, number of free
    /// coordinates) for the scaled λ = out·sc (so that huge outputs cannot overflow the sums),
    /// the sums compensated.
    fn write(&self, mu: f64, out: &mut [f64]) -> (f64, f64, usize) {
        let inv = 1.0 / self.sc;
        let mut r = KahanSum::default();
        let mut s = KahanSum::default();
        let mut free = 0usize;
        for (i, o) in out.iter_mut().enumerate() {
            let it = self.item(i);
            let l = it.lambda(mu);
            free += usize::from((l > 0.0) & (l < it.c));
            *o = l * inv;
            r.add(it.s * l);
            s.add(l);
        }
        (r.value(), s.value(), free)
    }
}

/// The median of the in-bracket breakpoints of the open items (of a strided sample of them
/// unless `full` or there are few), or `None` when no breakpoint lies strictly inside (lo, hi).
fn pivot(items: &[Item], lo: f64, hi: f64, bps: &mut Vec<f64>, full: bool) -> Option<f64> {
    let collect = |bps: &mut Vec<f64>, step: usize| {
        bps.clear();
        for it in items.iter().step_by(step) {
            let (a, b) = it.breaks();
            if lo < a && a < hi {
                bps.push(a);
            }
            if lo < b && b < hi {
                bps.push(b);
            }
        }
    };
    let step = if full || items.len() <= 2 * SAMPLE { 1 } else { items.len() / SAMPLE };
    collect(bps, step);
    if bps.is_empty() && step > 1 {
        collect(bps, 1);
    }
    if bps.is_empty() {
        return None;
    }
    let k = bps.len() / 2;
    let (_, &mut p, _) = bps.select_nth_unstable_by(k, f64::total_cmp);
    Some(p)
}

/// Fold the items whose state is known on the whole bracket [lo, hi] into `st` and keep the
/// others ("open": a breakpoint lies strictly inside), compacting in place without branches.
///
/// An item is clipped on the whole bracket when hi ≤ a (term p·c) or lo ≥ b (term (p − 1)·c),
/// free when a ≤ lo and hi ≤ b (term u − μ), and open otherwise; an open item always has a
/// breakpoint strictly inside (lo, hi), so [`pivot`] finds one while items remain.
fn fold(items: &mut Vec<Item>, lo: f64, hi: f64, st: &mut Settled) {
    let mut k = 0;
    for j in 0..items.len() {
        let it = items[j];
        let (a, b) = it.breaks();
        let p = it.p();
        let left = hi <= a;
        let right = lo >= b;
        let free = !(left | right) & (a <= lo) & (hi <= b);
        let (lf, rf, ff) = (f64::from(u8::from(left)), f64::from(u8::from(right)), f64::from(u8::from(free)));
        st.k_const += lf * p * it.c + rf * (p - 1.0) * it.c;
        st.s_free += ff * it.u;
        st.m += ff;
        items[k] = it;
        k += usize::from(!(left | right | free));
    }
    items.truncate(k);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prob<'a>(z: &'a [f64], y: &'a [f64], c: f64) -> Prob<'a, Uni> {
        Prob { z, y, b: Uni(c), sc: 1.0, cap: f64::INFINITY, shift: 0.0 }
    }

    #[test]
    fn item_breakpoints_and_terms() {
        let p = prob(&[0.5, 0.5], &[1.0, -1.0], 1.0);
        let (a, b) = (p.item(0), p.item(1));
        assert_eq!(a.breaks(), (-0.5, 0.5));
        assert_eq!(b.breaks(), (-0.5, 0.5)); // u = −0.5
        assert_eq!(a.term(-1.0), 1.0);
        assert_eq!(a.term(0.0), 0.5);
        assert_eq!(b.term(1.0), -1.0);
        assert_eq!(b.term(0.0), -0.5);
        assert_eq!((a.lambda(0.0), b.lambda(0.0)), (0.5, 0.5));
        // fold: a is free on [−0.4, 0.4]; b is clipped at C on [0.6, 1.0] (term −1); an item
        // with a breakpoint inside stays open.
        let mut st = Settled::default();
        let mut v = vec![a];
        fold(&mut v, -0.4, 0.4, &mut st);
        assert!(v.is_empty() && st.m == 1.0 && st.s_free == 0.5);
        let mut st = Settled::default();
        let mut v = vec![b, a];
        fold(&mut v, 0.6, 1.0, &mut st);
        assert!(v.is_empty() && st.k_const == -1.0 && st.m == 0.0);
        let mut v = vec![a];
        fold(&mut v, -1.0, 0.0, &mut Settled::default());
        assert_eq!(v.len(), 1);
    }

    #[test]
    fn both_brackets_contain_a_root_and_no_breakpoint() {
        let z = [0.3, -1.2, 2.0, 0.7, -0.1, 1.1];
        let y = [1.0, -1.0, 1.0, -1.0, -1.0, 1.0];
        let p = prob(&z, &y, 1.0);
        let mut items = Vec::new();
        let mut bps = Vec::new();
        for (lo, hi, _) in [p.bracket_select(&mut items, &mut bps), p.bracket_sort(&mut bps)] {
            assert!(lo <= hi);
            assert!(p.phi(lo) >= 0.0 && p.phi(hi) <= 0.0);
            for i in 0..z.len() {
                let (a, b) = p.item(i).breaks();
                let inside = |v: f64| lo < v && v < hi;
                assert!(!inside(a) && !inside(b));
            }
            let mu = p.root_on_bracket(lo, hi);
            assert!(p.phi(mu).abs() < 1e-14);
        }
    }

    #[test]
    fn root_on_unbounded_bracket_is_finite() {
        // All labels +1: φ ≥ 0 everywhere, root set [max z, ∞).
        let z = [0.3, 0.9];
        let p = prob(&z, &[1.0, 1.0], 1.0);
        let mut items = Vec::new();
        let mut bps = Vec::new();
        let (lo, hi, _) = p.bracket_select(&mut items, &mut bps);
        let mu = p.root_on_bracket(lo, hi);
        assert!(mu.is_finite() && mu >= 0.9);
        assert_eq!(p.phi(mu), 0.0);
    }

    #[test]
    fn merged_breakpoints_are_refined() {
        // C = 1 is far below the float spacing near 1e300 (≈ 1e284): the breakpoints u − C and u
        // coincide in floating point. The true root is μ = 1e300 − 0.5.
        let z = [1e300, -1e300, 3e299, -7e299, 1e300];
        let y = Labels::new(vec![1.0, -1.0, 1.0, -1.0, 1.0]).unwrap();
        let zc = faer::Col::from_fn(5, |i| z[i]);
        for method in [ExactMethod::Select, ExactMethod::Sort] {
            let mut out = faer::Col::<f64>::zeros(5);
            let p = ExactProjector::new(ExactParams { method }).unwrap();
            let info = p.project_into(zc.as_ref(), &y, Bounds::Uniform(1.0), out.as_mut()).unwrap();
            let got: Vec<f64> = (0..5).map(|i| out[i]).collect();
            assert_eq!(got, vec![0.5, 0.0, 0.0, 1.0, 0.5]);
            assert_eq!(info.residual, 0.0);
        }
    }
}
