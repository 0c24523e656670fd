//! Property tests that the symbolic gradients, their evaluation, the simplifier, the printer and
//! the printed digits are right, on random networks and expressions written as spec *text* (so
//! the parser, the graph stage and the lowering are exercised too).
//!
//! What each test proves:
//!
//! 1. `random_networks_match_central_differences`: for random DAG networks (tied weights,
//!    constants, every activation, softmax groups, every loss form) every gradient of a
//!    parameter, input or constant agrees with the central difference quotient of the loss.
//! 2. `gradient_forms_evaluate_to_the_chain_rule_value`: on the same networks the `expanded`,
//!    `factored` and `chain_raw` forms of every gradient evaluate to the value the chain rule
//!    gives (`Values::gradient`), so the printed forms are all equal to the printed number.
//! 3. `simplified_expressions_equal_the_tree_they_came_from` and
//!    `simplified_transcendental_expressions_enclose_the_tree_value`: the pool's normalizing
//!    constructors do not change the value of an expression: the lowered body equals a direct
//!    evaluation of the parsed `ast::Expr` tree by an evaluator written here (exact rationals
//!    for rational expressions, interval enclosures once sigmoid, tanh, exp, softplus or log
//!    appear).
//! 4. `plain_printing_reads_back_to_the_same_expression`: `Notation::Plain` text of a body or
//!    of a local derivative (softmax and `leaky_step`, which have no plain spelling in the
//!    grammar, left out), parsed back as an equation and lowered, is the same hash-consed
//!    expression. `plain_printed_*` pin the ways it currently is not to one-line examples.
//! 5. `hand_computed_exact_networks` and `piecewise_linear_networks_are_exact`: linear and ReLU
//!    networks with rational values are computed exactly (forward values, gradients, updates,
//!    loss after), equal to fractions worked out by hand, and on random piecewise-linear
//!    networks the exact gradient equals the exact central difference quotient.
//! 6. `cli_rounds_exact_ties_by_the_rounding_mode` and
//!    `cli_rounds_irrational_values_next_to_a_boundary_correctly`: the binary prints values
//!    sitting exactly on a rounding boundary by the requested tie rule, and values within
//!    1e-30 of a boundary by their true side.
//!
//! Tolerances. Every comparison is between rigorous enclosures, so "agree" means "the intervals
//! that must both contain the true value intersect", plus a width check so a test cannot pass on
//! a useless, huge enclosure:
//!
//! - central differences: with step h the quotient (L(p+h) − L(p−h)) / 2h equals
//!   L'(p) + h²/12 · (L'''(ξ₁) + L'''(ξ₂)) for some ξ₁, ξ₂ in [p − h, p + h] (Taylor with
//!   Lagrange remainders). The quotient's enclosure is computed exactly from the two loss
//!   enclosures (so their widths, divided by 2h, are already inside it), and the only slack
//!   allowed on top is `K h² / 6` for a bound K on |L'''|. With h = 10^-20 and K = 10^12 the
//!   slack is below 2·10^-29. K is generous: networks with a forward value beyond 30 in
//!   magnitude are redrawn, weights are at most 1 and there are at most 4 layers, and the largest
//!   |quotient − gradient| / h² observed over all the networks here is about 6·10^3. A wrong
//!   chain-rule term moves a gradient by many orders of magnitude more than 10^-29.
//!   The loss is evaluated at 192 bits (about 57 digits), so a loss enclosure is about 10^-56
//!   wide and the quotient's about 10^-36; the test also requires it below 10^-32 (and the
//!   gradient's below 10^-50), so a uselessly wide enclosure cannot pass for agreement.
//! - piecewise-linear networks with a quadratic loss and no weight used twice: along one
//!   coordinate every output is affine in the perturbation as long as no pre-activation changes
//!   sign (checked exactly at p ± h), so the loss is an exact quadratic in it and the central
//!   difference of a quadratic is its derivative exactly: the relation asserted is equality of
//!   rationals, no tolerance at all.
//! - everything else compares exact rationals for equality, or enclosures for intersection.
//!
//! Every failure message carries the spec text (or expression) so the case can be rerun.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;

use bpsheet::ast::{self, BinOp, Expr, Item};
use bpsheet::cli::Exit;
use bpsheet::diag::Source;
use bpsheet::eval::interval::Interval;
use bpsheet::eval::network::{self, Values};
use bpsheet::eval::real::{Evaluator, Real};
use bpsheet::func::Func;
use bpsheet::graph::sample::Rng;
use bpsheet::graph::{Network, SymbolId};
use bpsheet::pipeline::{self, Loaded};
use bpsheet::symbolic::backprop::Derivation;
use bpsheet::symbolic::expr::{ExprId, Node, Pool, Sym};
use bpsheet::symbolic::print::{Atom, Notation, Printer};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};

// ---------------------------------------------------------------------------------------------
// Shared helpers

/// Working precision for network evaluations: about 57 decimal digits.
const PREC: u32 = 192;

fn q(n: i64, d: i64) -> BigRational {
    BigRational::new(n.into(), d.into())
}

fn int(n: i64) -> BigRational {
    BigRational::from_integer(n.into())
}

/// 10^-k as an exact rational.
fn ten_to_minus(k: u32) -> BigRational {
    BigRational::new(BigInt::one(), BigInt::from(10).pow(k))
}

/// A uniform integer in `lo..=hi`.
fn between(rng: &mut Rng, lo: i64, hi: i64) -> i64 {
    lo + rng.below((hi - lo + 1) as u64) as i64
}

/// True with probability 1/n.
fn one_in(rng: &mut Rng, n: u64) -> bool {
    rng.below(n) == 0
}

fn pick<'a, T>(rng: &mut Rng, items: &'a [T]) -> &'a T {
    &items[rng.below(items.len() as u64) as usize]
}

/// `v` hundredths as a two-place decimal literal: `-0.07`, `1.25`.
fn hundredths(v: i64) -> String {
    let sign = if v < 0 { "-" } else { "" };
    let a = v.abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

/// A random two-place decimal between `lo` and `hi` hundredths.
fn decimal(rng: &mut Rng, lo: i64, hi: i64) -> String {
    hundredths(between(rng, lo, hi))
}

/// Parses, resolves and derives a spec; the error is the rendered diagnostics.
fn load_result(text: &str) -> Result<(Loaded, Derivation), String> {
    let rendered = |exit: Exit| match exit {
        Exit::User(message) => message,
        other => format!("{other:?}"),
    };
    let loaded = pipeline::load_source(Source::new("random.bp", text), None).map_err(rendered)?;
    let derivation = pipeline::derivation(&loaded).map_err(rendered)?;
    Ok((loaded, derivation))
}

/// Parses, resolves and derives a spec, panicking with the spec and the diagnostics.
fn load(text: &str) -> (Loaded, Derivation) {
    load_result(text)
        .unwrap_or_else(|message| panic!("spec did not load:\n{message}\n--- spec ---\n{text}"))
}

fn id_of(network: &Network, name: &str) -> SymbolId {
    network
        .lookup(name)
        .unwrap_or_else(|| panic!("no symbol `{name}`"))
}

/// The closed interval of rationals a value is known to lie in.
fn bounds(real: &Real) -> (BigRational, BigRational) {
    match real.as_exact() {
        Some(value) => (value.clone(), value.clone()),
        None => (
            real.enclosure().lo().to_rational(),
            real.enclosure().hi().to_rational(),
        ),
    }
}

fn interval_bounds(interval: &Interval) -> (BigRational, BigRational) {
    (interval.lo().to_rational(), interval.hi().to_rational())
}

/// How far apart two closed intervals are (0 when they intersect).
fn gap(a: &(BigRational, BigRational), b: &(BigRational, BigRational)) -> BigRational {
    let zero = BigRational::zero();
    let left = &b.0 - &a.1;
    let right = &a.0 - &b.1;
    left.max(right).max(zero)
}

fn width(b: &(BigRational, BigRational)) -> BigRational {
    &b.1 - &b.0
}

fn approx(value: &BigRational) -> f64 {
    num_traits::ToPrimitive::to_f64(value).unwrap_or(f64::NAN)
}

fn show(b: &(BigRational, BigRational)) -> String {
    format!("[{:e}, {:e}]", approx(&b.0), approx(&b.1))
}

/// Whether a symbol gets a gradient: trained parameters, inputs and constants.
fn wants_gradient(network: &Network, id: SymbolId) -> bool {
    use bpsheet::ast::DeclKind;
    matches!(
        network.symbol(id).decl_kind(),
        Some(DeclKind::Param | DeclKind::Input | DeclKind::Const)
    )
}

// ---------------------------------------------------------------------------------------------
// Random networks as spec text

/// The loss a random network ends in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LossKind {
    HalfSquared,
    Squared,
    Mse,
    BinaryCrossEntropy,
    CrossEntropy,
    Explicit,
}

/// A random network spec and the names of its pre-activations (where ReLU kinks can be).
struct RandomNet {
    text: String,
    pre_activations: Vec<String>,
}

/// One unit: `pre = bias + Σ weight·parent`, `act = activation(pre)`.
struct Unit {
    pre: String,
    act: String,
    parents: Vec<String>,
}

