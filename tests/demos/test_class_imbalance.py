"""The class-imbalance demo: claims at the defaults, the scoring helpers against scikit-learn, knobs."""

from __future__ import annotations

import json

import pytest
import torch
from pydantic import ValidationError

from demos import class_imbalance as ci
from demos.base import Cancelled, RunContext
from tests.demos.conftest import default_run

SLUG = "class-imbalance"


def small(**kw) -> ci.Params:
    return ci.Params(**{**dict(n_samples=8000, steps=30, positive_rate=0.05), **kw})


def test_claims_at_defaults():
    out = default_run(SLUG).outcome
    ids = {c.id for c in out.claims}
    assert {
        "accuracy-paradox",
        "class-weights-raise-recall-lower-precision",
        "roc-auc-flatters-pr-does-not",
    } <= ids
    assert all(c.holds for c in out.claims), [c.statement for c in out.claims if not c.holds]
    m = out.metrics
    assert 50 < m["n_test_positives"] < 110
    assert m["class_weights_recall"] > m["plain_recall"]
    json.dumps(m, allow_nan=False)


def test_exact_positive_share():
    _, y = ci.make_data(ci.Params(), 0)
    assert int(y.sum()) == 300


def test_scoring_matches_sklearn():
    from sklearn.metrics import average_precision_score, roc_auc_score

    g = torch.Generator().manual_seed(0)
    y = (torch.rand(3000, generator=g) < 0.05).float()
    s = torch.rand(3000, generator=g) + 0.5 * y
    assert ci.average_precision(s, y) == pytest.approx(average_precision_score(y, s), abs=1e-6)
    assert ci.roc_auc(s, y) == pytest.approx(roc_auc_score(y, s), abs=1e-6)
    c = ci._confusion(s, y, 0.9)
    assert c["tp"] + c["fn"] == int(y.sum())


def test_partials_draw_and_wait_for_claims():
    partials: list = []
    r = ci.run(
        small(), RunContext(device=torch.device("cpu"), seed=0, on_progress=lambda f, p: partials.append(p))
    )
    assert len(partials) >= 10
    assert ci.claims(partials[1]) == [] and ci.figures(partials[1])
    assert len(ci.figures(r)) == 3 and len(ci.claims(r)) == 6


def test_cancel_propagates():
    def stop(f, r):
        raise Cancelled("stop")

    with pytest.raises(Cancelled):
        ci.run(small(), RunContext(device=torch.device("cpu"), seed=0, on_progress=stop))


@pytest.mark.parametrize(
    "bad", [{"positive_rate": 0.0}, {"positive_rate": 0.5}, {"steps": 1}, {"separation": float("nan")}]
)
def test_params_refuse_bad_values(bad):
    with pytest.raises(ValidationError):
        ci.Params(**bad)
