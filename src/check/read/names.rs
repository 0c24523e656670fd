//! Names as written (LaTeX or spec identifiers) into [`Name`]s, and their spec-style candidates.
//!
//! The candidates invert bpsheet's own display rule (`graph::names`): trailing digits of a spec
//! name become the subscript (`h11` ↔ `h_{11}`), everything after the first `_` too, further `_`
//! as commas (`b_h11` ↔ `b_{h11}`, `w1_2` ↔ `w_{1,2}`), Greek names are commands (`eta` ↔
//! `\eta`), and layer quantities are `w^{(l)}_{ij}` (`w2_1_2`).

use super::{Func, Name};

/// Greek letter commands and the spec name each stands for.
const GREEK: &[(&str, &str)] = &[
    ("alpha", "alpha"),
    ("beta", "beta"),
    ("gamma", "gamma"),
    ("delta", "delta"),
    ("epsilon", "epsilon"),
    ("varepsilon", "epsilon"),
    ("zeta", "zeta"),
    ("eta", "eta"),
    ("theta", "theta"),
    ("vartheta", "theta"),
    ("iota", "iota"),
    ("kappa", "kappa"),
    ("lambda", "lambda"),
    ("mu", "mu"),
    ("nu", "nu"),
    ("xi", "xi"),
    ("pi", "pi"),
    ("varpi", "pi"),
    ("rho", "rho"),
    ("varrho", "rho"),
    ("sigma", "sigma"),
    ("varsigma", "sigma"),
    ("tau", "tau"),
    ("upsilon", "upsilon"),
    ("phi", "phi"),
    ("varphi", "phi"),
    ("chi", "chi"),
    ("psi", "psi"),
    ("omega", "omega"),
    ("Gamma", "Gamma"),
    ("Delta", "Delta"),
    ("Theta", "Theta"),
    ("Lambda", "Lambda"),
    ("Xi", "Xi"),
    ("Pi", "Pi"),
    ("Sigma", "Sigma"),
    ("Upsilon", "Upsilon"),
    ("Phi", "Phi"),
    ("Psi", "Psi"),
    ("Omega", "Omega"),
    ("ell", "l"),
];

/// The spec name of a Greek letter command (without the backslash): `eta` for `\eta`.
pub(super) fn greek(command: &str) -> Option<&'static str> {
    GREEK
        .iter()
        .find(|(c, _)| *c == command)
        .map(|&(_, name)| name)
}

/// A function by a word as written (`sigmoid`, `ReLU`, `ln`, `softplus`; case does not matter).
/// `sigma` is included: the caller decides whether it is the function (followed by `(`).
pub(super) fn func_word(word: &str) -> Option<Func> {
    Some(match word.to_ascii_lowercase().as_str() {
        "sigmoid" | "sigma" => Func::Sigmoid,
        "tanh" => Func::Tanh,
        "relu" => Func::Relu,
        "exp" => Func::Exp,
        "log" | "ln" => Func::Log,
        "softplus" => Func::Softplus,
        "step" | "heaviside" => Func::Step,
        "identity" | "id" => Func::Identity,
        _ => return None,
    })
}

/// Functions a student may well write that a claim cannot be checked with.
pub(super) fn unsupported_func_word(word: &str) -> bool {
    matches!(
        word.to_ascii_lowercase().as_str(),
        "max"
            | "min"
            | "leakyrelu"
            | "leaky_relu"
            | "lrelu"
            | "elu"
            | "gelu"
            | "selu"
            | "silu"
            | "swish"
            | "sin"
            | "cos"
            | "tan"
            | "abs"
            | "sgn"
            | "sign"
            | "argmax"
            | "argmin"
    )
}

/// What a word in a subscript or superscript says about the value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Marker {
    /// An updated value: `new`, `updated`, `next`, `t+1`, `+`.
    New,
    /// The current value, which is just the quantity: `old`, `current` (and `t` in a
    /// superscript: `w^{(t)}`).
    Old,
}

/// The marker a subscript or superscript piece is, if it is one. In a subscript `t` is a name
/// piece (`y_t`), in a superscript the current step.
pub(super) fn marker(piece: &str, superscript: bool) -> Option<Marker> {
    let piece = piece
        .strip_prefix('(')
        .and_then(|p| p.strip_suffix(')'))
        .unwrap_or(piece);
    match piece {
        "new" | "New" | "NEW" | "updated" | "upd" | "next" | "t+1" | "+" => Some(Marker::New),
        "'" | "''" if superscript => Some(Marker::New),
        "old" | "Old" | "OLD" | "current" | "curr" => Some(Marker::Old),
        "t" if superscript => Some(Marker::Old),
        _ => None,
    }
}

/// A name under construction: the base, the subscript pieces, a layer superscript and the
/// updated mark.
#[derive(Clone, Debug, Default)]
pub(super) struct NameParts {
    pub base: String,
    /// Comma-separated pieces of the subscript; the last one grows as tokens are appended.
    pub parts: Vec<String>,
    /// Whether the next appended text starts a new piece.
    pub fresh: bool,
    pub layer: Option<String>,
    pub updated: bool,
}