/// A random network. `piecewise_linear` restricts it to identity, ReLU and leaky ReLU units,
/// quadratic losses, no tied weights and a constant used at most once, so that the loss is an
/// exact quadratic along every coordinate (see test 5).
fn random_net(rng: &mut Rng, piecewise_linear: bool) -> RandomNet {
    let mut decls = String::new();
    let mut equations = String::new();

    let inputs: Vec<String> = (1..=between(rng, 1, 3)).map(|i| format!("x{i}")).collect();
    for x in &inputs {
        let _ = writeln!(decls, "input {x} = {}", decimal(rng, -100, 100));
    }
    let has_const = one_in(rng, 3);
    if has_const {
        let _ = writeln!(decls, "const c = {}", decimal(rng, -100, 100));
    }
    let mut const_uses = 0;
    let max_const_uses = if piecewise_linear { 1 } else { 3 };

    let loss = if piecewise_linear {
        *pick(
            rng,
            &[
                LossKind::HalfSquared,
                LossKind::Squared,
                LossKind::Mse,
                LossKind::Explicit,
            ],
        )
    } else {
        *pick(
            rng,
            &[
                LossKind::HalfSquared,
                LossKind::Squared,
                LossKind::Mse,
                LossKind::BinaryCrossEntropy,
                LossKind::CrossEntropy,
                LossKind::Explicit,
            ],
        )
    };
    let n_layers = between(rng, 2, 4);
    let n_outputs = match loss {
        LossKind::CrossEntropy => between(rng, 2, 3),
        _ => between(rng, 1, 3),
    };

    // The structure first: parents of every unit, each earlier unit and input used at least
    // once (a named loss pairs the nodes nobody uses with the targets, so there must be no
    // stray sinks).
    let mut sources: Vec<String> = inputs.clone();
    let mut unused: Vec<String> = inputs.clone();
    let mut layers: Vec<Vec<Unit>> = Vec::new();
    for layer in 1..=n_layers {
        let width = if layer == n_layers {
            n_outputs
        } else {
            between(rng, 1, 3)
        };
        let mut units = Vec::new();
        for j in 1..=width {
            let fan_in = between(rng, 1, 3.min(sources.len() as i64));
            let mut parents: Vec<String> = Vec::new();
            if !unused.is_empty() {
                let k = rng.below(unused.len() as u64) as usize;
                parents.push(unused.remove(k));
            }
            while (parents.len() as i64) < fan_in {
                let candidate = pick(rng, &sources).clone();
                if !parents.contains(&candidate) {
                    parents.push(candidate);
                }
                unused.retain(|u| !parents.contains(u));
            }
            units.push(Unit {
                pre: format!("h{layer}{j}"),
                act: format!("a{layer}{j}"),
                parents,
            });
        }
        sources.extend(units.iter().map(|u| u.act.clone()));
        unused.extend(units.iter().map(|u| u.act.clone()));
        layers.push(units);
    }
    // Whatever is still unused (and is not an output) feeds a random output unit.
    let outputs: Vec<String> = layers[layers.len() - 1]
        .iter()
        .map(|u| u.act.clone())
        .collect();
    for leftover in unused.into_iter().filter(|u| !outputs.contains(u)) {
        let last = layers.last_mut().expect("at least two layers");
        let k = rng.below(last.len() as u64) as usize;
        last[k].parents.push(leftover);
    }

    // Then the text.
    let mut weights: Vec<String> = Vec::new();
    let mut pre_activations = Vec::new();
    let n_layers = layers.len();
    for (index, units) in layers.iter().enumerate() {
        let output_layer = index + 1 == n_layers;
        for unit in units {
            let bias = format!("b{}", &unit.pre[1..]);
            let _ = writeln!(decls, "param {bias} = {}", decimal(rng, -50, 50));
            let mut body = bias;
            for parent in &unit.parents {
                let tie = !piecewise_linear && !weights.is_empty() && one_in(rng, 4);
                let use_const = has_const && const_uses < max_const_uses && one_in(rng, 5);
                let weight = if use_const {
                    const_uses += 1;
                    "c".to_string()
                } else if tie {
                    pick(rng, &weights).clone()
                } else {
                    let name = format!("w{}", weights.len() + 1);
                    let _ = writeln!(decls, "param {name} = {}", decimal(rng, -100, 100));
                    weights.push(name.clone());
                    name
                };
                let _ = write!(body, " + {weight}*{parent}");
            }
            if has_const && const_uses < max_const_uses && one_in(rng, 6) {
                const_uses += 1;
                body.push_str(" + c");
            }
            let _ = writeln!(equations, "{} = {body}", unit.pre);
            pre_activations.push(unit.pre.clone());
            if output_layer && loss == LossKind::CrossEntropy {
                continue;
            }
            let activation = if output_layer && loss == LossKind::BinaryCrossEntropy {
                format!("sigmoid({})", unit.pre)
            } else if piecewise_linear {
                piecewise_linear_activation(rng, &unit.pre)
            } else {
                smooth_or_kinked_activation(rng, &unit.pre, &unit.parents)
            };
            let _ = writeln!(equations, "{} = {activation}", unit.act);
        }
    }
    if has_const && const_uses == 0 {
        // The constant must be used somewhere to have a gradient; add it to the first output.
        let first = &layers[n_layers - 1][0].pre;
        equations = equations.replacen(&format!("{first} = "), &format!("{first} = c + "), 1);
    }

    let output_layer = &layers[n_layers - 1];
    if loss == LossKind::CrossEntropy {
        let names: Vec<&str> = output_layer.iter().map(|u| u.act.as_str()).collect();
        let args: Vec<&str> = output_layer.iter().map(|u| u.pre.as_str()).collect();
        let _ = writeln!(
            equations,
            "{} = softmax({})",
            names.join(", "),
            args.join(", ")
        );
    }
    for j in 1..=output_layer.len() {
        let target = match loss {
            LossKind::BinaryCrossEntropy | LossKind::CrossEntropy => decimal(rng, 0, 100),
            _ => decimal(rng, -100, 100),
        };
        let _ = writeln!(decls, "target y{j} = {target}");
    }
    if one_in(rng, 2) {
        let _ = writeln!(decls, "rate eta = {}", decimal(rng, 1, 50));
    }
    let loss_line = match loss {
        LossKind::HalfSquared => "loss half_squared_error".to_string(),
        LossKind::Squared => "loss squared_error".to_string(),
        LossKind::Mse => "loss mse".to_string(),
        LossKind::BinaryCrossEntropy => "loss binary_cross_entropy".to_string(),
        LossKind::CrossEntropy => "loss cross_entropy".to_string(),
        LossKind::Explicit => {
            let terms: Vec<String> = output_layer
                .iter()
                .enumerate()
                .map(|(j, unit)| {
                    let (o, y) = (&unit.act, format!("y{}", j + 1));
                    let quadratic = [
                        format!("1/2*({y} - {o})^2"),
                        format!("({o} - {y})^2"),
                        format!("3*({o} - {y})*({o} - {y})/4"),
                    ];
                    if piecewise_linear {
                        return pick(rng, &quadratic).clone();
                    }
                    let mut smooth = vec![
                        format!("log(1 + exp(-{y}*{o}))"),
                        format!("softplus({o} - {y})"),
                        format!("({o} - {y})^4/4"),
                        format!("{o}^2/(1 + {o}^2) - {y}*{o}"),
                        format!("tanh({o})*{y}"),
                    ];
                    if has_const && const_uses < max_const_uses {
                        const_uses += 1;
                        smooth.push(format!("c*({o} - {y})^2"));
                    }
                    smooth.extend(quadratic);
                    pick(rng, &smooth).clone()
                })
                .collect();
            format!("loss L = {}", terms.join(" + "))
        }
    };
    RandomNet {
        text: format!("{decls}\n{equations}{loss_line}\n"),
        pre_activations,
    }
}

fn piecewise_linear_activation(rng: &mut Rng, pre: &str) -> String {
    match rng.below(5) {
        0 => pre.to_string(),
        1 => format!("identity({pre})"),
        2 => format!("relu({pre})"),
        3 => format!("leaky_relu({pre})"),
        _ => format!("leaky_relu({pre}, {})", decimal(rng, 1, 50)),
    }
}

fn smooth_or_kinked_activation(rng: &mut Rng, pre: &str, parents: &[String]) -> String {
    match rng.below(14) {
        0 | 1 => format!("sigmoid({pre})"),
        2 | 3 => format!("tanh({pre})"),
        4 => format!("relu({pre})"),
        5 => format!("leaky_relu({pre})"),
        6 => format!("leaky_relu({pre}, {})", decimal(rng, 1, 50)),
        7 => format!("softplus({pre})"),
        8 => format!("exp({pre})"),
        9 => format!("identity({pre})"),
        10 => pre.to_string(),
        11 => format!("log(softplus({pre}))"),
        12 => {
            let p = pick(rng, parents);
            format!("tanh({pre})/(1 + {p}*{p})")
        }
        _ => format!("{pre}/(1 + {pre}*{pre})"),
    }
}

/// A random network, loaded, derived and evaluated at `PREC`.
struct Evaluated {
    spec: String,
    loaded: Loaded,
    derivation: Derivation,
    values: Values,
}

