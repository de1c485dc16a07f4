//! Reproducible archives: the same inputs and
//! SOURCE_DATE_EPOCH give the same bytes, whatever the file system says about the inputs.
//!
//! Every tar header is built here, not read from disk: `HeaderMode::Deterministic` only covers
//! the tar methods that read file metadata, and `append_dir_all` does not sort. Entries are sorted
//! by name; mtime is SOURCE_DATE_EPOCH; uid/gid 0 owned by root:root; modes 0755 for directories
//! and executables, 0644 for the rest. The gzip header has no file name, mtime 0 and the "unknown"
//! OS byte (flate2's `GzBuilder` defaults); deflate is flate2's zlib-rs backend at level 9.
//! Zip entries follow the same rules, with the DOS timestamp of SOURCE_DATE_EPOCH.

use super::fsio::write_atomically;
use anyhow::{bail, Context, Result};
use flate2::{Compression, GzBuilder};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Deflate level for both formats; changing it changes every archive's bytes. Chosen on four
/// release builds of linkaudit with README.md and LICENSE (8.1 MiB), time relative to `tar |
/// gzip -6` + `sha256sum` on the same files, size relative to gzip -6: zlib-rs level 6: 0.34x,
/// +2.5%; 7: 0.47x, +1.6%; 8: 0.69x, +1.5%; 9: 0.74x, -0.4% (on 2 loaded cores; BENCHMARKS.md
/// has current figures). miniz_oxide, the backend before zlib-rs, at level 9: 2.3x optimised,
/// 4.1x in the dev profile without Cargo.toml's opt-level overrides, +0.3%. Only level 9 writes
/// archives no larger than gzip -6.
pub const LEVEL: u32 = 9;
/// flate2's deflate backend, chosen in xtask/Cargo.toml and pinned by Cargo.lock.
pub const BACKEND: &str = "zlib-rs";

/// A file to put under the archive's top directory.
#[derive(Clone, Debug)]
pub struct ArchiveFile {
    /// The name inside `<top>/` (archives are flat).
    pub name: String,
    pub source: PathBuf,
    pub executable: bool,
}

impl ArchiveFile {
    pub fn mode(&self) -> u32 {
        if self.executable {
            0o755
        } else {
            0o644
        }
    }
}

/// The entries in archive order: the top directory, then its files sorted by name.
fn sorted<'a>(top_dir: &str, files: &'a [ArchiveFile]) -> Result<Vec<(String, &'a ArchiveFile)>> {
    let mut entries: Vec<(String, &ArchiveFile)> = files
        .iter()
        .map(|f| (format!("{top_dir}/{}", f.name), f))
        .collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    if let Some(pair) = entries.windows(2).find(|pair| pair[0].0 == pair[1].0) {
        bail!("two files named `{}` in one archive: rename one", pair[0].0);
    }
    Ok(entries)
}

/// Writes `<top>.tar.gz` at `dest`, through a temporary name in the same directory.
pub fn pack_tarball(dest: &Path, top_dir: &str, files: &[ArchiveFile], mtime: u64) -> Result<()> {
    let entries = sorted(top_dir, files)?;
    write_atomically(dest, |out| {
        let gz = GzBuilder::new()
            .mtime(0)
            .write(out, Compression::new(LEVEL));
        let mut tar = tar::Builder::new(gz);
        let dir_header = header(tar::EntryType::Directory, 0o755, 0, mtime)?;
        tar.append_data(
            &mut dir_header.clone(),
            format!("{top_dir}/"),
            std::io::empty(),
        )?;
        for (path, file) in entries {
            let data = std::fs::read(&file.source)
                .with_context(|| format!("reading {}", file.source.display()))?;
            let mut h = header(
                tar::EntryType::Regular,
                file.mode(),
                data.len() as u64,
                mtime,
            )?;
            tar.append_data(&mut h, &path, data.as_slice())?;
        }
        tar.into_inner()?.finish()?.flush()?;
        Ok(())
    })
}

fn header(kind: tar::EntryType, mode: u32, size: u64, mtime: u64) -> Result<tar::Header> {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_size(size);
    h.set_mtime(mtime);
    h.set_uid(0);
    h.set_gid(0);
    h.set_username("root")?;
    h.set_groupname("root")?;
    Ok(h)
}

