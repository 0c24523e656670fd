//! Building a report: closed forms first (they add to the pool), then the forward steps and the
//! node gradients' expanded forms in backward order (each feeds the ones after it), then every
//! given value, gradient step and update, which are independent of each other and are written
//! on all cores. The output does not depend on the number of cores. The given values need
//! only the network: the streamed JSON takes their section ready-made (`GivenSection`), which
//! `derive` writes on a spare core while the gradients are derived.

use std::cell::RefCell;
use std::io::{self, Write};
use std::sync::OnceLock;

use serde::Serialize;

use rustc_hash::FxHashMap;
use std::collections::hash_map::Entry;

use super::closed::ClosedForms;
use super::{
    Definition, ForwardStep, Given, GradientStep, LossValues, Map, Report, Term, Text, UpdateStep,
    Value, describe_precision, grad_in, rational_in, write_grad, write_name,
};
use crate::ast::DeclKind;
use crate::eval::decimal::{Decimal, RoundingMode, round_rational};
use crate::eval::network::Values;
use crate::eval::numeric::{Rounding, round};
use crate::eval::real::Real;
use crate::graph::display::Display;
use crate::graph::{Equation, Network, SymbolId, SymbolKind};
use crate::parallel::{for_each_piece, map_pieces};
use crate::render::{json, number};
use crate::symbolic::backprop::{ChainTerm, Derivation, Gradient};
use crate::symbolic::expr::{ExprId, Sym};
use crate::symbolic::print::{Atom, Notation, Prec, PrintMemo, Printer};

/// An expanded gradient longer than this (in plain characters) is referred to by its name in the
/// expanded forms that use it, and defined once under "where".
pub const INLINE_CHARS: usize = 200;

/// Fewer independent steps than this a core are written on one thread.
const STEPS_PER_THREAD: usize = 512;

/// Builds the report of a run.
pub struct ReportBuilder<'a> {
    network: &'a Network,
    derivation: &'a mut Derivation,
    values: &'a Values,
    rounding: Rounding,
    /// Whether LaTeX forms are wanted (not for text and JSON, where they would only cost).
    latex: bool,
    /// Whether the gradients of constants are reported.
    const_gradients: bool,
    /// Independent steps a thread takes at least.
    steps_per_thread: usize,
    /// Jobs a batch of streamed JSON holds.
    jobs_per_batch: usize,
}

impl<'a> ReportBuilder<'a> {
    /// A builder over a derived and evaluated network.
    pub fn new(
        network: &'a Network,
        derivation: &'a mut Derivation,
        values: &'a Values,
        rounding: Rounding,
    ) -> Self {
        ReportBuilder {
            network,
            derivation,
            values,
            rounding,
            latex: true,
            const_gradients: false,
            steps_per_thread: STEPS_PER_THREAD,
            jobs_per_batch: JOBS_PER_BATCH,
        }
    }

    /// Leaves the LaTeX forms out (for text and JSON output).
    pub fn plain_only(mut self) -> Self {
        self.latex = false;
        self
    }

    /// Also reports the gradients of `const` quantities.
    pub fn with_const_gradients(self) -> Self {
        ReportBuilder {
            const_gradients: true,
            ..self
        }
    }

    /// The whole report.
    pub fn build(self, warnings: Vec<String>) -> Report {
        let (shared, order) = self.prepare();
        shared.build(&order, warnings)
    }

    /// Writes the report as `serde_json::to_writer(&self.build(warnings))` would, without ever
    /// holding it: the large sections are built and serialized in batches on all cores, so
    /// memory stays that of one batch however large the network. `given` is the given values'
    /// section, written beforehand with this builder's rounding and notations.
    pub fn write_json(
        self,
        given: &GivenSection,
        warnings: Vec<String>,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        assert!(
            given.rounding == self.rounding && given.latex == self.latex,
            "the given section is written with the report's rounding and notations"
        );
        let (shared, order) = self.prepare();
        shared.write_json(&order, &given.text, &warnings, out)
    }

    /// The closed forms (the only part that adds to the pool) and the backward order.
    fn prepare(self) -> (Shared<'a>, Vec<SymbolId>) {
        let network = self.network;
        // A constant's gradient is printed only on request (`--const-gradients`).
        let wanted = |id: SymbolId| {
            self.const_gradients || network.symbol(id).decl_kind() != Some(DeclKind::Const)
        };
        let order: Vec<SymbolId> = backward_order(network, self.derivation)
            .into_iter()
            .filter(|&id| wanted(id) && self.values.gradient(id).is_some())
            .collect();
        let closed = ClosedForms::find(network, self.derivation, self.values, &order);
        let mut rank = vec![0; network.symbols.len()];
        for (position, equation) in network.equations.iter().enumerate() {
            rank[equation.node.index()] = position as u32 + 1;
        }
        let n = network.symbols.len();
        let shared = Shared {
            network,
            derivation: self.derivation,
            values: self.values,
            rounding: self.rounding,
            latex: self.latex,
            rank,
            closed,
            expanded: FxHashMap::default(),
            exact: (0..n).map(|_| OnceLock::new()).collect(),
            numbers: [0, 1].map(|_| (0..2 * n).map(|_| OnceLock::new()).collect()),
            steps_per_thread: self.steps_per_thread,
            jobs_per_batch: self.jobs_per_batch,
        };
        (shared, order)
    }
}

