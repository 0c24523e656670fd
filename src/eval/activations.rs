//! The arguments the activation functions of a network receive at the given values: where a
//! convention decides a derivative (ReLU at exactly 0 takes the left derivative, 0, or the
//! slope for leaky ReLU, as PyTorch and TensorFlow do; a report says where it applied), and what
//! makes a randomized variant degenerate (a saturated sigmoid or tanh, a dead ReLU).

use super::network::Values;
use super::real::{Evaluator, Real, for_each_child};
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
    applications(network, derivation, values, |func| {
        matches!(
            func,
            Func::Relu | Func::LeakyRelu | Func::Sigmoid | Func::Tanh
        )
    })
}

/// The applications of the functions `wanted` picks, each once per equation that applies it,
/// in equation order: each body is walked once however much of it is shared, and an evaluator
/// (a slot per pool expression) is made only when something is found.
fn applications(
    network: &Network,
    derivation: &Derivation,
    values: &Values,
    wanted: impl Fn(Func) -> bool,
) -> Vec<Activation> {
    let pool = &derivation.pool;
    let mut evaluator: Option<Evaluator<'_>> = None;
    let bind = |sym: Sym| match sym {
        Sym::Value(id) => values.value(id).cloned(),
        Sym::Grad(_) => None,
    };
    // The last equation that visited each expression.
    let mut visited = vec![usize::MAX; pool.len()];
    let mut found = Vec::new();
    for (index, equation) in network.equations.iter().enumerate() {
        let Some(body) = derivation.body(equation.node) else {
            continue;
        };
        let mut stack = vec![body];
        while let Some(id) = stack.pop() {
            if std::mem::replace(&mut visited[id.index()], index) == index {
                continue;
            }
            if let Node::Apply(func, args) = pool.node(id)
                && wanted(*func)
                && let Ok(argument) = evaluator
                    .get_or_insert_with(|| Evaluator::new(pool, values.prec))
                    .eval(args[0], &bind)
            {
                found.push(Activation {
                    node: equation.node,
                    func: *func,
                    argument,
                });
            }
            for_each_child(pool, id, |child| stack.push(child));
        }
    }
    found
}

/// A warning for every node whose equation applies ReLU or leaky ReLU to exactly 0.
pub fn relu_at_zero(network: &Network, derivation: &Derivation, values: &Values) -> Vec<String> {
    let mut warnings: Vec<String> =
        applications(network, derivation, values, |func| {
            matches!(func, Func::Relu | Func::LeakyRelu)
        })
        .into_iter()
        .filter(|a| a.argument.is_exact_zero())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Source;
    use crate::eval::numeric::{self, Rounding};
    use crate::pipeline;

    /// One warning per node and function at 0, however often its body uses the application,
    /// and none for a ReLU away from 0 or a network without ReLU.
    #[test]
    fn relu_at_zero_warns_once_per_node() {
        let warnings = |spec: &str| {
            let loaded = pipeline::load_source(Source::new("t.bp", spec), None)
                .unwrap_or_else(|_| panic!("the spec loads"));
            let derivation = pipeline::derivation(&loaded).unwrap_or_else(|_| panic!());
            let rounding = Rounding {
                precision: crate::eval::decimal::Precision::Significant(4),
                mode: crate::eval::decimal::RoundingMode::HalfUp,
            };
            let decided = numeric::decide(&loaded.network, &derivation, &[rounding]).unwrap();
            relu_at_zero(&loaded.network, &derivation, &decided.values)
        };
        let found = warnings(
            "input x = 0\nparam w = 1/2\nparam b = 0\ntarget y = 1\nh = w * x + b\n\
             a = relu(h) + relu(h) * w + (relu(h) + 1)^2\nc = leaky_relu(h) + relu(x + 1)\n\
             loss L = 1/2 * (y - a - c)^2\n",
        );
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].starts_with("`a` applies `relu` at exactly 0"));
        assert!(found[1].starts_with("`c` applies `leaky_relu` at exactly 0"));
        let smooth = warnings(
            "input x = 0\nparam w = 1/2\ntarget y = 1\nh = w * x\na = sigmoid(h)\n\
             loss L = 1/2 * (y - a)^2\n",
        );
        assert!(smooth.is_empty());
    }
}
