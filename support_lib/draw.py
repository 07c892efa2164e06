"""Pictures of a workflow: a layered DAG diagram, a Mermaid flowchart and a Gantt timeline.

Everything here reads two plain dicts: ``graph`` (``Workflow.describe()``: nodes and edges)
and, optionally, ``trace`` (``Trace.to_dict()``: one entry per node run). The layout is
computed in pure Python (standard library only), so the pictures work in any notebook
without graphviz or matplotlib, and you can read how a layered ("Sugiyama") drawing is
made: layers, then order within layers, then x positions, then SVG.

Determinism contract (notebooks are checked with nbval, so outputs must be stable):

* Same input, byte-identical output: no random ids, no dates, no run ids, no ``id=``
  attributes at all (arrowheads are plain polygons), coordinates rounded to 0.1.
* Durations are only ever written as ``412 ms`` or ``1.2 s`` (number, space, unit), so a
  sanitizer such as ``r"\\d+(\\.\\d+)? m?s\\b"`` can neutralise them.
* In ``timeline_svg`` the only time-dependent geometry is on the bars, always written as
  ``<rect class="sktl-bar ..." x="..." width="..." ...>`` (in that order), e.g.
  ``re.sub(r'(class="sktl-bar[^"]*" x=")[^"]*(" width=")[^"]*', r"\\1X\\2W", svg)``.
  Axis ticks sit at fixed fractions of the axis, so only their labels (durations) move.
  Which bars are outlined as the critical path can change if timings reorder: the outline
  is only `` sktl-critical`` in the bar's class plus ``stroke="#111" stroke-width="1.5"``
  as its last attributes, so a sanitizer can drop both (notebooks/nbval_sanitize.cfg does).
* ``text/plain`` reprs never mention times or run ids.

All text is XML-escaped; nothing from node inputs or outputs is ever drawn. Class names
are prefixed (``skdag-``, ``sktl-``) and all styling is inline attributes, so several
SVGs can share one page and the files render standalone.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Graph = dict[str, Any]
Trace = dict[str, Any]

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
# kind -> (tag, accent colour, light fill). Unknown kinds are drawn as "function".
KINDS = {
    "llm": ("LLM", "#7e57c2", "#f1ebfa"),
    "http": ("HTTP", "#1e88e5", "#e5f0fc"),
    "router": ("ROUTER", "#e65100", "#fff0de"),
    "merge": ("MERGE", "#00897b", "#dff3f0"),
    "function": ("FN", "#546e7a", "#edf1f3"),
}
# status -> (fill, stroke, stroke width, dash pattern, text opacity)
STATUSES = {
    "completed": ("#dcf2e0", "#2e7d32", 1.6, "", 1.0),
    "running": ("#fff3c4", "#e09b00", 3.2, "", 1.0),
    "failed": ("#fde0dc", "#c62828", 2.2, "", 1.0),
    "skipped": ("#f2f2f2", "#9e9e9e", 1.2, "5 4", 0.45),
    "pending": ("#ffffff", "#9e9e9e", 1.2, "", 1.0),
}
INK, INK2, ROUTE_INK = "#1f2328", "#57606a", "#8a3a00"
BOX_W, BOX_H, DUMMY_W = 184.0, 60.0, 8.0  # node box; the width a passing edge reserves
GAP, LAYER_GAP, MARGIN, TOP = 30.0, 52.0, 24.0, 64.0
HALO = {"stroke": "#fff", "stroke_width": 4, "paint_order": "stroke"}  # readable on lines
FIT = 'style="max-width: 100%; height: auto"'  # shrink to a narrow notebook column
BOLD, MIDDLE, END = {"font_weight": 700}, {"text_anchor": "middle"}, {"text_anchor": "end"}


# --------------------------------------------------------------------------- small helpers

_XML_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _esc(text: object) -> str:
    """XML-escape text (labels may hold <, & or quotes) and drop characters XML forbids."""
    return html.escape(_XML_FORBIDDEN.sub("", str(text)), quote=True)


def _num(value: float) -> str:
    """Round to 0.1 and drop a trailing '.0': stable, compact numbers."""
    text = f"{value:.1f}".removesuffix(".0")
    return "0" if text == "-0" else text


def _el(tag: str, text: str | None = None, **attrs: Any) -> str:
    """One SVG element; ``class_`` -> ``class``, ``stroke_width`` -> ``stroke-width``.
    Attributes keep the order given (deterministic output); None and "" are left out."""
    parts = [tag]
    for key, value in attrs.items():
        if value is not None and value != "":
            shown = _num(value) if isinstance(value, (int, float)) else _esc(value)
            parts.append(f'{key.rstrip("_").replace("_", "-")}="{shown}"')
    head = " ".join(parts)
    return f"<{head}/>" if text is None else f"<{head}>{_esc(text)}</{tag}>"


def _text(x: float, y: float, text: str, size: float = 11, fill: str = "#333", **kw: Any) -> str:
    return _el("text", text, x=x, y=y, fill=fill, font_size=size, **kw)


def _d(*parts: str | float) -> str:
    """Path data from commands and numbers: ``_d("M", 0, 1.25, "H", 5)`` -> ``M0 1.2H5``."""
    out = ""
    for part in parts:
        if isinstance(part, str):
            out += part
        else:
            out += ("" if out[-1:].isalpha() else " ") + _num(part)
    return out


def _mean(values: list[float], default: float) -> float:
    return sum(values) / len(values) if values else default


def _points(*xy: float) -> str:
    return " ".join(f"{_num(a)},{_num(b)}" for a, b in zip(xy[::2], xy[1::2], strict=True))


def _svg_open(cls: str, width: float, height: float, title: str) -> list[str]:
    """Root element (standalone-valid: xmlns, viewBox, size), a tooltip and a white page."""
    w, h = _num(width), _num(height)
    size = f'width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="{FONT}"'
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{cls}" {size} role="img" {FIT}>',
        _el("title", title),
        _el("rect", width=width, height=height, fill="#fff"),
    ]


def format_duration(ms: float) -> str:
    """``412 ms`` below a second, else ``1.2 s``: the only two forms notebooks sanitize."""
    return f"{round(ms)} ms" if ms < 999.5 else f"{ms / 1000:.1f} s"


def _wrap(text: str, width: int = 22, max_lines: int = 2) -> list[str]:
    """Greedy word wrap; overlong words and a third line are cut with an ellipsis."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    if len(lines) > max_lines:
        lines = lines[: max_lines - 1] + [" ".join(lines[max_lines - 1 :])]
    return [ln if len(ln) <= width else ln[: width - 1].rstrip() + "…" for ln in lines] or [""]


