//! Exact dyadic rationals `mant · 2^exp` and their directed rounding.
//!
//! This module owns the number type every interval bound is made of. A [`Dyadic`] is kept
//! normalized (odd mantissa, or zero with exponent 0) so that equality and hashing are
//! structural. Sums, differences and products are exact; everything that can grow without
//! bound (quotients, rounded sums of far-apart operands) goes through the `*_round` methods,
//! which keep at most `prec` significant bits and round toward −∞ ([`Direction::Down`]) or
//! +∞ ([`Direction::Up`]).

use std::cmp::Ordering;
use std::ops::{Add, Mul, Neg, Sub};

use num_bigint::{BigInt, BigUint, Sign};
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};

/// The largest binary exponent magnitude an interval bound may carry.
///
/// Bounds outside `2^-MAX_EXP ..= 2^MAX_EXP` are reported as overflow by the interval layer.
/// Keeping every operand inside this range means adding two exponents never overflows `i64`.
pub const MAX_EXP: i64 = 1 << 60;

/// A rounding direction on the real line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Toward −∞ (a lower bound stays a lower bound).
    Down,
    /// Toward +∞ (an upper bound stays an upper bound).
    Up,
}

impl Direction {
    /// The opposite direction, used when a bound is negated.
    pub fn flip(self) -> Direction {
        match self {
            Direction::Down => Direction::Up,
            Direction::Up => Direction::Down,
        }
    }
}

/// An exact dyadic rational `mant · 2^exp`, normalized (odd `mant`, or zero with `exp == 0`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Dyadic {
    mant: BigInt,
    exp: i64,
}

impl Default for Dyadic {
    fn default() -> Self {
        Dyadic::zero()
    }
}

impl Dyadic {
    /// Zero.
    pub fn zero() -> Dyadic {
        Dyadic {
            mant: BigInt::zero(),
            exp: 0,
        }
    }

    /// One.
    pub fn one() -> Dyadic {
        Dyadic {
            mant: BigInt::one(),
            exp: 0,
        }
    }

    /// `mant · 2^exp`, normalized.
    pub fn from_parts(mant: BigInt, exp: i64) -> Dyadic {
        if mant.is_zero() {
            return Dyadic::zero();
        }
        // A nonzero BigInt always has a trailing-zero count.
        let tz = mant.trailing_zeros().unwrap_or(0);
        if tz == 0 {
            return Dyadic { mant, exp };
        }
        Dyadic {
            // The shifted-out bits are zero, so the shift is exact whatever its rounding rule.
            mant: mant >> tz,
            exp: exp.saturating_add(tz as i64),
        }
    }

    /// `sign · mag · 2^exp`, normalized.
    fn from_sign_mag(sign: Sign, mag: BigUint, exp: i64) -> Dyadic {
        Dyadic::from_parts(BigInt::from_biguint(sign, mag), exp)
    }

    /// An integer.
    pub fn from_bigint(n: BigInt) -> Dyadic {
        Dyadic::from_parts(n, 0)
    }

    /// A machine integer.
    pub fn from_i64(n: i64) -> Dyadic {
        Dyadic::from_parts(BigInt::from(n), 0)
    }

    /// `2^k`.
    pub fn pow2(k: i64) -> Dyadic {
        Dyadic {
            mant: BigInt::one(),
            exp: k,
        }
    }

    /// The odd mantissa (zero for zero).
    pub fn mant(&self) -> &BigInt {
        &self.mant
    }

    /// The binary exponent (0 for zero).
    pub fn exp(&self) -> i64 {
        self.exp
    }

    /// Number of significant bits of the mantissa (0 for zero).
    pub fn mant_bits(&self) -> u64 {
        self.mant.bits()
    }

    /// `floor(log2 |x|)`, the position of the leading bit; `None` for zero.
    pub fn floor_log2(&self) -> Option<i64> {
        if self.is_zero() {
            None
        } else {
            Some(self.exp.saturating_add(self.mant.bits() as i64 - 1))
        }
    }

