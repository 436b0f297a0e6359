"""Every interview question links a demo, and that demo's claims hold when run at the question's preset."""

from __future__ import annotations

import json

import pytest

from demos import registry, runtime
from tests.bank.test_bank_content import SPECS

INTERVIEW = [s for s in SPECS if s.kind == "interview"]


def _runs() -> dict[tuple[str, str], list[str]]:
    """(slug, canonical preset JSON) -> the interview questions that link it; each run once."""
    out: dict[tuple[str, str], list[str]] = {}
    for s in INTERVIEW:
        if s.demo is None or not registry.available(s.demo):
            continue
        params = registry.parse_params(s.demo, s.demo_params or {})
        key = (s.demo, json.dumps(params.model_dump(mode="json"), sort_keys=True))
        out.setdefault(key, []).append(s.id)
    return out


RUNS = _runs()


def test_every_interview_question_links_an_available_demo():
    assert INTERVIEW, "no interview questions loaded: does the bank validate?"
    missing = [s.id for s in INTERVIEW if s.demo is None]
    unavailable = [
        f"{s.id} -> {s.demo}" for s in INTERVIEW if s.demo is not None and not registry.available(s.demo)
    ]
    assert not missing, f"interview questions without a demo: {missing}"
    assert not unavailable, f"interview questions linking a demo that does not exist yet: {unavailable}"


@pytest.mark.slow
@pytest.mark.parametrize("key", list(RUNS), ids=[f"{slug}:{p}" for slug, p in RUNS])
def test_linked_demo_claims_hold_at_the_preset(key):
    slug, params = key
    out = runtime.run_demo(slug, json.loads(params), seed=0, device="cpu", use_cache=True, budget_s=0)
    assert out.claims, f"{slug} at {params} makes no claim (questions: {RUNS[key]})"
    failed = [c.statement for c in out.claims if not c.holds]
    assert not failed, f"{slug} at {params}, linked by {RUNS[key]}: {failed}"
