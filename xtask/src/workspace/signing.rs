//! Signatures of a release in minisign's format, made by `cargo xtask dist` and `gather` when
//! the environment holds a secret key, and by `cargo xtask sign`: `SHA256SUMS.minisig` over
//! `SHA256SUMS` (which lists every archive and wheel by SHA-256), and `<archive>.sig` beside each
//! archive, the file cargo-binstall downloads and checks by default (`{ url }.sig`,
//! cargo-binstall's SIGNING.md).
//!
//! The key comes from `MINISIGN_SECRET_KEY` (the key file's contents, as a CI secret holds it)
//! and `MINISIGN_PASSWORD` when the key is encrypted; never from a flag, which would land in shell
//! history and process listings. Each signature's trusted comment (signed, and shown by
//! `minisign -V` and cargo-binstall) names the file, the package, its version and the commit, so a
//! valid signature of one archive cannot pass for another's.
//!
//! A signature in the out dir always matches its file: pipeline/sign.rs removes the signatures
//! of every file the handover may replace before it, and moves the new ones in after it.

use super::checksums::{self, SHA256SUMS};
use super::config::{self, Workspace};
use super::fsio::write_file_atomically;
use super::manifest::{self, Manifest};
use super::report::Report;
use anyhow::{bail, Context, Result};
use ct_codecs::{Base64, Decoder};
use minisign::{PublicKey, SecretKey, SecretKeyBox};
use std::path::Path;

pub const SECRET_KEY_VAR: &str = "MINISIGN_SECRET_KEY";
pub const PASSWORD_VAR: &str = "MINISIGN_PASSWORD";
/// minisign's own name for the signature of `SHA256SUMS` (`minisign -Vm SHA256SUMS` finds it).
pub const SUMS_SIGNATURE: &str = "SHA256SUMS.minisig";

/// cargo-binstall's default signature file of a download: `{ url }.sig`.
pub fn archive_signature(archive: &str) -> String {
    format!("{archive}.sig")
}

/// A file this module writes (a part of gather's input may hold them: gather signs again).
pub fn is_signature(name: &str) -> bool {
    name.ends_with(".sig") || name.ends_with(".minisig")
}

/// The decrypted secret key, and its public key to check each signature as it is made.
pub struct Signer {
    secret: SecretKey,
    public: PublicKey,
}

impl Signer {
    /// The key of `MINISIGN_SECRET_KEY` checked against `ws` (`check_binstall_pubkey`), or none
    /// when it is unset or empty. Called before anything is built, so that a bad key, a missing
    /// password or the wrong key fails the run at once.
    pub fn from_env_for(sh: &xshell::Shell, ws: &Workspace) -> Result<Option<Signer>> {
        let signer = Signer::from_env()?;
        if let Some(signer) = &signer {
            signer.check_binstall_pubkey(sh, ws)?;
        }
        Ok(signer)
    }

    /// The key of `MINISIGN_SECRET_KEY`, or none when it is unset or empty.
    pub fn from_env() -> Result<Option<Signer>> {
        let text = match std::env::var(SECRET_KEY_VAR) {
            Ok(text) if !text.trim().is_empty() => text,
            Ok(_) | Err(std::env::VarError::NotPresent) => return Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => {
                bail!("{SECRET_KEY_VAR} is not text: set it to the contents of a minisign secret key file")
            }
        };
        let password = std::env::var(PASSWORD_VAR).ok();
        Signer::from_key_file(&text, password).map(Some)
    }

