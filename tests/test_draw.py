"""Tests for support_lib.draw: determinism, valid XML, content, escaping, layout sanity.

Set ``DRAW_ARTIFACTS=1`` to also write the pictures to tests/artifacts/ for a visual check.
"""

from __future__ import annotations

import copy
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from support_lib import draw

SVG = "{http://www.w3.org/2000/svg}"
ARTIFACTS = Path(__file__).parent / "artifacts"

NODES = [
    ("extract_customer_info", "Extract Customer Information", "llm", "all", []),
    ("classify_inquiry", "Classify Inquiry Type", "llm", "all", []),
    ("analyze_sentiment", "Analyze Customer Sentiment", "llm", "all", []),
    ("check_billing", "Check if Billing Inquiry", "router", "all", ["billing", "default"]),
    ("fetch_account_status", "Fetch Account Status", "http", "all", []),
    ("analyze_account_status", "Analyze Account Status", "llm", "all", []),
    (
        "check_escalation",
        "Check Escalation Criteria",
        "llm",
        "any",
        ["escalate", "generate_response"],
    ),
    ("escalate_to_human", "Escalate to Human Agent", "http", "all", []),
    ("compose_acknowledgement", "Compose Acknowledgement", "function", "all", []),
    ("send_acknowledgement", "Send Acknowledgement", "http", "all", []),
    ("generate_response_context", "Generate Response Context", "llm", "all", []),
    ("generate_response", "Generate Customer Response", "llm", "all", []),
    ("quality_check", "Quality Check Response", "llm", "all", []),
    ("check_quality", "Check Quality Score", "router", "all", ["pass", "fail", "exhausted"]),
    ("regenerate_response", "Regenerate Response with Feedback", "llm", "all", []),
    ("merge_responses", "Merge Responses", "merge", "any", []),
    ("personalize_response", "Personalize Response", "llm", "all", []),
    ("generate_follow_up", "Generate Follow-up Suggestions", "llm", "all", []),
    ("send_response", "Send Response to Customer", "http", "all", []),
    ("log_interaction", "Log Interaction", "http", "all", []),
]
EDGES = [
    ("extract_customer_info", "check_billing", None, None),
    ("classify_inquiry", "check_billing", None, None),
    ("analyze_sentiment", "check_billing", None, None),
    ("check_billing", "fetch_account_status", "billing", None),
    ("check_billing", "check_escalation", "default", None),
    ("fetch_account_status", "analyze_account_status", None, None),
    ("analyze_account_status", "check_escalation", None, None),
    ("check_escalation", "escalate_to_human", "escalate", None),
    ("check_escalation", "generate_response_context", "generate_response", None),
    ("escalate_to_human", "compose_acknowledgement", None, None),
    ("compose_acknowledgement", "send_acknowledgement", None, None),
    ("generate_response_context", "generate_response", None, None),
    ("generate_response", "quality_check", None, None),
    ("quality_check", "check_quality", None, None),
    ("check_quality", "regenerate_response", "fail", None),
    ("regenerate_response", "quality_check", None, 1),
    ("check_quality", "merge_responses", "pass", None),
    ("check_quality", "merge_responses", "exhausted", None),
    ("merge_responses", "personalize_response", None, None),
    ("personalize_response", "generate_follow_up", None, None),
    ("personalize_response", "send_response", None, None),
    ("generate_follow_up", "log_interaction", None, None),
    ("send_response", "log_interaction", None, None),
    ("send_acknowledgement", "log_interaction", None, None),
]


def make_graph() -> dict:
    return {
        "name": "customer_support",
        "nodes": [
            {"name": n, "label": lb, "kind": k, "join": j, "routes": list(r)}
            for n, lb, k, j, r in NODES
        ],
        "edges": [
            {"source": s, "target": t, "when": w, "loop_limit": lim} for s, t, w, lim in EDGES
        ],
    }


def _run(node, status="completed", start=None, end=None, iteration=0, tokens=None):
    return {
        "node": node,
        "status": status,
        "iteration": iteration,
        "start_ms": start,
        "end_ms": end,
        "duration_ms": None if start is None or end is None else round(end - start, 1),
        "attempts": 0 if status == "skipped" else 1,
        "usage": {"total_tokens": tokens} if tokens else None,
    }


