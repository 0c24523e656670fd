//! `bpsheet derive` on the bundled examples: one golden file per output format.

use crate::support::{bpsheet, golden, golden_json};

fn derive_golden(spec: &str, format: &str, extension: &str) {
    let run = bpsheet(&[
        "derive",
        &format!("worksheets/{spec}.bp"),
        "--format",
        format,
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let path = format!("tests/golden/derive/{spec}.{extension}");
    if format == "json" {
        golden_json(path, &run.stdout);
    } else {
        golden(path, &run.stdout);
    }
}

#[test]
fn every_format_of_both_examples_matches_its_golden_file() {
    for spec in ["slides", "mlp"] {
        for (format, extension) in [
            ("text", "txt"),
            ("json", "json"),
            ("markdown", "md"),
            ("latex", "tex"),
        ] {
            derive_golden(spec, format, extension);
        }
    }
}

#[test]
fn json_has_the_documented_shape() {
    let run = bpsheet(&["derive", "worksheets/slides.bp", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    for key in ["forward", "gradients", "updates", "loss"] {
        assert!(report[key].is_object(), "missing `{key}`");
    }
    // 15 significant digits by default: a11 = sigmoid(-0.124).
    // Checked independently with Python: 1/(1 + Decimal("0.124").exp()) at 60 digits.
    assert_eq!(report["forward"]["a11"]["value"], "0.469039660352691");
    assert_eq!(report["forward"]["h11"]["exact"]["plain"], "-31/250");
    assert!(report["gradients"]["w1"]["chain"]["plain"].is_string());
    assert!(report["gradients"]["w1"]["expanded"]["plain"].is_string());
    assert!(report["updates"]["w5"]["value"].is_string());
    assert!(report["loss"]["L"]["after"]["value"].is_string());
}

#[test]
fn seeds_change_drawn_values_and_nothing_else() {
    let with_seed = |seed: &str| {
        bpsheet(&[
            "derive",
            "worksheets/mlp.bp",
            "--format",
            "json",
            "--seed",
            seed,
        ])
    };
    let (a, b, again) = (with_seed("1"), with_seed("2"), with_seed("1"));
    assert_eq!(a.stdout, again.stdout, "same seed, same output");
    assert_ne!(a.stdout, b.stdout, "another seed draws other weights");
    let a: serde_json::Value = serde_json::from_str(&a.stdout).unwrap();
    let b: serde_json::Value = serde_json::from_str(&b.stdout).unwrap();
    assert_eq!(
        a["given"]["x1"], b["given"]["x1"],
        "literal inputs do not change"
    );
}

#[test]
fn help_shows_examples() {
    let run = bpsheet(&["derive", "--help"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("Examples:"));
    assert!(run.stdout.contains("--rounded-intermediates"));
}

#[test]
fn usage_errors_exit_with_two() {
    let run = bpsheet(&["derive"]);
    assert_eq!(run.code, 2);
    let run = bpsheet(&[
        "derive",
        "worksheets/slides.bp",
        "--sig",
        "3",
        "--decimals",
        "2",
    ]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("cannot be used with"));
}

#[test]
fn missing_file_is_a_clear_error() {
    let run = bpsheet(&["derive", "no/such/file.bp"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .starts_with("error: cannot read `no/such/file.bp`"),
        "{}",
        run.stderr
    );
}

#[test]
fn constants_get_a_gradient_only_on_request() {
    let dir = std::env::temp_dir().join(format!("bpsheet-const-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let spec = dir.join("const.bp");
    std::fs::write(&spec, "input x = 0.5\ntarget y = 1\nconst c = 2\nparam w = 0.3\nrate eta = 0.1\nh = c * w * x\nloss L = 1/2 * (y - h)^2\n").unwrap();
    let names = |extra: &[&str]| -> Vec<String> {
        let mut args = vec!["derive", spec.to_str().unwrap(), "--format", "json"];
        args.extend_from_slice(extra);
        let report: serde_json::Value = serde_json::from_str(&bpsheet(&args).stdout).unwrap();
        report["gradients"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    };
    assert!(!names(&[]).contains(&"c".to_string()));
    // dL/dc = (h - y) w x = (0.3 - 1)(0.3)(0.5) = -0.105, and no update: c is not trained.
    let run = bpsheet(&[
        "derive",
        spec.to_str().unwrap(),
        "--format",
        "json",
        "--const-gradients",
    ]);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["gradients"]["c"]["exact"]["plain"], "-21/200");
    assert!(report["updates"].get("c").is_none());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_reader_that_stops_early_is_not_an_error() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    // A report far larger than a pipe's buffer, so bpsheet is still writing when the reader
    // (like `head`) closes its end.
    let dir = std::env::temp_dir().join(format!("bpsheet-pipe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let spec = dir.join("wide.bp");
    let inputs: Vec<String> = (0..40).map(|i| format!("{}", i % 7 - 3)).collect();
    std::fs::write(
        &spec,
        format!(
            "mlp 40 -> 40 sigmoid -> 1 sigmoid\ninputs x = [{}]\ntargets y = [1]\n\
             weights = uniform(-0.5, 0.5, step 0.01)\nloss half_squared_error\nrate eta = 0.1\n",
            inputs.join(", ")
        ),
    )
    .unwrap();
    for format in ["json", "text"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_bpsheet"))
            .args(["derive", spec.to_str().unwrap(), "--format", format])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary runs");
        let mut first = [0u8; 16];
        child
            .stdout
            .take()
            .expect("stdout is piped")
            .read_exact(&mut first)
            .unwrap();
        // The read end is dropped here: bpsheet's next writes fail with a broken pipe.
        let output = child.wait_with_output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{format}");
        assert_eq!(String::from_utf8_lossy(&output.stderr), "", "{format}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