    /// Whether the value is zero.
    pub fn is_zero(&self) -> bool {
        self.mant.is_zero()
    }

    /// −1, 0 or 1.
    pub fn signum(&self) -> i32 {
        match self.mant.sign() {
            Sign::Minus => -1,
            Sign::NoSign => 0,
            Sign::Plus => 1,
        }
    }

    /// Whether the value is strictly negative.
    pub fn is_negative(&self) -> bool {
        self.mant.sign() == Sign::Minus
    }

    /// Whether the value is strictly positive.
    pub fn is_positive(&self) -> bool {
        self.mant.sign() == Sign::Plus
    }

    /// `|x|`.
    pub fn abs(&self) -> Dyadic {
        Dyadic {
            mant: self.mant.abs(),
            exp: self.exp,
        }
    }

    /// `x · 2^k`, exact.
    pub fn mul_pow2(&self, k: i64) -> Dyadic {
        if self.is_zero() {
            return Dyadic::zero();
        }
        Dyadic {
            mant: self.mant.clone(),
            exp: self.exp.saturating_add(k),
        }
    }

    /// Whether the bound lies in the range the interval layer accepts (see [`MAX_EXP`]).
    pub fn in_range(&self) -> bool {
        match self.floor_log2() {
            None => true,
            Some(top) => self.exp >= -MAX_EXP && top <= MAX_EXP,
        }
    }

    /// The exact value as a rational (already in lowest terms, so no gcd is needed).
    pub fn to_rational(&self) -> BigRational {
        if self.exp >= 0 {
            BigRational::from_integer(&self.mant << self.exp as u64)
        } else {
            BigRational::new_raw(self.mant.clone(), BigInt::one() << self.exp.unsigned_abs())
        }
    }

    /// Rough `f64` value for debugging output only; never used to compute results.
    pub fn to_f64_approx(&self) -> f64 {
        if self.is_zero() {
            return 0.0;
        }
        let bits = self.mant.bits() as i64;
        let drop = (bits - 60).max(0);
        let top = (&self.mant >> drop as u64).to_i64().unwrap_or(0) as f64;
        let e = self.exp.saturating_add(drop).clamp(-2000, 2000) as i32;
        top * 2f64.powi(e)
    }

    /// Rounds to at most `prec` significant bits in direction `dir` (exact if it already fits).
    pub fn round_to(&self, prec: u32, dir: Direction) -> Dyadic {
        if self.mant.bits() <= u64::from(prec.max(1)) {
            return self.clone();
        }
        self.clone().into_round(prec, dir)
    }

    /// [`Dyadic::round_to`] consuming `self`, saving a clone.
    pub fn into_round(self, prec: u32, dir: Direction) -> Dyadic {
        if self.mant.bits() <= u64::from(prec.max(1)) {
            return self;
        }
        let (sign, mag) = self.mant.into_parts();
        round_parts(sign, mag, self.exp, prec, dir)
    }

    /// `self + other` rounded to `prec` bits in direction `dir`.
    ///
    /// Unlike exact `+`, the cost is bounded by the operands' mantissa sizes and `prec` even
    /// when their exponents are far apart (e.g. `1 + e^-1000000`).
    pub fn add_round(&self, other: &Dyadic, prec: u32, dir: Direction) -> Dyadic {
        add_round_impl(self, &other.mant, other.exp, false, prec, dir)
    }

    /// `self − other` rounded to `prec` bits in direction `dir` (bounded cost, see
    /// [`Dyadic::add_round`]).
    pub fn sub_round(&self, other: &Dyadic, prec: u32, dir: Direction) -> Dyadic {
        add_round_impl(self, &other.mant, other.exp, true, prec, dir)
    }

    /// `self · other` rounded to `prec` bits in direction `dir`.
    pub fn mul_round(&self, other: &Dyadic, prec: u32, dir: Direction) -> Dyadic {
        (self * other).into_round(prec, dir)
    }