def make_trace() -> dict:
    """A billing inquiry that needs one regeneration, with the escalation branch skipped."""
    runs = [
        _run("extract_customer_info", start=1.3, end=412.9, tokens=120),
        _run("classify_inquiry", start=1.5, end=388.0, tokens=90),
        _run("analyze_sentiment", start=1.6, end=455.2, tokens=80),
        _run("check_billing", start=455.6, end=456.1),
        _run("fetch_account_status", start=456.5, end=540.0),
        _run("analyze_account_status", start=540.4, end=1210.7, tokens=200),
        _run("check_escalation", start=1211.0, end=1702.3, tokens=150),
        _run("escalate_to_human", "skipped"),
        _run("compose_acknowledgement", "skipped"),
        _run("send_acknowledgement", "skipped"),
        _run("generate_response_context", start=1702.8, end=2203.1, tokens=300),
        _run("generate_response", start=2203.5, end=3405.9, tokens=420),
        _run("quality_check", start=3406.2, end=3801.0, tokens=110),
        _run("check_quality", start=3801.3, end=3801.6),
        _run("regenerate_response", start=3802.0, end=4950.4, tokens=400),
        _run("quality_check", start=4950.8, end=5302.2, iteration=1, tokens=110),
        _run("check_quality", start=5302.5, end=5302.9, iteration=1),
        _run("regenerate_response", "skipped", iteration=1),
        _run("merge_responses", start=5303.3, end=5303.6),
        _run("personalize_response", start=5304.0, end=5910.2, tokens=160),
        _run("generate_follow_up", start=5910.6, end=6402.5, tokens=140),
        _run("send_response", start=5910.7, end=6004.8),
        _run("log_interaction", start=6402.9, end=6460.1),
    ]
    return {"run_id": "run-123", "status": "completed", "node_runs": runs}


def make_partial_trace() -> dict:
    """A run still in flight, with a failure on one branch: exercises every status."""
    trace = make_trace()
    runs = trace["node_runs"][:12]
    runs[11] = _run("generate_response", "running", start=2203.5)
    runs[5] = _run("analyze_account_status", "failed", start=540.4, end=700.0)
    return {"run_id": "run-456", "status": "running", "node_runs": runs}


def _parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("viewBox") and root.get("width") and root.get("height")
    return root


def _texts(root: ET.Element) -> str:
    return "\n".join("".join(el.itertext()) for el in root.iter(f"{SVG}text"))


def _save(name: str, text: str) -> None:
    if os.environ.get("DRAW_ARTIFACTS"):
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / name).write_text(text, encoding="utf-8")


# --------------------------------------------------------------------------- DAG


def test_dag_svg_is_deterministic_and_valid():
    graph, trace = make_graph(), make_trace()
    for args in [(graph,), (graph, trace), (graph, make_partial_trace())]:
        first = draw.dag_svg(*args)
        assert first == draw.dag_svg(*copy.deepcopy(args))
        _parse(first)
        assert not re.search(r"\d\.\d\d", first), "coordinates must be rounded to 0.1"
    _save("dag.svg", draw.dag_svg(graph))
    _save("dag_trace.svg", draw.dag_svg(graph, trace))
    _save("dag_partial.svg", draw.dag_svg(graph, make_partial_trace()))


def test_dag_svg_shows_labels_routes_loop_and_joins():
    graph = make_graph()
    root = _parse(draw.dag_svg(graph))
    texts = _texts(root)
    flat = re.sub(r"\s+", " ", texts.replace("\n", " "))
    for _, label, *_ in NODES:
        # labels may be wrapped over two lines: every word must be there, in order
        assert re.search(r"\s*".join(map(re.escape, label.split())), flat), label
    for when in [
        "billing",
        "default",
        "escalate",
        "generate_response",
        "fail",
        "pass",
        "exhausted",
    ]:
        assert re.search(rf"\b{when}\b", texts), when
    loops = [p for p in root.iter(f"{SVG}path") if "skdag-loop" in (p.get("class") or "")]
    assert len(loops) == 1 and loops[0].get("stroke-dasharray")
    assert "retry ≤1" in texts
    joins = [
        name
        for name, group in _node_groups(root).items()
        if any(el.get("class") == "skdag-join" for el in group)
    ]
    assert joins == ["check_billing", "check_escalation", "merge_responses", "log_interaction"]
    assert {"ALL", "ANY"} <= set(texts.split())
    for tag in ["LLM", "HTTP", "ROUTER", "MERGE", "FN"]:
        assert tag in texts.split()
    assert root.find(f"{SVG}polygon") is not None  # routers are hexagons


