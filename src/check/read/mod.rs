//! Reading submissions: Markdown with LaTeX math, or a plain answers file, into claims.
//!
//! A submission is untrusted text. [`read`] turns it into [`Claim`]s (`A = B = C` chains, each
//! side a [`MathExpr`] with its line and source text) and [`Unreadable`] entries (math that has
//! an `=` but cannot be read, with a reason). It never fails, never panics, and its work is
//! linear in the size of the text: every math span and answers line is tokenized once, nesting
//! deeper than [`MAX_NESTING`] is refused before any recursion, and the numbers of claims and of
//! unreadable entries are capped.
//!
//! The stages, one module each:
//!
//! - `markdown`: finding math in Markdown (`$...$`, `$$...$$`, `\[...\]`, `\(...\)`, bare
//!   `\begin{align}...`, and ```` ```math ```` fences), skipping code;
//! - `plain`: the lines of an answers file (`dL/dw5 = 0.0823`);
//! - `lex`: math text into tokens with byte offsets (LaTeX, or plain answers where `_` is part of
//!   a name);
//! - `equation`: environments, aligned rows, separate equations within a row, and sides;
//! - `expr`: one side into a [`MathExpr`], derivatives and function calls included;
//! - `names`: names as written into [`Name`]s, and their spec-style candidates.
//!
//! The format is Markdown when the text has at least one math span (or an unterminated one),
//! else a plain answers file.
//!
//! Reading rules worth knowing downstream:
//!
//! - Sides are separated by `=`, and also by `\approx`, `≈`, `:=`, `\coloneqq` (students round
//!   with `\approx`; the checker's tolerance decides).
//! - A row, math block or answers line that starts with `=` continues the claim before it (its
//!   sides get their own lines); if the math with `=` before it was unreadable, or there is none,
//!   the continuation is unreadable itself rather than attached to an older claim.
//! - Within a row, `\quad`, `\qquad`, arrows, `,`, `;` and `\text{prose}` separate equations:
//!   `$a = 1, \quad b = 2.$` is two claims. Math without any `=` is neither a claim nor
//!   unreadable (`$x_1$`); math whose only `=` is nested (`\sum_{i=1}`) is unreadable.
//! - In LaTeX, a run of letters is one name (`Node`, `pred`): `xy` is a name, `x y` a product.
//!   Letters then digits are a name with a subscript (`x1` is `x_1`). An unbraced subscript takes
//!   a whole digit or letter run (`w_12` is `w_{12}`), as students mean it.
//! - Any name may be differentiated (`\frac{\partial z}{\partial w_5}` has `of: z`); `dL/dw`
//!   forms are derivatives only when both halves are `d` + name.
//! - Prose outside math is ignored, in particular `NAME = VALUE` lines in a Markdown file.

mod equation;
mod expr;
mod lex;
mod markdown;
mod names;
mod plain;
#[cfg(test)]
mod tests;

/// Math nested deeper than this (braces, parentheses, `\left(`) is refused as unreadable before
/// it is parsed, so the recursive parser's depth is bounded.
pub const MAX_NESTING: usize = 200;
/// At most this many [`Unreadable`] entries are listed; the last one then says how many more
/// there were.
pub const MAX_UNREADABLE: usize = 1000;
/// At most this many claims are read; a longer submission gets an [`Unreadable`] entry where
/// reading stopped. (A hand derivation has dozens; the cap bounds memory on hostile input.)
pub const MAX_CLAIMS: usize = 10_000;
/// At most this many sides in all claims together, for the same reason.
pub const MAX_SIDES: usize = 100_000;
/// How many characters of source an [`Unreadable`] entry quotes at most (plus `…` marks).
pub const SNIPPET_CHARS: usize = 120;

/// A whole submission, as read.
#[derive(Clone, Debug, PartialEq)]
pub struct Submission {
    /// Which format the text was read as.
    pub format: SubmissionFormat,
    /// The equation chains, in the order they stand in the file.
    pub claims: Vec<Claim>,
    /// Math that claims something (it has an `=`) but could not be read, in file order.
    pub unreadable: Vec<Unreadable>,
}

/// The format a submission was read as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubmissionFormat {
    /// Markdown (or any text) with LaTeX math between `$` signs or similar delimiters; the prose
    /// around the math is ignored.
    Markdown,
    /// An answers file: one `NAME = VALUE` (or a chain `NAME = EXPR = VALUE`) per line.
    Plain,
}

/// `A = B = C`: one equation chain as written, possibly continued over rows or lines (a row, math
/// block or line that starts with `=` adds its sides to the chain before it).
#[derive(Clone, Debug, PartialEq)]
pub struct Claim {
    /// At least two sides, in order.
    pub sides: Vec<Side>,
}

