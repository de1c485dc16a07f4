//! The plan step: which targets this host builds and how, which it leaves to a release runner,
//! and what source (commit, SOURCE_DATE_EPOCH, compiler) the run records. Bad triples and
//! unbuildable `--target`s fail here, before anything is built or written.

use super::c_toolchain;
use super::{build, build_env};
use crate::workspace::config::{self, Workspace};
use crate::workspace::report::Report;
use crate::workspace::target::{Host, How, Status, TargetTriple};
use crate::workspace::{auditable, tools};
use anyhow::{bail, Context, Result};
use linkaudit::{Floors, OsVersion};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use xshell::{cmd, Shell};

/// The setup every run shares (`dist` and the benchmarks): a clean environment, the workspace,
/// the host and the plan.
pub struct Planned {
    pub ws: Workspace,
    pub host: Host,
    pub rustup: Option<tools::RustupTargets>,
    pub plan: Vec<PlanEntry>,
    /// `rustc 1.95.0 (59807616e 2026-04-14)`: the first line of the `rustc -vV` that found the
    /// host, which is what `rustc --version` prints.
    pub rustc_version: String,
}

impl Planned {
    pub fn new(sh: &Shell, requested: &[String], report: &Report) -> Result<Planned> {
        scrub_rustflags(report);
        // After the scrub: no child of ours, python's included, sees RUSTFLAGS.
        tools::start_finding_zig();
        // The profile check, rustup's and rustc's target lists run beside cargo metadata and
        // rustc -vV: about 120 ms of a warm no-op run's plan, sequential.
        let dir = sh.current_dir();
        let (ws, profile, rustup, known, host) = std::thread::scope(|scope| {
            let profile = scope.spawn(|| dist_profile_answer(&tools::shell_in(&dir)?));
            let rustup = scope.spawn(|| tools::RustupTargets::query(&tools::shell_in(&dir)?));
            let known = scope.spawn(|| rustc_target_list(&tools::shell_in(&dir)?));
            let ws = Workspace::load(sh);
            let host = ws.as_ref().ok().map(|ws| host_and_rustc(sh, ws));
            (ws, joined(profile), joined(rustup), joined(known), host)
        });
        let ws = ws?;
        check_dist_profile(&ws, profile?)?;
        let rustup = rustup?;
        let (host, rustc_version) = host.context("internal error: no host")??;
        let plan = plan(&ws, requested, &host, (&known?, rustup.as_ref()))?;
        Ok(Planned {
            ws,
            host,
            rustup,
            plan,
            rustc_version,
        })
    }

    /// The targets this host builds.
    pub fn buildable(&self) -> Vec<TargetTriple> {
        self.plan
            .iter()
            .filter(|e| matches!(e.status, Status::Build(_)))
            .map(|e| e.triple.clone())
            .collect()
    }
}

pub fn rustc_program() -> PathBuf {
    std::env::var_os("RUSTC").map_or_else(|| "rustc".into(), PathBuf::from)
}

pub fn detect_host(sh: &Shell, ws: &Workspace) -> Result<Host> {
    Ok(host_and_rustc(sh, ws)?.0)
}

/// The host and rustc's version line, from one `rustc -vV`.
fn host_and_rustc(sh: &Shell, ws: &Workspace) -> Result<(Host, String)> {
    let rustc = rustc_program();
    let _dir = sh.push_dir(&ws.root);
    let verbose = cmd!(sh, "{rustc} -vV")
        .quiet()
        .read()
        .context("asking rustc for the host triple (`rustc -vV`)")?;
    let version = verbose.lines().next().unwrap_or_default().trim().to_owned();
    let triple = verbose
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .context("`rustc -vV` printed no `host:` line")?;
    let triple = TargetTriple::parse(triple)?;
    let tools = Host::tools_to_probe(&ws.targets)
        .into_iter()
        .chain(["x86_64-w64-mingw32-gcc".to_owned()])
        .filter(|tool| tools::which(tool).is_some())
        .collect();
    Ok((Host { triple, tools }, version))
}

#[derive(Debug)]
pub struct PlanEntry {
    pub triple: TargetTriple,
    pub status: Status,
}

