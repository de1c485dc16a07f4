//! Linkage verified before anything is packed, by reading each file through
//! the linkaudit library (the `object` crate), never by running `ldd`: ldd runs the binary's own
//! loader, is useless on foreign-arch files and is missing on minimal distros (cargo-dist #1439).

use super::build::{self, BuiltBinary};
use crate::workspace::config::{Package, Workspace};
use crate::workspace::report::Report;
use crate::workspace::target::TargetTriple;
use anyhow::{bail, Context, Result};
use linkaudit::{Audit, Floors, Policies, Policy, Violation};
use std::path::Path;

/// What we found about one binary, and the verdict of the target's policy.
#[derive(Debug, Clone)]
pub struct Linkage {
    pub binary: BuiltBinary,
    pub audit: Audit,
    /// `None` for targets without a rule: audited and listed, not judged.
    pub policy: Option<Policies>,
    pub violations: Vec<Violation>,
}

impl Linkage {
    pub fn verdict(&self) -> &'static str {
        match (&self.policy, self.violations.is_empty()) {
            (None, _) => "unchecked",
            (Some(_), true) => "pass",
            (Some(_), false) => "fail",
        }
    }

    /// `static-pie, needs nothing` / `dynamic, glibc 2.16, needs libc.so.6 libm.so.6` /
    /// `dynamic, macos 11.0, needs /usr/lib/libSystem.B.dylib`.
    pub fn describe(&self) -> String {
        let mut text = self.audit.kind.to_string();
        if let Some(floor) = self.audit.floor_summary() {
            text.push_str(&format!(", {floor}"));
        }
        if self.audit.needed.is_empty() {
            text.push_str(", needs no shared library");
        } else {
            text.push_str(&format!(", needs {}", self.audit.needed.join(" ")));
        }
        text
    }

    /// One line per violation: the binary, its target and the culprit.
    pub fn violation_lines(&self, triple: &TargetTriple) -> Vec<String> {
        self.violations
            .iter()
            .map(|v| format!("{} ({triple}): {v}", self.binary.file_name))
            .collect()
    }
}

/// Audits every binary of one target against the policies the target implies. A library is
/// shipped beside a binary when it is one of the target's binaries (it goes in the same archive).
pub fn verify_linkage(
    triple: &TargetTriple,
    floors: &Floors,
    binaries: &[BuiltBinary],
) -> Result<Vec<Linkage>> {
    let policy = Some(Policy::for_target(triple.target(), floors)).filter(|p| !p.is_empty());
    let shipped = |name: &str| {
        binaries
            .iter()
            .any(|b| b.file_name.eq_ignore_ascii_case(name))
    };
    binaries
        .iter()
        .map(|binary| {
            let audit = linkaudit::audit_path(&binary.path).map_err(|err| {
                anyhow::anyhow!("auditing {} ({triple}): {err}", binary.path.display())
            })?;
            let violations = policy
                .as_ref()
                .map(|p| p.check_beside(&audit, &shipped))
                .unwrap_or_default();
            Ok(Linkage {
                binary: binary.clone(),
                audit,
                policy: policy.clone(),
                violations,
            })
        })
        .collect::<Result<_>>()
        .context("verifying linkage")
}

/// One package's binaries for one target, verified.
pub struct Verified {
    pub package: Package,
    pub triple: TargetTriple,
    pub linkage: Vec<Linkage>,
}

/// Audits every binary; any violation fails the run here, before its target is packed.
pub fn verify_all(
    ws: &Workspace,
    triples: &[TargetTriple],
    report: &Report,
    out_dir: &Path,
) -> Result<Vec<Verified>> {
    let mut verified = Vec::new();
    let mut failures = Vec::new();
    for triple in triples {
        for package in &ws.packages {
            let binaries: Vec<BuiltBinary> = build::built_binaries(ws, package, triple)?;
            let linkage = verify_linkage(triple, &ws.floors(), &binaries)?;
            for found in &linkage {
                let policy = found
                    .policy
                    .as_ref()
                    .map_or("no policy".to_owned(), |p| p.to_string());
                report.step(
                    "verify",
                    triple.as_str(),
                    &format!(
                        "{} {}: {} ({policy})",
                        found.verdict(),
                        found.binary.file_name,
                        found.describe()
                    ),
                );
                for line in found.violation_lines(triple) {
                    report.step("verify", triple.as_str(), &format!("FAIL {line}"));
                    failures.push(line);
                }
            }
            verified.push(Verified {
                package: package.clone(),
                triple: triple.clone(),
                linkage,
            });
        }
    }
    if let Some(first) = failures.first() {
        let more = match failures.len() {
            1 => String::new(),
            n => format!(" (and {} more above)", n - 1),
        };
        bail!(
            "linkage check failed: {first}{more}; nothing was written to {}; fix the link flags \
             (.cargo/config.toml, build scripts) and run again",
            out_dir.display()
        );
    }
    Ok(verified)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test binary itself: a dynamic glibc executable on this host.
    fn this_binary() -> BuiltBinary {
        let path = std::env::current_exe().unwrap();
        BuiltBinary {
            name: "self".into(),
            file_name: "self".into(),
            path,
        }
    }

    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn a_dynamic_binary_fails_the_static_policy_naming_the_culprit() {
        let musl = TargetTriple::parse("x86_64-unknown-linux-musl").unwrap();
        let found = verify_linkage(&musl, &floors(2, 17), &[this_binary()]).unwrap();
        assert_eq!(found[0].verdict(), "fail");
        let lines = found[0].violation_lines(&musl);
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("self (x86_64-unknown-linux-musl): libc.so.6")),
            "{lines:?}"
        );
    }

    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn a_floor_below_what_the_binary_needs_names_the_symbol_version() {
        let gnu = TargetTriple::parse("x86_64-unknown-linux-gnu").unwrap();
        // Anything built on this machine needs more than glibc 2.2.5.
        let found = verify_linkage(&gnu, &floors(2, 2), &[this_binary()]).unwrap();
        assert_eq!(found[0].verdict(), "fail");
        assert!(found[0]
            .violations
            .iter()
            .any(|v| v.culprit.starts_with("GLIBC_2.")));
        assert!(found[0].describe().contains("libc.so.6"));
    }

    fn floors(major: u32, minor: u32) -> Floors {
        Floors::with_glibc(linkaudit::GlibcVersion::new(major, minor))
    }

    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn apple_targets_are_judged_by_the_macos_floor() {
        let mac = TargetTriple::parse("aarch64-apple-darwin").unwrap();
        let found = verify_linkage(&mac, &floors(2, 17), &[this_binary()]).unwrap();
        assert_eq!(found[0].verdict(), "fail");
        assert_eq!(found[0].policy.as_ref().unwrap().to_string(), "macos:11.0");
        let target = TargetTriple::parse("wasm32-unknown-unknown").unwrap();
        let found = verify_linkage(&target, &floors(2, 17), &[this_binary()]).unwrap();
        assert_eq!(found[0].verdict(), "unchecked");
    }

    #[test]
    fn a_file_that_is_not_a_binary_is_an_error_naming_it() {
        let path = std::env::temp_dir().join(format!("xtask-notbin-{}", std::process::id()));
        std::fs::write(&path, "#!/bin/sh\n").unwrap();
        let text = BuiltBinary {
            name: "x".into(),
            file_name: "x".into(),
            path: path.clone(),
        };
        let gnu = TargetTriple::parse("x86_64-unknown-linux-gnu").unwrap();
        let err = verify_linkage(&gnu, &floors(2, 17), &[text]).unwrap_err();
        assert!(format!("{err:#}").contains(&path.display().to_string()));
    }
}