/// The next random network that is away from every kink (each pre-activation at least 1e-3
/// from 0, so neither the central difference nor the exact test can cross one) and of moderate
/// size (every forward value within ±30, which keeps exp and the third derivative tame);
/// networks that are not are drawn again.
fn evaluated_net(rng: &mut Rng, piecewise_linear: bool) -> Evaluated {
    let kink_margin = ten_to_minus(3);
    let value_cap = int(30);
    for _attempt in 0..50 {
        let net = random_net(rng, piecewise_linear);
        let (loaded, derivation) = load(&net.text);
        let values = match network::evaluate(&loaded.network, &derivation, PREC) {
            Ok(values) => values,
            Err(failure) => panic!("evaluation failed: {failure:?}\n--- spec ---\n{}", net.text),
        };
        let network = &loaded.network;
        let away_from_kinks = net.pre_activations.iter().all(|name| {
            let (lo, hi) = bounds(values.value(id_of(network, name)).expect("a node value"));
            lo > kink_margin || hi < -kink_margin.clone()
        });
        let moderate = network.ids().all(|id| {
            values.value(id).is_none_or(|v| {
                let (lo, hi) = bounds(v);
                lo > -value_cap.clone() && hi < value_cap
            })
        });
        if away_from_kinks && moderate {
            return Evaluated {
                spec: net.text,
                loaded,
                derivation,
                values,
            };
        }
    }
    panic!("50 random networks in a row were rejected; the generator needs fixing");
}

// ---------------------------------------------------------------------------------------------
// 1. Central differences

/// Random networks checked against central differences (and, in test 2, for their forms).
const RANDOM_NETWORKS: u64 = 220;

/// The step of the central difference: 10^-20.
fn fd_step() -> BigRational {
    ten_to_minus(20)
}

/// Generous bound on |L'''| near the evaluation point (see the module doc).
fn third_derivative_bound() -> BigRational {
    BigRational::from_integer(BigInt::from(10).pow(12))
}

/// The forward values of a network alone (the perturbed networks need nothing else): every
/// equation's lowered body evaluated in order on top of the declared values.
fn forward_values(
    network: &Network,
    derivation: &Derivation,
    prec: u32,
    spec: &str,
) -> Vec<Option<Real>> {
    let mut values: Vec<Option<Real>> = network
        .symbols
        .iter()
        .map(|symbol| symbol.value.clone().map(|v| Real::exact(v, prec)))
        .collect();
    let mut evaluator = Evaluator::new(&derivation.pool, prec);
    for equation in &network.equations {
        let body = derivation
            .body(equation.node)
            .expect("every equation has a body");
        let value = evaluator
            .eval(body, &|sym| match sym {
                Sym::Value(s) => values[s.index()].clone(),
                Sym::Grad(_) => None,
            })
            .unwrap_or_else(|e| panic!("perturbed evaluation failed: {e:?}\n{spec}"));
        values[equation.node.index()] = Some(value);
    }
    values
}

/// The forward values with one declared value moved by `delta`. Only the equations that
/// depend on it (directly or through other nodes) are evaluated again, the others keep their
/// `base` value (computed at the same precision, so this is the same as a full pass, and
/// several times cheaper for a parameter near the output).
fn moved_forward_values(
    network: &Network,
    derivation: &Derivation,
    base: &[Option<Real>],
    moved: SymbolId,
    delta: &BigRational,
    prec: u32,
    spec: &str,
) -> Vec<Option<Real>> {
    let mut values = base.to_vec();
    let old = network
        .symbol(moved)
        .value
        .as_ref()
        .expect("a declared value");
    values[moved.index()] = Some(Real::exact(old + delta, prec));
    let mut dirty = vec![false; values.len()];
    dirty[moved.index()] = true;
    let mut evaluator = Evaluator::new(&derivation.pool, prec);
    for equation in &network.equations {
        let body = derivation
            .body(equation.node)
            .expect("every equation has a body");
        let affected = derivation
            .pool
            .symbols(body)
            .iter()
            .any(|sym| matches!(sym, Sym::Value(s) if dirty[s.index()]));
        if !affected {
            continue;
        }
        dirty[equation.node.index()] = true;
        let value = evaluator
            .eval(body, &|sym| match sym {
                Sym::Value(s) => values[s.index()].clone(),
                Sym::Grad(_) => None,
            })
            .unwrap_or_else(|e| panic!("perturbed evaluation failed: {e:?}\n{spec}"));
        values[equation.node.index()] = Some(value);
    }
    values
}

#[test]
fn random_networks_match_central_differences() {
    let h = fd_step();
    let two_h = &h * int(2);
    let slack = third_derivative_bound() * &h * &h / int(6);
    let narrow_quotient = ten_to_minus(32);
    let narrow_gradient = ten_to_minus(50);
    // How often each feature of the generator occurs, so a change to it cannot quietly stop
    // testing one (every loss form, softmax, constants, tied weights, log and division).
    let features = [
        "loss half_squared_error",
        "loss squared_error",
        "loss mse",
        "loss binary_cross_entropy",
        "loss cross_entropy",
        "loss L =",
        "softmax(",
        "const c",
        "c*",
        "tanh(",
        "sigmoid(",
        "relu(",
        "leaky_relu(",
        "softplus(",
        "exp(",
        "identity(",
        "log(softplus(",
        "/(1 + ",
        "rate eta",
    ];
    let mut seen = vec![0usize; features.len()];
    let mut tied = 0usize;
    let mut checked = 0usize;
    for seed in 0..RANDOM_NETWORKS {
        let mut rng = Rng::new(0xF1D1_0000 + seed);
        let net = evaluated_net(&mut rng, false);
        let network = &net.loaded.network;
        for (count, feature) in seen.iter_mut().zip(features) {
            *count += usize::from(net.spec.contains(feature));
        }
        // A weight used on more than one edge appears in more than one equation.
        tied += usize::from(network.params().any(|w| {
            let uses = format!("{}*", network.name(w));
            network.name(w).starts_with('w') && net.spec.matches(&uses).count() > 1
        }));
        let base = forward_values(network, &net.derivation, PREC, &net.spec);
        for id in network.ids().filter(|&id| wants_gradient(network, id)) {
            if network.symbol(id).value.is_none() {
                continue;
            }
            let name = network.name(id);
            let loss_moved_by = |delta: &BigRational| {
                let values = moved_forward_values(
                    network,
                    &net.derivation,
                    &base,
                    id,
                    delta,
                    PREC,
                    &net.spec,
                );
                bounds(values[network.loss.index()].as_ref().expect("a loss value"))
            };
            let (plus, minus) = (loss_moved_by(&h), loss_moved_by(&-h.clone()));
            let quotient = ((&plus.0 - &minus.1) / &two_h, (&plus.1 - &minus.0) / &two_h);
            let gradient = match net.values.gradient(id) {
                Some(real) => bounds(real),
                // No gradient means the loss does not depend on it: the derivative is 0.
                None => (BigRational::zero(), BigRational::zero()),
            };
            assert_eq!(
                net.derivation.gradient(id).is_some(),
                net.values.gradient(id).is_some(),
                "`{name}`: a symbolic gradient without a value or the reverse\n{}",
                net.spec
            );
            let distance = gap(&quotient, &gradient);
            assert!(
                distance <= slack,
                "dL/d{name} = {} but the central difference is {} (gap {:e})\n--- spec ---\n{}",
                show(&gradient),
                show(&quotient),
                approx(&distance),
                net.spec
            );
            assert!(
                width(&quotient) < narrow_quotient && width(&gradient) < narrow_gradient,
                "dL/d{name}: enclosures too wide to mean anything: {} vs {}\n{}",
                show(&gradient),
                show(&quotient),
                net.spec
            );
            checked += 1;
        }
    }
    assert!(
        checked > 5 * RANDOM_NETWORKS as usize,
        "only {checked} gradients checked"
    );
    for (count, feature) in seen.iter().zip(features) {
        assert!(*count >= 10, "only {count} networks with `{feature}`");
    }
    assert!(tied >= 20, "only {tied} networks with tied weights");
}

// ---------------------------------------------------------------------------------------------
// 2. The printed forms evaluate to the chain-rule value

