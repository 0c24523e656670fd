//! Writing pool expressions as plain text (which the spec grammar reads back, for
//! expressions in values) or as LaTeX (which pdflatex and KaTeX both accept).
//!
//! Symbols are written by a caller-supplied function, so one printer serves names
//! (`a_{11}`), gradients (`\frac{\partial L}{\partial a_{11}}`) and substituted numbers
//! (`(0.494)`). Sums put positive terms first, a positive constant first and a negative one
//! last (`1 - a11`, `y_pred - y`); products put gradients first, then the other factors from
//! the output side of the network back toward the inputs, the order the chain rule runs in.

use std::fmt::Write;

use num_bigint::{BigInt, BigUint, Sign};
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive};

use super::expr::{ExprId, Node, Pool, RationalId, Sym};
use crate::func::Func;

/// The output language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Notation {
    /// ASCII: `sigmoid(h11)*(1 - sigmoid(h11))`.
    Plain,
    /// LaTeX math: `\sigma\left(h_{11}\right) \left(1 - \sigma\left(h_{11}\right)\right)`.
    Latex,
}

/// What the caller wrote for one symbol (it writes the text itself, straight into the output).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Atom {
    /// A name: binds tighter than anything.
    Name,
    /// A number substituted for a symbol; parenthesized inside products, powers and after a
    /// sign, the way a worked example writes (0.002)(0.494).
    Number,
    /// An expression printed already, binding as loosely as `Prec` says.
    Printed(Prec),
}

/// Printing options.
pub struct Printer<'a> {
    /// The expressions.
    pub pool: &'a Pool,
    /// Plain or LaTeX.
    pub notation: Notation,
    /// Writes a symbol onto the output.
    pub atom: &'a dyn Fn(Sym, &mut String) -> Atom,
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
#[derive(Debug)]
pub struct Printed {
    text: Box<str>,
    shape: Shape,
}

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

/// How a piece of printed text binds and reads, returned by whatever wrote it.
#[derive(Clone, Copy, Debug)]
struct Shape {
    prec: Prec,
    /// A number: needs parentheses next to other factors.
    numeric: bool,
    /// A product printed by the caller: it joins a product without parentheses.
    spliced: bool,
}

impl Shape {
    fn new(prec: Prec) -> Shape {
        Shape {
            prec,
            numeric: false,
            spliced: false,
        }
    }

    fn number(prec: Prec) -> Shape {
        Shape {
            numeric: true,
            ..Shape::new(prec)
        }
    }
}

/// The sign of `value`, or of `-value` when `negate` (so `-x` prints without building it).
fn sign(value: &BigRational, negate: bool) -> Sign {
    // Pool rationals keep their denominators positive.
    let sign = value.numer().sign();
    if negate { -sign } else { sign }
}

/// Whether |value| is 1.
fn is_unit(value: &BigRational) -> bool {
    value.numer().magnitude().is_one() && value.denom().is_one()
}

/// Writes a magnitude, without the allocation of `BigUint`'s `Display` when it is small.
fn write_magnitude(out: &mut String, value: &BigUint) {
    match value.to_u64() {
        Some(small) => out.push_str(itoa::Buffer::new().format(small)),
        None => {
            let _ = write!(out, "{value}");
        }
    }
}

