//! `linkaudit verify`: a release directory built here as `cargo xtask dist` writes it
//! (docs/dist-contract.md), from the real fixture binaries, with checksums from the real
//! `sha256sum`; then each way of breaking it must be caught and must name the file.

mod common;

use common::{fixtures, linkaudit, stderr, stdout};
use linkaudit::contract::{Artifact, Binary, Manifest};
use linkaudit::Policy;
use proptest::prelude::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

const PACKAGE: &str = "demo";

/// One entry of an archive; `Raw` writes the path into the header unchecked, as an attacker would.
enum Entry {
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

struct Archive {
    target: &'static str,
    entries: Vec<Entry>,
}

impl Archive {
    fn name(&self) -> String {
        let ext = if self.target.contains("-windows-") {
            "zip"
        } else {
            "tar.gz"
        };
        format!("{PACKAGE}-{}.{ext}", self.target)
    }
}

fn host_glibc() -> String {
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
fn release_archives() -> Vec<Archive> {
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
    })
    .collect()
}

fn write_tar_gz(path: &Path, entries: &[Entry]) {
    let gz = flate2::write::GzEncoder::new(
        std::fs::File::create(path).unwrap(),
        flate2::Compression::fast(),
    );
    let mut tar = tar::Builder::new(gz);
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
    tar.into_inner().unwrap().finish().unwrap();
}

fn write_zip(path: &Path, entries: &[Entry]) {
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
fn sha256sum(dir: &Path, names: &[String]) -> String {
    let output = Command::new("sha256sum")
        .current_dir(dir)
        .args(names)
        .output()
        .expect("sha256sum is missing: install coreutils");
    assert!(output.status.success());
    String::from_utf8(output.stdout).unwrap()
}

/// Writes the release into a fresh directory `name` under the test's scratch space.
fn write_release(name: &str, archives: &[Archive], glibc_floor: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("verify")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut names = Vec::new();
    for archive in archives {
        let path = dir.join(archive.name());
        if archive.name().ends_with(".zip") {
            write_zip(&path, &archive.entries);
        } else {
            write_tar_gz(&path, &archive.entries);
        }
        let line = sha256sum(&dir, &[archive.name()]);
        std::fs::write(dir.join(format!("{}.sha256", archive.name())), line).unwrap();
        names.push(archive.name());
    }
    names.sort();
    std::fs::write(dir.join("SHA256SUMS"), sha256sum(&dir, &names)).unwrap();

    let floor: linkaudit::GlibcVersion = glibc_floor.parse().unwrap();
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
                policy: Policy::for_target(archive.target, floor).map(|p| p.to_string()),
                rustc: "rustc (test)".into(),
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
        artifacts,
    };
    std::fs::write(dir.join("dist-manifest.json"), manifest.to_json()).unwrap();
    dir
}

/// The manifest's record of an executable entry, as `cargo xtask dist` writes it.
fn manifest_binary(entry: &Entry) -> Option<Binary> {
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
        needed: audit.map(|a| a.needed).unwrap_or_default(),
        verdict: "pass".into(),
        violations: vec![],
    })
}

fn verify(dir: &Path) -> (Option<i32>, String) {
    let output = linkaudit(&[&"verify", &dir]);
    (output.status.code(), stderr(&output) + &stdout(&output))
}

fn good_release(name: &str) -> PathBuf {
    write_release(name, &release_archives(), &host_glibc())
}

#[test]
fn a_correct_release_passes_and_sha256sum_agrees() {
    let dir = good_release("good");
    let (code, text) = verify(&dir);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("ok: 4 archives, 4 binaries"), "{text}");
    let check = Command::new("sha256sum")
        .current_dir(&dir)
        .args(["--check", "--strict", "SHA256SUMS"])
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
}

/// One flipped byte anywhere in any archive fails verification and names that archive.
#[test]
fn a_flipped_byte_in_any_archive_is_caught() {
    let dir = good_release("flipped");
    let archives: Vec<String> = release_archives().iter().map(Archive::name).collect();
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 40,
        ..ProptestConfig::default()
    });
    runner
        .run(
            &(
                prop::sample::select(archives),
                any::<prop::sample::Index>(),
                1u8..=255,
            ),
            |(archive, offset, mask)| {
                let path = dir.join(&archive);
                let original = std::fs::read(&path).unwrap();
                let mut changed = original.clone();
                let at = offset.index(changed.len());
                changed[at] ^= mask;
                std::fs::write(&path, &changed).unwrap();
                let (code, text) = verify(&dir);
                std::fs::write(&path, &original).unwrap();
                prop_assert_eq!(code, Some(1), "byte {} of {}: {}", at, archive, text);
                let named = format!("linkaudit verify: {archive}: its sha256 is");
                prop_assert!(
                    text.contains(&named),
                    "byte {} of {}: {}",
                    at,
                    archive,
                    text
                );
                Ok(())
            },
        )
        .unwrap();
    assert_eq!(verify(&dir).0, Some(0), "the release was restored");
}

