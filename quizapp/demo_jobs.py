"""Demo runs as jobs on Redis (RQ), for more than one server: with QUIZAPP_REDIS_URL set, the page
enqueues a run, a `quizapp worker` process trains it and stores the result, and progress, partial
results, Stop and the end come back through a Redis stream per job.

Keys per job id: `quizapp:demo:<id>:events` (a stream: progress, then done), `...:stop` (set by the
server: the worker's run stops within a step), `...:alive` (renewed by the worker with every report,
gone LIVENESS_S after it dies: the server then marks the job failed rather than wait for ever).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import socket
import time
from collections.abc import Callable
from typing import Any

QUEUE = "quizapp-demos"
LIVENESS_S = 5.0  # no report from a started job for this long: its worker is gone
REPORT_EVERY_S = 0.3  # the worker passes progress on at most this often
NO_WORKER_S = 60.0  # a job queued this long with no worker listening fails with a message
STREAM_LEN = 64


class QueueUnavailable(RuntimeError):
    """QUIZAPP_REDIS_URL is unset or Redis does not answer."""


class JobFailed(RuntimeError):
    """The job failed on its worker, or its worker died mid-run."""


def redis_url() -> str | None:
    return os.environ.get("QUIZAPP_REDIS_URL", "").strip() or None


def connect(url: str | None = None):  # type: ignore[no-untyped-def]
    from redis import Redis
    from redis.exceptions import RedisError

    url = url or redis_url()
    if not url:
        raise QueueUnavailable("QUIZAPP_REDIS_URL is not set: demos run in the server process")
    conn = Redis.from_url(url)
    try:
        conn.ping()
    except RedisError as exc:
        raise QueueUnavailable(f"Redis at {url} does not answer: {exc}") from None
    return conn


def _key(job_id: str, part: str) -> str:
    return f"quizapp:demo:{job_id}:{part}"


# ------------------------------------------------------------------------------------ the worker side


def run_job(slug: str, params: dict[str, Any], seed: int, device: str, budget_s: float) -> dict[str, Any]:
    """Executed by a worker: run the demo, stream progress, store and announce the outcome."""
    from rq import get_current_job

    from demos import runtime
    from quizapp.demo_store import DbResultStore

    job = get_current_job()
    conn = job.connection
    events, alive, stop_key = _key(job.id, "events"), _key(job.id, "alive"), _key(job.id, "stop")
    last = [0.0]
    liveness_ms = int(LIVENESS_S * 1000)
    conn.set(alive, "1", px=liveness_ms)

    def on_progress(fraction: float, partial: Any) -> None:
        now = time.monotonic()
        conn.set(alive, "1", px=liveness_ms)
        if now - last[0] < REPORT_EVERY_S and fraction < 1.0:
            return
        last[0] = now
        where = runtime.current_run() or {}
        event = {"type": b"progress", "fraction": str(fraction), "where": pickle.dumps(where)}
        if partial is not None:
            event["partial"] = pickle.dumps(partial)
        conn.xadd(events, event, maxlen=STREAM_LEN, approximate=True)

    stop_checked = [0.0, False]

    def stop() -> bool:
        now = time.monotonic()
        if now - stop_checked[0] >= 0.1:
            stop_checked[0], stop_checked[1] = now, bool(conn.exists(stop_key))
        return bool(stop_checked[1])

    try:
        outcome = runtime.run_demo(
            slug,
            params,
            seed=seed,
            device=device,
            on_progress=on_progress,
            budget_s=budget_s,
            stop=stop,
            store=DbResultStore(),
        )
    except Exception as exc:
        conn.xadd(events, {"type": b"error", "message": f"{type(exc).__name__}: {exc}"}, maxlen=STREAM_LEN)
        raise
    finally:
        conn.delete(alive)
    conn.xadd(events, {"type": b"done", "outcome": pickle.dumps(outcome)}, maxlen=STREAM_LEN)
    for k in (events, stop_key):
        conn.expire(k, 600)
    return {"stopped": outcome.stopped, "elapsed_s": outcome.elapsed_s, "steps_done": outcome.steps_done}


def run_worker(*, burst: bool = False, name: str | None = None, url: str | None = None) -> int:
    """`quizapp worker`: run demo jobs in this process (one at a time) until stopped."""
    from rq import Queue, SimpleWorker

    from demos import runtime
    from quizapp.demo_store import DbResultStore

    conn = connect(url)
    runtime.set_store(DbResultStore())
    runtime.warm_up()
    worker = SimpleWorker(
        [Queue(QUEUE, connection=conn)],
        connection=conn,
        name=name or f"{socket.gethostname()}.{os.getpid()}",
    )
    worker.work(burst=burst, logging_level="WARNING")
    return 0


# ------------------------------------------------------------------------------------ the server side


def enqueue(
    slug: str,
    params: dict[str, Any],
    *,
    seed: int = 0,
    device: str = "auto",
    budget_s: float = 60.0,
    conn=None,
) -> str:  # type: ignore[no-untyped-def]
    from rq import Queue

    conn = conn or connect()
    q = Queue(QUEUE, connection=conn)
    job = q.enqueue_call(
        "quizapp.demo_jobs.run_job",
        kwargs={"slug": slug, "params": params, "seed": int(seed), "device": device, "budget_s": budget_s},
        timeout=int(budget_s + 120) if budget_s > 0 else 3600,
        result_ttl=600,
        failure_ttl=3600,
    )
    return job.id


def request_stop(job_id: str, conn=None) -> None:  # type: ignore[no-untyped-def]
    conn = conn or connect()
    conn.set(_key(job_id, "stop"), "1", ex=600)


def follow(
    job_id: str,
    *,
    on_progress: Callable[[float, Any, dict], None] | None = None,
    on_wait: Callable[[int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    conn=None,  # type: ignore[no-untyped-def]
) -> Any:
    """Wait for the job's outcome (a demos.runtime.RunOutcome), relaying progress; raise JobFailed when
    it fails or its worker dies. on_progress/on_wait may raise (the page going away): the job is then
    asked to stop."""
    from rq import Queue, Worker
    from rq.job import Job, JobStatus

    conn = conn or connect()
    q = Queue(QUEUE, connection=conn)
    job = Job.fetch(job_id, connection=conn)
    events = _key(job_id, "events")
    last_id = "0-0"
    queued_since = time.monotonic()
    stop_sent = False
    silent_since: float | None = None
    try:
        while True:
            if should_stop is not None and not stop_sent and should_stop():
                request_stop(job_id, conn)
                stop_sent = True
                if job.get_status(refresh=True) == JobStatus.QUEUED:
                    job.cancel()
                    raise JobFailed("stopped before a worker took it")
            reply = conn.xread({events: last_id}, block=250, count=16)
            for _stream, items in reply or []:
                for event_id, fields in items:
                    last_id = event_id
                    kind = fields.get(b"type")
                    if kind == b"done":
                        return pickle.loads(fields[b"outcome"])
                    if kind == b"error":
                        raise JobFailed(fields.get(b"message", b"").decode() or "the demo failed")
                    if kind == b"progress" and on_progress is not None:
                        partial = pickle.loads(fields[b"partial"]) if b"partial" in fields else None
                        where = pickle.loads(fields[b"where"]) if b"where" in fields else {}
                        on_progress(float(fields[b"fraction"]), partial, where)
            if reply:
                silent_since = None
                continue
            status = job.get_status(refresh=True)
            if status == JobStatus.QUEUED:
                if on_wait is not None:
                    on_wait((job.get_position() or 0) + 1)
                if Worker.count(queue=q) == 0 and time.monotonic() - queued_since > NO_WORKER_S:
                    job.cancel()
                    raise JobFailed("no demo worker is running: start one with `quizapp worker`")
            elif status == JobStatus.STARTED and not conn.exists(_key(job_id, "alive")):
                # just started (not yet alive) or dead: dead once silent for LIVENESS_S
                silent_since = silent_since or time.monotonic()
                if time.monotonic() - silent_since > LIVENESS_S:
                    _mark_failed(job, conn)
                    raise JobFailed(
                        "the worker running this demo stopped mid-run (it was killed or crashed); run it again"
                    )
            elif status in (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED):
                raise JobFailed(_failure_text(job))
            elif status == JobStatus.FINISHED and not conn.exists(events):
                raise JobFailed("the job finished but its result has expired; run it again")
    except BaseException:
        if not stop_sent:
            request_stop(job_id, conn)  # the page went away or failed: the worker stops within a step
        raise


def _failure_text(job) -> str:  # type: ignore[no-untyped-def]
    text = ""
    try:
        result = job.latest_result()
        text = (result.exc_string or "") if result is not None else ""
    except Exception:
        text = job.exc_info or ""
    lines = [ln for ln in (text or "").strip().splitlines() if ln.strip()]
    return f"the demo job failed: {lines[-1]}" if lines else "the demo job failed"


def _mark_failed(job, conn) -> None:  # type: ignore[no-untyped-def]
    """A started job whose worker died: move it to the failed registry so nothing waits on it."""
    from rq.job import JobStatus
    from rq.registry import FailedJobRegistry, StartedJobRegistry

    with contextlib.suppress(Exception):
        StartedJobRegistry(job.origin, connection=conn).remove(job)
    try:
        job.set_status(JobStatus.FAILED)
        FailedJobRegistry(job.origin, connection=conn).add(
            job, exc_string="the worker running this demo stopped mid-run (killed or crashed)"
        )
    except Exception:
        job.set_status(JobStatus.FAILED)


def job_status(job_id: str, conn=None) -> str:  # type: ignore[no-untyped-def]
    from rq.job import Job

    conn = conn or connect()
    return str(Job.fetch(job_id, connection=conn).get_status(refresh=True))
