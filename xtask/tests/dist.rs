//! End to end: `cargo xtask dist` on a fixture workspace (xtask/tests/fixtures/workspace: a binary
//! crate and a crate compiling C through `cc`), for the five targets a Linux host builds
//!.
//!
//! One test with phases, so that the fixture is built once per clone (CI has 2 cores):
//! 1. clone A, with a copy of this xtask (linkaudit path made absolute: the "works in another
//!    workspace" proof), on a PATH without cargo-zigbuild (the xtask installs it) and
//!    with a poisonous RUSTFLAGS (ignored). Checks the plan, the step lines, the summary.
//! 2. dist/ checked with real tools: `sha256sum -c`, `tar -tzvf`, python's zipfile; the gzip
//!    header's bytes; linkage re-audited; manifest; the checkout path is absent from the binaries.
//! 3. bad input: each a one-line error, non-zero exit, dist/ unchanged.
//!    Also: offline on a fresh machine, a one-line error naming what to install.
//! 4. a deliberately dynamic binary (libz through the config's rustflags) is refused; a later
//!    run replaces the previous run's files and keeps foreign ones.
//! 5. clone B at another path, built later: byte-identical binaries, archives, SHA256SUMS and
//!    manifest, and byte-identical Apple archives.
//!
//! Needs: rustup targets x86_64/aarch64-unknown-linux-gnu/musl and x86_64-pc-windows-gnu,
//! python3 with pip (network to PyPI for the zig install), gcc-mingw-w64-x86-64,
//! qemu-user-static, libc6-arm64-cross, zlib1g (libz.so.1), sha256sum, tar, git.

#![cfg(target_os = "linux")]

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

const LOCAL_TARGETS: [&str; 5] = [
    "x86_64-unknown-linux-gnu",
    "aarch64-unknown-linux-gnu",
    "x86_64-unknown-linux-musl",
    "aarch64-unknown-linux-musl",
    "x86_64-pc-windows-gnu",
];

/// Built here through cargo-zigbuild without Apple's SDK, at the fixture's macos-floor 11.0, in a
/// run of their own (`--target`, one floor for both); clone B builds them too, and they must be
/// the same bytes (without `-Wl,-S` they differed in the 16 bytes of LC_UUID).
const APPLE_TARGETS: [&str; 2] = ["x86_64-apple-darwin", "aarch64-apple-darwin"];

/// A PATH like a fresh machine's: everything in the system's bin directories, cargo, rustc,
/// rustup and python3, but no cargo-zigbuild and no zig. One directory of
/// symlinks, so that a cargo-zigbuild installed system-wide is hidden too.
fn fresh_path(dir: &Path) -> std::ffi::OsString {
    const HIDDEN: [&str; 2] = ["cargo-zigbuild", "zig"];
    let bin = dir.join("fresh-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let link = |target: &Path, name: &str| {
        let dest = bin.join(name);
        if !HIDDEN.contains(&name) && std::fs::symlink_metadata(&dest).is_err() {
            std::os::unix::fs::symlink(target, dest).unwrap();
        }
    };
    let which = |name: &str| {
        let out = ok(Command::new("sh").args(["-c", &format!("command -v {name}")]));
        PathBuf::from(out.trim())
    };
    for tool in ["cargo", "rustc", "rustup"] {
        link(&which(tool), tool);
    }
    // The interpreter itself, not a pyenv shim that needs pyenv on PATH.
    let python = ok(Command::new("python3").args(["-c", "import sys; print(sys.executable)"]));
    link(Path::new(python.trim()), "python3");
    for system in ["/usr/local/bin", "/usr/bin", "/bin"] {
        for entry in std::fs::read_dir(system).unwrap().flatten() {
            link(&entry.path(), &entry.file_name().to_string_lossy());
        }
    }
    let path = std::env::join_paths([bin]).unwrap();
    for hidden in HIDDEN {
        let found = run(Command::new("/bin/sh")
            .args(["-c", &format!("command -v {hidden}")])
            .env("PATH", &path));
        assert!(
            !found.status.success(),
            "{hidden} is still on the fresh PATH"
        );
    }
    path
}

/// A clone of the fixture and the PATH its `cargo xtask` runs under.
struct Clone {
    ws: PathBuf,
    path: std::ffi::OsString,
}

