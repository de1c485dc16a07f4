//! Finding, and when missing installing, what the build needs: rustup targets
//! through rustup, zig and cargo-zigbuild from PyPI into `target/xtask-tools` (never system-wide).
//! Each install prints one line saying what it installs.

use super::report::Report;
use super::target::TargetTriple;
use anyhow::{bail, Context, Result};
use std::collections::BTreeSet;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use xshell::{cmd, Shell};

/// Pinned: the zig version decides the bytes of the linked binaries.
pub const ZIGLANG: &str = "ziglang==0.17.1";
pub const CARGO_ZIGBUILD: &str = "cargo-zigbuild==0.24.0";

/// Finds an executable on a PATH-like list, the way a shell would.
pub fn find_on_path(name: &str, path: Option<&OsStr>) -> Option<PathBuf> {
    let path = path?;
    std::env::split_paths(path).find_map(|dir| {
        [name.to_owned(), format!("{name}.exe")]
            .into_iter()
            .map(|file| dir.join(file))
            .find(|candidate| candidate.is_file())
    })
}

pub fn which(name: &str) -> Option<PathBuf> {
    find_on_path(name, std::env::var_os("PATH").as_deref())
}

/// `'text'` for sh (as it is when only safe characters), with any `'` closed, escaped and reopened.
pub fn shell_quote(text: &str) -> String {
    if !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:@,+".contains(&b))
    {
        return text.to_owned();
    }
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// What `rustup target list` says.
#[derive(Debug, Default)]
pub struct RustupTargets {
    pub known: BTreeSet<String>,
    pub installed: BTreeSet<String>,
}

impl RustupTargets {
    /// `None` when there is no rustup (a distro toolchain): then nothing can be installed.
    pub fn query(sh: &Shell) -> Result<Option<RustupTargets>> {
        if which("rustup").is_none() {
            return Ok(None);
        }
        let list = cmd!(sh, "rustup target list")
            .quiet()
            .read()
            .context("listing rustup's targets with `rustup target list`")?;
        Ok(Some(RustupTargets::parse(&list)))
    }

    fn parse(list: &str) -> RustupTargets {
        let mut targets = RustupTargets::default();
        for line in list.lines() {
            let mut words = line.split_whitespace();
            let Some(triple) = words.next() else { continue };
            targets.known.insert(triple.to_owned());
            if words.next() == Some("(installed)") {
                targets.installed.insert(triple.to_owned());
            }
        }
        targets
    }
}

/// Adds the rustup targets the build needs and lacks.
pub fn ensure_rustup_targets(
    sh: &Shell,
    rustup: Option<&RustupTargets>,
    targets: &[TargetTriple],
    report: &Report,
) -> Result<()> {
    for triple in targets {
        match rustup {
            Some(list) if list.installed.contains(triple.as_str()) => {}
            Some(_) => {
                report.step(
                    "install",
                    triple.as_str(),
                    &format!("standard library: rustup target add {triple}"),
                );
                cmd!(sh, "rustup target add {triple}")
                    .quiet()
                    .ignore_stdout() // stdout is for --json
                    .run().with_context(|| {
                    format!("`rustup target add {triple}` failed (no network?): run it by hand, then retry")
                })?;
            }
            None => {
                // No rustup: trust the toolchain; cargo names a missing std itself.
            }
        }
    }
    Ok(())
}

/// How to run cargo-zigbuild: the program, and what its environment needs when it was installed
/// into the tools dir (zig is then found as `python3 -m ziglang` through PYTHONPATH).
#[derive(Debug, Clone)]
pub struct Zigbuild {
    pub program: PathBuf,
    pub env: Vec<(&'static str, OsString)>,
    /// The zig binary cargo-zigbuild runs, found once per run (`find_zig`).
    pub zig: PathBuf,
}

/// A shell of its own for a thread, in `dir` (xshell's `Shell` is not `Sync`).
pub fn shell_in(dir: &Path) -> Result<Shell> {
    let sh = Shell::new().context("starting a shell")?;
    sh.change_dir(dir);
    Ok(sh)
}

/// The search for zig on this machine (`find_zig` without the tools dir), started by
/// `start_finding_zig` while the plan runs.
static ZIG_ON_HOST: std::sync::Mutex<Option<std::thread::JoinHandle<Option<PathBuf>>>> =
    std::sync::Mutex::new(None);

/// Starts `find_zig` in the background: its python start (50 ms, 150 ms behind pyenv's shims)
/// then overlaps the plan's cargo and rustc calls instead of adding to a warm no-op run.
pub fn start_finding_zig() {
    let search = std::thread::spawn(|| {
        lower_thread_priority();
        find_zig(&Shell::new().ok()?, &[])
    });
    if let Ok(mut slot) = ZIG_ON_HOST.lock() {
        *slot = Some(search);
    }
}

/// Gives the calling thread, and the processes it starts, a lower CPU priority (nice 10) than
/// cargo's: for work that runs beside a build on few cores (the zig search, the pack thread), so
/// that cargo keeps its share and the side work fills the idle time. Linux keeps nice values per
/// thread, so only this thread changes. A warm no-op `cargo xtask dist`: 1.71 s before, 1.63 s
/// after (medians of 12 interleaved runs, the cargo commands alone took 1.53 s).
pub fn lower_thread_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority reads no memory of ours; `who` 0 is the calling thread.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, 10);
    }
}

