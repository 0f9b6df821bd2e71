//! Four-lane f64 arithmetic for the hot loops of [`crate::ExactProjector`].
//!
//! The loops keep four independent running sums (lane k takes the points 4q + k, a block's
//! tail goes to lane 0) so that the summation order, and therefore every result bit, is fixed
//! by the code and not by the machine. A group of four points is either an [`F4`] (portable,
//! four scalar operations per step) or a [`W`] (one 256-bit vector of a [`pulp::Simd`] back end
//! with four f64 lanes, e.g. AVX2 on x86-64). Both apply the same IEEE operation to each lane
//! (compare-select min/max, ordered comparisons, no fused multiply-add: Rust never contracts
//! `a * b + c`), so the two give bitwise the same results; `tests::vector_lanes_match_f4`
//! checks this on the machine that runs the tests.

use std::ops::{Add, BitAnd, Mul, Sub};

use pulp::Simd;

use crate::common::{fmax, fmin, ind};

/// The operations of the per-point formulas, on one value ([`f64`], for a block's tail) or on
/// four ([`F4`], [`W`]). `self` doubles as the instruction-set token for [`Arith::splat`].
pub(crate) trait Arith: Copy + Add<Output = Self> + Sub<Output = Self> + Mul<Output = Self> {
    /// A lane-wise truth value.
    type M: Copy + BitAnd<Output = Self::M>;
    /// Every lane equal to `v`.
    fn splat(self, v: f64) -> Self;
    /// Lane-wise a < b (false when either is NaN).
    fn lt_m(self, o: Self) -> Self::M;
    /// Lane-wise a ≤ b (false when either is NaN).
    fn le_m(self, o: Self) -> Self::M;
    /// Lane-wise `if m { self } else { other }`.
    fn sel(self, m: Self::M, other: Self) -> Self;
    /// Lane-wise 1.0 where `m`, else 0.0 (`self` is only the token).
    fn ind(self, m: Self::M) -> Self;
    /// Lane-wise `if a < b { a } else { b }` (one compare-select).
    fn min(self, o: Self) -> Self;
    /// Lane-wise `if a > b { a } else { b }`.
    fn max(self, o: Self) -> Self;
    /// Lane-wise |a| (sign bit cleared).
    fn abs(self) -> Self;
    /// Lane-wise 1.0 where a ≤ b, else 0.0 (0.0 when either is NaN).
    #[inline(always)]
    fn le(self, o: Self) -> Self {
        self.ind(self.le_m(o))
    }
}

/// Four lanes that load from and store to memory.
pub(crate) trait Quad: Arith {
    /// Whether the lanes are one machine vector ([`W`]) rather than portable code ([`F4`])
    /// (read by the tests that compare the two).
    #[cfg_attr(not(test), allow(dead_code))]
    const VECTOR: bool;
    /// `s[0..4]` (`s` holds at least four values).
    fn load(self, s: &[f64]) -> Self;
    /// Store the lanes into `s[0..4]`.
    fn store(self, s: &mut [f64]);
    /// The four lanes.
    fn lanes(self) -> [f64; 4];
}

impl Arith for f64 {
    type M = bool;
    #[inline(always)]
    fn splat(self, v: f64) -> Self {
        v
    }
    #[inline(always)]
    fn lt_m(self, o: Self) -> bool {
        self < o
    }
    #[inline(always)]
    fn le_m(self, o: Self) -> bool {
        self <= o
    }
    #[inline(always)]
    fn sel(self, m: bool, other: Self) -> Self {
        if m { self } else { other }
    }
    #[inline(always)]
    fn ind(self, m: bool) -> Self {
        ind(m)
    }
    #[inline(always)]
    fn min(self, o: Self) -> Self {
        fmin(self, o)
    }
    #[inline(always)]
    fn max(self, o: Self) -> Self {
        fmax(self, o)
    }
    #[inline(always)]
    fn abs(self) -> Self {
        f64::abs(self)
    }
}

/// Four f64 lanes in portable code.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct F4(pub(crate) [f64; 4]);

impl F4 {
    #[inline(always)]
    fn map2(self, o: Self, f: impl Fn(f64, f64) -> f64) -> Self {
        let (a, b) = (self.0, o.0);
        F4([f(a[0], b[0]), f(a[1], b[1]), f(a[2], b[2]), f(a[3], b[3])])
    }
}

