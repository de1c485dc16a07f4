//! `cargo xtask dist` (issue #2, with the reproducible packing of issue #5): build the release
//! matrix, verify every binary's linkage, pack archives with checksums and a manifest.
//!
//! The run goes plan -> tools -> build -> verify -> pack + smoke run (in a staging dir inside the
//! out dir) -> commit (rename into place). Nothing touches the out dir before the staging step, and
//! the staging dir is removed on any error before the handover, so a failed run leaves the out dir
//! as it was; a run killed at any moment leaves it consistent (handover.rs, issue #5 point 4).

mod build;
// Shared with `cargo xtask plan` and `cargo xtask gather` (issue #4).
pub mod checksums;
pub mod config;
mod handover;
pub mod installer;
pub mod manifest;
pub mod pack;
pub mod report;
mod smoke;
pub mod target;
mod tools;

use anyhow::{bail, Context, Result};
use build::BuiltBinary;
use config::{Package, Workspace};
pub use handover::Staging;
use manifest::{Artifact, Manifest};
use report::{human_size, Report};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use target::{BuildMethod, Host, How, Status, TargetTriple};
use verify::Linkage;
use xshell::{cmd, Shell};

mod verify;
mod wheel;

pub struct Options {
    pub targets: Vec<String>,
    pub out_dir: Option<PathBuf>,
    pub json: bool,
    /// Also write wheels (issue #8), as `wheels = true` in the config does.
    pub wheels: bool,
}

pub fn run(options: Options) -> Result<()> {
    let report = Report::new(options.json);
    scrub_rustflags(&report);
    let sh = Shell::new().context("starting a shell")?;
    let ws = Workspace::load(&sh)?;
    check_dist_profile(&ws.root)?;
    let out_dir = match &options.out_dir {
        Some(dir) => std::env::current_dir()?.join(dir),
        None => ws.root.join("dist"),
    };
    let _lock = crate::lock::OutDirLock::acquire(&out_dir)?;
    let signer = crate::sign::Signer::from_env()?;
    if let Some(signer) = &signer {
        signer.check_binstall_pubkey(&sh, &ws)?;
    }
    let rustup = tools::RustupTargets::query(&sh)?;
    let host = detect_host(&sh, &ws)?;
    let plan = plan(&sh, &ws, &options.targets, &host, rustup.as_ref())?;
    print_plan(&report, &plan, &ws, &out_dir);
    let source = Source::detect(&sh, &ws.root, &report)?;
    report.line(&format!(
        "source  commit {} | SOURCE_DATE_EPOCH {} ({}) | {}",
        source.commit.as_deref().unwrap_or("none"),
        source.epoch,
        source.epoch_from,
        source.rustc
    ));

    let invocations = invocations(&plan, &host.triple);
    let buildable: Vec<TargetTriple> = plan
        .iter()
        .filter(|e| matches!(e.status, Status::Build(_)))
        .map(|e| e.triple.clone())
        .collect();
    tools::ensure_rustup_targets(&sh, rustup.as_ref(), &buildable, &report)?;
    let zigbuild = if invocations.iter().any(|(how, _)| *how == How::Zigbuild) {
        Some(tools::ensure_zigbuild(&sh, &ws.target_dir, &report)?)
    } else {
        None
    };
    for (how, triples) in &invocations {
        build::build(&sh, &ws, *how, triples, zigbuild.as_ref(), &report)?;
    }
    let verified = verify_all(&ws, &buildable, &report, &out_dir)?;

    let mut staging = Staging::create(&out_dir)?;
    let mut artifacts = pack_all(&sh, &ws, &host, &source, &verified, &staging.dir, &report)?;
    if options.wheels || ws.wheels {
        artifacts.extend(wheel_all(&ws, &source, &verified, &staging.dir, &report)?);
        artifacts.sort_by(|a, b| a.archive.cmp(&b.archive));
    }
    let manifest = Manifest {
        schema_version: manifest::SCHEMA_VERSION,
        source_commit: source.commit.clone(),
        source_date_epoch: source.epoch,
        rustc: source.rustc.clone(),
        glibc_floor: ws.glibc_floor.to_string(),
        artifacts,
    };
    let installer: Vec<String> = write_installer(&ws, &staging.dir, &report)?
        .into_iter()
        .collect();
    write_checksums_and_manifest(&staging.dir, &manifest, &[])?;
    let signer = signer.as_ref();
    crate::sign::commit_signed(
        &mut staging,
        &out_dir,
        &manifest,
        &installer,
        signer,
        &report,
    )?;

    if options.json {
        print!("{}", manifest.to_json());
    } else {
        print_summary(&report, &manifest, &verified, &out_dir);
    }
    Ok(())
}