/// Which targets to build and how; bad triples and unbuildable `--target`s fail here, before
/// anything is built or written.
/// The triple is one rustc knows and rustup ships a standard library for.
fn check_known(
    triple: &TargetTriple,
    known: &str,
    rustup: Option<&tools::RustupTargets>,
) -> Result<()> {
    if !known.lines().any(|line| line == triple.as_str()) {
        bail!(
            "unknown target triple `{triple}`: rustc does not know it; pick one from \
             `rustc --print target-list`"
        );
    }
    if let Some(rustup) = rustup {
        if !rustup.known.contains(triple.as_str()) {
            bail!(
                "rustup ships no standard library for `{triple}` (a tier 3 target): \
                 cargo xtask dist builds the targets `rustup target list` shows"
            );
        }
    }
    Ok(())
}

/// The triples rustc knows, one per line.
fn rustc_target_list(sh: &Shell) -> Result<String> {
    let rustc = rustc_program();
    cmd!(sh, "{rustc} --print target-list")
        .quiet()
        .read()
        .context("listing rustc's targets (`rustc --print target-list`)")
}

/// `known` is what `rustc_target_list` printed.
fn plan(
    ws: &Workspace,
    requested: &[String],
    host: &Host,
    (known, rustup): (&str, Option<&tools::RustupTargets>),
) -> Result<Vec<PlanEntry>> {
    let explicit = !requested.is_empty();
    let mut triples: Vec<TargetTriple> = if explicit {
        requested
            .iter()
            .map(|t| TargetTriple::parse(t))
            .collect::<Result<_>>()?
    } else {
        ws.targets.clone()
    };
    let mut seen = std::collections::BTreeSet::new();
    triples.retain(|t| seen.insert(t.clone()));
    let mut entries = Vec::new();
    for triple in triples {
        check_known(&triple, known, rustup)?;
        let method = ws.build_method(&triple)?;
        let status = match host.can_build(&triple, method) {
            // Native x86_64 musl with musl-gcc: the host's compiler and linker, no zig.
            Status::Build(How::Zigbuild)
                if c_toolchain::uses_musl_gcc(&host.triple, &triple, ws) =>
            {
                Status::Build(How::Build)
            }
            status => status,
        };
        if let (true, Status::Skip { missing, runner }) = (explicit, &status) {
            bail!(
                "cannot build `{triple}` on this {} host: it needs {missing}; the {runner} \
                 runner builds it",
                host.triple
            );
        }
        entries.push(PlanEntry { triple, status });
    }
    if !entries.iter().any(|e| matches!(e.status, Status::Build(_))) {
        bail!(
            "this {} host can build no target of the matrix; see the runners above",
            host.triple
        );
    }
    Ok(entries)
}

pub fn print_plan(report: &Report, plan: &[PlanEntry], ws: &Workspace, out_dir: &Path) {
    let packages: Vec<&str> = ws.packages.iter().map(|p| p.name.as_str()).collect();
    report.line(&format!(
        "dist plan: {} -> {} (profile {}, glibc floor {})",
        packages.join(", "),
        out_dir.display(),
        build::PROFILE,
        ws.glibc_floor
    ));
    let rows: Vec<Vec<String>> = plan
        .iter()
        .map(|e| {
            let how = match &e.status {
                Status::Build(How::Zigbuild) if e.triple.is_linux_gnu() => {
                    format!(
                        "build with cargo zigbuild (--target {}.{})",
                        e.triple, ws.glibc_floor
                    )
                }
                Status::Build(How::Build) if e.triple.is_linux() => {
                    "build with cargo build (C code: musl-gcc; linker: cc)".to_owned()
                }
                Status::Build(how) => format!("build with {}", how.describe()),
                Status::Skip { missing, runner } => {
                    format!("skip: needs {missing}; built on the {runner} runner")
                }
            };
            vec![e.triple.to_string(), how]
        })
        .collect();
    report.table(&["target", "how"], &rows);
}

