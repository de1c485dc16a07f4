//! Policies: the rules a release binary must pass, and the violations that name what broke them.

mod elf;
mod macos;
mod windows;

pub use macos::default_macos_floor;
pub use windows::{is_windows_system_dll, WINDOWS_FLOOR};

use crate::facts::{Audit, Format, GlibcVersion, OsVersion};
use crate::target::{Env, Os, Target};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A linkage rule. Parsed from `static`, `glibc:2.17`, `crt-static`, `macos:11.0` or
/// `windows:10.0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// Needs nothing at run time: no interpreter, no needed library (PE: no C runtime DLL).
    Static,
    /// The manylinux rule (auditwheel): only glibc's own libraries, every `GLIBC_x.y` at or below
    /// the floor, no `GLIBC_PRIVATE`.
    Glibc(GlibcVersion),
    /// Windows: no C runtime DLL imported, directly or delay-loaded.
    CrtStatic,
    /// Mach-O: every slice built for macOS with `minos` at or below the floor, and every dylib
    /// either part of macOS (`/usr/lib/`, `/System/Library/`) or shipped beside the binary
    /// (`@rpath/`, `@loader_path/`, `@executable_path/`).
    Macos(OsVersion),
    /// PE: OS and subsystem versions at or below the floor, and every DLL (delay-loaded too)
    /// either a Windows system DLL or shipped beside the binary.
    Windows(OsVersion),
}

/// The floors a release is held to, one per operating system.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Floors {
    pub glibc: GlibcVersion,
    /// `None`: each Apple target keeps Rust's default ([`default_macos_floor`]).
    pub macos: Option<OsVersion>,
    pub windows: OsVersion,
}

impl Floors {
    /// The glibc floor given, Rust's defaults for the others.
    pub fn with_glibc(glibc: GlibcVersion) -> Self {
        Floors {
            glibc,
            macos: None,
            windows: WINDOWS_FLOOR,
        }
    }

    /// The macOS floor of one Apple target.
    pub fn macos_for(&self, target: &Target) -> OsVersion {
        self.macos.unwrap_or_else(|| default_macos_floor(target))
    }
}

/// Several policies a file must pass at once, written joined by `+`: `crt-static+windows:10.0`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Policies(pub Vec<Policy>);

/// One broken rule, with the library or version at fault. The same type is what
/// `dist-manifest.json` records per binary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Violation {
    /// The policy as written on the command line (`glibc:2.17`).
    pub policy: String,
    /// The library, symbol version or interpreter at fault.
    pub culprit: String,
    /// Why it breaks the rule, in words.
    pub rule: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}: {})", self.culprit, self.policy, self.rule)
    }
}

impl FromStr for Policy {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let floor = |version: &str| {
            // `windows:10` reads as Windows 10.
            let version = if version.contains('.') {
                version.to_owned()
            } else {
                format!("{version}.0")
            };
            version.parse::<OsVersion>()
        };
        match text.split_once(':') {
            None if text == "static" => Ok(Policy::Static),
            None if text == "crt-static" => Ok(Policy::CrtStatic),
            Some(("glibc", version)) => Ok(Policy::Glibc(version.parse()?)),
            Some(("macos", version)) => Ok(Policy::Macos(floor(version)?)),
            Some(("windows", version)) => Ok(Policy::Windows(floor(version)?)),
            _ => Err(format!("unknown policy `{text}`: use static, glibc:MAJOR.MINOR (e.g. glibc:2.17), crt-static, macos:MAJOR.MINOR (e.g. macos:11.0) or windows:MAJOR.MINOR (e.g. windows:10.0), several joined by +")),
        }
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Policy::Static => f.write_str("static"),
            Policy::Glibc(floor) => write!(f, "glibc:{floor}"),
            Policy::CrtStatic => f.write_str("crt-static"),
            Policy::Macos(floor) => write!(f, "macos:{floor}"),
            Policy::Windows(floor) => write!(f, "windows:{floor}"),
        }
    }
}

impl FromStr for Policies {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        text.split('+')
            .map(str::parse)
            .collect::<Result<_, _>>()
            .map(Policies)
    }
}

impl fmt::Display for Policies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let words: Vec<String> = self.0.iter().map(Policy::to_string).collect();
        f.write_str(&words.join("+"))
    }
}

impl From<Policy> for Policies {
    fn from(policy: Policy) -> Self {
        Policies(vec![policy])
    }
}

impl Policies {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every way `audit` breaks one of the policies; see [`Policy::check_beside`].
    pub fn check_beside(&self, audit: &Audit, shipped: &dyn Fn(&str) -> bool) -> Vec<Violation> {
        self.0
            .iter()
            .flat_map(|policy| policy.check_beside(audit, shipped))
            .collect()
    }

