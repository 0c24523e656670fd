//! The command line: clap definitions, one `match` that dispatches, and the mapping of every
//! failure to an exit code (0 success, 1 mistakes found by `check`, 2 unusable input).

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::diag::{Diagnostic, Source, render_all};
use crate::eval::decimal::{Precision, RoundingMode};
use crate::eval::numeric::Rounding;
use crate::pipeline::{self, Loaded};
use crate::render::report::GivenSection;
use crate::render::templates::{Format, Templates};
use crate::worksheet;

/// Generate backpropagation worksheets and answer keys, and check hand derivations, from one
/// network spec.
#[derive(Parser, Debug)]
#[command(name = "bpsheet", version, about, long_about = None, after_help = EXAMPLES)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

const EXAMPLES: &str = "Examples:
  bpsheet derive worksheets/slides.bp
  bpsheet derive worksheets/slides.bp --format json --sig 6
  bpsheet derive worksheets/mlp.bp --seed 7 --decimals 3 --rounded-intermediates
  bpsheet check-spec worksheets/mlp.bp";

#[derive(Subcommand, Debug)]
enum Command {
    /// Derive every gradient of a network by the chain rule and print the forward pass, the
    /// backward pass, the update step and the loss after it.
    #[command(after_help = "Examples:
  bpsheet derive worksheets/slides.bp
  bpsheet derive worksheets/slides.bp --format latex > slides.tex
  bpsheet derive worksheets/mlp.bp --format json --seed 3")]
    Derive(DeriveArgs),
    /// Write student worksheets and answer keys, in randomized variants, as LaTeX (optionally
    /// built into PDF), Markdown (with an SVG of the network) or a Moodle XML quiz.
    #[command(after_help = "Examples:
  bpsheet worksheet worksheets/slides.bp --key -o out/
  bpsheet worksheet worksheets/mlp.bp --variants 5 --seed 42 --key --pdf -o exam/
  bpsheet worksheet worksheets/mlp.bp --format markdown --ask backward,update --decimals 3 -o md/
  bpsheet worksheet worksheets/mlp.bp --format moodle --variants 20 -o moodle/
  bpsheet worksheet worksheets/slides.bp --dump-context")]
    Worksheet(WorksheetArgs),
    /// Check a hand derivation (Markdown with LaTeX math, or a plain answers file) step by
    /// step against the network's true chain rule; or a whole directory of them into a CSV.
    #[command(after_help = "Examples:
  bpsheet check tests/data/check/slides.bp tests/data/check/seed-slides.md
  bpsheet check worksheets/slides.bp answers.txt --format json
  bpsheet check worksheets/slides.bp submissions/ --csv grades.csv --reports feedback/

Exit codes: 0 everything right, 1 mistakes found, 2 unusable input.")]
    Check(CheckArgs),
    /// Check a spec (syntax, names, cycles, values) without computing anything.
    #[command(after_help = "Example:\n  bpsheet check-spec worksheets/slides.bp")]
    CheckSpec(CheckSpecArgs),
}

