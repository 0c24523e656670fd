//! Rational arithmetic for the pool's smart constructors and for exact evaluation. Almost every
//! coefficient is 1, −1 or a small fraction, and a first layer's exact values are sums of
//! products of decimal literals, where `BigRational`'s operators still pay for gcds and
//! divisions of heap integers: these take the value's machine-integer form when both operands
//! have one and fall back to `BigRational` otherwise. The results are the same reduced
//! rationals.

use num_bigint::BigInt;
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::{One, ToPrimitive, Zero};

/// Numerator and (positive) denominator, if both fit in an `i64`.
pub fn small(q: &BigRational) -> Option<(i64, i64)> {
    Some((q.numer().to_i64()?, q.denom().to_i64()?))
}

/// `n/d` from a numerator and a positive denominator that are already coprime.
pub fn reduced((n, d): (i128, i128)) -> BigRational {
    BigRational::new_raw(BigInt::from(n), BigInt::from(d))
}

/// `a · b`
pub fn mul(a: &BigRational, b: &BigRational) -> BigRational {
    if a.is_one() {
        return b.clone();
    }
    if b.is_one() {
        return a.clone();
    }
    match (small(a), small(b)) {
        (Some(a), Some(b)) => reduced(mul_parts(a, b)),
        _ => a * b,
    }
}

/// `a + b`
pub fn add(a: &BigRational, b: &BigRational) -> BigRational {
    if a.is_zero() {
        return b.clone();
    }
    if b.is_zero() {
        return a.clone();
    }
    match (small(a), small(b)) {
        (Some(a), Some(b)) => reduced(add_parts(a, b)),
        _ => a + b,
    }
}

/// `a · b` of reduced machine-integer fractions (positive denominators), reduced.
pub fn mul_parts((an, ad): (i64, i64), (bn, bd): (i64, i64)) -> (i128, i128) {
    // Cross-cancel, as `Ratio` does, so the product of the reduced parts is reduced.
    let g1 = i128::from(an.unsigned_abs().gcd(&bd.unsigned_abs()));
    let g2 = i128::from(bn.unsigned_abs().gcd(&ad.unsigned_abs()));
    let numer = (i128::from(an) / g1) * (i128::from(bn) / g2);
    let denom = (i128::from(ad) / g2) * (i128::from(bd) / g1);
    (numer, denom)
}

/// `a + b` of reduced machine-integer fractions (positive denominators), reduced (0 as 0/1).
pub fn add_parts((an, ad): (i64, i64), (bn, bd): (i64, i64)) -> (i128, i128) {
    // |an·bd| and |bn·ad| are below 2^126, so neither they nor their sum overflow.
    let (an, ad, bn, bd) = (
        i128::from(an),
        i128::from(ad),
        i128::from(bn),
        i128::from(bd),
    );
    let (numer, denom) = if ad == bd {
        (an + bn, ad)
    } else {
        (an * bd + bn * ad, ad * bd)
    };
    if numer == 0 {
        return (0, 1);
    }
    let g = (numer.unsigned_abs().gcd(&denom.unsigned_abs())) as i128;
    (numer / g, denom / g)
}

/// `c^e`
pub fn pow(c: &BigRational, e: i32) -> BigRational {
    match e {
        0 => BigRational::one(),
        1 => c.clone(),
        _ if c.is_one() => BigRational::one(),
        _ => c.pow(e),
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::graph::sample::Rng;

    fn q(n: i128, d: i128) -> BigRational {
        BigRational::new(n.into(), d.into())
    }

    /// Values around every boundary of the fast path, and random ones.
    pub(in crate::symbolic) fn samples() -> Vec<BigRational> {
        let edges = [
            0,
            1,
            -1,
            2,
            -2,
            3,
            6,
            i64::MAX as i128,
            i64::MIN as i128,
            i64::MAX as i128 - 1,
            i64::MIN as i128 + 1,
            1 << 62,
            i64::MAX as i128 + 1,
            i64::MIN as i128 - 1,
            1 << 100,
        ];
        let mut values = Vec::new();
        for &n in &edges {
            for &d in &edges {
                if d != 0 {
                    values.push(q(n, d));
                }
            }
        }
        let mut rng = Rng::new(7);
        for _ in 0..300 {
            // Magnitudes of every width up to 64 bits, either sign.
            let draw = |rng: &mut Rng| (rng.next_u64() >> rng.below(64)) as i128;
            let n = draw(&mut rng) * if rng.below(2) == 0 { 1 } else { -1 };
            let d = 1 + draw(&mut rng);
            values.push(q(n, d));
            values.push(q(rng.below(21) as i128 - 10, 1 + rng.below(12) as i128));
        }
        values
    }

    fn assert_normal(q: &BigRational) {
        assert!(q.denom() > &BigInt::zero());
        assert_eq!(q, &q.reduced(), "stored reduced");
    }

    #[test]
    fn fast_paths_agree_with_big_rational_arithmetic() {
        let values = samples();
        for a in &values {
            for b in values.iter().step_by(7) {
                let (product, sum) = (mul(a, b), add(a, b));
                assert_eq!(product, a * b, "{a} · {b}");
                assert_eq!(sum, a + b, "{a} + {b}");
                assert_normal(&product);
                assert_normal(&sum);
                // Reduced forms are unique, so equal values have equal parts (the pool hashes
                // the parts).
                assert_eq!(
                    (product.numer(), product.denom()),
                    ((a * b).numer(), (a * b).denom())
                );
            }
            for e in [-3, -1, 0, 1, 2, 5] {
                if !(a.is_zero() && e < 0) {
                    assert_eq!(pow(a, e), a.pow(e), "{a}^{e}");
                }
            }
        }
    }

    #[test]
    fn machine_integer_rationals_match_bigrational() {
        let mut rng = Rng::new(0x7a71_0000_5eed_0003u64);
        let mut next = || rng.next_u64();
        let edges = [i64::MIN, i64::MIN + 1, -1, 0, 1, i64::MAX - 1, i64::MAX];
        let rational = |next: &mut dyn FnMut() -> u64| {
            let mut part = |nonzero: bool| -> BigInt {
                let n = match next() % 4 {
                    0 => BigInt::from(edges[(next() % 7) as usize]),
                    // Beyond an i64: the BigInt path.
                    1 => BigInt::from(next()) * BigInt::from(next()),
                    _ => BigInt::from((next() as i64) >> (next() % 64)),
                };
                if nonzero && n.is_zero() {
                    BigInt::one()
                } else {
                    n
                }
            };
            BigRational::new(part(false), part(true))
        };
        for _ in 0..20_000 {
            let (a, b) = (rational(&mut next), rational(&mut next));
            for (got, want) in [(add(&a, &b), &a + &b), (mul(&a, &b), &a * &b)] {
                // Structurally equal: lowest terms with a positive denominator.
                assert_eq!(
                    (got.numer(), got.denom()),
                    (want.numer(), want.denom()),
                    "{a}, {b}"
                );
            }
        }
    }
}
