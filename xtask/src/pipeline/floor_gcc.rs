//! The C compiler of x86_64-unknown-linux-gnu built on an x86_64 Linux host with `gcc` on PATH:
//! the host's gcc against zig's glibc headers for the floor (`-nostdinc`, gcc's own builtin
//! headers, zig's `lib/libc/include` dirs, `-D__GLIBC_MINOR__=17`, as zig gives its clang), zig
//! still linking every program against the floor's stubs (`floor_gcc_script`). The floor is
//! kept three times over: headers that declare only what the floor has, a link that fails on a
//! newer symbol, and linkaudit's check of the binary. Why: the build is CPU-bound on 2 cores, and
//! gcc compiles jemalloc's symbol objects (`-Og`) in half zig cc's time (`make -j2` of the 67:
//! 10.6-13.5 s against 19.5-21.3 s), and a configure script's one-line calls cost 28 ms instead
//! of about 50 ms. fd-find's cold gnu `cargo xtask dist` (jemalloc inside; `cargo xtask bench
//! peer --before`, medians of 3 rounds): 109.3 s and 177.6 s of CPU, against 117.6 s and
//! 191.6 s through zig cc. The bytes then depend on the host's gcc too: the manifest names it
//! (`c_toolchain::describe`). `XTASK_GNU_GCC=0` keeps zig cc.

use super::c_toolchain::{remap_cflags, remaps_fit_cflags, scripts_dir, write_script, GNU_TARGET};
use crate::workspace::config::Workspace;
use crate::workspace::target::TargetTriple;
use crate::workspace::tools;
use anyhow::{Context, Result};
use linkaudit::target::Arch;
use std::ffi::OsString;
use xshell::{cmd, Shell};

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

#[cfg(test)]
mod tests {
    use super::*;

    use crate::pipeline::build::tests::workspace;
    use crate::pipeline::c_toolchain::tests::{scratch, test_zig};

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
            "x86_64-unknown-linux-musl",
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
    /// glibc 2.36) do; the script's do not at a 2.17 floor, and do at a 2.28 floor.
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
        // A floor of 2.28 reaches the headers too: `fcntl64` is then allowed.
        ws.glibc_floor = linkaudit::GlibcVersion::new(2, 28);
        let env = floor_gcc_env(&sh, &ws, &test_zig(&sh)).unwrap();
        let (script, newer) = (std::path::PathBuf::from(&env[0].1), dir.join("newer.o"));
        cmd!(sh, "{script} {flags...} {c} -o {newer}")
            .quiet()
            .run()
            .unwrap();
        assert_eq!(imports(&newer), ["fcntl64"]);
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
}
