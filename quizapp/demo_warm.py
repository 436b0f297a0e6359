"""Runs and stores what learners will open first: every demo's defaults and every preset a question
links (`demo_params`), so "See it live" answers from the store on a fresh install."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import OperationalError, ProgrammingError


@dataclass
class Warmed:
    slug: str
    params: dict[str, Any]
    stored: bool  # False: it was stored already
    elapsed_s: float
    error: str | None = None


def linked_presets() -> dict[str, list[dict[str, Any]]]:
    """slug -> the distinct `demo_params` active questions link (an empty dict for a bare link)."""
    from quizapp.db import read_session
    from quizapp.questions import list_questions

    out: dict[str, list[dict[str, Any]]] = {}
    try:
        with read_session() as session:
            views = list_questions(session=session)
    except (OperationalError, ProgrammingError):
        return out  # no bank yet: defaults only
    for v in views:
        if v.demo:
            preset = dict(v.data.get("demo_params") or {})
            if preset not in out.setdefault(v.demo, []):
                out[v.demo].append(preset)
    return out


def presets(slugs: list[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Defaults first, then each linked preset, without repeats (a preset equal to the defaults)."""
    from demos import registry

    linked = linked_presets()
    for slug in slugs:
        seen: set[str] = set()
        for preset in [{}, *linked.get(slug, [])]:
            try:
                canonical = registry.parse_params(slug, _as_strings(preset)).model_dump(mode="json")
            except registry.KnobError:
                continue  # the bank validator reports bad presets; nothing to warm
            key = json.dumps(canonical, sort_keys=True)
            if key not in seen:
                seen.add(key)
                yield slug, canonical


def _as_strings(preset: dict[str, Any]) -> dict[str, str]:
    from quizapp.demo_links import demo_query

    q = demo_query("x", preset)
    q.pop("demo")
    return q


def warm(
    slugs: list[str] | None = None,
    *,
    device: str = "auto",
    store: Any = None,
    on_item: Callable[[Warmed], None] | None = None,
) -> list[Warmed]:
    """Run and store each default and linked preset not stored yet (no time budget)."""
    from demos import registry, runtime
    from quizapp.demo_store import DbResultStore

    store = store or DbResultStore()
    done: list[Warmed] = []
    for slug, params in presets(slugs or [s for s in registry.slugs() if registry.available(s)]):
        key = runtime.run_key(slug, params, seed=0, device=device)
        try:
            if runtime.lookup(key, store=store) is not None:
                item = Warmed(slug, params, stored=False, elapsed_s=0.0)
            else:
                out = runtime.run_demo(slug, params, seed=0, device=device, budget_s=0, store=store)
                item = Warmed(slug, params, stored=True, elapsed_s=out.elapsed_s)
        except Exception as exc:  # one broken preset must not stop the others
            item = Warmed(slug, params, stored=False, elapsed_s=0.0, error=f"{type(exc).__name__}: {exc}")
        done.append(item)
        if on_item is not None:
            on_item(item)
    return done
