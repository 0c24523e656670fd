//! Integration tests of the real `bpsheet` binary: golden outputs for the bundled examples,
//! every kind of bad input, and the command-line contract (exit codes, files, help).

mod check;
mod derive;
mod errors;
mod support;
mod tools;
mod worksheet;
