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
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};
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

/// A rational number stored once in its pool's table (see `Pool::rational`), so that equal
/// values have equal ids: a node holds 4 bytes per coefficient, hashed and compared as an
/// integer, where a `BigRational` is two big integers to hash digit by digit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RationalId(u32);

impl RationalId {
    /// 0, stored first in every pool.
    pub const ZERO: RationalId = RationalId(0);
    /// 1, stored second.
    pub const ONE: RationalId = RationalId(1);
    /// −1, stored third.
    pub const MINUS_ONE: RationalId = RationalId(2);

    /// Whether the value is 0.
    pub fn is_zero(self) -> bool {
        self == RationalId::ZERO
    }

    /// Whether the value is 1.
    pub fn is_one(self) -> bool {
        self == RationalId::ONE
    }
}

/// One stored expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    /// An exact rational number: `3/10`.
    Const(RationalId),
    /// A symbol: `w1`, `∂L/∂h11`.
    Sym(Sym),
    /// `c + k1·t1 + k2·t2 + ...`
    Add(RationalId, Box<[(RationalId, ExprId)]>),
    /// `c · b1^e1 · b2^e2 · ...`
    Mul(RationalId, Box<[(ExprId, i32)]>),
    /// `f(args)`
    Apply(Func, Box<[ExprId]>),
}

/// The operand lists of a node, one of them non-empty at most.
type Operands<'a> = (
    &'a [(RationalId, ExprId)],
    &'a [(ExprId, i32)],
    &'a [ExprId],
);

/// A node borrowed: what `Pool::intern` looks up, so that finding a stored node copies nothing.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum NodeRef<'a> {
    Const(RationalId),
    Sym(Sym),
    Add(RationalId, &'a [(RationalId, ExprId)]),
    Mul(RationalId, &'a [(ExprId, i32)]),
    Apply(Func, &'a [ExprId]),
}

impl Node {
    fn as_ref(&self) -> NodeRef<'_> {
        match self {
            &Node::Const(value) => NodeRef::Const(value),
            &Node::Sym(sym) => NodeRef::Sym(sym),
            Node::Add(c, terms) => NodeRef::Add(*c, terms),
            Node::Mul(c, factors) => NodeRef::Mul(*c, factors),
            Node::Apply(func, args) => NodeRef::Apply(*func, args),
        }
    }
}

impl NodeRef<'_> {
    fn to_node(self) -> Node {
        match self {
            NodeRef::Const(value) => Node::Const(value),
            NodeRef::Sym(sym) => Node::Sym(sym),
            NodeRef::Add(c, terms) => Node::Add(c, terms.into()),
            NodeRef::Mul(c, factors) => Node::Mul(c, factors.into()),
            NodeRef::Apply(func, args) => Node::Apply(func, args.into()),
        }
    }
}

/// Hashed as borrowed, so a stored node and its `NodeRef` hash alike.
impl Hash for Node {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_ref().hash(state);
    }
}

/// A rational of the pool's table, with its machine-integer form when it has one.
#[derive(Clone)]
struct StoredRational {
    value: BigRational,
    small: Option<(i64, i64)>,
}

