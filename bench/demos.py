"""Time every available demo's default run, and what batching variants buys.

    python bench/demos.py [--threads 2] [--slugs dropout vanishing-gradients] [--device cpu|cuda|auto]
                          [--repeat 1] [--no-batching] [--calibrate]

For each demo: the default run's wall time, CPU time, the cost model's prediction (demos/cost.py;
--calibrate rewrites demos/cost_model.json from the CPU times measured) and the time to its first
progress call (the first run in
the process pays torch's warm-up, so one tiny untimed run goes first). For vanishing-gradients,
also: sigmoid, tanh and relu compared in one batched run of the demo, against the same three trained
one after another (target: batched / one-by-one <= 0.5), two ways:
  - plain loop: what one writes without batching, an nn.Sequential per activation trained in a
    for loop with the same data, minibatches, steps, optimizer and recording (per-layer gradient
    norms via retain_grad, train/test accuracy at the same 30 steps); its accuracies are printed
    next to the demo's, to show the two do the same work;
  - engine alone: the demo itself run three times with one activation each (stricter: it keeps the
    engine's own optimisations).
With CUDA present and --device auto,
the table is produced for the CPU and again for the GPU. Always exits 0 unless arguments are bad.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from demos import cost, registry, runtime  # noqa: E402
from demos import vanishing_gradients as vg  # noqa: E402
from demos._data import circles_split  # noqa: E402
from demos._nn import ACTIVATIONS, cpu_generator, init_weight_  # noqa: E402
from demos.catalogue import CATALOGUE  # noqa: E402

BATCH_ACTS = ["sigmoid", "tanh", "relu"]


def _timed_run(slug: str, params, device: str, seed: int = 0) -> tuple[float, float, float]:
    """(wall seconds, seconds to first progress call, process CPU seconds).

    CPU seconds matter on a shared machine: with one thread they approximate the wall time on an
    idle core, since time spent descheduled is not counted."""
    t0 = time.perf_counter()
    c0 = time.process_time()
    first: list[float] = []

    def on_progress(fraction, partial):
        if not first:
            first.append(time.perf_counter() - t0)

    runtime.run_demo(
        slug, params, seed=seed, device=device, on_progress=on_progress, use_cache=False, budget_s=0
    )
    wall = time.perf_counter() - t0
    return wall, (first[0] if first else float("nan")), time.process_time() - c0


def _warm_up(device: str) -> None:
    runtime.warm_up()
    x = torch.randn(64, 32, device=device, requires_grad=True)
    (x @ torch.randn(32, 32, device=device)).sigmoid().sum().backward()
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def bench_defaults(slugs: list[str], device: str, repeat: int) -> list[tuple[str, str, str, str]]:
    rows = []
    for slug in slugs:
        try:
            walls, firsts, cpus = [], [], []
            for _ in range(repeat):
                w, f, c = _timed_run(slug, None, device)
                walls.append(w)
                firsts.append(f)
                cpus.append(c)
            predicted = f"{cost.predicted_seconds(slug):7.2f}"
            rows.append(
                (slug, f"{min(walls):7.2f}", f"{min(cpus):7.2f}", predicted, f"{min(firsts):7.3f}", "")
            )
        except Exception as e:  # noqa: BLE001 - a broken demo must not stop the table
            rows.append((slug, "      -", "      -", "      -", "      -", f"{type(e).__name__}: {e}"[:60]))
    return rows


def _calibrate(rows) -> None:
    """The cost model's scale: each demo's default run, in CPU seconds (about its wall time on an idle
    core), kept with the demo's exponent overrides."""
    import json

    table = json.loads(cost.MODEL_FILE.read_text()) if cost.MODEL_FILE.exists() else {}
    for slug, _wall, cpu, *_ in rows:
        if cpu.strip() != "-":
            table.setdefault(slug, {})["default_s"] = round(max(float(cpu), 0.01), 2)
    cost.MODEL_FILE.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
    cost.reload()
    print(f"calibrated {cost.MODEL_FILE}")