impl Clone {
    fn dist(&self) -> PathBuf {
        self.ws.join("dist")
    }

    /// `cargo xtask ARGS` on the fresh PATH, with RUSTFLAGS set to undo static linking.
    fn xtask(&self, args: &[&str]) -> Run {
        let mut cmd = Command::new("cargo");
        cmd.arg("xtask")
            .args(args)
            .current_dir(&self.ws)
            .env("PATH", &self.path)
            .env("RUSTFLAGS", "-C target-feature=-crt-static");
        xtask(&mut cmd)
    }

    /// Runs `then` with `file` (relative to the clone) edited by `edit`, then puts it back.
    fn with_edited(&self, file: &str, edit: impl FnOnce(&str) -> String, then: impl FnOnce()) {
        let path = self.ws.join(file);
        let good = std::fs::read_to_string(&path).unwrap();
        let edited = edit(&good);
        assert_ne!(edited, good, "the edit of {file} changed nothing");
        std::fs::write(&path, edited).unwrap();
        then();
        std::fs::write(&path, good).unwrap();
    }
}

#[test]
fn dist_end_to_end() {
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dist-e2e");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();

    let a = Clone {
        ws: work.join("clone-a/ws"),
        path: fresh_path(&work),
    };
    make_fixture(&a.ws, &repo_root().join("Cargo.lock"));
    first_run_on_a_fresh_machine(&a);
    apple_targets_link_here_through_zig(&work, &a);
    let help = a.xtask(&["dist", "--help"]);
    for option in ["--target", "--out-dir", "--json"] {
        assert!(help.stdout.contains(option), "{option}");
    }
    let before = snapshot(&a.dist());
    bad_input_leaves_dist_as_it_was(&a, &before);
    offline_names_what_to_install(&work, &a, &before);
    a_dynamic_binary_is_refused(&a, &before);
    a_run_replaces_only_its_own_files(&a, &before);
    another_clone_builds_the_same_bytes(&work, &a, &before);
}

/// Phase 1: clone A on a fresh machine's PATH, RUSTFLAGS set to undo static linking.
fn first_run_on_a_fresh_machine(a: &Clone) {
    let first = a.xtask(&["dist"]);
    assert_eq!(first.code, 0, "cargo xtask dist failed");
    check_report(&first);
    check_dist(&a.dist(), &a.ws);
}

/// Phase 2: both Apple targets (the C crate included) link here through zig at the macOS
/// floor, and pass macos:11.0; the manifest records the floor and each binary's minos.
fn apple_targets_link_here_through_zig(work: &Path, a: &Clone) {
    let apple_dist = work.join("apple-dist");
    let mut apple_args = vec!["dist", "--out-dir", apple_dist.to_str().unwrap()];
    for target in APPLE_TARGETS {
        apple_args.extend(["--target", target]);
    }
    let apple = a.xtask(&apple_args);
    assert_eq!(apple.code, 0, "{}", apple.stderr);
    check_apple(&apple, &apple_dist, &work.join("apple-unpacked"));
}

/// `cargo xtask ARGS` fails with exactly one error line containing `expected`, dist/ untouched.
fn refused(a: &Clone, before: &Snapshot, args: &[&str], expected: &str) {
    let r = a.xtask(args);
    assert_ne!(r.code, 0, "{args:?} succeeded");
    let errors: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.starts_with("error"))
        .collect();
    assert_eq!(errors.len(), 1, "{args:?}: {}", r.stderr);
    assert!(errors[0].contains(expected), "{args:?}: {}", errors[0]);
    assert_eq!(&snapshot(&a.dist()), before, "{args:?} changed dist/");
}

/// Phase 3: bad input is one line and leaves dist/ as it was.
fn bad_input_leaves_dist_as_it_was(a: &Clone, before: &Snapshot) {
    let bad = |args: &[&str], expected: &str| refused(a, before, args, expected);
    bad(
        &["dist", "--target", "x86_64-unknown-linux-gnux"],
        "unknown target triple `x86_64-unknown-linux-gnux`",
    );
    let tier3 = ok(Command::new("rustc").args(["--print", "target-list"]));
    assert!(tier3.lines().any(|l| l == "x86_64-unknown-linux-none"));
    bad(
        &["dist", "--target", "x86_64-unknown-linux-none"],
        "rustup ships no standard library for `x86_64-unknown-linux-none`",
    );
    bad(
        &["dist", "--target", "x86_64-pc-windows-msvc"],
        "cargo-xwin",
    );
    bad_config_leaves_dist_as_it_was(a, before);
}

