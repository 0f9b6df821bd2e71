//! An independent oracle: the projection solved as a general QP by Clarabel (interior point),
//! min ½‖λ‖² − zᵀλ s.t. yᵀλ = 0, −λ ≤ 0, λ ≤ C, on random instances up to n = 200.
//! Every exact projector must agree with it to 1e-7 (proofs/projection.md, claim (a)).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use super::common;

use clarabel::algebra::CscMatrix;
use clarabel::solver::{DefaultSettings, DefaultSolver, IPSolver, NonnegativeConeT, SolverStatus, ZeroConeT};
use common::*;
use floral_projection::{ExactMethod, ExactParams, ExactProjector, FixedPointProjector};
use proptest::prelude::*;

/// Π(z) by Clarabel with tight tolerances. The defaults (1e-8) are not enough: on degenerate
/// instances (z_i exactly at a bound with a zero multiplier, which the half-integer grid of the
/// instance strategy produces on purpose) an interior-point iterate's distance to the optimum
/// behaves like the square root of the duality gap, and gaps of 1e-12 left errors up to 3.5e-7.
/// With 1e-15 the worst of 1000 random instances was 5e-8, every one with an objective no lower
/// than ours.
fn clarabel_projection(inst: &Instance) -> Vec<f64> {
    let n = inst.n();
    let p = CscMatrix::identity(n);
    let q: Vec<f64> = inst.z.iter().map(|v| -v).collect();
    // Rows: 0: yᵀλ (+ s = 0, zero cone); 1..=n: −λ_i (+ s = 0 → s = λ ≥ 0); n+1..=2n: λ_i (+ s = C_i).
    let (mut rows, mut cols, mut vals) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..n {
        rows.extend([0, 1 + i, 1 + n + i]);
        cols.extend([i, i, i]);
        vals.extend([inst.y(i), -1.0, 1.0]);
    }
    let a = CscMatrix::new_from_triplets(1 + 2 * n, n, rows, cols, vals);
    let mut b = vec![0.0; 1 + 2 * n];
    for i in 0..n {
        b[1 + n + i] = inst.upper(i);
    }
    let cones = [ZeroConeT(1), NonnegativeConeT(2 * n)];
    let settings = DefaultSettings {
        verbose: false,
        tol_gap_abs: 1e-15,
        tol_gap_rel: 1e-15,
        tol_feas: 1e-13,
        tol_ktratio: 1e-10,
        max_iter: 500,
        ..DefaultSettings::default()
    };
    let mut solver = DefaultSolver::new(&p, &q, &a, &b, &cones, settings).unwrap();
    solver.solve();
    assert!(
        matches!(solver.solution.status, SolverStatus::Solved | SolverStatus::AlmostSolved),
        "clarabel: {:?}",
        solver.solution.status
    );
    solver.solution.x.clone()
}

proptest! {
    #![proptest_config(config("proptest-regressions/clarabel_oracle.txt", 32))]

    /// Every exact method agrees with Clarabel to 1e-7 (absolute, relative to max(1, |z|, C)).
    #[test]
    fn exact_agrees_with_clarabel(inst in (1usize..=200).prop_flat_map(instance_of_size)) {
        let qp = clarabel_projection(&inst);
        for method in [ExactMethod::Newton, ExactMethod::Select, ExactMethod::Sort] {
            let p = ExactProjector::new(ExactParams { method }).unwrap();
            let (l, _) = project(&p, &inst);
            let d = max_abs_diff(&l, &qp);
            prop_assert!(d <= 1e-7 * inst.scale(), "{method:?}: max |λ − λ_qp| = {d}");
        }
    }

    /// Algorithm 2, when it reports a residual at rounding level, agrees with Clarabel too.
    #[test]
    fn converged_fixed_point_agrees_with_clarabel(inst in (1usize..=200).prop_flat_map(instance_of_size)) {
        let (l, info) = project(&FixedPointProjector::default(), &inst);
        if converged(&info, &l) {
            let qp = clarabel_projection(&inst);
            let d = max_abs_diff(&l, &qp);
            prop_assert!(d <= 1e-7 * inst.scale(), "max |λ − λ_qp| = {d}");
        }
    }
}

/// Clarabel's answer is itself checked once on a case solvable by hand: z = (0.9, 0.5, 0.2),
/// y = (+1, +1, −1), C = 1 → μ = 0.4, λ = (0.5, 0.1, 0.6).
#[test]
fn oracle_solves_a_hand_case() {
    let inst = Instance { z: vec![0.9, 0.5, 0.2], pos: vec![true, true, false], c: 1.0, per: None };
    let qp = clarabel_projection(&inst);
    assert!(max_abs_diff(&qp, &[0.5, 0.1, 0.6]) < 1e-8, "{qp:?}");
}
