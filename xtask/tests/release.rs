//! The release as the workflow cuts it, rehearsed here.
//!
//! - `cargo xtask plan` on this repository: one line of JSON with the version, tag, title,
//!   pre-release flag, each target of `[workspace.metadata.dist]` on the runner of its build
//!   method, and a smoke job for every target its build runner cannot start.
//! - Bad input (a tag that is not v<semver>, a tag of another version, no CHANGELOG section, a
//!   retired or misspelled runner label): one line naming problem and fix, exit 1, nothing written.
//! - `cargo xtask release --dry-run --tag v0.1.0` end to end on the fixture workspace (three
//!   targets: one native, one under qemu-user, one this host skips): the plan, a dist and a smoke
//!   run per local target, gather, the CHANGELOG notes, and the exact gh commands and assets,
//!   with nothing written outside target/release-dry-run; the `cargo xtask` commands it ran are
//!   the ones release.yml runs. Without a tag and a CHANGELOG section: GitHub's generated notes.
//!
//! Needs what xtask/tests/dist.rs needs (rustup targets, zig + cargo-zigbuild or pip,
//! qemu-user-static), plus git and sha256sum.

#![cfg(target_os = "linux")]

mod common;

use common::workflow::{jobs, run_lines, xtask_shape};
use common::*;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

fn xtask_bin() -> &'static str {
    env!("CARGO_BIN_EXE_xtask")
}

