//! Mach-O files linked here by zig (cargo-zigbuild, no Apple SDK): without
//! `MACOSX_DEPLOYMENT_TARGET` zig stamps the newest macOS it knows as `minos`, and the macOS
//! policy must refuse that file; the same code built with the floor set must pass.

mod common;

use common::{crate_dir, fixture_target_dir, linkaudit, stdout};
use linkaudit::{audit_path, OsVersion, Policy};
use std::path::PathBuf;
use std::process::Command;

/// Builds the `hello` fixture for aarch64-apple-darwin into its own target directory (the
/// variable changes the link, and each variant keeps its own build).
fn zig_built_hello(deployment_target: Option<&str>) -> PathBuf {
    let target_dir = fixture_target_dir().join(format!(
        "apple-minos-{}",
        deployment_target.unwrap_or("unset")
    ));
    let mut cargo = Command::new("cargo");
    cargo
        .current_dir(crate_dir().join("tests/fixtures"))
        .args(["zigbuild", "--release", "--quiet", "-p", "hello"])
        .args(["--target", "aarch64-apple-darwin", "--target-dir"])
        .arg(&target_dir)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("MACOSX_DEPLOYMENT_TARGET");
    if let Some(version) = deployment_target {
        cargo.env("MACOSX_DEPLOYMENT_TARGET", version);
    }
    let output = cargo.output().expect("run cargo zigbuild");
    assert!(
        output.status.success(),
        "cargo zigbuild for aarch64-apple-darwin failed; install it with `pip install ziglang cargo-zigbuild` and `rustup target add aarch64-apple-darwin`\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    target_dir.join("aarch64-apple-darwin/release/hello")
}

#[test]
fn zig_default_minos_fails_macos_11_and_the_floor_set_passes() {
    let unset = zig_built_hello(None);
    let audit = audit_path(&unset).unwrap();
    let os = audit.os_floor.clone().unwrap();
    assert_eq!(os.platform, "macos");
    assert!(
        os.min > OsVersion::new(11, 0),
        "zig's default minos: {os:?}"
    );
    let output = linkaudit(&[&"--policy", &"macos:11.0", &unset]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    assert!(
        stdout(&output).contains(&format!(
            "{}: minos {} (macos:11.0: aarch64 slice is above the macOS floor 11.0; build with MACOSX_DEPLOYMENT_TARGET=11.0)",
            unset.display(),
            os.min
        )),
        "{}",
        stdout(&output)
    );

    let set = zig_built_hello(Some("11.0"));
    let audit = audit_path(&set).unwrap();
    assert_eq!(audit.os_floor.as_ref().unwrap().min, OsVersion::new(11, 0));
    assert_eq!(audit.needed, ["/usr/lib/libSystem.B.dylib"]);
    assert_eq!(Policy::Macos(OsVersion::new(11, 0)).check(&audit), vec![]);
    let output = linkaudit(&[&"--policy", &"macos:11.0", &set]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
}
