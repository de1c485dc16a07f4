//! `linkaudit::signature` against signatures made by the real `minisign` tool (Debian package
//! `minisign`), with its default trusted comment (`timestamp:..<TAB>file:<name><TAB>hashed`):
//! what `minisign -S` signs, `check_signatures` accepts; the same files renamed, it refuses.

#![cfg(unix)]

use linkaudit::signature::{check_signatures, parse_public_key};
use linkaudit::verify::Report;
use std::path::Path;
use std::process::Command;

fn minisign(args: &[&str], dir: &Path) {
    let out = Command::new("minisign")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("minisign is not installed (apt-get install minisign)");
    assert!(out.status.success(), "minisign {args:?}: {out:?}");
}

#[test]
fn signatures_made_by_minisign_verify_and_renamed_ones_do_not() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("minisign-made");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    minisign(&["-G", "-W", "-p", "key.pub", "-s", "key.sec"], &dir);
    std::fs::write(dir.join("SHA256SUMS"), "listed\n").unwrap();
    std::fs::write(dir.join("a-x.tar.gz"), "archive a").unwrap();
    std::fs::write(dir.join("b-y.zip"), "archive b").unwrap();
    for file in ["SHA256SUMS", "a-x.tar.gz", "b-y.zip"] {
        minisign(&["-S", "-W", "-s", "key.sec", "-m", file], &dir);
    }
    std::fs::rename(dir.join("a-x.tar.gz.minisig"), dir.join("a-x.tar.gz.sig")).unwrap();
    std::fs::rename(dir.join("b-y.zip.minisig"), dir.join("b-y.zip.sig")).unwrap();

    let from_file = parse_public_key(dir.join("key.pub").to_str().unwrap()).unwrap();
    let text = std::fs::read_to_string(dir.join("key.pub")).unwrap();
    let from_base64 = parse_public_key(text.lines().nth(1).unwrap()).unwrap();
    assert_eq!(from_file, from_base64);
    let mut report = Report::default();
    assert_eq!(check_signatures(&dir, &from_file, &mut report).unwrap(), 3);
    assert_eq!(report.failures, []);

    // Same bytes under another name: each signature still names the file it was made for.
    std::fs::write(dir.join("b-y.zip"), "archive a").unwrap();
    std::fs::copy(dir.join("a-x.tar.gz.sig"), dir.join("b-y.zip.sig")).unwrap();
    let mut report = Report::default();
    check_signatures(&dir, &from_file, &mut report).unwrap();
    let failures: Vec<String> = report.failures.iter().map(|f| f.to_string()).collect();
    assert_eq!(
        failures,
        ["b-y.zip.sig: made for a-x.tar.gz, not b-y.zip (its trusted comment says so): a signature of another file"]
    );
}
