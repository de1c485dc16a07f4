//! `linkaudit verify` against a deliberate attacker: each attack is built here, in the test, from
//! the real fixture binaries (no stored blobs), and every checksum and the manifest's size and
//! sha256 are rewritten to agree with the tampered files, as anyone who can replace the files
//! can do. Each must fail with exit 1 and a line naming the archive, the entry and the rule.

mod common;
mod release;

use common::fixtures;
use linkaudit::contract::Manifest;
use release::*;
use std::path::{Path, PathBuf};
use std::process::Command;

const MUSL: &str = "x86_64-unknown-linux-musl";
const WINDOWS: &str = "x86_64-pc-windows-gnu";

fn top(target: &str) -> String {
    format!("{PACKAGE}-{target}")
}

fn archive_of(target: &str) -> String {
    let ext = if target.contains("-windows-") {
        "zip"
    } else {
        "tar.gz"
    };
    format!("{PACKAGE}-{target}.{ext}")
}

/// Verify fails with exit 1 and prints every expected line.
fn refused(dir: &Path, expected: &[&str]) -> String {
    let (code, text) = verify(dir);
    assert_eq!(code, Some(1), "{text}");
    for line in expected {
        assert!(text.contains(line), "no {line:?} in:\n{text}");
    }
    text
}

/// The release with the entries of `target`'s archive replaced.
fn release_with(name: &str, target: &str, entries: Vec<Entry>, tamper: &Tamper) -> PathBuf {
    let mut archives = release_archives();
    archives
        .iter_mut()
        .find(|a| a.target == target)
        .unwrap()
        .entries = entries;
    write_tampered_release(name, &archives, &host_glibc(), tamper)
}

fn file(path: String, data: Vec<u8>) -> Entry {
    Entry::File {
        path,
        data,
        mode: 0o755,
    }
}