#[derive(Args, Debug)]
struct CheckArgs {
    /// The network spec (.bp file); values it leaves out are taken from the submission.
    spec: PathBuf,
    /// A submission file, or a directory of them (.md, .txt, .tex).
    submission: PathBuf,
    /// Output format for one submission.
    #[arg(long, value_enum, default_value = "text")]
    format: CheckFormat,
    /// Round expected values in messages to N decimals.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=30))]
    decimals: Option<u32>,
    /// With a directory: write one row per submission here.
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
    /// With a directory: write each student's Markdown report here.
    #[arg(long, value_name = "DIR")]
    reports: Option<PathBuf>,
    /// Overwrite existing CSV and report files.
    #[arg(long)]
    force: bool,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum CheckFormat {
    Text,
    Json,
    Markdown,
}

#[derive(Args, Debug)]
struct WorksheetArgs {
    /// The network spec (.bp file).
    spec: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "latex")]
    format: SheetFormat,
    /// Also write an answer key for each variant and one combined key.
    #[arg(long)]
    key: bool,
    /// How many distinct variants to draw from the spec's ranges (labelled A, B, C, ...).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    variants: u32,
    /// The base seed (overrides the spec's `seed`); each variant records its own.
    #[arg(long)]
    seed: Option<u64>,
    #[command(flatten)]
    numbers: NumberArgs,
    /// What to ask, overriding the spec's `questions`: forward, backward, update, loss_after, a
    /// name (its gradient) or NAME.value, comma separated.
    #[arg(long, value_name = "LIST")]
    ask: Option<String>,
    /// Points per question where the spec's `questions` block gives none.
    #[arg(long, default_value = "1", value_name = "N")]
    points: String,
    /// A directory whose templates replace the built-in ones of the same name.
    #[arg(long, value_name = "DIR")]
    templates: Option<PathBuf>,
    /// Where to write the files.
    #[arg(short = 'o', long = "output", value_name = "DIR", default_value = ".")]
    output: PathBuf,
    /// Also build PDFs from the LaTeX files with pdflatex (never with shell escape).
    #[arg(long)]
    pdf: bool,
    /// Overwrite files that already exist.
    #[arg(long)]
    force: bool,
    /// Print the template context of the first variant's key as JSON, and write nothing.
    #[arg(long)]
    dump_context: bool,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum SheetFormat {
    Latex,
    Markdown,
    Moodle,
}

/// How printed numbers are rounded.
#[derive(Args, Debug, Clone)]
pub struct NumberArgs {
    /// Round to N digits after the decimal point.
    #[arg(long, value_name = "N", conflicts_with = "sig", value_parser = clap::value_parser!(u32).range(0..=1000))]
    decimals: Option<u32>,
    /// Round to N significant figures (default 4; 15 for JSON).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    sig: Option<u32>,
    /// How ties are rounded: half-up (away from zero, the school rule) or half-even.
    #[arg(long, value_enum, default_value = "half-up")]
    rounding: RoundingArg,
    /// Also work the example the way a student with a calculator does, rounding every
    /// intermediate to the printed precision, and say where that changes an answer.
    #[arg(long)]
    rounded_intermediates: bool,
}

#[derive(ValueEnum, Debug, Clone, Copy)]
enum RoundingArg {
    HalfUp,
    HalfEven,
}

