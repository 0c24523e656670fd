//! Tests of the reader: the seed slides claim by claim, every notation, names and their
//! candidates, answers files, hostile input, and random input that must never panic.

use super::*;

const SEED: &str = include_str!("../../../tests/data/check/seed-slides.md");
const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/check/read");

// ---- helpers --------------------------------------------------------------------------------

/// A compact rendering of an expression: names as `base_sub` (`'` if updated), derivatives as
/// `dL/dw_5`, every operation parenthesized.
fn show(e: &MathExpr) -> String {
    match e {
        MathExpr::Number(n) => n.clone(),
        MathExpr::Name(n) => show_name(n),
        MathExpr::Grad { of, wrt } => format!("d{}/d{}", show_name(of), show_name(wrt)),
        MathExpr::Neg(a) => format!("-({})", show(a)),
        MathExpr::Add(a, b) => format!("({} + {})", show(a), show(b)),
        MathExpr::Sub(a, b) => format!("({} - {})", show(a), show(b)),
        MathExpr::Mul(a, b) => format!("({} * {})", show(a), show(b)),
        MathExpr::Div(a, b) => format!("({} / {})", show(a), show(b)),
        MathExpr::Pow(a, b) => format!("({} ^ {})", show(a), show(b)),
        MathExpr::Call { func, arg } => format!("{func:?}({})", show(arg)),
        MathExpr::Softmax { index, args } => {
            let args: Vec<String> = args.iter().map(show).collect();
            format!("softmax_{index}({})", args.join(", "))
        }
    }
}

fn show_name(n: &Name) -> String {
    let mut s = n.base.clone();
    if !n.sub.is_empty() {
        s.push('_');
        s.push_str(&n.sub);
    }
    if n.updated {
        s.push('\'');
    }
    s
}

/// Every claim (sides as `line:expr`) and every unreadable entry, one a line.
fn dump(s: &Submission) -> String {
    let mut out = String::new();
    for claim in &s.claims {
        let sides: Vec<String> = claim
            .sides
            .iter()
            .map(|side| format!("{}:{}", side.line, show(&side.expr)))
            .collect();
        out.push_str(&sides.join(" = "));
        out.push('\n');
    }
    for u in &s.unreadable {
        out.push_str(&format!(
            "unreadable {}: {} [{}]\n",
            u.line, u.reason, u.text
        ));
    }
    out
}

/// The claims of a text as `a = b = c` (no lines); asserts nothing is unreadable.
fn claims(text: &str) -> Vec<String> {
    let s = read(text);
    assert!(
        s.unreadable.is_empty(),
        "unexpected unreadable in {text:?}: {:?}",
        s.unreadable
    );
    s.claims
        .iter()
        .map(|c| {
            c.sides
                .iter()
                .map(|side| show(&side.expr))
                .collect::<Vec<_>>()
                .join(" = ")
        })
        .collect()
}

/// The sides of the only claim in a text.
fn sides(text: &str) -> Vec<String> {
    let all = claims(text);
    assert_eq!(all.len(), 1, "expected one claim in {text:?}, got {all:?}");
    all[0].split(" = ").map(str::to_string).collect()
}

/// The reasons of the unreadable entries of a text.
fn reasons(text: &str) -> Vec<String> {
    read(text)
        .unreadable
        .into_iter()
        .map(|u| u.reason)
        .collect()
}

/// The only unreadable reason of a text (and no claims).
fn reason(text: &str) -> String {
    let s = read(text);
    assert!(
        s.claims.is_empty(),
        "unexpected claims in {text:?}: {}",
        dump(&s)
    );
    assert_eq!(
        s.unreadable.len(),
        1,
        "expected one unreadable in {text:?}: {}",
        dump(&s)
    );
    s.unreadable[0].reason.clone()
}

/// The first name in the only claim's first side.
fn name_of(latex: &str) -> Name {
    let s = read(&format!("${latex} = 1$"));
    assert!(s.unreadable.is_empty(), "{latex}: {:?}", s.unreadable);
    match &s.claims[0].sides[0].expr {
        MathExpr::Name(n) => n.clone(),
        other => panic!("{latex} is not a name: {other:?}"),
    }
}

fn name(base: &str, sub: &str, updated: bool, written: &str) -> Name {
    Name {
        base: base.into(),
        sub: sub.into(),
        updated,
        written: written.into(),
    }
}

fn nm(base: &str, sub: &str, written: &str) -> Box<MathExpr> {
    Box::new(MathExpr::Name(name(base, sub, false, written)))
}

fn num(n: &str) -> Box<MathExpr> {
    Box::new(MathExpr::Number(n.into()))
}

fn grad(of: Name, wrt: Name) -> Box<MathExpr> {
    Box::new(MathExpr::Grad { of, wrt })
}

/// Compares with a golden file under `tests/data/check/read` (`UPDATE_GOLDEN=1` rewrites it).
fn golden(file: &str, actual: &str) {
    let path = format!("{DATA}/{file}");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("missing golden file {path} ({e}); run with UPDATE_GOLDEN=1"));
    for (i, (e, a)) in expected.lines().zip(actual.lines()).enumerate() {
        assert_eq!(
            e,
            a,
            "{path} differs at line {} (UPDATE_GOLDEN=1 accepts)",
            i + 1
        );
    }
    assert_eq!(
        expected.lines().count(),
        actual.lines().count(),
        "{path}: number of lines"
    );
}

/// Runs `f` on a thread with an ordinary-sized stack, so a test of deep input proves that depth
/// is bounded rather than that the test thread happens to be large.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(1024 * 1024)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

/// Checks what must hold for any input.
fn check_invariants(text: &str, s: &Submission) {
    let lines = text.matches('\n').count() + 1;
    for claim in &s.claims {
        assert!(
            claim.sides.len() >= 2,
            "claim with fewer than two sides: {claim:?}"
        );
        for side in &claim.sides {
            assert!(
                (1..=lines).contains(&side.line),
                "side line {} of {lines}",
                side.line
            );
            assert!(!side.text.is_empty());
            assert_eq!(side.text, side.text.trim());
        }
    }
    assert!(s.unreadable.len() <= MAX_UNREADABLE);
    assert!(s.claims.len() <= MAX_CLAIMS);
    for u in &s.unreadable {
        assert!(
            (1..=lines).contains(&u.line),
            "unreadable line {} of {lines}",
            u.line
        );
        assert!(
            u.text.chars().count() <= SNIPPET_CHARS + 2,
            "snippet too long: {}",
            u.text
        );
        assert!(!u.reason.is_empty());
        assert!(
            !u.reason.ends_with('.'),
            "reason ends with a period: {}",
            u.reason
        );
        let first = u.reason.chars().next().unwrap();
        assert!(
            !first.is_uppercase(),
            "reason starts upper case: {}",
            u.reason
        );
    }
}

