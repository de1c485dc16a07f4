//! `[workspace.metadata.dist]` and `cargo metadata` read from JSON as cargo prints it.

use super::*;

fn metadata(dist: &str) -> String {
    let root = std::env::temp_dir().join(format!("xtask-config-test-{}", std::process::id()));
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("README.md"), "readme").unwrap();
    std::fs::write(root.join("LICENSE"), "license").unwrap();
    let root = root.display().to_string();
    format!(
        r#"{{
        "packages": [
          {{"id": "tool 1", "name": "tool", "version": "1.2.3", "publish": null,
            "repository": "https://github.com/owner/tool", "manifest_path": "/ws/tool/Cargo.toml",
            "description": "A tool", "license": "MIT", "readme": "README.md",
            "targets": [{{"name": "tool", "kind": ["bin"]}}, {{"name": "tool", "kind": ["lib"]}}]}},
          {{"id": "xtask 0", "name": "xtask", "version": "0.0.0", "publish": [],
            "manifest_path": "/ws/xtask/Cargo.toml",
            "targets": [{{"name": "xtask", "kind": ["bin"]}}]}},
          {{"id": "corelib 1", "name": "corelib", "version": "1.0.0", "publish": null,
            "manifest_path": "/ws/corelib/Cargo.toml",
            "targets": [{{"name": "corelib", "kind": ["lib"]}}]}}
        ],
        "workspace_members": ["tool 1", "xtask 0", "corelib 1"],
        "workspace_root": {root:?},
        "target_directory": "{root}/target",
        "metadata": {dist}
    }}"#
    )
}

#[test]
fn defaults_ship_every_publishable_package_with_a_binary() {
    let ws = Workspace::from_metadata_json(&metadata("null")).unwrap();
    assert_eq!(ws.targets.len(), 8);
    assert_eq!(ws.glibc_floor.to_string(), "2.17");
    assert_eq!(ws.include.len(), 2);
    assert_eq!(
        ws.packages,
        vec![Package {
            name: "tool".into(),
            version: "1.2.3".into(),
            binaries: vec!["tool".into()],
            repository: Some("https://github.com/owner/tool".into()),
            description: Some("A tool".into()),
            homepage: None,
            license: Some("MIT".into()),
            readme: Some("/ws/tool/README.md".into()),
            binstall: None,
        }]
    );
}

#[test]
fn the_table_overrides_the_defaults() {
    let dist = r#"{"dist": {"targets": ["x86_64-unknown-linux-musl"], "glibc-floor": "2.28",
                    "include": ["README.md"], "packages": ["tool"], "wheels": true}}"#;
    let ws = Workspace::from_metadata_json(&metadata(dist)).unwrap();
    assert_eq!(
        ws.targets,
        vec![TargetTriple::parse("x86_64-unknown-linux-musl").unwrap()]
    );
    assert_eq!(ws.glibc_floor.to_string(), "2.28");
    assert_eq!(ws.include.len(), 1);
    assert!(ws.wheels);
}

#[test]
fn apple_targets_build_here_unless_listed_and_keep_to_the_macos_floor() {
    use crate::workspace::target::BuildMethod;
    let mac = TargetTriple::parse("aarch64-apple-darwin").unwrap();
    let x86_64: linkaudit::Target = "x86_64-apple-darwin".parse().unwrap();
    let ws = Workspace::from_metadata_json(&metadata("null")).unwrap();
    assert_eq!(ws.build_method(&mac).unwrap(), BuildMethod::Zigbuild);
    assert_eq!(ws.floors().macos_for(&x86_64).to_string(), "10.12");
    let dist = r#"{"dist": {"macos-floor": "12.0", "build-on-macos": ["aarch64-apple-darwin"]}}"#;
    let ws = Workspace::from_metadata_json(&metadata(dist)).unwrap();
    assert_eq!(ws.build_method(&mac).unwrap(), BuildMethod::Apple);
    assert_eq!(ws.floors().macos_for(&x86_64).to_string(), "12.0");
    for (dist, expected) in [
        (r#"{"dist": {"macos-floor": "twelve"}}"#, "macos-floor"),
        (
            r#"{"dist": {"build-on-macos": ["x86_64-unknown-linux-gnu"]}}"#,
            "is not an Apple target",
        ),
    ] {
        let err = format!(
            "{:#}",
            Workspace::from_metadata_json(&metadata(dist)).unwrap_err()
        );
        assert!(err.contains(expected), "{dist}: {err}");
    }
}

#[test]
fn malformed_tables_are_one_line_errors() {
    for (dist, expected) in [
        (
            r#"{"dist": {"targets": "x86_64-unknown-linux-musl"}}"#,
            "malformed [workspace.metadata.dist]",
        ),
        (
            r#"{"dist": {"glibc_floor": "2.17"}}"#,
            "unknown field `glibc_floor`",
        ),
        (r#"{"dist": {"glibc-floor": "two"}}"#, "glibc-floor"),
        (r#"{"dist": {"targets": []}}"#, "targets is empty"),
        (r#"{"dist": {"targets": ["linux"]}}"#, "not a target triple"),
        (
            r#"{"dist": {"include": ["NOPE.md"]}}"#,
            "`NOPE.md`, which is not a file",
        ),
        (
            r#"{"dist": {"packages": ["corelib"]}}"#,
            "has no binary target",
        ),
        (
            r#"{"dist": {"packages": ["ghost"]}}"#,
            "not a package of this workspace",
        ),
        (r#"{"dist": {"packages": []}}"#, "nothing to ship"),
        (
            r#"{"dist": {"runners": {"linux": "ubuntu-24.4"}}}"#,
            "runners] linux: `ubuntu-24.4` is not a GitHub runner label; did you mean `ubuntu-24.04`?",
        ),
    ] {
        let err = format!(
            "{:#}",
            Workspace::from_metadata_json(&metadata(dist)).unwrap_err()
        );
        assert!(err.contains(expected), "{dist}: {err}");
        assert!(!err.contains('\n'), "{err}");
    }
}
