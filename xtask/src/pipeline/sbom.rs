//! The SBOM step: `<package>-<target>.cdx.json` beside each archive (CycloneDX JSON, the
//! contract's `sbom` module), made from the binaries as packed: each one's embedded dependency
//! list (cargo-auditable's `.dep-v0`, put there by the build) and the shared libraries it needs.
//! `linkaudit verify` makes the same SBOM from the archive and compares the bytes.

use super::verify::Verified;
use crate::workspace::checksums;
use crate::workspace::fsio::write_file_atomically;
use crate::workspace::manifest::Artifact;
use crate::workspace::report::Report;
use anyhow::{bail, Context, Result};
use linkaudit::contract::sbom::{cyclonedx, sbom_name, SbomBinary, SbomInput};
use linkaudit::deps::Dependencies;
use std::path::Path;

/// Writes the SBOM of every archive in `artifacts` (wheels have none) into `staging` and names
/// it in its artifact. Returns (file name, sha256) of each, for SHA256SUMS.
pub fn write_sboms(
    staging: &Path,
    epoch: u64,
    verified: &[Verified],
    artifacts: &mut [Artifact],
    report: &Report,
) -> Result<Vec<(String, String)>> {
    let mut written = Vec::new();
    for artifact in artifacts.iter_mut() {
        let Some(name) = sbom_name(&artifact.archive) else {
            continue;
        };
        let item = verified
            .iter()
            .find(|v| v.package.name == artifact.package && v.triple.as_str() == artifact.target)
            .context("internal error: an archive without its verified build")?;
        let facts = binary_facts(item, artifact)?;
        let input = SbomInput {
            package: &artifact.package,
            version: &artifact.version,
            target: &artifact.target,
            archive: &artifact.archive,
            archive_sha256: &artifact.sha256,
            source_date_epoch: epoch,
            binaries: facts
                .iter()
                .map(|(path, sha256, libraries, deps)| SbomBinary {
                    path,
                    sha256: sha256.clone(),
                    libraries: libraries.clone(),
                    deps: Some(deps),
                })
                .collect(),
        };
        let text = cyclonedx(&input);
        write_file_atomically(&staging.join(&name), text.as_bytes())?;
        let crates: usize = facts.iter().map(|f| f.3.packages.len()).sum();
        report.step(
            "sbom",
            &artifact.target,
            &format!(
                "{name} ({crates} crates in {} binar{})",
                facts.len(),
                if facts.len() == 1 { "y" } else { "ies" }
            ),
        );
        written.push((name.clone(), checksums::sha256_file(&staging.join(&name))?));
        artifact.sbom = Some(name);
    }
    Ok(written)
}

type Facts = (String, String, Vec<String>, Dependencies);

/// Path in the archive, sha256, shared libraries and dependency list of each binary.
fn binary_facts(item: &Verified, artifact: &Artifact) -> Result<Vec<Facts>> {
    item.linkage
        .iter()
        .zip(&artifact.binaries)
        .map(|(l, listed)| {
            let path = &l.binary.path;
            let deps = linkaudit::deps::read_path(path)
                .with_context(|| format!("reading the dependency list of {}", path.display()))?;
            let Some(deps) = deps else {
                bail!(
                    "{} was built without its dependency list (no .dep-v0 section), though the \
                     build ran through cargo-auditable: is RUSTC_WORKSPACE_WRAPPER overridden, or \
                     the target unsupported by cargo-auditable?",
                    path.display()
                );
            };
            let audit = &l.audit;
            let libraries = audit.needed.iter().chain(&audit.delay_load).cloned();
            Ok((
                listed.path.clone(),
                checksums::sha256_file(path)?,
                libraries.collect(),
                deps,
            ))
        })
        .collect()
}
