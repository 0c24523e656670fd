//! Randomized exam variants: values drawn again from the spec's ranges under a sequence of seeds,
//! each candidate kept only if it makes a good exam question.
//!
//! The candidate seeds are the base seed itself, then the outputs of SplitMix64 started at the
//! base seed, so `--seed S --variants 1` regenerates the variant that recorded seed S. A
//! candidate is rejected when an asked gradient rounds to 0 at the sheet's precision, a sigmoid
//! or tanh is saturated (|argument| > 4), a ReLU is dead (argument ≤ 0; `allow dead_relu` keeps
//! it), two gradients whose formulas differ have the same printed answer, its values repeat an
//! accepted variant, or the network is undefined at its values (a division by zero, a log of 0).

use std::collections::{BTreeMap, HashSet};

use num_rational::BigRational;
use num_traits::Signed;

use super::questions::{Asked, Section};
use crate::eval::activations::activations;
use crate::eval::numeric::{self, Rounding};
use crate::func::Func;
use crate::graph::sample::Rng;
use crate::graph::{self, Network};
use crate::render::report::{Report, ReportBuilder};
use crate::symbolic::backprop::Derivation;
use crate::symbolic::expr::ExprId;

/// A sigmoid or tanh whose argument exceeds this in magnitude is saturated: its derivative is
/// nearly 0 and the question teaches nothing.
pub const SATURATION: i64 = 4;

/// One accepted variant.
pub struct Variant {
    /// `A`, `B`, ...
    pub label: String,
    /// The seed it was drawn with.
    pub seed: u64,
    /// The network with this variant's values.
    pub network: Network,
    /// Its report.
    pub report: Report,
}

/// Why candidates were rejected, by reason.
#[derive(Debug, Default)]
pub struct Rejections {
    /// Reason → count, in a stable order.
    pub counts: BTreeMap<&'static str, usize>,
}

impl Rejections {
    fn add(&mut self, reason: &'static str) {
        *self.counts.entry(reason).or_default() += 1;
    }

    /// How many candidates were rejected in all.
    pub fn total(&self) -> usize {
        self.counts.values().sum()
    }

    /// `3 rejected (2 saturated unit, 1 repeated values)`.
    pub fn describe(&self) -> String {
        let parts: Vec<String> = self
            .counts
            .iter()
            .map(|(reason, n)| format!("{n} {reason}"))
            .collect();
        format!("{} rejected ({})", self.total(), parts.join(", "))
    }
}

/// What every variant is built with.
pub struct Plan<'a> {
    /// The network as the spec gives it (its seed is the base seed).
    pub network: &'a Network,
    /// Its derivation (shared: it does not depend on the values).
    pub derivation: &'a mut Derivation,
    /// How answers are rounded.
    pub rounding: Rounding,
    /// Whether answers also carry the calculator route.
    pub calculator: bool,
    /// The asked quantities (resolved once: every variant has the same structure).
    pub asked: &'a [Asked],
}

/// The label of the variant with 0-based index `index`: A..Z, AA, AB, ...
pub fn label(index: usize) -> String {
    let mut index = index;
    let mut letters = Vec::new();
    loop {
        letters.push(b'A' + (index % 26) as u8);
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    letters.reverse();
    String::from_utf8(letters).expect("ASCII letters")
}

/// The report of the network at one seed, or why it cannot be evaluated or (when `check`) why
/// it makes a poor exam.
pub fn report_at(
    plan: &mut Plan<'_>,
    seed: u64,
    check: bool,
) -> Result<(Network, Report), &'static str> {
    let mut network = plan.network.clone();
    graph::redraw(&mut network, seed).map_err(|_| "invalid range")?;
    let decided = numeric::decide(&network, plan.derivation, &[plan.rounding])
        .map_err(|_| "undefined at its values")?;
    let warnings =
        crate::eval::activations::relu_at_zero(&network, plan.derivation, &decided.values);
    let checks = if check {
        problems(plan, &network, &decided.values)
    } else {
        None
    };
    let mut report = ReportBuilder::new(&network, plan.derivation, &decided.values, plan.rounding)
        .build(warnings);
    if plan.calculator
        && let Ok(route) = crate::eval::calculator::route(&network, plan.derivation, plan.rounding)
    {
        report.add_calculator(&network, &route);
    }
    match checks.or_else(|| {
        if check {
            answers_collide(plan, &report)
        } else {
            None
        }
    }) {
        Some(reason) => Err(reason),
        None => Ok((network, report)),
    }
}