def _as_dict(obj: Any, method: str) -> dict[str, Any]:
    """Accept the plain dict, or an engine object offering ``describe()``/``to_dict()``."""
    return getattr(obj, method)() if hasattr(obj, method) else obj


def _kind(node: dict[str, Any] | None) -> str:
    return node.get("kind") if node and node.get("kind") in KINDS else "function"


def _graph_parts(graph: Graph) -> tuple[list[dict], list[dict]]:
    """Nodes (unique names, in graph order) and the edges whose two ends exist."""
    nodes: dict[str, dict] = {}
    for node in graph.get("nodes", []):
        nodes.setdefault(node.get("name"), node)
    nodes.pop(None, None)
    edges = [e for e in graph.get("edges", []) if e["source"] in nodes and e["target"] in nodes]
    return list(nodes.values()), edges


def _loop_label(edge: dict) -> str:
    limit = edge.get("loop_limit")
    parts = (edge.get("when"), f"retry ≤{limit}" if limit is not None else "")
    return " · ".join(p for p in parts if p)


@dataclass
class NodeState:
    """What a trace says about one node: last status, how often it ran, total time."""

    status: str = "pending"
    runs: int = 0  # entries that were not skipped
    completed: bool = False  # completed at least once (a loop may end with a skip)
    total_ms: float | None = None
    routes: set[str] = field(default_factory=set)  # routes it chose, if the trace says


def node_states(trace: Trace | None) -> dict[str, NodeState]:
    """Fold node runs into one state per node; the LAST entry decides the status, except
    that a skip after earlier runs (a loop that ended) keeps the node's last real status."""
    states: dict[str, NodeState] = {}
    for run in (trace or {}).get("node_runs", []):
        state = states.setdefault(run.get("node"), NodeState())
        status = run.get("status") if run.get("status") in STATUSES else "pending"
        if not (status == "skipped" and state.runs):
            state.status = status
        state.runs += run.get("status") != "skipped"
        state.completed = state.completed or run.get("status") == "completed"
        if run.get("route"):
            state.routes.add(run["route"])
        if run.get("duration_ms") is not None:
            state.total_ms = (state.total_ms or 0.0) + run["duration_ms"]
    return states


# --------------------------------------------------------------------------- layout


@dataclass
class _Slot:
    """A place in a layer: a node box, or a dummy point that a long edge passes through."""

    key: str
    layer: int
    width: float
    x: float = 0.0  # centre


@dataclass
class _Layout:
    slots: dict[str, _Slot]
    rows: list[list[str]]  # slot keys per layer, left to right
    chains: list[tuple[str, str, list[str], list[str]]]  # source, target, whens, slot keys
    back_edges: list[dict]  # loop edges: drawn up the side

    def top(self, layer: int) -> float:
        return TOP + layer * (BOX_H + LAYER_GAP)


def _layers(names: list[str], edges: list[dict]) -> dict[str, int]:
    """Longest-path layering: a node sits one layer below its deepest predecessor."""
    preds: dict[str, list[str]] = {n: [] for n in names}
    for edge in edges:
        preds[edge["target"]].append(edge["source"])
    layer: dict[str, int] = {}
    while len(layer) < len(names):
        ready = [n for n in names if n not in layer and all(p in layer for p in preds[n])]
        if not ready:  # an unbounded cycle: break it at the first unplaced node
            ready = [next(n for n in names if n not in layer)]
        for name in ready:
            layer[name] = max((layer[p] + 1 for p in preds[name] if p in layer), default=0)
    return layer


def _crossings(rows: list[list[str]], down: dict[str, list[str]]) -> int:
    """Edge crossings between adjacent layers (small graphs: the O(E²) way is fine)."""
    total = 0
    for upper, lower in zip(rows, rows[1:], strict=False):
        pos = {k: i for i, k in enumerate(lower)}
        pairs = [(i, pos[t]) for i, k in enumerate(upper) for t in down[k] if t in pos]
        total += sum(1 for a in pairs for b in pairs if a[0] < b[0] and a[1] > b[1])
    return total


