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
    // Sized exactly: an `mlp` makes one per weight.
    let length = letter.len()
        + "^{()}_{}".len()
        + digits(layer)
        + indices.iter().map(|&i| digits(i)).sum::<usize>()
        + separator.len() * indices.len().saturating_sub(1);
    let mut latex = String::with_capacity(length);
    latex.push_str(letter);
    latex.push_str("^{(");
    push_number(&mut latex, layer);
    latex.push_str(")}_{");
    for (k, &index) in indices.iter().enumerate() {
        if k > 0 {
            latex.push_str(separator);
        }
        push_number(&mut latex, index);
    }
    latex.push('}');
    latex
}

/// The spec name of a generated layer quantity: `b2_3`, `w1_3_2`, `h2_3`, `a2_3`: the letter,
/// the layer, and each index after a `_`.
pub fn layer_name(letter: char, layer: usize, indices: &[usize]) -> String {
    let length =
        letter.len_utf8() + digits(layer) + indices.iter().map(|&i| 1 + digits(i)).sum::<usize>();
    let mut name = String::with_capacity(length);
    name.push(letter);
    push_number(&mut name, layer);
    for &index in indices {
        name.push('_');
        push_number(&mut name, index);
    }
    name
}

/// The names of the weights into one unit, `w{l}_{i}_{j}` and `w^{(l)}_{ij}` for each j, as
/// `layer_name` and `layer_latex` give them: the part before j is formatted once per unit, and
/// each weight only appends j's text (an `mlp` makes a weight per edge).
pub struct WeightNames {
    /// `w{l}_{i}_`
    name: String,
    /// `w^{(l)}_{i,`: the comma is dropped when both indices have one digit.
    latex: String,
    /// Whether i has one digit.
    narrow_unit: bool,
}

impl WeightNames {
    /// The names of the weights into unit `unit` of layer `layer`.
    pub fn new(layer: usize, unit: usize) -> WeightNames {
        let mut name = layer_name('w', layer, &[unit]);
        name.push('_');
        let mut latex = String::from("w^{(");
        push_number(&mut latex, layer);
        latex.push_str(")}_{");
        push_number(&mut latex, unit);
        latex.push(',');
        WeightNames {
            name,
            latex,
            narrow_unit: unit < 10,
        }
    }

    /// The spec name of the weight from unit j, given j in decimal.
    pub fn name(&self, j_text: &str) -> String {
        let mut name = String::with_capacity(self.name.len() + j_text.len());
        name.push_str(&self.name);
        name.push_str(j_text);
        name
    }

    /// The display form of the weight from unit j, given j in decimal.
    pub fn latex(&self, j_text: &str) -> String {
        let prefix = if self.narrow_unit && j_text.len() == 1 {
            &self.latex[..self.latex.len() - 1]
        } else {
            &self.latex
        };
        let mut latex = String::with_capacity(prefix.len() + j_text.len() + 1);
        latex.push_str(prefix);
        latex.push_str(j_text);
        latex.push('}');
        latex
    }
}

/// How many decimal digits `n` has.
fn digits(n: usize) -> usize {
    n.checked_ilog10().map_or(1, |log| log as usize + 1)
}

/// Appends `n` in decimal (without the formatting machinery: an `mlp` writes two per weight).
fn push_number(text: &mut String, n: usize) {
    text.push_str(itoa::Buffer::new().format(n));
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
        assert_eq!(layer_name('w', 1, &[3, 2]), "w1_3_2");
        assert_eq!(layer_name('b', 12, &[300]), "b12_300");
        assert_eq!(layer_name('h', 2, &[1]), "h2_1");
    }

    #[test]
    fn weight_names_are_the_layer_names() {
        for layer in [1, 2, 9, 10, 12345] {
            for unit in [1, 9, 10, 11, 99, 100, 4096] {
                let weights = WeightNames::new(layer, unit);
                for j in [1, 2, 9, 10, 11, 99, 100, 65536] {
                    let j_text = j.to_string();
                    let name = weights.name(&j_text);
                    let latex = weights.latex(&j_text);
                    assert_eq!(name, layer_name('w', layer, &[unit, j]));
                    assert_eq!(latex, layer_latex("w", layer, &[unit, j]));
                    assert_eq!(name.len(), name.capacity());
                    assert_eq!(latex.len(), latex.capacity());
                }
            }
        }
    }

    #[test]
    fn generated_forms_are_sized_exactly() {
        for layer in [0, 1, 9, 10, 99, 100, 12345] {
            for indices in [&[][..], &[0], &[7], &[10, 9], &[9, 10], &[1000, 100_000, 5]] {
                let latex = layer_latex("w", layer, indices);
                let separator = if indices.iter().any(|&i| i >= 10) {
                    ","
                } else {
                    ""
                };
                let joined: Vec<String> = indices.iter().map(usize::to_string).collect();
                assert_eq!(
                    latex,
                    format!("w^{{({layer})}}_{{{}}}", joined.join(separator))
                );
                assert_eq!(latex.len(), latex.capacity());
                let name = layer_name('w', layer, indices);
                let expected: String = std::iter::once(format!("w{layer}"))
                    .chain(indices.iter().map(|i| format!("_{i}")))
                    .collect();
                assert_eq!(name, expected);
                assert_eq!(name.len(), name.capacity());
            }
        }
        assert_eq!(digits(usize::MAX), 20);
        let mut text = String::new();
        push_number(&mut text, usize::MAX);
        assert_eq!(text, usize::MAX.to_string());
    }
}