def _node_groups(root: ET.Element) -> dict[str, ET.Element]:
    return {g.get("data-node"): g for g in root.iter(f"{SVG}g") if g.get("data-node")}


def _boxes(root: ET.Element) -> dict[str, tuple[float, float, float, float]]:
    """x, y, width, height of every node outline (rect or hexagon)."""
    boxes = {}
    for name, group in _node_groups(root).items():
        shape = [el for el in group if el.tag in (f"{SVG}rect", f"{SVG}polygon")][0]
        if shape.tag == f"{SVG}rect":
            x, y = float(shape.get("x")), float(shape.get("y"))
            boxes[name] = (x, y, float(shape.get("width")), float(shape.get("height")))
        else:
            pts = [tuple(map(float, p.split(","))) for p in shape.get("points").split()]
            xs, ys = [p[0] for p in pts], [p[1] for p in pts]
            boxes[name] = (min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))
    return boxes


def test_dag_layout_has_no_overlaps_and_fits_width():
    root = _parse(draw.dag_svg(make_graph(), make_trace()))
    boxes = _boxes(root)
    assert len(boxes) == 20
    width = float(root.get("width"))
    assert width <= 960
    items = list(boxes.items())
    for i, (a, (ax, ay, aw, ah)) in enumerate(items):
        assert ax >= 0 and ax + aw <= width
        for b, (bx, by, bw, bh) in items[i + 1 :]:
            apart = ax + aw <= bx or bx + bw <= ax or ay + ah <= by or by + bh <= ay
            assert apart, f"{a} overlaps {b}"
    # layering: every forward edge points downwards
    for s, t, _, limit in EDGES:
        if limit is None:
            assert boxes[s][1] < boxes[t][1], (s, t)


def test_dag_status_colours_repeats_and_durations():
    root = _parse(draw.dag_svg(make_graph(), make_partial_trace()))
    groups = _node_groups(root)
    expect = {
        "extract_customer_info": "completed",
        "analyze_account_status": "failed",
        "generate_response": "running",
        "escalate_to_human": "skipped",
        "log_interaction": "pending",
    }
    for node, status in expect.items():
        assert f"skdag-{status}" in groups[node].get("class"), node
        fill = [el for el in groups[node] if el.tag in (f"{SVG}rect", f"{SVG}polygon")][0]
        assert fill.get("fill") == draw.STATUSES[status][0]
    assert groups["escalate_to_human"][1].get("stroke-dasharray")  # skipped: dashed border

    root = _parse(draw.dag_svg(make_graph(), make_trace()))
    groups = _node_groups(root)
    qc = "".join(groups["quality_check"].itertext())
    assert "×2" in qc and "746 ms" in qc  # 394.8 + 351.4
    assert "412 ms" in "".join(groups["extract_customer_info"].itertext())
    assert "1.2 s" in "".join(groups["generate_response"].itertext())
    assert "×" not in "".join(groups["generate_response"].itertext())
    # durations only ever as "<n> ms" / "<n.n> s"
    for text in _texts(root).split("\n"):
        for m in re.finditer(r"\d[\d.]*\s*m?s\b", text):
            assert re.fullmatch(r"\d+ ms|\d+\.\d s", m.group()), m.group()
    classes = [p.get("class") or "" for p in root.iter(f"{SVG}path")]
    assert any("skdag-taken" in c for c in classes)
    assert any("skdag-faded" in c for c in classes)
    assert any("skdag-loop" in c and "skdag-taken" in c for c in classes)


def test_recorded_routes_decide_which_edges_were_taken():
    def edge_classes(trace):
        root = _parse(draw.dag_svg(make_graph(), trace))
        return {
            p.get("data-edge"): p.get("class")
            for p in root.iter(f"{SVG}path")
            if p.get("data-edge")
        }

    trace = make_trace()
    # without route info, both ends having run is all we know: "default" looks taken
    assert "skdag-taken" in edge_classes(trace)["check_billing->check_escalation"]
    for run in trace["node_runs"]:
        if run["node"] == "check_billing":
            run["route"] = "billing"
    edges = edge_classes(trace)
    assert "skdag-taken" in edges["check_billing->fetch_account_status"]
    assert "skdag-taken" not in edges["check_billing->check_escalation"]
    assert "skdag-taken" in edges["analyze_account_status->check_escalation"]