impl NameParts {
    /// A LaTeX word: letters then digits (`x1` is `x` with subscript `1`), as the lexer makes
    /// them. `None` unless it starts with a letter.
    pub fn latex_word(text: &str) -> Option<NameParts> {
        let letters = text.bytes().take_while(u8::is_ascii_alphabetic).count();
        if letters == 0 || !text[letters..].bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let mut parts = NameParts {
            base: text[..letters].to_string(),
            ..NameParts::default()
        };
        if letters < text.len() {
            parts.parts.push(text[letters..].to_string());
            parts.fresh = true;
        }
        Some(parts)
    }

    /// A spec identifier as written in an answers file: `h11`, `b_h11`, `w1_2`, `w5_new`,
    /// `L_new`. `None` unless it is an identifier.
    pub fn spec(text: &str) -> Option<NameParts> {
        let bytes = text.as_bytes();
        if !bytes.first().is_some_and(u8::is_ascii_alphabetic)
            || !bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'_')
        {
            return None;
        }
        let mut text = text;
        let mut updated = false;
        // A marker suffix: `w5_new`, `w5_old` (at most a couple; `w5_new_new` is still new).
        for _ in 0..3 {
            match text.rsplit_once('_') {
                Some((head, tail)) if !head.is_empty() => match marker(tail, false) {
                    Some(Marker::New) => {
                        updated = true;
                        text = head;
                    }
                    Some(Marker::Old) => text = head,
                    None => break,
                },
                _ => break,
            }
        }
        let (head, tail) = match text.split_once('_') {
            Some((head, tail)) => (head, Some(tail)),
            None => (text, None),
        };
        let digits = head.bytes().rev().take_while(u8::is_ascii_digit).count();
        let (base, index) = head.split_at(head.len() - digits);
        let mut parts = NameParts {
            base: base.to_string(),
            updated,
            ..NameParts::default()
        };
        if !index.is_empty() {
            parts.parts.push(index.to_string());
        }
        if let Some(tail) = tail {
            parts.parts.extend(
                tail.split('_')
                    .filter(|p| !p.is_empty())
                    .map(str::to_string),
            );
        }
        parts.fresh = true;
        Some(parts)
    }

    /// Appends text to the current subscript piece (or starts one).
    pub fn append(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        match self.parts.last_mut() {
            Some(last) if !self.fresh => last.push_str(text),
            _ => self.parts.push(text.to_string()),
        }
        self.fresh = false;
    }

    /// Starts a new subscript piece (a comma, or a second subscript after digits: `x1_{2}`).
    pub fn separate(&mut self) {
        self.fresh = true;
    }

    /// The finished name.
    pub fn finish(self, written: &str) -> Name {
        let mut sub = self.layer.map(|l| format!("({l})")).unwrap_or_default();
        let parts: Vec<String> = self.parts.into_iter().filter(|p| !p.is_empty()).collect();
        sub.push_str(&parts.join(","));
        Name {
            base: self.base,
            sub,
            updated: self.updated,
            written: written.trim().to_string(),
        }
    }
}

/// Spec-style candidates for a name, in order of preference (see [`Name::candidates`]).
pub(super) fn candidates(name: &Name) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |s: String| {
        if !s.is_empty() && !out.contains(&s) {
            out.push(s);
        }
    };
    let base = name.base.as_str();
    let (layer, sub) = match name.sub.strip_prefix('(').and_then(|s| s.split_once(')')) {
        Some((layer, rest)) => (Some(layer), rest),
        None => (None, name.sub.as_str()),
    };
    let parts: Vec<&str> = sub.split(',').filter(|p| !p.is_empty()).collect();
    let all_digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    // `12` as the indices 1 and 2, the way bpsheet typesets single-digit layer indices.
    let split_digits = |p: &str| p.chars().map(String::from).collect::<Vec<_>>().join("_");
    match layer {
        Some(layer) => {
            if parts.len() == 1 && all_digits(parts[0]) && parts[0].len() > 1 {
                push(format!("{base}{layer}_{}", split_digits(parts[0])));
            }
            if parts.is_empty() {
                push(format!("{base}{layer}"));
            } else {
                push(format!("{base}{layer}_{}", parts.join("_")));
            }
        }
        None if parts.is_empty() => push(base.to_string()),
        None => {
            if all_digits(parts[0]) {
                let rest: String = parts[1..].iter().map(|p| format!("_{p}")).collect();
                push(format!("{base}{}{rest}", parts[0]));
            }
            push(format!("{base}_{}", parts.join("_")));
            if parts.len() == 1 && all_digits(parts[0]) && parts[0].len() > 1 {
                push(format!("{base}{}", split_digits(parts[0])));
            }
            push(format!("{base}{}", parts.concat()));
        }
    }
    let written = name.written.as_str();
    let identifier = written
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic())
        && written
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if identifier && !name.updated {
        push(written.to_string());
    }
    out
}
