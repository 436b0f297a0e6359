"""Feedforward vs recurrent: claims at the defaults, knob validation, the memory task's construction."""

from __future__ import annotations

import json

import pytest
import torch
from pydantic import ValidationError

from demos import feedforward_vs_recurrent as ffr
from demos.base import RunContext
from tests.demos.conftest import default_run

SLUG = "feedforward-vs-recurrent"


def test_claims_at_defaults():
    out = default_run(SLUG).outcome
    ids = {c.id for c in out.claims}
    assert ids == {
        "mlp-solves-inside-window",
        "mlp-chance-beyond-window",
        "lstm-remembers",
        "lstm-beats-rnn-longest-gap",
    }
    assert all(c.holds for c in out.claims), [c.statement for c in out.claims if not c.holds]
    json.dumps(out.metrics, allow_nan=False)


@pytest.mark.parametrize(
    "bad",
    [
        {"gaps": [4, 4]},
        {"gaps": [0, 4]},
        {"gaps": [65, 4]},
        {"gaps": [8]},
        {"window": 0},
        {"lr": float("nan")},
        {"noise": -1.0},
        {"memory": 3},
    ],
)
def test_bad_knobs_are_refused(bad):
    with pytest.raises(ValidationError):
        ffr.Params(**bad)


def test_gaps_are_sorted():
    assert ffr.Params(gaps=[16, 2, 8]).gaps == [2, 8, 16]


def test_signal_sits_gap_steps_before_the_end_and_sets_the_label():
    g = torch.Generator().manual_seed(0)
    length = 11
    for gap in (1, 4, 10):
        x, y = ffr._batch(64, torch.tensor([gap]), length, 1.0, g)
        marker = x[:, :, 1]
        assert torch.all(marker.sum(1) == 1)
        assert torch.all(marker[:, length - 1 - gap] == 1)
        signal = x[:, length - 1 - gap, 0]
        assert torch.equal(signal, (2 * y - 1).float())


def test_window_hides_the_signal_from_the_mlp():
    """The feedforward net's output depends only on the last `window` steps."""
    model = ffr._Trio(window=3, hidden=8)
    x = torch.randn(5, 12, 2)
    x2 = x.clone()
    x2[:, :-3] = torch.randn(5, 9, 2)  # change everything outside the window
    with torch.no_grad():
        assert torch.allclose(model(x)["mlp"], model(x2)["mlp"])
        assert not torch.allclose(model(x)["lstm"], model(x2)["lstm"])


def test_short_run_is_deterministic():
    p = ffr.Params(gaps=[1, 6], steps=12, batch_size=16)
    a = ffr.run(p, RunContext(device=torch.device("cpu"), seed=3))
    b = ffr.run(p, RunContext(device=torch.device("cpu"), seed=3))
    assert a.accuracy == b.accuracy and a.loss == b.loss
