//! The stages chained for the commands: read a spec, parse, resolve, derive, evaluate, report;
//! every failure turned into a rendered diagnostic with a location.

use std::path::Path;

use crate::cli::{Exit, user_error};
use crate::diag::{Diagnostic, Source};
use crate::eval::calculator;
use crate::eval::network::{Failure, Stage};
use crate::eval::numeric::{self, Decided, Rounding};
use crate::eval::real::EvalError;
use crate::graph::{self, BuildOptions, Network};
use crate::render::report::{Report, ReportBuilder};
use crate::symbolic::backprop::{self, Derivation};
use crate::symbolic::expr::{ExprId, Node, Sym};

/// Spec files larger than this are refused before parsing.
pub const MAX_SPEC_BYTES: u64 = 4 << 20;

/// A spec read and resolved.
pub struct Loaded {
    /// The text, for diagnostics.
    pub source: Source,
    /// The network.
    pub network: Network,
}

/// Reads, parses and resolves a spec.
pub fn load(path: &Path, seed: Option<u64>) -> Result<Loaded, Exit> {
    let text = read_text(path)?;
    let source = Source::new(path.display().to_string(), text);
    load_source(source, seed)
}

/// Reads a text file, refusing huge or non-UTF-8 files with a clear message.
pub fn read_text(path: &Path) -> Result<String, Exit> {
    let cannot = |error: std::io::Error| {
        Exit::User(format!(
            "error: cannot read `{}`: {error}\n",
            path.display()
        ))
    };
    let metadata = std::fs::metadata(path).map_err(cannot)?;
    if metadata.is_dir() {
        return Err(Exit::User(format!(
            "error: `{}` is a directory, not a file\n",
            path.display()
        )));
    }
    if metadata.len() > MAX_SPEC_BYTES {
        return Err(Exit::User(format!(
            "error: `{}` is {} bytes; bpsheet reads specs of at most {MAX_SPEC_BYTES} bytes\n",
            path.display(),
            metadata.len()
        )));
    }
    let bytes = std::fs::read(path).map_err(cannot)?;
    String::from_utf8(bytes).map_err(|e| {
        Exit::User(format!(
            "error: `{}` is not UTF-8 text (invalid byte at offset {})\n  = hint: save the file as UTF-8\n",
            path.display(),
            e.utf8_error().valid_up_to()
        ))
    })
}

/// Parses and resolves a spec already in memory.
pub fn load_source(source: Source, seed: Option<u64>) -> Result<Loaded, Exit> {
    let spec = crate::parse::parse(&source.text).map_err(|d| user_error(&source, &d))?;
    let network =
        graph::build(&spec, BuildOptions { seed }).map_err(|d| user_error(&source, &d))?;
    Ok(Loaded { source, network })
}

/// Derives every gradient.
pub fn derivation(loaded: &Loaded) -> Result<Derivation, Exit> {
    backprop::derive(&loaded.network).map_err(|d| user_error(&loaded.source, &d))
}

/// Requires a value for every declared quantity the loss depends on.
pub fn require_values(loaded: &Loaded, derivation: &Derivation) -> Result<(), Exit> {
    let network = &loaded.network;
    let missing: Vec<Diagnostic> = network
        .ids()
        .filter(|&id| {
            let symbol = network.symbol(id);
            !symbol.is_node() && symbol.value.is_none() && is_used(network, derivation, id)
        })
        .map(|id| {
            let symbol = network.symbol(id);
            let keyword = symbol
                .decl_kind()
                .map_or("param", crate::ast::DeclKind::keyword);
            let hint = if symbol.generated {
                "give the generated weights values with `weights = uniform(-0.5, 0.5, step 0.01)`"
                    .to_string()
            } else {
                format!("give it a value: `{keyword} {} = ...`", symbol.name)
            };
            Diagnostic::error(symbol.span, format!("`{}` has no value", symbol.name))
                .with_label("computing the network needs it")
                .with_hint(hint)
        })
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(user_error(&loaded.source, &missing))
    }
}

fn is_used(network: &Network, derivation: &Derivation, id: crate::graph::SymbolId) -> bool {
    derivation.gradient(id).is_some() || network.rate == Some(id) || {
        let sym = Sym::Value(id);
        network.equations.iter().any(|eq| {
            derivation
                .body(eq.node)
                .is_some_and(|body| derivation.pool.symbols(body).contains(&sym))
        })
    }
}

/// Evaluates until every value rounds correctly under every requested rounding.
pub fn evaluate(
    loaded: &Loaded,
    derivation: &Derivation,
    roundings: &[Rounding],
) -> Result<Decided, Exit> {
    require_values(loaded, derivation)?;
    numeric::decide(&loaded.network, derivation, roundings).map_err(|failure| {
        user_error(
            &loaded.source,
            &[failure_diagnostic(&loaded.network, derivation, &failure)],
        )
    })
}

