//! The sign step, between the installer and the handover: with a key, signs `SHA256SUMS` and
//! every archive in the staging dir (workspace/signing.rs), then hands the staging dir over and
//! moves the signatures in after it. `cargo xtask gather` ends the same way.
//!
//! A signature in the out dir always matches its file: before the handover replaces any file,
//! the signatures of every file it may replace are removed; the new ones are moved in after it.
//! A run killed in between leaves a release whose checksums hold and whose signatures are
//! missing, never wrong; the next run signs again. A run without a key removes the old ones too.

use super::Staging;
use crate::workspace::checksums::SHA256SUMS;
use crate::workspace::manifest::Manifest;
use crate::workspace::report::Report;
use crate::workspace::signing::{self, Signer, SECRET_KEY_VAR};
use anyhow::{Context, Result};
use std::path::Path;

/// Signs the staged release (with a signer), hands the staging dir over as `Staging::commit`
/// does, and moves the signatures into place after it.
pub fn commit_signed(
    staging: &mut Staging,
    out_dir: &Path,
    manifest: &Manifest,
    extra: &[String],
    signer: Option<&Signer>,
    report: &Report,
) -> Result<()> {
    let signed = match signer {
        Some(signer) => signing::sign_release(signer, &staging.dir, manifest, report)?,
        None => {
            report.step(
                "sign",
                SHA256SUMS,
                &format!("not signed: {SECRET_KEY_VAR} is not set"),
            );
            Vec::new()
        }
    };
    signing::remove_old_signatures(out_dir, manifest)?;
    staging.commit(manifest, extra)?;
    for name in &signed {
        std::fs::rename(staging.dir.join(name), out_dir.join(name))
            .with_context(|| format!("moving {name} into {}", out_dir.display()))?;
    }
    Ok(())
}