#[derive(Args, Debug)]
struct DeriveArgs {
    /// The network spec (.bp file).
    spec: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: DeriveFormat,
    #[command(flatten)]
    numbers: NumberArgs,
    /// Seed for values drawn from ranges (overrides the spec's `seed`).
    #[arg(long)]
    seed: Option<u64>,
    /// Also report the gradients of `const` quantities (given, not trained).
    #[arg(long)]
    const_gradients: bool,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum DeriveFormat {
    Text,
    Json,
    Markdown,
    Latex,
}

#[derive(Args, Debug)]
struct CheckSpecArgs {
    /// The network spec (.bp file).
    spec: PathBuf,
    /// Seed for values drawn from ranges.
    #[arg(long)]
    seed: Option<u64>,
}

impl NumberArgs {
    /// The rounding these flags ask for, with `default` significant figures when none is given.
    pub fn rounding(&self, default_sig: u32) -> Rounding {
        let precision = match (self.decimals, self.sig) {
            (Some(n), _) => Precision::Decimals(n),
            (None, Some(n)) => Precision::Significant(n),
            (None, None) => Precision::Significant(default_sig),
        };
        let mode = match self.rounding {
            RoundingArg::HalfUp => RoundingMode::HalfUp,
            RoundingArg::HalfEven => RoundingMode::HalfEven,
        };
        Rounding { precision, mode }
    }
}

/// Why a command stopped.
#[derive(Debug)]
pub enum Exit {
    /// Unusable input (exit code 2); the message is already rendered.
    User(String),
    /// The command ran and found mistakes (exit code 1).
    Mistakes,
    /// The reader of standard output closed it (`bpsheet derive ... | head`): not an error
    /// (exit code 0, nothing printed).
    ClosedPipe,
}

impl Exit {
    /// The process exit code.
    pub fn code(&self) -> i32 {
        match self {
            Exit::User(_) => 2,
            Exit::Mistakes => 1,
            Exit::ClosedPipe => 0,
        }
    }
}

/// Renders diagnostics of a source as a user error.
pub fn user_error(source: &Source, diagnostics: &[Diagnostic]) -> Exit {
    Exit::User(render_all(source, diagnostics))
}

/// Runs the command line; output goes to `out`, diagnostics and warnings to `err`.
pub fn run(
    args: impl IntoIterator<Item = OsString>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            let code = if error.use_stderr() { 2 } else { 0 };
            let text = error.render().to_string();
            let _ = if code == 0 {
                out.write_all(text.as_bytes())
            } else {
                err.write_all(text.as_bytes())
            };
            return code;
        }
    };
    let result = match cli.command {
        Command::Derive(args) => derive(&args, out, err),
        Command::Worksheet(args) => worksheet(&args, out, err),
        Command::Check(args) => check(&args, out),
        Command::CheckSpec(args) => check_spec(&args, out, err),
    };
    match result {
        Ok(()) => 0,
        Err(exit) => {
            if let Exit::User(message) = &exit {
                let _ = err.write_all(message.as_bytes());
            }
            exit.code()
        }
    }
}

fn io_error(action: &str, path: &Path, error: &std::io::Error) -> Exit {
    Exit::User(format!(
        "error: cannot {action} `{}`: {error}\n",
        path.display()
    ))
}

fn write_out(out: &mut dyn Write, text: &str) -> Result<(), Exit> {
    out.write_all(text.as_bytes()).map_err(stdout_error)
}

/// A failed write to standard output as an exit.
fn stdout_error(error: std::io::Error) -> Exit {
    if error.kind() == std::io::ErrorKind::BrokenPipe {
        Exit::ClosedPipe
    } else {
        io_error("write", Path::new("standard output"), &error)
    }
}

/// Notes found while evaluating (the spec's own warnings are printed before).
fn print_notes(loaded: &Loaded, warnings: &[String], err: &mut dyn Write) {
    for note in warnings.iter().skip(loaded.network.warnings.len()) {
        let _ = writeln!(err, "note: {note}");
    }
}

fn print_warnings(loaded: &Loaded, err: &mut dyn Write) {
    if !loaded.network.warnings.is_empty() {
        let _ = err.write_all(render_all(&loaded.source, &loaded.network.warnings).as_bytes());
    }
}

