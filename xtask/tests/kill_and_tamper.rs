//! A dist/ that `cargo xtask dist` really wrote, on the fixture workspace, for one tarball target
//! (x86_64-unknown-linux-musl) and one zip target (x86_64-pc-windows-gnu): interrupt safety and
//! tamper evidence (with SOURCE_DATE_EPOCH taken from the environment).
//!
//! One test with phases, so that the fixture is built once:
//! 1. a run with SOURCE_DATE_EPOCH set: printed, recorded in the manifest, the time of every entry.
//! 2. a run at the commit's time: the reference dist/. Its archives differ from phase 1's, so a
//!    half-replaced dist/ in phase 3 shows.
//! 3. kills: from the reference dist/, a run of the musl target alone at phase 1's epoch is
//!    SIGKILLed at each point of its packing and handover in turn (the hook `XTASK_TEST_PAUSE_AT`
//!    of handover.rs says when it is there, so no sleep guesses the moment). After each kill dist/
//!    keeps handover.rs's promises (checked with sha256sum, tar, python's zipfile and linkaudit
//!    verify); then a run of the windows target alone succeeds, leaves exactly its own files (none
//!    of the two earlier runs' archives) and no staging dir.
//! 4. tamper evidence: on a dist/ written again, `linkaudit verify` fails naming the file for 200
//!    flipped bytes at random offsets across all archives, a missing archive, an unlisted archive,
//!    an edited line of SHA256SUMS and a .sha256 disagreeing with SHA256SUMS; `sha256sum -c` too
//!    where it can see it.
//!
//! Needs: rustup targets x86_64-unknown-linux-musl and x86_64-pc-windows-gnu, gcc-mingw-w64-x86-64,
//! python3 (and pip for zig unless ziglang + cargo-zigbuild are installed), sha256sum, tar, date, git.

#![cfg(target_os = "linux")]

mod common;

use common::{
    archive_name, build_linkaudit, make_fixture, ok, repo_root, run, snapshot, xtask, Run, EPOCH,
};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};

/// Phase 1's SOURCE_DATE_EPOCH, from the environment: 2027-01-15T08:00:00Z.
const ENV_EPOCH: u64 = 1_800_000_000;
const MUSL: &str = "x86_64-unknown-linux-musl";
const WINDOWS: &str = "x86_64-pc-windows-gnu";
const SUMS: &str = "SHA256SUMS";
const MANIFEST: &str = "dist-manifest.json";
const INSTALLER: &str = "install.sh";

type Snapshot = BTreeMap<String, Vec<u8>>;

#[test]
fn killed_runs_leave_a_consistent_dist_and_tampering_is_caught() {
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kill-and-tamper");
    let _ = std::fs::remove_dir_all(&work);
    let ws = work.join("ws");
    make_fixture(&ws, &repo_root().join("Cargo.lock"));
    let linkaudit = build_linkaudit();
    let dist = ws.join("dist");
    let both = ["dist", "--target", MUSL, "--target", WINDOWS];

    // Phase 1: SOURCE_DATE_EPOCH from the environment.
    let first = dist_run(&ws, &both, Some(ENV_EPOCH));
    check_epoch_recorded(&first, &dist, ENV_EPOCH, "from the environment");
    let at_env_epoch = snapshot(&dist);

    // Phase 2: the reference dist/, at the commit's time.
    let second = dist_run(&ws, &both, None);
    check_epoch_recorded(&second, &dist, EPOCH, "commit time of HEAD");
    let reference = snapshot(&dist);
    for target in [MUSL, WINDOWS] {
        let name = archive_name(target);
        assert_ne!(
            reference[&name], at_env_epoch[&name],
            "{name}: the epoch changed nothing"
        );
    }
    verify_passes(&linkaudit, &dist);

    // Phase 3: kill a run at every point of its packing and handover.
    let tags = [("E0", &reference), ("E1", &at_env_epoch)];
    let staged = [format!("write:{}", archive_name(MUSL)), "pack:0".to_owned()];
    let points = staged
        .into_iter()
        .chain((0..).map(|n| format!("commit:{n}")));
    let mut kills = Vec::new();
    for point in points {
        restore(&dist, &reference);
        let killed = run_and_kill_at(&ws, &["dist", "--target", MUSL], ENV_EPOCH, &point, &work);
        if !killed {
            // Past the last point: the run went through, with phase 1's bytes.
            let musl = archive_name(MUSL);
            assert!(snapshot(&dist)[&musl] == at_env_epoch[&musl]);
            verify_passes(&linkaudit, &dist);
            break;
        }
        let held = check_after_kill(&dist, &linkaudit, &tags);
        eprintln!("killed at {point}: dist/ held {held}");
        kills.push(point);
        let next = dist_run(&ws, &["dist", "--target", WINDOWS], None);
        assert!(
            next.stdout.contains("wrote 1 archive(s)"),
            "{}",
            next.stdout
        );
        check_only_windows(&dist, &reference, &linkaudit);
    }
    assert!(
        kills.len() > 5 && kills.iter().filter(|k| !k.starts_with("commit")).count() == 2,
        "the pause hook stopped the run at only {kills:?}"
    );

    // Phase 4: tamper evidence, on a dist/ written again (after all those kills: the same bytes).
    dist_run(&ws, &both, None);
    assert!(
        snapshot(&dist) == reference,
        "a later run wrote other bytes"
    );
    tamper_checks(&dist, &linkaudit);
}

