//! tera templates: the built-in ones from `templates/` (embedded in the binary) and overrides from
//! a directory, with escaping for each output format so that text from a spec or a submission
//! can never become markup.
//!
//! All templates use the delimiters `<% %>` (blocks), `<< >>` (values) and `<# #>` (comments),
//! because LaTeX is full of `{{` and `{#`. Values are escaped for the template's format unless
//! passed through `| safe`, which the built-in templates do only for math that bpsheet itself
//! rendered.

use std::io::Write;
use std::path::Path;

use serde::Serialize;
use tera::{Context, Delimiters, Tera};

use crate::cli::Exit;

/// An output format, with its own escaping.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// Plain text (no escaping).
    Text,
    /// Markdown with `$...$` math for KaTeX.
    Markdown,
    /// LaTeX for pdflatex.
    Latex,
    /// Moodle XML.
    Moodle,
}

impl Format {
    /// The file extension, which is also the template name suffix.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Text => "txt",
            Format::Markdown => "md",
            Format::Latex => "tex",
            Format::Moodle => "xml",
        }
    }

    fn escape(self) -> Option<tera::EscapeFn> {
        match self {
            Format::Text => None,
            Format::Markdown => Some(escape_markdown),
            Format::Latex => Some(escape_latex),
            Format::Moodle => Some(escape_xml),
        }
    }
}

/// The built-in templates: (name, text). Names are `stem.extension`.
const BUILTIN: &[(&str, &str)] = &[
    ("derive.txt", include_str!("../../templates/derive.txt")),
    ("check.txt", include_str!("../../templates/check.txt")),
    ("check.md", include_str!("../../templates/check.md")),
    ("derive.md", include_str!("../../templates/derive.md")),
    ("derive.tex", include_str!("../../templates/derive.tex")),
    (
        "worksheet.tex",
        include_str!("../../templates/worksheet.tex"),
    ),
    ("key-all.tex", include_str!("../../templates/key-all.tex")),
    (
        "sheet-preamble.tex",
        include_str!("../../templates/sheet-preamble.tex"),
    ),
    (
        "sheet-given.tex",
        include_str!("../../templates/sheet-given.tex"),
    ),
    (
        "sheet-answer.tex",
        include_str!("../../templates/sheet-answer.tex"),
    ),
    ("worksheet.md", include_str!("../../templates/worksheet.md")),
    ("key-all.md", include_str!("../../templates/key-all.md")),
    (
        "sheet-given.md",
        include_str!("../../templates/sheet-given.md"),
    ),
    (
        "sheet-answer.md",
        include_str!("../../templates/sheet-answer.md"),
    ),
    ("moodle.xml", include_str!("../../templates/moodle.xml")),
];

/// One tera instance per format (the escape function is per instance).
pub struct Templates {
    engines: Vec<(Format, Tera)>,
}

const FORMATS: [Format; 4] = [
    Format::Text,
    Format::Markdown,
    Format::Latex,
    Format::Moodle,
];

impl Templates {
    /// The built-in templates.
    pub fn builtin() -> Templates {
        Templates::load(None).expect("the built-in templates are valid")
    }

    /// The built-in templates, each replaced by a file of the same name in `dir` if there is one.
    pub fn load(dir: Option<&Path>) -> Result<Templates, Exit> {
        let mut engines = Vec::new();
        for format in FORMATS {
            let mut tera = Tera::new();
            tera.set_delimiters(Delimiters {
                block_start: "<%".into(),
                block_end: "%>".into(),
                variable_start: "<<".into(),
                variable_end: ">>".into(),
                comment_start: "<#".into(),
                comment_end: "#>".into(),
            })
            .expect("valid delimiters");
            let suffix = format!(".{}", format.extension());
            // Added together, so that templates can include each other in any order.
            let mut sources = Vec::new();
            for (name, builtin) in BUILTIN.iter().filter(|(name, _)| name.ends_with(&suffix)) {
                let text = match dir.map(|d| d.join(name)).filter(|p| p.is_file()) {
                    Some(path) => crate::pipeline::read_text(&path)?,
                    None => builtin.to_string(),
                };
                sources.push((*name, text));
            }
            tera.add_raw_templates(sources).map_err(|e| {
                Exit::User(format!(
                    "error: a {} template does not parse: {}\n",
                    format.extension(),
                    error_chain(&e)
                ))
            })?;
            match format.escape() {
                Some(escape) => {
                    tera.set_escape_fn(escape);
                    tera.autoescape_on([suffix]);
                }
                None => tera.autoescape_on(Vec::<&str>::new()),
            }
            engines.push((format, tera));
        }
        Ok(Templates { engines })
    }

