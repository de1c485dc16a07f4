//! What `dist`, `gather`, `sign`, `reproduce`, `plan` and `bench` share: the workspace's
//! configuration, target triples, the tools a build needs, the report printer, the archive
//! formats, atomic file writes, the out dir's lock, and the dist contract's writer side
//! (checksums, manifest, signatures), and the check of `[package.metadata.binstall]`. Nothing here depends on a subcommand.

pub mod archive;
pub mod archive_cache;
pub mod auditable;
pub mod binstall;
pub mod checksums;
pub mod config;
pub mod floors;
pub mod fsio;
pub mod lock;
pub mod manifest;
pub mod report;
pub mod signing;
pub mod target;
pub mod tools;
