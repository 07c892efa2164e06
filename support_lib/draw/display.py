"""Notebook display objects: a value that Jupyter shows as a picture when it is the last
expression of a cell.

Jupyter calls ``_repr_mimebundle_`` and picks the richest format it can show (SVG, or
Mermaid text); the ``text/plain`` fallback never mentions times or run ids, so notebook
outputs stay stable (it does name a node that waits for a person). Each object also
saves itself to a file (``.svg``, or ``.md``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .dag import dag_svg
from .mermaid import dag_mermaid
from .model import GraphData, TraceData, _as_dict, _graph_parts, node_states, waiting_nodes
from .timeline import timeline_svg


def _waiting(trace: TraceData | None) -> str:
    """``, approval_gate waits for a person`` when nodes do (their latest record says so)."""
    names = waiting_nodes(node_states(trace)) if trace is not None else []
    verb = "waits" if len(names) == 1 else "wait"
    return f", {', '.join(map(str, names))} {verb} for a person" if names else ""


def _bundle(data: dict[str, str], include: Any, exclude: Any) -> dict[str, str]:
    """Honour the mime-type filters IPython may pass to ``_repr_mimebundle_``."""
    data = {k: v for k, v in data.items() if not include or k in include}
    return {k: v for k, v in data.items() if not exclude or k not in exclude}


class MermaidText:
    """Mermaid source as a display object (drawn where a Mermaid renderer exists)."""

    def __init__(self, text: str):
        self.text = text

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return _bundle({"text/vnd.mermaid": self.text, "text/plain": self.text}, include, exclude)


class DagDiagram:
    """A workflow drawing for Jupyter: shows as SVG; saves as .svg, or .md (Mermaid)."""

    def __init__(
        self, graph: GraphData, trace: TraceData | None = None, *, title: str | None = None
    ):
        self.graph = _as_dict(graph, "describe")
        self.trace = None if trace is None else _as_dict(trace, "to_dict")
        self.title = title

    @property
    def svg(self) -> str:
        return dag_svg(self.graph, self.trace, title=self.title)

    @property
    def mermaid(self) -> str:
        return dag_mermaid(self.graph, self.trace)

    def as_mermaid(self) -> MermaidText:
        return MermaidText(self.mermaid)

    def summary(self) -> str:
        """One line without times or ids (so notebook outputs stay stable)."""
        nodes, edges = _graph_parts(self.graph)
        name = self.graph.get("name") or "workflow"
        run = "" if self.trace is None else f", run {self.trace.get('status', 'unknown')}"
        plural = lambda n, word: f"{n} {word}{'' if n == 1 else 's'}"  # noqa: E731
        sizes = f"{plural(len(nodes), 'node')}, {plural(len(edges), 'edge')}"
        return f"<DAG {name}: {sizes}{run}{_waiting(self.trace)}>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return _bundle({"image/svg+xml": self.svg, "text/plain": self.summary()}, include, exclude)

    def save(self, path: str | Path) -> Path:
        """Write ``.svg``, or ``.md`` (a fenced mermaid block), chosen by the suffix."""
        path = Path(path)
        if path.suffix.lower() not in (".svg", ".md"):
            raise ValueError(f"cannot save a diagram as {path.suffix!r}: use .svg or .md")
        text = self.svg if path.suffix.lower() == ".svg" else f"```mermaid\n{self.mermaid}```\n"
        path.write_text(text, encoding="utf-8")
        return path


class Timeline:
    """A run's Gantt chart for Jupyter: shows as SVG, saves as .svg."""

    def __init__(self, trace: TraceData, graph: GraphData | None = None):
        self.trace = _as_dict(trace, "to_dict")
        self.graph = None if graph is None else _as_dict(graph, "describe")

    @property
    def svg(self) -> str:
        return timeline_svg(self.trace, self.graph)

    def summary(self) -> str:
        """One line without times or ids (so notebook outputs stay stable)."""
        runs = self.trace.get("node_runs", [])
        skipped = sum(1 for r in runs if r.get("status") == "skipped")
        graph = self.graph or self.trace.get("graph") or {}
        name = graph.get("name") or self.trace.get("workflow") or "run"
        return f"<Timeline {name}: {len(runs)} node runs, {skipped} skipped{_waiting(self.trace)}>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return _bundle({"image/svg+xml": self.svg, "text/plain": self.summary()}, include, exclude)

    def save(self, path: str | Path) -> Path:
        """Write the SVG; any suffix other than ``.svg`` is refused."""
        path = Path(path)
        if path.suffix.lower() != ".svg":
            raise ValueError(f"cannot save a timeline as {path.suffix!r}: use .svg")
        path.write_text(self.svg, encoding="utf-8")
        return path
