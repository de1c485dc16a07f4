//! Building the binaries: one cargo invocation per build method, with every target of that method
//! at once (cargo takes several `--target`s), in the `dist` profile.
//!
//! Static linking comes from `.cargo/config.toml` alone: RUSTFLAGS and CARGO_ENCODED_RUSTFLAGS are
//! removed from our environment before we get here (see `plan.rs`), because either one replaces the
//! config's `[target]` rustflags.

use super::reproducible;
use super::zig_runtime;
use super::{build_env, c_toolchain};
use crate::workspace::auditable::Auditable;
use crate::workspace::config::{cargo_program, Package, Workspace};
use crate::workspace::report::Report;
use crate::workspace::target::{How, TargetTriple};
use crate::workspace::tools::Zigbuild;
use anyhow::{bail, Context, Result};
use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Instant;
use xshell::{cmd, Shell};

pub const PROFILE: &str = "dist";

/// One binary as cargo left it in the target dir.
#[derive(Clone, Debug)]
pub struct BuiltBinary {
    /// The binary target's name (`linkaudit`).
    pub name: String,
    /// The file name (`linkaudit.exe` on Windows).
    pub file_name: String,
    pub path: PathBuf,
}

/// Runs one cargo invocation for `triples`, which all build the same way; returns each
/// triple's C toolchain for the manifest (`c_toolchain.rs`).
pub fn build(
    sh: &Shell,
    ws: &Workspace,
    (how, host): (How, &TargetTriple),
    triples: &[TargetTriple],
    zigbuild: Option<&Zigbuild>,
    auditable: &Auditable,
    report: &Report,
) -> Result<Vec<(TargetTriple, Option<String>)>> {
    let (program, env) = match (how, zigbuild) {
        (How::Zigbuild, Some(z)) => (z.program.clone(), z.env.clone()),
        (How::Zigbuild, None) => bail!("internal error: cargo-zigbuild was not set up"),
        _ => (cargo_program(), Vec::new()),
    };
    let args = cargo_args(ws, how, triples, PROFILE);
    let started = Instant::now();
    // cargo reports on stderr; stdout is kept for `--json`.
    let mut command = cmd!(sh, "{program} {args...}").ignore_stdout();
    let env = env.into_iter().chain(auditable.env());
    for (key, value) in env
        .map(|(k, v)| (k.to_owned(), v))
        .chain(build_env::extra_env(ws, (how, host), triples, zigbuild)?)
    {
        command = command.env(key, value);
    }
    // The C toolchains' versions are asked while cargo builds: musl-gcc's four version queries
    // took about 50 ms of a warm no-op run, one after the other, after cargo.
    let (built, described) = std::thread::scope(|scope| {
        let described = scope.spawn(|| -> Result<Vec<Option<String>>> {
            let sh = Shell::new().context("starting a shell")?;
            triples
                .iter()
                .map(|triple| c_toolchain::describe(&sh, (ws, host), how, triple, zigbuild))
                .collect()
        });
        let built = run_build(command, how, triples);
        let described = described
            .join()
            .map_err(|_| anyhow::anyhow!("the C toolchain query panicked"));
        (built, described)
    });
    built?;
    let described = described??;
    let mut toolchains = Vec::new();
    for (triple, c) in triples.iter().zip(described) {
        let floor = floor_note(ws, how, triple);
        report.step(
            "build",
            triple.as_str(),
            &format!(
                "ok ({}{floor}, {:.0?} for {} target(s); C: {})",
                how.describe(),
                started.elapsed(),
                triples.len(),
                c.as_deref().unwrap_or("the runner's")
            ),
        );
        toolchains.push((triple.clone(), c));
    }
    Ok(toolchains)
}

/// Runs the cargo (or cargo-zigbuild) command of one invocation.
fn run_build(command: xshell::Cmd<'_>, how: How, triples: &[TargetTriple]) -> Result<()> {
    if how == How::Zigbuild && triples.iter().any(TargetTriple::is_apple) {
        return run_apple_zigbuild(command, triples);
    }
    command.run().with_context(|| {
        format!(
            "building {} with `{}` failed: see cargo's messages above",
            join(triples),
            how.describe()
        )
    })
}

