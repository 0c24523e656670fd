//! The derivation report: every quantity of a run with its symbolic forms and its values, as
//! already-rendered strings (plain and LaTeX). `--format json` prints this structure; the
//! templates only lay it out.

use std::fmt::Write as _;

use indexmap::IndexMap;
use num_rational::BigRational;
use rustc_hash::FxHashMap;
use serde::Serialize;

use super::number;
use crate::ast::DeclKind;
use crate::eval::calculator::Route;
use crate::eval::decimal::{Precision, RoundingMode};
use crate::eval::network::Values;
use crate::eval::numeric::{Rounding, round};
use crate::eval::real::Real;
use crate::graph::display::Display;
use crate::graph::{Network, SymbolId, SymbolKind};
use crate::symbolic::backprop::Derivation;
use crate::symbolic::expr::{ExprId, Sym};
use crate::symbolic::print::{Atom, Notation, Prec, PrintMemo, Printer};

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

/// Builds the report of a run.
pub struct ReportBuilder<'a> {
    network: &'a Network,
    derivation: &'a mut Derivation,
    values: &'a Values,
    rounding: Rounding,
    /// Whether LaTeX forms are wanted (not for text and JSON, where they would only cost).
    latex: bool,
    /// Whether the gradients of constants are reported.
    const_gradients: bool,
    rank: Vec<u32>,
    /// The expanded form of each node's gradient printed so far.
    expanded: FxHashMap<SymbolId, Expanded>,
    /// Gradients too long to inline in expanded forms.
    definitions: Map<Definition>,
    /// Each symbol's number as substituted into formulas, by notation.
    numbers: std::cell::RefCell<FxHashMap<(Sym, Notation), String>>,
    /// The closed form of each symbol's value, `None` where it would be too large.
    closed: FxHashMap<Sym, Option<ExprId>>,
    /// Tree sizes of pool expressions.
    sizes: FxHashMap<ExprId, u64>,
    /// Subexpressions printed in names: plain, plain closed form, LaTeX, LaTeX closed form.
    name_memos: [PrintMemo; 4],
}

/// A node gradient's expanded form, kept for the expanded forms that use it.
struct Expanded {
    text: Text,
    /// How loosely it binds.
    prec: Prec,
    /// Its length in plain characters.
    chars: usize,
}

/// The largest closed form (in expression nodes, written out as a tree) a report prints.
pub const CLOSED_FORM_LIMIT: u64 = 25;

/// An expanded gradient longer than this (in plain characters) is referred to by its name in the
/// expanded forms that use it, and defined once under "where".
pub const INLINE_CHARS: usize = 200;

impl<'a> ReportBuilder<'a> {
    /// A builder over a derived and evaluated network.
    pub fn new(
        network: &'a Network,
        derivation: &'a mut Derivation,
        values: &'a Values,
        rounding: Rounding,
    ) -> Self {
        let mut rank = vec![0; network.symbols.len()];
        for (position, equation) in network.equations.iter().enumerate() {
            rank[equation.node.index()] = position as u32 + 1;
        }
        ReportBuilder {
            network,
            derivation,
            values,
            rounding,
            latex: true,
            const_gradients: false,
            rank,
            expanded: FxHashMap::default(),
            definitions: Map::default(),
            numbers: Default::default(),
            closed: FxHashMap::default(),
            sizes: FxHashMap::default(),
            name_memos: Default::default(),
        }
    }

    /// Leaves the LaTeX forms out (for text and JSON output).
    pub fn plain_only(mut self) -> Self {
        self.latex = false;
        self
    }

    /// Also reports the gradients of `const` quantities.
    pub fn with_const_gradients(mut self) -> Self {
        self.const_gradients = true;
        self
    }

