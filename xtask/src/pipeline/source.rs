//! What source the run records in the manifest: the commit, SOURCE_DATE_EPOCH (from the
//! environment, else the commit time, so that two clones of one commit write the same archive
//! times) and the compiler.

use crate::workspace::report::Report;
use crate::workspace::target::TargetTriple;
use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::path::Path;
use xshell::cmd;

/// The commit, SOURCE_DATE_EPOCH and compiler that the manifest records.
#[derive(Clone)]
pub struct Source {
    pub commit: Option<String>,
    pub epoch: u64,
    epoch_from: &'static str,
    pub rustc: String,
    /// Each built target's C toolchain (`c_toolchain.rs`), filled in by the build step.
    pub c_toolchains: BTreeMap<TargetTriple, Option<String>>,
}

impl Source {
    pub fn print(&self, report: &Report) {
        report.line(&format!(
            "source  commit {} | SOURCE_DATE_EPOCH {} ({}) | {}",
            self.commit.as_deref().unwrap_or("none"),
            self.epoch,
            self.epoch_from,
            self.rustc
        ));
    }

    /// `rustc` is the compiler's version line (the plan asked rustc already).
    pub fn detect(root: &Path, rustc: &str, report: &Report) -> Result<Source> {
        // git's two answers are independent: asked at once, they cost a warm no-op run one
        // process start instead of two.
        let in_root = |line: &'static str| {
            move || -> Option<String> {
                let sh = crate::workspace::tools::shell_in(root).ok()?;
                let mut words = line.split(' ');
                let program = words.next()?;
                cmd!(sh, "{program} {words...}")
                    .quiet()
                    .ignore_stderr()
                    .read()
                    .ok()
            }
        };
        let (head, status) = std::thread::scope(|scope| {
            let status = scope.spawn(in_root("git status --porcelain --untracked-files=no"));
            let head = in_root("git log -1 --format=%H%n%ct")();
            (head, status.join().ok().flatten())
        });
        // `<commit>\n<commit time>`; none without git or without a commit.
        let head: Option<(String, String)> = head.and_then(|text| {
            let (commit, time) = text.trim().split_once('\n')?;
            Some((commit.to_owned(), time.to_owned()))
        });
        let (commit, commit_time) = head.unzip();
        let (epoch, epoch_from) = match std::env::var("SOURCE_DATE_EPOCH") {
            Ok(text) => (
                text.trim().parse::<u64>().map_err(|_| {
                    anyhow::anyhow!(
                        "SOURCE_DATE_EPOCH=`{text}` is not a number of seconds since 1970"
                    )
                })?,
                "from the environment",
            ),
            Err(_) => match commit_time {
                Some(text) => (
                    text.trim()
                        .parse()
                        .context("reading the commit time of HEAD")?,
                    "commit time of HEAD",
                ),
                None => {
                    report.warn(
                        "no SOURCE_DATE_EPOCH and no git commit: archive times are 1980-01-01",
                    );
                    (315_532_800, "no commit: 1980-01-01")
                }
            },
        };
        if commit.is_some() && status.is_some_and(|s| !s.is_empty()) {
            report.warn(
                "the work tree has uncommitted changes: the archives do not match the commit",
            );
        }
        Ok(Source {
            commit,
            epoch,
            epoch_from,
            rustc: rustc.to_owned(),
            c_toolchains: BTreeMap::new(),
        })
    }
}
