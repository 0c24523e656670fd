//! Correctly rounded decimal numbers: what bpsheet prints and what students write.
//!
//! This module owns decimal rounding and formatting. A [`Decimal`] is `digits · 10^-scale`
//! and keeps the trailing zeros its precision calls for (`0.5` at four significant digits is
//! `0.5000`), so the written scale also carries the tolerance a number implies. Rounding is
//! exact: [`round_rational`] rounds a rational correctly, and [`round_interval`] returns a
//! decimal only when every real in an enclosure rounds to it (rounding is monotone, so rounding
//! both bounds exactly and comparing suffices). A value that rounds to zero prints as `0.000…`,
//! never `-0.000…`.

use std::cmp::Ordering;
use std::fmt;

use num_bigint::{BigInt, BigUint, Sign};
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};

use super::dyadic::{Dyadic, mul_wide};
use super::interval::Interval;

/// How many digits to keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Precision {
    /// This many digits after the decimal point.
    Decimals(u32),
    /// This many significant digits (`Significant(0)` is treated as `Significant(1)`).
    Significant(u32),
}

/// How to break ties (values exactly halfway between two candidates).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RoundingMode {
    /// Ties away from zero, the school convention: 2.5 → 3, −2.5 → −3.
    HalfUp,
    /// Ties to the even neighbour (banker's rounding): 2.5 → 2, 3.5 → 4.
    HalfEven,
}

/// Most digits a rounded result may have; [`round_interval`] gives up (returns `None`) beyond.
pub const MAX_DIGITS: u64 = 10_000_000;

/// Largest `|scale|` [`Decimal::parse`] accepts, so a typed exponent cannot demand a huge power.
pub const MAX_PARSE_SCALE: i64 = 10_000_000;

/// Beyond these sizes exact rounding of a dyadic bound is replaced by interval refinement.
const EXACT_SCALE_LIMIT: i64 = 1 << 21;
const EXACT_SHIFT_LIMIT: i64 = 1 << 23;

/// Largest working precision (bits) the refinement path tries before giving up.
const APPROX_PREC_LIMIT: u32 = 1 << 16;

/// `floor(log10(2) · 2^64)`.
const LOG10_2_Q64: i128 = 5_553_023_288_523_357_132;

/// A decimal number `digits · 10^-scale`, with the trailing zeros its precision requires.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Decimal {
    digits: BigInt,
    scale: i64,
}

impl Decimal {
    /// `digits · 10^-scale`, kept as given (trailing zeros are significant).
    pub fn new(digits: BigInt, scale: i64) -> Decimal {
        Decimal { digits, scale }
    }

    /// The integer of all written digits, sign included.
    pub fn digits(&self) -> &BigInt {
        &self.digits
    }

    /// Number of digits after the decimal point (negative: zeros before it).
    pub fn scale(&self) -> i64 {
        self.scale
    }

    /// Whether the value is zero.
    pub fn is_zero(&self) -> bool {
        self.digits.is_zero()
    }

    /// Whether the value is strictly negative (a rounded zero never is).
    pub fn is_negative(&self) -> bool {
        self.digits.is_negative()
    }

    /// The exact value.
    pub fn to_rational(&self) -> BigRational {
        if self.scale >= 0 {
            BigRational::new(self.digits.clone(), pow10(self.scale.unsigned_abs()).into())
        } else {
            BigRational::from_integer(&self.digits * BigInt::from(pow10(self.scale.unsigned_abs())))
        }
    }

    /// The interval of reals that round to this decimal at its own scale:
    /// `value ± 5·10^-(scale+1)` (the tolerance its written digits imply).
    pub fn implied_interval(&self) -> (BigRational, BigRational) {
        let v = self.to_rational();
        let half = if self.scale >= 0 {
            BigRational::new(
                BigInt::one(),
                BigInt::from(pow10(self.scale.unsigned_abs()) * 2u32),
            )
        } else {
            BigRational::new(
                BigInt::from(pow10(self.scale.unsigned_abs())),
                BigInt::from(2),
            )
        };
        (&v - &half, v + half)
    }

    /// Number of significant digits as written (trailing zeros count; `0.0500` has 3).
    /// A zero has no leading digit, so it counts every written digit (`0.000` has 4).
    pub fn significant_digits(&self) -> u64 {
        if self.is_zero() {
            return (self.scale.max(0) as u64) + 1;
        }
        digit_count(self.digits.magnitude())
    }

    /// Decimal exponent of the leading digit (`0.00123` → −3, `45.6` → 1); 0 for zero.
    pub fn exponent10(&self) -> i64 {
        if self.is_zero() {
            return 0;
        }
        digit_count(self.digits.magnitude()) as i64 - 1 - self.scale
    }

    /// Mantissa and exponent for scientific notation, e.g. `("1.230", -6)` for `0.000001230`
    /// or `("-4.5", 2)` for `-450` written with two significant digits. Zero gives its plain
    /// form and exponent 0.
    pub fn to_scientific(&self) -> (String, i64) {
        if self.is_zero() {
            return (self.to_plain(), 0);
        }
        let s = self.magnitude_text();
        let mut m = String::with_capacity(s.len() + 2);
        if self.is_negative() {
            m.push('-');
        }
        m.push_str(&s[..1]);
        if s.len() > 1 {
            m.push('.');
            m.push_str(&s[1..]);
        }
        (m, s.len() as i64 - 1 - self.scale)
    }

