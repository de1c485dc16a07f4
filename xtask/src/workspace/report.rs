//! What a maintainer sees: a plan table, one line per step per target, a
//! summary table. With `--json` stdout carries only the manifest, so the lines go to stderr.

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

    /// A table with a header row, columns padded to the widest cell.
    pub fn table(&self, header: &[&str], rows: &[Vec<String>]) {
        for line in format_table(header, rows) {
            self.line(&line);
        }
    }
}

pub fn format_table(header: &[&str], rows: &[Vec<String>]) -> Vec<String> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let render = |cells: Vec<&str>| {
        let mut line = String::from("  ");
        for (i, (cell, width)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<width$}  "));
            }
        }
        line.trim_end().to_owned()
    };
    let mut lines = vec![render(header.to_vec())];
    lines.extend(
        rows.iter()
            .map(|row| render(row.iter().map(String::as_str).collect())),
    );
    lines
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
    fn tables_pad_columns_to_the_widest_cell() {
        let lines = format_table(
            &["target", "how"],
            &[vec![
                "x86_64-unknown-linux-gnu".into(),
                "cargo zigbuild".into(),
            ]],
        );
        assert_eq!(lines[0], "  target                    how");
        assert_eq!(lines[1], "  x86_64-unknown-linux-gnu  cargo zigbuild");
    }

    #[test]
    fn sizes_are_human() {
        assert_eq!(human_size(12), "12 B");
        assert_eq!(human_size(640 * 1024 + 5), "640 KiB");
        assert_eq!(human_size(3 << 20), "3.0 MiB");
    }
}
