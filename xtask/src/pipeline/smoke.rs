//! The smoke run: each binary, taken from its unpacked archive, is started once
//! with `--version` before the run succeeds. Host targets run directly; foreign Linux targets run
//! under qemu-user when it is installed; anything else is skipped with a line saying why.

use super::verify::Verified;
use crate::workspace::archive;
use crate::workspace::target::{Host, TargetTriple};
use crate::workspace::tools;
use anyhow::{bail, Context, Result};
use linkaudit::target::Arch;
use std::path::{Path, PathBuf};

/// How a binary of some target is started here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Runner {
    Direct,
    /// qemu-user, with the sysroot of the target's dynamic loader for glibc targets.
    Qemu {
        program: PathBuf,
        sysroot: Option<PathBuf>,
    },
}

impl Runner {
    pub fn describe(&self) -> String {
        match self {
            Runner::Direct => "directly".to_owned(),
            Runner::Qemu { program, .. } => format!(
                "under {}",
                program.file_name().unwrap_or_default().to_string_lossy()
            ),
        }
    }
}

/// Picks a runner, or says why there is none. `which` finds programs; `is_dir` checks sysroots
/// (both passed in so that the choice is tested without qemu installed).
pub fn runner_for(
    host: &TargetTriple,
    target: &TargetTriple,
    which: impl Fn(&str) -> Option<PathBuf>,
    is_dir: impl Fn(&Path) -> bool,
) -> Result<Runner, String> {
    let same_os = (host.is_linux() && target.is_linux())
        || (host.is_windows() && target.is_windows())
        || (host.is_apple() && target.is_apple());
    if same_os && host.arch() == target.arch() {
        return Ok(Runner::Direct);
    }
    if !(host.is_linux() && target.is_linux()) {
        return Err(format!(
            "a {target} binary does not start on this {host} host"
        ));
    }
    let Some((qemu_arch, debian_arch)) = qemu_names(target.arch()) else {
        return Err(format!("no qemu-user emulator known for {}", target.arch()));
    };
    let program = [
        format!("qemu-{qemu_arch}-static"),
        format!("qemu-{qemu_arch}"),
    ]
    .iter()
    .find_map(|name| which(name))
    .ok_or_else(|| {
        format!("qemu-{qemu_arch}-static is not installed (apt-get install qemu-user-static)")
    })?;
    let sysroot = if target.is_linux_gnu() {
        // The glibc binary needs the target's loader and libc: Debian's libc6-<arch>-cross.
        let gnu_arch = if qemu_arch == "arm" { "arm" } else { qemu_arch };
        let abi = if qemu_arch == "arm" {
            "gnueabihf"
        } else {
            "gnu"
        };
        let dir = PathBuf::from(format!("/usr/{gnu_arch}-linux-{abi}"));
        if !is_dir(&dir) {
            return Err(format!(
                "{} is missing for the dynamic {target} binary (apt-get install libc6-{debian_arch}-cross)",
                dir.display()
            ));
        }
        Some(dir)
    } else {
        None
    };
    Ok(Runner::Qemu { program, sysroot })
}

/// rustc arch -> (qemu's name, Debian's name).
fn qemu_names(arch: &Arch) -> Option<(&'static str, &'static str)> {
    Some(match arch {
        Arch::Aarch64 => ("aarch64", "arm64"),
        Arch::X86_64 => ("x86_64", "amd64"),
        Arch::I686 | Arch::I586 => ("i386", "i386"),
        Arch::Riscv64gc => ("riscv64", "riscv64"),
        Arch::Armv7 | Arch::Arm => ("arm", "armhf"),
        Arch::Powerpc64le => ("ppc64le", "ppc64el"),
        Arch::S390x => ("s390x", "s390x"),
        Arch::Other(_) => return None,
    })
}

/// Starts `binary --version` and returns the first line it printed.
pub fn smoke_run(runner: &Runner, binary: &Path) -> Result<String> {
    let command = || {
        let mut command = match runner {
            Runner::Direct => std::process::Command::new(binary),
            Runner::Qemu { program, sysroot } => {
                let mut command = std::process::Command::new(program);
                if let Some(sysroot) = sysroot {
                    command.arg("-L").arg(sysroot);
                }
                command.arg(binary);
                command
            }
        };
        command.arg("--version");
        command
    };
    let output = output_when_not_busy(command)
        .with_context(|| format!("starting {} --version", binary.display()))?;
    let first_line = |bytes: &[u8]| {
        String::from_utf8_lossy(bytes)
            .lines()
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned()
    };
    if !output.status.success() {
        bail!(
            "smoke run of {} --version failed ({}): {}; every shipped binary must answer --version",
            binary.display(),
            output.status,
            first_line(&output.stderr)
        );
    }
    Ok(first_line(&output.stdout))
}

