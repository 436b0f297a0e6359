"""Finished demo runs kept in the database, so any server process (and any worker) answers a run that
was done once. The demo runtime knows nothing of the database: it is handed a DbResultStore.

    runtime.set_store(DbResultStore())
"""

from __future__ import annotations

import json
import os
from typing import Any

from sqlalchemy import delete, func
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from quizapp.db import get_engine, read_session, write_session
from quizapp.models import DemoResult

KEEP_DEFAULT = 200


def keep_per_demo() -> int:
    """QUIZAPP_DEMO_RESULTS_KEEP (default 200): stored runs kept per demo, newest first."""
    raw = os.environ.get("QUIZAPP_DEMO_RESULTS_KEEP", "").strip()
    if not raw:
        return KEEP_DEFAULT
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"QUIZAPP_DEMO_RESULTS_KEEP must be a whole number, not {raw!r}") from None
    if value < 1:
        raise ValueError(f"QUIZAPP_DEMO_RESULTS_KEEP must be at least 1 (got {value})")
    return value


def _slim(figure: dict[str, Any]) -> dict[str, Any]:
    """Drop the layout's template: the same default comes back when the figure is rebuilt, and it is
    most of a small figure's JSON."""
    layout = figure.get("layout")
    if isinstance(layout, dict):
        layout.pop("template", None)
    return figure


class DbResultStore:
    """demos.runtime.ResultStore on the app's database (the default engine unless one is given)."""

    def __init__(self, engine: Engine | None = None, *, keep: int | None = None) -> None:
        self._engine = engine
        self._keep = keep

    @property
    def engine(self) -> Engine:
        return self._engine or get_engine()

    def get(self, key: Any) -> dict[str, Any] | None:
        with read_session(self.engine) as session:
            row = session.exec(select(DemoResult).where(DemoResult.key_hash == key.digest())).first()
        if row is None:
            return None
        return {
            "device": row.device,
            "elapsed_s": row.elapsed_s,
            "metrics": json.loads(row.metrics),
            "claims": json.loads(row.claims),
            "figures": json.loads(row.figures),
            "steps_done": row.steps_done,
            "steps_total": row.steps_total,
        }

    def put(self, key: Any, record: dict[str, Any]) -> None:
        row = DemoResult(
            key_hash=key.digest(),
            slug=key.slug,
            params=key.params,
            seed=key.seed,
            device_kind=key.device_kind,
            code_version=key.code_version,
            device=str(record.get("device", key.device_kind)),
            elapsed_s=float(record.get("elapsed_s") or 0.0),
            steps_done=int(record.get("steps_done") or 0),
            steps_total=record.get("steps_total"),
            metrics=json.dumps(record.get("metrics") or {}, allow_nan=False, default=str),
            claims=json.dumps(record.get("claims") or [], allow_nan=False),
            figures=json.dumps([_slim(f) for f in record.get("figures") or []], separators=(",", ":")),
        )
        try:
            with write_session(self.engine) as session:
                session.add(row)
        except IntegrityError:
            return  # another process stored the same run first: the same key holds the same result
        self.prune(key.slug)

    def prune(self, slug: str) -> int:
        """Keep the newest `keep` runs of `slug`; returns how many went."""
        keep = self._keep if self._keep is not None else keep_per_demo()
        with write_session(self.engine) as session:
            newest = (
                select(DemoResult.id)
                .where(DemoResult.slug == slug)
                .order_by(DemoResult.created_at.desc(), DemoResult.id.desc())
                .limit(keep)
            )
            kept = set(session.exec(newest).all())
            result = session.exec(
                delete(DemoResult).where(DemoResult.slug == slug, DemoResult.id.not_in(kept))
            )
            return int(result.rowcount or 0)

    def count(self, slug: str | None = None) -> int:
        with read_session(self.engine) as session:
            q = select(func.count()).select_from(DemoResult)
            if slug is not None:
                q = q.where(DemoResult.slug == slug)
            return int(session.exec(q).one())
