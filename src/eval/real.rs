//! A real value as bpsheet computes it: the exact rational when the value is rational and known
//! to be, and always a rigorous enclosure at the working precision.
//!
//! Arithmetic keeps exactness as long as it can (rational inputs, rational operations, and the
//! functions at the points where they are rational: σ(0) = 1/2, e^0 = 1, ReLU anywhere), and a
//! product with an exact zero is an exact zero whatever the other factor, so a zero input gives
//! exactly zero gradients.

use num_integer::Integer;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};

use std::sync::{Arc, OnceLock};

use super::decimal::Decimal;
use super::interval::{DomainError, Interval};
use super::numeric::Rounding;
use crate::func::Func;
use crate::symbolic::expr::{ExprId, Node, Pool, Sym, step};
use crate::symbolic::ratio;

/// An exact-or-enclosed real.
#[derive(Clone, Debug)]
pub struct Real {
    value: Value,
    /// The correctly rounded value under the first rounding it was decided for (`decide`
    /// rounds every value, and the report rounds the same values again).
    rounded: OnceLock<Box<(Rounding, Decimal)>>,
}

/// Most values of a network are enclosures (everything past the first activation); the exact
/// ones (inputs, weights, the first layer's sums) are behind a pointer, so that an enclosed value
/// costs an interval and no more: a network's memo and values hold hundreds of thousands of
/// them. Shared, because every use of a declared value clones it: a clone is then a count, not
/// a fraction's digits, and its enclosure is made once for all of them.
#[derive(Clone, Debug)]
enum Value {
    Exact(Arc<Exact>),
    Enclosed(Interval),
}

#[derive(Clone, Debug)]
struct Exact {
    value: BigRational,
    /// Computed on first use (most exact intermediates never need one, and making it costs a
    /// division).
    enclosure: OnceLock<Interval>,
    /// The precision of the enclosure.
    prec: u32,
}

/// Why a value could not be computed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EvalError {
    /// A divisor is zero at this point.
    DivisionByZero(ExprId),
    /// `log` of a value that is not positive.
    LogOfNonPositive(ExprId),
    /// `exp` of a value too large to represent.
    Overflow(ExprId),
    /// The sign of a value (a divisor, a ReLU argument) is not decided at this precision.
    Undecided(ExprId),
    /// A symbol without a value.
    Unbound(Sym),
}

impl Real {
    /// An exact rational.
    pub fn exact(value: BigRational, prec: u32) -> Real {
        Real {
            value: Value::Exact(Arc::new(Exact {
                value,
                enclosure: OnceLock::new(),
                prec,
            })),
            rounded: OnceLock::new(),
        }
    }

    /// A value known only by its enclosure.
    pub fn enclosed(enclosure: Interval) -> Real {
        Real {
            value: Value::Enclosed(enclosure),
            rounded: OnceLock::new(),
        }
    }

    /// The exact value, when it is rational.
    pub fn as_exact(&self) -> Option<&BigRational> {
        match &self.value {
            Value::Exact(exact) => Some(&exact.value),
            Value::Enclosed(_) => None,
        }
    }

    /// An interval containing the value.
    pub fn enclosure(&self) -> &Interval {
        match &self.value {
            Value::Exact(exact) => exact
                .enclosure
                .get_or_init(|| Interval::from_rational(&exact.value, exact.prec)),
            Value::Enclosed(enclosure) => enclosure,
        }
    }

    /// The value's rounding under `rounding`, if it was decided before.
    pub fn rounded(&self, rounding: Rounding) -> Option<&Decimal> {
        self.rounded
            .get()
            .filter(|cached| cached.0 == rounding)
            .map(|cached| &cached.1)
    }

    /// Remembers a decided rounding (only the first one: a value is printed under one).
    pub(super) fn remember_rounded(&self, rounding: Rounding, decimal: Decimal) {
        if self.rounded.get().is_none() {
            let _ = self.rounded.set(Box::new((rounding, decimal)));
        }
    }

    /// Whether the value is exactly zero.
    pub fn is_exact_zero(&self) -> bool {
        self.as_exact().is_some_and(Zero::is_zero)
    }

