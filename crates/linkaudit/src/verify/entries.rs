//! The entries of one archive, judged as the user's extractor would write them: every path
//! stays inside the archive's directory, no name comes twice, links are resolved through the
//! links before them and may not leave the top directory at any step nor be written through,
//! and every executable (or wheel script, or manifest-listed binary) is a binary of the target
//! that passes its policy. Only the bytes a binary's facts need are held, within [`Limits`].

use super::expect::Expected;
use super::{Limits, Report};
use crate::contract::MANIFEST;
use crate::{audit_bytes, looks_like_binary, Audit, MAGIC_LEN};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Read};

/// Whether a reader goes on to the next entry. `Stop` after a limit was passed: the archive
/// has failed, and reading on would cost what the limit is there to bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Flow {
    Continue,
    Stop,
}

/// One binary of an archive as its SBOM describes it.
pub(super) struct BinaryFacts {
    /// The path inside the archive.
    pub path: String,
    pub sha256: String,
    pub libraries: Vec<String>,
    pub deps: Option<crate::deps::Dependencies>,
}

pub(super) struct Inspector<'a> {
    archive: &'a str,
    expected: &'a Expected,
    limits: Limits,
    report: &'a mut Report,
    /// Every path written so far, normalized (`top/bin`), to refuse a second one.
    seen: BTreeSet<String>,
    /// The regular files, to match the manifest's binaries against.
    files: BTreeSet<String>,
    /// Each symlink (or hard link) and the path it resolves to.
    links: BTreeMap<String, Vec<String>>,
    /// The binaries audited, judged against the policy once every entry is known: a dylib or
    /// DLL shipped later in the archive counts as shipped beside them.
    audited: Vec<(String, Audit)>,
    /// What the archive's SBOM is made from, per binary.
    facts: Vec<BinaryFacts>,
    inflated: u64,
    binaries: usize,
    /// A limit was passed and the rest of the archive was not read.
    stopped: bool,
}

impl<'a> Inspector<'a> {
    pub fn new(
        archive: &'a str,
        expected: &'a Expected,
        limits: Limits,
        report: &'a mut Report,
    ) -> Self {
        Inspector {
            archive,
            expected,
            limits,
            report,
            seen: BTreeSet::new(),
            files: BTreeSet::new(),
            links: BTreeMap::new(),
            audited: Vec::new(),
            facts: Vec::new(),
            inflated: 0,
            binaries: 0,
            stopped: false,
        }
    }

    pub fn fail_archive(&mut self, problem: String) {
        self.report.fail(self.archive, problem);
    }

    fn fail_entry(&mut self, name: &str, problem: String) {
        let file = format!("{}!{name}", self.archive);
        self.report.fail(&file, problem);
    }

    /// The binaries pass their policy, and the manifest's binaries are all there, as regular
    /// files. Returns what the SBOM says of each binary.
    pub fn finish(mut self) -> Vec<BinaryFacts> {
        self.check_policies();
        for path in &self.expected.binaries {
            if !self.stopped && !self.files.contains(path) {
                let problem = format!("{MANIFEST} lists the binary {path} but the archive does not hold it as a regular file");
                self.report.fail(self.archive, problem);
            }
        }
        self.report.binaries += self.binaries;
        self.facts
    }

    /// Counts `size` more inflated bytes; `Stop` past the archive's limit.
    pub fn inflate(&mut self, size: u64) -> Flow {
        self.inflated = self.inflated.saturating_add(size);
        if self.inflated <= self.limits.max_archive_inflated {
            return Flow::Continue;
        }
        self.stopped = true;
        self.fail_archive(format!("inflates to more than {} bytes, the limit: refused, not read further (a larger release needs `--max-entry-size`, which raises this to 8 times the entry limit)", self.limits.max_archive_inflated));
        Flow::Stop
    }