    /// The whole report.
    pub fn build(mut self, warnings: Vec<String>) -> Report {
        let network = self.network;
        let given = network
            .ids()
            .filter(|&id| !network.symbol(id).is_node())
            .filter_map(|id| {
                let symbol = network.symbol(id);
                let mut value = self.value(self.values.value(id)?, |_| None);
                if let Some(exact) = symbol.value.as_ref().and_then(number::exact_decimal) {
                    value.value_latex = exact.clone();
                    value.value = exact;
                }
                Some((
                    symbol.name.clone(),
                    Given {
                        kind: symbol.decl_kind().map_or("node", DeclKind::keyword),
                        name_latex: symbol.latex.clone(),
                        random: symbol.is_random(),
                        value,
                    },
                ))
            })
            .collect();
        let forward = network
            .equations
            .iter()
            .map(|eq| (network.name(eq.node).to_string(), self.forward_step(eq)))
            .collect();
        // A constant's gradient is printed only on request (`--const-gradients`).
        let wanted = |id: SymbolId| {
            self.const_gradients || network.symbol(id).decl_kind() != Some(DeclKind::Const)
        };
        let order: Vec<SymbolId> = backward_order(network, self.derivation)
            .into_iter()
            .filter(|&id| wanted(id))
            .collect();
        let gradients = order
            .into_iter()
            .filter_map(|id| Some((network.name(id).to_string(), self.gradient_step(id)?)))
            .collect();
        let updates = network
            .params()
            .filter_map(|id| Some((network.name(id).to_string(), self.update_step(id)?)))
            .collect();
        let loss_id = network.loss;
        let loss_value = self.values.value(loss_id).expect("the loss is evaluated");
        let loss_value = self.value(loss_value, |b| b.closed_sym(Sym::Value(loss_id)));
        let after = self
            .values
            .loss_after
            .as_ref()
            .map(|real| self.value(real, |_| None));
        let loss = Map::from_iter([(
            network.name(loss_id).to_string(),
            LossValues {
                name_latex: network.symbol(loss_id).latex.clone(),
                value: loss_value,
                after,
            },
        )]);
        Report {
            title: network.title.clone(),
            seed: network.seed,
            precision: describe_precision(self.rounding.precision),
            rounding: match self.rounding.mode {
                RoundingMode::HalfUp => "half-up",
                RoundingMode::HalfEven => "half-even",
            },
            loss_name: network.name(loss_id).to_string(),
            given,
            forward,
            gradients,
            definitions: std::mem::take(&mut self.definitions),
            updates,
            loss,
            calculator: None,
            warnings,
        }
    }

    fn forward_step(&mut self, equation: &crate::graph::Equation) -> ForwardStep {
        let id = equation.node;
        let real = self.values.value(id).expect("every node is evaluated");
        let network = self.network;
        let names = |_: SymbolId| None;
        let numbers = |s: SymbolId| Some(self.value_number(s, Notation::Plain));
        let numbers_latex = |s: SymbolId| Some(self.value_number(s, Notation::Latex));
        let display = |latex: bool, substitute: &dyn Fn(SymbolId) -> Option<String>| {
            Display {
                network,
                latex,
                substitute,
            }
            .body(&equation.body)
        };
        ForwardStep {
            name_latex: network.symbol(id).latex.clone(),
            equation: Text {
                plain: display(false, &names),
                latex: if self.latex {
                    display(true, &names)
                } else {
                    String::new()
                },
            },
            substituted: Text {
                plain: display(false, &numbers),
                latex: if self.latex {
                    display(true, &numbers_latex)
                } else {
                    String::new()
                },
            },
            value: self.value(real, |b| b.closed_sym(Sym::Value(id))),
        }
    }

    /// The expanded form as printed: the chain rule with every child gradient replaced by its
    /// own expanded form, or by its name when that is longer than `INLINE_CHARS`.
    fn expanded_text(&mut self, id: SymbolId, chain: ExprId) -> Text {
        let terms = self
            .derivation
            .gradient(id)
            .map_or(&[][..], |g| &g.terms[..]);
        for term in terms {
            if let Some(long) = self.expanded.get(&term.child)
                && long.chars > INLINE_CHARS
            {
                let symbol = grad_in(self.network, term.child, Notation::Plain);
                if !self.definitions.contains_key(&symbol) {
                    let definition = Definition {
                        symbol: self.both(|notation| grad_in(self.network, term.child, notation)),
                        expanded: long.text.clone(),
                    };
                    self.definitions.insert(symbol, definition);
                }
            }
        }
        let network = self.network;
        let expanded = &self.expanded;
        let atom = |notation: Notation| {
            move |sym: Sym| match sym {
                Sym::Grad(child) => match expanded.get(&child) {
                    Some(inline) if inline.chars <= INLINE_CHARS => {
                        let text = match notation {
                            Notation::Plain => &inline.text.plain,
                            Notation::Latex => &inline.text.latex,
                        };
                        Atom::Printed(text.clone(), inline.prec)
                    }
                    _ => Atom::Name(name_in(network, sym, notation)),
                },
                Sym::Value(_) => Atom::Name(name_in(network, sym, notation)),
            }
        };
        let (plain, prec) =
            self.print_prec(chain, Notation::Plain, false, &atom(Notation::Plain), None);
        let latex = if self.latex {
            self.print(chain, Notation::Latex, false, &atom(Notation::Latex))
        } else {
            String::new()
        };
        let text = Text { plain, latex };
        // Only a node's gradient is ever inlined into another's (chain rules run through nodes).
        if self.network.symbol(id).is_node() {
            let chars = text.plain.chars().count();
            let kept = Expanded {
                text: text.clone(),
                prec,
                chars,
            };
            self.expanded.insert(id, kept);
        }
        text
    }

