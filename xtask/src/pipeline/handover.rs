//! The staging dir and its handover into the out dir.
//!
//! Everything is written into `<out>/.staging-<pid>/` first; the handover then removes and renames
//! one file at a time, in an order that keeps these true after a kill at any moment (SIGKILL too,
//! so no destructor runs and nothing can be rolled back):
//! - every archive under its final name is complete and has a `.sha256` beside it that matches;
//! - `SHA256SUMS`, when present, lists exactly the archives present, each with its right hash;
//! - `dist-manifest.json`, when present, describes exactly that set (`linkaudit verify` passes).
//!
//! Hence the order: the old manifest goes first, then the old `SHA256SUMS`; an archive of an earlier
//! run that this run does not rebuild goes before its `.sha256`; a rebuilt archive is removed, then
//! its new `.sha256` and the new archive arrive. So a `.sha256` may name an archive that is not in
//! place yet (`sha256sum -c` says missing), never one with other bytes. `SHA256SUMS` and the
//! manifest come last.
//!
//! Other files a run moves (gather's wheels, each with its `.sha256`, and install.sh) follow
//! the same rules: a file with a `.sha256` moves like an archive, one without is renamed over the
//! old one, both before `SHA256SUMS`.
//!
//! A run owns what its manifest and `SHA256SUMS` list, and install.sh. A killed run leaves its staging dir behind,
//! with the journal `owned`: every name that it and the runs before it may have left under a final
//! name. The next run's handover also removes those it does not write again, so no archive is left
//! that `SHA256SUMS` does not list, and then it removes the leftover staging dirs. One run at a
//! time per out dir.

use super::installer;
use crate::workspace::checksums;
use crate::workspace::fsio::{create_out_dir, test_pause, write_file_atomically};
use crate::workspace::manifest::{self, Manifest};
use anyhow::{Context, Result};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const STAGING_PREFIX: &str = ".staging-";
/// In a staging dir: the archive names its handover may leave in the out dir, one per line.
const JOURNAL: &str = "owned";

/// `<out>/.staging-<pid>/`: removed on drop until the handover begins; from then on it stays on
/// failure, like after a kill, so that the next run reads its journal.
pub struct Staging {
    pub dir: PathBuf,
    out_dir: PathBuf,
    created_out_dir: bool,
    keep: bool,
}

impl Staging {
    pub fn create(out_dir: &Path) -> Result<Staging> {
        let created_out_dir = create_out_dir(out_dir)?;
        // A dir of a killed run may carry our pid (pids are reused): never reuse it, its
        // journal is still needed.
        let pid = std::process::id();
        let mut attempt = 0;
        let dir = loop {
            let name = match attempt {
                0 => format!("{STAGING_PREFIX}{pid}"),
                n => format!("{STAGING_PREFIX}{pid}-{n}"),
            };
            let dir = out_dir.join(name);
            match std::fs::create_dir(&dir) {
                Ok(()) => break dir,
                Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => attempt += 1,
                Err(err) => return Err(err).with_context(|| format!("creating {}", dir.display())),
            }
        };
        Ok(Staging {
            dir,
            out_dir: out_dir.to_path_buf(),
            created_out_dir,
            keep: false,
        })
    }

