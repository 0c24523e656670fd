//! Points where a function is not differentiable and a convention decides the derivative:
//! ReLU (and leaky ReLU) at exactly 0 take the derivative of the left side, 0 (or the slope), as
//! PyTorch and TensorFlow do. A report states it wherever it happens.

use super::network::Values;
use super::real::Evaluator;
use crate::func::Func;
use crate::graph::Network;
use crate::symbolic::backprop::Derivation;
use crate::symbolic::expr::{Node, Sym};

/// A warning for every node whose equation applies ReLU or leaky ReLU to exactly 0.
pub fn relu_at_zero(network: &Network, derivation: &Derivation, values: &Values) -> Vec<String> {
    let mut evaluator = Evaluator::new(&derivation.pool, values.prec);
    let bind = |sym: Sym| match sym {
        Sym::Value(id) => values.value(id).cloned(),
        Sym::Grad(_) => None,
    };
    let mut warnings = Vec::new();
    for equation in &network.equations {
        let Some(body) = derivation.body(equation.node) else {
            continue;
        };
        let mut stack = vec![body];
        let mut at_zero = None;
        while let Some(id) = stack.pop() {
            if let Node::Apply(func @ (Func::Relu | Func::LeakyRelu), args) =
                derivation.pool.node(id)
                && evaluator
                    .eval(args[0], &bind)
                    .is_ok_and(|v| v.is_exact_zero())
            {
                at_zero = Some(*func);
            }
            stack.extend(derivation.pool.children(id));
        }
        if let Some(func) = at_zero {
            let derivative = if func == Func::Relu { "0" } else { "the slope" };
            warnings.push(format!(
                "`{}` applies `{}` at exactly 0, where it has no derivative: bpsheet takes {derivative} (the left derivative, as PyTorch and TensorFlow do)",
                network.name(equation.node),
                func.name()
            ));
        }
    }
    warnings
}
