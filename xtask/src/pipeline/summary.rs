//! What a `cargo xtask dist` run wrote, as a table, after the handover.

use super::installer;
use super::verify::Verified;
use crate::workspace::checksums;
use crate::workspace::manifest::{self, Manifest};
use crate::workspace::report::{human_size, Report};
use std::collections::BTreeMap;
use std::path::Path;

pub fn print_summary(report: &Report, manifest: &Manifest, verified: &[Verified], out_dir: &Path) {
    let describe = linkage_by_artifact(verified);
    let rows: Vec<Vec<String>> = manifest
        .artifacts
        .iter()
        .map(|a| {
            let verdict = a
                .binaries
                .iter()
                .map(|b| b.verdict.as_str())
                .find(|v| *v != "pass")
                .unwrap_or("pass");
            let detail = describe
                .get(&(a.package.clone(), a.target.clone()))
                .cloned()
                .unwrap_or_default();
            let policy = a.policy.as_deref().unwrap_or("no policy");
            vec![
                a.archive.clone(),
                human_size(a.size),
                a.sha256[..12].to_owned(),
                format!("{verdict} ({policy}: {detail})"),
            ]
        })
        .collect();
    report.line("");
    report.table(&["archive", "size", "sha256", "linkage"], &rows);
    let wheels = manifest
        .artifacts
        .iter()
        .filter(|a| a.archive.ends_with(".whl"))
        .count();
    report.line(&format!(
        "wrote {} archive(s){}, their .sha256, {}, {}{} to {}",
        manifest.artifacts.len() - wheels,
        match wheels {
            0 => String::new(),
            n => format!(", {n} wheel(s)"),
        },
        checksums::SHA256SUMS,
        manifest::MANIFEST,
        if out_dir.join(installer::INSTALLER).is_file() {
            format!(" and {}", installer::INSTALLER)
        } else {
            String::new()
        },
        out_dir.display()
    ));
    report.line(&format!(
        "commit {} | SOURCE_DATE_EPOCH {} | {}",
        manifest.source_commit.as_deref().unwrap_or("none"),
        manifest.source_date_epoch,
        manifest.rustc
    ));
}

/// "static, gnu glibc 2.17"-style kinds of each (package, target)'s binaries.
fn linkage_by_artifact(verified: &[Verified]) -> BTreeMap<(String, String), String> {
    verified
        .iter()
        .map(|v| {
            let kinds: Vec<String> = v
                .linkage
                .iter()
                .map(|l| match l.audit.glibc_floor {
                    Some(floor) => format!("{} glibc {floor}", l.audit.kind),
                    None => l.audit.kind.to_string(),
                })
                .collect();
            (
                (v.package.name.clone(), v.triple.to_string()),
                kinds.join(", "),
            )
        })
        .collect()
}