// ---- the seed slides ------------------------------------------------------------------------

#[test]
fn seed_slides_claim_by_claim() {
    let s = read(SEED);
    assert_eq!(s.format, SubmissionFormat::Markdown);
    assert_eq!(s.claims.len(), 64);
    assert_eq!(s.unreadable.len(), 2);
    check_invariants(SEED, &s);
    golden("seed-slides.expected", &dump(&s));
}

#[test]
fn seed_h11_with_its_value() {
    let s = read(SEED);
    let claim = s.claims.iter().find(|c| c.sides[0].line == 101).unwrap();
    let texts: Vec<&str> = claim.sides.iter().map(|side| side.text.as_str()).collect();
    assert_eq!(texts, ["h_{11}", "b_{h11} + w_1 x_1 + w_2 x_2", "0.023"]);
    assert!(claim.sides.iter().all(|side| side.line == 101));
    assert_eq!(
        claim.sides[0].expr,
        MathExpr::Name(name("h", "11", false, "h_{11}"))
    );
    assert_eq!(
        claim.sides[1].expr,
        MathExpr::Add(
            Box::new(MathExpr::Add(
                nm("b", "h11", "b_{h11}"),
                Box::new(MathExpr::Mul(nm("w", "1", "w_1"), nm("x", "1", "x_1"))),
            )),
            Box::new(MathExpr::Mul(nm("w", "2", "w_2"), nm("x", "2", "x_2"))),
        )
    );
    assert_eq!(claim.sides[2].expr, MathExpr::Number("0.023".into()));
}

#[test]
fn seed_aligned_rows_with_continuations() {
    let s = read(SEED);
    let rows: Vec<&Claim> = s.claims.iter().filter(|c| c.sides[0].line == 99).collect();
    assert_eq!(rows.len(), 2);
    let texts: Vec<&str> = rows[0]
        .sides
        .iter()
        .map(|side| side.text.as_str())
        .collect();
    assert_eq!(
        texts,
        [
            "\\frac{\\partial L}{\\partial x_1}",
            "\\frac{\\partial L}{\\partial h_{11}} \\frac{\\partial h_{11}}{\\partial x_1} + \\frac{\\partial L}{\\partial h_{12}} \\frac{\\partial h_{12}}{\\partial x_1}",
            "\\left( \\frac{\\partial L}{\\partial h_{11}} + \\frac{\\partial L}{\\partial h_{12}} \\right) w_1",
            "(0.0005 + 0.0007)(0.16)",
            "0.00019",
        ]
    );
    assert_eq!(show(&rows[1].sides[3].expr), "((0.0005 + 0.0007) * 0.3)");
    assert_eq!(show(&rows[1].sides[4].expr), "0.00036");
    // Every row of the block at line 16 is its own claim.
    let block: Vec<String> = s
        .claims
        .iter()
        .filter(|c| c.sides[0].line == 16)
        .map(|c| show(&c.sides[0].expr))
        .collect();
    assert_eq!(block, ["h_11", "dL/dh_11", "dL/da_11", "a_11"]);
}

#[test]
fn seed_continuation_block_merges_into_the_claim_before() {
    let s = read(SEED);
    let claim = s.claims.iter().find(|c| c.sides[0].line == 103).unwrap();
    let lines: Vec<usize> = claim.sides.iter().map(|side| side.line).collect();
    assert_eq!(lines, [103, 103, 103, 105, 105]);
    assert_eq!(claim.sides[3].text, "(0.002)(0.494)(1 - 0.494)");
    assert_eq!(
        claim.sides[3].expr,
        MathExpr::Mul(
            Box::new(MathExpr::Mul(num("0.002"), num("0.494"))),
            Box::new(MathExpr::Sub(num("1"), num("0.494"))),
        )
    );
    assert_eq!(claim.sides[4].expr, MathExpr::Number("0.0005".into()));
    // No claim starts on a continuation line.
    assert!(
        s.claims
            .iter()
            .all(|c| ![105, 109, 117, 127, 139].contains(&c.sides[0].line))
    );
}

#[test]
fn seed_product_of_gradient_and_sigmoid() {
    let s = read(SEED);
    let claim = s
        .claims
        .iter()
        .filter(|c| c.sides[0].line == 16)
        .nth(1)
        .unwrap();
    assert_eq!(
        claim.sides[2].text,
        "\\frac{\\partial L}{\\partial a_{11}} \\sigma(h_{11})"
    );
    assert_eq!(
        claim.sides[2].expr,
        MathExpr::Mul(
            grad(name("L", "", false, "L"), name("a", "11", false, "a_{11}")),
            Box::new(MathExpr::Call {
                func: Func::Sigmoid,
                arg: nm("h", "11", "h_{11}")
            }),
        )
    );
}

#[test]
fn seed_weight_update() {
    let s = read(SEED);
    let claim = s.claims.iter().find(|c| c.sides[0].line == 137).unwrap();
    assert_eq!(
        claim.sides[0].expr,
        MathExpr::Name(name("w", "5", true, "w_{5(new)}"))
    );
    assert_eq!(
        claim.sides[1].expr,
        MathExpr::Sub(
            nm("w", "5", "w_5"),
            Box::new(MathExpr::Mul(
                Box::new(MathExpr::Mul(
                    nm("eta", "", "\\eta"),
                    grad(name("L", "", false, "L"), name("z", "", false, "z")),
                )),
                grad(name("z", "", false, "z"), name("w", "5", false, "w_5")),
            )),
        )
    );
    // `= 0.249 - 0.01 \frac{0.035}{0.14} = ...` on line 139 continues it.
    let lines: Vec<usize> = claim.sides.iter().map(|side| side.line).collect();
    assert_eq!(lines, [137, 137, 139, 139, 139]);
    assert_eq!(
        claim.sides[2].expr,
        MathExpr::Sub(
            num("0.249"),
            Box::new(MathExpr::Mul(
                num("0.01"),
                Box::new(MathExpr::Div(num("0.035"), num("0.14")))
            )),
        )
    );
    assert_eq!(claim.sides[4].text, "0.2465");
}

