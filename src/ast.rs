//! The surface syntax of a `.bp` spec, as parsed, with a span on everything a diagnostic may
//! point at. Names are not resolved here; `graph` does that.

use num_rational::BigRational;

use crate::diag::Span;

/// A whole spec file: its statements in source order.
#[derive(Clone, Debug, PartialEq)]
pub struct Spec {
    /// The statements, in source order.
    pub items: Vec<Item>,
}

/// A name as written, with where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ident {
    /// The name, e.g. `b_h11`.
    pub name: String,
    /// Where it stands.
    pub span: Span,
}

/// A numeric literal, read exactly: `0.3` is 3/10, `-1/3`, `2.5e-3`.
#[derive(Clone, Debug, PartialEq)]
pub struct Number {
    /// The exact value.
    pub value: BigRational,
    /// The literal as written (for messages and for keeping the author's digits).
    pub text: String,
    /// Where it stands.
    pub span: Span,
}

/// Where a value comes from: a literal, or a range a seed draws from.
// A spec holds a handful of these, so the size of the larger variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum ValueSpec {
    /// `0.16`, `-1/3`
    Literal(Number),
    /// `uniform(a, b, step s)`: one of a, a + s, a + 2s, ..., up to b, equally likely.
    Uniform {
        /// Lowest value.
        low: Number,
        /// Highest value (included when b - a is a multiple of s).
        high: Number,
        /// Grid step.
        step: Number,
        /// The whole `uniform(...)` form.
        span: Span,
    },
    /// `choice(v1, v2, ...)`: one of the listed values, equally likely.
    Choice {
        /// The candidates.
        options: Vec<Number>,
        /// The whole `choice(...)` form.
        span: Span,
    },
}

impl ValueSpec {
    /// Where the value form stands.
    pub fn span(&self) -> Span {
        match self {
            ValueSpec::Literal(n) => n.span,
            ValueSpec::Uniform { span, .. } | ValueSpec::Choice { span, .. } => *span,
        }
    }
}

/// The kind of a declared (non-computed) quantity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeclKind {
    /// `input x1 = 0.3`: data fed to the network; its gradient is reported, never updated.
    Input,
    /// `param w1 = 0.16`: a trained weight or bias; gets a gradient and an update.
    Param,
    /// `target y = 1`: the desired output.
    Target,
    /// `const c = 2`: a given number that is not trained.
    Const,
    /// `rate eta = 0.01`: the learning rate.
    Rate,
}

impl DeclKind {
    /// The keyword that declares this kind.
    pub fn keyword(self) -> &'static str {
        match self {
            DeclKind::Input => "input",
            DeclKind::Param => "param",
            DeclKind::Target => "target",
            DeclKind::Const => "const",
            DeclKind::Rate => "rate",
        }
    }
}

/// A binary arithmetic operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// `a + b`
    Add,
    /// `a - b`
    Sub,
    /// `a * b`
    Mul,
    /// `a / b`
    Div,
}

/// An expression on the right of `=`.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// `0.5` (boxed, as is a power's exponent: a number is the largest thing an expression
    /// holds, and an `mlp`'s sums have hundreds of thousands of nodes that are not numbers).
    Num(Box<Number>),
    /// `w1`
    Var(Ident),
    /// `-e`
    Neg {
        /// The negated expression.
        operand: Box<Expr>,
        /// The whole `-e`.
        span: Span,
    },
    /// `a + b`, `a - b`, `a * b`, `a / b`
    Binary {
        /// Which operator.
        op: BinOp,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
        /// The whole expression.
        span: Span,
    },
    /// `e ^ n` with an integer literal exponent (possibly negative).
    Pow {
        /// The base.
        base: Box<Expr>,
        /// The exponent, an integer.
        exponent: Box<Number>,
        /// The whole expression.
        span: Span,
    },
    /// `f(a, b, ...)`
    Call {
        /// The function name as written (boxed, so that an expression node is 48 bytes).
        func: Box<Ident>,
        /// The arguments.
        args: Vec<Expr>,
        /// The whole call.
        span: Span,
    },
}

impl Expr {
    /// Calls `visit` on this expression and every sub-expression, parents before children.
    /// Iterative, so a 50,000-term sum (a left-nested chain as deep) cannot overflow the stack.
    pub fn walk<'a>(&'a self, mut visit: impl FnMut(&'a Expr)) {
        let mut stack = vec![self];
        while let Some(expr) = stack.pop() {
            visit(expr);
            match expr {
                Expr::Num(_) | Expr::Var(_) => {}
                Expr::Neg { operand, .. } => stack.push(operand),
                Expr::Binary { lhs, rhs, .. } => {
                    stack.push(rhs);
                    stack.push(lhs);
                }
                Expr::Pow { base, .. } => stack.push(base),
                Expr::Call { args, .. } => stack.extend(args.iter().rev()),
            }
        }
    }

    /// Where the expression stands.
    pub fn span(&self) -> Span {
        match self {
            Expr::Num(n) => n.span,
            Expr::Var(i) => i.span,
            Expr::Neg { span, .. }
            | Expr::Binary { span, .. }
            | Expr::Pow { span, .. }
            | Expr::Call { span, .. } => *span,
        }
    }
}

