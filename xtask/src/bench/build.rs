//! Building: the local matrix in one cargo invocation vs one per target, cold and warm, on the
//! small fixture workspace of the xtask's tests (a cold build of this workspace takes minutes per
//! run).

use super::doc;
use super::hyperfine::{self, quote, Command, Settings, Timing};
use super::Bench;
use crate::pipeline::plan::{self, BuildCommand};
use anyhow::{Context, Result};
use std::path::Path;

pub fn section(bench: &Bench) -> Result<String> {
    let matrix = plan::local_matrix(&bench.sh, "release")?;
    let zigbuild = matrix
        .commands
        .iter()
        .find(|c| c.args.first().is_some_and(|a| a == "zigbuild"));
    let mut text = String::from("## Building: one cargo invocation vs one per target\n\n");
    match zigbuild {
        Some(z) => text.push_str(&matrix_part(bench, z, &matrix.ws.glibc_floor.to_string())?),
        None => text.push_str(
            "No Linux target builds here with cargo zigbuild: matrix comparison skipped.\n",
        ),
    }
    Ok(text)
}

/// The fixture's Linux targets with `cargo zigbuild --release`, each command in its own target
/// dir: cargo-zigbuild sets the linker of the targets it builds, which changes the hash of build
/// scripts, so the two commands would rebuild each other's units in a shared one.
fn matrix_part(bench: &Bench, zigbuild: &BuildCommand, floor: &str) -> Result<String> {
    let ws = bench.scratch.join("fixture");
    copy_fixture(bench, &ws)?;
    let triples = [
        format!("x86_64-unknown-linux-gnu.{floor}"),
        format!("aarch64-unknown-linux-gnu.{floor}"),
        "x86_64-unknown-linux-musl".to_owned(),
        "aarch64-unknown-linux-musl".to_owned(),
    ];
    let zig = env_prefix(zigbuild) + &quote(&zigbuild.program.display().to_string());
    let build = |dir: &str, triples: &[String]| {
        let targets: Vec<String> = triples.iter().map(|t| format!("--target {t}")).collect();
        format!(
            "CARGO_TARGET_DIR={} {zig} zigbuild --quiet --release -p fixture-cli {}",
            quote(&ws.join(dir).display().to_string()),
            targets.join(" ")
        )
    };
    let one = build("target-one", &triples);
    let each: Vec<String> = triples
        .iter()
        .map(|t| build("target-each", std::slice::from_ref(t)))
        .collect();
    let each = each.join(" && ");
    let name_one = format!("1 invocation, {} targets", triples.len());
    let name_each = format!("{} invocations, 1 target each", triples.len());
    let _dir = bench.sh.push_dir(&ws);
    let [cold, warm] = cold_and_warm(
        bench,
        &ws,
        [
            (name_one, one, "target-one"),
            (name_each, each, "target-each"),
        ],
    )?;
    let rows = vec![
        doc::timing_row(&cold[1], &cold[0]),
        doc::timing_row(&cold[0], &cold[0]),
        doc::timing_row(&warm[1], &warm[0]),
        doc::timing_row(&warm[0], &warm[0]),
    ];
    Ok(format!(
        "### The local matrix: one invocation vs one per target\n\n\
         On the fixture workspace of the xtask's tests (`xtask/tests/fixtures/workspace`: a binary \
         and a crate with C code built by `cc`), copied to `target/xtask-bench/fixture`, with \
         `cargo zigbuild --release -p fixture-cli` for {}. Cold means an empty cargo target dir \
         (`rm -rf` before every run); zig's own cache of built libcs stays warm, as it does on a \
         maintainer's machine after the first build. Ratio: against the single invocation.\n\n{}\n\
         One invocation is {} as fast cold ({} saved), and {} warm.\n",
        triples.join(", "),
        doc::table(&doc::TIMING_HEADER, &rows),
        speedup(&cold[1], &cold[0]),
        doc::secs(cold[1].median - cold[0].median),
        speedup(&warm[1], &warm[0]),
    ))
}

/// The two build commands (name, shell line, their target dir under `ws`) cold, their target
/// dir removed before every run, and warm.
fn cold_and_warm(
    bench: &Bench,
    ws: &Path,
    commands: [(String, String, &str); 2],
) -> Result<[Vec<Timing>; 2]> {
    let rm = |dir: &str| format!("rm -rf {}", quote(&ws.join(dir).display().to_string()));
    let cold = commands
        .clone()
        .map(|(name, line, dir)| Command::new(format!("cold: {name}"), line).prepare(rm(dir)));
    let cold = hyperfine::run(
        &bench.sh,
        &Settings {
            runs: bench.runs(2, 1),
            warmup: 0,
            no_shell: false,
        },
        &cold,
    )?;
    let warm = commands.map(|(name, line, _)| Command::new(format!("warm: {name}"), line));
    let warm = hyperfine::run(
        &bench.sh,
        &Settings {
            runs: bench.runs(10, 3),
            warmup: 1,
            no_shell: false,
        },
        &warm,
    )?;
    Ok([cold, warm])
}

/// `1.8x`: how many times faster `fast` is than `slow`.
fn speedup(slow: &Timing, fast: &Timing) -> String {
    format!("{:.2}x", slow.median / fast.median)
}

/// `env 'K=V' ... ` for a command that needs its own PATH (zig installed into the tools dir).
pub(super) fn env_prefix(command: &BuildCommand) -> String {
    if command.env.is_empty() {
        return String::new();
    }
    let pairs: Vec<String> = command
        .env
        .iter()
        .map(|(k, v)| quote(&format!("{k}={}", v.to_string_lossy())))
        .collect();
    format!("env {} ", pairs.join(" "))
}

/// The fixture with the real `.cargo/config.toml` and this workspace's Cargo.lock, without the
/// xtask member the tests add (only `fixture-cli` is built here).
fn copy_fixture(bench: &Bench, ws: &Path) -> Result<()> {
    let _ = std::fs::remove_dir_all(ws);
    let from = bench.root.join("xtask/tests/fixtures/workspace");
    copy_dir(&from, ws)?;
    copy_dir(&bench.root.join(".cargo"), &ws.join(".cargo"))?;
    std::fs::copy(bench.root.join("Cargo.lock"), ws.join("Cargo.lock"))
        .context("copying Cargo.lock into the fixture")?;
    let manifest = ws.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest)?;
    std::fs::write(
        &manifest,
        text.replace(
            "members = [\"xtask\", \"crates/*\"]",
            "members = [\"crates/*\"]",
        ),
    )
    .with_context(|| format!("writing {}", manifest.display()))
}

pub fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for entry in std::fs::read_dir(from).with_context(|| format!("listing {}", from.display()))? {
        let entry = entry?;
        let dest = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &dest)?;
        } else {
            std::fs::copy(entry.path(), &dest)
                .with_context(|| format!("copying {}", entry.path().display()))?;
        }
    }
    Ok(())
}
