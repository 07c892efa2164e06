"""Lesson 06's exercises: a reply ready to send, batch metrics, the all-of join, the
critical path, and what retries cost.

The checkers run the learner's functions on replies, traces and timings they make
themselves: traces come from the support workflow run with a scripted model (and a fake
support API that can be slowed down), so who is slow is chosen, not measured by luck.
"""

from __future__ import annotations

import asyncio
import inspect
import math
import time
from collections.abc import Mapping
from typing import Any

import httpx

from . import as_pair, exercise, expect

# ----------------------------------------------------------------------------- 06.1

SIGN_OFF = "Best regards,\nAlex from Customer Support\nsupport@example.com"
BODY = ("I'm sorry your parcel is late. We have asked the carrier for an update and will "
        "write to you within one business day.")  # fmt: skip
MARIA = {"customer_name": "Maria Lopez", "order_id": "48213", "product": None,
         "urgency": "medium", "subject": "Late delivery (order #48213)"}  # fmt: skip
NOBODY = {"customer_name": "Unknown", "order_id": None, "product": None,
          "urgency": "low", "subject": "A question about delivery"}  # fmt: skip
ANNA = {**NOBODY, "customer_name": "Anna"}

READY_CASES = (  # (what the case is, the reply, the customer info, ready to send?)
    ("a complete reply", f"Hi Maria,\n\nAbout your order #48213: {BODY}\n\n{SIGN_OFF}", MARIA,
     True),
    ("a reply to a customer whose name and order we do not know",
     f"Hello,\n\n{BODY}\n\n{SIGN_OFF}", NOBODY, True),
    ("a reply to Anna, who gave no order number", f"Hi Anna,\n\n{BODY}\n\n{SIGN_OFF}", ANNA,
     True),
    ("a reply that does not greet Maria by name",
     f"Hello,\n\nAbout your order #48213: {BODY}\n\n{SIGN_OFF}", MARIA, False),
    ("a reply that names Maria, but not in its greeting",
     f"Hello,\n\nMaria, about your order #48213: {BODY}\n\n{SIGN_OFF}", MARIA, False),
    ("a reply that names the order without its '#'",
     f"Hi Maria,\n\nAbout your order 48213: {BODY}\n\n{SIGN_OFF}", MARIA, False),
    ("a reply with the wrong order number",
     f"Hi Maria,\n\nAbout your order #48231: {BODY}\n\n{SIGN_OFF}", MARIA, False),
    ("a reply with a placeholder left in it",
     f"Hi Maria,\n\nAbout your order #48213: {BODY} Your tracking number is "
     f"[TRACKING NUMBER].\n\n{SIGN_OFF}", MARIA, False),
    ("a reply with a template leftover",
     f"Hi Maria,\n\nAbout your order #48213: {BODY} {{{{next_steps}}}}\n\n{SIGN_OFF}", MARIA,
     False),
    ("a reply without the agent's sign-off",
     f"Hi Maria,\n\nAbout your order #48213: {BODY}\n\nsupport@example.com", MARIA, False),
    ("a reply without the contact address",
     f"Hi Maria,\n\nAbout your order #48213: {BODY}\n\nAlex from Customer Support", MARIA,
     False),
)  # fmt: skip


