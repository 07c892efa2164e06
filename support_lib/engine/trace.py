"""The record of one run: what each node received, returned and how long it took.

A :class:`Trace` is plain data (it saves to and loads from JSON), so every way of looking
at a run (the CLI report, the widgets, the drawings, the metrics) reads the same object,
and a saved trace can be inspected later without re-running anything.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from .errors import WorkflowRunError

Status = Literal["pending", "running", "waiting", "completed", "skipped", "failed"]
RunStatus = Literal["running", "waiting", "completed", "failed"]


@dataclass(slots=True)
class NodeRun:
    """One execution (or skip) of a node. A node inside a loop has one per iteration."""

    node: str
    kind: str
    status: Status = "pending"
    iteration: int = 0
    start_ms: float | None = None
    end_ms: float | None = None
    attempts: int = 0
    attempt_errors: list[str] = field(default_factory=list)
    inputs: dict[str, Any] | None = None
    output: dict[str, Any] | None = None
    route: str | None = None
    error: str | None = None
    fell_back: bool = False
    """The node failed, and the run carried on with its fallback writes (an optional node)."""
    skip_reason: str | None = None
    usage: dict[str, Any] | None = None
    explanation: Any = None
    """Why the node's service answered as it did, when the service says (the offline
    model does): e.g. the words that made it choose "billing"."""
    first_token_ms: float | None = None
    """When the first piece of streamed output arrived (time to first token)."""
    streamed: str | None = None
    """Output streamed so far, while the node runs (cleared once its output is complete)."""

    @property
    def duration_ms(self) -> float | None:
        if self.start_ms is None or self.end_ms is None:
            return None
        return round(self.end_ms - self.start_ms, 1)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["duration_ms"] = self.duration_ms
        return data


@dataclass
class Trace:
    """Everything about one run, JSON-serialisable (``to_json`` / ``Trace.from_json``)."""

    run_id: str
    workflow: str
    started_at: str
    inputs: dict[str, Any]
    graph: dict[str, Any]
    status: RunStatus = "running"
    duration_ms: float | None = None
    state: dict[str, Any] = field(default_factory=dict)
    node_runs: list[NodeRun] = field(default_factory=list)
    error: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    effects: list[dict[str, Any]] = field(default_factory=list)
    """External side effects that happened (a message sent...), in order: what a resumed
    run must not repeat, and what a failed run left half done."""
    waiting_for: dict[str, Any] | None = None
    """While the run waits for a person: the node and its question."""
    checkpoint: dict[str, Any] | None = None
    """What a run that stopped early (waiting or failed) needs to carry on: the scheduler's
    decisions so far (see ``Schedule.snapshot``). None once the run completed."""

    def runs_of(self, node: str) -> list[NodeRun]:
        """Every record of a node, in order (a loop gives one per iteration)."""
        return [run for run in self.node_runs if run.node == node]

    def node(self, name: str) -> NodeRun | None:
        """The node's latest execution; a skip only when it never executed (None if it
        was never reached). A loop that ends records a skip after real runs: that skip
        says the loop stopped, not that the node did not run."""
        runs = self.runs_of(name)
        executed = [run for run in runs if run.status != "skipped"]
        return (executed or runs or [None])[-1]

    def status_of(self, name: str) -> Status:
        """What happened to a node in this run, by the rule of :meth:`node`."""
        run = self.node(name)
        return run.status if run else "pending"

    def to_dict(self) -> dict[str, Any]:
        data = {key: value for key, value in self.__dict__.items() if key != "node_runs"}
        data["node_runs"] = [run.to_dict() for run in self.node_runs]
        return data

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, default=str)

    def save(self, path: str | Path) -> Path:
        """Write the trace as UTF-8 JSON. A character UTF-8 cannot hold (a lone surrogate a
        model sent back) is written as its JSON escape, so saving never fails."""
        path = Path(path)
        path.write_text(self.to_json(), encoding="utf-8", errors="backslashreplace")
        return path

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Trace:
        fields = dict(data)
        runs = [
            NodeRun(**{k: v for k, v in run.items() if k != "duration_ms"})
            for run in fields.pop("node_runs", [])
        ]
        return cls(**fields, node_runs=runs)

    @classmethod
    def from_json(cls, text: str) -> Trace:
        return cls.from_dict(json.loads(text))

    @classmethod
    def load(cls, path: str | Path) -> Trace:
        return cls.from_json(Path(path).read_text(encoding="utf-8"))

    def raise_for_status(self) -> Trace:
        """Raise :class:`WorkflowRunError` if the run failed; else return the trace (a run
        waiting for a person has not failed)."""
        if self.status == "failed":
            raise WorkflowRunError(self.error or "the run failed", self)
        return self