/// `cargo xtask dist ARGS` in the fixture, with the xtask binary under test; it must succeed.
fn dist_run(ws: &Path, args: &[&str], epoch: Option<u64>) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
    cmd.args(args).current_dir(ws);
    if let Some(epoch) = epoch {
        cmd.env("SOURCE_DATE_EPOCH", epoch.to_string());
    }
    let r = xtask(&mut cmd);
    assert_eq!(r.code, 0, "{args:?} failed");
    r
}

/// The epoch is printed with where it came from, with the commit and rustc, recorded in the
/// manifest, and is the time of every entry of both archives.
fn check_epoch_recorded(r: &Run, dist: &Path, epoch: u64, from: &str) {
    assert!(
        r.stdout
            .contains(&format!("SOURCE_DATE_EPOCH {epoch} ({from})")),
        "{}",
        r.stdout
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dist.join(MANIFEST)).unwrap()).unwrap();
    assert_eq!(manifest["source_date_epoch"], epoch);
    let summary = format!(
        "commit {} | SOURCE_DATE_EPOCH {epoch} | {}",
        manifest["source_commit"].as_str().unwrap(),
        manifest["rustc"].as_str().unwrap()
    );
    assert!(
        r.stdout.contains(&summary),
        "no `{summary}` in {}",
        r.stdout
    );

    let time = ok(Command::new("date")
        .args(["-u", "-d", &format!("@{epoch}")])
        .arg("+%F %T"));
    let listing = ok(Command::new("tar")
        .args([
            "-tzvf",
            &archive_name(MUSL),
            "--utc",
            "--full-time",
            "--numeric-owner",
        ])
        .current_dir(dist));
    for line in listing.lines() {
        assert!(line.contains(" 0/0 "), "{line}");
        assert!(line.contains(time.trim()), "{line}: not {}", time.trim());
    }
    let zip_times = ok(Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile\nfor i in zipfile.ZipFile(sys.argv[1]).infolist(): \
             print('%04d-%02d-%02d %02d:%02d:%02d' % i.date_time)",
            &archive_name(WINDOWS),
        ])
        .current_dir(dist));
    assert_eq!(zip_times.lines().count(), 4, "{zip_times}");
    assert!(zip_times.lines().all(|l| l == time.trim()), "{zip_times}");
}

fn restore(dist: &Path, files: &Snapshot) {
    let _ = std::fs::remove_dir_all(dist);
    std::fs::create_dir_all(dist).unwrap();
    for (name, bytes) in files {
        std::fs::write(dist.join(name), bytes).unwrap();
    }
}

/// Runs the xtask with the pause hook at `point` and SIGKILLs it as soon as it says it is there.
/// False when the run never got there: it then must have succeeded.
fn run_and_kill_at(ws: &Path, args: &[&str], epoch: u64, point: &str, work: &Path) -> bool {
    let log = work.join("paused-run.stdout");
    let mut child = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .current_dir(ws)
        .env("SOURCE_DATE_EPOCH", epoch.to_string())
        .env("XTASK_TEST_PAUSE_AT", point)
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET")
        .stdin(Stdio::piped())
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut said = String::new();
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        if line == format!("paused at {point}") {
            child.kill().unwrap(); // SIGKILL
            let status = child.wait().unwrap();
            assert_eq!(status.signal(), Some(9), "{point}: {status:?}");
            return true;
        }
        said.push_str(&line);
        said.push('\n');
    }
    let status = child.wait().unwrap();
    let stdout = std::fs::read_to_string(&log).unwrap();
    assert!(
        status.success(),
        "{point}: the run failed\n{stdout}\n{said}"
    );
    false
}

