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
//! keeps cargo-zigbuild's wrapper.
//!
//! x86_64-unknown-linux-gnu built on an x86_64 Linux host with `gcc` on PATH compiles its C code
//! with the host's gcc against zig's glibc headers for the floor (`-nostdinc`, gcc's own builtin
//! headers, zig's `lib/libc/include` dirs, `-D__GLIBC_MINOR__=17`, as zig gives its clang), and
//! zig still links every program against the floor's stubs (`floor_gcc_script`). The floor is
//! kept three times over: headers that declare only what the floor has, a link that fails on a
//! newer symbol, and linkaudit's check of the binary. Why: the build is CPU-bound on 2 cores, and
//! gcc compiles jemalloc's symbol objects (`-Og`) in half zig cc's time (`make -j2` of the 67:
//! 10.6-13.5 s against 19.5-21.3 s), and a configure script's one-line calls cost 28 ms instead
//! of about 50 ms. fd-find's cold gnu `cargo xtask dist` (jemalloc inside; `cargo xtask bench
//! peer --before`, medians of 3 rounds): 109.3 s and 177.6 s of CPU, against 117.6 s and
//! 191.6 s through zig cc. The bytes then depend on the host's gcc too: the manifest names it.
//! `XTASK_GNU_GCC=0` keeps zig cc.

use super::reproducible::remaps;
use crate::workspace::config::Workspace;
use crate::workspace::target::{mingw_gcc, How, TargetTriple};
use crate::workspace::tools::{self, Zigbuild};
use anyhow::{Context, Result};
use linkaudit::target::Arch;
use std::ffi::OsString;
use xshell::{cmd, Shell};

const MUSL_TARGET: &str = "x86_64-unknown-linux-musl";
const GNU_TARGET: &str = "x86_64-unknown-linux-gnu";

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
fn remaps_fit_cflags(ws: &Workspace) -> bool {
    remaps(ws)
        .iter()
        .all(|(from, _)| !from.to_string_lossy().contains(char::is_whitespace))
}

/// `-ffile-prefix-map=` for each of `remaps`, as one CFLAGS value.
fn remap_cflags(ws: &Workspace) -> OsString {
    let flags: Vec<String> = remaps(ws)
        .iter()
        .map(|(from, to)| format!("-ffile-prefix-map={}={to}", from.display()))
        .collect();
    flags.join(" ").into()
}

/// Whether `triple`'s C code is compiled by the host's gcc against zig's glibc headers, zig
/// linking (see the module comment): native x86_64 gnu, with gcc on PATH and zig's headers next
/// to `zig`.
pub fn uses_floor_gcc(
    host: &TargetTriple,
    triple: &TargetTriple,
    ws: &Workspace,
    zig: &std::path::Path,
) -> bool {
    triple.as_str() == GNU_TARGET
        && host.is_linux()
        && *host.arch() == Arch::X86_64
        && std::env::var_os("XTASK_GNU_GCC").is_none_or(|v| v != "0")
        && tools::which("gcc").is_some()
        && zig_libc_headers(zig).is_some()
        && remaps_fit_cflags(ws)
}

/// The dirs of zig's `lib/libc/include` that zig gives its clang for x86_64 glibc, in its order
/// (`zig cc -v`).
const ZIG_GLIBC_HEADER_DIRS: [&str; 4] = [
    "x86-linux-gnu",
    "generic-glibc",
    "x86-linux-any",
    "any-linux-any",
];

/// zig's libc headers, `lib/libc/include` beside the zig binary (PyPI's ziglang and zig's own
/// archives lay it out so), when they hold every dir of `ZIG_GLIBC_HEADER_DIRS`: other zig
/// versions name them otherwise, and gcc would skip a missing one without a word.
fn zig_libc_headers(zig: &std::path::Path) -> Option<std::path::PathBuf> {
    let zig = std::fs::canonicalize(zig).ok()?;
    let include = zig.parent()?.join("lib").join("libc").join("include");
    ZIG_GLIBC_HEADER_DIRS
        .iter()
        .all(|dir| include.join(dir).is_dir())
        .then_some(include)
}

