//! The dist contract, normative: the one definition of what `cargo xtask dist` writes into a
//! release directory and what `linkaudit verify` and `cargo xtask gather` read back.
//!
//! - [`manifest`]: `dist-manifest.json`, typed; every field the writer writes is required when
//!   reading, unknown fields are refused, and a manifest of a newer schema is told apart.
//! - [`checksums`]: the `SHA256SUMS` and `<archive>.sha256` line format (`sha256sum`'s), one
//!   parser and one formatter, and the SHA-256 of a file.
//! - [`naming`]: archive names `<package>-<target>.<ext>`, their top directory, wheel names and
//!   their platform tags. The target a name carries is a [`crate::Target`], the one parsed
//!   triple type of the crate; [`crate::Target::is_release_target`] says which a name may carry.
//! - [`sbom`]: the CycloneDX JSON SBOM beside each archive, `<package>-<target>.cdx.json`, made
//!   from the binaries' embedded dependency lists and linkage, byte-reproducible.
//!
//! The writer and the readers share these functions so that they cannot drift apart: a line,
//! name or manifest the writer produces is one the readers accept, and nothing else is.

pub mod checksums;
pub mod manifest;
pub mod naming;
pub mod sbom;

pub use checksums::{sha256_file, CHECKSUMS};
pub use manifest::{Artifact, Binary, Manifest, ManifestError, MANIFEST, SCHEMA_VERSION};
pub use naming::{ArchiveName, WheelName};
pub use sbom::{sbom_name, SBOM_SUFFIX};

use std::fs::File;
use std::io;
use std::path::Path;

/// Opens `path` for reading only if it is a regular file, without following a final symlink
/// and without blocking: a FIFO or a link to `/dev/zero` named in `SHA256SUMS` would otherwise
/// make a reader wait forever.
pub fn open_regular(path: &Path) -> io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW);
    }
    let file = options.open(path)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    Ok(file)
}

/// Reads a small text file of the release (manifest, checksum file) through [`open_regular`],
/// refusing one larger than `limit` bytes.
pub fn read_text(path: &Path, limit: u64) -> io::Result<String> {
    use std::io::Read;
    let file = open_regular(path)?;
    let mut text = String::new();
    file.take(limit + 1).read_to_string(&mut text)?;
    if text.len() as u64 > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("larger than {limit} bytes"),
        ));
    }
    Ok(text)
}