    /// `a / b` rounded to `prec` bits in direction `dir`; `None` if `b` is zero.
    pub fn div_round(a: &Dyadic, b: &Dyadic, prec: u32, dir: Direction) -> Option<Dyadic> {
        let (sign, mag, exp) = div_sticky(a, b, prec)?;
        Some(round_parts(sign, mag, exp, prec, dir))
    }

    /// Both directed roundings of `a / b` from a single long division; `None` if `b` is zero.
    pub fn div_enclose(a: &Dyadic, b: &Dyadic, prec: u32) -> Option<(Dyadic, Dyadic)> {
        let (sign, mag, exp) = div_sticky(a, b, prec)?;
        let lo = round_parts(sign, mag.clone(), exp, prec, Direction::Down);
        let hi = round_parts(sign, mag, exp, prec, Direction::Up);
        Some((lo, hi))
    }

    /// `q` rounded to `prec` bits in direction `dir` (exact if `q` is dyadic and fits).
    pub fn from_rational_round(q: &BigRational, prec: u32, dir: Direction) -> Dyadic {
        let (sign, mag, exp) = rational_sticky(q, prec);
        round_parts(sign, mag, exp, prec, dir)
    }

    /// Both directed roundings of `q` from a single long division.
    pub fn rational_enclose(q: &BigRational, prec: u32) -> (Dyadic, Dyadic) {
        let (sign, mag, exp) = rational_sticky(q, prec);
        let lo = round_parts(sign, mag.clone(), exp, prec, Direction::Down);
        let hi = round_parts(sign, mag, exp, prec, Direction::Up);
        (lo, hi)
    }

    /// Compares with a rational exactly, by integer cross-multiplication (no gcd work, so it
    /// stays cheap for bounds with huge exponents).
    pub fn cmp_rational(&self, q: &BigRational) -> Ordering {
        // BigRational keeps den > 0; compare mant·2^exp·den with num.
        let (num, den) = (q.numer(), q.denom());
        let mut l = &self.mant * den;
        let mut r = num.clone();
        if den.is_negative() {
            (l, r) = (-l, -r);
        }
        if self.exp >= 0 {
            l <<= self.exp as u64;
        } else {
            r <<= self.exp.unsigned_abs();
        }
        l.cmp(&r)
    }

    /// Compares magnitudes `|self|` and `|other|`.
    pub fn cmp_abs(&self, other: &Dyadic) -> Ordering {
        match (self.floor_log2(), other.floor_log2()) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(a), Some(b)) if a != b => a.cmp(&b),
            _ => {
                // Same leading-bit position, so the alignment shift is at most the mantissa
                // length difference.
                let (x, y) = (self.mant.magnitude(), other.mant.magnitude());
                match self.exp.cmp(&other.exp) {
                    Ordering::Equal => x.cmp(y),
                    Ordering::Greater => (x << (self.exp - other.exp) as u64).cmp(y),
                    Ordering::Less => x.cmp(&(y << (other.exp - self.exp) as u64)),
                }
            }
        }
    }
}

/// Rounds `sign · mag · 2^exp` (not necessarily normalized) to `prec` bits in `dir`.
fn round_parts(sign: Sign, mag: BigUint, exp: i64, prec: u32, dir: Direction) -> Dyadic {
    let prec = u64::from(prec.max(1));
    let bits = mag.bits();
    if bits <= prec {
        return Dyadic::from_sign_mag(sign, mag, exp);
    }
    let shift = bits - prec;
    // Inexact iff a one bit is shifted out.
    let inexact = mag.trailing_zeros().unwrap_or(0) < shift;
    let mut q = mag >> shift;
    let away = matches!(
        (sign, dir),
        (Sign::Plus, Direction::Up) | (Sign::Minus, Direction::Down)
    );
    if inexact && away {
        q += 1u32;
    }
    Dyadic::from_sign_mag(sign, q, exp.saturating_add(shift as i64))
}

