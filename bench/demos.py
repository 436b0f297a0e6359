"""Time every available demo's default run, and what batching variants buys.

    python bench/demos.py [--threads 2] [--slugs dropout vanishing-gradients] [--device cpu|cuda|auto]
                          [--repeat 1] [--no-batching]

For each demo: the default run's wall time and the time to its first progress call (the first run in
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

from demos import registry, runtime  # noqa: E402
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
            rows.append((slug, f"{min(walls):7.2f}", f"{min(cpus):7.2f}", f"{min(firsts):7.3f}", ""))
        except Exception as e:  # noqa: BLE001 - a broken demo must not stop the table
            rows.append((slug, "      -", "      -", "      -", f"{type(e).__name__}: {e}"[:60]))
    return rows


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
        print(_table(rows, ("demo", "wall_s", "cpu_s", "first_progress_s", "note")))
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
