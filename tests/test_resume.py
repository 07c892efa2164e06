"""Runs that stop and carry on: a node that asks a person, a failed run resumed after
its cause is fixed, effects that are never repeated, checkpoints that survive JSON."""

from __future__ import annotations

import asyncio
from typing import Required

import pytest
from typing_extensions import TypedDict

from support_lib.engine import (
    START,
    FunctionNode,
    Node,
    ResumeError,
    Router,
    Trace,
    Workflow,
)


class S(TypedDict, total=False):
    draft: Required[str]
    approved: str
    sent: str
    logged: bool
    side: bool
    score: int
    fixes: int


class Approve(Node):
    """Asks a person to approve (or replace) the draft."""

    def __init__(self, **kwargs):
        super().__init__("approve", reads=["draft"], writes=["approved"], **kwargs)

    async def run(self, inputs, ctx):
        answer = ctx.interrupt({"draft": inputs["draft"], "choices": ["approve", "edit"]})
        return {"approved": inputs["draft"] if answer == "approve" else answer}


def approval_flow(calls: dict[str, int], fail_log: list[bool] | None = None) -> Workflow:
    def count(name, result):
        def fn(inputs):
            calls[name] = calls.get(name, 0) + 1
            if name == "log" and fail_log and fail_log.pop(0):
                raise RuntimeError("analytics is down")
            return result(inputs)

        return fn

    async def slow_side(inputs):
        await asyncio.sleep(0.05)
        calls["side"] = calls.get("side", 0) + 1
        return {"side": True}

    wf = Workflow("approval", S)
    wf.add(Approve())
    wf.add(FunctionNode("side", slow_side, writes=["side"]))
    wf.add(
        FunctionNode(
            "send",
            count("send", lambda s: {"sent": s["approved"]}),
            reads=["approved"],
            writes=["sent"],
            effect="sent",
        )
    )
    wf.add(
        FunctionNode(
            "log",
            count("log", lambda s: {"logged": True}),
            reads=["sent"],
            writes=["logged"],
            effect="logged",
        )
    )
    wf.edge(START, "approve").edge(START, "side").edge("approve", "send").edge("send", "log")
    return wf


async def test_a_node_that_asks_a_person_stops_the_run_and_resumes_with_the_answer():
    calls: dict[str, int] = {}
    wf = approval_flow(calls)
    trace = await wf.arun({"draft": "Hello"})
    assert trace.status == "waiting" and trace.error is None
    assert trace.waiting_for["node"] == "approve"
    assert trace.waiting_for["question"] == {"draft": "Hello", "choices": ["approve", "edit"]}
    assert trace.node("approve").status == "waiting"
    assert calls == {"side": 1}  # the node already running finished; nothing new started
    assert trace.status_of("send") == "pending" and trace.checkpoint is not None

    await wf.aresume(trace, answer="Hello, edited by Sam")
    assert trace.status == "completed" and trace.checkpoint is None
    assert trace.state["sent"] == "Hello, edited by Sam"
    assert calls == {"side": 1, "send": 1, "log": 1}
    assert [e["effect"] for e in trace.effects] == ["sent", "logged"]
    waited, answered = trace.runs_of("approve")
    assert (waited.status, answered.status) == ("waiting", "completed")
    assert answered.start_ms >= waited.end_ms  # the clock carries on across the wait


async def test_a_run_cannot_be_resumed_twice_or_without_an_answer():
    wf = approval_flow({})
    trace = await wf.arun({"draft": "Hello"})
    with pytest.raises(ResumeError, match="waits for a person: give their answer"):
        await wf.aresume(trace)
    await wf.aresume(trace, answer="approve")
    with pytest.raises(ResumeError, match="is completed: only a waiting or failed run"):
        await wf.aresume(trace, answer="approve")


async def test_a_waiting_run_survives_a_restart_as_json(tmp_path):
    calls: dict[str, int] = {}
    trace = await approval_flow(calls).arun({"draft": "Hi"})
    path = trace.save(tmp_path / "waiting.json")
    fresh = approval_flow(calls)  # a new process builds the workflow again
    loaded = Trace.load(path)
    await fresh.aresume(loaded, answer="approve")
    assert loaded.status == "completed" and loaded.state["sent"] == "Hi"
    assert calls["send"] == 1


async def test_a_failed_run_carries_on_without_repeating_what_it_did():
    calls: dict[str, int] = {}
    wf = approval_flow(calls, fail_log=[True, False])
    trace = await wf.arun({"draft": "Hi"})
    await wf.aresume(trace, answer="approve", check=False)
    assert trace.status == "failed" and "analytics is down" in trace.error
    assert [e["effect"] for e in trace.effects] == ["sent"]  # half done, and it says so
    await wf.aresume(trace)  # the cause is gone now
    assert trace.status == "completed"
    assert calls["send"] == 1 and calls["log"] == 2
    assert [e["effect"] for e in trace.effects] == ["sent", "logged"]


async def test_a_changed_workflow_cannot_resume_an_old_run():
    trace = await approval_flow({}).arun({"draft": "Hi"})
    changed = approval_flow({})
    changed.add(FunctionNode("extra", lambda s: {}, reads=["logged"]))
    changed.edge("log", "extra")
    with pytest.raises(ResumeError, match="different version of workflow 'approval'"):
        await changed.aresume(trace, answer="approve")


async def test_loop_progress_is_kept_across_a_pause():
    """write → check → gate; 'again' → fix (asks a person) → (loop, at most 2) check."""

    class Fix(Node):
        async def run(self, inputs, ctx):
            return {"score": ctx.interrupt("new score?"), "fixes": inputs["fixes"] + 1}

    wf = Workflow("loop", S)
    wf.add(FunctionNode("check", lambda s: {"side": True}, reads=["draft"], writes=["side"]))
    wf.add(
        Router(
            "gate",
            lambda s: "ok" if s["score"] >= 7 else "again",
            routes=["ok", "again"],
            reads=["score"],
            defaults={"score": 0},
        )
    )
    wf.add(Fix("fix", reads=["fixes"], writes=["score", "fixes"], defaults={"fixes": 0}))
    wf.add(FunctionNode("send", lambda s: {"sent": "done"}, writes=["sent"]))
    wf.edge(START, "check").edge("check", "gate").edge("gate", "send", when="ok")
    wf.edge("gate", "fix", when="again").edge("fix", "check", loop_limit=2)
    trace = await wf.arun({"draft": "x"})
    await wf.aresume(trace, answer=3)  # still too low: round 2 asks again
    assert trace.status == "waiting" and trace.state["fixes"] == 1
    await wf.aresume(trace, answer=9)
    assert trace.status == "completed" and trace.state["sent"] == "done"
    assert [r.iteration for r in trace.runs_of("check")] == [0, 1, 2]
