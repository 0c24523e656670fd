//! Rigorous interval enclosures with dyadic bounds, and the elementary functions on them.
//!
//! This module owns containment: every [`Interval`] it returns contains the true real value of
//! the operation applied to every point of its inputs. Each operation takes a precision `prec`
//! (significant bits kept in each bound); bounds are rounded outward (lower bound toward −∞,
//! upper toward +∞), so a caller that needs more digits simply recomputes at a larger `prec`.
//!
//! Transcendental functions are evaluated in fixed-point `BigInt` arithmetic with guard bits
//! and an explicit, rigorously tracked error radius; no floating point is involved, so the
//! bounds are bit-identical on every machine.
//!
//! Error analysis in brief. `exp(x)`: `k = round(x / ln 2)` comes from a truncated integer
//! estimate and only has to keep `|r| < 0.35` for `r = x − k ln 2`; `r` is formed at `G`
//! fractional bits from an `ln 2` known to lie in `[L, L + 2)·2^-G` (error `≤ 1 + |k|` units,
//! made `≤ 1.25` units of the working precision `W` by `G = W + bitlen(k) + 3`). `r` is halved
//! `s` times (≤ 1 more unit), the Taylor series of `e^{r/2^s}` is summed with truncated terms
//! (each term off by < 4 units, the neglected tail < 5 units, so `4N + 6` units in all for `N`
//! terms, including the input error), and the sum is squared back `s` times with the error
//! radius updated exactly as `E' = ceil(E·(2S + E)/2^W) + 1` from an upper bound of `S`. The
//! result is `(S ± E)·2^(k−W)`, rounded outward. `ln y`: `y = f·2^t` with `f` in about
//! `[0.71, 1.42)`, `ln f = 2 atanh((f−1)/(f+1))`; the `atanh` series in `z²` is evaluated with
//! floors only, so its sum is a one-sided underestimate short by at most `3N + 2` units, and
//! `z` is scaled to full relative precision first so tiny `ln` values keep every bit; `t ln 2`
//! uses the same `ln 2` bracket. Sigmoid, tanh and softplus are compositions of these bounds
//! with outward-rounded dyadic operations, arranged to avoid cancellation (see each function).

use std::cell::RefCell;
use std::fmt;
use std::ops::Neg;

use num_bigint::{BigInt, BigUint, Sign};
use num_rational::BigRational;
use num_traits::{One, ToPrimitive, Zero};

use super::dyadic::{Direction, Dyadic, MAX_EXP};

/// A domain error: the operation has no (finite, representable) real value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DomainError {
    /// The divisor (or the base of a negative power) may be zero.
    DivisionByZero,
    /// The argument of a logarithm may be zero or negative.
    LogOfNonPositive,
    /// An argument or result is too large in magnitude: `|x| > 2^40` for `exp` (and the
    /// underflowing side of sigmoid and softplus), or a bound beyond `2^±MAX_EXP`.
    Overflow,
}

impl fmt::Display for DomainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DomainError::DivisionByZero => "division by zero",
            DomainError::LogOfNonPositive => "logarithm of a non-positive number",
            DomainError::Overflow => "number too large in magnitude",
        })
    }
}

impl std::error::Error for DomainError {}

/// `log2` of the largest `|x|` accepted by `exp`.
pub const EXP_ARG_LIMIT_LOG2: i64 = 40;

/// Extra bits carried through intermediate results of composite functions.
const GUARD: u32 = 10;

/// Largest precision honoured (larger requests are clamped), so that adding guard bits to a
/// precision can never overflow.
pub const MAX_PREC: u32 = 1 << 24;

/// `floor(2^62 / ln 2)`, for estimating `k = round(x / ln 2)`.
const INV_LN2_Q62: i128 = 6_653_256_548_922_161_245;

/// `floor(sqrt(2) · 2^63)`, to pick the `ln` reduction range.
const SQRT2_Q63: u64 = 13_043_817_825_332_782_212;

type Bounds = Result<(Dyadic, Dyadic), DomainError>;

/// A closed interval `[lo, hi]` (`lo ≤ hi`) guaranteed to contain the true value.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Interval {
    lo: Dyadic,
    hi: Dyadic,
}

impl Interval {
    /// The exact interval `[x, x]`.
    pub fn point(x: Dyadic) -> Interval {
        Interval {
            lo: x.clone(),
            hi: x,
        }
    }

    /// `[lo, hi]`, or `None` if `lo > hi`.
    pub fn from_bounds(lo: Dyadic, hi: Dyadic) -> Option<Interval> {
        (lo <= hi).then_some(Interval { lo, hi })
    }

    /// The exact integer `n`.
    pub fn from_i64(n: i64) -> Interval {
        Interval::point(Dyadic::from_i64(n))
    }

    /// The tightest `prec`-bit enclosure of `q`; exact when `q` is dyadic and fits in `prec` bits.
    pub fn from_rational(q: &BigRational, prec: u32) -> Interval {
        let (lo, hi) = Dyadic::rational_enclose(q, prec);
        Interval { lo, hi }
    }

    /// The lower bound.
    pub fn lo(&self) -> &Dyadic {
        &self.lo
    }

    /// The upper bound.
    pub fn hi(&self) -> &Dyadic {
        &self.hi
    }

    /// Whether the interval is a single (exact) value.
    pub fn is_point(&self) -> bool {
        self.lo == self.hi
    }

    /// Whether 0 lies in the interval.
    pub fn contains_zero(&self) -> bool {
        !self.lo.is_positive() && !self.hi.is_negative()
    }

    /// Whether every value is strictly positive (`lo > 0`).
    pub fn is_positive(&self) -> bool {
        self.lo.is_positive()
    }

    /// Whether every value is strictly negative (`hi < 0`).
    pub fn is_negative(&self) -> bool {
        self.hi.is_negative()
    }

    /// Whether `x` lies in the interval.
    pub fn contains(&self, x: &Dyadic) -> bool {
        &self.lo <= x && x <= &self.hi
    }

    /// Whether the rational `q` lies in the interval (exact comparison).
    pub fn contains_rational(&self, q: &BigRational) -> bool {
        self.lo.cmp_rational(q).is_le() && self.hi.cmp_rational(q).is_ge()
    }

    /// Whether `self ⊆ other`.
    pub fn is_subset_of(&self, other: &Interval) -> bool {
        other.lo <= self.lo && self.hi <= other.hi
    }

    /// An upper bound on `hi − lo` with 64 significant bits (exact when it fits).
    ///
    /// Rounded rather than exact so that bounds with far-apart exponents stay cheap.
    pub fn width(&self) -> Dyadic {
        self.hi.sub_round(&self.lo, 64, Direction::Up)
    }

    /// The smallest interval containing both.
    pub fn hull(&self, other: &Interval) -> Interval {
        Interval {
            lo: (&self.lo).min(&other.lo).clone(),
            hi: (&self.hi).max(&other.hi).clone(),
        }
    }

    /// `self + other`. Never fails: a sum's exponent grows by at most one bit.
    pub fn add(&self, other: &Interval, prec: u32) -> Interval {
        Interval {
            lo: self.lo.add_round(&other.lo, prec, Direction::Down),
            hi: self.hi.add_round(&other.hi, prec, Direction::Up),
        }
    }