/// The given values' section of the streamed JSON report. It needs only the loaded network (a
/// given value is its literal), so `derive` writes it on a spare core while the gradients are
/// derived and evaluated.
pub struct GivenSection {
    /// `{"x1":{...},...}`
    text: Vec<u8>,
    rounding: Rounding,
    latex: bool,
}

impl GivenSection {
    /// The section for `network`, rounded by `rounding`, with LaTeX forms when `latex`.
    pub fn write(network: &Network, rounding: Rounding, latex: bool) -> GivenSection {
        let mut members = Serialized(Vec::new());
        for id in network.given() {
            if let Some(given) = given_entry(network, id, rounding, latex) {
                members.given(network.name(id), given);
            }
        }
        // Every member starts with a comma: the first becomes the opening brace.
        let mut text = members.0;
        match text.first_mut() {
            Some(first) => *first = b'{',
            None => text.push(b'{'),
        }
        text.push(b'}');
        GivenSection {
            text,
            rounding,
            latex,
        }
    }
}

/// A declared quantity's entry: its literal, rounded, and as an exact fraction and decimal;
/// `None` when it has no value.
fn given_entry(network: &Network, id: SymbolId, rounding: Rounding, latex: bool) -> Option<Given> {
    let symbol = network.symbol(id);
    let q = symbol.value.as_ref()?;
    let decimal = round_rational(q, rounding.precision, rounding.mode);
    let exact = both(latex, |notation| rational_in(q, notation));
    let mut value = value_of(&decimal, Some(exact), true, latex);
    if let Some(exact) = number::exact_decimal(q) {
        if latex {
            value.value_latex = exact.clone();
        }
        value.value = exact;
    }
    Some(Given {
        kind: symbol.decl_kind().map_or("node", DeclKind::keyword),
        name_latex: symbol.latex.clone(),
        random: symbol.is_random(),
        value,
    })
}

/// A rounded value's entry, with its exact form when there is one.
fn value_of(decimal: &Decimal, exact: Option<Text>, rational: bool, latex: bool) -> Value {
    Value {
        value: number::format(decimal, Notation::Plain),
        value_latex: if latex {
            number::format(decimal, Notation::Latex)
        } else {
            String::new()
        },
        exact,
        rational,
        tolerance: number::half_unit(decimal),
    }
}

/// A text in plain notation, and in LaTeX when `latex`.
fn both(latex: bool, text: impl Fn(Notation) -> String) -> Text {
    Text {
        plain: text(Notation::Plain),
        latex: if latex {
            text(Notation::Latex)
        } else {
            String::new()
        },
    }
}

/// What every writer reads: the run, and the expanded forms of the node gradients.
struct Shared<'a> {
    network: &'a Network,
    derivation: &'a Derivation,
    values: &'a Values,
    rounding: Rounding,
    latex: bool,
    /// Each symbol's position from the inputs, for ordering factors.
    rank: Vec<u32>,
    closed: ClosedForms,
    /// The expanded form of each node's gradient.
    expanded: FxHashMap<SymbolId, Expanded>,
    /// Each given value's exact decimal, made on first use by any writer (a value is printed
    /// in its own entry, its update and every formula it is substituted into).
    exact: Vec<OnceLock<Option<String>>>,
    /// Each symbol's number as substituted into formulas, plain and LaTeX, made on first use
    /// by any writer; see `Writer::write_number`.
    numbers: [Vec<OnceLock<String>>; 2],
    /// Independent steps a thread takes at least.
    steps_per_thread: usize,
    /// Jobs a batch of streamed JSON holds.
    jobs_per_batch: usize,
}

/// A node gradient's expanded form, kept for the expanded forms that use it.
struct Expanded {
    text: Text,
    /// How loosely it binds.
    prec: Prec,
    /// Its length in plain characters.
    chars: usize,
}

/// One independent piece of the report.
#[derive(Clone, Copy)]
enum Job {
    Given(SymbolId),
    /// A gradient, at its position in the backward order.
    Gradient(SymbolId, usize),
    Update(SymbolId),
}

/// A definition made by the gradient at `position` of the backward order.
type Defined = (usize, String, Definition);

