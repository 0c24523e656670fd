//! Stage timings of `bpsheet derive --format json`, in process, without criterion.
//!
//! `cargo bench --bench derive [-- FILTER...] [--runs N]`
//!
//! For each network (the slides worksheet, the `mlp` networks of the performance issue and a
//! scaling series) the library pipeline runs several times; the table gives the min and median
//! wall time of each stage (report: built and serialized as JSON, in batches on all cores, as
//! the CLI writes it), the pool size after derivation, the edges (chain-rule terms, one per
//! use of a quantity by an equation) and the bytes of the JSON report. A network runs up to
//! `--runs` times (default 7): again while under 2 s in all, or while it has had fewer than 3 runs
//! and under 20 s.
//! FILTER keeps the networks whose name contains it (`cargo bench --bench derive -- 64-64`).

// The binary's allocator, so stage times match the process the issue measures.
#[global_allocator]
static GLOBAL: bpsheet::alloc::Mimalloc = bpsheet::alloc::Mimalloc;

use std::io::Write;
use std::time::{Duration, Instant};

use bpsheet::diag::Source;
use bpsheet::eval::decimal::{Precision, RoundingMode};
use bpsheet::eval::numeric::Rounding;
use bpsheet::pipeline;
use bpsheet::render::report::{GivenSection, ReportBuilder};

const STAGES: [&str; 4] = ["load", "derive", "evaluate", "report"];

/// The `mlp` spec of `bench/compare.py`, byte for byte: same inputs, weights and seed.
fn mlp_spec(widths: &[usize]) -> String {
    let layers: Vec<String> = widths[1..].iter().map(|w| format!("{w} sigmoid")).collect();
    let inputs: Vec<String> = (0..widths[0])
        .map(|i| format!("{:.2}", ((i * 37 % 100) as f64 - 50.0) / 100.0))
        .collect();
    format!(
        "mlp {} -> {}\ninputs x = [{}]\ntargets y = [1]\nweights = uniform(-0.5, 0.5, step 0.01)\n\
         loss half_squared_error\nrate eta = 0.1\nseed 1\n",
        widths[0],
        layers.join(" -> "),
        inputs.join(", ")
    )
}

fn networks() -> Vec<(String, String)> {
    let slides = concat!(env!("CARGO_MANIFEST_DIR"), "/worksheets/slides.bp");
    let mut cases = vec![(
        "slides".to_string(),
        std::fs::read_to_string(slides).expect("worksheets/slides.bp is readable"),
    )];
    let mut mlp = |widths: &[usize]| {
        let name = widths.iter().map(|w| w.to_string()).collect::<Vec<_>>();
        cases.push((format!("mlp {}", name.join("-")), mlp_spec(widths)));
    };
    for w in [16, 32, 64, 128] {
        mlp(&[w, w, w, 1]);
    }
    mlp(&[64, 64, 1]);
    mlp(&[256, 256, 256, 1]);
    cases
}

/// One run of the pipeline `derive --format json` runs: the time of each stage and the sizes.
fn run_once(spec: &str) -> ([Duration; 4], usize, usize, usize) {
    let rounding = Rounding {
        precision: Precision::Significant(15),
        mode: RoundingMode::HalfUp,
    };
    let mut times = [Duration::ZERO; 4];
    let mut clock = Instant::now();
    let mut lap = |stage: usize| {
        times[stage] = clock.elapsed();
        clock = Instant::now();
    };
    let loaded = pipeline::load_source(Source::new("bench.bp", spec), None).expect("spec loads");
    lap(0);
    let mut derivation = pipeline::derivation(&loaded).expect("derivation");
    lap(1);
    let (pool, edges) = (
        derivation.pool.len(),
        derivation
            .gradients
            .iter()
            .flatten()
            .map(|g| g.terms.len())
            .sum(),
    );
    let decided = pipeline::evaluate(&loaded, &derivation, &[rounding]).expect("evaluation");
    lap(2);
    // As `derive --format json` writes it: plain forms only, built and serialized in batches.
    // `pipeline::report` also adds the relu-at-zero warnings: none of these networks has a relu.
    // Into a counter behind the CLI's buffer: the CLI's stdout, without a terminal or a file.
    let mut counted = Counted(0);
    let mut json = std::io::BufWriter::with_capacity(1 << 16, &mut counted);
    // The CLI writes the given values beside the derivation; here they count in the report.
    let given = GivenSection::write(&loaded.network, rounding, false);
    ReportBuilder::new(&loaded.network, &mut derivation, &decided.values, rounding)
        .plain_only()
        .write_json(&given, Vec::new(), &mut json)
        .and_then(|()| json.flush())
        .expect("a report serializes");
    drop(json);
    lap(3);
    (times, pool, edges, counted.0 + 1) // + the newline the CLI adds
}

/// A writer that only counts the bytes written to it.
struct Counted(usize);

impl Write for Counted {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0 += bytes.len();
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1e3)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut filters, mut max_runs) = (Vec::new(), 7);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--runs" => max_runs = args.next().and_then(|n| n.parse().ok()).expect("--runs N"),
            _ if arg.starts_with("--") => {} // `cargo bench` passes `--bench`
            _ => filters.push(arg),
        }
    }
    println!(
        "| network | runs | {} | total ms (min / median) | pool | edges | JSON bytes |",
        STAGES.map(|s| format!("{s} ms")).join(" | ")
    );
    println!(
        "|---|---:|{}---:|---:|---:|---:|",
        "---:|".repeat(STAGES.len())
    );
    for (name, spec) in networks() {
        if !filters.is_empty() && !filters.iter().any(|f| name.contains(f.as_str())) {
            continue;
        }
        let started = Instant::now();
        let mut runs = Vec::new();
        // At least 3 runs while under 20 s, more while under 2 s.
        let more = |runs: usize, secs: u64| runs < 3 && secs < 20 || secs < 2;
        while runs.is_empty()
            || runs.len() < max_runs && more(runs.len(), started.elapsed().as_secs())
        {
            runs.push(run_once(&spec));
        }
        let (_, pool, edges, bytes) = runs[0];
        let stat = |pick: &dyn Fn(&[Duration; 4]) -> Duration| {
            let mut v: Vec<Duration> = runs.iter().map(|r| pick(&r.0)).collect();
            v.sort();
            format!("{} / {}", ms(v[0]), ms(v[v.len() / 2]))
        };
        let stages: Vec<String> = (0..STAGES.len()).map(|i| stat(&|t| t[i])).collect();
        println!(
            "| {name} | {} | {} | {} | {pool} | {edges} | {bytes} |",
            runs.len(),
            stages.join(" | "),
            stat(&|t| t.iter().sum()),
        );
    }
}
