"""Transfer learning: claims at the defaults, knob validation, shifts, batched CNN and the probe's head."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F
from pydantic import ValidationError

from demos import transfer_learning as tl
from demos._nn import cpu_generator
from demos.base import RunContext
from tests.demos.conftest import default_run

SLUG = "transfer-learning"


def test_claims_at_defaults():
    out = default_run(SLUG).outcome
    ids = {c.id for c in out.claims}
    assert {"finetune-beats-scratch-few-shot", "probe-beats-scratch-few-shot"} <= ids
    assert all(c.holds for c in out.claims), [c.statement for c in out.claims if not c.holds]
    json.dumps(out.metrics, allow_nan=False)


@pytest.mark.parametrize(
    "bad",
    [
        {"methods": ["distill"]},
        {"methods": []},
        {"methods": ["probe", "probe"]},
        {"shots": [0, 5]},
        {"shots": [3]},
        {"jitter": 3},
        {"body_lr_factor": float("nan")},
        {"pretrain_classes": "0-4"},
    ],
)
def test_bad_knobs_are_refused(bad):
    with pytest.raises(ValidationError):
        tl.Params(**bad)


def test_shift_moves_pixels_and_zero_jitter_is_identity():
    x = torch.zeros(200, 1, 8, 8)
    x[:, 0, 3, 4] = 1.0
    g = cpu_generator(0)
    assert torch.equal(tl._shift(x, 0, g), x)
    out = tl._shift(x, 1, g)
    rows, cols = torch.nonzero(out[:, 0] == 1.0, as_tuple=True)[1:]
    assert out.sum() == 200  # one lit pixel each, moved but never lost (it is far from the border)
    assert set(rows.tolist()) == {2, 3, 4} and set(cols.tolist()) == {3, 4, 5}


def test_batched_cnn_variants_are_independent_and_take_the_pretrained_body():
    g = cpu_generator(0)
    pre = tl._CNN(1, 4, 5, g, torch.device("cpu"))
    net = tl._CNN(3, 4, 5, g, torch.device("cpu"))
    net.load_body(pre, torch.tensor([True, False, True]))
    x = torch.rand(1, 6, 1, 8, 8)
    with torch.no_grad():
        f_pre = pre.features(x)[0]
        f_net = net.features(x.expand(3, -1, -1, -1, -1))
    assert torch.allclose(f_net[0], f_pre, atol=1e-6) and torch.allclose(f_net[2], f_pre, atol=1e-6)
    assert not torch.allclose(f_net[1], f_pre)


def test_class_mean_head_classifies_its_own_means():
    feats = F.normalize(torch.eye(5, 16).repeat(1, 2, 1).view(1, 10, 16) + 0.01, dim=-1)
    labels = torch.arange(5).repeat(2).view(1, 10)
    w, b = tl._class_mean_head(feats, labels, torch.tensor([10.0]))
    logits = torch.matmul(feats, w) + b
    assert torch.equal(logits.argmax(-1), labels)


def test_no_scratch_no_comparison_claims():
    p = tl.Params(methods=["probe"], shots=[1, 2], repeats=1, pretrain_steps=10, steps=10, channels=2)
    res = tl.run(p, RunContext(device=torch.device("cpu"), seed=0))
    assert set(res.accuracy) == {"probe"}
    assert {c.id for c in tl.claims(res)} == {"probe-gains-with-k"}
