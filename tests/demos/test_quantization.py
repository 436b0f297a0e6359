"""The quantization demo: claims at the defaults, the quantizer's arithmetic, sizes, partials, knobs."""

from __future__ import annotations

import json

import pytest
import torch
from pydantic import ValidationError

from demos import quantization as qz
from demos.base import Cancelled, RunContext
from tests.demos.conftest import default_run

SLUG = "quantization"


def small(**kw) -> qz.Params:
    return qz.Params(**{**dict(steps=40, hidden=16), **kw})


def test_claims_at_defaults():
    out = default_run(SLUG).outcome
    ids = {c.id for c in out.claims}
    assert {
        "int8-keeps-accuracy",
        "int8-quarter-size",
        "int4-per-channel-closer-outputs",
        "per-channel-smaller-weight-error",
        "int8-activations-keep-accuracy",
    } <= ids
    assert all(c.holds for c in out.claims), [c.statement for c in out.claims if not c.holds]
    m = out.metrics
    assert m["fp32_accuracy"] > 0.9
    assert m["int8_per_channel_bytes"] < 0.3 * m["fp32_bytes"]
    json.dumps(m, allow_nan=False)


@pytest.mark.parametrize("scheme", ["symmetric", "affine"])
@pytest.mark.parametrize("per_channel", [False, True])
def test_quantizer_uses_at_most_2_to_the_bits_levels(scheme, per_channel):
    g = torch.Generator().manual_seed(0)
    w = torch.randn(6, 50, generator=g) * torch.linspace(0.1, 3.0, 6)[:, None] + 0.2
    for bits in (2, 4, 8):
        scale, zero = qz.quant_params(w, bits, per_channel, scheme)
        q = qz.quantize(w, scale, zero, bits, scheme)
        assert torch.equal(q, q.round())
        rows = q if per_channel else q.reshape(1, -1)
        assert max(len(torch.unique(r)) for r in rows) <= 2**bits
        err = (qz.dequantize(q, scale, zero) - w).abs()
        assert bool((err <= scale / 2 + 1e-6).all())  # rounding, no clipping: the range covers w
    assert len(qz.grid_levels(w, 4, "symmetric")) == 15 and len(qz.grid_levels(w, 4, "affine")) == 16


def test_sizes_count_packed_weights_scales_and_biases():
    shapes = [(64, 64), (10, 64)]
    assert qz.size_bytes(shapes, 32, False, "symmetric") == 4 * (64 * 64 + 10 * 64 + 74)
    assert qz.size_bytes(shapes, 8, False, "symmetric") == 64 * 64 + 10 * 64 + 2 * 4 + 74 * 4
    assert qz.size_bytes(shapes, 4, True, "affine") == (64 * 64 + 10 * 64) // 2 + 74 * (4 + 1) + 74 * 4


def test_partials_draw_and_wait_for_claims():
    partials: list = []
    r = qz.run(
        small(), RunContext(device=torch.device("cpu"), seed=0, on_progress=lambda f, p: partials.append(p))
    )
    assert len(partials) >= 10
    assert qz.claims(partials[1]) == [] and qz.figures(partials[1])
    assert len(qz.figures(r)) == 5 and qz.claims(r)
    names = [v.name for v in r.variants]
    assert "int8 per-channel + int8 static activations" in names and "int2 per-tensor" in names


def test_options_off_skip_their_variants():
    r = qz.run(
        small(bits=[4, 8], per_channel=False, activations=False, scheme="affine"),
        RunContext(device=torch.device("cpu"), seed=0),
    )
    assert [v.name for v in r.variants] == ["fp32", "int8 per-tensor", "int4 per-tensor"]
    assert len(qz.figures(r)) == 5
    assert "int4-per-channel-closer-outputs" not in {c.id for c in qz.claims(r)}


def test_cancel_propagates():
    def stop(f, r):
        raise Cancelled("stop")

    with pytest.raises(Cancelled):
        qz.run(small(), RunContext(device=torch.device("cpu"), seed=0, on_progress=stop))


@pytest.mark.parametrize(
    "bad",
    [
        {"bits": []},
        {"bits": [1]},
        {"bits": [16]},
        {"bits": [8, 8]},
        {"hidden": 2},
        {"steps": 5},
        {"scheme": "log"},
        {"calibration_samples": 0},
        {"steps": float("nan")},
    ],
)
def test_params_refuse_bad_values(bad):
    with pytest.raises(ValidationError):
        qz.Params(**bad)
