//! The network drawn: layout of the units in columns, as TikZ for LaTeX and as SVG for Markdown.
//!
//! The picture is the one of a textbook figure of a small MLP:
//!
//! - vertices are the inputs and the computed units; an activation `a = f(h)` whose
//!   pre-activation `h` is used by nothing else is one neuron labelled `a`, with `f(h)` written
//!   under it and the bias (`+b`) over it when `h` has a lone parameter term;
//! - the loss is not a neuron: the outputs point at a box labelled with the loss's name;
//! - columns are the longest path from the inputs (outputs pushed to the last column), rows keep
//!   the spec's order and every column is centred vertically;
//! - an edge goes from every input or unit an equation uses to the unit it defines, labelled
//!   with the weight `w` when ∂body/∂source is exactly `w`, so that tied weights show as the same
//!   label on several edges;
//! - a column of more than `MAX_COLUMN` units shows the first `HEAD`, a `⋮` and the last `TAIL`,
//!   and only the edges among drawn units, so the output stays small for a 256-wide layer.
//!
//! Coordinates are in centimetres with y pointing up (TikZ's convention); the SVG writer scales
//! and flips them.

use std::fmt::Write as _;

use crate::ast::Expr;
use crate::func::Func;
use crate::graph::{Body, Network, SymbolId, SymbolKind};
use crate::symbolic::backprop::Derivation;
use crate::symbolic::diff::Differentiator;
use crate::symbolic::expr::{ExprId, Node, Sym};

/// A column with more units than this is truncated.
const MAX_COLUMN: usize = 12;
/// Units drawn at the top of a truncated column.
const HEAD: usize = 5;
/// Units drawn at the bottom of a truncated column.
const TAIL: usize = 2;

/// Horizontal distance between columns (cm): room for two weight labels side by side.
const COLUMN_GAP: f64 = 3.6;
/// Vertical distance between rows (cm): room for a bias label over a unit and a function label
/// under the unit above it.
const ROW_GAP: f64 = 1.8;
/// Radius of a unit (cm).
const RADIUS: f64 = 0.45;
/// Distance from the output column to the loss box (cm).
const LOSS_GAP: f64 = 2.0;
/// SVG pixels per centimetre.
const SCALE: f64 = 50.0;
/// Margin around the SVG picture (cm).
const MARGIN: f64 = 0.25;

/// What a vertex stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Input,
    Unit,
    Output,
}

/// One drawn vertex.
#[derive(Clone, Debug)]
struct Vertex {
    role: Role,
    /// The displayed symbol's LaTeX name (the activation of a collapsed neuron).
    label: String,
    /// `f(h)` of a collapsed neuron, as LaTeX.
    function: Option<String>,
    /// `+b` when the unit's body has a lone parameter term, as LaTeX.
    bias: Option<String>,
    /// Column index.
    column: usize,
    x: f64,
    y: f64,
}

/// One column: how many units it has in all, and where its `⋮` stands if it is truncated.
#[derive(Clone, Debug)]
struct Column {
    x: f64,
    /// Units in the column, drawn or not.
    total: usize,
    /// The drawn vertices (indices into `Diagram::vertices`), top to bottom.
    drawn: Vec<usize>,
    /// The height of the vertical ellipsis, when some units are left out.
    ellipsis: Option<f64>,
}

/// One drawn edge.
#[derive(Clone, Debug)]
struct Edge {
    from: usize,
    to: usize,
    /// The weight's LaTeX name, when the edge has one.
    label: Option<String>,
    /// Where along the edge the label stands (0 at the source, 1 at the target).
    pos: f64,
}

/// The box the outputs feed.
#[derive(Clone, Debug)]
struct LossBox {
    label: String,
    x: f64,
    y: f64,
    /// The output vertices that point at it.
    from: Vec<usize>,
}

/// The network laid out: columns of vertices and labelled edges, with coordinates, ready to be
/// written as TikZ or SVG.
#[derive(Clone, Debug)]
pub struct Diagram {
    title: String,
    vertices: Vec<Vertex>,
    columns: Vec<Column>,
    edges: Vec<Edge>,
    loss: Option<LossBox>,
}

/// A unit before layout: the symbols it stands for and the equation that feeds it.
struct Unit {
    role: Role,
    /// The displayed symbol.
    shown: SymbolId,
    /// The symbol whose body gives the unit's incoming edges (the pre-activation when
    /// collapsed); `None` for inputs.
    fed_by: Option<SymbolId>,
    /// The activation function of a collapsed neuron.
    function: Option<Func>,
    /// Spec order: the smallest id among the unit's symbols.
    order: SymbolId,
    /// The units its body uses.
    sources: Vec<usize>,
    depth: usize,
}