/// Either variable would replace the `[target]` rustflags of `.cargo/config.toml`, +crt-static
/// included (cargo-dist #513, #1571), so no child process of ours sees them (issue #2, point 1).
/// Removed from our own environment, which every child inherits; we are still single-threaded.
fn scrub_rustflags(report: &Report) {
    for var in ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS"] {
        if std::env::var_os(var).is_some() {
            report.warn(&format!(
                "ignoring {var}: it would replace the static-linking flags of .cargo/config.toml; \
                 put flags in a [target] table there instead"
            ));
        }
        std::env::remove_var(var);
    }
}

/// `--profile dist` needs the profile; cargo's own error would not say what to add.
fn check_dist_profile(root: &Path) -> Result<()> {
    let manifest = root.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest)
        .with_context(|| format!("reading {}", manifest.display()))?;
    if !text.lines().any(|line| line.trim() == "[profile.dist]") {
        bail!(
            "{} has no [profile.dist]: add `[profile.dist]` with `inherits = \"release\"`, \
             `lto = true`, `codegen-units = 1`, `strip = true`",
            manifest.display()
        );
    }
    Ok(())
}

fn rustc_program() -> PathBuf {
    std::env::var_os("RUSTC").map_or_else(|| "rustc".into(), PathBuf::from)
}

fn detect_host(sh: &Shell, ws: &Workspace) -> Result<Host> {
    let rustc = rustc_program();
    let _dir = sh.push_dir(&ws.root);
    let verbose = cmd!(sh, "{rustc} -vV")
        .quiet()
        .read()
        .context("asking rustc for the host triple (`rustc -vV`)")?;
    let triple = verbose
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .context("`rustc -vV` printed no `host:` line")?;
    let triple = TargetTriple::parse(triple)?;
    let tools = Host::tools_to_probe(&ws.targets)
        .into_iter()
        .chain(["x86_64-w64-mingw32-gcc".to_owned()])
        .filter(|tool| tools::which(tool).is_some())
        .collect();
    Ok(Host { triple, tools })
}

#[derive(Debug)]
struct PlanEntry {
    triple: TargetTriple,
    status: Status,
}

/// Which targets to build and how; bad triples and unbuildable `--target`s fail here, before
/// anything is built or written.
fn plan(
    sh: &Shell,
    ws: &Workspace,
    requested: &[String],
    host: &Host,
    rustup: Option<&tools::RustupTargets>,
) -> Result<Vec<PlanEntry>> {
    let explicit = !requested.is_empty();
    let mut triples: Vec<TargetTriple> = if explicit {
        requested
            .iter()
            .map(|t| TargetTriple::parse(t))
            .collect::<Result<_>>()?
    } else {
        ws.targets.clone()
    };
    let mut seen = std::collections::BTreeSet::new();
    triples.retain(|t| seen.insert(t.clone()));
    let rustc = rustc_program();
    let known = cmd!(sh, "{rustc} --print target-list")
        .quiet()
        .read()
        .context("listing rustc's targets (`rustc --print target-list`)")?;
    let mut entries = Vec::new();
    for triple in triples {
        if !known.lines().any(|line| line == triple.as_str()) {
            bail!(
                "unknown target triple `{triple}`: rustc does not know it; pick one from \
                 `rustc --print target-list`"
            );
        }
        if let Some(rustup) = rustup {
            if !rustup.known.contains(triple.as_str()) {
                bail!(
                    "rustup ships no standard library for `{triple}` (a tier 3 target): \
                     cargo xtask dist builds the targets `rustup target list` shows"
                );
            }
        }
        let method = BuildMethod::for_target(&triple)?;
        let status = host.can_build(&triple, method);
        if let (true, Status::Skip { missing, runner }) = (explicit, &status) {
            bail!(
                "cannot build `{triple}` on this {} host: it needs {missing}; the {runner} \
                 runner builds it",
                host.triple
            );
        }
        entries.push(PlanEntry { triple, status });
    }
    if !entries.iter().any(|e| matches!(e.status, Status::Build(_))) {
        bail!(
            "this {} host can build no target of the matrix; see the runners above",
            host.triple
        );
    }
    Ok(entries)
}

