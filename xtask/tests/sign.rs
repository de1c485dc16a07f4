//! Signed releases (xtask/src/workspace/signing.rs, crates/linkaudit/src/signature.rs), end to
//! end on the fixture workspace with keys made by the real `minisign` tool (Debian package
//! `minisign`):
//!
//! 1. `cargo xtask dist` with `MINISIGN_SECRET_KEY` (an unencrypted `minisign -G -W` key) writes
//!    `SHA256SUMS.minisig` and `<archive>.sig`; `minisign -V` verifies both with the public key and
//!    shows the trusted comment naming file, package, version and commit; `linkaudit verify
//!    --minisign-key` passes with the key as a file and as base64.
//! 2. Bad input, one line each: a malformed key (exit 2), another project's key, a signature of
//!    other bytes, a valid signature of the archive made for another file name (exit 1).
//! 3. An encrypted key (`minisign -G` with a password) signs with `MINISIGN_PASSWORD`; without it,
//!    or with a secret key that is no key, the run fails at once with one line and dist/ is
//!    unchanged.
//! 4. A run without a key removes the old signatures: none is left to disagree with new bytes.
//! 5. `cargo xtask sign dist` signs that release afterwards (the publish job's way), refusing
//!    without a key and when linkaudit verify fails.
//! 6. A key that is not the `pubkey` of the package's `[package.metadata.binstall.signing]` is
//!    refused with one line before anything is built (cargo-binstall would refuse its archives).
//!
//! Needs: minisign, rustup target x86_64-unknown-linux-musl, zig + cargo-zigbuild (or pip), git.

#![cfg(target_os = "linux")]

mod common;

use common::minisign::{generate, Keys};
use common::{archive_name, make_fixture, ok, repo_root, run, snapshot, xtask, Run};
use std::path::{Path, PathBuf};
use std::process::Command;

const MUSL: &str = "x86_64-unknown-linux-musl";
const SUMS_SIG: &str = "SHA256SUMS.minisig";

fn dist(ws: &Path, key: Option<&str>, password: Option<&str>) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
    cmd.args(["dist", "--target", MUSL]).current_dir(ws);
    if let Some(key) = key {
        cmd.env("MINISIGN_SECRET_KEY", key);
    }
    if let Some(password) = password {
        cmd.env("MINISIGN_PASSWORD", password);
    }
    xtask(&mut cmd)
}

/// `minisign -Vm FILE -x SIG -P KEY`: its output (the trusted comment) when it verifies.
fn minisign_verify(dist: &Path, file: &str, signature: &str, public: &str) -> String {
    ok(Command::new("minisign")
        .args(["-V", "-m", file, "-x", signature, "-P", public])
        .current_dir(dist))
}

fn linkaudit_verify(linkaudit: &Path, dist: &Path, key: &str) -> (i32, String, String) {
    let out = run(Command::new(linkaudit)
        .arg("verify")
        .arg(dist)
        .args(["--minisign-key", key]));
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (
        out.status.code().unwrap(),
        text(&out.stdout),
        text(&out.stderr),
    )
}

/// The fixture, its dist/, the linkaudit CLI and two keys made by minisign.
struct Setup {
    work: PathBuf,
    ws: PathBuf,
    dist_dir: PathBuf,
    linkaudit: PathBuf,
    plain: Keys,
    encrypted: Keys,
    archive: String,
    archive_sig: String,
}

#[test]
fn releases_are_signed_in_minisign_format_and_checked() {
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sign");
    let _ = std::fs::remove_dir_all(&work);
    let ws = work.join("ws");
    make_fixture(&ws, &repo_root().join("Cargo.lock"));
    let archive = archive_name(MUSL);
    let s = Setup {
        linkaudit: common::build_linkaudit(),
        dist_dir: ws.join("dist"),
        plain: generate(&work.join("plain"), None),
        encrypted: generate(&work.join("encrypted"), Some("correct horse")),
        archive_sig: format!("{archive}.sig"),
        archive,
        work,
        ws,
    };
    signed_and_checked_by_minisign_and_linkaudit(&s);
    bad_keys_and_signatures_are_one_line_each(&s);
    an_encrypted_key_signs_with_its_password(&s);
    a_run_without_a_key_leaves_no_signature(&s);
    sign_signs_a_written_release_after_verify(&s);
    only_the_binstall_key_signs(&s);
}

