//! Drawing values from `uniform(...)` and `choice(...)` with a portable, documented generator.
//!
//! The generator is SplitMix64 (Steele, Lea and Flood, 2014), written out here so that the same
//! seed gives the same values on every machine and every future version of the crates we use.
//! Each named quantity draws from its own stream, seeded by `splitmix(seed ^ fnv1a(name))`, so
//! adding a parameter to a spec does not change the values drawn for the others.

use std::sync::Arc;

use num_bigint::BigInt;
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::{Signed, ToPrimitive, Zero};

use crate::ast::ValueSpec;
use crate::diag::{DiagResult, Diagnostic};

/// The seed used when neither the command line nor the spec gives one.
pub const DEFAULT_SEED: u64 = 1;

/// SplitMix64: a tiny generator with a 64-bit state.
#[derive(Clone, Debug)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A generator started at `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng { state: seed }
    }

    /// The stream for one named quantity under a seed.
    pub fn for_name(seed: u64, name: &str) -> Rng {
        Rng::new(Rng::new(seed ^ fnv1a(name)).next_u64())
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform integer in `0..n` (n > 0), by rejection so that no value is favoured.
    pub fn below(&mut self, n: u64) -> u64 {
        let threshold = n.wrapping_neg() % n;
        loop {
            let x = self.next_u64();
            if x >= threshold {
                return x % n;
            }
        }
    }
}

/// FNV-1a, 64 bits: a stable hash of a name (std's hashers may change between releases).
pub fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// How many values a form can produce (1 for a literal); `None` when more than 2^64.
pub fn count(spec: &ValueSpec) -> DiagResult<Option<u64>> {
    Ok(match spec {
        ValueSpec::Literal(_) => Some(1),
        ValueSpec::Choice { options, .. } => Some(options.len() as u64),
        ValueSpec::Uniform { .. } => uniform_steps(spec)?.to_u64().and_then(|n| n.checked_add(1)),
    })
}

/// Checks that a value form can produce a value (non-empty range, positive step).
pub fn validate(spec: &ValueSpec) -> DiagResult<()> {
    count(spec).map(|_| ())
}

/// Grids of at most this many points keep every value drawn so far, so a value drawn again is
/// a copy rather than a rational sum and product.
const TABLE_MAX: u64 = 4096;

/// A value form checked once and ready to draw many values, with the range's grid size worked
/// out once (an `mlp` draws every weight from one form). A literal is drawn as it is.
#[derive(Debug)]
pub struct Prepared {
    spec: Arc<ValueSpec>,
    grid: Grid,
    /// For a small grid: the values drawn so far, by index.
    table: Vec<Option<BigRational>>,
}

/// The grid of a range.
#[derive(Debug)]
enum Grid {
    /// A literal or a choice: no grid.
    None,
    /// The number of grid points, when it fits in a `u64`.
    Points(u64),
    /// Otherwise the number of steps (one less than the points).
    WideSteps(BigInt),
}

impl Prepared {
    /// Checks the form (an empty `choice`, an empty range, a step that is not positive) and
    /// precomputes its grid.
    pub fn new(spec: Arc<ValueSpec>) -> DiagResult<Prepared> {
        let grid = match &*spec {
            ValueSpec::Literal(_) => Grid::None,
            ValueSpec::Choice { options, span } => {
                if options.is_empty() {
                    return Err(vec![Diagnostic::error(
                        *span,
                        "`choice` needs at least one value",
                    )]);
                }
                Grid::None
            }
            ValueSpec::Uniform { .. } => {
                let steps = uniform_steps(&spec)?;
                match steps.to_u64().and_then(|n| n.checked_add(1)) {
                    Some(n_values) => Grid::Points(n_values),
                    None => Grid::WideSteps(steps),
                }
            }
        };
        let table = match grid {
            Grid::Points(n_values) if n_values <= TABLE_MAX => vec![None; n_values as usize],
            _ => Vec::new(),
        };
        Ok(Prepared { spec, grid, table })
    }

    /// Draws one value.
    pub fn draw(&mut self, rng: &mut Rng) -> BigRational {
        match (&*self.spec, &self.grid) {
            (ValueSpec::Literal(number), _) => number.value.clone(),
            (ValueSpec::Choice { options, .. }, _) => {
                let index = rng.below(options.len() as u64) as usize;
                options[index].value.clone()
            }
            (ValueSpec::Uniform { low, step, .. }, &Grid::Points(n_values)) => {
                let index = rng.below(n_values);
                let at = |index: u64| grid_point(&low.value, &step.value, index);
                match self.table.get_mut(index as usize) {
                    Some(slot) => slot.get_or_insert_with(|| at(index)).clone(),
                    None => at(index),
                }
            }
            (ValueSpec::Uniform { low, step, .. }, Grid::WideSteps(steps)) => {
                let index = wide_index(rng, steps);
                &low.value + &step.value * BigRational::from_integer(index)
            }
            (ValueSpec::Uniform { .. }, Grid::None) => unreachable!("a range has a grid"),
        }
    }
}

