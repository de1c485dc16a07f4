//! Walks directory trees and audits every binary in them, in parallel (`linkaudit scan`).
//!
//! Most files under `/usr/lib` are not binaries (Python modules, locale data, headers), so each file
//! is first judged by its magic bytes, read with one small `read`; only binaries are mapped and parsed.

use crate::{audit_file, looks_like_binary, Audit, AuditError, Format, GlibcVersion, Kind, Policy};
use crate::{Violation, MAGIC_LEN};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// One binary found by the walk, or one file or directory that could not be read.
#[derive(Debug)]
pub struct ScannedFile {
    pub path: PathBuf,
    pub result: Result<Audit, AuditError>,
}

/// A root given to [`scan`] that does not exist or is not readable.
#[derive(Debug)]
pub struct RootError {
    pub root: PathBuf,
    pub error: std::io::Error,
}

impl std::fmt::Display for RootError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: cannot scan it ({}); pass an existing directory or file",
            self.root.display(),
            self.error
        )
    }
}

impl std::error::Error for RootError {}

/// Audits every binary under `roots`, sorted by path. Symbolic links are not followed, so each
/// file is counted once (`/usr/lib` is full of `libfoo.so -> libfoo.so.1.2`). Files whose magic
/// bytes are not ELF, PE or Mach-O are skipped; unreadable files and directories are returned with
/// their error. Fails only when a root itself cannot be read.
pub fn scan(roots: &[PathBuf]) -> Result<Vec<ScannedFile>, RootError> {
    for root in roots {
        std::fs::symlink_metadata(root).map_err(|error| RootError {
            root: root.clone(),
            error,
        })?;
    }
    // The walk is one thread feeding the pool: reading directories is cheap next to opening files.
    let mut found: Vec<ScannedFile> = roots
        .iter()
        .flat_map(|root| walkdir::WalkDir::new(root).follow_root_links(true))
        .par_bridge()
        .filter_map(|entry| match entry {
            Ok(entry) if entry.file_type().is_file() => audit_if_binary(entry.path()),
            Ok(_) => None,
            Err(error) => Some(ScannedFile {
                path: error.path().unwrap_or(Path::new("")).to_path_buf(),
                result: Err(AuditError::Io(error.into())),
            }),
        })
        .collect();
    found.par_sort_unstable_by(|a, b| a.path.cmp(&b.path));
    Ok(found)
}

/// `None` for a file that is not a binary, judged from its first bytes only.
fn audit_if_binary(path: &Path) -> Option<ScannedFile> {
    let scanned = |result| {
        Some(ScannedFile {
            path: path.to_path_buf(),
            result,
        })
    };
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(error) => return scanned(Err(AuditError::Io(error))),
    };
    let mut magic = [0u8; MAGIC_LEN];
    match file.read_exact(&mut magic) {
        Ok(()) if looks_like_binary(&magic) => scanned(audit_file(&file)),
        Ok(()) => None,
        Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => None,
        Err(error) => scanned(Err(AuditError::Io(error))),
    }
}

/// The counts `linkaudit scan` prints.
#[derive(Debug, Default)]
pub struct Summary {
    pub binaries: usize,
    pub by_format: BTreeMap<Format, usize>,
    pub by_kind: BTreeMap<Kind, usize>,
    /// Files that start like a binary but could not be read or parsed.
    pub errors: Vec<(PathBuf, String)>,
    /// The glibc floor asked for with `--glibc-above`, and the files that need a newer glibc.
    pub glibc_above: Option<GlibcVersion>,
    pub above_glibc: Vec<(PathBuf, GlibcVersion)>,
    /// The policy asked for with `--policy`, and the files that break it.
    pub policy: Option<String>,
    pub failing_policy: Vec<(PathBuf, Vec<Violation>)>,
}

impl Summary {
    pub fn new(
        files: &[ScannedFile],
        glibc_above: Option<GlibcVersion>,
        policy: Option<Policy>,
    ) -> Self {
        let mut summary = Summary {
            glibc_above,
            policy: policy.map(|p| p.to_string()),
            ..Summary::default()
        };
        for file in files {
            let audit = match &file.result {
                Ok(audit) => audit,
                Err(error) => {
                    summary.errors.push((file.path.clone(), error.to_string()));
                    continue;
                }
            };
            summary.binaries += 1;
            *summary.by_format.entry(audit.format).or_default() += 1;
            *summary.by_kind.entry(audit.kind).or_default() += 1;
            if let (Some(limit), Some(floor)) = (glibc_above, audit.glibc_floor) {
                if floor > limit {
                    summary.above_glibc.push((file.path.clone(), floor));
                }
            }
            if let Some(policy) = policy {
                let violations = policy.check(audit);
                if !violations.is_empty() {
                    summary.failing_policy.push((file.path.clone(), violations));
                }
            }
        }
        summary
    }
}
