//! Lowering: turns the pest pairs of one statement into an [`ast::Item`](crate::ast::Item).
//!
//! Owns every check that is easier to state on a parsed token than in the grammar: exact reading
//! of number literals (and refusing absurd ones before any big number is built), integer-only
//! exponents, string escapes, runs of unary minus and the depth of expression trees. Whether a
//! layer width or a seed is a sensible whole number is left to the graph stage.
//!
//! Spans: every node's span covers its own text, without whitespace around it and without
//! parentheses around it (in `(a + b) * c` the sum's span is `a + b`, the product's the whole
//! text). A `Number`'s `text` is exactly the source text under its span.
//!
//! Expressions are lowered with an explicit task stack, not by recursion, and left-associative
//! chains (`x + x + ... + x`) are folded in a loop: a statement with 50,000 terms costs linear
//! time and no native stack, whatever its bracket depth. The depth of the tree built is tracked
//! and bounded ([`MAX_EXPR_DEPTH`]), and a partly built tree is taken apart in a loop when
//! lowering gives up, because the derived `Drop` of a deep tree recurses once per level.

use num_bigint::BigInt;
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::Zero;
use pest::iterators::{Pair, Pairs};

use super::grammar::Rule;
use crate::ast::{
    BinOp, DeclKind, Expr, Ident, Item, LayerSpec, LossBody, Number, Question, ValueSpec,
};
use crate::diag::{Diagnostic, Span};

/// Most digits a number literal may have (integer and fraction digits together).
pub(crate) const MAX_DIGITS: usize = 1000;
/// Largest decimal exponent, either way, a number literal may have.
pub(crate) const MAX_EXPONENT: u32 = 1000;
/// Most unary minus signs in a row (each one is a level of the tree).
pub(crate) const MAX_NEGATIONS: usize = 256;
/// Deepest expression tree accepted. A chain `a + b + c + ...` is as deep as it is long, and
/// everything that walks or drops the tree recursively (the derived `Drop`, `Clone`, `Debug`,
/// later stages) needs stack in proportion: dropping measured about 66 bytes a level optimized
/// and 95 unoptimized. 2^16 levels is far beyond any real spec (50,000-term chains are fine)
/// and a drop of the deepest accepted tree still fits the 8 MiB main-thread stack (4.3 MB
/// optimized, 6.2 MB unoptimized).
pub(crate) const MAX_EXPR_DEPTH: usize = 1 << 16;

/// The result of lowering one piece: at most one diagnostic, since one statement gets one.
type Lowered<T> = Result<T, Diagnostic>;

/// Lowers the pairs of `Rule::statement` for the statement `text`, which starts at byte `offset`
/// of the whole spec.
pub(crate) fn lower_statement(
    statement: Pairs<'_, Rule>,
    text: &str,
    offset: usize,
) -> Lowered<Item> {
    let lowerer = Lowerer { text, offset };
    let item = statement
        .flatten()
        .find(|p| p.as_rule() == Rule::item)
        .and_then(|p| p.into_inner().next())
        .ok_or_else(|| lowerer.internal(0..text.len()))?;
    lowerer.item(item)
}

/// The context of one statement: its text (for `Number::text`) and where it starts.
struct Lowerer<'t> {
    text: &'t str,
    offset: usize,
}

