//! Reuses an archive when nothing that goes into its bytes changed since the last run.
//!
//! Archives are reproducible: their bytes are a function of the entries (names, modes,
//! contents), the epoch, the format and the xtask that wrote them. A warm `cargo xtask dist`
//! spent about 1 s of its 1.4 s over cargo deflating the same binaries again at level 9 (six
//! archives and four wheels of this workspace). The cache keeps, per archive name, the last
//! archive written and the SHA-256 key of its inputs in `<target dir>/xtask-cache/archives/`.
//! A hit copies it; the smoke run still unpacks the copy and starts its binaries, and the
//! linkage checks read the freshly built binaries as before, so what ships is checked as on a
//! cold run.

use super::fsio::write_file_atomically;
use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

pub struct ArchiveCache {
    dir: PathBuf,
    /// The running xtask's path, size and mtime: a rebuilt xtask (other deflate, other layout)
    /// never reuses archives an older one wrote.
    xtask: String,
}

/// The inputs of one archive, hashed: feed every field with `field`, then `finish`.
pub struct Key(Sha256);

impl Key {
    /// Starts a key for `format` (`tar.gz`, `zip`) of archives stamped with `mtime`.
    pub fn new(format: &str, mtime: u64) -> Key {
        let mut key = Key(Sha256::new());
        key.field(format.as_bytes());
        key.field(&mtime.to_le_bytes());
        key
    }

    /// One length-prefixed field, so that ("ab", "c") and ("a", "bc") differ.
    pub fn field(&mut self, bytes: &[u8]) -> &mut Key {
        self.0.update((bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
        self
    }

    /// One entry: its path in the archive, its mode and its contents.
    pub fn entry(&mut self, path: &str, mode: u32, data: &[u8]) -> &mut Key {
        self.field(path.as_bytes());
        self.field(&mode.to_le_bytes());
        self.field(&Sha256::digest(data))
    }
}

impl ArchiveCache {
    pub fn new(target_dir: &Path) -> ArchiveCache {
        let xtask = std::env::current_exe()
            .ok()
            .and_then(|exe| {
                let meta = std::fs::metadata(&exe).ok()?;
                let mtime = meta
                    .modified()
                    .ok()?
                    .duration_since(std::time::UNIX_EPOCH)
                    .ok()?;
                Some(format!(
                    "{} {} {}",
                    exe.display(),
                    meta.len(),
                    mtime.as_nanos()
                ))
            })
            .unwrap_or_default();
        ArchiveCache {
            dir: target_dir.join("xtask-cache").join("archives"),
            xtask,
        }
    }

    /// Writes `dest` by copying the cached archive of the same name when its key matches `key`,
    /// else by running `pack`, then keeps a copy. Without the xtask's identity nothing is reused.
    pub fn write(&self, dest: &Path, key: Key, pack: impl FnOnce() -> Result<()>) -> Result<()> {
        let mut key = key;
        key.field(self.xtask.as_bytes());
        let key = format!("{:x}", key.0.finalize());
        let name = dest
            .file_name()
            .context("an archive path without a file name")?;
        let cached = self.dir.join(name);
        let key_file = self.dir.join(format!("{}.key", name.to_string_lossy()));
        let hit = !self.xtask.is_empty()
            && std::fs::read_to_string(&key_file).is_ok_and(|k| k == key)
            && std::fs::copy(&cached, dest).is_ok();
        if hit {
            return Ok(());
        }
        pack()?;
        // Best effort: a cache that cannot be written only costs the next run its deflate.
        let _ = self.store(dest, &cached, &key_file, &key);
        Ok(())
    }

    fn store(&self, archive: &Path, cached: &Path, key_file: &Path, key: &str) -> Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        // The key goes last and is removed first: a run killed in between leaves no stale pair.
        let _ = std::fs::remove_file(key_file);
        write_file_atomically(cached, &std::fs::read(archive)?)?;
        write_file_atomically(key_file, key.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        crate::workspace::fsio::scratch_dir("cache", name)
    }

    fn key(data: &[u8]) -> Key {
        let mut key = Key::new("tar.gz", 1_700_000_000);
        key.entry("tool/tool", 0o755, data);
        key
    }

    /// The same inputs reuse the archive without packing; other contents, another mode or
    /// another epoch pack again.
    #[test]
    fn reuses_an_archive_only_for_the_same_inputs() {
        let dir = scratch("reuse");
        let cache = ArchiveCache::new(&dir.join("target"));
        let dest = dir.join("tool.tar.gz");
        let packs = std::cell::Cell::new(0);
        let pack = |bytes: &'static [u8]| {
            let (dest, packs) = (&dest, &packs);
            move || {
                packs.set(packs.get() + 1);
                std::fs::write(dest, bytes)?;
                Ok(())
            }
        };
        cache.write(&dest, key(b"v1"), pack(b"archive 1")).unwrap();
        std::fs::remove_file(&dest).unwrap();
        cache.write(&dest, key(b"v1"), pack(b"never")).unwrap();
        assert_eq!(
            (packs.get(), std::fs::read(&dest).unwrap()),
            (1, b"archive 1".to_vec())
        );
        cache.write(&dest, key(b"v2"), pack(b"archive 2")).unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"archive 2");
        let mut other_mode = Key::new("tar.gz", 1_700_000_000);
        other_mode.entry("tool/tool", 0o644, b"v2");
        cache.write(&dest, other_mode, pack(b"archive 3")).unwrap();
        let mut other_epoch = Key::new("tar.gz", 1_700_000_001);
        other_epoch.entry("tool/tool", 0o644, b"v2");
        cache.write(&dest, other_epoch, pack(b"archive 4")).unwrap();
        assert_eq!(packs.get(), 4);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A failed pack stores nothing: the next run packs again.
    #[test]
    fn a_failed_pack_is_not_cached() {
        let dir = scratch("fail");
        let cache = ArchiveCache::new(&dir.join("target"));
        let dest = dir.join("tool.zip");
        let failed = cache.write(&dest, key(b"v1"), || anyhow::bail!("disk full"));
        assert!(failed.is_err());
        let mut packed = false;
        cache
            .write(&dest, key(b"v1"), || {
                packed = true;
                std::fs::write(&dest, b"zip")?;
                Ok(())
            })
            .unwrap();
        assert!(packed);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
