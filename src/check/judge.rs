//! Judging a derivation, step by step: every claimed `A = B` is decided.
//!
//! - A symbolic step (names in it) is decided by equivalence with the quantity the claim is about:
//!   both are evaluated at several random points of the network (random values for every given
//!   quantity, every forward value and gradient computed there) to 128 bits; identities agree
//!   everywhere, and two different analytic expressions agree at a random point with
//!   probability 0.
//! - A numeric step (numbers only) is an interval: each written number stands for what rounds to
//!   it. Its arithmetic is right when its interval meets the previous numeric side's; its value
//!   is right when the interval contains the true value.
//! - A value that is wrong may be right from the student's own earlier values: then it is
//!   carried forward from the line of the first wrong value it used, unless that earlier error
//!   made the step trivial (a 0 or a 1 where the true value is neither).
//! - A wrong step is named by the first entry of the mistake catalogue it agrees with.

use std::borrow::Cow;

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Zero};
use rustc_hash::FxHashMap;

use super::findings::{Finding, Kind, Verdict};
use super::mistakes::mutants;
use super::numbers::{enclose, meet, midpoint};
use super::read::{Claim, MathExpr, Side, Submission};
use super::resolve::{ResolveError, Resolver, Subject, is_numeric};
use crate::ast::DeclKind;
use crate::eval::calculator;
use crate::eval::decimal::{Decimal, Precision, RoundingMode, round_rational};
use crate::eval::interval::Interval;
use crate::eval::network::{Values, evaluate};
use crate::eval::numeric::Rounding;
use crate::eval::real::{Evaluator, Real};
use crate::graph::Network;
use crate::graph::sample::Rng;
use crate::render::report::write_name;
use crate::symbolic::backprop::Derivation;
use crate::symbolic::expr::{ExprId, Sym};
use crate::symbolic::print::{Notation, Printer};

/// Working precision of every evaluation here, in bits.
const PREC: u32 = 160;

/// How many random points decide a symbolic identity (six: a ReLU is active at some of them
/// and dead at others with near certainty).
const POINTS: usize = 6;

/// A value the student stated for a quantity.
#[derive(Clone, Debug)]
struct Stated {
    value: BigRational,
    line: usize,
    wrong: bool,
}

/// The checking of one submission against one network.
pub struct Judge<'a> {
    network: Network,
    derivation: &'a mut Derivation,
    grounds: Cow<'a, Grounds>,
    stated: FxHashMap<Subject, Stated>,
    findings: Vec<Finding>,
    calculator: FxHashMap<u32, Option<calculator::Route>>,
    /// `--decimals`: how expected values are rounded (else like the student's numbers).
    pub decimals: Option<u32>,
    after_update: Option<Option<Values>>,
}

