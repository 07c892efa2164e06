"""Engine semantics: concurrency, routes, skips, joins, loops, retries, timeouts, the node
contract, the typed state and the build-time checks. No model, no server: plain nodes."""

from __future__ import annotations

import asyncio
import json
import operator
import re
from typing import Annotated, Literal, Required

import pytest
from typing_extensions import TypedDict

from support_lib.engine import (
    START,
    FirstAvailable,
    FunctionNode,
    RetryableError,
    RetryPolicy,
    Router,
    Trace,
    Workflow,
    WorkflowDefinitionError,
    WorkflowRunError,
)
from support_lib.templates import MissingVariableError, render_text, render_value


class S(TypedDict, total=False):
    """One schema for the small graphs of this file."""

    x: Required[int]
    a: bool
    b: bool
    c: bool
    d: bool
    out: str
    out2: int
    done: str
    lo: int
    draft: int
    score: int
    fixes: int
    final: int
    n: int
    v: int
    label: Literal["red", "green"]
    info: dict
    notes: Annotated[list[str], operator.add]


def sleeper(key: str, seconds: float, value: object = True):
    async def fn(inputs):
        await asyncio.sleep(seconds)
        return {key: value}

    return fn


def fan_in(join: str = "all") -> Workflow:
    """a (fast) and b (slow) both feed c; d needs only a."""
    wf = Workflow("fan_in", S)
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
    wf = Workflow("routed", S)
    wf.add(Router("pick", lambda s: route_to, routes=["left", "right"], reads=["x"]))
    wf.add(FunctionNode("left", lambda s: {"out": "L"}, writes=["out"]))
    wf.add(FunctionNode("left2", lambda s: {"out2": 2}, reads=["out"], writes=["out2"]))
    wf.add(FunctionNode("right", lambda s: {"out": "R"}, writes=["out"]))
    wf.add(FunctionNode("after_all", lambda s: {"done": s["out"]}, reads=["out"], writes=["done"]))
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
    wf = Workflow("loop", S)
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
    wf.add(FirstAvailable("merge", candidates=["draft"], output="final"))
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
    # The loop ended with a skip of "fix"; the node still counts as having run.
    assert trace.runs_of("fix")[-1].status == "skipped"
    assert trace.status_of("fix") == "completed"
    assert trace.node("fix").iteration == 1


async def test_loop_budget_exhausted_leaves_by_the_give_up_route():
    trace = await loop_workflow(limit=1, passing_score=5).arun({"x": 0})
    assert trace.node("gate").route == "give_up"
    assert len(trace.runs_of("check")) == 2
    assert trace.state["final"] == 1


async def test_loop_that_never_exits_fails_at_its_limit():
    wf = Workflow("runaway", S)
    wf.add(FunctionNode("a", lambda s: {"n": 1}, writes=["n"]))
    wf.add(Router("again", lambda s: "more", routes=["more"]))
    wf.add(FunctionNode("b", lambda s: {"v": 2}, writes=["v"]))
    wf.edge(START, "a").edge("a", "again").edge("again", "b", when="more")
    wf.edge("b", "a", loop_limit=2)
    trace = await wf.arun({"x": 0}, check=False)
    assert trace.status == "failed"
    assert "reached its limit of 2" in trace.error
    assert len(trace.runs_of("a")) == 3


async def test_retry_with_backoff_then_success():
    calls = []

    async def flaky(inputs):
        calls.append(1)
        if len(calls) < 3:
            raise RetryableError("429 too many requests")
        return {"v": len(calls)}

    wf = Workflow("retry", S)
    retry = RetryPolicy(max_attempts=3, initial_delay=0.01)
    wf.add(FunctionNode("flaky", flaky, writes=["v"], retry=retry))
    wf.edge(START, "flaky")
    trace = await wf.arun({"x": 0})
    run = trace.node("flaky")
    assert run.attempts == 3 and run.status == "completed"
    assert run.attempt_errors == ["429 too many requests"] * 2


async def test_retries_exhausted_fail_the_run_naming_node_and_cause():
    async def always(inputs):
        raise RetryableError("server said 503")

    wf = Workflow("retry", S)
    retry = RetryPolicy(max_attempts=2, initial_delay=0.01)
    wf.add(FunctionNode("api", always, writes=["v"], retry=retry))
    wf.edge(START, "api")
    with pytest.raises(WorkflowRunError) as info:
        await wf.arun({"x": 0})
    assert "node 'api' failed: server said 503 (after 2 attempts)" in str(info.value)
    assert info.value.trace.node("api").status == "failed"


