//! `cargo xtask gather` as the release workflow uses it (`plan` is tested in release.rs,
//! release.yml in workflows.rs).
//!
//! - gather, end to end on the fixture workspace (its matrix cut to the targets a Linux host
//!   builds, so that no part is missing): clone L runs `cargo xtask dist` once for all targets;
//!   clone P, at another path with its own target dir, runs `cargo xtask dist --target T
//!   --out-dir parts/dist-T` once per target, like one runner each; `cargo xtask gather` merges
//!   the parts into a dist/ identical, file for file, to L's. Then each broken input (a missing
//!   part, a target twice, a tampered archive, a disagreeing .sha256, parts of different
//!   commits, install.sh differing between parts, a manifest linkaudit verify refuses) fails
//!   with one line naming it and leaves the out dir as it was.
//!
//! Needs what xtask/tests/dist.rs needs (rustup targets, zig + cargo-zigbuild or pip,
//! gcc-mingw-w64-x86-64), plus sha256sum and git.

#![cfg(target_os = "linux")]

mod attacks;
mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The fixture's matrix for this test: every target a Linux host builds, one of each archive
/// format and of each linkage policy.
const TARGETS: [&str; 5] = [
    "x86_64-unknown-linux-gnu",
    "aarch64-unknown-linux-gnu",
    "x86_64-unknown-linux-musl",
    "aarch64-unknown-linux-musl",
    "x86_64-pc-windows-gnu",
];

/// The target list of a workspace's `[workspace.metadata.dist]`, read by cargo (not the xtask).
fn matrix_targets(ws: &Path) -> Vec<String> {
    let json = ok(Command::new("cargo")
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .current_dir(ws));
    let meta: serde_json::Value = serde_json::from_str(&json).unwrap();
    meta["metadata"]["dist"]["targets"]
        .as_array()
        .expect("[workspace.metadata.dist] targets")
        .iter()
        .map(|t| t.as_str().unwrap().to_owned())
        .collect()
}

