//! Checks a release directory as `cargo xtask dist` writes it (`crate::contract`,
//! `docs/dist-contract.md`): checksums, the manifest, archive entries, and the policy each
//! binary's target implies (`linkaudit verify`).
//!
//! A user who downloaded a release runs this on it; so does the release workflow before it
//! publishes. It is a security boundary: whoever can replace the files can rewrite every
//! checksum and the manifest to agree, so the target and policy of an archive come from its name
//! (and a wheel's platform tags), checked against the manifest; every entry an extractor would
//! write is read (every gzip member, every zip local header); every executable entry must be a
//! binary of the target that passes its policy; links are resolved as an extractor would; and
//! what is held in memory is bounded by [`Limits`].

mod entries;
mod expect;
mod readers;
mod release;
mod sbom;

use crate::contract::{self, Manifest, ManifestError};
use crate::{Floors, GlibcVersion};
use std::collections::BTreeSet;
use std::fmt;
use std::io;
use std::path::Path;

pub use crate::contract::{sha256_file, CHECKSUMS, MANIFEST};
/// The glibc floor when the manifest cannot be read (the contract's default).
pub const DEFAULT_GLIBC_FLOOR: GlibcVersion = GlibcVersion::new(2, 17);

/// One failed check, naming the file (an archive, a checksum file, or `archive!entry`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub file: String,
    pub problem: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file, self.problem)
    }
}

/// What was checked, and what failed. The release passes when `failures` is empty.
#[derive(Debug, Default)]
pub struct Report {
    pub archives: usize,
    pub binaries: usize,
    pub failures: Vec<Failure>,
    /// Worth saying, but no reason to refuse the release: a binary without an embedded
    /// dependency list, an archive without an SBOM.
    pub warnings: Vec<Failure>,
}

impl Report {
    fn fail(&mut self, file: &str, problem: String) {
        self.failures.push(Failure {
            file: file.to_owned(),
            problem,
        });
    }

    fn warn(&mut self, file: &str, problem: String) {
        self.warnings.push(Failure {
            file: file.to_owned(),
            problem,
        });
    }
}

/// The directory cannot be checked at all: it is missing, unreadable, not a release directory,
/// or made by a newer tool.
#[derive(Debug)]
pub struct NotVerifiable(pub String);

impl fmt::Display for NotVerifiable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NotVerifiable {}

/// What verification may hold in memory and inflate.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// The most bytes of one archive entry that are read (into memory, for a binary); a larger
    /// entry fails its archive, which is not read further.
    pub max_entry_size: u64,
    /// The most bytes one archive may inflate to, all entries together.
    pub max_archive_inflated: u64,
}

/// 256 MiB: ten times the largest release binary we know of (uv's, 40 MB), well below the
/// memory budget the README states.
pub const DEFAULT_MAX_ENTRY_SIZE: u64 = 256 << 20;

impl Limits {
    /// The limits for a largest entry of `max_entry_size` bytes: an archive may inflate to
    /// eight times that.
    pub fn new(max_entry_size: u64) -> Limits {
        Limits {
            max_entry_size,
            max_archive_inflated: max_entry_size.saturating_mul(8),
        }
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::new(DEFAULT_MAX_ENTRY_SIZE)
    }
}

/// Checks the release directory `dir` with the default [`Limits`].
pub fn verify_dir(dir: &Path) -> Result<Report, NotVerifiable> {
    verify_dir_with(dir, Limits::default())
}

