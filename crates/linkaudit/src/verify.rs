//! Checks a release directory as `cargo xtask dist` writes it (`docs/dist-contract.md`):
//! checksums, archive entries and the policy each binary's target implies (`linkaudit verify`).
//!
//! A user who downloaded a release runs this on it; so does the release workflow before it
//! publishes, so that an archive changed after it was checksummed, an archive nobody listed, an
//! entry that would unpack outside its directory, or a binary that needs a newer glibc than the
//! release promises never reaches users.

use crate::{audit_bytes, looks_like_binary, GlibcVersion, Policy, MAGIC_LEN};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

pub const CHECKSUMS: &str = "SHA256SUMS";
pub const MANIFEST: &str = "dist-manifest.json";
/// The glibc floor when `dist-manifest.json` records none (the contract's default).
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
}

/// The directory cannot be checked at all: it is missing, unreadable, or not a release directory.
#[derive(Debug)]
pub struct NotVerifiable(pub String);

impl fmt::Display for NotVerifiable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NotVerifiable {}

/// The part of `dist-manifest.json` that verification relies on.
struct Artifact {
    target: String,
    archive: String,
    size: Option<u64>,
    sha256: Option<String>,
    binary_paths: Vec<String>,
}

/// Checks the release directory `dir`. `Err` only when it cannot be checked (exit code 2);
/// every broken rule is a [`Failure`] in the report (exit code 1).
pub fn verify_dir(dir: &Path) -> Result<Report, NotVerifiable> {
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
        std::fs::read_to_string(dir.join(name))
            .map_err(|err| not_verifiable(format!("cannot read {name} ({err})")))
    };
    let (glibc_floor, artifacts) = parse_manifest(&read(MANIFEST)?).map_err(|err| {
        not_verifiable(format!(
            "{MANIFEST} is not a release manifest ({err}); write it again with `cargo xtask dist`"
        ))
    })?;
    let checksums_text = read(CHECKSUMS)?;

    let mut report = Report::default();
    let mut fail = |file: &str, problem: String| {
        report.failures.push(Failure {
            file: file.to_owned(),
            problem,
        })
    };
    let mut hashes = Hashes::new(dir);

    // SHA256SUMS: well-formed, sorted, and every line matches its file.
    let listed = parse_checksums(&checksums_text, &mut fail);
    for (name, expected) in &listed {
        match hashes.of(name) {
            Ok(actual) if &actual == expected => {}
            Ok(actual) => fail(name, format!("its sha256 is {actual} but {CHECKSUMS} says {expected}: the file or its line changed after the release was made; download both again")),
            Err(err) => fail(name, format!("listed in {CHECKSUMS} but cannot be read ({err})")),
        }
    }

    // Every archive is listed, has a `.sha256` that agrees, and is described by the manifest.
    let archives: Vec<&String> = files.iter().filter(|name| is_archive(name)).collect();
    for &archive in &archives {
        if !listed.contains_key(archive) {
            fail(archive, format!("archive not listed in {CHECKSUMS}"));
        }
        let sidecar = format!("{archive}.sha256");
        if !files.contains(&sidecar) {
            fail(archive, format!("no {sidecar} beside it"));
        }
    }
    for sidecar in files.iter().filter(|name| name.ends_with(".sha256")) {
        check_sidecar(dir, sidecar, &files, &listed, &mut hashes, &mut fail);
    }
    let by_archive: BTreeMap<&str, &Artifact> =
        artifacts.iter().map(|a| (a.archive.as_str(), a)).collect();
    for artifact in &artifacts {
        let name = artifact.archive.as_str();
        if !files.contains(name) {
            fail(name, format!("listed in {MANIFEST} but missing"));
            continue;
        }
        if let (Some(expected), Ok(actual)) = (&artifact.sha256, hashes.of(name)) {
            if *expected != actual {
                fail(
                    name,
                    format!("its sha256 is {actual} but {MANIFEST} says {expected}"),
                );
            }
        }
        if let (Some(expected), Ok(metadata)) = (artifact.size, std::fs::metadata(dir.join(name))) {
            if metadata.len() != expected {
                fail(
                    name,
                    format!(
                        "its size is {} bytes but {MANIFEST} says {expected}",
                        metadata.len()
                    ),
                );
            }
        }
    }

    // Inside each archive: safe entries, and binaries that pass their target's policy.
    for &archive in &archives {
        report.archives += 1;
        let artifact = by_archive.get(archive.as_str()).copied();
        if artifact.is_none() && !archive.ends_with(".whl") {
            fail(archive, format!("archive not described in {MANIFEST}"));
        }
        let policy =
            artifact.and_then(|a| Policy::for_target(&a.target.parse().ok()?, glibc_floor));
        // Release archives hold one top directory named after them; wheels have none.
        let top_dir = (!archive.ends_with(".whl")).then(|| archive_stem(archive).to_owned());
        let mut inspector = Inspector {
            archive,
            top_dir: top_dir.as_deref(),
            policy,
            entries: BTreeSet::new(),
            binaries: 0,
            fail: &mut fail,
        };
        let read = if archive.ends_with(".zip") || archive.ends_with(".whl") {
            inspector.read_zip(&dir.join(archive))
        } else {
            inspector.read_tar_gz(&dir.join(archive))
        };
        if let Err(err) = read {
            (inspector.fail)(archive, format!("cannot read the archive ({err})"));
            continue;
        }
        report.binaries += inspector.binaries;
        let entries = std::mem::take(&mut inspector.entries);
        for path in artifact.iter().flat_map(|a| &a.binary_paths) {
            if !entries.contains(path) {
                fail(
                    archive,
                    format!("{MANIFEST} lists the binary {path} but the archive does not hold it"),
                );
            }
        }
    }
    Ok(report)
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

