//! The expression pool: every expression of a run lives in one arena, hash-consed, so an equal
//! subexpression is stored once and equality of canonical forms is equality of ids.
//!
//! The smart constructors normalize as they build (constant folding, `x*1`, `x+0`, like terms
//! collected, numeric factors distributed over sums), so derivatives never swell: a gradient that
//! reuses σ(h)(1 − σ(h)) points at the one stored copy.
//!
//! Invariants of a stored `Node`:
//! - children are stored before parents (ids grow), so the pool is in topological order;
//! - `Add(c, terms)`: terms sorted by id, distinct, coefficients non-zero, no term is a `Const`,
//!   an `Add` or a `Mul` with a coefficient other than 1; and not just one term with c = 0;
//! - `Mul(c, factors)`: factors sorted by base id, distinct bases, exponents non-zero, no base is
//!   a `Mul`; a sum as a base is primitive (its constant, or else its first term's coefficient,
//!   is 1); a `Const` base only as 0 with a negative exponent (a quotient by zero, kept for
//!   evaluation to report); c ≠ 0 unless such a factor is present; not `1·x^1`; never a lone sum
//!   with exponent 1 (the coefficient is distributed instead).

use std::hash::{BuildHasher, Hash};

use hashbrown::HashTable;
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};
use rustc_hash::FxBuildHasher;

use super::ratio;
use crate::func::{DEFAULT_LEAKY_SLOPE, Func};
use crate::graph::SymbolId;

/// An expression in a `Pool`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExprId(u32);

impl ExprId {
    /// The index into the pool.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A symbol an expression may mention.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Sym {
    /// The value of a network quantity: `h11`, `w1`.
    Value(SymbolId),
    /// The gradient of the loss with respect to a quantity: `∂L/∂h11`.
    Grad(SymbolId),
}

/// One stored expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    /// An exact rational number: `3/10`.
    Const(BigRational),
    /// A symbol: `w1`, `∂L/∂h11`.
    Sym(Sym),
    /// `c + k1·t1 + k2·t2 + ...`
    Add(BigRational, Box<[(BigRational, ExprId)]>),
    /// `c · b1^e1 · b2^e2 · ...`
    Mul(BigRational, Box<[(ExprId, i32)]>),
    /// `f(a1, a2, ...)`
    Apply(Func, Box<[ExprId]>),
}

/// Rationals hashed by numerator and denominator (they are stored reduced): the `Hash` of
/// `Ratio` walks a continued fraction, a BigInt division per step.
impl Hash for Node {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        fn ratio<H: std::hash::Hasher>(q: &BigRational, state: &mut H) {
            // Mostly machine integers: hashed as such, without walking digit vectors.
            match (q.numer().to_i64(), q.denom().to_i64()) {
                (Some(numer), Some(denom)) => {
                    state.write_i64(numer);
                    state.write_i64(denom);
                }
                _ => {
                    q.numer().hash(state);
                    q.denom().hash(state);
                }
            }
        }
        std::mem::discriminant(self).hash(state);
        match self {
            Node::Const(c) => ratio(c, state),
            Node::Sym(sym) => sym.hash(state),
            Node::Add(c, terms) => {
                ratio(c, state);
                terms.len().hash(state);
                for (k, term) in terms.iter() {
                    ratio(k, state);
                    term.hash(state);
                }
            }
            Node::Mul(c, factors) => {
                ratio(c, state);
                factors.hash(state);
            }
            Node::Apply(func, args) => {
                func.hash(state);
                args.hash(state);
            }
        }
    }
}

/// The arena of hash-consed expressions.
#[derive(Clone)]
pub struct Pool {
    nodes: Vec<Node>,
    /// Each id with 32 bits of its node's hash, so that growing the table never hashes a node
    /// again (see `Pool::spread`).
    table: HashTable<(ExprId, u32)>,
    hasher: FxBuildHasher,
}

