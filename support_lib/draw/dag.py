"""The workflow as a picture: ``dag_svg`` draws the layout from ``layout.py`` as SVG.

Drawing order matters in SVG (later is on top), so ``dag_svg`` draws the title, then
every edge (forward edges as S-curves, loop edges up a side lane), then the node boxes,
then the edge labels (above everything, so they stay readable), then the legend. With a
trace, each node and edge is coloured by what happened in that run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .layout import BOX_H, BOX_W, LAYER_GAP, _Layout, _layout
from .model import (
    GraphData,
    NodeState,
    TraceData,
    _as_dict,
    _edge_stroke,
    _graph_parts,
    _kind,
    _loop_label,
    _run_info,
    _Stroke,
    node_states,
    waiting_nodes,
)
from .svg import (
    BOLD,
    END,
    HALO,
    INK,
    INK2,
    KINDS,
    MIDDLE,
    PERSON_INK,
    ROUTE_INK,
    STATUSES,
    WAITING_NOTE,
    _d,
    _el,
    _esc,
    _points,
    _svg_open,
    _text,
    _wrap,
)

MARGIN = 24.0  # page margin
LEGEND_COL = 140.0  # width of one legend entry
Swatch = Callable[[float, float], list[str]]  # draws a 40×18 sample at (x, y)
LegendRows = list[tuple[str, list[tuple[Swatch, str]]]]  # title, then (sample, caption)s
Look = tuple[str, str, float, str, float]  # fill, stroke, stroke width, dash, text opacity


# --------------------------------------------------------------------------- nodes


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
    box = _el("rect", class_=cls, x=x, y=y, width=38, height=16, rx=8, fill="#fff", stroke="#444")
    return [box, _text(x + 19, y + 12.2, text, 11, "#222", font_weight=700, text_anchor="middle")]


def _node_look(kind: str, state: NodeState | None) -> Look:
    """Without a trace a node wears its kind's colours; with one, its status colours."""
    _, accent, light = KINDS[kind]
    return (light, accent, 1.6, "", 1.0) if state is None else STATUSES[state.status]


def _node_outline(kind: str, x: float, top: float, look: Look) -> list[str]:
    """The box in the kind's shape; a function also gets the two subroutine bars."""
    fill, stroke, width, dash, _ = look
    left, right, bottom = x - BOX_W / 2, x + BOX_W / 2, top + BOX_H
    style = {"fill": fill, "stroke": stroke, "stroke_width": width, "stroke_dasharray": dash}
    out = [_shape(kind, left, top, BOX_W, BOX_H, **style)]
    if kind == "function":  # subroutine bars, as in flowchart notation
        bars = _d("M", left + 6, top, "V", bottom, "M", right - 6, top, "V", bottom)
        out.append(_el("path", d=bars, stroke=stroke))
    return out


def _waiting_note(right: float, y: float, room: float) -> list[str]:
    """ "waiting for a person" (just "waiting" if ``room`` is short), right-aligned at
    ``right``, and after it a pause sign: two drawn bars, as not every font has ⏸."""
    text = WAITING_NOTE if room >= 130 else WAITING_NOTE.split()[0]
    bar = {"y": y - 8, "width": 2.4, "height": 9, "fill": PERSON_INK}
    return [
        '<g class="skdag-waiting-note">',
        _text(right - 10, y, text, 11, PERSON_INK, font_weight=600, **END),
        _el("rect", x=right - 6.4, **bar),
        _el("rect", x=right - 2.4, **bar),
        "</g>",
    ]


def _node_texts(
    kind: str, label: str, x: float, top: float, state: NodeState | None, fade: float | None
) -> list[str]:
    """Kind tag (top left), run info (top right, with a trace; for a node waiting for a
    person, a note saying so instead) and the wrapped label."""
    tag, accent, _ = KINDS[kind]
    left, right = x - BOX_W / 2, x + BOX_W / 2
    inset, pill = (17.0 if kind == "router" else 9.0), len(tag) * 7.4 + 10
    pill_box = {"x": left + inset, "y": top + 6, "width": pill, "height": 16, "rx": 8}
    out = [
        _el("rect", **pill_box, fill=accent, opacity=fade),
        _text(left + inset + pill / 2, top + 18, tag, 11, "#fff", **BOLD, **MIDDLE),
    ]
    if state is not None and state.status == "waiting":
        out += _waiting_note(right - inset, top + 18, BOX_W - 2 * inset - pill - 6)
    elif state is not None:
        info = " · ".join(_run_info(state))
        out.append(_text(right - inset, top + 18, info, 11, opacity=fade, **END))
    lines = _wrap(label)
    for i, line in enumerate(lines):
        y = top + (43 if len(lines) == 1 else 38 + 14.5 * i)
        out.append(_text(x, y, line, 12.5, INK, opacity=fade, font_weight=500, **MIDDLE))
    return out


