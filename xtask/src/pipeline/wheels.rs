//! Python wheels that carry the release binaries: `pip install <package>` puts the
//! static binary on the PATH of any Linux, glibc or musl, and of Windows and macOS.
//!
//! A wheel is a zip (the binary distribution format, PEP 427 / PEP 491): the binaries under
//! `{name}-{version}.data/scripts/` (pip copies them into the environment's bin dir and marks them
//! executable), and `METADATA`, `WHEEL` and `RECORD` in `{name}-{version}.dist-info/`. The tag is
//! `py3-none-{platforms}`: no Python code and no ABI, only the platform. Wheels are written like
//! the archives: entries sorted, the DOS time of SOURCE_DATE_EPOCH, fixed modes, the
//! same deflate backend and level.
//!
//! One wheel per platform: a static musl binary runs on glibc systems too, so a Linux musl build
//! is tagged for both libcs at once (`manylinux_2_17_x86_64.manylinux2014_x86_64.musllinux_1_1_x86_64`)
//! and a gnu build of the same architecture gets no wheel; pip would otherwise see two wheels for
//! one platform. Likewise windows-msvc is preferred over windows-gnu.

mod names;

use super::pack::artifact;
use super::source::Source;
use super::verify::Verified;
use crate::workspace::archive::{write_zip, ZipEntry};
use crate::workspace::archive_cache::{ArchiveCache, Key};
use crate::workspace::checksums;
use crate::workspace::config::{Package, Workspace};
use crate::workspace::fsio::write_file_atomically;
use crate::workspace::manifest::Artifact;
use crate::workspace::report::{human_size, Report};
use anyhow::{Context, Result};
use ct_codecs::{Base64UrlSafeNoPadding, Encoder};
pub use names::{platform_tags, PlatformTags, PyVersion, WheelName};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// What a wheel says about its package, from Cargo.toml.
pub struct Metadata<'a> {
    pub package: &'a Package,
    /// The package's readme, if it has one: the long description PyPI shows.
    pub readme: Option<String>,
}

/// A binary to put into the wheel.
pub struct WheelBinary {
    /// The file name, `tool` or `tool.exe`.
    pub file_name: String,
    pub source: PathBuf,
}

/// A wheel written into the staging dir.
pub struct Wheel {
    pub file_name: String,
    /// Where the binaries sit inside the wheel: `{name}-{version}.data/scripts`.
    pub scripts_dir: String,
}

/// Writes the wheel of one package for one platform into `dir`.
pub fn write_wheel(
    dir: &Path,
    meta: &Metadata,
    tags: &PlatformTags,
    binaries: &[WheelBinary],
    (mtime, cache): (u64, &ArchiveCache),
) -> Result<Wheel> {
    let package = meta.package;
    let name = WheelName::new(&package.name);
    let version = PyVersion::from_semver(&package.version)
        .with_context(|| format!("writing the wheel of {}", package.name))?;
    let stem = format!("{}-{}", name.0, version.0);
    let file_name = format!("{stem}-py3-none-{}.whl", tags.compressed());
    let scripts_dir = format!("{stem}.data/scripts");
    let dist_info = format!("{stem}.dist-info");

    let mut files: Vec<(String, Vec<u8>, u32)> = Vec::new();
    for binary in binaries {
        let data = std::fs::read(&binary.source)
            .with_context(|| format!("reading {}", binary.source.display()))?;
        files.push((format!("{scripts_dir}/{}", binary.file_name), data, 0o755));
    }
    files.push((
        format!("{dist_info}/METADATA"),
        metadata_file(meta, &version).into_bytes(),
        0o644,
    ));
    files.push((
        format!("{dist_info}/WHEEL"),
        wheel_file(tags).into_bytes(),
        0o644,
    ));
    let record_path = format!("{dist_info}/RECORD");
    let record = record_file(&files, &record_path);
    files.push((record_path, record.into_bytes(), 0o644));
    files.sort_by(|a, b| a.0.cmp(&b.0));

    let entries: Vec<ZipEntry> = files
        .into_iter()
        .map(|(path, data, mode)| ZipEntry {
            path,
            mode,
            data: Some(data),
        })
        .collect();
    let mut key = Key::new("wheel", mtime);
    for entry in &entries {
        key.entry(
            &entry.path,
            entry.mode,
            entry.data.as_deref().unwrap_or_default(),
        );
    }
    let dest = dir.join(&file_name);
    cache.write(&dest, key, || write_zip(&dest, &entries, mtime))?;
    Ok(Wheel {
        file_name,
        scripts_dir,
    })
}

