"""A per-demo cost model: how long a setting is predicted to take, before it runs.

    predicted_seconds(slug, params) = fixed_s + work_s * product over knobs of (value / default) ** exponent

`work_s` and `fixed_s` are the demo's default run measured on this machine (cost_model.json beside
this module; `python bench/demos.py --calibrate` measures and rewrites it). Each knob's exponent says
how its cost grows: steps, data and width knobs grow it about linearly, a list of variants by its
length; knobs that change nothing of the cost (a shift, a learning rate) have exponent 0. A demo's
entry in the JSON may override exponents ({"exponents": {"width": 2}}).

The page and `quizapp demo run --budget` warn before running when the prediction passes the budget.
"""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path
from typing import Any

from demos import registry

MODEL_FILE = Path(__file__).with_name("cost_model.json")
FIXED_SHARE = 0.15  # the part of a default run that does not grow with the knobs (data, set-up)
DEFAULT_S = 2.0  # a demo missing from the JSON

_LINEAR = (
    "steps",
    "epochs",
    "n_train",
    "n_samples",
    "train_size",
    "n_sentences",
    "n_merges",
    "calibration_samples",
    "batch_size",
    "repeats",
    "trees",
    "width",
    "hidden",
    "neurons",
    "channels",
    "d_model",
    "depth",
    "layers",
    "seq_len",
    "snapshots",
    "n_rates",
    "n_eps",
    "student_width",
)


@cache
def _table() -> dict[str, Any]:
    try:
        return json.loads(MODEL_FILE.read_text())
    except (OSError, ValueError):
        return {}


def reload() -> None:
    _table.cache_clear()


def exponent(slug: str, knob: registry.Knob) -> float:
    """How a knob's cost grows: its ratio to the default is raised to this power."""
    own = _table().get(slug, {}).get("exponents", {})
    if knob.name in own:
        return float(own[knob.name])
    if knob.kind == "multi":
        return 1.0
    if knob.kind == "int" and any(knob.name == n or knob.name.endswith("_" + n) for n in _LINEAR):
        return 1.0
    return 0.0


def _ratio(knob: registry.Knob, value: Any) -> float:
    if knob.kind == "multi":
        return max(len(value), 1) / max(len(knob.default), 1)
    if knob.kind == "int":
        return max(float(value), 1.0) / max(float(knob.default), 1.0)
    return 1.0


def factors(slug: str, params: Any) -> dict[str, float]:
    """Per knob, the factor it multiplies the default's work by (only those that differ from 1)."""
    values = params.model_dump() if hasattr(params, "model_dump") else dict(params)
    out: dict[str, float] = {}
    for k in registry.knobs(slug):
        e = exponent(slug, k)
        if e and k.name in values:
            f = _ratio(k, values[k.name]) ** e
            if not math.isclose(f, 1.0):
                out[k.name] = f
    return out


def default_seconds(slug: str) -> float:
    return float(_table().get(slug, {}).get("default_s", DEFAULT_S))


def predicted_seconds(slug: str, params: Any = None) -> float:
    """Seconds a run of `params` (a Params or a mapping of typed values; None: the defaults) is
    predicted to take on this machine."""
    if params is None:
        params = registry.parse_params(slug, {})
    base = default_seconds(slug)
    work = math.prod(factors(slug, params).values())
    return FIXED_SHARE * base + (1 - FIXED_SHARE) * base * work


def budget_warning(slug: str, params: Any, budget_s: float) -> str | None:
    """A sentence for people when the setting is predicted to pass the budget, else None."""
    if not budget_s or budget_s <= 0:
        return None
    t = predicted_seconds(slug, params)
    if t <= budget_s:
        return None
    knobs = {k.name: k for k in registry.knobs(slug)}
    heavy = sorted(((f, n) for n, f in factors(slug, params).items() if f > 1), reverse=True)[:2]
    names = [knobs[n].label.split(" (")[0].lower() for _, n in heavy]
    lower = f"; lower {' or '.join(names)}" if names else ""
    return (
        f"This setting is predicted to take about {_round(t)} s, more than the {budget_s:g} s budget: "
        f"it will stop early{lower}."
    )


def _round(t: float) -> str:
    if t < 10:
        return f"{t:.0f}"
    digits = 10 ** max(0, int(math.log10(t)) - 1)
    return f"{round(t / digits) * digits:,.0f}"