#[test]
fn gradient_forms_evaluate_to_the_chain_rule_value() {
    let narrow = ten_to_minus(45);
    let mut checked = 0usize;
    let mut with_named_gradients = 0usize;
    for seed in 0..RANDOM_NETWORKS {
        // The same seeds as test 1: the same networks.
        let mut rng = Rng::new(0xF1D1_0000 + seed);
        let mut net = evaluated_net(&mut rng, false);
        let network = &net.loaded.network;
        let values = &net.values;
        // Made before the evaluator borrows the pool: making them adds to it.
        let expanded: Vec<Option<ExprId>> = network
            .ids()
            .map(|id| net.derivation.expanded(network, id))
            .collect();
        // One evaluator for all forms: the binding (forward values, chain-rule gradients) is the
        // same for every expression, which is what its memo requires.
        let mut evaluator = Evaluator::new(&net.derivation.pool, PREC);
        let bind = |sym: Sym| match sym {
            Sym::Value(s) => values.value(s).cloned(),
            Sym::Grad(s) => values.gradient(s).cloned(),
        };
        for id in network.ids() {
            let Some(gradient) = net.derivation.gradient(id) else {
                continue;
            };
            let name = network.name(id);
            let expected = values
                .gradient(id)
                .unwrap_or_else(|| panic!("dL/d{name} has no value\n{}", net.spec));
            let pool = &net.derivation.pool;
            let expanded = expanded[id.index()].expect("a gradient has an expanded form");
            with_named_gradients += usize::from(
                pool.symbols(expanded)
                    .iter()
                    .any(|sym| matches!(sym, Sym::Grad(_))),
            );
            let forms = [
                ("expanded", expanded),
                ("factored", gradient.factored),
                ("chain_raw", gradient.chain_raw),
            ];
            for (form, expr) in forms {
                let got = evaluator.eval(expr, &bind).unwrap_or_else(|e| {
                    panic!("the {form} form of dL/d{name} fails: {e:?}\n{}", net.spec)
                });
                if let (Some(a), Some(b)) = (got.as_exact(), expected.as_exact()) {
                    assert_eq!(a, b, "{form} form of dL/d{name}\n{}", net.spec);
                }
                let (got_b, expected_b) = (bounds(&got), bounds(expected));
                assert!(
                    gap(&got_b, &expected_b).is_zero(),
                    "the {form} form of dL/d{name} is {} but the chain rule gives {}\n--- spec ---\n{}",
                    show(&got_b),
                    show(&expected_b),
                    net.spec
                );
                assert!(
                    width(&got_b) < narrow,
                    "the {form} form of dL/d{name} is too wide: {}\n{}",
                    show(&got_b),
                    net.spec
                );
                checked += 1;
            }
        }
    }
    assert!(
        checked > 20 * RANDOM_NETWORKS as usize,
        "only {checked} forms checked"
    );
    // Large expansions are kept as named gradients (∂L/∂h21 inside ∂L/∂w1): bound to the
    // chain-rule values above, and they must occur for that binding to be tested.
    assert!(
        with_named_gradients >= 50,
        "only {with_named_gradients} expanded forms mention a named gradient"
    );
}

// ---------------------------------------------------------------------------------------------
// 3. Simplification is sound

/// A random expression over `vars`, as spec text. Every composite is parenthesized or a call,
/// so the result is an operand wherever it is pasted. `seen` collects subexpressions to reuse,
/// which makes repeated terms (and so cancellations and collected powers) common.
fn random_expr(
    rng: &mut Rng,
    depth: u32,
    vars: &[&str],
    transcendental: bool,
    seen: &mut Vec<String>,
) -> String {
    if depth == 0 || one_in(rng, 5) {
        return match rng.below(8) {
            0 => decimal(rng, 1, 300),
            1 => between(rng, 1, 4).to_string(),
            2 => format!("({}/{})", between(rng, 1, 5), between(rng, 2, 7)),
            3 => format!("(-{})", decimal(rng, 1, 200)),
            _ => pick(rng, vars).to_string(),
        };
    }
    if !seen.is_empty() && one_in(rng, 6) {
        return pick(rng, seen).clone();
    }
    let mut sub = |rng: &mut Rng| random_expr(rng, depth - 1, vars, transcendental, seen);
    let choices = if transcendental { 22 } else { 17 };
    let text = match rng.below(choices) {
        0..=2 => format!("({} + {})", sub(rng), sub(rng)),
        3..=4 => format!("({} - {})", sub(rng), sub(rng)),
        5..=7 => format!("({}*{})", sub(rng), sub(rng)),
        8 => format!("({}/{})", sub(rng), sub(rng)),
        9 => format!("(-{})", sub(rng)),
        10 => {
            let exponent = between(rng, -2, 3);
            let written = if exponent < 0 && one_in(rng, 2) {
                format!("({exponent})")
            } else {
                exponent.to_string()
            };
            format!("({}^{written})", sub(rng))
        }
        11 => format!("relu({})", sub(rng)),
        12 => format!("leaky_relu({})", sub(rng)),
        13 => format!("leaky_relu({}, {})", sub(rng), decimal(rng, 1, 90)),
        14 => format!("identity({})", sub(rng)),
        15 => format!("step({})", sub(rng)),
        16 => {
            // A deliberate cancellation: (a·b + a − a) / b and the like.
            let (a, b) = (sub(rng), sub(rng));
            format!("(({a}*{b} + {a} - {a})/{b} - {a})")
        }
        17 => format!("sigmoid({})", sub(rng)),
        18 => format!("tanh({})", sub(rng)),
        19 => format!("exp({})", sub(rng)),
        20 => format!("softplus({})", sub(rng)),
        _ => format!("log({})", sub(rng)),
    };
    seen.push(text.clone());
    text
}

/// Why the tree has no value at a point.
#[derive(Debug)]
enum Undefined {
    DivisionByZero,
    NotRational,
}

fn exponent_of(number: &ast::Number) -> i32 {
    i32::try_from(number.value.to_integer()).expect("a small integer exponent")
}

/// The tree's value, computed directly on exact rationals (no pool, no normalization).
fn eval_tree_exact(
    expr: &Expr,
    env: &HashMap<String, BigRational>,
) -> Result<BigRational, Undefined> {
    Ok(match expr {
        Expr::Num(number) => number.value.clone(),
        Expr::Var(ident) => env[&ident.name].clone(),
        Expr::Neg { operand, .. } => -eval_tree_exact(operand, env)?,
        Expr::Binary { op, lhs, rhs, .. } => {
            let (a, b) = (eval_tree_exact(lhs, env)?, eval_tree_exact(rhs, env)?);
            match op {
                BinOp::Add => a + b,
                BinOp::Sub => a - b,
                BinOp::Mul => a * b,
                BinOp::Div if b.is_zero() => return Err(Undefined::DivisionByZero),
                BinOp::Div => a / b,
            }
        }
        Expr::Pow { base, exponent, .. } => {
            let base = eval_tree_exact(base, env)?;
            let n = exponent_of(exponent);
            if n < 0 && base.is_zero() {
                return Err(Undefined::DivisionByZero);
            }
            base.pow(n)
        }
        Expr::Call { func, args, .. } => {
            let x = eval_tree_exact(&args[0], env)?;
            let positive = x.is_positive();
            match func.name.as_str() {
                "identity" => x,
                "relu" => x.max(BigRational::zero()),
                "step" if positive => BigRational::one(),
                "step" => BigRational::zero(),
                "leaky_relu" if positive => x,
                "leaky_relu" => {
                    let slope = match args.get(1) {
                        Some(slope) => eval_tree_exact(slope, env)?,
                        None => q(1, 100),
                    };
                    slope * x
                }
                _ => return Err(Undefined::NotRational),
            }
        }
    })
}

/// The tree's value as an enclosure, computed directly with interval operations. The
/// functions are rewritten through `exp` and `ln` only (σ(x) = 1/(1 + e^-x),
/// tanh x = 2/(1 + e^-2x) − 1, softplus x = ln(1 + e^x)), so this checks the library's σ, tanh
/// and softplus too. `None` where the value is undefined or a sign is not decided.
fn eval_tree_interval(
    expr: &Expr,
    env: &HashMap<String, BigRational>,
    prec: u32,
) -> Option<Interval> {
    let one = Interval::from_i64(1);
    let by_sign = |x: Interval, positive: Interval, otherwise: Interval| {
        if x.is_positive() {
            Some(positive)
        } else if x.is_negative() {
            Some(otherwise)
        } else {
            None
        }
    };
    Some(match expr {
        Expr::Num(number) => Interval::from_rational(&number.value, prec),
        Expr::Var(ident) => Interval::from_rational(&env[&ident.name], prec),
        Expr::Neg { operand, .. } => -eval_tree_interval(operand, env, prec)?,
        Expr::Binary { op, lhs, rhs, .. } => {
            let a = eval_tree_interval(lhs, env, prec)?;
            let b = eval_tree_interval(rhs, env, prec)?;
            match op {
                BinOp::Add => a.add(&b, prec),
                BinOp::Sub => a.sub(&b, prec),
                BinOp::Mul => a.mul(&b, prec).ok()?,
                BinOp::Div => a.div(&b, prec).ok()?,
            }
        }
        Expr::Pow { base, exponent, .. } => {
            let base = eval_tree_interval(base, env, prec)?;
            let n = exponent_of(exponent);
            if n == 0 {
                one
            } else {
                base.powi(i64::from(n), prec).ok()?
            }
        }
        Expr::Call { func, args, .. } => {
            let x = eval_tree_interval(&args[0], env, prec)?;
            let zero = Interval::from_i64(0);
            match func.name.as_str() {
                "identity" => x,
                "relu" => by_sign(x.clone(), x, zero)?,
                "step" => by_sign(x, one, zero)?,
                "leaky_relu" => {
                    let slope = match args.get(1) {
                        Some(slope) => eval_tree_interval(slope, env, prec)?,
                        None => Interval::from_rational(&q(1, 100), prec),
                    };
                    let scaled = x.mul(&slope, prec).ok()?;
                    by_sign(x.clone(), x, scaled)?
                }
                "exp" => x.exp(prec).ok()?,
                "log" => x.ln(prec).ok()?,
                "sigmoid" => {
                    let e = (-&x).exp(prec).ok()?;
                    one.div(&one.add(&e, prec), prec).ok()?
                }
                "tanh" => {
                    let two = Interval::from_i64(2);
                    let e = (-&x.mul(&two, prec).ok()?).exp(prec).ok()?;
                    two.div(&one.add(&e, prec), prec).ok()?.sub(&one, prec)
                }
                "softplus" => one.add(&x.exp(prec).ok()?, prec).ln(prec).ok()?,
                other => panic!("the generator does not write `{other}`"),
            }
        }
    })
}

