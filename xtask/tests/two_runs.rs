//! Two runs into one out dir (xtask/src/workspace/lock.rs): while a real `cargo xtask dist` on
//! the fixture workspace holds dist/ (stopped by the `XTASK_TEST_PAUSE_AT` hook after it staged
//! its archive, so no sleep guesses the moment), a second `cargo xtask dist` and a
//! `cargo xtask gather` into the same dist/ fail at once with one line naming the first run's pid and command, and change
//! nothing; the first run then finishes, its dist/ checks out with sha256sum, and no `.lock` is
//! left; a next run goes through.
//!
//! Needs: rustup target x86_64-unknown-linux-musl, zig + cargo-zigbuild (or pip), sha256sum, git.

#![cfg(target_os = "linux")]

mod common;

use common::{make_fixture, ok, repo_root, snapshot, xtask};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

const MUSL: &str = "x86_64-unknown-linux-musl";

#[test]
fn a_second_run_fails_at_once_naming_the_first_and_never_interleaves() {
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("two-runs");
    let _ = std::fs::remove_dir_all(&work);
    let ws = work.join("ws");
    make_fixture(&ws, &repo_root().join("Cargo.lock"));
    let dist = ws.join("dist");

    let mut first = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["dist", "--target", MUSL])
        .current_dir(&ws)
        .env("XTASK_TEST_PAUSE_AT", "pack:0")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("SOURCE_DATE_EPOCH")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(first.stderr.take().unwrap()).lines();
    let paused = stderr
        .by_ref()
        .map(Result::unwrap)
        .any(|l| l == "paused at pack:0");
    assert!(paused, "the first run ended before it packed");
    let holder = std::fs::read_to_string(dist.join(".lock")).unwrap();
    assert_eq!(
        holder,
        format!("pid {}: cargo xtask dist --target {MUSL}\n", first.id())
    );
    let while_held = snapshot(&dist);

    let part = work.join("part");
    std::fs::create_dir_all(&part).unwrap();
    let seconds: [&[&str]; 2] = [&["dist", "--target", MUSL], &["gather", "../part"]];
    for args in seconds {
        let second = xtask(
            Command::new(env!("CARGO_BIN_EXE_xtask"))
                .args(args)
                .current_dir(&ws),
        );
        assert_eq!(second.code, 1, "{args:?}");
        let expected = format!(
            "error: {} is locked by another run (pid {}: cargo xtask dist --target {MUSL}): one \
             run at a time per out dir; wait for it to finish, or pass another --out-dir\n",
            dist.display(),
            first.id()
        );
        assert_eq!(second.stderr, expected, "{args:?}");
        assert!(snapshot(&dist) == while_held, "{args:?} changed dist/");
    }

    drop(first.stdin.take()); // the hook waits for its stdin to close
    for line in stderr {
        eprintln!("first run: {}", line.unwrap());
    }
    assert!(first.wait().unwrap().success(), "the first run failed");
    let names: Vec<String> = snapshot(&dist).into_keys().collect();
    assert!(
        names.iter().all(|n| !n.starts_with('.')),
        "left in dist/: {names:?}"
    );
    ok(Command::new("sha256sum")
        .args(["-c", "--strict", "SHA256SUMS"])
        .current_dir(&dist));

    let next = xtask(
        Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(["dist", "--target", MUSL])
            .current_dir(&ws),
    );
    assert_eq!(next.code, 0, "the lock was not released");
}
