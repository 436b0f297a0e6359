"""The distillation demo: claims at the defaults, partial results, cancelling, knobs."""

from __future__ import annotations

import json

import pytest
import torch
from pydantic import ValidationError

from demos import distillation as dd
from demos.base import Cancelled, RunContext
from tests.demos.conftest import default_run

SLUG = "distillation"


def small(**kw) -> dd.Params:
    return dd.Params(**{**dict(steps=20, train_size=100), **kw})


def test_claims_at_defaults():
    out = default_run(SLUG).outcome
    ids = {c.id for c in out.claims}
    assert {
        "distilled-student-beats-student-alone",
        "student-much-smaller",
        "temperature-reveals-dark-knowledge",
    } == ids
    assert all(c.holds for c in out.claims), [c.statement for c in out.claims if not c.holds]
    m = out.metrics
    assert m["distilled_student_test_accuracy"] > m["student_alone_test_accuracy"]
    assert m["teacher_params"] > 10 * m["student_params"]
    json.dumps(m, allow_nan=False)


def test_partials_draw_and_wait_for_claims():
    partials: list = []
    r = dd.run(
        small(), RunContext(device=torch.device("cpu"), seed=0, on_progress=lambda f, p: partials.append(p))
    )
    assert len(partials) >= 10
    assert dd.claims(partials[1]) == [] and dd.figures(partials[1])
    assert len(dd.figures(r)) == 3 and len(dd.claims(r)) == 3
    assert sum(r.example_probs_t) == pytest.approx(1.0, abs=1e-4)
    assert max(r.example_probs_t) < max(r.example_probs_t1)  # softer at T > 1


def test_cancel_propagates():
    def stop(f, r):
        raise Cancelled("stop")

    with pytest.raises(Cancelled):
        dd.run(small(), RunContext(device=torch.device("cpu"), seed=0, on_progress=stop))


@pytest.mark.parametrize(
    "bad",
    [
        {"temperature": 0.5},
        {"temperature": float("nan")},
        {"alpha": 1.5},
        {"alpha": float("inf")},
        {"student_width": 1},
        {"train_size": 5000},
        {"steps": 1},
    ],
)
def test_params_refuse_bad_values(bad):
    with pytest.raises(ValidationError):
        dd.Params(**bad)