/// `CC_x86_64_unknown_linux_gnu` (a script running gcc against zig's glibc headers for the floor,
/// zig linking: `floor_gcc_script`) and `CFLAGS_x86_64_unknown_linux_gnu` (the path remaps).
pub fn floor_gcc_env(
    sh: &Shell,
    ws: &Workspace,
    zig: &std::path::Path,
) -> Result<Vec<(String, OsString)>> {
    let headers = zig_libc_headers(zig).context("internal error: zig's glibc headers are gone")?;
    // gcc's own headers (stddef.h, the intrinsics): `-nostdinc` drops them with the host's libc.
    let builtin = cmd!(sh, "gcc -print-file-name=include")
        .quiet()
        .read()
        .context("asking gcc for its own headers (`gcc -print-file-name=include`)")?;
    let zig_target = format!("x86_64-linux-gnu.{}", ws.glibc_floor);
    let script = scripts_dir(ws)?.join(format!("{zig_target}-gcc.sh"));
    let headers = FloorHeaders {
        gcc_builtin: builtin.trim().into(),
        zig_libc: headers,
        glibc_minor: ws.glibc_floor.minor,
    };
    write_script(&script, &floor_gcc_script(&headers, zig, &zig_target))?;
    Ok(vec![
        (
            format!("CC_{}", GNU_TARGET.replace('-', "_")),
            script.into(),
        ),
        (
            format!("CFLAGS_{}", GNU_TARGET.replace('-', "_")),
            remap_cflags(ws),
        ),
    ])
}

/// Where gcc finds its headers when it compiles for the glibc floor.
struct FloorHeaders {
    /// `gcc -print-file-name=include`.
    gcc_builtin: std::path::PathBuf,
    /// zig's `lib/libc/include`.
    zig_libc: std::path::PathBuf,
    /// The floor's glibc minor version: zig's headers declare what that glibc has.
    glibc_minor: u32,
}

/// A `sh` script for gcc compiling against the floor's headers (`headers`), zig linking for
/// `zig_target`.
///
/// A compile (`-c`, `-E`, `-M`...) is gcc alone. A link (a configure script's test program;
/// cc-rs only compiles) compiles each C or assembly source with gcc and the compile flags (the
/// script calls itself with `--xtask-compile`), then zig links the objects with the link flags
/// only. Handing zig the whole command line would let gcc-only flags reach zig's clang:
/// jemalloc's configure adds `-herror_on_warning` once gcc accepts it, zig rejected it in every
/// test link after, and configure failed on `cannot determine return type of strerror_r`.
/// The link is stripped and at `-O2`, so that zig uses the runtime libraries `zig_runtime.rs`
/// built (zig keys them by optimize mode and strip), as the binary's link does. gcc gets a last
/// `-fno-lto`: with `-flto` it writes GIMPLE objects that zig's lld cannot link.
fn floor_gcc_script(headers: &FloorHeaders, zig: &std::path::Path, zig_target: &str) -> String {
    let q = |p: &std::path::Path| tools::shell_quote(&p.to_string_lossy());
    let libc = |dir: &str| format!(" -isystem {}", q(&headers.zig_libc.join(dir)));
    let zig_dirs: String = ZIG_GLIBC_HEADER_DIRS.iter().map(|dir| libc(dir)).collect();
    let gcc = format!(
        "gcc -nostdinc -isystem {}{zig_dirs} -D__GLIBC_MINOR__={}",
        q(&headers.gcc_builtin),
        headers.glibc_minor,
    );
    let zig = q(zig);
    format!(
        r#"#!/bin/sh
# Written by cargo xtask dist: the C compiler of one target (xtask/src/pipeline/c_toolchain.rs).
# gcc against zig's glibc headers for the floor; zig links against the floor's stubs.
# Flags that take the next argument: the compile's, and the link's.
compile_pair='-I -D -U -A -B -include -imacros -isystem -idirafter -iquote -iprefix -iwithprefix -iwithprefixbefore -imultilib -isysroot -MF -MT -MQ -x -Xpreprocessor -Xassembler --param -aux-info -dumpbase -dumpdir'
link_pair='-o -L -l -e -Xlinker -u -T -z'
if [ "$1" = --xtask-compile ]; then
  src=$2 obj=$3; shift 3
  keep='' drop=''
  for a; do shift
    if [ -n "$keep" ]; then keep=; set -- "$@" "$a"; continue; fi
    if [ -n "$drop" ]; then drop=; continue; fi
    case " $compile_pair " in *" $a "*) keep=1; set -- "$@" "$a"; continue ;; esac
    case " $link_pair " in *" $a "*) drop=1; continue ;; esac
    case "$a" in
      -|-l*|-L*|-Wl,*|-shared|-static|-static-pie|-pie|-no-pie|-rdynamic|-s|-nostdlib|-nodefaultlibs|-nostartfiles|-static-libgcc) ;;
      -*) set -- "$@" "$a" ;;
    esac
  done
  exec {gcc} "$@" -fno-lto -c "$src" -o "$obj"