/// Phase 1: Signed with an unencrypted key, checked by minisign itself and by linkaudit.
fn signed_and_checked_by_minisign_and_linkaudit(s: &Setup) {
    let (plain, dist_dir, archive) = (&s.plain, &s.dist_dir, &s.archive);
    let commit = ok(Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(&s.ws));
    let signed = dist(&s.ws, Some(&plain.secret), None);
    assert_eq!(signed.code, 0);
    assert!(signed.stdout.contains(&plain.public), "{}", signed.stdout);
    let said = minisign_verify(dist_dir, "SHA256SUMS", SUMS_SIG, &plain.public);
    let version = "0.1.0";
    assert!(
        said.contains(&format!(
            "Trusted comment: file:SHA256SUMS\tpackage:fixture-cli\tversion:{version}\tcommit:{}",
            commit.trim()
        )),
        "{said}"
    );
    let said = minisign_verify(dist_dir, archive, &s.archive_sig, &plain.public);
    assert!(
        said.contains(&format!("file:{archive}\tpackage:fixture-cli")),
        "{said}"
    );
    for key in [plain.public_file.to_str().unwrap(), &plain.public] {
        let (code, stdout, _) = linkaudit_verify(&s.linkaudit, dist_dir, key);
        assert_eq!(code, 0, "{stdout}");
        assert!(stdout.contains(", 2 signatures"), "{stdout}");
    }
}

/// Phase 2: Bad keys and bad signatures: one line each. The signature is put back after.
fn bad_keys_and_signatures_are_one_line_each(s: &Setup) {
    let (plain, dist_dir, archive, archive_sig) =
        (&s.plain, &s.dist_dir, &s.archive, &s.archive_sig);
    let signed_snapshot = snapshot(dist_dir);
    let (code, _, stderr) = linkaudit_verify(&s.linkaudit, dist_dir, "RWnotakey");
    assert_eq!((code, stderr.lines().count()), (2, 1), "{stderr}");
    assert!(stderr.contains("neither a minisign public key"), "{stderr}");
    let (code, _, stderr) = linkaudit_verify(&s.linkaudit, dist_dir, &s.encrypted.public);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(&format!("{SUMS_SIG}: made with another key")),
        "{stderr}"
    );
    let other_bytes = s.work.join("other");
    std::fs::write(&other_bytes, "not the archive").unwrap();
    sign_with_minisign(&s.work, plain, &other_bytes, &format!("file:{archive}"));
    std::fs::copy(s.work.join("other.minisig"), dist_dir.join(archive_sig)).unwrap();
    let (code, _, stderr) = linkaudit_verify(&s.linkaudit, dist_dir, &plain.public);
    assert_eq!((code, stderr.lines().count()), (1, 2), "{stderr}");
    assert!(stderr.contains(&format!(
        "{archive}: {archive_sig} does not match its bytes"
    )));
    let renamed = s.work.join("renamed");
    std::fs::copy(dist_dir.join(archive), &renamed).unwrap();
    sign_with_minisign(&s.work, plain, &renamed, "file:fixture-cli-other.tar.gz");
    std::fs::copy(s.work.join("renamed.minisig"), dist_dir.join(archive_sig)).unwrap();
    let (code, _, stderr) = linkaudit_verify(&s.linkaudit, dist_dir, &plain.public);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("made for fixture-cli-other.tar.gz, not"),
        "{stderr}"
    );
    std::fs::write(dist_dir.join(archive_sig), &signed_snapshot[archive_sig]).unwrap();
}

/// Phase 3: Encrypted key: with its password it signs; without, or a key that is none, one line and
/// dist/ unchanged.
fn an_encrypted_key_signs_with_its_password(s: &Setup) {
    let (encrypted, dist_dir) = (&s.encrypted, &s.dist_dir);
    let signed_snapshot = snapshot(dist_dir);
    for (key, password, expected) in [
        (encrypted.secret.as_str(), None, "set MINISIGN_PASSWORD"),
        (
            encrypted.secret.as_str(),
            Some("wrong"),
            "cannot decrypt MINISIGN_SECRET_KEY",
        ),
        ("RWnot a key", None, "does not hold a minisign secret key"),
    ] {
        let failed = dist(&s.ws, Some(key), password);
        assert_eq!(failed.code, 1);
        assert_eq!(failed.stderr.lines().count(), 1, "{}", failed.stderr);
        assert!(failed.stderr.contains(expected), "{}", failed.stderr);
        assert!(
            snapshot(dist_dir) == signed_snapshot,
            "a failed run changed dist/"
        );
    }
    let resigned = dist(&s.ws, Some(&encrypted.secret), Some("correct horse"));
    assert_eq!(resigned.code, 0);
    minisign_verify(dist_dir, "SHA256SUMS", SUMS_SIG, &encrypted.public);
    let (code, stdout, stderr) = linkaudit_verify(&s.linkaudit, dist_dir, &encrypted.public);
    assert_eq!(code, 0, "{stdout}{stderr}");
}

