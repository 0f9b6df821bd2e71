//! Sharded, resumable sweeps (`floral run --shard I/N`, `floral merge`, the
//! cell store, `floral submit`).

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn floral() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_floral"));
    c.env("RAYON_NUM_THREADS", "2");
    c
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("floral-shards-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Two seeds (generated data: one group of kernels per seed), a clean and a poisoned level, a
/// FLORAL method, a tuned SVM (variants chosen on validation) and decision plots: 2 × 2 × (1 + 2)
/// = 12 cells.
const SWEEP: &str = r#"Experiment(
    name: "sweep",
    seeds: [3, 4],
    data: Moons(n: 80, noise: 0.15, validation_fraction: 0.2, test_fraction: 0.25),
    poison: [Clean, RandomFlips(fraction: 0.1)],
    kernel: Rbf(gamma: 1.0),
    methods: [
        Floral((name: "floral", learner: (c: 1.0, eta: 0.05), attacker: RandomTopK((k: 2, pool: Some(6))), rounds: 30, average_last: 10)),
        Svm(name: "svm", c: 1.0, c_grid: [0.5, 2.0]),
    ],
)
"#;

fn run_ok(c: &mut Command) -> Output {
    let o = c.output().unwrap();
    assert_eq!(o.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&o.stderr));
    o
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Every file of a report directory (the cell store excluded) and its bytes.
fn report_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut m = BTreeMap::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_file() {
            m.insert(e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap());
        }
    }
    assert!(m.contains_key("report.md") && m.contains_key("results.json"), "{dir:?}: {:?}", m.keys());
    m
}

fn assert_same_report(a: &Path, b: &Path) {
    let (fa, fb) = (report_files(a), report_files(b));
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>(), "{a:?} vs {b:?}");
    for (name, bytes) in &fa {
        assert!(bytes == &fb[name], "{name} differs between {a:?} and {b:?}");
    }
}

/// The single store directory under `out/cells/`.
fn store_of(out: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> = std::fs::read_dir(out.join("cells")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs[0].clone()
}

/// The job cells (`m*.cell`) of a store and their inode numbers.
fn cells(store: &Path) -> BTreeMap<String, u64> {
    cells_where(store, |n| n.starts_with('m'))
}

/// The cells of a store whose file name passes `keep` (and ends in `.cell`), with their inodes.
fn cells_where(store: &Path, keep: impl Fn(&str) -> bool) -> BTreeMap<String, u64> {
    std::fs::read_dir(store)
        .map(|rd| {
            rd.map(|e| e.unwrap())
                .filter(|e| {
                    let n = e.file_name().to_string_lossy().into_owned();
                    keep(&n) && n.ends_with(".cell")
                })
                .map(|e| (e.file_name().to_string_lossy().into_owned(), e.metadata().unwrap().ino()))
                .collect()
        })
        .unwrap_or_default()
}

fn count(text: &str, needle: &str) -> usize {
    text.lines().filter(|l| l.contains(needle)).count()
}

#[test]
fn sharded_runs_merge_to_the_unsharded_report_byte_for_byte() {
    let d = scratch("merge");
    let f = d.join("sweep.ron");
    std::fs::write(&f, SWEEP).unwrap();
    let full = d.join("full");
    run_ok(floral().arg("run").arg(&f).arg("--out").arg(&full));
    assert!(!full.join("cells").exists(), "a whole run deletes its cell store after the report");
    for n in 1..=3 {
        // All shards into one --out (a shared file system) ...
        let one = d.join(format!("one-{n}"));
        for i in 0..n {
            let o = run_ok(floral().arg("run").arg(&f).arg("--out").arg(&one).arg("--shard").arg(format!("{i}/{n}")));
            assert!(String::from_utf8_lossy(&o.stdout).contains(&format!("shard {i}/{n}")));
            assert!(!one.join("report.md").exists(), "a shard writes no report");
        }
        assert_eq!(cells(&store_of(&one)).len(), 12);
        run_ok(floral().arg("merge").arg(&one));
        assert_same_report(&full, &one);
        // ... or each into its own, merged elsewhere.
        let dirs: Vec<PathBuf> = (0..n).map(|i| d.join(format!("sep-{n}-{i}"))).collect();
        for (i, dir) in dirs.iter().enumerate().rev() {
            run_ok(floral().arg("run").arg(&f).arg("--out").arg(dir).arg("--shard").arg(format!("{i}/{n}")));
        }
        let sizes: Vec<usize> = dirs.iter().map(|d| cells(&store_of(d)).len()).collect();
        assert_eq!(sizes.iter().sum::<usize>(), 12, "{sizes:?}");
        assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1, "balanced: {sizes:?}");
        let merged = d.join(format!("merged-{n}"));
        run_ok(floral().arg("merge").args(&dirs).arg("--out").arg(&merged));
        assert_same_report(&full, &merged);
    }
}

