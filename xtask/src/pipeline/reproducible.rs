//! What makes two builds of one commit the same bytes, whatever the checkout path: the rustc
//! flags given per target with `--config` (path remapping, no link time in PE headers, no debug
//! stabs in Mach-O), and the path remappings the C toolchain reuses (`c_toolchain.rs`).

use crate::workspace::config::Workspace;
use crate::workspace::target::TargetTriple;
use linkaudit::target::{Env, Os};
use std::path::{Path, PathBuf};

/// The rustc flags that make a target's binaries reproducible: `--remap-path-prefix` keeps the
/// checkout path and the cargo home out of them, and PE linkers are told not to stamp the link
/// time into the COFF header. `build.rs` passes them per target with `--config` (see
/// `target_config` there).
pub fn flags(ws: &Workspace, triple: &TargetTriple) -> Vec<String> {
    let mut flags: Vec<String> = remaps(ws)
        .iter()
        .map(|(from, to)| format!("--remap-path-prefix={}={to}", from.display()))
        .collect();
    let t = triple.target();
    match (&t.os, &t.env, t.abi.as_str()) {
        // GNU ld writes the link time into the PE header (and so into its checksum).
        (Os::Windows, Env::Gnu, "") => {
            flags.push("-Clink-arg=-Wl,--no-insert-timestamp".to_owned())
        }
        // link.exe and lld-link: a content hash instead of the link time.
        (Os::Windows, Env::Msvc, "") => flags.push("-Clink-arg=/Brepro".to_owned()),
        // A Mach-O linker (zig's, like Apple's ld64) hashes its output into LC_UUID before rustc
        // strips it, and that output holds debug stabs naming each object file by absolute path
        // (rlib members under rustc's random temp dir): two checkouts of the test fixture gave
        // x86_64 binaries differing in exactly the 16 bytes of LC_UUID. `-S` writes no stabs, so
        // the UUID hashes what ships; the binaries are stripped anyway.
        (Os::Darwin, _, _) => flags.push("-Clink-arg=-Wl,-S".to_owned()),
        _ => {}
    }
    flags
}

/// The paths kept out of the binaries and what they become: the cargo home, the checkout, the
/// target dir. rustc and gcc both apply the LAST matching remapping, so the most specific prefix
/// comes last.
pub fn remaps(ws: &Workspace) -> Vec<(PathBuf, String)> {
    let mut remaps = Vec::new();
    if let Some(cargo_home) = cargo_home() {
        remaps.push((cargo_home, "/cargo".to_owned()));
    }
    remaps.push((ws.root.clone(), ".".to_owned()));
    remaps.push((ws.target_dir.clone(), "./target".to_owned()));
    remaps
}

fn cargo_home() -> Option<PathBuf> {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| {
            let home = std::env::var_os("HOME").or_else(|| std::env::var_os("USERPROFILE"))?;
            Some(Path::new(&home).join(".cargo"))
        })
}