/// Sets the fixture's `targets = [...]` to `TARGETS`.
fn cut_matrix(ws: &Path) {
    let path = ws.join("Cargo.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let start = text.find("targets = [").unwrap();
    let end = start + text[start..].find(']').unwrap() + 1;
    let list: Vec<String> = TARGETS.iter().map(|t| format!("{t:?}")).collect();
    let text = format!(
        "{}targets = [{}]{}",
        &text[..start],
        list.join(", "),
        &text[end..]
    );
    std::fs::write(path, text).unwrap();
}

fn part_dir(parts: &Path, target: &str) -> PathBuf {
    parts.join(format!("dist-{target}"))
}

#[test]
fn gather_end_to_end() {
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("gather-e2e");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();

    let (l, local_dist) = one_local_run(&work);
    let g = Runners::build_parts(&work, &l);
    let release = the_gathered_release_is_the_local_one(&g, &local_dist);
    one_installer_is_copied_once(&g, &release);

    missing_and_duplicate_parts_are_refused(&g);
    tampered_files_are_refused(&g);
    disagreeing_parts_are_refused(&g);
    attacks_are_refused(&g);
    a_broken_promise_is_refused_by_verify(&g);
}

/// Clone L: one local run of every target. Archives, their .sha256, SHA256SUMS, the manifest
/// and install.sh.
fn one_local_run(work: &Path) -> (PathBuf, Snapshot) {
    let l = work.join("local/ws");
    make_fixture_with(&l, &repo_root().join("Cargo.lock"), cut_matrix);
    assert_eq!(matrix_targets(&l), TARGETS);
    let local = xtask(
        Command::new("cargo")
            .args(["xtask", "dist"])
            .current_dir(&l),
    );
    assert_eq!(local.code, 0, "cargo xtask dist failed");
    let local_dist = snapshot(&l.join("dist"));
    // Archives, their .sha256 and SBOMs, SHA256SUMS, the manifest and install.sh.
    assert_eq!(local_dist.len(), 3 * TARGETS.len() + 3);
    (l, local_dist)
}

/// Clone P, elsewhere, with its own target dir and one part per target, as the runners make them.
struct Runners {
    work: PathBuf,
    checkout: PathBuf,
    parts: PathBuf,
    all_parts: Vec<PathBuf>,
    xtask_bin: PathBuf,
    /// The release gathered from every part, and its files (the out dir of the refusals).
    dist: PathBuf,
    release: std::cell::OnceCell<Snapshot>,
}

impl Runners {
    fn build_parts(work: &Path, l: &Path) -> Runners {
        let xtask_bin = l.join("target/debug/xtask");
        let checkout = work.join("runners/checkout");
        ok(Command::new("git")
            .args(["clone", "-q"])
            .arg(l)
            .arg(&checkout));
        let parts = checkout.join("parts");
        for target in TARGETS {
            let part = xtask(
                Command::new(&xtask_bin)
                    .args(["dist", "--target", target, "--out-dir"])
                    .arg(part_dir(&parts, target))
                    .current_dir(&checkout),
            );
            assert_eq!(part.code, 0, "cargo xtask dist --target {target} failed");
            let files: Vec<String> = snapshot(&part_dir(&parts, target)).into_keys().collect();
            assert_eq!(files.len(), 6, "{target}: {files:?}");
        }
        Runners {
            work: work.to_owned(),
            dist: checkout.join("dist"),
            all_parts: TARGETS.iter().map(|t| part_dir(&parts, t)).collect(),
            checkout,
            parts,
            xtask_bin,
            release: std::cell::OnceCell::new(),
        }
    }

    fn gather(&self, parts: &[PathBuf], out: &Path) -> Run {
        xtask(
            Command::new(&self.xtask_bin)
                .arg("gather")
                .arg("--out-dir")
                .arg(out)
                .args(parts)
                .current_dir(&self.checkout),
        )
    }

    /// Gathering `parts` fails with one error line naming the part, target or file (each of
    /// `expected`); the out dir stays as it was, and a fresh out dir is not created.
    fn refused(&self, case: &str, parts: &[PathBuf], expected: &[&str]) {
        let before = self.release.get().expect("the release is gathered first");
        let r = self.gather(parts, &self.dist);
        assert_ne!(r.code, 0, "{case}: gather succeeded");
        let errors: Vec<&str> = r
            .stderr
            .lines()
            .filter(|l| l.starts_with("error"))
            .collect();
        assert_eq!(errors.len(), 1, "{case}: {}", r.stderr);
        for text in expected {
            assert!(errors[0].contains(text), "{case}: {}", errors[0]);
        }
        assert!(
            snapshot(&self.dist) == *before,
            "{case}: the out dir changed"
        );
        let fresh = self.work.join(format!("never-{case}"));
        let r = self.gather(parts, &fresh);
        assert_ne!(r.code, 0);
        assert!(
            !fresh.exists(),
            "{case}: a failed gather created its out dir"
        );
    }

    /// The parts copied under `work/<case>/`, and the copied part of `target`.
    fn scratch(&self, case: &str, target: &str) -> (Vec<PathBuf>, PathBuf) {
        let parts = scratch_parts(&self.work, case, &self.all_parts);
        (parts, part_dir(&self.work.join(case), target))
    }
}

/// The gathered release is the local run's, byte for byte: archives, .sha256, SHA256SUMS,
/// and the manifest (the entries, commit, SOURCE_DATE_EPOCH, compiler).
fn the_gathered_release_is_the_local_one(g: &Runners, local_dist: &Snapshot) -> Snapshot {
    let gathered = g.gather(&g.all_parts, &g.dist);
    assert_eq!(gathered.code, 0, "cargo xtask gather failed");
    let release = snapshot(&g.dist);
    assert_eq!(
        release.keys().collect::<Vec<_>>(),
        local_dist.keys().collect::<Vec<_>>()
    );
    for (name, bytes) in local_dist {
        assert!(
            release[name] == *bytes,
            "{name} differs between the gathered parts and one local run"
        );
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&release["dist-manifest.json"]).unwrap();
    for artifact in manifest["artifacts"].as_array().unwrap() {
        assert!(artifact["rustc"].as_str().unwrap().starts_with("rustc "));
    }
    let checked = ok(Command::new("sha256sum")
        .args(["-c", "SHA256SUMS"])
        .current_dir(&g.dist));
    assert_eq!(
        checked.lines().filter(|l| l.ends_with(": OK")).count(),
        2 * TARGETS.len(), // archives and SBOMs
        "{checked}"
    );
    let verified = gathered
        .stdout
        .lines()
        .find(|l| l.starts_with("verify") && l.contains("linkaudit verify"))
        .expect("no linkaudit verify line");
    assert!(
        verified.contains(&format!("{} archive(s)", TARGETS.len())) && verified.ends_with("pass"),
        "{verified}"
    );
    for target in TARGETS {
        assert!(
            gathered.stdout.lines().any(|l| l.starts_with("gather")
                && l.contains(target)
                && l.contains(&format!("from {}", part_dir(&g.parts, target).display()))),
            "no gather line for {target}"
        );
    }
    g.release.set(release.clone()).unwrap();
    release
}

/// An installer written identically into every part is copied once (the fixture has a GitHub
/// `repository`, so every part holds one); gathering again replaces the previous release.
fn one_installer_is_copied_once(g: &Runners, release: &Snapshot) {
    assert!(release.contains_key("install.sh"), "no install.sh gathered");
    let with_installer = scratch_parts(&g.work, "installer", &g.all_parts);
    for part in &with_installer {
        std::fs::write(part.join("install.sh"), "#!/bin/sh\necho install\n").unwrap();
    }
    let installer_out = g.work.join("installer-out");
    let r = g.gather(&with_installer, &installer_out);
    assert_eq!(r.code, 0);
    let with = snapshot(&installer_out);
    assert_eq!(with["install.sh"], b"#!/bin/sh\necho install\n");
    assert_eq!(with["SHA256SUMS"], release["SHA256SUMS"]);
    assert_eq!(with.len(), release.len());
}

const GNU: &str = TARGETS[0];
const ARM_GNU: &str = TARGETS[1];
const MUSL: &str = TARGETS[2];
const ARM_MUSL: &str = TARGETS[3];
const WINDOWS: &str = TARGETS[4];

/// A part missing, a target in two parts.
fn missing_and_duplicate_parts_are_refused(g: &Runners) {
    let missing: Vec<PathBuf> = g
        .all_parts
        .iter()
        .filter(|p| !p.ends_with(format!("dist-{MUSL}")))
        .cloned()
        .collect();
    g.refused(
        "missing",
        &missing,
        &[
            &format!("no part holds target {MUSL}"),
            "dist-<target> artifact",
        ],
    );
    let mut twice = g.all_parts.clone();
    let again = g.work.join("again");
    copy_dir(&part_dir(&g.parts, ARM_MUSL), &part_dir(&again, ARM_MUSL));
    twice.push(part_dir(&again, ARM_MUSL));
    g.refused(
        "duplicate",
        &twice,
        &[
            &format!("target {ARM_MUSL} is in two parts"),
            &part_dir(&g.parts, ARM_MUSL).display().to_string(),
            &part_dir(&again, ARM_MUSL).display().to_string(),
        ],
    );
}

/// An archive that does not match its checksums; a .sha256 disagreeing with SHA256SUMS.
fn tampered_files_are_refused(g: &Runners) {
    let (tampered, part) = g.scratch("tampered", GNU);
    let path = part.join(archive_name(GNU));
    let mut bytes = std::fs::read(&path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&path, bytes).unwrap();
    g.refused(
        "tampered",
        &tampered,
        &[&format!("{}: its sha256 is", path.display())],
    );
    let (sidecar_parts, part) = g.scratch("sidecar", WINDOWS);
    let zip = archive_name(WINDOWS);
    let sidecar = part.join(format!("{zip}.sha256"));
    std::fs::write(&sidecar, format!("{}  {zip}\n", "0".repeat(64))).unwrap();
    g.refused(
        "sidecar",
        &sidecar_parts,
        &[&format!("{}: says", sidecar.display()), &"0".repeat(64)],
    );
}

/// Parts of different commits; install.sh differing between parts.
fn disagreeing_parts_are_refused(g: &Runners) {
    let (commits, part) = g.scratch("commits", ARM_GNU);
    edit_manifest(&part.join("dist-manifest.json"), |m| {
        m["source_commit"] = "0123456789abcdef".into()
    });
    g.refused(
        "commits",
        &commits,
        &[
            "parts disagree on the source commit",
            "0123456789abcdef",
            &part.display().to_string(),
        ],
    );
    let installers = scratch_parts(&g.work, "installers", &g.all_parts);
    for (i, part) in installers.iter().enumerate() {
        std::fs::write(
            part.join("install.sh"),
            format!("#!/bin/sh\necho {}\n", i.min(1)),
        )
        .unwrap();
    }
    g.refused(
        "installers",
        &installers,
        &["install.sh differs between parts"],
    );
}

/// Consistent checksums, but the manifest promises a binary the archive does not hold: only
/// linkaudit verify, run over the gathered release, sees that.
fn a_broken_promise_is_refused_by_verify(g: &Runners) {
    let (promise, part) = g.scratch("promise", MUSL);
    edit_manifest(&part.join("dist-manifest.json"), |m| {
        m["artifacts"][0]["binaries"][0]["path"] = format!("fixture-cli-{MUSL}/ghost").into()
    });
    g.refused(
        "promise",
        &promise,
        &[
            "linkaudit verify refused the gathered release",
            &format!(
                "{}: dist-manifest.json lists the binary fixture-cli-{MUSL}/ghost",
                archive_name(MUSL)
            ),
        ],
    );
}

/// Each attack planted in the musl part, every checksum of the part rewritten to agree: gather
/// refuses the part as `linkaudit verify` does, and writes nothing.
fn attacks_are_refused(g: &Runners) {
    let (work, all_parts) = (g.work.as_path(), g.all_parts.as_slice());
    let archive = archive_name(MUSL);
    let part = all_parts
        .iter()
        .find(|p| p.ends_with(format!("dist-{MUSL}")))
        .unwrap();
    let original = std::fs::read(part.join(&archive)).unwrap();
    let top = archive.trim_end_matches(".tar.gz");
    for attack in attacks::attacks(&original, top, "fixture-cli") {
        let case = format!("attack-{}", attack.name);
        let parts = scratch_parts(work, &case, all_parts);
        attacks::plant(&part_dir(&work.join(&case), MUSL), &archive, &attack.bytes);
        g.refused(
            &case,
            &parts,
            &[
                "linkaudit verify refused the gathered release",
                &attack.verify_says,
            ],
        );
    }
}

/// Copies the parts under `work/<case>/`, for a case that changes them.
fn scratch_parts(work: &Path, case: &str, parts: &[PathBuf]) -> Vec<PathBuf> {
    parts
        .iter()
        .map(|part| {
            let copy = work.join(case).join(part.file_name().unwrap());
            copy_dir(part, &copy);
            copy
        })
        .collect()
}

fn edit_manifest(path: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    edit(&mut manifest);
    std::fs::write(
        path,
        serde_json::to_string_pretty(&manifest).unwrap() + "\n",
    )
    .unwrap();
}
