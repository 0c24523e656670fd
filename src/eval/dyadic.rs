//! Exact dyadic rationals `mant · 2^exp` and their directed rounding.
//!
//! This module owns the number type every interval bound is made of. A [`Dyadic`] is kept
//! normalized (odd mantissa, or zero with exponent 0) so that equality and hashing are
//! structural. Sums, differences and products are exact; everything that can grow without
//! bound (quotients, rounded sums of far-apart operands) goes through the `*_round` methods,
//! which keep at most `prec` significant bits and round toward −∞ ([`Direction::Down`]) or
//! +∞ ([`Direction::Up`]).

use std::borrow::Cow;
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
    mant: Mant,
    exp: i64,
}

/// The mantissa: inline while it has at most [`SMALL_BITS`] bits, which covers every bound at
/// the usual working precisions, so that those bounds cost no allocation. Canonical (`Big` only
/// beyond `SMALL_BITS` bits), so equality and hashing stay structural.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Mant {
    Small(i128),
    Big(BigInt),
}

/// Most bits of an inline mantissa (its magnitude and sign fit an `i128`).
const SMALL_BITS: u32 = 127;

/// Largest precision the inline paths round to: a rounded magnitude, its carry and a sticky bit
/// stay below `2^126`, so sums of two of them cannot overflow an `i128`.
const FAST_PREC: u32 = 124;

/// Largest bit length of inline operands of an exact sum (so the sum fits an `i128`).
const SUM_BITS: i128 = 125;

impl Default for Dyadic {
    fn default() -> Self {
        Dyadic::zero()
    }
}

impl Dyadic {
    /// Zero.
    pub fn zero() -> Dyadic {
        Dyadic {
            mant: Mant::Small(0),
            exp: 0,
        }
    }

    /// One.
    pub fn one() -> Dyadic {
        Dyadic::pow2(0)
    }

    /// `mant · 2^exp`, normalized.
    pub fn from_parts(mant: BigInt, exp: i64) -> Dyadic {
        if mant.is_zero() {
            return Dyadic::zero();
        }
        // A nonzero BigInt always has a trailing-zero count.
        let tz = mant.trailing_zeros().unwrap_or(0);
        let (mant, exp) = if tz == 0 {
            (mant, exp)
        } else {
            // The shifted-out bits are zero, so the shift is exact whatever its rounding rule.
            (mant >> tz, exp.saturating_add(tz as i64))
        };
        match mant.magnitude().to_u128() {
            Some(mag) => from_u128(mant.is_negative(), mag, exp),
            None => Dyadic {
                mant: Mant::Big(mant),
                exp,
            },
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
        from_i128(i128::from(n), 0)
    }

    /// `2^k`.
    pub fn pow2(k: i64) -> Dyadic {
        Dyadic {
            mant: Mant::Small(1),
            exp: k,
        }
    }

    /// The odd mantissa (zero for zero).
    pub fn mant(&self) -> Cow<'_, BigInt> {
        match &self.mant {
            Mant::Small(m) => Cow::Owned(BigInt::from(*m)),
            Mant::Big(m) => Cow::Borrowed(m),
        }
    }

    /// The magnitude of the mantissa, when it is inline (no allocation, unlike [`Dyadic::mant`]).
    pub fn small_magnitude(&self) -> Option<u128> {
        match &self.mant {
            Mant::Small(m) => Some(m.unsigned_abs()),
            Mant::Big(_) => None,
        }
    }

    /// The binary exponent (0 for zero).
    pub fn exp(&self) -> i64 {
        self.exp
    }

    /// Number of significant bits of the mantissa (0 for zero).
    pub fn mant_bits(&self) -> u64 {
        match &self.mant {
            Mant::Small(m) => u64::from(bits_u128(m.unsigned_abs())),
            Mant::Big(m) => m.bits(),
        }
    }

    /// `floor(log2 |x|)`, the position of the leading bit; `None` for zero.
    pub fn floor_log2(&self) -> Option<i64> {
        if self.is_zero() {
            None
        } else {
            Some(self.exp.saturating_add(self.mant_bits() as i64 - 1))
        }
    }

    /// Whether the value is zero.
    pub fn is_zero(&self) -> bool {
        self.mant == Mant::Small(0)
    }

    /// −1, 0 or 1.
    pub fn signum(&self) -> i32 {
        match &self.mant {
            Mant::Small(m) => m.signum() as i32,
            Mant::Big(m) if m.is_negative() => -1,
            Mant::Big(_) => 1,
        }
    }

