//! `cargo xtask`: this workspace's automation, in Rust instead of shell scripts (the xtask pattern).
//!
//! This file only parses flags and dispatches; each subcommand lives in its own module.
//! Keep the dependency list short: every crate here is compile time for every maintainer.

mod bench;
mod gather;
mod pipeline;
mod plan;
mod release;
mod reproduce;
mod runners;
mod sign;
mod test;
mod workspace;

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
    /// Build, verify and pack the release archives of the workspace's binaries.
    ///
    /// Builds every target of `[workspace.metadata.dist]` that this host can build (with
    /// `--profile dist`), checks the linkage of every binary by reading it (musl static, gnu
    /// at or below the glibc floor, Windows without C runtime DLLs), packs reproducible
    /// archives, starts each binary once with `--version`, and writes into the out dir:
    /// `<package>-<target>.tar.gz` (`.zip` for Windows), `<archive>.sha256`, `SHA256SUMS`,
    /// `dist-manifest.json` and `install.sh` (the `curl | sh` installer of the GitHub release
    /// `v<version>` of the packages' `repository`; none without one). Missing rustup targets are added with rustup; zig and
    /// cargo-zigbuild, when missing, are installed with pip into `target/xtask-tools`.
    /// The out dir changes only when the whole run succeeds.
    Dist(DistFlags),
    /// Print the release workflow's plan as one line of JSON: version, tag, title, pre-release,
    /// build matrix with each target's runner, smoke jobs.
    ///
    /// `{"version":..,"tag":"v..","publish":..,"prerelease":..,"title":..,"pypi":..,
    /// "build":{"include":[{"target":..,"runner":..,"build":..,"started":..},..]},
    /// "smoke":{"include":[{"target":..,"runner":..}]},"any_smoke":..,"not_started":[..]}`.
    /// Runners come from the default table with `[workspace.metadata.dist.runners]` (keys: linux,
    /// windows, macos or a target triple) and `smoke-runners` (target triples) applied; a retired
    /// label is a warning, or an error with --tag. Nothing else goes to stdout; the workflow reads
    /// it with `fromJSON`, so the target list lives only in Cargo.toml.
    Plan(PlanFlags),
    /// Merge the parts built on separate runners into one verified release.
    ///
    /// Each PART is a directory written by `cargo xtask dist --target T --out-dir PART`. Checks
    /// every archive against its .sha256, the part's SHA256SUMS and manifest; refuses a target
    /// of `[workspace.metadata.dist]` that no part holds, a target in two parts, and parts of
    /// different commits. Then writes the archives, their .sha256, one SHA256SUMS, one
    /// dist-manifest.json (and install.sh, wheels when the parts have them) and checks the whole
    /// with linkaudit verify. The out dir changes only when everything passed.
    Gather(GatherFlags),
    /// Sign a release directory with the minisign key in MINISIGN_SECRET_KEY.
    ///
    /// Checks DIR with linkaudit verify, then writes SHA256SUMS.minisig and `<archive>.sig` for
    /// each .tar.gz and .zip (cargo-binstall's default), each with a trusted comment naming the
    /// file, package, version and commit. The key is the key file's contents (MINISIGN_PASSWORD
    /// too when it is encrypted), never a flag. `dist` and `gather` sign the same way when
    /// MINISIGN_SECRET_KEY is set; this is for the release workflow's publish job.
    Sign {
        /// The release directory [default: dist/ in the current directory].
        #[arg(value_name = "DIR", default_value = "dist")]
        dir: PathBuf,
        /// Without MINISIGN_SECRET_KEY, warn that the release stays unsigned and exit 0 instead
        /// of failing (the release workflow, in a repository that has no signing key yet).
        #[arg(long)]
        if_key: bool,
    },
    /// Rebuild a release from its source commit and compare it byte for byte.
    ///
    /// Reads DIR's dist-manifest.json, checks its commit out into a temporary git worktree of
    /// this clone, runs that commit's `cargo xtask dist` for the release's targets with the
    /// recorded rustc (`rustup run`, installing it when missing) and SOURCE_DATE_EPOCH, and
    /// prints per archive `identical`, or the first differing member and offset (and section of
    /// a binary). Targets this host cannot build are listed as not checked. Exit 0 when every
    /// rebuilt archive is identical, 1 otherwise.
    Reproduce {
        /// The release directory: dist/ or the downloaded release files.
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
    /// Publish a gathered release on GitHub in order, or rehearse the whole release here.
    ///
    /// `--dry-run [--tag vX]`: runs plan, `cargo xtask dist --target T --out-dir PART` for each
    /// target this host builds, `cargo xtask gather` and the notes into target/release-dry-run/,
    /// then prints the exact `gh release` commands and assets it would publish; publishes nothing.
    /// `--draft --tag vX`: creates the draft release with every file of --dist and the CHANGELOG
    /// notes (replacing a draft a failed run left). `--publish --tag vX`: publishes the draft
    /// (a pre-release with --prerelease, never Latest). Both need gh and GH_TOKEN.
    Release(ReleaseFlags),
    /// Print the release notes of a tag: its version's section of CHANGELOG.md.
    ///
    /// Keep a Changelog headings `## [1.2.0] - 2026-11-24` or `## 1.2.0`, the date optional.
    /// A missing section is an error saying what to add.
    ReleaseNotes {
        /// The release tag, v<version>.
        #[arg(value_name = "TAG")]
        tag: String,
    },
    /// Start every binary of built parts once with --version (the workflow's smoke jobs).
    ///
    /// Each PART is a directory written by `cargo xtask dist --target T --out-dir PART`; its
    /// archives are checked against the manifest's sha256, unpacked, and each binary started on
    /// this machine (foreign-arch Linux ones under qemu-user).
    Smoke {
        #[arg(value_name = "PART", required = true)]
        parts: Vec<PathBuf>,
    },
    /// Install what the tests need, then run `cargo test --workspace --locked`.
    ///
    /// On a fresh Debian machine with rustup, a C compiler and python3: installs the missing Debian
    /// packages (as root, or with `sudo -n`), rustup targets and pinned pip tools, fetches the
    /// pinned third-party binaries, then runs the tests with ARGS appended. When a package cannot
    /// be installed, says in one line which and how.
    Test(TestFlags),
    /// Time the release path against what maintainers use today; write BENCHMARKS.md.
    ///
    /// Sections (default: all): pack (dist's archive + checksum stage vs tar | gzip -6 +
    /// sha256sum), build (one cargo invocation vs one per target, cold and warm; warm
    /// `cargo xtask dist` vs cargo), scan (linkaudit vs scanelf, musl vs gnu), startup
    /// (`--version`, static vs dynamic), size (dist vs release profile), xtask (its cold compile
    /// and dependency count), peer (only when named: against cargo-dist, from PyPI, on fd-find
    /// from crates.io with jemalloc, cold; each round takes 10-20 minutes on 2 cores), cc (one C
    /// compiler call: gcc, musl-gcc, zig cc directly and through cargo-zigbuild). Needs
    /// hyperfine and scanelf (apt-get install hyperfine pax-utils).
    /// A full run took 8-13 minutes on 2 cores, mostly cold builds; `--quick` runs each command fewer
    /// times. Sections not run keep their previous text in BENCHMARKS.md.
    Bench(BenchFlags),
    /// Internal to `cargo xtask bench pack`: dist's pack + checksum stage on staged directories.
    #[command(hide = true)]
    BenchPack(BenchPackFlags),
}

