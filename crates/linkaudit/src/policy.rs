//! Policies: the rules a release binary must pass, and the violations that name what broke them.

use crate::facts::{Audit, Format, GlibcVersion};
use crate::target::{Env, Os, Target};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A linkage rule. Parsed from `static`, `glibc:2.17` or `crt-static`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// Needs nothing at run time: no interpreter, no needed library (PE: no C runtime DLL).
    Static,
    /// The manylinux rule (auditwheel): only glibc's own libraries, every `GLIBC_x.y` at or below
    /// the floor, no `GLIBC_PRIVATE`.
    Glibc(GlibcVersion),
    /// Windows: no C runtime DLL imported, directly or delay-loaded.
    CrtStatic,
}

/// The libraries glibc itself provides, which every distro has (manylinux policy).
pub const GLIBC_LIBRARIES: &[&str] = &[
    "libc.so.6",
    "libm.so.6",
    "libpthread.so.0",
    "libdl.so.2",
    "librt.so.1",
    "libgcc_s.so.1",
    "libutil.so.1",
    "ld-linux-x86-64.so.2",
    "ld-linux-aarch64.so.1",
    "ld-linux.so.2",
    "ld-linux-armhf.so.3",
    "ld64.so.2",
    "ld64.so.1",
    "ld-linux-riscv64-lp64d.so.1",
];

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
        match text {
            "static" => Ok(Policy::Static),
            "crt-static" => Ok(Policy::CrtStatic),
            _ => match text.strip_prefix("glibc:") {
                Some(floor) => Ok(Policy::Glibc(floor.parse()?)),
                None => Err(format!("unknown policy `{text}`: use static, glibc:MAJOR.MINOR (e.g. glibc:2.17) or crt-static")),
            },
        }
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Policy::Static => f.write_str("static"),
            Policy::Glibc(floor) => write!(f, "glibc:{floor}"),
            Policy::CrtStatic => f.write_str("crt-static"),
        }
    }
}

impl Policy {
    /// The policy a release target implies: musl must be static, gnu must keep to the glibc floor,
    /// Windows must not import a C runtime DLL. `None` for targets without a rule (Apple).
    pub fn for_target(target: &Target, glibc_floor: GlibcVersion) -> Option<Policy> {
        match (&target.os, &target.env) {
            (Os::Linux, Env::Musl) => Some(Policy::Static),
            (Os::Linux, Env::Gnu) => Some(Policy::Glibc(glibc_floor)),
            (Os::Windows, _) => Some(Policy::CrtStatic),
            _ => None,
        }
    }

    /// Every way `audit` breaks this policy; empty when it passes.
    pub fn check(&self, audit: &Audit) -> Vec<Violation> {
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
                for dll in &audit.crt_dlls {
                    violation(
                        dll,
                        "imports a C runtime DLL; link with `-C target-feature=+crt-static`".into(),
                    );
                }
            }
            (Policy::CrtStatic, _) => violation(
                &audit.format.to_string(),
                "crt-static applies to Windows PE files only".into(),
            ),
            (Policy::Static, _) => {
                if let Some(interp) = &audit.interpreter {
                    violation(
                        interp,
                        "needs a program interpreter (dynamic loader)".into(),
                    );
                }
                for lib in &audit.needed {
                    violation(lib, "needs a shared library at run time".into());
                }
            }
            (Policy::Glibc(floor), Format::Elf) => {
                for lib in audit
                    .needed
                    .iter()
                    .filter(|lib| !GLIBC_LIBRARIES.contains(&lib.as_str()))
                {
                    violation(lib, "is not one of glibc's own libraries".into());
                }
                for (lib, version) in audit.glibc_versions() {
                    match GlibcVersion::from_symbol_version(version) {
                        Some(needed) if needed <= *floor => {}
                        Some(_) => violation(
                            version,
                            format!("required from {lib} is above the glibc floor {floor}"),
                        ),
                        None => violation(
                            version,
                            format!("required from {lib} is not a public glibc version"),
                        ),
                    }
                }
            }
            (Policy::Glibc(_), _) => violation(
                &audit.format.to_string(),
                "a glibc floor applies to ELF files only".into(),
            ),
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_parse_and_print_back() {
        for text in ["static", "crt-static", "glibc:2.17", "glibc:2.34"] {
            assert_eq!(text.parse::<Policy>().unwrap().to_string(), text);
        }
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