/// The cargo invocations: one per build method with all its targets (cargo takes several
/// `--target`s), except that cargo-zigbuild builds the host triple on its own. cargo-zigbuild
/// sets the linker of every target it builds, and cargo applies the host triple's linker to build
/// scripts too; that changes their hash and so the OUT_DIR paths compiled into the binaries. With
/// the host triple always alone, a target's bytes do not depend on which other targets were built
/// with it: `--target T` on a release runner gives the archive a local full run gives.
/// Apple targets with different macOS floors build apart: `MACOSX_DEPLOYMENT_TARGET` is one
/// variable for the whole invocation. The invocations that need no zig come first: the python
/// start that finds zig (0.2 s behind pyenv's shims) then runs while they build.
pub fn invocations(
    plan: &[PlanEntry],
    host: &TargetTriple,
    floors: &Floors,
) -> Vec<(How, Vec<TargetTriple>)> {
    type Group = (How, bool, Option<OsVersion>);
    let mut groups: BTreeMap<Group, Vec<TargetTriple>> = BTreeMap::new();
    for entry in plan {
        if let Status::Build(how) = entry.status {
            let alone = how == How::Zigbuild && entry.triple == *host;
            let macos = entry
                .triple
                .is_apple()
                .then(|| floors.macos_for(entry.triple.target()));
            groups
                .entry((how, alone, macos))
                .or_default()
                .push(entry.triple.clone());
        }
    }
    let mut invocations: Vec<(How, Vec<TargetTriple>)> = groups
        .into_iter()
        .map(|((how, _, _), triples)| (how, triples))
        .collect();
    invocations.sort_by_key(|(how, _)| *how == How::Zigbuild);
    invocations
}

/// One cargo invocation of the build step, as `run` executes it.
pub struct BuildCommand {
    pub program: PathBuf,
    pub args: Vec<std::ffi::OsString>,
    pub env: Vec<(String, std::ffi::OsString)>,
}

/// What this host builds of the matrix, and how.
pub struct LocalMatrix {
    pub ws: Workspace,
    pub targets: Vec<TargetTriple>,
    pub commands: Vec<BuildCommand>,
}

/// The local targets and the cargo invocations `run` builds them with, in `profile`, so that
/// `cargo xtask bench` times the xtask against exactly the cargo work it does and builds the
/// release profile the same way. Adds what `run` would add (rustup targets, zig).
pub fn local_matrix(sh: &Shell, profile: &str) -> Result<LocalMatrix> {
    let report = Report::new(true);
    let planned = Planned::new(sh, &[], &report)?;
    let targets = planned.buildable();
    tools::ensure_rustup_targets(sh, planned.rustup.as_ref(), &targets, &report)?;
    let mut commands = Vec::new();
    let floors = planned.ws.floors();
    let auditable = auditable::ensure_auditable(sh, &planned.ws.target_dir, &report)?;
    for (how, triples) in invocations(&planned.plan, &planned.host.triple, &floors) {
        let zigbuild = match how {
            How::Zigbuild => Some(tools::ensure_zigbuild(sh, &planned.ws.target_dir, &report)?),
            _ => None,
        };
        let program = zigbuild
            .as_ref()
            .map_or_else(config::cargo_program, |z| z.program.clone());
        let mut env: Vec<(String, std::ffi::OsString)> = zigbuild
            .iter()
            .flat_map(|z| z.env.iter().map(|(k, v)| ((*k).to_owned(), v.clone())))
            .collect();
        env.extend(auditable.env().into_iter().map(|(k, v)| (k.to_owned(), v)));
        env.extend(build_env::extra_env(
            &planned.ws,
            (how, &planned.host.triple),
            &triples,
            zigbuild.as_ref(),
        )?);
        let args = build::cargo_args(&planned.ws, how, &triples, profile);
        commands.push(BuildCommand { program, args, env });
    }
    Ok(LocalMatrix {
        ws: planned.ws,
        targets,
        commands,
    })
}

/// Either variable would replace the `[target]` rustflags of `.cargo/config.toml`, +crt-static
/// included (cargo-dist #513, #1571), so no child process of ours sees them.
/// Removed from our own environment, which every child inherits, before any thread starts.
fn scrub_rustflags(report: &Report) {
    for var in ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS"] {
        if std::env::var_os(var).is_some() {
            report.warn(&format!(
                "ignoring {var}: it would replace the static-linking flags of .cargo/config.toml; \
                 put flags in a [target] table there instead"
            ));
        }
        std::env::remove_var(var);
    }
}

