//! What `dist`, `gather`, `plan` and `bench` share: the workspace's configuration, target triples,
//! the tools a build needs, the report printer, the archive formats, atomic file writes, and the
//! dist contract's writer side (checksums, manifest). Nothing here depends on a subcommand.

pub mod archive;
pub mod checksums;
pub mod config;
pub mod fsio;
pub mod manifest;
pub mod report;
pub mod target;
pub mod tools;
