//! `SHA256SUMS` and `<archive>.sha256`: lines `<64 lowercase hex>  <file name>`, as `sha256sum`
//! writes them, so that `sha256sum -c` checks them. The writer writes two spaces; a `*` in place
//! of the second space (binary mode, which `sha256sum -c` treats the same) is accepted on read by
//! every reader alike.

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{self, Read};
use std::path::Path;

pub const CHECKSUMS: &str = "SHA256SUMS";

/// The lowercase hex SHA-256 of the regular file at `path`, read in chunks.
pub fn sha256_file(path: &Path) -> io::Result<String> {
    let mut file = super::open_regular(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        match file.read(&mut buffer)? {
            0 => break,
            read => hasher.update(&buffer[..read]),
        }
    }
    Ok(format!("{:x}", hasher.finalize()))
}

/// The lowercase hex SHA-256 of bytes in memory (a binary read from an archive).
pub fn sha256_hex(data: &[u8]) -> String {
    format!("{:x}", Sha256::digest(data))
}

/// Why `sha256` or `name` cannot stand in a checksum line; `None` when both can. The writer and
/// the parser both go through this.
pub fn entry_problem(sha256: &str, name: &str) -> Option<String> {
    if sha256.len() != 64
        || !sha256
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Some(format!("{sha256:?} is not a sha256 in lowercase hex"));
    }
    name_problem(name)
}

/// Why `name` is not a plain file name of a release directory (no path, not hidden, no
/// control character); `None` when it is.
pub fn name_problem(name: &str) -> Option<String> {
    let bad = name.is_empty()
        || name.starts_with('.')
        || name.contains(['/', '\\'])
        || name.chars().any(char::is_control);
    bad.then(|| format!("{name:?} is not a file name in this directory"))
}

/// One line of a checksum file. `sha256` and `name` must pass [`entry_problem`].
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

/// Parses one line (without its line ending) into `(sha256, name)`.
pub fn parse_line(line: &str) -> Result<(&str, &str), String> {
    let shape = || format!("is not `<sha256 in lowercase hex>  <file name>`: {line:?}");
    let (hash, rest) = line.split_at_checked(64).ok_or_else(shape)?;
    let name = rest
        .strip_prefix("  ")
        .or_else(|| rest.strip_prefix(" *"))
        .ok_or_else(shape)?;
    match entry_problem(hash, name) {
        Some(problem) => Err(format!("{problem}: {line:?}")),
        None => Ok((hash, name)),
    }
}

/// The `name -> sha256` lines of a `SHA256SUMS`, and one problem per line that is malformed,
/// names no plain file, or is out of order or repeated (the writer sorts and deduplicates).
pub fn parse_sha256sums(text: &str) -> (BTreeMap<String, String>, Vec<String>) {
    let mut listed = BTreeMap::new();
    let mut problems = Vec::new();
    let mut previous: Option<&str> = None;
    for (number, line) in text.lines().enumerate().map(|(i, l)| (i + 1, l)) {
        let (hash, name) = match parse_line(line) {
            Ok(parsed) => parsed,
            Err(problem) => {
                problems.push(format!("line {number} {problem}"));
                continue;
            }
        };
        if previous.is_some_and(|previous| previous >= name) {
            problems.push(format!(
                "line {number} ({name}) is out of order or repeated: lines are sorted by file name"
            ));
        }
        previous = Some(name);
        listed.insert(name.to_owned(), hash.to_owned());
    }
    (listed, problems)
}

/// The one line of `<archive>.sha256`: its hash, or why it is not that line.
pub fn parse_sidecar<'a>(text: &'a str, archive: &str) -> Result<&'a str, String> {
    let mut lines = text.lines();
    match (lines.next().map(parse_line), lines.next()) {
        (Some(Ok((hash, name))), None) if name == archive => Ok(hash),
        (Some(Ok((_, name))), None) => Err(format!("names {name:?} instead of {archive}")),
        _ => Err(format!("is not one line `<sha256>  {archive}`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_a_known_file() {
        let path = std::env::temp_dir().join(format!("linkaudit-sha-{}", std::process::id()));
        std::fs::write(&path, "abc").unwrap();
        assert_eq!(
            sha256_file(&path).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn sums_are_sorted_by_name_in_sha256sum_format() {
        let (one, two) = ("1".repeat(64), "2".repeat(64));
        let sums = sha256sums([("b.zip", two.as_str()), ("a.tar.gz", one.as_str())]);
        assert_eq!(sums, format!("{one}  a.tar.gz\n{two}  b.zip\n"));
        let (listed, problems) = parse_sha256sums(&sums);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(listed["a.tar.gz"], one);
        assert_eq!(
            sidecar("a.tar.gz", &one),
            ("a.tar.gz.sha256".to_owned(), format!("{one}  a.tar.gz\n"))
        );
        assert_eq!(
            parse_sidecar(&sidecar("a.tar.gz", &one).1, "a.tar.gz"),
            Ok(one.as_str())
        );
    }

    /// The writer's side (`entry_problem`, then `line`) and the reader's side (`parse_line`)
    /// accept and refuse exactly the same (sha256, name) pairs, and a written line reads back
    /// as what was written.
    #[test]
    fn writer_and_reader_accept_and_refuse_the_same_entries() {
        let good = "0123456789abcdef".repeat(4);
        let hashes = [
            good.clone(),
            good.to_uppercase(),
            "1".repeat(63),
            "1".repeat(65),
            format!("{}g", &good[1..]),
        ];
        let names = [
            "a.tar.gz",
            "x-aarch64-apple-darwin.tar.gz",
            "é.zip",
            "",
            ".hidden",
            "..",
            "a/b",
            "a\\b",
            "tab\tname",
            "new\nline",
            "with space",
            "*star",
        ];
        for hash in &hashes {
            for name in names {
                let written = line(hash, name);
                let read = parse_line(written.strip_suffix('\n').unwrap());
                assert_eq!(
                    entry_problem(hash, name).is_none(),
                    read.is_ok(),
                    "{hash:?} {name:?}: {read:?}"
                );
                if entry_problem(hash, name).is_none() {
                    assert_eq!(read, Ok((hash.as_str(), name)));
                }
            }
        }
        let binary_mode = format!("{good} *a.zip");
        assert_eq!(parse_line(&binary_mode), Ok((good.as_str(), "a.zip")));
        for bad in [
            format!("{good} a.zip"),
            format!("{good}  ../x"),
            "é".to_owned(),
        ] {
            assert!(parse_line(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bad_lines_are_named_by_number() {
        let (zero, one) = ("0".repeat(64), "1".repeat(64));
        let text = format!("{one}  b\n{zero}  a\n{one} b\n");
        let (_, problems) = parse_sha256sums(&text);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].starts_with("line 2 (a) is out of order"),
            "{problems:?}"
        );
        assert!(problems[1].starts_with("line 3 is not"), "{problems:?}");
    }
}
