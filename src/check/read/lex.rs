//! The math tokenizer: LaTeX math (or a plain answers line) into tokens with byte offsets.
//!
//! One pass, no backtracking beyond a few bytes, nothing allocated per token but the token
//! itself (its text is a slice of the source or a static canonical spelling). Spacing commands
//! vanish here; `\left(`, `\big(`, `\{` become brackets; `\cdot`, `\times`, `·` become `*`;
//! `\approx`, `≈`, `:=` become relations like `=`; Unicode Greek, `∂`, `−` and friends become
//! their LaTeX equivalents, so students who paste symbols are read like those who type commands.
//! Characters that mean nothing in math become `Bad` tokens: they are only an error if an
//! equation that contains them is read.

/// What kind of text is tokenized.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Mode {
    /// LaTeX math: a name is letters then digits (`x1`, `h11`, `pred`); `_` is a subscript;
    /// `%` starts a comment.
    Latex,
    /// A plain answers line: a name is a spec identifier (`b_h11`, `w5_new`).
    Plain,
}

/// A token's kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// A number literal: digits with an optional fraction (`.` or a decimal comma) and exponent.
    Num,
    /// A name or word: `x1`, `pred`, `dL`; in plain mode also `b_h11`.
    Ident,
    /// A command not turned into anything else: `\frac`, `\eta`, `\partial`, `\foo`.
    Cmd,
    /// A single-character operator or punctuation: `+ - * / ^ _ ' , ; . | ! < > :` (with `*` and
    /// `/` also standing for `\cdot`, `\times`, `\div`, ...).
    Op(char),
    /// An opening bracket: `(`, `[`, `\{`, `\left(`, `\big(`.
    Open,
    /// A closing bracket.
    Close,
    /// A TeX group `{`.
    LBrace,
    /// A TeX group `}`.
    RBrace,
    /// `=`, `\approx`, `≈`, `:=`, `\coloneqq`: a side separator.
    Rel,
    /// `\\`: a row break.
    RowBreak,
    /// `&`: an alignment point.
    Amp,
    /// `\quad`, `\qquad` (spacing, which at the top level separates equations) and arrows
    /// (`\Rightarrow`, `\to`, `\therefore`), which separate equations.
    Sep,
    /// A character that means nothing in math (control characters, emoji, stray Unicode).
    Bad,
}

/// A token: its kind, its text (a source slice, or a canonical spelling for mapped Unicode), and
/// its byte range in the source.
#[derive(Clone, Copy, Debug)]
pub(super) struct Token<'s> {
    pub kind: Kind,
    pub text: &'s str,
    pub start: usize,
    pub end: usize,
}

/// Spacing and style commands that mean nothing for the value (dropped here).
const SKIPPED: &[&str] = &[
    "displaystyle",
    "textstyle",
    "scriptstyle",
    "scriptscriptstyle",
    "nonumber",
    "notag",
    "relax",
    "allowbreak",
    "nobreak",
    "mathstrut",
    "strut",
    "limits",
    "nolimits",
    "enspace",
    "enskip",
    "thinspace",
    "medspace",
    "thickspace",
    "negthinspace",
    "negmedspace",
    "negthickspace",
    "boxed",
    "fbox",
    "underline",
    "mathord",
    "centering",
];

const SEPARATORS: &[&str] = &[
    "quad",
    "qquad",
    "Rightarrow",
    "rightarrow",
    "Longrightarrow",
    "longrightarrow",
    "implies",
    "to",
    "therefore",
    "because",
    "iff",
    "Leftrightarrow",
    "Longleftrightarrow",
    "leftrightarrow",
    "mapsto",
    "Leftarrow",
    "leftarrow",
];

const RELATIONS: &[&str] = &[
    "approx",
    "simeq",
    "approxeq",
    "thickapprox",
    "coloneqq",
    "coloneq",
    "eqqcolon",
    "doteq",
    "triangleq",
    "eqsim",
];

const SIZES: &[&str] = &[
    "big", "Big", "bigg", "Bigg", "bigl", "bigr", "bigm", "Bigl", "Bigr", "Bigm", "biggl", "biggr",
    "biggm", "Biggl", "Biggr", "Biggm",
];

