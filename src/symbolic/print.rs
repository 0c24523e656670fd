//! Writing pool expressions as plain text (which the spec grammar reads back, for
//! expressions in values) or as LaTeX (which pdflatex and KaTeX both accept).
//!
//! Symbols are written by a caller-supplied function, so one printer serves names
//! (`a_{11}`), gradients (`\frac{\partial L}{\partial a_{11}}`) and substituted numbers
//! (`(0.494)`). Sums put positive terms first, a positive constant first and a negative one
//! last (`1 - a11`, `y_pred - y`); products put gradients first, then the other factors from
//! the output side of the network back toward the inputs, the order the chain rule runs in.

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};

use super::expr::{ExprId, Node, Pool, Sym};
use crate::func::Func;

/// The output language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Notation {
    /// ASCII: `sigmoid(h11)*(1 - sigmoid(h11))`.
    Plain,
    /// LaTeX math: `\sigma\left(h_{11}\right) \left(1 - \sigma\left(h_{11}\right)\right)`.
    Latex,
}

/// How the caller writes one symbol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Atom {
    /// A name: binds tighter than anything.
    Name(String),
    /// A number substituted for a symbol; parenthesized inside products, powers and after a
    /// sign, the way a worked example writes (0.002)(0.494).
    Number(String),
    /// An expression printed already, binding as loosely as `Prec` says.
    Printed(String, Prec),
}

/// Printing options.
pub struct Printer<'a> {
    /// The expressions.
    pub pool: &'a Pool,
    /// Plain or LaTeX.
    pub notation: Notation,
    /// How to write each symbol.
    pub atom: &'a dyn Fn(Sym) -> Atom,
    /// The position of a symbol from the inputs (higher is nearer the loss), for ordering factors.
    pub rank: &'a dyn Fn(Sym) -> u32,
    /// Write σ(x) as 1/(1 + e^{-x}) and softplus(x) as ln(1 + e^x): closed forms of values.
    pub closed_form: bool,
    /// Subexpressions printed before with the same options, shared across calls: a closed form
    /// or a chain rule reuses its neighbours' pieces.
    pub memo: Option<&'a PrintMemo>,
}

/// Printed subexpressions, for one choice of notation, atoms and closed forms.
pub type PrintMemo = std::cell::RefCell<rustc_hash::FxHashMap<ExprId, Printed>>;

/// A printed subexpression.
#[derive(Clone, Debug)]
pub struct Printed(Out);

/// How loosely printed text binds: a sum needs parentheses inside a product, a product inside
/// a power.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Prec {
    /// `a + b`, `-a`
    Sum,
    /// `a b`, `a/b`
    Product,
    /// `a^2`
    Power,
    /// A name, a number, a call.
    Atom,
}

#[derive(Clone, Debug)]
struct Out {
    text: String,
    prec: Prec,
    /// A number: needs parentheses next to other factors.
    numeric: bool,
    /// A product printed by the caller: it joins a product without parentheses.
    spliced: bool,
}

impl Out {
    fn new(text: String, prec: Prec) -> Out {
        Out {
            text,
            prec,
            numeric: false,
            spliced: false,
        }
    }
}

