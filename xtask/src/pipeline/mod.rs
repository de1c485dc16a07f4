//! `cargo xtask dist`: build the release matrix, verify every binary's linkage, pack
//! reproducible archives with checksums and a manifest. This file only sequences the steps; each
//! step owns its file:
//!
//! plan.rs (+ source.rs) -> build.rs (+ c_toolchain.rs) -> verify.rs -> pack.rs (+ smoke.rs) ->
//! sbom.rs -> wheels.rs -> installer.rs -> sign.rs -> handover.rs, then summary.rs prints what
//! was written.
//!
//! A run holds the out dir's lock (workspace/lock.rs) from the plan to its exit, and reads the
//! signing key before it builds. Nothing touches the out dir before the staging step, and the
//! staging dir is removed on any error before the handover, so a failed run leaves the out dir as
//! it was; a run killed at any moment leaves it consistent (handover.rs, sign.rs).

mod build;
mod c_toolchain;
pub mod handover;
pub mod installer;
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
use std::path::PathBuf;
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
    let (ws, host) = (&planned.ws, &planned.host);
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
    let mut source = source::Source::detect(&sh, &ws.root, &report)?;
    source.print(&report);

    let buildable = planned.buildable();
    source.c_toolchains = build_all(&sh, &planned, &buildable, &report)?;
    let verified = verify::verify_all(ws, &buildable, &report, &out_dir)?;

    let mut staging = Staging::create(&out_dir)?;
    let mut artifacts = pack::pack_all(ws, host, &source, &verified, &staging.dir, &report)?;
    let sboms = sbom::write_sboms(
        &staging.dir,
        source.epoch,
        &verified,
        &mut artifacts,
        &report,
    )?;
    if options.wheels || ws.wheels {
        artifacts.extend(wheels::wheel_all(
            ws,
            &source,
            &verified,
            &staging.dir,
            &report,
        )?);
        artifacts.sort_by(|a, b| a.archive.cmp(&b.archive));
    }
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

/// Adds the missing rustup targets (and cargo-zigbuild when a target needs it, cargo-auditable
/// always), then runs one cargo or cargo-zigbuild per build method; returns each target's C
/// toolchain.
fn build_all(
    sh: &Shell,
    planned: &plan::Planned,
    buildable: &[TargetTriple],
    report: &Report,
) -> Result<BTreeMap<TargetTriple, Option<String>>> {
    let ws = &planned.ws;
    let invocations = plan::invocations(&planned.plan, &planned.host.triple, &planned.ws.floors());
    tools::ensure_rustup_targets(sh, planned.rustup.as_ref(), buildable, report)?;
    let zigbuild = if invocations.iter().any(|(how, _)| *how == How::Zigbuild) {
        Some(tools::ensure_zigbuild(sh, &ws.target_dir, report)?)
    } else {
        None
    };
    let auditable = auditable::ensure_auditable(sh, &ws.target_dir, report)?;
    let mut toolchains = BTreeMap::new();
    for (how, triples) in &invocations {
        let host = &planned.host.triple;
        toolchains.extend(build::build(
            sh,
            ws,
            (*how, host),
            triples,
            zigbuild.as_ref(),
            &auditable,
            report,
        )?);
    }
    Ok(toolchains)
}
