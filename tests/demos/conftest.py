"""Shared fixtures for the demo tests: a fake demo for runtime tests, default runs shared per session."""

from __future__ import annotations

import threading
import time
import types
from dataclasses import dataclass

import pytest
from pydantic import Field

from demos import registry, runtime
from demos.base import Cancelled, Claim, DemoParams, RunContext
from demos.catalogue import DemoInfo

FAKE_SLUG = "fake-test-demo"


class FakeParams(DemoParams):
    steps: int = Field(5, ge=1, le=1000, description="How many progress calls.")
    delay: float = Field(0.0, ge=0.0, le=10.0, description="Seconds to sleep per step.")
    fail: bool = Field(False, description="Raise an error half-way.")


@dataclass
class FakeResult:
    seed: int
    steps_done: int
    device: str


class FakeDemo:
    """State shared with tests: `gate` (when set, run() blocks until it is set), `started` events."""

    def __init__(self) -> None:
        self.gate: threading.Event | None = None
        self.started = threading.Event()
        self.calls = 0
        self.running = 0
        self.max_running = 0
        self._lock = threading.Lock()

    def module(self) -> types.ModuleType:
        m = types.ModuleType("demos._fake_test_demo")
        m.Params = FakeParams
        m.Result = FakeResult
        m.run = self.run
        m.figures = lambda r: []
        m.metrics = lambda r: {"steps": r.steps_done, "seed": r.seed}
        m.claims = lambda r: [Claim("fake-ran", "The fake demo ran to the end.", r.steps_done > 0)]
        return m

    def run(self, p: FakeParams, ctx: RunContext) -> FakeResult:
        with self._lock:
            self.calls += 1
            self.running += 1
            self.max_running = max(self.max_running, self.running)
        try:
            self.started.set()
            if self.gate is not None and not self.gate.wait(timeout=20):
                raise RuntimeError("test gate never opened")
            r = FakeResult(ctx.seed, 0, str(ctx.device))
            for i in range(p.steps):
                if p.fail and i == p.steps // 2:
                    raise ValueError("fake failure")
                if p.delay:
                    time.sleep(p.delay)
                r = FakeResult(ctx.seed, i + 1, str(ctx.device))
                ctx.progress((i + 1) / p.steps, r)
            return r
        finally:
            with self._lock:
                self.running -= 1


@pytest.fixture
def fake(monkeypatch) -> FakeDemo:
    """Registers a fake demo under FAKE_SLUG for this test only; clears the result cache around it."""
    demo = FakeDemo()
    info = DemoInfo(FAKE_SLUG, "Fake", "A test-only demo.", ("testing",), "_fake_test_demo")
    monkeypatch.setitem(registry._EXTRA, FAKE_SLUG, (info, demo.module()))
    runtime.clear_cache()
    yield demo
    if demo.gate is not None:
        demo.gate.set()
    runtime.clear_cache()


@pytest.fixture
def limit(monkeypatch):
    """Set the process-wide concurrency limit for one test."""

    def set_limit(n: int) -> None:
        monkeypatch.setenv("QUIZAPP_DEMO_CONCURRENCY", str(n))

    return set_limit


@dataclass
class DefaultRun:
    outcome: runtime.RunOutcome
    partials: list  # (fraction, partial result, seconds since start)
    first_progress_s: float


_default_runs: dict[str, DefaultRun] = {}
_default_lock = threading.Lock()


def default_run(slug: str) -> DefaultRun:
    """Each demo's default run on CPU at seed 0, done once per test session and shared."""
    with _default_lock:
        if slug not in _default_runs:
            partials: list = []
            t0 = time.perf_counter()

            def on_progress(fraction, partial):
                partials.append((fraction, partial, time.perf_counter() - t0))

            outcome = runtime.run_demo(
                slug, None, seed=0, device="cpu", on_progress=on_progress, use_cache=False
            )
            first = partials[0][2] if partials else float("inf")
            _default_runs[slug] = DefaultRun(outcome, partials, first)
        return _default_runs[slug]


def cancel_on_first_progress(fraction, partial):
    raise Cancelled("test cancel")