#[test]
fn seed_unreadable_entries() {
    let s = read(SEED);
    let u = &s.unreadable[0];
    assert_eq!(u.line, 91);
    assert_eq!(
        u.reason,
        "derivative with respect to an expression (`y - y_{pred}`), not a single quantity"
    );
    assert!(
        u.text
            .contains("\\frac{\\partial L}{\\partial y - y_{pred}}"),
        "{}",
        u.text
    );
    // The other rows of that block are still read.
    assert_eq!(s.claims.iter().filter(|c| c.sides[0].line == 91).count(), 2);
    let u = &s.unreadable[1];
    assert_eq!(u.line, 155);
    assert_eq!(u.reason, "cannot evaluate `\\sum`");
    assert!(
        u.text.starts_with("\\sum_{i=1}^{NodesInNextLayer}"),
        "{}",
        u.text
    );
}

#[test]
fn seed_math_without_equals_is_neither_claim_nor_unreadable() {
    let s = read(SEED);
    for line in [5, 7, 11, 49, 51, 55, 156, 157, 158, 167, 168, 169] {
        assert!(
            s.claims
                .iter()
                .all(|c| c.sides.iter().all(|side| side.line != line)),
            "{line}"
        );
        assert!(s.unreadable.iter().all(|u| u.line != line), "{line}");
    }
}

#[test]
fn seed_last_slide_uses_words_as_names() {
    let s = read(SEED);
    let claim = s.claims.last().unwrap();
    assert_eq!(claim.sides[0].line, 165);
    assert_eq!(show(&claim.sides[0].expr), "w'");
    assert_eq!(
        show(&claim.sides[1].expr),
        "(w - (eta * (dL/dNode * Sigmoid(Node))))"
    );
}

#[test]
fn seed_with_crlf_reads_the_same() {
    let crlf = SEED.replace('\n', "\r\n");
    let (a, b) = (read(SEED), read(&crlf));
    assert_eq!(dump(&a), dump(&b));
    let texts = |s: &Submission| -> Vec<String> {
        s.claims
            .iter()
            .flat_map(|c| c.sides.iter().map(|side| side.text.clone()))
            .collect()
    };
    assert_eq!(texts(&a), texts(&b));
}

#[test]
fn sample_files() {
    let text = std::fs::read_to_string(format!("{DATA}/notations.md")).unwrap();
    let s = read(&text);
    assert_eq!(s.format, SubmissionFormat::Markdown);
    check_invariants(&text, &s);
    golden("notations.expected", &dump(&s));
    let text = std::fs::read_to_string(format!("{DATA}/answers.txt")).unwrap();
    let s = read(&text);
    assert_eq!(s.format, SubmissionFormat::Plain);
    check_invariants(&text, &s);
    golden("answers.expected", &dump(&s));
}

// ---- finding math in Markdown ---------------------------------------------------------------

#[test]
fn math_delimiters() {
    assert_eq!(
        claims("inline $a = 1$ and display $$b = 2$$"),
        ["a = 1", "b = 2"]
    );
    assert_eq!(claims("$$\nc = 3\n$$"), ["c = 3"]);
    assert_eq!(
        claims("\\[ d = 4 \\] and \\( e = 5 \\)"),
        ["d = 4", "e = 5"]
    );
    assert_eq!(
        claims("\\begin{align}\nf &= 6 \\\\\ng &= 7\n\\end{align}"),
        ["f = 6", "g = 7"]
    );
    assert_eq!(claims("```math\nh = 8\n```"), ["h = 8"]);
}

#[test]
fn not_math() {
    let s = read(
        "costs $5 and $6.\n\nor \\$x = 1\\$;\n\n`$y = 2$` is code\n\n```\n$$z = 3$$\n```\n<!-- $w = 4$ -->",
    );
    assert_eq!(s.format, SubmissionFormat::Plain, "{s:?}");
    // ... and as an answers file those are lines that are not equations.
    assert_eq!(read("`$y = 2$` and $x = 1$").claims.len(), 1);
    assert_eq!(
        claims("$x_1$ and $$x_2$$ and $w_1 \\rightarrow$"),
        Vec::<String>::new()
    );
    assert_eq!(read("$x_1$").format, SubmissionFormat::Markdown);
}

#[test]
fn lines_of_sides_in_multiline_math() {
    let s = read("intro\n\n$$\na = b\n  = c\n$$\n\nand $d\n= e$");
    let lines: Vec<Vec<usize>> = s
        .claims
        .iter()
        .map(|c| c.sides.iter().map(|side| side.line).collect())
        .collect();
    assert_eq!(lines, [vec![4, 4, 5], vec![8, 9]]);
}

#[test]
fn unterminated_display_math() {
    let s = read("text\n$$a = b\n\nmore $c = d$");
    assert_eq!(s.unreadable.len(), 1);
    assert_eq!(s.unreadable[0].line, 2);
    assert!(s.unreadable[0].reason.starts_with("unterminated `$$`"));
    assert_eq!(s.unreadable[0].text, "$$a = b");
    // Reading goes on after it.
    assert_eq!(s.claims.len(), 1);
    let s = read("$$\\begin{aligned} a &= b \\end{aligned}$$\n\n\\begin{align} c &= d");
    assert_eq!(s.claims.len(), 1);
    assert_eq!(
        s.unreadable[0].reason,
        "`\\begin{align}` without `\\end{align}`"
    );
    assert_eq!(s.unreadable[0].line, 3);
}

// ---- rows, separators, continuations --------------------------------------------------------