    /// Whether the value is strictly negative.
    pub fn is_negative(&self) -> bool {
        self.signum() < 0
    }

    /// Whether the value is strictly positive.
    pub fn is_positive(&self) -> bool {
        self.signum() > 0
    }

    /// `|x|`.
    pub fn abs(&self) -> Dyadic {
        Dyadic {
            mant: match &self.mant {
                Mant::Small(m) => Mant::Small(m.abs()),
                Mant::Big(m) => Mant::Big(m.abs()),
            },
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
        let mant = self.mant().into_owned();
        if self.exp >= 0 {
            BigRational::from_integer(mant << self.exp as u64)
        } else {
            BigRational::new_raw(mant, BigInt::one() << self.exp.unsigned_abs())
        }
    }

    /// Rough `f64` value for debugging output only; never used to compute results.
    pub fn to_f64_approx(&self) -> f64 {
        if self.is_zero() {
            return 0.0;
        }
        let bits = self.mant_bits() as i64;
        let drop = (bits - 60).max(0);
        let top = (self.mant().as_ref() >> drop as u64).to_i64().unwrap_or(0) as f64;
        let e = self.exp.saturating_add(drop).clamp(-2000, 2000) as i32;
        top * 2f64.powi(e)
    }

    /// Rounds to at most `prec` significant bits in direction `dir` (exact if it already fits).
    pub fn round_to(&self, prec: u32, dir: Direction) -> Dyadic {
        match &self.mant {
            Mant::Small(m) => round_u128(*m < 0, m.unsigned_abs(), self.exp, prec, dir),
            Mant::Big(_) if self.mant_bits() <= u64::from(prec.max(1)) => self.clone(),
            Mant::Big(_) => self.clone().into_round(prec, dir),
        }
    }

    /// [`Dyadic::round_to`] consuming `self`, saving a clone.
    pub fn into_round(self, prec: u32, dir: Direction) -> Dyadic {
        if self.mant_bits() <= u64::from(prec.max(1)) {
            return self;
        }
        match self.mant {
            Mant::Small(m) => round_u128(m < 0, m.unsigned_abs(), self.exp, prec, dir),
            Mant::Big(m) => {
                let (sign, mag) = m.into_parts();
                round_parts(sign, mag, self.exp, prec, dir)
            }
        }
    }

    /// `self + other` rounded to `prec` bits in direction `dir`.
    ///
    /// Unlike exact `+`, the cost is bounded by the operands' mantissa sizes and `prec` even
    /// when their exponents are far apart (e.g. `1 + e^-1000000`).
    pub fn add_round(&self, other: &Dyadic, prec: u32, dir: Direction) -> Dyadic {
        self.add_round_signed(other, false, prec, dir)
    }

    /// `self − other` rounded to `prec` bits in direction `dir` (bounded cost, see
    /// [`Dyadic::add_round`]).
    pub fn sub_round(&self, other: &Dyadic, prec: u32, dir: Direction) -> Dyadic {
        self.add_round_signed(other, true, prec, dir)
    }

    fn add_round_signed(&self, other: &Dyadic, negate: bool, prec: u32, dir: Direction) -> Dyadic {
        if let (Mant::Small(a), Mant::Small(b)) = (&self.mant, &other.mant) {
            // |b| < 2^127, so the negation cannot overflow.
            let b = if negate { -*b } else { *b };
            if let Some(sum) = add_round_small(*a, self.exp, b, other.exp, prec, dir) {
                return sum;
            }
        }
        add_round_big(
            &self.mant(),
            self.exp,
            &other.mant(),
            other.exp,
            negate,
            prec,
            dir,
        )
    }

    /// `self · other` rounded to `prec` bits in direction `dir`.
    pub fn mul_round(&self, other: &Dyadic, prec: u32, dir: Direction) -> Dyadic {
        match self.mul_truncated(other, prec) {
            Some((neg, t)) => t.finish(neg, dir),
            None => (self * other).into_round(prec, dir),
        }
    }

    /// Both directed roundings of `a · b` from a single product.
    pub fn mul_enclose(a: &Dyadic, b: &Dyadic, prec: u32) -> (Dyadic, Dyadic) {
        match a.mul_truncated(b, prec) {
            Some((neg, t)) => (t.finish(neg, Direction::Down), t.finish(neg, Direction::Up)),
            None => {
                let p = a * b;
                (
                    p.round_to(prec, Direction::Down),
                    p.into_round(prec, Direction::Up),
                )
            }
        }
    }

    /// The product of inline mantissas truncated to `prec` bits, with its sign; `None` when
    /// an operand is not inline or `prec` exceeds the inline paths.
    fn mul_truncated(&self, other: &Dyadic, prec: u32) -> Option<(bool, Truncated)> {
        match (&self.mant, &other.mant) {
            (Mant::Small(a), Mant::Small(b)) if prec <= FAST_PREC => {
                let (hi, lo) = mul_wide(a.unsigned_abs(), b.unsigned_abs());
                let exp = self.exp.saturating_add(other.exp);
                Some(((*a < 0) != (*b < 0), truncate_wide(hi, lo, exp, prec)))
            }
            _ => None,
        }
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
        if let Some((neg, t)) = rational_truncated(q, prec) {
            return t.finish(neg, dir);
        }
        let (sign, mag, exp) = rational_sticky(q, prec);
        round_parts(sign, mag, exp, prec, dir)
    }

    /// Both directed roundings of `q` from a single long division.
    pub fn rational_enclose(q: &BigRational, prec: u32) -> (Dyadic, Dyadic) {
        if let Some((neg, t)) = rational_truncated(q, prec) {
            return (t.finish(neg, Direction::Down), t.finish(neg, Direction::Up));
        }
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
        let mut l = self.mant().as_ref() * den;
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
                // length difference (and an aligned inline mantissa still fits a u128).
                let shift = self.exp.abs_diff(other.exp);
                if let (Mant::Small(x), Mant::Small(y)) = (&self.mant, &other.mant) {
                    let (x, y) = (x.unsigned_abs(), y.unsigned_abs());
                    return match self.exp.cmp(&other.exp) {
                        Ordering::Equal => x.cmp(&y),
                        Ordering::Greater => (x << shift).cmp(&y),
                        Ordering::Less => x.cmp(&(y << shift)),
                    };
                }
                let (x, y) = (self.mant(), other.mant());
                let (x, y) = (x.magnitude(), y.magnitude());
                match self.exp.cmp(&other.exp) {
                    Ordering::Equal => x.cmp(y),
                    Ordering::Greater => (x << shift).cmp(y),
                    Ordering::Less => x.cmp(&(y << shift)),
                }
            }
        }
    }
}

