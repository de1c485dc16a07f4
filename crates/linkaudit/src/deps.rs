//! The dependency list a binary carries in cargo-auditable's format: a `.dep-v0` section (ELF,
//! PE; `__DATA,.dep-v0` on Mach-O) holding zlib-compressed JSON
//! `{"packages":[{"name","version","source","kind","dependencies":[..],"root"}],"format":1}`,
//! the format of rust-secure-code/cargo-auditable's `auditable-serde` crate, which `cargo audit
//! bin`, syft and trivy read too.
//!
//! Finding the section is part of the library core: zero-copy, the bytes borrowed from the file.
//! Decoding them needs zlib and JSON, so it sits behind the `deps` feature (on with `verify` and
//! the CLI).

use crate::AuditError;
use object::read::macho::{FatArch, MachOFatFile};
use object::{FileKind, Object, ObjectSection};

/// The section's name, the same in every format cargo-auditable writes.
pub const SECTION: &str = ".dep-v0";

/// The compressed bytes of the `.dep-v0` section, borrowed from `data`; `None` when the binary has
/// none. For a universal Mach-O file, the first slice that has one.
pub fn dep_section(data: &[u8]) -> Result<Option<&[u8]>, AuditError> {
    let slices: Vec<&[u8]> = match FileKind::parse(data).map_err(|_| AuditError::NotABinary)? {
        FileKind::MachOFat32 => fat_slices::<object::macho::FatArch32>(data)?,
        FileKind::MachOFat64 => fat_slices::<object::macho::FatArch64>(data)?,
        _ => vec![data],
    };
    for slice in slices {
        let file = object::File::parse(slice)?;
        if let Some(section) = file.section_by_name(SECTION) {
            return Ok(Some(section.data()?));
        }
    }
    Ok(None)
}

fn fat_slices<Fat: FatArch>(data: &[u8]) -> Result<Vec<&[u8]>, AuditError> {
    MachOFatFile::<Fat>::parse(data)?
        .arches()
        .iter()
        .map(|arch| arch.data(data).map_err(AuditError::from))
        .collect()
}

#[cfg(feature = "deps")]
pub use decode::*;

#[cfg(feature = "deps")]
mod decode {
    use super::dep_section;
    use serde::{Deserialize, Serialize};
    use std::fmt;
    use std::io::Read;
    use std::path::Path;

    /// The most bytes the JSON may inflate to: cargo-auditable's own reader stops at 8 MiB too,
    /// so a small section cannot expand into gigabytes (a zip bomb).
    pub const MAX_JSON_SIZE: u64 = 8 * 1024 * 1024;

