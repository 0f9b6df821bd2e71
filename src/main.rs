//! The `floral` command.

fn main() -> std::process::ExitCode {
    floral_cli::main()
}
