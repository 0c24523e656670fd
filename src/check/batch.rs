//! Checking a whole class: every submission file of a directory, in parallel over the machine's
//! cores, into one CSV row per submission (a column per question, then the score) and optional
//! per-student reports.

use std::path::{Path, PathBuf};

use super::findings::CheckReport;
use crate::graph::Network;
use crate::parallel::map_chunks;
use crate::symbolic::backprop::Derivation;

/// Submission files bpsheet reads in a directory.
const EXTENSIONS: &[&str] = &["md", "markdown", "txt", "tex"];

/// The submission files of a directory, sorted by name.
pub fn submissions(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.is_file()
                && path
                    .extension()
                    .is_some_and(|e| EXTENSIONS.iter().any(|x| e.eq_ignore_ascii_case(x)))
        })
        .collect();
    files.sort();
    Ok(files)
}

/// Checks every file on as many threads as there are cores; a file that cannot be read gets
/// an `Err` with the reason, in its place.
pub fn check_all(
    network: &Network,
    derivation: &Derivation,
    files: &[PathBuf],
    read: &(dyn Fn(&Path) -> Result<String, String> + Sync),
    decimals: Option<u32>,
) -> Vec<Result<CheckReport, String>> {
    let grounds = super::judge::Grounds::new(network, derivation);
    let check = |path: &PathBuf| {
        let name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        read(path).map(|text| super::check(network, derivation, &grounds, &text, &name, decimals))
    };
    map_chunks(files, 1, |chunk| {
        chunk.iter().map(check).collect::<Vec<_>>()
    })
    .into_iter()
    .flatten()
    .collect()
}

/// The CSV of a class: `submission`, one column per question (1 credited, 0 not, empty when the
/// submission does not answer it), `score`. Fields are quoted as RFC 4180 says.
pub fn csv(questions: &[String], results: &[(String, Result<CheckReport, String>)]) -> String {
    let mut out = String::new();
    let header: Vec<String> = std::iter::once("submission".to_string())
        .chain(questions.iter().cloned())
        .chain(["score".to_string()])
        .map(|f| quote(&f))
        .collect();
    out.push_str(&header.join(","));
    out.push_str("\r\n");
    for (name, result) in results {
        let mut row = vec![quote(name)];
        match result {
            Ok(report) => {
                for question in questions {
                    let cell = report
                        .questions
                        .iter()
                        .find(|(q, _)| q == question)
                        .map_or("", |(_, ok)| if *ok { "1" } else { "0" });
                    row.push(cell.to_string());
                }
                row.push(format!("{:.1}", report.score));
            }
            Err(_) => {
                row.extend(questions.iter().map(|_| String::new()));
                row.push(String::new());
            }
        }
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

/// A CSV field: quoted when it holds a comma, quote or line break; a leading `=`, `+`, `-` or `@`
/// is prefixed with `'` so a spreadsheet does not run it as a formula (file names are the
/// students').
fn quote(field: &str) -> String {
    let field = if field.starts_with(['=', '+', '-', '@']) {
        format!("'{field}")
    } else {
        field.to_string()
    };
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field
    }
}
