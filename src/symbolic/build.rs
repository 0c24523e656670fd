//! Lowering the network's equations into the expression pool.
//!
//! The lowering is iterative (an explicit stack), because a spec may hold a sum of 50,000 terms,
//! which the parser gives as a left-nested chain just as deep.

use num_rational::BigRational;
use num_traits::ToPrimitive;
use rustc_hash::FxHashMap;

use super::expr::{ExprId, Node, Pool, RationalId, Sym};
use crate::ast::{BinOp, Expr};
use crate::diag::{DiagResult, Diagnostic, Span};
use crate::func::Func;
use crate::graph::{Body, Network};

/// The largest power an expression may raise anything to (after powers of powers multiply).
pub const MAX_POWER: i32 = 1000;

/// Where operations that can fail at a point stand in the spec: divisors and arguments of `log`.
pub type SpanTable = FxHashMap<ExprId, Span>;

/// Lowers one equation body. `spans` records where divisors and `log` arguments stand.
pub fn lower_body(
    pool: &mut Pool,
    network: &Network,
    body: &Body,
    spans: &mut SpanTable,
) -> DiagResult<ExprId> {
    match body {
        Body::Expr(expr) => lower(pool, network, expr, spans),
        Body::Softmax { index, args } => {
            let args = args
                .iter()
                .map(|arg| lower(pool, network, arg, spans))
                .collect::<DiagResult<Vec<_>>>()?;
            Ok(pool.apply(Func::Softmax(*index), &args))
        }
    }
}