#[test]
fn a_missing_archive_is_caught() {
    let dir = good_release("missing");
    std::fs::remove_file(dir.join("demo-x86_64-unknown-linux-gnu.tar.gz")).unwrap();
    let (code, text) = verify(&dir);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains(
            "demo-x86_64-unknown-linux-gnu.tar.gz: listed in SHA256SUMS but cannot be read"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "demo-x86_64-unknown-linux-gnu.tar.gz: listed in dist-manifest.json but missing"
        ),
        "{text}"
    );
}

#[test]
fn an_unlisted_archive_is_caught() {
    let dir = good_release("unlisted");
    std::fs::copy(
        dir.join("demo-x86_64-unknown-linux-musl.tar.gz"),
        dir.join("extra-x86_64-unknown-linux-musl.tar.gz"),
    )
    .unwrap();
    let (code, text) = verify(&dir);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("extra-x86_64-unknown-linux-musl.tar.gz: archive not listed in SHA256SUMS"),
        "{text}"
    );
}

#[test]
fn an_edited_checksum_line_is_caught() {
    let dir = good_release("edited-sums");
    let sums = std::fs::read_to_string(dir.join("SHA256SUMS")).unwrap();
    let line = sums
        .lines()
        .find(|l| l.ends_with("windows-gnu.zip"))
        .unwrap();
    let first = line.chars().next().unwrap();
    let edited_line = format!("{}{}", if first == '0' { '1' } else { '0' }, &line[1..]);
    std::fs::write(dir.join("SHA256SUMS"), sums.replace(line, &edited_line)).unwrap();
    let (code, text) = verify(&dir);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("demo-x86_64-pc-windows-gnu.zip: its sha256 is"),
        "{text}"
    );
    // The .sha256 beside it now disagrees with SHA256SUMS too, and says so.
    assert!(
        text.contains("demo-x86_64-pc-windows-gnu.zip.sha256: says"),
        "{text}"
    );
}

#[test]
fn a_sidecar_checksum_disagreeing_is_caught() {
    let dir = good_release("sidecar");
    let sidecar = dir.join("demo-aarch64-unknown-linux-musl.tar.gz.sha256");
    std::fs::write(
        &sidecar,
        format!(
            "{}  demo-aarch64-unknown-linux-musl.tar.gz\n",
            "0".repeat(64)
        ),
    )
    .unwrap();
    let (code, text) = verify(&dir);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains(&format!(
            "demo-aarch64-unknown-linux-musl.tar.gz.sha256: says {} but SHA256SUMS says",
            "0".repeat(64)
        )),
        "{text}"
    );
}

/// Unsafe entries in a release whose checksums are all correct: only the entry check catches them.
fn release_with_extra_entry(name: &str, target: &str, entry: Entry) -> PathBuf {
    let mut archives = release_archives();
    let archive = archives.iter_mut().find(|a| a.target == target).unwrap();
    archive.entries.push(entry);
    write_release(name, &archives, &host_glibc())
}

#[test]
fn a_parent_dir_entry_is_caught() {
    for target in ["x86_64-unknown-linux-musl", "x86_64-pc-windows-gnu"] {
        let top = format!("{PACKAGE}-{target}");
        let dir = release_with_extra_entry(
            &format!("dotdot-{target}"),
            target,
            Entry::Raw {
                path: format!("{top}/../../evil.sh"),
                data: b"#!/bin/sh\n".to_vec(),
            },
        );
        let (code, text) = verify(&dir);
        assert_eq!(code, Some(1), "{text}");
        assert!(
            text.contains(
                &format!("{top}/../../evil.sh\\\" has a `..` component").replace("\\\"", "\"")
            ),
            "{text}"
        );
    }
}