#[test]
fn bad_shards_and_merges_exit_1_and_overwrite_nothing() {
    let d = scratch("bad");
    let f = d.join("sweep.ron");
    std::fs::write(&f, SWEEP).unwrap();
    for (bad, says) in [("3/2", "below N = 2"), ("0/0", "at least 1"), ("2/2", "0-based"), ("x", "I/N")] {
        let o = floral().arg("run").arg(&f).arg("--shard").arg(bad).output().unwrap();
        assert_eq!(o.status.code(), Some(1), "--shard {bad}");
        assert!(stderr(&o).contains("--shard") && stderr(&o).contains(says), "--shard {bad}: {}", stderr(&o));
    }
    // Shards of two different experiment files (same name, other content).
    let g = d.join("other.ron");
    std::fs::write(&g, SWEEP.replace("rounds: 30", "rounds: 31")).unwrap();
    let (a, b) = (d.join("a"), d.join("b"));
    run_ok(floral().arg("run").arg(&f).arg("--out").arg(&a).arg("--shard").arg("0/2"));
    run_ok(floral().arg("run").arg(&g).arg("--out").arg(&b).arg("--shard").arg("1/2"));
    let out = d.join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("report.md"), "previous report\n").unwrap();
    let o = floral().arg("merge").arg(&a).arg(&b).arg("--out").arg(&out).output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("different experiments") && stderr(&o).contains("hash"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(out.join("report.md")).unwrap(), "previous report\n");
    // An incomplete set of shards: the missing cells are listed, nothing is written.
    let o = floral().arg("merge").arg(&a).arg("--out").arg(&out).output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("incomplete") && e.contains("6 of 12 cells") && e.contains("m0-v0-p0-s1"), "{e}");
    assert_eq!(std::fs::read_to_string(out.join("report.md")).unwrap(), "previous report\n");
    assert!(!a.join("report.md").exists());
    // A directory without a store.
    let o = floral().arg("merge").arg(&out).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no cell store"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(out.join("report.md")).unwrap(), "previous report\n");
    // A data file changed after the shards ran: the hash says so.
    let csv =
        "x1,x2,label\n0,0,1\n1,1,-1\n0,1,1\n1,0,-1\n0.1,0,1\n0.9,1,-1\n0,0.8,1\n1,0.2,-1\n0.2,0.1,1\n0.8,0.9,-1\n";
    std::fs::write(d.join("train.csv"), csv).unwrap();
    std::fs::write(d.join("test.csv"), csv).unwrap();
    let h = d.join("files.ron");
    std::fs::write(
        &h,
        r#"Experiment(name: "files", seeds: [1], data: Files(train: "train.csv", test: "test.csv"), poison: [Clean],
            kernel: Rbf(gamma: 1.0), methods: [Svm(name: "svm", c: 1.0)])"#,
    )
    .unwrap();
    let c = d.join("c");
    run_ok(floral().arg("run").arg(&h).arg("--out").arg(&c).arg("--shard").arg("0/1"));
    std::fs::write(d.join("train.csv"), csv.replace("0.1,0,1", "0.15,0,1")).unwrap();
    let o = floral().arg("merge").arg(&c).output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("changed"), "{}", stderr(&o));
    assert!(!c.join("report.md").exists());
}

