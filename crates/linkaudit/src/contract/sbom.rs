//! `<package>-<target>.cdx.json`: one CycloneDX 1.6 JSON SBOM per archive, made from what the
//! archive's binaries say about themselves: the crates in their embedded dependency list
//! (cargo-auditable's `.dep-v0`, [`crate::deps`]) and the shared libraries they need at run time
//! (the linkage facts of [`crate::Audit`]).
//!
//! Byte-reproducible: the only time is SOURCE_DATE_EPOCH's, the serial number is derived from
//! the archive's name and SHA-256, every list is sorted, keys come in struct order and the text
//! is pretty-printed with a final newline. The same inputs give the same bytes.

use crate::deps::{Dependencies, DependencyKind};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

/// What an SBOM's file name ends with, in place of the archive's `.tar.gz` or `.zip`.
pub const SBOM_SUFFIX: &str = ".cdx.json";
pub const SPEC_VERSION: &str = "1.6";

/// The SBOM's file name for an archive's: `<package>-<target>.cdx.json`; `None` for a name that
/// is no archive (a wheel has none: its binaries are an archive's too).
pub fn sbom_name(archive: &str) -> Option<String> {
    [".tar.gz", ".zip"]
        .iter()
        .find_map(|ext| archive.strip_suffix(ext))
        .map(|stem| format!("{stem}{SBOM_SUFFIX}"))
}

/// The archive an SBOM describes.
pub struct SbomInput<'a> {
    pub package: &'a str,
    pub version: &'a str,
    pub target: &'a str,
    pub archive: &'a str,
    pub archive_sha256: &'a str,
    pub source_date_epoch: u64,
    pub binaries: Vec<SbomBinary<'a>>,
}

/// One binary of the archive.
pub struct SbomBinary<'a> {
    /// The path inside the archive.
    pub path: &'a str,
    pub sha256: String,
    /// Shared libraries it needs at run time (needed, then delay-loaded), as audited.
    pub libraries: Vec<String>,
    /// Its embedded dependency list; `None` when it carries none.
    pub deps: Option<&'a Dependencies>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Bom {
    bom_format: &'static str,
    spec_version: &'static str,
    serial_number: String,
    version: u32,
    metadata: Metadata,
    components: Vec<Component>,
    dependencies: Vec<Dependency>,
}

#[derive(Serialize)]
struct Metadata {
    timestamp: String,
    tools: Tools,
    component: Component,
}

#[derive(Serialize)]
struct Tools {
    components: Vec<Component>,
}

#[derive(Serialize, Clone)]
struct Component {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(rename = "bom-ref", skip_serializing_if = "Option::is_none")]
    bom_ref: Option<String>,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hashes: Vec<Hash>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purl: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    properties: Vec<Property>,
}

impl Component {
    fn new(kind: &'static str, bom_ref: String, name: &str) -> Component {
        Component {
            kind,
            bom_ref: Some(bom_ref),
            name: name.to_owned(),
            version: None,
            scope: None,
            hashes: Vec::new(),
            purl: None,
            properties: Vec::new(),
        }
    }
}

#[derive(Serialize, Clone)]
struct Hash {
    alg: &'static str,
    content: String,
}

#[derive(Serialize, Clone)]
struct Property {
    name: &'static str,
    value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Dependency {
    #[serde(rename = "ref")]
    of: String,
    depends_on: Vec<String>,
}

fn sha256(content: &str) -> Vec<Hash> {
    vec![Hash {
        alg: "SHA-256",
        content: content.to_owned(),
    }]
}

fn property(name: &'static str, value: &str) -> Property {
    Property {
        name,
        value: value.to_owned(),
    }
}

/// A crate as the SBOM names it, the same for every binary that has it.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
struct CrateKey {
    name: String,
    version: String,
    source: String,
}

impl CrateKey {
    fn bom_ref(&self) -> String {
        format!("crate:{}/{}@{}", self.source, self.name, self.version)
    }
}

/// The SBOM's text: pretty-printed JSON with a final newline.
pub fn cyclonedx(input: &SbomInput) -> String {
    let archive_ref = format!("archive:{}", input.archive);
    let mut graph = Graph::default();
    graph.dependencies.push(Dependency {
        of: archive_ref.clone(),
        depends_on: sorted(input.binaries.iter().map(|b| format!("file:{}", b.path))),
    });
    // By path, whatever order the writer or the reader found them in.
    let mut binaries: Vec<&SbomBinary> = input.binaries.iter().collect();
    binaries.sort_by_key(|b| b.path);
    for binary in binaries {
        graph.add_binary(binary);
    }
    let components = graph.components();
    let bom = Bom {
        bom_format: "CycloneDX",
        spec_version: SPEC_VERSION,
        serial_number: serial_number(input.archive, input.archive_sha256),
        version: 1,
        metadata: Metadata {
            timestamp: rfc3339(input.source_date_epoch),
            tools: Tools {
                components: vec![tool_component()],
            },
            component: application_component(input, archive_ref),
        },
        components,
        dependencies: graph.dependencies,
    };
    let mut text = serde_json::to_string_pretty(&bom).expect("an SBOM serializes");
    text.push('\n');
    text
}

/// The archive as the SBOM's subject: the package, its version, the archive's SHA-256.
fn application_component(input: &SbomInput, archive_ref: String) -> Component {
    let mut application = Component::new("application", archive_ref, input.package);
    application.version = Some(input.version.to_owned());
    application.hashes = sha256(input.archive_sha256);
    application.properties = vec![
        property("linkaudit:archive", input.archive),
        property("linkaudit:target", input.target),
    ];
    application
}

/// linkaudit itself, the tool that wrote the SBOM.
fn tool_component() -> Component {
    Component {
        bom_ref: None,
        version: Some(env!("CARGO_PKG_VERSION").to_owned()),
        ..Component::new("application", String::new(), "linkaudit")
    }
}

/// What the binaries hold, gathered binary by binary.
#[derive(Default)]
struct Graph {
    crates: BTreeMap<CrateKey, (DependencyKind, BTreeSet<String>)>,
    libraries: BTreeSet<String>,
    files: Vec<Component>,
    dependencies: Vec<Dependency>,
}

impl Graph {
    /// The binary as a file component, what it uses (shared libraries, root crates) as its
    /// dependencies, its crates merged into the others'.
    fn add_binary(&mut self, binary: &SbomBinary) {
        let mut file = Component::new("file", format!("file:{}", binary.path), binary.path);
        file.hashes = sha256(&binary.sha256);
        let embedded = if binary.deps.is_some() {
            "embedded"
        } else {
            "missing"
        };
        file.properties = vec![property("linkaudit:dependency-list", embedded)];
        self.files.push(file);
        let mut uses: Vec<String> = binary
            .libraries
            .iter()
            .map(|l| format!("shared-library:{l}"))
            .collect();
        self.libraries.extend(binary.libraries.iter().cloned());
        if let Some(deps) = binary.deps {
            uses.extend(add_crates(deps, &mut self.crates));
        }
        self.dependencies.push(Dependency {
            of: format!("file:{}", binary.path),
            depends_on: sorted(uses),
        });
    }

