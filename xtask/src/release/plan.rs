//! What the release workflow does for one run, decided once from Cargo.toml: the version, tag,
//! title and pre-release flag; the build matrix (each target on the runner of its build method);
//! where each binary is first started; and whether the wheels go to PyPI. `cargo xtask plan`
//! prints it as JSON and the workflow reads it with `fromJSON`; `cargo xtask release --dry-run`
//! follows the same plan here.

use super::version::{check_tag, shipped_version, Tag, Version};
use crate::runners::{label_arch, Arch, Os};
use crate::workspace::config::Workspace;
use crate::workspace::target::{BuildMethod, TargetTriple};
use anyhow::{bail, Context, Result};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct ReleasePlan {
    /// The version every shipped package has; the archives, wheels and install.sh carry it.
    pub version: String,
    /// `v<version>`: the given tag, or the one a release of this commit would have.
    pub tag: String,
    /// A tag was given: the workflow publishes (a run without one is a dry run).
    pub publish: bool,
    /// The version has a SemVer pre-release part: a GitHub pre-release, never "Latest".
    pub prerelease: bool,
    pub title: String,
    /// Whether the wheels go to PyPI for this version: `wheels` is on, and the version is no
    /// pre-release unless `pypi-prereleases = true` (the repository variable PYPI_PUBLISH still
    /// has to be "true").
    pub pypi: bool,
    /// The `strategy.matrix` of the build jobs.
    pub build: Matrix<BuildJob>,
    /// The `strategy.matrix` of the smoke jobs: targets the build runner cannot start.
    pub smoke: Matrix<SmokeJob>,
    /// `smoke.include` is not empty (GitHub refuses a job with an empty matrix).
    pub any_smoke: bool,
    /// Targets whose binaries no job starts, and why.
    pub not_started: Vec<NotStarted>,
}

/// `{"include": [...]}`: the shape of a GitHub Actions `strategy.matrix`.
#[derive(Debug, Serialize)]
pub struct Matrix<T> {
    pub include: Vec<T>,
}

#[derive(Debug, Serialize)]
pub struct BuildJob {
    pub target: String,
    /// The `runs-on` label.
    pub runner: String,
    /// `cargo-zigbuild`, `msvc` or `cargo`: informative (the build job always runs
    /// `cargo xtask dist --target T`, which picks the method itself).
    pub build: &'static str,
    /// Where the binaries are first started: `build job`, `build job (qemu-user)` or
    /// `smoke job`, or `nowhere` (see not_started).
    pub started: &'static str,
}

#[derive(Debug, Serialize)]
pub struct SmokeJob {
    pub target: String,
    pub runner: String,
}

#[derive(Debug, Serialize)]
pub struct NotStarted {
    pub target: String,
    pub reason: String,
}

impl ReleasePlan {
    /// The plan for `tag` (a publishing run) or for no tag (a dry run). Returns warnings to
    /// print: a retired runner label is a warning on a dry run and an error on a release.
    pub fn new(ws: &Workspace, tag: Option<&Tag>) -> Result<(ReleasePlan, Vec<String>)> {
        let version = shipped_version(&ws.packages)?;
        if let Some(tag) = tag {
            check_tag(tag, &version)?;
        }
        let mut warnings = Vec::new();
        for (label, date) in ws.runners.retired() {
            let problem = format!(
                "runner label `{label}` in [workspace.metadata.dist] was retired by GitHub on \
                 {date}: jobs asking for it get no runner; set a current label there (see \
                 github.com/actions/runner-images#available-images)"
            );
            if tag.is_some() {
                bail!(problem);
            }
            warnings.push(problem);
        }
        let (build, smoke, not_started) = jobs(ws)?;
        let names: Vec<&str> = ws.packages.iter().map(|p| p.name.as_str()).collect();
        let plan = ReleasePlan {
            tag: format!("v{version}"),
            publish: tag.is_some(),
            prerelease: version.is_prerelease(),
            title: format!("{} {version}", names.join(", ")),
            pypi: ws.wheels && (!version.is_prerelease() || ws.pypi_prereleases),
            any_smoke: !smoke.is_empty(),
            build: Matrix { include: build },
            smoke: Matrix { include: smoke },
            not_started,
            version: version.to_string(),
        };
        Ok((plan, warnings))
    }

    pub fn version(&self) -> Version {
        Version::parse(&self.version).expect("checked when the plan was made")
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("the plan serializes")
    }
}

type Jobs = (Vec<BuildJob>, Vec<SmokeJob>, Vec<NotStarted>);

fn jobs(ws: &Workspace) -> Result<Jobs> {
    let (mut build, mut smoke, mut not_started) = (Vec::new(), Vec::new(), Vec::new());
    for triple in &ws.targets {
        let method =
            BuildMethod::for_target(triple).context("in [workspace.metadata.dist] targets")?;
        let runner = ws.runners.build_runner(method.os(), triple.as_str());
        // A build job's runner is x86_64 unless its label says otherwise (macos-15 is arm64).
        let default_arch = if method.os() == Os::Macos {
            Arch::Aarch64
        } else {
            Arch::X86_64
        };
        let runner_arch = label_arch(&runner, default_arch);
        let started = match os_arch(triple) {
            // dist's smoke step starts foreign-arch Linux binaries under qemu-user, which the
            // Linux build job installs.
            _ if triple.is_linux() && method.os() == Os::Linux => {
                if os_arch(triple) == Some((Os::Linux, runner_arch)) {
                    "build job"
                } else {
                    "build job (qemu-user)"
                }
            }
            Some((os, arch)) if os == method.os() && arch == runner_arch => "build job",
            Some((os, arch)) => {
                let label = ws.runners.smoke_runner(os, arch, triple.as_str());
                smoke.push(SmokeJob {
                    target: triple.to_string(),
                    runner: label.to_string(),
                });
                "smoke job"
            }
            None => {
                not_started.push(NotStarted {
                    target: triple.to_string(),
                    reason: format!(
                        "the runner table (xtask/src/runners.rs) has no runner for {} binaries of \
                         this OS and its build runner {runner} cannot start them",
                        triple.arch()
                    ),
                });
                "nowhere"
            }
        };
        build.push(BuildJob {
            target: triple.to_string(),
            runner: runner.to_string(),
            build: method.as_str(),
            started,
        });
    }
    Ok((build, smoke, not_started))
}

/// The OS and CPU a target's binaries need, when a GitHub-hosted runner has them.
fn os_arch(triple: &TargetTriple) -> Option<(Os, Arch)> {
    let os = if triple.is_linux() {
        Os::Linux
    } else if triple.is_windows() {
        Os::Windows
    } else if triple.is_apple() {
        Os::Macos
    } else {
        return None;
    };
    let arch = match triple.arch() {
        linkaudit::target::Arch::X86_64 => Arch::X86_64,
        linkaudit::target::Arch::Aarch64 => Arch::Aarch64,
        _ => return None,
    };
    Some((os, arch))
}
