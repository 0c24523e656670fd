//! The values of one network at one working precision: the forward pass, every gradient by the
//! chain rule (child gradients before their users), the update step and the loss after it.

use super::real::{EvalError, Evaluator, Real, Uses, domain_error, for_each_child};

use crate::graph::{Equation, Network, SymbolId};
use crate::parallel::{beside, map_balanced, map_chunks};
use crate::symbolic::backprop::Derivation;
use crate::symbolic::expr::{ExprId, Node, Sym};

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
        .chain(network.given())
}

/// Computes every value at `prec` bits.
pub fn evaluate(network: &Network, derivation: &Derivation, prec: u32) -> Result<Values, Failure> {
    let n = network.symbols.len();
    // Two walks of the pool (parents counted, levels) on one core while the other makes the
    // declared values.
    let ((uses, levels), declared) = beside(
        || {
            let roots = network
                .equations
                .iter()
                .filter_map(|eq| derivation.body(eq.node))
                .chain(
                    network
                        .ids()
                        .filter_map(|id| derivation.gradient(id).map(|g| g.chain)),
                );
            let uses = Uses::count(&derivation.pool, roots);
            (uses, levels(network, derivation))
        },
        || -> Vec<Option<Real>> {
            network
                .symbols
                .iter()
                .map(|symbol| symbol.value.clone().map(|v| Real::exact(v, prec)))
                .collect()
        },
    );
    // The forward pass, the node gradients and the pass after the update visit most of the pool.
    let mut evaluator = Evaluator::with_uses(&derivation.pool, prec, Some(&uses), uses.shared());
    let pass = |stage| Pass {
        network,
        derivation,
        levels: &levels,
        uses: &uses,
        stage,
    };
    let forward = pass(Stage::Forward).run(&mut evaluator, declared)?;

    // Node gradients from the loss back (each needs the ones after it); then the declared
    // quantities' gradients and updates, which need only node gradients: on all cores.
    let mut gradients: Vec<Option<Real>> = vec![None; n];
    let (nodes, declared_ids): (Vec<SymbolId>, Vec<SymbolId>) = gradient_order(network)
        .filter(|&id| derivation.gradient(id).is_some())
        .partition(|&id| network.symbol(id).is_node());
    for id in nodes {
        let value = gradient_value(derivation, &mut evaluator, id, &forward, &gradients)?;
        gradients[id.index()] = Some(value);
    }
    let rate = network.rate.and_then(|rate| forward[rate.index()].clone());
    let mut is_param = vec![false; n];
    for id in network.params() {
        is_param[id.index()] = true;
    }
    // An input's gradient sums a term per unit it feeds, a weight's is one term: split by
    // terms (and updates), not by count, keeping gradient order.
    let work: Vec<usize> = declared_ids
        .iter()
        .map(|&id| {
            let terms = derivation.gradient(id).map_or(0, |g| g.terms.len());
            terms + usize::from(rate.is_some() && is_param[id.index()])
        })
        .collect();
    let parts = map_balanced(&declared_ids, &work, DECLARED_PER_THREAD, |chunk| {
        // A declared quantity's chain rule is a handful of nodes: its gradients times locals.
        let mut evaluator =
            Evaluator::with_uses(&derivation.pool, prec, Some(&uses), 4 * chunk.len());
        let mut done = Vec::with_capacity(chunk.len());
        for &id in chunk {
            let gradient = gradient_value(derivation, &mut evaluator, id, &forward, &gradients)?;
            let updated = match (&rate, &forward[id.index()]) {
                (Some(rate), Some(value)) if is_param[id.index()] => {
                    let step = rate.mul(&gradient, prec).map_err(|e| Failure {
                        error: domain_error(e, derivation.pool.zero()),
                        stage: Stage::Backward(id),
                    })?;
                    Some(value.sub(&step, prec))
                }
                _ => None,
            };
            done.push((id, gradient, updated));
        }
        Ok::<_, Failure>(done)
    });
    let mut updated: Vec<Option<Real>> = if rate.is_some() {
        vec![None; n]
    } else {
        Vec::new()
    };
    // The first failure in gradient order, as one thread would have met it.
    for part in parts {
        for (id, gradient, new) in part? {
            gradients[id.index()] = Some(gradient);
            if new.is_some() {
                updated[id.index()] = new;
            }
        }
    }

    let loss_after = match rate {
        Some(_) => {
            // The updated parameters and the other declared values; not a second copy of every
            // declared value made up front, when the parameters' are replaced here.
            let after: Vec<Option<Real>> = network
                .ids()
                .map(|id| match &updated[id.index()] {
                    Some(new) => Some(new.clone()),
                    None if network.symbol(id).is_node() => None,
                    None => forward[id.index()].clone(),
                })
                .collect();
            evaluator.reset();
            let after = pass(Stage::After).run(&mut evaluator, after)?;
            after[network.loss.index()].clone()
        }
        None => None,
    };
    Ok(Values {
        prec,
        forward,
        gradients,
        updated,
        loss_after,
    })
}

