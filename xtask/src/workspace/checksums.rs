//! SHA-256 checksums in the `sha256sum` format, `<hex>  <name>`, so that `sha256sum -c` checks
//! them. `cargo xtask gather` reads and writes them too.

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

/// The (name, sha256) lines of a checksum file this module wrote; a line that is not
/// `<64 lowercase hex>  <plain file name>` is an error naming its number (gather
/// reads the SHA256SUMS of each part).
pub fn parse_sha256sums(text: &str) -> Result<Vec<(String, String)>, String> {
    text.lines()
        .enumerate()
        .map(|(i, line)| {
            let parsed = line.split_once("  ").filter(|(sha, name)| {
                sha.len() == 64
                    && sha.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
                    && !name.is_empty()
                    && !name.starts_with('.')
                    && !name.contains(['/', '\\'])
            });
            match parsed {
                Some((sha, name)) => Ok((name.to_owned(), sha.to_owned())),
                None => Err(format!(
                    "line {} is not `<sha256 in lowercase hex>  <file name>`: {line:?}",
                    i + 1
                )),
            }
        })
        .collect()
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

    #[test]
    fn sums_read_back_and_bad_lines_are_named() {
        let (one, two) = ("1".repeat(64), "2".repeat(64));
        let sums = sha256sums([("b.zip", two.as_str()), ("a.tar.gz", one.as_str())]);
        assert_eq!(
            parse_sha256sums(&sums).unwrap(),
            [
                ("a.tar.gz".to_owned(), "1".repeat(64)),
                ("b.zip".to_owned(), "2".repeat(64))
            ]
        );
        for bad in [
            format!("{}  ../evil", "1".repeat(64)),
            format!("{} a.tar.gz", "1".repeat(64)),
            format!("{}  a.tar.gz", "A".repeat(64)),
            "11  a.tar.gz".to_owned(),
        ] {
            let text = format!("{}  ok\n{bad}\n", "0".repeat(64));
            let err = parse_sha256sums(&text).unwrap_err();
            assert!(err.starts_with("line 2 "), "{err}");
        }
    }
}
