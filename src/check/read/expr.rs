//! One side of an equation into a [`MathExpr`]: precedence, products by juxtaposition,
//! derivatives (`\frac{\partial L}{\partial w}`, `\partial L/\partial w`, `dL/dw`), function
//! calls, and names with their subscripts and superscripts.
//!
//! Recursive descent over a token slice whose brackets the caller has checked (balanced, nested at
//! most [`MAX_NESTING`] deep). Recursion happens only into brackets, groups and function
//! arguments, and every recursive entry counts against [`MAX_RECURSION`] as a backstop; chains
//! (`a + b + ...`, `- - x`) are loops, and the depth of the tree they build is capped at
//! [`MAX_TREE_DEPTH`] so that dropping, cloning or comparing a [`MathExpr`] cannot overflow the
//! stack either.

use super::lex::{Kind, Mode, Token};
use super::names::{self, Marker, NameParts};
use super::{Func, MAX_NESTING, MathExpr, Name};

/// Why a side could not be read, and where (a byte offset).
#[derive(Debug)]
pub(super) struct Fail {
    pub at: usize,
    pub reason: String,
}

pub(super) type PResult<T> = Result<T, Box<Fail>>;

/// An error at `at`.
pub(super) fn fail<T>(at: usize, reason: impl Into<String>) -> PResult<T> {
    Err(Box::new(Fail {
        at,
        reason: reason.into(),
    }))
}

/// The deepest expression tree read (a chain `a + b + ...` is as deep as it is long).
pub(super) const MAX_TREE_DEPTH: u32 = 500;
/// Recursive entries allowed at once: a few per level of nesting.
const MAX_RECURSION: usize = 2 * MAX_NESTING + 10;

/// The reason given for nesting that is too deep.
pub(super) fn too_deep() -> String {
    format!("nesting deeper than {MAX_NESTING} levels")
}

/// Commands that are math but nothing a claim can be checked with.
const CANNOT_EVALUATE: &[&str] = &[
    "sum",
    "prod",
    "int",
    "iint",
    "oint",
    "lim",
    "sup",
    "inf",
    "min",
    "nabla",
    "cdots",
    "dots",
    "ldots",
    "vdots",
    "ddots",
    "pm",
    "mp",
    "infty",
    "sin",
    "cos",
    "tan",
    "cot",
    "sec",
    "csc",
    "arcsin",
    "arccos",
    "arctan",
    "sinh",
    "cosh",
    "coth",
    "det",
    "dim",
    "ker",
    "deg",
    "gcd",
    "lg",
    "Pr",
    "arg",
    "argmax",
    "argmin",
    "neq",
    "ne",
    "le",
    "leq",
    "ge",
    "geq",
    "lt",
    "gt",
    "ll",
    "gg",
    "leqslant",
    "geqslant",
    "propto",
    "sim",
    "in",
    "notin",
    "subset",
    "subseteq",
    "forall",
    "exists",
    "circ",
    "odot",
    "otimes",
    "oplus",
    "star",
    "dagger",
    "top",
    "intercal",
    "lfloor",
    "rfloor",
    "lceil",
    "rceil",
    "langle",
    "rangle",
    "mod",
    "bmod",
    "pmod",
    "binom",
    "tbinom",
    "dbinom",
    "choose",
    "overset",
    "underset",
    "stackrel",
    "substack",
    "cancel",
    "bcancel",
    "xcancel",
    "sout",
    "dot",
    "ddot",
    "equiv",
    "land",
    "lor",
    "neg",
    "lnot",
    "setminus",
    "cup",
    "cap",
    "emptyset",
    "varnothing",
    "checkmark",
    "square",
    "blacksquare",
    "Box",
    "qed",
    "hbar",
    "Re",
    "Im",
    "wp",
    "aleph",
    "not",
    "angle",
    "perp",
    "parallel",
    "vee",
    "wedge",
    "oslash",
];

/// Commands that set their argument in a style: a word in them is a name or a function.
const STYLED: &[&str] = &[
    "operatorname",
    "mathrm",
    "text",
    "textrm",
    "textit",
    "textbf",
    "textsf",
    "texttt",
    "textnormal",
    "mbox",
    "mathit",
    "mathbf",
    "mathsf",
    "mathtt",
    "boldsymbol",
    "bm",
    "mathcal",
    "mathscr",
    "mathbb",
    "mathfrak",
    "mathnormal",
];

/// Accents that make a different quantity of the same letter: `\hat{y}` is `y` with `hat`.
const DECORATORS: &[(&str, &str)] = &[
    ("hat", "hat"),
    ("widehat", "hat"),
    ("bar", "bar"),
    ("overline", "bar"),
    ("tilde", "tilde"),
    ("widetilde", "tilde"),
    ("vec", ""),
    ("overrightarrow", ""),
];

/// Parses one side (a non-empty token slice) into an expression.
pub(super) fn parse_side<'s>(src: &'s str, tokens: &[Token<'s>], mode: Mode) -> PResult<MathExpr> {
    let mut parser = Parser::new(src, tokens, mode);
    let e = parser.expr()?;
    if parser.pos < parser.end {
        return Err(parser.unexpected());
    }
    Ok(*e.x)
}

/// A parsed expression and the depth of its tree.
struct E {
    x: Box<MathExpr>,
    d: u32,
}

impl E {
    fn leaf(x: MathExpr) -> E {
        E {
            x: Box::new(x),
            d: 1,
        }
    }
}

/// A binary node, refusing trees deeper than [`MAX_TREE_DEPTH`].
fn node(f: fn(Box<MathExpr>, Box<MathExpr>) -> MathExpr, a: E, b: E, at: usize) -> PResult<E> {
    let d = a.d.max(b.d) + 1;
    if d > MAX_TREE_DEPTH {
        return fail(
            at,
            format!("expression too long: more than {MAX_TREE_DEPTH} operations deep"),
        );
    }
    Ok(E {
        x: Box::new(f(a.x, b.x)),
        d,
    })
}

fn call_node(func: Func, arg: E, at: usize) -> PResult<E> {
    if arg.d >= MAX_TREE_DEPTH {
        return fail(
            at,
            format!("expression too long: more than {MAX_TREE_DEPTH} operations deep"),
        );
    }
    Ok(E {
        d: arg.d + 1,
        x: Box::new(MathExpr::Call { func, arg: arg.x }),
    })
}

/// `-e`, folding the sign into a number literal (`-0.12`) as written.
fn negate(e: E, at: usize) -> PResult<E> {
    if let MathExpr::Number(text) = e.x.as_ref()
        && !text.starts_with('-')
    {
        return Ok(E::leaf(MathExpr::Number(format!("-{text}"))));
    }
    if e.d >= MAX_TREE_DEPTH {
        return fail(
            at,
            format!("expression too long: more than {MAX_TREE_DEPTH} operations deep"),
        );
    }
    Ok(E {
        d: e.d + 1,
        x: Box::new(MathExpr::Neg(e.x)),
    })
}

