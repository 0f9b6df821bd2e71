//! The command line: exit codes and error messages for bad input.

use std::path::{Path, PathBuf};
use std::process::Command;

fn floral() -> Command {
    Command::new(env!("CARGO_BIN_EXE_floral"))
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("floral-cli-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

const GOOD: &str = r#"Experiment(
    name: "tiny",
    seeds: [1],
    data: Moons(n: 60, noise: 0.1, validation_fraction: 0.2, test_fraction: 0.3),
    poison: [Clean],
    kernel: Rbf(gamma: 1.0),
    methods: [
        Floral((name: "floral", learner: (c: 1.0, eta: 0.05), attacker: RandomTopK((k: 2, pool: Some(4))), rounds: 5)),
        Svm(name: "svm", c: 1.0),
    ],
)
"#;

/// Write `text` as an experiment file and run `floral check` on it: (exit code, stderr).
fn check_text(name: &str, text: &str) -> (i32, String) {
    let d = scratch(name);
    let f = d.join("e.ron");
    std::fs::write(&f, text).unwrap();
    let o = floral().arg("check").arg(&f).output().unwrap();
    (o.status.code().unwrap(), String::from_utf8_lossy(&o.stderr).into_owned())
}

#[test]
fn good_file_checks() {
    let (code, err) = check_text("good", GOOD);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn typo_in_field_names_file_line_and_field() {
    let (code, err) = check_text("typo", &GOOD.replace("seeds:", "sedes:"));
    assert_eq!(code, 1);
    assert!(err.contains("e.ron:3:"), "{err}");
    assert!(err.contains("sedes"), "{err}");
}

#[test]
fn wrong_type_names_line() {
    let (code, err) = check_text("type", &GOOD.replace("rounds: 5", "rounds: \"five\""));
    assert_eq!(code, 1);
    assert!(err.contains("e.ron:8:") && err.contains("Expected integer"), "{err}");
}

#[test]
fn k_above_pool_is_rejected() {
    let (code, err) = check_text("kpool", &GOOD.replace("k: 2, pool: Some(4)", "k: 5, pool: Some(4)"));
    assert_eq!(code, 1);
    assert!(err.contains("methods[0].attacker.pool") && err.contains(">= k") && err.contains("4 (k = 5)"), "{err}");
}

#[test]
fn a_projector_parameter_is_checked_once_by_the_projector_and_named_by_its_field() {
    let bad =
        GOOD.replace("rounds: 5)", "rounds: 5, projector: FixedPoint(tol: -1.0, max_iter: 10, finish_exact: false))");
    assert_ne!(bad, GOOD);
    let (code, err) = check_text("projtol", &bad);
    assert_eq!(code, 1);
    assert!(
        err.contains("methods[0].projector.tol") && err.contains("a finite number >= 0") && err.contains("-1"),
        "{err}"
    );
    let (code, err) = check_text("projiter", &bad.replace("tol: -1.0, max_iter: 10", "tol: 1e-9, max_iter: 0"));
    assert_eq!(code, 1);
    assert!(err.contains("methods[0].projector.max_iter") && err.contains(">= 1"), "{err}");
}

#[test]
fn pool_above_n_is_rejected() {
    let (code, err) = check_text("pooln", &GOOD.replace("pool: Some(4)", "pool: Some(1000)"));
    assert_eq!(code, 1);
    assert!(err.contains("methods[0].attacker.pool") && err.contains("training points"), "{err}");
}

#[test]
fn non_positive_c_is_rejected() {
    let (code, err) = check_text("c", &GOOD.replace("c: 1.0, eta", "c: 0.0, eta"));
    assert_eq!(code, 1);
    assert!(err.contains("methods[0].learner.c") && err.contains("> 0"), "{err}");
    let (code, err) = check_text("csvm", &GOOD.replace("Svm(name: \"svm\", c: 1.0)", "Svm(name: \"svm\", c: -1.0)"));
    assert_eq!(code, 1);
    assert!(err.contains("methods[1].c"), "{err}");
}

#[test]
fn missing_data_file_is_named() {
    let text = GOOD.replace(
        "Moons(n: 60, noise: 0.1, validation_fraction: 0.2, test_fraction: 0.3)",
        "Files(train: \"/nonexistent/train.libsvm\", test: \"/nonexistent/test.libsvm\")",
    );
    let (code, err) = check_text("missing", &text);
    assert_eq!(code, 1);
    assert!(err.contains("/nonexistent/train.libsvm"), "{err}");
}

#[test]
fn huge_generated_data_is_rejected_before_allocating() {
    let (code, err) = check_text("huge", &GOOD.replace("Moons(n: 60,", "Moons(n: 1000000000000,"));
    assert_eq!(code, 1, "{err}");
    // Refused by the memory estimate, before any point is generated: the message names the
    // field, the estimate and the machine's available memory.
    assert!(
        err.contains("field `data`") && err.contains("available memory") && err.contains("kernel matrices alone"),
        "{err}"
    );
}

#[test]
fn tuning_without_a_validation_split_is_rejected() {
    let text = GOOD
        .replace("validation_fraction: 0.2", "validation_fraction: 0.0")
        .replace("Svm(name: \"svm\", c: 1.0)", "Svm(name: \"svm\", c: 1.0, c_grid: [0.1, 1.0])");
    let (code, err) = check_text("noval", &text);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("methods[1].c_grid") && err.contains("validation"), "{err}");
}

#[test]
fn unwritable_output_directory_exits_1() {
    let d = scratch("unwritable");
    let f = d.join("e.ron");
    std::fs::write(&f, GOOD).unwrap();
    let blocker = d.join("file");
    std::fs::write(&blocker, "not a directory").unwrap();
    let o = floral().arg("run").arg(&f).arg("--out").arg(blocker.join("out")).output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("file/out"));
}