    /// `self − other`.
    pub fn sub(&self, other: &Interval, prec: u32) -> Interval {
        Interval {
            lo: self.lo.sub_round(&other.hi, prec, Direction::Down),
            hi: self.hi.sub_round(&other.lo, prec, Direction::Up),
        }
    }

    /// `self + q` for a rational `q`.
    pub fn add_rational(&self, q: &BigRational, prec: u32) -> Interval {
        let prec = prec.min(MAX_PREC);
        self.add(&Interval::from_rational(q, prec + GUARD), prec)
    }

    /// `self · other`.
    pub fn mul(&self, other: &Interval, prec: u32) -> Result<Interval, DomainError> {
        use Direction::{Down, Up};
        let (a, b) = (self, other);
        if a.is_point() && b.is_point() {
            let (lo, hi) = Dyadic::mul_enclose(&a.lo, &b.lo, prec);
            return checked(lo, hi);
        }
        // The signs say which endpoint products are the least and the greatest, and directed
        // rounding is monotone, so rounding those two gives the bounds the rounded products
        // of every endpoint pair would: two products instead of four, and no comparisons
        // unless both operands straddle 0.
        let down = |x: &Dyadic, y: &Dyadic| x.mul_round(y, prec, Down);
        let up = |x: &Dyadic, y: &Dyadic| x.mul_round(y, prec, Up);
        let (lo, hi) = match (a.sign_class(), b.sign_class()) {
            (Signs::NonNegative, Signs::NonNegative) => (down(&a.lo, &b.lo), up(&a.hi, &b.hi)),
            (Signs::NonNegative, Signs::NonPositive) => (down(&a.hi, &b.lo), up(&a.lo, &b.hi)),
            (Signs::NonPositive, Signs::NonNegative) => (down(&a.lo, &b.hi), up(&a.hi, &b.lo)),
            (Signs::NonPositive, Signs::NonPositive) => (down(&a.hi, &b.hi), up(&a.lo, &b.lo)),
            (Signs::Both, Signs::NonNegative) => (down(&a.lo, &b.hi), up(&a.hi, &b.hi)),
            (Signs::Both, Signs::NonPositive) => (down(&a.hi, &b.lo), up(&a.lo, &b.lo)),
            (Signs::NonNegative, Signs::Both) => (down(&a.hi, &b.lo), up(&a.hi, &b.hi)),
            (Signs::NonPositive, Signs::Both) => (down(&a.lo, &b.hi), up(&a.lo, &b.lo)),
            (Signs::Both, Signs::Both) => (
                down(&a.lo, &b.hi).min(down(&a.hi, &b.lo)),
                up(&a.lo, &b.lo).max(up(&a.hi, &b.hi)),
            ),
        };
        checked(lo, hi)
    }

    /// Where the interval lies relative to 0.
    fn sign_class(&self) -> Signs {
        if !self.lo.is_negative() {
            Signs::NonNegative
        } else if !self.hi.is_positive() {
            Signs::NonPositive
        } else {
            Signs::Both
        }
    }

    /// `self · q` for a rational `q` (exact factor when `q` is dyadic and short).
    pub fn mul_rational(&self, q: &BigRational, prec: u32) -> Result<Interval, DomainError> {
        let prec = prec.min(MAX_PREC);
        self.mul(&Interval::from_rational(q, prec + GUARD), prec)
    }

    /// `self / other`; `Err(DivisionByZero)` if `other` contains 0.
    pub fn div(&self, other: &Interval, prec: u32) -> Result<Interval, DomainError> {
        if other.contains_zero() {
            return Err(DomainError::DivisionByZero);
        }
        let div = |a: &Dyadic, b: &Dyadic, dir| {
            Dyadic::div_round(a, b, prec, dir).ok_or(DomainError::DivisionByZero)
        };
        if self.is_point() && other.is_point() {
            let (lo, hi) = Dyadic::div_enclose(&self.lo, &other.lo, prec)
                .ok_or(DomainError::DivisionByZero)?;
            return checked(lo, hi);
        }
        let (a, b) = (self, other);
        // x/y is monotone in x for fixed y; the extreme y depends on the sign of x.
        let (lo, hi) = if b.is_positive() {
            let lo_den = if a.lo.is_negative() { &b.lo } else { &b.hi };
            let hi_den = if a.hi.is_negative() { &b.hi } else { &b.lo };
            (
                div(&a.lo, lo_den, Direction::Down)?,
                div(&a.hi, hi_den, Direction::Up)?,
            )
        } else {
            let lo_den = if a.hi.is_positive() { &b.hi } else { &b.lo };
            let hi_den = if a.lo.is_positive() { &b.lo } else { &b.hi };
            (
                div(&a.hi, lo_den, Direction::Down)?,
                div(&a.lo, hi_den, Direction::Up)?,
            )
        };
        checked(lo, hi)
    }

    /// `1 / self`; `Err(DivisionByZero)` if `self` contains 0.
    pub fn recip(&self, prec: u32) -> Result<Interval, DomainError> {
        Interval::from_i64(1).div(self, prec)
    }

    /// `self^n`. Even powers of an interval straddling 0 give `[0, …]`; negative `n` takes the
    /// reciprocal (`Err(DivisionByZero)` if `self` contains 0). `x^0 = 1` for every `x`.
    pub fn powi(&self, n: i64, prec: u32) -> Result<Interval, DomainError> {
        let prec = prec.min(MAX_PREC);
        if n == 0 {
            return Ok(Interval::from_i64(1));
        }
        let m = n.unsigned_abs();
        let wp = if n < 0 { prec + GUARD } else { prec };
        // Odd powers are increasing, as are even powers on [0, ∞).
        let (lo, hi) = if m % 2 == 1 || !self.lo.is_negative() {
            (
                pow_dir(&self.lo, m, wp, Direction::Down)?,
                pow_dir(&self.hi, m, wp, Direction::Up)?,
            )
        } else if !self.hi.is_positive() {
            (
                pow_dir(&self.hi, m, wp, Direction::Down)?,
                pow_dir(&self.lo, m, wp, Direction::Up)?,
            )
        } else {
            let big = if self.lo.cmp_abs(&self.hi).is_gt() {
                &self.lo
            } else {
                &self.hi
            };
            (Dyadic::zero(), pow_dir(big, m, wp, Direction::Up)?)
        };
        let pos = checked(lo, hi)?;
        if n > 0 { Ok(pos) } else { pos.recip(prec) }
    }

    /// `e^self`; `Err(Overflow)` if a bound exceeds `2^40` in magnitude.
    pub fn exp(&self, prec: u32) -> Result<Interval, DomainError> {
        self.map_increasing(|x| exp_bounds(x, prec))
    }

    /// `ln self`; `Err(LogOfNonPositive)` if `lo ≤ 0`.
    pub fn ln(&self, prec: u32) -> Result<Interval, DomainError> {
        if !self.is_positive() {
            return Err(DomainError::LogOfNonPositive);
        }
        self.map_increasing(|x| ln_bounds(x, prec))
    }

    /// `1 / (1 + e^-self)`. Saturates without computing `e^x` for large positive `x`;
    /// `Err(Overflow)` for `x < −2^40`, where the result leaves the exponent range of `exp`.
    pub fn sigmoid(&self, prec: u32) -> Result<Interval, DomainError> {
        self.map_increasing(|x| sigmoid_bounds(x, prec))
    }