fn script() -> Vec<u8> {
    b"#!/bin/sh\necho installed by an attacker\n".to_vec()
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

#[test]
fn a_second_gzip_member_is_refused() {
    // What an attacker appends: the original tar without its end-of-archive blocks, then a
    // second member whose tar replaces the binary with a script. GNU tar reads straight on.
    let original = tar_bytes(&release_archives()[0].entries);
    let first = gzip(&original[..original.len() - 1024]);
    let second = gzip(&tar_bytes(&[file(
        format!("{}/hello", top(MUSL)),
        script(),
    )]));
    let replace = |name: &str, bytes: &mut Vec<u8>| {
        if name == archive_of(MUSL) {
            *bytes = [first.clone(), second.clone()].concat();
        }
    };
    let dir = write_tampered_release(
        "attack-gzip-members",
        &release_archives(),
        &host_glibc(),
        &Tamper {
            bytes: Some(&replace),
            manifest: None,
        },
    );
    // The attack is real: GNU tar installs the script.
    let out = dir.join("unpacked");
    std::fs::create_dir_all(&out).unwrap();
    let tar = Command::new("tar")
        .arg("xzf")
        .arg(dir.join(archive_of(MUSL)))
        .arg("-C")
        .arg(&out)
        .status()
        .unwrap();
    assert!(tar.success());
    assert_eq!(read(&out.join(top(MUSL)).join("hello")), script());
    std::fs::remove_dir_all(&out).unwrap();
    refused(
        &dir,
        &[&format!(
            "{}: has bytes after its first gzip member",
            archive_of(MUSL)
        )],
    );
}

#[test]
fn the_target_comes_from_the_archive_name_not_the_manifest() {
    // A dynamic binary in the musl archive, the manifest saying gnu.
    let dynamic = read(&fixtures().gnu_dynamic);
    let to_gnu = |m: &mut Manifest| {
        let a = m
            .artifacts
            .iter_mut()
            .find(|a| a.archive == archive_of(MUSL))
            .unwrap();
        a.target = "x86_64-unknown-linux-gnu".into();
        a.policy = Some(format!("glibc:{}", host_glibc()));
    };
    let dir = release_with(
        "attack-manifest-target",
        MUSL,
        vec![file(format!("{}/hello", top(MUSL)), dynamic)],
        &Tamper {
            bytes: None,
            manifest: Some(&to_gnu),
        },
    );
    refused(
        &dir,
        &[
            &format!("{}: the name says target {MUSL} but dist-manifest.json says x86_64-unknown-linux-gnu", archive_of(MUSL)),
            &format!("{}!{}/hello: fails its target's policy: libc.so.6 (static: needs a shared library", archive_of(MUSL), top(MUSL)),
        ],
    );

    // Two manifest entries for one archive.
    let twice = |m: &mut Manifest| {
        let copy = m
            .artifacts
            .iter()
            .find(|a| a.archive == archive_of(MUSL))
            .unwrap()
            .clone();
        m.artifacts.push(copy);
        m.artifacts.sort_by(|a, b| a.archive.cmp(&b.archive));
    };
    let dir = write_tampered_release(
        "attack-manifest-twice",
        &release_archives(),
        &host_glibc(),
        &Tamper {
            bytes: None,
            manifest: Some(&twice),
        },
    );
    refused(
        &dir,
        &[&format!(
            "{}: listed in dist-manifest.json out of order or more than once",
            archive_of(MUSL)
        )],
    );
}

#[test]
fn a_binary_of_another_format_or_architecture_is_refused() {
    // Apple has no linkage policy, but its binaries must still be Mach-O.
    let apple = "aarch64-apple-darwin";
    let mut archives = release_archives();
    archives.push(Archive {
        target: apple,
        entries: vec![file(
            format!("{}/hello", top(apple)),
            read(&fixtures().aarch64_static),
        )],
        file_name: None,
    });
    archives
        .iter_mut()
        .find(|a| a.target == MUSL)
        .unwrap()
        .entries = vec![file(
        format!("{}/hello", top(MUSL)),
        read(&fixtures().aarch64_static),
    )];
    let dir = write_release("attack-format-arch", &archives, &host_glibc());
    refused(
        &dir,
        &[
            &format!(
                "{}!{}/hello: is in ELF format but its target {apple} runs Mach-O binaries",
                archive_of(apple),
                top(apple)
            ),
            &format!(
                "{}!{}/hello: is built for aarch64 but its target {MUSL} is x86_64",
                archive_of(MUSL),
                top(MUSL)
            ),
        ],
    );
}

#[test]
fn scripts_and_second_entries_of_a_name_are_refused() {
    let hello = format!("{}/hello", top(MUSL));
    let dir = release_with(
        "attack-script",
        MUSL,
        vec![file(hello.clone(), script())],
        &Tamper::default(),
    );
    refused(
        &dir,
        &[&format!(
            "{}!{hello}: is executable but is not a binary",
            archive_of(MUSL)
        )],
    );

    let binary = read(&fixtures().musl_static_pie);
    let entries = vec![file(hello.clone(), binary), file(hello.clone(), script())];
    let dir = release_with("attack-tar-duplicate", MUSL, entries, &Tamper::default());
    refused(
        &dir,
        &[&format!(
            "{}!{hello}: appears twice in the archive",
            archive_of(MUSL)
        )],
    );

    // A zip with two entries of one name: the zip writer refuses that, so write another name
    // of the same length and rename it in the local and central headers, as an attacker would.
    let exe = format!("{}/hello.exe", top(WINDOWS));
    let decoy = format!("{}/hellX.exe", top(WINDOWS));
    let entries = vec![
        file(exe.clone(), read(&fixtures().windows_exe)),
        file(decoy.clone(), script()),
    ];
    let rename = |name: &str, bytes: &mut Vec<u8>| {
        if name == archive_of(WINDOWS) {
            replace_all(bytes, decoy.as_bytes(), exe.as_bytes());
        }
    };
    let dir = release_with(
        "attack-zip-duplicate",
        WINDOWS,
        entries,
        &Tamper {
            bytes: Some(&rename),
            manifest: None,
        },
    );
    refused(
        &dir,
        &[
            &format!(
                "{}: its central directory and local headers disagree",
                archive_of(WINDOWS)
            ),
            "duplicate entry",
        ],
    );
}

fn replace_all(bytes: &mut [u8], from: &[u8], to: &[u8]) {
    let mut at = 0;
    while let Some(found) = bytes[at..].windows(from.len()).position(|w| w == from) {
        bytes[at + found..at + found + to.len()].copy_from_slice(to);
        at += found + to.len();
    }
}

#[test]
fn a_wheel_gets_a_policy_from_its_tags_listed_or_not() {
    let wheel = "demo-0.1.0-py3-none-manylinux_2_17_x86_64.musllinux_1_1_x86_64.whl";
    let scripts = "demo-0.1.0.data/scripts";
    let mut archives = release_archives();
    archives.push(Archive {
        target: MUSL,
        entries: vec![
            file(format!("{scripts}/hello"), read(&fixtures().gnu_dynamic)),
            file(format!("{scripts}/helper"), script()),
        ],
        file_name: Some(wheel.into()),
    });
    let unlist = |m: &mut Manifest| m.artifacts.retain(|a| !a.archive.ends_with(".whl"));
    let dir = write_tampered_release(
        "attack-wheel",
        &archives,
        &host_glibc(),
        &Tamper {
            bytes: None,
            manifest: Some(&unlist),
        },
    );
    refused(
        &dir,
        &[
            &format!("{wheel}: archive not described in dist-manifest.json"),
            &format!("{wheel}!{scripts}/hello: fails its target's policy: libc.so.6 (static:"),
            &format!(
                "{wheel}!{scripts}/helper: is in the wheel's scripts directory but is not a binary"
            ),
        ],
    );
}

#[test]
fn symlink_chains_that_leave_the_top_directory_are_refused() {
    let t = top(MUSL);
    let link = |path: &str, target: &str| Entry::Symlink {
        path: format!("{t}/{path}"),
        target: target.into(),
    };
    let mut entries = release_archives().remove(0).entries;
    entries.extend([
        link("up", "."),
        link("esc", "up/.."),
        link("esc2", "esc/.."),
        Entry::File {
            path: format!("{t}/esc2/FILE"),
            data: b"x".to_vec(),
            mode: 0o644,
        },
        link("docs", "."),
        Entry::File {
            path: format!("{t}/docs/NOTES"),
            data: b"x".to_vec(),
            mode: 0o644,
        },
    ]);
    let dir = release_with("attack-symlink-chain", MUSL, entries, &Tamper::default());
    refused(
        &dir,
        &[
            &format!(
                "{}: entry \"{t}/esc\" links to \"up/..\", outside the archive's directory",
                archive_of(MUSL)
            ),
            &format!(
                "{}!{t}/docs/NOTES: is written through the link {t}/docs",
                archive_of(MUSL)
            ),
        ],
    );
}

#[test]
fn a_fifo_or_a_link_to_dev_zero_in_sha256sums_does_not_hang() {
    let dir = write_release("attack-fifo", &release_archives(), &host_glibc());
    let fifo = dir.join("a-fifo.tar.gz");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    std::os::unix::fs::symlink("/dev/zero", dir.join("a-zero.tar.gz")).unwrap();
    let sums = std::fs::read_to_string(dir.join("SHA256SUMS")).unwrap();
    let zero = "0".repeat(64);
    let sums = format!("{zero}  a-fifo.tar.gz\n{zero}  a-zero.tar.gz\n{sums}");
    std::fs::write(dir.join("SHA256SUMS"), sums).unwrap();
    refused(
        &dir,
        &[
            "a-fifo.tar.gz: listed in SHA256SUMS but cannot be read",
            "a-zero.tar.gz: listed in SHA256SUMS but cannot be read",
        ],
    );
}

#[test]
fn a_mistyped_incomplete_or_newer_manifest_is_refused() {
    let dir = write_release("attack-manifest-fields", &release_archives(), &host_glibc());
    let path = dir.join("dist-manifest.json");
    let original = std::fs::read_to_string(&path).unwrap();
    type Edit = fn(&mut serde_json::Value);
    let edits: [(&str, Edit); 4] = [
        ("missing field `sha256`", |m| {
            m["artifacts"][0].as_object_mut().unwrap().remove("sha256");
        }),
        ("invalid type: null, expected u64", |m| {
            m["artifacts"][0]["size"] = serde_json::Value::Null
        }),
        ("invalid type: string", |m| {
            m["artifacts"][1]["binaries"] = "none".into()
        }),
        ("unknown field `signed`", |m| {
            m["artifacts"][0]["signed"] = true.into()
        }),
    ];
    for (rule, edit) in edits {
        let mut manifest: serde_json::Value = serde_json::from_str(&original).unwrap();
        edit(&mut manifest);
        std::fs::write(&path, serde_json::to_string_pretty(&manifest).unwrap()).unwrap();
        refused(
            &dir,
            &["dist-manifest.json: is not a valid release manifest", rule],
        );
    }
    std::fs::write(
        &path,
        original.replacen("\"schema_version\": 1", "\"schema_version\": 99", 1),
    )
    .unwrap();
    let (code, text) = verify(&dir);
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("schema_version 99 was made by a newer tool"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 1, "{text}");
}

/// The memory budget README states for `linkaudit verify` with the default entry limit.
const BUDGET: u64 = 1 << 30;

/// Runs verify under `prlimit --as=BUDGET`.
fn verify_within_budget(dir: &Path) -> (Option<i32>, String) {
    let output = Command::new("prlimit")
        .arg(format!("--as={BUDGET}"))
        .arg(env!("CARGO_BIN_EXE_linkaudit"))
        .arg("verify")
        .arg(dir)
        .output()
        .expect("prlimit (util-linux) runs linkaudit");
    let text = String::from_utf8_lossy(&output.stderr).into_owned()
        + &String::from_utf8_lossy(&output.stdout);
    (output.status.code(), text)
}

/// A raw deflate stream of `prefix` then zeros, `len` bytes in all, made as a bomb maker would:
/// one compressed 64 KiB run of zeros repeated; and the CRC-32 of what it inflates to.
fn deflate_zeros(prefix: &[u8], len: u64) -> (Vec<u8>, u32) {
    use flate2::{Compress, Compression, Crc, FlushCompress};
    const RUN: usize = 1 << 16;
    let mut z = Compress::new(Compression::fast(), false);
    let mut crc = Crc::new();
    let mut deflate = |input: &[u8], out: &mut Vec<u8>, flush| {
        out.reserve(input.len() + (1 << 20));
        z.compress_vec(input, out, flush).unwrap();
    };
    // The head ends with a whole run of zeros, so the repeated run only ever refers to zeros.
    let mut head = prefix.to_vec();
    head.resize(prefix.len() + RUN, 0);
    let mut stream = Vec::new();
    deflate(&head, &mut stream, FlushCompress::Sync);
    crc.update(&head);
    let zeros = vec![0u8; RUN];
    let mut run = Vec::new();
    deflate(&zeros, &mut run, FlushCompress::Sync);
    let runs = (len - head.len() as u64) / RUN as u64 - 1;
    for _ in 0..runs {
        stream.extend_from_slice(&run);
        crc.update(&zeros);
    }
    let tail = vec![0u8; (len - head.len() as u64 - runs * RUN as u64) as usize];
    deflate(&tail, &mut stream, FlushCompress::Finish);
    crc.update(&tail);
    (stream, crc.sum())
}

/// A `.tar.gz` whose one entry, `path`, is 4 GiB starting with ELF magic.
fn tar_gz_bomb(path: &str) -> Vec<u8> {
    let size = 4u64 << 30;
    let mut header = tar::Header::new_gnu();
    header.set_path(path).unwrap();
    header.set_size(size);
    header.set_mode(0o755);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_cksum();
    let prefix = [header.as_bytes().as_slice(), b"\x7fELF"].concat();
    let total = 512 + size + 1024;
    let (deflate, crc) = deflate_zeros(&prefix, total);
    let gzip_header = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    [
        &gzip_header[..],
        &deflate,
        &crc.to_le_bytes(),
        &(total as u32).to_le_bytes(),
    ]
    .concat()
}

/// A zip whose one entry, `path`, inflates to 4 GiB - 2 bytes (the most without zip64),
/// starting with ELF magic.
fn zip_bomb(path: &str) -> Vec<u8> {
    let size: u32 = u32::MAX - 1;
    let (deflate, crc) = deflate_zeros(b"\x7fELF", u64::from(size));
    let name = path.as_bytes();
    let common = |out: &mut Vec<u8>| {
        for field in [20u16, 0, 8, 0, 0x21] {
            out.extend_from_slice(&field.to_le_bytes());
        }
        for field in [crc, deflate.len() as u32, size] {
            out.extend_from_slice(&field.to_le_bytes());
        }
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
    };
    let mut zip = 0x0403_4b50u32.to_le_bytes().to_vec();
    common(&mut zip);
    zip.extend_from_slice(name);
    zip.extend_from_slice(&deflate);
    let central_start = zip.len() as u32;
    zip.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
    zip.extend_from_slice(&(3u16 << 8 | 20).to_le_bytes());
    common(&mut zip);
    for field in [0u16, 0, 0] {
        zip.extend_from_slice(&field.to_le_bytes());
    }
    zip.extend_from_slice(&(0o100755u32 << 16).to_le_bytes());
    zip.extend_from_slice(&0u32.to_le_bytes());
    zip.extend_from_slice(name);
    let central_size = zip.len() as u32 - central_start;
    zip.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    for field in [0u16, 0, 1, 1] {
        zip.extend_from_slice(&field.to_le_bytes());
    }
    for field in [central_size, central_start] {
        zip.extend_from_slice(&field.to_le_bytes());
    }
    zip.extend_from_slice(&0u16.to_le_bytes());
    zip
}

#[test]
fn a_four_gib_entry_is_refused_within_the_memory_budget() {
    let tar_entry = format!("{}/hello", top(MUSL));
    let zip_entry = format!("{}/hello.exe", top(WINDOWS));
    let (tar_bomb, zip_bomb) = (tar_gz_bomb(&tar_entry), zip_bomb(&zip_entry));
    let bombs = |name: &str, bytes: &mut Vec<u8>| {
        if name == archive_of(MUSL) {
            *bytes = tar_bomb.clone();
        } else if name == archive_of(WINDOWS) {
            *bytes = zip_bomb.clone();
        }
    };
    let dir = write_tampered_release(
        "attack-bomb",
        &release_archives(),
        &host_glibc(),
        &Tamper {
            bytes: Some(&bombs),
            manifest: None,
        },
    );
    // The bombs are real: the archive tools see a 4 GiB entry.
    let listing = Command::new("unzip")
        .arg("-l")
        .arg(dir.join(archive_of(WINDOWS)))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&listing.stdout).contains(&format!("{}", u32::MAX - 1)));
    let (code, text) = verify_within_budget(&dir);
    assert_eq!(code, Some(1), "{text}");
    for (archive, entry, size) in [
        (archive_of(MUSL), &tar_entry, 4u64 << 30),
        (archive_of(WINDOWS), &zip_entry, u64::from(u32::MAX - 1)),
    ] {
        let line = format!(
            "{archive}!{entry}: inflates to {size} bytes, above the limit of 268435456 per entry"
        );
        assert!(text.contains(&line), "no {line:?} in:\n{text}");
    }
    // A correct release verifies within the same budget.
    let good = write_release("budget-good", &release_archives(), &host_glibc());
    let (code, text) = verify_within_budget(&good);
    assert_eq!(code, Some(0), "{text}");
}