def plain_loop(act: str, device: str, seed: int = 0) -> float:
    """Train one activation's network the plain way, as the demo's defaults say; final test accuracy.

    Same work as one variant of the demo: circles data, He init, SGD with momentum on minibatches,
    gradient norms per hidden layer at initialisation and at every recorded step, accuracy on the
    train and test sets at the recorded steps."""
    p = vg.Params(activations=[act])
    dev = torch.device(device)
    data = circles_split(p.n_samples, noise=0.08, factor=0.5, seed=seed, device=dev)
    g = cpu_generator(seed)
    dims = [2] + [p.width] * (p.depth - 1) + [2]
    layers: list[torch.nn.Module] = []
    for i in range(p.depth):
        lin = torch.nn.Linear(dims[i], dims[i + 1])
        init_weight_(lin.weight.data.T, p.init, g)  # nn.Linear stores [out, in]
        torch.nn.init.zeros_(lin.bias)
        layers.append(lin)
    net = torch.nn.Sequential(*layers).to(dev)
    fn = ACTIVATIONS[act]

    def forward(x, keep=None):
        h = x
        for lin in net[:-1]:
            h = fn(lin(h))
            if keep is not None:
                h.retain_grad()
                keep.append(h)
        return net[-1](h)

    def layer_norms(keep):
        return [h.grad.norm().item() for h in keep]

    loss_fn = torch.nn.CrossEntropyLoss()
    keep: list[torch.Tensor] = []
    loss_fn(forward(data.x_train[: vg.INIT_CAP], keep), data.y_train[: vg.INIT_CAP]).backward()
    layer_norms(keep)
    net.zero_grad()
    opt = torch.optim.SGD(net.parameters(), lr=p.lr, momentum=0.9)
    n_train = data.x_train.shape[0]
    batch = min(vg.BATCH_SIZE, n_train)
    g_batches = cpu_generator(seed + 1)
    every = max(1, p.steps // 30)
    record_at = set(range(0, p.steps, every)) | {p.steps - 1}
    pos, order, test_acc = n_train, None, float("nan")
    for step in range(p.steps):
        if pos + batch > n_train:
            order, pos = torch.randperm(n_train, generator=g_batches).to(dev), 0
        idx = order[pos : pos + batch]
        pos += batch
        keep = [] if step in record_at else None
        opt.zero_grad()
        loss = loss_fn(forward(data.x_train[idx], keep), data.y_train[idx])
        loss.backward()
        if keep is not None:
            layer_norms(keep)
            with torch.no_grad():
                (
                    forward(data.x_train[: vg.EVAL_CAP]).argmax(1) == data.y_train[: vg.EVAL_CAP]
                ).float().mean().item()
                test_acc = (
                    (forward(data.x_test[: vg.EVAL_CAP]).argmax(1) == data.y_test[: vg.EVAL_CAP])
                    .float()
                    .mean()
                    .item()
                )
        opt.step()
    return test_acc


def _timed(fn) -> tuple[float, float, object]:
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - t0, time.process_time() - c0, out


def bench_batching(device: str, repeat: int) -> dict[str, tuple[float, float]]:
    """Best (wall, cpu) seconds of: the batched demo run, the engine run once per activation, and
    the plain loop once per activation; plus the test accuracies of both, to compare."""
    slug = "vanishing-gradients"
    best: dict[str, tuple[float, float]] = {}
    acc: dict[str, list[float]] = {}

    def keep_best(key: str, wall: float, cpu: float) -> None:
        w, c = best.get(key, (float("inf"), float("inf")))
        best[key] = (min(w, wall), min(c, cpu))

    for _ in range(repeat):
        w, _, c = _timed_run(slug, {"activations": BATCH_ACTS}, device)
        keep_best("batched", w, c)
        runs = [_timed_run(slug, {"activations": [a]}, device) for a in BATCH_ACTS]
        keep_best("engine", sum(r[0] for r in runs), sum(r[2] for r in runs))
        plain = [_timed(lambda a=a: plain_loop(a, device)) for a in BATCH_ACTS]
        keep_best("plain", sum(r[0] for r in plain), sum(r[1] for r in plain))
        acc["plain"] = [r[2] for r in plain]
    res = runtime.run_demo(slug, {"activations": BATCH_ACTS}, seed=0, device=device, budget_s=0)
    acc["batched"] = [vg.final_test_acc(res.result)[a] for a in BATCH_ACTS]
    best["acc"] = acc  # type: ignore[assignment]
    return best


def bench_overshoot(slugs: list[str], device: str, budget_s: float = 2.0) -> list[tuple[str, ...]]:
    """Each demo at its heaviest in-bounds knobs with a budget: how far past it the run went, and the
    longest silence between progress reports (targets: <= 1 s and <= 0.5 s)."""
    from tests.demos.heavy import heaviest

    rows = []
    for slug in slugs:
        t0 = time.perf_counter()
        marks = [0.0]
        out = runtime.run_demo(
            slug,
            heaviest(slug),
            device=device,
            budget_s=budget_s,
            use_cache=False,
            on_progress=lambda f, p, marks=marks, t0=t0: marks.append(time.perf_counter() - t0),
        )
        wall = time.perf_counter() - t0
        marks.append(wall)
        silence = max(b - a for a, b in zip(marks, marks[1:], strict=False))
        over = f"{max(0.0, wall - budget_s):.2f}" if out.stopped else "finished"
        rows.append((slug, over, f"{silence:.2f}", out.message))
    return rows


def bench_store(device: str, slugs: list[str], repeats: int = 40) -> list[tuple[str, ...]]:
    """A stored result answered as a fresh process would (memory cache cleared): the database read, and
    that plus rebuilding the plotly figures the page draws. SQLite in a temporary folder."""
    import tempfile

    import plotly.graph_objects as go

    from quizapp.db import make_engine
    from quizapp.demo_store import DbResultStore
    from quizapp.migrate import upgrade

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        store = DbResultStore(make_engine(url))
        for slug in slugs:
            runtime.run_demo(slug, None, device=device, budget_s=0, store=store)
            read, full = [], []
            for _ in range(repeats):
                runtime.clear_cache()
                t0 = time.perf_counter()
                out = runtime.run_demo(slug, None, device=device, store=store)
                t1 = time.perf_counter()
                [go.Figure(f) for f in out.figures or []]
                full.append(time.perf_counter() - t0)
                read.append(t1 - t0)
                assert out.cached
            rows.append(
                (
                    slug,
                    f"{_p(read, 50) * 1000:.1f}",
                    f"{_p(read, 95) * 1000:.1f}",
                    f"{_p(full, 95) * 1000:.1f}",
                )
            )
    return rows


def _p(xs: list[float], q: int) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q / 100 * (len(xs) - 1)))]


