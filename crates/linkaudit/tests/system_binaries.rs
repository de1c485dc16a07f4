//! The binaries of this system, cross-checked against `scanelf` (pax-utils), a tool that reads
//! the same facts with its own hand-written ELF parser.

mod common;

use common::{linkaudit, stderr, stdout};
use linkaudit::{audit_path, Kind};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// `path -> (interpreter, needed)` as scanelf reads them.
fn scanelf(dir: &str) -> BTreeMap<String, (String, Vec<String>)> {
    let output = Command::new("scanelf")
        .args(["-B", "-R", "-F", "%F;%i;%n", dir])
        .output()
        .expect("scanelf is missing: install it with `apt-get install pax-utils`");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| {
            let mut fields = line.splitn(3, ';');
            let path = fields.next().unwrap().to_owned();
            let interp = fields.next().unwrap_or("").to_owned();
            let needed = fields
                .next()
                .unwrap_or("")
                .split(',')
                .filter(|n| !n.is_empty())
                .map(str::to_owned)
                .collect();
            (path, (interp, needed))
        })
        .collect()
}

#[test]
fn scan_of_usr_bin_agrees_with_scanelf() {
    let expected = scanelf("/usr/bin");
    assert!(
        expected.len() > 20,
        "scanelf found only {} ELF files",
        expected.len()
    );
    let output = linkaudit(&[&"scan", &"--json", &"/usr/bin"]);
    assert!(output.status.code() == Some(0), "{}", stderr(&output));
    let mut seen = BTreeMap::new();
    for line in stdout(&output).lines() {
        let json: serde_json::Value = serde_json::from_str(line).unwrap();
        if json.get("summary").is_some() || json["format"] != "elf" {
            continue;
        }
        let interp = json["interpreter"].as_str().unwrap_or("").to_owned();
        let needed = common::strings(&json["needed"]);
        seen.insert(json["file"].as_str().unwrap().to_owned(), (interp, needed));
    }
    let only_scanelf: Vec<&String> = expected.keys().filter(|k| !seen.contains_key(*k)).collect();
    let only_linkaudit: Vec<&String> = seen.keys().filter(|k| !expected.contains_key(*k)).collect();
    assert!(
        only_scanelf.is_empty() && only_linkaudit.is_empty(),
        "ELF files found by one tool only: scanelf {only_scanelf:?}, linkaudit {only_linkaudit:?}"
    );
    for (path, facts) in &expected {
        assert_eq!(
            &seen[path], facts,
            "{path}: linkaudit vs scanelf (interpreter, needed)"
        );
    }
}

#[test]
fn glibc_and_its_loader_are_shared_libraries() {
    let libc = Path::new("/lib/x86_64-linux-gnu/libc.so.6");
    let audit = audit_path(libc).expect("glibc is installed at /lib/x86_64-linux-gnu/libc.so.6");
    assert_eq!(audit.kind, Kind::SharedLibrary);
    assert!(audit.symbol_versions.contains_key("ld-linux-x86-64.so.2"));
    let loader = audit_path(Path::new("/lib64/ld-linux-x86-64.so.2")).unwrap();
    assert_eq!(loader.kind, Kind::SharedLibrary);
    assert!(loader.needed.is_empty());
}

#[test]
fn system_ls_is_dynamic_and_fails_static() {
    let output = linkaudit(&[&"--policy", &"static", &"/usr/bin/ls"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output)
        .contains("/usr/bin/ls: libc.so.6 (static: needs a shared library at run time)"));
}

/// A C++ program linked dynamically against libstdc++ (the classic "works on the build machine"
/// failure a `GLIBC_` grep misses, mise #13295): the highest `GLIBCXX_`, `CXXABI_`, `GCC_` and
/// `GLIBC_` it needs, checked against readelf's own reading of `.gnu.version_r`.
#[test]
fn cxx_binary_floors_match_readelf() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cxx");
    std::fs::create_dir_all(&dir).unwrap();
    let source = dir.join("hello.cpp");
    std::fs::write(
        &source,
        "#include <iostream>\n#include <string>\n#include <stdexcept>\n\
         int main(int argc, char**) { std::string s(\"hi\"); \
         try { if (argc > 3) throw std::runtime_error(s); } catch (const std::exception& e) { std::cout << e.what(); } \
         std::cout << s << std::endl; }\n",
    )
    .unwrap();
    let binary = dir.join("hello-cxx");
    let status = Command::new("g++")
        .arg("-O1")
        .arg(&source)
        .arg("-o")
        .arg(&binary)
        .status()
        .expect("g++ is missing: install it with `apt-get install g++`");
    assert!(status.success());
    let readelf = Command::new("readelf")
        .args(["-V", "--wide"])
        .arg(&binary)
        .output()
        .expect("readelf (binutils) is missing");
    let text = String::from_utf8_lossy(&readelf.stdout);
    let audit = audit_path(&binary).unwrap();
    for family in ["GLIBCXX", "CXXABI", "GLIBC", "GCC"] {
        let highest = text
            .split_whitespace()
            .filter_map(|word| word.strip_prefix(&format!("{family}_")))
            .filter_map(|numbers| {
                numbers
                    .split('.')
                    .map(|n| n.parse::<u32>().ok())
                    .collect::<Option<Vec<u32>>>()
            })
            .max();
        let ours = audit.version_floors.get(family).map(|v| {
            v[family.len() + 1..]
                .split('.')
                .map(|n| n.parse::<u32>().unwrap())
                .collect::<Vec<u32>>()
        });
        assert_eq!(ours, highest, "{family}: {:?}", audit.version_floors);
    }
    assert!(
        audit.version_floors.contains_key("GLIBCXX"),
        "{:?}",
        audit.version_floors
    );
    let output = linkaudit(&[&"-v", &binary]);
    assert!(stdout(&output).contains("glibcxx "), "{}", stdout(&output));
}
