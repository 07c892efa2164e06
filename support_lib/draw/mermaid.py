"""The same picture as Mermaid ``flowchart TD`` text, for docs, GitHub and mermaid.live.

Mermaid does its own layout, so this module only writes text: one line per node (its
shape shows its kind), one per edge (dotted for loops), then ``classDef``/``class``
lines for colours and ``linkStyle`` lines for taken and faded edges. Labels are escaped
with Mermaid's ``#code;`` entities, and node ids are made safe from the node names.
"""

from __future__ import annotations

import re

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
    node_states,
)
from .svg import _XML_FORBIDDEN, INK, KINDS, STATUSES, WAITING_NOTE

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


def _mermaid_nodes(
    nodes: list[dict], edges: list[dict], ids: dict[str, str], states: dict | None
) -> tuple[list[str], dict[str, list[str]]]:
    """One line per node (label, then kind, join and run info in small print), and the
    members of each ``kind_*`` / ``st_*`` class."""
    forward = [e for e in edges if e.get("loop_limit") is None]
    lines, classes = [], {}
    for node in nodes:
        kind, name = _kind(node), node["name"]
        info = [KINDS[kind][0]]
        if sum(1 for e in forward if e["target"] == name) >= 2:
            info.append(f"join {'ANY' if node.get('join') == 'any' else 'ALL'}")
        state = None if states is None else states.get(name, NodeState())
        if state is not None:
            info += _run_info(state) or [state.status]
            info += [f"⏸ {WAITING_NOTE}"] if state.status == "waiting" else []
            classes.setdefault(f"st_{state.status}", []).append(ids[name])
        classes.setdefault(f"kind_{kind}", []).append(ids[name])
        label = _mermaid_text(node.get("label") or name)
        small = _mermaid_text(" · ".join(info))
        opening, closing = _MERMAID_SHAPES.get(kind, "[[ ]]").split()
        lines.append(f'    {ids[name]}{opening}"{label}<br/><small>{small}</small>"{closing}')
    return lines, classes


def _mermaid_edges(
    edges: list[dict], ids: dict[str, str], states: dict | None
) -> tuple[list[str], dict[str, list[str]]]:
    """One line per edge (loops dotted, labelled with their route), and the indexes of
    the edges to restyle: taken ones green, faded ones grey."""
    lines, link_styles = [], {}
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
    return lines, link_styles


def _mermaid_class_defs(used: set[str]) -> list[str]:
    """Colours per kind, then per status: the later classDef wins where both set one.
    ``st_waiting`` is only defined when a node waits for a person (it is in ``used``)."""
    lines = []
    for kind, (_, accent, light) in KINDS.items():
        lines.append(f"    classDef kind_{kind} fill:{light},stroke:{accent},color:{INK}")
    for status, (fill, stroke, width, dash, fade) in STATUSES.items():
        if status == "waiting" and f"st_{status}" not in used:
            continue
        extra = f",stroke-dasharray:{dash}" * bool(dash) + ",color:#888" * (fade < 1)
        look = f"fill:{fill},stroke:{stroke},stroke-width:{min(width, 3):g}px{extra}"
        lines.append(f"    classDef st_{status} {look}")
    return lines


def dag_mermaid(graph: GraphData, trace: TraceData | None = None) -> str:
    """The same picture as Mermaid ``flowchart TD`` text (for docs, GitHub, mermaid.live)."""
    graph = _as_dict(graph, "describe")
    states = node_states(_as_dict(trace, "to_dict")) if trace is not None else None
    nodes, edges = _graph_parts(graph)
    ids = _mermaid_ids([n["name"] for n in nodes])
    node_lines, classes = _mermaid_nodes(nodes, edges, ids, states)
    edge_lines, link_styles = _mermaid_edges(edges, ids, states)
    lines = ["flowchart TD", *node_lines, *edge_lines, *_mermaid_class_defs(set(classes))]
    lines += [f"    class {','.join(members)} {cls}" for cls, members in sorted(classes.items())]
    lines += [f"    linkStyle {','.join(idx)} {style}" for style, idx in link_styles.items()]
    return "\n".join(lines) + "\n"