#[test]
fn missing_experiment_file_exits_1() {
    let o = floral().args(["check", "/nonexistent/x.ron"]).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/x.ron"));
}

#[test]
fn failed_run_leaves_existing_report_intact() {
    let d = scratch("intact");
    let out = d.join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("report.md"), "previous report\n").unwrap();
    let f = d.join("bad.ron");
    std::fs::write(&f, GOOD.replace("c: 1.0, eta", "c: 0.0, eta")).unwrap();
    let o = floral().arg("run").arg(&f).arg("--out").arg(&out).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(std::fs::read_to_string(out.join("report.md")).unwrap(), "previous report\n");
}

#[test]
fn run_writes_report_json_and_plots() {
    let d = scratch("run");
    let f = d.join("e.ron");
    std::fs::write(&f, GOOD).unwrap();
    let out = d.join("out");
    let o = floral().arg("run").arg(&f).arg("--out").arg(&out).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("floral (last)") && md.contains("svm"), "{md}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    let summary = json["summary"].as_array().unwrap();
    assert!(summary.iter().any(|r| r["method"] == "svm" && r["n_seeds"] == 1));
    for r in summary {
        let acc = r["test_accuracy_mean"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&acc));
        assert!(r["test_accuracy_std"].as_f64().is_some() && r["poison"].is_string());
    }
    assert!(Path::new(&out.join("accuracy_clean.svg")).exists());
}

/// Names that collide (also in their file-name form) are refused by `check`.
#[test]
fn colliding_names_are_refused_by_check() {
    let (code, err) = check_text("dup-poison", &GOOD.replace("poison: [Clean]", "poison: [Clean, Clean]"));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("field `poison[1]`") && err.contains("distinct from poison[0]"), "{err}");
    let (code, err) = check_text("dup-name", &GOOD.replace("Svm(name: \"svm\"", "Svm(name: \"Floral\""));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("methods[1].name") && err.contains("`floral`"), "{err}");
    let (code, err) = check_text("paren-name", &GOOD.replace("name: \"floral\"", "name: \"floral (last)\""));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("methods[0].name") && err.contains("parentheses"), "{err}");
}

/// Averaging more rounds than are played, or an unbounded round count, is refused.
#[test]
fn average_last_and_rounds_are_bounded() {
    let (code, err) = check_text("avg", &GOOD.replace("rounds: 5))", "rounds: 5, average_last: 500))"));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("methods[0].average_last") && err.contains("1..=rounds (5)") && err.contains("500"), "{err}");
    let (code, err) = check_text("rounds", &GOOD.replace("rounds: 5))", "rounds: 1000000000))"));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("methods[0].rounds") && err.contains("1..=10000000"), "{err}");
    // The default (50) shrinks to the rounds played: the 5-round file checks.
    assert_eq!(check_text("avg-default", GOOD).0, 0);
}