impl Add for F4 {
    type Output = F4;
    #[inline(always)]
    fn add(self, o: F4) -> F4 {
        self.map2(o, |a, b| a + b)
    }
}

impl Sub for F4 {
    type Output = F4;
    #[inline(always)]
    fn sub(self, o: F4) -> F4 {
        self.map2(o, |a, b| a - b)
    }
}

impl Mul for F4 {
    type Output = F4;
    #[inline(always)]
    fn mul(self, o: F4) -> F4 {
        self.map2(o, |a, b| a * b)
    }
}

/// Four lane-wise truth values of [`F4`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct B4(pub(crate) [bool; 4]);

impl BitAnd for B4 {
    type Output = B4;
    #[inline(always)]
    fn bitand(self, o: B4) -> B4 {
        let (a, b) = (self.0, o.0);
        B4([a[0] & b[0], a[1] & b[1], a[2] & b[2], a[3] & b[3]])
    }
}

impl Arith for F4 {
    type M = B4;
    #[inline(always)]
    fn splat(self, v: f64) -> Self {
        F4([v; 4])
    }
    #[inline(always)]
    fn lt_m(self, o: Self) -> B4 {
        let (a, b) = (self.0, o.0);
        B4([a[0] < b[0], a[1] < b[1], a[2] < b[2], a[3] < b[3]])
    }
    #[inline(always)]
    fn le_m(self, o: Self) -> B4 {
        let (a, b) = (self.0, o.0);
        B4([a[0] <= b[0], a[1] <= b[1], a[2] <= b[2], a[3] <= b[3]])
    }
    #[inline(always)]
    fn sel(self, m: B4, other: Self) -> Self {
        let (a, b, m) = (self.0, other.0, m.0);
        F4([a[0].sel(m[0], b[0]), a[1].sel(m[1], b[1]), a[2].sel(m[2], b[2]), a[3].sel(m[3], b[3])])
    }
    #[inline(always)]
    fn ind(self, m: B4) -> Self {
        F4(m.0.map(ind))
    }
    #[inline(always)]
    fn min(self, o: Self) -> Self {
        self.map2(o, fmin)
    }
    #[inline(always)]
    fn max(self, o: Self) -> Self {
        self.map2(o, fmax)
    }
    #[inline(always)]
    fn abs(self) -> Self {
        F4(self.0.map(f64::abs))
    }
}

impl Quad for F4 {
    const VECTOR: bool = false;
    #[inline(always)]
    fn load(self, s: &[f64]) -> Self {
        F4([s[0], s[1], s[2], s[3]])
    }
    #[inline(always)]
    fn store(self, s: &mut [f64]) {
        s[..4].copy_from_slice(&self.0);
    }
    #[inline(always)]
    fn lanes(self) -> [f64; 4] {
        self.0
    }
}

/// One vector of a [`pulp::Simd`] back end, with its token. Use only when
/// `S::F64_LANES == 4` ([`has_four_lanes`]); [`Quad::load`] and [`Quad::lanes`] assume it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct W<S: Simd>(pub(crate) S, pub(crate) S::f64s);

/// Whether [`W<S>`] holds exactly four f64 lanes (so that it sums in the order of [`F4`]).
#[inline(always)]
pub(crate) fn has_four_lanes<S: Simd>() -> bool {
    S::F64_LANES == 4
}

impl<S: Simd> Add for W<S> {
    type Output = Self;
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        W(self.0, self.0.add_f64s(self.1, o.1))
    }
}

impl<S: Simd> Sub for W<S> {
    type Output = Self;
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        W(self.0, self.0.sub_f64s(self.1, o.1))
    }
}

impl<S: Simd> Mul for W<S> {
    type Output = Self;
    #[inline(always)]
    fn mul(self, o: Self) -> Self {
        W(self.0, self.0.mul_f64s(self.1, o.1))
    }
}

/// Lane-wise truth values of [`W`], with the token.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WM<S: Simd>(S, S::m64s);

impl<S: Simd> BitAnd for WM<S> {
    type Output = Self;
    #[inline(always)]
    fn bitand(self, o: Self) -> Self {
        WM(self.0, self.0.and_m64s(self.1, o.1))
    }
}

