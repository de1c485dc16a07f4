//! `cargo xtask reproduce DIR`: rebuilds a release from its source and compares it byte for byte.
//!
//! DIR is a downloaded release (or dist/). Its `dist-manifest.json` says the commit, the
//! `SOURCE_DATE_EPOCH` and each artifact's rustc; this checks the commit out into a temporary git
//! worktree of this clone, runs that commit's own `cargo xtask dist --target T...` there with
//! that rustc (`rustup run <version>` when it is not the default one; installed with rustup when
//! missing) and that epoch, and compares every rebuilt archive with DIR's: `identical`, or the
//! first member that differs and the offset inside it, and for a binary the section holding that
//! offset. Targets this host cannot build are listed as not checked, with dist's reason.
//!
//! The C toolchain (zig, musl-gcc, mingw-w64 gcc) is the one dist finds here: zig on PATH or the
//! version the commit pins, the host's musl-gcc. The manifest records each artifact's
//! (`c_toolchain`); an archive whose bytes differ while its rebuild's toolchain differs from the
//! recorded one is listed as not checked, naming both, not as a difference: its bytes were never
//! expected to agree. Installing the recorded toolchain is left to the person checking (one line
//! says which), since dist picks a zig already on PATH before its own pinned one.
//!
//! Exit 0 when every rebuilt archive is identical, 1 otherwise; DIR is never written.

mod compare;

use crate::workspace::manifest::{Manifest, MANIFEST};
use crate::workspace::report::Report;
use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use xshell::{cmd, Shell};

pub fn run(dir: &Path) -> Result<()> {
    let report = Report::new(false);
    let sh = Shell::new().context("starting a shell")?;
    let dir = std::env::current_dir()?.join(dir);
    let manifest = Manifest::read(&dir.join(MANIFEST)).map_err(|err| {
        anyhow::anyhow!(
            "{}: {err:#}; pass a release directory (dist/ or the downloaded release files)",
            dir.display()
        )
    })?;
    let Some(commit) = manifest.source_commit.clone() else {
        bail!("{}: the manifest records no source commit (built outside git): nothing to check it against", dir.display());
    };
    let clone = clone_holding(&sh, &commit, &dir)?;
    let _in_clone = sh.push_dir(&clone);
    let worktree = Worktree::add(&sh, &commit)?;
    report.line(&format!(
        "reproduce  commit {commit} | SOURCE_DATE_EPOCH {} | in {}",
        manifest.source_date_epoch,
        worktree.dir.display()
    ));
    // A target dir that outlives the worktree, so that a second check rebuilds warm. Where it is
    // does not change the bytes: dist remaps the target dir out of the binaries wherever it is.
    let target_dir = PathBuf::from(&clone).join("target").join("xtask-reproduce");
    let _target_dir = sh.push_env("CARGO_TARGET_DIR", &target_dir);
    let rebuilt = rebuild_all(&sh, &worktree.dir, &manifest, &report)?;
    let verdicts = compare::compare_all(&dir, &rebuilt, &manifest, &report);
    drop(worktree);
    verdicts
}

/// The top of this git clone, once it is known to hold `commit`.
fn clone_holding(sh: &Shell, commit: &str, dir: &Path) -> Result<String> {
    let clone = cmd!(sh, "git rev-parse --show-toplevel")
        .quiet()
        .read()
        .context(
            "finding this git clone (run reproduce inside a clone of the release's repository)",
        )?;
    let _in_clone = sh.push_dir(&clone);
    let object = format!("{commit}^{{commit}}");
    if cmd!(sh, "git cat-file -e {object}")
        .quiet()
        .ignore_stderr()
        .run()
        .is_err()
    {
        bail!(
            "commit {commit} of {} is not in this clone ({clone}): reproduce in a clone of the \
             repository that made the release, after `git fetch origin {commit}`",
            dir.display()
        );
    }
    Ok(clone)
}

/// A temporary git worktree at the release's commit, removed however the run ends.
struct Worktree<'a> {
    sh: &'a Shell,
    dir: PathBuf,
}

impl<'a> Worktree<'a> {
    /// Outside the clone: cargo would also read the clone's .cargo/config.toml above a worktree
    /// inside it and join its rustflags with the commit's own.
    fn add(sh: &'a Shell, commit: &str) -> Result<Worktree<'a>> {
        let dir = std::env::temp_dir().join(format!("xtask-reproduce-{}", std::process::id()));
        let _ = cmd!(sh, "git worktree remove --force {dir}")
            .quiet()
            .ignore_stderr()
            .run();
        let _ = std::fs::remove_dir_all(&dir);
        cmd!(sh, "git worktree add --detach --quiet {dir} {commit}")
            .quiet()
            .run()
            .with_context(|| format!("checking out {commit} into {}", dir.display()))?;
        Ok(Worktree { sh, dir })
    }
}

impl Drop for Worktree<'_> {
    fn drop(&mut self) {
        let dir = &self.dir;
        let _ = cmd!(self.sh, "git worktree remove --force {dir}")
            .quiet()
            .ignore_stderr()
            .run();
    }
}