/// The arena of hash-consed expressions.
#[derive(Clone)]
pub struct Pool {
    nodes: Vec<Node>,
    /// The rationals the nodes mention, each once (indexed by `RationalId`).
    rationals: Vec<StoredRational>,
    /// Each rational's id with its hash.
    rational_table: HashTable<(RationalId, u64)>,
    /// Scratch lists the constructors reuse (see `Pool::with_buffer`).
    factor_buffer: Vec<(ExprId, i32)>,
    term_buffer: Vec<(RationalId, ExprId)>,
    rebuild_factors: Vec<(ExprId, i32)>,
    rebuild_terms: Vec<(RationalId, ExprId)>,
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
            rationals: Vec::new(),
            rational_table: HashTable::new(),
            factor_buffer: Vec::new(),
            term_buffer: Vec::new(),
            rebuild_factors: Vec::new(),
            rebuild_terms: Vec::new(),
            hasher: FxBuildHasher,
        };
        for (n, d) in [(0, 1), (1, 1), (-1, 1)] {
            pool.small_rational(n, d);
        }
        pool.intern(NodeRef::Const(RationalId::ZERO));
        pool.intern(NodeRef::Const(RationalId::ONE));
        pool
    }

    /// The stored node.
    pub fn node(&self, id: ExprId) -> &Node {
        &self.nodes[id.index()]
    }

    /// Every stored node, in id order: tests compare pools with it.
    #[cfg(test)]
    pub(crate) fn nodes(&self) -> &[Node] {
        &self.nodes
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
            Node::Const(value) => Some(self.rational(*value)),
            _ => None,
        }
    }

    /// The value of a stored rational.
    pub fn rational(&self, id: RationalId) -> &BigRational {
        &self.rationals[id.0 as usize].value
    }

    /// The id of a rational, storing it if it is new.
    pub fn rational_id(&mut self, value: BigRational) -> RationalId {
        match ratio::small(&value) {
            Some((n, d)) => self.small_rational(n, d),
            None => {
                let hash = self.hasher.hash_one((value.numer(), value.denom()));
                let rationals = &self.rationals;
                match self
                    .rational_table
                    .find(hash, |&(id, _)| rationals[id.0 as usize].value == value)
                {
                    Some(&(id, _)) => id,
                    None => self.push_rational(hash, value, None),
                }
            }
        }
    }

    /// The id of `n/d`, reduced with `d > 0`.
    fn small_rational(&mut self, n: i64, d: i64) -> RationalId {
        let hash = self.hasher.hash_one((n, d));
        let rationals = &self.rationals;
        match self.rational_table.find(hash, |&(id, _)| {
            rationals[id.0 as usize].small == Some((n, d))
        }) {
            Some(&(id, _)) => id,
            None => {
                let value = BigRational::new_raw(n.into(), d.into());
                self.push_rational(hash, value, Some((n, d)))
            }
        }
    }

    fn push_rational(
        &mut self,
        hash: u64,
        value: BigRational,
        small: Option<(i64, i64)>,
    ) -> RationalId {
        let id =
            RationalId(u32::try_from(self.rationals.len()).expect("fewer than 2^32 rationals"));
        self.rationals.push(StoredRational { value, small });
        self.rational_table
            .insert_unique(hash, (id, hash), |&(_, hash)| hash);
        id
    }

    /// The id of a reduced fraction with a positive denominator.
    fn wide_rational(&mut self, (n, d): (i128, i128)) -> RationalId {
        match (i64::try_from(n), i64::try_from(d)) {
            (Ok(n), Ok(d)) => self.small_rational(n, d),
            _ => self.rational_id(ratio::reduced((n, d))),
        }
    }

    fn small_of(&self, id: RationalId) -> Option<(i64, i64)> {
        self.rationals[id.0 as usize].small
    }

    /// The id of an integer.
    pub fn int_rational(&mut self, value: i64) -> RationalId {
        self.small_rational(value, 1)
    }

    /// `a · b`
    pub fn mul_rational(&mut self, a: RationalId, b: RationalId) -> RationalId {
        if a.is_one() || b.is_zero() {
            return b;
        }
        if b.is_one() || a.is_zero() {
            return a;
        }
        match (self.small_of(a), self.small_of(b)) {
            (Some(a), Some(b)) => self.wide_rational(ratio::mul_parts(a, b)),
            _ => self.rational_id(self.rational(a) * self.rational(b)),
        }
    }

    /// `a + b`
    fn add_rational(&mut self, a: RationalId, b: RationalId) -> RationalId {
        if a.is_zero() {
            return b;
        }
        if b.is_zero() {
            return a;
        }
        match (self.small_of(a), self.small_of(b)) {
            (Some(a), Some(b)) => self.wide_rational(ratio::add_parts(a, b)),
            _ => self.rational_id(self.rational(a) + self.rational(b)),
        }
    }

    /// `a / b`, for `b` not 0.
    fn div_rational(&mut self, a: RationalId, b: RationalId) -> RationalId {
        if b.is_one() {
            return a;
        }
        // 1/b keeps the parts of b (swapped, the sign moved up), unless its numerator is
        // i64::MIN, whose negation does not fit.
        let reciprocal = self.small_of(b).and_then(|(n, d)| {
            if n < 0 {
                Some((-d, n.checked_neg()?))
            } else {
                Some((d, n))
            }
        });
        match (self.small_of(a), reciprocal) {
            (Some(a), Some(reciprocal)) => self.wide_rational(ratio::mul_parts(a, reciprocal)),
            _ => self.rational_id(self.rational(a) / self.rational(b)),
        }
    }

    /// `c^e`
    fn pow_rational(&mut self, c: RationalId, e: i32) -> RationalId {
        match e {
            0 => RationalId::ONE,
            1 => c,
            _ if c.is_one() => c,
            _ => self.rational_id(self.rational(c).pow(e)),
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

    /// The id of a node, storing a copy of it if it is new.
    fn intern(&mut self, node: NodeRef) -> ExprId {
        // Folded, so that every kept bit has some of Fx's best-mixed (high, then rotated) bits.
        let full = self.hasher.hash_one(node);
        let short = (full ^ (full >> 32)) as u32;
        let hash = Pool::spread(short);
        let nodes = &self.nodes;
        if let Some(&(id, _)) = self.table.find(hash, |&(id, kept)| {
            kept == short && nodes[id.index()].as_ref() == node
        }) {
            return id;
        }
        let id = ExprId(u32::try_from(self.nodes.len()).expect("fewer than 2^32 expressions"));
        self.nodes.push(node.to_node());
        self.table
            .insert_unique(hash, (id, short), |&(_, kept)| Pool::spread(kept));
        id
    }

    /// Runs `build` with the cleared scratch list `slot` picks, and puts the list back: the
    /// operands of a node are gathered without allocating each time. A nested use finds the
    /// slot empty and works in a list of its own.
    fn with_buffer<T, R>(
        &mut self,
        slot: fn(&mut Pool) -> &mut Vec<T>,
        build: impl FnOnce(&mut Pool, &mut Vec<T>) -> R,
    ) -> R {
        let mut buffer = std::mem::take(slot(self));
        buffer.clear();
        let result = build(self, &mut buffer);
        *slot(self) = buffer;
        result
    }

    /// A rational constant.
    pub fn constant(&mut self, value: BigRational) -> ExprId {
        let id = self.rational_id(value);
        self.constant_of(id)
    }

    /// The constant with a stored value.
    pub fn constant_of(&mut self, value: RationalId) -> ExprId {
        // 0 and 1 are stored first.
        if value.is_zero() {
            return self.zero();
        }
        if value.is_one() {
            return self.one();
        }
        self.intern(NodeRef::Const(value))
    }

    /// An integer constant.
    pub fn int(&mut self, value: i64) -> ExprId {
        let id = self.int_rational(value);
        self.constant_of(id)
    }

    /// A symbol.
    pub fn sym(&mut self, sym: Sym) -> ExprId {
        self.intern(NodeRef::Sym(sym))
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
        self.scale(a, RationalId::MINUS_ONE)
    }

    /// `a * b`
    pub fn mul2(&mut self, a: ExprId, b: ExprId) -> ExprId {
        self.mul(&[a, b])
    }

    /// `a / b`. The caller makes sure `b` is not the constant 0 (see `Pool::is_zero`).
    pub fn div(&mut self, a: ExprId, b: ExprId) -> ExprId {
        self.product(RationalId::ONE, [(a, 1), (b, -1)])
    }

    /// `base ^ exponent`
    pub fn pow(&mut self, base: ExprId, exponent: i32) -> ExprId {
        self.product(RationalId::ONE, [(base, exponent)])
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
            RationalId::ZERO,
            terms.iter().map(|&t| (RationalId::ONE, t)),
        )
    }

    /// `constant + Σ k_i · t_i`, normalized: like terms collected, zeros dropped.
    pub fn linear(
        &mut self,
        constant: RationalId,
        terms: impl IntoIterator<Item = (RationalId, ExprId)>,
    ) -> ExprId {
        // A lone term k·t is scaled once the list is back (`scale` may build a product).
        let (sum, k) = self.with_buffer(
            |pool| &mut pool.term_buffer,
            |pool, flat| {
                let constant = pool.flatten_sum(constant, terms, flat);
                flat.sort_by_key(|&(_, id)| id);
                // Like terms are adjacent now: merged in place.
                let mut kept: usize = 0;
                for read in 0..flat.len() {
                    let (k, id) = flat[read];
                    match kept.checked_sub(1).map(|last| &mut flat[last]) {
                        Some((total, last)) if *last == id => {
                            *total = pool.add_rational(*total, k);
                        }
                        _ => {
                            flat[kept] = (k, id);
                            kept += 1;
                        }
                    }
                }
                flat.truncate(kept);
                flat.retain(|(k, _)| !k.is_zero());
                match flat.len() {
                    0 => (pool.constant_of(constant), RationalId::ONE),
                    1 if constant.is_zero() => (flat[0].1, flat[0].0),
                    _ => (pool.intern(NodeRef::Add(constant, flat)), RationalId::ONE),
                }
            },
        );
        self.scale(sum, k)
    }

    /// Pushes the terms onto `flat`, sums and numeric products taken apart, and returns the
    /// constant with the constants among the terms added.
    fn flatten_sum(
        &mut self,
        constant: RationalId,
        terms: impl IntoIterator<Item = (RationalId, ExprId)>,
        flat: &mut Vec<(RationalId, ExprId)>,
    ) -> RationalId {
        let mut constant = constant;
        for (k, term) in terms {
            if k.is_zero() {
                continue;
            }
            match self.node(term) {
                &Node::Const(c) => {
                    let scaled = self.mul_rational(c, k);
                    constant = self.add_rational(constant, scaled);
                }
                Node::Add(c, inner) if k.is_one() => {
                    let c = *c;
                    flat.extend_from_slice(inner);
                    constant = self.add_rational(constant, c);
                }
                Node::Add(c, inner) => {
                    let (c, inner) = (*c, inner.clone());
                    let scaled = self.mul_rational(c, k);
                    constant = self.add_rational(constant, scaled);
                    for &(k2, t) in inner.iter() {
                        let k2 = self.mul_rational(k2, k);
                        flat.push((k2, t));
                    }
                }
                Node::Mul(c, factors) if !c.is_one() && !has_zero_base(self, factors) => {
                    let (c, factors) = (*c, factors.clone());
                    let coefficient = self.mul_rational(c, k);
                    let monomial = self.monomial(&factors);
                    flat.push((coefficient, monomial));
                }
                _ => flat.push((k, term)),
            }
        }
        constant
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
        // Two distinct factors that normalizing leaves alone (the chain rule's ∂L/∂c · w, a
        // layer's w·x) are their product as they stand, in id order.
        if let [a, b] = *factors
            && a != b
            && self.is_plain_factor(a)
            && self.is_plain_factor(b)
        {
            return self.intern(NodeRef::Mul(
                RationalId::ONE,
                &[(a.min(b), 1), (a.max(b), 1)],
            ));
        }
        self.product(RationalId::ONE, factors.iter().map(|&f| (f, 1)))
    }

    /// Whether `id` stands in a product as it is: a symbol, a call or a primitive sum (not a
    /// constant, folded into the coefficient, nor a product, taken apart).
    fn is_plain_factor(&self, id: ExprId) -> bool {
        match self.node(id) {
            Node::Sym(_) | Node::Apply(..) => true,
            Node::Add(..) => self.is_unit_product(id),
            Node::Const(_) | Node::Mul(..) => false,
        }
    }

    /// `coefficient · Π base_i ^ e_i`, normalized: constants folded, equal bases merged.
    pub fn product(
        &mut self,
        coefficient: RationalId,
        factors: impl IntoIterator<Item = (ExprId, i32)>,
    ) -> ExprId {
        // A lone sum takes the coefficient once the list is back (`scale` distributes it).
        let (product, k) = self.with_buffer(
            |pool| &mut pool.factor_buffer,
            |pool, flat| {
                let coefficient = pool.flatten_product(coefficient, factors, flat);
                flat.sort_by_key(|&(id, _)| id);
                flat.dedup_by(|(id, e), (last, total)| {
                    let same = id == last;
                    if same {
                        *total = total.saturating_add(*e);
                    }
                    same
                });
                flat.retain(|&(_, e)| e != 0);
                let undefined = has_zero_base(pool, flat);
                if coefficient.is_zero() && !undefined {
                    return (pool.zero(), RationalId::ONE);
                }
                match flat.as_slice() {
                    [] => (pool.constant_of(coefficient), RationalId::ONE),
                    [(base, 1)] if coefficient.is_one() => (*base, RationalId::ONE),
                    [(base, 1)] if matches!(pool.node(*base), Node::Add(..)) => {
                        (*base, coefficient)
                    }
                    _ => (
                        pool.intern(NodeRef::Mul(coefficient, flat)),
                        RationalId::ONE,
                    ),
                }
            },
        );
        self.scale(product, k)
    }

    /// Pushes the factors onto `flat`, constants folded into the coefficient, products taken
    /// apart and sums made primitive; returns the coefficient.
    fn flatten_product(
        &mut self,
        coefficient: RationalId,
        factors: impl IntoIterator<Item = (ExprId, i32)>,
        flat: &mut Vec<(ExprId, i32)>,
    ) -> RationalId {
        let mut coefficient = coefficient;
        for (base, exponent) in factors {
            if exponent == 0 {
                continue;
            }
            match self.node(base) {
                &Node::Const(c) => self.fold_power(&mut coefficient, flat, c, exponent),
                Node::Mul(c, inner) => {
                    let c = *c;
                    flat.extend(inner.iter().map(|&(b, e)| (b, e.saturating_mul(exponent))));
                    self.fold_power(&mut coefficient, flat, c, exponent);
                }
                Node::Add(c, terms) => {
                    // A sum inside a product is kept primitive (its content moved to the
                    // coefficient), so 2(1 + x)y and (2 + 2x)y are one expression whatever the
                    // order of multiplication.
                    let content = if c.is_zero() { terms[0].0 } else { *c };
                    if content.is_one() {
                        flat.push((base, exponent));
                    } else {
                        let (c, terms) = (*c, terms.clone());
                        let c = self.div_rational(c, content);
                        let primitive = self.with_buffer(
                            |pool| &mut pool.term_buffer,
                            |pool, primitive| {
                                for &(k, t) in terms.iter() {
                                    primitive.push((pool.div_rational(k, content), t));
                                }
                                pool.intern(NodeRef::Add(c, primitive))
                            },
                        );
                        let power = self.pow_rational(content, exponent);
                        coefficient = self.mul_rational(coefficient, power);
                        flat.push((primitive, exponent));
                    }
                }
                _ => flat.push((base, exponent)),
            }
        }
        coefficient
    }

    /// Multiplies `c^exponent` into the coefficient, or keeps `0^exponent` as a factor when the
    /// exponent is negative (a quotient by zero, for evaluation to report).
    fn fold_power(
        &mut self,
        coefficient: &mut RationalId,
        factors: &mut Vec<(ExprId, i32)>,
        c: RationalId,
        exponent: i32,
    ) {
        if c.is_zero() && exponent < 0 {
            factors.push((self.zero(), exponent));
        } else {
            let power = self.pow_rational(c, exponent);
            *coefficient = self.mul_rational(*coefficient, power);
        }
    }

    /// `k · e`, distributing a numeric factor over a sum.
    pub fn scale(&mut self, id: ExprId, k: RationalId) -> ExprId {
        if k.is_one() {
            return id;
        }
        if k.is_zero() {
            return self.zero();
        }
        match self.node(id) {
            &Node::Const(c) => {
                let value = self.mul_rational(c, k);
                self.constant_of(value)
            }
            Node::Add(c, terms) => {
                let (c, terms) = (*c, terms.clone());
                let constant = self.mul_rational(c, k);
                self.with_buffer(
                    |pool| &mut pool.term_buffer,
                    |pool, scaled| {
                        for &(t, id) in terms.iter() {
                            scaled.push((pool.mul_rational(t, k), id));
                        }
                        pool.intern(NodeRef::Add(constant, scaled))
                    },
                )
            }
            Node::Mul(c, factors) if !has_zero_base(self, factors) => {
                let (c, factors) = (*c, factors.clone());
                let coefficient = self.mul_rational(c, k);
                self.product(coefficient, factors.iter().copied())
            }
            _ => self.intern(NodeRef::Mul(k, &[(id, 1)])),
        }
    }

    /// The coefficient-1 product of already normalized factors.
    fn monomial(&mut self, factors: &[(ExprId, i32)]) -> ExprId {
        match *factors {
            [(base, 1)] => base,
            _ => self.intern(NodeRef::Mul(RationalId::ONE, factors)),
        }
    }

    /// `f(args)`, folding what is exactly known: identity, and constant arguments whose value is
    /// rational (σ(0) = 1/2, tanh 0 = 0, e^0 = 1, log 1 = 0, ReLU and step of a constant).
    pub fn apply(&mut self, func: Func, args: &[ExprId]) -> ExprId {
        if matches!(func, Func::LeakyRelu) && args.len() == 1 {
            let (n, d) = DEFAULT_LEAKY_SLOPE;
            let slope = self.constant(BigRational::new(n.into(), d.into()));
            return self.apply(func, &[args[0], slope]);
        }
        if let Some(folded) = self.fold(func, args) {
            return folded;
        }
        self.intern(NodeRef::Apply(func, args))
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
        // A symbol is one node of the pool, so visiting each node once finds it once.
        self.walk(id, |_, node| {
            if let Node::Sym(sym) = node {
                found.push(*sym);
            }
        });
        found
    }

    /// Visits each subexpression of `id` once, where a depth-first walk in stored order first
    /// reaches it.
    pub fn walk(&self, id: ExprId, mut visit: impl FnMut(ExprId, &Node)) {
        let mut stack = vec![id];
        let mut visited = rustc_hash::FxHashSet::default();
        while let Some(id) = stack.pop() {
            if !visited.insert(id) {
                continue;
            }
            visit(id, self.node(id));
            stack.extend(self.child_ids(id).rev());
        }
    }

    /// The children of a node, in stored order.
    pub fn children(&self, id: ExprId) -> Vec<ExprId> {
        self.child_ids(id).collect()
    }

    /// The children of a node, in stored order, without collecting them.
    fn child_ids(&self, id: ExprId) -> impl DoubleEndedIterator<Item = ExprId> + '_ {
        let (terms, factors, args): Operands = match self.node(id) {
            Node::Const(_) | Node::Sym(_) => (&[], &[], &[]),
            Node::Add(_, terms) => (terms, &[], &[]),
            Node::Mul(_, factors) => (&[], factors, &[]),
            Node::Apply(_, args) => (&[], &[], args),
        };
        let terms = terms.iter().map(|&(_, t)| t);
        terms
            .chain(factors.iter().map(|&(b, _)| b))
            .chain(args.iter().copied())
    }

    /// Rebuilds `id` with `replace` applied to every subexpression, outermost first: where it
    /// returns `Some(new)`, `new` stands in and is not visited further. Memoized per call.
    pub fn rewrite(
        &mut self,
        id: ExprId,
        replace: &mut dyn FnMut(&Pool, ExprId) -> Option<ExprId>,
        memo: &mut rustc_hash::FxHashMap<ExprId, ExprId>,
    ) -> ExprId {
        self.rewrite_on(id, replace, memo, &mut Vec::new())
    }

    /// `rewrite`, with the children of the nodes being rebuilt and their results on `stack`
    /// (each call pushes its own and takes them off again), so that no node allocates lists.
    fn rewrite_on(
        &mut self,
        id: ExprId,
        replace: &mut dyn FnMut(&Pool, ExprId) -> Option<ExprId>,
        memo: &mut rustc_hash::FxHashMap<ExprId, ExprId>,
        stack: &mut Vec<ExprId>,
    ) -> ExprId {
        if let Some(&done) = memo.get(&id) {
            return done;
        }
        if let Some(new) = replace(self, id) {
            memo.insert(id, new);
            return new;
        }
        let start = stack.len();
        stack.extend(self.child_ids(id));
        let n_children = stack.len() - start;
        if n_children == 0 {
            // A leaf `replace` keeps is itself: asking again costs no more than the memo would.
            return id;
        }
        let mut changed = false;
        for child_idx in start..start + n_children {
            let child = stack[child_idx];
            let new = self.rewrite_on(child, replace, memo, stack);
            changed |= new != child;
            stack.push(new);
        }
        let result = if !changed && self.is_fixed(id) {
            id
        } else {
            self.rebuild(id, &stack[start + n_children..])
        };
        stack.truncate(start);
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
        match self.node(id) {
            Node::Const(_) | Node::Sym(_) => id,
            &Node::Add(c, _) => self.with_buffer(
                |pool| &mut pool.rebuild_terms,
                |pool, terms| {
                    let Node::Add(_, old) = pool.node(id) else {
                        unreachable!("matched a sum")
                    };
                    terms.extend(old.iter().zip(children).map(|(&(k, _), &t)| (k, t)));
                    pool.linear(c, terms.iter().copied())
                },
            ),
            &Node::Mul(c, _) => self.with_buffer(
                |pool| &mut pool.rebuild_factors,
                |pool, factors| {
                    let Node::Mul(_, old) = pool.node(id) else {
                        unreachable!("matched a product")
                    };
                    factors.extend(old.iter().zip(children).map(|(&(_, e), &b)| (b, e)));
                    pool.product(c, factors.iter().copied())
                },
            ),
            &Node::Apply(func, _) => self.apply(func, children),
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
        let size = self.child_ids(id).fold(1u64, |total, child| {
            total.saturating_add(self.tree_size(child, memo))
        });
        memo.insert(id, size);
        size
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
                5 => {
                    let k = pool.rational_id(k);
                    pool.scale(a, k)
                }
                6 => {
                    let (k, half) = (pool.rational_id(k), pool.rational_id(q(1, 2)));
                    pool.linear(k, [(k, a), (half, b)])
                }
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
    fn a_stored_node_is_found_from_its_borrowed_form() {
        for seed in 0..5 {
            let mut pool = random_pool(seed, 300);
            let stored = pool.len();
            for index in 0..stored {
                let id = ExprId(index as u32);
                let node = pool.node(id).clone();
                assert_eq!(
                    pool.hasher.hash_one(&node),
                    pool.hasher.hash_one(node.as_ref())
                );
                assert_eq!(pool.intern(node.as_ref()), id, "{node:?}");
            }
            assert_eq!(pool.len(), stored, "finding stores nothing");
        }
    }

    #[test]
    fn shortcuts_of_add_and_mul_agree_with_the_general_path() {
        let general_add = |pool: &mut Pool, terms: &[ExprId]| {
            pool.linear(
                RationalId::ZERO,
                terms.iter().map(|&t| (RationalId::ONE, t)),
            )
        };
        let general_mul = |pool: &mut Pool, factors: &[ExprId]| {
            pool.product(RationalId::ONE, factors.iter().map(|&f| (f, 1)))
        };
        for seed in 0..5 {
            let pool = random_pool(seed, 200);
            let (zero, one) = (pool.zero(), pool.one());
            for index in 0..pool.len() {
                let id = ExprId(index as u32);
                let other = ExprId(((index * 7 + 3) % pool.len()) as u32);
                for operands in [
                    vec![id],
                    vec![zero, id],
                    vec![id, one],
                    vec![one, one],
                    vec![],
                    vec![id, id],
                    vec![id, other],
                    vec![other, id],
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
        let two = pool.int_rational(2);
        let scaled = pool.scale(quotient, two);
        assert!(!pool.is_fixed(scaled));
        assert_ne!(pool.rebuild(scaled, &[quotient]), scaled);
    }

    #[test]
    fn equal_rationals_have_one_id() {
        let mut pool = Pool::new();
        let half = pool.rational_id(q(1, 2));
        assert_eq!(pool.rational_id(q(2, 4)), half);
        assert_eq!(pool.rational_id(q(-3, -6)), half);
        assert_ne!(pool.rational_id(q(-1, 2)), half);
        assert_eq!(pool.rational_id(q(0, 5)), RationalId::ZERO);
        assert_eq!(pool.rational_id(q(7, 7)), RationalId::ONE);
        assert_eq!(pool.rational_id(q(3, -3)), RationalId::MINUS_ONE);
        // Nodes over equal rationals are one node, whichever way the value was made.
        let x = value(&mut pool, 0);
        let sixth = pool.constant(q(1, 6));
        let third = pool.add2(sixth, sixth);
        assert_eq!(third, pool.constant(q(2, 6)));
        let (four_sixths, two_thirds) = (pool.rational_id(q(4, 6)), pool.rational_id(q(2, 3)));
        assert_eq!(pool.scale(x, four_sixths), pool.scale(x, two_thirds));
        // Beyond an i64, on either side of the boundary, and negative.
        let (max, min) = (q(i64::MAX, 1), q(i64::MIN, 1));
        let one = BigRational::one();
        for value in [
            &max + &one,
            -(&max + &one),
            &min - &one,
            max.clone(),
            min.clone(),
            max.recip(),
            (&min - &one).recip(),
        ] {
            let id = pool.rational_id(value.clone());
            assert_eq!(pool.rational(id), &value);
            assert_eq!(pool.rational_id(value), id);
        }
    }

    #[test]
    fn rational_arithmetic_agrees_with_big_rational() {
        let values = ratio::tests::samples();
        let mut pool = Pool::new();
        let ids: Vec<RationalId> = values.iter().map(|v| pool.rational_id(v.clone())).collect();
        // A sparser grid than `ratio`'s own test: it still pairs every kind of boundary value.
        for (a, &a_id) in values.iter().zip(&ids).step_by(3) {
            for (b, &b_id) in values.iter().zip(&ids).step_by(11) {
                // The same value, and the same id as storing the value directly: one id per value
                // whether the fast path or `BigRational` made it, and however it overflowed.
                let product = pool.mul_rational(a_id, b_id);
                assert_eq!(pool.rational(product), &(a * b), "{a} · {b}");
                assert_eq!(product, pool.rational_id(a * b));
                let sum = pool.add_rational(a_id, b_id);
                assert_eq!(pool.rational(sum), &(a + b), "{a} + {b}");
                assert_eq!(sum, pool.rational_id(a + b));
                if !b.is_zero() {
                    let quotient = pool.div_rational(a_id, b_id);
                    assert_eq!(pool.rational(quotient), &(a / b), "{a} / {b}");
                    assert_eq!(quotient, pool.rational_id(a / b));
                }
            }
            for e in [-3, -1, 0, 1, 2, 5] {
                if !(a.is_zero() && e < 0) {
                    let power = pool.pow_rational(a_id, e);
                    assert_eq!(pool.rational(power), &a.pow(e), "{a}^{e}");
                    assert_eq!(power, pool.rational_id(a.pow(e)));
                }
            }
        }
        // Every stored value is reduced with a positive denominator, and its machine-integer
        // form is there exactly when both parts fit.
        for stored in &pool.rationals {
            assert_eq!(stored.value, stored.value.reduced());
            assert!(stored.value.denom().is_positive());
            assert_eq!(stored.small, ratio::small(&stored.value));
        }
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
