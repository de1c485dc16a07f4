//! The musl build of linkaudit itself (the one the release ships for Linux): it is static, and its
//! scan, which opens files through its own `openat` call on musl, finds what the host build finds.

mod common;

use common::{crate_dir, fixtures, linkaudit, stderr, stdout};
use std::path::Path;
use std::process::Command;

#[test]
fn musl_linkaudit_is_static_and_scans_like_the_host_build() {
    let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("musl-linkaudit");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let build = Command::new(cargo)
        .current_dir(crate_dir())
        .args(["build", "--quiet", "-p", "linkaudit", "--bin", "linkaudit"])
        .args(["--target", "x86_64-unknown-linux-musl", "--target-dir"])
        .arg(&target_dir)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .output()
        .expect("run cargo");
    assert!(
        build.status.success(),
        "building linkaudit for musl failed; install the target with `rustup target add x86_64-unknown-linux-musl`\n{}",
        String::from_utf8_lossy(&build.stderr)
    );
    let musl = target_dir.join("x86_64-unknown-linux-musl/debug/linkaudit");

    let checked = linkaudit(&[&"--policy", &"static", &musl]);
    assert_eq!(checked.status.code(), Some(0), "{}", stdout(&checked));

    // Scan the directory holding the fixtures with both builds: same binaries, same facts.
    let tree = fixtures()
        .c_static
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    let host = linkaudit(&[&"scan", &"--json", &tree]);
    assert_eq!(host.status.code(), Some(0), "{}", stderr(&host));
    let from_musl = Command::new(&musl)
        .arg("scan")
        .arg("--json")
        .arg(&tree)
        .output()
        .unwrap();
    assert_eq!(from_musl.status.code(), Some(0), "{}", stderr(&from_musl));
    assert_eq!(stdout(&from_musl), stdout(&host));
    assert!(stdout(&host).lines().count() > 8, "{}", stdout(&host));
}
