//! `crt-static` and `windows:<floor>`: what a PE file may ask of the Windows it runs on.

use crate::facts::{Audit, OsVersion};

/// What Rust's tier-1 Windows targets support since Rust 1.78: Windows 10 (rustc's platform
/// support page). The header of an MSVC-linked Rust binary says less (6.0, Vista), so the policy
/// refuses only a binary linked for a newer Windows than this.
pub const WINDOWS_FLOOR: OsVersion = OsVersion::new(10, 0);

/// A PE file against `crt-static` (and the PE half of `static`): no C runtime DLL imported.
pub(super) fn check_crt_static(audit: &Audit, violation: &mut dyn FnMut(&str, String)) {
    for dll in &audit.crt_dlls {
        violation(
            dll,
            "imports a C runtime DLL; link with `-C target-feature=+crt-static`".into(),
        );
    }
}

/// A PE file against `windows:<floor>`.
pub(super) fn check(
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
