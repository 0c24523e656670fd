//! Partial derivatives of pool expressions with respect to one symbol, memoized per
//! (expression, symbol) so that shared subexpressions are differentiated once.
//!
//! The activation derivatives are the ones the slides teach, written in terms of the function
//! itself: σ' = σ(1 − σ), tanh' = 1 − tanh², ReLU' = step (0 at 0), softplus' = σ,
//! ∂softmax_i/∂z_k = softmax_i (δ_ik − softmax_k).

use std::collections::hash_map::Entry;

use rustc_hash::{FxHashMap, FxHashSet};

use super::expr::{ExprId, Node, Pool, RationalId, Sym};
use crate::func::Func;

/// Memoized differentiation.
#[derive(Default)]
pub struct Differentiator {
    memo: FxHashMap<(ExprId, Sym), ExprId>,
}

impl Differentiator {
    /// A differentiator with an empty memo.
    pub fn new() -> Differentiator {
        Differentiator::default()
    }

    /// ∂e/∂wrt, normalized.
    pub fn diff(&mut self, pool: &mut Pool, e: ExprId, wrt: Sym) -> ExprId {
        if let Some(&done) = self.memo.get(&(e, wrt)) {
            return done;
        }
        let result = match pool.node(e).clone() {
            Node::Const(_) => pool.zero(),
            Node::Sym(sym) => {
                if sym == wrt {
                    pool.one()
                } else {
                    pool.zero()
                }
            }
            Node::Add(_, terms) => {
                let derivatives: Vec<(RationalId, ExprId)> = terms
                    .iter()
                    .map(|&(k, t)| (k, self.diff(pool, t, wrt)))
                    .collect();
                pool.linear(RationalId::ZERO, derivatives)
            }
            Node::Mul(c, factors) => {
                // Product rule: Σ_i c · e_i · b_i^(e_i − 1) · b_i' · Π_{j≠i} b_j^e_j.
                let mut terms = Vec::new();
                for (i, &(base, exponent)) in factors.iter().enumerate() {
                    let inner = self.diff(pool, base, wrt);
                    if pool.is_zero(inner) {
                        continue;
                    }
                    let others = factors
                        .iter()
                        .enumerate()
                        .map(|(j, &(b, e))| if i == j { (b, e - 1) } else { (b, e) })
                        .chain([(inner, 1)]);
                    let exponent = pool.int_rational(exponent.into());
                    let coefficient = pool.mul_rational(c, exponent);
                    terms.push((RationalId::ONE, pool.product(coefficient, others)));
                }
                pool.linear(RationalId::ZERO, terms)
            }
            Node::Apply(func, args) => {
                let mut terms = Vec::new();
                for (k, &arg) in args.iter().enumerate() {
                    let inner = self.diff(pool, arg, wrt);
                    if pool.is_zero(inner) {
                        continue;
                    }
                    let outer = partial(pool, func, &args, k);
                    terms.push((RationalId::ONE, pool.mul2(outer, inner)));
                }
                pool.linear(RationalId::ZERO, terms)
            }
        };
        self.memo.insert((e, wrt), result);
        result
    }
}

/// Every partial derivative of `e` at once, by reverse mode over its expression DAG: each
/// subexpression is visited once, so a pre-activation summing n weighted inputs costs O(n),
/// where asking `diff` for each of its 2n + 1 symbols would cost O(n²). Symbols with a zero
/// derivative are left out; the order is the order of `pool.symbols(e)`.
pub fn gradient(pool: &mut Pool, e: ExprId) -> Vec<(Sym, ExprId)> {
    sum_of_products_gradient(pool, e).unwrap_or_else(|| walk_gradient(pool, e))
}

