//! Influence of every training point (`floral::svm::influence`): flip and removal retrains
//! warm-started from the base solution against cold retrains (λ = 0), on the same inputs, in one
//! criterion group so that the figure is a ratio within one run.
//!
//! Instance: the authors' Moon file (`moon_floral_seed42`: 500 training points, its validation
//! and test sheets), RBF γ = 0.5, C = 10 (the reference setting), SMO tolerance 1e-3; all 500
//! points, each with a flip retrain and a removal retrain (1,000 SMO solves), plus the
//! first-order estimate. Ids: `<warm|cold>/n=500`.
//!
//! Run: `cargo bench --bench influence`. After the group, the bench prints cold / warm, the ratio
//! of the medians measured in this run (read back from criterion's `estimates.json`), with its
//! range over the two 95 % confidence intervals, and the total SMO iterations of each variant.

use std::error::Error;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use criterion::{BenchmarkId, Criterion};
use faer::Mat;
use floral::data::{Dataset, Split};
use floral::svm::{Gram, InfluenceParams, InfluenceSets, Kernel, Rbf, RbfParams, SmoParams, influence};

type Res<T> = Result<T, Box<dyn Error>>;

struct Instance {
    split: Split,
    gram: Arc<Gram>,
    kv: Mat<f64>,
    kt: Mat<f64>,
}

fn cross(k: &dyn Kernel, a: &Dataset, b: &Dataset) -> Mat<f64> {
    let mut m = Mat::zeros(a.n(), b.n());
    k.gram_into(a.x(), b.x(), m.as_mut());
    m
}

fn instance() -> Res<Instance> {
    let split = floral::data::shipped::moon_floral("train")?;
    let k = Rbf::new(RbfParams { gamma: 0.5 })?;
    let gram = Arc::new(Gram::new(&k, split.train.x()));
    let val = split.validation.as_ref().ok_or("the Moon file has a validation sheet")?;
    let kv = cross(&k, val, &split.train);
    let kt = cross(&k, &split.test, &split.train);
    Ok(Instance { split, gram, kv, kt })
}

/// Influence of every point; the total SMO iterations.
fn run(inst: &Instance, warm: bool) -> Res<usize> {
    let val = inst.split.validation.as_ref().ok_or("validation")?;
    let sets = InfluenceSets { validation: inst.kv.as_ref(), validation_labels: val.y(), test: inst.kt.as_ref() };
    let params = InfluenceParams { c: 10.0, warm_start: warm, smo: SmoParams::default() };
    let idx: Vec<usize> = (0..inst.split.train.n()).collect();
    let inf = influence(&inst.gram, inst.split.train.y(), &sets, &params, &idx)?;
    Ok(inf.points.iter().map(|p| p.flip_iterations + p.loo_iterations).sum())
}

fn group(c: &mut Criterion, inst: &Instance) -> Res<(usize, usize)> {
    let mut g = c.benchmark_group("influence");
    g.sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(5));
    let n = inst.split.train.n();
    let iters = (run(inst, true)?, run(inst, false)?);
    for (name, warm) in [("warm", true), ("cold", false)] {
        g.bench_function(BenchmarkId::new(name, format!("n={n}")), |b| b.iter(|| black_box(run(inst, warm).ok())));
    }
    g.finish();
    Ok(iters)
}

/// Median and 95 % confidence bounds (seconds) of one benchmark, if it ran in this invocation.
fn estimate(dir: &Path, id: &str, param: &str, since: SystemTime) -> Option<(f64, f64, f64)> {
    let path = dir.join("influence").join(id).join(param).join("new/estimates.json");
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
    let inst = match instance() {
        Ok(i) => i,
        Err(e) => {
            eprintln!("bench group `influence` skipped: {e}");
            return;
        }
    };
    let (wi, ci) = match group(&mut c, &inst) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("bench group `influence` skipped: {e}");
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
    let p = format!("n={}", inst.split.train.n());
    if let (Some((w, w_lo, w_hi)), Some((cold, c_lo, c_hi))) =
        (estimate(&dir, "warm", &p, since), estimate(&dir, "cold", &p, since))
    {
        println!(
            "\ninfluence of every point, {p}: cold / warm = {:.2}x  [{:.2}x, {:.2}x]  (warm {:.3e} s, cold {:.3e} s; \
             SMO iterations warm {wi}, cold {ci})",
            cold / w,
            c_lo / w_hi,
            c_hi / w_lo,
            w,
            cold
        );
    }
}
