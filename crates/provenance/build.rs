//! Records the git commit the binary is built from (`FLORAL_GIT_COMMIT`, "unknown" outside a
//! git checkout) for the provenance file every report carries. Uncommitted changes are not
//! detected: the commit names the code's base, not its exact state. It reruns when HEAD moves,
//! which rebuilds this leaf crate and the binary only.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string()).filter(|s| !s.is_empty())
}

fn main() {
    let commit = git(&["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=FLORAL_GIT_COMMIT={commit}");
    // Rerun when HEAD moves: HEAD itself (checkout) and the branch it points to (commit).
    if let Some(dir) = git(&["rev-parse", "--git-dir"]) {
        println!("cargo:rerun-if-changed={dir}/HEAD");
    }
    if let (Some(common), Some(branch)) =
        (git(&["rev-parse", "--git-common-dir"]), git(&["symbolic-ref", "-q", "HEAD"]))
    {
        println!("cargo:rerun-if-changed={common}/{branch}");
        println!("cargo:rerun-if-changed={common}/packed-refs");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
