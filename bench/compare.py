#!/usr/bin/env python3
"""bpsheet against its performance targets and against SymPy doing the same job, in one table.

    cargo build --release
    python3 bench/compare.py            # the whole table (10-15 minutes, mostly SymPy)
    python3 bench/compare.py --only 64  # networks whose name contains "64"
    python3 bench/compare.py --no-sympy # bpsheet columns only

For each network the spec is written into a temporary directory, and
`bpsheet derive SPEC --format json > /dev/null` is run as a whole process (started with
posix_spawn): median wall time of N runs (more runs for fast networks; the median CPU time beside
it shows what other load on the machine added), the peak RSS (GNU time), the bytes of the JSON and
the edges (chain-rule terms: one per use of a quantity by an equation), with PASS/FAIL against the
targets of the performance issue.

SymPy does the same job on the same network with the same values (read from bpsheet's report):
per-node equations with intermediate symbols h, a; every local derivative by `sympy.diff`; every
∂L/∂(node, parameter, input) by the chain rule, also in expanded form (child gradients substituted
while small, as bpsheet does); `sympy.latex` of every equation and gradient; every value, gradient,
update and the loss after the update by `evalf(15)`. It runs in a child process, timed from after
`import sympy`, killed at `--cap` seconds (then the ratio is a lower bound). Its loss must agree with
bpsheet's to 13 digits (column "check").

Needs Python 3.11 and, for the SymPy columns, `python3 -m pip install sympy`.
"""

import argparse
import importlib.metadata
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIME = "/usr/bin/time"  # GNU time, for the peak RSS (`apt-get install time`)
# name, widths (None: the slides worksheet), time target (s), memory target (bytes)
NETWORKS = [
    ("slides", None, 0.005, None),
    ("64-64-1", [64, 64, 1], 0.025, None),
    ("16-16-16-1", [16, 16, 16, 1], None, None),
    ("32-32-32-1", [32, 32, 32, 1], None, None),
    ("64-64-64-1", [64, 64, 64, 1], 0.100, None),
    ("128-128-128-1", [128, 128, 128, 1], None, None),
    ("256-256-256-1", [256, 256, 256, 1], 2.0, 1 << 30),
]
RATIO_TARGET = 1000


def mlp_spec(widths):
    """The spec `benches/derive.rs` uses too, byte for byte."""
    layers = " -> ".join(f"{w} sigmoid" for w in widths[1:])
    inputs = ", ".join(f"{((i * 37 % 100) - 50) / 100:.2f}" for i in range(widths[0]))
    return (
        f"mlp {widths[0]} -> {layers}\ninputs x = [{inputs}]\ntargets y = [1]\n"
        "weights = uniform(-0.5, 0.5, step 0.01)\nloss half_squared_error\nrate eta = 0.1\nseed 1\n"
    )


def mlp_edges(widths):
    """Chain-rule terms of an mlp with a half squared error: h_j uses b_j and each (w_ji, a_i);
    a_j uses h_j; the loss uses each output (targets get no gradient)."""
    hidden = sum(n_out * (2 * n_in + 1) + n_out for n_in, n_out in zip(widths, widths[1:]))
    return hidden + widths[-1]


# ---------------------------------------------------------------------------------------------
# bpsheet, as a whole process


def run_process(argv, out_path, err_path):
    """Wall and CPU time (s) of one run, started by posix_spawn (vfork: cheap whatever the size
    of this process)."""
    actions = [
        (os.POSIX_SPAWN_OPEN, 1, out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
        (os.POSIX_SPAWN_OPEN, 2, err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
    ]
    start = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)
    _, status, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(argv)} failed:\n{Path(err_path).read_text()}")
    return elapsed, usage.ru_utime + usage.ru_stime


