//! Writing files so that a reader, or a run killed at any moment, never sees half of one.

use anyhow::{Context, Result};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

/// Writes through `.tmp-<name>` in the destination's directory and renames, so the final name
/// only ever shows a complete file.
pub fn write_atomically(
    dest: &Path,
    write: impl FnOnce(BufWriter<&File>) -> Result<()>,
) -> Result<()> {
    let name = dest
        .file_name()
        .with_context(|| format!("{} has no file name", dest.display()))?;
    let tmp = dest.with_file_name(format!(".tmp-{}", name.to_string_lossy()));
    let result = (|| {
        let file = File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
        write(BufWriter::new(&file))?;
        test_pause(&format!("write:{}", name.to_string_lossy()));
        file.sync_all()?;
        std::fs::rename(&tmp, dest)
            .with_context(|| format!("renaming {} to {}", tmp.display(), dest.display()))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.with_context(|| format!("writing {}", dest.display()))
}

/// Creates the out dir (and its parents) when missing; true when this call created it, so that
/// a run that fails can remove it again and leave the file system as it found it.
pub fn create_out_dir(out_dir: &Path) -> Result<bool> {
    let created = !out_dir.exists();
    std::fs::create_dir_all(out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    Ok(created)
}

/// `write_atomically` for bytes already in memory.
pub fn write_file_atomically(dest: &Path, bytes: &[u8]) -> Result<()> {
    write_atomically(dest, |mut out| {
        out.write_all(bytes)?;
        Ok(out.flush()?)
    })
}

/// A fresh, empty `<temp>/xtask-<area>-<name>-<pid>` for one unit test (`area` keeps the
/// modules' tests apart: they share the process id).
#[cfg(test)]
pub fn scratch_dir(area: &str, name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("xtask-{area}-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Test hook, not for users: with `XTASK_TEST_PAUSE_AT=<point>` the run stops
/// at that point (`write:<file>` before a file written under its temporary name is renamed,
/// `pack:<n>` after the n-th archive is staged, `commit:<n>` before the n-th step of the
/// handover), says `paused at <point>` on stderr and waits until its stdin closes, so that
/// xtask/tests/kill_and_tamper.rs can SIGKILL it exactly there instead of after a guessed sleep.
pub fn test_pause(point: &str) {
    if std::env::var_os("XTASK_TEST_PAUSE_AT").is_some_and(|at| at == point) {
        eprintln!("paused at {point}");
        let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut Vec::new());
    }
}
