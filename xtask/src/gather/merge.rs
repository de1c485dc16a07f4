//! Merging the checked parts into one release: one artifact list, the files they share copied
//! once, written into a staging dir with fresh checksums and manifest.

use super::part::{check_agreement, Part};
use crate::pipeline::write_checksums_and_manifest;
use crate::workspace::checksums::{self, SHA256SUMS};
use crate::workspace::config::Workspace;
use crate::workspace::fsio::{write_atomically, write_file_atomically};
use crate::workspace::manifest::{Artifact, Manifest};
use crate::workspace::report::Report;
use crate::workspace::target::TargetTriple;
use anyhow::{bail, Context, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// target -> (the label of the part holding it, its artifacts).
type ByTarget = BTreeMap<String, (String, Vec<Artifact>)>;

/// The merged release: what goes into the out dir, every part checked.
pub(super) struct Release {
    pub(super) manifest: Manifest,
    /// target -> (the part's label, its artifacts).
    pub(super) by_target: ByTarget,
    /// Files other than the manifest's archives (wheels, install.sh), by name.
    pub(super) shared: BTreeMap<String, Shared>,
    /// The archives: name -> the part dir holding it.
    pub(super) archives: BTreeMap<String, PathBuf>,
}

/// A file that is not one of the manifest's archives, and how the (first) part holding it
/// checksums it: a line in SHA256SUMS and/or a `.sha256` beside it.
pub(super) struct Shared {
    from: PathBuf,
    label: String,
    sha256: String,
    summed: bool,
    sidecar: bool,
}

impl Release {
    pub(super) fn merge(
        ws: &Workspace,
        head: Option<&str>,
        parts: &[Part],
        report: &Report,
    ) -> Result<Release> {
        let mut problems = Vec::new();
        for part in parts {
            part.check(&mut problems);
        }
        check_agreement(ws, head, parts, &mut problems);
        let (by_target, archives) = group_by_target(ws, parts, &mut problems);
        let shared = shared_files(parts, &archives, &mut problems);

        if let Some(first) = problems.first() {
            for problem in &problems {
                report.line(&format!("gather  FAIL {problem}"));
            }
            let more = match problems.len() {
                1 => String::new(),
                n => format!(" (and {} more above)", n - 1),
            };
            bail!("cannot gather: {first}{more}; nothing was written");
        }
        let manifest = merged_manifest(&parts[0].manifest, &by_target);
        Ok(Release {
            manifest,
            by_target,
            shared,
            archives,
        })
    }

    /// Copies archives and shared files into the staging dir, writes every .sha256, SHA256SUMS
    /// and the manifest. Returns the names `Staging::commit` moves besides archives and sidecars.
    pub(super) fn stage(&self, staging: &Path) -> Result<Vec<String>> {
        for (name, from) in &self.archives {
            copy(&from.join(name), &staging.join(name))?;
        }
        let mut summed = Vec::new();
        let mut extra = Vec::new();
        for (name, file) in &self.shared {
            copy(&file.from.join(name), &staging.join(name))?;
            extra.push(name.clone());
            if file.summed {
                summed.push((name.clone(), file.sha256.clone()));
            }
            if file.sidecar {
                extra.push(write_sidecar(staging, name, &file.sha256)?);
            }
        }
        for artifact in &self.manifest.artifacts {
            write_sidecar(staging, &artifact.archive, &artifact.sha256)?;
        }
        write_checksums_and_manifest(staging, &self.manifest, &summed)?;
        Ok(extra)
    }
}

fn copy(from: &Path, to: &Path) -> Result<()> {
    write_atomically(to, |mut out| {
        let mut file =
            std::fs::File::open(from).with_context(|| format!("opening {}", from.display()))?;
        std::io::copy(&mut file, &mut out)?;
        Ok(std::io::Write::flush(&mut out)?)
    })
}

fn write_sidecar(staging: &Path, name: &str, sha256: &str) -> Result<String> {
    let (sidecar, line) = checksums::sidecar(name, sha256);
    write_file_atomically(&staging.join(&sidecar), line.as_bytes())?;
    Ok(sidecar)
}

/// Each part's artifacts grouped by target: every target of this checkout's matrix in exactly
/// one part, with an archive of every package. Also where each archive is.
fn group_by_target(
    ws: &Workspace,
    parts: &[Part],
    problems: &mut Vec<String>,
) -> (ByTarget, BTreeMap<String, PathBuf>) {
    let expected: BTreeSet<String> = ws.targets.iter().map(|t| t.to_string()).collect();
    let packages: BTreeSet<&str> = ws.packages.iter().map(|p| p.name.as_str()).collect();
    let mut by_target = ByTarget::new();
    let mut archives = BTreeMap::new();
    for part in parts {
        let mut targets: BTreeMap<&str, Vec<Artifact>> = BTreeMap::new();
        for artifact in &part.manifest.artifacts {
            targets
                .entry(artifact.target.as_str())
                .or_default()
                .push(artifact.clone());
            archives.insert(artifact.archive.clone(), part.dir.clone());
        }
        for (target, artifacts) in targets {
            if TargetTriple::parse(target).is_err() || !expected.contains(target) {
                problems.push(format!(
                    "part {} holds target {target}, which is not in [workspace.metadata.dist] \
                     targets of this checkout",
                    part.label
                ));
            }
            let shipped: BTreeSet<&str> = artifacts.iter().map(|a| a.package.as_str()).collect();
            for missing in packages.difference(&shipped) {
                problems.push(format!(
                    "part {} has no archive of package {missing} for target {target}",
                    part.label
                ));
            }
            if let Some((other, _)) = by_target.get(target) {
                problems.push(format!(
                    "target {target} is in two parts, {other} and {}: each target is built \
                     by one job; pass each part once",
                    part.label
                ));
                continue;
            }
            by_target.insert(target.to_owned(), (part.label.clone(), artifacts));
        }
    }
    let missing: Vec<&str> = expected
        .iter()
        .filter(|t| !by_target.contains_key(*t))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        problems.push(format!(
            "no part holds target {}, which [workspace.metadata.dist] lists: its build job \
             failed or its dist-<target> artifact was not downloaded",
            missing.join(", ")
        ));
    }
    (by_target, archives)
}

