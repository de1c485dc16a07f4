//! What a wheel is called: its platform tags, chosen from the target and the matrix, and the
//! package name and version in Python's spellings (PEP 427, PEP 440, PEP 503).

use crate::workspace::target::TargetTriple;
use anyhow::{bail, Result};
use linkaudit::target::{Arch, Env, Os, Target, Vendor};
use linkaudit::GlibcVersion;

/// The platform tags of one wheel, most specific first, e.g. `manylinux_2_17_x86_64`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlatformTags(pub(super) Vec<String>);

impl PlatformTags {
    /// The compressed tag set of the file name: tags joined with `.`.
    pub fn compressed(&self) -> String {
        self.0.join(".")
    }
}

/// The platform tags for `triple`'s wheel, or why it gets none. `matrix` is the whole target list
/// of `[workspace.metadata.dist]`, so the answer does not depend on which targets this run builds;
/// a gnu wheel is tagged with the glibc floor its binaries were checked against.
pub fn platform_tags(
    triple: &TargetTriple,
    matrix: &[TargetTriple],
    glibc_floor: GlibcVersion,
) -> std::result::Result<PlatformTags, String> {
    let arch = triple.arch();
    let t = triple.target();
    let has = |wanted: fn(&Target) -> bool| {
        matrix
            .iter()
            .any(|m| m.arch() == arch && wanted(m.target()))
    };
    let tags = match (&t.vendor, &t.os, &t.env) {
        _ if is_linux_musl(t) => {
            let a = linux_arch(arch)?;
            vec![
                format!("manylinux_2_17_{a}"),
                format!("manylinux2014_{a}"),
                format!("musllinux_1_1_{a}"),
            ]
        }
        (_, Os::Linux, Env::Gnu) => {
            if has(is_linux_musl) {
                return Err(format!(
                    "the {arch} musl wheel covers glibc systems too (one wheel per platform)"
                ));
            }
            manylinux_tags(linux_arch(arch)?, glibc_floor)
        }
        (_, Os::Windows, Env::Gnu) if t.abi.is_empty() && has(is_windows_msvc) => {
            return Err(format!(
                "the {arch} windows-msvc build gets the wheel (one wheel per platform)"
            ));
        }
        (_, Os::Windows, _) => vec![match arch {
            Arch::X86_64 => "win_amd64",
            Arch::Aarch64 => "win_arm64",
            Arch::I686 => "win32",
            _ => {
                return Err(format!(
                    "no Python platform tag is known for {arch} Windows"
                ))
            }
        }
        .to_owned()],
        (Vendor::Apple, Os::Darwin, Env::None) => vec![match arch {
            Arch::Aarch64 => "macosx_11_0_arm64",
            Arch::X86_64 => "macosx_10_12_x86_64",
            _ => return Err(format!("no Python platform tag is known for {arch} macOS")),
        }
        .to_owned()],
        _ => return Err(format!("no Python platform tag is known for {triple}")),
    };
    Ok(PlatformTags(tags))
}

/// `*-linux-musl` and `*-linux-musleabihf`: static binaries that run on glibc systems too.
fn is_linux_musl(t: &Target) -> bool {
    matches!(
        (&t.os, &t.env, t.abi.as_str()),
        (Os::Linux, Env::Musl, "" | "eabihf")
    )
}

fn is_windows_msvc(t: &Target) -> bool {
    matches!(
        (&t.os, &t.env, t.abi.as_str()),
        (Os::Windows, Env::Msvc, "")
    )
}

/// The architecture as Linux platform tags spell it.
fn linux_arch(arch: &Arch) -> std::result::Result<&str, String> {
    Ok(match arch {
        Arch::X86_64 | Arch::Aarch64 | Arch::I686 | Arch::S390x => arch.as_str(),
        Arch::Powerpc64le => "ppc64le",
        Arch::Armv7 => "armv7l",
        Arch::Riscv64gc => "riscv64",
        _ => return Err(format!("no Python platform tag is known for {arch} Linux")),
    })
}

/// `manylinux_<floor>_<arch>`, and the legacy alias pip versions before 20.3 know (PEP 599's
/// manylinux2014 is 2.17).
fn manylinux_tags(a: &str, glibc_floor: GlibcVersion) -> Vec<String> {
    let floor = glibc_floor.to_string();
    let mut tags = vec![format!("manylinux_{}_{a}", floor.replace('.', "_"))];
    if let Some(alias) = match floor.as_str() {
        "2.17" => Some("manylinux2014"),
        "2.12" => Some("manylinux2010"),
        "2.5" => Some("manylinux1"),
        _ => None,
    } {
        tags.push(format!("{alias}_{a}"));
    }
    tags
}

/// A distribution name as wheel file names spell it: runs of `-`, `_`, `.` become one `_`,
/// lowercase (the binary distribution format's escaping).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WheelName(pub(super) String);

impl WheelName {
    pub fn new(package: &str) -> WheelName {
        let mut out = String::new();
        for c in package.chars() {
            if matches!(c, '-' | '_' | '.') {
                if !out.ends_with('_') {
                    out.push('_');
                }
            } else {
                out.push(c.to_ascii_lowercase());
            }
        }
        WheelName(out)
    }
}