async def test_non_retryable_error_is_not_retried_and_siblings_are_cancelled():
    async def broken(inputs):
        await asyncio.sleep(0.01)
        raise ValueError("bad data")

    wf = Workflow("fail_fast", S)
    retry = RetryPolicy(max_attempts=5, initial_delay=0.01)
    wf.add(FunctionNode("broken", broken, writes=["a"], retry=retry))
    wf.add(FunctionNode("slow", sleeper("b", 5.0), writes=["b"]))
    wf.edge(START, "broken").edge(START, "slow")
    trace = await wf.arun({"x": 0}, check=False)
    assert trace.node("broken").attempts == 1
    assert "node 'broken' failed: ValueError: bad data" in trace.error
    assert trace.node("slow").status == "failed"
    assert "cancelled" in trace.node("slow").error


async def test_timeout_is_retryable_and_reported():
    wf = Workflow("timeout", S)
    retry = RetryPolicy(max_attempts=2, initial_delay=0.01)
    wf.add(FunctionNode("hang", sleeper("v", 5.0), writes=["v"], timeout=0.05, retry=retry))
    wf.edge(START, "hang")
    trace = await wf.arun({"x": 0}, check=False)
    assert trace.node("hang").attempts == 2
    assert "timed out after 0.05 s" in trace.error


# ----------------------------------------------------------------------------- the contract


def one_node(fn, **kwargs) -> Workflow:
    wf = Workflow("one", S)
    wf.add(FunctionNode("node", fn, **kwargs))
    wf.edge(START, "node")
    return wf


async def test_a_node_sees_only_what_it_declares():
    seen = {}

    def look(inputs):
        seen.update(inputs)
        return {"v": 1}

    wf = Workflow("view", S)
    wf.add(FunctionNode("first", lambda s: {"n": 5}, writes=["n"]))
    wf.add(FunctionNode("second", look, reads=["x"], writes=["v"]))
    wf.edge(START, "first").edge("first", "second")
    await wf.arun({"x": 1})
    assert seen == {"x": 1}  # "n" exists in the state, but "second" did not ask for it


@pytest.mark.parametrize(
    "peek",
    [lambda s: s["n"], lambda s: s.get("n"), lambda s: "n" in s],
    ids=["getitem", "get", "contains"],
)
async def test_an_undeclared_read_is_an_error_naming_node_and_key(peek):
    wf = Workflow("peek", S)
    wf.add(FunctionNode("first", lambda s: {"n": 5}, writes=["n"]))
    wf.add(FunctionNode("second", lambda s: {"v": bool(peek(s))}, reads=["x"], writes=["v"]))
    wf.edge(START, "first").edge("first", "second")
    trace = await wf.arun({"x": 1}, check=False)
    assert trace.status == "failed"
    assert "node 'second' failed: read 'n': it is a key of the state, but not one this node" in (
        trace.error
    )
    assert "Add 'n' to the node's reads" in trace.error


async def test_a_declared_write_that_is_not_returned_is_blamed_on_the_producer():
    wf = Workflow("lazy", S)
    wf.add(FunctionNode("producer", lambda s: {"a": True}, writes=["a", "b"]))
    wf.add(FunctionNode("consumer", lambda s: {"c": s["b"]}, reads=["b"], writes=["c"]))
    wf.edge(START, "producer").edge("producer", "consumer")
    trace = await wf.arun({"x": 1}, check=False)
    assert trace.error == "node 'producer' failed: declares writes it did not return: ['b']"
    assert trace.status_of("consumer") == "pending"  # never started


async def test_reading_a_key_the_state_does_not_have_suggests_the_right_name():
    wf = one_node(lambda s: {"v": s["xx"]}, reads=["x"], writes=["v"])
    trace = await wf.arun({"x": 0}, check=False)
    assert "read 'xx': no such key in the state (did you mean 'x'?)" in trace.error


async def test_an_undeclared_write_is_an_error():
    trace = await one_node(lambda s: {"v": 1, "n": 2}, writes=["v"]).arun({"x": 0}, check=False)
    assert "returned keys it does not declare in writes: ['n']" in trace.error


async def test_a_write_of_the_wrong_type_is_an_error_at_the_producer():
    trace = await one_node(lambda s: {"label": "blue"}, writes=["label"]).arun(
        {"x": 0}, check=False
    )
    assert trace.error.startswith("node 'node' failed: wrote an invalid 'label'")
    assert "'red' or 'green'" in trace.error


