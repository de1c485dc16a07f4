//! The xtask's own cost: every maintainer compiles it on the first `cargo
//! xtask`, so its cold compile time and dependency count are part of the release path.

use super::doc;
use super::hyperfine::{self, quote, Command, Settings};
use super::Bench;

use anyhow::{Context, Result};
use std::collections::BTreeSet;
use xshell::cmd;

pub fn section(bench: &Bench) -> Result<String> {
    let cargo = crate::workspace::config::cargo_program();
    let _dir = bench.sh.push_dir(&bench.root);
    let format = "{p}";
    let tree = cmd!(
        bench.sh,
        "{cargo} tree -p xtask -e normal,build --prefix none --format {format}"
    )
    .quiet()
    .read()
    .context("listing the xtask's dependencies (`cargo tree -p xtask`)")?;
    let (all, registry) = count_dependencies(&tree);
    // The dev profile, as `cargo xtask` builds it, in a target dir of its own emptied before
    // every run: a maintainer's first `cargo xtask` after cloning.
    let dir = bench.scratch.join("xtask-cold");
    let line = format!(
        "{} build --quiet -p xtask --target-dir {}",
        quote(&cargo.display().to_string()),
        quote(&dir.display().to_string())
    );
    let prepare = format!("rm -rf {}", quote(&dir.display().to_string()));
    // The second row is the dev profile with cargo's default full debug info, which the root
    // Cargo.toml narrows to line tables: what that choice buys, measured in the same run.
    let t = hyperfine::run(
        &bench.sh,
        &Settings {
            runs: bench.runs(2, 1),
            warmup: 0,
            no_shell: false,
        },
        &[
            Command::new("cold: cargo build -p xtask", line.clone()).prepare(prepare.clone()),
            Command::new(
                "cold, full debug info: CARGO_PROFILE_DEV_DEBUG=true cargo build -p xtask",
                format!("CARGO_PROFILE_DEV_DEBUG=true {line}"),
            )
            .prepare(prepare),
        ],
    )?;
    let rows: Vec<Vec<String>> = t
        .iter()
        .map(|t| {
            vec![
                format!("`{}`", t.name),
                doc::secs(t.median),
                format!("{} – {}", doc::secs(t.min), doc::secs(t.max)),
                t.runs.to_string(),
            ]
        })
        .collect();
    Ok(format!(
        "## The xtask's own cost\n\n\
         What a maintainer pays on the first `cargo xtask ...` after cloning: a cold dev-profile \
         build of the xtask (an emptied target dir before every run), and its dependencies: {all} \
         crates besides the xtask ({registry} from crates.io, the rest in this workspace), counted \
         from `cargo tree -p xtask -e normal,build` (build-time and proc-macro crates included). The \
         dev-profile opt-levels of zlib-rs, crc32fast and sha2 (root Cargo.toml), which keep \
         packing fast, are part of this build: about 2 s of it when they were added. The dev \
         profile keeps line tables only (`debug = \"line-tables-only\"`); the second row builds \
         with cargo's default full debug info. linkaudit's flate2 uses the xtask's zlib-rs \
         backend, so flate2's default miniz_oxide (with adler2 and simd-adler32) is not built \
         beside it. clap's derive (clap_derive, heck) stays: syn is built for serde's derive \
         anyway, and clap_derive took 1.6 s of CPU off the critical path (cargo --timings).\n\n{}",
        doc::table(&["command", "median", "min – max", "runs"], &rows)
    ))
}

/// (all dependencies, those from a registry) in `cargo tree --prefix none --format {p}` output;
/// path dependencies print their path in parentheses, repeated crates print `(*)`.
fn count_dependencies(tree: &str) -> (usize, usize) {
    let crates: BTreeSet<&str> = tree
        .lines()
        .map(|l| l.trim_end_matches(" (*)").trim())
        .filter(|l| !l.is_empty())
        .collect();
    let others: Vec<&&str> = crates.iter().filter(|l| !l.starts_with("xtask ")).collect();
    let registry = others.iter().filter(|l| !l.contains(" (/")).count();
    (others.len(), registry)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependencies_are_counted_once() {
        let tree =
            "xtask v0.0.0 (/ws/xtask)\nanyhow v1.0.0\nlinkaudit v0.1.0 (/ws/crates/linkaudit)\n\
                    serde v1.0.0\nserde v1.0.0 (*)\n";
        assert_eq!(count_dependencies(tree), (3, 2));
    }
}