    /// Renders template `stem.ext` of a format with `data` as its context.
    pub fn render(
        &self,
        format: Format,
        stem: &str,
        data: &impl Serialize,
    ) -> Result<String, Exit> {
        let context = Context::from_serialize(data)
            .map_err(|e| Exit::User(format!("error: {}\n", error_chain(&e))))?;
        self.render_context(format, stem, &context)
    }

    /// Renders template `stem.ext` with a context built already (to render one context in
    /// several ways without converting it again).
    pub fn render_context(
        &self,
        format: Format,
        stem: &str,
        context: &Context,
    ) -> Result<String, Exit> {
        let name = format!("{stem}.{}", format.extension());
        let tera = &self
            .engines
            .iter()
            .find(|(f, _)| *f == format)
            .expect("every format has an engine")
            .1;
        tera.render(&name, context).map_err(|e| {
            Exit::User(format!(
                "error: template `{name}` failed: {}\n",
                error_chain(&e)
            ))
        })
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

/// Escapes text for LaTeX: every special character becomes its text command, control
/// characters are dropped, so `\input{/etc/passwd}` prints as those characters.
pub fn escape_latex(input: &str, output: &mut dyn Write) -> std::io::Result<()> {
    for c in input.chars() {
        let replacement = match c {
            '\\' => "\\textbackslash{}",
            '{' => "\\{",
            '}' => "\\}",
            '$' => "\\$",
            '&' => "\\&",
            '#' => "\\#",
            '%' => "\\%",
            '_' => "\\_",
            '^' => "\\textasciicircum{}",
            '~' => "\\textasciitilde{}",
            '<' => "\\textless{}",
            '>' => "\\textgreater{}",
            '|' => "\\textbar{}",
            '"' => "\\textquotedbl{}",
            '\n' | '\r' | '\t' => " ",
            c if c.is_control() => "",
            c => {
                let mut buffer = [0; 4];
                output.write_all(c.encode_utf8(&mut buffer).as_bytes())?;
                continue;
            }
        };
        output.write_all(replacement.as_bytes())?;
    }
    Ok(())
}

/// Escapes text for Markdown rendered with KaTeX: Markdown and HTML specials are backslashed
/// or turned into entities, and `$` cannot open math.
pub fn escape_markdown(input: &str, output: &mut dyn Write) -> std::io::Result<()> {
    for c in input.chars() {
        match c {
            '<' => output.write_all(b"&lt;")?,
            '>' => output.write_all(b"&gt;")?,
            '&' => output.write_all(b"&amp;")?,
            // Punctuation that formats, links or opens math anywhere in a line; `.`, `-`, `+`,
            // `!` and parentheses only matter at a line's start, where bpsheet never puts a value.
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '#' | '|' | '$' | '~' => {
                output.write_all(b"\\")?;
                output.write_all(&[c as u8])?;
            }
            '\n' | '\r' | '\t' => output.write_all(b" ")?,
            c if c.is_control() => {}
            c => {
                let mut buffer = [0; 4];
                output.write_all(c.encode_utf8(&mut buffer).as_bytes())?;
            }
        }
    }
    Ok(())
}

/// Escapes text for XML.
pub fn escape_xml(input: &str, output: &mut dyn Write) -> std::io::Result<()> {
    for c in input.chars() {
        match c {
            '<' => output.write_all(b"&lt;")?,
            '>' => output.write_all(b"&gt;")?,
            '&' => output.write_all(b"&amp;")?,
            '"' => output.write_all(b"&quot;")?,
            '\'' => output.write_all(b"&apos;")?,
            '\n' | '\t' => output.write_all(&[c as u8])?,
            c if c.is_control() => {}
            c => {
                let mut buffer = [0; 4];
                output.write_all(c.encode_utf8(&mut buffer).as_bytes())?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(f: tera::EscapeFn, input: &str) -> String {
        let mut out = Vec::new();
        f(input, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn latex_escaping_neutralizes_commands() {
        let text = escaped(escape_latex, "\\input{/etc/passwd} 50% $x$ #1 a_b ^~");
        assert_eq!(
            text,
            "\\textbackslash{}input\\{/etc/passwd\\} 50\\% \\$x\\$ \\#1 a\\_b \\textasciicircum{}\\textasciitilde{}"
        );
        assert!(!text.contains("\\input"));
    }

    #[test]
    fn markdown_escaping_neutralizes_math_and_html() {
        let text = escaped(escape_markdown, "<script>$\\alert$ *x*");
        assert_eq!(text, "&lt;script&gt;\\$\\\\alert\\$ \\*x\\*");
    }
}
