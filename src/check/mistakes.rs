//! The catalogue of real mistakes, as wrong versions of the true relation: for a quantity, the
//! expressions a student who made each mistake would write (or compute). A wrong step is named by
//! the first catalogue entry it agrees with.

use num_rational::BigRational;
use rustc_hash::FxHashMap;

use super::findings::Kind;
use super::resolve::Subject;
use crate::func::Func;
use crate::graph::{Network, SymbolId};
use crate::symbolic::backprop::Derivation;
use crate::symbolic::expr::{ExprId, Node, Pool, Sym};

/// Wrong versions of a subject's true relation, each with the mistake that produces it.
pub fn mutants(
    network: &Network,
    derivation: &mut Derivation,
    subject: Subject,
) -> Vec<(Kind, ExprId)> {
    let mut found = Vec::new();
    match subject {
        Subject::Grad(id) => gradient_mutants(network, derivation, id, &mut found),
        Subject::Updated(id) => {
            if let Some(rate) = network.rate {
                let pool = &mut derivation.pool;
                let (p, eta, g) = (
                    pool.sym(Sym::Value(id)),
                    pool.sym(Sym::Value(rate)),
                    pool.sym(Sym::Grad(id)),
                );
                let step = pool.mul2(eta, g);
                found.push((Kind::UpdateSign, pool.add2(p, step)));
                found.push((Kind::UpdateWithoutRate, pool.sub(p, g)));
                found.push((Kind::UpdateSign, pool.add2(p, g)));
            }
        }
        Subject::After(_) => {}
        Subject::Value(id) => {
            // a = f(h) written as h.
            if let Some((h, _)) = activation_of(network, derivation, id) {
                let h = derivation.pool.sym(Sym::Value(h));
                found.push((Kind::PreactivationForActivation, h));
            }
        }
    }
    // Off by a factor of 2 and the flipped sign apply to any quantity.
    let pool = &mut derivation.pool;
    let whole = subject_symbol(pool, subject);
    if let Some(whole) = whole {
        found.push((Kind::WrongSign, pool.neg(whole)));
        let two = pool.int(2);
        found.push((Kind::FactorTwo, pool.mul2(two, whole)));
        let half = pool.constant(BigRational::new(1.into(), 2.into()));
        found.push((Kind::FactorTwo, pool.mul2(half, whole)));
    }
    found
}

fn subject_symbol(pool: &mut Pool, subject: Subject) -> Option<ExprId> {
    match subject {
        Subject::Value(id) => Some(pool.sym(Sym::Value(id))),
        Subject::Grad(id) => Some(pool.sym(Sym::Grad(id))),
        Subject::Updated(_) | Subject::After(_) => None,
    }
}

/// For a node `a = f(h)` with `h` a node: `(h, f)`.
pub fn activation_of(
    network: &Network,
    derivation: &Derivation,
    id: SymbolId,
) -> Option<(SymbolId, Func)> {
    let body = derivation.body(id)?;
    match derivation.pool.node(body) {
        Node::Apply(func, args) => match derivation.pool.as_sym(args[0]) {
            Some(Sym::Value(h)) if network.symbol(h).is_node() => Some((h, *func)),
            _ => None,
        },
        _ => None,
    }
}

