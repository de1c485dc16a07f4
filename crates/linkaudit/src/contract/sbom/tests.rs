//! The SBOM writer on hand-made inputs: deterministic, sorted, schema-shaped.

use super::*;
use crate::deps::Package;

#[test]
fn timestamps_come_from_the_epoch() {
    assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
    assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
}

#[test]
fn names_follow_the_archive() {
    assert_eq!(
        sbom_name("a-x86_64-unknown-linux-gnu.tar.gz").unwrap(),
        "a-x86_64-unknown-linux-gnu.cdx.json"
    );
    assert_eq!(
        sbom_name("a-x86_64-pc-windows-msvc.zip").unwrap(),
        "a-x86_64-pc-windows-msvc.cdx.json"
    );
    assert_eq!(sbom_name("a-1.0-py3-none-any.whl"), None);
}

#[test]
fn the_same_inputs_give_the_same_bytes_and_crates_and_libraries_are_components() {
    let package = |name: &str, source: &str, deps: Vec<usize>, root: bool| Package {
        name: name.into(),
        version: "1.0.0".into(),
        source: source.into(),
        kind: DependencyKind::Runtime,
        dependencies: deps,
        root,
    };
    let deps = Dependencies {
        packages: vec![
            package("app", "local", vec![1], true),
            package("serde", "crates.io", vec![], false),
        ],
        format: 1,
    };
    let input = || SbomInput {
        package: "app",
        version: "1.0.0",
        target: "x86_64-unknown-linux-gnu",
        archive: "app-x86_64-unknown-linux-gnu.tar.gz",
        archive_sha256: "ab",
        source_date_epoch: 1_700_000_000,
        binaries: vec![SbomBinary {
            path: "app-x86_64-unknown-linux-gnu/app",
            sha256: "cd".into(),
            libraries: vec!["libc.so.6".into()],
            deps: Some(&deps),
        }],
    };
    let text = cyclonedx(&input());
    assert_eq!(text, cyclonedx(&input()));
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["metadata"]["timestamp"], "2023-11-14T22:13:20Z");
    let refs: Vec<&str> = json["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["bom-ref"].as_str().unwrap())
        .collect();
    assert_eq!(
        refs,
        [
            "crate:local/app@1.0.0",
            "crate:crates.io/serde@1.0.0",
            "file:app-x86_64-unknown-linux-gnu/app",
            "shared-library:libc.so.6"
        ]
    );
    assert_eq!(json["components"][1]["purl"], "pkg:cargo/serde@1.0.0");
    assert!(
        json["components"][0].get("purl").is_none(),
        "a local crate has no purl"
    );
    let serial = json["serialNumber"].as_str().unwrap();
    assert_eq!(serial.len(), "urn:uuid:".len() + 36);
    assert_eq!(&serial[23..24], "5");
}