def _order(rows: list[list[str]], up: dict, down: dict, sweeps: int = 6) -> list[list[str]]:
    """Barycenter heuristic: sort each layer by the mean position of its neighbours,
    sweeping down then up; keep the ordering with fewest crossings. Sorting is stable,
    so ties keep the graph's node order."""
    best, best_cost = [r[:] for r in rows], _crossings(rows, down)
    pos = {k: i for row in rows for i, k in enumerate(row)}
    for sweep in range(sweeps):
        downward = sweep % 2 == 0
        nbrs = up if downward else down
        for li in range(1, len(rows)) if downward else range(len(rows) - 2, -1, -1):
            rows[li].sort(key=lambda k: _mean([pos[n] for n in nbrs[k]], pos[k]))
            pos.update({k: i for i, k in enumerate(rows[li])})
        cost = _crossings(rows, down)
        if cost < best_cost:
            best, best_cost = [r[:] for r in rows], cost
    return best


def _loop_to_side(rows: list[list[str]], edge: dict, down: dict) -> list[list[str]]:
    """A loop edge runs up the side of the picture, so move its two ends to the outside
    of their layers (the side costing fewer crossings): then it crosses no box."""
    options = []
    for side in (1, -1):  # right first: ties go right
        moved = [row[:] for row in rows]
        for row in moved:
            for name in (edge["source"], edge["target"]):
                if name in row:
                    row.remove(name)
                    row.insert(len(row) if side > 0 else 0, name)
        options.append((_crossings(moved, down), -side, moved))
    return min(options, key=lambda o: o[:2])[2]


def _pack(row: list[str], slots: dict[str, _Slot], desired: list[float]) -> None:
    """Put a layer's slots as close as possible (least squares) to the desired centres,
    keeping their order and GAP between them. This is isotonic regression by "pooling
    adjacent violators": neighbours that would overlap are moved as one block."""
    offsets = [0.0]
    for a, b in zip(row, row[1:], strict=False):
        offsets.append(offsets[-1] + (slots[a].width + slots[b].width) / 2 + GAP)
    blocks: list[list[float]] = []  # [sum, count] of pooled targets
    for want, off in zip(desired, offsets, strict=False):  # an empty row has one offset
        blocks.append([want - off, 1])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            total, count = blocks.pop()
            blocks[-1][0] += total
            blocks[-1][1] += count
    i = 0
    for total, count in blocks:
        for _ in range(int(count)):
            slots[row[i]].x = total / count + offsets[i]
            i += 1


def _layout(nodes: list[dict], edges: list[dict]) -> _Layout:
    """Layers, dummy slots for long edges, order within layers, then x positions."""
    names = [n["name"] for n in nodes]
    layer = _layers(names, [e for e in edges if e.get("loop_limit") is None])
    forward = [e for e in edges if layer[e["target"]] > layer[e["source"]]]
    forward = [e for e in forward if e.get("loop_limit") is None]
    slots = {n: _Slot(n, layer[n], BOX_W) for n in names}
    rank = {n: (i, 0, 0) for i, n in enumerate(names)}  # initial order: the graph's
    grouped: dict[tuple[str, str], list[str]] = {}  # parallel edges share one drawn path
    for e in forward:
        grouped.setdefault((e["source"], e["target"]), []).append(e.get("when") or "")
    chains = []
    for (src, tgt), whens in grouped.items():
        keys = [src]
        for li in range(layer[src] + 1, layer[tgt]):
            keys.append(f"{src}->{tgt}#{li}")
            slots[keys[-1]] = _Slot(keys[-1], li, DUMMY_W)
            rank[keys[-1]] = (names.index(src), 1, names.index(tgt))
        chains.append((src, tgt, [w for w in whens if w], keys + [tgt]))
    up: dict[str, list[str]] = {k: [] for k in slots}
    down: dict[str, list[str]] = {k: [] for k in slots}
    for *_, keys in chains:
        for a, b in zip(keys, keys[1:], strict=False):
            down[a].append(b)
            up[b].append(a)
    rows: list[list[str]] = [[] for _ in range(max(layer.values(), default=0) + 1)]
    for key in sorted(slots, key=rank.__getitem__):
        rows[slots[key].layer].append(key)
    rows = _order(rows, up, down)
    back = [e for e in edges if e not in forward]
    for edge in back:
        rows = _loop_to_side(rows, edge, down)
    for row in rows:
        _pack(row, slots, [0.0] * len(row))
    for sweep in range(8):  # pull slots towards their neighbours, alternating direction
        nbrs = up if sweep % 2 == 0 else down
        for row in rows if sweep % 2 == 0 else rows[::-1]:
            mean = [
                sum(slots[n].x for n in nbrs[k]) / len(nbrs[k]) if nbrs[k] else slots[k].x
                for k in row
            ]
            _pack(row, slots, mean)
    return _Layout(slots, rows, chains, back)


# --------------------------------------------------------------------------- DAG drawing


def _shape(kind: str, x: float, y: float, w: float, h: float, **style: Any) -> str:
    """Outlines tell kinds apart even without colour: router = hexagon, merge = pill,
    LLM = rounded box, HTTP/function = square-cornered box."""
    if kind == "router":
        i, m = 14.0, y + h / 2
        pts = _points(x + i, y, x + w - i, y, x + w, m, x + w - i, y + h, x + i, y + h, x, m)
        return _el("polygon", points=pts, **style)
    radius = {"merge": h / 2, "llm": 12.0}.get(kind, 3.0)
    return _el("rect", x=x, y=y, width=w, height=h, rx=radius, **style)


def _badge(x: float, y: float, text: str, cls: str | None = "skdag-join") -> list[str]:
    """The small ALL/ANY pill: how a node with several inputs waits for them."""
    box = _el("rect", class_=cls, x=x, y=y, width=34, height=15, rx=7.5, fill="#fff", stroke="#444")
    return [box, _text(x + 17, y + 11, text, 9, "#222", font_weight=700, text_anchor="middle")]