    /// Admits a path: safe, new, and not below a link. Returns its normalized form.
    fn admit(&mut self, name: &str) -> Option<String> {
        let problem = if name.starts_with('/') || has_drive(name) {
            "has an absolute path"
        } else if name.contains('\\') {
            "has a backslash, which Windows extractors take as a separator"
        } else if name.split('/').any(|part| part == "..") {
            "has a `..` component"
        } else if !self.inside(&components(name)) {
            "is outside the archive's top directory"
        } else {
            ""
        };
        if !problem.is_empty() {
            let top = match (&self.expected.top_dir, problem.contains("top")) {
                (Some(top), true) => format!(" {top}/"),
                _ => String::new(),
            };
            self.fail_archive(format!(
                "entry {name:?} {problem}{top}: unpacking it could write anywhere"
            ));
            return None;
        }
        let parts = components(name);
        let key = parts.join("/");
        if let Some(link) = (1..parts.len())
            .map(|n| parts[..n].join("/"))
            .find(|p| self.links.contains_key(p))
        {
            self.fail_entry(&key, format!("is written through the link {link}: an extractor would write wherever the link points"));
            return None;
        }
        if !self.seen.insert(key.clone()) {
            self.fail_entry(&key, "appears twice in the archive: extractors keep the last one, so the first is not what gets installed; the release writer writes each name once".into());
            return None;
        }
        Some(key)
    }

    /// Inside the top directory (or anywhere below the root for an archive without one).
    fn inside(&self, parts: &[String]) -> bool {
        match &self.expected.top_dir {
            Some(top) => parts.first() == Some(top),
            None => !parts.is_empty(),
        }
    }

    pub fn directory(&mut self, name: &str) {
        self.admit(name);
    }

    /// Any entry that is not a file, directory or link (device, FIFO...).
    pub fn other(&mut self, name: &str, kind: &str) {
        if let Some(key) = self.admit(name) {
            self.fail_entry(&key, format!("is a {kind}, not a file, directory or link"));
        }
    }

    /// A symlink's target is relative to the link's directory; a hard link's is an archive path.
    /// Resolved through the links before it, it must stay inside at every step.
    pub fn link(&mut self, name: &str, target: &str, is_hard_link: bool) {
        let Some(key) = self.admit(name) else { return };
        let mut at: Vec<String> = if is_hard_link {
            Vec::new()
        } else {
            let mut parent = components(&key);
            parent.pop();
            parent
        };
        let escapes = target.starts_with('/') || has_drive(target) || target.contains('\\') || {
            let mut escaped = false;
            for part in target.split('/') {
                match part {
                    "" | "." => continue,
                    ".." => escaped |= at.pop().is_none(),
                    part => {
                        at.push(part.to_owned());
                        if let Some(resolved) = self.links.get(&at.join("/")) {
                            at = resolved.clone();
                        }
                    }
                }
                escaped |= !self.inside(&at);
                if escaped {
                    break;
                }
            }
            escaped
        };
        if escapes {
            let problem = format!("entry {key:?} links to {target:?}, outside the archive's directory (resolved through the links before it)");
            self.fail_archive(problem);
            return;
        }
        self.links.insert(key, at);
    }

    /// A regular file of `declared` bytes. Binaries (and every file that must be one) are read
    /// whole, up to the entry limit; anything else only as far as its magic number.
    pub fn file(
        &mut self,
        name: &str,
        mode: Option<u32>,
        declared: u64,
        contents: &mut dyn Read,
    ) -> io::Result<Flow> {
        let Some(key) = self.admit(name) else {
            return Ok(self.inflate(declared));
        };
        self.files.insert(key.clone());
        let max = self.limits.max_entry_size;
        if declared > max {
            self.fail_entry(&key, format!("inflates to {declared} bytes, above the limit of {max} per entry: refused, not read (raise it with `--max-entry-size`)"));
            self.stopped = true;
            return Ok(Flow::Stop);
        }
        if self.inflate(declared) == Flow::Stop {
            return Ok(Flow::Stop);
        }
        let executable = mode.is_some_and(|mode| mode & 0o111 != 0);
        let in_scripts = self
            .expected
            .scripts_dir
            .as_ref()
            .is_some_and(|dir| key.starts_with(dir.as_str()));
        let must_be_binary = executable || in_scripts || self.expected.binaries.contains(&key);
        let mut data = Vec::new();
        (&mut *contents)
            .take(MAGIC_LEN as u64)
            .read_to_end(&mut data)?;
        if !looks_like_binary(&data) {
            if must_be_binary {
                let why = if in_scripts {
                    "is in the wheel's scripts directory"
                } else if executable {
                    "is executable"
                } else {
                    "is listed as a binary in the manifest"
                };
                self.fail_entry(&key, format!("{why} but is not a binary (a script or other file): only binaries of the target are shipped; the manifest has no field that lists scripts, so none is accepted"));
            }
            return Ok(Flow::Continue);
        }
        data.reserve_exact(declared.saturating_sub(data.len() as u64) as usize);
        (&mut *contents)
            .take(max.saturating_add(1).saturating_sub(data.len() as u64))
            .read_to_end(&mut data)?;
        if data.len() as u64 > declared.max(MAGIC_LEN as u64) {
            self.fail_entry(&key, format!("inflates to more than the {declared} bytes its header declares: the archive's headers disagree"));
            self.stopped = true;
            return Ok(Flow::Stop);
        }
        self.binaries += 1;
        self.judge(&key, &data);
        Ok(Flow::Continue)
    }

