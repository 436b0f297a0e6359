"""The attention demo: claims at the defaults, the targets, the scaling, knobs."""

from __future__ import annotations

import json
import math

import pytest
import torch
from pydantic import ValidationError

from demos import attention as at
from demos.base import Cancelled, RunContext
from tests.demos.conftest import default_run

SLUG = "attention"


def run(**kw) -> at.Result:
    p = at.Params(**{**dict(steps=20, d_model=16), **kw})
    return at.run(p, RunContext(device=torch.device("cpu"), seed=0))


def test_claims_at_defaults():
    out = default_run(SLUG).outcome
    ids = {c.id for c in out.claims}
    assert ids == {
        "transformer-learns-the-task",
        "a-head-attends-to-the-source",
        "unscaled-logits-saturate-softmax",
    }
    assert all(c.holds for c in out.claims), [c.statement for c in out.claims if not c.holds]
    m = out.metrics
    assert m["unscaled_init_logit_std"] / m["scaled_init_logit_std"] == pytest.approx(
        math.sqrt(m["d_k"]), rel=0.01
    )
    json.dumps(m, allow_nan=False)


def test_targets():
    x = torch.tensor([[3, 1, 2]])
    assert at.targets(x, "reverse").tolist() == [[2, 1, 3]]
    assert at.targets(x, "sort").tolist() == [[1, 2, 3]]
    assert at.targets(x, "copy").tolist() == [[3, 1, 2]]


def test_attention_rows_sum_to_one_and_maps_draw():
    r = run(task="sort", heads=4, compare_scaling=False)
    assert r.variants == ["scaled"] and len(r.maps[0]) == 4
    for row in r.maps[0][0]:
        assert sum(row) == pytest.approx(1.0, abs=1e-5)
    assert len(at.figures(r)) == 2 and {c.id for c in at.claims(r)} == {
        "transformer-learns-the-task",
        "a-head-attends-to-the-source",
    }


def test_heads_must_divide_width():
    with pytest.raises(ValidationError, match="multiple of heads"):
        at.Params(d_model=10, heads=3)


def test_cancel_propagates():
    def stop(f, r):
        raise Cancelled("stop")

    with pytest.raises(Cancelled):
        at.run(at.Params(), RunContext(device=torch.device("cpu"), seed=0, on_progress=stop))


@pytest.mark.parametrize("bad", [{"task": "shuffle"}, {"seq_len": 2}, {"heads": 0}, {"steps": 1}])
def test_params_refuse_bad_values(bad):
    with pytest.raises(ValidationError):
        at.Params(**bad)