#[test]
fn aligned_environments() {
    assert_eq!(
        claims("$$\\begin{aligned} a &= b \\\\ &= c \\\\ d &= e \\end{aligned}$$"),
        ["a = b = c", "d = e"]
    );
    assert_eq!(
        claims("$$\\begin{align*} a &= b \\\\[2pt] c &= d \\end{align*}$$"),
        ["a = b", "c = d"]
    );
    assert_eq!(
        claims("$$\\begin{split} h &= b + w_1 x_1 \\\\ &\\quad + w_2 x_2 = 5 \\end{split}$$"),
        ["h = ((b + (w_1 * x_1)) + (w_2 * x_2)) = 5"]
    );
    assert_eq!(
        claims("$$\\begin{gather} a = 1 \\\\ b = 2 \\end{gather}$$"),
        ["a = 1", "b = 2"]
    );
    assert_eq!(
        claims("$$\\begin{alignedat}{2} a &= 1 \\end{alignedat}$$"),
        ["a = 1"]
    );
    assert_eq!(claims("$$a = 1 \\\\ b = 2$$"), ["a = 1", "b = 2"]);
    assert_eq!(
        claims("$$\\begin{eqnarray} a &=& 1 \\end{eqnarray}$$"),
        ["a = 1"]
    );
}

#[test]
fn separate_equations_in_one_row() {
    assert_eq!(claims("$a = 1, \\quad b = 2.$"), ["a = 1", "b = 2"]);
    assert_eq!(claims("$a = 1; b = 2$"), ["a = 1", "b = 2"]);
    assert_eq!(
        claims("$$a = 1 \\Rightarrow b = 2 \\implies c = 3$$"),
        ["a = 1", "b = 2", "c = 3"]
    );
    assert_eq!(
        claims("$$a = 0.494 \\quad \\text{(rounded)}$$"),
        ["a = 0.494"]
    );
    assert_eq!(
        claims("$$\\text{so } a = 1 \\text{ and } b = 2$$"),
        ["a = 1", "b = 2"]
    );
    assert_eq!(claims("$$a = 1 \\tag{3}\\label{eq:a}$$"), ["a = 1"]);
    assert_eq!(claims("$$(1) \\qquad a = 1$$"), ["a = 1"]);
}

#[test]
fn continuations() {
    assert_eq!(claims("$$a = b$$\n\nSo\n\n$$= c = d$$"), ["a = b = c = d"]);
    assert_eq!(claims("$a = 1$ then $= 2$"), ["a = 1 = 2"]);
    assert_eq!(
        reason("$$= 5$$"),
        "starts with `=` but no equation comes before it"
    );
    assert_eq!(
        reasons("$$a = \\foo$$ $$= 5$$"),
        [
            "unknown command `\\foo`",
            "continues an equation that could not be read"
        ]
    );
    // Math without `=` in between does not break the chain.
    assert_eq!(claims("$$a = b$$ $x$ $$= c$$"), ["a = b = c"]);
    // Only the first equation of a row continues.
    assert_eq!(reasons("$$a = b$$ $$c = d, = e$$"), ["nothing before `=`"]);
}

#[test]
fn relations_like_equals() {
    assert_eq!(
        sides("$a \\approx 0.5 := b ≈ c \\coloneqq d$"),
        ["a", "0.5", "b", "c", "d"]
    );
}

// ---- expressions ----------------------------------------------------------------------------

#[test]
fn products_and_precedence() {
    assert_eq!(
        sides("$a = (0.002)(0.494) = 0.035(0.461) = w_1 x_1 = 2 \\cdot 3 \\times 4 * 5$"),
        [
            "a",
            "(0.002 * 0.494)",
            "(0.035 * 0.461)",
            "(w_1 * x_1)",
            "(((2 * 3) * 4) * 5)"
        ]
    );
    assert_eq!(
        sides("$a = 1 - 2 - 3 = 1 / 2 / 3 = -x^2 = a \\cdot -b = 1/2 x = (a+b)^{2}$"),
        [
            "a",
            "((1 - 2) - 3)",
            "((1 / 2) / 3)",
            "-((x ^ 2))",
            "(a * -(b))",
            "((1 / 2) * x)",
            "((a + b) ^ 2)"
        ]
    );
    assert_eq!(
        sides("$a = \\left( b + c \\right) d = \\big( b \\big) \\Bigl[ c \\Bigr] = \\{ b \\}$"),
        ["a", "((b + c) * d)", "(b * c)", "b"]
    );
    assert_eq!(
        sides("$a = \\boxed{0.5} = \\color{red}{b} = \\underbrace{c}_{\\text{note}}$"),
        ["a", "0.5", "b", "c"]
    );
}

#[test]
fn numbers_as_written() {
    assert_eq!(
        sides(
            "$a = -0.12 = 0.50 = .5 = 5e-4 = 5 \\times 10^{-4} = 0,5 = 0{,}25 = \\frac12 = - 0.104 \\cdot 0.5$"
        ),
        [
            "a",
            "-0.12",
            "0.50",
            ".5",
            "5e-4",
            "(5 * (10 ^ -4))",
            "0.5",
            "0.25",
            "(1 / 2)",
            "(-0.104 * 0.5)"
        ]
    );
    assert_eq!(sides("$w_2 = -0.12$")[1], "-0.12");
    assert_eq!(
        read("$a = -0.12$").claims[0].sides[1].expr,
        MathExpr::Number("-0.12".into())
    );
    assert_eq!(sides("$a = --0.5 = -(0.5)$"), ["a", "-(-0.5)", "-0.5"]);
}

#[test]
fn functions() {
    assert_eq!(
        sides(
            "$a = \\sigma(h) = \\sigma'(h) = \\sigma^{\\prime}(h) = \\sigma\\left(h\\right) = sigmoid(h) = \\sigma$"
        ),
        [
            "a",
            "Sigmoid(h)",
            "SigmoidPrime(h)",
            "SigmoidPrime(h)",
            "Sigmoid(h)",
            "Sigmoid(h)",
            "sigma"
        ]
    );
    assert_eq!(
        sides(
            "$a = \\tanh(x) = \\tanh^2(x) = \\ln x = \\log(x) = \\exp(x) = e^{-z} = e^x = \\mathrm{e}^{x}$"
        ),
        [
            "a",
            "Tanh(x)",
            "(Tanh(x) ^ 2)",
            "Log(x)",
            "Log(x)",
            "Exp(x)",
            "Exp(-(z))",
            "Exp(x)",
            "Exp(x)"
        ]
    );
    assert_eq!(
        sides(
            "$a = \\max(0, h) = \\max(h, 0) = \\operatorname{ReLU}(h) = \\text{ReLU}(h) = \\mathrm{relu}(h) = relu(h)$"
        ),
        [
            "a", "Relu(h)", "Relu(h)", "Relu(h)", "Relu(h)", "Relu(h)", "Relu(h)"
        ]
    );
    assert_eq!(
        sides(
            "$a = \\operatorname{softplus}(x) = \\sqrt{x} = \\sigma(z)^2 = \\frac{1}{1 + e^{-z}}$"
        ),
        [
            "a",
            "Softplus(x)",
            "(x ^ (1 / 2))",
            "(Sigmoid(z) ^ 2)",
            "(1 / (1 + Exp(-(z))))"
        ]
    );
    assert_eq!(
        sides("$\\sigma(h_{11})(1 - \\sigma(h_{11})) = 0.25$")[0],
        "(Sigmoid(h_11) * (1 - Sigmoid(h_11)))"
    );
}