/// A Cargo (semver) version written as a Python (PEP 440) version: `1.2.3`, `1.2.3-rc.1` ->
/// `1.2.3rc1`, `-alpha.2` -> `a2`, `-beta` -> `b0`. Other pre-releases and build metadata have no
/// PEP 440 spelling that PyPI accepts, so they are errors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PyVersion(pub(super) String);

impl PyVersion {
    pub fn from_semver(version: &str) -> Result<PyVersion> {
        let hint = || {
            format!(
                "version {version} has no Python (PEP 440) spelling: wheels need X.Y.Z or a \
                 -alpha.N, -beta.N or -rc.N pre-release"
            )
        };
        if version.contains('+') {
            bail!("{}", hint());
        }
        let (release, pre) = match version.split_once('-') {
            Some((release, pre)) => (release, Some(pre)),
            None => (version, None),
        };
        if release.is_empty() || !release.split('.').all(is_number) {
            bail!("{}", hint());
        }
        let pre = match pre {
            None => String::new(),
            Some(pre) => {
                let (label, number) = pre.split_once('.').unwrap_or((pre, "0"));
                let label = match label {
                    "alpha" | "a" => "a",
                    "beta" | "b" => "b",
                    "rc" => "rc",
                    _ => bail!("{}", hint()),
                };
                if !is_number(number) {
                    bail!("{}", hint());
                }
                format!("{label}{number}")
            }
        };
        Ok(PyVersion(format!("{release}{pre}")))
    }
}

fn is_number(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn triples(list: &[&str]) -> Vec<TargetTriple> {
        list.iter()
            .map(|t| TargetTriple::parse(t).unwrap())
            .collect()
    }

    #[test]
    fn each_platform_gets_its_tags_and_one_wheel() {
        let matrix = triples(&[
            "x86_64-unknown-linux-gnu",
            "x86_64-unknown-linux-musl",
            "aarch64-unknown-linux-musl",
            "armv7-unknown-linux-gnueabihf",
            "x86_64-pc-windows-msvc",
            "aarch64-pc-windows-msvc",
            "x86_64-pc-windows-gnu",
            "x86_64-apple-darwin",
            "aarch64-apple-darwin",
        ]);
        let floor = GlibcVersion::new(2, 17);
        let tags = |t: &str| platform_tags(&TargetTriple::parse(t).unwrap(), &matrix, floor);
        let ok = |t: &str| tags(t).unwrap().compressed();
        assert_eq!(
            ok("x86_64-unknown-linux-musl"),
            "manylinux_2_17_x86_64.manylinux2014_x86_64.musllinux_1_1_x86_64"
        );
        assert_eq!(
            ok("aarch64-unknown-linux-musl"),
            "manylinux_2_17_aarch64.manylinux2014_aarch64.musllinux_1_1_aarch64"
        );
        assert_eq!(
            ok("armv7-unknown-linux-gnueabihf"),
            "manylinux_2_17_armv7l.manylinux2014_armv7l"
        );
        assert_eq!(ok("x86_64-pc-windows-msvc"), "win_amd64");
        assert_eq!(ok("aarch64-pc-windows-msvc"), "win_arm64");
        assert_eq!(ok("aarch64-apple-darwin"), "macosx_11_0_arm64");
        assert_eq!(ok("x86_64-apple-darwin"), "macosx_10_12_x86_64");
        assert!(tags("x86_64-unknown-linux-gnu")
            .unwrap_err()
            .contains("musl wheel covers glibc"));
        assert!(tags("x86_64-pc-windows-gnu")
            .unwrap_err()
            .contains("windows-msvc build gets the wheel"));
        // Without musl in the matrix, gnu gets a manylinux wheel.
        let gnu_only = triples(&["aarch64-unknown-linux-gnu"]);
        assert_eq!(
            platform_tags(&gnu_only[0], &gnu_only, floor)
                .unwrap()
                .compressed(),
            "manylinux_2_17_aarch64.manylinux2014_aarch64"
        );
        // ...tagged with the floor its binaries were checked against.
        assert_eq!(
            platform_tags(&gnu_only[0], &gnu_only, GlibcVersion::new(2, 28))
                .unwrap()
                .compressed(),
            "manylinux_2_28_aarch64"
        );
        let odd = triples(&["mips64-unknown-linux-muslabi64"]);
        assert!(platform_tags(&odd[0], &odd, floor).is_err());
    }

    #[test]
    fn names_and_versions_follow_the_python_spellings() {
        assert_eq!(WheelName::new("fixture-cli").0, "fixture_cli");
        assert_eq!(WheelName::new("My.Tool--x_y").0, "my_tool_x_y");
        for (semver, python) in [
            ("0.1.0", "0.1.0"),
            ("1.2.3-rc.1", "1.2.3rc1"),
            ("1.2.3-alpha.2", "1.2.3a2"),
            ("1.2.3-beta", "1.2.3b0"),
        ] {
            assert_eq!(PyVersion::from_semver(semver).unwrap().0, python);
        }
        for bad in ["1.2.3+build.5", "1.2.3-pre.1", "1.2.3-rc.x", "1.x.3"] {
            let err = PyVersion::from_semver(bad).unwrap_err().to_string();
            assert!(err.contains("PEP 440"), "{bad}: {err}");
        }
    }
}
