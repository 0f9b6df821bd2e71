//! Shared helpers of the projection test binaries: random instances, independent checks.
#![allow(dead_code)]

use faer::Col;
use floral_data::Labels;
use floral_projection::{Bounds, ExactProjector, ProjInfo, Projector};
use proptest::prelude::*;

/// Proptest configuration: `cases` cases (or `PROPTEST_CASES` for a stress run), failures persisted to `file` (relative to the crate root,
/// where cargo runs the tests) so that regressions are committed and replayed.
pub fn config(file: &'static str, cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(cases),
        failure_persistence: Some(Box::new(proptest::test_runner::FileFailurePersistence::Direct(file))),
        ..ProptestConfig::default()
    }
}

/// A projection problem: z, labels (true = +1), and a uniform C or per-point C_i.
#[derive(Debug, Clone)]
pub struct Instance {
    pub z: Vec<f64>,
    pub pos: Vec<bool>,
    pub c: f64,
    pub per: Option<Vec<f64>>,
}

impl Instance {
    pub fn n(&self) -> usize {
        self.z.len()
    }
    pub fn labels(&self) -> Labels {
        Labels::from_signs(self.pos.iter().copied())
    }
    pub fn y(&self, i: usize) -> f64 {
        if self.pos[i] { 1.0 } else { -1.0 }
    }
    pub fn bounds(&self) -> Bounds<'_> {
        match &self.per {
            Some(v) => Bounds::PerPoint(v),
            None => Bounds::Uniform(self.c),
        }
    }
    pub fn upper(&self, i: usize) -> f64 {
        self.bounds().upper(i)
    }
    /// max(1, max|z|, max C): the scale of the problem for absolute tolerances.
    pub fn scale(&self) -> f64 {
        let zm = self.z.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
        1.0_f64.max(zm).max(self.bounds().max())
    }
    /// The same problem with z replaced.
    pub fn with_z(&self, z: Vec<f64>) -> Instance {
        Instance { z, ..self.clone() }
    }
}

/// One entry of z: mostly continuous, sometimes on a half-integer grid (ties, breakpoints that
/// coincide, exact-zero φ at a pivot).
fn entry() -> impl Strategy<Value = f64> {
    prop_oneof![4 => -3.0..3.0_f64, 1 => (-6i32..=6).prop_map(|k| f64::from(k) * 0.5)]
}

/// Random instances of exactly n points (see [`instance`]).
pub fn instance_of_size(n: usize) -> impl Strategy<Value = Instance> {
    (
        proptest::collection::vec(entry(), n),
        proptest::collection::vec(any::<bool>(), n),
        prop_oneof![0.01..10.0_f64, Just(1.0)],
        proptest::option::weighted(0.3, proptest::collection::vec(prop_oneof![0.0..5.0_f64, Just(0.0), Just(1.0)], n)),
    )
        .prop_map(|(z, pos, c, per)| Instance { z, pos, c, per })
}

/// Random instances with 0 ≤ n ≤ max_n, uniform C in [0.01, 10] (or exactly 1), and per-point
/// bounds (some of them 0) in about a third of the cases.
pub fn instance(max_n: usize) -> impl Strategy<Value = Instance> {
    (0..=max_n).prop_flat_map(instance_of_size)
}

/// Project `z` of `inst` with `p`, returning (λ, info).
pub fn project(p: &dyn Projector, inst: &Instance) -> (Vec<f64>, ProjInfo) {
    let z = Col::from_fn(inst.n(), |i| inst.z[i]);
    let mut out = Col::<f64>::zeros(inst.n());
    let info = p.project_into(z.as_ref(), &inst.labels(), inst.bounds(), out.as_mut()).unwrap();
    ((0..inst.n()).map(|i| out[i]).collect(), info)
}

/// The reference exact projection.
pub fn exact(inst: &Instance) -> (Vec<f64>, ProjInfo) {
    project(&ExactProjector::default(), inst)
}

/// yᵀλ, summed naively (an independent recomputation of the residual).
pub fn y_dot(inst: &Instance, l: &[f64]) -> f64 {
    l.iter().enumerate().map(|(i, v)| inst.y(i) * v).sum()
}

pub fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

pub fn l1_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum()
}

pub fn norm2_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>().sqrt()
}

/// An exactly feasible point of S(y) built without any projector: a random point of the box,
/// then the heavier label side scaled down so that both sides carry the same mass.
pub fn feasible_point(inst: &Instance, unit: &[f64]) -> Vec<f64> {
    let mut v: Vec<f64> = (0..inst.n()).map(|i| unit[i] * inst.upper(i)).collect();
    let p: f64 = (0..inst.n()).filter(|&i| inst.pos[i]).map(|i| v[i]).sum();
    let q: f64 = (0..inst.n()).filter(|&i| !inst.pos[i]).map(|i| v[i]).sum();
    let (shrink_pos, f) = if p > q { (true, q / p) } else { (false, if q > 0.0 { p / q } else { 1.0 }) };
    for (i, vi) in v.iter_mut().enumerate() {
        if inst.pos[i] == shrink_pos {
            *vi *= f;
        }
    }
    v
}

/// True when an output is feasible to rounding: |yᵀλ| ≤ 1e-12·(1 + Σλ).
pub fn converged(info: &ProjInfo, l: &[f64]) -> bool {
    info.residual <= 1e-12 * (1.0 + l.iter().sum::<f64>())
}
