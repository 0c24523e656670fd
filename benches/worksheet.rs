//! Worksheet and answer-key throughput, in process, without criterion: the rate at which one
//! core turns a spec into rendered student sheets and keys (LaTeX, no PDF).
//!
//! `cargo bench --bench worksheet [-- --pairs N]`
//!
//! Two cases: the slides worksheet (its literal values, one variant: the report, the sheet and
//! both renderings per pair), and randomized variants of `worksheets/mlp.bp` (each pair draws,
//! evaluates, checks and renders a new variant).

// The binary's allocator, so stage times match the process the issue measures.
#[global_allocator]
static GLOBAL: bpsheet::alloc::Mimalloc = bpsheet::alloc::Mimalloc;

use std::time::Instant;

use bpsheet::diag::Source;
use bpsheet::eval::decimal::{Precision, RoundingMode};
use bpsheet::eval::numeric::{self, Rounding};
use bpsheet::pipeline;
use bpsheet::render::report::ReportBuilder;
use bpsheet::render::templates::{Format, Templates};
use bpsheet::worksheet::Context;
use bpsheet::worksheet::questions;
use bpsheet::worksheet::sheet;
use bpsheet::worksheet::variants::{self, Plan};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let pairs: usize = args
        .iter()
        .position(|a| a == "--pairs")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(2000);
    let rounding = Rounding {
        precision: Precision::Significant(4),
        mode: RoundingMode::HalfUp,
    };
    let templates = Templates::builtin();
    println!("| case | pairs | seconds | pairs per second | ms per pair |");
    println!("|---|---:|---:|---:|---:|");
    for (name, path) in [
        ("slides", "worksheets/slides.bp"),
        ("mlp variants", "worksheets/mlp.bp"),
    ] {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/").to_string() + path)
                .expect("the spec is readable");
        let loaded = pipeline::load_source(Source::new(path, text), None)
            .unwrap_or_else(|_| panic!("{path} loads"));
        let mut derivation =
            pipeline::derivation(&loaded).unwrap_or_else(|_| panic!("{path} derives"));
        let decided =
            numeric::decide(&loaded.network, &derivation, &[rounding]).expect("it evaluates");
        let first = ReportBuilder::new(&loaded.network, &mut derivation, &decided.values, rounding)
            .build(Vec::new());
        let asked = questions::resolve(
            &loaded.network,
            &first,
            &questions::from_flag("forward,backward,update,loss_after"),
            &num_rational::BigRational::from_integer(1.into()),
        )
        .expect("questions resolve");
        let random = loaded.network.symbols.iter().any(|s| s.is_random());
        let start = Instant::now();
        let mut bytes = 0usize;
        let mut stream = bpsheet::graph::sample::Rng::new(1);
        let mut plan = Plan {
            network: &loaded.network,
            derivation: &mut derivation,
            rounding,
            calculator: false,
            asked: &asked,
        };
        let mut done = 0;
        while done < pairs {
            let seed = if random { stream.next_u64() } else { 1 };
            let Ok((network, report)) = variants::report_at(&mut plan, seed, random) else {
                continue;
            };
            let sheet = sheet::build(&network, &report, &asked, "A".into());
            let student = Context {
                sheet: &sheet,
                key: false,
                tikz: "",
                svg_file: "",
            };
            let mut context =
                tera::Context::from_serialize(&student).expect("the context serializes");
            bytes += templates
                .render_context(Format::Latex, "worksheet", &context)
                .expect("renders")
                .len();
            context.insert("key", &true);
            bytes += templates
                .render_context(Format::Latex, "worksheet", &context)
                .expect("renders")
                .len();
            done += 1;
        }
        let seconds = start.elapsed().as_secs_f64();
        println!(
            "| {name} | {pairs} | {seconds:.3} | {:.0} | {:.3} |",
            pairs as f64 / seconds,
            1000.0 * seconds / pairs as f64
        );
        assert!(bytes > 0);
    }
}
