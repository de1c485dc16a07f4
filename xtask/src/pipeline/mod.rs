//! `cargo xtask dist`: build the release matrix, verify every binary's linkage, pack
//! reproducible archives with checksums and a manifest. This file only sequences the steps; each
//! step owns its file:
//!
//! plan.rs -> build.rs -> verify.rs -> pack.rs (+ smoke.rs) -> wheels.rs -> installer.rs ->
//! handover.rs, then summary.rs prints what was written.
//!
//! Nothing touches the out dir before the staging step, and the staging dir is removed on any
//! error before the handover, so a failed run leaves the out dir as it was; a run killed at any
//! moment leaves it consistent (handover.rs).

mod build;
pub mod handover;
pub mod installer;
pub mod pack;
pub mod plan;
mod smoke;
mod summary;
mod verify;
mod wheels;

use crate::workspace::manifest::{self, Manifest};
use crate::workspace::report::Report;
use crate::workspace::target::How;
use crate::workspace::tools;
use anyhow::{Context, Result};
pub use handover::{write_checksums_and_manifest, Staging};
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
    let out_dir = match &options.out_dir {
        Some(dir) => std::env::current_dir()?.join(dir),
        None => ws.root.join("dist"),
    };
    plan::print_plan(&report, &planned.plan, ws, &out_dir);
    let source = plan::Source::detect(&sh, &ws.root, &report)?;
    source.print(&report);

    let invocations = plan::invocations(&planned.plan, &host.triple);
    let buildable = planned.buildable();
    tools::ensure_rustup_targets(&sh, planned.rustup.as_ref(), &buildable, &report)?;
    let zigbuild = if invocations.iter().any(|(how, _)| *how == How::Zigbuild) {
        Some(tools::ensure_zigbuild(&sh, &ws.target_dir, &report)?)
    } else {
        None
    };
    for (how, triples) in &invocations {
        build::build(&sh, ws, *how, triples, zigbuild.as_ref(), &report)?;
    }
    let verified = verify::verify_all(ws, &buildable, &report, &out_dir)?;

    let mut staging = Staging::create(&out_dir)?;
    let mut artifacts = pack::pack_all(&sh, ws, host, &source, &verified, &staging.dir, &report)?;
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
    let manifest = Manifest {
        schema_version: manifest::SCHEMA_VERSION,
        source_commit: source.commit.clone(),
        source_date_epoch: source.epoch,
        rustc: source.rustc.clone(),
        glibc_floor: ws.glibc_floor.to_string(),
        artifacts,
    };
    let installer: Vec<String> = installer::write_installer(ws, &staging.dir, &report)?
        .into_iter()
        .collect();
    write_checksums_and_manifest(&staging.dir, &manifest, &[])?;
    staging.commit(&manifest, &installer)?;

    if options.json {
        print!("{}", manifest.to_json());
    } else {
        summary::print_summary(&report, &manifest, &verified, &out_dir);
    }
    Ok(())
}
