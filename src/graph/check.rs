//! Second pass: resolves the names inside every equation, checks functions and arities, builds
//! the loss, orders the equations, finds cycles and parameters that cannot affect the loss, and
//! draws the values.

use std::collections::{HashMap, HashSet};

use super::collect::{Collected, LossStatement, Pending, undefined};
use super::sample::DEFAULT_SEED;
use super::{Body, BuildOptions, Equation, Network, SymbolId, SymbolKind, loss};
use crate::ast::{DeclKind, Expr, Ident, LossBody};
use crate::diag::{DiagResult, Diagnostic, Span};
use crate::func::{CALLABLE, Func, SOFTMAX};

/// What each equation uses: by equation (the order of `Collected::equations`), and which
/// equation defines each symbol.
struct Dependencies {
    of_equation: Vec<Vec<SymbolId>>,
    /// By symbol index: the equation defining it, or `NO_EQUATION`.
    equation_of: Vec<u32>,
}

const NO_EQUATION: u32 = u32::MAX;

impl Dependencies {
    fn new(n_symbols: usize, n_equations: usize) -> Dependencies {
        Dependencies {
            of_equation: Vec::with_capacity(n_equations),
            equation_of: vec![NO_EQUATION; n_symbols],
        }
    }

    /// Records the uses of the next equation, which defines `node`.
    fn push(&mut self, node: SymbolId, uses: Vec<SymbolId>) {
        self.equation_of[node.index()] = self.of_equation.len() as u32;
        self.of_equation.push(uses);
    }

    /// The equation defining a symbol, if any.
    fn equation(&self, id: SymbolId) -> Option<usize> {
        match self.equation_of[id.index()] {
            NO_EQUATION => None,
            index => Some(index as usize),
        }
    }

    /// What a symbol's equation uses (nothing for a declared quantity).
    fn of(&self, id: SymbolId) -> &[SymbolId] {
        self.equation(id)
            .map_or(&[][..], |index| &self.of_equation[index])
    }
}