/// Whether a token can start an operand (so that two operands side by side are a product).
fn starts_operand(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::Num | Kind::Ident | Kind::Cmd | Kind::Open | Kind::LBrace | Kind::Bad
    )
}

/// A command's name without the backslash (mapped Unicode tokens carry the command's spelling).
fn command_name<'s>(token: &Token<'s>) -> &'s str {
    token.text.strip_prefix('\\').unwrap_or(token.text)
}

fn is_partial(token: &Token<'_>) -> bool {
    token.kind == Kind::Cmd && command_name(token) == "partial"
}

/// A character for a message: printable ones quoted, others as a code point.
pub(super) fn describe(text: &str) -> String {
    match text.chars().next() {
        Some(c) if c.is_control() || c.is_whitespace() => format!("U+{:04X}", c as u32),
        Some(_) => format!("`{text}`"),
        None => "an unknown character".to_string(),
    }
}

/// What a `\frac` numerator or denominator is, as part of a derivative.
enum Differential {
    /// Not a differential: an ordinary numerator or denominator.
    NotOne,
    /// `\partial L`, `dL`, `d w_5`: the differential of a name (`true` for `\partial`).
    Of(Name, bool),
    /// `\partial` followed by an expression, not a name: this source range.
    OfExpr(usize, usize),
    /// `\partial^2 L`.
    Higher,
    /// `\partial` or `d` alone (the operator form `\frac{\partial}{\partial w}`).
    Bare(bool),
}

/// What a superscript on a name is, when it is not a power.
enum Superscript {
    /// `^{(2)}`: a layer.
    Layer(String),
    /// `^{new}`, `^{+}`, `'`, `^{old}`.
    Marker(Marker),
}

struct Parser<'a, 's> {
    src: &'s str,
    t: &'a [Token<'s>],
    /// For each opening bracket or brace, the index of its closer (`usize::MAX` if none).
    close: Vec<usize>,
    pos: usize,
    end: usize,
    depth: usize,
    mode: Mode,
}

impl<'a, 's> Parser<'a, 's> {
    fn new(src: &'s str, t: &'a [Token<'s>], mode: Mode) -> Self {
        let close = super::equation::matching(t);
        Parser {
            src,
            t,
            close,
            pos: 0,
            end: t.len(),
            depth: 0,
            mode,
        }
    }

    // ---- cursor helpers -------------------------------------------------------------------

    fn peek(&self) -> Option<Token<'s>> {
        (self.pos < self.end).then(|| self.t[self.pos])
    }

    fn kind_at(&self, i: usize) -> Option<Kind> {
        (i < self.end).then(|| self.t[i].kind)
    }

    fn is_op(&self, c: char) -> bool {
        self.kind_at(self.pos) == Some(Kind::Op(c))
    }

    /// The byte offset of the current token (or the end of the last one).
    fn here(&self) -> usize {
        if self.pos < self.end {
            self.t[self.pos].start
        } else if self.end > 0 {
            self.t[self.end - 1].end
        } else {
            0
        }
    }

    /// The error for the current token: unexpected, or something missing at the end.
    fn unexpected(&self) -> Box<Fail> {
        let Some(token) = self.peek() else {
            return self.missing();
        };
        let reason = match token.kind {
            Kind::Bad if token.text.starts_with("\\left") || token.text.starts_with("\\right") => {
                format!("`{}` without a bracket after it", quote(token.text))
            }
            Kind::Bad => format!("unexpected character {}", describe(token.text)),
            Kind::Rel => format!(
                "unexpected `{}` inside brackets or a subscript",
                quote(token.text)
            ),
            Kind::Op('|' | '!' | '<' | '>') | Kind::Sep => {
                format!("cannot evaluate `{}`", quote(token.text))
            }
            Kind::RowBreak => "unexpected line break `\\\\`".to_string(),
            _ => format!("unexpected `{}`", quote(token.text)),
        };
        Box::new(Fail {
            at: token.start,
            reason,
        })
    }

    /// The error for a value missing here.
    fn missing(&self) -> Box<Fail> {
        let reason = match self.pos.checked_sub(1).and_then(|i| self.t.get(i)) {
            Some(before) if self.pos > 0 => {
                format!("expected a value after `{}`", quote(before.text))
            }
            _ => "expected a value".to_string(),
        };
        Box::new(Fail {
            at: self.here(),
            reason,
        })
    }

