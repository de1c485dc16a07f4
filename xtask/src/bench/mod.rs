//! `cargo xtask bench`: the release path measured against what maintainers use today,
//! on this machine, written to BENCHMARKS.md. Every comparison runs its commands in one hyperfine
//! invocation, so the ratios come from the same run under the same load; no test times anything.
//!
//! Sections: `pack` (dist's archive + checksum stage vs GNU tar | gzip + sha256sum), `build` (one
//! cargo invocation vs one per target, cold and warm), `warm` (a warm no-op `cargo xtask dist` vs
//! the cargo commands it runs), `scan` (linkaudit vs scanelf, musl vs gnu; crates/linkaudit/bench/scan.sh),
//! `startup` (`--version`, static vs dynamic), `size` (dist vs release profile), `xtask` (the
//! xtask's own cold compile and dependency count), `peer` (against cargo-dist on a C-heavy crate
//! from crates.io, cold; only when named), `cc` (one C compiler call: gcc, musl-gcc, zig cc,
//! zig cc through cargo-zigbuild).

mod build;
mod cc;
mod doc;
mod hyperfine;
mod pack;
mod peer;
mod product;
mod warm_dist;
mod xtask_cost;

pub use pack::pack_once;

use crate::workspace::manifest::Manifest;
use anyhow::{Context, Result};
use std::cell::OnceCell;
use std::path::{Path, PathBuf};
use xshell::{cmd, Shell};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Section {
    Pack,
    Build,
    Warm,
    Scan,
    Startup,
    Size,
    Xtask,
    Peer,
    Cc,
}

impl Section {
    fn key(self) -> &'static str {
        match self {
            Section::Pack => "pack",
            Section::Build => "build",
            Section::Warm => "warm",
            Section::Scan => "scan",
            Section::Startup => "startup",
            Section::Size => "size",
            Section::Xtask => "xtask",
            Section::Peer => "peer",
            Section::Cc => "cc",
        }
    }

    /// In BENCHMARKS.md's order; a run without sections runs all but `peer`, whose cold builds
    /// of a real crate take minutes each.
    const ALL: [Section; 9] = [
        Section::Pack,
        Section::Build,
        Section::Warm,
        Section::Scan,
        Section::Startup,
        Section::Size,
        Section::Xtask,
        Section::Peer,
        Section::Cc,
    ];
}

pub struct Options {
    pub sections: Vec<Section>,
    pub quick: bool,
    pub out: Option<PathBuf>,
    /// Rounds of the peer section (default 3, 1 with `--quick`).
    pub runs: Option<u32>,
    /// The peer section also times our side with jemalloc's whole make.
    pub before: bool,
}

/// What every section needs.
pub struct Bench {
    sh: Shell,
    root: PathBuf,
    /// The workspace as dist reads it: its target dir and the files every archive includes.
    ws: crate::workspace::config::Workspace,
    /// `target/xtask-bench`: scratch target dirs, staged files, archives.
    scratch: PathBuf,
    quick: bool,
    /// This xtask's binary, as `cargo xtask` built it (dev profile): what maintainers run.
    xtask: PathBuf,
    dist: OnceCell<Manifest>,
}

impl Bench {
    /// `full` runs normally, `quick` with `--quick`.
    fn runs(&self, full: u32, quick: u32) -> u32 {
        if self.quick {
            quick
        } else {
            full
        }
    }

    /// Builds, verifies and packs the local targets once with `cargo xtask dist` (a no-op build
    /// when they are built already); the sections that need the dist binaries read them from
    /// `target/<triple>/dist`, as dist left them.
    fn dist_manifest(&self) -> Result<&Manifest> {
        if let Some(manifest) = self.dist.get() {
            return Ok(manifest);
        }
        let out = self.scratch.join("dist");
        let xtask = &self.xtask;
        eprintln!(
            "bench: cargo xtask dist --out-dir {} (the binaries to measure)",
            out.display()
        );
        cmd!(self.sh, "{xtask} dist --out-dir {out}")
            .ignore_stdout()
            .run()
            .context(
                "building the dist binaries to measure (`cargo xtask dist`) failed: see above",
            )?;
        let manifest = Manifest::read(&out.join(crate::workspace::manifest::MANIFEST))?;
        Ok(self.dist.get_or_init(|| manifest))
    }
}