impl Default for Pool {
    fn default() -> Pool {
        Pool::new()
    }
}

impl Pool {
    /// An empty pool (holding 0 and 1).
    pub fn new() -> Pool {
        Pool::with_capacity(0)
    }

    /// An empty pool (holding 0 and 1) with room for `expressions` without growing.
    pub fn with_capacity(expressions: usize) -> Pool {
        let mut pool = Pool {
            nodes: Vec::with_capacity(expressions),
            table: HashTable::with_capacity(expressions),
            hasher: FxBuildHasher,
        };
        pool.intern(Node::Const(BigRational::zero()));
        pool.intern(Node::Const(BigRational::one()));
        pool
    }

    /// The stored node.
    pub fn node(&self, id: ExprId) -> &Node {
        &self.nodes[id.index()]
    }

    /// How many distinct expressions are stored.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether only the built-in 0 and 1 are stored.
    pub fn is_empty(&self) -> bool {
        self.nodes.len() <= 2
    }

    /// The constant 0.
    pub fn zero(&self) -> ExprId {
        ExprId(0)
    }

    /// The constant 1.
    pub fn one(&self) -> ExprId {
        ExprId(1)
    }

    /// The rational value, if the expression is a constant.
    pub fn as_const(&self, id: ExprId) -> Option<&BigRational> {
        match self.node(id) {
            Node::Const(value) => Some(value),
            _ => None,
        }
    }

    /// The symbol, if the expression is one.
    pub fn as_sym(&self, id: ExprId) -> Option<Sym> {
        match self.node(id) {
            Node::Sym(sym) => Some(*sym),
            _ => None,
        }
    }

    /// The table's 64-bit hash from the 32 kept: multiplying by an odd constant mixes every
    /// bit into the high bits (the table's tag) and keeps the low bits (its bucket) as random
    /// as the hash's.
    fn spread(short: u32) -> u64 {
        u64::from(short).wrapping_mul(0x9e37_79b9_7f4a_7c15)
    }

    fn intern(&mut self, node: Node) -> ExprId {
        // Folded, so that every kept bit has some of Fx's best-mixed (high, then rotated) bits.
        let full = self.hasher.hash_one(&node);
        let short = (full ^ (full >> 32)) as u32;
        let hash = Pool::spread(short);
        let nodes = &self.nodes;
        if let Some(&(id, _)) = self.table.find(hash, |&(id, kept)| {
            kept == short && nodes[id.index()] == node
        }) {
            return id;
        }
        let id = ExprId(u32::try_from(self.nodes.len()).expect("fewer than 2^32 expressions"));
        self.nodes.push(node);
        self.table
            .insert_unique(hash, (id, short), |&(_, kept)| Pool::spread(kept));
        id
    }

    /// A rational constant.
    pub fn constant(&mut self, value: BigRational) -> ExprId {
        // 0 and 1 are stored first.
        if value.is_zero() {
            return self.zero();
        }
        if value.is_one() {
            return self.one();
        }
        self.intern(Node::Const(value))
    }

    /// An integer constant.
    pub fn int(&mut self, value: i64) -> ExprId {
        self.constant(BigRational::from_integer(BigInt::from(value)))
    }

    /// A symbol.
    pub fn sym(&mut self, sym: Sym) -> ExprId {
        self.intern(Node::Sym(sym))
    }

    /// `a + b`
    pub fn add2(&mut self, a: ExprId, b: ExprId) -> ExprId {
        self.add(&[a, b])
    }

    /// `a - b`
    pub fn sub(&mut self, a: ExprId, b: ExprId) -> ExprId {
        let minus_b = self.neg(b);
        self.add(&[a, minus_b])
    }

    /// `-a`
    pub fn neg(&mut self, a: ExprId) -> ExprId {
        self.scale(a, &-BigRational::one())
    }

    /// `a * b`
    pub fn mul2(&mut self, a: ExprId, b: ExprId) -> ExprId {
        self.mul(&[a, b])
    }