    /// Replaces what earlier runs wrote with this run's files: the manifest's archives, their
    /// `.sha256`, `extra` (other files of the staging dir), `SHA256SUMS` and the manifest. Earlier
    /// files go even for targets not built this time, so that `SHA256SUMS` and the manifest
    /// describe one build of one commit. Other files in the out dir are left alone.
    pub fn commit(&mut self, manifest: &Manifest, extra: &[String]) -> Result<()> {
        let leftovers = leftover_staging_dirs(&self.out_dir, &self.dir)?;
        let moved = Moved::new(manifest, extra);
        let mut owned = earlier_files(&self.out_dir, &leftovers);
        owned.extend(moved.names().cloned());
        // install.sh belongs to every run: replaced, or removed when this run wrote
        // none, so that it never installs an older release than the rest.
        owned.insert(installer::INSTALLER.to_owned());
        let journal: String = owned.iter().map(|name| format!("{name}\n")).collect();
        write_file_atomically(&self.dir.join(JOURNAL), journal.as_bytes())?;
        self.keep = true;
        let ops = handover(&owned, &moved, &self.dir, &self.out_dir);
        for (index, op) in ops.iter().enumerate() {
            test_pause(&format!("commit:{index}"));
            op.run()?;
        }
        test_pause(&format!("commit:{}", ops.len()));
        for dir in leftovers {
            std::fs::remove_dir_all(&dir)
                .with_context(|| format!("removing {} of a killed run", dir.display()))?;
        }
        self.keep = false;
        self.created_out_dir = false;
        Ok(())
    }
}

/// What a run moves into the out dir, besides `SHA256SUMS` and the manifest.
#[derive(Debug, Default)]
struct Moved {
    /// Files that move with their `.sha256`: the archives, and extra files with one.
    summed: Vec<String>,
    /// Extra files without a `.sha256`.
    plain: Vec<String>,
}

impl Moved {
    fn new(manifest: &Manifest, extra: &[String]) -> Moved {
        let sidecar_of = |name: &String| extra.contains(&format!("{name}.sha256"));
        let is_sidecar = |name: &String| {
            name.strip_suffix(".sha256")
                .is_some_and(|of| extra.iter().any(|e| e == of))
        };
        let mut moved = Moved {
            summed: manifest
                .artifacts
                .iter()
                .map(|a| a.archive.clone())
                .collect(),
            plain: Vec::new(),
        };
        for name in extra.iter().filter(|name| !is_sidecar(name)) {
            match sidecar_of(name) {
                true => moved.summed.push(name.clone()),
                false => moved.plain.push(name.clone()),
            }
        }
        moved
    }

    fn names(&self) -> impl Iterator<Item = &String> {
        self.summed.iter().chain(&self.plain)
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if self.keep {
            return;
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        if self.created_out_dir {
            // Only removes it if empty: the out dir did not exist before this failed run.
            let _ = std::fs::remove_dir(&self.out_dir);
        }
    }
}

/// One step of the handover; each is atomic on its own (rename(2) within one dir, unlink(2)).
#[derive(Debug, PartialEq, Eq)]
enum Op {
    Remove(PathBuf),
    Rename(PathBuf, PathBuf),
}

impl Op {
    fn run(&self) -> Result<()> {
        match self {
            Op::Remove(path) => match std::fs::remove_file(path) {
                Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
                    Err(err).with_context(|| format!("removing {}", path.display()))
                }
                _ => Ok(()),
            },
            Op::Rename(from, to) => std::fs::rename(from, to)
                .with_context(|| format!("moving {} to {}", from.display(), to.display())),
        }
    }
}

/// The handover's steps, in the order the module comment explains.
fn handover(owned: &BTreeSet<String>, moved: &Moved, staging: &Path, out: &Path) -> Vec<Op> {
    let sidecar = |name: &str| format!("{name}.sha256");
    let mut ops = vec![
        Op::Remove(out.join(manifest::MANIFEST)),
        Op::Remove(out.join(checksums::SHA256SUMS)),
    ];
    for gone in owned
        .iter()
        .filter(|name| !moved.names().any(|n| n == *name))
    {
        ops.push(Op::Remove(out.join(gone)));
        ops.push(Op::Remove(out.join(sidecar(gone))));
    }
    for name in &moved.summed {
        ops.push(Op::Remove(out.join(name)));
        ops.push(Op::Rename(
            staging.join(sidecar(name)),
            out.join(sidecar(name)),
        ));
        ops.push(Op::Rename(staging.join(name), out.join(name)));
    }
    for name in &moved.plain {
        ops.push(Op::Rename(staging.join(name), out.join(name)));
    }
    for last in [checksums::SHA256SUMS, manifest::MANIFEST] {
        ops.push(Op::Rename(staging.join(last), out.join(last)));
    }
    ops
}

