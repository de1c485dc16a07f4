//! One run at a time per out dir: `cargo xtask dist`, `gather` and `sign` hold an exclusive lock
//! on `<out>/.lock` from before they build or read anything until they exit.
//!
//! Two runs into one out dir would each replace what the other wrote: the handover
//! (pipeline/handover.rs) keeps the out dir consistent after a kill, but not against a second writer. The
//! lock is flock(2) (`File::try_lock`, std since Rust 1.89), so the kernel releases it when its
//! holder exits, SIGKILL included: a `.lock` file left by a killed run locks nothing. A second run
//! does not wait (a dist run can take minutes): it fails at once, naming the holder's pid and
//! command, which the holder writes into the file once it holds the lock.
//!
//! The holder removes `.lock` when it is done, so that a finished run leaves the out dir with
//! exactly its files. Removing a lock file while another process may have it open is the classic
//! race (that process then locks the removed file, while a third locks a new one); so after
//! locking, a run checks that `.lock` is still the file it locked, and starts over if not.

use super::fsio::create_out_dir;
use anyhow::{bail, Context, Result};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

pub const LOCK_FILE: &str = ".lock";

/// The held lock; released (and `.lock` removed) on drop.
pub struct OutDirLock {
    file: File,
    path: PathBuf,
    out_dir: PathBuf,
    created_out_dir: bool,
}

impl OutDirLock {
    /// Locks `out_dir` (created if missing) for this run, or fails at once naming the holder.
    pub fn acquire(out_dir: &Path) -> Result<OutDirLock> {
        let created_out_dir = create_out_dir(out_dir)?;
        let path = out_dir.join(LOCK_FILE);
        // Starts over only when the holder removed `.lock` between our open and our lock.
        for _ in 0..100 {
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .with_context(|| format!("opening the lock file {}", path.display()))?;
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => {
                    let mut holder = String::new();
                    let _ = file.read_to_string(&mut holder);
                    bail!("{}", busy_message(out_dir, &holder));
                }
                Err(TryLockError::Error(err)) => {
                    return Err(err).with_context(|| {
                        format!(
                            "locking {} (the file system must support flock(2); pass an \
                             --out-dir on a local disk)",
                            path.display()
                        )
                    })
                }
            }
            if !still_at_path(&file, &path) {
                continue;
            }
            file.set_len(0)
                .and_then(|()| file.write_all(holder_line().as_bytes()))
                .and_then(|()| file.flush())
                .with_context(|| format!("writing {}", path.display()))?;
            return Ok(OutDirLock {
                file,
                path,
                out_dir: out_dir.to_path_buf(),
                created_out_dir,
            });
        }
        bail!(
            "{}: another run keeps replacing {LOCK_FILE}; stop the other runs and try again",
            out_dir.display()
        )
    }
}

impl Drop for OutDirLock {
    fn drop(&mut self) {
        // Still holding the lock: nobody else can have written `.lock` in the meantime.
        if cfg!(unix) {
            let _ = std::fs::remove_file(&self.path);
        }
        if self.created_out_dir {
            // Only removes it if empty: the out dir did not exist before this (failed) run.
            let _ = std::fs::remove_dir(&self.out_dir);
        }
        let _ = self.file.unlock();
    }
}

/// What the holder writes into `.lock`: `pid 1234: cargo xtask dist --target x`.
fn holder_line() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    format!(
        "pid {}: cargo xtask {}\n",
        std::process::id(),
        args.join(" ")
    )
}

fn busy_message(out_dir: &Path, holder: &str) -> String {
    let holder = match holder.trim() {
        // The holder locked the file but has not written its line yet.
        "" => "a run that is just starting".to_owned(),
        line => format!("another run ({})", line.replace(['\n', '\r'], " ")),
    };
    format!(
        "{} is locked by {holder}: one run at a time per out dir; wait for it to finish, or \
         pass another --out-dir",
        out_dir.display()
    )
}

/// Whether `path` still names the open `file` (its holder removes it when done).
#[cfg(unix)]
fn still_at_path(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(open), Ok(named)) => open.dev() == named.dev() && open.ino() == named.ino(),
        _ => false,
    }
}

/// Windows (the msvc build jobs) keeps `.lock`: a file another process has open may not be
/// removable there, so it is never removed and always the one locked.
#[cfg(not(unix))]
fn still_at_path(_file: &File, _path: &Path) -> bool {
    true
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-lock-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    /// flock(2) locks belong to the open file, so a second open in this process is refused as a
    /// second process would be.
    #[test]
    fn a_second_lock_fails_naming_the_holder_and_the_first_cleans_up() {
        let out = scratch("busy");
        let first = OutDirLock::acquire(&out).unwrap();
        let holder = std::fs::read_to_string(out.join(LOCK_FILE)).unwrap();
        assert!(holder.starts_with(&format!("pid {}: cargo xtask ", std::process::id())));
        let err = OutDirLock::acquire(&out).err().unwrap().to_string();
        assert!(
            err.contains(&format!(
                "locked by another run (pid {}:",
                std::process::id()
            )),
            "{err}"
        );
        assert!(!err.contains('\n'), "{err}");
        drop(first);
        // The out dir did not exist: it goes, with the lock file.
        assert!(!out.exists());
        let again = OutDirLock::acquire(&out).unwrap();
        drop(again);
    }

    #[test]
    fn a_lock_file_left_by_a_killed_run_locks_nothing_and_other_files_stay() {
        let out = scratch("stale");
        std::fs::create_dir_all(&out).unwrap();
        std::fs::write(out.join(LOCK_FILE), "pid 1: cargo xtask dist\n").unwrap();
        std::fs::write(out.join("mine.txt"), "user file").unwrap();
        let lock = OutDirLock::acquire(&out).unwrap();
        let holder = std::fs::read_to_string(out.join(LOCK_FILE)).unwrap();
        assert!(!holder.contains("pid 1:"), "{holder}");
        drop(lock);
        let left: Vec<_> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["mine.txt"]);
        std::fs::remove_dir_all(&out).unwrap();
    }
}
