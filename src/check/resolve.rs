//! Turning what a student wrote into the network's terms: names to symbols (by the display-name
//! rule, so `h_{11}` is `h11`), `∂L/∂x` to gradients, `∂c/∂x` to the true local derivative,
//! updated values to `p - eta dL/dp`, and expressions into the expression pool.

use num_rational::BigRational;
use num_traits::ToPrimitive;

use super::read::{Func as ReadFunc, MathExpr, Name};
use crate::eval::decimal::Decimal;
use crate::func::Func;
use crate::graph::{Network, SymbolId};
use crate::symbolic::backprop::Derivation;
use crate::symbolic::expr::{ExprId, Sym};

/// The quantity a claim is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Subject {
    /// A given value or a forward node: `a11`.
    Value(SymbolId),
    /// ∂L/∂x.
    Grad(SymbolId),
    /// A parameter after the update: `w5_new`.
    Updated(SymbolId),
    /// A node recomputed after the update: `L_new`, the loss after the step.
    After(SymbolId),
}

/// Why a side cannot be put in the network's terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResolveError {
    /// A name that is not in the network (as written).
    Undefined(String),
    /// Something the checker cannot evaluate.
    Unsupported(String),
}

/// Resolves names and expressions against one network.
pub struct Resolver<'a> {
    /// The network.
    pub network: &'a Network,
    /// Its derivation; resolved expressions are added to its pool.
    pub derivation: &'a mut Derivation,
}