    /// `a / b`. The caller makes sure `b` is not the constant 0 (see `Pool::is_zero`).
    pub fn div(&mut self, a: ExprId, b: ExprId) -> ExprId {
        self.product(BigRational::one(), [(a, 1), (b, -1)])
    }

    /// `base ^ exponent`
    pub fn pow(&mut self, base: ExprId, exponent: i32) -> ExprId {
        self.product(BigRational::one(), [(base, exponent)])
    }

    /// Whether the expression is the constant 0.
    pub fn is_zero(&self, id: ExprId) -> bool {
        id == self.zero()
    }

    /// The sum of several expressions, normalized.
    pub fn add(&mut self, terms: &[ExprId]) -> ExprId {
        // A term 0 changes nothing, and a lone term is its own sum, unless it is a product with a
        // coefficient, which `linear` takes apart (storing its monomial).
        let zero = self.zero();
        let mut kept = terms.iter().filter(|&&t| t != zero);
        match (kept.next(), kept.next()) {
            (None, _) => return zero,
            (Some(&only), None) if !matches!(self.node(only), Node::Mul(c, _) if !c.is_one()) => {
                return only;
            }
            _ => {}
        }
        self.linear(
            BigRational::zero(),
            terms.iter().map(|&t| (BigRational::one(), t)),
        )
    }

    /// `constant + Σ k_i · t_i`, normalized: like terms collected, zeros dropped.
    pub fn linear(
        &mut self,
        constant: BigRational,
        terms: impl IntoIterator<Item = (BigRational, ExprId)>,
    ) -> ExprId {
        let mut constant = constant;
        let mut flat: Vec<(BigRational, ExprId)> = Vec::new();
        for (k, term) in terms {
            if k.is_zero() {
                continue;
            }
            match self.node(term) {
                Node::Const(c) => constant = ratio::add(&constant, &ratio::mul(c, &k)),
                Node::Add(c, inner) => {
                    constant = ratio::add(&constant, &ratio::mul(c, &k));
                    flat.extend(inner.iter().map(|(k2, t)| (ratio::mul(k2, &k), *t)));
                }
                Node::Mul(c, factors) if !c.is_one() && !has_zero_base(self, factors) => {
                    let coefficient = ratio::mul(c, &k);
                    let factors = factors.clone();
                    let monomial = self.monomial(factors);
                    flat.push((coefficient, monomial));
                }
                _ => flat.push((k, term)),
            }
        }
        flat.sort_by_key(|&(_, id)| id);
        let mut merged = flat;
        merged.dedup_by(|(k, id), (total, last)| {
            let same = id == last;
            if same {
                *total = ratio::add(total, k);
            }
            same
        });
        merged.retain(|(k, _)| !k.is_zero());
        match merged.len() {
            0 => self.constant(constant),
            1 if constant.is_zero() => {
                let (k, id) = merged.pop().expect("one term");
                self.scale(id, &k)
            }
            _ => self.intern(Node::Add(constant, merged.into_boxed_slice())),
        }
    }

    /// The product of several expressions, normalized.
    pub fn mul(&mut self, factors: &[ExprId]) -> ExprId {
        // A factor 1 changes nothing, and a lone factor is its own product unless normalizing it
        // again would store something.
        let one = self.one();
        let mut kept = factors.iter().filter(|&&f| f != one);
        match (kept.next(), kept.next()) {
            (None, _) => return one,
            (Some(&only), None) if self.is_unit_product(only) => return only,
            _ => {}
        }
        self.product(BigRational::one(), factors.iter().map(|&f| (f, 1)))
    }

