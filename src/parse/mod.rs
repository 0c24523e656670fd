//! Parsing: spec text to [`ast::Spec`](crate::ast::Spec), with one diagnostic per bad statement.
//!
//! Owns the whole trip from text to AST:
//! 1. refuse absurd inputs up front (size);
//! 2. split the text into statements ([`Split`]): a newline ends a statement except inside
//!    `(...)` or `[...]`; comments and blank lines go; bracket balance, bracket depth and
//!    unterminated strings are checked here, before pest sees anything, because pest is
//!    recursive and a deep input must not reach it;
//! 3. parse each statement with the pest grammar (`grammar/spec.pest`) on its own, so one bad
//!    line yields one message and the rest still parse;
//! 4. turn pest failures into human messages ("expected a name, found `=`") with hints for the
//!    usual slips ([`syntax_error`]);
//! 5. lower the pairs to the AST (`lower`).

mod grammar;
mod lower;

use std::num::NonZeroUsize;
use std::sync::Once;

use pest::Parser as _;
use pest::error::{ErrorVariant, InputLocation};

use crate::ast::{Item, Spec};
use crate::diag::{DiagResult, Diagnostic, Span, did_you_mean};
use grammar::{Rule, SpecParser};
use lower::{abbreviate, code_point};

/// Largest spec accepted, in bytes.
pub const MAX_SPEC_BYTES: usize = 4 * 1024 * 1024;
/// Deepest bracket nesting accepted.
pub const MAX_NESTING: usize = 256;
/// After this many errors the parser stops reporting (the rest are likely consequences of one
/// mistake, or the file is not a spec at all).
pub const MAX_ERRORS: usize = 100;

/// Budget of pest calls for one statement: a backstop against runaway backtracking, not a limit
/// a spec should ever meet. The grammar's choices are settled within a token or two (a call that
/// fails falls back to just its name), so its work is linear in the statement; measured, it
/// needs at most about 35 calls per byte (deep brackets; long sums need about 20). The budget
/// admits any statement that fits in the largest accepted spec and stops a runaway after a few
/// seconds of an optimized build. pest's setting is process-wide (read when a parse starts), so
/// it is one fixed budget rather than one sized to each statement, which would race between
/// threads.
const CALL_LIMIT: usize = 64 * MAX_SPEC_BYTES;

/// The statement keywords. They cannot be used as names.
pub const KEYWORDS: &[&str] = &[
    "title",
    "input",
    "param",
    "target",
    "const",
    "rate",
    "inputs",
    "targets",
    "weights",
    "biases",
    "latex",
    "mlp",
    "loss",
    "seed",
    "questions",
    "hide",
    "allow",
];

/// Parses a whole spec. Collects every syntax error (one per bad statement), never panics.
///
/// Spans in the result and in the diagnostics are byte offsets into `text`. Reporting stops after
/// [`MAX_ERRORS`] errors. Absurd inputs get an error, not a crash: see the limits in
/// `docs/spec-language.md`. An expression tree in the result may be up to 65,536 levels deep (a
/// long `a + b + c + ...` chain is as deep as it is long), so code that walks one recursively,
/// including the derived `Drop`, needs stack in proportion; the main thread has enough to drop
/// the deepest.
pub fn parse(text: &str) -> DiagResult<Spec> {
    if text.len() > MAX_SPEC_BYTES {
        return Err(vec![
            Diagnostic::error(
                None,
                format!(
                    "spec is too large: {} bytes (at most {} MiB)",
                    text.len(),
                    MAX_SPEC_BYTES / (1024 * 1024)
                ),
            )
            .with_hint("a spec is a short text file; is this the right file?"),
        ]);
    }
    // The limit is process-wide in pest; every parser of this crate wants the same one.
    static CALL_LIMIT_SET: Once = Once::new();
    CALL_LIMIT_SET.call_once(|| pest::set_call_limit(NonZeroUsize::new(CALL_LIMIT)));

    let mut items = Vec::new();
    let mut errors = Vec::new();
    // Statements are cut out one at a time, so a file of garbage stops costing at the cap.
    for piece in Split::new(text) {
        if errors.len() == MAX_ERRORS {
            errors.push(
                Diagnostic::error(None, format!("too many errors; stopped after {MAX_ERRORS}"))
                    .with_hint("fix the errors above and run again"),
            );
            break;
        }
        let result = match piece.problem {
            Some(problem) => Err(problem),
            None => parse_statement(&text[piece.start..piece.end], piece.start),
        };
        match result {
            Ok(item) => items.push(item),
            Err(d) => errors.push(d),
        }
    }
    if errors.is_empty() {
        Ok(Spec { items })
    } else {
        // The good statements are thrown away; a long chain among them is deep.
        lower::discard(items);
        Err(errors)
    }
}

/// Parses and lowers one statement, `stmt`, which starts at byte `offset` of the spec.
fn parse_statement(stmt: &str, offset: usize) -> Result<Item, Diagnostic> {
    match SpecParser::parse(Rule::statement, stmt) {
        Ok(pairs) => lower::lower_statement(pairs, stmt, offset),
        Err(error) => Err(syntax_error(&error, stmt, offset)),
    }
}

// ---------------------------------------------------------------------------------------------
// Statement splitting

/// One statement's place in the text, or why it could not be cut out cleanly.
#[derive(Debug)]
struct Piece {
    /// First byte of the statement (never whitespace).
    start: usize,
    /// One past its last byte (trailing spaces and comment cut off).
    end: usize,
    /// A bracket or string problem found while splitting; the statement is not parsed then.
    problem: Option<Diagnostic>,
}

/// Splits a spec into statements, one at a time: a newline ends a statement unless a `(` or `[`
/// is open; `#` starts a comment (outside strings); blank lines are skipped.
///
/// Checks what pest must not be left to find: bracket balance (with the opening bracket as the
/// culprit when one is never closed) and depth (at most [`MAX_NESTING`]), and unterminated
/// strings. An open bracket does not swallow the rest of the file: if the next line looks like a
/// new statement, the bracket is reported as unclosed and splitting resumes there.
///
/// Linear in the text: every byte is looked at a bounded number of times.
struct Split<'t> {
    text: &'t str,
    /// Where scanning resumes.
    i: usize,
    /// The 1-based line of `i`, for messages that mention a second place.
    line: usize,
}

impl<'t> Split<'t> {
    fn new(text: &'t str) -> Split<'t> {
        // A byte-order mark from a Windows editor is not part of the spec.
        let i = if text.starts_with('\u{feff}') { 3 } else { 0 };
        Split { text, i, line: 1 }
    }
}

impl Iterator for Split<'_> {
    type Item = Piece;

