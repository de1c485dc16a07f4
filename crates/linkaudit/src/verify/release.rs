//! The directory level: `SHA256SUMS`, each `<archive>.sha256`, and the manifest's word about
//! each artifact (listed once, present, its size and sha256, its name and policy) against the
//! files.

use super::Report;
use crate::contract::checksums::{parse_sha256sums, parse_sidecar};
use crate::contract::naming::{is_archive, ArchiveName};
use crate::contract::{sha256_file, Artifact, Manifest, CHECKSUMS, MANIFEST};
use crate::{Floors, GlibcVersion, OsVersion, Policy};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Runs the directory-level checks; returns the floors the archives are held to.
pub(super) fn check(
    dir: &Path,
    files: &BTreeSet<String>,
    manifest: Option<&Manifest>,
    checksums_text: &str,
    report: &mut Report,
) -> Floors {
    let mut hashes = Hashes::new(dir);
    let (listed, problems) = parse_sha256sums(checksums_text);
    for problem in problems {
        report.fail(CHECKSUMS, problem);
    }
    for (name, expected) in &listed {
        match hashes.of(name) {
            Ok(actual) if &actual == expected => {}
            Ok(actual) => report.fail(name, format!("its sha256 is {actual} but {CHECKSUMS} says {expected}: the file or its line changed after the release was made; download both again")),
            Err(err) => report.fail(name, format!("listed in {CHECKSUMS} but cannot be read ({err})")),
        }
    }
    for archive in files.iter().filter(|name| is_archive(name)) {
        if !listed.contains_key(archive) {
            report.fail(archive, format!("archive not listed in {CHECKSUMS}"));
        }
        if !files.contains(&format!("{archive}.sha256")) {
            report.fail(archive, format!("no {archive}.sha256 beside it"));
        }
    }
    for sidecar in files.iter().filter(|name| name.ends_with(".sha256")) {
        check_sidecar(dir, sidecar, files, &listed, &mut hashes, report);
    }
    let Some(manifest) = manifest else {
        return Floors::with_glibc(super::DEFAULT_GLIBC_FLOOR);
    };
    super::sbom::check_listing(files, manifest, &listed, report);
    check_manifest(dir, files, manifest, &mut hashes, report)
}

/// The manifest's header and each artifact against the files; returns its floors.
fn check_manifest(
    dir: &Path,
    files: &BTreeSet<String>,
    manifest: &Manifest,
    hashes: &mut Hashes,
    report: &mut Report,
) -> Floors {
    let floors = manifest_floors(manifest, report);
    let mut previous: Option<&str> = None;
    for artifact in &manifest.artifacts {
        let name = artifact.archive.as_str();
        if previous.is_some_and(|previous| previous >= name) {
            report.fail(name, format!("listed in {MANIFEST} out of order or more than once: each archive is described once, sorted by name"));
        }
        previous = Some(name);
        if !is_archive(name) || name.contains(['/', '\\']) {
            report.fail(
                MANIFEST,
                format!("artifact {name:?} is not an archive or wheel file name"),
            );
            continue;
        }
        if !name.ends_with(".whl") {
            check_archive_name(artifact, report);
        }
        check_policy(artifact, &floors, report);
        check_artifact_file(dir, files, artifact, hashes, report);
    }
    let described: BTreeSet<&str> = manifest
        .artifacts
        .iter()
        .map(|a| a.archive.as_str())
        .collect();
    for archive in files.iter().filter(|name| is_archive(name)) {
        if !described.contains(archive.as_str()) {
            report.fail(archive, format!("archive not described in {MANIFEST}"));
        }
    }
    floors
}

/// The manifest's floors; one that does not parse is reported and the default used.
fn manifest_floors(manifest: &Manifest, report: &mut Report) -> Floors {
    let glibc = match manifest.glibc_floor.parse::<GlibcVersion>() {
        Ok(floor) => floor,
        Err(err) => {
            report.fail(
                MANIFEST,
                format!(
                    "glibc_floor {:?} is not a glibc version ({err}); gnu archives are held to {}",
                    manifest.glibc_floor,
                    super::DEFAULT_GLIBC_FLOOR
                ),
            );
            super::DEFAULT_GLIBC_FLOOR
        }
    };
    // null: each Apple target keeps Rust's default floor.
    let macos = manifest.macos_floor.as_deref().and_then(|text| {
        text.parse::<OsVersion>()
            .map_err(|err| {
                let problem = format!("macos_floor {text:?} is not a macOS version ({err}); Apple archives are held to Rust's defaults (10.12 x86_64, 11.0 aarch64)");
                report.fail(MANIFEST, problem);
            })
            .ok()
    });
    Floors {
        macos,
        ..Floors::with_glibc(glibc)
    }
}