def test_escaping_of_hostile_labels():
    graph = make_graph()
    evil = "<script>alert('x')</script> & \"quoted\""
    graph["name"] = "a<b>&c"
    graph["nodes"][0]["label"] = evil
    graph["edges"][3]["when"] = "<b>&"
    svg = draw.dag_svg(graph, make_trace(), title="T & <t>")
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    root = _parse(svg)
    assert "&amp;" in svg and "&lt;b&gt;&amp;" in svg
    assert "T & <t>" in _texts(root)
    _parse(draw.timeline_svg(make_trace(), graph))
    mermaid = draw.dag_mermaid(graph)
    assert "<script>" not in mermaid and '"quoted"' not in mermaid


def test_unknown_kind_and_odd_graphs_still_draw():
    graph = make_graph()
    graph["nodes"][4]["kind"] = "quantum"
    root = _parse(draw.dag_svg(graph))
    assert "skdag-kind-function" in _node_groups(root)["fetch_account_status"].get("class")
    _parse(draw.dag_svg({"name": "empty", "nodes": [], "edges": []}))
    single = {"name": "one", "nodes": [{"name": "a", "kind": "llm"}], "edges": []}
    _parse(draw.dag_svg(single, {"node_runs": []}))
    # an unbounded cycle and a dangling edge must not hang or crash
    cyc = {
        "name": "cyc",
        "nodes": [{"name": n, "kind": "function"} for n in "abc"],
        "edges": [
            {"source": "a", "target": "b"},
            {"source": "b", "target": "c"},
            {"source": "c", "target": "b"},
            {"source": "c", "target": "zzz"},
        ],
    }
    _parse(draw.dag_svg(cyc))
    draw.dag_mermaid(cyc)


# --------------------------------------------------------------------------- Mermaid


def test_mermaid_contains_every_node_and_edge():
    graph = make_graph()
    text = draw.dag_mermaid(graph, make_trace())
    assert text.startswith("flowchart TD\n")
    assert text == draw.dag_mermaid(graph, make_trace())
    for name, label, *_ in NODES:
        assert re.search(rf"^\s+{name}\W", text, re.M), name
        assert label in text
    for s, t, when, limit in EDGES:
        arrow = "-.->" if limit else "-->"
        lbl = when or (f"retry ≤{limit}" if limit else None)
        edge = f'{s} {arrow}|"{lbl}"| {t}' if lbl else f"{s} {arrow} {t}"
        assert edge in text, edge
    assert "classDef st_completed" in text and "classDef kind_router" in text
    assert re.search(r"class .*escalate_to_human.* st_skipped", text)
    assert "linkStyle" in text
    assert "×2" in text


# --------------------------------------------------------------------------- timeline


def _bars(root: ET.Element) -> list[ET.Element]:
    return [el for el in root.iter(f"{SVG}rect") if "sktl-bar" in (el.get("class") or "")]


def test_timeline_is_deterministic_valid_and_sanitizable():
    graph, trace = make_graph(), make_trace()
    svg = draw.timeline_svg(trace, graph)
    assert svg == draw.timeline_svg(copy.deepcopy(trace), copy.deepcopy(graph))
    root = _parse(svg)
    assert len(_bars(root)) == 19  # 23 runs, 4 skipped
    assert "skipped" in _texts(root)
    assert "6.5 s" in _texts(root)  # total
    # the documented sanitizer makes two runs with different timings byte-identical
    slower = copy.deepcopy(trace)
    for run in slower["node_runs"]:
        for key in ("start_ms", "end_ms"):
            if run[key] is not None:
                run[key] = run[key] * 1.37 + 5
        if run["duration_ms"] is not None:
            run["duration_ms"] = round(run["end_ms"] - run["start_ms"], 1)

    def sanitize(text: str) -> str:
        text = re.sub(r'(class="sktl-bar[^"]*" x=")[^"]*(" width=")[^"]*', r"\1X\2W", text)
        return re.sub(r"\d+(\.\d+)? m?s\b", "T", text)

    assert sanitize(svg) == sanitize(draw.timeline_svg(slower, graph))
    _save("timeline.svg", svg)
    _save("timeline_partial.svg", draw.timeline_svg(make_partial_trace(), graph))
    _save("timeline_nograph.svg", draw.timeline_svg(trace))