    fn next(&mut self) -> Option<Piece> {
        let text = self.text;
        let bytes = text.as_bytes();
        let mut i = self.i;
        // Skip blank space, blank lines and whole-line comments.
        while i < bytes.len() {
            match bytes[i] {
                b'\n' => {
                    self.line += 1;
                    i += 1;
                }
                b' ' | b'\t' | b'\r' => i += 1,
                b'#' => i = line_end(bytes, i),
                _ => break,
            }
        }
        if i >= bytes.len() {
            self.i = i;
            return None;
        }
        let start = i;
        let mut end = i;
        // Open brackets as (byte, offset, line), up to MAX_NESTING; deeper ones are only
        // counted.
        let mut open: Vec<(u8, usize, usize)> = Vec::new();
        let mut too_deep = 0usize;
        let mut problem: Option<Diagnostic> = None;
        while i < bytes.len() {
            match bytes[i] {
                b'\n' => {
                    if open.is_empty() && too_deep == 0 {
                        break;
                    }
                    if starts_statement(text, i + 1) {
                        // The bracket was left open and the author moved on.
                        if let Some(&(b, at, _)) = open.last() {
                            problem.get_or_insert_with(|| unclosed(b, at));
                        }
                        break;
                    }
                    self.line += 1;
                    i += 1;
                }
                b'#' => i = line_end(bytes, i),
                b'"' => {
                    let (close, closed) = string_end(bytes, i);
                    if !closed {
                        problem.get_or_insert_with(|| {
                            Diagnostic::error(Span::new(i, i + 1), "unterminated string")
                                .with_label("this `\"` is never closed")
                                .with_hint("close the string with `\"` on the same line")
                        });
                        end = trim_end(bytes, i, close);
                        i = close;
                        // The string ate the rest of the line; so does the statement.
                        open.clear();
                        break;
                    }
                    i = close;
                    end = i;
                }
                b @ (b'(' | b'[') => {
                    if open.len() < MAX_NESTING {
                        open.push((b, i, self.line));
                    } else {
                        if too_deep == 0 {
                            problem.get_or_insert_with(|| {
                                Diagnostic::error(
                                    Span::new(i, i + 1),
                                    format!(
                                        "brackets nested too deeply (more than {MAX_NESTING} levels)"
                                    ),
                                )
                                .with_label("too deep")
                                .with_hint("split the expression into several equations")
                            });
                        }
                        too_deep += 1;
                    }
                    i += 1;
                    end = i;
                }
                b @ (b')' | b']') => {
                    if too_deep > 0 {
                        too_deep -= 1;
                    } else {
                        match open.pop() {
                            Some((o, at, line)) if o != opening(b) => {
                                problem.get_or_insert_with(|| mismatched(text, b, i, o, at, line));
                            }
                            Some(_) => {}
                            None => {
                                problem.get_or_insert_with(|| {
                                    Diagnostic::error(
                                        Span::new(i, i + 1),
                                        format!("unmatched `{}`", b as char),
                                    )
                                    .with_label(format!("no `{}` before it", opening(b) as char))
                                    .with_hint(format!(
                                        "remove it, or add the missing `{}`",
                                        opening(b) as char
                                    ))
                                });
                            }
                        }
                    }
                    i += 1;
                    end = i;
                }
                b' ' | b'\t' | b'\r' => i += 1,
                _ => {
                    i += 1;
                    end = i;
                }
            }
        }
        if i >= bytes.len()
            && let Some(&(b, at, _)) = open.last()
        {
            problem.get_or_insert_with(|| unclosed(b, at));
        }
        self.i = i;
        Some(Piece {
            start,
            end,
            problem,
        })
    }
}

/// The offset of the `\n` ending the line that contains `i` (or the end of the text).
fn line_end(bytes: &[u8], i: usize) -> usize {
    bytes[i..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |n| i + n)
}

/// Scans the string opening at `i`; returns one past its closing quote and `true`, or the end of
/// the line and `false` when it is never closed.
fn string_end(bytes: &[u8], i: usize) -> (usize, bool) {
    let mut j = i + 1;
    while j < bytes.len() {
        match bytes[j] {
            b'"' => return (j + 1, true),
            b'\n' => return (j, false),
            b'\\' if bytes.get(j + 1).is_some_and(|&b| b != b'\n') => j += 2,
            _ => j += 1,
        }
    }
    (bytes.len(), false)
}

/// `end` moved back over trailing spaces, tabs and `\r`, but not before `start`.
fn trim_end(bytes: &[u8], start: usize, mut end: usize) -> usize {
    while end > start && matches!(bytes[end - 1], b' ' | b'\t' | b'\r') {
        end -= 1;
    }
    end
}

/// Whether the line starting at `i` reads like the start of a statement: a keyword, or
/// `name =`, or `name, name, ... =`. Inside brackets neither can occur, so such a line means a
/// bracket above was left open. A blank line says no; the next line is asked at its own newline,
/// which keeps splitting linear however many blank lines there are.
fn starts_statement(text: &str, i: usize) -> bool {
    let bytes = text.as_bytes();
    let skip_blank = |mut j: usize| {
        while j < bytes.len() && matches!(bytes[j], b' ' | b'\t') {
            j += 1;
        }
        j
    };
    let i = skip_blank(i);
    let word = |j: usize| {
        let len = bytes[j..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
            .count();
        if bytes.get(j).is_some_and(u8::is_ascii_alphabetic) {
            len
        } else {
            0
        }
    };
    let first = word(i);
    if first == 0 {
        return false;
    }
    if KEYWORDS.contains(&&text[i..i + first]) {
        return true;
    }
    let mut j = skip_blank(i + first);
    while bytes.get(j) == Some(&b',') {
        j = skip_blank(j + 1);
        let n = word(j);
        if n == 0 {
            return false;
        }
        j = skip_blank(j + n);
    }
    bytes.get(j) == Some(&b'=') && bytes.get(j + 1) != Some(&b'=')
}

/// The opening bracket that `close` closes.
fn opening(close: u8) -> u8 {
    if close == b')' { b'(' } else { b'[' }
}

/// The closing bracket for `open`.
fn closing(open: u8) -> u8 {
    if open == b'(' { b')' } else { b']' }
}

fn unclosed(open: u8, at: usize) -> Diagnostic {
    Diagnostic::error(
        Span::new(at, at + 1),
        format!("unclosed `{}`", open as char),
    )
    .with_label("this bracket is never closed")
    .with_hint(format!("add the matching `{}`", closing(open) as char))
}

fn mismatched(
    text: &str,
    close: u8,
    at: usize,
    open: u8,
    open_at: usize,
    line: usize,
) -> Diagnostic {
    // Only the column is counted here, within its line, so the cost does not grow with the file.
    let line_start = text[..open_at].rfind('\n').map_or(0, |n| n + 1);
    let col = text[line_start..open_at].chars().count() + 1;
    Diagnostic::error(
        Span::new(at, at + 1),
        format!("mismatched `{}`", close as char),
    )
    .with_label(format!("expected `{}`", closing(open) as char))
    .with_hint(format!(
        "the `{}` at line {line}, column {col} is closed by `{}`",
        open as char, close as char
    ))
}

// ---------------------------------------------------------------------------------------------
// Error conversion

/// What stands at the failing position, for "found ..." and for the span.
struct Found<'t> {
    /// Length in bytes of the offending token (0 at the end of the statement).
    len: usize,
    /// How it is named in the message.
    desc: String,
    /// The token's text (empty at the end).
    text: &'t str,
    kind: FoundKind,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum FoundKind {
    End,
    Word,
    Number,
    Str,
    Other,
}

impl<'t> Found<'t> {
    fn at(stmt: &'t str, pos: usize) -> Found<'t> {
        let rest = &stmt[pos..];
        let Some(c) = rest.chars().next() else {
            return Found {
                len: 0,
                desc: "end of line".into(),
                text: "",
                kind: FoundKind::End,
            };
        };
        let bytes = rest.as_bytes();
        let ident_len = || {
            bytes
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                .count()
        };
        let (len, kind) = if c.is_ascii_alphabetic() || c == '_' {
            (ident_len(), FoundKind::Word)
        } else if c.is_ascii_digit() || (c == '.' && bytes.get(1).is_some_and(u8::is_ascii_digit)) {
            (number_len(bytes), FoundKind::Number)
        } else if c == '"' {
            (string_end(bytes, 0).0, FoundKind::Str)
        } else if ["**", "->", "==", "!=", "<=", ">=", "//"]
            .iter()
            .any(|op| rest.starts_with(op))
        {
            (2, FoundKind::Other)
        } else {
            (c.len_utf8(), FoundKind::Other)
        };
        let text = &rest[..len];
        let desc = match c {
            '\0' => format!("a NUL character ({})", code_point(c)),
            _ if c.is_control() => format!("a control character ({})", code_point(c)),
            _ if is_invisible(c) => format!("an invisible character ({})", code_point(c)),
            _ if c.is_whitespace() => format!("a non-ASCII space ({})", code_point(c)),
            _ if kind == FoundKind::Str => "a string".into(),
            _ => format!("`{}`", abbreviate(text)),
        };
        Found {
            len,
            desc,
            text,
            kind,
        }
    }
}

/// Length of the number-like token at the start of `bytes`: digits, points and an exponent.
fn number_len(bytes: &[u8]) -> usize {
    let mut n = 0;
    while n < bytes.len() {
        match bytes[n] {
            b'0'..=b'9' | b'.' => n += 1,
            b'e' | b'E' => {
                let sign = usize::from(matches!(bytes.get(n + 1), Some(b'+' | b'-')));
                if bytes.get(n + 1 + sign).is_some_and(u8::is_ascii_digit) {
                    n += 1 + sign;
                } else {
                    break;
                }
            }
            _ => break,
        }
    }
    n
}

/// Characters an editor usually does not show: zero-width ones, bidirectional controls and a
/// stray byte-order mark. Worth naming, since the user cannot see them.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{feff}'
    )
}

