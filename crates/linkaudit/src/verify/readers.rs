//! Reading archives the way the user's extractor will: every gzip member (more than one is
//! refused: `tar xzf` unpacks them all, and our writer makes one), every tar entry, and for a zip
//! both the central directory (Python's `zipfile`, pip, `unzip`) and the local headers (streaming
//! extractors), which must describe the same entries, back to back.

use super::entries::{Flow, Inspector};
use crate::contract::open_regular;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

pub(super) fn read_archive(path: &Path, inspector: &mut Inspector) -> io::Result<()> {
    let file = open_regular(path)?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    if name.ends_with(".zip") || name.ends_with(".whl") {
        read_zip(file, inspector)
    } else {
        read_tar_gz(file, inspector)
    }
}

fn read_tar_gz(file: File, inspector: &mut Inspector) -> io::Result<()> {
    let gz = flate2::bufread::GzDecoder::new(BufReader::new(file));
    let mut archive = tar::Archive::new(gz);
    for entry in archive.entries()? {
        let mut entry = entry?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let kind = entry.header().entry_type();
        let flow = if kind.is_symlink() || kind.is_hard_link() {
            let target = entry
                .link_name_bytes()
                .map(|t| String::from_utf8_lossy(&t).into_owned())
                .unwrap_or_default();
            inspector.link(&name, &target, kind.is_hard_link());
            Flow::Continue
        } else if kind.is_file() {
            let mode = entry.header().mode().ok();
            let size = entry.size();
            inspector.file(&name, mode, size, &mut entry)?
        } else if kind.is_dir() {
            inspector.directory(&name);
            Flow::Continue
        } else {
            inspector.other(&name, &format!("{kind:?}"));
            Flow::Continue
        };
        if flow == Flow::Stop {
            return Ok(());
        }
    }
    let mut gz = archive.into_inner();
    // What follows the end-of-archive blocks must be zeros (tar's padding), and nothing may
    // follow the gzip member: a second member would be unpacked by `tar xzf` over the first.
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let read = gz.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        if buffer[..read].iter().any(|&b| b != 0) {
            inspector.fail_archive("has data after the tar end-of-archive blocks: an extractor reading on would unpack entries this check did not see".into());
            return Ok(());
        }
        if inspector.inflate(read as u64) == Flow::Stop {
            return Ok(());
        }
    }
    if !gz.into_inner().fill_buf()?.is_empty() {
        inspector.fail_archive("has bytes after its first gzip member (a second member, or appended data): `tar xzf` unpacks every member, so entries this check did not read would be installed; the release writer makes one member".into());
    }
    Ok(())
}

fn read_zip(mut file: File, inspector: &mut Inspector) -> io::Result<()> {
    let mut zip = zip::ZipArchive::new(file.try_clone()?).map_err(io::Error::other)?;
    if let Err(problem) = local_headers_agree(&mut zip, &mut file) {
        inspector.fail_archive(format!("its central directory and local headers disagree ({problem}): extractors that read one or the other would unpack different files; refused"));
        return Ok(());
    }
    for index in 0..zip.len() {
        let mut entry = zip.by_index(index).map_err(io::Error::other)?;
        let name = String::from_utf8_lossy(entry.name_raw()).into_owned();
        let mode = entry.unix_mode();
        let flow = if mode.is_some_and(|mode| mode & 0o170000 == 0o120000) {
            if inspector.inflate(entry.size()) == Flow::Stop {
                return Ok(());
            }
            let mut target = String::new();
            (&mut entry).take(4096).read_to_string(&mut target)?;
            inspector.link(&name, &target, false);
            Flow::Continue
        } else if entry.is_dir() {
            inspector.directory(&name);
            Flow::Continue
        } else {
            let size = entry.size();
            inspector.file(&name, mode, size, &mut entry)?
        };
        if flow == Flow::Stop {
            return Ok(());
        }
    }
    Ok(())
}

/// Each central directory entry's local header, read from the file: same name, method, flags,
/// CRC and sizes; and the entries back to back from the start of the file to the central
/// directory, so that no local entry hides between or before them.
fn local_headers_agree(zip: &mut zip::ZipArchive<File>, file: &mut File) -> Result<(), String> {
    let central_start = zip.central_directory_start();
    let mut spans = Vec::new();
    for index in 0..zip.len() {
        let entry = zip.by_index_raw(index).map_err(|err| err.to_string())?;
        let name = String::from_utf8_lossy(entry.name_raw()).into_owned();
        let mut header = [0u8; 30];
        file.seek(SeekFrom::Start(entry.header_start()))
            .and_then(|_| file.read_exact(&mut header))
            .map_err(|err| format!("entry {name:?}: no local header ({err})"))?;
        let u16_at = |at: usize| u16::from_le_bytes([header[at], header[at + 1]]);
        let u32_at = |at: usize| u32::from_le_bytes(header[at..at + 4].try_into().unwrap());
        if u32_at(0) != 0x0403_4b50 {
            return Err(format!("entry {name:?}: no local header at its offset"));
        }
        if u16_at(6) & 0x0008 != 0 {
            return Err(format!(
                "entry {name:?}: sizes in a data descriptor, which the release writer never writes"
            ));
        }
        let mut local_name = vec![0u8; usize::from(u16_at(26))];
        file.read_exact(&mut local_name)
            .map_err(|err| err.to_string())?;
        if local_name != entry.name_raw() {
            return Err(format!(
                "entry {name:?} is named {:?} in its local header",
                String::from_utf8_lossy(&local_name)
            ));
        }
        let method_matches = u16_at(8) == central_method(&entry);
        let sizes_match = u32_at(14) == entry.crc32()
            && (u32_at(18) == u32::MAX || u64::from(u32_at(18)) == entry.compressed_size())
            && (u32_at(22) == u32::MAX || u64::from(u32_at(22)) == entry.size());
        if !method_matches || !sizes_match {
            return Err(format!("entry {name:?}: method, CRC or sizes differ"));
        }
        spans.push((
            entry.header_start(),
            entry.data_start().saturating_add(entry.compressed_size()),
            name,
        ));
    }
    spans.sort();
    let mut expected_start = zip.offset();
    for (start, end, name) in &spans {
        if *start != expected_start {
            return Err(format!("bytes {expected_start}..{start} before entry {name:?} belong to no entry of the central directory (a hidden or duplicate entry)"));
        }
        expected_start = *end;
    }
    if expected_start != central_start || zip.offset() != 0 {
        return Err(format!("bytes {expected_start}..{central_start} before the central directory belong to no entry"));
    }
    Ok(())
}

fn central_method(entry: &zip::read::ZipFile<File>) -> u16 {
    #[allow(deprecated)]
    entry.compression().to_u16()
}
