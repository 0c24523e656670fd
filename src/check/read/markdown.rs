//! Finding math in Markdown: `$$...$$`, `$...$`, `\[...\]`, `\(...\)`, a bare
//! `\begin{align}...\end{align}`, and ```` ```math ```` fences; code (fences, backtick spans) and
//! HTML comments are skipped, and `\$` is a dollar sign.
//!
//! Inline `$` follows Pandoc: the opening `$` has a non-space right after it, the closing one a
//! non-space right before it and no digit right after it (so "costs $5 and $6" is prose). No
//! delimited math crosses a blank line: an unclosed `$$` is reported at its opening, an unclosed
//! `$` is a dollar sign.
//!
//! One pass over the bytes. Searching for a closing delimiter could make it quadratic (many
//! openers, no closer), so a failed search remembers where it stopped: every opener of the same
//! kind before that point fails too, and is not searched again.

/// Something found in the text.
#[derive(Debug)]
pub(super) enum Found {
    /// Math content at `start..end` (without its delimiters, except for a bare environment,
    /// which is kept whole so its rows are read).
    Math { start: usize, end: usize },
    /// An opening delimiter that is never closed.
    Unterminated { at: usize, reason: String },
}

/// Environments that are math when they stand in Markdown without `$` (MathJax and KaTeX
/// renderers accept them).
const MATH_ENVIRONMENTS: &[&str] = &[
    "equation",
    "equation*",
    "align",
    "align*",
    "aligned",
    "alignat",
    "alignat*",
    "alignedat",
    "gather",
    "gather*",
    "gathered",
    "multline",
    "multline*",
    "split",
    "eqnarray",
    "eqnarray*",
    "flalign",
    "flalign*",
];

/// Backtick runs longer than this are literal (it bounds the searches for closing runs).
const MAX_BACKTICKS: usize = 16;

/// Finds the math in `src`, in order.
pub(super) fn scan(src: &str) -> Vec<Found> {
    let mut scanner = Scanner {
        src,
        b: src.as_bytes(),
        out: Vec::new(),
        fail_inline: 0,
        fail_display: 0,
        fail_bracket: 0,
        fail_paren: 0,
        fail_comment: 0,
        fail_code: [0; MAX_BACKTICKS + 1],
        fail_env: Vec::new(),
    };
    scanner.run();
    scanner.out
}

struct Scanner<'s> {
    src: &'s str,
    b: &'s [u8],
    out: Vec<Found>,
    /// For each kind of search, an offset before which the search is known to fail.
    fail_inline: usize,
    fail_display: usize,
    fail_bracket: usize,
    fail_paren: usize,
    fail_comment: usize,
    fail_code: [usize; MAX_BACKTICKS + 1],
    fail_env: Vec<(String, usize)>,
}

