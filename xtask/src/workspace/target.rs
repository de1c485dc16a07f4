//! Target triples, how each one is built, and whether this host can build it.

use anyhow::{bail, Result};
use linkaudit::target::{Arch, Env, Os, Target, Vendor};
use std::collections::BTreeSet;
use std::fmt;

/// A rustc target triple such as `x86_64-unknown-linux-musl`, parsed once into linkaudit's
/// `Target` (arch / vendor / OS / env). Only the spelling is checked here; `plan` checks it against
/// rustc's and rustup's lists.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TargetTriple(Target);

impl TargetTriple {
    pub fn parse(text: &str) -> Result<Self> {
        // cargo-zigbuild's `x86_64-unknown-linux-gnu.2.17` spelling is an implementation detail of
        // the build; the floor is one setting for the whole matrix.
        if text.contains("-gnu.") {
            bail!(
                "`{text}` is not a target triple: give the plain triple and set the glibc floor \
                 with `glibc-floor` in [workspace.metadata.dist]"
            );
        }
        Ok(TargetTriple(text.parse()?))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The parsed components, for decisions that match on them.
    pub fn target(&self) -> &Target {
        &self.0
    }

    pub fn arch(&self) -> &Arch {
        &self.0.arch
    }

    pub fn is_windows(&self) -> bool {
        self.0.os == Os::Windows
    }

    pub fn is_apple(&self) -> bool {
        self.0.vendor == Vendor::Apple
    }

    pub fn is_linux(&self) -> bool {
        self.0.os == Os::Linux
    }

    pub fn is_linux_gnu(&self) -> bool {
        matches!((&self.0.os, &self.0.env), (Os::Linux, Env::Gnu))
    }

    pub fn exe_suffix(&self) -> &'static str {
        self.0.exe_suffix()
    }
}

impl AsRef<std::ffi::OsStr> for TargetTriple {
    fn as_ref(&self) -> &std::ffi::OsStr {
        self.as_str().as_ref()
    }
}

impl fmt::Display for TargetTriple {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// How a target is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BuildMethod {
    /// `cargo zigbuild`: zig links Linux targets for any host, and pins the glibc floor at link
    /// time with the `<triple>.<floor>` spelling.
    Zigbuild,
    /// Plain `cargo build` with the target's default linker: windows-gnu with mingw-w64's gcc,
    /// which imports msvcrt.dll (a system DLL). zig's windows-gnu links the UCRT dynamically
    /// (api-ms-win-crt-*.dll), which the crt-static policy refuses.
    Cargo,
    /// windows-msvc: MSVC's link.exe and the Windows SDK, on Windows or through cargo-xwin.
    Msvc,
    /// Apple targets listed in `build-on-macos`: Apple's linker and SDK, on macOS only. Every
    /// other Apple target is `Zigbuild`: zig links a Mach-O on Linux without the SDK (crates that
    /// link Apple frameworks excepted), on a runner several times cheaper than a macOS one.
    Apple,
}

impl BuildMethod {
    /// The OS of the runner that builds this method's targets in the release workflow. Linux
    /// targets need no particular distro, since zig pins the glibc floor; MSVC builds both x86_64
    /// and aarch64 (its ARM64 tools) on x86_64 Windows.
    pub fn os(self) -> crate::runners::Os {
        match self {
            BuildMethod::Zigbuild => crate::runners::Os::Linux,
            BuildMethod::Cargo | BuildMethod::Msvc => crate::runners::Os::Windows,
            BuildMethod::Apple => crate::runners::Os::Macos,
        }
    }

