//! What a maintainer sees: a plan table, one line per step per target, a
//! summary table. With `--json` stdout carries only the manifest, so the lines go to stderr.

use linkaudit::table::Table;
use std::io::Write;

pub struct Report {
    json: bool,
    /// Lines held back until `replay`: a step that runs on a background thread while cargo
    /// builds the next targets reports in order once it is joined, not between cargo's lines.
    held: Option<std::sync::Mutex<Vec<Held>>>,
}

enum Held {
    Line(String),
    Warning(String),
}

impl Report {
    pub fn new(json: bool) -> Report {
        Report { json, held: None }
    }

    /// A report like this one that keeps its lines until `replay`.
    pub fn held_back(&self) -> Report {
        Report {
            json: self.json,
            held: Some(std::sync::Mutex::new(Vec::new())),
        }
    }

    /// Prints the lines `held_back` kept, in order, through `to`.
    pub fn replay(self, to: &Report) {
        let held = self
            .held
            .map(|held| held.into_inner().unwrap_or_else(|e| e.into_inner()));
        for item in held.into_iter().flatten() {
            match item {
                Held::Line(text) => to.line(&text),
                Held::Warning(text) => to.warn(&text),
            }
        }
    }

    /// Keeps `item` when held back: then true, and nothing is printed now.
    fn hold(&self, item: impl FnOnce() -> Held) -> bool {
        let Some(held) = &self.held else {
            return false;
        };
        held.lock().unwrap_or_else(|e| e.into_inner()).push(item());
        true
    }

    pub fn line(&self, text: &str) {
        if self.hold(|| Held::Line(text.to_owned())) {
            return;
        }
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
        if !self.hold(|| Held::Warning(text.to_owned())) {
            eprintln!("warning: {text}");
        }
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
    fn held_back_lines_wait_for_replay_in_order() {
        let held = Report::new(false).held_back();
        held.step("verify", "x86_64-unknown-linux-musl", "pass");
        held.warn("a warning");
        held.line("a line");
        let lines = held.held.as_ref().unwrap().lock().unwrap();
        let texts: Vec<&str> = lines
            .iter()
            .map(|item| match item {
                Held::Line(text) | Held::Warning(text) => text.as_str(),
            })
            .collect();
        assert_eq!(
            texts,
            [
                "verify  x86_64-unknown-linux-musl      pass",
                "a warning",
                "a line"
            ]
        );
    }

    #[test]
    fn sizes_are_human() {
        assert_eq!(human_size(12), "12 B");
        assert_eq!(human_size(640 * 1024 + 5), "640 KiB");
        assert_eq!(human_size(3 << 20), "3.0 MiB");
    }
}