impl<'t> Lowerer<'t> {
    /// The span of a pair, in bytes of the whole spec, without trailing spacing.
    ///
    /// pest lets a rule that ends in an optional or repeated part (`name?`, `(op operand)*`)
    /// keep the spacing and comments it skipped before trying that part, so a pair's own end
    /// can lie past its last token. The last token's end is found by following last children
    /// down: every token of a non-atomic rule is a rule of its own in this grammar, and atomic
    /// rules (no children) and strings end exactly.
    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let mut last = pair.clone();
        while last.as_rule() != Rule::string {
            match last.clone().into_inner().next_back() {
                Some(child) => last = child,
                None => break,
            }
        }
        Span::new(
            self.offset + pair.as_span().start(),
            self.offset + last.as_span().end(),
        )
    }

    /// The statement text under `span` (a span of the whole spec).
    fn source(&self, span: Span) -> &'t str {
        &self.text[span.start - self.offset..span.end - self.offset]
    }

    /// A span given in bytes of the statement, moved into the whole spec.
    fn shift(&self, start: usize, end: usize) -> Span {
        Span::new(self.offset + start, self.offset + end)
    }

    /// Reports a pair shape the grammar cannot produce. It is a bug, but a parser that is told
    /// never to panic says so as a diagnostic instead.
    fn internal(&self, range: std::ops::Range<usize>) -> Diagnostic {
        Diagnostic::error(
            self.shift(range.start, range.end),
            "internal parser error: unexpected parse tree",
        )
        .with_hint("this is a bug in bpsheet; please report it with the spec that caused it")
    }

    /// The next pair of `pairs`, which the grammar guarantees is there.
    fn next<'i>(
        &self,
        pairs: &mut Pairs<'i, Rule>,
        parent: &Pair<'i, Rule>,
    ) -> Lowered<Pair<'i, Rule>> {
        pairs.next().ok_or_else(|| {
            let s = parent.as_span();
            self.internal(s.start()..s.end())
        })
    }

    /// The first child of `parent` with rule `rule`.
    fn child<'i>(&self, parent: &Pair<'i, Rule>, rule: Rule) -> Lowered<Pair<'i, Rule>> {
        parent
            .clone()
            .into_inner()
            .find(|p| p.as_rule() == rule)
            .ok_or_else(|| {
                let s = parent.as_span();
                self.internal(s.start()..s.end())
            })
    }

    /// The children of `parent` with rule `rule`, in order.
    fn children<'i>(&self, parent: &Pair<'i, Rule>, rule: Rule) -> Vec<Pair<'i, Rule>> {
        parent
            .clone()
            .into_inner()
            .filter(|p| p.as_rule() == rule)
            .collect()
    }

    fn ident(&self, pair: &Pair<'_, Rule>) -> Ident {
        Ident {
            name: pair.as_str().to_string(),
            span: self.span(pair),
        }
    }

    fn item(&self, pair: Pair<'_, Rule>) -> Lowered<Item> {
        let span = self.span(&pair);
        match pair.as_rule() {
            Rule::title_stmt => Ok(Item::Title {
                text: self.string(&self.child(&pair, Rule::string)?)?,
                span,
            }),
            Rule::decl_stmt => {
                let keyword = self.child(&pair, Rule::decl_kw)?;
                let kind = match keyword.into_inner().next().map(|k| k.as_rule()) {
                    Some(Rule::kw_input) => DeclKind::Input,
                    Some(Rule::kw_param) => DeclKind::Param,
                    Some(Rule::kw_target) => DeclKind::Target,
                    Some(Rule::kw_const) => DeclKind::Const,
                    _ => DeclKind::Rate,
                };
                let name = self.ident(&self.child(&pair, Rule::name)?);
                let value = match self.children(&pair, Rule::value).into_iter().next() {
                    Some(v) => Some(self.value(v)?),
                    None => None,
                };
                Ok(Item::Decl {
                    kind,
                    name,
                    value,
                    span,
                })
            }
            Rule::vec_stmt => {
                let keyword = self.child(&pair, Rule::vec_kw)?;
                let kind = match keyword.into_inner().next().map(|k| k.as_rule()) {
                    Some(Rule::kw_inputs) => DeclKind::Input,
                    _ => DeclKind::Target,
                };
                let prefix = self.ident(&self.child(&pair, Rule::name)?);
                let values = self
                    .children(&pair, Rule::value)
                    .into_iter()
                    .map(|v| self.value(v))
                    .collect::<Lowered<Vec<_>>>()?;
                Ok(Item::VecDecl {
                    kind,
                    prefix,
                    values,
                    span,
                })
            }
            Rule::weights_stmt => Ok(Item::Weights {
                value: self.value(self.child(&pair, Rule::value)?)?,
                span,
            }),
            Rule::biases_stmt => Ok(Item::Biases {
                value: self.value(self.child(&pair, Rule::value)?)?,
                span,
            }),
            Rule::latex_stmt => Ok(Item::Latex {
                name: self.ident(&self.child(&pair, Rule::name)?),
                latex: self.string(&self.child(&pair, Rule::string)?)?,
                span,
            }),
            Rule::mlp_stmt => {
                let inputs = self.unsigned(&self.child(&pair, Rule::width)?)?;
                let layers = self
                    .children(&pair, Rule::layer)
                    .into_iter()
                    .map(|layer| {
                        Ok(LayerSpec {
                            units: self.unsigned(&self.child(&layer, Rule::width)?)?,
                            activation: self
                                .children(&layer, Rule::name)
                                .first()
                                .map(|a| self.ident(a)),
                            span: self.span(&layer),
                        })
                    })
                    .collect::<Lowered<Vec<_>>>()?;
                Ok(Item::Mlp {
                    inputs,
                    layers,
                    span,
                })
            }
            Rule::loss_stmt => {
                let name = self.ident(&self.child(&pair, Rule::name)?);
                match self.children(&pair, Rule::expr).into_iter().next() {
                    Some(expr) => Ok(Item::Loss {
                        name: Some(name),
                        body: LossBody::Expr(self.expr(expr)?),
                        span,
                    }),
                    None => Ok(Item::Loss {
                        name: None,
                        body: LossBody::Named(name),
                        span,
                    }),
                }
            }
            // Whether the seed and the widths are whole numbers in range is the graph stage's
            // call, next to its other limits; here they are just unsigned number tokens.
            Rule::seed_stmt => Ok(Item::Seed {
                value: self.unsigned(&self.child(&pair, Rule::seed_number)?)?,
                span,
            }),
            Rule::questions_stmt => {
                let questions = self
                    .children(&pair, Rule::question)
                    .into_iter()
                    .map(|q| {
                        Ok(Question {
                            target: self.ident(&self.child(&q, Rule::name)?),
                            points: match self.children(&q, Rule::points_number).first() {
                                Some(p) => Some(self.unsigned(p)?),
                                None => None,
                            },
                        })
                    })
                    .collect::<Lowered<Vec<_>>>()?;
                Ok(Item::Questions { questions, span })
            }
            Rule::hide_stmt => Ok(Item::Hide {
                names: self
                    .children(&pair, Rule::name)
                    .iter()
                    .map(|n| self.ident(n))
                    .collect(),
                span,
            }),
            Rule::allow_stmt => Ok(Item::Allow {
                what: self.ident(&self.child(&pair, Rule::name)?),
                span,
            }),
            Rule::group_stmt => {
                let names = self
                    .children(&pair, Rule::name)
                    .iter()
                    .map(|n| self.ident(n))
                    .collect();
                let (func, args) = self.call_parts(self.child(&pair, Rule::call)?)?;
                Ok(Item::GroupEquation {
                    names,
                    func,
                    args,
                    span,
                })
            }
            Rule::equation_stmt => Ok(Item::Equation {
                name: self.ident(&self.child(&pair, Rule::name)?),
                expr: self.expr(self.child(&pair, Rule::expr)?)?,
                span,
            }),
            _ => {
                let s = pair.as_span();
                Err(self.internal(s.start()..s.end()))
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // Values and numbers

    fn value(&self, pair: Pair<'_, Rule>) -> Lowered<ValueSpec> {
        let span = self.span(&pair);
        let form = self.next(&mut pair.clone().into_inner(), &pair)?;
        match form.as_rule() {
            Rule::literal => Ok(ValueSpec::Literal(self.literal(&form)?)),
            Rule::uniform => {
                let bounds = self
                    .children(&form, Rule::literal)
                    .iter()
                    .map(|l| self.literal(l))
                    .collect::<Lowered<Vec<_>>>()?;
                let [low, high, step]: [Number; 3] = bounds
                    .try_into()
                    .map_err(|_| self.internal(0..self.text.len()))?;
                Ok(ValueSpec::Uniform {
                    low,
                    high,
                    step,
                    span,
                })
            }
            Rule::choice => Ok(ValueSpec::Choice {
                options: self
                    .children(&form, Rule::literal)
                    .iter()
                    .map(|l| self.literal(l))
                    .collect::<Lowered<Vec<_>>>()?,
                span,
            }),
            _ => Err(self.internal(0..self.text.len())),
        }
    }

    /// `-0.5`, `3/4`, `-1/3`: a signed number, optionally over an unsigned one.
    fn literal(&self, pair: &Pair<'_, Rule>) -> Lowered<Number> {
        let span = self.span(pair);
        let numerator = self.child(pair, Rule::signed_number)?;
        let mut value = self.exact(&numerator)?;
        if let Some(denominator) = self.children(pair, Rule::denominator).first() {
            let d = self.exact(denominator)?;
            if d.is_zero() {
                return Err(Diagnostic::error(
                    span,
                    format!("division by zero in `{}`", abbreviate(self.source(span))),
                ));
            }
            value /= d;
        }
        Ok(Number {
            value,
            text: self.source(span).to_string(),
            span,
        })
    }

    /// An unsigned number token as a `Number`.
    fn unsigned(&self, pair: &Pair<'_, Rule>) -> Lowered<Number> {
        Ok(Number {
            value: self.exact(pair)?,
            text: pair.as_str().to_string(),
            span: self.span(pair),
        })
    }

    /// The exact value of one number token, refusing absurd ones first.
    fn exact(&self, pair: &Pair<'_, Rule>) -> Lowered<BigRational> {
        exact_decimal(pair.as_str()).map_err(|problem| match problem {
            NumberProblem::TooManyDigits(n) => Diagnostic::error(
                self.span(pair),
                format!("number literal is too long: {n} digits (at most {MAX_DIGITS})"),
            )
            .with_hint("numbers are read exactly, so their size is bounded; write a shorter literal"),
            NumberProblem::ExponentTooLarge => Diagnostic::error(
                self.span(pair),
                format!("number exponent is too large in `{}`", abbreviate(pair.as_str())),
            )
            .with_hint(format!(
                "exponents may be at most {MAX_EXPONENT} either way (`1e-{MAX_EXPONENT}` to `1e{MAX_EXPONENT}`)"
            )),
        })
    }

    // -----------------------------------------------------------------------------------------
    // Expressions

    /// Lowers an `expr` pair. Works with an explicit task stack instead of recursion, so neither
    /// bracket depth nor chain length costs native stack, and tracks the depth of the tree it
    /// builds so that a tree too deep for later stages is refused here.
    fn expr(&self, root: Pair<'t, Rule>) -> Lowered<Expr> {
        let mut done: Vec<Built> = Vec::new();
        let result = self.expr_with(root, &mut done);
        // On an error, what was built so far may be deep; take it apart without recursion.
        for built in done {
            dismantle(built.expr);
        }
        result
    }

    /// The loop of [`Lowerer::expr`]; partial results live in `done`.
    fn expr_with(&self, root: Pair<'t, Rule>, done: &mut Vec<Built>) -> Lowered<Expr> {
        let mut tasks = vec![Task::Expr(root)];
        while let Some(task) = tasks.pop() {
            match task {
                Task::Expr(pair) => {
                    let mut operands = Vec::new();
                    let mut ops = Vec::new();
                    for child in pair.into_inner() {
                        match child.as_rule() {
                            Rule::bin_op => ops.push(match child.as_str() {
                                "+" => BinOp::Add,
                                "-" => BinOp::Sub,
                                "*" => BinOp::Mul,
                                _ => BinOp::Div,
                            }),
                            _ => operands.push(child),
                        }
                    }
                    tasks.push(Task::Fold(ops));
                    // Reversed, so the first operand is lowered (and lands on `done`) first.
                    tasks.extend(operands.into_iter().rev().map(Task::Operand));
                }
                Task::Operand(pair) => self.operand(pair, &mut tasks, done)?,
                Task::Fold(ops) => {
                    let operands = done.split_off(done.len().saturating_sub(ops.len() + 1));
                    let folded =
                        fold(operands, ops).ok_or_else(|| self.internal(0..self.text.len()))?;
                    done.push(self.checked(folded)?);
                }
                Task::FinishOperand {
                    negations,
                    pow,
                    extent,
                } => {
                    let mut built = done
                        .pop()
                        .ok_or_else(|| self.internal(0..self.text.len()))?;
                    if let Some((exponent, span)) = pow {
                        built.expr = Expr::Pow {
                            base: Box::new(built.expr),
                            exponent: Box::new(exponent),
                            span,
                        };
                        built.depth += 1;
                    }
                    // Innermost sign first, so the tree is built bottom-up in a loop.
                    for start in negations.into_iter().rev() {
                        built.expr = Expr::Neg {
                            operand: Box::new(built.expr),
                            span: Span::new(start, extent.end),
                        };
                        built.depth += 1;
                    }
                    built.extent = extent;
                    done.push(self.checked(built)?);
                }
                Task::FinishCall { func, args, span } => {
                    let args = done.split_off(done.len().saturating_sub(args));
                    let depth = 1 + args.iter().map(|a| a.depth).max().unwrap_or(0);
                    let call = Built {
                        expr: Expr::Call {
                            func: Box::new(func),
                            args: args.into_iter().map(|a| a.expr).collect(),
                            span,
                        },
                        depth,
                        extent: span,
                    };
                    done.push(self.checked(call)?);
                }
            }
        }
        match (done.pop(), done.is_empty()) {
            (Some(built), true) => Ok(built.expr),
            _ => Err(self.internal(0..self.text.len())),
        }
    }

    /// Starts lowering one `operand`: leaves go straight to `done`; calls and brackets push
    /// tasks. Either way a `FinishOperand` task applies the `^` and the signs afterwards.
    fn operand(
        &self,
        pair: Pair<'t, Rule>,
        tasks: &mut Vec<Task<'t>>,
        done: &mut Vec<Built>,
    ) -> Lowered<()> {
        let extent = self.span(&pair);
        let mut negations = Vec::new();
        let mut primary = None;
        let mut exponent = None;
        for child in pair.clone().into_inner() {
            match child.as_rule() {
                Rule::neg => negations.push(self.span(&child).start),
                Rule::pow_op => {}
                Rule::exponent => exponent = Some(child),
                _ => primary = Some(child),
            }
        }
        let primary = primary.ok_or_else(|| self.internal(0..self.text.len()))?;
        if negations.len() > MAX_NEGATIONS {
            return Err(Diagnostic::error(
                extent,
                format!("too many `-` signs in a row (at most {MAX_NEGATIONS})"),
            ));
        }
        let pow = match exponent {
            Some(e) => {
                let span = Span::new(self.span(&primary).start, self.span(&e).end);
                Some((self.exponent(e)?, span))
            }
            None => None,
        };
        tasks.push(Task::FinishOperand {
            negations,
            pow,
            extent,
        });
        let leaf = |expr: Expr| Built {
            extent: expr.span(),
            expr,
            depth: 1,
        };
        match primary.as_rule() {
            Rule::number => done.push(leaf(Expr::Num(Box::new(self.unsigned(&primary)?)))),
            Rule::name => done.push(leaf(Expr::Var(self.ident(&primary)))),
            Rule::call => {
                let span = self.span(&primary);
                let func = self.ident(&self.child(&primary, Rule::name)?);
                let args = self.children(&primary, Rule::expr);
                tasks.push(Task::FinishCall {
                    func,
                    args: args.len(),
                    span,
                });
                tasks.extend(args.into_iter().rev().map(Task::Expr));
            }
            Rule::paren => tasks.push(Task::Expr(self.child(&primary, Rule::expr)?)),
            _ => return Err(self.internal(0..self.text.len())),
        }
        Ok(())
    }

    /// Refuses a tree deeper than later stages can walk.
    fn checked(&self, built: Built) -> Lowered<Built> {
        if built.depth > MAX_EXPR_DEPTH {
            let extent = built.extent;
            dismantle(built.expr);
            return Err(Diagnostic::error(
                extent,
                format!("expression is too long: its tree would be more than {MAX_EXPR_DEPTH} levels deep"),
            )
            .with_hint("each operator in a chain like `a + b + c + ...` adds a level; split the expression into several equations"));
        }
        Ok(built)
    }

    /// The right side of `^`: parsed loosely by the grammar, accepted here only as an integer
    /// literal with at most one sign: `2`, `-1`, `(-1)`, `(2)`. Inspects the pairs without
    /// lowering them, so it needs no recursion.
    fn exponent(&self, pair: Pair<'t, Rule>) -> Lowered<Number> {
        let whole = self.span(&pair);
        let refuse = || {
            Diagnostic::error(whole, "exponent must be an integer literal")
                .with_label("not an integer literal")
                .with_hint(
                    "write a whole number such as `x^2` or `x^-1`; other powers are not supported",
                )
        };
        // Signs, then the primary; for `(...)` the same again inside, once.
        let split = |pair: &Pair<'t, Rule>| {
            let mut signs = Vec::new();
            let mut rest = Vec::new();
            for child in pair.clone().into_inner() {
                match child.as_rule() {
                    Rule::neg => signs.push(self.span(&child).start),
                    _ => rest.push(child),
                }
            }
            (signs, rest)
        };
        let (mut signs, rest) = split(&pair);
        let mut literal = match rest.as_slice() {
            [primary] => primary.clone(),
            _ => return Err(refuse()),
        };
        if literal.as_rule() == Rule::paren && signs.is_empty() {
            let expr = self.child(&literal, Rule::expr)?;
            let operand = self.only_child(&expr).ok_or_else(refuse)?;
            let (inner_signs, inner_rest) = split(&operand);
            signs = inner_signs;
            literal = match inner_rest.as_slice() {
                [primary] => primary.clone(),
                _ => return Err(refuse()),
            };
        }
        if literal.as_rule() != Rule::number
            || signs.len() > 1
            || !is_plain_integer(literal.as_str())
        {
            return Err(refuse());
        }
        let digits = self.span(&literal);
        let span = Span::new(signs.first().copied().unwrap_or(digits.start), digits.end);
        let mut value = self.exact(&literal)?;
        if !signs.is_empty() {
            value = -value;
        }
        Ok(Number {
            value,
            text: self.source(span).to_string(),
            span,
        })
    }

    /// The one child of a pair, if it has exactly one.
    fn only_child<'i>(&self, pair: &Pair<'i, Rule>) -> Option<Pair<'i, Rule>> {
        let mut inner = pair.clone().into_inner();
        let first = inner.next()?;
        inner.next().is_none().then_some(first)
    }

    fn call_parts(&self, pair: Pair<'t, Rule>) -> Lowered<(Ident, Vec<Expr>)> {
        let func = self.ident(&self.child(&pair, Rule::name)?);
        let args = self
            .children(&pair, Rule::expr)
            .into_iter()
            .map(|a| self.expr(a))
            .collect::<Lowered<Vec<_>>>()?;
        Ok((func, args))
    }

    // -----------------------------------------------------------------------------------------
    // Strings

    /// The contents of a string token with `\"` and `\\` resolved. Any other backslash is kept
    /// as written, so LaTeX like `"\eta_1"` needs no doubling.
    fn string(&self, pair: &Pair<'_, Rule>) -> Lowered<String> {
        let inner = self.child(pair, Rule::string_inner)?;
        let base = inner.as_span().start();
        let raw = inner.as_str();
        let mut out = String::with_capacity(raw.len());
        let mut chars = raw.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c.is_control() && c != '\t' {
                let at = base + i;
                return Err(Diagnostic::error(
                    self.shift(at, at + c.len_utf8()),
                    format!("control character {} in a string", code_point(c)),
                )
                .with_hint("remove it; strings hold printable text only"));
            }
            if c == '\\'
                && let Some(&(_, next @ ('"' | '\\'))) = chars.peek()
            {
                out.push(next);
                chars.next();
                continue;
            }
            out.push(c);
        }
        Ok(out)
    }
}