/// `low + index · step`, exactly.
fn grid_point(low: &BigRational, step: &BigRational, index: u64) -> BigRational {
    small_grid_point(low, step, index)
        .unwrap_or_else(|| low + step * BigRational::from_integer(index.into()))
}

/// `low + index · step` worked out in 128-bit integers when every part fits (as in
/// `uniform(-0.5, 0.5, step 0.01)`): `BigRational` arithmetic reduces twice with a bignum gcd,
/// thousands of instructions per grid point. `None` when something would overflow.
fn small_grid_point(low: &BigRational, step: &BigRational, index: u64) -> Option<BigRational> {
    let low_numer = i128::from(low.numer().to_i64()?);
    let low_denom = i128::from(low.denom().to_i64()?);
    let step_numer = i128::from(step.numer().to_i64()?);
    let step_denom = i128::from(step.denom().to_i64()?);
    let numer = (low_numer * step_denom)
        .checked_add((step_numer * low_denom).checked_mul(index.into())?)?;
    // Both denominators are positive and below 2^63, so the product fits and so does the gcd,
    // which divides it.
    let denom = low_denom * step_denom;
    let gcd = numer.unsigned_abs().gcd(&denom.unsigned_abs()) as i128;
    Some(BigRational::new_raw(
        BigInt::from(numer / gcd),
        BigInt::from(denom / gcd),
    ))
}

/// An index into a grid of more than 2^64 points: 128 random bits reduced (the bias is below
/// 2^-64).
fn wide_index(rng: &mut Rng, steps: &BigInt) -> BigInt {
    let wide: BigInt = (BigInt::from(rng.next_u64()) << 64u32) + rng.next_u64();
    wide.mod_floor(&(steps + 1))
}

