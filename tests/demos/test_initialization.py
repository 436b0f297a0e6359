"""The initialization demo: claims at the defaults, the symmetry measures, partials, knobs."""

from __future__ import annotations

import json
import math

import pytest
import torch
from pydantic import ValidationError

from demos import initialization as ini
from demos.base import Cancelled, RunContext
from tests.demos.conftest import default_run

SLUG = "initialization"


def small(**kw) -> ini.Params:
    return ini.Params(**{**dict(steps=20, width=16, depth=2), **kw})


def test_claims_at_defaults():
    out = default_run(SLUG).outcome
    ids = {c.id for c in out.claims}
    assert {
        "zero-init-cannot-learn",
        "constant-init-symmetry-never-breaks",
        "random-init-breaks-symmetry",
        "he-beats-constant",
        "small-init-learns-slowly",
    } == ids
    assert all(c.holds for c in out.claims), [c.statement for c in out.claims if not c.holds]
    m = out.metrics
    assert m["constant_distinct_units_min_layer"] == 1
    assert m["he_distinct_units_min_layer"] == m["width"]
    assert abs(m["zero_test_loss"] - math.log(10)) < 0.05
    assert m["he_test_accuracy"] > 0.9
    json.dumps(m, allow_nan=False)


def test_symmetry_measures():
    w = torch.ones(5, 4)
    assert ini.distinct_units(w) == 1
    assert ini.mean_cosine(w) == pytest.approx(1.0)
    w[:, 2] += 1e-3
    assert ini.distinct_units(w) == 2
    w[:, 3] += 1e-8  # within the tolerance: still a copy
    assert ini.distinct_units(w) == 2
    assert ini.mean_cosine(torch.zeros(5, 4)) is None
    g = torch.Generator().manual_seed(0)
    assert ini.distinct_units(torch.randn(10, 8, generator=g)) == 8


def test_tanh_constant_stays_symmetric():
    r = ini.run(
        small(activation="tanh", constant=0.05, inits=["constant", "he"]),
        RunContext(device=torch.device("cpu"), seed=0),
    )
    by = {c.id: c for c in ini.claims(r)}
    assert by["constant-init-symmetry-never-breaks"].holds
    assert by["random-init-breaks-symmetry"].holds
    assert "zero-init-cannot-learn" not in by


def test_partials_draw_and_wait_for_claims():
    partials: list = []
    r = ini.run(
        small(), RunContext(device=torch.device("cpu"), seed=0, on_progress=lambda f, p: partials.append(p))
    )
    assert len(partials) >= 10
    assert ini.claims(partials[1]) == [] and ini.figures(partials[1])
    assert len(ini.figures(r)) == 4 and len(ini.claims(r)) == 5


def test_cancel_propagates():
    def stop(f, r):
        raise Cancelled("stop")

    with pytest.raises(Cancelled):
        ini.run(small(), RunContext(device=torch.device("cpu"), seed=0, on_progress=stop))


@pytest.mark.parametrize(
    "bad",
    [
        {"inits": []},
        {"inits": ["he", "he"]},
        {"inits": ["orthogonal"]},
        {"depth": 0},
        {"width": 1000},
        {"steps": 1},
        {"lr": 0.0},
        {"lr": float("nan")},
        {"constant": 0.0},
        {"activation": "sigmoid"},
    ],
)
def test_params_refuse_bad_values(bad):
    with pytest.raises(ValidationError):
        ini.Params(**bad)
