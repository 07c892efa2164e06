"""Reading the two inputs: the graph dict and the trace dict, and what they say together.

Every picture starts here. ``_graph_parts`` cleans up the graph (unique node names, no
dangling edges; any keys it does not know are ignored), ``node_states`` folds a trace's
node runs into one ``NodeState`` per node, and ``_edge_stroke`` decides from those states
whether an edge was taken. The DAG drawing and the Mermaid text both use these, so they
always agree about what happened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .svg import KINDS, STATUSES, format_duration

GraphData = dict[str, Any]  # ``Workflow.describe()``: name, nodes, edges
TraceData = dict[str, Any]  # ``Trace.to_dict()``: status, node_runs (and maybe graph)


def _as_dict(obj: Any, method: str) -> dict[str, Any]:
    """Accept the plain dict, or an engine object offering ``describe()``/``to_dict()``."""
    return getattr(obj, method)() if hasattr(obj, method) else obj


def _kind(node: dict[str, Any] | None) -> str:
    """The node's kind if it is one we can draw, else "function"."""
    return node.get("kind") if node and node.get("kind") in KINDS else "function"


def _graph_parts(graph: GraphData) -> tuple[list[dict], list[dict]]:
    """Nodes (unique names, in graph order) and the edges whose two ends exist."""
    nodes: dict[str, dict] = {}
    for node in graph.get("nodes", []):
        nodes.setdefault(node.get("name"), node)
    nodes.pop(None, None)
    edges = [e for e in graph.get("edges", []) if e["source"] in nodes and e["target"] in nodes]
    return list(nodes.values()), edges


def _loop_label(edge: dict) -> str:
    """The text on a loop edge: its route and its limit, e.g. ``fail · retry ≤2``."""
    limit = edge.get("loop_limit")
    parts = (edge.get("when"), f"retry ≤{limit}" if limit is not None else "")
    return " · ".join(p for p in parts if p)


@dataclass
class NodeState:
    """What a trace says about one node: last status, how often it ran, total time, and
    how long people took to answer it (a node that asked a person and was resumed)."""

    status: str = "pending"
    runs: int = 0  # entries that were not skipped (nor a question to a person)
    completed: bool = False  # completed at least once (a loop may end with a skip)
    total_ms: float | None = None
    routes: set[str] = field(default_factory=set)  # routes it chose, if the trace says
    waits: int = 0  # how often it asked a person (``ctx.interrupt``)
    waited_ms: float | None = None  # from each question to the next record's start


def _answers(runs: list[dict]) -> dict[int, dict | None]:
    """Each waiting record (by position in ``runs``) and the node's next record that
    started: the person answered in between. None while the person has not answered."""
    pairs: dict[int, dict | None] = {}
    asked: dict[Any, int] = {}  # node -> its unanswered waiting record
    for i, run in enumerate(runs):
        node = run.get("node")
        if node in asked and run.get("start_ms") is not None:
            pairs[asked.pop(node)] = run
        if run.get("status") == "waiting":
            asked[node], pairs[i] = i, None
    return pairs


def _person_ms(wait: dict, answer: dict | None) -> float | None:
    """How long a person took: from the question (the waiting record's end) to the
    answered record's start; None while they have not answered."""
    asked, answered = wait.get("end_ms"), (answer or {}).get("start_ms")
    return None if asked is None or answered is None else max(answered - asked, 0.0)


def node_states(trace: TraceData | None) -> dict[str, NodeState]:
    """Fold node runs into one state per node; the LAST entry decides the status, except
    that a skip after earlier runs (a loop that ended) keeps the node's last real status.
    A "waiting" record (the node asked a person) is not counted as a run: when the run is
    resumed, the node's next record is; the time between the two is the person's."""
    states: dict[str, NodeState] = {}
    runs = (trace or {}).get("node_runs", [])
    for run in runs:
        state = states.setdefault(run.get("node"), NodeState())
        status = run.get("status") if run.get("status") in STATUSES else "pending"
        if not (status == "skipped" and state.runs):
            state.status = status
        state.runs += run.get("status") not in ("skipped", "waiting")
        state.completed = state.completed or run.get("status") == "completed"
        if run.get("route"):
            state.routes.add(run["route"])
        if run.get("duration_ms") is not None:
            state.total_ms = (state.total_ms or 0.0) + run["duration_ms"]
    for i, answer in _answers(runs).items():
        state, gap = states[runs[i].get("node")], _person_ms(runs[i], answer)
        state.waits += 1
        state.waited_ms = state.waited_ms if gap is None else (state.waited_ms or 0.0) + gap
    return states


def _run_info(state: NodeState) -> list[str]:
    """Total time (or 'running'/'skipped'), the people's time if it asked and was
    answered, and ×N for a node that ran N > 1 times."""
    info = [format_duration(state.total_ms)] if state.total_ms is not None else []
    info = info or ([state.status] if state.status in ("running", "skipped") else [])
    if state.waited_ms is not None and state.status != "waiting":
        info.append(f"waited {format_duration(state.waited_ms)}")
    return info + ([f"×{state.runs}"] if state.runs > 1 else [])


def waiting_nodes(states: dict[str, NodeState] | None) -> list[str]:
    """The nodes whose latest record says they wait for a person, in trace order."""
    return [name for name, state in (states or {}).items() if state.status == "waiting"]


@dataclass
class _Stroke:
    """How an edge is drawn; fields are named like the SVG attributes they become."""

    cls: str
    stroke: str
    stroke_width: float
    stroke_dasharray: str = ""
    opacity: float | None = None

    def attrs(self) -> dict[str, Any]:
        """The SVG attributes (everything but the class), in field order."""
        return {k: v for k, v in vars(self).items() if k != "cls"}


def _edge_stroke(src: str, tgt: str, states: dict | None, loop: bool, whens: list) -> _Stroke:
    """Taken edges bold green; edges touching a skipped node, or routes their source did
    not choose, faded; loops always dashed.
    An edge counts as taken when both ends ran (a loop: when its target ran again; a
    target waiting for a person counts as running) and, if the trace records the routes
    its source chose, one of its ``when`` labels."""
    dash = "6 4" if loop else ""
    if states is not None:
        s, t = states.get(src, NodeState()), states.get(tgt, NodeState())
        routed = not (whens and s.routes) or any(w in s.routes for w in whens)
        reached = t.runs + (t.status == "waiting")
        if s.completed and routed and reached > (1 if loop else 0):
            return _Stroke("skdag-edge skdag-taken", "#2e7d32", 2.6, dash)
        if "skipped" in (s.status, t.status) or (s.completed and not routed):
            return _Stroke("skdag-edge skdag-faded", "#b8b8b8", 1.2, dash or "3 3", 0.7)
    return _Stroke("skdag-edge", "#7d8590", 1.6 if loop else 1.4, dash)
