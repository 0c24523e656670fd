//! Reverse-mode chain rule, symbolically: for every node and parameter, ∂L/∂(it) as the sum
//! over the equations that use it of ∂L/∂(child) · ∂child/∂(it), in three forms:
//!
//! - `chain`: Σ_c ∂L/∂c · local(c), locals written in node names (∂a11/∂h11 = a11(1 − a11));
//! - `factored`: terms with the same local grouped, (∂L/∂h21 + ∂L/∂h22) w3, as the slides do;
//! - `expanded`: every ∂L/∂c substituted by its own expanded form, so the result is in forward
//!   values and parameters only; a gradient whose expansion is larger than `INLINE_LIMIT` is kept
//!   as a named shared subexpression instead of being copied (its definition is its own expanded
//!   form), so the total printed size stays linear in the number of edges.

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
    /// In forward values and parameters only (up to named shared gradients, see module doc).
    pub expanded: ExprId,
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
    /// Gradients whose expansion is too large to inline, in the order they were named.
    pub named: Vec<SymbolId>,
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
}

/// Lowers the equations and derives every gradient.
pub fn derive(network: &Network) -> DiagResult<Derivation> {
    // A derivation stores about 7 expressions per symbol (mlp networks of any width, the
    // slides): room for 8 up front spares the pool from copying itself as it grows. Room not
    // used is never touched.
    let mut pool = Pool::with_capacity(8 * network.symbols.len());
    let mut spans = SpanTable::default();
    let n_symbols = network.symbols.len();
    let mut bodies: Vec<Option<ExprId>> = vec![None; n_symbols];
    for equation in &network.equations {
        bodies[equation.node.index()] =
            Some(lower_body(&mut pool, network, &equation.body, &mut spans)?);
    }

    // Subexpressions equal to a node's body are written as that node (σ(h11) is a11), except
    // bodies that are a bare symbol or number, which would rename every use of that symbol.
    let mut node_of_body: FxHashMap<ExprId, ExprId> = FxHashMap::default();
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

    // users[s]: the equations using s, with their local derivative.
    let mut users: Vec<Vec<ChainTerm>> = vec![Vec::new(); n_symbols];
    let mut rename_memo = FxHashMap::default();
    for equation in &network.equations {
        let body = bodies[equation.node.index()].expect("every equation was lowered");
        for (sym, local) in gradient(&mut pool, body) {
            let Sym::Value(used) = sym else { continue };
            let local_nodes = pool.rewrite(
                local,
                &mut |_, e| node_of_body.get(&e).copied(),
                &mut rename_memo,
            );
            users[used.index()].push(ChainTerm {
                child: equation.node,
                local,
                local_nodes,
            });
        }
    }

    let mut gradients: Vec<Option<Gradient>> = vec![None; n_symbols];
    // The substitution visits about two expressions per edge (the product and the quantity
    // it scales): room for them up front spares the memo from rehashing as it grows.
    let n_edges: usize = users.iter().map(Vec::len).sum();
    let mut expansions = Expansions {
        upstream: vec![None; n_symbols],
        memo: FxHashMap::with_capacity_and_hasher(2 * n_edges, Default::default()),
        ..Expansions::default()
    };
    let loss = network.loss;
    let one = pool.one();
    // ∂L/∂L = 1 is folded away, so the loss's own terms read `y_pred - y`, not `1 (y_pred - y)`.
    expansions.upstream[loss.index()] = Some(one);
    gradients[loss.index()] = Some(Gradient {
        terms: Vec::new(),
        chain: one,
        chain_raw: one,
        factored: one,
        expanded: one,
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
        // Only a node's expansion can be inlined into another gradient.
        let inlinable = bodies[id.index()].is_some();
        let gradient = gradient_forms(&mut pool, &gradients, terms, inlinable, &mut expansions);
        gradients[id.index()] = Some(gradient);
    }
    Ok(Derivation {
        pool,
        bodies,
        gradients,
        spans,
        named: expansions.named,
    })
}

/// Declared quantities that get a gradient: parameters, inputs and constants.
fn wants_gradient(network: &Network, id: SymbolId) -> bool {
    matches!(
        network.symbol(id).kind,
        SymbolKind::Declared(DeclKind::Param | DeclKind::Input | DeclKind::Const)
    )
}

/// What the expanded forms share across gradients.
#[derive(Default)]
struct Expansions {
    /// Tree sizes of expressions, for deciding what to inline.
    sizes: FxHashMap<ExprId, u64>,
    /// Gradients named rather than inlined, in order.
    named: Vec<SymbolId>,
    /// The substitution's results: it maps each ∂L/∂c to the same expression in every
    /// gradient (children come first and never change), so one memo serves all of them.
    memo: FxHashMap<ExprId, ExprId>,
    /// ∂L/∂c as an expression, for each child c used so far (indexed by `SymbolId`).
    upstream: Vec<Option<ExprId>>,
    /// The group of each local while one gradient's terms are grouped (cleared for each).
    group_of: FxHashMap<ExprId, usize>,
}

fn gradient_forms(
    pool: &mut Pool,
    gradients: &[Option<Gradient>],
    terms: Vec<ChainTerm>,
    inlinable: bool,
    expansions: &mut Expansions,
) -> Gradient {
    let Expansions {
        sizes,
        named,
        memo,
        upstream,
        group_of,
    } = expansions;
    // Stored where a child is first used, as interning it there did, so ids stay in that order.
    let mut upstream = |pool: &mut Pool, child: SymbolId| {
        *upstream[child.index()].get_or_insert_with(|| pool.sym(Sym::Grad(child)))
    };
    let mut chain_of = |pool: &mut Pool, pick: fn(&ChainTerm) -> ExprId| {
        let products: Vec<ExprId> = terms
            .iter()
            .map(|term| {
                let grad = upstream(pool, term.child);
                pool.mul2(grad, pick(term))
            })
            .collect();
        pool.add(&products)
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

    let expanded = pool.substitute(
        chain,
        &mut |sym| match sym {
            Sym::Grad(child) => {
                let child_expanded = gradients[child.index()].as_ref()?.expanded;
                if pool_tree_size(sizes, child_expanded) <= INLINE_LIMIT {
                    Some(child_expanded)
                } else {
                    if !named.contains(&child) {
                        named.push(child);
                    }
                    None
                }
            }
            Sym::Value(_) => None,
        },
        memo,
    );
    if inlinable {
        let _ = pool.tree_size(expanded, sizes);
    }
    Gradient {
        terms,
        chain,
        chain_raw,
        factored,
        expanded,
    }
}

fn pool_tree_size(sizes: &FxHashMap<ExprId, u64>, id: ExprId) -> u64 {
    sizes.get(&id).copied().unwrap_or(u64::MAX)
}