/// Phase 3, the workspace's configuration: each mistake in Cargo.toml is one line.
fn bad_config_leaves_dist_as_it_was(a: &Clone, before: &Snapshot) {
    let bad = |args: &[&str], expected: &str| refused(a, before, args, expected);
    let floor = "macos-floor = \"11.0\"";
    // An Apple target listed in build-on-macos builds on the macOS runner only.
    a.with_edited(
        "Cargo.toml",
        |m| {
            m.replace(
                floor,
                &format!("{floor}\nbuild-on-macos = [\"aarch64-apple-darwin\"]"),
            )
        },
        || bad(&["dist", "--target", "aarch64-apple-darwin"], "macos-15"),
    );
    a.with_edited(
        "Cargo.toml",
        |m| m.replace(floor, "macos-floor = \"eleven\""),
        || bad(&["dist"], "macos-floor"),
    );
    let glibc = "glibc-floor = \"2.17\"";
    a.with_edited(
        "Cargo.toml",
        |m| m.replace(glibc, "glibc-floor = 2.17"),
        || bad(&["dist"], "malformed [workspace.metadata.dist]"),
    );
    a.with_edited(
        "Cargo.toml",
        |m| m.replace(glibc, "glibc_floor = \"2.17\""),
        || bad(&["dist"], "unknown field `glibc_floor`"),
    );
    a.with_edited(
        "Cargo.toml",
        |m| m.replace(DIST_PROFILE, ""),
        || bad(&["dist"], "has no [profile.dist]: add `[profile.dist]`"),
    );
    a.with_edited(
        "crates/fixture-cli/Cargo.toml",
        |m| m.replace("[dependencies]", "publish = false\n\n[dependencies]"),
        || bad(&["dist"], "nothing to ship"),
    );
}

/// The fixture's dist profile as its Cargo.toml spells it.
const DIST_PROFILE: &str =
    "[profile.dist]\ninherits = \"release\"\nlto = true\ncodegen-units = 1\nstrip = true\n";