impl<'a> Judge<'a> {
    /// Prepares the judging: values the spec leaves out are taken from the submission's own
    /// statements of them (`w_2 = -0.12`), then the true values and the random points are
    /// computed.
    pub fn new(
        network: &Network,
        derivation: &'a mut Derivation,
        submission: &Submission,
        grounds: &'a Grounds,
    ) -> Judge<'a> {
        let mut network = network.clone();
        let grounds = if fill_unknowns(&mut network, derivation, submission) {
            Cow::Owned(Grounds::new(&network, derivation))
        } else {
            Cow::Borrowed(grounds)
        };
        Judge {
            network,
            derivation,
            grounds,
            stated: FxHashMap::default(),
            findings: Vec::new(),
            calculator: FxHashMap::default(),
            decimals: None,
            after_update: None,
        }
    }

    /// Judges every claim and returns the findings in line order.
    pub fn run(mut self, submission: &Submission) -> Vec<Finding> {
        // Every value the student states, wherever it stands: derivations are not always written
        // in the order they are computed (the seed slides use values from below), and a value can
        // only carry forward into what depends on it anyway.
        for claim in &submission.claims {
            self.record_stated(claim);
        }
        for claim in &submission.claims {
            self.claim(claim);
        }
        for unreadable in &submission.unreadable {
            self.findings.push(Finding {
                line: unreadable.line,
                verdict: Verdict::Unreadable,
                kind: None,
                quantity: None,
                written: unreadable.text.clone(),
                expected: None,
                expected_value: None,
                carried_from: None,
                explanation: format!("this could not be read: {}", unreadable.reason),
            });
        }
        self.findings.sort_by_key(|f| f.line);
        self.findings
    }

    fn resolver(&mut self) -> Resolver<'_> {
        Resolver {
            network: &self.network,
            derivation: self.derivation,
        }
    }

    fn claim(&mut self, claim: &Claim) {
        let subject = self.resolver().subject(&claim.sides[0].expr);
        let subject_expr = subject.and_then(|s| self.resolver().subject_expr(s).ok());
        let quantity = subject.map(|s| self.subject_name(s));
        if subject.is_none() && !is_numeric(&claim.sides[0].expr) {
            // The left side is an expression: it must at least resolve.
            if let Err(error) = self.resolver().expr(&claim.sides[0].expr) {
                self.resolve_failure(&claim.sides[0], error, quantity.clone());
                return;
            }
        }
        let mut previous_numeric: Option<Interval> = None;
        let mut previous_symbolic: Option<ExprId> = subject_expr;
        if is_numeric(&claim.sides[0].expr) {
            previous_numeric = enclose(&claim.sides[0].expr);
        }
        let n_sides = claim.sides.len();
        for (index, side) in claim.sides.iter().enumerate().skip(1) {
            if is_numeric(&side.expr) {
                let Some(interval) = enclose(&side.expr) else {
                    self.push(
                        side,
                        Verdict::Unreadable,
                        None,
                        quantity.clone(),
                        None,
                        None,
                        None,
                        "this arithmetic cannot be evaluated (a division by zero?)".into(),
                    );
                    continue;
                };
                // Substituted numbers are judged through the result they lead to: arithmetic at
                // every step, the value once, at the stated result (the chain's last side).
                let last = index + 1 == n_sides;
                let finding = self.numeric_step(
                    side,
                    subject,
                    subject_expr,
                    previous_numeric.as_ref(),
                    &interval,
                    last,
                );
                if let Some(finding) = finding {
                    self.findings.push(Finding {
                        quantity: quantity.clone(),
                        ..finding
                    });
                }
                previous_numeric = Some(interval);
            } else {
                match self.resolver().expr(&side.expr) {
                    Err(error) => self.resolve_failure(side, error, quantity.clone()),
                    Ok(expr) => {
                        let reference = subject_expr.or(previous_symbolic);
                        let finding = self.symbolic_step(side, subject, reference, expr);
                        self.findings.push(Finding {
                            quantity: quantity.clone(),
                            ..finding
                        });
                        previous_symbolic = Some(expr);
                    }
                }
                previous_numeric = None;
            }
        }
    }

    /// Records the value a claim states for its quantity (its last side, when a number), first
    /// statement first.
    fn record_stated(&mut self, claim: &Claim) {
        let Some(subject) = self.resolver().subject(&claim.sides[0].expr) else {
            return;
        };
        let Some(last) = claim.sides.last() else {
            return;
        };
        let (Some(value), Some(interval)) = (written_value(&last.expr), enclose(&last.expr)) else {
            return;
        };
        let wrong = self
            .true_value(subject)
            .is_some_and(|truth| !meet(truth.enclosure(), &interval));
        self.stated.entry(subject).or_insert(Stated {
            value,
            line: last.line,
            wrong,
        });
    }

    fn resolve_failure(&mut self, side: &Side, error: ResolveError, quantity: Option<String>) {
        let (verdict, kind, explanation) = match error {
            ResolveError::Undefined(name) => (
                Verdict::Wrong,
                Some(Kind::UndefinedSymbol),
                format!("`{name}` is not a quantity of the network"),
            ),
            ResolveError::Unsupported(what) => (
                Verdict::Unreadable,
                None,
                format!("this cannot be evaluated: {what}"),
            ),
        };
        self.push(side, verdict, kind, quantity, None, None, None, explanation);
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        side: &Side,
        verdict: Verdict,
        kind: Option<Kind>,
        quantity: Option<String>,
        expected: Option<String>,
        expected_value: Option<String>,
        carried_from: Option<usize>,
        explanation: String,
    ) {
        self.findings.push(Finding {
            line: side.line,
            verdict,
            kind,
            quantity,
            written: side.text.clone(),
            expected,
            expected_value,
            carried_from,
            explanation,
        });
    }

    fn finding(side: &Side, verdict: Verdict, kind: Option<Kind>, explanation: String) -> Finding {
        Finding {
            line: side.line,
            verdict,
            kind,
            quantity: None,
            written: side.text.clone(),
            expected: None,
            expected_value: None,
            carried_from: None,
            explanation,
        }
    }

    /// `A = expression`: right when the expression equals the quantity as a function of the
    /// network's values.
    fn symbolic_step(
        &mut self,
        side: &Side,
        subject: Option<Subject>,
        reference: Option<ExprId>,
        expr: ExprId,
    ) -> Finding {
        let Some(reference) = reference else {
            return Self::finding(
                side,
                Verdict::Correct,
                None,
                "nothing to compare this with".into(),
            );
        };
        match self.equivalent(expr, reference) {
            Some(true) | None => {
                Self::finding(side, Verdict::Correct, None, "this step is right".into())
            }
            Some(false) => {
                let kind = subject
                    .and_then(|s| {
                        let candidates = mutants(&self.network, self.derivation, s);
                        candidates
                            .into_iter()
                            .find(|&(_, m)| self.equivalent(expr, m) == Some(true))
                            .map(|(k, _)| k)
                    })
                    .unwrap_or(Kind::WrongExpression);
                let mut finding = Self::finding(
                    side,
                    Verdict::Wrong,
                    Some(kind),
                    kind.explanation().to_string(),
                );
                finding.expected = subject.map(|s| self.true_form(s));
                finding.expected_value = subject
                    .and_then(|s| self.true_value(s))
                    .map(|v| describe(&v));
                finding
            }
        }
    }

    /// `A = numbers`: arithmetic against the previous numeric side; at the stated result, the
    /// value against the truth, else against the student's own earlier values, else a named
    /// mistake. `None` for an intermediate side with nothing to judge.
    fn numeric_step(
        &mut self,
        side: &Side,
        subject: Option<Subject>,
        subject_expr: Option<ExprId>,
        previous: Option<&Interval>,
        interval: &Interval,
        last: bool,
    ) -> Option<Finding> {
        if let Some(previous) = previous
            && !meet(previous, interval)
        {
            let mut finding = Self::finding(
                side,
                Verdict::Wrong,
                Some(Kind::Arithmetic),
                Kind::Arithmetic.explanation().to_string(),
            );
            finding.expected_value = Some(format!("{}", round_like(&midpoint(previous), side)));
            return Some(finding);
        }
        let arithmetic_only = || {
            Self::finding(
                side,
                Verdict::Correct,
                None,
                "the arithmetic is right".into(),
            )
        };
        let (Some(subject), Some(expr), true) = (subject, subject_expr, last) else {
            return previous.is_some().then(arithmetic_only);
        };
        let Some(truth) = self.true_value(subject) else {
            return Some(Self::finding(
                side,
                Verdict::Correct,
                None,
                "consistent (the true value is unknown: the spec leaves a value out)".into(),
            ));
        };
        if meet(truth.enclosure(), interval) {
            return Some(Self::finding(
                side,
                Verdict::Correct,
                None,
                "this value is right".into(),
            ));
        }
        let expected_value = Some(self.expected_digits(&truth, side));
        // Right from the student's own earlier values?
        if let Some((value, wrong_lines, trivial)) = self.carried(subject, expr)
            && !wrong_lines.is_empty()
            && meet(value.enclosure(), interval)
        {
            let from = *wrong_lines.iter().min().expect("not empty");
            let mut finding = if trivial {
                Self::finding(
                    side,
                    Verdict::Wrong,
                    Some(Kind::TrivializedByEarlierError),
                    Kind::TrivializedByEarlierError.explanation().to_string(),
                )
            } else {
                Self::finding(
                    side,
                    Verdict::CarriedForward,
                    None,
                    format!(
                        "right from your value on line {from}, which was wrong; credit is carried forward"
                    ),
                )
            };
            finding.carried_from = Some(from);
            finding.expected_value = expected_value;
            return Some(finding);
        }
        let kind = self.numeric_mistake(subject, interval, side);
        let mut finding = Self::finding(
            side,
            Verdict::Wrong,
            Some(kind),
            kind.explanation().to_string(),
        );
        finding.expected = Some(self.true_form(subject));
        finding.expected_value = expected_value;
        Some(finding)
    }

    /// The true value as the expected value of a step: correctly rounded to `--decimals`, else to
    /// as many decimals as the student wrote.
    fn expected_digits(&self, truth: &Real, side: &Side) -> String {
        let precision = match self.decimals {
            Some(decimals) => Precision::Decimals(decimals),
            None => precision_like(&midpoint(truth.enclosure()), side),
        };
        let rounding = Rounding {
            precision,
            mode: RoundingMode::HalfUp,
        };
        crate::render::number::format(
            &crate::eval::numeric::round(truth, rounding),
            Notation::Plain,
        )
    }

    /// The first catalogue mistake whose value the stated number matches.
    fn numeric_mistake(&mut self, subject: Subject, interval: &Interval, side: &Side) -> Kind {
        let candidates = mutants(&self.network, self.derivation, subject);
        if let Some(truth) = &self.grounds.truth {
            for (kind, expr) in &candidates {
                if let Some(value) = eval_at(self.derivation, truth, *expr)
                    && meet(value.enclosure(), interval)
                {
                    return *kind;
                }
            }
        }
        if self.matches_calculator(subject, side) {
            return Kind::PrematureRounding;
        }
        if let Some(after) = self.after_update()
            && let Some(expr) = self.resolver().subject_expr(subject).ok()
            && !matches!(subject, Subject::Updated(_))
            && let Some(value) = eval_at(self.derivation, &after, expr)
            && meet(value.enclosure(), interval)
        {
            return Kind::UpdatedWeightsInBackwardPass;
        }
        Kind::WrongValue
    }

    /// Whether the stated number is what rounding every intermediate to its digits gives.
    fn matches_calculator(&mut self, subject: Subject, side: &Side) -> bool {
        let MathExpr::Number(text) = &side.expr else {
            return false;
        };
        let Some(stated) = Decimal::parse(text) else {
            return false;
        };
        let digits = u32::try_from(stated.significant_digits())
            .unwrap_or(1)
            .clamp(1, 30);
        let route = self
            .calculator
            .entry(digits)
            .or_insert_with(|| {
                let rounding = Rounding {
                    precision: Precision::Significant(digits),
                    mode: RoundingMode::HalfUp,
                };
                calculator::route(&self.network, self.derivation, rounding).ok()
            })
            .as_ref();
        let Some(route) = route else { return false };
        let value = match subject {
            Subject::Value(id) => route.forward[id.index()].as_ref(),
            Subject::Grad(id) => route.gradients[id.index()].as_ref(),
            Subject::Updated(id) => route.updated.get(id.index()).and_then(Option::as_ref),
            Subject::After(id) if id == self.network.loss => route.loss_after.as_ref(),
            Subject::After(_) => None,
        };
        value.is_some_and(|v| v.to_rational() == stated.to_rational())
    }

    /// The network evaluated with the updated parameters (to catch their use in the backward
    /// pass of the same step).
    fn after_update(&mut self) -> Option<Values> {
        if self.after_update.is_none() {
            let computed = self.grounds.truth.as_ref().and_then(|truth| {
                let mut network = self.network.clone();
                for id in network.params().collect::<Vec<_>>() {
                    let updated = truth.updated(id)?.enclosure().clone();
                    network.symbols[id.index()].value = Some(midpoint(&updated));
                }
                evaluate(&network, self.derivation, PREC).ok()
            });
            self.after_update = Some(computed);
        }
        self.after_update.clone().flatten()
    }

    /// The subject's value computed one step from the student's own stated values (and true
    /// values for what the student did not state): the wrong stated values it used (their
    /// lines), and whether one of them made the step trivial.
    fn carried(
        &mut self,
        subject: Subject,
        subject_expr: ExprId,
    ) -> Option<(Real, Vec<usize>, bool)> {
        let truth = self.grounds.truth.as_ref()?;
        let relation = match subject {
            Subject::Value(id) => self.derivation.body(id)?,
            Subject::Grad(id) => self.derivation.gradient(id)?.chain,
            Subject::Updated(_) => subject_expr,
            // After the update everything has moved; no single earlier value explains it.
            Subject::After(_) => return None,
        };
        let mut used = Vec::new();
        let mut trivial = false;
        for sym in self.derivation.pool.symbols(relation) {
            let key = match sym {
                Sym::Value(id) => Subject::Value(id),
                Sym::Grad(id) => Subject::Grad(id),
            };
            if let Some(stated) = self.stated.get(&key).filter(|s| s.wrong) {
                used.push(stated.line);
                let true_value = match sym {
                    Sym::Value(id) => truth.value(id),
                    Sym::Grad(id) => truth.gradient(id),
                };
                let true_is = |q: fn(&BigRational) -> bool| {
                    true_value.is_some_and(|t| t.as_exact().is_some_and(q))
                };
                if (stated.value.is_zero() && !true_is(BigRational::is_zero))
                    || (stated.value.is_one() && !true_is(BigRational::is_one))
                {
                    trivial = true;
                }
            }
        }
        let stated = &self.stated;
        let bind = |sym: Sym| {
            let key = match sym {
                Sym::Value(id) => Subject::Value(id),
                Sym::Grad(id) => Subject::Grad(id),
            };
            match stated.get(&key) {
                Some(s) => Some(Real::exact(s.value.clone(), PREC)),
                None => match sym {
                    Sym::Value(id) => truth.value(id).cloned(),
                    Sym::Grad(id) => truth.gradient(id).cloned(),
                },
            }
        };
        let value = Evaluator::new(&self.derivation.pool, PREC)
            .eval(relation, &bind)
            .ok()?;
        if value.is_exact_zero() && !truth_is_zero(truth, subject) {
            trivial = true;
        }
        Some((value, used, trivial))
    }

    /// Whether two expressions agree at every random point where both can be evaluated; `None`
    /// when no point could evaluate both.
    fn equivalent(&self, a: ExprId, b: ExprId) -> Option<bool> {
        if a == b {
            return Some(true);
        }
        let mut decided = None;
        for point in &self.grounds.points {
            let (Some(x), Some(y)) = (
                eval_at(self.derivation, point, a),
                eval_at(self.derivation, point, b),
            ) else {
                continue;
            };
            if !meet(x.enclosure(), y.enclosure()) {
                return Some(false);
            }
            decided = Some(true);
        }
        decided
    }

    fn true_value(&mut self, subject: Subject) -> Option<Real> {
        let expr = self.resolver().subject_expr(subject).ok()?;
        match subject {
            Subject::After(_) => {
                let after = self.after_update()?;
                eval_at(self.derivation, &after, expr)
            }
            _ => eval_at(self.derivation, self.grounds.truth.as_ref()?, expr),
        }
    }

    /// The quantity's correct chain-rule form (or equation), as plain text.
    fn true_form(&mut self, subject: Subject) -> String {
        let expr = match subject {
            Subject::Value(id) | Subject::After(id) => self.derivation.body(id),
            Subject::Grad(id) => self.derivation.gradient(id).map(|g| g.factored),
            Subject::Updated(_) => self.resolver().subject_expr(subject).ok(),
        };
        let network = &self.network;
        let rank = |_: Sym| 0;
        let atom = |sym: Sym, out: &mut String| write_name(network, sym, Notation::Plain, out);
        match expr {
            Some(expr) => Printer {
                pool: &self.derivation.pool,
                notation: Notation::Plain,
                atom: &atom,
                rank: &rank,
                closed_form: false,
                memo: None,
            }
            .print(expr),
            None => self.subject_name(subject),
        }
    }

    fn subject_name(&self, subject: Subject) -> String {
        let loss = self.network.name(self.network.loss);
        match subject {
            Subject::Value(id) => self.network.name(id).to_string(),
            Subject::Grad(id) => format!("d{loss}/d{}", self.network.name(id)),
            Subject::Updated(id) | Subject::After(id) => format!("{}_new", self.network.name(id)),
        }
    }
}