def _run_info(state: NodeState) -> list[str]:
    """Total time (or 'running'/'skipped') and ×N for a node that ran N > 1 times."""
    info = [format_duration(state.total_ms)] if state.total_ms is not None else []
    info = info or ([state.status] if state.status in ("running", "skipped") else [])
    return info + ([f"×{state.runs}"] if state.runs > 1 else [])


def _node_svg(node: dict, x: float, top: float, state: NodeState | None, inputs: int) -> list:
    """One node: outline, kind tag, wrapped label, run info (time, ×N) and join badge."""
    kind, name = _kind(node), node["name"]
    tag, accent, light = KINDS[kind]
    left, right, bottom = x - BOX_W / 2, x + BOX_W / 2, top + BOX_H
    look = (light, accent, 1.6, "", 1.0) if state is None else STATUSES[state.status]
    fill, stroke, width, dash, opacity = look
    fade = opacity if opacity < 1 else None
    label = str(node.get("label") or name)
    cls = f"skdag-node skdag-kind-{kind}" + (f" skdag-{state.status}" if state else "")
    tip = f"{label} ({name}) · {kind}" + (f" · {state.status}" if state else "")
    style = {"fill": fill, "stroke": stroke, "stroke_width": width, "stroke_dasharray": dash}
    out = [f'<g class="{cls}" data-node="{_esc(name)}">', _el("title", tip)]
    out.append(_shape(kind, left, top, BOX_W, BOX_H, **style))
    if kind == "function":  # subroutine bars, as in flowchart notation
        bars = _d("M", left + 6, top, "V", bottom, "M", right - 6, top, "V", bottom)
        out.append(_el("path", d=bars, stroke=stroke))
    inset, pill = (17.0 if kind == "router" else 9.0), len(tag) * 6.2 + 10
    out += [
        _el(
            "rect",
            x=left + inset,
            y=top + 7,
            width=pill,
            height=14,
            rx=7,
            fill=accent,
            opacity=fade,
        ),
        _text(left + inset + pill / 2, top + 17.6, tag, 9, "#fff", **BOLD, **MIDDLE),
    ]
    if state is not None:
        info = " · ".join(_run_info(state))
        out.append(_text(right - inset, top + 18, info, 10.5, opacity=fade, **END))
    lines = _wrap(label)
    for i, line in enumerate(lines):
        y = top + (43 if len(lines) == 1 else 38 + 14.5 * i)
        out.append(_text(x, y, line, 12.5, INK, opacity=fade, font_weight=500, **MIDDLE))
    if inputs >= 2:
        out += _badge(x + 44, top - 11, "ANY" if node.get("join") == "any" else "ALL")
    return out + ["</g>"]


@dataclass
class _Stroke:
    """How an edge is drawn; fields are named like the SVG attributes they become."""

    cls: str
    stroke: str
    stroke_width: float
    stroke_dasharray: str = ""
    opacity: float | None = None

    def attrs(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if k != "cls"}


def _edge_stroke(src: str, tgt: str, states: dict | None, loop: bool, whens: list) -> _Stroke:
    """Taken edges bold green; edges touching a skipped node, or routes their source did
    not choose, faded; loops always dashed.
    An edge counts as taken when both ends ran (a loop: when its target ran again) and,
    if the trace records the routes its source chose, one of its ``when`` labels."""
    dash = "6 4" if loop else ""
    if states is not None:
        s, t = states.get(src, NodeState()), states.get(tgt, NodeState())
        routed = not (whens and s.routes) or any(w in s.routes for w in whens)
        if s.completed and routed and (t.runs > 1 if loop else t.runs > 0):
            return _Stroke("skdag-edge skdag-taken", "#2e7d32", 2.6, dash)
        if "skipped" in (s.status, t.status) or (s.completed and not routed):
            return _Stroke("skdag-edge skdag-faded", "#b8b8b8", 1.2, dash or "3 3", 0.7)
    return _Stroke("skdag-edge", "#7d8590", 1.6 if loop else 1.4, dash)


def _route_text(x: float, y: float, text: str, anchor: str, **kw: Any) -> str:
    """A route label ("billing", "retry ≤1") with a white halo, readable over lines."""
    return _text(x, y, text, 11, ROUTE_INK, text_anchor=anchor, **HALO, **kw)


def _ports(layout: _Layout) -> dict[tuple[str, int], float]:
    """Where each drawn edge leaves its source (bottom) and enters its target (top):
    spread along the border, sorted by direction, so arrows do not cross at the box."""
    groups: dict[tuple[str, str], list[tuple[float, int]]] = {}
    for i, (src, tgt, _, keys) in enumerate(layout.chains):
        groups.setdefault(("out", src), []).append((layout.slots[keys[1]].x, i))
        groups.setdefault(("in", tgt), []).append((layout.slots[keys[-2]].x, i))
    ports = {}
    for (side, node), items in groups.items():
        step = min(22.0, 72.0 / max(len(items) - 1, 1))
        for j, (_, i) in enumerate(sorted(items)):
            ports[(side, i)] = layout.slots[node].x + (j - (len(items) - 1) / 2) * step
    return ports


