//! cargo-binstall installs what `cargo xtask dist` released, with the real `cargo-binstall`
//! (crates.io; `cargo xtask test` installs the pinned version from its NEEDS list) against an
//! HTTPS server on 127.0.0.1 that serves a dist/ of the fixture workspace at the GitHub release
//! path of its `repository`:
//!
//! 1. The fixture's `[package.metadata.binstall]` (the table README shows), with the key of a
//!    throwaway minisign pair in `[package.metadata.binstall.signing]`: `cargo binstall
//!    --only-signed` downloads the archive and its `.sig`, says it verified the signature with the
//!    trusted comment the xtask wrote, and installs a binary that runs.
//! 2. A tampered archive (another binary under the same name) and a signature made with another
//!    key: cargo-binstall refuses both and installs nothing.
//! 3. A table that misses the archives stops `cargo xtask dist` with one line naming the key to
//!    set, before anything is built; dist/ is not created.
//!
//! cargo-binstall 1.21 speaks HTTPS only, so the test makes its own CA (openssl) and passes it
//! with `--root-certificates`. `--manifest-path` reads the local Cargo.toml instead of
//! crates.io's; `--strategies crate-meta-data` keeps it from third-party builds and compiling.
//!
//! Needs: cargo-binstall, minisign, openssl, python3, rustup target x86_64-unknown-linux-musl,
//! zig + cargo-zigbuild, git.

#![cfg(target_os = "linux")]

mod common;

use common::minisign::{generate, Keys};
use common::{archive_name, make_fixture, make_fixture_with, ok, repo_root, run, xtask};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

const MUSL: &str = "x86_64-unknown-linux-musl";
const RELEASE_PATH: &str = "fixture-owner/fixture-cli/releases/download/v0.1.0";

#[test]
fn cargo_binstall_installs_the_signed_release_and_refuses_tampering() {
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("binstall");
    let _ = std::fs::remove_dir_all(&work);
    let keys = generate(&work.join("keys"), None);
    let ca = make_certificates(&work.join("tls"));
    let www = work.join("www");
    let release = www.join(RELEASE_PATH);
    std::fs::create_dir_all(&release).unwrap();
    let server = Server::start(&www, &work.join("tls"), &work.join("requests.log"));

    // The repository is the loopback server: {repo} renders to it, the rest of the table as
    // README shows it.
    let ws = work.join("ws");
    let repository = format!(
        "https://127.0.0.1:{}/fixture-owner/fixture-cli",
        server.port
    );
    make_fixture_with(&ws, &repo_root().join("Cargo.lock"), |ws| {
        let manifest = ws.join("crates/fixture-cli/Cargo.toml");
        let text = std::fs::read_to_string(&manifest).unwrap();
        let text = text.replace("https://github.com/fixture-owner/fixture-cli", &repository);
        let signing = format!(
            "\n[package.metadata.binstall.signing]\nalgorithm = \"minisign\"\npubkey = \"{}\"\n",
            keys.public
        );
        std::fs::write(&manifest, text + &signing).unwrap();
    });
    let mut dist = Command::new(env!("CARGO_BIN_EXE_xtask"));
    dist.args(["dist", "--target", MUSL])
        .env("MINISIGN_SECRET_KEY", &keys.secret)
        .current_dir(&ws);
    let built = xtask(&mut dist);
    assert_eq!(built.code, 0);
    assert!(
        built
            .stdout
            .contains("[package.metadata.binstall] finds the archives"),
        "{}",
        built.stdout
    );
    let archive = archive_name(MUSL);
    for file in [archive.clone(), format!("{archive}.sig")] {
        std::fs::copy(ws.join("dist").join(&file), release.join(&file)).unwrap();
    }

    // 1. Installed, signature verified, and it runs.
    let installed = binstall(&ws, &ca, &work.join("bin-good"));
    let said = text(&installed);
    assert!(installed.status.success(), "{said}");
    assert!(
        said.contains("Verified signature for package 'fixture-cli'")
            && said.contains(&format!(
                "file:{archive}\tpackage:fixture-cli\tversion:0.1.0"
            )),
        "{said}"
    );
    let requests = std::fs::read_to_string(&server.log).unwrap();
    assert!(
        requests.contains(&format!("\"GET /{RELEASE_PATH}/{archive}.sig ")),
        "{requests}"
    );
    let binary = work.join("bin-good/fixture-cli");
    let version = ok(Command::new(&binary).arg("--version"));
    assert!(
        version.starts_with("fixture-cli 0.1.0 (c says 42, crt-static: yes)"),
        "{version}"
    );

    // 2. Another binary under the same name, then the right archive with another key's
    //    signature: refused, nothing installed.
    let good = std::fs::read(release.join(&archive)).unwrap();
    std::fs::write(
        release.join(&archive),
        tampered_archive(&work.join("tampered")),
    )
    .unwrap();
    refused(&ws, &ca, &work.join("bin-tampered"));
    std::fs::write(release.join(&archive), &good).unwrap();
    let other = generate(&work.join("other-keys"), None);
    sign_with(
        &other,
        &release.join(&archive),
        &release.join(format!("{archive}.sig")),
    );
    refused(&ws, &ca, &work.join("bin-other-key"));
}

