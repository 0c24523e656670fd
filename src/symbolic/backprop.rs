//! Reverse-mode chain rule, symbolically: for every node and parameter, ∂L/∂(it) as the sum
//! over the equations that use it of ∂L/∂(child) · ∂child/∂(it), in three forms:
//!
//! - `chain`: Σ_c ∂L/∂c · local(c), locals written in node names (∂a11/∂h11 = a11(1 − a11));
//! - `factored`: terms with the same local grouped, (∂L/∂h21 + ∂L/∂h22) w3, as the slides do;
//! - `expanded` (made on request, see `Derivation::expanded`): every ∂L/∂c substituted by its
//!   own expanded form, so the result is in forward values and parameters only; a gradient whose
//!   expansion is larger than `INLINE_LIMIT` is kept as a named shared subexpression instead of
//!   being copied, so the total size stays linear in the number of edges.

use rustc_hash::FxHashMap;

use super::build::{SpanTable, lower_body};
use super::diff::gradient;
use super::expr::{ExprId, Node, Pool, Sym};
use crate::ast::DeclKind;
use crate::diag::DiagResult;
use crate::graph::{Network, SymbolId, SymbolKind};

/// A gradient's expansion is inlined where it is used while its tree has at most this many nodes.
pub const INLINE_LIMIT: u64 = 40;

/// One term of a chain rule: the child equation and the local derivative of it.
#[derive(Clone, Debug)]
pub struct ChainTerm {
    /// The node whose equation uses the quantity.
    pub child: SymbolId,
    /// ∂child/∂quantity as differentiated: σ(h11)(1 − σ(h11)).
    pub local: ExprId,
    /// The same in node names where a subexpression is a node: a11(1 − a11).
    pub local_nodes: ExprId,
}

/// ∂L/∂(quantity) in its symbolic forms.
#[derive(Clone, Debug)]
pub struct Gradient {
    /// The chain-rule terms, one per equation using the quantity (empty for the loss).
    pub terms: Vec<ChainTerm>,
    /// Σ ∂L/∂c · local_nodes.
    pub chain: ExprId,
    /// Σ ∂L/∂c · local, with the locals as differentiated.
    pub chain_raw: ExprId,
    /// Terms with equal locals grouped.
    pub factored: ExprId,
}

/// Every symbolic fact about one network: bodies, locals, gradients.
#[derive(Clone)]
pub struct Derivation {
    /// The pool holding every expression below.
    pub pool: Pool,
    /// The body of each node's equation (indexed by `SymbolId`), `None` for declared symbols.
    pub bodies: Vec<Option<ExprId>>,
    /// ∂L/∂(symbol) for every node, parameter, input and constant that reaches the loss.
    pub gradients: Vec<Option<Gradient>>,
    /// Where divisors and `log` arguments stand in the spec.
    pub spans: SpanTable,
    /// The expanded forms made so far.
    expansions: Expansions,
}

impl Derivation {
    /// The gradient of a symbol, if it has one.
    pub fn gradient(&self, id: SymbolId) -> Option<&Gradient> {
        self.gradients[id.index()].as_ref()
    }

    /// The body of a node.
    pub fn body(&self, id: SymbolId) -> Option<ExprId> {
        self.bodies[id.index()]
    }

    /// ∂L/∂id in forward values and parameters only (up to named shared gradients, see the
    /// module doc), if it has a gradient. Made on the first request and kept: only a worksheet's
    /// check of its answers reads these forms, so a derivation does not make one per edge for
    /// nothing (the report prints its expanded forms from `chain`).
    pub fn expanded(&mut self, network: &Network, id: SymbolId) -> Option<ExprId> {
        self.gradient(id)?;
        let Expansions {
            forms,
            inlined,
            sizes,
            memo,
        } = &mut self.expansions;
        if let Some(form) = forms[id.index()] {
            return Some(form);
        }
        // The gradients it inlines: the nodes its terms reach, children first (an equation's
        // users come after it), each made once.
        let mut needed = vec![false; forms.len()];
        let mut stack = vec![id];
        while let Some(next) = stack.pop() {
            if needed[next.index()] || forms[next.index()].is_some() {
                continue;
            }
            needed[next.index()] = true;
            let gradient = self.gradients[next.index()]
                .as_ref()
                .expect("terms name children with gradients");
            stack.extend(gradient.terms.iter().map(|term| term.child));
        }
        let nodes = network.equations.iter().rev().map(|eq| eq.node);
        for next in nodes.chain(std::iter::once(id)) {
            if !needed[next.index()] || forms[next.index()].is_some() {
                continue;
            }
            let chain = self.gradients[next.index()]
                .as_ref()
                .expect("needed symbols have gradients")
                .chain;
            let form = self.pool.substitute(
                chain,
                &mut |sym| match sym {
                    Sym::Grad(child) => inlined[child.index()],
                    Sym::Value(_) => None,
                },
                memo,
            );
            forms[next.index()] = Some(form);
            // Only a node's expansion can be inlined into another gradient.
            if self.bodies[next.index()].is_some()
                && self.pool.tree_size(form, sizes) <= INLINE_LIMIT
            {
                inlined[next.index()] = Some(form);
            }
        }
        forms[id.index()]
    }
}