fn bits_u128(m: u128) -> u32 {
    128 - m.leading_zeros()
}

/// `±mag · 2^exp`, normalized.
fn from_u128(neg: bool, mag: u128, exp: i64) -> Dyadic {
    if mag == 0 {
        return Dyadic::zero();
    }
    let tz = mag.trailing_zeros();
    let (mag, exp) = (mag >> tz, exp.saturating_add(i64::from(tz)));
    let mant = if bits_u128(mag) <= SMALL_BITS {
        let m = mag as i128;
        Mant::Small(if neg { -m } else { m })
    } else {
        let sign = if neg { Sign::Minus } else { Sign::Plus };
        Mant::Big(BigInt::from_biguint(sign, BigUint::from(mag)))
    };
    Dyadic { mant, exp }
}

/// `m · 2^exp` (`m ≠ i128::MIN`), normalized.
fn from_i128(m: i128, exp: i64) -> Dyadic {
    from_u128(m < 0, m.unsigned_abs(), exp)
}

/// A magnitude truncated toward zero to at most `prec` bits: `q · 2^exp`, and whether bits
/// were dropped.
#[derive(Clone, Copy)]
struct Truncated {
    q: u128,
    exp: i64,
    inexact: bool,
}

impl Truncated {
    /// The signed value rounded in `dir`: away from zero by one unit when inexact and `dir`
    /// points away. `q < 2^127` here, so the carry cannot overflow.
    fn finish(self, neg: bool, dir: Direction) -> Dyadic {
        let away = matches!((neg, dir), (false, Direction::Up) | (true, Direction::Down));
        let q = if self.inexact && away {
            self.q + 1
        } else {
            self.q
        };
        from_u128(neg, q, self.exp)
    }
}

fn truncate_u128(mag: u128, exp: i64, prec: u32) -> Truncated {
    let p = prec.max(1);
    let bits = bits_u128(mag);
    if bits <= p {
        return Truncated {
            q: mag,
            exp,
            inexact: false,
        };
    }
    let shift = bits - p;
    Truncated {
        q: mag >> shift,
        exp: exp.saturating_add(i64::from(shift)),
        inexact: mag.trailing_zeros() < shift,
    }
}