#[test]
fn a_table_that_misses_the_archives_stops_dist_before_it_builds() {
    let ws = Path::new(env!("CARGO_TARGET_TMPDIR")).join("binstall-mismatch");
    let _ = std::fs::remove_dir_all(&ws);
    make_fixture(&ws, &repo_root().join("Cargo.lock"));
    let manifest = ws.join("crates/fixture-cli/Cargo.toml");
    let good = std::fs::read_to_string(&manifest).unwrap();
    for (from, to, expected) in [
        (
            "{ target }{ archive-suffix }\"",
            "{ target }-v{ version }{ archive-suffix }\"",
            "pkg-url gives https://github.com/fixture-owner/fixture-cli/releases/download/v0.1.0/\
             fixture-cli-x86_64-unknown-linux-gnu-v0.1.0.tar.gz for x86_64-unknown-linux-gnu, but \
             the release has https://github.com/fixture-owner/fixture-cli/releases/download/v0.1.0/\
             fixture-cli-x86_64-unknown-linux-gnu.tar.gz: set pkg-url = ",
        ),
        (
            "bin-dir = \"{ name }-{ target }/",
            "bin-dir = \"",
            "bin-dir gives fixture-cli for fixture-cli on x86_64-unknown-linux-gnu, but the \
             archive holds fixture-cli-x86_64-unknown-linux-gnu/fixture-cli: set bin-dir = ",
        ),
        (
            "[package.metadata.binstall.overrides.x86_64-pc-windows-gnu]\npkg-fmt = \"zip\"\n",
            "",
            "pkg-fmt is \"tgz\" for x86_64-pc-windows-gnu, whose archive is a .zip: set pkg-fmt = \
             \"zip\" in [package.metadata.binstall.overrides.x86_64-pc-windows-gnu]",
        ),
    ] {
        assert!(good.contains(from), "{from}");
        std::fs::write(&manifest, good.replace(from, to)).unwrap();
        let failed = xtask(
            Command::new(env!("CARGO_BIN_EXE_xtask"))
                .arg("dist")
                .current_dir(&ws),
        );
        assert_eq!(failed.code, 1);
        assert_eq!(failed.stderr.lines().count(), 1, "{}", failed.stderr);
        assert!(
            failed.stderr.contains(&format!(
                "package fixture-cli's [package.metadata.binstall] does not match its release: \
                 {expected}"
            )),
            "{}",
            failed.stderr
        );
        assert!(!ws.join("dist").exists(), "a refused run created dist/");
    }
    std::fs::write(&manifest, good).unwrap();
}