    /// The contents of a secret key file (`minisign -G`); a secret without its comment line, or
    /// with CRLF line ends, is accepted too.
    pub fn from_key_file(text: &str, password: Option<String>) -> Result<Signer> {
        let not_a_key = || {
            anyhow::anyhow!(
                "{SECRET_KEY_VAR} does not hold a minisign secret key: set it to the contents of \
                 the file `minisign -G -s FILE` wrote"
            )
        };
        let encoded = text
            .lines()
            .map(str::trim)
            .rfind(|line| !line.is_empty() && !line.starts_with("untrusted comment:"))
            .ok_or_else(not_a_key)?;
        let bytes = Base64::decode_to_vec(encoded, None).map_err(|_| not_a_key())?;
        // Algorithms (6 bytes), scrypt salt and limits (48), key id (8), key pair (64), checksum (32).
        if bytes.len() != 158 {
            return Err(not_a_key());
        }
        let secret = if bytes.get(2..4) == Some(&[0, 0]) {
            // Not encrypted (`minisign -G -W`). Debian's minisign 0.11 writes such a key's
            // checksum as zeros, which the crate's `from_unencrypted_box` refuses as "Corrupted
            // key"; so the key is read as it is, and each signature made with it is checked
            // against the key's own public key, which a corrupt key fails.
            SecretKey::from_bytes(&bytes).map_err(|_| not_a_key())?
        } else {
            let Some(password) = password else {
                bail!(
                    "{SECRET_KEY_VAR} holds an encrypted minisign key: set {PASSWORD_VAR} to its \
                     password"
                );
            };
            let boxed = SecretKeyBox::from_string(&format!("untrusted comment: key\n{encoded}\n"))
                .map_err(|_| not_a_key())?;
            // Some(password): with None the crate would prompt on the terminal.
            SecretKey::from_box(boxed, Some(password)).map_err(|err| {
                anyhow::anyhow!(
                    "cannot decrypt {SECRET_KEY_VAR} with {PASSWORD_VAR} ({err}): set the password \
                     the key was made with"
                )
            })?
        };
        let public = PublicKey::from_secret_key(&secret).map_err(|_| not_a_key())?;
        Ok(Signer { secret, public })
    }

    /// Refuses a key whose public key is not the `pubkey` of a shipped package's
    /// `[package.metadata.binstall.signing]`: cargo-binstall would refuse every archive signed
    /// with it. Packages without that table are not checked.
    pub fn check_binstall_pubkey(&self, sh: &xshell::Shell, ws: &Workspace) -> Result<()> {
        let _dir = sh.push_dir(&ws.root);
        let cargo = config::cargo_program();
        let json = xshell::cmd!(sh, "{cargo} metadata --format-version 1 --no-deps")
            .quiet()
            .read()
            .context("reading [package.metadata.binstall.signing] with `cargo metadata`")?;
        let meta: serde_json::Value = serde_json::from_str(&json)?;
        let ours = self.public_key();
        for package in meta["packages"].as_array().into_iter().flatten() {
            let name = package["name"].as_str().unwrap_or_default();
            let pubkey = &package["metadata"]["binstall"]["signing"]["pubkey"];
            let shipped = ws.packages.iter().any(|p| p.name == name);
            if let (true, Some(pubkey)) = (shipped, pubkey.as_str()) {
                if pubkey.trim() != ours {
                    bail!(
                        "{SECRET_KEY_VAR} is the secret key of {ours}, but package {name}'s \
                         [package.metadata.binstall.signing] pubkey is {pubkey}: cargo-binstall \
                         would refuse every archive; sign with the project's key or update pubkey"
                    );
                }
            }
        }
        Ok(())
    }

    /// The public key, base64, as `minisign -P` and cargo-binstall's `pubkey` take it.
    pub fn public_key(&self) -> String {
        self.public.to_base64()
    }

    /// The signature file of `path`'s bytes, with `trusted` as its trusted comment.
    fn sign(&self, path: &Path, trusted: &str) -> Result<String> {
        let file =
            std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
        let signature = minisign::sign(
            Some(&self.public),
            &self.secret,
            std::io::BufReader::new(file),
            Some(trusted),
            None,
        )
        .map_err(|err| anyhow::anyhow!("signing {}: {err}", path.display()))?;
        Ok(signature.into_string())
    }
}