/// The background search's answer, else a search now; asked by the build and by the thread that
/// builds zig's runtime libraries ahead (`zig_runtime.rs`), it searches once.
pub fn zig_on_host(sh: &Shell) -> Option<PathBuf> {
    static FOUND: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    FOUND
        .get_or_init(|| {
            let started = ZIG_ON_HOST.lock().ok().and_then(|mut slot| slot.take());
            match started.map(std::thread::JoinHandle::join) {
                Some(Ok(found)) => found,
                _ => find_zig(sh, &[]),
            }
        })
        .clone()
}

/// Finds cargo-zigbuild and zig, or installs both with pip into `<target>/xtask-tools/python`.
pub fn ensure_zigbuild(sh: &Shell, target_dir: &Path, report: &Report) -> Result<Zigbuild> {
    if let Some(program) = which("cargo-zigbuild") {
        if let Some(zig) = zig_on_host(sh) {
            return Ok(Zigbuild {
                program,
                env: Vec::new(),
                zig,
            });
        }
    }
    let prefix = target_dir.join("xtask-tools").join("python");
    let (program, env) = local_zigbuild(&prefix)?;
    let mut zig = find_zig(sh, &env).filter(|_| program.is_file());
    if zig.is_none() {
        install_with_pip(sh, &prefix, report)?;
        if !program.is_file() {
            bail!(
                "pip installed cargo-zigbuild but {} is missing: install it yourself with \
                 `python3 -m pip install {ZIGLANG} {CARGO_ZIGBUILD}`",
                program.display()
            );
        }
        zig = find_zig(sh, &env);
    }
    let zig = zig.with_context(|| {
        format!(
            "pip installed zig but it does not run: install it yourself with \
             `python3 -m pip install {ZIGLANG}`"
        )
    })?;
    Ok(Zigbuild { program, env, zig })
}