    /// Plain positional notation (what `Display` pads): `0.1235`, `-12.50`, `0.000001230`,
    /// `12300`.
    pub fn to_plain(&self) -> String {
        let s = self.magnitude_text();
        let mut out = String::with_capacity(s.len() + 4);
        if self.is_negative() {
            out.push('-');
        }
        if self.scale <= 0 {
            out.push_str(&s);
            if !self.is_zero() {
                out.extend(std::iter::repeat_n('0', self.scale.unsigned_abs() as usize));
            }
        } else {
            let scale = self.scale as usize;
            if s.len() <= scale {
                out.push_str("0.");
                out.extend(std::iter::repeat_n('0', scale - s.len()));
                out.push_str(&s);
            } else {
                let (a, b) = s.split_at(s.len() - scale);
                out.push_str(a);
                out.push('.');
                out.push_str(b);
            }
        }
        out
    }

    /// The digits without the sign; machine-sized ones (every value a report prints) without
    /// `BigUint`'s radix conversion.
    fn magnitude_text(&self) -> String {
        let magnitude = self.digits.magnitude();
        match magnitude.to_u64() {
            Some(small) => small.to_string(),
            None => magnitude.to_string(),
        }
    }

    /// Whether plain notation would be unwieldy: leading-digit exponent below −6 or at least 15.
    pub fn prefers_scientific(&self) -> bool {
        if self.is_zero() {
            return false;
        }
        let e = self.exponent10();
        !(-6..15).contains(&e)
    }

