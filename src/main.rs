//! The `floral` command.

fn main() -> std::process::ExitCode {
    // The commit comes from a leaf crate only this package depends on: a new commit rebuilds
    // that crate and this binary, not the libraries.
    floral_experiment::set_built_from_commit(floral_provenance::BUILT_FROM_COMMIT);
    floral_cli::main()
}
