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
mod wheels;

use common::{make_fixture, ok, repo_root, run, xtask};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use wheels::{MUSL_VERSION, WHEEL_AARCH64};

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
    require_tools();
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("install-e2e");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();

    let release = build_release(&work);
    one_target_writes_the_same_script_and_wheel(&work, &release);
    help_explains_every_option(&release.script);

    let site = Site::serve(&work, &release.dist);
    installs_with_curl_dash_bash_and_to_dir(&work, &release.script, &site);
    refuses_tampered_and_attacked_archives(&work, &release.script, &site);
    refuses_unsupported_systems(&work, &release.script, &site);
    refuses_bad_options(&work, &release.script);
    downloads_with_wget_when_curl_is_missing(&work, &release.script, &site);
    drop(site);
    default_urls_point_at_the_github_release(&work, &release.script);

    wheels::check_wheels(&work, &release.dist, &release.stdout);
    wheels::check_pip(&work, &release.dist);
}

fn require_tools() {
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
}

/// The fixture's release for the three targets, wheels included.
struct Release {
    ws: PathBuf,
    dist: PathBuf,
    script: PathBuf,
    /// What `cargo xtask dist` printed.
    stdout: String,
}

/// Phase 1: build, and look at the script.
fn build_release(work: &Path) -> Release {
    let ws = work.join("ws");
    make_fixture(&ws, &repo_root().join("Cargo.lock"));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
    cmd.args(["dist", "--wheels"]).current_dir(&ws);
    for target in TARGETS {
        cmd.args(["--target", target]);
    }
    let built = xtask(&mut cmd);
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
    Release {
        ws,
        dist,
        script,
        stdout: built.stdout,
    }
}

/// A release runner builds one target: its install.sh must be the same bytes (gather keeps one
/// copy and requires them identical), and so must its wheel.
fn one_target_writes_the_same_script_and_wheel(work: &Path, release: &Release) {
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
            .current_dir(&release.ws),
    );
    assert_eq!(one.code, 0);
    assert_eq!(
        std::fs::read(part.join("install.sh")).unwrap(),
        std::fs::read(&release.script).unwrap()
    );
    assert!(
        std::fs::read(part.join(WHEEL_AARCH64)).unwrap()
            == std::fs::read(release.dist.join(WHEEL_AARCH64)).unwrap(),
        "the aarch64 wheel built alone differs from the one built with the other targets"
    );
}

/// --help explains every option and variable.
fn help_explains_every_option(script: &Path) {
    let help = ok(Command::new("dash").arg(script).arg("--help"));
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
}

const MUSL_ARCHIVE: &str = "fixture-cli-x86_64-unknown-linux-musl.tar.gz";

/// Phase 2's web site: a real HTTP server over copies of dist/: `good`, `tampered` (one flipped
/// bit in the musl archive) and one directory per attack (checksums rewritten to agree).
struct Site {
    server: Server,
    attacks: Vec<attacks::Attack>,
}

impl Site {
    fn serve(work: &Path, dist: &Path) -> Site {
        let www = work.join("www");
        common::copy_dir(dist, &www.join("good"));
        common::copy_dir(dist, &www.join("tampered"));
        let tampered = www.join("tampered").join(MUSL_ARCHIVE);
        let mut bytes = std::fs::read(&tampered).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x01;
        std::fs::write(&tampered, bytes).unwrap();
        let top = MUSL_ARCHIVE.trim_end_matches(".tar.gz");
        let original = std::fs::read(dist.join(MUSL_ARCHIVE)).unwrap();
        let attacks = attacks::attacks(&original, top, "fixture-cli");
        for attack in &attacks {
            let dir = www.join(attack.name);
            common::copy_dir(dist, &dir);
            attacks::plant(&dir, MUSL_ARCHIVE, &attack.bytes);
        }
        Site {
            server: Server::start(&www),
            attacks,
        }
    }

    /// The base URL of one copy.
    fn url(&self, copy: &str) -> String {
        format!("{}/{copy}", self.server.url)
    }
}

/// The one-liner piped into dash; bash with `--libc gnu`; `--to DIR`.
fn installs_with_curl_dash_bash_and_to_dir(work: &Path, script: &Path, site: &Site) {
    let good = site.url("good");
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
    assert!(piped
        .stderr
        .contains(&format!("checked {MUSL_ARCHIVE} (sha256 ")));
    assert!(piped.stderr.contains(&format!(
        "warning: {} is not on PATH",
        home.join(".local/bin").display()
    )));
    assert_eq!(version_of(&installed), MUSL_VERSION);
    let audit = linkaudit::audit_path(&installed).unwrap();
    assert!(
        audit.interpreter.is_none() && audit.needed.is_empty(),
        "{audit:?}"
    );
    installs_the_gnu_build_into_cargo_home(work, script, &good);
    installs_to_a_relative_dir(work, script, &good);
}