/// `cargo-binstall` as a user runs it, limited to the crate's own release and the loopback
/// server; its settings and records stay in `bin`.
fn binstall(ws: &Path, ca: &Path, bin: &Path) -> Output {
    std::fs::create_dir_all(bin).unwrap();
    let out = run(Command::new("cargo-binstall")
        .arg("fixture-cli")
        .arg("--manifest-path")
        .arg(ws.join("crates/fixture-cli"))
        .args(["--targets", MUSL, "--strategies", "crate-meta-data"])
        .args(["--only-signed", "--no-confirm", "--no-track"])
        .args(["--no-discover-github-token", "--disable-telemetry"])
        .args(["--log-level", "info", "--root-certificates"])
        .arg(ca)
        .arg("--install-path")
        .arg(bin)
        .arg("--settings")
        .arg(bin.join("binstall.toml")));
    eprintln!("--- cargo-binstall into {}:\n{}", bin.display(), text(&out));
    out
}

fn refused(ws: &Path, ca: &Path, bin: &Path) {
    let out = binstall(ws, ca, bin);
    let said = text(&out);
    assert!(!out.status.success(), "cargo-binstall accepted it:\n{said}");
    assert!(said.contains("Failed to verify signature"), "{said}");
    assert!(!bin.join("fixture-cli").exists(), "{said}");
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A tar.gz with the release's layout whose `fixture-cli` is a shell script.
fn tampered_archive(dir: &Path) -> Vec<u8> {
    let top = format!("fixture-cli-{MUSL}");
    std::fs::create_dir_all(dir.join(&top)).unwrap();
    let script = dir.join(&top).join("fixture-cli");
    std::fs::write(&script, "#!/bin/sh\necho tampered\n").unwrap();
    ok(Command::new("chmod").arg("755").arg(&script));
    ok(Command::new("tar")
        .args(["czf", "tampered.tar.gz", &top])
        .current_dir(dir));
    std::fs::read(dir.join("tampered.tar.gz")).unwrap()
}

/// `minisign -S` of `file` with `keys` into `signature`.
fn sign_with(keys: &Keys, file: &Path, signature: &Path) {
    let secret = keys.public_file.with_file_name("key.sec");
    ok(Command::new("minisign")
        .args(["-S", "-W", "-s"])
        .arg(secret)
        .arg("-m")
        .arg(file)
        .arg("-x")
        .arg(signature));
}

/// A throwaway CA and a certificate for 127.0.0.1 signed by it (rustls refuses a CA certificate
/// as a server's own); returns the CA's file for `--root-certificates`.
fn make_certificates(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let openssl = |args: &[&str]| ok(Command::new("openssl").args(args).current_dir(dir));
    let new_key = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let ca = [
        "req",
        "-x509",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-subj",
        "/CN=test-ca",
    ];
    openssl(&[&ca[..], &new_key, &["-days", "2"]].concat());
    let csr = [
        "req",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ];
    openssl(&[&csr[..], &new_key].concat());
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "server.ext",
    ]);
    dir.join("ca.pem")
}

/// Python's file server over TLS on 127.0.0.1 (a free port), logging each request to `log`; it
/// exits when dropped, and by itself after 15 minutes.
struct Server {
    child: Child,
    port: u16,
    log: PathBuf,
}

const SERVE: &str = r#"
import functools, http.server, os, ssl, sys, threading
root, tls = sys.argv[1], sys.argv[2]
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=root)
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(os.path.join(tls, "server.pem"), os.path.join(tls, "server.key"))
server.socket = context.wrap_socket(server.socket, server_side=True)
threading.Timer(900, lambda: os._exit(0)).start()
print(server.server_address[1], flush=True)
server.serve_forever()
"#;

impl Server {
    fn start(root: &Path, tls: &Path, log: &Path) -> Server {
        let mut child = Command::new("python3")
            .args(["-c", SERVE])
            .arg(root)
            .arg(tls)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(log).unwrap())
            .spawn()
            .expect("python3");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line.trim().parse().unwrap_or_else(|_| {
            panic!(
                "the server did not start: {line:?} {}",
                std::fs::read_to_string(log).unwrap_or_default()
            )
        });
        Server {
            child,
            port,
            log: log.to_owned(),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
