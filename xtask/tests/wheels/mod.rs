//! Phases 5 and 6 of the install end-to-end test (install.rs): the wheels `cargo xtask dist
//! --wheels` wrote, read with python's zipfile, csv and hashlib, `linkaudit verify` and twine;
//! then installed by pip from a fresh venv.

use crate::common::{self, ok, run};
use std::path::{Path, PathBuf};
use std::process::Command;

pub const WHEEL_X86_64: &str =
    "fixture_cli-0.1.0-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.musllinux_1_1_x86_64.whl";
pub const WHEEL_AARCH64: &str =
    "fixture_cli-0.1.0-py3-none-manylinux_2_17_aarch64.manylinux2014_aarch64.musllinux_1_1_aarch64.whl";
pub const MUSL_VERSION: &str = "fixture-cli 0.1.0 (c says 42, crt-static: yes)";

/// Python's zipfile: each entry's name, unix mode and time.
const ZIP_LISTING: &str = r#"
import sys, zipfile
for i in zipfile.ZipFile(sys.argv[1]).infolist():
    print(i.filename, oct(i.external_attr >> 16), '%04d-%02d-%02dT%02d:%02d:%02d' % i.date_time)
"#;

const ZIP_READ: &str = r#"
import sys, zipfile
sys.stdout.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]).decode())
"#;

/// RECORD checked by python's own csv, hashlib and base64 against the wheel's members.
const RECORD_CHECK: &str = r#"
import base64, csv, hashlib, io, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
rows = list(csv.reader(io.StringIO(z.read(sys.argv[2]).decode())))
assert sorted(r[0] for r in rows) == sorted(z.namelist()), rows
for path, digest, size in rows:
    if path == sys.argv[2]:
        assert digest == size == '', (path, digest, size)
        continue
    data = z.read(path)
    want = 'sha256=' + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()
    assert digest == want and int(size) == len(data), (path, digest, want)
print(len(rows), 'rows ok')
"#;

/// Rewrites the wheel argv[1] with member argv[2] replaced by the file argv[3].
const ZIP_REPLACE: &str = r#"
import sys, zipfile
old = zipfile.ZipFile(sys.argv[1])
members = [(i, old.read(i)) for i in old.infolist()]
old.close()
new = zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED)
for info, data in members:
    new.writestr(info, open(sys.argv[3], 'rb').read() if info.filename == sys.argv[2] else data)
new.close()
"#;

/// Phase 5: what the wheels are, read with real tools.
pub fn check_wheels(work: &Path, dist: &Path, stdout: &str) {
    one_wheel_per_platform_each_checksummed(dist, stdout);
    members_and_metadata_follow_the_wheel_spec(dist);
    the_manifest_lists_each_wheel(dist);
    verify_checks_the_binaries_inside(work, dist);
    twine_passes_them(dist);
}

/// One wheel per platform (the musl wheels cover glibc too, so the gnu build gets none), each in
/// SHA256SUMS and with its .sha256.
fn one_wheel_per_platform_each_checksummed(dist: &Path, stdout: &str) {
    let mut wheels: Vec<String> = std::fs::read_dir(dist)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".whl"))
        .collect();
    wheels.sort();
    assert_eq!(wheels, [WHEEL_AARCH64, WHEEL_X86_64]);
    assert!(
        stdout.lines().any(|l| l.starts_with("wheel")
            && l.contains("x86_64-unknown-linux-gnu")
            && l.contains("none: the x86_64 musl wheel covers glibc systems too")),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "wrote 3 archive(s), 2 wheel(s), their .sha256, SHA256SUMS, dist-manifest.json and \
             install.sh to "
        ),
        "{stdout}"
    );
    let sums = ok(Command::new("sha256sum")
        .args(["-c", "SHA256SUMS"])
        .current_dir(dist));
    for wheel in [WHEEL_AARCH64, WHEEL_X86_64] {
        assert!(sums.contains(&format!("{wheel}: OK")), "{sums}");
        ok(Command::new("sha256sum")
            .args(["-c", &format!("{wheel}.sha256")])
            .current_dir(dist));
    }
}

const DATA: &str = "fixture_cli-0.1.0.data";
const INFO: &str = "fixture_cli-0.1.0.dist-info";