    fn gradient_step(&mut self, id: SymbolId) -> Option<GradientStep> {
        let gradient = self.derivation.gradient(id)?.clone();
        let real = self.values.gradient(id)?;
        let symbol = self.network.symbol(id);
        let kind = match symbol.kind {
            SymbolKind::Node => "node",
            SymbolKind::Declared(kind) => kind.keyword(),
        };
        let partials = self.partials(id, &gradient.terms);
        let terms = gradient
            .terms
            .iter()
            .map(|term| Term {
                child: self.network.name(term.child).to_string(),
                local: self.names(term.local_nodes),
                local_raw: self.names(term.local),
            })
            .collect();
        Some(GradientStep {
            kind,
            symbol: self.grad_text(id),
            partials,
            chain: self.names(gradient.chain),
            chain_raw: self.names(gradient.chain_raw),
            factored: self.names(gradient.factored),
            expanded: self.expanded_text(id, gradient.chain),
            substituted: self.numbers(gradient.factored),
            terms,
            value: self.value(real, |b| b.closed_sym(Sym::Grad(id))),
        })
    }

    fn update_step(&mut self, id: SymbolId) -> Option<UpdateStep> {
        let rate = self.network.rate?;
        let real = self.values.updated(id)?;
        self.values.gradient(id)?;
        let (name, rate_symbol) = (self.network.symbol(id), self.network.symbol(rate));
        let grad = self.grad_text(id);
        let signed = |text: String| {
            if text.starts_with('-') {
                format!("({text})")
            } else {
                text
            }
        };
        let numbers = |notation| {
            (
                self.number_text(Sym::Value(id), notation),
                signed(self.number_text(Sym::Value(rate), notation)),
                signed(self.number_text(Sym::Grad(id), notation)),
            )
        };
        let (p, eta, g) = numbers(Notation::Plain);
        let mut substituted = Text {
            plain: format!("{p} - {eta}*{g}"),
            latex: String::new(),
        };
        let mut formula = Text {
            plain: format!("{} - {}*{}", name.name, rate_symbol.name, grad.plain),
            latex: String::new(),
        };
        if self.latex {
            let (p, eta, g) = numbers(Notation::Latex);
            substituted.latex = format!("{p} - {eta} \\cdot {g}");
            formula.latex = format!("{} - {} {}", name.latex, rate_symbol.latex, grad.latex);
        }
        let symbol = self.both(|notation| match notation {
            Notation::Plain => format!("{}_new", name.name),
            Notation::Latex => format!("{{{}}}^{{\\mathrm{{new}}}}", name.latex),
        });
        // The exact new value p - eta g, built only when the gradient has a closed form.
        let value = self.value(real, |b| {
            b.closed_sym(Sym::Grad(id))?;
            let pool = &mut b.derivation.pool;
            let (p, r, g) = (
                pool.sym(Sym::Value(id)),
                pool.sym(Sym::Value(rate)),
                pool.sym(Sym::Grad(id)),
            );
            let step = pool.mul2(r, g);
            let expression = pool.sub(p, step);
            b.closed_expr(expression)
        });
        Some(UpdateStep {
            symbol,
            formula,
            substituted,
            value,
        })
    }

    /// `dL/dh21*dh21/da11 + ...`
    fn partials(&self, id: SymbolId, terms: &[crate::symbolic::backprop::ChainTerm]) -> Text {
        let of = self.network.symbol(id);
        if terms.len() == 1 && terms[0].child == self.network.loss {
            // ∂L/∂y_pred is its own chain rule: nothing to expand.
            return Text::default();
        }
        let network = self.network;
        self.both(|notation| {
            let mut text = String::new();
            for (i, term) in terms.iter().enumerate() {
                if i > 0 {
                    text.push_str(" + ");
                }
                if term.child == network.loss {
                    text.push_str(&grad_in(network, id, notation));
                    continue;
                }
                let child = network.symbol(term.child);
                let upstream = grad_in(network, term.child, notation);
                let _ = match notation {
                    Notation::Plain => write!(text, "{upstream}*d{}/d{}", child.name, of.name),
                    Notation::Latex => write!(
                        text,
                        "{upstream} \\frac{{\\partial {}}}{{\\partial {}}}",
                        child.latex, of.latex
                    ),
                };
            }
            text
        })
    }

