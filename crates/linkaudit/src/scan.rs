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
use std::sync::Mutex;

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
            std::fs::read_dir(root).map_err(|error| RootError {
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
    let entries = match std::fs::read_dir(&dir) {
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

/// `File::open`, minus one system call per file on musl. musl's `open()` follows every
/// `O_CLOEXEC` open with `fcntl(F_SETFD)` (for kernels before 2.6.23), and a scan of `/usr/bin` and
/// `/usr/lib` opens some 60,000 files; the kernel honours `O_CLOEXEC` itself, so on musl the scan
/// calls `openat(2)` directly (strace: 73,140 `fcntl` calls before, 11,284 after: the directories,
/// which `std::fs::read_dir` opens).
#[cfg(target_env = "musl")]
fn open_read_only(path: &Path) -> std::io::Result<File> {
    use std::ffi::{CStr, CString};
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::io::{FromRawFd, RawFd};
    let bytes = path.as_os_str().as_bytes();
    // Most paths fit on the stack; musl's malloc is slow enough that one allocation per file shows.
    let mut buffer = [0u8; 512];
    let owned;
    let c_path: &CStr = if bytes.len() < buffer.len() {
        buffer[..bytes.len()].copy_from_slice(bytes);
        CStr::from_bytes_with_nul(&buffer[..=bytes.len()]).map_err(std::io::Error::other)?
    } else {
        owned = CString::new(bytes)?;
        &owned
    };
    // SAFETY: `c_path` is a valid NUL-terminated string that outlives the call; a non-negative
    // result is a new descriptor that nothing else owns, so `File` may take it.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat,
            libc::AT_FDCWD,
            c_path.as_ptr(),
            libc::O_RDONLY | libc::O_CLOEXEC | libc::O_NOCTTY,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(unsafe { File::from_raw_fd(fd as RawFd) })
}

#[cfg(not(target_env = "musl"))]
fn open_read_only(path: &Path) -> std::io::Result<File> {
    File::open(path)
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