/// The cargo-zigbuild inside the tools dir, with PATH and PYTHONPATH pointing there.
fn local_zigbuild(prefix: &Path) -> Result<(PathBuf, Vec<(&'static str, OsString)>)> {
    let bin = prefix.join("bin");
    let program = bin.join(format!("cargo-zigbuild{}", std::env::consts::EXE_SUFFIX));
    let prepend = |var: &str, dir: &Path| -> Result<OsString> {
        let mut dirs = vec![dir.to_path_buf()];
        dirs.extend(std::env::var_os(var).iter().flat_map(std::env::split_paths));
        std::env::join_paths(dirs).with_context(|| format!("adding {} to {var}", dir.display()))
    };
    let env = vec![
        ("PATH", prepend("PATH", &bin)?),
        ("PYTHONPATH", prepend("PYTHONPATH", prefix)?),
    ];
    Ok((program, env))
}

/// The zig binary cargo-zigbuild runs, if it runs: the ziglang package's (what
/// `python3 -m ziglang` starts), else `zig` on PATH. One python start, asked once per run: each
/// costs a warm no-op `cargo xtask dist` 50 ms, 150 ms behind pyenv's shims.
pub fn find_zig(sh: &Shell, env: &[(&'static str, OsString)]) -> Option<PathBuf> {
    let code = "import ziglang, os; print(os.path.join(os.path.dirname(ziglang.__file__), 'zig'))";
    let mut python = cmd!(sh, "{PYTHON} -c {code}").quiet().ignore_stderr();
    for (key, value) in env {
        python = python.env(key, value);
    }
    let packaged = python
        .read()
        .ok()
        .map(|path| PathBuf::from(path.trim()))
        .filter(|path| path.is_file());
    let zig = packaged.or_else(|| which("zig"))?;
    let runs = cmd!(sh, "{zig} version")
        .quiet()
        .ignore_stdout()
        .ignore_stderr()
        .run()
        .is_ok();
    runs.then_some(zig)
}

const PYTHON: &str = if cfg!(windows) { "python" } else { "python3" };

/// The environment that makes cargo-zigbuild run `zig` (as `find_zig` found it) without asking
/// python again. cargo-zigbuild 0.24 tries `python3 -m ziglang` before `CARGO_ZIGBUILD_ZIG_PATH`,
/// in each invocation and in each call of its linker wrapper: four python starts per no-op
/// invocation here, 0.51 s against 0.34 s for one `cargo zigbuild` of a built target (hyperfine,
/// 8 runs each). An empty `CARGO_ZIGBUILD_PYTHON_PATH` fails its python lookup at once, so it
/// takes `CARGO_ZIGBUILD_ZIG_PATH`: the same zig binary, so the same bytes.
pub fn zig_for_cargo_zigbuild(zig: &Path) -> [(&'static str, OsString); 2] {
    [
        ("CARGO_ZIGBUILD_PYTHON_PATH", OsString::new()),
        ("CARGO_ZIGBUILD_ZIG_PATH", zig.as_os_str().to_owned()),
    ]
}

fn install_with_pip(sh: &Shell, prefix: &Path, report: &Report) -> Result<()> {
    report.step(
        "install",
        "zig",
        &format!(
            "{ZIGLANG} {CARGO_ZIGBUILD} with pip into {}",
            prefix.display()
        ),
    );
    if which(PYTHON).is_none() {
        bail!(
            "cargo-zigbuild and zig are missing and there is no {PYTHON} to install them: \
             install python3, or `pip install {ZIGLANG} {CARGO_ZIGBUILD}`"
        );
    }
    sh.create_dir(prefix)
        .with_context(|| format!("creating {}", prefix.display()))?;
    cmd!(
        sh,
        "{PYTHON} -m pip install --quiet --disable-pip-version-check --no-warn-script-location --upgrade --target {prefix} {ZIGLANG} {CARGO_ZIGBUILD}"
    )
    .quiet()
    .ignore_stdout() // stdout is for --json
    .run()
    .with_context(|| {
        format!(
            "installing zig and cargo-zigbuild with pip failed (no network, or no pip?): \
             install them yourself with `{PYTHON} -m pip install {ZIGLANG} {CARGO_ZIGBUILD}`"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quoting() {
        assert_eq!(shell_quote("--target"), "--target");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote("x=[\"y\"]"), "'x=[\"y\"]'");
    }

    #[test]
    fn rustup_lists_known_and_installed_targets() {
        let list = RustupTargets::parse(
            "aarch64-apple-darwin\nx86_64-unknown-linux-gnu (installed)\nx86_64-unknown-linux-musl\n",
        );
        assert_eq!(list.known.len(), 3);
        assert!(list.installed.contains("x86_64-unknown-linux-gnu"));
        assert!(!list.installed.contains("x86_64-unknown-linux-musl"));
    }

    #[test]
    fn executables_are_found_only_on_the_given_path() {
        let dir = std::env::temp_dir().join(format!("xtask-which-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("cargo-zigbuild"), "").unwrap();
        let path = std::env::join_paths([dir.clone()]).unwrap();
        assert_eq!(
            find_on_path("cargo-zigbuild", Some(&path)),
            Some(dir.join("cargo-zigbuild"))
        );
        assert_eq!(find_on_path("zig", Some(&path)), None);
        assert_eq!(find_on_path("cargo-zigbuild", None), None);
        let empty = std::env::join_paths([dir.join("nothing")]).unwrap();
        assert_eq!(find_on_path("cargo-zigbuild", Some(&empty)), None);
    }

    #[test]
    fn the_local_install_is_put_first_on_path_and_pythonpath() {
        let (program, env) = local_zigbuild(Path::new("/ws/target/xtask-tools/python")).unwrap();
        assert!(program.starts_with("/ws/target/xtask-tools/python/bin"));
        for (key, value) in &env {
            let first = std::env::split_paths(value).next().unwrap();
            assert!(first.starts_with("/ws/target/xtask-tools/python"), "{key}");
        }
    }
}