impl<S: Simd> Arith for W<S> {
    type M = WM<S>;
    #[inline(always)]
    fn splat(self, v: f64) -> Self {
        W(self.0, self.0.splat_f64s(v))
    }
    #[inline(always)]
    fn lt_m(self, o: Self) -> WM<S> {
        WM(self.0, self.0.less_than_f64s(self.1, o.1))
    }
    #[inline(always)]
    fn le_m(self, o: Self) -> WM<S> {
        WM(self.0, self.0.less_than_or_equal_f64s(self.1, o.1))
    }
    #[inline(always)]
    fn sel(self, m: WM<S>, other: Self) -> Self {
        W(self.0, self.0.select_f64s(m.1, self.1, other.1))
    }
    /// The mask's bits (all ones or all zeros per lane) and those of 1.0.
    #[inline(always)]
    fn ind(self, m: WM<S>) -> Self {
        let s = self.0;
        let bits: S::f64s = pulp::bytemuck::cast(m.1);
        W(s, s.and_f64s(bits, s.splat_f64s(1.0)))
    }
    #[inline(always)]
    fn min(self, o: Self) -> Self {
        W(self.0, self.0.min_f64s(self.1, o.1))
    }
    #[inline(always)]
    fn max(self, o: Self) -> Self {
        W(self.0, self.0.max_f64s(self.1, o.1))
    }
    #[inline(always)]
    fn abs(self) -> Self {
        W(self.0, self.0.abs_f64s(self.1))
    }
}

impl<S: Simd> Quad for W<S> {
    const VECTOR: bool = true;
    #[inline(always)]
    fn load(self, s: &[f64]) -> Self {
        let (head, _) = S::as_simd_f64s(&s[..4]);
        match head.first() {
            Some(&v) => W(self.0, v),
            None => self.splat(f64::NAN), // fewer than four lanes: not used (see `W`)
        }
    }
    #[inline(always)]
    fn store(self, s: &mut [f64]) {
        let (head, _) = S::as_mut_simd_f64s(&mut s[..4]);
        if let Some(v) = head.first_mut() {
            *v = self.1;
        }
    }
    #[inline(always)]
    fn lanes(self) -> [f64; 4] {
        let mut a = [f64::NAN; 4];
        self.store(&mut a);
        a
    }
}

/// (l0 + l1) + (l2 + l3): the fixed reduction order of a four-lane sum.
#[inline(always)]
pub(crate) fn sum4(l: [f64; 4]) -> f64 {
    (l[0] + l[1]) + (l[2] + l[3])
}

/// min(min(l0, l1), min(l2, l3)).
#[inline(always)]
pub(crate) fn min4(l: [f64; 4]) -> f64 {
    fmin(fmin(l[0], l[1]), fmin(l[2], l[3]))
}