def measure_bpsheet(binary, spec, out_path, budget):
    """One run into `out_path` (bytes, values) under /usr/bin/time for the peak RSS (a process's
    own getrusage would count this Python process too: the child is forked from it), then timed
    runs into /dev/null: at least 3 (1 when a run takes over 20 s), more while under `budget`
    seconds, at most 30."""
    argv = [binary, "derive", spec, "--format", "json"]
    err, rss_file = f"{out_path}.err", f"{out_path}.rss"
    first = run_process([TIME, "-f", "%M", "-o", rss_file, *argv], str(out_path), err)
    rss = int(Path(rss_file).read_text().split()[-1]) * 1024
    runs = []
    while len(runs) < 30 and first[0] < 20:
        runs.append(run_process(argv, os.devnull, err))
        if len(runs) >= 3 and sum(wall for wall, _ in runs) > budget:
            break
    runs = runs or [first]
    wall = statistics.median(wall for wall, _ in runs)
    cpu = statistics.median(cpu for _, cpu in runs)
    return wall, cpu, len(runs), rss, os.path.getsize(out_path)


def read_report(path):
    """The given values (name -> exact decimal) and the loss's value, without loading the whole
    (possibly 200 MB) one-line JSON: `given` comes first and `loss` near the end."""
    decoder = json.JSONDecoder()
    with open(path, encoding="utf-8") as f:
        head = f.read(64 << 20)
    section = head.index('"given":') + len('"given":')
    given, _ = decoder.raw_decode(head, section)
    with open(path, "rb") as f:
        f.seek(max(0, os.path.getsize(path) - (1 << 20)))
        tail = f.read().decode("utf-8", "replace")
    section = tail.rindex('"loss":') + len('"loss":')
    loss, _ = decoder.raw_decode(tail, section)
    (value,) = [entry["value"] for entry in loss.values()]
    return {name: entry["value"] for name, entry in given.items()}, value


def count_edges(path):
    with open(path, encoding="utf-8") as f:
        report = json.load(f)
    return sum(len(g["terms"]) for g in report["gradients"].values())


# ---------------------------------------------------------------------------------------------
# SymPy, in a child process


def sympy_job(network, given):
    """The job, timed from here (sympy already imported). Returns (seconds, loss, loss_after)."""
    import sympy as sp

    start = time.perf_counter()
    symbols = {}

    def S(name):
        if name not in symbols:
            symbols[name] = sp.Symbol(name)
        return symbols[name]

    env = {S(name): sp.Rational(value) for name, value in given.items()}

    def sigmoid(z):
        return 1 / (1 + sp.exp(-z))

    equations = []  # (node, body) in evaluation order; the last is the loss
    if network["widths"]:
        widths = network["widths"]
        previous = [S(f"x{i}") for i in range(1, widths[0] + 1)]
        for layer, (n_in, n_out) in enumerate(zip(widths, widths[1:]), 1):
            current = []
            for j in range(1, n_out + 1):
                terms = [S(f"w{layer}_{j}_{i}") * a for i, a in enumerate(previous, 1)]
                h, a = S(f"h{layer}_{j}"), S(f"a{layer}_{j}")
                equations += [(h, sp.Add(S(f"b{layer}_{j}"), *terms)), (a, sigmoid(h))]
                current.append(a)
            previous = current
        errors = [(S(f"y{k}") - a) ** 2 for k, a in enumerate(previous, 1)]
        equations.append((S("L"), sp.Rational(1, 2) * sp.Add(*errors)))
    else:
        names = {name: S(name) for name in given} | {"sigmoid": sigmoid}
        for name, text in network["equations"]:
            names[name] = S(name)
            body = sp.sympify(text.replace("^", "**"), locals=names, rational=True)
            equations.append((S(name), body))
    loss = equations[-1][0]
    params = [S(name) for name in network["params"]]
    declared = [S(name) for name in network["params"] + network["inputs"]]

    latex = []
    for node, body in equations:  # forward pass
        env[node] = body.evalf(15, subs=env)
        latex.append(sp.latex(body))

    users = {}  # quantity -> [(node whose equation uses it, local derivative)]
    for node, body in equations:
        for quantity in body.free_symbols:
            users.setdefault(quantity, []).append((node, sp.diff(body, quantity)))

    grad = {loss: sp.Integer(1)}  # quantity -> its ∂L/∂ symbol (1 for the loss)
    expanded, size = {loss: sp.Integer(1)}, {loss: 1}
    for quantity in [node for node, _ in reversed(equations[:-1])] + declared:
        terms = [(c, local) for c, local in users.get(quantity, []) if c in grad]
        if not terms:
            continue
        chain = sp.Add(*[grad[c] * local for c, local in terms])
        inline = {grad[c]: expanded[c] for c, _ in terms if c != loss and size[c] <= 40}
        expanded[quantity] = chain.xreplace(inline)
        size[quantity] = sum(1 for _ in sp.preorder_traversal(expanded[quantity]))
        grad[quantity] = sp.Symbol(f"dL/d{quantity}")
        env[grad[quantity]] = chain.evalf(15, subs=env)
        latex += [sp.latex(chain), sp.latex(expanded[quantity])]

    eta = S("eta")
    after = dict(env)
    for p in params:  # update step
        update = p - eta * grad[p]
        after[p] = update.evalf(15, subs=env)
        latex.append(sp.latex(update))
    for node, body in equations:  # the loss after it
        after[node] = body.evalf(15, subs=after)
    return time.perf_counter() - start, str(env[loss]), str(after[loss])