/// Fewer declared quantities than this a core are evaluated on one thread.
const DECLARED_PER_THREAD: usize = 512;

/// ∂L/∂(id) from its chain rule, the values and the gradients it uses known.
fn gradient_value(
    derivation: &Derivation,
    evaluator: &mut Evaluator<'_>,
    id: SymbolId,
    forward: &[Option<Real>],
    gradients: &[Option<Real>],
) -> Result<Real, Failure> {
    let chain = derivation
        .gradient(id)
        .expect("only gradients are evaluated")
        .chain;
    let bind = |sym: Sym| match sym {
        Sym::Value(s) => forward[s.index()].clone(),
        Sym::Grad(s) => gradients[s.index()].clone(),
    };
    evaluator.eval(chain, &bind).map_err(|error| Failure {
        error,
        stage: Stage::Backward(id),
    })
}

/// Fewer equations of a level than this a core are evaluated on one thread.
const EQUATIONS_PER_THREAD: usize = 16;

/// One forward pass: the equations by level, and what a failure is reported as.
struct Pass<'a> {
    network: &'a Network,
    derivation: &'a Derivation,
    /// See [`levels`]; the same for every pass.
    levels: &'a [Vec<usize>],
    /// Which values the evaluators of a wide level's chunks memoize.
    uses: &'a Uses,
    stage: fn(SymbolId) -> Stage,
}

impl Pass<'_> {
    /// Level by level (an equation's level is one more than the highest of the nodes it
    /// reads), each wide level on all cores. A failure is reported as one pass in equation
    /// order meets it: the pass is then redone so.
    fn run(
        &self,
        evaluator: &mut Evaluator<'_>,
        mut values: Vec<Option<Real>>,
    ) -> Result<Vec<Option<Real>>, Failure> {
        let network = self.network;
        for level in self.levels {
            let equations: Vec<&Equation> = level.iter().map(|&i| &network.equations[i]).collect();
            let computed = if level.len() < 2 * EQUATIONS_PER_THREAD {
                vec![self.evaluate_all(evaluator, &equations, &values)]
            } else {
                let prec = evaluator.prec();
                map_chunks(&equations, EQUATIONS_PER_THREAD, |chunk| {
                    let mut evaluator =
                        Evaluator::with_uses(&self.derivation.pool, prec, Some(self.uses), 0);
                    self.evaluate_all(&mut evaluator, chunk, &values)
                })
            };
            let computed: Result<Vec<Vec<Real>>, Failure> = computed.into_iter().collect();
            let Ok(computed) = computed else {
                for equation in &network.equations {
                    values[equation.node.index()] = None;
                }
                evaluator.reset();
                return self.in_order(evaluator, values);
            };
            for (equation, value) in equations.iter().zip(computed.into_iter().flatten()) {
                values[equation.node.index()] = Some(value);
            }
        }
        Ok(values)
    }

    /// Every equation in order.
    fn in_order(
        &self,
        evaluator: &mut Evaluator<'_>,
        mut values: Vec<Option<Real>>,
    ) -> Result<Vec<Option<Real>>, Failure> {
        for equation in &self.network.equations {
            let value = self.evaluate_all(evaluator, &[equation], &values)?;
            values[equation.node.index()] = value.into_iter().next();
        }
        Ok(values)
    }

    /// The values of `equations`, none of which reads another.
    fn evaluate_all(
        &self,
        evaluator: &mut Evaluator<'_>,
        equations: &[&Equation],
        values: &[Option<Real>],
    ) -> Result<Vec<Real>, Failure> {
        let bind = |sym: Sym| match sym {
            Sym::Value(s) => values[s.index()].clone(),
            Sym::Grad(_) => None,
        };
        equations
            .iter()
            .map(|equation| {
                let body = self
                    .derivation
                    .body(equation.node)
                    .expect("every equation has a body");
                evaluator.eval(body, &bind).map_err(|error| Failure {
                    error,
                    stage: (self.stage)(equation.node),
                })
            })
            .collect()
    }
}

