"""The scheduling core: decide what runs or is skipped next, from edge states alone.

It is pure and synchronous (no asyncio, no node code, no clock), so every rule can be
tested by hand: tell it a node finished (and which route it chose), ask what comes next.

- Each forward edge is *live* (its source finished and took it), *dead* (its source was
  skipped or chose another route) or undecided.
- An all-join node is decided when every incoming edge is: it runs if one is live, and is
  skipped if all are dead. An any-join runs as soon as one edge is live.
- A skipped node kills its outgoing edges, so skipping propagates (dead-path elimination).
- Following a loop edge resets the loop body to pending and forces its first node to run.
  Edges leaving the body stay undecided until the loop settles (the loop edge is not
  taken), because the body may run again and take them after all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .errors import NodeError
from .graph import START, Edge, Graph
from .trace import Status

EdgeState = Literal["live", "dead"]


@dataclass(frozen=True)
class Step:
    """A decision: ``action`` "run" (start it now) or "skip" (with the ``reason``)."""

    action: Literal["run", "skip"]
    node: str
    iteration: int
    reason: str = ""


class Schedule:
    """The decisions of one run. Call :meth:`next_steps`, run what it says, report each
    outcome with :meth:`completed`, and repeat until :attr:`finished`."""

    def __init__(self, graph: Graph):
        self.g = graph
        self.status: dict[str, Status] = dict.fromkeys(graph.nodes, "pending")
        self.executions = dict.fromkeys(graph.nodes, 0)
        self.edges: dict[Edge, EdgeState] = {e: "live" for e in graph.forward if e.source == START}
        self.loop_count = dict.fromkeys(graph.loops, 0)
        self.loop_settled = dict.fromkeys(graph.loops, False)
        self.forced: set[str] = set()
        self.dirty: set[str] = set(graph.starts)

    @property
    def running(self) -> list[str]:
        return [name for name, status in self.status.items() if status == "running"]

    @property
    def finished(self) -> bool:
        """Nothing is running and nothing more can start."""
        return not self.dirty and not self.running

    def next_steps(self) -> list[Step]:
        """Every node that can be decided now, in topological order. Nodes to run are
        marked running; skips are applied at once (and may decide further nodes)."""
        steps = []
        while self.dirty:
            name = min(self.dirty, key=self.g.rank.__getitem__)
            self.dirty.discard(name)
            if self.status[name] != "pending":
                continue
            decision = self._decide(name)
            if decision == "run":
                self.forced.discard(name)
                self.status[name] = "running"
                steps.append(Step("run", name, self.executions[name]))
            elif decision == "skip":
                steps.append(Step("skip", name, self.executions[name], self._skip_reason(name)))
                self.status[name] = "skipped"
                self._resolve(name, route=None, taken=False)
        return steps

    def completed(self, name: str, route: str | None = None) -> None:
        """``name`` finished; ``route`` is the label it chose, if it routes."""
        self.status[name] = "completed"
        self.executions[name] += 1
        self._resolve(name, route, taken=True)

    def failed(self, name: str) -> None:
        self.status[name] = "failed"

    def waiting(self, name: str) -> None:
        self.status[name] = "waiting"

    # -- stopping and carrying on -----------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """Every decision so far, as JSON. Nodes that failed, were cancelled or wait for
        a person are saved as pending and due for a decision: carrying on runs them again."""
        unfinished = [n for n, s in self.status.items() if s in ("failed", "waiting", "running")]
        index = {id(e): i for i, e in enumerate(self.g.edges)}
        return {
            "status": {n: "pending" if n in unfinished else s for n, s in self.status.items()},
            "executions": dict(self.executions),
            "edges": {str(index[id(e)]): state for e, state in self.edges.items()},
            "loops": [[self.loop_count[e], self.loop_settled[e]] for e in self.g.loops],
            "forced": sorted(self.forced),
            "due": sorted(self.dirty | set(unfinished)),
        }

    @classmethod
    def restore(cls, graph: Graph, snapshot: Mapping[str, Any]) -> Schedule:
        """The schedule a snapshot describes, for the same graph."""
        schedule = cls(graph)
        schedule.status = dict(snapshot["status"])
        schedule.executions = dict(snapshot["executions"])
        schedule.edges = {graph.edges[int(i)]: state for i, state in snapshot["edges"].items()}
        for loop, (count, settled) in zip(graph.loops, snapshot["loops"], strict=True):
            schedule.loop_count[loop], schedule.loop_settled[loop] = count, settled
        schedule.forced = set(snapshot["forced"])
        schedule.dirty = set(snapshot["due"])
        return schedule

    # -- the rules ------------------------------------------------------------------

    def _edge(self, e: Edge) -> EdgeState | None:
        if any(not self.loop_settled[loop] for loop in self.g.leaves_loops[e]):
            return None
        return self.edges.get(e)

    def _decide(self, name: str) -> Literal["run", "skip"] | None:
        if name in self.forced:
            return "run"
        states = [self._edge(e) for e in self.g.incoming[name]]
        if self.g.nodes[name].join == "any":
            if "live" in states:
                return "run"
            return "skip" if all(s == "dead" for s in states) else None
        if None in states:
            return None
        return "run" if "live" in states else "skip"

    def _skip_reason(self, name: str) -> str:
        sources = [e.source for e in self.g.incoming[name]]
        return "no live input: " + ", ".join(
            f"{s} was skipped" if self.status.get(s) == "skipped" else f"{s} took another route"
            for s in sources
        )

    def _resolve(self, name: str, route: str | None, taken: bool) -> None:
        """Decide the outgoing edges of a node that finished (taken) or was skipped."""
        for e in self.g.outgoing[name]:
            live = taken and (e.when is None or e.when == route)
            if e.is_loop:
                self._follow_loop(e) if live else self._settle_loop(e)
            else:
                self.edges[e] = "live" if live else "dead"
                self.dirty.add(e.target)

    def _follow_loop(self, loop: Edge) -> None:
        if self.loop_count[loop] >= (loop.loop_limit or 0):
            raise NodeError(
                loop.source,
                f"the loop {loop} reached its limit of {loop.loop_limit} and was asked to go "
                "round again; a route must leave the loop before then",
            )
        self.loop_count[loop] += 1
        body = self.g.loop_bodies[loop]
        for name in body:
            self.status[name] = "pending"
        for e in [e for e in self.edges if e.source in body]:
            del self.edges[e]
        self.forced.add(loop.target)
        self.dirty.add(loop.target)

    def _settle_loop(self, loop: Edge) -> None:
        self.loop_settled[loop] = True
        body = self.g.loop_bodies[loop]
        self.dirty.update(e.target for e in self.g.forward if e.source in body)