    /// `self + other`
    pub fn add(&self, other: &Real, prec: u32) -> Real {
        match (self.as_exact(), other.as_exact()) {
            (Some(a), Some(b)) => Real::exact(ratio::add(a, b), prec),
            _ => Real::enclosed(self.enclosure().add(other.enclosure(), prec)),
        }
    }

    /// `self - other`
    pub fn sub(&self, other: &Real, prec: u32) -> Real {
        self.add(&other.neg(), prec)
    }

    /// `-self`
    pub fn neg(&self) -> Real {
        match &self.value {
            Value::Exact(exact) => Real::exact(-&exact.value, exact.prec),
            Value::Enclosed(enclosure) => Real::enclosed(-enclosure),
        }
    }

    /// `self · other`; fails only when a bound leaves the representable range.
    pub fn mul(&self, other: &Real, prec: u32) -> Result<Real, DomainError> {
        Ok(match (self.as_exact(), other.as_exact()) {
            (Some(a), Some(b)) => Real::exact(ratio::mul(a, b), prec),
            (Some(z), _) | (_, Some(z)) if z.is_zero() => Real::exact(BigRational::zero(), prec),
            _ => Real::enclosed(self.enclosure().mul(other.enclosure(), prec)?),
        })
    }

    /// `k · self` for a rational k.
    pub fn scale(&self, k: &BigRational, prec: u32) -> Result<Real, DomainError> {
        self.mul(&Real::exact(k.clone(), prec), prec)
    }

    /// `self ^ n`; `at` names the expression for errors.
    pub fn powi(&self, n: i32, prec: u32, at: ExprId) -> Result<Real, EvalError> {
        if n < 0 {
            self.check_nonzero(at)?;
        }
        if let Some(value) = self.as_exact() {
            return Ok(Real::exact(value.pow(n), prec));
        }
        self.enclosure()
            .powi(i64::from(n), prec)
            .map(Real::enclosed)
            .map_err(|e| domain_error(e, at))
    }

    fn check_nonzero(&self, at: ExprId) -> Result<(), EvalError> {
        match self.as_exact() {
            Some(value) if value.is_zero() => Err(EvalError::DivisionByZero(at)),
            Some(_) => Ok(()),
            None if self.enclosure().contains_zero() => Err(EvalError::Undecided(at)),
            None => Ok(()),
        }
    }

    /// The sign of the value, when decided at this precision.
    fn sign(&self, at: ExprId) -> Result<i8, EvalError> {
        match self.as_exact() {
            Some(value) if value.is_positive() => Ok(1),
            Some(value) if value.is_negative() => Ok(-1),
            Some(_) => Ok(0),
            None if self.enclosure().is_positive() => Ok(1),
            None if self.enclosure().is_negative() => Ok(-1),
            None => Err(EvalError::Undecided(at)),
        }
    }

    /// `func(args)`.
    pub fn apply(func: Func, args: &[Real], prec: u32, at: ExprId) -> Result<Real, EvalError> {
        let x = &args[0];
        let is_zero = x.is_exact_zero();
        let is_one = x.as_exact().is_some_and(One::is_one);
        let rational = |value: BigRational| Ok(Real::exact(value, prec));
        let enclosed = |result: Result<Interval, DomainError>| {
            result.map(Real::enclosed).map_err(|e| domain_error(e, at))
        };
        match func {
            Func::Identity => Ok(x.clone()),
            Func::Sigmoid if is_zero => rational(BigRational::new(1.into(), 2.into())),
            Func::Sigmoid => enclosed(x.enclosure().sigmoid(prec)),
            Func::Tanh if is_zero => rational(BigRational::zero()),
            Func::Tanh => enclosed(x.enclosure().tanh(prec)),
            Func::Exp if is_zero => rational(BigRational::one()),
            Func::Exp => enclosed(x.enclosure().exp(prec)),
            Func::Softplus => enclosed(x.enclosure().softplus(prec)),
            Func::Log => {
                if x.sign(at)? <= 0 {
                    return Err(EvalError::LogOfNonPositive(at));
                }
                if is_one {
                    return rational(BigRational::zero());
                }
                enclosed(x.enclosure().ln(prec))
            }
            Func::Relu => Ok(if x.sign(at)? > 0 {
                x.clone()
            } else {
                Real::exact(BigRational::zero(), prec)
            }),
            Func::Step => rational(step(&BigRational::from_integer(x.sign(at)?.into()))),
            Func::LeakyRelu => {
                if x.sign(at)? > 0 {
                    Ok(x.clone())
                } else {
                    x.mul(&args[1], prec).map_err(|e| domain_error(e, at))
                }
            }
            Func::LeakyStep => {
                if x.sign(at)? > 0 {
                    rational(BigRational::one())
                } else {
                    Ok(args[1].clone())
                }
            }
            Func::Softmax(i) => softmax(args, i as usize, prec, at),
        }
    }
}

