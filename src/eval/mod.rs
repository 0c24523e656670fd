//! Evaluation: exact rationals where values are rational, rigorous enclosures everywhere, and
//! correctly rounded decimal digits.

pub mod activations;
pub mod calculator;
pub mod decimal;
pub mod dyadic;
pub mod interval;
pub mod network;
pub mod numeric;
pub mod real;