#[test]
fn derivatives() {
    assert_eq!(
        sides(
            "$a = \\frac{\\partial L}{\\partial h_{11}} = \\partial L/\\partial w_1 = dL/dw5 = \\frac{dL}{dw_5} \
             = \\frac{d L}{d w_5} = \\frac{\\mathrm{d}L}{\\mathrm{d}w_5} = \\dfrac{\\partial{L}}{\\partial{w_5}} \
             = \\frac{\\partial z}{\\partial w_5} = ∂L/∂w_5$"
        ),
        [
            "a", "dL/dh_11", "dL/dw_1", "dL/dw_5", "dL/dw_5", "dL/dw_5", "dL/dw_5", "dL/dw_5",
            "dz/dw_5", "dL/dw_5"
        ]
    );
    // A product of derivatives, a derivative times a bracket, and names that start with `d`.
    assert_eq!(
        sides(
            "$a = \\frac{\\partial L}{\\partial z} \\frac{\\partial z}{\\partial w} = dL/dz (1 - z) = delta/2 = \\frac{da}{b}$"
        ),
        [
            "a",
            "(dL/dz * dz/dw)",
            "(dL/dz * (1 - z))",
            "(delta / 2)",
            "(da / b)"
        ]
    );
    let s = read("$\\frac{\\partial L}{\\partial h_{11}} = 1$");
    assert_eq!(
        s.claims[0].sides[0].expr,
        MathExpr::Grad {
            of: name("L", "", false, "L"),
            wrt: name("h", "11", false, "h_{11}")
        }
    );
}

#[test]
fn unicode_symbols() {
    assert_eq!(
        sides("$σ(h) = ∂L/∂w_1 = 2 · 3 × 4 − 1 = η = x² = a\u{a0}b$"),
        [
            "Sigmoid(h)",
            "dL/dw_1",
            "(((2 * 3) * 4) - 1)",
            "eta",
            "(x ^ 2)",
            "(a * b)"
        ]
    );
}

// ---- names ----------------------------------------------------------------------------------

#[test]
fn names_as_written() {
    for (latex, base, sub, updated) in [
        ("h_{11}", "h", "11", false),
        ("b_{h11}", "b", "h11", false),
        ("y_{pred}", "y", "pred", false),
        ("y_pred", "y", "pred", false),
        ("y_{\\text{pred}}", "y", "pred", false),
        ("w_5", "w", "5", false),
        ("w_12", "w", "12", false),
        ("\\eta", "eta", "", false),
        ("x1", "x", "1", false),
        ("L", "L", "", false),
        ("h_{1,1}", "h", "1,1", false),
        ("a^{(1)}_{1}", "a", "(1)1", false),
        ("w^{(2)}_{12}", "w", "(2)12", false),
        ("w_{12}^{(2)}", "w", "(2)12", false),
        ("b_{h_{11}}", "b", "h11", false),
        ("\\delta_2", "delta", "2", false),
        ("\\mathit{out}_{1}", "out", "1", false),
        ("\\mathcal{L}", "L", "", false),
        ("\\hat{y}", "y", "hat", false),
        ("w_{5(new)}", "w", "5", true),
        ("w_5^{new}", "w", "5", true),
        ("w_5^{\\text{new}}", "w", "5", true),
        ("w_5^{(new)}", "w", "5", true),
        ("w_5'", "w", "5", true),
        ("w_5^{+}", "w", "5", true),
        ("w_{new}", "w", "", true),
        ("w_{5,\\mathrm{new}}", "w", "5", true),
        ("w_5^{(t+1)}", "w", "5", true),
        ("w_{t+1}", "w", "", true),
        ("w_5^{(t)}", "w", "5", false),
        ("w_{old}", "w", "", false),
        ("w5_new", "w", "5", true),
    ] {
        let n = name_of(latex);
        assert_eq!(
            (n.base.as_str(), n.sub.as_str(), n.updated),
            (base, sub, updated),
            "{latex}"
        );
        assert_eq!(n.written, latex);
    }
}

#[test]
fn candidates() {
    for (latex, expected) in [
        ("h_{11}", &["h11", "h_11", "h1_1", "h_{11}"][..3]),
        ("b_{h11}", &["b_h11", "bh11"][..]),
        ("y_{pred}", &["y_pred", "ypred"][..]),
        ("w_5", &["w5", "w_5"][..]),
        ("\\eta", &["eta"][..]),
        ("x1", &["x1", "x_1"][..]),
        ("h_{1,1}", &["h1_1", "h_1_1", "h11"][..]),
        ("a^{(1)}_{1}", &["a1_1"][..]),
        ("w^{(2)}_{12}", &["w2_1_2", "w2_12"][..]),
        ("w^{(2)}_{10,2}", &["w2_10_2"][..]),
        ("w_{1,2}", &["w1_2", "w_1_2", "w12"][..]),
        ("L", &["L"][..]),
        ("w_{5(new)}", &["w5", "w_5"][..]),
        ("\\mathit{out}_{1}", &["out1", "out_1"][..]),
    ] {
        assert_eq!(name_of(latex).candidates(), expected, "{latex}");
    }
    // Spec names in an answers file come back as themselves first.
    for spec in [
        "h11", "b_h11", "y_pred", "w1_2", "w1_1_2", "eta", "L", "out1", "delta2", "b_z", "x1",
    ] {
        let s = read(&format!("{spec} = 1"));
        let MathExpr::Name(n) = &s.claims[0].sides[0].expr else {
            panic!("{spec}")
        };
        assert_eq!(n.candidates()[0], spec);
        assert!(!n.updated);
    }
}

// ---- unreadable math ------------------------------------------------------------------------