    /// The default runner label of `os()` (crate::runners holds the table; `cargo xtask plan`
    /// applies the workspace's overrides), named when this host cannot build a target.
    pub fn runner(self) -> &'static str {
        crate::runners::default_build_label(self.os())
    }

    /// How the runner builds it, as the plan's `build` field says: `cargo-zigbuild`, `msvc`,
    /// or `cargo` (the target's own linker: Apple's on macOS, mingw-w64's for windows-gnu).
    pub fn as_str(self) -> &'static str {
        match self {
            BuildMethod::Zigbuild => "cargo-zigbuild",
            BuildMethod::Cargo | BuildMethod::Apple => "cargo",
            BuildMethod::Msvc => "msvc",
        }
    }

    pub fn for_target(triple: &TargetTriple) -> Result<Self> {
        let t = triple.target();
        Ok(match (&t.vendor, &t.os, &t.env, t.abi.as_str()) {
            (_, Os::Linux, Env::Gnu | Env::Musl, _) => BuildMethod::Zigbuild,
            (_, Os::Windows, Env::Gnu, "") => BuildMethod::Cargo,
            (_, Os::Windows, Env::Msvc, "") => BuildMethod::Msvc,
            // The default; `Workspace::build_method` gives `Apple` to `build-on-macos` targets.
            (Vendor::Apple, Os::Darwin, Env::None, _) => BuildMethod::Zigbuild,
            _ => bail!(
                "cargo xtask dist has no way to build `{t}`: it builds *-linux-gnu, *-linux-musl, \
                 *-windows-msvc, *-windows-gnu and *-apple-darwin targets; remove it from the matrix"
            ),
        })
    }
}

/// What this machine is and which optional tools it has on PATH.
#[derive(Clone, Debug)]
pub struct Host {
    pub triple: TargetTriple,
    /// Executables found on PATH, among the ones `can_build` asks about.
    pub tools: BTreeSet<String>,
}

/// Whether the host builds a target, and how; or why not, and who does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    Build(How),
    Skip {
        /// The missing tool, with the command that installs it where there is one.
        missing: String,
        /// The CI runner that builds the target.
        runner: &'static str,
    },
}

/// The command line that builds a target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum How {
    Zigbuild,
    Build,
    Xwin,
}

impl How {
    pub fn describe(self) -> &'static str {
        match self {
            How::Zigbuild => "cargo zigbuild",
            How::Build => "cargo build",
            How::Xwin => "cargo xwin build",
        }
    }
}

impl Host {
    /// The tools `can_build` looks for, so that detection stays in one place.
    pub fn tools_to_probe(triples: &[TargetTriple]) -> Vec<String> {
        let mut tools = vec!["cargo-xwin".to_owned()];
        tools.extend(triples.iter().map(mingw_gcc));
        tools
    }

    fn is_windows(&self) -> bool {
        self.triple.is_windows()
    }

    fn is_macos(&self) -> bool {
        self.triple.is_apple()
    }

    pub fn can_build(&self, triple: &TargetTriple, method: BuildMethod) -> Status {
        match method {
            // cargo-zigbuild and zig run on Linux, macOS and Windows; `tools` installs them.
            BuildMethod::Zigbuild => Status::Build(How::Zigbuild),
            BuildMethod::Cargo if self.is_windows() || self.tools.contains(&mingw_gcc(triple)) => {
                Status::Build(How::Build)
            }
            BuildMethod::Cargo => Status::Skip {
                missing: format!(
                    "{} (apt-get install gcc-mingw-w64-{})",
                    mingw_gcc(triple),
                    triple.arch().as_str().replace('_', "-")
                ),
                runner: method.runner(),
            },
            BuildMethod::Msvc if self.is_windows() => Status::Build(How::Build),
            BuildMethod::Msvc if self.tools.contains("cargo-xwin") => Status::Build(How::Xwin),
            BuildMethod::Msvc => Status::Skip {
                missing: "MSVC's link.exe and the Windows SDK (build on Windows, or install \
                          cargo-xwin)"
                    .to_owned(),
                runner: method.runner(),
            },
            BuildMethod::Apple if self.is_macos() => Status::Build(How::Build),
            BuildMethod::Apple => Status::Skip {
                missing: "Apple's linker and SDK (build on macOS)".to_owned(),
                runner: method.runner(),
            },
        }
    }
}

