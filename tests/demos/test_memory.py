"""The memory demo: claims at the defaults, the saved-tensor meter against known sizes, knobs."""

from __future__ import annotations

import json

import pytest
import torch
from pydantic import ValidationError

from demos import memory
from demos.base import Cancelled, RunContext
from tests.demos.conftest import default_run

SLUG = "memory"


def test_claims_at_defaults():
    out = default_run(SLUG).outcome
    assert len(out.claims) == 4
    assert all(c.holds for c in out.claims), [c.statement for c in out.claims if not c.holds]
    json.dumps(out.metrics, allow_nan=False)


def test_meter_counts_saved_activations_once_and_frees_them():
    w = torch.nn.Parameter(torch.randn(100, 100))
    meter = memory._Meter([w])
    x = torch.randn(50, 100)
    with torch.autograd.graph.saved_tensors_hooks(meter.pack, meter.unpack):
        h = torch.relu(x @ w)  # saves x (20 kB; w is a parameter) and relu's output (20 kB)
        loss = (h * h).sum()  # saves h once more (same storage: counted once)
    assert meter.peak == 2 * 50 * 100 * 4
    loss.backward()
    assert meter.now == 0


def test_measure_one_configuration():
    m = memory._measure(32, 16, 4, False, False, torch.device("cpu"), torch.Generator().manual_seed(0))
    assert m.forward_calls == 6 and m.peak_bytes > 0


def test_cancel_propagates():
    def stop(f, r):
        raise Cancelled("stop")

    with pytest.raises(Cancelled):
        memory.run(memory.Params(), RunContext(device=torch.device("cpu"), seed=0, on_progress=stop))


@pytest.mark.parametrize("bad", [{"width": 8}, {"batch_size": 4096}, {"depth": 2}])
def test_params_refuse_bad_values(bad):
    with pytest.raises(ValidationError):
        memory.Params(**bad)
