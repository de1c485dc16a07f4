//! `--json`: one object per line, so that `jq` and line-oriented tools read it as it streams.
//! The schema is documented in the crate's README; keys never disappear, absent facts are
//! `null` or empty.

use super::Checked;
use linkaudit::scan::Summary;
use linkaudit::AuditError;
use serde_json::{json, Value};
use std::path::Path;

pub fn file_line(file: &Checked) -> String {
    let mut object = serde_json::to_value(file.audit).expect("an Audit always serializes");
    let fields = object
        .as_object_mut()
        .expect("an Audit serializes to an object");
    let mut line = serde_json::Map::new();
    line.insert("file".into(), json!(file.path.to_string_lossy()));
    line.append(fields);
    line.insert("policy".into(), json!(file.policy.map(|p| p.to_string())));
    line.insert(
        "verdict".into(),
        match file.policy {
            None => Value::Null,
            Some(_) if file.violations.is_empty() => json!("pass"),
            Some(_) => json!("fail"),
        },
    );
    line.insert("violations".into(), json!(file.violations));
    if let Some(deps) = file.deps {
        // cargo-auditable's packages as they are (name, version, source, kind, dependencies as
        // indices, root); null when the file carries no list.
        line.insert("dependencies".into(), json!(deps.map(|d| &d.packages)));
    }
    Value::Object(line).to_string()
}

pub fn error_line(path: &Path, error: &AuditError) -> String {
    json!({ "file": path.to_string_lossy(), "error": error.to_string() }).to_string()
}

pub fn summary_line(summary: &Summary) -> String {
    let counts = |map: Vec<(String, usize)>| -> Value {
        Value::Object(map.into_iter().map(|(k, v)| (k, json!(v))).collect())
    };
    json!({ "summary": {
        "binaries": summary.binaries,
        "by_format": counts(summary.by_format.iter().map(|(f, n)| (f.as_str().to_owned(), *n)).collect()),
        "by_kind": counts(summary.by_kind.iter().map(|(k, n)| (k.to_string(), *n)).collect()),
        "by_floor": counts(summary.by_floor.iter().map(|((os, v), n)| (format!("{os} {v}"), *n)).collect()),
        "errors": summary.errors.iter()
            .map(|(path, error)| json!({ "file": path.to_string_lossy(), "error": error }))
            .collect::<Vec<_>>(),
        "glibc_above": summary.glibc_above.map(|v| v.to_string()),
        "above_glibc": summary.above_glibc.iter()
            .map(|(path, floor)| json!({ "file": path.to_string_lossy(), "glibc_floor": floor.to_string() }))
            .collect::<Vec<_>>(),
        "policy": summary.policy,
        "failing_policy": summary.failing_policy.iter()
            .map(|(path, violations)| json!({ "file": path.to_string_lossy(), "violations": violations }))
            .collect::<Vec<_>>(),
    }})
    .to_string()
}
