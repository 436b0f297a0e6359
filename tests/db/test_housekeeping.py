"""Issue 15, finding 9: the server purges expired anonymous browsers on a schedule, on both engines."""

import threading
from datetime import timedelta

import pytest
from sqlmodel import select

from quizapp import devices
from quizapp.db import read_session, write_session
from quizapp.housekeeping import purge_every, run_purges, start_purging
from quizapp.models import AnonDevice, utcnow


class Ticks:
    """A stop event that records each wait and says stop after `n` waits; nothing sleeps."""

    def __init__(self, n: int) -> None:
        self.n, self.waits = n, []

    def wait(self, timeout=None) -> bool:
        self.waits.append(timeout)
        return len(self.waits) > self.n


def _devices(engine, *ages_days):
    for days in ages_days:
        with write_session(engine) as s:
            devices.resolve_device(session=s, token=devices.new_token(), now=utcnow() - timedelta(days=days))


def _count(engine):
    with read_session(engine) as s:
        return len(s.exec(select(AnonDevice.id)).all())


def test_scheduled_purges_drop_expired_browsers(engine):
    _devices(engine, 100, 95, 1)
    ticks = Ticks(1)
    assert run_purges(ticks, every=3600, first_after=5, engine=engine) == 1
    assert ticks.waits == [5, 3600]  # the first soon after start, then every `every` seconds
    assert _count(engine) == 1  # the expired two went, the fresh one stayed
    _devices(engine, 120)
    assert run_purges(Ticks(3), every=60, engine=engine) == 3
    assert _count(engine) == 1


def test_a_failed_purge_is_retried_next_time(engine, monkeypatch):
    from quizapp import housekeeping

    calls = []

    def flaky(engine=None):
        calls.append(engine)
        if len(calls) == 1:
            raise RuntimeError("database away")

    monkeypatch.setattr(housekeeping, "purge_once", flaky)
    assert run_purges(Ticks(3), every=1, engine=engine) == 2 and len(calls) == 3


def test_the_thread_runs_and_stops(engine, monkeypatch):
    monkeypatch.setenv("QUIZAPP_PURGE_EVERY", "3600")
    monkeypatch.setattr("quizapp.housekeeping.FIRST_AFTER", 0.0)
    _devices(engine, 100)
    stop = start_purging(engine)
    try:
        for _ in range(200):
            if _count(engine) == 0:
                break
            threading.Event().wait(0.05)
        assert _count(engine) == 0
    finally:
        stop.set()
    monkeypatch.setenv("QUIZAPP_PURGE_EVERY", "0")
    assert start_purging(engine) is None


def test_purge_every_from_the_environment(monkeypatch):
    monkeypatch.delenv("QUIZAPP_PURGE_EVERY", raising=False)
    assert purge_every() == 3600
    monkeypatch.setenv("QUIZAPP_PURGE_EVERY", "often")
    with pytest.raises(ValueError, match="QUIZAPP_PURGE_EVERY"):
        purge_every()
