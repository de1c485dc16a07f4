//! The musl build's file and directory opens, as raw system calls: musl's `open()` and
//! `opendir()` add an `fcntl(F_SETFD)` per call, which a scan of tens of thousands of files pays.

use std::fs::File;
use std::path::Path;

pub(super) use raw_dir::read_dir;

/// `File::open`, minus one system call per file on musl. musl's `open()` follows every
/// `O_CLOEXEC` open with `fcntl(F_SETFD)` (for kernels before 2.6.23), and a scan of `/usr/bin` and
/// `/usr/lib` opens some 60,000 files; the kernel honours `O_CLOEXEC` itself, so on musl the scan
/// calls `openat(2)` directly (strace: 73,140 `fcntl` calls before, 11,284 after: the directories,
/// which `std::fs::read_dir` opened; [`raw_dir`] removes those too, leaving 3).
pub(super) fn open_read_only(path: &Path) -> std::io::Result<File> {
    use std::ffi::{CStr, CString};
    use std::os::unix::ffi::OsStrExt;
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
    openat(c_path, libc::O_RDONLY | libc::O_NOCTTY).map(File::from)
}

/// `openat(AT_FDCWD, path, flags | O_CLOEXEC)` as a raw system call, bypassing musl's `open()` and
/// its `fcntl(F_SETFD)` (see [`open_read_only`]); the kernel honours `O_CLOEXEC` itself.
fn openat(path: &std::ffi::CStr, flags: libc::c_int) -> std::io::Result<std::os::fd::OwnedFd> {
    use std::os::fd::{FromRawFd, OwnedFd};
    // SAFETY: `path` is a valid NUL-terminated string that outlives the call; a non-negative
    // result is a new descriptor that nothing else owns, so `OwnedFd` may take it.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat,
            libc::AT_FDCWD,
            path.as_ptr(),
            flags | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) })
}

/// `std::fs::read_dir`, minus two system calls per directory on musl. `read_dir` calls musl's
/// `opendir()`, whose `open()` adds `fcntl(F_SETFD)` after its `O_CLOEXEC` open (see
/// [`open_read_only`]); a scan of `/usr/bin` and `/usr/lib` lists some 11,300 directories
/// (strace: 11,286 `fcntl` calls). So on musl the walk opens each directory with `openat(2)` and
/// reads it with `getdents64(2)` itself. Same semantics as `std::fs::read_dir` as the walk uses it:
/// every name but `.` and `..`, in the kernel's order; the type from `d_type`, or from `lstat` when
/// the file system does not fill it in (`DT_UNKNOWN`); a read error ends the listing after
/// being returned once.
mod raw_dir {
    use std::io;
    use std::os::fd::{AsRawFd, OwnedFd};
    use std::os::unix::ffi::OsStrExt;
    use std::path::{Path, PathBuf};

    /// What the kernel gives per `getdents64` call at most; most directories fit in one call.
    const BUFFER_LEN: usize = 32 * 1024;
    /// `struct linux_dirent64` up to `d_name`: `d_ino` (u64), `d_off` (i64), `d_reclen` (u16),
    /// `d_type` (u8).
    const HEADER_LEN: usize = 19;

    pub struct ReadDir {
        dir: PathBuf,
        fd: OwnedFd,
        /// Filled by the kernel up to `buffer.len()`; `pos` is the next record.
        buffer: Vec<u8>,
        pos: usize,
        done: bool,
    }

    pub struct DirEntry {
        path: PathBuf,
        d_type: u8,
    }

    /// The part of `std::fs::FileType` the walk asks about.
    pub struct FileType {
        dir: bool,
        file: bool,
    }

    impl FileType {
        pub fn is_dir(&self) -> bool {
            self.dir
        }
        pub fn is_file(&self) -> bool {
            self.file
        }
    }

    pub fn read_dir(dir: &Path) -> io::Result<ReadDir> {
        let c_path = std::ffi::CString::new(dir.as_os_str().as_bytes())?;
        let fd = super::openat(&c_path, libc::O_RDONLY | libc::O_DIRECTORY)?;
        Ok(ReadDir {
            dir: dir.to_path_buf(),
            fd,
            buffer: Vec::with_capacity(BUFFER_LEN),
            pos: 0,
            done: false,
        })
    }

    impl ReadDir {
        /// Refills the buffer; `Ok(false)` at the end of the directory.
        fn fill(&mut self) -> io::Result<bool> {
            self.buffer.clear();
            self.pos = 0;
            // SAFETY: the kernel writes at most `capacity` bytes into the buffer's spare capacity
            // and returns how many; only those are then treated as initialized.
            let n = unsafe {
                libc::syscall(
                    libc::SYS_getdents64,
                    self.fd.as_raw_fd(),
                    self.buffer.as_mut_ptr(),
                    self.buffer.capacity(),
                )
            };
            if n < 0 {
                return Err(io::Error::last_os_error());
            }
            let n = (n as usize).min(self.buffer.capacity());
            // SAFETY: see above; `n` bytes were written by the kernel.
            unsafe { self.buffer.set_len(n) };
            Ok(n > 0)
        }

