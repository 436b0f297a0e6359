"""Upkeep the server does by itself: every QUIZAPP_PURGE_EVERY seconds (default 3600; 0 turns it
off) a background thread of `quizapp serve` drops expired anonymous browsers with their progress,
and expired sessions (quizapp.devices.purge, what `quizapp purge` runs). The first purge runs a few
seconds after start-up. Every page load of a new browser writes a row, so without this the table
would only shrink at `quizapp init`."""

import logging
import os
import threading
from typing import Protocol

from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

DEFAULT_EVERY = 3600.0
FIRST_AFTER = 5.0


class Waiter(Protocol):
    def wait(self, timeout: float | None = None) -> bool:
        """Wait up to `timeout` seconds; True means stop (threading.Event's contract)."""


def purge_every() -> float:
    """QUIZAPP_PURGE_EVERY in seconds; 0 means no scheduled purge."""
    raw = os.environ.get("QUIZAPP_PURGE_EVERY", "").strip()
    if not raw:
        return DEFAULT_EVERY
    try:
        every = float(raw)
    except ValueError:
        raise ValueError(f"QUIZAPP_PURGE_EVERY: {raw!r} is not a number of seconds") from None
    if every < 0:
        raise ValueError(f"QUIZAPP_PURGE_EVERY: {raw!r} must be 0 (off) or more")
    return every


def purge_once(engine: Engine | None = None) -> None:
    from quizapp.db import write_session
    from quizapp.devices import purge

    with write_session(engine) as session:
        report = purge(session=session)
    if report.devices or report.orphans or report.sessions:
        log.info("scheduled purge: %s", report.as_dict())


def run_purges(
    stop: Waiter, *, every: float, first_after: float = FIRST_AFTER, engine: Engine | None = None
) -> int:
    """Purge after `first_after` seconds, then every `every` seconds, until `stop` says so; a failed
    purge (the database away for a moment) is logged and tried again next time. Returns how many
    purges ran."""
    ran, delay = 0, first_after
    while not stop.wait(delay):
        try:
            purge_once(engine)
            ran += 1
        except Exception:
            log.exception("scheduled purge failed; trying again in %.0f s", every)
        delay = every
    return ran


def start_purging(engine: Engine | None = None) -> threading.Event | None:
    """Start the purge thread (a daemon); set the returned event to stop it. None when turned off."""
    every = purge_every()
    if every <= 0:
        return None
    stop = threading.Event()
    threading.Thread(
        target=run_purges,
        args=(stop,),
        kwargs={"every": every, "first_after": FIRST_AFTER, "engine": engine},
        name="quizapp-purge",
        daemon=True,
    ).start()
    return stop