/// Rounds `±mag · 2^exp` to `prec` bits in `dir`.
fn round_u128(neg: bool, mag: u128, exp: i64, prec: u32, dir: Direction) -> Dyadic {
    truncate_u128(mag, exp, prec).finish(neg, dir)
}

/// `(hi · 2^128 + lo) · 2^exp` truncated to `prec ≤ FAST_PREC` bits.
fn truncate_wide(hi: u128, lo: u128, exp: i64, prec: u32) -> Truncated {
    if hi == 0 {
        return truncate_u128(lo, exp, prec);
    }
    let bits = 256 - hi.leading_zeros();
    // More than 128 bits and prec ≤ FAST_PREC, so 4 < shift < 256.
    let shift = bits - prec.max(1);
    let (q, inexact) = if shift >= 128 {
        let s = shift - 128;
        (hi >> s, lo != 0 || hi & ((1u128 << s) - 1) != 0)
    } else {
        (
            (hi << (128 - shift)) | (lo >> shift),
            lo & ((1u128 << shift) - 1) != 0,
        )
    };
    Truncated {
        q,
        exp: exp.saturating_add(i64::from(shift)),
        inexact,
    }
}

/// The full 256-bit product `a · b` as `(high, low)` halves.
pub(super) fn mul_wide(a: u128, b: u128) -> (u128, u128) {
    const MASK: u128 = u64::MAX as u128;
    let (a1, a0) = (a >> 64, a & MASK);
    let (b1, b0) = (b >> 64, b & MASK);
    let (p00, p01, p10, p11) = (a0 * b0, a0 * b1, a1 * b0, a1 * b1);
    // Each term is below 2^64, so the middle column cannot overflow.
    let mid = (p00 >> 64) + (p01 & MASK) + (p10 & MASK);
    let lo = (p00 & MASK) | (mid << 64);
    let hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
    (hi, lo)
}