/// One layer of `mlp 2 -> 3 tanh -> 2 sigmoid`, after the input width.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerSpec {
    /// Number of units.
    pub units: Number,
    /// Activation name as written (`sigmoid`, `tanh`, `relu`, `leaky_relu`, `softplus`,
    /// `identity`/`linear`, `softmax`); `None` means `identity`.
    pub activation: Option<Ident>,
    /// The layer's text.
    pub span: Span,
}

/// What `loss` says.
#[derive(Clone, Debug, PartialEq)]
pub enum LossBody {
    /// `loss L = expr`
    Expr(Expr),
    /// `loss half_squared_error`: a named loss form over the outputs and targets.
    Named(Ident),
}

/// What a `questions` block asks (used by worksheets).
#[derive(Clone, Debug, PartialEq)]
pub struct Question {
    /// `forward`, `backward`, `update`, `loss_after`, or a name of the spec.
    pub target: Ident,
    /// `points 2` after the target, if given.
    pub points: Option<Number>,
}

/// One statement of a spec.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// `title "A 2-3-2 network"`
    Title {
        /// The title text, escapes resolved.
        text: String,
        /// The whole statement.
        span: Span,
    },
    /// `input x1 = 0.3`, `param w2` (value left out), `param w = uniform(...)`
    Decl {
        /// Which keyword.
        kind: DeclKind,
        /// The declared name.
        name: Ident,
        /// The value, if given.
        value: Option<ValueSpec>,
        /// The whole statement.
        span: Span,
    },
    /// `inputs x = [0.5, -0.25]`, `targets y = [0, 1]`: declares x1, x2 / y1, y2.
    VecDecl {
        /// `Input` or `Target`.
        kind: DeclKind,
        /// The name prefix; element i (1-based) is named prefix + i.
        prefix: Ident,
        /// The element values.
        values: Vec<ValueSpec>,
        /// The whole statement.
        span: Span,
    },
    /// `weights = uniform(-0.5, 0.5, step 0.01)` (default for every generated weight)
    Weights {
        /// The value (usually a range).
        value: ValueSpec,
        /// The whole statement.
        span: Span,
    },
    /// `biases = 0` (default for every generated bias; falls back to `weights`)
    Biases {
        /// The value (usually a range).
        value: ValueSpec,
        /// The whole statement.
        span: Span,
    },
    /// `latex w5 = "w^{(2)}_{11}"`
    Latex {
        /// The name whose display form is overridden.
        name: Ident,
        /// The LaTeX, verbatim.
        latex: String,
        /// The whole statement.
        span: Span,
    },
    /// `h11 = b_h11 + w1*x1 + w2*x2`
    Equation {
        /// The defined node.
        name: Ident,
        /// Its definition.
        expr: Expr,
        /// The whole statement.
        span: Span,
    },
    /// `p1, p2, p3 = softmax(z1, z2, z3)`: a function of a group defining several nodes.
    GroupEquation {
        /// The defined nodes, in order.
        names: Vec<Ident>,
        /// The group function name as written (`softmax`).
        func: Ident,
        /// Its arguments.
        args: Vec<Expr>,
        /// The whole statement.
        span: Span,
    },
    /// `mlp 2 -> 3 tanh -> 2 sigmoid`
    Mlp {
        /// The input width.
        inputs: Number,
        /// The layers after the input.
        layers: Vec<LayerSpec>,
        /// The whole statement.
        span: Span,
    },
    /// `loss L = ...` or `loss half_squared_error`
    Loss {
        /// The loss node's name; `L` when left out.
        name: Option<Ident>,
        /// The definition.
        body: LossBody,
        /// The whole statement.
        span: Span,
    },
    /// `seed 42`: the default seed for ranges when the command line gives none.
    Seed {
        /// The seed.
        value: Number,
        /// The whole statement.
        span: Span,
    },
    /// `questions forward, backward points 2, w5 points 3`
    Questions {
        /// What is asked, in order.
        questions: Vec<Question>,
        /// The whole statement.
        span: Span,
    },
    /// `hide x1, w2`: given values not printed on the student's sheet.
    Hide {
        /// The hidden names.
        names: Vec<Ident>,
        /// The whole statement.
        span: Span,
    },
    /// `allow dead_relu`: switches off one check on randomized variants.
    Allow {
        /// What is allowed, as written.
        what: Ident,
        /// The whole statement.
        span: Span,
    },
}

impl Item {
    /// Where the statement stands.
    pub fn span(&self) -> Span {
        match self {
            Item::Title { span, .. }
            | Item::Decl { span, .. }
            | Item::VecDecl { span, .. }
            | Item::Weights { span, .. }
            | Item::Biases { span, .. }
            | Item::Latex { span, .. }
            | Item::Equation { span, .. }
            | Item::GroupEquation { span, .. }
            | Item::Mlp { span, .. }
            | Item::Loss { span, .. }
            | Item::Seed { span, .. }
            | Item::Questions { span, .. }
            | Item::Hide { span, .. }
            | Item::Allow { span, .. } => *span,
        }
    }
}
