"""A small async workflow engine: nodes, explicit edges, routes, joins, bounded loops.

It knows nothing about customer support. A workflow is a graph of nodes that read and
write keys of a shared ``state`` dict. You declare every edge, so the graph can be drawn
and checked before anything runs (``Workflow.validate``). Running it (``Workflow.arun``)
follows four rules:

1. **No wave barrier.** A node starts the moment its own incoming edges allow it, so
   independent nodes run concurrently.
2. **Routes and dead paths.** A routing node picks one label; edges with other labels
   are *dead*. A node whose incoming edges are all dead is *skipped*, and skipping
   propagates downstream (dead-path elimination).
3. **Joins.** ``join="all"`` waits until every incoming edge is decided and runs if at
   least one is live; ``join="any"`` runs as soon as one incoming edge is live.
4. **Bounded loops.** A loop is closed by one edge marked ``loop_limit=N``. Following it
   re-runs the loop's body; following it more than N times fails the run. A cycle
   without such an edge is rejected at build time, so a run always ends.

Every run produces a :class:`Trace`: what each node received, returned, how long it
took and why it was skipped. Displays, metrics and the CLI all read that one trace.
"""

from __future__ import annotations

import asyncio
import difflib
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

START = "__start__"
"""The virtual node a workflow begins at: ``wf.edge(START, "first_node")``."""

Join = Literal["all", "any"]
Status = Literal["pending", "running", "completed", "skipped", "failed"]


# --------------------------------------------------------------------------- errors


class WorkflowDefinitionError(ValueError):
    """The graph is wrong before it runs (unknown node, unbounded cycle, ...)."""


class RetryableError(Exception):
    """Raise this (or wrap a cause in it) when trying again may succeed (429, timeout...)."""


class NodeError(Exception):
    """A node failed for good; the message names the node and the cause."""

    def __init__(self, node: str, cause: str):
        self.node = node
        self.cause = cause
        super().__init__(f"node '{node}' failed: {cause}")


class WorkflowRunError(RuntimeError):
    """A run failed; ``.trace`` holds everything that happened up to the failure."""

    def __init__(self, message: str, trace: Trace):
        super().__init__(message)
        self.trace = trace


# --------------------------------------------------------------------------- nodes


@dataclass(frozen=True)
class RetryPolicy:
    """Try a node up to ``max_attempts`` times, waiting longer after each retryable error."""

    max_attempts: int = 1
    initial_delay: float = 0.2
    backoff: float = 2.0
    max_delay: float = 5.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        return min(self.max_delay, self.initial_delay * self.backoff ** (attempt - 1))


NO_RETRY = RetryPolicy()


class NodeContext:
    """What a running node may use besides the state: shared services and a place to
    record the inputs it really sent (the rendered prompt or request) and its usage."""

    def __init__(self, run: NodeRun, deps: Any, run_id: str, clock_start: float):
        self.run_record = run
        self.deps = deps
        self.run_id = run_id
        self._clock_start = clock_start

    def elapsed_ms(self) -> float:
        """Milliseconds since the run started (for "response time" fields)."""
        return round((time.perf_counter() - self._clock_start) * 1000, 1)

    def record_inputs(self, **inputs: Any) -> None:
        self.run_record.inputs = inputs

    def record_usage(self, **usage: Any) -> None:
        self.run_record.usage = usage