/// softmax_i(z) = 1 / Σ_j e^(z_j − z_i): one exponential of a difference per term, which keeps
/// the enclosure tight when the z are large.
fn softmax(args: &[Real], i: usize, prec: u32, at: ExprId) -> Result<Real, EvalError> {
    if args
        .iter()
        .all(|z| z.as_exact().is_some() && z.as_exact() == args[0].as_exact())
    {
        return Ok(Real::exact(
            BigRational::new(1.into(), (args.len() as i64).into()),
            prec,
        ));
    }
    let mut total = Real::exact(BigRational::zero(), prec);
    for (j, z) in args.iter().enumerate() {
        let term = if j == i {
            Real::exact(BigRational::one(), prec)
        } else {
            let difference = z.sub(&args[i], prec);
            match difference.as_exact() {
                Some(d) if d.is_zero() => Real::exact(BigRational::one(), prec),
                _ => Real::enclosed(
                    difference
                        .enclosure()
                        .exp(prec)
                        .map_err(|e| domain_error(e, at))?,
                ),
            }
        };
        total = total.add(&term, prec);
    }
    total.powi(-1, prec, at)
}

/// The running total of a sum, the terms added in order as one `Real::add` after another
/// would (the same exact value, then the same bounds from the first enclosed term on), but
/// exact in machine integers while the terms are short fractions: a first layer's sums are
/// sums of products of decimal literals, which would otherwise make and reduce a `BigRational`
/// at every term.
enum Total {
    /// No term yet.
    Empty,
    /// `numerator / denominator` (positive, not reduced).
    Small(i128, i128),
    /// Too long for machine integers.
    Exact(BigRational),
    /// From the first enclosed term on.
    Enclosed(Real),
}

impl Total {
    fn add(self, term: &Real, prec: u32) -> Total {
        match (self, term.as_exact()) {
            (Total::Enclosed(total), _) => Total::Enclosed(total.add(term, prec)),
            (Total::Empty, None) => Total::Enclosed(term.clone()),
            (total, Some(q)) => total.add_exact(q),
            (total, None) => {
                let exact = Real::exact(total.rational().expect("the total is exact"), prec);
                Total::Enclosed(exact.add(term, prec))
            }
        }
    }

    /// `self + q`, for a total that is not enclosed.
    fn add_exact(self, q: &BigRational) -> Total {
        let small = |q: &BigRational| Some((q.numer().to_i64()?, q.denom().to_i64()?));
        match (self, small(q)) {
            (Total::Empty, Some((n, d))) => Total::Small(n.into(), d.into()),
            (Total::Small(n, d), Some((qn, qd))) => {
                let (qn, qd) = (i128::from(qn), i128::from(qd));
                let sum = if d % qd == 0 {
                    qn.checked_mul(d / qd)
                        .and_then(|qn| n.checked_add(qn))
                        .map(|n| (n, d))
                } else {
                    // Reduced first, so that denominators stay small across many terms.
                    let g = d.unsigned_abs().gcd(&n.unsigned_abs()) as i128;
                    let (n, d) = (n / g, d / g);
                    n.checked_mul(qd)
                        .zip(qn.checked_mul(d))
                        .and_then(|(a, b)| a.checked_add(b))
                        .zip(d.checked_mul(qd))
                };
                match sum {
                    Some((n, d)) => Total::Small(n, d),
                    None => Total::Exact(ratio::add(&small_rational(n, d), q)),
                }
            }
            (Total::Empty, None) => Total::Exact(q.clone()),
            (total, _) => {
                let sum = ratio::add(&total.rational().expect("the total is exact"), q);
                Total::Exact(sum)
            }
        }
    }

