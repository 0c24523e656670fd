//! Numbers as a student writes them: each written decimal stands for every value that rounds
//! to it (0.494 is anything in [0.4935, 0.4945]; a whole number such as the 1 of 1 - a is exact), so a computation on written numbers is an
//! interval, and a stated result is consistent when its own interval meets that one. This is the
//! tolerance the digits imply, not a fixed epsilon.

use num_bigint::BigInt;
use num_rational::BigRational;

use super::read::{Func as ReadFunc, MathExpr};
use crate::eval::decimal::Decimal;
use crate::eval::dyadic::{Direction, Dyadic};
use crate::eval::interval::Interval;

/// Working precision of these enclosures, in bits.
const PREC: u32 = 128;

/// The interval a written number stands for. A whole number written without a point (the 1 of
/// `1 - a`, the 2 of a square) is exact; a decimal stands for what rounds to it.
pub fn implied(text: &str) -> Option<Interval> {
    let decimal = Decimal::parse(text)?;
    if !text.contains(['.', 'e', 'E']) {
        return Some(Interval::from_rational(&decimal.to_rational(), PREC));
    }
    let (lo, hi) = decimal.implied_interval();
    enclose_rationals(&lo, &hi)
}

/// An interval with rational bounds, rounded outward.
pub fn enclose_rationals(lo: &BigRational, hi: &BigRational) -> Option<Interval> {
    Interval::from_bounds(
        Dyadic::from_rational_round(lo, PREC, Direction::Down),
        Dyadic::from_rational_round(hi, PREC, Direction::Up),
    )
}

/// The values a numbers-only expression can take when each number ranges over what it rounds
/// from; `None` when it cannot be evaluated (a name in it, a division by an interval with 0).
pub fn enclose(expr: &MathExpr) -> Option<Interval> {
    Some(match expr {
        MathExpr::Number(text) => implied(text)?,
        MathExpr::Name(_) | MathExpr::Grad { .. } => return None,
        MathExpr::Neg(a) => -&enclose(a)?,
        MathExpr::Add(a, b) => enclose(a)?.add(&enclose(b)?, PREC),
        MathExpr::Sub(a, b) => enclose(a)?.sub(&enclose(b)?, PREC),
        MathExpr::Mul(a, b) => enclose(a)?.mul(&enclose(b)?, PREC).ok()?,
        MathExpr::Div(a, b) => enclose(a)?.div(&enclose(b)?, PREC).ok()?,
        MathExpr::Pow(base, exponent) => {
            let MathExpr::Number(n) = exponent.as_ref() else {
                return None;
            };
            let n: i64 = n.parse().ok().filter(|n: &i64| n.abs() <= 64)?;
            enclose(base)?.powi(n, PREC).ok()?
        }
        MathExpr::Softmax { index, args } => {
            // 1 / Σ_j e^(z_j - z_i), as the evaluator computes it.
            let z: Vec<Interval> = args.iter().map(enclose).collect::<Option<_>>()?;
            let zi = z.get(index.checked_sub(1)?)?;
            let mut total = Interval::from_i64(0);
            for zj in &z {
                total = total.add(&zj.sub(zi, PREC).exp(PREC).ok()?, PREC);
            }
            total.recip(PREC).ok()?
        }
        MathExpr::Call { func, arg } => {
            let x = enclose(arg)?;
            match func {
                ReadFunc::Sigmoid => x.sigmoid(PREC).ok()?,
                ReadFunc::SigmoidPrime => {
                    let s = x.sigmoid(PREC).ok()?;
                    let one = Interval::from_i64(1);
                    // σ(1 − σ) over an interval: the product of enclosures encloses it.
                    s.mul(&one.sub(&s, PREC), PREC).ok()?
                }
                ReadFunc::Tanh => x.tanh(PREC).ok()?,
                ReadFunc::Exp => x.exp(PREC).ok()?,
                ReadFunc::Log => x.ln(PREC).ok()?,
                ReadFunc::Softplus => x.softplus(PREC).ok()?,
                ReadFunc::Identity => x,
                ReadFunc::Step => {
                    if x.lo().is_positive() {
                        Interval::from_i64(1)
                    } else if !x.hi().is_positive() {
                        Interval::from_i64(0)
                    } else {
                        Interval::from_bounds(Dyadic::zero(), Dyadic::one())?
                    }
                }
                ReadFunc::Relu => {
                    if x.lo().is_positive() {
                        x
                    } else if !x.hi().is_positive() {
                        Interval::from_i64(0)
                    } else {
                        Interval::from_bounds(Dyadic::zero(), x.hi().clone())?
                    }
                }
            }
        }
    })
}

/// Whether two intervals have a point in common.
pub fn meet(a: &Interval, b: &Interval) -> bool {
    a.lo() <= b.hi() && b.lo() <= a.hi()
}

/// The midpoint of an interval.
pub fn midpoint(interval: &Interval) -> BigRational {
    (interval.lo().to_rational() + interval.hi().to_rational())
        / BigRational::from_integer(BigInt::from(2))
}
