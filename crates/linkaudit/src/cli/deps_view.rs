//! `linkaudit --deps FILE...`: the crates each binary carries, one table per file, from the
//! dependency list cargo-auditable embeds (`.dep-v0`).

use super::Checked;
use linkaudit::table::Table;
use std::io::{self, Write};

const HEADERS: [&str; 4] = ["CRATE", "VERSION", "SOURCE", "KIND"];

pub fn write(out: &mut impl Write, files: &[Checked]) -> io::Result<()> {
    for (index, file) in files.iter().enumerate() {
        if index > 0 {
            writeln!(out)?;
        }
        let Some(Some(deps)) = file.deps else {
            writeln!(
                out,
                "{}: no dependency list (no .dep-v0 section: build it with cargo-auditable)",
                file.path.display()
            )?;
            continue;
        };
        writeln!(
            out,
            "{}: {} crates",
            file.path.display(),
            deps.packages.len()
        )?;
        // The binary's own crate first, then by name and version.
        let mut rows: Vec<[&str; 4]> = deps
            .packages
            .iter()
            .map(|p| [p.name.as_str(), &p.version, &p.source, p.kind.as_str()])
            .collect();
        let root = deps.root().map(|p| p.name.as_str());
        rows.sort_by_key(|r| (Some(r[0]) != root, r[0], r[1]));
        for line in Table::new(&HEADERS).rows(rows).aligned("") {
            writeln!(out, "{line}")?;
        }
    }
    Ok(())
}