/// The gradient of a sum whose terms are symbols or products `a·b` of two symbols, no symbol
/// twice: a layer's pre-activation `b + w1 x1 + w2 x2 + ...`, most of a network's edges. The
/// same partials as `walk_gradient`, stored in the same order (the terms' coefficients, then
/// the products' partials from the last product back), without walking; `None` for any other
/// expression.
fn sum_of_products_gradient(pool: &mut Pool, e: ExprId) -> Option<Vec<(Sym, ExprId)>> {
    let Node::Add(_, terms) = pool.node(e) else {
        return None;
    };
    let is_sym = |id: ExprId| matches!(pool.node(id), Node::Sym(_));
    let mut seen: FxHashSet<ExprId> =
        FxHashSet::with_capacity_and_hasher(2 * terms.len(), Default::default());
    for &(_, term) in terms.iter() {
        let symbols = match pool.node(term) {
            Node::Sym(_) => [Some(term), None],
            Node::Mul(c, factors) if c.is_one() => match **factors {
                [(a, 1), (b, 1)] if is_sym(a) && is_sym(b) => [Some(a), Some(b)],
                _ => return None,
            },
            _ => return None,
        };
        if !symbols.into_iter().flatten().all(|id| seen.insert(id)) {
            return None;
        }
    }
    let terms = terms.clone();
    let coefficients: Vec<ExprId> = terms.iter().map(|&(k, _)| pool.constant_of(k)).collect();
    let mut product_partials = vec![(e, e); terms.len()];
    for (term_idx, &(_, term)) in terms.iter().enumerate().rev() {
        if let Node::Mul(_, factors) = pool.node(term) {
            let (a, b) = (factors[0].0, factors[1].0);
            let by_a = pool.mul2(coefficients[term_idx], b);
            let by_b = pool.mul2(coefficients[term_idx], a);
            product_partials[term_idx] = (by_a, by_b);
        }
    }
    let as_sym = |pool: &Pool, id: ExprId| pool.as_sym(id).expect("checked to be a symbol");
    let mut partials = Vec::with_capacity(seen.len());
    for (term_idx, &(_, term)) in terms.iter().enumerate() {
        match pool.node(term) {
            Node::Mul(_, factors) => {
                let (by_a, by_b) = product_partials[term_idx];
                partials.push((as_sym(pool, factors[0].0), by_a));
                partials.push((as_sym(pool, factors[1].0), by_b));
            }
            _ => partials.push((as_sym(pool, term), coefficients[term_idx])),
        }
    }
    Some(partials)
}

/// Every partial derivative of `e` by the reverse-mode walk `gradient` describes.
fn walk_gradient(pool: &mut Pool, e: ExprId) -> Vec<(Sym, ExprId)> {
    // The subexpressions of `e`, and its symbols in the order of `pool.symbols(e)` (the same
    // walk); children have smaller ids, so descending ids visit every node after all of its
    // parents.
    let mut nodes = Vec::new();
    let mut symbols = Vec::new();
    pool.walk(e, |id, node| {
        nodes.push(id);
        if let Node::Sym(sym) = node {
            symbols.push(*sym);
        }
    });
    nodes.sort_unstable_by(|a, b| b.cmp(a));
    let mut contributions: FxHashMap<ExprId, Parts> =
        FxHashMap::with_capacity_and_hasher(nodes.len(), Default::default());
    contributions.insert(e, Parts::One(pool.one()));
    let mut partials: FxHashMap<Sym, ExprId> =
        FxHashMap::with_capacity_and_hasher(symbols.len(), Default::default());
    for id in nodes {
        let adjoint = match contributions.remove(&id) {
            None => continue,
            Some(Parts::One(part)) => pool.add(&[part]),
            Some(Parts::Many(parts)) => pool.add(&parts),
        };
        if pool.is_zero(adjoint) {
            continue;
        }
        let mut push = |pool: &mut Pool, child: ExprId, local: ExprId| {
            let part = pool.mul2(adjoint, local);
            match contributions.entry(child) {
                Entry::Vacant(entry) => {
                    entry.insert(Parts::One(part));
                }
                Entry::Occupied(mut entry) => match entry.get_mut() {
                    Parts::One(first) => *entry.get_mut() = Parts::Many(vec![*first, part]),
                    Parts::Many(parts) => parts.push(part),
                },
            }
        };
        match pool.node(id) {
            Node::Const(_) => {}
            &Node::Sym(sym) => {
                partials.insert(sym, adjoint);
            }
            Node::Add(_, terms) => {
                for (k, term) in terms.clone() {
                    let k = pool.constant_of(k);
                    push(pool, term, k);
                }
            }
            // `w·x`, most products of a network: each factor's local is the other factor (what
            // the general rule below gives, storing nothing), without copying the factors.
            &Node::Mul(c, ref factors) if c.is_one() && matches!(**factors, [(_, 1), (_, 1)]) => {
                let (a, b) = (factors[0].0, factors[1].0);
                push(pool, a, b);
                push(pool, b, a);
            }
            Node::Mul(c, factors) => {
                let (c, factors) = (*c, factors.clone());
                for (i, &(base, exponent)) in factors.iter().enumerate() {
                    let others = factors
                        .iter()
                        .enumerate()
                        .map(|(j, &(b, e))| if i == j { (b, e - 1) } else { (b, e) });
                    let exponent = pool.int_rational(exponent.into());
                    let coefficient = pool.mul_rational(c, exponent);
                    let local = pool.product(coefficient, others);
                    push(pool, base, local);
                }
            }
            Node::Apply(func, args) => {
                let (func, args) = (*func, args.clone());
                for (k, &arg) in args.iter().enumerate() {
                    let local = partial(pool, func, &args, k);
                    push(pool, arg, local);
                }
            }
        }
    }
    symbols
        .into_iter()
        .filter_map(|sym| partials.get(&sym).map(|&d| (sym, d)))
        .filter(|&(_, d)| !pool.is_zero(d))
        .collect()
}