    /// `tanh self`, for any finite argument (saturates to within one ulp of ±1 without `exp`).
    pub fn tanh(&self, prec: u32) -> Result<Interval, DomainError> {
        self.map_increasing(|x| tanh_bounds(x, prec))
    }

    /// `ln(1 + e^self)`, computed as `x + ln(1 + e^-x)` for `x > 0`; `Err(Overflow)` for
    /// `x < −2^40`.
    pub fn softplus(&self, prec: u32) -> Result<Interval, DomainError> {
        self.map_increasing(|x| softplus_bounds(x, prec))
    }

    /// Applies an increasing function given as a per-point enclosure; a point interval costs
    /// one evaluation.
    fn map_increasing(&self, f: impl Fn(&Dyadic) -> Bounds) -> Result<Interval, DomainError> {
        if self.is_point() {
            let (lo, hi) = f(&self.lo)?;
            return checked(lo, hi);
        }
        let (lo, _) = f(&self.lo)?;
        let (_, hi) = f(&self.hi)?;
        checked(lo, hi)
    }

    /// Rough `f64` bounds for debugging output only.
    pub fn to_f64_approx(&self) -> (f64, f64) {
        (self.lo.to_f64_approx(), self.hi.to_f64_approx())
    }
}

impl Neg for &Interval {
    type Output = Interval;
    fn neg(self) -> Interval {
        Interval {
            lo: -&self.hi,
            hi: -&self.lo,
        }
    }
}

impl Neg for Interval {
    type Output = Interval;
    fn neg(self) -> Interval {
        Interval {
            lo: -self.hi,
            hi: -self.lo,
        }
    }
}

/// Where an interval lies relative to 0 (a product's extreme endpoints follow from it).
#[derive(Clone, Copy)]
enum Signs {
    /// `lo ≥ 0`.
    NonNegative,
    /// `hi ≤ 0` and `lo < 0`.
    NonPositive,
    /// `lo < 0 < hi`.
    Both,
}

/// Builds an interval whose bounds must stay in the exponent range.
fn checked(lo: Dyadic, hi: Dyadic) -> Result<Interval, DomainError> {
    if lo.in_range() && hi.in_range() {
        Ok(Interval { lo, hi })
    } else {
        Err(DomainError::Overflow)
    }
}

/// `x^m` rounded in `dir` (`m ≥ 1`).
fn pow_dir(x: &Dyadic, m: u64, prec: u32, dir: Direction) -> Result<Dyadic, DomainError> {
    if x.is_negative() && m % 2 == 1 {
        return Ok(-pow_mag(&x.abs(), m, prec, dir.flip())?);
    }
    pow_mag(&x.abs(), m, prec, dir)
}

/// `x^m` for `x ≥ 0` by repeated squaring, every product rounded in `dir` (valid because all
/// factors are non-negative, so products are monotone in each factor).
fn pow_mag(x: &Dyadic, m: u64, prec: u32, dir: Direction) -> Result<Dyadic, DomainError> {
    if x.is_zero() {
        return Ok(Dyadic::zero());
    }
    if x.mant_bits() == 1 {
        // A power of two: exact.
        let e = i128::from(x.exp()) * i128::from(m);
        if e.abs() > i128::from(MAX_EXP) {
            return Err(DomainError::Overflow);
        }
        return Ok(Dyadic::pow2(e as i64));
    }
    let wp = prec.saturating_add(2 * (64 - m.leading_zeros()) + 4);
    let mut result = Dyadic::one();
    let mut base = x.clone();
    let mut k = m;
    loop {
        if k & 1 == 1 {
            result = result.mul_round(&base, wp, dir);
            if !result.in_range() {
                return Err(DomainError::Overflow);
            }
        }
        k >>= 1;
        if k == 0 {
            break;
        }
        base = base.mul_round(&base, wp, dir);
        // Checked before the next squaring, so exponents never get near i64 limits.
        if !base.in_range() {
            return Err(DomainError::Overflow);
        }
    }
    Ok(result.into_round(prec, dir))
}

// ---------------------------------------------------------------------------------------------
// ln 2

thread_local! {
    /// `(bits, L)` with `ln 2 · 2^bits ∈ [L, L + 2)`, grown by doubling on demand.
    static LN2: RefCell<(u64, BigUint)> = RefCell::new((0, BigUint::zero()));
}

/// `L` with `ln 2 · 2^bits ∈ [L, L + 2)`.
fn ln2_floor(bits: u64) -> BigUint {
    LN2.with(|cell| {
        let mut cache = cell.borrow_mut();
        if cache.0 < bits {
            let target = bits.max(2 * cache.0).max(512);
            *cache = (target, compute_ln2(target));
        }
        // Shifting down keeps the bracket: (L + 2)/2^d ≤ floor(L/2^d) + 2.
        &cache.1 >> (cache.0 - bits)
    })
}

/// `ln 2 = Σ 2 / ((2i+1)·3^(2i+1))`, every step floored: the sum falls short of the true value
/// by at most `2.2N + 1.3` units (`N` terms), which the `g` guard bits make less than one unit.
fn compute_ln2(bits: u64) -> BigUint {
    let g = u64::from(64 - bits.leading_zeros()) + 4;
    let f = bits + g;
    let mut p = (BigUint::one() << (f + 1)) / 3u32;
    let mut sum = p.clone();
    let mut i = 1u32;
    loop {
        p /= 9u32;
        if p.is_zero() {
            break;
        }
        sum += &p / (2 * i + 1);
        i += 1;
    }
    sum >> g
}

/// An enclosure of `t · ln 2` with about `bits` fractional bits.
fn ln2_times(t: i64, bits: u64) -> (Dyadic, Dyadic) {
    let l = BigInt::from(ln2_floor(bits));
    let e = -(bits as i64);
    let a = Dyadic::from_parts(&l * t, e);
    let b = Dyadic::from_parts((l + 2u32) * t, e);
    if t >= 0 { (a, b) } else { (b, a) }
}

// ---------------------------------------------------------------------------------------------
// exp

/// `floor(x · 2^shift)` as a BigInt.
fn fixed_floor(x: &Dyadic, shift: i64) -> BigInt {
    let e = x.exp().saturating_add(shift);
    if e >= 0 {
        x.mant().as_ref() << e as u64
    } else {
        // BigInt `>>` rounds toward −∞.
        x.mant().as_ref() >> e.unsigned_abs()
    }
}

