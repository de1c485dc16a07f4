//! `linkaudit verify`'s archive readers over arbitrary bytes: gzip members and tar headers,
//! zip central directories against local headers, wheel names and scripts, links, limits. The
//! first byte picks the kind; the rest is the file. Any outcome is fine but a panic, a hang or
//! memory beyond the limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use linkaudit::verify::{check_archive, Limits, Report, DEFAULT_GLIBC_FLOOR};
use std::path::PathBuf;
use std::sync::OnceLock;

const NAMES: [&str; 4] = [
    "demo-x86_64-unknown-linux-musl.tar.gz",
    "demo-x86_64-pc-windows-msvc.zip",
    "demo-0.1.0-py3-none-manylinux_2_17_x86_64.musllinux_1_1_x86_64.whl",
    "demo-aarch64-apple-darwin.tar.gz",
];

fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("linkaudit-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&kind, bytes)) = data.split_first() else {
        return;
    };
    let name = NAMES[usize::from(kind) % NAMES.len()];
    std::fs::write(dir().join(name), bytes).unwrap();
    let mut report = Report::default();
    // Small limits, so that the fuzzer's memory limit holds whatever the input claims.
    let limits = Limits::new(16 << 20);
    check_archive(dir(), name, None, DEFAULT_GLIBC_FLOOR, limits, &mut report);
});
