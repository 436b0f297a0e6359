"""Runs demos: device choice, seeding, torch threads, a shared result cache, a process-wide
concurrency limit with a FIFO queue, and a time budget. Used by the CLI and the Streamlit page.

    outcome = run_demo("dropout", {"rates": "0,0.5"}, seed=0, on_progress=cb, on_wait=show_place)

`on_progress(fraction, partial_result)` and `on_wait(position)` may raise (e.g. Streamlit stopping
a script on rerun); the exception leaves run_demo unchanged, and the run's slot or queue place is
given back.
"""

from __future__ import annotations

import copy
import json
import os
import random
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

from demos import registry
from demos.base import Cancelled, Claim, DemoParams, RunContext

__all__ = [
    "BudgetExceeded",
    "DeviceUnavailable",
    "RunOutcome",
    "clear_cache",
    "concurrency_limit",
    "configure_threads",
    "default_budget_s",
    "default_threads",
    "outcome_json",
    "pick_device",
    "queue_snapshot",
    "run_demo",
    "seed_everything",
    "warm_up",
]

CACHE_SIZE = 64
WAIT_HEARTBEAT_S = 1.0  # a waiting caller's on_wait is re-called this often, so a page can cancel


class DeviceUnavailable(RuntimeError):
    """The requested device does not exist on this machine."""


class BudgetExceeded(Cancelled):
    """The run went past its time budget. `partial` is the last partial result reported, if any."""

    def __init__(self, budget_s: float, elapsed_s: float, partial: Any = None):
        self.budget_s = budget_s
        self.elapsed_s = elapsed_s
        self.partial = partial
        super().__init__(f"stopped after {elapsed_s:.1f} s: the time budget is {budget_s:g} s")


# ------------------------------------------------------------------------------------------- devices


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def pick_device(requested: str | torch.device | None = "auto") -> torch.device:
    """'auto' (cuda > mps > cpu), 'cpu', 'cuda', 'cuda:N' or 'mps'."""
    req = str(requested if requested is not None else "auto").strip().lower()
    if req in ("", "auto"):
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = torch.device(req)
    except (RuntimeError, ValueError):
        raise DeviceUnavailable(f"unknown device {requested!r}; use auto, cpu, cuda or mps") from None
    if dev.type == "cpu":
        return dev
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceUnavailable("CUDA was asked for but no CUDA GPU is available here; use auto or cpu")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise DeviceUnavailable(
                f"{dev} was asked for but only {torch.cuda.device_count()} CUDA device(s) exist"
            )
        return dev
    if dev.type == "mps":
        if not _mps_available():
            raise DeviceUnavailable("MPS was asked for but Apple's Metal backend is not available here")
        return dev
    raise DeviceUnavailable(f"unsupported device {requested!r}; use auto, cpu, cuda or mps")


# --------------------------------------------------------------------------------- threads and seeds

_threads_lock = threading.Lock()
_threads_set: int | None = None


def default_threads() -> int:
    """QUIZAPP_TORCH_THREADS, else cores shared out between the concurrent runs, at most 4.

    Two runs with two threads each on two cores oversubscribe the CPU, and torch's worker threads then
    spin-wait on each other: small-tensor training got 10-30x slower that way on a loaded 2-core box.
    """
    env = os.environ.get("QUIZAPP_TORCH_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    return max(1, min(4, (os.cpu_count() or 1) // concurrency_limit()))


def configure_threads(n: int | None = None, *, force: bool = False) -> int:
    """Set torch's intra-op thread count once per process (default: default_threads()), and flush
    denormal floats to zero (deep sigmoid nets otherwise crawl through denormal arithmetic).
    Later calls are no-ops unless force=True. Returns the count in effect."""
    global _threads_set
    with _threads_lock:
        if _threads_set is not None and not force:
            return _threads_set
        n = max(1, int(n if n is not None else default_threads()))
        if torch.get_num_threads() != n:
            torch.set_num_threads(n)
        torch.set_flush_denormal(True)
        _threads_set = n
        return n


_warm_lock = threading.Lock()
_warm_done = False


def warm_up(*, background: bool = False) -> threading.Thread | None:
    """Pay torch's one-off per-process costs before the first run: thread setup, and the first
    optimizer, which imports torch._dynamo (seconds on a small machine). Call at app start-up;
    background=True does it in a daemon thread and returns the thread. Safe to call repeatedly."""

    def work() -> None:
        global _warm_done
        with _warm_lock:
            if _warm_done:
                return
            configure_threads()
            w = torch.zeros(4, 4, requires_grad=True)
            opt = torch.optim.Adam([w], lr=1e-3)
            (w.sigmoid() @ w).sum().backward()
            opt.step()
            _warm_done = True

    if background:
        t = threading.Thread(target=work, name="quizapp-demo-warm-up", daemon=True)
        t.start()
        return t
    work()
    return None


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices). Demos should still prefer their own generators,
    since these global generators are shared by concurrent runs."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


# --------------------------------------------------------------------------------------------- cache


@dataclass
class RunOutcome:
    demo: str
    params: dict[str, Any]
    device: str
    seed: int
    elapsed_s: float
    metrics: dict[str, Any]
    claims: list[Claim]
    result: Any
    cached: bool = False


_cache: OrderedDict[tuple, RunOutcome] = OrderedDict()
_cache_lock = threading.Lock()


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


def _cache_get(key: tuple) -> RunOutcome | None:
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
        return hit


def _cache_put(key: tuple, outcome: RunOutcome) -> None:
    with _cache_lock:
        _cache[key] = outcome
        _cache.move_to_end(key)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)


