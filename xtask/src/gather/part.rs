//! One part of a release, as a build job uploaded it: read through the dist contract, and
//! checked file by file against its own `SHA256SUMS`, `.sha256` files and manifest.

use super::INSTALLER;
use crate::workspace::checksums::{self, SHA256SUMS};
use crate::workspace::config::Workspace;
use crate::workspace::manifest::{self, Artifact, Manifest, MANIFEST};
use crate::workspace::signing;
use anyhow::{bail, Context, Result};
use linkaudit::contract;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One directory written by `cargo xtask dist --out-dir`, as a build job uploaded it.
pub(super) struct Part {
    pub(super) dir: PathBuf,
    /// The directory as given on the command line, for messages.
    pub(super) label: String,
    pub(super) manifest: Manifest,
    /// Regular files in the part, by name.
    pub(super) files: BTreeSet<String>,
    /// SHA256SUMS of the part: name -> sha256.
    pub(super) sums: BTreeMap<String, String>,
    /// The actual sha256 of every file that is not a checksum file or the manifest.
    pub(super) hashes: BTreeMap<String, String>,
}

impl Part {
    pub(super) fn read(dir: &Path) -> Result<Part> {
        let label = dir.display().to_string();
        let not_a_part = |what: &str| {
            anyhow::anyhow!(
                "part {label}: {what}; a part is the directory `cargo xtask dist --target T \
                 --out-dir PART` wrote (the release workflow's dist-<target> artifact)"
            )
        };
        let entries = std::fs::read_dir(dir).map_err(|err| not_a_part(&format!("{err}")))?;
        let mut files = BTreeSet::new();
        for entry in entries {
            let entry = entry.with_context(|| format!("listing part {label}"))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if signing::is_signature(&name) {
                continue; // a part built with a key: gather signs the whole release again
            }
            if !entry.file_type()?.is_file() {
                bail!("part {label}: {name} is not a regular file; a part holds only files");
            }
            files.insert(name);
        }
        for required in [MANIFEST, SHA256SUMS] {
            if !files.contains(required) {
                return Err(not_a_part(&format!("no {required}")));
            }
        }
        let manifest = Manifest::read(&dir.join(MANIFEST))
            .map_err(|err| anyhow::anyhow!("part {label}: {MANIFEST} {err}"))?;
        let sums_text = contract::read_text(&dir.join(SHA256SUMS), 256 << 20)
            .with_context(|| format!("reading {label}/{SHA256SUMS}"))?;
        let (sums, problems) = contract::checksums::parse_sha256sums(&sums_text);
        if let Some(problem) = problems.first() {
            bail!("{label}/{SHA256SUMS}: {problem}");
        }
        let mut hashes = BTreeMap::new();
        for name in &files {
            if name != MANIFEST && name != SHA256SUMS && !name.ends_with(".sha256") {
                hashes.insert(name.clone(), checksums::sha256_file(&dir.join(name))?);
            }
        }
        Ok(Part {
            dir: dir.to_path_buf(),
            label,
            manifest,
            files,
            sums,
            hashes,
        })
    }

    /// `parts/dist-x86_64-unknown-linux-musl/fixture-cli-....tar.gz`
    pub(super) fn file(&self, name: &str) -> String {
        format!("{}/{name}", self.label)
    }

    /// Each file's bytes against the part's manifest, SHA256SUMS and `.sha256` files; every
    /// file is accounted for.
    pub(super) fn check(&self, problems: &mut Vec<String>) {
        let mut known: BTreeSet<&str> = [MANIFEST, SHA256SUMS].into();
        for artifact in &self.manifest.artifacts {
            let name = artifact.archive.as_str();
            if contract::checksums::name_problem(name).is_some() {
                problems.push(format!(
                    "{}: archive name {name:?} is not a file name",
                    self.file(MANIFEST)
                ));
                continue;
            }
            known.insert(name);
            self.check_archive(artifact, problems);
        }
        for (name, listed) in &self.sums {
            known.insert(name);
            match self.hashes.get(name) {
                None => problems.push(format!(
                    "{}: lists {name}, which is not in the part",
                    self.file(SHA256SUMS)
                )),
                Some(actual) if actual != listed => problems.push(format!(
                    "{}: its sha256 is {actual} but {SHA256SUMS} says {listed}",
                    self.file(name)
                )),
                Some(_) => {}
            }
        }
        for name in &self.files {
            if let Some(of) = name.strip_suffix(".sha256") {
                known.insert(name);
                self.check_sidecar(name, of, problems);
            }
        }
        known.insert(INSTALLER);
        for name in &self.files {
            if !known.contains(name.as_str()) {
                problems.push(format!(
                    "{}: unexpected file: a part holds what `cargo xtask dist` writes (archives, \
                     .sha256, {SHA256SUMS}, {MANIFEST}, files listed in {SHA256SUMS}, {INSTALLER})",
                    self.file(name)
                ));
            }
        }
    }

