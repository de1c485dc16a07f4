//! `cargo xtask plan [--tag vX.Y.Z]`: the release workflow's plan as one line of JSON on stdout
//! (release/plan.rs): version, tag, title, pre-release flag, the build matrix with each target's
//! runner, the smoke jobs. The workflow reads it with `fromJSON`, so the target list and the
//! runner labels are written once, in Cargo.toml. With a tag, every check a release needs runs
//! here, before anything is built: tag = v<version> of every shipped package, no retired runner
//! label, a CHANGELOG.md section for the version.

use crate::release::plan::ReleasePlan;
use crate::release::version::Tag;
use crate::workspace::config::Workspace;
use anyhow::{Context, Result};
use std::io::Write;
use std::path::PathBuf;
use xshell::Shell;

pub struct Options {
    /// The tag being released; None (or empty, as the workflow passes on a dry run) for none.
    pub tag: Option<String>,
    /// Also append `plan=<json>` to this file ($GITHUB_OUTPUT in the workflow).
    pub github_output: Option<PathBuf>,
}

pub fn run(options: Options) -> Result<()> {
    let sh = Shell::new().context("starting a shell")?;
    let ws = Workspace::load(&sh)?;
    let tag = match options.tag.as_deref() {
        None | Some("") => None,
        Some(text) => Some(Tag::parse(text)?),
    };
    let (plan, warnings) = ReleasePlan::new(&ws, tag.as_ref())?;
    if tag.is_some() {
        // A tag push without notes is refused here, before any runner builds.
        crate::release::notes::notes(&ws.root, &plan.version())?;
    }
    for warning in warnings {
        eprintln!("warning: {warning}");
    }
    let json = plan.to_json();
    if let Some(path) = &options.github_output {
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .with_context(|| format!("opening {}", path.display()))?;
        writeln!(file, "plan={json}").with_context(|| format!("writing {}", path.display()))?;
    }
    // Only the JSON goes to stdout.
    println!("{json}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::release::plan::ReleasePlan;
    use crate::release::version::Tag;
    use crate::runners::Runners;
    use crate::workspace::config::{Package, Workspace};
    use crate::workspace::target::TargetTriple;
    use std::collections::BTreeMap;

    fn workspace(targets: &[&str], version: &str, runners: &[(&str, &str)]) -> Workspace {
        let runners: BTreeMap<String, String> = runners
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Workspace {
            root: "/nonexistent".into(),
            target_dir: "/nonexistent/target".into(),
            targets: targets
                .iter()
                .map(|t| TargetTriple::parse(t).unwrap())
                .collect(),
            glibc_floor: linkaudit::GlibcVersion::new(2, 17),
            include: Vec::new(),
            packages: vec![Package {
                name: "tool".into(),
                version: version.into(),
                binaries: vec!["tool".into()],
                ..Package::default()
            }],
            wheels: true,
            runners: Runners::from_config(&runners, &BTreeMap::new()).unwrap(),
            pypi_prereleases: false,
        }
    }

    #[test]
    fn each_target_is_built_on_its_method_runner_and_started_somewhere() {
        let ws = workspace(
            &[
                "aarch64-unknown-linux-musl",
                "aarch64-pc-windows-msvc",
                "x86_64-apple-darwin",
                "aarch64-apple-darwin",
                "x86_64-pc-windows-msvc",
            ],
            "1.2.0",
            &[],
        );
        let (plan, warnings) = ReleasePlan::new(&ws, None).unwrap();
        assert!(warnings.is_empty());
        let json: serde_json::Value = serde_json::from_str(&plan.to_json()).unwrap();
        assert_eq!(
            json["build"]["include"].to_string(),
            r#"[{"target":"aarch64-unknown-linux-musl","runner":"ubuntu-24.04","build":"cargo-zigbuild","started":"build job (qemu-user)"},{"target":"aarch64-pc-windows-msvc","runner":"windows-2022","build":"msvc","started":"smoke job"},{"target":"x86_64-apple-darwin","runner":"macos-15","build":"cargo","started":"smoke job"},{"target":"aarch64-apple-darwin","runner":"macos-15","build":"cargo","started":"build job"},{"target":"x86_64-pc-windows-msvc","runner":"windows-2022","build":"msvc","started":"build job"}]"#
        );
        assert_eq!(
            json["smoke"]["include"].to_string(),
            r#"[{"target":"aarch64-pc-windows-msvc","runner":"windows-11-arm"},{"target":"x86_64-apple-darwin","runner":"macos-15-intel"}]"#
        );
        assert_eq!(json["any_smoke"], true);
        assert_eq!(json["title"], "tool 1.2.0");
        assert_eq!(json["tag"], "v1.2.0");
        assert_eq!(json["publish"], false);
        assert_eq!(json["pypi"], true);
    }

    #[test]
    fn a_native_build_runner_needs_no_smoke_job_and_unknown_cpus_are_named() {
        let ws = workspace(
            &["aarch64-pc-windows-msvc", "i686-pc-windows-msvc"],
            "1.2.0",
            &[("aarch64-pc-windows-msvc", "windows-11-arm")],
        );
        let (plan, _) = ReleasePlan::new(&ws, None).unwrap();
        assert_eq!(plan.build.include[0].runner, "windows-11-arm");
        assert_eq!(plan.build.include[0].started, "build job");
        assert!(plan.smoke.include.is_empty() && !plan.any_smoke);
        assert_eq!(plan.build.include[1].started, "nowhere");
        assert_eq!(plan.not_started[0].target, "i686-pc-windows-msvc");
        assert!(plan.not_started[0].reason.contains("no runner for i686"));
    }

    #[test]
    fn prereleases_skip_pypi_and_tags_must_match() {
        let ws = workspace(&["x86_64-unknown-linux-musl"], "1.0.0-rc.1", &[]);
        let tag = Tag::parse("v1.0.0-rc.1").unwrap();
        let (plan, _) = ReleasePlan::new(&ws, Some(&tag)).unwrap();
        assert!(plan.prerelease && plan.publish && !plan.pypi);
        let wrong = Tag::parse("v1.0.0").unwrap();
        let err = ReleasePlan::new(&ws, Some(&wrong)).unwrap_err().to_string();
        assert!(err.contains("does not match"), "{err}");
    }

    #[test]
    fn a_retired_label_warns_on_a_dry_run_and_stops_a_release() {
        let ws = workspace(&["aarch64-apple-darwin"], "1.2.0", &[("macos", "macos-14")]);
        let (plan, warnings) = ReleasePlan::new(&ws, None).unwrap();
        assert_eq!(plan.build.include[0].runner, "macos-14");
        assert!(
            warnings[0].contains("retired by GitHub on 2026-11-02"),
            "{warnings:?}"
        );
        let tag = Tag::parse("v1.2.0").unwrap();
        let err = ReleasePlan::new(&ws, Some(&tag)).unwrap_err().to_string();
        assert!(err.contains("`macos-14`") && !err.contains('\n'), "{err}");
    }
}
