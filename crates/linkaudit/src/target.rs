//! Target triples, parsed once: `x86_64-unknown-linux-musl` becomes arch / vendor / OS / env, so
//! that every decision about a target (its policy here; its build method, runner, archive format,
//! wheel tag and exe suffix in the xtask) is a match on these fields rather than a search in the
//! text. Unknown components are kept as `Other(text)`: rustc knows hundreds of triples, and a
//! triple this crate has no rule for is still a triple.

use crate::Format;
use std::fmt;
use std::str::FromStr;

/// A rustc target triple: `ARCH-VENDOR-OS[-ENV]`, or `ARCH-OS[-ENV]` for the triples without a
/// vendor (`aarch64-linux-android`). Equal, ordered and hashed by its text.
#[derive(Clone, Debug)]
pub struct Target {
    text: String,
    pub arch: Arch,
    pub vendor: Vendor,
    pub os: Os,
    pub env: Env,
    /// What follows the env's family in the last component: `eabihf` in `musleabihf`, else empty.
    pub abi: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Arch {
    X86_64,
    Aarch64,
    I686,
    I586,
    Armv7,
    Arm,
    Riscv64gc,
    Powerpc64le,
    S390x,
    Other(String),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Vendor {
    Unknown,
    Pc,
    Apple,
    /// No vendor component (`aarch64-linux-android`).
    None,
    Other(String),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Os {
    Linux,
    Windows,
    Darwin,
    Other(String),
}

/// The C library / ABI family of the last component.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Env {
    /// `gnu`, and its ABI variants (`gnueabihf`): glibc on Linux, mingw-w64 on Windows.
    Gnu,
    /// `musl`, and its ABI variants (`musleabihf`).
    Musl,
    Msvc,
    /// No env component (`aarch64-apple-darwin`).
    None,
    Other(String),
}

/// Why a text is not a target triple, with what to give instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseTargetError(String);

impl fmt::Display for ParseTargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not a target triple: expected ARCH-VENDOR-OS[-ENV], such as \
             x86_64-unknown-linux-musl (see `rustc --print target-list`)",
            self.0
        )
    }
}

impl std::error::Error for ParseTargetError {}

impl FromStr for Target {
    type Err = ParseTargetError;

    fn from_str(text: &str) -> Result<Target, ParseTargetError> {
        let parts: Vec<&str> = text.split('-').collect();
        let well_formed = parts.len() >= 2
            && parts.iter().all(|part| !part.is_empty())
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.');
        if !well_formed {
            return Err(ParseTargetError(text.to_owned()));
        }
        let arch = Arch::parse(parts[0]);
        let (vendor, os, rest) = match parts[1..] {
            [os] => (Vendor::None, os, &[][..]),
            [second, ref rest @ ..] if !matches!(Os::parse(second), Os::Other(_)) => {
                (Vendor::None, second, rest)
            }
            [vendor, os, ref rest @ ..] => (Vendor::parse(vendor), os, rest),
            [] => unreachable!("two or more parts"),
        };
        let (env, abi) = Env::parse(&rest.join("-"));
        Ok(Target {
            text: text.to_owned(),
            arch,
            vendor,
            os: Os::parse(os),
            env,
            abi,
        })
    }
}