/// The contributions to one adjoint: mostly a single one, which needs no list.
enum Parts {
    One(ExprId),
    Many(Vec<ExprId>),
}

/// ∂f(args)/∂args[k], in terms of f itself where the slides do so.
pub fn partial(pool: &mut Pool, func: Func, args: &[ExprId], k: usize) -> ExprId {
    let x = args[0];
    match func {
        Func::Sigmoid => {
            let s = pool.apply(Func::Sigmoid, args);
            let one_minus = pool.sub(pool.one(), s);
            pool.mul2(s, one_minus)
        }
        Func::Tanh => {
            let t = pool.apply(Func::Tanh, args);
            let squared = pool.pow(t, 2);
            pool.sub(pool.one(), squared)
        }
        Func::Relu => pool.apply(Func::Step, &[x]),
        // The slope is a constant, so only the first argument has a derivative that matters.
        Func::LeakyRelu if k == 0 => pool.apply(Func::LeakyStep, args),
        Func::Softplus => pool.apply(Func::Sigmoid, &[x]),
        Func::Exp => pool.apply(Func::Exp, &[x]),
        Func::Log => pool.pow(x, -1),
        Func::Identity => pool.one(),
        Func::Softmax(i) => {
            let s_i = pool.apply(Func::Softmax(i), args);
            if k == i as usize {
                let one_minus = pool.sub(pool.one(), s_i);
                pool.mul2(s_i, one_minus)
            } else {
                let s_k = pool.apply(Func::Softmax(k as u32), args);
                let product = pool.mul2(s_i, s_k);
                pool.neg(product)
            }
        }
        // Step functions are flat wherever they are differentiable.
        Func::LeakyRelu | Func::Step | Func::LeakyStep => pool.zero(),
    }
}

#[cfg(test)]
mod tests {
    use num_rational::BigRational;

    use super::*;
    use crate::graph::SymbolId;

    #[test]
    fn sigmoid_derivative_is_sigma_times_one_minus_sigma() {
        let mut pool = Pool::new();
        let h = pool.sym(Sym::Value(SymbolId(0)));
        let a = pool.apply(Func::Sigmoid, &[h]);
        let mut d = Differentiator::new();
        let derivative = d.diff(&mut pool, a, Sym::Value(SymbolId(0)));
        let one_minus = pool.sub(pool.one(), a);
        assert_eq!(derivative, pool.mul2(a, one_minus));
    }

    #[test]
    fn half_squared_error_gives_prediction_minus_target() {
        let mut pool = Pool::new();
        let y = pool.sym(Sym::Value(SymbolId(0)));
        let p = pool.sym(Sym::Value(SymbolId(1)));
        let diff = pool.sub(y, p);
        let squared = pool.pow(diff, 2);
        let half = pool.constant(BigRational::new(1.into(), 2.into()));
        let loss = pool.mul2(half, squared);
        let mut d = Differentiator::new();
        let derivative = d.diff(&mut pool, loss, Sym::Value(SymbolId(1)));
        assert_eq!(derivative, pool.sub(p, y));
    }

