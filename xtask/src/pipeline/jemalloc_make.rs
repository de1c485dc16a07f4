//! jemalloc's `make`, told to build only the library tikv-jemalloc-sys links, and to compile the
//! objects it only lists symbols from at `-Og`.
//!
//! tikv-jemalloc-sys, under tikv-jemallocator (the allocator of fd, ruff, uv and ripgrep's musl
//! builds), runs jemalloc's configure script and `make`. It then links `libjemalloc_pic.a` on
//! every target but Windows. jemalloc's Makefile compiles every source three times:
//! - once to list its symbols (`.sym.o`), which the private namespace header needs;
//! - once without `-fPIC` for `libjemalloc.a`, which nothing links;
//! - once with `-fPIC` for `libjemalloc_pic.a`.
//!
//! After each compile it runs the compiler again with `-MM` to write a `.d` dependency file.
//! Only a later incremental make would read those, and the build script deletes the build dir.
//! Counted for x86_64-unknown-linux-gnu through zig cc (fd-find's tikv-jemalloc-sys 0.7.1):
//! make ran 402 compiler calls, 134 s of call time summed (each call's start to end). The unused
//! `.o` files took 37.8 s of it and the `.d` files 21 s. tikv-jemalloc-sys alone went from 90 s
//! to 61 s once they were skipped.
//!
//! For Linux builds, a `make` script comes first on the PATH cargo gives build scripts. When
//! the Makefile in its working directory is jemalloc's (a `LIBJEMALLOC :=` line) and no `-C` or
//! `-f` names another, it adds two command-line variables, which override the Makefile's own,
//! and one pattern-specific variable:
//! - `STATIC_LIBS=$(objroot)lib/$(LIBJEMALLOC)_pic.$(A)`: the only library built and installed.
//! - `CC_MM=` (empty): jemalloc's `ifdef CC_MM` is then false, so no `-MM` calls. The same
//!   block adds `-DDLLEXPORT`, which jemalloc's headers read only under MSVC.
//! - `--eval=%.sym.o: CFLAGS += -Og`: the `.sym.o` objects are compiled with little
//!   optimization. Only `nm` reads them, for the global symbols they define, and any `-O`
//!   level defines the same ones: a function or variable with external linkage is always
//!   emitted. `make -j2` of the 67 symbol objects alone, two runs each: musl-gcc 18.7 s and
//!   17.1 s with jemalloc's `-O3`, 10.6 s and 13.5 s with `-Og`; zig cc (x86_64 gnu) 22.8 s
//!   and 21.5 s with `-O3`, 19.5 s and 21.3 s with `-Og`. Not `-O0`: gcc still inlines
//!   jemalloc's `always_inline` functions there but optimizes nothing after, so jemalloc.c
//!   took 28.6 s and made a 7 MB object (2.3 s at `-O3`), and the musl-gcc run took 23.0 s and
//!   20.3 s. The generated `private_namespace.gen.h` and `libjemalloc_pic.a` were
//!   byte-identical either way.
//!
//! Every other `make` runs unchanged. The objects in `libjemalloc_pic.a` are compiled with
//! the same flags and the same private namespace as before, so the binary's bytes do not
//! change (`tests/jemalloc.rs` builds both ways and compares). `XTASK_JEMALLOC_PIC_ONLY=0`
//! turns this off.