/// Writes `<top>.zip` at `dest`, through a temporary name in the same directory.
pub fn pack_zip(dest: &Path, top_dir: &str, files: &[ArchiveFile], mtime: u64) -> Result<()> {
    let mut entries = vec![ZipEntry {
        path: format!("{top_dir}/"),
        mode: 0o755,
        data: None,
    }];
    for (path, file) in sorted(top_dir, files)? {
        let data = std::fs::read(&file.source)
            .with_context(|| format!("reading {}", file.source.display()))?;
        entries.push(ZipEntry {
            path,
            mode: file.mode(),
            data: Some(data),
        });
    }
    write_zip(dest, &entries, mtime)
}

/// One zip entry: a directory when `data` is `None`.
pub struct ZipEntry {
    pub path: String,
    pub mode: u32,
    pub data: Option<Vec<u8>>,
}

/// The one zip writer, for the archives and the wheels: entries in the given order, the DOS time
/// of `mtime`, the given unix modes, deflate at `LEVEL`.
pub fn write_zip(dest: &Path, entries: &[ZipEntry], mtime: u64) -> Result<()> {
    use zip::write::SimpleFileOptions;
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(i64::from(LEVEL)))
        .last_modified_time(dos_time(mtime)?);
    write_atomically(dest, |out| {
        let mut zip = zip::ZipWriter::new(out);
        for entry in entries {
            let options = options.unix_permissions(entry.mode);
            match &entry.data {
                None => zip.add_directory(entry.path.as_str(), options)?,
                Some(data) => {
                    zip.start_file(entry.path.as_str(), options)?;
                    zip.write_all(data)?;
                }
            }
        }
        zip.finish()?.flush()?;
        Ok(())
    })
}

/// Zip stores local time in DOS format: 1980..2107, even seconds. Earlier epochs are clamped to
/// 1980-01-01 (zip cannot say older), and the clock is read as UTC so every machine agrees.
fn dos_time(epoch: u64) -> Result<zip::DateTime> {
    const DOS_EPOCH: u64 = 315_532_800; // 1980-01-01T00:00:00Z
    let epoch = epoch.max(DOS_EPOCH);
    let (year, month, day) = civil_from_days((epoch / 86_400) as i64);
    let secs = epoch % 86_400;
    zip::DateTime::from_date_and_time(
        year as u16,
        month,
        day,
        (secs / 3600) as u8,
        (secs % 3600 / 60) as u8,
        (secs % 60 / 2 * 2) as u8,
    )
    .map_err(|_| {
        anyhow::anyhow!("SOURCE_DATE_EPOCH {epoch} is past 2107, the last year a zip can store")
    })
}

