//! The derivation report: every quantity of a run with its symbolic forms and its values, as
//! already-rendered strings (plain and LaTeX). `--format json` prints this structure; the
//! templates only lay it out.

use indexmap::IndexMap;
use num_rational::BigRational;
use serde::Serialize;

mod build;
mod closed;

pub use build::{GivenSection, INLINE_CHARS, ReportBuilder, backward_order};
pub use closed::CLOSED_FORM_LIMIT;

use super::number;
use crate::eval::calculator::Route;
use crate::eval::decimal::Precision;
use crate::graph::{Network, SymbolId};
use crate::symbolic::expr::Sym;
use crate::symbolic::print::{Atom, Notation};

/// The report's maps, from a spec's names, in report order (hashed with Fx: the keys are short
/// names, and there are as many as the network has parameters).
pub type Map<V> = IndexMap<String, V, rustc_hash::FxBuildHasher>;

/// One quantity's text in both notations (LaTeX left empty, and out of JSON, when the output
/// does not need it).
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Text {
    /// ASCII.
    pub plain: String,
    /// LaTeX math.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub latex: String,
}

/// A value: exact form and correctly rounded digits.
#[derive(Clone, Debug, Serialize)]
pub struct Value {
    /// The rounded decimal, e.g. `0.5057`.
    pub value: String,
    /// The rounded decimal in LaTeX.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub value_latex: String,
    /// The exact value: a fraction, or the closed form in numbers only (1/(1 + e^{31/250}))
    /// when it is not rational; `null` when that closed form would be larger than
    /// `CLOSED_FORM_LIMIT` nodes (the chain-rule forms say how the value is made).
    pub exact: Option<Text>,
    /// Whether the exact value is a rational number.
    pub rational: bool,
    /// Half a unit in the last printed place (the tolerance a numerical question accepts).
    pub tolerance: String,
}

/// A given (declared) quantity.
#[derive(Clone, Debug, Serialize)]
pub struct Given {
    /// `input`, `param`, `target`, `const` or `rate`.
    pub kind: &'static str,
    /// Its name in LaTeX.
    pub name_latex: String,
    /// Whether the value was drawn from a range.
    pub random: bool,
    /// The value.
    #[serde(flatten)]
    pub value: Value,
}

/// One step of the forward pass.
#[derive(Clone, Debug, Serialize)]
pub struct ForwardStep {
    /// Its name in LaTeX.
    pub name_latex: String,
    /// The right-hand side of its equation.
    pub equation: Text,
    /// The equation with the numbers of this run substituted.
    pub substituted: Text,
    /// The value.
    #[serde(flatten)]
    pub value: Value,
}

/// One term of a chain rule.
#[derive(Clone, Debug, Serialize)]
pub struct Term {
    /// The child node.
    pub child: String,
    /// ∂child/∂quantity in node names.
    pub local: Text,
    /// ∂child/∂quantity as differentiated.
    pub local_raw: Text,
}

/// One gradient of the backward pass.
#[derive(Clone, Debug, Serialize)]
pub struct GradientStep {
    /// `node`, `param`, `input` or `const`.
    pub kind: &'static str,
    /// `dL/dw1` and `\frac{\partial L}{\partial w_{1}}`.
    pub symbol: Text,
    /// Σ ∂L/∂c · ∂c/∂x, the local derivatives as partials.
    pub partials: Text,
    /// Σ ∂L/∂c · local, in node names: a11(1 - a11).
    pub chain: Text,
    /// The same with the locals as differentiated: σ(h11)(1 - σ(h11)).
    pub chain_raw: Text,
    /// Terms with the same local derivative grouped.
    pub factored: Text,
    /// In forward values and parameters only.
    pub expanded: Text,
    /// The factored form with this run's numbers.
    pub substituted: Text,
    /// The terms.
    pub terms: Vec<Term>,
    /// The value.
    #[serde(flatten)]
    pub value: Value,
}

/// A shared gradient too large to inline in expanded forms.
#[derive(Clone, Debug, Serialize)]
pub struct Definition {
    /// `dL/dh1_1` and its LaTeX.
    pub symbol: Text,
    /// Its expanded form.
    pub expanded: Text,
}

/// One parameter update.
#[derive(Clone, Debug, Serialize)]
pub struct UpdateStep {
    /// `w1_new` and its LaTeX.
    pub symbol: Text,
    /// `w1 - eta*dL/dw1`.
    pub formula: Text,
    /// The formula with numbers.
    pub substituted: Text,
    /// The new value.
    #[serde(flatten)]
    pub value: Value,
}

/// The loss before and after the update.
#[derive(Clone, Debug, Serialize)]
pub struct LossValues {
    /// The name in LaTeX.
    pub name_latex: String,
    /// At the given values.
    #[serde(flatten)]
    pub value: Value,
    /// After the update step, when the spec has a rate.
    pub after: Option<Value>,
}

