//! `static` and `glibc:<floor>`: what an ELF file may ask of the Linux it runs on.

use crate::facts::{Audit, GlibcVersion};

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

/// A non-PE file against `static`: no program interpreter, no needed library.
pub(super) fn check_static(audit: &Audit, violation: &mut dyn FnMut(&str, String)) {
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

/// An ELF file against `glibc:<floor>`: glibc's own libraries only, and no symbol version of
/// theirs above the floor.
pub(super) fn check_glibc(
    audit: &Audit,
    floor: GlibcVersion,
    violation: &mut dyn FnMut(&str, String),
) {
    for lib in audit
        .needed
        .iter()
        .filter(|lib| !GLIBC_LIBRARIES.contains(&lib.as_str()))
    {
        violation(lib, "is not one of glibc's own libraries".into());
    }
    for (lib, version) in audit.glibc_versions() {
        match GlibcVersion::from_symbol_version(version) {
            Some(needed) if needed <= floor => {}
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
