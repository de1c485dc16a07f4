//! The C toolchain of each build: which compiler compiles the crates' C code (cc-rs, configure
//! scripts) and links the binaries, and its version for the manifest, since the bytes depend on
//! it as they do on rustc.
//!
//! x86_64-unknown-linux-musl built on an x86_64 Linux host with `musl-gcc` on PATH (Debian and
//! Ubuntu's `musl-tools`) is built with plain `cargo build`: its C code compiled by musl-gcc and
//! the binary linked by the host's `cc` with Rust's own musl crt objects and libc.a, as cargo-dist
//! does. Building tikv-jemalloc-sys for that target took 95-99 s through zig cc and 56 s through
//! musl-gcc on this machine, cold, and a fresh machine's zig also builds musl's libc once
//! (30-70 s). zig is not needed there for a glibc floor (musl links statically; linkaudit still
//! checks it). `-ffile-prefix-map` keeps the checkout, target dir and cargo home out of the C
//! objects, as `--remap-path-prefix` does for rustc. `XTASK_MUSL_GCC=0` keeps zig.

use super::build::remaps;
use crate::workspace::config::Workspace;
use crate::workspace::target::{mingw_gcc, How, TargetTriple};
use crate::workspace::tools::{self, Zigbuild};
use anyhow::{Context, Result};
use linkaudit::target::Arch;
use std::ffi::OsString;
use xshell::{cmd, Shell};

const MUSL_TARGET: &str = "x86_64-unknown-linux-musl";

/// Whether `triple`'s C code is compiled with the host's musl-gcc (see the module comment).
pub fn uses_musl_gcc(host: &TargetTriple, triple: &TargetTriple, ws: &Workspace) -> bool {
    triple.as_str() == MUSL_TARGET
        && host.is_linux()
        && *host.arch() == Arch::X86_64
        && std::env::var_os("XTASK_MUSL_GCC").is_none_or(|v| v != "0")
        && tools::which("musl-gcc").is_some()
        // cc-rs splits CFLAGS at whitespace: a path with a space could not be remapped.
        && remaps(ws)
            .iter()
            .all(|(from, _)| !from.to_string_lossy().contains(char::is_whitespace))
}

/// `CC_<target>` and `CFLAGS_<target>` for cc-rs (and the configure scripts build scripts run
/// with them).
pub fn musl_gcc_env(ws: &Workspace) -> Vec<(&'static str, OsString)> {
    let flags: Vec<String> = remaps(ws)
        .iter()
        .map(|(from, to)| format!("-ffile-prefix-map={}={to}", from.display()))
        .collect();
    vec![
        ("CC_x86_64_unknown_linux_musl", "musl-gcc".into()),
        ("CFLAGS_x86_64_unknown_linux_musl", flags.join(" ").into()),
    ]
}

/// What the manifest records for a target: `zig 0.17.1` for cargo-zigbuild; musl-gcc's gcc and
/// musl versions with the linker's (`cc`, `ld`) for native musl; the mingw-w64 gcc of a
/// windows-gnu build, Apple's `cc` on macOS; `None` for MSVC (the runner's, not asked).
pub fn describe(
    sh: &Shell,
    how: How,
    triple: &TargetTriple,
    zigbuild: Option<&Zigbuild>,
) -> Result<Option<String>> {
    let described = match how {
        How::Zigbuild => format!("zig {}", zig_version(sh, zigbuild)?),
        How::Build if triple.as_str() == MUSL_TARGET => format!(
            "musl-gcc: {}, musl {}; linker cc: {}; {}",
            first_line(sh, "musl-gcc")?,
            musl_version(sh),
            first_line(sh, "cc")?,
            first_line(sh, "ld")?
        ),
        How::Build if triple.is_windows() => first_line(sh, &mingw_gcc(triple))?,
        How::Build if triple.is_apple() => first_line(sh, "cc")?,
        How::Build | How::Xwin => return Ok(None),
    };
    Ok(Some(described))
}

/// The zig cargo-zigbuild runs: `python3 -m ziglang` first, then `zig` (its own order).
fn zig_version(sh: &Shell, zigbuild: Option<&Zigbuild>) -> Result<String> {
    let env = zigbuild.map(|z| z.env.as_slice()).unwrap_or_default();
    let mut ziglang = cmd!(sh, "{PYTHON} -m ziglang version")
        .quiet()
        .ignore_stderr();
    let mut zig = cmd!(sh, "zig version").quiet().ignore_stderr();
    for (key, value) in env {
        ziglang = ziglang.env(key, value);
        zig = zig.env(key, value);
    }
    let version = ziglang
        .read()
        .or_else(|_| zig.read())
        .context("asking zig for its version (`python3 -m ziglang version`, `zig version`)")?;
    Ok(version.trim().to_owned())
}

const PYTHON: &str = if cfg!(windows) { "python" } else { "python3" };

/// `<program> --version`'s first line: `x86_64-linux-gnu-gcc (Debian 12.2.0-14) 12.2.0`.
fn first_line(sh: &Shell, program: &str) -> Result<String> {
    let text = cmd!(sh, "{program} --version")
        .quiet()
        .read()
        .with_context(|| format!("asking {program} for its version (`{program} --version`)"))?;
    Ok(text.lines().next().unwrap_or_default().trim().to_owned())
}

/// musl's loader prints `Version 1.2.3` when run without arguments (and exits 1).
fn musl_version(sh: &Shell) -> String {
    let output = cmd!(sh, "/lib/ld-musl-x86_64.so.1")
        .quiet()
        .ignore_status()
        .output();
    output
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stderr)
                .lines()
                .find_map(|l| l.strip_prefix("Version ").map(str::to_owned))
        })
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::pipeline::build::tests::workspace;

    #[test]
    fn musl_gcc_only_for_native_x86_64_musl() {
        let t = |s: &str| TargetTriple::parse(s).unwrap();
        let ws = workspace();
        let host = t("x86_64-unknown-linux-gnu");
        for other in ["aarch64-unknown-linux-musl", "x86_64-unknown-linux-gnu"] {
            assert!(!uses_musl_gcc(&host, &t(other), &ws), "{other}");
        }
        // An aarch64 host's musl-gcc compiles for aarch64, not for x86_64.
        let arm = t("aarch64-unknown-linux-gnu");
        assert!(!uses_musl_gcc(&arm, &t(MUSL_TARGET), &ws));
        let mut spaced = workspace();
        spaced.root = "/src/my ws".into();
        assert!(!uses_musl_gcc(&host, &t(MUSL_TARGET), &spaced));
    }

    #[test]
    fn musl_gcc_remaps_the_checkout_and_the_target_dir_last() {
        let env = musl_gcc_env(&workspace());
        assert_eq!(env[0], ("CC_x86_64_unknown_linux_musl", "musl-gcc".into()));
        let flags = env[1].1.to_str().unwrap();
        let root = flags.find("-ffile-prefix-map=/src/ws=.").unwrap();
        let target = flags
            .find("-ffile-prefix-map=/src/ws/target=./target")
            .unwrap();
        assert!(root < target, "{flags}");
    }
}