/// Tokenizes `src[start..end]` (both char boundaries).
pub(super) fn lex(src: &str, start: usize, end: usize, mode: Mode) -> Vec<Token<'_>> {
    let mut lexer = Lexer {
        src,
        b: src.as_bytes(),
        end,
        out: Vec::new(),
        mode,
    };
    lexer.run(start);
    lexer.out
}

struct Lexer<'s> {
    src: &'s str,
    b: &'s [u8],
    end: usize,
    out: Vec<Token<'s>>,
    mode: Mode,
}

impl<'s> Lexer<'s> {
    /// The byte at `i`, or 0 past the end of the range.
    fn at(&self, i: usize) -> u8 {
        if i < self.end { self.b[i] } else { 0 }
    }

    fn push(&mut self, kind: Kind, start: usize, end: usize) {
        let text = &self.src[start..end];
        self.out.push(Token {
            kind,
            text,
            start,
            end,
        });
    }

    fn push_as(&mut self, kind: Kind, text: &'static str, start: usize, end: usize) {
        self.out.push(Token {
            kind,
            text,
            start,
            end,
        });
    }

    fn run(&mut self, mut i: usize) {
        while i < self.end {
            let c = self.b[i];
            i = match c {
                b' ' | b'\t' | b'\n' | b'\r' | 0x0c => i + 1,
                b'~' if self.mode == Mode::Latex => i + 1,
                b'%' if self.mode == Mode::Latex => {
                    let mut j = i;
                    while j < self.end && self.b[j] != b'\n' {
                        j += 1;
                    }
                    j
                }
                b'0'..=b'9' => self.number(i),
                b'.' if self.at(i + 1).is_ascii_digit() => self.number(i),
                b'a'..=b'z' | b'A'..=b'Z' => self.ident(i),
                b'\\' => self.command(i),
                b'{' => {
                    // `{,}` between digits is a decimal comma; it is taken by `number`.
                    self.push(Kind::LBrace, i, i + 1);
                    i + 1
                }
                b'}' => {
                    self.push(Kind::RBrace, i, i + 1);
                    i + 1
                }
                b'(' | b'[' => {
                    self.push(Kind::Open, i, i + 1);
                    i + 1
                }
                b')' | b']' => {
                    self.push(Kind::Close, i, i + 1);
                    i + 1
                }
                b'=' => {
                    self.push(Kind::Rel, i, i + 1);
                    i + 1
                }
                b':' if self.at(i + 1) == b'=' => {
                    self.push(Kind::Rel, i, i + 2);
                    i + 2
                }
                b'&' => {
                    self.push(Kind::Amp, i, i + 1);
                    i + 1
                }
                0x80.. => self.unicode(i),
                c if c < 0x20 || c == 0x7f => {
                    self.push(Kind::Bad, i, i + 1);
                    i + 1
                }
                c => {
                    self.push(Kind::Op(c as char), i, i + 1);
                    i + 1
                }
            };
        }
    }

    /// `12`, `0.5`, `.5`, `5e-4`, `0,5` and `0{,}5` (decimal commas: one, between digits, right
    /// after the integer part).
    fn number(&mut self, start: usize) -> usize {
        let mut j = start;
        while self.at(j).is_ascii_digit() {
            j += 1;
        }
        // A fraction: `.` (also at the start: `.5`), or a decimal comma after digits.
        let point = self.at(j) == b'.' || (j > start && self.at(j) == b',');
        if point && self.at(j + 1).is_ascii_digit() {
            j += 1;
            while self.at(j).is_ascii_digit() {
                j += 1;
            }
        } else if j > start
            && self.at(j) == b'{'
            && self.at(j + 1) == b','
            && self.at(j + 2) == b'}'
            && self.at(j + 3).is_ascii_digit()
        {
            j += 3;
            while self.at(j).is_ascii_digit() {
                j += 1;
            }
        }
        if matches!(self.at(j), b'e' | b'E') {
            let sign = matches!(self.at(j + 1), b'+' | b'-') as usize;
            if self.at(j + 1 + sign).is_ascii_digit() {
                j += 1 + sign;
                while self.at(j).is_ascii_digit() {
                    j += 1;
                }
            }
        }
        self.push(Kind::Num, start, j);
        j
    }

