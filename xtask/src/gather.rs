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

use crate::pipeline::{write_checksums_and_manifest, Staging};
use crate::workspace::checksums::{self, SHA256SUMS};
use crate::workspace::config::Workspace;
use crate::workspace::fsio::{write_atomically, write_file_atomically};
use crate::workspace::manifest::{self, Artifact, Manifest, MANIFEST};
use crate::workspace::report::{human_size, Report};
use crate::workspace::target::TargetTriple;
use anyhow::{bail, Context, Result};
use linkaudit::contract;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use xshell::{cmd, Shell};

/// The installer is written into every part, identical: copied once.
const INSTALLER: &str = "install.sh";

pub struct Options {
    pub parts: Vec<PathBuf>,
    pub out_dir: Option<PathBuf>,
}

pub fn run(options: Options) -> Result<()> {
    let report = Report::new(false);
    let sh = Shell::new().context("starting a shell")?;
    let ws = Workspace::load(&sh)?;
    let out_dir = match &options.out_dir {
        Some(dir) => std::env::current_dir()?.join(dir),
        None => ws.root.join("dist"),
    };
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

    let mut staging = Staging::create(&out_dir)?;
    let extra = release.stage(&staging.dir)?;
    let checked = linkaudit::verify::verify_dir(&staging.dir).map_err(|err| {
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
    staging.commit(&release.manifest, &extra)?;
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

fn head_commit(sh: &Shell, root: &Path) -> Option<String> {
    let _dir = sh.push_dir(root);
    cmd!(sh, "git rev-parse HEAD")
        .quiet()
        .ignore_stderr()
        .read()
        .ok()
}

/// One directory written by `cargo xtask dist --out-dir`, as a build job uploaded it.
struct Part {
    dir: PathBuf,
    /// The directory as given on the command line, for messages.
    label: String,
    manifest: Manifest,
    /// Regular files in the part, by name.
    files: BTreeSet<String>,
    /// SHA256SUMS of the part: name -> sha256.
    sums: BTreeMap<String, String>,
    /// The actual sha256 of every file that is not a checksum file or the manifest.
    hashes: BTreeMap<String, String>,
}

impl Part {
    fn read(dir: &Path) -> Result<Part> {
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
    fn file(&self, name: &str) -> String {
        format!("{}/{name}", self.label)
    }

    /// Each file's bytes against the part's manifest, SHA256SUMS and `.sha256` files; every
    /// file is accounted for.
    fn check(&self, problems: &mut Vec<String>) {
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
            let Some(actual) = self.hashes.get(name) else {
                problems.push(format!(
                    "{}: listed in {MANIFEST} but missing from the part",
                    self.file(name)
                ));
                continue;
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

/// The merged release: what goes into the out dir, every part checked.
struct Release {
    manifest: Manifest,
    /// target -> (the part's label, its artifacts).
    by_target: BTreeMap<String, (String, Vec<Artifact>)>,
    /// Files other than the manifest's archives (wheels, install.sh), by name.
    shared: BTreeMap<String, Shared>,
    /// The archives: name -> the part dir holding it.
    archives: BTreeMap<String, PathBuf>,
}

/// A file that is not one of the manifest's archives, and how the (first) part holding it
/// checksums it: a line in SHA256SUMS and/or a `.sha256` beside it.
struct Shared {
    from: PathBuf,
    label: String,
    sha256: String,
    summed: bool,
    sidecar: bool,
}

impl Release {
    fn merge(
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
        let expected: BTreeSet<String> = ws.targets.iter().map(|t| t.to_string()).collect();
        let packages: BTreeSet<&str> = ws.packages.iter().map(|p| p.name.as_str()).collect();

        let mut by_target: BTreeMap<String, (String, Vec<Artifact>)> = BTreeMap::new();
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
                let shipped: BTreeSet<&str> =
                    artifacts.iter().map(|a| a.package.as_str()).collect();
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
    fn stage(&self, staging: &Path) -> Result<Vec<String>> {
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

/// The parts describe one build of one commit: same manifest schema, commit, SOURCE_DATE_EPOCH
/// and glibc floor, and that commit is this checkout's (its Cargo.toml says which targets to
/// expect). The compiler may differ between runners: each artifact records its own.
fn check_agreement(ws: &Workspace, head: Option<&str>, parts: &[Part], problems: &mut Vec<String>) {
    let Some(first) = parts.first() else { return };
    let m = &first.manifest;
    let none = || "none".to_owned();
    for part in &parts[1..] {
        let p = &part.manifest;
        let fields = [
            (
                "manifest schema",
                m.schema_version.to_string(),
                p.schema_version.to_string(),
            ),
            (
                "source commit",
                m.source_commit.clone().unwrap_or_else(none),
                p.source_commit.clone().unwrap_or_else(none),
            ),
            (
                "SOURCE_DATE_EPOCH",
                m.source_date_epoch.to_string(),
                p.source_date_epoch.to_string(),
            ),
            ("glibc floor", m.glibc_floor.clone(), p.glibc_floor.clone()),
        ];
        for (what, a, b) in fields {
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
    if m.glibc_floor != ws.glibc_floor.to_string() {
        problems.push(format!(
            "the parts have glibc floor {} but [workspace.metadata.dist] says {}",
            m.glibc_floor, ws.glibc_floor
        ));
    }
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
fn merged_manifest(
    first: &Manifest,
    by_target: &BTreeMap<String, (String, Vec<Artifact>)>,
) -> Manifest {
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
        artifacts,
    }
}
