//! The check against tables cargo-binstall would read, and this workspace's own.

use super::*;

fn package(table: serde_json::Value) -> Package {
    Package {
        name: "tool".into(),
        version: "1.2.3".into(),
        binaries: vec!["tool".into()],
        repository: Some("https://github.com/owner/tool/".into()),
        binstall: Some(table),
        ..Package::default()
    }
}

/// The table README shows, as `{ table }` plus `overrides`.
fn readme_table(overrides: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "pkg-url": PKG_URL, "bin-dir": BIN_DIR, "pkg-fmt": "tgz", "overrides": overrides,
        "signing": {"algorithm": "minisign", "pubkey": "RW..."}
    })
}

fn check_one(table: serde_json::Value, target: &str) -> Result<(), String> {
    let package = package(table);
    let meta: Meta = serde_json::from_value(package.binstall.clone().unwrap()).unwrap();
    check_target(&package, &meta, &TargetTriple::parse(target).unwrap())
}

#[test]
fn the_readme_table_finds_every_archive() {
    let zip = serde_json::json!({"x86_64-pc-windows-msvc": {"pkg-fmt": "zip"}});
    for target in [
        "x86_64-unknown-linux-gnu",
        "aarch64-unknown-linux-musl",
        "aarch64-apple-darwin",
        "x86_64-pc-windows-msvc",
    ] {
        assert_eq!(
            check_one(readme_table(zip.clone()), target),
            Ok(()),
            "{target}"
        );
    }
    // Spacing, escapes and the old names render as cargo-binstall renders them.
    let spelled = serde_json::json!({
        "pkg-url": "{repo}/releases/download/v{version}/{ name }-{target}.{ archive-format }",
        "bin-dir": "{name}-{target}/{bin}{format}",
        "signing": {"file": "{ url }.sig"}
    });
    assert_eq!(check_one(spelled, "x86_64-pc-windows-msvc"), Ok(()));
}

#[test]
fn a_mismatch_says_which_key_to_set_to_what() {
    let err = |table, target| check_one(table, target).unwrap_err();
    let windows = "x86_64-pc-windows-msvc";
    assert_eq!(
        err(readme_table(serde_json::json!({})), windows),
        "pkg-fmt is \"tgz\" for x86_64-pc-windows-msvc, whose archive is a .zip: set pkg-fmt = \
         \"zip\" in [package.metadata.binstall.overrides.x86_64-pc-windows-msvc]"
    );
    let versioned = serde_json::json!({
        "pkg-url": "{ repo }/releases/download/v{ version }/{ name }-{ target }-v{ version }.tar.gz"
    });
    assert_eq!(
        err(versioned, "x86_64-unknown-linux-musl"),
        format!(
            "pkg-url gives https://github.com/owner/tool/releases/download/v1.2.3/\
             tool-x86_64-unknown-linux-musl-v1.2.3.tar.gz for x86_64-unknown-linux-musl, but \
             the release has https://github.com/owner/tool/releases/download/v1.2.3/\
             tool-x86_64-unknown-linux-musl.tar.gz: set pkg-url = \"{PKG_URL}\""
        )
    );
    let flat = serde_json::json!({"bin-dir": "{ bin }{ binary-ext }"});
    assert!(err(flat, windows).starts_with(
        "bin-dir gives tool.exe for tool on x86_64-pc-windows-msvc, but the archive holds \
         tool-x86_64-pc-windows-msvc/tool.exe"
    ));
    let signature = serde_json::json!({"signing": {"file": "{ url }.minisig"}, "pkg-fmt": "tgz"});
    assert!(err(signature, "aarch64-apple-darwin").starts_with("signing.file gives"));
    let by_cfg = serde_json::json!({"overrides": {"cfg(windows)": {"pkg-fmt": "zip"}}});
    assert!(err(by_cfg, windows).contains("overrides.'cfg(windows)' is not checked"));
    let unknown = serde_json::json!({"pkg-url": "{ repo }/{ target-arch }"});
    assert!(err(unknown, windows).starts_with("pkg-url uses { target-arch }, which"));
    let unclosed = serde_json::json!({"pkg-url": "{ repo"});
    assert!(err(unclosed, windows).starts_with("pkg-url has an unclosed {"));
}

/// This workspace's own table (crates/linkaudit/Cargo.toml) against its whole target matrix.
#[test]
fn the_products_table_finds_the_archives_of_every_release_target() {
    let ws = Workspace::load(&xshell::Shell::new().unwrap()).unwrap();
    let product = ws.packages.iter().find(|p| p.name == "linkaudit").unwrap();
    let meta: Meta = serde_json::from_value(product.binstall.clone().unwrap()).unwrap();
    assert!(meta.pkg_url.is_some() && meta.bin_dir.is_some());
    for triple in &ws.targets {
        assert_eq!(
            check_target(product, &meta, triple),
            Ok(()),
            "{}",
            triple.as_str()
        );
    }
}

/// Without pkg-url, bin-dir, pkg-fmt or overrides there is nothing to check (cargo-binstall
/// uses its defaults); a malformed table is one line.
#[test]
fn a_table_that_says_nothing_of_the_archives_is_not_checked() {
    let mut package = package(serde_json::json!({"signing": {"pubkey": "RW..."}}));
    assert!(table_of(&package).unwrap().is_none());
    package.binstall = None;
    assert!(table_of(&package).unwrap().is_none());
    package.binstall = Some(serde_json::json!({"overrides": {"t": {}}}));
    assert!(table_of(&package).unwrap().is_some());
    package.binstall = Some(serde_json::json!({"pkg-url": 3}));
    let err = table_of(&package).unwrap_err().to_string();
    assert!(err.starts_with("malformed [package.metadata.binstall] in package tool: "));
    assert!(!err.contains('\n'), "{err}");
}

#[test]
fn escapes_render_as_the_characters() {
    let package = package(serde_json::json!({}));
    let values = Values {
        package: &package,
        repo: None,
        target: "t",
        archive_suffix: ".zip",
        binary_ext: "",
        bin: None,
        url: None,
    };
    assert_eq!(
        render(r"\{a\}\\b\c{name}", &values).unwrap(),
        r"{a}\b\ctool"
    );
}
