//! `cargo xtask release-notes <tag>`: the release notes, taken from the CHANGELOG.md section of
//! the tag's version (Keep a Changelog: `## [1.2.0] - 2026-11-24`, `## 1.2.0`, date optional),
//! so that a maintainer reads exactly what the release will say before tagging.

use super::version::{Tag, Version};
use anyhow::{bail, Context, Result};
use std::path::Path;

pub const CHANGELOG: &str = "CHANGELOG.md";

pub fn run(tag: &str) -> Result<()> {
    let tag = Tag::parse(tag)?;
    let sh = xshell::Shell::new().context("starting a shell")?;
    let ws = crate::workspace::config::Workspace::load(&sh)?;
    print!("{}", notes(&ws.root, &tag.version)?);
    Ok(())
}

/// The notes of `version` from the workspace's CHANGELOG.md, ending with one newline.
pub fn notes(root: &Path, version: &Version) -> Result<String> {
    let path = root.join(CHANGELOG);
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "reading {} (add a CHANGELOG.md with a `## [{version}]` section)",
            path.display()
        )
    })?;
    match section(&text, version.as_str()) {
        Some(body) if !body.is_empty() => Ok(format!("{body}\n")),
        Some(_) => bail!(
            "the `## [{version}]` section of {} is empty: write what changed under it",
            path.display()
        ),
        None => bail!(
            "{} has no section for {version}: add `## [{version}] - YYYY-MM-DD` with what changed \
             (Keep a Changelog)",
            path.display()
        ),
    }
}

/// The body of the level-2 section whose heading names `version`, trimmed; link reference
/// definitions (`[1.2.0]: https://...`) at its end belong to the whole file, not the section.
fn section(text: &str, version: &str) -> Option<String> {
    let mut lines = text.lines();
    lines.find(|line| heading_version(line) == Some(version))?;
    let mut body: Vec<&str> = lines.take_while(|line| !line.starts_with("## ")).collect();
    while body
        .last()
        .is_some_and(|l| l.trim().is_empty() || is_link_definition(l))
    {
        body.pop();
    }
    let start = body
        .iter()
        .position(|l| !l.trim().is_empty())
        .unwrap_or(body.len());
    Some(body[start..].join("\n"))
}

/// `## [1.2.0] - 2026-11-24`, `## [1.2.0]`, `## 1.2.0 (2026-11-24)`, `## v1.2.0` -> `1.2.0`.
fn heading_version(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("## ")?.trim_start();
    let word = rest.split_whitespace().next()?;
    let word = word
        .strip_prefix('[')
        .and_then(|w| w.strip_suffix(']'))
        .unwrap_or(word);
    Some(word.strip_prefix('v').unwrap_or(word))
}

fn is_link_definition(line: &str) -> bool {
    line.starts_with('[') && line.contains("]: ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHANGELOG_TEXT: &str = "# Changelog\n\n## [Unreleased]\n\n- next\n\n\
        ## [1.2.0] - 2026-11-24\n\n### Added\n\n- a thing\n\n## 1.1.0\n\n- older\n\n\
        ## v1.0.0-rc.1 (2026-01-01)\n- rc\n\n[1.2.0]: https://example.invalid/compare\n";

    #[test]
    fn sections_with_and_without_brackets_and_dates() {
        assert_eq!(
            section(CHANGELOG_TEXT, "1.2.0").unwrap(),
            "### Added\n\n- a thing"
        );
        assert_eq!(section(CHANGELOG_TEXT, "1.1.0").unwrap(), "- older");
        assert_eq!(section(CHANGELOG_TEXT, "1.0.0-rc.1").unwrap(), "- rc");
        assert_eq!(section(CHANGELOG_TEXT, "1.2"), None);
        assert_eq!(section(CHANGELOG_TEXT, "9.9.9"), None);
    }

    #[test]
    fn a_missing_section_is_a_one_line_error_saying_what_to_add() {
        let dir = std::env::temp_dir().join(format!("xtask-notes-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(CHANGELOG), CHANGELOG_TEXT).unwrap();
        let version = Version::parse("2.0.0").unwrap();
        let err = format!("{:#}", notes(&dir, &version).unwrap_err());
        assert!(
            err.contains("no section for 2.0.0") && err.contains("## [2.0.0]"),
            "{err}"
        );
        assert!(!err.contains('\n'), "{err}");
        let ok = notes(&dir, &Version::parse("1.1.0").unwrap()).unwrap();
        assert_eq!(ok, "- older\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