#[test]
fn unreadable_reasons() {
    for (text, expected) in [
        ("$a = \\foo$", "unknown command `\\foo`"),
        ("$a = {b$", "unbalanced braces: `{` is never closed"),
        ("$a = b}$", "unbalanced braces: `}` without an opening one"),
        ("$a = (b$", "unbalanced parentheses: `(` is never closed"),
        (
            "$a = \\left( b$",
            "unbalanced parentheses: `\\left(` is never closed",
        ),
        ("$a = {b)$", "unbalanced braces: `{` closed by `)`"),
        ("$a = \\sum_{i=1}^{n} x_i$", "cannot evaluate `\\sum`"),
        ("$$\\sum_{i=1}^{n} x_i$$", "cannot evaluate `\\sum`"),
        ("$a = \\nabla_w L$", "cannot evaluate `\\nabla`"),
        ("$a = |x|$", "cannot evaluate `|`"),
        ("$a = b \\neq c$", "cannot evaluate `\\neq`"),
        ("$a = x!$", "cannot evaluate `!`"),
        ("$a = \\cdots$", "cannot evaluate `\\cdots`"),
        (
            "$a = softmax(z)$",
            "a softmax without a component index from 1 to the number of arguments: write `\\operatorname{softmax}_{i}(z_1, ..., z_k)`",
        ),
        ("$a = \\max(b, c)$", "cannot evaluate `\\max`"),
        (
            "$a = \\begin{cases} 1 \\\\ 0 \\end{cases}$",
            "cannot evaluate `\\begin{cases}`",
        ),
        (
            "$\\frac{\\partial L}{\\partial y - y_{pred}} = 1$",
            "derivative with respect to an expression (`y - y_{pred}`), not a single quantity",
        ),
        (
            "$\\frac{\\partial (y - a)}{\\partial a} = 1$",
            "derivative of an expression (`(y - a)`), not a single quantity",
        ),
        (
            "$\\frac{\\partial^2 L}{\\partial w^2} = 1$",
            "second and higher derivatives are not supported",
        ),
        (
            "$\\frac{\\partial}{\\partial w} L = 1$",
            "a derivative operator applied to what follows: write `\\frac{\\partial L}{\\partial w}`",
        ),
        (
            "$\\frac{\\partial L}{w} = 1$",
            "`\\partial` in the numerator but not in the denominator",
        ),
        (
            "$\\frac{L}{\\partial w} = 1$",
            "`\\partial` in the denominator but not in the numerator",
        ),
        (
            "$a = \\partial L$",
            "`\\partial` outside a derivative: write `\\partial L/\\partial w` or `\\frac{\\partial L}{\\partial w}`",
        ),
        ("$a = 0.5 0.3$", "two numbers side by side (`0.5 0.3`)"),
        ("$$a = b = $$", "nothing after `=`"),
        ("$a = = b$", "nothing between two `=` signs"),
        ("$a = b +$", "expected a value after `+`"),
        ("$a = ()$", "empty brackets"),
        ("$a = x^2^3$", "double superscript: write `{x^a}^b`"),
        ("$a = x_1_2$", "double subscript: write `x_{ab}`"),
        (
            "$a = \\tanh'(x)$",
            "`\\tanh` with a prime: only the sigmoid's derivative can be written so",
        ),
        (
            "$a = \\log_2(x)$",
            "`\\log` with a subscript cannot be evaluated",
        ),
        ("$a = \\sqrt[3]{x}$", "cannot evaluate `\\sqrt[n]`"),
        ("$a = x_{i=1}$", "cannot read the subscript: unexpected `=`"),
        ("$a = 😀$", "unexpected character `😀`"),
        ("$a = b\u{0}$", "unexpected character U+0000"),
        ("$a = \\left b$", "`\\left` without a bracket after it"),
        (
            "$a = (\\text{two words})$",
            "cannot read `\\text{two words}` in an equation",
        ),
        (
            "$$\\begin{aligned} a &= b $$",
            "`\\begin{aligned}` without `\\end{aligned}`",
        ),
        (
            "$$\\begin{aligned} a &= b \\end{align}$$",
            "`\\begin{aligned}` ended by `\\end{align}`",
        ),
        (
            "$$a &= b \\end{aligned}$$",
            "`\\end{aligned}` without `\\begin{aligned}`",
        ),
        (
            "$$a = b$$\n\nthen $$ c = d",
            "unterminated `$$`: no closing `$$` before a blank line or the end",
        ),
    ] {
        let got = reasons(text);
        assert_eq!(
            got.last().map(String::as_str),
            Some(expected),
            "{text}: {got:?}"
        );
    }
}

#[test]
fn unreadable_snippets_and_lines() {
    let text = "ok\n\n$$\\begin{aligned}\na &= 1 \\\\\nb &= \\foo \\\\\nc &= 3\n\\end{aligned}$$";
    let s = read(text);
    assert_eq!(claims_of(&s), ["a = 1", "c = 3"]);
    assert_eq!(s.unreadable[0].line, 5);
    assert_eq!(s.unreadable[0].text, "b &= \\foo");
    // A long passage is quoted around the offending spot.
    let long = format!("$a = {} \\foo + 1$", vec!["x"; 200].join(" + "));
    let u = &read(&long).unreadable[0];
    assert!(
        u.text.starts_with('…') && u.text.contains("\\foo"),
        "{}",
        u.text
    );
    assert!(u.text.chars().count() <= SNIPPET_CHARS + 2);
}

fn claims_of(s: &Submission) -> Vec<String> {
    s.claims
        .iter()
        .map(|c| {
            c.sides
                .iter()
                .map(|side| show(&side.expr))
                .collect::<Vec<_>>()
                .join(" = ")
        })
        .collect()
}

// ---- answers files --------------------------------------------------------------------------

