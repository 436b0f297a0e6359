"""Why GPUs: claims at the defaults, knob validation, the Python loop, threads restored, honest claims."""

from __future__ import annotations

import json

import pytest
import torch
from pydantic import ValidationError

from demos import why_gpus as wg
from demos.base import RunContext
from tests.demos.conftest import default_run

SLUG = "why-gpus"


def test_claims_at_defaults():
    out = default_run(SLUG).outcome
    ids = {c.id for c in out.claims}
    assert {"torch-beats-python-loop", "throughput-grows-with-size"} <= ids
    assert all(c.holds for c in out.claims), [c.statement for c in out.claims if not c.holds]
    json.dumps(out.metrics, allow_nan=False)


@pytest.mark.parametrize(
    "bad",
    [
        {"sizes": [4, 64]},
        {"sizes": [64, 8192]},
        {"sizes": [64, 64]},
        {"python_sizes": [128]},
        {"python_sizes": []},
        {"min_time_ms": float("nan")},
        {"repeats": 0},
        {"dtype": "float16"},
    ],
)
def test_bad_knobs_are_refused(bad):
    with pytest.raises(ValidationError):
        wg.Params(**bad)


def test_python_loop_multiplies_correctly():
    a = [[1.0, 2.0], [3.0, 4.0]]
    b = [[5.0, 6.0], [7.0, 8.0]]
    assert wg._python_matmul(a, b) == [[19.0, 22.0], [43.0, 50.0]]


def test_run_restores_the_thread_count():
    before = torch.get_num_threads()
    p = wg.Params(sizes=[16, 32], python_sizes=[4], repeats=1, min_time_ms=1.0)
    res = wg.run(p, RunContext(device=torch.device("cpu"), seed=0))
    assert torch.get_num_threads() == before
    assert res.series[wg.ONE_LABEL][0] == [16, 32]
    assert all(v > 0 for _, ys in res.series.values() for v in ys)


def _fake(cores: int, share: float, multi: float) -> wg.Result:
    res = wg.Result(sizes=[64, 512], python_sizes=[8], cores=cores, device="cpu", done=True)
    res.series = {wg.PY_LABEL: ([8], [0.01]), wg.ONE_LABEL: ([64, 512], [5.0, 40.0])}
    res.torch_at_python_sizes = [2.0]
    if cores > 1:
        res.series[f"CPU, {cores} threads"] = ([64, 512], [6.0, multi])
        res.cpu_share = {wg.ONE_LABEL: share, f"CPU, {cores} threads": share}
    return res


def test_thread_claim_only_with_several_free_cores():
    ids = lambda r: {c.id for c in wg.claims(r)}  # noqa: E731
    assert "all-threads-at-least-one" not in ids(_fake(1, 1.0, 0.0))
    assert "all-threads-at-least-one" not in ids(_fake(2, 0.3, 10.0))  # cores busy elsewhere: left out
    by_id = {c.id: c for c in wg.claims(_fake(2, 0.95, 70.0))}
    assert by_id["all-threads-at-least-one"].holds
    assert by_id["torch-beats-python-loop"].holds and by_id["throughput-grows-with-size"].holds
    assert not {c.id: c for c in wg.claims(_fake(2, 0.95, 20.0))}["all-threads-at-least-one"].holds
