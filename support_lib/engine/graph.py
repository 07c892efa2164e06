"""Building a workflow (:class:`Workflow`) and the checked, immutable graph it compiles to.

You build a workflow with ``add`` and ``edge``; ``compile()`` (called for you by
``validate`` and ``arun``) runs the build-time checks of ``checks.py`` once and caches a
:class:`Graph`: the facts the scheduler needs (incoming edges, topological order, loop
bodies) computed once, not on every run and every decision.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic

from .errors import ResumeError, WorkflowDefinitionError
from .nodes import NO_ANSWER, DepsT, Node
from .state import StateSchema, schema_of
from .trace import Trace

START = "__start__"
"""The virtual node a workflow begins at: ``wf.edge(START, "first_node")``."""


@dataclass(frozen=True, eq=False)
class Edge:
    """``source → target``; ``when`` makes it conditional on a route of ``source``;
    ``loop_limit`` marks the edge that closes a loop and how often it may be followed.
    Each edge is its own object (compared by identity: two equal-looking edges added
    twice are two edges), which also keeps the scheduler's lookups cheap."""

    source: str
    target: str
    when: str | None = None
    loop_limit: int | None = None

    @property
    def is_loop(self) -> bool:
        return self.loop_limit is not None

    def __str__(self) -> str:
        return f"{self.source} → {self.target}"


class Workflow(Generic[DepsT]):
    """A graph of nodes over a declared state. Build it with ``add`` and ``edge``.

    ``state`` is a TypedDict; its ``Required`` keys are the run's inputs (see
    ``engine/state.py``). ``DepsT`` is the type of the services every node receives as
    ``ctx.deps`` (an LLM client, an HTTP client...)."""

    def __init__(self, name: str, state: type):
        self.name = name
        self.schema: StateSchema = schema_of(state)
        self.nodes: dict[str, Node[DepsT]] = {}
        self.edges: list[Edge] = []
        self._graph: Graph | None = None

    @property
    def inputs(self) -> tuple[str, ...]:
        """The keys a run must be given: the schema's ``Required`` keys."""
        return self.schema.inputs

    def add(self, node: Node[DepsT]) -> Node[DepsT]:
        if node.name in self.nodes or node.name == START:
            raise WorkflowDefinitionError(f"node '{node.name}' is defined twice")
        self.nodes[node.name] = node
        self._graph = None
        return node

    def edge(
        self, source: str, target: str, *, when: str | None = None, loop_limit: int | None = None
    ) -> Workflow[DepsT]:
        """Connect two nodes; ``when`` makes it conditional on a route, ``loop_limit``
        marks the edge that closes a loop and how often it may be followed."""
        self.edges.append(Edge(source, target, when, loop_limit))
        self._graph = None
        return self

    def compile(self) -> Graph:
        """The checked graph (cached until the workflow changes). Raises
        :class:`WorkflowDefinitionError` with a sentence naming the first problem."""
        if self._graph is None:
            from .checks import check_graph

            self._graph = check_graph(self)
        return self._graph

    def validate(self) -> Workflow[DepsT]:
        """Run the build-time checks now; returns the workflow, for chaining."""
        self.compile()
        return self

    def describe(self) -> dict[str, Any]:
        """The graph as plain data, for drawings and traces."""
        return {
            "name": self.name,
            "inputs": list(self.inputs),
            "state": self.schema.describe(),
            "nodes": [_describe_node(node) for node in self.nodes.values()],
            "edges": [
                {"source": e.source, "target": e.target, "when": e.when, "loop_limit": e.loop_limit}
                for e in self.edges
                if e.source != START
            ],
        }

    def __repr__(self) -> str:
        return f"Workflow({self.name!r}, {len(self.nodes)} nodes, state={self.schema.name})"

    async def arun(
        self,
        inputs: Mapping[str, Any],
        *,
        deps: DepsT | None = None,
        observers: Iterable[Any] = (),
        run_id: str | None = None,
        check: bool = True,
        deadline_s: float | None = None,
    ) -> Trace:
        """Run the workflow once and return its trace.

        With ``check=True`` a failed run raises :class:`WorkflowRunError` (its ``.trace``
        still holds everything); with ``check=False`` the failed trace is returned.
        ``deadline_s`` bounds the whole run: past it, running nodes are cancelled and the
        run fails (it can be resumed).
        """
        from .executor import Execution

        graph = self.compile()
        trace = Trace(
            run_id=run_id or f"run-{uuid.uuid4().hex[:12]}",
            workflow=self.name,
            started_at=datetime.now(UTC).isoformat(timespec="milliseconds"),
            inputs=graph.check_inputs(inputs),
            graph=graph.description,
        )
        await Execution(graph, trace, deps, list(observers)).run(deadline_s)
        return trace.raise_for_status() if check else trace

    async def aresume(
        self,
        trace: Trace,
        *,
        answer: Any = NO_ANSWER,
        deps: DepsT | None = None,
        observers: Iterable[Any] = (),
        check: bool = True,
        deadline_s: float | None = None,
    ) -> Trace:
        """Carry on a run that stopped early, in place: a run waiting for a person (give
        their ``answer``) or a failed one (after fixing the cause). Nodes that completed
        are not run again, so their side effects are not repeated; the node that waited
        runs again and its ``ctx.interrupt(...)`` returns ``answer``.

        Raises :class:`ResumeError` when there is nothing to resume (the run completed, or
        is already being resumed) or when the workflow changed since the run stopped."""
        from .executor import Execution

        graph = self.compile()
        if trace.status not in ("waiting", "failed") or trace.checkpoint is None:
            raise ResumeError(
                f"run {trace.run_id} is {trace.status}: only a waiting or failed run can be "
                "resumed, and only once"
            )
        if trace.graph != graph.description:
            raise ResumeError(
                f"run {trace.run_id} was made by a different version of workflow "
                f"'{trace.workflow}': resume it with the graph that started it"
            )
        if trace.status == "waiting" and answer is NO_ANSWER:
            raise ResumeError(f"run {trace.run_id} waits for a person: give their answer")
        answers = {trace.waiting_for["node"]: answer} if trace.waiting_for else {}
        await Execution(graph, trace, deps, list(observers), answers).run(deadline_s)
        return trace.raise_for_status() if check else trace


