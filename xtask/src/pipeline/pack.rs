//! The pack step: one reproducible archive per (package, target) with its `.sha256`, written
//! into the staging dir by one thread each (the formats live in workspace/archive.rs; an
//! archive whose inputs did not change since the last run is copied from
//! workspace/archive_cache.rs), then each smoke-run from the archive on a thread of its own
//! (smoke.rs).

use super::smoke::{prepare_smoke, smoke_prepared};
use super::source::Source;
use super::verify::Verified;
use crate::workspace::archive::{pack_tarball, pack_zip, ArchiveFile};
use crate::workspace::archive_cache::{ArchiveCache, Key};
use crate::workspace::config::Workspace;
use crate::workspace::fsio::{test_pause, write_file_atomically};
use crate::workspace::manifest::{self, Artifact};
use crate::workspace::report::{human_size, Report};
use crate::workspace::target::Host;
use anyhow::{Context, Result};
use linkaudit::contract::ArchiveName;
use std::path::Path;

/// One archive to write: `<top_dir>/` holding `files`, named `archive`.
pub struct PackJob {
    pub top_dir: String,
    pub archive: String,
    /// Zip (Windows targets) instead of tar.gz.
    pub zip: bool,
    pub files: Vec<ArchiveFile>,
}

/// An archive written by `pack_and_checksum`.
pub struct Packed {
    pub size: u64,
    pub sha256: String,
}

/// Writes every job's archive and its `<archive>.sha256` into `dir`, one thread per archive:
/// deflate is most of a warm `cargo xtask dist` and the archives are independent. An
/// archive's bytes depend only on its inputs, so the order the threads run in changes nothing.
/// With a cache, an archive whose inputs did not change since the last run is copied from it.
pub fn pack_and_checksum(
    dir: &Path,
    jobs: &[PackJob],
    mtime: u64,
    cache: Option<&ArchiveCache>,
) -> Result<Vec<Packed>> {
    on_threads(jobs.iter(), |job| pack_one(dir, job, mtime, cache))
        .into_iter()
        .collect()
}

fn pack_one(dir: &Path, job: &PackJob, mtime: u64, cache: Option<&ArchiveCache>) -> Result<Packed> {
    let path = dir.join(&job.archive);
    let pack = if job.zip { pack_zip } else { pack_tarball };
    let pack = || pack(&path, &job.top_dir, &job.files, mtime);
    match cache {
        Some(cache) => cache.write(&path, key_of(job, mtime)?, pack)?,
        None => pack()?,
    }
    let sha256 = crate::workspace::checksums::sha256_file(&path)?;
    let size = std::fs::metadata(&path)
        .with_context(|| format!("reading the size of {}", path.display()))?
        .len();
    let (sidecar, line) = crate::workspace::checksums::sidecar(&job.archive, &sha256);
    write_file_atomically(&dir.join(sidecar), line.as_bytes())?;
    Ok(Packed { size, sha256 })
}

/// What goes into a job's archive: format, epoch, top dir and every file.
fn key_of(job: &PackJob, mtime: u64) -> Result<Key> {
    let mut key = Key::new(if job.zip { "zip" } else { "tar.gz" }, mtime);
    key.field(job.top_dir.as_bytes());
    for file in &job.files {
        let data = std::fs::read(&file.source)
            .with_context(|| format!("reading {}", file.source.display()))?;
        key.entry(&file.name, file.mode(), &data);
    }
    Ok(key)
}

/// Packs and checksums every (package, target) inside the staging dir, then smoke-runs each
/// archive, all at once (each on its own thread), reporting in order.
pub fn pack_all(
    ws: &Workspace,
    host: &Host,
    source: &Source,
    verified: &[Verified],
    staging: &Path,
    report: &Report,
) -> Result<Vec<Artifact>> {
    let jobs: Vec<PackJob> = verified.iter().map(|item| pack_job(ws, item)).collect();
    let cache = ArchiveCache::new(&ws.target_dir);
    let packed = pack_and_checksum(staging, &jobs, source.epoch, Some(&cache))?;
    let smoked = smoke_all(host, verified, &jobs, staging);
    let mut artifacts = Vec::new();
    let all = verified.iter().zip(&jobs).zip(packed).zip(smoked);
    for (index, (((item, job), packed), smoked)) in all.enumerate() {
        report.step(
            "pack",
            item.triple.as_str(),
            &format!(
                "{} ({}, sha256 {})",
                job.archive,
                human_size(packed.size),
                &packed.sha256[..12]
            ),
        );
        for line in smoked? {
            report.step("smoke", item.triple.as_str(), &line);
        }
        test_pause(&format!("pack:{index}"));
        artifacts.push(artifact(
            item,
            &job.top_dir,
            job.archive.clone(),
            packed.size,
            packed.sha256,
            source,
        ));
    }
    artifacts.sort_by(|a, b| a.archive.cmp(&b.archive));
    Ok(artifacts)
}

