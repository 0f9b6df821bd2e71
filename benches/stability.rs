//! floral-stability speed: the analytic stability analysis of a free set of 2,000 points against
//! one eigenvalue decomposition of the 2,000×2,000 Gram matrix (the baseline, measured in the
//! same run).
//!
//! - `analytic/n=2000`: `AnalyticJacobian::analyze` (without λ_max(K)) at λ = 0 on 2,000
//!   two-moons points (noise 0.2, seed 7, RBF γ = 0.5, C = 10, η = 1e-4): the classes are
//!   balanced, so T(0) = η·1 and the free set is all 2,000 points. Work: T(0) (one Q̃λ product
//!   and a projection), Q̃_FF, its compression onto range(P), one symmetric eigenvalue
//!   decomposition of order 1,999.
//! - `gram_evd/n=2000`: `Gram::eigenvalues` of the same 2,000×2,000 kernel matrix (order 2,000).
//!
//! Run: `cargo bench --bench stability`; it ends by printing analytic / gram_evd (ratio of
//! medians, with the range over both 95 % confidence intervals) and the analytic time.

use std::error::Error;
use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group};
use faer::Col;
use floral::data::{Stream, moons, stream};
use floral::projection::{Bounds, ExactProjector};
use floral::stability::{AnalyticJacobian, AnalyticParams, StabilityAnalyzer};
use floral::svm::{Gram, PgdMap, Rbf, RbfParams, SignedGram};

const N: usize = 2_000;

fn stability(c: &mut Criterion) {
    if let Err(e) = stability_group(c) {
        eprintln!("bench group `stability` skipped: {e}");
    }
}

fn stability_group(c: &mut Criterion) -> Result<(), Box<dyn Error>> {
    let d = moons(N, 0.2, &mut stream(7, Stream::Data))?;
    let gram = Gram::new(&Rbf::new(RbfParams { gamma: 0.5 })?, d.x());
    let q = SignedGram::new(gram.clone(), d.y())?;
    let projector = ExactProjector::default();
    let map = PgdMap::new(&q, 1e-4, Bounds::Uniform(10.0), &projector)?;
    let analyzer = AnalyticJacobian::new(AnalyticParams { kernel_bound: false, ..AnalyticParams::default() })?;
    let at = Col::<f64>::zeros(N);
    let report = analyzer.analyze(&map, at.as_ref())?;
    if report.free != N {
        return Err(format!("free set has {} points, expected {N}", report.free).into());
    }
    eprintln!(
        "free set {} points: μ_max = {:.6}, spectral radius = {:.12}, verdict {}",
        report.free, report.mu_max, report.spectral_radius, report.verdict
    );
    let mut g = c.benchmark_group("stability");
    g.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(30));
    g.bench_function(BenchmarkId::new("analytic", format!("n={N}")), |b| {
        b.iter(|| black_box(analyzer.analyze(&map, black_box(at.as_ref()))))
    });
    g.bench_function(BenchmarkId::new("gram_evd", format!("n={N}")), |b| b.iter(|| black_box(gram.eigenvalues())));
    g.finish();
    Ok(())
}

criterion_group!(benches, stability);

/// Median and 95 % confidence bounds (seconds) of one benchmark, if it ran in this invocation
/// (its `estimates.json` was written after `since`).
fn estimate(dir: &std::path::Path, id: &str, since: std::time::SystemTime) -> Option<(f64, f64, f64)> {
    let path = dir.join("stability").join(id).join(format!("n={N}")).join("new/estimates.json");
    if std::fs::metadata(&path).ok()?.modified().ok()? < since {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    let m = &v["median"];
    let ci = &m["confidence_interval"];
    let ns = 1e-9;
    Some((m["point_estimate"].as_f64()? * ns, ci["lower_bound"].as_f64()? * ns, ci["upper_bound"].as_f64()? * ns))
}

fn main() {
    let since = std::time::SystemTime::now();
    benches();
    Criterion::default().configure_from_args().final_summary();
    let dir = std::env::var_os("CRITERION_HOME").map(std::path::PathBuf::from).unwrap_or_else(|| {
        std::env::var_os("CARGO_TARGET_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| std::path::PathBuf::from("target"))
            .join("criterion")
    });
    if let (Some((a, a_lo, a_hi)), Some((b, b_lo, b_hi))) =
        (estimate(&dir, "analytic", since), estimate(&dir, "gram_evd", since))
    {
        println!(
            "\nanalytic (|F| = {N}) / gram_evd (n = {N}) = {:.2}  [{:.2}, {:.2}]  (analytic {a:.3} s, gram_evd {b:.3} s)",
            a / b,
            a_lo / b_hi,
            a_hi / b_lo
        );
    }
}