impl Diagram {
    /// Lays the network out. `derivation` is mutable only because differentiating a body (to
    /// find the weight on an edge) adds expressions to its pool.
    pub fn new(network: &Network, derivation: &mut Derivation) -> Diagram {
        let n_symbols = network.symbols.len();
        let loss = network.loss;
        let body_of = |id: SymbolId| derivation.bodies.get(id.index()).copied().flatten();

        // The inputs and nodes each equation uses, and how many equations use each symbol.
        let mut uses: Vec<Vec<SymbolId>> = vec![Vec::new(); n_symbols];
        let mut users = vec![0usize; n_symbols];
        for equation in &network.equations {
            let Some(body) = body_of(equation.node) else {
                continue;
            };
            let used: Vec<SymbolId> = derivation
                .pool
                .symbols(body)
                .into_iter()
                .filter_map(|sym| match sym {
                    Sym::Value(id) => Some(id),
                    Sym::Grad(_) => None,
                })
                .filter(|&id| {
                    matches!(
                        network.symbol(id).kind,
                        SymbolKind::Node | SymbolKind::Declared(crate::ast::DeclKind::Input)
                    )
                })
                .collect();
            for &id in &used {
                users[id.index()] += 1;
            }
            uses[equation.node.index()] = used;
        }

        let mut outputs: Vec<SymbolId> = network.outputs.clone();
        if outputs.is_empty() {
            outputs = uses[loss.index()]
                .iter()
                .copied()
                .filter(|&id| network.symbol(id).is_node())
                .collect();
        }
        let is_output = |id: SymbolId| outputs.contains(&id);

        // Pre-activations absorbed into their activation's neuron: pre → activation.
        let mut absorbed_into: Vec<Option<SymbolId>> = vec![None; n_symbols];
        let mut function_of: Vec<Option<Func>> = vec![None; n_symbols];
        for equation in &network.equations {
            let node = equation.node;
            if node == loss {
                continue;
            }
            let Some(body) = body_of(node) else { continue };
            let Some((pre, function)) = activation_of(network, derivation, equation, body) else {
                continue;
            };
            if pre != loss && users[pre.index()] == 1 && !is_output(pre) {
                absorbed_into[pre.index()] = Some(node);
                function_of[node.index()] = Some(function);
            }
        }

        // The units, inputs first, then nodes in equation order.
        let mut units: Vec<Unit> = Vec::new();
        let mut unit_of: Vec<Option<usize>> = vec![None; n_symbols];
        for id in network.declared(crate::ast::DeclKind::Input) {
            unit_of[id.index()] = Some(units.len());
            units.push(Unit {
                role: Role::Input,
                shown: id,
                fed_by: None,
                function: None,
                order: id,
                sources: Vec::new(),
                depth: 0,
            });
        }
        for equation in &network.equations {
            let node = equation.node;
            if node == loss || absorbed_into[node.index()].is_some() {
                continue;
            }
            let function = function_of[node.index()];
            let fed_by = match function {
                Some(_) => pre_activation(network, derivation, node).unwrap_or(node),
                None => node,
            };
            let index = units.len();
            unit_of[node.index()] = Some(index);
            unit_of[fed_by.index()] = Some(index);
            units.push(Unit {
                role: if is_output(node) {
                    Role::Output
                } else {
                    Role::Unit
                },
                shown: node,
                fed_by: Some(fed_by),
                function,
                order: node.min(fed_by),
                sources: Vec::new(),
                depth: 0,
            });
        }

        // Sources and longest-path depths. Equations come in topological order, and a unit's
        // feeding equation comes before its activation's, so every source's depth is known when
        // it is needed.
        for equation in &network.equations {
            let Some(index) = unit_of[equation.node.index()] else {
                continue;
            };
            if units[index].fed_by != Some(equation.node) {
                continue;
            }
            let mut sources: Vec<usize> = uses[equation.node.index()]
                .iter()
                .filter_map(|id| unit_of[id.index()])
                .filter(|&source| source != index)
                .collect();
            sources.dedup();
            let depth = sources
                .iter()
                .map(|&s| units[s].depth + 1)
                .max()
                .unwrap_or(1);
            units[index].depth = depth;
            units[index].sources = sources;
        }
        // Outputs go to the last column, unless another unit uses them.
        let last = units.iter().map(|u| u.depth).max().unwrap_or(0);
        let mut used_by_unit = vec![false; units.len()];
        for unit in &units {
            for &source in &unit.sources {
                used_by_unit[source] = true;
            }
        }
        for (index, unit) in units.iter_mut().enumerate() {
            if unit.role == Role::Output && !used_by_unit[index] {
                unit.depth = last;
            }
        }

        // Columns, rows in spec order, truncated.
        let n_columns = last + 1;
        let mut members: Vec<Vec<usize>> = vec![Vec::new(); n_columns];
        for (index, unit) in units.iter().enumerate() {
            members[unit.depth].push(index);
        }
        let mut vertex_of: Vec<Option<usize>> = vec![None; units.len()];
        let mut vertices: Vec<Vertex> = Vec::new();
        let mut columns: Vec<Column> = Vec::with_capacity(n_columns);
        for (c, column_units) in members.iter_mut().enumerate() {
            column_units.sort_by_key(|&u| units[u].order);
            let x = c as f64 * COLUMN_GAP;
            let total = column_units.len();
            let truncated = total > MAX_COLUMN;
            // Slots top to bottom: `Some(unit)` or `None` for the ellipsis.
            let slots: Vec<Option<usize>> = if truncated {
                let head = column_units[..HEAD].iter().map(|&u| Some(u));
                let tail = column_units[total - TAIL..].iter().map(|&u| Some(u));
                head.chain([None]).chain(tail).collect()
            } else {
                column_units.iter().map(|&u| Some(u)).collect()
            };
            let top = (slots.len() as f64 - 1.0) / 2.0 * ROW_GAP;
            let mut column = Column {
                x,
                total,
                drawn: Vec::new(),
                ellipsis: None,
            };
            for (slot, unit) in slots.iter().enumerate() {
                let y = top - slot as f64 * ROW_GAP;
                let Some(u) = *unit else {
                    column.ellipsis = Some(y);
                    continue;
                };
                let vertex = vertex_for(network, derivation, &units[u], c, x, y);
                vertex_of[u] = Some(vertices.len());
                column.drawn.push(vertices.len());
                vertices.push(vertex);
            }
            columns.push(column);
        }

        // Edges among the drawn vertices, labelled with the weight where the local derivative
        // is a lone parameter.
        let mut differentiator = Differentiator::new();
        let mut edges: Vec<Edge> = Vec::new();
        for (u, unit) in units.iter().enumerate() {
            let (Some(to), Some(fed_by)) = (vertex_of[u], unit.fed_by) else {
                continue;
            };
            let Some(body) = derivation.body(fed_by) else {
                continue;
            };
            for &source in &unit.sources {
                let Some(from) = vertex_of[source] else {
                    continue;
                };
                let source_symbol = units[source].shown;
                let label = weight_of(
                    network,
                    derivation,
                    &mut differentiator,
                    body,
                    source_symbol,
                )
                .map(|w| network.symbol(w).latex.clone());
                edges.push(Edge {
                    from,
                    to,
                    label,
                    pos: 0.5,
                });
            }
        }
        edges.sort_by_key(|e| (e.to, e.from));
        edges.dedup_by_key(|e| (e.to, e.from));
        for edge in &mut edges {
            edge.pos = label_position(&columns, &vertices, edge.from);
        }

        let output_vertices: Vec<usize> = vertices
            .iter()
            .enumerate()
            .filter(|(_, v)| v.role == Role::Output)
            .map(|(i, _)| i)
            .collect();
        let loss_box = (!output_vertices.is_empty()).then(|| LossBox {
            label: network.symbol(loss).latex.clone(),
            x: last as f64 * COLUMN_GAP + LOSS_GAP,
            y: 0.0,
            from: output_vertices,
        });

        Diagram {
            title: network.title.clone(),
            vertices,
            columns,
            edges,
            loss: loss_box,
        }
    }