/// Draws `count` distinct good variants, or says how far it got.
pub fn draw(plan: &mut Plan<'_>, count: usize) -> Result<(Vec<Variant>, Rejections), String> {
    let base = plan.network.seed;
    let random = plan.network.symbols.iter().any(|s| s.is_random());
    if count > 1 && !random {
        return Err(format!(
            "the spec has no ranges, so all {count} variants would be the same\n  = hint: give values as ranges, e.g. `param w1 = uniform(-0.5, 0.5, step 0.01)`, or ask for one variant"
        ));
    }
    let mut accepted: Vec<Variant> = Vec::new();
    let mut rejections = Rejections::default();
    let mut seen: HashSet<Vec<Option<BigRational>>> = HashSet::new();
    let mut stream = Rng::new(base);
    let attempts = 50 * count + 50;
    for attempt in 0..attempts {
        if accepted.len() == count {
            break;
        }
        let seed = if attempt == 0 {
            base
        } else {
            stream.next_u64()
        };
        // A spec without ranges is the author's own example: it is used as it is, unchecked.
        match report_at(plan, seed, random) {
            Ok((network, report)) => {
                let values: Vec<Option<BigRational>> =
                    network.symbols.iter().map(|s| s.value.clone()).collect();
                if !seen.insert(values) {
                    rejections.add("repeated values");
                    continue;
                }
                accepted.push(Variant {
                    label: label(accepted.len()),
                    seed,
                    network,
                    report,
                });
            }
            Err(reason) => rejections.add(reason),
        }
        if !random {
            break;
        }
    }
    if accepted.len() < count {
        return Err(format!(
            "the spec's ranges gave only {} good variant(s) of the {count} asked for in {} draws: {}\n  = hint: widen the ranges, or ask for fewer variants",
            accepted.len(),
            accepted.len() + rejections.total(),
            rejections.describe()
        ));
    }
    Ok((accepted, rejections))
}

/// The first reason the values make a poor exam, if any.
fn problems(
    plan: &Plan<'_>,
    network: &Network,
    values: &crate::eval::network::Values,
) -> Option<&'static str> {
    let allow_dead = network.allowed.iter().any(|a| a == "dead_relu");
    for activation in activations(network, plan.derivation, values) {
        let magnitude = activation
            .argument
            .enclosure()
            .lo()
            .to_rational()
            .abs()
            .max(activation.argument.enclosure().hi().to_rational().abs());
        let saturating = activation.func.saturates();
        if saturating && magnitude > BigRational::from_integer(SATURATION.into()) {
            return Some("saturated unit");
        }
        let dead =
            matches!(activation.func, Func::Relu) && !activation.argument.enclosure().is_positive();
        if dead && !allow_dead {
            return Some("dead ReLU");
        }
    }
    None
}

/// An expanded gradient that is just another gradient's name (∂L/∂b = ∂L/∂h for a bias) stands
/// for that gradient's expansion: the two are the same formula.
fn canonical_expanded(derivation: &mut Derivation, network: &Network, mut id: ExprId) -> ExprId {
    while let Some(crate::symbolic::expr::Sym::Grad(child)) = derivation.pool.as_sym(id) {
        match derivation.expanded(network, child) {
            Some(expanded) if expanded != id => id = expanded,
            _ => break,
        }
    }
    id
}

/// Whether an asked gradient rounds to 0, or two gradients with different formulas print the
/// same answer.
fn answers_collide(plan: &mut Plan<'_>, report: &Report) -> Option<&'static str> {
    let mut answers: Vec<(ExprId, &str)> = Vec::new();
    let network = plan.network;
    for asked in plan.asked {
        let (formula, value) = match asked.section {
            Section::Backward => {
                let id = network.lookup(&asked.name)?;
                let expanded = plan.derivation.expanded(network, id)?;
                let printed = &report.gradients.get(&asked.name)?.value.value;
                if plan.derivation.pool.is_zero(expanded) {
                    continue;
                }
                if crate::eval::decimal::Decimal::parse(printed).is_some_and(|d| d.is_zero()) {
                    return Some("gradient rounding to 0");
                }
                (
                    canonical_expanded(plan.derivation, network, expanded),
                    printed.as_str(),
                )
            }
            // Forward values may coincide harmlessly (tanh h ≈ h for small h); updates and the
            // loss after them follow from the gradients.
            Section::Forward | Section::Update | Section::LossAfter => continue,
        };
        if answers
            .iter()
            .any(|&(other, v)| v == value && other != formula)
        {
            return Some("two gradients with the same answer");
        }
        answers.push((formula, value));
    }
    None
}