/// The expanded forms made so far, and what making them shares.
#[derive(Clone)]
struct Expansions {
    /// Each gradient's expanded form, once made (indexed by `SymbolId`).
    forms: Vec<Option<ExprId>>,
    /// The forms small enough to be inlined where their gradient is used.
    inlined: Vec<Option<ExprId>>,
    /// Tree sizes of expressions, for deciding what to inline.
    sizes: FxHashMap<ExprId, u64>,
    /// The substitution's results: it maps each ∂L/∂c to the same expression in every
    /// gradient (children come first and never change), so one memo serves all of them.
    memo: FxHashMap<ExprId, ExprId>,
}

/// Lowers the equations and derives every gradient.
pub fn derive(network: &Network) -> DiagResult<Derivation> {
    // A derivation stores about 4 expressions per symbol (mlp networks of any width, the
    // slides), and later stages add to the pool (a report's closed forms, a worksheet's expanded
    // forms): room for 8 up front spares it from copying itself as it grows. Room not used is
    // never touched.
    let mut pool = Pool::with_capacity(8 * network.symbols.len());
    let mut spans = SpanTable::default();
    let n_symbols = network.symbols.len();
    let mut bodies: Vec<Option<ExprId>> = vec![None; n_symbols];
    for equation in &network.equations {
        bodies[equation.node.index()] =
            Some(lower_body(&mut pool, network, &equation.body, &mut spans)?);
    }

    let mut names = NodeNames::new(&mut pool, network, &bodies);
    // Every edge, in equation order.
    let mut edges: Vec<(SymbolId, ChainTerm)> = Vec::new();
    for equation in &network.equations {
        let body = bodies[equation.node.index()].expect("every equation was lowered");
        for (sym, local) in gradient(&mut pool, body) {
            let Sym::Value(used) = sym else { continue };
            let local_nodes = names.rename(&mut pool, local);
            let term = ChainTerm {
                child: equation.node,
                local,
                local_nodes,
            };
            edges.push((used, term));
        }
    }
    // users[s]: the equations using s, with their local derivative, in a list of its final
    // size: most symbols have one or two users, and growing a list push by push costs more.
    let mut n_users = vec![0; n_symbols];
    for (used, _) in &edges {
        n_users[used.index()] += 1;
    }
    let mut users: Vec<Vec<ChainTerm>> = n_users.into_iter().map(Vec::with_capacity).collect();
    for (used, term) in edges {
        users[used.index()].push(term);
    }

    let mut gradients: Vec<Option<Gradient>> = vec![None; n_symbols];
    let mut scratch = Scratch {
        upstream: vec![None; n_symbols],
        group_of: FxHashMap::default(),
        products: Vec::new(),
    };
    let loss = network.loss;
    let one = pool.one();
    // ∂L/∂L = 1 is folded away, so the loss's own terms read `y_pred - y`, not `1 (y_pred - y)`.
    scratch.upstream[loss.index()] = Some(one);
    gradients[loss.index()] = Some(Gradient {
        terms: Vec::new(),
        chain: one,
        chain_raw: one,
        factored: one,
    });
    // Reverse topological order: every child's gradient exists before its users need it.
    let declared = network.ids().filter(|&id| wants_gradient(network, id));
    let order: Vec<SymbolId> = network
        .equations
        .iter()
        .rev()
        .map(|eq| eq.node)
        .filter(|&node| node != loss)
        .chain(declared)
        .collect();
    for id in order {
        let terms = std::mem::take(&mut users[id.index()]);
        let terms: Vec<ChainTerm> = terms
            .into_iter()
            .filter(|term| gradients[term.child.index()].is_some())
            .collect();
        if terms.is_empty() {
            continue;
        }
        gradients[id.index()] = Some(gradient_forms(&mut pool, terms, &mut scratch));
    }
    Ok(Derivation {
        pool,
        bodies,
        gradients,
        spans,
        expansions: Expansions {
            forms: vec![None; n_symbols],
            inlined: vec![None; n_symbols],
            sizes: FxHashMap::default(),
            memo: FxHashMap::default(),
        },
    })
}

