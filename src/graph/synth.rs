//! Building `ast` expressions for equations the program writes itself (the `mlp` layers and the
//! named loss forms). Generated nodes point at the statement that asked for them.

use num_rational::BigRational;

use crate::ast::{BinOp, Expr, Ident, Number};
use crate::diag::Span;

/// `name`
pub(super) fn var(name: &str, span: Span) -> Expr {
    Expr::Var(Ident {
        name: name.to_string(),
        span,
    })
}

/// `lhs op rhs`
pub(super) fn binary(op: BinOp, lhs: Expr, rhs: Expr, span: Span) -> Expr {
    Expr::Binary {
        op,
        lhs: Box::new(lhs),
        rhs: Box::new(rhs),
        span,
    }
}

/// `func(args)`
pub(super) fn call(func: &str, args: Vec<Expr>, span: Span) -> Expr {
    Expr::Call {
        func: Box::new(Ident {
            name: func.to_string(),
            span,
        }),
        args,
        span,
    }
}

/// A number literal.
pub(super) fn number(value: BigRational, span: Span) -> Expr {
    Expr::Num(Box::new(Number {
        text: value.to_string(),
        value,
        span,
    }))
}

/// `base ^ exponent`
pub(super) fn pow(base: Expr, exponent: i64, span: Span) -> Expr {
    let value = BigRational::from_integer(exponent.into());
    Expr::Pow {
        base: Box::new(base),
        exponent: Box::new(Number {
            text: value.to_string(),
            value,
            span,
        }),
        span,
    }
}

/// `-operand`
pub(super) fn neg(operand: Expr, span: Span) -> Expr {
    Expr::Neg {
        operand: Box::new(operand),
        span,
    }
}
