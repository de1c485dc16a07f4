//! End to end: what is inside a release. `cargo xtask dist` of the fixture workspace for a
//! zig-linked cross target (aarch64 gnu), the static musl target and the PE target:
//! - each binary carries cargo-auditable's `.dep-v0` section, built through cargo-zigbuild too;
//!   binutils (readelf, objcopy) finds it, python's zlib inflates it, and it is what linkaudit
//!   reads;
//! - each archive has a CycloneDX SBOM, listed in SHA256SUMS and the manifest, that CycloneDX's
//!   own JSON schema accepts (cyclonedx-python-lib's strict validator, offline);
//! - `linkaudit verify` re-makes each SBOM from its archive: an edited SBOM fails, naming it.
//!
//! Needs: binutils (objcopy), python3 with cyclonedx-python-lib[json-validation], cargo-auditable
//! (`cargo xtask test` installs all three), and what `dist.rs` needs for these targets.

#![cfg(target_os = "linux")]

mod common;

use common::*;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

const TARGETS: [&str; 3] = [
    "aarch64-unknown-linux-gnu",
    "x86_64-unknown-linux-musl",
    "x86_64-pc-windows-gnu",
];

#[test]
fn binaries_carry_their_crates_and_archives_their_sboms() {
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sbom-e2e");
    let _ = std::fs::remove_dir_all(&work);
    let ws = work.join("ws");
    make_fixture(&ws, &repo_root().join("Cargo.lock"));
    let mut cmd = Command::new("cargo");
    cmd.arg("xtask").arg("dist").current_dir(&ws);
    for target in TARGETS {
        cmd.args(["--target", target]);
    }
    let run = xtask(&mut cmd);
    assert_eq!(run.code, 0, "cargo xtask dist failed");
    let dist = ws.join("dist");
    for target in TARGETS {
        assert!(run.stdout.contains(&sbom(target)), "{}", run.stdout);
        section_is_what_linkaudit_reads(&ws, target, &work);
    }
    listed_and_valid(&dist);
    verify_remakes_each_sbom(&dist, &work);
}

/// The section's bytes as binutils reads them, inflated by python's zlib, against
/// `linkaudit::deps::read_path`, on the binary as built. ELF: `readelf -S` gives its offset and
/// size (readelf reads any architecture; the host's objcopy refuses aarch64); PE: objcopy dumps it.
fn section_is_what_linkaudit_reads(ws: &Path, target: &str, work: &Path) {
    let exe = if target.contains("windows") {
        ".exe"
    } else {
        ""
    };
    let binary = ws.join(format!("target/{target}/dist/fixture-cli{exe}"));
    let dumped = work.join(format!("{target}.dep-v0"));
    if exe.is_empty() {
        let sections = ok(Command::new("readelf").args(["-W", "-S"]).arg(&binary));
        let line = sections
            .lines()
            .find(|l| l.contains(" .dep-v0 "))
            .expect(&sections);
        // `[Nr] Name Type Address Off Size ...`
        let fields: Vec<&str> = line.split(']').nth(1).unwrap().split_whitespace().collect();
        let hex = |s: &str| usize::from_str_radix(s, 16).unwrap();
        let (offset, size) = (hex(fields[3]), hex(fields[4]));
        let bytes = std::fs::read(&binary).unwrap();
        std::fs::write(&dumped, &bytes[offset..offset + size]).unwrap();
    } else {
        ok(Command::new("objcopy")
            .arg(format!("--dump-section=.dep-v0={}", dumped.display()))
            .arg(&binary)
            .arg(work.join(format!("{target}.objcopy-out"))));
    }
    let inflate = "import sys, zlib; sys.stdout.write(zlib.decompress(open(sys.argv[1], 'rb').read()).decode())";
    let json = ok(Command::new("python3").args(["-c", inflate]).arg(&dumped));
    let by_python: Value = serde_json::from_str(&json).unwrap();
    let by_linkaudit = linkaudit::deps::read_path(&binary)
        .unwrap()
        .expect("linkaudit finds the section");
    let packages = by_python["packages"].as_array().unwrap();
    assert_eq!(packages.len(), by_linkaudit.packages.len(), "{json}");
    for (python, ours) in packages.iter().zip(&by_linkaudit.packages) {
        assert_eq!(python["name"], ours.name.as_str());
        assert_eq!(python["version"], ours.version.as_str());
        assert_eq!(python["source"], ours.source.as_str());
        // cargo-auditable leaves out the defaults: runtime, no dependencies, not the root.
        assert_eq!(
            python["kind"].as_str().unwrap_or("runtime"),
            ours.kind.as_str()
        );
        let deps: Vec<usize> = python["dependencies"]
            .as_array()
            .map(|d| d.iter().map(|i| i.as_u64().unwrap() as usize).collect())
            .unwrap_or_default();
        assert_eq!(deps, ours.dependencies);
        assert_eq!(python["root"].as_bool().unwrap_or(false), ours.root);
    }
    // The fixture's crates: the binary, its C crate, and cc as a build dependency.
    let names: Vec<(&str, &str, &str)> = by_linkaudit
        .packages
        .iter()
        .map(|p| (p.name.as_str(), p.source.as_str(), p.kind.as_str()))
        .collect();
    assert!(
        names.contains(&("fixture-cli", "local", "runtime")),
        "{names:?}"
    );
    assert!(
        names.contains(&("fixture-c", "local", "runtime")),
        "{names:?}"
    );
    assert!(names.contains(&("cc", "crates.io", "build")), "{names:?}");
    assert_eq!(by_linkaudit.root().unwrap().name, "fixture-cli");
}

