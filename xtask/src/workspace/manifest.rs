//! `dist-manifest.json`: written and read through the dist contract in the linkaudit library
//! (`linkaudit::contract::manifest`, normative), so that the xtask, `cargo xtask gather` and
//! `linkaudit verify` read one definition.

pub use linkaudit::contract::manifest::{Artifact, Binary, Manifest, MANIFEST, SCHEMA_VERSION};
pub use linkaudit::Violation;
