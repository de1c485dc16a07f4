//! The SBOMs of a release (`contract::sbom`): each archive's is the one its manifest entry
//! names, listed in SHA256SUMS, and byte for byte the SBOM this crate makes from the binaries
//! the archive really holds. A forged or stale SBOM cannot pass by agreeing with itself.

use super::entries::BinaryFacts;
use super::Report;
use crate::contract::sbom::{cyclonedx, sbom_name, SbomBinary, SbomInput, SBOM_SUFFIX};
use crate::contract::{self, Artifact, Manifest, CHECKSUMS, MANIFEST};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Each artifact's SBOM is named for its archive, present and listed in SHA256SUMS; an archive
/// without one is a warning; an SBOM file no artifact names fails.
pub(super) fn check_listing(
    files: &BTreeSet<String>,
    manifest: &Manifest,
    listed: &BTreeMap<String, String>,
    report: &mut Report,
) {
    let mut named = BTreeSet::new();
    for artifact in &manifest.artifacts {
        let expected = sbom_name(&artifact.archive);
        let Some(sbom) = &artifact.sbom else {
            if expected.is_some() {
                report.warn(&artifact.archive, format!("has no SBOM: its entry in {MANIFEST} names none (a release made before SBOMs were written)"));
            }
            continue;
        };
        named.insert(sbom.as_str());
        if expected.as_ref() != Some(sbom) {
            let want = expected.map_or(
                "none (a wheel's binaries are an archive's)".to_owned(),
                |e| format!("`{e}`"),
            );
            report.fail(
                sbom,
                format!(
                    "is named in {MANIFEST} as the SBOM of {} but that archive's SBOM is {want}",
                    artifact.archive
                ),
            );
        } else if !files.contains(sbom) {
            report.fail(
                sbom,
                format!(
                    "named in {MANIFEST} as the SBOM of {} but missing",
                    artifact.archive
                ),
            );
        } else if !listed.contains_key(sbom) {
            report.fail(sbom, format!("SBOM not listed in {CHECKSUMS}"));
        }
    }
    for file in files.iter().filter(|f| f.ends_with(SBOM_SUFFIX)) {
        if !named.contains(file.as_str()) {
            report.fail(file, format!("is an SBOM that no artifact of {MANIFEST} names: remove it or write the release again"));
        }
    }
}

/// The SBOM of `archive` (when its manifest entry names one that is there) against the SBOM
/// made from `binaries`, the archive's binaries as read.
pub(super) fn check_content(
    dir: &Path,
    archive: &str,
    manifest: &Manifest,
    binaries: &[BinaryFacts],
    report: &mut Report,
) {
    let Some(artifact) = manifest.artifacts.iter().find(|a| a.archive == archive) else {
        return;
    };
    let Some(sbom) = artifact
        .sbom
        .as_deref()
        .filter(|s| sbom_name(archive).as_deref() == Some(s))
    else {
        return;
    };
    // An SBOM of a few hundred crates is tens of KiB; 64 MiB bounds what a forged one costs.
    let Ok(actual) = contract::read_text(&dir.join(sbom), 64 << 20) else {
        return; // check_listing reported it missing or unreadable
    };
    let expected = cyclonedx(&sbom_input(artifact, manifest.source_date_epoch, binaries));
    if actual != expected {
        let line = actual
            .lines()
            .zip(expected.lines())
            .position(|(a, e)| a != e)
            .unwrap_or(actual.lines().count().min(expected.lines().count()))
            + 1;
        report.fail(sbom, format!("does not describe {archive} as it is (first difference at line {line}): the SBOM or the archive changed after the release was made"));
    }
}

/// What the SBOM says: the manifest's package, version and target, the archive's hash, and
/// each binary the manifest lists, as found in the archive.
pub fn sbom_input<'a>(
    artifact: &'a Artifact,
    source_date_epoch: u64,
    binaries: &'a [BinaryFacts],
) -> SbomInput<'a> {
    SbomInput {
        package: &artifact.package,
        version: &artifact.version,
        target: &artifact.target,
        archive: &artifact.archive,
        archive_sha256: &artifact.sha256,
        source_date_epoch,
        binaries: binaries
            .iter()
            .filter(|b| artifact.binaries.iter().any(|m| m.path == b.path))
            .map(|b| SbomBinary {
                path: &b.path,
                sha256: b.sha256.clone(),
                libraries: b.libraries.clone(),
                deps: b.deps.as_ref(),
            })
            .collect(),
    }
}