/// Staging dirs of killed (or failed mid-handover) runs.
fn leftover_staging_dirs(out: &Path, ours: &Path) -> Result<Vec<PathBuf>> {
    let mut dirs = Vec::new();
    for entry in std::fs::read_dir(out).with_context(|| format!("listing {}", out.display()))? {
        let entry = entry.with_context(|| format!("listing {}", out.display()))?;
        let is_staging = entry
            .file_name()
            .to_string_lossy()
            .starts_with(STAGING_PREFIX);
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_staging && is_dir && entry.path() != ours {
            dirs.push(entry.path());
        }
    }
    Ok(dirs)
}

/// The files earlier runs may have left: those the current manifest and SHA256SUMS list, and
/// those in the journals of the runs killed during their handover.
fn earlier_files(out: &Path, leftovers: &[PathBuf]) -> BTreeSet<String> {
    let mut names: Vec<String> = Manifest::read(&out.join(manifest::MANIFEST))
        .map(|m| m.artifacts.into_iter().map(|a| a.archive).collect())
        .unwrap_or_default();
    if let Ok(sums) = std::fs::read_to_string(out.join(checksums::SHA256SUMS)) {
        // Well-formed lines only: a malformed one names no file this xtask wrote.
        let (listed, _) = linkaudit::contract::checksums::parse_sha256sums(&sums);
        names.extend(listed.into_keys());
    }
    for dir in leftovers {
        if let Ok(journal) = std::fs::read_to_string(dir.join(JOURNAL)) {
            names.extend(journal.lines().map(str::to_owned));
        }
    }
    // Names read from files: keep them plain file names inside the out dir.
    names
        .into_iter()
        .filter(|n| !n.is_empty() && !n.contains(['/', '\\']) && !n.starts_with('.'))
        .collect()
}