fn is_archive(name: &str) -> bool {
    [".tar.gz", ".tgz", ".zip", ".whl"]
        .iter()
        .any(|ext| name.ends_with(ext))
}

/// `linkaudit-x86_64-unknown-linux-gnu.tar.gz` -> `linkaudit-x86_64-unknown-linux-gnu`.
fn archive_stem(name: &str) -> &str {
    [".tar.gz", ".tgz", ".zip", ".whl"]
        .iter()
        .find_map(|ext| name.strip_suffix(ext))
        .unwrap_or(name)
}

/// sha256 of the files in the release directory, each read once.
struct Hashes<'a> {
    dir: &'a Path,
    known: BTreeMap<String, Result<String, String>>,
}

impl<'a> Hashes<'a> {
    fn new(dir: &'a Path) -> Self {
        Hashes {
            dir,
            known: BTreeMap::new(),
        }
    }

    fn of(&mut self, name: &str) -> Result<String, String> {
        let dir = self.dir;
        self.known
            .entry(name.to_owned())
            .or_insert_with(|| sha256_file(&dir.join(name)).map_err(|err| err.to_string()))
            .clone()
    }
}

pub fn sha256_file(path: &Path) -> io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One `sha256sum` line: `<64 lowercase hex>  <name>` (a `*` instead of the second space marks
/// binary mode, which `sha256sum -c` accepts too).
fn parse_checksum_line(line: &str) -> Option<(&str, &str)> {
    let (hash, rest) = line.split_at_checked(64)?;
    let name = rest
        .strip_prefix("  ")
        .or_else(|| rest.strip_prefix(" *"))?;
    let is_hex = hash
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    (is_hex && !name.is_empty()).then_some((hash, name))
}

/// The `name -> sha256` lines of SHA256SUMS; malformed, duplicate, unsorted or path-like lines fail.
fn parse_checksums(text: &str, fail: &mut impl FnMut(&str, String)) -> BTreeMap<String, String> {
    let mut listed = BTreeMap::new();
    let mut previous: Option<&str> = None;
    for (number, line) in text.lines().enumerate().map(|(i, l)| (i + 1, l)) {
        let Some((hash, name)) = parse_checksum_line(line) else {
            fail(
                CHECKSUMS,
                format!("line {number} is not `<sha256 in lowercase hex>  <file name>`: {line:?}"),
            );
            continue;
        };
        if name.contains('/') || name.contains('\\') || name == ".." || name == "." {
            fail(
                CHECKSUMS,
                format!("line {number} names {name:?}, which is not a file in this directory"),
            );
            continue;
        }
        if previous.is_some_and(|previous| previous >= name) {
            fail(
                CHECKSUMS,
                format!("line {number} ({name}) is out of order or repeated: lines are sorted by file name"),
            );
        }
        previous = Some(name);
        listed.insert(name.to_owned(), hash.to_owned());
    }
    listed
}

/// `<archive>.sha256` holds one line naming its archive, with the hash SHA256SUMS and the file have.
fn check_sidecar(
    dir: &Path,
    sidecar: &str,
    files: &BTreeSet<String>,
    listed: &BTreeMap<String, String>,
    hashes: &mut Hashes,
    fail: &mut impl FnMut(&str, String),
) {
    let archive = sidecar.strip_suffix(".sha256").unwrap_or(sidecar);
    if !files.contains(archive) {
        fail(sidecar, format!("its archive {archive} is missing"));
        return;
    }
    let text = match std::fs::read_to_string(dir.join(sidecar)) {
        Ok(text) => text,
        Err(err) => return fail(sidecar, format!("cannot be read ({err})")),
    };
    let mut lines = text.lines();
    let parsed = match (lines.next().and_then(parse_checksum_line), lines.next()) {
        (Some(parsed), None) => parsed,
        _ => return fail(sidecar, format!("is not one line `<sha256>  {archive}`")),
    };
    let (hash, name) = parsed;
    if name != archive {
        fail(sidecar, format!("names {name:?} instead of {archive}"));
    }
    if let Some(summed) = listed.get(archive) {
        if summed != hash {
            fail(
                sidecar,
                format!("says {hash} but {CHECKSUMS} says {summed} for {archive}"),
            );
        }
    }
    if let Ok(actual) = hashes.of(archive) {
        if actual != hash {
            fail(
                sidecar,
                format!("says {hash} but {archive} has sha256 {actual}"),
            );
        }
    }
}

fn parse_manifest(text: &str) -> Result<(GlibcVersion, Vec<Artifact>), String> {
    let json: serde_json::Value = serde_json::from_str(text).map_err(|err| err.to_string())?;
    let glibc_floor = match json.get("glibc_floor") {
        None | Some(serde_json::Value::Null) => DEFAULT_GLIBC_FLOOR,
        Some(serde_json::Value::String(floor)) => floor.parse()?,
        Some(other) => return Err(format!("glibc_floor is {other}, not a string")),
    };
    let artifacts = json
        .get("artifacts")
        .and_then(|a| a.as_array())
        .ok_or("no `artifacts` array")?;
    let text_field = |value: &serde_json::Value, key: &str| -> Result<String, String> {
        value
            .get(key)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
            .ok_or_else(|| format!("an artifact has no string `{key}`"))
    };
    let artifacts = artifacts
        .iter()
        .map(|artifact| {
            Ok(Artifact {
                target: text_field(artifact, "target")?,
                archive: text_field(artifact, "archive")?,
                size: artifact.get("size").and_then(|s| s.as_u64()),
                sha256: artifact
                    .get("sha256")
                    .and_then(|s| s.as_str())
                    .map(str::to_owned),
                binary_paths: artifact
                    .get("binaries")
                    .and_then(|b| b.as_array())
                    .into_iter()
                    .flatten()
                    .filter_map(|b| b.get("path").and_then(|p| p.as_str()).map(str::to_owned))
                    .collect(),
            })
        })
        .collect::<Result<_, String>>()?;
    Ok((glibc_floor, artifacts))
}

/// Walks the entries of one archive, failing unsafe ones and auditing the binaries.
struct Inspector<'a, F: FnMut(&str, String)> {
    archive: &'a str,
    top_dir: Option<&'a str>,
    policy: Option<Policy>,
    /// The paths of the regular files seen, to match the manifest's `binaries` against.
    entries: BTreeSet<String>,
    binaries: usize,
    fail: &'a mut F,
}