def bench_workers(n_runs: int = 20) -> list[tuple[str, ...]]:
    """n_runs queued demo runs (dropout, 100 steps, distinct seeds) through Redis with 1 and 2 worker
    processes: wall time from the first enqueue to the last outcome. Skipped without Redis."""
    import signal
    import socket
    import subprocess
    import tempfile

    from quizapp import demo_jobs
    from quizapp.migrate import upgrade

    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        return [("(no Redis at 127.0.0.1:6379: skipped)", "", "", "")]
    url = "redis://127.0.0.1:6379/14"
    conn = demo_jobs.connect(url)
    rows = []
    for n_workers in (1, 2):
        conn.flushdb()
        with tempfile.TemporaryDirectory() as tmp:
            db = f"sqlite:///{tmp}/bench.db"
            upgrade(db)
            env = {**os.environ, "QUIZAPP_REDIS_URL": url, "QUIZAPP_DATABASE_URL": db}
            env["QUIZAPP_TORCH_THREADS"] = str(max(1, (os.cpu_count() or 1) // n_workers))
            cmd = [sys.executable, "-m", "quizapp.cli", "worker"]
            procs = [subprocess.Popen(cmd, env=env) for _ in range(n_workers)]
            from rq import Queue, Worker

            q = Queue(demo_jobs.QUEUE, connection=conn)
            while Worker.count(queue=q) < n_workers:
                time.sleep(0.2)
            t0 = time.perf_counter()
            jobs = [
                demo_jobs.enqueue("dropout", {"steps": 100}, seed=i, device="cpu", conn=conn)
                for i in range(n_runs)
            ]
            for j in jobs:
                demo_jobs.follow(j, conn=conn)
            wall = time.perf_counter() - t0
            for p in procs:
                p.send_signal(signal.SIGTERM)
            for p in procs:
                p.wait(timeout=30)
        rows.append((str(n_workers), f"{wall:.2f}", f"{n_runs / wall * 60:.0f}", f"{wall / n_runs:.2f}"))
    conn.flushdb()
    return rows


def _table(rows, header) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(str(h).ljust(w) for h, w in zip(header, widths, strict=True)), line]
    out += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=2, help="torch intra-op threads (default 2)")
    ap.add_argument("--slugs", nargs="*", default=None, help="demos to time (default: every available one)")
    ap.add_argument("--device", default="auto", help="cpu, cuda or auto (auto: cpu, then cuda if present)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per measurement; the best is reported")
    ap.add_argument(
        "--no-batching", action="store_true", help="skip the batched-against-one-by-one comparison"
    )
    ap.add_argument("--no-serving", action="store_true", help="skip overshoot, stored answers and workers")
    ap.add_argument(
        "--calibrate",
        action="store_true",
        help="write each timed demo's default CPU seconds to demos/cost_model.json (the cost model's scale)",
    )
    args = ap.parse_args(argv)

    runtime.configure_threads(args.threads, force=True)
    slugs = args.slugs or [s for s in CATALOGUE if registry.available(s)]
    unknown = [s for s in slugs if not registry.available(s)]
    if unknown:
        ap.error(f"not available: {', '.join(unknown)}")
    if args.device == "auto":
        devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    else:
        devices = [str(runtime.pick_device(args.device))]

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), {os.cpu_count()} cores, "
        f"load average {load:.1f}"
    )
    for device in devices:
        _warm_up(device)
        name = torch.cuda.get_device_name() if device.startswith("cuda") else "cpu"
        print(f"\n== device {device} ({name})")
        rows = bench_defaults(slugs, device, args.repeat)
        print(_table(rows, ("demo", "wall_s", "cpu_s", "predicted_s", "first_progress_s", "note")))
        if args.calibrate and device == "cpu":
            _calibrate(rows)
        if not args.no_batching and "vanishing-gradients" in slugs:
            print(
                f"\nvanishing-gradients, {', '.join(BATCH_ACTS)}: one batched run against each alone in turn"
            )
            best = bench_batching(device, args.repeat)
            acc = best.pop("acc")
            b_w, b_c = best["batched"]
            for key, label in (("plain", "plain loop"), ("engine", "engine alone")):
                w, c = best[key]
                print(
                    f"  vs {label:12s}: batched {b_w:.2f} s wall / {b_c:.2f} s cpu; one by one {w:.2f} s / "
                    f"{c:.2f} s; ratio {b_w / w:.2f} wall, {b_c / c:.2f} cpu (target <= 0.5)"
                )
            fmt = ", ".join
            print(
                f"  final test accuracy ({fmt(BATCH_ACTS)}): batched "
                f"{fmt(f'{a:.2f}' for a in acc['batched'])}; plain loop {fmt(f'{a:.2f}' for a in acc['plain'])}"
            )
    if args.no_serving:
        return 0
    print("\nheaviest in-bounds knobs, budget 2 s (cpu): overshoot target <= 1 s, silence <= 0.5 s")
    print(_table(bench_overshoot(slugs, "cpu"), ("demo", "overshoot_s", "longest_silence_s", "outcome")))
    store_slugs = [s for s in ("vanishing-gradients", "dropout", "pooling", "how-models-learn") if s in slugs]
    print("\nstored result answered (memory cache cleared, SQLite), target p95 <= 50 ms")
    print(
        _table(bench_store("cpu", store_slugs), ("demo", "read_p50_ms", "read_p95_ms", "with_figures_p95_ms"))
    )
    print("\n20 queued runs (dropout, 100 steps, distinct seeds) through Redis")
    print(_table(bench_workers(), ("workers", "wall_s", "runs_per_min", "s_per_run")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