def test_timeline_rows_follow_graph_order_not_start_order():
    graph, trace = make_graph(), make_trace()
    shuffled = copy.deepcopy(trace)
    shuffled["node_runs"].reverse()
    a = draw.timeline_svg(trace, graph)
    assert a == draw.timeline_svg(shuffled, graph)
    rows = [el.get("data-run") for el in _parse(a).iter(f"{SVG}g") if el.get("data-run")]
    order = [n for n, *_ in NODES]
    keys = [(order.index(r.split("#")[0]), int(r.split("#")[1])) for r in rows]
    assert keys == sorted(keys)
    assert rows[:3] == ["extract_customer_info#0", "classify_inquiry#0", "analyze_sentiment#0"]
    assert rows.index("quality_check#1") == rows.index("quality_check#0") + 1


def test_timeline_colours_failed_red_and_marks_skipped():
    root = _parse(draw.timeline_svg(make_partial_trace(), make_graph()))
    bars = {el.get("data-run"): el for el in root.iter(f"{SVG}g") if el.get("data-run")}
    failed = [b for b in _bars(bars["analyze_account_status#0"])][0]
    assert "sktl-failed" in failed.get("class") and failed.get("fill") == "#c62828"
    assert "skipped" in "".join(bars["escalate_to_human#0"].itertext())
    assert "running" in "".join(bars["generate_response#0"].itertext())


def test_critical_path_on_small_trace():
    graph = {
        "name": "small",
        "nodes": [{"name": n, "kind": "llm"} for n in ["a", "b", "c", "d", "e"]],
        "edges": [
            {"source": "a", "target": "b"},
            {"source": "a", "target": "c"},
            {"source": "b", "target": "d"},
            {"source": "c", "target": "d"},
            {"source": "d", "target": "e"},
            {"source": "e", "target": "d", "loop_limit": 1},
        ],
    }
    runs = [
        _run("a", start=0, end=100),
        _run("c", start=100, end=400),  # slow branch: on the path
        _run("b", start=100, end=150),
        _run("d", start=400, end=500),
        _run("e", start=500, end=600),
        _run("d", start=600, end=650, iteration=1),  # the loop came back through e
        _run("e", "skipped", iteration=1),
    ]
    trace = {"run_id": "x", "status": "completed", "node_runs": runs}
    path = [("a", 0), ("c", 0), ("d", 0), ("e", 0), ("d", 1)]
    assert draw.critical_path(trace, graph) == path
    # without a graph: any run that ended before, latest first (the same here)
    assert draw.critical_path(trace) == path
    root = _parse(draw.timeline_svg(trace, graph))
    outlined = [b for b in _bars(root) if "sktl-critical" in b.get("class")]
    assert len(outlined) == 5
    assert draw.critical_path({"node_runs": []}) == []


# --------------------------------------------------------------------------- display objects


def test_display_objects(tmp_path):
    graph, trace = make_graph(), make_trace()
    dag = draw.DagDiagram(graph)
    bundle = dag._repr_mimebundle_()
    assert set(bundle) == {"image/svg+xml", "text/plain"}
    assert bundle["text/plain"] == "<DAG customer_support: 20 nodes, 24 edges>"
    assert bundle["image/svg+xml"] == dag.svg == draw.dag_svg(graph)
    assert dag.mermaid == draw.dag_mermaid(graph)
    assert set(dag._repr_mimebundle_(include={"text/plain"})) == {"text/plain"}
    assert set(dag._repr_mimebundle_(exclude={"image/svg+xml"})) == {"text/plain"}
    traced = draw.DagDiagram(graph, trace)
    assert "run-123" not in traced._repr_mimebundle_()["text/plain"]
    assert "completed" in traced._repr_mimebundle_()["text/plain"]
    mm = dag.as_mermaid()._repr_mimebundle_()
    assert set(mm) == {"text/vnd.mermaid", "text/plain"}
    assert mm["text/vnd.mermaid"] == dag.mermaid

    svg_path = dag.save(tmp_path / "g.svg")
    assert svg_path.read_text(encoding="utf-8") == dag.svg
    md = dag.save(tmp_path / "g.md").read_text(encoding="utf-8")
    assert md.startswith("```mermaid\nflowchart TD") and md.rstrip().endswith("```")
    with pytest.raises(ValueError):
        dag.save(tmp_path / "g.png")

    tl = draw.Timeline(trace, graph)
    tb = tl._repr_mimebundle_()
    assert set(tb) == {"image/svg+xml", "text/plain"}
    assert tb["text/plain"] == "<Timeline customer_support: 23 node runs, 4 skipped>"
    assert tl.save(tmp_path / "t.svg").read_text(encoding="utf-8") == tl.svg


