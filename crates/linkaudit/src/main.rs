//! The `linkaudit` command: see the crate's README for the CLI, the JSON schema and the exit codes.

mod cli;

fn main() {
    std::process::exit(cli::run());
}