/// Runs a command built by `command` and collects its output, again when the kernel refuses to
/// start the binary because a file of it is open for writing (ETXTBSY). That happens when another
/// thread of ours starts a process (cargo, a version query) while the archive's binary is being
/// unpacked: the child holds a copy of the write handle until its own exec. The window is short,
/// but dist's pack thread unpacks beside cargo's builds, and 1 of 15 warm runs failed here before
/// the retry. Not through xshell: its error hides the errno.
fn output_when_not_busy(
    command: impl Fn() -> std::process::Command,
) -> std::io::Result<std::process::Output> {
    let mut attempt = 0;
    loop {
        match command().stdin(std::process::Stdio::null()).output() {
            Err(err) if is_busy(&err) && attempt < 10 => {
                attempt += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            result => return result,
        }
    }
}

#[cfg(unix)]
fn is_busy(err: &std::io::Error) -> bool {
    err.raw_os_error() == Some(libc::ETXTBSY)
}

#[cfg(not(unix))]
fn is_busy(_: &std::io::Error) -> bool {
    false
}

/// An archive ready for its smoke run: unpacked with the runner that starts its binaries, or
/// the reason it cannot start here.
pub enum Prepared {
    Skipped(String),
    Unpacked { runner: Runner, dir: PathBuf },
}

/// Unpacks `archive` into its own dir under `staging` when this host can start its binaries.
pub fn prepare_smoke(
    host: &Host,
    item: &Verified,
    archive: &Path,
    staging: &Path,
) -> Result<Prepared> {
    let runner = match runner_for(&host.triple, &item.triple, tools::which, Path::is_dir) {
        Ok(runner) => runner,
        Err(reason) => return Ok(Prepared::Skipped(format!("skipped: {reason}"))),
    };
    let dir = staging
        .join(".smoke")
        .join(archive.file_name().unwrap_or_default());
    archive::unpack(archive, &dir)
        .with_context(|| format!("unpacking {} for the smoke run", archive.display()))?;
    Ok(Prepared::Unpacked { runner, dir })
}

/// Starts each binary of a prepared archive with `--version`; returns the lines to report for
/// `item`'s target, in order. The pack step runs these on threads, but only after every archive
/// is unpacked, since a child forked while another thread still writes an executable keeps that
/// file open for writing and its exec fails with ETXTBSY (see `output_when_not_busy` for the
/// processes cargo's side starts meanwhile).
pub fn smoke_prepared(prepared: Prepared, item: &Verified, top_dir: &str) -> Result<Vec<String>> {
    let (runner, dir) = match prepared {
        Prepared::Skipped(line) => return Ok(vec![line]),
        Prepared::Unpacked { runner, dir } => (runner, dir),
    };
    let mut lines = Vec::new();
    for linkage in &item.linkage {
        let binary = dir.join(top_dir).join(&linkage.binary.file_name);
        let line = smoke_run(&runner, &binary).with_context(|| {
            format!(
                "smoke run of {} for {}",
                linkage.binary.file_name, item.triple
            )
        })?;
        lines.push(format!(
            "{} --version {}: {line}",
            linkage.binary.file_name,
            runner.describe()
        ));
    }
    std::fs::remove_dir_all(&dir).ok();
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> TargetTriple {
        TargetTriple::parse(s).unwrap()
    }

    fn host() -> TargetTriple {
        t("x86_64-unknown-linux-gnu")
    }

    fn with_qemu(name: &str) -> Option<PathBuf> {
        (name == "qemu-aarch64-static").then(|| PathBuf::from("/usr/bin/qemu-aarch64-static"))
    }

    /// A copy of `true` held open for writing: the state a binary is in while another thread
    /// unpacks it, or while a child forked meanwhile still holds the write handle.
    #[cfg(target_os = "linux")]
    fn busy_binary(name: &str) -> (PathBuf, std::fs::File) {
        let dir = crate::workspace::fsio::scratch_dir("busy", name);
        let path = dir.join("true");
        std::fs::copy("/bin/true", &path).unwrap();
        let writer = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        (path, writer)
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_binary_busy_for_a_moment_still_starts() {
        let (path, writer) = busy_binary("moment");
        let busy = std::process::Command::new(&path).output().unwrap_err();
        assert!(is_busy(&busy), "{busy}");
        let release = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(60));
            drop(writer);
        });
        let output = output_when_not_busy(|| std::process::Command::new(&path)).unwrap();
        assert!(output.status.success());
        release.join().unwrap();
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_binary_busy_for_good_gives_the_error() {
        let (path, writer) = busy_binary("good");
        let err = output_when_not_busy(|| std::process::Command::new(&path)).unwrap_err();
        assert!(is_busy(&err), "{err}");
        drop(writer);
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn host_arch_linux_targets_run_directly() {
        for target in ["x86_64-unknown-linux-gnu", "x86_64-unknown-linux-musl"] {
            assert_eq!(
                runner_for(&host(), &t(target), |_| None, |_| false),
                Ok(Runner::Direct)
            );
        }
    }

    #[test]
    fn aarch64_runs_under_qemu_with_a_sysroot_for_glibc() {
        let musl = runner_for(&host(), &t("aarch64-unknown-linux-musl"), with_qemu, |_| {
            false
        });
        assert!(matches!(musl, Ok(Runner::Qemu { sysroot: None, .. })));
        let gnu = runner_for(&host(), &t("aarch64-unknown-linux-gnu"), with_qemu, |_| {
            true
        });
        assert_eq!(
            gnu,
            Ok(Runner::Qemu {
                program: "/usr/bin/qemu-aarch64-static".into(),
                sysroot: Some("/usr/aarch64-linux-gnu".into())
            })
        );
    }

    #[test]
    fn missing_pieces_are_named_with_their_package() {
        let no_qemu = runner_for(
            &host(),
            &t("aarch64-unknown-linux-musl"),
            |_| None,
            |_| true,
        );
        assert!(no_qemu.unwrap_err().contains("qemu-user-static"));
        let no_sysroot = runner_for(&host(), &t("aarch64-unknown-linux-gnu"), with_qemu, |_| {
            false
        });
        assert!(no_sysroot.unwrap_err().contains("libc6-arm64-cross"));
        let windows = runner_for(&host(), &t("x86_64-pc-windows-gnu"), with_qemu, |_| true);
        assert!(windows.unwrap_err().contains("does not start"));
    }
}