/// What was rebuilt: archive name -> its path and the C toolchain the rebuild's manifest
/// records; and target -> why it was not.
struct Rebuilt {
    archives: BTreeMap<String, PathBuf>,
    toolchains: BTreeMap<String, Option<String>>,
    skipped: BTreeMap<String, String>,
}

/// One `cargo xtask dist` per recorded rustc, with the targets of its artifacts; a target dist
/// refuses on this host is dropped with dist's reason and the rest run again.
fn rebuild_all(sh: &Shell, work: &Path, manifest: &Manifest, report: &Report) -> Result<Rebuilt> {
    let mut by_rustc: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for artifact in &manifest.artifacts {
        let rustc = if artifact.rustc.is_empty() {
            &manifest.rustc
        } else {
            &artifact.rustc
        };
        let targets = by_rustc.entry(rustc.clone()).or_default();
        if !targets.contains(&artifact.target) {
            targets.push(artifact.target.clone());
        }
    }
    let mut rebuilt = Rebuilt {
        archives: BTreeMap::new(),
        toolchains: BTreeMap::new(),
        skipped: BTreeMap::new(),
    };
    for (rustc, mut targets) in by_rustc {
        let toolchain = toolchain_for(sh, &rustc, report)?;
        let out = work.join(format!("dist-{}", rebuilt.archives.len()));
        while !targets.is_empty() {
            match dist(
                sh,
                work,
                toolchain.as_deref(),
                &targets,
                manifest.source_date_epoch,
                &out,
            )? {
                Ok(()) => break,
                Err((target, reason)) if targets.contains(&target) => {
                    targets.retain(|t| *t != target);
                    rebuilt.skipped.insert(target, reason);
                }
                Err((_, reason)) => bail!("cargo xtask dist of commit failed: {reason}"),
            }
        }
        if targets.is_empty() {
            continue;
        }
        let own = Manifest::read(&out.join(MANIFEST))
            .map_err(|err| anyhow::anyhow!("the rebuild's {MANIFEST}: {err}"))?;
        for artifact in own.artifacts {
            rebuilt
                .toolchains
                .insert(artifact.archive, artifact.c_toolchain);
        }
        for entry in
            std::fs::read_dir(&out).with_context(|| format!("listing {}", out.display()))?
        {
            let entry = entry?;
            rebuilt.archives.insert(
                entry.file_name().to_string_lossy().into_owned(),
                entry.path(),
            );
        }
    }
    Ok(rebuilt)
}

/// `None` when the default rustc is the recorded one; else the toolchain `rustup run` takes,
/// installed first when missing.
fn toolchain_for(sh: &Shell, recorded: &str, report: &Report) -> Result<Option<String>> {
    let current = cmd!(sh, "rustc --version")
        .quiet()
        .read()
        .context("asking rustc for its version")?;
    if current.trim() == recorded.trim() {
        return Ok(None);
    }
    let Some(version) = recorded.split_whitespace().nth(1) else {
        bail!("the manifest's rustc {recorded:?} is not `rustc <version> (...)`");
    };
    let installed = cmd!(sh, "rustup toolchain list")
        .quiet()
        .read()
        .context("listing rustup toolchains")?;
    if !installed
        .lines()
        .any(|line| line.starts_with(&format!("{version}-")))
    {
        report.line(&format!(
            "reproduce  installing rustc {version} with rustup: the release was built with it"
        ));
        cmd!(sh, "rustup toolchain install {version} --profile minimal")
            .quiet()
            .run()
            .with_context(|| format!("installing rustc {version} with rustup"))?;
    }
    Ok(Some(version.to_owned()))
}

/// Runs the commit's own dist. `Ok(Err((target, reason)))` when it refused a target.
fn dist(
    sh: &Shell,
    work: &Path,
    toolchain: Option<&str>,
    targets: &[String],
    epoch: u64,
    out: &Path,
) -> Result<std::result::Result<(), (String, String)>> {
    let _dir = sh.push_dir(work);
    let _epoch = sh.push_env("SOURCE_DATE_EPOCH", epoch.to_string());
    let target_args: Vec<String> = targets
        .iter()
        .flat_map(|t| ["--target".to_owned(), t.clone()])
        .collect();
    let command = match toolchain {
        Some(version) => cmd!(
            sh,
            "rustup run {version} cargo xtask dist {target_args...} --out-dir {out} --json"
        ),
        None => cmd!(
            sh,
            "cargo xtask dist {target_args...} --out-dir {out} --json"
        ),
    };
    let output = command
        .quiet()
        .ignore_status()
        .output()
        .context("running cargo xtask dist of the commit")?;
    if output.status.success() {
        return Ok(Ok(()));
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let error = stderr
        .lines()
        .rev()
        .find(|l| l.starts_with("error: "))
        .unwrap_or("no error line");
    // dist's line for a target this host cannot build: "cannot build `T` on this H host: ...".
    let refused = error
        .strip_prefix("error: cannot build `")
        .and_then(|rest| rest.split_once('`'))
        .map(|(target, _)| target.to_owned());
    Ok(Err((
        refused.unwrap_or_default(),
        error.trim_start_matches("error: ").to_owned(),
    )))
}
