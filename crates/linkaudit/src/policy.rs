//! Policies: the rules a release binary must pass, and the violations that name what broke them.

use crate::facts::{Audit, Format, GlibcVersion, OsVersion};
use serde::Serialize;
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

/// What Rust's tier-1 Windows targets support since Rust 1.78: Windows 10 (rustc's platform
/// support page). The header of an MSVC-linked Rust binary says less (6.0, Vista), so the policy
/// refuses only a binary linked for a newer Windows than this.
pub const WINDOWS_FLOOR: OsVersion = OsVersion::new(10, 0);

/// The macOS floor Rust's own Apple targets link for when `MACOSX_DEPLOYMENT_TARGET` is unset
/// (rustc's `apple` target spec: 10.12 for x86_64, 11.0 for aarch64, the first arm64 macOS).
pub fn default_macos_floor(triple: &str) -> OsVersion {
    if triple.starts_with("x86_64-") {
        OsVersion::new(10, 12)
    } else {
        OsVersion::new(11, 0)
    }
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
    pub fn macos_for(&self, triple: &str) -> OsVersion {
        self.macos.unwrap_or_else(|| default_macos_floor(triple))
    }
}

/// Several policies a file must pass at once, written joined by `+`: `crt-static+windows:10.0`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Policies(pub Vec<Policy>);

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

/// One broken rule, with the library or version at fault.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
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
    pub fn for_target(triple: &str, floors: &Floors) -> Policies {
        Policies(match triple {
            t if t.contains("-linux-musl") => vec![Policy::Static],
            t if t.contains("-linux-gnu") => vec![Policy::Glibc(floors.glibc)],
            t if t.contains("-windows-") => {
                vec![Policy::CrtStatic, Policy::Windows(floors.windows)]
            }
            t if t.contains("-apple-darwin") => vec![Policy::Macos(floors.macos_for(t))],
            _ => vec![],
        })
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
            (Policy::Macos(floor), Format::MachO) => {
                for slice in audit.thin_files() {
                    check_macos_slice(slice, *floor, shipped, &mut violation);
                }
            }
            (Policy::Macos(_), _) => violation(
                &audit.format.to_string(),
                "a macOS floor applies to Mach-O files only".into(),
            ),
            (Policy::Windows(floor), Format::Pe) => {
                check_windows(audit, *floor, shipped, &mut violation)
            }
            (Policy::Windows(_), _) => violation(
                &audit.format.to_string(),
                "a Windows floor applies to PE files only".into(),
            ),
        }
        found
    }
}

/// One slice of a Mach-O file against `macos:<floor>`; violations name the slice's architecture.
fn check_macos_slice(
    slice: &Audit,
    floor: OsVersion,
    shipped: &dyn Fn(&str) -> bool,
    violation: &mut dyn FnMut(&str, String),
) {
    let arch = &slice.arch;
    match &slice.os_floor {
        None => violation(
            arch,
            "slice declares no minimum macOS (no LC_BUILD_VERSION or LC_VERSION_MIN_MACOSX)".into(),
        ),
        Some(os) if os.platform != "macos" => violation(
            &format!("platform {}", os.platform),
            format!("{arch} slice is built for {}, not macOS", os.platform),
        ),
        Some(os) if os.min > floor => violation(
            &format!("minos {}", os.min),
            format!("{arch} slice is above the macOS floor {floor}; build with MACOSX_DEPLOYMENT_TARGET={floor}"),
        ),
        Some(_) => {}
    }
    for dylib in &slice.needed {
        if let Some(name) = ["@rpath/", "@loader_path/", "@executable_path/"]
            .iter()
            .find_map(|prefix| dylib.strip_prefix(prefix))
        {
            let file_name = name.rsplit('/').next().unwrap_or(name);
            if !shipped(file_name) {
                violation(
                    dylib,
                    format!("loaded by the {arch} slice is not shipped beside the binary; ship it or link it statically"),
                );
            }
        } else if !(dylib.starts_with("/usr/lib/") || dylib.starts_with("/System/Library/")) {
            violation(
                dylib,
                format!("loaded by the {arch} slice is outside /usr/lib/ and /System/Library/, so not on every Mac; link it statically"),
            );
        }
    }
}

/// A PE file against `windows:<floor>`.
fn check_windows(
    audit: &Audit,
    floor: OsVersion,
    shipped: &dyn Fn(&str) -> bool,
    violation: &mut dyn FnMut(&str, String),
) {
    if let Some(os) = &audit.os_floor {
        if os.required() > floor {
            violation(
                &format!("Windows {}", os.required()),
                format!("OS version {} and subsystem version {} ask for more than the Windows floor {floor}", os.min, os.subsystem_version.unwrap_or(os.min)),
            );
        }
    }
    for dll in audit.needed.iter().chain(&audit.delay_load) {
        if !is_windows_system_dll(dll) && !shipped(dll) {
            violation(
                dll,
                "is neither a Windows system DLL nor shipped beside the binary; ship it or link it statically".into(),
            );
        }
    }
}

/// DLLs every Windows 10 has in System32, compared case-insensitively. The API sets
/// (`api-ms-win-*`, `ext-ms-win-*`) and the universal CRT (`ucrtbase.dll`) are part of Windows
/// since Windows 10; the Visual C++ runtime (`vcruntime140.dll`, `msvcp140.dll`) is not (ruff #11503).
pub fn is_windows_system_dll(name: &str) -> bool {
    const SYSTEM_DLLS: &[&str] = &[
        "advapi32",
        "bcrypt",
        "bcryptprimitives",
        "cfgmgr32",
        "comctl32",
        "comdlg32",
        "combase",
        "crypt32",
        "d2d1",
        "d3d11",
        "d3d12",
        "dbghelp",
        "dnsapi",
        "dwmapi",
        "dwrite",
        "dxgi",
        "gdi32",
        "gdiplus",
        "imm32",
        "iphlpapi",
        "kernel32",
        "kernelbase",
        "msvcrt",
        "mswsock",
        "ncrypt",
        "netapi32",
        "ntdll",
        "ole32",
        "oleaut32",
        "opengl32",
        "powrprof",
        "propsys",
        "psapi",
        "rpcrt4",
        "secur32",
        "setupapi",
        "shell32",
        "shlwapi",
        "synchronization",
        "ucrtbase",
        "user32",
        "userenv",
        "uxtheme",
        "version",
        "winhttp",
        "wininet",
        "winmm",
        "wintrust",
        "ws2_32",
        "wsock32",
    ];
    let lower = name.to_ascii_lowercase();
    let stem = lower.strip_suffix(".dll").unwrap_or(&lower);
    stem.starts_with("api-ms-win-")
        || stem.starts_with("ext-ms-win-")
        || SYSTEM_DLLS.contains(&stem)
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