#[test]
fn answers_file() {
    let text = "# answers\r\ndL/dw5 = 0.0823\r\na11 = 0.5 # rounded\n\nw5_new = 0.39\nL_new = 0.1\n\
                dL/dw5 = 0.07 * 0.5 = 0.035\n  = 0.0350\n- h11 = sigmoid(0.3)\n1. b_h11 = -0.1\n\
                (c) y_pred = 1/(1+exp(-z))\nx = y^-1 + y^(-1) + y^2\n∂L/∂w5 = 1\n";
    let s = read(text);
    assert_eq!(s.format, SubmissionFormat::Plain);
    assert!(s.unreadable.is_empty(), "{:?}", s.unreadable);
    assert_eq!(
        dump(&s),
        "2:dL/dw_5 = 2:0.0823\n3:a_11 = 3:0.5\n5:w_5' = 5:0.39\n6:L' = 6:0.1\n\
         7:dL/dw_5 = 7:(0.07 * 0.5) = 7:0.035 = 8:0.0350\n9:h_11 = 9:Sigmoid(0.3)\n10:b_h11 = 10:-0.1\n\
         11:y_pred = 11:(1 / (1 + Exp(-(z))))\n12:x = 12:(((y ^ -1) + (y ^ -1)) + (y ^ 2))\n13:dL/dw_5 = 13:1\n"
    );
    let first = &s.claims[0].sides[0];
    assert_eq!(first.text, "dL/dw5");
    let MathExpr::Grad { of, wrt } = &first.expr else {
        panic!()
    };
    assert_eq!(
        (of, wrt),
        (&name("L", "", false, "L"), &name("w", "5", false, "w5"))
    );
    assert_eq!(
        s.claims[2].sides[0].expr,
        MathExpr::Name(name("w", "5", true, "w5_new"))
    );
    assert_eq!(
        s.claims[3].sides[0].expr,
        MathExpr::Name(name("L", "", true, "L_new"))
    );
    // LaTeX subscripts in an answers file still work.
    assert_eq!(claims("h_{11} = 1\nw5_{new} = 2"), ["h_11 = 1", "w_5' = 2"]);
}

#[test]
fn answers_file_lines_that_are_not_equations() {
    let s = read("a11 = 0.5\nthe answer is 5\na12: 0.5\ndL/dw5 =\n= 3\n");
    let got: Vec<(usize, &str)> = s
        .unreadable
        .iter()
        .map(|u| (u.line, u.reason.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (2, "expected `NAME = VALUE`"),
            (3, "expected `NAME = VALUE`"),
            (4, "nothing after `=`"),
            (5, "continues an equation that could not be read"),
        ]
    );
    assert_eq!(s.claims.len(), 1);
}

// ---- hostile input --------------------------------------------------------------------------