def _edge_svg(layout: _Layout, chain: tuple, x0: float, x1: float, stroke: _Stroke) -> tuple:
    """A forward edge: smooth vertical S-curves through its dummy slots, then an arrowhead.
    Returns (shapes, label) separately, as labels are drawn last, above everything."""
    src, tgt, whens, keys = chain
    label = " / ".join(whens)
    pts = [(x0, layout.top(layout.slots[src].layer) + BOX_H)]
    for slot in (layout.slots[k] for k in keys[1:-1]):
        pts += [(slot.x, layout.top(slot.layer)), (slot.x, layout.top(slot.layer) + BOX_H)]
    tip = layout.top(layout.slots[tgt].layer)
    pts.append((x1, tip - 7))
    d = _d("M", *pts[0])
    for (ax, ay), (bx, by) in zip(pts, pts[1:], strict=False):
        mid = (by - ay) / 2
        d += _d("L", bx, by) if ax == bx else _d("C", ax, ay + mid, bx, by - mid, bx, by)
    head = _points(x1 - 5, tip - 9, x1 + 5, tip - 9, x1, tip)
    shapes = [
        _el(
            "path", class_=stroke.cls, data_edge=f"{src}->{tgt}", d=d, fill="none", **stroke.attrs()
        ),
        _el("polygon", points=head, fill=stroke.stroke, opacity=stroke.opacity),
    ]
    if not label:
        return shapes, ""
    (ax, ay), (bx, by) = pts[0], pts[1]
    mx, my = (ax + bx) / 2, (ay + by) / 2
    if abs(bx - ax) < 30:  # (nearly) straight down: the label goes right of the line
        return shapes, _route_text(mx + 6, my + 4, label, "start", class_="skdag-when")
    # beside the middle of the S-curve, on the side the curve is not heading to
    side = 1 if bx > ax else -1
    anchor = "start" if side > 0 else "end"
    return shapes, _route_text(mx + side * 4, my - 3, label, anchor, class_="skdag-when")


@dataclass
class _Loop:
    edge: dict
    side: int  # +1 right, -1 left
    lane: float  # x of the vertical run

    def extent(self) -> float:
        return self.lane + self.side * (10 + len(_loop_label(self.edge)) * 7)


def _route_loop(layout: _Layout, edge: dict, earlier: list[_Loop]) -> _Loop:
    """A back edge runs up a side lane beyond every box in the layers it spans and
    beyond the lanes (and labels) of loops routed before it on that side."""
    s, t = layout.slots[edge["source"]], layout.slots[edge["target"]]
    lo, hi = sorted((s.layer, t.layer))
    span = [sl for sl in layout.slots.values() if lo <= sl.layer <= hi]
    row = layout.rows[s.layer]
    side = 1 if len(row) == 1 or row[0] != s.key else -1  # _loop_to_side chose an end
    edges = [sl.x + side * sl.width / 2 for sl in span]
    edges += [lp.extent() for lp in earlier if lp.side == side]
    return _Loop(edge, side, (max(edges) if side > 0 else min(edges)) + side * 28)


def _loop_svg(layout: _Layout, loop: _Loop, stroke: _Stroke) -> tuple[list[str], str]:
    """Out of the source's side, along the lane (rounded corners), into the target's side."""
    s, t = layout.slots[loop.edge["source"]], layout.slots[loop.edge["target"]]
    side, lane, r = loop.side, loop.lane, 10.0
    sx, sy = s.x + side * BOX_W / 2, layout.top(s.layer) + BOX_H / 2
    tx, ty = t.x + side * BOX_W / 2, layout.top(t.layer) + BOX_H / 2
    v = 1 if ty > sy else -1
    corner = lane - side * r
    d = _d("M", sx, sy, "H", corner, "Q", lane, sy, lane, sy + v * r, "V", ty - v * r)
    d += _d("Q", lane, ty, corner, ty, "H", tx + side * 7)
    head = _points(tx, ty, tx + side * 9, ty - 5, tx + side * 9, ty + 5)
    shapes = [
        _el("path", class_=stroke.cls + " skdag-loop", d=d, fill="none", **stroke.attrs()),
        _el("polygon", points=head, fill=stroke.stroke, opacity=stroke.opacity),
    ]
    x, y, anchor = lane + side * 6, (sy + ty) / 2 + 4, "start" if side > 0 else "end"
    cls = "skdag-when skdag-loop-label"
    return shapes, _route_text(x, y, _loop_label(loop.edge), anchor, class_=cls, font_weight=600)


LEGEND_COL = 140.0
Swatch = Callable[[float, float], list[str]]  # draws a 40×18 sample at (x, y)


def _legend(x: float, y: float, with_trace: bool) -> list[str]:
    """Rows of samples: kinds (shape + colour), edges and join badges, run statuses."""

    def shape(kind: str, fill: str, stroke: str, width: float = 1.4, dash: str = "") -> Swatch:
        style = {"fill": fill, "stroke": stroke, "stroke_width": width, "stroke_dasharray": dash}
        return lambda bx, by: [_shape(kind, bx, by, 40, 18, **style)]

    def line(stroke: _Stroke) -> Swatch:
        return lambda bx, by: [_el("path", d=_d("M", bx, by + 9, "h", 40), **stroke.attrs())]

    grey = "#7d8590"
    edges = [(line(_Stroke("", grey, 1.4)), "edge"), (line(_Stroke("", grey, 1.6, "6 4")), "loop")]
    rows = [
        ("Kinds", [(shape(k, light, accent), tag) for k, (tag, accent, light) in KINDS.items()]),
        ("Edges", edges),
    ]
    if with_trace:
        edges.insert(1, (line(_Stroke("", "#2e7d32", 2.6)), "taken"))
        edges.append((line(_Stroke("", "#b8b8b8", 1.2, "3 3")), "not taken"))
        statuses = [
            (shape("llm", f, st, min(w, 2.4), d), name)
            for name, (f, st, w, d, _) in STATUSES.items()
        ]
        rows.append(("Status", statuses))
    edges.append((lambda bx, by: _badge(bx + 3, by + 1.5, "ALL", None), "waits for all/any"))
    out: list[str] = []
    for r, (title, items) in enumerate(rows):
        ry = y + r * 26
        out.append(_text(x, ry + 13, title, 11, "#555", font_weight=700))
        for i, (swatch, text) in enumerate(items):
            bx = x + 58 + i * LEGEND_COL
            out += swatch(bx, ry) + [_text(bx + 48, ry + 13, text)]
    return out


