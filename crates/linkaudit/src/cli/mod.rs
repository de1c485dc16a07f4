//! Command-line parsing and the three commands: audit files, scan trees, verify a release.

mod deps_view;
mod json;
mod table;

use clap::{Parser, Subcommand};
use linkaudit::deps::Dependencies;
use linkaudit::scan::{scan, ScannedFile, Summary};
use linkaudit::{audit_path, shipped_beside, Audit, AuditError, GlibcVersion, Policies, Violation};
use std::io::Write;
use std::path::PathBuf;

/// Exit codes, the same for every command (see README).
pub const PASS: i32 = 0;
pub const VIOLATION: i32 = 1;
pub const UNREADABLE: i32 = 2;

/// Tells how ELF, PE and Mach-O binaries are linked, by reading them (never running them).
///
/// Exit status: 0 when every file passes, 1 when one breaks the policy, 2 when a file cannot be
/// read or is no binary.
#[derive(Parser)]
#[command(name = "linkaudit", version, args_conflicts_with_subcommands = true)]
#[command(subcommand_negates_reqs = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Binaries to audit.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    #[command(flatten)]
    output: Output,
    /// Also print the rpath, runpath, delay-loaded DLLs and symbol versions of each file.
    #[arg(short, long)]
    verbose: bool,
    /// Print the crates compiled into each file (the dependency list cargo-auditable embeds in
    /// its .dep-v0 section) instead of the linkage table.
    #[arg(long, conflicts_with_all = ["json", "verbose"])]
    deps: bool,
}

#[derive(clap::Args)]
struct Output {
    /// Check every file against a policy: static, glibc:MAJOR.MINOR (e.g. glibc:2.17), crt-static,
    /// macos:MAJOR.MINOR (e.g. macos:11.0) or windows:MAJOR.MINOR (e.g. windows:10.0); several
    /// joined by + (crt-static+windows:10.0). A library in the file's directory counts as shipped.
    #[arg(long, value_name = "POLICY")]
    policy: Option<Policies>,
    /// Print one JSON object per file (one per line) instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Walk directories, audit every binary in them in parallel and print a summary.
    Scan {
        /// Directories (or files) to walk; symbolic links inside them are not followed.
        #[arg(required = true, value_name = "DIR")]
        roots: Vec<PathBuf>,
        #[command(flatten)]
        output: Output,
        /// List the files that need a glibc newer than this version (e.g. 2.17).
        #[arg(long, value_name = "VERSION")]
        glibc_above: Option<GlibcVersion>,
    },
    /// Check a release directory: SHA256SUMS, <archive>.sha256, dist-manifest.json, archive
    /// entries, and the policy each binary's target implies.
    Verify {
        /// The dist/ directory written by `cargo xtask dist`.
        #[arg(value_name = "DIR")]
        dir: PathBuf,
        /// Also check the release's minisign signatures (SHA256SUMS.minisig, <archive>.sig) with
        /// this public key: its base64 (RW...) or a file holding it (minisign.pub).
        #[arg(long, value_name = "PUBKEY|FILE")]
        minisign_key: Option<String>,
        /// The most bytes of one archive entry read into memory (a binary is read whole); a
        /// larger entry fails its archive. An archive may inflate to 8 times this in all.
        #[arg(long, value_name = "BYTES", default_value_t = linkaudit::verify::DEFAULT_MAX_ENTRY_SIZE)]
        max_entry_size: u64,
    },
}

pub fn run() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return if err.use_stderr() { UNREADABLE } else { PASS };
        }
    };
    match cli.command {
        None => audit_files(&cli.files, &cli.output, cli.verbose, cli.deps),
        Some(Command::Scan {
            roots,
            output,
            glibc_above,
        }) => scan_trees(&roots, &output, glibc_above),
        Some(Command::Verify {
            dir,
            minisign_key,
            max_entry_size,
        }) => verify(
            &dir,
            minisign_key.as_deref(),
            linkaudit::verify::Limits::new(max_entry_size),
        ),
    }
}

/// One file's audit and its verdict under the policy asked for.
pub struct Checked<'a> {
    pub path: &'a std::path::Path,
    pub audit: &'a Audit,
    pub policy: Option<&'a Policies>,
    pub violations: Vec<Violation>,
    /// The embedded dependency list when it was read (`Some(None)`: the file has none); `None`
    /// where it is not read (`scan`).
    pub deps: Option<Option<&'a Dependencies>>,
}

/// Errors go to stderr on one line each, whatever the output format.
fn report_error(path: &std::path::Path, error: &AuditError) {
    eprintln!(
        "linkaudit: {}",
        one_line(&format!("{}: {error}", path.display()))
    );
}

pub fn one_line(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
}

