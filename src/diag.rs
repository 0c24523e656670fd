//! Diagnostics: source spans, errors and warnings with hints, and their rendering as
//! `file:line:column` with the offending line and a caret.
//!
//! Every stage collects diagnostics instead of stopping at the first one, so a spec with three
//! mistakes gets three messages. Messages follow one style: lower case, names in backticks, no
//! trailing period.

use std::fmt::Write as _;

/// A byte range into one source text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// The span from `start` to `end` (bytes).
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn join(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// The input cannot be used.
    Error,
    /// The input is usable but probably not what was meant.
    Warning,
}

/// One message about the input, optionally pointing into it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Where in the source; `None` for problems with no single location.
    pub span: Option<Span>,
    /// What is wrong, one line.
    pub message: String,
    /// A short note printed under the caret.
    pub label: Option<String>,
    /// What to do about it.
    pub hints: Vec<String>,
    /// Other places that matter, rendered as `note: TEXT at file:line:col`.
    pub notes: Vec<(Span, String)>,
}

/// A result whose error is a list of diagnostics.
pub type DiagResult<T> = Result<T, Vec<Diagnostic>>;

impl Diagnostic {
    /// An error at `span`.
    pub fn error(span: impl Into<Option<Span>>, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            span: span.into(),
            message: message.into(),
            label: None,
            hints: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// A warning at `span`.
    pub fn warning(span: impl Into<Option<Span>>, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(span, message)
        }
    }

    /// Adds the note printed under the caret.
    pub fn with_label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = Some(label.into());
        self
    }

    /// Adds a hint.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hints.push(hint.into());
        self
    }

    /// Adds a note pointing at another place, e.g. an earlier definition.
    pub fn with_note_at(mut self, span: Span, note: impl Into<String>) -> Diagnostic {
        self.notes.push((span, note.into()));
        self
    }

    /// Whether this diagnostic stops the run.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Returns early with one error diagnostic: `bail!(span, "message {}", x)`.
#[macro_export]
macro_rules! bail {
    ($span:expr, $($fmt:tt)+) => {
        return Err(vec![$crate::diag::Diagnostic::error($span, format!($($fmt)+))])
    };
}

/// A named source text, for rendering diagnostics.
#[derive(Clone, Debug)]
pub struct Source {
    /// The name shown before `:line:column`, usually the path.
    pub name: String,
    /// The whole text.
    pub text: String,
}

impl Source {
    /// A source with the given name and text.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Source {
        Source {
            name: name.into(),
            text: text.into(),
        }
    }

    /// The 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(&self.text, offset.min(self.text.len()));
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = before[line_start..].chars().count() + 1;
        (line, col)
    }

    /// The text of the 1-based line `line`, without its newline.
    pub fn line_text(&self, line: usize) -> &str {
        self.text
            .split('\n')
            .nth(line - 1)
            .unwrap_or("")
            .trim_end_matches('\r')
    }

    /// Renders one diagnostic in the `error: ... --> file:line:col` style.
    pub fn render(&self, diagnostic: &Diagnostic) -> String {
        let mut out = String::new();
        let kind = match diagnostic.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let _ = writeln!(out, "{kind}: {}", diagnostic.message);
        match diagnostic.span {
            Some(span) => self.render_snippet(&mut out, span, diagnostic.label.as_deref()),
            None => {
                let _ = writeln!(out, "  --> {}", self.name);
            }
        }
        for (span, note) in &diagnostic.notes {
            let (line, col) = self.line_col(span.start);
            let _ = writeln!(out, "  = note: {note} at {}:{line}:{col}", self.name);
        }
        for hint in &diagnostic.hints {
            let _ = writeln!(out, "  = hint: {hint}");
        }
        out
    }

    fn render_snippet(&self, out: &mut String, span: Span, label: Option<&str>) {
        let (line, col) = self.line_col(span.start);
        let text = self.line_text(line);
        // A long line is shown as a window around the caret so the report stays readable.
        let (shown, shown_col) = window(text, col);
        let gutter = line.to_string().len();
        let pad = " ".repeat(gutter);
        let _ = writeln!(out, "{pad}--> {}:{line}:{col}", self.name);
        let _ = writeln!(out, "{pad} |");
        let _ = writeln!(out, "{line} | {}", printable(&shown));
        let end_line = self.line_col(span.end.max(span.start)).0;
        let width = if end_line == line && span.end > span.start {
            let end = floor_char_boundary(&self.text, span.end.min(self.text.len()));
            let start = floor_char_boundary(&self.text, span.start.min(self.text.len()));
            self.text[start..end].chars().count().max(1)
        } else {
            1
        };
        let width = width.min(shown.chars().count().saturating_sub(shown_col - 1).max(1));
        let caret = format!("{}{}", " ".repeat(shown_col - 1), "^".repeat(width));
        match label {
            Some(label) => {
                let _ = writeln!(out, "{pad} | {caret} {label}");
            }
            None => {
                let _ = writeln!(out, "{pad} | {caret}");
            }
        }
    }
}

/// Renders every diagnostic of a list, errors and warnings in source order.
pub fn render_all(source: &Source, diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(|d| source.render(d))
        .collect::<Vec<_>>()
        .join("\n")
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// At most this many characters of a source line are shown.
const MAX_SHOWN: usize = 100;

/// Cuts a long line to a window around 1-based column `col`; returns the text and the new column.
fn window(text: &str, col: usize) -> (String, usize) {
    let n_chars = text.chars().count();
    if n_chars <= MAX_SHOWN {
        return (text.to_string(), col.min(n_chars + 1));
    }
    let first = col.saturating_sub(MAX_SHOWN / 2).min(n_chars - MAX_SHOWN);
    let shown: String = text.chars().skip(first).take(MAX_SHOWN).collect();
    let prefix = if first > 0 { "..." } else { "" };
    (format!("{prefix}{shown}..."), col - first + prefix.len())
}

/// Replaces control characters so a hostile input cannot move the terminal cursor.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() && c != '\t' {
                '\u{fffd}'
            } else {
                c
            }
        })
        .map(|c| if c == '\t' { ' ' } else { c })
        .collect()
}

/// The candidate closest to `name` by edit distance, if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (edit_distance(name, c), c))
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, c)| (d, c))
        .map(|(_, c)| c)
}

/// Levenshtein distance in characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_caret_under_span() {
        let source = Source::new("net.bp", "input x = 1\nh = w * x\n");
        let d = Diagnostic::error(Span::new(16, 17), "undefined name `w`")
            .with_label("not defined")
            .with_hint("declare it with `param w = ...`");
        assert_eq!(
            source.render(&d),
            "error: undefined name `w`\n --> net.bp:2:5\n  |\n2 | h = w * x\n  |     ^ not defined\n  = hint: declare it with `param w = ...`\n"
        );
    }

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(did_you_mean("sigmod", ["sigmoid", "tanh"]), Some("sigmoid"));
        assert_eq!(did_you_mean("w7", ["w5", "b_z"]), Some("w5"));
        assert_eq!(did_you_mean("banana", ["sigmoid", "tanh"]), None);
    }

    #[test]
    fn long_lines_are_windowed() {
        let text = format!("{}bad{}", "a ".repeat(200), " b".repeat(200));
        let source = Source::new("x", text);
        let rendered = source.render(&Diagnostic::error(Span::new(400, 403), "here"));
        let caret_line = rendered.lines().nth(4).unwrap();
        let code_line = rendered.lines().nth(3).unwrap();
        let caret_at = caret_line.find('^').unwrap();
        assert_eq!(&code_line[caret_at..caret_at + 3], "bad");
    }
}
