//! Projection onto {0 ≤ λ ≤ C, yᵀλ = 0}: the exact projector (Newton, the default; selection;
//! and the sort-based baseline) against Algorithm 2 (fixed point) and a general-purpose QP solver
//! (Clarabel with default settings, for n ≤ 2,000), in one criterion group so that every figure
//! is a ratio within one run. Ids: `<method>/n=<n>`.
//!
//! Instance (same as `floral bench projection`): labels ±1 with probability ½, z_i = C·u_i with
//! u_i uniform in [−0.5, 1.5), C = 1, seeded from the data stream of seed 7.
//!
//! Run: `cargo bench --bench projection` (small sample sizes: a few minutes in all). After the
//! group, the bench prints the ratios of the medians measured in this run (Clarabel, fixed
//! point, selection and sort, each over exact, per n), read back from criterion's
//! `estimates.json` files, with the range of the ratio over the two 95 % confidence intervals.

use std::hint::black_box;
use std::time::Duration;

use clarabel::algebra::CscMatrix;
use clarabel::solver::{DefaultSettings, DefaultSolver, IPSolver, NonnegativeConeT, ZeroConeT};
use criterion::{BenchmarkId, Criterion, criterion_group};
use faer::Col;
use floral::data::{Labels, Stream, stream};
use floral::projection::{Bounds, ExactMethod, ExactParams, ExactProjector, FixedPointProjector, Projector};
use rand::Rng;

const C: f64 = 1.0;

fn instance(n: usize) -> (Col<f64>, Labels) {
    let mut rng = stream(7, Stream::Data);
    let y = Labels::from_signs((0..n).map(|_| rng.random::<bool>()));
    let z = Col::from_fn(n, |_| C * rng.random_range(-0.5..1.5));
    (z, y)
}

/// The QP min ½‖λ‖² − zᵀλ s.t. yᵀλ = 0, 0 ≤ λ ≤ C in Clarabel's form (P, q, A, b, cones).
struct Qp {
    p: CscMatrix<f64>,
    q: Vec<f64>,
    a: CscMatrix<f64>,
    b: Vec<f64>,
    n: usize,
}

impl Qp {
    fn new(z: &Col<f64>, y: &Labels) -> Self {
        let n = z.nrows();
        let (mut rows, mut cols, mut vals) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..n {
            rows.extend([0, 1 + i, 1 + n + i]);
            cols.extend([i, i, i]);
            vals.extend([y.get(i), -1.0, 1.0]);
        }
        let mut b = vec![0.0; 1 + 2 * n];
        b[1 + n..].fill(C);
        Qp {
            p: CscMatrix::identity(n),
            q: (0..n).map(|i| -z[i]).collect(),
            a: CscMatrix::new_from_triplets(1 + 2 * n, n, rows, cols, vals),
            b,
            n,
        }
    }

    /// Setup + solve with default tolerances (1e-8), as a user of a generic QP solver would.
    fn solve(&self) -> Vec<f64> {
        let cones = [ZeroConeT(1), NonnegativeConeT(2 * self.n)];
        let settings = DefaultSettings { verbose: false, ..DefaultSettings::default() };
        match DefaultSolver::new(&self.p, &self.q, &self.a, &self.b, &cones, settings) {
            Ok(mut s) => {
                s.solve();
                s.solution.x.clone()
            }
            Err(_) => Vec::new(),
        }
    }
}

fn projection(c: &mut Criterion) {
    let mut g = c.benchmark_group("projection");
    g.sample_size(10).warm_up_time(Duration::from_millis(300)).measurement_time(Duration::from_secs(2));
    let exact = ExactProjector::new(ExactParams { method: ExactMethod::Newton }).unwrap_or_default();
    let select = ExactProjector::new(ExactParams { method: ExactMethod::Select }).unwrap_or_default();
    let sort = ExactProjector::new(ExactParams { method: ExactMethod::Sort }).unwrap_or_default();
    let fixed = FixedPointProjector::default();
    let projectors: [(&str, &dyn Projector); 4] =
        [("exact", &exact), ("exact_select", &select), ("exact_sort", &sort), ("fixed_point", &fixed)];
    for n in [1_000usize, 2_000, 10_000, 100_000, 1_000_000] {
        let (z, y) = instance(n);
        let mut out = Col::<f64>::zeros(n);
        for (name, p) in projectors {
            g.bench_function(BenchmarkId::new(name, format!("n={n}")), |b| {
                b.iter(|| {
                    let info = p.project_into(black_box(z.as_ref()), &y, Bounds::Uniform(C), out.as_mut());
                    black_box(info.map(|i| i.residual).unwrap_or(f64::NAN))
                })
            });
        }
        if n <= 2_000 {
            let qp = Qp::new(&z, &y);
            g.bench_function(BenchmarkId::new("clarabel", format!("n={n}")), |b| b.iter(|| black_box(qp.solve())));
        }
    }
    g.finish();
}

criterion_group!(benches, projection);

/// Median and 95 % confidence bounds (seconds) of one benchmark, if it ran in this invocation
/// (its `estimates.json` was written after `since`).
fn estimate(dir: &std::path::Path, id: &str, n: usize, since: std::time::SystemTime) -> Option<(f64, f64, f64)> {
    let path = dir.join("projection").join(id).join(format!("n={n}")).join("new/estimates.json");
    if std::fs::metadata(&path).ok()?.modified().ok()? < since {
        return None; // left from an earlier run
    }
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    let m = &v["median"];
    let ci = &m["confidence_interval"];
    let ns = 1e-9;
    Some((m["point_estimate"].as_f64()? * ns, ci["lower_bound"].as_f64()? * ns, ci["upper_bound"].as_f64()? * ns))
}

/// Print `baseline / exact` for each n where both ran in this invocation.
fn print_ratios(since: std::time::SystemTime) {
    let dir = std::env::var_os("CRITERION_HOME").map(std::path::PathBuf::from).unwrap_or_else(|| {
        std::env::var_os("CARGO_TARGET_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| std::path::PathBuf::from("target"))
            .join("criterion")
    });
    println!("\nratios of medians in this run (range over both 95% confidence intervals):");
    for n in [1_000usize, 2_000, 10_000, 100_000, 1_000_000] {
        let Some((e, e_lo, e_hi)) = estimate(&dir, "exact", n, since) else { continue };
        for base in ["clarabel", "fixed_point", "exact_select", "exact_sort"] {
            if let Some((b, b_lo, b_hi)) = estimate(&dir, base, n, since) {
                println!(
                    "  n={n:>7}: {base} / exact = {:.0}x  [{:.0}x, {:.0}x]  (exact {:.3e} s)",
                    b / e,
                    b_lo / e_hi,
                    b_hi / e_lo,
                    e
                );
            }
        }
    }
}

fn main() {
    let since = std::time::SystemTime::now();
    benches();
    Criterion::default().configure_from_args().final_summary();
    print_ratios(since);
}
