//! `linkaudit scan`: walks a tree of real binaries mixed with files that are not binaries.

mod common;

use common::{fixtures, linkaudit, stderr, stdout};
use linkaudit::audit_path;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A tree with every fixture binary, text files, an empty file, a symlink to a binary (not
/// followed, so not counted twice) and a file that starts like a PE but is not one.
fn build_tree(name: &str) -> (PathBuf, Vec<PathBuf>) {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&root);
    let f = fixtures();
    let mut binaries = Vec::new();
    for (i, source) in f.all().into_iter().enumerate() {
        let dir = root.join(format!("level{}/sub{}", i % 3, i));
        std::fs::create_dir_all(&dir).unwrap();
        let dest = dir.join(source.file_name().unwrap());
        std::fs::copy(source, &dest).unwrap();
        binaries.push(dest);
    }
    std::fs::write(root.join("README.txt"), "not a binary\n").unwrap();
    std::fs::write(root.join("level0/empty"), "").unwrap();
    std::fs::write(
        root.join("level1/MZ-text"),
        "MZ is also how this text starts",
    )
    .unwrap();
    std::os::unix::fs::symlink(&binaries[0], root.join("level2/link-to-binary")).unwrap();
    (root, binaries)
}

#[test]
fn scan_counts_kinds_and_formats_like_auditing_each_file() {
    let (root, binaries) = build_tree("scan-counts");
    let output = linkaudit(&[&"scan", &"--json", &root]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let (summary, files) = lines.split_last().unwrap();
    let summary = &summary["summary"];

    // Every binary once (the symlink is not followed), in path order, with the same facts as
    // auditing it alone; the fake PE is an error; text and empty files are skipped.
    let mut expected_kinds: BTreeMap<String, u64> = BTreeMap::new();
    let mut expected_formats: BTreeMap<String, u64> = BTreeMap::new();
    let mut expected_floors: BTreeMap<String, u64> = BTreeMap::new();
    let mut sorted = binaries.clone();
    sorted.sort();
    let audited: Vec<&serde_json::Value> =
        files.iter().filter(|f| f.get("error").is_none()).collect();
    assert_eq!(audited.len(), binaries.len(), "{text}");
    for (json, path) in audited.iter().zip(&sorted) {
        assert_eq!(json["file"], path.to_str().unwrap());
        let audit = audit_path(path).unwrap();
        assert_eq!(json["kind"], audit.kind.as_str());
        *expected_kinds.entry(audit.kind.to_string()).or_default() += 1;
        *expected_formats
            .entry(audit.format.as_str().to_owned())
            .or_default() += 1;
        // The floor each binary is counted under: its OS floor (PE here), else its glibc floor.
        let floor = match (&audit.os_floor, audit.glibc_floor) {
            (Some(os), _) => Some(format!("{} {}", os.platform, os.required())),
            (None, Some(glibc)) => Some(format!("glibc {glibc}")),
            (None, None) => None,
        };
        assert_eq!(json["os_floor"].is_null(), audit.os_floor.is_none());
        if let Some(floor) = floor {
            *expected_floors.entry(floor).or_default() += 1;
        }
    }
    assert_eq!(summary["binaries"], binaries.len());
    assert_eq!(
        summary["by_floor"],
        serde_json::to_value(&expected_floors).unwrap()
    );
    assert!(
        expected_floors.keys().any(|f| f.starts_with("windows ")),
        "{expected_floors:?}"
    );
    assert_eq!(
        summary["by_kind"],
        serde_json::to_value(&expected_kinds).unwrap()
    );
    assert_eq!(
        summary["by_format"],
        serde_json::to_value(&expected_formats).unwrap()
    );
    let errors = summary["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{summary}");
    assert!(errors[0]["file"].as_str().unwrap().ends_with("MZ-text"));
}

#[test]
fn scan_lists_files_above_a_glibc_floor_and_failing_a_policy() {
    let (root, _) = build_tree("scan-policy");
    let output = linkaudit(&[
        &"scan",
        &"--policy",
        &"static",
        &"--glibc-above",
        &"2.17",
        &root,
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stdout(&output);
    // The gnu binary and the gnu cdylib need a newer glibc than 2.17 (built on this system).
    let above = text
        .lines()
        .skip_while(|l| !l.starts_with("needing a glibc above 2.17: 2"))
        .skip(1)
        .take(2)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(above.contains("/hello  GLIBC_2."), "{text}");
    assert!(above.contains("/libgreet.so  GLIBC_2."), "{text}");
    // static fails for everything that needs a library at run time, and names the culprit.
    assert!(text.contains("failing policy static: 3"), "{text}");
    assert!(
        text.contains("hello-musl-dynamic: /lib/ld-musl-x86_64.so.1 (static:"),
        "{text}"
    );
    assert!(text.contains("by format: ELF 6, PE 2"), "{text}");
    assert!(text.contains("by floor: glibc 2."), "{text}");
    assert!(text.contains("unreadable or malformed: 1"), "{text}");
}

#[test]
fn scan_of_a_missing_directory_exits_2() {
    let output = linkaudit(&[&"scan", &"/nonexistent/linkaudit-scan"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stderr(&output).lines().count(), 1, "{}", stderr(&output));
    assert!(stderr(&output).contains("/nonexistent/linkaudit-scan: cannot scan it"));
}