fn derive(args: &DeriveArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<(), Exit> {
    let loaded = pipeline::load(&args.spec, args.seed)?;
    print_warnings(&loaded, err);
    let json = args.format == DeriveFormat::Json;
    let rounding = args.numbers.rounding(if json { 15 } else { 4 });
    if json && !args.numbers.rounded_intermediates {
        // Written as it is built: a report may be hundreds of megabytes. The given values need
        // only the spec: written on a spare core while the derivation runs.
        let (given, evaluated) = crate::parallel::beside(
            || GivenSection::write(&loaded.network, rounding, false),
            || pipeline::evaluated(&loaded, rounding),
        );
        let (mut derivation, decided, warnings) = evaluated?;
        print_notes(&loaded, &warnings, err);
        let builder = pipeline::builder(
            &loaded,
            &mut derivation,
            &decided,
            rounding,
            false,
            args.const_gradients,
        );
        let mut writer = std::io::BufWriter::with_capacity(1 << 16, &mut *out);
        let written = builder
            .write_json(&given, warnings, &mut writer)
            .and_then(|()| writer.write_all(b"\n"))
            .and_then(|()| writer.flush())
            .map_err(stdout_error);
        // The process exits next: freeing a large network's million small allocations one by
        // one would take a tenth of a second and return nothing the exit does not.
        std::mem::forget((derivation, decided, loaded));
        return written;
    }
    let latex = matches!(args.format, DeriveFormat::Markdown | DeriveFormat::Latex);
    let report = pipeline::report(
        &loaded,
        rounding,
        args.numbers.rounded_intermediates,
        latex,
        args.const_gradients,
    )?;
    print_notes(&loaded, &report.warnings, err);
    let text = match args.format {
        DeriveFormat::Json => serde_json::to_string(&report).expect("a report serializes") + "\n",
        DeriveFormat::Text => Templates::builtin().render(Format::Text, "derive", &report)?,
        DeriveFormat::Markdown => {
            Templates::builtin().render(Format::Markdown, "derive", &report)?
        }
        DeriveFormat::Latex => Templates::builtin().render(Format::Latex, "derive", &report)?,
    };
    write_out(out, &text)
}

fn worksheet(args: &WorksheetArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<(), Exit> {
    let loaded = pipeline::load(&args.spec, args.seed)?;
    print_warnings(&loaded, err);
    if args.pdf && args.format != SheetFormat::Latex {
        return Err(Exit::User(
            "error: `--pdf` works with `--format latex` only\n".into(),
        ));
    }
    let points = crate::render::number::parse_points(&args.points).ok_or_else(|| {
        Exit::User(format!(
            "error: `--points {}` is not a non-negative number\n",
            args.points
        ))
    })?;
    let options = worksheet::Options {
        format: match args.format {
            SheetFormat::Latex => Format::Latex,
            SheetFormat::Markdown => Format::Markdown,
            SheetFormat::Moodle => Format::Moodle,
        },
        key: args.key,
        variants: args.variants as usize,
        rounding: args.numbers.rounding(4),
        calculator: args.numbers.rounded_intermediates,
        templates: args.templates.clone(),
        out_dir: args.output.clone(),
        force: args.force,
        ask: args.ask.clone(),
        points,
    };
    let generated = worksheet::generate(&loaded, &args.spec, &options)?;
    if args.dump_context {
        return write_out(out, &worksheet::dump_context(&generated));
    }
    worksheet::write(&generated, options.force)?;
    let mut written: Vec<String> = generated
        .files
        .iter()
        .map(|f| f.path.display().to_string())
        .collect();
    if args.pdf {
        let pdfs = worksheet::build_pdfs(&generated.files)?;
        written.extend(pdfs.iter().map(|p| p.display().to_string()));
    }
    let _ = err.write_all(generated.summary.as_bytes());
    write_out(out, &(written.join("\n") + "\n"))
}

/// Reads a submission, whatever it holds: too large is refused, invalid UTF-8 is decoded with
/// replacement characters (which the reader reports as unreadable where they matter).
fn read_submission(path: &Path) -> Result<String, String> {
    let metadata =
        std::fs::metadata(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    if metadata.len() > pipeline::MAX_SPEC_BYTES {
        return Err(format!(
            "`{}` is {} bytes; bpsheet reads submissions of at most {} bytes",
            path.display(),
            metadata.len(),
            pipeline::MAX_SPEC_BYTES
        ));
    }
    let bytes =
        std::fs::read(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn check(args: &CheckArgs, out: &mut dyn Write) -> Result<(), Exit> {
    let loaded = pipeline::load(&args.spec, None)?;
    let derivation = pipeline::derivation(&loaded)?;
    let templates = Templates::builtin();
    if args.submission.is_dir() {
        return check_directory(args, &loaded, &derivation, &templates, out);
    }
    if args.csv.is_some() || args.reports.is_some() {
        return Err(Exit::User(
            "error: `--csv` and `--reports` go with a directory of submissions\n".into(),
        ));
    }
    let text =
        read_submission(&args.submission).map_err(|e| Exit::User(format!("error: {e}\n")))?;
    let name = args.submission.display().to_string();
    let grounds = crate::check::judge::Grounds::new(&loaded.network, &derivation);
    let report = crate::check::check(
        &loaded.network,
        &derivation,
        &grounds,
        &text,
        &name,
        args.decimals,
    );
    let rendered = match args.format {
        CheckFormat::Json => serde_json::to_string(&report).expect("a report serializes") + "\n",
        CheckFormat::Text => templates.render(Format::Text, "check", &report)?,
        CheckFormat::Markdown => templates.render(Format::Markdown, "check", &report)?,
    };
    write_out(out, &rendered)?;
    if report.has_mistakes() {
        Err(Exit::Mistakes)
    } else {
        Ok(())
    }
}

fn check_directory(
    args: &CheckArgs,
    loaded: &pipeline::Loaded,
    derivation: &crate::symbolic::backprop::Derivation,
    templates: &Templates,
    out: &mut dyn Write,
) -> Result<(), Exit> {
    let files = crate::check::batch::submissions(&args.submission)
        .map_err(|e| io_error("read", &args.submission, &e))?;
    if files.is_empty() {
        return Err(Exit::User(format!(
            "error: `{}` holds no submissions (.md, .txt, .tex files)\n",
            args.submission.display()
        )));
    }
    let results = crate::check::batch::check_all(
        &loaded.network,
        derivation,
        &files,
        &read_submission,
        args.decimals,
    );
    let named: Vec<(String, Result<crate::check::findings::CheckReport, String>)> = files
        .iter()
        .map(|f| {
            f.file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
        })
        .zip(results)
        .collect();
    let mut questions: Vec<String> = Vec::new();
    for (_, result) in &named {
        for (question, _) in result.as_ref().map_or(&[][..], |r| r.questions.as_slice()) {
            if !questions.contains(question) {
                questions.push(question.clone());
            }
        }
    }
    let mut files_out = Vec::new();
    if let Some(csv) = &args.csv {
        files_out.push(crate::output::OutputFile::text(
            csv.clone(),
            crate::check::batch::csv(&questions, &named),
        ));
    }
    if let Some(dir) = &args.reports {
        for (name, result) in &named {
            if let Ok(report) = result {
                let stem = Path::new(name)
                    .file_stem()
                    .map_or_else(|| name.clone(), |s| s.to_string_lossy().into_owned());
                files_out.push(crate::output::OutputFile::text(
                    dir.join(format!("{stem}.md")),
                    templates.render(Format::Markdown, "check", report)?,
                ));
            }
        }
    }
    crate::output::write_all(&files_out, args.force)?;
    let mut summary = String::new();
    let mut mistakes = false;
    for (name, result) in &named {
        match result {
            Ok(report) => {
                mistakes |= report.has_mistakes();
                summary.push_str(&format!(
                    "{name}: {} of {} steps right, score {:.1}\n",
                    report.credited, report.total, report.score
                ));
            }
            Err(reason) => {
                mistakes = true;
                summary.push_str(&format!("{name}: not checked: {reason}\n"));
            }
        }
    }
    write_out(out, &summary)?;
    if mistakes {
        Err(Exit::Mistakes)
    } else {
        Ok(())
    }
}

fn check_spec(args: &CheckSpecArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<(), Exit> {
    let loaded = pipeline::load(&args.spec, args.seed)?;
    print_warnings(&loaded, err);
    pipeline::derivation(&loaded)?;
    let network = &loaded.network;
    let n_params = network.params().count();
    write_out(
        out,
        &format!(
            "{}: ok ({} equations, {} parameters, loss `{}`)\n",
            args.spec.display(),
            network.equations.len(),
            n_params,
            network.name(network.loss)
        ),
    )
}
