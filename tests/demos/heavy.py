"""Each demo's heaviest in-bounds knobs: every int at its maximum, every list with all its options."""

from __future__ import annotations

from typing import Any

from demos import registry

# Knobs where the largest value is not the heaviest, or where all-at-maximum is refused together.
OVERRIDES: dict[str, dict[str, Any]] = {
    "learning-rate": {"batch_size": 4, "patience": 100},
    "softmax": {"target": None},
    "data-scale": {"batch_size": 256},
    "transfer-learning": {"batch_size": 128},
    "feedforward-vs-recurrent": {"batch_size": 512},
    "why-gpus": {"min_time_ms": None},
}


def heaviest(slug: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for k in registry.knobs(slug):
        if k.kind == "int" and k.max is not None:
            values[k.name] = int(k.max)
        elif k.kind == "multi" and k.options:
            values[k.name] = list(k.options)
        elif k.kind == "multi" and k.max is not None and k.max_items:
            values[k.name] = [int(k.max) - i for i in range(k.max_items)][::-1]
    for name, value in OVERRIDES.get(slug, {}).items():
        if value is None:
            values.pop(name, None)
        else:
            values[name] = value
    return values