#[derive(clap::Args)]
struct BenchFlags {
    /// The sections to run, in any order [default: all].
    #[arg(value_enum, value_name = "SECTION")]
    sections: Vec<bench::Section>,
    /// Fewer runs of each command (one cold build instead of two, ...): rougher figures, sooner.
    #[arg(long)]
    quick: bool,
    /// Rounds of the peer section [default: 3, 1 with --quick].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    runs: Option<u32>,
    /// peer: also time our side with jemalloc's whole make (`XTASK_JEMALLOC_PIC_ONLY=0`), what a
    /// crate without jemalloc gets, and gnu with zig cc instead of gcc (`XTASK_GNU_GCC=0`); three
    /// more cold builds per round.
    #[arg(long)]
    before: bool,
    /// Where the results go [default: BENCHMARKS.md in the workspace root].
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(clap::Args)]
struct BenchPackFlags {
    /// The directory the archives, their .sha256 and SHA256SUMS go to.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// The archive entries' time (SOURCE_DATE_EPOCH).
    #[arg(long)]
    epoch: u64,
    /// Top directories `<package>-<target>/` to pack, one archive each.
    #[arg(value_name = "DIR", required = true)]
    dirs: Vec<PathBuf>,
}

#[derive(clap::Args)]
struct PlanFlags {
    /// The tag being released (v<version> of every shipped package); checks it, the CHANGELOG
    /// section and the runner labels. Empty or absent: a dry run.
    #[arg(long, value_name = "TAG")]
    tag: Option<String>,
    /// Also append `plan=<json>` to FILE (the workflow passes $GITHUB_OUTPUT).
    #[arg(long, value_name = "FILE")]
    github_output: Option<PathBuf>,
}

