//! The calculator route: the worked example as a student with a calculator does it, rounding
//! every intermediate to the printed precision and computing each next step from the rounded
//! numbers (the seed slides work this way). Each step is still computed exactly from its rounded
//! inputs and correctly rounded, so the only differences from the true values are the ones the
//! rounding of intermediates causes.

use num_rational::BigRational;

use super::decimal::Decimal;
use super::network::{Failure, Stage, gradient_order};
use super::numeric::{MAX_PREC, Rounding, round, try_round};
use super::real::{EvalError, Evaluator, Real};
use crate::graph::{Network, SymbolId};
use crate::symbolic::backprop::Derivation;
use crate::symbolic::expr::{ExprId, Pool, Sym};

/// Every rounded value of the calculator route, indexed by `SymbolId`.
#[derive(Clone, Debug)]
pub struct Route {
    /// Given values as a student copies them, and forward node values.
    pub forward: Vec<Option<Decimal>>,
    /// ∂L/∂(symbol).
    pub gradients: Vec<Option<Decimal>>,
    /// Updated parameters.
    pub updated: Vec<Option<Decimal>>,
    /// The loss after the update.
    pub loss_after: Option<Decimal>,
}

/// Works the whole example with rounded intermediates.
pub fn route(
    network: &Network,
    derivation: &Derivation,
    rounding: Rounding,
) -> Result<Route, Failure> {
    let n = network.symbols.len();
    let given: Vec<Option<Decimal>> = network
        .symbols
        .iter()
        .map(|symbol| {
            symbol
                .value
                .as_ref()
                .map(|v| round(&Real::exact(v.clone(), 64), rounding))
        })
        .collect();
    let forward = forward_pass(network, derivation, given.clone(), rounding, Stage::Forward)?;
    let mut gradients: Vec<Option<Decimal>> = vec![None; n];
    for id in gradient_order(network) {
        let Some(gradient) = derivation.gradient(id) else {
            continue;
        };
        let value = step(
            &derivation.pool,
            gradient.chain,
            rounding,
            &|sym| match sym {
                Sym::Value(s) => rational(&forward[s.index()]),
                Sym::Grad(s) => rational(&gradients[s.index()]),
            },
        )
        .map_err(|error| Failure {
            error,
            stage: Stage::Backward(id),
        })?;
        gradients[id.index()] = Some(value);
    }
    let (updated, loss_after) = match network
        .rate
        .and_then(|rate| rational(&forward[rate.index()]))
    {
        Some(eta) => {
            let mut updated: Vec<Option<Decimal>> = vec![None; n];
            let mut after = given;
            for id in network.params() {
                let (Some(p), Some(g)) = (
                    rational(&forward[id.index()]),
                    rational(&gradients[id.index()]),
                ) else {
                    continue;
                };
                let new = round(&Real::exact(p - &eta * g, 64), rounding);
                after[id.index()] = Some(new.clone());
                updated[id.index()] = Some(new);
            }
            let after = forward_pass(network, derivation, after, rounding, Stage::After)?;
            (updated, after[network.loss.index()].clone())
        }
        None => (Vec::new(), None),
    };
    Ok(Route {
        forward,
        gradients,
        updated,
        loss_after,
    })
}

fn rational(value: &Option<Decimal>) -> Option<BigRational> {
    value.as_ref().map(Decimal::to_rational)
}

fn forward_pass(
    network: &Network,
    derivation: &Derivation,
    mut values: Vec<Option<Decimal>>,
    rounding: Rounding,
    stage: fn(SymbolId) -> Stage,
) -> Result<Vec<Option<Decimal>>, Failure> {
    for equation in &network.equations {
        let body = derivation
            .body(equation.node)
            .expect("every equation has a body");
        let value = step(&derivation.pool, body, rounding, &|sym| match sym {
            Sym::Value(s) => rational(&values[s.index()]),
            Sym::Grad(_) => None,
        })
        .map_err(|error| Failure {
            error,
            stage: stage(equation.node),
        })?;
        values[equation.node.index()] = Some(value);
    }
    Ok(values)
}

/// One step from rational inputs, correctly rounded (refining the precision until decided).
fn step(
    pool: &Pool,
    expr: ExprId,
    rounding: Rounding,
    bind: &dyn Fn(Sym) -> Option<BigRational>,
) -> Result<Decimal, EvalError> {
    let mut prec = 64;
    loop {
        let mut evaluator = Evaluator::new(pool, prec);
        let result = evaluator.eval(expr, &|sym| bind(sym).map(|q| Real::exact(q, prec)));
        match result {
            Ok(real) => match try_round(&real, rounding) {
                Some(decimal) => return Ok(decimal),
                None if prec >= MAX_PREC => return Ok(round(&real, rounding)),
                None => {}
            },
            Err(EvalError::Undecided(_)) if prec < MAX_PREC => {}
            Err(error) => return Err(error),
        }
        prec *= 2;
    }
}
