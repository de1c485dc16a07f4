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
//!
//! The other Linux targets compile their C code with zig cc called directly, through a short
//! script per target (`direct_zig_cc`), rather than through cargo-zigbuild's `zig cc` wrapper,
//! which starts cargo-zigbuild, `rustc -vV` and python twice for every compiler call: 0.53 s
//! per call of a one-line C file against 0.23 s for zig cc itself and 0.10 s for gcc (this
//! machine, load 9), and jemalloc's configure script makes hundreds of calls. Same zig, same
//! flags (`-g -fno-sanitize=all -target <zig target>`, cc-rs's `--target=` dropped, as
//! cargo-zigbuild does), so the same objects; cargo-zigbuild still links. `XTASK_ZIG_CC_DIRECT=0`
//! keeps cargo-zigbuild's wrapper. x86_64 gnu on an x86_64 Linux host compiles with gcc against
//! zig's glibc headers instead (`floor_gcc.rs`).

use super::floor_gcc::uses_floor_gcc;
use super::reproducible::remaps;
use crate::workspace::config::Workspace;
use crate::workspace::target::{mingw_gcc, How, TargetTriple};
use crate::workspace::tools::{self, Zigbuild};
use anyhow::{Context, Result};
use linkaudit::target::Arch;
use std::ffi::OsString;
use xshell::{cmd, Shell};

const MUSL_TARGET: &str = "x86_64-unknown-linux-musl";
pub(super) const GNU_TARGET: &str = "x86_64-unknown-linux-gnu";

/// Whether `triple`'s C code is compiled with the host's musl-gcc (see the module comment).
pub fn uses_musl_gcc(host: &TargetTriple, triple: &TargetTriple, ws: &Workspace) -> bool {
    triple.as_str() == MUSL_TARGET
        && host.is_linux()
        && *host.arch() == Arch::X86_64
        && std::env::var_os("XTASK_MUSL_GCC").is_none_or(|v| v != "0")
        && tools::which("musl-gcc").is_some()
        && remaps_fit_cflags(ws)
}

/// cc-rs splits CFLAGS at whitespace: a path with a space could not be remapped.
pub(super) fn remaps_fit_cflags(ws: &Workspace) -> bool {
    remaps(ws)
        .iter()
        .all(|(from, _)| !from.to_string_lossy().contains(char::is_whitespace))
}

/// `-ffile-prefix-map=` for each of `remaps`, as one CFLAGS value.
pub(super) fn remap_cflags(ws: &Workspace) -> OsString {
    let flags: Vec<String> = remaps(ws)
        .iter()
        .map(|(from, to)| format!("-ffile-prefix-map={}={to}", from.display()))
        .collect();
    flags.join(" ").into()
}

/// `CC_<target>` (a script running musl-gcc, see `compiler_script`) and `CFLAGS_<target>` for
/// cc-rs (and the configure scripts build scripts run with them).
pub fn musl_gcc_env(ws: &Workspace) -> Result<Vec<(&'static str, OsString)>> {
    let script = scripts_dir(ws)?.join("x86_64-linux-musl-gcc.sh");
    write_script(&script, &compiler_script("musl-gcc", Dialect::Gcc))?;
    Ok(vec![
        ("CC_x86_64_unknown_linux_musl", script.into()),
        ("CFLAGS_x86_64_unknown_linux_musl", remap_cflags(ws)),
    ])
}

