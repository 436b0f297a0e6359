"""Runs demos: device choice, seeding, torch threads, a result cache (in memory, then an optional
shared store), a process-wide concurrency limit with a FIFO queue, a time budget and Stop.

    outcome = run_demo("dropout", {"rates": "0,0.5"}, seed=0, on_progress=cb, on_wait=show_place,
                       budget_s=60, stop=event)

The runtime, not each demo, enforces the budget and Stop: while a run is going, global torch hooks
check the clock (and the stop flag) before every optimiser step and every module call, and demos
call `ctx.check()` in loops that use neither. A run that stops returns an outcome with
`stopped=True`, the last partial result, its metrics so far and its claims marked not checked
(`holds=None`). While a run goes, `on_progress(fraction, partial)` hears at least every
HEARTBEAT_S seconds of wall time.

`on_progress(fraction, partial_result)` and `on_wait(position)` may raise (e.g. Streamlit stopping
a script on rerun); the exception leaves run_demo unchanged, and the run's slot or queue place is
given back.
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import json
import math
import os
import random
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from demos import registry
from demos.base import Cancelled, Claim, DemoParams, RunContext, RunStopped, checkpoint, set_current_check

__all__ = [
    "BudgetExceeded",
    "Cancelled",
    "DeviceUnavailable",
    "ResultStore",
    "RunKey",
    "RunOutcome",
    "RunStopped",
    "clear_cache",
    "code_version",
    "concurrency_limit",
    "configure_threads",
    "current_run",
    "default_budget_s",
    "default_threads",
    "outcome_json",
    "pick_device",
    "queue_snapshot",
    "run_demo",
    "run_key",
    "seed_everything",
    "set_store",
    "steps_total",
    "warm_up",
]

CACHE_SIZE = 64
WAIT_HEARTBEAT_S = 1.0  # a waiting caller's on_wait is re-called this often, so a page can cancel
HEARTBEAT_S = 0.4  # a running caller's on_progress is called at least this often
LAZY_PARTIAL_S = 0.25  # a partial given as a function is built at most this often
STOP_POLL_S = 0.05  # how often a stop callable is asked


class DeviceUnavailable(RuntimeError):
    """The requested device does not exist on this machine."""


class BudgetExceeded(RunStopped):
    """Kept for callers that catch it; run_demo now returns a stopped outcome instead of raising."""

    def __init__(self, budget_s: float, elapsed_s: float, partial: Any = None):
        self.budget_s = budget_s
        self.elapsed_s = elapsed_s
        self.partial = partial
        super().__init__("budget")


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
            import sklearn.linear_model  # noqa: F401  (a second on a small machine; several demos use it)

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


# ------------------------------------------------------------------------------------ outcome, cache


@dataclass
class RunOutcome:
    demo: str
    params: dict[str, Any]
    device: str
    seed: int
    elapsed_s: float
    metrics: dict[str, Any]
    claims: list[Claim]
    result: Any  # the demo's Result (None when answered from the store: see `figures`)
    cached: bool = False
    stopped: bool = False
    stop_reason: str | None = None  # 'budget' | 'stop'
    steps_done: int = 0
    steps_total: int | None = None
    budget_s: float = 0.0
    figures: list[dict] | None = None  # plotly figure JSON, when answered from the store
    code_version: str = ""

    @property
    def message(self) -> str:
        """One line on how the run ended, for people."""
        if not self.stopped:
            how = "from stored results" if self.cached else f"in {self.elapsed_s:.2f} s"
            return f"Ran on {self.device}, seed {self.seed}, {how}."
        where = f"step {self.steps_done}" + (f" of {self.steps_total}" if self.steps_total else "")
        if self.stop_reason == "budget":
            return f"Stopped at {where} after the budget of {self.budget_s:g} s."
        return f"Stopped at {where} after {self.elapsed_s:.1f} s, as asked."


@dataclass(frozen=True)
class RunKey:
    """What a stored result is filed under. `params` is canonical JSON (sorted keys)."""

    slug: str
    params: str
    seed: int
    device_kind: str
    code_version: str

    def digest(self) -> str:
        raw = json.dumps([self.slug, self.params, self.seed, self.device_kind, self.code_version])
        return hashlib.sha256(raw.encode()).hexdigest()


class ResultStore(Protocol):
    """Where finished runs are kept and shared between processes (quizapp.demo_store is the database one).
    A record: {device, elapsed_s, metrics, claims: [{id, statement, holds}], figures: [plotly JSON],
    steps_done, steps_total}."""

    def get(self, key: RunKey) -> dict[str, Any] | None: ...

    def put(self, key: RunKey, record: dict[str, Any]) -> None: ...


_store: ResultStore | None = None


def set_store(store: ResultStore | None) -> ResultStore | None:
    """Set the process's default store (run_demo's store=None uses it); returns the previous one."""
    global _store
    previous, _store = _store, store
    return previous


_versions: dict[str, str] = {}
_RUNTIME_FILES = ("base.py", "runtime.py", "_nn.py", "_data.py")


def code_version(slug: str) -> str:
    """A hash of the demo module's source and the shared runtime's: a stored result of older code is
    never answered. A module without a source file (test fakes) uses its CODE_VERSION or 'dev'."""
    if slug in _versions:
        return _versions[slug]
    module = registry.load(slug)
    try:
        path = Path(inspect.getsourcefile(module) or "")
        own = path.read_bytes() if path.is_file() else None
    except TypeError:
        own = None
    if own is None:
        return str(getattr(module, "CODE_VERSION", "dev"))
    h = hashlib.sha256(own)
    here = Path(__file__).parent
    for name in _RUNTIME_FILES:
        h.update((here / name).read_bytes())
    _versions[slug] = h.hexdigest()[:16]
    return _versions[slug]


def steps_total(module: Any, params: DemoParams) -> int | None:
    """The demo's own count of steps (total_steps(params)), else its `steps` knob, else None."""
    fn = getattr(module, "total_steps", None)
    if fn is not None:
        return int(fn(params))
    steps = getattr(params, "steps", None)
    return int(steps) if isinstance(steps, int) and not isinstance(steps, bool) else None