/// What is written before the independent pieces: the forward pass, and the definitions the
/// node gradients' expanded forms made.
struct Head {
    forward: Map<ForwardStep>,
    definitions: Vec<Defined>,
}

/// Where a thread puts the pieces it writes.
trait Collect: Send {
    /// Room for `jobs` pieces.
    fn for_jobs(jobs: usize) -> Self;
    fn given(&mut self, name: &str, given: Given);
    fn gradient(&mut self, name: &str, step: GradientStep);
    fn update(&mut self, name: &str, update: UpdateStep);
}

/// Pieces kept for the report.
#[derive(Default)]
struct Kept {
    given: Vec<(String, Given)>,
    gradients: Vec<(String, GradientStep)>,
    updates: Vec<(String, UpdateStep)>,
}

impl Collect for Kept {
    fn for_jobs(_: usize) -> Self {
        Kept::default()
    }
    fn given(&mut self, name: &str, given: Given) {
        self.given.push((name.to_string(), given));
    }
    fn gradient(&mut self, name: &str, step: GradientStep) {
        self.gradients.push((name.to_string(), step));
    }
    fn update(&mut self, name: &str, update: UpdateStep) {
        self.updates.push((name.to_string(), update));
    }
}

/// Pieces serialized as JSON object members, each preceded by a comma.
struct Serialized(Vec<u8>);

/// Room a serialized piece gets: more than most take (the untouched part of a reservation
/// costs nothing), so the text is seldom copied to a larger buffer.
const BYTES_PER_PIECE: usize = 2048;

impl Serialized {
    fn member(&mut self, name: &str, value: &impl Serialize) {
        self.0.push(b',');
        json::append(&mut self.0, name).expect("a name serializes");
        self.0.push(b':');
        json::append(&mut self.0, value).expect("a report serializes");
    }
}

impl Collect for Serialized {
    fn for_jobs(jobs: usize) -> Self {
        Serialized(Vec::with_capacity(jobs * BYTES_PER_PIECE))
    }
    fn given(&mut self, name: &str, given: Given) {
        self.member(name, &given);
    }
    fn gradient(&mut self, name: &str, step: GradientStep) {
        self.member(name, &step);
    }
    fn update(&mut self, name: &str, update: UpdateStep) {
        self.member(name, &update);
    }
}

/// Jobs a batch of the streamed JSON holds: enough for every core, few enough that the
/// batch's text is small.
const JOBS_PER_BATCH: usize = 1 << 14;

