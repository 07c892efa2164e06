"""Engine semantics: concurrency, routes, skips, joins, loops, retries, timeouts, checks."""

from __future__ import annotations

import asyncio
import json
import re

import pytest

from support_lib.engine import (
    START,
    FunctionNode,
    Merge,
    RetryableError,
    RetryPolicy,
    Router,
    Trace,
    Workflow,
    WorkflowDefinitionError,
    WorkflowRunError,
)
from support_lib.templates import MissingVariableError, render_text, render_value


def sleeper(key: str, seconds: float, value: object = True):
    async def fn(state):
        await asyncio.sleep(seconds)
        return {key: value}

    return fn


def fan_in(join: str = "all") -> Workflow:
    """a (fast) and b (slow) both feed c; d needs only a."""
    wf = Workflow("fan_in", inputs=["x"])
    wf.add(FunctionNode("a", sleeper("a", 0.02), reads=["x"], writes=["a"]))
    wf.add(FunctionNode("b", sleeper("b", 0.3), reads=["x"], writes=["b"]))
    wf.add(FunctionNode("c", sleeper("c", 0.0), writes=["c"], join=join))
    wf.add(FunctionNode("d", sleeper("d", 0.0), reads=["a"], writes=["d"]))
    wf.edge(START, "a").edge(START, "b").edge("a", "c").edge("b", "c").edge("a", "d")
    return wf


async def test_independent_nodes_start_together_and_no_wave_barrier():
    trace = await fan_in().arun({"x": 1})
    a, b, c, d = (trace.node(n) for n in "abcd")
    assert b.start_ms < a.end_ms  # a and b overlap: they started concurrently
    assert d.start_ms < b.end_ms  # d waited only for a, not for the slow b
    assert c.start_ms >= b.end_ms  # an all-join waits for every input
    assert trace.status == "completed"


async def test_any_join_starts_at_first_live_input():
    trace = await fan_in(join="any").arun({"x": 1})
    assert trace.node("c").start_ms < trace.node("b").end_ms
    assert trace.runs_of("c") == [trace.node("c")]  # it ran once, not once per input


def routed(route_to: str) -> Workflow:
    wf = Workflow("routed", inputs=["x"])
    wf.add(Router("pick", lambda s: route_to, routes=["left", "right"], reads=["x"]))
    wf.add(FunctionNode("left", lambda s: {"out": "L"}, writes=["out"]))
    wf.add(FunctionNode("left2", lambda s: {"out2": 2}, reads=["out"], writes=["out2"]))
    wf.add(FunctionNode("right", lambda s: {"out": "R"}, writes=["out"]))
    wf.add(FunctionNode("after_all", lambda s: {"done": s["out"]}, writes=["done"]))
    wf.add(FunctionNode("left_only", lambda s: {"lo": 1}, writes=["lo"], join="all"))
    wf.edge(START, "pick").edge("pick", "left", when="left").edge("pick", "right", when="right")
    wf.edge("left", "left2").edge("left2", "after_all").edge("right", "after_all")
    wf.edge("left2", "left_only")
    return wf


async def test_route_not_taken_is_skipped_and_skipping_propagates():
    trace = await routed("right").arun({"x": 0})
    assert trace.status_of("left") == "skipped"
    assert "pick took another route" in trace.node("left").skip_reason
    assert trace.status_of("left2") == "skipped"  # propagated
    assert trace.status_of("left_only") == "skipped"
    assert "left2 was skipped" in trace.node("left_only").skip_reason
    assert trace.status_of("after_all") == "completed"  # one live input is enough
    assert trace.state["done"] == "R"
    assert trace.node("pick").route == "right"


def loop_workflow(limit: int, passing_score: int) -> Workflow:
    """write → check → gate; gate 'again' → fix → (loop) check."""
    wf = Workflow("loop", inputs=["x"])
    wf.add(FunctionNode("write", lambda s: {"draft": 0}, writes=["draft"]))
    wf.add(
        FunctionNode("check", lambda s: {"score": s["draft"]}, reads=["draft"], writes=["score"])
    )

    def gate(s):
        if s["score"] >= passing_score:
            return "ok"
        return "again" if s["fixes"] < limit else "give_up"

    wf.add(
        Router(
            "gate",
            gate,
            routes=["ok", "again", "give_up"],
            reads=["score", "fixes"],
            defaults={"fixes": 0},
        )
    )
    wf.add(
        FunctionNode(
            "fix",
            lambda s: {"draft": s["draft"] + 1, "fixes": s["fixes"] + 1},
            reads=["draft", "fixes"],
            writes=["draft", "fixes"],
            defaults={"fixes": 0},
        )
    )
    wf.add(Merge("merge", candidates=["draft"], output="final"))
    wf.edge(START, "write").edge("write", "check").edge("check", "gate")
    wf.edge("gate", "merge", when="ok").edge("gate", "merge", when="give_up")
    wf.edge("gate", "fix", when="again").edge("fix", "check", loop_limit=limit)
    return wf


