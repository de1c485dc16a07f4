//! End to end: installing a release the two ways `cargo xtask dist` offers, on the fixture
//! workspace (xtask/tests/fixtures/workspace), built once for the three targets needed:
//! the `curl | sh` installer and pip wheels.
//!
//! Phases:
//! 1. `cargo xtask dist --wheels` (this crate's xtask binary) for x86_64 musl, aarch64 musl and
//!    x86_64 gnu; dist/install.sh is clean under shellcheck, and a run for one target writes the
//!    same install.sh and the same wheel.
//! 2. a loopback HTTP server (`python3 -m http.server`) serves dist/; `curl | dash` and `bash`
//!    install into a temporary HOME; the installed binary runs and is the static musl build;
//!    `--libc gnu` installs the glibc build into $CARGO_HOME/bin; `--to DIR`; PATH warnings.
//! 3. refusals: a tampered archive (nothing installed, non-zero exit), an unsupported OS or
//!    architecture (a fake `uname` first on PATH), no curl and no wget; bad options.
//! 4. fallbacks and URLs: without curl it downloads with wget; the default base URL is the
//!    GitHub release `v<version>`, `--version latest` the `releases/latest/download` path.
//! 5. wheels: names and tags, zip entries and modes, RECORD, SHA256SUMS, the manifest,
//!    `linkaudit verify` (and its refusal of a wheel whose binary breaks the policy), `twine check`.
//! 6. pip: install into a fresh venv puts a runnable binary on the venv's PATH; `--dry-run
//!    --platform` resolves the right wheel for manylinux and musllinux of both architectures and
//!    none for Windows; the aarch64 wheel installed with `--platform` runs under qemu-user.
//!
//! Needs: rustup targets x86_64-unknown-linux-musl, aarch64-unknown-linux-musl; zig and
//! cargo-zigbuild (pip); python3 with venv and ensurepip, twine (pip); shellcheck, dash, bash,
//! curl, wget, qemu-user-static, sha256sum, tar, git.

#![cfg(target_os = "linux")]

mod attacks;
mod common;

use common::{make_fixture, ok, repo_root, run, xtask};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const WHEEL_X86_64: &str =
    "fixture_cli-0.1.0-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.musllinux_1_1_x86_64.whl";
const WHEEL_AARCH64: &str =
    "fixture_cli-0.1.0-py3-none-manylinux_2_17_aarch64.manylinux2014_aarch64.musllinux_1_1_aarch64.whl";
const MUSL_VERSION: &str = "fixture-cli 0.1.0 (c says 42, crt-static: yes)";
const TARGETS: [&str; 3] = [
    "x86_64-unknown-linux-musl",
    "aarch64-unknown-linux-musl",
    "x86_64-unknown-linux-gnu",
];

/// Fails naming the Debian package when a tool the test needs is missing.
fn require(tools: &[(&str, &str)]) {
    for (tool, package) in tools {
        let found = run(Command::new("sh").args(["-c", &format!("command -v {tool}")]));
        assert!(
            found.status.success(),
            "{tool} is not installed: apt-get install {package}"
        );
    }
}

/// Where a program is, resolved now (the test runs scripts under reduced PATHs).
fn which(tool: &str) -> PathBuf {
    let out = ok(Command::new("sh").args(["-c", &format!("command -v {tool}")]));
    PathBuf::from(out.trim())
}