fn print_plan(report: &Report, plan: &[PlanEntry], ws: &Workspace, out_dir: &Path) {
    let packages: Vec<&str> = ws.packages.iter().map(|p| p.name.as_str()).collect();
    report.line(&format!(
        "dist plan: {} -> {} (profile {}, glibc floor {})",
        packages.join(", "),
        out_dir.display(),
        build::PROFILE,
        ws.glibc_floor
    ));
    let rows: Vec<Vec<String>> = plan
        .iter()
        .map(|e| {
            let how = match &e.status {
                Status::Build(How::Zigbuild) if e.triple.is_linux_gnu() => {
                    format!(
                        "build with cargo zigbuild (--target {}.{})",
                        e.triple, ws.glibc_floor
                    )
                }
                Status::Build(how) => format!("build with {}", how.describe()),
                Status::Skip { missing, runner } => {
                    format!("skip: needs {missing}; built on the {runner} runner")
                }
            };
            vec![e.triple.to_string(), how]
        })
        .collect();
    report.table(&["target", "how"], &rows);
}

/// The cargo invocations: one per build method with all its targets (cargo takes several
/// `--target`s), except that cargo-zigbuild builds the host triple on its own. cargo-zigbuild
/// sets the linker of every target it builds, and cargo applies the host triple's linker to build
/// scripts too; that changes their hash and so the OUT_DIR paths compiled into the binaries. With
/// the host triple always alone, a target's bytes do not depend on which other targets were built
/// with it: `--target T` on a release runner gives the archive a local full run gives (issue #5).
fn invocations(plan: &[PlanEntry], host: &TargetTriple) -> Vec<(How, Vec<TargetTriple>)> {
    let mut groups: BTreeMap<(How, bool), Vec<TargetTriple>> = BTreeMap::new();
    for entry in plan {
        if let Status::Build(how) = entry.status {
            let alone = how == How::Zigbuild && entry.triple == *host;
            groups
                .entry((how, alone))
                .or_default()
                .push(entry.triple.clone());
        }
    }
    groups
        .into_iter()
        .map(|((how, _), triples)| (how, triples))
        .collect()
}

/// The commit, SOURCE_DATE_EPOCH and compiler that the manifest records (issue #5, point 3).
struct Source {
    commit: Option<String>,
    epoch: u64,
    epoch_from: &'static str,
    rustc: String,
}

impl Source {
    fn detect(sh: &Shell, root: &Path, report: &Report) -> Result<Source> {
        let _dir = sh.push_dir(root);
        let commit = cmd!(sh, "git rev-parse HEAD")
            .quiet()
            .ignore_stderr()
            .read()
            .ok();
        let (epoch, epoch_from) = match std::env::var("SOURCE_DATE_EPOCH") {
            Ok(text) => (
                text.trim().parse::<u64>().map_err(|_| {
                    anyhow::anyhow!(
                        "SOURCE_DATE_EPOCH=`{text}` is not a number of seconds since 1970"
                    )
                })?,
                "from the environment",
            ),
            Err(_) => match cmd!(sh, "git log -1 --format=%ct")
                .quiet()
                .ignore_stderr()
                .read()
            {
                Ok(text) => (
                    text.trim()
                        .parse()
                        .context("reading the commit time of HEAD")?,
                    "commit time of HEAD",
                ),
                Err(_) => {
                    report.warn(
                        "no SOURCE_DATE_EPOCH and no git commit: archive times are 1980-01-01",
                    );
                    (315_532_800, "no commit: 1980-01-01")
                }
            },
        };
        if commit.is_some() {
            let status = cmd!(sh, "git status --porcelain --untracked-files=no")
                .quiet()
                .read()
                .unwrap_or_default();
            if !status.is_empty() {
                report.warn(
                    "the work tree has uncommitted changes: the archives do not match the commit",
                );
            }
        }
        let rustc = rustc_program();
        let rustc = cmd!(sh, "{rustc} --version")
            .quiet()
            .read()
            .context("asking rustc for its version")?;
        Ok(Source {
            commit,
            epoch,
            epoch_from,
            rustc,
        })
    }
}