/// Everything `derive` reports.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The spec's title.
    pub title: String,
    /// The seed the values were drawn with.
    pub seed: u64,
    /// `4 significant figures`, `3 decimals`.
    pub precision: String,
    /// `half-up` or `half-even`.
    pub rounding: &'static str,
    /// The loss node's name.
    pub loss_name: String,
    /// The declared quantities.
    pub given: Map<Given>,
    /// The forward pass, in order.
    pub forward: Map<ForwardStep>,
    /// The backward pass, in the order the slides teach: from the loss back, each parameter
    /// right after the last node whose gradient it needs.
    pub gradients: Map<GradientStep>,
    /// Shared gradients named in expanded forms.
    pub definitions: Map<Definition>,
    /// The update step.
    pub updates: Map<UpdateStep>,
    /// The loss.
    pub loss: Map<LossValues>,
    /// The calculator route (`--rounded-intermediates`), when asked for.
    pub calculator: Option<Calculator>,
    /// Warnings about the spec or the values.
    pub warnings: Vec<String>,
}

/// The example worked with every intermediate rounded, compared with the true values.
#[derive(Clone, Debug, Serialize)]
pub struct Calculator {
    /// Every quantity's value on the calculator route, keyed like the report (`h11`, `dL/dw1`,
    /// `w1_new`, `L_new`).
    pub values: Map<String>,
    /// The quantities where rounding the intermediates changed the printed answer.
    pub differences: Vec<Difference>,
}

/// A quantity whose calculator-route value differs from the correctly rounded true value.
#[derive(Clone, Debug, Serialize)]
pub struct Difference {
    /// `h11`, `dL/dw1`, `w1_new`, `L_new`.
    pub quantity: String,
    /// The value with rounded intermediates.
    pub calculator: String,
    /// The correctly rounded true value.
    pub correct: String,
}

impl Report {
    /// Adds the calculator route and where it differs from the true values.
    pub fn add_calculator(&mut self, network: &Network, route: &Route) {
        let format = |d: &crate::eval::decimal::Decimal| number::format(d, Notation::Plain);
        let mut values = Map::default();
        let mut differences = Vec::new();
        let mut compare =
            |quantity: String, calculator: Option<String>, correct: Option<&String>| {
                let (Some(calculator), Some(correct)) = (calculator, correct) else {
                    return;
                };
                if &calculator != correct {
                    differences.push(Difference {
                        quantity: quantity.clone(),
                        calculator: calculator.clone(),
                        correct: correct.clone(),
                    });
                }
                values.insert(quantity, calculator);
            };
        for (name, step) in &self.forward {
            let id = network.lookup(name).expect("report names are symbols");
            compare(
                name.clone(),
                route.forward[id.index()].as_ref().map(format),
                Some(&step.value.value),
            );
        }
        for (name, step) in &self.gradients {
            let id = network.lookup(name).expect("report names are symbols");
            compare(
                step.symbol.plain.clone(),
                route.gradients[id.index()].as_ref().map(format),
                Some(&step.value.value),
            );
        }
        for (name, update) in &self.updates {
            let id = network.lookup(name).expect("report names are symbols");
            let calculator = route
                .updated
                .get(id.index())
                .and_then(Option::as_ref)
                .map(format);
            compare(
                update.symbol.plain.clone(),
                calculator,
                Some(&update.value.value),
            );
        }
        for (name, loss) in &self.loss {
            let correct = loss.after.as_ref().map(|after| &after.value);
            compare(
                format!("{name}_new"),
                route.loss_after.as_ref().map(format),
                correct,
            );
        }
        self.calculator = Some(Calculator {
            values,
            differences,
        });
    }
}

/// The gradient symbol of a quantity: `dL/dw1` or `\frac{\partial L}{\partial w_{1}}`.
pub fn grad_in(network: &Network, id: SymbolId, notation: Notation) -> String {
    let mut text = String::new();
    write_grad(network, id, notation, &mut text);
    text
}

/// `grad_in`, written onto `out` (printers write thousands of them).
pub fn write_grad(network: &Network, id: SymbolId, notation: Notation, out: &mut String) {
    let loss = network.symbol(network.loss);
    let of = network.symbol(id);
    match notation {
        Notation::Plain => {
            out.push('d');
            out.push_str(&loss.name);
            out.push_str("/d");
            out.push_str(&of.name);
        }
        Notation::Latex => {
            out.push_str("\\frac{\\partial ");
            out.push_str(&loss.latex);
            out.push_str("}{\\partial ");
            out.push_str(&of.latex);
            out.push('}');
        }
    }
}

/// A symbol's name in one notation, written onto `out` (as a printer's atom).
pub fn write_name(network: &Network, sym: Sym, notation: Notation, out: &mut String) -> Atom {
    match (sym, notation) {
        (Sym::Value(id), Notation::Plain) => out.push_str(network.name(id)),
        (Sym::Value(id), Notation::Latex) => out.push_str(&network.symbol(id).latex),
        (Sym::Grad(id), notation) => write_grad(network, id, notation, out),
    }
    Atom::Name
}

/// A fraction in one notation.
pub fn rational_in(q: &BigRational, notation: Notation) -> String {
    match notation {
        Notation::Plain => crate::symbolic::print::plain_rational(q),
        Notation::Latex => crate::symbolic::print::latex_rational(q),
    }
}

/// `4 significant figures`, `3 decimals`.
pub fn describe_precision(precision: Precision) -> String {
    match precision {
        Precision::Significant(1) => "1 significant figure".to_string(),
        Precision::Significant(n) => format!("{n} significant figures"),
        Precision::Decimals(1) => "1 decimal".to_string(),
        Precision::Decimals(n) => format!("{n} decimals"),
    }
}