/// SHA256SUMS (the archives and `also_summed`: (name, sha256) of other files that ship, such as
/// wheels) and the manifest, into the staging dir.
pub fn write_checksums_and_manifest(
    staging: &Path,
    manifest: &Manifest,
    also_summed: &[(String, String)],
) -> Result<()> {
    let sums = checksums::sha256sums(
        manifest
            .artifacts
            .iter()
            .map(|a| (a.archive.as_str(), a.sha256.as_str()))
            .chain(also_summed.iter().map(|(n, s)| (n.as_str(), s.as_str()))),
    );
    for (name, text) in [
        (checksums::SHA256SUMS, sums),
        (manifest::MANIFEST, manifest.to_json()),
    ] {
        write_file_atomically(&staging.join(name), text.as_bytes())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Applies every prefix of the handover to a real dir and checks the module's promises after
    /// each: what a kill at that step would leave. The previous run wrote a.tar.gz, old.tar.gz,
    /// w.whl and install.sh; this one writes a.tar.gz and w.whl again (other bytes), b.zip and
    /// install.sh.
    #[test]
    fn every_prefix_of_the_handover_keeps_checksums_true() {
        let root = std::env::temp_dir().join(format!("xtask-handover-{}", std::process::id()));
        let moved = Moved {
            summed: ["a.tar.gz", "b.zip", "w.whl"].map(str::to_owned).into(),
            plain: vec!["install.sh".to_owned()],
        };
        let before = ["a.tar.gz", "old.tar.gz", "w.whl"];
        let mut owned: BTreeSet<String> = before.map(str::to_owned).into();
        owned.extend(moved.names().cloned());
        let ops_len = handover(&owned, &moved, Path::new("s"), Path::new("o")).len();
        for done in 0..=ops_len {
            let (staging, out) = (root.join("staging"), root.join("out"));
            let _ = std::fs::remove_dir_all(&root);
            std::fs::create_dir_all(&staging).unwrap();
            std::fs::create_dir_all(&out).unwrap();
            write_set(&out, &before, "old");
            let summed: Vec<&str> = moved.summed.iter().map(String::as_str).collect();
            write_set(&staging, &summed, "new");
            std::fs::write(out.join("install.sh"), "old").unwrap();
            std::fs::write(staging.join("install.sh"), "new").unwrap();
            for op in handover(&owned, &moved, &staging, &out).iter().take(done) {
                op.run().unwrap();
            }
            check_promises(&out, done);
        }
        let read = |name: &str| std::fs::read_to_string(root.join("out").join(name)).unwrap();
        assert_eq!(read("a.tar.gz"), "new a.tar.gz");
        assert_eq!(read("install.sh"), "new");
        assert!(!root.join("out/old.tar.gz").exists());
        assert!(!root.join("out/old.tar.gz.sha256").exists());
    }

    #[test]
    fn extra_files_move_with_their_sidecar_or_alone() {
        let manifest: Manifest = serde_json::from_str(
            r#"{"schema_version": 1, "source_commit": null, "source_date_epoch": 0,
                "rustc": "", "glibc_floor": "2.17", "macos_floor": null, "artifacts": [{"package": "p",
                "version": "1", "target": "t", "archive": "p-t.tar.gz", "size": 1,
                "sha256": "", "policy": null, "rustc": "", "c_toolchain": null, "sbom": null, "binaries": []}]}"#,
        )
        .unwrap();
        let extra = ["w.whl", "w.whl.sha256", "install.sh"].map(str::to_owned);
        let moved = Moved::new(&manifest, &extra);
        assert_eq!(moved.summed, ["p-t.tar.gz", "w.whl"]);
        assert_eq!(moved.plain, ["install.sh"]);
    }

    fn write_set(dir: &Path, archives: &[&str], tag: &str) {
        let mut hashes = Vec::new();
        for name in archives {
            let data = format!("{tag} {name}");
            std::fs::write(dir.join(name), &data).unwrap();
            let hash = checksums::sha256_file(&dir.join(name)).unwrap();
            let (sidecar, line) = checksums::sidecar(name, &hash);
            std::fs::write(dir.join(sidecar), line).unwrap();
            hashes.push((name.to_string(), hash));
        }
        let sums = checksums::sha256sums(hashes.iter().map(|(n, h)| (n.as_str(), h.as_str())));
        std::fs::write(dir.join(checksums::SHA256SUMS), sums).unwrap();
        std::fs::write(dir.join(manifest::MANIFEST), archives.join("\n")).unwrap();
    }

    fn check_promises(out: &Path, done: usize) {
        let read = |name: &str| std::fs::read_to_string(out.join(name)).ok();
        let hash = |name: &str| checksums::sha256_file(&out.join(name)).unwrap();
        let archives: BTreeSet<String> = std::fs::read_dir(out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| {
                [".tar.gz", ".zip", ".whl"]
                    .iter()
                    .any(|ext| n.ends_with(ext))
            })
            .collect();
        for archive in &archives {
            let sidecar = read(&format!("{archive}.sha256"));
            assert_eq!(
                sidecar,
                Some(checksums::line(&hash(archive), archive)),
                "after {done} steps: {archive}"
            );
        }
        if let Some(sums) = read(checksums::SHA256SUMS) {
            let expected = checksums::sha256sums(
                archives
                    .iter()
                    .map(|a| (a.as_str(), hash(a)))
                    .collect::<Vec<_>>()
                    .iter()
                    .map(|(a, h)| (*a, h.as_str())),
            );
            assert_eq!(sums, expected, "after {done} steps");
        }
        if let Some(listed) = read(manifest::MANIFEST) {
            let listed: BTreeSet<String> = listed.lines().map(str::to_owned).collect();
            assert_eq!(listed, archives, "after {done} steps");
        }
    }
}
