//! Rounded numbers as text: positional where that reads well, scientific for very small or large
//! magnitudes (`1.230e-7` in text, `1.230 \times 10^{-7}` in LaTeX).

use num_bigint::BigInt;
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};

use crate::eval::decimal::Decimal;
use crate::symbolic::print::Notation;

/// A rounded value in the given notation.
pub fn format(decimal: &Decimal, notation: Notation) -> String {
    if !decimal.prefers_scientific() {
        return decimal.to_plain();
    }
    let (mantissa, exponent) = decimal.to_scientific();
    match notation {
        Notation::Plain => format!("{mantissa}e{exponent}"),
        Notation::Latex => format!("{mantissa} \\times 10^{{{exponent}}}"),
    }
}

/// Reads a number of points: a non-negative decimal or fraction (`2`, `0.5`, `1/3`).
pub fn parse_points(text: &str) -> Option<BigRational> {
    let value = match text.split_once('/') {
        Some((n, d)) => BigRational::new(
            n.trim().parse().ok()?,
            d.trim().parse().ok().filter(|d: &BigInt| !d.is_zero())?,
        ),
        None => Decimal::parse(text)?.to_rational(),
    };
    (!value.is_negative()).then_some(value)
}

/// Half a unit in the last place of a rounded value (0.00005 for 0.5057, 5 for 1230 at three
/// significant figures), as plain text.
pub fn half_unit(decimal: &Decimal) -> String {
    let scale = decimal.scale();
    let (lead, zeros, tail) = match usize::try_from(scale) {
        Ok(places) => ("0.", places, "5"),
        Err(_) if scale > -20 => ("5", (-scale - 1) as usize, ""),
        Err(_) => return format!("5e{}", -scale - 1),
    };
    let mut text = String::with_capacity(lead.len() + zeros + tail.len());
    text.push_str(lead);
    text.extend(std::iter::repeat_n('0', zeros));
    text.push_str(tail);
    text
}

/// The exact decimal expansion of a rational whose expansion terminates within 40 digits after
/// the point (3/10 is `0.3`, -3/25 is `-0.12`); `None` for 1/3.
pub fn exact_decimal(value: &BigRational) -> Option<String> {
    // denominator = 2^twos · 5^fives exactly, or the expansion does not terminate.
    let (twos, fives) = match value.denom().to_u64() {
        Some(denominator) => machine_twos_fives(denominator)?,
        None => big_twos_fives(value.denom())?,
    };
    let places = twos.max(fives);
    if places > 40 {
        return None;
    }
    // value · 10^places = numerator · 2^(places − twos) · 5^(places − fives): no division.
    let (up2, up5) = (places - twos, (places - fives) as u32);
    let machine = value.numer().to_i128().and_then(|n| {
        n.checked_mul(1i128.checked_shl(up2 as u32)?)?
            .checked_mul(5i128.checked_pow(up5)?)
    });
    let scaled = match machine {
        Some(scaled) => BigInt::from(scaled),
        None => (value.numer() << up2) * BigInt::from(5).pow(up5),
    };
    Some(Decimal::new(scaled, places as i64).to_plain())
}

/// The powers of 2 and 5 whose product is `denominator`, `None` when it has another factor.
fn machine_twos_fives(denominator: u64) -> Option<(u64, u64)> {
    let twos = u64::from(denominator.trailing_zeros());
    let mut rest = denominator >> twos;
    let mut fives = 0;
    while rest.is_multiple_of(5) {
        rest /= 5;
        fives += 1;
    }
    (rest == 1).then_some((twos, fives))
}

/// `machine_twos_fives` for a denominator beyond 64 bits (more than 40 fives is refused early:
/// the expansion would be longer than `exact_decimal` writes).
fn big_twos_fives(denominator: &BigInt) -> Option<(u64, u64)> {
    let twos = denominator.trailing_zeros().unwrap_or(0);
    let mut rest = denominator >> twos;
    let five = BigInt::from(5);
    let mut fives = 0u64;
    while !rest.is_one() {
        let (quotient, remainder) = rest.div_rem(&five);
        if !remainder.is_zero() || fives >= 40 {
            return None;
        }
        rest = quotient;
        fives += 1;
    }
    Some((twos, fives))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(n: i64, d: i64) -> BigRational {
        BigRational::new(n.into(), d.into())
    }

    #[test]
    fn half_units() {
        let d = |text: &str| Decimal::parse(text).unwrap();
        assert_eq!(half_unit(&d("0.5057")), "0.00005");
        assert_eq!(half_unit(&d("12")), "0.5");
        assert_eq!(half_unit(&Decimal::new(BigInt::from(123), -1)), "5");
        assert_eq!(half_unit(&Decimal::new(BigInt::from(123), -3)), "500");
    }

    #[test]
    fn exact_decimals_terminate_or_are_refused() {
        assert_eq!(exact_decimal(&q(3, 10)).as_deref(), Some("0.3"));
        assert_eq!(exact_decimal(&q(-3, 25)).as_deref(), Some("-0.12"));
        assert_eq!(exact_decimal(&q(1, 1)).as_deref(), Some("1"));
        assert_eq!(exact_decimal(&q(-31, 250)).as_deref(), Some("-0.124"));
        assert_eq!(exact_decimal(&q(1, 1024)).as_deref(), Some("0.0009765625"));
        assert_eq!(exact_decimal(&q(1, 3)), None);
        assert_eq!(exact_decimal(&q(7, 30)), None);
        assert_eq!(exact_decimal(&q(0, 1)).as_deref(), Some("0"));
        assert_eq!(exact_decimal(&q(-5, 2)).as_deref(), Some("-2.5"));
        assert_eq!(
            exact_decimal(&q(1, 5_i64.pow(20))).as_deref(),
            Some("0.00000000000001048576")
        );
        // 40 places is the limit, from either prime.
        let two40 = BigRational::new(1.into(), BigInt::from(2).pow(40));
        assert!(exact_decimal(&two40).is_some_and(|t| t.len() == 42));
        let two41 = BigRational::new(1.into(), BigInt::from(2).pow(41));
        assert_eq!(exact_decimal(&two41), None);
        let five41 = BigRational::new(1.into(), BigInt::from(5).pow(41));
        assert_eq!(exact_decimal(&five41), None);
        // Numerators and scalings past 128 bits take the BigInt route, with the same digits.
        let huge = BigRational::new(-BigInt::from(10).pow(45) - 7, BigInt::from(2).pow(40));
        let text = exact_decimal(&huge).unwrap();
        assert_eq!(
            text,
            "-909494701772928237915039062500000.0000000000063664629124104976654052734375"
        );
        assert_eq!(Decimal::parse(&text).unwrap().to_rational(), huge);
        for (n, d) in [
            (1, 3),
            (7, 1 << 20),
            (-123_456_789, 5_i64.pow(13)),
            (i64::MAX, 1 << 40),
        ] {
            let q = BigRational::new(n.into(), d.into());
            match exact_decimal(&q) {
                Some(text) => assert_eq!(Decimal::parse(&text).unwrap().to_rational(), q),
                None => assert!(d % 3 == 0),
            }
        }
    }
}
