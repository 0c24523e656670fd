#!/usr/bin/env python3
"""Checker throughput, whole process, measured (not a test).

Prints a Markdown table: the time to check the seed slides against their spec (one process,
best of N), and the time to check a class of 1000 submissions (`bpsheet check SPEC DIR --csv`,
which checks files in parallel on every core). The class is the derivation `bpsheet derive
worksheets/slides.bp --format markdown` writes, each copy with one stated value made wrong at a
random line (seeded), so every submission has a mix of right, wrong and carried-forward steps.

    cargo build --release && python3 bench/check.py [--submissions 1000] [--bin target/release/bpsheet]
"""
import argparse
import os
import random
import shutil
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def best_of(args, runs):
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT, check=False)
        best = min(best, time.perf_counter() - start)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", default=os.path.join(ROOT, "target/release/bpsheet"))
    parser.add_argument("--submissions", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    bpsheet = args.bin

    seed = best_of([bpsheet, "check", "tests/data/check/slides.bp", "tests/data/check/seed-slides.md"], args.runs)
    derived = subprocess.run([bpsheet, "derive", "worksheets/slides.bp", "--format", "markdown"],
                             capture_output=True, text=True, cwd=ROOT, check=True).stdout

    work = tempfile.mkdtemp(prefix="bpsheet-check-bench-")
    try:
        lines = derived.splitlines()
        results = [i for i, line in enumerate(lines) if "\\approx " in line and not line.startswith("Expanded")]
        rng = random.Random(1)
        class_dir = os.path.join(work, "class")
        os.makedirs(class_dir)
        for n in range(args.submissions):
            copy = list(lines)
            k = rng.choice(results)
            copy[k] = copy[k].replace("\\approx ", "\\approx 1", 1)
            with open(os.path.join(class_dir, f"s{n:04}.md"), "w") as f:
                f.write("\n".join(copy) + "\n")
        single = os.path.join(class_dir, "s0000.md")
        one_submission = best_of([bpsheet, "check", "worksheets/slides.bp", single], args.runs)
        start = time.perf_counter()
        subprocess.run([bpsheet, "check", "worksheets/slides.bp", class_dir, "--csv", os.path.join(work, "grades.csv")],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT, check=False)
        class_seconds = time.perf_counter() - start
        rows = sum(1 for _ in open(os.path.join(work, "grades.csv"))) - 1
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"| case | measured | target | |")
    print(f"|---|---:|---:|---|")
    print(f"| seed slides, one process | {seed * 1000:.1f} ms | 20 ms | {'PASS' if seed < 0.020 else 'FAIL'} |")
    print(f"| a derived slides derivation (~150 steps), one process | {one_submission * 1000:.1f} ms | 20 ms | {'PASS' if one_submission < 0.020 else 'FAIL'} |")
    print(f"| {rows} submissions, `--csv`, {os.cpu_count()} cores | {class_seconds:.2f} s | 10 s | {'PASS' if class_seconds < 10 else 'FAIL'} |")


if __name__ == "__main__":
    main()