def _node_svg(node: dict, x: float, top: float, state: NodeState | None, inputs: int) -> list:
    """One node: outline, kind tag, wrapped label, run info (time, ×N) and join badge."""
    kind, name = _kind(node), node["name"]
    look = _node_look(kind, state)
    fade = look[4] if look[4] < 1 else None  # skipped nodes: faded text
    label = str(node.get("label") or name)
    cls = f"skdag-node skdag-kind-{kind}" + (f" skdag-{state.status}" if state else "")
    tip = f"{label} ({name}) · {kind}" + (f" · {state.status}" if state else "")
    tip += " for a person" if state and state.status == "waiting" else ""
    out = [f'<g class="{cls}" data-node="{_esc(name)}">', _el("title", tip)]
    out += _node_outline(kind, x, top, look)
    out += _node_texts(kind, label, x, top, state, fade)
    if inputs >= 2:
        out += _badge(x + 44, top - 11, "ANY" if node.get("join") == "any" else "ALL")
    return out + ["</g>"]


# --------------------------------------------------------------------------- forward edges


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


def _edge_label(pts: list[tuple[float, float]], label: str) -> str:
    """Place a route label by the edge's first segment (out of its source)."""
    (ax, ay), (bx, by) = pts[0], pts[1]
    mx, my = (ax + bx) / 2, (ay + by) / 2
    if abs(bx - ax) < 30:  # (nearly) straight down: the label goes right of the line
        return _route_text(mx + 6, my + 4, label, "start", class_="skdag-when")
    # beside the middle of the S-curve, on the side the curve is not heading to
    side = 1 if bx > ax else -1
    anchor = "start" if side > 0 else "end"
    return _route_text(mx + side * 4, my - 3, label, anchor, class_="skdag-when")


def _edge_svg(layout: _Layout, chain: tuple, x0: float, x1: float, stroke: _Stroke) -> tuple:
    """A forward edge: smooth vertical S-curves through its dummy slots, then an arrowhead.
    Returns (shapes, label) separately, as labels are drawn last, above everything."""
    src, tgt, whens, keys = chain
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
    edge = {"class_": stroke.cls, "data_edge": f"{src}->{tgt}", "d": d, "fill": "none"}
    shapes = [
        _el("path", **edge, **stroke.attrs()),
        _el("polygon", points=head, fill=stroke.stroke, opacity=stroke.opacity),
    ]
    label = " / ".join(whens)
    return shapes, _edge_label(pts, label) if label else ""


# --------------------------------------------------------------------------- loop edges


@dataclass
class _Loop:
    """A loop (back) edge and the side lane it runs up."""

    edge: dict
    side: int  # +1 right, -1 left
    lane: float  # x of the vertical run

    def extent(self) -> float:
        """How far out the loop reaches, its label included."""
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


# --------------------------------------------------------------------------- legend


def _shape_swatch(kind: str, fill: str, stroke: str, width: float = 1.4, dash: str = "") -> Swatch:
    style = {"fill": fill, "stroke": stroke, "stroke_width": width, "stroke_dasharray": dash}
    return lambda bx, by: [_shape(kind, bx, by, 40, 18, **style)]


def _line_swatch(stroke: _Stroke) -> Swatch:
    return lambda bx, by: [_el("path", d=_d("M", bx, by + 9, "h", 40), **stroke.attrs())]


def _legend_rows(with_trace: bool, waiting: bool = False) -> LegendRows:
    """The legend's rows: kinds (shape + colour), edges and join badges, run statuses
    ("waiting" only when a node waits for a person)."""
    grey = "#7d8590"
    kinds = [(_shape_swatch(k, light, accent), tag) for k, (tag, accent, light) in KINDS.items()]
    edges = [(_line_swatch(_Stroke("", grey, 1.4)), "edge")]
    if with_trace:
        edges.append((_line_swatch(_Stroke("", "#2e7d32", 2.6)), "taken"))
    edges.append((_line_swatch(_Stroke("", grey, 1.6, "6 4")), "loop"))
    if with_trace:
        edges.append((_line_swatch(_Stroke("", "#b8b8b8", 1.2, "3 3")), "not taken"))
    edges.append((lambda bx, by: _badge(bx + 3, by + 1.5, "ALL", None), "waits for all/any"))
    rows = [("Kinds", kinds), ("Edges", edges)]
    if with_trace:
        statuses = [
            (_shape_swatch("llm", f, st, min(w, 2.4), d), name)
            for name, (f, st, w, d, _) in STATUSES.items()
            if name != "waiting" or waiting
        ]
        rows.append(("Status", statuses))
    return rows


