//! The `linkaudit` command: see the crate's README for the CLI, the JSON schema and the exit codes.

mod cli;

// musl's malloc made the static build markedly slower than the gnu build on `scan` (README,
// Speed); the `mimalloc` feature (default) swaps it out on musl targets only.
#[cfg(all(target_env = "musl", feature = "mimalloc"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(cli::run());
}
