//! `cargo xtask sign DIR`: signs a release directory that `dist` or `gather` wrote, after
//! `linkaudit verify` passed on it, so that the release workflow's publish job alone sees the key.
//! Only signature files change, each replaced atomically. The signing itself (the key, the
//! signature files, their trusted comments) is workspace/signing.rs, which `dist` and `gather`
//! share.

use crate::workspace::config::Workspace;
use crate::workspace::lock::OutDirLock;
use crate::workspace::manifest::{Manifest, MANIFEST};
use crate::workspace::report::Report;
use crate::workspace::signing::{sign_release, Signer, PASSWORD_VAR, SECRET_KEY_VAR};
use anyhow::{bail, Context, Result};
use std::path::Path;

pub fn run(dir: &Path, if_key: bool) -> Result<()> {
    let report = Report::new(false);
    let dir = std::env::current_dir()?.join(dir);
    if !dir.join(MANIFEST).is_file() {
        bail!(
            "{}: no {MANIFEST}: pass the dist/ directory `cargo xtask dist` or `gather` wrote",
            dir.display(),
        );
    }
    let _lock = OutDirLock::acquire(&dir)?;
    let Some(signer) = Signer::from_env()? else {
        if if_key {
            warn_unsigned(&dir);
            return Ok(());
        }
        bail!(
            "{SECRET_KEY_VAR} is not set: set it to the contents of the release's minisign \
             secret key file ({PASSWORD_VAR} too when the key is encrypted)"
        );
    };
    let sh = xshell::Shell::new().context("starting a shell")?;
    signer.check_binstall_pubkey(&sh, &Workspace::load(&sh)?)?;
    let checked = linkaudit::verify::verify_dir(&dir)
        .map_err(|err| anyhow::anyhow!("linkaudit verify cannot check it: {err}"))?;
    if let Some(first) = checked.failures.first() {
        bail!(
            "linkaudit verify refused {} ({first}; {} failure(s) in all): nothing was signed",
            dir.display(),
            checked.failures.len()
        );
    }
    let manifest = Manifest::read(&dir.join(MANIFEST))?;
    sign_release(&signer, &dir, &manifest, &report)?;
    Ok(())
}

/// One line on stderr, and a warning annotation on the run's page when GitHub Actions runs us,
/// so that an unsigned release is seen by whoever cut it.
fn warn_unsigned(dir: &Path) {
    let what = format!(
        "{SECRET_KEY_VAR} is not set: {} goes out unsigned (no SHA256SUMS.minisig, no <archive>.sig); \
         add the repository secret {SECRET_KEY_VAR} to sign releases",
        dir.display()
    );
    if std::env::var_os("GITHUB_ACTIONS").is_some() {
        println!("::warning title=Release not signed::{what}");
    }
    eprintln!("warning: {what}");
}
