//! Python wheels that carry the release binaries (issue #8): `pip install <package>` puts the
//! static binary on the PATH of any Linux, glibc or musl, and of Windows and macOS.
//!
//! A wheel is a zip (the binary distribution format, PEP 427 / PEP 491): the binaries under
//! `{name}-{version}.data/scripts/` (pip copies them into the environment's bin dir and marks them
//! executable), and `METADATA`, `WHEEL` and `RECORD` in `{name}-{version}.dist-info/`. The tag is
//! `py3-none-{platforms}`: no Python code and no ABI, only the platform. Wheels are written like
//! the archives (issue #5): entries sorted, the DOS time of SOURCE_DATE_EPOCH, fixed modes, the
//! same deflate backend and level.
//!
//! One wheel per platform: a static musl binary runs on glibc systems too, so a Linux musl build
//! is tagged for both libcs at once (`manylinux_2_17_x86_64.manylinux2014_x86_64.musllinux_1_1_x86_64`)
//! and a gnu build of the same architecture gets no wheel; pip would otherwise see two wheels for
//! one platform. Likewise windows-msvc is preferred over windows-gnu.

use super::config::Package;
use super::target::TargetTriple;
use anyhow::{bail, Context, Result};
use linkaudit::{GlibcVersion, OsVersion};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The platform tags of one wheel, most specific first, e.g. `manylinux_2_17_x86_64`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlatformTags(Vec<String>);

impl PlatformTags {
    /// The compressed tag set of the file name: tags joined with `.`.
    pub fn compressed(&self) -> String {
        self.0.join(".")
    }
}

/// `macosx_10_12` for 10.12; from macOS 11 on pip knows only `macosx_<major>_0`, so a minos of
/// 11.3 is tagged `macosx_12_0`: the wheel must not claim a release it does not start on.
fn macos_tag(minos: OsVersion) -> String {
    match minos {
        OsVersion {
            major: 10, minor, ..
        } => format!("macosx_10_{minor}"),
        OsVersion {
            major,
            minor: 0,
            patch: 0,
        } => format!("macosx_{major}_0"),
        OsVersion { major, .. } => format!("macosx_{}_0", major + 1),
    }
}

/// The platform tags for `triple`'s wheel, or why it gets none. `matrix` is the whole target list
/// of `[workspace.metadata.dist]`, so the answer does not depend on which targets this run builds;
/// a gnu wheel is tagged with the glibc floor its binaries were checked against, an Apple wheel
/// with the highest `minos` its binaries declare (`macos_minos`, measured).
pub fn platform_tags(
    triple: &TargetTriple,
    matrix: &[TargetTriple],
    glibc_floor: GlibcVersion,
    macos_minos: Option<OsVersion>,
) -> std::result::Result<PlatformTags, String> {
    let arch = triple.arch();
    let has = |suffix: &str| {
        matrix
            .iter()
            .any(|t| t.arch() == arch && t.as_str().ends_with(suffix))
    };
    let t = triple.as_str();
    let linux_arch = || {
        Ok(match arch {
            "x86_64" | "aarch64" | "i686" | "s390x" => arch,
            "powerpc64le" => "ppc64le",
            "armv7" => "armv7l",
            "riscv64gc" => "riscv64",
            _ => return Err(format!("no Python platform tag is known for {arch} Linux")),
        })
    };
    let tags = if t.ends_with("-linux-musl") || t.ends_with("-linux-musleabihf") {
        let a = linux_arch()?;
        vec![
            format!("manylinux_2_17_{a}"),
            format!("manylinux2014_{a}"),
            format!("musllinux_1_1_{a}"),
        ]
    } else if t.contains("-linux-gnu") {
        if has("-linux-musl") || has("-linux-musleabihf") {
            return Err(format!(
                "the {arch} musl wheel covers glibc systems too (one wheel per platform)"
            ));
        }
        let a = linux_arch()?;
        let floor = glibc_floor.to_string();
        let mut tags = vec![format!("manylinux_{}_{a}", floor.replace('.', "_"))];
        // The legacy alias pip versions before 20.3 know (PEP 599's manylinux2014 is 2.17).
        if let Some(alias) = match floor.as_str() {
            "2.17" => Some("manylinux2014"),
            "2.12" => Some("manylinux2010"),
            "2.5" => Some("manylinux1"),
            _ => None,
        } {
            tags.push(format!("{alias}_{a}"));
        }
        tags
    } else if t.ends_with("-windows-gnu") && has("-windows-msvc") {
        return Err(format!(
            "the {arch} windows-msvc build gets the wheel (one wheel per platform)"
        ));
    } else if t.contains("-windows-") {
        vec![match arch {
            "x86_64" => "win_amd64",
            "aarch64" => "win_arm64",
            "i686" => "win32",
            _ => {
                return Err(format!(
                    "no Python platform tag is known for {arch} Windows"
                ))
            }
        }
        .to_owned()]
    } else if t.ends_with("-apple-darwin") {
        let a = match arch {
            "aarch64" => "arm64",
            "x86_64" => "x86_64",
            _ => return Err(format!("no Python platform tag is known for {arch} macOS")),
        };
        let minos = macos_minos.ok_or("its binaries declare no minimum macOS version")?;
        vec![format!("{}_{a}", macos_tag(minos))]
    } else {
        return Err(format!("no Python platform tag is known for {triple}"));
    };
    Ok(PlatformTags(tags))
}