impl Resolver<'_> {
    /// The symbol a written name stands for.
    pub fn symbol(&self, name: &Name) -> Option<SymbolId> {
        name.candidates()
            .iter()
            .find_map(|candidate| self.network.lookup(candidate))
            .or_else(|| {
                // Fall back to the display form: `w^{(2)}_{11}` written for a `latex` override.
                let written = squeeze(&name.written);
                self.network
                    .ids()
                    .find(|&id| squeeze(&self.network.symbol(id).latex) == written)
            })
    }

    /// The quantity a side names, if it is a single quantity.
    pub fn subject(&self, expr: &MathExpr) -> Option<Subject> {
        match expr {
            MathExpr::Name(name) => {
                let id = self.symbol(name)?;
                Some(self.named(id, name.updated))
            }
            MathExpr::Grad { of, wrt } => {
                let of = self.symbol(of)?;
                let wrt = self.symbol(wrt)?;
                (of == self.network.loss).then_some(Subject::Grad(wrt))
            }
            _ => None,
        }
    }

    /// The subject a name stands for: a value, a parameter's update, or a node after the update.
    fn named(&self, id: SymbolId, updated: bool) -> Subject {
        match (updated, self.network.symbol(id).is_node()) {
            (false, _) => Subject::Value(id),
            (true, false) => Subject::Updated(id),
            (true, true) => Subject::After(id),
        }
    }

    /// The expression a subject stands for: its symbol, or `p - eta dL/dp` for an update (a
    /// node after the update is its symbol too, evaluated after the update).
    pub fn subject_expr(&mut self, subject: Subject) -> Result<ExprId, ResolveError> {
        let pool = &mut self.derivation.pool;
        Ok(match subject {
            Subject::Value(id) | Subject::After(id) => pool.sym(Sym::Value(id)),
            Subject::Grad(id) => pool.sym(Sym::Grad(id)),
            Subject::Updated(id) => {
                let rate = self.network.rate.ok_or_else(|| {
                    ResolveError::Unsupported(
                        "an updated value, but the spec has no learning rate".into(),
                    )
                })?;
                let (p, eta, g) = (
                    pool.sym(Sym::Value(id)),
                    pool.sym(Sym::Value(rate)),
                    pool.sym(Sym::Grad(id)),
                );
                let step = pool.mul2(eta, g);
                pool.sub(p, step)
            }
        })
    }

    /// The expression of a side in the pool.
    pub fn expr(&mut self, expr: &MathExpr) -> Result<ExprId, ResolveError> {
        Ok(match expr {
            MathExpr::Number(text) => {
                let value = number(text)
                    .ok_or_else(|| ResolveError::Unsupported(format!("the number `{text}`")))?;
                self.derivation.pool.constant(value)
            }
            MathExpr::Name(name) => {
                let id = self
                    .symbol(name)
                    .ok_or_else(|| ResolveError::Undefined(name.written.clone()))?;
                match self.named(id, name.updated) {
                    Subject::After(_) => {
                        return Err(ResolveError::Unsupported(format!(
                            "`{}` inside an expression: a value after the update",
                            name.written
                        )));
                    }
                    subject => self.subject_expr(subject)?,
                }
            }
            MathExpr::Grad { of, wrt } => {
                let of_id = self
                    .symbol(of)
                    .ok_or_else(|| ResolveError::Undefined(of.written.clone()))?;
                let wrt_id = self
                    .symbol(wrt)
                    .ok_or_else(|| ResolveError::Undefined(wrt.written.clone()))?;
                self.partial(of_id, wrt_id)
            }
            MathExpr::Neg(inner) => {
                let inner = self.expr(inner)?;
                self.derivation.pool.neg(inner)
            }
            MathExpr::Add(a, b)
            | MathExpr::Sub(a, b)
            | MathExpr::Mul(a, b)
            | MathExpr::Div(a, b) => {
                let (a_id, b_id) = (self.expr(a)?, self.expr(b)?);
                let pool = &mut self.derivation.pool;
                match expr {
                    MathExpr::Add(..) => pool.add2(a_id, b_id),
                    MathExpr::Sub(..) => pool.sub(a_id, b_id),
                    MathExpr::Mul(..) => pool.mul2(a_id, b_id),
                    _ if pool.is_zero(b_id) => {
                        return Err(ResolveError::Unsupported("a division by zero".into()));
                    }
                    _ => pool.div(a_id, b_id),
                }
            }
            MathExpr::Pow(base, exponent) => {
                let base = self.expr(base)?;
                let exponent = self.expr(exponent)?;
                let n = self
                    .derivation
                    .pool
                    .as_const(exponent)
                    .filter(|q| q.is_integer())
                    .and_then(|q| q.to_integer().to_i32())
                    .filter(|n| n.abs() <= 64)
                    .ok_or_else(|| {
                        ResolveError::Unsupported("a power that is not a small whole number".into())
                    })?;
                if n < 0 && self.derivation.pool.is_zero(base) {
                    return Err(ResolveError::Unsupported("a division by zero".into()));
                }
                self.derivation.pool.pow(base, n)
            }
            MathExpr::Softmax { index, args } => {
                let args = args
                    .iter()
                    .map(|a| self.expr(a))
                    .collect::<Result<Vec<_>, _>>()?;
                let index = u32::try_from(*index - 1)
                    .map_err(|_| ResolveError::Unsupported("a softmax index".into()))?;
                self.derivation.pool.apply(Func::Softmax(index), &args)
            }
            MathExpr::Call { func, arg } => {
                let arg = self.expr(arg)?;
                let pool = &mut self.derivation.pool;
                match func {
                    ReadFunc::SigmoidPrime => {
                        let s = pool.apply(Func::Sigmoid, &[arg]);
                        let one_minus = pool.sub(pool.one(), s);
                        pool.mul2(s, one_minus)
                    }
                    ReadFunc::Sigmoid => pool.apply(Func::Sigmoid, &[arg]),
                    ReadFunc::Tanh => pool.apply(Func::Tanh, &[arg]),
                    ReadFunc::Relu => pool.apply(Func::Relu, &[arg]),
                    ReadFunc::Exp => pool.apply(Func::Exp, &[arg]),
                    ReadFunc::Log => pool.apply(Func::Log, &[arg]),
                    ReadFunc::Softplus => pool.apply(Func::Softplus, &[arg]),
                    ReadFunc::Step => pool.apply(Func::Step, &[arg]),
                    ReadFunc::Identity => arg,
                }
            }
        })
    }

    /// ∂of/∂wrt: a gradient of the loss, or the true local derivative of a node's equation.
    fn partial(&mut self, of: SymbolId, wrt: SymbolId) -> ExprId {
        let pool = &mut self.derivation.pool;
        if of == self.network.loss {
            return if wrt == of {
                pool.one()
            } else {
                pool.sym(Sym::Grad(wrt))
            };
        }
        if of == wrt {
            return pool.one();
        }
        self.derivation
            .gradient(wrt)
            .and_then(|g| g.terms.iter().find(|t| t.child == of))
            .map_or_else(|| self.derivation.pool.zero(), |term| term.local_nodes)
    }
}

/// The exact value of a written number.
pub fn number(text: &str) -> Option<BigRational> {
    Decimal::parse(text).map(|d| d.to_rational())
}

/// Whether a written expression has no names in it (numbers and arithmetic only).
pub fn is_numeric(expr: &MathExpr) -> bool {
    match expr {
        MathExpr::Number(_) => true,
        MathExpr::Name(_) | MathExpr::Grad { .. } => false,
        MathExpr::Neg(a) => is_numeric(a),
        MathExpr::Add(a, b)
        | MathExpr::Sub(a, b)
        | MathExpr::Mul(a, b)
        | MathExpr::Div(a, b)
        | MathExpr::Pow(a, b) => is_numeric(a) && is_numeric(b),
        MathExpr::Call { arg, .. } => is_numeric(arg),
        MathExpr::Softmax { args, .. } => args.iter().all(is_numeric),
    }
}

/// A LaTeX name without spaces and braces, for comparing display forms.
fn squeeze(latex: &str) -> String {
    latex
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '{' && *c != '}')
        .collect()
}