/// bash, --libc gnu, CARGO_HOME/bin already on PATH: the glibc build, no warning.
fn installs_the_gnu_build_into_cargo_home(work: &Path, script: &Path, good: &str) {
    let home = work.join("home-bash");
    let cargo_home = home.join("cargo");
    let bin = cargo_home.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let gnu = install(
        "bash",
        script,
        &["--libc", "gnu", "--base-url", good],
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
}

/// --to DIR (relative to the working directory) and --libc=musl in the = spelling.
fn installs_to_a_relative_dir(work: &Path, script: &Path, good: &str) {
    let home = work.join("home-to");
    std::fs::create_dir_all(&home).unwrap();
    let to = finish(
        Command::new(which("dash"))
            .arg(script)
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
        MUSL_VERSION
    );
    assert!(!home.join(".local").exists());
}

/// Phase 3: a tampered archive is refused and nothing is installed, under both shells; each
/// attack (checksums rewritten to agree) is refused by `linkaudit verify` and by install.sh.
fn refuses_tampered_and_attacked_archives(work: &Path, script: &Path, site: &Site) {
    for shell in ["dash", "bash"] {
        let home = work.join(format!("home-tampered-{shell}"));
        let refused = install(
            shell,
            script,
            &["--base-url", &site.url("tampered")],
            &home,
            &[],
        );
        assert_ne!(refused.code, 0, "{shell}");
        assert!(
            refused
                .stderr
                .contains(&format!("error: checksum mismatch for {MUSL_ARCHIVE}")),
            "{}",
            refused.stderr
        );
        assert!(refused.stderr.contains("nothing was installed"));
        assert!(!home.join(".local").exists(), "{shell} created the bin dir");
    }
    for attack in &site.attacks {
        let checked = linkaudit::verify::verify_dir(&work.join("www").join(attack.name)).unwrap();
        let lines: Vec<String> = checked.failures.iter().map(|f| f.to_string()).collect();
        assert!(
            lines.iter().any(|l| l.contains(&attack.verify_says)),
            "{}: verify says {lines:?}",
            attack.name
        );
        let home = work.join(format!("home-attack-{}", attack.name));
        let refused = install(
            "dash",
            script,
            &["--base-url", &site.url(attack.name)],
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
}

/// A PATH whose first directory holds a fake `uname` answering `os` and `arch`.
fn path_with_uname(work: &Path, os: &str, arch: &str) -> String {
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
}

/// Unsupported systems, with a fake uname first on PATH.
fn refuses_unsupported_systems(work: &Path, script: &Path, site: &Site) {
    let good = site.url("good");
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
        let path = path_with_uname(work, os, arch);
        let refused = install(
            "dash",
            script,
            &["--base-url", &good],
            &home,
            &[("PATH", &path)],
        );
        assert_ne!(refused.code, 0, "{os} {arch}");
        let expected = expected.replace("{good}", &good);
        assert!(refused.stderr.contains(&expected), "{}", refused.stderr);
        assert!(!home.join(".local").exists());
    }
}

/// Bad options: one line, non-zero.
fn refuses_bad_options(work: &Path, script: &Path) {
    for (args, expected) in [
        (
            vec!["--libc", "uclibc"],
            "--libc must be musl or gnu, not 'uclibc'",
        ),
        (vec!["--frobnicate"], "unknown option '--frobnicate'"),
        (vec!["--to"], "--to needs a value"),
    ] {
        let refused = install("dash", script, &args, &work.join("home-bad"), &[]);
        assert_ne!(refused.code, 0);
        assert!(refused.stderr.contains(expected), "{}", refused.stderr);
    }
}

/// A directory of links to just the tools the script uses, and `extra`.
fn only_script_tools(work: &Path, name: &str, extra: &[&str]) -> String {
    const TOOLS: [&str; 18] = [
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
    let dir = work.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    for tool in TOOLS.iter().chain(extra) {
        std::os::unix::fs::symlink(which(tool), dir.join(tool)).unwrap();
    }
    dir.display().to_string()
}

/// Phase 4: no curl on PATH: wget downloads; neither: one line saying so.
fn downloads_with_wget_when_curl_is_missing(work: &Path, script: &Path, site: &Site) {
    let good = site.url("good");
    let wget_only = only_script_tools(work, "bin-wget-only", &["wget"]);
    let home = work.join("home-wget");
    let fetched = install(
        "dash",
        script,
        &["--base-url", &good],
        &home,
        &[("PATH", &wget_only)],
    );
    assert_eq!(fetched.code, 0);
    assert_eq!(
        version_of(&home.join(".local/bin/fixture-cli")),
        MUSL_VERSION
    );
    let neither = only_script_tools(work, "bin-no-downloader", &[]);
    let refused = install(
        "dash",
        script,
        &["--base-url", &good],
        &work.join("home-neither"),
        &[("PATH", &neither)],
    );
    assert_ne!(refused.code, 0);
    assert!(refused
        .stderr
        .contains("error: neither curl nor wget is installed"));
}

/// The default URLs: the release the script was built for, and `latest`. (Whether github.com
/// answers or not, the fixture's release does not exist, so the download fails after the line.)
fn default_urls_point_at_the_github_release(work: &Path, script: &Path) {
    let release = "https://github.com/fixture-owner/fixture-cli/releases";
    for (args, url) in [
        (vec![], format!("{release}/download/v0.1.0/{MUSL_ARCHIVE}")),
        (
            vec!["--version", "latest"],
            format!("{release}/latest/download/{MUSL_ARCHIVE}"),
        ),
        (
            vec!["--version", "0.0.9"],
            format!("{release}/download/v0.0.9/{MUSL_ARCHIVE}"),
        ),
    ] {
        let attempt = install("dash", script, &args, &work.join("home-github"), &[]);
        assert_ne!(attempt.code, 0);
        assert!(
            attempt.stderr.contains(&format!("downloading {url}\n")),
            "{}",
            attempt.stderr
        );
    }
}