/// `a ± (mb · 2^eb)` rounded; replaces a far smaller operand by a sticky bit.
fn add_round_impl(
    a: &Dyadic,
    mb: &BigInt,
    eb: i64,
    negate_b: bool,
    prec: u32,
    dir: Direction,
) -> Dyadic {
    let b_zero = mb.is_zero();
    if b_zero {
        return a.round_to(prec, dir);
    }
    let b_sign = if negate_b { -mb.sign() } else { mb.sign() };
    if a.is_zero() {
        let (_, mag) = (mb.sign(), mb.magnitude().clone());
        return round_parts(b_sign, mag, eb, prec, dir);
    }
    let p = i64::from(prec.max(1));
    let a_top = a.exp + a.mant.bits() as i64 - 1;
    let b_top = eb + mb.bits() as i64 - 1;
    // `big` has the larger leading bit. Every prec-bit number near |big| (in its binade and the
    // ones next to it) is a multiple of 2^(top-prec), and big itself is a multiple of 2^exp,
    // so no rounding boundary lies strictly between consecutive multiples of 2^m. If
    // |small| < 2^m the sum sits strictly inside such a gap, and replacing small by
    // ±2^(m-1) leaves every directed rounding unchanged.
    let (big_mant, big_exp, big_top, big_neg, small_top, small_sign) = if a_top >= b_top {
        (&a.mant, a.exp, a_top, false, b_top, b_sign)
    } else {
        (mb, eb, b_top, negate_b, a_top, a.mant.sign())
    };
    let m = big_exp.min(big_top - p);
    if small_top < m {
        let sticky_exp = m - 1;
        let shifted = big_mant << (big_exp - sticky_exp) as u64;
        let shifted: BigInt = if big_neg { -shifted } else { shifted };
        let sum: BigInt = match small_sign {
            Sign::Minus => shifted - 1,
            _ => shifted + 1,
        };
        let (s, mag) = sum.into_parts();
        return round_parts(s, mag, sticky_exp, prec, dir);
    }
    // Operands overlap within about prec bits: the exact sum is affordable.
    let lo = a.exp.min(eb);
    let xa = &a.mant << (a.exp - lo) as u64;
    let xb = mb << (eb - lo) as u64;
    let sum = if negate_b { xa - xb } else { xa + xb };
    let (s, mag) = sum.into_parts();
    round_parts(s, mag, lo, prec, dir)
}

/// `num / den · 2^exp` (both positive magnitudes) as a truncated quotient with at least
/// `prec + 1` bits plus a sticky bit, ready for [`round_parts`] in either direction.
fn quotient_sticky(num: &BigUint, den: &BigUint, exp: i64, prec: u32) -> (BigUint, i64) {
    let p = i64::from(prec.max(1));
    // Enough left shift that the quotient has at least p + 1 bits, so the rounding grid is
    // no finer than the quotient's unit and a nonzero remainder acts as a pure sticky bit.
    let s = (p + den.bits() as i64 - num.bits() as i64 + 1).max(0) as u64;
    let shifted = num << s;
    let (q, r) = shifted.div_rem(den);
    let exp = exp.saturating_sub(s as i64);
    if r.is_zero() {
        (q, exp)
    } else {
        ((q << 1u32) | BigUint::one(), exp.saturating_sub(1))
    }
}

fn div_sticky(a: &Dyadic, b: &Dyadic, prec: u32) -> Option<(Sign, BigUint, i64)> {
    if b.is_zero() {
        return None;
    }
    if a.is_zero() {
        return Some((Sign::NoSign, BigUint::zero(), 0));
    }
    let sign = a.mant.sign() * b.mant.sign();
    let (q, e) = quotient_sticky(
        a.mant.magnitude(),
        b.mant.magnitude(),
        a.exp.saturating_sub(b.exp),
        prec,
    );
    Some((sign, q, e))
}

