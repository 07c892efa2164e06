"""Lesson knobs: slow the model down or make it fail, reproducibly.

Set them when starting the server, or at runtime with `POST /_config` /
`MockServer.configure(...)`. Every change restarts the fault sequence from `fault_seed`,
so the same settings always give the same sequence of failures.
"""

from __future__ import annotations

import random
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

FaultKind = Literal["429", "500", "timeout", "malformed"]
FAULT_KINDS: tuple[str, ...] = ("429", "500", "timeout", "malformed")
# The transient errors a retry fixes. "timeout" and "malformed" are opt-in: a timeout
# hangs for `timeout_s`, and malformed output needs a validation lesson to make sense.
DEFAULT_FAULT_KINDS: tuple[str, ...] = ("429", "500")


class Knobs(BaseModel):
    """All knobs with their defaults; unknown names are rejected so typos are caught."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)  # "inf" ms hangs every call

    latency_ms: float = Field(
        0, ge=0, le=600_000, description="fixed delay added to every /v1 call"
    )
    per_token_ms: float = Field(0, ge=0, le=60_000, description="extra delay per completion token")
    fault_rate: float = Field(0.0, ge=0, le=1, description="share of calls that fail")
    fault_kinds: tuple[FaultKind, ...] = Field(DEFAULT_FAULT_KINDS, description="faults drawn")
    fault_seed: int = Field(0, description="seed of the random generator deciding faults")
    fault_limit: int | None = Field(
        None, ge=0, description="inject at most this many faults, then none (None: no limit)"
    )
    timeout_s: float = Field(30.0, ge=0, le=3600, description="how long a 'timeout' fault hangs")
    sloppy_writer: float = Field(
        0.0, ge=0, le=1, description="share of first reply drafts that leave something out"
    )
    fault_paths: tuple[str, ...] = Field(("/v1",), description="path prefixes that get faults")

    @field_validator("fault_kinds", mode="before")
    @classmethod
    def _kinds_as_strings(cls, value: Any) -> Any:
        """Accept 429, "429" or ["429", 500] as well as a tuple of strings."""
        if isinstance(value, (str, int)):
            value = [value]
        return tuple(str(kind) for kind in value) if isinstance(value, (list, tuple)) else value

    @field_validator("fault_paths", mode="before")
    @classmethod
    def _paths_as_tuple(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class Controls:
    """The current knobs plus the seeded random generator that picks faults."""

    def __init__(self, knobs: Knobs) -> None:
        self.knobs = knobs
        self._rng = random.Random(knobs.fault_seed)
        self._faults = 0

    def update(self, changes: dict[str, Any]) -> Knobs:
        """Apply some knobs (validated together) and restart the fault sequence."""
        self.knobs = Knobs.model_validate({**self.knobs.model_dump(), **changes})
        self._rng = random.Random(self.knobs.fault_seed)
        self._faults = 0
        return self.knobs

    def next_fault(self, path: str) -> str | None:
        """Decide whether this call fails, and how. Returns a fault kind or None."""
        knobs = self.knobs
        if knobs.fault_rate <= 0 or not knobs.fault_kinds:
            return None
        if not any(path.startswith(prefix) for prefix in knobs.fault_paths):
            return None
        # Always draw both numbers, so the sequence depends only on the seed and call count.
        hit = self._rng.random() < knobs.fault_rate
        kind = self._rng.choice(knobs.fault_kinds)
        if not hit or (knobs.fault_limit is not None and self._faults >= knobs.fault_limit):
            return None
        self._faults += 1
        return kind
