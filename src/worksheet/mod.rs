//! Worksheets and answer keys: the questions asked, the variants drawn, the sheets built and
//! rendered through the templates into files (LaTeX, Markdown with an SVG of the network, or
//! Moodle XML).

pub mod questions;
pub mod sheet;
pub mod variants;

use std::path::{Path, PathBuf};
use std::process::Command;

use num_rational::BigRational;
use serde::Serialize;

use crate::cli::Exit;
use crate::eval::numeric::Rounding;
use crate::output::{OutputFile, write_all};
use crate::pipeline::{self, Loaded};
use crate::render::diagram::Diagram;
use crate::render::templates::{Format, Templates};
use sheet::Sheet;
use variants::{Plan, Variant};

/// What the `worksheet` command was asked for.
pub struct Options {
    /// LaTeX, Markdown or Moodle XML.
    pub format: Format,
    /// Also write answer keys (one per variant and one combined).
    pub key: bool,
    /// How many variants.
    pub variants: usize,
    /// How numbers are rounded.
    pub rounding: Rounding,
    /// Also give the calculator-route answers on keys.
    pub calculator: bool,
    /// A directory of templates overriding the built-in ones.
    pub templates: Option<PathBuf>,
    /// Where the files go.
    pub out_dir: PathBuf,
    /// Overwrite existing files.
    pub force: bool,
    /// `--ask`, overriding the spec's `questions`.
    pub ask: Option<String>,
    /// Points per question when the spec does not say.
    pub points: BigRational,
}

/// The data a worksheet template sees.
#[derive(Serialize)]
pub struct Context<'a> {
    /// The variant's sheet.
    pub sheet: &'a Sheet,
    /// Whether this is an answer key.
    pub key: bool,
    /// The network as TikZ (for LaTeX).
    pub tikz: &'a str,
    /// The file name of the network's SVG picture (for Markdown), relative to the sheet.
    pub svg_file: &'a str,
}

/// The data the combined-key template sees.
#[derive(Serialize)]
pub struct CombinedContext<'a> {
    /// Every variant's sheet.
    pub sheets: &'a [Sheet],
    /// The network as TikZ.
    pub tikz: &'a str,
    /// The SVG file name.
    pub svg_file: &'a str,
}

/// What a run produced.
pub struct Generated {
    /// The files, not yet written.
    pub files: Vec<OutputFile>,
    /// One line per variant and the rejections, for the terminal.
    pub summary: String,
    /// The sheets, for `--dump-context`.
    pub sheets: Vec<Sheet>,
    /// The TikZ picture.
    pub tikz: String,
    /// The SVG file name.
    pub svg_file: String,
}

