//! SHA-256 checksums in the `sha256sum` format, through the dist contract in the linkaudit
//! library (`linkaudit::contract::checksums`, normative): the writer here and the readers
//! (`linkaudit verify`, `cargo xtask gather`) share one parser and one formatter.

use anyhow::{Context, Result};
use std::path::Path;

#[cfg(test)]
pub use linkaudit::contract::checksums::line;
pub use linkaudit::contract::checksums::{sha256sums, sidecar, CHECKSUMS as SHA256SUMS};

/// The lowercase hex SHA-256 of a regular file, read in chunks.
pub fn sha256_file(path: &Path) -> Result<String> {
    linkaudit::contract::sha256_file(path).with_context(|| format!("reading {}", path.display()))
}

/// The `name -> sha256` lines of a `SHA256SUMS` the xtask itself wrote (or downloaded), or the
/// first malformed line: the contract's parser, held to "every line well formed".
pub fn parse_sha256sums(text: &str) -> Result<std::collections::BTreeMap<String, String>, String> {
    let (listed, problems) = linkaudit::contract::checksums::parse_sha256sums(text);
    match problems.into_iter().next() {
        Some(problem) => Err(problem),
        None => Ok(listed),
    }
}