/// A step above the stability bound 2/λ_max(K) is warned about on the terminal and
/// in the report; runs whose stderr is not a terminal print one line per finished run.
#[test]
fn step_above_the_bound_warns_and_progress_lines_are_printed() {
    let d = scratch("eta-warn");
    let f = d.join("e.ron");
    std::fs::write(&f, GOOD.replace("eta: 0.05", "eta: 5.0")).unwrap();
    let out = d.join("out");
    let o = floral().arg("run").arg(&f).arg("--out").arg(&out).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("warning: method `floral`: step η = 5 exceeds the stability bound"), "{err}");
    assert!(err.contains("[1/2] ") && err.contains("[2/2] ") && err.contains("/ clean / seed 1: done"), "{err}");
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("Warning: method `floral`: step η = 5 exceeds"), "{md}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    let lmax = json["step_bounds"][0]["lambda_max"].as_f64().unwrap();
    assert!(lmax > 0.0 && 5.0 > 2.0 / lmax);
    // Provenance: the spec and the version travel with the numbers.
    assert!(json["spec"].as_str().unwrap().contains("name: \"tiny\""));
    assert_eq!(json["floral_version"], env!("CARGO_PKG_VERSION"));
    // …and provenance.json names the build (commit) and the content hash.
    let prov: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("provenance.json")).unwrap()).unwrap();
    assert_eq!(prov["content_hash"], json["hash"], "{prov}");
    // The provenance crate's build script reruns when HEAD moves, so the binary under test was
    // built from today's HEAD ("unknown" outside a git checkout).
    let head = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success());
    let want = head.map_or_else(|| "unknown".to_string(), |o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    assert_eq!(prov["built_from_commit"], want.as_str(), "{prov}");
    assert_eq!(prov["built_from_commit"], floral_provenance::BUILT_FROM_COMMIT);
    assert_eq!(prov["kind"], "Experiment");
}

/// Messages say each thing once, a byte-order mark is not a parse error, and label
/// problems read as sentences that name what is expected.
#[test]
fn messages_are_clear_and_said_once() {
    let o = floral().arg("check").arg("/nonexistent-dir/e.ron").output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
    let d = scratch("bom");
    let f = d.join("e.ron");
    std::fs::write(&f, format!("\u{feff}{GOOD}")).unwrap();
    let o = floral().arg("check").arg(&f).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let csv = d.join("l12.csv");
    std::fs::write(&csv, "label,a,b\n1,0.1,0.2\n2,0.3,0.1\n").unwrap();
    let o = floral().args(["svm", "train", "--gamma", "1", "--c", "1", "--train"]).arg(&csv).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("l12.csv:3: label 2 is not allowed: expected a binary labelling") && err.contains("{1, 2}"),
        "{err}"
    );
    let csv = d.join("l15.csv");
    std::fs::write(&csv, "label,a,b\n1,0.1,0.2\n1.5,0.3,0.1\n").unwrap();
    let o = floral().args(["svm", "train", "--gamma", "1", "--c", "1", "--train"]).arg(&csv).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("label 1.5 is not allowed: expected an integer"), "{err}");
}