impl Scanner<'_> {
    fn at(&self, i: usize) -> u8 {
        self.b.get(i).copied().unwrap_or(0)
    }

    fn run(&mut self) {
        let n = self.b.len();
        let mut i = 0;
        let mut line_start = true;
        while i < n {
            if line_start {
                line_start = false;
                if let Some(next) = self.fence(i) {
                    i = next;
                    line_start = true;
                    continue;
                }
            }
            i = match self.b[i] {
                b'\n' => {
                    line_start = true;
                    i + 1
                }
                b'\\' => self.backslash(i),
                b'`' => self.code_span(i),
                b'$' => self.dollar(i),
                b'<' if self.b[i..].starts_with(b"<!--") => self.comment(i),
                _ => i + 1,
            };
        }
    }

    /// The end of the line starting at or containing `i` (the index of `\n`, or the length).
    fn line_end(&self, i: usize) -> usize {
        self.b[i.min(self.b.len())..]
            .iter()
            .position(|&c| c == b'\n')
            .map_or(self.b.len(), |k| i + k)
    }

    /// A fenced code block starting at the line start `i`: skipped, or read as math if its info
    /// string is `math`. Returns where scanning resumes.
    fn fence(&mut self, i: usize) -> Option<usize> {
        let mut j = i;
        while self.at(j) == b' ' && j - i < 4 {
            j += 1;
        }
        if j - i > 3 {
            return None;
        }
        let c = self.at(j);
        if c != b'`' && c != b'~' {
            return None;
        }
        let run = self.b[j..].iter().take_while(|&&x| x == c).count();
        if run < 3 {
            return None;
        }
        let info_end = self.line_end(j + run);
        let info = self.src[j + run..info_end].trim();
        if c == b'`' && info.contains('`') {
            return None;
        }
        let content = (info_end + 1).min(self.b.len());
        let mut k = content;
        let (content_end, next) = loop {
            if k >= self.b.len() {
                break (self.b.len(), self.b.len());
            }
            let end = self.line_end(k);
            if closes_fence(&self.b[k..end], c, run) {
                break (k, (end + 1).min(self.b.len()));
            }
            k = end + 1;
        };
        if info.split_whitespace().next() == Some("math") && content < content_end {
            self.out.push(Found::Math {
                start: content,
                end: content_end,
            });
        }
        Some(next)
    }

    fn backslash(&mut self, i: usize) -> usize {
        match self.at(i + 1) {
            b'$' | b'\\' | b'`' => i + 2,
            b'[' => self.delimited(i, b"\\]", Slot::Bracket),
            b'(' => self.delimited(i, b"\\)", Slot::Paren),
            b'b' if self.b[i..].starts_with(b"\\begin{") => self.environment(i),
            _ => i + 1,
        }
    }

    /// `\[...\]` or `\(...\)`; unclosed, the opener is an escaped bracket (Markdown's meaning).
    fn delimited(&mut self, i: usize, close: &'static [u8], slot: Slot) -> usize {
        let memo = match slot {
            Slot::Bracket => &mut self.fail_bracket,
            Slot::Paren => &mut self.fail_paren,
        };
        if i < *memo {
            return i + 2;
        }
        let b = self.b;
        match find_close(b, i + 2, |j| b[j..].starts_with(close)) {
            Ok(j) => {
                self.out.push(Found::Math {
                    start: i + 2,
                    end: j,
                });
                j + close.len()
            }
            Err(stop) => {
                let memo = match slot {
                    Slot::Bracket => &mut self.fail_bracket,
                    Slot::Paren => &mut self.fail_paren,
                };
                *memo = stop;
                i + 2
            }
        }
    }

    /// A bare math environment: the whole `\begin{..}...\end{..}` is math.
    fn environment(&mut self, i: usize) -> usize {
        let name_start = i + "\\begin{".len();
        let name_len = self.b[name_start..]
            .iter()
            .take(32)
            .take_while(|c| c.is_ascii_alphabetic() || **c == b'*')
            .count();
        let name = &self.src[name_start..name_start + name_len];
        if self.at(name_start + name_len) != b'}' || !MATH_ENVIRONMENTS.contains(&name) {
            return i + 1;
        }
        let end_marker = format!("\\end{{{name}}}");
        if self.fail_env.iter().any(|(n, stop)| n == name && i < *stop) {
            return i + 1;
        }
        let b = self.b;
        match find_close(b, name_start, |j| b[j..].starts_with(end_marker.as_bytes())) {
            Ok(j) => {
                let end = j + end_marker.len();
                self.out.push(Found::Math { start: i, end });
                end
            }
            Err(stop) => {
                self.out.push(Found::Unterminated {
                    at: i,
                    reason: format!("`\\begin{{{name}}}` without `\\end{{{name}}}`"),
                });
                self.fail_env.retain(|(n, _)| n != name);
                self.fail_env.push((name.to_string(), stop));
                i + 1
            }
        }
    }

    /// A code span: skipped to its closing run of as many backticks; unclosed, literal.
    fn code_span(&mut self, i: usize) -> usize {
        let run = self.b[i..].iter().take_while(|&&c| c == b'`').count();
        if run > MAX_BACKTICKS || i < self.fail_code[run] {
            return i + run;
        }
        let mut j = i + run;
        loop {
            if j >= self.b.len() {
                self.fail_code[run] = self.b.len();
                return i + run;
            }
            match self.b[j] {
                b'`' => {
                    let other = self.b[j..].iter().take_while(|&&c| c == b'`').count();
                    if other == run {
                        return j + other;
                    }
                    j += other;
                }
                b'\n' if blank_line_after(self.b, j) => {
                    self.fail_code[run] = j;
                    return i + run;
                }
                _ => j += 1,
            }
        }
    }

    fn dollar(&mut self, i: usize) -> usize {
        let b = self.b;
        if self.at(i + 1) == b'$' {
            if i < self.fail_display {
                return i + 2;
            }
            return match find_close(b, i + 2, |j| b.get(j + 1) == Some(&b'$') && b[j] == b'$') {
                Ok(j) => {
                    self.out.push(Found::Math {
                        start: i + 2,
                        end: j,
                    });
                    j + 2
                }
                Err(stop) => {
                    self.fail_display = stop;
                    self.out.push(Found::Unterminated {
                        at: i,
                        reason: "unterminated `$$`: no closing `$$` before a blank line or the end"
                            .to_string(),
                    });
                    i + 2
                }
            };
        }
        let next = self.at(i + 1);
        if next == 0 || next.is_ascii_whitespace() || i < self.fail_inline {
            return i + 1;
        }
        let closer = |j: usize| {
            b[j] == b'$'
                && j > i + 1
                && !b[j - 1].is_ascii_whitespace()
                && !b.get(j + 1).is_some_and(u8::is_ascii_digit)
        };
        match find_close(b, i + 1, closer) {
            Ok(j) => {
                self.out.push(Found::Math {
                    start: i + 1,
                    end: j,
                });
                j + 1
            }
            Err(stop) => {
                self.fail_inline = stop;
                i + 1
            }
        }
    }

    /// An HTML comment: skipped; unclosed, literal.
    fn comment(&mut self, i: usize) -> usize {
        if i < self.fail_comment {
            return i + 4;
        }
        match self.src[i + 4..].find("-->") {
            Some(k) => i + 4 + k + 3,
            None => {
                self.fail_comment = self.b.len();
                i + 4
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Slot {
    Bracket,
    Paren,
}

/// The first `j >= from` where `is_close(j)`, skipping escaped characters (`\$`, `\\`), before a
/// blank line; else `Err` with where the search stopped.
fn find_close(b: &[u8], from: usize, is_close: impl Fn(usize) -> bool) -> Result<usize, usize> {
    let mut j = from;
    while j < b.len() {
        if is_close(j) {
            return Ok(j);
        }
        match b[j] {
            b'\\' => j += 2,
            b'\n' if blank_line_after(b, j) => return Err(j),
            _ => j += 1,
        }
    }
    Err(b.len())
}

/// Whether the line after the newline at `j` is blank (or there is none).
fn blank_line_after(b: &[u8], j: usize) -> bool {
    let mut k = j + 1;
    while k < b.len() && matches!(b[k], b' ' | b'\t' | b'\r') {
        k += 1;
    }
    k >= b.len() || b[k] == b'\n'
}

/// Whether `line` closes a fence of `run` characters `c`.
fn closes_fence(line: &[u8], c: u8, run: usize) -> bool {
    let indent = line.iter().take_while(|&&x| x == b' ').count();
    if indent > 3 {
        return false;
    }
    let rest = &line[indent..];
    let count = rest.iter().take_while(|&&x| x == c).count();
    count >= run && rest[count..].iter().all(u8::is_ascii_whitespace)
}
