//! [`ExactProjector`]: the projection onto S(y) = {0 ≤ λ ≤ C, yᵀλ = 0} through the exact root μ
//! of φ(μ) = Σ_i y_i clip(z_i − μ y_i, 0, C_i) (docs/method.md §5, `proofs/projection.md`).

use std::sync::Mutex;

use faer::{ColMut, ColRef};
use floral_data::Labels;
use serde::{Deserialize, Serialize};

use crate::common::{KahanSum, check_dims, clip, fmax, fmin, max_abs_finite, scale_for, with_slices};
use crate::lanes::{Arith, F4, Quad, W, has_four_lanes, max4, min4, sum4};
use crate::lanes::{Per, Uni, Upper};
use crate::{Bounds, ProjError, ProjInfo, Projector};

/// How [`ExactProjector`] locates the linear piece of φ that holds its root. All three end on
/// that piece and solve the linear equation there, so they agree to rounding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ExactMethod {
    /// Safeguarded Newton on φ (default, fastest measured): from μ = 0, μ ← μ + φ(μ)/|I_x(μ)|
    /// (a full Newton step; on a flat piece, a step to the next breakpoint), each iterate
    /// tightening a bracket [lo, hi] with φ(lo) ≥ 0 ≥ φ(hi). It stops, exactly, when no
    /// coordinate changed state (clipped low, free, clipped high) between two Newton iterates:
    /// φ is then linear between them and the last iterate is its root. A step leaving the
    /// bracket, or more than 50 evaluations, hands the bracket to [`ExactMethod::Select`], so
    /// the worst case stays O(n) beyond those evaluations. Typically 3 to 6 passes over the data.
    #[default]
    Newton,
    /// Median-of-breakpoints selection: each step evaluates φ at the median of the
    /// breakpoints still inside the bracket and drops the points whose state is then known;
    /// O(n) time (a sampled median, with an exact one after any step that removed too little).
    Select,
    /// Sort all 2n breakpoints, then binary-search the sorted list with O(n) evaluations of φ:
    /// O(n log n). Kept as the baseline of the benchmark group.
    Sort,
}

/// Parameters of [`ExactProjector`].
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExactParams {
    /// Root-finding method; default [`ExactMethod::Newton`].
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
/// (b)). Every [`ExactMethod`] ends on the linear piece of φ that holds the root and solves
/// φ = 0 there: Newton certifies that its last step stayed inside one piece; selection and
/// sort bracket the root between consecutive breakpoints and solve
/// μ = t + (Σ_{I_C} y_i C_i + Σ_{I_x} (y_i z_i − t)) / |I_x| for a reference point t of the
/// bracket. The output is written once more at the final μ with its residual |yᵀλ| summed with
/// compensation. If that residual exceeds 1e-13·(1 + Σλ), one Newton correction on the piece is
/// tried; if it still does (ill-conditioned inputs only, e.g. C below the spacing of the floats
/// near z), the problem is solved once more for δ = μ − μ₁ with every z_i − μ₁y_i formed first,
/// and λ = clip((z − μ₁y) − δy, 0, C) is kept if its residual is smaller.
///
/// Numerics: bounds above 2·max|z| are capped at 2·max|z| (this does not change Π, proofs claim
/// (e)), and a problem whose magnitudes could overflow or underflow is rescaled by an exact power
/// of two (Π is positively homogeneous). Accuracy is then relative to max(|z|, C).
///
/// Speed: the passes of Newton (evaluating φ, writing the output) run on four lanes, as AVX2
/// vectors when the CPU has them (detected at run time through pulp) and as portable code
/// otherwise, with the same bits either way. `cargo bench --bench projection` prints the
/// ratios against Algorithm 2 and Clarabel measured in one run.
///
/// Allocation: Newton (the default) allocates nothing per call. Selection and sort need O(n)
/// work buffers ([`ProjScratch`]); the projector keeps one behind a mutex and reuses it when
/// it is free (a concurrent call gets fresh buffers instead of waiting), or the caller passes
/// its own to [`ExactProjector::project_with_scratch`].
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
            let ys = y.as_slice();
            match c {
                Bounds::Uniform(cu) => project_slices(zs, ys, Uni(cu), cu, method, items, bps, os),
                Bounds::PerPoint(cs) => project_slices(zs, ys, Per(cs), c.max(), method, items, bps, os),
            }
        })
    }
}

