//! Greedy LFA (`floral::attack::Lfa`): warm-started SMO retrains against cold retrains (λ = 0),
//! on the same inputs, in one criterion group so that the figure is a ratio within one run.
//!
//! Instance: two moons (noise 0.2, seed 7's data stream), stratified into train / validation /
//! test with fractions 0.25 / 0.25 of the whole, standardised on the training split; RBF γ = 1,
//! C = 1; 0-1 validation loss; every unflipped label is a candidate at each step. Ids:
//! `<warm|cold>/n=<n_train>,budget=<b>,candidates=all`.
//!
//! Run: `cargo bench --bench lfa` (small sample sizes: a minute or two). After the group, the
//! bench prints cold / warm, the ratio of the medians measured in this run (read back from
//! criterion's `estimates.json`), with its range over the two 95 % confidence intervals, and
//! whether the two variants chose the same flips.

use std::error::Error;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use criterion::{BenchmarkId, Criterion};
use floral::attack::{Lfa, LfaParams, PoisonInput, poison_exact};
use floral::data::{FlipSet, Split, Standardizer, Stream, moons, stratified_split, stream};
use floral::svm::{Gram, Rbf, RbfParams};

type Res<T> = Result<T, Box<dyn Error>>;

/// (total points, budget) per configuration; n_train is half the total.
const CONFIGS: [(usize, usize); 2] = [(200, 10), (400, 5)];

fn instance(total: usize) -> Res<Split> {
    let mut rng = stream(7, Stream::Data);
    let data = moons(total, 0.2, &mut rng)?;
    Ok(Standardizer::transform_split(stratified_split(&data, 0.25, 0.25, &mut rng)?)?)
}

fn param(n: usize, budget: usize) -> String {
    format!("n={n},budget={budget},candidates=all")
}

/// Run LFA once; the flips.
fn run(lfa: &Lfa, s: &Split, k: &Rbf, gram: &Arc<Gram>, budget: usize) -> Res<FlipSet> {
    let input = PoisonInput { train: &s.train, kernel: k, gram, validation: s.validation.as_ref() };
    Ok(poison_exact(lfa, &input, budget, &mut stream(7, Stream::Attacker))?)
}

fn lfa_group(c: &mut Criterion) -> Res<Vec<(usize, usize, bool)>> {
    let mut g = c.benchmark_group("lfa");
    g.sample_size(10).warm_up_time(Duration::from_millis(300)).measurement_time(Duration::from_secs(3));
    let k = Rbf::new(RbfParams { gamma: 1.0 })?;
    let mut same = Vec::new();
    for (total, budget) in CONFIGS {
        let s = instance(total)?;
        let gram = Arc::new(Gram::new(&k, s.train.x()));
        let n = s.train.n();
        let warm = Lfa::new(LfaParams { warm_start: true, ..LfaParams::default() })?;
        let cold = Lfa::new(LfaParams { warm_start: false, ..LfaParams::default() })?;
        same.push((n, budget, run(&warm, &s, &k, &gram, budget)? == run(&cold, &s, &k, &gram, budget)?));
        for (name, lfa) in [("warm", &warm), ("cold", &cold)] {
            g.bench_function(BenchmarkId::new(name, param(n, budget)), |b| {
                b.iter(|| black_box(run(lfa, &s, &k, &gram, budget).ok()))
            });
        }
    }
    g.finish();
    Ok(same)
}

/// Median and 95 % confidence bounds (seconds) of one benchmark, if it ran in this invocation.
fn estimate(dir: &Path, id: &str, param: &str, since: SystemTime) -> Option<(f64, f64, f64)> {
    let path = dir.join("lfa").join(id).join(param).join("new/estimates.json");
    if std::fs::metadata(&path).ok()?.modified().ok()? < since {
        return None; // left from an earlier run
    }
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    let m = &v["median"];
    let ci = &m["confidence_interval"];
    let ns = 1e-9;
    Some((m["point_estimate"].as_f64()? * ns, ci["lower_bound"].as_f64()? * ns, ci["upper_bound"].as_f64()? * ns))
}

fn main() {
    let since = SystemTime::now();
    let mut c = Criterion::default().configure_from_args();
    let same = match lfa_group(&mut c) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("bench group `lfa` skipped: {e}");
            return;
        }
    };
    c.final_summary();
    let dir = std::env::var_os("CRITERION_HOME").map(PathBuf::from).unwrap_or_else(|| {
        std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("target"))
            .join("criterion")
    });
    println!("\nLFA, ratio of medians in this run (range over both 95% confidence intervals):");
    for (n, budget, same_flips) in same {
        let p = param(n, budget);
        let (Some((w, w_lo, w_hi)), Some((cold, c_lo, c_hi))) =
            (estimate(&dir, "warm", &p, since), estimate(&dir, "cold", &p, since))
        else {
            continue;
        };
        println!(
            "  {p}: cold / warm = {:.2}x  [{:.2}x, {:.2}x]  (warm {:.3e} s, cold {:.3e} s; same flips: {same_flips})",
            cold / w,
            c_lo / w_hi,
            c_hi / w_lo,
            w,
            cold
        );
    }
}