# ------------------------------------------------------------------------------------ the FIFO gate


def concurrency_limit() -> int:
    """QUIZAPP_DEMO_CONCURRENCY (default 2), read on every acquire so it can change at run time."""
    try:
        return max(1, int(os.environ.get("QUIZAPP_DEMO_CONCURRENCY", "2")))
    except ValueError:
        return 2


class _Gate:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._queue: deque[object] = deque()
        self._running = 0

    def snapshot(self) -> tuple[int, int]:
        with self._cond:
            return self._running, len(self._queue)

    def acquire(self, on_wait: Callable[[int], None] | None) -> None:
        ticket = object()
        with self._cond:
            if not self._queue and self._running < concurrency_limit():
                self._running += 1
                return
            self._queue.append(ticket)
        told: int | None = None
        told_at = 0.0
        try:
            while True:
                with self._cond:
                    pos = self._queue.index(ticket) + 1
                    if pos == 1 and self._running < concurrency_limit():
                        self._queue.popleft()
                        self._running += 1
                        self._cond.notify_all()
                        return
                    if pos == told and time.monotonic() - told_at < WAIT_HEARTBEAT_S:
                        self._cond.wait(timeout=max(0.01, WAIT_HEARTBEAT_S - (time.monotonic() - told_at)))
                        continue
                # Outside the lock: the callback may be slow or raise.
                told, told_at = pos, time.monotonic()
                if on_wait is not None:
                    on_wait(pos)
        except BaseException:
            with self._cond:
                if ticket in self._queue:
                    self._queue.remove(ticket)
                self._cond.notify_all()
            raise

    def release(self) -> None:
        with self._cond:
            self._running -= 1
            self._cond.notify_all()


_gate = _Gate()


def queue_snapshot() -> dict[str, int]:
    """How many runs are going and how many wait, process-wide (for status displays)."""
    running, waiting = _gate.snapshot()
    return {"running": running, "waiting": waiting, "limit": concurrency_limit()}


# -------------------------------------------------------------------------------------------- run


def default_budget_s() -> float:
    try:
        return float(os.environ.get("QUIZAPP_DEMO_BUDGET_S", "60"))
    except ValueError:
        return 60.0


def _as_params(slug: str, params: Any) -> DemoParams:
    cls = registry.params_class(slug)
    if params is None:
        return registry.validate_into(cls, {})
    if isinstance(params, cls):
        return params
    if isinstance(params, DemoParams):
        raise TypeError(f"params for {slug!r} must be {cls.__module__}.Params, not {type(params).__name__}")
    if isinstance(params, Mapping):
        return registry.validate_into(cls, params)
    raise TypeError(f"params must be a Params instance, a mapping or None (got {type(params).__name__})")


def run_demo(
    slug: str,
    params: Any = None,
    *,
    seed: int = 0,
    device: str | torch.device = "auto",
    on_progress: Callable[[float, Any], None] | None = None,
    on_wait: Callable[[int], None] | None = None,
    budget_s: float | None = None,
    use_cache: bool = True,
) -> RunOutcome:
    """Run demo `slug` with `params` (a Params, a mapping of knob values incl. strings, or None).

    Raises registry.UnknownDemo / DemoUnavailable / KnobError for bad input, DeviceUnavailable,
    BudgetExceeded past the budget (budget_s <= 0 means none), and whatever on_progress/on_wait raise.
    """
    module = registry.load(slug)
    p = _as_params(slug, params)
    dev = pick_device(device)
    seed = int(seed)
    params_json = p.model_dump(mode="json")
    key = (slug, json.dumps(params_json, sort_keys=True), seed, str(dev))

    if use_cache:
        hit = _cache_get(key)
        if hit is not None:
            if on_progress is not None:
                on_progress(1.0, hit.result)
            return replace(hit, params=copy.deepcopy(hit.params), cached=True)

    budget = default_budget_s() if budget_s is None else float(budget_s)
    configure_threads()
    _gate.acquire(on_wait)
    try:
        seed_everything(seed)
        t0 = time.perf_counter()
        last_partial: list[Any] = [None]
        last_fraction = [0.0]

        def progress(fraction: float, partial: Any) -> None:
            last_fraction[0] = fraction
            if partial is not None:
                last_partial[0] = partial
            elapsed = time.perf_counter() - t0
            if 0 < budget < elapsed:
                raise BudgetExceeded(budget, elapsed, last_partial[0])
            if on_progress is not None:
                on_progress(fraction, partial)

        ctx = RunContext(device=dev, seed=seed, on_progress=progress)
        result = module.run(p, ctx)
        elapsed = time.perf_counter() - t0
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
            elapsed = time.perf_counter() - t0
    finally:
        _gate.release()

    outcome = RunOutcome(
        demo=slug,
        params=params_json,
        device=str(dev),
        seed=seed,
        elapsed_s=elapsed,
        metrics=dict(module.metrics(result)),
        claims=list(module.claims(result)),
        result=result,
    )
    if on_progress is not None and not (last_fraction[0] >= 1.0 and last_partial[0] is result):
        on_progress(1.0, result)  # the demo did not report its final result itself
    if use_cache:
        _cache_put(key, outcome)
    return outcome


def outcome_json(outcome: RunOutcome) -> dict[str, Any]:
    return {
        "demo": outcome.demo,
        "params": outcome.params,
        "device": outcome.device,
        "elapsed_s": round(float(outcome.elapsed_s), 4),
        "metrics": outcome.metrics,
        "claims": [c.as_dict() for c in outcome.claims],
    }