class Node:
    """One step of a workflow.

    Subclasses implement ``run(state, ctx)`` and return a dict whose keys are among
    ``writes``. A node that routes also declares ``routes`` and a ``route`` function that
    picks one label from the state after the node's own writes are applied.
    ``defaults`` gives values for reads that may legitimately be absent (a branch that
    was not taken); any other missing read is an error.
    """

    kind = "function"

    def __init__(
        self,
        name: str,
        *,
        reads: Iterable[str] = (),
        writes: Iterable[str] = (),
        label: str | None = None,
        join: Join = "all",
        routes: Iterable[str] = (),
        route: Callable[[Mapping[str, Any]], str] | None = None,
        defaults: Mapping[str, Any] | None = None,
        retry: RetryPolicy = NO_RETRY,
        timeout: float | None = None,
    ):
        if join not in ("all", "any"):
            raise WorkflowDefinitionError(f"node '{name}': join must be 'all' or 'any'")
        self.name = name
        self.label = label or name.replace("_", " ").title()
        self.reads = tuple(reads)
        self.writes = tuple(writes)
        self.join = join
        self.routes = tuple(routes)
        self.route = route
        self.defaults = dict(defaults or {})
        self.retry = retry
        self.timeout = timeout
        if bool(self.routes) != (route is not None):
            raise WorkflowDefinitionError(f"node '{name}': give both routes and route, or neither")

    async def run(self, state: Mapping[str, Any], ctx: NodeContext) -> dict[str, Any]:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class FunctionNode(Node):
    """A node around a plain function ``fn(state) -> dict`` (sync or async)."""

    def __init__(self, name: str, fn: Callable[[Mapping[str, Any]], Any], **kwargs: Any):
        super().__init__(name, **kwargs)
        self.fn = fn

    async def run(self, state: Mapping[str, Any], ctx: NodeContext) -> dict[str, Any]:
        ctx.record_inputs(**{key: state.get(key) for key in self.reads})
        result = self.fn(state)
        if isinstance(result, Awaitable):
            result = await result
        return result or {}


class Router(FunctionNode):
    """A node that only decides where to go next: ``decide(state)`` returns a route label."""

    kind = "router"

    def __init__(
        self,
        name: str,
        decide: Callable[[Mapping[str, Any]], str],
        *,
        routes: Iterable[str],
        **kwargs: Any,
    ):
        super().__init__(name, lambda state: {}, routes=routes, route=decide, **kwargs)


class Merge(FunctionNode):
    """Write the first present value of ``candidates`` to ``output`` (an any-of join)."""

    kind = "merge"

    def __init__(self, name: str, candidates: Iterable[str], output: str, **kwargs: Any):
        self.candidates = tuple(candidates)

        def first_available(state: Mapping[str, Any]) -> dict[str, Any]:
            for key in self.candidates:
                if state.get(key) is not None:
                    return {output: state[key]}
            raise ValueError(f"none of {', '.join(self.candidates)} is available")

        kwargs.setdefault("join", "any")
        defaults = {key: None for key in self.candidates}
        super().__init__(
            name,
            first_available,
            reads=self.candidates,
            writes=(output,),
            defaults=defaults,
            **kwargs,
        )


# --------------------------------------------------------------------------- trace


@dataclass
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
    skip_reason: str | None = None
    usage: dict[str, Any] | None = None

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
    status: Literal["running", "completed", "failed"] = "running"
    duration_ms: float | None = None
    state: dict[str, Any] = field(default_factory=dict)
    node_runs: list[NodeRun] = field(default_factory=list)
    error: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def runs_of(self, node: str) -> list[NodeRun]:
        return [run for run in self.node_runs if run.node == node]

    def node(self, name: str) -> NodeRun | None:
        """The latest run of a node (None if it was never reached)."""
        runs = self.runs_of(name)
        return runs[-1] if runs else None

    def status_of(self, name: str) -> Status:
        run = self.node(name)
        return run.status if run else "pending"

    def to_dict(self) -> dict[str, Any]:
        data = {key: value for key, value in self.__dict__.items() if key != "node_runs"}
        data["node_runs"] = [run.to_dict() for run in self.node_runs]
        return data

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, default=str)

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(self.to_json(), encoding="utf-8")
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
        if self.status == "failed":
            raise WorkflowRunError(self.error or "the run failed", self)
        return self


Observer = Callable[[str, NodeRun, Trace], None]
"""``observer(event, node_run, trace)``; events: node_started, node_retry, node_completed,
node_skipped, node_failed, run_finished (node_run is then the last one that changed)."""


# --------------------------------------------------------------------------- graph


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    when: str | None = None
    loop_limit: int | None = None

    @property
    def is_loop(self) -> bool:
        return self.loop_limit is not None