/// The policy the manifest records for an artifact must be the one its target implies.
fn check_policy(artifact: &Artifact, floors: &Floors, report: &mut Report) {
    let name = artifact.archive.as_str();
    let policy = artifact
        .target
        .parse()
        .ok()
        .map(|target| Policy::for_target(&target, floors))
        .filter(|policies| !policies.is_empty())
        .map(|p| p.to_string());
    if artifact.policy != policy {
        report.fail(
            name,
            format!(
                "{MANIFEST} records the policy {:?} but its target {} implies {:?}",
                artifact.policy, artifact.target, policy
            ),
        );
    }
}

/// The artifact's file: present, with the manifest's sha256 and size.
fn check_artifact_file(
    dir: &Path,
    files: &BTreeSet<String>,
    artifact: &Artifact,
    hashes: &mut Hashes,
    report: &mut Report,
) {
    let name = artifact.archive.as_str();
    if !files.contains(name) {
        report.fail(name, format!("listed in {MANIFEST} but missing"));
        return;
    }
    match hashes.of(name) {
        Ok(actual) if actual == artifact.sha256 => {}
        Ok(actual) => report.fail(
            name,
            format!(
                "its sha256 is {actual} but {MANIFEST} says {}",
                artifact.sha256
            ),
        ),
        Err(err) => report.fail(name, format!("cannot be read ({err})")),
    }
    if let Ok(metadata) = std::fs::symlink_metadata(dir.join(name)) {
        if metadata.len() != artifact.size {
            report.fail(
                name,
                format!(
                    "its size is {} bytes but {MANIFEST} says {}",
                    metadata.len(),
                    artifact.size
                ),
            );
        }
    }
}

/// The archive's name is `<package>-<target>.<ext>` for the artifact's own package and target.
fn check_archive_name(artifact: &Artifact, report: &mut Report) {
    let name = &artifact.archive;
    match ArchiveName::parse(name) {
        Some(parsed)
            if parsed.package == artifact.package && parsed.target.as_str() == artifact.target => {}
        _ => report.fail(name, format!("{MANIFEST} says package {} target {}, which would be named {}-{}.<tar.gz or zip>: the name and the manifest disagree", artifact.package, artifact.target, artifact.package, artifact.target)),
    }
}

/// `<archive>.sha256` holds one line naming its archive, with the hash SHA256SUMS and the file have.
fn check_sidecar(
    dir: &Path,
    sidecar: &str,
    files: &BTreeSet<String>,
    listed: &BTreeMap<String, String>,
    hashes: &mut Hashes,
    report: &mut Report,
) {
    let archive = sidecar.strip_suffix(".sha256").unwrap_or(sidecar);
    if !files.contains(archive) {
        return report.fail(sidecar, format!("its archive {archive} is missing"));
    }
    let text = match crate::contract::read_text(&dir.join(sidecar), 4096) {
        Ok(text) => text,
        Err(err) => return report.fail(sidecar, format!("cannot be read ({err})")),
    };
    let hash = match parse_sidecar(&text, archive) {
        Ok(hash) => hash,
        Err(problem) => return report.fail(sidecar, problem),
    };
    if let Some(summed) = listed.get(archive) {
        if summed != hash {
            report.fail(
                sidecar,
                format!("says {hash} but {CHECKSUMS} says {summed} for {archive}"),
            );
        }
    }
    if let Ok(actual) = hashes.of(archive) {
        if actual != hash {
            report.fail(
                sidecar,
                format!("says {hash} but {archive} has sha256 {actual}"),
            );
        }
    }
}

/// sha256 of the files in the release directory, each read once, regular files only.
struct Hashes<'a> {
    dir: &'a Path,
    known: BTreeMap<String, Result<String, String>>,
}

impl<'a> Hashes<'a> {
    fn new(dir: &'a Path) -> Self {
        Hashes {
            dir,
            known: BTreeMap::new(),
        }
    }

    fn of(&mut self, name: &str) -> Result<String, String> {
        let dir = self.dir;
        self.known
            .entry(name.to_owned())
            .or_insert_with(|| sha256_file(&dir.join(name)).map_err(|err| err.to_string()))
            .clone()
    }
}