/// Phase 4: Without a key: no signature is left behind.
fn a_run_without_a_key_leaves_no_signature(s: &Setup) {
    assert_eq!(dist(&s.ws, None, None).code, 0);
    let left: Vec<String> = snapshot(&s.dist_dir)
        .into_keys()
        .filter(|n| n.ends_with(".sig") || n.ends_with(".minisig"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// `cargo xtask sign dist`, with the key if one is given.
fn sign(ws: &Path, key: Option<&str>) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
    cmd.args(["sign", "dist"]).current_dir(ws);
    if let Some(key) = key {
        cmd.env("MINISIGN_SECRET_KEY", key);
    }
    xtask(&mut cmd)
}

/// Phase 5: `cargo xtask sign DIR` (the publish job's step): signs the release as it is, only after
/// linkaudit verify passed, and only with a key.
fn sign_signs_a_written_release_after_verify(s: &Setup) {
    let (plain, dist_dir) = (&s.plain, &s.dist_dir);
    let unsigned = snapshot(dist_dir);
    let no_key = sign(&s.ws, None);
    assert_eq!((no_key.code, no_key.stderr.lines().count()), (1, 1));
    assert!(no_key.stderr.contains("MINISIGN_SECRET_KEY is not set"));
    without_a_key_the_workflow_warns(s);
    let sums = dist_dir.join("SHA256SUMS");
    let listed = std::fs::read_to_string(&sums).unwrap();
    std::fs::write(
        &sums,
        listed.replacen(|c: char| c.is_ascii_hexdigit(), "f", 1),
    )
    .unwrap();
    let refused = sign(&s.ws, Some(&plain.secret));
    assert_eq!(refused.code, 1);
    assert!(
        refused.stderr.contains("linkaudit verify refused"),
        "{}",
        refused.stderr
    );
    std::fs::write(&sums, &listed).unwrap();
    assert!(snapshot(dist_dir) == unsigned, "a refused sign wrote files");
    assert_eq!(sign(&s.ws, Some(&plain.secret)).code, 0);
    minisign_verify(dist_dir, "SHA256SUMS", SUMS_SIG, &plain.public);
    minisign_verify(dist_dir, &s.archive, &s.archive_sig, &plain.public);
    let mut expected: Vec<String> = unsigned.into_keys().collect();
    expected.extend([SUMS_SIG.to_owned(), s.archive_sig.clone()]);
    expected.sort();
    assert_eq!(snapshot(dist_dir).into_keys().collect::<Vec<_>>(), expected);
}

/// The release workflow's form: no key is a warning on the run page and exit 0, nothing signed.
fn without_a_key_the_workflow_warns(s: &Setup) {
    let unsigned = snapshot(&s.dist_dir);
    let mut optional = Command::new(env!("CARGO_BIN_EXE_xtask"));
    optional
        .args(["sign", "dist", "--if-key"])
        .env("GITHUB_ACTIONS", "true")
        .current_dir(&s.ws);
    let optional = xtask(&mut optional);
    assert_eq!(optional.code, 0, "{}", optional.stderr);
    assert!(optional
        .stdout
        .starts_with("::warning title=Release not signed::"));
    assert!(optional.stderr.contains("goes out unsigned"));
    assert!(
        snapshot(&s.dist_dir) == unsigned,
        "sign --if-key without a key wrote files"
    );
}

/// Phase 6: With `[package.metadata.binstall.signing]`, only the key of its pubkey signs.
fn only_the_binstall_key_signs(s: &Setup) {
    let (plain, dist_dir) = (&s.plain, &s.dist_dir);
    let manifest = s.ws.join("crates/fixture-cli/Cargo.toml");
    let table = format!(
        "\n[package.metadata.binstall.signing]\nalgorithm = \"minisign\"\npubkey = \"{}\"\n",
        plain.public
    );
    let original = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, format!("{original}{table}")).unwrap();
    let signed_before = snapshot(dist_dir);
    let other_key = dist(&s.ws, Some(&s.encrypted.secret), Some("correct horse"));
    assert_eq!((other_key.code, other_key.stderr.lines().count()), (1, 1));
    assert!(
        other_key.stderr.contains(&format!(
            "package fixture-cli's [package.metadata.binstall.signing] pubkey is {}",
            plain.public
        )),
        "{}",
        other_key.stderr
    );
    assert!(
        snapshot(dist_dir) == signed_before,
        "a refused key changed dist/"
    );
    assert_eq!(dist(&s.ws, Some(&plain.secret), None).code, 0);
    minisign_verify(dist_dir, &s.archive, &s.archive_sig, &plain.public);
    std::fs::write(&manifest, original).unwrap();
}

/// `minisign -S` with the unencrypted key: `<file>.minisig` beside `file`.
fn sign_with_minisign(work: &Path, keys: &Keys, file: &Path, trusted: &str) {
    let secret = work.join("signing.key");
    std::fs::write(&secret, &keys.secret).unwrap();
    ok(Command::new("minisign")
        .args(["-S", "-W", "-s"])
        .arg(&secret)
        .arg("-m")
        .arg(file)
        .args(["-t", trusted]));
}