    /// The crates compiled into a binary, as cargo-auditable recorded them.
    #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Dependencies {
        pub packages: Vec<Package>,
        /// The format's version (1 when cargo-auditable wrote it, absent in older files).
        #[serde(default)]
        pub format: u32,
    }

    /// One crate: its name, version and where it came from.
    #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Package {
        pub name: String,
        pub version: String,
        /// `crates.io`, `git`, `local` (a path in the workspace), `registry` (another
        /// registry), or another string a newer cargo-auditable writes.
        pub source: String,
        /// `runtime` (compiled into the binary) or `build` (build scripts and proc macros only).
        #[serde(default)]
        pub kind: DependencyKind,
        /// Indices into `packages` of this crate's own dependencies.
        #[serde(default)]
        pub dependencies: Vec<usize>,
        /// The crate the binary itself belongs to.
        #[serde(default)]
        pub root: bool,
    }

    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "lowercase")]
    pub enum DependencyKind {
        #[default]
        Runtime,
        Build,
    }

    impl DependencyKind {
        pub fn as_str(self) -> &'static str {
            match self {
                DependencyKind::Runtime => "runtime",
                DependencyKind::Build => "build",
            }
        }
    }

    /// Why a `.dep-v0` section could not be read. One line, saying what to do.
    #[derive(Debug)]
    pub enum DepsError {
        /// The file itself could not be read or parsed.
        Audit(crate::AuditError),
        /// The section is there but is not zlib data, is too large, or is not the format's JSON.
        Corrupt(String),
    }

    impl fmt::Display for DepsError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                DepsError::Audit(err) => err.fmt(f),
                DepsError::Corrupt(what) => write!(
                    f,
                    "its .dep-v0 section (cargo-auditable's dependency list) is unreadable: \
                     {what}; rebuild the binary with cargo-auditable"
                ),
            }
        }
    }

    impl std::error::Error for DepsError {}

    impl From<crate::AuditError> for DepsError {
        fn from(err: crate::AuditError) -> Self {
            DepsError::Audit(err)
        }
    }

    /// Inflates and parses a `.dep-v0` section's bytes; every index must point into `packages`.
    pub fn decode(compressed: &[u8]) -> Result<Dependencies, DepsError> {
        let mut json = Vec::new();
        flate2::read::ZlibDecoder::new(compressed)
            .take(MAX_JSON_SIZE + 1)
            .read_to_end(&mut json)
            .map_err(|err| DepsError::Corrupt(format!("not zlib data ({err})")))?;
        if json.len() as u64 > MAX_JSON_SIZE {
            return Err(DepsError::Corrupt(format!(
                "it inflates to more than {MAX_JSON_SIZE} bytes"
            )));
        }
        let deps: Dependencies = serde_json::from_slice(&json)
            .map_err(|err| DepsError::Corrupt(format!("not the format's JSON ({err})")))?;
        let count = deps.packages.len();
        if let Some(bad) = deps
            .packages
            .iter()
            .flat_map(|p| &p.dependencies)
            .find(|&&i| i >= count)
        {
            return Err(DepsError::Corrupt(format!(
                "dependency index {bad} past its {count} packages"
            )));
        }
        Ok(deps)
    }

    /// The dependency list of the binary in `data`; `None` when it carries none.
    pub fn read_bytes(data: &[u8]) -> Result<Option<Dependencies>, DepsError> {
        dep_section(data)?.map(decode).transpose()
    }

    /// The dependency list of the binary at `path`, mapped into memory rather than read whole.
    pub fn read_path(path: &Path) -> Result<Option<Dependencies>, DepsError> {
        let file = std::fs::File::open(path).map_err(crate::AuditError::Io)?;
        // SAFETY: as in `audit_file`: read-only, private; a file truncated underneath could fault.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(crate::AuditError::Io)?;
        read_bytes(&map)
    }

    impl Dependencies {
        /// The crate the binary belongs to (`root`), if the list marks one.
        pub fn root(&self) -> Option<&Package> {
            self.packages.iter().find(|p| p.root)
        }
    }
}

#[cfg(all(test, feature = "deps"))]
mod tests {
    use super::*;
    use std::io::Write;

    fn zlib(bytes: &[u8]) -> Vec<u8> {
        let mut encoder =
            flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn decodes_cargo_auditables_json_with_its_defaults() {
        let json = br#"{"packages":[{"name":"cc","version":"1.2.3","source":"crates.io","kind":"build"},
            {"name":"app","version":"0.1.0","source":"local","dependencies":[0],"root":true}],"format":1}"#;
        let deps = decode(&zlib(json)).unwrap();
        assert_eq!(deps.packages.len(), 2);
        assert_eq!(deps.packages[0].kind, DependencyKind::Build);
        assert_eq!(deps.packages[1].kind, DependencyKind::Runtime);
        assert_eq!(deps.root().unwrap().name, "app");
        assert_eq!(deps.format, 1);
    }

    #[test]
    fn refuses_garbage_bombs_and_dangling_indices() {
        assert!(decode(b"not zlib").is_err());
        let bomb = zlib(&vec![b' '; MAX_JSON_SIZE as usize + 10]);
        let err = decode(&bomb).unwrap_err().to_string();
        assert!(err.contains("more than"), "{err}");
        let dangling =
            br#"{"packages":[{"name":"a","version":"1.0.0","source":"local","dependencies":[5]}]}"#;
        let err = decode(&zlib(dangling)).unwrap_err().to_string();
        assert!(err.contains("index 5"), "{err}");
    }
}
