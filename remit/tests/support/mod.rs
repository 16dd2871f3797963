//! What the binary's test files share: the repository root, and `remit` run as a user runs it.
#![allow(dead_code)] // each test file uses its own part

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root (samples, profiles, config).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `remit --data-dir DATA`, ready for its arguments.
pub fn command(data_dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_remit"));
    c.arg("--data-dir").arg(data_dir);
    c
}

/// `remit --data-dir DATA ARGS`, to completion.
pub fn remit(data_dir: &Path, args: &[&str]) -> Output {
    command(data_dir).args(args).output().expect("remit runs")
}

/// `remit` run from `cwd` (routing keys are paths as given).
pub fn remit_in(cwd: &Path, data_dir: &Path, args: &[&str]) -> Output {
    command(data_dir).current_dir(cwd).args(args).output().expect("remit runs")
}
