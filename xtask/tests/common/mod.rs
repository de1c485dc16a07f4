//! Helpers shared by the end-to-end tests on the fixture workspace (dist.rs, gather.rs,
//! kill_and_tamper.rs):
//! copying and committing the fixture, running commands, snapshots of an out dir.

#![allow(dead_code)] // each test file uses its own subset

pub mod minisign;
pub mod workflow;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const EPOCH: u64 = 1_700_000_000; // 2023-11-14T22:13:20Z, the fixture commit's date

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

pub fn run(cmd: &mut Command) -> Output {
    let output = cmd.output().unwrap_or_else(|err| panic!("{cmd:?}: {err}"));
    output
}

pub fn ok(cmd: &mut Command) -> String {
    let output = run(cmd);
    assert!(
        output.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Copies the fixture to `ws`, adds the real .cargo/config.toml and a copy of the real xtask,
/// resolves Cargo.lock (from `lock`, so both clones use the same versions) and commits with a
/// fixed date, so that SOURCE_DATE_EPOCH comes from the commit.
pub fn make_fixture(ws: &Path, lock: &Path) {
    make_fixture_with(ws, lock, |_| {});
}

/// `make_fixture`, with `edit` changing the copied files before the commit.
pub fn make_fixture_with(ws: &Path, lock: &Path, edit: impl FnOnce(&Path)) {
    let root = repo_root();
    copy_dir(&root.join("xtask/tests/fixtures/workspace"), ws);
    copy_dir(&root.join(".cargo"), &ws.join(".cargo"));
    copy_dir(&root.join("xtask/src"), &ws.join("xtask/src"));
    let manifest = std::fs::read_to_string(root.join("xtask/Cargo.toml")).unwrap();
    let linkaudit = root.join("crates/linkaudit");
    let manifest = manifest.replace(
        "path = \"../crates/linkaudit\"",
        &format!("path = {:?}", linkaudit.display().to_string()),
    );
    assert!(manifest.contains(&linkaudit.display().to_string()));
    std::fs::write(ws.join("xtask/Cargo.toml"), manifest).unwrap();
    std::fs::copy(lock, ws.join("Cargo.lock")).unwrap();
    edit(ws);
    ok(Command::new("cargo")
        .args(["metadata", "--format-version", "1"])
        .current_dir(ws)
        .env_remove("CARGO_TARGET_DIR"));
    let git = |args: &[&str]| {
        ok(Command::new("git")
            .args(args)
            .current_dir(ws)
            .env("GIT_AUTHOR_NAME", "fixture")
            .env("GIT_AUTHOR_EMAIL", "fixture@example.invalid")
            .env("GIT_COMMITTER_NAME", "fixture")
            .env("GIT_COMMITTER_EMAIL", "fixture@example.invalid")
            .env("GIT_AUTHOR_DATE", format!("@{EPOCH} +0000"))
            .env("GIT_COMMITTER_DATE", format!("@{EPOCH} +0000")))
    };
    git(&["init", "-q", "-b", "main"]);
    std::fs::write(ws.join(".gitignore"), "/target\n/dist\n").unwrap();
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "fixture"]);
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the xtask without the caller's CARGO_TARGET_DIR, SOURCE_DATE_EPOCH, CARGO_BUILD_TARGET and
/// minisign key, unless `cmd` sets them itself.
pub fn xtask(cmd: &mut Command) -> Run {
    for var in [
        "CARGO_TARGET_DIR",
        "SOURCE_DATE_EPOCH",
        "MINISIGN_SECRET_KEY",
        "MINISIGN_PASSWORD",
    ] {
        if !cmd.get_envs().any(|(key, _)| key == var) {
            cmd.env_remove(var);
        }
    }
    let output = run(cmd.env_remove("CARGO_BUILD_TARGET"));
    let r = Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    eprintln!("--- {cmd:?} exited {}\n{}\n{}", r.code, r.stdout, r.stderr);
    r
}

/// Every file in a dir with its bytes, by name.
pub type Snapshot = BTreeMap<String, Vec<u8>>;

/// Every file in dist/ with its bytes: "unchanged" means this map is equal.
pub fn snapshot(dir: &Path) -> Snapshot {
    match std::fs::read_dir(dir) {
        Err(_) => BTreeMap::new(),
        Ok(entries) => entries
            .map(|e| e.unwrap())
            .map(|e| {
                let bytes = if e.file_type().unwrap().is_dir() {
                    b"<dir>".to_vec()
                } else {
                    std::fs::read(e.path()).unwrap()
                };
                (e.file_name().to_string_lossy().into_owned(), bytes)
            })
            .collect(),
    }
}

pub fn archive_name(target: &str) -> String {
    let ext = if target.contains("-windows-") {
        "zip"
    } else {
        "tar.gz"
    };
    format!("fixture-cli-{target}.{ext}")
}

/// The linkaudit CLI of this workspace (`linkaudit verify`), built by cargo like any binary.
pub fn build_linkaudit() -> PathBuf {
    let out = ok(Command::new(env!("CARGO"))
        .args(["build", "-p", "linkaudit", "--bin", "linkaudit"])
        .arg("--message-format=json-render-diagnostics")
        .current_dir(repo_root()));
    let executable = out
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .expect("cargo built no linkaudit executable");
    assert!(executable.is_file(), "{}", executable.display());
    executable
}

/// The SBOM beside the fixture's archive for `target`.
pub fn sbom(target: &str) -> String {
    format!("fixture-cli-{target}.cdx.json")
}

/// The first artifact of `target` in a parsed dist-manifest.json.
pub fn artifact_of<'a>(manifest: &'a serde_json::Value, target: &str) -> &'a serde_json::Value {
    manifest["artifacts"]
        .as_array()
        .expect("the manifest lists artifacts")
        .iter()
        .find(|a| a["target"] == target)
        .unwrap_or_else(|| panic!("no artifact for {target} in the manifest"))
}
