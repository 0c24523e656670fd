//! Equations as the author wrote them (term order, literals and all), in plain text or LaTeX,
//! optionally with numbers substituted for the names: the "equation" and "substituted" lines of
//! a forward pass. Derivatives are printed from the expression pool instead.

use super::{Body, Network, SymbolId};
use crate::ast::{BinOp, Expr};
use crate::func::Func;

/// How tightly an expression binds, for parentheses.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    Sum,
    Unary,
    Product,
    Power,
    Atom,
}

/// Writes equation bodies.
pub struct Display<'a> {
    /// The network, for names.
    pub network: &'a Network,
    /// LaTeX instead of plain text.
    pub latex: bool,
    /// A number to write instead of a symbol's name, when substituting.
    pub substitute: &'a dyn Fn(SymbolId) -> Option<String>,
}

impl Display<'_> {
    /// An equation's right-hand side as text.
    pub fn body(&self, body: &Body) -> String {
        match body {
            Body::Expr(expr) => self.expr(expr),
            Body::Softmax { index, args } => {
                let args: Vec<String> = args.iter().map(|a| self.expr(a)).collect();
                if self.latex {
                    format!(
                        "\\operatorname{{softmax}}_{{{}}}\\left({}\\right)",
                        index + 1,
                        args.join(", ")
                    )
                } else {
                    format!("softmax({})[{}]", args.join(", "), index + 1)
                }
            }
        }
    }

    /// The expression as text.
    pub fn expr(&self, expr: &Expr) -> String {
        self.write(expr).0
    }

    fn paren(&self, text: String, level: Level, need: Level) -> String {
        if level >= need {
            text
        } else if self.latex {
            format!("\\left({text}\\right)")
        } else {
            format!("({text})")
        }
    }

    fn write(&self, expr: &Expr) -> (String, Level) {
        match expr {
            Expr::Num(number) => (self.literal(&number.text), Level::Atom),
            Expr::Var(ident) => {
                let id = self
                    .network
                    .lookup(&ident.name)
                    .expect("equation names are resolved");
                match (self.substitute)(id) {
                    Some(number) if number.starts_with('-') => (number, Level::Sum),
                    Some(number) => (number, Level::Atom),
                    None if self.latex => (self.network.symbol(id).latex.clone(), Level::Atom),
                    None => (ident.name.clone(), Level::Atom),
                }
            }
            Expr::Neg { operand, .. } => {
                let (text, level) = self.write(operand);
                (
                    format!("-{}", self.paren(text, level, Level::Power)),
                    Level::Unary,
                )
            }
            Expr::Binary { op, lhs, rhs, .. } => self.binary(*op, lhs, rhs),
            Expr::Pow { base, exponent, .. } => {
                let (text, level) = self.write(base);
                let base = self.paren(text, level, Level::Atom);
                let exponent = &exponent.text;
                if self.latex {
                    (format!("{{{base}}}^{{{exponent}}}"), Level::Power)
                } else if exponent.starts_with('-') {
                    (format!("{base}^({exponent})"), Level::Power)
                } else {
                    (format!("{base}^{exponent}"), Level::Power)
                }
            }
            Expr::Call { func, args, .. } => {
                let args: Vec<String> = args.iter().map(|a| self.expr(a)).collect();
                let f = Func::by_name(&func.name).expect("functions are checked");
                let text = if self.latex {
                    format!("{}\\left({}\\right)", f.latex(), args.join(", "))
                } else {
                    format!("{}({})", func.name, args.join(", "))
                };
                (text, Level::Atom)
            }
        }
    }

    fn binary(&self, op: BinOp, lhs: &Expr, rhs: &Expr) -> (String, Level) {
        let (left, left_level) = self.write(lhs);
        let (right, right_level) = self.write(rhs);
        match op {
            BinOp::Add | BinOp::Sub => {
                let sign = if op == BinOp::Add { "+" } else { "-" };
                let right = self.paren(right, right_level, Level::Product);
                (format!("{left} {sign} {right}"), Level::Sum)
            }
            BinOp::Mul => {
                let left = self.paren(left, left_level, Level::Unary);
                let right = self.paren(right, right_level, Level::Power);
                let separator = if !self.latex {
                    "*"
                } else if starts_numeric(&right) || ends_numeric(&left) {
                    " \\cdot "
                } else {
                    " "
                };
                (format!("{left}{separator}{right}"), Level::Product)
            }
            BinOp::Div if self.latex => (format!("\\frac{{{left}}}{{{right}}}"), Level::Atom),
            BinOp::Div => {
                let left = self.paren(left, left_level, Level::Unary);
                let right = self.paren(right, right_level, Level::Power);
                (format!("{left}/{right}"), Level::Product)
            }
        }
    }

    /// A literal as written; scientific notation set as a power of ten in LaTeX.
    fn literal(&self, text: &str) -> String {
        if !self.latex {
            return text.to_string();
        }
        match text.split_once(['e', 'E']) {
            Some((mantissa, exponent)) => {
                let exponent = exponent.trim_start_matches('+');
                format!("{mantissa} \\times 10^{{{exponent}}}")
            }
            None => text.to_string(),
        }
    }
}

fn starts_numeric(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '.')
}

fn ends_numeric(text: &str) -> bool {
    text.ends_with(|c: char| c.is_ascii_digit() || c == '.')
}