/// Entries, modes and times; then WHEEL, METADATA and RECORD, read by python's zipfile.
fn members_and_metadata_follow_the_wheel_spec(dist: &Path) {
    let listing = ok(Command::new("python3")
        .args(["-c", ZIP_LISTING, WHEEL_X86_64])
        .current_dir(dist));
    let time = "2023-11-14T22:13:20";
    assert_eq!(
        listing,
        format!(
            "{DATA}/scripts/fixture-cli 0o100755 {time}\n{INFO}/METADATA 0o100644 {time}\n\
             {INFO}/RECORD 0o100644 {time}\n{INFO}/WHEEL 0o100644 {time}\n"
        )
    );
    let read = |member: &str| {
        ok(Command::new("python3")
            .args(["-c", ZIP_READ, WHEEL_X86_64, member])
            .current_dir(dist))
    };
    assert_eq!(
        read(&format!("{INFO}/WHEEL")),
        "Wheel-Version: 1.0\nGenerator: cargo-xtask-dist\nRoot-Is-Purelib: false\n\
         Tag: py3-none-manylinux_2_17_x86_64\nTag: py3-none-manylinux2014_x86_64\n\
         Tag: py3-none-musllinux_1_1_x86_64\n"
    );
    let metadata = read(&format!("{INFO}/METADATA"));
    for line in [
        "Metadata-Version: 2.1\n",
        "Name: fixture-cli\n",
        "Version: 0.1.0\n",
        "Summary: The binary the fixture workspace ships\n",
        "Home-page: https://fixture-owner.example.org/fixture-cli\n",
        "License: MIT\n",
        "Project-URL: Repository, https://github.com/fixture-owner/fixture-cli\n",
        "Description-Content-Type: text/markdown\n\n# fixture\n",
    ] {
        assert!(metadata.contains(line), "no {line:?} in\n{metadata}");
    }
    let record = ok(Command::new("python3")
        .args(["-c", RECORD_CHECK, WHEEL_X86_64, &format!("{INFO}/RECORD")])
        .current_dir(dist));
    assert_eq!(record.trim(), "4 rows ok");
}

/// The manifest lists each wheel like an archive, with the binary's place in the wheel.
fn the_manifest_lists_each_wheel(dist: &Path) {
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dist.join("dist-manifest.json")).unwrap()).unwrap();
    let artifacts = manifest["artifacts"].as_array().unwrap();
    for (wheel, target) in [
        (WHEEL_X86_64, "x86_64-unknown-linux-musl"),
        (WHEEL_AARCH64, "aarch64-unknown-linux-musl"),
    ] {
        let entry = artifacts
            .iter()
            .find(|a| a["archive"] == wheel)
            .unwrap_or_else(|| panic!("{wheel} is not in the manifest"));
        assert_eq!(entry["target"], target);
        assert_eq!(entry["policy"], "static");
        assert_eq!(entry["sha256"], sha256_in_sidecar(dist, wheel));
        assert_eq!(
            entry["binaries"][0]["path"],
            format!("{DATA}/scripts/fixture-cli")
        );
        assert_eq!(entry["binaries"][0]["verdict"], "pass");
    }
}

/// linkaudit verify: checksums, entries and the static policy of the binaries in the wheels;
/// and it refuses a wheel whose binary is the glibc build.
fn verify_checks_the_binaries_inside(work: &Path, dist: &Path) {
    let report = linkaudit::verify::verify_dir(dist).unwrap();
    assert_eq!(report.failures, vec![], "linkaudit verify failed");
    assert_eq!((report.archives, report.binaries), (5, 5));
    let bad = work.join("verify-bad");
    common::copy_dir(dist, &bad);
    let unpacked = work.join("gnu-unpacked");
    std::fs::create_dir_all(&unpacked).unwrap();
    ok(Command::new("tar")
        .arg("-xzf")
        .arg(dist.join("fixture-cli-x86_64-unknown-linux-gnu.tar.gz"))
        .arg("-C")
        .arg(&unpacked));
    ok(Command::new("python3")
        .args(["-c", ZIP_REPLACE])
        .arg(bad.join(WHEEL_X86_64))
        .arg(format!("{DATA}/scripts/fixture-cli"))
        .arg(unpacked.join("fixture-cli-x86_64-unknown-linux-gnu/fixture-cli")));
    let report = linkaudit::verify::verify_dir(&bad).unwrap();
    let entry = format!("{WHEEL_X86_64}!{DATA}/scripts/fixture-cli");
    assert!(
        report
            .failures
            .iter()
            .any(|f| f.file == entry && f.problem.contains("fails its target's policy")),
        "{:?}",
        report.failures
    );
}

/// twine, as an upload to PyPI would check them.
fn twine_passes_them(dist: &Path) {
    let twine = ok(Command::new("python3")
        .args([
            "-m",
            "twine",
            "check",
            "--strict",
            WHEEL_X86_64,
            WHEEL_AARCH64,
        ])
        .current_dir(dist));
    assert_eq!(twine.matches("PASSED").count(), 2, "{twine}");
}

