"""SIGKILL mid-attempt, and the database connection cut mid-transaction: 20 learners answer in a child
process that is killed at random points and restarted; nothing acknowledged is lost or doubled, every
open attempt resumes with its own deadline, and the stored sums equal a recount."""

import os
import random
import signal
import time

import pytest
from sqlalchemy import text

from quizapp.db import make_engine
from tests.faults.conftest import check_invariants, open_attempts, spawn

pytestmark = pytest.mark.slow
KILLS = 10


def test_sigkill_at_random_points_loses_and_doubles_nothing(classroom, db_url):
    engine, plan = classroom
    rng = random.Random(15)
    acks, resumed = [], 0
    for i in range(KILLS):
        before = open_attempts(engine)
        proc, run, reader = spawn(db_url, plan, seconds=30, seed=i)
        assert run.ready.wait(60), "the learners' process did not start"
        time.sleep(rng.uniform(0.3, 1.5))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
        reader.join(10)
        assert proc.returncode == -signal.SIGKILL
        acks += [e for e in run.events if e["ev"] == "ack"]
        opened = {}
        for e in run.events:
            if e["ev"] == "open":
                opened.setdefault(e["u"], e)
        for name, (attempt_id, deadline) in before.items():
            if name in opened:  # the learner got as far as resuming before this kill
                assert opened[name]["a"] == attempt_id, f"{name} did not resume attempt {attempt_id}"
                assert opened[name]["deadline"] == deadline, f"{name}'s deadline moved on resume"
                assert 0 < opened[name]["left"] <= 3600
                resumed += 1
    # A last run that is not killed: the learners carry on from where the kills left them, long
    # enough to hand attempts in, so the stored sums below cover finished attempts.
    proc, run, reader = spawn(db_url, plan, seconds=5, seed=KILLS)
    assert proc.wait(120) == 0
    reader.join(10)
    assert run.events[-1]["ev"] == "done"
    acks += [e for e in run.events if e["ev"] == "ack"]
    assert len(acks) > 50 and resumed > 20, (len(acks), resumed)
    counts = check_invariants(engine, acks)
    assert counts["finished"] > 0


def test_connection_cut_mid_transaction_loses_and_doubles_nothing(classroom, db_url):
    if not db_url.startswith("postgresql"):
        pytest.skip("pg_terminate_backend is PostgreSQL's")
    engine, plan = classroom
    app = "quizapp-faults-child"
    url = f"{db_url}&application_name={app}"
    admin = make_engine(db_url)
    proc, run, reader = spawn(url, plan, seconds=4, seed=99)
    assert run.ready.wait(60)
    rng = random.Random(16)
    cut = 0
    for _ in range(KILLS):
        time.sleep(rng.uniform(0.1, 0.3))
        with admin.begin() as conn:
            cut += len(
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND application_name = :app"
                    ),
                    {"app": app},
                ).all()
            )
    assert proc.wait(60) == 0
    reader.join(10)
    admin.dispose()
    assert cut > 0
    errors = [e for e in run.events if e["ev"] == "error"]
    acks = [e for e in run.events if e["ev"] == "ack"]
    assert acks and run.events[-1]["ev"] == "done"
    check_invariants(engine, acks)
    print(f"{cut} connections cut, {len(errors)} requests failed and were retried, {len(acks)} acknowledged")