/// Core metadata 2.1: understood by every pip that knows musllinux tags, and by twine and PyPI.
fn metadata_file(meta: &Metadata, version: &PyVersion) -> String {
    let package = meta.package;
    let mut text = format!(
        "Metadata-Version: 2.1\nName: {}\nVersion: {}\n",
        package.name, version.0
    );
    let mut field = |key: &str, value: Option<&str>| {
        if let Some(value) = value.filter(|v| !v.trim().is_empty()) {
            // Header values are one line; a multi-line description would end the headers.
            let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
            text.push_str(&format!("{key}: {value}\n"));
        }
    };
    field("Summary", package.description.as_deref());
    field("Home-page", package.homepage.as_deref());
    field("License", package.license.as_deref());
    if let Some(repository) = &package.repository {
        field("Project-URL", Some(&format!("Repository, {repository}")));
    }
    if let Some(readme) = &meta.readme {
        text.push_str("Description-Content-Type: text/markdown\n\n");
        text.push_str(readme);
        if !readme.ends_with('\n') {
            text.push('\n');
        }
    }
    text
}

fn wheel_file(tags: &PlatformTags) -> String {
    let mut text =
        String::from("Wheel-Version: 1.0\nGenerator: cargo-xtask-dist\nRoot-Is-Purelib: false\n");
    for tag in &tags.0 {
        text.push_str(&format!("Tag: py3-none-{tag}\n"));
    }
    text
}

/// RECORD: `path,sha256=<urlsafe base64, no padding>,size` per file, and RECORD itself with
/// neither hash nor size; pip checks every hash when it installs.
fn record_file(files: &[(String, Vec<u8>, u32)], record_path: &str) -> String {
    let mut lines: Vec<String> = files
        .iter()
        .map(|(path, data, _)| {
            let digest = Sha256::digest(data);
            format!(
                "{path},sha256={},{}",
                base64_urlsafe_nopad(&digest),
                data.len()
            )
        })
        .collect();
    lines.push(format!("{record_path},,"));
    lines.sort();
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// RFC 4648 section 5 base64 without `=` padding, as RECORD wants: ct-codecs, which the xtask
/// builds anyway for minisign's keys.
fn base64_urlsafe_nopad(bytes: &[u8]) -> String {
    Base64UrlSafeNoPadding::encode_to_string(bytes).expect("the base64 of a SHA-256 digest fits")
}

/// The highest minos of an Apple target's binaries: its wheel claims no older macOS.
fn macos_minos(item: &Verified) -> Option<linkaudit::OsVersion> {
    item.linkage
        .iter()
        .filter_map(|l| l.audit.os_floor.as_ref())
        .filter(|os| os.platform == "macos")
        .map(|os| os.min)
        .max()
}

/// One wheel per (package, platform), listed in the manifest like the archives, with
/// the binaries under `{name}-{version}.data/scripts/`.
pub fn wheel_all(
    ws: &Workspace,
    source: &Source,
    verified: &[Verified],
    staging: &Path,
    report: &Report,
) -> Result<Vec<Artifact>> {
    let mut artifacts = Vec::new();
    let cache = ArchiveCache::new(&ws.target_dir);
    for item in verified {
        let tags = match platform_tags(&item.triple, &ws.targets, ws.glibc_floor, macos_minos(item))
        {
            Ok(tags) => tags,
            Err(reason) => {
                report.step("wheel", item.triple.as_str(), &format!("none: {reason}"));
                continue;
            }
        };
        let readme = read_readme(&item.package, report);
        let binaries: Vec<WheelBinary> = item
            .linkage
            .iter()
            .map(|l| WheelBinary {
                file_name: l.binary.file_name.clone(),
                source: l.binary.path.clone(),
            })
            .collect();
        let meta = Metadata {
            package: &item.package,
            readme,
        };
        let written = write_wheel(staging, &meta, &tags, &binaries, (source.epoch, &cache))?;
        let path = staging.join(&written.file_name);
        let sha256 = checksums::sha256_file(&path)?;
        let size = std::fs::metadata(&path)?.len();
        let (sidecar, line) = checksums::sidecar(&written.file_name, &sha256);
        write_file_atomically(&staging.join(sidecar), line.as_bytes())?;
        report.step(
            "wheel",
            item.triple.as_str(),
            &format!(
                "{} ({}, sha256 {})",
                written.file_name,
                human_size(size),
                &sha256[..12]
            ),
        );
        artifacts.push(artifact(
            item,
            &written.scripts_dir,
            written.file_name,
            size,
            sha256,
            source,
        ));
    }
    Ok(artifacts)
}

/// The package's readme, the wheel's long description; a warning when it cannot be read.
fn read_readme(package: &Package, report: &Report) -> Option<String> {
    let path = package.readme.as_ref()?;
    match std::fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(err) => {
            report.warn(&format!(
                "the wheel of {} has no description: cannot read its readme {} ({err})",
                package.name,
                path.display()
            ));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_urlsafe_without_padding() {
        for (input, expected) in [
            (&b""[..], ""),
            (b"f", "Zg"),
            (b"fo", "Zm8"),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg"),
            (b"\xfb\xff\xfe", "-__-"),
        ] {
            assert_eq!(base64_urlsafe_nopad(input), expected);
        }
    }
}