/// The equations' indices by level, each level in equation order.
fn levels(network: &Network, derivation: &Derivation) -> Vec<Vec<usize>> {
    let pool = &derivation.pool;
    let mut level_of = vec![0usize; network.symbols.len()];
    // The highest level of a node each expression reads, once known: a subexpression shared by
    // several equations is walked once.
    let mut reads: Vec<Option<usize>> = vec![None; pool.len()];
    let mut stack: Vec<(ExprId, bool)> = Vec::new();
    let mut levels: Vec<Vec<usize>> = Vec::new();
    for (i, equation) in network.equations.iter().enumerate() {
        let body = derivation
            .body(equation.node)
            .expect("every equation has a body");
        // Children first (an explicit stack: bodies may be deep).
        stack.push((body, false));
        while let Some((id, children_done)) = stack.pop() {
            if reads[id.index()].is_some() {
                continue;
            }
            if let Node::Sym(Sym::Value(s) | Sym::Grad(s)) = pool.node(id) {
                reads[id.index()] = Some(level_of[s.index()]);
            } else if children_done {
                let mut highest = 0;
                for_each_child(pool, id, |child| {
                    highest = highest.max(reads[child.index()].expect("children come first"));
                });
                reads[id.index()] = Some(highest);
            } else {
                stack.push((id, true));
                for_each_child(pool, id, |child| stack.push((child, false)));
            }
        }
        let level = reads[body.index()].expect("the body was walked");
        level_of[equation.node.index()] = level + 1;
        if levels.len() <= level {
            levels.resize_with(level + 1, Vec::new);
        }
        levels[level].push(i);
    }
    levels
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Source;
    use crate::pipeline;

    /// A failure in a wide level is the one a pass in equation order meets first.
    #[test]
    fn a_failure_in_a_wide_level_is_the_first_in_equation_order() {
        let mut spec = String::from("input x = 1/2\ntarget y = 1\n");
        for i in 0..40 {
            spec += &format!("param w{i} = {}/100\nh{i} = w{i} * x\n", i + 1);
        }
        // `bad` fails first in equation order, but on the second level; `worse`, after it, on
        // the first: level by level alone would meet `worse` first.
        spec += "bad = log(h0 - 1)\nworse = log(x - 2)\n";
        let terms: Vec<String> = (0..40).map(|i| format!("h{i}")).collect();
        spec += &format!(
            "z = {} + bad + worse\nloss L = (y - z)^2\n",
            terms.join(" + ")
        );
        let loaded = pipeline::load_source(Source::new("t.bp".to_string(), spec), None)
            .unwrap_or_else(|_| panic!("the spec loads"));
        let derivation = pipeline::derivation(&loaded).unwrap_or_else(|_| panic!());
        let network = &loaded.network;
        assert!(levels(network, &derivation)[0].len() >= 2 * EQUATIONS_PER_THREAD);
        let failure = evaluate(network, &derivation, 92).unwrap_err();
        let bad = network.lookup("bad").unwrap();
        assert_eq!(failure.stage, Stage::Forward(bad));
        assert!(matches!(failure.error, EvalError::LogOfNonPositive(_)));
    }

    /// An equation's level is one more than the highest level of the symbols its body reads
    /// (as `Pool::symbols` lists them), on networks with shared subexpressions and several
    /// levels.
    #[test]
    fn levels_follow_the_symbols_read() {
        let spec = "input x = 1/2\ninput u = 2\ntarget y = 1\nparam w = 1/3\nh = w * x + u\n\
                    g = sigmoid(h) * x\nk = (w * x + u) * g + h\nm = x * u\nz = k + m * g\n\
                    loss L = (y - z)^2\n";
        let mlp = "mlp 3 -> 4 tanh -> 2 sigmoid\ninputs x = [1, 2, 3]\ntargets y = [0, 1]\n\
                   weights = uniform(-0.5, 0.5, step 0.01)\nloss half_squared_error\nseed 2\n";
        for spec in [spec, mlp] {
            let loaded = pipeline::load_source(Source::new("t.bp".to_string(), spec), None)
                .unwrap_or_else(|_| panic!("the spec loads"));
            let derivation = pipeline::derivation(&loaded).unwrap_or_else(|_| panic!());
            let network = &loaded.network;
            let mut level_of = vec![0usize; network.symbols.len()];
            let mut expected: Vec<Vec<usize>> = Vec::new();
            for (i, equation) in network.equations.iter().enumerate() {
                let body = derivation.body(equation.node).unwrap();
                let level = derivation
                    .pool
                    .symbols(body)
                    .into_iter()
                    .map(|sym| match sym {
                        Sym::Value(s) | Sym::Grad(s) => level_of[s.index()],
                    })
                    .max()
                    .unwrap_or(0);
                level_of[equation.node.index()] = level + 1;
                expected.resize_with(expected.len().max(level + 1), Vec::new);
                expected[level].push(i);
            }
            assert!(expected.len() >= 3);
            assert_eq!(levels(network, &derivation), expected);
        }
    }

    /// Values, gradients and updates evaluated on several threads are those one evaluator
    /// computes in equation and gradient order.
    #[test]
    fn threads_do_not_change_the_values() {
        let inputs: Vec<String> = (0..40)
            .map(|i| format!("{}", (i * 7 % 19) as f64 / 20.0 - 0.45))
            .collect();
        let spec = format!(
            "mlp 40 -> 40 sigmoid -> 1 sigmoid\ninputs x = [{}]\ntargets y = [1]\n\
             weights = uniform(-0.5, 0.5, step 0.01)\nloss half_squared_error\nrate eta = 0.1\n",
            inputs.join(", ")
        );
        let loaded = pipeline::load_source(Source::new("t.bp".to_string(), spec), Some(5))
            .unwrap_or_else(|_| panic!("the spec loads"));
        let derivation = pipeline::derivation(&loaded).unwrap_or_else(|_| panic!());
        let network = &loaded.network;
        let prec = 92;
        let values = evaluate(network, &derivation, prec).unwrap();
        assert!(
            network.params().count() > 2 * DECLARED_PER_THREAD,
            "enough declared quantities for several threads"
        );
        let same =
            |a: &Real, b: &Real| a.as_exact() == b.as_exact() && a.enclosure() == b.enclosure();
        // The forward passes, in equation order on one evaluator (the 40 equations of the
        // hidden layer are one level, written on several threads).
        assert!(levels(network, &derivation)[0].len() >= 2 * EQUATIONS_PER_THREAD);
        let mut evaluator = Evaluator::new(&derivation.pool, prec);
        let declared = |id: SymbolId| {
            let symbol = network.symbol(id);
            symbol.value.clone().map(|v| Real::exact(v, prec))
        };
        let levels = levels(network, &derivation);
        let uses = Uses::count(
            &derivation.pool,
            network
                .equations
                .iter()
                .filter_map(|eq| derivation.body(eq.node)),
        );
        let pass = |stage| Pass {
            network,
            derivation: &derivation,
            levels: &levels,
            uses: &uses,
            stage,
        };
        let forward = pass(Stage::Forward)
            .in_order(&mut evaluator, network.ids().map(declared).collect())
            .unwrap();
        for id in network.ids() {
            match (&forward[id.index()], values.value(id)) {
                (Some(a), Some(b)) => assert!(same(a, b), "{}", network.name(id)),
                (None, None) => {}
                _ => panic!("{} evaluated on one route only", network.name(id)),
            }
        }
        let after: Vec<Option<Real>> = network
            .ids()
            .map(|id| values.updated(id).cloned().or_else(|| declared(id)))
            .collect();
        let mut evaluator = Evaluator::new(&derivation.pool, prec);
        let after = pass(Stage::After).in_order(&mut evaluator, after).unwrap();
        let loss_after = after[network.loss.index()].as_ref().unwrap();
        assert!(same(loss_after, values.loss_after.as_ref().unwrap()));

        let mut evaluator = Evaluator::new(&derivation.pool, prec);
        let mut gradients: Vec<Option<Real>> = vec![None; network.symbols.len()];
        for id in gradient_order(network).filter(|&id| derivation.gradient(id).is_some()) {
            let value =
                gradient_value(&derivation, &mut evaluator, id, &values.forward, &gradients)
                    .unwrap();
            gradients[id.index()] = Some(value);
        }
        let rate = values.value(network.rate.unwrap()).unwrap();
        for id in network.ids() {
            match (&gradients[id.index()], values.gradient(id)) {
                (Some(a), Some(b)) => assert!(same(a, b), "{}", network.name(id)),
                (None, None) => {}
                _ => panic!("{} evaluated on one route only", network.name(id)),
            }
        }
        for id in network.params() {
            let gradient = gradients[id.index()].as_ref().unwrap();
            let step = rate.mul(gradient, prec).unwrap();
            let new = values.value(id).unwrap().sub(&step, prec);
            assert!(
                same(&new, values.updated(id).unwrap()),
                "{}",
                network.name(id)
            );
        }
    }
}