impl Shared<'_> {
    /// The forward steps (on all cores), and the node gradients' expanded forms in backward
    /// order (each is inlined into the next; the rest of their steps is written with the other
    /// gradients).
    fn head(&mut self, order: &[SymbolId]) -> Head {
        let network = self.network;
        let shared = &*self;
        // A forward step prints a whole equation: worth a thread at an eighth of the steps.
        // Pieces of an eighth of that: a layer's sums cost far more than its activations.
        let per_thread = (self.steps_per_thread / 8).max(1);
        let (steps, _) = map_pieces(
            &network.equations,
            (per_thread / 8).max(1),
            per_thread,
            || Writer::new(shared),
            |writer, equations| {
                let steps: Vec<ForwardStep> =
                    equations.iter().map(|eq| writer.forward_step(eq)).collect();
                steps
            },
        );
        let names = network
            .equations
            .iter()
            .map(|eq| network.name(eq.node).to_string());
        let mut forward = map_with_room(network.equations.len());
        forward.extend(names.zip(steps.into_iter().flatten()));
        let writer = Writer::new(self);
        let mut expanded = FxHashMap::default();
        for (position, &id) in order.iter().enumerate() {
            if let Some(gradient) = self.derivation.gradient(id)
                && network.symbol(id).is_node()
            {
                let (text, prec) = writer.expanded_text(position, gradient, &expanded);
                let chars = text.plain.chars().count();
                expanded.insert(id, Expanded { text, prec, chars });
            }
        }
        let definitions = writer.definitions.into_inner();
        self.expanded = expanded;
        Head {
            forward,
            definitions,
        }
    }

    /// The gradients and updates: one job each (the given values are jobs of `build` only: the
    /// streamed JSON has their section ready-made).
    fn jobs(&self, order: &[SymbolId]) -> [Vec<Job>; 2] {
        let network = self.network;
        [
            order
                .iter()
                .enumerate()
                .map(|(position, &id)| Job::Gradient(id, position))
                .collect(),
            network.params().map(Job::Update).collect(),
        ]
    }

    /// Runs `jobs` on all cores, each thread with its own writer, handing what each piece
    /// collected to `consume` in job order as it is ready; returns the definitions the writers
    /// made.
    fn run<C: Collect, E>(
        &self,
        jobs: &[Job],
        consume: impl FnMut(C) -> Result<(), E>,
    ) -> Result<Vec<Defined>, E> {
        // Small pieces: gradients differ a lot in cost (an input's sums over a whole layer).
        let piece = (self.steps_per_thread / 8).max(1);
        let writers = for_each_piece(
            jobs,
            piece,
            self.steps_per_thread,
            || Writer::new(self),
            |writer, jobs| {
                let mut collected = C::for_jobs(jobs.len());
                for &job in jobs {
                    writer.write(job, &mut collected);
                }
                collected
            },
            consume,
        )?;
        Ok(writers
            .into_iter()
            .flat_map(|writer| writer.definitions.into_inner())
            .collect())
    }

    fn build(mut self, order: &[SymbolId], warnings: Vec<String>) -> Report {
        let network = self.network;
        let mut head = self.head(order);
        let mut definitions = std::mem::take(&mut head.definitions);
        let jobs: Vec<Job> = network
            .given()
            .map(Job::Given)
            .chain(self.jobs(order).concat())
            .collect();
        let mut given = map_with_room(network.symbols.len());
        let mut gradients = map_with_room(order.len());
        let mut updates = map_with_room(network.symbols.len());
        let defined = self.run(&jobs, |kept: Kept| {
            given.extend(kept.given);
            gradients.extend(kept.gradients);
            updates.extend(kept.updates);
            Ok::<(), std::convert::Infallible>(())
        });
        definitions.extend(defined.unwrap_or_else(|never| match never {}));
        Report {
            title: network.title.clone(),
            seed: network.seed,
            precision: describe_precision(self.rounding.precision),
            rounding: rounding_name(self.rounding.mode),
            loss_name: network.name(network.loss).to_string(),
            given,
            forward: head.forward,
            gradients,
            definitions: first_use(definitions),
            updates,
            loss: self.loss(),
            calculator: None,
            warnings,
        }
    }

    /// `build`, serialized as it is built: the members of `Report` in its order (a test holds
    /// the two to the same text).
    fn write_json(
        mut self,
        order: &[SymbolId],
        given: &[u8],
        warnings: &[String],
        out: &mut dyn Write,
    ) -> io::Result<()> {
        let network = self.network;
        let mut head = self.head(order);
        let mut definitions = std::mem::take(&mut head.definitions);
        let [gradients, updates] = self.jobs(order);
        let mut first = true;
        let mut key = |out: &mut dyn Write, key: &str| {
            out.write_all(if first { b"{" } else { b"," })?;
            first = false;
            write!(out, "\"{key}\":")
        };
        key(out, "title")?;
        json(out, &network.title)?;
        key(out, "seed")?;
        json(out, &network.seed)?;
        key(out, "precision")?;
        json(out, &describe_precision(self.rounding.precision))?;
        key(out, "rounding")?;
        json(out, &rounding_name(self.rounding.mode))?;
        key(out, "loss_name")?;
        json(out, &network.name(network.loss))?;
        key(out, "given")?;
        out.write_all(given)?;
        key(out, "forward")?;
        json(out, &head.forward)?;
        key(out, "gradients")?;
        self.stream(&gradients, &mut definitions, out)?;
        key(out, "definitions")?;
        json(out, &first_use(definitions))?;
        key(out, "updates")?;
        self.stream(&updates, &mut Vec::new(), out)?;
        key(out, "loss")?;
        json(out, &self.loss())?;
        key(out, "calculator")?;
        out.write_all(b"null")?;
        key(out, "warnings")?;
        json(out, &warnings)?;
        out.write_all(b"}")
    }

    /// A section's members, built and serialized in batches on all cores.
    fn stream(
        &self,
        jobs: &[Job],
        definitions: &mut Vec<Defined>,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        out.write_all(b"{")?;
        let mut first = true;
        for batch in jobs.chunks(self.jobs_per_batch) {
            // Written as the pieces come in, while the rest are being made.
            let defined = self.run(batch, |Serialized(text)| {
                // Every member starts with a comma; the section's first needs none.
                let text = match text.split_first() {
                    None => return Ok(()),
                    Some((_, rest)) if first => rest,
                    Some(_) => &text[..],
                };
                first = false;
                out.write_all(text)
            })?;
            definitions.extend(defined);
        }
        out.write_all(b"}")
    }

    /// The loss before and after the update.
    fn loss(&self) -> Map<LossValues> {
        let network = self.network;
        let writer = Writer::new(self);
        let id = network.loss;
        let value = self.values.value(id).expect("the loss is evaluated");
        let after = self.values.loss_after.as_ref();
        Map::from_iter([(
            network.name(id).to_string(),
            LossValues {
                name_latex: network.symbol(id).latex.clone(),
                value: writer.value(value, self.closed.sym(Sym::Value(id))),
                after: after.map(|real| writer.value(real, None)),
            },
        )])
    }
}