async def test_bounded_loop_rechecks_each_time_and_exits_by_route():
    trace = await loop_workflow(limit=3, passing_score=2).arun({"x": 0})
    assert [r.iteration for r in trace.runs_of("check")] == [0, 1, 2]
    assert len([r for r in trace.runs_of("fix") if r.status == "completed"]) == 2
    assert trace.state["final"] == 2
    assert trace.status_of("merge") == "completed"


async def test_loop_budget_exhausted_leaves_by_the_give_up_route():
    trace = await loop_workflow(limit=1, passing_score=5).arun({"x": 0})
    assert trace.node("gate").route == "give_up"
    assert len(trace.runs_of("check")) == 2
    assert trace.state["final"] == 1


async def test_loop_that_never_exits_fails_at_its_limit():
    wf = Workflow("runaway", inputs=["x"])
    wf.add(FunctionNode("a", lambda s: {"n": 1}, writes=["n"]))
    wf.add(Router("again", lambda s: "more", routes=["more"]))
    wf.add(FunctionNode("b", lambda s: {"n": 2}, writes=["n"]))
    wf.edge(START, "a").edge("a", "again").edge("again", "b", when="more")
    wf.edge("b", "a", loop_limit=2)
    trace = await wf.arun({"x": 0}, check=False)
    assert trace.status == "failed"
    assert "reached its limit of 2" in trace.error
    assert len(trace.runs_of("a")) == 3


async def test_retry_with_backoff_then_success():
    calls = []

    async def flaky(state):
        calls.append(1)
        if len(calls) < 3:
            raise RetryableError("429 too many requests")
        return {"v": len(calls)}

    wf = Workflow("retry", inputs=[])
    wf.add(
        FunctionNode(
            "flaky", flaky, writes=["v"], retry=RetryPolicy(max_attempts=3, initial_delay=0.01)
        )
    )
    wf.edge(START, "flaky")
    trace = await wf.arun({})
    run = trace.node("flaky")
    assert run.attempts == 3 and run.status == "completed"
    assert run.attempt_errors == ["429 too many requests"] * 2


async def test_retries_exhausted_fail_the_run_naming_node_and_cause():
    async def always(state):
        raise RetryableError("server said 503")

    wf = Workflow("retry", inputs=[])
    wf.add(
        FunctionNode(
            "api", always, writes=["v"], retry=RetryPolicy(max_attempts=2, initial_delay=0.01)
        )
    )
    wf.edge(START, "api")
    with pytest.raises(WorkflowRunError) as info:
        await wf.arun({})
    assert "node 'api' failed: server said 503 (after 2 attempts)" in str(info.value)
    assert info.value.trace.node("api").status == "failed"


async def test_non_retryable_error_is_not_retried_and_siblings_are_cancelled():
    async def broken(state):
        await asyncio.sleep(0.01)
        raise ValueError("bad data")

    wf = Workflow("fail_fast", inputs=[])
    wf.add(
        FunctionNode(
            "broken", broken, writes=["a"], retry=RetryPolicy(max_attempts=5, initial_delay=0.01)
        )
    )
    wf.add(FunctionNode("slow", sleeper("b", 5.0), writes=["b"]))
    wf.edge(START, "broken").edge(START, "slow")
    trace = await wf.arun({}, check=False)
    assert trace.node("broken").attempts == 1
    assert "ValueError: bad data" in trace.error
    assert trace.node("slow").status == "failed"
    assert "cancelled" in trace.node("slow").error