/// `a·2^ea + b·2^eb` rounded, in `i128` arithmetic; `None` when it does not fit there (the
/// caller then takes the BigInt path, which gives the same result).
fn add_round_small(
    a: i128,
    ea: i64,
    b: i128,
    eb: i64,
    prec: u32,
    dir: Direction,
) -> Option<Dyadic> {
    if prec > FAST_PREC {
        return None;
    }
    if a == 0 || b == 0 {
        let (m, e) = if a == 0 { (b, eb) } else { (a, ea) };
        return Some(round_u128(m < 0, m.unsigned_abs(), e, prec, dir));
    }
    let (ba, bb) = (bits_u128(a.unsigned_abs()), bits_u128(b.unsigned_abs()));
    let lo = ea.min(eb);
    let (sa, sb) = (
        i128::from(ea) - i128::from(lo),
        i128::from(eb) - i128::from(lo),
    );
    if i128::from(ba) + sa <= SUM_BITS && i128::from(bb) + sb <= SUM_BITS {
        let sum = (a << sa) + (b << sb);
        return Some(round_u128(sum < 0, sum.unsigned_abs(), lo, prec, dir));
    }
    // Far apart: the smaller operand becomes a sticky bit, as in `add_round_big` (see there).
    let p = i64::from(prec.max(1));
    let (ta, tb) = (
        ea.saturating_add(i64::from(ba) - 1),
        eb.saturating_add(i64::from(bb) - 1),
    );
    let ((big, big_exp, big_top, big_bits), (small, small_top)) = if ta >= tb {
        ((a, ea, ta, ba), (b, tb))
    } else {
        ((b, eb, tb, bb), (a, ta))
    };
    let m = big_exp.min(big_top.saturating_sub(p));
    if small_top >= m {
        return None;
    }
    let shift = i128::from(big_exp) - i128::from(m) + 1;
    if i128::from(big_bits) + shift > SUM_BITS {
        return None;
    }
    let shifted = big << shift;
    let sum = if small < 0 { shifted - 1 } else { shifted + 1 };
    Some(round_u128(sum < 0, sum.unsigned_abs(), m - 1, prec, dir))
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

/// `ma·2^ea ± mb·2^eb` rounded; replaces a far smaller operand by a sticky bit.
fn add_round_big(
    ma: &BigInt,
    ea: i64,
    mb: &BigInt,
    eb: i64,
    negate_b: bool,
    prec: u32,
    dir: Direction,
) -> Dyadic {
    if mb.is_zero() {
        return round_parts(ma.sign(), ma.magnitude().clone(), ea, prec, dir);
    }
    let b_sign = if negate_b { -mb.sign() } else { mb.sign() };
    if ma.is_zero() {
        return round_parts(b_sign, mb.magnitude().clone(), eb, prec, dir);
    }
    let p = i64::from(prec.max(1));
    let a_top = ea + ma.bits() as i64 - 1;
    let b_top = eb + mb.bits() as i64 - 1;
    // `big` has the larger leading bit. Every prec-bit number near |big| (in its binade and the
    // ones next to it) is a multiple of 2^(top-prec), and big itself is a multiple of 2^exp,
    // so no rounding boundary lies strictly between consecutive multiples of 2^m. If
    // |small| < 2^m the sum sits strictly inside such a gap, and replacing small by
    // ±2^(m-1) leaves every directed rounding unchanged.
    let (big_mant, big_exp, big_top, big_neg, small_top, small_sign) = if a_top >= b_top {
        (ma, ea, a_top, false, b_top, b_sign)
    } else {
        (mb, eb, b_top, negate_b, a_top, ma.sign())
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
    let lo = ea.min(eb);
    let xa = ma << (ea - lo) as u64;
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

/// [`quotient_sticky`] followed by the truncation to `prec` bits, in `u128` arithmetic when the
/// shifted numerator fits (a short rational such as a decimal literal at the usual precisions).
fn rational_truncated(q: &BigRational, prec: u32) -> Option<(bool, Truncated)> {
    let (num, den) = (q.numer(), q.denom());
    let (n, d) = (num.magnitude().to_u128()?, den.magnitude().to_u128()?);
    if n == 0 || d == 0 {
        return None;
    }
    let (bn, bd) = (bits_u128(n), bits_u128(d));
    let s = (prec.max(1) + bd + 1).saturating_sub(bn);
    // The quotient then has at most 126 bits, so appending a sticky bit still fits.
    if bn + s > 126 {
        return None;
    }
    let shifted = n << s;
    let (quot, rem) = (shifted / d, shifted % d);
    let exp = -i64::from(s);
    let (m, exp) = if rem == 0 {
        (quot, exp)
    } else {
        ((quot << 1) | 1, exp - 1)
    };
    let neg = num.is_negative() != den.is_negative();
    Some((neg, truncate_u128(m, exp, prec)))
}

fn div_sticky(a: &Dyadic, b: &Dyadic, prec: u32) -> Option<(Sign, BigUint, i64)> {
    if b.is_zero() {
        return None;
    }
    if a.is_zero() {
        return Some((Sign::NoSign, BigUint::zero(), 0));
    }
    let (ma, mb) = (a.mant(), b.mant());
    let sign = ma.sign() * mb.sign();
    let (q, e) = quotient_sticky(
        ma.magnitude(),
        mb.magnitude(),
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
        -&self
    }
}

impl Neg for &Dyadic {
    type Output = Dyadic;
    fn neg(self) -> Dyadic {
        // The magnitude is unchanged, so the representation stays canonical (and an inline
        // mantissa is never i128::MIN, so negating it cannot overflow).
        Dyadic {
            mant: match &self.mant {
                Mant::Small(m) => Mant::Small(-m),
                Mant::Big(m) => Mant::Big(-m),
            },
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
        if let (Mant::Small(a), Mant::Small(b)) = (&self.mant, &other.mant) {
            let (sa, sb) = (self.exp.abs_diff(lo), other.exp.abs_diff(lo));
            let fits =
                |m: &i128, s: u64| u64::from(bits_u128(m.unsigned_abs())) + s <= SUM_BITS as u64;
            if fits(a, sa) && fits(b, sb) {
                return from_i128((a << sa) + (b << sb), lo);
            }
        }
        let a = self.mant().as_ref() << (self.exp - lo) as u64;
        let b = other.mant().as_ref() << (other.exp - lo) as u64;
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
        let exp = self.exp.saturating_add(other.exp);
        if let (Mant::Small(a), Mant::Small(b)) = (&self.mant, &other.mant) {
            let (hi, lo) = mul_wide(a.unsigned_abs(), b.unsigned_abs());
            if hi == 0 {
                return from_u128((*a < 0) != (*b < 0), lo, exp);
            }
        }
        // Odd times odd is odd: the product is already normalized.
        Dyadic::from_parts(self.mant().as_ref() * other.mant().as_ref(), exp)
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
        assert_eq!(*d(12, 0).mant(), BigInt::from(3));
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
    /// A random dyadic with an inline mantissa of 0 to 127 bits (extremes included) and an
    /// exponent near 0 or, at times, far from it.
    fn random_small(next: &mut impl FnMut() -> u64) -> Dyadic {
        let bits = (next() % 128) as u32;
        let wide = (u128::from(next()) << 64) | u128::from(next());
        let mag = match next() % 8 {
            0 => (1u128 << bits) - 1,
            1 => 1u128 << bits.min(126),
            _ => wide >> (128 - bits.max(1)),
        };
        let m = if next().is_multiple_of(2) {
            mag as i128
        } else {
            -(mag as i128)
        };
        let exp = match next() % 6 {
            0 => (next() % 4_000) as i64 - 2_000,
            _ => (next() % 400) as i64 - 200,
        };
        let x = Dyadic::from_parts(BigInt::from(m), exp);
        assert!(matches!(x.mant, Mant::Small(_)), "{x:?} is inline");
        x
    }

    /// The BigInt path's rounding of an exact dyadic rational.
    fn reference_round(q: &BigRational, prec: u32, dir: Direction) -> Dyadic {
        let k = q.denom().trailing_zeros().unwrap_or(0);
        assert!(q.denom().magnitude().bits() == k + 1, "{q} is dyadic");
        round_parts(
            q.numer().sign(),
            q.numer().magnitude().clone(),
            -(k as i64),
            prec,
            dir,
        )
    }

    #[test]
    fn inline_paths_match_the_bigint_path() {
        let mut rng = crate::graph::sample::Rng::new(0x51ab_1e5e_ed00_0001u64);
        let mut next = || rng.next_u64();
        for _ in 0..20_000 {
            let (a, b) = (random_small(&mut next), random_small(&mut next));
            let prec = match next() % 4 {
                0 => 1 + (next() % 130) as u32,
                1 => 92,
                2 => 124,
                _ => 1 + (next() % 64) as u32,
            };
            let (qa, qb) = (a.to_rational(), b.to_rational());
            // Canonical: the inline value equals the one built through a BigInt.
            assert_eq!(Dyadic::from_parts(a.mant().into_owned(), a.exp()), a);
            assert_eq!(a.cmp(&b), qa.cmp(&qb), "{a:?} vs {b:?}");
            assert_eq!(a.cmp_abs(&b), qa.abs().cmp(&qb.abs()));
            assert_eq!((&a + &b).to_rational(), &qa + &qb);
            assert_eq!((&a - &b).to_rational(), &qa - &qb);
            assert_eq!((&a * &b).to_rational(), &qa * &qb);
            for dir in [Direction::Down, Direction::Up] {
                let sum = reference_round(&(&qa + &qb), prec, dir);
                assert_eq!(a.add_round(&b, prec, dir), sum, "{a:?} + {b:?} at {prec}");
                let difference = reference_round(&(&qa - &qb), prec, dir);
                assert_eq!(a.sub_round(&b, prec, dir), difference);
                let product = reference_round(&(&qa * &qb), prec, dir);
                assert_eq!(
                    a.mul_round(&b, prec, dir),
                    product,
                    "{a:?} * {b:?} at {prec}"
                );
                assert_eq!(a.round_to(prec, dir), reference_round(&qa, prec, dir));
            }
            let (lo, hi) = Dyadic::mul_enclose(&a, &b, prec);
            assert_eq!(lo, a.mul_round(&b, prec, Direction::Down));
            assert_eq!(hi, a.mul_round(&b, prec, Direction::Up));
        }
    }

    #[test]
    fn short_rationals_match_the_long_division() {
        let mut rng = crate::graph::sample::Rng::new(0x0dd5_eed5_0000_0002u64);
        let mut next = || rng.next_u64();
        for _ in 0..20_000 {
            let num = BigInt::from(next() >> (next() % 64))
                * if next().is_multiple_of(2) { 1 } else { -1 };
            let den = BigInt::from(1 + (next() >> (next() % 63 + 1)));
            let q = BigRational::new(num, den);
            let prec = 1 + (next() % 130) as u32;
            let (sign, mag, exp) = rational_sticky(&q, prec);
            let down = round_parts(sign, mag.clone(), exp, prec, Direction::Down);
            let up = round_parts(sign, mag, exp, prec, Direction::Up);
            assert_eq!(
                Dyadic::rational_enclose(&q, prec),
                (down.clone(), up.clone()),
                "{q}"
            );
            assert_eq!(Dyadic::from_rational_round(&q, prec, Direction::Down), down);
            assert_eq!(Dyadic::from_rational_round(&q, prec, Direction::Up), up);
        }
    }
}