_cache: OrderedDict[tuple, RunOutcome] = OrderedDict()
_cache_lock = threading.Lock()


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()
        _versions.clear()


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


# ----------------------------------------------------------------------------- budget, stop, progress


class _Run:
    """One run's clock, stop flag and progress relay. Lives in a thread-local while the run goes."""

    def __init__(
        self,
        budget_s: float,
        stop: Callable[[], bool] | None,
        on_progress: Callable[[float, Any], None] | None,
    ) -> None:
        self.t0 = time.perf_counter()
        self.deadline = self.t0 + budget_s if budget_s > 0 else math.inf
        self.stop = stop
        self.on_progress = on_progress
        self.next_poll = 0.0
        self.fraction = 0.0
        self.partial: Any = None  # the latest partial given: a result or a function that builds one
        self.built: Any = None  # the latest partial built
        self.built_at = -math.inf
        self.told_at = self.t0
        self.checks = 0
        self.step: int | None = None
        self.steps_total: int | None = None

    def check(self) -> bool:
        """Raise RunStopped past the deadline or once stop is set; tell the caller when it is time.
        Returns whether it told."""
        self.checks += 1
        now = time.perf_counter()
        if now >= self.deadline:
            raise RunStopped("budget")
        if self.stop is not None and now >= self.next_poll:
            self.next_poll = now + STOP_POLL_S
            if self.stop():
                raise RunStopped("stop")
        if now - self.told_at >= HEARTBEAT_S:
            self.tell(now, force_build=True)
            return True
        return False

    def build(self, now: float, force: bool) -> Any:
        p = self.partial
        if callable(p):
            if force or now - self.built_at >= LAZY_PARTIAL_S or self.built is None:
                self.built, self.built_at = p(), now
        elif p is not None:
            self.built, self.built_at = p, now
        return self.built

    def tell(self, now: float, force_build: bool = False) -> None:
        self.told_at = now
        if self.on_progress is not None:
            self.on_progress(self.fraction, self.build(now, force_build))

    def progress(self, fraction: float, partial: Any) -> None:
        """A demo's own report: always passed on."""
        self.fraction = fraction
        if partial is not None:
            self.partial = partial
        self.check()
        self.tell(time.perf_counter())

    def tick(self, step: int, fraction: float, partial: Callable[[], Any] | None) -> None:
        """A demo's per-step note: passed on by check() when HEARTBEAT_S has gone by."""
        self.step, self.fraction = int(step), fraction
        if partial is not None:
            self.partial = partial
        self.check()

    def final_partial(self) -> Any:
        return self.build(time.perf_counter(), force=True)


