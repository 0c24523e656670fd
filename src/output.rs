//! Writing generated files safely: nothing the user had is overwritten without `--force`, and
//! every file appears whole or not at all (written to a temporary file beside it, then renamed).

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cli::Exit;

/// One file to write.
pub struct OutputFile {
    /// Where.
    pub path: PathBuf,
    /// What.
    pub contents: Vec<u8>,
}

impl OutputFile {
    /// A text file.
    pub fn text(path: PathBuf, contents: String) -> OutputFile {
        OutputFile {
            path,
            contents: contents.into_bytes(),
        }
    }
}

/// Writes every file, or none when one already exists and `force` is off.
pub fn write_all(files: &[OutputFile], force: bool) -> Result<(), Exit> {
    if !force {
        let existing: Vec<String> = files
            .iter()
            .filter(|f| f.path.exists())
            .map(|f| format!("  {}", f.path.display()))
            .collect();
        if !existing.is_empty() {
            return Err(Exit::User(format!(
                "error: {} file(s) already exist and would be overwritten:\n{}\n  = hint: pass `--force` to overwrite them, or choose another directory with `-o`\n",
                existing.len(),
                existing.join("\n")
            )));
        }
    }
    for file in files {
        write_atomically(&file.path, &file.contents)?;
    }
    Ok(())
}

/// Writes through a temporary file in the same directory and renames it into place, so a reader
/// (or a crash) never sees half a file.
pub fn write_atomically(path: &Path, contents: &[u8]) -> Result<(), Exit> {
    let cannot = |error: std::io::Error| {
        Exit::User(format!(
            "error: cannot write `{}`: {error}\n",
            path.display()
        ))
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(cannot)?;
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    // No fsync: the rename is what makes the write atomic for readers, and a worksheet run
    // writes hundreds of files.
    let result = std::fs::File::create(&temporary)
        .and_then(|mut file| file.write_all(contents))
        .and_then(|()| std::fs::rename(&temporary, path));
    if let Err(error) = result {
        let _ = std::fs::remove_file(&temporary);
        return Err(cannot(error));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("bpsheet-output-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn refuses_to_clobber_and_writes_nothing() {
        let dir = scratch("clobber");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("b.txt"), "mine").unwrap();
        let files = vec![
            OutputFile::text(dir.join("a.txt"), "new a".into()),
            OutputFile::text(dir.join("b.txt"), "new b".into()),
        ];
        let Err(Exit::User(message)) = write_all(&files, false) else {
            panic!("an existing file must stop the write");
        };
        assert!(message.contains("b.txt") && message.contains("--force"));
        assert!(
            !dir.join("a.txt").exists(),
            "nothing is written when one file exists"
        );
        assert_eq!(std::fs::read_to_string(dir.join("b.txt")).unwrap(), "mine");
        write_all(&files, true).unwrap();
        assert_eq!(std::fs::read_to_string(dir.join("b.txt")).unwrap(), "new b");
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
