//! `cargo xtask bench cc`: one C compiler call, each way the peer section's builds make it.

use super::doc;
use super::hyperfine::{self, Command, Settings};
use super::Bench;
use anyhow::{Context, Result};
use xshell::cmd;

/// pip's zig, cargo-zigbuild, and the environment cargo-zigbuild's wrapper script exports
/// before it runs `cargo-zigbuild zig cc`, so that it does not look for zig again on every call.
fn zig_and_wrapper(bench: &Bench) -> Result<(String, std::path::PathBuf, String)> {
    let code = "import ziglang, os; print(os.path.join(os.path.dirname(ziglang.__file__), 'zig'))";
    let zig = cmd!(bench.sh, "python3 -c {code}")
        .quiet()
        .read()
        .context("finding the ziglang package's zig (`python3 -c 'import ziglang'`)")?;
    let zigbuild = crate::workspace::tools::which("cargo-zigbuild")
        .context("cargo-zigbuild is not on PATH: pip install cargo-zigbuild")?;
    let zig = zig.trim().to_owned();
    let version = cmd!(bench.sh, "{zig} version")
        .quiet()
        .read()
        .context("asking zig for its version")?;
    let wrapper_env = format!(
        "env CARGO_ZIGBUILD_ZIG_VERSION={} CARGO_ZIGBUILD_ZIG_COMMAND=python3 \
         CARGO_ZIGBUILD_ZIG_COMMAND_ARGS='-m ziglang'",
        version.trim()
    );
    Ok((zig, zigbuild, wrapper_env))
}

/// `cargo xtask bench cc`: one C compiler call on a one-line file, each way the peer section's
/// builds make it: configure scripts such as jemalloc's make hundreds, so the cost of starting
/// the compiler adds up.
pub fn compiler_calls(bench: &Bench) -> Result<String> {
    let dir = bench.scratch.join("cc");
    std::fs::create_dir_all(&dir).context("creating the cc bench's dir")?;
    let source = dir.join("one-line.c");
    std::fs::write(&source, "int answer(void) { return 42; }\n")?;
    let (zig, zigbuild, wrapper_env) = zig_and_wrapper(bench)?;
    let floor_gcc = crate::pipeline::floor_gcc::floor_gcc_env(
        &bench.sh,
        &bench.ws,
        std::path::Path::new(&zig),
    )?;
    let floor_gcc = std::path::PathBuf::from(&floor_gcc[0].1);
    let zig = zig.as_str();
    let (c, o) = (source.display(), dir.join("one-line.o"));
    let flags = "-g -fno-sanitize=all -target x86_64-linux-gnu.2.17";
    // A new comment before every call: zig caches objects by their input, and each test program
    // of a configure script is a new input.
    let fresh = format!("echo \"/* $(date +%N) */\" >> {c}");
    let commands = [
        Command::new(
            "gcc (cargo-dist, gnu)",
            format!("gcc -c {c} -o {}", o.display()),
        ),
        Command::new(
            "musl-gcc (both, x86_64 musl)",
            format!("musl-gcc -c {c} -o {}", o.display()),
        ),
        Command::new(
            "gcc against zig's glibc headers, its script (ours, x86_64 gnu)",
            format!("{} -c {c} -o {}", floor_gcc.display(), o.display()),
        ),
        Command::new(
            "zig cc, called directly (ours, aarch64 gnu and musl)",
            format!("{zig} cc {flags} -c {c} -o {}", o.display()),
        ),
        Command::new(
            "zig cc through cargo-zigbuild (ours before, gnu)",
            format!(
                "{wrapper_env} {} zig cc -- {flags} -c {c} -o {}",
                zigbuild.display(),
                o.display()
            ),
        ),
    ]
    .map(|command| command.prepare(fresh.clone()));
    let t = hyperfine::run(
        &bench.sh,
        &Settings {
            runs: bench.runs(20, 5),
            warmup: 2,
            no_shell: false,
        },
        &commands,
    )?;
    let rows: Vec<Vec<String>> = t.iter().map(|x| doc::timing_row(x, &t[0])).collect();
    Ok(format!(
        "## One C compiler call: gcc, musl-gcc, gcc for the glibc floor, zig cc, zig cc through cargo-zigbuild\n\n`-c` of a one-line C file, changed before every call (zig caches \
         objects by input; each test program of a configure script is new), zig's built libcs \
         warm. Ratio: against gcc.\n\n{}",
        doc::table(&doc::TIMING_HEADER, &rows)
    ))
}