/// Phase 3b: a fresh machine without network: one line naming what to install, dist/ as it
/// was. (An empty target dir has no tools; pip's index is a closed port on loopback.)
fn offline_names_what_to_install(work: &Path, a: &Clone, before: &Snapshot) {
    let offline = xtask(
        Command::new(a.ws.join("target/debug/xtask"))
            .arg("dist")
            .current_dir(&a.ws)
            .env("PATH", &a.path)
            .env("CARGO_TARGET_DIR", work.join("offline-target"))
            .env("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
            .env("PIP_RETRIES", "0")
            .env("PIP_TIMEOUT", "2")
            .env("PIP_NO_CACHE_DIR", "1"),
    );
    assert_ne!(offline.code, 0);
    let error = offline
        .stderr
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap();
    assert!(
        error.contains("install them yourself with `python3 -m pip install ziglang=="),
        "{error}"
    );
    assert_eq!(&snapshot(&a.dist()), before, "an offline run changed dist/");
}

/// Phase 4: a deliberately dynamic binary is refused, naming binary, target and culprit.
/// The flags come from .cargo/config.toml, so this also shows the config reaching the binary.
fn a_dynamic_binary_is_refused(a: &Clone, before: &Snapshot) {
    let libz = "\n[target.x86_64-unknown-linux-gnu]\nrustflags = [\"-C\", \
                \"link-arg=-Wl,--no-as-needed\", \"-C\", \"link-arg=/usr/lib/x86_64-linux-gnu/libz.so.1\"]\n";
    a.with_edited(
        ".cargo/config.toml",
        |config| format!("{config}{libz}"),
        || {
            let refused = a.xtask(&["dist", "--target", "x86_64-unknown-linux-gnu"]);
            assert_ne!(refused.code, 0);
            let error = refused
                .stderr
                .lines()
                .find(|l| l.starts_with("error:"))
                .unwrap();
            assert!(
                error.contains("fixture-cli (x86_64-unknown-linux-gnu): libz.so.1"),
                "{error}"
            );
            assert!(refused
                .stdout
                .contains("FAIL fixture-cli (x86_64-unknown-linux-gnu): libz.so.1"));
            assert_eq!(
                &snapshot(&a.dist()),
                before,
                "a refused binary changed dist/"
            );
        },
    );
}

/// Phase 4b: a run replaces what the previous run wrote (SHA256SUMS and the manifest describe
/// one build) and leaves other files alone; no file of the staging dir is left behind. The
/// profile is spelled `[profile] dist = {..}` this time: cargo's reading of it is the check, and
/// the archive is the same.
fn a_run_replaces_only_its_own_files(a: &Clone, before: &Snapshot) {
    let dist = a.dist();
    std::fs::write(dist.join("notes.txt"), "mine").unwrap();
    let inline = "[profile]\ndist = { inherits = \"release\", lto = true, codegen-units = 1, strip = true }\n";
    a.with_edited(
        "Cargo.toml",
        |m| m.replace(DIST_PROFILE, inline),
        || {
            let musl_only = a.xtask(&["dist", "--target", "x86_64-unknown-linux-musl"]);
            assert_eq!(musl_only.code, 0);
        },
    );
    let musl = archive_name("x86_64-unknown-linux-musl");
    let left: Vec<String> = snapshot(&dist).into_keys().collect();
    assert_eq!(
        left,
        [
            "SHA256SUMS".to_owned(),
            "dist-manifest.json".to_owned(),
            sbom("x86_64-unknown-linux-musl"),
            musl.clone(),
            format!("{musl}.sha256"),
            "install.sh".to_owned(),
            "notes.txt".to_owned()
        ]
    );
    assert!(
        before[&musl] == std::fs::read(dist.join(&musl)).unwrap(),
        "the musl archive built alone differs from the one built with the other targets"
    );
    ok(Command::new("sha256sum")
        .args(["-c", "SHA256SUMS"])
        .current_dir(&dist));
}

/// Phase 5: clone B at another path, later, with the system's cargo-zigbuild and no RUSTFLAGS,
/// run by the xtask binary clone A built: the same bytes.
fn another_clone_builds_the_same_bytes(work: &Path, a: &Clone, before: &Snapshot) {
    let b = work.join("somewhere/else/clone-b/ws");
    make_fixture(&b, &a.ws.join("Cargo.lock"));
    let second = xtask(
        Command::new(a.ws.join("target/debug/xtask"))
            .args(["dist", "--json"])
            .current_dir(&b)
            .env_remove("RUSTFLAGS"),
    );
    assert_eq!(second.code, 0);
    let json: serde_json::Value =
        serde_json::from_str(&second.stdout).expect("--json prints the manifest");
    assert_eq!(json["artifacts"].as_array().unwrap().len(), 5);
    let dist_b = b.join("dist");
    // The binaries first, so that a difference says whether the build or the packing leaked.
    for target in LOCAL_TARGETS {
        let name = archive_name(target);
        let in_a = binary_in(&before[&name], target, &work.join("binaries-a"));
        let in_b = binary_in(
            &std::fs::read(dist_b.join(&name)).unwrap(),
            target,
            &work.join("binaries-b"),
        );
        assert!(
            in_a == in_b,
            "the {target} binary differs between two clones of one commit"
        );
    }
    for name in LOCAL_TARGETS
        .iter()
        .flat_map(|t| [archive_name(t), sbom(t)])
        .chain(["SHA256SUMS", "dist-manifest.json", "install.sh"].map(String::from))
    {
        assert!(
            before[&name] == std::fs::read(dist_b.join(&name)).unwrap(),
            "{name} differs between two clones of one commit"
        );
    }
    check_no_paths(&dist_b, &[&a.ws, &b]);
    assert_eq!(
        json,
        serde_json::from_slice::<serde_json::Value>(&before["dist-manifest.json"]).unwrap()
    );
    apple_archives_are_the_same_bytes(work, a, &b);
}

/// Clone B's Apple archives, built like clone A's in phase 2, are the same bytes.
fn apple_archives_are_the_same_bytes(work: &Path, a: &Clone, b: &Path) {
    let apple_b = work.join("apple-dist-b");
    let mut args = vec!["dist", "--out-dir", apple_b.to_str().unwrap()];
    for target in APPLE_TARGETS {
        args.extend(["--target", target]);
    }
    let run = xtask(
        Command::new(a.ws.join("target/debug/xtask"))
            .args(&args)
            .current_dir(b)
            .env_remove("RUSTFLAGS"),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let apple_a = snapshot(&work.join("apple-dist"));
    for name in APPLE_TARGETS
        .iter()
        .map(|t| archive_name(t))
        .chain(["SHA256SUMS".to_owned()])
    {
        assert!(
            apple_a[&name] == std::fs::read(apple_b.join(&name)).unwrap(),
            "{name} differs between two clones of one commit"
        );
    }
}

/// The binary inside an archive's bytes, unpacked with tar or python's zipfile.
fn binary_in(archive: &[u8], target: &str, scratch: &Path) -> Vec<u8> {
    let _ = std::fs::remove_dir_all(scratch);
    std::fs::create_dir_all(scratch).unwrap();
    let name = archive_name(target);
    std::fs::write(scratch.join(&name), archive).unwrap();
    if target.contains("windows") {
        ok(Command::new("python3")
            .args(["-m", "zipfile", "-e", &name, "."])
            .current_dir(scratch));
    } else {
        ok(Command::new("tar")
            .args(["-xzf", &name])
            .current_dir(scratch));
    }
    let exe = if target.contains("windows") {
        ".exe"
    } else {
        ""
    };
    std::fs::read(scratch.join(format!("fixture-cli-{target}/fixture-cli{exe}"))).unwrap()
}

fn check_apple(run: &Run, dist: &Path, unpacked: &Path) {
    std::fs::create_dir_all(unpacked).unwrap();
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dist.join("dist-manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["macos_floor"], "11.0");
    for target in APPLE_TARGETS {
        let has_line = |parts: &[&str]| {
            run.stdout
                .lines()
                .any(|l| parts.iter().all(|p| l.contains(p)))
        };
        assert!(
            has_line(&[target, "build with cargo zigbuild"]),
            "{}",
            run.stdout
        );
        assert!(
            has_line(&["build", target, "MACOSX_DEPLOYMENT_TARGET=11.0"]),
            "{}",
            run.stdout
        );
        let artifact = artifact_of(&manifest, target);
        assert_eq!(artifact["policy"], "macos:11.0");
        assert_eq!(artifact["binaries"][0]["verdict"], "pass");
        assert_eq!(artifact["binaries"][0]["floor"], "macos 11.0");
        ok(Command::new("tar")
            .arg("-xzf")
            .arg(dist.join(archive_name(target)))
            .arg("-C")
            .arg(unpacked));
        let binary = unpacked.join(format!("fixture-cli-{target}/fixture-cli"));
        let audit = linkaudit::audit_path(&binary).unwrap();
        let os = audit.os_floor.as_ref().unwrap();
        // zig alone would stamp minos 15.0: the fixture's macos-floor reached the link.
        assert_eq!(
            (os.platform.as_str(), os.min.to_string().as_str()),
            ("macos", "11.0")
        );
        assert!(
            audit.needed.iter().all(|d| d.starts_with("/usr/lib/")),
            "{:?}",
            audit.needed
        );
    }
}

/// The plan table, the step lines and the summary.
fn check_report(r: &Run) {
    let out = &r.stdout;
    assert!(
        r.stderr.contains("warning: ignoring RUSTFLAGS"),
        "{}",
        r.stderr
    );
    assert!(
        out.contains("install zig"),
        "the fresh machine got no zig install line"
    );
    assert!(out.contains("source  commit "), "{out}");
    assert!(out.contains(&format!("SOURCE_DATE_EPOCH {EPOCH} (commit time of HEAD)")));
    let has_line = |parts: &[&str]| out.lines().any(|l| parts.iter().all(|p| l.contains(p)));
    assert!(has_line(&[
        "x86_64-unknown-linux-gnu",
        "build with cargo zigbuild (--target x86_64-unknown-linux-gnu.2.17)"
    ]));
    assert!(has_line(&[
        "x86_64-pc-windows-gnu",
        "build with cargo build"
    ]));
    assert!(has_line(&[
        "x86_64-pc-windows-msvc",
        "skip: needs",
        "windows-2022"
    ]));

    for target in LOCAL_TARGETS {
        for step in ["build", "verify", "pack", "smoke"] {
            assert!(
                out.lines()
                    .any(|l| l.starts_with(step) && l.contains(target)),
                "no {step} line for {target}"
            );
        }
    }
    // The config's +crt-static reached the musl binaries although RUSTFLAGS said -crt-static.
    for target in ["x86_64-unknown-linux-musl", "aarch64-unknown-linux-musl"] {
        let smoke = out
            .lines()
            .find(|l| l.starts_with("smoke") && l.contains(target))
            .unwrap();
        assert!(
            smoke.contains("fixture-cli 0.1.0 (c says 42, crt-static: yes)"),
            "{smoke}"
        );
    }
    let qemu = out
        .lines()
        .find(|l| l.starts_with("smoke") && l.contains("aarch64-unknown-linux-gnu"))
        .unwrap();
    assert!(qemu.contains("under qemu-aarch64"), "{qemu}");
    let windows = out
        .lines()
        .find(|l| l.starts_with("smoke") && l.contains("x86_64-pc-windows-gnu"))
        .unwrap();
    assert!(windows.contains("skipped: "), "{windows}");
    assert!(out.contains("archive"), "no summary table");
    assert!(out.contains("fixture-cli-x86_64-pc-windows-gnu.zip"));
    assert!(
        !out.contains("fixture-internal"),
        "a publish = false package shipped"
    );
}

/// Phase 1's dist/, read with real tools.
fn check_dist(dist: &Path, ws: &Path) {
    holds_the_archives_and_their_checksums(dist);
    tarballs_are_normalised(dist);
    the_zip_is_normalised(dist);
    linkage_passes_again_from_the_archives(dist);
    the_manifest_describes_the_release(dist, ws);
    check_no_paths(dist, &[ws]);
}

/// The archives, their .sha256, SHA256SUMS (sorted, checked by sha256sum), the manifest and
/// install.sh, nothing else.
fn holds_the_archives_and_their_checksums(dist: &Path) {
    let mut names: Vec<String> = snapshot(dist).into_keys().collect();
    names.sort();
    let mut expected: Vec<String> = LOCAL_TARGETS
        .iter()
        .flat_map(|t| {
            [
                archive_name(t),
                format!("{}.sha256", archive_name(t)),
                sbom(t),
            ]
        })
        .chain(["SHA256SUMS", "dist-manifest.json", "install.sh"].map(String::from))
        .collect();
    expected.sort();
    assert_eq!(names, expected);

    // Checksums, with the real sha256sum.
    let checked = ok(Command::new("sha256sum")
        .args(["-c", "SHA256SUMS"])
        .current_dir(dist));
    assert_eq!(
        checked.lines().filter(|l| l.ends_with(": OK")).count(),
        2 * LOCAL_TARGETS.len(), // archives and SBOMs
        "{checked}"
    );
    for target in LOCAL_TARGETS {
        ok(Command::new("sha256sum")
            .args(["-c", &format!("{}.sha256", archive_name(target))])
            .current_dir(dist));
    }
    let sums = std::fs::read_to_string(dist.join("SHA256SUMS")).unwrap();
    let order: Vec<&str> = sums
        .lines()
        .map(|l| l.split("  ").nth(1).unwrap())
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted);
}

/// Tarballs: sorted entries, root:root, normalised modes, the commit's time.
fn tarballs_are_normalised(dist: &Path) {
    for target in LOCAL_TARGETS.iter().filter(|t| !t.contains("windows")) {
        // gzip header (RFC 1952): no flags (so no file name), mtime 0.
        let gz = std::fs::read(dist.join(archive_name(target))).unwrap();
        assert_eq!(
            &gz[..4],
            &[0x1f, 0x8b, 8, 0],
            "{target}: magic, deflate, flags"
        );
        assert_eq!(&gz[4..8], &[0, 0, 0, 0], "{target}: gzip mtime");
        let numeric = ok(Command::new("tar")
            .args(["-tzvf", &archive_name(target), "--numeric-owner"])
            .current_dir(dist));
        assert!(
            numeric
                .lines()
                .all(|l| l.split_whitespace().nth(1) == Some("0/0")),
            "{numeric}"
        );
        let listing = ok(Command::new("tar")
            .args(["-tzvf", &archive_name(target), "--utc"])
            .current_dir(dist));
        let top = format!("fixture-cli-{target}");
        let lines: Vec<Vec<&str>> = listing
            .lines()
            .map(|l| l.split_whitespace().collect())
            .collect();
        let entries: Vec<(&str, &str, &str, &str)> =
            lines.iter().map(|f| (f[0], f[1], f[4], f[5])).collect();
        assert_eq!(
            entries.iter().map(|e| e.3).collect::<Vec<_>>(),
            [
                format!("{top}/"),
                format!("{top}/LICENSE"),
                format!("{top}/README.md"),
                format!("{top}/fixture-cli")
            ]
        );
        let modes: Vec<&str> = entries.iter().map(|e| e.0).collect();
        assert_eq!(
            modes,
            ["drwxr-xr-x", "-rw-r--r--", "-rw-r--r--", "-rwxr-xr-x"],
            "{listing}"
        );
        assert!(
            entries.iter().all(|e| e.1 == "root/root" && e.2 == "22:13"),
            "{listing}"
        );
        assert!(lines.iter().all(|f| f[3] == "2023-11-14"), "{listing}");
    }
}

/// Zip: python's zipfile reads names, times and unix modes.
fn the_zip_is_normalised(dist: &Path) {
    let zip = archive_name("x86_64-pc-windows-gnu");
    let listing = ok(Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile\nfor i in zipfile.ZipFile(sys.argv[1]).infolist(): \
             print(i.filename, oct(i.external_attr >> 16), '%04d-%02d-%02dT%02d:%02d:%02d' % i.date_time)",
            &zip,
        ])
        .current_dir(dist));
    let top = "fixture-cli-x86_64-pc-windows-gnu";
    assert_eq!(
        listing,
        format!(
            "{top}/ 0o40755 2023-11-14T22:13:20\n{top}/LICENSE 0o100644 2023-11-14T22:13:20\n\
             {top}/README.md 0o100644 2023-11-14T22:13:20\n{top}/fixture-cli.exe 0o100755 2023-11-14T22:13:20\n"
        )
    );
}

