//! The catalogue of functions a spec may call: their surface names, arities and display forms.
//!
//! Derivative rules live in `symbolic::diff` and evaluation in `eval`; this module only names
//! things, so every stage can share one enum.

use std::fmt;

/// A function applied to one or more arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Func {
    /// `sigmoid(x)` = 1 / (1 + e^-x)
    Sigmoid,
    /// `tanh(x)`
    Tanh,
    /// `relu(x)` = max(0, x)
    Relu,
    /// `leaky_relu(x, alpha)` = x for x > 0, alpha x otherwise (alpha defaults to 1/100)
    LeakyRelu,
    /// `softplus(x)` = log(1 + e^x)
    Softplus,
    /// `exp(x)`
    Exp,
    /// `log(x)`, the natural logarithm
    Log,
    /// `identity(x)` = x; kept as a node so a linear layer reads like the others
    Identity,
    /// `step(x)` = 1 for x > 0, 0 otherwise: the derivative of `relu` (0 at x = 0 by convention)
    Step,
    /// `leaky_step(x, alpha)` = 1 for x > 0, alpha otherwise: the derivative of `leaky_relu`
    LeakyStep,
    /// Component `i` (0-based) of `softmax(z_1, ..., z_k)` = e^{z_i} / sum_j e^{z_j}
    Softmax(u32),
}

/// How many arguments a function takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arity {
    /// Exactly this many.
    Exactly(usize),
    /// Between these many, inclusive.
    Between(usize, usize),
    /// At least this many.
    AtLeast(usize),
}

impl Arity {
    /// Whether `n` arguments are allowed.
    pub fn accepts(self, n: usize) -> bool {
        match self {
            Arity::Exactly(k) => n == k,
            Arity::Between(lo, hi) => (lo..=hi).contains(&n),
            Arity::AtLeast(k) => n >= k,
        }
    }
}

impl fmt::Display for Arity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arity::Exactly(1) => write!(f, "1 argument"),
            Arity::Exactly(k) => write!(f, "{k} arguments"),
            Arity::Between(lo, hi) => write!(f, "{lo} to {hi} arguments"),
            Arity::AtLeast(k) => write!(f, "at least {k} arguments"),
        }
    }
}

/// The slope of `leaky_relu` when the spec gives none.
pub const DEFAULT_LEAKY_SLOPE: (i64, i64) = (1, 100);

/// The element-wise functions a spec may call by name (softmax is a group form, see `SOFTMAX`).
pub const CALLABLE: &[(&str, Func)] = &[
    ("sigmoid", Func::Sigmoid),
    ("tanh", Func::Tanh),
    ("relu", Func::Relu),
    ("leaky_relu", Func::LeakyRelu),
    ("softplus", Func::Softplus),
    ("exp", Func::Exp),
    ("log", Func::Log),
    ("ln", Func::Log),
    ("identity", Func::Identity),
    ("step", Func::Step),
];

/// The surface name of the group function.
pub const SOFTMAX: &str = "softmax";

impl Func {
    /// Looks up an element-wise function by its surface name.
    pub fn by_name(name: &str) -> Option<Func> {
        CALLABLE.iter().find(|(n, _)| *n == name).map(|&(_, f)| f)
    }

    /// The surface name, as written in a spec.
    pub fn name(self) -> &'static str {
        match self {
            Func::Sigmoid => "sigmoid",
            Func::Tanh => "tanh",
            Func::Relu => "relu",
            Func::LeakyRelu => "leaky_relu",
            Func::Softplus => "softplus",
            Func::Exp => "exp",
            Func::Log => "log",
            Func::Identity => "identity",
            Func::Step => "step",
            Func::LeakyStep => "leaky_step",
            Func::Softmax(_) => SOFTMAX,
        }
    }

    /// The LaTeX command that typesets it before its parenthesized arguments.
    pub fn latex(self) -> &'static str {
        match self {
            Func::Sigmoid => "\\sigma",
            Func::Tanh => "\\tanh",
            Func::Relu => "\\operatorname{ReLU}",
            Func::LeakyRelu => "\\operatorname{LeakyReLU}",
            Func::Softplus => "\\operatorname{softplus}",
            Func::Exp => "\\exp",
            Func::Log => "\\ln",
            Func::Identity => "\\operatorname{id}",
            Func::Step | Func::LeakyStep => "\\operatorname{step}",
            Func::Softmax(_) => "\\operatorname{softmax}",
        }
    }

    /// How many arguments it takes.
    pub fn arity(self) -> Arity {
        match self {
            Func::LeakyRelu => Arity::Between(1, 2),
            Func::LeakyStep => Arity::Exactly(2),
            Func::Softmax(_) => Arity::AtLeast(1),
            _ => Arity::Exactly(1),
        }
    }

    /// Whether the function saturates (sigmoid-like), which makes a variant degenerate when the
    /// pre-activation is large.
    pub fn saturates(self) -> bool {
        matches!(self, Func::Sigmoid | Func::Tanh)
    }
}

impl fmt::Display for Func {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
