//! Reading .github/workflows/release.yml in the tests: its jobs and the `cargo xtask` commands of
//! their `run:` steps, in a form that compares with what `cargo xtask release --dry-run` printed.

use std::collections::BTreeSet;

/// The jobs of a workflow, in order, with their text: a job starts with its key at two spaces
/// under `jobs:`.
pub fn jobs(workflow: &str) -> Vec<(String, String)> {
    let mut jobs: Vec<(String, String)> = Vec::new();
    for line in workflow.lines().skip_while(|l| *l != "jobs:").skip(1) {
        let key = line
            .strip_prefix("  ")
            .and_then(|l| l.strip_suffix(':'))
            .filter(|k| !k.starts_with([' ', '#']));
        match (key, jobs.last_mut()) {
            (Some(key), _) => jobs.push((key.to_owned(), String::new())),
            (None, Some((_, body))) => body.push_str(&format!("{line}\n")),
            (None, None) => {}
        }
    }
    jobs
}

/// The one-line `run:` scripts of a job's text.
pub fn run_lines(job: &str) -> Vec<String> {
    job.lines()
        .filter_map(|l| l.trim_start().strip_prefix("run: "))
        .map(str::to_owned)
        .collect()
}

/// `cargo xtask dist --target "$T" --out-dir X` -> `dist --out-dir --target`: the subcommand and
/// its flags, sorted, without values; None for a line that is not a `cargo xtask` command.
pub fn xtask_shape(line: &str) -> Option<String> {
    let rest = line.split("cargo xtask ").nth(1)?;
    let mut words = rest.split_whitespace();
    let subcommand = words.next()?;
    let flags: BTreeSet<&str> = words
        .filter(|w| w.starts_with("--"))
        .map(|w| w.split('=').next().unwrap_or(w))
        .collect();
    let mut shape = subcommand.to_owned();
    for flag in flags {
        shape.push(' ');
        shape.push_str(flag);
    }
    Some(shape)
}
