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
