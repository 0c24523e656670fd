//! The layered shorthand `mlp 2 -> 3 tanh -> 2 sigmoid`, expanded into declarations and
//! equations with documented names.
//!
//! Layer l (1-based, the input layer is 0) with n units gets, for unit i and previous unit j:
//! bias `b{l}_{i}`, weight `w{l}_{i}_{j}`, pre-activation `h{l}_{i} = b{l}_{i} + Σ_j w{l}_{i}_{j}
//! · a{l-1}_{j}` and activation `a{l}_{i} = act(h{l}_{i})`. The inputs are the declared inputs in
//! order (`inputs x = [...]` gives x1, x2, ...), or x1..xn without values. An `identity` (or
//! `linear`) layer has no `a` nodes: its output is `h`. A parameter the spec declares itself
//! (`param w1_1_2 = 0.3`) keeps its declared value instead of the `weights`/`biases` default.

use std::sync::Arc;

use num_traits::ToPrimitive;

use super::collect::{Collected, Pending};
use super::synth::{binary, call, var};
use super::{Body, MAX_EDGES, Symbol, SymbolId, SymbolKind, names};
use crate::ast::{BinOp, DeclKind, Expr, LayerSpec, Number, ValueSpec};
use crate::diag::{DiagResult, Diagnostic, Span};
use crate::func::{Func, SOFTMAX};

/// `weights = ...` and `biases = ...`.
#[derive(Default)]
pub(super) struct Defaults {
    pub weights: Option<Arc<ValueSpec>>,
    pub biases: Option<Arc<ValueSpec>>,
}

/// The activation names a layer may have.
const ACTIVATIONS: &[&str] = &[
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "softplus",
    "identity",
    "linear",
    SOFTMAX,
];

enum Activation {
    Identity,
    Elementwise(Func),
    Softmax,
}

/// Declares the layers' parameters and nodes; returns the output nodes. `defined_later` is the
/// number of nodes the spec's own equations will add, for reserving room.
pub(super) fn expand(
    collected: &mut Collected,
    defaults: &Defaults,
    inputs: &Number,
    layers: &[LayerSpec],
    span: Span,
    defined_later: usize,
) -> DiagResult<Vec<SymbolId>> {
    let mut widths = vec![width(inputs)?];
    let mut activations = Vec::new();
    for layer in layers {
        widths.push(width(&layer.units)?);
        activations.push(activation(layer)?);
    }
    let n_edges = widths
        .windows(2)
        .map(|pair| pair[0] as u128 * pair[1] as u128)
        .sum::<u128>();
    if n_edges > MAX_EDGES as u128 {
        return Err(vec![
            Diagnostic::error(
                span,
                format!(
                    "this `mlp` has {n_edges} weights, more than bpsheet handles ({MAX_EDGES})"
                ),
            )
            .with_hint("worksheets are for networks a person can follow; use fewer units"),
        ]);
    }

    // Everything the layers add, reserved at once (a 256-256-256-1 network has 133k symbols):
    // the inputs if undeclared, a weight per edge, and per unit a bias, an `h` and an `a`.
    let units: usize = widths[1..].iter().sum();
    let new_symbols = widths[0] + n_edges as usize + 3 * units + defined_later;
    collected.symbols.reserve(new_symbols);
    collected.by_name.reserve(&collected.symbols, new_symbols);
    collected.equations.reserve(2 * units);

    // The decimal text of every index a weight's name ends with, written once.
    let max_fan_in = widths[..widths.len() - 1]
        .iter()
        .copied()
        .max()
        .unwrap_or(0);
    let index_texts: Vec<String> = (1..=max_fan_in).map(|j| j.to_string()).collect();
    let mut previous = input_symbols(collected, widths[0], inputs.span)?;
    for (layer_index, activation) in activations.iter().enumerate() {
        let l = layer_index + 1;
        let mut pre_activations = Vec::with_capacity(widths[l]);
        for i in 1..=widths[l] {
            let bias = param(
                collected,
                names::layer_name('b', l, &[i]),
                || names::layer_latex("b", l, &[i]),
                defaults.biases.as_ref().or(defaults.weights.as_ref()),
                span,
            )
            .map_err(|d| vec![d])?;
            let mut sum = var(&collected.symbols[bias.index()].name, span);
            // What resolving the sum finds: the bias, then each weight and its input.
            let mut uses = Vec::with_capacity(1 + 2 * previous.len());
            uses.push(bias);
            let weight_names = names::WeightNames::new(l, i);
            for (&input, j_text) in previous.iter().zip(&index_texts) {
                let weight = param(
                    collected,
                    weight_names.name(j_text),
                    || weight_names.latex(j_text),
                    defaults.weights.as_ref(),
                    span,
                )
                .map_err(|d| vec![d])?;
                let product = binary(
                    BinOp::Mul,
                    var(&collected.symbols[weight.index()].name, span),
                    var(&collected.symbols[input.index()].name, span),
                    span,
                );
                sum = binary(BinOp::Add, sum, product, span);
                uses.extend([weight, input]);
            }
            let h = node(
                collected,
                names::layer_name('h', l, &[i]),
                names::layer_latex("h", l, &[i]),
                span,
            )?;
            collected.equations.push(Pending {
                node: h,
                body: Body::Expr(sum),
                span,
                uses: Some(uses),
            });
            pre_activations.push(h);
        }
        previous = match activation {
            Activation::Identity => pre_activations,
            Activation::Elementwise(func) => {
                let mut outputs = Vec::with_capacity(widths[l]);
                for (i, &h) in pre_activations.iter().enumerate() {
                    let a = node(
                        collected,
                        names::layer_name('a', l, &[i + 1]),
                        names::layer_latex("a", l, &[i + 1]),
                        span,
                    )?;
                    let body = call(
                        func.name(),
                        vec![var(&collected.symbols[h.index()].name, span)],
                        span,
                    );
                    collected.equations.push(Pending {
                        node: a,
                        body: Body::Expr(body),
                        span,
                        uses: Some(vec![h]),
                    });
                    outputs.push(a);
                }
                outputs
            }
            Activation::Softmax => {
                let args: Vec<Expr> = pre_activations
                    .iter()
                    .map(|&h| var(&collected.symbols[h.index()].name, span))
                    .collect();
                let mut outputs = Vec::with_capacity(widths[l]);
                for i in 0..widths[l] {
                    let a = node(
                        collected,
                        names::layer_name('a', l, &[i + 1]),
                        names::layer_latex("a", l, &[i + 1]),
                        span,
                    )?;
                    let body = Body::Softmax {
                        index: i as u32,
                        args: args.clone(),
                    };
                    collected.equations.push(Pending {
                        node: a,
                        body,
                        span,
                        uses: Some(pre_activations.clone()),
                    });
                    outputs.push(a);
                }
                outputs
            }
        };
    }
    Ok(previous)
}