def dag_svg(graph: Graph, trace: Trace | None = None, *, title: str | None = None) -> str:
    """The workflow as a layered top-to-bottom SVG; with a trace, coloured by run status."""
    graph = _as_dict(graph, "describe")
    trace = None if trace is None else _as_dict(trace, "to_dict")
    nodes, edges = _graph_parts(graph)
    layout = _layout(nodes, edges)
    states = node_states(trace) if trace is not None else None
    loops: list[_Loop] = []
    for edge in layout.back_edges:
        loops.append(_route_loop(layout, edge, loops))
    # centre the drawing on a page wide enough for the legend
    xs = [v for s in layout.slots.values() for v in (s.x - s.width / 2, s.x + s.width / 2)]
    xs += [lp.extent() for lp in loops] or [0.0]
    content = max(xs) - min(xs)
    width = max(content, 58 + 5 * LEGEND_COL) + 2 * MARGIN
    shift = MARGIN - min(xs) + (width - 2 * MARGIN - content) / 2
    for slot in layout.slots.values():
        slot.x += shift
    for lp in loops:
        lp.lane += shift
    bottom = layout.top(len(layout.rows)) - LAYER_GAP + 28
    height = bottom + (84 if trace is not None else 58)

    name = str(graph.get("name") or "workflow")
    sub = f"{len(nodes)} nodes · {len(edges)} edges · read top to bottom"
    if states is not None:
        status_of = [states.get(n["name"], NodeState()).status for n in nodes]
        counts = [f"{status_of.count(s)} {s}" for s in STATUSES if s in status_of]
        sub = " · ".join([f"run {trace.get('status', 'unknown')}"] + counts)
    out = _svg_open("skdag", width, height, f"Workflow {name}")
    out += [_text(MARGIN, 30, title or name, 17, INK, **BOLD), _text(MARGIN, 48, sub, 11.5, INK2)]
    ports, labels = _ports(layout), []
    for i, chain in enumerate(layout.chains):
        stroke = _edge_stroke(chain[0], chain[1], states, False, chain[2])
        shapes, label = _edge_svg(layout, chain, ports[("out", i)], ports[("in", i)], stroke)
        out, labels = out + shapes, labels + [label]
    for lp in loops:
        whens = [lp.edge["when"]] if lp.edge.get("when") else []
        stroke = _edge_stroke(lp.edge["source"], lp.edge["target"], states, True, whens)
        shapes, label = _loop_svg(layout, lp, stroke)
        out, labels = out + shapes, labels + [label]
    forward = [e for e in edges if e.get("loop_limit") is None]
    for node in nodes:
        slot = layout.slots[node["name"]]
        state = None if states is None else states.get(node["name"], NodeState())
        inputs = sum(1 for e in forward if e["target"] == node["name"])
        out += _node_svg(node, slot.x, layout.top(slot.layer), state, inputs)
    out += [t for t in labels if t] + _legend(MARGIN, bottom, trace is not None)
    return "\n".join(out + ["</svg>"]) + "\n"


# --------------------------------------------------------------------------- Mermaid

_MERMAID_SHAPES = {"router": "{{ }}", "merge": "([ ])", "llm": "( )", "http": "[ ]"}  # else [[ ]]
_MERMAID_RESERVED = {"end", "graph", "subgraph", "flowchart", "style", "class", "click"}
_MERMAID_ESCAPES = {ord(c): f"#{ord(c)};" for c in '#"<>&|`'}  # Mermaid's entity codes


def _mermaid_text(text: object) -> str:
    """Escape for a quoted Mermaid label: characters Mermaid would parse become codes."""
    text = _XML_FORBIDDEN.sub("", " ".join(str(text).split()))
    return text.translate(_MERMAID_ESCAPES)


def _mermaid_ids(names: list[str]) -> dict[str, str]:
    """Readable, unique Mermaid ids: the node name made safe (and never a keyword)."""
    ids: dict[str, str] = {}
    for name in names:
        base = re.sub(r"\W", "_", str(name)) or "node"
        base += "_" if base.lower() in _MERMAID_RESERVED else ""
        uid, n = base, 2
        while uid in ids.values():
            uid, n = f"{base}_{n}", n + 1
        ids[name] = uid
    return ids