/// Lower and upper `prec`-bit bounds of `e^x`.
fn exp_bounds(x: &Dyadic, prec: u32) -> Bounds {
    let prec = prec.min(MAX_PREC);
    let Some(top) = x.floor_log2() else {
        return Ok((Dyadic::one(), Dyadic::one()));
    };
    if top > EXP_ARG_LIMIT_LOG2 || (top == EXP_ARG_LIMIT_LOG2 && x.mant_bits() > 1) {
        return Err(DomainError::Overflow);
    }
    let p = i64::from(prec.max(2));
    if top < -p - 2 {
        // |x| < 2^-(p+1) ≤ 1/2: 1 + x ≤ e^x ≤ 1 + x + x², already within an ulp.
        let lo = Dyadic::one().add_round(x, prec, Direction::Down);
        let t = x.add_round(&(x * x), prec + GUARD, Direction::Up);
        let hi = Dyadic::one().add_round(&t, prec, Direction::Up);
        return Ok((lo, hi));
    }
    // k ≈ round(x / ln 2) from x truncated to 2^-16; |x| ≤ 2^40 keeps everything in i128.
    // The estimate is within 2^-15 of x/ln2, so |r| < 0.35.
    let x16 = fixed_floor(x, 16).to_i128().unwrap_or(0);
    let k = ((x16 * INV_LN2_Q62 + (1i128 << 77)) >> 78) as i64;
    // Halvings: about sqrt(prec)/2 for |r| ~ 1/2, fewer when r is already small.
    let top_r = if k == 0 { top.min(-2) } else { -2 };
    let s0 = (isqrt(p as u64 + 24) / 2) as i64;
    let s = (s0 + top_r + 2).max(0);
    let w = (p + 2 * s + 24).max(110);
    let kbits = i64::from(64 - k.unsigned_abs().leading_zeros());
    let g = w + kbits + 3;
    // r·2^G = floor(x·2^G) − k(L+1), off by at most 1 + |k| units of 2^-G.
    let l1 = BigInt::from(ln2_floor(g as u64)) + 1u32;
    let rg = fixed_floor(x, g) - l1 * k;
    // To W bits (≤ 1.25 units), then r' = r/2^s (≤ 2.25 units; call it 3).
    let rp = rg >> (g - w + s) as u64;
    // Taylor: T_i = trunc(trunc(T_{i-1}·r'/2^W)/i), each within 4 units of the exact term of
    // the represented r'. Stop at the first zero term; the rest of the series is < 5 units.
    let wu = w as u64;
    let mut term = BigInt::one() << wu;
    let mut sum = term.clone();
    let mut n: u128 = 1;
    loop {
        term = (&term * &rp) >> wu;
        term /= n as u32;
        if term.is_zero() {
            break;
        }
        sum += &term;
        n += 1;
    }
    // Summation errors (4 per kept term), tail (5) and the 3-unit input error (≤ 4.4 units).
    let mut err: u128 = 4 * n + 6;
    let (_, mut y) = sum.into_parts();
    for _ in 0..s {
        // |S² − Y²| ≤ E(2S + E); with S ≤ hi·2^(W−62) and E ≤ 2^(W−62) that is
        // ≤ E(2hi + 1)·2^(W−62) units of 2^-2W, i.e. ≤ E(2hi + 1)/2^62 units after the shift.
        // y < 2^(W+1), so the shifted value has at most 63 bits and always converts.
        let hi = (&y >> (wu - 62)).to_u128().unwrap_or(u128::from(u64::MAX)) + 1;
        err = (err * (2 * hi + 1)).div_ceil(1u128 << 62) + 1;
        y = (&y * &y) >> wu;
    }
    let err = BigUint::from(err);
    let e = k - w;
    let lo = Dyadic::from_parts(BigInt::from_biguint(Sign::Plus, &y - &err), e);
    let hi = Dyadic::from_parts(BigInt::from_biguint(Sign::Plus, y + err), e);
    Ok((
        lo.into_round(prec, Direction::Down),
        hi.into_round(prec, Direction::Up),
    ))
}

fn isqrt(n: u64) -> u64 {
    let mut r = 0u64;
    while (r + 1) * (r + 1) <= n {
        r += 1;
    }
    r
}

// ---------------------------------------------------------------------------------------------
// ln

/// Exact-product bounds of `2·atanh(num/den)` for `0 < |num/den| ≤ 1/3`, with about `w` bits
/// of *relative* precision (z is scaled to its magnitude first).
fn atanh2_bounds(num: &BigInt, den: &BigUint, w: u32) -> (Dyadic, Dyadic) {
    if num.is_zero() {
        return (Dyadic::zero(), Dyadic::zero());
    }
    let w = u64::from(w) + 8;
    // |z| < 2^(1−a), a ≥ 1.
    let a = den.bits().saturating_sub(num.bits()).max(1);
    let zm = (num.magnitude() << (w + a)) / den; // floor(|z|·2^(w+a))
    let z2 = (&zm * &zm) >> (w + 2 * a); // ≤ z²·2^w, short by ≤ 2 units
    // F = Σ (z²)^i/(2i+1) ≥ 1, all floors: sum ≤ F·2^w ≤ sum + 3N + 2.
    let mut p = BigUint::one() << w;
    let mut sum = p.clone();
    let mut i: u64 = 1;
    loop {
        p = (&p * &z2) >> w;
        if p.is_zero() {
            break;
        }
        sum += &p / (2 * i + 1);
        i += 1;
    }
    let sum_hi = &sum + (3 * i + 2);
    let e = 1 - (2 * w + a) as i64;
    let lo = &zm * sum;
    let hi = (zm + 1u32) * sum_hi;
    let sign = num.sign();
    let lo = Dyadic::from_parts(BigInt::from_biguint(sign, lo), e);
    let hi = Dyadic::from_parts(BigInt::from_biguint(sign, hi), e);
    if sign == Sign::Minus {
        (hi, lo)
    } else {
        (lo, hi)
    }
}

/// Lower and upper `prec`-bit bounds of `ln y`, `y > 0`.
fn ln_bounds(y: &Dyadic, prec: u32) -> Bounds {
    let prec = prec.min(MAX_PREC);
    if !y.is_positive() {
        return Err(DomainError::LogOfNonPositive);
    }
    let mant = y.mant();
    let m = mant.magnitude();
    let b = m.bits();
    if b == 1 {
        // A power of two: t·ln 2 only.
        return Ok(round_out(ln2_times(y.exp(), u64::from(prec) + 70), prec));
    }
    // y = f·2^t with f = m/2^q in about [0.707, 1.414).
    let top64 = if b >= 64 {
        (m >> (b - 64)).to_u64().unwrap_or(u64::MAX)
    } else {
        (m << (64 - b)).to_u64().unwrap_or(u64::MAX)
    };
    let q = if top64 > SQRT2_Q63 { b } else { b - 1 };
    let t = y.exp().saturating_add(q as i64);
    let pow = BigUint::one() << q;
    let num = BigInt::from(m.clone()) - BigInt::from(pow.clone());
    let den = m + pow;
    let w = prec + GUARD;
    let (a_lo, a_hi) = atanh2_bounds(&num, &den, w);
    if t == 0 {
        return Ok(round_out((a_lo, a_hi), prec));
    }
    // |ln y| ≥ ln(sqrt 2)/… > 1/4 here, so absolute precision 2^-(w+2) suffices.
    let tbits = u64::from(64 - t.unsigned_abs().leading_zeros());
    let (c_lo, c_hi) = ln2_times(t, u64::from(w) + tbits + 4);
    Ok((
        c_lo.add_round(&a_lo, prec, Direction::Down),
        c_hi.add_round(&a_hi, prec, Direction::Up),
    ))
}

/// Lower and upper `prec`-bit bounds of `ln(1 + u)`, `u > −1`, with full relative precision
/// even when `u` is tiny (where `1 + u` itself would not be representable cheaply).
fn ln1p_bounds(u: &Dyadic, prec: u32) -> Bounds {
    let prec = prec.min(MAX_PREC);
    let w = prec + GUARD;
    let Some(top) = u.floor_log2() else {
        return Ok((Dyadic::zero(), Dyadic::zero()));
    };
    if u.is_positive() && top < -i64::from(w) - 2 {
        // u − u²/2 ≤ ln(1 + u) ≤ u, relative gap u/2 < 2^-(w+3).
        let half_sq = (u * u).mul_pow2(-1);
        return Ok((
            u.sub_round(&half_sq, prec, Direction::Down),
            u.round_to(prec, Direction::Up),
        ));
    }
    // Otherwise 1 + u is exact and short (at most about w + bits(u) bits), and `ln_bounds`
    // keeps relative precision near 1 by itself.
    ln_bounds(&(&Dyadic::one() + u), prec)
}