pub fn run(options: Options) -> Result<()> {
    let sh = Shell::new().context("starting a shell")?;
    let root = workspace_root(&sh)?;
    sh.change_dir(&root);
    let ws = crate::workspace::config::Workspace::load(&sh)?;
    let bench = Bench {
        scratch: ws.target_dir.join("xtask-bench"),
        ws,
        root: root.clone(),
        quick: options.quick,
        xtask: std::env::current_exe().context("finding the xtask's own binary")?,
        dist: OnceCell::new(),
        sh,
    };
    std::fs::create_dir_all(&bench.scratch)
        .with_context(|| format!("creating {}", bench.scratch.display()))?;
    let mut sections = options.sections;
    if sections.is_empty() {
        sections = Section::ALL.to_vec();
        sections.retain(|s| *s != Section::Peer);
    }
    sections.sort();
    sections.dedup();
    let out = options.out.unwrap_or_else(|| root.join("BENCHMARKS.md"));
    let machine = machine(&bench.sh)?;
    let mut fresh = Vec::new();
    for section in sections {
        eprintln!("bench: section {}", section.key());
        let before = load_average();
        let text = match section {
            Section::Pack => pack::section(&bench)?,
            Section::Build => build::section(&bench)?,
            Section::Warm => warm_dist::section(&bench)?,
            Section::Scan => product::scan(&bench)?,
            Section::Startup => product::startup(&bench)?,
            Section::Size => product::size(&bench)?,
            Section::Xtask => xtask_cost::section(&bench)?,
            Section::Peer => peer::section(
                &bench,
                options.runs.unwrap_or(bench.runs(3, 1)),
                options.before,
            )?,
            Section::Cc => cc::compiler_calls(&bench)?,
        };
        let stamp = format!(
            "_Measured {} at commit {}; load average {before} before, {} after._\n\n",
            utc_now(&bench.sh)?,
            machine.commit,
            load_average()
        );
        let text = insert_after_title(&text, &stamp);
        // Written after every section, so a later failure keeps what was measured.
        fresh.push((section.key().to_owned(), doc::part(section.key(), &text)));
        write(&out, &machine, &fresh)?;
    }
    eprintln!("bench: wrote {}", out.display());
    Ok(())
}

/// BENCHMARKS.md: the header, then every section in order, this run's or the previous file's.
fn write(out: &Path, machine: &Machine, fresh: &[(String, String)]) -> Result<()> {
    let previous = std::fs::read_to_string(out).unwrap_or_default();
    let kept = doc::parts(&previous);
    let mut text = format!(
        "# Benchmarks\n\n\
         Written by `cargo xtask bench`; run it again to refresh: `cargo xtask bench \
         [pack|build|warm|scan|startup|size|xtask|peer|cc]... [--quick] [--runs N] [--before]` replaces the sections it \
         runs and keeps the others (`peer` runs only when named). Times are wall-clock medians from hyperfine with min – max; every ratio \
         compares commands of the same hyperfine run, interleaved under the same load. A load \
         average above the number of cores means other processes competed for the CPU while a \
         section ran: compare the ratios more than the absolute times.\n\n\
         Machine: {} cores ({}), {} memory; {}; {}.\n\n",
        machine.cores, machine.cpu, machine.memory, machine.rustc, machine.hyperfine
    );
    for section in Section::ALL {
        let key = section.key();
        let part = fresh
            .iter()
            .chain(&kept)
            .find(|(k, _)| k == key)
            .map(|(_, p)| p.as_str());
        if let Some(part) = part {
            text.push_str(part);
            text.push('\n');
        }
    }
    std::fs::write(out, text.trim_end().to_owned() + "\n")
        .with_context(|| format!("writing {}", out.display()))
}

fn insert_after_title(text: &str, stamp: &str) -> String {
    match text.split_once('\n') {
        Some((title, rest)) => format!("{title}\n\n{stamp}{}", rest.trim_start()),
        None => format!("{text}\n\n{stamp}"),
    }
}

fn workspace_root(sh: &Shell) -> Result<PathBuf> {
    let cargo = crate::workspace::config::cargo_program();
    let path = cmd!(
        sh,
        "{cargo} locate-project --workspace --message-format plain"
    )
    .quiet()
    .read()
    .context("finding the workspace (`cargo locate-project`): run cargo xtask bench inside it")?;
    Ok(Path::new(path.trim())
        .parent()
        .context("cargo locate-project printed a path without a directory")?
        .to_path_buf())
}

struct Machine {
    cores: String,
    cpu: String,
    memory: String,
    commit: String,
    rustc: String,
    hyperfine: String,
}

fn machine(sh: &Shell) -> Result<Machine> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let field = |text: &str, key: &str| {
        text.lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_owned())
    };
    let memory = field(&meminfo, "MemTotal")
        .and_then(|kb| kb.trim_end_matches(" kB").trim().parse::<u64>().ok())
        .map_or("unknown".to_owned(), |kb| {
            format!("{:.1} GiB", kb as f64 / 1048576.0)
        });
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mut commit = cmd!(sh, "git rev-parse --short HEAD")
        .quiet()
        .read()
        .unwrap_or_else(|_| "none".into());
    let dirty = cmd!(sh, "git status --porcelain --untracked-files=no")
        .quiet()
        .read()
        .unwrap_or_default();
    if !dirty.is_empty() {
        commit.push_str(" (with uncommitted changes)");
    }
    let rustc = cmd!(sh, "rustc --version")
        .quiet()
        .read()
        .context("asking rustc for its version")?;
    let hyperfine = cmd!(sh, "hyperfine --version")
        .quiet()
        .read()
        .context("hyperfine is missing: install it (`apt-get install hyperfine`) and run cargo xtask bench again")?;
    Ok(Machine {
        cores: cores.to_string(),
        cpu: field(&cpuinfo, "model name").unwrap_or_else(|| "unknown CPU".into()),
        memory,
        commit,
        rustc,
        hyperfine,
    })
}

/// `2026-01-31T12:00Z`.
fn utc_now(sh: &Shell) -> Result<String> {
    cmd!(sh, "date -u +%Y-%m-%dT%H:%MZ")
        .quiet()
        .read()
        .context("reading the date (`date -u`)")
}

/// `/proc/loadavg`'s 1, 5 and 15 minute averages: the machine may be shared.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|| "unknown".into())
}