def dag_mermaid(graph: Graph, trace: Trace | None = None) -> str:
    """The same picture as Mermaid ``flowchart TD`` text (for docs, GitHub, mermaid.live)."""
    graph = _as_dict(graph, "describe")
    states = node_states(_as_dict(trace, "to_dict")) if trace is not None else None
    nodes, edges = _graph_parts(graph)
    ids = _mermaid_ids([n["name"] for n in nodes])
    forward = [e for e in edges if e.get("loop_limit") is None]
    lines, classes = ["flowchart TD"], {}
    for node in nodes:
        kind, name = _kind(node), node["name"]
        info = [KINDS[kind][0]]
        if sum(1 for e in forward if e["target"] == name) >= 2:
            info.append(f"join {'ANY' if node.get('join') == 'any' else 'ALL'}")
        state = None if states is None else states.get(name, NodeState())
        if state is not None:
            info += _run_info(state) or [state.status]
            classes.setdefault(f"st_{state.status}", []).append(ids[name])
        classes.setdefault(f"kind_{kind}", []).append(ids[name])
        label = _mermaid_text(node.get("label") or name)
        small = _mermaid_text(" · ".join(info))
        opening, closing = _MERMAID_SHAPES.get(kind, "[[ ]]").split()
        lines.append(f'    {ids[name]}{opening}"{label}<br/><small>{small}</small>"{closing}')
    link_styles: dict[str, list[str]] = {}
    for i, edge in enumerate(edges):
        loop = edge.get("loop_limit") is not None
        text = _loop_label(edge) if loop else edge.get("when")
        arrow = ("-.->" if loop else "-->") + (f'|"{_mermaid_text(text)}"|' if text else "")
        lines.append(f"    {ids[edge['source']]} {arrow} {ids[edge['target']]}")
        whens = [edge["when"]] if edge.get("when") else []
        cls = _edge_stroke(edge["source"], edge["target"], states, loop, whens).cls
        if cls != "skdag-edge":
            style = "stroke:#2e7d32,stroke-width:3px" if "taken" in cls else "stroke:#bbbbbb"
            link_styles.setdefault(style, []).append(str(i))
    # kinds first, statuses last: the later classDef wins where both set a colour
    for kind, (_, accent, light) in KINDS.items():
        lines.append(f"    classDef kind_{kind} fill:{light},stroke:{accent},color:{INK}")
    for status, (fill, stroke, width, dash, _) in STATUSES.items():
        extra = f",stroke-dasharray:{dash},color:#888" if dash else ""
        look = f"fill:{fill},stroke:{stroke},stroke-width:{min(width, 3):g}px{extra}"
        lines.append(f"    classDef st_{status} {look}")
    lines += [f"    class {','.join(members)} {cls}" for cls, members in sorted(classes.items())]
    lines += [f"    linkStyle {','.join(idx)} {style}" for style, idx in link_styles.items()]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- timeline

TL_W, TL_ROW, TL_TOP = 900.0, 22.0, 78.0
TL_LABEL_X, TL_DUR_X, TL_AX0, TL_AX1 = 14.0, 322.0, 336.0, 876.0  # columns and time axis


def critical_path(trace: Trace, graph: Graph | None = None) -> list[tuple[str, int]]:
    """The chain of runs that set the total time, as (node, iteration), earliest first.

    Start at the run that ended last; step back to the predecessor run (of a graph
    predecessor, or any run without a graph) that ended last before it started.
    """
    trace = _as_dict(trace, "to_dict")
    runs = [r for r in trace.get("node_runs", []) if r.get("start_ms") is not None]
    now = max((r.get("end_ms") or r["start_ms"] for r in runs), default=0.0)
    end = {id(r): r["end_ms"] if r.get("end_ms") is not None else now for r in runs}
    preds: dict[str, set[str]] = {}
    for edge in _as_dict(graph, "describe").get("edges", []) if graph is not None else []:
        preds.setdefault(edge["target"], set()).add(edge["source"])
    # Ties (runs ending in the same 0.1 ms) go to the run that started later.
    latest = lambda r: (end[id(r)], r["start_ms"])  # noqa: E731
    path = [max(runs, key=latest)] if runs else []
    while path:
        current, seen = path[-1], {id(r) for r in path}
        before = [
            r
            for r in runs
            if id(r) not in seen
            and end[id(r)] <= current["start_ms"] + 0.5  # 0.5 ms of clock jitter
            and (graph is None or r["node"] in preds.get(current["node"], ()))
        ]
        if not before:
            break
        path.append(max(before, key=latest))
    return [(r["node"], r.get("iteration") or 0) for r in reversed(path)]


def _nice_axis(total_ms: float) -> float:
    """A round axis length: 4 equal steps of 1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 × 10ⁿ ms."""
    unit = 10 ** math.floor(math.log10(total_ms / 4))
    return next(
        4 * m * unit for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if 4 * m * unit >= total_ms
    )


@dataclass
class _TimeAxis:
    length_ms: float  # the axis spans 0 .. length_ms
    now_ms: float  # the latest time in the trace: where running bars stop
    critical: set[tuple[str, int]]  # (node, iteration) of the runs to outline

    def x(self, ms: float) -> float:
        return TL_AX0 + max(ms, 0.0) * (TL_AX1 - TL_AX0) / self.length_ms


