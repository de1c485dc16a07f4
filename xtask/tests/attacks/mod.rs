//! Attacks on a release archive, built here from a real `.tar.gz` that `cargo xtask dist`
//! wrote (no stored blobs), and planted with every checksum rewritten to agree: the
//! `<archive>.sha256`, its `SHA256SUMS` line and the manifest's size and sha256, as anyone who
//! can replace the files can do. `gather` and `install.sh` must refuse what `linkaudit verify`
//! refuses.
#![allow(dead_code)] // each test file uses a different part

use linkaudit::contract::{checksums, Manifest, CHECKSUMS, MANIFEST};
use std::io::{Read, Write};
use std::path::Path;

/// One attack: its name, the archive's new bytes, a piece of the line `linkaudit verify`
/// prints, and a piece of install.sh's refusal.
pub struct Attack {
    pub name: &'static str,
    pub bytes: Vec<u8>,
    pub verify_says: String,
    pub install_says: String,
}

type Entries = Vec<(tar::Header, Vec<u8>)>;

fn entries_of(tar_gz: &[u8]) -> Entries {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(tar_gz));
    archive
        .entries()
        .unwrap()
        .map(|entry| {
            let mut entry = entry.unwrap();
            let mut data = Vec::new();
            entry.read_to_end(&mut data).unwrap();
            (entry.header().clone(), data)
        })
        .collect()
}

/// A tar stream without its end-of-archive blocks, so that a following one continues it.
fn tar_without_end(entries: &Entries) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for (header, data) in entries {
        tar.append(header, data.as_slice()).unwrap();
    }
    let bytes = tar.into_inner().unwrap();
    bytes[..bytes.len() - 1024].to_vec()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}

fn tar_gz(entries: &Entries) -> Vec<u8> {
    gzip(&[tar_without_end(entries), vec![0; 1024]].concat())
}

fn file(path: &str, data: &[u8], mode: u32) -> (tar::Header, Vec<u8>) {
    let mut header = tar::Header::new_gnu();
    header.set_path(path).unwrap();
    header.set_size(data.len() as u64);
    header.set_mode(mode);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_cksum();
    (header, data.to_vec())
}

fn symlink(path: &str, target: &str) -> (tar::Header, Vec<u8>) {
    let mut header = tar::Header::new_gnu();
    header.set_path(path).unwrap();
    header.set_size(0);
    header.set_mode(0o777);
    header.set_entry_type(tar::EntryType::Symlink);
    header.set_link_name(target).unwrap();
    header.set_cksum();
    (header, Vec::new())
}

const SCRIPT: &[u8] = b"#!/bin/sh\necho installed by an attacker\n";

/// Every attack on `archive` (a `.tar.gz` whose top directory is `top`, holding `binary`).
pub fn attacks(archive: &[u8], top: &str, binary: &str) -> Vec<Attack> {
    let original = entries_of(archive);
    let path = format!("{top}/{binary}");
    let without_binary: Entries = original
        .iter()
        .filter(|(h, _)| h.path().unwrap().to_str() != Some(path.as_str()))
        .cloned()
        .collect();
    let with = |extra: Vec<(tar::Header, Vec<u8>)>| {
        let mut entries = without_binary.clone();
        entries.extend(extra);
        tar_gz(&entries)
    };
    let appended = [
        gzip(&tar_without_end(&original)),
        gzip(
            &[
                tar_without_end(&vec![file(&path, SCRIPT, 0o755)]),
                vec![0; 1024],
            ]
            .concat(),
        ),
    ]
    .concat();
    let mut duplicated = original.clone();
    duplicated.push(file(&path, SCRIPT, 0o755));
    vec![
        Attack {
            name: "gzip-members",
            bytes: appended,
            verify_says: "has bytes after its first gzip member".into(),
            install_says: format!("holds {path} twice"),
        },
        Attack {
            name: "duplicate",
            bytes: tar_gz(&duplicated),
            verify_says: format!("!{path}: appears twice in the archive"),
            install_says: format!("holds {path} twice"),
        },
        Attack {
            name: "script",
            bytes: with(vec![file(&path, SCRIPT, 0o755)]),
            verify_says: format!("!{path}: is executable but is not a binary"),
            install_says: format!("holds {binary}, which is not a binary"),
        },
        Attack {
            name: "symlink",
            bytes: with(vec![symlink(&path, "/bin/sh")]),
            verify_says: format!(
                "entry \"{path}\" links to \"/bin/sh\", outside the archive's directory"
            ),
            install_says: "a link or special file".into(),
        },
        Attack {
            name: "link-chain",
            bytes: with(vec![
                file(
                    &path,
                    &original
                        .iter()
                        .find(|(h, _)| h.path().unwrap().to_str() == Some(path.as_str()))
                        .unwrap()
                        .1,
                    0o755,
                ),
                symlink(&format!("{top}/up"), "."),
                symlink(&format!("{top}/esc"), "up/.."),
            ]),
            verify_says: format!(
                "entry \"{top}/esc\" links to \"up/..\", outside the archive's directory"
            ),
            install_says: "a link or special file".into(),
        },
    ]
}

/// Replaces `archive` in the release directory `dir` with `bytes`, rewriting its `.sha256`,
/// its line in `SHA256SUMS` and its size and sha256 in the manifest to agree.
pub fn plant(dir: &Path, archive: &str, bytes: &[u8]) {
    std::fs::write(dir.join(archive), bytes).unwrap();
    let sha256 = linkaudit::contract::sha256_file(&dir.join(archive)).unwrap();
    let (sidecar, line) = checksums::sidecar(archive, &sha256);
    std::fs::write(dir.join(sidecar), line).unwrap();
    let sums = std::fs::read_to_string(dir.join(CHECKSUMS)).unwrap();
    let (mut listed, _) = checksums::parse_sha256sums(&sums);
    listed.insert(archive.to_owned(), sha256.clone());
    let sums = checksums::sha256sums(listed.iter().map(|(n, h)| (n.as_str(), h.as_str())));
    std::fs::write(dir.join(CHECKSUMS), sums).unwrap();
    let mut manifest = Manifest::read(&dir.join(MANIFEST)).unwrap();
    for artifact in manifest
        .artifacts
        .iter_mut()
        .filter(|a| a.archive == archive)
    {
        artifact.size = bytes.len() as u64;
        artifact.sha256 = sha256.clone();
    }
    std::fs::write(dir.join(MANIFEST), manifest.to_json()).unwrap();
}
