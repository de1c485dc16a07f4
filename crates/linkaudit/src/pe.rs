//! PE: imported and delay-loaded DLLs, and which of them are a C runtime.

use crate::facts::{arch_name, lossy, Audit, Format, Kind};
use crate::AuditError;
use object::pe;
use object::read::pe::{ImageNtHeaders, PeFile};
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
