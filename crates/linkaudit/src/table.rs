//! The one table printer of this workspace: `linkaudit`'s file table, the xtask's plan and summary
//! tables and BENCHMARKS.md's markdown tables all render through [`Table`], so that a change of
//! alignment or escaping is made once.

/// A header row and rows of cells, rendered as aligned text or as markdown.
#[derive(Debug, Clone)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column names and no rows yet.
    pub fn new<S: AsRef<str>>(header: &[S]) -> Table {
        Table {
            header: header.iter().map(|h| h.as_ref().to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds one row; a row shorter than the header leaves the last columns empty.
    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) -> &mut Table {
        self.rows.push(cells.into_iter().map(Into::into).collect());
        self
    }

    /// Adds every row.
    pub fn rows<S: Into<String>, R: IntoIterator<Item = S>>(
        mut self,
        rows: impl IntoIterator<Item = R>,
    ) -> Table {
        for row in rows {
            self.row(row);
        }
        self
    }

    /// Keeps only the columns for which `keep(index, name)` is true.
    pub fn only_columns(mut self, keep: impl Fn(usize, &str) -> bool) -> Table {
        let kept: Vec<usize> = (0..self.header.len())
            .filter(|&c| keep(c, &self.header[c]))
            .collect();
        let pick = |cells: &[String]| -> Vec<String> {
            kept.iter()
                .map(|&c| cells.get(c).cloned().unwrap_or_default())
                .collect()
        };
        self.header = pick(&self.header);
        self.rows = self.rows.iter().map(|row| pick(row)).collect();
        self
    }

    /// Text lines, each starting with `indent`: columns padded to their widest cell (counted in
    /// characters) and two spaces apart, the last column unpadded, no trailing spaces.
    pub fn aligned(&self, indent: &str) -> Vec<String> {
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let render = |cells: &[String]| {
            let mut line = String::from(indent);
            for (i, width) in widths.iter().enumerate() {
                let cell = cells.get(i).map_or("", String::as_str);
                if i + 1 == widths.len() {
                    line.push_str(cell);
                } else {
                    line.push_str(&format!("{cell:<width$}  "));
                }
            }
            line.trim_end().to_owned()
        };
        std::iter::once(&self.header)
            .chain(&self.rows)
            .map(|cells| render(cells))
            .collect()
    }

    /// A markdown table: the first column left-aligned, the others right-aligned (numbers).
    pub fn markdown(&self) -> String {
        let mut out = format!("| {} |\n|", self.header.join(" | "));
        for i in 0..self.header.len() {
            out.push_str(if i == 0 { ":---|" } else { "---:|" });
        }
        out.push('\n');
        for row in &self.rows {
            // A `|` ends a cell even inside backticks.
            let cells: Vec<String> = row.iter().map(|c| c.replace('|', "\\|")).collect();
            out.push_str(&format!("| {} |\n", cells.join(" | ")));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligned_pads_columns_to_the_widest_cell_but_not_the_last() {
        let table =
            Table::new(&["target", "how"]).rows([["x86_64-unknown-linux-gnu", "cargo zigbuild"]]);
        assert_eq!(
            table.aligned("  "),
            [
                "  target                    how",
                "  x86_64-unknown-linux-gnu  cargo zigbuild"
            ]
        );
    }

    #[test]
    fn widths_count_characters_not_bytes() {
        let table = Table::new(&["a", "b"]).rows([["µµ", "x"], ["ab", "y"]]);
        assert_eq!(table.aligned(""), ["a   b", "µµ  x", "ab  y"]);
    }

    #[test]
    fn columns_can_be_dropped_by_name() {
        let table = Table::new(&["FILE", "VERDICT", "NEEDED"])
            .rows([["a", "pass", "libc.so.6"]])
            .only_columns(|_, name| name != "VERDICT");
        assert_eq!(table.aligned(""), ["FILE  NEEDED", "a     libc.so.6"]);
    }

    #[test]
    fn markdown_escapes_pipes_and_right_aligns_numbers() {
        let table = Table::new(&["a", "b"]).rows([["`x | y`", "1"]]);
        assert_eq!(
            table.markdown(),
            "| a | b |\n|:---|---:|\n| `x \\| y` | 1 |\n"
        );
    }
}
