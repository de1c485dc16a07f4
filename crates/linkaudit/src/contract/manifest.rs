//! `dist-manifest.json`: what was built, from which commit and compiler, and how each binary is
//! linked. Pretty-printed JSON, keys in the order of the fields below.
//!
//! Reading is strict: every field the writer writes is required (a `null` only where the writer
//! writes one), an unknown field is refused, and a `schema_version` other than
//! [`SCHEMA_VERSION`] is [`ManifestError::Newer`] or [`ManifestError::Invalid`] before anything
//! else is read. A field added later goes into the struct here, and both sides follow.

use crate::Violation;
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;
use std::path::Path;

pub const MANIFEST: &str = "dist-manifest.json";
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub schema_version: u32,
    #[serde(deserialize_with = "present")]
    pub source_commit: Option<String>,
    pub source_date_epoch: u64,
    /// The compiler of every artifact; when runners had different ones (a gathered release),
    /// their versions, sorted and joined with "; ". Each artifact says its own.
    pub rustc: String,
    pub glibc_floor: String,
    /// `macos-floor` of [workspace.metadata.dist]; null: each Apple target keeps Rust's default
    /// (10.12 x86_64, 11.0 aarch64). Apple binaries are checked against it (`macos:<floor>`).
    #[serde(deserialize_with = "present")]
    pub macos_floor: Option<String>,
    /// Sorted by archive name.
    pub artifacts: Vec<Artifact>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Artifact {
    pub package: String,
    pub version: String,
    pub target: String,
    /// The archive's (or wheel's) file name.
    pub archive: String,
    pub size: u64,
    pub sha256: String,
    /// The linkaudit policies the target implies, joined by `+`: `glibc:2.17`, `static`,
    /// `macos:11.0`, `crt-static+windows:10.0`; null for a target without one.
    #[serde(deserialize_with = "present")]
    pub policy: Option<String>,
    /// `rustc --version` of the machine that built it: in a release gathered from several
    /// runners the compilers may differ.
    pub rustc: String,
    /// The C toolchain that compiled and linked the target's C code and linked the binaries, as
    /// its version commands print it: `zig 0.17.1`; `musl-gcc: <gcc --version>, musl 1.2.3;
    /// linker cc: <cc --version>; <ld --version>` when the host's musl-gcc compiled the C code
    /// and its cc linked; `x86_64-w64-mingw32-gcc (GCC) 12-win32` for windows-gnu. The bytes depend on it as they
    /// do on rustc. Null where the runner's own toolchain is not asked (MSVC, Apple's).
    #[serde(deserialize_with = "present")]
    pub c_toolchain: Option<String>,
    /// The archive's CycloneDX SBOM, `<package>-<target>.cdx.json` (`sbom::sbom_name`), listed
    /// in SHA256SUMS; null for a wheel (its binaries are an archive's too).
    #[serde(deserialize_with = "present")]
    pub sbom: Option<String>,
    pub binaries: Vec<Binary>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Binary {
    pub name: String,
    /// The path inside the archive.
    pub path: String,
    /// `static`, `static-pie`, `dynamic`...
    pub kind: String,
    #[serde(deserialize_with = "present")]
    pub glibc_floor: Option<String>,
    pub needed: Vec<String>,
    /// The oldest OS the binary declares or needs, as measured: `glibc 2.17` (with
    /// `glibcxx 3.4.29`... when it needs libstdc++), `macos 11.0`, `windows 6.0`; null for a
    /// static ELF, which needs no library version.
    #[serde(deserialize_with = "present")]
    pub floor: Option<String>,
    /// `pass`, or `unchecked` for targets without a policy (a failing binary is never packed).
    pub verdict: String,
    pub violations: Vec<Violation>,
}

/// An `Option` field that must be present (serde's derive would take a missing one as `None`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    Option::<T>::deserialize(deserializer)
}

/// Why a text is not a manifest this version reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestError {
    /// The file cannot be read (missing, not a regular file, too large).
    Unreadable(String),
    /// Not JSON at all (truncated, another file).
    NotJson(String),
    /// `schema_version` above ours: made by a newer tool.
    Newer(u64),
    /// JSON, but not the schema: a field missing, `null`, of the wrong type, or unknown.
    Invalid(String),
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ManifestError::Unreadable(err) => write!(f, "cannot be read ({err})"),
            ManifestError::NotJson(err) => write!(f, "not JSON ({err})"),
            ManifestError::Newer(version) => write!(
                f,
                "schema_version {version} was made by a newer tool (this one reads {SCHEMA_VERSION}); \
                 use a newer linkaudit or xtask"
            ),
            ManifestError::Invalid(err) => write!(f, "not a valid manifest ({err})"),
        }
    }
}

impl std::error::Error for ManifestError {}

impl Manifest {
    pub fn to_json(&self) -> String {
        let mut json = serde_json::to_string_pretty(self).expect("the manifest serializes");
        json.push('\n');
        json
    }

    /// Parses a manifest strictly; the schema version is looked at first.
    pub fn from_json(text: &str) -> Result<Manifest, ManifestError> {
        #[derive(Deserialize)]
        struct Version {
            schema_version: Option<u64>,
        }
        let version: Version = serde_json::from_str(text).map_err(|err| {
            if err.is_data() {
                ManifestError::Invalid(err.to_string())
            } else {
                ManifestError::NotJson(err.to_string())
            }
        })?;
        match version.schema_version {
            Some(v) if v == u64::from(SCHEMA_VERSION) => {}
            Some(v) if v > u64::from(SCHEMA_VERSION) => return Err(ManifestError::Newer(v)),
            Some(v) => {
                return Err(ManifestError::Invalid(format!(
                    "schema_version {v} is unknown"
                )))
            }
            None => {
                return Err(ManifestError::Invalid(
                    "missing field `schema_version`".into(),
                ))
            }
        }
        serde_json::from_str(text).map_err(|err| ManifestError::Invalid(err.to_string()))
    }