        /// The next record in the buffer as `d_type` and where its name is, bounds-checked.
        fn next_record(&mut self) -> Option<io::Result<(u8, std::ops::Range<usize>)>> {
            let rest = self.buffer.get(self.pos..)?;
            if rest.is_empty() {
                return None;
            }
            let bad = || io::Error::new(io::ErrorKind::InvalidData, "malformed getdents64 record");
            if rest.len() < HEADER_LEN {
                return Some(Err(bad()));
            }
            let reclen = u16::from_ne_bytes([rest[16], rest[17]]) as usize;
            if reclen < HEADER_LEN || reclen > rest.len() {
                return Some(Err(bad()));
            }
            let d_type = rest[18];
            let name = &rest[HEADER_LEN..reclen];
            let Some(nul) = name.iter().position(|&b| b == 0) else {
                return Some(Err(bad()));
            };
            let start = self.pos + HEADER_LEN;
            self.pos += reclen;
            Some(Ok((d_type, start..start + nul)))
        }
    }

    impl Iterator for ReadDir {
        type Item = io::Result<DirEntry>;

        fn next(&mut self) -> Option<Self::Item> {
            while !self.done {
                let (d_type, name) = match self.next_record() {
                    Some(Ok((d_type, name))) => (d_type, &self.buffer[name]),
                    Some(Err(error)) => {
                        self.done = true;
                        return Some(Err(error));
                    }
                    None => match self.fill() {
                        Ok(true) => continue,
                        Ok(false) => {
                            self.done = true;
                            return None;
                        }
                        Err(error) => {
                            self.done = true;
                            return Some(Err(error));
                        }
                    },
                };
                if name == b"." || name == b".." {
                    continue;
                }
                let path = self.dir.join(std::ffi::OsStr::from_bytes(name));
                return Some(Ok(DirEntry { path, d_type }));
            }
            None
        }
    }

    impl DirEntry {
        pub fn path(&self) -> PathBuf {
            self.path.clone()
        }

        /// As `std::fs::DirEntry::file_type`: from `d_type`, else from `lstat`.
        pub fn file_type(&self) -> io::Result<FileType> {
            let (dir, file) = match self.d_type {
                libc::DT_DIR => (true, false),
                libc::DT_REG => (false, true),
                libc::DT_LNK | libc::DT_CHR | libc::DT_BLK | libc::DT_FIFO | libc::DT_SOCK => {
                    (false, false)
                }
                _ => {
                    let kind = std::fs::symlink_metadata(&self.path)?.file_type();
                    (kind.is_dir(), kind.is_file())
                }
            };
            Ok(FileType { dir, file })
        }
    }
}

/// `raw_dir` against `std::fs::read_dir` on a tree with hidden files, symbolic links and a
/// directory too big for one `getdents64` buffer (`cargo test --target x86_64-unknown-linux-musl`).
#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::{Path, PathBuf};

    fn listing(dir: &Path, raw: bool) -> BTreeSet<(PathBuf, bool, bool)> {
        if raw {
            super::raw_dir::read_dir(dir)
                .unwrap()
                .map(|entry| {
                    let entry = entry.unwrap();
                    let kind = entry.file_type().unwrap();
                    (entry.path(), kind.is_dir(), kind.is_file())
                })
                .collect()
        } else {
            std::fs::read_dir(dir)
                .unwrap()
                .map(|entry| {
                    let entry = entry.unwrap();
                    let kind = entry.file_type().unwrap();
                    (entry.path(), kind.is_dir(), kind.is_file())
                })
                .collect()
        }
    }

    #[test]
    fn raw_dir_lists_what_std_lists() {
        let root = std::env::temp_dir().join(format!("linkaudit-raw-dir-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let big = root.join("big");
        std::fs::create_dir_all(&big).unwrap();
        std::fs::create_dir(root.join(".hidden-dir")).unwrap();
        std::fs::write(root.join(".hidden"), b"x").unwrap();
        std::fs::write(root.join("file"), b"x").unwrap();
        std::os::unix::fs::symlink("file", root.join("link")).unwrap();
        std::os::unix::fs::symlink("big", root.join("dir-link")).unwrap();
        // About 2,000 records of over 100 bytes: several 32 KiB reads.
        for i in 0..2000 {
            std::fs::write(big.join(format!("{i:0>100}")), b"").unwrap();
        }
        for dir in [&root, &big] {
            assert_eq!(listing(dir, true), listing(dir, false));
        }
        assert_eq!(listing(&big, true).len(), 2000);
        assert_eq!(listing(&root, true).len(), 6);
        assert!(super::raw_dir::read_dir(&root.join("file")).is_err());
        assert!(super::raw_dir::read_dir(&root.join("missing")).is_err());
        std::fs::remove_dir_all(&root).unwrap();
    }
}