use crate::workspace::config::Workspace;
use crate::workspace::target::TargetTriple;
use crate::workspace::tools;
use anyhow::{Context, Result};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// `path` (the invocation's PATH) with the `make` script's dir first, for an invocation whose
/// targets are all Linux; `None` when there is no make on it, another target is built, or it is
/// turned off.
pub fn path_env(
    ws: &Workspace,
    triples: &[TargetTriple],
    path: Option<OsString>,
) -> Result<Option<OsString>> {
    let off = std::env::var_os("XTASK_JEMALLOC_PIC_ONLY").is_some_and(|v| v == "0");
    if off || triples.is_empty() || !triples.iter().all(TargetTriple::is_linux) {
        return Ok(None);
    }
    let dir = ws.target_dir.join("xtask-tools").join("make");
    // The real make: the first one on PATH that is not this script (a nested xtask run).
    let others: Vec<PathBuf> = std::env::split_paths(&path.unwrap_or_default())
        .filter(|p| *p != dir)
        .collect();
    let joined = std::env::join_paths(&others).context("joining PATH")?;
    let Some(make) = tools::find_on_path("make", Some(&joined)) else {
        return Ok(None);
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    super::c_toolchain::write_script(&dir.join("make"), &make_script(&make))?;
    let with_dir = std::iter::once(dir).chain(others);
    Ok(Some(
        std::env::join_paths(with_dir).context("putting the make script on PATH")?,
    ))
}

/// The `make` script: jemalloc's Makefile gets the three variables, any other make its arguments.
fn make_script(make: &Path) -> String {
    let make = tools::shell_quote(&make.to_string_lossy());
    // `%.sym.o`, not `%.sym.$(O)`: `--eval` is read before the Makefile defines `O`, and the
    // script serves Linux builds only, where `O` is `o`.
    format!(
        "#!/bin/sh\n\
         # Written by cargo xtask dist: jemalloc's make builds only libjemalloc_pic.a, with no\n\
         # dependency files and little-optimized symbol-list objects\n\
         # (xtask/src/pipeline/jemalloc_make.rs). Other makes run unchanged.\n\
         other=\n\
         for a; do case \"$a\" in -C*|-f*|--directory*|--file*|--makefile*) other=yes ;; esac; done\n\
         if [ -z \"$other\" ] && grep -qs '^LIBJEMALLOC := ' Makefile; then\n\
         \x20 exec {make} \"$@\" 'STATIC_LIBS=$(objroot)lib/$(LIBJEMALLOC)_pic.$(A)' CC_MM= \\\n\
         \x20   '--eval=%.sym.o: CFLAGS += -Og'\n\
         fi\n\
         exec {make} \"$@\"\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    /// A Makefile that prints what the variables hold and where they came from, and the flags
    /// a symbol-list object and a library object get.
    const PRINTS: &str = "CFLAGS := -O3\n\
        all:\n\t@echo \"$(STATIC_LIBS)|$(origin CC_MM)|$(CC_MM)|$(X)\"\n\
        %.o:\n\t@echo \"$@: $(CFLAGS)\"\n";

    fn run_make(script: &Path, dir: &Path, args: &[&str]) -> String {
        let out = Command::new(script)
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    #[test]
    fn only_jemallocs_makefile_builds_less() {
        let Some(make) = tools::which("make") else {
            panic!("make is not on PATH: install it (apt-get install make)");
        };
        let dir = crate::workspace::fsio::scratch_dir("jemalloc", "make");
        let script = dir.join("make");
        super::super::c_toolchain::write_script(&script, &make_script(&make)).unwrap();

        let jemalloc = dir.join("jemalloc");
        std::fs::create_dir(&jemalloc).unwrap();
        let makefile = format!(
            "objroot := out/\nA := a\nLIBJEMALLOC := $(LIBPREFIX)jemalloc$(install_suffix)\n\
             CC_MM = 1\nSTATIC_LIBS := $(objroot)lib/$(LIBJEMALLOC).$(A)\n\
             STATIC_LIBS += $(objroot)lib/$(LIBJEMALLOC)_pic.$(A)\n{PRINTS}"
        );
        std::fs::write(jemalloc.join("Makefile"), &makefile).unwrap();
        assert_eq!(
            run_make(&script, &jemalloc, &["X=kept"]),
            "out/lib/jemalloc_pic.a|command line||kept"
        );
        assert_eq!(
            run_make(&script, &jemalloc, &["src/a.sym.o", "src/a.pic.o"]),
            "src/a.sym.o: -O3 -Og\nsrc/a.pic.o: -O3"
        );
        // Pointed at another Makefile, or another dir, it is not jemalloc's make any more.
        assert_eq!(
            run_make(&script, &jemalloc, &["-f", "Makefile"]),
            "out/lib/jemalloc.a out/lib/jemalloc_pic.a|file|1|"
        );
        assert_eq!(
            run_make(&script, &dir, &["-Cjemalloc", "--no-print-directory"]),
            "out/lib/jemalloc.a out/lib/jemalloc_pic.a|file|1|"
        );

        let other = dir.join("other");
        std::fs::create_dir(&other).unwrap();
        let makefile = format!("STATIC_LIBS := libother.a\nCC_MM = 1\n{PRINTS}");
        std::fs::write(other.join("Makefile"), makefile).unwrap();
        assert_eq!(run_make(&script, &other, &[]), "libother.a|file|1|");
        assert_eq!(
            run_make(&script, &other, &["src/a.sym.o"]),
            "src/a.sym.o: -O3"
        );
    }
}