/// Linkage, audited again from the unpacked archives, against each target's policy.
fn linkage_passes_again_from_the_archives(dist: &Path) {
    let unpacked = dist.parent().unwrap().join("unpacked");
    std::fs::create_dir_all(&unpacked).unwrap();
    for target in LOCAL_TARGETS {
        let archive = dist.join(archive_name(target));
        if target.contains("windows") {
            ok(Command::new("python3")
                .args(["-m", "zipfile", "-e"])
                .arg(&archive)
                .arg(&unpacked));
        } else {
            ok(Command::new("tar")
                .arg("-xzf")
                .arg(&archive)
                .arg("-C")
                .arg(&unpacked));
        }
        let exe = if target.contains("windows") {
            ".exe"
        } else {
            ""
        };
        let binary = unpacked.join(format!("fixture-cli-{target}/fixture-cli{exe}"));
        let audit = linkaudit::audit_path(&binary).unwrap();
        let mut floors = linkaudit::Floors::with_glibc(linkaudit::GlibcVersion::new(2, 17));
        floors.macos = Some(linkaudit::OsVersion::new(11, 0));
        let policy = linkaudit::Policy::for_target(&target.parse().unwrap(), &floors);
        assert!(!policy.is_empty(), "{target}");
        assert_eq!(policy.check(&audit), vec![], "{target}");
        if target.contains("apple") {
            // The fixture's macos-floor reached the link (zig alone would stamp 15.0).
            let os = audit.os_floor.as_ref().unwrap();
            assert_eq!(
                (os.platform.as_str(), os.min.to_string().as_str()),
                ("macos", "11.0")
            );
        }
        if target.contains("musl") {
            assert!(
                audit.interpreter.is_none() && audit.needed.is_empty(),
                "{target}"
            );
        }
        if target.contains("-gnu") && !target.contains("windows") {
            assert!(audit.glibc_floor.unwrap() <= linkaudit::GlibcVersion::new(2, 17));
        }
    }
}

