//! Truncated, corrupted and random inputs: `audit_bytes` never panics, and the CLI answers with
//! exit code 2 and a one-line error whenever the library cannot read the file.

mod common;

use common::{fixtures, linkaudit, stderr, wheel_binary};
use linkaudit::audit_bytes;
use proptest::prelude::*;
use std::path::{Path, PathBuf};

/// The fixtures built here, and two small third-party files from pinned wheels: a universal
/// Mach-O (fat header, two slices with LC_BUILD_VERSION) and an MSVC PE.
fn real_binaries() -> Vec<(PathBuf, Vec<u8>)> {
    let f = fixtures();
    let wheels = [
        "markupsafe-speedups-universal2.so",
        "markupsafe-speedups-win_amd64.pyd",
    ];
    f.all()
        .into_iter()
        .cloned()
        .chain(wheels.map(wheel_binary))
        .map(|path| {
            let data = std::fs::read(&path).expect("read a real binary");
            (path, data)
        })
        .collect()
}

/// How many files [`real_binaries`] returns.
const REAL_BINARIES: usize = 10;

/// The magic numbers `object` dispatches on, so random inputs reach every parser.
const MAGICS: &[&[u8]] = &[
    b"\x7fELF\x02\x01\x01\x00",
    b"\x7fELF\x01\x01\x01\x00",
    b"\x7fELF\x02\x02\x01\x00",
    b"MZ",
    &[0xcf, 0xfa, 0xed, 0xfe],
    &[0xce, 0xfa, 0xed, 0xfe],
    &[0xfe, 0xed, 0xfa, 0xcf],
    &[0xca, 0xfe, 0xba, 0xbe],
    &[0xca, 0xfe, 0xba, 0xbf],
];

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("robustness");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// The CLI agrees with the library: exit 2 and exactly one line on stderr when the bytes cannot
/// be audited, exit 0 when they can (no policy given).
fn assert_cli_matches_library(bytes: &[u8], file: &Path) -> Result<(), TestCaseError> {
    std::fs::write(file, bytes).unwrap();
    let output = linkaudit(&[&file]);
    let errors = stderr(&output);
    match audit_bytes(bytes) {
        Err(error) => {
            prop_assert_eq!(output.status.code(), Some(2), "{}", error);
            prop_assert_eq!(errors.lines().count(), 1, "{}", errors);
            prop_assert!(errors.starts_with("linkaudit: "), "{}", errors);
            prop_assert!(!errors.contains("panicked"), "{}", errors);
        }
        Ok(_) => prop_assert_eq!(output.status.code(), Some(0), "{}", errors),
    }
    Ok(())
}

#[test]
fn every_truncation_of_small_prefixes_is_handled() {
    // The headers live in the first few KiB: try every length there, then every 61st byte.
    for (path, data) in real_binaries() {
        let lengths = (0..data.len().min(4096)).chain((4096..data.len()).step_by(61));
        for length in lengths {
            let result = std::panic::catch_unwind(|| audit_bytes(&data[..length]));
            assert!(
                result.is_ok(),
                "audit_bytes panicked on {} cut at {length} bytes",
                path.display()
            );
        }
        // The whole file audits; the empty one is no binary.
        assert!(audit_bytes(&data).is_ok(), "{}", path.display());
        assert!(audit_bytes(&[]).is_err());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn truncated_real_binaries_never_panic(which in 0usize..REAL_BINARIES, cut in any::<prop::sample::Index>()) {
        let binaries = real_binaries();
        let (_, data) = &binaries[which];
        let _ = audit_bytes(&data[..cut.index(data.len())]);
    }

    #[test]
    fn corrupted_real_binaries_never_panic(
        which in 0usize..REAL_BINARIES,
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..16),
    ) {
        let binaries = real_binaries();
        let mut data = binaries[which].1.clone();
        for (at, byte) in flips {
            let at = at.index(data.len());
            data[at] = byte;
        }
        let _ = audit_bytes(&data);
    }

    #[test]
    fn random_bytes_behind_a_magic_never_panic(
        magic in prop::sample::select(MAGICS),
        tail in prop::collection::vec(any::<u8>(), 0..4096),
    ) {
        let data = [magic, &tail[..]].concat();
        let _ = audit_bytes(&data);
    }
}