#[test]
fn damaged_cell_files_are_detected_and_recomputed() {
    let d = scratch("damaged");
    let f = d.join("sweep.ron");
    std::fs::write(&f, SWEEP).unwrap();
    let full = d.join("full");
    run_ok(floral().arg("run").arg(&f).arg("--out").arg(&full));
    let out = d.join("out");
    run_ok(floral().arg("run").arg(&f).arg("--out").arg(&out).arg("--shard").arg("0/2"));
    let store = store_of(&out);
    let before = cells(&store);
    let names: Vec<&String> = before.keys().collect();
    assert_eq!(names.len(), 6);
    // Truncate one cell file; replace another by a valid file of a different cell (a foreign
    // file: right plan, wrong key).
    let truncated = store.join(names[0]);
    let bytes = std::fs::read(&truncated).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let foreign = store.join(names[1]);
    std::fs::copy(store.join(names[2]), &foreign).unwrap();
    let o = run_ok(floral().arg("run").arg(&f).arg("--out").arg(&out).arg("--shard").arg("0/2"));
    let e = stderr(&o);
    assert_eq!(count(&e, "damaged cell file"), 2, "{e}");
    assert!(e.contains(&truncated.display().to_string()) && e.contains(&foreign.display().to_string()), "{e}");
    assert_eq!(count(&e, ": done"), 2, "only the two damaged cells are computed: {e}");
    assert_eq!(count(&e, "already in the cell store"), 4, "{e}");
    let after = cells(&store);
    for (name, ino) in &before {
        let rewritten = name == names[0] || name == names[1];
        assert_eq!(after[name] != *ino, rewritten, "{name}");
    }
    run_ok(floral().arg("run").arg(&f).arg("--out").arg(&out).arg("--shard").arg("1/2"));
    run_ok(floral().arg("merge").arg(&out));
    assert_same_report(&full, &out);
}

/// 4 seeds × 2 levels × 2 methods = 16 cells, FLORAL's taking long enough to be killed mid-sweep.
const SLOW: &str = r#"Experiment(
    name: "slow",
    seeds: [1, 2, 3, 4],
    data: Moons(n: 400, noise: 0.15, validation_fraction: 0.2, test_fraction: 0.2),
    poison: [Clean, RandomFlips(fraction: 0.1)],
    kernel: Rbf(gamma: 1.0),
    methods: [
        Floral((name: "floral", learner: (c: 1.0, eta: 0.05), attacker: RandomTopK((k: 5, pool: Some(25))), rounds: 1500)),
        Svm(name: "svm", c: 1.0),
    ],
)
"#;

#[test]
fn a_killed_run_resumes_without_recomputing_finished_cells() {
    assert_a_killed_run_resumes("kill", SLOW, 16, |n| n.starts_with('m'));
}

#[test]
fn slurm_script_runs_every_shard_then_merges() {
    let d = scratch("slurm");
    let f = d.join("sweep.ron");
    std::fs::write(&f, SWEEP).unwrap();
    let full = d.join("full");
    run_ok(floral().arg("run").arg(&f).arg("--out").arg(&full));
    let out = d.join("cluster out");
    let scripts = d.join("scripts");
    run_ok(
        floral()
            .arg("submit")
            .arg(&f)
            .arg("--shards")
            .arg("3")
            .arg("--slurm")
            .arg("--out")
            .arg(&out)
            .arg("--dir")
            .arg(&scripts),
    );
    let script = scripts.join("sweep.slurm.sh");
    let text = std::fs::read_to_string(&script).unwrap();
    assert!(text.contains("--array=0-2") && text.contains("--shard ${SLURM_ARRAY_TASK_ID}/3"), "{text}");
    assert!(text.contains("--dependency=afterok:") && text.contains(" merge "), "{text}");
    // A stand-in for sbatch: runs an array job's --wrap once per task id, a plain job once, and
    // prints a job id as `sbatch --parsable` does.
    let bin = d.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let fake = r#"#!/usr/bin/env bash
array=""; wrap=""
for a in "$@"; do case "$a" in --array=*) array="${a#--array=}";; --wrap=*) wrap="${a#--wrap=}";; esac; done
echo "$*" >> "$(dirname "$0")/calls"
if [ -n "$array" ]; then
  for i in $(seq "${array%-*}" "${array#*-}"); do SLURM_ARRAY_TASK_ID=$i sh -c "$wrap" 1>&2 || exit 1; done
  echo "4242;cluster"
else
  sh -c "$wrap" 1>&2 || exit 1
  echo 4243
fi
"#;
    std::fs::write(bin.join("sbatch"), fake).unwrap();
    run_ok(Command::new("chmod").arg("+x").arg(bin.join("sbatch")));
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let o = run_ok(Command::new("bash").arg(&script).env("PATH", path));
    assert!(String::from_utf8_lossy(&o.stdout).contains("array job 4242"), "{}", String::from_utf8_lossy(&o.stdout));
    let calls = std::fs::read_to_string(bin.join("calls")).unwrap();
    assert!(calls.contains("--dependency=afterok:4242 "), "{calls}");
    assert_same_report(&full, &out);
    // Nothing is overwritten.
    let o = floral()
        .arg("submit")
        .arg(&f)
        .arg("--shards")
        .arg("3")
        .arg("--slurm")
        .arg("--dir")
        .arg(&scripts)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("never overwrites"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&script).unwrap(), text);
}

