//! linkaudit: tells how ELF, PE and Mach-O files are linked by reading them, never by running them.
//!
//! `ldd` runs the binary's own loader: unsafe on untrusted files, useless on a foreign-arch file and
//! missing on minimal distros (cargo-dist #1439). Everything here comes from the parsed headers,
//! through the `object` crate's zero-copy read API.
//!
//! ```no_run
//! let audit = linkaudit::audit_path("target/release/linkaudit".as_ref()).unwrap();
//! let violations = linkaudit::Policy::Static.check(&audit);
//! assert!(violations.is_empty(), "{violations:?}");
//! ```

#[cfg(feature = "verify")]
pub mod contract;
pub mod deps;
mod elf;
mod facts;
mod macho;
mod pe;
mod policy;
#[cfg(feature = "scan")]
pub mod scan;
#[cfg(feature = "verify")]
pub mod signature;
pub mod table;
pub mod target;
#[cfg(feature = "verify")]
pub mod verify;

pub use facts::{Audit, Format, GlibcVersion, Kind, OsFloor, OsVersion, Version};
pub use policy::{
    default_macos_floor, is_windows_system_dll, Floors, Policies, Policy, Violation, WINDOWS_FLOOR,
};
pub use target::Target;

use std::fmt;
use std::path::Path;

/// Why a file could not be audited. Its `Display` is one line that says what to do.
#[derive(Debug)]
pub enum AuditError {
    /// The file could not be opened or read.
    Io(std::io::Error),
    /// The file is not an ELF, PE or Mach-O binary (text, archive, image...).
    NotABinary,
    /// The file starts like a binary but its headers are truncated or inconsistent.
    Malformed(String),
}

impl fmt::Display for AuditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuditError::Io(err) => write!(f, "cannot read the file: {err}"),
            AuditError::NotABinary => f.write_str(
                "not an ELF, PE or Mach-O binary: pass an executable or a shared library",
            ),
            AuditError::Malformed(what) => {
                write!(f, "malformed binary ({what}): the file is truncated or corrupt; download or build it again")
            }
        }
    }
}

impl std::error::Error for AuditError {}

impl From<object::read::Error> for AuditError {
    fn from(err: object::read::Error) -> Self {
        AuditError::Malformed(err.to_string())
    }
}

/// Audits a binary held in memory. Never panics, whatever the bytes.
pub fn audit_bytes(data: &[u8]) -> Result<Audit, AuditError> {
    use object::FileKind;
    let kind = FileKind::parse(data).map_err(|_| {
        if has_pe_signature(data) {
            AuditError::Malformed("PE optional header truncated or of unknown kind".into())
        } else {
            AuditError::NotABinary
        }
    })?;
    match kind {
        FileKind::Elf32 => elf::audit::<object::elf::FileHeader32<object::Endianness>>(data),
        FileKind::Elf64 => elf::audit::<object::elf::FileHeader64<object::Endianness>>(data),
        FileKind::Pe32 => pe::audit::<object::pe::ImageNtHeaders32>(data),
        FileKind::Pe64 => pe::audit::<object::pe::ImageNtHeaders64>(data),
        FileKind::MachO32 => macho::audit::<object::macho::MachHeader32<object::Endianness>>(data),
        FileKind::MachO64 => macho::audit::<object::macho::MachHeader64<object::Endianness>>(data),
        FileKind::MachOFat32 => macho::audit_fat::<object::macho::FatArch32>(data),
        FileKind::MachOFat64 => macho::audit_fat::<object::macho::FatArch64>(data),
        _ => Err(AuditError::NotABinary),
    }
}

/// An `MZ` header whose `e_lfanew` points at `PE\0\0`: a PE file, even when `object` cannot
/// tell which kind because the optional header that follows is cut short.
fn has_pe_signature(data: &[u8]) -> bool {
    let lfanew = data
        .get(0x3c..0x40)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize);
    data.starts_with(b"MZ")
        && lfanew
            .and_then(|at| data.get(at..at.checked_add(4)?))
            .is_some_and(|signature| signature == b"PE\0\0")
}

/// Audits the file at `path`, mapped into memory rather than read whole.
pub fn audit_path(path: &Path) -> Result<Audit, AuditError> {
    // Look before opening: opening a FIFO would block until someone writes to it.
    let metadata = std::fs::metadata(path).map_err(AuditError::Io)?;
    if metadata.is_dir() {
        return Err(AuditError::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "it is a directory; audit the binaries under it with `linkaudit scan DIR`",
        )));
    }
    if !metadata.is_file() {
        return Err(AuditError::NotABinary);
    }
    let file = std::fs::File::open(path).map_err(AuditError::Io)?;
    audit_file(&file)
}

/// Audits an open file, mapped into memory rather than read whole. The caller makes sure it is a
/// regular file: mapping a FIFO or a device would block or fail.
pub fn audit_file(file: &std::fs::File) -> Result<Audit, AuditError> {
    let len = file.metadata().map_err(AuditError::Io)?.len();
    if len == 0 {
        return Err(AuditError::NotABinary);
    }
    // SAFETY: the map is read-only and private; a file truncated underneath us could fault,
    // which is the accepted trade-off of every mmap-based scanner (scanelf does the same).
    let map = unsafe { memmap2::Mmap::map(file) }.map_err(AuditError::Io)?;
    audit_bytes(&map)
}

/// For [`Policy::check_beside`] on a file on disk: whether a library of that name sits in the
/// same directory as `binary`. Asked only for a library the OS does not provide.
pub fn shipped_beside(binary: &Path) -> impl Fn(&str) -> bool + '_ {
    move |name: &str| {
        let dir = binary.parent().unwrap_or(Path::new("."));
        !name.contains('/') && dir.join(name).is_file()
    }
}

/// How many leading bytes [`looks_like_binary`] needs to decide.
pub const MAGIC_LEN: usize = 4;

/// True when `prefix` (the first bytes of a file) starts like a binary this crate reads.
/// Lets a directory walk skip text files, images and archives without reading them whole.
pub fn looks_like_binary(prefix: &[u8]) -> bool {
    const MAGICS: &[&[u8]] = &[
        b"\x7fELF",
        b"MZ",
        &[0xfe, 0xed, 0xfa, 0xce],
        &[0xce, 0xfa, 0xed, 0xfe],
        &[0xfe, 0xed, 0xfa, 0xcf],
        &[0xcf, 0xfa, 0xed, 0xfe],
        &[0xca, 0xfe, 0xba, 0xbe],
        &[0xca, 0xfe, 0xba, 0xbf],
    ];
    MAGICS.iter().any(|magic| prefix.starts_with(magic))
}