/// Splits with different feature counts are an error unless the files are LIBSVM
/// (omitted trailing zeros) or the user opts in to padding.
#[test]
fn feature_dimension_mismatch_between_splits() {
    let d = scratch("dims");
    let rows = |dim: usize, n: usize| {
        let mut s = String::from("label");
        for j in 0..dim {
            s.push_str(&format!(",f{j}"));
        }
        s.push('\n');
        for i in 0..n {
            s.push_str(if i % 2 == 0 { "1" } else { "-1" });
            for j in 0..dim {
                s.push_str(&format!(",{}", (i * 3 + j) as f64 / 10.0 * if i % 2 == 0 { 1.0 } else { -1.0 }));
            }
            s.push('\n');
        }
        s
    };
    std::fs::write(d.join("train.csv"), rows(2, 20)).unwrap();
    std::fs::write(d.join("test.csv"), rows(3, 10)).unwrap();
    let text = |pad: &str| {
        GOOD.replace(
            "Moons(n: 60, noise: 0.1, validation_fraction: 0.2, test_fraction: 0.3)",
            &format!("Files(train: \"train.csv\", test: \"test.csv\"{pad})"),
        )
        .replace("methods: [\n        Floral((name: \"floral\", learner: (c: 1.0, eta: 0.05), attacker: RandomTopK((k: 2, pool: Some(4))), rounds: 5)),\n", "methods: [\n")
    };
    std::fs::write(d.join("e.ron"), text("")).unwrap();
    let o = floral().arg("check").arg(d.join("e.ron")).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("train.csv has 2 features but") && err.contains("test.csv has 3") && err.contains("pad_features"),
        "{err}"
    );
    std::fs::write(d.join("e.ron"), text(", pad_features: true")).unwrap();
    let o = floral().arg("check").arg(d.join("e.ron")).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    // LIBSVM files: the narrower one omits trailing zeros, which is legitimate.
    std::fs::write(d.join("a.libsvm"), "+1 1:1 2:0.5\n-1 1:-1\n+1 2:1\n-1 1:-0.5\n").unwrap();
    std::fs::write(d.join("b.libsvm"), "+1 1:1 3:0.5\n-1 1:-1\n").unwrap();
    let o = floral()
        .args(["svm", "train", "--gamma", "1", "--c", "1", "--train"])
        .arg(d.join("a.libsvm"))
        .arg("--test")
        .arg(d.join("b.libsvm"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let o = floral()
        .args(["svm", "train", "--gamma", "1", "--c", "1", "--train"])
        .arg(d.join("train.csv"))
        .arg("--test")
        .arg(d.join("test.csv"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
}

/// `svm train --model-out` writes LIBSVM's model format and `svm predict` reads it:
/// on the Moon file, floral's predictions equal `svm-predict`'s (LIBSVM 3.24, recorded in
/// tests/fixtures/libsvm_model) on floral's model and on a model written by `svm-train`.
#[test]
fn models_round_trip_through_libsvm() {
    let fx = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/libsvm_model");
    let d = scratch("model");
    let model = d.join("floral.model");
    let o = floral()
        .args([
            "svm",
            "train",
            "--train",
            "moon_floral_seed42:train_adv_10",
            "--gamma",
            "0.5",
            "--c",
            "10",
            "--model-out",
        ])
        .arg(&model)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.contains("training accuracy: 87.8000 %"), "{out}");
    assert_eq!(std::fs::read_to_string(&model).unwrap(), std::fs::read_to_string(fx.join("floral.model")).unwrap());
    // svm-predict writes labels as `1` / `-1`.
    let labels = |p: &Path| -> Vec<i32> {
        std::fs::read_to_string(p).unwrap().lines().map(|l| l.trim().parse().unwrap()).collect()
    };
    for (m, want) in [("floral.model", "floral_model.svm-predict"), ("svm-train.model", "svm-train_model.svm-predict")]
    {
        let pred = d.join(format!("{m}.pred"));
        let o = floral()
            .args(["svm", "predict", "--test", "moon_floral_seed42:test", "--model"])
            .arg(fx.join(m))
            .arg("--out")
            .arg(&pred)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
        assert!(stdout.contains("(921/1000)"), "{stdout}");
        let (got, exp) = (labels(&pred), labels(&fx.join(want)));
        assert_eq!(got.len(), 1000);
        assert!(got == exp, "{m}: predictions differ from svm-predict's");
    }
    // A malformed model file names the file and line.
    let bad = d.join("bad.model");
    std::fs::write(&bad, "svm_type nu_svc\n").unwrap();
    let o =
        floral().args(["svm", "predict", "--test", "moon_floral_seed42:test", "--model"]).arg(&bad).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("bad.model:1: expected svm_type c_svc"), "{err}");
}

/// `--quiet` silences the per-run progress lines (warnings still print).
#[test]
fn quiet_silences_progress() {
    let d = scratch("quiet");
    let f = d.join("e.ron");
    std::fs::write(&f, GOOD).unwrap();
    let o = floral().arg("run").arg(&f).arg("--quiet").arg("--out").arg(d.join("out")).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(!err.contains("done"), "{err}");
    let o = floral().arg("run").arg(&f).arg("--out").arg(d.join("out2")).output().unwrap();
    assert!(String::from_utf8_lossy(&o.stderr).contains("[2/2]"));
}

/// A little-endian float64 `.npy` (C order) of the given shape, written by hand.
fn npy_f64(shape: &[usize], values: &[f64]) -> Vec<u8> {
    let dims = if shape.len() == 1 { format!("({},)", shape[0]) } else { format!("({}, {})", shape[0], shape[1]) };
    let mut header = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {dims}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in values {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// Embeddings from `.npy` files run end to end from RON; a wrong shape is exit 1
/// naming the file.
#[test]
fn embeddings_from_npy_files_run_and_bad_shapes_are_refused() {
    let d = scratch("npy");
    let (n, dim) = (40usize, 3usize);
    let x: Vec<f64> =
        (0..n * dim).map(|k| ((k * 7) % 11) as f64 / 5.0 + if (k / dim) % 2 == 0 { 2.0 } else { -2.0 }).collect();
    let y: Vec<f64> = (0..n).map(|i| if i % 2 == 0 { 1.0 } else { -1.0 }).collect();
    std::fs::write(d.join("x.npy"), npy_f64(&[n, dim], &x)).unwrap();
    std::fs::write(d.join("y.npy"), npy_f64(&[n], &y)).unwrap();
    let text = GOOD.replace(
        "Moons(n: 60, noise: 0.1, validation_fraction: 0.2, test_fraction: 0.3)",
        "Embeddings(train: \"x.npy\", train_labels: Some(\"y.npy\"), test: \"x.npy\", test_labels: Some(\"y.npy\"), validation_fraction: 0.25)",
    );
    std::fs::write(d.join("e.ron"), &text).unwrap();
    let o = floral().arg("run").arg(d.join("e.ron")).arg("--quiet").arg("--out").arg(d.join("out")).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("out/results.json")).unwrap()).unwrap();
    assert_eq!(json["data_files"].as_array().unwrap().len(), 4);
    // A 1-D array where features belong.
    std::fs::write(d.join("x.npy"), npy_f64(&[n], &y)).unwrap();
    let o = floral().arg("check").arg(d.join("e.ron")).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("x.npy"), "{err}");
}

