//! SHA-256 checksums in the `sha256sum` format, `<hex>  <name>`, so that `sha256sum -c` checks
//! them (issue #2, point 6). Reusable by a later `cargo xtask gather` (issue #4).

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::Path;

pub const SHA256SUMS: &str = "SHA256SUMS";

/// The lowercase hex SHA-256 of a file, read in chunks.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0; 1 << 16];
    loop {
        let n = file
            .read(&mut buf)
            .with_context(|| format!("reading {}", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One line of a checksum file: two spaces mean "binary-safe text mode" to sha256sum.
pub fn line(sha256: &str, name: &str) -> String {
    format!("{sha256}  {name}\n")
}

/// The `<archive>.sha256` file's name and contents.
pub fn sidecar(archive_name: &str, sha256: &str) -> (String, String) {
    (format!("{archive_name}.sha256"), line(sha256, archive_name))
}

/// `SHA256SUMS`: every (name, sha256), sorted by name so a signature over it is stable.
pub fn sha256sums<'a>(entries: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut entries: Vec<(&str, &str)> = entries.into_iter().collect();
    entries.sort();
    entries.dedup();
    entries.iter().map(|(name, sha)| line(sha, name)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_a_known_file() {
        let path = std::env::temp_dir().join(format!("xtask-sha-{}", std::process::id()));
        std::fs::write(&path, "abc").unwrap();
        assert_eq!(
            sha256_file(&path).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn sums_are_sorted_by_name_in_sha256sum_format() {
        let sums = sha256sums([("b.zip", "22"), ("a.tar.gz", "11")]);
        assert_eq!(sums, "11  a.tar.gz\n22  b.zip\n");
        assert_eq!(
            sidecar("a.tar.gz", "11"),
            ("a.tar.gz.sha256".to_owned(), "11  a.tar.gz\n".to_owned())
        );
    }
}
