//! First pass over a spec: every declaration and equation becomes a symbol (duplicates are
//! errors), settings are gathered, and the `mlp` shorthand is expanded.

use std::sync::Arc;

use num_traits::ToPrimitive;

use super::index::NameIndex;

use super::{Body, QuestionSpec, Symbol, SymbolId, SymbolKind, mlp, names, sample};
use crate::ast::{self, DeclKind, Ident, Item, LossBody};
use crate::diag::{DiagResult, Diagnostic, Span};

/// Everything the spec says, names assigned to ids, nothing resolved inside expressions yet.
pub(super) struct Collected {
    pub title: Option<String>,
    pub symbols: Vec<Symbol>,
    pub by_name: NameIndex,
    /// Equations in source order (generated ones where the `mlp` line stands).
    pub equations: Vec<Pending>,
    pub loss: Option<LossStatement>,
    pub rate: Option<SymbolId>,
    pub seed: Option<u64>,
    pub questions: Vec<QuestionSpec>,
    pub hidden: Vec<SymbolId>,
    pub allowed: Vec<String>,
    /// The output nodes of an `mlp`, if there is one.
    pub mlp_outputs: Vec<SymbolId>,
    /// Warnings so far.
    pub warnings: Vec<Diagnostic>,
}

/// An equation, its names not resolved yet.
pub(super) struct Pending {
    /// The defined node.
    pub node: SymbolId,
    /// Its definition.
    pub body: Body,
    /// The equation's statement.
    pub span: Span,
    /// For an equation the `mlp` line writes: the symbols its body uses, in the order resolving
    /// the body finds them, so that `check` need not look its names up again.
    pub uses: Option<Vec<SymbolId>>,
}

/// The `loss` statement.
pub(super) struct LossStatement {
    pub node: SymbolId,
    pub body: LossBody,
    pub span: Span,
}

impl Collected {
    /// Adds a symbol, or reports that the name is taken.
    pub fn declare(&mut self, symbol: Symbol) -> Result<SymbolId, Diagnostic> {
        let id = SymbolId(self.symbols.len() as u32);
        let Err(existing) = self.by_name.insert(&self.symbols, &symbol.name, id) else {
            self.symbols.push(symbol);
            return Ok(id);
        };
        let previous = &self.symbols[existing.index()];
        let diagnostic =
            Diagnostic::error(symbol.span, format!("`{}` is defined twice", symbol.name))
                .with_hint("each name is declared or defined exactly once; rename one of them");
        Err(if previous.generated {
            diagnostic.with_label("the `mlp` line generates this name")
        } else {
            diagnostic
                .with_label("defined again here")
                .with_note_at(previous.span, "first defined")
        })
    }

    /// A new computed node the spec defines.
    pub fn node(&mut self, name: &Ident) -> Result<SymbolId, Diagnostic> {
        self.declare(Symbol {
            name: name.name.clone(),
            latex: names::latex_name(&name.name),
            kind: SymbolKind::Node,
            value_spec: None,
            value: None,
            span: name.span,
            generated: false,
        })
    }

    fn resolve(&self, ident: &Ident) -> Result<SymbolId, Diagnostic> {
        self.by_name
            .get(&self.symbols, &ident.name)
            .ok_or_else(|| undefined(ident, self.names()))
    }

    /// Every name, in no particular order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.symbols.iter().map(|symbol| symbol.name.as_str())
    }
}

/// The error for a name nobody declared, with a did-you-mean hint.
pub(super) fn undefined<'a>(ident: &Ident, known: impl IntoIterator<Item = &'a str>) -> Diagnostic {
    let diagnostic = Diagnostic::error(ident.span, format!("undefined name `{}`", ident.name))
        .with_label("not declared or defined anywhere");
    match crate::diag::did_you_mean(&ident.name, known) {
        Some(close) => diagnostic.with_hint(format!("did you mean `{close}`?")),
        None => diagnostic.with_hint(format!(
            "declare it, e.g. `param {} = 0.1`, or define it with `{} = ...`",
            ident.name, ident.name
        )),
    }
}