    /// Reads and parses the manifest at `path` (a regular file, at most 256 MiB).
    pub fn read(path: &Path) -> Result<Manifest, ManifestError> {
        let text = super::read_text(path, 256 << 20)
            .map_err(|err| ManifestError::Unreadable(format!("{}: {err}", path.display())))?;
        Manifest::from_json(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> Manifest {
        Manifest {
            schema_version: SCHEMA_VERSION,
            source_commit: None,
            source_date_epoch: 1_700_000_000,
            rustc: "rustc 1.95.0".into(),
            glibc_floor: "2.17".into(),
            macos_floor: Some("11.0".into()),
            artifacts: vec![Artifact {
                package: "tool".into(),
                version: "1.0.0".into(),
                target: "x86_64-unknown-linux-musl".into(),
                archive: "tool-x86_64-unknown-linux-musl.tar.gz".into(),
                size: 1,
                sha256: "00".into(),
                policy: Some("static".into()),
                rustc: "rustc 1.95.0".into(),
                c_toolchain: Some("zig 0.17.1".into()),
                sbom: Some("tool-x86_64-unknown-linux-musl.cdx.json".into()),
                binaries: vec![Binary {
                    name: "tool".into(),
                    path: "tool-x86_64-unknown-linux-musl/tool".into(),
                    kind: "static-pie".into(),
                    glibc_floor: None,
                    needed: vec![],
                    floor: None,
                    verdict: "pass".into(),
                    violations: vec![Violation {
                        policy: "static".into(),
                        culprit: "libc.so".into(),
                        rule: "r".into(),
                    }],
                }],
            }],
        }
    }

    #[test]
    fn keys_come_in_the_contract_order_and_read_back() {
        let manifest = sample();
        let json = manifest.to_json();
        let order = [
            "schema_version",
            "source_commit",
            "source_date_epoch",
            "rustc",
            "glibc_floor",
            "macos_floor",
            "artifacts",
        ];
        let positions: Vec<usize> = order
            .iter()
            .map(|k| json.find(&format!("\"{k}\"")).unwrap())
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{json}");
        // Each artifact's C toolchain comes after its rustc, before its binaries.
        let artifact =
            ["\"policy\"", "\"c_toolchain\"", "\"binaries\""].map(|k| json.find(k).unwrap());
        assert!(artifact.windows(2).all(|w| w[0] < w[1]), "{json}");
        // Each binary's measured floor comes just before its verdict.
        let binary = ["\"needed\"", "\"floor\"", "\"verdict\""].map(|k| json.find(k).unwrap());
        assert!(binary.windows(2).all(|w| w[0] < w[1]), "{json}");
        assert_eq!(Manifest::from_json(&json).unwrap(), manifest);
    }

    /// What the writer writes reads back; each way of leaving the schema (a field removed, set
    /// to null where the writer never writes null, of another type, or added) is refused.
    #[test]
    fn the_reader_refuses_every_field_missing_mistyped_or_unknown() {
        let json = sample().to_json();
        let fields = [
            ("\"source_commit\": null,", true),
            ("\"source_date_epoch\": 1700000000,", false),
            ("\"glibc_floor\": \"2.17\",", false),
            ("\"macos_floor\": \"11.0\",", true),
            ("\"size\": 1,", false),
            ("\"sha256\": \"00\",", false),
            ("\"policy\": \"static\",", true),
            ("\"c_toolchain\": \"zig 0.17.1\",", true),
            (
                "\"sbom\": \"tool-x86_64-unknown-linux-musl.cdx.json\",",
                true,
            ),
            ("\"kind\": \"static-pie\",", false),
            ("\"glibc_floor\": null,", true),
            ("\"floor\": null,", true),
            ("\"verdict\": \"pass\",", false),
        ];
        for (field, nullable) in fields {
            assert!(json.contains(field), "{field} in {json}");
            let removed = json.replacen(field, "", 1);
            assert!(
                matches!(
                    Manifest::from_json(&removed),
                    Err(ManifestError::Invalid(_))
                ),
                "without {field}"
            );
            let (key, _) = field.split_once(':').unwrap();
            let nulled = json.replacen(field, &format!("{key}: null,"), 1);
            assert_eq!(Manifest::from_json(&nulled).is_ok(), nullable, "{key} null");
            let retyped = json.replacen(field, &format!("{key}: [],"), 1);
            assert!(Manifest::from_json(&retyped).is_err(), "{key} as []");
        }
        let extra = json.replacen("\"size\": 1,", "\"size\": 1, \"extra\": 0,", 1);
        assert!(matches!(
            Manifest::from_json(&extra),
            Err(ManifestError::Invalid(_))
        ));
        let newer = json.replacen("\"schema_version\": 1", "\"schema_version\": 99", 1);
        assert_eq!(Manifest::from_json(&newer), Err(ManifestError::Newer(99)));
        assert!(matches!(
            Manifest::from_json("{ not json"),
            Err(ManifestError::NotJson(_))
        ));
        assert!(matches!(
            Manifest::from_json("[]"),
            Err(ManifestError::Invalid(_))
        ));
    }
}