def sympy_child(job_path):
    """`compare.py --sympy-child JOB`: runs the job, prints its result as JSON."""
    resource.setrlimit(resource.RLIMIT_AS, (12 << 30, 12 << 30))
    import sympy  # noqa: F401  (imported before the clock starts)

    with open(job_path, encoding="utf-8") as f:
        job = json.load(f)
    seconds, loss, after = sympy_job(job["network"], job["given"])
    print(json.dumps({"seconds": seconds, "loss": loss, "loss_after": after}))


def slides_network(text):
    """Declared names and equations of a hand-written spec like worksheets/slides.bp."""
    params, inputs, equations = [], [], []
    for line in text.splitlines():
        line = line.split("#")[0].strip()
        if m := re.match(r"(param|input)\s+(\w+)", line):
            (params if m[1] == "param" else inputs).append(m[2])
        elif m := re.match(r"(?:loss\s+)?(\w+)\s*=\s*(.+)", line):  # not `target y = 1`
            equations.append((m[1], m[2]))
    return {"widths": None, "params": params, "inputs": inputs, "equations": equations}


def mlp_network(widths):
    params = []
    for layer, (n_in, n_out) in enumerate(zip(widths, widths[1:]), 1):
        for j in range(1, n_out + 1):
            params += [f"b{layer}_{j}"] + [f"w{layer}_{j}_{i}" for i in range(1, n_in + 1)]
    inputs = [f"x{i}" for i in range(1, widths[0] + 1)]
    return {"widths": widths, "params": params, "inputs": inputs, "equations": []}


def measure_sympy(network, given, cap, workdir, name):
    """(seconds or None when over the cap, loss, loss after)."""
    job = Path(workdir) / f"{name}.sympy.json"
    job.write_text(json.dumps({"network": network, "given": given}))
    argv = [sys.executable, __file__, "--sympy-child", str(job)]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=cap + 5)
    except subprocess.TimeoutExpired:
        return None, None, None
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or ["no message"]
        if "MemoryError" in tail[0]:
            return None, None, None
        sys.exit(f"SymPy on {name} failed: {tail[0]}")
    result = json.loads(done.stdout)
    if result["seconds"] > cap:
        return None, None, None
    return result["seconds"], result["loss"], result["loss_after"]


def agrees(a, b):
    a, b = float(a), float(b)
    return abs(a - b) <= 1e-13 * max(abs(a), abs(b), 1e-300)


# ---------------------------------------------------------------------------------------------


def fmt_time(s):
    return f"{s * 1e3:.1f} ms" if s < 1 else f"{s:.2f} s"