/// Walks the statements. Collects every error it can before giving up.
pub(super) fn collect(spec: &ast::Spec) -> DiagResult<Collected> {
    let mut collected = Collected {
        title: None,
        symbols: Vec::new(),
        by_name: NameIndex::default(),
        equations: Vec::new(),
        loss: None,
        rate: None,
        seed: None,
        questions: Vec::new(),
        hidden: Vec::new(),
        allowed: Vec::new(),
        mlp_outputs: Vec::new(),
        warnings: Vec::new(),
    };
    let mut errors = Vec::new();
    let mut defaults = mlp::Defaults::default();
    let mut mlp_line = None;

    // Declarations first, so that equations and the mlp expansion can see every name.
    for item in &spec.items {
        let result = match item {
            Item::Decl {
                kind,
                name,
                value,
                span,
            } => declare(&mut collected, *kind, name, value.clone(), *span),
            Item::VecDecl {
                kind,
                prefix,
                values,
                span,
            } => values.iter().enumerate().try_for_each(|(index, value)| {
                let name = Ident {
                    name: format!("{}{}", prefix.name, index + 1),
                    span: prefix.span,
                };
                declare(&mut collected, *kind, &name, Some(value.clone()), *span)
            }),
            Item::Title { text, span } => {
                set_once(&mut collected.title, text.clone(), *span, "title")
            }
            Item::Seed { value, span } => match value.value.to_integer().to_u64() {
                Some(seed) if value.value.is_integer() => {
                    set_once(&mut collected.seed, seed, *span, "seed")
                }
                _ => Err(Diagnostic::error(
                    value.span,
                    "a seed is a whole number from 0 to 18446744073709551615",
                )),
            },
            Item::Weights { value, span } => set_once(
                &mut defaults.weights,
                Arc::new(value.clone()),
                *span,
                "weights",
            ),
            Item::Biases { value, span } => set_once(
                &mut defaults.biases,
                Arc::new(value.clone()),
                *span,
                "biases",
            ),
            Item::Mlp { .. } => {
                if mlp_line.is_some() {
                    Err(Diagnostic::error(
                        item.span(),
                        "a spec has at most one `mlp` line",
                    ))
                } else {
                    mlp_line = Some(item);
                    Ok(())
                }
            }
            Item::Questions { questions, .. } => {
                collected
                    .questions
                    .extend(questions.iter().map(|q| QuestionSpec {
                        target: q.target.name.clone(),
                        points: q.points.as_ref().map(|p| p.value.clone()),
                        span: q.target.span,
                    }));
                Ok(())
            }
            Item::Allow { what, .. } => {
                collected.allowed.push(what.name.clone());
                Ok(())
            }
            Item::Latex { .. }
            | Item::Hide { .. }
            | Item::Equation { .. }
            | Item::GroupEquation { .. }
            | Item::Loss { .. } => Ok(()),
        };
        if let Err(diagnostic) = result {
            errors.push(diagnostic);
        }
    }
    if let Some(Item::Mlp {
        inputs,
        layers,
        span,
    }) = mlp_line
    {
        // The nodes the equations and the loss define next, so the symbols grow only once.
        let defined = spec
            .items
            .iter()
            .map(|item| match item {
                Item::Equation { .. } | Item::Loss { .. } => 1,
                Item::GroupEquation { names, .. } => names.len(),
                _ => 0,
            })
            .sum();
        match mlp::expand(&mut collected, &defaults, inputs, layers, *span, defined) {
            Ok(outputs) => collected.mlp_outputs = outputs,
            Err(mut diagnostics) => errors.append(&mut diagnostics),
        }
    } else if let Some(weights) = defaults.weights.as_ref() {
        errors.push(
            Diagnostic::warning(
                weights.span(),
                "`weights` has no effect without an `mlp` line",
            )
            .with_hint("give each parameter its value with `param NAME = ...`"),
        );
    }

    // Then equations and the loss, which define nodes.
    for item in &spec.items {
        if let Err(diagnostic) = define(&mut collected, item) {
            errors.push(diagnostic);
        }
    }
    // Finally what refers to names: display overrides and hidden values.
    for item in &spec.items {
        match item {
            Item::Latex { name, latex, .. } => match collected.resolve(name) {
                Ok(id) => collected.symbols[id.index()].latex = latex.clone(),
                Err(diagnostic) => errors.push(diagnostic),
            },
            Item::Hide { names, .. } => {
                for name in names {
                    match collected.resolve(name) {
                        Ok(id) => collected.hidden.push(id),
                        Err(diagnostic) => errors.push(diagnostic),
                    }
                }
            }
            _ => {}
        }
    }
    if errors.iter().any(Diagnostic::is_error) {
        return Err(errors);
    }
    collected.warnings = errors;
    Ok(collected)
}