/// Subexpressions equal to a node's body written as that node (σ(h11) is a11), except bodies
/// that are a bare symbol or number, which would rename every use of that symbol.
struct NodeNames {
    node_of_body: FxHashMap<ExprId, ExprId>,
    memo: FxHashMap<ExprId, ExprId>,
}

impl NodeNames {
    fn new(pool: &mut Pool, network: &Network, bodies: &[Option<ExprId>]) -> NodeNames {
        let mut node_of_body = FxHashMap::default();
        for equation in network.equations.iter().rev() {
            let body = bodies[equation.node.index()].expect("every equation was lowered");
            let node = pool.sym(Sym::Value(equation.node));
            if matches!(
                pool.node(body),
                Node::Add(..) | Node::Mul(..) | Node::Apply(..)
            ) {
                node_of_body.insert(body, node);
            }
        }
        NodeNames {
            node_of_body,
            memo: FxHashMap::default(),
        }
    }

    /// `id` with its subexpressions that are a node's body renamed to the node.
    fn rename(&mut self, pool: &mut Pool, id: ExprId) -> ExprId {
        // A symbol or number is no body that is renamed (those are sums, products and calls):
        // most locals are one (a weight's is the input it scales) and need no walk.
        if matches!(pool.node(id), Node::Sym(_) | Node::Const(_)) {
            return id;
        }
        let node_of_body = &self.node_of_body;
        pool.rewrite(
            id,
            &mut |_, e| node_of_body.get(&e).copied(),
            &mut self.memo,
        )
    }
}

/// Declared quantities that get a gradient: parameters, inputs and constants.
fn wants_gradient(network: &Network, id: SymbolId) -> bool {
    matches!(
        network.symbol(id).kind,
        SymbolKind::Declared(DeclKind::Param | DeclKind::Input | DeclKind::Const)
    )
}

/// What the gradients' forms reuse from one gradient to the next.
struct Scratch {
    /// ∂L/∂c as an expression, for each child c used so far (indexed by `SymbolId`).
    upstream: Vec<Option<ExprId>>,
    /// The group of each local while one gradient's terms are grouped (cleared for each).
    group_of: FxHashMap<ExprId, usize>,
    /// The products of one chain rule, summed (cleared for each).
    products: Vec<ExprId>,
}

