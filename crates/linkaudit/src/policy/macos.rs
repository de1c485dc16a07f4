//! `macos:<floor>`: what a Mach-O file may ask of the Mac it runs on.

use crate::facts::{Audit, OsVersion};
use crate::target::{Arch, Target};

/// The macOS floor Rust's own Apple targets link for when `MACOSX_DEPLOYMENT_TARGET` is unset
/// (rustc's `apple` target spec: 10.12 for x86_64, 11.0 for aarch64, the first arm64 macOS).
pub fn default_macos_floor(target: &Target) -> OsVersion {
    match target.arch {
        Arch::X86_64 => OsVersion::new(10, 12),
        _ => OsVersion::new(11, 0),
    }
}

/// A Mach-O file against `macos:<floor>`, slice by slice.
pub(super) fn check(
    audit: &Audit,
    floor: OsVersion,
    shipped: &dyn Fn(&str) -> bool,
    violation: &mut dyn FnMut(&str, String),
) {
    for slice in audit.thin_files() {
        check_slice(slice, floor, shipped, violation);
    }
}

/// One slice of a Mach-O file against `macos:<floor>`; violations name the slice's architecture.
fn check_slice(
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