/// One side of an equation chain.
#[derive(Clone, Debug, PartialEq)]
pub struct Side {
    /// The side, parsed.
    pub expr: MathExpr,
    /// The 1-based line of the file on which the side starts.
    pub line: usize,
    /// The side's source text, trimmed (alignment `&`s and relation signs around it excluded).
    pub text: String,
}

/// Math that has an `=` but could not be read, or another problem with the text (an unterminated
/// `$$`, too many claims, ...). Nothing that claims something is dropped silently.
#[derive(Clone, Debug, PartialEq)]
pub struct Unreadable {
    /// The 1-based line of the problem (of the offending token where known).
    pub line: usize,
    /// The offending snippet, whitespace collapsed, at most [`SNIPPET_CHARS`] characters (with
    /// `…` where it was cut).
    pub text: String,
    /// Why, in lower case without a trailing period: "unknown command `\foo`".
    pub reason: String,
}

/// A side of an equation, as written (no simplification; parentheses leave no trace).
#[derive(Clone, Debug, PartialEq)]
pub enum MathExpr {
    /// A number literal as written (`0.0005`, `5e-4`); a minus sign written right before it is
    /// folded in (`-0.12`). A decimal comma (`0,5`, `0{,}5`) is turned into a point. The digits
    /// are kept as written: the tolerance of a claim comes from them.
    Number(String),
    /// A quantity: `h_{11}`, `b_{h11}`, `w_5`, `y_{pred}`, `\eta`, `x1`, `w5_new`.
    Name(Name),
    /// A derivative of one quantity with respect to another: `\frac{\partial L}{\partial h_{11}}`,
    /// `\partial L/\partial w_1`, `dL/dw5`, `\frac{dL}{dw_5}`. `of` is any name; whether it is
    /// the loss is for the checker to decide.
    Grad {
        /// The quantity differentiated (`L`, or `z` in `\frac{\partial z}{\partial w_5}`).
        of: Name,
        /// The quantity it is differentiated with respect to.
        wrt: Name,
    },
    /// `-x`.
    Neg(Box<MathExpr>),
    /// `a + b`.
    Add(Box<MathExpr>, Box<MathExpr>),
    /// `a - b`.
    Sub(Box<MathExpr>, Box<MathExpr>),
    /// `a * b`, `a \cdot b`, `a \times b`, or side by side: `(0.002)(0.494)`, `w_1 x_1`.
    Mul(Box<MathExpr>, Box<MathExpr>),
    /// `a / b`, or `\frac{a}{b}` when it is not a derivative.
    Div(Box<MathExpr>, Box<MathExpr>),
    /// `x^2`, `x^{-1}`, `(..)^{2}`; `\sqrt{x}` is `x^(1/2)`.
    Pow(Box<MathExpr>, Box<MathExpr>),
    /// Component `index` (1-based) of a softmax group: `\operatorname{softmax}_{2}(z_1, z_2)`,
    /// `softmax(z1, z2)[2]`.
    Softmax {
        /// Which component, from 1.
        index: usize,
        /// The group's arguments.
        args: Vec<MathExpr>,
    },
    /// A function applied to one argument.
    Call {
        /// Which function.
        func: Func,
        /// Its argument.
        arg: Box<MathExpr>,
    },
}

/// The functions a submission may apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Func {
    /// `\sigma(x)`, `sigma(x)`, `sigmoid(x)`.
    Sigmoid,
    /// `\sigma'(x)`, `\sigma^{\prime}(x)`: the derivative of the sigmoid.
    SigmoidPrime,
    /// `\tanh(x)`, `tanh(x)`.
    Tanh,
    /// `\operatorname{ReLU}(x)`, `\text{ReLU}(x)`, `relu(x)`, `\max(0, x)`.
    Relu,
    /// `e^{x}`, `\exp(x)`, `exp(x)`.
    Exp,
    /// `\ln(x)`, `\log(x)`, `ln(x)`, `log(x)`: the natural logarithm.
    Log,
    /// `\operatorname{softplus}(x)`, `softplus(x)`.
    Softplus,
    /// `\operatorname{step}(x)`: 1 for x > 0, else 0 (the derivative of ReLU, as bpsheet writes it).
    Step,
    /// `\operatorname{id}(x)`, `identity(x)`.
    Identity,
}

