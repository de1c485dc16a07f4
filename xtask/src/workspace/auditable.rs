//! cargo-auditable, the rustc wrapper that embeds each binary's dependency list (the `.dep-v0`
//! section `linkaudit --deps`, `cargo audit bin`, syft and trivy read).
//!
//! `cargo auditable build` is a cargo subcommand, so it cannot be combined with `cargo zigbuild`
//! (which is why cargo-dist could not offer both). Underneath, it only sets itself as
//! `RUSTC_WORKSPACE_WRAPPER`: we set that ourselves on every build (cargo, cargo-zigbuild,
//! cargo-xwin alike), so every target goes through the same code path. The wrapper writes an
//! object file with the section and adds it as `-Clink-arg`, with `-u AUDITABLE_VERSION_INFO`
//! (`/INCLUDE:` for link.exe) so the linker keeps it; it only wraps workspace crates, so the
//! dependencies' build cache stays valid.
//!
//! Chosen over writing the section from the xtask: it is the format's reference implementation,
//! it knows every object format and linker's flags, and the xtask gains no dependency (writing
//! objects needs `object`'s `write` feature). The cost is one `cargo install` (31 s on this
//! machine) when it is not on PATH.

use super::report::Report;
use super::tools::which;
use anyhow::{Context, Result};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use xshell::{cmd, Shell};

/// Pinned: the wrapper decides the section's bytes (its JSON and its zlib level), so the same
/// version is what keeps binaries reproducible.
pub const CARGO_AUDITABLE: &str = "cargo-auditable@0.7.7";

/// The wrapper, found on PATH or installed into `<target>/xtask-tools/cargo`.
#[derive(Debug, Clone)]
pub struct Auditable {
    pub program: PathBuf,
}

impl Auditable {
    /// The environment of a build that embeds the dependency lists.
    pub fn env(&self) -> Vec<(&'static str, OsString)> {
        vec![
            ("RUSTC_WORKSPACE_WRAPPER", self.program.clone().into()),
            // What `cargo auditable` would pass on from its command line to the `cargo metadata`
            // its wrapper runs; our builds give none of those flags.
            (
                "CARGO_AUDITABLE_ORIG_ARGS",
                r#"{"offline":false,"locked":false,"frozen":false,"config":[]}"#.into(),
            ),
        ]
    }
}

/// Finds cargo-auditable on PATH, or installs the pinned version with `cargo install` into
/// `<target>/xtask-tools/cargo` (never system-wide), saying so in one line.
pub fn ensure_auditable(sh: &Shell, target_dir: &Path, report: &Report) -> Result<Auditable> {
    if let Some(program) = which("cargo-auditable") {
        return Ok(Auditable { program });
    }
    let root = target_dir.join("xtask-tools").join("cargo");
    let program = root
        .join("bin")
        .join(format!("cargo-auditable{}", std::env::consts::EXE_SUFFIX));
    if !program.is_file() {
        report.step(
            "install",
            "cargo-auditable",
            &format!("cargo install {CARGO_AUDITABLE} into {}", root.display()),
        );
        let cargo = super::config::cargo_program();
        cmd!(
            sh,
            "{cargo} install --quiet --locked --root {root} {CARGO_AUDITABLE}"
        )
        .quiet()
        .ignore_stdout() // stdout is for --json
        .run()
        .with_context(|| {
            format!(
                "installing cargo-auditable failed (no network?): install it yourself with \
                     `cargo install --locked {CARGO_AUDITABLE}`"
            )
        })?;
    }
    Ok(Auditable { program })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wrapper_gets_the_flags_json_cargo_auditable_reads() {
        let env = Auditable {
            program: "/tools/cargo-auditable".into(),
        }
        .env();
        let get = |key: &str| env.iter().find(|(k, _)| *k == key).unwrap().1.clone();
        assert_eq!(get("RUSTC_WORKSPACE_WRAPPER"), "/tools/cargo-auditable");
        // cargo-auditable's CargoArgs: every field required, unwrap()ed by the wrapper.
        let args: serde_json::Value =
            serde_json::from_str(get("CARGO_AUDITABLE_ORIG_ARGS").to_str().unwrap()).unwrap();
        for key in ["offline", "locked", "frozen"] {
            assert_eq!(args[key], false, "{key}");
        }
        assert_eq!(args["config"], serde_json::json!([]));
    }
}
