//! The dependency list cargo-auditable embeds (`.dep-v0`): `linkaudit --deps` and `--json` read
//! what binutils and zlib read from a binary built through the real cargo-auditable wrapper; a
//! corrupt section is exit 2; `linkaudit verify` warns about a binary without one, and an
//! archive without an SBOM, and still passes the release.
//!
//! Needs: cargo-auditable on PATH (`cargo xtask test` installs it), binutils, python3, the
//! x86_64-unknown-linux-musl target.

mod common;
mod release;

use common::{crate_dir, fixtures, linkaudit, stderr, stdout};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The `hello` fixture for x86_64 musl, built with cargo-auditable as `RUSTC_WORKSPACE_WRAPPER`
/// (how `cargo xtask dist` builds), in a target dir of its own.
fn audited_hello() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("auditable");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let output = Command::new(cargo)
            .current_dir(crate_dir().join("tests/fixtures"))
            .args(["build", "--release", "--quiet", "-p", "hello"])
            .args(["--target", "x86_64-unknown-linux-musl", "--target-dir"])
            .arg(&target_dir)
            .env("RUSTC_WORKSPACE_WRAPPER", "cargo-auditable")
            .env(
                "CARGO_AUDITABLE_ORIG_ARGS",
                r#"{"offline":false,"locked":false,"frozen":false,"config":[]}"#,
            )
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .output()
            .expect("run cargo");
        assert!(
            output.status.success(),
            "building hello through cargo-auditable failed; install it with `cargo install --locked cargo-auditable`\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        target_dir.join("x86_64-unknown-linux-musl/release/hello")
    })
}

/// The section as binutils and python's zlib read it.
fn section_by_standard_tools(binary: &Path) -> Value {
    let dumped = binary.with_extension("dep-v0");
    let scratch = binary.with_extension("objcopy-out");
    let status = Command::new("objcopy")
        .arg(format!("--dump-section=.dep-v0={}", dumped.display()))
        .arg(binary)
        .arg(&scratch)
        .status()
        .expect("run objcopy (apt-get install binutils)");
    assert!(status.success());
    let inflate = "import sys, zlib; sys.stdout.write(zlib.decompress(open(sys.argv[1], 'rb').read()).decode())";
    let out = Command::new("python3")
        .args(["-c", inflate])
        .arg(&dumped)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn json_and_deps_view_show_what_binutils_and_zlib_read() {
    let binary = audited_hello();
    let standard = section_by_standard_tools(binary);
    assert_eq!(standard["packages"][0]["name"], "hello", "{standard}");

    let json = linkaudit(&[&"--json", &binary]);
    assert_eq!(json.status.code(), Some(0), "{}", stderr(&json));
    let line: Value = serde_json::from_str(stdout(&json).trim()).unwrap();
    let ours = line["dependencies"].as_array().unwrap();
    let theirs = standard["packages"].as_array().unwrap();
    assert_eq!(ours.len(), theirs.len());
    for (ours, theirs) in ours.iter().zip(theirs) {
        for key in ["name", "version", "source"] {
            assert_eq!(ours[key], theirs[key], "{key}");
        }
        assert_eq!(ours["root"], theirs["root"].as_bool().unwrap_or(false));
    }

    // The table: the crate and its source; a binary built without cargo-auditable says so.
    let plain = &fixtures().musl_static_pie;
    let view = linkaudit(&[&"--deps", &binary, plain]);
    assert_eq!(view.status.code(), Some(0), "{}", stderr(&view));
    let text = stdout(&view);
    assert!(text.contains(": 1 crates\nCRATE"), "{text}");
    let row: Vec<&str> = text
        .lines()
        .find(|l| l.starts_with("hello "))
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(row, ["hello", "0.0.0", "local", "runtime"], "{text}");
    assert!(
        text.contains(&format!("{}: no dependency list", plain.display())),
        "{text}"
    );
    let none = linkaudit(&[&"--json", plain]);
    let line: Value = serde_json::from_str(stdout(&none).trim()).unwrap();
    assert_eq!(line["dependencies"], Value::Null);
}

#[test]
fn a_corrupt_section_is_unreadable_exit_2() {
    let data = std::fs::read(audited_hello()).unwrap();
    let section = linkaudit::deps::dep_section(&data).unwrap().unwrap();
    let offset = section.as_ptr() as usize - data.as_ptr() as usize;
    let mut broken = data.clone();
    // zlib's header, then deflate data: zero the stream after the header.
    for byte in &mut broken[offset + 2..offset + section.len()] {
        *byte = 0xff;
    }
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("corrupt-dep-v0");
    std::fs::write(&path, broken).unwrap();
    let out = linkaudit(&[&"--deps", &path]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(".dep-v0 section"), "{err}");
    assert!(
        err.contains("rebuild the binary with cargo-auditable"),
        "{err}"
    );
}

#[test]
fn verify_warns_about_binaries_without_a_dependency_list_and_still_passes() {
    // The fixture binaries are built with plain cargo: readelf shows no .dep-v0 in them.
    let sections = Command::new("readelf")
        .arg("-S")
        .arg(&fixtures().musl_static_pie)
        .output()
        .expect("run readelf (apt-get install binutils)");
    assert!(sections.status.success());
    assert!(!stdout(&sections).contains(".dep-v0"));

    let dir = release::good_release("without-deps");
    let out = linkaudit(&[&"verify", &dir]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("ok: 4 archives"), "{}", stdout(&out));
    let err = stderr(&out);
    let no_list: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("has no embedded dependency list"))
        .collect();
    assert_eq!(no_list.len(), 4, "one per binary: {err}");
    assert!(no_list
        .iter()
        .all(|l| l.starts_with("linkaudit verify: warning: demo-")));
    assert_eq!(
        err.matches("has no SBOM").count(),
        4,
        "one per archive: {err}"
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, ..Default::default() })]

    /// Truncated or corrupted, inside the section or anywhere else: an answer, never a panic.
    #[test]
    fn damaged_binaries_never_panic_the_reader(
        cut in proptest::prelude::any::<proptest::sample::Index>(),
        flips in proptest::collection::vec(
            (proptest::prelude::any::<proptest::sample::Index>(), proptest::prelude::any::<u8>()),
            1..16,
        ),
    ) {
        let data = std::fs::read(audited_hello()).unwrap();
        let _ = linkaudit::deps::read_bytes(&data[..cut.index(data.len())]);
        let mut flipped = data.clone();
        let section = linkaudit::deps::dep_section(&data).unwrap().unwrap();
        let start = section.as_ptr() as usize - data.as_ptr() as usize;
        for (at, byte) in flips {
            // Half the flips land in the section itself, where the inflater and JSON parser are.
            let at = if byte % 2 == 0 { start + at.index(section.len()) } else { at.index(data.len()) };
            flipped[at] = byte;
        }
        let _ = linkaudit::deps::read_bytes(&flipped);
    }
}

