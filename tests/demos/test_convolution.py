"""The convolution demo: claims at the defaults, knob validation, the output-size formula against
torch, and the hand-made kernels' basic properties."""

import json
import math

import pytest
import torch
import torch.nn.functional as F
from pydantic import ValidationError

from demos import convolution as conv
from demos.base import RunContext


@pytest.fixture(scope="module")
def default_run():
    partials = []
    ctx = RunContext(device=torch.device("cpu"), seed=0, on_progress=lambda f, p: partials.append((f, p)))
    return conv.run(conv.Params(), ctx), partials


def test_claims_hold_at_defaults(default_run):
    result, _ = default_run
    claims = conv.claims(result)
    ids = {c.id for c in claims}
    assert {
        "output-size-formula-matches-torch",
        "cnn-beats-chance",
        "learned-kernel-recovers-hidden-edge-detector",
    } <= ids
    assert all(c.holds for c in claims), [c.statement for c in claims if not c.holds]
    json.dumps(conv.metrics(result), allow_nan=False)


def test_progress_and_partial_results_draw(default_run):
    result, partials = default_run
    assert len(partials) >= 10 and partials[0][0] == 0.0
    for _, partial in (partials[0], partials[len(partials) // 2]):
        figs = conv.figures(partial)
        assert figs and all(f.layout.title.text for f in figs)
        json.dumps(conv.metrics(partial), allow_nan=False)
    assert len(conv.figures(result)) == 5


@pytest.mark.parametrize("n", [7, 8, 28, 107])
@pytest.mark.parametrize(
    ("k", "s", "p"), [(1, 1, 0), (3, 1, 0), (3, 1, 1), (3, 2, 1), (5, 2, 2), (5, 3, 0), (7, 4, 3)]
)
def test_output_size_formula_matches_torch(n, k, s, p):
    out = F.conv2d(torch.zeros(1, 1, n, n + 3), torch.zeros(1, 1, k, k), stride=s, padding=p)
    assert list(out.shape[-2:]) == [conv.output_size(n, k, s, p), conv.output_size(n + 3, k, s, p)]


@pytest.mark.parametrize("k", [3, 5, 7])
def test_hand_made_kernels(k):
    assert conv.make_kernel("edges", k).sum().abs() < 1e-12
    assert conv.make_kernel("blur", k).sum() == pytest.approx(1.0)
    assert conv.make_kernel("sharpen", k).sum() == pytest.approx(1.0)
    h = conv.hidden_kernel(k)
    assert torch.allclose(h, -h.flip(1))  # a vertical-edge detector is odd left-to-right


def test_non_default_settings_follow_the_formula():
    p = conv.Params(kernels=["blur"], kernel_size=5, stride=3, padding=0, image_width=97, cnn_steps=10)
    r = conv.run(p, RunContext(device=torch.device("cpu"), seed=1))
    h, w = r.image_shape
    assert w == 97
    assert r.output_shape == [conv.output_size(h, 5, 3, 0), conv.output_size(97, 5, 3, 0)]
    assert {c.id for c in conv.claims(r)} >= {"output-size-formula-matches-torch", "blur-smooths"}
    assert "learned-kernel-recovers-hidden-edge-detector" not in {c.id for c in conv.claims(r)}
    assert conv.figures(r)


@pytest.mark.parametrize(
    "bad",
    [
        {"stride": 0},
        {"stride": 5},
        {"padding": -1},
        {"kernel_size": 4},
        {"image_width": math.nan},
        {"image_width": 10},
        {"kernels": []},
        {"kernels": ["blur", "blur"]},
        {"kernels": ["emboss"]},
        {"dilation": 2},
    ],
)
def test_bad_knobs_are_refused(bad):
    with pytest.raises(ValidationError):
        conv.Params(**bad)
