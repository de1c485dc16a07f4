//! Names in a release directory and what they claim: `<package>-<target>.tar.gz` (`.zip` for
//! Windows targets) holding one top directory `<package>-<target>/`, and wheels
//! `<name>-<version>-py3-none-<platform tags>.whl`. A reader takes the target from the name,
//! not from the manifest's word, and checks the two agree.

use crate::target::{Os, Target};

/// A release archive's file name: `<package>-<target>.<ext>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArchiveName {
    pub package: String,
    pub target: Target,
}

impl ArchiveName {
    /// The archive name for `package` and `target`.
    pub fn format(package: &str, target: &Target) -> String {
        format!("{package}-{target}.{}", target.archive_extension())
    }

    /// Parses a file name the writer could have written: a known target after the package, and
    /// the extension that target's archives have. `None` otherwise.
    pub fn parse(file_name: &str) -> Option<ArchiveName> {
        let stem = file_name
            .strip_suffix(".tar.gz")
            .or_else(|| file_name.strip_suffix(".zip"))?;
        stem.match_indices('-').find_map(|(at, _)| {
            let target = stem[at + 1..].parse::<Target>().ok()?;
            let package = &stem[..at];
            let name = ArchiveName {
                package: package.to_owned(),
                target,
            };
            let writable = name.target.is_release_target()
                && !package.is_empty()
                && Self::format(package, &name.target) == file_name;
            writable.then_some(name)
        })
    }

    /// The one top directory the archive holds: its name without the extension.
    pub fn top_dir(&self) -> String {
        format!("{}-{}", self.package, self.target)
    }
}

impl std::fmt::Display for ArchiveName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&Self::format(&self.package, &self.target))
    }
}

/// True for the names a reader treats as archives (whether or not they parse).
pub fn is_archive(name: &str) -> bool {
    [".tar.gz", ".tgz", ".zip", ".whl"]
        .iter()
        .any(|ext| name.ends_with(ext))
}

/// What one wheel platform tag claims about the binaries inside.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WheelPlatform {
    pub os: Os,
    /// Target architecture spelling (`x86_64`, `aarch64`...).
    pub arch: String,
    /// `manylinux_2_17_*` and its aliases: the oldest glibc the wheel promises to run on.
    pub glibc: Option<crate::GlibcVersion>,
    /// `musllinux_*`: the wheel promises to run on musl systems.
    pub musl: bool,
    /// `macosx_11_0_*`: the oldest macOS the wheel promises to run on.
    pub macos: Option<crate::OsVersion>,
}

/// A wheel's file name: `<name>-<version>-py3-none-<platform>[.<platform>...].whl`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WheelName {
    pub name: String,
    pub version: String,
    pub platforms: Vec<WheelPlatform>,
}

impl WheelName {
    pub fn parse(file_name: &str) -> Result<WheelName, String> {
        let stem = file_name
            .strip_suffix(".whl")
            .ok_or("does not end in .whl")?;
        let [name, version, "py3", "none", platforms] = stem.split('-').collect::<Vec<_>>()[..]
        else {
            return Err("is not named <name>-<version>-py3-none-<platform>.whl".into());
        };
        let platforms = platforms
            .split('.')
            .map(|tag| platform(tag).ok_or_else(|| format!("has the unknown platform tag {tag}")))
            .collect::<Result<_, _>>()?;
        Ok(WheelName {
            name: name.to_owned(),
            version: version.to_owned(),
            platforms,
        })
    }

    /// The `<name>-<version>.data/scripts/` directory pip installs executables from.
    pub fn scripts_dir(&self) -> String {
        format!("{}-{}.data/scripts/", self.name, self.version)
    }
}