fi
for a; do shift; case "$a" in --target=*) ;; *) set -- "$@" "$a" ;; esac; done
if [ "$DEBUG" = false ]; then set -- "$@" -g0; fi
link=
for a; do case "$a" in -c|-S|-E|-M|-MM|-fsyntax-only) link=no; break ;; -*) ;; *) link=${{link:-yes}} ;; esac; done
if [ "$link" != yes ]; then exec {gcc} "$@" -fno-lto; fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM
n=0 skip=''
for a; do
  if [ -n "$skip" ]; then skip=; continue; fi
  case " $compile_pair $link_pair " in *" $a "*) skip=1; continue ;; esac
  case "$a" in -|*.c|*.s|*.S) case "$a" in -?*) continue ;; esac ;; *) continue ;; esac
  n=$((n+1)); "$0" --xtask-compile "$a" "$tmp/$n.o" "$@" || exit 1
done
n=0 keep='' drop=''
for a; do shift
  if [ -n "$keep" ]; then keep=; set -- "$@" "$a"; continue; fi
  if [ -n "$drop" ]; then drop=; continue; fi
  case " $link_pair " in *" $a "*) keep=1; set -- "$@" "$a"; continue ;; esac
  case " $compile_pair " in *" $a "*) drop=1; continue ;; esac
  case "$a" in
    -) n=$((n+1)); set -- "$@" "$tmp/$n.o" ;;
    -l*|-L*|-Wl,*|-shared|-static|-static-pie|-pie|-no-pie|-rdynamic|-nostdlib|-nodefaultlibs|-nostartfiles|-pthread) set -- "$@" "$a" ;;
    -*) ;;
    *.c|*.s|*.S) n=$((n+1)); set -- "$@" "$tmp/$n.o" ;;
    *) set -- "$@" "$a" ;;
  esac
