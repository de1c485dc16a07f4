//! The whole parse path: magic detection, ELF/PE/Mach-O headers, dynamic table, version needs,
//! import tables, optional header versions, load commands (build version, dylibs), universal
//! slices, then every policy over the result, with and without libraries shipped beside it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use linkaudit::{audit_bytes, looks_like_binary, GlibcVersion, OsVersion, Policy};

fuzz_target!(|data: &[u8]| {
    let _ = looks_like_binary(data);
    if let Ok(audit) = audit_bytes(data) {
        let _ = audit.floor_summary();
        for policy in [
            Policy::Static,
            Policy::CrtStatic,
            Policy::Glibc(GlibcVersion::new(2, 17)),
            Policy::Macos(OsVersion::new(11, 0)),
            Policy::Windows(OsVersion::new(10, 0)),
        ] {
            let _ = policy.check(&audit);
            let _ = policy.check_beside(&audit, &|name| name.len() % 2 == 0);
        }
    }
});
