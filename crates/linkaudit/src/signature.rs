//! `linkaudit verify --minisign-key KEY`: the minisign signatures of a release directory.
//!
//! `cargo xtask dist` and `gather` sign with the project's key (when it is configured):
//! `SHA256SUMS.minisig` over `SHA256SUMS`, which lists every archive by SHA-256, and
//! `<archive>.sig` beside each `.tar.gz` and `.zip`, the file cargo-binstall checks. Checksums
//! downloaded with the archives only prove the bytes arrived intact; a signature that verifies with
//! the key published elsewhere (README, crates.io's Cargo.toml) proves who made them.
//!
//! Each signature's trusted comment names the file it was made for (`file:<name>`, as minisign's
//! own comments do), so a valid signature of one archive renamed beside another is refused too.

use crate::verify::{Failure, NotVerifiable, Report, CHECKSUMS};
use minisign_verify::{Error, PublicKey, Signature};
use std::io::Read;
use std::path::Path;

/// minisign's own name for the signature of `SHA256SUMS` (`minisign -Vm SHA256SUMS`).
pub const SUMS_SIGNATURE: &str = "SHA256SUMS.minisig";

/// The key of `--minisign-key`: base64 as `minisign -G` prints it (`RW...`), or a file holding it
/// (`minisign.pub`: an untrusted comment line, then the key).
pub fn parse_public_key(arg: &str) -> Result<PublicKey, NotVerifiable> {
    let path = Path::new(arg);
    if path.is_file() {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let key = text
            .lines()
            .map(str::trim)
            .rfind(|line| !line.is_empty() && !line.starts_with("untrusted comment:"));
        return key
            .and_then(|key| PublicKey::from_base64(key).ok())
            .ok_or_else(|| {
                NotVerifiable(format!(
                    "--minisign-key {arg}: the file holds no minisign public key (a line of base64 \
                     starting with RW, as in minisign.pub); pass the project's public key"
                ))
            });
    }
    PublicKey::from_base64(arg.trim()).map_err(|_| {
        NotVerifiable(format!(
            "--minisign-key {arg:?}: neither a minisign public key (56 characters of base64 \
             starting with RW) nor a file; pass the public key the project publishes"
        ))
    })
}

/// Checks `SHA256SUMS.minisig` and the `.sig` of every `.tar.gz` and `.zip` in `dir` with `key`;
/// each problem becomes a failure of `report`. Returns how many signatures were checked.
pub fn check_signatures(
    dir: &Path,
    key: &PublicKey,
    report: &mut Report,
) -> Result<usize, NotVerifiable> {
    let entries = std::fs::read_dir(dir)
        .map_err(|err| NotVerifiable(format!("{}: cannot list ({err})", dir.display())))?;
    let mut archives: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".tar.gz") || name.ends_with(".zip"))
        .collect();
    archives.sort();
    let mut signed = vec![(CHECKSUMS.to_owned(), SUMS_SIGNATURE.to_owned())];
    signed.extend(
        archives
            .into_iter()
            .map(|a| (a.clone(), format!("{a}.sig"))),
    );
    for (file, signature) in &signed {
        if let Err(problem) = check_one(dir, file, signature, key) {
            report.failures.push(problem);
        }
    }
    Ok(signed.len())
}

/// One file against its signature file.
fn check_one(dir: &Path, file: &str, signature: &str, key: &PublicKey) -> Result<(), Failure> {
    let fail = |on: &str, problem: String| Failure {
        file: on.to_owned(),
        problem,
    };
    // Through the contract's reader, as verify opens every file: regular files only, non-blocking
    // (a FIFO named like a signature must not hang the check), and a signature is small.
    let text = crate::contract::read_text(&dir.join(signature), 64 * 1024).map_err(|_| {
        fail(
            file,
            format!("no {signature} beside it: the release is not signed, or the signature was not downloaded"),
        )
    })?;
    let parsed = Signature::decode(&text).map_err(|err| {
        fail(
            signature,
            format!("not a minisign signature ({err}); download it again"),
        )
    })?;
    let mut verifier = key.verify_stream(&parsed).map_err(|err| match err {
        Error::UnexpectedKeyId => fail(
            signature,
            "made with another key than --minisign-key: this release was not signed by the \
             holder of that key"
                .to_owned(),
        ),
        other => fail(signature, format!("cannot be checked ({other})")),
    })?;
    let mut input = crate::contract::open_regular(&dir.join(file))
        .map_err(|err| fail(file, format!("cannot be read ({err})")))?;
    let mut buf = vec![0; 1 << 16];
    loop {
        match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => verifier.update(&buf[..n]),
            Err(err) => return Err(fail(file, format!("cannot be read ({err})"))),
        }
    }
    verifier.finalize().map_err(|_| {
        fail(
            file,
            format!(
                "{signature} does not match its bytes: the file (or the signature's trusted \
                 comment) changed after it was signed; do not install it"
            ),
        )
    })?;
    let named = parsed
        .trusted_comment()
        .split('\t')
        .find_map(|field| field.strip_prefix("file:"));
    match named {
        Some(named) if named != file => Err(fail(
            signature,
            format!("made for {named}, not {file} (its trusted comment says so): a signature of another file"),
        )),
        _ => Ok(()),
    }
}
