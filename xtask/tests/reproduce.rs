//! `cargo xtask reproduce DIR` (xtask/src/reproduce/) on a real dist/ of the fixture workspace:
//!
//! 1. the release as `cargo xtask dist` wrote it reproduces: `identical`, exit 0;
//! 2. the musl archive re-packed with one byte of the binary's `.text` changed (same entry
//!    headers, and SHA256SUMS, the .sha256 and the manifest updated to match, so that `linkaudit
//!    verify` passes) is caught: exit 1, naming the member, the offset and the section;
//! 3. bad input, one line each: a manifest whose commit is not in this clone, a directory with
//!    no manifest;
//! 4. an archive rebuilt with another C toolchain than the manifest records is not checked.
//!
//! Needs: rustup target x86_64-unknown-linux-musl, zig + cargo-zigbuild (or pip), git.

#![cfg(target_os = "linux")]

mod common;

use common::{archive_name, build_linkaudit, make_fixture, ok, repo_root, xtask, Run};
use object::{Object, ObjectSection};
use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;

const MUSL: &str = "x86_64-unknown-linux-musl";

fn reproduce(ws: &Path, dir: &str) -> Run {
    xtask(
        Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(["reproduce", dir])
            .current_dir(ws),
    )
}

#[test]
fn a_release_reproduces_and_a_changed_byte_is_named() {
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("reproduce");
    let _ = std::fs::remove_dir_all(&work);
    let ws = work.join("ws");
    make_fixture(&ws, &repo_root().join("Cargo.lock"));
    let made = xtask(
        Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(["dist", "--target", MUSL])
            .current_dir(&ws),
    );
    assert_eq!(made.code, 0);
    let dist = ws.join("dist");
    let archive = archive_name(MUSL);

    // 1. As released: identical.
    let same = reproduce(&ws, "dist");
    assert_eq!(same.code, 0, "{}", same.stderr);
    assert!(
        same.stdout
            .contains(&format!("reproduce  {archive}  identical")),
        "{}",
        same.stdout
    );
    assert!(same.stdout.contains("1 identical, 0 differ, 0 not checked"));

    // 2. One byte of the binary's .text changed, every checksum made to agree.
    let member = format!("fixture-cli-{MUSL}/fixture-cli");
    let offset = repack_with_one_byte_changed(&dist.join(&archive), &member);
    update_checksums(&dist, &archive);
    forge_sbom(&dist, &archive);
    let linkaudit = build_linkaudit();
    ok(Command::new(&linkaudit).arg("verify").arg(&dist));
    let changed = reproduce(&ws, "dist");
    assert_eq!(changed.code, 1);
    let expected = format!(
        "reproduce  {archive}  DIFFERS: member {member} at offset {offset} (section .text)"
    );
    assert!(changed.stdout.contains(&expected), "{}", changed.stdout);
    assert_eq!(changed.stderr.lines().count(), 1, "{}", changed.stderr);

    // 3. Bad input.
    let manifest_path = dist.join("dist-manifest.json");
    let manifest = std::fs::read_to_string(&manifest_path).unwrap();
    let commit = ok(Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(&ws));
    let elsewhere = work.join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let foreign = "0123456789abcdef0123456789abcdef01234567";
    std::fs::write(
        elsewhere.join("dist-manifest.json"),
        manifest.replace(commit.trim(), foreign),
    )
    .unwrap();
    let missing = reproduce(&ws, "../elsewhere");
    assert_eq!((missing.code, missing.stderr.lines().count()), (1, 1));
    assert!(
        missing.stderr.contains(&format!("commit {foreign} of ")),
        "{}",
        missing.stderr
    );
    assert!(missing.stderr.contains("is not in this clone"));
    let empty = work.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let none = reproduce(&ws, "../empty");
    assert_eq!((none.code, none.stderr.lines().count()), (1, 1));
    assert!(
        none.stderr.contains("pass a release directory"),
        "{}",
        none.stderr
    );
}

