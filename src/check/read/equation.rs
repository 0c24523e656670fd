//! Equations in a math span or an answers line: bracket checks, environments, aligned rows,
//! separate equations within a row, and the sides of each equation.
//!
//! A span is checked as a whole (balanced brackets, nesting at most [`MAX_NESTING`]) before
//! anything recursive runs. Row environments (`aligned`, `align*`, `split`, `gather`, ...) are
//! unwrapped and split at `\\`; a row that starts with a binary operator continues the row
//! before it (`&\quad + w_2 x_2`). Within a row, `\quad`, arrows, `,`, `;` and prose in `\text`
//! separate equations (`a = 1, \quad b = 2`); a part without `=` is not a claim. A row or part
//! that starts with `=` (after `&`) continues the claim before it.

use super::expr::{Fail, parse_side, too_deep};
use super::lex::{Kind, Mode, Token, lex};
use super::names;
use super::{MAX_NESTING, RawSide, Sink};

/// Math spans and answers lines longer than this are not read (a hand derivation's longest
/// display block is a few kilobytes); one with an `=` is reported.
pub(super) const MAX_EQUATION_BYTES: usize = 256 * 1024;

/// Environments whose rows are equations.
const ROW_ENVIRONMENTS: &[&str] = &[
    "aligned",
    "align",
    "align*",
    "alignat",
    "alignat*",
    "alignedat",
    "split",
    "gather",
    "gather*",
    "gathered",
    "equation",
    "equation*",
    "multline",
    "multline*",
    "eqnarray",
    "eqnarray*",
    "flalign",
    "flalign*",
];

/// Commands dropped together with their (first) argument: labels, tags, spacing, colors.
const DROPPED_WITH_ARGUMENT: &[&str] = &[
    "label",
    "tag",
    "hspace",
    "vspace",
    "phantom",
    "hphantom",
    "vphantom",
    "color",
    "textcolor",
    "colorbox",
    "hskip",
    "kern",
    "mkern",
];

/// Commands whose argument is prose: at the top of a row they separate equations.
const PROSE: &[&str] = &[
    "text",
    "textrm",
    "textit",
    "textbf",
    "textnormal",
    "mbox",
    "intertext",
    "shortintertext",
];

/// Reads the math `src[start..end]` (without its delimiters).
pub(super) fn read_math(src: &str, start: usize, end: usize, sink: &mut Sink<'_>) {
    if end - start > MAX_EQUATION_BYTES {
        if src[start..end].contains(['=', '≈']) {
            sink.too_long("math", start, end);
        }
        return;
    }
    let tokens = lex(src, start, end, Mode::Latex);
    if !tokens.iter().any(|t| t.kind == Kind::Rel) {
        return;
    }
    if let Err(f) = check_nesting(&tokens) {
        sink.fail(f.at, start, end, f.reason);
        return;
    }
    let tokens = drop_decorations(&tokens);
    let rows = match split_rows(&tokens) {
        Ok(rows) => rows,
        Err(f) => {
            sink.fail(f.at, start, end, f.reason);
            return;
        }
    };
    for row in &rows {
        if sink.stopped {
            return;
        }
        read_row(src, row, Mode::Latex, sink);
    }
}

