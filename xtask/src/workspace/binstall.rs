//! `[package.metadata.binstall]` checked against the release before anything is built.
//!
//! cargo-binstall finds a package's archive by rendering the table's templates (`pkg-url`,
//! `bin-dir`, `pkg-fmt`, per-target `overrides`, `signing.file`; its SUPPORT.md and SIGNING.md):
//! a table that names another file or directory than `cargo xtask dist` writes only fails for
//! users, after the release. So `dist` renders the templates as cargo-binstall does
//! (binstalk-fetchers' gh_crate_meta.rs, binstalk-bins; cargo-binstall 1.21) for every shipped
//! package and planned target, compares them with the dist contract's names
//! (`linkaudit::contract::ArchiveName`, the GitHub release URL of tag `v<version>`), and fails
//! with one line saying which key to set to what. It checks and never writes: Cargo.toml is the
//! user's file.
//!
//! A package whose table sets none of `pkg-url`, `bin-dir`, `pkg-fmt` and `overrides` gets a note,
//! not an error: cargo-binstall's defaults try `{ repo }/releases/download/v{ version }/{ name
//! }-{ target }{ archive-suffix }` in every format and look for the `{ name }-{ target }/`
//! directory, which is this layout on GitHub.

use super::config::{Package, Workspace};
use super::report::Report;
use super::target::TargetTriple;
use anyhow::{bail, Result};
use linkaudit::contract::ArchiveName;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The values to set, shown in the hints (and in README, "Installing with cargo binstall").
pub const PKG_URL: &str =
    "{ repo }/releases/download/v{ version }/{ name }-{ target }{ archive-suffix }";
pub const BIN_DIR: &str = "{ name }-{ target }/{ bin }{ binary-ext }";

/// The keys of the table this module checks (cargo-binstall's `PkgMeta`); others are ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
struct Meta {
    pkg_url: Option<String>,
    pkg_fmt: Option<String>,
    bin_dir: Option<String>,
    signing: Option<Signing>,
    overrides: BTreeMap<String, Override>,
}

/// `[package.metadata.binstall.overrides.<target>]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
struct Override {
    pkg_url: Option<String>,
    pkg_fmt: Option<String>,
    bin_dir: Option<String>,
    signing: Option<Signing>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Signing {
    file: Option<String>,
}

/// Checks every shipped package's table for every target in `targets`; a package without one
/// gets a note.
pub fn check(ws: &Workspace, targets: &[TargetTriple], report: &Report) -> Result<()> {
    for package in &ws.packages {
        let Some(meta) = table_of(package)? else {
            report.step(
                "check",
                &package.name,
                "no [package.metadata.binstall] pkg-url: cargo-binstall tries its defaults \
                 (GitHub releases), not checked",
            );
            continue;
        };
        for triple in targets {
            if let Err(mismatch) = check_target(package, &meta, triple) {
                bail!(
                    "package {}'s [package.metadata.binstall] does not match its release: \
                     {mismatch}",
                    package.name
                );
            }
        }
        report.step(
            "check",
            &package.name,
            &format!(
                "[package.metadata.binstall] finds the archives of {} target(s)",
                targets.len()
            ),
        );
    }
    Ok(())
}

/// The package's table, or none when it sets none of the keys that say where the archives are
/// (a `signing` table alone leaves cargo-binstall to its defaults).
fn table_of(package: &Package) -> Result<Option<Meta>> {
    let Some(table) = &package.binstall else {
        return Ok(None);
    };
    let meta: Meta = serde_json::from_value(table.clone()).map_err(|err| {
        anyhow::anyhow!(
            "malformed [package.metadata.binstall] in package {}: {err}; see cargo-binstall's \
             SUPPORT.md",
            package.name
        )
    })?;
    let says_where = [&meta.pkg_url, &meta.pkg_fmt, &meta.bin_dir]
        .iter()
        .any(|key| key.is_some())
        || !meta.overrides.is_empty();
    Ok(says_where.then_some(meta))
}

/// `bin-dir` rendered for each binary of the package is its path inside the archive.
fn check_bin_dir(
    template: &str,
    values: &Values<'_>,
    name: &ArchiveName,
    triple: &TargetTriple,
) -> Result<(), String> {
    for bin in &values.package.binaries {
        let path = format!("{}/{bin}{}", name.top_dir(), triple.exe_suffix());
        let values = Values {
            bin: Some(bin),
            ..*values
        };
        let hint = format!("set bin-dir = \"{BIN_DIR}\"");
        compare("bin-dir", template, &values, &path, &hint)?;
    }
    Ok(())
}

/// What cargo-binstall renders for one (package, target), against what `dist` writes.
fn check_target(package: &Package, meta: &Meta, triple: &TargetTriple) -> Result<(), String> {
    if let Some(key) = meta.overrides.keys().find(|key| key.starts_with("cfg(")) {
        return Err(format!(
            "overrides.'{key}' is not checked by cargo xtask dist: write one \
             [package.metadata.binstall.overrides.<target>] per target instead"
        ));
    }
    let target = triple.as_str();
    // cargo-binstall's merge: the exact target's override, else the table's own key.
    let own = meta.overrides.get(target);
    let pick = |field: fn(&Override) -> &Option<String>, base: &Option<String>| {
        own.and_then(|o| field(o).clone()).or_else(|| base.clone())
    };
    if let Some(fmt) = pick(|o| &o.pkg_fmt, &meta.pkg_fmt) {
        let in_override = own.is_some_and(|o| o.pkg_fmt.is_some());
        check_pkg_fmt(&fmt, triple, in_override)?;
    }
    let repo = package
        .repository
        .as_deref()
        .map(|r| r.trim_end_matches('/'));
    let suffix = format!(".{}", triple.target().archive_extension());
    let values = Values {
        package,
        repo,
        target,
        archive_suffix: &suffix,
        binary_ext: triple.exe_suffix(),
        bin: None,
        url: None,
    };
    let name = ArchiveName {
        package: package.name.clone(),
        target: triple.target().clone(),
    };
    let url = format!(
        "{}/releases/download/v{}/{name}",
        repo.unwrap_or("<repository>"),
        package.version
    );
    if let Some(template) = pick(|o| &o.pkg_url, &meta.pkg_url) {
        let hint = format!("set pkg-url = \"{PKG_URL}\"");
        compare("pkg-url", &template, &values, &url, &hint)?;
    }
    if let Some(template) = pick(|o| &o.bin_dir, &meta.bin_dir) {
        check_bin_dir(&template, &values, &name, triple)?;
    }
    let signing = own
        .and_then(|o| o.signing.as_ref())
        .or(meta.signing.as_ref());
    if let Some(template) = signing.and_then(|s| s.file.as_ref()) {
        let values = Values {
            url: Some(&url),
            ..values
        };
        let sig = super::signing::archive_signature(&url);
        let hint = "remove signing.file (cargo-binstall's default is { url }.sig)";
        compare("signing.file", template, &values, &sig, hint)?;
    }
    Ok(())
}

/// cargo-binstall downloads `tgz` as `.tgz` or `.tar.gz`, `zip` as `.zip`; no other format
/// reads a release archive.
fn check_pkg_fmt(fmt: &str, triple: &TargetTriple, in_override: bool) -> Result<(), String> {
    let (wanted, suffix) = match triple.is_windows() {
        true => ("zip", ".zip"),
        false => ("tgz", ".tar.gz"),
    };
    if fmt == wanted {
        return Ok(());
    }
    let target = triple.as_str();
    let table = match in_override || triple.is_windows() {
        true => format!("[package.metadata.binstall.overrides.{target}]"),
        false => "[package.metadata.binstall]".to_owned(),
    };
    Err(format!(
        "pkg-fmt is \"{fmt}\" for {target}, whose archive is a {suffix}: set pkg-fmt = \
         \"{wanted}\" in {table}"
    ))
}

/// `key`'s template rendered with `values` must be `wanted`.
fn compare(
    key: &str,
    template: &str,
    values: &Values,
    wanted: &str,
    hint: &str,
) -> Result<(), String> {
    let got = render(template, values).map_err(|err| format!("{key} {err}"))?;
    // cargo-binstall normalises bin-dir as a path, so `./dir/bin` is `dir/bin`.
    if got.trim_start_matches("./") == wanted {
        return Ok(());
    }
    let whose = match values.bin {
        Some(bin) => format!("{bin} on {}", values.target),
        None => values.target.to_owned(),
    };
    let what = match key {
        "pkg-url" => "the release has",
        "bin-dir" => "the archive holds",
        _ => "the signature is",
    };
    Err(format!(
        "{key} gives {got} for {whose}, but {what} {wanted}: {hint}"
    ))
}

/// The template variables cargo-binstall fills in, for one package, target and binary.
#[derive(Clone, Copy)]
struct Values<'a> {
    package: &'a Package,
    repo: Option<&'a str>,
    target: &'a str,
    archive_suffix: &'a str,
    binary_ext: &'a str,
    /// `bin-dir` only.
    bin: Option<&'a str>,
    /// `signing.file` only: the archive's URL.
    url: Option<&'a str>,
}

