"""Engine benchmarks: what the scheduler costs per node, beside LangGraph and plain asyncio.

    pip install langgraph   # only for this script; the kit does not need it
    python tests/benchmarks/bench_engine.py

Prints numbers and ratios measured in this one run, with the three contenders taking
turns round after round (the machine is noisy: compare numbers from the same run only).
Not collected by pytest, and no number here is asserted anywhere.

1. Overhead: the support workflow's shape (21 nodes, the billing + reply path executes
   17 of them) with no-op nodes, run by the kit's engine, by LangGraph, and written by
   hand with asyncio. Per executed node: (time per run) / 17.
2. Fan-out: 3 independent 50 ms nodes (like Extract/Classify/Sentiment) run by the
   engine vs awaited one after another.
3. The real workflow, offline: runs per second against the in-process mock server.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any, Required

from typing_extensions import TypedDict

from support_lib.engine import START, FunctionNode, Router, Workflow

EXECUTED = 17
ROUTES = {"check_billing": "billing", "check_escalation": "respond", "quality_gate": "pass"}
BRANCHES = {  # router -> {route: target}
    "check_billing": {"billing": "prepare_account_lookup", "default": "check_escalation"},
    "check_escalation": {"escalate": "escalate_to_human", "respond": "generate_response_context"},
    "quality_gate": {"pass": "merge_responses", "fail": "regenerate_response"},
}
EDGES = [  # plain edges (fan-in edges listed once per source)
    ("extract_customer_info", "check_billing"),
    ("classify_inquiry", "check_billing"),
    ("analyze_sentiment", "check_billing"),
    ("prepare_account_lookup", "fetch_account_status"),
    ("fetch_account_status", "analyze_account_status"),
    ("analyze_account_status", "check_escalation"),
    ("escalate_to_human", "compose_acknowledgement"),
    ("compose_acknowledgement", "send_acknowledgement"),
    ("generate_response_context", "generate_response"),
    ("generate_response", "score_response"),
    ("score_response", "quality_gate"),
    ("merge_responses", "personalize_response"),
    ("personalize_response", "generate_follow_up"),
    ("personalize_response", "send_response"),
]
LOG_INPUTS = ["send_acknowledgement", "generate_follow_up", "send_response"]
FIRST = ["extract_customer_info", "classify_inquiry", "analyze_sentiment"]
NODES = sorted(
    {n for e in EDGES for n in e}
    | set(BRANCHES)
    | set(LOG_INPUTS)
    | {"log_interaction", "regenerate_response"}
)


class NoState(TypedDict, total=False):
    x: Required[int]


async def noop(state: Any) -> dict[str, Any]:
    return {}


def kit_workflow() -> Workflow:
    wf = Workflow("support_shape", NoState)
    for name in NODES:
        if name in BRANCHES:
            wf.add(Router(name, lambda s, n=name: ROUTES[n], routes=list(BRANCHES[name])))
        else:
            join = "any" if name in ("check_escalation", "merge_responses") else "all"
            wf.add(FunctionNode(name, noop, join=join))
    for name in FIRST:
        wf.edge(START, name)
    for source, target in EDGES:
        wf.edge(source, target)
    for router, routes in BRANCHES.items():
        for route, target in routes.items():
            wf.edge(router, target, when=route)
    wf.edge("regenerate_response", "score_response", loop_limit=1)
    for source in LOG_INPUTS:
        wf.edge(source, "log_interaction")
    return wf.validate()


def langgraph_workflow() -> Any:
    from langgraph.graph import END, StateGraph

    class State(TypedDict, total=False):
        x: int

    graph = StateGraph(State)
    for name in NODES:
        graph.add_node(name, noop)
    for name in FIRST:
        graph.add_edge(START_LG, name)
    graph.add_edge(FIRST, "check_billing")  # waits for all three
    for source, target in EDGES:
        if source not in FIRST:
            graph.add_edge(source, target)
    for router, routes in BRANCHES.items():
        graph.add_conditional_edges(router, lambda s, r=router: ROUTES[r], routes)
    graph.add_edge("regenerate_response", "score_response")
    graph.add_edge(["generate_follow_up", "send_response"], "log_interaction")
    graph.add_edge("send_acknowledgement", "log_interaction")
    graph.add_edge("log_interaction", END)
    return graph.compile()


START_LG = "__start__"


async def handwritten() -> None:
    """The same path, written out: what the run costs with no engine at all."""
    await asyncio.gather(noop(None), noop(None), noop(None))
    for _ in range(EXECUTED - 6):  # check_billing ... personalize, one after another
        await noop(None)
    await asyncio.gather(noop(None), noop(None))  # follow-up and send
    await noop(None)  # log


async def per_run(make: Callable[[], Awaitable[Any]], runs: int) -> float:
    started = time.perf_counter()
    for _ in range(runs):
        await make()
    return (time.perf_counter() - started) / runs


async def overhead(rounds: int = 7, runs: int = 200) -> None:
    kit = kit_workflow()
    contenders: dict[str, Callable[[], Awaitable[Any]]] = {
        "kit engine": lambda: kit.arun({"x": 0}),
        "asyncio by hand": handwritten,
    }
    try:
        lg = langgraph_workflow()
        version = importlib.metadata.version("langgraph")
        contenders[f"LangGraph {version}"] = lambda: lg.ainvoke({"x": 0})
    except ImportError:
        print("(LangGraph is not installed: pip install langgraph to compare with it)")
    trace = await kit.arun({"x": 0})
    executed = sum(r.status == "completed" for r in trace.node_runs)
    assert executed == EXECUTED, executed
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for make in contenders.values():  # warm up every contender once
        await per_run(make, 20)
    for _ in range(rounds):  # take turns, so drifts of the machine hit everyone alike
        for name, make in contenders.items():
            samples[name].append(await per_run(make, runs))
    us = {name: statistics.median(s) / EXECUTED * 1e6 for name, s in samples.items()}
    print(
        f"1. the support workflow's shape, {EXECUTED} no-op nodes executed per run, "
        f"median of {rounds} rounds x {runs} runs:"
    )
    for name, value in us.items():
        print(f"   {name:<18} {value:8.1f} us per executed node")
    kit_us = us["kit engine"]
    for name, value in us.items():
        if name != "kit engine":
            print(f"   kit / {name}: {kit_us / value:.2f}x")


def fan_out(delay: float) -> Workflow:
    class Fan(TypedDict, total=False):
        x: Required[int]

    async def slow(inputs: Any) -> dict[str, Any]:
        await asyncio.sleep(delay)
        return {}

    wf = Workflow("fan_out", Fan)
    for key in ("extract", "classify", "sentiment"):
        wf.add(FunctionNode(key, slow))
        wf.edge(START, key)
    return wf


async def concurrency(delay: float = 0.05) -> None:
    fan = fan_out(delay)
    together = statistics.median([await per_run(lambda: fan.arun({"x": 0}), 1) for _ in range(5)])

    async def sequential() -> None:
        for _ in range(3):
            await asyncio.sleep(delay)

    one_by_one = statistics.median([await per_run(sequential, 1) for _ in range(5)])
    print(
        f"2. three {delay * 1000:.0f} ms nodes: engine {together * 1000:.0f} ms vs "
        f"one after another {one_by_one * 1000:.0f} ms -> {one_by_one / together:.1f}x faster"
    )


async def offline_runs(runs: int = 10) -> None:
    from support_lib import arun, kit

    server = kit.start_mock()
    try:
        await arun("warm-up: where is my parcel?", mock_url=server.url)
        started = time.perf_counter()
        for i in range(runs):
            await arun(f"Hi, when will order #5042{i} arrive? Thanks, Anna", mock_url=server.url)
        elapsed = time.perf_counter() - started
    finally:
        server.stop()
    print(
        f"3. the real workflow offline, one run at a time: {runs / elapsed:.1f} runs/s "
        f"({elapsed / runs * 1000:.0f} ms per run, mock server in this process)"
    )


async def main() -> None:
    await overhead()
    await concurrency()
    await offline_runs()


if __name__ == "__main__":
    asyncio.run(main())