fn set_once<T>(slot: &mut Option<T>, value: T, span: Span, what: &str) -> Result<(), Diagnostic> {
    if slot.is_some() {
        return Err(Diagnostic::error(span, format!("`{what}` is given twice"))
            .with_hint("keep one of them"));
    }
    *slot = Some(value);
    Ok(())
}

fn declare(
    collected: &mut Collected,
    kind: DeclKind,
    name: &Ident,
    value: Option<ast::ValueSpec>,
    span: Span,
) -> Result<(), Diagnostic> {
    if let Some(value) = &value {
        sample::validate(value).map_err(first)?;
    }
    if kind == DeclKind::Rate && collected.rate.is_some() {
        return Err(
            Diagnostic::error(span, "a spec has at most one learning rate")
                .with_hint("keep one `rate` line"),
        );
    }
    let id = collected.declare(Symbol {
        name: name.name.clone(),
        latex: names::latex_name(&name.name),
        kind: SymbolKind::Declared(kind),
        value_spec: value.map(Arc::new),
        value: None,
        span: name.span,
        generated: false,
    })?;
    if kind == DeclKind::Rate {
        collected.rate = Some(id);
    }
    Ok(())
}

fn define(collected: &mut Collected, item: &Item) -> Result<(), Diagnostic> {
    match item {
        Item::Equation { name, expr, span } => {
            let id = collected.node(name)?;
            collected.equations.push(Pending {
                node: id,
                body: Body::Expr(expr.clone()),
                span: *span,
                uses: None,
            });
        }
        Item::GroupEquation {
            names,
            func,
            args,
            span,
        } => {
            if func.name != crate::func::SOFTMAX {
                return Err(Diagnostic::error(
                    func.span,
                    format!("`{}` does not define a group of nodes", func.name),
                )
                .with_hint(
                    "only `softmax` defines several nodes at once: `p1, p2 = softmax(z1, z2)`",
                ));
            }
            if names.len() != args.len() {
                return Err(Diagnostic::error(
                    *span,
                    format!(
                        "`softmax` of {} arguments defines {} nodes, but {} names are given",
                        args.len(),
                        args.len(),
                        names.len()
                    ),
                ));
            }
            for (index, name) in names.iter().enumerate() {
                let id = collected.node(name)?;
                let body = Body::Softmax {
                    index: index as u32,
                    args: args.clone(),
                };
                collected.equations.push(Pending {
                    node: id,
                    body,
                    span: *span,
                    uses: None,
                });
            }
        }
        Item::Loss { name, body, span } => {
            if collected.loss.is_some() {
                return Err(
                    Diagnostic::error(*span, "a spec has exactly one `loss` line")
                        .with_hint("combine the terms into one loss expression"),
                );
            }
            let default_name = Ident {
                name: "L".to_string(),
                span: *span,
            };
            let node = collected.node(name.as_ref().unwrap_or(&default_name))?;
            collected.loss = Some(LossStatement {
                node,
                body: body.clone(),
                span: *span,
            });
        }
        _ => {}
    }
    Ok(())
}

/// The first diagnostic of a list (value forms report one problem at a time).
pub(super) fn first(mut diagnostics: Vec<Diagnostic>) -> Diagnostic {
    diagnostics.swap_remove(0)
}
