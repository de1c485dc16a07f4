//! Compares a released archive with its rebuild: `identical`, or the first member that differs
//! and the offset inside it, and for a binary (ELF, PE, Mach-O) the section holding that offset.

use super::Rebuilt;
use crate::workspace::manifest::{Artifact, Manifest};
use crate::workspace::report::Report;
use anyhow::{bail, Context, Result};
use std::io::Read;
use std::path::Path;

pub(super) fn compare_all(
    dir: &Path,
    rebuilt: &Rebuilt,
    manifest: &Manifest,
    report: &Report,
) -> Result<()> {
    let (mut identical, mut differ, mut unchecked) = (0, 0, 0);
    for artifact in &manifest.artifacts {
        let verdict = match (
            rebuilt.skipped.get(&artifact.target),
            rebuilt.archives.get(&artifact.archive),
        ) {
            (Some(reason), _) => {
                unchecked += 1;
                format!("not checked: {reason}")
            }
            (None, None) => {
                differ += 1;
                "DIFFERS: the rebuild wrote no archive of that name".to_owned()
            }
            (None, Some(path)) => match first_difference(&dir.join(&artifact.archive), path)? {
                None => {
                    identical += 1;
                    "identical".to_owned()
                }
                Some(difference) => match other_toolchain(rebuilt, artifact) {
                    Some(reason) => {
                        unchecked += 1;
                        format!("not checked: {reason} ({difference})")
                    }
                    None => {
                        differ += 1;
                        format!("DIFFERS: {difference}")
                    }
                },
            },
        };
        report.line(&format!("reproduce  {}  {verdict}", artifact.archive));
    }
    report.line(&format!(
        "reproduce  {identical} identical, {differ} differ, {unchecked} not checked"
    ));
    if differ > 0 {
        bail!(
            "{differ} archive(s) of {} differ from the rebuild of its commit (above)",
            dir.display()
        );
    }
    Ok(())
}

/// Why differing bytes say nothing: the rebuild's C toolchain is not the recorded one.
fn other_toolchain(rebuilt: &Rebuilt, artifact: &Artifact) -> Option<String> {
    let here = rebuilt.toolchains.get(&artifact.archive)?;
    if *here == artifact.c_toolchain {
        return None;
    }
    let name = |t: &Option<String>| t.clone().unwrap_or_else(|| "an unrecorded one".into());
    Some(format!(
        "built with C toolchain {}, rebuilt here with {}; install the recorded one to check it",
        name(&artifact.c_toolchain),
        name(here)
    ))
}

/// `None` when both files have the same bytes; else where they first differ.
fn first_difference(released: &Path, rebuilt: &Path) -> Result<Option<String>> {
    let (a, b) = (read(released)?, read(rebuilt)?);
    if a == b {
        return Ok(None);
    }
    let name = released.to_string_lossy();
    let members = if name.ends_with(".zip") || name.ends_with(".whl") {
        zip_members(&a).and_then(|ma| Ok((ma, zip_members(&b)?)))
    } else {
        tar_members(&a).and_then(|ma| Ok((ma, tar_members(&b)?)))
    };
    let Ok((ma, mb)) = members else {
        return Ok(Some(format!(
            "at byte {} (the released file is no readable archive)",
            first_byte(&a, &b)
        )));
    };
    for (index, (x, y)) in ma.iter().zip(&mb).enumerate() {
        if x.name != y.name {
            return Ok(Some(format!(
                "member {index} is {} in the release but {} rebuilt",
                x.name, y.name
            )));
        }
        if x.header != y.header {
            return Ok(Some(format!(
                "the header (mode, owner or time) of member {}",
                x.name
            )));
        }
        if x.data != y.data {
            let offset = first_byte(&x.data, &y.data);
            let section =
                section_at(&x.data, offset).map_or(String::new(), |s| format!(" (section {s})"));
            return Ok(Some(format!(
                "member {} at offset {offset}{section}",
                x.name
            )));
        }
    }
    if ma.len() != mb.len() {
        return Ok(Some(format!(
            "{} members in the release, {} rebuilt",
            ma.len(),
            mb.len()
        )));
    }
    Ok(Some(format!(
        "at byte {} with the same members: the compression or archive metadata",
        first_byte(&a, &b)
    )))
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

fn first_byte(a: &[u8], b: &[u8]) -> usize {
    a.iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()))
}

struct Member {
    name: String,
    header: Vec<u8>,
    data: Vec<u8>,
}

fn tar_members(bytes: &[u8]) -> Result<Vec<Member>> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let mut members = Vec::new();
    for entry in archive.entries()? {
        let mut entry = entry?;
        let mut data = Vec::new();
        entry.read_to_end(&mut data)?;
        members.push(Member {
            name: entry.path()?.to_string_lossy().into_owned(),
            header: entry.header().as_bytes().to_vec(),
            data,
        });
    }
    Ok(members)
}

fn zip_members(bytes: &[u8]) -> Result<Vec<Member>> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))?;
    let mut members = Vec::new();
    for index in 0..archive.len() {
        let mut file = archive.by_index(index)?;
        let header = format!(
            "{:?} {:?} {:?}",
            file.unix_mode(),
            file.last_modified(),
            file.compression()
        );
        let mut data = Vec::new();
        file.read_to_end(&mut data)?;
        members.push(Member {
            name: file.name().to_owned(),
            header: header.into_bytes(),
            data,
        });
    }
    Ok(members)
}

/// The name of the section whose bytes in the file hold `offset`, for an ELF, PE or Mach-O file.
fn section_at(data: &[u8], offset: usize) -> Option<String> {
    use object::{Object, ObjectSection};
    let file = object::File::parse(data).ok()?;
    let offset = offset as u64;
    file.sections().find_map(|section| {
        let (start, size) = section.file_range()?;
        (offset >= start && offset < start + size).then(|| section.name().unwrap_or("?").to_owned())
    })
}