    /// Parses `-0.0005`, `12`, `1.5e-3`, `.5`, `+2`, `5.` (surrounding whitespace allowed),
    /// keeping the written scale: `0.0500` has scale 4 and `1.5e-3` scale 4. `None` if the text
    /// is not such a number or its scale exceeds [`MAX_PARSE_SCALE`].
    pub fn parse(text: &str) -> Option<Decimal> {
        let s = text.trim();
        let (neg, s) = match s.as_bytes().first()? {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        let (mant, exp) = match s.find(['e', 'E']) {
            Some(i) => (&s[..i], parse_exponent(&s[i + 1..])?),
            None => (s, 0),
        };
        let (int, frac) = match mant.find('.') {
            Some(i) => (&mant[..i], &mant[i + 1..]),
            None => (mant, ""),
        };
        let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        if int.len() + frac.len() == 0 || !all_digits(int) || !all_digits(frac) {
            return None;
        }
        let scale = (frac.len() as i64).checked_sub(exp)?;
        if scale.abs() > MAX_PARSE_SCALE {
            return None;
        }
        let mut all = String::with_capacity(int.len() + frac.len());
        all.push_str(int);
        all.push_str(frac);
        let mag: BigUint = all.parse().ok()?;
        let sign = if neg { Sign::Minus } else { Sign::Plus };
        Some(Decimal {
            digits: BigInt::from_biguint(sign, mag),
            scale,
        })
    }

    /// Zero written at precision `prec`: `0.000` for `Significant(4)`, `0.0000` for
    /// `Decimals(4)`.
    pub fn zero(prec: Precision) -> Decimal {
        let scale = match prec {
            Precision::Decimals(n) => i64::from(n),
            Precision::Significant(n) => i64::from(n.max(1)) - 1,
        };
        Decimal {
            digits: BigInt::zero(),
            scale,
        }
    }
}

fn parse_exponent(t: &str) -> Option<i64> {
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

impl fmt::Display for Decimal {
    /// Plain positional notation: `0.1235`, `-12.50`, `0.000001230`, `12300`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.to_plain())
    }
}

/// `q` correctly rounded to `prec` with ties broken by `mode`.
///
/// The cost grows with the size of `q` and of the requested digits (the caller chooses both).
pub fn round_rational(q: &BigRational, prec: Precision, mode: RoundingMode) -> Decimal {
    if q.numer().is_zero() {
        return Decimal::zero(prec);
    }
    let neg = q.numer().is_negative() != q.denom().is_negative();
    let (r, scale) = round_exact(q.numer().magnitude(), q.denom().magnitude(), 0, prec, mode);
    make(neg, r, scale)
}

/// `Some(d)` iff every real in `iv` rounds to `d` (a point interval is exact, so a tie gets
/// `mode`'s rule). `None` means "refine the enclosure and retry"; it is also returned when the
/// result would need more than [`MAX_DIGITS`] digits, which no refinement fixes, so callers
/// should cap their refinement loop.
pub fn round_interval(iv: &Interval, prec: Precision, mode: RoundingMode) -> Option<Decimal> {
    if let Some(decided) = round_interval_small(iv, prec, mode) {
        return decided;
    }
    let lo = round_dyadic(iv.lo(), prec, mode)?;
    if iv.is_point() {
        return Some(lo);
    }
    let hi = round_dyadic(iv.hi(), prec, mode)?;
    (lo == hi).then_some(lo)
}

/// [`round_interval`] of nonzero bounds of one sign with inline mantissas, rounded in machine
/// integers, and a decimal made only when they agree; `None` when that does not apply or a
/// bound does not fit (where the `u128` rounding answers, it is [`round_dyadic`]'s).
fn round_interval_small(
    iv: &Interval,
    prec: Precision,
    mode: RoundingMode,
) -> Option<Option<Decimal>> {
    let (lo, hi) = (iv.lo(), iv.hi());
    if lo.is_zero() || lo.signum() != hi.signum() || iv.is_point() {
        return None;
    }
    let round = |x: &Dyadic| round_exact_in(&x.small_magnitude()?, &1, x.exp(), prec, mode);
    let (digits, scale) = round(lo)?;
    let agree = round(hi)? == (digits, scale);
    Some(agree.then(|| make(lo.is_negative(), BigUint::from(digits), scale)))
}

/// `x` correctly rounded to `prec`; `None` only when the result would exceed [`MAX_DIGITS`]
/// digits or (for astronomically large or small `x`) cannot be resolved within the internal
/// precision cap.
pub fn round_dyadic(x: &Dyadic, prec: Precision, mode: RoundingMode) -> Option<Decimal> {
    if x.is_zero() {
        return Some(Decimal::zero(prec));
    }
    let neg = x.is_negative();
    let e2 = x.exp();
    // floor(log10|x|) is within one of `est`.
    let est = est_log10(x.mant_bits(), 1, e2);
    match prec {
        Precision::Decimals(n) => {
            let n = i64::from(n);
            if est + 2 < -n {
                // |x| < 10^(est+2) ≤ 10^(-n-1): below half a unit in the last place.
                return Some(Decimal::zero(prec));
            }
            if (est + 2).saturating_add(n) > MAX_DIGITS as i64 {
                return None;
            }
            let (r, scale) = round_dyadic_exact(x, prec, mode);
            Some(make(neg, r, scale))
        }
        Precision::Significant(n) => {
            let n = n.max(1);
            if u64::from(n) > MAX_DIGITS {
                return None;
            }
            let s = i64::from(n) - 1 - est;
            if s.abs() <= EXACT_SCALE_LIMIT && e2.saturating_add(s).abs() <= EXACT_SHIFT_LIMIT {
                let (r, scale) = round_dyadic_exact(x, prec, mode);
                Some(make(neg, r, scale))
            } else {
                let (r, scale) = round_sig_refined(&x.abs(), n, est, mode)?;
                Some(make(neg, r, scale))
            }
        }
    }
}

/// Exact rounding of `|x|` (nonzero), from an inline mantissa without making a BigInt of it.
fn round_dyadic_exact(x: &Dyadic, prec: Precision, mode: RoundingMode) -> (BigUint, i64) {
    if let Some(m) = x.small_magnitude()
        && let Some((r, scale)) = round_exact_in(&m, &1, x.exp(), prec, mode)
    {
        return (BigUint::from(r), scale);
    }
    round_exact(x.mant().magnitude(), &BigUint::one(), x.exp(), prec, mode)
}

fn make(neg: bool, r: BigUint, scale: i64) -> Decimal {
    let sign = if neg { Sign::Minus } else { Sign::Plus };
    // from_biguint gives NoSign for zero, so a rounded zero never prints as "-0".
    Decimal {
        digits: BigInt::from_biguint(sign, r),
        scale,
    }
}

fn pow10(k: u64) -> BigUint {
    pow_u(10, k)
}

fn pow_u(base: u32, k: u64) -> BigUint {
    // Rounding asks for the same small powers of 2, 5 and 10 again and again.
    const CACHED: u64 = 64;
    if k < CACHED && matches!(base, 2 | 5 | 10) {
        thread_local! {
            static POWERS: std::cell::RefCell<[Vec<BigUint>; 3]> = Default::default();
        }
        let slot = match base {
            2 => 0,
            5 => 1,
            _ => 2,
        };
        return POWERS.with(|powers| {
            let mut powers = powers.borrow_mut();
            let table = &mut powers[slot];
            if table.is_empty() {
                let mut power = BigUint::one();
                for _ in 0..CACHED {
                    table.push(power.clone());
                    power *= base;
                }
            }
            table[k as usize].clone()
        });
    }
    let mut result = BigUint::one();
    let mut b = BigUint::from(base);
    let mut k = k;
    while k > 0 {
        if k & 1 == 1 {
            result *= &b;
        }
        k >>= 1;
        if k > 0 {
            b = &b * &b;
        }
    }
    result
}

/// Number of decimal digits of a nonzero `n`.
fn digit_count(n: &BigUint) -> u64 {
    if let Some(small) = n.to_u64() {
        return u64::from(small.checked_ilog10().unwrap_or(0)) + 1;
    }
    // 10^(d-1) ≤ n < 10^d with d one of two candidates from the bit length.
    let est = est_log10(n.bits(), 1, 0).max(0) as u64;
    if *n >= pow10(est + 1) {
        est + 2
    } else {
        est + 1
    }
}

/// `floor((bn − bd + e2) · log10 2)`, within one of `floor(log10(num/den · 2^e2))`.
fn est_log10(bn: u64, bd: u64, e2: i64) -> i64 {
    let l2 = i128::from(bn) - i128::from(bd) + i128::from(e2);
    ((l2 * LOG10_2_Q64) >> 64) as i64
}

/// Exact rounding of the magnitude `num/den · 2^e2` (nonzero): digits and scale. In machine
/// integers when they hold every intermediate, as they do for the short fractions and bounds
/// nearly every printed value has.
fn round_exact(
    num: &BigUint,
    den: &BigUint,
    e2: i64,
    prec: Precision,
    mode: RoundingMode,
) -> (BigUint, i64) {
    if let (Some(n), Some(d)) = (num.to_u128(), den.to_u128())
        && let Some((r, scale)) = round_exact_in(&n, &d, e2, prec, mode)
    {
        return (BigUint::from(r), scale);
    }
    round_exact_in(num, den, e2, prec, mode).expect("BigUint arithmetic does not overflow")
}

/// [`round_exact`] in the integers `M`; `None` when an intermediate does not fit them.
fn round_exact_in<M: Magnitude>(
    num: &M,
    den: &M,
    e2: i64,
    prec: Precision,
    mode: RoundingMode,
) -> Option<(M, i64)> {
    match prec {
        Precision::Decimals(n) => {
            let s = i64::from(n);
            let (q, half) = num.scaled_floor(den, e2, s)?;
            Some((round_half(q, half, mode)?, s))
        }
        Precision::Significant(n) => {
            let n = n.max(1);
            let ten_n = M::pow10(n)?;
            let ten_n1 = M::pow10(n - 1)?;
            let mut e = est_log10(num.bit_len(), den.bit_len(), e2);
            loop {
                let s = i64::from(n) - 1 - e;
                let (q, half) = num.scaled_floor(den, e2, s)?;
                // Each test is an exact statement about |v| against 10^e, so e converges.
                if q >= ten_n {
                    e += 1;
                    continue;
                }
                if q < ten_n1 {
                    e -= 1;
                    continue;
                }
                let r = round_half(q, half, mode)?;
                // 9.995 → 10.0: one fewer decimal keeps n significant digits.
                return Some(if r == ten_n { (ten_n1, s - 1) } else { (r, s) });
            }
        }
    }
}

fn round_half<M: Magnitude>(q: M, half: Ordering, mode: RoundingMode) -> Option<M> {
    let up = match half {
        Ordering::Less => false,
        Ordering::Greater => true,
        Ordering::Equal => match mode {
            RoundingMode::HalfUp => true,
            RoundingMode::HalfEven => q.is_odd_magnitude(),
        },
    };
    if up { q.plus_one() } else { Some(q) }
}

/// Unsigned integers exact rounding computes in. Every operation is exact; `None` says a
/// result does not fit (never for BigUint).
trait Magnitude: Sized + Ord {
    fn bit_len(&self) -> u64;
    fn pow10(k: u32) -> Option<Self>;
    fn is_odd_magnitude(&self) -> bool;
    fn plus_one(self) -> Option<Self>;
    /// `floor(self/den · 2^e2 · 10^s)` and how the remainder compares with one half.
    fn scaled_floor(&self, den: &Self, e2: i64, s: i64) -> Option<(Self, Ordering)>;
}

impl Magnitude for BigUint {
    fn bit_len(&self) -> u64 {
        self.bits()
    }

