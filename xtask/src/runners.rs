//! Which GitHub Actions runner builds each target, and which one starts (smoke-runs) it when its
//! build runner cannot: the one table of default labels, the dated list of retired labels, and
//! the overrides of `[workspace.metadata.dist.runners]` / `[workspace.metadata.dist.smoke-runners]`,
//! so that the next image retirement is fixed in Cargo.toml, not here (cargo-dist's custom
//! runners work the same way).

use anyhow::{bail, Result};
use std::collections::BTreeMap;
use std::fmt;

/// The operating system of a target or of a runner.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Os {
    Linux,
    Windows,
    Macos,
}

impl Os {
    /// The key of `[workspace.metadata.dist.runners]` for this OS.
    pub fn key(self) -> &'static str {
        match self {
            Os::Linux => "linux",
            Os::Windows => "windows",
            Os::Macos => "macos",
        }
    }
}

/// The CPU a runner has: only these two exist among GitHub-hosted runners.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Arch {
    X86_64,
    Aarch64,
}

/// Current GitHub-hosted labels, checked against actions/runner-images' README (snapshot of
/// 2026-08-21) on 2026-11-24. A build job of an OS runs on the first entry of that OS (builds
/// cross-compile to the other arch); a smoke job runs on the entry of the target's own OS and arch.
/// x86_64 Apple is started on `macos-15-intel`, not under Rosetta 2 on the arm64 `macos-15`, so
/// that the smoke run does not depend on an emulator the image may drop.
const DEFAULT_RUNNERS: &[(Os, Arch, &str)] = &[
    (Os::Linux, Arch::X86_64, "ubuntu-24.04"),
    (Os::Linux, Arch::Aarch64, "ubuntu-24.04-arm"),
    (Os::Windows, Arch::X86_64, "windows-2022"),
    (Os::Windows, Arch::Aarch64, "windows-11-arm"),
    (Os::Macos, Arch::Aarch64, "macos-15"),
    (Os::Macos, Arch::X86_64, "macos-15-intel"),
];

/// GitHub-hosted labels that no longer get a runner, with the date GitHub removed the image
/// (runner-images announcements: #13518 for macOS 14; the earlier ones from their deprecation
/// notices). A job asking for one waits in the queue and fails.
pub const RETIRED: &[(&str, &str)] = &[
    ("ubuntu-18.04", "2023-04-03"),
    ("ubuntu-20.04", "2025-04-15"),
    ("windows-2019", "2025-06-30"),
    ("macos-11", "2024-06-28"),
    ("macos-12", "2024-12-03"),
    ("macos-13", "2025-12-04"),
    ("macos-14", "2026-11-02"),
];

/// Labels a maintainer may write besides the defaults (runner-images README, 2026-08-21); used
/// for the "did you mean" of a misspelled label.
const OTHER_HOSTED: &[&str] = &[
    "ubuntu-latest",
    "ubuntu-22.04",
    "ubuntu-22.04-arm",
    "ubuntu-26.04",
    "ubuntu-26.04-arm",
    "ubuntu-slim",
    "windows-latest",
    "windows-2025",
    "windows-2025-vs2026",
    "windows-11-vs2026-arm",
    "macos-latest",
    "macos-26",
    "macos-26-intel",
    "macos-15-large",
    "macos-15-xlarge",
];

/// A `runs-on` label, checked for shape when it claims to be a GitHub-hosted one.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RunnerLabel(String);

impl RunnerLabel {
    /// Accepts GitHub-hosted labels of a known shape and any label of another family (larger
    /// or self-hosted runners have names of their owner's choosing). A label whose family is
    /// `ubuntu`, `windows` or `macos`, or one or two letters away from it, must have a hosted
    /// label's shape: `ubunut-24.04` or `macos-15-arm` is a typo, not a self-hosted runner.
    pub fn parse(text: &str) -> Result<RunnerLabel> {
        let family = text.split('-').next().unwrap_or_default();
        let hosted_family = ["ubuntu", "windows", "macos"]
            .iter()
            .any(|known| edit_distance(&family.to_ascii_lowercase(), known) <= 2);
        let well_formed = !text.is_empty()
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b));
        if !well_formed || (hosted_family && !hosted_shape(text)) {
            bail!(
                "`{text}` is not a GitHub runner label; did you mean `{}`? (labels: \
                 github.com/actions/runner-images#available-images)",
                nearest(text)
            );
        }
        Ok(RunnerLabel(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The date GitHub removed this label's image, when it did.
    pub fn retired_on(&self) -> Option<&'static str> {
        let base = self
            .0
            .trim_end_matches("-xlarge")
            .trim_end_matches("-large");
        RETIRED
            .iter()
            .find(|(label, _)| *label == base)
            .map(|(_, date)| *date)
    }
}

