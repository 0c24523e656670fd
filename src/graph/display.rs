//! Equations as the author wrote them (term order, literals and all), in plain text or LaTeX,
//! optionally with numbers substituted for the names: the "equation" and "substituted" lines of
//! a forward pass. Derivatives are printed from the expression pool instead.

use std::fmt::Write;

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
        let mut out = String::new();
        match body {
            Body::Expr(expr) => {
                self.write(expr, &mut out);
            }
            Body::Softmax { index, args } => {
                let _ = if self.latex {
                    write!(out, "\\operatorname{{softmax}}_{{{}}}\\left(", index + 1)
                } else {
                    write!(out, "softmax(")
                };
                self.args(args, &mut out);
                let _ = if self.latex {
                    write!(out, "\\right)")
                } else {
                    write!(out, ")[{}]", index + 1)
                };
            }
        }
        out
    }

    /// The expression as text.
    pub fn expr(&self, expr: &Expr) -> String {
        let mut out = String::new();
        self.write(expr, &mut out);
        out
    }

    /// Parenthesizes what was written from `start` on when it binds looser than `need`.
    fn paren(&self, out: &mut String, start: usize, level: Level, need: Level) {
        if level >= need {
            return;
        }
        let (open, close) = if self.latex {
            ("\\left(", "\\right)")
        } else {
            ("(", ")")
        };
        out.insert_str(start, open);
        out.push_str(close);
    }

    fn args(&self, args: &[Expr], out: &mut String) {
        for (index, arg) in args.iter().enumerate() {
            if index > 0 {
                out.push_str(", ");
            }
            self.write(arg, out);
        }
    }

    /// Writes `expr` at the end of `out`; returns how tightly it binds.
    fn write(&self, expr: &Expr, out: &mut String) -> Level {
        match expr {
            Expr::Num(number) => {
                self.literal(&number.text, out);
                Level::Atom
            }
            Expr::Var(ident) => {
                let id = self
                    .network
                    .lookup(&ident.name)
                    .expect("equation names are resolved");
                match (self.substitute)(id) {
                    Some(number) => {
                        out.push_str(&number);
                        if number.starts_with('-') {
                            Level::Sum
                        } else {
                            Level::Atom
                        }
                    }
                    None => {
                        out.push_str(if self.latex {
                            &self.network.symbol(id).latex
                        } else {
                            &ident.name
                        });
                        Level::Atom
                    }
                }
            }
            Expr::Neg { operand, .. } => {
                out.push('-');
                let start = out.len();
                let level = self.write(operand, out);
                self.paren(out, start, level, Level::Power);
                Level::Unary
            }
            Expr::Binary { op, lhs, rhs, .. } => self.binary(*op, lhs, rhs, out),
            Expr::Pow { base, exponent, .. } => {
                if self.latex {
                    out.push('{');
                }
                let start = out.len();
                let level = self.write(base, out);
                self.paren(out, start, level, Level::Atom);
                let exponent = &exponent.text;
                let _ = if self.latex {
                    write!(out, "}}^{{{exponent}}}")
                } else if exponent.starts_with('-') {
                    write!(out, "^({exponent})")
                } else {
                    write!(out, "^{exponent}")
                };
                Level::Power
            }
            Expr::Call { func, args, .. } => {
                if self.latex {
                    let f = Func::by_name(&func.name).expect("functions are checked");
                    out.push_str(f.latex());
                    out.push_str("\\left(");
                } else {
                    out.push_str(&func.name);
                    out.push('(');
                }
                self.args(args, out);
                out.push_str(if self.latex { "\\right)" } else { ")" });
                Level::Atom
            }
        }
    }

    fn binary(&self, op: BinOp, lhs: &Expr, rhs: &Expr, out: &mut String) -> Level {
        let start = out.len();
        let left_level = self.write(lhs, out);
        match op {
            BinOp::Add | BinOp::Sub => {
                out.push_str(if op == BinOp::Add { " + " } else { " - " });
                let right = out.len();
                let right_level = self.write(rhs, out);
                self.paren(out, right, right_level, Level::Product);
                Level::Sum
            }
            BinOp::Div if self.latex => {
                out.insert_str(start, "\\frac{");
                out.push_str("}{");
                self.write(rhs, out);
                out.push('}');
                Level::Atom
            }
            BinOp::Mul | BinOp::Div => {
                self.paren(out, start, left_level, Level::Unary);
                let right = out.len();
                let right_level = self.write(rhs, out);
                self.paren(out, right, right_level, Level::Power);
                // The separator depends on both sides, so it goes in once the right is written.
                let separator = if op == BinOp::Div {
                    "/"
                } else if !self.latex {
                    "*"
                } else if starts_numeric(&out[right..]) || ends_numeric(&out[..right]) {
                    " \\cdot "
                } else {
                    " "
                };
                out.insert_str(right, separator);
                Level::Product
            }
        }
    }

    /// A literal as written; scientific notation set as a power of ten in LaTeX.
    fn literal(&self, text: &str, out: &mut String) {
        match text.split_once(['e', 'E']) {
            Some((mantissa, exponent)) if self.latex => {
                let exponent = exponent.trim_start_matches('+');
                let _ = write!(out, "{mantissa} \\times 10^{{{exponent}}}");
            }
            _ => out.push_str(text),
        }
    }
}

fn starts_numeric(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '.')
}

fn ends_numeric(text: &str) -> bool {
    text.ends_with(|c: char| c.is_ascii_digit() || c == '.')
}
