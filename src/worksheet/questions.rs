//! What a worksheet asks: from the spec's `questions` block or `--ask`, resolved against the
//! report into a list of quantities with points.

use num_rational::BigRational;

use crate::diag::{Diagnostic, Span};
use crate::graph::{Network, QuestionSpec};
use crate::render::report::Report;

/// The groups a question list may name.
pub const GROUPS: &[&str] = &["forward", "backward", "update", "loss_after"];

/// The default when neither the spec nor the command line says.
pub const DEFAULT: &[&str] = &["forward", "backward", "update", "loss_after"];

/// Which section a question belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Section {
    /// A forward value (`a11`), the loss included.
    Forward,
    /// A gradient (`dL/dw5`).
    Backward,
    /// An updated parameter (`w5_new`).
    Update,
    /// The loss after the update.
    LossAfter,
}

/// One asked quantity.
#[derive(Clone, Debug, PartialEq)]
pub struct Asked {
    /// The section.
    pub section: Section,
    /// The spec name of the quantity (node or parameter), or the loss for `LossAfter`.
    pub name: String,
    /// Points.
    pub points: BigRational,
}

/// Resolves a question list (`forward`, `backward points 2`, `w5`, ...) against a report. A name
/// asks for its gradient; `a11` asks for the forward value when written as `a11.value`.
pub fn resolve(
    network: &Network,
    report: &Report,
    questions: &[QuestionSpec],
    default_points: &BigRational,
) -> Result<Vec<Asked>, Diagnostic> {
    let mut asked: Vec<Asked> = Vec::new();
    let mut push = |section: Section, name: &str, points: &BigRational| {
        if !asked.iter().any(|a| a.section == section && a.name == name) {
            asked.push(Asked {
                section,
                name: name.to_string(),
                points: points.clone(),
            });
        }
    };
    for question in questions {
        let points = question.points.as_ref().unwrap_or(default_points);
        match question.target.as_str() {
            "forward" => report
                .forward
                .keys()
                .for_each(|name| push(Section::Forward, name, points)),
            "backward" => report
                .gradients
                .iter()
                .filter(|(_, g)| g.kind != "input" && g.kind != "const")
                .for_each(|(name, _)| push(Section::Backward, name, points)),
            "update" => report
                .updates
                .keys()
                .for_each(|name| push(Section::Update, name, points)),
            "loss_after" => {
                if report.loss.values().any(|l| l.after.is_some()) {
                    push(Section::LossAfter, &report.loss_name, points);
                }
            }
            target => {
                let (name, value) = match target.strip_suffix(".value") {
                    Some(name) => (name, true),
                    None => (target, false),
                };
                if value && report.forward.contains_key(name) {
                    push(Section::Forward, name, points);
                } else if !value && report.gradients.contains_key(name) {
                    push(Section::Backward, name, points);
                } else {
                    return Err(unknown(network, report, target, question.span));
                }
            }
        }
    }
    asked.sort_by_key(|a| a.section);
    Ok(asked)
}

fn unknown(network: &Network, report: &Report, target: &str, span: Span) -> Diagnostic {
    let diagnostic = Diagnostic::error(span, format!("nothing to ask about `{target}`"))
        .with_hint("ask `forward`, `backward`, `update`, `loss_after`, a name for its gradient, or `NAME.value` for a forward value");
    let candidates: Vec<&str> = GROUPS
        .iter()
        .copied()
        .chain(report.gradients.keys().map(String::as_str))
        .chain(network.symbols.iter().map(|s| s.name.as_str()))
        .collect();
    match crate::diag::did_you_mean(target, candidates) {
        Some(close) => diagnostic.with_hint(format!("did you mean `{close}`?")),
        None => diagnostic,
    }
}

/// Parses `--ask forward,backward,w5` into question specs (no points: the default applies).
pub fn from_flag(ask: &str) -> Vec<QuestionSpec> {
    ask.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|target| QuestionSpec {
            target: target.to_string(),
            points: None,
            span: Span::default(),
        })
        .collect()
}