/// Brackets balanced (braces with braces, brackets with brackets) and nested at most
/// [`MAX_NESTING`] deep. The stack is bounded by the limit, so this is safe on any input.
pub(super) fn check_nesting(tokens: &[Token<'_>]) -> Result<(), Fail> {
    let mut stack: Vec<&Token<'_>> = Vec::new();
    for token in tokens {
        match token.kind {
            Kind::LBrace | Kind::Open => {
                if stack.len() == MAX_NESTING {
                    return Err(Fail {
                        at: token.start,
                        reason: too_deep(),
                    });
                }
                stack.push(token);
            }
            Kind::RBrace | Kind::Close => {
                let brace = token.kind == Kind::RBrace;
                match stack.pop() {
                    Some(open) if (open.kind == Kind::LBrace) == brace => {}
                    Some(open) => {
                        return Err(Fail {
                            at: open.start,
                            reason: format!(
                                "unbalanced {}: `{}` closed by `{}`",
                                if open.kind == Kind::LBrace {
                                    "braces"
                                } else {
                                    "parentheses"
                                },
                                open.text,
                                token.text
                            ),
                        });
                    }
                    None => {
                        return Err(Fail {
                            at: token.start,
                            reason: format!(
                                "unbalanced {}: `{}` without an opening one",
                                if brace { "braces" } else { "parentheses" },
                                token.text
                            ),
                        });
                    }
                }
            }
            _ => {}
        }
    }
    match stack.last() {
        Some(open) => Err(Fail {
            at: open.start,
            reason: format!(
                "unbalanced {}: `{}` is never closed",
                if open.kind == Kind::LBrace {
                    "braces"
                } else {
                    "parentheses"
                },
                open.text
            ),
        }),
        None => Ok(()),
    }
}

/// For each opening bracket or brace, the index of its closer (`usize::MAX` if none).
pub(super) fn matching(tokens: &[Token<'_>]) -> Vec<usize> {
    let mut close = vec![usize::MAX; tokens.len()];
    let mut stack = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        match token.kind {
            Kind::LBrace | Kind::Open => stack.push(i),
            Kind::RBrace | Kind::Close => {
                if let Some(open) = stack.pop() {
                    close[open] = i;
                }
            }
            _ => {}
        }
    }
    close
}

fn command_is(token: &Token<'_>, names: &[&str]) -> bool {
    token.kind == Kind::Cmd && names.contains(&token.text.strip_prefix('\\').unwrap_or(token.text))
}

/// Drops labels, tags, spacing and colors with their arguments, and the braces of
/// `\underbrace{x}_{note}` with the note.
fn drop_decorations<'s>(tokens: &[Token<'s>]) -> Vec<Token<'s>> {
    let close = matching(tokens);
    // After the group at this index ends, a `_{...}`/`^{...}` note follows to be dropped.
    let mut notes: Vec<usize> = Vec::new();
    let mut out = Vec::with_capacity(tokens.len());
    let mut i = 0;
    let after_group = |i: usize| -> usize {
        match tokens.get(i).map(|t| t.kind) {
            Some(Kind::LBrace | Kind::Open) if close[i] != usize::MAX => close[i] + 1,
            Some(_) => i + 1,
            None => i,
        }
    };
    while i < tokens.len() {
        let token = tokens[i];
        if command_is(&token, DROPPED_WITH_ARGUMENT) {
            let mut j = i + 1;
            if tokens.get(j).is_some_and(|t| t.kind == Kind::Op('*')) {
                j += 1;
            }
            // `\hskip 2pt`, `\kern1em` take no braces: drop the dimension tokens.
            if tokens.get(j).is_some_and(|t| t.kind != Kind::LBrace) {
                while tokens
                    .get(j)
                    .is_some_and(|t| matches!(t.kind, Kind::Num | Kind::Ident))
                {
                    j += 1;
                }
                i = j;
            } else {
                i = after_group(j);
            }
            continue;
        }
        if command_is(&token, &["underbrace", "overbrace"]) {
            if tokens.get(i + 1).is_some_and(|t| t.kind == Kind::LBrace)
                && close[i + 1] != usize::MAX
            {
                notes.push(close[i + 1]);
            }
            i += 1;
            continue;
        }
        out.push(token);
        if notes.last() == Some(&i) {
            notes.pop();
            if tokens
                .get(i + 1)
                .is_some_and(|t| matches!(t.kind, Kind::Op('_' | '^')))
            {
                i = after_group(i + 2);
                continue;
            }
        }
        i += 1;
    }
    out
}