fn round_out((lo, hi): (Dyadic, Dyadic), prec: u32) -> (Dyadic, Dyadic) {
    (
        lo.into_round(prec, Direction::Down),
        hi.into_round(prec, Direction::Up),
    )
}

/// `[1 − 2^-prec, 1]`: the enclosure of a value known to lie in `(1 − 2^-prec, 1)`.
fn just_below_one(prec: u32) -> (Dyadic, Dyadic) {
    let p = u64::from(prec.max(1));
    let lo = Dyadic::from_parts((BigInt::one() << p) - 1u32, -(p as i64));
    (lo, Dyadic::one())
}

// ---------------------------------------------------------------------------------------------
// sigmoid, tanh, softplus

/// Bounds of `1/(1 + e^-x)`, using `u = e^-|x| ≤ 1` so nothing cancels.
fn sigmoid_bounds(x: &Dyadic, prec: u32) -> Bounds {
    let prec = prec.min(MAX_PREC);
    if x.is_zero() {
        return Ok((Dyadic::pow2(-1), Dyadic::pow2(-1)));
    }
    let p2 = prec + GUARD;
    let one = Dyadic::one();
    let div = |a: &Dyadic, b: &Dyadic, dir| {
        Dyadic::div_round(a, b, prec, dir).ok_or(DomainError::DivisionByZero)
    };
    if x.is_positive() {
        if *x >= Dyadic::from_i64(i64::from(prec) + 2) {
            // 1 − σ(x) < e^-x ≤ e^-(prec+2) < 2^-(prec+1).
            return Ok(just_below_one(prec));
        }
        // σ = 1/(1 + u), decreasing in u.
        let (u_lo, u_hi) = exp_bounds(&-x, p2)?;
        let lo = div(
            &one,
            &one.add_round(&u_hi, p2, Direction::Up),
            Direction::Down,
        )?;
        let hi = div(
            &one,
            &one.add_round(&u_lo, p2, Direction::Down),
            Direction::Up,
        )?;
        Ok((lo, hi))
    } else {
        // σ = u/(1 + u), increasing in u; each bound pairs u with the other-way denominator.
        let (u_lo, u_hi) = exp_bounds(x, p2)?;
        let lo = div(
            &u_lo,
            &one.add_round(&u_lo, p2, Direction::Up),
            Direction::Down,
        )?;
        let hi = div(
            &u_hi,
            &one.add_round(&u_hi, p2, Direction::Down),
            Direction::Up,
        )?;
        Ok((lo, hi))
    }
}

/// Bounds of `tanh x` = `(1 − u)/(1 + u)` with `u = e^-2|x|`; odd symmetry for `x < 0`.
fn tanh_bounds(x: &Dyadic, prec: u32) -> Bounds {
    let prec = prec.min(MAX_PREC);
    if x.is_negative() {
        let (lo, hi) = tanh_bounds(&-x, prec)?;
        return Ok((-hi, -lo));
    }
    let Some(top) = x.floor_log2() else {
        return Ok((Dyadic::zero(), Dyadic::zero()));
    };
    if *x >= Dyadic::from_i64(i64::from(prec / 2) + 2) {
        // 1 − tanh x < 2e^-2x ≤ 2^-(prec+3).
        return Ok(just_below_one(prec));
    }
    let p = i64::from(prec);
    if top < -(p / 2) - 3 {
        // x − x³/3 ≤ tanh x ≤ x for x ≥ 0; the gap x²/3 is below 2^-(prec+4) relative.
        let cube = &(x * x) * x;
        let third = Dyadic::div_round(&cube, &Dyadic::from_i64(3), prec + GUARD, Direction::Up)
            .ok_or(DomainError::DivisionByZero)?;
        return Ok((
            x.sub_round(&third, prec, Direction::Down),
            x.round_to(prec, Direction::Up),
        ));
    }
    // 1 − u ≈ 2x cancels about −top bits, so u is computed that much more precisely.
    let p2 = prec + GUARD + (-top).max(0) as u32;
    let (u_lo, u_hi) = exp_bounds(&-x.mul_pow2(1), p2)?;
    let one = Dyadic::one();
    let clamp0 = |d: Dyadic| if d.is_negative() { Dyadic::zero() } else { d };
    // Decreasing in u: the lower bound uses u_hi, the upper u_lo.
    let n_lo = clamp0(one.sub_round(&u_hi, p2, Direction::Down));
    let d_hi = one.add_round(&u_hi, p2, Direction::Up);
    let n_hi = one.sub_round(&u_lo, p2, Direction::Up);
    let d_lo = one.add_round(&u_lo, p2, Direction::Down);
    let lo = Dyadic::div_round(&n_lo, &d_hi, prec, Direction::Down);
    let hi = Dyadic::div_round(&n_hi, &d_lo, prec, Direction::Up);
    match (lo, hi) {
        (Some(lo), Some(hi)) => Ok((lo, hi.min(Dyadic::one()))),
        _ => Err(DomainError::DivisionByZero),
    }
}

/// Bounds of `ln(1 + e^x)`: `x + ln(1 + e^-x)` for `x > 0`, `ln(1 + e^x)` otherwise.
fn softplus_bounds(x: &Dyadic, prec: u32) -> Bounds {
    let prec = prec.min(MAX_PREC);
    let p2 = prec + GUARD;
    if x.is_positive() {
        if *x >= Dyadic::from_i64(i64::from(prec) + 2) {
            // 0 < ln(1 + e^-x) < e^-x < 2^-floor(x) (capped at 2^-(2^40)), which lies below
            // the rounding grid of x at prec bits, so the bounds are one ulp apart.
            let fl = fixed_floor(x, 0).to_i64().unwrap_or(i64::MAX);
            let c = Dyadic::pow2(-fl.min(1 << EXP_ARG_LIMIT_LOG2));
            return Ok((
                x.round_to(prec, Direction::Down),
                x.add_round(&c, prec, Direction::Up),
            ));
        }
        let (u_lo, u_hi) = exp_bounds(&-x, p2)?;
        let (l_lo, _) = ln1p_bounds(&u_lo, p2)?;
        let (_, l_hi) = ln1p_bounds(&u_hi, p2)?;
        return Ok((
            x.add_round(&l_lo, prec, Direction::Down),
            x.add_round(&l_hi, prec, Direction::Up),
        ));
    }
    let (u_lo, u_hi) = exp_bounds(x, p2)?;
    let (lo, _) = ln1p_bounds(&u_lo, prec)?;
    let (_, hi) = ln1p_bounds(&u_hi, prec)?;
    Ok((lo, hi))
}

#[cfg(test)]
mod tests {
    use super::super::decimal::Decimal;
    use super::*;
    use num_traits::Signed;

    fn q(n: i64, d: i64) -> BigRational {
        BigRational::new(BigInt::from(n), BigInt::from(d))
    }

    fn pt(n: i64) -> Interval {
        Interval::from_i64(n)
    }

