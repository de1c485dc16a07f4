//! `cargo xtask gather`: the release workflow builds each target on its own
//! runner (`cargo xtask dist --target T --out-dir PART`); this merges those parts into one dist/,
//! rebuilds `SHA256SUMS` and `dist-manifest.json` from them, and checks the whole with linkaudit's
//! `verify` before anything is published.
//!
//! Every check runs before the out dir is touched: a part missing for a target of the matrix, a
//! target in two parts, an archive whose bytes disagree with its `.sha256`, the part's SHA256SUMS
//! or its manifest, parts built from different commits, or a shared file (install.sh) that differs
//! between parts each fail with one line naming the part, target or file. The result is written
//! to a staging dir, verified there, and only then renamed into place (as `cargo xtask dist` does).

mod merge;
mod part;

use crate::pipeline::{commit_signed, Staging};
use crate::workspace::checksums::SHA256SUMS;
use crate::workspace::config::Workspace;
use crate::workspace::lock::OutDirLock;
use crate::workspace::manifest::MANIFEST;
use crate::workspace::report::{human_size, Report};
use crate::workspace::signing::Signer;
use anyhow::{bail, Context, Result};
use merge::Release;
use part::Part;
use std::path::{Path, PathBuf};
use xshell::{cmd, Shell};

/// The installer is written into every part, identical: copied once.
pub(super) const INSTALLER: &str = "install.sh";

pub struct Options {
    pub parts: Vec<PathBuf>,
    pub out_dir: Option<PathBuf>,
    /// Only these targets of the matrix (a local rehearsal); empty: all of them.
    pub targets: Vec<String>,
}

pub fn run(options: Options) -> Result<()> {
    let report = Report::new(false);
    let sh = Shell::new().context("starting a shell")?;
    let mut ws = Workspace::load(&sh)?;
    if !options.targets.is_empty() {
        ws.targets
            .retain(|t| options.targets.iter().any(|only| only == t.as_str()));
    }
    let out_dir = match &options.out_dir {
        Some(dir) => std::env::current_dir()?.join(dir),
        None => ws.root.join("dist"),
    };
    let _lock = OutDirLock::acquire(&out_dir)?;
    let signer = Signer::from_env_for(&sh, &ws)?;
    if options.parts.is_empty() {
        bail!("no part given: pass the directories `cargo xtask dist --target T --out-dir PART` wrote");
    }
    let parts: Vec<Part> = options
        .parts
        .iter()
        .map(|dir| Part::read(dir))
        .collect::<Result<_>>()?;
    let head = head_commit(&sh, &ws.root);
    let release = Release::merge(&ws, head.as_deref(), &parts, &report)?;
    list_artifacts(&report, &release);

    let mut staging = Staging::create(&out_dir)?;
    let extra = release.stage(&staging.dir)?;
    verify_staged(&report, &staging.dir, &out_dir)?;
    let (manifest, signer) = (&release.manifest, signer.as_ref());
    commit_signed(&mut staging, &out_dir, manifest, &extra, signer, &report)?;
    report.line(&format!(
        "gathered {} target(s) from {} part(s) into {}: archives, their .sha256, {SHA256SUMS}, \
         {MANIFEST}{}",
        release.by_target.len(),
        parts.len(),
        out_dir.display(),
        if release.shared.contains_key(INSTALLER) {
            format!(" and {INSTALLER}")
        } else {
            String::new()
        }
    ));
    report.line(&format!(
        "commit {} | SOURCE_DATE_EPOCH {} | {}",
        release.manifest.source_commit.as_deref().unwrap_or("none"),
        release.manifest.source_date_epoch,
        release.manifest.rustc
    ));
    Ok(())
}

/// One line per gathered archive: its target, size, sha256 prefix and the part it came from.
fn list_artifacts(report: &Report, release: &Release) {
    for (target, (part, artifacts)) in &release.by_target {
        for artifact in artifacts {
            report.step(
                "gather",
                target,
                &format!(
                    "{} ({}, sha256 {}) from {part}",
                    artifact.archive,
                    human_size(artifact.size),
                    &artifact.sha256[..12]
                ),
            );
        }
    }
}

/// `linkaudit verify` over the staged release: a failure leaves the out dir as it was.
fn verify_staged(report: &Report, staged: &Path, out_dir: &Path) -> Result<()> {
    let checked = linkaudit::verify::verify_dir(staged).map_err(|err| {
        anyhow::anyhow!("linkaudit verify could not check the gathered release: {err}")
    })?;
    if let Some(first) = checked.failures.first() {
        for failure in &checked.failures {
            report.line(&format!("verify  FAIL {failure}"));
        }
        let more = match checked.failures.len() {
            1 => String::new(),
            n => format!(" (and {} more above)", n - 1),
        };
        bail!(
            "linkaudit verify refused the gathered release: {first}{more}; {} is unchanged",
            out_dir.display()
        );
    }
    report.line(&format!(
        "verify  linkaudit verify: {} archive(s), {} binaries: pass",
        checked.archives, checked.binaries
    ));
    Ok(())
}

fn head_commit(sh: &Shell, root: &Path) -> Option<String> {
    let _dir = sh.push_dir(root);
    cmd!(sh, "git rev-parse HEAD")
        .quiet()
        .ignore_stderr()
        .read()
        .ok()
}
