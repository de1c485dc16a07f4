//! `dist-manifest.json`, in the layout docs/dist-contract.md
//! fixes: what was built, from which commit and compiler, and how each binary is linked.
//! Deserialize too, so that `cargo xtask gather` can merge the manifests of the parts.

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

pub const MANIFEST: &str = "dist-manifest.json";
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub schema_version: u32,
    pub source_commit: Option<String>,
    pub source_date_epoch: u64,
    /// The compiler of every artifact; when runners had different ones (a gathered release),
    /// their versions, sorted and joined with "; " — each artifact says its own.
    pub rustc: String,
    pub glibc_floor: String,
    /// Sorted by archive name.
    pub artifacts: Vec<Artifact>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Artifact {
    pub package: String,
    pub version: String,
    pub target: String,
    pub archive: String,
    pub size: u64,
    pub sha256: String,
    /// The linkaudit policy the target implies (`glibc:2.17`); null for Apple.
    pub policy: Option<String>,
    /// `rustc --version` of the machine that built it: in a release gathered from several
    /// runners the compilers may differ. Empty when read from an older manifest.
    #[serde(default)]
    pub rustc: String,
    pub binaries: Vec<Binary>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binary {
    pub name: String,
    /// The path inside the archive.
    pub path: String,
    /// `static`, `static-pie`, `dynamic`...
    pub kind: String,
    pub glibc_floor: Option<String>,
    pub needed: Vec<String>,
    /// `pass`, or `unchecked` for targets without a policy (a failing binary is never packed).
    pub verdict: String,
    pub violations: Vec<Violation>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    pub policy: String,
    pub culprit: String,
    pub rule: String,
}

impl Manifest {
    pub fn to_json(&self) -> String {
        let mut json = serde_json::to_string_pretty(self).expect("the manifest serializes");
        json.push('\n');
        json
    }

    /// Reads a manifest a previous run left, to know which files it wrote.
    pub fn read(path: &Path) -> Result<Manifest> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_come_in_the_contract_order_and_read_back() {
        let manifest = Manifest {
            schema_version: SCHEMA_VERSION,
            source_commit: None,
            source_date_epoch: 1_700_000_000,
            rustc: "rustc 1.95.0".into(),
            glibc_floor: "2.17".into(),
            artifacts: vec![Artifact {
                package: "tool".into(),
                version: "1.0.0".into(),
                target: "x86_64-unknown-linux-musl".into(),
                archive: "tool-x86_64-unknown-linux-musl.tar.gz".into(),
                size: 1,
                sha256: "00".into(),
                policy: Some("static".into()),
                rustc: "rustc 1.95.0".into(),
                binaries: vec![Binary {
                    name: "tool".into(),
                    path: "tool-x86_64-unknown-linux-musl/tool".into(),
                    kind: "static-pie".into(),
                    glibc_floor: None,
                    needed: vec![],
                    verdict: "pass".into(),
                    violations: vec![],
                }],
            }],
        };
        let json = manifest.to_json();
        let order = [
            "schema_version",
            "source_commit",
            "source_date_epoch",
            "rustc",
            "glibc_floor",
            "artifacts",
        ];
        let positions: Vec<usize> = order
            .iter()
            .map(|k| json.find(&format!("\"{k}\"")).unwrap())
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{json}");
        assert_eq!(serde_json::from_str::<Manifest>(&json).unwrap(), manifest);
    }
}