    /// The picture as a complete `tikzpicture` environment. It needs only `\usepackage{tikz}`
    /// (no TikZ library: the arrow tip and the placement of labels are core TikZ).
    pub fn tikz(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "\\begin{tikzpicture}[>=stealth, x=1cm, y=1cm,\n  \
             unit/.style={circle, draw, fill=white, minimum size=9mm, inner sep=1pt},\n  \
             input/.style={unit, fill=black!7},\n  \
             output/.style={unit, double},\n  \
             side/.style={font=\\scriptsize, inner sep=1pt, fill=white},\n  \
             weight/.style={sloped, font=\\scriptsize, fill=white, inner sep=1pt},\n  \
             loss/.style={rectangle, draw, minimum size=7mm}]\n",
        );
        for (i, vertex) in self.vertices.iter().enumerate() {
            let style = match vertex.role {
                Role::Input => "input",
                Role::Unit => "unit",
                Role::Output => "output",
            };
            let mut options = style.to_string();
            if let Some(function) = &vertex.function {
                let _ = write!(options, ", label={{[side]below:{{${function}$}}}}");
            }
            if let Some(bias) = &vertex.bias {
                let _ = write!(options, ", label={{[side]above:{{$+{bias}$}}}}");
            }
            let _ = writeln!(
                out,
                "  \\node[{options}] (v{i}) at ({}, {}) {{${}$}};",
                num(vertex.x),
                num(vertex.y),
                vertex.label
            );
        }
        for column in &self.columns {
            if let Some(y) = column.ellipsis {
                let _ = writeln!(
                    out,
                    "  \\node at ({}, {}) {{$\\vdots$}};",
                    num(column.x),
                    num(y)
                );
            }
        }
        for edge in &self.edges {
            match &edge.label {
                Some(label) => {
                    let _ = writeln!(
                        out,
                        "  \\draw[->] (v{}) -- node[weight, pos={}] {{${label}$}} (v{});",
                        edge.from,
                        num(edge.pos),
                        edge.to
                    );
                }
                None => {
                    let _ = writeln!(out, "  \\draw[->] (v{}) -- (v{});", edge.from, edge.to);
                }
            }
        }
        if let Some(loss) = &self.loss {
            let _ = writeln!(
                out,
                "  \\node[loss] (loss) at ({}, {}) {{${}$}};",
                num(loss.x),
                num(loss.y),
                loss.label
            );
            for &from in &loss.from {
                let _ = writeln!(out, "  \\draw[->] (v{from}) -- (loss);");
            }
        }
        out.push_str("\\end{tikzpicture}\n");
        out
    }

    /// The picture as a standalone SVG document: no external fonts, scripts or images.
    pub fn svg(&self) -> String {
        let (left, right, bottom, top) = self.extent();
        let width = (right - left) * SCALE;
        let height = (top - bottom) * SCALE;
        // Centimetres (y up) to pixels (y down).
        let px = |x: f64| num((x - left) * SCALE);
        let py = |y: f64| num((top - y) * SCALE);
        let radius = RADIUS * SCALE;

        let mut out = String::new();
        let _ = writeln!(
            out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" \
             viewBox=\"0 0 {w} {h}\" font-family=\"'Latin Modern Roman', 'Times New Roman', serif\">",
            w = num(width),
            h = num(height)
        );
        if !self.title.is_empty() {
            let _ = writeln!(out, "<title>{}</title>", xml_escape(&self.title));
        }
        out.push_str(
            "<defs><marker id=\"bpsheet-arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" \
             markerWidth=\"9\" markerHeight=\"9\" markerUnits=\"userSpaceOnUse\" orient=\"auto\">\
             <path d=\"M0,0 L10,5 L0,10 L3,5 z\" fill=\"black\"/></marker></defs>\n",
        );
        out.push_str("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");

        // Edges, shortened to end on the circles (or the loss box) so the arrowheads show.
        out.push_str(
            "<g stroke=\"black\" stroke-width=\"1.2\" marker-end=\"url(#bpsheet-arrow)\">\n",
        );
        let line = |out: &mut String, (x1, y1): (f64, f64), (x2, y2): (f64, f64), end: f64| {
            let (dx, dy) = (x2 - x1, y2 - y1);
            let length = dx.hypot(dy).max(1e-9);
            let (ux, uy) = (dx / length, dy / length);
            let _ = writeln!(
                out,
                "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>",
                px(x1 + ux * RADIUS),
                py(y1 + uy * RADIUS),
                px(x2 - ux * end),
                py(y2 - uy * end)
            );
        };
        for edge in &self.edges {
            let (a, b) = (&self.vertices[edge.from], &self.vertices[edge.to]);
            line(&mut out, (a.x, a.y), (b.x, b.y), RADIUS);
        }
        if let Some(loss) = &self.loss {
            let half = loss_half_width(&loss.label);
            for &from in &loss.from {
                let a = &self.vertices[from];
                // Stop at the box's left side, along the line.
                let dx = loss.x - a.x;
                let end = (half / dx.max(1e-9)) * (loss.x - a.x).hypot(loss.y - a.y);
                line(&mut out, (a.x, a.y), (loss.x, loss.y), end);
            }
        }
        out.push_str("</g>\n");

        // Weight labels, with a white halo so they stay readable where edges cross.
        out.push_str(
            "<g font-size=\"12\" font-style=\"italic\" text-anchor=\"middle\" stroke=\"white\" \
             stroke-width=\"4\" stroke-linejoin=\"round\" paint-order=\"stroke\">\n",
        );
        for edge in &self.edges {
            let Some(label) = &edge.label else { continue };
            let (a, b) = (&self.vertices[edge.from], &self.vertices[edge.to]);
            let x = a.x + (b.x - a.x) * edge.pos;
            let y = a.y + (b.y - a.y) * edge.pos;
            let angle = -(b.y - a.y).atan2(b.x - a.x).to_degrees();
            let _ = writeln!(
                out,
                "<text x=\"{x}\" y=\"{y}\" dy=\"0.35em\" transform=\"rotate({angle} {x} {y})\">{}</text>",
                tex_to_svg(label),
                x = px(x),
                y = py(y),
                angle = num(angle)
            );
        }
        out.push_str("</g>\n");

        // Units and their side labels.
        out.push_str("<g text-anchor=\"middle\" font-style=\"italic\">\n");
        for vertex in &self.vertices {
            let (cx, cy) = (px(vertex.x), py(vertex.y));
            // An output is drawn with a heavier ring, as TikZ's `double` does.
            let (fill, stroke) = match vertex.role {
                Role::Input => ("#eeeeee", "1.2"),
                Role::Unit => ("white", "1.2"),
                Role::Output => ("white", "2.4"),
            };
            let _ = writeln!(
                out,
                "<circle cx=\"{cx}\" cy=\"{cy}\" r=\"{}\" fill=\"{fill}\" stroke=\"black\" stroke-width=\"{stroke}\"/>",
                num(radius)
            );
            let _ = writeln!(
                out,
                "<text x=\"{cx}\" y=\"{cy}\" dy=\"0.35em\" font-size=\"16\">{}</text>",
                tex_to_svg(&vertex.label)
            );
            if let Some(function) = &vertex.function {
                let _ = writeln!(
                    out,
                    "<text x=\"{cx}\" y=\"{}\" font-size=\"12\">{}</text>",
                    py(vertex.y - RADIUS - 0.3),
                    tex_to_svg(function)
                );
            }
            if let Some(bias) = &vertex.bias {
                let _ = writeln!(
                    out,
                    "<text x=\"{cx}\" y=\"{}\" font-size=\"12\">+{}</text>",
                    py(vertex.y + RADIUS + 0.1),
                    tex_to_svg(bias)
                );
            }
        }
        for column in &self.columns {
            if let Some(y) = column.ellipsis {
                let _ = writeln!(
                    out,
                    "<text x=\"{}\" y=\"{}\" dy=\"0.35em\" font-size=\"20\" font-style=\"normal\">\u{22ee}</text>",
                    px(column.x),
                    py(y)
                );
            }
        }
        if let Some(loss) = &self.loss {
            let half = loss_half_width(&loss.label);
            let _ = writeln!(
                out,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"white\" stroke=\"black\" stroke-width=\"1.2\"/>",
                px(loss.x - half),
                py(loss.y + 0.35),
                num(2.0 * half * SCALE),
                num(0.7 * SCALE)
            );
            let _ = writeln!(
                out,
                "<text x=\"{}\" y=\"{}\" dy=\"0.35em\" font-size=\"16\">{}</text>",
                px(loss.x),
                py(loss.y),
                tex_to_svg(&loss.label)
            );
        }
        out.push_str("</g>\n</svg>\n");
        out
    }

    /// The drawing's bounding box in centimetres: (left, right, bottom, top), margins included.
    fn extent(&self) -> (f64, f64, f64, f64) {
        let (mut left, mut right) = (f64::INFINITY, f64::NEG_INFINITY);
        let (mut bottom, mut top) = (f64::INFINITY, f64::NEG_INFINITY);
        let mut include = |x0: f64, x1: f64, y0: f64, y1: f64| {
            left = left.min(x0);
            right = right.max(x1);
            bottom = bottom.min(y0);
            top = top.max(y1);
        };
        for vertex in &self.vertices {
            let mut half = RADIUS;
            let (mut below, mut above) = (RADIUS, RADIUS);
            if let Some(function) = &vertex.function {
                half = half.max(text_width(function, 12.0) / 2.0);
                below = RADIUS + 0.45;
            }
            if let Some(bias) = &vertex.bias {
                half = half.max((text_width(bias, 12.0) + 0.25) / 2.0);
                above = RADIUS + 0.45;
            }
            include(
                vertex.x - half,
                vertex.x + half,
                vertex.y - below,
                vertex.y + above,
            );
        }
        for column in &self.columns {
            if let Some(y) = column.ellipsis {
                include(column.x, column.x, y - 0.3, y + 0.3);
            }
        }
        if let Some(loss) = &self.loss {
            let half = loss_half_width(&loss.label);
            include(loss.x - half, loss.x + half, loss.y - 0.35, loss.y + 0.35);
        }
        if left > right {
            // Nothing to draw: a small empty picture rather than an invalid size.
            (left, right, bottom, top) = (0.0, 0.0, 0.0, 0.0);
        }
        (left - MARGIN, right + MARGIN, bottom - MARGIN, top + MARGIN)
    }
}