/// One JSON value.
fn json(out: &mut dyn Write, value: &impl Serialize) -> io::Result<()> {
    serde_json::to_writer(out, value).map_err(io::Error::from)
}

/// `half-up` or `half-even`.
fn rounding_name(mode: RoundingMode) -> &'static str {
    match mode {
        RoundingMode::HalfUp => "half-up",
        RoundingMode::HalfEven => "half-even",
    }
}

/// Each definition where it is first used, as if written in one pass.
fn first_use(mut definitions: Vec<Defined>) -> Map<Definition> {
    definitions.sort_by_key(|&(position, _, _)| position);
    let mut first = Map::default();
    for (_, key, definition) in definitions {
        first.entry(key).or_insert(definition);
    }
    first
}

/// A map with room for `capacity` entries, allocated once (entries are large, and a report has
/// as many as the network has parameters).
fn map_with_room<V>(capacity: usize) -> Map<V> {
    Map::with_capacity_and_hasher(capacity, Default::default())
}

/// Writes report steps on one thread, memoizing what it prints.
struct Writer<'s> {
    shared: &'s Shared<'s>,
    /// Definitions made so far (each once a writer, at the earliest position the writer has
    /// used it: a writer may take its pieces out of order), and where each gradient's is.
    definitions: RefCell<Vec<Defined>>,
    defined: RefCell<FxHashMap<SymbolId, usize>>,
    /// Subexpressions printed in names: plain, plain closed form, LaTeX, LaTeX closed form.
    name_memos: [PrintMemo; 4],
}

impl<'s> Writer<'s> {
    fn new(shared: &'s Shared<'s>) -> Self {
        Writer {
            shared,
            definitions: RefCell::default(),
            defined: RefCell::default(),
            name_memos: Default::default(),
        }
    }

    fn write<C: Collect>(&self, job: Job, collected: &mut C) {
        let name = |id: SymbolId| self.shared.network.name(id);
        match job {
            Job::Given(id) => {
                if let Some(given) = self.given(id) {
                    collected.given(name(id), given);
                }
            }
            Job::Gradient(id, position) => {
                if let Some(step) = self.gradient_step(id, position) {
                    collected.gradient(name(id), step);
                }
            }
            Job::Update(id) => {
                if let Some(update) = self.update_step(id) {
                    collected.update(name(id), update);
                }
            }
        }
    }

    fn given(&self, id: SymbolId) -> Option<Given> {
        given_entry(
            self.shared.network,
            id,
            self.shared.rounding,
            self.shared.latex,
        )
    }

    fn forward_step(&self, equation: &Equation) -> ForwardStep {
        let id = equation.node;
        let real = self
            .shared
            .values
            .value(id)
            .expect("every node is evaluated");
        let network = self.shared.network;
        let display = |notation: Notation, numbers: bool| {
            let substitute =
                |s: SymbolId| numbers.then(|| self.number_text(Sym::Value(s), notation));
            Display {
                network,
                latex: notation == Notation::Latex,
                substitute: &substitute,
            }
            .body(&equation.body)
        };
        ForwardStep {
            name_latex: network.symbol(id).latex.clone(),
            equation: self.both(|notation| display(notation, false)),
            substituted: self.both(|notation| display(notation, true)),
            value: self.value(real, self.shared.closed.sym(Sym::Value(id))),
        }
    }

    /// The gradient step at `position` of the backward order, with how loosely its expanded
    /// form binds; `expanded` holds the node gradients' expanded forms written so far.
    fn gradient_step(&self, id: SymbolId, position: usize) -> Option<GradientStep> {
        let gradient = self.shared.derivation.gradient(id)?;
        let real = self.shared.values.gradient(id)?;
        let kind = match self.shared.network.symbol(id).kind {
            SymbolKind::Node => "node",
            SymbolKind::Declared(kind) => kind.keyword(),
        };
        let terms = gradient
            .terms
            .iter()
            .map(|term| {
                let local = self.names(term.local_nodes);
                Term {
                    child: self.shared.network.name(term.child).to_string(),
                    local_raw: self.names_again(term.local, (term.local_nodes, &local)),
                    local,
                }
            })
            .collect();
        // A node's expanded form was written with the head; the others use it.
        let expanded = match self.shared.expanded.get(&id) {
            Some(node) => node.text.clone(),
            None => {
                self.expanded_text(position, gradient, &self.shared.expanded)
                    .0
            }
        };
        let chain = self.names(gradient.chain);
        Some(GradientStep {
            kind,
            symbol: self.grad_text(id),
            partials: self.partials(id, &gradient.terms),
            chain_raw: self.names_again(gradient.chain_raw, (gradient.chain, &chain)),
            factored: self.names_again(gradient.factored, (gradient.chain, &chain)),
            chain,
            expanded,
            substituted: self.numbers(gradient.factored),
            terms,
            value: self.value(real, self.shared.closed.sym(Sym::Grad(id))),
        })
    }