    /// The exact total (0 when empty), unless it is enclosed.
    fn rational(self) -> Option<BigRational> {
        match self {
            Total::Empty => Some(BigRational::zero()),
            Total::Small(n, d) => Some(small_rational(n, d)),
            Total::Exact(q) => Some(q),
            Total::Enclosed(_) => None,
        }
    }

    fn finish(self, prec: u32) -> Real {
        match self {
            Total::Enclosed(total) => total,
            exact => Real::exact(exact.rational().expect("the total is exact"), prec),
        }
    }
}

/// `n/d` (`d > 0`) reduced.
fn small_rational(n: i128, d: i128) -> BigRational {
    let g = d.unsigned_abs().gcd(&n.unsigned_abs()) as i128;
    BigRational::new_raw((n / g).into(), (d / g).into())
}

/// The evaluation error for a domain error at `at`.
pub fn domain_error(error: DomainError, at: ExprId) -> EvalError {
    match error {
        DomainError::DivisionByZero => EvalError::Undecided(at),
        DomainError::LogOfNonPositive => EvalError::LogOfNonPositive(at),
        DomainError::Overflow => EvalError::Overflow(at),
    }
}

/// Calls `f` on each child of `id`, in stored order (`Pool::children` without a vector).
pub fn for_each_child(pool: &Pool, id: ExprId, mut f: impl FnMut(ExprId)) {
    match pool.node(id) {
        Node::Const(_) | Node::Sym(_) => {}
        Node::Add(_, terms) => terms.iter().for_each(|&(_, term)| f(term)),
        Node::Mul(_, factors) => factors.iter().for_each(|&(base, _)| f(base)),
        Node::Apply(_, args) => args.iter().for_each(|&arg| f(arg)),
    }
}

/// How many parents each expression has among the expressions reachable from some roots: 0, 1
/// or 2 (for two or more).
pub struct Uses(Vec<u8>);

impl Uses {
    /// Counts the parents of every expression reachable from `roots`.
    pub fn count(pool: &Pool, roots: impl IntoIterator<Item = ExprId>) -> Uses {
        let mut uses = vec![0u8; pool.len()];
        let mut seen = vec![false; pool.len()];
        let mut stack: Vec<ExprId> = Vec::new();
        let mut visit = |id: ExprId, stack: &mut Vec<ExprId>| {
            if !std::mem::replace(&mut seen[id.index()], true) {
                stack.push(id);
            }
        };
        for root in roots {
            visit(root, &mut stack);
        }
        while let Some(id) = stack.pop() {
            let mut used = |child: ExprId| {
                let count = &mut uses[child.index()];
                *count = (*count + 1).min(2);
                visit(child, &mut stack);
            };
            for_each_child(pool, id, &mut used);
        }
        Uses(uses)
    }

    /// How many expressions have two or more parents.
    pub fn shared(&self) -> usize {
        self.0.iter().filter(|&&n| n >= 2).count()
    }
}

/// Evaluates pool expressions at one precision under one assignment of symbols, memoizing
/// subexpressions (so shared subexpressions are computed once, and a rational operand's
/// enclosure is made once however often it is used).
pub struct Evaluator<'a> {
    pool: &'a Pool,
    prec: u32,
    /// With counts, only expressions with two or more parents are memoized: a value with one
    /// user lives on `scratch` until that user is computed (most of a network's expressions are
    /// such terms, `w·a` of a sum). Without, every value is.
    uses: Option<&'a Uses>,
    /// Indexed by `ExprId`: where in `values` its value is (`UNSET` before it is computed).
    /// Dense, because an evaluation visits much of the pool; the values themselves are stored
    /// apart so that the unvisited part costs four bytes an expression.
    slots: Vec<u32>,
    values: Vec<Real>,
    /// Operand values not memoized, while their user is being computed (a stack).
    scratch: Vec<Real>,
    /// Where the operands of the expressions being computed are (a stack).
    operands: Vec<Held>,
}

/// Where a computed value is.
#[derive(Clone, Copy)]
enum Held {
    /// `values[i]`.
    Memo(u32),
    /// `scratch[i]`.
    Scratch(u32),
}

const UNSET: u32 = u32::MAX;