async def test_writes_are_stored_as_json_values():
    trace = await one_node(lambda s: {"n": "7"}, writes=["n"]).arun({"x": 0})
    assert trace.state["n"] == 7  # validated against `int` and stored as the int


async def test_an_error_in_a_route_function_names_the_node():
    wf = Workflow("route_error", S)
    wf.add(Router("pick", lambda s: s["x"]["oops"], routes=["a"], reads=["x"]))
    wf.add(FunctionNode("a", lambda s: {"v": 1}, writes=["v"]))
    wf.edge(START, "pick").edge("pick", "a", when="a")
    trace = await wf.arun({"x": 0}, check=False)
    assert trace.error.startswith("node 'pick' failed: its route function raised TypeError")
    assert trace.node("pick").status == "failed"


async def test_a_route_outside_the_declared_routes_is_an_error():
    wf = Workflow("route_unknown", S)
    wf.add(Router("pick", lambda s: "sideways", routes=["a"], reads=["x"]))
    wf.add(FunctionNode("a", lambda s: {"v": 1}, writes=["v"]))
    wf.edge(START, "pick").edge("pick", "a", when="a")
    trace = await wf.arun({"x": 0}, check=False)
    assert trace.error == "node 'pick' failed: chose route 'sideways', not one of ['a']"


async def test_a_missing_read_at_run_time_names_the_skipped_writer():
    wf = Workflow("missing", S)
    wf.add(Router("pick", lambda s: "right", routes=["left", "right"], reads=["x"]))
    wf.add(FunctionNode("left", lambda s: {"n": 1}, writes=["n"]))
    wf.add(FunctionNode("right", lambda s: {"v": 2}, writes=["v"]))
    wf.add(FunctionNode("use", lambda s: {"d": True}, reads=["n"], writes=["d"], join="any"))
    wf.edge(START, "pick").edge("pick", "left", when="left").edge("pick", "right", when="right")
    wf.edge("left", "use").edge("right", "use")
    with pytest.raises(WorkflowDefinitionError, match="any-of join and may start before left"):
        wf.validate()  # caught at build time ...
    wf.nodes["use"].defaults = {}  # ... and with a default it validates; without, at run time:
    wf.nodes["use"].join = "all"
    trace = await wf.arun({"x": 0}, check=False)
    assert "node 'use' failed: needs n, but its writer left was skipped" in trace.error


async def test_inputs_are_checked_against_the_schema():
    wf = one_node(lambda s: {"v": 1}, writes=["v"])
    with pytest.raises(ValueError, match="needs inputs: x"):
        await wf.arun({})
    with pytest.raises(ValueError, match="takes inputs x; not y"):
        await wf.arun({"x": 1, "y": 2})
    with pytest.raises(ValueError, match="valid integer"):
        await wf.arun({"x": "many"})


# ----------------------------------------------------------------------------- concurrent writers


def two_writers(key: str, *, ordered: bool = False, routed_apart: bool = False) -> Workflow:
    wf = Workflow("writers", S)
    wf.add(FunctionNode("w1", lambda s: {key: ["one"] if key == "notes" else 1}, writes=[key]))
    wf.add(FunctionNode("w2", lambda s: {key: ["two"] if key == "notes" else 2}, writes=[key]))
    if routed_apart:
        wf.add(Router("r", lambda s: "one", routes=["one", "two"], reads=["x"]))
        wf.edge(START, "r").edge("r", "w1", when="one").edge("r", "w2", when="two")
    elif ordered:
        wf.edge(START, "w1").edge("w1", "w2")
    else:
        wf.edge(START, "w1").edge(START, "w2")
    return wf


def test_concurrent_writers_of_one_key_are_rejected_at_build_time():
    with pytest.raises(WorkflowDefinitionError) as info:
        two_writers("n").validate()
    assert "nodes 'w1' and 'w2' may run at the same time and both write 'n'" in str(info.value)
    assert "reducer" in str(info.value)


async def test_writers_in_sequence_or_on_exclusive_routes_are_allowed():
    assert (await two_writers("n", ordered=True).arun({"x": 0})).state["n"] == 2
    assert (await two_writers("n", routed_apart=True).arun({"x": 0})).state["n"] == 1


async def test_a_reducer_combines_concurrent_writes():
    trace = await two_writers("notes").arun({"x": 0})
    assert sorted(trace.state["notes"]) == ["one", "two"]


