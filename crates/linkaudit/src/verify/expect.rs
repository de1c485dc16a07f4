//! What an archive's binaries must be, taken from what the file is and claims to be: the target
//! in the archive's name, or a wheel's platform tags, checked against the manifest (which alone
//! is never trusted: whoever rewrites the checksums can rewrite it too).

use crate::contract::naming::{ArchiveName, WheelName, WheelPlatform};
use crate::contract::{Manifest, MANIFEST};
use crate::target::{Env, Os, Target};
use crate::{Floors, Policies, Policy};
use std::collections::BTreeSet;

/// The rules for one archive's entries.
pub(super) struct Expected {
    /// `None` when the name says no target: entries are still checked for safety.
    pub target: Option<Target>,
    /// Empty for a target without a rule.
    pub policy: Policies,
    /// Release archives hold one top directory; wheels have none.
    pub top_dir: Option<String>,
    /// A wheel's `<name>-<version>.data/scripts/`: every file there must be a binary.
    pub scripts_dir: Option<String>,
    /// The manifest's `binaries[].path` for this archive.
    pub binaries: BTreeSet<String>,
}

impl Expected {
    /// For an archive whose name could not be understood: only path safety is checked.
    pub fn unknown(archive: &str) -> Expected {
        let stem = archive.rsplit_once('.').map_or(archive, |(stem, _)| stem);
        Expected {
            target: None,
            policy: Policies::default(),
            top_dir: (!archive.ends_with(".whl")).then(|| stem.trim_end_matches(".tar").to_owned()),
            scripts_dir: None,
            binaries: BTreeSet::new(),
        }
    }

    /// The rules for `archive`; a disagreement with the manifest goes into `problems` and the
    /// rules still come from the name. `Err` when the name says no target at all.
    pub fn for_archive(
        archive: &str,
        manifest: Option<&Manifest>,
        floors: &Floors,
        problems: &mut Vec<String>,
    ) -> Result<Expected, String> {
        let described = manifest
            .into_iter()
            .flat_map(|m| &m.artifacts)
            .find(|a| a.archive == archive);
        let binaries = described
            .iter()
            .flat_map(|a| &a.binaries)
            .map(|b| b.path.clone())
            .collect();
        if archive.ends_with(".whl") {
            let wheel = WheelName::parse(archive).map_err(|err| format!("wheel name {err}"))?;
            let claimed = described.map(|a| a.target.as_str());
            let (target, policy) = match wheel_target(&wheel.platforms, claimed, floors) {
                Ok(found) => found,
                Err(problem) => {
                    problems.push(problem);
                    wheel_target(&wheel.platforms, None, floors)?
                }
            };
            return Ok(Expected {
                target: Some(target),
                policy,
                top_dir: None,
                scripts_dir: Some(wheel.scripts_dir()),
                binaries,
            });
        }
        let name = ArchiveName::parse(archive).ok_or_else(|| {
            "the name is not `<package>-<target>.tar.gz` (`.zip` for Windows) for a known target, so no policy can be taken from it".to_owned()
        })?;
        if let Some(artifact) = described {
            if artifact.target != name.target.as_str() {
                problems.push(format!(
                    "the name says target {} but {MANIFEST} says {}: a mismatch is refused",
                    name.target, artifact.target
                ));
            }
        }
        Ok(Expected {
            policy: Policy::for_target(&name.target, floors),
            top_dir: Some(name.top_dir()),
            target: Some(name.target),
            scripts_dir: None,
            binaries,
        })
    }
}

/// The target a wheel carries and its policy: every platform tag must fit the manifest's target
/// (OS, architecture; a musllinux tag needs a musl build); a wheel the manifest does not list
/// gets the target its tags imply. A gnu build is held to the lowest glibc its tags promise, an
/// Apple build to the lowest macOS.
fn wheel_target(
    platforms: &[WheelPlatform],
    claimed: Option<&str>,
    floors: &Floors,
) -> Result<(Target, Policies), String> {
    let first = platforms
        .first()
        .ok_or("the wheel name has no platform tag")?;
    let musl = platforms.iter().any(|p| p.musl);
    let implied = match first.os {
        Os::Linux if musl => format!("{}-unknown-linux-musl", first.arch),
        Os::Linux => format!("{}-unknown-linux-gnu", first.arch),
        Os::Windows => format!("{}-pc-windows-msvc", first.arch),
        Os::Darwin => format!("{}-apple-darwin", first.arch),
        Os::Other(ref os) => return Err(format!("its platform tag names the OS {os}")),
    };
    let triple = claimed.unwrap_or(&implied);
    let target = triple
        .parse::<Target>()
        .ok()
        .filter(Target::is_release_target)
        .ok_or_else(|| format!("{MANIFEST} says target {triple}, which is not a release target"))?;
    for platform in platforms {
        let fits = platform.os == target.os
            && target.arch == *platform.arch
            && (!platform.musl || target.env == Env::Musl);
        if !fits {
            return Err(format!("its platform tags claim {:?} {} but it carries the {target} build: the tag and the manifest disagree", platform.os, platform.arch));
        }
    }
    let tag_floor = platforms.iter().filter_map(|p| p.glibc).min();
    let macos = platforms.iter().filter_map(|p| p.macos).min();
    let floors = Floors {
        glibc: tag_floor.map_or(floors.glibc, |tag| tag.min(floors.glibc)),
        macos: macos
            .map(|tag| tag.min(floors.macos_for(&target)))
            .or(floors.macos),
        windows: floors.windows,
    };
    let policy = Policy::for_target(&target, &floors);
    Ok((target, policy))
}
