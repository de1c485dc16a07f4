//! The human-readable output: an aligned table of files, and the scan summary.

use super::Checked;
use linkaudit::scan::Summary;
use std::io::{self, Write};
use std::path::PathBuf;

const HEADERS: [&str; 8] = [
    "FILE",
    "FORMAT",
    "ARCH",
    "KIND",
    "FLOOR",
    "VERDICT",
    "INTERPRETER",
    "NEEDED",
];

fn row(file: &Checked) -> [String; 8] {
    let audit = file.audit;
    let verdict = match file.policy {
        None => "-",
        Some(_) if file.violations.is_empty() => "pass",
        Some(_) => "FAIL",
    };
    let needed: Vec<&str> = audit
        .needed
        .iter()
        .chain(&audit.delay_load)
        .map(String::as_str)
        .collect();
    [
        file.path.display().to_string(),
        audit.format.to_string(),
        audit.arch.clone(),
        audit.kind.to_string(),
        audit.floor_summary().unwrap_or_else(|| "-".into()),
        verdict.into(),
        audit.interpreter.clone().unwrap_or_else(|| "-".into()),
        if needed.is_empty() {
            "-".into()
        } else {
            needed.join(", ")
        },
    ]
}

pub fn write_files(out: &mut impl Write, files: &[Checked], verbose: bool) -> io::Result<()> {
    let show_verdict = files.iter().any(|f| f.policy.is_some());
    let columns: Vec<usize> = (0..HEADERS.len())
        .filter(|&c| show_verdict || HEADERS[c] != "VERDICT")
        .collect();
    let rows: Vec<[String; 8]> = files.iter().map(row).collect();
    let widths = column_widths(&HEADERS, &rows);
    let write_row = |out: &mut dyn Write, cells: &[&str]| -> io::Result<()> {
        let last = *columns.last().expect("the table has columns");
        for &c in &columns {
            if c == last {
                writeln!(out, "{}", cells[c])?;
            } else {
                write!(out, "{:<width$}  ", cells[c], width = widths[c])?;
            }
        }
        Ok(())
    };
    write_row(out, &HEADERS)?;
    for row in &rows {
        write_row(out, &row.each_ref().map(String::as_str))?;
    }
    for file in files {
        for violation in &file.violations {
            writeln!(out, "{}: {violation}", file.path.display())?;
        }
    }
    if verbose {
        for file in files {
            write_details(out, file)?;
        }
    }
    Ok(())
}

/// The width of each column: its widest cell or its header, in characters.
pub fn column_widths<const N: usize>(
    headers: &[&str; N],
    rows: &[[impl AsRef<str>; N]],
) -> Vec<usize> {
    (0..N)
        .map(|c| {
            rows.iter()
                .map(|r| r[c].as_ref().chars().count())
                .chain([headers[c].len()])
                .max()
                .unwrap_or(0)
        })
        .collect()
}

fn write_details(out: &mut impl Write, file: &Checked) -> io::Result<()> {
    let audit = file.audit;
    writeln!(out, "\n{}:", file.path.display())?;
    let list = |items: &[String]| {
        if items.is_empty() {
            "-".to_owned()
        } else {
            items.join(", ")
        }
    };
    writeln!(out, "  needed:      {}", list(&audit.needed))?;
    writeln!(out, "  delay-load:  {}", list(&audit.delay_load))?;
    writeln!(out, "  rpath:       {}", list(&audit.rpath))?;
    writeln!(out, "  runpath:     {}", list(&audit.runpath))?;
    writeln!(out, "  crt dlls:    {}", list(&audit.crt_dlls))?;
    writeln!(out, "  weak:        {}", list(&audit.weak))?;
    writeln!(out, "  re-export:   {}", list(&audit.reexport))?;
    for (library, versions) in &audit.symbol_versions {
        writeln!(out, "  versions from {library}: {}", versions.join(" "))?;
    }
    let floors: Vec<String> = audit.version_floors.values().cloned().collect();
    writeln!(out, "  highest versions needed: {}", list(&floors))?;
    for slice in audit.thin_files() {
        if let Some(os) = &slice.os_floor {
            writeln!(out, "  {} floor: {}", slice.arch, os_floor_details(os))?;
        }
    }
    Ok(())
}

/// `macos 11.0 (sdk 14.5)`, `windows 6.0 (console subsystem 6.0)`.
fn os_floor_details(os: &linkaudit::OsFloor) -> String {
    let mut text = format!("{} {}", os.platform, os.min);
    if let Some(sdk) = os.sdk {
        text.push_str(&format!(" (sdk {sdk})"));
    }
    if let (Some(subsystem), Some(version)) = (&os.subsystem, os.subsystem_version) {
        text.push_str(&format!(" ({subsystem} subsystem {version})"));
    }
    text
}

pub fn write_summary(out: &mut impl Write, roots: &[PathBuf], summary: &Summary) -> io::Result<()> {
    let roots: Vec<String> = roots.iter().map(|r| r.display().to_string()).collect();
    writeln!(
        out,
        "{} binaries under {}",
        summary.binaries,
        roots.join(" ")
    )?;
    write_counts(out, summary)?;
    if let Some(limit) = summary.glibc_above {
        writeln!(
            out,
            "needing a glibc above {limit}: {}",
            summary.above_glibc.len()
        )?;
        for (path, floor) in &summary.above_glibc {
            writeln!(out, "  {}  GLIBC_{floor}", path.display())?;
        }
    }
    if let Some(policy) = &summary.policy {
        writeln!(
            out,
            "failing policy {policy}: {}",
            summary.failing_policy.len()
        )?;
        for (path, violations) in &summary.failing_policy {
            let culprits: Vec<String> = violations.iter().map(|v| v.to_string()).collect();
            writeln!(out, "  {}: {}", path.display(), culprits.join("; "))?;
        }
    }
    if !summary.errors.is_empty() {
        writeln!(out, "unreadable or malformed: {}", summary.errors.len())?;
        for (path, error) in &summary.errors {
            writeln!(out, "  {}: {}", path.display(), super::one_line(error))?;
        }
    }
    Ok(())
}

/// The `by format`, `by kind` and `by floor` lines of the summary.
fn write_counts(out: &mut impl Write, summary: &Summary) -> io::Result<()> {
    let counts = |pairs: Vec<(String, usize)>| {
        if pairs.is_empty() {
            return "-".to_owned();
        }
        pairs
            .iter()
            .map(|(name, n)| format!("{name} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    writeln!(
        out,
        "by format: {}",
        counts(
            summary
                .by_format
                .iter()
                .map(|(f, n)| (f.to_string(), *n))
                .collect()
        )
    )?;
    writeln!(
        out,
        "by kind: {}",
        counts(
            summary
                .by_kind
                .iter()
                .map(|(k, n)| (k.to_string(), *n))
                .collect()
        )
    )?;
    writeln!(
        out,
        "by floor: {}",
        counts(
            summary
                .by_floor
                .iter()
                .map(|((os, version), n)| (format!("{os} {version}"), *n))
                .collect()
        )
    )?;
    Ok(())
}