/// A name as written, normalized: base and subscript, plus whether it is an updated value.
///
/// `h_{11}` is base `h`, sub `11`; `b_{h11}` is `b`, `h11`; `y_{pred}` is `y`, `pred`; `\eta` is
/// `eta`; `x1` is `x`, `1`; `h_{1,1}` is `h`, `1,1`. A layer superscript is kept in front of the
/// subscript in parentheses: `a^{(1)}_{1}` is `a`, `(1)1`; `w^{(2)}_{12}` is `w`, `(2)12`. In an
/// answers file the spec name is split the way bpsheet typesets it (`b_h11` is `b`, `h11`;
/// `w1_2` is `w`, `1,2`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Name {
    /// The letter or word: `h`, `b`, `w`, `eta` (Greek as its name), `L`, `y`, `out`.
    pub base: String,
    /// The subscript pieces, comma-separated where written with commas (or `_` in a spec name):
    /// `11`, `h11`, `pred`, `5`, `1,1`, `(2)12`, or empty.
    pub sub: String,
    /// An updated value: `w_{5(new)}`, `w_5^{new}`, `w_5'`, `w5_new`, `w_5^{+}`, `w_{new}`,
    /// `w_5^{(t+1)}`. The marker is not part of `sub` (`old` is dropped too).
    pub updated: bool,
    /// The name as in the source (`h_{11}`, `w_{5(new)}`, `w5_new`).
    pub written: String,
}

impl Name {
    /// Spec-style names this could be, in order of preference: `h11` for `h_{11}`; `b_h11` for
    /// `b_{h11}`; `y_pred`; `w5`; `h1_1` for `h_{1,1}`; `a1_1` for `a^{(1)}_{1}`; `w2_1_2` for
    /// `w^{(2)}_{12}`; then fallbacks (`h_11`, digits split as `h1_1`, the written form). An
    /// updated value's candidates name the quantity it updates (`w5` for `w_5^{new}`).
    pub fn candidates(&self) -> Vec<String> {
        names::candidates(self)
    }
}

/// Reads a submission: Markdown if the text contains math delimited by `$` (or `\[`, `\(`, a
/// math environment, a math fence), else a plain answers file.
pub fn read(text: &str) -> Submission {
    let found = markdown::scan(text);
    let mut sink = Sink::new(text);
    let format = if found.is_empty() {
        plain::read(text, &mut sink);
        SubmissionFormat::Plain
    } else {
        for item in found {
            if sink.stopped {
                break;
            }
            match item {
                markdown::Found::Math { start, end } => {
                    equation::read_math(text, start, end, &mut sink)
                }
                markdown::Found::Unterminated { at, reason } => {
                    let end = text[at..].find('\n').map_or(text.len(), |n| at + n);
                    sink.fail(at, at, end, reason);
                }
            }
        }
        SubmissionFormat::Markdown
    };
    sink.finish(format)
}

/// What the chain before a continuation (`= ...`) is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Last {
    /// Nothing claimed yet.
    Nothing,
    /// This claim (an index into the claims).
    Claim(usize),
    /// The last equation could not be read, so a continuation has nothing to attach to.
    Broken,
}

/// A side before it gets its line: the parsed expression and the source range of its tokens.
pub(super) struct RawSide {
    pub expr: MathExpr,
    pub start: usize,
    pub end: usize,
}

/// Collects claims and unreadable entries in file order, enforcing the caps.
pub(super) struct Sink<'s> {
    src: &'s str,
    cursor: LineCursor<'s>,
    claims: Vec<Claim>,
    unreadable: Vec<Unreadable>,
    /// Unreadable entries beyond the cap: how many, and the line of the first.
    omitted: usize,
    omitted_line: usize,
    last: Last,
    sides: usize,
    /// Set when a cap on claims was reached: reading stops.
    pub stopped: bool,
}

impl<'s> Sink<'s> {
    fn new(src: &'s str) -> Self {
        Sink {
            src,
            cursor: LineCursor {
                bytes: src.as_bytes(),
                pos: 0,
                line: 1,
            },
            claims: Vec::new(),
            unreadable: Vec::new(),
            omitted: 0,
            omitted_line: 0,
            last: Last::Nothing,
            sides: 0,
            stopped: false,
        }
    }

    /// The 1-based line of a byte offset.
    fn line(&mut self, at: usize) -> usize {
        self.cursor.line_at(at)
    }

    /// `what` (`math`, `line`) at `start..end` is longer than the reader takes.
    pub fn too_long(&mut self, what: &str, start: usize, end: usize) {
        let reason = format!(
            "{what} too long to read ({} bytes, at most {})",
            end - start,
            equation::MAX_EQUATION_BYTES
        );
        self.fail(start, start, end, reason);
    }

    /// Records an unreadable passage: `start..end` is the passage, `focus` the offending spot
    /// (its line is reported, and a long snippet is cut around it). A continuation right after
    /// it has nothing to attach to.
    pub fn fail(&mut self, focus: usize, start: usize, end: usize, reason: impl Into<String>) {
        self.last = Last::Broken;
        // One entry is kept free for the summary of the omitted ones.
        if self.unreadable.len() + 1 >= MAX_UNREADABLE {
            if self.omitted == 0 {
                self.omitted_line = self.line(focus);
            }
            self.omitted += 1;
            return;
        }
        let line = self.line(focus);
        let text = snippet(self.src, start, end, focus);
        self.unreadable.push(Unreadable {
            line,
            text,
            reason: reason.into(),
        });
    }

