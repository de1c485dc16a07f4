//! Mach-O: the dylibs named by `LC_LOAD_*DYLIB` and the `LC_RPATH` entries.

use crate::facts::{arch_name, lossy, Audit, Format, Kind};
use crate::AuditError;
use object::macho;
use object::read::macho::{FatArch, LoadCommandVariant, MachHeader, MachOFatFile};

pub(crate) fn audit<Mach: MachHeader<Endian = object::Endianness>>(
    data: &[u8],
) -> Result<Audit, AuditError> {
    let header = Mach::parse(data, 0)?;
    let endian = header.endian()?;
    let kind = match header.filetype(endian) {
        macho::MH_EXECUTE => Kind::DynamicExecutable,
        macho::MH_DYLIB | macho::MH_BUNDLE => Kind::SharedLibrary,
        _ => Kind::Other,
    };
    let arch = object::read::macho::MachOFile::<Mach, &[u8]>::parse(data)
        .map(|file| arch_name(object::Object::architecture(&file)))
        .unwrap_or_else(|_| "unknown".into());
    let mut audit = Audit::new(Format::MachO, arch, kind);
    let mut commands = header.load_commands(endian, data, 0)?;
    let mut has_dyld = false;
    while let Some(command) = commands.next()? {
        match command.variant()? {
            LoadCommandVariant::Dylib(dylib) => {
                audit
                    .needed
                    .push(lossy(command.string(endian, dylib.dylib.name)?));
            }
            LoadCommandVariant::Rpath(rpath) => {
                audit.rpath.push(lossy(command.string(endian, rpath.path)?))
            }
            LoadCommandVariant::LoadDylinker(dylinker) => {
                has_dyld = true;
                audit.interpreter = Some(lossy(command.string(endian, dylinker.name)?));
            }
            _ => {}
        }
    }
    if audit.kind == Kind::DynamicExecutable && !has_dyld && audit.needed.is_empty() {
        audit.kind = Kind::StaticExecutable;
    }
    Ok(audit)
}

/// A universal binary: the facts of its first slice, the architecture list joined with `+`.
pub(crate) fn audit_fat<Fat: FatArch>(data: &[u8]) -> Result<Audit, AuditError> {
    let fat = MachOFatFile::<Fat>::parse(data)?;
    let mut first: Option<Audit> = None;
    let mut arches = Vec::new();
    for arch in fat.arches() {
        let slice = arch.data(data)?;
        // Only thin slices: a slice that is itself universal (or points back at the fat header)
        // would recurse forever.
        let slice_audit = match object::FileKind::parse(slice) {
            Ok(object::FileKind::MachO32) => {
                audit::<macho::MachHeader32<object::Endianness>>(slice)?
            }
            Ok(object::FileKind::MachO64) => {
                audit::<macho::MachHeader64<object::Endianness>>(slice)?
            }
            _ => {
                return Err(AuditError::Malformed(
                    "universal binary slice is not a Mach-O file".into(),
                ))
            }
        };
        arches.push(slice_audit.arch.clone());
        first.get_or_insert(slice_audit);
    }
    let mut audit =
        first.ok_or_else(|| AuditError::Malformed("universal binary with no slice".into()))?;
    audit.arch = arches.join("+");
    Ok(audit)
}