def _describe_node(node: Node[Any]) -> dict[str, Any]:
    return {
        "name": node.name,
        "label": node.label,
        "kind": node.kind,
        "join": node.join,
        "routes": list(node.routes),
        "reads": list(node.reads),
        "writes": list(node.writes),
    }


class Graph:
    """A workflow's structure, computed once: what the scheduler and the checks consult."""

    def __init__(self, wf: Workflow[Any]):
        self.name = wf.name
        self.schema = wf.schema
        self.nodes = dict(wf.nodes)
        self.edges = tuple(wf.edges)
        self.forward = tuple(e for e in self.edges if not e.is_loop)
        self.loops = tuple(e for e in self.edges if e.is_loop)
        self.incoming = {
            name: tuple(e for e in self.forward if e.target == name) for name in self.nodes
        }
        self.outgoing = {
            name: tuple(e for e in self.edges if e.source == name) for name in self.nodes
        }
        self.starts = tuple(e.target for e in self.forward if e.source == START)
        self.order = self._topological_order()
        self.rank = {name: i for i, name in enumerate(self.order)}
        self.loop_bodies = {loop: self._loop_body(loop) for loop in self.loops}
        self.leaves_loops = {  # forward edges out of a loop body: undecided until it settles
            e: tuple(
                loop
                for loop, body in self.loop_bodies.items()
                if e.source in body and e.target not in body
            )
            for e in self.forward
        }
        self.description = wf.describe()

    def _topological_order(self) -> tuple[str, ...]:
        """Nodes in dependency order (forward edges only); raises on an unbounded cycle."""
        indegree = {
            name: sum(e.source != START for e in self.incoming[name]) for name in self.nodes
        }
        ready = [name for name in self.nodes if indegree[name] == 0]
        order: list[str] = []
        while ready:
            name = ready.pop(0)
            order.append(name)
            for e in self.outgoing[name]:
                if not e.is_loop:
                    indegree[e.target] -= 1
                    if indegree[e.target] == 0:
                        ready.append(e.target)
        if len(order) < len(self.nodes):
            stuck = [name for name in self.nodes if name not in order]
            raise WorkflowDefinitionError(
                "unbounded cycle through " + " → ".join(stuck) + ": mark the edge that "
                "closes the loop with loop_limit=N so every run ends"
            )
        return tuple(order)

    @functools.cache  # noqa: B019 - one Graph per workflow version, kept while it lives
    def ancestors(self, name: str) -> frozenset[str]:
        """Every node with a forward path to ``name``."""
        found: set[str] = set()
        for e in self.incoming[name]:
            if e.source != START:
                found |= {e.source} | self.ancestors(e.source)
        return frozenset(found)

    def _loop_body(self, loop: Edge) -> frozenset[str]:
        """Nodes re-run when ``loop`` is followed: on forward paths from its target to its
        source, inclusive."""
        upstream = self.ancestors(loop.source) | {loop.source}
        return frozenset(
            n for n in upstream if n == loop.target or loop.target in self.ancestors(n)
        )

    def check_inputs(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """The run's inputs, checked against the schema (a ValueError says what is wrong)."""
        missing = [key for key in self.schema.inputs if key not in inputs]
        if missing:
            raise ValueError(f"workflow '{self.name}' needs inputs: {', '.join(missing)}")
        extra = [key for key in inputs if key not in self.schema.inputs]
        if extra:
            raise ValueError(
                f"workflow '{self.name}' takes inputs {', '.join(self.schema.inputs)}; "
                f"not {', '.join(extra)}"
            )
        return {key: self.schema.keys[key].to_json(inputs[key]) for key in self.schema.inputs}
