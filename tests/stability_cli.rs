//! `floral stability`: text output, and exit code 1 with a message naming the flag or file:line
//! for bad input.

use std::path::PathBuf;
use std::process::Command;

fn floral() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_floral"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("floral-stability-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Write a λ file for the breast-cancer training set (n = 398) and run `floral stability
/// --at FILE` on it: (exit code, stdout, stderr).
fn with_point(name: &str, text: &str) -> (i32, String, String) {
    let f = scratch(name).join("lambda.txt");
    std::fs::write(&f, text).unwrap();
    stability(&[
        "--train",
        "breast_cancer:train",
        "--gamma",
        "0.03",
        "--c",
        "1",
        "--eta",
        "0.01",
        "--at",
        f.to_str().unwrap(),
    ])
}

fn stability(args: &[&str]) -> (i32, String, String) {
    let o = floral().arg("stability").args(args).output().unwrap();
    (
        o.status.code().unwrap(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn text_output_names_every_quantity() {
    let (code, out, err) =
        stability(&["--train", "moon_floral_seed42:train", "--gamma", "0.5", "--c", "10", "--eta", "1e-4"]);
    assert_eq!(code, 0, "{err}");
    for key in [
        "λ_max(K) = 1.7312381",
        "2/λ_max(K) = 1.1552425",
        "free set |F| = 7",
        "μ_max(P Q̃_FF P) = 1.6611878",
        "spectral radius",
        "verdict: stable",
        "SMO converged",
    ] {
        assert!(out.contains(key), "missing `{key}` in\n{out}");
    }
}

#[test]
fn a_good_point_file_is_accepted() {
    let text = format!("# a comment\n\n{}", "0.5\n".repeat(398));
    let (code, out, err) = with_point("good", &text);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("verdict:"), "{out}");
}

#[test]
fn a_non_number_names_file_and_line() {
    let (code, _, err) = with_point("nan", &format!("0.1\n0.2\nabc\n{}", "0.5\n".repeat(395)));
    assert_eq!(code, 1);
    assert!(err.contains("lambda.txt:3:") && err.contains("`abc` is not a number"), "{err}");
}

#[test]
fn a_non_finite_value_names_file_and_line() {
    let (code, _, err) = with_point("inf", &format!("0.1\n\ninf\n{}", "0.5\n".repeat(395)));
    assert_eq!(code, 1);
    assert!(err.contains("lambda.txt:3:") && err.contains("finite"), "{err}");
}

#[test]
fn a_wrong_count_is_rejected() {
    let (code, _, err) = with_point("short", &"0.5\n".repeat(397));
    assert_eq!(code, 1);
    assert!(err.contains("lambda.txt") && err.contains("expected n = 398") && err.contains("found 397"), "{err}");
    let (code, _, err) = with_point("long", &"0.5\n".repeat(399));
    assert_eq!(code, 1);
    assert!(err.contains("lambda.txt:399:") && err.contains("more than n = 398"), "{err}");
}

#[test]
fn a_missing_point_file_is_an_input_error() {
    let (code, _, err) =
        stability(&["--train", "breast_cancer:train", "--eta", "0.1", "--at", "/nonexistent/lambda.txt"]);
    assert_eq!(code, 1);
    assert!(err.contains("--at") && err.contains("/nonexistent/lambda.txt"), "{err}");
}

#[test]
fn bad_flags_are_named() {
    let (code, _, err) = stability(&["--train", "breast_cancer:train", "--eta", "0"]);
    assert_eq!(code, 1);
    assert!(err.contains("--eta") && err.contains("> 0"), "{err}");
    let (code, _, err) = stability(&["--train", "breast_cancer:train", "--eta", "0.1", "--c", "-1"]);
    assert_eq!(code, 1);
    assert!(err.contains("--c"), "{err}");
    let (code, _, err) = stability(&["--train", "breast_cancer:train", "--eta", "0.1", "--tol", "2"]);
    assert_eq!(code, 1);
    assert!(err.contains("--tol") && err.contains("tol"), "{err}");
    let (code, _, err) = stability(&["--train", "no_such_file.csv", "--eta", "0.1"]);
    assert_eq!(code, 1);
    assert!(err.contains("no_such_file.csv"), "{err}");
}
