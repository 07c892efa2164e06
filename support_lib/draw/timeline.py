"""A run as a Gantt chart: ``timeline_svg`` draws one row per node run on a time axis.

Rows follow the graph's node order (not start order), so two runs of the same workflow
give the same picture apart from the bars' geometry and the durations, which the
determinism contract keeps in fixed, sanitizable places. ``critical_path`` finds the
chain of runs that set the total time; its bars are outlined.

A node that asked a person (``ctx.interrupt``) has a "waiting" record; when the run is
resumed, the node's next record starts once the person answered. The time between the
two gets a row of its own, right under the waiting record: a dashed "person" bar.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .model import GraphData, TraceData, _answers, _as_dict, _graph_parts, _kind, _person_ms
from .svg import (
    BOLD,
    END,
    INK,
    INK2,
    KINDS,
    PERSON_INK,
    STATUSES,
    _d,
    _el,
    _esc,
    _svg_open,
    _text,
    _wrap,
    format_duration,
)

TL_W, TL_ROW, TL_TOP = 900.0, 22.0, 78.0
TL_LABEL_X, TL_DUR_X, TL_AX0, TL_AX1 = 14.0, 322.0, 336.0, 876.0  # columns and time axis
WAIT_FILL = "#90caf9"  # a waiting record's bar
PERSON_LOOK = {"fill": "#e3f2fd", "stroke": PERSON_INK, "stroke_width": 1.2}
PERSON_LOOK |= {"stroke_dasharray": "4 3"}  # the person's time: a dashed, pale bar


def critical_path(trace: TraceData, graph: GraphData | None = None) -> list[tuple[str, int]]:
    """The chain of runs that set the total time, as (node, iteration), earliest first.

    Start at the run that ended last; step back to the predecessor run (of a graph
    predecessor, or any run without a graph) that ended last before it started. A run
    that carried on after a person answered also counts its node's waiting record as a
    predecessor, so a person who took long is on the path.
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
            and (
                graph is None
                or r["node"] in preds.get(current["node"], ())
                or (r["node"] == current["node"] and r.get("status") == "waiting")
            )
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
    """The time scale of one chart, and which runs to outline as critical."""

    length_ms: float  # the axis spans 0 .. length_ms
    now_ms: float  # the latest time in the trace: where running bars stop
    critical: set[tuple[str, int]]  # (node, iteration) of the runs to outline

    def x(self, ms: float) -> float:
        """The x of a time on the axis (times before 0 are drawn at 0)."""
        return TL_AX0 + max(ms, 0.0) * (TL_AX1 - TL_AX0) / self.length_ms


def _time_axis(trace: TraceData, graph: GraphData | None) -> _TimeAxis:
    """A round axis long enough for every run that started, and the critical path."""
    started = [r for r in trace.get("node_runs", []) if r.get("start_ms") is not None]
    now = max((r.get("end_ms") or r["start_ms"] for r in started), default=0.0)
    return _TimeAxis(_nice_axis(max(now, 1.0)), now, set(critical_path(trace, graph)))


@dataclass
class _Person:
    """A row for a person's part: from a node's question to the node carrying on."""

    wait: dict  # the node's waiting record
    answer: dict | None  # its next record; None while nobody has answered


def _sorted_runs(runs: list[dict], nodes: dict[str, dict]) -> list[dict | _Person]:
    """Runs in graph node order, then by iteration; nodes the graph does not know go
    last, in order of appearance. The sort is stable, so the picture is too. Under each
    waiting record that has its end time comes a row for the person's time."""
    rank = {name: i for i, name in enumerate(nodes)}
    for run in runs:
        rank.setdefault(run["node"], len(rank))
    answers = {id(runs[i]): answer for i, answer in _answers(runs).items()}
    rows: list[dict | _Person] = []
    for run in sorted(runs, key=lambda r: (rank[r["node"]], r.get("iteration") or 0)):
        rows.append(run)
        if id(run) in answers and run.get("end_ms") is not None:
            rows.append(_Person(run, answers[id(run)]))
    return rows


def _people_note(runs: list[dict]) -> str:
    """For the summary line: how long people took to answer, and whether one still has
    to (empty when no node asked a person)."""
    gaps = [_person_ms(runs[i], answer) for i, answer in _answers(runs).items()]
    answered = [g for g in gaps if g is not None]
    note = f" · people answered in {format_duration(sum(answered))}" if answered else ""
    return note + (" · waiting for a person" if None in gaps else "")


def _timeline_head(name: str, trace: TraceData, axis: _TimeAxis, grid_bottom: float) -> list:
    """Title, a one-line summary, the total time, and the axis ticks with their grid lines.
    Ticks sit at fixed fractions of the axis: only their labels change between runs."""
    runs = trace.get("node_runs", [])
    skipped = sum(1 for r in runs if r.get("status") == "skipped")
    sub = f"run {trace.get('status', 'unknown')} · {len(runs)} node runs · {skipped} skipped"
    sub += _people_note(runs)
    out = [
        _text(TL_LABEL_X, 28, f"Timeline · {name}", 17, INK, **BOLD),
        _text(TL_LABEL_X, 46, sub, 11.5, INK2),
        _text(TL_AX1, 28, f"total {format_duration(axis.now_ms)}", 14, INK, **BOLD, **END),
    ]
    for i in range(5):
        tx, tick = TL_AX0 + i * (TL_AX1 - TL_AX0) / 4, format_duration(axis.length_ms * i / 4)
        anchor = "start" if i == 0 else "end" if i == 4 else "middle"
        out.append(_el("path", d=_d("M", tx, TL_TOP - 6, "V", grid_bottom), stroke="#d0d7de"))
        out.append(_text(tx, TL_TOP - 10, tick, 11, INK2, text_anchor=anchor))
    return out