/// The report of `derive`; `latex` says whether its LaTeX forms are wanted, `const_gradients`
/// whether constants get their gradients reported.
pub fn report(
    loaded: &Loaded,
    rounding: Rounding,
    rounded_intermediates: bool,
    latex: bool,
    const_gradients: bool,
) -> Result<Report, Exit> {
    let (mut derivation, decided, warnings) = evaluated(loaded, rounding)?;
    let mut report = builder(
        loaded,
        &mut derivation,
        &decided,
        rounding,
        latex,
        const_gradients,
    )
    .build(warnings);
    if rounded_intermediates {
        let route =
            calculator::route(&loaded.network, &derivation, rounding).map_err(|failure| {
                user_error(
                    &loaded.source,
                    &[failure_diagnostic(&loaded.network, &derivation, &failure)],
                )
            })?;
        report.add_calculator(&loaded.network, &route);
    }
    Ok(report)
}

/// The derivation, its values, and the warnings a report lists.
pub fn evaluated(
    loaded: &Loaded,
    rounding: Rounding,
) -> Result<(Derivation, Decided, Vec<String>), Exit> {
    let derivation = derivation(loaded)?;
    let decided = evaluate(loaded, &derivation, &[rounding])?;
    let mut warnings: Vec<String> = loaded
        .network
        .warnings
        .iter()
        .map(|d| d.message.clone())
        .collect();
    if decided.at_limit {
        warnings.push(format!(
            "some values agree with a rounding boundary to {} bits; they are rounded as exact ties",
            numeric::MAX_PREC
        ));
    }
    warnings.extend(crate::eval::activations::relu_at_zero(
        &loaded.network,
        &derivation,
        &decided.values,
    ));
    Ok((derivation, decided, warnings))
}

/// The report builder `derive` uses; `latex` says whether LaTeX forms are wanted,
/// `const_gradients` whether constants get their gradients reported.
pub fn builder<'a>(
    loaded: &'a Loaded,
    derivation: &'a mut Derivation,
    decided: &'a Decided,
    rounding: Rounding,
    latex: bool,
    const_gradients: bool,
) -> ReportBuilder<'a> {
    let builder = ReportBuilder::new(&loaded.network, derivation, &decided.values, rounding);
    let builder = if latex { builder } else { builder.plain_only() };
    if const_gradients {
        builder.with_const_gradients()
    } else {
        builder
    }
}

/// Turns an evaluation failure into a diagnostic at the operation that failed.
pub fn failure_diagnostic(
    network: &Network,
    derivation: &Derivation,
    failure: &Failure,
) -> Diagnostic {
    let (node, pass) = match failure.stage {
        Stage::Forward(id) => (id, "at the given values"),
        Stage::Backward(id) => (id, "in its gradient"),
        Stage::After(id) => (id, "after the update step"),
    };
    let equation_span = network
        .equations
        .iter()
        .find(|eq| eq.node == node)
        .map_or(network.symbol(node).span, |eq| eq.span);
    let span_of = |at: ExprId| derivation.spans.get(&at).copied().unwrap_or(equation_span);
    let name = network.name(node);
    match &failure.error {
        EvalError::DivisionByZero(at) => {
            Diagnostic::error(span_of(*at), format!("division by zero in `{name}` {pass}"))
                .with_label("this is 0")
                .with_hint("change the values so that no divisor is 0")
        }
        EvalError::LogOfNonPositive(at) => {
            let argument = match derivation.pool.node(*at) {
                Node::Apply(_, args) => args[0],
                _ => *at,
            };
            Diagnostic::error(span_of(argument), format!("`log` of a value that is not positive in `{name}` {pass}"))
                .with_label("this is 0 or negative")
                .with_hint("cross-entropy needs predictions strictly between 0 and 1; check the values and targets")
        }
        EvalError::Overflow(_) => Diagnostic::error(
            equation_span,
            format!("a value in `{name}` is too large to compute {pass}"),
        )
        .with_hint("an exponential of a huge argument overflows; use smaller values"),
        EvalError::Undecided(_) => Diagnostic::error(
            equation_span,
            format!(
                "`{name}` needs the sign of a value that equals 0 to {} bits {pass}",
                numeric::MAX_PREC
            ),
        )
        .with_hint(
            "the value is probably exactly 0 in a way bpsheet cannot prove; change the values",
        ),
        EvalError::Unbound(sym) => {
            let id = match sym {
                Sym::Value(id) | Sym::Grad(id) => *id,
            };
            Diagnostic::error(
                network.symbol(id).span,
                format!("`{}` has no value", network.name(id)),
            )
        }
    }
}