    /// Compares `d` with the decimal `digits·10^-scale` using integer products only (exact,
    /// and cheap even for exponents in the millions, unlike gcd-normalizing rationals).
    fn cmp_decimal(d: &Dyadic, digits: &BigInt, scale: i64) -> std::cmp::Ordering {
        let five = |k: u64| BigInt::from(5).pow(u32::try_from(k).unwrap());
        let (mut l, mut r) = (d.mant().into_owned(), digits.clone());
        if scale >= 0 {
            l *= five(scale as u64);
        } else {
            r *= five(scale.unsigned_abs());
        }
        let t = d.exp() + scale;
        if t >= 0 {
            l <<= t as u64;
        } else {
            r <<= t.unsigned_abs();
        }
        l.cmp(&r)
    }

    /// `iv` must contain every real the 70-digit reference stands for (value ± half an ulp,
    /// so the true value wherever it sits) and be at most 2^(4−prec) wide relative.
    fn assert_encloses(name: &str, iv: &Interval, reference_value: &str, prec: u32) {
        let d = Decimal::parse(reference_value).unwrap();
        let ten = BigInt::from(10) * d.digits();
        let (lo, hi) = (&ten - 5, &ten + 5);
        assert!(
            cmp_decimal(iv.lo(), &lo, d.scale() + 1).is_le()
                && cmp_decimal(iv.hi(), &hi, d.scale() + 1).is_ge(),
            "{name} at {prec}: {:?} misses {reference_value}",
            iv.to_f64_approx()
        );
        let mag = iv.lo().abs().max(iv.hi().abs());
        assert!(
            iv.width() <= mag.mul_pow2(4 - i64::from(prec)),
            "{name} at {prec}: too wide"
        );
    }

    const REFERENCES: &[(&str, &str)] = &[
        (
            "e",
            "2.718281828459045235360287471352662497757247093699959574966967627724077",
        ),
        (
            "ln2",
            "6.931471805599453094172321214581765680755001343602552541206800094933936e-1",
        ),
        (
            "exp(-23/1000)",
            "9.772624837732770734447356285089399757838586777613548601527375390302471e-1",
        ),
        (
            "sigmoid(23/1000)",
            "5.057497465342416635053226672570260437527858500170910002458538527417204e-1",
        ),
        (
            "sigmoid(-1/10)",
            "4.750208125210600139008068173958578401786001031094907800164077069348779e-1",
        ),
        (
            "tanh(1/2)",
            "4.621171572600097585023184836436725487302892803301130385527318158380809e-1",
        ),
        (
            "softplus(0)",
            "6.931471805599453094172321214581765680755001343602552541206800094933936e-1",
        ),
        (
            "ln(3/10)",
            "-1.203972804325935992622746217761838502953610930806023524298633567330078",
        ),
        (
            "tanh(-3/7)",
            "-4.041267397578591628987493517701967798600722369739057669047491972114971e-1",
        ),
        (
            "tanh(10^-30)",
            "9.999999999999999999999999999999999999999999999999999999999996666666667e-31",
        ),
        (
            "softplus(5/2)",
            "2.578889734292549623344043916717550997259079421066961476183422357091817",
        ),
        (
            "softplus(-50)",
            "1.928749847963917783017156812728211532954684690357056332195642558644743e-22",
        ),
        (
            "sigmoid(40)",
            "9.999999999999999957516457447084110227192790955954936285652372821138319e-1",
        ),
        (
            "ln(1+2^-80)",
            "8.271806125530276748714083499560799617647694049123997708411284014957891e-25",
        ),
        (
            "ln(12345678901234567890)",
            "4.395983778920252055738683934949154382665910654927024004488503002240218e+1",
        ),
        (
            "exp(700)",
            "1.014232054735004509455329595231267615204679572243073348780536281249352e+304",
        ),
        (
            "(3/7)^-13",
            "6.077125551535040264739328228972422777567657243858364961177879262859533e+4",
        ),
        (
            "ln(10^-30)",
            "-6.907755278982137052053974364053092622803304465886318928099983702902718e+1",
        ),
    ];

    fn compute(name: &str, p: u32) -> Interval {
        // Rational arguments are enclosed a little more tightly than the result needs.
        let arg = |n: i64, d: i64| Interval::from_rational(&q(n, d), p + 8);
        let r = match name {
            "e" => pt(1).exp(p),
            "ln2" => pt(2).ln(p),
            "exp(-23/1000)" => arg(-23, 1000).exp(p),
            "sigmoid(23/1000)" => arg(23, 1000).sigmoid(p),
            "sigmoid(-1/10)" => arg(-1, 10).sigmoid(p),
            "tanh(1/2)" => arg(1, 2).tanh(p),
            "softplus(0)" => pt(0).softplus(p),
            "ln(3/10)" => arg(3, 10).ln(p),
            "tanh(-3/7)" => arg(-3, 7).tanh(p),
            "tanh(10^-30)" => Interval::from_rational(
                &BigRational::new(BigInt::one(), BigInt::from(10).pow(30u32)),
                p + 8,
            )
            .tanh(p),
            "softplus(5/2)" => arg(5, 2).softplus(p),
            "softplus(-50)" => pt(-50).softplus(p),
            "sigmoid(40)" => pt(40).sigmoid(p),
            "ln(1+2^-80)" => Interval::point(&Dyadic::one() + &Dyadic::pow2(-80)).ln(p),
            "ln(12345678901234567890)" => {
                Interval::point(Dyadic::from_bigint("12345678901234567890".parse().unwrap())).ln(p)
            }
            "exp(700)" => pt(700).exp(p),
            "(3/7)^-13" => arg(3, 7).powi(-13, p + 4).map(|x| x.round_out(p)),
            "ln(10^-30)" => Interval::from_rational(
                &BigRational::new(BigInt::one(), BigInt::from(10).pow(30u32)),
                p + 8,
            )
            .ln(p),
            _ => unreachable!("{name}"),
        };
        r.unwrap()
    }

    impl Interval {
        fn round_out(&self, prec: u32) -> Interval {
            Interval {
                lo: self.lo.round_to(prec, Direction::Down),
                hi: self.hi.round_to(prec, Direction::Up),
            }
        }
    }

    #[test]
    fn encloses_high_precision_references() {
        for &(name, value) in REFERENCES {
            for p in [24, 53, 64, 100, 128, 192] {
                assert_encloses(name, &compute(name, p), value, p);
            }
        }
    }

    #[test]
    fn encloses_extreme_references() {
        let exp_big =
            "3.296831478088558578968907969107724208561401506658370159647088489895349e-434295";
        for p in [64, 128] {
            assert_encloses("exp(-10^6)", &pt(-1_000_000).exp(p).unwrap(), exp_big, p);
        }
        // sigmoid(−10^7) and softplus(−10^7) agree to ~10^-4342945 relative; their exact check
        // would need 10-million-bit products, so compare 60 correctly rounded digits instead
        // (the refinement path of `round_interval`, itself cross-checked against exact rounding).
        let digits60 = "1.51693678089873435758946378226101624640108558149085643695901";
        for iv in [pt(-10_000_000).sigmoid(256), pt(-10_000_000).softplus(256)] {
            let d = super::super::decimal::round_interval(
                &iv.unwrap(),
                super::super::decimal::Precision::Significant(60),
                super::super::decimal::RoundingMode::HalfEven,
            )
            .unwrap();
            assert_eq!(d.to_scientific(), (digits60.to_string(), -4_342_945));
        }
        // Saturated ends: within one ulp of ±1 / x.
        let t = pt(10_000_000).tanh(96).unwrap();
        assert_eq!(
            t,
            pt(1)
                .sub(&Interval::point(Dyadic::pow2(-96)), 96)
                .hull(&pt(1))
        );
        let t = pt(-10_000_000).tanh(96).unwrap();
        assert_eq!(t.lo(), &Dyadic::from_i64(-1));
        let s = pt(10_000_000).sigmoid(96).unwrap();
        assert_eq!(s.hi(), &Dyadic::one());
        assert_eq!(s.width(), Dyadic::pow2(-96));
    }