    /// LaTeX: letters then digits (`x1`, `h11`, `pred`); plain: a spec identifier.
    fn ident(&mut self, start: usize) -> usize {
        let mut j = start;
        match self.mode {
            Mode::Latex => {
                while self.at(j).is_ascii_alphabetic() {
                    j += 1;
                }
                while self.at(j).is_ascii_digit() {
                    j += 1;
                }
            }
            Mode::Plain => {
                // `_{` is a LaTeX subscript even in an answers file (`h_{11}`).
                while self.at(j).is_ascii_alphanumeric()
                    || (self.at(j) == b'_' && self.at(j + 1) != b'{')
                {
                    j += 1;
                }
            }
        }
        self.push(Kind::Ident, start, j);
        j
    }

    fn command(&mut self, start: usize) -> usize {
        let mut j = start + 1;
        if j >= self.end {
            self.push(Kind::Bad, start, j);
            return j;
        }
        if !self.b[j].is_ascii_alphabetic() {
            // A control symbol: `\\`, `\,`, `\{`, ... (possibly a multi-byte character).
            let c = self.src[j..].chars().next().unwrap_or('\\');
            let end = (j + c.len_utf8()).min(self.end);
            match c {
                '\\' => self.push(Kind::RowBreak, start, end),
                ',' | ';' | ':' | '!' | ' ' | '>' | '\t' | '\n' | '\r' => {}
                '{' => self.push(Kind::Open, start, end),
                '}' => self.push(Kind::Close, start, end),
                '|' => self.push(Kind::Op('|'), start, end),
                _ => self.push(Kind::Cmd, start, end),
            }
            return end;
        }
        while self.at(j).is_ascii_alphabetic() {
            j += 1;
        }
        let name = &self.src[start + 1..j];
        match name {
            "left" | "right" => return self.delimiter(start, j, Some(name == "left"), true),
            _ if SIZES.contains(&name) => {
                let side = match name.as_bytes()[name.len() - 1] {
                    b'l' => Some(true),
                    b'r' => Some(false),
                    _ => None,
                };
                return self.delimiter(start, j, side, false);
            }
            _ if SKIPPED.contains(&name) => {}
            _ if SEPARATORS.contains(&name) => self.push(Kind::Sep, start, j),
            _ if RELATIONS.contains(&name) => self.push(Kind::Rel, start, j),
            "cdot" | "times" | "ast" | "bullet" | "cdotp" => self.push(Kind::Op('*'), start, j),
            "div" => self.push(Kind::Op('/'), start, j),
            "prime" => self.push(Kind::Op('\''), start, j),
            "lbrace" | "lparen" | "lbrack" => self.push(Kind::Open, start, j),
            "rbrace" | "rparen" | "rbrack" => self.push(Kind::Close, start, j),
            "vert" | "lvert" | "rvert" | "Vert" | "lVert" | "rVert" | "mid" => {
                self.push(Kind::Op('|'), start, j)
            }
            _ => self.push(Kind::Cmd, start, j),
        }
        j
    }

    /// The delimiter after `\left`, `\right` or a size command (`\big`, `\Bigr`, ...).
    /// `side`: opening or closing by the command (`\left`, `\bigl`), else by the delimiter
    /// (`\big(`). `required` (for `\left`/`\right`): a missing delimiter is an error token.
    fn delimiter(
        &mut self,
        start: usize,
        after: usize,
        side: Option<bool>,
        required: bool,
    ) -> usize {
        let mut j = after;
        while matches!(self.at(j), b' ' | b'\t' | b'\n' | b'\r') {
            j += 1;
        }
        let c = self.at(j);
        let opening = side.unwrap_or(match c {
            b')' | b']' => false,
            b'\\' => matches!(self.at(j + 1), b'{') || self.b[j..self.end].starts_with(b"\\l"),
            _ => true,
        });
        let bracket = if opening { Kind::Open } else { Kind::Close };
        let (kind, end) = match c {
            b'(' | b'[' | b')' | b']' => (Some(bracket), j + 1),
            // `\left.` is an invisible bracket: it still pairs with its `\right`.
            b'.' if required => (Some(bracket), j + 1),
            b'.' => (None, j + 1),
            b'|' => (Some(Kind::Op('|')), j + 1),
            b'\\' => {
                let mut k = j + 1;
                if self.at(k) == b'{' || self.at(k) == b'}' {
                    (Some(bracket), k + 1)
                } else if self.at(k) == b'|' {
                    (Some(Kind::Op('|')), k + 1)
                } else {
                    while self.at(k).is_ascii_alphabetic() {
                        k += 1;
                    }
                    match &self.src[j + 1..k] {
                        "lbrace" | "rbrace" | "lbrack" | "rbrack" | "lparen" | "rparen" => {
                            (Some(bracket), k)
                        }
                        "vert" | "lvert" | "rvert" | "Vert" | "lVert" | "rVert" => {
                            (Some(Kind::Op('|')), k)
                        }
                        _ => (None, after),
                    }
                }
            }
            _ => (None, after),
        };
        match kind {
            Some(kind) => self.push(kind, start, end),
            None if required => self.push(Kind::Bad, start, after),
            None => {}
        }
        end
    }