/// The environment name after `\begin`/`\end` at `i`: the name and the index after `}`.
fn environment_name(tokens: &[Token<'_>], i: usize) -> Option<(String, usize)> {
    if tokens.get(i + 1)?.kind != Kind::LBrace {
        return None;
    }
    let mut name = String::new();
    let mut j = i + 2;
    while let Some(token) = tokens.get(j) {
        match token.kind {
            Kind::RBrace => return (!name.is_empty()).then_some((name, j + 1)),
            Kind::Ident | Kind::Op('*') if name.len() < 32 => name.push_str(token.text),
            _ => return None,
        }
        j += 1;
    }
    None
}

/// Unwraps row environments and splits at top-level `\\` into rows. Other environments
/// (`cases`, `array`, matrices) stay whole, for the parser to refuse.
fn split_rows<'s>(tokens: &[Token<'s>]) -> Result<Vec<Vec<Token<'s>>>, Fail> {
    let close = matching(tokens);
    let mut rows: Vec<Vec<Token<'s>>> = Vec::new();
    let mut row: Vec<Token<'s>> = Vec::new();
    // Open environments: name, whether its rows are equations, where it began.
    let mut open: Vec<(String, bool, usize)> = Vec::new();
    let mut opaque = 0usize;
    let mut depth = 0usize;
    let mut i = 0;
    while i < tokens.len() {
        let token = tokens[i];
        if command_is(&token, &["begin", "end"]) {
            let begin = token.text.ends_with("begin");
            let Some((name, mut next)) = environment_name(tokens, i) else {
                return Err(Fail {
                    at: token.start,
                    reason: format!("`{}` without an environment name", token.text),
                });
            };
            let rows_env = ROW_ENVIRONMENTS.contains(&name.as_str());
            if begin {
                if name.starts_with("align") && name.contains("at") {
                    // `\begin{alignedat}{2}`: the column count.
                    if tokens.get(next).is_some_and(|t| t.kind == Kind::LBrace)
                        && close[next] != usize::MAX
                    {
                        next = close[next] + 1;
                    }
                }
                open.push((name, rows_env, token.start));
                if !rows_env {
                    opaque += 1;
                }
            } else {
                match open.pop() {
                    Some((began, _, _)) if began == name => {}
                    Some((began, _, at)) => {
                        return Err(Fail {
                            at,
                            reason: format!("`\\begin{{{began}}}` ended by `\\end{{{name}}}`"),
                        });
                    }
                    None => {
                        return Err(Fail {
                            at: token.start,
                            reason: format!("`\\end{{{name}}}` without `\\begin{{{name}}}`"),
                        });
                    }
                }
                if !rows_env {
                    opaque -= 1;
                }
            }
            if rows_env {
                i = next;
            } else {
                row.extend_from_slice(&tokens[i..next]);
                i = next;
            }
            continue;
        }
        match token.kind {
            Kind::LBrace | Kind::Open => depth += 1,
            Kind::RBrace | Kind::Close => depth = depth.saturating_sub(1),
            Kind::RowBreak if depth == 0 && opaque == 0 => {
                finish_row(&mut rows, std::mem::take(&mut row));
                i += 1;
                // `\\[4pt]`: extra space.
                if tokens
                    .get(i)
                    .is_some_and(|t| t.kind == Kind::Open && t.text == "[")
                    && close[i] != usize::MAX
                {
                    i = close[i] + 1;
                }
                continue;
            }
            _ => {}
        }
        row.push(token);
        i += 1;
    }
    if let Some((name, _, at)) = open.last() {
        return Err(Fail {
            at: *at,
            reason: format!("`\\begin{{{name}}}` without `\\end{{{name}}}`"),
        });
    }
    finish_row(&mut rows, row);
    Ok(rows)
}

/// Adds a row, or appends it to the row before when it starts with a binary operator (the
/// expression goes on: `&\quad + w_2 x_2`).
fn finish_row<'s>(rows: &mut Vec<Vec<Token<'s>>>, row: Vec<Token<'s>>) {
    let first = row
        .iter()
        .find(|t| !matches!(t.kind, Kind::Amp | Kind::Sep) || is_arrow(t));
    let Some(first) = first else { return };
    let continues = matches!(first.kind, Kind::Op('+' | '-' | '*' | '/'));
    match rows.last_mut() {
        // Without its alignment and indentation, which would otherwise separate equations.
        Some(last) if continues => last.extend(
            row.into_iter()
                .skip_while(|t| matches!(t.kind, Kind::Amp | Kind::Sep) && !is_arrow(t)),
        ),
        _ => rows.push(row),
    }
}

/// A separator that is an arrow (not just spacing).
fn is_arrow(token: &Token<'_>) -> bool {
    token.kind == Kind::Sep && !matches!(token.text, "\\quad" | "\\qquad")
}

