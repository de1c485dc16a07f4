//! The OS floors a release promises (`glibc-floor`, `macos-floor`) and where Apple targets build
//! (`build-on-macos`), read from `[workspace.metadata.dist]`.

use super::config::Workspace;
use super::target::{BuildMethod, TargetTriple};
use anyhow::{bail, Context, Result};
use linkaudit::{Floors, GlibcVersion, OsVersion};

/// Rust itself needs glibc 2.17 (rustc's platform support page), so no lower floor is useful.
const DEFAULT_GLIBC_FLOOR: GlibcVersion = GlibcVersion::new(2, 17);

/// The floor keys as parsed, for [`Workspace`].
pub struct OsFloors {
    pub glibc: GlibcVersion,
    /// `None`: each Apple target keeps Rust's default floor (10.12 x86_64, 11.0 aarch64).
    pub macos: Option<OsVersion>,
    pub build_on_macos: Vec<TargetTriple>,
}

impl OsFloors {
    pub fn from_config(
        glibc: Option<&str>,
        macos: Option<&str>,
        build_on_macos: Option<&[String]>,
    ) -> Result<OsFloors> {
        let glibc = match glibc {
            Some(text) => text.parse::<GlibcVersion>().map_err(|err| {
                anyhow::anyhow!("in [workspace.metadata.dist] glibc-floor: {err}")
            })?,
            None => DEFAULT_GLIBC_FLOOR,
        };
        let macos = macos
            .map(|text| text.parse::<OsVersion>())
            .transpose()
            .map_err(|err| anyhow::anyhow!("in [workspace.metadata.dist] macos-floor: {err}"))?;
        let build_on_macos = build_on_macos
            .unwrap_or_default()
            .iter()
            .map(|t| match TargetTriple::parse(t)? {
                triple if triple.is_apple() => Ok(triple),
                other => {
                    bail!("`{other}` is not an Apple target: list *-apple-darwin targets only")
                }
            })
            .collect::<Result<_>>()
            .context("in [workspace.metadata.dist] build-on-macos")?;
        Ok(OsFloors {
            glibc,
            macos,
            build_on_macos,
        })
    }
}

impl Workspace {
    /// The floors the release promises, which the policies check.
    pub fn floors(&self) -> Floors {
        Floors {
            macos: self.macos_floor,
            ..Floors::with_glibc(self.glibc_floor)
        }
    }

    /// How `triple` is built: Apple targets through cargo-zigbuild here, unless `build-on-macos`
    /// lists them (Apple's own linker and SDK, on the macOS runner).
    pub fn build_method(&self, triple: &TargetTriple) -> Result<BuildMethod> {
        if self.build_on_macos.contains(triple) {
            return Ok(BuildMethod::Apple);
        }
        BuildMethod::for_target(triple)
    }
}