/// `python3 -m http.server` on 127.0.0.1, on a port the kernel picks; killed on drop.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(root: &Path) -> Server {
        let mut child = Command::new("python3")
            .args(["-u", "-m", "http.server", "--bind", "127.0.0.1", "0"])
            .arg("--directory")
            .arg(root)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 -m http.server (install python3)");
        // "Serving HTTP on 127.0.0.1 port 40123 (http://127.0.0.1:40123/) ..."
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .split_whitespace()
            .skip_while(|w| *w != "port")
            .nth(1)
            .unwrap_or_else(|| panic!("no port in {line:?}"));
        Server {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The result of one install.sh run.
struct Install {
    code: i32,
    stderr: String,
}

/// Runs install.sh from `script` under `shell` in a clean environment: only HOME, PATH and the
/// given variables.
fn install(
    shell: &str,
    script: &Path,
    args: &[&str],
    home: &Path,
    env: &[(&str, &str)],
) -> Install {
    std::fs::create_dir_all(home).unwrap();
    let path = std::env::var("PATH").unwrap();
    let mut cmd = Command::new(which(shell));
    cmd.arg(script)
        .args(args)
        .env_clear()
        .env("HOME", home)
        .env("PATH", path);
    for (key, value) in env {
        cmd.env(key, value);
    }
    finish(&mut cmd)
}

fn finish(cmd: &mut Command) -> Install {
    let output = run(cmd);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    eprintln!("--- {cmd:?} exited {:?}\n{stderr}", output.status.code());
    Install {
        code: output.status.code().unwrap_or(-1),
        stderr,
    }
}

fn version_of(binary: &Path) -> String {
    ok(Command::new(binary).arg("--version")).trim().to_owned()
}

#[test]
fn install_sh_and_wheels_end_to_end() {
    require(&[
        ("shellcheck", "shellcheck"),
        ("dash", "dash"),
        ("bash", "bash"),
        ("curl", "curl"),
        ("wget", "wget"),
        ("python3", "python3"),
        ("sha256sum", "coreutils"),
        ("qemu-aarch64-static", "qemu-user-static"),
    ]);
    let twine = run(Command::new("python3").args(["-m", "twine", "--version"]));
    assert!(
        twine.status.success(),
        "twine is not installed: python3 -m pip install twine"
    );
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("install-e2e");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();

    // Phase 1: build, and look at the script.
    let ws = work.join("ws");
    make_fixture(&ws, &repo_root().join("Cargo.lock"));
    let dist_run = |args: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
        cmd.args(["dist", "--wheels"]).args(args).current_dir(&ws);
        for target in TARGETS {
            cmd.args(["--target", target]);
        }
        xtask(&mut cmd)
    };
    let built = dist_run(&[]);
    assert_eq!(built.code, 0, "cargo xtask dist failed");
    let dist = ws.join("dist");
    let script = dist.join("install.sh");
    assert!(built.stdout.lines().any(|l| {
        l.starts_with("script  install.sh")
        && l.ends_with(
            " downloads from https://github.com/fixture-owner/fixture-cli/releases/download/v0.1.0"
        )
    }));
    ok(Command::new("shellcheck").args(["-s", "sh"]).arg(&script));
    let text = std::fs::read_to_string(&script).unwrap();
    assert!(text.starts_with("#!/bin/sh\n"));
    assert!(!text.contains("@"), "a placeholder is left in install.sh");
    // A release runner builds one target: its install.sh must be the same bytes (gather keeps one copy and requires them identical).
    let part = work.join("part");
    let one = xtask(
        Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args([
                "dist",
                "--wheels",
                "--target",
                "aarch64-unknown-linux-musl",
                "--out-dir",
            ])
            .arg(&part)
            .current_dir(&ws),
    );
    assert_eq!(one.code, 0);
    assert_eq!(
        std::fs::read(part.join("install.sh")).unwrap(),
        text.as_bytes()
    );
    assert!(
        std::fs::read(part.join(WHEEL_AARCH64)).unwrap()
            == std::fs::read(dist.join(WHEEL_AARCH64)).unwrap(),
        "the aarch64 wheel built alone differs from the one built with the other targets"
    );

    // --help explains every option and variable.
    let help = ok(Command::new("dash").arg(&script).arg("--help"));
    for word in [
        "--libc musl|gnu",
        "gnu needs glibc 2.17 or later",
        "--to DIR",
        "--version",
        "latest",
        "--base-url URL",
        "INSTALLER_BASE_URL",
        "INSTALLER_LIBC",
        "CARGO_HOME",
        "~/.local/bin",
        "sha256sum",
        "wget",
        "fixture-cli",
    ] {
        assert!(
            help.contains(word),
            "--help does not mention {word}:\n{help}"
        );
    }

    // Phase 2: a real HTTP server over dist/ and a tampered copy.
    let www = work.join("www");
    common::copy_dir(&dist, &www.join("good"));
    common::copy_dir(&dist, &www.join("tampered"));
    let musl = "fixture-cli-x86_64-unknown-linux-musl.tar.gz";
    let tampered = www.join("tampered").join(musl);
    let mut bytes = std::fs::read(&tampered).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&tampered, bytes).unwrap();
    let top = musl.trim_end_matches(".tar.gz");
    let attacks = attacks::attacks(&std::fs::read(dist.join(musl)).unwrap(), top, "fixture-cli");
    for attack in &attacks {
        let dir = www.join(attack.name);
        common::copy_dir(&dist, &dir);
        attacks::plant(&dir, musl, &attack.bytes);
    }
    let server = Server::start(&www);
    let good = format!("{}/good", server.url);

    // The one-liner itself, piped into dash, with the base URL from the environment.
    let home = work.join("home-dash");
    std::fs::create_dir_all(&home).unwrap();
    let piped = finish(
        Command::new(which("sh"))
            .args(["-c", &format!("curl -LsSf {good}/install.sh | dash")])
            .env_clear()
            .env("HOME", &home)
            .env("PATH", std::env::var("PATH").unwrap())
            .env("INSTALLER_BASE_URL", &good),
    );
    assert_eq!(piped.code, 0);
    let installed = home.join(".local/bin/fixture-cli");
    assert!(piped.stderr.contains(&format!(
        "installed fixture-cli (x86_64-unknown-linux-musl) to {}",
        installed.display()
    )));
    assert!(piped.stderr.contains(&format!("checked {musl} (sha256 ")));
    assert!(piped.stderr.contains(&format!(
        "warning: {} is not on PATH",
        home.join(".local/bin").display()
    )));
    assert_eq!(
        version_of(&installed),
        "fixture-cli 0.1.0 (c says 42, crt-static: yes)"
    );
    let audit = linkaudit::audit_path(&installed).unwrap();
    assert!(
        audit.interpreter.is_none() && audit.needed.is_empty(),
        "{audit:?}"
    );

    // bash, --libc gnu, CARGO_HOME/bin already on PATH: the glibc build, no warning.
    let home = work.join("home-bash");
    let cargo_home = home.join("cargo");
    let bin = cargo_home.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let gnu = install(
        "bash",
        &script,
        &["--libc", "gnu", "--base-url", &good],
        &home,
        &[
            ("CARGO_HOME", cargo_home.to_str().unwrap()),
            ("PATH", &path),
        ],
    );
    assert_eq!(gnu.code, 0);
    assert!(!gnu.stderr.contains("not on PATH"), "{}", gnu.stderr);
    let installed = bin.join("fixture-cli");
    assert!(gnu.stderr.contains(&format!(
        "installed fixture-cli (x86_64-unknown-linux-gnu) to {}",
        installed.display()
    )));
    assert_eq!(
        version_of(&installed),
        "fixture-cli 0.1.0 (c says 42, crt-static: no)"
    );
    let audit = linkaudit::audit_path(&installed).unwrap();
    assert!(audit.needed.iter().any(|n| n == "libc.so.6"), "{audit:?}");

    // --to DIR (relative to the working directory) and --libc=musl in the = spelling.
    let home = work.join("home-to");
    std::fs::create_dir_all(&home).unwrap();
    let to = finish(
        Command::new(which("dash"))
            .arg(&script)
            .args([
                "--to",
                "tools/bin",
                "--libc=musl",
                &format!("--base-url={good}"),
            ])
            .current_dir(&home)
            .env_clear()
            .env("HOME", &home)
            .env("PATH", std::env::var("PATH").unwrap()),
    );
    assert_eq!(to.code, 0);
    assert_eq!(
        version_of(&home.join("tools/bin/fixture-cli")),
        "fixture-cli 0.1.0 (c says 42, crt-static: yes)"
    );
    assert!(!home.join(".local").exists());

    // Phase 3: a tampered archive is refused and nothing is installed, under both shells.
    for shell in ["dash", "bash"] {
        let home = work.join(format!("home-tampered-{shell}"));
        let refused = install(
            shell,
            &script,
            &["--base-url", &format!("{}/tampered", server.url)],
            &home,
            &[],
        );
        assert_ne!(refused.code, 0, "{shell}");
        assert!(
            refused
                .stderr
                .contains(&format!("error: checksum mismatch for {musl}")),
            "{}",
            refused.stderr
        );
        assert!(refused.stderr.contains("nothing was installed"));
        assert!(!home.join(".local").exists(), "{shell} created the bin dir");
    }

    // Attacks with every checksum rewritten to agree: linkaudit verify refuses each, and so
    // does install.sh, installing nothing.
    for attack in &attacks {
        let checked = linkaudit::verify::verify_dir(&www.join(attack.name)).unwrap();
        let lines: Vec<String> = checked.failures.iter().map(|f| f.to_string()).collect();
        assert!(
            lines.iter().any(|l| l.contains(&attack.verify_says)),
            "{}: verify says {lines:?}",
            attack.name
        );
        let home = work.join(format!("home-attack-{}", attack.name));
        let refused = install(
            "dash",
            &script,
            &["--base-url", &format!("{}/{}", server.url, attack.name)],
            &home,
            &[],
        );
        assert_ne!(refused.code, 0, "{}", attack.name);
        assert!(
            refused.stderr.contains(&attack.install_says)
                && refused.stderr.contains("nothing was installed"),
            "{}: {}",
            attack.name,
            refused.stderr
        );
        assert!(
            !home.join(".local").exists(),
            "{}: bin dir created",
            attack.name
        );
    }

    // Unsupported systems, with a fake uname first on PATH.
    let uname_for = |os: &str, arch: &str| {
        let dir = work.join(format!("uname-{os}-{arch}"));
        std::fs::create_dir_all(&dir).unwrap();
        let fake = dir.join("uname");
        std::fs::write(
            &fake,
            format!(
                "#!/bin/sh\ncase \"$1\" in -s) echo {os} ;; -m) echo {arch} ;; *) exit 1 ;; esac\n"
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        format!("{}:{}", dir.display(), std::env::var("PATH").unwrap())
    };
    for (os, arch, expected) in [
        (
            "FreeBSD",
            "x86_64",
            "error: unsupported operating system 'FreeBSD'",
        ),
        (
            "Linux",
            "riscv64",
            "error: unsupported architecture 'riscv64'",
        ),
        (
            "MINGW64_NT-10.0",
            "x86_64",
            "on Windows download the .zip archive",
        ),
        // A supported system whose build this dist does not have: the download fails, naming it.
        (
            "Darwin",
            "arm64",
            "download of {good}/fixture-cli-aarch64-apple-darwin.tar.gz failed",
        ),
    ] {
        let home = work.join(format!("home-{os}-{arch}"));
        let path = uname_for(os, arch);
        let refused = install(
            "dash",
            &script,
            &["--base-url", &good],
            &home,
            &[("PATH", &path)],
        );
        assert_ne!(refused.code, 0, "{os} {arch}");
        let expected = expected.replace("{good}", &good);
        assert!(refused.stderr.contains(&expected), "{}", refused.stderr);
        assert!(!home.join(".local").exists());
    }

    // Bad options: one line, non-zero.
    for (args, expected) in [
        (
            vec!["--libc", "uclibc"],
            "--libc must be musl or gnu, not 'uclibc'",
        ),
        (vec!["--frobnicate"], "unknown option '--frobnicate'"),
        (vec!["--to"], "--to needs a value"),
    ] {
        let refused = install("dash", &script, &args, &work.join("home-bad"), &[]);
        assert_ne!(refused.code, 0);
        assert!(refused.stderr.contains(expected), "{}", refused.stderr);
    }

    // Phase 4: no curl on PATH: wget downloads. The PATH holds just the tools the script uses.
    let tools = [
        "uname",
        "mktemp",
        "rm",
        "mkdir",
        "cut",
        "sha256sum",
        "tar",
        "gzip",
        "cp",
        "chmod",
        "mv",
        "cat",
        "sort",
        "uniq",
        "head",
        "find",
        "od",
        "tr",
    ];
    let only = |name: &str, extra: &[&str]| {
        let dir = work.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        for tool in tools.iter().chain(extra) {
            std::os::unix::fs::symlink(which(tool), dir.join(tool)).unwrap();
        }
        dir.display().to_string()
    };
    let wget_only = only("bin-wget-only", &["wget"]);
    let home = work.join("home-wget");
    let fetched = install(
        "dash",
        &script,
        &["--base-url", &good],
        &home,
        &[("PATH", &wget_only)],
    );
    assert_eq!(fetched.code, 0);
    assert_eq!(
        version_of(&home.join(".local/bin/fixture-cli")),
        "fixture-cli 0.1.0 (c says 42, crt-static: yes)"
    );
    let neither = only("bin-no-downloader", &[]);
    let refused = install(
        "dash",
        &script,
        &["--base-url", &good],
        &work.join("home-neither"),
        &[("PATH", &neither)],
    );
    assert_ne!(refused.code, 0);
    assert!(refused
        .stderr
        .contains("error: neither curl nor wget is installed"));
    drop(server);

    // The default URLs: the release the script was built for, and `latest`. (Whether github.com
    // answers or not, the fixture's release does not exist, so the download fails after the line.)
    let release = "https://github.com/fixture-owner/fixture-cli/releases";
    for (args, url) in [
        (vec![], format!("{release}/download/v0.1.0/{musl}")),
        (
            vec!["--version", "latest"],
            format!("{release}/latest/download/{musl}"),
        ),
        (
            vec!["--version", "0.0.9"],
            format!("{release}/download/v0.0.9/{musl}"),
        ),
    ] {
        let attempt = install("dash", &script, &args, &work.join("home-github"), &[]);
        assert_ne!(attempt.code, 0);
        assert!(
            attempt.stderr.contains(&format!("downloading {url}\n")),
            "{}",
            attempt.stderr
        );
    }

    // Phases 5 and 6: the wheels.
    check_wheels(&work, &dist, &built.stdout);
    check_pip(&work, &dist);
}

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
fn check_wheels(work: &Path, dist: &Path, stdout: &str) {
    let mut wheels: Vec<String> = std::fs::read_dir(dist)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".whl"))
        .collect();
    wheels.sort();
    // One wheel per platform: the musl wheels cover glibc too, so the gnu build gets none.
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

    // Entries, modes and times; then the metadata files.
    let listing = ok(Command::new("python3")
        .args(["-c", ZIP_LISTING, WHEEL_X86_64])
        .current_dir(dist));
    let (data, info) = ("fixture_cli-0.1.0.data", "fixture_cli-0.1.0.dist-info");
    let time = "2023-11-14T22:13:20";
    assert_eq!(
        listing,
        format!(
            "{data}/scripts/fixture-cli 0o100755 {time}\n{info}/METADATA 0o100644 {time}\n\
             {info}/RECORD 0o100644 {time}\n{info}/WHEEL 0o100644 {time}\n"
        )
    );
    let read = |member: &str| {
        ok(Command::new("python3")
            .args(["-c", ZIP_READ, WHEEL_X86_64, member])
            .current_dir(dist))
    };
    assert_eq!(
        read(&format!("{info}/WHEEL")),
        "Wheel-Version: 1.0\nGenerator: cargo-xtask-dist\nRoot-Is-Purelib: false\n\
         Tag: py3-none-manylinux_2_17_x86_64\nTag: py3-none-manylinux2014_x86_64\n\
         Tag: py3-none-musllinux_1_1_x86_64\n"
    );
    let metadata = read(&format!("{info}/METADATA"));
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
        .args(["-c", RECORD_CHECK, WHEEL_X86_64, &format!("{info}/RECORD")])
        .current_dir(dist));
    assert_eq!(record.trim(), "4 rows ok");

    // The manifest lists each wheel like an archive, with the binary's place in the wheel.
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
            format!("{data}/scripts/fixture-cli")
        );
        assert_eq!(entry["binaries"][0]["verdict"], "pass");
    }

    // linkaudit verify: checksums, entries and the static policy of the binaries in the wheels.
    let report = linkaudit::verify::verify_dir(dist).unwrap();
    assert_eq!(report.failures, vec![], "linkaudit verify failed");
    assert_eq!((report.archives, report.binaries), (5, 5));
    // ...and it refuses a wheel whose binary is the glibc build.
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
        .arg(format!("{data}/scripts/fixture-cli"))
        .arg(unpacked.join("fixture-cli-x86_64-unknown-linux-gnu/fixture-cli")));
    let report = linkaudit::verify::verify_dir(&bad).unwrap();
    let entry = format!("{WHEEL_X86_64}!{data}/scripts/fixture-cli");
    assert!(
        report
            .failures
            .iter()
            .any(|f| f.file == entry && f.problem.contains("fails its target's policy")),
        "{:?}",
        report.failures
    );

    // twine, as an upload to PyPI would check them.
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
fn check_pip(work: &Path, dist: &Path) {
    let venv = work.join("venv");
    ok(Command::new("python3").arg("-m").arg("venv").arg(&venv));
    let pip = |args: &[&str]| {
        let mut cmd = Command::new(venv.join("bin/pip"));
        cmd.args([
            "install",
            "--disable-pip-version-check",
            "--no-index",
            "--find-links",
        ])
        .arg(dist)
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
    };
    ok(&mut pip(&["fixture-cli"]));
    // On the venv's PATH, as `source venv/bin/activate` puts it.
    let path = format!(
        "{}:{}",
        venv.join("bin").display(),
        std::env::var("PATH").unwrap()
    );
    let found = ok(Command::new("sh")
        .args(["-c", "command -v fixture-cli && fixture-cli --version"])
        .env("PATH", &path));
    assert_eq!(
        found,
        format!(
            "{}\n{MUSL_VERSION}\n",
            venv.join("bin/fixture-cli").display()
        )
    );

    // Which wheel pip picks for each platform, from its JSON report.
    let dry_run = work.join("dry-run");
    for (platform, wheel) in [
        ("musllinux_1_1_x86_64", WHEEL_X86_64),
        ("manylinux_2_17_x86_64", WHEEL_X86_64),
        ("manylinux2014_x86_64", WHEEL_X86_64),
        ("musllinux_1_1_aarch64", WHEEL_AARCH64),
        ("manylinux_2_17_aarch64", WHEEL_AARCH64),
    ] {
        let report = work.join(format!("pip-report-{platform}.json"));
        ok(
            pip(&["--dry-run", "--only-binary=:all:", "--platform", platform])
                .arg("--target")
                .arg(&dry_run)
                .arg("--report")
                .arg(&report)
                .arg("fixture-cli"),
        );
        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
        let url = report["install"][0]["download_info"]["url"]
            .as_str()
            .unwrap();
        assert!(url.ends_with(&format!("/{wheel}")), "{platform}: {url}");
        assert!(!dry_run.join("bin").exists(), "--dry-run installed");
    }
    let windows = run(pip(&[
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

    // The aarch64 wheel, installed for its platform, runs under qemu-user.
    let aarch64 = work.join("aarch64-target");
    ok(pip(&[
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