    /// `coefficient · Π base_i ^ e_i`, normalized: constants folded, equal bases merged.
    pub fn product(
        &mut self,
        coefficient: BigRational,
        factors: impl IntoIterator<Item = (ExprId, i32)>,
    ) -> ExprId {
        let mut coefficient = coefficient;
        let mut flat: Vec<(ExprId, i32)> = Vec::new();
        for (base, exponent) in factors {
            if exponent == 0 {
                continue;
            }
            let zero = self.zero();
            match self.node(base) {
                Node::Const(c) => fold_power(&mut coefficient, &mut flat, c, exponent, zero),
                Node::Mul(c, inner) => {
                    fold_power(&mut coefficient, &mut flat, c, exponent, zero);
                    flat.extend(inner.iter().map(|&(b, e)| (b, e.saturating_mul(exponent))));
                }
                Node::Add(c, terms) => {
                    // A sum inside a product is kept primitive (its content moved to the
                    // coefficient), so 2(1 + x)y and (2 + 2x)y are one expression whatever the
                    // order of multiplication.
                    let content = if c.is_zero() {
                        terms[0].0.clone()
                    } else {
                        c.clone()
                    };
                    if content.is_one() {
                        flat.push((base, exponent));
                    } else {
                        let primitive = Node::Add(
                            c / &content,
                            terms.iter().map(|(k, t)| (k / &content, *t)).collect(),
                        );
                        coefficient = ratio::mul(&coefficient, &ratio::pow(&content, exponent));
                        let primitive = self.intern(primitive);
                        flat.push((primitive, exponent));
                    }
                }
                _ => flat.push((base, exponent)),
            }
        }
        flat.sort_by_key(|&(id, _)| id);
        let mut merged = flat;
        merged.dedup_by(|(id, e), (last, total)| {
            let same = id == last;
            if same {
                *total = total.saturating_add(*e);
            }
            same
        });
        merged.retain(|&(_, e)| e != 0);
        let undefined = has_zero_base(self, &merged);
        if coefficient.is_zero() && !undefined {
            return self.zero();
        }
        match merged.as_slice() {
            [] => self.constant(coefficient),
            [(base, 1)] if coefficient.is_one() => *base,
            [(base, 1)] if matches!(self.node(*base), Node::Add(..)) => {
                let base = *base;
                self.scale(base, &coefficient)
            }
            _ => self.intern(Node::Mul(coefficient, merged.into_boxed_slice())),
        }
    }

    /// `k · e`, distributing a numeric factor over a sum.
    pub fn scale(&mut self, id: ExprId, k: &BigRational) -> ExprId {
        if k.is_one() {
            return id;
        }
        if k.is_zero() {
            return self.zero();
        }
        match self.node(id) {
            Node::Const(c) => {
                let value = ratio::mul(c, k);
                self.constant(value)
            }
            Node::Add(c, terms) => {
                let constant = ratio::mul(c, k);
                let terms: Box<[(BigRational, ExprId)]> = terms
                    .iter()
                    .map(|(t, id)| (ratio::mul(t, k), *id))
                    .collect();
                self.intern(Node::Add(constant, terms))
            }
            Node::Mul(c, factors) if !has_zero_base(self, factors) => {
                let coefficient = ratio::mul(c, k);
                let factors = factors.clone();
                self.product(coefficient, factors.iter().copied())
            }
            _ => self.intern(Node::Mul(k.clone(), Box::new([(id, 1)]))),
        }
    }

    /// The coefficient-1 product of already normalized factors.
    fn monomial(&mut self, factors: Box<[(ExprId, i32)]>) -> ExprId {
        match *factors {
            [(base, 1)] => base,
            _ => self.intern(Node::Mul(BigRational::one(), factors)),
        }
    }

    /// `f(args)`, folding what is exactly known: identity, and constant arguments whose value is
    /// rational (σ(0) = 1/2, tanh 0 = 0, e^0 = 1, log 1 = 0, ReLU and step of a constant).
    pub fn apply(&mut self, func: Func, args: &[ExprId]) -> ExprId {
        let mut args: Vec<ExprId> = args.to_vec();
        if matches!(func, Func::LeakyRelu) && args.len() == 1 {
            let (n, d) = DEFAULT_LEAKY_SLOPE;
            args.push(self.constant(BigRational::new(n.into(), d.into())));
        }
        if let Some(folded) = self.fold(func, &args) {
            return folded;
        }
        self.intern(Node::Apply(func, args.into_boxed_slice()))
    }

