//! What an audit tells about one file.

use serde::{Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// The container format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    Elf,
    Pe,
    MachO,
}

/// How the file is linked, from its program headers and dynamic table (not from `DF_1_PIE`,
/// which LLVM set only from 2020 on). Serialized as [`Kind::as_str`], the word
/// `dist-manifest.json` uses (`"kind": "dynamic"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// An executable with no interpreter and no needed library (ELF `ET_EXEC`).
    StaticExecutable,
    /// `ET_DYN` with `PT_DYNAMIC` for self-relocation, but no `PT_INTERP` and no `DT_NEEDED`.
    StaticPieExecutable,
    /// An executable that needs a loader or libraries at run time.
    DynamicExecutable,
    /// A shared library (`.so`, `.dll`, `.dylib`).
    SharedLibrary,
    /// Relocatable objects, core files and anything else that is not run.
    Other,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::StaticExecutable => "static",
            Kind::StaticPieExecutable => "static-pie",
            Kind::DynamicExecutable => "dynamic",
            Kind::SharedLibrary => "shared-library",
            Kind::Other => "other",
        }
    }
}

impl Serialize for Kind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        [
            Kind::StaticExecutable,
            Kind::StaticPieExecutable,
            Kind::DynamicExecutable,
            Kind::SharedLibrary,
            Kind::Other,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == text)
        .ok_or_else(|| {
            format!(
                "unknown kind `{text}`: use static, static-pie, dynamic, shared-library or other"
            )
        })
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Format {
    /// The word used in JSON: `elf`, `pe`, `mach-o`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Elf => "elf",
            Format::Pe => "pe",
            Format::MachO => "mach-o",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Elf => "ELF",
            Format::Pe => "PE",
            Format::MachO => "Mach-O",
        })
    }
}

/// A version such as glibc `2.17`, macOS `11.0` or Windows `6.0`, ordered numerically
/// (2.9 < 2.17).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

/// A glibc version (`GLIBC_2.17` needs glibc 2.17).
pub type GlibcVersion = Version;
/// An operating system version: macOS `11.0`, Windows `10.0` (Windows 10), `6.0` (Vista).
pub type OsVersion = Version;

impl Version {
    pub const fn new(major: u32, minor: u32) -> Self {
        Version {
            major,
            minor,
            patch: 0,
        }
    }

    /// Parses the `x.y[.z]` of a `GLIBC_x.y[.z]` version-needed name; `None` for `GLIBC_PRIVATE`
    /// and anything else that is not a number.
    pub fn from_symbol_version(name: &str) -> Option<Self> {
        name.strip_prefix("GLIBC_")?.parse().ok()
    }
}

impl FromStr for Version {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let bad = || {
            format!("`{text}` is not a version: write it as MAJOR.MINOR, for example 2.17 or 11.0")
        };
        let mut parts = text.split('.');
        let mut next = |required: bool| -> Result<u32, String> {
            match parts.next() {
                Some(part) if !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()) => {
                    part.parse().map_err(|_| bad())
                }
                None if !required => Ok(0),
                _ => Err(bad()),
            }
        };
        let version = Version {
            major: next(true)?,
            minor: next(true)?,
            patch: next(false)?,
        };
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(version)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)?;
        if self.patch != 0 {
            write!(f, ".{}", self.patch)?;
        }
        Ok(())
    }
}

impl Serialize for Version {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// The oldest operating system a Mach-O or PE file declares it starts on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OsFloor {
    /// `macos`, `ios`, `maccatalyst`... (Mach-O `LC_BUILD_VERSION` platform) or `windows`.
    pub platform: String,
    /// Mach-O: `minos` of `LC_BUILD_VERSION` (or `LC_VERSION_MIN_*` in older files).
    /// PE: the optional header's `MajorOperatingSystemVersion.MinorOperatingSystemVersion`.
    pub min: OsVersion,
    /// Mach-O: the SDK the file was linked against.
    pub sdk: Option<OsVersion>,
    /// PE: the subsystem (`console`, `gui`, `native`, `efi`...).
    pub subsystem: Option<String>,
    /// PE: `MajorSubsystemVersion.MinorSubsystemVersion`; Windows refuses to start an image whose
    /// subsystem version is above its own.
    pub subsystem_version: Option<OsVersion>,
}

impl OsFloor {
    /// The version the file needs: the higher of the OS and subsystem versions.
    pub fn required(&self) -> OsVersion {
        self.subsystem_version.map_or(self.min, |v| v.max(self.min))
    }
}

impl fmt::Display for OsFloor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.platform, self.required())
    }
}

