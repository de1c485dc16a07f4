//! The product: linkaudit's scan against scanelf and musl against gnu (through
//! crates/linkaudit/bench/scan.sh, the crate's own benchmark), `--version` start-up of the static
//! build against the dynamic one, and binary sizes of the dist profile against release.

use super::doc::{self, secs};
use super::hyperfine::{self, quote, Command, Settings, Timing};
use super::Bench;
use crate::pipeline::plan;
use crate::workspace::target::TargetTriple;
use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;

/// Runs scan.sh (it builds its own release binaries in target/bench and runs ROUNDS hyperfine
/// rounds of every command) and pools the samples of all rounds.
pub fn scan(bench: &Bench) -> Result<String> {
    let rounds = bench.runs(5, 2);
    let script = bench.root.join("crates/linkaudit/bench/scan.sh");
    let dirs = ["/usr/bin", "/usr/lib"];
    let _dir = bench.sh.push_dir(&bench.root);
    require_scanelf(bench)?;
    xshell::cmd!(bench.sh, "bash {script} {dirs...}")
        .env("ROUNDS", rounds.to_string())
        .env("RUNS", "3")
        .run()
        .with_context(|| format!("{} failed: see above (it needs hyperfine and scanelf: apt-get install hyperfine pax-utils)", script.display()))?;
    let timings = pooled_rounds(bench, rounds)?;
    let find = |prefix: &str| {
        timings
            .iter()
            .find(|t| t.name == prefix)
            .with_context(|| format!("scan.sh ran no `{prefix}`"))
    };
    let scanelf = find("scanelf -R -n -i")?;
    let gnu = find("linkaudit scan (gnu)")?;
    let musl = find("linkaudit scan (musl static, mimalloc)")?;
    let rows: Vec<Vec<String>> = timings
        .iter()
        .map(|t| {
            let mut row = doc::timing_row(t, scanelf);
            row.push(doc::ratio(t.median, gnu.median));
            row
        })
        .collect();
    let mut header = doc::TIMING_HEADER.to_vec();
    header[4] = "vs scanelf";
    header.push("vs gnu build");
    Ok(format!(
        "## The product: `linkaudit scan` vs `scanelf -R -n -i`, musl vs gnu\n\n\
         `crates/linkaudit/bench/scan.sh {}` with ROUNDS={rounds} RUNS=3: release builds of \
         linkaudit (gnu; musl static with mimalloc, as released; musl with musl's malloc), every \
         command in each hyperfine round, samples of all rounds pooled here (the script also \
         rewrites its own `bench/scan-results.md`).\n\n{}\n\
         linkaudit (gnu) takes {} of scanelf's time on the same trees; the musl static build takes \
         {} of the gnu build's.\n",
        dirs.join(" "),
        doc::table(&header, &rows),
        doc::ratio(gnu.median, scanelf.median),
        doc::ratio(musl.median, gnu.median),
    ))
}

/// The samples of every scan.sh round (`scan-round-N.json`, hyperfine's JSON) pooled per
/// command, in the order the script ran them.
fn pooled_rounds(bench: &Bench, rounds: u32) -> Result<Vec<Timing>> {
    let mut samples: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut order = Vec::new();
    for round in 1..=rounds {
        let path = bench
            .root
            .join(format!("crates/linkaudit/bench/scan-round-{round}.json"));
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let value: serde_json::Value =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        for result in value["results"]
            .as_array()
            .context("no results in scan.sh's JSON")?
        {
            let name = result["command"].as_str().unwrap_or("?").to_owned();
            let times = result["times"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|t| t.as_f64());
            if !samples.contains_key(&name) {
                order.push(name.clone());
            }
            samples.entry(name).or_default().extend(times);
        }
    }
    order
        .iter()
        .map(|name| Timing::from_samples(name, &samples[name]))
        .collect()
}

fn require_scanelf(bench: &Bench) -> Result<()> {
    xshell::cmd!(bench.sh, "scanelf --version")
        .quiet()
        .ignore_stdout()
        .run()
        .context("scanelf is missing: apt-get install pax-utils")
}

