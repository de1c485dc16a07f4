//! The whole parse path: magic detection, ELF/PE/Mach-O headers, dynamic table, version needs,
//! import tables, load commands, universal slices, then every policy over the result.
#![no_main]

use libfuzzer_sys::fuzz_target;
use linkaudit::{audit_bytes, looks_like_binary, GlibcVersion, Policy};

fuzz_target!(|data: &[u8]| {
    let _ = looks_like_binary(data);
    if let Ok(audit) = audit_bytes(data) {
        for policy in [Policy::Static, Policy::CrtStatic, Policy::Glibc(GlibcVersion::new(2, 17))] {
            let _ = policy.check(&audit);
        }
    }
});