/// Resolves, orders and checks what `collect` gathered.
pub(super) fn finish(mut collected: Collected, options: BuildOptions) -> DiagResult<Network> {
    let mut errors = Vec::new();
    let Some(loss_statement) = collected.loss.take() else {
        return Err(vec![
            Diagnostic::error(None, "the spec has no loss").with_hint(
                "add a line such as `loss L = 1/2 * (y - y_pred)^2` or `loss half_squared_error`",
            ),
        ]);
    };

    let mut dependencies =
        Dependencies::new(collected.symbols.len(), collected.equations.len() + 1);
    let mut seen = Seen::new(collected.symbols.len());
    for index in 0..collected.equations.len() {
        let uses = match collected.equations[index].uses.take() {
            Some(uses) => {
                debug_assert_eq!(
                    resolve_body(&collected, &collected.equations[index].body, &mut seen).ok(),
                    Some(uses.clone()),
                    "the uses recorded for a generated equation are what resolving finds"
                );
                Ok(uses)
            }
            None => resolve_body(&collected, &collected.equations[index].body, &mut seen),
        };
        match uses {
            Ok(uses) => dependencies.push(collected.equations[index].node, uses),
            Err(mut diagnostics) => errors.append(&mut diagnostics),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    let loss_body = loss_equation(&mut collected, &loss_statement, &dependencies)?;
    let loss_uses = resolve_body(&collected, &loss_body, &mut seen)?;
    dependencies.push(loss_statement.node, loss_uses);
    collected.equations.push(Pending {
        node: loss_statement.node,
        body: loss_body,
        span: loss_statement.span,
        uses: None,
    });

    let order = topological_order(&collected, &dependencies)?;
    let mut warnings = std::mem::take(&mut collected.warnings);
    warnings.extend(unreachable_warnings(
        &collected,
        &dependencies,
        loss_statement.node,
    ));

    let seed = options.seed.or(collected.seed).unwrap_or(DEFAULT_SEED);
    super::draw_values(&mut collected.symbols, seed)?;

    let outputs = if collected.mlp_outputs.is_empty() {
        loss_outputs(&dependencies, loss_statement.node, &collected)
    } else {
        std::mem::take(&mut collected.mlp_outputs)
    };
    let mut equations: Vec<Option<Pending>> = collected.equations.into_iter().map(Some).collect();
    let equations = order
        .into_iter()
        .filter_map(|index| equations[index].take())
        .map(|pending| Equation {
            node: pending.node,
            body: pending.body,
            span: pending.span,
        })
        .collect();
    Ok(Network {
        title: collected.title.unwrap_or_default(),
        symbols: collected.symbols,
        equations,
        loss: loss_statement.node,
        rate: collected.rate,
        seed,
        questions: collected.questions,
        hidden: collected.hidden,
        allowed: collected.allowed,
        outputs,
        warnings,
        by_name: collected.by_name,
    })
}

/// Which symbols one equation has met so far: a mark per symbol, cleared by moving to the next
/// generation rather than by rewriting the marks.
struct Seen {
    marks: Vec<u32>,
    generation: u32,
}

impl Seen {
    fn new(n_symbols: usize) -> Seen {
        Seen {
            marks: vec![0; n_symbols],
            generation: 0,
        }
    }

    /// Forgets every symbol.
    fn clear(&mut self) {
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.marks.fill(0);
            self.generation = 1;
        }
    }

    /// Marks a symbol; whether it was not marked yet.
    fn insert(&mut self, id: SymbolId) -> bool {
        let mark = &mut self.marks[id.index()];
        let new = *mark != self.generation;
        *mark = self.generation;
        new
    }
}

/// The symbols an equation's body uses, after checking every name, function and arity in it.
fn resolve_body(collected: &Collected, body: &Body, seen: &mut Seen) -> DiagResult<Vec<SymbolId>> {
    let mut errors = Vec::new();
    let mut deps = Vec::new();
    seen.clear();
    let exprs: &[Expr] = match body {
        Body::Expr(expr) => std::slice::from_ref(expr),
        Body::Softmax { args, .. } => args,
    };
    for expr in exprs {
        expr.walk(|sub| match sub {
            Expr::Var(ident) => match collected.by_name.get(&collected.symbols, &ident.name) {
                Some(id) => {
                    if seen.insert(id) {
                        deps.push(id);
                    }
                }
                None => errors.push(undefined(ident, collected.names())),
            },
            Expr::Call { func, args, span } => {
                if let Err(diagnostic) = check_call(func, args, *span) {
                    errors.push(diagnostic);
                }
            }
            _ => {}
        });
    }
    if errors.is_empty() {
        Ok(deps)
    } else {
        Err(errors)
    }
}

fn check_call(func: &Ident, args: &[Expr], span: Span) -> Result<(), Diagnostic> {
    if func.name == SOFTMAX {
        return Err(Diagnostic::error(
            func.span,
            "`softmax` defines a group of nodes and cannot stand inside an expression",
        )
        .with_hint("write it as its own line: `p1, p2, p3 = softmax(z1, z2, z3)`"));
    }
    let Some(f) = Func::by_name(&func.name) else {
        let known = CALLABLE.iter().map(|(name, _)| *name).chain([SOFTMAX]);
        let diagnostic = Diagnostic::error(func.span, format!("unknown function `{}`", func.name));
        return Err(match crate::diag::did_you_mean(&func.name, known) {
            Some(close) => diagnostic.with_hint(format!("did you mean `{close}`?")),
            None => diagnostic.with_hint(format!(
                "the functions are {}, and `softmax` for groups",
                CALLABLE
                    .iter()
                    .map(|(name, _)| format!("`{name}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        });
    };
    if !f.arity().accepts(args.len()) {
        return Err(Diagnostic::error(
            span,
            format!(
                "`{}` takes {}, but {} were given",
                func.name,
                f.arity(),
                args.len()
            ),
        ));
    }
    if f == Func::LeakyRelu && args.len() == 2 && !is_constant(&args[1]) {
        return Err(Diagnostic::error(
            args[1].span(),
            "the slope of `leaky_relu` must be a number",
        )
        .with_hint("write e.g. `leaky_relu(h, 0.2)`"));
    }
    Ok(())
}

/// Whether an expression is made of numbers only (`0.2`, `1/5`, `-1/100`): `symbolic::build`
/// folds it to its value.
fn is_constant(expr: &Expr) -> bool {
    let mut constant = true;
    expr.walk(|sub| {
        if matches!(sub, Expr::Var(_) | Expr::Call { .. }) {
            constant = false;
        }
    });
    constant
}

fn loss_equation(
    collected: &mut Collected,
    statement: &LossStatement,
    dependencies: &Dependencies,
) -> DiagResult<Body> {
    let form = match &statement.body {
        LossBody::Expr(expr) => return Ok(Body::Expr(expr.clone())),
        LossBody::Named(form) => form,
    };
    let outputs = if collected.mlp_outputs.is_empty() {
        sink_nodes(collected, dependencies)
    } else {
        collected.mlp_outputs.clone()
    };
    let targets: Vec<SymbolId> = (0..collected.symbols.len() as u32)
        .map(SymbolId)
        .filter(|id| collected.symbols[id.index()].kind == SymbolKind::Declared(DeclKind::Target))
        .collect();
    loss::named(collected, form, &outputs, &targets, statement.span).map(Body::Expr)
}

/// Nodes no other equation uses: the outputs of a network written as equations.
fn sink_nodes(collected: &Collected, dependencies: &Dependencies) -> Vec<SymbolId> {
    let mut used = vec![false; collected.symbols.len()];
    for &id in dependencies.of_equation.iter().flatten() {
        used[id.index()] = true;
    }
    collected
        .equations
        .iter()
        .map(|equation| equation.node)
        .filter(|node| !used[node.index()])
        .collect()
}

/// The nodes the loss uses directly, when no `mlp` names the outputs.
fn loss_outputs(
    dependencies: &Dependencies,
    loss: SymbolId,
    collected: &Collected,
) -> Vec<SymbolId> {
    dependencies
        .of(loss)
        .iter()
        .copied()
        .filter(|id| collected.symbols[id.index()].kind == SymbolKind::Node)
        .collect()
}

/// Equation indices in an order where each comes after the equations it uses (source order
/// among independent ones); a cycle is an error naming its path.
fn topological_order(collected: &Collected, dependencies: &Dependencies) -> DiagResult<Vec<usize>> {
    let n = collected.equations.len();
    let mut users: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut waiting: Vec<usize> = vec![0; n];
    for (index, uses) in dependencies.of_equation.iter().enumerate() {
        for &dep in uses {
            if let Some(dep_index) = dependencies.equation(dep) {
                users[dep_index].push(index);
                waiting[index] += 1;
            }
        }
    }
    // A min-heap on the index keeps independent equations in source order.
    let mut ready: std::collections::BinaryHeap<std::cmp::Reverse<usize>> = (0..n)
        .filter(|&i| waiting[i] == 0)
        .map(std::cmp::Reverse)
        .collect();
    let mut order = Vec::with_capacity(n);
    while let Some(std::cmp::Reverse(index)) = ready.pop() {
        order.push(index);
        for &user in &users[index] {
            waiting[user] -= 1;
            if waiting[user] == 0 {
                ready.push(std::cmp::Reverse(user));
            }
        }
    }
    if order.len() == n {
        return Ok(order);
    }
    // Walk dependencies among the stuck equations until one repeats: that is a cycle.
    let stuck: HashSet<usize> = (0..n).filter(|&i| waiting[i] > 0).collect();
    let start = *stuck.iter().min().expect("some equation is stuck");
    let mut path = vec![start];
    let mut position: HashMap<usize, usize> = HashMap::from([(start, 0)]);
    loop {
        let current = *path.last().expect("path is never empty");
        let next = dependencies.of_equation[current]
            .iter()
            .filter_map(|&dep| dependencies.equation(dep))
            .find(|i| stuck.contains(i))
            .expect("a stuck equation waits on another stuck one");
        if let Some(&at) = position.get(&next) {
            let cycle: Vec<&str> = path[at..]
                .iter()
                .chain([&next])
                .map(|&i| {
                    collected.symbols[collected.equations[i].node.index()]
                        .name
                        .as_str()
                })
                .collect();
            let Pending { node, span, .. } = &collected.equations[next];
            return Err(vec![
                Diagnostic::error(
                    *span,
                    format!(
                        "`{}` depends on itself: {}",
                        collected.symbols[node.index()].name,
                        cycle.join(" -> ")
                    ),
                )
                .with_label("part of a cycle")
                .with_hint("a network is a directed acyclic graph: break the cycle"),
            ]);
        }
        position.insert(next, path.len());
        path.push(next);
    }
}

/// Warnings for parameters and nodes the loss does not depend on.
fn unreachable_warnings(
    collected: &Collected,
    dependencies: &Dependencies,
    loss: SymbolId,
) -> Vec<Diagnostic> {
    let mut reached = vec![false; collected.symbols.len()];
    reached[loss.index()] = true;
    let mut stack = vec![loss];
    while let Some(id) = stack.pop() {
        for &dep in dependencies.of(id) {
            if !std::mem::replace(&mut reached[dep.index()], true) {
                stack.push(dep);
            }
        }
    }
    collected
        .symbols
        .iter()
        .enumerate()
        .filter(|&(index, _)| !reached[index])
        .filter_map(|(_, symbol)| match symbol.kind {
            SymbolKind::Declared(DeclKind::Param) => Some(
                Diagnostic::warning(
                    symbol.span,
                    format!("parameter `{}` does not reach the loss", symbol.name),
                )
                .with_label("its gradient is 0 and its update changes nothing")
                .with_hint("use it in an equation the loss depends on, or remove it"),
            ),
            SymbolKind::Node => Some(
                Diagnostic::warning(
                    symbol.span,
                    format!("node `{}` does not reach the loss", symbol.name),
                )
                .with_hint("the loss does not use it; it is computed but gets no gradient"),
            ),
            SymbolKind::Declared(DeclKind::Input) => Some(Diagnostic::warning(
                symbol.span,
                format!("input `{}` is not used", symbol.name),
            )),
            _ => None,
        })
        .collect()
}