impl<'a> Evaluator<'a> {
    /// An evaluator that memoizes every value.
    pub fn new(pool: &'a Pool, prec: u32) -> Evaluator<'a> {
        Evaluator::with_uses(pool, prec, None, 0)
    }

    /// An evaluator that memoizes only the values `uses` counts two or more parents for (all
    /// without `uses`), with room for `values` memoized values: a memo grown by doubling copies
    /// every value it holds each time.
    pub fn with_uses(
        pool: &'a Pool,
        prec: u32,
        uses: Option<&'a Uses>,
        values: usize,
    ) -> Evaluator<'a> {
        Evaluator {
            pool,
            prec,
            uses,
            slots: vec![UNSET; pool.len()],
            values: Vec::with_capacity(values),
            scratch: Vec::new(),
            operands: Vec::new(),
        }
    }

    /// Forgets every value (for a new binding of the symbols), keeping the memory: a second
    /// evaluator would grow its memo again, copying it and faulting in fresh pages each time.
    pub fn reset(&mut self) {
        self.slots.fill(UNSET);
        self.values.clear();
    }

    /// The working precision in bits.
    pub fn prec(&self) -> u32 {
        self.prec
    }

    /// The value of `id`, symbols given by `bind`. The binding must not change between calls on
    /// one evaluator for symbols already used (the memo assumes it).
    pub fn eval(
        &mut self,
        id: ExprId,
        bind: &dyn Fn(Sym) -> Option<Real>,
    ) -> Result<Real, EvalError> {
        let held = self.ensure(id, bind);
        // After an error, operands of unfinished expressions are left on the stacks.
        let value = match held {
            Ok(Held::Memo(i)) => Ok(self.values[i as usize].clone()),
            Ok(Held::Scratch(_)) => Ok(self.scratch.pop().expect("the value is on top")),
            Err(error) => Err(error),
        };
        self.scratch.clear();
        self.operands.clear();
        value
    }

    fn get(&self, held: Held) -> &Real {
        match held {
            Held::Memo(i) => &self.values[i as usize],
            Held::Scratch(i) => &self.scratch[i as usize],
        }
    }

    /// Evaluates `id` (operands first) into the memo, or onto `scratch` if it has one parent.
    fn ensure(
        &mut self,
        id: ExprId,
        bind: &dyn Fn(Sym) -> Option<Real>,
    ) -> Result<Held, EvalError> {
        let slot = self.slots[id.index()];
        if slot != UNSET {
            return Ok(Held::Memo(slot));
        }
        let value = self.compute(id, bind)?;
        let index = |len: usize| u32::try_from(len).expect("a pool has < 2^32 nodes");
        Ok(if self.uses.is_none_or(|uses| uses.0[id.index()] >= 2) {
            let slot = index(self.values.len());
            self.slots[id.index()] = slot;
            self.values.push(value);
            Held::Memo(slot)
        } else {
            self.scratch.push(value);
            Held::Scratch(index(self.scratch.len() - 1))
        })
    }

