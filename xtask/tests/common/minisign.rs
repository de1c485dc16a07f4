//! minisign key pairs made by the real `minisign` tool (Debian package `minisign`), for the tests
//! that sign releases (sign.rs, binstall.rs).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub struct Keys {
    pub public_file: PathBuf,
    /// The public key, base64, as `minisign -P` and `pubkey` take it.
    pub public: String,
    /// The secret key file's contents, as `MINISIGN_SECRET_KEY` holds it.
    pub secret: String,
}

/// `minisign -G` into `dir`; with a password, typed on stdin as minisign reads it there.
pub fn generate(dir: &Path, password: Option<&str>) -> Keys {
    std::fs::create_dir_all(dir).unwrap();
    let (public_file, secret_file) = (dir.join("key.pub"), dir.join("key.sec"));
    let mut cmd = Command::new("minisign");
    cmd.arg("-G")
        .arg("-p")
        .arg(&public_file)
        .arg("-s")
        .arg(&secret_file);
    if password.is_none() {
        cmd.arg("-W");
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    if let Some(pw) = password {
        write!(child.stdin.as_mut().unwrap(), "{pw}\n{pw}\n").unwrap();
    }
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success(), "minisign -G failed");
    let public = std::fs::read_to_string(&public_file).unwrap();
    Keys {
        public: public.lines().nth(1).unwrap().to_owned(),
        public_file,
        secret: std::fs::read_to_string(secret_file).unwrap(),
    }
}
