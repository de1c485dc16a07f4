//! `cargo xtask plan`: the release workflow's build matrix, as one line of JSON
//! on stdout, from `[workspace.metadata.dist]`. The workflow reads it with `fromJSON`, so the
//! target list is written once, in Cargo.toml; which runner builds a target, and how, comes from
//! `BuildMethod`, the same code that tells `cargo xtask dist` what it can build here.

use crate::workspace::config::Workspace;
use crate::workspace::target::BuildMethod;
use anyhow::{Context, Result};
use serde::Serialize;
use xshell::Shell;

/// `{"include": [...]}`: the shape of a GitHub Actions `strategy.matrix`.
#[derive(Debug, Serialize)]
pub struct Matrix {
    pub include: Vec<Entry>,
}

#[derive(Debug, Serialize)]
pub struct Entry {
    pub target: String,
    /// The `runs-on` label.
    pub runner: &'static str,
    /// `cargo-zigbuild`, `msvc` or `cargo`: informative (the build job always runs
    /// `cargo xtask dist --target T`, which picks the method itself).
    pub build: &'static str,
}

pub fn run() -> Result<()> {
    let sh = Shell::new().context("starting a shell")?;
    let ws = Workspace::load(&sh)?;
    let matrix = matrix(&ws.targets)?;
    // Only the JSON goes to stdout: the workflow writes it into $GITHUB_OUTPUT as one line.
    println!(
        "{}",
        serde_json::to_string(&matrix).context("writing the matrix as JSON")?
    );
    Ok(())
}

pub fn matrix(targets: &[crate::workspace::target::TargetTriple]) -> Result<Matrix> {
    let include = targets
        .iter()
        .map(|triple| {
            let method = BuildMethod::for_target(triple)?;
            Ok(Entry {
                target: triple.to_string(),
                runner: method.runner(),
                build: method.as_str(),
            })
        })
        .collect::<Result<_>>()
        .context("in [workspace.metadata.dist] targets")?;
    Ok(Matrix { include })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::target::TargetTriple;

    #[test]
    fn each_family_goes_to_its_runner() {
        let triples: Vec<TargetTriple> = [
            "aarch64-unknown-linux-musl",
            "aarch64-pc-windows-msvc",
            "x86_64-apple-darwin",
        ]
        .iter()
        .map(|t| TargetTriple::parse(t).unwrap())
        .collect();
        let json = serde_json::to_string(&matrix(&triples).unwrap()).unwrap();
        assert_eq!(
            json,
            r#"{"include":[{"target":"aarch64-unknown-linux-musl","runner":"ubuntu-24.04","build":"cargo-zigbuild"},{"target":"aarch64-pc-windows-msvc","runner":"windows-2022","build":"msvc"},{"target":"x86_64-apple-darwin","runner":"macos-14","build":"cargo"}]}"#
        );
    }

    #[test]
    fn a_target_nothing_builds_is_an_error_naming_it() {
        let wasm = [TargetTriple::parse("wasm32-unknown-unknown").unwrap()];
        let err = format!("{:#}", matrix(&wasm).unwrap_err());
        assert!(err.contains("wasm32-unknown-unknown"), "{err}");
    }
}
