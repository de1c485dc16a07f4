//! Binaries no one here can build (MSVC, Apple, musllinux from a real CI), taken from pinned public
//! wheels by tests/fetch-wheels.sh. These fail with that instruction when the cache is empty.

mod common;

use common::{linkaudit, stderr, stdout, wheel_binary};
use linkaudit::{audit_path, Floors, Format, GlibcVersion, Kind, OsVersion, Policy};

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
    // Built for macOS 11.0 against the 11.0 SDK (the wheel's macosx_11_0 tag says the same).
    let os = audit.os_floor.as_ref().unwrap();
    assert_eq!(
        (os.platform.as_str(), os.min, os.sdk),
        ("macos", v(11, 0), Some(v(11, 0)))
    );
    // The policy an aarch64 Apple target implies by default passes it: every dylib is macOS's own.
    let policy = Policy::for_target(
        &"aarch64-apple-darwin".parse().unwrap(),
        &Floors::with_glibc(GlibcVersion::new(2, 17)),
    );
    assert_eq!(policy.to_string(), "macos:11.0");
    assert_eq!(policy.check(&audit), vec![]);
    // A floor below its minos fails, naming the slice and the version at fault.
    let output = linkaudit(&[&"--policy", &"macos:10.15", &ruff]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stdout(&output).contains(&format!(
            "{}: minos 11.0 (macos:10.15: aarch64 slice is above the macOS floor 10.15",
            ruff.display()
        )),
        "{}",
        stdout(&output)
    );
    // Static still fails, naming a dylib.
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
    // Each slice declares its own floor: the wheel's macosx_10_13 tag is the x86_64 slice's.
    let floors: Vec<(&str, &str, OsVersion, Option<OsVersion>)> = audit
        .slices
        .iter()
        .map(|s| {
            let os = s.os_floor.as_ref().unwrap();
            (s.arch.as_str(), os.platform.as_str(), os.min, os.sdk)
        })
        .collect();
    assert_eq!(
        floors,
        [
            ("x86_64", "macos", v(10, 13), Some(v(14, 5))),
            ("aarch64", "macos", v(11, 0), Some(v(14, 5)))
        ]
    );
    assert_eq!(audit.os_floor.as_ref().unwrap().min, v(11, 0));
    assert_eq!(Policy::Macos(v(11, 0)).check(&audit), vec![]);
    // macos:10.13 fails only the arm64 slice, and says so.
    let violations = Policy::Macos(v(10, 13)).check(&audit);
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].culprit, "minos 11.0");
    assert!(
        violations[0].rule.starts_with("aarch64 slice"),
        "{violations:?}"
    );
    let output = linkaudit(&[&"--json", &so]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(json["os_floor"]["min"], "11.0");
    assert_eq!(json["slices"][0]["os_floor"]["min"], "10.13");
    assert_eq!(json["slices"][1]["arch"], "aarch64");
}

fn v(major: u32, minor: u32) -> OsVersion {
    OsVersion::new(major, minor)
}

#[test]
fn msvc_binaries_declare_windows_6_0_and_pass_windows_10_only_if_their_dlls_are_windows_own() {
    // Rust's MSVC toolchain writes OS and subsystem version 6.0 (Vista) into ruff.exe's optional
    // header, whatever Rust's documented minimum (Windows 10 since Rust 1.78).
    let ruff = wheel_binary("ruff-win_amd64.exe");
    let audit = audit_path(&ruff).unwrap();
    let os = audit.os_floor.as_ref().unwrap();
    assert_eq!(
        (
            os.platform.as_str(),
            os.min,
            os.subsystem.as_deref(),
            os.subsystem_version
        ),
        ("windows", v(6, 0), Some("console"), Some(v(6, 0)))
    );
    let policy = Policy::for_target(
        &"x86_64-pc-windows-msvc".parse().unwrap(),
        &Floors::with_glibc(GlibcVersion::new(2, 17)),
    );
    assert_eq!(policy.to_string(), "crt-static+windows:10.0");
    assert_eq!(policy.check(&audit), vec![]);
    // A floor below what the header asks for fails, naming the version.
    let violations = Policy::Windows(v(5, 2)).check(&audit);
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].culprit, "Windows 6.0");

    // The markupsafe extension is a GUI-subsystem DLL for 6.0 that needs python312.dll and the
    // Visual C++ runtime: neither is Windows' own, and nothing ships them beside it.
    let pyd = wheel_binary("markupsafe-speedups-win_amd64.pyd");
    let audit = audit_path(&pyd).unwrap();
    let os = audit.os_floor.as_ref().unwrap();
    assert_eq!((os.min, os.subsystem.as_deref()), (v(6, 0), Some("gui")));
    let culprits: Vec<String> = Policy::Windows(v(10, 0))
        .check(&audit)
        .into_iter()
        .map(|v| v.culprit)
        .collect();
    assert_eq!(culprits, ["python312.dll", "VCRUNTIME140.dll"]);
    // Shipped beside it (same directory), python312.dll passes; the CRT DLL still fails.
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("pyd-beside-python");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(&pyd, dir.join("ext.pyd")).unwrap();
    std::fs::write(dir.join("python312.dll"), b"a shipped DLL").unwrap();
    let output = linkaudit(&[&"--policy", &"windows:10", &dir.join("ext.pyd")]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(!text.contains("python312.dll (windows"), "{text}");
    assert!(text.contains("VCRUNTIME140.dll (windows:10.0: is neither a Windows system DLL nor shipped beside the binary"), "{text}");
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
