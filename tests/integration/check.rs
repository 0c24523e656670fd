//! `bpsheet check`: the seed slides' real mistakes flagged and their right lines passed; a corpus
//! of derivations (the ones `derive --format markdown` writes, which must check as all right)
//! with one mistake of every catalogued kind injected at a known line; carried-forward credit
//! and its limits; answers files; whole classes into a CSV; hostile submissions.

use std::path::PathBuf;

use serde_json::Value;

use crate::support::{bpsheet, golden_json, root};

/// The networks of the corpus: sigmoid with tied weights (the slides), tanh and sigmoid
/// layers, ReLU, binary cross-entropy, and softmax with cross-entropy.
const CORPUS: &[&str] = &[
    "worksheets/slides.bp",
    "worksheets/mlp.bp",
    "tests/data/check/relu.bp",
    "tests/data/check/cross-entropy.bp",
    "tests/data/check/softmax.bp",
];

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bpsheet-check-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn derive_markdown(spec: &str) -> String {
    let run = bpsheet(&["derive", spec, "--format", "markdown"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.stdout
}

/// Checks a submission text against a spec; the JSON report and the exit code.
fn check(spec: &str, text: &str, name: &str) -> (Value, i32) {
    let dir = scratch(name);
    let path = dir.join(format!("{name}.md"));
    std::fs::write(&path, text).unwrap();
    let run = bpsheet(&["check", spec, path.to_str().unwrap(), "--format", "json"]);
    std::fs::remove_dir_all(&dir).ok();
    assert!(
        run.code == 0 || run.code == 1,
        "exit {}: {}",
        run.code,
        run.stderr
    );
    (
        serde_json::from_str(&run.stdout).expect("JSON report"),
        run.code,
    )
}

fn findings(report: &Value) -> &Vec<Value> {
    report["findings"].as_array().unwrap()
}

/// The non-correct findings on a line.
fn problems_at(report: &Value, line: usize) -> Vec<&Value> {
    findings(report)
        .iter()
        .filter(|f| f["line"] == line && f["verdict"] != "correct")
        .collect()
}

/// Replaces the first line containing `find` (after the line containing `after`) by the same
/// line with `find` replaced; returns the new text and the 1-based line.
fn inject(text: &str, after: &str, find: &str, replace: &str) -> (String, usize) {
    let start = text
        .lines()
        .position(|l| l.contains(after))
        .unwrap_or_else(|| panic!("no line with {after:?}"));
    let index = text
        .lines()
        .enumerate()
        .skip(start)
        .find(|(_, l)| l.contains(find))
        .unwrap_or_else(|| panic!("no line with {find:?} after {after:?}"))
        .0;
    let lines: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == index {
                l.replacen(find, replace, 1)
            } else {
                l.to_string()
            }
        })
        .collect();
    (lines.join("\n") + "\n", index + 1)
}

fn assert_found(spec: &str, text: &str, line: usize, kind: &str, name: &str) {
    let (report, code) = check(spec, text, name);
    assert_eq!(code, 1, "{name}: a mistake must give exit code 1");
    let problems = problems_at(&report, line);
    assert!(
        problems.iter().any(|f| f["kind"] == kind),
        "{name}: expected `{kind}` at line {line}, found {problems:?}\nall: {:?}",
        findings(&report)
            .iter()
            .filter(|f| f["verdict"] != "correct")
            .collect::<Vec<_>>()
    );
    let others: Vec<&Value> = findings(&report)
        .iter()
        .filter(|f| f["verdict"] == "wrong" && f["line"] != line)
        .collect();
    assert!(
        others.is_empty(),
        "{name}: mistakes reported elsewhere too: {others:?}"
    );
}