/// A distribution name as wheel file names spell it: runs of `-`, `_`, `.` become one `_`,
/// lowercase (the binary distribution format's escaping).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WheelName(String);

impl WheelName {
    pub fn new(package: &str) -> WheelName {
        let mut out = String::new();
        for c in package.chars() {
            if matches!(c, '-' | '_' | '.') {
                if !out.ends_with('_') {
                    out.push('_');
                }
            } else {
                out.push(c.to_ascii_lowercase());
            }
        }
        WheelName(out)
    }
}

/// A Cargo (semver) version written as a Python (PEP 440) version: `1.2.3`, `1.2.3-rc.1` ->
/// `1.2.3rc1`, `-alpha.2` -> `a2`, `-beta` -> `b0`. Other pre-releases and build metadata have no
/// PEP 440 spelling that PyPI accepts, so they are errors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PyVersion(String);

impl PyVersion {
    pub fn from_semver(version: &str) -> Result<PyVersion> {
        let hint = || {
            format!(
                "version {version} has no Python (PEP 440) spelling: wheels need X.Y.Z or a \
                 -alpha.N, -beta.N or -rc.N pre-release"
            )
        };
        if version.contains('+') {
            bail!("{}", hint());
        }
        let (release, pre) = match version.split_once('-') {
            Some((release, pre)) => (release, Some(pre)),
            None => (version, None),
        };
        if release.is_empty() || !release.split('.').all(is_number) {
            bail!("{}", hint());
        }
        let pre = match pre {
            None => String::new(),
            Some(pre) => {
                let (label, number) = pre.split_once('.').unwrap_or((pre, "0"));
                let label = match label {
                    "alpha" | "a" => "a",
                    "beta" | "b" => "b",
                    "rc" => "rc",
                    _ => bail!("{}", hint()),
                };
                if !is_number(number) {
                    bail!("{}", hint());
                }
                format!("{label}{number}")
            }
        };
        Ok(PyVersion(format!("{release}{pre}")))
    }
}

fn is_number(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// What a wheel says about its package, from Cargo.toml.
pub struct Metadata<'a> {
    pub package: &'a Package,
    /// The package's readme, if it has one: the long description PyPI shows.
    pub readme: Option<String>,
}

/// A binary to put into the wheel.
pub struct WheelBinary {
    /// The file name, `tool` or `tool.exe`.
    pub file_name: String,
    pub source: PathBuf,
}

/// A wheel written into the staging dir.
pub struct Wheel {
    pub file_name: String,
    /// Where the binaries sit inside the wheel: `{name}-{version}.data/scripts`.
    pub scripts_dir: String,
}