/// One package's binaries for one target, verified.
struct Verified {
    package: Package,
    triple: TargetTriple,
    linkage: Vec<Linkage>,
}

/// Audits every binary; any violation fails the run here, before anything is packed.
fn verify_all(
    ws: &Workspace,
    triples: &[TargetTriple],
    report: &Report,
    out_dir: &Path,
) -> Result<Vec<Verified>> {
    let mut verified = Vec::new();
    let mut failures = Vec::new();
    for triple in triples {
        for package in &ws.packages {
            let binaries: Vec<BuiltBinary> = build::built_binaries(ws, package, triple)?;
            let linkage = verify::verify_linkage(triple, ws.glibc_floor, &binaries)?;
            for found in &linkage {
                let policy = found
                    .policy
                    .map_or("no policy".to_owned(), |p| p.to_string());
                report.step(
                    "verify",
                    triple.as_str(),
                    &format!(
                        "{} {}: {} ({policy})",
                        found.verdict(),
                        found.binary.file_name,
                        found.describe()
                    ),
                );
                for line in found.violation_lines(triple) {
                    report.step("verify", triple.as_str(), &format!("FAIL {line}"));
                    failures.push(line);
                }
            }
            verified.push(Verified {
                package: package.clone(),
                triple: triple.clone(),
                linkage,
            });
        }
    }
    if let Some(first) = failures.first() {
        let more = match failures.len() {
            1 => String::new(),
            n => format!(" (and {} more above)", n - 1),
        };
        bail!(
            "linkage check failed: {first}{more}; nothing was packed and {} is unchanged; \
             fix the link flags (.cargo/config.toml, build scripts) and run again",
            out_dir.display()
        );
    }
    Ok(verified)
}

/// Packs and checksums every (package, target) inside the staging dir, then smoke-runs each.
fn pack_all(
    sh: &Shell,
    ws: &Workspace,
    host: &Host,
    source: &Source,
    verified: &[Verified],
    staging: &Path,
    report: &Report,
) -> Result<Vec<Artifact>> {
    let jobs: Vec<pack::PackJob> = verified.iter().map(|item| pack_job(ws, item)).collect();
    let packed = pack::pack_and_checksum(staging, &jobs, source.epoch)?;
    let mut artifacts = Vec::new();
    for (index, ((item, job), packed)) in verified.iter().zip(&jobs).zip(packed).enumerate() {
        report.step(
            "pack",
            item.triple.as_str(),
            &format!(
                "{} ({}, sha256 {})",
                job.archive,
                human_size(packed.size),
                &packed.sha256[..12]
            ),
        );
        let path = staging.join(&job.archive);
        smoke_archive(sh, host, item, &path, &job.top_dir, staging, report)?;
        handover::test_pause(&format!("pack:{index}"));
        artifacts.push(artifact(
            item,
            &job.top_dir,
            job.archive.clone(),
            packed.size,
            packed.sha256,
            &source.rustc,
        ));
    }
    artifacts.sort_by(|a, b| a.archive.cmp(&b.archive));
    Ok(artifacts)
}

