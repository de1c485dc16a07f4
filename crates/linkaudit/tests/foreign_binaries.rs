//! Binaries no one here can build (MSVC, Apple, musllinux from a real CI), taken from pinned public
//! wheels by tests/fetch-wheels.sh. These fail with that instruction when the cache is empty.

mod common;

use common::{linkaudit, stderr, stdout, wheel_binary};
use linkaudit::{audit_path, Format, Kind, Policy};

#[test]
fn msvc_static_crt_ruff_exe_passes_crt_static() {
    let ruff = wheel_binary("ruff-win_amd64.exe");
    let audit = audit_path(&ruff).unwrap();
    assert_eq!(audit.format, Format::Pe);
    assert_eq!(audit.arch, "x86_64");
    assert_eq!(audit.kind, Kind::DynamicExecutable);
    let lower: Vec<String> = audit
        .needed
        .iter()
        .map(|n| n.to_ascii_lowercase())
        .collect();
    for dll in [
        "kernel32.dll",
        "ntdll.dll",
        "advapi32.dll",
        "bcryptprimitives.dll",
    ] {
        assert!(lower.iter().any(|n| n == dll), "{dll} not in {lower:?}");
    }
    assert!(
        !lower.iter().any(|n| n.starts_with("vcruntime")),
        "{lower:?}"
    );
    assert!(audit.crt_dlls.is_empty(), "{:?}", audit.crt_dlls);

    let output = linkaudit(&[&"--policy", &"crt-static", &ruff]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
}

#[test]
fn msvc_dynamic_crt_pyd_fails_crt_static_naming_vcruntime() {
    let pyd = wheel_binary("markupsafe-speedups-win_amd64.pyd");
    let audit = audit_path(&pyd).unwrap();
    assert_eq!(audit.format, Format::Pe);
    assert_eq!(audit.kind, Kind::SharedLibrary);
    assert!(
        audit.needed.iter().any(|n| n == "python312.dll"),
        "{:?}",
        audit.needed
    );
    assert!(
        audit.crt_dlls.iter().any(|n| n == "VCRUNTIME140.dll"),
        "{:?}",
        audit.crt_dlls
    );
    assert!(
        audit
            .crt_dlls
            .iter()
            .any(|n| n.starts_with("api-ms-win-crt-")),
        "{:?}",
        audit.crt_dlls
    );
    assert!(!Policy::CrtStatic.check(&audit).is_empty());

    let output = linkaudit(&[&"--policy", &"crt-static", &pyd]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains(&format!(
            "{}: VCRUNTIME140.dll (crt-static: imports a C runtime DLL",
            pyd.display()
        )),
        "{text}"
    );
}

#[test]
fn macos_arm64_ruff_lists_its_dylibs() {
    let ruff = wheel_binary("ruff-macosx_arm64");
    let audit = audit_path(&ruff).unwrap();
    assert_eq!(audit.format, Format::MachO);
    assert_eq!(audit.arch, "aarch64");
    assert_eq!(audit.kind, Kind::DynamicExecutable);
    assert_eq!(audit.interpreter.as_deref(), Some("/usr/lib/dyld"));
    assert!(
        audit
            .needed
            .iter()
            .any(|n| n == "/usr/lib/libSystem.B.dylib"),
        "{:?}",
        audit.needed
    );
    assert!(
        audit
            .needed
            .iter()
            .any(|n| n.contains("CoreFoundation.framework")),
        "{:?}",
        audit.needed
    );
    // No policy is implied for Apple targets; static fails, naming a dylib.
    assert_eq!(
        Policy::for_target(
            &"aarch64-apple-darwin".parse().unwrap(),
            linkaudit::GlibcVersion::new(2, 17)
        ),
        None
    );
    let violations = Policy::Static.check(&audit);
    assert!(
        violations
            .iter()
            .any(|v| v.culprit == "/usr/lib/libSystem.B.dylib"),
        "{violations:?}"
    );
}

#[test]
fn macos_universal_extension_lists_both_slices() {
    let so = wheel_binary("markupsafe-speedups-universal2.so");
    let audit = audit_path(&so).unwrap();
    assert_eq!(audit.format, Format::MachO);
    assert_eq!(audit.arch, "x86_64+aarch64");
    assert_eq!(audit.kind, Kind::SharedLibrary);
    assert_eq!(audit.needed, ["/usr/lib/libSystem.B.dylib"]);
}

#[test]
fn musllinux_aarch64_ruff_is_static() {
    let ruff = wheel_binary("ruff-musllinux_aarch64");
    let audit = audit_path(&ruff).unwrap();
    assert_eq!(audit.format, Format::Elf);
    assert_eq!(audit.arch, "aarch64");
    assert!(
        matches!(
            audit.kind,
            Kind::StaticExecutable | Kind::StaticPieExecutable
        ),
        "{:?}",
        audit.kind
    );
    assert!(Policy::Static.check(&audit).is_empty());
    let output = linkaudit(&[&"--policy", &"static", &ruff]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}