    /// [`Policies::check_beside`] with nothing shipped beside the file.
    pub fn check(&self, audit: &Audit) -> Vec<Violation> {
        self.check_beside(audit, &|_| false)
    }
}

impl Policy {
    /// The policies a release target implies: musl must be static, gnu must keep to the glibc
    /// floor, Windows must not import a C runtime DLL and keep to the Windows floor, Apple must
    /// keep to the macOS floor. Empty for targets without a rule.
    pub fn for_target(target: &Target, floors: &Floors) -> Policies {
        Policies(match (&target.os, &target.env) {
            (Os::Linux, Env::Musl) => vec![Policy::Static],
            (Os::Linux, Env::Gnu) => vec![Policy::Glibc(floors.glibc)],
            (Os::Windows, _) => vec![Policy::CrtStatic, Policy::Windows(floors.windows)],
            (Os::Darwin, _) => vec![Policy::Macos(floors.macos_for(target))],
            _ => vec![],
        })
    }

    /// Why a file of another format fails this policy.
    fn wrong_format(&self) -> &'static str {
        match self {
            Policy::Static => "static applies to every format",
            Policy::CrtStatic => "crt-static applies to Windows PE files only",
            Policy::Glibc(_) => "a glibc floor applies to ELF files only",
            Policy::Macos(_) => "a macOS floor applies to Mach-O files only",
            Policy::Windows(_) => "a Windows floor applies to PE files only",
        }
    }

    /// Every way `audit` breaks this policy; empty when it passes. Nothing is taken as shipped
    /// beside the file: see [`Policy::check_beside`].
    pub fn check(&self, audit: &Audit) -> Vec<Violation> {
        self.check_beside(audit, &|_| false)
    }

    /// Every way `audit` breaks this policy. `shipped(name)` tells whether a library of that file
    /// name is shipped beside the binary (in its archive or directory), which the macOS and
    /// Windows policies accept.
    pub fn check_beside(&self, audit: &Audit, shipped: &dyn Fn(&str) -> bool) -> Vec<Violation> {
        let mut found = Vec::new();
        let mut violation = |culprit: &str, rule: String| {
            found.push(Violation {
                policy: self.to_string(),
                culprit: culprit.to_owned(),
                rule,
            })
        };
        match (self, audit.format) {
            (Policy::Static | Policy::CrtStatic, Format::Pe) => {
                windows::check_crt_static(audit, &mut violation)
            }
            (Policy::Static, _) => elf::check_static(audit, &mut violation),
            (Policy::Glibc(floor), Format::Elf) => elf::check_glibc(audit, *floor, &mut violation),
            (Policy::Macos(floor), Format::MachO) => {
                macos::check(audit, *floor, shipped, &mut violation)
            }
            (Policy::Windows(floor), Format::Pe) => {
                windows::check(audit, *floor, shipped, &mut violation)
            }
            (Policy::CrtStatic | Policy::Glibc(_) | Policy::Macos(_) | Policy::Windows(_), _) => {
                violation(&audit.format.to_string(), self.wrong_format().into())
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_parse_and_print_back() {
        for text in [
            "static",
            "crt-static",
            "glibc:2.17",
            "glibc:2.34",
            "macos:11.0",
            "macos:10.12",
            "windows:10.0",
        ] {
            assert_eq!(text.parse::<Policy>().unwrap().to_string(), text);
        }
        assert_eq!(
            "windows:10".parse::<Policy>(),
            Ok(Policy::Windows(WINDOWS_FLOOR))
        );
        let both: Policies = "crt-static+windows:10".parse().unwrap();
        assert_eq!(both.to_string(), "crt-static+windows:10.0");
        assert!("crt-static+macos".parse::<Policies>().is_err());
        assert!("macos:eleven".parse::<Policy>().is_err());
        assert!("glibc:2".parse::<Policy>().is_err());
        assert!("glibc:two".parse::<Policy>().is_err());
        assert!("dynamic"
            .parse::<Policy>()
            .unwrap_err()
            .contains("unknown policy"));
    }

    #[test]
    fn glibc_versions_order_numerically() {
        let v = |s: &str| s.parse::<GlibcVersion>().unwrap();
        assert!(v("2.9") < v("2.17"));
        assert!(v("2.17") < v("2.17.1"));
        assert_eq!(
            GlibcVersion::from_symbol_version("GLIBC_2.2.5"),
            Some(v("2.2.5"))
        );
        assert_eq!(GlibcVersion::from_symbol_version("GLIBC_PRIVATE"), None);
    }
}