impl Printer<'_> {
    /// The expression as text.
    pub fn print(&self, id: ExprId) -> String {
        self.expr(id).text
    }

    /// The expression as text, with how loosely it binds.
    pub fn print_with_prec(&self, id: ExprId) -> (String, Prec) {
        let out = self.expr(id);
        (out.text, out.prec)
    }

    fn latex(&self) -> bool {
        self.notation == Notation::Latex
    }

    fn paren(&self, text: &str) -> String {
        if self.latex() {
            format!("\\left({text}\\right)")
        } else {
            format!("({text})")
        }
    }

    /// `out` wrapped in parentheses when it binds looser than `need`.
    fn at_least(&self, out: Out, need: Prec) -> String {
        if out.prec < need {
            self.paren(&out.text)
        } else {
            out.text
        }
    }

    fn expr(&self, id: ExprId) -> Out {
        if let Some(memo) = self.memo
            && let Some(Printed(out)) = memo.borrow().get(&id)
        {
            return out.clone();
        }
        let out = self.expr_uncached(id);
        if let Some(memo) = self.memo {
            memo.borrow_mut().insert(id, Printed(out.clone()));
        }
        out
    }

    fn expr_uncached(&self, id: ExprId) -> Out {
        match self.pool.node(id) {
            Node::Const(value) => self.rational(value),
            Node::Sym(sym) => match (self.atom)(*sym) {
                Atom::Name(name) => Out::new(name, Prec::Atom),
                Atom::Number(text) => Out {
                    prec: if text.starts_with('-') {
                        Prec::Sum
                    } else {
                        Prec::Atom
                    },
                    text,
                    numeric: true,
                    spliced: false,
                },
                Atom::Printed(text, prec) => Out {
                    spliced: prec == Prec::Product,
                    ..Out::new(text, prec)
                },
            },
            Node::Add(constant, terms) => self.sum(constant, terms),
            Node::Mul(coefficient, factors) => self.product(coefficient, factors),
            Node::Apply(func, args) => self.apply(*func, args),
        }
    }

    fn rational(&self, value: &BigRational) -> Out {
        if value.is_integer() {
            let prec = if value.is_negative() {
                Prec::Sum
            } else {
                Prec::Atom
            };
            return Out {
                text: value.numer().to_string(),
                prec,
                numeric: true,
                spliced: false,
            };
        }
        let sign = if value.is_negative() { "-" } else { "" };
        let (numer, denom) = (value.numer().abs(), value.denom());
        if self.latex() {
            let prec = if value.is_negative() {
                Prec::Sum
            } else {
                Prec::Atom
            };
            Out::new(format!("{sign}\\frac{{{numer}}}{{{denom}}}"), prec)
        } else {
            Out {
                text: format!("{sign}{numer}/{denom}"),
                prec: Prec::Product,
                numeric: true,
                spliced: false,
            }
        }
    }

    fn sum(&self, constant: &BigRational, terms: &[(BigRational, ExprId)]) -> Out {
        let mut ordered: Vec<(BigRational, Option<ExprId>)> = Vec::new();
        if constant.is_positive() {
            ordered.push((constant.clone(), None));
        }
        ordered.extend(
            terms
                .iter()
                .filter(|(k, _)| k.is_positive())
                .map(|(k, t)| (k.clone(), Some(*t))),
        );
        ordered.extend(
            terms
                .iter()
                .filter(|(k, _)| k.is_negative())
                .map(|(k, t)| (k.clone(), Some(*t))),
        );
        if constant.is_negative() {
            ordered.push((constant.clone(), None));
        }
        let mut text = String::new();
        for (index, (k, term)) in ordered.iter().enumerate() {
            let magnitude = k.abs();
            let body = match term {
                None => self.rational(&magnitude).text,
                // A substituted negative number leads a sum without parentheses: -0.1 + 0.048.
                Some(term) if index == 0 && k.is_one() => {
                    let out = self.expr(*term);
                    if out.numeric {
                        out.text
                    } else {
                        self.at_least(out, Prec::Product)
                    }
                }
                Some(term) => self.scaled(&magnitude, *term),
            };
            match (index, k.is_negative()) {
                (0, true) => text.push_str(&format!("-{body}")),
                (0, false) => text.push_str(&body),
                (_, true) => text.push_str(&format!(" - {body}")),
                (_, false) => text.push_str(&format!(" + {body}")),
            }
        }
        Out::new(text, Prec::Sum)
    }

    /// `k · term` for a positive k, as one summand.
    fn scaled(&self, k: &BigRational, term: ExprId) -> String {
        if k.is_one() {
            return self.at_least(self.expr(term), Prec::Product);
        }
        match self.pool.node(term) {
            Node::Mul(c, factors) => self.product(&(c * k), factors).text,
            _ => self.product(k, &[(term, 1)]).text,
        }
    }

    fn product(&self, coefficient: &BigRational, factors: &[(ExprId, i32)]) -> Out {
        let mut numerator: Vec<(ExprId, i32)> =
            factors.iter().copied().filter(|&(_, e)| e > 0).collect();
        let mut denominator: Vec<(ExprId, i32)> = factors
            .iter()
            .filter(|&&(_, e)| e < 0)
            .map(|&(b, e)| (b, -e))
            .collect();
        self.order_factors(&mut numerator);
        self.order_factors(&mut denominator);
        // Sums in products are stored primitive, -(y - y_pred); a minus sign is folded back into
        // a sum without a constant for display, (y_pred - y).
        let flip = numerator
            .iter()
            .find(|&&(b, e)| {
                e % 2 == 1 && matches!(self.pool.node(b), Node::Add(c, _) if c.is_zero())
            })
            .map(|&(b, _)| b)
            .filter(|_| coefficient.is_negative());
        let flipped = -coefficient;
        let coefficient = if flip.is_some() {
            &flipped
        } else {
            coefficient
        };
        let negative = coefficient.is_negative();
        let numer = BigRational::from_integer(coefficient.numer().abs());
        let denom = BigRational::from_integer(coefficient.denom().clone());

        let sign = if negative { "-" } else { "" };
        if denominator.is_empty() && !denom.is_one() && !numerator.is_empty() {
            // A fraction coefficient leads: 7/50*a11, \frac{7}{50} a_{11}.
            let magnitude =
                BigRational::new(coefficient.numer().abs(), coefficient.denom().clone());
            let fraction = self.rational(&magnitude).text;
            // The fraction counts as a factor, so a lone sum or quotient after it is bracketed.
            let rest = self
                .factor_list(&BigRational::one(), &numerator, flip, true)
                .unwrap_or_default();
            let separator = if self.latex() { " " } else { "*" };
            return Out::new(
                format!("{sign}{fraction}{separator}{rest}"),
                if negative { Prec::Sum } else { Prec::Product },
            );
        }
        let top = self.factor_list(&numer, &numerator, flip, false);
        let bottom = self.factor_list(&denom, &denominator, None, false);
        let text = match bottom {
            None => format!("{sign}{}", top.unwrap_or_else(|| "1".to_string())),
            Some(bottom) => {
                let top = top.unwrap_or_else(|| "1".to_string());
                if self.latex() {
                    format!("{sign}\\frac{{{top}}}{{{bottom}}}")
                } else {
                    let top = if numerator.len() + usize::from(!numer.is_one()) > 1 {
                        format!("({top})")
                    } else {
                        top
                    };
                    // A lone sum is parenthesized by `factor_list` already.
                    let bottom = if denominator.len() + usize::from(!denom.is_one()) > 1 {
                        format!("({bottom})")
                    } else {
                        bottom
                    };
                    format!("{sign}{top}/{bottom}")
                }
            }
        };
        let prec = if negative { Prec::Sum } else { Prec::Product };
        let single_power = !negative && coefficient.is_one() && factors.len() == 1;
        Out::new(text, if single_power { Prec::Power } else { prec })
    }

    /// Gradients first, then from the output side back toward the inputs, ties by id.
    fn order_factors(&self, factors: &mut [(ExprId, i32)]) {
        if factors.len() < 2 {
            return;
        }
        factors.sort_by_cached_key(|&(id, _)| {
            let is_gradient = matches!(self.pool.node(id), Node::Sym(Sym::Grad(_)));
            (!is_gradient, std::cmp::Reverse(self.max_rank(id)), id)
        });
    }

    fn max_rank(&self, id: ExprId) -> u32 {
        match self.pool.node(id) {
            Node::Sym(sym) => (self.rank)(*sym),
            Node::Const(_) => 0,
            _ => self
                .pool
                .symbols(id)
                .into_iter()
                .map(|sym| (self.rank)(sym))
                .max()
                .unwrap_or(0),
        }
    }

    /// `c f1^e1 f2^e2 ...` for a positive integer c; `None` for the empty product 1.
    /// `after_coefficient`: a coefficient is printed before the list by the caller.
    fn factor_list(
        &self,
        coefficient: &BigRational,
        factors: &[(ExprId, i32)],
        flip: Option<ExprId>,
        after_coefficient: bool,
    ) -> Option<String> {
        let mut parts: Vec<Out> = Vec::new();
        if !coefficient.is_one() {
            parts.push(self.rational(coefficient));
        }
        let several = after_coefficient || factors.len() + parts.len() > 1;
        for &(base, exponent) in factors {
            let out = if Some(base) == flip {
                Out::new(self.pool_neg_text(base), Prec::Sum)
            } else {
                self.expr(base)
            };
            let numeric = out.numeric;
            let part = if exponent == 1 {
                let need = if several && !out.spliced {
                    Prec::Power
                } else {
                    Prec::Product
                };
                let text = if numeric && several && self.latex() {
                    self.paren(&out.text)
                } else {
                    self.at_least(out, need)
                };
                Out {
                    text,
                    prec: Prec::Power,
                    numeric,
                    spliced: false,
                }
            } else {
                let text = self.power(out, exponent);
                Out::new(text, Prec::Power)
            };
            parts.push(part);
        }
        if parts.is_empty() {
            return None;
        }
        let separator = match self.notation {
            Notation::Plain => "*",
            Notation::Latex => " ",
        };
        Some(
            parts
                .into_iter()
                .map(|p| p.text)
                .collect::<Vec<_>>()
                .join(separator),
        )
    }

    fn power(&self, base: Out, exponent: i32) -> String {
        let base = if base.prec < Prec::Atom || base.numeric || self.is_call(&base.text) {
            self.paren(&base.text)
        } else {
            base.text
        };
        if self.latex() {
            format!("{{{base}}}^{{{exponent}}}")
        } else if exponent < 0 {
            format!("{base}^({exponent})")
        } else {
            format!("{base}^{exponent}")
        }
    }

    /// Whether a printed atom is a function application (which reads ambiguously under a power).
    fn is_call(&self, text: &str) -> bool {
        text.ends_with(')') || text.ends_with("\\right)")
    }

    fn apply(&self, func: Func, args: &[ExprId]) -> Out {
        let arg = |k: usize| self.expr(args[k]).text;
        if self.closed_form {
            match func {
                Func::Sigmoid => {
                    let minus = self.pool_neg_text(args[0]);
                    return if self.latex() {
                        Out::new(format!("\\frac{{1}}{{1 + e^{{{minus}}}}}"), Prec::Atom)
                    } else {
                        Out::new(format!("1/(1 + exp({minus}))"), Prec::Product)
                    };
                }
                Func::Softplus => {
                    let x = arg(0);
                    return if self.latex() {
                        Out::new(format!("\\ln\\left(1 + e^{{{x}}}\\right)"), Prec::Atom)
                    } else {
                        Out::new(format!("log(1 + exp({x}))"), Prec::Atom)
                    };
                }
                _ => {}
            }
        }
        let all_args = || {
            args.iter()
                .map(|&a| self.expr(a).text)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let text = match (self.notation, func) {
            (Notation::Latex, Func::Exp) => format!("e^{{{}}}", arg(0)),
            (Notation::Latex, Func::Softmax(i)) => {
                format!(
                    "\\operatorname{{softmax}}_{{{}}}\\left({}\\right)",
                    i + 1,
                    all_args()
                )
            }
            (Notation::Latex, _) => {
                format!("{}\\left({}\\right)", func.latex(), all_args())
            }
            (Notation::Plain, Func::Softmax(i)) => format!("softmax({})[{}]", all_args(), i + 1),
            (Notation::Plain, _) => format!("{}({})", func.name(), all_args()),
        };
        Out::new(text, Prec::Atom)
    }

    /// The text of `-x`, simplified (so σ(-3/125) prints e^{3/125}).
    fn pool_neg_text(&self, x: ExprId) -> String {
        match self.pool.node(x) {
            Node::Const(value) => self.rational(&-value).text,
            Node::Mul(c, factors) => self.product(&-c, factors).text,
            Node::Add(c, terms) => {
                let negated: Vec<(BigRational, ExprId)> =
                    terms.iter().map(|(k, t)| (-k, *t)).collect();
                self.sum(&-c, &negated).text
            }
            _ => format!("-{}", self.at_least(self.expr(x), Prec::Power)),
        }
    }
}

/// A rational as plain text: `3/10`, `-2`.
pub fn plain_rational(value: &BigRational) -> String {
    if value.is_integer() {
        value.numer().to_string()
    } else {
        format!("{}/{}", value.numer(), value.denom())
    }
}

/// A rational as LaTeX: `\frac{3}{10}`, `-\frac{1}{2}`, `4`.
pub fn latex_rational(value: &BigRational) -> String {
    if value.is_integer() {
        return value.numer().to_string();
    }
    let sign = if value.is_negative() { "-" } else { "" };
    let numer: BigInt = value.numer().abs();
    format!("{sign}\\frac{{{numer}}}{{{}}}", value.denom())
}