def timeline_svg(trace: Trace, graph: Graph | None = None) -> str:
    """A Gantt chart of one run: one row per node run, in graph order (a stable picture).
    Without ``graph`` the trace's own ``graph`` entry is used, if it has one."""
    trace = _as_dict(trace, "to_dict")
    graph = _as_dict(graph, "describe") if graph is not None else trace.get("graph")
    nodes = {n["name"]: n for n in _graph_parts(graph)[0]} if graph else {}
    runs = trace.get("node_runs", [])
    rank = {name: i for i, name in enumerate(nodes)}
    for run in runs:  # nodes the graph does not know go last, in order of appearance
        rank.setdefault(run["node"], len(rank))
    rows = sorted(runs, key=lambda r: (rank[r["node"]], r.get("iteration") or 0))  # stable
    started = [r for r in runs if r.get("start_ms") is not None]
    now = max((r.get("end_ms") or r["start_ms"] for r in started), default=0.0)
    axis = _TimeAxis(_nice_axis(max(now, 1.0)), now, set(critical_path(trace, graph)))
    grid_bottom = TL_TOP + len(rows) * TL_ROW
    height = grid_bottom + 62
    name = str((graph or {}).get("name") or trace.get("workflow") or "run")
    skipped = sum(1 for r in runs if r.get("status") == "skipped")
    sub = f"run {trace.get('status', 'unknown')} · {len(runs)} node runs · {skipped} skipped"
    out = _svg_open("sktl", TL_W, height, f"Timeline of {name}")
    out += [
        _text(TL_LABEL_X, 28, f"Timeline · {name}", 17, INK, **BOLD),
        _text(TL_LABEL_X, 46, sub, 11.5, INK2),
        _text(TL_AX1, 28, f"total {format_duration(now)}", 14, INK, **BOLD, **END),
    ]
    for i in range(5):  # ticks at fixed fractions of the axis: only their labels change
        tx, tick = TL_AX0 + i * (TL_AX1 - TL_AX0) / 4, format_duration(axis.length_ms * i / 4)
        anchor = "start" if i == 0 else "end" if i == 4 else "middle"
        out.append(_el("path", d=_d("M", tx, TL_TOP - 6, "V", grid_bottom), stroke="#d0d7de"))
        out.append(_text(tx, TL_TOP - 10, tick, 10.5, INK2, text_anchor=anchor))
    for row, run in enumerate(rows):
        out += _timeline_row(run, nodes.get(run["node"]), row, axis)
    return "\n".join(out + _timeline_legend(grid_bottom + 22, bool(nodes)) + ["</svg>"]) + "\n"


def _timeline_row(run: dict, node: dict | None, row: int, axis: _TimeAxis) -> list[str]:
    """One row: zebra band, label, duration column, then the bar (or 'skipped')."""
    y = TL_TOP + row * TL_ROW
    status = run.get("status") if run.get("status") in STATUSES else "pending"
    iteration = run.get("iteration") or 0
    label = _wrap(str((node or {}).get("label") or run["node"]), 38, 1)[0]
    label += f" #{iteration + 1}" if iteration else ""
    out = [f'<g class="sktl-row sktl-{status}" data-run="{_esc(run["node"])}#{iteration}">']
    if row % 2 == 0:
        out.append(_el("rect", x=0, y=y, width=TL_W, height=TL_ROW, fill="#f6f8fa"))
    faded = 0.5 if status == "skipped" else None
    out.append(_text(TL_LABEL_X, y + 15, label, 12, INK, opacity=faded))
    if status == "skipped" or run.get("start_ms") is None:
        out.append(_text(TL_AX0 + 6, y + 15, status, 11, "#8c959f", font_style="italic"))
        return out + ["</g>"]
    end = run["end_ms"] if run.get("end_ms") is not None else axis.now_ms
    shown = "running" if run.get("end_ms") is None else format_duration(end - run["start_ms"])
    out.append(_text(TL_DUR_X, y + 15, shown, 11, INK2, **END))
    colour = {"failed": "#c62828", "running": "#e09b00"}.get(status)
    colour = colour or (KINDS[_kind(node)][1] if node else STATUSES[status][1])
    on_path = (run["node"], iteration) in axis.critical
    cls = f"sktl-bar sktl-{status}" + (" sktl-critical" if on_path else "")
    x0, x1 = axis.x(run["start_ms"]), axis.x(end)
    bar = {"x": x0, "width": max(x1 - x0, 12 if status == "running" else 2)}  # x, width first
    look = {"fill": colour, "fill_opacity": 0.85, "stroke_dasharray": "3 2" * (status == "running")}
    look |= {"stroke": "#111", "stroke_width": 1.5} if on_path else {}
    out.append(_el("rect", class_=cls, **bar, y=y + 4, height=TL_ROW - 8, rx=2, **look))
    return out + ["</g>"]


def _timeline_legend(y: float, by_kind: bool) -> list[str]:
    """Bar colours (by kind, or by status without a graph) and the critical-path outline."""
    items = [(a, t) for t, a, _ in KINDS.values()] if by_kind else [("#2e7d32", "completed")]
    items += [("#c62828", "failed"), ("#e09b00", "running"), ("#fff", "critical path")]
    out = []
    for i, (fill, text) in enumerate(items):
        x = TL_LABEL_X + i * 104
        outline = {"stroke": "#111", "stroke_width": 1.5} if text == "critical path" else {}
        out.append(_el("rect", x=x, y=y, width=22, height=12, rx=2, fill=fill, **outline))
        out.append(_text(x + 28, y + 10.5, text))
    return out


# --------------------------------------------------------------------------- notebook display


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

    def __init__(self, graph: Graph, trace: Trace | None = None, *, title: str | None = None):
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
        return f"<DAG {name}: {plural(len(nodes), 'node')}, {plural(len(edges), 'edge')}{run}>"

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

    def __init__(self, trace: Trace, graph: Graph | None = None):
        self.trace = _as_dict(trace, "to_dict")
        self.graph = None if graph is None else _as_dict(graph, "describe")

    @property
    def svg(self) -> str:
        return timeline_svg(self.trace, self.graph)

    def summary(self) -> str:
        runs = self.trace.get("node_runs", [])
        skipped = sum(1 for r in runs if r.get("status") == "skipped")
        graph = self.graph or self.trace.get("graph") or {}
        name = graph.get("name") or self.trace.get("workflow") or "run"
        return f"<Timeline {name}: {len(runs)} node runs, {skipped} skipped>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return _bundle({"image/svg+xml": self.svg, "text/plain": self.summary()}, include, exclude)

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        if path.suffix.lower() != ".svg":
            raise ValueError(f"cannot save a timeline as {path.suffix!r}: use .svg")
        path.write_text(self.svg, encoding="utf-8")
        return path
