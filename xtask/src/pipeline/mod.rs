//! `cargo xtask dist`: build the release matrix, verify every binary's linkage, pack
//! reproducible archives with checksums and a manifest. This file only sequences the steps; each
//! step owns its file:
//!
//! plan.rs (+ source.rs) -> build.rs (+ c_toolchain.rs) -> verify.rs -> pack.rs (+ smoke.rs) ->
//! sbom.rs -> wheels.rs -> installer.rs -> sign.rs -> handover.rs, then summary.rs prints what
//! was written. verify.rs to wheels.rs run for each cargo invocation's targets while cargo
//! builds the next ones (`build_and_pack`).
//!
//! A run holds the out dir's lock (workspace/lock.rs) from the plan to its exit, and reads the
//! signing key before it builds. Everything is written into a staging dir inside the out dir
//! and nothing else there changes before the handover; the staging dir is removed on any error
//! before the handover, so a failed run leaves the out dir as it was; a run killed at any moment
//! leaves it consistent (handover.rs, sign.rs).

mod build;
mod build_env;
pub mod c_toolchain;
pub mod floor_gcc;
pub mod handover;
pub mod installer;
mod jemalloc_make;
pub mod pack;
pub mod plan;
mod reproducible;
mod sbom;
mod sign;
pub mod smoke;
mod source;
mod summary;
mod verify;
mod wheels;
mod zig_runtime;

use crate::workspace::binstall;
use crate::workspace::config::Workspace;
use crate::workspace::lock::OutDirLock;
use crate::workspace::manifest::{self, Artifact, Manifest};
use crate::workspace::report::Report;
use crate::workspace::signing::Signer;
use crate::workspace::target::{How, TargetTriple};
use crate::workspace::{auditable, tools};
use anyhow::{Context, Result};
pub use handover::{write_checksums_and_manifest, Staging};
pub use sign::commit_signed;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use xshell::Shell;

pub struct Options {
    pub targets: Vec<String>,
    pub out_dir: Option<PathBuf>,
    pub json: bool,
    /// Also write wheels, as `wheels = true` in the config does.
    pub wheels: bool,
}

pub fn run(options: Options) -> Result<()> {
    let report = Report::new(options.json);
    let sh = Shell::new().context("starting a shell")?;
    let planned = plan::Planned::new(&sh, &options.targets, &report)?;
    let ws = &planned.ws;
    // Before the lock, which creates the out dir: a mismatch leaves nothing behind.
    let planned_targets: Vec<TargetTriple> =
        planned.plan.iter().map(|e| e.triple.clone()).collect();
    binstall::check(ws, &planned_targets, &report)?;
    let out_dir = match &options.out_dir {
        Some(dir) => std::env::current_dir()?.join(dir),
        None => ws.root.join("dist"),
    };
    let _lock = OutDirLock::acquire(&out_dir)?;
    let signer = Signer::from_env_for(&sh, ws)?;
    plan::print_plan(&report, &planned.plan, ws, &out_dir);
    let mut source = source::Source::detect(&ws.root, &planned.rustc_version, &report)?;
    source.print(&report);

    let buildable = planned.buildable();
    let mut staging = Staging::create(&out_dir)?;
    let wheels = options.wheels || ws.wheels;
    let dirs = (staging.dir.as_path(), out_dir.as_path());
    let packed = build_and_pack(&sh, &planned, &buildable, (&source, wheels), dirs, &report)?;
    source.c_toolchains = packed.toolchains;
    let (verified, mut artifacts, mut sboms) = (packed.verified, packed.artifacts, packed.sboms);
    artifacts.sort_by(|a, b| a.archive.cmp(&b.archive));
    sboms.sort();
    let manifest = manifest_of(ws, &source, artifacts);
    // Files that move with the archives: install.sh and the SBOMs (listed in SHA256SUMS).
    let extra: Vec<String> = installer::write_installer(ws, &staging.dir, &report)?
        .into_iter()
        .chain(sboms.iter().map(|(name, _)| name.clone()))
        .collect();
    write_checksums_and_manifest(&staging.dir, &manifest, &sboms)?;
    let signer = signer.as_ref();
    commit_signed(&mut staging, &out_dir, &manifest, &extra, signer, &report)?;

    if options.json {
        print!("{}", manifest.to_json());
    } else {
        summary::print_summary(&report, &manifest, &verified, &out_dir);
    }
    Ok(())
}

/// The manifest of this run: its source, floors and artifacts.
fn manifest_of(ws: &Workspace, source: &source::Source, artifacts: Vec<Artifact>) -> Manifest {
    Manifest {
        schema_version: manifest::SCHEMA_VERSION,
        source_commit: source.commit.clone(),
        source_date_epoch: source.epoch,
        rustc: source.rustc.clone(),
        glibc_floor: ws.glibc_floor.to_string(),
        macos_floor: ws.macos_floor.map(|v| v.to_string()),
        artifacts,
    }
}

/// What `build_and_pack` made: every target's C toolchain, verified binaries, archives (and
/// wheels) with their SBOMs, all in the staging dir.
struct Packed {
    toolchains: BTreeMap<TargetTriple, Option<String>>,
    verified: Vec<verify::Verified>,
    artifacts: Vec<Artifact>,
    sboms: Vec<(String, String)>,
}

/// One build invocation's targets, built, for the pack thread.
struct Built {
    triples: Vec<TargetTriple>,
    source: source::Source,
}