/// Checks the release directory `dir`. `Err` only when it cannot be checked (exit code 2);
/// every broken rule is a [`Failure`] in the report (exit code 1).
pub fn verify_dir_with(dir: &Path, limits: Limits) -> Result<Report, NotVerifiable> {
    let not_verifiable = |what: String| NotVerifiable(format!("{}: {what}", dir.display()));
    let files = list_files(dir).map_err(|err| {
        not_verifiable(format!(
            "cannot read the directory ({err}); pass the dist/ directory of a release"
        ))
    })?;
    for required in [CHECKSUMS, MANIFEST] {
        if !files.contains(required) {
            return Err(not_verifiable(format!(
                "no {required}: not a release directory; pass the dist/ directory written by `cargo xtask dist`"
            )));
        }
    }
    let read = |name: &str| {
        contract::read_text(&dir.join(name), 256 << 20)
            .map_err(|err| not_verifiable(format!("cannot read {name} ({err})")))
    };
    let mut report = Report::default();
    let manifest = match Manifest::from_json(&read(MANIFEST)?) {
        Ok(manifest) => Some(manifest),
        Err(ManifestError::Invalid(err)) => {
            report.fail(MANIFEST, format!("is not a valid release manifest ({err}): every field `cargo xtask dist` writes is required; download the release again"));
            None
        }
        Err(err @ ManifestError::Newer(_)) => {
            return Err(not_verifiable(format!("{MANIFEST}: {err}")))
        }
        Err(err) => {
            return Err(not_verifiable(format!(
            "{MANIFEST} is not a release manifest ({err}); write it again with `cargo xtask dist`"
        )))
        }
    };
    let checksums_text = read(CHECKSUMS)?;
    let floors = release::check(dir, &files, manifest.as_ref(), &checksums_text, &mut report);
    for archive in files
        .iter()
        .filter(|name| contract::naming::is_archive(name))
    {
        let manifest = manifest.as_ref();
        check_archive(dir, archive, manifest, &floors, limits, &mut report);
    }
    Ok(report)
}

/// Checks the entries of one archive in `dir` (its name says which kind: `.tar.gz`, `.zip`,
/// `.whl`), with the rules its name implies and the manifest, if any, confirms.
pub fn check_archive(
    dir: &Path,
    archive: &str,
    manifest: Option<&Manifest>,
    floors: &Floors,
    limits: Limits,
    report: &mut Report,
) {
    report.archives += 1;
    let mut problems = Vec::new();
    let expected = expect::Expected::for_archive(archive, manifest, floors, &mut problems);
    for problem in problems {
        report.fail(archive, problem);
    }
    let expected = expected.unwrap_or_else(|problem| {
        report.fail(archive, problem);
        expect::Expected::unknown(archive)
    });
    let mut inspector = entries::Inspector::new(archive, &expected, limits, report);
    if let Err(err) = readers::read_archive(&dir.join(archive), &mut inspector) {
        inspector.fail_archive(format!("cannot read the archive ({err})"));
    }
    let binaries = inspector.finish();
    if let Some(manifest) = manifest {
        sbom::check_content(dir, archive, manifest, &binaries, report);
    }
}

/// The SBOM `archive` in `dir` must have (`contract::sbom`): made from its manifest entry and
/// the binaries it holds as they are. `None` for a wheel, an archive the manifest does not list,
/// or one that cannot be read. What `verify` compares each SBOM with.
pub fn expected_sbom(dir: &Path, archive: &str, manifest: &Manifest) -> Option<String> {
    let artifact = manifest.artifacts.iter().find(|a| a.archive == archive)?;
    contract::sbom_name(archive)?;
    let floors = Floors::with_glibc(DEFAULT_GLIBC_FLOOR);
    let expected =
        expect::Expected::for_archive(archive, Some(manifest), &floors, &mut Vec::new()).ok()?;
    let mut report = Report::default();
    let mut inspector = entries::Inspector::new(archive, &expected, Limits::default(), &mut report);
    readers::read_archive(&dir.join(archive), &mut inspector).ok()?;
    let binaries = inspector.finish();
    let input = sbom::sbom_input(artifact, manifest.source_date_epoch, &binaries);
    Some(contract::sbom::cyclonedx(&input))
}

/// The regular files directly in `dir` (a release directory has no subdirectories).
fn list_files(dir: &Path) -> io::Result<BTreeSet<String>> {
    let mut names = BTreeSet::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            names.insert(entry.file_name().to_string_lossy().into_owned());
        }
    }
    Ok(names)
}
