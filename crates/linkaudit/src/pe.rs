//! PE: imported and delay-loaded DLLs, which of them are a C runtime, and the Windows version the
//! optional header asks for.

use crate::facts::{arch_name, lossy, Audit, Format, Kind, OsFloor, OsVersion};
use crate::AuditError;
use object::pe;
use object::read::pe::{ImageNtHeaders, ImageOptionalHeader, PeFile};
use object::Object;

pub(crate) fn audit<Pe: ImageNtHeaders>(data: &[u8]) -> Result<Audit, AuditError> {
    let file = PeFile::<Pe>::parse(data)?;
    let characteristics = file
        .nt_headers()
        .file_header()
        .characteristics
        .get(object::LittleEndian);
    let kind = if characteristics.contains(pe::IMAGE_FILE_DLL) {
        Kind::SharedLibrary
    } else if characteristics.contains(pe::IMAGE_FILE_EXECUTABLE_IMAGE) {
        // A Windows executable always loads system DLLs; whether it is self-contained is told by
        // `crt_dlls` (policy `crt-static`), not by the kind.
        Kind::DynamicExecutable
    } else {
        Kind::Other
    };
    let mut audit = Audit::new(Format::Pe, arch_name(file.architecture()), kind);
    audit.os_floor = Some(os_floor(file.nt_headers().optional_header()));

    if let Some(table) = file.import_table()? {
        let mut descriptors = table.descriptors()?;
        while let Some(descriptor) = descriptors.next()? {
            audit.needed.push(lossy(
                table.name(descriptor.name.get(object::LittleEndian))?,
            ));
        }
    }
    if let Some(table) = file.delay_load_import_table()? {
        let mut descriptors = table.descriptors()?;
        while let Some(descriptor) = descriptors.next()? {
            audit.delay_load.push(lossy(
                table.name(descriptor.dll_name_rva.get(object::LittleEndian))?,
            ));
        }
    }
    audit.crt_dlls = audit
        .needed
        .iter()
        .chain(&audit.delay_load)
        .filter(|dll| is_crt_dll(dll))
        .cloned()
        .collect();
    Ok(audit)
}

/// The OS and subsystem versions of the optional header. MSVC's link.exe writes 6.0 (Vista) for
/// x86_64 by default: ruff 0.17.6's `ruff.exe` says OS 6.0, subsystem 6.0.
fn os_floor(header: &impl ImageOptionalHeader) -> OsFloor {
    let version = |major: u16, minor: u16| OsVersion::new(major.into(), minor.into());
    let subsystem = match header.subsystem() {
        pe::IMAGE_SUBSYSTEM_WINDOWS_CUI => "console".to_owned(),
        pe::IMAGE_SUBSYSTEM_WINDOWS_GUI => "gui".to_owned(),
        pe::IMAGE_SUBSYSTEM_NATIVE => "native".to_owned(),
        pe::IMAGE_SUBSYSTEM_EFI_APPLICATION
        | pe::IMAGE_SUBSYSTEM_EFI_BOOT_SERVICE_DRIVER
        | pe::IMAGE_SUBSYSTEM_EFI_RUNTIME_DRIVER
        | pe::IMAGE_SUBSYSTEM_EFI_ROM => "efi".to_owned(),
        other => format!("subsystem-{}", other.0),
    };
    OsFloor {
        platform: "windows".into(),
        min: version(
            header.major_operating_system_version(),
            header.minor_operating_system_version(),
        ),
        sdk: None,
        subsystem: Some(subsystem),
        subsystem_version: Some(version(
            header.major_subsystem_version(),
            header.minor_subsystem_version(),
        )),
    }
}

/// The DLLs of the Visual C++ redistributable and the universal CRT. Names are compared
/// case-insensitively: the same DLL appears as `KERNEL32.dll` and `kernel32.dll`.
pub(crate) fn is_crt_dll(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["vcruntime", "msvcp", "ucrtbase", "api-ms-win-crt-"]
        .iter()
        .any(|prefix| name.starts_with(prefix))
}

#[cfg(test)]
mod tests {
    #[test]
    fn crt_dlls_are_matched_case_insensitively() {
        assert!(super::is_crt_dll("VCRUNTIME140.dll"));
        assert!(super::is_crt_dll("api-ms-win-crt-runtime-l1-1-0.dll"));
        assert!(super::is_crt_dll("UCRTBASE.DLL"));
        assert!(super::is_crt_dll("msvcp140.dll"));
        assert!(!super::is_crt_dll("KERNEL32.dll"));
        assert!(!super::is_crt_dll("api-ms-win-core-synch-l1-2-0.dll"));
        assert!(!super::is_crt_dll("msvcrt.dll"));
    }
}