/// handover.rs's promises, checked with the real tools after a kill. Returns what dist/ held,
/// each final name tagged with the run whose bytes it has (E0: the reference, E1: the killed run).
fn check_after_kill(dist: &Path, linkaudit: &Path, tags: &[(&str, &Snapshot)]) -> String {
    let names: BTreeSet<String> = std::fs::read_dir(dist)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let archives: BTreeSet<&String> = names.iter().filter(|n| is_archive(n)).collect();
    for name in &names {
        assert!(
            !name.starts_with(".tmp"),
            "a temporary file in dist/: {name}"
        );
        // The kernel released the killed run's flock; its lock file stays until the next run.
        if name.starts_with(".staging-") || name == ".lock" {
            continue;
        }
        let sbom = name.ends_with(".cdx.json");
        let known = is_archive(name) || name.ends_with(".sha256") || sbom || name == SUMS;
        assert!(
            known || name == MANIFEST || name == INSTALLER,
            "unexpected {name} in dist/"
        );
    }
    // install.sh does not depend on the epoch: whole, it is the reference's.
    if names.contains(INSTALLER) {
        let bytes = std::fs::read(dist.join(INSTALLER)).unwrap();
        assert!(bytes == tags[0].1[INSTALLER], "{INSTALLER} is not whole");
    }
    // Every archive is complete and its .sha256 matches it.
    for archive in &archives {
        let sidecar = format!("{archive}.sha256");
        assert!(names.contains(&sidecar), "{archive} without {sidecar}");
        ok(Command::new("sha256sum")
            .args(["-c", "--strict", &sidecar])
            .current_dir(dist));
        if archive.ends_with(".zip") {
            ok(Command::new("python3")
                .args(["-m", "zipfile", "-t", archive])
                .current_dir(dist));
        } else {
            ok(Command::new("tar")
                .args(["-tzf", archive])
                .current_dir(dist));
        }
    }
    // SHA256SUMS: every line checks out, and it lists exactly the archives present.
    if names.contains(SUMS) {
        ok(Command::new("sha256sum")
            .args(["-c", "--strict", SUMS])
            .current_dir(dist));
        let sums = std::fs::read_to_string(dist.join(SUMS)).unwrap();
        let listed: BTreeSet<&str> = sums.lines().filter_map(|l| l.split("  ").nth(1)).collect();
        let sboms = names.iter().filter(|n| n.ends_with(".cdx.json"));
        let present: BTreeSet<&str> = archives
            .iter()
            .copied()
            .chain(sboms)
            .map(String::as_str)
            .collect();
        assert_eq!(listed, present, "{SUMS} does not list the archives present");
    }
    // The manifest: the whole set verifies.
    if names.contains(MANIFEST) {
        verify_passes(linkaudit, dist);
    }
    names
        .iter()
        .map(|n| {
            if n.starts_with(".staging-") {
                let inside: BTreeSet<String> = std::fs::read_dir(dist.join(n))
                    .unwrap()
                    .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect();
                let inside: Vec<String> = inside.into_iter().collect();
                return format!(
                    ".staging-*/[{}]",
                    inside.join(" ").replace("fixture-cli-", "")
                );
            }
            let bytes = std::fs::read(dist.join(n)).unwrap();
            let tag = tags
                .iter()
                .find(|(_, snap)| snap.get(n) == Some(&bytes))
                .map_or("new", |(tag, _)| tag);
            format!("{}({tag})", n.replace("fixture-cli-", ""))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// After the windows-only run: exactly its files, the reference bytes, no staging dir.
fn check_only_windows(dist: &Path, reference: &Snapshot, linkaudit: &Path) {
    let zip = archive_name(WINDOWS);
    let now = snapshot(dist);
    let names: Vec<&str> = now.keys().map(String::as_str).collect();
    let sidecar = format!("{zip}.sha256");
    assert_eq!(
        names,
        [
            SUMS,
            MANIFEST,
            &common::sbom(WINDOWS),
            zip.as_str(),
            sidecar.as_str(),
            INSTALLER
        ]
    );
    assert!(now[&zip] == reference[&zip] && now[&sidecar] == reference[&sidecar]);
    verify_passes(linkaudit, dist);
}

fn is_archive(name: &str) -> bool {
    name.ends_with(".tar.gz") || name.ends_with(".zip")
}

fn verify(linkaudit: &Path, dist: &Path) -> (i32, String) {
    let output = run(Command::new(linkaudit).arg("verify").arg(dist));
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.code().unwrap_or(-1), text)
}

fn verify_passes(linkaudit: &Path, dist: &Path) {
    let (code, text) = verify(linkaudit, dist);
    assert_eq!(code, 0, "linkaudit verify failed:\n{text}");
}

/// `linkaudit verify` exits 1 and names `file` (and no other archive) in a failure line.
fn verify_names(linkaudit: &Path, dist: &Path, file: &str, others: &[String], case: &str) {
    let (code, text) = verify(linkaudit, dist);
    assert_eq!(code, 1, "{case}: linkaudit verify did not fail:\n{text}");
    let named = format!("linkaudit verify: {file}: ");
    assert!(
        text.lines().any(|l| l.starts_with(&named)),
        "{case}: {file} not named:\n{text}"
    );
    for other in others.iter().filter(|o| !file.starts_with(o.as_str())) {
        let wrong = format!("linkaudit verify: {other}");
        assert!(
            !text.contains(&wrong),
            "{case}: {other} blamed too:\n{text}"
        );
    }
}

fn sha256sum_check(dist: &Path) -> (bool, String) {
    let output = run(Command::new("sha256sum")
        .args(["-c", "--strict", SUMS])
        .current_dir(dist));
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), text)
}

