//! The worksheet model: what one variant's student sheet and answer key show, as rendered
//! strings. The templates lay it out; `--dump-context` prints it as JSON (documented in
//! docs/templates.md).

use num_rational::BigRational;
use serde::Serialize;

use super::questions::{Asked, Section};
use crate::graph::Network;
use crate::render::report::{Report, Text};
use crate::symbolic::print::plain_rational;

/// A given value on the sheet.
#[derive(Clone, Debug, Serialize)]
pub struct Given {
    /// The name as written in the spec.
    pub name: String,
    /// The name in LaTeX.
    pub name_latex: String,
    /// `input`, `param`, `target`, `const`, `rate`, or `node` for a forward value given so the
    /// student can start from it.
    pub kind: &'static str,
    /// The value (exact decimal for given quantities, rounded for computed ones).
    pub value: String,
    /// The value in LaTeX.
    pub value_latex: String,
}

/// One step of a worked answer: `= (dL/dh21 + dL/dh22) w3`.
#[derive(Clone, Debug, Serialize)]
pub struct Step {
    /// What the step shows: `chain rule`, `factored`, `substituted`, `exact`, ...
    pub label: &'static str,
    /// The right-hand side in LaTeX.
    pub latex: String,
    /// The right-hand side in plain text.
    pub plain: String,
}

/// The answer to a question.
#[derive(Clone, Debug, Serialize)]
pub struct Answer {
    /// The working, one step a line.
    pub steps: Vec<Step>,
    /// The exact value (fraction or closed form), LaTeX; `null` when the closed form is too
    /// large to print.
    pub exact_latex: Option<String>,
    /// Whether the exact value is rational.
    pub rational: bool,
    /// The correctly rounded value.
    pub value: String,
    /// The correctly rounded value in LaTeX.
    pub value_latex: String,
    /// The value a student gets rounding every intermediate, when it differs
    /// (`--rounded-intermediates`).
    pub calculator: Option<String>,
    /// Half a unit in the last printed place: the tolerance of a numerical question.
    pub tolerance: String,
}

/// One question.
#[derive(Clone, Debug, Serialize)]
pub struct Question {
    /// 1-based number over the whole sheet.
    pub number: usize,
    /// The quantity: `a11`, `dL/dw5`, `w5_new`, `L_new`.
    pub quantity: String,
    /// What to compute, in LaTeX: `a_{11}`, `\frac{\partial L}{\partial w_{5}}`.
    pub prompt_latex: String,
    /// Points, as a number (`1`, `1.5`).
    pub points: String,
    /// The answer (printed on keys only).
    pub answer: Answer,
}

/// A group of questions.
#[derive(Clone, Debug, Serialize)]
pub struct SheetSection {
    /// `forward`, `backward`, `update`, `loss_after`.
    pub id: &'static str,
    /// The heading.
    pub title: &'static str,
    /// One sentence saying what to do.
    pub instructions: &'static str,
    /// The questions.
    pub questions: Vec<Question>,
}

/// One variant's sheet.
#[derive(Clone, Debug, Serialize)]
pub struct Sheet {
    /// The spec's title.
    pub title: String,
    /// `A`, `B`, ...
    pub variant: String,
    /// The seed this variant was drawn with (`--seed SEED --variants 1` regenerates it).
    pub seed: u64,
    /// `4 significant figures`.
    pub precision: String,
    /// `half-up` or `half-even`.
    pub rounding: &'static str,
    /// The loss name in LaTeX.
    pub loss_latex: String,
    /// The learning rate's name in LaTeX, if the spec has one.
    pub rate_latex: Option<String>,
    /// The given values (student sheets leave out the hidden ones).
    pub given: Vec<Given>,
    /// The questions by section.
    pub sections: Vec<SheetSection>,
    /// The sum of the points.
    pub total_points: String,
}

/// Exact forms longer than this (in plain characters) are left off answer keys.
pub const EXACT_CHARS: usize = 80;