    /// The crates (each with its dependencies added to the graph), then the files, then the
    /// shared libraries.
    fn components(&mut self) -> Vec<Component> {
        let mut components: Vec<Component> = Vec::new();
        for (key, (kind, depends_on)) in &self.crates {
            components.push(crate_component(key, *kind));
            self.dependencies.push(Dependency {
                of: key.bom_ref(),
                depends_on: depends_on.iter().cloned().collect(),
            });
        }
        components.append(&mut self.files);
        for library in &self.libraries {
            let mut component =
                Component::new("library", format!("shared-library:{library}"), library);
            component.scope = Some("required");
            component.properties = vec![property("linkaudit:linkage", "shared library")];
            components.push(component);
        }
        components
    }
}

/// Adds a binary's crates (each with the union of its dependencies over the binaries, and
/// `runtime` when any binary compiles it in); returns the refs of its root crates.
fn add_crates(
    deps: &Dependencies,
    crates: &mut BTreeMap<CrateKey, (DependencyKind, BTreeSet<String>)>,
) -> Vec<String> {
    let keys: Vec<CrateKey> = deps
        .packages
        .iter()
        .map(|p| CrateKey {
            name: p.name.clone(),
            version: p.version.clone(),
            source: p.source.clone(),
        })
        .collect();
    for (package, key) in deps.packages.iter().zip(&keys) {
        let entry = crates
            .entry(key.clone())
            .or_insert((package.kind, BTreeSet::new()));
        if package.kind == DependencyKind::Runtime {
            entry.0 = DependencyKind::Runtime;
        }
        // `decode` checked that every index is in range.
        entry
            .1
            .extend(package.dependencies.iter().map(|&i| keys[i].bom_ref()));
    }
    deps.packages
        .iter()
        .zip(&keys)
        .filter(|(p, _)| p.root)
        .map(|(_, key)| key.bom_ref())
        .collect()
}

fn crate_component(key: &CrateKey, kind: DependencyKind) -> Component {
    let mut component = Component::new("library", key.bom_ref(), &key.name);
    component.version = Some(key.version.clone());
    // A build dependency (build script, proc macro) is not in the binary.
    component.scope = Some(match kind {
        DependencyKind::Runtime => "required",
        DependencyKind::Build => "excluded",
    });
    // The package URL spec's cargo type names crates.io crates only.
    if key.source == "crates.io" {
        component.purl = Some(format!("pkg:cargo/{}@{}", key.name, key.version));
    }
    component.properties = vec![
        property("cargo:source", &key.source),
        property("cargo:kind", kind.as_str()),
    ];
    component
}

fn sorted(items: impl IntoIterator<Item = String>) -> Vec<String> {
    items
        .into_iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// `urn:uuid:` from the SHA-256 of the archive's name and hash: the same archive always gets
/// the same serial number, another archive another. Laid out as a name-based UUID (version 5
/// nibble, RFC 4122 variant), which CycloneDX's schema requires of a serial number.
fn serial_number(archive: &str, archive_sha256: &str) -> String {
    let digest = Sha256::digest(format!("{archive}\n{archive_sha256}\n").as_bytes());
    let mut b: [u8; 16] = digest[..16].try_into().expect("16 of 32 bytes");
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// `1700000000` -> `2023-11-14T22:13:20Z` (UTC; days to civil date after Howard Hinnant's
/// `civil_from_days`).
fn rfc3339(epoch: u64) -> String {
    let (days, secs) = (epoch / 86_400, epoch % 86_400);
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests;
