"""Why GPUs: matrix-multiply throughput by size.

The same operation, C = A @ B for square n x n matrices, timed four ways: a plain Python triple loop (tiny
sizes only), torch on the CPU with one thread, torch on the CPU with every core this process may use,
and torch on the accelerator when the run's device is one (CUDA or MPS). Throughput is 2 n^3 floating-
point operations divided by the best of several timings. The "share of peak" figure divides by the
highest throughput measured on the same device in this run: a measured reference, not the vendor's
theoretical peak, which this demo does not try to guess.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated

import plotly.graph_objects as go
import torch
from annotated_types import Ge, Le
from pydantic import Field, field_validator

from demos.base import Claim, DemoParams, RunContext

PY_LABEL = "Python loop"
_MIN_CPU_SHARE = 0.8
ONE_LABEL = "CPU, 1 thread"


class Params(DemoParams):
    sizes: list[Annotated[int, Ge(8), Le(4096)]] = Field(
        default=[32, 64, 128, 256, 512, 1024],
        min_length=2,
        max_length=10,
        description="Matrix sizes n (n x n times n x n) timed with torch",
        title="Matrix sizes (n)",
    )
    python_sizes: list[Annotated[int, Ge(4), Le(64)]] = Field(
        default=[8, 16, 32],
        min_length=1,
        max_length=5,
        description="Matrix sizes timed with the plain Python triple loop (kept tiny: it is slow)",
        title="Python-loop sizes (n)",
    )
    repeats: int = Field(
        3, ge=1, le=20, description="Timings per point; the fastest one counts", title="Repeats"
    )
    min_time_ms: float = Field(
        20.0,
        ge=1.0,
        le=1000.0,
        description="Each timing repeats the product until at least this long",
        title="Shortest timing (ms)",
    )

    @field_validator("sizes", "python_sizes")
    @classmethod
    def _unique(cls, v: list[int]) -> list[int]:
        if len(set(v)) != len(v):
            raise ValueError("each size may appear only once")
        return sorted(v)


@dataclass
class Result:
    sizes: list[int]
    python_sizes: list[int]
    cores: int
    device: str
    # series label -> (sizes, GFLOP/s)
    series: dict[str, tuple[list[int], list[float]]] = field(default_factory=dict)
    # torch with one thread at the Python loop's sizes, for a like-for-like comparison
    torch_at_python_sizes: list[float] = field(default_factory=list)
    # per CPU series: CPU time this process got per wall second per thread while timing (1.0 = every
    # thread had a core to itself; well below 1 means other programs were competing for the cores)
    cpu_share: dict[str, float] = field(default_factory=dict)
    done: bool = False


def _usable_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    elif dev.type == "mps":
        torch.mps.synchronize()


CHUNK_FLOP = 4e9  # a large product runs in row blocks of about this much work, with a stop check between


def _time_torch(
    n: int, dev: torch.device, repeats: int, min_s: float, g: torch.Generator, check: Callable[[], object]
) -> float:
    """Best seconds per n x n product on `dev`."""
    a = torch.randn(n, n, generator=g).to(dev)
    b = torch.randn(n, n, generator=g).to(dev)
    out = torch.empty(n, n, device=dev)
    rows = max(1, int(CHUNK_FLOP / (2 * n * n)))

    def mm() -> None:
        if rows >= n:
            torch.mm(a, b, out=out)
            return
        for i in range(0, n, rows):  # one product in row blocks, so a stop lands within a block
            torch.mm(a[i : i + rows], b, out=out[i : i + rows])
            check()

    mm()  # warm-up: allocations, kernel selection
    _sync(dev)
    # how many products make one timing last at least min_s
    reps = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(reps):
            mm()
        _sync(dev)
        check()
        dt = time.perf_counter() - t0
        if dt >= min_s or reps >= 1 << 16:
            break
        reps = max(reps * 2, int(reps * min_s / max(dt, 1e-9)))
    best = dt / reps
    for _ in range(repeats - 1):
        t0 = time.perf_counter()
        for _ in range(reps):
            mm()
        _sync(dev)
        check()
        best = min(best, (time.perf_counter() - t0) / reps)
    return best


def _python_matmul(
    a: list[list[float]], b: list[list[float]], check: Callable[[], object] = lambda: None
) -> list[list[float]]:
    n, m, p = len(a), len(b), len(b[0])
    c = [[0.0] * p for _ in range(n)]
    for i in range(n):
        check()
        ai, ci = a[i], c[i]
        for k in range(m):
            aik, bk = ai[k], b[k]
            for j in range(p):
                ci[j] += aik * bk[j]
    return c


def _time_python(n: int, repeats: int, rng: random.Random, check: Callable[[], object]) -> float:
    a = [[rng.random() for _ in range(n)] for _ in range(n)]
    b = [[rng.random() for _ in range(n)] for _ in range(n)]
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        _python_matmul(a, b, check)
        best = min(best, time.perf_counter() - t0)
    return best


def _gflops(n: int, seconds: float) -> float:
    return 2.0 * n**3 / seconds / 1e9


def run(params: Params, ctx: RunContext) -> Result:
    torch.manual_seed(ctx.seed)
    g = torch.Generator().manual_seed(ctx.seed)
    rng = random.Random(ctx.seed)
    dev = torch.device(ctx.device)
    cores = _usable_cores()
    res = Result(
        sizes=list(params.sizes), python_sizes=list(params.python_sizes), cores=cores, device=str(dev)
    )
    ctx.progress(0.0, res)
    min_s = params.min_time_ms / 1000.0
    accel = dev.type in ("cuda", "mps")
    cpu_runs = [(1, ONE_LABEL)] + ([(cores, f"CPU, {cores} threads")] if cores > 1 else [])
    total = 2 * len(params.python_sizes) + len(params.sizes) * (len(cpu_runs) + (1 if accel else 0))
    done = 0

    xs, ys = [], []
    for n in params.python_sizes:
        xs.append(n)
        ys.append(_gflops(n, _time_python(n, min(params.repeats, 2), rng, ctx.check)))
        res.series[PY_LABEL] = (list(xs), list(ys))
        done += 1
        ctx.progress(done / total, res)

    saved = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        for n in params.python_sizes:
            res.torch_at_python_sizes.append(
                _gflops(n, _time_torch(n, torch.device("cpu"), params.repeats, min_s / 4, g, ctx.check))
            )
            done += 1
            ctx.progress(done / total, res)
        for threads, label in cpu_runs:
            torch.set_num_threads(threads)
            xs, ys = [], []
            cpu0, wall0 = time.process_time(), time.perf_counter()
            for n in params.sizes:
                xs.append(n)
                ys.append(
                    _gflops(n, _time_torch(n, torch.device("cpu"), params.repeats, min_s, g, ctx.check))
                )
                res.series[label] = (list(xs), list(ys))
                done += 1
                ctx.progress(done / total, res)
            wall = time.perf_counter() - wall0
            res.cpu_share[label] = (time.process_time() - cpu0) / max(wall, 1e-9) / threads
    finally:
        torch.set_num_threads(saved)

    if accel:
        label = (
            f"{dev.type.upper()} ({torch.cuda.get_device_name(dev) if dev.type == 'cuda' else 'Apple GPU'})"
        )
        xs, ys = [], []
        for n in params.sizes:
            xs.append(n)
            ys.append(_gflops(n, _time_torch(n, dev, params.repeats, min_s, g, ctx.check)))
            res.series[label] = (list(xs), list(ys))
            done += 1
            ctx.progress(done / total, res)
    res.done = True
    ctx.progress(1.0, res)
    return res


# ---------------------------------------------------------------- reading the result


def _cpu_all_label(result: Result) -> str | None:
    return f"CPU, {result.cores} threads" if result.cores > 1 else None


def _accel_label(result: Result) -> str | None:
    return next((k for k in result.series if not k.startswith(("CPU", PY_LABEL))), None)


def figures(result: Result) -> list[go.Figure]:
    fig = go.Figure()
    for label, (xs, ys) in result.series.items():
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines+markers", name=label))
    busy = [k for k, v in result.cpu_share.items() if v < _MIN_CPU_SHARE]
    fig.update_layout(
        title="Matrix-multiply throughput by size (best of several timings)"
        + (" - other programs were competing for the CPU, so CPU figures are low" if busy else ""),
        xaxis_title="matrix size n (log scale)",
        yaxis_title="GFLOP/s (2 n^3 operations per product, log scale)",
        xaxis_type="log",
        yaxis_type="log",
    )

    fig_share = go.Figure()
    cpu_labels = [k for k in result.series if k.startswith("CPU")]
    cpu_best = max((max(result.series[k][1]) for k in cpu_labels), default=0.0)
    for label, (xs, ys) in result.series.items():
        if label == PY_LABEL:
            continue
        ref = cpu_best if label.startswith("CPU") else max(ys)
        if ref > 0:
            fig_share.add_trace(
                go.Scatter(x=xs, y=[100 * y / ref for y in ys], mode="lines+markers", name=label)
            )
    fig_share.update_layout(
        title="Share of the best throughput measured on the same device in this run "
        "(a measured reference, not the theoretical peak)",
        xaxis_title="matrix size n (log scale)",
        yaxis_title="% of the device's best measured GFLOP/s",
        xaxis_type="log",
        yaxis_range=[0, 105],
    )
    return [fig, fig_share]


def metrics(result: Result) -> dict[str, float | int | str]:
    out: dict[str, float | int | str] = {"cores": result.cores, "device": result.device}
    for label, share in result.cpu_share.items():
        out[f"cpu_share_{label.lower().replace(',', '').replace(' ', '_')}"] = round(share, 3)
    for label, (_xs, ys) in result.series.items():
        if ys:
            key = label.lower().replace(",", "").replace(" ", "_").replace("(", "").replace(")", "")
            out[f"best_gflops_{key}"] = round(max(ys), 4)
    return out


def _at(result: Result, label: str, n: int) -> float | None:
    xs, ys = result.series.get(label, ([], []))
    return ys[xs.index(n)] if n in xs else None


CLAIMS = {
    "torch-beats-python-loop": "One CPU thread of torch's matrix multiply is over 100x faster than a plain Python loop.",
    "throughput-grows-with-size": "Bigger matrices keep the hardware busier.",
    "all-threads-at-least-one": "All CPU threads are at least as fast as one (checked only when the cores are free).",
    "accelerator-beats-cpu": "The GPU beats the CPU at the largest size (checked only on a GPU).",
}


def checked_claims(params: Params) -> list[str]:
    """The CLAIMS a run of `params` may check; the last two depend on the machine, not the knobs."""
    out = ["torch-beats-python-loop"]
    if len(set(params.sizes)) >= 2:
        out.append("throughput-grows-with-size")
    return [*out, "all-threads-at-least-one", "accelerator-beats-cpu"]


def claims(result: Result) -> list[Claim]:
    if not result.done:
        return []
    out: list[Claim] = []
    py_x, py_y = result.series.get(PY_LABEL, ([], []))
    one_x, one_y = result.series.get(ONE_LABEL, ([], []))
    if py_y and len(result.torch_at_python_sizes) == len(py_y):
        n = py_x[-1]
        fast, slow = result.torch_at_python_sizes[-1], py_y[-1]
        ratio = fast / slow
        out.append(
            Claim(
                "torch-beats-python-loop",
                f"At n={n}, one CPU thread of torch's matmul ({fast:.2f} GFLOP/s) is {ratio:,.0f}x faster than the "
                f"plain Python loop ({slow * 1000:.1f} MFLOP/s): over 100x.",
                ratio > 100,
            )
        )
    if len(one_y) >= 2:
        out.append(
            Claim(
                "throughput-grows-with-size",
                f"Bigger matrices keep the hardware busier: one thread reaches {one_y[-1]:.1f} GFLOP/s at n={one_x[-1]} "
                f"against {one_y[0]:.1f} at n={one_x[0]}.",
                one_y[-1] > one_y[0],
            )
        )
    all_label = _cpu_all_label(result)
    # Only meaningful when this run really had the cores: on a machine busy with other work, extra
    # threads just queue for the same cores, so the comparison is left out (see cpu_share).
    had_cores = all(result.cpu_share.get(k, 0.0) >= _MIN_CPU_SHARE for k in (ONE_LABEL, all_label or ""))
    if all_label and all_label in result.series and one_y and had_cores:
        big = one_x[-1]
        multi = _at(result, all_label, big)
        single = _at(result, ONE_LABEL, big)
        if multi is not None and single:
            out.append(
                Claim(
                    "all-threads-at-least-one",
                    f"With {result.cores} cores free, using all of them is at least as fast as one thread at n={big} "
                    f"(allowing 10% for timing noise): {multi:.1f} against {single:.1f} GFLOP/s.",
                    multi >= 0.9 * single,
                )
            )
    accel = _accel_label(result)
    if accel and one_y:
        a = max(result.series[accel][1])
        c = max(max(result.series[k][1]) for k in result.series if k.startswith("CPU"))
        out.append(
            Claim(
                "accelerator-beats-cpu",
                f"The accelerator's best ({a:.0f} GFLOP/s) is above the CPU's best ({c:.0f} GFLOP/s).",
                a > c,
            )
        )
    return out