fn rational_sticky(q: &BigRational, prec: u32) -> (Sign, BigUint, i64) {
    let num = q.numer();
    if num.is_zero() {
        return (Sign::NoSign, BigUint::zero(), 0);
    }
    // BigRational keeps a positive denominator; the sign products guard against raw values.
    let sign = num.sign() * q.denom().sign();
    let (m, e) = quotient_sticky(num.magnitude(), q.denom().magnitude(), 0, prec);
    (sign, m, e)
}

impl PartialOrd for Dyadic {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Dyadic {
    fn cmp(&self, other: &Self) -> Ordering {
        let (sa, sb) = (self.signum(), other.signum());
        if sa != sb {
            return sa.cmp(&sb);
        }
        match sa {
            0 => Ordering::Equal,
            1 => self.cmp_abs(other),
            _ => other.cmp_abs(self),
        }
    }
}

impl Neg for Dyadic {
    type Output = Dyadic;
    fn neg(self) -> Dyadic {
        Dyadic {
            mant: -self.mant,
            exp: self.exp,
        }
    }
}

impl Neg for &Dyadic {
    type Output = Dyadic;
    fn neg(self) -> Dyadic {
        Dyadic {
            mant: -&self.mant,
            exp: self.exp,
        }
    }
}

/// Exact sum. The cost grows with the exponent gap of the operands; bounds of intervals use
/// [`Dyadic::add_round`] instead.
impl Add for &Dyadic {
    type Output = Dyadic;
    fn add(self, other: &Dyadic) -> Dyadic {
        if self.is_zero() {
            return other.clone();
        }
        if other.is_zero() {
            return self.clone();
        }
        let lo = self.exp.min(other.exp);
        let a = &self.mant << (self.exp - lo) as u64;
        let b = &other.mant << (other.exp - lo) as u64;
        Dyadic::from_parts(a + b, lo)
    }
}

impl Add for Dyadic {
    type Output = Dyadic;
    fn add(self, other: Dyadic) -> Dyadic {
        &self + &other
    }
}

/// Exact difference (same cost caveat as `+`).
impl Sub for &Dyadic {
    type Output = Dyadic;
    fn sub(self, other: &Dyadic) -> Dyadic {
        self + &(-other)
    }
}

impl Sub for Dyadic {
    type Output = Dyadic;
    fn sub(self, other: Dyadic) -> Dyadic {
        &self - &other
    }
}

/// Exact product.
impl Mul for &Dyadic {
    type Output = Dyadic;
    fn mul(self, other: &Dyadic) -> Dyadic {
        if self.is_zero() || other.is_zero() {
            return Dyadic::zero();
        }
        // Odd times odd is odd: the product is already normalized.
        Dyadic {
            mant: &self.mant * &other.mant,
            exp: self.exp.saturating_add(other.exp),
        }
    }
}

impl Mul for Dyadic {
    type Output = Dyadic;
    fn mul(self, other: Dyadic) -> Dyadic {
        &self * &other
    }
}

impl From<i64> for Dyadic {
    fn from(n: i64) -> Dyadic {
        Dyadic::from_i64(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(m: i64, e: i64) -> Dyadic {
        Dyadic::from_parts(BigInt::from(m), e)
    }

    fn q(n: i64, den: i64) -> BigRational {
        BigRational::new(BigInt::from(n), BigInt::from(den))
    }

    #[test]
    fn normalization_makes_equality_structural() {
        assert_eq!(d(12, 0), d(3, 2));
        assert_eq!(d(12, 0).mant(), &BigInt::from(3));
        assert_eq!(d(0, 17), Dyadic::zero());
        assert_eq!(d(-8, -3), Dyadic::from_i64(-1));
    }

    #[test]
    fn exact_arithmetic_and_order() {
        let a = d(3, -2); // 0.75
        let b = d(5, -3); // 0.625
        assert_eq!(&a + &b, d(11, -3));
        assert_eq!(&a - &b, d(1, -3));
        assert_eq!(&a * &b, d(15, -5));
        assert_eq!(-&a, d(-3, -2));
        assert!(a > b && -&a < -&b && d(-1, 100) < d(1, -100));
        assert_eq!(a.cmp(&d(6, -3)), Ordering::Equal);
        assert_eq!(d(3, 5).floor_log2(), Some(6));
        assert_eq!(d(1, -7).floor_log2(), Some(-7));
        assert_eq!(a.to_rational(), q(3, 4));
        assert_eq!(d(-5, 3).to_rational(), q(-40, 1));
        assert_eq!(a.cmp_rational(&q(3, 4)), Ordering::Equal);
        assert_eq!(a.cmp_rational(&q(-3, 4)), Ordering::Greater);
        assert_eq!(d(-5, 3).cmp_rational(&q(-121, 3)), Ordering::Greater);
        assert_eq!(d(1, -2000).cmp_rational(&q(1, 3)), Ordering::Less);
    }

    #[test]
    fn directed_rounding() {
        // 0b10111 = 23 to 3 bits: 20 (down) / 24 (up).
        assert_eq!(d(23, 0).round_to(3, Direction::Down), d(20, 0));
        assert_eq!(d(23, 0).round_to(3, Direction::Up), d(24, 0));
        assert_eq!(d(-23, 0).round_to(3, Direction::Down), d(-24, 0));
        assert_eq!(d(-23, 0).round_to(3, Direction::Up), d(-20, 0));
        assert_eq!(d(7, 0).round_to(3, Direction::Up), d(7, 0));
        assert_eq!(d(15, 0).round_to(3, Direction::Up), d(16, 0));
    }

    #[test]
    fn division_and_rationals() {
        let third = Dyadic::div_round(&d(1, 0), &d(3, 0), 8, Direction::Down).unwrap();
        let third_up = Dyadic::div_round(&d(1, 0), &d(3, 0), 8, Direction::Up).unwrap();
        assert_eq!(third, d(85, -8));
        assert_eq!(third_up, d(171, -9));
        assert!(Dyadic::div_round(&d(1, 0), &Dyadic::zero(), 8, Direction::Up).is_none());
        let (lo, hi) = Dyadic::div_enclose(&d(-1, 0), &d(3, 0), 8).unwrap();
        assert_eq!((lo, hi), (-third_up, -third));
        // Exact when dyadic and it fits.
        let x = Dyadic::from_rational_round(&q(5, 8), 3, Direction::Up);
        assert_eq!(x, d(5, -3));
        let (lo, hi) = Dyadic::rational_enclose(&q(-3, 10), 20);
        assert!(lo.to_rational() < q(-3, 10) && hi.to_rational() > q(-3, 10));
        assert_eq!(&hi - &lo, d(1, -21));
    }

    #[test]
    fn rounded_add_with_huge_gap() {
        let one = Dyadic::one();
        let tiny = Dyadic::pow2(-(1 << 40));
        assert_eq!(one.add_round(&tiny, 10, Direction::Down), one);
        assert_eq!(one.add_round(&tiny, 10, Direction::Up), d(513, -9));
        assert_eq!(one.sub_round(&tiny, 10, Direction::Down), d(1023, -10));
        assert_eq!(one.sub_round(&tiny, 10, Direction::Up), one);
        assert_eq!(tiny.sub_round(&one, 10, Direction::Up), -d(1023, -10));
        // Near but not far: matches the exact sum rounded.
        let mut rng = crate::graph::sample::Rng::new(0x9e37_79b9_7f4a_7c15u64);
        let mut next = || rng.next_u64();
        for _ in 0..2000 {
            let a = d((next() >> 40) as i64 - (1 << 23), (next() % 80) as i64 - 40);
            let b = d((next() >> 40) as i64 - (1 << 23), (next() % 80) as i64 - 40);
            let prec = 1 + (next() % 30) as u32;
            for dir in [Direction::Down, Direction::Up] {
                assert_eq!(a.add_round(&b, prec, dir), (&a + &b).round_to(prec, dir));
                assert_eq!(a.sub_round(&b, prec, dir), (&a - &b).round_to(prec, dir));
            }
        }
    }
}
