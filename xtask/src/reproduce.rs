//! `cargo xtask reproduce DIR`: rebuilds a release from its source and compares it byte for byte.
//!
//! DIR is a downloaded release (or dist/). Its `dist-manifest.json` says the commit, the
//! `SOURCE_DATE_EPOCH` and each artifact's rustc; this checks the commit out into a temporary git
//! worktree of this clone, runs that commit's own `cargo xtask dist --target T...` there with
//! that rustc (`rustup run <version>` when it is not the default one; installed with rustup when
//! missing) and that epoch, and compares every rebuilt archive with DIR's: `identical`, or the
//! first member that differs and the offset inside it, and for a binary the section holding that
//! offset. Targets this host cannot build are listed as not checked, with dist's reason. Zig is the
//! one on PATH, or the version dist pins and installs (0.17.1): the manifest does not record it.
//!
//! Exit 0 when every rebuilt archive is identical, 1 otherwise; DIR is never written.

use crate::dist::manifest::{Manifest, MANIFEST};
use crate::dist::report::Report;
use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::io::Read;
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
    // Outside the clone: cargo would also read the clone's .cargo/config.toml above a worktree
    // inside it and join its rustflags with the commit's own.
    let work = std::env::temp_dir().join(format!("xtask-reproduce-{}", std::process::id()));
    let _ = cmd!(sh, "git worktree remove --force {work}")
        .quiet()
        .ignore_stderr()
        .run();
    let _ = std::fs::remove_dir_all(&work);
    cmd!(sh, "git worktree add --detach --quiet {work} {commit}")
        .quiet()
        .run()
        .with_context(|| format!("checking out {commit} into {}", work.display()))?;
    let worktree = Worktree {
        sh: &sh,
        dir: work.clone(),
    };
    report.line(&format!(
        "reproduce  commit {commit} | SOURCE_DATE_EPOCH {} | in {}",
        manifest.source_date_epoch,
        work.display()
    ));
    // A target dir that outlives the worktree, so that a second check rebuilds warm. Where it is
    // does not change the bytes: dist remaps the target dir out of the binaries wherever it is.
    let target_dir = PathBuf::from(&clone).join("target").join("xtask-reproduce");
    let _target_dir = sh.push_env("CARGO_TARGET_DIR", &target_dir);
    let rebuilt = rebuild_all(&sh, &work, &manifest, &report)?;
    let verdicts = compare_all(&dir, &rebuilt, &manifest, &report);
    drop(worktree);
    verdicts
}

/// Removes the temporary worktree however the run ends.
struct Worktree<'a> {
    sh: &'a Shell,
    dir: PathBuf,
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

/// What was rebuilt: archive name -> its path; and target -> why it was not.
struct Rebuilt {
    archives: BTreeMap<String, PathBuf>,
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

fn compare_all(dir: &Path, rebuilt: &Rebuilt, manifest: &Manifest, report: &Report) -> Result<()> {
    let (mut identical, mut differ, mut unchecked) = (0, 0, 0);
    for artifact in &manifest.artifacts {
        let verdict = match (
            rebuilt.skipped.get(&artifact.target),
            rebuilt.archives.get(&artifact.archive),
        ) {
            (Some(reason), _) => {
                unchecked += 1;
                format!("not checked: {reason}")
            }
            (None, None) => {
                differ += 1;
                "DIFFERS: the rebuild wrote no archive of that name".to_owned()
            }
            (None, Some(path)) => match first_difference(&dir.join(&artifact.archive), path)? {
                None => {
                    identical += 1;
                    "identical".to_owned()
                }
                Some(difference) => {
                    differ += 1;
                    format!("DIFFERS: {difference}")
                }
            },
        };
        report.line(&format!("reproduce  {}  {verdict}", artifact.archive));
    }
    report.line(&format!(
        "reproduce  {identical} identical, {differ} differ, {unchecked} not checked"
    ));
    if differ > 0 {
        bail!(
            "{differ} archive(s) of {} differ from the rebuild of its commit (above)",
            dir.display()
        );
    }
    Ok(())
}

/// `None` when both files have the same bytes; else where they first differ.
fn first_difference(released: &Path, rebuilt: &Path) -> Result<Option<String>> {
    let (a, b) = (read(released)?, read(rebuilt)?);
    if a == b {
        return Ok(None);
    }
    let name = released.to_string_lossy();
    let members = if name.ends_with(".zip") || name.ends_with(".whl") {
        zip_members(&a).and_then(|ma| Ok((ma, zip_members(&b)?)))
    } else {
        tar_members(&a).and_then(|ma| Ok((ma, tar_members(&b)?)))
    };
    let Ok((ma, mb)) = members else {
        return Ok(Some(format!(
            "at byte {} (the released file is no readable archive)",
            first_byte(&a, &b)
        )));
    };
    for (index, (x, y)) in ma.iter().zip(&mb).enumerate() {
        if x.name != y.name {
            return Ok(Some(format!(
                "member {index} is {} in the release but {} rebuilt",
                x.name, y.name
            )));
        }
        if x.header != y.header {
            return Ok(Some(format!(
                "the header (mode, owner or time) of member {}",
                x.name
            )));
        }
        if x.data != y.data {
            let offset = first_byte(&x.data, &y.data);
            let section =
                section_at(&x.data, offset).map_or(String::new(), |s| format!(" (section {s})"));
            return Ok(Some(format!(
                "member {} at offset {offset}{section}",
                x.name
            )));
        }
    }
    if ma.len() != mb.len() {
        return Ok(Some(format!(
            "{} members in the release, {} rebuilt",
            ma.len(),
            mb.len()
        )));
    }
    Ok(Some(format!(
        "at byte {} with the same members: the compression or archive metadata",
        first_byte(&a, &b)
    )))
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

fn first_byte(a: &[u8], b: &[u8]) -> usize {
    a.iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()))
}

struct Member {
    name: String,
    header: Vec<u8>,
    data: Vec<u8>,
}

fn tar_members(bytes: &[u8]) -> Result<Vec<Member>> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let mut members = Vec::new();
    for entry in archive.entries()? {
        let mut entry = entry?;
        let mut data = Vec::new();
        entry.read_to_end(&mut data)?;
        members.push(Member {
            name: entry.path()?.to_string_lossy().into_owned(),
            header: entry.header().as_bytes().to_vec(),
            data,
        });
    }
    Ok(members)
}

fn zip_members(bytes: &[u8]) -> Result<Vec<Member>> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))?;
    let mut members = Vec::new();
    for index in 0..archive.len() {
        let mut file = archive.by_index(index)?;
        let header = format!(
            "{:?} {:?} {:?}",
            file.unix_mode(),
            file.last_modified(),
            file.compression()
        );
        let mut data = Vec::new();
        file.read_to_end(&mut data)?;
        members.push(Member {
            name: file.name().to_owned(),
            header: header.into_bytes(),
            data,
        });
    }
    Ok(members)
}

/// The name of the section whose bytes in the file hold `offset`, for an ELF, PE or Mach-O file.
fn section_at(data: &[u8], offset: usize) -> Option<String> {
    use object::{Object, ObjectSection};
    let file = object::File::parse(data).ok()?;
    let offset = offset as u64;
    file.sections().find_map(|section| {
        let (start, size) = section.file_range()?;
        (offset >= start && offset < start + size).then(|| section.name().unwrap_or("?").to_owned())
    })
}