/// Everything linkaudit reads about one file. Serialized as the `--json` schema (see README).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Audit {
    pub format: Format,
    /// The `object` crate's architecture name, lower case: `x86_64`, `aarch64`, `i386`...
    pub arch: String,
    pub kind: Kind,
    /// ELF `PT_INTERP`, such as `/lib64/ld-linux-x86-64.so.2`.
    pub interpreter: Option<String>,
    /// ELF `DT_NEEDED`, PE imported DLLs, Mach-O `LC_LOAD_*DYLIB`, in file order.
    pub needed: Vec<String>,
    /// PE DLLs loaded on first use (delay-load import table).
    pub delay_load: Vec<String>,
    pub rpath: Vec<String>,
    pub runpath: Vec<String>,
    /// ELF `.gnu.version_r`: the versions required from each library, such as
    /// `libc.so.6 -> [GLIBC_2.2.5, GLIBC_2.34]`.
    pub symbol_versions: BTreeMap<String, Vec<String>>,
    /// The highest `GLIBC_x.y` required: the oldest glibc the file can start on.
    pub glibc_floor: Option<GlibcVersion>,
    /// ELF: the highest version needed per versioned library family, such as
    /// `GLIBC -> GLIBC_2.34`, `GLIBCXX -> GLIBCXX_3.4.29`, `CXXABI -> CXXABI_1.3.13`,
    /// `GCC -> GCC_4.2.0`. A `GLIBC_` grep misses the libstdc++ floors (mise #13295).
    pub version_floors: BTreeMap<String, String>,
    /// PE only: the C runtime DLLs imported (vcruntime*, msvcp*, ucrtbase*, api-ms-win-crt-*).
    pub crt_dlls: Vec<String>,
    /// Mach-O `LC_LOAD_WEAK_DYLIB` entries (also in `needed`): the file starts without them.
    pub weak: Vec<String>,
    /// Mach-O `LC_REEXPORT_DYLIB` entries (also in `needed`).
    pub reexport: Vec<String>,
    /// Mach-O and PE: the oldest OS version the file declares it runs on. For a universal binary,
    /// the slice with the highest minimum.
    pub os_floor: Option<OsFloor>,
    /// Mach-O universal binaries: the audit of each slice, in file order. The fields above are
    /// the first slice's (`arch` lists every slice, `os_floor` is the highest).
    pub slices: Vec<Audit>,
}

impl Audit {
    pub(crate) fn new(format: Format, arch: String, kind: Kind) -> Self {
        Audit {
            format,
            arch,
            kind,
            interpreter: None,
            needed: Vec::new(),
            delay_load: Vec::new(),
            rpath: Vec::new(),
            runpath: Vec::new(),
            symbol_versions: BTreeMap::new(),
            glibc_floor: None,
            version_floors: BTreeMap::new(),
            crt_dlls: Vec::new(),
            weak: Vec::new(),
            reexport: Vec::new(),
            os_floor: None,
            slices: Vec::new(),
        }
    }

    /// True when the file needs nothing at run time but the kernel (or, on Windows, system DLLs
    /// that are always present).
    pub fn is_static(&self) -> bool {
        self.interpreter.is_none()
            && match self.format {
                Format::Pe => self.crt_dlls.is_empty(),
                Format::Elf | Format::MachO => self.needed.is_empty(),
            }
    }

    /// All versions required from glibc's libraries, with the library that asks for them.
    pub fn glibc_versions(&self) -> impl Iterator<Item = (&str, &str)> {
        self.symbol_versions
            .iter()
            .flat_map(|(lib, versions)| versions.iter().map(move |v| (lib.as_str(), v.as_str())))
            .filter(|(_, v)| v.starts_with("GLIBC_"))
    }

    /// The audits a Mach-O policy checks: each slice of a universal binary, or the file itself.
    pub fn thin_files(&self) -> &[Audit] {
        if self.slices.is_empty() {
            std::slice::from_ref(self)
        } else {
            &self.slices
        }
    }

    /// The floors in one phrase for tables and logs: `glibc 2.34, GLIBCXX 3.4.29`,
    /// `macos 11.0`, `windows 6.0`; `None` when the file declares none.
    pub fn floor_summary(&self) -> Option<String> {
        if let Some(floor) = &self.os_floor {
            return Some(floor.to_string());
        }
        let parts: Vec<String> = self
            .version_floors
            .iter()
            .map(|(family, version)| {
                let number = version.strip_prefix(family.as_str()).unwrap_or(version);
                format!(
                    "{} {}",
                    family.to_ascii_lowercase(),
                    number.trim_start_matches('_')
                )
            })
            .collect();
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

pub(crate) fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub(crate) fn arch_name(arch: object::Architecture) -> String {
    format!("{arch:?}").to_ascii_lowercase()
}
