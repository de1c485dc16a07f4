//! `cargo xtask release --dry-run [--tag vX]`: the release workflow, rehearsed on this machine
//! with the same commands: plan -> `cargo xtask dist --target T --out-dir parts/dist-T` per target
//! this host builds -> `cargo xtask gather` -> the notes -> the exact `gh release` commands and
//! assets, printed, not run. Everything is written under `target/release-dry-run/`; nothing
//! else changes and nothing is published.

use super::plan::ReleasePlan;
use super::version::Tag;
use super::{assets, gh_create_args, gh_publish_args, shell_line};
use crate::workspace::config::Workspace;
use crate::workspace::target::Status;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use xshell::{cmd, Shell};

pub fn run(sh: &Shell, ws: &Workspace, tag: Option<&Tag>) -> Result<()> {
    // Bad input is refused before anything is written: what `cargo xtask plan` checks below.
    let (plan, _) = ReleasePlan::new(ws, tag)?;
    if tag.is_some() {
        super::notes::notes(&ws.root, &plan.version())?;
    }
    let work = ws.target_dir.join("release-dry-run");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(work.join("parts"))
        .with_context(|| format!("creating {}", work.display()))?;
    plan_step(sh, &work, &plan, tag)?;
    // On a tag, a missing CHANGELOG section was refused above.
    let notes = match super::notes::notes(&ws.root, &plan.version()) {
        Ok(notes) => Some(notes),
        Err(err) => {
            println!("notes   none ({err:#}); a dry run uses GitHub's generated notes");
            None
        }
    };
    let (parts, built) = build_steps(sh, ws, &work)?;

    let dist = work.join("dist");
    let mut gather: Vec<String> = vec!["gather".into()];
    // A host that built only part of the matrix gathers that part (the workflow gathers all).
    if built.len() < ws.targets.len() {
        gather.extend(built.iter().flat_map(|t| ["--target".into(), t.clone()]));
    }
    gather.extend(["--out-dir".into(), dist.display().to_string()]);
    gather.extend(parts.iter().map(|p| p.display().to_string()));
    xtask(sh, &gather)?;

    let notes_file = match &notes {
        Some(text) => {
            let path = work.join("release-notes.md");
            std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
            println!(
                "notes   {} (the CHANGELOG section of {})",
                path.display(),
                plan.version
            );
            Some(path)
        }
        None => None,
    };
    print_publish(&plan, notes_file.as_deref(), &dist)
}

/// `cargo xtask plan`, read back through a $GITHUB_OUTPUT file as the workflow reads it.
fn plan_step(sh: &Shell, work: &Path, plan: &ReleasePlan, tag: Option<&Tag>) -> Result<()> {
    let output = work.join("github-output");
    let mut args = vec!["plan".to_owned()];
    args.extend(tag.iter().flat_map(|t| ["--tag".to_owned(), t.name()]));
    args.extend(["--github-output".to_owned(), output.display().to_string()]);
    xtask(sh, &args)?;
    let written = std::fs::read_to_string(&output)
        .with_context(|| format!("reading {}", output.display()))?;
    if written.trim_end() != format!("plan={}", plan.to_json()) {
        bail!("`cargo xtask plan` wrote another plan than this run made: {written}");
    }
    let kind = if plan.prerelease {
        "pre-release"
    } else {
        "release"
    };
    println!("release {} ({}), {kind}", plan.title, plan.tag);
    Ok(())
}

/// A build job and a smoke job per target this host builds; the parts and their targets.
fn build_steps(sh: &Shell, ws: &Workspace, work: &Path) -> Result<(Vec<PathBuf>, Vec<String>)> {
    let host = crate::pipeline::plan::detect_host(sh, ws)?;
    let (mut parts, mut built) = (Vec::new(), Vec::new());
    for triple in &ws.targets {
        match host.can_build(triple, ws.build_method(triple)?) {
            Status::Build(_) => {
                let part = work.join("parts").join(format!("dist-{triple}"));
                let part_arg = part.display().to_string();
                let target = triple.to_string();
                xtask(
                    sh,
                    &["dist", "--target", &target, "--out-dir", &part_arg].map(String::from),
                )?;
                // The workflow's smoke command, on a part this host has just built.
                xtask(sh, &["smoke".into(), part_arg])?;
                parts.push(part);
                built.push(target);
            }
            Status::Skip { missing, runner } => println!(
                "skip    {triple}: this host lacks {missing}; the workflow builds it on {runner}"
            ),
        }
    }
    if parts.is_empty() {
        bail!(
            "this {} host can build no target of the matrix",
            host.triple
        );
    }
    Ok((parts, built))
}

fn print_publish(plan: &ReleasePlan, notes: Option<&Path>, dist: &Path) -> Result<()> {
    let assets: Vec<PathBuf> = assets(dist)?;
    println!("assets  {} file(s) from {}:", assets.len(), dist.display());
    for asset in &assets {
        let size = std::fs::metadata(asset)
            .map(|m| m.len())
            .unwrap_or_default();
        let name = asset.file_name().unwrap_or_default().to_string_lossy();
        println!("          {name} ({size} bytes)");
    }
    println!("would run (a dry run publishes nothing):");
    let dist_arg = dist.display().to_string();
    let sign = ["sign", &dist_arg, "--if-key"].map(String::from);
    println!(
        "would   $ {}    (with the MINISIGN_SECRET_KEY secret; unsigned, with a warning, without)",
        shell_line("cargo xtask", &sign)
    );
    let draft = [
        "release", "--draft", "--tag", &plan.tag, "--dist", &dist_arg,
    ]
    .map(String::from);
    println!("would   $ {}", shell_line("cargo xtask", &draft));
    println!(
        "          {}",
        shell_line("gh", &gh_create_args(plan, notes, &assets))
    );
    println!(
        "        actions/attest-build-provenance over {}/SHA256SUMS",
        dist.display()
    );
    let publish = ["release", "--publish", "--tag", &plan.tag].map(String::from);
    println!("would   $ {}", shell_line("cargo xtask", &publish));
    println!("          {}", shell_line("gh", &gh_publish_args(plan)));
    if plan.pypi {
        println!("        pypa/gh-action-pypi-publish: the .whl files, when PYPI_PUBLISH is true");
    }
    Ok(())
}

/// Prints a step as the workflow writes it.
fn step(what: &str, args: &[String]) {
    println!("{what:<7} $ {}", shell_line("cargo xtask", args));
}

/// Runs `cargo xtask ARGS` as the workflow does, through this very executable.
fn xtask(sh: &Shell, args: &[String]) -> Result<()> {
    step("run", args);
    let exe = std::env::current_exe().context("finding the xtask executable")?;
    cmd!(sh, "{exe} {args...}").quiet().run().with_context(|| {
        format!(
            "`cargo xtask {}` failed; see its error above",
            args.first().map_or("", String::as_str)
        )
    })
}