impl Target {
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The executable suffix of the target's binaries.
    pub fn exe_suffix(&self) -> &'static str {
        match self.os {
            Os::Windows => ".exe",
            _ => "",
        }
    }

    /// The extension of the target's release archives: `zip` on Windows (as ruff, uv,
    /// cargo-dist and rust-analyzer ship there), `tar.gz` elsewhere.
    pub fn archive_extension(&self) -> &'static str {
        match self.os {
            Os::Windows => "zip",
            _ => "tar.gz",
        }
    }

    /// The container format of the target's binaries; `None` for an OS without a rule here.
    pub fn binary_format(&self) -> Option<Format> {
        match self.os {
            Os::Linux => Some(Format::Elf),
            Os::Windows => Some(Format::Pe),
            Os::Darwin => Some(Format::MachO),
            Os::Other(_) => None,
        }
    }

    /// True for the triples a release archive may name: a known architecture with
    /// `unknown-linux-{gnu,musl}[eabihf]`, `pc-windows-{msvc,gnu,gnullvm}` or `apple-darwin`.
    /// A reader takes the policy from the name, so a name it cannot place is refused.
    pub fn is_release_target(&self) -> bool {
        let arm_abi = matches!(self.abi.as_str(), "" | "eabihf");
        let known_os = match (&self.vendor, &self.os, &self.env) {
            (Vendor::Unknown, Os::Linux, Env::Gnu | Env::Musl) => arm_abi,
            (Vendor::Pc, Os::Windows, Env::Msvc) => self.abi.is_empty(),
            (Vendor::Pc, Os::Windows, Env::Gnu) => matches!(self.abi.as_str(), "" | "llvm"),
            (Vendor::Apple, Os::Darwin, Env::None) => true,
            _ => false,
        };
        known_os && !matches!(self.arch, Arch::Other(_))
    }

    /// True when linkaudit's architecture name `audit_arch` (`x86_64`, `i386`, `arm`, a
    /// universal Mach-O's `x86_64+aarch64`) includes this target's architecture.
    pub fn runs_arch(&self, audit_arch: &str) -> bool {
        let want = match self.arch {
            Arch::I686 | Arch::I586 => "i386",
            Arch::Armv7 => "arm",
            Arch::Riscv64gc => "riscv",
            Arch::Powerpc64le => "powerpc64",
            _ => self.arch.as_str(),
        };
        audit_arch
            .split('+')
            .any(|arch| arch == want || arch.strip_prefix(want).is_some_and(|rest| rest == "64"))
    }
}

impl Arch {
    fn parse(text: &str) -> Arch {
        match text {
            "x86_64" => Arch::X86_64,
            "aarch64" => Arch::Aarch64,
            "i686" => Arch::I686,
            "i586" => Arch::I586,
            "armv7" => Arch::Armv7,
            "arm" => Arch::Arm,
            "riscv64gc" => Arch::Riscv64gc,
            "powerpc64le" => Arch::Powerpc64le,
            "s390x" => Arch::S390x,
            other => Arch::Other(other.to_owned()),
        }
    }

    /// The component as rustc spells it.
    pub fn as_str(&self) -> &str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Aarch64 => "aarch64",
            Arch::I686 => "i686",
            Arch::I586 => "i586",
            Arch::Armv7 => "armv7",
            Arch::Arm => "arm",
            Arch::Riscv64gc => "riscv64gc",
            Arch::Powerpc64le => "powerpc64le",
            Arch::S390x => "s390x",
            Arch::Other(text) => text,
        }
    }
}

impl Vendor {
    fn parse(text: &str) -> Vendor {
        match text {
            "unknown" => Vendor::Unknown,
            "pc" => Vendor::Pc,
            "apple" => Vendor::Apple,
            other => Vendor::Other(other.to_owned()),
        }
    }
}

impl Os {
    fn parse(text: &str) -> Os {
        match text {
            "linux" => Os::Linux,
            "windows" => Os::Windows,
            "darwin" => Os::Darwin,
            other => Os::Other(other.to_owned()),
        }
    }
}