/// The value of an expression at a point (forward values and gradients computed there).
fn eval_at(derivation: &Derivation, point: &Values, expr: ExprId) -> Option<Real> {
    let bind = |sym: Sym| match sym {
        Sym::Value(id) => point.value(id).cloned(),
        Sym::Grad(id) => point.gradient(id).cloned(),
    };
    Evaluator::new(&derivation.pool, PREC)
        .eval(expr, &bind)
        .ok()
}

fn truth_is_zero(truth: &Values, subject: Subject) -> bool {
    let value = match subject {
        Subject::Value(id) => truth.value(id),
        Subject::Grad(id) => truth.gradient(id),
        Subject::Updated(id) => truth.updated(id),
        Subject::After(_) => None,
    };
    value.is_some_and(Real::is_exact_zero)
}

/// The value of a side that is a written number (`0.5`, `-0.12`, `-(0.12)`).
fn written_value(expr: &MathExpr) -> Option<BigRational> {
    match expr {
        MathExpr::Number(text) => Decimal::parse(text).map(|d| d.to_rational()),
        MathExpr::Neg(inner) => written_value(inner).map(|v| -v),
        _ => None,
    }
}

/// A value rounded to as many decimals as the student's number on `side` has (4 significant
/// figures when it is not a single number).
fn round_like(value: &BigRational, side: &Side) -> Decimal {
    round_rational(value, precision_like(value, side), RoundingMode::HalfUp)
}