def test_format_duration():
    assert draw.format_duration(411.6) == "412 ms"
    assert draw.format_duration(0.4) == "0 ms"
    assert draw.format_duration(999.7) == "1.0 s"
    assert draw.format_duration(1234) == "1.2 s"


# --------------------------------------------------------------------------- people in the loop


def make_waiting_trace(resumed: bool = False) -> dict:
    """make_trace, but personalize_response asks a person (``ctx.interrupt``) and the run
    waits; ``resumed``: the person answered 5.6 s later and the run went on to the end."""
    runs = make_trace()["node_runs"][:19]  # up to merge_responses
    runs.append(_run("personalize_response", "waiting", start=5304.0, end=5304.4))
    if not resumed:
        waiting_for = {"node": "personalize_response", "question": "ok?", "since_ms": 5304.4}
        return {"run_id": "run-789", "status": "waiting", "node_runs": runs, **waiting_for}
    runs += [
        _run("personalize_response", start=10904.4, end=11510.6, tokens=160),
        _run("generate_follow_up", start=11511.0, end=12002.9, tokens=140),
        _run("send_response", start=11511.1, end=11605.2),
        _run("log_interaction", start=12003.3, end=12060.5),
    ]
    return {"run_id": "run-789", "status": "completed", "node_runs": runs}


def _sanitized(svg: str) -> str:
    """The SVG after the notebooks' own sanitizers (notebooks/nbval_sanitize.cfg)."""
    cfg = Path(__file__).parent.parent / "notebooks" / "nbval_sanitize.cfg"
    lines = cfg.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if line.startswith("regex: "):
            replace = lines[i + 1].removeprefix("replace:").strip()
            svg = re.sub(line.removeprefix("regex: "), replace, svg)
    return svg


def test_a_waiting_node_is_drawn_in_the_waiting_style():
    graph, trace = make_graph(), make_waiting_trace()
    svg = draw.dag_svg(graph, trace)
    assert svg == draw.dag_svg(copy.deepcopy(graph), copy.deepcopy(trace))
    root = _parse(svg)
    group = _node_groups(root)["personalize_response"]
    assert "skdag-waiting" in group.get("class") and "skdag-kind-llm" in group.get("class")
    outline = [el for el in group if el.tag == f"{SVG}rect"][0]
    fill, stroke, _, dash, _ = draw.STATUSES["waiting"]
    assert (outline.get("fill"), outline.get("stroke")) == (fill, stroke)
    assert outline.get("stroke-dasharray") == dash
    assert "waiting for a person" in "".join(group.itertext())
    assert "waiting" in _texts(root).split("\n")  # the legend's caption
    assert "1 waiting" in _texts(root)  # the subtitle
    edges = {p.get("data-edge"): p.get("class") for p in root.iter(f"{SVG}path")}
    assert "skdag-taken" in edges["merge_responses->personalize_response"]
    assert "skdag-taken" not in edges["personalize_response->send_response"]
    # a trace where nobody waits has no trace of any of this
    plain = draw.dag_svg(graph, make_trace())
    assert "waiting" not in plain and "a person" not in plain
    _save("dag_waiting.svg", svg)

    mermaid = draw.dag_mermaid(graph, trace)
    assert "classDef st_waiting" in mermaid and "class personalize_response st_waiting" in mermaid
    assert "waiting for a person" in mermaid
    assert "st_waiting" not in draw.dag_mermaid(graph, make_trace())
    summary = "<DAG customer_support: 20 nodes, 24 edges, run waiting, "
    assert (
        draw.DagDiagram(graph, trace).summary()
        == summary + "personalize_response waits for a person>"
    )
    assert "waits" not in draw.DagDiagram(graph, make_waiting_trace(True)).summary()