#[test]
fn htcondor_files_queue_one_job_per_shard_and_a_merge() {
    let d = scratch("condor");
    let f = d.join("sweep.ron");
    std::fs::write(&f, SWEEP).unwrap();
    run_ok(floral().arg("submit").arg(&f).arg("--shards").arg("4").arg("--htcondor").arg("--dir").arg(&d));
    let sub = std::fs::read_to_string(d.join("sweep.shards.sub")).unwrap();
    assert!(sub.contains("queue 4") && sub.contains("--shard $(Process)/4"), "{sub}");
    let merge = std::fs::read_to_string(d.join("sweep.merge.sub")).unwrap();
    assert!(merge.contains("arguments = \"merge "), "{merge}");
    let dag = std::fs::read_to_string(d.join("sweep.dag")).unwrap();
    assert!(dag.contains("PARENT shards CHILD merge"), "{dag}");
    let o = floral().arg("submit").arg(&f).arg("--shards").arg("0").arg("--htcondor").output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let o = floral().arg("submit").arg(&f).arg("--shards").arg("2").output().unwrap();
    assert_eq!(o.status.code(), Some(1), "a scheduler is required");
}

/// A convergence study of 2 seeds × 10 games, slow enough to be killed mid-run.
const SLOW_CONVERGENCE: &str = "Convergence(name: \"slowconv\", seeds: [1, 2], \
    data: Moons(n: 300, noise: 0.2, validation_fraction: 0.2, test_fraction: 0.25), \
    poison: RandomFlips(fraction: 0.1), kernel: Rbf(gamma: 1.0), c: 1.0, \
    eta: KernelBound([0.5, 4.0, 400.0]), attackers: [(1, 2), (3, 6)], rounds: 3000, tail: 10, \
    compare: (eta: [4.0], attacker: (3, 6), average_last: 10, schedules: [InverseSqrt], \
    solvers: [Extragradient(respond: true), Optimistic]))";

#[test]
fn a_killed_convergence_study_resumes_without_recomputing_finished_cells() {
    assert_a_killed_run_resumes("kill-convergence", SLOW_CONVERGENCE, 20, |n| n.starts_with('s'));
}

/// Start `floral run` on `text` (`total` cells, whose files pass `is_cell`), SIGKILL it as soon as
/// three cells are stored, run it again: the stored cells are taken from the store (same inode:
/// none is computed again), the rest computed, and the report equals a fresh run's.
fn assert_a_killed_run_resumes(name: &str, text: &str, total: usize, is_cell: fn(&str) -> bool) {
    let d = scratch(name);
    let f = d.join(format!("{name}.ron"));
    std::fs::write(&f, text).unwrap();
    let out = d.join("out");
    let stored = |s: &Path| cells_where(s, is_cell);
    let mut child = floral()
        .env("RAYON_NUM_THREADS", "1")
        .args(["run", f.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    let store = loop {
        let found = std::fs::read_dir(out.join("cells"))
            .ok()
            .and_then(|mut rd| rd.next())
            .map(|e| e.unwrap().path())
            .filter(|s| stored(s).len() >= 3);
        if let Some(s) = found {
            child.kill().unwrap();
            break s;
        }
        assert!(child.try_wait().unwrap().is_none(), "the run ended before it could be killed");
        assert!(start.elapsed().as_secs() < 300, "no cell stored after 300 s");
        std::thread::sleep(std::time::Duration::from_millis(2));
    };
    child.wait().unwrap();
    let before = stored(&store);
    assert!(before.len() >= 3 && before.len() < total, "killed mid-run: {} of {total} cells", before.len());
    assert!(!out.join("report.md").exists());
    let o = run_ok(floral().arg("run").arg(&f).arg("--out").arg(&out).arg("--keep-cells"));
    let e = stderr(&o);
    assert_eq!(count(&e, "already in the cell store"), before.len(), "{e}");
    assert_eq!(count(&e, ": done"), total - before.len(), "{e}");
    assert_eq!(count(&e, "damaged"), 0, "{e}");
    let after = stored(&store);
    assert_eq!(after.len(), total);
    for (cell, ino) in &before {
        assert_eq!(after[cell], *ino, "{cell} was rewritten");
    }
    let fresh = d.join("fresh");
    run_ok(floral().arg("run").arg(&f).arg("--out").arg(&fresh));
    assert_same_report(&fresh, &out);
}