#[test]
fn binary_garbage_and_nul_bytes() {
    let bytes: Vec<u8> = (0..20_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let text = String::from_utf8_lossy(&bytes);
    let s = read(&text);
    check_invariants(&text, &s);
    let text = "\u{0}\u{0}$a = \u{0}$\u{0}\n$$b = 1$$\u{0}";
    let s = read(text);
    assert_eq!(claims_of(&s), ["b = 1"]);
    assert_eq!(s.unreadable[0].reason, "unexpected character U+0000");
    assert_eq!(s.unreadable[0].text, "a = \u{fffd}");
    let s = read("a11 = 0.5\n\u{0}\u{1}\u{2}\n");
    assert_eq!(s.unreadable.len(), 1);
}

#[test]
fn emoji_and_strange_unicode() {
    let s = read("🎉 $a = 1$ 🎉 $🎉 = 2$ $x 🎉$ \u{202e}$b\u{200b} = 3$");
    assert_eq!(claims_of(&s), ["a = 1", "b = 3"]);
    assert_eq!(s.unreadable.len(), 1);
    let s = read("🎉 = 1\nw = 2\n");
    assert_eq!(s.unreadable.len(), 1);
    assert_eq!(s.claims.len(), 1);
}

#[test]
fn deep_nesting_is_refused_not_recursed() {
    for (open, close) in [
        ("{", "}"),
        ("(", ")"),
        ("\\left(", "\\right)"),
        ("\\sigma(", ")"),
    ] {
        let text = format!(
            "$a = {}x{}$",
            open.repeat(100_000 / open.len()),
            close.repeat(100_000 / open.len())
        );
        let got = on_small_stack(move || reasons(&text));
        assert_eq!(got.len(), 1, "{open}");
        assert!(
            got[0] == "nesting deeper than 200 levels" || got[0].starts_with("math too long"),
            "{open}: {got:?}"
        );
    }
    let text = format!("a = {}1{}", "(".repeat(100_000), ")".repeat(100_000));
    assert_eq!(
        on_small_stack(move || reasons(&text)),
        ["nesting deeper than 200 levels"]
    );
    let text = format!("$a = {}1$", "{".repeat(100_000));
    assert_eq!(
        on_small_stack(move || reasons(&text)),
        ["nesting deeper than 200 levels"]
    );
    // Chains without brackets are loops, or bounded too.
    for text in [
        format!("$a = {}x$", "- ".repeat(100_000)),
        format!("$a = {}x$", "\\ln ".repeat(1_000)),
        format!("$a = x{}$", " + x".repeat(10_000)),
        format!("$a = x{}$", "^{x".repeat(300) + &"}".repeat(300)),
    ] {
        let got = on_small_stack(move || reasons(&text));
        assert_eq!(got.len(), 1, "{got:?}");
    }
}

#[test]
fn nesting_up_to_the_limit_is_read_on_an_ordinary_stack() {
    let n = MAX_NESTING;
    for (open, close) in [
        ("(", ")"),
        ("{", "}"),
        ("\\left(", "\\right)"),
        ("\\sigma(", ")"),
        ("\\frac{", "}{2}"),
        ("\\sqrt{", "}"),
        ("\\tanh^{2}(", ")"),
        ("x^{", "}"),
        ("\\hat{", "}"),
    ] {
        let text = format!("$a = {}x{}$", open.repeat(n), close.repeat(n));
        let got = on_small_stack(move || read(&text));
        assert!(got.unreadable.is_empty(), "{open}: {:?}", got.unreadable);
        assert_eq!(got.claims.len(), 1);
        let text = format!("$a = {}x{}$", open.repeat(n + 1), close.repeat(n + 1));
        assert_eq!(
            on_small_stack(move || reasons(&text)),
            ["nesting deeper than 200 levels"],
            "{open}"
        );
    }
    let text = format!("$a = x{}1{}$", "_{x".repeat(n - 1), "}".repeat(n - 1));
    assert_eq!(on_small_stack(move || read(&text)).claims.len(), 1);
    let text = format!(
        "$\\frac{{\\partial {}L{}}}{{\\partial w}} = 1$",
        "{".repeat(n - 1),
        "}".repeat(n - 1)
    );
    assert_eq!(on_small_stack(move || claims(&text)), ["dL/dw = 1"]);
}

#[test]
fn huge_inputs_are_linear() {
    let started = std::time::Instant::now();
    // 50 MB of prose with inline math that claims nothing.
    let text = "Some prose with $x_1$ and `code` and $$w_{12}$$ in it.\n".repeat(1_000_000);
    let s = read(&text);
    assert!(s.claims.is_empty() && s.unreadable.is_empty());
    // 50 MB on one line, in either format.
    let line = "x".repeat(50_000_000);
    assert!(
        read(&line).unreadable[0]
            .reason
            .starts_with("line too long")
    );
    let math = format!("$a = {line}$");
    assert!(
        read(&math).unreadable[0]
            .reason
            .starts_with("math too long")
    );
    // An equation just under the size limit is read (and refused for its depth).
    let sum = format!("$a = 1{}$", "+1".repeat(100_000));
    assert_eq!(
        reasons(&sum),
        ["expression too long: more than 500 operations deep"]
    );
    // Many dollar signs that never close, many backticks, many `$$`.
    let dollars = "$5 ".repeat(2_000_000);
    assert_eq!(read(&dollars).format, SubmissionFormat::Plain);
    let ticks: String = (1..2000)
        .map(|i| "`".repeat(i % 40) + " x ")
        .collect::<String>()
        .repeat(20);
    read(&ticks);
    let displays = "$$a = ".repeat(1_000_000);
    assert_eq!(read(&displays).unreadable.len(), MAX_UNREADABLE);
    assert!(started.elapsed().as_secs() < 120, "{:?}", started.elapsed());
}

#[test]
fn caps_on_entries() {
    let text = "not an equation\n".repeat(3000);
    let s = read(&text);
    assert_eq!(s.unreadable.len(), MAX_UNREADABLE);
    let last = s.unreadable.last().unwrap();
    assert_eq!(
        last.reason,
        "2001 more unreadable passages not listed (from line 1000 on)"
    );
    assert_eq!(last.line, 1000);
    let text = "a = 1\n".repeat(MAX_CLAIMS + 500);
    let s = read(&text);
    assert_eq!(s.claims.len(), MAX_CLAIMS);
    assert_eq!(s.unreadable.len(), 1);
    assert_eq!(s.unreadable[0].line, MAX_CLAIMS + 1);
    assert!(s.unreadable[0].reason.starts_with("too many equations"));
    let line = format!("a {}\n", "= 1 ".repeat(3000));
    let s = read(&line.repeat(MAX_SIDES / 3000 + 5));
    assert_eq!(s.claims.len(), MAX_SIDES / 3001);
    assert_eq!(s.unreadable.len(), 1);
    assert!(s.unreadable[0].reason.starts_with("too many equations"));
}

// ---- never panic ----------------------------------------------------------------------------

/// xorshift64*, fixed seed: the same cases on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Pieces that make the reader's life interesting.
const PIECES: &[&str] = &[
    "$",
    "$$",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    "\\",
    "\\\\",
    "=",
    "&",
    "&=",
    "^",
    "_",
    "'",
    "\n",
    "\n\n",
    "\r\n",
    " ",
    "\\frac",
    "\\partial",
    "\\sigma",
    "\\left(",
    "\\right)",
    "\\begin{aligned}",
    "\\end{aligned}",
    "\\text{",
    "\\sum",
    "-",
    "+",
    "/",
    "0.5",
    "x_1",
    "h_{11}",
    "dL/dw5",
    "`",
    "```",
    "\\[",
    "\\]",
    "\u{0}",
    "😀",
    "σ",
    "∂",
    "−",
    "≈",
    ",",
    ".",
    "e^{",
    "\\quad",
    "%",
    "#",
    "\\,",
    "{,}",
    "\\sqrt",
    "\\max(0,",
    "w_{5(new)}",
    "^{(2)}",
    "\\hat",
    "\\mathrm{d}",
    "<!--",
    "-->",
];

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..2000 {
        let len = rng.below(300);
        let bytes: Vec<u8> = (0..len)
            .map(|_| match rng.below(3) {
                0 => rng.next() as u8,
                1 => b"$\\{}()=&^_'\n x1.-+/"[rng.below(19)],
                _ => b'a' + rng.below(26) as u8,
            })
            .collect();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let s = read(&text);
        check_invariants(&text, &s);
        let text: String = (0..rng.below(60))
            .map(|_| PIECES[rng.below(PIECES.len())])
            .collect();
        let s = read(&text);
        check_invariants(&text, &s);
        assert_eq!(s, read(&text), "not deterministic: {text:?}");
    }
}

#[test]
fn random_mutations_of_the_seed_never_panic() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let chars: Vec<char> = SEED.chars().collect();
    for _ in 0..1000 {
        let mut text = chars.clone();
        for _ in 0..1 + rng.below(8) {
            let at = rng.below(text.len() + 1);
            match rng.below(3) {
                0 if at < text.len() => {
                    let n = 1 + rng.below(20);
                    text.drain(at..(at + n).min(text.len()));
                }
                1 if at < text.len() => {
                    text[at] = PIECES[rng.below(PIECES.len())]
                        .chars()
                        .next()
                        .unwrap_or('x')
                }
                _ => {
                    let piece = PIECES[rng.below(PIECES.len())];
                    text.splice(at..at, piece.chars());
                }
            }
        }
        let text: String = text.into_iter().collect();
        let s = read(&text);
        check_invariants(&text, &s);
    }
}

#[test]
fn softmax_components_are_read_in_both_notations() {
    let latex =
        sides("$$p_{2} = \\operatorname{softmax}_{2}\\left(z_{1}, z_{2}, z_{3}\\right) = 0.5$$");
    assert_eq!(latex, ["p_2", "softmax_2(z_1, z_2, z_3)", "0.5"]);
    let plain = sides("p2 = softmax(z1, z2, z3)[2] = 0.5\n");
    assert_eq!(plain, ["p_2", "softmax_2(z_1, z_2, z_3)", "0.5"]);
    let unread = read("$$p = \\operatorname{softmax}(z_1, z_2) = 0.5$$");
    assert!(
        unread.unreadable[0].reason.contains("component index"),
        "{:?}",
        unread.unreadable
    );
}