/// Reads one row: splits it into equations and reads each.
pub(super) fn read_row(src: &str, row: &[Token<'_>], mode: Mode, sink: &mut Sink<'_>) {
    let close = matching(row);
    let mut parts: Vec<Vec<Token<'_>>> = Vec::new();
    let mut part: Vec<Token<'_>> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < row.len() {
        let token = row[i];
        match token.kind {
            Kind::LBrace | Kind::Open => depth += 1,
            Kind::RBrace | Kind::Close => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth == 0 {
            let separator = match token.kind {
                Kind::Sep | Kind::Op(',' | ';') => Some(i + 1),
                Kind::Cmd if command_is(&token, PROSE) && is_prose(row, &close, i) => Some(
                    close
                        .get(i + 1)
                        .map_or(i + 1, |&c| c.saturating_add(1))
                        .min(row.len()),
                ),
                _ => None,
            };
            if let Some(next) = separator {
                parts.push(std::mem::take(&mut part));
                i = next;
                continue;
            }
        }
        // Alignment points and spacing inside brackets mean nothing for the value.
        if !(token.kind == Kind::Amp || (token.kind == Kind::Sep && !is_arrow(&token))) {
            part.push(token);
        }
        i += 1;
    }
    parts.push(part);
    let mut may_continue = true;
    for mut part in parts {
        if sink.stopped {
            return;
        }
        while part.last().is_some_and(|t| t.kind == Kind::Op('.')) {
            part.pop();
        }
        if part.is_empty() {
            continue;
        }
        if read_equation(src, &part, may_continue, mode, sink) {
            may_continue = false;
        }
    }
}

/// Whether the `\text`-like command at `i` is prose (not `\text{ReLU}`, not a subscript).
fn is_prose(row: &[Token<'_>], close: &[usize], i: usize) -> bool {
    if i > 0 && matches!(row[i - 1].kind, Kind::Op('_' | '^')) {
        return false;
    }
    if row.get(i + 1).is_none_or(|t| t.kind != Kind::LBrace) || close[i + 1] == usize::MAX {
        return false;
    }
    let inside = &row[i + 2..close[i + 1]];
    let word = match inside {
        [only] if only.kind == Kind::Ident => only.text,
        _ => return true,
    };
    !(names::func_word(word).is_some()
        || names::unsupported_func_word(word)
        || word == "d"
        || word == "e")
}

/// Reads one equation (a part of a row). Returns whether it was a claim (or an unreadable
/// attempt at one), so that only the first claim of a row may continue the one before.
fn read_equation(
    src: &str,
    part: &[Token<'_>],
    may_continue: bool,
    mode: Mode,
    sink: &mut Sink<'_>,
) -> bool {
    let (start, end) = (part[0].start, part[part.len() - 1].end);
    if !part.iter().any(|t| t.kind == Kind::Rel) {
        if mode == Mode::Plain {
            sink.fail(start, start, end, "expected `NAME = VALUE`");
            return true;
        }
        return false;
    }
    let mut sides: Vec<&[Token<'_>]> = Vec::new();
    let mut relations: Vec<&Token<'_>> = Vec::new();
    let mut depth = 0usize;
    let mut last = 0;
    for (i, token) in part.iter().enumerate() {
        match token.kind {
            Kind::LBrace | Kind::Open => depth += 1,
            Kind::RBrace | Kind::Close => depth = depth.saturating_sub(1),
            Kind::Rel if depth == 0 => {
                sides.push(&part[last..i]);
                relations.push(token);
                last = i + 1;
            }
            _ => {}
        }
    }
    sides.push(&part[last..]);
    if relations.is_empty() {
        // The only `=` is inside brackets or a subscript (`\sum_{i=1}`): let the parser say why.
        let reason = match parse_side(src, part, mode) {
            Err(f) => *f,
            Ok(_) => {
                let rel = part
                    .iter()
                    .find(|t| t.kind == Kind::Rel)
                    .map_or(start, |t| t.start);
                Fail {
                    at: rel,
                    reason: "`=` inside brackets".to_string(),
                }
            }
        };
        sink.fail(reason.at, start, end, reason.reason);
        return true;
    }
    let continued = sides[0].is_empty();
    if continued && !may_continue {
        sink.fail(
            start,
            start,
            end,
            format!("nothing before `{}`", relations[0].text),
        );
        return true;
    }
    for (k, side) in sides.iter().enumerate().skip(usize::from(continued)) {
        if side.is_empty() {
            let (at, reason) = if k == sides.len() - 1 {
                (
                    relations[k - 1].start,
                    format!("nothing after `{}`", relations[k - 1].text),
                )
            } else if k == 0 {
                (
                    relations[0].start,
                    format!("nothing before `{}`", relations[0].text),
                )
            } else {
                (
                    relations[k].start,
                    "nothing between two `=` signs".to_string(),
                )
            };
            sink.fail(at, start, end, reason);
            return true;
        }
    }
    let mut raw = Vec::with_capacity(sides.len());
    for side in sides.iter().skip(usize::from(continued)) {
        match parse_side(src, side, mode) {
            Ok(expr) => raw.push(RawSide {
                expr,
                start: side[0].start,
                end: side[side.len() - 1].end,
            }),
            Err(f) => {
                sink.fail(f.at, start, end, f.reason);
                return true;
            }
        }
    }
    sink.equation(continued, raw, start, end);
    true
}