proptest! {
    // Each case runs the binary: fewer cases, still many truncation points and random files.
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn cli_exits_2_with_one_line_on_truncated_binaries(
        which in 0usize..REAL_BINARIES,
        cut in any::<prop::sample::Index>(),
    ) {
        let binaries = real_binaries();
        let (_, data) = &binaries[which];
        let cut = cut.index(data.len());
        assert_cli_matches_library(&data[..cut], &scratch("truncated"))?;
    }

    #[test]
    fn cli_exits_2_with_one_line_on_random_files(
        magic in prop::sample::select(MAGICS),
        tail in prop::collection::vec(any::<u8>(), 0..2048),
    ) {
        let data = [magic, &tail[..]].concat();
        assert_cli_matches_library(&data, &scratch("random"))?;
    }
}

#[test]
fn cli_exits_2_on_headers_cut_short() {
    // The deterministic counterpart: each real binary cut inside its headers is an error.
    for (path, data) in real_binaries() {
        for cut in [1, 3, 20, 63] {
            let file = scratch("cut-short");
            std::fs::write(&file, &data[..cut]).unwrap();
            let output = linkaudit(&[&file]);
            assert_eq!(
                output.status.code(),
                Some(2),
                "{} cut at {cut}",
                path.display()
            );
            assert_eq!(stderr(&output).lines().count(), 1, "{}", stderr(&output));
        }
    }
}

/// Writes `data` to a scratch file and runs the CLI on it: exit 2 and one line on stderr that
/// names the file and contains `problem`.
fn assert_one_line_error(name: &str, data: &[u8], problem: &str) {
    let file = scratch(name);
    std::fs::write(&file, data).unwrap();
    let output = linkaudit(&[&file]);
    let errors = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{name}: {errors}");
    assert_eq!(errors.lines().count(), 1, "{errors}");
    assert!(
        errors.starts_with(&format!(
            "linkaudit: {}: malformed binary (",
            file.display()
        )),
        "{errors}"
    );
    assert!(errors.contains(problem), "{name}: {errors}");
    assert!(!errors.contains("panicked"), "{errors}");
}

fn be32(data: &[u8], at: usize) -> usize {
    u32::from_be_bytes(data[at..at + 4].try_into().unwrap()) as usize
}

#[test]
fn broken_load_commands_slice_tables_and_optional_headers_exit_2_naming_the_problem() {
    let fat = std::fs::read(wheel_binary("markupsafe-speedups-universal2.so")).unwrap();
    // The fat header is big-endian: magic, count, then 20 bytes per slice (cputype, subtype,
    // offset, size, align). Slice 1 moved past the end of the file:
    let mut bad_table = fat.clone();
    bad_table[8 + 20 + 8..8 + 20 + 12].copy_from_slice(&u32::MAX.to_be_bytes());
    assert_one_line_error("bad-slice-table", &bad_table, "universal binary slice 1");
    // The first load command of slice 0 claims to run far past the load command area:
    let slice0 = be32(&fat, 8 + 8);
    let mut bad_command = fat.clone();
    let cmdsize = slice0 + 32 + 4;
    bad_command[cmdsize..cmdsize + 4].copy_from_slice(&0x00ff_fff0u32.to_le_bytes());
    assert_one_line_error("bad-load-command", &bad_command, "universal binary slice 0");
    // The thin slice alone, cut in the middle of its load commands:
    let size = be32(&fat, 8 + 12);
    let thin = &fat[slice0..slice0 + size];
    assert!(audit_bytes(thin).is_ok());
    assert_one_line_error("truncated-load-commands", &thin[..32 + 40], "");

    // PE: the optional header starts 24 bytes after the `PE\0\0` the e_lfanew field points at.
    let pe = std::fs::read(wheel_binary("markupsafe-speedups-win_amd64.pyd")).unwrap();
    let nt = u32::from_le_bytes(pe[0x3c..0x40].try_into().unwrap()) as usize;
    assert_one_line_error("truncated-optional-header", &pe[..nt + 24 + 40], "");
}