/// Draws the variants and renders every file.
pub fn generate(loaded: &Loaded, spec_path: &Path, options: &Options) -> Result<Generated, Exit> {
    let mut derivation = pipeline::derivation(loaded)?;
    // The spec's own report: missing values and values where the network is undefined get
    // their precise diagnostics here, and the questions resolve against it (every variant has
    // the same structure).
    let first = pipeline::report(loaded, options.rounding, false, false, false)?;
    let question_specs = match &options.ask {
        Some(ask) => questions::from_flag(ask),
        None if loaded.network.questions.is_empty() => {
            questions::from_flag(&questions::DEFAULT.join(","))
        }
        None => loaded.network.questions.clone(),
    };
    let asked = questions::resolve(&loaded.network, &first, &question_specs, &options.points)
        .map_err(|d| crate::cli::user_error(&loaded.source, &[d]))?;
    if asked.is_empty() {
        return Err(Exit::User("error: the worksheet asks no questions\n  = hint: ask `forward`, `backward`, `update` or `loss_after`\n".into()));
    }
    let templates = Templates::load(options.templates.as_deref())?;

    let mut plan = Plan {
        network: &loaded.network,
        derivation: &mut derivation,
        rounding: options.rounding,
        calculator: options.calculator,
        asked: &asked,
    };
    let (drawn, rejections) = variants::draw(&mut plan, options.variants)
        .map_err(|message| Exit::User(format!("error: {message}\n")))?;
    let diagram = Diagram::new(&loaded.network, &mut derivation);
    let tikz = diagram.tikz();
    let stem = spec_path
        .file_stem()
        .map_or("worksheet".into(), |s| s.to_string_lossy().into_owned());
    let svg_file = format!("{stem}-network.svg");

    let sheets: Vec<Sheet> = drawn
        .iter()
        .map(
            |Variant {
                 label,
                 network,
                 report,
                 ..
             }| sheet::build(network, report, &asked, label.clone()),
        )
        .collect();
    let mut files = Vec::new();
    let path = |name: String| options.out_dir.join(name);
    match options.format {
        Format::Moodle => {
            let text = templates.render(
                Format::Moodle,
                "moodle",
                &CombinedContext {
                    sheets: &sheets,
                    tikz: &tikz,
                    svg_file: &svg_file,
                },
            )?;
            files.push(OutputFile::text(path(format!("{stem}-moodle.xml")), text));
        }
        format => {
            let extension = format.extension();
            for sheet in &sheets {
                // One context per sheet, rendered as the student's and as the key.
                let student = Context {
                    sheet,
                    key: false,
                    tikz: &tikz,
                    svg_file: &svg_file,
                };
                let mut context = tera::Context::from_serialize(&student)
                    .map_err(|e| Exit::User(format!("error: the template context: {e}\n")))?;
                files.push(OutputFile::text(
                    path(format!("{stem}-{}.{extension}", sheet.variant)),
                    templates.render_context(format, "worksheet", &context)?,
                ));
                if options.key {
                    context.insert("key", &true);
                    files.push(OutputFile::text(
                        path(format!("{stem}-{}-key.{extension}", sheet.variant)),
                        templates.render_context(format, "worksheet", &context)?,
                    ));
                }
            }
            // With one variant the combined key would repeat that variant's key.
            if options.key && sheets.len() > 1 {
                let combined = CombinedContext {
                    sheets: &sheets,
                    tikz: &tikz,
                    svg_file: &svg_file,
                };
                files.push(OutputFile::text(
                    path(format!("{stem}-key.{extension}")),
                    templates.render(format, "key-all", &combined)?,
                ));
            }
            if format == Format::Markdown {
                files.push(OutputFile::text(path(svg_file.clone()), diagram.svg()));
            }
        }
    }
    let mut summary: Vec<String> = drawn
        .iter()
        .map(|v| format!("variant {}: seed {}", v.label, v.seed))
        .collect();
    if rejections.total() > 0 {
        summary.push(format!("draws {}", rejections.describe()));
    }
    Ok(Generated {
        files,
        summary: summary.join("\n") + "\n",
        sheets,
        tikz,
        svg_file,
    })
}

/// Runs pdflatex (never with shell escape) on each LaTeX file written; errors name what to
/// install when pdflatex is missing, and quote pdflatex's own error line when a file fails.
pub fn build_pdfs(files: &[OutputFile]) -> Result<Vec<PathBuf>, Exit> {
    let tex_files: Vec<&Path> = files
        .iter()
        .map(|f| f.path.as_path())
        .filter(|p| p.extension().is_some_and(|e| e == "tex"))
        .collect();
    if tex_files.is_empty() {
        return Ok(Vec::new());
    }
    if Command::new("pdflatex").arg("--version").output().is_err() {
        return Err(Exit::User(
            "error: `--pdf` needs pdflatex, which is not installed\n  = hint: install TeX Live, e.g. `apt-get install texlive-latex-base texlive-pictures` on Debian or Ubuntu\n".into(),
        ));
    }
    let mut pdfs = Vec::new();
    for tex in tex_files {
        let dir = tex
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let name = tex.file_name().expect("a file name");
        let output = Command::new("pdflatex")
            .args([
                "-no-shell-escape",
                "-interaction=nonstopmode",
                "-halt-on-error",
            ])
            .arg(name)
            .current_dir(dir)
            .output()
            .map_err(|e| Exit::User(format!("error: cannot run pdflatex: {e}\n")))?;
        if !output.status.success() {
            let log = String::from_utf8_lossy(&output.stdout);
            let first_error = log
                .lines()
                .find(|l| l.starts_with('!'))
                .unwrap_or("(see the .log file)");
            return Err(Exit::User(format!(
                "error: pdflatex failed on `{}`: {first_error}\n",
                tex.display()
            )));
        }
        for extension in ["aux", "log"] {
            let _ = std::fs::remove_file(tex.with_extension(extension));
        }
        pdfs.push(tex.with_extension("pdf"));
    }
    Ok(pdfs)
}

/// The context JSON `--dump-context` prints: the first variant's key, as templates see it.
pub fn dump_context(generated: &Generated) -> String {
    let context = Context {
        sheet: &generated.sheets[0],
        key: true,
        tikz: &generated.tikz,
        svg_file: &generated.svg_file,
    };
    serde_json::to_string_pretty(&context).expect("a context serializes") + "\n"
}

/// Writes the generated files (refusing to clobber without `force`).
pub fn write(generated: &Generated, force: bool) -> Result<(), Exit> {
    write_all(&generated.files, force)
}
