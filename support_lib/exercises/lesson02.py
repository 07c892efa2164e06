"""Lesson 02's exercises: concurrent calls by hand, concurrency from edges, one writer per key.

These checkers never time the learner's code (a loaded laptop makes any measurement lie):
a hand-written gather runs against a fake ``ask`` that counts the calls in flight, a graph
is judged by the engine's pure scheduling core and by running it with a scripted model.
"""

from __future__ import annotations

import asyncio
from typing import Any

from . import exercise, expect

ANALYSES = ("CustomerInfo", "InquiryClassification", "SentimentAnalysis")
"""The three analyses, in the lesson's order (which is the order results must keep)."""


class _ModelDown(Exception):
    """The failure the fake ``ask`` raises for one call (as a 500 would)."""


class _FakeAsk:
    """Stands in for the lesson's ``ask(prompt, output_model)``: it counts the calls in
    flight at once, and the analyses finish in the reverse of the lesson's order (the
    extraction last), so that results returned in the order calls finish are told apart
    from results in the order they were asked."""

    def __init__(self, failing: str | None = None):
        self.failing = failing
        self.asked: list[type] = []
        self.prompts: list[Any] = []
        self.in_flight = self.most_at_once = 0

    async def __call__(self, prompt: Any, output_model: type) -> Any:
        self.asked.append(output_model)
        self.prompts.append(prompt)
        name = output_model.__name__
        position = ANALYSES.index(name) if name in ANALYSES else len(ANALYSES)
        self.in_flight += 1
        self.most_at_once = max(self.most_at_once, self.in_flight)
        try:
            await asyncio.sleep(0.01 * (len(ANALYSES) + 1 - position))
            if name == self.failing:
                raise _ModelDown(f"the model answered 500 for {name}")
            return output_model  # a stand-in reply: the model it was asked for
        finally:
            self.in_flight -= 1


def _names(models: list[Any]) -> list[str]:
    return [getattr(model, "__name__", repr(model)) for model in models]


async def _call(function: Any, ask: _FakeAsk) -> Any:
    """Await the learner's function on the fake ``ask``; its failure in plain words."""
    expect(callable(function), "give your async function itself (without calling it)")
    outcome = function(ask)
    expect(asyncio.iscoroutine(outcome), "your function should be `async def ...(ask)`")
    try:
        return await outcome
    except _ModelDown as exc:
        expect(False, f"one failed call made your whole function fail ({exc})")
    except BaseExceptionGroup as group:
        down = group.subgroup(_ModelDown)
        if down is None:
            raise
        while isinstance(down, BaseExceptionGroup):
            down = down.exceptions[0]
        expect(
            False,
            f"one failed call made your whole function fail ({down}): a TaskGroup cancels "
            "the other calls when one fails",
        )
    except asyncio.CancelledError:
        expect(
            False,
            "a call was cancelled, and your function asked it for its result (.result() or "
            ".exception() of a cancelled task raises CancelledError): a TaskGroup cancels "
            "the other calls when one fails; gather(..., return_exceptions=True) lets them "
            "finish",
        )


def _wrong_prompts(ask: _FakeAsk) -> list[str]:
    """The analyses asked with another prompt than the lesson's (the Language model with
    the extraction's, as the lesson says)."""
    from support_lib.workflow.analysis import CLASSIFY_PROMPT, EXTRACT_PROMPT, SENTIMENT_PROMPT

    prompts = dict(zip(ANALYSES, (EXTRACT_PROMPT, CLASSIFY_PROMPT, SENTIMENT_PROMPT), strict=True))
    names = {EXTRACT_PROMPT: "EXTRACT_PROMPT", CLASSIFY_PROMPT: "CLASSIFY_PROMPT",
             SENTIMENT_PROMPT: "SENTIMENT_PROMPT"}  # fmt: skip
    wrong = []
    for model, prompt in zip(ask.asked, ask.prompts, strict=True):
        name = getattr(model, "__name__", "")
        want = prompts.get(name, EXTRACT_PROMPT)
        if prompt != want:
            wrong.append(f"{name} with {names.get(prompt, 'another prompt')} (not {names[want]})")
    return wrong


_CALLS = """
from pydantic import BaseModel
from support_lib.workflow import CustomerInfo, InquiryClassification, SentimentAnalysis
from support_lib.workflow.analysis import CLASSIFY_PROMPT, EXTRACT_PROMPT, SENTIMENT_PROMPT

class Language(BaseModel):
    language: str

CALLS = [(EXTRACT_PROMPT, CustomerInfo), (CLASSIFY_PROMPT, InquiryClassification),
         (SENTIMENT_PROMPT, SentimentAnalysis), (EXTRACT_PROMPT, Language)]
"""
"""The start of the wrong answers of 02.1 and 02.2 (which uses ``CALLS[:3]``)."""


