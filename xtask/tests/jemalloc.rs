//! jemalloc's make builds only the library tikv-jemalloc-sys links
//! (xtask/src/pipeline/jemalloc_make.rs), and the release is the same bytes.
//!
//! The fixture's binary gets tikv-jemallocator as its global allocator. Then:
//! 1. `cargo xtask dist --target x86_64-unknown-linux-musl`: jemalloc's configure and make ran
//!    with musl-gcc, and its out dir holds `libjemalloc_pic.a` only;
//! 2. the same with `XTASK_JEMALLOC_PIC_ONLY=0`, into another target dir: `libjemalloc.a` is
//!    built beside it, as jemalloc's Makefile does on its own, and the symbol-list objects are
//!    optimized as the Makefile says;
//! 3. both archives are byte-identical, and so are their SHA256SUMS lines: the private
//!    namespace read from `-Og` symbol-list objects is the same.
//!
//! Needs: rustup target x86_64-unknown-linux-musl, musl-tools, make, network to crates.io
//! (tikv-jemallocator), git.

#![cfg(target_os = "linux")]

mod common;

use common::{archive_name, make_fixture_with, repo_root, xtask};
use std::path::Path;
use std::process::Command;

const MUSL: &str = "x86_64-unknown-linux-musl";

/// The fixture with tikv-jemallocator (versions pinned) as the binary's allocator.
fn with_jemalloc(ws: &Path) {
    let manifest = ws.join("crates/fixture-cli/Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap().replace(
        "[dependencies]\n",
        "[dependencies]\ntikv-jemallocator = \"=0.7.0\"\ntikv-jemalloc-sys = \"=0.7.1\"\n",
    );
    std::fs::write(&manifest, text).unwrap();
    let main = ws.join("crates/fixture-cli/src/main.rs");
    let mut text = std::fs::read_to_string(&main).unwrap();
    text.push_str(
        "\n#[global_allocator]\nstatic ALLOCATOR: tikv_jemallocator::Jemalloc = \
         tikv_jemallocator::Jemalloc;\n",
    );
    std::fs::write(&main, text).unwrap();
}

/// The file names in tikv-jemalloc-sys's `out/lib` under `target_dir`.
fn jemalloc_libs(target_dir: &Path) -> Vec<String> {
    let build = target_dir.join(MUSL).join("dist").join("build");
    let dirs: Vec<_> = std::fs::read_dir(&build)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            name.starts_with("tikv-jemalloc-sys-") && p.join("out").is_dir()
        })
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    let mut names: Vec<String> = std::fs::read_dir(dirs[0].join("out/lib"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn dist(ws: &Path, out: &str, target_dir: &Path, pic_only: bool) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
    cmd.args(["dist", "--target", MUSL, "--out-dir", out])
        .current_dir(ws)
        .env("CARGO_TARGET_DIR", target_dir);
    if !pic_only {
        cmd.env("XTASK_JEMALLOC_PIC_ONLY", "0");
    }
    let run = xtask(&mut cmd);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("C: musl-gcc: "),
        "jemalloc was not built with musl-gcc: {}",
        run.stdout
    );
}

#[test]
fn jemalloc_builds_only_the_linked_library_and_the_release_is_the_same_bytes() {
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("jemalloc");
    let _ = std::fs::remove_dir_all(&work);
    let ws = work.join("ws");
    make_fixture_with(&ws, &repo_root().join("Cargo.lock"), with_jemalloc);

    let pic_only = work.join("target-pic-only");
    dist(&ws, "dist-pic-only", &pic_only, true);
    assert_eq!(jemalloc_libs(&pic_only), ["libjemalloc_pic.a"]);

    let both = work.join("target-both");
    dist(&ws, "dist-both", &both, false);
    assert_eq!(jemalloc_libs(&both), ["libjemalloc.a", "libjemalloc_pic.a"]);

    let archive = archive_name(MUSL);
    let read = |dir: &str, name: &str| std::fs::read(ws.join(dir).join(name)).unwrap();
    assert!(
        read("dist-pic-only", &archive) == read("dist-both", &archive),
        "{archive} differs when jemalloc's make builds only libjemalloc_pic.a"
    );
    let sums = |dir: &str| {
        String::from_utf8(read(dir, "SHA256SUMS"))
            .unwrap()
            .lines()
            .find(|l| l.ends_with(&archive))
            .map(str::to_owned)
    };
    assert!(sums("dist-pic-only").is_some());
    assert_eq!(sums("dist-pic-only"), sums("dist-both"));
}