/// `, glibc floor pinned at 2.17` or `, MACOSX_DEPLOYMENT_TARGET=11.0`: the floor a build set.
fn floor_note(ws: &Workspace, how: How, triple: &TargetTriple) -> String {
    match how {
        How::Zigbuild if triple.is_linux_gnu() => {
            format!(", glibc floor pinned at {}", ws.glibc_floor)
        }
        _ if triple.is_apple() => {
            format!(
                ", MACOSX_DEPLOYMENT_TARGET={}",
                ws.floors().macos_for(triple.target())
            )
        }
        _ => String::new(),
    }
}

/// zig links Mach-O files without Apple's SDK, except against Apple frameworks: then the link
/// fails with `unable to find system framework`. Cargo's messages are kept and shown; that case
/// gets one line pointing at the macOS runner.
fn run_apple_zigbuild(command: xshell::Cmd<'_>, triples: &[TargetTriple]) -> Result<()> {
    let output = command
        .ignore_status()
        .output()
        .with_context(|| format!("running cargo zigbuild for {}", join(triples)))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprint!("{stderr}");
    if output.status.success() {
        return Ok(());
    }
    if let Some(line) = stderr
        .lines()
        .find(|l| l.contains("unable to find system framework"))
    {
        let framework = line
            .rsplit("framework")
            .next()
            .unwrap_or("")
            .split('"')
            .nth(1)
            .unwrap_or("?");
        bail!(
            "{} links the Apple framework {framework}, which zig cannot link without Apple's \
             SDK: list the target in build-on-macos in [workspace.metadata.dist] to build it on \
             the macOS runner",
            join(triples)
        );
    }
    bail!(
        "building {} with `cargo zigbuild` failed: see cargo's messages above",
        join(triples)
    )
}