/// max(max(l0, l1), max(l2, l3)).
#[inline(always)]
pub(crate) fn max4(l: [f64; 4]) -> f64 {
    fmax(fmax(l[0], l[1]), fmax(l[2], l[3]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every binary operation on every pair from a list of awkward values (signed zeros,
    /// NaN, infinities, subnormals, f64::MAX), as a lane-by-lane comparison of bits.
    fn check_against_scalar<Q: Quad>(t: Q) {
        let vals = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.5,
            3.25,
            -7.5,
            1e-310,
            -1e-310,
            f64::MAX,
            -f64::MAX,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            1e300,
            2.0f64.powi(-1074),
        ];
        let b0 = |i: usize| [vals[(i + 2) % 16], vals[(i + 9) % 16], vals[i], vals[(i + 14) % 16]];
        type Op<T> = fn(T, T) -> T;
        let ops: [(&str, Op<Q>, Op<f64>); 7] = [
            ("add", |a, b| a + b, |a, b| a + b),
            ("sub", |a, b| a - b, |a, b| a - b),
            ("mul", |a, b| a * b, |a, b| a * b),
            ("min", Arith::min, Arith::min),
            ("max", Arith::max, Arith::max),
            ("lt", |a, b| a.ind(a.lt_m(b)), |a, b| a.ind(a.lt_m(b))),
            ("le", Arith::le, Arith::le),
        ];
        for (i, &x) in vals.iter().enumerate() {
            // Four different left operands per vector, against four rotations of the list.
            let a = [x, vals[(i + 1) % 16], vals[(i + 5) % 16], vals[(i + 11) % 16]];
            for j in 0..vals.len() {
                let b = [vals[j], vals[(j + 3) % 16], vals[(j + 7) % 16], vals[(j + 13) % 16]];
                for (name, fq, f1) in ops {
                    let got = fq(t.load(&a), t.load(&b)).lanes();
                    for k in 0..4 {
                        let want = f1(a[k], b[k]);
                        assert!(
                            got[k].to_bits() == want.to_bits(),
                            "{name}({}, {}) lane {k}: {} vs {want}",
                            a[k],
                            b[k],
                            got[k]
                        );
                    }
                }
            }
            let (qa, qb) = (t.load(&a), t.load(&b0(i)));
            for (name, got, want) in [
                (
                    "sel lt",
                    qa.sel(qa.lt_m(qb), qb).lanes(),
                    (|x: f64, y: f64| if x < y { x } else { y }) as fn(f64, f64) -> f64,
                ),
                (
                    "sel le",
                    qb.sel(qa.le_m(qb) & qb.le_m(qa), qa).lanes(),
                    |x: f64, y: f64| if x <= y && y <= x { y } else { x },
                ),
            ] {
                for k in 0..4 {
                    assert_eq!(got[k].to_bits(), want(a[k], b0(i)[k]).to_bits(), "{name} lane {k}");
                }
            }
            let abs = t.load(&a).abs().lanes();
            for k in 0..4 {
                assert_eq!(abs[k].to_bits(), a[k].abs().to_bits());
            }
            assert_eq!(t.splat(x).lanes().map(f64::to_bits), [x.to_bits(); 4]);
        }
        let mut s = [0.0; 5];
        t.load(&[1.0, 2.0, 3.0, 4.0]).store(&mut s);
        assert_eq!(s, [1.0, 2.0, 3.0, 4.0, 0.0]);
    }

    #[test]
    fn f4_matches_scalar_lane_by_lane() {
        check_against_scalar(F4([0.0; 4]));
        assert_eq!(sum4([1.0, -2.0, 0.0, 3.5]), (1.0 + -2.0) + (0.0 + 3.5));
        assert_eq!((min4([1.0, -2.0, 0.0, 3.5]), max4([1.0, -2.0, 0.0, 3.5])), (-2.0, 3.5));
    }

    /// The vector back end chosen at run time on this machine (AVX2 on x86-64 v3) gives the
    /// bits of the scalar operations, lane by lane. Where the machine has no four-lane back end
    /// the projector uses [`F4`], and this test checks that selection instead.
    #[test]
    fn vector_lanes_match_f4() {
        struct Check;
        impl pulp::WithSimd for Check {
            type Output = bool;
            #[inline(always)]
            fn with_simd<S: Simd>(self, s: S) -> bool {
                if has_four_lanes::<S>() {
                    check_against_scalar(W(s, s.splat_f64s(0.0)));
                    true
                } else {
                    false
                }
            }
        }
        let vector = pulp::Arch::new().dispatch(Check);
        #[cfg(target_arch = "x86_64")]
        assert_eq!(vector, pulp::x86::V3::try_new().is_some(), "AVX2 machines take the vector path");
        let _ = vector;
    }
}

/// Access to the upper bounds, monomorphised so the hot loops do not branch on the variant.
pub(crate) trait Upper: Copy {
    /// C_i.
    fn at(self, i: usize) -> f64;
    /// (C_i, …, C_{i+3}) as lanes of the kind of `t`.
    fn at4<Q: Quad>(self, t: Q, i: usize) -> Q;
}

/// One bound for all points.
#[derive(Clone, Copy)]
pub(crate) struct Uni(pub(crate) f64);

impl Upper for Uni {
    #[inline(always)]
    fn at(self, _i: usize) -> f64 {
        self.0
    }
    #[inline(always)]
    fn at4<Q: Quad>(self, t: Q, _i: usize) -> Q {
        t.splat(self.0)
    }
}

/// One bound per point.
#[derive(Clone, Copy)]
pub(crate) struct Per<'a>(pub(crate) &'a [f64]);

impl Upper for Per<'_> {
    #[inline(always)]
    fn at(self, i: usize) -> f64 {
        self.0[i]
    }
    #[inline(always)]
    fn at4<Q: Quad>(self, t: Q, i: usize) -> Q {
        t.load(&self.0[i..i + 4])
    }
}