/// Writes the wheel of one package for one platform into `dir`.
pub fn write_wheel(
    dir: &Path,
    meta: &Metadata,
    tags: &PlatformTags,
    binaries: &[WheelBinary],
    mtime: u64,
) -> Result<Wheel> {
    let package = meta.package;
    let name = WheelName::new(&package.name);
    let version = PyVersion::from_semver(&package.version)
        .with_context(|| format!("writing the wheel of {}", package.name))?;
    let stem = format!("{}-{}", name.0, version.0);
    let file_name = format!("{stem}-py3-none-{}.whl", tags.compressed());
    let scripts_dir = format!("{stem}.data/scripts");
    let dist_info = format!("{stem}.dist-info");

    let mut files: Vec<(String, Vec<u8>, u32)> = Vec::new();
    for binary in binaries {
        let data = std::fs::read(&binary.source)
            .with_context(|| format!("reading {}", binary.source.display()))?;
        files.push((format!("{scripts_dir}/{}", binary.file_name), data, 0o755));
    }
    files.push((
        format!("{dist_info}/METADATA"),
        metadata_file(meta, &version).into_bytes(),
        0o644,
    ));
    files.push((
        format!("{dist_info}/WHEEL"),
        wheel_file(tags).into_bytes(),
        0o644,
    ));
    let record_path = format!("{dist_info}/RECORD");
    let record = record_file(&files, &record_path);
    files.push((record_path, record.into_bytes(), 0o644));
    files.sort_by(|a, b| a.0.cmp(&b.0));

    write_zip(&dir.join(&file_name), &files, mtime)?;
    Ok(Wheel {
        file_name,
        scripts_dir,
    })
}

/// Core metadata 2.1: understood by every pip that knows musllinux tags, and by twine and PyPI.
fn metadata_file(meta: &Metadata, version: &PyVersion) -> String {
    let package = meta.package;
    let mut text = format!(
        "Metadata-Version: 2.1\nName: {}\nVersion: {}\n",
        package.name, version.0
    );
    let mut field = |key: &str, value: Option<&str>| {
        if let Some(value) = value.filter(|v| !v.trim().is_empty()) {
            // Header values are one line; a multi-line description would end the headers.
            let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
            text.push_str(&format!("{key}: {value}\n"));
        }
    };
    field("Summary", package.description.as_deref());
    field("Home-page", package.homepage.as_deref());
    field("License", package.license.as_deref());
    if let Some(repository) = &package.repository {
        field("Project-URL", Some(&format!("Repository, {repository}")));
    }
    if let Some(readme) = &meta.readme {
        text.push_str("Description-Content-Type: text/markdown\n\n");
        text.push_str(readme);
        if !readme.ends_with('\n') {
            text.push('\n');
        }
    }
    text
}

fn wheel_file(tags: &PlatformTags) -> String {
    let mut text =
        String::from("Wheel-Version: 1.0\nGenerator: cargo-xtask-dist\nRoot-Is-Purelib: false\n");
    for tag in &tags.0 {
        text.push_str(&format!("Tag: py3-none-{tag}\n"));
    }
    text
}