/// As many decimals as the student's number on `side` has (4 significant figures when it is not
/// a single number, or when those decimals would round the value to 0).
fn precision_like(value: &BigRational, side: &Side) -> Precision {
    let precision = match &side.expr {
        MathExpr::Number(text) => match Decimal::parse(text) {
            Some(d) if d.scale() >= 0 => Precision::Decimals(u32::try_from(d.scale()).unwrap_or(4)),
            _ => Precision::Significant(4),
        },
        _ => Precision::Significant(4),
    };
    match precision {
        Precision::Decimals(d)
            if round_rational(value, precision, RoundingMode::HalfUp).is_zero() =>
        {
            Precision::Significant(d.max(1))
        }
        other => other,
    }
}

/// A value to 6 significant figures, for messages.
fn describe(value: &Real) -> String {
    let q = midpoint(value.enclosure());
    crate::render::number::format(
        &round_rational(&q, Precision::Significant(6), RoundingMode::HalfUp),
        Notation::Plain,
    )
}

/// Values the spec leaves out, taken from the submission's `name = number` claims about them;
/// whether there were any.
fn fill_unknowns(
    network: &mut Network,
    derivation: &mut Derivation,
    submission: &Submission,
) -> bool {
    let mut filled = false;
    for claim in &submission.claims {
        let resolver = Resolver {
            network,
            derivation,
        };
        let Some(Subject::Value(id)) = resolver.subject(&claim.sides[0].expr) else {
            continue;
        };
        if network.symbol(id).is_node() || network.symbol(id).value.is_some() {
            continue;
        }
        if let Some(value) = claim
            .sides
            .iter()
            .rev()
            .find_map(|side| written_value(&side.expr))
        {
            network.symbols[id.index()].value = Some(value);
            filled = true;
        }
    }
    filled
}

