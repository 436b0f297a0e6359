"""Time every available demo's default run, and what batching variants buys.

    python bench/demos.py [--threads 2] [--slugs dropout vanishing-gradients] [--device cpu|cuda|auto]
                          [--repeat 1] [--no-batching]

For each demo: the default run's wall time and the time to its first progress call (the first run in
the process pays torch's warm-up, so one tiny untimed run goes first). For vanishing-gradients,
also: sigmoid, tanh and relu compared in one batched run against the same three trained one after
another, each alone (target: batched / one-by-one <= 0.5). With CUDA present and --device auto,
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


def bench_batching(device: str, repeat: int, which: int) -> tuple[float, float, list[float]]:
    """(batched, one-by-one, per-activation) seconds, best of `repeat`; which=0 wall, 2 CPU time."""
    slug = "vanishing-gradients"
    best_b, best_s, best_each = float("inf"), float("inf"), []
    for _ in range(repeat):
        b = _timed_run(slug, {"activations": BATCH_ACTS}, device)[which]
        each = [_timed_run(slug, {"activations": [a]}, device)[which] for a in BATCH_ACTS]
        if b < best_b:
            best_b = b
        if sum(each) < best_s:
            best_s, best_each = sum(each), each
    return best_b, best_s, best_each


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
            for label, which in (("wall", 0), ("cpu", 2)):
                b, s, each = bench_batching(device, args.repeat, which)
                ratio = b / s if s > 0 else float("nan")
                print(
                    f"  {label:4s}: batched {b:.2f} s; one by one {s:.2f} s "
                    f"({' + '.join(f'{e:.2f}' for e in each)}); ratio {ratio:.2f} (target <= 0.5)"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
