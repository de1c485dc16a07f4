//! Walks directory trees and audits every binary in them, in parallel (`linkaudit scan`).
//!
//! Most files under `/usr/lib` are not binaries (Python modules, locale data, headers), so each file
//! is first judged by its magic bytes, read with one small `read`; only binaries are mapped and parsed.

use crate::{audit_file, looks_like_binary, Audit, AuditError, MAGIC_LEN};
use rayon::prelude::*;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

mod summary;
pub use summary::Summary;

// On musl the walk opens files and lists directories with raw system calls (musl_io.rs says why).
#[cfg(target_env = "musl")]
mod musl_io;
#[cfg(target_env = "musl")]
use musl_io::{open_read_only, read_dir};
#[cfg(not(target_env = "musl"))]
use std::fs::read_dir;

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
/// file is counted once (`/usr/lib` is full of `libfoo.so -> libfoo.so.1.2`); a root that is a
/// link is followed. Files whose magic bytes are not ELF, PE or Mach-O are skipped; unreadable
/// files and directories are returned with their error. Fails only when a root cannot be read.
pub fn scan(roots: &[PathBuf]) -> Result<Vec<ScannedFile>, RootError> {
    let mut root_dirs = Vec::new();
    let found = Mutex::new(Vec::new());
    for root in roots {
        let metadata = std::fs::metadata(root).map_err(|error| RootError {
            root: root.clone(),
            error,
        })?;
        if metadata.is_dir() {
            // A root that exists but cannot be listed is an error of the whole scan, not a line
            // in its summary.
            read_dir(root).map_err(|error| RootError {
                root: root.clone(),
                error,
            })?;
            root_dirs.push(root);
        } else if metadata.is_file() {
            found.lock().unwrap().extend(audit_if_binary(root));
        }
    }
    // Directories are read and files audited as rayon tasks, so both cores open files while
    // others list directories; results are gathered once per batch, not once per file.
    rayon::scope(|scope| {
        for root in root_dirs {
            scope.spawn(|scope| walk(root.clone(), &found, scope));
        }
    });
    let mut found = found.into_inner().unwrap();
    found.par_sort_unstable_by(|a, b| a.path.cmp(&b.path));
    Ok(found)
}

/// Files per task: big enough that spawning is cheap next to opening them, small enough that a
/// directory of thousands of libraries (`/usr/lib/x86_64-linux-gnu`) is shared by every core.
const FILES_PER_TASK: usize = 64;

fn walk<'scope>(
    dir: PathBuf,
    found: &'scope Mutex<Vec<ScannedFile>>,
    scope: &rayon::Scope<'scope>,
) {
    let entries = match read_dir(&dir) {
        Ok(entries) => entries,
        Err(error) => {
            found.lock().unwrap().push(ScannedFile {
                path: dir,
                result: Err(AuditError::Io(error)),
            });
            return;
        }
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) => {
                found.lock().unwrap().push(ScannedFile {
                    path: dir.clone(),
                    result: Err(AuditError::Io(error)),
                });
                continue;
            }
        };
        // The type comes from the directory entry itself (d_type): no stat per file.
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => scope.spawn(move |scope| walk(entry.path(), found, scope)),
            Ok(kind) if kind.is_file() => {
                files.push(entry.path());
                if files.len() == FILES_PER_TASK {
                    let batch = std::mem::take(&mut files);
                    scope.spawn(move |_| audit_batch(batch, found));
                }
            }
            Ok(_) => {}
            Err(error) => found.lock().unwrap().push(ScannedFile {
                path: entry.path(),
                result: Err(AuditError::Io(error)),
            }),
        }
    }
    audit_batch(files, found);
}

fn audit_batch(files: Vec<PathBuf>, found: &Mutex<Vec<ScannedFile>>) {
    let audited: Vec<ScannedFile> = files
        .iter()
        .filter_map(|path| audit_if_binary(path))
        .collect();
    if !audited.is_empty() {
        found.lock().unwrap().extend(audited);
    }
}

/// `None` for a file that is not a binary, judged from its first bytes only.
fn audit_if_binary(path: &Path) -> Option<ScannedFile> {
    let scanned = |result| {
        Some(ScannedFile {
            path: path.to_path_buf(),
            result,
        })
    };
    let mut file = match open_read_only(path) {
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

#[cfg(not(target_env = "musl"))]
fn open_read_only(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::open(path)
}