/// What every submission against one network is judged on: the true values (when the spec
/// gives them all) and the random points of identity checks. Computed once for a class.
#[derive(Clone)]
pub struct Grounds {
    truth: Option<Values>,
    points: Vec<Values>,
}

impl Grounds {
    /// Evaluates the network at its values and at the random points.
    pub fn new(network: &Network, derivation: &Derivation) -> Grounds {
        Grounds {
            truth: evaluate(network, derivation, PREC).ok(),
            points: random_points(network, derivation),
        }
    }
}

/// Random points: every given value replaced by a random number of either sign with magnitude in
/// (0.1, 0.9) and 4 decimals (away from 0), everything evaluated there; points where the network
/// is undefined (a log of a negative value) are skipped.
fn random_points(network: &Network, derivation: &Derivation) -> Vec<Values> {
    let mut rng = Rng::new(0x5eed_cafe);
    let mut points = Vec::new();
    for _ in 0..POINTS * 3 {
        if points.len() == POINTS {
            break;
        }
        let mut random = network.clone();
        for symbol in random.symbols.iter_mut().filter(|s| !s.is_node()) {
            let keep_rate = symbol.decl_kind() == Some(DeclKind::Rate) && symbol.value.is_some();
            if !keep_rate {
                // Either sign, so that ReLUs are active at some points and dead at others.
                let magnitude = 1000 + rng.below(8000) as i64;
                let numerator = if rng.below(2) == 0 {
                    magnitude
                } else {
                    -magnitude
                };
                symbol.value = Some(BigRational::new(
                    BigInt::from(numerator),
                    BigInt::from(10_000),
                ));
            }
        }
        if let Ok(values) = evaluate(&random, derivation, PREC) {
            points.push(values);
        }
    }
    points
}