#[derive(clap::Args)]
#[group(skip)]
#[command(group(clap::ArgGroup::new("mode").required(true).args(["dry_run", "draft", "publish"])))]
struct ReleaseFlags {
    /// Rehearse the release on this machine; publish nothing.
    #[arg(long)]
    dry_run: bool,
    /// Create the draft release with every asset (in the workflow).
    #[arg(long)]
    draft: bool,
    /// Publish the draft release (in the workflow, after the attestation).
    #[arg(long)]
    publish: bool,
    /// The release tag, v<version>; optional for --dry-run (empty means none).
    #[arg(long, value_name = "TAG")]
    tag: Option<String>,
    /// The gathered release to publish [default: dist/ in the workspace root].
    #[arg(long, value_name = "DIR")]
    dist: Option<PathBuf>,
}

#[derive(clap::Args)]
struct GatherFlags {
    /// The part directories, one per build job (the workflow downloads them to parts/dist-<target>).
    #[arg(value_name = "PART", required = true)]
    parts: Vec<PathBuf>,
    /// Where the release goes [default: dist/ in the workspace root]. Replaces the files a
    /// previous dist or gather wrote there and leaves any other file alone.
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
    /// Gather only these targets of the matrix (repeatable): a local rehearsal on a host that
    /// cannot build them all. Default: every target, each in exactly one part.
    #[arg(long = "target", value_name = "TRIPLE")]
    targets: Vec<String>,
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
    /// Also write a Python wheel per package and platform, `pip install`-able, carrying the
    /// binaries (Linux musl builds tagged manylinux and musllinux at once); on by default with
    /// `wheels = true` in [workspace.metadata.dist].
    #[arg(long)]
    wheels: bool,
}

#[derive(clap::Args)]
struct TestFlags {
    /// Passed to `cargo test` after `--workspace --locked`, e.g. `-p xtask -- --nocapture`.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Dist(flags) => pipeline::run(pipeline::Options {
            targets: flags.targets,
            out_dir: flags.out_dir,
            json: flags.json,
            wheels: flags.wheels,
        }),
        Command::Plan(flags) => plan::run(plan::Options {
            tag: flags.tag,
            github_output: flags.github_output,
        }),
        Command::Release(flags) => release::run(release::Options {
            mode: if flags.dry_run {
                release::Mode::DryRun
            } else if flags.draft {
                release::Mode::Draft
            } else {
                release::Mode::Publish
            },
            tag: flags.tag,
            dist: flags.dist,
        }),
        Command::ReleaseNotes { tag } => release::notes::run(&tag),
        Command::Smoke { parts } => release::smoke::run(&parts),
        Command::Sign { dir, if_key } => sign::run(&dir, if_key),
        Command::Reproduce { dir } => reproduce::run(&dir),
        Command::Test(flags) => test::run(&flags.args),
        Command::Bench(flags) => bench::run(bench::Options {
            sections: flags.sections,
            quick: flags.quick,
            out: flags.out,
            runs: flags.runs,
            before: flags.before,
        }),
        Command::BenchPack(flags) => bench::pack_once(&flags.out, flags.epoch, &flags.dirs),
        Command::Gather(flags) => gather::run(gather::Options {
            parts: flags.parts,
            out_dir: flags.out_dir,
            targets: flags.targets,
        }),
    };
    if let Err(err) = result {
        // One line: the error and its context chain joined by ": " (bad input).
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn bench_takes_sections_and_quick() {
        Cli::command().debug_assert();
        let cli = Cli::try_parse_from(["cargo xtask", "bench", "scan", "pack", "--quick"]).unwrap();
        let Command::Bench(flags) = cli.command else {
            panic!("not bench")
        };
        assert_eq!(flags.sections, [bench::Section::Scan, bench::Section::Pack]);
        assert!(flags.quick);
        assert!(Cli::try_parse_from(["cargo xtask", "bench", "nonsense"]).is_err());
    }

    #[test]
    fn release_takes_one_mode_and_a_tag() {
        let parse =
            |args: &[&str]| Cli::try_parse_from([&["cargo xtask", "release"], args].concat());
        assert!(parse(&["--dry-run", "--tag", "v1.0.0"]).is_ok());
        assert!(parse(&["--publish", "--tag", "v1.0.0"]).is_ok());
        assert!(parse(&["--tag", "v1.0.0"]).is_err());
        assert!(parse(&["--dry-run", "--draft"]).is_err());
    }
}