#[test]
fn plan_prints_the_release_plan_as_one_json_line() {
    let root = repo_root();
    let output = run(Command::new(xtask_bin())
        .args(["plan", "--tag", "v0.1.0"])
        .current_dir(&root));
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        stdout.lines().count(),
        1,
        "more than the JSON line: {stdout}"
    );
    let plan: serde_json::Value = serde_json::from_str(&stdout).expect("plan prints JSON");
    let manifest = std::fs::read_to_string(root.join("crates/linkaudit/Cargo.toml")).unwrap();
    assert!(
        manifest.contains("\nversion = \"0.1.0\"\n"),
        "the linkaudit version changed"
    );
    assert_eq!(plan["version"], "0.1.0");
    assert_eq!(plan["tag"], "v0.1.0");
    assert_eq!(plan["title"], "linkaudit 0.1.0");
    assert_eq!(plan["prerelease"], false);
    assert_eq!(plan["publish"], true);
    let include = plan["build"]["include"].as_array().unwrap();
    let targets: Vec<&str> = include
        .iter()
        .map(|e| e["target"].as_str().unwrap())
        .collect();
    let meta = ok(Command::new("cargo")
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .current_dir(&root));
    let meta: serde_json::Value = serde_json::from_str(&meta).unwrap();
    let listed: Vec<&str> = meta["metadata"]["dist"]["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(targets, listed);
    for entry in include {
        let target = entry["target"].as_str().unwrap();
        // Apple targets link on Linux through zig (none is listed in build-on-macos).
        let runner = if target.contains("-windows-") {
            "windows-2022"
        } else {
            "ubuntu-24.04"
        };
        assert_eq!(entry["runner"], runner, "{target}");
    }
    // Every binary is started somewhere: the ones the build runner cannot start by a smoke job on
    // a runner of their own OS and CPU.
    let smoke: Vec<(String, String)> = plan["smoke"]["include"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["target"].as_str().unwrap().into(),
                e["runner"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        smoke,
        [
            ("aarch64-pc-windows-msvc".into(), "windows-11-arm".into()),
            ("x86_64-apple-darwin".into(), "macos-15-intel".into()),
            ("aarch64-apple-darwin".into(), "macos-15".into()),
        ]
    );
    assert_eq!(plan["not_started"], serde_json::json!([]));

    // The workflow passes an empty tag on a dry run: no tag, nothing to publish.
    let dry = ok(Command::new(xtask_bin())
        .args(["plan", "--tag", ""])
        .current_dir(&root));
    let dry: serde_json::Value = serde_json::from_str(&dry).unwrap();
    assert_eq!(
        (&dry["publish"], &dry["tag"]),
        (&serde_json::json!(false), &serde_json::json!("v0.1.0"))
    );
}

/// The fixture with `edit` applied to its Cargo.toml text, a CHANGELOG.md, and the matrix cut
/// to `targets`.
fn fixture(
    name: &str,
    targets: &[&str],
    changelog: Option<&str>,
    extra: &str,
) -> std::path::PathBuf {
    let ws = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name).join("ws");
    let _ = std::fs::remove_dir_all(ws.parent().unwrap());
    make_fixture_with(&ws, &repo_root().join("Cargo.lock"), |ws| {
        let path = ws.join("Cargo.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        let start = text.find("targets = [").unwrap();
        let end = start + text[start..].find(']').unwrap() + 1;
        let list: Vec<String> = targets.iter().map(|t| format!("{t:?}")).collect();
        let text = format!(
            "{}targets = [{}]{}\n{extra}",
            &text[..start],
            list.join(", "),
            &text[end..]
        );
        std::fs::write(path, text).unwrap();
        if let Some(changelog) = changelog {
            std::fs::write(ws.join("CHANGELOG.md"), changelog).unwrap();
        }
    });
    ws
}

const CHANGELOG: &str = "# Changelog\n\n## [Unreleased]\n\n## [0.1.0] - 2026-11-24\n\n### Added\n\n- The fixture CLI.\n";

#[test]
fn bad_input_is_one_line_and_exit_1_with_nothing_written() {
    let ws = fixture(
        "release-bad-input",
        &["x86_64-unknown-linux-musl"],
        Some("# Changelog\n\n## [0.0.9]\n\n- older\n"),
        "",
    );
    let before = snapshot(&ws);
    let bad = |args: &[&str], ws: &Path, expected: &str| {
        let r = xtask(Command::new(xtask_bin()).args(args).current_dir(ws));
        assert_eq!(r.code, 1, "{args:?}");
        let line = r.stderr.trim_end();
        assert!(!line.contains('\n'), "{args:?}: more than one line: {line}");
        assert!(
            line.starts_with("error: ") && line.contains(expected),
            "{args:?}: {line}"
        );
        assert!(r.stdout.is_empty(), "{args:?}: {}", r.stdout);
    };
    bad(&["plan", "--tag", "0.1.0"], &ws, "does not start with `v`");
    bad(&["plan", "--tag", "v0.1"], &ws, "not a SemVer version");
    bad(
        &["plan", "--tag", "v0.2.0"],
        &ws,
        "does not match the shipped version 0.1.0",
    );
    bad(
        &["plan", "--tag", "v0.1.0"],
        &ws,
        "has no section for 0.1.0: add `## [0.1.0]",
    );
    bad(
        &["release-notes", "v0.1.0"],
        &ws,
        "has no section for 0.1.0",
    );
    bad(
        &["release", "--dry-run", "--tag", "v0.2.0"],
        &ws,
        "does not match",
    );
    assert_eq!(snapshot(&ws), before, "a refused run changed the workspace");

    // Runner labels in the metadata: a misspelled one is refused with the nearest current label;
    // a retired one is a warning on a dry run and refused on a release.
    let typo = fixture(
        "release-bad-label",
        &["x86_64-unknown-linux-musl"],
        Some(CHANGELOG),
        "[workspace.metadata.dist.runners]\nlinux = \"ubunut-24.04\"\n",
    );
    bad(
        &["plan"],
        &typo,
        "`ubunut-24.04` is not a GitHub runner label; did you mean `ubuntu-24.04`?",
    );
    let retired = fixture(
        "release-retired-label",
        &["aarch64-apple-darwin"],
        Some(CHANGELOG),
        "[workspace.metadata.dist.runners]\nmacos = \"macos-14\"\n",
    );
    let dry = xtask(Command::new(xtask_bin()).arg("plan").current_dir(&retired));
    assert_eq!(dry.code, 0);
    assert!(
        dry.stderr.contains("warning: runner label `macos-14` in [workspace.metadata.dist] was retired by GitHub on 2026-11-02"),
        "{}",
        dry.stderr
    );
    bad(&["plan", "--tag", "v0.1.0"], &retired, "`macos-14`");
}

/// The `cargo xtask` commands a rehearsal ran or would run, as `xtask_shape` writes them.
fn rehearsal_shapes(stdout: &str) -> BTreeSet<String> {
    stdout
        .lines()
        .filter(|l| l.contains("$ cargo xtask "))
        .filter_map(xtask_shape)
        // A host that builds only some targets gathers those (`--target`); the workflow has all.
        .map(|s| s.replace("gather --out-dir --target", "gather --out-dir"))
        .collect()
}

const DRY_RUN_TARGETS: [&str; 3] = [
    "x86_64-unknown-linux-musl",
    "aarch64-unknown-linux-musl",
    // Not buildable here: listed with its runner, left out of the local gather.
    "x86_64-pc-windows-msvc",
];

#[test]
fn release_dry_run_end_to_end() {
    let ws = fixture("release-dry-run", &DRY_RUN_TARGETS, Some(CHANGELOG), "");
    let r = xtask(
        Command::new(xtask_bin())
            .args(["release", "--dry-run", "--tag", "v0.1.0"])
            .current_dir(&ws),
    );
    assert_eq!(r.code, 0, "the rehearsal failed");
    let work = ws.join("target/release-dry-run");
    runs_plan_dist_smoke_and_gather(&r.stdout, &work);
    notes_and_gh_commands_name_every_asset(&r.stdout, &work);
    writes_nothing_outside_its_dir(&ws);
    // The workflow runs the commands the rehearsal ran (or printed, for publishing).
    let workflow =
        std::fs::read_to_string(repo_root().join(".github/workflows/release.yml")).unwrap();
    let in_yaml: BTreeSet<String> = jobs(&workflow)
        .iter()
        .flat_map(|(_, body)| run_lines(body))
        .filter_map(|l| xtask_shape(&l))
        .collect();
    assert_eq!(rehearsal_shapes(&r.stdout), in_yaml);
    without_a_tag_github_writes_the_notes(&ws);
}

/// `out` contains `text`, or the assertion shows all of it.
fn has(out: &str, text: &str) {
    assert!(out.contains(text), "no `{text}` in:\n{out}");
}

/// The plan, one dist and one smoke per buildable target (the binaries started natively and
/// under qemu-user), the one left to its runner, and the gather.
fn runs_plan_dist_smoke_and_gather(out: &str, work: &Path) {
    has(
        out,
        &format!(
            "$ cargo xtask plan --tag v0.1.0 --github-output {}",
            work.join("github-output").display()
        ),
    );
    has(out, "release fixture-cli 0.1.0 (v0.1.0), release");
    for target in &DRY_RUN_TARGETS[..2] {
        let part = work.join(format!("parts/dist-{target}"));
        has(
            out,
            &format!(
                "$ cargo xtask dist --target {target} --out-dir {}",
                part.display()
            ),
        );
        has(out, &format!("$ cargo xtask smoke {}", part.display()));
    }
    has(
        out,
        "skip    x86_64-pc-windows-msvc: this host lacks MSVC's link.exe",
    );
    has(out, "the workflow builds it on windows-2022");
    has(out, &format!(
        "$ cargo xtask gather --target x86_64-unknown-linux-musl --target aarch64-unknown-linux-musl --out-dir {}",
        work.join("dist").display()
    ));
    has(out, "smoke   x86_64-unknown-linux-musl");
    has(out, "fixture-cli --version directly:");
    has(out, "fixture-cli --version under qemu-aarch64");
}

/// The notes are the CHANGELOG section; the gh commands name every asset; the release checks.
fn notes_and_gh_commands_name_every_asset(out: &str, work: &Path) {
    let dist = work.join("dist");
    let notes = std::fs::read_to_string(work.join("release-notes.md")).unwrap();
    assert_eq!(notes, "### Added\n\n- The fixture CLI.\n");
    let mut assets: Vec<String> = snapshot(&dist).into_keys().collect();
    assets.sort();
    for target in &DRY_RUN_TARGETS[..2] {
        let archive = archive_name(target);
        assert!(assets.contains(&archive) && assets.contains(&format!("{archive}.sha256")));
    }
    for name in ["SHA256SUMS", "dist-manifest.json", "install.sh"] {
        assert!(assets.contains(&name.to_owned()), "{assets:?}");
    }
    has(
        out,
        &format!("assets  {} file(s) from {}:", assets.len(), dist.display()),
    );
    let paths: Vec<String> = assets
        .iter()
        .map(|a| dist.join(a).display().to_string())
        .collect();
    has(out, &format!(
        "gh release create v0.1.0 --draft --verify-tag --title 'fixture-cli 0.1.0' --notes-file {} {}",
        work.join("release-notes.md").display(),
        paths.join(" ")
    ));
    has(out, "gh release edit v0.1.0 --draft=false\n");
    has(
        out,
        &format!(
            "$ cargo xtask release --draft --tag v0.1.0 --dist {}",
            dist.display()
        ),
    );
    has(out, "$ cargo xtask release --publish --tag v0.1.0");
    has(
        out,
        &format!("$ cargo xtask sign {} --if-key", dist.display()),
    );
    let checked = ok(Command::new("sha256sum")
        .args(["-c", "SHA256SUMS"])
        .current_dir(&dist));
    assert_eq!(
        checked.lines().filter(|l| l.ends_with(": OK")).count(),
        4, // two archives and their SBOMs
        "{checked}"
    );
}

/// A dry run writes nothing outside target/release-dry-run.
fn writes_nothing_outside_its_dir(ws: &Path) {
    assert!(!ws.join("dist").exists());
    let status = ok(Command::new("git")
        .args(["status", "--porcelain"])
        .current_dir(ws));
    assert_eq!(
        status, "",
        "the rehearsal changed tracked or unignored files"
    );
}

/// Without a tag and without a CHANGELOG section: GitHub's generated notes.
fn without_a_tag_github_writes_the_notes(ws: &Path) {
    std::fs::remove_file(ws.join("CHANGELOG.md")).unwrap();
    let r = xtask(
        Command::new(xtask_bin())
            .args(["release", "--dry-run"])
            .current_dir(ws),
    );
    assert_eq!(r.code, 0, "the rehearsal without a tag failed");
    has(&r.stdout, "a dry run uses GitHub's generated notes");
    has(&r.stdout, "gh release create v0.1.0 --draft --verify-tag --title 'fixture-cli 0.1.0' --generate-notes ");
}