/// SBOMs as `cargo xtask dist` writes them (made here with `verify::expected_sbom`) pass; an SBOM
/// no artifact names, or one missing from SHA256SUMS, fails naming it.
#[test]
fn verify_accepts_the_sboms_it_would_make_and_refuses_strays_and_unlisted_ones() {
    use linkaudit::contract::{checksums, sbom_name, sha256_file, Manifest};
    let dir = release::good_release("with-sboms");
    let mut manifest = Manifest::read(&dir.join("dist-manifest.json")).unwrap();
    for artifact in &mut manifest.artifacts {
        artifact.sbom = sbom_name(&artifact.archive);
    }
    std::fs::write(dir.join("dist-manifest.json"), manifest.to_json()).unwrap();
    let sums = std::fs::read_to_string(dir.join("SHA256SUMS")).unwrap();
    let (mut listed, _) = checksums::parse_sha256sums(&sums);
    for artifact in &manifest.artifacts {
        let name = artifact.sbom.clone().unwrap();
        let text = linkaudit::verify::expected_sbom(&dir, &artifact.archive, &manifest).unwrap();
        std::fs::write(dir.join(&name), text).unwrap();
        listed.insert(name.clone(), sha256_file(&dir.join(&name)).unwrap());
    }
    let write_sums = |listed: &std::collections::BTreeMap<String, String>| {
        let text = checksums::sha256sums(listed.iter().map(|(n, h)| (n.as_str(), h.as_str())));
        std::fs::write(dir.join("SHA256SUMS"), text).unwrap();
    };
    write_sums(&listed);
    let out = linkaudit(&[&"verify", &dir]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("has no SBOM"), "{}", stderr(&out));

    let stray = dir.join("demo-aarch64-apple-darwin.cdx.json");
    std::fs::copy(
        dir.join(manifest.artifacts[0].sbom.as_ref().unwrap()),
        &stray,
    )
    .unwrap();
    let out = linkaudit(&[&"verify", &dir]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("demo-aarch64-apple-darwin.cdx.json: is an SBOM that no artifact"),
        "{}",
        stderr(&out)
    );
    std::fs::remove_file(&stray).unwrap();

    let unlisted = manifest.artifacts[0].sbom.clone().unwrap();
    listed.remove(&unlisted);
    write_sums(&listed);
    let out = linkaudit(&[&"verify", &dir]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!("{unlisted}: SBOM not listed in SHA256SUMS")),
        "{}",
        stderr(&out)
    );
}