/// Days since 1970-01-01 to (year, month, day), Howard Hinnant's `civil_from_days`.
fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Unpacks an archive written by this module (for the smoke run, which starts the binaries from
/// the archive rather than from the target dir).
pub fn unpack(archive: &Path, into: &Path) -> Result<()> {
    let file = File::open(archive).with_context(|| format!("opening {}", archive.display()))?;
    std::fs::create_dir_all(into)?;
    if archive.extension().is_some_and(|e| e == "zip") {
        zip::ZipArchive::new(file)?.extract(into)?;
    } else {
        tar::Archive::new(flate2::read::GzDecoder::new(file)).unpack(into)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        crate::workspace::fsio::scratch_dir("pack", name)
    }

    /// The same files, written in a different order, with different modes and mtimes.
    fn inputs(dir: &Path, flip: bool) -> Vec<ArchiveFile> {
        let mut files = vec![
            ("tool", b"\x7fELF binary".as_slice(), true),
            ("README.md", b"read me".as_slice(), false),
            ("LICENSE", b"license".as_slice(), false),
        ];
        if flip {
            files.reverse();
        }
        files
            .into_iter()
            .map(|(name, data, executable)| {
                let source = dir.join(name);
                std::fs::write(&source, data).unwrap();
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    let mode = if flip { 0o700 } else { 0o664 };
                    std::fs::set_permissions(&source, std::fs::Permissions::from_mode(mode))
                        .unwrap();
                }
                ArchiveFile {
                    name: name.into(),
                    source,
                    executable,
                }
            })
            .collect()
    }

    #[test]
    fn tarballs_and_zips_do_not_depend_on_the_input_files_metadata() {
        for ext in ["tar.gz", "zip"] {
            let (a, b) = (scratch(&format!("a-{ext}")), scratch(&format!("b-{ext}")));
            let files_a = inputs(&a, false);
            std::thread::sleep(std::time::Duration::from_millis(1100));
            let files_b = inputs(&b, true);
            let pack = if ext == "zip" { pack_zip } else { pack_tarball };
            let (out_a, out_b) = (a.join(format!("t.{ext}")), b.join(format!("t.{ext}")));
            pack(&out_a, "tool-x", &files_a, 1_700_000_000).unwrap();
            pack(&out_b, "tool-x", &files_b, 1_700_000_000).unwrap();
            assert_eq!(
                std::fs::read(&out_a).unwrap(),
                std::fs::read(&out_b).unwrap(),
                "{ext}"
            );
            assert!(!a.join(format!(".tmp-t.{ext}")).exists());
        }
    }

    #[test]
    fn tar_entries_are_sorted_and_normalised() {
        let dir = scratch("tar-entries");
        let files = inputs(&dir, true);
        let out = dir.join("t.tar.gz");
        pack_tarball(&out, "tool-x", &files, 1_700_000_000).unwrap();
        let bytes = std::fs::read(&out).unwrap();
        // gzip: no FNAME flag, mtime 0.
        assert_eq!(bytes[3], 0, "flags");
        assert_eq!(&bytes[4..8], &[0, 0, 0, 0], "mtime");
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes.as_slice()));
        let seen: Vec<(String, u32, u64, u64, String)> = archive
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let h = e.header();
                (
                    e.path().unwrap().display().to_string(),
                    h.mode().unwrap(),
                    h.mtime().unwrap(),
                    h.uid().unwrap(),
                    h.username().unwrap().unwrap().to_owned(),
                )
            })
            .collect();
        let names: Vec<&str> = seen.iter().map(|s| s.0.as_str()).collect();
        assert_eq!(
            names,
            [
                "tool-x/",
                "tool-x/LICENSE",
                "tool-x/README.md",
                "tool-x/tool"
            ]
        );
        let modes: Vec<u32> = seen.iter().map(|s| s.1).collect();
        assert_eq!(modes, [0o755, 0o644, 0o644, 0o755]);
        assert!(seen
            .iter()
            .all(|s| s.2 == 1_700_000_000 && s.3 == 0 && s.4 == "root"));
    }

    #[test]
    fn zip_entries_carry_the_epoch_and_unix_modes() {
        let dir = scratch("zip-entries");
        let out = dir.join("t.zip");
        pack_zip(&out, "tool-x", &inputs(&dir, false), 1_700_000_000).unwrap();
        let mut zip = zip::ZipArchive::new(File::open(&out).unwrap()).unwrap();
        let names: Vec<String> = zip.file_names().map(str::to_owned).collect();
        assert_eq!(
            names,
            [
                "tool-x/",
                "tool-x/LICENSE",
                "tool-x/README.md",
                "tool-x/tool"
            ]
        );
        let tool = zip.by_name("tool-x/tool").unwrap();
        assert_eq!(tool.unix_mode().unwrap() & 0o777, 0o755);
        let t = tool.last_modified().unwrap();
        // 1700000000 = 2023-11-14T22:13:20Z
        assert_eq!(
            (
                t.year(),
                t.month(),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            ),
            (2023, 11, 14, 22, 13, 20)
        );
    }

    #[test]
    fn unpack_reads_back_both_formats() {
        for ext in ["tar.gz", "zip"] {
            let dir = scratch(&format!("unpack-{ext}"));
            let out = dir.join(format!("t.{ext}"));
            let pack = if ext == "zip" { pack_zip } else { pack_tarball };
            pack(&out, "tool-x", &inputs(&dir, false), 1_700_000_000).unwrap();
            unpack(&out, &dir.join("x")).unwrap();
            assert_eq!(
                std::fs::read(dir.join("x/tool-x/README.md")).unwrap(),
                b"read me"
            );
        }
    }

    #[test]
    fn dos_time_clamps_and_converts_in_utc() {
        let t = dos_time(0).unwrap();
        assert_eq!((t.year(), t.month(), t.day()), (1980, 1, 1));
        let t = dos_time(951_782_400).unwrap(); // 2000-02-29T00:00:00Z
        assert_eq!((t.year(), t.month(), t.day()), (2000, 2, 29));
        assert!(dos_time(5_000_000_000).is_err());
    }

    #[test]
    fn duplicate_names_are_refused() {
        let dir = scratch("dup");
        let mut files = inputs(&dir, false);
        files.push(files[0].clone());
        assert!(pack_tarball(&dir.join("t.tar.gz"), "x", &files, 0).is_err());
    }
}
