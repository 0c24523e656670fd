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
//!    of a local derivative, parsed back as an equation and lowered, is the same hash-consed
//!    expression.
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
//!   allowed is `THIRD_DERIVATIVE_BOUND · h² / 6`. With h = 10^-25 and a bound of 10^12 on |L'''|
//!   (networks whose forward values exceed 30 in magnitude are rejected, weights are at most 1
//!   and depth at most 5, so third derivatives are many orders of magnitude below that), the
//!   slack is below 2·10^-39 while a wrong chain-rule term changes a gradient by far more.
//!   The loss is evaluated at 256 bits (about 77 digits), so each loss enclosure is about
//!   10^-75 wide and the quotient's enclosure about 10^-50: far below the slack.
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
use bpsheet::diag::Source;
use bpsheet::eval::dyadic::Dyadic;
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

/// Working precision for network evaluations: about 77 decimal digits.
const PREC: u32 = 256;

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

/// Parses, resolves and derives a spec, panicking with the spec and the rendered diagnostics.
fn load(text: &str) -> (Loaded, Derivation) {
    let loaded = match pipeline::load_source(Source::new("random.bp", text), None) {
        Ok(loaded) => loaded,
        Err(exit) => panic!("spec did not load: {exit:?}\n--- spec ---\n{text}"),
    };
    let derivation = match pipeline::derivation(&loaded) {
        Ok(derivation) => derivation,
        Err(exit) => panic!("spec did not derive: {exit:?}\n--- spec ---\n{text}"),
    };
    (loaded, derivation)
}

fn id_of(network: &Network, name: &str) -> SymbolId {
    network
        .lookup(name)
        .unwrap_or_else(|| panic!("no symbol `{name}`"))
}

/// The closed interval of rationals a value is known to lie in.
fn bounds(real: &Real) -> (BigRational, BigRational) {
    match &real.exact {
        Some(value) => (value.clone(), value.clone()),
        None => (
            real.enclosure.lo().to_rational(),
            real.enclosure.hi().to_rational(),
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

/// The network with one declared value moved by `delta`.
fn perturbed(network: &Network, id: SymbolId, delta: &BigRational) -> Network {
    let mut moved = network.clone();
    let symbol = &mut moved.symbols[id.index()];
    let value = symbol.value.as_ref().expect("a declared value");
    symbol.value = Some(value + delta);
    // Without a rate `evaluate` skips the update step and the loss after it: only L is needed.
    moved.rate = None;
    moved
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
                        format!("sigmoid({o})*{y}"),
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
        2 | 3 => format!("sigmoid({pre})"),
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
            format!("sigmoid({pre})/(1 + {p}*{p})")
        }
        _ => format!("{pre}/(1 + {pre}*{pre})"),
    }
}

/// A random network, loaded and evaluated, together with its values; `None` when it has to be
/// drawn again (a pre-activation within 1e-3 of a kink, or a forward value beyond 30).
struct Evaluated {
    spec: String,
    loaded: Loaded,
    derivation: Derivation,
    values: Values,
}

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

/// The step of the central difference: 10^-25.
fn fd_step() -> BigRational {
    ten_to_minus(25)
}

/// Generous bound on |L'''| near the evaluation point (see the module doc).
fn third_derivative_bound() -> BigRational {
    BigRational::from_integer(BigInt::from(10).pow(12))
}

/// The loss of a network by a forward pass alone (the perturbed networks need nothing else):
/// every equation's lowered body evaluated in order on top of the declared values.
fn loss_bounds(
    network: &Network,
    derivation: &Derivation,
    spec: &str,
) -> (BigRational, BigRational) {
    let mut values: Vec<Option<Real>> = network
        .symbols
        .iter()
        .map(|symbol| symbol.value.clone().map(|v| Real::exact(v, PREC)))
        .collect();
    let mut evaluator = Evaluator::new(&derivation.pool, PREC);
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
    bounds(
        values[network.loss.index()]
            .as_ref()
            .expect("the loss has a value"),
    )
}

#[test]
fn random_networks_match_central_differences() {
    let h = fd_step();
    let two_h = &h * int(2);
    let slack = third_derivative_bound() * &h * &h / int(6);
    let narrow_quotient = ten_to_minus(40);
    let narrow_gradient = ten_to_minus(60);
    let mut checked = 0usize;
    for seed in 0..RANDOM_NETWORKS {
        let mut rng = Rng::new(0xF1D1_0000 + seed);
        let net = evaluated_net(&mut rng, false);
        let network = &net.loaded.network;
        for id in network.ids().filter(|&id| wants_gradient(network, id)) {
            if network.symbol(id).value.is_none() {
                continue;
            }
            let name = network.name(id);
            let plus = loss_bounds(&perturbed(network, id, &h), &net.derivation, &net.spec);
            let minus = loss_bounds(
                &perturbed(network, id, &-h.clone()),
                &net.derivation,
                &net.spec,
            );
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
}

// ---------------------------------------------------------------------------------------------
// 2. The printed forms evaluate to the chain-rule value

#[test]
fn gradient_forms_evaluate_to_the_chain_rule_value() {
    let narrow = ten_to_minus(60);
    let mut checked = 0usize;
    for seed in 0..RANDOM_NETWORKS {
        // The same seeds as test 1: the same networks.
        let mut rng = Rng::new(0xF1D1_0000 + seed);
        let net = evaluated_net(&mut rng, false);
        let network = &net.loaded.network;
        let values = &net.values;
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
            let forms = [
                ("expanded", gradient.expanded),
                ("factored", gradient.factored),
                ("chain_raw", gradient.chain_raw),
            ];
            for (form, expr) in forms {
                let got = evaluator.eval(expr, &bind).unwrap_or_else(|e| {
                    panic!("the {form} form of dL/d{name} fails: {e:?}\n{}", net.spec)
                });
                if let (Some(a), Some(b)) = (&got.exact, &expected.exact) {
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
}
#[test]
fn scratch() {
    let text = std::fs::read_to_string("/tmp/s.bp").unwrap();
    let (loaded, derivation) = load(&text);
    let values = network::evaluate(&loaded.network, &derivation, PREC).unwrap();
    for id in loaded.network.ids() {
        if let Some(v) = values.value(id) {
            let b = bounds(v);
            eprintln!(
                "{} = {} width {:e}",
                loaded.network.name(id),
                show(&b),
                approx(&width(&b))
            );
        }
    }
}