    #[test]
    fn reverse_mode_agrees_with_differentiating_per_symbol() {
        // Products w·x (the shortcut), products with a coefficient or a power (the general
        // rule), sums and calls of them; every symbol once, so both give one canonical form.
        let mut pool = Pool::new();
        let s: Vec<ExprId> = (0..7).map(|n| pool.sym(Sym::Value(SymbolId(n)))).collect();
        let wx = pool.mul2(s[0], s[1]);
        let three = pool.int(3);
        let scaled = pool.mul(&[three, s[2], s[3]]);
        let squared = pool.pow(s[4], 2);
        let power = pool.mul2(squared, s[5]);
        let sum = pool.add(&[wx, scaled, power, s[6]]);
        let sigma = pool.apply(Func::Sigmoid, &[sum]);
        for e in [wx, scaled, power, sum, sigma] {
            let reverse = gradient(&mut pool, e);
            let symbols: Vec<Sym> = reverse.iter().map(|&(sym, _)| sym).collect();
            assert_eq!(symbols, pool.symbols(e));
            let mut d = Differentiator::new();
            for (sym, partial) in reverse {
                assert_eq!(partial, d.diff(&mut pool, e, sym), "{sym:?} in {e:?}");
            }
        }
    }

    #[test]
    fn sums_of_products_take_the_walks_partials_and_store_alike() {
        let mut rng = crate::graph::sample::Rng::new(11);
        let mut shortcuts = 0;
        for _ in 0..200 {
            let mut pool = Pool::new();
            let symbols: Vec<ExprId> = (0..8).map(|n| pool.sym(Sym::Value(SymbolId(n)))).collect();
            let n_terms = 1 + rng.below(6) as usize;
            let mut terms = Vec::new();
            for _ in 0..n_terms {
                let mut pick = || symbols[rng.below(8) as usize];
                let (a, b) = (pick(), pick());
                // Mostly the shortcut's shape; sometimes a shared symbol, a square, a
                // coefficient inside the product or a call, which the walk must take.
                let term = match rng.below(8) {
                    0..=2 => a,
                    3 => pool.apply(Func::Sigmoid, &[a]),
                    4 => {
                        let three = pool.int(3);
                        pool.mul(&[three, a, b])
                    }
                    _ => pool.mul2(a, b),
                };
                let k = [-1, 1, 1, 1, 2][rng.below(5) as usize];
                terms.push((pool.int_rational(k), term));
            }
            let constant = pool.int_rational(rng.below(3) as i64);
            let e = pool.linear(constant, terms);
            shortcuts += usize::from(sum_of_products_gradient(&mut pool.clone(), e).is_some());
            let (mut fast, mut walked) = (pool.clone(), pool);
            assert_eq!(gradient(&mut fast, e), walk_gradient(&mut walked, e));
            assert_eq!(
                fast.nodes(),
                walked.nodes(),
                "the same stored in the same order"
            );
        }
        assert!(
            (50..150).contains(&shortcuts),
            "both paths taken: {shortcuts} shortcuts"
        );
    }

    #[test]
    fn product_rule_and_quotients() {
        let mut pool = Pool::new();
        let x = pool.sym(Sym::Value(SymbolId(0)));
        let w = pool.sym(Sym::Value(SymbolId(1)));
        let wx = pool.mul2(w, x);
        let mut d = Differentiator::new();
        assert_eq!(d.diff(&mut pool, wx, Sym::Value(SymbolId(0))), w);
        let inverse = pool.pow(x, -1);
        let derivative = d.diff(&mut pool, inverse, Sym::Value(SymbolId(0)));
        let expected = pool.pow(x, -2);
        assert_eq!(derivative, pool.neg(expected));
        let log = pool.apply(Func::Log, &[wx]);
        assert_eq!(d.diff(&mut pool, log, Sym::Value(SymbolId(0))), inverse);
    }
}
