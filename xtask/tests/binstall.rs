//! `[package.metadata.binstall]` checked by `cargo xtask dist`: a table that misses the archives
//! stops the run with one line naming the key to set, before anything is built; dist/ is not
//! created.

#![cfg(target_os = "linux")]

mod common;

use common::{make_fixture, repo_root, xtask};
use std::path::Path;
use std::process::Command;

#[test]
fn a_table_that_misses_the_archives_stops_dist_before_it_builds() {
    let ws = Path::new(env!("CARGO_TARGET_TMPDIR")).join("binstall-mismatch");
    let _ = std::fs::remove_dir_all(&ws);
    make_fixture(&ws, &repo_root().join("Cargo.lock"));
    let manifest = ws.join("crates/fixture-cli/Cargo.toml");
    let good = std::fs::read_to_string(&manifest).unwrap();
    for (from, to, expected) in [
        (
            "{ target }{ archive-suffix }\"",
            "{ target }-v{ version }{ archive-suffix }\"",
            "pkg-url gives https://github.com/fixture-owner/fixture-cli/releases/download/v0.1.0/\
             fixture-cli-x86_64-unknown-linux-gnu-v0.1.0.tar.gz for x86_64-unknown-linux-gnu, but \
             the release has https://github.com/fixture-owner/fixture-cli/releases/download/v0.1.0/\
             fixture-cli-x86_64-unknown-linux-gnu.tar.gz: set pkg-url = ",
        ),
        (
            "bin-dir = \"{ name }-{ target }/",
            "bin-dir = \"",
            "bin-dir gives fixture-cli for fixture-cli on x86_64-unknown-linux-gnu, but the \
             archive holds fixture-cli-x86_64-unknown-linux-gnu/fixture-cli: set bin-dir = ",
        ),
        (
            "[package.metadata.binstall.overrides.x86_64-pc-windows-gnu]\npkg-fmt = \"zip\"\n",
            "",
            "pkg-fmt is \"tgz\" for x86_64-pc-windows-gnu, whose archive is a .zip: set pkg-fmt = \
             \"zip\" in [package.metadata.binstall.overrides.x86_64-pc-windows-gnu]",
        ),
    ] {
        assert!(good.contains(from), "{from}");
        std::fs::write(&manifest, good.replace(from, to)).unwrap();
        let failed = xtask(
            Command::new(env!("CARGO_BIN_EXE_xtask"))
                .arg("dist")
                .current_dir(&ws),
        );
        assert_eq!(failed.code, 1);
        assert_eq!(failed.stderr.lines().count(), 1, "{}", failed.stderr);
        assert!(
            failed.stderr.contains(&format!(
                "package fixture-cli's [package.metadata.binstall] does not match its release: \
                 {expected}"
            )),
            "{}",
            failed.stderr
        );
        assert!(!ws.join("dist").exists(), "a refused run created dist/");
    }
    std::fs::write(&manifest, good).unwrap();
}