/// The vertex drawn for a unit: its labels, at its place.
fn vertex_for(
    network: &Network,
    derivation: &Derivation,
    unit: &Unit,
    column: usize,
    x: f64,
    y: f64,
) -> Vertex {
    let function = unit
        .function
        .zip(unit.fed_by)
        .map(|(f, pre)| format!("{}({})", function_latex(f), network.symbol(pre).latex));
    let bias = unit
        .fed_by
        .and_then(|fed_by| derivation.body(fed_by))
        .and_then(|body| bias_of(network, derivation, body))
        .map(|b| network.symbol(b).latex.clone());
    Vertex {
        role: unit.role,
        label: network.symbol(unit.shown).latex.clone(),
        function,
        bias,
        column,
        x,
        y,
    }
}

/// `Some((h, f))` when the equation is `a = f(h)` for a node `h` (other arguments, like
/// leaky ReLU's slope, being constants). `identity(h)` is folded to `h` in the pool, so the
/// written equation says which function it was.
fn activation_of(
    network: &Network,
    derivation: &Derivation,
    equation: &crate::graph::Equation,
    body: ExprId,
) -> Option<(SymbolId, Func)> {
    let pool = &derivation.pool;
    let node_symbol = |e: ExprId| match pool.as_sym(e) {
        Some(Sym::Value(id)) if network.symbol(id).is_node() => Some(id),
        _ => None,
    };
    match pool.node(body) {
        Node::Apply(func, args) => {
            let pre = node_symbol(*args.first()?)?;
            args[1..]
                .iter()
                .all(|&arg| pool.as_const(arg).is_some())
                .then_some((pre, *func))
        }
        Node::Sym(_) => {
            let pre = node_symbol(body)?;
            match &equation.body {
                Body::Expr(Expr::Call { func, .. }) => Some((pre, Func::by_name(&func.name)?)),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The pre-activation a collapsed activation is applied to.
fn pre_activation(network: &Network, derivation: &Derivation, node: SymbolId) -> Option<SymbolId> {
    let equation = network.equations.iter().find(|eq| eq.node == node)?;
    let body = derivation.body(node)?;
    activation_of(network, derivation, equation, body).map(|(pre, _)| pre)
}

/// The bias: the one parameter standing alone as a term of a sum (`b + w1 x1 + w2 x2`).
fn bias_of(network: &Network, derivation: &Derivation, body: ExprId) -> Option<SymbolId> {
    let pool = &derivation.pool;
    let Node::Add(_, terms) = pool.node(body) else {
        return None;
    };
    let mut lone = terms
        .iter()
        .filter_map(|(k, term)| match pool.as_sym(*term) {
            Some(Sym::Value(id)) if num_traits::One::is_one(k) && network.symbol(id).is_param() => {
                Some(id)
            }
            _ => None,
        });
    let first = lone.next()?;
    lone.next().is_none().then_some(first)
}

/// The weight on an edge: the parameter `w` with ∂body/∂source = `w` exactly.
fn weight_of(
    network: &Network,
    derivation: &mut Derivation,
    differentiator: &mut Differentiator,
    body: ExprId,
    source: SymbolId,
) -> Option<SymbolId> {
    let local = differentiator.diff(&mut derivation.pool, body, Sym::Value(source));
    match derivation.pool.as_sym(local) {
        Some(Sym::Value(param)) if network.symbol(param).is_param() => Some(param),
        _ => None,
    }
}

/// Where the labels of the edges leaving a vertex stand: sources on neighbouring rows use
/// different positions along their edges, so that labels of a fully connected layer do not all
/// meet at the crossings in the middle (two rows: near the start and near the end).
fn label_position(columns: &[Column], vertices: &[Vertex], from: usize) -> f64 {
    let column = &columns[vertices[from].column];
    let slots = column.drawn.len() + usize::from(column.ellipsis.is_some());
    let slot = column
        .drawn
        .iter()
        .position(|&v| v == from)
        .map_or(0, |row| match column.ellipsis {
            // The ellipsis sits after the head, and takes a slot.
            Some(_) if row >= HEAD => row + 1,
            _ => row,
        });
    let positions: &[f64] = match slots {
        0 | 1 => &[0.5],
        2 => &[0.3, 0.7],
        _ => &[0.25, 0.5, 0.75],
    };
    positions[slot % positions.len()]
}

/// A function as it is written in front of the pre-activation, in plain LaTeX (no
/// `\operatorname`, so that the picture needs no `amsmath`).
fn function_latex(func: Func) -> &'static str {
    match func {
        Func::Sigmoid => "\\sigma",
        Func::Tanh => "\\tanh",
        Func::Relu => "\\mathrm{ReLU}",
        Func::LeakyRelu => "\\mathrm{LReLU}",
        Func::Softplus => "\\mathrm{softplus}",
        Func::Exp => "\\exp",
        Func::Log => "\\ln",
        Func::Identity => "\\mathrm{id}",
        Func::Step | Func::LeakyStep => "\\mathrm{step}",
        Func::Softmax(_) => "\\mathrm{softmax}",
    }
}

/// A coordinate or size: at most three decimals, no trailing zeros, no `-0`.
fn num(value: f64) -> String {
    let text = format!("{value:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" || text.is_empty() {
        "0".to_string()
    } else {
        text.to_string()
    }
}

/// Half the width of the loss box (cm), from its label.
fn loss_half_width(label: &str) -> f64 {
    (text_width(label, 16.0) / 2.0 + 0.15).max(0.35)
}

/// A rough width (cm) of a LaTeX label set at `font_px` pixels in the SVG: enough to keep labels
/// inside the picture's bounds, not to typeset.
fn text_width(latex: &str, font_px: f64) -> f64 {
    fn width(pieces: &[Piece], scale: f64) -> f64 {
        pieces
            .iter()
            .map(|piece| match piece {
                Piece::Text(text) => text.chars().count() as f64 * scale,
                Piece::Upright(inner) => width(inner, scale),
                Piece::Sub(inner) | Piece::Sup(inner) => width(inner, scale * 0.7),
            })
            .sum()
    }
    width(&parse_tex(latex), 0.55) * font_px / SCALE
}

// ---------------------------------------------------------------------------------------------
// LaTeX names as SVG text

/// A piece of a LaTeX name, for SVG.
#[derive(Clone, Debug, PartialEq)]
enum Piece {
    /// Plain characters (not yet escaped).
    Text(String),
    /// Set upright: `\mathrm{ReLU}`, `\tanh`.
    Upright(Vec<Piece>),
    /// A subscript.
    Sub(Vec<Piece>),
    /// A superscript.
    Sup(Vec<Piece>),
}

/// The LaTeX of a display name as SVG text content: subscripts and superscripts as shifted
/// `tspan`s, Greek letters as Unicode, everything escaped for XML.
fn tex_to_svg(latex: &str) -> String {
    fn write(out: &mut String, pieces: &[Piece]) {
        for piece in pieces {
            match piece {
                Piece::Text(text) => out.push_str(&xml_escape(text)),
                Piece::Upright(inner) => {
                    out.push_str("<tspan font-style=\"normal\">");
                    write(out, inner);
                    out.push_str("</tspan>");
                }
                Piece::Sub(inner) | Piece::Sup(inner) => {
                    let shift = if matches!(piece, Piece::Sub(_)) {
                        "sub"
                    } else {
                        "super"
                    };
                    let _ = write!(
                        out,
                        "<tspan baseline-shift=\"{shift}\" font-size=\"smaller\">"
                    );
                    write(out, inner);
                    out.push_str("</tspan>");
                }
            }
        }
    }
    let mut out = String::new();
    write(&mut out, &parse_tex(latex));
    out
}

/// Parses the small LaTeX of display names: groups, `_`, `^`, and commands (Greek letters, font
/// switches, a few operators and accents); an unknown command is kept as its name.
fn parse_tex(latex: &str) -> Vec<Piece> {
    let chars: Vec<char> = latex.chars().collect();
    let mut at = 0;
    let mut pieces = Vec::new();
    // A stray `}` ends a group early; keep reading so nothing is lost.
    while at < chars.len() {
        pieces.extend(parse_group(&chars, &mut at));
        at += 1;
    }
    merge(pieces)
}

/// Reads until an unmatched `}` (left at `at`) or the end.
fn parse_group(chars: &[char], at: &mut usize) -> Vec<Piece> {
    let mut pieces = Vec::new();
    while let Some(&c) = chars.get(*at) {
        match c {
            '}' => return pieces,
            _ => pieces.extend(parse_atom(chars, at)),
        }
    }
    pieces
}

/// Reads one atom: a group, a command with its argument, a script, or one character.
fn parse_atom(chars: &[char], at: &mut usize) -> Vec<Piece> {
    let Some(&c) = chars.get(*at) else {
        return Vec::new();
    };
    *at += 1;
    match c {
        '{' => {
            let inner = parse_group(chars, at);
            *at += 1; // the closing brace, if any
            inner
        }
        '_' => vec![Piece::Sub(merge(parse_argument(chars, at)))],
        '^' => vec![Piece::Sup(merge(parse_argument(chars, at)))],
        '\\' => parse_command(chars, at),
        '$' => Vec::new(),
        '~' => vec![Piece::Text(" ".into())],
        '\'' => vec![Piece::Text("\u{2032}".into())],
        '-' => vec![Piece::Text("\u{2212}".into())],
        c => vec![Piece::Text(c.to_string())],
    }
}

/// The argument of a command or script: a group or a single atom, spaces skipped.
fn parse_argument(chars: &[char], at: &mut usize) -> Vec<Piece> {
    while chars.get(*at) == Some(&' ') {
        *at += 1;
    }
    parse_atom(chars, at)
}

fn parse_command(chars: &[char], at: &mut usize) -> Vec<Piece> {
    let start = *at;
    while chars.get(*at).is_some_and(|c| c.is_ascii_alphabetic()) {
        *at += 1;
    }
    if *at == start {
        // A one-character command: `\{`, `\_`, `\,`.
        let Some(&c) = chars.get(*at) else {
            return Vec::new();
        };
        *at += 1;
        return match c {
            ',' | ';' | ':' => vec![Piece::Text("\u{2009}".into())],
            ' ' => vec![Piece::Text(" ".into())],
            '!' => Vec::new(),
            c => vec![Piece::Text(c.to_string())],
        };
    }
    let name: String = chars[start..*at].iter().collect();
    if let Some(letter) = greek(&name) {
        return vec![Piece::Text(letter.to_string())];
    }
    let text = |s: &str| vec![Piece::Text(s.to_string())];
    match name.as_str() {
        "mathit" | "mathnormal" | "mathbf" | "boldsymbol" | "bm" | "mathcal" | "textit" => {
            parse_argument(chars, at)
        }
        "mathrm" | "operatorname" | "text" | "textrm" | "mathsf" | "mathtt" | "textsf" => {
            vec![Piece::Upright(parse_argument(chars, at))]
        }
        "hat" | "bar" | "tilde" | "vec" | "dot" | "overline" | "widehat" | "widetilde" => {
            let accent = match name.as_str() {
                "hat" | "widehat" => '\u{302}',
                "bar" | "overline" => '\u{304}',
                "tilde" | "widetilde" => '\u{303}',
                "vec" => '\u{20d7}',
                _ => '\u{307}',
            };
            let mut inner = parse_argument(chars, at);
            inner.push(Piece::Text(accent.to_string()));
            inner
        }
        "tanh" | "sinh" | "cosh" | "ln" | "log" | "exp" | "sin" | "cos" | "max" | "min" => {
            vec![Piece::Upright(text(&name))]
        }
        "left" | "right" | "big" | "Big" | "displaystyle" => Vec::new(),
        "cdot" => text("\u{b7}"),
        "times" => text("\u{d7}"),
        "partial" => text("\u{2202}"),
        "infty" => text("\u{221e}"),
        "prime" => text("\u{2032}"),
        "ldots" | "dots" | "cdots" => text("\u{2026}"),
        "vdots" => text("\u{22ee}"),
        "quad" | "qquad" => text(" "),
        _ => text(&name),
    }
}

/// Joins neighbouring text pieces, so that equal names give equal output.
fn merge(pieces: Vec<Piece>) -> Vec<Piece> {
    let mut merged: Vec<Piece> = Vec::with_capacity(pieces.len());
    for piece in pieces {
        match (merged.last_mut(), piece) {
            (Some(Piece::Text(last)), Piece::Text(text)) => last.push_str(&text),
            (_, piece) => merged.push(piece),
        }
    }
    merged
}

fn greek(name: &str) -> Option<char> {
    const LETTERS: &[(&str, char)] = &[
        ("alpha", 'α'),
        ("beta", 'β'),
        ("gamma", 'γ'),
        ("delta", 'δ'),
        ("epsilon", 'ϵ'),
        ("varepsilon", 'ε'),
        ("zeta", 'ζ'),
        ("eta", 'η'),
        ("theta", 'θ'),
        ("vartheta", 'ϑ'),
        ("iota", 'ι'),
        ("kappa", 'κ'),
        ("lambda", 'λ'),
        ("mu", 'μ'),
        ("nu", 'ν'),
        ("xi", 'ξ'),
        ("pi", 'π'),
        ("rho", 'ρ'),
        ("sigma", 'σ'),
        ("tau", 'τ'),
        ("upsilon", 'υ'),
        ("phi", 'ϕ'),
        ("varphi", 'φ'),
        ("chi", 'χ'),
        ("psi", 'ψ'),
        ("omega", 'ω'),
        ("Gamma", 'Γ'),
        ("Delta", 'Δ'),
        ("Theta", 'Θ'),
        ("Lambda", 'Λ'),
        ("Xi", 'Ξ'),
        ("Pi", 'Π'),
        ("Sigma", 'Σ'),
        ("Upsilon", 'Υ'),
        ("Phi", 'Φ'),
        ("Psi", 'Ψ'),
        ("Omega", 'Ω'),
    ];
    LETTERS.iter().find(|(n, _)| *n == name).map(|&(_, c)| c)
}

/// Text escaped for XML content and attribute values.
fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters are not allowed in XML 1.0 at all.
            c if c.is_control() && !matches!(c, '\n' | '\t') => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::diag::Source;
    use crate::pipeline;

    fn from_file(name: &str) -> Diagram {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("worksheets")
            .join(name);
        let loaded = pipeline::load(&path, None).unwrap_or_else(|_| panic!("{name} loads"));
        let mut derivation =
            pipeline::derivation(&loaded).unwrap_or_else(|_| panic!("{name} derives"));
        Diagram::new(&loaded.network, &mut derivation)
    }

    fn from_text(text: &str) -> Diagram {
        let loaded = pipeline::load_source(Source::new("test.bp", text), None)
            .unwrap_or_else(|_| panic!("spec loads"));
        let mut derivation = pipeline::derivation(&loaded).unwrap_or_else(|_| panic!("derives"));
        Diagram::new(&loaded.network, &mut derivation)
    }

    fn column_sizes(diagram: &Diagram) -> Vec<usize> {
        diagram.columns.iter().map(|c| c.total).collect()
    }

    fn labels(diagram: &Diagram, column: usize) -> Vec<&str> {
        diagram.columns[column]
            .drawn
            .iter()
            .map(|&v| diagram.vertices[v].label.as_str())
            .collect()
    }

    fn edges_labelled(diagram: &Diagram, label: &str) -> usize {
        diagram
            .edges
            .iter()
            .filter(|e| e.label.as_deref() == Some(label))
            .count()
    }

    /// Every tag closed in order; attribute values quoted; no raw `&` outside entities.
    fn assert_well_formed(svg: &str) {
        let mut stack: Vec<String> = Vec::new();
        let mut rest = svg;
        while let Some(open) = rest.find('<') {
            let text = &rest[..open];
            assert_no_raw_specials(text);
            let close = rest[open..].find('>').expect("tag closed") + open;
            let tag = &rest[open + 1..close];
            rest = &rest[close + 1..];
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(stack.pop().as_deref(), Some(name), "closing </{name}>");
            } else if tag.ends_with('/') {
                continue;
            } else {
                let name = tag.split_whitespace().next().expect("tag name");
                assert_eq!(tag.matches('"').count() % 2, 0, "quotes in <{tag}>");
                stack.push(name.to_string());
            }
        }
        assert_no_raw_specials(rest);
        assert!(stack.is_empty(), "unclosed tags: {stack:?}");
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.trim_end().ends_with("</svg>"));
    }

    fn assert_no_raw_specials(text: &str) {
        assert!(!text.contains('>'), "raw > in {text:?}");
        for (i, _) in text.match_indices('&') {
            let entity = &text[i..];
            assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"]
                    .iter()
                    .any(|e| entity.starts_with(e)),
                "raw & in {text:?}"
            );
        }
    }

    #[test]
    fn slides_collapse_activations_into_neurons() {
        let diagram = from_file("slides.bp");
        assert_eq!(column_sizes(&diagram), [2, 2, 2, 1]);
        assert_eq!(labels(&diagram, 0), ["x_{1}", "x_{2}"]);
        assert_eq!(labels(&diagram, 1), ["a_{11}", "a_{12}"]);
        assert_eq!(labels(&diagram, 2), ["a_{21}", "a_{22}"]);
        assert_eq!(labels(&diagram, 3), ["y_{pred}"]);
        let a11 = &diagram.vertices[diagram.columns[1].drawn[0]];
        assert_eq!(a11.function.as_deref(), Some("\\sigma(h_{11})"));
        assert_eq!(a11.bias.as_deref(), Some("b_{h11}"));
        let output = &diagram.vertices[diagram.columns[3].drawn[0]];
        assert_eq!(output.role, Role::Output);
        assert_eq!(output.function.as_deref(), Some("\\sigma(z)"));
        assert_eq!(output.bias.as_deref(), Some("b_{z}"));
        let loss = diagram.loss.as_ref().expect("a loss box");
        assert_eq!(loss.label, "L");
        assert_eq!(loss.from, [diagram.columns[3].drawn[0]]);
    }

    #[test]
    fn slides_tied_weights_label_several_edges() {
        let diagram = from_file("slides.bp");
        assert_eq!(diagram.edges.len(), 10);
        assert!(diagram.edges.iter().all(|e| e.label.is_some()));
        for (weight, count) in [
            ("w_{1}", 2),
            ("w_{2}", 2),
            ("w_{3}", 2),
            ("w_{4}", 2),
            ("w_{5}", 1),
            ("w_{6}", 1),
        ] {
            assert_eq!(edges_labelled(&diagram, weight), count, "{weight}");
        }
        // w1 leaves x1, w2 leaves x2.
        let x1 = diagram.columns[0].drawn[0];
        assert!(
            diagram
                .edges
                .iter()
                .filter(|e| e.label.as_deref() == Some("w_{1}"))
                .all(|e| e.from == x1)
        );
        // Edges only go rightwards, which the layout relies on.
        for edge in &diagram.edges {
            assert!(diagram.vertices[edge.from].x < diagram.vertices[edge.to].x);
        }
    }

    #[test]
    fn mlp_is_two_three_two() {
        let diagram = from_file("mlp.bp");
        assert_eq!(column_sizes(&diagram), [2, 3, 2]);
        assert_eq!(diagram.edges.len(), 12);
        assert_eq!(edges_labelled(&diagram, "w^{(1)}_{12}"), 1);
        assert_eq!(edges_labelled(&diagram, "w^{(2)}_{23}"), 1);
        let unit = &diagram.vertices[diagram.columns[1].drawn[0]];
        assert_eq!(unit.label, "a^{(1)}_{1}");
        assert_eq!(unit.function.as_deref(), Some("\\tanh(h^{(1)}_{1})"));
        assert_eq!(unit.bias.as_deref(), Some("b^{(1)}_{1}"));
        assert_eq!(diagram.loss.as_ref().map(|l| l.from.len()), Some(2));
    }

    #[test]
    fn columns_are_centred() {
        let diagram = from_file("mlp.bp");
        for column in &diagram.columns {
            let ys: Vec<f64> = column
                .drawn
                .iter()
                .map(|&v| diagram.vertices[v].y)
                .collect();
            let mean = ys.iter().sum::<f64>() / ys.len() as f64;
            assert!(mean.abs() < 1e-9, "{ys:?}");
        }
    }

    #[test]
    fn svg_is_well_formed_and_self_contained() {
        for name in ["slides.bp", "mlp.bp"] {
            let svg = from_file(name).svg();
            assert_well_formed(&svg);
            assert!(svg.contains("viewBox=\"0 0 "));
            assert!(svg.contains("<marker id=\"bpsheet-arrow\""));
            assert!(!svg.contains("href"), "no external resources");
            assert!(!svg.contains("<script"));
            assert!(!svg.contains('\\'), "every LaTeX command converted");
        }
        let svg = from_file("slides.bp").svg();
        assert!(svg.contains("w<tspan baseline-shift=\"sub\" font-size=\"smaller\">1</tspan>"));
        assert!(svg.contains("<title>Backpropagation: forward pass and gradients</title>"));
    }

    #[test]
    fn tikz_is_a_complete_picture() {
        let tikz = from_file("slides.bp").tikz();
        assert!(tikz.starts_with("\\begin{tikzpicture}"));
        assert!(tikz.trim_end().ends_with("\\end{tikzpicture}"));
        assert!(tikz.contains("{$w_{1}$}"));
        assert!(tikz.contains("label={[side]above:{$+b_{h11}$}}"));
        assert!(tikz.contains("label={[side]below:{$\\sigma(h_{11})$}}"));
        assert_eq!(
            tikz.matches("\\draw[->]").count(),
            11,
            "10 edges and one to L"
        );
        assert_eq!(
            tikz.matches('{').count(),
            tikz.matches('}').count(),
            "balanced braces"
        );
        assert!(!tikz.contains("usetikzlibrary"));
    }

    #[test]
    fn output_is_deterministic() {
        let (a, b) = (from_file("slides.bp"), from_file("slides.bp"));
        assert_eq!(a.tikz(), b.tikz());
        assert_eq!(a.svg(), b.svg());
    }

    #[test]
    fn wide_layers_are_truncated() {
        let diagram = from_text(
            "mlp 256 -> 256 relu -> 2 sigmoid\ntargets y = [0, 1]\nloss half_squared_error\n",
        );
        assert_eq!(column_sizes(&diagram), [256, 256, 2]);
        for column in &diagram.columns[..2] {
            assert_eq!(column.drawn.len(), HEAD + TAIL);
            assert!(column.ellipsis.is_some());
        }
        assert_eq!(
            labels(&diagram, 0),
            [
                "x_{1}", "x_{2}", "x_{3}", "x_{4}", "x_{5}", "x_{255}", "x_{256}"
            ]
        );
        assert_eq!(diagram.vertices.len(), 16);
        assert_eq!(diagram.edges.len(), 7 * 7 + 7 * 2);
        assert_eq!(edges_labelled(&diagram, "w^{(1)}_{256,256}"), 1);
        let (svg, tikz) = (diagram.svg(), diagram.tikz());
        assert_well_formed(&svg);
        assert!(svg.contains('\u{22ee}'));
        assert!(tikz.contains("\\vdots"));
        assert!(svg.len() < 40_000 && tikz.len() < 20_000);
    }

    #[test]
    fn shared_pre_activation_is_not_collapsed() {
        // h feeds both a and the output, so it stays a unit of its own.
        let diagram = from_text(
            "input x = 1\ntarget y = 0\nparam w = 0.5\nparam v = 0.25\n\
             h = w*x\na = tanh(h)\nout = a + v*h\nloss L = (out - y)^2\n",
        );
        assert_eq!(column_sizes(&diagram), [1, 1, 1, 1]);
        assert_eq!(labels(&diagram, 1), ["h"]);
        assert_eq!(labels(&diagram, 2), ["a"]);
        assert_eq!(diagram.vertices[2].function, None);
        assert_eq!(edges_labelled(&diagram, "w"), 1);
        assert_eq!(edges_labelled(&diagram, "v"), 1);
        // h → a (derivative 1 − tanh²) and a → out (derivative 1) carry no weight.
        assert_eq!(
            diagram.edges.iter().filter(|e| e.label.is_none()).count(),
            2
        );
    }

    #[test]
    fn latex_names_become_svg_text() {
        let sub =
            |s: &str| format!("<tspan baseline-shift=\"sub\" font-size=\"smaller\">{s}</tspan>");
        let sup =
            |s: &str| format!("<tspan baseline-shift=\"super\" font-size=\"smaller\">{s}</tspan>");
        assert_eq!(tex_to_svg("h_{11}"), format!("h{}", sub("11")));
        assert_eq!(tex_to_svg("b_{h11}"), format!("b{}", sub("h11")));
        assert_eq!(
            tex_to_svg("w^{(1)}_{12}"),
            format!("w{}{}", sup("(1)"), sub("12"))
        );
        assert_eq!(tex_to_svg("\\eta"), "η");
        assert_eq!(tex_to_svg("\\sigma(z)"), "σ(z)");
        assert_eq!(tex_to_svg("\\mathit{out}_{1}"), format!("out{}", sub("1")));
        assert_eq!(
            tex_to_svg("\\mathrm{ReLU}"),
            "<tspan font-style=\"normal\">ReLU</tspan>"
        );
        assert_eq!(tex_to_svg("\\foo_1"), format!("foo{}", sub("1")));
        assert_eq!(tex_to_svg("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
        assert_eq!(tex_to_svg("x}{"), "x");
        assert_eq!(tex_to_svg("\\"), "");
    }
}