def _legend(x: float, y: float, rows: LegendRows) -> list[str]:
    """One row per group: its title, then samples with their captions."""
    out: list[str] = []
    for r, (title, items) in enumerate(rows):
        ry = y + r * 26
        out.append(_text(x, ry + 13, title, 11, "#555", font_weight=700))
        for i, (swatch, text) in enumerate(items):
            bx = x + 58 + i * LEGEND_COL
            out += swatch(bx, ry) + [_text(bx + 48, ry + 13, text)]
    return out


# --------------------------------------------------------------------------- the page


def _centre_on_page(layout: _Layout, loops: list[_Loop], legend: LegendRows) -> float:
    """Centre the drawing on a page wide enough for the legend; returns the page width."""
    xs = [v for s in layout.slots.values() for v in (s.x - s.width / 2, s.x + s.width / 2)]
    xs += [lp.extent() for lp in loops] or [0.0]
    content = max(xs) - min(xs)
    columns = max([5] + [len(items) for _, items in legend])
    width = max(content, 58 + columns * LEGEND_COL) + 2 * MARGIN
    shift = MARGIN - min(xs) + (width - 2 * MARGIN - content) / 2
    for slot in layout.slots.values():
        slot.x += shift
    for lp in loops:
        lp.lane += shift
    return width


def _subtitle(nodes: list, edges: list, trace: TraceData | None, states: dict | None) -> str:
    """Sizes of the graph; with a trace, the run's status and how many nodes ended how."""
    if states is None:
        return f"{len(nodes)} nodes · {len(edges)} edges · read top to bottom"
    status_of = [states.get(n["name"], NodeState()).status for n in nodes]
    counts = [f"{status_of.count(s)} {s}" for s in STATUSES if s in status_of]
    return " · ".join([f"run {trace.get('status', 'unknown')}"] + counts)


def _edges_svg(layout: _Layout, loops: list[_Loop], states: dict | None) -> tuple[list, list]:
    """Every edge's shapes, and their labels (drawn later, on top), forward edges first."""
    ports, shapes, labels = _ports(layout), [], []
    for i, chain in enumerate(layout.chains):
        stroke = _edge_stroke(chain[0], chain[1], states, False, chain[2])
        drawn, label = _edge_svg(layout, chain, ports[("out", i)], ports[("in", i)], stroke)
        shapes, labels = shapes + drawn, labels + [label]
    for lp in loops:
        whens = [lp.edge["when"]] if lp.edge.get("when") else []
        stroke = _edge_stroke(lp.edge["source"], lp.edge["target"], states, True, whens)
        drawn, label = _loop_svg(layout, lp, stroke)
        shapes, labels = shapes + drawn, labels + [label]
    return shapes, [t for t in labels if t]


def _nodes_svg(layout: _Layout, nodes: list, edges: list, states: dict | None) -> list[str]:
    """Every node box, in graph order, with a join badge where 2+ forward edges enter."""
    forward = [e for e in edges if e.get("loop_limit") is None]
    out = []
    for node in nodes:
        slot = layout.slots[node["name"]]
        state = None if states is None else states.get(node["name"], NodeState())
        inputs = sum(1 for e in forward if e["target"] == node["name"])
        out += _node_svg(node, slot.x, layout.top(slot.layer), state, inputs)
    return out


def dag_svg(graph: GraphData, trace: TraceData | None = None, *, title: str | None = None) -> str:
    """The workflow as a layered top-to-bottom SVG; with a trace, coloured by run status."""
    graph = _as_dict(graph, "describe")
    trace = None if trace is None else _as_dict(trace, "to_dict")
    nodes, edges = _graph_parts(graph)
    layout = _layout(nodes, edges)
    states = node_states(trace) if trace is not None else None
    loops: list[_Loop] = []
    for edge in layout.back_edges:
        loops.append(_route_loop(layout, edge, loops))
    legend = _legend_rows(trace is not None, bool(waiting_nodes(states)))
    width = _centre_on_page(layout, loops, legend)
    bottom = layout.top(len(layout.rows)) - LAYER_GAP + 28
    height = bottom + (84 if trace is not None else 58)
    name = str(graph.get("name") or "workflow")
    sub = _subtitle(nodes, edges, trace, states)
    out = _svg_open("skdag", width, height, f"Workflow {name}")
    out += [_text(MARGIN, 30, title or name, 17, INK, **BOLD), _text(MARGIN, 48, sub, 11.5, INK2)]
    shapes, labels = _edges_svg(layout, loops, states)
    out += shapes + _nodes_svg(layout, nodes, edges, states) + labels
    out += _legend(MARGIN, bottom, legend)
    return "\n".join(out + ["</svg>"]) + "\n"