impl<F: FnMut(&str, String)> Inspector<'_, F> {
    fn read_tar_gz(&mut self, path: &Path) -> io::Result<()> {
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(File::open(path)?));
        for entry in archive.entries()? {
            let mut entry = entry?;
            let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let kind = entry.header().entry_type();
            if kind.is_symlink() || kind.is_hard_link() {
                let target = entry
                    .link_name_bytes()
                    .map(|t| String::from_utf8_lossy(&t).into_owned())
                    .unwrap_or_default();
                self.check_link(&name, &target, kind.is_hard_link());
            } else if kind.is_file() {
                self.check_file(&name, &mut entry)?;
            } else if kind.is_dir() {
                self.check_path(&name);
            } else if !kind.is_pax_global_extensions() && !kind.is_pax_local_extensions() {
                self.check_path(&name);
                (self.fail)(
                    self.archive,
                    format!("entry {name} is a {kind:?}, not a file, directory or link"),
                );
            }
        }
        Ok(())
    }

    fn read_zip(&mut self, path: &Path) -> io::Result<()> {
        let mut archive = zip::ZipArchive::new(File::open(path)?).map_err(io::Error::other)?;
        for index in 0..archive.len() {
            let mut entry = archive.by_index(index).map_err(io::Error::other)?;
            let name = entry.name().to_owned();
            // Zip stores a symlink as an entry whose unix mode says link and whose data is the target.
            let is_symlink = entry
                .unix_mode()
                .is_some_and(|mode| mode & 0o170000 == 0o120000);
            if is_symlink {
                let mut target = String::new();
                entry.read_to_string(&mut target)?;
                self.check_link(&name, &target, false);
            } else if entry.is_dir() {
                self.check_path(&name);
            } else {
                self.check_file(&name, &mut entry)?;
            }
        }
        Ok(())
    }

    /// Fails an absolute path, a `..`, or a path outside the top directory. True when safe.
    fn check_path(&mut self, name: &str) -> bool {
        let problem = if name.starts_with('/') || name.starts_with('\\') || has_drive(name) {
            "has an absolute path"
        } else if name.split(['/', '\\']).any(|part| part == "..") {
            "has a `..` component"
        } else if self.top_dir.is_some_and(|top| {
            name.trim_end_matches('/') != top && !name.starts_with(&format!("{top}/"))
        }) {
            "is outside the archive's top directory"
        } else {
            return true;
        };
        let where_ = match self.top_dir {
            Some(top) if problem.contains("top") => format!(" {top}/"),
            _ => String::new(),
        };
        (self.fail)(
            self.archive,
            format!("entry {name:?} {problem}{where_}: unpacking it could write anywhere"),
        );
        false
    }

    /// A link must resolve inside the archive's directory (the top directory, or the archive's
    /// root when it has none). Symlink targets are relative to the link; hard link targets are
    /// archive paths.
    fn check_link(&mut self, name: &str, target: &str, is_hard_link: bool) {
        if !self.check_path(name) {
            return;
        }
        let base = if is_hard_link {
            PathBuf::new()
        } else {
            Path::new(name)
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default()
        };
        let escapes = target.starts_with('/')
            || has_drive(target)
            || match lexical_normalize(&base.join(target)) {
                None => true,
                Some(resolved) => self.top_dir.is_some_and(|top| !resolved.starts_with(top)),
            };
        if escapes {
            (self.fail)(
                self.archive,
                format!("entry {name:?} links to {target:?}, outside the archive's directory"),
            );
        }
    }

    fn check_file(&mut self, name: &str, contents: &mut impl Read) -> io::Result<()> {
        if !self.check_path(name) {
            return Ok(());
        }
        self.entries.insert(name.to_owned());
        let mut data = Vec::new();
        contents.take(MAGIC_LEN as u64).read_to_end(&mut data)?;
        if !looks_like_binary(&data) {
            return Ok(());
        }
        contents.read_to_end(&mut data)?;
        self.binaries += 1;
        let entry = format!("{}!{name}", self.archive);
        match audit_bytes(&data) {
            Err(err) => (self.fail)(&entry, format!("cannot audit this binary: {err}")),
            Ok(audit) => {
                for violation in self.policy.iter().flat_map(|policy| policy.check(&audit)) {
                    (self.fail)(&entry, format!("fails its target's policy: {violation}"));
                }
            }
        }
        Ok(())
    }
}