/// A release whose x86_64 musl archive musl-gcc built (musl-tools is installed for the tests),
/// rebuilt with zig (`XTASK_MUSL_GCC=0`): its bytes differ, and reproduce says that it could not
/// check it, naming both C toolchains, instead of calling it a difference.
#[test]
fn a_rebuild_with_another_c_toolchain_is_not_checked() {
    let ws = Path::new(env!("CARGO_TARGET_TMPDIR")).join("reproduce-toolchain/ws");
    let _ = std::fs::remove_dir_all(&ws);
    make_fixture(&ws, &repo_root().join("Cargo.lock"));
    let dist =
        |command: &mut Command| xtask(command.args(["dist", "--target", MUSL]).current_dir(&ws));
    assert_eq!(dist(&mut Command::new(env!("CARGO_BIN_EXE_xtask"))).code, 0);
    let manifest = std::fs::read_to_string(ws.join("dist/dist-manifest.json")).unwrap();
    assert!(
        manifest.contains("\"c_toolchain\": \"musl-gcc: "),
        "{manifest}"
    );
    let other = xtask(
        Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(["reproduce", "dist"])
            .env("XTASK_MUSL_GCC", "0")
            .current_dir(&ws),
    );
    assert_eq!(other.code, 0, "{}", other.stderr);
    let line = format!(
        "reproduce  {}  not checked: built with C toolchain musl-gcc: ",
        archive_name(MUSL)
    );
    assert!(other.stdout.contains(&line), "{}", other.stdout);
    assert!(
        other.stdout.contains(", rebuilt here with zig 0."),
        "{}",
        other.stdout
    );
    assert!(other
        .stdout
        .contains("0 identical, 0 differ, 1 not checked"));
}

/// Rewrites the tar.gz with the same entries and headers, `member` with its first `.text` byte
/// inverted; returns that byte's offset in the member.
fn repack_with_one_byte_changed(path: &Path, member: &str) -> usize {
    let bytes = std::fs::read(path).unwrap();
    let mut input = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
    let mut builder = tar::Builder::new(Vec::new());
    let mut changed = None;
    for entry in input.entries().unwrap() {
        let mut entry = entry.unwrap();
        let header = entry.header().clone();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        if entry.path().unwrap().to_str() == Some(member) {
            let file = object::File::parse(&data[..]).unwrap();
            let text = file.section_by_name(".text").unwrap();
            let offset = text.file_range().unwrap().0 as usize;
            data[offset] = !data[offset];
            changed = Some(offset);
        }
        builder.append(&header, &data[..]).unwrap();
    }
    let tar = builder.into_inner().unwrap();
    let mut gz = flate2::GzBuilder::new().write(Vec::new(), flate2::Compression::best());
    gz.write_all(&tar).unwrap();
    std::fs::write(path, gz.finish().unwrap()).unwrap();
    changed.expect("no such member")
}

/// The archive's `.sha256`, its SHA256SUMS line and its manifest entry, made to match its bytes.
fn update_checksums(dist: &Path, archive: &str) {
    let sha = |name: &str| {
        let out = ok(Command::new("sha256sum").arg(name).current_dir(dist));
        out.split_whitespace().next().unwrap().to_owned()
    };
    let old = std::fs::read_to_string(dist.join(format!("{archive}.sha256"))).unwrap();
    let old = old.split_whitespace().next().unwrap().to_owned();
    let new = sha(archive);
    for name in ["SHA256SUMS", &format!("{archive}.sha256")] {
        let text = std::fs::read_to_string(dist.join(name)).unwrap();
        std::fs::write(dist.join(name), text.replace(&old, &new)).unwrap();
    }
    let manifest_path = dist.join("dist-manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest_path).unwrap()).unwrap();
    let size = std::fs::metadata(dist.join(archive)).unwrap().len();
    for artifact in manifest["artifacts"].as_array_mut().unwrap() {
        if artifact["archive"] == archive {
            artifact["sha256"] = new.clone().into();
            artifact["size"] = size.into();
        }
    }
    let text = serde_json::to_string_pretty(&manifest).unwrap();
    std::fs::write(&manifest_path, text).unwrap();
}

/// The archive's SBOM made again from its new bytes, and its SHA256SUMS line: whoever can re-pack
/// an archive can do this too, so `verify` passes and only `reproduce` catches the change.
fn forge_sbom(dist: &Path, archive: &str) {
    let manifest = linkaudit::contract::Manifest::read(&dist.join("dist-manifest.json")).unwrap();
    let sbom = linkaudit::contract::sbom_name(archive).unwrap();
    let old = linkaudit::contract::sha256_file(&dist.join(&sbom)).unwrap();
    let text = linkaudit::verify::expected_sbom(dist, archive, &manifest).unwrap();
    std::fs::write(dist.join(&sbom), text).unwrap();
    let new = linkaudit::contract::sha256_file(&dist.join(&sbom)).unwrap();
    let sums = std::fs::read_to_string(dist.join("SHA256SUMS")).unwrap();
    std::fs::write(dist.join("SHA256SUMS"), sums.replace(&old, &new)).unwrap();
}