fn gradient_forms(pool: &mut Pool, terms: Vec<ChainTerm>, scratch: &mut Scratch) -> Gradient {
    let Scratch {
        upstream,
        group_of,
        products,
    } = scratch;
    // Stored where a child is first used, as interning it there did, so ids stay in that order.
    let mut upstream = |pool: &mut Pool, child: SymbolId| {
        *upstream[child.index()].get_or_insert_with(|| pool.sym(Sym::Grad(child)))
    };
    let mut chain_of = |pool: &mut Pool, pick: fn(&ChainTerm) -> ExprId| {
        products.clear();
        for term in &terms {
            let grad = upstream(pool, term.child);
            products.push(pool.mul2(grad, pick(term)));
        }
        pool.add(products)
    };
    let chain = chain_of(pool, |t| t.local_nodes);
    // Mostly the locals have no subexpression that is a node (a weight's local is the input it
    // scales), and then the raw chain is the same expression.
    let chain_raw = if terms.iter().all(|t| t.local == t.local_nodes) {
        chain
    } else {
        chain_of(pool, |t| t.local)
    };

    // Group the children by their local derivative, keeping first-appearance order; a map
    // finds the group, so a quantity used by n equations costs O(n), not O(n²).
    group_of.clear();
    for term in &terms {
        let next = group_of.len();
        group_of.entry(term.local_nodes).or_insert(next);
    }
    // With no two children sharing a local, grouping changes nothing.
    let factored = if group_of.len() == terms.len() {
        chain
    } else {
        let mut groups: Vec<(ExprId, Vec<SymbolId>)> = vec![(chain, Vec::new()); group_of.len()];
        for term in &terms {
            let (local, children) = &mut groups[group_of[&term.local_nodes]];
            *local = term.local_nodes;
            children.push(term.child);
        }
        let grouped: Vec<ExprId> = groups
            .iter()
            .map(|(local, children)| {
                let grads: Vec<ExprId> = children.iter().map(|&c| upstream(pool, c)).collect();
                let sum = pool.add(&grads);
                pool.mul2(sum, *local)
            })
            .collect();
        pool.add(&grouped)
    };

    Gradient {
        terms,
        chain,
        chain_raw,
        factored,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Source;
    use crate::pipeline;

    fn loaded(spec: &str) -> pipeline::Loaded {
        pipeline::load_source(Source::new("t.bp".to_string(), spec.to_string()), None)
            .unwrap_or_else(|_| panic!("the spec loads"))
    }

    /// Every expanded form, asked for in `order`, is its chain with exactly the short forms of
    /// its children substituted: made on request, each form found its children's forms made.
    /// Returns how many children were too long to inline.
    fn check_expansions(spec: &str, order: impl Fn(&Network) -> Vec<SymbolId>) -> usize {
        let loaded = loaded(spec);
        let network = &loaded.network;
        let mut derivation = derive(network).unwrap_or_else(|_| panic!("the spec derives"));
        let asked = order(network);
        let forms: Vec<Option<ExprId>> = asked
            .iter()
            .map(|&id| derivation.expanded(network, id))
            .collect();
        let mut sizes = FxHashMap::default();
        let mut named = 0;
        for (&id, form) in asked.iter().zip(forms) {
            let Some(chain) = derivation.gradient(id).map(|g| g.chain) else {
                assert_eq!(form, None);
                continue;
            };
            let mut short = FxHashMap::default();
            let children: Vec<SymbolId> = derivation
                .gradient(id)
                .expect("has a gradient")
                .terms
                .iter()
                .map(|term| term.child)
                .collect();
            for child in children {
                let child_form = derivation.expanded(network, child).expect("a child's form");
                if derivation.pool.tree_size(child_form, &mut sizes) <= INLINE_LIMIT {
                    short.insert(child, child_form);
                } else {
                    named += 1;
                }
            }
            let expected = derivation.pool.substitute(
                chain,
                &mut |sym| match sym {
                    Sym::Grad(child) => short.get(&child).copied(),
                    Sym::Value(_) => None,
                },
                &mut FxHashMap::default(),
            );
            assert_eq!(form, Some(expected), "{}", network.name(id));
        }
        named
    }

    #[test]
    fn renaming_to_nodes_agrees_with_the_general_walk() {
        for spec in [MLP, include_str!("../../worksheets/slides.bp")] {
            let loaded = loaded(spec);
            let network = &loaded.network;
            let mut derivation = derive(network).unwrap_or_else(|_| panic!("the spec derives"));
            let pool = &mut derivation.pool;
            let mut names = NodeNames::new(pool, network, &derivation.bodies);
            let mut every = Vec::new();
            let roots = derivation.bodies.iter().flatten().copied();
            let chains = derivation.gradients.iter().flatten().map(|g| g.chain_raw);
            for root in roots.chain(chains) {
                pool.walk(root, |id, _| every.push(id));
            }
            let stored = pool.len();
            for id in every {
                let general = pool.rewrite(
                    id,
                    &mut |_, e| names.node_of_body.get(&e).copied(),
                    &mut FxHashMap::default(),
                );
                assert_eq!(names.rename(pool, id), general);
            }
            assert_eq!(
                pool.len(),
                stored,
                "the derivation stored every renamed form"
            );
        }
    }

    const MLP: &str = "mlp 2 -> 4 sigmoid -> 4 sigmoid -> 1 sigmoid\ninputs x = [0.5, -0.25]\n\
                       targets y = [1]\nweights = uniform(-0.5, 0.5, step 0.01)\n\
                       loss half_squared_error\nrate eta = 0.1\nseed 1\n";

    #[test]
    fn expanded_forms_asked_in_any_order_agree_with_their_definition() {
        // Declaration order asks for the inputs first, and each of their forms reaches every
        // node; the reverse asks for nodes near the loss first.
        for spec in [MLP, include_str!("../../worksheets/slides.bp")] {
            let named = check_expansions(spec, |network| network.ids().collect());
            let reversed = check_expansions(spec, |network| {
                let mut ids: Vec<SymbolId> = network.ids().collect();
                ids.reverse();
                ids
            });
            assert_eq!(named, reversed);
        }
        assert!(
            check_expansions(MLP, |network| network.ids().collect()) > 0,
            "the deeper layers' forms are named, not inlined"
        );
    }
}
