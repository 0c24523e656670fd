//! Checking hand derivations against the true chain rule of a network: reading a submission
//! (`read`), deciding each claimed step symbolically and numerically, diagnosing mistakes, and
//! crediting errors carried forward.

pub mod read;
