//! What source the run records in the manifest: the commit, SOURCE_DATE_EPOCH (from the
//! environment, else the commit time, so that two clones of one commit write the same archive
//! times) and the compiler.

use super::plan::rustc_program;
use crate::workspace::report::Report;
use anyhow::{Context, Result};
use std::path::Path;
use xshell::{cmd, Shell};

/// The commit, SOURCE_DATE_EPOCH and compiler that the manifest records.
pub struct Source {
    pub commit: Option<String>,
    pub epoch: u64,
    epoch_from: &'static str,
    pub rustc: String,
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

    pub fn detect(sh: &Shell, root: &Path, report: &Report) -> Result<Source> {
        let _dir = sh.push_dir(root);
        let commit = cmd!(sh, "git rev-parse HEAD")
            .quiet()
            .ignore_stderr()
            .read()
            .ok();
        let (epoch, epoch_from) = match std::env::var("SOURCE_DATE_EPOCH") {
            Ok(text) => (
                text.trim().parse::<u64>().map_err(|_| {
                    anyhow::anyhow!(
                        "SOURCE_DATE_EPOCH=`{text}` is not a number of seconds since 1970"
                    )
                })?,
                "from the environment",
            ),
            Err(_) => match cmd!(sh, "git log -1 --format=%ct")
                .quiet()
                .ignore_stderr()
                .read()
            {
                Ok(text) => (
                    text.trim()
                        .parse()
                        .context("reading the commit time of HEAD")?,
                    "commit time of HEAD",
                ),
                Err(_) => {
                    report.warn(
                        "no SOURCE_DATE_EPOCH and no git commit: archive times are 1980-01-01",
                    );
                    (315_532_800, "no commit: 1980-01-01")
                }
            },
        };
        if commit.is_some() {
            let status = cmd!(sh, "git status --porcelain --untracked-files=no")
                .quiet()
                .read()
                .unwrap_or_default();
            if !status.is_empty() {
                report.warn(
                    "the work tree has uncommitted changes: the archives do not match the commit",
                );
            }
        }
        let rustc = rustc_program();
        let rustc = cmd!(sh, "{rustc} --version")
            .quiet()
            .read()
            .context("asking rustc for its version")?;
        Ok(Source {
            commit,
            epoch,
            epoch_from,
            rustc,
        })
    }
}