#[test]
fn an_absolute_path_entry_is_caught() {
    let dir = release_with_extra_entry(
        "absolute",
        "x86_64-unknown-linux-gnu",
        Entry::Raw {
            path: "/etc/cron.d/evil".into(),
            data: b"* * * * * root true\n".to_vec(),
        },
    );
    let (code, text) = verify(&dir);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains(
            "demo-x86_64-unknown-linux-gnu.tar.gz: entry \"/etc/cron.d/evil\" has an absolute path"
        ),
        "{text}"
    );
}

#[test]
fn a_symlink_escaping_the_directory_is_caught() {
    for (target, link_target) in [
        ("x86_64-unknown-linux-musl", "../../../etc/passwd"),
        ("aarch64-unknown-linux-musl", "/etc/passwd"),
        ("x86_64-pc-windows-gnu", "../outside"),
    ] {
        let top = format!("{PACKAGE}-{target}");
        let dir = release_with_extra_entry(
            &format!("symlink-{target}"),
            target,
            Entry::Symlink {
                path: format!("{top}/config"),
                target: link_target.into(),
            },
        );
        let (code, text) = verify(&dir);
        assert_eq!(code, Some(1), "{target}: {text}");
        assert!(
            text.contains(&format!("entry \"{top}/config\" links to \"{link_target}\", outside the archive's directory")),
            "{target}: {text}"
        );
    }
    // A hard link names an archive path: one outside the top directory escapes it too.
    let top = format!("{PACKAGE}-x86_64-unknown-linux-gnu");
    let dir = release_with_extra_entry(
        "hardlink",
        "x86_64-unknown-linux-gnu",
        Entry::HardLink {
            path: format!("{top}/shadow"),
            target: "etc/shadow".into(),
        },
    );
    let (code, text) = verify(&dir);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains(&format!(
            "entry \"{top}/shadow\" links to \"etc/shadow\", outside the archive's directory"
        )),
        "{text}"
    );
    // A link that stays inside is fine.
    let top = format!("{PACKAGE}-x86_64-unknown-linux-musl");
    let dir = release_with_extra_entry(
        "symlink-inside",
        "x86_64-unknown-linux-musl",
        Entry::Symlink {
            path: format!("{top}/docs"),
            target: "./README.md".into(),
        },
    );
    let (code, text) = verify(&dir);
    assert_eq!(code, Some(0), "{text}");
}

#[test]
fn a_gnu_binary_above_the_recorded_floor_is_caught() {
    // The gnu fixture needs this system's glibc; the manifest promises 2.17.
    let dir = write_release("above-floor", &release_archives(), "2.17");
    let (code, text) = verify(&dir);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("demo-x86_64-unknown-linux-gnu.tar.gz!demo-x86_64-unknown-linux-gnu/hello: fails its target's policy: GLIBC_2."),
        "{text}"
    );
    assert!(
        text.contains("required from libc.so.6 is above the glibc floor 2.17"),
        "{text}"
    );
}

#[test]
fn a_dynamic_binary_in_a_musl_archive_is_caught() {
    let target = "x86_64-unknown-linux-musl";
    let dir = release_with_extra_entry(
        "dynamic-musl",
        target,
        Entry::File {
            path: format!("{PACKAGE}-{target}/hello-dynamic"),
            data: std::fs::read(&fixtures().c_musl_dynamic).unwrap(),
            mode: 0o755,
        },
    );
    let (code, text) = verify(&dir);
    assert_eq!(code, Some(1), "{text}");
    let binary =
        format!("demo-{target}.tar.gz!demo-{target}/hello-dynamic: fails its target's policy:");
    assert!(
        text.contains(&format!("{binary} /lib/ld-musl-x86_64.so.1 (static:")),
        "{text}"
    );
    assert!(
        text.contains(&format!("{binary} libc.so (static: needs a shared library")),
        "{text}"
    );
}

#[test]
fn a_directory_that_is_no_release_exits_2() {
    let empty = Path::new(env!("CARGO_TARGET_TMPDIR")).join("verify/empty");
    std::fs::create_dir_all(&empty).unwrap();
    let (code, text) = verify(&empty);
    assert_eq!(code, Some(2));
    assert!(
        text.contains("no SHA256SUMS: not a release directory"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 1, "{text}");

    let (code, text) = verify(Path::new("/nonexistent/dist"));
    assert_eq!(code, Some(2));
    assert!(text.contains("cannot read the directory"), "{text}");

    let dir = good_release("bad-manifest");
    std::fs::write(dir.join("dist-manifest.json"), "{ not json").unwrap();
    let (code, text) = verify(&dir);
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("dist-manifest.json is not a release manifest"),
        "{text}"
    );
}