    /// `dL/dw1` and (when wanted) `\frac{\partial L}{\partial w_{1}}`.
    fn grad_text(&self, id: SymbolId) -> Text {
        self.both(|notation| grad_in(self.network, id, notation))
    }

    /// A text in plain notation, and in LaTeX when the output wants it.
    fn both(&self, text: impl Fn(Notation) -> String) -> Text {
        Text {
            plain: text(Notation::Plain),
            latex: if self.latex {
                text(Notation::Latex)
            } else {
                String::new()
            },
        }
    }

    fn print(
        &self,
        id: ExprId,
        notation: Notation,
        closed_form: bool,
        atom: &dyn Fn(Sym) -> Atom,
    ) -> String {
        self.print_prec(id, notation, closed_form, atom, None).0
    }

    /// Prints in names, reusing every subexpression printed before with the same options.
    fn print_names(&self, id: ExprId, notation: Notation, closed_form: bool) -> String {
        let network = self.network;
        let atom = |sym: Sym| Atom::Name(name_in(network, sym, notation));
        let memo = &self.name_memos
            [usize::from(notation == Notation::Latex) * 2 + usize::from(closed_form)];
        self.print_prec(id, notation, closed_form, &atom, Some(memo))
            .0
    }

    fn print_prec(
        &self,
        id: ExprId,
        notation: Notation,
        closed_form: bool,
        atom: &dyn Fn(Sym) -> Atom,
        memo: Option<&PrintMemo>,
    ) -> (String, Prec) {
        let rank = |sym: Sym| match sym {
            Sym::Value(s) | Sym::Grad(s) => self.rank[s.index()],
        };
        Printer {
            pool: &self.derivation.pool,
            notation,
            atom,
            rank: &rank,
            closed_form,
            memo,
        }
        .print_with_prec(id)
    }

    /// An expression in names (memoized: locals and chain forms repeat a lot).
    fn names(&mut self, id: ExprId) -> Text {
        Text {
            plain: self.names_in(id, Notation::Plain),
            latex: if self.latex {
                self.names_in(id, Notation::Latex)
            } else {
                String::new()
            },
        }
    }

    fn names_in(&self, id: ExprId, notation: Notation) -> String {
        self.print_names(id, notation, false)
    }

    /// An expression with this run's rounded numbers in place of its symbols.
    fn numbers(&self, id: ExprId) -> Text {
        let atom =
            |notation: Notation| move |sym: Sym| Atom::Number(self.number_text(sym, notation));
        Text {
            plain: self.print(id, Notation::Plain, false, &atom(Notation::Plain)),
            latex: if self.latex {
                self.print(id, Notation::Latex, false, &atom(Notation::Latex))
            } else {
                String::new()
            },
        }
    }

    /// A quantity's value as substituted into a formula.
    fn value_number(&self, id: SymbolId, notation: Notation) -> String {
        self.number_text(Sym::Value(id), notation)
    }

    /// A symbol's number as substituted into a formula (memoized): the exact decimal of a given
    /// value when it terminates, else the value or gradient rounded to the report's precision,
    /// else (no value) its name.
    fn number_text(&self, sym: Sym, notation: Notation) -> String {
        if let Some(text) = self.numbers.borrow().get(&(sym, notation)) {
            return text.clone();
        }
        let text = match sym {
            Sym::Value(id) => {
                let symbol = self.network.symbol(id);
                let exact = (!symbol.is_node())
                    .then(|| symbol.value.as_ref().and_then(number::exact_decimal))
                    .flatten();
                match (exact, self.values.value(id)) {
                    (Some(exact), _) => exact,
                    (None, Some(real)) => number::format(&round(real, self.rounding), notation),
                    (None, None) => symbol.name.clone(),
                }
            }
            Sym::Grad(id) => match self.values.gradient(id) {
                Some(real) => number::format(&round(real, self.rounding), notation),
                None => grad_in(self.network, id, Notation::Plain),
            },
        };
        self.numbers
            .borrow_mut()
            .insert((sym, notation), text.clone());
        text
    }

    /// The rounded value and the exact form; `closed` finds the closed form of an irrational
    /// value.
    fn value(&mut self, real: &Real, closed: impl FnOnce(&mut Self) -> Option<ExprId>) -> Value {
        let decimal = round(real, self.rounding);
        let exact = match &real.exact {
            Some(q) => Some(self.both(|notation| rational_in(q, notation))),
            None => closed(self).map(|expr| self.closed_text(expr)),
        };
        Value {
            value: number::format(&decimal, Notation::Plain),
            value_latex: if self.latex {
                number::format(&decimal, Notation::Latex)
            } else {
                String::new()
            },
            exact,
            rational: real.exact.is_some(),
            tolerance: number::half_unit(&decimal),
        }
    }