def timeline_svg(trace: TraceData, graph: GraphData | None = None) -> str:
    """A Gantt chart of one run: one row per node run, in graph order (a stable picture).
    Without ``graph`` the trace's own ``graph`` entry is used, if it has one."""
    trace = _as_dict(trace, "to_dict")
    graph = _as_dict(graph, "describe") if graph is not None else trace.get("graph")
    nodes = {n["name"]: n for n in _graph_parts(graph)[0]} if graph else {}
    rows = _sorted_runs(trace.get("node_runs", []), nodes)
    axis = _time_axis(trace, graph)
    grid_bottom = TL_TOP + len(rows) * TL_ROW
    name = str((graph or {}).get("name") or trace.get("workflow") or "run")
    people = any(isinstance(row, _Person) for row in rows)
    out = _svg_open("sktl", TL_W, grid_bottom + 62 + 20 * people, f"Timeline of {name}")
    out += _timeline_head(name, trace, axis, grid_bottom)
    for i, row in enumerate(rows):
        if isinstance(row, _Person):
            out += _person_row(row, nodes.get(row.wait["node"]), i, axis)
        else:
            out += _timeline_row(row, nodes.get(row["node"]), i, axis)
    legend = _timeline_legend(grid_bottom + 22, bool(nodes), people)
    return "\n".join(out + legend + ["</svg>"]) + "\n"


def _timeline_bar(run: dict, node: dict | None, status: str, y: float, axis: _TimeAxis) -> list:
    """The duration column and the bar: coloured by kind (failed red, running amber,
    dashed, waiting for a person light blue), outlined when on the critical path. Bars
    always start ``class x width``."""
    end = run["end_ms"] if run.get("end_ms") is not None else axis.now_ms
    shown = "running" if run.get("end_ms") is None else format_duration(end - run["start_ms"])
    colour = {"failed": "#c62828", "running": "#e09b00", "waiting": WAIT_FILL}.get(status)
    colour = colour or (KINDS[_kind(node)][1] if node else STATUSES[status][1])
    on_path = (run["node"], run.get("iteration") or 0) in axis.critical
    cls = f"sktl-bar sktl-{status}" + (" sktl-critical" if on_path else "")
    x0, x1 = axis.x(run["start_ms"]), axis.x(end)
    least = {"running": 12, "waiting": 6}.get(status, 2)
    bar = {"x": x0, "width": max(x1 - x0, least)}  # x, width first
    look = {"fill": colour, "fill_opacity": 0.85, "stroke_dasharray": "3 2" * (status == "running")}
    look |= {"stroke": "#111", "stroke_width": 1.5} if on_path else {}
    return [
        _text(TL_DUR_X, y + 15, shown, 11, INK2, **END),
        _el("rect", class_=cls, **bar, y=y + 4, height=TL_ROW - 8, rx=2, **look),
    ]


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
    else:
        out += _timeline_bar(run, node, status, y, axis)
    return out + ["</g>"]


def _person_row(person: _Person, node: dict | None, row: int, axis: _TimeAxis) -> list[str]:
    """The person's time under a waiting record: from the question to the answer (or, not
    answered yet, a short bar at the end). Its bar has no critical-path outline."""
    y, wait = TL_TOP + row * TL_ROW, person.wait
    gap = _person_ms(wait, person.answer)
    ref = f"{_esc(wait['node'])}#{wait.get('iteration') or 0}"
    out = [f'<g class="sktl-row sktl-person" data-person="{ref}">']
    if row % 2 == 0:
        out.append(_el("rect", x=0, y=y, width=TL_W, height=TL_ROW, fill="#f6f8fa"))
    label = "↳ a person answered" if gap is not None else "↳ waiting for a person"
    out.append(_text(TL_LABEL_X + 12, y + 15, label, 12, PERSON_INK, font_style="italic"))
    shown = "waiting" if gap is None else format_duration(gap)
    out.append(_text(TL_DUR_X, y + 15, shown, 11, PERSON_INK, **END))
    x0 = axis.x(wait["end_ms"])
    x1 = axis.x(wait["end_ms"] + gap) if gap is not None else x0
    bar = {"x": x0, "width": max(x1 - x0, 2 if gap is not None else 12)}  # x, width first
    look = {"y": y + 4, "height": TL_ROW - 8, "rx": 2, **PERSON_LOOK}
    return out + [_el("rect", class_="sktl-bar sktl-person", **bar, **look), "</g>"]


def _timeline_legend(y: float, by_kind: bool, people: bool = False) -> list[str]:
    """Bar colours (by kind, or by status without a graph) and the critical-path outline;
    a second line for a person's part when a node asked one."""
    items = [(a, t) for t, a, _ in KINDS.values()] if by_kind else [("#2e7d32", "completed")]
    items += [("#c62828", "failed"), ("#e09b00", "running"), ("#fff", "critical path")]
    out = []
    for i, (fill, text) in enumerate(items):
        x = TL_LABEL_X + i * 104
        outline = {"stroke": "#111", "stroke_width": 1.5} if text == "critical path" else {}
        out.append(_el("rect", x=x, y=y, width=22, height=12, rx=2, fill=fill, **outline))
        out.append(_text(x + 28, y + 10.5, text))
    if people:
        person = {"x": TL_LABEL_X + 104, "y": y + 20, "width": 22, "height": 12, "rx": 2}
        out += [
            _el("rect", x=TL_LABEL_X, y=y + 20, width=22, height=12, rx=2, fill=WAIT_FILL),
            _text(TL_LABEL_X + 28, y + 30.5, "waiting"),
            _el("rect", **person, **PERSON_LOOK),
            _text(TL_LABEL_X + 132, y + 30.5, "a person's time (from question to answer)"),
        ]
    return out