/// For `uniform(low, high, step s)`: the number of whole steps from low to high.
fn uniform_steps(spec: &ValueSpec) -> DiagResult<BigInt> {
    let ValueSpec::Uniform {
        low,
        high,
        step,
        span,
    } = spec
    else {
        return Ok(BigInt::zero());
    };
    if !step.value.is_positive() {
        return Err(vec![
            Diagnostic::error(
                step.span,
                format!("the step of a range must be positive, not {}", step.text),
            )
            .with_hint("write `uniform(low, high, step s)` with s > 0"),
        ]);
    }
    if high.value < low.value {
        return Err(vec![
            Diagnostic::error(
                *span,
                format!("empty range: {} is above {}", low.text, high.text),
            )
            .with_hint("write the lower bound first"),
        ]);
    }
    let steps = ((&high.value - &low.value) / &step.value)
        .floor()
        .to_integer();
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::ast::Number;
    use crate::diag::Span;

    /// One value drawn the plain way, form checked and grid sized for each draw: the reference
    /// `Prepared` must match, draw for draw and error for error.
    fn draw(spec: &ValueSpec, rng: &mut Rng) -> DiagResult<BigRational> {
        match spec {
            ValueSpec::Literal(number) => Ok(number.value.clone()),
            ValueSpec::Choice { options, span } => {
                if options.is_empty() {
                    return Err(vec![Diagnostic::error(
                        *span,
                        "`choice` needs at least one value",
                    )]);
                }
                let index = rng.below(options.len() as u64) as usize;
                Ok(options[index].value.clone())
            }
            ValueSpec::Uniform { low, step, .. } => {
                let steps = uniform_steps(spec)?;
                let index = match steps.to_u64().and_then(|n| n.checked_add(1)) {
                    Some(n_values) => BigInt::from(rng.below(n_values)),
                    // More grid points than 2^64: draw 128 bits and reduce.
                    None => wide_index(rng, &steps),
                };
                Ok(&low.value + &step.value * BigRational::from_integer(index))
            }
        }
    }

    fn number(text: &str) -> Number {
        let value = match text.split_once('/') {
            Some((n, d)) => BigRational::new(n.parse().unwrap(), d.parse().unwrap()),
            None => BigRational::from_integer(text.parse().unwrap()),
        };
        Number {
            value,
            text: text.to_string(),
            span: Span::default(),
        }
    }

    fn uniform(low: &str, high: &str, step: &str) -> ValueSpec {
        ValueSpec::Uniform {
            low: number(low),
            high: number(high),
            step: number(step),
            span: Span::default(),
        }
    }

    #[test]
    fn splitmix_matches_the_published_sequence() {
        // First outputs of SplitMix64 seeded with 0 (as in the reference C implementation).
        let mut rng = Rng::new(0);
        assert_eq!(rng.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(rng.next_u64(), 0x6E78_9E6A_A1B9_65F4);
        assert_eq!(rng.next_u64(), 0x06C4_5D18_8009_454F);
    }

    #[test]
    fn uniform_draws_stay_on_the_grid_and_cover_it() {
        let spec = uniform("-1/2", "1/2", "1/100");
        assert_eq!(count(&spec).unwrap(), Some(101));
        let mut seen = std::collections::BTreeSet::new();
        let mut rng = Rng::new(7);
        for _ in 0..5000 {
            let value = draw(&spec, &mut rng).unwrap();
            assert!(value >= BigRational::new((-1).into(), 2.into()));
            assert!(value <= BigRational::new(1.into(), 2.into()));
            assert!((value * BigRational::from_integer(100.into())).is_integer());
            seen.insert(draw(&spec, &mut rng).unwrap());
        }
        assert_eq!(seen.len(), 101);
    }

    #[test]
    fn grid_points_in_machine_integers_are_the_rational_ones() {
        let big = "123456789012345678901234567890";
        let values = [
            "0",
            "1",
            "-1",
            "1/2",
            "-1/2",
            "1/100",
            "-7/3",
            "3/5",
            "9223372036854775807",
            "-9223372036854775807/9223372036854775806",
            "1/9223372036854775807",
            big,
        ];
        let indices = [0, 1, 2, 50, 100, 4095, 1 << 40, u64::MAX - 1, u64::MAX];
        for low in values {
            for step in values {
                let (low, step) = (number(low).value, number(step).value);
                for index in indices {
                    let expected = &low + &step * BigRational::from_integer(index.into());
                    let actual = grid_point(&low, &step, index);
                    assert_eq!(actual, expected, "{low} + {index} * {step}");
                    assert_eq!(actual.numer(), expected.numer());
                    assert_eq!(actual.denom(), expected.denom());
                }
            }
        }
        // The sums that do not fit 128 bits are left to `BigRational`.
        let max = BigRational::from_integer(i64::MAX.into());
        assert!(small_grid_point(&max.recip(), &max, 4).is_none());
        assert!(small_grid_point(&number(big).value, &max, 1).is_none());
    }

    #[test]
    fn bad_ranges_are_errors() {
        assert!(validate(&uniform("1", "0", "1/10")).is_err());
        assert!(validate(&uniform("0", "1", "0")).is_err());
        assert!(validate(&uniform("0", "1", "-1")).is_err());
    }

    #[test]
    fn prepared_draws_are_the_draws_of_each_form() {
        let forms = [
            ValueSpec::Literal(number("-1/3")),
            ValueSpec::Choice {
                options: vec![number("1"), number("-2/7"), number("0")],
                span: Span::default(),
            },
            uniform("-1/2", "1/2", "1/100"),
            uniform("1/3", "1/3", "1"),
            uniform("-7", "7", "3/5"),
            // More points than the table keeps.
            uniform("0", "1", "1/100000"),
            // More points than 2^64.
            uniform("0", "100000000000000000000000000", "1/7"),
        ];
        for form in forms {
            let mut prepared = Prepared::new(Arc::new(form.clone())).unwrap();
            for seed in [0, 1, 99, u64::MAX] {
                for name in ["w1_1_1", "b2_3", "eta", "x"] {
                    let mut expected = Rng::for_name(seed, name);
                    let mut actual = expected.clone();
                    for _ in 0..3 {
                        assert_eq!(
                            prepared.draw(&mut actual),
                            draw(&form, &mut expected).unwrap()
                        );
                        assert_eq!(actual.next_u64(), expected.next_u64());
                    }
                }
            }
        }
    }

    #[test]
    fn prepared_forms_report_the_errors_of_draw() {
        for form in [
            uniform("1", "0", "1/10"),
            uniform("0", "1", "0"),
            ValueSpec::Choice {
                options: Vec::new(),
                span: Span::default(),
            },
        ] {
            let expected = draw(&form, &mut Rng::new(0)).unwrap_err();
            let actual = Prepared::new(Arc::new(form)).unwrap_err();
            assert_eq!(format!("{actual:?}"), format!("{expected:?}"));
        }
    }

    #[test]
    fn streams_depend_on_name_and_seed_only() {
        let a = Rng::for_name(3, "w1").next_u64();
        assert_eq!(a, Rng::for_name(3, "w1").next_u64());
        assert_ne!(a, Rng::for_name(3, "w2").next_u64());
        assert_ne!(a, Rng::for_name(4, "w1").next_u64());
    }
}