/// An allocation that fails during a run (here the training Gram matrix, under a
/// virtual-memory cap that `check` does not see: it compares with the machine's available
/// memory) ends with exit 2 and a one-line message naming the size, never a panic dump, and
/// writes no report.
#[cfg(target_os = "linux")]
#[test]
fn an_allocation_failure_during_a_run_is_exit_2_with_one_line() {
    let d = scratch("oom");
    let f = d.join("big.ron");
    // 12,000 points: 9,600 training points, a 737 MB Gram matrix, above the 600 MB cap.
    std::fs::write(
        &f,
        r#"Experiment(name: "big", seeds: [1],
    data: Moons(n: 12000, noise: 0.1, validation_fraction: 0.1, test_fraction: 0.1),
    poison: [Clean], kernel: Rbf(gamma: 1.0), methods: [Svm(name: "svm", c: 1.0)], decision_plots: false)"#,
    )
    .unwrap();
    let out = d.join("out");
    let o = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 600000 && exec \"$0\" run \"$1\" --out \"$2\" --quiet")
        .arg(env!("CARGO_BIN_EXE_floral"))
        .arg(&f)
        .arg(&out)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.starts_with("error: internal failure: out of memory"), "{err}");
    // The Gram matrix: 9,600² doubles (737 MB) plus faer's column padding.
    let mb: u64 = err.split("could not allocate ").nth(1).and_then(|r| r.split(' ').next()).unwrap().parse().unwrap();
    assert!((737..=760).contains(&mb), "{err}");
    assert!(!err.contains("panicked") && !err.contains("RUST_BACKTRACE"), "{err}");
    assert!(!out.join("report.md").exists());
}

/// Write `files` (name, contents) and an experiment beside them, run `floral check`: (exit code,
/// stderr).
fn check_with_files(name: &str, text: &str, files: &[(&str, &str)]) -> (i32, String) {
    let d = scratch(name);
    for (f, body) in files {
        std::fs::write(d.join(f), body).unwrap();
    }
    let f = d.join("e.ron");
    std::fs::write(&f, text).unwrap();
    let o = floral().arg("check").arg(&f).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!err.contains("panicked"), "{err}");
    (o.status.code().unwrap(), err)
}

const TWO_CLASSES: &str = "label,x0,x1\n1,0,0\n-1,1,0\n1,0,1\n-1,1,1\n1,2,2\n-1,3,3\n";
const ONE_CLASS: &str = "label,x0,x1\n1,0,0\n1,1,0\n1,0,1\n1,1,1\n1,2,2\n1,3,3\n";

#[test]
fn unknown_attack_and_defence_names_are_refused() {
    let text = GOOD.replace("poison: [Clean]", "poison: [Attack(fraction: 0.1, attack: Nonsense)]");
    let (code, err) = check_text("unknown-attack", &text);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("Nonsense") && err.contains("OfflineAttack") && err.contains("Lfa"), "{err}");
    let text = GOOD.replace("Svm(name: \"svm\", c: 1.0)", "Baseline((name: \"x\", defence: Bogus((c: 1.0))))");
    let (code, err) = check_text("unknown-defence", &text);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("Bogus") && err.contains("DefenceSpec") && err.contains("KLid"), "{err}");
}