@exercise(
    "02.1",
    "four analyses at once",
    hint="asyncio.gather(...) starts every call you pass it before waiting for any, and "
    "returns the results in the order you passed them, whichever call finished first.",
    solution="""
import asyncio
from pydantic import BaseModel
from support_lib.workflow import CustomerInfo, InquiryClassification, SentimentAnalysis
from support_lib.workflow.analysis import CLASSIFY_PROMPT, EXTRACT_PROMPT, SENTIMENT_PROMPT


class Language(BaseModel):
    language: str


async def four_at_once(ask):
    return await asyncio.gather(
        ask(EXTRACT_PROMPT, CustomerInfo),
        ask(CLASSIFY_PROMPT, InquiryClassification),
        ask(SENTIMENT_PROMPT, SentimentAnalysis),
        ask(EXTRACT_PROMPT, Language),
    )


answer = four_at_once
""",
    wrong=(
        _CALLS
        + """
async def four_at_once(ask):  # one after the other
    return [await ask(prompt, model) for prompt, model in CALLS]

answer = four_at_once
""",
        # one prompt copied for every call: each analysis must get its own prompt
        _CALLS.replace("CLASSIFY_PROMPT, Inq", "EXTRACT_PROMPT, Inq").replace(
            "SENTIMENT_PROMPT, Sen", "EXTRACT_PROMPT, Sen"
        )
        + """
import asyncio

async def four_at_once(ask):
    return await asyncio.gather(*(ask(prompt, model) for prompt, model in CALLS))

answer = four_at_once
""",
        _CALLS
        + """
import asyncio

async def four_at_once(ask):  # in the order the calls finish
    return [await reply for reply in asyncio.as_completed([ask(p, m) for p, m in CALLS])]

answer = four_at_once
""",
    ),
)
async def _four_at_once(answer: Any) -> None:
    ask = _FakeAsk()
    results = await _call(answer, ask)
    expect(len(ask.asked) == 4, f"ask was called {len(ask.asked)} time(s), not 4")
    others = [m for m in ask.asked if m.__name__ not in ANALYSES]
    expect(len(others) == 1, f"ask for each of {', '.join(ANALYSES)} once, then for Language")
    expect(
        "language" in getattr(others[0], "model_fields", {}),
        "the fourth call should ask for your Language model (a field named language)",
    )
    wrong = _wrong_prompts(ask)
    expect(not wrong, f"you asked for {(wrong or [''])[0]}: each analysis has its own prompt")
    expect(
        ask.most_at_once == 4,
        f"at most {ask.most_at_once} call(s) ran at the same time, not all four",
    )
    wanted = [*ANALYSES, others[0].__name__]
    got = _names(list(results or []))
    expect(
        got == wanted,
        f"the results come in the order {got}, not {wanted}: did they come back in the "
        "order the calls finished?",
    )


@exercise(
    "02.2",
    "a failure in a gather",
    hint="asyncio.gather(..., return_exceptions=True) still runs the three calls at once, "
    "and puts a failed call's exception in that call's place instead of raising it.",
    solution="""
import asyncio
from support_lib.workflow import CustomerInfo, InquiryClassification, SentimentAnalysis
from support_lib.workflow.analysis import CLASSIFY_PROMPT, EXTRACT_PROMPT, SENTIMENT_PROMPT


async def three_or_errors(ask):
    return await asyncio.gather(
        ask(EXTRACT_PROMPT, CustomerInfo),
        ask(CLASSIFY_PROMPT, InquiryClassification),
        ask(SENTIMENT_PROMPT, SentimentAnalysis),
        return_exceptions=True,
    )


answer = three_or_errors
""",
    wrong=(
        _CALLS
        + """
import asyncio

async def three_or_errors(ask):  # the first failure fails the whole gather
    return await asyncio.gather(*(ask(p, m) for p, m in CALLS[:3]))

answer = three_or_errors
""",
        _CALLS
        + """
async def three_or_errors(ask):  # one call after the other
    results = []
    for prompt, model in CALLS[:3]:
        try:
            results.append(await ask(prompt, model))
        except Exception as exc:
            results.append(exc)
    return results

answer = three_or_errors
""",
        _CALLS
        + """
import asyncio

async def three_or_errors(ask):  # a TaskGroup cancels the others when one call fails
    try:
        async with asyncio.TaskGroup() as tg:
            tasks = [tg.create_task(ask(p, m)) for p, m in CALLS[:3]]
    except* Exception:
        pass
    return [t.exception() or t.result() for t in tasks]

answer = three_or_errors
""",
    ),
)
async def _failures(answer: Any) -> None:
    for failing in ("InquiryClassification", "CustomerInfo"):
        ask = _FakeAsk(failing=failing)
        results = list(await _call(answer, ask) or [])
        expect(
            sorted(_names(ask.asked)) == sorted(ANALYSES),
            f"ask once for each of the three analyses: {', '.join(ANALYSES)}",
        )
        wrong = _wrong_prompts(ask)
        expect(not wrong, f"you asked for {(wrong or [''])[0]}: each analysis has its own prompt")
        expect(ask.most_at_once == 3, "the three calls should run at the same time")
        expect(
            len(results) == 3,
            f"when {failing} fails, return three results (its place holds the error), "
            f"not {len(results)}",
        )
        for name, result in zip(ANALYSES, results, strict=True):
            if name == failing:
                expect(
                    isinstance(result, _ModelDown),
                    f"the place of the failed {name} call holds {result!r:.80}, not its error",
                )
            else:
                expect(
                    getattr(result, "__name__", None) == name,
                    f"the place of {name} holds {result!r:.80}: keep the lesson's order",
                )