def test_a_waiting_record_is_a_waiting_bar_then_the_persons_row():
    graph, trace = make_graph(), make_waiting_trace()
    svg = draw.timeline_svg(trace, graph)
    assert svg == draw.timeline_svg(copy.deepcopy(trace), copy.deepcopy(graph))
    root = _parse(svg)
    (waiting,) = [b for b in _bars(root) if "sktl-waiting" in b.get("class")]
    (person,) = [b for b in _bars(root) if "sktl-person" in b.get("class")]
    assert waiting.get("fill") != person.get("fill") and person.get("stroke-dasharray")
    rows = [g for g in root.iter(f"{SVG}g") if "sktl-row" in (g.get("class") or "")]
    at = [g.get("data-run") or g.get("data-person") for g in rows]
    assert at[at.index("personalize_response#0") + 1] == "personalize_response#0"  # right under
    assert "waiting for a person" in "".join(
        rows[at.index("personalize_response#0") + 1].itertext()
    )
    assert "waiting for a person" in _texts(root).split("\n")[1]  # the summary line
    summary = draw.Timeline(trace, graph).summary()
    assert summary == (
        "<Timeline customer_support: 20 node runs, 4 skipped,"
        " personalize_response waits for a person>"
    )
    plain = draw.timeline_svg(make_trace(), graph)
    assert "waiting" not in plain and "a person" not in plain and "sktl-person" not in plain
    _save("timeline_waiting.svg", svg)


def test_a_resumed_trace_shows_the_persons_time():
    graph, trace = make_graph(), make_waiting_trace(resumed=True)
    states = draw.node_states(trace)
    person = states["personalize_response"]
    assert (person.status, person.runs, person.waits, person.waited_ms) == ("completed", 1, 1, 5600)
    group = _node_groups(_parse(draw.dag_svg(graph, trace)))["personalize_response"]
    info = "".join(group.itertext())
    assert "skdag-completed" in group.get("class")
    assert "607 ms · waited 5.6 s" in info and "×" not in info  # 0.4 + 606.2 ms of its own
    assert "waited 5.6 s" in draw.dag_mermaid(graph, trace)

    svg = draw.timeline_svg(trace, graph)
    assert svg == draw.timeline_svg(copy.deepcopy(trace), copy.deepcopy(graph))
    root = _parse(svg)
    (bar,) = [b for b in _bars(root) if "sktl-person" in b.get("class")]
    (wait,) = [b for b in _bars(root) if "sktl-waiting" in b.get("class")]
    axis = (876 - 336) / 16000  # px per ms: the axis is 0 .. 16 s
    assert float(bar.get("x")) == pytest.approx(336 + 5304.4 * axis, abs=0.1)
    assert float(bar.get("width")) == pytest.approx(5600 * axis, abs=0.2)
    assert float(wait.get("x")) <= float(bar.get("x"))
    row = [g for g in root.iter(f"{SVG}g") if g.get("data-person")][0]
    assert "a person answered" in "".join(row.itertext()) and "5.6 s" in "".join(row.itertext())
    assert "people answered in 5.6 s" in _texts(root)
    # the person's time is on the critical path: the waiting record leads to the answer
    path = draw.critical_path(trace, graph)
    assert path[-4:] == [("personalize_response", 0)] * 2 + [
        ("generate_follow_up", 0),
        ("log_interaction", 0),
    ]
    _save("timeline_resumed.svg", svg)
    _save("dag_resumed.svg", draw.dag_svg(graph, trace))


def test_person_bars_are_neutralised_by_the_notebook_sanitizer():
    graph, trace = make_graph(), make_waiting_trace(resumed=True)
    svg = draw.timeline_svg(trace, graph)
    assert re.search(r'<rect class="sktl-bar sktl-person" x="[\d.]+" width="[\d.]+" ', svg)
    later = copy.deepcopy(trace)  # the person took longer, the machines were slower
    for run in later["node_runs"]:
        for key in ("start_ms", "end_ms"):
            if run[key] is not None:
                run[key] = run[key] * (1.9 if run[key] > 5305 else 1.2) + 3
        if run["duration_ms"] is not None:
            run["duration_ms"] = round(run["end_ms"] - run["start_ms"], 1)
    assert svg != draw.timeline_svg(later, graph)
    assert _sanitized(svg) == _sanitized(draw.timeline_svg(later, graph))
    dag = draw.dag_svg(graph, trace)
    assert _sanitized(dag) == _sanitized(draw.dag_svg(graph, later))
