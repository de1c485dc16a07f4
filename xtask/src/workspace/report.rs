//! What a maintainer sees: a plan table, one line per step per target, a
//! summary table. With `--json` stdout carries only the manifest, so the lines go to stderr.

use linkaudit::table::Table;
use std::io::Write;

pub struct Report {
    json: bool,
}

impl Report {
    pub fn new(json: bool) -> Report {
        Report { json }
    }

    pub fn line(&self, text: &str) {
        if self.json {
            eprintln!("{text}");
        } else {
            println!("{text}");
            let _ = std::io::stdout().flush();
        }
    }

    /// `build   x86_64-unknown-linux-musl    ok ...`: the step, the target, what happened.
    pub fn step(&self, step: &str, target: &str, what: &str) {
        self.line(&format!("{step:<8}{target:<30} {what}"));
    }

    pub fn warn(&self, text: &str) {
        eprintln!("warning: {text}");
    }

    /// A table with a header row, columns padded to the widest cell, indented by two spaces.
    pub fn table(&self, header: &[&str], rows: &[Vec<String>]) {
        let table = Table::new(header).rows(rows.iter().cloned());
        for line in table.aligned("  ") {
            self.line(&line);
        }
    }
}

/// `1.2 MiB`, `640 KiB`, `12 B`.
pub fn human_size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{} KiB", b / (1 << 10)),
        b => format!("{b} B"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_human() {
        assert_eq!(human_size(12), "12 B");
        assert_eq!(human_size(640 * 1024 + 5), "640 KiB");
        assert_eq!(human_size(3 << 20), "3.0 MiB");
    }
}