/// One SBOM per archive, in SHA256SUMS and the manifest, valid CycloneDX 1.6, with the crates
/// and the shared libraries as components.
fn listed_and_valid(dist: &Path) {
    let sums = std::fs::read_to_string(dist.join("SHA256SUMS")).unwrap();
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(dist.join("dist-manifest.json")).unwrap())
            .unwrap();
    for target in TARGETS {
        let name = sbom(target);
        assert!(
            sums.lines().any(|l| l.ends_with(&format!("  {name}"))),
            "{sums}"
        );
        let artifact = artifact_of(&manifest, target);
        assert_eq!(artifact["sbom"], name.as_str());
    }
    ok(Command::new("sha256sum")
        .args(["-c", "SHA256SUMS"])
        .current_dir(dist));
    let validate = r#"
import sys
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
validator = JsonStrictValidator(SchemaVersion.V1_6)
for path in sys.argv[1:]:
    error = validator.validate_str(open(path).read())
    if error is not None:
        sys.exit(f"{path}: {error}")
    print(f"{path}: valid")
"#;
    let paths: Vec<_> = TARGETS.iter().map(|t| dist.join(sbom(t))).collect();
    let out = ok(Command::new("python3").args(["-c", validate]).args(&paths));
    assert_eq!(out.matches(": valid").count(), TARGETS.len(), "{out}");

    let gnu: Value = serde_json::from_slice(
        &std::fs::read(dist.join(sbom("aarch64-unknown-linux-gnu"))).unwrap(),
    )
    .unwrap();
    let components = gnu["components"].as_array().unwrap();
    let find = |name: &str| components.iter().find(|c| c["name"] == name);
    assert_eq!(
        find("cc").unwrap()["scope"],
        "excluded",
        "a build dependency"
    );
    assert_eq!(
        find("cc").unwrap()["purl"]
            .as_str()
            .unwrap()
            .split('@')
            .next(),
        Some("pkg:cargo/cc")
    );
    assert_eq!(find("fixture-c").unwrap()["scope"], "required");
    assert_eq!(find("libc.so.6").unwrap()["type"], "library", "{gnu:#}");
    assert_eq!(
        gnu["metadata"]["timestamp"], "2023-11-14T22:13:20Z",
        "the commit's time"
    );
    // The static musl binary needs no shared library.
    let musl = std::fs::read_to_string(dist.join(sbom("x86_64-unknown-linux-musl"))).unwrap();
    assert!(!musl.contains("shared-library:"), "{musl}");
}

/// `linkaudit verify` passes the release with no warning, and fails an SBOM that was edited
/// (checksums made consistent again), naming it.
fn verify_remakes_each_sbom(dist: &Path, work: &Path) {
    let report = linkaudit::verify::verify_dir(dist).unwrap();
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);

    let forged = work.join("forged");
    copy_dir(dist, &forged);
    let name = sbom("x86_64-unknown-linux-musl");
    let text = std::fs::read_to_string(forged.join(&name)).unwrap();
    let edited = text.replacen("\"fixture-c\"", "\"fixture-d\"", 1);
    assert_ne!(text, edited);
    std::fs::write(forged.join(&name), edited).unwrap();
    let sums = ok(Command::new("sh")
        .args(["-c", "sha256sum $(cut -c67- SHA256SUMS)"])
        .current_dir(&forged));
    std::fs::write(forged.join("SHA256SUMS"), sums).unwrap();
    let report = linkaudit::verify::verify_dir(&forged).unwrap();
    let failures: Vec<String> = report.failures.iter().map(|f| f.to_string()).collect();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(
        failures[0].starts_with(&format!("{name}: does not describe")),
        "{failures:?}"
    );
}