    /// Counts a recursive entry; every successful `enter` is paired with a `leave`.
    fn enter(&mut self) -> PResult<()> {
        if self.depth == MAX_RECURSION {
            return fail(self.here(), too_deep());
        }
        self.depth += 1;
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// Runs `f` on exactly the tokens `a..b`, then restores the cursor.
    fn range<T>(
        &mut self,
        a: usize,
        b: usize,
        f: impl FnOnce(&mut Self) -> PResult<T>,
    ) -> PResult<T> {
        let (pos, end) = (self.pos, self.end);
        self.pos = a;
        self.end = b;
        let result = f(self).and_then(|value| {
            if self.pos < self.end {
                Err(self.unexpected())
            } else {
                Ok(value)
            }
        });
        self.pos = pos;
        self.end = end;
        result
    }

    /// Like [`Self::range`], but `None` on any failure.
    fn try_range<T>(
        &mut self,
        a: usize,
        b: usize,
        f: impl FnOnce(&mut Self) -> PResult<Option<T>>,
    ) -> Option<T> {
        self.range(a, b, f).ok().flatten()
    }

    /// At an opening bracket or brace: the range inside, the cursor moved past the closer.
    fn group(&mut self) -> PResult<(usize, usize)> {
        let open = self.pos;
        let close = self.close[open];
        if close == usize::MAX || close >= self.end {
            return fail(self.t[open].start, "unbalanced brackets");
        }
        self.pos = close + 1;
        Ok((open + 1, close))
    }

    /// A command's argument: a braced group, or a single token as TeX takes it.
    fn arg(&mut self, of: &Token<'s>) -> PResult<(usize, usize)> {
        match self.kind_at(self.pos) {
            Some(Kind::LBrace) => self.group(),
            Some(Kind::Num | Kind::Ident | Kind::Cmd) => {
                self.pos += 1;
                Ok((self.pos - 1, self.pos))
            }
            _ => fail(
                self.here(),
                format!("`{}` needs an argument in braces", quote(of.text)),
            ),
        }
    }

    /// The index after the argument starting at `i` (a group or a single token).
    fn skip_arg(&self, i: usize) -> usize {
        match self.kind_at(i) {
            Some(Kind::LBrace | Kind::Open) if self.close[i] < self.end => self.close[i] + 1,
            Some(Kind::Op('-' | '+')) => i + 2,
            Some(_) => i + 1,
            None => i,
        }
    }

    // ---- expressions ----------------------------------------------------------------------

    fn expr(&mut self) -> PResult<E> {
        self.enter()?;
        let result = self.sum();
        self.leave();
        result
    }

    fn sum(&mut self) -> PResult<E> {
        let mut acc = self.term()?;
        loop {
            let f: fn(Box<MathExpr>, Box<MathExpr>) -> MathExpr = if self.is_op('+') {
                MathExpr::Add
            } else if self.is_op('-') {
                MathExpr::Sub
            } else {
                break;
            };
            let at = self.here();
            self.pos += 1;
            let rhs = self.term()?;
            acc = node(f, acc, rhs, at)?;
        }
        Ok(acc)
    }

    /// A factor after `*` or `/`, which may carry signs (`a \cdot -b`).
    fn signed_factor(&mut self) -> PResult<E> {
        let at = self.here();
        let negations = self.signs();
        let e = self.factor()?;
        if negations == 0 {
            Ok(e)
        } else {
            negate_times(e, at, negations)
        }
    }

    /// Skips leading `+`/`-` signs; how many were `-`.
    fn signs(&mut self) -> usize {
        let mut negations = 0;
        while self.is_op('-') || self.is_op('+') {
            negations += usize::from(self.is_op('-'));
            self.pos += 1;
        }
        negations
    }

    /// A product, with leading signs (however many: a loop) that apply to all of it.
    fn term(&mut self) -> PResult<E> {
        let at = self.here();
        let mut negations = self.signs();
        let mut acc = self.factor()?;
        // `-0.104 \cdot 0.539`: the sign is written on the number, so it stays there.
        if negations % 2 == 1
            && matches!(acc.x.as_ref(), MathExpr::Number(n) if !n.starts_with('-'))
        {
            acc = negate(acc, at)?;
            negations -= 1;
        }
        while let Some(token) = self.peek() {
            acc = match token.kind {
                Kind::Op('*') => {
                    self.pos += 1;
                    let rhs = self.signed_factor()?;
                    node(MathExpr::Mul, acc, rhs, token.start)?
                }
                Kind::Op('/') => {
                    self.pos += 1;
                    let rhs = self.signed_factor()?;
                    node(MathExpr::Div, acc, rhs, token.start)?
                }
                kind if starts_operand(kind) => {
                    if kind == Kind::Num && self.t[self.pos - 1].kind == Kind::Num {
                        return Err(two_numbers(&self.t[self.pos - 1], &token));
                    }
                    let rhs = self.factor()?;
                    node(MathExpr::Mul, acc, rhs, token.start)?
                }
                _ => break,
            };
        }
        if negations == 0 {
            Ok(acc)
        } else {
            negate_times(acc, at, negations)
        }
    }

    /// A power, or a derivative written with a slash (`\partial L/\partial w`, `dL/dw5`), which
    /// binds tighter than the products around it.
    fn factor(&mut self) -> PResult<E> {
        if let Some(grad) = self.slash_derivative()? {
            return Ok(grad);
        }
        self.power()
    }

    fn power(&mut self) -> PResult<E> {
        let mut base = self.atom()?;
        if !self.is_op('^') {
            return Ok(base);
        }
        // `{w_{1}}^{\mathrm{new}}` (how bpsheet typesets an updated value): a marker, not a power.
        if let MathExpr::Name(name) = base.x.as_mut()
            && let Some(end) = self.update_superscript(self.pos + 1)
        {
            name.updated = true;
            self.pos = end;
            return Ok(base);
        }
        let at = self.here();
        self.pos += 1;
        let exponent = self.exponent()?;
        if self.is_op('^') {
            return fail(self.here(), "double superscript: write `{x^a}^b`");
        }
        node(MathExpr::Pow, base, exponent, at)
    }

    /// After `^`: a group, a parenthesized exponent (answers files: `x^(-1)`), a signed token
    /// (`x^-1`) or one token.
    fn exponent(&mut self) -> PResult<E> {
        match self.kind_at(self.pos) {
            Some(Kind::LBrace | Kind::Open) => {
                let (a, b) = self.group()?;
                if a == b {
                    return fail(self.t[a - 1].start, "empty exponent");
                }
                self.range(a, b, Self::expr)
            }
            Some(Kind::Op('-')) => {
                let at = self.here();
                self.pos += 1;
                let e = self.exponent_token()?;
                negate(e, at)
            }
            Some(Kind::Op('+')) => {
                self.pos += 1;
                self.exponent_token()
            }
            Some(_) => self.exponent_token(),
            None => fail(self.here(), "nothing after `^`"),
        }
    }

    fn exponent_token(&mut self) -> PResult<E> {
        let Some(token) = self.peek() else {
            return Err(self.missing());
        };
        match token.kind {
            Kind::Num => {
                self.pos += 1;
                Ok(E::leaf(number(token.text)))
            }
            Kind::Ident => {
                // One token, as TeX takes it: `e^x_1` would be odd anyway.
                let parts = self.word_parts(&token).unwrap_or_else(|| NameParts {
                    base: token.text.to_string(),
                    ..NameParts::default()
                });
                self.pos += 1;
                Ok(E::leaf(MathExpr::Name(parts.finish(token.text))))
            }
            Kind::Cmd if self.name_start(self.pos) => self.name_expr(),
            _ => Err(self.unexpected()),
        }
    }

    fn atom(&mut self) -> PResult<E> {
        self.enter()?;
        let result = self.atom_inner();
        self.leave();
        result
    }

    fn atom_inner(&mut self) -> PResult<E> {
        let Some(token) = self.peek() else {
            return Err(self.missing());
        };
        match token.kind {
            Kind::Num => {
                self.pos += 1;
                if token.text.matches(',').count() > 1 {
                    return fail(token.start, "unexpected `,` in a number");
                }
                Ok(E::leaf(number(token.text)))
            }
            Kind::Ident => self.word(token),
            Kind::Cmd => self.command(token),
            Kind::Open | Kind::LBrace => {
                let (a, b) = self.group()?;
                if a == b {
                    let what = if token.kind == Kind::Open {
                        "empty brackets"
                    } else {
                        "empty braces"
                    };
                    return fail(token.start, what);
                }
                self.range(a, b, Self::expr)
            }
            _ => Err(self.unexpected()),
        }
    }

    /// A word: a function called (`sigmoid(h)`), `e^{x}`, or a name.
    fn word(&mut self, token: Token<'s>) -> PResult<E> {
        let text = token.text;
        if let Some(func) = names::func_word(text)
            && self.call_follows(self.pos + 1)
        {
            self.pos += 1;
            return self.call(func, token);
        }
        if text.eq_ignore_ascii_case("max") && self.kind_at(self.pos + 1) == Some(Kind::Open) {
            self.pos += 1;
            return self.max(token);
        }
        if text.eq_ignore_ascii_case("softmax") {
            self.pos += 1;
            return self.softmax(token);
        }
        if names::unsupported_func_word(text) && self.kind_at(self.pos + 1) == Some(Kind::Open) {
            return fail(token.start, format!("cannot evaluate `{}`", quote(text)));
        }
        if text == "e" && self.kind_at(self.pos + 1) == Some(Kind::Op('^')) {
            self.pos += 2;
            let arg = self.exponent()?;
            return call_node(Func::Exp, arg, token.start);
        }
        self.name_expr()
    }

    fn name_expr(&mut self) -> PResult<E> {
        match self.name_here()? {
            Some(name) => Ok(E::leaf(MathExpr::Name(name))),
            None => Err(self.unexpected()),
        }
    }

    fn command(&mut self, token: Token<'s>) -> PResult<E> {
        let name = command_name(&token);
        match name {
            "frac" | "dfrac" | "tfrac" | "cfrac" => self.frac(token),
            "sqrt" => self.sqrt(token),
            "sigma" if self.call_follows(self.pos + 1) => {
                self.pos += 1;
                self.call(Func::Sigmoid, token)
            }
            "tanh" | "exp" | "log" | "ln" => {
                self.pos += 1;
                self.call(names::func_word(name).unwrap_or(Func::Log), token)
            }
            "max" => {
                self.pos += 1;
                self.max(token)
            }
            _ if STYLED.contains(&name) => self.styled(token),
            _ if names::greek(name).is_some() || DECORATORS.iter().any(|(d, _)| *d == name) => {
                self.name_expr()
            }
            _ => Err(self.command_error(&token)),
        }
    }

    /// Why a command cannot stand in an expression.
    #[cold]
    #[inline(never)]
    fn command_error(&self, token: &Token<'s>) -> Box<Fail> {
        let name = command_name(token);
        let reason = match name {
            "partial" => {
                "`\\partial` outside a derivative: write `\\frac{\\partial L}{\\partial w}` or \
                          `\\partial L/\\partial w`"
                    .to_string()
            }
            "begin" => {
                let env = self.env_name(self.pos + 1).unwrap_or_default();
                format!("cannot evaluate `\\begin{{{}}}`", quote(&env))
            }
            _ if CANNOT_EVALUATE.contains(&name) => format!("cannot evaluate `\\{name}`"),
            _ => format!("unknown command `{}`", quote(token.text)),
        };
        Box::new(Fail {
            at: token.start,
            reason,
        })
    }

    /// The environment name in `{...}` at `i`, for a message.
    fn env_name(&self, i: usize) -> Option<String> {
        if self.kind_at(i) != Some(Kind::LBrace) {
            return None;
        }
        let close = self.close[i].min(self.end);
        Some(self.t[i + 1..close].iter().map(|t| t.text).collect())
    }

    /// `\operatorname{ReLU}(x)`, `\mathrm{e}^{x}`, `\mathcal{L}`, `\mathit{out}_{1}`.
    fn styled(&mut self, token: Token<'s>) -> PResult<E> {
        let Some((word, after)) = self.styled_word(self.pos) else {
            let end = self.skip_arg(self.pos + 1).min(self.end).max(self.pos + 1);
            let text = &self.src[token.start..self.t[end - 1].end];
            return fail(
                token.start,
                format!("cannot read `{}` in an equation", quote(text)),
            );
        };
        if let Some(func) = names::func_word(word)
            && word != "sigma"
        {
            self.pos = after;
            return self.call(func, token);
        }
        if word.eq_ignore_ascii_case("max") {
            self.pos = after;
            return self.max(token);
        }
        if word.eq_ignore_ascii_case("softmax") {
            self.pos = after;
            return self.softmax(token);
        }
        if names::unsupported_func_word(word) {
            return fail(token.start, format!("cannot evaluate `{}`", quote(word)));
        }
        if word == "e" && self.kind_at(after) == Some(Kind::Op('^')) {
            self.pos = after + 1;
            let arg = self.exponent()?;
            return call_node(Func::Exp, arg, token.start);
        }
        if word == "d" {
            return fail(token.start, "a differential `d` outside a derivative");
        }
        self.name_expr()
    }

    /// The word inside a styled command at `i` (`\mathrm{ReLU}`, `\mathbf w`, `\mathbf{\theta}`):
    /// the word (a Greek command's spec name) and the index after the argument.
    fn styled_word(&self, i: usize) -> Option<(&'s str, usize)> {
        let (a, b, after) = match self.kind_at(i + 1)? {
            Kind::LBrace if self.close[i + 1] < self.end => {
                (i + 2, self.close[i + 1], self.close[i + 1] + 1)
            }
            Kind::Ident | Kind::Num | Kind::Cmd => (i + 1, i + 2, i + 2),
            _ => return None,
        };
        if b != a + 1 {
            return None;
        }
        let token = &self.t[a];
        match token.kind {
            Kind::Ident => Some((token.text, after)),
            Kind::Cmd => names::greek(command_name(token)).map(|g| (g, after)),
            _ => None,
        }
    }

    /// Whether a call's argument follows at `i`: `(`, or `'(`, or `^{...}(` (`\tanh^2(x)`).
    fn call_follows(&self, mut i: usize) -> bool {
        if self.kind_at(i) == Some(Kind::Op('\'')) {
            i += 1;
        }
        if self.kind_at(i) == Some(Kind::Op('^')) {
            i = self.skip_arg(i + 1);
        }
        self.kind_at(i) == Some(Kind::Open)
    }

    /// Where the superscript argument at `i` ends, if it only marks an updated value (`new`,
    /// `\mathrm{new}`, `(t+1)`, `+`).
    fn update_superscript(&self, i: usize) -> Option<usize> {
        let end = self.skip_arg(i);
        let text: String = self.t[i..end.min(self.t.len())]
            .iter()
            .filter(|t| {
                !matches!(t.kind, Kind::LBrace)
                    && !matches!(
                        t.text,
                        "}" | "\\mathrm" | "\\text" | "\\mathit" | "\\textrm"
                    )
            })
            .map(|t| t.text)
            .collect();
        (names::marker(&text, true) == Some(Marker::New)).then_some(end)
    }

    /// Whether the superscript argument at `i` is a prime (`^{\prime}`, `^\prime`, `^{'}`).
    fn prime_superscript(&self, i: usize) -> bool {
        match self.kind_at(i) {
            Some(Kind::Op('\'')) => true,
            Some(Kind::LBrace) => {
                self.close[i] == i + 2 && self.kind_at(i + 1) == Some(Kind::Op('\''))
            }
            _ => false,
        }
    }

    /// A function applied: the cursor is after the function's name. A prime makes the sigmoid
    /// its derivative; a superscript is a power of the call (`\tanh^2(x)`).
    fn call(&mut self, func: Func, token: Token<'s>) -> PResult<E> {
        let (func, power) = self.call_head(func, &token)?;
        let arg = match self.kind_at(self.pos) {
            Some(Kind::Open | Kind::LBrace) => {
                let (a, b) = self.group()?;
                if a == b {
                    return Err(call_error(&token, "has no argument"));
                }
                self.range(a, b, Self::expr)?
            }
            // `\ln x`, `\tanh h_1`: TeX functions need no parentheses.
            Some(kind) if token.kind == Kind::Cmd && starts_operand(kind) => self.power()?,
            _ => return Err(call_error(&token, "needs an argument in parentheses")),
        };
        let call = call_node(func, arg, token.start)?;
        match power {
            Some(p) => node(MathExpr::Pow, call, p, token.start),
            None => Ok(call),
        }
    }

    /// What comes between a function's name and its argument: a prime (the sigmoid's
    /// derivative) and a power (`\tanh^2(x)`). Kept out of [`Self::call`] so that its frame,
    /// which is on the stack once per level of nesting, stays small.
    #[inline(never)]
    fn call_head(&mut self, mut func: Func, token: &Token<'s>) -> PResult<(Func, Option<E>)> {
        let mut primed = false;
        if self.is_op('\'') {
            self.pos += 1;
            primed = true;
        } else if self.is_op('^') && self.prime_superscript(self.pos + 1) {
            self.pos = self.skip_arg(self.pos + 1);
            primed = true;
        }
        if primed {
            if func != Func::Sigmoid {
                return Err(call_error(
                    token,
                    "with a prime: only the sigmoid's derivative can be written so",
                ));
            }
            func = Func::SigmoidPrime;
        }
        let mut power = None;
        if self.is_op('^') {
            self.pos += 1;
            power = Some(self.exponent()?);
        }
        if self.is_op('_') {
            return Err(call_error(token, "with a subscript cannot be evaluated"));
        }
        Ok((func, power))
    }

    /// `\max(0, x)` is ReLU; any other maximum cannot be checked. The cursor is after `max`.
    fn max(&mut self, token: Token<'s>) -> PResult<E> {
        let cannot = || {
            fail(
                token.start,
                format!("cannot evaluate `{}`", quote(token.text)),
            )
        };
        if self.kind_at(self.pos) != Some(Kind::Open) {
            return cannot();
        }
        let (a, b) = self.group()?;
        let mut i = a;
        let mut comma = None;
        while i < b {
            match self.t[i].kind {
                Kind::LBrace | Kind::Open if self.close[i] < b => i = self.close[i],
                Kind::Op(',') if comma.is_none() => comma = Some(i),
                Kind::Op(',') => return cannot(),
                _ => {}
            }
            i += 1;
        }
        let Some(comma) = comma else { return cannot() };
        let zero = |range: &[Token<'_>]| {
            range.len() == 1
                && range[0].kind == Kind::Num
                && range[0]
                    .text
                    .bytes()
                    .all(|c| matches!(c, b'0' | b'.' | b','))
        };
        let other = if zero(&self.t[a..comma]) {
            (comma + 1, b)
        } else if zero(&self.t[comma + 1..b]) {
            (a, comma)
        } else {
            return cannot();
        };
        if other.0 == other.1 {
            return cannot();
        }
        let arg = self.range(other.0, other.1, Self::expr)?;
        call_node(Func::Relu, arg, token.start)
    }

    /// A softmax component, the cursor after the word: `_{i}(z_1, ..., z_k)` as bpsheet writes it
    /// in LaTeX, or `(z1, ..., zk)[i]` as in plain text.
    fn softmax(&mut self, token: Token<'s>) -> PResult<E> {
        let cannot = |why: &str| {
            fail(
                token.start,
                format!("a softmax {why}: write `\\operatorname{{softmax}}_{{i}}(z_1, ..., z_k)`"),
            )
        };
        let mut index = None;
        if self.is_op('_') {
            self.pos += 1;
            index = self.index_argument();
            if index.is_none() {
                return cannot("index that is not a whole number");
            }
        }
        if self.kind_at(self.pos) != Some(Kind::Open) {
            return cannot("without arguments in parentheses");
        }
        let (a, b) = self.group()?;
        let mut args = Vec::new();
        let mut depth = 1;
        let mut start = a;
        let mut i = a;
        while i <= b {
            let at_comma = i < b && self.t[i].kind == Kind::Op(',');
            if i == b || at_comma {
                if start == i {
                    return cannot("with an empty argument");
                }
                let arg = self.range(start, i, Self::expr)?;
                depth = depth.max(arg.d + 1);
                args.push(*arg.x);
                start = i + 1;
            } else if matches!(self.t[i].kind, Kind::LBrace | Kind::Open) && self.close[i] < b {
                i = self.close[i];
            }
            i += 1;
        }
        if index.is_none()
            && self.kind_at(self.pos).is_some_and(|k| k == Kind::Open)
            && self.t[self.pos].text == "["
        {
            let (a, b) = self.group()?;
            index = (b == a + 1 && self.t[a].kind == Kind::Num)
                .then(|| self.t[a].text.parse().ok())
                .flatten();
        }
        match index {
            Some(index) if (1..=args.len()).contains(&index) => {
                if depth > MAX_TREE_DEPTH {
                    return fail(
                        token.start,
                        format!("expression too long: more than {MAX_TREE_DEPTH} operations deep"),
                    );
                }
                Ok(E {
                    x: Box::new(MathExpr::Softmax { index, args }),
                    d: depth,
                })
            }
            _ => cannot("without a component index from 1 to the number of arguments"),
        }
    }

    /// A whole-number subscript argument: `{2}` or `2`.
    fn index_argument(&mut self) -> Option<usize> {
        match self.kind_at(self.pos)? {
            Kind::LBrace => {
                let (a, b) = self.group().ok()?;
                (b == a + 1 && self.t[a].kind == Kind::Num)
                    .then(|| self.t[a].text.parse().ok())
                    .flatten()
            }
            Kind::Num => {
                let value = self.t[self.pos].text.parse().ok();
                self.pos += 1;
                value
            }
            _ => None,
        }
    }

    /// `\sqrt{x}` is `x^(1/2)`.
    fn sqrt(&mut self, token: Token<'s>) -> PResult<E> {
        self.pos += 1;
        if self
            .peek()
            .is_some_and(|t| t.kind == Kind::Open && t.text == "[")
        {
            return fail(token.start, "cannot evaluate `\\sqrt[n]`");
        }
        let (a, b) = self.arg(&token)?;
        let x = self.range(a, b, Self::expr)?;
        let half = E {
            x: Box::new(MathExpr::Div(
                Box::new(MathExpr::Number("1".into())),
                Box::new(MathExpr::Number("2".into())),
            )),
            d: 2,
        };
        node(MathExpr::Pow, x, half, token.start)
    }

    // ---- derivatives ----------------------------------------------------------------------

    /// `\frac{a}{b}`: a derivative when both are differentials of names, else a division.
    fn frac(&mut self, token: Token<'s>) -> PResult<E> {
        match self.frac_plan(&token)? {
            FracPlan::Done(e) => Ok(e),
            FracPlan::Divide(na, nb, da, db) => {
                let n = self.range(na, nb, Self::expr)?;
                let d = self.range(da, db, Self::expr)?;
                node(MathExpr::Div, n, d, token.start)
            }
        }
    }

    /// Reads `\frac`'s arguments and decides what it is (kept out of [`Self::frac`], whose frame
    /// is on the stack once per level of nesting).
    #[inline(never)]
    fn frac_plan(&mut self, token: &Token<'s>) -> PResult<FracPlan> {
        self.pos += 1;
        // `\frac12`: TeX takes single-digit arguments, and the lexer made `12` one number.
        if let Some(t) = self.peek()
            && t.kind == Kind::Num
            && t.text.len() == 2
            && t.text.bytes().all(|c| c.is_ascii_digit())
        {
            self.pos += 1;
            let (n, d) = t.text.split_at(1);
            let half = node(
                MathExpr::Div,
                E::leaf(number(n)),
                E::leaf(number(d)),
                token.start,
            )?;
            return Ok(FracPlan::Done(half));
        }
        let (na, nb) = self.arg(token)?;
        let (da, db) = self.arg(token)?;
        let numerator = self.differential(na, nb);
        let denominator = self.differential(da, db);
        use Differential::*;
        let at_denominator = self.t[da.min(db.saturating_sub(1))].start;
        let at_numerator = self.t[na.min(nb.saturating_sub(1))].start;
        let (at, reason) = match (numerator, denominator) {
            (Of(of, _), Of(wrt, _)) => {
                return Ok(FracPlan::Done(E::leaf(MathExpr::Grad { of, wrt })));
            }
            (Of(_, false) | NotOne | Bare(false), NotOne | Of(_, false) | Bare(false)) => {
                if na == nb || da == db {
                    return fail(
                        token.start,
                        "`\\frac` with an empty numerator or denominator",
                    );
                }
                return Ok(FracPlan::Divide(na, nb, da, db));
            }
            (Higher, _) | (_, Higher) => (token.start, FracError::Higher),
            (Of(..), OfExpr(a, b)) => (a, FracError::WithRespectToExpr(a, b)),
            (OfExpr(a, b), _) => (a, FracError::OfExpr(a, b)),
            (Bare(_), Of(..) | OfExpr(..))
            | (Bare(true), _)
            | (Of(_, false) | Bare(false), Bare(true)) => (token.start, FracError::Operator),
            (Of(_, true), NotOne | Bare(_)) => (at_denominator, FracError::PartialAbove),
            (NotOne, OfExpr(..) | Of(_, true) | Bare(true)) => {
                (at_numerator, FracError::PartialBelow)
            }
        };
        Err(frac_error(self.src, at, reason))
    }

    /// What the tokens `a..b` are as part of a derivative.
    fn differential(&mut self, a: usize, b: usize) -> Differential {
        if a >= b {
            return Differential::NotOne;
        }
        let first = self.t[a];
        if is_partial(&first) {
            if a + 1 == b {
                return Differential::Bare(true);
            }
            if self.t[a + 1].kind == Kind::Op('^') {
                return Differential::Higher;
            }
            return match self.try_range(a + 1, b, Self::name_here) {
                Some(name) => Differential::Of(name, true),
                None => Differential::OfExpr(self.t[a + 1].start, self.t[b - 1].end),
            };
        }
        if self.is_bare_d(a, b) {
            return Differential::Bare(false);
        }
        match self.try_range(a, b, Self::d_name) {
            Some(name) => Differential::Of(name, false),
            None => Differential::NotOne,
        }
    }

    /// Whether `a..b` is just `d` (or `\mathrm{d}`).
    fn is_bare_d(&self, a: usize, b: usize) -> bool {
        let token = &self.t[a];
        (b == a + 1 && token.kind == Kind::Ident && token.text == "d")
            || (token.kind == Kind::Cmd
                && STYLED.contains(&command_name(token))
                && self
                    .styled_word(a)
                    .is_some_and(|(w, after)| w == "d" && after == b))
    }

    /// A differential written with `d` at the cursor: `dL`, `d L`, `dw_5`, `\mathrm{d}w`. Consumes
    /// it only if it is one.
    fn d_name(&mut self) -> PResult<Option<Name>> {
        let save = self.pos;
        let Some(token) = self.peek() else {
            return Ok(None);
        };
        let found = match token.kind {
            Kind::Ident if token.text == "d" && self.name_start(self.pos + 1) => {
                self.pos += 1;
                self.name_here().ok().flatten()
            }
            Kind::Ident if token.text.len() > 1 && token.text.as_bytes()[0] == b'd' => {
                let rest = &token.text[1..];
                let parts = match self.mode {
                    Mode::Latex => NameParts::latex_word(rest),
                    Mode::Plain => NameParts::spec(rest),
                };
                match parts {
                    Some(parts) => {
                        self.pos += 1;
                        self.scripts(parts).ok().map(|parts| {
                            let end = self.t[self.pos - 1].end;
                            parts.finish(&self.src[token.start + 1..end])
                        })
                    }
                    None => None,
                }
            }
            Kind::Cmd if STYLED.contains(&command_name(&token)) => {
                match self.styled_word(self.pos) {
                    Some(("d", after)) if self.name_start(after) => {
                        self.pos = after;
                        self.name_here().ok().flatten()
                    }
                    _ => None,
                }
            }
            _ => None,
        };
        if found.is_none() {
            self.pos = save;
        }
        Ok(found)
    }

    /// `\partial L/\partial w` or `dL/dw5` at the cursor (a derivative only if both halves are
    /// differentials of names; `d` forms are tried without committing, `\partial` ones must be).
    fn slash_derivative(&mut self) -> PResult<Option<E>> {
        let Some(token) = self.peek() else {
            return Ok(None);
        };
        if is_partial(&token) {
            self.pos += 1;
            let of = self.partial_name(&token)?;
            if !self.is_op('/') {
                return fail(
                    self.here(),
                    "`\\partial` outside a derivative: write `\\partial L/\\partial w` or \
                     `\\frac{\\partial L}{\\partial w}`",
                );
            }
            self.pos += 1;
            let wrt = self.slash_denominator()?;
            return Ok(Some(E::leaf(MathExpr::Grad { of, wrt })));
        }
        if token.kind != Kind::Ident && token.kind != Kind::Cmd {
            return Ok(None);
        }
        let save = self.pos;
        if let Some(of) = self.d_name()?
            && self.is_op('/')
        {
            self.pos += 1;
            if let Some(next) = self.peek()
                && is_partial(&next)
            {
                self.pos += 1;
                let wrt = self.partial_name(&next)?;
                return Ok(Some(E::leaf(MathExpr::Grad { of, wrt })));
            }
            if let Some(wrt) = self.d_name()? {
                return Ok(Some(E::leaf(MathExpr::Grad { of, wrt })));
            }
        }
        self.pos = save;
        Ok(None)
    }

    /// After `\partial L/`: `\partial w` or `dw`.
    fn slash_denominator(&mut self) -> PResult<Name> {
        let Some(token) = self.peek() else {
            return fail(
                self.here(),
                "`\\partial L/` must be followed by `\\partial w`",
            );
        };
        if is_partial(&token) {
            self.pos += 1;
            return self.partial_name(&token);
        }
        match self.d_name()? {
            Some(name) => Ok(name),
            None => fail(
                token.start,
                "`\\partial L/` must be followed by `\\partial w`",
            ),
        }
    }

    /// The name after a `\partial` (the cursor is after it).
    fn partial_name(&mut self, partial: &Token<'s>) -> PResult<Name> {
        if self.is_op('^') {
            return fail(
                partial.start,
                "second and higher derivatives are not supported",
            );
        }
        match self.name_here()? {
            Some(name) => Ok(name),
            None => fail(
                self.here(),
                "`\\partial` must be followed by a quantity's name",
            ),
        }
    }

    // ---- names ----------------------------------------------------------------------------

    /// Whether a name can start at `i`.
    fn name_start(&self, i: usize) -> bool {
        let Some(token) = (i < self.end).then(|| &self.t[i]) else {
            return false;
        };
        match token.kind {
            Kind::Ident | Kind::LBrace => true,
            Kind::Cmd => {
                let name = command_name(token);
                names::greek(name).is_some()
                    || DECORATORS.iter().any(|(d, _)| *d == name)
                    || (STYLED.contains(&name) && self.styled_word(i).is_some())
            }
            _ => false,
        }
    }

    /// A word token as the start of a name (`x1`, `h`, `pred`; in answers files `b_h11`).
    fn word_parts(&self, token: &Token<'s>) -> Option<NameParts> {
        match token.kind {
            Kind::Ident => match self.mode {
                Mode::Latex => NameParts::latex_word(token.text),
                Mode::Plain => NameParts::spec(token.text),
            },
            Kind::Cmd => names::greek(command_name(token)).map(|g| NameParts {
                base: g.to_string(),
                ..NameParts::default()
            }),
            _ => None,
        }
    }

    /// A name at the cursor, with its subscripts and superscripts; `None` (nothing consumed)
    /// if none starts here.
    fn name_here(&mut self) -> PResult<Option<Name>> {
        let start = self.here();
        match self.name_parts()? {
            Some(parts) => {
                let end = self.t[self.pos - 1].end;
                Ok(Some(parts.finish(&self.src[start..end])))
            }
            None => Ok(None),
        }
    }

    fn name_parts(&mut self) -> PResult<Option<NameParts>> {
        self.enter()?;
        let result = self.name_parts_inner();
        self.leave();
        result
    }

    fn name_parts_inner(&mut self) -> PResult<Option<NameParts>> {
        let Some(token) = self.peek() else {
            return Ok(None);
        };
        let parts = match token.kind {
            Kind::Ident => match self.word_parts(&token) {
                Some(parts) => {
                    self.pos += 1;
                    parts
                }
                None => return Ok(None),
            },
            Kind::LBrace => {
                // `{L}`, `{w}_1`
                let save = self.pos;
                let (a, b) = self.group()?;
                match self.try_range(a, b, Self::name_parts) {
                    Some(parts) => parts,
                    None => {
                        self.pos = save;
                        return Ok(None);
                    }
                }
            }
            Kind::Cmd => {
                let name = command_name(&token);
                if let Some(greek) = names::greek(name) {
                    self.pos += 1;
                    NameParts {
                        base: greek.to_string(),
                        ..NameParts::default()
                    }
                } else if let Some(&(_, piece)) = DECORATORS.iter().find(|(d, _)| *d == name) {
                    self.pos += 1;
                    let (a, b) = self.arg(&token)?;
                    let Some(mut parts) = self.try_range(a, b, Self::name_parts) else {
                        let text = &self.src[token.start..self.t[self.pos - 1].end];
                        return fail(
                            token.start,
                            format!("cannot read `{}` as a name", quote(text)),
                        );
                    };
                    if !piece.is_empty() {
                        parts.parts.insert(0, piece.to_string());
                        if parts.parts.len() == 1 {
                            parts.fresh = true;
                        }
                    }
                    parts
                } else if STYLED.contains(&name) {
                    let Some((word, after)) = self.styled_word(self.pos) else {
                        return Ok(None);
                    };
                    let parts = match NameParts::latex_word(word) {
                        Some(parts) => parts,
                        None if names::greek(word).is_some() || word == "l" => NameParts {
                            base: word.to_string(),
                            ..NameParts::default()
                        },
                        None => return Ok(None),
                    };
                    self.pos = after;
                    parts
                } else {
                    return Ok(None);
                }
            }
            _ => return Ok(None),
        };
        self.scripts(parts).map(Some)
    }

    /// Subscripts, layer superscripts, update marks and primes after a name's base.
    fn scripts(&mut self, mut parts: NameParts) -> PResult<NameParts> {
        let mut subscripted = false;
        while let Some(token) = self.peek() {
            match token.kind {
                Kind::Op('_') => {
                    if subscripted {
                        return fail(token.start, "double subscript: write `x_{ab}`");
                    }
                    subscripted = true;
                    self.pos += 1;
                    if self.peek().is_none() {
                        return fail(token.start, "nothing after `_`");
                    }
                    let (a, b) = self.subscript_arg(&token)?;
                    if a == b {
                        return fail(token.start, "empty subscript");
                    }
                    parts.separate();
                    self.range(a, b, |p| p.subscript(&mut parts))?;
                    // `w_{t+1}` is the next value; other signs are no subscript we can read.
                    let mut bad = None;
                    let mut next_step = false;
                    parts.parts.retain(|piece| {
                        if piece == "t+1" {
                            next_step = true;
                            return false;
                        }
                        if piece.contains(['+', '-']) {
                            bad = Some(piece.clone());
                        }
                        true
                    });
                    parts.updated |= next_step;
                    if let Some(piece) = bad {
                        return fail(
                            token.start,
                            format!("cannot read the subscript `{}`", quote(&piece)),
                        );
                    }
                }
                Kind::Op('^') => match self.superscript(self.pos + 1) {
                    Some((Superscript::Layer(layer), next)) => {
                        if parts.layer.is_some() {
                            return fail(token.start, "two layer superscripts on one name");
                        }
                        parts.layer = Some(layer);
                        self.pos = next;
                    }
                    Some((Superscript::Marker(marker), next)) => {
                        parts.updated |= marker == Marker::New;
                        self.pos = next;
                    }
                    None => break,
                },
                Kind::Op('\'') => {
                    self.pos += 1;
                    parts.updated = true;
                }
                _ => break,
            }
        }
        Ok(parts)
    }

    /// The argument after `_`: a group, or one token (a whole digit or letter run, which is what
    /// students mean by `x_12` or `y_pred` even though TeX would take one character).
    fn subscript_arg(&mut self, underscore: &Token<'s>) -> PResult<(usize, usize)> {
        match self.kind_at(self.pos) {
            Some(Kind::LBrace) => self.group(),
            Some(Kind::Cmd) if STYLED.contains(&command_name(&self.t[self.pos])) => {
                let start = self.pos;
                self.pos = self.skip_arg(self.pos + 1);
                Ok((start, self.pos))
            }
            Some(Kind::Num | Kind::Ident | Kind::Cmd) => {
                self.pos += 1;
                Ok((self.pos - 1, self.pos))
            }
            _ => fail(underscore.start, "cannot read the subscript"),
        }
    }

    /// The tokens of a subscript appended to the name's pieces (the cursor runs over a range).
    fn subscript(&mut self, parts: &mut NameParts) -> PResult<()> {
        self.enter()?;
        let result = self.subscript_inner(parts);
        self.leave();
        result
    }

    fn subscript_inner(&mut self, parts: &mut NameParts) -> PResult<()> {
        while let Some(token) = self.peek() {
            match token.kind {
                Kind::Num => {
                    self.pos += 1;
                    let text = token.text.replace("{,}", ",");
                    for (i, piece) in text.split(',').enumerate() {
                        if i > 0 {
                            parts.separate();
                        }
                        parts.append(piece);
                    }
                }
                Kind::Ident => {
                    self.pos += 1;
                    match names::marker(token.text, false) {
                        Some(Marker::New) => parts.updated = true,
                        Some(Marker::Old) => {}
                        None => parts.append(token.text),
                    }
                }
                Kind::Op(',') => {
                    self.pos += 1;
                    parts.separate();
                }
                // Nested subscripts flatten: `b_{h_{11}}` is `h11`.
                Kind::Op('_') => self.pos += 1,
                Kind::Op(c @ ('+' | '-')) => {
                    self.pos += 1;
                    parts.append(if c == '+' { "+" } else { "-" });
                }
                Kind::Op('\'') => {
                    self.pos += 1;
                    parts.updated = true;
                }
                Kind::LBrace | Kind::Open => {
                    let (a, b) = self.group()?;
                    self.range(a, b, |p| p.subscript(parts))?;
                }
                Kind::Cmd => {
                    let name = command_name(&token);
                    if let Some(greek) = names::greek(name) {
                        self.pos += 1;
                        parts.append(greek);
                    } else if STYLED.contains(&name) {
                        self.pos += 1;
                        let (a, b) = self.arg(&token)?;
                        self.range(a, b, |p| p.subscript(parts))?;
                    } else {
                        return fail(
                            token.start,
                            format!("cannot read `{}` in a subscript", quote(token.text)),
                        );
                    }
                }
                _ => {
                    return fail(
                        token.start,
                        format!(
                            "cannot read the subscript: unexpected `{}`",
                            quote(token.text)
                        ),
                    );
                }
            }
        }
        Ok(())
    }

    /// The superscript whose argument starts at `i`, if it belongs to the name (a layer or an
    /// update mark) rather than being a power; and the index after it.
    fn superscript(&self, i: usize) -> Option<(Superscript, usize)> {
        let (a, b, next) = match self.kind_at(i)? {
            Kind::LBrace if self.close[i] < self.end => (i + 1, self.close[i], self.close[i] + 1),
            Kind::Cmd if STYLED.contains(&command_name(&self.t[i])) => {
                let next = self.skip_arg(i + 1);
                (i, next, next)
            }
            Kind::Op('+' | '\'') | Kind::Ident => (i, i + 1, i + 1),
            _ => return None,
        };
        // Marks are short; anything long is a power.
        if b.saturating_sub(a) > 8 {
            return None;
        }
        let mut text = String::new();
        for token in &self.t[a..b] {
            match token.kind {
                Kind::Ident | Kind::Num => text.push_str(token.text),
                Kind::Op('+') => text.push('+'),
                Kind::Op('\'') => text.push('\''),
                Kind::Open => text.push('('),
                Kind::Close => text.push(')'),
                Kind::LBrace | Kind::RBrace => {}
                Kind::Cmd if STYLED.contains(&command_name(token)) => {}
                _ => return None,
            }
        }
        if let Some(layer) = text.strip_prefix('(').and_then(|t| t.strip_suffix(')'))
            && !layer.is_empty()
            && layer.bytes().all(|c| c.is_ascii_digit())
        {
            return Some((Superscript::Layer(layer.to_string()), next));
        }
        names::marker(&text, true).map(|m| (Superscript::Marker(m), next))
    }
}

/// A number token's value as written, a decimal comma made a point.
fn number(text: &str) -> MathExpr {
    let text = if text.contains("{,}") {
        text.replacen("{,}", ".", 1)
    } else if text.contains(',') {
        text.replacen(',', ".", 1)
    } else {
        text.to_string()
    };
    MathExpr::Number(text)
}

/// What `\frac` turned out to be.
enum FracPlan {
    /// A derivative (or `\frac12`), already built.
    Done(E),
    /// A division of these two token ranges.
    Divide(usize, usize, usize, usize),
}

/// Why a `\frac` that looks like a derivative is not one we can read.
enum FracError {
    Higher,
    WithRespectToExpr(usize, usize),
    OfExpr(usize, usize),
    Operator,
    PartialAbove,
    PartialBelow,
}

#[cold]
#[inline(never)]
fn frac_error(src: &str, at: usize, error: FracError) -> Box<Fail> {
    let reason = match error {
        FracError::Higher => "second and higher derivatives are not supported".to_string(),
        FracError::WithRespectToExpr(a, b) => format!(
            "derivative with respect to an expression (`{}`), not a single quantity",
            quote(&src[a..b])
        ),
        FracError::OfExpr(a, b) => {
            format!("derivative of an expression (`{}`), not a single quantity", quote(&src[a..b]))
        }
        FracError::Operator => {
            "a derivative operator applied to what follows: write `\\frac{\\partial L}{\\partial w}`"
                .to_string()
        }
        FracError::PartialAbove => "`\\partial` in the numerator but not in the denominator".to_string(),
        FracError::PartialBelow => "`\\partial` in the denominator but not in the numerator".to_string(),
    };
    Box::new(Fail { at, reason })
}

#[cold]
#[inline(never)]
fn call_error(token: &Token<'_>, what: &str) -> Box<Fail> {
    Box::new(Fail {
        at: token.start,
        reason: format!("`{}` {what}", quote(token.text)),
    })
}

#[cold]
#[inline(never)]
fn two_numbers(before: &Token<'_>, token: &Token<'_>) -> Box<Fail> {
    Box::new(Fail {
        at: token.start,
        reason: format!(
            "two numbers side by side (`{} {}`)",
            quote(before.text),
            quote(token.text)
        ),
    })
}

/// `-e` applied `n` times (a loop: `- - - x` is no recursion).
#[inline(never)]
fn negate_times(mut e: E, at: usize, n: usize) -> PResult<E> {
    for _ in 0..n {
        e = negate(e, at)?;
    }
    Ok(e)
}

/// Source text for a message, cut to a readable length.
pub(super) fn quote(text: &str) -> String {
    const MAX: usize = 60;
    let mut short: String = text.chars().take(MAX).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}