/// Validate z, choose the scaling and the cap, and solve. For the Newton method the first
/// evaluation (at μ = 0) doubles as the finiteness check and the max|z| scan; it is kept
/// when neither scaling nor capping turns out to be needed (the common case), which saves a
/// pass over the data.
#[allow(clippy::too_many_arguments)]
fn project_slices<B: Upper>(
    zs: &[f64],
    ys: &[f64],
    b: B,
    cmax: f64,
    method: ExactMethod,
    items: &mut Vec<Item>,
    bps: &mut Vec<f64>,
    os: &mut [f64],
) -> Result<ProjInfo, ProjError> {
    let n = zs.len();
    let mut first = None;
    let zmax = if method == ExactMethod::Newton && n > 0 {
        let prov = Prob { z: zs, y: ys, b, sc: 1.0, cap: f64::INFINITY, shift: 0.0 };
        let (e, zmax, bad) = prov.eval_impl::<true>(0.0);
        if bad {
            return Err(max_abs_finite(zs).err().unwrap_or(ProjError::NonFinite { index: 0, value: f64::NAN }));
        }
        first = Some(e);
        zmax
    } else {
        max_abs_finite(zs)?
    };
    let cap = 2.0 * zmax;
    let sc = scale_for(zmax.max(cmax.min(cap)), n);
    if !(sc == 1.0 && cmax <= cap) {
        first = None;
    }
    let p = Prob { z: zs, y: ys, b, sc, cap, shift: 0.0 };
    Ok(p.solve(method, items, bps, os, first))
}

