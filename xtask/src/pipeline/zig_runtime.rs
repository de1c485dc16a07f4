//! zig's runtime libraries for each Linux target of a run, built while cargo compiles the first
//! crates instead of in the binary's link.
//!
//! On an empty zig cache (every fresh CI runner), the first link for a target makes zig build
//! that target's runtime libraries: compiler_rt, glibc's stubs and libc_nonshared or musl's
//! libc.a, and libunwind. The binary's link is the last step of a build, so it waited for them:
//! in fd-find's cold gnu build (jemalloc compiled through zig) the binary's rustc took 51.7 s
//! against 32.3 s in the musl-gcc build (cargo --timings), and zig's cache showed compiler_rt, a
//! UBSan runtime, libc_nonshared and libunwind made during that link. Started with the build,
//! they are made beside crates that do not need them; aarch64 musl's libc.a alone took 75 s.
//!
//! rustc's link reaches zig without `-O`, which zig takes as Debug: it then builds a UBSan
//! runtime, and a Debug libunwind that goes into every gnu binary (Rust unwinds through it).
//! `-Clink-arg=-O2` (`link_flags`) makes that ReleaseFast: a cold zig link of one object took
//! 25.6 s without it and 5.8 s with it, and no UBSan runtime is built.
//!
//! zig keys each library by target, optimize mode and strip (not by `-g` or `-pie`: tried), so a
//! one-line C program linked with `-O2 -s -lgcc_s -lc` builds what the binary's link uses when
//! the profile strips (`strip = true`, or cargo's default `debuginfo` in a profile without debug
//! info: zig takes `--strip-debug` as strip too). After it, a cold `cargo zigbuild` of a hello
//! world, x86_64 gnu and aarch64 musl, built no library more and took 0.7 s.

use crate::workspace::config::Workspace;
use crate::workspace::target::{How, TargetTriple};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};

/// The rustc flags of a binary that zig links on Linux (see the module comment).
pub fn link_flags(how: How, triple: &TargetTriple) -> &'static [&'static str] {
    if how == How::Zigbuild && triple.is_linux() {
        &["-Clink-arg=-O2"]
    } else {
        &[]
    }
}

/// Builds zig's runtime libraries for `zig_targets` (zig's names, `x86_64-linux-gnu.2.17`), one
/// zig process per target, until they are built or `stop` is set (then the processes are
/// killed: the builds have ended and need nothing more). A target is skipped when a stamp in
/// `<target dir>/xtask-tools/zig-runtime` says that this zig built it into this zig cache.
/// `zig` is the one cargo-zigbuild will run; `None` waits for the search on PATH. Failures are
/// not reported: this only saves time, and the build's own link says what is wrong with zig.
pub fn build_ahead(ws: &Workspace, zig_targets: &[String], zig: Option<&Path>, stop: &AtomicBool) {
    if zig_targets.is_empty() {
        return;
    }
    let Ok(sh) = xshell::Shell::new() else {
        return;
    };
    let found = zig.map(Path::to_path_buf);
    let Some(zig) = found.or_else(|| crate::workspace::tools::zig_on_host(&sh)) else {
        return;
    };
    let Ok(version) = super::c_toolchain::zig_version(&sh, &zig) else {
        return;
    };
    let dir = ws.target_dir.join("xtask-tools").join("zig-runtime");
    let cache = ZigCache {
        dir: zig_cache_dir(),
        set: false,
    };
    build_into(&zig, &version, zig_targets, (&dir, &cache), stop);
}

/// zig's global cache, and whether the zig processes are told it (`ZIG_GLOBAL_CACHE_DIR`, in
/// tests) or find it themselves, as they will in the build.
struct ZigCache {
    dir: PathBuf,
    set: bool,
}

