//! The arguments the activation functions of a network receive at the given values: where a
//! convention decides a derivative (ReLU at exactly 0 takes the left derivative, 0, or the
//! slope for leaky ReLU, as PyTorch and TensorFlow do; a report says where it applied), and what
//! makes a randomized variant degenerate (a saturated sigmoid or tanh, a dead ReLU).

use super::network::Values;
use super::real::{Evaluator, Real};
use crate::func::Func;
use crate::graph::{Network, SymbolId};
use crate::symbolic::backprop::Derivation;
use crate::symbolic::expr::{Node, Sym};

/// One activation applied in a node's equation, with its argument's value.
pub struct Activation {
    /// The node whose equation applies it.
    pub node: SymbolId,
    /// The function.
    pub func: Func,
    /// The argument's value.
    pub argument: Real,
}

/// Every sigmoid, tanh, ReLU and leaky ReLU application, in equation order.
pub fn activations(network: &Network, derivation: &Derivation, values: &Values) -> Vec<Activation> {
    let mut evaluator = Evaluator::new(&derivation.pool, values.prec);
    let bind = |sym: Sym| match sym {
        Sym::Value(id) => values.value(id).cloned(),
        Sym::Grad(_) => None,
    };
    let mut found = Vec::new();
    for equation in &network.equations {
        let Some(body) = derivation.body(equation.node) else {
            continue;
        };
        let mut stack = vec![body];
        while let Some(id) = stack.pop() {
            if let Node::Apply(
                func @ (Func::Relu | Func::LeakyRelu | Func::Sigmoid | Func::Tanh),
                args,
            ) = derivation.pool.node(id)
                && let Ok(argument) = evaluator.eval(args[0], &bind)
            {
                found.push(Activation {
                    node: equation.node,
                    func: *func,
                    argument,
                });
            }
            stack.extend(derivation.pool.children(id));
        }
    }
    found
}

/// A warning for every node whose equation applies ReLU or leaky ReLU to exactly 0.
pub fn relu_at_zero(network: &Network, derivation: &Derivation, values: &Values) -> Vec<String> {
    let mut warnings: Vec<String> = activations(network, derivation, values)
        .into_iter()
        .filter(|a| matches!(a.func, Func::Relu | Func::LeakyRelu) && a.argument.is_exact_zero())
        .map(|a| {
            let derivative = if a.func == Func::Relu { "0" } else { "the slope" };
            format!(
                "`{}` applies `{}` at exactly 0, where it has no derivative: bpsheet takes {derivative} (the left derivative, as PyTorch and TensorFlow do)",
                network.name(a.node),
                a.func.name()
            )
        })
        .collect();
    warnings.dedup();
    warnings
}
