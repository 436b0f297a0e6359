"""demos.runtime: devices, the result cache, the FIFO concurrency limit, the time budget, cancelling."""

from __future__ import annotations

import json
import threading
import time

import pytest
import torch

from demos import registry, runtime
from demos.base import Cancelled
from tests.demos.conftest import FAKE_SLUG


def _wait_until(cond, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.005)
    return False


def _slots_free():
    snap = runtime.queue_snapshot()
    return snap["running"] == 0 and snap["waiting"] == 0


# ------------------------------------------------------------------------------------------- devices


@pytest.mark.skipif(torch.cuda.is_available() or runtime._mps_available(), reason="an accelerator is present")
def test_auto_device_is_cpu_here():
    assert runtime.pick_device("auto") == torch.device("cpu")
    assert runtime.pick_device(None) == torch.device("cpu")


def test_explicit_cpu():
    assert runtime.pick_device("cpu") == torch.device("cpu")
    assert runtime.pick_device(torch.device("cpu")) == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is present")
def test_cuda_when_absent_raises():
    with pytest.raises(runtime.DeviceUnavailable, match="CUDA"):
        runtime.pick_device("cuda")
    with pytest.raises(runtime.DeviceUnavailable):
        runtime.pick_device("cuda:1")


@pytest.mark.skipif(runtime._mps_available(), reason="MPS is present")
def test_mps_when_absent_raises():
    with pytest.raises(runtime.DeviceUnavailable, match="MPS"):
        runtime.pick_device("mps")


def test_nonsense_device_raises():
    with pytest.raises(runtime.DeviceUnavailable, match="unknown device"):
        runtime.pick_device("tpu-of-dreams")


def test_run_demo_refuses_missing_device(fake):
    if torch.cuda.is_available():
        pytest.skip("CUDA is present")
    with pytest.raises(runtime.DeviceUnavailable):
        runtime.run_demo(FAKE_SLUG, device="cuda")


# ---------------------------------------------------------------------------------------- threads


def test_configure_threads_sets_once(monkeypatch):
    monkeypatch.setattr(runtime, "_threads_set", None)
    before = torch.get_num_threads()
    try:
        n = runtime.configure_threads()
        assert n == runtime.default_threads() == torch.get_num_threads()
        assert runtime.configure_threads(n + 1) == n  # later calls change nothing
        assert torch.get_num_threads() == n
    finally:
        torch.set_num_threads(before)


def test_default_threads_share_cores(monkeypatch):
    monkeypatch.delenv("QUIZAPP_TORCH_THREADS", raising=False)
    monkeypatch.setattr(runtime.os, "cpu_count", lambda: 16)
    monkeypatch.setenv("QUIZAPP_DEMO_CONCURRENCY", "2")
    assert runtime.default_threads() == 4
    monkeypatch.setattr(runtime.os, "cpu_count", lambda: 2)
    assert runtime.default_threads() == 1
    monkeypatch.setenv("QUIZAPP_TORCH_THREADS", "3")
    assert runtime.default_threads() == 3


# ------------------------------------------------------------------------------------------ basics


def test_outcome_shape_and_json(fake):
    out = runtime.run_demo(FAKE_SLUG, {"steps": "3"}, seed=7, device="cpu")
    assert out.demo == FAKE_SLUG and out.seed == 7 and out.device == "cpu" and not out.cached
    assert out.params == {"steps": 3, "delay": 0.0, "fail": False}
    assert out.metrics == {"steps": 3, "seed": 7}
    assert out.result.steps_done == 3 and out.elapsed_s >= 0
    j = runtime.outcome_json(out)
    assert set(j) == {
        "demo",
        "params",
        "device",
        "elapsed_s",
        "metrics",
        "claims",
        "cached",
        "stopped",
        "steps_done",
    }
    assert j["cached"] is False and j["stopped"] is False
    assert j["claims"] == [{"id": "fake-ran", "statement": "The fake demo ran to the end.", "holds": True}]
    json.dumps(j, allow_nan=False)


def test_params_as_instance_mapping_or_none(fake):
    from tests.demos.conftest import FakeParams

    a = runtime.run_demo(FAKE_SLUG, FakeParams(steps=2), use_cache=False)
    b = runtime.run_demo(FAKE_SLUG, {"steps": 2}, use_cache=False)
    c = runtime.run_demo(FAKE_SLUG, None, use_cache=False)
    assert a.params == b.params and c.params["steps"] == 5


def test_bad_params_raise_knob_error(fake):
    with pytest.raises(registry.KnobError) as e:
        runtime.run_demo(FAKE_SLUG, {"steps": "5000"})
    assert e.value.knob == "steps" and "between 1 and 1000" in str(e.value)
    with pytest.raises(registry.UnknownDemo):
        runtime.run_demo("no-such-demo")


def test_seeds_every_generator(fake):
    import random

    import numpy as np

    runtime.run_demo(FAKE_SLUG, seed=3, use_cache=False)
    a = (random.random(), float(np.random.rand()), float(torch.rand(1)))
    runtime.run_demo(FAKE_SLUG, seed=3, use_cache=False)
    b = (random.random(), float(np.random.rand()), float(torch.rand(1)))
    assert a == b


