//! `dist/install.sh`: the one-line installer, `curl -LsSf .../install.sh | sh`.
//!
//! The script is the template `install.sh` next to this file with the packages, their binaries,
//! the version and the GitHub repository filled in. It depends on nothing else, in particular not
//! on which targets this run built: every per-target release runner writes the same bytes, and
//! the gather step keeps one copy. It downloads from the GitHub release `v<version>`
//! of the `repository` in the packages' Cargo.toml; a workspace without a GitHub repository gets
//! no installer (with a line saying why), since a dist run is about the archives first.

use crate::workspace::config::{Package, Workspace};
use crate::workspace::fsio::write_file_atomically;
use crate::workspace::report::Report;
use anyhow::{Context, Result};
use linkaudit::GlibcVersion;
use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;

pub const INSTALLER: &str = "install.sh";
const TEMPLATE: &str = include_str!("install.sh");

/// `owner/name` of a repository on github.com, from a Cargo.toml `repository` URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GithubRepo {
    owner: String,
    name: String,
}

impl GithubRepo {
    /// `https://github.com/OWNER/REPO`, with an optional `.git` or trailing `/`; anything else
    /// (another host, a deeper path) is not a repository whose releases we know how to address.
    pub fn parse(url: &str) -> Option<GithubRepo> {
        let path = url
            .strip_prefix("https://github.com/")
            .or_else(|| url.strip_prefix("http://github.com/"))?;
        let path = path.trim_end_matches('/');
        let path = path.strip_suffix(".git").unwrap_or(path);
        let (owner, name) = path.split_once('/')?;
        // Shell-safe by construction: these go between single quotes in the script.
        let valid = |part: &str| {
            !part.is_empty()
                && !part.starts_with('.')
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        };
        (valid(owner) && valid(name)).then(|| GithubRepo {
            owner: owner.to_owned(),
            name: name.to_owned(),
        })
    }

    pub fn url(&self) -> String {
        format!("https://github.com/{}/{}", self.owner, self.name)
    }
}

impl fmt::Display for GithubRepo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

/// The rendered script and where it downloads from by default.
#[derive(Debug)]
pub struct Installer {
    pub script: String,
    pub base_url: String,
}

/// install.sh for the shipped packages, or the reason why this workspace gets none.
pub fn render(packages: &[Package], glibc_floor: GlibcVersion) -> Result<Installer, String> {
    let repository = one_repository(packages)?;
    let repo = GithubRepo::parse(repository).ok_or_else(|| {
        format!(
            "`repository = \"{repository}\"` is not https://github.com/OWNER/REPO, and install.sh \
             downloads from GitHub releases"
        )
    })?;
    let versions: BTreeSet<&str> = packages.iter().map(|p| p.version.as_str()).collect();
    let version = match versions.len() {
        1 => versions.into_iter().next().unwrap_or_default(),
        _ => {
            return Err(format!(
                "the shipped packages have different versions ({}): the release tag is v<version>, \
                 so give them one version",
                versions.into_iter().collect::<Vec<_>>().join(", ")
            ))
        }
    };
    // Cargo restricts package and target names and semver to these characters; checked anyway,
    // because they are pasted between single quotes of a shell script.
    let unsafe_word = packages
        .iter()
        .flat_map(|p| std::iter::once(&p.name).chain(&p.binaries))
        .chain(std::iter::once(&packages[0].version))
        .find(|word| !is_shell_word(word));
    if let Some(word) = unsafe_word {
        return Err(format!(
            "`{word}` has characters install.sh cannot quote; use letters, digits, `-`, `_`, `.`, `+`"
        ));
    }
    let names: Vec<&str> = packages.iter().map(|p| p.name.as_str()).collect();
    let cases: Vec<String> = packages
        .iter()
        .map(|p| format!("        {}) echo '{}' ;;", p.name, p.binaries.join(" ")))
        .collect();
    let script = TEMPLATE
        .replace("@PACKAGES@", &names.join(" "))
        .replace("@VERSION@", version)
        .replace("@REPO_URL@", &repo.url())
        .replace("@GLIBC_FLOOR@", &glibc_floor.to_string())
        .replace("@BINARIES_CASE@", &cases.join("\n"));
    Ok(Installer {
        script,
        base_url: format!("{}/releases/download/v{version}", repo.url()),
    })
}