/// The equation `name = ...` of a parsed spec.
fn equation_tree<'a>(spec: &'a ast::Spec, name: &str) -> &'a Expr {
    spec.items
        .iter()
        .find_map(|item| match item {
            Item::Equation { name: n, expr, .. } if n.name == name => Some(expr),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no equation for `{name}`"))
}

/// A spec defining `h = expression` over three inputs.
fn expression_spec(values: &[BigRational], expression: &str) -> String {
    let mut text = String::new();
    for (i, value) in values.iter().enumerate() {
        let _ = writeln!(text, "input x{} = {}", i + 1, rational_literal(value));
    }
    let _ = writeln!(text, "h = {expression}");
    text.push_str("loss L = h\n");
    text
}

/// A value literal: `-3/7`, `2`.
fn rational_literal(value: &BigRational) -> String {
    if value.is_integer() {
        value.numer().to_string()
    } else {
        format!("{}/{}", value.numer(), value.denom())
    }
}

/// A random rational point coordinate: a two-place decimal, a small fraction, or 0.
fn random_rational(rng: &mut Rng) -> BigRational {
    match rng.below(5) {
        0 => q(between(rng, -9, 9), between(rng, 1, 9)),
        1 => BigRational::zero(),
        _ => q(between(rng, -200, 200), 100),
    }
}

/// Lowers an expression spec, or `None` when the lowering refuses it (a divisor that is 0
/// whatever the values).
fn try_load(text: &str) -> Option<(Loaded, Derivation)> {
    let loaded = pipeline::load_source(Source::new("random.bp", text), None).ok()?;
    let derivation = pipeline::derivation(&loaded).ok()?;
    Some((loaded, derivation))
}

/// The pool value of node `h` at a point.
fn eval_body_at(
    loaded: &Loaded,
    derivation: &Derivation,
    point: &[BigRational],
    prec: u32,
) -> Result<Real, bpsheet::eval::real::EvalError> {
    let network = &loaded.network;
    let ids: Vec<SymbolId> = (1..=point.len())
        .map(|i| id_of(network, &format!("x{i}")))
        .collect();
    let body = derivation.body(id_of(network, "h")).expect("h has a body");
    let mut evaluator = Evaluator::new(&derivation.pool, prec);
    evaluator.eval(body, &|sym| match sym {
        Sym::Value(id) => ids
            .iter()
            .position(|&x| x == id)
            .map(|i| Real::exact(point[i].clone(), prec)),
        Sym::Grad(_) => None,
    })
}

fn env_of(point: &[BigRational]) -> HashMap<String, BigRational> {
    point
        .iter()
        .enumerate()
        .map(|(i, v)| (format!("x{}", i + 1), v.clone()))
        .collect()
}

#[test]
fn simplified_expressions_equal_the_tree_they_came_from() {
    let vars = ["x1", "x2", "x3"];
    let (mut compared, mut refused) = (0usize, 0usize);
    for seed in 0..400u64 {
        let mut rng = Rng::new(0x5_1A1F + seed);
        let expression = random_expr(&mut rng, 4, &vars, false, &mut Vec::new());
        let first: Vec<BigRational> = (0..3).map(|_| random_rational(&mut rng)).collect();
        let text = expression_spec(&first, &expression);
        let tree_spec = bpsheet::parse::parse(&text)
            .unwrap_or_else(|e| panic!("does not parse: {e:?}\n{text}"));
        let tree = equation_tree(&tree_spec, "h");
        let Some((loaded, derivation)) = try_load(&text) else {
            // Refused only when a divisor is identically 0: then the tree divides by 0 too.
            assert!(
                matches!(
                    eval_tree_exact(tree, &env_of(&first)),
                    Err(Undefined::DivisionByZero)
                ),
                "lowering refused an expression defined at the point\n{text}"
            );
            refused += 1;
            continue;
        };
        for point_index in 0..6 {
            let point: Vec<BigRational> = if point_index == 0 {
                first.clone()
            } else {
                (0..3).map(|_| random_rational(&mut rng)).collect()
            };
            let direct = match eval_tree_exact(tree, &env_of(&point)) {
                Ok(value) => value,
                // The simplified form may cancel the zero divisor (x/x is 1): nothing to compare.
                Err(Undefined::DivisionByZero) => continue,
                Err(Undefined::NotRational) => unreachable!("rational functions only"),
            };
            let pooled = eval_body_at(&loaded, &derivation, &point, 64).unwrap_or_else(|e| {
                panic!("the simplified form fails ({e:?}) where the tree is {direct}\n{text}\nat {point:?}")
            });
            assert_eq!(
                pooled.as_exact(),
                Some(&direct),
                "simplification changed the value\n{text}\nat x = {point:?}"
            );
            compared += 1;
        }
    }
    assert!(compared > 1500, "only {compared} points compared");
    assert!(refused < 40, "{refused} expressions refused");
}

#[test]
fn simplified_transcendental_expressions_enclose_the_tree_value() {
    const TREE_PREC: u32 = 200;
    let vars = ["x1", "x2", "x3"];
    let mut compared = 0usize;
    for seed in 0..300u64 {
        let mut rng = Rng::new(0x7_4A9E + seed);
        let expression = random_expr(&mut rng, 3, &vars, true, &mut Vec::new());
        let first: Vec<BigRational> = (0..3).map(|_| random_rational(&mut rng)).collect();
        let text = expression_spec(&first, &expression);
        let tree_spec = bpsheet::parse::parse(&text)
            .unwrap_or_else(|e| panic!("does not parse: {e:?}\n{text}"));
        let tree = equation_tree(&tree_spec, "h");
        let Some((loaded, derivation)) = try_load(&text) else {
            continue;
        };
        for point_index in 0..3 {
            let point: Vec<BigRational> = if point_index == 0 {
                first.clone()
            } else {
                (0..3).map(|_| random_rational(&mut rng)).collect()
            };
            let Some(direct) = eval_tree_interval(tree, &env_of(&point), TREE_PREC) else {
                continue;
            };
            let pooled = match eval_body_at(&loaded, &derivation, &point, TREE_PREC) {
                Ok(real) => real,
                // A sign the pool's (differently arranged) enclosure cannot decide: no claim.
                Err(bpsheet::eval::real::EvalError::Undecided(_)) => continue,
                Err(e) => panic!(
                    "the simplified form fails ({e:?}) where the tree is {:?}\n{text}\nat {point:?}",
                    direct.to_f64_approx()
                ),
            };
            let (pooled, direct) = (bounds(&pooled), interval_bounds(&direct));
            assert!(
                gap(&pooled, &direct).is_zero(),
                "simplification changed the value: {} vs the tree's {}\n{text}\nat x = {point:?}",
                show(&pooled),
                show(&direct)
            );
            let scale = BigRational::one() + pooled.0.abs() + pooled.1.abs();
            assert!(
                width(&pooled) < ten_to_minus(40) * scale,
                "the simplified form's enclosure is too wide: {}\n{text}\nat x = {point:?}",
                show(&pooled)
            );
            compared += 1;
        }
    }
    assert!(compared > 500, "only {compared} points compared");
}

// ---------------------------------------------------------------------------------------------
// 4. Plain printing reads back

fn plain(network: &Network, pool: &Pool, id: ExprId) -> String {
    let atom = |sym: Sym, out: &mut String| match sym {
        Sym::Value(s) => {
            out.push_str(network.name(s));
            Atom::Name
        }
        Sym::Grad(s) => panic!(
            "value expressions mention no gradient, found ∂L/∂{}",
            network.name(s)
        ),
    };
    let rank = |_: Sym| 0;
    Printer {
        pool,
        notation: Notation::Plain,
        atom: &atom,
        rank: &rank,
        closed_form: false,
        memo: None,
    }
    .print(id)
}

/// Whether an expression mentions a function the spec grammar cannot call (`leaky_step`, the
/// derivative of `leaky_relu`, has no surface name).
fn mentions_uncallable(pool: &Pool, id: ExprId) -> bool {
    let mut stack = vec![id];
    while let Some(e) = stack.pop() {
        if let Node::Apply(func, _) = pool.node(e)
            && (Func::by_name(func.name()).is_none() || matches!(func, Func::Softmax(_)))
        {
            return true;
        }
        stack.extend(pool.children(e));
    }
    false
}

#[test]
fn plain_printing_reads_back_to_the_same_expression() {
    let vars = ["x1", "x2", "x3"];
    let mut round_trips = 0usize;
    let mut failures: Vec<String> = Vec::new();
    for seed in 0..400u64 {
        let mut rng = Rng::new(0x9_2177 + seed);
        let transcendental = !one_in(&mut rng, 3);
        let expression = random_expr(&mut rng, 4, &vars, transcendental, &mut Vec::new());
        let point: Vec<BigRational> = (0..3).map(|_| random_rational(&mut rng)).collect();
        let text = expression_spec(&point, &expression);
        let Some((loaded, derivation)) = try_load(&text) else {
            continue;
        };
        let network = &loaded.network;
        let pool = &derivation.pool;
        let h = id_of(network, "h");
        // What to print: the body of h, and ∂h/∂x_i as differentiated (values only).
        let mut printed: Vec<(Option<String>, String)> = vec![(
            None,
            plain(network, pool, derivation.body(h).expect("h has a body")),
        )];
        for x in vars {
            let x_id = id_of(network, x);
            let local = derivation.gradient(x_id).and_then(|g| {
                g.terms
                    .iter()
                    .find(|term| term.child == h)
                    .map(|term| term.local)
            });
            if let Some(local) = local.filter(|&l| !mentions_uncallable(pool, l)) {
                printed.push((Some(x.to_string()), plain(network, pool, local)));
            }
        }
        // The same spec with r0 = (printed body), r1 = (printed ∂h/∂x1), ... and a loss using
        // them all; lowered into one pool, equal canonical forms are equal ids.
        let mut second = text.replace("loss L = h\n", "");
        let mut loss = String::from("loss L = h");
        for (k, (_, body)) in printed.iter().enumerate() {
            let _ = writeln!(second, "r{k} = {body}");
            let _ = write!(loss, " + r{k}");
        }
        second.push_str(&loss);
        second.push('\n');
        let (loaded2, derivation2) = match load_result(&second) {
            Ok(loaded) => loaded,
            Err(message) => {
                failures.push(format!(
                    "the printed text does not load:\n{message}--- spec ---\n{second}"
                ));
                continue;
            }
        };
        let network2 = &loaded2.network;
        let h2 = id_of(network2, "h");
        for (k, (wrt, body)) in printed.iter().enumerate() {
            let read_back = derivation2.body(id_of(network2, &format!("r{k}")));
            let original = match wrt {
                None => derivation2.body(h2),
                Some(x) => derivation2
                    .gradient(id_of(network2, x))
                    .and_then(|g| g.terms.iter().find(|term| term.child == h2))
                    .map(|term| term.local),
            };
            if read_back != original {
                let what = wrt
                    .as_ref()
                    .map_or("the body of h".to_string(), |x| format!("dh/d{x}"));
                failures.push(format!(
                    "`{body}` ({what}) reads back as a different expression\n--- spec ---\n{second}"
                ));
            }
            round_trips += 1;
        }
    }
    // All seeds run before failing, so one kind of mismatch cannot hide another; the first
    // few are shown in full.
    assert!(
        failures.is_empty(),
        "{} of {round_trips} printed expressions do not read back; the first {}:\n\n{}",
        failures.len(),
        failures.len().min(8),
        failures[..failures.len().min(8)].join("\n")
    );
    // 625 printed expressions read back on the last count; fewer means the generator broke.
    assert!(round_trips > 500, "only {round_trips} round trips");
}

/// Prints the body of `h = body` (over x1 = 1/2, x2 = 1/4) in plain notation, then defines
/// `r = (that text)` next to it and checks that `r` lowers to the same expression as `h`.
fn assert_reads_back(body: &str) {
    let declarations = "input x1 = 0.5\ninput x2 = 0.25\n";
    let (loaded, derivation) = load(&format!("{declarations}h = {body}\nloss L = h\n"));
    let network = &loaded.network;
    let h = derivation.body(id_of(network, "h")).expect("h has a body");
    let text = plain(network, &derivation.pool, h);
    let second = format!("{declarations}h = {body}\nr = {text}\nloss L = h + r\n");
    let (loaded2, derivation2) = load_result(&second).unwrap_or_else(|message| {
        panic!("`{body}` prints as `{text}`, which does not load:\n{message}")
    });
    let network2 = &loaded2.network;
    assert_eq!(
        derivation2.body(id_of(network2, "r")),
        derivation2.body(id_of(network2, "h")),
        "`{body}` prints as `{text}`, which reads back as a different expression"
    );
}

/// The slope of `leaky_relu` is printed as a fraction (`leaky_relu(x1, 1/5)`, and the default
/// as `leaky_relu(x1, 1/100)`), but the graph stage accepts only a number literal there.
#[test]
fn plain_printed_leaky_relu_reads_back() {
    assert_reads_back("leaky_relu(x1, 0.2)");
    assert_reads_back("leaky_relu(x1)");
}

/// A numeric coefficient times a sum that has company, `2·(1 + x1)·x2`, is printed
/// coefficient first, `2*(1 + x1)*x2`; read back left to right, `2*(1 + x1)` meets the sum
/// alone and is distributed into it, giving `(2 + 2*x1)*x2`, another canonical form.
#[test]
fn plain_printed_coefficient_times_sum_reads_back() {
    assert_reads_back("(x1 + 1)*x2*2");
}

/// `(1/2)/(1 + x1)` is printed `1/(2*(1 + x1))`: the coefficient's denominator joins the
/// divisor, where it is distributed into the sum on reading, giving `1/(2 + 2*x1)`.
#[test]
fn plain_printed_fraction_over_a_sum_reads_back() {
    assert_reads_back("0.5/(x1 + 1)");
}

// ---------------------------------------------------------------------------------------------
// 5. Exact networks

/// The exact value of a quantity, by name; fails if it is missing or not exact.
fn exact_value(values: &Values, network: &Network, name: &str) -> BigRational {
    values
        .value(id_of(network, name))
        .and_then(|r| r.as_exact().cloned())
        .unwrap_or_else(|| panic!("`{name}` is not exact"))
}

fn exact_gradient(values: &Values, network: &Network, name: &str) -> BigRational {
    values
        .gradient(id_of(network, name))
        .and_then(|r| r.as_exact().cloned())
        .unwrap_or_else(|| panic!("dL/d{name} is not exact"))
}

fn exact_update(values: &Values, network: &Network, name: &str) -> BigRational {
    values
        .updated(id_of(network, name))
        .and_then(|r| r.as_exact().cloned())
        .unwrap_or_else(|| panic!("the update of `{name}` is not exact"))
}

/// Every value the network has (forward, gradients, updates, loss after) is exact.
fn assert_all_exact(network: &Network, values: &Values, spec: &str) {
    for id in network.ids() {
        let name = network.name(id);
        for (what, real) in [
            ("value", values.value(id)),
            ("gradient", values.gradient(id)),
            ("update", values.updated(id)),
        ] {
            if let Some(real) = real {
                assert!(
                    real.as_exact().is_some(),
                    "the {what} of `{name}` is not exact\n{spec}"
                );
            }
        }
    }
    if network.rate.is_some() {
        let after = values
            .loss_after
            .as_ref()
            .expect("a rate gives a loss after");
        assert!(
            after.as_exact().is_some(),
            "the loss after is not exact\n{spec}"
        );
    }
}

/// Checks a hand-computed table: (name, forward value), (name, gradient), (name, update).
fn assert_table(
    spec: &str,
    forward: &[(&str, BigRational)],
    gradients: &[(&str, BigRational)],
    updates: &[(&str, BigRational)],
    loss_after: BigRational,
) {
    let (loaded, derivation) = load(spec);
    let network = &loaded.network;
    let values = network::evaluate(network, &derivation, 64).expect("evaluates");
    assert_all_exact(network, &values, spec);
    for (name, expected) in forward {
        assert_eq!(&exact_value(&values, network, name), expected, "{name}");
    }
    for (name, expected) in gradients {
        assert_eq!(
            &exact_gradient(&values, network, name),
            expected,
            "dL/d{name}"
        );
    }
    for (name, expected) in updates {
        assert_eq!(
            &exact_update(&values, network, name),
            expected,
            "{name} updated"
        );
    }
    let after = values
        .loss_after
        .as_ref()
        .and_then(|r| r.as_exact().cloned());
    assert_eq!(after, Some(loss_after), "loss after the update");
}

#[test]
fn hand_computed_exact_networks() {
    // A linear unit with half squared error.
    //   h = b + w1 x1 + w2 x2 = 1/10 + (2/5)(1/2) + (1/5)(-1/4) = 1/10 + 1/5 - 1/20 = 1/4
    //   L = 1/2 (y - h)^2 = 1/2 (3/4)^2 = 9/32
    //   dL/dh = h - y = -3/4
    //   dL/dw1 = -3/4 x1 = -3/8, dL/dw2 = -3/4 x2 = 3/16, dL/db = -3/4
    //   dL/dx1 = -3/4 w1 = -3/10, dL/dx2 = -3/4 w2 = -3/20
    //   with eta = 1/10: w1 = 2/5 + 3/80 = 7/16, w2 = 1/5 - 3/160 = 29/160, b = 1/10 + 3/40 = 7/40
    //   after: h = 7/40 + (7/16)(1/2) - (29/160)(1/4) = (112 + 140 - 29)/640 = 223/640,
    //   L = 1/2 (417/640)^2 = 173889/819200
    assert_table(
        "input x1 = 0.5\ninput x2 = -0.25\nparam w1 = 0.4\nparam w2 = 0.2\nparam b = 0.1\n\
         target y = 1\nrate eta = 0.1\nh = b + w1*x1 + w2*x2\nloss L = 1/2*(y - h)^2\n",
        &[("h", q(1, 4)), ("L", q(9, 32))],
        &[
            ("h", q(-3, 4)),
            ("w1", q(-3, 8)),
            ("w2", q(3, 16)),
            ("b", q(-3, 4)),
            ("x1", q(-3, 10)),
            ("x2", q(-3, 20)),
        ],
        &[("w1", q(7, 16)), ("w2", q(29, 160)), ("b", q(7, 40))],
        q(173_889, 819_200),
    );

    // Two ReLU units, one dead, squared error.
    //   h1 = (3/5)(1/2) - 1/10 = 1/5 > 0, a1 = 1/5;  h2 = (-2/5)(1/2) + 1/10 = -1/10 < 0, a2 = 0
    //   o = (3/2)(1/5) + (1/2)(0) + 1/5 = 1/2;  L = (y - o)^2 = (1/4 - 1/2)^2 = 1/16
    //   dL/do = 2(o - y) = 1/2;  dL/dv1 = 1/2 a1 = 1/10;  dL/dv2 = 1/2 a2 = 0;  dL/dc = 1/2
    //   dL/da1 = 1/2 v1 = 3/4, dL/dh1 = 3/4 step(1/5) = 3/4, dL/dw1 = 3/4 x = 3/8, dL/db1 = 3/4
    //   dL/da2 = 1/2 v2 = 1/4, dL/dh2 = 1/4 step(-1/10) = 0, so dL/dw2 = dL/db2 = 0
    //   dL/dx = dL/dh1 w1 + dL/dh2 w2 = (3/4)(3/5) = 9/20
    //   with eta = 1/2: w1 = 3/5 - 3/16 = 33/80, b1 = -1/10 - 3/8 = -19/40, v1 = 3/2 - 1/20 = 29/20,
    //   c = 1/5 - 1/4 = -1/20, w2, b2, v2 unchanged
    //   after: h1 = (33/80)(1/2) - 19/40 = -43/160 < 0 so a1 = 0, a2 = 0, o = -1/20,
    //   L = (1/4 + 1/20)^2 = 9/100
    assert_table(
        "input x = 0.5\nparam w1 = 0.6\nparam b1 = -0.1\nparam w2 = -0.4\nparam b2 = 0.1\n\
         param v1 = 1.5\nparam v2 = 0.5\nparam c = 0.2\ntarget y = 0.25\nrate eta = 0.5\n\
         h1 = w1*x + b1\na1 = relu(h1)\nh2 = w2*x + b2\na2 = relu(h2)\n\
         o = v1*a1 + v2*a2 + c\nloss squared_error\n",
        &[
            ("h1", q(1, 5)),
            ("a1", q(1, 5)),
            ("h2", q(-1, 10)),
            ("a2", int(0)),
            ("o", q(1, 2)),
            ("L", q(1, 16)),
        ],
        &[
            ("o", q(1, 2)),
            ("v1", q(1, 10)),
            ("v2", int(0)),
            ("c", q(1, 2)),
            ("a1", q(3, 4)),
            ("h1", q(3, 4)),
            ("w1", q(3, 8)),
            ("b1", q(3, 4)),
            ("a2", q(1, 4)),
            ("h2", int(0)),
            ("w2", int(0)),
            ("b2", int(0)),
            ("x", q(9, 20)),
        ],
        &[
            ("w1", q(33, 80)),
            ("b1", q(-19, 40)),
            ("w2", q(-2, 5)),
            ("b2", q(1, 10)),
            ("v1", q(29, 20)),
            ("v2", q(1, 2)),
            ("c", q(-1, 20)),
        ],
        q(9, 100),
    );

    // A leaky ReLU (slope 1/10) on the negative side feeding two outputs, mse over 2 outputs.
    //   h = (-1/5)(1) + (2/5)(-1/2) = -2/5, a = (1/10)(-2/5) = -1/25
    //   o1 = 2a = -2/25, o2 = -a + x2 = 1/25 - 1/2 = -23/50
    //   L = 1/2 ((0 + 2/25)^2 + (-1/2 + 23/50)^2) = 1/2 (4/625 + 1/625) = 1/250
    //   dL/do1 = o1 - y1 = -2/25, dL/do2 = o2 - y2 = 1/25 (the 2 of the square cancels 1/n)
    //   dL/du1 = (-2/25) a = 2/625, dL/du2 = (1/25) a = -1/625
    //   dL/da = (-2/25)(2) + (1/25)(-1) = -1/5, dL/dh = (-1/5)(1/10) = -1/50
    //   dL/dw1 = -1/50 x1 = -1/50, dL/dw2 = -1/50 x2 = 1/100
    //   dL/dx1 = -1/50 w1 = 1/250, dL/dx2 = -1/50 w2 + dL/do2 = -1/125 + 1/25 = 4/125
    //   with eta = 1: w1 = -9/50, w2 = 39/100, u1 = 2 - 2/625 = 1248/625, u2 = -1 + 1/625 = -624/625
    //   after: h = -9/50 - 39/200 = -3/8, a = -3/80, o1 = -234/3125, o2 = 117/5000 ... exactly
    //   o2 = (-624/625)(-3/80) - 1/2 = -2891/6250, L = 13689/3906250
    assert_table(
        "input x1 = 1\ninput x2 = -0.5\nparam w1 = -0.2\nparam w2 = 0.4\nparam u1 = 2\n\
         param u2 = -1\ntarget y1 = 0\ntarget y2 = -0.5\nrate eta = 1\n\
         h = w1*x1 + w2*x2\na = leaky_relu(h, 0.1)\no1 = u1*a\no2 = u2*a + x2\nloss mse\n",
        &[
            ("h", q(-2, 5)),
            ("a", q(-1, 25)),
            ("o1", q(-2, 25)),
            ("o2", q(-23, 50)),
            ("L", q(1, 250)),
        ],
        &[
            ("o1", q(-2, 25)),
            ("o2", q(1, 25)),
            ("u1", q(2, 625)),
            ("u2", q(-1, 625)),
            ("a", q(-1, 5)),
            ("h", q(-1, 50)),
            ("w1", q(-1, 50)),
            ("w2", q(1, 100)),
            ("x1", q(1, 250)),
            ("x2", q(4, 125)),
        ],
        &[
            ("w1", q(-9, 50)),
            ("w2", q(39, 100)),
            ("u1", q(1248, 625)),
            ("u2", q(-624, 625)),
        ],
        q(13_689, 3_906_250),
    );
}

fn sign(v: &BigRational) -> i8 {
    if v.is_positive() {
        1
    } else if v.is_negative() {
        -1
    } else {
        0
    }
}

#[test]
fn piecewise_linear_networks_are_exact() {
    // Exact arithmetic is cheap in precision terms: 64 bits only sizes the (unused) enclosures.
    const EXACT_PREC: u32 = 64;
    let h = ten_to_minus(9);
    let mut checked = 0usize;
    for seed in 0..100u64 {
        let mut rng = Rng::new(0xE8AC_7000 + seed);
        // Drawn again while a pre-activation is within 1e-3 of 0, as for the smooth networks.
        let net = evaluated_net(&mut rng, true);
        let network = &net.loaded.network;
        assert_all_exact(network, &net.values, &net.spec);
        let pre: Vec<String> = network
            .equations
            .iter()
            .map(|eq| network.name(eq.node).to_string())
            .filter(|name| name.starts_with('h'))
            .collect();
        let base = forward_values(network, &net.derivation, EXACT_PREC, &net.spec);
        let signs: Vec<i8> = pre
            .iter()
            .map(|name| sign(&exact_value(&net.values, network, name)))
            .collect();
        for id in network.ids().filter(|&id| wants_gradient(network, id)) {
            let name = network.name(id);
            let loss_at = |delta: &BigRational| {
                let values = moved_forward_values(
                    network,
                    &net.derivation,
                    &base,
                    id,
                    delta,
                    EXACT_PREC,
                    &net.spec,
                );
                let exact = |name: &str| {
                    values[id_of(network, name).index()]
                        .as_ref()
                        .and_then(|r| r.as_exact().cloned())
                        .unwrap_or_else(|| panic!("`{name}` is not exact\n{}", net.spec))
                };
                // No kink crossed: every pre-activation keeps its sign, so along this
                // coordinate every node is the same affine function at p - h, p and p + h.
                let moved_signs: Vec<i8> = pre.iter().map(|name| sign(&exact(name))).collect();
                assert_eq!(
                    moved_signs, signs,
                    "moving `{name}` by {delta} crosses a kink\n{}",
                    net.spec
                );
                exact(network.name(network.loss))
            };
            let quotient = (loss_at(&h) - loss_at(&-h.clone())) / (int(2) * &h);
            let gradient = net.values.gradient(id).map_or_else(BigRational::zero, |g| {
                g.as_exact()
                    .cloned()
                    .expect("exact gradients (checked above)")
            });
            // The loss is an exact quadratic along the coordinate, and the central difference
            // of a quadratic is its derivative: equality, no tolerance.
            assert_eq!(
                quotient, gradient,
                "dL/d{name} differs from the exact central difference\n--- spec ---\n{}",
                net.spec
            );
            checked += 1;
        }
    }
    assert!(checked > 900, "only {checked} gradients checked");
}

// ---------------------------------------------------------------------------------------------
// 6. Correct rounding at boundaries, through the binary

/// Runs `bpsheet derive SPEC --format json ARGS...` on a spec written to a fresh temporary
/// directory and returns the parsed report.
fn derive_json(label: &str, spec: &str, args: &[&str]) -> serde_json::Value {
    let dir: PathBuf =
        std::env::temp_dir().join(format!("bpsheet-properties-{}-{label}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let path = dir.join("spec.bp");
    std::fs::write(&path, spec).expect("the spec is written");
    let output = Command::new(env!("CARGO_BIN_EXE_bpsheet"))
        .arg("derive")
        .arg(&path)
        .args(["--format", "json"])
        .args(args)
        .output()
        .expect("the binary runs");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        output.status.success(),
        "bpsheet derive {args:?} failed:\n{}\n--- spec ---\n{spec}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the report is JSON")
}

/// The printed value of `section.name` (`forward`, `gradients`, `updates`).
fn printed<'a>(report: &'a serde_json::Value, section: &str, name: &str) -> &'a str {
    report[section][name]["value"]
        .as_str()
        .unwrap_or_else(|| panic!("no {section}.{name}.value in {report:#}"))
}