/// One wheel per (package, platform) (issue #8), listed in the manifest like the archives, with
/// the binaries under `{name}-{version}.data/scripts/`.
fn wheel_all(
    ws: &Workspace,
    source: &Source,
    verified: &[Verified],
    staging: &Path,
    report: &Report,
) -> Result<Vec<Artifact>> {
    let mut artifacts = Vec::new();
    for item in verified {
        let tags = match wheel::platform_tags(&item.triple, &ws.targets, ws.glibc_floor) {
            Ok(tags) => tags,
            Err(reason) => {
                report.step("wheel", item.triple.as_str(), &format!("none: {reason}"));
                continue;
            }
        };
        let readme = match &item.package.readme {
            Some(path) => match std::fs::read_to_string(path) {
                Ok(text) => Some(text),
                Err(err) => {
                    report.warn(&format!(
                        "the wheel of {} has no description: cannot read its readme {} ({err})",
                        item.package.name,
                        path.display()
                    ));
                    None
                }
            },
            None => None,
        };
        let binaries: Vec<wheel::WheelBinary> = item
            .linkage
            .iter()
            .map(|l| wheel::WheelBinary {
                file_name: l.binary.file_name.clone(),
                source: l.binary.path.clone(),
            })
            .collect();
        let meta = wheel::Metadata {
            package: &item.package,
            readme,
        };
        let written = wheel::write_wheel(staging, &meta, &tags, &binaries, source.epoch)?;
        let path = staging.join(&written.file_name);
        let sha256 = checksums::sha256_file(&path)?;
        let size = std::fs::metadata(&path)?.len();
        let (sidecar, line) = checksums::sidecar(&written.file_name, &sha256);
        pack::write_atomically(&staging.join(sidecar), |mut out| {
            std::io::Write::write_all(&mut out, line.as_bytes())?;
            Ok(std::io::Write::flush(&mut out)?)
        })?;
        report.step(
            "wheel",
            item.triple.as_str(),
            &format!(
                "{} ({}, sha256 {})",
                written.file_name,
                human_size(size),
                &sha256[..12]
            ),
        );
        artifacts.push(artifact(
            item,
            &written.scripts_dir,
            written.file_name,
            size,
            sha256,
            &source.rustc,
        ));
    }
    Ok(artifacts)
}

/// The archive of one (package, target): its binaries and the workspace's `include` files.
fn pack_job(ws: &Workspace, item: &Verified) -> pack::PackJob {
    let top_dir = format!("{}-{}", item.package.name, item.triple);
    let archive = format!("{top_dir}.{}", item.triple.archive_extension());
    let mut files: Vec<pack::ArchiveFile> = item
        .linkage
        .iter()
        .map(|l| pack::ArchiveFile {
            name: l.binary.file_name.clone(),
            source: l.binary.path.clone(),
            executable: true,
        })
        .collect();
    files.extend(ws.include.iter().map(|path| {
        pack::ArchiveFile {
            name: path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned(),
            source: path.clone(),
            executable: false,
        }
    }));
    pack::PackJob {
        top_dir,
        archive,
        zip: item.triple.is_windows(),
        files,
    }
}