def _validated(workflow: Any) -> Any:
    """The build-time checks, as a plain-words problem instead of a traceback."""
    from support_lib.engine import Workflow, WorkflowDefinitionError

    expect(isinstance(workflow, Workflow), f"give a Workflow, not {type(workflow).__name__}")
    try:
        return workflow.compile()
    except WorkflowDefinitionError as exc:
        expect(False, f"the engine refuses the workflow: {exc}")


def _run_steps(plan: Any) -> set[str]:
    return {step.node for step in plan.next_steps() if step.action == "run"}


async def _run_scripted(workflow: Any) -> Any:
    """Run the graph with scripted answers for the workflow's nodes and fake support APIs:
    fast, offline, and independent of the stand-in model."""
    from support_lib.testing import FakeSupportAPI, ScriptedModel, support_answers

    async with FakeSupportAPI().deps(ScriptedModel(support_answers())) as deps:
        inputs = {"customer_message": "Where is my order #50422?"}
        return await workflow.arun(inputs, deps=deps, check=False)


_HINT_STATE = """
from typing_extensions import Required, TypedDict
from support_lib.engine import START, FunctionNode, Workflow
from support_lib.workflow import CustomerInfo, InquiryType, Sentiment
from support_lib.workflow.analysis import (analyze_sentiment, classify_inquiry,
                                           extract_customer_info)


class HintState(TypedDict, total=False):
    customer_message: Required[str]
    customer_info: CustomerInfo
    inquiry_type: InquiryType
    sentiment: Sentiment
    hint: bool


answer = Workflow("start_early", HintState)
for node in (extract_customer_info, classify_inquiry, analyze_sentiment):
    answer.add(node)
    answer.edge(START, node.name)
answer.add(FunctionNode("route_hint", reads=["inquiry_type"], writes=["hint"],
                        fn=lambda inputs: {"hint": inputs["inquiry_type"] == "billing"}))
"""
"""02.3's solution without its last edge(s), which the wrong answers change."""


