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
//!   and only the edges among drawn units, so the output stays small for a 256-wide layer; past
//!   `MAX_LABELS` weights between two columns only the first row and column of the weight matrix
//!   keep their labels;
//! - weight labels are placed along their edges (`place_labels`) so that neighbouring fans do not
//!   put their labels on the same crossing; the columns are spaced to leave them room.
//!
//! Coordinates are in centimetres with y pointing up (TikZ's convention); the SVG writer scales
//! and flips them.

use std::fmt::Write as _;

use crate::ast::{DeclKind, Expr};
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

/// Least horizontal distance between columns (cm); more when wide weight labels need it.
const COLUMN_GAP: f64 = 3.6;
/// Least vertical distance between rows (cm); more when the labels over and under the units
/// need it.
const ROW_GAP: f64 = 1.6;
/// Radius of a unit (cm).
const RADIUS: f64 = 0.45;
/// Distance from the output column to the loss box (cm).
const LOSS_GAP: f64 = 2.0;
/// Half the height of the loss box (cm), TikZ's `minimum size=7mm`.
const LOSS_HALF_HEIGHT: f64 = 0.35;
/// Widest TikZ picture (cm) before it is scaled down: an A4 page with 2 cm margins has 17.
const TIKZ_MAX_WIDTH: f64 = 16.0;
/// Most weight labels between one column and the next; past it only the first unit's row and
/// column of the weight matrix keep theirs (see `thin_labels`).
const MAX_LABELS: usize = 20;
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
    /// The circle's radius (cm): `RADIUS`, or more for a long name.
    radius: f64,
    /// Row in its column, from the top.
    slot: usize,
}

impl Vertex {
    /// The centre.
    fn at(&self) -> Point {
        (self.x, self.y)
    }
}

/// One column: how many units it has in all, and where its `⋮` stands if it is truncated.
#[derive(Clone, Debug)]
struct Column {
    x: f64,
    /// Units in the column, drawn or not.
    total: usize,
    /// The drawn vertices (indices into `Diagram::vertices`), top to bottom.
    drawn: Vec<usize>,
    /// Rows, the ellipsis included.
    slots: usize,
    /// The row of the vertical ellipsis, when some units are left out.
    ellipsis_slot: Option<usize>,
    /// The height of the vertical ellipsis.
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
    /// The edge skips a column, and bows upwards so as not to run through the units between.
    bend: bool,
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
                        SymbolKind::Node | SymbolKind::Declared(DeclKind::Input)
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
        // By symbol index, so that a layer of many outputs costs no search per equation.
        let mut output_flags = vec![false; n_symbols];
        for id in &outputs {
            output_flags[id.index()] = true;
        }
        let is_output = |id: SymbolId| output_flags[id.index()];