impl Values<'_> {
    fn get(&self, key: &str) -> Result<String, String> {
        let value = match key {
            "name" => Some(self.package.name.as_str()),
            "version" => Some(self.package.version.as_str()),
            "target" => Some(self.target),
            "repo" => Some(self.repo.ok_or(
                "uses { repo }, but the package has no repository: set repository in its \
                 Cargo.toml",
            )?),
            "binary-ext" => Some(self.binary_ext),
            // In bin-dir, `format` is cargo-binstall's old name of binary-ext; elsewhere of
            // archive-format.
            "format" if self.bin.is_some() => Some(self.binary_ext),
            "archive-suffix" if self.bin.is_none() => Some(self.archive_suffix),
            "archive-format" | "format" if self.bin.is_none() => Some(&self.archive_suffix[1..]),
            "bin" => self.bin,
            "url" => self.url,
            _ => None,
        };
        value.map(str::to_owned).ok_or_else(|| {
            format!(
                "uses {{ {key} }}, which cargo xtask dist cannot check there: use {{ name }}, \
                 {{ version }}, {{ target }}, {{ repo }}, {{ archive-suffix }}, {{ bin }} or \
                 {{ binary-ext }}"
            )
        })
    }
}

/// Renders a template in cargo-binstall's syntax (the `leon` crate): `{ key }` with optional
/// spaces, `\{`, `\}` and `\\` for the characters themselves.
fn render(template: &str, values: &Values) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(at) = rest.find(['\\', '{', '}']) {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(escaped) = tail
            .strip_prefix('\\')
            .and_then(|t| t.chars().next())
            .filter(|c| matches!(c, '\\' | '{' | '}'))
        {
            out.push(escaped);
            rest = &tail[2..];
        } else if let Some(open) = tail.strip_prefix('{') {
            let close = open
                .find('}')
                .ok_or_else(|| format!("has an unclosed {{ in {template}"))?;
            out.push_str(&values.get(open[..close].trim())?);
            rest = &open[close + 1..];
        } else if tail.starts_with('}') {
            return Err(format!("has an unopened }} in {template}"));
        } else {
            out.push('\\');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests;