/// `--profile dist` needs the profile; cargo's own error would not say what to add. Cargo answers
/// for its own manifest (`[profile.dist]`, `[profile] dist = {...}`, dotted keys alike):
/// `cargo clean --dry-run` resolves the profile in about 30 ms and deletes nothing, where a TOML
/// parser would add five crates to the xtask's first compile.
fn dist_profile_answer(sh: &Shell) -> Result<std::process::Output> {
    let cargo = config::cargo_program();
    // A target dir that does not exist: cargo then answers without listing the real one, which
    // would also rewrite its cache of rustc's answers (target/.rustc_info.json) for a different
    // rustc command than the builds', so the next cargo build asked rustc again: 0.06-0.1 s of
    // a warm no-op run. A dry run creates nothing.
    let nowhere = std::env::temp_dir().join(format!("xtask-no-target-dir-{}", std::process::id()));
    cmd!(
        sh,
        "{cargo} clean --profile dist --dry-run --quiet --target-dir {nowhere}"
    )
    .quiet()
    .ignore_status()
    .output()
    .context("asking cargo whether the workspace defines the dist profile")
}

/// The one-line error for a workspace without the dist profile, from `dist_profile_answer`.
fn check_dist_profile(ws: &Workspace, out: std::process::Output) -> Result<()> {
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.success() {
        return Ok(());
    }
    if stderr.contains("profile `dist` is not defined") {
        bail!(
            "{} has no [profile.dist]: add `[profile.dist]` with `inherits = \"release\"`, \
             `lto = true`, `codegen-units = 1`, `strip = true`",
            ws.root.join("Cargo.toml").display()
        );
    }
    bail!(
        "cargo could not read the dist profile: {}",
        stderr
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("no message")
    )
}

/// A scoped thread's result; a panic becomes an error.
fn joined<T>(thread: std::thread::ScopedJoinHandle<'_, Result<T>>) -> Result<T> {
    thread
        .join()
        .map_err(|_| anyhow::anyhow!("a planning thread panicked"))?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(triple: &str, status: Status) -> PlanEntry {
        PlanEntry {
            triple: TargetTriple::parse(triple).unwrap(),
            status,
        }
    }

    #[test]
    fn one_invocation_per_method_with_the_zig_host_alone_and_zig_last() {
        let skip = Status::Skip {
            missing: "x".into(),
            runner: "windows-2022",
        };
        let plan = [
            entry("x86_64-unknown-linux-gnu", Status::Build(How::Zigbuild)),
            entry("aarch64-unknown-linux-gnu", Status::Build(How::Zigbuild)),
            entry("x86_64-unknown-linux-musl", Status::Build(How::Zigbuild)),
            entry("x86_64-pc-windows-gnu", Status::Build(How::Build)),
            entry("x86_64-pc-windows-msvc", skip),
            entry("x86_64-apple-darwin", Status::Build(How::Zigbuild)),
            entry("aarch64-apple-darwin", Status::Build(How::Zigbuild)),
        ];
        let host = TargetTriple::parse("x86_64-unknown-linux-gnu").unwrap();
        let floors = Floors::with_glibc(linkaudit::GlibcVersion::new(2, 17));
        let found: Vec<(How, Vec<String>)> = invocations(&plan, &host, &floors)
            .into_iter()
            .map(|(how, triples)| (how, triples.iter().map(|t| t.to_string()).collect()))
            .collect();
        assert_eq!(
            found,
            [
                // First: no zig needed, so finding zig overlaps it.
                (How::Build, vec!["x86_64-pc-windows-gnu".to_owned()]),
                (
                    How::Zigbuild,
                    vec![
                        "aarch64-unknown-linux-gnu".to_owned(),
                        "x86_64-unknown-linux-musl".to_owned()
                    ]
                ),
                // Rust's default floors differ: 10.12 for x86_64, 11.0 for aarch64.
                (How::Zigbuild, vec!["x86_64-apple-darwin".to_owned()]),
                (How::Zigbuild, vec!["aarch64-apple-darwin".to_owned()]),
                (How::Zigbuild, vec!["x86_64-unknown-linux-gnu".to_owned()]),
            ]
        );
    }
}
