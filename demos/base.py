"""What every demo module shares: the Params base, claims, the run context and cancellation."""

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator


class Cancelled(Exception):
    """Raised inside a run to stop it: a newer run, the user leaving, or the time budget."""


class RunStopped(Cancelled):
    """Raised by the runtime inside a run (between steps) when its budget ran out or a stop was asked.
    `reason` is 'budget' or 'stop'. Demos let it propagate; run_demo turns it into a stopped outcome."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__("the time budget ran out" if reason == "budget" else "a stop was asked for")


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
    holds: bool | None  # None: not checked (the run stopped before the end)

    def as_dict(self) -> dict[str, Any]:
        holds = None if self.holds is None else bool(self.holds)
        return {"id": self.id, "statement": self.statement, "holds": holds}


ProgressFn = Callable[[float, Any], None]


@dataclass
class RunContext:
    """Handed to `run(params, ctx)`. `progress` may raise Cancelled; the run must let it propagate."""

    device: Any  # torch.device; typed loosely so this module stays torch-free
    seed: int = 0
    on_progress: ProgressFn | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    on_check: Callable[[], object] | None = None
    on_tick: Callable[[int, float, Any], None] | None = None

    def progress(self, fraction: float, partial: Any = None) -> None:
        if self.on_progress is not None:
            self.on_progress(min(max(float(fraction), 0.0), 1.0), partial)

    def tick(self, step: int, fraction: float, partial: Callable[[], Any] | None = None) -> None:
        """Called every optimisation step: the step reached, the fraction done and a function that
        builds a partial result. Cheap: the runtime builds and passes on a partial only a few times a
        second (so the charts keep moving whatever the knobs) and counts the steps a stopped run did."""
        if self.on_tick is not None:
            self.on_tick(step, fraction, partial)

    def check(self) -> None:
        """Raise RunStopped when the budget ran out or a stop was asked. The runtime already checks
        before every optimiser step and module call; loops that use neither call this."""
        if self.on_check is not None:
            self.on_check()


_current = threading.local()


def checkpoint() -> None:
    """Where a long loop may stop: runs the check of the run going on this thread, if any (it raises
    RunStopped past the budget or on Stop, and keeps the caller's progress flowing). Shared helpers
    that have no RunContext (e.g. the batched MLP's backward pass) call this between layers."""
    check = getattr(_current, "check", None)
    if check is not None:
        check()


def set_current_check(check: Callable[[], object] | None) -> None:
    """Used by the runtime: the check checkpoint() runs on this thread (None: no run going)."""
    _current.check = check
