//! Checking hand derivations against the true chain rule of a network: reading a submission
//! (`read`), putting what it says in the network's terms (`resolve`), deciding each step
//! symbolically and numerically (`judge`, `numbers`), naming mistakes (`mistakes`), and the
//! findings with their score (`findings`); `batch` checks a whole class.

pub mod batch;
pub mod findings;
pub mod judge;
pub mod mistakes;
pub mod numbers;
pub mod read;
pub mod resolve;

use findings::{CheckReport, credited, score};

use crate::graph::Network;
use crate::symbolic::backprop::Derivation;

/// Checks one submission's text. `grounds` are the network's true values and random points,
/// computed once for a class (`judge::Grounds::new`); `decimals` rounds expected values.
pub fn check(
    network: &Network,
    derivation: &Derivation,
    grounds: &judge::Grounds,
    text: &str,
    name: &str,
    decimals: Option<u32>,
) -> CheckReport {
    let submission = read::read(text);
    // The judge adds the expressions it reads to the pool; each submission gets its own copy.
    let mut derivation = derivation.clone();
    let mut judge = judge::Judge::new(network, &mut derivation, &submission, grounds);
    judge.decimals = decimals;
    let findings = judge.run(&submission);
    let (score, credited_steps, total) = score(&findings);
    let mut questions: Vec<(String, bool)> = Vec::new();
    for finding in &findings {
        let Some(quantity) = &finding.quantity else {
            continue;
        };
        match questions.iter_mut().find(|(q, _)| q == quantity) {
            Some((_, ok)) => *ok &= credited(finding),
            None => questions.push((quantity.clone(), credited(finding))),
        }
    }
    CheckReport {
        submission: name.to_string(),
        findings,
        score,
        credited: credited_steps,
        total,
        questions,
    }
}