enum Frame<'a> {
    Visit(&'a Expr),
    Build(&'a Expr),
    /// A chain `t1 ± t2 ± ...` whose terms were lowered: the sign of each, in order.
    Sum(Vec<bool>),
}

/// Lowers one checked expression.
pub fn lower(
    pool: &mut Pool,
    network: &Network,
    expr: &Expr,
    spans: &mut SpanTable,
) -> DiagResult<ExprId> {
    let mut stack = vec![Frame::Visit(expr)];
    let mut values: Vec<ExprId> = Vec::new();
    while let Some(frame) = stack.pop() {
        match frame {
            Frame::Visit(expr) => match expr {
                Expr::Num(number) => values.push(pool.constant(number.value.clone())),
                Expr::Var(ident) => {
                    let Some(id) = network.lookup(&ident.name) else {
                        crate::bail!(ident.span, "undefined name `{}`", ident.name);
                    };
                    values.push(pool.sym(Sym::Value(id)));
                }
                Expr::Neg { operand, .. } => {
                    stack.push(Frame::Build(expr));
                    stack.push(Frame::Visit(operand));
                }
                Expr::Binary {
                    op: BinOp::Add | BinOp::Sub,
                    ..
                } => {
                    // A whole chain of + and - becomes one sum: adding term by term would copy
                    // the growing sum n times, quadratic in a layer's fan-in.
                    let terms = sum_terms(expr);
                    stack.push(Frame::Sum(
                        terms.iter().map(|&(negative, _)| negative).collect(),
                    ));
                    stack.extend(terms.iter().rev().map(|&(_, term)| Frame::Visit(term)));
                }
                Expr::Binary { lhs, rhs, .. } => {
                    stack.push(Frame::Build(expr));
                    stack.push(Frame::Visit(rhs));
                    stack.push(Frame::Visit(lhs));
                }
                Expr::Pow { base, .. } => {
                    stack.push(Frame::Build(expr));
                    stack.push(Frame::Visit(base));
                }
                Expr::Call { args, .. } => {
                    stack.push(Frame::Build(expr));
                    stack.extend(args.iter().rev().map(Frame::Visit));
                }
            },
            Frame::Build(expr) => {
                let built = build_one(pool, expr, &mut values, spans)?;
                values.push(built);
            }
            Frame::Sum(signs) => {
                let terms = values.split_off(values.len() - signs.len());
                let sum = pool.linear(
                    RationalId::ZERO,
                    signs.iter().zip(terms).map(|(&negative, term)| {
                        let k = if negative {
                            RationalId::MINUS_ONE
                        } else {
                            RationalId::ONE
                        };
                        (k, term)
                    }),
                );
                values.push(sum);
            }
        }
    }
    Ok(values.pop().expect("an expression lowers to one value"))
}

/// The terms of a chain of `+` and `-` (left-nested, as parsed) in source order, each with
/// whether it is subtracted. Iterative: a chain can be 50,000 terms deep.
fn sum_terms(expr: &Expr) -> Vec<(bool, &Expr)> {
    let mut terms = Vec::new();
    let mut current = expr;
    loop {
        match current {
            Expr::Binary {
                op: op @ (BinOp::Add | BinOp::Sub),
                lhs,
                rhs,
                ..
            } => {
                terms.push((*op == BinOp::Sub, rhs.as_ref()));
                current = lhs;
            }
            _ => {
                terms.push((false, current));
                break;
            }
        }
    }
    terms.reverse();
    terms
}

fn build_one(
    pool: &mut Pool,
    expr: &Expr,
    values: &mut Vec<ExprId>,
    spans: &mut SpanTable,
) -> DiagResult<ExprId> {
    let mut pop = || values.pop().expect("operands were lowered first");
    Ok(match expr {
        Expr::Neg { .. } => {
            let operand = pop();
            pool.neg(operand)
        }
        Expr::Binary { op, rhs, .. } => {
            let right = pop();
            let left = pop();
            match op {
                BinOp::Add => pool.add2(left, right),
                BinOp::Sub => pool.sub(left, right),
                BinOp::Mul => pool.mul2(left, right),
                BinOp::Div => {
                    if pool.is_zero(right) {
                        return Err(vec![
                            Diagnostic::error(rhs.span(), "division by zero")
                                .with_label("this is 0 whatever the values")
                                .with_hint("a network's equations must be defined at every point"),
                        ]);
                    }
                    spans.entry(right).or_insert(rhs.span());
                    pool.div(left, right)
                }
            }
        }
        Expr::Pow { exponent, span, .. } => {
            let base = pop();
            let n = integer_exponent(&exponent.value).ok_or_else(|| {
                vec![Diagnostic::error(exponent.span, format!("the exponent must be a whole number from -{MAX_POWER} to {MAX_POWER}, not {}", exponent.text))]
            })?;
            if n < 0 && pool.is_zero(base) {
                return Err(vec![Diagnostic::error(
                    *span,
                    "division by zero: 0 raised to a negative power",
                )]);
            }
            if n < 0 {
                spans.entry(base).or_insert(*span);
            }
            let power = pool.pow(base, n);
            if let Node::Mul(_, factors) = pool.node(power)
                && factors.iter().any(|&(_, e)| e.abs() > MAX_POWER)
            {
                return Err(vec![Diagnostic::error(
                    *span,
                    format!("powers above {MAX_POWER} are not supported"),
                )]);
            }
            power
        }
        Expr::Call { func, args, span } => {
            let f = Func::by_name(&func.name).expect("functions are checked by `graph`");
            let mut lowered: Vec<ExprId> = (0..args.len()).map(|_| pop()).collect();
            lowered.reverse();
            if f == Func::Log {
                spans.entry(lowered[0]).or_insert(args[0].span());
            }
            if f == Func::LeakyRelu && lowered.len() == 2 && pool.as_const(lowered[1]).is_none() {
                return Err(vec![Diagnostic::error(
                    *span,
                    "the slope of `leaky_relu` must be a number",
                )]);
            }
            pool.apply(f, &lowered)
        }
        Expr::Num(_) | Expr::Var(_) => unreachable!("leaves are lowered when visited"),
    })
}

fn integer_exponent(value: &BigRational) -> Option<i32> {
    if !value.is_integer() {
        return None;
    }
    value.to_integer().to_i32().filter(|n| n.abs() <= MAX_POWER)
}