    fn fold(&mut self, func: Func, args: &[ExprId]) -> Option<ExprId> {
        if func == Func::Identity {
            return Some(args[0]);
        }
        let x = self.as_const(args[0])?.clone();
        let slope = || args.get(1).and_then(|&a| self.as_const(a)).cloned();
        let value = match func {
            Func::Sigmoid if x.is_zero() => BigRational::new(1.into(), 2.into()),
            Func::Tanh if x.is_zero() => BigRational::zero(),
            Func::Exp if x.is_zero() => BigRational::one(),
            Func::Log if x.is_one() => BigRational::zero(),
            Func::Relu => x.max(BigRational::zero()),
            Func::Step => step(&x),
            Func::LeakyRelu if x.is_positive() => x,
            Func::LeakyRelu => slope()? * x,
            Func::LeakyStep if x.is_positive() => BigRational::one(),
            Func::LeakyStep => slope()?,
            _ => return None,
        };
        Some(self.constant(value))
    }

    /// The symbols an expression mentions, each once, in order of first appearance.
    pub fn symbols(&self, id: ExprId) -> Vec<Sym> {
        let mut found = Vec::new();
        let mut stack = vec![id];
        // A symbol is one node of the pool, so visiting each node once finds it once.
        let mut visited = rustc_hash::FxHashSet::default();
        while let Some(id) = stack.pop() {
            if !visited.insert(id) {
                continue;
            }
            match self.node(id) {
                Node::Const(_) => {}
                Node::Sym(sym) => found.push(*sym),
                Node::Add(_, terms) => stack.extend(terms.iter().rev().map(|&(_, t)| t)),
                Node::Mul(_, factors) => stack.extend(factors.iter().rev().map(|&(b, _)| b)),
                Node::Apply(_, args) => stack.extend(args.iter().rev()),
            }
        }
        found
    }

    /// The children of a node, in stored order.
    pub fn children(&self, id: ExprId) -> Vec<ExprId> {
        match self.node(id) {
            Node::Const(_) | Node::Sym(_) => Vec::new(),
            Node::Add(_, terms) => terms.iter().map(|&(_, t)| t).collect(),
            Node::Mul(_, factors) => factors.iter().map(|&(b, _)| b).collect(),
            Node::Apply(_, args) => args.to_vec(),
        }
    }

    /// Rebuilds `id` with `replace` applied to every subexpression, outermost first: where it
    /// returns `Some(new)`, `new` stands in and is not visited further. Memoized per call.
    pub fn rewrite(
        &mut self,
        id: ExprId,
        replace: &mut dyn FnMut(&Pool, ExprId) -> Option<ExprId>,
        memo: &mut rustc_hash::FxHashMap<ExprId, ExprId>,
    ) -> ExprId {
        if let Some(&done) = memo.get(&id) {
            return done;
        }
        if let Some(new) = replace(self, id) {
            memo.insert(id, new);
            return new;
        }
        let children = self.children(id);
        let rewritten: Vec<ExprId> = children
            .iter()
            .map(|&child| self.rewrite(child, replace, memo))
            .collect();
        let result = if rewritten == children && self.is_fixed(id) {
            id
        } else {
            self.rebuild(id, &rewritten)
        };
        memo.insert(id, result);
        result
    }

    /// Whether normalizing the node from its own children gives it back, so that an untouched
    /// subexpression needs no rebuild. True of every node but products holding a quotient by
    /// zero (kept for evaluation to report), which normalizing again may fold further.
    fn is_fixed(&self, id: ExprId) -> bool {
        match self.node(id) {
            Node::Mul(_, factors) => factors
                .iter()
                .all(|&(base, _)| !self.is_zero(base) && !matches!(self.node(base), Node::Mul(..))),
            _ => true,
        }
    }