    /// One archive the part's manifest lists: present, with the manifest's sha256 and size,
    /// in the part's SHA256SUMS and with its `.sha256` beside it.
    fn check_archive(&self, artifact: &Artifact, problems: &mut Vec<String>) {
        let name = artifact.archive.as_str();
        let Some(actual) = self.hashes.get(name) else {
            problems.push(format!(
                "{}: listed in {MANIFEST} but missing from the part",
                self.file(name)
            ));
            return;
        };
        if *actual != artifact.sha256 {
            problems.push(format!(
                "{}: its sha256 is {actual} but {MANIFEST} says {}: the archive changed \
                 after it was built; run that target's build again",
                self.file(name),
                artifact.sha256
            ));
        }
        let size = std::fs::metadata(self.dir.join(name)).map(|m| m.len());
        if size.as_ref().ok() != Some(&artifact.size) {
            problems.push(format!(
                "{}: its size is not the {} bytes {MANIFEST} says",
                self.file(name),
                artifact.size
            ));
        }
        if !self.sums.contains_key(name) {
            problems.push(format!(
                "{}: not listed in the part's {SHA256SUMS}",
                self.file(name)
            ));
        }
        if !self.files.contains(&format!("{name}.sha256")) {
            problems.push(format!("{}: no {name}.sha256 beside it", self.file(name)));
        }
    }

    /// `<file>.sha256` holds exactly the line `cargo xtask dist` writes for the file's bytes.
    fn check_sidecar(&self, sidecar: &str, of: &str, problems: &mut Vec<String>) {
        let Some(actual) = self.hashes.get(of) else {
            problems.push(format!(
                "{}: its file {of} is not in the part",
                self.file(sidecar)
            ));
            return;
        };
        let text = contract::read_text(&self.dir.join(sidecar), 4096).unwrap_or_default();
        match contract::checksums::parse_sidecar(&text, of) {
            Ok(hash) if hash == actual => {}
            Ok(hash) => problems.push(format!(
                "{}: says {hash} but {of} has sha256 {actual}",
                self.file(sidecar)
            )),
            Err(problem) => problems.push(format!("{}: {problem}", self.file(sidecar))),
        }
    }
}

/// The parts describe one build of one commit: same manifest schema, commit, SOURCE_DATE_EPOCH
/// and glibc floor, and that commit is this checkout's (its Cargo.toml says which targets to
/// expect). The compiler may differ between runners: each artifact records its own.
pub(super) fn check_agreement(
    ws: &Workspace,
    head: Option<&str>,
    parts: &[Part],
    problems: &mut Vec<String>,
) {
    let Some(first) = parts.first() else { return };
    let m = &first.manifest;
    for part in &parts[1..] {
        let fields = shared_fields(m)
            .into_iter()
            .zip(shared_fields(&part.manifest));
        for ((what, a), (_, b)) in fields {
            if a != b {
                problems.push(format!(
                    "parts disagree on the {what}: {} says {a}, {} says {b}; build every part \
                     from one commit in one workflow run",
                    first.label, part.label
                ));
            }
        }
    }
    if m.schema_version != manifest::SCHEMA_VERSION {
        problems.push(format!(
            "{}: manifest schema {} but this xtask writes {}; gather with the xtask of the \
             commit that built the parts",
            first.file(MANIFEST),
            m.schema_version,
            manifest::SCHEMA_VERSION
        ));
    }
    if let (Some(built), Some(head)) = (&m.source_commit, head) {
        if built != head {
            problems.push(format!(
                "the parts were built from commit {built} but this checkout is at {head}: the \
                 targets to expect come from this checkout's Cargo.toml; gather in a checkout \
                 of {built}"
            ));
        }
    }
    check_floors(ws, m, problems);
}

/// What the manifests of all parts must say alike, by name.
fn shared_fields(m: &Manifest) -> [(&'static str, String); 5] {
    let none = || "none".to_owned();
    [
        ("manifest schema", m.schema_version.to_string()),
        (
            "source commit",
            m.source_commit.clone().unwrap_or_else(none),
        ),
        ("SOURCE_DATE_EPOCH", m.source_date_epoch.to_string()),
        ("glibc floor", m.glibc_floor.clone()),
        ("macOS floor", m.macos_floor.clone().unwrap_or_else(none)),
    ]
}

/// The parts were held to the floors this checkout's [workspace.metadata.dist] sets.
fn check_floors(ws: &Workspace, m: &Manifest, problems: &mut Vec<String>) {
    let none = || "none (Rust's defaults)".to_owned();
    let floors = [
        ("glibc", m.glibc_floor.clone(), ws.glibc_floor.to_string()),
        (
            "macOS",
            m.macos_floor.clone().unwrap_or_else(none),
            ws.macos_floor.map_or_else(none, |v| v.to_string()),
        ),
    ];
    for (os, parts, config) in floors {
        if parts != config {
            problems.push(format!(
                "the parts have {os} floor {parts} but [workspace.metadata.dist] says {config}"
            ));
        }
    }
}