impl Projector for ExactProjector {
    fn name(&self) -> &'static str {
        match self.params.method {
            ExactMethod::Newton => "exact",
            ExactMethod::Select => "exact_select",
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
}

/// Sample size (in items) for the pivot of one selection step.
const SAMPLE: usize = 1024;

/// Points per block of the blocked sums in [`Prob::eval`].
const BLOCK: usize = 256;

/// Evaluations of φ before [`ExactMethod::Newton`] hands over to selection.
const NEWTON_MAX: usize = 50;

/// One evaluation of φ for the Newton method.
#[derive(Clone, Copy)]
struct Eval {
    /// φ(μ).
    phi: f64,
    /// #{a_i ≤ μ < b_i}: φ has slope −m_right on [μ, up].
    m_right: usize,
    /// #{a_i < μ ≤ b_i}: φ has slope −m_left on [down, μ].
    m_left: usize,
    /// The nearest breakpoint above μ (+∞ if none).
    up: f64,
    /// The nearest breakpoint below μ (−∞ if none).
    down: f64,
}

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
        Item { u: yi * self.z[i] * self.sc - self.shift, c: fmin(self.b.at(i), self.cap) * self.sc, s: yi }
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
        first: Option<Eval>,
    ) -> ProjInfo {
        let n = self.n();
        if n == 0 {
            return ProjInfo { mu: 0.0, iterations: 0, residual: 0.0 };
        }
        let (mu, mut iterations, r, sum) = self.root_and_write(method, items, bps, out, first);
        let mut best = (0.0, mu, r);
        if r.abs() > 1e-13 * (self.sc + sum) {
            // Ill-conditioned in floating point (e.g. C far below the spacing of the floats near
            // z, or heavy cancellation): solve again for δ = μ − μ₁ with u shifted by μ₁, where
            // the coordinates near the root are represented exactly (Sterbenz), and keep the
            // better output.
            let shifted = Prob { shift: self.shift + mu, ..*self };
            let (delta, it2, r2, _) = shifted.root_and_write(method, items, bps, out, None);
            iterations += it2;
            if r2.abs() < r.abs() {
                best = (mu, delta, r2);
            } else {
                self.write::<false>(mu, out);
            }
        }
        let (base, delta, r) = best;
        ProjInfo { mu: (base + delta) / self.sc, iterations, residual: r.abs() / self.sc }
    }

    /// A root μ of φ (scaled units, relative to `shift`), with out = clip(z − μy, 0, C) written;
    /// returns (μ, iterations, yᵀλ, Σλ) for the scaled λ. `first`: φ already evaluated at 0.
    fn root_and_write(
        &self,
        method: ExactMethod,
        items: &mut Vec<Item>,
        bps: &mut Vec<f64>,
        out: &mut [f64],
        first: Option<Eval>,
    ) -> (f64, usize, f64, f64) {
        let (mu, iterations) = match method {
            ExactMethod::Newton => self.newton(items, bps, first),
            _ => self.root(method, items, bps),
        };
        let (mu, r, sum) = self.write_polished(mu, out);
        (mu, iterations, r, sum)
    }

    /// Write the output at μ; if its residual |yᵀλ| exceeds 1e-13·(1 + Σλ) (rounding in μ),
    /// try one Newton correction μ + yᵀλ/m on the same piece and keep the better output.
    /// Returns (μ, yᵀλ, Σλ), scaled.
    fn write_polished(&self, mu: f64, out: &mut [f64]) -> (f64, f64, f64) {
        let (r, sum, _) = self.write::<false>(mu, out);
        if r.abs() <= 1e-13 * (self.sc + sum) {
            return (mu, r, sum);
        }
        // Rare: count the free coordinates (the same output is written again).
        let (_, _, free) = self.write::<true>(mu, out);
        if free == 0 {
            return (mu, r, sum);
        }
        let mu2 = mu + r / free as f64;
        let (r2, sum2, _) = self.write::<false>(mu2, out);
        if r2.abs() < r.abs() {
            return (mu2, r2, sum2);
        }
        self.write::<false>(mu, out);
        (mu, r, sum)
    }

    /// A root of φ (scaled units, relative to `shift`) and the iterations spent.
    fn root(&self, method: ExactMethod, items: &mut Vec<Item>, bps: &mut Vec<f64>) -> (f64, usize) {
        let (lo, hi, iterations) = match method {
            ExactMethod::Select | ExactMethod::Newton => {
                self.bracket_select(f64::NEG_INFINITY, f64::INFINITY, items, bps)
            }
            ExactMethod::Sort => self.bracket_sort(bps),
        };
        (self.root_on_bracket(lo, hi), iterations)
    }

    /// One pass at μ: φ(μ) = Σ y_i clip(z_i − μy_i, 0, C_i), the number m of free coordinates
    /// (a_i < μ < b_i), and the nearest breakpoints above and below μ (±∞ if none): φ is linear
    /// with slope −m on [down, up]. Sums run in four independent lanes within blocks of
    /// [`BLOCK`] points (vectorisable, no long dependency chain), and the block sums of φ are
    /// added with compensation.
    fn eval(&self, mu: f64) -> Eval {
        self.eval_impl::<false>(mu).0
    }

    /// [`Prob::eval`], with `CHECK` also max|z_i| and whether some z_i is NaN or infinite.
    fn eval_impl<const CHECK: bool>(&self, mu: f64) -> (Eval, f64, bool) {
        dispatch(EvalOp::<B, CHECK> { p: self, mu }, self.plain())
    }

    /// One point (or four, `L` = [`F4`] or [`W`]) of [`Prob::eval`]: (y·λ, [free just right
    /// of μ], [free just left of μ], nearest breakpoint > μ, nearest breakpoint < μ, |z|,
    /// [z not finite]), branch-free. In the folded form the breakpoints are a = u − c⁺ and
    /// b = u + (c − c⁺) with c⁺ = max(y, 0)·c (exactly c or 0), the term is
    /// y·clip(y(u − μ), 0, c), and a breakpoint on the wrong side of μ is replaced by ±f64::MAX
    /// (read back as ±∞).
    #[inline(always)]
    fn eval_point<L: Arith, const PLAIN: bool>(&self, c: L, zi: L, yi: L, mu: L) -> [L; 7] {
        let (zero, big) = (mu.splat(0.0), mu.splat(f64::MAX));
        let (c, u) = self.fold_point::<L, PLAIN>(c, zi, yi);
        let cp = yi.max(zero) * c;
        let (a, b) = (u - cp, u + (c - cp));
        let (a_le, a_lt) = (a.le_m(mu), a.lt_m(mu));
        let (b_gt, b_ge) = (mu.lt_m(b), mu.le_m(b));
        let za = zi.abs();
        [
            yi * (yi * (u - mu)).max(zero).min(c),
            mu.ind(a_le & b_gt),
            mu.ind(a_lt & b_ge),
            b.sel(b_gt, big).sel(a_le, a),
            a.sel(a_lt, zero - big).sel(b_ge, b),
            za,
            mu.splat(1.0) - za.le(big), // NaN and ±inf
        ]
    }

    /// The loop of [`Prob::eval`] over blocks of [`BLOCK`] points, four lanes per block (`t`:
    /// the lane type, [`F4`] or a vector [`W`]); the block sums of φ are added with
    /// compensation.
    #[inline(always)]
    fn eval_body<Q: Quad, const CHECK: bool, const PLAIN: bool>(&self, t: Q, mu: f64) -> (Eval, f64, bool) {
        const BIG: f64 = f64::MAX;
        let mu4 = t.splat(mu);
        let (mut zmax, mut bad) = (t.splat(0.0), t.splat(0.0));
        let mut phi = KahanSum::default();
        let mut e = Eval { phi: 0.0, m_right: 0, m_left: 0, up: BIG, down: -BIG };
        let (mut zmax_t, mut bad_t) = (0.0_f64, 0.0_f64);
        let n = self.n();
        let mut start = 0;
        while start < n {
            let end = (start + BLOCK).min(n);
            let (mut p, mut mr, mut ml) = (t.splat(0.0), t.splat(0.0), t.splat(0.0));
            let (mut up, mut dn) = (t.splat(BIG), t.splat(-BIG));
            let zb = &self.z[start..end];
            let yb = &self.y[start..end];
            let full = zb.len() / 4 * 4;
            for (q, (zq, yq)) in zb[..full].chunks_exact(4).zip(yb[..full].chunks_exact(4)).enumerate() {
                let c = self.b.at4(t, start + 4 * q);
                let r = self.eval_point::<_, PLAIN>(c, t.load(zq), t.load(yq), mu4);
                p = p + r[0];
                mr = mr + r[1];
                ml = ml + r[2];
                up = up.min(r[3]);
                dn = dn.max(r[4]);
                if CHECK {
                    zmax = zmax.max(r[5]);
                    bad = bad + r[6];
                }
            }
            let (mut p, mut mr, mut ml) = (p.lanes(), mr.lanes(), ml.lanes());
            let (mut up, mut dn) = (up.lanes(), dn.lanes());
            for k in full..zb.len() {
                let r = self.eval_point::<_, PLAIN>(self.b.at(start + k), zb[k], yb[k], mu);
                p[0] += r[0];
                mr[0] += r[1];
                ml[0] += r[2];
                up[0] = fmin(up[0], r[3]);
                dn[0] = fmax(dn[0], r[4]);
                if CHECK {
                    zmax_t = fmax(zmax_t, r[5]);
                    bad_t += r[6];
                }
            }
            phi.add(sum4(p));
            e.m_right += sum4(mr) as usize;
            e.m_left += sum4(ml) as usize;
            e.up = fmin(e.up, min4(up));
            e.down = fmax(e.down, max4(dn));
            start = end;
        }
        e.phi = phi.value();
        if e.up >= BIG / 2.0 {
            e.up = f64::INFINITY;
        }
        if e.down <= -BIG / 2.0 {
            e.down = f64::NEG_INFINITY;
        }
        let bad = bad_t > 0.0 || bad.lanes().iter().any(|&b| b > 0.0);
        (e, fmax(max4(zmax.lanes()), zmax_t), bad)
    }

    /// [`ExactMethod::Newton`]: a root of φ and the evaluations spent.
    ///
    /// From μ = 0: μ ← μ + φ(μ)/m, with m the slope magnitude of φ just beside μ in the
    /// direction of the root (on a flat piece, m = 0, a step to the nearest breakpoint in that
    /// direction). Every evaluated μ tightens the bracket [lo, hi]. When the Newton point lies
    /// between μ and the nearest breakpoint in that direction, φ is linear there and the point
    /// is the exact root (certified without another pass). A step leaving the bracket, or
    /// [`NEWTON_MAX`] evaluations, hands over to selection on the bracket.
    fn newton(&self, items: &mut Vec<Item>, bps: &mut Vec<f64>, first: Option<Eval>) -> (f64, usize) {
        let (mut lo, mut hi) = (f64::NEG_INFINITY, f64::INFINITY);
        let mut mu = 0.0;
        let mut iters = 0;
        let mut first = first;
        while iters < NEWTON_MAX {
            let e = match first.take() {
                Some(e) => e,
                None => self.eval(mu),
            };
            iters += 1;
            if e.phi == 0.0 {
                return (mu, iters);
            }
            if e.phi > 0.0 {
                lo = mu;
            } else {
                hi = mu;
            }
            // Newton on the one-sided linear piece in the direction of the root; on a flat
            // piece, a step to the next breakpoint in that direction.
            let (m, next) = if e.phi > 0.0 { (e.m_right, e.up) } else { (e.m_left, e.down) };
            let cand = if m > 0 { mu + e.phi / m as f64 } else { next };
            if m > 0 && (cand - mu) * (next - cand) >= 0.0 {
                // cand lies between mu and the next breakpoint, where φ is linear with slope −m:
                // it is the exact root.
                return (cand.max(lo).min(hi), iters);
            }
            if cand == mu {
                return (mu, iters); // the step rounds to nothing: mu is a root to rounding
            }
            if !(lo < cand && cand < hi) {
                break;
            }
            mu = cand;
        }
        let (lo, hi, it2) = self.bracket_select(lo, hi, items, bps);
        (self.root_on_bracket(lo, hi), iters + it2)
    }

    /// Shrink a bracket [lo, hi] with φ(lo) ≥ 0 ≥ φ(hi) (±∞ allowed) until no breakpoint lies
    /// strictly inside, by median-of-breakpoints selection. Returns (lo, hi, pivots evaluated).
    ///
    /// Each step takes as pivot the median of the in-bracket breakpoints of a strided sample of
    /// the open items (all of them when few, or when the previous sampled step removed less than
    /// a quarter of the open items, which keeps the total work O(n) in the worst case), evaluates
    /// φ there, halves the bracket, and folds the items whose state is then known into
    /// [`Settled`].
    fn bracket_select(&self, lo: f64, hi: f64, items: &mut Vec<Item>, bps: &mut Vec<f64>) -> (f64, f64, usize) {
        items.clear();
        items.extend((0..self.n()).map(|i| self.item(i)));
        let (mut lo, mut hi) = (lo, hi);
        let mut st = Settled::default();
        fold(items, lo, hi, &mut st);
        let mut iters = 0;
        let mut full = false;
        while !items.is_empty() {
            let Some(pivot) = pivot(items, lo, hi, bps, full) else {
                break; // no breakpoint inside: every item is settled (cannot happen, see `fold`)
            };
            let f = st.k_const + st.s_free - st.m * pivot + items.iter().map(|it| it.term(pivot)).sum::<f64>();
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
    /// coordinates if `COUNT`, else 0) for the scaled λ = out·sc (so that huge outputs cannot
    /// overflow the sums). Blocked four-lane sums as in [`Prob::eval`], the block sums of yᵀλ
    /// compensated.
    fn write<const COUNT: bool>(&self, mu: f64, out: &mut [f64]) -> (f64, f64, usize) {
        dispatch(WriteOp::<B, COUNT> { p: self, mu, out }, self.plain())
    }

    /// One point (or four) of [`Prob::write`]: (λ in original units, y·λ, λ, [λ free]).
    #[inline(always)]
    fn write_point<L: Arith, const PLAIN: bool, const COUNT: bool>(&self, c: L, zi: L, yi: L, mu: L) -> [L; 4] {
        let zero = mu.splat(0.0);
        let (c, u) = self.fold_point::<L, PLAIN>(c, zi, yi);
        let l = (yi * (u - mu)).max(zero).min(c);
        let out = if PLAIN { l } else { l * mu.splat(1.0 / self.sc) };
        let free = if COUNT { mu.ind(zero.lt_m(l) & l.lt_m(c)) } else { zero };
        [out, yi * l, l, free]
    }

    /// The folded, capped, scaled bound and coordinate of a point: c = min(C_i, cap)·sc and
    /// u = y·z·sc − shift. `PLAIN` (sc = 1, shift = 0) skips the multiplication by 1 and the
    /// subtraction of 0, which give the same bits.
    #[inline(always)]
    fn fold_point<L: Arith, const PLAIN: bool>(&self, c: L, zi: L, yi: L) -> (L, L) {
        let c = c.min(c.splat(self.cap));
        if PLAIN {
            (c, yi * zi)
        } else {
            let sc = c.splat(self.sc);
            (c * sc, yi * zi * sc - c.splat(self.shift))
        }
    }

    /// Whether [`Prob::fold_point`] may take its `PLAIN` form.
    fn plain(&self) -> bool {
        self.sc == 1.0 && self.shift == 0.0
    }

    /// The loop of [`Prob::write`], four lanes per block as in [`Prob::eval_body`].
    #[inline(always)]
    fn write_body<Q: Quad, const PLAIN: bool, const COUNT: bool>(
        &self,
        t: Q,
        mu: f64,
        out: &mut [f64],
    ) -> (f64, f64, usize) {
        let mu4 = t.splat(mu);
        let mut r = KahanSum::default();
        let mut sum = 0.0;
        let mut free = 0usize;
        let n = self.n();
        let mut start = 0;
        while start < n {
            let end = (start + BLOCK).min(n);
            let (mut p, mut sm, mut ff) = (t.splat(0.0), t.splat(0.0), t.splat(0.0));
            let zb = &self.z[start..end];
            let yb = &self.y[start..end];
            let ob = &mut out[start..end];
            let full = zb.len() / 4 * 4;
            for (q, ((zq, yq), oq)) in zb[..full]
                .chunks_exact(4)
                .zip(yb[..full].chunks_exact(4))
                .zip(ob[..full].chunks_exact_mut(4))
                .enumerate()
            {
                let v = self.write_point::<_, PLAIN, COUNT>(self.b.at4(t, start + 4 * q), t.load(zq), t.load(yq), mu4);
                v[0].store(oq);
                p = p + v[1];
                sm = sm + v[2];
                if COUNT {
                    ff = ff + v[3];
                }
            }
            let (mut p, mut sm, mut ff) = (p.lanes(), sm.lanes(), ff.lanes());
            for k in full..zb.len() {
                let v = self.write_point::<_, PLAIN, COUNT>(self.b.at(start + k), zb[k], yb[k], mu);
                ob[k] = v[0];
                p[0] += v[1];
                sm[0] += v[2];
                if COUNT {
                    ff[0] += v[3];
                }
            }
            r.add(sum4(p));
            sum += sum4(sm);
            free += sum4(ff) as usize;
            start = end;
        }
        (r.value(), sum, free)
    }
}

/// A loop over the points that runs on four lanes of any kind ([`Quad`]) and in a `PLAIN` or
/// a scaled form ([`Prob::fold_point`]).
trait Kernel {
    type Output;
    /// The loop, on lanes of the kind of `t`.
    fn run<Q: Quad, const PLAIN: bool>(self, t: Q) -> Self::Output;
}

/// Run `k` through pulp's runtime dispatch: its `with_simd` is `inline(always)`, so the loop is
/// compiled inside pulp's `target_feature` function for the best instruction set of the
/// machine. Where that back end has four f64 lanes (AVX2 on x86-64 v3) the lanes are its
/// vectors ([`W`]), elsewhere the portable [`F4`]; both give the same bits
/// (`tests::vector_and_portable_kernels_agree_bitwise`), so results do not depend on the
/// machine.
#[inline(always)]
fn dispatch<K: Kernel>(k: K, plain: bool) -> K::Output {
    struct Op<K>(K, bool);
    impl<K: Kernel> pulp::WithSimd for Op<K> {
        type Output = K::Output;
        #[inline(always)]
        fn with_simd<S: pulp::Simd>(self, s: S) -> K::Output {
            let Op(k, plain) = self;
            match (has_four_lanes::<S>(), plain) {
                (true, true) => k.run::<_, true>(W(s, s.splat_f64s(0.0))),
                (true, false) => k.run::<_, false>(W(s, s.splat_f64s(0.0))),
                (false, true) => k.run::<_, true>(F4([0.0; 4])),
                (false, false) => k.run::<_, false>(F4([0.0; 4])),
            }
        }
    }
    pulp::Arch::new().dispatch(Op(k, plain))
}

/// [`Prob::eval_body`] as a [`Kernel`].
struct EvalOp<'p, 'a, B: Upper, const CHECK: bool> {
    p: &'p Prob<'a, B>,
    mu: f64,
}

impl<B: Upper, const CHECK: bool> Kernel for EvalOp<'_, '_, B, CHECK> {
    type Output = (Eval, f64, bool);

    #[inline(always)]
    fn run<Q: Quad, const PLAIN: bool>(self, t: Q) -> Self::Output {
        self.p.eval_body::<Q, CHECK, PLAIN>(t, self.mu)
    }
}

/// [`Prob::write_body`] as a [`Kernel`].
struct WriteOp<'p, 'a, 'o, B: Upper, const COUNT: bool> {
    p: &'p Prob<'a, B>,
    mu: f64,
    out: &'o mut [f64],
}