def fmt_bytes(n):
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin", default=str(ROOT / "target/release/bpsheet"))
    parser.add_argument("--cap", type=float, default=120, help="SymPy time cap per network (s)")
    parser.add_argument("--budget", type=float, default=3, help="bpsheet seconds per network")
    parser.add_argument("--only", nargs="*", default=[], help="network name substrings")
    parser.add_argument("--no-sympy", action="store_true")
    parser.add_argument("--sympy-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sympy_child:
        return sympy_child(args.sympy_child)
    if not Path(args.bin).is_file():
        sys.exit(f"{args.bin} not found: run `cargo build --release` first (or pass --bin)")
    if not Path(TIME).is_file():
        sys.exit(f"{TIME} (GNU time) not found: `apt-get install time`")
    use_sympy = not args.no_sympy
    if use_sympy:
        # Not imported here: the SymPy work runs in a child process.
        try:
            sympy_version = importlib.metadata.version("sympy")
        except importlib.metadata.PackageNotFoundError:
            print(
                "SymPy is not installed: `python3 -m pip install sympy` for the SymPy columns;"
                " printing the bpsheet columns only.\n",
                file=sys.stderr,
            )
            use_sympy = False

    rows = []
    with tempfile.TemporaryDirectory(prefix="bpsheet-bench-") as workdir:
        for name, widths, time_target, memory_target in NETWORKS:
            if args.only and not any(s in name for s in args.only):
                continue
            print(f"{name}: bpsheet ...", file=sys.stderr, flush=True)
            if widths is None:
                spec = str(ROOT / "worksheets/slides.bp")
                network = slides_network(Path(spec).read_text())
            else:
                spec = str(Path(workdir) / f"{name}.bp")
                Path(spec).write_text(mlp_spec(widths))
                network = mlp_network(widths)
            out = Path(workdir) / f"{name}.json"
            median, cpu, runs, rss, size = measure_bpsheet(args.bin, spec, out, args.budget)
            edges = mlp_edges(widths) if widths else count_edges(out)
            if widths and size < 50 << 20:
                assert count_edges(out) == edges, f"edge formula disagrees on {name}"
            given, loss = read_report(out)
            verdicts = []
            if time_target is not None:
                verdicts.append(f"{'PASS' if median < time_target else 'FAIL'} (< {fmt_time(time_target)})")
            if memory_target is not None:
                verdicts.append(f"{'PASS' if rss < memory_target else 'FAIL'} (< {fmt_bytes(memory_target)})")
            row = {
                "network": name,
                "edges": f"{edges:,}",
                "params": f"{len(network['params']):,}",
                "bpsheet": f"{fmt_time(median)} ({runs})",
                "CPU": fmt_time(cpu),
                "µs/edge": f"{median / edges * 1e6:.1f}",
                "peak RSS": fmt_bytes(rss),
                "JSON": fmt_bytes(size),
                "B/edge": f"{size / edges:,.0f}",
                "target": ", ".join(verdicts) or "—",
            }
            out.unlink()
            if use_sympy:
                print(f"{name}: SymPy (cap {args.cap:g} s) ...", file=sys.stderr, flush=True)
                seconds, sympy_loss, _ = measure_sympy(network, given, args.cap, workdir, name)
                if seconds is None:
                    row["SymPy"] = f"> {args.cap:g} s"
                    ratio = args.cap / median
                    row["ratio"] = f"> {ratio:,.0f}×"
                    row["check"] = "—"
                else:
                    row["SymPy"] = fmt_time(seconds)
                    ratio = seconds / median
                    row["ratio"] = f"{ratio:,.0f}×"
                    row["check"] = "ok" if agrees(sympy_loss, loss) else f"L {sympy_loss} ≠ {loss}"
                row["ratio"] += " PASS" if ratio >= RATIO_TARGET else (
                    " FAIL" if seconds is not None else " ?"
                )
            rows.append(row)
            print(f"{name}: {row}", file=sys.stderr, flush=True)

    columns = list(rows[0]) if rows else []
    print("| " + " | ".join(columns) + " |")
    print("|" + "|".join("---" if c in ("network", "target", "check") else "---:" for c in columns) + "|")
    for row in rows:
        print("| " + " | ".join(row[c] for c in columns) + " |")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"\nbpsheet: whole process, median wall time of (N) runs, and median CPU time; SymPy {sympy_version if use_sympy else '—'}"
        f", cap {args.cap:g} s; ratio target ≥ {RATIO_TARGET}×; load average at the end: {load}."
    )


if __name__ == "__main__":
    main()
