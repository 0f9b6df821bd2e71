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
        println!("projection onto {{0 <= lambda <= C, y'lambda = 0}}: n = {}, C = {}, seed = {}, min of {} reps", a.n, a.c, a.seed, a.reps);
        println!("  exact (selection):   {:>12.6} ms  residual {:.3e}  ({} pivots)", te * 1e3, ie.residual, ie.iterations);
        println!("  fixed point (Alg 2): {:>12.6} ms  residual {:.3e}  ({} iterations)", tf * 1e3, i_f.residual, i_f.iterations);
        println!("  fixed point / exact time: {:.2}", tf / te);
        println!("  max |lambda_exact - lambda_fixed_point| = {max_abs_diff:.3e}");
    }
    Ok(())
}
