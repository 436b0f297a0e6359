"""The softmax demo: claims at the defaults, knob validation, shift invariance, temperature and the
cross-entropy identity."""

import json
import math

import pytest
import torch
from pydantic import ValidationError

from demos import softmax as sm
from demos.base import RunContext


def _run(**knobs):
    partials = []
    ctx = RunContext(device=torch.device("cpu"), seed=0, on_progress=lambda f, p: partials.append((f, p)))
    return sm.run(sm.Params(**knobs), ctx), partials


def test_claims_hold_at_defaults():
    result, partials = _run()
    claims = sm.claims(result)
    assert {c.id for c in claims} == {
        "probabilities-sum-to-one",
        "cross-entropy-is-minus-log-p-target",
        "softmax-shift-invariant",
        "higher-temperature-raises-entropy",
    }
    assert all(c.holds for c in claims), [c.statement for c in claims if not c.holds]
    json.dumps(sm.metrics(result), allow_nan=False)
    assert len(partials) >= 10 and partials[0][0] == 0.0
    for _, partial in (partials[0], partials[-1]):
        figs = sm.figures(partial)
        assert len(figs) == 3 and all(f.layout.title.text for f in figs)


@pytest.mark.parametrize(
    "knobs",
    [
        {"logits": [30.0, -50.0, 10.0], "temperature": 0.05, "target": 1},  # p[target] underflows to 0
        {"logits": [1.0, 1.0, 1.0], "temperature": 20.0, "target": 2},  # ties: uniform at every T
        {"logits": [0.5, -0.5], "temperature": 3.0, "target": 1},
        {"logits": [50.0, -50.0, 3.0, 7.0, 0.0, 1.0, 2.0, 4.0, 5.0, 6.0], "temperature": 0.3, "target": 9},
    ],
)
def test_claims_hold_at_extremes(knobs):
    result, _ = _run(**knobs)
    claims = sm.claims(result)
    assert all(c.holds for c in claims), [c.statement for c in claims if not c.holds]
    json.dumps(sm.metrics(result), allow_nan=False)


def test_shift_invariance_and_naive_overflow():
    z = torch.tensor([2.0, 1.0, 0.1], dtype=torch.float64)
    for c in (-1e3, -7.0, 0.5, 1e3):
        torch.testing.assert_close(sm.softmax(z + c), sm.softmax(z), rtol=0, atol=1e-12)
    result, _ = _run(logits=[2.0, 1.0, 0.1])
    assert all(math.isnan(p) for p in result.naive_at_1000)  # exp(1002) overflows; torch's softmax does not
    assert sum(result.probs_plus_1000) == pytest.approx(1.0)


def test_temperature_limits_and_cross_entropy():
    z = torch.tensor([3.0, 1.0, -2.0], dtype=torch.float64)
    assert sm.softmax(z, 0.05)[0] > 0.999  # cold: nearly one-hot on the largest logit
    assert sm.entropy(sm.softmax(z, 1e4)) == pytest.approx(math.log(3), abs=1e-6)  # hot: nearly uniform
    p = sm.softmax(z, 2.0)
    ce = torch.nn.functional.cross_entropy((z / 2.0)[None], torch.tensor([2]))
    assert float(ce) == pytest.approx(-math.log(float(p[2])))


@pytest.mark.parametrize(
    "bad",
    [
        {"temperature": 0.0},
        {"temperature": math.nan},
        {"temperature": 100.0},
        {"logits": [1.0]},
        {"logits": [1.0, math.inf]},
        {"logits": [1.0, math.nan]},
        {"logits": [1.0, 99.0]},
        {"logits": [0.0] * 11},
        {"target": 4},  # only 4 logits by default: indices 0..3
        {"target": -1},
        {"bias": 1.0},
    ],
)
def test_bad_knobs_are_refused(bad):
    with pytest.raises(ValidationError):
        sm.Params(**bad)
