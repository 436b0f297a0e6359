"""Demo jobs on a real Redis with real `quizapp worker` processes: the round trip with progress, Stop
and the budget across processes, and a worker killed mid-run (SIGKILL) leaving the job failed."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from demos import runtime
from quizapp.db import make_engine
from quizapp.demo_store import DbResultStore
from quizapp.migrate import upgrade
from tests.demos.heavy import heaviest

REDIS_URL = "redis://127.0.0.1:6379/13"  # a database of its own, emptied by each test

pytestmark = pytest.mark.slow


def _redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def redis_conn(monkeypatch):
    if not _redis_reachable():
        if os.environ.get("CI") == "true":
            pytest.fail("Redis is not reachable at 127.0.0.1:6379, and CI must run the worker tests")
        pytest.skip("no Redis server at 127.0.0.1:6379")
    from quizapp import demo_jobs

    monkeypatch.setenv("QUIZAPP_REDIS_URL", REDIS_URL)
    conn = demo_jobs.connect(REDIS_URL)
    conn.flushdb()
    yield conn
    conn.flushdb()


@pytest.fixture
def db(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    upgrade(url)
    monkeypatch.setenv("QUIZAPP_DATABASE_URL", url)
    return url


@pytest.fixture
def start_worker(redis_conn, db):
    procs: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        env = {**os.environ, "QUIZAPP_REDIS_URL": REDIS_URL, "QUIZAPP_DATABASE_URL": db}
        p = subprocess.Popen([sys.executable, "-m", "quizapp.cli", "worker"], env=env)
        procs.append(p)
        from rq import Queue, Worker

        from quizapp.demo_jobs import QUEUE

        q = Queue(QUEUE, connection=redis_conn)
        deadline = time.monotonic() + 180  # torch's import is slow on a loaded machine
        while Worker.count(queue=q) < sum(x.poll() is None for x in procs) and time.monotonic() < deadline:
            assert p.poll() is None, "the worker exited at start-up"
            time.sleep(0.2)
        return p

    yield start
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()


def test_a_run_from_a_server_is_done_by_a_worker_with_progress(start_worker, redis_conn, db):
    from quizapp import demo_jobs

    start_worker()
    job = demo_jobs.enqueue("dropout", {"steps": 60}, seed=0, device="cpu", budget_s=60, conn=redis_conn)
    seen = []
    outcome = demo_jobs.follow(job, on_progress=lambda f, p, w: seen.append((f, p)), conn=redis_conn)
    assert not outcome.stopped and outcome.demo == "dropout" and outcome.result is not None
    assert seen and seen[-1][0] == 1.0 and any(p is not None for _, p in seen)
    assert DbResultStore(make_engine(db)).count("dropout") == 1  # the worker stored it
    runtime.clear_cache()
    stored = runtime.lookup(runtime.run_key("dropout", {"steps": 60}, device="cpu"), store=DbResultStore())
    assert stored is not None and stored.metrics == outcome.metrics


def test_stop_and_budget_work_across_processes(start_worker, redis_conn):
    from quizapp import demo_jobs

    start_worker()
    heavy = heaviest("dropout")
    job = demo_jobs.enqueue("dropout", heavy, device="cpu", budget_s=0, conn=redis_conn)
    reports = []
    outcome = demo_jobs.follow(
        job, on_progress=lambda f, p, w: reports.append(f), should_stop=lambda: bool(reports), conn=redis_conn
    )
    assert outcome.stopped and outcome.stop_reason == "stop" and outcome.steps_done < 5000
    assert all(c.holds is None for c in outcome.claims)

    job = demo_jobs.enqueue("dropout", heavy, device="cpu", budget_s=1.0, conn=redis_conn)
    outcome = demo_jobs.follow(job, conn=redis_conn)
    assert outcome.stopped and outcome.stop_reason == "budget" and "budget of 1 s" in outcome.message


def test_a_worker_killed_mid_run_leaves_the_job_failed_not_hung(start_worker, redis_conn):
    from rq.job import Job

    from quizapp import demo_jobs

    worker = start_worker()
    job = demo_jobs.enqueue("dropout", heaviest("dropout"), device="cpu", budget_s=0, conn=redis_conn)
    killed = []

    def on_progress(fraction, partial, where):
        if not killed:
            os.kill(worker.pid, signal.SIGKILL)
            killed.append(time.monotonic())

    with pytest.raises(demo_jobs.JobFailed, match="stopped mid-run"):
        demo_jobs.follow(job, on_progress=on_progress, conn=redis_conn)
    assert killed and time.monotonic() - killed[0] < 60
    assert Job.fetch(job, connection=redis_conn).get_status(refresh=True) == "failed"
    # the queue is usable afterwards: a new worker takes the next run
    start_worker()
    nxt = demo_jobs.enqueue("softmax", {}, device="cpu", conn=redis_conn)
    assert not demo_jobs.follow(nxt, conn=redis_conn).stopped


def test_the_page_runs_on_a_worker_when_redis_is_configured(start_worker, redis_conn, db):
    """The demo page, with QUIZAPP_REDIS_URL set, enqueues the run; a worker trains it."""
    from streamlit.testing.v1 import AppTest

    from tests.ui.conftest import APP

    start_worker()
    runtime.clear_cache()
    previous = runtime.set_store(None)
    try:
        at = AppTest.from_file(APP, default_timeout=120)
        at.run()
        at.switch_page("views/demos.py")
        for k, v in {"demo": "softmax", "temperature": "3"}.items():
            at.query_params[k] = v
        at.run()
        next(b for b in at.button if b.label == "Run").click().run()
        assert not at.exception, at.exception
        assert any(c.value.startswith("Ran on cpu") for c in at.caption)
        assert DbResultStore(make_engine(db)).count("softmax") == 1
        from rq import Queue
        from rq.registry import FinishedJobRegistry

        from quizapp.demo_jobs import QUEUE

        finished = FinishedJobRegistry(queue=Queue(QUEUE, connection=redis_conn))
        assert finished.count == 1  # trained and stored by the worker, not the page's process
    finally:
        runtime.set_store(previous)
