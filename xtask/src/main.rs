//! `cargo xtask`: this workspace's automation, in Rust instead of shell scripts (the xtask pattern).
//!
//! This file only parses flags and dispatches; each subcommand lives in its own module.
//! Keep the dependency list short: every crate here is compile time for every maintainer.

mod dist;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    about = "Release automation for this workspace"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build, verify and pack the release archives of the workspace's binaries (issue #2).
    ///
    /// Builds every target of `[workspace.metadata.dist]` that this host can build (with
    /// `--profile dist`), checks the linkage of every binary by reading it (musl static, gnu
    /// at or below the glibc floor, Windows without C runtime DLLs), packs reproducible
    /// archives, starts each binary once with `--version`, and writes into the out dir:
    /// `<package>-<target>.tar.gz` (`.zip` for Windows), `<archive>.sha256`, `SHA256SUMS`
    /// and `dist-manifest.json`. Missing rustup targets are added with rustup; zig and
    /// cargo-zigbuild, when missing, are installed with pip into `target/xtask-tools`.
    /// The out dir changes only when the whole run succeeds.
    Dist(DistFlags),
}

#[derive(clap::Args)]
struct DistFlags {
    /// Build only this target triple (repeatable). Fails, naming the missing tool, when this
    /// host cannot build it. Default: every target of the matrix this host can build; the
    /// others are listed with the runner that builds them.
    #[arg(long = "target", value_name = "TRIPLE")]
    targets: Vec<String>,
    /// Where the archives, checksums and manifest go [default: dist/ in the workspace root].
    /// A run replaces the files the previous run wrote there and leaves any other file alone.
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
    /// Print dist-manifest.json on stdout instead of the plan and summary tables (the step
    /// lines still go to stderr).
    #[arg(long)]
    json: bool,
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Dist(flags) => dist::run(dist::Options {
            targets: flags.targets,
            out_dir: flags.out_dir,
            json: flags.json,
        }),
    };
    if let Err(err) = result {
        // One line: the error and its context chain joined by ": " (issue #2, bad input).
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}
