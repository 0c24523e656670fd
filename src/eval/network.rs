//! The values of one network at one working precision: the forward pass, every gradient by the
//! chain rule (child gradients before their users), the update step and the loss after it.

use super::real::{EvalError, Evaluator, Real, domain_error};
use crate::graph::{Network, SymbolId};
use crate::symbolic::backprop::Derivation;
use crate::symbolic::expr::Sym;

/// Every value of a run, indexed by `SymbolId`.
#[derive(Clone, Debug)]
pub struct Values {
    /// The working precision in bits.
    pub prec: u32,
    /// Declared values and forward node values.
    pub forward: Vec<Option<Real>>,
    /// ∂L/∂(symbol).
    pub gradients: Vec<Option<Real>>,
    /// p − η ∂L/∂p for every parameter (empty when the spec has no rate).
    pub updated: Vec<Option<Real>>,
    /// The loss recomputed with the updated parameters.
    pub loss_after: Option<Real>,
}

/// Which pass an evaluation error happened in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Computing this node's value.
    Forward(SymbolId),
    /// Computing ∂L/∂(this symbol).
    Backward(SymbolId),
    /// Computing the loss after the update, at this node.
    After(SymbolId),
}

/// An evaluation error and where it happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The error.
    pub error: EvalError,
    /// The pass and quantity.
    pub stage: Stage,
}

impl Values {
    /// The value of a declared symbol or node.
    pub fn value(&self, id: SymbolId) -> Option<&Real> {
        self.forward[id.index()].as_ref()
    }

    /// The gradient of a symbol.
    pub fn gradient(&self, id: SymbolId) -> Option<&Real> {
        self.gradients[id.index()].as_ref()
    }

    /// The updated value of a parameter.
    pub fn updated(&self, id: SymbolId) -> Option<&Real> {
        self.updated.get(id.index()).and_then(Option::as_ref)
    }
}

/// The order gradients are computed in: the nodes from the loss back, then the declared
/// quantities, so every child's gradient is known before its users need it.
pub fn gradient_order(network: &Network) -> impl Iterator<Item = SymbolId> + '_ {
    network
        .equations
        .iter()
        .rev()
        .map(|eq| eq.node)
        .chain(network.ids().filter(|&id| !network.symbol(id).is_node()))
}

/// Computes every value at `prec` bits.
pub fn evaluate(network: &Network, derivation: &Derivation, prec: u32) -> Result<Values, Failure> {
    let n = network.symbols.len();
    let declared: Vec<Option<Real>> = network
        .symbols
        .iter()
        .map(|symbol| symbol.value.clone().map(|v| Real::exact(v, prec)))
        .collect();
    let mut evaluator = Evaluator::new(&derivation.pool, prec);
    let forward = forward_pass(
        network,
        derivation,
        &mut evaluator,
        declared.clone(),
        Stage::Forward,
    )?;

    let mut gradients: Vec<Option<Real>> = vec![None; n];
    for id in gradient_order(network) {
        let Some(gradient) = derivation.gradient(id) else {
            continue;
        };
        let value = {
            let bind = |sym: Sym| match sym {
                Sym::Value(s) => forward[s.index()].clone(),
                Sym::Grad(s) => gradients[s.index()].clone(),
            };
            evaluator.eval(gradient.chain, &bind)
        }
        .map_err(|error| Failure {
            error,
            stage: Stage::Backward(id),
        })?;
        gradients[id.index()] = Some(value);
    }

    let (updated, loss_after) = match network.rate.and_then(|rate| forward[rate.index()].clone()) {
        Some(rate) => {
            let mut updated: Vec<Option<Real>> = vec![None; n];
            let mut after = declared;
            for id in network.params() {
                let (Some(value), Some(gradient)) = (&forward[id.index()], &gradients[id.index()])
                else {
                    continue;
                };
                let step = rate.mul(gradient, prec).map_err(|e| Failure {
                    error: domain_error(e, derivation.pool.zero()),
                    stage: Stage::Backward(id),
                })?;
                let new = value.sub(&step, prec);
                after[id.index()] = Some(new.clone());
                updated[id.index()] = Some(new);
            }
            evaluator.reset();
            let after = forward_pass(network, derivation, &mut evaluator, after, Stage::After)?;
            (updated, after[network.loss.index()].clone())
        }
        None => (Vec::new(), None),
    };
    Ok(Values {
        prec,
        forward,
        gradients,
        updated,
        loss_after,
    })
}

/// Evaluates every equation in order on top of the declared values.
fn forward_pass(
    network: &Network,
    derivation: &Derivation,
    evaluator: &mut Evaluator<'_>,
    mut values: Vec<Option<Real>>,
    stage: fn(SymbolId) -> Stage,
) -> Result<Vec<Option<Real>>, Failure> {
    for equation in &network.equations {
        let body = derivation
            .body(equation.node)
            .expect("every equation has a body");
        let value = {
            let bind = |sym: Sym| match sym {
                Sym::Value(s) => values[s.index()].clone(),
                Sym::Grad(_) => None,
            };
            evaluator.eval(body, &bind)
        }
        .map_err(|error| Failure {
            error,
            stage: stage(equation.node),
        })?;
        values[equation.node.index()] = Some(value);
    }
    Ok(values)
}