pub fn mingw_gcc(triple: &TargetTriple) -> String {
    format!("{}-w64-mingw32-gcc", triple.arch())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> TargetTriple {
        TargetTriple::parse(text).unwrap()
    }

    fn linux_host(tools: &[&str]) -> Host {
        Host {
            triple: t("x86_64-unknown-linux-gnu"),
            tools: tools.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn triples_are_checked_for_spelling() {
        assert_eq!(t("x86_64-unknown-linux-musl").arch(), "x86_64");
        assert_eq!(t("thumbv8m.main-none-eabi").arch(), "thumbv8m.main");
        for bad in ["", "x86_64", "x86_64--linux", "x86 64-linux", "-linux-gnu"] {
            assert!(TargetTriple::parse(bad).is_err(), "{bad}");
        }
        let err = TargetTriple::parse("x86_64-unknown-linux-gnu.2.17").unwrap_err();
        assert!(err.to_string().contains("glibc-floor"), "{err}");
    }

    #[test]
    fn executables_follow_the_os() {
        assert_eq!(t("x86_64-pc-windows-gnu").exe_suffix(), ".exe");
        assert_eq!(t("aarch64-unknown-linux-musl").exe_suffix(), "");
    }

    #[test]
    fn every_matrix_target_has_a_method() {
        let m = |s: &str| BuildMethod::for_target(&t(s)).unwrap();
        assert_eq!(m("x86_64-unknown-linux-gnu"), BuildMethod::Zigbuild);
        assert_eq!(m("aarch64-unknown-linux-musl"), BuildMethod::Zigbuild);
        assert_eq!(m("x86_64-pc-windows-gnu"), BuildMethod::Cargo);
        assert_eq!(m("aarch64-pc-windows-msvc"), BuildMethod::Msvc);
        assert_eq!(m("x86_64-apple-darwin"), BuildMethod::Zigbuild);
        let err = BuildMethod::for_target(&t("wasm32-unknown-unknown")).unwrap_err();
        assert!(err.to_string().contains("no way to build"), "{err}");
    }

    #[test]
    fn a_linux_host_skips_msvc_and_apple_and_names_the_runner() {
        let host = linux_host(&[]);
        let status = |s: &str| {
            let triple = t(s);
            host.can_build(&triple, BuildMethod::for_target(&triple).unwrap())
        };
        assert_eq!(
            status("aarch64-unknown-linux-gnu"),
            Status::Build(How::Zigbuild)
        );
        assert!(matches!(
            status("x86_64-pc-windows-msvc"),
            Status::Skip {
                runner: "windows-2022",
                ..
            }
        ));
        assert_eq!(status("aarch64-apple-darwin"), Status::Build(How::Zigbuild));
        assert!(matches!(
            host.can_build(&t("aarch64-apple-darwin"), BuildMethod::Apple),
            Status::Skip {
                runner: "macos-15",
                ..
            }
        ));
        match status("x86_64-pc-windows-gnu") {
            Status::Skip { missing, .. } => {
                assert!(missing.contains("gcc-mingw-w64-x86-64"), "{missing}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn tools_on_path_make_more_targets_buildable() {
        let host = linux_host(&["x86_64-w64-mingw32-gcc", "cargo-xwin"]);
        let gnu = t("x86_64-pc-windows-gnu");
        assert_eq!(
            host.can_build(&gnu, BuildMethod::Cargo),
            Status::Build(How::Build)
        );
        let msvc = t("x86_64-pc-windows-msvc");
        assert_eq!(
            host.can_build(&msvc, BuildMethod::Msvc),
            Status::Build(How::Xwin)
        );
        let mac = Host {
            triple: t("aarch64-apple-darwin"),
            tools: BTreeSet::new(),
        };
        assert_eq!(
            mac.can_build(&t("x86_64-apple-darwin"), BuildMethod::Apple),
            Status::Build(How::Build)
        );
    }
}