@exercise(
    "06.1",
    "ready to send",
    hint="Turn section 1's checklist into a function, but mind the customers we know less "
    "about: customer_name is 'Unknown' when no name was given, and order_id can be None. "
    "Only ask for what is known.",
    solution="""
def ready_to_send(text, customer_info):
    name, order = customer_info["customer_name"], customer_info["order_id"]
    first_line = text.strip().splitlines()[0]
    return all([
        name == "Unknown" or name.split()[0] in first_line,   # greets by name, if known
        order is None or f"#{order}" in text,                 # the order, if there is one
        "Alex from Customer Support" in text,
        "support@example.com" in text,
        "[" not in text and "{{" not in text,                 # no placeholders
    ])


answer = ready_to_send
""",
    wrong=(
        """
def ready_to_send(text, customer_info):
    first_name = customer_info["customer_name"].split()[0]
    return all([text.startswith(f"Hi {first_name}"),
                f"#{customer_info['order_id']}" in text,
                "Alex from Customer Support" in text,
                "support@example.com" in text,
                "[" not in text and "{{" not in text])

answer = ready_to_send
""",
        """
def ready_to_send(text, customer_info):
    name = customer_info["customer_name"]
    first_line = text.strip().splitlines()[0]
    return all([name == "Unknown" or name.split()[0] in first_line,
                f"#{customer_info['order_id']}" in text,
                "Alex from Customer Support" in text,
                "support@example.com" in text,
                "[" not in text and "{{" not in text])

answer = ready_to_send
""",
        """
def ready_to_send(text, customer_info):
    name, order = customer_info["customer_name"], customer_info["order_id"]
    first_line = text.strip().splitlines()[0]
    return all([name == "Unknown" or name.split()[0] in first_line,
                order is None or f"#{order}" in text,
                "Alex from Customer Support" in text,
                "support@example.com" in text])

answer = ready_to_send
""",
        # the name anywhere in the reply, not in its greeting
        """
def ready_to_send(text, customer_info):
    name, order = customer_info["customer_name"], customer_info["order_id"]
    return all([name == "Unknown" or name.split()[0] in text,
                order is None or f"#{order}" in text,
                "Alex from Customer Support" in text,
                "support@example.com" in text,
                "[" not in text and "{{" not in text])

answer = ready_to_send
""",
        # the order's number without its '#'
        """
def ready_to_send(text, customer_info):
    name, order = customer_info["customer_name"], customer_info["order_id"]
    first_line = text.strip().splitlines()[0]
    return all([name == "Unknown" or name.split()[0] in first_line,
                order is None or str(order) in text,
                "Alex from Customer Support" in text,
                "support@example.com" in text,
                "[" not in text and "{{" not in text])

answer = ready_to_send
""",
    ),
)
def _ready_to_send(answer: Any) -> None:
    """The learner's check on replies the checker wrote, good and flawed."""
    expect(callable(answer), "give the function itself (answer = ready_to_send)")
    for what, text, info, ready in READY_CASES:
        got = answer(text, dict(info))
        expect(isinstance(got, bool), f"return True or False, not {got!r:.40}")
        expect(got == ready, f"for {what}, yours says {got}; it should say {ready}")


# ----------------------------------------------------------------------------- runs

MODEL = "gpt-4.1-mini"  # priced, so that costs are not zero


class DelayedModel:
    """A scripted model that takes ``delays[node]`` seconds to answer that node."""

    def __init__(self, delays: Mapping[str, float], **answers: Any):
        from ..testing import ScriptedModel, support_answers

        self.scripted = ScriptedModel(support_answers(**answers), model_name=MODEL)
        self.model_name = MODEL
        self.delays = dict(delays)

    async def complete(self, request: Any) -> Any:
        await asyncio.sleep(self.delays.get(request.node, 0.0))
        return await self.scripted.complete(request)


