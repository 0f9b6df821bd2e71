//! The git commit the running binary was built from, handed in by the binary at start.
//!
//! The commit is not compiled into this crate: a build script recording it would rerun on every
//! commit and rebuild this crate and everything above it. The `floral` binary depends on the
//! leaf crate `floral-provenance` instead and calls [`set_built_from_commit`] before anything
//! else; `provenance.json` then names that commit.

use std::sync::OnceLock;

static BUILT_FROM_COMMIT: OnceLock<&'static str> = OnceLock::new();

/// Record the git commit the running binary was built from, for every report's
/// `provenance.json`. The first call wins; later calls change nothing.
pub fn set_built_from_commit(commit: &'static str) {
    let _ = BUILT_FROM_COMMIT.set(commit);
}

/// The commit given to [`set_built_from_commit`], or "unknown" when it was never called (a
/// library user, or a binary other than `floral`).
pub fn built_from_commit() -> &'static str {
    BUILT_FROM_COMMIT.get().copied().unwrap_or("unknown")
}
