//! `bpsheet worksheet`: golden sheets and keys, the bundled outputs in `worksheets/` kept fresh,
//! LaTeX that pdflatex compiles, Markdown math that KaTeX accepts, Moodle XML that parses with
//! the fields an import needs, deterministic and distinct variants, and safe file writing.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{bpsheet, golden, root};
use crate::tools::{available, katex_available};

/// A fresh empty directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bpsheet-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn generate(spec: &str, dir: &Path, extra: &[&str]) -> Vec<PathBuf> {
    let mut args = vec!["worksheet", spec, "--key", "-o", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    let run = bpsheet(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.stdout.lines().map(PathBuf::from).collect()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The command that regenerates the bundled outputs in `worksheets/`.
pub const REGENERATE: &str = "for s in slides mlp; do for f in latex markdown; do \
    cargo run -- worksheet worksheets/$s.bp --format $f --key -o worksheets --force; done; \
    cargo run -- worksheet worksheets/$s.bp --key --pdf -o worksheets --force; done";

#[test]
fn bundled_outputs_are_fresh() {
    for spec in ["slides", "mlp"] {
        for format in ["latex", "markdown"] {
            let dir = scratch(&format!("fresh-{spec}-{format}"));
            for file in generate(
                &format!("worksheets/{spec}.bp"),
                &dir,
                &["--format", format],
            ) {
                let name = file.file_name().unwrap();
                let bundled = root().join("worksheets").join(name);
                assert!(
                    bundled.exists() && read(&bundled) == read(&file),
                    "worksheets/{} is stale or missing; regenerate with:\n  {REGENERATE}",
                    name.to_string_lossy()
                );
            }
            std::fs::remove_dir_all(&dir).ok();
        }
        let pdf = root().join(format!("worksheets/{spec}-A-key.pdf"));
        assert!(
            pdf.exists(),
            "{} is missing; regenerate with:\n  {REGENERATE}",
            pdf.display()
        );
    }
}

#[test]
fn golden_sheets_and_keys() {
    for spec in ["slides", "mlp"] {
        for (format, extension) in [("latex", "tex"), ("markdown", "md")] {
            let dir = scratch(&format!("golden-{spec}-{format}"));
            // The mlp spec has ranges, so it gets two variants and a combined key.
            let variants: &[&str] = if spec == "mlp" {
                &["--variants", "2", "--seed", "5"]
            } else {
                &[]
            };
            generate(
                &format!("worksheets/{spec}.bp"),
                &dir,
                &[&["--format", format][..], variants].concat(),
            );
            let mut names: Vec<String> = std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            for name in names.iter().filter(|n| n.ends_with(extension)) {
                golden(
                    format!("tests/golden/worksheet/{name}"),
                    &read(&dir.join(name)),
                );
            }
            std::fs::remove_dir_all(&dir).ok();
        }
    }
}

#[test]
fn latex_compiles_with_pdflatex_and_renders() {
    if !available("pdflatex", "compiling the LaTeX worksheets") {
        return;
    }
    let dir = scratch("pdflatex");
    let mut files = generate("worksheets/slides.bp", &dir, &[]);
    files.extend(generate(
        "worksheets/mlp.bp",
        &dir,
        &["--variants", "3", "--seed", "11", "--rounded-intermediates"],
    ));
    let derived = bpsheet(&["derive", "worksheets/slides.bp", "--format", "latex"]);
    std::fs::write(dir.join("derive-slides.tex"), derived.stdout).unwrap();
    files.push(dir.join("derive-slides.tex"));
    for tex in files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "tex"))
    {
        let output = Command::new("pdflatex")
            .args([
                "-no-shell-escape",
                "-interaction=nonstopmode",
                "-halt-on-error",
            ])
            .arg(tex.file_name().unwrap())
            .current_dir(&dir)
            .output()
            .unwrap();
        let log = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "pdflatex failed on {}:\n{}",
            tex.display(),
            log.lines()
                .filter(|l| l.starts_with('!'))
                .collect::<Vec<_>>()
                .join("\n")
        );
        assert!(
            !log.contains("Overfull \\hbox") || tex.to_string_lossy().contains("derive"),
            "{} has overfull lines",
            tex.display()
        );
    }
    // The first page as a picture a person can look at: target/pages/slides-A-key-1.png.
    if available("pdftoppm", "rendering the first page to PNG") {
        let pages = root().join("target/pages");
        std::fs::create_dir_all(&pages).unwrap();
        let status = Command::new("pdftoppm")
            .args(["-png", "-r", "80", "-f", "1", "-l", "1"])
            .arg(dir.join("slides-A-key.pdf"))
            .arg(pages.join("slides-A-key"))
            .status()
            .unwrap();
        assert!(status.success());
        let png = std::fs::read_dir(&pages)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                p.to_string_lossy().contains("slides-A-key")
                    && p.extension().is_some_and(|e| e == "png")
            });
        let png = png.expect("pdftoppm wrote the first page");
        assert!(
            std::fs::metadata(&png).unwrap().len() > 10_000,
            "the page is not blank"
        );
        eprintln!("first page of the slides key: {}", png.display());
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn markdown_math_renders_with_katex() {
    if !katex_available() {
        return;
    }
    let dir = scratch("katex");
    let mut files = generate("worksheets/slides.bp", &dir, &["--format", "markdown"]);
    files.extend(generate(
        "worksheets/mlp.bp",
        &dir,
        &[
            "--format",
            "markdown",
            "--variants",
            "3",
            "--seed",
            "11",
            "--rounded-intermediates",
        ],
    ));
    for spec in ["slides", "mlp"] {
        let derived = bpsheet(&[
            "derive",
            &format!("worksheets/{spec}.bp"),
            "--format",
            "markdown",
        ]);
        let path = dir.join(format!("derive-{spec}.md"));
        std::fs::write(&path, derived.stdout).unwrap();
        files.push(path);
    }
    let markdown: Vec<&PathBuf> = files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "md"))
        .collect();
    let output = Command::new("node")
        .arg(root().join("tests/katex/check.js"))
        .args(&markdown)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "KaTeX rejected some math:\n{report}"
    );
    assert!(!report.starts_with("0 expressions"), "no math was checked");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn moodle_xml_parses_with_the_fields_an_import_needs() {
    let dir = scratch("moodle");
    let files = generate(
        "worksheets/mlp.bp",
        &dir,
        &["--format", "moodle", "--variants", "4", "--seed", "3"],
    );
    assert_eq!(files.len(), 1);
    let xml = read(&files[0]);
    let document = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let quiz = document.root_element();
    assert_eq!(quiz.tag_name().name(), "quiz");
    let questions: Vec<_> = quiz
        .children()
        .filter(|n| n.has_tag_name("question"))
        .collect();
    let categories = questions
        .iter()
        .filter(|q| q.attribute("type") == Some("category"))
        .count();
    let numerical: Vec<_> = questions
        .iter()
        .filter(|q| q.attribute("type") == Some("numerical"))
        .collect();
    assert!(categories > 0);
    assert_eq!(
        numerical.len(),
        4 * categories,
        "one question per variant in each category"
    );
    for question in numerical {
        let child = |name: &str| {
            question
                .children()
                .find(|n| n.has_tag_name(name))
                .unwrap_or_else(|| panic!("missing <{name}>"))
        };
        let text = |node: roxmltree::Node| {
            node.children()
                .find(|n| n.has_tag_name("text"))
                .and_then(|t| t.text())
                .unwrap_or("")
                .to_string()
        };
        assert!(!text(child("name")).is_empty());
        assert!(text(child("questiontext")).contains("\\("));
        let answer = child("answer");
        assert_eq!(answer.attribute("fraction"), Some("100"));
        let value: f64 = text(answer).trim().parse().expect("the answer is a number");
        let tolerance: f64 = answer
            .children()
            .find(|n| n.has_tag_name("tolerance"))
            .and_then(|t| t.text())
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            tolerance > 0.0 && tolerance < value.abs().max(1e-12),
            "tolerance {tolerance} for {value}"
        );
        let grade: f64 = child("defaultgrade").text().unwrap().parse().unwrap();
        assert!(grade > 0.0);
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn variants_are_deterministic_distinct_and_reproducible() {
    let first = scratch("variants-1");
    let second = scratch("variants-2");
    let run = bpsheet(&[
        "worksheet",
        "worksheets/mlp.bp",
        "--variants",
        "5",
        "--seed",
        "9",
        "-o",
        first.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let again = bpsheet(&[
        "worksheet",
        "worksheets/mlp.bp",
        "--variants",
        "5",
        "--seed",
        "9",
        "-o",
        second.to_str().unwrap(),
    ]);
    let sheets: Vec<String> = ["A", "B", "C", "D", "E"]
        .iter()
        .map(|v| read(&first.join(format!("mlp-{v}.tex"))))
        .collect();
    for (v, sheet) in ["A", "B", "C", "D", "E"].iter().zip(&sheets) {
        assert_eq!(
            sheet,
            &read(&second.join(format!("mlp-{v}.tex"))),
            "variant {v} differs between runs"
        );
    }
    for i in 0..sheets.len() {
        for j in i + 1..sheets.len() {
            assert_ne!(
                sheets[i].replace(&format!("Variant {}", (b'A' + i as u8) as char), ""),
                sheets[j].replace(&format!("Variant {}", (b'A' + j as u8) as char), "")
            );
        }
    }
    // Each variant's recorded seed regenerates it alone.
    let seed_of_c = run
        .stderr
        .lines()
        .find(|l| l.starts_with("variant C: seed "))
        .unwrap()
        .trim_start_matches("variant C: seed ")
        .to_string();
    let alone = scratch("variants-alone");
    let run = bpsheet(&[
        "worksheet",
        "worksheets/mlp.bp",
        "--seed",
        &seed_of_c,
        "-o",
        alone.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        read(&alone.join("mlp-A.tex")).replace("Variant A", "Variant C"),
        sheets[2]
    );
    assert!(again.code == 0);
    for dir in [first, second, alone] {
        std::fs::remove_dir_all(dir).ok();
    }
}

#[test]
fn too_many_variants_from_narrow_ranges_is_a_clear_error() {
    let dir = scratch("narrow");
    let spec = dir.join("narrow.bp");
    std::fs::write(&spec, "input x = 2\ntarget y = 1\nparam w = choice(0.3, 0.6)\nrate eta = 0.1\nh = w * x\nloss L = 1/2 * (y - h)^2\n").unwrap();
    let run = bpsheet(&[
        "worksheet",
        spec.to_str().unwrap(),
        "--variants",
        "3",
        "-o",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("only 2 good variant(s) of the 3"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("rejected"), "{}", run.stderr);
    let literal = bpsheet(&[
        "worksheet",
        "worksheets/slides.bp",
        "--variants",
        "2",
        "-o",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(literal.code, 2);
    assert!(literal.stderr.contains("no ranges"), "{}", literal.stderr);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn existing_files_are_kept_unless_forced() {
    let dir = scratch("clobber");
    std::fs::write(dir.join("slides-A.tex"), "my own notes").unwrap();
    let run = bpsheet(&[
        "worksheet",
        "worksheets/slides.bp",
        "--key",
        "-o",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("already exist") && run.stderr.contains("--force"),
        "{}",
        run.stderr
    );
    assert_eq!(read(&dir.join("slides-A.tex")), "my own notes");
    assert!(
        !dir.join("slides-A-key.tex").exists(),
        "nothing is written when one file exists"
    );
    let forced = bpsheet(&[
        "worksheet",
        "worksheets/slides.bp",
        "--key",
        "-o",
        dir.to_str().unwrap(),
        "--force",
    ]);
    assert_eq!(forced.code, 0, "{}", forced.stderr);
    assert!(read(&dir.join("slides-A.tex")).contains("\\documentclass"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn dump_context_prints_the_documented_context() {
    let run = bpsheet(&["worksheet", "worksheets/slides.bp", "--dump-context"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let context: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    for key in ["sheet", "key", "tikz", "svg_file"] {
        assert!(!context[key].is_null(), "missing `{key}`");
    }
    let question = &context["sheet"]["sections"][0]["questions"][0];
    for key in ["number", "quantity", "prompt_latex", "points", "answer"] {
        assert!(!question[key].is_null(), "missing `{key}`");
    }
    // Every key the context has is documented.
    let docs = read(&root().join("docs/templates.md"));
    for key in [
        "title",
        "variant",
        "seed",
        "precision",
        "rounding",
        "given",
        "sections",
        "total_points",
        "steps",
        "exact_latex",
        "tolerance",
        "calculator",
    ] {
        assert!(
            docs.contains(&format!("`{key}`")),
            "docs/templates.md does not document `{key}`"
        );
    }
}

#[test]
fn questions_points_hidden_values_and_template_overrides() {
    let dir = scratch("questions");
    let spec = dir.join("asked.bp");
    let text = std::fs::read_to_string(root().join("worksheets/slides.bp")).unwrap()
        + "questions backward points 2, w5_new.value, update points 0.5\nhide x2\n";
    std::fs::write(&spec, text.replace("w5_new.value, ", "")).unwrap();
    let run = bpsheet(&[
        "worksheet",
        spec.to_str().unwrap(),
        "--format",
        "markdown",
        "--key",
        "-o",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let key = read(&dir.join("asked-A-key.md"));
    assert!(
        !key.contains("## Forward pass"),
        "forward values are not asked"
    );
    assert!(key.contains("## Backward pass") && key.contains("## Weight update"));
    assert!(key.contains("(2 pt)") && key.contains("(0.5 pt)"));
    // 21 gradients (10 nodes, 11 parameters) at 2 points, 11 updates at 0.5.
    assert!(
        key.contains("Total 47.5 points"),
        "{}",
        key.lines().take(5).collect::<Vec<_>>().join("\n")
    );
    // Forward values nobody asks for are given; x2 is hidden.
    let sheet = read(&dir.join("asked-A.md"));
    assert!(sheet.contains("a_{11}") && sheet.contains("| node |"));
    assert!(!sheet.contains("| $x_{2}$ |"), "x2 is hidden");
    // An unknown question is an error with a hint.
    std::fs::write(
        &spec,
        std::fs::read_to_string(root().join("worksheets/slides.bp")).unwrap()
            + "questions backwrd\n",
    )
    .unwrap();
    let run = bpsheet(&[
        "worksheet",
        spec.to_str().unwrap(),
        "-o",
        dir.to_str().unwrap(),
        "--force",
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("did you mean `backward`?"),
        "{}",
        run.stderr
    );
    // --templates replaces one template and keeps the others.
    let templates = dir.join("templates");
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::write(
        templates.join("worksheet.md"),
        "Custom sheet for << sheet.title >>, variant << sheet.variant >>.\n",
    )
    .unwrap();
    let out = dir.join("custom");
    let with_templates = |extra: &[&str]| {
        let mut args = vec![
            "worksheet",
            "worksheets/slides.bp",
            "--format",
            "markdown",
            "--templates",
            templates.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        bpsheet(&args)
    };
    let run = with_templates(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        read(&out.join("slides-A.md")),
        "Custom sheet for Backpropagation: forward pass and gradients, variant A.\n"
    );
    // A template that does not parse is a clear error.
    std::fs::write(templates.join("worksheet.md"), "<% if %>\n").unwrap();
    let run = with_templates(&["--force"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("template"), "{}", run.stderr);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn spec_text_cannot_inject_latex_or_markdown() {
    let dir = scratch("inject");
    let spec = dir.join("evil.bp");
    std::fs::write(
        &spec,
        "title \"\\\\input{/etc/passwd} $x$ <script>alert(1)</script> # 50% _ ^ ~ & {}\"\ninput x = 1\ntarget y = 1\nparam w = 0.5\nrate eta = 0.1\nh = w * x\nloss L = 1/2 * (y - h)^2\n",
    )
    .unwrap();
    for format in ["latex", "markdown"] {
        let run = bpsheet(&[
            "worksheet",
            spec.to_str().unwrap(),
            "--format",
            format,
            "--key",
            "-o",
            dir.to_str().unwrap(),
            "--force",
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    let tex = read(&dir.join("evil-A-key.tex"));
    assert!(
        !tex.contains("\\input{"),
        "the title's \\input became a command"
    );
    assert!(tex.contains("\\textbackslash{}input\\{/etc/passwd\\}"));
    let md = read(&dir.join("evil-A-key.md"));
    assert!(!md.contains("<script>"));
    assert!(md.contains("&lt;script&gt;"));
    if available("pdflatex", "compiling a worksheet with a hostile title") {
        let output = Command::new("pdflatex")
            .args([
                "-no-shell-escape",
                "-interaction=nonstopmode",
                "-halt-on-error",
                "evil-A-key.tex",
            ])
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stdout)
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}