@exercise(
    "02.3",
    "start early",
    hint="route_hint needs only inquiry_type, so its one incoming edge comes from "
    "classify_inquiry: then it may start while the extraction is still running.",
    solution=_HINT_STATE + 'answer.edge("classify_inquiry", "route_hint")\n',
    wrong=(
        _HINT_STATE
        + """
for name in ("extract_customer_info", "classify_inquiry", "analyze_sentiment"):
    answer.edge(name, "route_hint")
""",
        _HINT_STATE + 'answer.edge(START, "route_hint")\n',
        # an any-of join fed by all three: it starts after the first analysis, maybe
        # before the classification, and runs on the default instead
        _HINT_STATE.replace(
            'writes=["hint"],', 'writes=["hint"], join="any", defaults={"inquiry_type": "general"},'
        )
        + """
for name in ("extract_customer_info", "classify_inquiry", "analyze_sentiment"):
    answer.edge(name, "route_hint")
""",
    ),
)
async def _start_early(answer: Any) -> None:
    from support_lib.engine import Schedule

    graph = _validated(answer)
    analyses = ("extract_customer_info", "classify_inquiry", "analyze_sentiment")
    missing = [name for name in (*analyses, "route_hint") if name not in answer.nodes]
    expect(not missing, f"the workflow has no node {missing}")
    expect(
        "inquiry_type" in answer.nodes["route_hint"].reads, "route_hint should read inquiry_type"
    )
    plan = Schedule(graph)
    first = _run_steps(plan)
    expect(set(analyses) <= first, "the three analyses should all start at once, from START")
    expect("route_hint" not in first, "route_hint starts before the classification it reads exists")
    for other in ("extract_customer_info", "analyze_sentiment"):
        early = Schedule(graph)
        early.completed(other)
        expect(
            "route_hint" not in _run_steps(early),
            f"when only {other} has finished, route_hint may already start, before the "
            "classification it reads exists: its edge should come from classify_inquiry",
        )
    plan.completed("classify_inquiry")
    sources = sorted(e.source for e in graph.incoming["route_hint"])
    expect(
        "route_hint" in _run_steps(plan),
        f"when classify_inquiry has finished, route_hint still waits (its edges come "
        f"from {sources}): it should start while the extraction runs",
    )
    trace = await _run_scripted(answer)
    expect(trace.status == "completed", f"the run failed: {(trace.error or '')[:240]}")
    expect("hint" in trace.state, "route_hint ran but wrote no hint")


_COUNTING = """
import operator
from typing import Annotated
from typing_extensions import Required, TypedDict
from support_lib.engine import START, FunctionNode, Workflow


class CountState(TypedDict, total=False):
    customer_message: Required[str]
    notes: Annotated[list[str], operator.add]
    mentions: {mentions}


def spotter(name, word, note):
    def spot(inputs):
        found = word in inputs["customer_message"].lower()
        return {{"notes": [note] if found else [], "mentions": {count}}}
    return FunctionNode(name, spot, reads=["customer_message"], writes=["notes", "mentions"])


answer = Workflow("counting_spotters", CountState)
answer.add(spotter("spot_refund", "refund", "asks for a refund"))
answer.add(spotter("spot_order", "order", "names an order"))
answer.edge(START, "spot_refund").edge(START, "spot_order")
"""
"""02.4's answer, with the type of ``mentions`` and what a spotter counts left open."""

COUNT_MESSAGES = (
    "I've been charged twice for my order #12345. I want a refund immediately.",
    "Where is my ORDER? It has been two weeks.",
    "Please refund the second charge.",
    "Hello! How do I change my password?",
)
"""The checker's own messages: both words, one, the other, neither."""

SPOTTED = ("refund", "order")
"""The words the lesson's two spotters look for (in the lower-cased message)."""


@exercise(
    "02.4",
    "a reducer that counts",
    hint="A reducer combines a new write with the value already there: which function of "
    "two ints keeps both spotters' counts? (notes shows how a reducer is declared.)",
    solution=_COUNTING.format(mentions="Annotated[int, operator.add]", count="1 if found else 0"),
    wrong=(
        _COUNTING.format(mentions="int", count="1 if found else 0"),
        # a reducer that keeps only the last write: one spotter's count is lost
        _COUNTING.format(
            mentions="Annotated[int, lambda old, new: new]", count="1 if found else 0"
        ),
        _COUNTING.format(mentions="Annotated[int, operator.add]", count="1"),
        # the words looked for in the message as written: "ORDER" is not found
        _COUNTING.format(
            mentions="Annotated[int, operator.add]", count="1 if found else 0"
        ).replace(".lower()", ""),
        # capitalised words looked for in the lower-cased message: never found
        _COUNTING.format(mentions="Annotated[int, operator.add]", count="1 if found else 0")
        .replace('"refund", "asks', '"Refund", "asks')
        .replace('"order", "names', '"Order", "names'),
    ),
)
async def _counting_reducer(answer: Any) -> None:
    graph = _validated(answer)
    writers = [name for name, node in answer.nodes.items() if "mentions" in node.writes]
    expect(len(writers) >= 2, f"only {writers} write mentions: each spotter should")
    key = graph.schema.keys.get("mentions")
    expect(key is not None and key.reducer is not None, "mentions needs a reducer")
    for message in COUNT_MESSAGES:
        trace = await answer.arun({"customer_message": message}, check=False)
        expect(trace.status == "completed", f"the run failed: {(trace.error or '')[:240]}")
        notes, mentions = trace.state.get("notes", []), trace.state.get("mentions")
        expect(
            mentions == len(notes),
            f"for {message[:40]!r}... mentions is {mentions!r} while the spotters left "
            f"{len(notes)} note(s): "
            + (
                "a write was lost: the reducer must combine both writes, not keep one"
                if isinstance(mentions, int) and mentions < len(notes)
                else "count only the words that were found"
            ),
        )
        low = message.lower()
        words = [word for word in SPOTTED if word in low]
        expect(
            mentions == len(words),
            f"for {message[:40]!r}... mentions is {mentions!r}, but the message names "
            f"{len(words)} of the spotters' words {' and '.join(map(repr, SPOTTED))} (in any "
            "case): does each spotter look for its word in the lower-cased message?",
        )


