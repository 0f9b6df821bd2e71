//! floral-provenance: the git commit the `floral` binary is built from.
//!
//! Its build script reruns whenever HEAD moves, so this crate is kept a leaf with no
//! dependencies and only the binary's package depends on it: a new commit rebuilds this crate
//! and the binary, not the libraries. The binary hands the commit to
//! `floral_experiment::set_built_from_commit` at start, and every report's `provenance.json`
//! names it.

/// The git commit the binary was built from ("unknown" outside a git checkout; uncommitted
/// changes are not detected: the commit names the code's base, not its exact state).
pub const BUILT_FROM_COMMIT: &str = env!("FLORAL_GIT_COMMIT");
