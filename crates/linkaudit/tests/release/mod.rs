//! A release directory as `cargo xtask dist` writes it, built by the tests from the real fixture
//! binaries with checksums from the real `sha256sum`, and the hooks an attacker would use: change
//! an archive's bytes or the manifest, then rewrite every checksum so that all agree.
#![allow(dead_code)] // each test file uses a different part

use crate::common::{fixtures, linkaudit, stderr, stdout};
use linkaudit::contract::{Artifact, Binary, Manifest};
use linkaudit::Policy;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

pub const PACKAGE: &str = "demo";

/// One entry of an archive; `Raw` writes the path into the header unchecked, as an attacker would.
pub enum Entry {
    File {
        path: String,
        data: Vec<u8>,
        mode: u32,
    },
    Symlink {
        path: String,
        target: String,
    },
    HardLink {
        path: String,
        target: String,
    },
    Raw {
        path: String,
        data: Vec<u8>,
    },
}

pub struct Archive {
    pub target: &'static str,
    pub entries: Vec<Entry>,
    /// A file name other than `<package>-<target>.<ext>` (a wheel).
    pub file_name: Option<String>,
}

impl Archive {
    pub fn name(&self) -> String {
        if let Some(name) = &self.file_name {
            return name.clone();
        }
        let ext = if self.target.contains("-windows-") {
            "zip"
        } else {
            "tar.gz"
        };
        format!("{PACKAGE}-{}.{ext}", self.target)
    }
}

pub fn host_glibc() -> String {
    let output = Command::new("getconf")
        .arg("GNU_LIBC_VERSION")
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .trim_start_matches("glibc ")
        .to_owned()
}

/// The release a correct `cargo xtask dist` run would write for these fixture binaries. The gnu
/// binary is built on this system, so the honest floor is this system's glibc.
pub fn release_archives() -> Vec<Archive> {
    let f = fixtures();
    let binary = |target: &str, name: &str, source: &Path| Entry::File {
        path: format!("{PACKAGE}-{target}/{name}"),
        data: std::fs::read(source).unwrap(),
        mode: 0o755,
    };
    let readme = |target: &str| Entry::File {
        path: format!("{PACKAGE}-{target}/README.md"),
        data: b"# demo\n".to_vec(),
        mode: 0o644,
    };
    [
        ("x86_64-unknown-linux-musl", "hello", &f.musl_static_pie),
        ("x86_64-unknown-linux-gnu", "hello", &f.gnu_dynamic),
        ("aarch64-unknown-linux-musl", "hello", &f.aarch64_static),
        ("x86_64-pc-windows-gnu", "hello.exe", &f.windows_exe),
    ]
    .into_iter()
    .map(|(target, name, source)| Archive {
        target,
        entries: vec![binary(target, name, source), readme(target)],
        file_name: None,
    })
    .collect()
}

pub fn write_tar_gz(path: &Path, entries: &[Entry]) {
    std::fs::write(path, gzip(&tar_bytes(entries))).unwrap();
}

/// One gzip member holding `data`.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}

/// A tar stream of `entries`, with its end-of-archive blocks.
pub fn tar_bytes(entries: &[Entry]) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for entry in entries {
        let mut header = tar::Header::new_gnu();
        header.set_mtime(1_700_000_000);
        header.set_uid(0);
        header.set_gid(0);
        match entry {
            Entry::File { path, data, mode } => {
                header.set_path(path).unwrap();
                header.set_size(data.len() as u64);
                header.set_mode(*mode);
                header.set_entry_type(tar::EntryType::Regular);
                header.set_cksum();
                tar.append(&header, &data[..]).unwrap();
            }
            Entry::Symlink { path, target } => {
                header.set_path(path).unwrap();
                header.set_size(0);
                header.set_mode(0o777);
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_link_name(target).unwrap();
                header.set_cksum();
                tar.append(&header, std::io::empty()).unwrap();
            }
            Entry::HardLink { path, target } => {
                header.set_path(path).unwrap();
                header.set_size(0);
                header.set_mode(0o755);
                header.set_entry_type(tar::EntryType::Link);
                header.set_link_name(target).unwrap();
                header.set_cksum();
                tar.append(&header, std::io::empty()).unwrap();
            }
            Entry::Raw { path, data } => {
                let name = &mut header.as_old_mut().name;
                name.fill(0);
                name[..path.len()].copy_from_slice(path.as_bytes());
                header.set_size(data.len() as u64);
                header.set_mode(0o644);
                header.set_entry_type(tar::EntryType::Regular);
                header.set_cksum();
                tar.append(&header, &data[..]).unwrap();
            }
        }
    }
    tar.into_inner().unwrap()
}

pub fn write_zip(path: &Path, entries: &[Entry]) {
    use zip::write::SimpleFileOptions;
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    for entry in entries {
        let options = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(zip::DateTime::default());
        match entry {
            Entry::File { path, data, mode } => {
                zip.start_file(path.as_str(), options.unix_permissions(*mode))
                    .unwrap();
                zip.write_all(data).unwrap();
            }
            Entry::Raw { path, data } => {
                zip.start_file(path.as_str(), options).unwrap();
                zip.write_all(data).unwrap();
            }
            Entry::Symlink { path, target } => {
                zip.add_symlink(path.as_str(), target.as_str(), options)
                    .unwrap();
            }
            Entry::HardLink { .. } => panic!("zip archives have no hard links"),
        }
    }
    zip.finish().unwrap();
}