    fn pow10(k: u32) -> Option<BigUint> {
        Some(pow10(u64::from(k)))
    }

    fn is_odd_magnitude(&self) -> bool {
        self.is_odd()
    }

    fn plus_one(self) -> Option<BigUint> {
        Some(self + 1u32)
    }

    fn scaled_floor(&self, den: &BigUint, e2: i64, s: i64) -> Option<(BigUint, Ordering)> {
        let num = self;
        let t2 = e2.saturating_add(s);
        let (mut n, mut d) = (num.clone(), den.clone());
        if s >= 0 {
            n *= pow_u(5, s as u64);
        } else {
            d *= pow_u(5, s.unsigned_abs());
        }
        if t2 >= 0 {
            n <<= t2 as u64;
        } else if d.is_one() {
            // Dividing by a power of two: read the quotient and the half-comparison off the bits.
            let k = t2.unsigned_abs();
            let q = &n >> k;
            let half = if !n.bit(k - 1) {
                Ordering::Less
            } else if n.trailing_zeros().unwrap_or(0) >= k - 1 {
                Ordering::Equal
            } else {
                Ordering::Greater
            };
            return Some((q, half));
        } else {
            d <<= t2.unsigned_abs();
        }
        let (q, r) = n.div_rem(&d);
        let half = (r << 1u32).cmp(&d);
        Some((q, half))
    }
}

impl Magnitude for u128 {
    fn bit_len(&self) -> u64 {
        u64::from(128 - self.leading_zeros())
    }

    fn pow10(k: u32) -> Option<u128> {
        POW10_U128.get(k as usize).copied()
    }

    fn is_odd_magnitude(&self) -> bool {
        self % 2 == 1
    }

    fn plus_one(self) -> Option<u128> {
        self.checked_add(1)
    }