/// Nodes whose exact values sit on rounding boundaries, and a gradient and an update that do.
const TIES: &str = "\
input x = 0.5
param w = 0.25
param p = 0.25
rate eta = 1
t125 = w*x
m125 = -w*x
t0005 = w*x/250
t00045 = w*x*0.0036
t9995 = x*19.99
t9985 = x*19.97
m0004 = -x*0.008
loss L = t125 + m125 + t0005 + t00045 + t9995 + t9985 + m0004 + 0.125*p
";

/// (section, name, printed with half-up, printed with half-even)
type Expected = (&'static str, &'static str, &'static str, &'static str);

#[test]
fn cli_rounds_exact_ties_by_the_rounding_mode() {
    // (flags, [(section, name, half-up, half-even)]). Exact values: t125 = 0.125,
    // m125 = -0.125, t0005 = 0.0005, t00045 = 0.00045, t9995 = 9.995, t9985 = 9.985,
    // m0004 = -0.004, dL/dp = 0.125, p after the update = 0.25 - 0.125 = 0.125.
    let cases: &[(&[&str], &[Expected])] = &[
        (
            &["--decimals", "2"],
            &[
                ("forward", "t125", "0.13", "0.12"),
                ("forward", "m125", "-0.13", "-0.12"),
                ("forward", "t9995", "10.00", "10.00"),
                ("forward", "t9985", "9.99", "9.98"),
                // A negative value rounding to zero prints without a sign.
                ("forward", "m0004", "0.00", "0.00"),
                ("gradients", "p", "0.13", "0.12"),
                ("updates", "p", "0.13", "0.12"),
            ],
        ),
        (
            &["--decimals", "3"],
            &[
                ("forward", "t0005", "0.001", "0.000"),
                ("forward", "t125", "0.125", "0.125"),
            ],
        ),
        (
            &["--sig", "1"],
            &[
                ("forward", "t0005", "0.0005", "0.0005"),
                ("forward", "t00045", "0.0005", "0.0004"),
                ("forward", "t125", "0.1", "0.1"),
            ],
        ),
        (
            &["--sig", "3"],
            &[
                ("forward", "t9995", "10.0", "10.0"),
                ("forward", "t9985", "9.99", "9.98"),
                ("forward", "m125", "-0.125", "-0.125"),
            ],
        ),
    ];
    for (index, (flags, expected)) in cases.iter().enumerate() {
        let up = derive_json(&format!("ties-{index}-up"), TIES, flags);
        let mut even_flags = flags.to_vec();
        even_flags.extend(["--rounding", "half-even"]);
        let even = derive_json(&format!("ties-{index}-even"), TIES, &even_flags);
        for &(section, name, half_up, half_even) in *expected {
            assert_eq!(
                printed(&up, section, name),
                half_up,
                "{section}.{name} with {flags:?} half-up"
            );
            assert_eq!(
                printed(&even, section, name),
                half_even,
                "{section}.{name} with {flags:?} half-even"
            );
        }
    }
}