_local = threading.local()


def current_run() -> dict[str, Any] | None:
    """The run going on this thread (for a progress callback that wants to say where it is):
    {step, steps_total, elapsed_s}, or None."""
    state = getattr(_local, "state", None)
    if state is None:
        return None
    return {
        "step": state.step,
        "steps_total": state.steps_total,
        "elapsed_s": time.perf_counter() - state.t0,
        "fraction": state.fraction,
    }


_hooks_lock = threading.Lock()
_hooks_installed = False


def _install_hooks() -> None:
    """Global torch hooks: before every optimiser step and every module call, the run on this thread
    (if any) checks its budget and stop flag and keeps its caller informed. Other threads pay one
    attribute lookup."""
    global _hooks_installed
    with _hooks_lock:
        if _hooks_installed:
            return
        from torch.nn.modules.module import register_module_forward_pre_hook
        from torch.optim.optimizer import register_optimizer_step_pre_hook

        register_optimizer_step_pre_hook(lambda opt, args, kwargs: checkpoint())
        register_module_forward_pre_hook(lambda mod, args: checkpoint())
        _hooks_installed = True


def _as_stop(stop: Any) -> Callable[[], bool] | None:
    if stop is None:
        return None
    if isinstance(stop, threading.Event):
        return stop.is_set
    if callable(stop):
        return stop
    raise TypeError("stop must be a threading.Event, a function returning bool, or None")


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


def run_key(slug: str, params: Any = None, *, seed: int = 0, device: str | torch.device = "auto") -> RunKey:
    """The key a run of these settings is cached and stored under."""
    p = _as_params(slug, params)
    dev = pick_device(device)
    canonical = json.dumps(p.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return RunKey(slug, canonical, int(seed), dev.type, code_version(slug))


def _from_record(slug: str, key: RunKey, rec: Mapping[str, Any]) -> RunOutcome:
    return RunOutcome(
        demo=slug,
        params=json.loads(key.params),
        device=str(rec.get("device", key.device_kind)),
        seed=key.seed,
        elapsed_s=float(rec.get("elapsed_s", 0.0)),
        metrics=dict(rec.get("metrics") or {}),
        claims=[Claim(c["id"], c["statement"], c.get("holds")) for c in rec.get("claims") or []],
        result=None,
        cached=True,
        steps_done=int(rec.get("steps_done") or 0),
        steps_total=rec.get("steps_total"),
        figures=list(rec.get("figures") or []),
        code_version=key.code_version,
    )


def outcome_record(outcome: RunOutcome) -> dict[str, Any]:
    """What a store keeps of a finished run: everything the page and the CLI show, figures as JSON."""
    if outcome.figures is not None:
        figures = outcome.figures
    else:
        figures = [json.loads(f.to_json()) for f in registry.load(outcome.demo).figures(outcome.result)]
    return {
        "device": outcome.device,
        "elapsed_s": outcome.elapsed_s,
        "metrics": outcome.metrics,
        "claims": [c.as_dict() for c in outcome.claims],
        "figures": figures,
        "steps_done": outcome.steps_done,
        "steps_total": outcome.steps_total,
    }


def lookup(key: RunKey, *, store: ResultStore | None = None) -> RunOutcome | None:
    """A finished run of these settings from memory or the store, without running anything."""
    ckey = (key.slug, key.params, key.seed, key.device_kind, key.code_version)
    hit = _cache_get(ckey)
    if hit is not None:
        return replace(hit, params=copy.deepcopy(hit.params), cached=True)
    store = store if store is not None else _store
    if store is None:
        return None
    rec = store.get(key)
    if rec is None:
        return None
    outcome = _from_record(key.slug, key, rec)
    _cache_put(ckey, outcome)
    return outcome


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
    stop: threading.Event | Callable[[], bool] | None = None,
    store: ResultStore | None = None,
) -> RunOutcome:
    """Run demo `slug` with `params` (a Params, a mapping of knob values incl. strings, or None).

    With use_cache, a finished run of the same key is answered from memory or from `store` (default:
    the one set_store set) and a new finished run is kept in both. Past `budget_s` (None: the
    environment's default; <= 0: none) or once `stop` is set, the run stops within a step and the
    outcome says so (stopped=True). Raises registry.UnknownDemo / DemoUnavailable / KnobError for bad
    input, DeviceUnavailable, and whatever on_progress/on_wait raise.
    """
    module = registry.load(slug)
    p = _as_params(slug, params)
    key = run_key(slug, p, seed=seed, device=device)
    dev = pick_device(device)
    seed = int(seed)
    store = store if store is not None else _store
    ckey = (key.slug, key.params, key.seed, key.device_kind, key.code_version)

    if use_cache:
        hit = lookup(key, store=store)
        if hit is not None:
            if on_progress is not None:
                on_progress(1.0, hit.result)
            return hit

    budget = default_budget_s() if budget_s is None else float(budget_s)
    total = steps_total(module, p)
    # Waits for a warm-up going on in the background (a server's, at start-up): a run that imported
    # torch._dynamo at the same time as the warm-up thread could hang on the import, where no budget
    # check runs. Once the process is warm this is a flag check.
    warm_up()
    configure_threads()
    _install_hooks()
    stop_fn = _as_stop(stop)
    _gate.acquire(on_wait)
    stopped: RunStopped | None = None
    try:
        seed_everything(seed)
        state = _Run(budget, stop_fn, on_progress)  # the budget counts from here, not from the queue
        ctx = RunContext(
            device=dev, seed=seed, on_progress=state.progress, on_check=state.check, on_tick=state.tick
        )
        state.steps_total = total
        set_current_check(state.check)
        _local.state = state
        try:
            result = module.run(p, ctx)
        except RunStopped as exc:
            stopped = exc
            result = None
        finally:
            set_current_check(None)
            _local.state = None
        elapsed = time.perf_counter() - state.t0
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
            elapsed = time.perf_counter() - state.t0
    finally:
        _gate.release()

    if stopped is not None:
        return _stopped_outcome(module, slug, p, dev, seed, elapsed, state, stopped, total, budget, key)

    outcome = RunOutcome(
        demo=slug,
        params=p.model_dump(mode="json"),
        device=str(dev),
        seed=seed,
        elapsed_s=elapsed,
        metrics=dict(module.metrics(result)),
        claims=list(module.claims(result)),
        result=result,
        steps_done=total or 0,
        steps_total=total,
        budget_s=max(budget, 0.0),
        code_version=key.code_version,
    )
    if on_progress is not None and not (state.fraction >= 1.0 and state.built is result):
        on_progress(1.0, result)  # the demo did not report its final result itself
    if use_cache:
        _cache_put(ckey, outcome)
        if store is not None:
            store.put(key, outcome_record(outcome))
    return outcome


