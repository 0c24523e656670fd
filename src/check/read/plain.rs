//! Plain answers files: one `NAME = VALUE` per line (`dL/dw5 = 0.0823`, `a11 = 0.5`,
//! `w5_new = 0.39`), chains allowed (`dL/dw5 = 0.07 * 0.5 = 0.035`), names as in the spec.
//!
//! `#` starts a comment; blank lines are ignored; a list marker (`- `, `* `, `1. `, `(a) `) at the
//! start of a line is dropped; a line that starts with `=` continues the claim before it; any other
//! line that is not an equation is unreadable.

use super::Sink;
use super::equation::{MAX_EQUATION_BYTES, check_nesting, read_row};
use super::lex::{Kind, Mode, lex};

/// Reads every line of an answers file.
pub(super) fn read(src: &str, sink: &mut Sink<'_>) {
    let bytes = src.as_bytes();
    let mut start = 0;
    while start < bytes.len() && !sink.stopped {
        let end = bytes[start..]
            .iter()
            .position(|&c| c == b'\n')
            .map_or(bytes.len(), |k| start + k);
        line(src, start, end, sink);
        start = end + 1;
    }
}

fn line(src: &str, start: usize, end: usize, sink: &mut Sink<'_>) {
    let code_end = src[start..end].find('#').map_or(end, |k| start + k);
    let raw = &src[start..code_end];
    let text = raw.trim();
    if text.is_empty() {
        return;
    }
    let text_start = start + (raw.len() - raw.trim_start().len());
    let text_end = text_start + text.len();
    let text_start = text_start + list_marker(text);
    if text_end - text_start > MAX_EQUATION_BYTES {
        sink.too_long("line", text_start, text_end);
        return;
    }
    let tokens = lex(src, text_start, text_end, Mode::Plain);
    if !tokens.iter().any(|t| t.kind == Kind::Rel) {
        sink.fail(text_start, text_start, text_end, "expected `NAME = VALUE`");
        return;
    }
    if let Err(f) = check_nesting(&tokens) {
        sink.fail(f.at, text_start, text_end, f.reason);
        return;
    }
    read_row(src, &tokens, Mode::Plain, sink);
}

/// The length of a list marker and the spaces after it at the start of `text`: `- `, `* `,
/// `+ `, `• `, `1. `, `2) `, `(a) `, `b) `.
fn list_marker(text: &str) -> usize {
    let marker = if let Some(rest) = text.strip_prefix(['-', '*', '+', '•']) {
        text.len() - rest.len()
    } else {
        let inner = text.strip_prefix('(').unwrap_or(text);
        let label = inner.bytes().take_while(u8::is_ascii_alphanumeric).count();
        let after = &inner[label..];
        let closed = if text.starts_with('(') {
            after.starts_with(')')
        } else {
            after.starts_with([')', '.'])
                && (inner.as_bytes().first().is_some_and(u8::is_ascii_digit) || label == 1)
        };
        if !(1..=2).contains(&label) || !closed {
            return 0;
        }
        text.len() - after.len() + 1
    };
    let rest = &text[marker..];
    let spaces = rest.len() - rest.trim_start().len();
    if spaces == 0 { 0 } else { marker + spaces }
}
