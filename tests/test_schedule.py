"""The pure scheduling core, driven by hand: no asyncio, no node code, no clock.

Each test tells the schedule what finished (and which route it chose) and checks what it
decides next, the way a learner can step through a run on paper."""

from __future__ import annotations

from typing import Required

import pytest
from typing_extensions import TypedDict

from support_lib.engine import START, FunctionNode, NodeError, Router, Schedule, Workflow


class S(TypedDict, total=False):
    x: Required[int]


def node(name: str, **kwargs) -> FunctionNode:
    return FunctionNode(name, lambda s: {}, **kwargs)


def graph(*nodes, edges) -> Schedule:
    wf = Workflow("g", S)
    for n in nodes:
        wf.add(n)
    for e in edges:
        wf.edge(*e[:2], **(e[2] if len(e) > 2 else {}))
    return Schedule(wf.compile())


def steps(schedule: Schedule) -> list[tuple[str, str]]:
    return [(s.action, s.node) for s in schedule.next_steps()]


def test_start_nodes_run_together_and_a_join_waits_for_all():
    s = graph(
        node("a"),
        node("b"),
        node("c"),
        edges=[(START, "a"), (START, "b"), ("a", "c"), ("b", "c")],
    )
    assert steps(s) == [("run", "a"), ("run", "b")]
    s.completed("a")
    assert steps(s) == []  # c waits for b
    s.completed("b")
    assert steps(s) == [("run", "c")]
    s.completed("c")
    assert steps(s) == [] and s.finished


def test_any_join_runs_on_the_first_live_edge_and_only_once():
    s = graph(
        node("a"),
        node("b"),
        node("c", join="any"),
        edges=[(START, "a"), (START, "b"), ("a", "c"), ("b", "c")],
    )
    steps(s)
    s.completed("b")
    assert steps(s) == [("run", "c")]
    s.completed("a")
    assert steps(s) == []


def routed() -> Schedule:
    return graph(
        Router("r", lambda s: "left", routes=["left", "right"]),
        node("left"),
        node("left2"),
        node("right"),
        node("end"),
        edges=[
            (START, "r"),
            ("r", "left", {"when": "left"}),
            ("r", "right", {"when": "right"}),
            ("left", "left2"),
            ("left2", "end"),
            ("right", "end"),
        ],
    )


def test_a_route_kills_the_other_branch_and_skipping_propagates():
    s = routed()
    assert steps(s) == [("run", "r")]
    s.completed("r", route="right")
    decided = s.next_steps()
    assert [(d.action, d.node) for d in decided] == [
        ("skip", "left"),
        ("run", "right"),
        ("skip", "left2"),
    ]
    assert decided[0].reason == "no live input: r took another route"
    assert decided[2].reason == "no live input: left was skipped"
    s.completed("right")
    assert steps(s) == [("run", "end")]  # an all-join runs when one input is live


def test_an_all_join_with_only_dead_inputs_is_skipped():
    s = graph(
        Router("r", lambda s: "a", routes=["a", "b"]),
        node("a"),
        node("b"),
        node("c"),
        edges=[(START, "r"), ("r", "a", {"when": "a"}), ("r", "b", {"when": "b"}), ("b", "c")],
    )
    steps(s)
    s.completed("r", route="a")
    assert steps(s) == [("run", "a"), ("skip", "b"), ("skip", "c")]


def looped(limit: int) -> Schedule:
    return graph(
        node("write"),
        node("check"),
        Router("gate", lambda s: "ok", routes=["ok", "again"]),
        node("fix"),
        node("send"),
        edges=[
            (START, "write"),
            ("write", "check"),
            ("check", "gate"),
            ("gate", "send", {"when": "ok"}),
            ("gate", "fix", {"when": "again"}),
            ("fix", "check", {"loop_limit": limit}),
        ],
    )


def test_a_loop_reruns_its_body_and_holds_the_exit_until_it_settles():
    s = looped(limit=2)
    for name in ("write", "check"):
        assert steps(s) == [("run", name)]
        s.completed(name)
    assert steps(s) == [("run", "gate")]
    s.completed("gate", route="again")
    assert steps(s) == [("run", "fix")]  # "send" stays undecided: the loop may come back
    s.completed("fix")
    decided = s.next_steps()
    assert [(d.action, d.node, d.iteration) for d in decided] == [("run", "check", 1)]
    s.completed("check")
    assert steps(s) == [("run", "gate")]
    s.completed("gate", route="ok")
    assert steps(s) == [("skip", "fix"), ("run", "send")]


def test_a_loop_followed_beyond_its_limit_is_an_error_at_its_source():
    s = looped(limit=1)
    for name, route in [
        ("write", None),
        ("check", None),
        ("gate", "again"),
        ("fix", None),
        ("check", None),
        ("gate", "again"),
    ]:
        steps(s)
        s.completed(name, route)
    steps(s)
    with pytest.raises(
        NodeError, match="node 'fix' failed: the loop fix → check reached its limit"
    ):
        s.completed("fix")


def test_a_failed_node_is_not_finished_work():
    s = graph(node("a"), node("b"), edges=[(START, "a"), ("a", "b")])
    steps(s)
    s.failed("a")
    assert s.running == [] and steps(s) == []
