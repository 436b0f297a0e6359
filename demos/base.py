"""What every demo module shares: the Params base, claims, the run context and cancellation."""

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator


class Cancelled(Exception):
    """Raised inside a run to stop it: a newer run, the user leaving, or the time budget."""


class DemoParams(BaseModel):
    """Base for each demo's `Params`: every knob a Field with a default, bounds and a description."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    @field_validator("*", mode="before")
    @classmethod
    def _finite(cls, v: Any) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            raise ValueError("must be a finite number (NaN and infinity are refused)")
        return v


@dataclass(frozen=True)
class Claim:
    id: str
    statement: str
    holds: bool

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "statement": self.statement, "holds": bool(self.holds)}


ProgressFn = Callable[[float, Any], None]


@dataclass
class RunContext:
    """Handed to `run(params, ctx)`. `progress` may raise Cancelled; the run must let it propagate."""

    device: Any  # torch.device; typed loosely so this module stays torch-free
    seed: int = 0
    on_progress: ProgressFn | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    def progress(self, fraction: float, partial: Any = None) -> None:
        if self.on_progress is not None:
            self.on_progress(min(max(float(fraction), 0.0), 1.0), partial)