    /// The expanded form as printed: the chain rule with every child gradient replaced by its
    /// own expanded form, or by its name when that is longer than `INLINE_CHARS`.
    fn expanded_text(
        &self,
        position: usize,
        gradient: &Gradient,
        expanded: &FxHashMap<SymbolId, Expanded>,
    ) -> (Text, Prec) {
        for term in &gradient.terms {
            let Some(long) = expanded.get(&term.child) else {
                continue;
            };
            if long.chars <= INLINE_CHARS {
                continue;
            }
            let mut definitions = self.definitions.borrow_mut();
            match self.defined.borrow_mut().entry(term.child) {
                Entry::Occupied(made) => {
                    let earliest = &mut definitions[*made.get()].0;
                    *earliest = (*earliest).min(position);
                }
                Entry::Vacant(slot) => {
                    slot.insert(definitions.len());
                    let definition = Definition {
                        symbol: self.grad_text(term.child),
                        expanded: long.text.clone(),
                    };
                    definitions.push((
                        position,
                        grad_in(self.shared.network, term.child, Notation::Plain),
                        definition,
                    ));
                }
            }
        }
        let network = self.shared.network;
        let atom = |notation: Notation| {
            move |sym: Sym, out: &mut String| match sym {
                Sym::Grad(child) => match expanded.get(&child) {
                    Some(inline) if inline.chars <= INLINE_CHARS => {
                        out.push_str(match notation {
                            Notation::Plain => &inline.text.plain,
                            Notation::Latex => &inline.text.latex,
                        });
                        Atom::Printed(inline.prec)
                    }
                    _ => write_name(network, sym, notation, out),
                },
                Sym::Value(_) => write_name(network, sym, notation, out),
            }
        };
        let chain = gradient.chain;
        let (plain, prec) =
            self.print_prec(chain, Notation::Plain, false, &atom(Notation::Plain), None);
        let latex = if self.shared.latex {
            self.print(chain, Notation::Latex, false, &atom(Notation::Latex))
        } else {
            String::new()
        };
        (Text { plain, latex }, prec)
    }

    fn update_step(&self, id: SymbolId) -> Option<UpdateStep> {
        let rate = self.shared.network.rate?;
        let real = self.shared.values.updated(id)?;
        self.shared.values.gradient(id)?;
        let (name, rate_symbol) = (
            self.shared.network.symbol(id),
            self.shared.network.symbol(rate),
        );
        let grad = self.grad_text(id);
        // p - eta*g, with a negative eta or g in parentheses; `times` between eta and g.
        let substituted_in = |notation, times: &str| {
            let mut text = String::with_capacity(64);
            self.write_number(Sym::Value(id), notation, &mut text);
            text.push_str(" - ");
            for (sym, after) in [(Sym::Value(rate), times), (Sym::Grad(id), "")] {
                let start = text.len();
                self.write_number(sym, notation, &mut text);
                if text[start..].starts_with('-') {
                    text.insert(start, '(');
                    text.push(')');
                }
                text.push_str(after);
            }
            text
        };
        let mut substituted = Text {
            plain: substituted_in(Notation::Plain, "*"),
            latex: String::new(),
        };
        let mut formula = Text {
            plain: [&name.name, " - ", &rate_symbol.name, "*", &grad.plain].concat(),
            latex: String::new(),
        };
        if self.shared.latex {
            substituted.latex = substituted_in(Notation::Latex, " \\cdot ");
            formula.latex = [&name.latex, " - ", &rate_symbol.latex, " ", &grad.latex].concat();
        }
        let symbol = self.both(|notation| match notation {
            Notation::Plain => [&name.name, "_new"].concat(),
            Notation::Latex => ["{", &name.latex, "}^{\\mathrm{new}}"].concat(),
        });
        Some(UpdateStep {
            symbol,
            formula,
            substituted,
            value: self.value(real, self.shared.closed.updated(id)),
        })
    }

