//! floral-svm speed, each group with its own baseline so every figure is a ratio within one run:
//!
//! - `gram`: the RBF Gram matrix through faer matmul + row norms (parallel fixed blocks, one
//!   triangle mirrored) against a plain triple loop over `Kernel::eval`, n = 2,000 and 8,000;
//! - `signed_gram`: the O(n) label flip of Q̃ against rebuilding Q̃ from K, n = 2,000;
//! - `smo`: LIBSVM-style SMO training on two-moons data (noise 0.2, γ = 0.5, C = 10) at
//!   n = 1,000 / 4,000 / 16,000: kernel rows on demand (the default for large n), against the
//!   same without shrinking, and against the dense Gram where it is affordable (n ≤ 4,000).
//!
//! Data: `floral_data::moons(n, 0.2, stream(7, Stream::Data))`.
//! Run: `cargo bench --bench svm` (small sample sizes: a few minutes in all).

use std::error::Error;
use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use floral::data::{Dataset, Stream, moons, stream};
use floral::svm::{Gram, Kernel, Rbf, RbfParams, SignedGram, Smo, SmoParams, gram_naive};

type Res = Result<(), Box<dyn Error>>;

fn moons_set(n: usize) -> Result<Dataset, Box<dyn Error>> {
    Ok(moons(n, 0.2, &mut stream(7, Stream::Data))?)
}

fn rbf() -> Result<Rbf, Box<dyn Error>> {
    Ok(Rbf::new(RbfParams { gamma: 0.5 })?)
}

fn report(group: &str, r: Res) {
    if let Err(e) = r {
        eprintln!("bench group `{group}` skipped: {e}");
    }
}

fn gram(c: &mut Criterion) {
    report("gram", gram_group(c));
}

fn gram_group(c: &mut Criterion) -> Res {
    let mut g = c.benchmark_group("gram");
    g.sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(4));
    let k = rbf()?;
    for n in [2_000usize, 8_000] {
        let d = moons_set(n)?;
        g.bench_with_input(BenchmarkId::new("faer", format!("n={n}")), &d, |b, d| {
            b.iter(|| black_box(Gram::new(&k, black_box(d.x()))))
        });
        g.bench_with_input(BenchmarkId::new("naive", format!("n={n}")), &d, |b, d| {
            b.iter(|| black_box(gram_naive(&k, black_box(d.x()), d.x())))
        });
    }
    g.finish();
    Ok(())
}

fn signed_gram(c: &mut Criterion) {
    report("signed_gram", signed_gram_group(c));
}

fn signed_gram_group(c: &mut Criterion) -> Res {
    let mut g = c.benchmark_group("signed_gram");
    g.sample_size(20).warm_up_time(Duration::from_millis(300)).measurement_time(Duration::from_secs(2));
    let n = 2_000;
    let d = moons_set(n)?;
    let k = Gram::new(&rbf()?, d.x());
    let mut q = SignedGram::new(k.clone(), d.y())?;
    let mut i = 0usize;
    g.bench_function(BenchmarkId::new("flip", format!("n={n}")), |b| {
        b.iter(|| {
            i = (i + 7) % n;
            q.flip(black_box(i));
        })
    });
    g.bench_function(BenchmarkId::new("rebuild", format!("n={n}")), |b| {
        b.iter(|| black_box(SignedGram::new(k.clone(), black_box(d.y())).ok()))
    });
    g.finish();
    Ok(())
}

fn smo(c: &mut Criterion) {
    report("smo", smo_group(c));
}

fn smo_group(c: &mut Criterion) -> Res {
    let mut g = c.benchmark_group("smo");
    g.sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(5));
    let k = rbf()?;
    let kernel: &dyn Kernel = &k;
    let variants = [
        ("rows", SmoParams { dense_limit_mb: 0.0, ..SmoParams::default() }),
        ("rows_no_shrinking", SmoParams { dense_limit_mb: 0.0, shrinking: false, ..SmoParams::default() }),
        ("dense", SmoParams { dense_limit_mb: f64::MAX, dense_min_dim: 0, ..SmoParams::default() }),
    ];
    for n in [1_000usize, 4_000, 16_000] {
        let d = moons_set(n)?;
        for (name, params) in &variants {
            if *name == "dense" && n > 4_000 {
                continue; // 2 GB of Gram at n = 16,000: not a fair use of the shared machine
            }
            let mut s = Smo::new(*params)?;
            g.bench_with_input(BenchmarkId::new(*name, format!("n={n}")), &d, |b, d| {
                b.iter(|| black_box(s.fit(kernel, black_box(d), 10.0).ok()))
            });
        }
    }
    g.finish();
    Ok(())
}

criterion_group!(benches, gram, signed_gram, smo);
criterion_main!(benches);