/// Smoke-runs every job's archive, in two parallel rounds: unpack all, then start all (see
/// `smoke_prepared` for why not both in one); the results in the jobs' order.
fn smoke_all(
    host: &Host,
    verified: &[Verified],
    jobs: &[PackJob],
    staging: &Path,
) -> Vec<Result<Vec<String>>> {
    let prepared = on_threads(verified.iter().zip(jobs), |(item, job)| {
        prepare_smoke(host, item, &staging.join(&job.archive), staging)
    });
    let inputs = prepared.into_iter().zip(verified.iter().zip(jobs));
    on_threads(inputs, |(prepared, (item, job))| {
        smoke_prepared(prepared?, item, &job.top_dir)
    })
}

/// `work` on every input, one scoped thread each; the results in the inputs' order.
fn on_threads<I: Send, T: Send>(
    inputs: impl Iterator<Item = I>,
    work: impl Fn(I) -> Result<T> + Sync,
) -> Vec<Result<T>> {
    std::thread::scope(|scope| {
        let work = &work;
        let threads: Vec<_> = inputs
            .map(|input| scope.spawn(move || work(input)))
            .collect();
        threads
            .into_iter()
            .map(|thread| {
                thread
                    .join()
                    .map_err(|_| anyhow::anyhow!("a pack-step thread panicked"))?
            })
            .collect()
    })
}

/// The archive of one (package, target): its binaries and the workspace's `include` files.
fn pack_job(ws: &Workspace, item: &Verified) -> PackJob {
    // Named through the dist contract, which the readers check names against.
    let name = ArchiveName {
        package: item.package.name.clone(),
        target: item.triple.target().clone(),
    };
    let (top_dir, archive) = (name.top_dir(), name.to_string());
    let mut files: Vec<ArchiveFile> = item
        .linkage
        .iter()
        .map(|l| ArchiveFile {
            name: l.binary.file_name.clone(),
            source: l.binary.path.clone(),
            executable: true,
        })
        .collect();
    files.extend(ws.include.iter().map(|path| {
        ArchiveFile {
            name: path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned(),
            source: path.clone(),
            executable: false,
        }
    }));
    PackJob {
        top_dir,
        archive,
        zip: item.triple.is_windows(),
        files,
    }
}

pub fn artifact(
    item: &Verified,
    top_dir: &str,
    archive: String,
    size: u64,
    sha256: String,
    source: &Source,
) -> Artifact {
    Artifact {
        package: item.package.name.clone(),
        version: item.package.version.clone(),
        target: item.triple.to_string(),
        archive,
        size,
        sha256,
        policy: item
            .linkage
            .first()
            .and_then(|l| l.policy.as_ref())
            .map(|p| p.to_string()),
        rustc: source.rustc.clone(),
        c_toolchain: source.c_toolchains.get(&item.triple).cloned().flatten(),
        // sbom.rs names it once the archive is written (wheels have none).
        sbom: None,
        binaries: item
            .linkage
            .iter()
            .map(|l| manifest::Binary {
                name: l.binary.name.clone(),
                path: format!("{top_dir}/{}", l.binary.file_name),
                kind: l.audit.kind.to_string(),
                glibc_floor: l.audit.glibc_floor.map(|v| v.to_string()),
                needed: l.audit.needed.clone(),
                floor: l.audit.floor_summary(),
                verdict: l.verdict().to_owned(),
                violations: l
                    .violations
                    .iter()
                    .map(|v| manifest::Violation {
                        policy: v.policy.clone(),
                        culprit: v.culprit.clone(),
                        rule: v.rule.clone(),
                    })
                    .collect(),
            })
            .collect(),
    }
}