/// `floor(10^digits · v + 1/2)` written as a decimal with `digits` places: half-up rounding of
/// a positive rational, written out directly.
fn round_half_up(v: &BigRational, digits: u32) -> String {
    let scale = BigInt::from(10).pow(digits);
    let scaled = (v * BigRational::from_integer(scale) + q(1, 2))
        .floor()
        .to_integer();
    let text = format!("{:0>width$}", scaled, width = digits as usize + 1);
    let (whole, fraction) = text.split_at(text.len() - digits as usize);
    format!("{whole}.{fraction}")
}

/// `digits` decimal places of a rational, truncated toward -∞ (or, with `up`, rounded up).
fn decimal_places(v: &BigRational, digits: u32, up: bool) -> String {
    let scale = BigRational::from_integer(BigInt::from(10).pow(digits));
    let scaled = v * &scale;
    let n = if up { scaled.ceil() } else { scaled.floor() }.to_integer();
    let sign = if n.is_negative() { "-" } else { "" };
    let text = format!("{:0>width$}", n.abs(), width = digits as usize + 1);
    let (whole, fraction) = text.split_at(text.len() - digits as usize);
    format!("{sign}{whole}.{fraction}")
}

#[test]
fn cli_rounds_irrational_values_next_to_a_boundary_correctly() {
    const TRUTH_PREC: u32 = 512;
    // sigmoid(x) = 1/8 at x = -ln 7, and tanh(x) = 3/8 at x = ln(11/5)/2: both boundaries of
    // rounding to 2 decimals (0.125 between 0.12 and 0.13, 0.375 between 0.37 and 0.38). The
    // decimal truncations of those x to 35 places, from below and from above, put the value
    // within about 10^-35 of the boundary, on a known side; the 61-bit start of the CLI cannot
    // decide that, so this also exercises its precision doubling.
    let ln7 = Interval::from_i64(7).ln(TRUTH_PREC).expect("ln 7");
    let half_ln = Interval::from_rational(&q(11, 5), TRUTH_PREC)
        .ln(TRUTH_PREC)
        .expect("ln 11/5")
        .mul(&Interval::from_rational(&q(1, 2), TRUTH_PREC), TRUTH_PREC)
        .expect("a half");
    let neg_ln7 = -&ln7;
    let cases = [
        ("sigmoid", neg_ln7, q(1, 8), ["0.12", "0.13"]),
        ("tanh", half_ln, q(3, 8), ["0.37", "0.38"]),
    ];
    let mut decided_near = 0;
    let mut sides = Vec::new();
    for (func, root, boundary, [below, above]) in cases {
        let (root_lo, root_hi) = interval_bounds(&root);
        for x in [
            decimal_places(&root_lo, 35, false),
            decimal_places(&root_hi, 35, true),
        ] {
            let spec = format!("input x = {x}\na = {func}(x)\nloss L = 2*a\n");
            // The truth at 512 bits, through the library's evaluator.
            let (loaded, derivation) = load(&spec);
            let values =
                network::evaluate(&loaded.network, &derivation, TRUTH_PREC).expect("evaluates");
            let truth = bounds(values.value(id_of(&loaded.network, "a")).expect("a"));
            let distance = gap(&truth, &(boundary.clone(), boundary.clone()));
            assert!(
                distance < ten_to_minus(12) && !distance.is_zero(),
                "{func}({x}) is not next to {boundary}: {}",
                show(&truth)
            );
            let side = if truth.0 > boundary { above } else { below };
            sides.push(side);
            let label = format!("near-{func}-{decided_near}");
            for mode in ["half-up", "half-even"] {
                let report = derive_json(&label, &spec, &["--decimals", "2", "--rounding", mode]);
                assert_eq!(
                    printed(&report, "forward", "a"),
                    side,
                    "{func}({x}), {mode}"
                );
                let report = derive_json(&label, &spec, &["--sig", "2", "--rounding", mode]);
                assert_eq!(
                    printed(&report, "forward", "a"),
                    side,
                    "{func}({x}), {mode}"
                );
            }
            // Forty places: the digits of the 512-bit truth (its two bounds round alike).
            let (lo, hi) = (round_half_up(&truth.0, 40), round_half_up(&truth.1, 40));
            assert_eq!(lo, hi, "the truth does not decide 40 places");
            let report = derive_json(&label, &spec, &["--decimals", "40"]);
            assert_eq!(
                printed(&report, "forward", "a"),
                lo,
                "{func}({x}) to 40 places"
            );
            decided_near += 1;
        }
    }
    // One value just below and one just above each boundary.
    assert_eq!(sides, ["0.12", "0.13", "0.37", "0.38"]);
    assert_eq!(decided_near, 4);
}
