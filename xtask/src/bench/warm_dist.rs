//! A warm, nothing-changed `cargo xtask dist` vs the cargo commands it runs, on this workspace:
//! what the xtask itself adds to a run that builds nothing.

use super::build::env_prefix;
use super::doc;
use super::hyperfine::{self, quote, Command};
use super::Bench;
use crate::pipeline::plan::{self, BuildCommand};
use anyhow::Result;

/// The goal: at most this much over cargo, in seconds.
const GOAL: f64 = 0.5;

pub fn section(bench: &Bench) -> Result<String> {
    bench.dist_manifest()?; // built, so both sides are warm
    let matrix = plan::local_matrix(&bench.sh, "dist")?;
    let cargo_lines: Vec<String> = matrix.commands.iter().map(shell_line).collect();
    let out = bench.scratch.join("dist-warm");
    let cargo = crate::workspace::config::cargo_program();
    let _dir = bench.sh.push_dir(&bench.root);
    // A warm-up run of each, then interleaved rounds (cargo's no-op times drift by 0.3 s over a
    // minute here; one hyperfine run per command put the drift into the comparison).
    let commands = [
        Command::new(
            "cargo xtask dist",
            format!(
                "{} xtask dist --out-dir {} > /dev/null",
                quote(&cargo.display().to_string()),
                quote(&out.display().to_string())
            ),
        ),
        Command::new("the cargo commands dist runs", cargo_lines.join(" && ")),
    ];
    hyperfine::run_interleaved(&bench.sh, "warm dist warm-up", (1, false), &commands)?;
    let t = hyperfine::run_interleaved(
        &bench.sh,
        "warm dist",
        (bench.runs(10, 3), false),
        &commands,
    )?;
    let extra = t[0].median - t[1].median;
    let met = extra <= GOAL;
    let targets: Vec<&str> = matrix.targets.iter().map(|t| t.as_str()).collect();
    let mut text = format!(
        "## Warm, nothing changed: `cargo xtask dist` vs cargo\n\n\
         This workspace, every local target ({}), all built. `cargo xtask dist` (through `cargo \
         run`, as maintainers type it) against the {} cargo invocation(s) dist itself runs, one \
         after the other, with the same arguments and environment (`cargo zigbuild --profile \
         dist ... --config ...`), so both are no-op builds. The xtask's extra time is its own \
         start (`cargo run`, the plan's cargo and rustc calls), the linkage check of every \
         binary, the archives, checksums, SBOMs and wheels, and the smoke run of every archive \
         (aarch64 under qemu-user). Archives whose inputs did not change are copied from \
         `target/xtask-cache/archives` instead of deflated again (the smoke runs still unpack \
         and start them), the smoke runs run in parallel, and the python start that finds zig \
         overlaps the plan and the builds that need no zig.\n\n{}\n\
         Goal: the xtask adds at most {GOAL} s over cargo on a warm no-op. Measured: it adds {}. **{}**\n",
        targets.join(", "),
        cargo_lines.len(),
        doc::table(
            &doc::TIMING_HEADER,
            &[doc::timing_row(&t[0], &t[1]), doc::timing_row(&t[1], &t[1])]
        ),
        doc::secs(extra),
        if met { "Met." } else { "Missed." }
    );
    if !met {
        text.push_str(
            "\nWhy: besides cargo's own checks, a no-op dist still starts `cargo run`, asks cargo \
             for the workspace and the dist profile, rustc and rustup for the targets, python for \
             zig, and starts every binary from its archive.\n",
        );
    }
    Ok(text)
}

/// One build command as a shell line, exactly as dist runs it: without `--quiet`, since cargo
/// then replays the cached warnings of fresh crates as dist shows them (about 0.1 s of a no-op
/// run here); hyperfine discards the output of both sides.
fn shell_line(c: &BuildCommand) -> String {
    let args: Vec<String> = c.args.iter().map(|a| quote(&a.to_string_lossy())).collect();
    format!(
        "{}{} {}",
        env_prefix(c),
        quote(&c.program.display().to_string()),
        args.join(" ")
    )
}