async def test_timeout_is_retryable_and_reported():
    wf = Workflow("timeout", inputs=[])
    wf.add(
        FunctionNode(
            "hang",
            sleeper("v", 5.0),
            writes=["v"],
            timeout=0.05,
            retry=RetryPolicy(max_attempts=2, initial_delay=0.01),
        )
    )
    wf.edge(START, "hang")
    trace = await wf.arun({}, check=False)
    assert trace.node("hang").attempts == 2
    assert "timed out after 0.05 s" in trace.error


async def test_undeclared_write_is_an_error():
    wf = Workflow("w", inputs=[])
    wf.add(FunctionNode("sneaky", lambda s: {"other": 1}, writes=["v"]))
    wf.edge(START, "sneaky")
    trace = await wf.arun({}, check=False)
    assert "does not declare" in trace.error


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda wf: wf.edge(START, "a").edge("a", "bb"), "unknown node 'bb' (did you mean 'b'?)"),
        (lambda wf: wf.edge(START, "a").edge("a", "b").edge("b", "a"), "unbounded cycle"),
        (lambda wf: wf.edge(START, "a"), "unreachable node 'b'"),
        (lambda wf: wf.edge(START, "a").edge("a", "b", when="yes"), "is not one of a's routes"),
    ],
)
def test_build_time_errors_name_the_problem(build, message):
    wf = Workflow("bad", inputs=[])
    wf.add(FunctionNode("a", lambda s: {}, writes=["x"]))
    wf.add(FunctionNode("b", lambda s: {}, reads=["x"]))
    build(wf)
    with pytest.raises(WorkflowDefinitionError, match=re.escape(message)):
        wf.validate()


def test_input_that_no_node_produces_is_caught_before_running():
    wf = Workflow("bad", inputs=["message"])
    wf.add(FunctionNode("a", lambda s: {}, reads=["mesage"], writes=["x"]))
    wf.edge(START, "a")
    with pytest.raises(WorkflowDefinitionError, match="reads 'mesage', but no node produces"):
        wf.validate()


def test_reading_a_value_produced_in_parallel_is_caught():
    wf = Workflow("bad", inputs=[])
    wf.add(FunctionNode("a", lambda s: {}, writes=["x"]))
    wf.add(FunctionNode("b", lambda s: {}, reads=["x"]))
    wf.edge(START, "a").edge(START, "b")
    with pytest.raises(WorkflowDefinitionError, match="none of them runs before 'b'"):
        wf.validate()


def test_route_without_edge_is_caught():
    wf = Workflow("bad", inputs=[])
    wf.add(Router("r", lambda s: "a", routes=["a", "b"]))
    wf.add(FunctionNode("x", lambda s: {}))
    wf.edge(START, "r").edge("r", "x", when="a")
    with pytest.raises(WorkflowDefinitionError, match="route 'b' of node 'r' leads nowhere"):
        wf.validate()


async def test_trace_round_trips_through_json_and_observers_see_every_event(tmp_path):
    events = []
    trace = await routed("left").arun(
        {"x": 1}, observers=[lambda event, run, trace: events.append((event, run.node))]
    )
    assert ("node_started", "pick") in events and ("node_skipped", "right") in events
    assert events[-1][0] == "run_finished"
    started = [n for e, n in events if e == "node_started"]
    completed = [n for e, n in events if e == "node_completed"]
    assert sorted(started) == sorted(completed)
    path = trace.save(tmp_path / "trace.json")
    loaded = Trace.load(path)
    assert loaded.to_dict() == json.loads(trace.to_json())
    assert loaded.node("left").duration_ms == trace.node("left").duration_ms


async def test_a_broken_observer_does_not_break_the_run():
    def bad(event, run, trace):
        raise RuntimeError("display crashed")

    trace = await routed("left").arun({"x": 1}, observers=[bad])
    assert trace.status == "completed"
    assert "display crashed" in trace.meta["observer_errors"][0]


def test_templates_keep_json_types_and_never_render_twice():
    values = {"n": 3, "info": {"tags": ["a"], "name": "Ana"}, "msg": "hi {{n}}"}
    assert render_value({"count": "{{n}}", "tags": "{{info.tags}}"}, values) == {
        "count": 3,
        "tags": ["a"],
    }
    assert render_text("Dear {{info.name}}: {{msg}}", values) == "Dear Ana: hi {{n}}"
    with pytest.raises(MissingVariableError, match=r"'\{\{info\.email\}\}' is not in the state"):
        render_text("{{info.email}}", values)