/// `CC_<target>` pointing at a script that runs zig cc directly, for every Linux target of a
/// cargo-zigbuild invocation (Apple targets keep cargo-zigbuild's wrapper, which adds the SDK
/// arguments). Written to `<target dir>/xtask-tools/cc/`.
pub fn direct_zig_cc(
    ws: &Workspace,
    triples: &[TargetTriple],
    zig: &std::path::Path,
) -> Result<Vec<(String, OsString)>> {
    let linux: Vec<(&TargetTriple, String)> = triples
        .iter()
        .filter_map(|t| Some((t, zig_linux_target(ws, t)?)))
        .collect();
    if linux.is_empty() || std::env::var_os("XTASK_ZIG_CC_DIRECT").is_some_and(|v| v == "0") {
        return Ok(Vec::new());
    }
    let dir = scripts_dir(ws)?;
    let mut env = Vec::new();
    for (triple, zig_target) in linux {
        let script = dir.join(format!("{zig_target}.sh"));
        let compiler = format!(
            "'{}' cc -g -fno-sanitize=all -target {zig_target}",
            zig.display()
        );
        let script_text = compiler_script(&compiler, Dialect::Zig);
        write_script(&script, &script_text)?;
        env.push((
            format!("CC_{}", triple.as_str().replace('-', "_")),
            script.into(),
        ));
    }
    Ok(env)
}

/// zig's name of a Linux target whose C code the scripts compile (`x86_64-linux-gnu.2.17`: the
/// Rust one without `-unknown`, the glibc floor pinned), `None` for the others (Apple targets,
/// and armv7 and friends, whose names cargo-zigbuild maps itself).
pub fn zig_linux_target(ws: &Workspace, triple: &TargetTriple) -> Option<String> {
    let plain = triple.as_str().ends_with("-unknown-linux-gnu")
        || triple.as_str().ends_with("-unknown-linux-musl");
    if !(triple.is_linux() && matches!(triple.arch(), Arch::X86_64 | Arch::Aarch64) && plain) {
        return None;
    }
    let mut zig_target = triple.as_str().replace("-unknown-", "-");
    if triple.is_linux_gnu() {
        zig_target.push_str(&format!(".{}", ws.glibc_floor));
    }
    Some(zig_target)
}

/// Where the compiler scripts go: `<target dir>/xtask-tools/cc/`.
pub(super) fn scripts_dir(ws: &Workspace) -> Result<std::path::PathBuf> {
    let dir = ws.target_dir.join("xtask-tools").join("cc");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// Which compiler a script runs, for what the script adapts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dialect {
    /// musl-gcc: arguments passed as they are.
    Gcc,
    /// zig cc: cc-rs's `--target=<rust triple>` dropped (clang's spelling; zig takes `-target`),
    /// and links stripped (`-s`), see below.
    Zig,
}

/// A `sh` script that runs `compiler` (already shell-quoted) with the arguments it gets.
///
/// It gives C code the debug info the profile gives Rust code. cargo tells build scripts the
/// profile's setting in `DEBUG`, and the configure scripts and makes they start inherit it.
/// cc-rs follows it, but configure scripts add their own: jemalloc's adds `-g3` to every object.
/// When `DEBUG=false`, a last `-g0` overrides that. `[profile.dist]` strips the binary anyway,
/// so the shipped bytes lose nothing, and the C build gets cheaper: jemalloc's `make -j2` took
/// 68 s with `-g3` and 49 s with `-g0` through gcc on this machine.
///
/// zig links (a configure script's test programs; cc-rs only compiles) are stripped: zig builds
/// its runtime libraries once per strip setting, and the stripped ones are those the binary's
/// link and `zig_runtime.rs` use. Unstripped, jemalloc's configure built a second compiler_rt
/// and libc_nonshared on an empty zig cache (7.7 s) on the way to the binary. A program a
/// configure script links is only tried or run, never shipped.
fn compiler_script(compiler: &str, dialect: Dialect) -> String {
    let zig = if dialect == Dialect::Zig {
        "link=\n\
         for a; do case \"$a\" in -c|-S|-E|-M|-MM|-fsyntax-only) link=no; break ;; -*) ;; *) link=${link:-yes} ;; esac; done\n\
         for a; do shift; case \"$a\" in --target=*) ;; *) set -- \"$@\" \"$a\" ;; esac; done\n\
         if [ \"$link\" = yes ]; then set -- \"$@\" -s; fi\n"
    } else {
        ""
    };
    format!(
        "#!/bin/sh\n\
         # Written by cargo xtask dist: the C compiler of one target (xtask/src/pipeline/c_toolchain.rs).\n\
         {zig}\
         if [ \"$DEBUG\" = false ]; then set -- \"$@\" -g0; fi\n\
         exec {compiler} \"$@\"\n"
    )
}