def test_an_any_join_does_not_order_its_inputs():
    """c may start after a alone, while b still runs: b and c are concurrent."""
    wf = Workflow("any", S)
    wf.add(FunctionNode("a", lambda s: {"a": True}, writes=["a"]))
    wf.add(FunctionNode("b", lambda s: {"n": 1}, writes=["n"]))
    wf.add(FunctionNode("c", lambda s: {"n": 2}, writes=["n"], join="any"))
    wf.edge(START, "a").edge(START, "b").edge("a", "c").edge("b", "c")
    with pytest.raises(WorkflowDefinitionError, match="'b' and 'c' may run at the same time"):
        wf.validate()
    wf.nodes["c"].join = "all"
    wf.edge("a", "b")  # invalidates the compiled graph; now b finishes before c
    wf.validate()


# ----------------------------------------------------------------------------- build-time checks


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda wf: wf.edge(START, "a").edge("a", "bb"), "unknown node 'bb' (did you mean 'b'?)"),
        (lambda wf: wf.edge(START, "a").edge("a", "b").edge("b", "a"), "unbounded cycle"),
        (lambda wf: wf.edge(START, "a"), "unreachable node 'b'"),
        (lambda wf: wf.edge(START, "a").edge("a", "b", when="yes"), "is not one of a's routes"),
        (lambda wf: wf.edge(START, "a").edge("a", "b").edge("b", "a", loop_limit=0), "1 or more"),
        (lambda wf: wf.edge(START, "a").edge("a", "b").edge("a", "b", loop_limit=1), "no loop"),
    ],
)
def test_build_time_errors_name_the_problem(build, message):
    wf = Workflow("bad", S)
    wf.add(FunctionNode("a", lambda s: {}, writes=["n"]))
    wf.add(FunctionNode("b", lambda s: {}, reads=["n"]))
    build(wf)
    with pytest.raises(WorkflowDefinitionError, match=re.escape(message)):
        wf.validate()


@pytest.mark.parametrize(
    ("node", "message"),
    [
        (dict(reads=["mesage"]), "node 'a' reads 'mesage', which is not a key of S: add it"),
        (dict(writes=["nn"]), "node 'a' writes 'nn', which is not a key of S (did you mean 'n'?)"),
        (dict(reads=["n"]), "reads 'n', but no node writes it and it is not a workflow input (x)"),
        (dict(reads=["x"], defaults={"x": "many"}), "the default for 'x' ('many') is not valid"),
    ],
)
def test_keys_reads_and_defaults_are_checked_against_the_schema(node, message):
    wf = Workflow("bad", S)
    wf.add(FunctionNode("a", lambda s: {}, **node))
    wf.edge(START, "a")
    with pytest.raises(WorkflowDefinitionError, match=re.escape(message)):
        wf.validate()


def test_a_default_for_a_key_the_node_does_not_read_is_refused_at_once():
    with pytest.raises(WorkflowDefinitionError, match="defaults for n, which it does not read"):
        FunctionNode("a", lambda s: {}, reads=["v"], defaults={"n": 1})


def test_reading_a_value_produced_in_parallel_is_caught():
    wf = Workflow("bad", S)
    wf.add(FunctionNode("a", lambda s: {}, writes=["n"]))
    wf.add(FunctionNode("b", lambda s: {}, reads=["n"]))
    wf.edge(START, "a").edge(START, "b")
    with pytest.raises(WorkflowDefinitionError, match="none of them surely finishes before 'b'"):
        wf.validate()


def test_route_without_edge_is_caught():
    wf = Workflow("bad", S)
    wf.add(Router("r", lambda s: "a", routes=["a", "b"]))
    wf.add(FunctionNode("x", lambda s: {}))
    wf.edge(START, "r").edge("r", "x", when="a")
    with pytest.raises(WorkflowDefinitionError, match="route 'b' of node 'r' leads nowhere"):
        wf.validate()


def test_the_state_must_be_a_typed_dict():
    with pytest.raises(WorkflowDefinitionError, match="must be a TypedDict"):
        Workflow("bad", dict)


def test_a_compiled_graph_is_reused_until_the_workflow_changes():
    wf = routed("left")
    graph = wf.compile()
    assert wf.compile() is graph
    wf.add(FunctionNode("extra", lambda s: {}, reads=["out"]))
    wf.edge("left", "extra")
    assert wf.compile() is not graph


# ----------------------------------------------------------------------------- trace, observers


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
    assert loaded.graph["state"]["x"] == "int"


async def test_a_broken_observer_does_not_break_the_run():
    def bad(event, run, trace):
        raise RuntimeError("display crashed")

    trace = await routed("left").arun({"x": 1}, observers=[bad])
    assert trace.status == "completed"
    assert "display crashed" in trace.meta["observer_errors"][0]