fn join(triples: &[TargetTriple]) -> String {
    triples
        .iter()
        .map(TargetTriple::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The arguments after the program: `zigbuild --profile dist -p a --bins --target t.2.17 --config ..`.
/// `profile` is `dist` except in `cargo xtask bench`, which builds the same way with `release` to
/// compare binary sizes.
pub fn cargo_args(
    ws: &Workspace,
    how: How,
    triples: &[TargetTriple],
    profile: &str,
) -> Vec<OsString> {
    let mut args: Vec<OsString> = match how {
        How::Zigbuild => vec!["zigbuild".into()],
        How::Build => vec!["build".into()],
        How::Xwin => vec!["xwin".into(), "build".into()],
    };
    args.extend(["--profile".into(), profile.into()]);
    for package in &ws.packages {
        args.extend(["-p".into(), package.name.clone().into()]);
    }
    args.push("--bins".into());
    for triple in triples {
        let spelled = match how {
            // cargo-zigbuild's way of pinning the glibc floor at link time.
            How::Zigbuild if triple.is_linux_gnu() => format!("{triple}.{}", ws.glibc_floor),
            _ => triple.to_string(),
        };
        args.extend(["--target".into(), spelled.into()]);
    }
    for triple in triples {
        args.extend(["--config".into(), target_config(ws, how, triple).into()]);
    }
    args
}

/// `target.<triple>.rustflags=[...]`: what makes the binaries reproducible (`reproducible.rs`)
/// and the link flags of zig's runtime (`zig_runtime.rs`). Given with `--config`, cargo JOINS
/// these with the config file's `[target]` rustflags (+crt-static stays); RUSTFLAGS would replace
/// them. Any `[build] rustflags` are then unused for these targets: cargo reads those only when
/// no `[target]` rustflags apply, which is why static linking belongs in `[target]` tables.
fn target_config(ws: &Workspace, how: How, triple: &TargetTriple) -> String {
    let mut flags = reproducible::flags(ws, triple);
    flags.extend(
        zig_runtime::link_flags(how, triple)
            .iter()
            .map(|f| f.to_string()),
    );
    // A triple with a dot is quoted to be one TOML key.
    let key = if triple.as_str().contains('.') {
        format!("\"{triple}\"")
    } else {
        triple.to_string()
    };
    // A JSON array of strings is a valid TOML array, with any quote or backslash escaped.
    let value = serde_json::to_string(&flags).expect("strings serialize");
    format!("target.{key}.rustflags={value}")
}

/// The binaries of `package` for `triple`, where cargo put them; an error if one is missing.
pub fn built_binaries(
    ws: &Workspace,
    package: &Package,
    triple: &TargetTriple,
) -> Result<Vec<BuiltBinary>> {
    let dir = ws.target_dir.join(triple.as_str()).join(PROFILE);
    package
        .binaries
        .iter()
        .map(|name| {
            let file_name = format!("{name}{}", triple.exe_suffix());
            let path = dir.join(&file_name);
            if !path.is_file() {
                bail!(
                    "cargo reported success but {} is missing: was the `{}` binary skipped \
                     through required-features?",
                    path.display(),
                    name
                );
            }
            Ok(BuiltBinary {
                name: name.clone(),
                file_name,
                path,
            })
        })
        .collect()
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use linkaudit::GlibcVersion;

    /// A workspace at /src/ws with one package `tool`; c_toolchain.rs's tests share it.
    pub(in crate::pipeline) fn workspace() -> Workspace {
        Workspace {
            root: "/src/ws".into(),
            target_dir: "/src/ws/target".into(),
            targets: Vec::new(),
            glibc_floor: GlibcVersion::new(2, 17),
            macos_floor: None,
            build_on_macos: Vec::new(),
            include: Vec::new(),
            packages: vec![Package {
                name: "tool".into(),
                version: "1.0.0".into(),
                binaries: vec!["tool".into()],
                ..Package::default()
            }],
            wheels: false,
            runners: Default::default(),
            pypi_prereleases: false,
        }
    }

    fn args(how: How, triples: &[&str]) -> Vec<String> {
        let triples: Vec<TargetTriple> = triples
            .iter()
            .map(|t| TargetTriple::parse(t).unwrap())
            .collect();
        cargo_args(&workspace(), how, &triples, PROFILE)
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect()
    }

    #[test]
    fn one_zigbuild_invocation_builds_every_linux_target_with_the_floor_pinned() {
        let a = args(
            How::Zigbuild,
            &["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-musl"],
        );
        assert_eq!(
            &a[..7],
            [
                "zigbuild",
                "--profile",
                "dist",
                "-p",
                "tool",
                "--bins",
                "--target"
            ]
        );
        assert!(a.contains(&"x86_64-unknown-linux-gnu.2.17".to_owned()));
        assert!(a.contains(&"aarch64-unknown-linux-musl".to_owned()));
        assert_eq!(a.iter().filter(|x| *x == "--config").count(), 2);
    }

    #[test]
    fn remapping_is_passed_per_target_with_config_never_with_rustflags() {
        let a = args(How::Build, &["x86_64-pc-windows-gnu"]);
        let config = a.last().unwrap();
        assert!(
            config.starts_with("target.x86_64-pc-windows-gnu.rustflags=[\"--remap-path-prefix="),
            "{config}"
        );
        assert!(
            config.contains("\"--remap-path-prefix=/src/ws=.\""),
            "{config}"
        );
        // The target dir is more specific than the root, so it must come after it.
        let root = config.find("=/src/ws=.").unwrap();
        let target = config.find("=/src/ws/target=./target").unwrap();
        assert!(root < target, "{config}");
        assert!(!a.iter().any(|x| x.contains("RUSTFLAGS")));
    }

    #[test]
    fn pe_links_carry_no_timestamp() {
        let gnu = args(How::Build, &["x86_64-pc-windows-gnu"]);
        assert!(gnu
            .last()
            .unwrap()
            .ends_with(",\"-Clink-arg=-Wl,--no-insert-timestamp\"]"));
        let msvc = args(How::Build, &["x86_64-pc-windows-msvc"]);
        assert!(msvc.last().unwrap().ends_with(",\"-Clink-arg=/Brepro\"]"));
        let linux = args(How::Build, &["x86_64-unknown-linux-musl"]);
        assert!(!linux.last().unwrap().contains("link-arg"));
    }

    #[test]
    fn mach_o_links_write_no_stabs() {
        let apple = args(How::Zigbuild, &["aarch64-apple-darwin"]);
        assert!(apple.last().unwrap().ends_with(",\"-Clink-arg=-Wl,-S\"]"));
    }

    #[test]
    fn xwin_is_a_cargo_subcommand() {
        assert_eq!(
            &args(How::Xwin, &["x86_64-pc-windows-msvc"])[..2],
            ["xwin", "build"]
        );
    }
}
