//! Facts and policies on real binaries built in this test run for each release target.

mod common;

use common::{fixtures, json_of, linkaudit, stderr, stdout, strings};
use linkaudit::{audit_path, Format, Kind, Policy};

fn host_glibc() -> linkaudit::GlibcVersion {
    // The real tool, not a guess: the gnu fixture is linked against this glibc.
    let output = std::process::Command::new("getconf")
        .arg("GNU_LIBC_VERSION")
        .output()
        .expect("run getconf (libc-bin)");
    let text = String::from_utf8_lossy(&output.stdout);
    text.trim()
        .strip_prefix("glibc ")
        .unwrap_or_else(|| panic!("getconf GNU_LIBC_VERSION printed {text:?}"))
        .parse()
        .expect("a glibc version")
}

#[test]
fn musl_rust_binary_is_static_pie_and_passes_static() {
    let audit = audit_path(&fixtures().musl_static_pie).unwrap();
    assert_eq!(audit.format, Format::Elf);
    assert_eq!(audit.arch, "x86_64");
    assert_eq!(audit.kind, Kind::StaticPieExecutable);
    assert_eq!(audit.interpreter, None);
    assert!(audit.needed.is_empty(), "{:?}", audit.needed);
    assert_eq!(audit.glibc_floor, None);
    assert!(Policy::Static.check(&audit).is_empty());

    let output = linkaudit(&[&"--policy", &"static", &fixtures().musl_static_pie]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("static-pie"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn musl_gcc_static_binary_is_a_plain_static_executable() {
    let audit = audit_path(&fixtures().c_static).unwrap();
    assert_eq!(audit.kind, Kind::StaticExecutable);
    assert!(Policy::Static.check(&audit).is_empty());
}

#[test]
fn dynamic_musl_binary_fails_static_naming_loader_and_libc() {
    let fixture = &fixtures().c_musl_dynamic;
    let audit = audit_path(fixture).unwrap();
    assert_eq!(audit.kind, Kind::DynamicExecutable);
    assert_eq!(
        audit.interpreter.as_deref(),
        Some("/lib/ld-musl-x86_64.so.1")
    );
    assert_eq!(audit.needed, ["libc.so"]);

    let output = linkaudit(&[&"--policy", &"static", fixture]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    let violation_line = format!("{}: libc.so (static:", fixture.display());
    assert!(text.contains(&violation_line), "{text}");
    assert!(text.contains("/lib/ld-musl-x86_64.so.1 (static:"), "{text}");
}

#[test]
fn gnu_binary_is_dynamic_with_its_glibc_floor_and_versions() {
    let fixture = &fixtures().gnu_dynamic;
    let audit = audit_path(fixture).unwrap();
    assert_eq!(audit.kind, Kind::DynamicExecutable);
    assert_eq!(
        audit.interpreter.as_deref(),
        Some("/lib64/ld-linux-x86-64.so.2")
    );
    assert!(
        audit.needed.iter().any(|n| n == "libc.so.6"),
        "{:?}",
        audit.needed
    );
    // std on the host glibc asks for GLIBC_2.2.5 up to at most the host's version; libgcc_s
    // versions are grouped under their own library.
    let libc_versions = &audit.symbol_versions["libc.so.6"];
    assert!(
        libc_versions.iter().any(|v| v == "GLIBC_2.2.5"),
        "{libc_versions:?}"
    );
    let floor = audit.glibc_floor.expect("a gnu binary has a glibc floor");
    assert!(floor <= host_glibc(), "{floor} above the host glibc");
    assert!(floor >= linkaudit::GlibcVersion::new(2, 17));

    // It passes at the host glibc and fails one below its own floor, naming the version.
    let at_host = format!("glibc:{}", host_glibc());
    let output = linkaudit(&[&"--policy", &at_host, fixture]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    let below = linkaudit::GlibcVersion::new(floor.major, floor.minor - 1);
    let output = linkaudit(&[&"--policy", &format!("glibc:{below}"), fixture]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).contains(&format!("GLIBC_{floor} (glibc:{below}: required from libc.so.6 is above the glibc floor {below})")),
        "{}",
        stdout(&output)
    );
    // And static fails on the loader.
    let output = linkaudit(&[&"--policy", &"static", fixture]);
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn gnu_cdylib_is_a_shared_library() {
    let audit = audit_path(&fixtures().gnu_cdylib).unwrap();
    assert_eq!(audit.format, Format::Elf);
    assert_eq!(audit.kind, Kind::SharedLibrary);
    assert_eq!(audit.interpreter, None);
    assert!(
        audit.needed.iter().any(|n| n == "libc.so.6"),
        "{:?}",
        audit.needed
    );
}

#[test]
fn aarch64_binary_is_read_on_x86_64() {
    let json = json_of(&fixtures().aarch64_static);
    assert_eq!(json["format"], "elf");
    assert_eq!(json["arch"], "aarch64");
    assert!(
        json["kind"] == "static" || json["kind"] == "static-pie",
        "{json}"
    );
    assert_eq!(json["interpreter"], serde_json::Value::Null);
    assert!(strings(&json["needed"]).is_empty());
}

#[test]
fn mingw_pe_imports_only_system_dlls_and_passes_crt_static() {
    let fixture = &fixtures().windows_exe;
    let audit = audit_path(fixture).unwrap();
    assert_eq!(audit.format, Format::Pe);
    assert_eq!(audit.arch, "x86_64");
    assert_eq!(audit.kind, Kind::DynamicExecutable);
    let lower: Vec<String> = audit
        .needed
        .iter()
        .map(|n| n.to_ascii_lowercase())
        .collect();
    assert!(lower.iter().any(|n| n == "kernel32.dll"), "{lower:?}");
    assert!(audit.crt_dlls.is_empty(), "{:?}", audit.crt_dlls);
    let output = linkaudit(&[&"--policy", &"crt-static", fixture]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    // A glibc floor is meaningless for a PE: the policy says so instead of passing it.
    let output = linkaudit(&[&"--policy", &"glibc:2.17", fixture]);
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn windows_cdylib_is_a_dll() {
    let audit = audit_path(&fixtures().windows_dll).unwrap();
    assert_eq!(audit.format, Format::Pe);
    assert_eq!(audit.kind, Kind::SharedLibrary);
}

#[test]
fn json_has_every_documented_key_in_order() {
    let output = linkaudit(&[&"--json", &"--policy", &"static", &fixtures().gnu_dynamic]);
    let text = stdout(&output);
    let json: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "file",
            "format",
            "arch",
            "kind",
            "interpreter",
            "needed",
            "delay_load",
            "rpath",
            "runpath",
            "symbol_versions",
            "glibc_floor",
            "version_floors",
            "crt_dlls",
            "weak",
            "reexport",
            "os_floor",
            "slices",
            "policy",
            "verdict",
            "violations",
            "dependencies"
        ]
    );
    assert_eq!(json["verdict"], "fail");
    assert_eq!(json["policy"], "static");
    // The highest version per family: the GLIBC_ one is the glibc floor.
    assert_eq!(
        json["version_floors"]["GLIBC"],
        format!("GLIBC_{}", json["glibc_floor"].as_str().unwrap())
    );
    assert_eq!(json["os_floor"], serde_json::Value::Null);
    let violation = &json["violations"][0];
    assert_eq!(violation["policy"], "static");
    assert_eq!(violation["culprit"], "/lib64/ld-linux-x86-64.so.2");
    assert!(violation["rule"].as_str().unwrap().contains("interpreter"));
}

#[test]
fn table_lists_every_file_with_its_facts() {
    let f = fixtures();
    let output = linkaudit(&[&f.musl_static_pie, &f.gnu_dynamic, &f.windows_exe]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("FILE") && lines[0].contains("NEEDED"),
        "{text}"
    );
    assert!(
        lines[1].contains("static-pie") && lines[1].contains("ELF"),
        "{text}"
    );
    assert!(
        lines[2].contains("dynamic") && lines[2].contains("libc.so.6"),
        "{text}"
    );
    assert!(
        lines[3].contains("PE") && lines[3].to_lowercase().contains("kernel32.dll"),
        "{text}"
    );
}

#[test]
fn exit_code_two_wins_over_a_violation_and_the_error_is_one_line() {
    let text_file = common::crate_dir().join("Cargo.toml");
    let output = linkaudit(&[&"--policy", &"static", &fixtures().gnu_dynamic, &text_file]);
    assert_eq!(output.status.code(), Some(2));
    let errors = stderr(&output);
    assert_eq!(errors.lines().count(), 1, "{errors}");
    assert!(
        errors.contains("Cargo.toml: not an ELF, PE or Mach-O binary"),
        "{errors}"
    );
    // The readable file is still reported.
    assert!(stdout(&output).contains("dynamic"));

    let output = linkaudit(&[&"/nonexistent/linkaudit-test"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stderr(&output).lines().count(), 1);

    let output = linkaudit(&[&"--policy", &"dynamic", &fixtures().gnu_dynamic]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("unknown policy"),
        "{}",
        stderr(&output)
    );
}
