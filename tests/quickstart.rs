//! The quickstart report is deterministic: byte-identical across runs and thread counts, equal
//! to the committed `reports/quickstart/`, and snapshot-tested.

use std::path::{Path, PathBuf};
use std::process::Command;

fn run_quickstart(threads: &str, tag: &str) -> PathBuf {
    let out = std::env::temp_dir().join(format!("floral-qs-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let o = Command::new(env!("CARGO_BIN_EXE_floral"))
        .args(["run", "--out"])
        .arg(&out)
        .env("RAYON_NUM_THREADS", threads)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    out
}

/// The report's files, without `provenance.json` (it names the build, not the results).
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name() != floral::experiment::PROVENANCE_FILE)
        .map(|e| {
            let p = e.unwrap().path();
            (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap())
        })
        .collect();
    v.sort();
    v
}

#[test]
fn quickstart_is_deterministic_across_thread_counts_and_matches_committed_report() {
    let a = run_quickstart("1", "t1");
    let b = run_quickstart("2", "t2");
    let fa = files(&a);
    let fb = files(&b);
    assert!(fa.iter().any(|(n, _)| n == "report.md") && fa.iter().any(|(n, _)| n == "results.json"));
    assert_eq!(fa.len(), fb.len());
    for ((na, ca), (nb, cb)) in fa.iter().zip(&fb) {
        assert_eq!(na, nb);
        assert!(ca == cb, "{na} differs between RAYON_NUM_THREADS=1 and 2");
    }
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/quickstart");
    let fc = files(&committed);
    assert_eq!(
        fa.iter().map(|x| &x.0).collect::<Vec<_>>(),
        fc.iter().map(|x| &x.0).collect::<Vec<_>>(),
        "reports/quickstart/ has other files than a fresh run: regenerate with `cargo run --release -- run`"
    );
    for ((na, ca), (_, cc)) in fa.iter().zip(&fc) {
        assert!(
            ca == cc,
            "reports/quickstart/{na} differs from a fresh run: regenerate with `cargo run --release -- run` and read the diff"
        );
    }
    let md = String::from_utf8(fa.iter().find(|x| x.0 == "report.md").unwrap().1.clone()).unwrap();
    insta::assert_snapshot!("quickstart_report", md);
}

/// Every committed report cheap enough for CI equals a fresh run of its experiment,
/// byte for byte, and its report.md is snapshot-tested. (`moon_sweep` is checked by
/// `scripts/regenerate-reports`, which reruns every experiment in release mode.)
#[test]
fn committed_moon_reports_equal_a_fresh_run() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for name in ["moon_reference", "moon_tuned"] {
        let out = std::env::temp_dir().join(format!("floral-rep-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&out);
        let o = Command::new(env!("CARGO_BIN_EXE_floral"))
            .arg("run")
            .arg(root.join("experiments").join(format!("{name}.ron")))
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let fresh = files(&out);
        let committed = files(&root.join("reports").join(name));
        assert_eq!(
            fresh.iter().map(|x| &x.0).collect::<Vec<_>>(),
            committed.iter().map(|x| &x.0).collect::<Vec<_>>(),
            "reports/{name}/ has other files than a fresh run: run scripts/regenerate-reports --write"
        );
        for ((n, a), (_, c)) in fresh.iter().zip(&committed) {
            assert!(
                a == c,
                "reports/{name}/{n} differs from a fresh run: run scripts/regenerate-reports --write and read the diff"
            );
        }
        let md = String::from_utf8(fresh.iter().find(|x| x.0 == "report.md").unwrap().1.clone()).unwrap();
        insta::assert_snapshot!(format!("{name}_report"), md);
    }
}