def _graph_of(name: str, edges: list[tuple[str, str]]) -> Any:
    """A workflow of do-nothing nodes with these edges ("START" for the start)."""
    from typing_extensions import TypedDict

    from support_lib.engine import START, FunctionNode, Workflow

    names = sorted({n for edge in edges for n in edge} - {"START"})
    state = TypedDict(f"{name}_state", dict.fromkeys(names, bool), total=False)  # type: ignore[operator]
    wf = Workflow(name, state)
    for node in names:
        sources = [s for s, t in edges if t == node and s != "START"]
        wf.add(FunctionNode(node, lambda inputs, n=node: {n: True}, reads=sources, writes=[node]))
    for source, target in edges:
        wf.edge(START if source == "START" else source, target)
    return wf


# fmt: off
WAVE_GRAPHS = {
    "tiny": [("START", "fast"), ("fast", "fast_next"), ("fast_next", "done"),
             ("START", "slow"), ("slow", "done")],
    "triage": [("START", "extract"), ("START", "classify"), ("START", "sentiment"),
               ("extract", "log"), ("classify", "log"), ("sentiment", "log")],
    "long_and_short": [("START", "a"), ("START", "e"), ("a", "b"), ("b", "c"), ("e", "c"),
                       ("c", "d"), ("a", "d")],
}
# fmt: on
"""The checker's graphs: a short path and a long one into the same node, on purpose."""


def _depths(edges: list[tuple[str, str]]) -> dict[str, int]:
    """Each node's wave: the longest path from START, counted in edges."""
    depth: dict[str, int] = {}

    def wave(node: str) -> int:
        if node not in depth:
            sources = [s for s, t in edges if t == node and s != "START"]
            depth[node] = 1 + max((wave(s) for s in sources), default=0)
        return depth[node]

    for _, target in edges:
        wave(target)
    return depth


_WAVES_BFS = """
from support_lib.engine import START


def waves(wf):  # breadth first: a node lands in the wave of its SHORTEST path
    found, frontier, groups = set(), {START}, []
    while frontier:
        frontier = {e.target for e in wf.edges if e.source in frontier} - found
        found |= frontier
        groups.append(frontier)
    return [group for group in groups if group]


answer = waves
"""


@exercise(
    "02.5",
    "the wave scheduler",
    hint="A node's wave is 1 + the LATEST wave among the nodes with an edge into it "
    "(START counts as wave 0); then group the nodes by wave, in wave order.",
    solution="""
from support_lib.engine import START


def waves(wf):
    depth = {}

    def wave(name):
        if name not in depth:
            sources = [e.source for e in wf.edges if e.target == name and e.source != START]
            depth[name] = 1 + max((wave(source) for source in sources), default=0)
        return depth[name]

    groups = {}
    for name in wf.nodes:
        groups.setdefault(wave(name), set()).add(name)
    return [groups[d] for d in sorted(groups)]


answer = waves
""",
    wrong=(
        _WAVES_BFS,
        # one node per wave, in a dependency order: right order, no concurrency at all
        "answer = lambda wf: [{name} for name in wf.compile().order]",
    ),
)
def _waves(answer: Any) -> None:
    expect(callable(answer), "give your function waves(wf) itself")
    for name, edges in WAVE_GRAPHS.items():
        expected = _depths(edges)
        try:
            groups = [set(group) for group in answer(_graph_of(name, edges))]
        except TypeError:
            expect(False, "waves(wf) should return a list of sets of node names")
        got = {node: i + 1 for i, group in enumerate(groups) for node in group}
        expect(
            sorted(got) == sorted(expected) and sum(map(len, groups)) == len(expected),
            f"on the checker's graph '{name}', each node should be in exactly one wave",
        )
        for node in sorted(expected, key=expected.__getitem__):
            sources = sorted(s for s, t in edges if t == node and s != "START")
            expect(
                got[node] == expected[node],
                f"on the checker's graph '{name}', {node} (after {sources or 'START'}) is "
                f"in wave {got[node]}, not {expected[node]}",
            )
