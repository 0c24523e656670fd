//! The named loss forms, written out as equations over the outputs o_i and targets y_i (paired
//! in order; n is their number):
//!
//! | form | loss |
//! |---|---|
//! | `half_squared_error` | 1/2 · Σ (y_i − o_i)^2 |
//! | `squared_error` | Σ (y_i − o_i)^2 |
//! | `mse` | 1/n · Σ (y_i − o_i)^2 |
//! | `binary_cross_entropy` | −1/n · Σ [y_i log o_i + (1 − y_i) log(1 − o_i)] |
//! | `cross_entropy` | −Σ y_i log o_i, the outputs being a `softmax` group |

use num_rational::BigRational;

use super::collect::Collected;
use super::synth::{binary, call, neg, number, pow, var};
use super::{Body, SymbolId};
use crate::ast::{BinOp, Expr, Ident};
use crate::diag::{DiagResult, Diagnostic, Span};

/// The names of the loss forms.
pub const FORMS: &[&str] = &[
    "half_squared_error",
    "squared_error",
    "mse",
    "binary_cross_entropy",
    "cross_entropy",
];

/// The equation of a named loss form.
pub(super) fn named(
    collected: &Collected,
    form: &Ident,
    outputs: &[SymbolId],
    targets: &[SymbolId],
    span: Span,
) -> DiagResult<Expr> {
    if !FORMS.contains(&form.name.as_str()) {
        let mut diagnostic = Diagnostic::error(form.span, format!("unknown loss `{}`", form.name))
            .with_hint(format!(
                "the loss forms are {}, or write `loss L = ...`",
                FORMS.join(", ")
            ));
        if let Some(close) = crate::diag::did_you_mean(&form.name, FORMS.iter().copied()) {
            diagnostic = diagnostic.with_hint(format!("did you mean `{close}`?"));
        }
        return Err(vec![diagnostic]);
    }
    if outputs.is_empty() || outputs.len() != targets.len() {
        return Err(vec![
            Diagnostic::error(
                span,
                format!(
                    "`{}` pairs outputs with targets, but the network has {} output(s) and {} target(s)",
                    form.name,
                    outputs.len(),
                    targets.len()
                ),
            )
            .with_hint("declare one target per output, e.g. `targets y = [0, 1]`"),
        ]);
    }
    let name = |id: SymbolId| collected.symbols[id.index()].name.as_str();
    let pairs: Vec<(Expr, Expr)> = targets
        .iter()
        .zip(outputs)
        .map(|(&y, &o)| (var(name(y), span), var(name(o), span)))
        .collect();
    let n = BigRational::from_integer(pairs.len().into());
    let one = || number(BigRational::from_integer(1.into()), span);
    let squared_errors = || {
        sum(
            pairs
                .iter()
                .map(|(y, o)| pow(binary(BinOp::Sub, y.clone(), o.clone(), span), 2, span)),
            span,
        )
    };
    let scaled =
        |factor: BigRational, expr: Expr| binary(BinOp::Mul, number(factor, span), expr, span);
    Ok(match form.name.as_str() {
        "half_squared_error" => scaled(BigRational::new(1.into(), 2.into()), squared_errors()),
        "squared_error" => squared_errors(),
        "mse" => scaled(n.recip(), squared_errors()),
        "binary_cross_entropy" => {
            let terms = pairs.iter().map(|(y, o)| {
                let hit = binary(
                    BinOp::Mul,
                    y.clone(),
                    call("log", vec![o.clone()], span),
                    span,
                );
                let miss = binary(
                    BinOp::Mul,
                    binary(BinOp::Sub, one(), y.clone(), span),
                    call(
                        "log",
                        vec![binary(BinOp::Sub, one(), o.clone(), span)],
                        span,
                    ),
                    span,
                );
                binary(BinOp::Add, hit, miss, span)
            });
            neg(scaled(n.recip(), sum(terms, span)), span)
        }
        _ => {
            let all_softmax = outputs.iter().all(|&o| {
                collected
                    .equations
                    .iter()
                    .any(|e| e.node == o && matches!(e.body, Body::Softmax { .. }))
            });
            if !all_softmax {
                return Err(vec![
                    Diagnostic::error(form.span, "`cross_entropy` needs outputs that are a `softmax` group")
                        .with_hint("make the last layer `softmax`, or use `binary_cross_entropy` for sigmoid outputs"),
                ]);
            }
            let terms = pairs.iter().map(|(y, o)| {
                binary(
                    BinOp::Mul,
                    y.clone(),
                    call("log", vec![o.clone()], span),
                    span,
                )
            });
            neg(sum(terms, span), span)
        }
    })
}

fn sum(terms: impl Iterator<Item = Expr>, span: Span) -> Expr {
    terms
        .reduce(|total, term| binary(BinOp::Add, total, term, span))
        .expect("a loss has at least one output")
}