/// What the user is told was expected, in the order the message lists it.
const PHRASES: &[&str] = &[
    "a statement",
    "a name",
    "a value",
    "an expression",
    "a number",
    "a whole number",
    "a layer width",
    "a number of points",
    "a string in double quotes",
    "an operator",
    "`uniform(...)`",
    "`choice(...)`",
    "`step`",
    "`points`",
    "`=`",
    "`,`",
    "`(`",
    "`)`",
    "`[`",
    "`]`",
    "`->`",
    "end of line",
];

/// The friendly name of a grammar rule when it is what was expected.
fn phrase(rule: Rule) -> &'static str {
    match rule {
        Rule::EOI => "end of line",
        Rule::name => "a name",
        Rule::value => "a value",
        Rule::expr | Rule::operand | Rule::exponent | Rule::call | Rule::paren | Rule::neg => {
            "an expression"
        }
        Rule::literal | Rule::signed_number | Rule::denominator | Rule::number => "a number",
        Rule::seed_number => "a whole number",
        Rule::width | Rule::layer => "a layer width",
        Rule::points_number => "a number of points",
        Rule::string | Rule::string_inner => "a string in double quotes",
        Rule::bin_op | Rule::pow_op => "an operator",
        Rule::uniform | Rule::kw_uniform => "`uniform(...)`",
        Rule::choice | Rule::kw_choice => "`choice(...)`",
        Rule::kw_step => "`step`",
        Rule::kw_points => "`points`",
        Rule::question => "a name",
        Rule::eq => "`=`",
        Rule::comma => "`,`",
        Rule::lparen => "`(`",
        Rule::rparen => "`)`",
        Rule::lbracket => "`[`",
        Rule::rbracket => "`]`",
        Rule::arrow => "`->`",
        // After a complete number `/` could continue it as a fraction, but listing that in
        // every "expected" after a value is noise.
        Rule::slash => "",
        // Statements, statement keywords and the like: only ever expected at the start.
        _ => "a statement",
    }
}

/// "a", "a or b", "a, b or c".
fn or_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// An example of each keyword's statement, for hints.
fn usage(keyword: &str) -> &'static str {
    match keyword {
        "title" => "`title \"A 2-3-2 network\"`",
        "input" => "`input x1 = 0.5`",
        "param" => "`param w1 = 0.1`",
        "target" => "`target y = 1`",
        "const" => "`const c = 2`",
        "rate" => "`rate eta = 0.01`",
        "inputs" => "`inputs x = [0.5, -0.25]`",
        "targets" => "`targets y = [0, 1]`",
        "weights" => "`weights = uniform(-0.5, 0.5, step 0.01)`",
        "biases" => "`biases = 0`",
        "latex" => "`latex w5 = \"w^{(2)}_{11}\"`",
        "mlp" => "`mlp 2 -> 3 tanh -> 1 sigmoid`",
        "loss" => "`loss L = 1/2 * (y - y_pred)^2` or `loss half_squared_error`",
        "seed" => "`seed 42`",
        "questions" => "`questions forward, backward points 2`",
        "hide" => "`hide x1, w2`",
        _ => "`allow dead_relu`",
    }
}

/// The identifier at the very start of `text`, if any.
fn leading_word(text: &str) -> Option<&str> {
    let len = text
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
        .count();
    (text.as_bytes().first().is_some_and(u8::is_ascii_alphabetic)).then(|| &text[..len])
}

/// Turns a pest failure on statement `stmt` (at byte `offset` of the spec) into one diagnostic:
/// "expected <friendly names>, found <token>" with hints, or a more pointed message for the
/// usual slips.
fn syntax_error(error: &pest::error::Error<Rule>, stmt: &str, offset: usize) -> Diagnostic {
    let positives = match &error.variant {
        ErrorVariant::ParsingError { positives, .. } => positives,
        // pest's own limits (call budget, stack) are the only custom errors it raises.
        ErrorVariant::CustomError { .. } => {
            return Diagnostic::error(
                Span::new(offset, offset + stmt.len()),
                "statement is too complex to parse",
            )
            .with_hint("split it into several shorter equations");
        }
    };
    let pos = match error.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((p, _)) => p,
    }
    .min(stmt.len());
    let failure = Failure::new(stmt, offset, pos, positives);
    failure
        .star_star()
        .or_else(|| failure.keyword_as_name())
        .or_else(|| failure.name_missing_after_keyword())
        .or_else(|| failure.unknown_keyword_or_missing_eq())
        .unwrap_or_else(|| failure.expected_found())
}

/// A pest failure in one statement, with what the messages need to know about it.
struct Failure<'t> {
    stmt: &'t str,
    /// Where the statement starts in the spec.
    offset: usize,
    /// Where it failed, in the statement.
    pos: usize,
    found: Found<'t>,
    /// Friendly names of what was expected, deduplicated, in [`PHRASES`] order.
    expected: Vec<&'static str>,
    /// The word the statement starts with, if it starts with one.
    first: Option<&'t str>,
    /// That word, if it is a keyword.
    keyword: Option<&'t str>,
    /// Whether the failure is at the statement's second token.
    at_second: bool,
}