fn gradient_mutants(
    network: &Network,
    derivation: &mut Derivation,
    id: SymbolId,
    found: &mut Vec<(Kind, ExprId)>,
) {
    let Some(gradient) = derivation.gradient(id).cloned() else {
        return;
    };
    let loss = network.loss;
    let upstream = |pool: &mut Pool, child: SymbolId| {
        if child == loss {
            pool.one()
        } else {
            pool.sym(Sym::Grad(child))
        }
    };
    let terms: Vec<(SymbolId, ExprId)> = gradient
        .terms
        .iter()
        .map(|t| (t.child, t.local_nodes))
        .collect();
    let sum = |pool: &mut Pool, terms: &[(SymbolId, ExprId)]| {
        let products: Vec<ExprId> = terms
            .iter()
            .map(|&(child, local)| {
                let grad = upstream(pool, child);
                pool.mul2(grad, local)
            })
            .collect();
        pool.add(&products)
    };

    // A term of the sum over the children left out.
    if terms.len() >= 2 {
        for skip in 0..terms.len() {
            let kept: Vec<(SymbolId, ExprId)> = terms
                .iter()
                .enumerate()
                .filter(|&(k, _)| k != skip)
                .map(|(_, &t)| t)
                .collect();
            found.push((Kind::MissingTerm, sum(&mut derivation.pool, &kept)));
        }
    }

    // Through an activation a = f(h): the derivative left out, σ for σ(1 − σ), h(1 − h) for a(1 − a).
    for (k, &(child, _)) in terms.iter().enumerate() {
        let Some((h, func)) = activation_of(network, derivation, child).filter(|&(h, _)| h == id)
        else {
            continue;
        };
        let pool = &mut derivation.pool;
        let (a_sym, h_sym) = (pool.sym(Sym::Value(child)), pool.sym(Sym::Value(h)));
        let one = pool.one();
        let mut replace = |pool: &mut Pool, local: ExprId, kind: Kind| {
            let mut changed = terms.clone();
            changed[k].1 = local;
            found.push((kind, sum(pool, &changed)));
        };
        replace(pool, one, Kind::MissingActivationDerivative);
        if func == Func::Sigmoid {
            replace(pool, a_sym, Kind::WrongActivationDerivative);
            let one_minus_h = pool.sub(one, h_sym);
            let at_h = pool.mul2(h_sym, one_minus_h);
            replace(pool, at_h, Kind::DerivativeAtPreactivation);
        }
        if func == Func::Tanh {
            let h_squared = pool.pow(h_sym, 2);
            let at_h = pool.sub(one, h_squared);
            replace(pool, at_h, Kind::DerivativeAtPreactivation);
        }
    }

    // In a local derivative, an activation replaced by its pre-activation (dL/dz · h21 for a21),
    // or a weight replaced by another parameter of the same equation.
    let mut renames: Vec<(usize, FxHashMap<Sym, Sym>, Kind)> = Vec::new();
    for (k, &(child, local)) in terms.iter().enumerate() {
        for sym in derivation.pool.symbols(local) {
            let Sym::Value(s) = sym else { continue };
            if let Some((h, _)) = activation_of(network, derivation, s) {
                renames.push((
                    k,
                    FxHashMap::from_iter([(sym, Sym::Value(h))]),
                    Kind::PreactivationForActivation,
                ));
            }
            if network.symbol(s).is_param()
                && let Some(body) = derivation.body(child)
            {
                for other in derivation.pool.symbols(body) {
                    if let Sym::Value(o) = other
                        && o != s
                        && network.symbol(o).is_param()
                    {
                        renames.push((k, FxHashMap::from_iter([(sym, other)]), Kind::WrongTerm));
                    }
                }
            }
        }
    }
    for (k, map, kind) in renames {
        let pool = &mut derivation.pool;
        let mut changed = terms.clone();
        changed[k].1 = substituted(pool, terms[k].1, &map);
        found.push((kind, sum(pool, &changed)));
        // The same rename in every term: a factored (dL/dh21 + dL/dh22) w4 for w3.
        if terms.len() > 1 {
            let everywhere: Vec<(SymbolId, ExprId)> = terms
                .iter()
                .map(|&(child, local)| (child, substituted(pool, local, &map)))
                .collect();
            found.push((kind, sum(pool, &everywhere)));
        }
    }

    // The upstream gradient of one term replaced by a sibling's.
    for k in 0..terms.len() {
        for j in 0..terms.len() {
            if j != k && terms[j].0 != terms[k].0 {
                let mut changed = terms.clone();
                changed[k].0 = terms[j].0;
                found.push((Kind::WrongTerm, sum(&mut derivation.pool, &changed)));
            }
        }
    }
}

/// `id` with symbols renamed.
fn substituted(pool: &mut Pool, id: ExprId, map: &FxHashMap<Sym, Sym>) -> ExprId {
    let renamed: Vec<(Sym, ExprId)> = map
        .iter()
        .map(|(&from, &to)| (from, pool.sym(to)))
        .collect();
    pool.substitute(
        id,
        &mut |sym| {
            renamed
                .iter()
                .find(|(from, _)| *from == sym)
                .map(|&(_, to)| to)
        },
        &mut FxHashMap::default(),
    )
}