/// Builds the sheet of one variant from its report.
pub fn build(network: &Network, report: &Report, asked: &[Asked], variant: String) -> Sheet {
    let asked_forward: Vec<&str> = asked
        .iter()
        .filter(|a| a.section == Section::Forward)
        .map(|a| a.name.as_str())
        .collect();
    let mut given: Vec<Given> = report
        .given
        .iter()
        .map(|(name, g)| Given {
            name: name.clone(),
            name_latex: g.name_latex.clone(),
            kind: g.kind,
            value: g.value.value.clone(),
            value_latex: g.value.value_latex.clone(),
        })
        .collect();
    // Forward values nobody asks for are given, so a backward-only sheet can start from them.
    given.extend(
        report
            .forward
            .iter()
            .filter(|(name, _)| !asked_forward.contains(&name.as_str()) && !asked.is_empty())
            .filter(|(name, _)| {
                asked.iter().any(|a| a.section != Section::Forward)
                    || !asked_forward.contains(&name.as_str())
            })
            .map(|(name, step)| Given {
                name: name.clone(),
                name_latex: step.name_latex.clone(),
                kind: "node",
                value: step.value.value.clone(),
                value_latex: step.value.value_latex.clone(),
            }),
    );
    let hidden: Vec<&str> = network.hidden.iter().map(|&id| network.name(id)).collect();
    given.retain(|g| !hidden.contains(&g.name.as_str()));

    let mut number = 0;
    let mut sections = Vec::new();
    let mut total = BigRational::from_integer(0.into());
    for section in [
        Section::Forward,
        Section::Backward,
        Section::Update,
        Section::LossAfter,
    ] {
        let questions: Vec<Question> = asked
            .iter()
            .filter(|a| a.section == section)
            .filter_map(|a| {
                let mut question = question(report, a)?;
                number += 1;
                question.number = number;
                total += &a.points;
                Some(question)
            })
            .collect();
        if questions.is_empty() {
            continue;
        }
        let (id, title, instructions) = match section {
            Section::Forward => (
                "forward",
                "Forward pass",
                "Compute each value from the given values.",
            ),
            Section::Backward => (
                "backward",
                "Backward pass",
                "Compute each gradient by the chain rule, from the output back: the sum over the next layer's gradients times the weight, times the activation's derivative.",
            ),
            Section::Update => (
                "update",
                "Weight update",
                "Compute each new parameter value p - eta dL/dp.",
            ),
            Section::LossAfter => (
                "loss_after",
                "Loss after the update",
                "Recompute the loss with the updated parameters.",
            ),
        };
        sections.push(SheetSection {
            id,
            title,
            instructions,
            questions,
        });
    }
    let rate_latex = network.rate.map(|r| network.symbol(r).latex.clone());
    Sheet {
        title: report.title.clone(),
        variant,
        seed: report.seed,
        precision: report.precision.clone(),
        rounding: report.rounding,
        loss_latex: network.symbol(network.loss).latex.clone(),
        rate_latex,
        given,
        sections,
        total_points: points_text(&total),
    }
}

fn step(label: &'static str, text: &Text) -> Step {
    Step {
        label,
        latex: text.latex.clone(),
        plain: text.plain.clone(),
    }
}

/// Drops steps that repeat the one before (a chain rule with one term needs no factoring).
fn distinct(steps: Vec<Step>) -> Vec<Step> {
    let mut kept: Vec<Step> = Vec::new();
    for step in steps {
        if !step.latex.is_empty() && kept.last().is_none_or(|last| last.latex != step.latex) {
            kept.push(step);
        }
    }
    kept
}

fn question(report: &Report, asked: &Asked) -> Option<Question> {
    let calculator = |quantity: &str, value: &str| {
        report
            .calculator
            .as_ref()
            .and_then(|c| c.values.get(quantity))
            .filter(|v| v.as_str() != value)
            .cloned()
    };
    let (quantity, prompt_latex, steps, value) = match asked.section {
        Section::Forward => {
            let step_ = report.forward.get(&asked.name)?;
            let steps = vec![
                step("equation", &step_.equation),
                step("substituted", &step_.substituted),
            ];
            (
                asked.name.clone(),
                step_.name_latex.clone(),
                steps,
                &step_.value,
            )
        }
        Section::Backward => {
            let grad = report.gradients.get(&asked.name)?;
            let steps = vec![
                step("chain rule", &grad.partials),
                step("local derivatives", &grad.chain),
                step("factored", &grad.factored),
                step("substituted", &grad.substituted),
            ];
            (
                grad.symbol.plain.clone(),
                grad.symbol.latex.clone(),
                steps,
                &grad.value,
            )
        }
        Section::Update => {
            let update = report.updates.get(&asked.name)?;
            let steps = vec![
                step("update rule", &update.formula),
                step("substituted", &update.substituted),
            ];
            (
                update.symbol.plain.clone(),
                update.symbol.latex.clone(),
                steps,
                &update.value,
            )
        }
        Section::LossAfter => {
            let loss = report.loss.get(&asked.name)?;
            let after = loss.after.as_ref()?;
            (
                format!("{}_new", asked.name),
                format!("{{{}}}^{{\\mathrm{{new}}}}", loss.name_latex),
                Vec::new(),
                after,
            )
        }
    };
    Some(Question {
        number: 0,
        quantity: quantity.clone(),
        prompt_latex,
        points: points_text(&asked.points),
        answer: Answer {
            steps: distinct(steps),
            // A key prints the exact form inline; longer ones would run off the page.
            exact_latex: value
                .exact
                .as_ref()
                .filter(|e| e.plain.chars().count() <= EXACT_CHARS)
                .map(|e| e.latex.clone()),
            rational: value.rational,
            calculator: calculator(&quantity, &value.value),
            value: value.value.clone(),
            value_latex: value.value_latex.clone(),
            tolerance: value.tolerance.clone(),
        },
    })
}

/// Points as a short number: `1`, `1.5`, `1/3`.
pub fn points_text(points: &BigRational) -> String {
    crate::render::number::exact_decimal(points).unwrap_or_else(|| plain_rational(points))
}
