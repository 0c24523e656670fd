//! Correctly rounded digits: evaluate at a working precision, and if any printed value's
//! rounding is not decided by its enclosure (or a sign is not decided), evaluate again at twice
//! the precision (Ziv's strategy). Rational values are rounded exactly from their fractions, so a
//! value sitting exactly on a rounding boundary gets the rounding mode's answer.

use super::decimal::{Decimal, Precision, RoundingMode, round_interval, round_rational};
use super::network::{Failure, Values, evaluate};
use super::real::{EvalError, Real};
use crate::graph::Network;
use crate::parallel::map_balanced;
use crate::symbolic::backprop::Derivation;

/// The working precision is doubled up to this many bits (about 4900 decimal digits); a value
/// still undecided there agrees with a rounding boundary to that many digits.
pub const MAX_PREC: u32 = 1 << 14;

/// Fewer values than this a core are rounded on one thread.
const ROUNDINGS_PER_THREAD: usize = 1024;

/// How printed numbers are rounded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rounding {
    /// Decimals or significant figures.
    pub precision: Precision,
    /// Half-up or half-even.
    pub mode: RoundingMode,
}

/// Values whose every requested rounding is decided.
#[derive(Clone, Debug)]
pub struct Decided {
    /// The values at the final working precision.
    pub values: Values,
    /// Whether some rounding was still undecided at `MAX_PREC` (see `round`).
    pub at_limit: bool,
}

/// The correctly rounded value, if the enclosure decides it (remembered in `real`, so that
/// rounding it again is a copy).
pub fn try_round(real: &Real, rounding: Rounding) -> Option<Decimal> {
    if let Some(decimal) = real.rounded(rounding) {
        return Some(decimal.clone());
    }
    let decimal = round_now(real, rounding)?;
    real.remember_rounded(rounding, decimal.clone());
    Some(decimal)
}

/// Whether the enclosure decides the rounding (remembered as in `try_round`, without a copy).
fn is_decided(real: &Real, rounding: Rounding) -> bool {
    if real.rounded(rounding).is_some() {
        return true;
    }
    round_now(real, rounding)
        .map(|decimal| real.remember_rounded(rounding, decimal))
        .is_some()
}

fn round_now(real: &Real, rounding: Rounding) -> Option<Decimal> {
    match real.as_exact() {
        Some(value) => Some(round_rational(value, rounding.precision, rounding.mode)),
        None => round_interval(real.enclosure(), rounding.precision, rounding.mode),
    }
}

/// The correctly rounded value; when even `MAX_PREC` bits leave it undecided, the rounding of
/// the enclosure's midpoint (the value then equals a boundary to thousands of digits).
pub fn round(real: &Real, rounding: Rounding) -> Decimal {
    try_round(real, rounding).unwrap_or_else(|| {
        let midpoint = (real.enclosure().lo().to_rational() + real.enclosure().hi().to_rational())
            / num_rational::BigRational::from_integer(2.into());
        round_rational(&midpoint, rounding.precision, rounding.mode)
    })
}

/// The working precision to start from: enough bits for the digits asked for, with a margin for
/// what a few layers of arithmetic lose.
fn start_prec(roundings: &[Rounding]) -> u32 {
    let digits = roundings
        .iter()
        .map(|r| match r.precision {
            Precision::Significant(n) => n,
            Precision::Decimals(n) => n + 4,
        })
        .max()
        .unwrap_or(15);
    (digits.saturating_mul(7) / 2 + 40).clamp(64, MAX_PREC)
}

/// Evaluates until every value prints correctly rounded under every requested rounding.
pub fn decide(
    network: &Network,
    derivation: &Derivation,
    roundings: &[Rounding],
) -> Result<Decided, Failure> {
    let mut prec = start_prec(roundings);
    loop {
        match evaluate(network, derivation, prec) {
            Err(failure) if matches!(failure.error, EvalError::Undecided(_)) && prec < MAX_PREC => {
                prec *= 2
            }
            Err(failure) => return Err(failure),
            Ok(values) => {
                // Rounding is a good part of the work (it is remembered for the report): on all
                // cores.
                let reals: Vec<&Real> = all_reals(&values).collect();
                // The forward values come first and are mostly exact (one rational to round),
                // the gradients and updates enclosed (two bounds): split by that work.
                let work: Vec<usize> = reals
                    .iter()
                    .map(|real| if real.as_exact().is_some() { 1 } else { 2 })
                    .collect();
                let decided = map_balanced(&reals, &work, ROUNDINGS_PER_THREAD, |chunk| {
                    chunk
                        .iter()
                        .all(|real| roundings.iter().all(|&r| is_decided(real, r)))
                })
                .into_iter()
                .all(|decided| decided);
                if decided || prec >= MAX_PREC {
                    return Ok(Decided {
                        at_limit: !decided,
                        values,
                    });
                }
                prec *= 2;
            }
        }
    }
}

/// Every value a report may print.
pub fn all_reals(values: &Values) -> impl Iterator<Item = &Real> {
    values
        .forward
        .iter()
        .chain(&values.gradients)
        .chain(&values.updated)
        .flatten()
        .chain(values.loss_after.as_ref())
}