impl<'t> Failure<'t> {
    fn new(stmt: &'t str, offset: usize, pos: usize, positives: &[Rule]) -> Failure<'t> {
        let mut expected: Vec<&'static str> = Vec::new();
        for rule in positives {
            let p = phrase(*rule);
            if !p.is_empty() && !expected.contains(&p) {
                expected.push(p);
            }
        }
        expected.sort_by_key(|p| PHRASES.iter().position(|q| q == p));
        // After a name, `(` is expected because it might be a call; next to an operator that
        // is noise. Where an expression may start, its first tokens are noise too.
        if expected.contains(&"an operator") {
            expected.retain(|p| *p != "`(`");
        }
        if expected.contains(&"an expression") {
            expected.retain(|p| !matches!(*p, "a name" | "a number" | "`(`"));
        }
        let first = leading_word(stmt);
        let at_second = first.is_some_and(|w| {
            let rest = &stmt[w.len()..];
            pos == w.len() + (rest.len() - rest.trim_start_matches([' ', '\t']).len())
        });
        Failure {
            stmt,
            offset,
            pos,
            found: Found::at(stmt, pos),
            expected,
            first,
            keyword: first.filter(|w| KEYWORDS.contains(w)),
            at_second,
        }
    }

    /// A span given in bytes of the statement.
    fn span(&self, start: usize, len: usize) -> Span {
        Span::new(self.offset + start, self.offset + start + len)
    }

    /// The span of the offending token.
    fn here(&self) -> Span {
        self.span(self.pos, self.found.len)
    }

    fn expects(&self, phrase: &str) -> bool {
        self.expected.contains(&phrase)
    }

    /// The character before the failure.
    fn prev(&self) -> Option<char> {
        self.stmt[..self.pos].chars().next_back()
    }

    /// `x**2`
    fn star_star(&self) -> Option<Diagnostic> {
        let start = if self.found.text.starts_with("**") {
            self.pos
        } else if self.found.text == "*" && self.prev() == Some('*') {
            self.pos - 1
        } else {
            return None;
        };
        Some(
            Diagnostic::error(self.span(start, 2), "`**` is not an operator")
                .with_hint("use `^` for powers, e.g. `x^2`"),
        )
    }

    /// `loss = 3`, `rate = x` (a keyword where a node name was meant), and `h = rate * x`,
    /// `hide x, loss` (a keyword in the middle of a statement).
    fn keyword_as_name(&self) -> Option<Diagnostic> {
        if let Some(k) = self.keyword
            && self.at_second
            && self.found.text == "="
            && !matches!(k, "weights" | "biases")
        {
            return Some(
                Diagnostic::error(
                    self.span(0, k.len()),
                    format!("`{k}` is a keyword and cannot be used as a name"),
                )
                .with_label("keyword")
                .with_hint(format!("the `{k}` statement reads {}", usage(k)))
                .with_hint(format!(
                    "to define a node, choose another name, such as `{k}_1`"
                )),
            );
        }
        let word = self.found.text;
        if self.found.kind == FoundKind::Word
            && KEYWORDS.contains(&word)
            && (self.expects("a name") || self.expects("an expression"))
        {
            return Some(
                Diagnostic::error(
                    self.here(),
                    format!("`{word}` is a keyword and cannot be used as a name"),
                )
                .with_label("keyword")
                .with_hint(format!("choose another name, such as `{word}_1`")),
            );
        }
        None
    }

    /// `param`, `param 3`: the name after a keyword is missing.
    fn name_missing_after_keyword(&self) -> Option<Diagnostic> {
        let k = self
            .keyword
            .filter(|_| self.at_second && self.expects("a name"))?;
        Some(
            Diagnostic::error(
                self.here(),
                format!("expected a name after `{k}`, found {}", self.found.desc),
            )
            .with_hint(format!("the `{k}` statement reads {}", usage(k))),
        )
    }

    /// `parm w1 = 0.1`, `h11 b_h11 + w1*x1`: a line that starts with a plain word and goes
    /// wrong right after it is either a misspelled keyword or an equation without its `=`.
    fn unknown_keyword_or_missing_eq(&self) -> Option<Diagnostic> {
        let w = self.first?;
        if self.keyword.is_some() || !self.at_second || !self.expects("`=`") {
            return None;
        }
        let unknown = || Diagnostic::error(self.span(0, w.len()), format!("unknown keyword `{w}`"));
        let wordlike = matches!(
            self.found.kind,
            FoundKind::Word | FoundKind::Number | FoundKind::Str
        );
        if wordlike {
            let lower = w.to_ascii_lowercase();
            if KEYWORDS.contains(&lower.as_str()) {
                return Some(unknown().with_hint(format!("keywords are lower case: `{lower}`")));
            }
            // A close spelling, or a longer or shorter form (`parameter`, `inp`).
            let suggestion = did_you_mean(w, KEYWORDS.iter().copied()).or_else(|| {
                KEYWORDS
                    .iter()
                    .copied()
                    .filter(|k| w.len() >= 3 && (w.starts_with(k) || k.starts_with(w)))
                    .max_by_key(|k| k.len())
            });
            if let Some(k) = suggestion {
                return Some(unknown().with_hint(format!("did you mean `{k}`?")));
            }
            if self.stmt[self.pos..].contains('=') {
                return Some(unknown().with_hint(
                    "a statement starts with a keyword such as `input`, `param`, `target`, \
                     `const`, `rate` or `mlp`, or reads `name = expression`",
                ));
            }
        }
        let d = match self.found.kind {
            FoundKind::Other => return None,
            FoundKind::End => Diagnostic::error(
                self.here(),
                format!("expected `=` after `{w}`, found end of line"),
            ),
            _ => Diagnostic::error(self.here(), format!("missing `=` after `{w}`"))
                .with_label("expected `=` before this"),
        };
        Some(d.with_hint("an equation reads `name = expression`"))
    }

    /// The general message, "expected X, found Y", with hints.
    fn expected_found(&self) -> Diagnostic {
        let message = if self.expected.is_empty() {
            format!("unexpected {}", self.found.desc)
        } else {
            format!(
                "expected {}, found {}",
                or_list(&self.expected),
                self.found.desc
            )
        };
        let mut d = Diagnostic::error(self.here(), message);
        d.hints = self.hints();
        d
    }

    /// Hints for the usual slips, most specific first.
    fn hints(&self) -> Vec<String> {
        let (stmt, pos, found) = (self.stmt, self.pos, &self.found);
        let prev = self.prev();
        let mut hints: Vec<String> = Vec::new();
        let mut hint = |h: String| hints.push(h);

        // `0,3`
        if found.text == ","
            && !self.expects("`,`")
            && prev.is_some_and(|c| c.is_ascii_digit())
            && stmt[pos + 1..].starts_with(|c: char| c.is_ascii_digit())
        {
            let before = stmt[..pos]
                .trim_end_matches(|c: char| c.is_ascii_digit())
                .len();
            let after = pos + 1 + number_len(&stmt.as_bytes()[pos + 1..]);
            hint(format!(
                "use a decimal point, not a comma: `{}.{}`",
                &stmt[before..pos],
                &stmt[pos + 1..after]
            ));
        }
        // Inside `uniform(` or `choice(`, say what the whole form looks like.
        let inside = |form: &str| {
            stmt[..pos]
                .rfind(form)
                .is_some_and(|open| !stmt[open..pos].contains(')'))
        };
        if self.expects("`step`") || inside("uniform(") {
            hint("write `uniform(low, high, step s)`, e.g. `uniform(-0.5, 0.5, step 0.01)`".into());
        } else if found.text == ")" && stmt[..pos].trim_end().ends_with("choice(") {
            hint("`choice` needs at least one value, e.g. `choice(0.1, 0.2)`".into());
        } else if inside("choice(") {
            hint("write `choice(v1, v2, ...)` with numbers, e.g. `choice(0.1, 0.2)`".into());
        }
        if self.expects("`[`") {
            hint("write the values in brackets, e.g. `[0.5, -0.25]`".into());
        }
        if self.expects("a value") {
            if found.text == "]" {
                hint("a vector needs at least one value, e.g. `[0.5, -0.25]`".into());
            } else if found.kind == FoundKind::End && self.keyword.is_some_and(is_decl_keyword) {
                hint("give a value such as `0.5`, or leave out `=` to leave the value open".into());
            } else if found.kind == FoundKind::Word {
                hint(
                    "a value is a number such as `0.5` or `-1/3`, `uniform(low, high, step s)` \
                     or `choice(a, b, ...)`; to compute a value from others, write an equation"
                        .into(),
                );
            } else if found.text == "-" || found.text == "+" {
                hint("write the sign next to the number, e.g. `-0.5`".into());
            }
        }
        if found.text == "^" && self.expects("an operator") {
            hint("powers do not chain; add parentheses, e.g. `(x^2)^3`".into());
        }
        // `2x`
        if found.kind == FoundKind::Word
            && prev.is_some_and(|c| c.is_ascii_digit() || c == '.')
            && self.expects("an operator")
        {
            let number = stmt[..pos].trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
            hint(format!(
                "write `*` for a product: `{}*{}`",
                &stmt[number.len()..pos],
                found.text
            ));
        }
        // `1.`
        if found.text == "." && prev.is_some_and(|c| c.is_ascii_digit()) {
            hint("write digits after the decimal point, e.g. `1.0`, or leave the point out".into());
        }
        if self.expects("a string in double quotes") {
            if found.text == "=" && self.keyword == Some("title") {
                hint("no `=` here: write `title \"text\"`".into());
            } else if found.kind != FoundKind::End {
                hint("put the text in double quotes, e.g. `\"A 2-3-2 network\"`".into());
            }
        }
        // `p1, p2 = z`: a group of names is defined only by one function call.
        if is_group(stmt) && stmt[..pos].contains('=') {
            hint(
                "several names are defined by one function call, e.g. \
                 `p1, p2 = softmax(z1, z2)`"
                    .into(),
            );
        }
        if let Some(c) = stmt[pos..].chars().next() {
            if !c.is_ascii() && c.is_alphabetic() {
                hint("names use ASCII letters, digits and `_` only".into());
            } else if is_invisible(c) {
                hint("delete it; most editors do not show it".into());
            } else if !c.is_ascii() && c.is_whitespace() {
                hint("replace it with an ordinary space".into());
            }
        }
        // Fallbacks, when nothing more specific was said.
        if hints.is_empty() && self.expects("`=`") && found.kind != FoundKind::End {
            hints.push(format!("is a `=` missing before {}?", found.desc));
        }
        if hints.is_empty() && self.expects("a statement") {
            hints.push(
                "a statement starts with a keyword such as `param`, or reads \
                 `name = expression`"
                    .into(),
            );
        }
        if hints.is_empty()
            && let Some(k) = self.keyword
        {
            // Show what a whole statement of this kind looks like.
            hints.push(format!("the `{k}` statement reads {}", usage(k)));
        }
        hints
    }
}

/// Whether `stmt` starts like a group equation: `name, name`.
fn is_group(stmt: &str) -> bool {
    leading_word(stmt).is_some_and(|w| stmt[w.len()..].trim_start().starts_with(','))
}

/// Whether `keyword` declares one value (`input x = ...` and the like).
fn is_decl_keyword(keyword: &str) -> bool {
    matches!(keyword, "input" | "param" | "target" | "const" | "rate")
}

#[cfg(test)]
mod tests {
    //! Data-driven tests over `tests/data/parse/{ok,err}`, plus generated inputs too large or
    //! too odd to store. `UPDATE_GOLDEN=1 cargo test` rewrites the expected files (review the
    //! diff by eye before committing).