    /// The value of `id`: its operands are computed onto the stacks, combined, and popped.
    fn compute(
        &mut self,
        id: ExprId,
        bind: &dyn Fn(Sym) -> Option<Real>,
    ) -> Result<Real, EvalError> {
        let prec = self.prec;
        let pool = self.pool;
        let (scratch, operands) = (self.scratch.len(), self.operands.len());
        let value = match pool.node(id) {
            Node::Const(value) => Real::exact(pool.rational(*value).clone(), prec),
            Node::Sym(sym) => bind(*sym).ok_or(EvalError::Unbound(*sym))?,
            Node::Add(constant, terms) => {
                let constant = pool.rational(*constant);
                for (_, term) in terms.iter() {
                    let held = self.ensure(*term, bind)?;
                    self.operands.push(held);
                }
                // No `0 +` and no `1 ·`: each would cost an enclosure of the constant and an
                // interval operation that changes nothing.
                let mut total = if constant.is_zero() {
                    Total::Empty
                } else {
                    Total::Empty.add_exact(constant)
                };
                for ((k, term), &held) in terms.iter().zip(&self.operands[operands..]) {
                    let value = self.get(held);
                    let scaled;
                    let scaled = if k.is_one() {
                        value
                    } else {
                        scaled = value
                            .scale(pool.rational(*k), prec)
                            .map_err(|e| domain_error(e, *term))?;
                        &scaled
                    };
                    total = total.add(scaled, prec);
                }
                total.finish(prec)
            }
            Node::Mul(coefficient, factors) => {
                let coefficient = pool.rational(*coefficient);
                for &(base, _) in factors.iter() {
                    let held = self.ensure(base, bind)?;
                    self.operands.push(held);
                }
                let mut product =
                    (!coefficient.is_one()).then(|| Real::exact(coefficient.clone(), prec));
                let held = &self.operands[operands..];
                // Negative powers first: a quotient by zero is an error even when a factor is 0.
                let negative_first = factors
                    .iter()
                    .zip(held)
                    .filter(|((_, e), _)| *e <= 0)
                    .chain(factors.iter().zip(held).filter(|((_, e), _)| *e > 0));
                for (&(base, exponent), &held) in negative_first {
                    let value = self.get(held);
                    let power;
                    let power = if exponent == 1 {
                        value
                    } else {
                        power = value.powi(exponent, prec, base)?;
                        &power
                    };
                    product = Some(match product {
                        None => power.clone(),
                        Some(product) => product
                            .mul(power, prec)
                            .map_err(|e| domain_error(e, base))?,
                    });
                }
                product.unwrap_or_else(|| Real::exact(coefficient.clone(), prec))
            }
            Node::Apply(func, args) => {
                for &arg in args.iter() {
                    let held = self.ensure(arg, bind)?;
                    self.operands.push(held);
                }
                let values: Vec<Real> = self.operands[operands..]
                    .iter()
                    .map(|&held| self.get(held).clone())
                    .collect();
                Real::apply(*func, &values, prec, id)?
            }
        };
        self.scratch.truncate(scratch);
        self.operands.truncate(operands);
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sum totalled in machine integers is the sum `Real::add` makes one term after another:
    /// the same exact value, and from the first enclosed term on the same bounds; short and
    /// long fractions, overflowing totals, enclosed terms anywhere.
    #[test]
    fn totals_are_sums_term_by_term() {
        use num_bigint::BigInt;
        let mut rng = crate::graph::sample::Rng::new(0x5eed_7074_a150_0005_u64);
        let mut next = || rng.next_u64();
        let prec = 92;
        for _ in 0..3000 {
            let n_terms = 1 + next() % 12;
            let terms: Vec<Real> = (0..n_terms)
                .map(|_| {
                    let num = BigInt::from(next() as i64 >> (next() % 64));
                    let den = BigInt::from(1 + (next() >> (next() % 64)));
                    let q = BigRational::new(num, den);
                    match next() % 8 {
                        0 => Real::enclosed(Interval::from_rational(&q, prec).tanh(prec).unwrap()),
                        1 => Real::exact(
                            &q * BigRational::from_integer(BigInt::from(u128::MAX)),
                            prec,
                        ),
                        2 => Real::exact(
                            BigRational::new(BigInt::from(next() % 100), 10_000.into()),
                            prec,
                        ),
                        _ => Real::exact(q, prec),
                    }
                })
                .collect();
            let mut total = Total::Empty;
            let mut expected: Option<Real> = None;
            for term in &terms {
                total = total.add(term, prec);
                expected = Some(match expected {
                    None => term.clone(),
                    Some(sum) => sum.add(term, prec),
                });
            }
            let (got, expected) = (total.finish(prec), expected.unwrap());
            assert_eq!(got.as_exact(), expected.as_exact());
            assert_eq!(got.enclosure(), expected.enclosure());
        }
    }

    #[test]
    fn a_decided_rounding_is_remembered_for_its_rounding_only() {
        use crate::eval::decimal::{Precision, RoundingMode};
        use crate::eval::numeric::{round, try_round};
        let third = Real::exact(BigRational::new(1.into(), 3.into()), 64);
        let rounding = |precision| Rounding {
            precision,
            mode: RoundingMode::HalfUp,
        };
        let (sig, dec) = (
            rounding(Precision::Significant(3)),
            rounding(Precision::Decimals(1)),
        );
        assert!(third.rounded(sig).is_none());
        assert_eq!(try_round(&third, sig).unwrap().to_string(), "0.333");
        assert_eq!(third.rounded(sig).unwrap().to_string(), "0.333");
        assert_eq!(round(&third, dec).to_string(), "0.3");
        assert!(third.rounded(dec).is_none());
        assert_eq!(round(&third.clone(), sig).to_string(), "0.333");
    }
}