        // Pre-activations absorbed into their activation's neuron: pre → activation.
        let mut absorbed_into: Vec<Option<SymbolId>> = vec![None; n_symbols];
        let mut function_of: Vec<Option<(SymbolId, Func)>> = vec![None; n_symbols];
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
                function_of[node.index()] = Some((pre, function));
            }
        }

        // The units, inputs first, then nodes in equation order.
        let mut units: Vec<Unit> = Vec::new();
        let mut unit_of: Vec<Option<usize>> = vec![None; n_symbols];
        for id in network.declared(DeclKind::Input) {
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
            let (fed_by, function) = match function_of[node.index()] {
                Some((pre, function)) => (pre, Some(function)),
                None => (node, None),
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
            sources.sort_unstable();
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
            let mut column = Column {
                x: 0.0,
                total,
                drawn: Vec::new(),
                slots: 0,
                ellipsis_slot: None,
                ellipsis: None,
            };
            column.slots = slots.len();
            for (slot, unit) in slots.iter().enumerate() {
                let Some(u) = *unit else {
                    column.ellipsis_slot = Some(slot);
                    continue;
                };
                let vertex = vertex_for(network, derivation, &units[u], c, slot);
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
                let span = vertices[to].column - vertices[from].column;
                edges.push(Edge {
                    from,
                    to,
                    label,
                    pos: 0.5,
                    bend: span > 1,
                });
            }
        }
        edges.sort_by_key(|e| (e.to, e.from));
        edges.dedup_by_key(|e| (e.to, e.from));
        thin_labels(&columns, &vertices, &mut edges);
        // One size of circle per column, the one its longest name needs.
        for column in &columns {
            let radius = column
                .drawn
                .iter()
                .map(|&v| vertices[v].radius)
                .fold(RADIUS, f64::max);
            for &v in &column.drawn {
                vertices[v].radius = radius;
            }
        }

        // Rows far enough apart for the bias over a unit and the function under the one above.
        let row_gap = vertices
            .iter()
            .map(|v| {
                let over = v.bias.as_deref().map_or(0.0, |b| label_size(b).1);
                let under = v.function.as_deref().map_or(0.0, |f| label_size(f).1);
                2.0 * v.radius + over + under + 0.2
            })
            .fold(ROW_GAP, f64::max);
        let y_of = |column: &Column, slot: usize| {
            ((column.slots as f64 - 1.0) / 2.0 - slot as f64) * row_gap
        };
        for vertex in &mut vertices {
            vertex.y = y_of(&columns[vertex.column], vertex.slot);
        }
        for column in &mut columns {
            column.ellipsis = column.ellipsis_slot.map(|slot| y_of(column, slot));
        }
        // Columns far enough apart for three weight labels side by side along every edge
        // between them (at 1/4, 1/2 and 3/4). A label's width across depends on the slope of
        // its edge, which depends on the gap: the second round starts from the first's gaps.
        let mut gaps = vec![COLUMN_GAP; n_columns];
        for _ in 0..2 {
            let mut needed = vec![COLUMN_GAP; n_columns];
            for edge in &edges {
                let Some(label) = &edge.label else { continue };
                let (from, to) = (&vertices[edge.from], &vertices[edge.to]);
                let dx = gaps[from.column] * (to.column - from.column) as f64;
                let (dy, length) = (to.y - from.y, dx.hypot(to.y - from.y).max(1e-9));
                let (width, height) = label_size(label);
                let half = (width * dx + height * dy.abs()) / length / 2.0 + LABEL_PAD;
                let gap = (8.0 * half)
                    .max(4.0 * (from.radius + half))
                    .max(4.0 * (to.radius + half))
                    / (to.column - from.column) as f64;
                needed[from.column] = needed[from.column].max(gap);
            }
            gaps = needed;
        }
        let mut x = 0.0;
        for (column, gap) in columns.iter_mut().zip(&gaps) {
            column.x = x;
            x += gap;
        }
        for vertex in &mut vertices {
            vertex.x = columns[vertex.column].x;
        }
        place_labels(&columns, &vertices, &mut edges);

        // The loss box, fed by the outputs and whatever else the loss uses directly (an input,
        // a regularization node), when any of it is drawn.
        let mut feeding: Vec<usize> = uses[loss.index()]
            .iter()
            .filter_map(|id| unit_of[id.index()])
            .chain(
                units
                    .iter()
                    .enumerate()
                    .filter(|(_, u)| u.role == Role::Output)
                    .map(|(i, _)| i),
            )
            .filter_map(|u| vertex_of[u])
            .collect();
        feeding.sort_unstable();
        feeding.dedup();
        let loss_box = (!feeding.is_empty()).then(|| LossBox {
            label: network.symbol(loss).latex.clone(),
            x: columns.last().map_or(0.0, |c| c.x) + LOSS_GAP,
            y: 0.0,
            from: feeding,
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
    /// (no TikZ library: the arrow tip and the placement of labels are core TikZ), and is scaled
    /// down as a whole when wider than `TIKZ_MAX_WIDTH`, to fit an A4 page.
    pub fn tikz(&self) -> String {
        let (left, right, _, _) = self.extent();
        let mut scale = String::new();
        if right - left > TIKZ_MAX_WIDTH {
            let _ = write!(
                scale,
                " scale={}, every node/.append style={{transform shape}},",
                num((TIKZ_MAX_WIDTH / (right - left) * 1000.0).floor() / 1000.0)
            );
        }
        let mut out = String::new();
        let _ = write!(
            out,
            "\\begin{{tikzpicture}}[>=stealth, x=1cm, y=1cm,{scale}\n  \
             unit/.style={{circle, draw, fill=white, minimum size=9mm, inner sep=1pt}},\n  \
             input/.style={{unit, fill=black!7}},\n  \
             output/.style={{unit, double}},\n  \
             side/.style={{font=\\scriptsize, inner sep=1pt, fill=white}},\n  \
             weight/.style={{sloped, font=\\scriptsize, fill=white, inner sep=1pt}},\n  \
             loss/.style={{rectangle, draw, minimum size=7mm}}]\n"
        );
        for (i, vertex) in self.vertices.iter().enumerate() {
            let style = match vertex.role {
                Role::Input => "input",
                Role::Unit => "unit",
                Role::Output => "output",
            };
            let size = if vertex.radius > RADIUS {
                format!(", minimum size={}cm", num(2.0 * vertex.radius))
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "  \\node[{style}{size}] (v{i}) at ({}, {}) {{${}$}};",
                num(vertex.x),
                num(vertex.y),
                vertex.label
            );
        }
        for edge in &self.edges {
            let path = if edge.bend {
                format!("to[bend left={BEND}]")
            } else {
                "--".to_string()
            };
            let node = match &edge.label {
                Some(label) => format!(" node[weight, pos={}] {{${label}$}}", num(edge.pos)),
                None => String::new(),
            };
            let _ = writeln!(
                out,
                "  \\draw[->] (v{}) {path}{node} (v{});",
                edge.from, edge.to
            );
        }
        // The labels over and under the units come after the edges, so that their white
        // background keeps them readable where edges arrive.
        for (i, vertex) in self.vertices.iter().enumerate() {
            if let Some(bias) = &vertex.bias {
                let _ = writeln!(
                    out,
                    "  \\node[side, anchor=south] at (v{i}.north) {{$+{bias}$}};"
                );
            }
            if let Some(function) = &vertex.function {
                let _ = writeln!(
                    out,
                    "  \\node[side, anchor=north] at (v{i}.south) {{${function}$}};"
                );
            }
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
            if let Some((y, note)) = self.count_note(column) {
                let _ = writeln!(
                    out,
                    "  \\node[side] at ({}, {}) {{{note}}};",
                    num(column.x),
                    num(y)
                );
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
        let line = |out: &mut String, from: &Vertex, (x2, y2): (f64, f64), end: f64| {
            let (x1, y1) = (from.x, from.y);
            let (dx, dy) = (x2 - x1, y2 - y1);
            let length = dx.hypot(dy).max(1e-9);
            let (ux, uy) = (dx / length, dy / length);
            let _ = writeln!(
                out,
                "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>",
                px(x1 + ux * from.radius),
                py(y1 + uy * from.radius),
                px(x2 - ux * end),
                py(y2 - uy * end)
            );
        };
        for edge in &self.edges {
            let (a, b) = (&self.vertices[edge.from], &self.vertices[edge.to]);
            if edge.bend {
                let [p0, p1, p2, p3] = Curve::of(a, b, true).0;
                let _ = writeln!(
                    out,
                    "<path d=\"M{},{} C{},{} {},{} {},{}\" fill=\"none\"/>",
                    px(p0.0),
                    py(p0.1),
                    px(p1.0),
                    py(p1.1),
                    px(p2.0),
                    py(p2.1),
                    px(p3.0),
                    py(p3.1)
                );
            } else {
                line(&mut out, a, (b.x, b.y), b.radius);
            }
        }
        if let Some(loss) = &self.loss {
            let half = loss_half_width(&loss.label);
            for &from in &loss.from {
                let a = &self.vertices[from];
                // Stop where the line enters the box, through its left side or its top or bottom.
                let (dx, dy) = ((loss.x - a.x).abs(), (loss.y - a.y).abs());
                let entry = (half / dx.max(1e-9)).min(LOSS_HALF_HEIGHT / dy.max(1e-9));
                let end = entry * dx.hypot(dy);
                line(&mut out, a, (loss.x, loss.y), end);
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
            let ((x, y), (ux, uy)) = Curve::of(a, b, edge.bend).at(edge.pos);
            let angle = -uy.atan2(ux).to_degrees();
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
        let halo =
            "stroke=\"white\" stroke-width=\"3\" stroke-linejoin=\"round\" paint-order=\"stroke\"";
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
                num(vertex.radius * SCALE)
            );
            let _ = writeln!(
                out,
                "<text x=\"{cx}\" y=\"{cy}\" dy=\"0.35em\" font-size=\"16\">{}</text>",
                tex_to_svg(&vertex.label)
            );
            if let Some(function) = &vertex.function {
                let _ = writeln!(
                    out,
                    "<text x=\"{cx}\" y=\"{}\" font-size=\"12\" {halo}>{}</text>",
                    // The baseline low enough for a superscript to clear the circle.
                    py(vertex.y
                        - vertex.radius
                        - 0.24
                        - if scripts(function).1 { 0.1 } else { 0.0 }),
                    tex_to_svg(function)
                );
            }
            if let Some(bias) = &vertex.bias {
                let _ = writeln!(
                    out,
                    "<text x=\"{cx}\" y=\"{}\" font-size=\"12\" {halo}>+{}</text>",
                    // The baseline high enough for a subscript to clear the circle.
                    py(vertex.y + vertex.radius + 0.06 + if scripts(bias).0 { 0.08 } else { 0.0 }),
                    tex_to_svg(bias)
                );
            }
        }
        for column in &self.columns {
            if let Some((y, note)) = self.count_note(column) {
                let _ = writeln!(
                    out,
                    "<text x=\"{}\" y=\"{}\" dy=\"0.35em\" font-size=\"12\" font-style=\"normal\">{}</text>",
                    px(column.x),
                    py(y),
                    xml_escape(&note)
                );
            }
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
                py(loss.y + LOSS_HALF_HEIGHT),
                num(2.0 * half * SCALE),
                num(2.0 * LOSS_HALF_HEIGHT * SCALE)
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

    /// For a truncated column, how many units it has, written under it.
    fn count_note(&self, column: &Column) -> Option<(f64, String)> {
        column.ellipsis?;
        let lowest = column
            .drawn
            .iter()
            .map(|&v| &self.vertices[v])
            .min_by(|a, b| a.y.total_cmp(&b.y))?;
        let below = lowest
            .function
            .as_deref()
            .map_or(0.35, |f| label_size(f).1 + 0.3);
        let what = if lowest.role == Role::Input {
            "inputs"
        } else {
            "units"
        };
        Some((
            lowest.y - lowest.radius - below,
            format!("{} {what}", column.total),
        ))
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
            for rect in vertex_rects(vertex) {
                include(
                    rect.x - rect.half_width,
                    rect.x + rect.half_width,
                    rect.y - rect.half_height,
                    rect.y + rect.half_height,
                );
            }
        }
        // A skip edge bows out, maybe above the top row, with its label.
        for edge in self.edges.iter().filter(|e| e.bend) {
            let curve = Curve::of(&self.vertices[edge.from], &self.vertices[edge.to], true);
            for i in 0..=8 {
                let ((x, y), _) = curve.at(f64::from(i) / 8.0);
                include(x, x, y - 0.05, y + 0.05);
            }
            if let Some(label) = &edge.label {
                let rect = label_rect(&curve, edge.pos, label_size(label));
                include(
                    rect.x - rect.half_width,
                    rect.x + rect.half_width,
                    rect.y - rect.half_height,
                    rect.y + rect.half_height,
                );
            }
        }
        for column in &self.columns {
            if let Some(y) = column.ellipsis {
                include(column.x, column.x, y - 0.3, y + 0.3);
            }
            if let Some((y, note)) = self.count_note(column) {
                let half = text_width(&note, 12.0) / 2.0;
                include(column.x - half, column.x + half, y - 0.2, y + 0.2);
            }
        }
        if let Some(loss) = &self.loss {
            let half = loss_half_width(&loss.label);
            include(
                loss.x - half,
                loss.x + half,
                loss.y - LOSS_HALF_HEIGHT,
                loss.y + LOSS_HALF_HEIGHT,
            );
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
    slot: usize,
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
    let label = network.symbol(unit.shown).latex.clone();
    Vertex {
        role: unit.role,
        radius: RADIUS.max(text_width(&label, 16.0) / 2.0 + 0.12),
        label,
        function,
        bias,
        column,
        x: 0.0,
        y: 0.0,
        slot,
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

/// The bias: the one parameter standing alone as a term of a sum (`b + w1 x1 + w2 x2`).
fn bias_of(network: &Network, derivation: &Derivation, body: ExprId) -> Option<SymbolId> {
    let pool = &derivation.pool;
    let Node::Add(_, terms) = pool.node(body) else {
        return None;
    };
    let mut lone = terms
        .iter()
        .filter_map(|(k, term)| match pool.as_sym(*term) {
            Some(Sym::Value(id)) if k.is_one() && network.symbol(id).is_param() => Some(id),
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

/// Keeps a dense layer readable: when more than `MAX_LABELS` labelled edges leave a column, only
/// the edges leaving its first drawn unit or entering the first drawn unit of their column keep
/// their labels (the first row and column of the weight matrix, which show how it is indexed).
fn thin_labels(columns: &[Column], vertices: &[Vertex], edges: &mut [Edge]) {
    let mut labelled = vec![0usize; columns.len()];
    for edge in edges.iter().filter(|e| e.label.is_some()) {
        labelled[vertices[edge.from].column] += 1;
    }
    let first = |v: usize| columns[vertices[v].column].drawn.first() == Some(&v);
    for edge in edges.iter_mut() {
        if labelled[vertices[edge.from].column] > MAX_LABELS && !first(edge.from) && !first(edge.to)
        {
            edge.label = None;
        }
    }
}

/// Where the labels along edges may stand, most preferred first: the middle, then by turns
/// towards either end.
const LABEL_POSITIONS: &[f64] = &[
    0.5, 0.3, 0.7, 0.4, 0.6, 0.22, 0.78, 0.35, 0.65, 0.45, 0.55, 0.26, 0.74, 0.18, 0.82,
];

/// Room kept around a weight label when placing it (cm).
const LABEL_PAD: f64 = 0.06;

/// A point (cm).
type Point = (f64, f64);

/// An axis-aligned box (cm): centre and half extents.
#[derive(Clone, Copy, Debug)]
struct Rect {
    x: f64,
    y: f64,
    half_width: f64,
    half_height: f64,
}

impl Rect {
    /// The area two boxes share.
    fn overlap(&self, other: &Rect) -> f64 {
        let dx = self.half_width + other.half_width - (self.x - other.x).abs();
        let dy = self.half_height + other.half_height - (self.y - other.y).abs();
        dx.max(0.0) * dy.max(0.0)
    }
}

/// Boxes already placed, bucketed by 1 cm slices of x so that a query looks only at
/// neighbours: placing labels stays linear in the number of edges.
struct Placed {
    cells: Vec<Vec<Rect>>,
}

impl Placed {
    fn new(width: f64) -> Placed {
        Placed {
            cells: vec![Vec::new(); width.max(0.0) as usize + 2],
        }
    }

    fn cells_of(&self, rect: &Rect) -> std::ops::RangeInclusive<usize> {
        let cell = |x: f64| (x.max(0.0) as usize).min(self.cells.len() - 1);
        cell(rect.x - rect.half_width)..=cell(rect.x + rect.half_width)
    }

    fn insert(&mut self, rect: Rect) {
        // Stored in the cell of its centre; queries widen by the widest box instead.
        let cell = (rect.x.max(0.0) as usize).min(self.cells.len() - 1);
        self.cells[cell].push(rect);
    }

    fn overlap(&self, rect: &Rect, reach: f64) -> f64 {
        let wide = Rect {
            half_width: rect.half_width + reach,
            ..*rect
        };
        self.cells_of(&wide)
            .flat_map(|cell| &self.cells[cell])
            .map(|other| rect.overlap(other))
            .sum()
    }
}

/// How far a skip edge bows out at its ends (degrees), TikZ's `bend left`.
const BEND: f64 = 25.0;
/// TikZ's distance of a curve's control points, as a fraction of the distance of its ends
/// (`looseness=1`).
const LOOSENESS: f64 = 0.3915;

/// An edge as drawn, from border to border: a cubic Bézier curve (a straight edge has its
/// control points at thirds, so that curve time is the fraction of its length, as TikZ's `pos`).
#[derive(Clone, Copy, Debug)]
struct Curve([Point; 4]);

impl Curve {
    /// The curve TikZ draws for `(from) -- (to)`, or `(from) to[bend left=BEND] (to)`.
    fn of(from: &Vertex, to: &Vertex, bend: bool) -> Curve {
        let angle = (to.y - from.y).atan2(to.x - from.x);
        let along = |angle: f64, distance: f64, (x, y): Point| {
            (x + distance * angle.cos(), y + distance * angle.sin())
        };
        if !bend {
            let start = along(angle, from.radius, from.at());
            let end = along(angle, -to.radius, to.at());
            let third = |k: f64| {
                (
                    start.0 + (end.0 - start.0) * k / 3.0,
                    start.1 + (end.1 - start.1) * k / 3.0,
                )
            };
            return Curve([start, third(1.0), third(2.0), end]);
        }
        // Out of the source at BEND to the left of the straight line, into the target from
        // BEND to its left, as TikZ's `bend left` does.
        let (out, into) = (
            angle + BEND.to_radians(),
            angle + 180f64.to_radians() - BEND.to_radians(),
        );
        let start = along(out, from.radius, from.at());
        let end = along(into, to.radius, to.at());
        let distance = LOOSENESS * (end.0 - start.0).hypot(end.1 - start.1);
        Curve([
            start,
            along(out, distance, start),
            along(into, distance, end),
            end,
        ])
    }

    /// The point at curve time `t` and the unit tangent there.
    fn at(&self, t: f64) -> (Point, Point) {
        let [p0, p1, p2, p3] = self.0;
        let u = 1.0 - t;
        let mix = |a: f64, b: f64, c: f64, d: f64| {
            u * u * u * a + 3.0 * u * u * t * b + 3.0 * u * t * t * c + t * t * t * d
        };
        let slope = |a: f64, b: f64, c: f64, d: f64| {
            3.0 * u * u * (b - a) + 6.0 * u * t * (c - b) + 3.0 * t * t * (d - c)
        };
        let (dx, dy) = (slope(p0.0, p1.0, p2.0, p3.0), slope(p0.1, p1.1, p2.1, p3.1));
        let length = dx.hypot(dy).max(1e-9);
        (
            (mix(p0.0, p1.0, p2.0, p3.0), mix(p0.1, p1.1, p2.1, p3.1)),
            (dx / length, dy / length),
        )
    }

    /// The distance between the ends.
    fn chord(&self) -> f64 {
        let [start, _, _, end] = self.0;
        (end.0 - start.0).hypot(end.1 - start.1)
    }

    /// The curve as a few straight pieces, for `covers`.
    fn pieces(&self) -> Vec<(Point, Point)> {
        let straight = {
            let [p0, p1, _, p3] = self.0;
            let third = ((p3.0 - p0.0) / 3.0, (p3.1 - p0.1) / 3.0);
            (p1.0 - p0.0 - third.0).abs() + (p1.1 - p0.1 - third.1).abs() < 1e-9
        };
        let n = if straight { 1 } else { 8 };
        (0..n)
            .map(|i| {
                (
                    self.at(i as f64 / n as f64).0,
                    self.at((i + 1) as f64 / n as f64).0,
                )
            })
            .collect()
    }
}

/// The box of a weight label set on a curve at `pos`, rotated with it (`sloped`).
fn label_rect(curve: &Curve, pos: f64, (width, height): (f64, f64)) -> Rect {
    let ((x, y), (ux, uy)) = curve.at(pos);
    let (cos, sin) = (ux.abs(), uy.abs());
    Rect {
        x,
        y,
        half_width: (width * cos + height * sin) / 2.0 + LABEL_PAD,
        half_height: (width * sin + height * cos) / 2.0 + LABEL_PAD,
    }
}

/// Whether a label set on a curve at `pos` covers the segment `a → b`: the segment is clipped
/// (Liang–Barsky) against the label's rectangle, in the label's own frame.
fn covers(curve: &Curve, pos: f64, (width, height): (f64, f64), a: Point, b: Point) -> bool {
    let (centre, (ux, uy)) = curve.at(pos);
    let local = |(x, y): Point| {
        let (rx, ry) = (x - centre.0, y - centre.1);
        (rx * ux + ry * uy, ry * ux - rx * uy)
    };
    let (p, q) = (local(a), local(b));
    let (half_width, half_height) = (width / 2.0, height / 2.0);
    let (mut low, mut high) = (0.0f64, 1.0f64);
    for (delta, start, limit) in [(q.0 - p.0, p.0, half_width), (q.1 - p.1, p.1, half_height)] {
        // -limit <= start + s·delta <= limit
        if delta.abs() < 1e-12 {
            if start.abs() > limit {
                return false;
            }
            continue;
        }
        let (s0, s1) = ((-limit - start) / delta, (limit - start) / delta);
        low = low.max(s0.min(s1));
        high = high.min(s0.max(s1));
    }
    low <= high
}

/// The boxes of a unit and the labels over and under it, which weight labels must not cover.
fn vertex_rects(vertex: &Vertex) -> Vec<Rect> {
    let mut rects = vec![Rect {
        x: vertex.x,
        y: vertex.y,
        half_width: vertex.radius,
        half_height: vertex.radius,
    }];
    let side = |text: &str, below: bool| {
        let (width, height) = label_size(text);
        let offset = vertex.radius + height / 2.0;
        Rect {
            x: vertex.x,
            y: if below {
                vertex.y - offset
            } else {
                vertex.y + offset
            },
            half_width: width / 2.0,
            half_height: height / 2.0,
        }
    };
    if let Some(function) = &vertex.function {
        rects.push(side(function, true));
    }
    if let Some(bias) = &vertex.bias {
        rects.push(side(&format!("+{bias}"), false));
    }
    rects
}

/// What covering another edge's line costs a label, against the overlapping area (cm²) of two
/// labels: a label hiding a bit of a line is much better than two labels on top of each other.
const COVER_COST: f64 = 0.03;

/// Chooses where each weight label stands along its edge. The labels of the edges leaving one
/// unit share a position (they read as a fan), and the units are taken column by column, top
/// to bottom, each choosing the first position in `LABEL_POSITIONS` with the least overlap with
/// what is already placed and the fewest other edges covered: in a fully connected layer,
/// neighbouring units end up with different positions, so their labels do not meet where the
/// edges cross.
fn place_labels(columns: &[Column], vertices: &[Vertex], edges: &mut [Edge]) {
    let right = columns.last().map_or(0.0, |c| c.x) + 1.0;
    let mut placed = Placed::new(right);
    let mut reach: f64 = 0.0;
    for vertex in vertices {
        for rect in vertex_rects(vertex) {
            reach = reach.max(rect.half_width);
            placed.insert(rect);
        }
    }
    let sizes: Vec<(f64, f64)> = edges
        .iter()
        .map(|e| e.label.as_deref().map_or((0.0, 0.0), label_size))
        .collect();
    let mut leaving: Vec<Vec<usize>> = vec![Vec::new(); vertices.len()];
    for (index, edge) in edges.iter().enumerate() {
        if edge.label.is_some() {
            leaving[edge.from].push(index);
        }
    }
    let curves: Vec<Curve> = edges
        .iter()
        .map(|e| Curve::of(&vertices[e.from], &vertices[e.to], e.bend))
        .collect();
    // The edges leaving each column, as segments, for `covers`.
    let mut segments: Vec<Vec<(Point, Point, usize)>> = vec![Vec::new(); columns.len()];
    for (index, edge) in edges.iter().enumerate() {
        let column = vertices[edge.from].column;
        for (a, b) in curves[index].pieces() {
            segments[column].push((a, b, index));
        }
    }
    for (c, column) in columns.iter().enumerate() {
        for &source in &column.drawn {
            let fan = &leaving[source];
            if fan.is_empty() {
                continue;
            }
            let rects_at = |pos: f64| -> Vec<Rect> {
                fan.iter()
                    .map(|&e| label_rect(&curves[e], pos, sizes[e]))
                    .collect()
            };
            let mut best = (f64::INFINITY, LABEL_POSITIONS[0]);
            for &pos in LABEL_POSITIONS {
                let rects = rects_at(pos);
                let mut score = 0.0;
                for (i, (rect, &e)) in rects.iter().zip(fan).enumerate() {
                    // A label hanging off either end of its edge is worse than any overlap.
                    let chord = curves[e].chord();
                    let half = sizes[e].0 / 2.0;
                    if pos * chord < half || (1.0 - pos) * chord < half {
                        score += 100.0;
                    }
                    score += placed.overlap(rect, reach);
                    score += rects[..i].iter().map(|r| r.overlap(rect)).sum::<f64>();
                    let covered = segments[c]
                        .iter()
                        .filter(|&&(a, b, other)| {
                            other != e && covers(&curves[e], pos, sizes[e], a, b)
                        })
                        .count();
                    score += COVER_COST * covered as f64;
                }
                if score < best.0 - 1e-9 {
                    best = (score, pos);
                }
            }
            for (rect, &e) in rects_at(best.1).into_iter().zip(fan) {
                edges[e].pos = best.1;
                reach = reach.max(rect.half_width);
                placed.insert(rect);
            }
        }
    }
}

/// Whether a LaTeX name has a subscript and whether it has a superscript.
fn scripts(latex: &str) -> (bool, bool) {
    fn walk(pieces: &[Piece], found: &mut (bool, bool)) {
        for piece in pieces {
            match piece {
                Piece::Text(_) => {}
                Piece::Upright(inner) => walk(inner, found),
                Piece::Sub(inner) => {
                    found.0 = true;
                    walk(inner, found);
                }
                Piece::Sup(inner) => {
                    found.1 = true;
                    walk(inner, found);
                }
            }
        }
    }
    let mut found = (false, false);
    walk(&parse_tex(latex), &mut found);
    found
}

/// The size (cm) of a label set in `\scriptsize` with its white margin: taller with a
/// subscript or a superscript.
fn label_size(label: &str) -> (f64, f64) {
    let (sub, sup) = scripts(label);
    let height = 0.3 + 0.08 * f64::from(u8::from(sub) + u8::from(sup));
    (text_width(label, 12.0) + 0.1, height)
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
                Piece::Sub(inner) | Piece::Sup(inner) => width(inner, scale * 0.8),
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
        assert!(tikz.contains("\\node[side, anchor=south] at (v2.north) {$+b_{h11}$};"));
        assert!(tikz.contains("\\node[side, anchor=north] at (v2.south) {$\\sigma(h_{11})$};"));
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
        // 16 inputs and a 256-wide layer (a wider input layer would only make the derivation,
        // not the drawing, slower: the fan-in of a unit costs the chain rule quadratically).
        let diagram = from_text(
            "mlp 16 -> 256 relu -> 2 sigmoid\ntargets y = [0, 1]\nloss half_squared_error\n",
        );
        assert_eq!(column_sizes(&diagram), [16, 256, 2]);
        for column in &diagram.columns[..2] {
            assert_eq!(column.drawn.len(), HEAD + TAIL);
            assert!(column.ellipsis.is_some());
        }
        assert!(diagram.columns[2].ellipsis.is_none());
        assert_eq!(
            labels(&diagram, 0),
            [
                "x_{1}", "x_{2}", "x_{3}", "x_{4}", "x_{5}", "x_{15}", "x_{16}"
            ]
        );
        assert_eq!(labels(&diagram, 1)[6], "a^{(1)}_{256}");
        assert_eq!(diagram.vertices.len(), 16);
        assert_eq!(diagram.edges.len(), 7 * 7 + 7 * 2);
        // 49 weights between the first two columns: only the first row and column of the
        // weight matrix keep their labels; the 14 of the last layer all do.
        let labelled = |from_column: usize| {
            diagram
                .edges
                .iter()
                .filter(|e| e.label.is_some() && diagram.vertices[e.from].column == from_column)
                .count()
        };
        assert_eq!((labelled(0), labelled(1)), (7 + 7 - 1, 14));
        assert_eq!(edges_labelled(&diagram, "w^{(1)}_{256,1}"), 1);
        assert_eq!(edges_labelled(&diagram, "w^{(1)}_{1,16}"), 1);
        assert_eq!(edges_labelled(&diagram, "w^{(1)}_{256,16}"), 0);
        assert_eq!(edges_labelled(&diagram, "w^{(2)}_{2,256}"), 1);
        let (svg, tikz) = (diagram.svg(), diagram.tikz());
        assert_well_formed(&svg);
        assert!(svg.contains('\u{22ee}') && svg.contains("256 units"));
        assert!(tikz.contains("\\vdots") && tikz.contains("{16 inputs}"));
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
    fn skip_connections_span_columns() {
        // x feeds both the hidden unit and the output directly.
        let diagram = from_text(
            "input x = 1\ntarget y = 0\nparam u = 0.5\nparam v = 0.25\nparam w = 2\n\
             h = u*x\na = sigmoid(h)\nz = w*x + v*a\nout = tanh(z)\nloss L = (out - y)^2\n",
        );
        assert_eq!(column_sizes(&diagram), [1, 1, 1]);
        assert_eq!(labels(&diagram, 2), ["\\mathit{out}"]);
        let skip = diagram
            .edges
            .iter()
            .find(|e| e.label.as_deref() == Some("w"))
            .expect("x → out carries w");
        assert_eq!(
            (
                diagram.vertices[skip.from].column,
                diagram.vertices[skip.to].column
            ),
            (0, 2)
        );
        assert_eq!(diagram.edges.len(), 3);
    }

    #[test]
    fn functions_other_than_sigmoid_collapse_too() {
        let diagram = from_text(
            "input x = 1\ntarget y = 0\nparam w = 0.5\nparam b = 0.1\n\
             h = b + w*x\na = leaky_relu(h, 0.1)\nz = 2*a\nout = identity(z)\n\
             loss L = (out - y)^2\n",
        );
        assert_eq!(column_sizes(&diagram), [1, 1, 1]);
        let a = &diagram.vertices[diagram.columns[1].drawn[0]];
        assert_eq!(a.function.as_deref(), Some("\\mathrm{LReLU}(h)"));
        assert_eq!(a.bias.as_deref(), Some("b"));
        let out = &diagram.vertices[diagram.columns[2].drawn[0]];
        assert_eq!(out.function.as_deref(), Some("\\mathrm{id}(z)"));
        // ∂z/∂a = 2 is no parameter: no label.
        assert_eq!(
            diagram.edges.iter().filter(|e| e.label.is_some()).count(),
            1
        );
    }

    #[test]
    fn softmax_outputs_keep_their_logits() {
        let diagram = from_text("mlp 2 -> 3 softmax\ntargets y = [0, 1, 0]\nloss cross_entropy\n");
        // h1..h3 feed every softmax output, so none of them is absorbed.
        assert_eq!(column_sizes(&diagram), [2, 3, 3]);
        assert_eq!(diagram.edges.len(), 2 * 3 + 3 * 3);
        assert_eq!(diagram.loss.as_ref().map(|l| l.from.len()), Some(3));
    }

    #[test]
    fn a_loss_on_inputs_alone_still_has_its_box() {
        let diagram = from_text("input x = 1\ntarget y = 0\nparam w = 0.5\nloss L = (w*x - y)^2\n");
        assert_eq!(column_sizes(&diagram), [1]);
        assert_eq!(diagram.loss.as_ref().map(|l| l.from.clone()), Some(vec![0]));
        assert_well_formed(&diagram.svg());
    }

    #[test]
    fn wide_pictures_are_scaled_to_the_page() {
        let diagram = from_text(
            "mlp 2 -> 2 tanh -> 2 tanh -> 2 tanh -> 2 tanh -> 1 sigmoid\n\
             targets y = [1]\nloss half_squared_error\n",
        );
        assert_eq!(diagram.columns.len(), 6);
        let tikz = diagram.tikz();
        assert!(tikz.contains("every node/.append style={transform shape}"));
        assert!(!from_file("slides.bp").tikz().contains("scale="));
    }

    #[test]
    fn author_names_are_escaped_in_svg() {
        let diagram = from_text(
            "title \"A & B <net>\"\ninput x = 1\ntarget y = 0\nparam w = 0.5\n\
             latex w = \"\\omega_{a<b}\"\nh = w*x\nloss L = (h - y)^2\n",
        );
        let svg = diagram.svg();
        assert_well_formed(&svg);
        assert!(svg.contains("<title>A &amp; B &lt;net&gt;</title>"));
        assert!(
            svg.contains("ω<tspan baseline-shift=\"sub\" font-size=\"smaller\">a&lt;b</tspan>")
        );
        assert!(diagram.tikz().contains("{$\\omega_{a<b}$}"));
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