def test_templates_keep_json_types_and_never_render_twice():
    values = {"n": 3, "info": {"tags": ["a"], "name": "Ana"}, "msg": "hi {{n}}", "none": None}
    assert render_value({"count": "{{n}}", "tags": "{{info.tags}}"}, values) == {
        "count": 3,
        "tags": ["a"],
    }
    assert render_text("Dear {{info.name}}: {{msg}}", values) == "Dear Ana: hi {{n}}"
    assert render_value({"id": "{{none.id}}"}, values) == {"id": None}  # through None: null
    with pytest.raises(MissingVariableError, match=r"'\{\{info\.email\}\}' is not in the state"):
        render_text("{{info.email}}", values)


async def test_a_run_past_its_deadline_fails_cancels_what_runs_and_can_be_resumed():
    wf = Workflow("slow", S)
    wf.add(FunctionNode("slow", sleeper("v", 5.0), writes=["v"]))
    wf.edge(START, "slow")
    trace = await wf.arun({"x": 0}, deadline_s=0.1, check=False)
    assert trace.error == "the run did not finish within its deadline of 0.1 s"
    assert trace.node("slow").error == "cancelled: the run stopped before this node finished"
    assert trace.checkpoint is not None  # a failed run can be carried on


async def test_a_trace_holding_text_utf8_cannot_encode_still_saves_and_loads(tmp_path):
    trace = await one_node(lambda s: {"out": "bad \ud800 char"}, writes=["out"]).arun({"x": 0})
    loaded = Trace.load(trace.save(tmp_path / "t.json"))
    assert loaded.state["out"] == "bad \ud800 char"


async def test_an_optional_node_that_fails_lets_the_run_carry_on_with_its_fallback():
    async def broken(inputs):
        raise RetryableError("server said 503")

    wf = Workflow("optional", S)
    retry = RetryPolicy(max_attempts=2, initial_delay=0.01)
    wf.add(FunctionNode("plan", broken, writes=["out"], retry=retry, fallback={"out": "none"}))
    wf.add(
        FunctionNode(
            "after", lambda i: {"done": f"plan={i['out']}"}, reads=["out"], writes=["done"]
        )
    )
    wf.edge(START, "plan").edge("plan", "after")
    trace = await wf.arun({"x": 0})
    plan = trace.node("plan")
    assert trace.status == "completed" and trace.error is None
    assert plan.status == "failed" and plan.fell_back and plan.attempts == 2
    assert (
        plan.error
        == "server said 503 (after 2 attempts); the run carried on with the node's fallback"
    )
    assert trace.state["done"] == "plan=none"


async def test_a_node_without_a_fallback_still_fails_the_run():
    async def broken(inputs):
        raise ValueError("bad data")

    wf = Workflow("required", S)
    wf.add(FunctionNode("plan", broken, writes=["out"]))
    wf.add(FunctionNode("after", lambda i: {"done": "x"}, reads=["out"], writes=["done"]))
    wf.edge(START, "plan").edge("plan", "after")
    trace = await wf.arun({"x": 0}, check=False)
    assert trace.status == "failed" and not trace.node("plan").fell_back
    assert trace.node("after") is None  # never reached


async def test_a_routing_node_routes_on_its_fallback():
    async def undecided(inputs):
        raise ValueError("no answer")

    wf = Workflow("cautious", S)
    wf.add(
        FunctionNode(
            "decide",
            undecided,
            writes=["label"],
            routes=["red", "green"],
            route=lambda v: v["label"],
            fallback={"label": "red"},
        )
    )
    wf.add(FunctionNode("stop", lambda i: {"done": "stopped"}, writes=["done"]))
    wf.add(FunctionNode("go", lambda i: {"out": "went"}, writes=["out"]))
    wf.edge(START, "decide").edge("decide", "stop", when="red").edge("decide", "go", when="green")
    trace = await wf.arun({"x": 0})
    assert trace.status == "completed" and trace.node("decide").route == "red"
    assert trace.status_of("stop") == "completed" and trace.status_of("go") == "skipped"


def test_a_fallback_must_give_exactly_the_writes_and_be_valid():
    with pytest.raises(WorkflowDefinitionError, match="exactly the node's writes"):
        FunctionNode("plan", dict, writes=["out", "out2"], fallback={"out": "none"})
    wf = Workflow("bad_fallback", S)
    wf.add(FunctionNode("plan", dict, writes=["out2"], fallback={"out2": "not a number"}))
    wf.edge(START, "plan")
    with pytest.raises(WorkflowDefinitionError, match="the fallback for 'out2'"):
        wf.compile()