/// RECORD: `path,sha256=<urlsafe base64, no padding>,size` per file, and RECORD itself with
/// neither hash nor size; pip checks every hash when it installs.
fn record_file(files: &[(String, Vec<u8>, u32)], record_path: &str) -> String {
    let mut lines: Vec<String> = files
        .iter()
        .map(|(path, data, _)| {
            let digest = Sha256::digest(data);
            format!(
                "{path},sha256={},{}",
                base64_urlsafe_nopad(&digest),
                data.len()
            )
        })
        .collect();
    lines.push(format!("{record_path},,"));
    lines.sort();
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// RFC 4648 section 5 base64 without `=` padding, as RECORD wants (not worth a dependency).
fn base64_urlsafe_nopad(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

/// The zip itself, with the archives' rules (pack.rs): sorted entries, fixed time and modes.
fn write_zip(dest: &Path, files: &[(String, Vec<u8>, u32)], mtime: u64) -> Result<()> {
    use zip::write::SimpleFileOptions;
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(i64::from(super::pack::LEVEL)))
        .last_modified_time(super::pack::dos_time(mtime)?);
    super::pack::write_atomically(dest, |out| {
        let mut zip = zip::ZipWriter::new(out);
        for (path, data, mode) in files {
            zip.start_file(path.as_str(), options.unix_permissions(*mode))?;
            zip.write_all(data)?;
        }
        zip.finish()?.flush()?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn triples(list: &[&str]) -> Vec<TargetTriple> {
        list.iter()
            .map(|t| TargetTriple::parse(t).unwrap())
            .collect()
    }

    #[test]
    fn each_platform_gets_its_tags_and_one_wheel() {
        let matrix = triples(&[
            "x86_64-unknown-linux-gnu",
            "x86_64-unknown-linux-musl",
            "aarch64-unknown-linux-musl",
            "armv7-unknown-linux-gnueabihf",
            "x86_64-pc-windows-msvc",
            "aarch64-pc-windows-msvc",
            "x86_64-pc-windows-gnu",
            "x86_64-apple-darwin",
            "aarch64-apple-darwin",
        ]);
        let floor = GlibcVersion::new(2, 17);
        let minos = |t: &str| {
            let floors = linkaudit::Floors::with_glibc(floor);
            t.contains("apple").then(|| floors.macos_for(t))
        };
        let tags =
            |t: &str| platform_tags(&TargetTriple::parse(t).unwrap(), &matrix, floor, minos(t));
        let ok = |t: &str| tags(t).unwrap().compressed();
        assert_eq!(
            ok("x86_64-unknown-linux-musl"),
            "manylinux_2_17_x86_64.manylinux2014_x86_64.musllinux_1_1_x86_64"
        );
        assert_eq!(
            ok("aarch64-unknown-linux-musl"),
            "manylinux_2_17_aarch64.manylinux2014_aarch64.musllinux_1_1_aarch64"
        );
        assert_eq!(
            ok("armv7-unknown-linux-gnueabihf"),
            "manylinux_2_17_armv7l.manylinux2014_armv7l"
        );
        assert_eq!(ok("x86_64-pc-windows-msvc"), "win_amd64");
        assert_eq!(ok("aarch64-pc-windows-msvc"), "win_arm64");
        assert_eq!(ok("aarch64-apple-darwin"), "macosx_11_0_arm64");
        assert_eq!(ok("x86_64-apple-darwin"), "macosx_10_12_x86_64");
        // The tag follows the minos measured in the binaries, not a constant.
        let mac = TargetTriple::parse("aarch64-apple-darwin").unwrap();
        let measured = |major, minor| {
            platform_tags(&mac, &matrix, floor, Some(OsVersion::new(major, minor)))
                .unwrap()
                .compressed()
        };
        assert_eq!(measured(15, 0), "macosx_15_0_arm64");
        assert_eq!(measured(11, 3), "macosx_12_0_arm64");
        assert!(platform_tags(&mac, &matrix, floor, None).is_err());
        assert!(tags("x86_64-unknown-linux-gnu")
            .unwrap_err()
            .contains("musl wheel covers glibc"));
        assert!(tags("x86_64-pc-windows-gnu")
            .unwrap_err()
            .contains("windows-msvc build gets the wheel"));
        // Without musl in the matrix, gnu gets a manylinux wheel.
        let gnu_only = triples(&["aarch64-unknown-linux-gnu"]);
        assert_eq!(
            platform_tags(&gnu_only[0], &gnu_only, floor, None)
                .unwrap()
                .compressed(),
            "manylinux_2_17_aarch64.manylinux2014_aarch64"
        );
        // ...tagged with the floor its binaries were checked against.
        assert_eq!(
            platform_tags(&gnu_only[0], &gnu_only, GlibcVersion::new(2, 28), None)
                .unwrap()
                .compressed(),
            "manylinux_2_28_aarch64"
        );
        let odd = triples(&["mips64-unknown-linux-muslabi64"]);
        assert!(platform_tags(&odd[0], &odd, floor, None).is_err());
    }

    #[test]
    fn names_and_versions_follow_the_python_spellings() {
        assert_eq!(WheelName::new("fixture-cli").0, "fixture_cli");
        assert_eq!(WheelName::new("My.Tool--x_y").0, "my_tool_x_y");
        for (semver, python) in [
            ("0.1.0", "0.1.0"),
            ("1.2.3-rc.1", "1.2.3rc1"),
            ("1.2.3-alpha.2", "1.2.3a2"),
            ("1.2.3-beta", "1.2.3b0"),
        ] {
            assert_eq!(PyVersion::from_semver(semver).unwrap().0, python);
        }
        for bad in ["1.2.3+build.5", "1.2.3-pre.1", "1.2.3-rc.x", "1.x.3"] {
            let err = PyVersion::from_semver(bad).unwrap_err().to_string();
            assert!(err.contains("PEP 440"), "{bad}: {err}");
        }
    }

    #[test]
    fn base64_matches_rfc_4648_urlsafe_without_padding() {
        for (input, expected) in [
            (&b""[..], ""),
            (b"f", "Zg"),
            (b"fo", "Zm8"),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg"),
            (b"\xfb\xff\xfe", "-__-"),
        ] {
            assert_eq!(base64_urlsafe_nopad(input), expected);
        }
    }
}