# ------------------------------------------------------------------------------------------- cache


def test_cache_hit_is_fast_and_reports_once(fake):
    first = runtime.run_demo(FAKE_SLUG, {"steps": 3, "delay": 0.05}, seed=1)
    assert not first.cached and fake.calls == 1
    calls = []
    t = time.perf_counter()
    second = runtime.run_demo(
        FAKE_SLUG, {"delay": "0.05", "steps": "3"}, seed=1, on_progress=lambda f, r: calls.append((f, r))
    )
    took = time.perf_counter() - t
    assert second.cached and took < 0.1 and fake.calls == 1
    assert calls == [(1.0, first.result)]
    assert second.metrics == first.metrics and second.elapsed_s == first.elapsed_s


def test_cache_key_includes_seed_and_params(fake):
    runtime.run_demo(FAKE_SLUG, {"steps": 2}, seed=1)
    assert not runtime.run_demo(FAKE_SLUG, {"steps": 2}, seed=2).cached
    assert not runtime.run_demo(FAKE_SLUG, {"steps": 3}, seed=1).cached
    assert runtime.run_demo(FAKE_SLUG, {"steps": 2}, seed=1).cached
    assert fake.calls == 3


def test_use_cache_false_always_runs(fake):
    runtime.run_demo(FAKE_SLUG, seed=1)
    assert not runtime.run_demo(FAKE_SLUG, seed=1, use_cache=False).cached
    assert fake.calls == 2


def test_cache_is_lru_bounded(fake, monkeypatch):
    monkeypatch.setattr(runtime, "CACHE_SIZE", 2)
    for s in (1, 2, 3):
        runtime.run_demo(FAKE_SLUG, seed=s)
    assert runtime.run_demo(FAKE_SLUG, seed=3).cached
    assert not runtime.run_demo(FAKE_SLUG, seed=1).cached  # evicted, runs again


def test_failed_run_is_not_cached(fake):
    with pytest.raises(ValueError, match="fake failure"):
        runtime.run_demo(FAKE_SLUG, {"fail": True, "steps": 4})
    with pytest.raises(ValueError):
        runtime.run_demo(FAKE_SLUG, {"fail": True, "steps": 4})
    assert fake.calls == 2 and _slots_free()


# ------------------------------------------------------------------------------------- concurrency


def _start(fn):
    box: dict = {}

    def target():
        try:
            box["result"] = fn()
        except BaseException as e:  # noqa: BLE001 - handed back to the test
            box["error"] = e

    t = threading.Thread(target=target, daemon=True)
    t.start()
    return t, box


def test_one_over_the_limit_waits_first_in_line(fake, limit):
    limit(1)
    fake.gate = threading.Event()
    holder, _ = _start(lambda: runtime.run_demo(FAKE_SLUG, seed=1, use_cache=False))
    assert fake.started.wait(5)
    positions: list[int] = []
    waiter, box = _start(
        lambda: runtime.run_demo(FAKE_SLUG, seed=2, use_cache=False, on_wait=positions.append)
    )
    assert _wait_until(lambda: positions)
    assert positions[0] == 1 and fake.calls == 1  # still waiting: the demo has not been entered
    assert runtime.queue_snapshot() == {"running": 1, "waiting": 1, "limit": 1}
    fake.gate.set()
    holder.join(10)
    waiter.join(10)
    assert "error" not in box and box["result"].seed == 2
    assert fake.max_running == 1 and set(positions) == {1} and _slots_free()


def test_queue_positions_move_up_fifo(fake, limit):
    limit(1)
    fake.gate = threading.Event()
    holder, _ = _start(lambda: runtime.run_demo(FAKE_SLUG, seed=1, use_cache=False))
    assert fake.started.wait(5)
    pos_a: list[int] = []
    pos_b: list[int] = []
    order: list[str] = []

    def run_a():  # takes a while, so b sees itself move up to first place
        order.append(
            runtime.run_demo(FAKE_SLUG, {"delay": 0.05}, seed=2, use_cache=False, on_wait=pos_a.append).demo
            + "a"
        )

    def run_b():
        order.append(runtime.run_demo(FAKE_SLUG, seed=3, use_cache=False, on_wait=pos_b.append).demo + "b")

    a, _ = _start(run_a)
    assert _wait_until(lambda: pos_a)
    b, _ = _start(run_b)
    assert _wait_until(lambda: pos_b)
    assert pos_a[0] == 1 and pos_b[0] == 2
    fake.gate.set()
    for t in (holder, a, b):
        t.join(10)
    assert order == [FAKE_SLUG + "a", FAKE_SLUG + "b"]
    assert 1 in pos_b[1:] and fake.max_running == 1 and _slots_free()


