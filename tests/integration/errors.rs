//! Every malformed or meaningless spec gets a clear error with a location (never a panic), exit
//! code 2. Each `tests/data/spec-errors/NAME.bp` has its expected stderr in `NAME.stderr`; each
//! `tests/data/spec-warnings/NAME.bp` runs (exit 0) with its warnings in `NAME.stderr`.

use crate::support::{bpsheet, files, golden, relative};

fn check_dir(dir: &str, expected_code: i32) {
    let specs = files(dir, "bp");
    assert!(!specs.is_empty(), "no specs in {dir}");
    for spec in specs {
        let path = relative(&spec);
        let run = bpsheet(&["derive", &path]);
        assert_eq!(run.code, expected_code, "{path}: {}", run.stderr);
        assert!(
            !run.stderr.contains("panicked"),
            "{path} panicked: {}",
            run.stderr
        );
        if expected_code == 2 {
            assert!(run.stderr.starts_with("error: "), "{path}: {}", run.stderr);
            assert!(
                run.stdout.is_empty(),
                "{path} printed a report despite the error"
            );
        }
        golden(spec.with_extension("stderr"), &run.stderr);
    }
}

#[test]
fn bad_specs_are_refused_with_a_location() {
    check_dir("tests/data/spec-errors", 2);
}

#[test]
fn questionable_specs_run_with_warnings() {
    check_dir("tests/data/spec-warnings", 0);
}

#[test]
fn binary_input_is_refused() {
    let path = std::env::temp_dir().join(format!("bpsheet-binary-{}.bp", std::process::id()));
    std::fs::write(&path, [0xff, 0xfe, 0x00, 0x41, 0x80]).unwrap();
    let run = bpsheet(&["derive", path.to_str().unwrap()]);
    std::fs::remove_file(&path).ok();
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("is not UTF-8 text"), "{}", run.stderr);
}
