//! The environment of a build invocation besides the tools' own: the macOS floor for Apple
//! targets, the C compiler scripts of Linux targets, and the PATH whose `make` is jemalloc's.

use super::jemalloc_make;
use super::{c_toolchain, floor_gcc};
use crate::workspace::config::Workspace;
use crate::workspace::target::{How, TargetTriple};
use crate::workspace::tools::{self, Zigbuild};
use anyhow::{Context, Result};
use std::ffi::OsString;
use xshell::Shell;

/// The environment an invocation adds besides the tools' own: `MACOSX_DEPLOYMENT_TARGET` for
/// Apple targets, the C compiler of Linux targets (`c_toolchain.rs`: musl-gcc for a native
/// x86_64 musl build, gcc against zig's glibc headers for a native x86_64 gnu build, zig cc
/// called directly for the others under cargo-zigbuild), and for Linux targets a
/// PATH whose `make` builds only the jemalloc library that is linked (`jemalloc_make.rs`).
pub fn extra_env(
    ws: &Workspace,
    (how, host): (How, &TargetTriple),
    triples: &[TargetTriple],
    zigbuild: Option<&Zigbuild>,
) -> Result<Vec<(String, OsString)>> {
    let mut env: Vec<(String, OsString)> = deployment_target(ws, triples)
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    let musl_gcc = triples
        .iter()
        .any(|t| c_toolchain::uses_musl_gcc(host, t, ws));
    match how {
        How::Build if musl_gcc => env.extend(
            c_toolchain::musl_gcc_env(ws)?
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v)),
        ),
        How::Zigbuild => {
            let zig = &zigbuild
                .context("internal error: cargo-zigbuild was not set up")?
                .zig;
            env.extend(
                tools::zig_for_cargo_zigbuild(zig)
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v)),
            );
            let (gcc, zig_cc): (Vec<TargetTriple>, Vec<TargetTriple>) = triples
                .iter()
                .cloned()
                .partition(|t| floor_gcc::uses_floor_gcc(host, t, ws, zig));
            env.extend(c_toolchain::direct_zig_cc(ws, &zig_cc, zig)?);
            if !gcc.is_empty() {
                let sh = Shell::new().context("starting a shell")?;
                env.extend(floor_gcc::floor_gcc_env(&sh, ws, zig)?);
            }
        }
        _ => {}
    }
    // On top of the PATH cargo-zigbuild's own env sets when pip installed it in the tools dir.
    let base = zigbuild
        .and_then(|z| z.env.iter().find(|(key, _)| *key == "PATH"))
        .map_or_else(|| std::env::var_os("PATH"), |(_, path)| Some(path.clone()));
    if let Some(path) = jemalloc_make::path_env(ws, triples, base)? {
        env.push(("PATH".to_owned(), path));
    }
    Ok(env)
}

/// `MACOSX_DEPLOYMENT_TARGET` for an invocation of Apple targets (all with the same floor, see
/// `invocations`). Unset, zig stamps the newest macOS it knows as minos (15.0 with zig 0.17.1),
/// and the binary refuses to start on older Macs.
pub fn deployment_target(
    ws: &Workspace,
    triples: &[TargetTriple],
) -> Option<(&'static str, OsString)> {
    let apple = triples.iter().find(|t| t.is_apple())?;
    let floor = ws.floors().macos_for(apple.target());
    Some(("MACOSX_DEPLOYMENT_TARGET", floor.to_string().into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::pipeline::build::tests::workspace;

    #[test]
    fn apple_builds_get_the_macos_floor_as_deployment_target() {
        let mut ws = workspace();
        let t = |s: &str| TargetTriple::parse(s).unwrap();
        let env = |ws: &Workspace, s: &str| {
            deployment_target(ws, &[t(s)]).map(|(k, v)| format!("{k}={}", v.to_string_lossy()))
        };
        assert_eq!(env(&ws, "x86_64-unknown-linux-gnu"), None);
        // Rust's defaults without macos-floor...
        assert_eq!(
            env(&ws, "x86_64-apple-darwin").unwrap(),
            "MACOSX_DEPLOYMENT_TARGET=10.12"
        );
        assert_eq!(
            env(&ws, "aarch64-apple-darwin").unwrap(),
            "MACOSX_DEPLOYMENT_TARGET=11.0"
        );
        // ...and the setting for both.
        ws.macos_floor = Some(linkaudit::OsVersion::new(12, 3));
        assert_eq!(
            env(&ws, "x86_64-apple-darwin").unwrap(),
            "MACOSX_DEPLOYMENT_TARGET=12.3"
        );
    }
}
