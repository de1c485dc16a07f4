//! Mach-O: the dylibs named by `LC_LOAD_DYLIB` (weak, re-exported...), the `LC_RPATH` entries and
//! the minimum OS of `LC_BUILD_VERSION` (or `LC_VERSION_MIN_*`), per slice of a universal binary.

use crate::facts::{arch_name, lossy, Audit, Format, Kind, OsFloor, OsVersion};
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
        let variant = command.variant()?;
        // A file built for several platforms (zippered Mac Catalyst) has one LC_BUILD_VERSION
        // each; the first one is the platform the file was built for.
        if audit.os_floor.is_none() {
            audit.os_floor = os_floor(&variant, command.cmd(), endian);
        }
        match variant {
            // LC_ID_DYLIB is a dylib's own name, not something it loads.
            LoadCommandVariant::Dylib(dylib) if command.cmd() != macho::LC_ID_DYLIB => {
                let path = lossy(command.string(endian, dylib.dylib.name)?);
                match command.cmd() {
                    macho::LC_LOAD_WEAK_DYLIB => audit.weak.push(path.clone()),
                    macho::LC_REEXPORT_DYLIB => audit.reexport.push(path.clone()),
                    _ => {}
                }
                audit.needed.push(path);
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

/// `X.Y.Z` encoded in nibbles `xxxx.yy.zz`.
fn version(packed: macho::Version) -> OsVersion {
    OsVersion {
        major: packed.major().into(),
        minor: packed.minor().into(),
        patch: packed.update().into(),
    }
}

/// The platform names of `<mach-o/loader.h>`, lower case.
fn platform_name(platform: u32) -> String {
    let name = match macho::Platform(platform) {
        macho::PLATFORM_MACOS => "macos",
        macho::PLATFORM_IOS => "ios",
        macho::PLATFORM_TVOS => "tvos",
        macho::PLATFORM_WATCHOS => "watchos",
        macho::PLATFORM_BRIDGEOS => "bridgeos",
        macho::PLATFORM_MACCATALYST => "maccatalyst",
        macho::PLATFORM_IOSSIMULATOR => "ios-simulator",
        macho::PLATFORM_TVOSSIMULATOR => "tvos-simulator",
        macho::PLATFORM_WATCHOSSIMULATOR => "watchos-simulator",
        macho::PLATFORM_DRIVERKIT => "driverkit",
        macho::PLATFORM_VISIONOS => "visionos",
        macho::PLATFORM_VISIONOSSIMULATOR => "visionos-simulator",
        _ => return format!("platform-{platform}"),
    };
    name.into()
}

/// A universal binary: every slice audited, the first slice's facts on top, the architecture
/// list joined with `+` and the highest minimum OS of all slices.
/// The OS floor an `LC_BUILD_VERSION` or `LC_VERSION_MIN_*` command declares.
fn os_floor(
    variant: &LoadCommandVariant<'_, object::Endianness>,
    cmd: macho::LoadCommandType,
    endian: object::Endianness,
) -> Option<OsFloor> {
    let (platform, min, sdk) = match variant {
        LoadCommandVariant::BuildVersion(build, _) => (
            platform_name(build.platform.get(endian).0),
            build.minos.get(endian),
            build.sdk.get(endian),
        ),
        LoadCommandVariant::VersionMin(min) => {
            let platform = match cmd {
                macho::LC_VERSION_MIN_MACOSX => "macos",
                macho::LC_VERSION_MIN_IPHONEOS => "ios",
                macho::LC_VERSION_MIN_TVOS => "tvos",
                _ => "watchos",
            };
            (
                platform.into(),
                min.version.get(endian),
                min.sdk.get(endian),
            )
        }
        _ => return None,
    };
    Some(OsFloor {
        platform,
        min: version(min),
        sdk: Some(version(sdk)),
        subsystem: None,
        subsystem_version: None,
    })
}

pub(crate) fn audit_fat<Fat: FatArch>(data: &[u8]) -> Result<Audit, AuditError> {
    let fat = MachOFatFile::<Fat>::parse(data)?;
    let mut slices = Vec::new();
    for (index, arch) in fat.arches().iter().enumerate() {
        let slice = arch.data(data).map_err(|err| {
            AuditError::Malformed(format!("universal binary slice {index}: {err}"))
        })?;
        // Only thin slices: a slice that is itself universal (or points back at the fat header)
        // would recurse forever.
        let slice_audit = match object::FileKind::parse(slice) {
            Ok(object::FileKind::MachO32) => {
                audit::<macho::MachHeader32<object::Endianness>>(slice)
            }
            Ok(object::FileKind::MachO64) => {
                audit::<macho::MachHeader64<object::Endianness>>(slice)
            }
            _ => Err(AuditError::Malformed("is not a Mach-O file".into())),
        }
        .map_err(|err| match err {
            AuditError::Malformed(what) => {
                AuditError::Malformed(format!("universal binary slice {index}: {what}"))
            }
            other => other,
        })?;
        slices.push(slice_audit);
    }
    let mut audit = slices
        .first()
        .cloned()
        .ok_or_else(|| AuditError::Malformed("universal binary with no slice".into()))?;
    let arches: Vec<&str> = slices.iter().map(|s| s.arch.as_str()).collect();
    audit.arch = arches.join("+");
    audit.os_floor = slices
        .iter()
        .filter_map(|s| s.os_floor.clone())
        .max_by_key(OsFloor::required);
    audit.slices = slices;
    Ok(audit)
}