    /// The closed form of an expression: every symbol replaced by the closed form of its value,
    /// `None` when one has none or the result is larger than `CLOSED_FORM_LIMIT`.
    fn closed_expr(&mut self, expr: ExprId) -> Option<ExprId> {
        let mut replacements: FxHashMap<Sym, ExprId> = FxHashMap::default();
        for sym in self.derivation.pool.symbols(expr) {
            replacements.insert(sym, self.closed_sym(sym)?);
        }
        let pool = &mut self.derivation.pool;
        let closed = pool.substitute(
            expr,
            &mut |sym| replacements.get(&sym).copied(),
            &mut FxHashMap::default(),
        );
        (pool.tree_size(closed, &mut self.sizes) <= CLOSED_FORM_LIMIT).then_some(closed)
    }

    /// The closed form of a symbol's value (memoized).
    fn closed_sym(&mut self, sym: Sym) -> Option<ExprId> {
        if let Some(&known) = self.closed.get(&sym) {
            return known;
        }
        // Marked first, so that a cycle of lookups (there is none in a DAG) cannot recurse.
        self.closed.insert(sym, None);
        let values = self.values;
        let real = match sym {
            Sym::Value(s) => values.value(s),
            Sym::Grad(s) => values.gradient(s),
        };
        let closed = match (real.and_then(|r| r.exact.clone()), sym) {
            (Some(q), _) => Some(self.derivation.pool.constant(q)),
            (None, Sym::Value(s)) => self
                .derivation
                .body(s)
                .and_then(|body| self.closed_expr(body)),
            (None, Sym::Grad(s)) => self
                .derivation
                .gradient(s)
                .map(|g| g.chain)
                .and_then(|chain| self.closed_expr(chain)),
        };
        self.closed.insert(sym, closed);
        closed
    }

    /// A closed form as text, σ and softplus written in exponentials.
    fn closed_text(&mut self, expr: ExprId) -> Text {
        Text {
            plain: self.print_names(expr, Notation::Plain, true),
            latex: if self.latex {
                self.print_names(expr, Notation::Latex, true)
            } else {
                String::new()
            },
        }
    }
}

/// The gradient symbol of a quantity: `dL/dw1` or `\frac{\partial L}{\partial w_{1}}`.
pub fn grad_in(network: &Network, id: SymbolId, notation: Notation) -> String {
    let loss = network.symbol(network.loss);
    let of = network.symbol(id);
    match notation {
        Notation::Plain => format!("d{}/d{}", loss.name, of.name),
        Notation::Latex => format!(
            "\\frac{{\\partial {}}}{{\\partial {}}}",
            loss.latex, of.latex
        ),
    }
}

/// A symbol's name in one notation.
pub fn name_in(network: &Network, sym: Sym, notation: Notation) -> String {
    match (sym, notation) {
        (Sym::Value(id), Notation::Plain) => network.name(id).to_string(),
        (Sym::Value(id), Notation::Latex) => network.symbol(id).latex.clone(),
        (Sym::Grad(id), notation) => grad_in(network, id, notation),
    }
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

/// The backward order the slides teach: nodes from the loss back, each declared quantity right
/// after the last node whose gradient it needs.
pub fn backward_order(network: &Network, derivation: &Derivation) -> Vec<SymbolId> {
    let mut remaining: FxHashMap<SymbolId, usize> = FxHashMap::default();
    for id in network.ids().filter(|&id| !network.symbol(id).is_node()) {
        if let Some(gradient) = derivation.gradient(id) {
            remaining.insert(id, gradient.terms.len());
        }
    }
    let mut users_of: FxHashMap<SymbolId, Vec<SymbolId>> = FxHashMap::default();
    for (&id, _) in remaining.iter() {
        for term in &derivation.gradient(id).expect("listed above").terms {
            users_of.entry(term.child).or_default().push(id);
        }
    }
    let mut order = Vec::new();
    for equation in network.equations.iter().rev() {
        let node = equation.node;
        if derivation.gradient(node).is_none() {
            continue;
        }
        // ∂L/∂L = 1 is not a step worth printing.
        if node != network.loss {
            order.push(node);
        }
        let mut ready: Vec<SymbolId> = Vec::new();
        for &declared in users_of.get(&node).map_or(&[][..], Vec::as_slice) {
            let left = remaining.get_mut(&declared).expect("listed above");
            *left -= 1;
            if *left == 0 {
                ready.push(declared);
            }
        }
        ready.sort();
        ready.dedup();
        order.extend(ready);
    }
    order
}