impl<B: Upper, const COUNT: bool> Kernel for WriteOp<'_, '_, '_, B, COUNT> {
    type Output = (f64, f64, usize);

    #[inline(always)]
    fn run<Q: Quad, const PLAIN: bool>(self, t: Q) -> Self::Output {
        self.p.write_body::<Q, PLAIN, COUNT>(t, self.mu, self.out)
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
        let inf = f64::INFINITY;
        for (lo, hi, _) in [p.bracket_select(-inf, inf, &mut items, &mut bps), p.bracket_sort(&mut bps)] {
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
        let (lo, hi, _) = p.bracket_select(f64::NEG_INFINITY, f64::INFINITY, &mut items, &mut bps);
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
        for method in [ExactMethod::Newton, ExactMethod::Select, ExactMethod::Sort] {
            let mut out = faer::Col::<f64>::zeros(5);
            let p = ExactProjector::new(ExactParams { method }).unwrap();
            let info = p.project_into(zc.as_ref(), &y, Bounds::Uniform(1.0), out.as_mut()).unwrap();
            let got: Vec<f64> = (0..5).map(|i| out[i]).collect();
            assert_eq!(got, vec![0.5, 0.0, 0.0, 1.0, 0.5]);
            assert_eq!(info.residual, 0.0);
        }
    }

    fn exact_of(z: &[f64], y: &[f64], c: f64, method: ExactMethod) -> (Vec<f64>, ProjInfo) {
        let n = z.len();
        let zc = faer::Col::from_fn(n, |i| z[i]);
        let yl = Labels::new(y.to_vec()).unwrap();
        let mut out = faer::Col::<f64>::zeros(n);
        let p = ExactProjector::new(ExactParams { method }).unwrap();
        let info = p.project_into(zc.as_ref(), &yl, Bounds::Uniform(c), out.as_mut()).unwrap();
        ((0..n).map(|i| out[i]).collect(), info)
    }

    #[test]
    fn newton_from_a_breakpoint_uses_the_one_sided_slope() {
        // The second Newton iterate lands exactly on a breakpoint (μ = z_2 = 2.1098), where the
        // slope of φ is −2 on the left and −1 on the right; the root is μ = 1.3049. (Found by
        // the Clarabel oracle: using the two-sided count there certified a wrong root.)
        let z = [-0.5, 2.1097994143958423];
        let (l, info) = exact_of(&z, &[-1.0, 1.0], 6.0398065663889255, ExactMethod::Newton);
        // λ_1 = μ + z_1 = λ_2 = z_2 − μ  ⇒  μ = (z_2 − z_1)/2, λ = (z_1 + z_2)/2.
        let want = (z[1] + z[0]) / 2.0;
        assert!((l[0] - want).abs() < 1e-15 && (l[1] - want).abs() < 1e-15, "{l:?}");
        assert!((info.mu - (z[1] - z[0]) / 2.0).abs() < 1e-15);
    }

    #[test]
    fn newton_walks_flat_pieces_and_falls_back_to_selection() {
        // Narrow boxes (C = 1e-3) on widely spread z: φ is flat between most breakpoints, so
        // Newton walks breakpoint by breakpoint, overshoots, and hands over to selection.
        let n = 400;
        let z: Vec<f64> = (0..n).map(|i| ((i * 7919) % n) as f64 / 20.0 - 10.0).collect();
        let y: Vec<f64> = (0..n).map(|i| if (i * 31) % 3 == 0 { 1.0 } else { -1.0 }).collect();
        let p = Prob { z: &z, y: &y, b: Uni(1e-3), sc: 1.0, cap: f64::INFINITY, shift: 0.0 };
        let (mut items, mut bps) = (Vec::new(), Vec::new());
        let (mu, iters) = p.newton(&mut items, &mut bps, None);
        assert!(iters > NEWTON_MAX, "the fallback was not exercised ({iters} evaluations)");
        assert!(p.phi(mu).abs() < 1e-15);
        let (a, _) = exact_of(&z, &y, 1e-3, ExactMethod::Newton);
        let (b, _) = exact_of(&z, &y, 1e-3, ExactMethod::Sort);
        assert!(a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-15));
    }

    /// The vector kernels (the [`W`] lanes pulp selects on this machine) and the portable
    /// [`F4`] ones give bitwise the same evaluation and output, in both the plain and the
    /// scaled-and-shifted form, with block tails (n mod 4 ≠ 0, n > BLOCK) and per-point bounds.
    #[test]
    fn vector_and_portable_kernels_agree_bitwise() {
        use rand::{Rng, SeedableRng};
        /// Evaluation and output at μ on the lanes `vector` asks for (`None`: this machine
        /// has no four-lane vector back end).
        struct Both<'p, 'a, B: Upper> {
            p: &'p Prob<'a, B>,
            mu: f64,
            vector: bool,
        }
        type Out = Option<((Eval, f64, bool), (f64, f64, usize), Vec<f64>)>;
        impl<B: Upper> Kernel for Both<'_, '_, B> {
            type Output = Out;
            #[inline(always)]
            fn run<Q: Quad, const PLAIN: bool>(self, t: Q) -> Out {
                let (p, mu) = (self.p, self.mu);
                if self.vector && !Q::VECTOR {
                    return None;
                }
                let mut out = vec![0.0; p.n()];
                Some(if self.vector {
                    (p.eval_body::<Q, true, PLAIN>(t, mu), p.write_body::<Q, PLAIN, true>(t, mu, &mut out), out)
                } else {
                    let f = F4([0.0; 4]);
                    (p.eval_body::<F4, true, PLAIN>(f, mu), p.write_body::<F4, PLAIN, true>(f, mu, &mut out), out)
                })
            }
        }
        let bits = |o: &Out| {
            o.as_ref().map(|((e, zm, bad), (r, sm, fr), out)| {
                let mut v = vec![e.phi, e.up, e.down, *zm, *r, *sm];
                v.extend(out);
                (v.iter().map(|x| x.to_bits()).collect::<Vec<_>>(), e.m_left, e.m_right, *bad, *fr)
            })
        };
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let mut compared = 0;
        for n in [1usize, 3, 4, 7, 255, 256, 257, 1029] {
            let z: Vec<f64> = (0..n).map(|_| rng.random_range(-2.0..2.0)).collect();
            let y: Vec<f64> = (0..n).map(|_| if rng.random::<bool>() { 1.0 } else { -1.0 }).collect();
            let cs: Vec<f64> = (0..n).map(|_| rng.random_range(0.1..1.5)).collect();
            for mu in [0.0, 0.3, -0.7, z[0]] {
                for (sc, shift) in [(1.0, 0.0), (0.5, 0.25)] {
                    let uni = Prob { z: &z, y: &y, b: Uni(1.0), sc, cap: 3.0, shift };
                    let per = Prob { z: &z, y: &y, b: Per(&cs), sc, cap: 3.0, shift };
                    let run_uni = |v: bool| dispatch(Both { p: &uni, mu, vector: v }, uni.plain());
                    let run_per = |v: bool| dispatch(Both { p: &per, mu, vector: v }, per.plain());
                    for (name, vec, port) in
                        [("uniform", run_uni(true), run_uni(false)), ("per-point", run_per(true), run_per(false))]
                    {
                        assert!(port.is_some());
                        if vec.is_some() {
                            assert_eq!(bits(&vec), bits(&port), "{name} n={n} mu={mu} sc={sc}");
                            compared += 1;
                        }
                    }
                }
            }
        }
        #[cfg(target_arch = "x86_64")]
        assert_eq!(compared > 0, pulp::x86::V3::try_new().is_some());
        let _ = compared;
    }
}