impl fmt::Display for RunnerLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `ubuntu-24.04[-arm]`, `ubuntu-latest`, `ubuntu-slim`, `windows-2022`, `windows-2025[-vs2026]`,
/// `windows-latest`, `windows-11[-vs2026]-arm`, `macos-15[-intel|-large|-xlarge]`, `macos-latest`.
fn hosted_shape(label: &str) -> bool {
    let parts: Vec<&str> = label.split('-').collect();
    let year =
        |s: &str| s.len() == 4 && s.starts_with("20") && s.bytes().all(|b| b.is_ascii_digit());
    let ubuntu_version = |s: &str| {
        s.len() == 5 && s.as_bytes()[2] == b'.' && s.bytes().filter(u8::is_ascii_digit).count() == 4
    };
    let macos_version =
        |s: &str| !s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit());
    match parts.as_slice() {
        ["ubuntu", "latest" | "slim"] => true,
        ["ubuntu", v] | ["ubuntu", v, "arm"] => ubuntu_version(v),
        ["windows", "latest"] | ["windows", "11", "arm"] | ["windows", "11", "vs2026", "arm"] => {
            true
        }
        ["windows", y] | ["windows", y, "vs2026"] => year(y),
        ["macos", "latest"] | ["macos", "latest", "large" | "xlarge"] => true,
        ["macos", v] | ["macos", v, "intel" | "large" | "xlarge"] => macos_version(v),
        _ => false,
    }
}

/// The current label closest in spelling to `text`.
fn nearest(text: &str) -> &'static str {
    DEFAULT_RUNNERS
        .iter()
        .map(|(_, _, label)| *label)
        .chain(OTHER_HOSTED.iter().copied())
        .min_by_key(|label| edit_distance(&text.to_ascii_lowercase(), label))
        .unwrap_or("ubuntu-24.04")
}

/// Levenshtein distance: labels are short, so the quadratic table is nothing.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != *cb);
            current.push(substitute.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

/// The default table with the workspace's overrides: keys are an OS (`linux`, `windows`,
/// `macos`: the runner that builds that OS's targets) or a target triple (the runner that builds,
/// or in `smoke`, starts that target).
#[derive(Clone, Debug, Default)]
pub struct Runners {
    pub build: BTreeMap<String, RunnerLabel>,
    pub smoke: BTreeMap<String, RunnerLabel>,
}

impl Runners {
    /// Checks the keys and labels of the two metadata tables.
    pub fn from_config(
        build: &BTreeMap<String, String>,
        smoke: &BTreeMap<String, String>,
    ) -> Result<Runners> {
        let parse = |table: &str, map: &BTreeMap<String, String>, os_keys: bool| {
            map.iter()
                .map(|(key, label)| {
                    let is_os = os_keys && ["linux", "windows", "macos"].contains(&key.as_str());
                    if !is_os && key.split('-').count() < 2 {
                        bail!(
                            "[workspace.metadata.dist.{table}] key `{key}` is neither an OS \
                             (linux, windows, macos) nor a target triple: rename it"
                        );
                    }
                    let label = RunnerLabel::parse(label).map_err(|err| {
                        anyhow::anyhow!("[workspace.metadata.dist.{table}] {key}: {err}")
                    })?;
                    Ok((key.clone(), label))
                })
                .collect::<Result<BTreeMap<_, _>>>()
        };
        Ok(Runners {
            build: parse("runners", build, true)?,
            smoke: parse("smoke-runners", smoke, false)?,
        })
    }

    /// The runner of a build job on `os` for `target`: the target's override, the OS's, or the
    /// default (the first entry of that OS in the table).
    pub fn build_runner(&self, os: Os, target: &str) -> RunnerLabel {
        self.build
            .get(target)
            .or_else(|| self.build.get(os.key()))
            .cloned()
            .unwrap_or_else(|| default_runner(os, None))
    }

    /// The runner that starts a `target` binary of this OS and arch.
    pub fn smoke_runner(&self, os: Os, arch: Arch, target: &str) -> RunnerLabel {
        self.smoke
            .get(target)
            .cloned()
            .unwrap_or_else(|| default_runner(os, Some(arch)))
    }

    /// Every label in use that GitHub has retired, as (label, date) pairs.
    pub fn retired(&self) -> Vec<(&RunnerLabel, &'static str)> {
        self.build
            .values()
            .chain(self.smoke.values())
            .filter_map(|label| Some((label, label.retired_on()?)))
            .collect()
    }
}

fn default_runner(os: Os, arch: Option<Arch>) -> RunnerLabel {
    let (_, _, label) = DEFAULT_RUNNERS
        .iter()
        .find(|(o, a, _)| *o == os && arch.is_none_or(|arch| *a == arch))
        .expect("the table has a runner of every OS and arch");
    RunnerLabel((*label).to_owned())
}

/// The default label of a build job on `os`, before any override.
pub fn default_build_label(os: Os) -> &'static str {
    DEFAULT_RUNNERS
        .iter()
        .find(|(o, _, _)| *o == os)
        .map(|(_, _, label)| *label)
        .expect("the table has a runner of every OS")
}