fn sha256_in_sidecar(dist: &Path, name: &str) -> String {
    let sidecar = std::fs::read_to_string(dist.join(format!("{name}.sha256"))).unwrap();
    sidecar.split_whitespace().next().unwrap().to_owned()
}

/// Phase 6: pip, in a fresh venv, with no index: only the wheels in dist/.
pub fn check_pip(work: &Path, dist: &Path) {
    let pip = Pip::new(work, dist);
    installs_onto_the_venv_path(&pip);
    picks_the_wheel_of_each_platform(work, &pip);
    the_aarch64_wheel_runs_under_qemu(work, &pip);
}

/// `pip install` from a fresh venv, seeing only dist/.
struct Pip {
    venv: PathBuf,
    dist: PathBuf,
}

impl Pip {
    fn new(work: &Path, dist: &Path) -> Pip {
        let venv = work.join("venv");
        ok(Command::new("python3").arg("-m").arg("venv").arg(&venv));
        Pip {
            venv,
            dist: dist.to_owned(),
        }
    }

    fn install(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(self.venv.join("bin/pip"));
        cmd.args([
            "install",
            "--disable-pip-version-check",
            "--no-index",
            "--find-links",
        ])
        .arg(&self.dist)
        .args(args)
        .env("PIP_NO_INPUT", "1")
        // Only dist/: no pip.conf, no find-links or index of this machine.
        .env("PIP_CONFIG_FILE", "/dev/null")
        .env_remove("PIP_FIND_LINKS")
        .env_remove("PIP_INDEX_URL")
        .env_remove("PIP_EXTRA_INDEX_URL")
        .env_remove("PIP_TARGET")
        .env_remove("PYTHONPATH");
        cmd
    }
}

/// On the venv's PATH, as `source venv/bin/activate` puts it.
fn installs_onto_the_venv_path(pip: &Pip) {
    ok(&mut pip.install(&["fixture-cli"]));
    let path = format!(
        "{}:{}",
        pip.venv.join("bin").display(),
        std::env::var("PATH").unwrap()
    );
    let found = ok(Command::new("sh")
        .args(["-c", "command -v fixture-cli && fixture-cli --version"])
        .env("PATH", &path));
    assert_eq!(
        found,
        format!(
            "{}\n{MUSL_VERSION}\n",
            pip.venv.join("bin/fixture-cli").display()
        )
    );
}

/// Which wheel pip picks for each platform, from its JSON report; none for Windows.
fn picks_the_wheel_of_each_platform(work: &Path, pip: &Pip) {
    let dry_run = work.join("dry-run");
    for (platform, wheel) in [
        ("musllinux_1_1_x86_64", WHEEL_X86_64),
        ("manylinux_2_17_x86_64", WHEEL_X86_64),
        ("manylinux2014_x86_64", WHEEL_X86_64),
        ("musllinux_1_1_aarch64", WHEEL_AARCH64),
        ("manylinux_2_17_aarch64", WHEEL_AARCH64),
    ] {
        let report = work.join(format!("pip-report-{platform}.json"));
        ok(pip
            .install(&["--dry-run", "--only-binary=:all:", "--platform", platform])
            .arg("--target")
            .arg(&dry_run)
            .arg("--report")
            .arg(&report)
            .arg("fixture-cli"));
        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
        let url = report["install"][0]["download_info"]["url"]
            .as_str()
            .unwrap();
        assert!(url.ends_with(&format!("/{wheel}")), "{platform}: {url}");
        assert!(!dry_run.join("bin").exists(), "--dry-run installed");
    }
    let windows = run(pip
        .install(&[
            "--dry-run",
            "--only-binary=:all:",
            "--platform",
            "win_amd64",
        ])
        .arg("--target")
        .arg(&dry_run)
        .arg("fixture-cli"));
    assert!(!windows.status.success());
    assert!(String::from_utf8_lossy(&windows.stderr)
        .contains("No matching distribution found for fixture-cli"));
}

/// The aarch64 wheel, installed for its platform, is static and runs under qemu-user.
fn the_aarch64_wheel_runs_under_qemu(work: &Path, pip: &Pip) {
    let aarch64 = work.join("aarch64-target");
    ok(pip
        .install(&[
            "--only-binary=:all:",
            "--platform",
            "manylinux_2_17_aarch64",
        ])
        .arg("--target")
        .arg(&aarch64)
        .arg("fixture-cli"));
    let binary = aarch64.join("bin/fixture-cli");
    let audit = linkaudit::audit_path(&binary).unwrap();
    assert!(
        audit.interpreter.is_none() && audit.needed.is_empty(),
        "{audit:?}"
    );
    let version = ok(Command::new("qemu-aarch64-static")
        .arg(&binary)
        .arg("--version"));
    assert_eq!(version.trim(), MUSL_VERSION);
}