    fn scaled_floor(&self, den: &u128, e2: i64, s: i64) -> Option<(u128, Ordering)> {
        let (num, den) = (*self, *den);
        let t2 = e2.checked_add(s)?;
        let pow5 = |k: u64| POW5_U128.get(usize::try_from(k).ok()?).copied();
        if den == 1 && s >= 0 && t2 < 0 {
            // A bound: its mantissa times 5^s (up to 256 bits) over a power of two, read off the
            // bits.
            let (hi, lo) = mul_wide(num, pow5(s as u64)?);
            return shift_right_wide(hi, lo, t2.unsigned_abs());
        }
        let shl = |x: u128, k: u64| {
            let k = u32::try_from(k).ok()?;
            (k < x.leading_zeros()).then(|| x << k)
        };
        let (n, d) = if s >= 0 {
            (num.checked_mul(pow5(s as u64)?)?, den)
        } else {
            (num, den.checked_mul(pow5(s.unsigned_abs())?)?)
        };
        let (n, d) = if t2 >= 0 {
            (shl(n, t2 as u64)?, d)
        } else {
            (n, shl(d, t2.unsigned_abs())?)
        };
        let (q, r) = (n / d, n % d);
        // 2r against d, without doubling r.
        Some((q, r.cmp(&(d - r))))
    }
}

/// `10^k` for every `k` whose power fits a `u128`.
const POW10_U128: [u128; 39] = powers_u128(10);

/// `5^k` for every `k` whose power fits a `u128`.
const POW5_U128: [u128; 56] = powers_u128(5);

const fn powers_u128<const N: usize>(base: u128) -> [u128; N] {
    let mut powers = [1u128; N];
    let mut k = 1;
    while k < N {
        powers[k] = powers[k - 1] * base;
        k += 1;
    }
    powers
}

/// `floor((hi · 2^128 + lo) / 2^k)` for `k ≥ 1` and how the remainder compares with one half
/// (`2^(k−1)`); `None` when the quotient does not fit a `u128`.
fn shift_right_wide(hi: u128, lo: u128, k: u64) -> Option<(u128, Ordering)> {
    // The bit just below the quotient, and whether any bit below that one is set.
    let bit = |i: u64| match i {
        0..128 => lo >> i & 1 == 1,
        128..256 => hi >> (i - 128) & 1 == 1,
        _ => false,
    };
    let below = |i: u64| match i {
        0 => false,
        1..128 => lo & ((1u128 << i) - 1) != 0,
        128..256 => lo != 0 || hi & ((1u128 << (i - 128)) - 1) != 0,
        _ => lo != 0 || hi != 0,
    };
    let q = match k {
        0 => return None,
        1..128 => {
            if hi >> k != 0 {
                return None;
            }
            (hi << (128 - k)) | (lo >> k)
        }
        128..256 => hi >> (k - 128),
        _ => 0,
    };
    let half = match (bit(k - 1), below(k - 1)) {
        (false, _) => Ordering::Less,
        (true, false) => Ordering::Equal,
        (true, true) => Ordering::Greater,
    };
    Some((q, half))
}

/// Significant-digit rounding of `x > 0` whose binary exponent is too large for exact
/// rounding: encloses `x · 10^s` with intervals until both bounds round alike.
fn round_sig_refined(x: &Dyadic, n: u32, est: i64, mode: RoundingMode) -> Option<(BigUint, i64)> {
    let ten_n = pow10(u64::from(n));
    let ten_n1 = pow10(u64::from(n) - 1);
    let (top, bottom) = (
        Dyadic::from_bigint(ten_n.clone().into()),
        Dyadic::from_bigint(ten_n1.clone().into()),
    );
    let ax = Interval::point(x.clone());
    let ten = Interval::from_i64(10);
    let mut e = est;
    let mut prec = 4 * n + 64;
    let mut moves = 0;
    while prec <= APPROX_PREC_LIMIT && moves < 8 {
        let s = i64::from(n) - 1 - e;
        let t = ax.mul(&ten.powi(s, prec).ok()?, prec).ok()?;
        if *t.lo() >= top {
            e += 1;
            moves += 1;
            continue;
        }
        if *t.hi() < bottom {
            e -= 1;
            moves += 1;
            continue;
        }
        if *t.lo() >= bottom && *t.hi() < top {
            let one = BigUint::one();
            let round = |d: &Dyadic| {
                let (q, half) = d.mant().magnitude().scaled_floor(&one, d.exp(), 0)?;
                round_half(q, half, mode)
            };
            let (r_lo, r_hi) = (round(t.lo())?, round(t.hi())?);
            if r_lo == r_hi {
                return Some(if r_lo == ten_n {
                    (ten_n1, s - 1)
                } else {
                    (r_lo, s)
                });
            }
        }
        prec *= 2;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use Precision::{Decimals, Significant};
    use RoundingMode::{HalfEven, HalfUp};

    fn q(n: i64, d: i64) -> BigRational {
        BigRational::new(BigInt::from(n), BigInt::from(d))
    }

    fn dec(s: &str) -> BigRational {
        Decimal::parse(s).unwrap().to_rational()
    }

    fn r(x: &BigRational, p: Precision, m: RoundingMode) -> String {
        round_rational(x, p, m).to_string()
    }

    #[test]
    fn ties_follow_the_mode() {
        assert_eq!(r(&q(1, 8), Decimals(2), HalfUp), "0.13");
        assert_eq!(r(&q(1, 8), Decimals(2), HalfEven), "0.12");
        assert_eq!(r(&q(-1, 8), Decimals(2), HalfUp), "-0.13");
        assert_eq!(r(&q(-1, 8), Decimals(2), HalfEven), "-0.12");
        assert_eq!(r(&q(5, 2), Decimals(0), HalfUp), "3");
        assert_eq!(r(&q(-5, 2), Decimals(0), HalfUp), "-3");
        assert_eq!(r(&q(5, 2), Decimals(0), HalfEven), "2");
        assert_eq!(r(&q(7, 2), Decimals(0), HalfEven), "4");
        assert_eq!(r(&dec("0.0005"), Significant(1), HalfUp), "0.0005");
        assert_eq!(r(&dec("0.0005"), Decimals(3), HalfUp), "0.001");
        assert_eq!(r(&dec("0.0005"), Decimals(3), HalfEven), "0.000");
        assert_eq!(r(&dec("0.00045"), Significant(1), HalfUp), "0.0005");
        assert_eq!(r(&dec("0.00045"), Significant(1), HalfEven), "0.0004");
        assert_eq!(r(&dec("0.000450001"), Significant(1), HalfEven), "0.0005");
    }

    #[test]
    fn carries_change_the_scale() {
        let d = round_rational(&dec("9.995"), Significant(3), HalfUp);
        assert_eq!((d.to_string(), d.scale()), ("10.0".to_string(), 1));
        assert_eq!(r(&dec("9.995"), Significant(3), HalfEven), "10.0");
        assert_eq!(r(&dec("9.985"), Significant(3), HalfEven), "9.98");
        assert_eq!(r(&dec("0.09995"), Significant(3), HalfUp), "0.100");
        assert_eq!(r(&dec("-0.09995"), Significant(3), HalfUp), "-0.100");
        assert_eq!(r(&dec("999.96"), Decimals(1), HalfUp), "1000.0");
        assert_eq!(r(&dec("12345"), Significant(3), HalfUp), "12300");
        assert_eq!(r(&dec("0.5"), Significant(4), HalfUp), "0.5000");
        assert_eq!(r(&q(2, 3), Significant(4), HalfUp), "0.6667");
        assert_eq!(r(&q(-2, 3), Decimals(0), HalfUp), "-1");
    }

    #[test]
    fn zero_never_has_a_sign() {
        assert_eq!(r(&q(0, 1), Significant(4), HalfUp), "0.000");
        assert_eq!(r(&q(0, 1), Significant(1), HalfUp), "0");
        assert_eq!(r(&q(0, 1), Decimals(4), HalfUp), "0.0000");
        assert_eq!(r(&q(0, 1), Decimals(0), HalfUp), "0");
        assert_eq!(r(&dec("-0.0004"), Decimals(3), HalfUp), "0.000");
        assert_eq!(r(&dec("-0.0005"), Decimals(3), HalfEven), "0.000");
        assert_eq!(r(&dec("-0.0005"), Decimals(3), HalfUp), "-0.001");
        let tiny = Interval::point(Dyadic::from_parts(BigInt::from(-3), -200));
        let z = round_interval(&tiny, Decimals(4), HalfUp).unwrap();
        assert_eq!(z.to_string(), "0.0000");
        assert!(!z.is_negative());
    }

    #[test]
    fn intervals_round_only_when_unambiguous() {
        let tie = Dyadic::from_parts(BigInt::one(), -3); // 0.125
        let point = Interval::point(tie.clone());
        assert_eq!(
            round_interval(&point, Decimals(2), HalfUp)
                .unwrap()
                .to_string(),
            "0.13"
        );
        assert_eq!(
            round_interval(&point, Decimals(2), HalfEven)
                .unwrap()
                .to_string(),
            "0.12"
        );
        let eps = Dyadic::pow2(-40);
        let around = Interval::from_bounds(&tie - &eps, &tie + &eps).unwrap();
        assert_eq!(round_interval(&around, Decimals(2), HalfUp), None);
        assert_eq!(round_interval(&around, Decimals(2), HalfEven), None);
        assert_eq!(
            round_interval(&around, Decimals(1), HalfUp)
                .unwrap()
                .to_string(),
            "0.1"
        );
        let above = Interval::from_bounds(&tie + &eps, &tie + &eps.mul_pow2(1)).unwrap();
        assert_eq!(
            round_interval(&above, Decimals(2), HalfEven)
                .unwrap()
                .to_string(),
            "0.13"
        );
        // Across a power of ten both sides still agree when the carry makes them equal.
        let a = Interval::from_rational(&dec("0.099996"), 80);
        let b = Interval::from_rational(&dec("0.10001"), 80);
        let both = a.hull(&b);
        assert_eq!(
            round_interval(&both, Significant(3), HalfUp)
                .unwrap()
                .to_string(),
            "0.100"
        );
        // Straddling zero can never be resolved at significant precision.
        let z = Interval::from_bounds(-eps.clone(), eps.clone()).unwrap();
        assert_eq!(round_interval(&z, Significant(2), HalfUp), None);
        assert_eq!(
            round_interval(&z, Decimals(2), HalfUp).unwrap().to_string(),
            "0.00"
        );
    }

    /// Independent oracle: num-rational's `round` (half away from zero) and `floor`.
    fn oracle(x: &BigRational, p: Precision, mode: RoundingMode) -> (BigInt, i64) {
        let ten = BigRational::from_integer(BigInt::from(10));
        let scale = match p {
            Decimals(n) => i64::from(n),
            Significant(n) => {
                let mut e = 0i64;
                let a = x.abs();
                while a >= ten.pow(e as i32 + 1) {
                    e += 1;
                }
                while a < ten.pow(e as i32) {
                    e -= 1;
                }
                i64::from(n) - 1 - e
            }
        };
        let scaled = x * ten.pow(scale as i32);
        let mut rounded = scaled.round();
        if mode == HalfEven && (&scaled - scaled.trunc()).abs() == q(1, 2) {
            let t = scaled.trunc();
            rounded = if t.to_integer().is_even() { t } else { rounded };
        }
        let digits = rounded.to_integer();
        if let Significant(n) = p
            && digits.abs() == BigInt::from(10).pow(n)
        {
            return (digits / 10, scale - 1);
        }
        (digits, scale)
    }

    #[test]
    fn matches_an_independent_oracle() {
        let mut rng = crate::graph::sample::Rng::new(0x2545_f491_4f6c_dd1du64);
        let mut next = || rng.next_u64();
        for i in 0..3000 {
            let num = (next() % 2_000_001) as i64 - 1_000_000;
            let den = [1, 2, 4, 8, 10, 16, 20, 40, 80, 125, 1000, 3, 7, 9999][i % 14]
                * (1 + (next() % 50) as i64);
            let x = q(num, den);
            for p in [
                Decimals(0),
                Decimals(2),
                Decimals(5),
                Significant(1),
                Significant(3),
            ] {
                for mode in [HalfUp, HalfEven] {
                    let got = round_rational(&x, p, mode);
                    if x.is_zero() {
                        assert_eq!(got, Decimal::zero(p));
                        continue;
                    }
                    let (digits, scale) = oracle(&x, p, mode);
                    assert_eq!(
                        (got.digits().clone(), got.scale()),
                        (digits, scale),
                        "{x} {p:?}"
                    );
                    // The dyadic path agrees whenever x is dyadic.
                    let iv = Interval::from_rational(&x, 200);
                    if iv.is_point() {
                        assert_eq!(round_interval(&iv, p, mode), Some(got));
                    }
                }
            }
        }
    }

    /// The machine-integer rounding, wherever it answers, is the BigUint rounding: fractions
    /// and bounds of every size up to the `u128` limits, ties and near-ties, exponents near
    /// and far, every precision up to the widest `u128` digit counts.
    #[test]
    fn small_rounding_matches_the_biguint_path() {
        let mut rng = crate::graph::sample::Rng::new(0x7e57_0f5a_1100_0003_u64);
        let mut next = || rng.next_u64();
        let (mut answered, mut ties) = (0, 0);
        for i in 0..40_000 {
            let wide = |next: &mut dyn FnMut() -> u64| {
                let bits = 1 + next() % 128;
                let x = (u128::from(next()) << 64 | u128::from(next())) >> (128 - bits);
                match next() % 6 {
                    0 => (1u128 << bits.min(127)) - 1,
                    1 => 1u128 << bits.min(127),
                    _ => x,
                }
                .max(1)
            };
            let num = wide(&mut next);
            let den = match i % 4 {
                0 | 1 => 1,
                2 => [3, 10, 100, 7, 125, 1000, 9999][(next() % 7) as usize],
                _ => wide(&mut next),
            };
            let e2 = (next() % 400) as i64 - 250;
            let mut prec = match next() % 4 {
                0 => Decimals((next() % 40) as u32),
                1 => Significant(15),
                _ => Significant(1 + (next() % 40) as u32),
            };
            // Ties: an odd m·2^(-1-s) is halfway between two multiples of 10^-s; rounded to s
            // decimals, or to as many significant digits as that puts before the half.
            let (num, den, e2) = if i % 4 == 1 {
                let s = next() % 30;
                let num = (num >> 1) * 2 + 1;
                let below = (BigUint::from(num) * pow_u(5, s)) >> 1u32;
                prec = match next() % 2 {
                    0 => Decimals(s as u32),
                    _ => Significant(digit_count(&below) as u32),
                };
                (num, 1, -1 - s as i64)
            } else {
                (num, den, e2)
            };
            let (n, d) = (BigUint::from(num), BigUint::from(den));
            for mode in [HalfUp, HalfEven] {
                let Some((r, scale)) = round_exact_in(&num, &den, e2, prec, mode) else {
                    continue;
                };
                answered += 1;
                let big = round_exact_in(&n, &d, e2, prec, mode).unwrap();
                assert_eq!(
                    (BigUint::from(r), scale),
                    big,
                    "{num}/{den}·2^{e2} {prec:?} {mode:?}"
                );
                let s = match prec {
                    Decimals(n) => i64::from(n),
                    Significant(_) => scale,
                };
                if n.scaled_floor(&d, e2, s).unwrap().1 == Ordering::Equal {
                    ties += 1;
                }
            }
        }
        assert!(
            answered > 30_000 && ties > 5_000,
            "{answered} answered, {ties} ties"
        );
    }

    /// An interval of inline bounds rounds, in machine integers, to what rounding each bound
    /// in BigUint arithmetic says: a decimal when they agree (bounds a hair apart, on either
    /// side of a half), nothing when they do not.
    #[test]
    fn small_intervals_round_as_their_bounds() {
        let mut rng = crate::graph::sample::Rng::new(0x1a7e_0001_0000_0004_u64);
        let mut next = || rng.next_u64();
        let (mut agreed, mut disagreed) = (0, 0);
        for i in 0..20_000 {
            let m = (u128::from(next()) << 64 | u128::from(next())) >> (next() % 100) | 1;
            let e = (next() % 300) as i64 - 200;
            let lo = Dyadic::from_parts(BigInt::from(m), e);
            let width = Dyadic::from_parts(BigInt::from(1 + next() % 5), e - (next() % 8) as i64);
            let hi = &lo + &width;
            let (lo, hi) = if i % 2 == 0 { (lo, hi) } else { (-hi, -lo) };
            let iv = Interval::from_bounds(lo, hi).unwrap();
            let prec = match next() % 3 {
                0 => Decimals((next() % 30) as u32),
                _ => Significant(1 + (next() % 38) as u32),
            };
            for mode in [HalfUp, HalfEven] {
                let Some(got) = round_interval_small(&iv, prec, mode) else {
                    continue;
                };
                let bound = |x: &Dyadic| {
                    let magnitude = x.mant().magnitude().clone();
                    let (r, scale) =
                        round_exact_in(&magnitude, &BigUint::one(), x.exp(), prec, mode).unwrap();
                    make(x.is_negative(), r, scale)
                };
                let (lo, hi) = (bound(iv.lo()), bound(iv.hi()));
                assert_eq!(got, (lo == hi).then_some(lo), "{iv:?} {prec:?} {mode:?}");
                if got.is_some() {
                    agreed += 1;
                } else {
                    disagreed += 1;
                }
            }
        }
        assert!(
            agreed > 10_000 && disagreed > 1_000,
            "{agreed} agreed, {disagreed} not"
        );
    }

    #[test]
    fn refinement_path_matches_exact_path() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..300 {
            let m = BigInt::from((next() >> 11) | 1) * if next() % 2 == 0 { 1 } else { -1 };
            let x = Dyadic::from_parts(m, (next() % 6000) as i64 - 3000);
            let n = 1 + (next() % 25) as u32;
            let est = est_log10(x.mant_bits(), 1, x.exp());
            let one = BigUint::one();
            for mode in [HalfUp, HalfEven] {
                let exact = round_exact(x.mant().magnitude(), &one, x.exp(), Significant(n), mode);
                let refined = round_sig_refined(&x.abs(), n, est, mode).unwrap();
                assert_eq!(exact, refined);
            }
        }
    }

    #[test]
    fn parse_keeps_the_written_scale() {
        let cases = [
            ("-0.0005", "-0.0005", 4),
            ("12", "12", 0),
            ("1.5e-3", "0.0015", 4),
            (".5", "0.5", 1),
            ("+2", "2", 0),
            ("0.0500", "0.0500", 4),
            ("5.", "5", 0),
            ("12e3", "12000", -3),
            ("1.230E-6", "0.000001230", 9),
            ("  -0.0  ", "0.0", 1),
            ("-12.50", "-12.50", 2),
        ];
        for (text, shown, scale) in cases {
            let d = Decimal::parse(text).unwrap();
            assert_eq!(
                (d.to_string(), d.scale()),
                (shown.to_string(), scale),
                "{text}"
            );
            assert_eq!(
                Decimal::parse(&d.to_string()).unwrap().to_rational(),
                d.to_rational()
            );
        }
        for bad in [
            "", ".", "e5", "1e", "--1", "1.2.3", "1e5.5", "abc", "1 2", "+", "1e+", "0x1",
        ] {
            assert_eq!(Decimal::parse(bad), None, "{bad:?}");
        }
        assert_eq!(Decimal::parse("1e-99999999999"), None);
        assert_eq!(dec("1.5e-3"), q(3, 2000));
    }

    #[test]
    fn implied_interval_and_notation() {
        let d = Decimal::parse("0.0500").unwrap();
        assert_eq!(d.implied_interval(), (dec("0.04995"), dec("0.05005")));
        assert_eq!(d.significant_digits(), 3);
        assert_eq!(d.exponent10(), -2);
        let d = Decimal::parse("12e3").unwrap();
        assert_eq!(d.implied_interval(), (dec("11500"), dec("12500")));
        let d = Decimal::parse("0.000001230").unwrap();
        assert_eq!(d.to_scientific(), ("1.230".to_string(), -6));
        assert!(!d.prefers_scientific()); // exponent −6 is still plain
        assert_eq!(
            Decimal::parse("-450").unwrap().to_scientific(),
            ("-4.50".to_string(), 2)
        );
        assert_eq!(
            Decimal::parse("7").unwrap().to_scientific(),
            ("7".to_string(), 0)
        );
        assert!(
            !Decimal::parse("123456789012345.6")
                .unwrap()
                .prefers_scientific()
        );
        assert!(
            Decimal::parse("1234567890123456")
                .unwrap()
                .prefers_scientific()
        );
        assert!(!Decimal::parse("0.000001").unwrap().prefers_scientific());
        assert!(Decimal::parse("0.0000001").unwrap().prefers_scientific());
        assert_eq!(Decimal::zero(Significant(4)).significant_digits(), 4);
        assert_eq!(
            Decimal::zero(Significant(4)).to_scientific(),
            ("0.000".to_string(), 0)
        );
        assert_eq!(
            format!("{:>8}", Decimal::parse("-1.5").unwrap()),
            "    -1.5"
        );
    }

    #[test]
    fn machine_and_big_digits_print_alike() {
        // Around 10^k and around u64::MAX, where the machine-integer path hands over to BigUint.
        let mut cases: Vec<BigUint> = (0..=40u32)
            .flat_map(|k| {
                let p = BigUint::from(10u32).pow(k);
                [p.clone() - 1u32, p.clone(), p + 1u32]
            })
            .collect();
        let max = BigUint::from(u64::MAX);
        cases.extend([max.clone() - 1u32, max.clone(), max + 1u32]);
        for n in cases.into_iter().filter(|n| !n.is_zero()) {
            let text = n.to_string();
            assert_eq!(digit_count(&n), text.len() as u64, "digits of {text}");
            for (scale, sign) in [(0, 1), (3, -1), (45, 1), (-2, -1)] {
                let d = Decimal::new(BigInt::from(n.clone()) * sign, scale);
                let expected = match scale {
                    0 => text.clone(),
                    -2 => format!("{text}00"),
                    _ => {
                        let padded = format!("{text:0>width$}", width = scale as usize + 1);
                        let (whole, fraction) = padded.split_at(padded.len() - scale as usize);
                        format!("{whole}.{fraction}")
                    }
                };
                let expected = if sign < 0 {
                    format!("-{expected}")
                } else {
                    expected
                };
                assert_eq!(d.to_string(), expected);
                assert_eq!(d.to_scientific().0.replace(['.', '-'], ""), text);
            }
        }
    }

    #[test]
    fn huge_and_tiny_magnitudes() {
        // exp(-10^6) (exact path) and sigmoid(-10^7) (refinement path) leading digits.
        let x = Interval::from_i64(-1_000_000).exp(128).unwrap();
        let d = round_interval(&x, Significant(30), HalfUp).unwrap();
        let (m, e) = d.to_scientific();
        assert_eq!(
            (m.as_str(), e),
            ("3.29683147808855857896890796911", -434_295)
        );
        let y = Interval::from_i64(-10_000_000).sigmoid(128).unwrap();
        let d = round_interval(&y, Significant(30), HalfUp).unwrap();
        let (m, e) = d.to_scientific();
        assert_eq!(
            (m.as_str(), e),
            ("1.51693678089873435758946378226", -4_342_945)
        );
        // exp(±2^40): far too large for exact decimal arithmetic.
        let big = Interval::point(Dyadic::pow2(40)).exp(128).unwrap();
        let (m, e) = round_interval(&big, Significant(20), HalfEven)
            .unwrap()
            .to_scientific();
        assert_eq!((m.as_str(), e), ("3.7930762079070784063", 477_511_832_731));
        let small = Interval::point(-Dyadic::pow2(40)).exp(128).unwrap();
        let (m, e) = round_interval(&small, Significant(20), HalfEven)
            .unwrap()
            .to_scientific();
        assert_eq!((m.as_str(), e), ("2.6363825696815466857", -477_511_832_732));
        // Plain decimals of something astronomically large: give up rather than hang.
        assert_eq!(round_interval(&big, Decimals(2), HalfUp), None);
        assert_eq!(
            round_interval(&small, Decimals(2), HalfUp)
                .unwrap()
                .to_string(),
            "0.00"
        );
    }
}