impl Printer<'_> {
    /// The expression as text.
    pub fn print(&self, id: ExprId) -> String {
        self.print_with_prec(id).0
    }

    /// The expression as text, with how loosely it binds.
    pub fn print_with_prec(&self, id: ExprId) -> (String, Prec) {
        // Room for most expressions at once, instead of growing through 8, 16, 32, ... bytes.
        let mut out = String::with_capacity(128);
        let shape = self.expr(id, &mut out);
        (out, shape.prec)
    }

    fn latex(&self) -> bool {
        self.notation == Notation::Latex
    }

    fn separator(&self) -> &'static str {
        match self.notation {
            Notation::Plain => "*",
            Notation::Latex => " ",
        }
    }

    /// Parenthesizes what was written from `start` on.
    fn paren(&self, out: &mut String, start: usize) {
        let (open, close) = if self.latex() {
            ("\\left(", "\\right)")
        } else {
            ("(", ")")
        };
        out.insert_str(start, open);
        out.push_str(close);
    }

    /// Parenthesizes what was written from `start` on when it binds looser than `need`.
    fn at_least(&self, out: &mut String, start: usize, shape: Shape, need: Prec) {
        if shape.prec < need {
            self.paren(out, start);
        }
    }

    fn expr(&self, id: ExprId, out: &mut String) -> Shape {
        let Some(memo) = self.memo else {
            return self.expr_uncached(id, out);
        };
        if let Some(printed) = memo.borrow().get(&id) {
            out.push_str(&printed.text);
            return printed.shape;
        }
        let start = out.len();
        let shape = self.expr_uncached(id, out);
        let text = out[start..].into();
        memo.borrow_mut().insert(id, Printed { text, shape });
        shape
    }

    fn expr_uncached(&self, id: ExprId, out: &mut String) -> Shape {
        match self.pool.node(id) {
            Node::Const(value) => self.rational(self.pool.rational(*value), false, out),
            Node::Sym(sym) => {
                let start = out.len();
                match (self.atom)(*sym, out) {
                    Atom::Name => Shape::new(Prec::Atom),
                    Atom::Number => Shape::number(if out[start..].starts_with('-') {
                        Prec::Sum
                    } else {
                        Prec::Atom
                    }),
                    Atom::Printed(prec) => Shape {
                        spliced: prec == Prec::Product,
                        ..Shape::new(prec)
                    },
                }
            }
            Node::Add(constant, terms) => {
                self.sum(self.pool.rational(*constant), terms, false, out)
            }
            Node::Mul(coefficient, factors) => {
                self.product(self.pool.rational(*coefficient), factors, false, out)
            }
            Node::Apply(func, args) => self.apply(*func, args, out),
        }
    }

    /// `value`, or `-value` when `negate`.
    fn rational(&self, value: &BigRational, negate: bool, out: &mut String) -> Shape {
        let negative = sign(value, negate) == Sign::Minus;
        if negative {
            out.push('-');
        }
        let signed = if negative { Prec::Sum } else { Prec::Atom };
        let (numer, denom) = (value.numer().magnitude(), value.denom().magnitude());
        if value.is_integer() {
            write_magnitude(out, numer);
            Shape::number(signed)
        } else if self.latex() {
            out.push_str("\\frac{");
            write_magnitude(out, numer);
            out.push_str("}{");
            write_magnitude(out, denom);
            out.push('}');
            Shape::new(signed)
        } else {
            write_magnitude(out, numer);
            out.push('/');
            write_magnitude(out, denom);
            Shape::number(Prec::Product)
        }
    }

    /// A sum, negated when `negate`: positive terms first, a positive constant first and a
    /// negative one last.
    fn sum(
        &self,
        constant: &BigRational,
        terms: &[(RationalId, ExprId)],
        negate: bool,
        out: &mut String,
    ) -> Shape {
        let mut index = 0;
        let constant_sign = sign(constant, negate);
        if constant_sign == Sign::Plus {
            self.summand(index, constant, negate, None, out);
            index += 1;
        }
        for wanted in [Sign::Plus, Sign::Minus] {
            for (k, term) in terms {
                let k = self.pool.rational(*k);
                if sign(k, negate) == wanted {
                    self.summand(index, k, negate, Some(*term), out);
                    index += 1;
                }
            }
        }
        if constant_sign == Sign::Minus {
            self.summand(index, constant, negate, None, out);
        }
        Shape::new(Prec::Sum)
    }

    /// The `index`th summand `k · term` (or the constant `k`) with its sign.
    fn summand(
        &self,
        index: usize,
        k: &BigRational,
        negate: bool,
        term: Option<ExprId>,
        out: &mut String,
    ) {
        let negative = sign(k, negate) == Sign::Minus;
        out.push_str(match (index, negative) {
            (0, true) => "-",
            (0, false) => "",
            (_, true) => " - ",
            (_, false) => " + ",
        });
        let start = out.len();
        match term {
            None => {
                self.rational(k, k.is_negative(), out);
            }
            // A substituted negative number leads a sum without parentheses: -0.1 + 0.048.
            Some(term) if index == 0 && !negative && is_unit(k) => {
                let shape = self.expr(term, out);
                if !shape.numeric {
                    self.at_least(out, start, shape, Prec::Product);
                }
            }
            Some(term) if is_unit(k) => {
                let shape = self.expr(term, out);
                self.at_least(out, start, shape, Prec::Product);
            }
            Some(term) => {
                let magnitude = k.abs();
                match self.pool.node(term) {
                    Node::Mul(c, factors) => {
                        self.product(&(self.pool.rational(*c) * magnitude), factors, false, out)
                    }
                    _ => self.product(&magnitude, &[(term, 1)], false, out),
                };
            }
        }
    }

    /// A product, negated when `negate`.
    fn product(
        &self,
        coefficient: &BigRational,
        factors: &[(ExprId, i32)],
        negate: bool,
        out: &mut String,
    ) -> Shape {
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
            .filter(|_| sign(coefficient, negate) == Sign::Minus);
        let negative = sign(coefficient, negate) == Sign::Minus && flip.is_none();
        let numer = coefficient.numer().magnitude();
        let denom = coefficient.denom().magnitude();
        let prec = if negative { Prec::Sum } else { Prec::Product };
        if negative {
            out.push('-');
        }
        if denominator.is_empty() && !denom.is_one() && !numerator.is_empty() {
            // A fraction coefficient leads: 7/50*a11, \frac{7}{50} a_{11}.
            self.rational(coefficient, coefficient.is_negative(), out);
            out.push_str(self.separator());
            // The fraction counts as a factor, so a lone sum or quotient after it is bracketed.
            self.factor_list(&BigUint::one(), &numerator, flip, true, out);
            return Shape::new(prec);
        }
        let top = |out: &mut String| {
            if numerator.is_empty() && numer.is_one() {
                out.push('1');
            } else {
                self.factor_list(numer, &numerator, flip, false, out);
            }
        };
        if denominator.is_empty() && denom.is_one() {
            top(out);
        } else if self.latex() {
            out.push_str("\\frac{");
            top(out);
            out.push_str("}{");
            self.factor_list(denom, &denominator, None, false, out);
            out.push('}');
        } else {
            let start = out.len();
            top(out);
            if numerator.len() + usize::from(!numer.is_one()) > 1 {
                out.insert(start, '(');
                out.push(')');
            }
            out.push('/');
            let start = out.len();
            self.factor_list(denom, &denominator, None, false, out);
            // A lone sum is parenthesized by `factor_list` already.
            if denominator.len() + usize::from(!denom.is_one()) > 1 {
                out.insert(start, '(');
                out.push(')');
            }
        }
        let single_power = !negative && numer.is_one() && denom.is_one() && factors.len() == 1;
        Shape::new(if single_power { Prec::Power } else { prec })
    }

    /// Gradients first, then from the output side back toward the inputs, ties by id.
    fn order_factors(&self, factors: &mut [(ExprId, i32)]) {
        let key = |id: ExprId| {
            let is_gradient = matches!(self.pool.node(id), Node::Sym(Sym::Grad(_)));
            (!is_gradient, std::cmp::Reverse(self.max_rank(id)), id)
        };
        match factors {
            [] | [_] => {}
            // Most products have two factors (∂L/∂h · x): no key vector for them.
            [a, b] => {
                if key(b.0) < key(a.0) {
                    std::mem::swap(a, b);
                }
            }
            _ => factors.sort_by_cached_key(|&(id, _)| key(id)),
        }
    }

    /// The highest rank of a symbol in `id`.
    fn max_rank(&self, id: ExprId) -> u32 {
        let leaf = |id: ExprId| match self.pool.node(id) {
            Node::Sym(sym) => Some((self.rank)(*sym)),
            Node::Const(_) => Some(0),
            _ => None,
        };
        if let Some(rank) = leaf(id) {
            return rank;
        }
        // Most factors are a call or a sum of symbols, σ(h11), (1 - a11): read their children
        // before walking the whole expression.
        let children: Option<Vec<u32>> = match self.pool.node(id) {
            Node::Add(_, terms) => terms.iter().map(|&(_, t)| leaf(t)).collect(),
            Node::Mul(_, factors) => factors.iter().map(|&(b, _)| leaf(b)).collect(),
            Node::Apply(_, args) => args.iter().map(|&a| leaf(a)).collect(),
            Node::Sym(_) | Node::Const(_) => None,
        };
        match children {
            Some(ranks) => ranks.into_iter().max(),
            None => self
                .pool
                .symbols(id)
                .into_iter()
                .map(|sym| (self.rank)(sym))
                .max(),
        }
        .unwrap_or(0)
    }

    /// `c f1^e1 f2^e2 ...` for a positive integer c, at least one of them there.
    /// `after_coefficient`: a coefficient is printed before the list by the caller.
    fn factor_list(
        &self,
        coefficient: &BigUint,
        factors: &[(ExprId, i32)],
        flip: Option<ExprId>,
        after_coefficient: bool,
        out: &mut String,
    ) {
        let printed_coefficient = !coefficient.is_one();
        if printed_coefficient {
            write_magnitude(out, coefficient);
        }
        let several = after_coefficient || factors.len() + usize::from(printed_coefficient) > 1;
        for (index, &(base, exponent)) in factors.iter().enumerate() {
            if index > 0 || printed_coefficient {
                out.push_str(self.separator());
            }
            let start = out.len();
            let shape = if Some(base) == flip {
                self.negated(base, out);
                Shape::new(Prec::Sum)
            } else {
                self.expr(base, out)
            };
            if exponent != 1 {
                self.power(out, start, shape, exponent);
            } else if shape.numeric && several && self.latex() {
                self.paren(out, start);
            } else {
                let need = if several && !shape.spliced {
                    Prec::Power
                } else {
                    Prec::Product
                };
                self.at_least(out, start, shape, need);
            }
        }
    }

    /// Raises what was written from `start` on to `exponent`.
    fn power(&self, out: &mut String, start: usize, base: Shape, exponent: i32) {
        // A call reads ambiguously under a power: (σ(h))^2.
        let is_call = out.ends_with(')') || out.ends_with("\\right)");
        if base.prec < Prec::Atom || base.numeric || is_call {
            self.paren(out, start);
        }
        let _ = if self.latex() {
            out.insert(start, '{');
            write!(out, "}}^{{{exponent}}}")
        } else if exponent < 0 {
            write!(out, "^({exponent})")
        } else {
            write!(out, "^{exponent}")
        };
    }

    /// The arguments, separated by commas.
    fn args(&self, args: &[ExprId], out: &mut String) {
        for (index, &arg) in args.iter().enumerate() {
            if index > 0 {
                out.push_str(", ");
            }
            self.expr(arg, out);
        }
    }

    fn apply(&self, func: Func, args: &[ExprId], out: &mut String) -> Shape {
        let latex = self.latex();
        match func {
            Func::Sigmoid | Func::Softplus if self.closed_form => {
                let sigmoid = func == Func::Sigmoid;
                let (open, close) = match (sigmoid, latex) {
                    (true, true) => ("\\frac{1}{1 + e^{", "}}"),
                    (true, false) => ("1/(1 + exp(", "))"),
                    (false, true) => ("\\ln\\left(1 + e^{", "}\\right)"),
                    (false, false) => ("log(1 + exp(", "))"),
                };
                out.push_str(open);
                if sigmoid {
                    self.negated(args[0], out);
                } else {
                    self.expr(args[0], out);
                }
                out.push_str(close);
                if sigmoid && !latex {
                    return Shape::new(Prec::Product);
                }
            }
            Func::Exp if latex => {
                out.push_str("e^{");
                self.expr(args[0], out);
                out.push('}');
            }
            Func::Softmax(i) => {
                let _ = if latex {
                    write!(out, "\\operatorname{{softmax}}_{{{}}}\\left(", i + 1)
                } else {
                    write!(out, "softmax(")
                };
                self.args(args, out);
                let _ = if latex {
                    write!(out, "\\right)")
                } else {
                    write!(out, ")[{}]", i + 1)
                };
            }
            _ => {
                out.push_str(if latex { func.latex() } else { func.name() });
                out.push_str(if latex { "\\left(" } else { "(" });
                self.args(args, out);
                out.push_str(if latex { "\\right)" } else { ")" });
            }
        }
        Shape::new(Prec::Atom)
    }

    /// `-x`, simplified (so σ(-3/125) prints e^{3/125}).
    fn negated(&self, x: ExprId, out: &mut String) {
        match self.pool.node(x) {
            Node::Const(value) => {
                self.rational(self.pool.rational(*value), true, out);
            }
            Node::Mul(c, factors) => {
                self.product(self.pool.rational(*c), factors, true, out);
            }
            Node::Add(c, terms) => {
                self.sum(self.pool.rational(*c), terms, true, out);
            }
            _ => {
                out.push('-');
                let start = out.len();
                let shape = self.expr(x, out);
                self.at_least(out, start, shape, Prec::Power);
            }
        }
    }
}

/// A rational as plain text: `3/10`, `-2`.
pub fn plain_rational(value: &BigRational) -> String {
    let mut text = String::new();
    if value.is_negative() {
        text.push('-');
    }
    write_magnitude(&mut text, value.numer().magnitude());
    if !value.is_integer() {
        text.push('/');
        write_magnitude(&mut text, value.denom().magnitude());
    }
    text
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