/// The manifest: source, floors, and per artifact its checksum, size, policy and measured floor.
fn the_manifest_describes_the_release(dist: &Path, ws: &Path) {
    let sums = std::fs::read_to_string(dist.join("SHA256SUMS")).unwrap();
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dist.join("dist-manifest.json")).unwrap()).unwrap();
    let head = ok(Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(ws));
    assert_eq!(manifest["schema_version"], 1);
    assert_eq!(manifest["source_commit"], head.trim());
    assert_eq!(manifest["source_date_epoch"], EPOCH);
    assert!(manifest["rustc"].as_str().unwrap().starts_with("rustc "));
    assert_eq!(manifest["glibc_floor"], "2.17");
    assert_eq!(manifest["macos_floor"], "11.0");
    let artifacts = manifest["artifacts"].as_array().unwrap();
    let archives: Vec<&str> = artifacts
        .iter()
        .map(|a| a["archive"].as_str().unwrap())
        .collect();
    let mut sorted = archives.clone();
    sorted.sort();
    assert_eq!(archives, sorted);
    for artifact in artifacts {
        let name = artifact["archive"].as_str().unwrap();
        assert!(sums.contains(&format!(
            "{}  {name}\n",
            artifact["sha256"].as_str().unwrap()
        )));
        assert_eq!(
            artifact["size"],
            std::fs::metadata(dist.join(name)).unwrap().len()
        );
        assert_eq!(artifact["package"], "fixture-cli");
        assert_eq!(artifact["version"], "0.1.0");
        let (policy, floor) = match artifact["target"].as_str().unwrap() {
            t if t.contains("musl") => ("static", None),
            t if t.contains("windows") => ("crt-static+windows:10.0", Some("windows")),
            t if t.contains("apple") => ("macos:11.0", Some("macos 11.0")),
            _ => ("glibc:2.17", Some("glibc 2.")),
        };
        assert_eq!(artifact["policy"], policy);
        // The C toolchain that built it: musl-gcc and cc (musl-tools is installed for the tests)
        // for x86_64 musl on this x86_64 host, zig linking and gcc compiling for x86_64 gnu,
        // mingw-w64's gcc for windows-gnu, zig for the rest.
        let c = artifact["c_toolchain"].as_str().unwrap();
        match artifact["target"].as_str().unwrap() {
            "x86_64-unknown-linux-musl" => assert!(
                c.starts_with("musl-gcc: ") && c.contains(", musl 1.") && c.contains("; GNU ld"),
                "{c}"
            ),
            "x86_64-unknown-linux-gnu" => assert!(
                c.starts_with("zig 0.")
                    && c.contains("; C compiled by gcc ")
                    && c.ends_with(" against zig's glibc 2.17 headers"),
                "{c}"
            ),
            t if t.contains("windows") => assert!(c.starts_with("x86_64-w64-mingw32-gcc "), "{c}"),
            _ => assert!(c.starts_with("zig 0."), "{c}"),
        }
        // The measured floor, next to the verdict.
        let measured = artifact["binaries"][0]["floor"].as_str();
        match floor {
            None => assert_eq!(measured, None, "{name}"),
            Some(prefix) => assert!(
                measured.unwrap().starts_with(prefix),
                "{name}: {measured:?}"
            ),
        }
        assert_eq!(artifact["binaries"][0]["verdict"], "pass");
        assert_eq!(artifact["binaries"][0]["name"], "fixture-cli");
    }
}