/// `C:` or `C:\`-style paths are absolute on Windows, where zip archives are unpacked.
fn has_drive(path: &str) -> bool {
    let bytes = path.as_bytes();
    bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':'
}

/// Resolves `.` and `..` without touching the file system; `None` when `..` climbs above the root.
fn lexical_normalize(path: &Path) -> Option<PathBuf> {
    let mut resolved = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => resolved.push(part),
            Component::CurDir => {}
            Component::ParentDir => {
                if !resolved.pop() {
                    return None;
                }
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_lines_parse_like_sha256sum_reads_them() {
        let hash = "a".repeat(64);
        assert_eq!(
            parse_checksum_line(&format!("{hash}  x.tar.gz")),
            Some((hash.as_str(), "x.tar.gz"))
        );
        assert_eq!(
            parse_checksum_line(&format!("{hash} *x.zip")),
            Some((hash.as_str(), "x.zip"))
        );
        assert_eq!(parse_checksum_line(&format!("{hash} x.zip")), None);
        assert_eq!(
            parse_checksum_line(&format!("{}  x.zip", "A".repeat(64))),
            None
        );
        assert_eq!(
            parse_checksum_line(&format!("{}  x.zip", "a".repeat(63))),
            None
        );
        assert_eq!(parse_checksum_line("é"), None);
    }

    #[test]
    fn link_targets_resolve_lexically() {
        let n = |p: &str| lexical_normalize(Path::new(p));
        assert_eq!(n("top/bin/../lib/x"), Some(PathBuf::from("top/lib/x")));
        assert_eq!(n("top/../../etc/passwd"), None);
        assert_eq!(n("top/./a"), Some(PathBuf::from("top/a")));
    }

    #[test]
    fn archive_stems_drop_the_extension() {
        assert_eq!(
            archive_stem("p-x86_64-unknown-linux-gnu.tar.gz"),
            "p-x86_64-unknown-linux-gnu"
        );
        assert_eq!(
            archive_stem("p-x86_64-pc-windows-msvc.zip"),
            "p-x86_64-pc-windows-msvc"
        );
    }
}