fn width(number: &Number) -> DiagResult<usize> {
    match number.value.to_integer().to_usize() {
        Some(n) if number.value.is_integer() && (1..=MAX_EDGES).contains(&n) => Ok(n),
        _ => Err(vec![Diagnostic::error(
            number.span,
            format!(
                "a layer width is a whole number from 1 to {MAX_EDGES}, not {}",
                number.text
            ),
        )]),
    }
}

fn activation(layer: &LayerSpec) -> DiagResult<Activation> {
    let Some(name) = &layer.activation else {
        return Ok(Activation::Identity);
    };
    match name.name.as_str() {
        "identity" | "linear" => Ok(Activation::Identity),
        SOFTMAX => Ok(Activation::Softmax),
        other => match Func::by_name(other).filter(|_| ACTIVATIONS.contains(&other)) {
            Some(func) => Ok(Activation::Elementwise(func)),
            None => {
                let mut diagnostic =
                    Diagnostic::error(name.span, format!("unknown activation `{other}`"))
                        .with_hint(format!(
                            "a layer's activation is one of {}",
                            ACTIVATIONS.join(", ")
                        ));
                if let Some(close) = crate::diag::did_you_mean(other, ACTIVATIONS.iter().copied()) {
                    diagnostic = diagnostic.with_hint(format!("did you mean `{close}`?"));
                }
                Err(vec![diagnostic])
            }
        },
    }
}

/// The declared inputs, or x1..xn (without values) when the spec declares none.
fn input_symbols(collected: &mut Collected, n: usize, span: Span) -> DiagResult<Vec<SymbolId>> {
    let declared: Vec<SymbolId> = collected
        .symbols
        .iter()
        .enumerate()
        .filter(|(_, s)| s.kind == SymbolKind::Declared(DeclKind::Input))
        .map(|(i, _)| SymbolId(i as u32))
        .collect();
    if declared.is_empty() {
        return (1..=n)
            .map(|i| {
                let name = format!("x{i}");
                collected
                    .declare(Symbol {
                        latex: names::latex_name(&name),
                        name,
                        kind: SymbolKind::Declared(DeclKind::Input),
                        value_spec: None,
                        value: None,
                        span,
                        generated: true,
                    })
                    .map_err(|d| vec![d])
            })
            .collect();
    }
    if declared.len() != n {
        return Err(vec![
            Diagnostic::error(
                span,
                format!(
                    "the `mlp` takes {n} inputs but the spec declares {}",
                    declared.len()
                ),
            )
            .with_hint("make the first width of the `mlp` line the number of inputs"),
        ]);
    }
    Ok(declared)
}

/// A generated parameter, or the one the spec declares under that name.
fn param(
    collected: &mut Collected,
    name: String,
    latex: impl FnOnce() -> String,
    default: Option<&Arc<ValueSpec>>,
    span: Span,
) -> Result<SymbolId, Diagnostic> {
    let new_id = SymbolId(collected.symbols.len() as u32);
    let Err(id) = collected.by_name.insert(&collected.symbols, &name, new_id) else {
        collected.symbols.push(Symbol {
            name,
            latex: latex(),
            kind: SymbolKind::Declared(DeclKind::Param),
            value_spec: default.cloned(),
            value: None,
            span,
            generated: true,
        });
        return Ok(new_id);
    };
    let symbol = &mut collected.symbols[id.index()];
    if symbol.kind != SymbolKind::Declared(DeclKind::Param) {
        return Err(Diagnostic::error(
            symbol.span,
            format!(
                "`{}` is the name of a parameter the `mlp` line generates",
                symbol.name
            ),
        )
        .with_hint("declare it with `param` to set its value, or rename it"));
    }
    if symbol.value_spec.is_none() {
        symbol.value_spec = default.cloned();
    }
    if symbol.latex == names::latex_name(&symbol.name) {
        symbol.latex = latex();
    }
    Ok(id)
}

/// A generated node, declared with its layer display form (not the one its name would get).
fn node(
    collected: &mut Collected,
    name: String,
    latex: String,
    span: Span,
) -> DiagResult<SymbolId> {
    collected
        .declare(Symbol {
            name,
            latex,
            kind: SymbolKind::Node,
            value_spec: None,
            value: None,
            span,
            generated: true,
        })
        .map_err(|d| vec![d])
}
