//! The counts `linkaudit scan` prints: by format, kind and floor, and the files that break
//! `--glibc-above` or `--policy`.

use super::ScannedFile;
use crate::{Audit, Format, GlibcVersion, Kind, Policies, Violation};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The counts `linkaudit scan` prints.
#[derive(Debug, Default)]
pub struct Summary {
    pub binaries: usize,
    pub by_format: BTreeMap<Format, usize>,
    pub by_kind: BTreeMap<Kind, usize>,
    /// How many binaries need each floor: `("glibc", 2.34)`, `("macos", 11.0)`, `("windows", 6.0)`.
    pub by_floor: BTreeMap<(&'static str, crate::Version), usize>,
    /// Files that start like a binary but could not be read or parsed.
    pub errors: Vec<(PathBuf, String)>,
    /// The glibc floor asked for with `--glibc-above`, and the files that need a newer glibc.
    pub glibc_above: Option<GlibcVersion>,
    pub above_glibc: Vec<(PathBuf, GlibcVersion)>,
    /// The policy asked for with `--policy`, and the files that break it.
    pub policy: Option<String>,
    pub failing_policy: Vec<(PathBuf, Vec<Violation>)>,
}

impl Summary {
    pub fn new(
        files: &[ScannedFile],
        glibc_above: Option<GlibcVersion>,
        policy: Option<&Policies>,
    ) -> Self {
        let mut summary = Summary {
            glibc_above,
            policy: policy.map(|p| p.to_string()),
            ..Summary::default()
        };
        for file in files {
            let audit = match &file.result {
                Ok(audit) => audit,
                Err(error) => {
                    summary.errors.push((file.path.clone(), error.to_string()));
                    continue;
                }
            };
            summary.binaries += 1;
            *summary.by_format.entry(audit.format).or_default() += 1;
            *summary.by_kind.entry(audit.kind).or_default() += 1;
            if let Some(floor) = floor_key(audit) {
                *summary.by_floor.entry(floor).or_default() += 1;
            }
            if let (Some(limit), Some(floor)) = (glibc_above, audit.glibc_floor) {
                if floor > limit {
                    summary.above_glibc.push((file.path.clone(), floor));
                }
            }
            if let Some(policy) = policy {
                let violations = policy.check_beside(audit, &crate::shipped_beside(&file.path));
                if !violations.is_empty() {
                    summary.failing_policy.push((file.path.clone(), violations));
                }
            }
        }
        summary
    }
}

/// The floor a summary counts a binary under: its OS floor (Mach-O, PE), else its glibc floor.
fn floor_key(audit: &Audit) -> Option<(&'static str, crate::Version)> {
    match &audit.os_floor {
        Some(os) => {
            let platform = match os.platform.as_str() {
                "macos" => "macos",
                "windows" => "windows",
                _ => "other OS",
            };
            Some((platform, os.required()))
        }
        None => audit.glibc_floor.map(|v| ("glibc", v)),
    }
}
