//! Mach-O files linked here by zig (cargo-zigbuild, no Apple SDK): without
//! `MACOSX_DEPLOYMENT_TARGET` zig stamps the newest macOS it knows as `minos`, and the macOS
//! policy must refuse that file; the same code built with the floor set must pass.

mod common;
mod release;

use common::{crate_dir, fixture_target_dir, linkaudit, stdout};
use linkaudit::contract::Manifest;
use linkaudit::{audit_path, OsVersion, Policy};
use release::{verify, write_tampered_release, Archive, Entry, Tamper, PACKAGE};
use std::path::{Path, PathBuf};
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

/// A release of one aarch64 Apple archive holding `binary` (and a wheel of it when
/// `wheel_tag` is given), verified with the manifest edited by `edit` (and every checksum made
/// to agree).
fn verify_apple_release(
    name: &str,
    binary: &Path,
    wheel_tag: Option<&str>,
    edit: &dyn Fn(&mut Manifest),
) -> (i32, String) {
    let target = "aarch64-apple-darwin";
    let file = |path: String| Entry::File {
        path,
        data: std::fs::read(binary).unwrap(),
        mode: 0o755,
    };
    let mut archives = vec![Archive {
        target,
        entries: vec![file(format!("{PACKAGE}-{target}/hello"))],
        file_name: None,
    }];
    if let Some(tag) = wheel_tag {
        archives.push(Archive {
            target,
            entries: vec![file(format!("{PACKAGE}-0.1.0.data/scripts/hello"))],
            file_name: Some(format!("{PACKAGE}-0.1.0-py3-none-{tag}.whl")),
        });
    }
    let tamper = Tamper {
        manifest: Some(edit),
        ..Tamper::default()
    };
    let dir = write_tampered_release(name, &archives, "2.17", &tamper);
    let (code, out) = verify(&dir);
    (code.unwrap(), out)
}

#[test]
fn verify_holds_apple_archives_to_the_manifests_macos_floor() {
    let at_floor = zig_built_hello(Some("11.0"));
    let (code, out) = verify_apple_release("apple-at-floor", &at_floor, None, &|m| {
        m.macos_floor = Some("11.0".into())
    });
    assert_eq!(code, 0, "{out}");

    // zig's default minos is above aarch64's default floor (11.0, manifest's macos_floor null).
    let unset = zig_built_hello(None);
    let minos = audit_path(&unset).unwrap().os_floor.unwrap().min;
    let (code, out) = verify_apple_release("apple-default-floor", &unset, None, &|_| {});
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!(
            "minos {minos} (macos:11.0: aarch64 slice is above the macOS floor 11.0"
        )),
        "{out}"
    );

    // The floor comes from the manifest: raised to that minos (and the recorded policy with it),
    // the same binary passes.
    let raised = |m: &mut Manifest| {
        m.macos_floor = Some(minos.to_string());
        for artifact in &mut m.artifacts {
            artifact.policy = Some(format!("macos:{minos}"));
        }
    };
    let tag = format!("macosx_{}_{}_arm64", minos.major, minos.minor);
    let (code, out) = verify_apple_release("apple-raised-floor", &unset, Some(&tag), &raised);
    assert_eq!(code, 0, "{out}");
    // A wheel's tag promises its macOS: one that claims 11.0 for that binary is refused.
    let wheel = "macosx_11_0_arm64";
    let (code, out) = verify_apple_release("apple-wheel-tag", &unset, Some(wheel), &raised);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!(
            "{PACKAGE}-0.1.0-py3-none-{wheel}.whl!{PACKAGE}-0.1.0.data/scripts/hello: fails its \
             target's policy: minos {minos} (macos:11.0: aarch64 slice is above the macOS floor"
        )),
        "{out}"
    );

    // A floor that is no version is named, and Rust's default applies.
    let (code, out) = verify_apple_release("apple-bad-floor", &at_floor, None, &|m| {
        m.macos_floor = Some("eleven".into())
    });
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("macos_floor \"eleven\" is not a macOS version"),
        "{out}"
    );
}
