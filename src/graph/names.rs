//! Display names: how a spec name is typeset in LaTeX.
//!
//! The rule (documented in docs/spec-language.md): Greek letter names become commands
//! (`eta` → `\eta`); trailing digits become a subscript (`h11` → `h_{11}`); everything after the
//! first `_` becomes a subscript, further `_` separating indices with commas (`b_h11` → `b_{h11}`,
//! `y_pred` → `y_{pred}`, `w1_2` → `w_{1,2}`); a multi-letter base that is not Greek is set upright
//! italic as one word (`out1` → `\mathit{out}_{1}`). A `latex NAME = "..."` line overrides it.

const GREEK: &[&str] = &[
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi",
    "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi",
    "Omega",
];

/// The LaTeX display form of a spec name (identifiers are `[A-Za-z][A-Za-z0-9_]*`, so the result
/// needs no escaping).
pub fn latex_name(name: &str) -> String {
    let (head, tail) = match name.split_once('_') {
        Some((head, tail)) => (head, Some(tail)),
        None => (name, None),
    };
    let base_end = head
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_digit())
        .last()
        .map_or(head.len(), |(i, _)| i);
    let (base, digits) = head.split_at(base_end);
    let mut subscripts: Vec<&str> = Vec::new();
    if !digits.is_empty() {
        subscripts.push(digits);
    }
    if let Some(tail) = tail {
        subscripts.extend(tail.split('_').filter(|part| !part.is_empty()));
    }
    let base = latex_base(base);
    if subscripts.is_empty() {
        base
    } else {
        format!("{base}_{{{}}}", subscripts.join(","))
    }
}

fn latex_base(base: &str) -> String {
    if GREEK.contains(&base) {
        format!("\\{base}")
    } else if base.chars().count() > 1 {
        format!("\\mathit{{{base}}}")
    } else {
        base.to_string()
    }
}

/// Display form of a generated layer quantity: `h^{(2)}_{3}`, `w^{(1)}_{12}` (indices joined
/// with a comma when one has two digits or more).
pub fn layer_latex(letter: &str, layer: usize, indices: &[usize]) -> String {
    let separator = if indices.iter().any(|&i| i >= 10) {
        ","
    } else {
        ""
    };
    let indices: Vec<String> = indices.iter().map(usize::to_string).collect();
    format!("{letter}^{{({layer})}}_{{{}}}", indices.join(separator))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_the_documented_rule() {
        for (name, latex) in [
            ("h11", "h_{11}"),
            ("b_h11", "b_{h11}"),
            ("y_pred", "y_{pred}"),
            ("eta", "\\eta"),
            ("x1", "x_{1}"),
            ("z", "z"),
            ("b_z", "b_{z}"),
            ("w1_2", "w_{1,2}"),
            ("out1", "\\mathit{out}_{1}"),
            ("delta2", "\\delta_{2}"),
            ("L", "L"),
            ("a_", "a"),
        ] {
            assert_eq!(latex_name(name), latex, "{name}");
        }
    }

    #[test]
    fn layer_names() {
        assert_eq!(layer_latex("w", 1, &[1, 2]), "w^{(1)}_{12}");
        assert_eq!(layer_latex("w", 2, &[10, 2]), "w^{(2)}_{10,2}");
        assert_eq!(layer_latex("a", 3, &[4]), "a^{(3)}_{4}");
    }
}