    /// `dL/dh21*dh21/da11 + ...`
    fn partials(&self, id: SymbolId, terms: &[ChainTerm]) -> Text {
        let network = self.shared.network;
        let of = network.symbol(id);
        if terms.len() == 1 && terms[0].child == network.loss {
            // ∂L/∂y_pred is its own chain rule: nothing to expand.
            return Text::default();
        }
        self.both(|notation| {
            let mut text = String::new();
            for (i, term) in terms.iter().enumerate() {
                if i > 0 {
                    text.push_str(" + ");
                }
                if term.child == network.loss {
                    write_grad(network, id, notation, &mut text);
                    continue;
                }
                let child = network.symbol(term.child);
                write_grad(network, term.child, notation, &mut text);
                match notation {
                    Notation::Plain => {
                        for part in ["*d", &child.name, "/d", &of.name] {
                            text.push_str(part);
                        }
                    }
                    Notation::Latex => {
                        for part in [
                            " \\frac{\\partial ",
                            &child.latex,
                            "}{\\partial ",
                            &of.latex,
                            "}",
                        ] {
                            text.push_str(part);
                        }
                    }
                }
            }
            text
        })
    }

    /// `dL/dw1` and (when wanted) `\frac{\partial L}{\partial w_{1}}`.
    fn grad_text(&self, id: SymbolId) -> Text {
        self.both(|notation| grad_in(self.shared.network, id, notation))
    }

    /// A text in plain notation, and in LaTeX when the output wants it.
    fn both(&self, text: impl Fn(Notation) -> String) -> Text {
        both(self.shared.latex, text)
    }

    fn print(
        &self,
        id: ExprId,
        notation: Notation,
        closed_form: bool,
        atom: &dyn Fn(Sym, &mut String) -> Atom,
    ) -> String {
        self.print_prec(id, notation, closed_form, atom, None).0
    }

    /// Prints in names, reusing every subexpression printed before with the same options.
    fn print_names(&self, id: ExprId, notation: Notation, closed_form: bool) -> String {
        let network = self.shared.network;
        let atom = |sym: Sym, out: &mut String| write_name(network, sym, notation, out);
        let memo = &self.name_memos
            [usize::from(notation == Notation::Latex) * 2 + usize::from(closed_form)];
        self.print_prec(id, notation, closed_form, &atom, Some(memo))
            .0
    }

    fn print_prec(
        &self,
        id: ExprId,
        notation: Notation,
        closed_form: bool,
        atom: &dyn Fn(Sym, &mut String) -> Atom,
        memo: Option<&PrintMemo>,
    ) -> (String, Prec) {
        let rank = |sym: Sym| match sym {
            Sym::Value(s) | Sym::Grad(s) => self.shared.rank[s.index()],
        };
        Printer {
            pool: &self.shared.derivation.pool,
            notation,
            atom,
            rank: &rank,
            closed_form,
            memo,
        }
        .print_with_prec(id)
    }

    /// An expression in names (memoized: locals and chain forms repeat a lot).
    fn names(&self, id: ExprId) -> Text {
        self.both(|notation| self.print_names(id, notation, false))
    }

    /// `names(id)`, copied from `printed` when that is the same expression (the forms of a
    /// chain rule, and a local in nodes and as differentiated, mostly are).
    fn names_again(&self, id: ExprId, (printed_id, printed): (ExprId, &Text)) -> Text {
        if id == printed_id {
            printed.clone()
        } else {
            self.names(id)
        }
    }

    /// An expression with this run's rounded numbers in place of its symbols.
    fn numbers(&self, id: ExprId) -> Text {
        self.both(|notation| {
            let atom = |sym: Sym, out: &mut String| {
                self.write_number(sym, notation, out);
                Atom::Number
            };
            self.print(id, notation, false, &atom)
        })
    }

    /// A symbol's number as substituted into a formula: the exact decimal of a given
    /// value when it terminates, else the value or gradient rounded to the report's precision,
    /// else (no value) its name.
    fn number_text(&self, sym: Sym, notation: Notation) -> String {
        let mut text = String::new();
        self.write_number(sym, notation, &mut text);
        text
    }

    /// `number_text`, written onto `out`.
    fn write_number(&self, sym: Sym, notation: Notation, out: &mut String) {
        let (index, id) = match sym {
            Sym::Value(id) => (2 * id.index(), id),
            Sym::Grad(id) => (2 * id.index() + 1, id),
        };
        let text = self.shared.numbers[usize::from(notation == Notation::Latex)][index]
            .get_or_init(|| {
                let values = self.shared.values;
                let rounding = self.shared.rounding;
                match sym {
                    Sym::Value(_) => match (self.exact_decimal(id), values.value(id)) {
                        (Some(exact), _) => exact.to_string(),
                        (None, Some(real)) => number::format(&round(real, rounding), notation),
                        (None, None) => self.shared.network.symbol(id).name.clone(),
                    },
                    Sym::Grad(_) => match values.gradient(id) {
                        Some(real) => number::format(&round(real, rounding), notation),
                        None => grad_in(self.shared.network, id, Notation::Plain),
                    },
                }
            });
        out.push_str(text);
    }

