//! bpsheet: backpropagation worksheets, answer keys and derivation checks from one network spec.
//!
//! The pipeline, one module a stage: `parse` (text to `ast`) → `graph` (names resolved, values
//! drawn, one network) → `symbolic` (hash-consed expressions, chain-rule derivatives) → `eval`
//! (exact and correctly rounded numeric values) → `render` / `check` → `cli`.

pub mod alloc;
pub mod ast;
pub mod cli;
pub mod diag;
pub mod eval;
pub mod func;
pub mod graph;
pub mod output;
pub mod parallel;
pub mod parse;
pub mod pipeline;
pub mod render;
pub mod symbolic;
pub mod worksheet;

pub use cli::run;
pub mod check;