/// Neither the checkout path nor the cargo home is in any archived binary.
/// The fixture compiles `file!()` of a file in OUT_DIR into the binary: without the remapping
/// that is an absolute path under the checkout.
fn check_no_paths(dist: &Path, checkouts: &[&Path]) {
    let unpacked = dist.parent().unwrap().join("unpacked-paths");
    let _ = std::fs::remove_dir_all(&unpacked);
    std::fs::create_dir_all(&unpacked).unwrap();
    let home = std::env::var("CARGO_HOME")
        .unwrap_or_else(|_| format!("{}/.cargo", std::env::var("HOME").unwrap()));
    let mut needles: Vec<String> = checkouts.iter().map(|p| p.display().to_string()).collect();
    needles.push(home);
    for target in LOCAL_TARGETS.iter().filter(|t| !t.contains("windows")) {
        ok(Command::new("tar")
            .arg("-xzf")
            .arg(dist.join(archive_name(target)))
            .arg("-C")
            .arg(&unpacked));
        let bytes =
            std::fs::read(unpacked.join(format!("fixture-cli-{target}/fixture-cli"))).unwrap();
        for needle in &needles {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{target}: the binary contains {needle}"
            );
        }
        // ...and the remapped path is there instead.
        assert!(
            bytes.windows(9).any(|w| w == b"./target/"),
            "{target}: no remapped OUT_DIR path in the binary"
        );
    }
}