async def support_run(model: Any, api_delays: Mapping[str, float] | None = None) -> Any:
    """One run of the support workflow on the fake support API (whose paths can be slow)."""
    from ..inputs import make_inputs
    from ..testing import FakeSupportAPI
    from ..workflow import SupportDeps, build_workflow

    api, delays = FakeSupportAPI(), dict(api_delays or {})

    async def handle(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(delays.get(request.url.path, 0.0))
        return api.handle(request)

    inputs = make_inputs("Where is my order #50422? Thanks, Anna")
    async with httpx.AsyncClient(transport=httpx.MockTransport(handle)) as http:
        deps = SupportDeps(llm=model, http=http, api_base_url=api.base_url)
        return await build_workflow().arun(inputs, deps=deps, check=False)


# ----------------------------------------------------------------------------- 06.2

LLM_SLOW = {node: 0.03 for node in (
    "extract_customer_info", "classify_inquiry", "analyze_sentiment", "check_escalation",
    "generate_response_context", "generate_response", "score_response",
    "regenerate_response", "personalize_response", "generate_follow_up")}  # fmt: skip
API_SLOW = {"/support/send": 0.03, "/support/escalate": 0.03, "/analytics/log": 0.03}
ESCALATE = {"check_escalation": {"decision": "escalate", "reason": "the customer is angry"}}
REWRITE = {"score_response": [{"score": 5, "issues": ["name the order"]},
                              {"score": 9, "issues": []}]}  # fmt: skip


API_SLOWER = dict.fromkeys(API_SLOW, 0.05)

BATCHES = (  # (what is slow, the model's delays, the support API's delays)
    ("the model's many calls take 30 ms each and the support API's few 50 ms", LLM_SLOW,
     API_SLOWER),
    ("the support API is slow", {}, API_SLOW),
)  # fmt: skip
"""In the first batch the model has the most time in all, the support API the most per
call; in the second the support API has both."""


async def _batches() -> list[list[Any]]:
    """Two batches of three runs each (answered, escalated, rewritten), see BATCHES."""
    batches = []
    for _, delays, api_delays in BATCHES:
        batches.append([await support_run(DelayedModel(delays, **answers), api_delays)
                        for answers in ({}, ESCALATE, REWRITE)])  # fmt: skip
    return batches


@exercise(
    "06.2",
    "batch metrics",
    hint="compute_metrics(traces) holds the batch's cost in ['summary'] and one row per node "
    "kind in ['node_types']. Per message means per trace (not per request); the slowest "
    "kind is the one with the most total time, not the most runs.",
    solution="""
from support_lib.metrics import compute_metrics


def batch_summary(traces):
    metrics = compute_metrics(traces)
    per_message = metrics["summary"]["cost_usd"] / len(traces)
    kinds = metrics["node_types"]
    slowest = max(kinds, key=lambda kind: kinds[kind]["total_ms"])
    return per_message, slowest


answer = batch_summary
""",
    wrong=(
        """
from support_lib.metrics import compute_metrics

def batch_summary(traces):
    summary = compute_metrics(traces)["summary"]
    kinds = compute_metrics(traces)["node_types"]
    slowest = max(kinds, key=lambda kind: kinds[kind]["total_ms"])
    return summary["cost_usd"] / summary["ai_requests"], slowest

answer = batch_summary
""",
        """
from support_lib.metrics import compute_metrics

def batch_summary(traces):
    metrics = compute_metrics(traces)
    kinds = metrics["node_types"]
    busiest = max(kinds, key=lambda kind: kinds[kind]["executions"])
    return metrics["summary"]["cost_usd"] / len(traces), busiest

answer = batch_summary
""",
        # the most time per run, not in all
        """
from support_lib.metrics import compute_metrics

def batch_summary(traces):
    metrics = compute_metrics(traces)
    kinds = metrics["node_types"]
    slowest = max(kinds, key=lambda kind: kinds[kind]["avg_ms"])
    return metrics["summary"]["cost_usd"] / len(traces), slowest

answer = batch_summary
""",
    ),
)
async def _batch_summary(answer: Any) -> None:
    """The learner's summary of two batches the checker made, against compute_metrics."""
    from ..metrics import compute_metrics

    expect(callable(answer), "give the function itself (answer = batch_summary)")
    for batch, (slow, _, _) in zip(await _batches(), BATCHES, strict=True):
        metrics = compute_metrics(batch)
        cost = metrics["summary"]["cost_usd"] / len(batch)
        kinds = metrics["node_types"]
        slowest = max(kinds, key=lambda kind: kinds[kind]["total_ms"])
        given = answer(batch)
        got = as_pair(given)
        expect(got is not None, f"return a pair (cost per message, node kind), not {given!r:.60}")
        expect(isinstance(got[0], (int, float)), f"give the cost as a number, not {got[0]!r:.40}")
        expect(
            math.isclose(got[0], cost, rel_tol=1e-6),
            f"for three runs costing ${metrics['summary']['cost_usd']:.6f} in all, yours says "
            f"${got[0]:.8f} per message",
        )
        expect(
            got[1] == slowest,
            f"in a batch where {slow}, yours names {got[1]!r:.20}; the node kind with the "
            f"most time in all (total_ms) is {slowest!r}",
        )


# ----------------------------------------------------------------------------- 06.3


async def _join_case(finish: Any, send_s: float, follow_s: float) -> None:
    """Run ``finish`` with calls that take the given times; check the all-of join."""
    spans: dict[str, tuple[float, float]] = {}
    logged: list[tuple[float, Any, Any]] = []
    sent_value, plan_value = {"message_id": "MSG-1"}, {"follow_up_days": 3}

    async def timed(name: str, seconds: float, value: Any) -> Any:
        start = time.perf_counter()
        await asyncio.sleep(seconds)
        spans[name] = (start, time.perf_counter())
        return value

    async def send() -> Any:
        return await timed("send", send_s, sent_value)

    async def follow_up() -> Any:
        return await timed("follow_up", follow_s, plan_value)

    async def log(sent: Any, plan: Any) -> Any:
        logged.append((time.perf_counter(), sent, plan))
        return {"log_id": "LOG-1"}

    result = await finish(send, follow_up, log)
    slower = "send" if send_s > follow_s else "follow_up"
    expect(len(logged) == 1, f"log must be called exactly once, not {len(logged)} times")
    at, sent, plan = logged[0]
    expect(
        (sent, plan) == (sent_value, plan_value),
        f"log got sent={sent!r:.40} and plan={plan!r:.40}: it must get both results (when "
        f"{slower} is the slower one, did log run before it finished?)",
    )
    expect(at >= max(end for _, end in spans.values()), f"log ran before {slower} finished")
    expect(result == {"log_id": "LOG-1"}, f"return what log returned, not {result!r:.60}")
    starts = [start for start, _ in spans.values()]
    expect(
        max(starts) < min(end for _, end in spans.values()),
        "send and follow_up did not run at the same time: start both before waiting for "
        "either (asyncio.gather)",
    )


@exercise(
    "06.3",
    "the all-of join by hand",
    hint="asyncio.gather(...) starts several awaitables at once and returns when all of "
    "them are done, with their results in order; call log only after that.",
    solution="""
import asyncio


async def finish(send, follow_up, log):
    sent, plan = await asyncio.gather(send(), follow_up())  # both at once, wait for both
    return await log(sent, plan)


answer = finish
""",
    wrong=(
        """
async def finish(send, follow_up, log):
    sent = await send()
    plan = await follow_up()
    return await log(sent, plan)

answer = finish
""",
        """
import asyncio

async def finish(send, follow_up, log):
    tasks = {"sent": asyncio.ensure_future(send()), "plan": asyncio.ensure_future(follow_up())}
    await asyncio.wait(tasks.values(), return_when=asyncio.FIRST_COMPLETED)
    done = {name: task.result() if task.done() else None for name, task in tasks.items()}
    return await log(done["sent"], done["plan"])

answer = finish
""",
    ),
)
async def _all_of(answer: Any) -> None:
    """Call the learner's finish with timed fakes, each of the two slower in turn."""
    expect(
        inspect.iscoroutinefunction(answer),
        "give an async function (async def finish(send, follow_up, log): ...)",
    )
    await _join_case(answer, 0.04, 0.08)
    await _join_case(answer, 0.08, 0.04)


# ----------------------------------------------------------------------------- 06.4

SAVING_CASES = (  # (seconds the follow-up plan takes, seconds /support/send takes)
    (0.06, 0.0),
    (0.0, 0.04),
    (0.05, 0.02),
)


def _saving(trace: Any) -> float:
    """How much sooner the run would end without the follow-up plan: Log would start when
    Send ends (never later than it did)."""
    follow, send = trace.node("generate_follow_up"), trace.node("send_response")
    return max(0.0, follow.end_ms - send.end_ms)


@exercise(
    "06.4",
    "what the follow-up plan costs in time",
    hint="Log waits for both Send and the follow-up plan. Without the plan, when would Log "
    "start? Compare the end_ms of trace.node('generate_follow_up') and of "
    "trace.node('send_response'); a saving is never negative.",
    solution="""
def time_saved(trace):
    follow = trace.node("generate_follow_up")
    send = trace.node("send_response")
    return max(0.0, follow.end_ms - send.end_ms)  # Send runs beside it: only the overhang


answer = time_saved
""",
    wrong=(
        """
def time_saved(trace):
    return trace.node("generate_follow_up").duration_ms

answer = time_saved
""",
        """
def time_saved(trace):
    return trace.node("generate_follow_up").end_ms - trace.node("send_response").end_ms

answer = time_saved
""",
    ),
)
async def _time_saved(answer: Any) -> None:
    """Runs where the follow-up or Send is slow (chosen delays); compare with the rule."""
    expect(callable(answer), "give the function itself (answer = time_saved)")
    for follow_s, send_s in SAVING_CASES:
        model = DelayedModel({"generate_follow_up": follow_s})
        trace = await support_run(model, {"/support/send": send_s})
        want, got = _saving(trace), answer(trace)
        expect(
            isinstance(got, (int, float)) and abs(got - want) <= 5.0,
            f"in a run where the follow-up plan took {follow_s * 1000:.0f} ms longer than "
            f"usual and Send {send_s * 1000:.0f} ms longer, yours says {got!r:.20} ms; "
            f"dropping the plan would save {want:.1f} ms",
        )


# ----------------------------------------------------------------------------- 06.5

QUESTION = "Do you ship to Canada, and how long does it take?"
KEYS = ("ai_requests", "retries", "ai_tokens")


async def _extra_with_429() -> dict[str, int]:
    """What two 429 answers add to a run's summary, on this kernel's mock server (its
    knobs are put back as they were)."""
    from ..kit import arun, local_mock
    from ..llm import resolve_backend
    from ..metrics import compute_metrics

    server = local_mock()
    offline = resolve_backend(server.openai_base_url, env={})  # the faults live in the mock
    knobs = server.configure()
    try:
        server.configure(fault_rate=0.0)
        clean = compute_metrics(await arun(QUESTION, check=False, backend=offline))["summary"]
        server.configure(fault_rate=1.0, fault_kinds=["429"], fault_limit=2)
        faulty = compute_metrics(await arun(QUESTION, check=False, backend=offline))["summary"]
    finally:
        server.configure(**knobs)
    return {key: faulty[key] - clean[key] for key in KEYS}


@exercise(
    "06.5",
    "retries that cost nothing",
    hint="Run one message twice, without faults and with "
    "server.configure(fault_rate=1.0, fault_kinds=['429'], fault_limit=2); subtract the "
    "clean run's compute_metrics(...)['summary'] from the other's, key by key.",
    solution="""
from support_lib.kit import local_mock, run
from support_lib.llm import resolve_backend
from support_lib.metrics import compute_metrics

QUESTION = "Where is my order #50422? Thanks!"
server = local_mock()
offline = resolve_backend(server.openai_base_url, env={})  # the mock's faults hit it only
clean_summary = compute_metrics(run(QUESTION, backend=offline))["summary"]
server.configure(fault_rate=1.0, fault_kinds=["429"], fault_limit=2)
faulty_summary = compute_metrics(run(QUESTION, backend=offline))["summary"]
server.configure(fault_rate=0.0, fault_kinds=["429", "500"], fault_limit=None)  # defaults
answer = {key: faulty_summary[key] - clean_summary[key]
          for key in ("ai_requests", "retries", "ai_tokens")}
""",
    wrong=(
        'answer = {"ai_requests": 2, "retries": 2, "ai_tokens": 592}',
        'answer = {"ai_requests": 0, "retries": 2, "ai_tokens": 0}',
    ),
    praise="Right: a rate limit is refused before any work, so it costs a request, no tokens.",
)
async def _retries(answer: Any) -> None:
    """Compare with the difference the checker measures on a message of its own."""
    expect(
        isinstance(answer, Mapping) and all(key in answer for key in KEYS),
        f"give a dict with the keys {', '.join(KEYS)}",
    )
    want = await _extra_with_429()
    for key in KEYS:
        expect(
            answer[key] == want[key],
            f"{key}: a run with two 429 answers does not have {answer[key]!r:.20} more than a "
            "clean run; compare the two summaries again",
        )
