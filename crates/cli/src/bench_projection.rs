//! `floral bench projection --n N [--json]`: the exact projector against Algorithm 2 on one
//! seeded random instance, timed in the same process (minimum over `--reps` repetitions).

use std::time::Instant;

use anyhow::anyhow;
use faer::Col;
use floral_data::{Labels, Stream, stream};
use floral_projection::{Bounds, ExactProjector, FixedPointProjector, ProjInfo, Projector};
use rand::Rng;

use crate::{BenchProjectionArgs, CliError};

/// The instance: labels ±1 with probability ½ each, z_i = C·u_i with u_i uniform in
/// [−0.5, 1.5) (about a quarter of the points below 0, a quarter above C), drawn from the data
/// stream of `seed`.
fn instance(n: usize, seed: u64, c: f64) -> (Col<f64>, Labels) {
    let mut rng = stream(seed, Stream::Data);
    let y = Labels::from_signs((0..n).map(|_| rng.random::<bool>()));
    let z = Col::from_fn(n, |_| c * rng.random_range(-0.5..1.5));
    (z, y)
}

/// Minimum wall time of `reps` calls, and the info of the last call.
fn time(
    p: &dyn Projector,
    reps: usize,
    z: &Col<f64>,
    y: &Labels,
    c: f64,
    out: &mut Col<f64>,
) -> Result<(f64, ProjInfo), CliError> {
    let mut best = f64::INFINITY;
    let mut info = ProjInfo { mu: 0.0, iterations: 0, residual: 0.0 };
    for _ in 0..reps {
        let t = Instant::now();
        info = p
            .project_into(z.as_ref(), y, Bounds::Uniform(c), out.as_mut())
            .map_err(|e| CliError::Internal(anyhow!("{}: {e}", p.name())))?;
        best = best.min(t.elapsed().as_secs_f64());
    }
    Ok((best, info))
}

pub(crate) fn run(a: &BenchProjectionArgs) -> Result<(), CliError> {
    if !(a.c.is_finite() && a.c >= 0.0) {
        return Err(CliError::Input(anyhow!("--c: expected a finite number >= 0, got {}", a.c)));
    }
    if a.reps == 0 {
        return Err(CliError::Input(anyhow!("--reps: expected >= 1, got 0")));
    }
    let (z, y) = instance(a.n, a.seed, a.c);
    let exact = ExactProjector::default();
    let fixed = FixedPointProjector::default();
    let mut le = Col::<f64>::zeros(a.n);
    let mut lf = Col::<f64>::zeros(a.n);
    let (te, ie) = time(&exact, a.reps, &z, &y, a.c, &mut le)?;
    let (tf, i_f) = time(&fixed, a.reps, &z, &y, a.c, &mut lf)?;
    let max_abs_diff = (0..a.n).map(|i| (le[i] - lf[i]).abs()).fold(0.0, f64::max);
    if a.json {
        let v = serde_json::json!({
            "n": a.n,
            "seed": a.seed,
            "c": a.c,
            "reps": a.reps,
            "exact_seconds": te,
            "fixed_point_seconds": tf,
            "max_abs_diff": max_abs_diff,
            "exact_residual": ie.residual,
            "fixed_point_residual": i_f.residual,
            "fixed_point_iterations": i_f.iterations,
            "exact_iterations": ie.iterations,
            "exact_mu": ie.mu,
            "fixed_point_mu": i_f.mu,
        });
        println!("{v}");
    } else {
        println!(
            "projection onto {{0 <= lambda <= C, y'lambda = 0}}: n = {}, C = {}, seed = {}, min of {} reps",
            a.n, a.c, a.seed, a.reps
        );
        println!(
            "  exact (Newton):      {:>12.6} ms  residual {:.3e}  ({} evaluations of phi)",
            te * 1e3,
            ie.residual,
            ie.iterations
        );
        println!(
            "  fixed point (Alg 2): {:>12.6} ms  residual {:.3e}  ({} iterations)",
            tf * 1e3,
            i_f.residual,
            i_f.iterations
        );
        println!("  fixed point / exact time: {:.2}", tf / te);
        println!("  max |lambda_exact - lambda_fixed_point| = {max_abs_diff:.3e}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(n: usize, c: f64, reps: usize) -> BenchProjectionArgs {
        BenchProjectionArgs { n, seed: 7, c, reps, json: true }
    }

    #[test]
    fn bad_flags_are_input_errors() {
        for c in [-1.0, f64::NAN, f64::INFINITY] {
            assert!(matches!(run(&args(10, c, 1)), Err(CliError::Input(_))), "c = {c}");
        }
        assert!(matches!(run(&args(10, 1.0, 0)), Err(CliError::Input(_))));
    }

    #[test]
    fn edge_sizes_run() {
        assert!(run(&args(0, 1.0, 1)).is_ok());
        assert!(run(&args(1, 0.0, 1)).is_ok());
        assert!(run(&args(50, 2.5, 2)).is_ok());
    }

    #[test]
    fn instance_is_seeded() {
        let (z1, y1) = instance(20, 3, 1.0);
        let (z2, y2) = instance(20, 3, 1.0);
        assert_eq!(y1, y2);
        assert!((0..20).all(|i| z1[i] == z2[i] && (-0.5..1.5).contains(&z1[i])));
        let (z3, _) = instance(20, 4, 1.0);
        assert!((0..20).any(|i| z1[i] != z3[i]));
    }
}