/// Writes the signatures of `SHA256SUMS` and of every archive into `dir` (a staging dir, or a
/// release for `cargo xtask sign`); returns their names.
pub fn sign_release(
    signer: &Signer,
    dir: &Path,
    manifest: &Manifest,
    report: &Report,
) -> Result<Vec<String>> {
    let commit = manifest.source_commit.as_deref().unwrap_or("none");
    // A workspace's packages usually share one version (install.sh needs that): each listed once.
    let joined = |field: fn(&manifest::Artifact) -> &str| {
        let mut all: Vec<&str> = manifest.artifacts.iter().map(field).collect();
        all.sort();
        all.dedup();
        all.join(",")
    };
    let (packages, versions) = (joined(|a| &a.package), joined(|a| &a.version));
    let mut jobs = vec![(
        SHA256SUMS.to_owned(),
        SUMS_SIGNATURE.to_owned(),
        trusted_comment(SHA256SUMS, &packages, &versions, commit),
    )];
    for artifact in manifest
        .artifacts
        .iter()
        .filter(|a| is_binstall_archive(&a.archive))
    {
        jobs.push((
            artifact.archive.clone(),
            archive_signature(&artifact.archive),
            trusted_comment(
                &artifact.archive,
                &artifact.package,
                &artifact.version,
                commit,
            ),
        ));
    }
    let mut written = Vec::new();
    for (file, signature_name, trusted) in jobs {
        let signature = signer.sign(&dir.join(&file), &trusted)?;
        write_file_atomically(&dir.join(&signature_name), signature.as_bytes())?;
        written.push(signature_name);
    }
    report.step(
        "sign",
        SHA256SUMS,
        &format!(
            "{} signature(s) with minisign key {} ({SUMS_SIGNATURE}, <archive>.sig)",
            written.len(),
            signer.public_key()
        ),
    );
    Ok(written)
}

/// `file:<name>\tpackage:<name>\tversion:<version>\tcommit:<sha>`, in the tab-separated
/// `key:value` style of minisign's own trusted comments.
pub fn trusted_comment(file: &str, package: &str, version: &str, commit: &str) -> String {
    format!("file:{file}\tpackage:{package}\tversion:{version}\tcommit:{commit}")
}

/// The archives cargo-binstall downloads (not the wheels, which pip installs).
fn is_binstall_archive(name: &str) -> bool {
    name.ends_with(".tar.gz") || name.ends_with(".zip")
}

/// Removes the signatures of every file the coming handover may replace or remove: those of
/// `SHA256SUMS`, of the archives it lists now, of those the current manifest lists and of this
/// run's archives.
pub fn remove_old_signatures(out_dir: &Path, manifest: &Manifest) -> Result<()> {
    let mut doomed = vec![SUMS_SIGNATURE.to_owned()];
    if let Ok(text) = std::fs::read_to_string(out_dir.join(SHA256SUMS)) {
        let listed = checksums::parse_sha256sums(&text).unwrap_or_default();
        doomed.extend(listed.into_keys().map(|name| archive_signature(&name)));
    }
    if let Ok(old) = Manifest::read(&out_dir.join(manifest::MANIFEST)) {
        doomed.extend(old.artifacts.iter().map(|a| archive_signature(&a.archive)));
    }
    doomed.extend(
        manifest
            .artifacts
            .iter()
            .map(|a| archive_signature(&a.archive)),
    );
    for name in doomed {
        // Names read from files: plain file names inside the out dir only.
        if name.contains(['/', '\\']) || name.starts_with('.') {
            continue;
        }
        let path = out_dir.join(&name);
        match std::fs::remove_file(&path) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
                return Err(err).with_context(|| format!("removing the old {}", path.display()))
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key made with the minisign crate, encrypted, read back the way CI passes it.
    #[test]
    fn keys_are_read_from_the_key_file_text_with_their_password() {
        let pair = minisign::KeyPair::generate_encrypted_keypair(Some("pw".to_owned())).unwrap();
        let text = pair.sk.to_box(None).unwrap().to_string();
        let signer = Signer::from_key_file(&text.replace('\n', "\r\n"), Some("pw".into())).unwrap();
        assert_eq!(signer.public_key(), pair.pk.to_base64());
        let err = |text: &str, password: Option<&str>| {
            Signer::from_key_file(text, password.map(str::to_owned))
                .err()
                .unwrap()
                .to_string()
        };
        assert!(err(&text, None).contains("set MINISIGN_PASSWORD"));
        assert!(err(&text, Some("wrong")).contains("cannot decrypt"));
        assert!(err("untrusted comment: x\nnot base64!", None).contains("does not hold"));
        assert!(err(&pair.pk.to_box().unwrap().to_string(), None).contains("does not hold"));
    }
}