    /// Whether `1 · id` normalizes to `id` storing nothing new: all but a sum whose content
    /// is not 1 (its primitive part would be stored) and the products `is_fixed` excludes.
    fn is_unit_product(&self, id: ExprId) -> bool {
        match self.node(id) {
            Node::Add(c, terms) if c.is_zero() => terms[0].0.is_one(),
            Node::Add(c, _) => c.is_one(),
            _ => self.is_fixed(id),
        }
    }

    /// `id`'s operation applied to `children` (one per child of `id`, in stored order),
    /// normalized.
    fn rebuild(&mut self, id: ExprId, children: &[ExprId]) -> ExprId {
        match self.node(id).clone() {
            Node::Const(_) | Node::Sym(_) => id,
            Node::Add(c, terms) => {
                let terms = terms
                    .iter()
                    .zip(children)
                    .map(|((k, _), &t)| (k.clone(), t));
                self.linear(c, terms)
            }
            Node::Mul(c, factors) => {
                let factors = factors.iter().zip(children).map(|(&(_, e), &b)| (b, e));
                self.product(c, factors)
            }
            Node::Apply(func, _) => self.apply(func, children),
        }
    }

    /// Replaces symbols: `subst(sym)` gives the expression standing for it, or `None` to keep it.
    pub fn substitute(
        &mut self,
        id: ExprId,
        subst: &mut dyn FnMut(Sym) -> Option<ExprId>,
        memo: &mut rustc_hash::FxHashMap<ExprId, ExprId>,
    ) -> ExprId {
        self.rewrite(
            id,
            &mut |pool, e| match pool.node(e) {
                Node::Sym(sym) => Some(subst(*sym).unwrap_or(e)),
                _ => None,
            },
            memo,
        )
    }

    /// The size of the expression written out as a tree (saturating), memoized in `memo`.
    pub fn tree_size(&self, id: ExprId, memo: &mut rustc_hash::FxHashMap<ExprId, u64>) -> u64 {
        if let Some(&size) = memo.get(&id) {
            return size;
        }
        let size = self.children(id).into_iter().fold(1u64, |total, child| {
            total.saturating_add(self.tree_size(child, memo))
        });
        memo.insert(id, size);
        size
    }
}

/// Multiplies `c^exponent` into the coefficient, or keeps `0^exponent` as a factor when the
/// exponent is negative (a quotient by zero, for evaluation to report).
fn fold_power(
    coefficient: &mut BigRational,
    factors: &mut Vec<(ExprId, i32)>,
    c: &BigRational,
    exponent: i32,
    zero: ExprId,
) {
    if c.is_zero() && exponent < 0 {
        factors.push((zero, exponent));
    } else {
        *coefficient = ratio::mul(coefficient, &ratio::pow(c, exponent));
    }
}

fn has_zero_base(pool: &Pool, factors: &[(ExprId, i32)]) -> bool {
    // The constant 0 is stored once, so this compares ids without reading any node.
    factors.iter().any(|&(base, _)| pool.is_zero(base))
}