    #[test]
    fn errors_and_saturation() {
        let straddle = Interval::from_bounds(Dyadic::from_i64(-1), Dyadic::from_i64(2)).unwrap();
        assert_eq!(pt(1).div(&straddle, 64), Err(DomainError::DivisionByZero));
        assert_eq!(pt(1).div(&pt(0), 64), Err(DomainError::DivisionByZero));
        assert_eq!(straddle.ln(64), Err(DomainError::LogOfNonPositive));
        assert_eq!(pt(0).ln(64), Err(DomainError::LogOfNonPositive));
        assert_eq!(straddle.powi(-1, 64), Err(DomainError::DivisionByZero));
        let limit = Dyadic::pow2(40);
        let beyond = Dyadic::from_i64((1 << 40) + 1);
        assert!(Interval::point(limit.clone()).exp(64).is_ok());
        assert!(Interval::point(-&limit).exp(64).is_ok());
        assert_eq!(
            Interval::point(beyond.clone()).exp(64),
            Err(DomainError::Overflow)
        );
        assert_eq!(
            Interval::point(-&beyond).exp(64),
            Err(DomainError::Overflow)
        );
        assert_eq!(
            Interval::point(-&beyond).sigmoid(64),
            Err(DomainError::Overflow)
        );
        assert_eq!(
            Interval::point(-&beyond).softplus(64),
            Err(DomainError::Overflow)
        );
        let huge = Dyadic::pow2(50);
        let s = Interval::point(huge.clone()).sigmoid(64).unwrap();
        assert_eq!(
            (s.lo(), s.hi()),
            (
                &Dyadic::from_parts(BigInt::from(u64::MAX), -64),
                &Dyadic::one()
            )
        );
        let t = Interval::point(-&huge).tanh(64).unwrap();
        assert_eq!(t.lo(), &Dyadic::from_i64(-1));
        let sp = Interval::point(huge.clone()).softplus(64).unwrap();
        assert_eq!(sp.lo(), &huge);
        assert_eq!(sp.width(), Dyadic::pow2(50 - 63));
        // Exponent range.
        let three_halves = Interval::from_rational(&q(3, 2), 64);
        assert_eq!(three_halves.powi(1 << 62, 64), Err(DomainError::Overflow));
        assert_eq!(pt(2).powi(i64::MAX, 64), Err(DomainError::Overflow));
        assert_eq!(pt(1).powi(i64::MIN, 64), Ok(pt(1)));
        assert_eq!(pt(-1).powi(i64::MAX, 64), Ok(pt(-1)));
        assert_eq!(
            pt(2).powi(-(1 << 59), 64),
            Ok(Interval::point(Dyadic::pow2(-(1 << 59))))
        );
        let near_one = Interval::point(&Dyadic::one() + &Dyadic::pow2(-60));
        let r = near_one.powi(1 << 62, 64).unwrap(); // (1 + 2^-60)^(2^62) ≈ e^4
        let e4 = Interval::from_bounds(
            Dyadic::from_rational_round(&q(54_598, 1000), 64, Direction::Down),
            Dyadic::from_rational_round(&q(54_599, 1000), 64, Direction::Up),
        );
        assert!(r.is_subset_of(&e4.unwrap()));
        let tiny = Interval::point(Dyadic::pow2(-(1 << 59)));
        assert_eq!(
            tiny.mul(&tiny, 64).and_then(|t| t.mul(&tiny, 64)),
            Err(DomainError::Overflow)
        );
        assert_eq!(pt(0).powi(0, 8), Ok(pt(1)));
    }

    #[test]
    fn arithmetic_cases() {
        let iv = |a: i64, b: i64| {
            Interval::from_bounds(Dyadic::from_i64(a), Dyadic::from_i64(b)).unwrap()
        };
        let qv = |a: (i64, i64), b: (i64, i64)| {
            Interval::from_bounds(
                Dyadic::from_rational_round(&q(a.0, a.1), 64, Direction::Down),
                Dyadic::from_rational_round(&q(b.0, b.1), 64, Direction::Up),
            )
            .unwrap()
        };
        assert_eq!(iv(-2, 3).mul(&iv(-5, 4), 64), Ok(iv(-15, 12)));
        assert_eq!(iv(1, 2).div(&iv(-4, -2), 64), Ok(qv((-1, 1), (-1, 4))));
        assert_eq!(iv(-1, 2).div(&iv(2, 4), 64), Ok(qv((-1, 2), (1, 1))));
        assert_eq!(iv(-2, 3).powi(2, 64), Ok(iv(0, 9)));
        assert_eq!(iv(-3, -2).powi(2, 64), Ok(iv(4, 9)));
        assert_eq!(iv(-2, 3).powi(3, 64), Ok(iv(-8, 27)));
        assert_eq!(pt(-2).powi(-3, 64), Ok(Interval::point(-Dyadic::pow2(-3))));
        assert_eq!(-iv(1, 2), iv(-2, -1));
        assert_eq!(iv(1, 2).sub(&iv(5, 7), 64), iv(-6, -3));
        assert!(iv(-1, 1).contains_zero() && !iv(-1, 1).is_positive() && iv(1, 2).is_positive());
        assert!(iv(-2, -1).is_negative() && iv(3, 4).hull(&iv(-1, 0)) == iv(-1, 4));
        let third = Interval::from_rational(&q(1, 3), 64);
        assert!(!third.is_point() && third.width() == Dyadic::pow2(-65));
        assert!(Interval::from_rational(&q(5, 8), 3).is_point());
        assert_eq!(
            pt(3).mul_rational(&q(1, 4), 64),
            Ok(Interval::point(Dyadic::from_parts(BigInt::from(3), -2)))
        );
        assert!(pt(1).add_rational(&q(1, 3), 64).contains_rational(&q(4, 3)));
    }