def test_limit_two_runs_two_at_once(fake, limit):
    limit(2)
    fake.gate = threading.Event()
    waits: list[int] = []
    threads = [
        _start(lambda s=s: runtime.run_demo(FAKE_SLUG, seed=s, use_cache=False, on_wait=waits.append))[0]
        for s in range(3)
    ]
    assert _wait_until(lambda: fake.running == 2 and waits)
    assert waits[0] == 1
    fake.gate.set()
    for t in threads:
        t.join(10)
    assert fake.max_running == 2 and _slots_free()


def test_waiting_is_cancellable(fake, limit):
    limit(1)
    fake.gate = threading.Event()
    holder, _ = _start(lambda: runtime.run_demo(FAKE_SLUG, seed=1, use_cache=False))
    assert fake.started.wait(5)
    seen: list[int] = []

    def on_wait(pos):
        seen.append(pos)
        raise Cancelled("left the page")

    with pytest.raises(Cancelled):
        runtime.run_demo(FAKE_SLUG, seed=2, use_cache=False, on_wait=on_wait)
    assert seen == [1] and runtime.queue_snapshot()["waiting"] == 0
    fake.gate.set()
    holder.join(10)
    assert fake.calls == 1 and _slots_free()
    assert runtime.run_demo(FAKE_SLUG, seed=3, use_cache=False).seed == 3


def test_waiting_caller_hears_again_while_stuck(fake, limit, monkeypatch):
    """on_wait is re-called now and then with an unchanged place, so a page can cancel a long wait."""
    monkeypatch.setattr(runtime, "WAIT_HEARTBEAT_S", 0.05)
    limit(1)
    fake.gate = threading.Event()
    holder, _ = _start(lambda: runtime.run_demo(FAKE_SLUG, seed=1, use_cache=False))
    assert fake.started.wait(5)
    seen: list[int] = []

    def on_wait(pos):
        seen.append(pos)
        if len(seen) >= 3:
            raise Cancelled("gave up")

    with pytest.raises(Cancelled):
        runtime.run_demo(FAKE_SLUG, seed=2, use_cache=False, on_wait=on_wait)
    assert seen == [1, 1, 1]
    fake.gate.set()
    holder.join(10)
    assert _slots_free()


# ------------------------------------------------------------------------------ budget and cancel


def test_budget_stops_the_run_and_frees_the_slot(fake, limit):
    limit(1)
    partials = []
    t = time.perf_counter()
    out = runtime.run_demo(
        FAKE_SLUG,
        {"steps": 200, "delay": 0.01},
        budget_s=0.1,
        on_progress=lambda f, r: partials.append(r),
    )
    assert time.perf_counter() - t < 1.5
    assert out.stopped and out.stop_reason == "budget" and out.budget_s == 0.1
    assert out.result is not None and out.result.steps_done >= 1
    assert 1 <= out.steps_done < 200 and out.steps_total == 200
    assert out.message.startswith("Stopped at step ") and "after the budget of 0.1 s" in out.message
    assert [c.holds for c in out.claims] == [None]
    assert runtime.outcome_json(out)["claims"][0]["holds"] is None
    assert _slots_free()
    assert runtime.run_demo(FAKE_SLUG, {"steps": 2}, use_cache=False).result.steps_done == 2


def test_budget_from_environment(fake, monkeypatch):
    monkeypatch.setenv("QUIZAPP_DEMO_BUDGET_S", "0.05")
    assert runtime.default_budget_s() == 0.05
    assert runtime.run_demo(FAKE_SLUG, {"steps": 100, "delay": 0.01}).stopped
    monkeypatch.setenv("QUIZAPP_DEMO_BUDGET_S", "0")  # 0: no budget
    assert runtime.run_demo(FAKE_SLUG, {"steps": 10, "delay": 0.01}).result.steps_done == 10


def test_cancel_from_progress_callback(fake, limit):
    limit(1)
    calls = []

    def on_progress(fraction, partial):
        calls.append(fraction)
        if len(calls) == 2:
            raise Cancelled("user pressed stop")

    with pytest.raises(Cancelled, match="user pressed stop"):
        runtime.run_demo(FAKE_SLUG, {"steps": 10}, on_progress=on_progress)
    assert len(calls) == 2 and _slots_free()
    assert not runtime.run_demo(FAKE_SLUG, {"steps": 10}).cached  # nothing was cached by the cancelled run


def test_any_exception_from_progress_propagates(fake, limit):
    """Streamlit stops a script by raising its own exception inside our callback."""
    limit(1)

    class StopScript(BaseException):
        pass

    def on_progress(fraction, partial):
        raise StopScript()

    with pytest.raises(StopScript):
        runtime.run_demo(FAKE_SLUG, on_progress=on_progress)
    assert _slots_free()


def test_final_progress_reported_once(fake):
    calls = []
    out = runtime.run_demo(FAKE_SLUG, {"steps": 3}, on_progress=lambda f, r: calls.append((f, r)))
    assert [f for f, _ in calls] == pytest.approx([1 / 3, 2 / 3, 1.0])
    assert calls[-1][1] is out.result


def test_warm_up_is_idempotent_and_can_run_in_background():
    t = runtime.warm_up(background=True)
    assert t is not None
    t.join(60)
    assert runtime._warm_done
    assert runtime.warm_up() is None