/// The host architecture's musl (static) and gnu (dynamic) dist binaries.
fn host_pair(bench: &Bench) -> Result<(std::path::PathBuf, std::path::PathBuf)> {
    let manifest = bench.dist_manifest()?;
    let arch = std::env::consts::ARCH;
    let path = |env: &str| -> Result<std::path::PathBuf> {
        let target = format!("{arch}-unknown-linux-{env}");
        let artifact = manifest
            .artifacts
            .iter()
            .find(|a| a.target == target)
            .with_context(|| {
                format!("cargo xtask dist built no {target} here: the start-up comparison needs it")
            })?;
        let binary = artifact
            .binaries
            .first()
            .context("an archive without binaries")?;
        let file = binary.path.rsplit('/').next().unwrap_or(&binary.path);
        Ok(bench.ws.target_dir.join(&target).join("dist").join(file))
    };
    Ok((path("musl")?, path("gnu")?))
}

pub fn startup(bench: &Bench) -> Result<String> {
    let (musl, gnu) = host_pair(bench)?;
    let t = hyperfine::run(
        &bench.sh,
        &Settings {
            runs: bench.runs(300, 50),
            warmup: 20,
            no_shell: true,
        },
        &[
            Command::new(
                "musl static: --version",
                format!("{} --version", quote(&musl.display().to_string())),
            ),
            Command::new(
                "gnu dynamic: --version",
                format!("{} --version", quote(&gnu.display().to_string())),
            ),
        ],
    )?;
    Ok(format!(
        "## Start-up: `linkaudit --version`, static (musl) vs dynamic (gnu)\n\n\
         The dist binaries of {arch} (`target/<triple>/dist/linkaudit`), started without a shell \
         (`hyperfine -N`). Ratio: against the gnu build.\n\n{}\n\
         The static build starts in {} of the dynamic build's time ({} vs {}): no dynamic loader, \
         no shared libraries to map and relocate.\n",
        doc::table(
            &doc::TIMING_HEADER,
            &[doc::timing_row(&t[0], &t[1]), doc::timing_row(&t[1], &t[1])]
        ),
        doc::ratio(t[0].median, t[1].median),
        secs(t[0].median),
        secs(t[1].median),
        arch = std::env::consts::ARCH,
    ))
}

/// Builds the release profile the way dist builds its own, then compares every binary's size.
pub fn size(bench: &Bench) -> Result<String> {
    bench.dist_manifest()?;
    let matrix = plan::local_matrix(&bench.sh, "release")?;
    let _dir = bench.sh.push_dir(&bench.root);
    for command in &matrix.commands {
        let program = &command.program;
        let args = &command.args;
        let mut cmd = xshell::cmd!(bench.sh, "{program} {args...}");
        for (key, value) in &command.env {
            cmd = cmd.env(key, value);
        }
        cmd.run().context("building the release profile for the size comparison failed: see cargo's messages above")?;
    }
    let mut rows = Vec::new();
    for triple in &matrix.targets {
        for package in &matrix.ws.packages {
            for name in &package.binaries {
                let (release, dist) = (
                    binary(&matrix.ws, triple, "release", name)?,
                    binary(&matrix.ws, triple, "dist", name)?,
                );
                rows.push(vec![
                    format!("`{name}` {triple}"),
                    kib(release),
                    kib(dist),
                    doc::ratio(dist as f64, release as f64),
                ]);
            }
        }
    }
    Ok(format!(
        "## Binary size: dist profile vs release profile\n\n\
         Every local target, both profiles built the same way (dist's cargo invocations, \
         `--profile release` instead of `--profile dist`). `dist` is release plus `lto = true`, \
         `codegen-units = 1`, `strip = true`. Ratio: dist against release.\n\n{}",
        doc::table(&["binary", "release", "dist", "ratio"], &rows)
    ))
}

fn binary(
    ws: &crate::workspace::config::Workspace,
    triple: &TargetTriple,
    profile: &str,
    name: &str,
) -> Result<u64> {
    let path = ws
        .target_dir
        .join(triple.as_str())
        .join(profile)
        .join(format!("{name}{}", triple.exe_suffix()));
    match std::fs::metadata(&path) {
        Ok(meta) => Ok(meta.len()),
        Err(err) => bail!(
            "{}: {err} (cargo reported success: was the binary skipped?)",
            path.display()
        ),
    }
}

/// `1234 KiB`.
fn kib(bytes: u64) -> String {
    format!("{} KiB", bytes.div_ceil(1024))
}
