//! The release matrix from `[workspace.metadata.dist]`, and the packages and binaries that ship,
//! from `cargo metadata`. Nothing in the xtask names a product crate.

use super::target::TargetTriple;
use anyhow::{bail, Context, Result};
use linkaudit::{GlibcVersion, OsVersion};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use xshell::{cmd, Shell};

/// The defaults, also written out in the root Cargo.toml so that maintainers see them.
const DEFAULT_TARGETS: &[&str] = &[
    "x86_64-unknown-linux-gnu",
    "aarch64-unknown-linux-gnu",
    "x86_64-unknown-linux-musl",
    "aarch64-unknown-linux-musl",
    "x86_64-pc-windows-msvc",
    "aarch64-pc-windows-msvc",
    "x86_64-apple-darwin",
    "aarch64-apple-darwin",
];
const DEFAULT_INCLUDE: &[&str] = &["README.md", "LICENSE"];

/// `[workspace.metadata.dist]` as written; every key optional. Unknown keys are errors, so that a
/// typo (`glibc_floor`) does not silently fall back to a default.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawDistConfig {
    targets: Option<Vec<String>>,
    glibc_floor: Option<String>,
    macos_floor: Option<String>,
    build_on_macos: Option<Vec<String>>,
    include: Option<Vec<String>>,
    packages: Option<Vec<String>>,
    wheels: Option<bool>,
    /// Runner overrides by OS or target triple, checked by crate::runners.
    runners: Option<std::collections::BTreeMap<String, String>>,
    smoke_runners: Option<std::collections::BTreeMap<String, String>>,
    pypi_prereleases: Option<bool>,
}

/// A package that ships, with its binaries.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Package {
    pub name: String,
    pub version: String,
    pub binaries: Vec<String>,
    /// Cargo.toml's `repository`: install.sh downloads from its GitHub releases.
    pub repository: Option<String>,
    /// Cargo.toml's `description`, `homepage`, `license` and `readme` (absolute): the wheels'
    /// metadata.
    pub description: Option<String>,
    pub homepage: Option<String>,
    pub license: Option<String>,
    pub readme: Option<PathBuf>,
    /// `[package.metadata.binstall]` as written: workspace/binstall.rs checks it against the
    /// archives.
    pub binstall: Option<serde_json::Value>,
}

/// Everything the run needs to know about the workspace.
#[derive(Debug)]
pub struct Workspace {
    pub root: PathBuf,
    pub target_dir: PathBuf,
    pub targets: Vec<TargetTriple>,
    pub glibc_floor: GlibcVersion,
    /// `macos-floor`: `MACOSX_DEPLOYMENT_TARGET` of every Apple build; unset, each Apple target
    /// keeps Rust's default (10.12 x86_64, 11.0 aarch64).
    pub macos_floor: Option<OsVersion>,
    /// `build-on-macos`: Apple targets built natively on the macOS runner. The others build here
    /// through cargo-zigbuild, without Apple's SDK.
    pub build_on_macos: Vec<TargetTriple>,
    /// Files copied next to the binaries, absolute paths (checked to exist).
    pub include: Vec<PathBuf>,
    pub packages: Vec<Package>,
    /// `wheels = true`: also write Python wheels; `--wheels` turns them on per run.
    pub wheels: bool,
    /// The build and smoke runners: defaults with `runners` / `smoke-runners` applied.
    pub runners: crate::runners::Runners,
    /// `pypi-prereleases = true`: the release workflow also uploads pre-releases to PyPI.
    pub pypi_prereleases: bool,
}