def _stopped_outcome(module, slug, p, dev, seed, elapsed, state, exc, total, budget, key) -> RunOutcome:  # type: ignore[no-untyped-def]
    partial = state.final_partial()
    metrics: dict[str, Any] = {}
    # Every claim the finished run would have checked, marked not checked (holds=None).
    claims: list[Claim] = registry.planned_claims(slug, p)
    if partial is not None:
        try:
            metrics = dict(module.metrics(partial))
        except Exception:  # a partial result may lack what the final metrics read
            metrics = {}
        if not claims:  # a demo without CLAIMS: what its claims() reads from the partial result
            try:
                claims = [Claim(c.id, c.statement, None) for c in module.claims(partial)]
            except Exception:
                claims = []
    if state.step is not None:
        done = state.step
    else:
        done = int(state.fraction * total) if total else round(state.fraction * 100)
    return RunOutcome(
        demo=slug,
        params=p.model_dump(mode="json"),
        device=str(dev),
        seed=seed,
        elapsed_s=elapsed,
        metrics=metrics,
        claims=claims,
        result=partial,
        stopped=True,
        stop_reason=exc.reason,
        steps_done=done,
        steps_total=total if total else 100,
        budget_s=max(budget, 0.0),
        code_version=key.code_version,
    )


def outcome_json(outcome: RunOutcome) -> dict[str, Any]:
    return {
        "demo": outcome.demo,
        "params": outcome.params,
        "device": outcome.device,
        "elapsed_s": round(float(outcome.elapsed_s), 4),
        "metrics": outcome.metrics,
        "claims": [c.as_dict() for c in outcome.claims],
        "cached": bool(outcome.cached),
        "stopped": bool(outcome.stopped),
        "steps_done": int(outcome.steps_done),
    }
