//! Closed forms of the values a report prints: a value written in numbers only, e.g.
//! 1/(1 + e^{31/250}), when it is not rational and not too large. They are built on the pool
//! before anything is written: this is the one part of a report that adds to the pool, so the
//! writing itself can share it across threads.

use rustc_hash::FxHashMap;

use crate::eval::network::Values;
use crate::graph::{Network, SymbolId};
use crate::symbolic::backprop::Derivation;
use crate::symbolic::expr::{ExprId, Sym};

/// The largest closed form (in expression nodes, written out as a tree) a report prints.
pub const CLOSED_FORM_LIMIT: u64 = 25;

/// The closed form of every value a report prints; `None` where there is none small enough.
pub struct ClosedForms {
    syms: FxHashMap<Sym, Option<ExprId>>,
    updated: FxHashMap<SymbolId, Option<ExprId>>,
}

impl ClosedForms {
    /// The closed forms of the forward values, the loss, the gradients in `gradients` and the
    /// updated parameters.
    pub fn find(
        network: &Network,
        derivation: &mut Derivation,
        values: &Values,
        gradients: &[SymbolId],
    ) -> ClosedForms {
        let expected = network.equations.len() + gradients.len();
        let mut finder = Finder {
            derivation,
            values,
            forms: ClosedForms {
                syms: FxHashMap::with_capacity_and_hasher(2 * expected, Default::default()),
                updated: FxHashMap::default(),
            },
            sizes: FxHashMap::default(),
        };
        // In report order, and only for values that are not rational (those print as
        // fractions): closed forms made in the same order print the same.
        let irrational =
            |real: Option<&crate::eval::real::Real>| real.is_some_and(|r| r.as_exact().is_none());
        for equation in &network.equations {
            if irrational(values.value(equation.node)) {
                finder.sym(Sym::Value(equation.node));
            }
        }
        for &id in gradients {
            if irrational(values.gradient(id)) {
                finder.sym(Sym::Grad(id));
            }
        }
        if let Some(rate) = network.rate {
            for id in network.params() {
                if irrational(values.updated(id)) && values.gradient(id).is_some() {
                    let form = finder.updated(id, rate);
                    finder.forms.updated.insert(id, form);
                }
            }
        }
        if irrational(values.value(network.loss)) {
            finder.sym(Sym::Value(network.loss));
        }
        finder.forms
    }

    /// The closed form of a symbol's value.
    pub fn sym(&self, sym: Sym) -> Option<ExprId> {
        self.syms.get(&sym).copied().flatten()
    }

    /// The closed form of a parameter's updated value.
    pub fn updated(&self, id: SymbolId) -> Option<ExprId> {
        self.updated.get(&id).copied().flatten()
    }
}

struct Finder<'a> {
    derivation: &'a mut Derivation,
    values: &'a Values,
    forms: ClosedForms,
    /// Tree sizes of pool expressions.
    sizes: FxHashMap<ExprId, u64>,
}

impl Finder<'_> {
    /// The closed form of an expression: every symbol replaced by the closed form of its value,
    /// `None` when one has none or the result is larger than `CLOSED_FORM_LIMIT`.
    fn expr(&mut self, expr: ExprId) -> Option<ExprId> {
        let mut replacements: FxHashMap<Sym, ExprId> = FxHashMap::default();
        for sym in self.derivation.pool.symbols(expr) {
            replacements.insert(sym, self.sym(sym)?);
        }
        let pool = &mut self.derivation.pool;
        let closed = pool.substitute(
            expr,
            &mut |sym| replacements.get(&sym).copied(),
            &mut FxHashMap::default(),
        );
        (pool.tree_size(closed, &mut self.sizes) <= CLOSED_FORM_LIMIT).then_some(closed)
    }

    /// The closed form of a symbol's value (memoized).
    fn sym(&mut self, sym: Sym) -> Option<ExprId> {
        if let Some(&known) = self.forms.syms.get(&sym) {
            return known;
        }
        // Marked first, so that a cycle of lookups (there is none in a DAG) cannot recurse.
        self.forms.syms.insert(sym, None);
        let values = self.values;
        let real = match sym {
            Sym::Value(s) => values.value(s),
            Sym::Grad(s) => values.gradient(s),
        };
        let closed = match (real.and_then(|r| r.as_exact().cloned()), sym) {
            (Some(q), _) => Some(self.derivation.pool.constant(q)),
            (None, Sym::Value(s)) => self.derivation.body(s).and_then(|body| self.expr(body)),
            (None, Sym::Grad(s)) => {
                let gradient = self.derivation.gradient(s);
                // The chain rule mentions every child's gradient whose local derivative is not
                // 0: when one of those has no closed form, neither has this one, and it is not
                // worth walking the chain to find out (in most networks no gradient has one).
                let zero = self.derivation.pool.zero();
                let known_without = gradient
                    .into_iter()
                    .flat_map(|g| &g.terms)
                    .filter(|term| term.local != zero)
                    .any(|term| self.forms.syms.get(&Sym::Grad(term.child)) == Some(&None));
                if known_without {
                    None
                } else {
                    gradient.map(|g| g.chain).and_then(|chain| self.expr(chain))
                }
            }
        };
        self.forms.syms.insert(sym, closed);
        closed
    }

    /// The exact new value p − η ∂L/∂p, built only when the gradient has a closed form.
    fn updated(&mut self, id: SymbolId, rate: SymbolId) -> Option<ExprId> {
        self.sym(Sym::Grad(id))?;
        let pool = &mut self.derivation.pool;
        let (p, r, g) = (
            pool.sym(Sym::Value(id)),
            pool.sym(Sym::Value(rate)),
            pool.sym(Sym::Grad(id)),
        );
        let step = pool.mul2(r, g);
        let expression = pool.sub(p, step);
        self.expr(expression)
    }
}