/// A piece of expression lowering still to do (see [`Lowerer::expr`]).
enum Task<'i> {
    /// Lower an `expr` pair.
    Expr(Pair<'i, Rule>),
    /// Lower an `operand` pair.
    Operand(Pair<'i, Rule>),
    /// Combine the last `ops.len() + 1` results with these operators.
    Fold(Vec<BinOp>),
    /// Apply `^` and the `-` signs (their start offsets) to the last result.
    FinishOperand {
        negations: Vec<usize>,
        pow: Option<(Number, Span)>,
        extent: Span,
    },
    /// Make a call of the last `args` results.
    FinishCall {
        func: Ident,
        args: usize,
        span: Span,
    },
}

/// A lowered expression with what lowering needs to know about it.
struct Built {
    expr: Expr,
    /// Levels of the tree, a leaf being 1.
    depth: usize,
    /// Its source text including brackets and signs around it, for spans of the nodes above.
    extent: Span,
}

/// Folds `operands[0] ops[0] operands[1] ...` with `* /` before `+ -`, both to the left, in
/// two loops: `a - b * c - d` is `(a - (b * c)) - d`. `None` if the counts do not match.
fn fold(operands: Vec<Built>, ops: Vec<BinOp>) -> Option<Built> {
    if operands.len() != ops.len() + 1 {
        return None;
    }
    let combine = |op: BinOp, lhs: Built, rhs: Built| {
        let extent = Span::new(lhs.extent.start, rhs.extent.end);
        Built {
            depth: 1 + lhs.depth.max(rhs.depth),
            expr: Expr::Binary {
                op,
                lhs: Box::new(lhs.expr),
                rhs: Box::new(rhs.expr),
                span: extent,
            },
            extent,
        }
    };
    let mut operands = operands.into_iter();
    let mut product = operands.next()?;
    // Products first, collected as the terms of a sum.
    let mut terms = Vec::new();
    let mut sum_ops = Vec::new();
    for (op, rhs) in ops.into_iter().zip(operands) {
        match op {
            BinOp::Mul | BinOp::Div => product = combine(op, product, rhs),
            BinOp::Add | BinOp::Sub => {
                terms.push(std::mem::replace(&mut product, rhs));
                sum_ops.push(op);
            }
        }
    }
    terms.push(product);
    let mut terms = terms.into_iter();
    let mut sum = terms.next()?;
    for (op, rhs) in sum_ops.into_iter().zip(terms) {
        sum = combine(op, sum, rhs);
    }
    Some(sum)
}

/// Drops the expressions of parsed statements with a loop (see [`dismantle`]); for the items
/// already parsed when a later statement fails.
pub(crate) fn discard(items: Vec<Item>) {
    for item in items {
        match item {
            Item::Equation { expr, .. }
            | Item::Loss {
                body: LossBody::Expr(expr),
                ..
            } => dismantle(expr),
            Item::GroupEquation { args, .. } => args.into_iter().for_each(dismantle),
            _ => {}
        }
    }
}

/// Drops an expression tree with a loop instead of the derived, recursive `Drop`, which needs
/// stack in proportion to the depth (about 100 bytes a level unoptimized).
pub(super) fn dismantle(expr: Expr) {
    let mut stack = vec![expr];
    while let Some(e) = stack.pop() {
        match e {
            Expr::Binary { lhs, rhs, .. } => stack.extend([*lhs, *rhs]),
            Expr::Neg { operand, .. } => stack.push(*operand),
            Expr::Pow { base, .. } => stack.push(*base),
            Expr::Call { args, .. } => stack.extend(args),
            Expr::Num(_) | Expr::Var(_) => {}
        }
    }
}

/// Why a number literal is refused.
#[derive(Debug, PartialEq)]
pub(crate) enum NumberProblem {
    /// More than [`MAX_DIGITS`] digits; the count is given.
    TooManyDigits(usize),
    /// A decimal exponent beyond [`MAX_EXPONENT`] either way.
    ExponentTooLarge,
}

/// Reads `[+-]digits[.digits][e[+-]digits]` (or `.digits...`) exactly: `0.3` is 3/10, never a
/// float. Sizes are checked before any big number is built, so `1e1000000000` costs nothing.
pub(crate) fn exact_decimal(text: &str) -> Result<BigRational, NumberProblem> {
    let (negative, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (integer, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = integer.len() + fraction.len();
    if digits > MAX_DIGITS {
        return Err(NumberProblem::TooManyDigits(digits));
    }
    let exponent: i64 = match exponent {
        None => 0,
        Some(e) => {
            let (sign, magnitude) = match e.as_bytes().first() {
                Some(b'-') => (-1, &e[1..]),
                Some(b'+') => (1, &e[1..]),
                _ => (1, e),
            };
            let magnitude = magnitude.trim_start_matches('0');
            // Compare lengths first: the digit string may be arbitrarily long.
            let value = if magnitude.len() > 4 {
                None
            } else {
                magnitude
                    .parse::<u32>()
                    .ok()
                    .or(magnitude.is_empty().then_some(0))
            };
            match value {
                Some(v) if v <= MAX_EXPONENT => sign * i64::from(v),
                _ => return Err(NumberProblem::ExponentTooLarge),
            }
        }
    };
    let mut all = String::with_capacity(digits);
    all.push_str(integer);
    all.push_str(fraction);
    let scale = exponent - fraction.len() as i64;
    let value = small_decimal(&all, scale).unwrap_or_else(|| big_decimal(&all, scale));
    Ok(if negative { -value } else { value })
}

/// `digits · 10^scale`.
fn big_decimal(digits: &str, scale: i64) -> BigRational {
    let mantissa = BigInt::parse_bytes(digits.as_bytes(), 10).unwrap_or_default();
    let power = BigInt::from(10u32).pow(scale.unsigned_abs() as u32);
    if scale >= 0 {
        BigRational::from_integer(mantissa * power)
    } else {
        BigRational::new(mantissa, power)
    }
}

/// `digits · 10^scale` in `u64`s when the digits and the power of ten fit (as the literals of
/// most specs do): `big_decimal` reduces with a bignum gcd. `None` when something does not fit.
fn small_decimal(digits: &str, scale: i64) -> Option<BigRational> {
    // 19 digits are below 10^19 < 2^64; `parse` also refuses the empty string.
    if digits.len() > 19 {
        return None;
    }
    let mantissa: u64 = digits.parse().ok()?;
    let power = 10u64.checked_pow(u32::try_from(scale.unsigned_abs()).ok()?)?;
    if scale >= 0 {
        return Some(BigRational::from_integer(
            mantissa.checked_mul(power)?.into(),
        ));
    }
    let gcd = mantissa.gcd(&power);
    Some(BigRational::new_raw(
        (mantissa / gcd).into(),
        (power / gcd).into(),
    ))
}

/// Whether a literal is digits only (no sign, point or exponent).
fn is_plain_integer(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// A literal cut short for a message, so a 10,000-digit number does not flood the terminal.
pub(crate) fn abbreviate(text: &str) -> String {
    const MAX: usize = 24;
    if text.chars().count() <= MAX {
        text.to_string()
    } else {
        let head: String = text.chars().take(MAX - 3).collect();
        format!("{head}...")
    }
}

/// `U+0007` style name of a character.
pub(crate) fn code_point(c: char) -> String {
    format!("U+{:04X}", u32::from(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ratio(n: i64, d: i64) -> BigRational {
        BigRational::new(BigInt::from(n), BigInt::from(d))
    }

    #[test]
    fn small_decimals_are_the_big_ones() {
        let digits = [
            "0",
            "00",
            "1",
            "5",
            "50",
            "0050",
            "25",
            "125",
            "1000",
            "123456789",
            "9999999999999999999",
            "1844674407370955161",
            "18446744073709551615",
        ];
        for text in digits {
            for scale in [-25, -20, -19, -18, -3, -2, -1, 0, 1, 2, 5, 18, 19, 20] {
                let expected = big_decimal(text, scale);
                match small_decimal(text, scale) {
                    Some(actual) => {
                        assert_eq!(actual, expected, "{text}e{scale}");
                        assert_eq!(actual.numer(), expected.numer());
                        assert_eq!(actual.denom(), expected.denom());
                    }
                    // Left to `big_decimal` only when a part does not fit a `u64`.
                    None => assert!(
                        text.len() > 19 || scale.abs() > 19 || expected.numer().bits() > 64,
                        "{text}e{scale}"
                    ),
                }
            }
        }
        assert!(small_decimal("", 0).is_none());
    }

    #[test]
    fn decimals_are_exact() {
        assert_eq!(exact_decimal("0.3"), Ok(ratio(3, 10)));
        assert_eq!(exact_decimal(".5"), Ok(ratio(1, 2)));
        assert_eq!(exact_decimal("2.5e-3"), Ok(ratio(1, 400)));
        assert_eq!(exact_decimal("1E4"), Ok(ratio(10000, 1)));
        assert_eq!(exact_decimal("-0.25"), Ok(ratio(-1, 4)));
        assert_eq!(exact_decimal("+12"), Ok(ratio(12, 1)));
        assert_eq!(exact_decimal("1e+0003"), Ok(ratio(1000, 1)));
        assert_eq!(exact_decimal("0e0"), Ok(ratio(0, 1)));
    }

    #[test]
    fn absurd_numbers_are_refused_cheaply() {
        assert_eq!(
            exact_decimal(&"7".repeat(1001)),
            Err(NumberProblem::TooManyDigits(1001))
        );
        assert!(exact_decimal(&"7".repeat(1000)).is_ok());
        assert_eq!(
            exact_decimal("1e1001"),
            Err(NumberProblem::ExponentTooLarge)
        );
        assert_eq!(
            exact_decimal("1e-1001"),
            Err(NumberProblem::ExponentTooLarge)
        );
        assert!(exact_decimal("1e-1000").is_ok());
        assert_eq!(
            exact_decimal("1e1000000000"),
            Err(NumberProblem::ExponentTooLarge)
        );
        let zeros = format!("1e{}1", "0".repeat(100_000));
        assert_eq!(exact_decimal(&zeros), Ok(ratio(10, 1)));
    }
}
