//! What the checker says: one finding per step of a derivation, the mistake catalogue's names,
//! and the score.

use serde::Serialize;

/// The verdict on one step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Right.
    Correct,
    /// Wrong.
    Wrong,
    /// Wrong only because it uses the student's own earlier wrong value, and right from there.
    CarriedForward,
    /// Could not be read.
    Unreadable,
}

/// The kinds of mistake the checker names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// The activation's derivative is left out of the chain rule.
    MissingActivationDerivative,
    /// σ where σ(1 − σ) belongs (or another wrong activation derivative).
    WrongActivationDerivative,
    /// σ' evaluated at the pre-activation value: h(1 − h) where a(1 − a) belongs.
    DerivativeAtPreactivation,
    /// The sign of ∂L/∂ŷ (or of the whole gradient) is flipped.
    WrongSign,
    /// A wrong upstream gradient or weight in a chain-rule term.
    WrongTerm,
    /// A term of the sum over the children is missing (tied weights included).
    MissingTerm,
    /// The pre-activation used where the activation belongs.
    PreactivationForActivation,
    /// A stray factor 2 (the 1/2 of the loss dropped) or a halved value.
    FactorTwo,
    /// The update with the wrong sign.
    UpdateSign,
    /// The update without the learning rate.
    UpdateWithoutRate,
    /// Updated weights used in the backward pass of the same step.
    UpdatedWeightsInBackwardPass,
    /// An arithmetic slip: the numbers do not give the stated result.
    Arithmetic,
    /// Rounding intermediates too early changed the answer.
    PrematureRounding,
    /// A value that is wrong for a reason not in the catalogue.
    WrongValue,
    /// A symbolic step that does not follow, for a reason not in the catalogue.
    WrongExpression,
    /// A name that is not in the network.
    UndefinedSymbol,
    /// Consistent with an earlier mistake, which made this step trivial: no credit.
    TrivializedByEarlierError,
}

impl Kind {
    /// A one-sentence explanation a student understands.
    pub fn explanation(self) -> &'static str {
        match self {
            Kind::MissingActivationDerivative => {
                "the chain rule through an activation multiplies by the activation's derivative, and this step leaves it out"
            }
            Kind::WrongActivationDerivative => {
                "the derivative of the sigmoid is sigma(h)(1 - sigma(h)), not sigma(h) itself"
            }
            Kind::DerivativeAtPreactivation => {
                "the sigmoid's derivative is a(1 - a) with the activation a = sigma(h), not h(1 - h) with the pre-activation"
            }
            Kind::WrongSign => {
                "the sign is flipped: for L = 1/2 (y - y_pred)^2 the derivative with respect to y_pred is y_pred - y"
            }
            Kind::WrongTerm => {
                "a term of the chain rule uses the wrong upstream gradient or the wrong weight"
            }
            Kind::MissingTerm => {
                "a quantity used by several nodes gets the sum of one term per node, and a term is missing"
            }
            Kind::PreactivationForActivation => {
                "the pre-activation h appears where the activation a = f(h) belongs"
            }
            Kind::FactorTwo => {
                "the result is off by a factor of 2: the 1/2 in the loss cancels the 2 from the square"
            }
            Kind::UpdateSign => "gradient descent subtracts the gradient: p_new = p - eta dL/dp",
            Kind::UpdateWithoutRate => {
                "the update multiplies the gradient by the learning rate eta"
            }
            Kind::UpdatedWeightsInBackwardPass => {
                "the backward pass uses the weights of the forward pass, not the updated ones"
            }
            Kind::Arithmetic => "the arithmetic of this step does not give the stated result",
            Kind::PrematureRounding => {
                "rounding the intermediate values too early changed this answer; keep more digits until the end"
            }
            Kind::WrongValue => "this value does not match the correct one",
            Kind::WrongExpression => "this expression is not equal to the quantity on the left",
            Kind::UndefinedSymbol => "this name is not a quantity of the network",
            Kind::TrivializedByEarlierError => {
                "this follows from your earlier wrong value, but that error made the step trivial, so it earns no credit"
            }
        }
    }
}

/// One finding.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    /// The 1-based line of the file.
    pub line: usize,
    /// The verdict.
    pub verdict: Verdict,
    /// The kind of mistake, when wrong.
    pub kind: Option<Kind>,
    /// The quantity the step is about (`dL/dh11`, `a11`, `w5_new`), if known.
    pub quantity: Option<String>,
    /// What the student wrote, quoted.
    pub written: String,
    /// The correct expression, when the step is wrong (plain text).
    pub expected: Option<String>,
    /// The correct value, when the step is wrong.
    pub expected_value: Option<String>,
    /// The line of the earlier value this step carries forward.
    pub carried_from: Option<usize>,
    /// One sentence for the student.
    pub explanation: String,
}

/// Everything the checker says about one submission.
#[derive(Clone, Debug, Serialize)]
pub struct CheckReport {
    /// The submission's name.
    pub submission: String,
    /// The findings in line order.
    pub findings: Vec<Finding>,
    /// Points earned over points possible, 0 to 100.
    pub score: f64,
    /// Steps right (correct or carried forward with credit).
    pub credited: usize,
    /// Steps judged.
    pub total: usize,
    /// Per quantity: whether the student's final value for it earned credit.
    pub questions: Vec<(String, bool)>,
}

impl CheckReport {
    /// Whether anything is wrong or unreadable.
    pub fn has_mistakes(&self) -> bool {
        self.findings
            .iter()
            .any(|f| matches!(f.verdict, Verdict::Wrong | Verdict::Unreadable))
    }
}

/// Whether a finding earns credit.
pub fn credited(finding: &Finding) -> bool {
    matches!(finding.verdict, Verdict::Correct | Verdict::CarriedForward)
}

/// The score of a list of findings: the share of credited steps, in percent (100 when there are
/// none).
pub fn score(findings: &[Finding]) -> (f64, usize, usize) {
    let total = findings.len();
    let earned = findings.iter().filter(|f| credited(f)).count();
    let score = if total == 0 {
        100.0
    } else {
        (1000.0 * earned as f64 / total as f64).round() / 10.0
    };
    (score, earned, total)
}
