"""Stored demo results: kept by key in the database, shared between processes, pruned per demo."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from demos import runtime
from quizapp.demo_store import DbResultStore, keep_per_demo
from tests.demos.conftest import FAKE_SLUG, fake  # noqa: F401  (fixture)


@pytest.fixture
def store(engine):
    previous = runtime.set_store(None)
    runtime.clear_cache()
    yield DbResultStore(engine, keep=3)
    runtime.set_store(previous)
    runtime.clear_cache()


def test_a_finished_run_is_stored_and_answered_without_running(store, fake):  # noqa: F811
    first = runtime.run_demo(FAKE_SLUG, {"steps": 3}, seed=4, device="cpu", store=store)
    assert not first.cached and fake.calls == 1 and store.count(FAKE_SLUG) == 1
    runtime.clear_cache()  # another process: nothing in memory
    again = runtime.run_demo(FAKE_SLUG, {"steps": "3"}, seed=4, device="cpu", store=store)
    assert again.cached and fake.calls == 1 and again.result is None
    assert again.metrics == first.metrics and again.figures == []
    assert [c.as_dict() for c in again.claims] == [c.as_dict() for c in first.claims]
    assert again.params == first.params and again.seed == 4
    # another seed or other params are another run
    runtime.clear_cache()
    runtime.run_demo(FAKE_SLUG, {"steps": 3}, seed=5, device="cpu", store=store)
    assert fake.calls == 2


def test_changed_demo_code_is_not_answered_from_old_results(store, fake, monkeypatch):  # noqa: F811
    runtime.run_demo(FAKE_SLUG, {"steps": 2}, device="cpu", store=store)
    runtime.clear_cache()
    monkeypatch.setattr(runtime.registry.load(FAKE_SLUG), "CODE_VERSION", "v2", raising=False)
    out = runtime.run_demo(FAKE_SLUG, {"steps": 2}, device="cpu", store=store)
    assert not out.cached and fake.calls == 2 and out.code_version == "v2"


def test_stopped_runs_are_not_stored(store, fake):  # noqa: F811
    out = runtime.run_demo(FAKE_SLUG, {"steps": 500, "delay": 0.01}, budget_s=0.1, store=store)
    assert out.stopped and store.count(FAKE_SLUG) == 0


def test_pruned_by_count_per_demo(store, fake):  # noqa: F811
    for seed in range(5):
        runtime.run_demo(FAKE_SLUG, {"steps": 1}, seed=seed, device="cpu", store=store)
    assert store.count(FAKE_SLUG) == 3
    runtime.clear_cache()
    assert runtime.run_demo(FAKE_SLUG, {"steps": 1}, seed=4, device="cpu", store=store).cached
    assert not runtime.run_demo(FAKE_SLUG, {"steps": 1}, seed=0, device="cpu", store=store).cached


def test_keep_from_environment(monkeypatch):
    monkeypatch.setenv("QUIZAPP_DEMO_RESULTS_KEEP", "7")
    assert keep_per_demo() == 7
    monkeypatch.setenv("QUIZAPP_DEMO_RESULTS_KEEP", "0")
    with pytest.raises(ValueError, match="at least 1"):
        keep_per_demo()


def _cli(db_url: str, *args: str) -> dict:
    env = {**os.environ, "QUIZAPP_DATABASE_URL": db_url}
    proc = subprocess.run(
        [sys.executable, "-m", "quizapp.cli", *args], env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.slow
def test_two_processes_share_stored_results(db_url):
    """One process runs and stores a demo; a second, fresh process answers it from the database."""
    args = ("demo", "run", "softmax", "--set", "temperature=2", "--device", "cpu", "--stored", "--json")
    first = _cli(db_url, *args)
    second = _cli(db_url, *args)
    assert first["cached"] is False and second["cached"] is True
    assert first["stopped"] is False and second["stopped"] is False
    assert second["metrics"] == first["metrics"] and second["claims"] == first["claims"]


@pytest.mark.slow
def test_warm_runs_defaults_and_linked_presets_once(db_url):
    env_args = ("demo", "warm", "--slug", "softmax", "--device", "cpu", "--json")
    first = _cli(db_url, *env_args)
    assert first and all(i["demo"] == "softmax" and i["error"] is None for i in first)
    assert first[0]["stored"] is True
    again = _cli(db_url, *env_args)
    assert [i["stored"] for i in again] == [False] * len(first)
