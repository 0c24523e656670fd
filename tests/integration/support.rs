//! Running the binary and comparing with golden files. `UPDATE_GOLDEN=1 cargo test` rewrites the
//! golden files instead of comparing (review the diff before committing).

use std::path::{Path, PathBuf};
use std::process::Command;

/// What one run of the binary produced.
pub struct Run {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

/// The repository root: tests run the binary from there so paths in messages are stable.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `bpsheet ARGS` from the repository root.
pub fn bpsheet(args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_bpsheet"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("the binary runs");
    Run {
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
        code: output
            .status
            .code()
            .expect("the binary exits normally, not by a signal"),
    }
}

/// Compares `actual` with the golden file at `path` (relative to the repository root).
pub fn golden(path: impl AsRef<Path>, actual: &str) {
    let path = root().join(path);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().expect("golden files live in a directory")).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "missing golden file {} ({e}); run with UPDATE_GOLDEN=1",
            path.display()
        )
    });
    if expected != actual {
        let first = expected
            .lines()
            .zip(actual.lines())
            .position(|(e, a)| e != a)
            .unwrap_or(expected.lines().count().min(actual.lines().count()));
        panic!(
            "{} differs from the output at line {}:\n  golden: {:?}\n  actual: {:?}\n(run with UPDATE_GOLDEN=1 to accept the new output)",
            path.display(),
            first + 1,
            expected.lines().nth(first),
            actual.lines().nth(first)
        );
    }
}

/// `golden` for one-line JSON output: the golden file holds it indented, for readable diffs.
pub fn golden_json(path: impl AsRef<Path>, actual: &str) {
    let value: serde_json::Value = serde_json::from_str(actual).expect("the output is JSON");
    golden(
        path,
        &(serde_json::to_string_pretty(&value).unwrap() + "\n"),
    );
}

/// The files of a directory with an extension, sorted.
pub fn files(dir: &str, extension: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == extension))
        .collect();
    files.sort();
    files
}

/// A path relative to the repository root, with forward slashes.
pub fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap()
        .to_string_lossy()
        .replace('\\', "/")
}