    /// A given value's exact decimal, when it terminates.
    fn exact_decimal(&self, id: SymbolId) -> Option<&'s str> {
        let symbol = self.shared.network.symbol(id);
        if symbol.is_node() {
            return None;
        }
        self.shared.exact[id.index()]
            .get_or_init(|| symbol.value.as_ref().and_then(number::exact_decimal))
            .as_deref()
    }

    /// The rounded value and the exact form: the fraction, or the closed form when one was found.
    fn value(&self, real: &Real, closed: Option<ExprId>) -> Value {
        let exact = match real.as_exact() {
            Some(q) => Some(self.both(|notation| rational_in(q, notation))),
            None => closed.map(|expr| self.both(|notation| self.print_names(expr, notation, true))),
        };
        let rational = real.as_exact().is_some();
        value_of(
            &round(real, self.shared.rounding),
            exact,
            rational,
            self.shared.latex,
        )
    }
}

/// The backward order the slides teach: nodes from the loss back, each declared quantity right
/// after the last node whose gradient it needs.
pub fn backward_order(network: &Network, derivation: &Derivation) -> Vec<SymbolId> {
    // By symbol index: the declared quantities' uses not yet passed, and each node's users.
    let mut remaining = vec![0usize; network.symbols.len()];
    let mut users_of: Vec<Vec<SymbolId>> = vec![Vec::new(); network.symbols.len()];
    for id in network.given() {
        if let Some(gradient) = derivation.gradient(id) {
            remaining[id.index()] = gradient.terms.len();
            for term in &gradient.terms {
                users_of[term.child.index()].push(id);
            }
        }
    }
    let mut order = Vec::new();
    for equation in network.equations.iter().rev() {
        let node = equation.node;
        if derivation.gradient(node).is_none() {
            continue;
        }
        // ∂L/∂L = 1 is not a step worth printing.
        if node != network.loss {
            order.push(node);
        }
        let mut ready: Vec<SymbolId> = Vec::new();
        for &declared in &users_of[node.index()] {
            let left = &mut remaining[declared.index()];
            *left -= 1;
            if *left == 0 {
                ready.push(declared);
            }
        }
        ready.sort();
        ready.dedup();
        order.extend(ready);
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Source;
    use crate::eval::decimal::Precision;
    use crate::pipeline;

    /// A report written on many threads is the one written on one, definitions included.
    #[test]
    fn threads_do_not_change_the_report() {
        let spec = "mlp 6 -> 5 sigmoid -> 4 tanh -> 3 sigmoid\n\
                    inputs x = [0.1, -0.2, 0.3, -0.4, 0.5, 0.25]\n\
                    targets y = [1, 0, 1]\n\
                    weights = uniform(-0.5, 0.5, step 0.01)\n\
                    loss half_squared_error\nrate eta = 0.1\n";
        let loaded =
            pipeline::load_source(Source::new("t.bp".to_string(), spec.to_string()), Some(3))
                .unwrap_or_else(|_| panic!("the spec loads"));
        let rounding = Rounding {
            precision: Precision::Significant(6),
            mode: RoundingMode::HalfUp,
        };
        fn builder<'a>(
            network: &'a Network,
            derivation: &'a mut Derivation,
            values: &'a Values,
            rounding: Rounding,
            (steps, latex): (usize, bool),
        ) -> ReportBuilder<'a> {
            let mut builder = ReportBuilder::new(network, derivation, values, rounding);
            builder.steps_per_thread = steps;
            builder.jobs_per_batch = steps.saturating_mul(3);
            builder.latex = latex;
            builder
        }
        let report = |steps: usize, latex: bool| {
            let mut derivation = pipeline::derivation(&loaded).unwrap_or_else(|_| panic!());
            let decided =
                pipeline::evaluate(&loaded, &derivation, &[rounding]).unwrap_or_else(|_| panic!());
            let warnings = vec!["a warning".to_string()];
            let network = &loaded.network;
            let built = builder(
                network,
                &mut derivation,
                &decided.values,
                rounding,
                (steps, latex),
            )
            .build(warnings.clone());
            let mut streamed = Vec::new();
            builder(
                network,
                &mut derivation,
                &decided.values,
                rounding,
                (steps, latex),
            )
            .write_json(
                &GivenSection::write(network, rounding, latex),
                warnings,
                &mut streamed,
            )
            .unwrap();
            let built = serde_json::to_string(&built).unwrap();
            assert_eq!(
                String::from_utf8(streamed).unwrap(),
                built,
                "streamed JSON, {steps} steps a thread"
            );
            built
        };
        for latex in [false, true] {
            let one = report(usize::MAX, latex);
            assert!(
                one.contains("\"definitions\":{\"dL/d"),
                "the spec has definitions"
            );
            for steps in [1, 2, 7, 50] {
                assert_eq!(one, report(steps, latex), "{steps} steps a thread");
            }
        }
    }
}