    /// A binary: of the target's format and architecture, and passing its policy.
    fn judge(&mut self, key: &str, data: &[u8]) {
        let audit = match audit_bytes(data) {
            Ok(audit) => audit,
            Err(err) => return self.fail_entry(key, format!("cannot audit this binary: {err}")),
        };
        if let Some(target) = &self.expected.target {
            let format = target.binary_format();
            if format.is_some_and(|format| audit.format != format) {
                let problem = format!(
                    "is in {} format but its target {target} runs {} binaries",
                    audit.format,
                    format.expect("checked just above")
                );
                self.fail_entry(key, problem);
            } else if !target.runs_arch(&audit.arch) {
                let problem = format!(
                    "is built for {} but its target {target} is {}",
                    audit.arch, target.arch
                );
                self.fail_entry(key, problem);
            }
        }
        self.read_dependencies(key, data, &audit);
        self.audited.push((key.to_owned(), audit));
    }

    /// The embedded dependency list: a binary without one is a warning (built without
    /// cargo-auditable), one that cannot be read a failure (its bytes were changed).
    fn read_dependencies(&mut self, key: &str, data: &[u8], audit: &Audit) {
        let deps = match crate::deps::read_bytes(data) {
            Ok(Some(deps)) => Some(deps),
            Ok(None) => {
                let file = format!("{}!{key}", self.archive);
                self.report.warn(&file, "has no embedded dependency list (no .dep-v0 section): build it with cargo-auditable (`cargo xtask dist` does) so that `cargo audit bin` and SBOMs can tell which crates it holds".into());
                None
            }
            Err(err) => {
                self.fail_entry(key, err.to_string());
                None
            }
        };
        self.facts.push(BinaryFacts {
            path: key.to_owned(),
            sha256: crate::contract::checksums::sha256_hex(data),
            libraries: audit
                .needed
                .iter()
                .chain(&audit.delay_load)
                .cloned()
                .collect(),
            deps,
        });
    }

    /// Every binary against the target's policy. A library counts as shipped beside a binary
    /// when a regular file of that name (compared case-insensitively, as Windows does) is
    /// anywhere in the archive.
    fn check_policies(&mut self) {
        let shipped: BTreeSet<String> = self
            .files
            .iter()
            .map(|path| path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase())
            .collect();
        let is_shipped = |name: &str| shipped.contains(&name.to_ascii_lowercase());
        for (key, audit) in std::mem::take(&mut self.audited) {
            for violation in self.expected.policy.check_beside(&audit, &is_shipped) {
                self.fail_entry(&key, format!("fails its target's policy: {violation}"));
            }
        }
    }
}

/// The normal components of an archive path: `./top//bin/` -> `top`, `bin`.
fn components(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .map(str::to_owned)
        .collect()
}

/// `C:` or `C:\`-style paths are absolute on Windows, where zip archives are unpacked.
fn has_drive(path: &str) -> bool {
    let bytes = path.as_bytes();
    bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':'
}
