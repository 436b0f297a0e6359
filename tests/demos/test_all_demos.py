"""Every demo whose module exists: its default run on CPU keeps all its claims, draws, and reports.

New demo modules are picked up automatically (registry.available)."""

from __future__ import annotations

import json
import math

import pytest

from demos import registry, runtime
from demos.base import Cancelled
from demos.catalogue import CATALOGUE
from tests.demos.conftest import cancel_on_first_progress, default_run

SLUGS = [s for s in CATALOGUE if registry.available(s)]


@pytest.mark.parametrize("slug", SLUGS)
def test_knobs_and_default_params(slug):
    cls = registry.params_class(slug)
    p = cls()
    assert registry.parse_params(slug, {}) == p
    assert registry.params_to_strings(p) == {}
    ks = registry.knobs(slug)
    assert ks, "a demo needs at least one knob"
    for k in ks:
        assert k.description, f"{k.name} needs a one-line description"
        # A label in words (the Field's title), not the code name: "Hidden width (units)", not "width".
        assert k.label and k.label != k.name and "_" not in k.label, f"{k.name} needs a title= label"
        assert k.kind in {"int", "float", "bool", "choice", "multi"}
        if k.kind in ("int", "float"):
            assert k.min is not None and k.max is not None, f"{k.name} needs both bounds"
            assert k.min <= k.default <= k.max
        if k.kind == "choice":
            assert k.default in k.options
        if k.kind == "multi" and k.options:
            assert k.min_items and k.min_items >= 1, f"{k.name}: list knobs need min_length=1"
            assert all(x in k.options for x in k.default)
            assert len(set(k.default)) == len(k.default)
    d = registry.describe(slug)
    assert d["available"] and len(d["knobs"]) == len(ks)
    json.dumps(d, allow_nan=False)


@pytest.mark.slow
@pytest.mark.parametrize("slug", SLUGS)
def test_default_run_keeps_its_claims(slug):
    run = default_run(slug)
    out = run.outcome
    assert out.claims, "a demo needs at least one claim"
    ids = [c.id for c in out.claims]
    assert len(set(ids)) == len(ids)
    failed = [f"{c.id}: {c.statement}" for c in out.claims if not c.holds]
    assert not failed, failed
    # The list shown before Run (and on a stopped run) names exactly what the run checked; why-gpus
    # also names two claims that only a machine with free cores or a GPU checks.
    planned = [c.id for c in registry.planned_claims(slug)]
    if slug == "why-gpus":
        assert set(ids) <= set(planned)
    else:
        assert ids == planned
    json.dumps(out.metrics, allow_nan=False)
    assert all(isinstance(v, int | float | str) for v in out.metrics.values())
    assert all(math.isfinite(v) for v in out.metrics.values() if isinstance(v, float))
    json.dumps(runtime.outcome_json(out), allow_nan=False)


@pytest.mark.slow
@pytest.mark.parametrize("slug", SLUGS)
def test_default_run_reports_progress_and_draws(slug):
    run = default_run(slug)
    module = registry.load(slug)
    figs = module.figures(run.outcome.result)
    assert len(figs) >= 1 and all(f.layout.title.text for f in figs)
    assert len(run.partials) >= 10, f"progress reported {len(run.partials)} times; the contract asks for ~10+"
    # Reported early, not only at the end (generous: this runs on shared, loaded machines).
    assert run.first_progress_s <= max(2.0, 0.5 * run.outcome.elapsed_s)
    for _, partial, _ in run.partials[:: max(1, len(run.partials) // 4)]:
        if partial is not None:
            module.figures(partial)
            module.metrics(partial)


@pytest.mark.parametrize("slug", SLUGS)
def test_cancel_from_first_progress_propagates(slug):
    with pytest.raises(Cancelled):
        runtime.run_demo(slug, None, device="cpu", on_progress=cancel_on_first_progress, use_cache=False)
    assert runtime.queue_snapshot()["running"] == 0