    struct XorShift(u64);
    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn rational(&mut self, max_num: u64, max_den: u64) -> BigRational {
            let n = (self.next() % (2 * max_num + 1)) as i64 - max_num as i64;
            q(n, 1 + (self.next() % max_den) as i64)
        }
    }

    #[test]
    fn arithmetic_contains_exact_results() {
        let mut rng = XorShift(0x1234_5678_9abc_def1);
        for _ in 0..500 {
            let (a, b) = (rng.rational(1000, 97), rng.rational(1000, 89));
            let p = 16 + (rng.next() % 100) as u32;
            let (x, y) = (
                Interval::from_rational(&a, p),
                Interval::from_rational(&b, p),
            );
            assert!(x.add(&y, p).contains_rational(&(&a + &b)));
            assert!(x.sub(&y, p).contains_rational(&(&a - &b)));
            assert!(x.mul(&y, p).unwrap().contains_rational(&(&a * &b)));
            if !b.is_zero() {
                assert!(x.div(&y, p).unwrap().contains_rational(&(&a / &b)));
            }
            let n = (rng.next() % 9) as i32 - 4;
            if !(a.is_zero() && n < 0) {
                assert!(
                    x.powi(i64::from(n), p)
                        .unwrap()
                        .contains_rational(&a.pow(n))
                );
            }
        }
    }

    /// Each bound of a product is the directed rounding of the least or greatest exact product
    /// of endpoints, whatever the signs (zero endpoints, points and long mantissas included).
    #[test]
    fn products_round_the_extreme_endpoint_products() {
        let mut rng = XorShift(0x0bad_cafe_f00d_0001);
        let endpoint = |rng: &mut XorShift| {
            let bits = rng.next() % 200;
            let mant = match rng.next() % 5 {
                0 => BigInt::zero(),
                1 => BigInt::from(rng.next() % 7),
                _ => {
                    (BigInt::from(rng.next()) << 64 | BigInt::from(rng.next()))
                        >> (128 - bits.min(128))
                        << bits.saturating_sub(128)
                }
            };
            let mant = if rng.next().is_multiple_of(2) {
                mant
            } else {
                -mant
            };
            Dyadic::from_parts(mant, (rng.next() % 300) as i64 - 150)
        };
        for _ in 0..4000 {
            let interval = |rng: &mut XorShift| {
                let (x, y) = (endpoint(rng), endpoint(rng));
                match rng.next() % 4 {
                    0 => Interval::point(x),
                    _ => Interval::from_bounds(x.clone().min(y.clone()), x.max(y)).unwrap(),
                }
            };
            let (a, b) = (interval(&mut rng), interval(&mut rng));
            let prec = match rng.next() % 3 {
                0 => 92,
                1 => 1 + (rng.next() % 130) as u32,
                _ => 1 + (rng.next() % 400) as u32,
            };
            let products = [
                (&a.lo, &b.lo),
                (&a.lo, &b.hi),
                (&a.hi, &b.lo),
                (&a.hi, &b.hi),
            ]
            .map(|(x, y)| x * y);
            let least = products.iter().min().unwrap();
            let greatest = products.iter().max().unwrap();
            let expected = Interval::from_bounds(
                least.round_to(prec, Direction::Down),
                greatest.round_to(prec, Direction::Up),
            );
            assert_eq!(a.mul(&b, prec).ok(), expected, "{a:?} · {b:?} at {prec}");
        }
    }

    type Fun = fn(&Interval, u32) -> Result<Interval, DomainError>;

    const FUNS: &[(&str, Fun, u64)] = &[
        ("exp", Interval::exp, 60),
        ("ln", Interval::ln, 5000),
        ("sigmoid", Interval::sigmoid, 5000),
        ("tanh", Interval::tanh, 5000),
        ("softplus", Interval::softplus, 5000),
    ];

    #[test]
    fn refinement_is_consistent_and_monotone() {
        let mut rng = XorShift(0xdead_beef_cafe_f00d);
        let precs = [32, 48, 64, 96, 128, 256, 512];
        for &(name, f, range) in FUNS {
            for i in 0..40 {
                // Mix ordinary magnitudes with tiny ones.
                let mut a = rng.rational(range, 1 + range / 5);
                if i % 5 == 0 {
                    a /= BigRational::from_integer(BigInt::one() << (rng.next() % 200));
                }
                if name == "ln" {
                    a = a.abs() + q(1, 1 << 20);
                }
                let encl: Vec<Interval> = precs
                    .iter()
                    .map(|&p| f(&Interval::from_rational(&a, p + 8), p).unwrap())
                    .collect();
                let finest = encl.last().unwrap();
                for (iv, &p) in encl.iter().zip(&precs) {
                    let meet = iv.lo().max(finest.lo()) <= iv.hi().min(finest.hi());
                    assert!(meet, "{name}({a}) at {p} and 512 disagree");
                    let mag = iv.lo().abs().max(iv.hi().abs());
                    assert!(
                        iv.width() <= mag.mul_pow2(4 - i64::from(p)),
                        "{name}({a}) at {p}"
                    );
                }
                // Monotone: f(a) ≤ f(b) for a < b, bound by bound.
                let b = &a + rng.rational(5, 1000).abs() + q(1, 1 << 30);
                for &p in &precs[..3] {
                    let fa = f(&Interval::from_rational(&a, p), p).unwrap();
                    let fb = f(&Interval::from_rational(&b, p), p).unwrap();
                    assert!(
                        fa.lo() <= fb.lo() && fa.hi() <= fb.hi(),
                        "{name} not monotone at {a}"
                    );
                    let both = Interval::from_bounds(fa.lo().clone(), fb.hi().clone()).unwrap();
                    let ab = Interval::from_rational(&a, p).hull(&Interval::from_rational(&b, p));
                    assert_eq!(f(&ab, p).unwrap(), both);
                }
            }
        }
    }

    #[test]
    fn identities_hold_on_enclosures() {
        let mut rng = XorShift(0x0bad_cafe_1234_5678);
        for i in 0..150 {
            let p = [40, 64, 100, 160][i % 4];
            let a = rng.rational(3000, 300);
            let x = Interval::from_rational(&a, p + 20);
            let one = pt(1);
            // σ(x) + σ(−x) = 1
            let s = x.sigmoid(p).unwrap().add(&(-&x).sigmoid(p).unwrap(), p);
            assert!(s.contains(&Dyadic::one()), "sigmoid symmetry at {a}");
            // softplus(x) − softplus(−x) = x
            let d = x.softplus(p).unwrap().sub(&(-&x).softplus(p).unwrap(), p);
            assert!(
                d.contains_rational(&a) || d.lo() <= x.hi() && x.lo() <= d.hi(),
                "softplus at {a}"
            );
            // tanh x = 2σ(2x) − 1
            let two_x = x.mul(&pt(2), p + 20).unwrap();
            let t = two_x
                .sigmoid(p)
                .unwrap()
                .mul(&pt(2), p)
                .unwrap()
                .sub(&one, p);
            let th = x.tanh(p).unwrap();
            assert!(
                t.lo().max(th.lo()) <= t.hi().min(th.hi()),
                "tanh vs sigmoid at {a}"
            );
            // ln(exp(x)) ∋ x and exp(ln|x|) ∋ |x| for moderate x.
            let small = Interval::from_rational(
                &(&a / BigRational::from_integer(BigInt::from(40))),
                p + 20,
            );
            let back = small.exp(p + 10).unwrap().ln(p).unwrap();
            assert!(
                back.lo() <= small.hi() && small.lo() <= back.hi(),
                "ln(exp) at {a}"
            );
            if !a.is_zero() {
                let pos = Interval::from_rational(&a.abs(), p + 20);
                let back = pos.ln(p + 10).unwrap().exp(p).unwrap();
                assert!(
                    back.lo() <= pos.hi() && pos.lo() <= back.hi(),
                    "exp(ln) at {a}"
                );
            }
            // e^a e^b = e^(a+b)
            let b = Interval::from_rational(&rng.rational(30, 7), p + 20);
            let lhs = small.exp(p).unwrap().mul(&b.exp(p).unwrap(), p).unwrap();
            let rhs = small.add(&b, p + 20).exp(p).unwrap();
            assert!(
                lhs.lo().max(rhs.lo()) <= lhs.hi().min(rhs.hi()),
                "exp addition at {a}"
            );
        }
    }
}