/// The Heaviside step with step(0) = 0, the convention of ReLU'(0) used throughout.
pub fn step(x: &BigRational) -> BigRational {
    if x.is_positive() {
        BigRational::one()
    } else {
        BigRational::zero()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(pool: &mut Pool, n: u32) -> ExprId {
        pool.sym(Sym::Value(SymbolId(n)))
    }

    fn q(n: i64, d: i64) -> BigRational {
        BigRational::new(n.into(), d.into())
    }

    #[test]
    fn equal_expressions_share_one_id() {
        let mut pool = Pool::new();
        let (x, y) = (value(&mut pool, 0), value(&mut pool, 1));
        let a = pool.add2(x, y);
        let b = pool.add2(y, x);
        assert_eq!(a, b);
        let before = pool.len();
        let s1 = pool.apply(Func::Sigmoid, &[a]);
        let s2 = pool.apply(Func::Sigmoid, &[b]);
        assert_eq!(s1, s2);
        assert_eq!(pool.len(), before + 1);
    }

    #[test]
    fn neutral_elements_and_constants_fold() {
        let mut pool = Pool::new();
        let x = value(&mut pool, 0);
        let zero = pool.zero();
        let one = pool.one();
        assert_eq!(pool.add2(x, zero), x);
        assert_eq!(pool.mul2(x, one), x);
        assert_eq!(pool.mul2(x, zero), zero);
        let half = pool.constant(q(1, 2));
        let third = pool.constant(q(1, 3));
        let sum = pool.add2(half, third);
        assert_eq!(pool.as_const(sum), Some(&q(5, 6)));
        assert_eq!(pool.pow(x, 0), one);
        assert_eq!(pool.pow(x, 1), x);
    }

    #[test]
    fn like_terms_are_collected() {
        let mut pool = Pool::new();
        let (x, y) = (value(&mut pool, 0), value(&mut pool, 1));
        let xy = pool.mul2(x, y);
        let two_xy = pool.add2(xy, xy);
        let three = pool.int(3);
        let three_xy = pool.mul(&[three, y, x]);
        let total = pool.add2(two_xy, three_xy);
        let five = pool.int(5);
        assert_eq!(total, pool.mul(&[five, x, y]));
        let x_squared = pool.mul2(x, x);
        assert_eq!(x_squared, pool.pow(x, 2));
        let back = pool.div(x_squared, x);
        assert_eq!(back, x);
        let cancel = pool.sub(x, x);
        assert_eq!(cancel, pool.zero());
    }

    #[test]
    fn numeric_factors_distribute_over_sums() {
        let mut pool = Pool::new();
        let (y, p) = (value(&mut pool, 0), value(&mut pool, 1));
        let y_minus_p = pool.sub(y, p);
        let p_minus_y = pool.sub(p, y);
        assert_eq!(pool.neg(y_minus_p), p_minus_y);
        let half = pool.constant(q(1, 2));
        let two = pool.int(2);
        let halved = pool.mul2(half, y_minus_p);
        assert_eq!(pool.mul2(two, halved), y_minus_p);
    }

    #[test]
    fn exact_function_values_fold() {
        let mut pool = Pool::new();
        let zero = pool.zero();
        let half = pool.constant(q(1, 2));
        assert_eq!(pool.apply(Func::Sigmoid, &[zero]), half);
        let minus = pool.int(-3);
        assert_eq!(pool.apply(Func::Relu, &[minus]), zero);
        let leaky = pool.apply(Func::LeakyRelu, &[minus]);
        assert_eq!(pool.as_const(leaky), Some(&q(-3, 100)));
        assert_eq!(
            pool.apply(Func::Step, &[zero]),
            zero,
            "step(0) = 0 by convention"
        );
        let x = value(&mut pool, 0);
        assert_eq!(pool.apply(Func::Identity, &[x]), x);
    }

    #[test]
    fn division_by_the_constant_zero_is_kept_for_evaluation() {
        let mut pool = Pool::new();
        let x = value(&mut pool, 0);
        let zero = pool.zero();
        let quotient = pool.div(x, zero);
        assert!(matches!(pool.node(quotient), Node::Mul(..)));
        let scaled = pool.mul2(zero, quotient);
        assert_ne!(scaled, zero, "0 · (x/0) is not silently 0");
    }

    /// Random expressions over a few symbols, built with every constructor.
    fn random_pool(seed: u64, size: usize) -> Pool {
        let mut rng = crate::graph::sample::Rng::new(seed);
        let mut pool = Pool::new();
        let mut ids: Vec<ExprId> = (0..4).map(|n| value(&mut pool, n)).collect();
        ids.push(pool.sym(Sym::Grad(SymbolId(0))));
        for _ in 0..size {
            let pick =
                |rng: &mut crate::graph::sample::Rng| ids[rng.below(ids.len() as u64) as usize];
            let (a, b) = (pick(&mut rng), pick(&mut rng));
            let k = q(rng.below(9) as i64 - 4, 1 + rng.below(4) as i64);
            let built = match rng.below(10) {
                0 => pool.add2(a, b),
                9 => pool.div(a, pool.zero()),
                1 => pool.sub(a, b),
                2 => pool.mul2(a, b),
                3 if !pool.is_zero(b) => pool.div(a, b),
                4 => pool.pow(a, rng.below(5) as i32 - 2),
                5 => pool.scale(a, &k),
                6 => pool.linear(k.clone(), [(k, a), (q(1, 2), b)]),
                7 => pool.apply(Func::Sigmoid, &[a]),
                _ => pool.constant(k),
            };
            ids.push(built);
        }
        pool
    }

    #[test]
    fn stored_nodes_rebuild_to_themselves() {
        for seed in 0..20 {
            let mut pool = random_pool(seed, 300);
            let stored = pool.len();
            for index in 0..stored {
                let id = ExprId(index as u32);
                if pool.is_fixed(id) {
                    let children = pool.children(id);
                    assert_eq!(pool.rebuild(id, &children), id, "{:?}", pool.node(id));
                }
            }
            assert_eq!(pool.len(), stored, "rebuilding stores nothing new");
        }
    }

    #[test]
    fn shortcuts_of_add_and_mul_agree_with_the_general_path() {
        let general_add = |pool: &mut Pool, terms: &[ExprId]| {
            pool.linear(
                BigRational::zero(),
                terms.iter().map(|&t| (BigRational::one(), t)),
            )
        };
        let general_mul = |pool: &mut Pool, factors: &[ExprId]| {
            pool.product(BigRational::one(), factors.iter().map(|&f| (f, 1)))
        };
        for seed in 0..5 {
            let pool = random_pool(seed, 200);
            let (zero, one) = (pool.zero(), pool.one());
            for index in 0..pool.len() {
                let id = ExprId(index as u32);
                for operands in [
                    vec![id],
                    vec![zero, id],
                    vec![id, one],
                    vec![one, one],
                    vec![],
                ] {
                    // Same result, and the same expressions stored on the way.
                    let (mut fast, mut general) = (pool.clone(), pool.clone());
                    assert_eq!(fast.add(&operands), general_add(&mut general, &operands));
                    assert_eq!(fast.mul(&operands), general_mul(&mut general, &operands));
                    assert_eq!(fast.len(), general.len(), "{:?}", pool.node(id));
                }
            }
        }
    }

    #[test]
    fn a_scaled_quotient_by_zero_is_rebuilt() {
        let mut pool = Pool::new();
        let x = value(&mut pool, 0);
        let zero = pool.zero();
        let quotient = pool.div(x, zero);
        let scaled = pool.scale(quotient, &q(2, 1));
        assert!(!pool.is_fixed(scaled));
        assert_ne!(pool.rebuild(scaled, &[quotient]), scaled);
    }

    #[test]
    fn substitution_rebuilds_and_shares() {
        let mut pool = Pool::new();
        let (x, y) = (value(&mut pool, 0), value(&mut pool, 1));
        let s = pool.apply(Func::Sigmoid, &[x]);
        let one_minus = pool.sub(pool.one(), s);
        let derivative = pool.mul2(s, one_minus);
        let mut memo = Default::default();
        let replaced = pool.substitute(
            derivative,
            &mut |sym| (sym == Sym::Value(SymbolId(0))).then_some(y),
            &mut memo,
        );
        let sy = pool.apply(Func::Sigmoid, &[y]);
        let one_minus_y = pool.sub(pool.one(), sy);
        assert_eq!(replaced, pool.mul2(sy, one_minus_y));
    }
}