/// `sha256sum NAME...` run in `dir`: the real tool writes the lines, in the given order.
pub fn sha256sum(dir: &Path, names: &[String]) -> String {
    let output = Command::new("sha256sum")
        .current_dir(dir)
        .args(names)
        .output()
        .expect("sha256sum is missing: install coreutils");
    assert!(output.status.success());
    String::from_utf8(output.stdout).unwrap()
}

/// Writes the release into a fresh directory `name` under the test's scratch space.
pub fn write_release(name: &str, archives: &[Archive], glibc_floor: &str) -> PathBuf {
    write_tampered_release(name, archives, glibc_floor, &Tamper::default())
}

/// Changes an archive's bytes, given its name.
pub type EditBytes<'a> = dyn Fn(&str, &mut Vec<u8>) + 'a;

/// What an attacker changes before rewriting every checksum (and the manifest's size and
/// sha256) to agree with the changed files.
#[derive(Default)]
pub struct Tamper<'a> {
    /// Called with each archive's name and bytes after it is written.
    pub bytes: Option<&'a EditBytes<'a>>,
    /// Called with the manifest before it is written.
    pub manifest: Option<&'a dyn Fn(&mut Manifest)>,
}

/// Writes the release into a fresh directory `name` under the test's scratch space, with the
/// attacker's changes, every checksum computed from the bytes as they end up.
pub fn write_tampered_release(
    name: &str,
    archives: &[Archive],
    glibc_floor: &str,
    tamper: &Tamper,
) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("verify")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut names = Vec::new();
    for archive in archives {
        let path = dir.join(archive.name());
        if archive.name().ends_with(".zip") || archive.name().ends_with(".whl") {
            write_zip(&path, &archive.entries);
        } else {
            write_tar_gz(&path, &archive.entries);
        }
        if let Some(edit) = tamper.bytes {
            let mut bytes = std::fs::read(&path).unwrap();
            edit(&archive.name(), &mut bytes);
            std::fs::write(&path, bytes).unwrap();
        }
        let line = sha256sum(&dir, &[archive.name()]);
        std::fs::write(dir.join(format!("{}.sha256", archive.name())), line).unwrap();
        names.push(archive.name());
    }
    names.sort();
    std::fs::write(dir.join("SHA256SUMS"), sha256sum(&dir, &names)).unwrap();

    let floors = linkaudit::Floors::with_glibc(glibc_floor.parse().unwrap());
    let mut artifacts: Vec<Artifact> = archives
        .iter()
        .map(|archive| {
            let path = dir.join(archive.name());
            let sha256 = sha256sum(&dir, &[archive.name()])[..64].to_owned();
            Artifact {
                package: PACKAGE.into(),
                version: "0.1.0".into(),
                target: archive.target.into(),
                archive: archive.name(),
                size: std::fs::metadata(&path).unwrap().len(),
                sha256,
                policy: Some(Policy::for_target(
                    &archive.target.parse().unwrap(),
                    &floors,
                ))
                .filter(|p| !p.is_empty())
                .map(|p| p.to_string()),
                rustc: "rustc (test)".into(),
                c_toolchain: None,
                sbom: None,
                binaries: archive.entries.iter().filter_map(manifest_binary).collect(),
            }
        })
        .collect();
    artifacts.sort_by(|a, b| a.archive.cmp(&b.archive));
    let manifest = Manifest {
        schema_version: linkaudit::contract::SCHEMA_VERSION,
        source_commit: None,
        source_date_epoch: 1_700_000_000,
        rustc: "rustc (test)".into(),
        glibc_floor: glibc_floor.into(),
        macos_floor: None,
        artifacts,
    };
    let mut manifest = manifest;
    if let Some(edit) = tamper.manifest {
        edit(&mut manifest);
    }
    std::fs::write(dir.join("dist-manifest.json"), manifest.to_json()).unwrap();
    dir
}

/// The manifest's record of an executable entry, as `cargo xtask dist` writes it.
pub fn manifest_binary(entry: &Entry) -> Option<Binary> {
    let Entry::File {
        path,
        data,
        mode: 0o755,
    } = entry
    else {
        return None;
    };
    let audit = linkaudit::audit_bytes(data).ok();
    Some(Binary {
        name: path
            .rsplit('/')
            .next()
            .unwrap()
            .trim_end_matches(".exe")
            .into(),
        path: path.clone(),
        kind: audit
            .as_ref()
            .map_or("script".into(), |a| a.kind.to_string()),
        glibc_floor: audit
            .as_ref()
            .and_then(|a| a.glibc_floor)
            .map(|v| v.to_string()),
        floor: audit.as_ref().and_then(|a| a.floor_summary()),
        needed: audit.map(|a| a.needed).unwrap_or_default(),
        verdict: "pass".into(),
        violations: vec![],
    })
}

pub fn verify(dir: &Path) -> (Option<i32>, String) {
    let output = linkaudit(&[&"verify", &dir]);
    (output.status.code(), stderr(&output) + &stdout(&output))
}

pub fn good_release(name: &str) -> PathBuf {
    write_release(name, &release_archives(), &host_glibc())
}