// The parts of `cargo metadata --format-version 1` we read, typed through serde. The
// cargo_metadata crate would add six crates to the xtask's first compile (camino, semver,
// cargo-platform, thiserror and its proc macro, itself) for the ten fields read here.
#[derive(Deserialize)]
struct Metadata {
    packages: Vec<MetaPackage>,
    workspace_members: Vec<String>,
    workspace_root: PathBuf,
    target_directory: PathBuf,
    #[serde(default)]
    metadata: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct MetaPackage {
    id: String,
    name: String,
    version: String,
    /// `Some([])` means `publish = false`.
    publish: Option<Vec<String>>,
    targets: Vec<MetaTarget>,
    #[serde(default)]
    repository: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    homepage: Option<String>,
    #[serde(default)]
    license: Option<String>,
    /// Relative to the package's manifest.
    #[serde(default)]
    readme: Option<PathBuf>,
    manifest_path: PathBuf,
    #[serde(default)]
    metadata: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct MetaTarget {
    name: String,
    kind: Vec<String>,
}

impl Workspace {
    /// Reads the workspace around the current directory.
    pub fn load(sh: &Shell) -> Result<Workspace> {
        let cargo = cargo_program();
        let json = cmd!(sh, "{cargo} metadata --format-version 1 --no-deps")
            .quiet()
            .read()
            .context("reading the workspace with `cargo metadata` (run cargo xtask inside a Cargo workspace)")?;
        Workspace::from_metadata_json(&json)
    }

    fn from_metadata_json(json: &str) -> Result<Workspace> {
        let meta: Metadata =
            serde_json::from_str(json).context("parsing the output of `cargo metadata`")?;
        let raw = match meta.metadata.as_ref().and_then(|m| m.get("dist")) {
            Some(table) => RawDistConfig::deserialize(table).map_err(|err| {
                anyhow::anyhow!(
                    "malformed [workspace.metadata.dist] in {}: {err}; keys are targets, \
                     glibc-floor, macos-floor, build-on-macos, include, packages, wheels, runners, \
                     smoke-runners and pypi-prereleases",
                    meta.workspace_root.join("Cargo.toml").display()
                )
            })?,
            None => RawDistConfig::default(),
        };
        let targets = match &raw.targets {
            Some(list) if list.is_empty() => {
                bail!("[workspace.metadata.dist] targets is empty: list at least one target triple")
            }
            Some(list) => list
                .iter()
                .map(|t| TargetTriple::parse(t))
                .collect::<Result<_>>(),
            None => DEFAULT_TARGETS
                .iter()
                .map(|t| TargetTriple::parse(t))
                .collect(),
        }
        .context("in [workspace.metadata.dist] targets")?;
        let floors = super::floors::OsFloors::from_config(
            raw.glibc_floor.as_deref(),
            raw.macos_floor.as_deref(),
            raw.build_on_macos.as_deref(),
        )?;
        let include = resolve_include(&meta.workspace_root, raw.include.as_deref())?;
        let packages = shipping_packages(&meta, raw.packages.as_deref())?;
        let runners = crate::runners::Runners::from_config(
            &raw.runners.unwrap_or_default(),
            &raw.smoke_runners.unwrap_or_default(),
        )?;
        Ok(Workspace {
            root: meta.workspace_root,
            target_dir: meta.target_directory,
            targets,
            glibc_floor: floors.glibc,
            macos_floor: floors.macos,
            build_on_macos: floors.build_on_macos,
            include,
            packages,
            wheels: raw.wheels.unwrap_or(false),
            runners,
            pypi_prereleases: raw.pypi_prereleases.unwrap_or(false),
        })
    }
}

/// The cargo that runs us (`cargo xtask` sets `CARGO`), so a pinned toolchain stays pinned.
pub fn cargo_program() -> PathBuf {
    std::env::var_os("CARGO").map_or_else(|| "cargo".into(), PathBuf::from)
}

fn resolve_include(root: &Path, include: Option<&[String]>) -> Result<Vec<PathBuf>> {
    let names: Vec<&str> = match include {
        Some(list) => list.iter().map(String::as_str).collect(),
        None => DEFAULT_INCLUDE.to_vec(),
    };
    let mut seen = std::collections::BTreeSet::new();
    let mut files = Vec::new();
    for name in names {
        let path = root.join(name);
        if !path.is_file() {
            bail!(
                "[workspace.metadata.dist] include names `{name}`, which is not a file in {}: \
                 add the file or remove it from the list",
                root.display()
            );
        }
        // Archives are flat: two files with one name would overwrite each other.
        let file_name = path.file_name().unwrap_or_default().to_owned();
        if !seen.insert(file_name) {
            bail!("[workspace.metadata.dist] include has two files named like `{name}`: archives are flat, rename one");
        }
        files.push(path);
    }
    Ok(files)
}

fn shipping_packages(meta: &Metadata, wanted: Option<&[String]>) -> Result<Vec<Package>> {
    let members: Vec<&MetaPackage> = meta
        .packages
        .iter()
        .filter(|p| meta.workspace_members.contains(&p.id))
        .collect();
    let binaries = |p: &MetaPackage| -> Vec<String> {
        p.targets
            .iter()
            .filter(|t| t.kind.iter().any(|k| k == "bin"))
            .map(|t| t.name.clone())
            .collect()
    };
    let to_package = |p: &MetaPackage| Package {
        name: p.name.clone(),
        version: p.version.clone(),
        binaries: binaries(p),
        repository: p.repository.clone(),
        description: p.description.clone(),
        homepage: p.homepage.clone(),
        license: p.license.clone(),
        readme: p
            .readme
            .as_ref()
            .and_then(|readme| Some(p.manifest_path.parent()?.join(readme))),
        binstall: p.metadata.as_ref().and_then(|m| m.get("binstall")).cloned(),
    };
    let mut packages: Vec<Package> = match wanted {
        Some(names) => names
            .iter()
            .map(|name| {
                let p = members.iter().find(|p| &p.name == name).with_context(|| {
                    format!("[workspace.metadata.dist] packages names `{name}`, which is not a package of this workspace")
                })?;
                if binaries(p).is_empty() {
                    bail!("[workspace.metadata.dist] packages names `{name}`, which has no binary target: add a [[bin]] or remove it");
                }
                Ok(to_package(p))
            })
            .collect::<Result<_>>()?,
        None => members
            .iter()
            .filter(|p| p.publish.as_deref() != Some(&[]))
            .map(|p| to_package(p))
            .filter(|p| !p.binaries.is_empty())
            .collect(),
    };
    if packages.is_empty() {
        bail!(
            "nothing to ship: no package of this workspace has a binary target and can be \
             published; add a [[bin]] target, or list packages in [workspace.metadata.dist] packages"
        );
    }
    packages.sort_by(|a, b| a.name.cmp(&b.name));
    packages.dedup_by(|a, b| a.name == b.name);
    Ok(packages)
}

#[cfg(test)]
mod tests;