    use std::fmt::Write as _;
    use std::fs;
    use std::path::{Path, PathBuf};
    use std::time::{Duration, Instant};

    use super::*;
    use crate::ast::{BinOp, Expr, LossBody, Number, ValueSpec};
    use crate::diag::{Source, render_all};

    // -----------------------------------------------------------------------------------------
    // The AST dump: one line per statement, `line:col-line:col (s-expression)`.

    fn dump(text: &str, spec: &Spec) -> String {
        let source = Source::new("", text);
        let mut out = String::new();
        for item in &spec.items {
            let span = item.span();
            let (l1, c1) = source.line_col(span.start);
            let (l2, c2) = source.line_col(span.end);
            let _ = writeln!(out, "{l1}:{c1}-{l2}:{c2} {}", item_sexp(item));
        }
        out
    }

    /// `0.3=3/10`; just `12` when the text is the value; quoted when the text has spaces.
    fn num(n: &Number) -> String {
        let value = n.value.to_string();
        if n.text == value {
            value
        } else if n.text.contains(char::is_whitespace) {
            format!("'{}'={value}", n.text)
        } else {
            format!("{}={value}", n.text)
        }
    }

    fn value_sexp(v: &ValueSpec) -> String {
        match v {
            ValueSpec::Literal(n) => num(n),
            ValueSpec::Uniform {
                low, high, step, ..
            } => {
                format!("(uniform {} {} step {})", num(low), num(high), num(step))
            }
            ValueSpec::Choice { options, .. } => {
                format!(
                    "(choice {})",
                    options.iter().map(num).collect::<Vec<_>>().join(" ")
                )
            }
        }
    }

    fn expr_sexp(e: &Expr) -> String {
        match e {
            Expr::Num(n) => num(n),
            Expr::Var(i) => i.name.clone(),
            Expr::Neg { operand, .. } => format!("(- {})", expr_sexp(operand)),
            Expr::Binary { op, lhs, rhs, .. } => {
                let op = match op {
                    BinOp::Add => "+",
                    BinOp::Sub => "-",
                    BinOp::Mul => "*",
                    BinOp::Div => "/",
                };
                format!("({op} {} {})", expr_sexp(lhs), expr_sexp(rhs))
            }
            Expr::Pow { base, exponent, .. } => {
                format!("(^ {} {})", expr_sexp(base), num(exponent))
            }
            Expr::Call { func, args, .. } => call_sexp(&func.name, args),
        }
    }

    fn call_sexp(func: &str, args: &[Expr]) -> String {
        let mut out = format!("({func}");
        for a in args {
            out.push(' ');
            out.push_str(&expr_sexp(a));
        }
        out.push(')');
        out
    }

