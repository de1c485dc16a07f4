//! Shared by the integration tests: real binaries built from tests/fixtures once per test run,
//! the wheel cache filled by tests/fetch-wheels.sh, and a runner for the `linkaudit` binary.
#![allow(dead_code)] // each test file uses a different part

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The binaries the tests audit, built by the real toolchains for each release target.
pub struct Fixtures {
    /// Rust, x86_64-unknown-linux-musl with +crt-static: static-pie.
    pub musl_static_pie: PathBuf,
    /// Rust, x86_64-unknown-linux-gnu: dynamic, needs libc.so.6 at the host's GLIBC version.
    pub gnu_dynamic: PathBuf,
    /// Rust, aarch64-unknown-linux-musl linked by rust-lld: static.
    pub aarch64_static: PathBuf,
    /// Rust, x86_64-pc-windows-gnu linked by mingw-w64: a PE importing only system DLLs.
    pub windows_exe: PathBuf,
    /// Rust cdylib, x86_64-pc-windows-gnu: a DLL.
    pub windows_dll: PathBuf,
    /// Rust cdylib, x86_64-unknown-linux-gnu: `libgreet.so`.
    pub gnu_cdylib: PathBuf,
    /// C through musl-gcc -static: a non-PIE static executable (ET_EXEC).
    pub c_static: PathBuf,
    /// C through musl-gcc: dynamic, needs musl's loader and libc.so.
    pub c_musl_dynamic: PathBuf,
}

impl Fixtures {
    /// Every fixture binary, for tests that go over all of them.
    pub fn all(&self) -> [&PathBuf; 8] {
        [
            &self.musl_static_pie,
            &self.gnu_dynamic,
            &self.gnu_cdylib,
            &self.aarch64_static,
            &self.windows_exe,
            &self.windows_dll,
            &self.c_static,
            &self.c_musl_dynamic,
        ]
    }
}

pub fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Where the fixtures are built: one directory for every test binary of the run, so each target
/// is compiled once (cargo's lock on the target dir serialises concurrent builds).
pub fn fixture_target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("fixtures")
}

pub fn fixtures() -> &'static Fixtures {
    static FIXTURES: OnceLock<Fixtures> = OnceLock::new();
    FIXTURES.get_or_init(build_fixtures)
}

fn build_fixtures() -> Fixtures {
    let out = fixture_target_dir();
    let release = |target: &str, file: &str| out.join(target).join("release").join(file);
    cargo_build(
        "x86_64-unknown-linux-musl",
        &["-p", "hello"],
        &[],
        "rustup target add x86_64-unknown-linux-musl",
    );
    cargo_build(
        "x86_64-unknown-linux-gnu",
        &[],
        &[],
        "rustup target add x86_64-unknown-linux-gnu",
    );
    // The musl target has no system linker for aarch64 here: rust-lld and Rust's own musl crt.
    cargo_build(
        "aarch64-unknown-linux-musl",
        &["-p", "hello"],
        &[
            "--config",
            "target.aarch64-unknown-linux-musl.linker=\"rust-lld\"",
            "--config",
            "target.aarch64-unknown-linux-musl.rustflags=[\"-C\", \"link-self-contained=yes\"]",
        ],
        "rustup target add aarch64-unknown-linux-musl",
    );
    cargo_build(
        "x86_64-pc-windows-gnu",
        &[],
        &[],
        "rustup target add x86_64-pc-windows-gnu && apt-get install gcc-mingw-w64-x86-64",
    );
    let c_dir = out.join("c");
    std::fs::create_dir_all(&c_dir).expect("create the fixture directory");
    let source = crate_dir().join("tests/fixtures/hello.c");
    let c_static = c_dir.join("hello-static");
    let c_musl_dynamic = c_dir.join("hello-musl-dynamic");
    musl_gcc(&["-static", "-no-pie"], &source, &c_static);
    musl_gcc(&[], &source, &c_musl_dynamic);
    Fixtures {
        musl_static_pie: release("x86_64-unknown-linux-musl", "hello"),
        gnu_dynamic: release("x86_64-unknown-linux-gnu", "hello"),
        aarch64_static: release("aarch64-unknown-linux-musl", "hello"),
        windows_exe: release("x86_64-pc-windows-gnu", "hello.exe"),
        windows_dll: release("x86_64-pc-windows-gnu", "greet.dll"),
        gnu_cdylib: release("x86_64-unknown-linux-gnu", "libgreet.so"),
        c_static,
        c_musl_dynamic,
    }
}

fn cargo_build(target: &str, packages: &[&str], config: &[&str], install_hint: &str) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(crate_dir().join("tests/fixtures"))
        .args(["build", "--release", "--quiet", "--target", target])
        .args(packages)
        .args(config)
        .arg("--target-dir")
        .arg(fixture_target_dir())
        // Either variable would replace the [target] rustflags of .cargo/config.toml, dropping
        // +crt-static from the musl builds (see docs and FIELD-NOTES: the cargo flag trap).
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .output()
        .unwrap_or_else(|err| panic!("cannot run cargo to build the {target} fixtures: {err}"));
    assert!(
        output.status.success(),
        "building the test fixtures for {target} failed; install what it needs with `{install_hint}`\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn musl_gcc(flags: &[&str], source: &Path, output: &Path) {
    let status = Command::new("musl-gcc")
        .args(flags)
        .arg("-Os")
        .arg(source)
        .arg("-o")
        .arg(output)
        .status()
        .unwrap_or_else(|err| {
            panic!("cannot run musl-gcc ({err}); install it with `apt-get install musl-tools`")
        });
    assert!(
        status.success(),
        "musl-gcc failed to build {}; install it with `apt-get install musl-tools`",
        output.display()
    );
}

/// Binaries from public wheels (MSVC, Apple, musllinux), fetched by tests/fetch-wheels.sh.
pub fn wheel_binary(name: &str) -> PathBuf {
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate_dir().join("../../target"));
    let path = target_dir.join("wheels-cache/bin").join(name);
    assert!(
        path.is_file(),
        "{} is missing: run crates/linkaudit/tests/fetch-wheels.sh (needs network and pip) before the tests",
        path.display()
    );
    path
}

/// Runs the `linkaudit` binary under test.
pub fn linkaudit(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_linkaudit"))
        .args(args)
        .output()
        .expect("run the linkaudit binary")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The one JSON object `linkaudit --json FILE` prints for `path`.
pub fn json_of(path: &Path) -> serde_json::Value {
    let output = linkaudit(&[&"--json", &path]);
    let text = stdout(&output);
    serde_json::from_str(text.trim())
        .unwrap_or_else(|err| panic!("linkaudit --json {}: {err}: {text}", path.display()))
}

pub fn strings(value: &serde_json::Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("{value} is not an array"))
        .iter()
        .map(|v| v.as_str().expect("a string").to_owned())
        .collect()
}
