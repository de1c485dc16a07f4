//! `cargo xtask release`: publishing a gathered release on GitHub in order, all or nothing, and
//! its local rehearsal.
//!
//! - `--draft --tag vX --dist DIR`: creates the release as a draft with every asset and the
//!   CHANGELOG notes (a draft is invisible to users and to `releases/latest`). A draft left by an
//!   earlier failed run of the same tag is replaced, so a failed run is re-run as it is.
//! - then the workflow attests the assets (actions/attest-build-provenance);
//! - `--publish --tag vX`: publishes the draft; a pre-release stays a pre-release and is never
//!   marked Latest, so `releases/latest/download/install.sh` keeps installing the last release.
//! - `--dry-run [--tag vX]` (rehearsal.rs): plan -> dist per target -> gather -> notes here, and
//!   prints the exact gh commands the two steps above would run.

pub mod notes;
pub mod plan;
mod rehearsal;
pub mod smoke;
pub mod version;

use anyhow::{bail, Context, Result};
use plan::ReleasePlan;
use std::path::{Path, PathBuf};
use version::Tag;
use xshell::{cmd, Shell};

pub enum Mode {
    DryRun,
    Draft,
    Publish,
}

pub struct Options {
    pub mode: Mode,
    pub tag: Option<String>,
    pub dist: Option<PathBuf>,
}

pub fn run(options: Options) -> Result<()> {
    let sh = Shell::new().context("starting a shell")?;
    let ws = crate::workspace::config::Workspace::load(&sh)?;
    let tag = match options.tag.as_deref() {
        None | Some("") => None,
        Some(text) => Some(Tag::parse(text)?),
    };
    let dist = options.dist.unwrap_or_else(|| ws.root.join("dist"));
    match options.mode {
        Mode::DryRun => rehearsal::run(&sh, &ws, tag.as_ref()),
        Mode::Draft | Mode::Publish => {
            let Some(tag) = tag else {
                bail!("--draft and --publish publish a release: give its tag with --tag vX.Y.Z");
            };
            let (plan, _) = ReleasePlan::new(&ws, Some(&tag))?;
            if let Mode::Publish = options.mode {
                let args = gh_publish_args(&plan);
                return cmd!(sh, "gh {args...}")
                    .run()
                    .context("publishing the draft release (gh release edit)");
            }
            let notes = notes::notes(&ws.root, &plan.version())?;
            let notes_file = ws.target_dir.join("release-notes.md");
            std::fs::create_dir_all(&ws.target_dir)?;
            std::fs::write(&notes_file, notes)
                .with_context(|| format!("writing {}", notes_file.display()))?;
            let assets = assets(&dist)?;
            replace_leftover_draft(&sh, &plan.tag)?;
            let args = gh_create_args(&plan, Some(&notes_file), &assets);
            cmd!(sh, "gh {args...}")
                .run()
                .context("creating the draft release (gh release create)")
        }
    }
}

/// A draft of this tag left by a failed run is deleted (the tag stays); a published release
/// is never touched: its assets are what users downloaded.
fn replace_leftover_draft(sh: &Shell, tag: &str) -> Result<()> {
    let state = cmd!(sh, "gh release view {tag} --json isDraft --jq .isDraft")
        .quiet()
        .ignore_stderr()
        .read();
    match state.as_deref().map(str::trim) {
        Ok("true") => cmd!(sh, "gh release delete {tag} --yes")
            .run()
            .context("deleting the draft a failed run left"),
        Ok(_) => bail!(
            "release {tag} is already published: a published release is not changed; release a \
             new version instead"
        ),
        // `gh release view` fails when there is no such release: the normal case.
        Err(_) => Ok(()),
    }
}

/// Every file of the gathered release: archives and wheels, their .sha256, the SBOMs, SHA256SUMS, the
/// manifest, install.sh, and the minisign signatures of a signed release. Sorted, so the command
/// line is the same on every run.
pub fn assets(dist: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dist).with_context(|| {
        format!(
            "reading {} (run cargo xtask gather first, or pass --dist)",
            dist.display()
        )
    })?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry?;
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if entry.file_type()?.is_file() && !hidden {
            files.push(entry.path());
        }
    }
    files.sort();
    check_sums(dist)?;
    Ok(files)
}

/// Every file SHA256SUMS lists is there with that digest: what is uploaded is what gather
/// verified.
fn check_sums(dist: &Path) -> Result<()> {
    use crate::workspace::checksums::{parse_sha256sums, sha256_file, SHA256SUMS};
    let path = dist.join(SHA256SUMS);
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "reading {} (not a gathered release: run cargo xtask gather)",
            path.display()
        )
    })?;
    let entries = parse_sha256sums(&text)
        .map_err(|problem| anyhow::anyhow!("{}: {problem}", path.display()))?;
    for (name, sha256) in entries {
        if sha256_file(&dist.join(&name))? != sha256 {
            bail!(
                "{name} in {} does not match SHA256SUMS: download the release artifact again",
                dist.display()
            );
        }
    }
    Ok(())
}

/// `gh release create`: a draft, titled, with the notes (or GitHub's generated notes when
/// there are none, which only a dry run allows) and every asset.
pub fn gh_create_args(plan: &ReleasePlan, notes: Option<&Path>, assets: &[PathBuf]) -> Vec<String> {
    let mut args: Vec<String> = ["release", "create", &plan.tag, "--draft", "--verify-tag"]
        .map(String::from)
        .to_vec();
    args.extend(["--title".to_owned(), plan.title.clone()]);
    match notes {
        Some(path) => args.extend(["--notes-file".to_owned(), path.display().to_string()]),
        None => args.push("--generate-notes".to_owned()),
    }
    if plan.prerelease {
        args.push("--prerelease".to_owned());
    }
    args.extend(assets.iter().map(|a| a.display().to_string()));
    args
}

/// `gh release edit --draft=false`: publishing the draft; a pre-release is kept from Latest.
pub fn gh_publish_args(plan: &ReleasePlan) -> Vec<String> {
    let mut args: Vec<String> = ["release", "edit", &plan.tag, "--draft=false"]
        .map(String::from)
        .to_vec();
    if plan.prerelease {
        args.extend(["--prerelease".to_owned(), "--latest=false".to_owned()]);
    }
    args
}

/// A command line as a maintainer would type it (arguments with spaces quoted).
pub fn shell_line(program: &str, args: &[String]) -> String {
    let quoted = args.iter().map(|a| {
        if a.is_empty() || a.contains([' ', '"', '\'', '$']) {
            format!("'{}'", a.replace('\'', r"'\''"))
        } else {
            a.clone()
        }
    });
    std::iter::once(program.to_owned())
        .chain(quoted)
        .collect::<Vec<_>>()
        .join(" ")
}