fn platform(tag: &str) -> Option<WheelPlatform> {
    let linux_arch = |arch: &str| match arch {
        "ppc64le" => "powerpc64le".to_owned(),
        "armv7l" => "armv7".to_owned(),
        "riscv64" => "riscv64gc".to_owned(),
        other => other.to_owned(),
    };
    let linux = |arch: &str, glibc, musl| WheelPlatform {
        os: Os::Linux,
        arch: linux_arch(arch),
        glibc,
        musl,
        macos: None,
    };
    let other = |os, arch: &str| WheelPlatform {
        os,
        arch: arch.to_owned(),
        glibc: None,
        musl: false,
        macos: None,
    };
    match tag {
        "win_amd64" => return Some(other(Os::Windows, "x86_64")),
        "win_arm64" => return Some(other(Os::Windows, "aarch64")),
        "win32" => return Some(other(Os::Windows, "i686")),
        _ => {}
    }
    if let Some(rest) = tag.strip_prefix("macosx_") {
        let mut parts = rest.splitn(3, '_');
        let (major, minor, arch) = (parts.next()?, parts.next()?, parts.next()?);
        let arch = match arch {
            "arm64" => "aarch64",
            "x86_64" => "x86_64",
            _ => return None,
        };
        let macos = Some(format!("{major}.{minor}").parse().ok()?);
        return Some(WheelPlatform {
            macos,
            ..other(Os::Darwin, arch)
        });
    }
    if let Some(rest) = tag.strip_prefix("musllinux_") {
        return Some(linux(rest.splitn(3, '_').nth(2)?, None, true));
    }
    // PEP 599/571/513's legacy aliases of manylinux_2_17, _2_12 and _2_5.
    for (alias, floor) in [
        ("manylinux2014_", "2.17"),
        ("manylinux2010_", "2.12"),
        ("manylinux1_", "2.5"),
    ] {
        if let Some(arch) = tag.strip_prefix(alias) {
            return Some(linux(arch, floor.parse().ok(), false));
        }
    }
    let mut parts = tag.strip_prefix("manylinux_")?.splitn(3, '_');
    let (major, minor, arch) = (parts.next()?, parts.next()?, parts.next()?);
    let floor = format!("{major}.{minor}").parse().ok()?;
    Some(linux(arch, Some(floor), false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_names_carry_package_and_target() {
        let name = ArchiveName::parse("my-tool-x86_64-unknown-linux-musl.tar.gz").unwrap();
        assert_eq!(name.package, "my-tool");
        assert_eq!(name.target.as_str(), "x86_64-unknown-linux-musl");
        assert_eq!(name.top_dir(), "my-tool-x86_64-unknown-linux-musl");
        let win = ArchiveName::parse("t-aarch64-pc-windows-msvc.zip").unwrap();
        assert_eq!(win.target.binary_format(), Some(crate::Format::Pe));
        assert!(ArchiveName::parse("t-aarch64-apple-darwin.tar.gz").is_some());
        for wrong in [
            "t-x86_64-pc-windows-msvc.tar.gz",
            "t-x86_64-unknown-linux-gnu.zip",
            "x86_64-unknown-linux-gnu.tar.gz",
            "t-sparc-unknown-linux-gnu.tar.gz",
            "t-x86_64-unknown-linux-gnu.tgz",
        ] {
            assert_eq!(ArchiveName::parse(wrong), None, "{wrong}");
        }
    }

    #[test]
    fn wheel_tags_say_os_arch_and_libc() {
        let wheel = WheelName::parse(
            "t-1.0-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.musllinux_1_1_x86_64.whl",
        )
        .unwrap();
        assert_eq!(wheel.scripts_dir(), "t-1.0.data/scripts/");
        assert_eq!(wheel.platforms.len(), 3);
        assert!(wheel
            .platforms
            .iter()
            .all(|p| p.os == Os::Linux && p.arch == "x86_64"));
        assert_eq!(wheel.platforms[0].glibc, "2.17".parse().ok());
        assert!(wheel.platforms[2].musl);
        let mac = WheelName::parse("t-1.0-py3-none-macosx_11_0_arm64.whl").unwrap();
        assert_eq!(
            (&mac.platforms[0].os, mac.platforms[0].arch.as_str()),
            (&Os::Darwin, "aarch64")
        );
        assert_eq!(mac.platforms[0].macos, Some(crate::OsVersion::new(11, 0)));
        assert!(WheelName::parse("t-1.0-py3-none-macosx_eleven_0_arm64.whl").is_err());
        assert!(WheelName::parse("t-1.0-py3-none-beos_x86.whl").is_err());
        assert!(WheelName::parse("t-1.0-cp312-none-win_amd64.whl").is_err());
    }
}