fn audit_files(files: &[PathBuf], output: &Output, verbose: bool, deps_view: bool) -> i32 {
    let results: Vec<(PathBuf, Result<Audit, AuditError>)> = files
        .iter()
        .map(|path| (path.clone(), audit_path(path)))
        .collect();
    let mut code = PASS;
    let deps = read_dependency_lists(&results, &mut code);
    let mut checked = Vec::new();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for ((path, result), deps) in results.iter().zip(&deps) {
        match result {
            Ok(audit) => {
                let violations = output
                    .policy
                    .as_ref()
                    .map(|p| p.check_beside(audit, &shipped_beside(path)))
                    .unwrap_or_default();
                if !violations.is_empty() && code == PASS {
                    code = VIOLATION;
                }
                checked.push(Checked {
                    path,
                    audit,
                    policy: output.policy.as_ref(),
                    violations,
                    deps: Some(deps.as_ref()),
                });
            }
            Err(error) => {
                code = UNREADABLE;
                report_error(path, error);
                if output.json {
                    let _ = writeln!(out, "{}", json::error_line(path, error));
                }
            }
        }
    }
    write_checked(&mut out, &checked, output, verbose, deps_view);
    code
}

/// Each audited binary's dependency list (`.dep-v0`); read after the audit, so a file that is no
/// binary is reported once, by the audit. An unreadable list sets `code` to UNREADABLE.
fn read_dependency_lists(
    results: &[(PathBuf, Result<Audit, AuditError>)],
    code: &mut i32,
) -> Vec<Option<Dependencies>> {
    results
        .iter()
        .map(|(path, result)| match result {
            Ok(_) => linkaudit::deps::read_path(path).unwrap_or_else(|error| {
                *code = UNREADABLE;
                eprintln!(
                    "linkaudit: {}",
                    one_line(&format!("{}: {error}", path.display()))
                );
                None
            }),
            Err(_) => None,
        })
        .collect()
}

/// JSON lines, the deps view or the table.
fn write_checked(
    out: &mut impl Write,
    checked: &[Checked],
    output: &Output,
    verbose: bool,
    deps_view: bool,
) {
    if output.json {
        for file in checked {
            let _ = writeln!(out, "{}", json::file_line(file));
        }
    } else if deps_view {
        let _ = deps_view::write(out, checked);
    } else if !checked.is_empty() {
        let _ = table::write_files(out, checked, verbose);
    }
}

fn scan_trees(roots: &[PathBuf], output: &Output, glibc_above: Option<GlibcVersion>) -> i32 {
    let found = match scan(roots) {
        Ok(found) => found,
        Err(err) => {
            eprintln!("linkaudit scan: {}", one_line(&err.to_string()));
            return UNREADABLE;
        }
    };
    let summary = Summary::new(&found, glibc_above, output.policy.as_ref());
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if output.json {
        for ScannedFile { path, result } in &found {
            let line = match result {
                Ok(audit) => json::file_line(&Checked {
                    path,
                    audit,
                    policy: output.policy.as_ref(),
                    violations: output
                        .policy
                        .as_ref()
                        .map(|p| p.check_beside(audit, &shipped_beside(path)))
                        .unwrap_or_default(),
                    deps: None,
                }),
                Err(error) => json::error_line(path, error),
            };
            let _ = writeln!(out, "{line}");
        }
        let _ = writeln!(out, "{}", json::summary_line(&summary));
    } else {
        let _ = table::write_summary(&mut out, roots, &summary);
    }
    if summary.failing_policy.is_empty() && summary.above_glibc.is_empty() {
        PASS
    } else {
        VIOLATION
    }
}

fn verify(
    dir: &std::path::Path,
    minisign_key: Option<&str>,
    limits: linkaudit::verify::Limits,
) -> i32 {
    use linkaudit::signature::{check_signatures, parse_public_key};
    let checked = minisign_key
        .map(parse_public_key)
        .transpose()
        .and_then(|key| {
            let mut report = linkaudit::verify::verify_dir_with(dir, limits)?;
            let signed = match &key {
                Some(key) => Some(check_signatures(dir, key, &mut report)?),
                None => None,
            };
            Ok((report, signed))
        });
    if let Ok((report, _)) = &checked {
        // Printed whatever the verdict; they never change the exit code.
        for warning in &report.warnings {
            eprintln!(
                "linkaudit verify: warning: {}",
                one_line(&warning.to_string())
            );
        }
    }
    match checked {
        Err(err) => {
            eprintln!("linkaudit verify: {}", one_line(&err.to_string()));
            UNREADABLE
        }
        Ok((report, signed)) if report.failures.is_empty() => {
            println!(
                "{}: ok: {} archives, {} binaries, checksums and policies verified{}",
                dir.display(),
                report.archives,
                report.binaries,
                signed.map_or(String::new(), |n| format!(", {n} signatures"))
            );
            PASS
        }
        Ok((report, _)) => {
            for failure in &report.failures {
                eprintln!("linkaudit verify: {}", one_line(&failure.to_string()));
            }
            let count = report.failures.len();
            eprintln!(
                "linkaudit verify: {}: {count} check{} failed; do not publish or install this release",
                dir.display(),
                if count == 1 { "" } else { "s" },
            );
            VIOLATION
        }
    }
}