#[test]
fn budgets_above_n_are_refused() {
    for (i, level) in ["Attack(fraction: 1.0, attack: Random)", "RandomFlips(fraction: 1.5)"].iter().enumerate() {
        let text = GOOD.replace("poison: [Clean]", &format!("poison: [Clean, {level}]"));
        let (code, err) = check_text(&format!("budget{i}"), &text);
        assert_eq!(code, 1, "{err}");
        assert!(err.contains("poison[1].fraction") && err.contains("[0, 1)"), "{err}");
    }
    // The in-game attacker's k above the training points.
    let (code, err) = check_text("k-above-n", &GOOD.replace("k: 2, pool: Some(4)", "k: 500, pool: Some(600)"));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("methods[0].attacker.pool") && err.contains("training points"), "{err}");
}

#[test]
fn one_class_data_and_one_class_trusted_sets_are_refused() {
    let exp = |train: &str, validation: &str, method: &str| {
        format!(
            "Experiment(name: \"x\", seeds: [1], data: Files(train: \"{train}\", validation: {validation}, test: \"two.csv\"), poison: [Clean], kernel: Rbf(gamma: 1.0), methods: [{method}])"
        )
    };
    let files = [("one.csv", ONE_CLASS), ("two.csv", TWO_CLASSES)];
    let (code, err) = check_with_files("one-class-train", &exp("one.csv", "None", "Svm(name: \"s\", c: 1.0)"), &files);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("one.csv") && err.contains("single class"), "{err}");
    let trusted = "Baseline((name: \"t\", defence: TrustedSvm((c: 1.0, pool: Trusted))))";
    let (code, err) = check_with_files("one-class-trusted", &exp("two.csv", "Some(\"one.csv\")", trusted), &files);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("one.csv") && err.contains("single class"), "{err}");
}

#[test]
fn sheets_with_resplit_and_gamma_grids_without_rbf_are_refused() {
    let text = r#"Experiment(name: "x", seeds: [1], data: Shipped(name: "moon_floral_seed42", resplit: true),
        poison: [Clean, Sheet("train_adv_10")], kernel: Rbf(gamma: 0.5), methods: [Svm(name: "s", c: 1.0)])"#;
    let (code, err) = check_text("sheet-resplit", text);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("poison[1]") && err.contains("resplit") && err.contains("train_adv_10"), "{err}");
    let text = GOOD
        .replace("kernel: Rbf(gamma: 1.0)", "kernel: Linear")
        .replace("Svm(name: \"svm\", c: 1.0)", "Svm(name: \"svm\", c: 1.0, gamma_grid: [0.5, 1.0])");
    let (code, err) = check_text("gamma-linear", &text);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("methods[1].gamma_grid") && err.contains("Rbf"), "{err}");
}

#[test]
fn trusted_size_study_refuses_bad_sizes() {
    let study = |sizes: &str, validation: &str| {
        format!(
            "TrustedSize(name: \"ts\", seeds: [1], data: Files(train: \"two.csv\", validation: {validation}, test: \"two.csv\"), poison: [Clean], kernel: Rbf(gamma: 1.0), methods: [Svm(name: \"s\", c: 1.0)], sizes: {sizes})"
        )
    };
    // Eleven validation points, one negative: a stratified subset of 2 keeps no negative.
    let skewed = "label,x0,x1\n1,0,0\n1,1,0\n1,0,1\n1,1,1\n1,2,2\n1,3,3\n1,4,4\n1,5,5\n1,6,6\n1,7,7\n-1,8,8\n";
    let files = [("two.csv", TWO_CLASSES), ("skewed.csv", skewed)];
    let (code, err) = check_with_files("ts-above", &study("[6, 50]", "Some(\"skewed.csv\")"), &files);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("sizes[1]") && err.contains("11 points"), "{err}");
    let (code, err) = check_with_files("ts-one-class", &study("[2, 11]", "Some(\"skewed.csv\")"), &files);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("sizes[0]") && err.contains("both classes"), "{err}");
    let (code, err) = check_with_files("ts-order", &study("[8, 4]", "Some(\"skewed.csv\")"), &files);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("sizes[1]"), "{err}");
    let (code, err) = check_with_files("ts-noval", &study("[4]", "None"), &files);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("field `data`") && err.contains("validation split"), "{err}");
    let (code, err) = check_with_files("ts-ok", &study("[6, 11]", "Some(\"skewed.csv\")"), &files);
    assert_eq!(code, 0, "{err}");
}