/// The one GitHub repository the shipped packages name, or why there is none.
fn one_repository(packages: &[Package]) -> Result<&str, String> {
    let repositories: BTreeSet<&str> = packages
        .iter()
        .filter_map(|p| p.repository.as_deref())
        .collect();
    match repositories.len() {
        0 => Err(
            "no shipped package has a `repository` in its Cargo.toml; add \
                        `repository = \"https://github.com/OWNER/REPO\"` to get dist/install.sh"
                .to_owned(),
        ),
        1 => Ok(repositories.into_iter().next().unwrap_or_default()),
        _ => Err(format!(
            "the shipped packages name different repositories ({}): one install.sh installs \
                 one GitHub release",
            repositories.into_iter().collect::<Vec<_>>().join(", ")
        )),
    }
}

fn is_shell_word(word: &str) -> bool {
    !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'+'))
}

/// install.sh, into the staging dir; its name when written. A workspace without one
/// GitHub release to download from gets none, with a warning saying why.
pub fn write_installer(ws: &Workspace, staging: &Path, report: &Report) -> Result<Option<String>> {
    let installer = match render(&ws.packages, ws.glibc_floor) {
        Ok(installer) => installer,
        Err(reason) => {
            report.warn(&format!("no {}: {reason}", INSTALLER));
            return Ok(None);
        }
    };
    let path = staging.join(INSTALLER);
    write_file_atomically(&path, installer.script.as_bytes())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .with_context(|| format!("making {} executable", path.display()))?;
    }
    report.step(
        "script",
        INSTALLER,
        &format!("downloads from {}", installer.base_url),
    );
    Ok(Some(INSTALLER.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package(name: &str, version: &str, repository: Option<&str>) -> Package {
        Package {
            name: name.into(),
            version: version.into(),
            binaries: vec![name.into(), format!("{name}-helper")],
            repository: repository.map(Into::into),
            ..Package::default()
        }
    }

    #[test]
    fn github_urls_parse_and_others_do_not() {
        for url in [
            "https://github.com/owner/repo",
            "https://github.com/owner/repo/",
            "https://github.com/owner/repo.git",
        ] {
            assert_eq!(
                GithubRepo::parse(url).unwrap().url(),
                "https://github.com/owner/repo"
            );
        }
        for url in [
            "https://gitlab.com/owner/repo",
            "https://github.com/owner",
            "https://github.com/owner/repo/tree/main",
            "https://github.com/own'er/repo",
            "git@github.com:owner/repo.git",
        ] {
            assert_eq!(GithubRepo::parse(url), None, "{url}");
        }
    }

    #[test]
    fn the_script_names_every_package_binary_and_the_release() {
        let packages = [
            package("tool", "1.2.3", Some("https://github.com/owner/tool")),
            package("other", "1.2.3", None),
        ];
        let installer = render(&packages, GlibcVersion::new(2, 28)).unwrap();
        assert_eq!(
            installer.base_url,
            "https://github.com/owner/tool/releases/download/v1.2.3"
        );
        let script = &installer.script;
        assert!(!script.contains('@'), "a placeholder is left");
        assert!(script.contains("PACKAGES='tool other'\n"));
        assert!(script.contains("VERSION='1.2.3'\n"));
        assert!(script.contains("gnu needs glibc 2.28 or later"));
        assert!(script.contains("REPO_URL='https://github.com/owner/tool'\n"));
        assert!(script.contains("        tool) echo 'tool tool-helper' ;;\n"));
        assert!(script.contains("        other) echo 'other other-helper' ;;\n"));
    }

    #[test]
    fn workspaces_without_one_github_release_get_a_reason() {
        let cases = [
            (
                vec![package("tool", "1.0.0", None)],
                "no shipped package has a `repository`",
            ),
            (
                vec![package("tool", "1.0.0", Some("https://example.com/tool"))],
                "is not https://github.com/OWNER/REPO",
            ),
            (
                vec![
                    package("a", "1.0.0", Some("https://github.com/o/a")),
                    package("b", "1.0.0", Some("https://github.com/o/b")),
                ],
                "different repositories",
            ),
            (
                vec![
                    package("a", "1.0.0", Some("https://github.com/o/a")),
                    package("b", "2.0.0", None),
                ],
                "different versions",
            ),
        ];
        for (packages, expected) in cases {
            let reason = render(&packages, GlibcVersion::new(2, 17)).unwrap_err();
            assert!(reason.contains(expected), "{reason}");
            assert!(!reason.contains('\n'));
        }
    }
}
