//! The one version of a release: every shipped package's Cargo.toml version, and the tag
//! `v<version>` that publishes it. A small SemVer 2.0 parser rather than the `semver` crate:
//! only the shape and the pre-release part matter here, and the xtask stays lean.

use crate::workspace::config::Package;
use anyhow::{bail, Result};
use std::fmt;

/// A SemVer 2.0 version (`1.2.3`, `1.0.0-rc.1`, `1.0.0+build.5`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version {
    text: String,
    /// The part after `-` and before `+`; empty for a release.
    pre: String,
}

impl Version {
    pub fn parse(text: &str) -> Result<Version, String> {
        let (rest, build) = match text.split_once('+') {
            Some((rest, build)) => (rest, Some(build)),
            None => (text, None),
        };
        let (core, pre) = match rest.split_once('-') {
            Some((core, pre)) => (core, Some(pre)),
            None => (rest, None),
        };
        let numeric = |s: &str| {
            !s.is_empty()
                && s.bytes().all(|b| b.is_ascii_digit())
                && (s == "0" || !s.starts_with('0'))
        };
        let identifiers_ok = |s: &str, no_leading_zero: bool| {
            s.split('.').all(|id| {
                !id.is_empty()
                    && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    && !(no_leading_zero
                        && id.len() > 1
                        && id.starts_with('0')
                        && id.bytes().all(|b| b.is_ascii_digit()))
            })
        };
        let parts: Vec<&str> = core.split('.').collect();
        let ok = parts.len() == 3
            && parts.iter().all(|p| numeric(p))
            && pre.is_none_or(|p| identifiers_ok(p, true))
            && build.is_none_or(|b| identifiers_ok(b, false));
        if !ok {
            return Err(format!(
                "`{text}` is not a SemVer version (MAJOR.MINOR.PATCH[-PRE][+BUILD], such as 1.2.0 \
                 or 1.0.0-rc.1)"
            ));
        }
        Ok(Version {
            text: text.to_owned(),
            pre: pre.unwrap_or_default().to_owned(),
        })
    }

    /// A SemVer pre-release (`-rc.1`, `-beta`): published as a GitHub pre-release, never Latest.
    pub fn is_prerelease(&self) -> bool {
        !self.pre.is_empty()
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A release tag: `v` and a SemVer version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tag {
    pub version: Version,
}

impl Tag {
    pub fn parse(text: &str) -> Result<Tag> {
        let Some(version) = text.strip_prefix('v') else {
            bail!(
                "tag `{text}` does not start with `v`: release tags are v<version>, such as v1.2.0"
            );
        };
        match Version::parse(version) {
            Ok(version) => Ok(Tag { version }),
            Err(problem) => bail!("tag `{text}`: {problem}; release tags are v<version>"),
        }
    }

    pub fn name(&self) -> String {
        format!("v{}", self.version)
    }
}

/// The version every shipped package has; an error naming them when they disagree.
pub fn shipped_version(packages: &[Package]) -> Result<Version> {
    let Some(first) = packages.first() else {
        bail!("nothing ships: no package to take the release version from");
    };
    if let Some(other) = packages.iter().find(|p| p.version != first.version) {
        bail!(
            "shipped packages disagree on the version ({} {}, {} {}): one release has one \
             version; set the same `version` in each Cargo.toml (or `version.workspace = true`)",
            first.name,
            first.version,
            other.name,
            other.version
        );
    }
    Version::parse(&first.version).map_err(|problem| {
        anyhow::anyhow!(
            "package {}: {problem}; fix its Cargo.toml version",
            first.name
        )
    })
}

/// The tag must name exactly the version that ships, or the release, archives, wheels and
/// install.sh would disagree about what they are.
pub fn check_tag(tag: &Tag, version: &Version) -> Result<()> {
    if tag.version != *version {
        bail!(
            "tag {} does not match the shipped version {version}: tag the commit whose Cargo.toml \
             says {} (or bump Cargo.toml to {} and tag again)",
            tag.name(),
            tag.version,
            tag.version
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package(name: &str, version: &str) -> Package {
        Package {
            name: name.into(),
            version: version.into(),
            ..Package::default()
        }
    }

    #[test]
    fn semver_and_prereleases() {
        for (text, pre) in [
            ("1.2.0", false),
            ("0.1.0", false),
            ("1.0.0-rc.1", true),
            ("1.0.0-alpha-2.beta", true),
            ("1.0.0+build.07", false),
        ] {
            assert_eq!(Version::parse(text).unwrap().is_prerelease(), pre, "{text}");
        }
        for bad in [
            "1.2",
            "1.2.3.4",
            "01.2.3",
            "1.2.3-",
            "1.2.3-01",
            "1.2.x",
            "",
            "1.2.3-a..b",
        ] {
            assert!(Version::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tags_are_v_and_semver_and_match_the_packages() {
        let version = shipped_version(&[package("a", "1.2.0"), package("b", "1.2.0")]).unwrap();
        assert!(check_tag(&Tag::parse("v1.2.0").unwrap(), &version).is_ok());
        let err = check_tag(&Tag::parse("v1.3.0").unwrap(), &version).unwrap_err();
        assert!(
            err.to_string()
                .contains("does not match the shipped version 1.2.0"),
            "{err}"
        );
        for (bad, expected) in [
            ("1.2.0", "does not start with `v`"),
            ("v1.2", "not a SemVer"),
        ] {
            let err = Tag::parse(bad).unwrap_err().to_string();
            assert!(err.contains(expected), "{bad}: {err}");
        }
        let err = shipped_version(&[package("a", "1.2.0"), package("b", "1.3.0")]).unwrap_err();
        assert!(err.to_string().contains("disagree"), "{err}");
    }
}
