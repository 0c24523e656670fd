//! Symbolic differentiation: the expression pool, the lowering of equations into it, derivative
//! rules, the chain-rule forms of every gradient, and printing.

pub mod backprop;
pub mod build;
pub mod diff;
pub mod expr;
pub mod print;
pub mod ratio;