#[test]
fn derivations_written_by_derive_check_as_all_right() {
    for spec in CORPUS {
        let (report, code) = check(spec, &derive_markdown(spec), "derived");
        let wrong: Vec<&Value> = findings(&report)
            .iter()
            .filter(|f| f["verdict"] != "correct")
            .collect();
        assert!(wrong.is_empty(), "{spec}: {wrong:?}");
        assert_eq!(code, 0);
        assert!(
            findings(&report).len() > 40,
            "{spec}: only {} steps checked",
            findings(&report).len()
        );
    }
    // And under other seeds (other values) and precisions.
    for seed in ["2", "3", "17"] {
        let run = bpsheet(&[
            "derive",
            "worksheets/mlp.bp",
            "--format",
            "markdown",
            "--seed",
            seed,
            "--sig",
            "6",
        ]);
        let dir = scratch(&format!("seed{seed}"));
        let spec = dir.join("mlp.bp");
        std::fs::write(
            &spec,
            std::fs::read_to_string(root().join("worksheets/mlp.bp")).unwrap()
                + &format!("seed {seed}\n"),
        )
        .unwrap();
        let (report, code) = check(
            spec.to_str().unwrap(),
            &run.stdout,
            &format!("seed{seed}-submission"),
        );
        assert_eq!(
            code,
            0,
            "seed {seed}: {:?}",
            findings(&report)
                .iter()
                .filter(|f| f["verdict"] != "correct")
                .collect::<Vec<_>>()
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}

#[test]
fn every_catalogued_symbolic_mistake_is_named_at_its_line() {
    let spec = "worksheets/slides.bp";
    let text = derive_markdown(spec);
    let h11 = r"\frac{\partial L}{\partial h_{11}} &=";
    let cases: &[(&str, &str, &str, &str, &str)] = &[
        (
            "missing_activation_derivative",
            h11,
            r"a_{11} \left(1 - a_{11}\right) \\",
            r"\\",
            "missing-derivative",
        ),
        (
            "wrong_activation_derivative",
            h11,
            r"a_{11} \left(1 - a_{11}\right) \\",
            r"a_{11} \\",
            "sigma-only",
        ),
        (
            "derivative_at_preactivation",
            h11,
            r"a_{11} \left(1 - a_{11}\right) \\",
            r"h_{11} \left(1 - h_{11}\right) \\",
            "at-preactivation",
        ),
        (
            "wrong_sign",
            r"\frac{\partial L}{\partial y_{pred}} &=",
            "y_{pred} - y",
            "y - y_{pred}",
            "sign",
        ),
        (
            "factor_two",
            r"\frac{\partial L}{\partial y_{pred}} &=",
            "y_{pred} - y",
            r"2 \left(y_{pred} - y\right)",
            "factor-two",
        ),
        (
            "missing_term",
            r"\frac{\partial L}{\partial w_{1}} &=",
            r" + \frac{\partial L}{\partial h_{12}}\right) x_{1}",
            r"\right) x_{1}",
            "tied-term",
        ),
        (
            "wrong_term",
            r"\frac{\partial L}{\partial a_{11}} &=",
            r"\right) w_{3} \\",
            r"\right) w_{4} \\",
            "wrong-weight",
        ),
        (
            "preactivation_for_activation",
            r"\frac{\partial L}{\partial w_{5}} &=",
            r"\frac{\partial L}{\partial z} a_{21} \\",
            r"\frac{\partial L}{\partial z} h_{21} \\",
            "h-for-a",
        ),
        (
            "update_sign",
            r"{w_{5}}^{\mathrm{new}}",
            r"w_{5} - \eta",
            r"w_{5} + \eta",
            "update-sign",
        ),
        (
            "update_without_rate",
            r"{w_{5}}^{\mathrm{new}}",
            r"w_{5} - \eta \frac",
            r"w_{5} - \frac",
            "update-rate",
        ),
        (
            "undefined_symbol",
            r"\frac{\partial L}{\partial a_{21}} &=",
            r"\frac{\partial L}{\partial z} w_{5} \\",
            r"\frac{\partial L}{\partial z} w_{7} \\",
            "undefined",
        ),
    ];
    for &(kind, after, find, replace, name) in cases {
        let (mistaken, line) = inject(&text, after, find, replace);
        assert_found(spec, &mistaken, line, kind, name);
    }
}

#[test]
fn numeric_mistakes_are_named_at_their_line() {
    let spec = "worksheets/slides.bp";
    let text = derive_markdown(spec);
    // The product on the line gives -0.0002596; writing -0.0003596 is an arithmetic slip.
    let h11 = r"\frac{\partial L}{\partial h_{11}} &=";
    let (slip, line) = inject(&text, h11, r"\approx -0.0002596", r"\approx -0.0003596");
    assert_found(spec, &slip, line, "arithmetic", "arithmetic");
    // Values stated alone: the sign flipped, and doubled.
    let answers = |value: &str| format!("dL/dy_pred = -0.4370\ndL/dz = {value}\n");
    let (report, _) = check(spec, &answers("0.1075"), "answers-sign");
    assert_eq!(problems_at(&report, 2)[0]["kind"], "wrong_sign");
    let (report, _) = check(spec, &answers("-0.2150"), "answers-double");
    assert_eq!(problems_at(&report, 2)[0]["kind"], "factor_two");
}

#[test]
fn premature_rounding_and_updated_weights_are_recognized() {
    // Rounding every intermediate to 2 significant figures gives dL/dw5 = -0.063 (the true
    // value is -0.061): `derive --sig 2 --rounded-intermediates` lists it.
    let (report, _) = check("worksheets/slides.bp", "dL/dw5 = -0.063\n", "premature");
    assert_eq!(
        problems_at(&report, 1)[0]["kind"],
        "premature_rounding",
        "{report}"
    );
    // With a large learning rate the gradient at the updated weights differs visibly.
    let dir = scratch("updated-spec");
    let spec = dir.join("fast.bp");
    let text = std::fs::read_to_string(root().join("worksheets/slides.bp"))
        .unwrap()
        .replace("rate   eta = 0.01", "rate   eta = 5");
    std::fs::write(&spec, &text).unwrap();
    let spec = spec.to_str().unwrap();
    let updated = gradient_after_update(&text, "w5");
    let (report, _) = check(spec, &format!("dL/dw5 = {updated}\n"), "updated");
    assert_eq!(
        problems_at(&report, 1)[0]["kind"],
        "updated_weights_in_backward_pass",
        "{report}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// ∂L/∂name computed at the updated parameters, to 4 significant figures (through the library,
/// as an independent route: the network is rebuilt with the new values as literals).
fn gradient_after_update(spec: &str, name: &str) -> String {
    use bpsheet::diag::Source;
    use bpsheet::eval::decimal::{Precision, RoundingMode};
    use bpsheet::eval::numeric::{Rounding, round};
    let loaded = bpsheet::pipeline::load_source(Source::new("spec.bp", spec), None)
        .unwrap_or_else(|_| panic!("the spec loads"));
    let derivation =
        bpsheet::pipeline::derivation(&loaded).unwrap_or_else(|_| panic!("it derives"));
    let values = bpsheet::eval::network::evaluate(&loaded.network, &derivation, 200).unwrap();
    let mut network = loaded.network.clone();
    for id in network.params().collect::<Vec<_>>() {
        let new = values.updated(id).unwrap().enclosure().lo().to_rational();
        network.symbols[id.index()].value = Some(new);
    }
    let after = bpsheet::eval::network::evaluate(&network, &derivation, 200).unwrap();
    let rounding = Rounding {
        precision: Precision::Significant(4),
        mode: RoundingMode::HalfUp,
    };
    round(
        after.gradient(network.lookup(name).unwrap()).unwrap(),
        rounding,
    )
    .to_string()
}

#[test]
fn mistakes_in_tanh_and_relu_networks_are_named() {
    // tanh' is 1 - a^2; written 1 - h^2 it is taken at the pre-activation.
    let spec = "worksheets/mlp.bp";
    let text = derive_markdown(spec);
    let (mistaken, line) = inject(
        &text,
        r"\frac{\partial L}{\partial h^{(1)}_{1}} &=",
        r"\left(1 - {a^{(1)}_{1}}^{2}\right)",
        r"\left(1 - {h^{(1)}_{1}}^{2}\right)",
    );
    assert_found(
        spec,
        &mistaken,
        line,
        "derivative_at_preactivation",
        "tanh-preactivation",
    );
    let (mistaken, line) = inject(
        &text,
        r"\frac{\partial L}{\partial h^{(1)}_{1}} &=",
        r" \left(1 - {a^{(1)}_{1}}^{2}\right) \\",
        r" \\",
    );
    assert_found(
        spec,
        &mistaken,
        line,
        "missing_activation_derivative",
        "tanh-missing",
    );
    // ReLU: leaving the step out of the chain rule.
    let spec = "tests/data/check/relu.bp";
    let text = derive_markdown(spec);
    let (mistaken, line) = inject(
        &text,
        r"\frac{\partial L}{\partial h_{1}} &=",
        r" \operatorname{step}\left(h_{1}\right) \\",
        r" \\",
    );
    assert_found(
        spec,
        &mistaken,
        line,
        "missing_activation_derivative",
        "relu-missing",
    );
}

#[test]
fn any_wrong_final_value_is_found_at_its_line() {
    // Property: each stated result of a derived derivation, made wrong, is flagged on its line
    // and nowhere before it.
    for &spec in CORPUS {
        let text = derive_markdown(spec);
        let result_lines: Vec<usize> = text
            .lines()
            .enumerate()
            .filter(|(_, l)| l.contains(r"\approx ") && !l.starts_with("Expanded"))
            .map(|(i, _)| i + 1)
            .collect();
        assert!(result_lines.len() > 10);
        for (k, &line) in result_lines.iter().enumerate().step_by(3) {
            let lines: Vec<String> = text
                .lines()
                .enumerate()
                .map(|(i, l)| {
                    if i + 1 != line {
                        return l.to_string();
                    }
                    let (head, value) = l.rsplit_once(r"\approx ").unwrap();
                    let value = value
                        .trim_end_matches(|c: char| c == '$' || c == '\\' || c.is_whitespace());
                    let wrong = if value.starts_with('-') {
                        value.replacen('-', "-1", 1)
                    } else {
                        format!("1{value}")
                    };
                    format!(r"{head}\approx {wrong}")
                })
                .collect();
            let (report, code) = check(spec, &(lines.join("\n") + "\n"), &format!("value{k}"));
            assert_eq!(
                code, 1,
                "{spec}: the wrong value on line {line} went unnoticed"
            );
            assert!(
                !problems_at(&report, line).is_empty(),
                "{spec}: nothing flagged on line {line}"
            );
            let earlier: Vec<&Value> = findings(&report)
                .iter()
                .filter(|f| f["verdict"] == "wrong" && f["line"].as_u64().unwrap() < line as u64)
                .collect();
            assert!(
                earlier.is_empty(),
                "{spec}: a mistake on line {line} reported earlier: {earlier:?}"
            );
        }
    }
}

#[test]
fn errors_carried_forward_earn_credit_unless_they_trivialize() {
    let spec = "worksheets/slides.bp";
    // dL/dz is wrong (-0.1175 for -0.1075); dL/dw5 is right from it: a21 = 0.566348 times
    // -0.1175 is -0.066546, -0.06655 to 4 significant figures.
    let carried = "dL/dy_pred = -0.4370\ndL/dz = -0.1175\ndL/dw5 = -0.06655\n";
    let (report, _) = check(spec, carried, "carried");
    assert_eq!(problems_at(&report, 2)[0]["verdict"], "wrong");
    let third = findings(&report).iter().find(|f| f["line"] == 3).unwrap();
    assert_eq!(third["verdict"], "carried_forward", "{third:?}");
    assert_eq!(third["carried_from"], 2);
    // A wrong 0 makes everything after it 0: no free credit.
    let trivial = "dL/dz = 0\ndL/dw5 = 0\n";
    let (report, _) = check(spec, trivial, "trivial");
    let second = &problems_at(&report, 2)[0];
    assert_eq!(second["kind"], "trivialized_by_earlier_error", "{second:?}");
    assert!(
        second["explanation"]
            .as_str()
            .unwrap()
            .contains("no credit")
    );
}

#[test]
fn expected_values_are_correctly_rounded_to_the_asked_decimals() {
    // dL/dz = -0.107513221852888..., so -0.108 at 3 decimals, -0.1075 at 4, -0.107513 at 6.
    let dir = scratch("decimals");
    let path = dir.join("answers.txt");
    std::fs::write(&path, "dL/dz = -0.2\n").unwrap();
    for (decimals, expected) in [("3", "-0.108"), ("4", "-0.1075"), ("6", "-0.107513")] {
        let run = bpsheet(&[
            "check",
            "worksheets/slides.bp",
            path.to_str().unwrap(),
            "--format",
            "json",
            "--decimals",
            decimals,
        ]);
        let report: Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(findings(&report)[0]["expected_value"], expected);
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn values_the_spec_leaves_out_are_taken_from_the_derivation() {
    let dir = scratch("unknowns");
    let spec = dir.join("open.bp");
    let text = std::fs::read_to_string(root().join("worksheets/slides.bp"))
        .unwrap()
        .replace("param  w2 = -0.12", "param  w2");
    std::fs::write(&spec, text).unwrap();
    let spec = spec.to_str().unwrap();
    // Stated in the derivation: the true values follow, and a wrong one is still caught.
    let (report, _) = check(spec, "w2 = -0.12\nh11 = -0.124\nh12 = 0.025\n", "stated");
    assert_eq!(findings(&report)[1]["verdict"], "correct", "{report}");
    assert_eq!(problems_at(&report, 3)[0]["verdict"], "wrong", "{report}");
    // Not stated anywhere: values that depend on it cannot be judged against the truth, but
    // nothing is reported wrong for it, and arithmetic is still checked.
    let (report, code) = check(
        spec,
        "h11 = -0.124\ndL/dz = -0.1075 * 2 = -0.3\n",
        "unstated",
    );
    assert!(problems_at(&report, 1).is_empty(), "{report}");
    assert_eq!(problems_at(&report, 2)[0]["kind"], "arithmetic", "{report}");
    assert_eq!(code, 1);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn answers_files_are_checked_line_by_line() {
    let spec = "worksheets/slides.bp";
    let run = bpsheet(&["derive", spec, "--format", "json"]);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    // All answers at 4 significant figures, from the true values.
    let mut answers = String::from("# my answers\n");
    for (name, step) in report["forward"].as_object().unwrap() {
        let value = bpsheet_round(step["value"].as_str().unwrap());
        answers.push_str(&format!("{name} = {value}\n"));
    }
    for (name, step) in report["gradients"].as_object().unwrap() {
        let value = bpsheet_round(step["value"].as_str().unwrap());
        answers.push_str(&format!("dL/d{name} = {value}\n"));
    }
    let (checked, code) = check(spec, &answers, "answers");
    assert_eq!(
        code,
        0,
        "{:?}",
        findings(&checked)
            .iter()
            .filter(|f| f["verdict"] != "correct")
            .collect::<Vec<_>>()
    );
    answers.push_str("this line is not an answer\n");
    let (checked, code) = check(spec, &answers, "answers-bad");
    assert_eq!(code, 1);
    let last = answers.lines().count();
    assert_eq!(problems_at(&checked, last)[0]["verdict"], "unreadable");
}

/// A 15-digit value to 4 significant figures (for answers files).
fn bpsheet_round(value: &str) -> String {
    let x: f64 = value.parse().unwrap();
    format!("{}", format!("{x:.3e}").parse::<f64>().unwrap())
}

#[test]
fn the_seed_slides_mistakes_are_flagged_and_right_lines_pass() {
    let run = bpsheet(&[
        "check",
        "tests/data/check/slides.bp",
        "tests/data/check/seed-slides.md",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    golden_json("tests/data/check/seed-slides.findings.json", &run.stdout);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    let kinds_at = |line: usize| -> Vec<String> {
        problems_at(&report, line)
            .iter()
            .map(|f| f["kind"].as_str().unwrap_or("unreadable").to_string())
            .collect()
    };
    // σ where σ(1 - σ) belongs, in all four hidden units of the first slide.
    for line in [16, 19, 22, 25] {
        assert!(
            kinds_at(line).contains(&"wrong_activation_derivative".to_string()),
            "line {line}: {:?}",
            kinds_at(line)
        );
    }
    // `a_{11} = \sigma(h_1)`: there is no h_1.
    assert!(kinds_at(16).contains(&"undefined_symbol".to_string()));
    // z = b_z + w_5 y_3 + w_6 y_4: y_3 is not a quantity.
    assert!(kinds_at(27).contains(&"undefined_symbol".to_string()));
    // dL/dy_pred = (y - y_pred): the sign is wrong.
    assert!(kinds_at(27).contains(&"wrong_sign".to_string()));
    // The derivative with respect to an expression cannot be read.
    assert!(kinds_at(91).contains(&"unreadable".to_string()));
    // h11 = 0.023 (it is -0.124), a11 = 0.494 (0.469).
    assert!(!kinds_at(101).is_empty() && !kinds_at(111).is_empty());
    // The chain rules of the first slide are right: dL/dx1 and dL/dw1 on line 9, the sums with
    // tied weights on line 13.
    for line in [9, 13] {
        assert!(
            kinds_at(line).is_empty(),
            "line {line}: {:?}",
            kinds_at(line)
        );
        assert!(
            findings(&report)
                .iter()
                .filter(|f| f["line"] == line)
                .count()
                >= 4
        );
    }
    // The right forward equations: h11 = b_h11 + w1 x1 + w2 x2 on line 59.
    assert!(
        findings(&report)
            .iter()
            .any(|f| f["line"] == 59 && f["verdict"] == "correct")
    );
}

#[test]
fn a_class_is_checked_into_a_csv_and_reports() {
    let dir = scratch("class");
    let submissions = dir.join("submissions");
    std::fs::create_dir_all(&submissions).unwrap();
    let right = "dL/dy_pred = -0.4370\ndL/dz = -0.1075\n";
    let wrong = "dL/dy_pred = 0.4370\ndL/dz = -0.1075\n";
    std::fs::write(submissions.join("alice.txt"), right).unwrap();
    std::fs::write(submissions.join("bob.txt"), wrong).unwrap();
    std::fs::write(submissions.join("=cmd|calc.txt"), right).unwrap();
    std::fs::write(
        submissions.join("garbage.md"),
        [0xff_u8, 0x00, b'$', b'$', 0x80, b'='],
    )
    .unwrap();
    let csv = dir.join("grades.csv");
    let reports = dir.join("reports");
    let run = bpsheet(&[
        "check",
        "worksheets/slides.bp",
        submissions.to_str().unwrap(),
        "--csv",
        csv.to_str().unwrap(),
        "--reports",
        reports.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let table = std::fs::read_to_string(&csv).unwrap();
    let rows: Vec<&str> = table.lines().collect();
    assert_eq!(rows[0], "submission,dL/dy_pred,dL/dz,score");
    assert!(rows.contains(&"alice.txt,1,1,100.0"), "{table}");
    assert!(rows.iter().any(|r| r.starts_with("bob.txt,0,")), "{table}");
    assert!(
        rows.iter().any(|r| r.starts_with("'=cmd|calc.txt,")),
        "a file name must not become a spreadsheet formula: {table}"
    );
    assert_eq!(rows.len(), 5);
    assert!(reports.join("bob.md").exists() && reports.join("alice.md").exists());
    // Existing files are kept without --force.
    let again = bpsheet(&[
        "check",
        "worksheets/slides.bp",
        submissions.to_str().unwrap(),
        "--csv",
        csv.to_str().unwrap(),
    ]);
    assert_eq!(again.code, 2);
    assert!(again.stderr.contains("--force"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn hostile_submissions_are_reported_never_crash() {
    let spec = "worksheets/slides.bp";
    let nested = format!(
        "$$a_{{11}} = {}0.5{}$$\n",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    let braces = format!("$$h_{{11}} = {}$$\n", "{".repeat(50_000));
    let huge_line = format!("$$h_{{11}} = {}$$\n", "1 + ".repeat(200_000));
    let cases: Vec<(&str, String)> = vec![
        ("nested", nested),
        ("braces", braces),
        ("huge", huge_line),
        ("unterminated", "$$h_{11} = 0.5\n\nprose\n".to_string()),
        (
            "aligned-open",
            "$$\\begin{aligned} h_{11} &= 0.5 \\\\\n".to_string(),
        ),
        (
            "controls",
            "$$h_{11} = \u{0}\u{7}\u{1b}[2J 0.5$$\n".to_string(),
        ),
    ];
    for (name, text) in cases {
        let (report, code) = check(spec, &text, name);
        assert_eq!(code, 1, "{name}");
        assert!(
            findings(&report)
                .iter()
                .any(|f| f["verdict"] == "unreadable" || f["verdict"] == "wrong"),
            "{name}: {report}"
        );
    }
    let dir = scratch("binary");
    let path = dir.join("binary.md");
    std::fs::write(
        &path,
        (0..=255u8).cycle().take(100_000).collect::<Vec<u8>>(),
    )
    .unwrap();
    let run = bpsheet(&["check", spec, path.to_str().unwrap()]);
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_markdown_report_quotes_the_submission_safely() {
    let spec = "worksheets/slides.bp";
    let dir = scratch("safe");
    let path = dir.join("evil.md");
    std::fs::write(
        &path,
        "$$h_{11} = \\input{/etc/passwd} <script>alert(1)</script>$$\n$$a_{11} = 0.9$$\n",
    )
    .unwrap();
    let run = bpsheet(&[
        "check",
        spec,
        path.to_str().unwrap(),
        "--format",
        "markdown",
    ]);
    assert_eq!(run.code, 1);
    assert!(!run.stdout.contains("<script>"), "{}", run.stdout);
    assert!(!run.stdout.contains("\\input{"), "{}", run.stdout);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn unusable_input_exits_with_two() {
    let run = bpsheet(&["check", "worksheets/slides.bp", "no/such/submission.md"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.starts_with("error: cannot read"),
        "{}",
        run.stderr
    );
    let run = bpsheet(&[
        "check",
        "tests/data/spec-errors/cycle.bp",
        "tests/data/check/seed-slides.md",
    ]);
    assert_eq!(run.code, 2);
}