    /// Records an equation: a new claim, or (`continued`) more sides for the claim before.
    /// `at..end` is the equation's source, for a message when it cannot be attached.
    pub fn equation(&mut self, continued: bool, raw: Vec<RawSide>, at: usize, end: usize) {
        if self.stopped {
            return;
        }
        if self.sides + raw.len() > MAX_SIDES || (!continued && self.claims.len() >= MAX_CLAIMS) {
            self.fail(
                at,
                at,
                end,
                format!(
                    "too many equations: reading stopped after {} claims with {} sides",
                    self.claims.len(),
                    self.sides
                ),
            );
            self.stopped = true;
            return;
        }
        if continued {
            match self.last {
                Last::Claim(index) => {
                    let sides = self.sides(raw);
                    self.claims[index].sides.extend(sides);
                }
                Last::Broken => {
                    self.fail(at, at, end, "continues an equation that could not be read");
                }
                Last::Nothing => {
                    self.fail(
                        at,
                        at,
                        end,
                        "starts with `=` but no equation comes before it",
                    );
                }
            }
        } else {
            let sides = self.sides(raw);
            self.claims.push(Claim { sides });
            self.last = Last::Claim(self.claims.len() - 1);
        }
    }

    fn sides(&mut self, raw: Vec<RawSide>) -> Vec<Side> {
        self.sides += raw.len();
        raw.into_iter()
            .map(|side| Side {
                line: self.line(side.start),
                text: self.src[side.start..side.end].trim().to_string(),
                expr: side.expr,
            })
            .collect()
    }

    fn finish(mut self, format: SubmissionFormat) -> Submission {
        if self.omitted > 0 {
            self.unreadable.push(Unreadable {
                line: self.omitted_line,
                text: String::new(),
                reason: format!(
                    "{} more unreadable passages not listed (from line {} on)",
                    self.omitted, self.omitted_line
                ),
            });
        }
        Submission {
            format,
            claims: self.claims,
            unreadable: self.unreadable,
        }
    }
}

/// Line numbers by a cursor that moves from one offset to the next: offsets come mostly in
/// increasing order, so the total work is linear without a table of line starts (which for a
/// file of newlines would be eight times its size).
struct LineCursor<'s> {
    bytes: &'s [u8],
    pos: usize,
    line: usize,
}

impl LineCursor<'_> {
    fn line_at(&mut self, at: usize) -> usize {
        let at = at.min(self.bytes.len());
        if at >= self.pos {
            self.line += self.bytes[self.pos..at]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
        } else {
            self.line -= self.bytes[at..self.pos]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
        }
        self.pos = at;
        self.line
    }
}

/// The snippet an [`Unreadable`] entry quotes: `start..end` trimmed, whitespace runs collapsed,
/// control characters replaced; when long, [`SNIPPET_CHARS`] characters around `focus`.
pub(super) fn snippet(src: &str, start: usize, end: usize, focus: usize) -> String {
    let start = floor_boundary(src, start.min(src.len()));
    let end = floor_boundary(src, end.clamp(start, src.len()));
    let text = &src[start..end];
    let trimmed_start = start + (text.len() - text.trim_start().len());
    let trimmed_end = trimmed_start + text.trim().len();
    let (start, end) = (trimmed_start, trimmed_end.max(trimmed_start));
    let focus = floor_boundary(src, focus.clamp(start, end));
    // All of it if it is short; else from up to 40 characters before the focus. (Counting stops
    // early, so a huge passage costs no more than a short one.)
    let short = src[start..end].chars().take(SNIPPET_CHARS + 1).count() <= SNIPPET_CHARS;
    let mut from = if short { start } else { focus };
    for _ in 0..40 {
        if from <= start {
            break;
        }
        from = floor_boundary(src, from - 1);
    }
    let mut out = String::new();
    if from > start {
        out.push('…');
    }
    let mut in_space = false;
    let mut to = from;
    for c in src[from..end].chars().take(SNIPPET_CHARS) {
        to += c.len_utf8();
        if c.is_whitespace() {
            if !in_space {
                out.push(' ');
            }
            in_space = true;
            continue;
        }
        in_space = false;
        out.push(if c.is_control() { '\u{fffd}' } else { c });
    }
    if to < end {
        out.push('…');
    }
    out
}

/// The largest char boundary at or before `i`.
pub(super) fn floor_boundary(src: &str, mut i: usize) -> usize {
    i = i.min(src.len());
    while !src.is_char_boundary(i) {
        i -= 1;
    }
    i
}