    fn item_sexp(item: &Item) -> String {
        let names = |ids: &[crate::ast::Ident]| {
            ids.iter()
                .map(|i| i.name.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        };
        match item {
            Item::Title { text, .. } => format!("(title {text:?})"),
            Item::Decl {
                kind, name, value, ..
            } => match value {
                Some(v) => format!("({} {} {})", kind.keyword(), name.name, value_sexp(v)),
                None => format!("({} {})", kind.keyword(), name.name),
            },
            Item::VecDecl {
                kind,
                prefix,
                values,
                ..
            } => format!(
                "({}s {} [{}])",
                kind.keyword(),
                prefix.name,
                values.iter().map(value_sexp).collect::<Vec<_>>().join(" ")
            ),
            Item::Weights { value, .. } => format!("(weights {})", value_sexp(value)),
            Item::Biases { value, .. } => format!("(biases {})", value_sexp(value)),
            Item::Latex { name, latex, .. } => format!("(latex {} {latex:?})", name.name),
            Item::Equation { name, expr, .. } => format!("(= {} {})", name.name, expr_sexp(expr)),
            Item::GroupEquation {
                names: ids,
                func,
                args,
                ..
            } => format!("(= ({}) {})", names(ids), call_sexp(&func.name, args)),
            Item::Mlp { inputs, layers, .. } => {
                let mut out = format!("(mlp {}", num(inputs));
                for layer in layers {
                    match &layer.activation {
                        Some(a) => {
                            let _ = write!(out, " ({} {})", num(&layer.units), a.name);
                        }
                        None => {
                            let _ = write!(out, " ({})", num(&layer.units));
                        }
                    }
                }
                out + ")"
            }
            Item::Loss { name, body, .. } => match (name, body) {
                (Some(n), LossBody::Expr(e)) => format!("(loss {} = {})", n.name, expr_sexp(e)),
                (None, LossBody::Named(i)) => format!("(loss {})", i.name),
                (n, b) => format!("(loss ?? {n:?} {b:?})"),
            },
            Item::Seed { value, .. } => format!("(seed {})", num(value)),
            Item::Questions { questions, .. } => {
                let mut out = "(questions".to_string();
                for q in questions {
                    match &q.points {
                        Some(p) => {
                            let _ = write!(out, " ({} points {})", q.target.name, num(p));
                        }
                        None => {
                            let _ = write!(out, " {}", q.target.name);
                        }
                    }
                }
                out + ")"
            }
            Item::Hide { names: ids, .. } => format!("(hide {})", names(ids)),
            Item::Allow { what, .. } => format!("(allow {})", what.name),
        }
    }

    // -----------------------------------------------------------------------------------------
    // Invariants checked on every parsed file

    /// Every span slices to what it claims: a name to the name, a number to its text, an item
    /// or compound expression to trimmed text.
    fn check_spans(text: &str, spec: &Spec) -> Vec<String> {
        let mut problems = Vec::new();
        let slice = |span: Span, what: &str, problems: &mut Vec<String>| -> Option<&str> {
            let got = text
                .get(span.start..span.end)
                .filter(|_| span.start < span.end);
            if got.is_none() {
                problems.push(format!("{what}: bad span {span:?}"));
            }
            got
        };
        let mut idents = Vec::new();
        let mut numbers = Vec::new();
        let mut exprs: Vec<&Expr> = Vec::new();
        let mut compound = Vec::new();
        for item in &spec.items {
            compound.push((item.span(), "item"));
            match item {
                Item::Decl { name, value, .. } => {
                    idents.push(name);
                    numbers.extend(value.iter().flat_map(value_numbers));
                }
                Item::VecDecl { prefix, values, .. } => {
                    idents.push(prefix);
                    numbers.extend(values.iter().flat_map(value_numbers));
                }
                Item::Weights { value, .. } | Item::Biases { value, .. } => {
                    numbers.extend(value_numbers(value));
                }
                Item::Latex { name, .. } => idents.push(name),
                Item::Equation { name, expr, .. } => {
                    idents.push(name);
                    exprs.push(expr);
                }
                Item::GroupEquation {
                    names, func, args, ..
                } => {
                    idents.extend(names);
                    idents.push(func);
                    exprs.extend(args);
                }
                Item::Mlp { inputs, layers, .. } => {
                    numbers.push(inputs);
                    for layer in layers {
                        numbers.push(&layer.units);
                        idents.extend(&layer.activation);
                        compound.push((layer.span, "layer"));
                    }
                }
                Item::Loss { name, body, .. } => {
                    idents.extend(name);
                    match body {
                        LossBody::Expr(e) => exprs.push(e),
                        LossBody::Named(i) => idents.push(i),
                    }
                }
                Item::Seed { value, .. } => numbers.push(value),
                Item::Questions { questions, .. } => {
                    for q in questions {
                        idents.push(&q.target);
                        numbers.extend(&q.points);
                    }
                }
                Item::Hide { names, .. } => idents.extend(names),
                Item::Allow { what, .. } => idents.push(what),
                Item::Title { .. } => {}
            }
        }
        while let Some(e) = exprs.pop() {
            match e {
                Expr::Num(n) => numbers.push(n),
                Expr::Var(i) => idents.push(i),
                Expr::Neg { operand, span } => {
                    compound.push((*span, "negation"));
                    if !text[span.start..].starts_with('-') || operand.span().end > span.end {
                        problems.push(format!("negation span {span:?}"));
                    }
                    exprs.push(operand);
                }
                Expr::Binary { lhs, rhs, span, .. } => {
                    compound.push((*span, "binary"));
                    if lhs.span().start < span.start || rhs.span().end > span.end {
                        problems.push(format!("binary span {span:?} does not cover its operands"));
                    }
                    exprs.push(lhs);
                    exprs.push(rhs);
                }
                Expr::Pow {
                    base,
                    exponent,
                    span,
                } => {
                    compound.push((*span, "power"));
                    numbers.push(exponent);
                    exprs.push(base);
                }
                Expr::Call { func, args, span } => {
                    compound.push((*span, "call"));
                    idents.push(func);
                    if span.start != func.span.start || !text[..span.end].ends_with(')') {
                        problems.push(format!("call span {span:?}"));
                    }
                    exprs.extend(args);
                }
            }
        }
        for i in idents {
            if let Some(s) = slice(i.span, "name", &mut problems)
                && s != i.name
            {
                problems.push(format!("name `{}` has span text `{s}`", i.name));
            }
        }
        for n in numbers {
            if let Some(s) = slice(n.span, "number", &mut problems)
                && s != n.text
            {
                problems.push(format!("number `{}` has span text `{s}`", n.text));
            }
        }
        for (span, what) in compound {
            if let Some(s) = slice(span, what, &mut problems)
                && s.trim() != s
            {
                problems.push(format!("{what} span {span:?} is not trimmed: {s:?}"));
            }
        }
        problems
    }

    fn value_numbers(v: &ValueSpec) -> Vec<&Number> {
        match v {
            ValueSpec::Literal(n) => vec![n],
            ValueSpec::Uniform {
                low, high, step, ..
            } => vec![low, high, step],
            ValueSpec::Choice { options, .. } => options.iter().collect(),
        }
    }

    /// Diagnostics follow the house style and point inside the text.
    fn check_diagnostics(text: &str, diags: &[Diagnostic]) -> Vec<String> {
        let mut problems = Vec::new();
        for d in diags {
            for line in std::iter::once(&d.message).chain(&d.hints) {
                if line.starts_with(|c: char| c.is_uppercase()) || line.ends_with('.') {
                    problems.push(format!("style: {line:?}"));
                }
            }
            if let Some(span) = d.span
                && (span.start > span.end
                    || span.end > text.len()
                    || !text.is_char_boundary(span.start)
                    || !text.is_char_boundary(span.end))
            {
                problems.push(format!("span {span:?} outside the text: {}", d.message));
            }
        }
        problems
    }

    // -----------------------------------------------------------------------------------------
    // Golden files

    fn data_dir(kind: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/parse")
            .join(kind)
    }

    fn cases(kind: &str) -> Vec<PathBuf> {
        let mut paths: Vec<PathBuf> = fs::read_dir(data_dir(kind))
            .expect("test data directory")
            .map(|e| e.expect("directory entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "bp"))
            .collect();
        paths.sort();
        paths
    }

    fn updating() -> bool {
        std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1")
    }

    /// Compares `actual` with the file `path`, or rewrites it when updating.
    fn golden(path: &Path, actual: &str, failures: &mut Vec<String>) {
        if updating() {
            fs::write(path, actual).expect("write golden file");
            return;
        }
        match fs::read_to_string(path) {
            Ok(expected) if expected == actual => {}
            Ok(expected) => failures.push(format!(
                "{}: differs\n--- expected\n{expected}--- actual\n{actual}",
                path.display()
            )),
            Err(_) => failures.push(format!(
                "{}: missing (run with UPDATE_GOLDEN=1 and review it)\n--- actual\n{actual}",
                path.display()
            )),
        }
    }

    fn read(path: &Path) -> String {
        String::from_utf8(fs::read(path).expect("read test file")).expect("test file is UTF-8")
    }

    fn file_name(path: &Path) -> String {
        path.file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn ok_files_parse_to_their_ast() {
        let mut failures = Vec::new();
        let paths = cases("ok");
        assert!(paths.len() >= 10, "ok cases are missing");
        for path in paths {
            let text = read(&path);
            match parse(&text) {
                Ok(spec) => {
                    for p in check_spans(&text, &spec) {
                        failures.push(format!("{}: {p}", path.display()));
                    }
                    golden(
                        &path.with_extension("ast"),
                        &dump(&text, &spec),
                        &mut failures,
                    );
                }
                Err(diags) => failures.push(format!(
                    "{}: should parse, but:\n{}",
                    path.display(),
                    render_all(&Source::new(file_name(&path), text.clone()), &diags)
                )),
            }
        }
        assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    }

    #[test]
    fn err_files_give_their_diagnostics() {
        let mut failures = Vec::new();
        let paths = cases("err");
        assert!(paths.len() >= 20, "error cases are missing");
        for path in paths {
            let text = read(&path);
            match parse(&text) {
                Ok(spec) => failures.push(format!(
                    "{}: should fail, but parsed to:\n{}",
                    path.display(),
                    dump(&text, &spec)
                )),
                Err(diags) => {
                    for p in check_diagnostics(&text, &diags) {
                        failures.push(format!("{}: {p}", path.display()));
                    }
                    let rendered = render_all(&Source::new(file_name(&path), text.clone()), &diags);
                    golden(&path.with_extension("err"), &rendered, &mut failures);
                }
            }
        }
        assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    }

    // -----------------------------------------------------------------------------------------
    // Generated inputs

    /// Parses, requiring failure, and returns the messages.
    fn errors(text: &str) -> Vec<String> {
        match parse(text) {
            Ok(spec) => panic!("should fail, parsed {} items", spec.items.len()),
            Err(diags) => {
                assert!(check_diagnostics(text, &diags).is_empty());
                diags.into_iter().map(|d| d.message).collect()
            }
        }
    }

    fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
        let start = Instant::now();
        let result = f();
        (result, start.elapsed())
    }

    #[test]
    fn crlf_parses_like_lf() {
        let lf = read(&data_dir("ok").join("0001_slides.bp"));
        let crlf = lf.replace('\n', "\r\n");
        let a = parse(&lf).expect("lf parses");
        let b = parse(&crlf).expect("crlf parses");
        assert_eq!(dump(&lf, &a), dump(&crlf, &b));
        assert!(check_spans(&crlf, &b).is_empty());
    }

    #[test]
    fn nesting_is_refused_before_pest_runs() {
        // 100,000 levels would overflow any stack if pest or lowering recursed on them.
        for (open, close) in [("(", ")"), ("[", "]")] {
            let deep = format!(
                "h = {}x{}\nk = 1\n",
                open.repeat(100_000),
                close.repeat(100_000)
            );
            let (messages, took) = timed(|| errors(&deep));
            assert_eq!(
                messages,
                ["brackets nested too deeply (more than 256 levels)"]
            );
            assert!(took < Duration::from_secs(2), "took {took:?}");
        }
        // Never closed, and the rest of the file is still split into statements.
        let unclosed = format!("h = {}x\nk = 1\nj = )\n", "(".repeat(100_000));
        assert_eq!(
            errors(&unclosed),
            [
                "brackets nested too deeply (more than 256 levels)",
                "unmatched `)`"
            ]
        );
    }

    #[test]
    fn nesting_limit_is_exact() {
        let at = |depth: usize| format!("h = {}x{}", "(".repeat(depth), ")".repeat(depth));
        let spec = parse(&at(MAX_NESTING)).expect("256 levels parse");
        assert!(matches!(
            &spec.items[0],
            Item::Equation {
                expr: Expr::Var(_),
                ..
            }
        ));
        assert_eq!(errors(&at(MAX_NESTING + 1)).len(), 1);
        let calls = format!(
            "h = {}x{}",
            "f(".repeat(MAX_NESTING),
            ")".repeat(MAX_NESTING)
        );
        parse(&calls).expect("256 nested calls parse");
    }

    #[test]
    fn huge_literals_are_refused() {
        let digits = "7".repeat(10_000);
        for text in [format!("input x = {digits}"), format!("h = 1 + {digits}")] {
            let (messages, took) = timed(|| errors(&text));
            assert_eq!(
                messages,
                ["number literal is too long: 10000 digits (at most 1000)"]
            );
            assert!(took < Duration::from_secs(1), "took {took:?}");
        }
        for text in [
            "input x = 1e1000000000",
            "h = 2.5E-1000000000 * x",
            "seed 1e99999",
        ] {
            let messages = errors(text);
            assert_eq!(messages.len(), 1);
            assert!(
                messages[0].starts_with("number exponent is too large"),
                "{messages:?}"
            );
        }
        let fine = format!("input x = {}e-1000", "9".repeat(1000));
        parse(&fine).expect("1000 digits and exponent 1000 are fine");
    }

    #[test]
    fn huge_files_are_refused() {
        let text = "#".repeat(MAX_SPEC_BYTES + 1);
        let diags = parse(&text).expect_err("too large");
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].span, None);
        assert!(diags[0].message.starts_with("spec is too large"));
        let (spec, took) = timed(|| parse(&"#".repeat(MAX_SPEC_BYTES)));
        assert_eq!(spec.expect("a comment is fine").items.len(), 0);
        assert!(took < Duration::from_secs(2), "took {took:?}");
    }

    fn chain(terms: usize) -> String {
        let mut text = String::from("h = x");
        for _ in 1..terms {
            text.push_str(" + x");
        }
        text
    }

    #[test]
    fn long_chains_parse_in_linear_time_without_recursion() {
        const TERMS: usize = 50_000;
        let text = chain(TERMS);
        let (spec, took) = timed(|| parse(&text));
        println!("{TERMS} terms ({} bytes) parsed in {took:?}", text.len());
        // Generous for unoptimized builds on a slow machine; release takes about 0.1 s.
        assert!(took < Duration::from_secs(10), "took {took:?}");
        let mut spec = spec.expect("a long chain parses");
        let Some(Item::Equation { expr, .. }) = spec.items.pop() else {
            panic!("not an equation")
        };
        // Left-associative: the left spine holds every `+`.
        let mut node = &expr;
        let mut adds = 0;
        while let Expr::Binary {
            op: BinOp::Add,
            lhs,
            rhs,
            span,
        } = node
        {
            assert!(matches!(**rhs, Expr::Var(_)));
            assert_eq!(span.start, 4);
            adds += 1;
            node = lhs;
        }
        assert_eq!(adds, TERMS - 1);
        super::lower::dismantle(expr);
    }

    #[test]
    fn trees_too_deep_to_drop_are_refused() {
        let text = chain(lower::MAX_EXPR_DEPTH + 10);
        let messages = errors(&text);
        assert_eq!(messages.len(), 1);
        assert!(
            messages[0].starts_with("expression is too long"),
            "{messages:?}"
        );
    }

    #[test]
    fn deep_good_statements_are_discarded_without_recursion() {
        // The chain parses; the error after it makes `parse` throw it away, on a test thread
        // whose stack is too small for the derived `Drop` of 60,000 levels.
        let text = format!("{}\nk = )\n", chain(60_000));
        assert_eq!(errors(&text), ["unmatched `)`"]);
    }

    #[test]
    fn runs_of_minus_are_bounded() {
        let ok = format!("h = {}x", "-".repeat(lower::MAX_NEGATIONS));
        let mut spec = parse(&ok).expect("256 signs parse");
        if let Some(Item::Equation { expr, .. }) = spec.items.pop() {
            super::lower::dismantle(expr);
        }
        let many = format!("h = {}x", "-".repeat(100_000));
        assert_eq!(errors(&many), ["too many `-` signs in a row (at most 256)"]);
    }

    #[test]
    fn awkward_layouts_stay_linear() {
        // Millions of blank lines inside an open bracket: each newline looks at one line ahead.
        let blank = format!("h = (\n{}", "\n".repeat(MAX_SPEC_BYTES - 10));
        let (messages, took) = timed(|| errors(&blank));
        assert_eq!(messages, ["unclosed `(`"]);
        assert!(took < Duration::from_secs(2), "took {took:?}");
        // A file of mismatched brackets: splitting stops at the error cap.
        let mismatched = "(]\n".repeat(MAX_SPEC_BYTES / 3);
        let (diags, took) = timed(|| parse(&mismatched).expect_err("all bad"));
        assert_eq!(diags.len(), MAX_ERRORS + 1);
        assert!(took < Duration::from_secs(2), "took {took:?}");
        // One enormous vector over many lines.
        let vector = format!("inputs x = [\n{}]", "0.5,\n".repeat(50_000));
        let (spec, took) = timed(|| parse(&vector));
        match spec.expect("a long vector parses").items.first() {
            Some(Item::VecDecl { values, .. }) => assert_eq!(values.len(), 50_000),
            other => panic!("{other:?}"),
        }
        assert!(took < Duration::from_secs(10), "took {took:?}");
    }

    #[test]
    fn errors_are_capped() {
        let text = ")\n".repeat(1000);
        let diags = parse(&text).expect_err("all bad");
        assert_eq!(diags.len(), MAX_ERRORS + 1);
        assert_eq!(diags[MAX_ERRORS].span, None);
    }

    /// A small spec touching every statement kind, for the robustness tests below.
    const SAMPLE: &str = "title \"t # \\\"x\\\"\"\ninput x1 = -0.3\nparam w = uniform(-1/2, 0.5, step .01)\n\
        inputs x = [1, choice(2, 3)]\nh = -(w*x1 + 2)^-1 / f(x, 3e2)\np1, p2 = softmax(h, 1)\n\
        mlp 2 -> 3 tanh -> 1\nloss L = 1/2 * (y - h)^2 # end\nquestions forward points 2, w\nhide x1\n";

    #[test]
    fn odd_characters_anywhere_give_errors_not_panics() {
        parse(SAMPLE).expect("the sample parses");
        let odd = [
            '\0',
            '\u{1}',
            '\u{7}',
            '\u{8}',
            '\u{b}',
            '\u{c}',
            '\u{1b}',
            '\u{7f}',
            '\u{85}',
            '\u{a0}',
            '\u{200b}',
            '\u{202e}',
            '\u{feff}',
            'é',
            'α',
            '😀',
            '\u{10ffff}',
            '\\',
            '"',
            '#',
            '(',
            ')',
            '[',
            ']',
            '^',
            '\r',
        ];
        // Every position gets a few of the characters, in rotation: all of them somewhere,
        // each kind of place (keyword, name, number, string, comment, bracket) more than once.
        for (n, (at, _)) in SAMPLE.char_indices().enumerate() {
            for c in (0..4).map(|k| odd[(n * 4 + k) % odd.len()]) {
                let mut text = SAMPLE.to_string();
                text.insert(at, c);
                if let Err(diags) = parse(&text) {
                    let problems = check_diagnostics(&text, &diags);
                    assert!(problems.is_empty(), "{text:?}: {problems:?}");
                    let _ = render_all(&Source::new("x.bp", text.clone()), &diags);
                }
            }
        }
    }

    #[test]
    fn random_edits_give_errors_not_panics() {
        // A fixed linear congruential generator: reproducible without a dependency.
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |n: usize| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((state >> 33) as usize) % n.max(1)
        };
        let pieces = [
            "(", ")", "[", "]", "\"", "#", "=", ",", "^", "**", "-", "+", "/", "\n", "\\", "e",
            "1e", ".", "->", "step", "loss", "x", "0", "\t", "é",
        ];
        for _ in 0..3000 {
            let mut chars: Vec<char> = SAMPLE.chars().collect();
            for _ in 0..1 + next(3) {
                let at = next(chars.len() + 1);
                match next(3) {
                    0 if at < chars.len() => {
                        chars.remove(at);
                    }
                    1 => {
                        let len = next(12).min(chars.len() - at.min(chars.len()));
                        let copy: Vec<char> =
                            chars[at.min(chars.len())..at.min(chars.len()) + len].to_vec();
                        let to = next(chars.len() + 1);
                        chars.splice(to..to, copy);
                    }
                    _ => {
                        let piece = pieces[next(pieces.len())];
                        chars.splice(at..at, piece.chars());
                    }
                }
            }
            let text: String = chars.into_iter().collect();
            match parse(&text) {
                Ok(spec) => {
                    let problems = check_spans(&text, &spec);
                    assert!(problems.is_empty(), "{text:?}: {problems:?}");
                }
                Err(diags) => {
                    let problems = check_diagnostics(&text, &diags);
                    assert!(problems.is_empty(), "{text:?}: {problems:?}");
                    let _ = render_all(&Source::new("x.bp", text.clone()), &diags);
                }
            }
        }
    }
}