/// Tamper evidence, on the dist/ the xtask wrote: a changed archive, sidecar, SHA256SUMS or
/// manifest is caught.
fn tamper_checks(dist: &Path, linkaudit: &Path) {
    let archives: Vec<String> = [MUSL, WINDOWS].map(archive_name).to_vec();
    let original = snapshot(dist);
    verify_passes(linkaudit, dist);

    // 200 single flipped bytes at random offsets spread over all archives' bytes.
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    let mut rng = XorShift(seed);
    let total: usize = archives.iter().map(|a| original[a].len()).sum();
    let mut per_archive = BTreeMap::new();
    for _ in 0..200 {
        let mut at = rng.below(total);
        let mut index = 0;
        while at >= original[&archives[index]].len() {
            at -= original[&archives[index]].len();
            index += 1;
        }
        let archive = &archives[index];
        let mask = 1 + rng.below(255) as u8;
        let mut bytes = original[archive].clone();
        bytes[at] ^= mask;
        std::fs::write(dist.join(archive), &bytes).unwrap();
        let case = format!("seed {seed}: byte {at} of {archive} ^ {mask:#04x}");
        verify_names(linkaudit, dist, archive, &archives, &case);
        let (passed, text) = sha256sum_check(dist);
        assert!(
            !passed && text.contains(&format!("{archive}: FAILED")),
            "{case}: {text}"
        );
        std::fs::write(dist.join(archive), &original[archive]).unwrap();
        *per_archive.entry(archive.clone()).or_insert(0) += 1;
    }
    eprintln!("seed {seed}: 200 flipped bytes caught, per archive {per_archive:?}");
    assert_eq!(
        per_archive.len(),
        archives.len(),
        "not every archive was hit"
    );
    verify_passes(linkaudit, dist);

    // A missing archive.
    let zip = &archives[1];
    std::fs::remove_file(dist.join(zip)).unwrap();
    verify_names(linkaudit, dist, zip, &archives, "missing archive");
    assert!(
        !sha256sum_check(dist).0,
        "sha256sum -c missed a missing archive"
    );
    restore(dist, &original);

    // An extra archive nobody listed: sha256sum -c cannot see it, linkaudit verify does.
    let extra = "fixture-cli-aarch64-unknown-linux-musl.tar.gz".to_owned();
    std::fs::write(dist.join(&extra), &original[&archives[0]]).unwrap();
    verify_names(linkaudit, dist, &extra, &archives, "unlisted archive");
    assert!(sha256sum_check(dist).0);
    restore(dist, &original);

    // An edited line of SHA256SUMS: one hex digit of the musl line.
    let sums = String::from_utf8(original[SUMS].clone()).unwrap();
    let line = sums.lines().find(|l| l.ends_with(&archives[0])).unwrap();
    let digit = if line.starts_with('0') { "1" } else { "0" };
    let edited = sums.replace(line, &format!("{digit}{}", &line[1..]));
    std::fs::write(dist.join(SUMS), edited).unwrap();
    verify_names(
        linkaudit,
        dist,
        &archives[0],
        &archives,
        "edited SHA256SUMS line",
    );
    let (passed, text) = sha256sum_check(dist);
    assert!(
        !passed && text.contains(&format!("{}: FAILED", archives[0])),
        "{text}"
    );
    restore(dist, &original);

    // A .sha256 that disagrees with SHA256SUMS (well-formed, naming its archive).
    let sidecar = format!("{zip}.sha256");
    let other_hash = sums.lines().find(|l| l.ends_with(&archives[0])).unwrap();
    let wrong = format!("{}  {zip}\n", &other_hash[..64]);
    std::fs::write(dist.join(&sidecar), wrong).unwrap();
    verify_names(
        linkaudit,
        dist,
        &sidecar,
        &[archives[0].clone()],
        "disagreeing .sha256",
    );
    let by_hand = run(Command::new("sha256sum")
        .args(["-c", &sidecar])
        .current_dir(dist));
    assert!(!by_hand.status.success(), "sha256sum -c {sidecar} passed");
    restore(dist, &original);
    verify_passes(linkaudit, dist);
}

/// xorshift64: offsets spread over the archives without a dependency; the seed is printed.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}