/// Adds the missing rustup targets (and cargo-zigbuild when a target needs it, cargo-auditable
/// always), then runs one cargo or cargo-zigbuild per build method. Each invocation's targets
/// are verified, packed, smoke-run and given their SBOMs and wheels on one thread while cargo
/// builds the next ones: on a warm no-op run those steps took about 0.15 s after the last
/// build (0.8 s on a new commit, where every archive is packed again). Their lines are held
/// back and printed in order after the builds; a failed check stops the builds still to come.
fn build_and_pack(
    sh: &Shell,
    planned: &plan::Planned,
    buildable: &[TargetTriple],
    (source, wheels): (&source::Source, bool),
    dirs: (&Path, &Path),
    report: &Report,
) -> Result<Packed> {
    let ws = &planned.ws;
    let invocations = plan::invocations(&planned.plan, &planned.host.triple, &planned.ws.floors());
    tools::ensure_rustup_targets(sh, planned.rustup.as_ref(), buildable, report)?;
    let auditable = auditable::ensure_auditable(sh, &ws.target_dir, report)?;
    // With cargo-zigbuild on PATH, zig is asked for when the first zig invocation starts, after
    // those that need none (`invocations`); an install (pip) happens before any build, so that
    // a failed one stops the run at once.
    let needs_zig = invocations.iter().any(|(how, _)| *how == How::Zigbuild);
    let mut zigbuild = None;
    if needs_zig && tools::which("cargo-zigbuild").is_none() {
        zigbuild = Some(tools::ensure_zigbuild(sh, &ws.target_dir, report)?);
    }
    let failed = std::sync::atomic::AtomicBool::new(false);
    let (send, receive) = std::sync::mpsc::channel::<Built>();
    let mut toolchains = BTreeMap::new();
    let zig_targets = zig_linux_targets(ws, &invocations);
    let early_zig = zigbuild.as_ref().map(|z| z.zig.clone());
    let builds_ended = std::sync::atomic::AtomicBool::new(false);
    let (built, checked) = std::thread::scope(|scope| {
        // zig's runtime libraries, built beside the first crates (zig_runtime.rs).
        scope.spawn(|| {
            zig_runtime::build_ahead(ws, &zig_targets, early_zig.as_deref(), &builds_ended)
        });
        // One thread for all invocations, in order: two smoke steps at once would unpack one
        // archive's binaries while starting another's (ETXTBSY, see smoke.rs).
        let packer = scope.spawn(|| {
            tools::lower_thread_priority();
            let mut results = Vec::new();
            for built in receive {
                let held = report.held_back();
                let result = pack_built(planned, &built, wheels, dirs, &held);
                failed.fetch_or(result.is_err(), std::sync::atomic::Ordering::Relaxed);
                results.push((result, held));
            }
            results
        });
        let built = (|| -> Result<()> {
            for (how, triples) in &invocations {
                if failed.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                if *how == How::Zigbuild && zigbuild.is_none() {
                    zigbuild = Some(tools::ensure_zigbuild(sh, &ws.target_dir, report)?);
                }
                let host = &planned.host.triple;
                let found = build::build(
                    sh,
                    ws,
                    (*how, host),
                    triples,
                    zigbuild.as_ref(),
                    &auditable,
                    report,
                )?;
                let mut source = source.clone();
                source.c_toolchains = found.iter().cloned().collect();
                toolchains.extend(found);
                let triples = triples.clone();
                // A send fails only when the packer is gone: it panicked, and its join says so.
                let _ = send.send(Built { triples, source });
            }
            Ok(())
        })();
        drop(send);
        builds_ended.store(true, std::sync::atomic::Ordering::Relaxed);
        (built, scope_join(packer))
    });
    let checked = checked?;
    let mut packed = Packed {
        toolchains,
        verified: Vec::new(),
        artifacts: Vec::new(),
        sboms: Vec::new(),
    };
    for (result, held) in checked {
        held.replay(report);
        let (verified, artifacts, sboms) = result?;
        packed.verified.extend(verified);
        packed.artifacts.extend(artifacts);
        packed.sboms.extend(sboms);
    }
    built?;
    Ok(packed)
}

/// zig's names of the Linux targets that cargo-zigbuild links in this run.
fn zig_linux_targets(ws: &Workspace, invocations: &[(How, Vec<TargetTriple>)]) -> Vec<String> {
    invocations
        .iter()
        .filter(|(how, _)| *how == How::Zigbuild)
        .flat_map(|(_, triples)| triples)
        .filter_map(|triple| c_toolchain::zig_linux_target(ws, triple))
        .collect()
}

/// Verifies, packs, smoke-runs one invocation's targets and writes their SBOMs and wheels into
/// the staging dir (`dirs`: staging and out dir).
#[allow(clippy::type_complexity)]
fn pack_built(
    planned: &plan::Planned,
    built: &Built,
    wheels: bool,
    (staging, out_dir): (&Path, &Path),
    report: &Report,
) -> Result<(Vec<verify::Verified>, Vec<Artifact>, Vec<(String, String)>)> {
    let (ws, source) = (&planned.ws, &built.source);
    let verified = verify::verify_all(ws, &built.triples, report, out_dir)?;
    let mut artifacts = pack::pack_all(ws, &planned.host, source, &verified, staging, report)?;
    let sboms = sbom::write_sboms(staging, source.epoch, &verified, &mut artifacts, report)?;
    if wheels {
        artifacts.extend(wheels::wheel_all(ws, source, &verified, staging, report)?);
    }
    Ok((verified, artifacts, sboms))
}

fn scope_join<T>(thread: std::thread::ScopedJoinHandle<'_, T>) -> Result<T> {
    thread
        .join()
        .map_err(|_| anyhow::anyhow!("the pack thread panicked"))
}
