//! `linkaudit verify`: a release directory built here as `cargo xtask dist` writes it
//! (docs/dist-contract.md), from the real fixture binaries, with checksums from the real
//! `sha256sum`; then each way of breaking it must be caught and must name the file.

mod common;

mod release;

use common::fixtures;
use proptest::prelude::*;
use release::*;
use std::path::{Path, PathBuf};
use std::process::Command;

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