/// Wheels and install.sh: not the manifest's archives, possibly in several parts; where a name
/// is in several parts the bytes must be the same (install.sh is written identically by each
/// run), and the file is copied once.
fn shared_files(
    parts: &[Part],
    archives: &BTreeMap<String, PathBuf>,
    problems: &mut Vec<String>,
) -> BTreeMap<String, Shared> {
    let mut shared: BTreeMap<String, Shared> = BTreeMap::new();
    for part in parts {
        for (name, sha256) in &part.hashes {
            if archives.contains_key(name) {
                continue;
            }
            let file = Shared {
                from: part.dir.clone(),
                label: part.label.clone(),
                sha256: sha256.clone(),
                summed: part.sums.contains_key(name),
                sidecar: part.files.contains(&format!("{name}.sha256")),
            };
            match shared.get(name) {
                Some(seen) if seen.sha256 != file.sha256 => problems.push(format!(
                    "{name} differs between parts {} (sha256 {}) and {} (sha256 {}): every \
                     build writes the same file; rebuild the parts from one commit",
                    seen.label, seen.sha256, file.label, file.sha256
                )),
                Some(seen) if (seen.summed, seen.sidecar) != (file.summed, file.sidecar) => {
                    problems.push(format!(
                        "{name} is checksummed differently in parts {} and {} ({SHA256SUMS} \
                         line or .sha256 file in one only): rebuild the parts from one commit",
                        seen.label, file.label
                    ))
                }
                Some(_) => {}
                None => {
                    shared.insert(name.clone(), file);
                }
            }
        }
    }
    shared
}

/// The parts' common header, every artifact sorted by archive name, and the compilers.
fn merged_manifest(first: &Manifest, by_target: &ByTarget) -> Manifest {
    let mut artifacts: Vec<Artifact> = by_target
        .values()
        .flat_map(|(_, artifacts)| artifacts.iter().cloned())
        .collect();
    artifacts.sort_by(|a, b| a.archive.cmp(&b.archive));
    let compilers: BTreeSet<&str> = artifacts.iter().map(|a| a.rustc.as_str()).collect();
    let rustc = compilers.into_iter().collect::<Vec<_>>().join("; ");
    Manifest {
        schema_version: first.schema_version,
        source_commit: first.source_commit.clone(),
        source_date_epoch: first.source_date_epoch,
        rustc,
        glibc_floor: first.glibc_floor.clone(),
        macos_floor: first.macos_floor.clone(),
        artifacts,
    }
}