done
{zig} cc -g -fno-sanitize=all -target {zig_target} -O2 "$@" -s
"#
    )
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
fn scripts_dir(ws: &Workspace) -> Result<std::path::PathBuf> {
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

    /// The zig the tests install (`pip install ziglang`).
    fn test_zig(sh: &Shell) -> std::path::PathBuf {
        tools::find_zig(sh, &[]).expect("zig: `python3 -m pip install ziglang`")
    }

    /// A scratch target dir for the scripts a test writes.
    fn scratch(name: &str) -> std::path::PathBuf {
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
        let gcc = floor_gcc_env(&sh, &ws, &test_zig(&sh)).unwrap();
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

    /// Only native x86_64 gnu, and only with zig's glibc headers at hand.
    #[test]
    fn floor_gcc_only_for_native_x86_64_gnu() {
        let t = |s: &str| TargetTriple::parse(s).unwrap();
        let ws = workspace();
        let sh = Shell::new().unwrap();
        let zig = test_zig(&sh);
        let host = t(GNU_TARGET);
        assert!(uses_floor_gcc(&host, &t(GNU_TARGET), &ws, &zig));
        for other in [
            "aarch64-unknown-linux-gnu",
            MUSL_TARGET,
            "x86_64-apple-darwin",
        ] {
            assert!(!uses_floor_gcc(&host, &t(other), &ws, &zig), "{other}");
        }
        let arm = t("aarch64-unknown-linux-gnu");
        assert!(!uses_floor_gcc(&arm, &t(GNU_TARGET), &ws, &zig));
        // A zig without its lib dir beside it (the headers are found from the binary's path).
        let lone = scratch("lonezig").join("zig");
        std::fs::create_dir_all(lone.parent().unwrap()).unwrap();
        std::fs::write(&lone, "").unwrap();
        assert!(!uses_floor_gcc(&host, &t(GNU_TARGET), &ws, &lone));
        let _ = std::fs::remove_dir_all(lone.parent().unwrap());
    }

    /// The undefined symbols of an object.
    fn imports(path: &std::path::Path) -> Vec<String> {
        let bytes = std::fs::read(path).unwrap();
        let file = object::File::parse(&*bytes).unwrap();
        object::Object::symbols(&file)
            .filter(object::ObjectSymbol::is_undefined)
            .filter_map(|s| object::ObjectSymbol::name(&s).ok().map(str::to_owned))
            .filter(|name| !name.is_empty())
            .collect()
    }

    /// gcc compiles against the floor's headers: with 64-bit file offsets, glibc 2.28's headers
    /// turn `fcntl` into `fcntl64`, which glibc 2.17 lacks. The host's own headers (Debian 12:
    /// glibc 2.36) do; the script's do not.
    #[test]
    fn floor_gcc_compiles_against_the_floors_headers() {
        let mut ws = workspace();
        ws.target_dir = scratch("floorgcc");
        let sh = Shell::new().unwrap();
        let env = floor_gcc_env(&sh, &ws, &test_zig(&sh)).unwrap();
        assert_eq!(env[0].0, "CC_x86_64_unknown_linux_gnu");
        assert!(env[1]
            .1
            .to_str()
            .unwrap()
            .contains("-ffile-prefix-map=/src/ws=."));
        let script = std::path::PathBuf::from(&env[0].1);
        let dir = script.parent().unwrap();
        let (c, floor, host) = (dir.join("f.c"), dir.join("floor.o"), dir.join("host.o"));
        std::fs::write(
            &c,
            "#include <fcntl.h>\nint flags(int fd) { return fcntl(fd, F_GETFL); }\n",
        )
        .unwrap();
        let flags = ["-O2", "-D_FILE_OFFSET_BITS=64", "-c"];
        cmd!(
            sh,
            "{script} --target=x86_64-unknown-linux-gnu {flags...} {c} -o {floor}"
        )
        .quiet()
        .run()
        .unwrap();
        cmd!(sh, "gcc {flags...} {c} -o {host}")
            .quiet()
            .run()
            .unwrap();
        assert_eq!(imports(&floor), ["fcntl"]);
        assert_eq!(
            imports(&host),
            ["fcntl64"],
            "the host's glibc is older than 2.28"
        );
        let _ = std::fs::remove_dir_all(&ws.target_dir);
    }

    /// A link (a configure script's test program) compiles with gcc and every compile flag,
    /// gcc-only ones included, and zig links for the floor with the link flags only: the
    /// program runs, is stripped, and needs nothing newer than glibc 2.17.
    #[test]
    fn floor_gcc_links_with_zig_for_the_floor() {
        let mut ws = workspace();
        ws.target_dir = scratch("floorgcclink");
        let sh = Shell::new().unwrap();
        let env = floor_gcc_env(&sh, &ws, &test_zig(&sh)).unwrap();
        let script = std::path::PathBuf::from(&env[0].1);
        cmd!(sh, "shellcheck -s sh {script}").quiet().run().unwrap();
        let dir = script.parent().unwrap();
        let include = dir.join("include");
        std::fs::create_dir_all(&include).unwrap();
        std::fs::write(include.join("answer.h"), "#define BASE 40\n").unwrap();
        let (c, program) = (dir.join("conftest.c"), dir.join("conftest"));
        std::fs::write(
            &c,
            "#include <math.h>\n#include <answer.h>\n\
             int main(int argc, char **argv) { (void)argv; return BASE + EXTRA + (int)sqrt(argc); }\n",
        )
        .unwrap();
        // `-herror_on_warning`: jemalloc's configure adds it once gcc accepts it; zig rejects it.
        cmd!(
            sh,
            "{script} -O3 -Wall -herror_on_warning -I {include} -D EXTRA=1 {c} -o {program} -lm"
        )
        .env("DEBUG", "false")
        .quiet()
        .run()
        .unwrap();
        let code = std::process::Command::new(&program)
            .status()
            .unwrap()
            .code();
        assert_eq!(code, Some(42));
        let bytes = std::fs::read(&program).unwrap();
        let file = object::File::parse(&*bytes).unwrap();
        assert!(object::Object::section_by_name(&file, ".symtab").is_none());
        let audit = linkaudit::audit_path(&program).unwrap();
        let glibc = audit.glibc_floor.expect("a dynamic glibc program");
        assert!(
            (glibc.major, glibc.minor) <= (2, 17),
            "needs glibc {glibc:?}"
        );
        // The source from stdin, and flag values that look like sources: each input is
        // compiled once, and its object is linked where the source stood.
        std::fs::write(dir.join("pre.c"), "#define EXTRA 1\n").unwrap();
        let (pre, stdin_program) = (dir.join("pre.c"), dir.join("stdin"));
        cmd!(
            sh,
            "{script} -include {pre} -DSRC=x.c -I {include} -x c - -o {stdin_program} -lm"
        )
        .stdin(std::fs::read(&c).unwrap())
        .quiet()
        .run()
        .unwrap();
        let code = std::process::Command::new(&stdin_program)
            .status()
            .unwrap()
            .code();
        assert_eq!(code, Some(42));
        std::fs::remove_file(&stdin_program).unwrap();
        std::fs::remove_file(&pre).unwrap();
        // Nothing left behind but the program.
        let mut left: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "conftest",
                "conftest.c",
                "include",
                "x86_64-linux-gnu.2.17-gcc.sh"
            ]
        );
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