/// `build_ahead` once zig and its version are known; stamps and the linked programs go to `dir`.
fn build_into(
    zig: &Path,
    version: &str,
    zig_targets: &[String],
    (dir, cache): (&Path, &ZigCache),
    stop: &AtomicBool,
) {
    let stamp_text = format!("{version}\n{}\n", cache.dir.display());
    let is_built = |target: &str| {
        cache.dir.join("o").is_dir()
            && std::fs::read_to_string(dir.join(target)).is_ok_and(|s| s == stamp_text)
    };
    let wanted: Vec<&String> = zig_targets.iter().filter(|t| !is_built(t)).collect();
    if wanted.is_empty() || stop.load(Ordering::Relaxed) || std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let program = dir.join("main.c");
    if std::fs::write(&program, "int main(void) { return 0; }\n").is_err() {
        return;
    }
    let mut running: Vec<(&String, Child)> = wanted
        .into_iter()
        .filter_map(|target| {
            let mut link = link_one(zig, target, &program, dir);
            if cache.set {
                link.env("ZIG_GLOBAL_CACHE_DIR", &cache.dir);
            }
            Some((target, link.spawn().ok()?))
        })
        .collect();
    // Polled: a child that one thread waits for cannot be killed from another.
    while !running.is_empty() {
        if stop.load(Ordering::Relaxed) {
            for (_, child) in &mut running {
                let _ = child.kill();
                let _ = child.wait();
            }
            return;
        }
        running.retain_mut(|(target, child)| match child.try_wait() {
            Ok(None) => true,
            Ok(Some(status)) => {
                if status.success() {
                    let _ = std::fs::write(dir.join(target.as_str()), &stamp_text);
                }
                false
            }
            Err(_) => false,
        });
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// `zig cc` linking `program` for `target` the way rustc's link of a stripped binary reaches zig
/// through cargo-zigbuild (`-g -fno-sanitize=all -target <t>`, then `-O2` and the strip). std's
/// Command, not xshell: xshell runs a command to its end, and this one may have to be killed.
fn link_one(zig: &Path, target: &str, program: &Path, dir: &Path) -> Command {
    let mut command = Command::new(zig);
    command
        .args([
            "cc",
            "-g",
            "-fno-sanitize=all",
            "-target",
            target,
            "-O2",
            "-s",
        ])
        .arg(program)
        .arg("-o")
        .arg(dir.join(format!("{target}.out")))
        .args(["-lgcc_s", "-lc"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

/// zig's global cache: `ZIG_GLOBAL_CACHE_DIR`, else `$XDG_CACHE_HOME/zig`, else `~/.cache/zig`.
fn zig_cache_dir() -> PathBuf {
    let var = |name| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    var("ZIG_GLOBAL_CACHE_DIR").unwrap_or_else(|| {
        var("XDG_CACHE_HOME")
            .or_else(|| var("HOME").map(|home| home.join(".cache")))
            .unwrap_or_default()
            .join("zig")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::tools;
    use xshell::{cmd, Shell};

    /// The libraries in a zig cache, as `<hash dir>/<file>`, sorted.
    fn libraries(cache: &Path) -> Vec<String> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(cache.join("o")).unwrap() {
            let hashed = entry.unwrap().path();
            for file in std::fs::read_dir(&hashed).unwrap() {
                let name = file.unwrap().file_name().to_string_lossy().into_owned();
                if name.ends_with(".a") {
                    let hash = hashed.file_name().unwrap().to_string_lossy();
                    found.push(format!("{hash}/{name}"));
                }
            }
        }
        found.sort();
        found
    }

    /// On an empty zig cache, what `build_into` builds is everything rustc's link of a stripped
    /// binary needs through cargo-zigbuild (its wrapper's flags, the xtask's link flags): that
    /// link builds no library more, and no UBSan runtime at all.
    #[test]
    fn the_binary_link_finds_every_runtime_library_built_ahead() {
        let dir = crate::workspace::fsio::scratch_dir("zigrt", "link");
        let cache = ZigCache {
            dir: dir.join("zig-cache"),
            set: true,
        };
        let sh = Shell::new().unwrap();
        let zig = tools::find_zig(&sh, &[]).expect("zig: `python3 -m pip install ziglang`");
        let target = "x86_64-linux-gnu.2.17";
        let stop = AtomicBool::new(false);
        build_into(&zig, "0.0.1", &[target.to_owned()], (&dir, &cache), &stop);
        let stamp = std::fs::read_to_string(dir.join(target)).unwrap();
        assert_eq!(stamp, format!("0.0.1\n{}\n", cache.dir.display()));
        let ahead = libraries(&cache.dir);
        for library in ["libcompiler_rt.a", "libc_nonshared.a", "libunwind.a"] {
            assert!(ahead.iter().any(|l| l.ends_with(library)), "{ahead:?}");
        }

        let linker = dir.join("linker.sh");
        let script = format!(
            "#!/bin/sh\nexec cargo-zigbuild zig cc -- -g -fno-sanitize=all -target {target} \"$@\"\n"
        );
        crate::pipeline::c_toolchain::write_script(&linker, &script).unwrap();
        let (main, hello) = (dir.join("main.rs"), dir.join("hello"));
        std::fs::write(&main, "fn main() {}\n").unwrap();
        let triple = TargetTriple::parse("x86_64-unknown-linux-gnu").unwrap();
        let flags = link_flags(How::Zigbuild, &triple);
        cmd!(
            sh,
            "rustc --target x86_64-unknown-linux-gnu -Copt-level=3 -Cstrip=symbols
             -Clinker={linker} {flags...} {main} -o {hello}"
        )
        .env("ZIG_GLOBAL_CACHE_DIR", &cache.dir)
        .env("CARGO_ZIGBUILD_ZIG_PATH", &zig)
        .env("CARGO_ZIGBUILD_PYTHON_PATH", "")
        .quiet()
        .run()
        .unwrap();
        assert_eq!(&std::fs::read(&hello).unwrap()[..4], b"\x7fELF");
        assert_eq!(libraries(&cache.dir), ahead);
        assert!(!ahead.iter().any(|l| l.contains("ubsan")), "{ahead:?}");

        // A second run finds its stamp and links nothing; a new zig version links again.
        let linked = dir.join(format!("{target}.out"));
        std::fs::remove_file(&linked).unwrap();
        build_into(&zig, "0.0.1", &[target.to_owned()], (&dir, &cache), &stop);
        assert!(!linked.exists());
        build_into(&zig, "0.0.2", &[target.to_owned()], (&dir, &cache), &stop);
        assert!(linked.exists());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn only_binaries_that_zig_links_on_linux_get_the_link_flags() {
        let t = |s: &str| TargetTriple::parse(s).unwrap();
        assert_eq!(
            link_flags(How::Zigbuild, &t("aarch64-unknown-linux-musl")),
            ["-Clink-arg=-O2"]
        );
        assert!(link_flags(How::Build, &t("x86_64-unknown-linux-musl")).is_empty());
        assert!(link_flags(How::Zigbuild, &t("aarch64-apple-darwin")).is_empty());
    }
}