/// One cargo invocation of the build step, as `run` executes it.
pub struct BuildCommand {
    pub program: PathBuf,
    pub args: Vec<std::ffi::OsString>,
    pub env: Vec<(&'static str, std::ffi::OsString)>,
}

/// What this host builds of the matrix, and how.
pub struct LocalMatrix {
    pub ws: Workspace,
    pub targets: Vec<TargetTriple>,
    pub commands: Vec<BuildCommand>,
}

/// The local targets and the cargo invocations `run` builds them with, in `profile`, so that
/// `cargo xtask bench` times the xtask against exactly the cargo work it does and builds the
/// release profile the same way (issue #7). Adds what `run` would add (rustup targets, zig).
pub fn local_matrix(sh: &Shell, profile: &str) -> Result<LocalMatrix> {
    let report = Report::new(true);
    scrub_rustflags(&report);
    let ws = Workspace::load(sh)?;
    let rustup = tools::RustupTargets::query(sh)?;
    let host = detect_host(sh, &ws)?;
    let plan = plan(sh, &ws, &[], &host, rustup.as_ref())?;
    let targets: Vec<TargetTriple> = plan
        .iter()
        .filter(|e| matches!(e.status, Status::Build(_)))
        .map(|e| e.triple.clone())
        .collect();
    tools::ensure_rustup_targets(sh, rustup.as_ref(), &targets, &report)?;
    let mut commands = Vec::new();
    for (how, triples) in invocations(&plan, &host.triple) {
        let (program, env) = match how {
            How::Zigbuild => {
                let z = tools::ensure_zigbuild(sh, &ws.target_dir, &report)?;
                (z.program, z.env)
            }
            _ => (config::cargo_program(), Vec::new()),
        };
        let args = build::cargo_args(&ws, how, &triples, profile);
        commands.push(BuildCommand { program, args, env });
    }
    Ok(LocalMatrix {
        ws,
        targets,
        commands,
    })
}

fn smoke_archive(
    sh: &Shell,
    host: &Host,
    item: &Verified,
    archive: &Path,
    top_dir: &str,
    staging: &Path,
    report: &Report,
) -> Result<()> {
    let runner = smoke::runner_for(&host.triple, &item.triple, tools::which, Path::is_dir);
    let runner = match runner {
        Ok(runner) => runner,
        Err(reason) => {
            report.step("smoke", item.triple.as_str(), &format!("skipped: {reason}"));
            return Ok(());
        }
    };
    let unpacked = staging.join(".smoke");
    pack::unpack(archive, &unpacked)
        .with_context(|| format!("unpacking {} for the smoke run", archive.display()))?;
    for linkage in &item.linkage {
        let binary = unpacked.join(top_dir).join(&linkage.binary.file_name);
        let line = smoke::smoke_run(sh, &runner, &binary).with_context(|| {
            format!(
                "smoke run of {} for {}",
                linkage.binary.file_name, item.triple
            )
        })?;
        report.step(
            "smoke",
            item.triple.as_str(),
            &format!(
                "{} --version {}: {line}",
                linkage.binary.file_name,
                runner.describe()
            ),
        );
    }
    std::fs::remove_dir_all(&unpacked).ok();
    Ok(())
}

fn artifact(
    item: &Verified,
    top_dir: &str,
    archive: String,
    size: u64,
    sha256: String,
    rustc: &str,
) -> Artifact {
    Artifact {
        package: item.package.name.clone(),
        version: item.package.version.clone(),
        target: item.triple.to_string(),
        archive,
        size,
        sha256,
        policy: item
            .linkage
            .first()
            .and_then(|l| l.policy)
            .map(|p| p.to_string()),
        rustc: rustc.to_owned(),
        binaries: item
            .linkage
            .iter()
            .map(|l| manifest::Binary {
                name: l.binary.name.clone(),
                path: format!("{top_dir}/{}", l.binary.file_name),
                kind: l.audit.kind.to_string(),
                glibc_floor: l.audit.glibc_floor.map(|v| v.to_string()),
                needed: l.audit.needed.clone(),
                verdict: l.verdict().to_owned(),
                violations: l
                    .violations
                    .iter()
                    .map(|v| manifest::Violation {
                        policy: v.policy.clone(),
                        culprit: v.culprit.clone(),
                        rule: v.rule.clone(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// install.sh (issue #6), into the staging dir; its name when written. A workspace without one
/// GitHub release to download from gets none, with a warning saying why.
fn write_installer(ws: &Workspace, staging: &Path, report: &Report) -> Result<Option<String>> {
    let installer = match installer::render(&ws.packages, ws.glibc_floor) {
        Ok(installer) => installer,
        Err(reason) => {
            report.warn(&format!("no {}: {reason}", installer::INSTALLER));
            return Ok(None);
        }
    };
    let path = staging.join(installer::INSTALLER);
    pack::write_atomically(&path, |mut out| {
        std::io::Write::write_all(&mut out, installer.script.as_bytes())?;
        Ok(std::io::Write::flush(&mut out)?)
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .with_context(|| format!("making {} executable", path.display()))?;
    }
    report.step(
        "script",
        installer::INSTALLER,
        &format!("downloads from {}", installer.base_url),
    );
    Ok(Some(installer::INSTALLER.to_owned()))
}

/// SHA256SUMS (the archives and `also_summed`: (name, sha256) of other files that ship, such as
/// wheels) and the manifest, into the staging dir.
pub fn write_checksums_and_manifest(
    staging: &Path,
    manifest: &Manifest,
    also_summed: &[(String, String)],
) -> Result<()> {
    let sums = checksums::sha256sums(
        manifest
            .artifacts
            .iter()
            .map(|a| (a.archive.as_str(), a.sha256.as_str()))
            .chain(also_summed.iter().map(|(n, s)| (n.as_str(), s.as_str()))),
    );
    for (name, text) in [
        (checksums::SHA256SUMS, sums),
        (manifest::MANIFEST, manifest.to_json()),
    ] {
        pack::write_atomically(&staging.join(name), |mut out| {
            std::io::Write::write_all(&mut out, text.as_bytes())?;
            Ok(std::io::Write::flush(&mut out)?)
        })?;
    }
    Ok(())
}

fn print_summary(report: &Report, manifest: &Manifest, verified: &[Verified], out_dir: &Path) {
    let describe: BTreeMap<(String, String), String> = verified
        .iter()
        .map(|v| {
            let kinds: Vec<String> = v
                .linkage
                .iter()
                .map(|l| match l.audit.glibc_floor {
                    Some(floor) => format!("{} glibc {floor}", l.audit.kind),
                    None => l.audit.kind.to_string(),
                })
                .collect();
            (
                (v.package.name.clone(), v.triple.to_string()),
                kinds.join(", "),
            )
        })
        .collect();
    let rows: Vec<Vec<String>> = manifest
        .artifacts
        .iter()
        .map(|a| {
            let verdict = a
                .binaries
                .iter()
                .map(|b| b.verdict.as_str())
                .find(|v| *v != "pass")
                .unwrap_or("pass");
            let detail = describe
                .get(&(a.package.clone(), a.target.clone()))
                .cloned()
                .unwrap_or_default();
            let policy = a.policy.as_deref().unwrap_or("no policy");
            vec![
                a.archive.clone(),
                human_size(a.size),
                a.sha256[..12].to_owned(),
                format!("{verdict} ({policy}: {detail})"),
            ]
        })
        .collect();
    report.line("");
    report.table(&["archive", "size", "sha256", "linkage"], &rows);
    let wheels = manifest
        .artifacts
        .iter()
        .filter(|a| a.archive.ends_with(".whl"))
        .count();
    report.line(&format!(
        "wrote {} archive(s){}, their .sha256, {}, {}{} to {}",
        manifest.artifacts.len() - wheels,
        match wheels {
            0 => String::new(),
            n => format!(", {n} wheel(s)"),
        },
        checksums::SHA256SUMS,
        manifest::MANIFEST,
        if out_dir.join(installer::INSTALLER).is_file() {
            format!(" and {}", installer::INSTALLER)
        } else {
            String::new()
        },
        out_dir.display()
    ));
    report.line(&format!(
        "commit {} | SOURCE_DATE_EPOCH {} | {}",
        manifest.source_commit.as_deref().unwrap_or("none"),
        manifest.source_date_epoch,
        manifest.rustc
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(triple: &str, status: Status) -> PlanEntry {
        PlanEntry {
            triple: TargetTriple::parse(triple).unwrap(),
            status,
        }
    }

    #[test]
    fn one_invocation_per_method_with_the_zig_host_alone() {
        let skip = Status::Skip {
            missing: "x".into(),
            runner: "windows-2022",
        };
        let plan = [
            entry("x86_64-unknown-linux-gnu", Status::Build(How::Zigbuild)),
            entry("aarch64-unknown-linux-gnu", Status::Build(How::Zigbuild)),
            entry("x86_64-unknown-linux-musl", Status::Build(How::Zigbuild)),
            entry("x86_64-pc-windows-gnu", Status::Build(How::Build)),
            entry("x86_64-pc-windows-msvc", skip),
        ];
        let host = TargetTriple::parse("x86_64-unknown-linux-gnu").unwrap();
        let found: Vec<(How, Vec<String>)> = invocations(&plan, &host)
            .into_iter()
            .map(|(how, triples)| (how, triples.iter().map(|t| t.to_string()).collect()))
            .collect();
        assert_eq!(
            found,
            [
                (
                    How::Zigbuild,
                    vec![
                        "aarch64-unknown-linux-gnu".to_owned(),
                        "x86_64-unknown-linux-musl".to_owned()
                    ]
                ),
                (How::Zigbuild, vec!["x86_64-unknown-linux-gnu".to_owned()]),
                (How::Build, vec!["x86_64-pc-windows-gnu".to_owned()]),
            ]
        );
    }
}