impl Env {
    /// The env and the ABI suffix after its family name (`musleabihf` -> Musl, `eabihf`).
    fn parse(text: &str) -> (Env, String) {
        if text.is_empty() {
            return (Env::None, String::new());
        }
        for (family, env) in [("gnu", Env::Gnu), ("musl", Env::Musl), ("msvc", Env::Msvc)] {
            if let Some(abi) = text.strip_prefix(family) {
                return (env, abi.to_owned());
            }
        }
        (Env::Other(text.to_owned()), String::new())
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Compares with rustc's spelling of the component.
impl PartialEq<str> for Arch {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq for Target {
    fn eq(&self, other: &Target) -> bool {
        self.text == other.text
    }
}

impl Eq for Target {}

impl PartialOrd for Target {
    fn partial_cmp(&self, other: &Target) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Target {
    fn cmp(&self, other: &Target) -> std::cmp::Ordering {
        self.text.cmp(&other.text)
    }
}

impl std::hash::Hash for Target {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.text.hash(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Target {
        text.parse().unwrap()
    }

    #[test]
    fn triples_split_into_their_components() {
        let t = parse("x86_64-unknown-linux-musl");
        assert_eq!(
            (&t.arch, &t.vendor, &t.os, &t.env, t.abi.as_str()),
            (&Arch::X86_64, &Vendor::Unknown, &Os::Linux, &Env::Musl, "")
        );
        let t = parse("armv7-unknown-linux-musleabihf");
        assert_eq!(
            (&t.arch, &t.env, t.abi.as_str()),
            (&Arch::Armv7, &Env::Musl, "eabihf")
        );
        let t = parse("aarch64-pc-windows-msvc");
        assert_eq!(
            (&t.vendor, &t.os, &t.env),
            (&Vendor::Pc, &Os::Windows, &Env::Msvc)
        );
        let t = parse("aarch64-apple-darwin");
        assert_eq!(
            (&t.vendor, &t.os, &t.env),
            (&Vendor::Apple, &Os::Darwin, &Env::None)
        );
        let t = parse("aarch64-linux-android");
        assert_eq!(
            (&t.vendor, &t.os, &t.env),
            (&Vendor::None, &Os::Linux, &Env::Other("android".into()))
        );
        let t = parse("wasm32-unknown-unknown");
        assert_eq!(
            (&t.arch, &t.os, &t.env),
            (
                &Arch::Other("wasm32".into()),
                &Os::Other("unknown".into()),
                &Env::None
            )
        );
        assert_eq!(t.to_string(), "wasm32-unknown-unknown");
        assert_eq!(parse("x86_64-pc-windows-gnu").exe_suffix(), ".exe");
        assert_eq!(parse("x86_64-unknown-linux-gnu").exe_suffix(), "");
    }

    #[test]
    fn release_targets_say_their_archive_format_and_architecture() {
        assert_eq!(parse("x86_64-pc-windows-msvc").archive_extension(), "zip");
        assert_eq!(parse("aarch64-apple-darwin").archive_extension(), "tar.gz");
        assert_eq!(
            parse("aarch64-pc-windows-msvc").binary_format(),
            Some(Format::Pe)
        );
        assert_eq!(parse("wasm32-unknown-unknown").binary_format(), None);
        for known in [
            "x86_64-unknown-linux-musl",
            "armv7-unknown-linux-musleabihf",
            "x86_64-pc-windows-gnullvm",
            "aarch64-apple-darwin",
        ] {
            assert!(parse(known).is_release_target(), "{known}");
        }
        for unknown in [
            "sparc-unknown-linux-gnu",
            "unknown-linux-gnu",
            "x86_64-unknown-linux-android",
            "x86_64-pc-windows-msvcx",
            "aarch64-apple-ios",
        ] {
            assert!(!parse(unknown).is_release_target(), "{unknown}");
        }
        assert!(parse("x86_64-unknown-linux-gnu").runs_arch("x86_64"));
        assert!(!parse("x86_64-unknown-linux-gnu").runs_arch("aarch64"));
        assert!(parse("aarch64-apple-darwin").runs_arch("x86_64+aarch64"));
        assert!(parse("i686-pc-windows-msvc").runs_arch("i386"));
    }

    #[test]
    fn malformed_text_is_refused_with_a_hint() {
        for bad in [
            "",
            "x86_64",
            "x86_64--linux",
            "x86 64-unknown-linux-gnu",
            "a-b-",
        ] {
            let err = bad.parse::<Target>().unwrap_err().to_string();
            assert!(err.contains("rustc --print target-list"), "{bad}: {err}");
            assert!(!err.contains('\n'), "{err}");
        }
    }
}