/// Writes an executable script unless it already holds `text` (a rewrite would only churn).
pub fn write_script(path: &std::path::Path, text: &str) -> Result<()> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    crate::workspace::fsio::write_file_atomically(path, text.as_bytes())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
            .with_context(|| format!("making {} executable", path.display()))?;
    }
    Ok(())
}

/// What the manifest records for a target: `zig 0.17.1` for cargo-zigbuild, with gcc's version
/// when gcc compiled the C code (`uses_floor_gcc`); musl-gcc's gcc and
/// musl versions with the linker's (`cc`, `ld`) for native musl; the mingw-w64 gcc of a
/// windows-gnu build, Apple's `cc` on macOS; `None` for MSVC (the runner's, not asked).
pub fn describe(
    sh: &Shell,
    (ws, host): (&Workspace, &TargetTriple),
    how: How,
    triple: &TargetTriple,
    zigbuild: Option<&Zigbuild>,
) -> Result<Option<String>> {
    let described = match how {
        How::Zigbuild => {
            let zig = zigbuild.context("internal error: cargo-zigbuild was not set up")?;
            let linker = format!("zig {}", zig_version(sh, &zig.zig)?);
            if uses_floor_gcc(host, triple, ws, &zig.zig) {
                format!(
                    "{linker}; C compiled by {} against zig's glibc {} headers",
                    first_line(sh, "gcc")?,
                    ws.glibc_floor
                )
            } else {
                linker
            }
        }
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

/// The version of the zig cargo-zigbuild runs (`zig_binary`).
pub fn zig_version(sh: &Shell, zig: &std::path::Path) -> Result<String> {
    // Asked once per run: a second python start per target would cost a warm no-op run ~60 ms.
    static VERSION: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    if let Some(version) = VERSION.get() {
        return Ok(version.clone());
    }
    let version = cmd!(sh, "{zig} version")
        .quiet()
        .read()
        .with_context(|| format!("asking zig for its version (`{} version`)", zig.display()))?;
    Ok(VERSION.get_or_init(|| version.trim().to_owned()).clone())
}

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
pub(super) mod tests {
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

    /// The zig the tests install (`pip install ziglang`).
    pub(in crate::pipeline) fn test_zig(sh: &Shell) -> std::path::PathBuf {
        tools::find_zig(sh, &[]).expect("zig: `python3 -m pip install ziglang`")
    }

    /// A scratch target dir for the scripts a test writes.
    pub(in crate::pipeline) fn scratch(name: &str) -> std::path::PathBuf {
        crate::workspace::fsio::scratch_dir("cc", name)
    }

    #[test]
    fn musl_gcc_remaps_the_checkout_and_the_target_dir_last() {
        let mut ws = workspace();
        ws.target_dir = scratch("muslcc");
        let env = musl_gcc_env(&ws).unwrap();
        assert_eq!(env[0].0, "CC_x86_64_unknown_linux_musl");
        let script = std::path::PathBuf::from(&env[0].1);
        assert!(script.ends_with("xtask-tools/cc/x86_64-linux-musl-gcc.sh"));
        assert!(std::fs::read_to_string(&script)
            .unwrap()
            .contains("exec musl-gcc \"$@\""));
        let flags = env[1].1.to_str().unwrap();
        let root = flags.find("-ffile-prefix-map=/src/ws=.").unwrap();
        let target = flags
            .find(&format!(
                "-ffile-prefix-map={}=./target",
                ws.target_dir.display()
            ))
            .unwrap();
        assert!(root < target, "{flags}");
        let _ = std::fs::remove_dir_all(&ws.target_dir);
    }

    /// Compiles a C file with `-g3` (as jemalloc's configure script does) through a compiler
    /// script, under cargo's `DEBUG`: whether the object has DWARF.
    fn has_debug_info(sh: &Shell, script: &std::path::Path, debug: &str) -> bool {
        let dir = script.parent().unwrap();
        let (c, o) = (dir.join("t.c"), dir.join(format!("t-{debug}.o")));
        std::fs::write(&c, "int answer(void) { return 42; }\n").unwrap();
        cmd!(sh, "{script} -O2 -g3 -c {c} -o {o}")
            .env("DEBUG", debug)
            .quiet()
            .run()
            .unwrap();
        let bytes = std::fs::read(&o).unwrap();
        let file = object::File::parse(&*bytes).unwrap();
        object::Object::section_by_name(&file, ".debug_info").is_some()
    }

    /// With the profile's `DEBUG=false` the scripts drop the debug info a configure script asks
    /// for; with `DEBUG=true` they keep it. Every script: musl-gcc, zig cc, gcc for the floor.
    #[test]
    fn c_debug_info_follows_the_profile() {
        let mut ws = workspace();
        ws.target_dir = scratch("ccdebug");
        let sh = Shell::new().unwrap();
        let musl = musl_gcc_env(&ws).unwrap();
        let triples = [TargetTriple::parse("x86_64-unknown-linux-gnu").unwrap()];
        let zig = direct_zig_cc(&ws, &triples, &test_zig(&sh)).unwrap();
        let gcc = super::super::floor_gcc::floor_gcc_env(&sh, &ws, &test_zig(&sh)).unwrap();
        for script in [&musl[0].1, &zig[0].1, &gcc[0].1].map(std::path::PathBuf::from) {
            assert!(has_debug_info(&sh, &script, "true"), "{}", script.display());
            assert!(
                !has_debug_info(&sh, &script, "false"),
                "{}",
                script.display()
            );
        }
        let _ = std::fs::remove_dir_all(&ws.target_dir);
    }

    /// The script compiles with the real zig, dropping cc-rs's `--target=`; Apple targets and
    /// other architectures keep cargo-zigbuild's wrapper.
    #[test]
    fn zig_cc_is_called_directly_for_linux_targets() {
        let mut ws = workspace();
        let dir = std::env::temp_dir().join(format!("xtask-zigcc-{}", std::process::id()));
        ws.target_dir = dir.clone();
        let t = |s: &str| TargetTriple::parse(s).unwrap();
        let triples = [
            t("x86_64-unknown-linux-gnu"),
            t("aarch64-unknown-linux-musl"),
            t("aarch64-apple-darwin"),
            t("armv7-unknown-linux-gnueabihf"),
        ];
        let sh = Shell::new().unwrap();
        let env = direct_zig_cc(&ws, &triples, &test_zig(&sh)).unwrap();
        let keys: Vec<&str> = env.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "CC_x86_64_unknown_linux_gnu",
                "CC_aarch64_unknown_linux_musl"
            ]
        );
        let script = std::path::PathBuf::from(&env[0].1);
        assert!(script.ends_with("xtask-tools/cc/x86_64-linux-gnu.2.17.sh"));
        std::fs::write(dir.join("t.c"), "int answer(void) { return 42; }\n").unwrap();
        let object = dir.join("t.o");
        let (c, o) = (dir.join("t.c"), &object);
        cmd!(
            sh,
            "{script} --target=x86_64-unknown-linux-gnu -O2 -c {c} -o {o}"
        )
        .quiet()
        .run()
        .unwrap();
        assert_eq!(&std::fs::read(&object).unwrap()[..4], b"\x7fELF");
        // A link (a configure script's test program) is stripped, an object is not.
        let symbols = |path: &std::path::Path| {
            let bytes = std::fs::read(path).unwrap();
            let file = object::File::parse(&*bytes).unwrap();
            object::Object::section_by_name(&file, ".symtab").is_some()
        };
        assert!(symbols(&object));
        let (main, program) = (dir.join("main.c"), dir.join("main"));
        std::fs::write(&main, "int main(void) { return 0; }\n").unwrap();
        cmd!(sh, "{script} -O2 {main} -o {program}")
            .quiet()
            .run()
            .unwrap();
        assert!(!symbols(&program));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