    /// Non-ASCII: Greek letters and math symbols map to their LaTeX meaning, Unicode spaces are
    /// spaces, anything else is a `Bad` token.
    fn unicode(&mut self, start: usize) -> usize {
        let c = self.src[start..].chars().next().unwrap_or('\u{fffd}');
        let end = start + c.len_utf8();
        let (kind, text): (Kind, &'static str) = match c {
            '\u{a0}'
            | '\u{2000}'..='\u{200b}'
            | '\u{202f}'
            | '\u{205f}'
            | '\u{3000}'
            | '\u{feff}' => {
                return end;
            }
            '·' | '⋅' | '∙' | '×' | '∗' => (Kind::Op('*'), "*"),
            '÷' | '∕' => (Kind::Op('/'), "/"),
            '−' | '–' | '—' => (Kind::Op('-'), "-"),
            '′' | '’' => (Kind::Op('\''), "'"),
            '≈' | '≃' | '≅' | '≔' => (Kind::Rel, "\\approx"),
            '→' | '⇒' | '⟹' | '⟶' | '∴' => (Kind::Sep, "\\Rightarrow"),
            '²' | '³' | '¹' => {
                self.push_as(Kind::Op('^'), "^", start, end);
                let digit = match c {
                    '²' => "2",
                    '³' => "3",
                    _ => "1",
                };
                self.push_as(Kind::Num, digit, start, end);
                return end;
            }
            _ => match greek_or_symbol(c) {
                Some(command) => (Kind::Cmd, command),
                None => (Kind::Bad, ""),
            },
        };
        if kind == Kind::Bad {
            self.push(Kind::Bad, start, end);
        } else {
            self.push_as(kind, text, start, end);
        }
        end
    }
}

/// The LaTeX command for a Unicode Greek letter or math symbol.
fn greek_or_symbol(c: char) -> Option<&'static str> {
    Some(match c {
        'α' => "\\alpha",
        'β' => "\\beta",
        'γ' => "\\gamma",
        'δ' => "\\delta",
        'ε' | 'ϵ' => "\\epsilon",
        'ζ' => "\\zeta",
        'η' => "\\eta",
        'θ' | 'ϑ' => "\\theta",
        'ι' => "\\iota",
        'κ' => "\\kappa",
        'λ' => "\\lambda",
        'μ' => "\\mu",
        'ν' => "\\nu",
        'ξ' => "\\xi",
        'π' => "\\pi",
        'ρ' => "\\rho",
        'σ' | 'ς' => "\\sigma",
        'τ' => "\\tau",
        'υ' => "\\upsilon",
        'φ' | 'ϕ' => "\\phi",
        'χ' => "\\chi",
        'ψ' => "\\psi",
        'ω' => "\\omega",
        'Γ' => "\\Gamma",
        'Δ' => "\\Delta",
        'Θ' => "\\Theta",
        'Λ' => "\\Lambda",
        'Ξ' => "\\Xi",
        'Π' => "\\Pi",
        'Σ' => "\\Sigma",
        'Φ' => "\\Phi",
        'Ψ' => "\\Psi",
        'Ω' => "\\Omega",
        '∂' => "\\partial",
        '∇' => "\\nabla",
        '∑' => "\\sum",
        '∏' => "\\prod",
        '∫' => "\\int",
        '√' => "\\sqrt",
        '∞' => "\\infty",
        '…' | '⋯' => "\\dots",
        '≠' => "\\neq",
        '≤' => "\\le",
        '≥' => "\\ge",
        '±' => "\\pm",
        'ℓ' => "\\ell",
        _ => return None,
    })
}