/// The arch a default-table label runs on, for labels this file knows (overrides of other
/// families are assumed to match the arch they stand in for).
pub fn label_arch(label: &RunnerLabel, fallback: Arch) -> Arch {
    let l = label.as_str();
    if l.ends_with("-arm") || l == "macos-15" || l == "macos-26" || l == "macos-latest" {
        Arch::Aarch64
    } else if l.starts_with("ubuntu-") || l.starts_with("windows-") || l.ends_with("-intel") {
        Arch::X86_64
    } else {
        fallback
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosted_labels_of_today_parse() {
        for (_, _, label) in DEFAULT_RUNNERS {
            assert!(RunnerLabel::parse(label).is_ok(), "{label}");
        }
        for label in OTHER_HOSTED {
            assert!(RunnerLabel::parse(label).is_ok(), "{label}");
        }
        // Larger and self-hosted runners have names of their owner's choosing.
        assert!(RunnerLabel::parse("buildjet-8vcpu-ubuntu-2204").is_ok());
    }

    #[test]
    fn misspelled_labels_name_the_nearest_current_one() {
        for (typo, nearest) in [
            ("ubunut-24.04", "ubuntu-24.04"),
            ("ubuntu-2404", "ubuntu-24.04"),
            ("macos15", "macos-15"),
            ("windows-11-arm64", "windows-11-arm"),
            ("macOS 15", "macos-15"),
        ] {
            let err = RunnerLabel::parse(typo).unwrap_err().to_string();
            assert!(
                err.contains(&format!("did you mean `{nearest}`")),
                "{typo}: {err}"
            );
            assert!(!err.contains('\n'));
        }
    }

    #[test]
    fn retired_labels_carry_their_date() {
        let label = RunnerLabel::parse("macos-14-xlarge").unwrap();
        assert_eq!(label.retired_on(), Some("2026-11-02"));
        assert_eq!(RunnerLabel::parse("macos-15").unwrap().retired_on(), None);
        for (label, _) in RETIRED {
            assert!(RunnerLabel::parse(label).is_ok(), "{label}");
        }
    }

    #[test]
    fn target_overrides_beat_os_overrides_beat_defaults() {
        let map = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let runners = Runners::from_config(
            &map(&[
                ("macos", "macos-26"),
                ("x86_64-apple-darwin", "macos-15-intel"),
            ]),
            &map(&[("aarch64-pc-windows-msvc", "windows-11-vs2026-arm")]),
        )
        .unwrap();
        assert_eq!(
            runners
                .build_runner(Os::Macos, "aarch64-apple-darwin")
                .as_str(),
            "macos-26"
        );
        assert_eq!(
            runners
                .build_runner(Os::Macos, "x86_64-apple-darwin")
                .as_str(),
            "macos-15-intel"
        );
        assert_eq!(
            runners.build_runner(Os::Linux, "x").as_str(),
            "ubuntu-24.04"
        );
        assert_eq!(
            runners
                .smoke_runner(Os::Windows, Arch::Aarch64, "aarch64-pc-windows-msvc")
                .as_str(),
            "windows-11-vs2026-arm"
        );
        assert_eq!(
            runners
                .smoke_runner(Os::Macos, Arch::X86_64, "x86_64-apple-darwin")
                .as_str(),
            "macos-15-intel"
        );
        let err = Runners::from_config(&map(&[("mac", "macos-15")]), &map(&[])).unwrap_err();
        assert!(err.to_string().contains("neither an OS"), "{err}");
    }
}
