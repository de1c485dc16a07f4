//! BENCHMARKS.md: the machine, then one part per section. A run of some sections replaces those
//! parts and keeps the others from the previous file, each part saying when and at which commit
//! it was measured.

use super::hyperfine::Timing;
use linkaudit::table::Table;

/// `1.23 s`, `45.6 ms`, `789 µs`.
pub fn secs(s: f64) -> String {
    if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 0.001 {
        format!("{:.1} ms", s * 1e3)
    } else {
        format!("{:.0} µs", s * 1e6)
    }
}

/// `0.42x`: how long `a` takes for each second `b` takes.
pub fn ratio(a: f64, b: f64) -> String {
    format!("{:.2}x", a / b)
}

/// A markdown table (linkaudit's one table printer).
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    Table::new(header).rows(rows.iter().cloned()).markdown()
}

/// The usual timing row: name, median, min–max, runs, ratio against `base`.
pub fn timing_row(t: &Timing, base: &Timing) -> Vec<String> {
    vec![
        format!("`{}`", t.name),
        secs(t.median),
        format!("{} – {}", secs(t.min), secs(t.max)),
        t.runs.to_string(),
        ratio(t.median, base.median),
    ]
}

pub const TIMING_HEADER: [&str; 5] = ["command", "median", "min – max", "runs", "ratio"];

const BEGIN: &str = "<!-- bench:";
const END: &str = "<!-- /bench -->";

/// Wraps a section's text in markers that the next partial run finds it by.
pub fn part(key: &str, text: &str) -> String {
    format!("{BEGIN}{key} -->\n{}\n{END}\n", text.trim_end())
}

/// The parts of a previous BENCHMARKS.md, by key.
pub fn parts(previous: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut rest = previous;
    while let Some(start) = rest.find(BEGIN) {
        let after = &rest[start + BEGIN.len()..];
        let Some(key_end) = after.find(" -->") else {
            break;
        };
        let key = after[..key_end].to_owned();
        let Some(end) = after.find(END) else { break };
        found.push((
            key,
            rest[start..start + BEGIN.len() + end + END.len()].to_owned() + "\n",
        ));
        rest = &after[end + END.len()..];
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_naturally() {
        assert_eq!(secs(2.345), "2.35 s");
        assert_eq!(secs(0.0456), "45.6 ms");
        assert_eq!(secs(0.000789), "789 µs");
        assert_eq!(ratio(1.0, 4.0), "0.25x");
    }

    #[test]
    fn parts_of_a_previous_file_are_found_by_key() {
        let text = format!(
            "# head\n{}{}tail\n",
            part("pack", "## Pack\n1"),
            part("scan", "## Scan\n2")
        );
        let found = parts(&text);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].0, "pack");
        assert_eq!(found[0].1, part("pack", "## Pack\n1"));
        assert_eq!(found[1].1, part("scan", "## Scan\n2"));
    }
}
