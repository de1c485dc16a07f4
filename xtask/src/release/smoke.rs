//! `cargo xtask smoke PART...`: start every binary of a part's archives once with `--version`,
//! on a runner other than the one that built them. The release workflow runs it for targets whose
//! build runner cannot start them (x86_64 Apple built on arm64 macOS, aarch64 Windows built on
//! x86_64 Windows), so every shipped binary has been started at least once before publishing.

use crate::pipeline::smoke::{runner_for, smoke_run};
use crate::workspace::archive::unpack;
use crate::workspace::checksums::sha256_file;
use crate::workspace::manifest::{Manifest, MANIFEST};
use crate::workspace::report::Report;
use crate::workspace::target::TargetTriple;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use xshell::Shell;

pub fn run(parts: &[PathBuf]) -> Result<()> {
    if parts.is_empty() {
        bail!("no part given: pass the directories `cargo xtask dist --target T --out-dir PART` wrote");
    }
    let sh = Shell::new().context("starting a shell")?;
    let ws = crate::workspace::config::Workspace::load(&sh)?;
    let host = crate::pipeline::plan::detect_host(&sh, &ws)?.triple;
    for part in parts {
        smoke_part(&host, part)?;
    }
    Ok(())
}

fn smoke_part(host: &TargetTriple, part: &Path) -> Result<()> {
    let manifest = Manifest::read(&part.join(MANIFEST)).with_context(|| {
        format!(
            "{} is not a part written by cargo xtask dist",
            part.display()
        )
    })?;
    let scratch = part.join(".smoke");
    let archives = manifest
        .artifacts
        .iter()
        .filter(|a| !a.archive.ends_with(".whl"));
    let mut started = 0;
    for artifact in archives {
        let target = TargetTriple::parse(&artifact.target)?;
        let runner = runner_for(host, &target, crate::workspace::tools::which, Path::is_dir)
            .map_err(|reason| {
                anyhow::anyhow!(
                    "cannot start the {target} binaries here: {reason}; the plan's smoke runner \
                     for {target} must be one that runs them (smoke-runners in \
                     [workspace.metadata.dist])"
                )
            })?;
        let archive = part.join(&artifact.archive);
        // The archive is the one the build job checked and summed, not something else.
        if sha256_file(&archive)? != artifact.sha256 {
            bail!(
                "{} does not match its sha256 in {MANIFEST}: download the part again",
                archive.display()
            );
        }
        let _ = std::fs::remove_dir_all(&scratch);
        unpack(&archive, &scratch)
            .with_context(|| format!("unpacking {} for the smoke run", archive.display()))?;
        for binary in &artifact.binaries {
            let line = smoke_run(&runner, &scratch.join(&binary.path))?;
            Report::new(false).step(
                "smoke",
                target.as_str(),
                &format!("{} --version {}: {line}", binary.name, runner.describe()),
            );
            started += 1;
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    if started == 0 {
        bail!("{} holds no binary to start", part.display());
    }
    Ok(())
}