class Workflow:
    """A graph of nodes. Build it with ``add`` and ``edge``, check it with ``validate``."""

    def __init__(self, name: str, inputs: Iterable[str]):
        self.name = name
        self.inputs = tuple(inputs)
        self.nodes: dict[str, Node] = {}
        self.edges: list[Edge] = []

    # -- building -----------------------------------------------------------------

    def add(self, node: Node) -> Node:
        if node.name in self.nodes or node.name == START:
            raise WorkflowDefinitionError(f"node '{node.name}' is defined twice")
        self.nodes[node.name] = node
        return node

    def edge(
        self, source: str, target: str, *, when: str | None = None, loop_limit: int | None = None
    ) -> Workflow:
        """Connect two nodes; ``when`` makes it conditional on a route, ``loop_limit``
        marks the edge that closes a loop and how often it may be followed."""
        self.edges.append(Edge(source, target, when, loop_limit))
        return self

    # -- checks ---------------------------------------------------------------------

    def _unknown(self, name: str) -> WorkflowDefinitionError:
        close = difflib.get_close_matches(name, list(self.nodes), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return WorkflowDefinitionError(f"edge refers to unknown node '{name}'{hint}")

    def forward_edges(self) -> list[Edge]:
        return [e for e in self.edges if not e.is_loop]

    def incoming(self, name: str) -> list[Edge]:
        return [e for e in self.forward_edges() if e.target == name]

    def outgoing(self, name: str) -> list[Edge]:
        return [e for e in self.edges if e.source == name]

    def topological_order(self) -> list[str]:
        """Nodes in dependency order (forward edges only); raises on an unbounded cycle."""
        indegree = {name: 0 for name in self.nodes}
        for e in self.forward_edges():
            if e.source != START:
                indegree[e.target] += 1
        ready = [name for name in self.nodes if indegree[name] == 0]
        order: list[str] = []
        while ready:
            name = ready.pop(0)
            order.append(name)
            for e in self.forward_edges():
                if e.source == name:
                    indegree[e.target] -= 1
                    if indegree[e.target] == 0:
                        ready.append(e.target)
        if len(order) < len(self.nodes):
            stuck = [name for name in self.nodes if name not in order]
            raise WorkflowDefinitionError(
                "unbounded cycle through " + " → ".join(stuck) + ": mark the edge that "
                "closes the loop with loop_limit=N so every run ends"
            )
        return order

    def ancestors(self, name: str) -> set[str]:
        seen: set[str] = set()
        stack = [name]
        while stack:
            for e in self.incoming(stack.pop()):
                if e.source not in seen and e.source != START:
                    seen.add(e.source)
                    stack.append(e.source)
        return seen

    def loop_body(self, loop: Edge) -> list[str]:
        """Nodes re-run when ``loop`` is followed: on forward paths from its target to its
        source, inclusive, in topological order."""
        reach_from_target = {loop.target}
        for name in self.topological_order():
            if any(e.source in reach_from_target for e in self.incoming(name)):
                reach_from_target.add(name)
        upstream_of_source = self.ancestors(loop.source) | {loop.source}
        body = reach_from_target & upstream_of_source
        return [name for name in self.topological_order() if name in body]

    def validate(self) -> Workflow:
        """Check the graph before running it. Each problem gets a message that names it."""
        for e in self.edges:
            for end in (e.source, e.target):
                if end != START and end not in self.nodes:
                    raise self._unknown(end)
            if e.target == START:
                raise WorkflowDefinitionError("no edge may lead into START")
            if e.when is not None:
                routes = (self.nodes[e.source].routes) if e.source in self.nodes else ()
                if e.when not in routes:
                    raise WorkflowDefinitionError(
                        f"edge {e.source} → {e.target}: route '{e.when}' is not one of "
                        f"{e.source}'s routes {list(routes) or '(it does not route)'}"
                    )
            if e.is_loop and (e.loop_limit is None or e.loop_limit < 1):
                raise WorkflowDefinitionError(
                    f"loop {e.source} → {e.target}: loop_limit must be 1 or more"
                )
        order = self.topological_order()
        for name, node in self.nodes.items():
            if not self.incoming(name):
                raise WorkflowDefinitionError(
                    f"unreachable node '{name}': nothing leads to it "
                    f"(add wf.edge(START, '{name}') or an edge from another node)"
                )
            for route in node.routes:
                if not any(e.source == name and e.when == route for e in self.edges):
                    raise WorkflowDefinitionError(
                        f"route '{route}' of node '{name}' leads nowhere: add an edge with "
                        f"when='{route}'"
                    )
            if node.routes and any(e.when is None for e in self.outgoing(name)):
                raise WorkflowDefinitionError(
                    f"node '{name}' routes, so each of its edges needs when=<route>"
                )
        for e in self.edges:
            if e.is_loop and e.target not in self.ancestors(e.source) | {e.source}:
                raise WorkflowDefinitionError(
                    f"loop {e.source} → {e.target}: {e.target} does not lead to {e.source}, "
                    "so this edge closes no loop"
                )
        for name in order:
            node = self.nodes[name]
            upstream = self.ancestors(name)
            produced = set(self.inputs)
            for other in upstream:
                produced.update(self.nodes[other].writes)
            for key in node.reads:
                writers = [n for n, other in self.nodes.items() if key in other.writes]
                # A read with a default is optional (a loop or a branch may provide it);
                # a read without one must be produced upstream of the node.
                if key in produced or key in node.defaults:
                    continue
                if writers:
                    raise WorkflowDefinitionError(
                        f"node '{name}' reads '{key}', which only {', '.join(writers)} "
                        f"write(s), and none of them runs before '{name}': add an edge"
                    )
                raise WorkflowDefinitionError(
                    f"node '{name}' reads '{key}', but no node produces it and it is not a "
                    f"workflow input ({', '.join(self.inputs)})"
                )
        return self

    def describe(self) -> dict[str, Any]:
        """The graph as plain data, for drawings and traces."""
        return {
            "name": self.name,
            "inputs": list(self.inputs),
            "nodes": [
                {
                    "name": node.name,
                    "label": node.label,
                    "kind": node.kind,
                    "join": node.join,
                    "routes": list(node.routes),
                    "reads": list(node.reads),
                    "writes": list(node.writes),
                }
                for node in self.nodes.values()
            ],
            "edges": [
                {"source": e.source, "target": e.target, "when": e.when, "loop_limit": e.loop_limit}
                for e in self.edges
                if e.source != START
            ],
        }

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        """In a notebook, a workflow shows itself as its drawing."""
        from .draw import DagDiagram

        return DagDiagram(self.describe())._repr_mimebundle_(include, exclude)

    # -- running ------------------------------------------------------------------

    async def arun(
        self,
        inputs: Mapping[str, Any],
        *,
        deps: Any = None,
        observers: Iterable[Observer] = (),
        run_id: str | None = None,
        check: bool = True,
    ) -> Trace:
        """Run the workflow once and return its trace.

        With ``check=True`` a failed run raises :class:`WorkflowRunError` (its ``.trace``
        still holds everything); with ``check=False`` the failed trace is returned.
        """
        self.validate()
        missing = [key for key in self.inputs if key not in inputs]
        if missing:
            raise ValueError(f"workflow '{self.name}' needs inputs: {', '.join(missing)}")
        trace = Trace(
            run_id=run_id or f"run-{uuid.uuid4().hex[:12]}",
            workflow=self.name,
            started_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            inputs=dict(inputs),
            graph=self.describe(),
        )
        await _Run(self, trace, deps, list(observers)).execute()
        if check:
            trace.raise_for_status()
        return trace


# --------------------------------------------------------------------------- scheduler

EdgeState = Literal["live", "dead"]


class _Run:
    """The scheduler for one run. It keeps a decision (live/dead) per forward edge and
    re-examines waiting nodes whenever something finishes."""

    def __init__(self, wf: Workflow, trace: Trace, deps: Any, observers: list[Observer]):
        self.wf = wf
        self.trace = trace
        self.deps = deps
        self.observers = observers
        self.state: dict[str, Any] = dict(trace.inputs)
        self.status: dict[str, Status] = {name: "pending" for name in wf.nodes}
        self.edge_state: dict[Edge, EdgeState] = {
            e: "live" for e in wf.forward_edges() if e.source == START
        }
        self.loops = [e for e in wf.edges if e.is_loop]
        self.loop_bodies = {loop: set(wf.loop_body(loop)) for loop in self.loops}
        self.loop_count = dict.fromkeys(self.loops, 0)
        self.loop_settled = dict.fromkeys(self.loops, False)
        self.forced: set[str] = set()
        self.order = wf.topological_order()
        self.incoming = {name: wf.incoming(name) for name in wf.nodes}
        self.tasks: dict[asyncio.Task[dict[str, Any]], NodeRun] = {}
        self.clock_start = time.perf_counter()

    def now_ms(self) -> float:
        return round((time.perf_counter() - self.clock_start) * 1000, 1)

    def emit(self, event: str, run: NodeRun) -> None:
        for observer in self.observers:
            try:
                observer(event, run, self.trace)
            except Exception as exc:  # a broken display must not break the workflow
                self.trace.meta.setdefault("observer_errors", []).append(repr(exc))

    # -- deciding -------------------------------------------------------------------

    def _edge_decision(self, e: Edge) -> EdgeState | None:
        """An edge leaving a loop body counts as undecided until the loop has settled:
        the body may run again and take it after all."""
        for loop, body in self.loop_bodies.items():
            if e.source in body and e.target not in body and not self.loop_settled[loop]:
                return None
        return self.edge_state.get(e)

    def decide(self, name: str) -> Literal["run", "skip"] | None:
        if name in self.forced:
            return "run"
        decisions = [self._edge_decision(e) for e in self.incoming[name]]
        if self.wf.nodes[name].join == "any":
            if "live" in decisions:
                return "run"
            return "skip" if all(d == "dead" for d in decisions) else None
        if None in decisions:
            return None
        return "run" if "live" in decisions else "skip"

    def settle(self) -> None:
        """Start or skip every node that can be decided now, until nothing changes."""
        changed = True
        while changed:
            changed = False
            for name in self.order:
                if self.status[name] != "pending":
                    continue
                decision = self.decide(name)
                if decision == "run":
                    self.start(name)
                    changed = True
                elif decision == "skip":
                    self.skip(name)
                    changed = True

    def skip(self, name: str) -> None:
        node = self.wf.nodes[name]
        sources = [e.source for e in self.incoming[name]]
        reason = "no live input: " + ", ".join(
            f"{s} was skipped" if self.status.get(s) == "skipped" else f"{s} took another route"
            for s in sources
        )
        run = NodeRun(name, node.kind, "skipped", iteration=self._iteration(name))
        run.skip_reason = reason
        self.status[name] = "skipped"
        self.trace.node_runs.append(run)
        self.emit("node_skipped", run)
        self.resolve_outgoing(name, route=None, skipped=True)

    def _iteration(self, name: str) -> int:
        return len([r for r in self.trace.runs_of(name) if r.status != "skipped"])

    def start(self, name: str) -> None:
        node = self.wf.nodes[name]
        self.forced.discard(name)
        run = NodeRun(name, node.kind, "running", iteration=self._iteration(name))
        run.start_ms = self.now_ms()
        self.status[name] = "running"
        self.trace.node_runs.append(run)
        self.emit("node_started", run)
        task = asyncio.ensure_future(self.attempt_node(node, run))
        self.tasks[task] = run

    def resolve_outgoing(self, name: str, route: str | None, skipped: bool = False) -> None:
        for e in self.wf.outgoing(name):
            taken = not skipped and (e.when is None or e.when == route)
            if e.is_loop:
                if taken:
                    self.follow_loop(e)
                else:
                    self.loop_settled[e] = True
            else:
                self.edge_state[e] = "live" if taken else "dead"

    def follow_loop(self, loop: Edge) -> None:
        if self.loop_count[loop] >= (loop.loop_limit or 0):
            raise NodeError(
                loop.source,
                f"the loop {loop.source} → {loop.target} reached its limit of "
                f"{loop.loop_limit} and was asked to go round again; a route must leave the "
                "loop before then",
            )
        self.loop_count[loop] += 1
        body = self.loop_bodies[loop]
        for name in body:
            self.status[name] = "pending"
        for e in list(self.edge_state):
            if e.source in body:
                del self.edge_state[e]
        self.forced.add(loop.target)

    # -- executing ----------------------------------------------------------------

    def node_view(self, node: Node) -> dict[str, Any]:
        """The state a node sees: its defaults under the real values."""
        view = {**node.defaults, **self.state}
        missing = [key for key in node.reads if key not in view]
        if missing:
            raise NodeError(
                node.name,
                f"needs {', '.join(missing)}, which no node produced on this path "
                "(was the producer skipped? give the node a default for it)",
            )
        return view

    async def attempt_node(self, node: Node, run: NodeRun) -> dict[str, Any]:
        """Run one node under its retry policy and timeout."""
        ctx = NodeContext(run, self.deps, self.trace.run_id, self.clock_start)
        view = self.node_view(node)
        while True:
            run.attempts += 1
            try:
                call = node.run(view, ctx)
                result = await (asyncio.wait_for(call, node.timeout) if node.timeout else call)
                break
            except (RetryableError, TimeoutError, asyncio.TimeoutError) as exc:
                message = _describe(exc, node.timeout)
                run.attempt_errors.append(message)
                if run.attempts >= node.retry.max_attempts:
                    tries = f" (after {run.attempts} attempts)" if run.attempts > 1 else ""
                    raise NodeError(node.name, message + tries) from exc
                self.emit("node_retry", run)
                await asyncio.sleep(node.retry.delay(run.attempts))
            except NodeError:
                raise
            except Exception as exc:
                raise NodeError(node.name, _describe(exc, node.timeout)) from exc
        unexpected = set(result) - set(node.writes)
        if unexpected:
            raise NodeError(
                node.name, f"returned keys it does not declare in writes: {sorted(unexpected)}"
            )
        return result

    def finish(self, run: NodeRun, result: dict[str, Any]) -> None:
        node = self.wf.nodes[run.node]
        self.state.update(result)
        run.output = result
        run.end_ms = self.now_ms()
        route = None
        if node.route is not None:
            route = node.route({**node.defaults, **self.state})
            if route not in node.routes:
                raise NodeError(node.name, f"chose route '{route}', not one of {node.routes}")
            run.route = route
        run.status = "completed"
        self.status[node.name] = "completed"
        self.emit("node_completed", run)
        self.resolve_outgoing(node.name, route)

    def fail(self, run: NodeRun, error: BaseException) -> None:
        run.status = "failed"
        run.end_ms = self.now_ms()
        run.error = str(getattr(error, "cause", error))
        self.status[run.node] = "failed"
        self.emit("node_failed", run)
        if self.trace.error is None:
            self.trace.error = str(error)

    async def execute(self) -> None:
        try:
            self.settle()
            while self.tasks and self.trace.error is None:
                done, _ = await asyncio.wait(self.tasks, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    run = self.tasks.pop(task)
                    try:
                        self.finish(run, task.result())
                    except Exception as exc:
                        self.fail(run, exc)
                if self.trace.error is None:
                    self.settle()
        except Exception as exc:  # a scheduling error (e.g. loop limit) ends the run
            self.trace.error = self.trace.error or str(exc)
        finally:
            await self.cancel_running()
        self.trace.state = dict(self.state)
        self.trace.duration_ms = self.now_ms()
        self.trace.status = "failed" if self.trace.error else "completed"
        if self.trace.node_runs:
            self.emit("run_finished", self.trace.node_runs[-1])

    async def cancel_running(self) -> None:
        for task, run in self.tasks.items():
            task.cancel()
            run.status = "failed"
            run.end_ms = self.now_ms()
            run.error = "cancelled: the run stopped because another node failed"
            self.status[run.node] = "failed"
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)
        self.tasks.clear()


def _describe(exc: BaseException, timeout: float | None) -> str:
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)) and not str(exc):
        return f"timed out after {timeout} s" if timeout else "timed out"
    text = str(exc) or type(exc).__name__
    return text if isinstance(exc, (RetryableError, NodeError)) else f"{type(exc).__name__}: {text}"
