"""Lesson 05's exercises: the quality loop (score, rewrite below the pass mark, a budget).

The checkers run what the learner built, a gate or a loop, with answers they script
themselves (``ScriptedModel``, or plain functions for the hand-written loop), so every
way out of the loop is tried, whatever the offline model would say. The expected routes
come from :func:`routes_for`, the loop's rule written out once here.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Required

from typing_extensions import TypedDict

from ..engine import START, Router, Workflow, WorkflowDefinitionError
from ..testing import ScriptedModel
from ..workflow import (
    PASS_SCORE,
    AccountAction,
    AccountStatus,
    CustomerInfo,
    InquiryType,
    QualityScore,
    QualityVerdict,
    ResponseContext,
    Sentiment,
)
from . import Wrong, as_pair, exercise, expect


class LoopState(TypedDict, total=False):
    """The state of the quality loop on its own (as in the lesson)."""

    customer_message: Required[str]
    customer_info: Required[CustomerInfo]
    inquiry_type: Required[InquiryType]
    sentiment: Required[Sentiment]
    account_status: AccountStatus
    account_action: AccountAction
    response_context: ResponseContext
    generated_response: str
    candidate_response: str
    quality_score: QualityVerdict
    regenerated_response: str
    regenerations: int
    final_response_draft: str


INPUTS = {
    "customer_message": "My parcel for order 70311 is a week late. Where is it?",
    "customer_info": {"customer_name": "Sam Lee", "order_id": "70311", "product": None,
                      "urgency": "medium", "subject": "Late parcel (order #70311)"},
    "inquiry_type": "shipping",
    "sentiment": "negative",
}  # fmt: skip
PLAN = {"key_points": ["the parcel is late"], "tone": "empathetic",
        "suggested_solutions": ["ask the carrier"], "additional_info_needed": []}  # fmt: skip


def quality_loop(limit: int, gate: Router) -> Workflow:
    """Nodes 9-14 with ``gate`` as the quality gate; the loop edge allows ``limit`` rounds."""
    from ..workflow.reply import (
        generate_response,
        generate_response_context,
        merge_responses,
        regenerate_response,
        score_response,
    )

    wf = Workflow("quality_loop", LoopState)
    for node in (generate_response_context, generate_response, score_response, gate,
                 regenerate_response, merge_responses):  # fmt: skip
        wf.add(node)
    wf.edge(START, "generate_response_context")
    wf.edge("generate_response_context", "generate_response")
    wf.edge("generate_response", "score_response")
    wf.edge("score_response", "quality_gate")
    wf.edge("quality_gate", "merge_responses", when="pass")
    wf.edge("quality_gate", "merge_responses", when="exhausted")
    wf.edge("quality_gate", "regenerate_response", when="fail")
    wf.edge("regenerate_response", "score_response", loop_limit=limit)
    return wf


def scripted_model(scores: list[int]) -> ScriptedModel:
    """A model whose reviewer gives ``scores`` in turn and whose rewrites are numbered."""
    rewrites = iter(range(1, 100))
    return ScriptedModel({
        "generate_response_context": PLAN,
        "generate_response": "First draft.",
        "score_response": [{"score": s, "issues": ["name the order"]} for s in scores],
        "regenerate_response": lambda _request: f"Rewrite {next(rewrites)}.",
    })  # fmt: skip


def routes_for(scores: list[int], budget: int, pass_mark: int = PASS_SCORE) -> list[str]:
    """The gate's verdicts for the reviewer's ``scores``: pass at the mark or above, fail
    while rewrites are left, exhausted when the budget is spent."""
    routes: list[str] = []
    for rewrites_so_far, score in enumerate(scores):
        if score >= pass_mark:
            return [*routes, "pass"]
        if rewrites_so_far == budget:
            return [*routes, "exhausted"]
        routes.append("fail")
    raise ValueError("the script has too few scores")


# ----------------------------------------------------------------------------- 05.1

GATE_CASES = (  # (max_regenerations, pass_mark, the reviewer's scores in turn)
    (2, 9, [8, 9, 10]), (2, 7, [6, 7, 10]), (1, 7, [3, 4]), (3, 10, [9, 9, 9, 9]),
    (2, 8, [10, 1, 1]),
)  # fmt: skip


@exercise(
    "05.1",
    "raise the bar",
    hint="Start from quality_gate (print its source): decide on "
    "inputs['quality_score']['score'] and pass_mark instead of 'passed'. A score equal to "
    "the pass mark passes, and regenerations counts the rewrites already made (none yet "
    "at the first review: defaults={'regenerations': 0}).",
    solution="""
from support_lib.engine import Router


def strict_gate(max_regenerations, pass_mark):
    def decide(inputs):
        if inputs["quality_score"]["score"] >= pass_mark:
            return "pass"
        return "fail" if inputs["regenerations"] < max_regenerations else "exhausted"

    return Router("quality_gate", decide, routes=("pass", "fail", "exhausted"),
                  reads=("quality_score", "regenerations"), defaults={"regenerations": 0})


answer = strict_gate
""",
    wrong=(
        """
from support_lib.engine import Router

def strict_gate(max_regenerations, pass_mark):
    def decide(inputs):
        if inputs["quality_score"]["score"] > pass_mark:
            return "pass"
        return "fail" if inputs["regenerations"] < max_regenerations else "exhausted"
    return Router("quality_gate", decide, routes=("pass", "fail", "exhausted"),
                  reads=("quality_score", "regenerations"), defaults={"regenerations": 0})

answer = strict_gate
""",
        """
from support_lib.engine import Router

def strict_gate(max_regenerations, pass_mark):
    def decide(inputs):
        if inputs["quality_score"]["score"] >= pass_mark:
            return "pass"
        return "fail" if inputs["regenerations"] <= max_regenerations else "exhausted"
    return Router("quality_gate", decide, routes=("pass", "fail", "exhausted"),
                  reads=("quality_score", "regenerations"), defaults={"regenerations": 0})

answer = strict_gate
""",
        """
from support_lib.workflow.reply import quality_gate

def strict_gate(max_regenerations, pass_mark):
    return quality_gate(max_regenerations)

answer = strict_gate
""",
        # no default for regenerations: nothing has written it before the first review
        """
from support_lib.engine import Router

def strict_gate(max_regenerations, pass_mark):
    def decide(inputs):
        if inputs["quality_score"]["score"] >= pass_mark:
            return "pass"
        return "fail" if inputs["regenerations"] < max_regenerations else "exhausted"
    return Router("quality_gate", decide, routes=("pass", "fail", "exhausted"),
                  reads=("quality_score", "regenerations"))

answer = strict_gate
""",
    ),
)
async def _strict_gate(answer: Any) -> None:
    """Put the learner's gate into the loop and run it on scripted reviews."""
    expect(callable(answer), "give the function itself (answer = strict_gate), not a Router")
    for budget, mark, scores in GATE_CASES:
        gate = answer(budget, mark)
        expect(
            isinstance(gate, Router) and gate.name == "quality_gate",
            f"strict_gate must return a Router named 'quality_gate', not {gate!r:.80}",
        )
        try:
            trace = await quality_loop(budget, gate).arun(
                INPUTS, deps=SimpleNamespace(llm=scripted_model(scores)), check=False
            )
        except WorkflowDefinitionError as exc:
            defaults = getattr(gate, "defaults", None) or {}
            expect(
                "regenerations" not in gate.reads or "regenerations" in defaults,
                "the gate reads regenerations, which nothing has written before the first "
                "review: give the Router defaults={'regenerations': 0}",
            )
            expect(False, f"the engine refuses the loop with your gate: {exc}")
        got = [run.route for run in trace.runs_of("quality_gate") if run.route]
        want = routes_for(scores, budget, mark)
        case = f"with max_regenerations={budget}, pass_mark={mark} and the scores {scores}"
        expect(
            trace.status == "completed",
            f"{case}, the run failed after the routes {got}: {str(trace.error)[:240]}",
        )
        expect(got == want, f"{case}, your gate chose {got}; it should choose {want}")


# ----------------------------------------------------------------------------- 05.2


def _knobs() -> dict[str, Any]:
    """The mock server's knobs as they are now (read without changing them)."""
    import httpx

    from ..kit import local_mock

    return httpx.get(local_mock().url + "/_config", trust_env=False).json()


CALM_QUESTIONS = (  # the reference answer's (for the wrong answers)
    "Hi, when will my order #50422 arrive? No rush, thanks!",
    "Can I change the colour of the jacket I ordered yesterday? Order 33120.",
    "How do I change the email address on my account?",
    "Do you ship to Canada, and how long does it take?",
    "Where can I download last month's invoice? Thanks.",
)


def _first_score(trace: Any) -> int:
    checks = [run for run in trace.runs_of("score_response") if run.status == "completed"]
    return checks[0].output["quality_score"]["score"]


def _budget(trace: Any) -> int:
    """The run's max_regenerations: the limit of its loop edge (none: no rewrite)."""
    limits = [edge["loop_limit"] for edge in trace.graph["edges"] if edge.get("loop_limit")]
    return limits[0] if limits else 0


def _check_run(trace: Any) -> None:
    """One learner run: completed, answered (not escalated), its routes follow the rule."""
    from ..workflow import SupportResult

    result = SupportResult.from_trace(trace)
    said = f"the run of {trace.inputs.get('customer_message', '')[:60]!r}"
    expect(result.status == "completed", f"{said} did not complete: {str(result.error)[:80]}")
    expect(
        not result.escalated,
        f"{said} escalated ({result.escalation.reason[:80]}): choose calm questions that "
        "the workflow answers itself",
    )
    scores = [run.output["quality_score"]["score"]
              for run in trace.runs_of("score_response") if run.status == "completed"]  # fmt: skip
    routes = [run.route for run in trace.runs_of("quality_gate") if run.route]
    want = routes_for(scores, _budget(trace))
    expect(routes == want, f"{said} has the routes {routes} for the scores {scores}, not {want}")
    expect(
        result.regenerations == routes.count("fail"),
        f"{said} counts {result.regenerations} rewrites for the routes {routes}",
    )


@exercise(
    "05.2",
    "half of the drafts vague",
    hint="server.configure(sloppy_writer=0.5), then answer = [await arun(m) for m in "
    "messages] with five (or more) different calm questions; keep adding messages until "
    "some first drafts fail review and some pass. Turn the knob off afterwards.",
    solution="""
from support_lib.kit import local_mock, run

MESSAGES = [
    "Hi, when will my order #50422 arrive? No rush, thanks!",
    "Can I change the colour of the jacket I ordered yesterday? Order 33120.",
    "How do I change the email address on my account?",
    "Do you ship to Canada, and how long does it take?",
    "Where can I download last month's invoice? Thanks.",
]
server = local_mock()
server.configure(sloppy_writer=0.5)  # about half of the first drafts are vague
answer = [run(message) for message in MESSAGES]
server.configure(sloppy_writer=0.0)
""",
    wrong=(
        """
from support_lib.exercises.lesson05 import CALM_QUESTIONS
from support_lib.kit import local_mock, run

local_mock().configure(sloppy_writer=0.0)  # the knob left off
answer = [run(message) for message in CALM_QUESTIONS]
""",
        """
from support_lib.exercises.lesson05 import CALM_QUESTIONS
from support_lib.kit import local_mock, run
from support_lib.workflow import DEFAULT_MESSAGE

local_mock().configure(sloppy_writer=0.5)
answer = [run(message) for message in [*CALM_QUESTIONS[1:], DEFAULT_MESSAGE]]  # escalates
local_mock().configure(sloppy_writer=0.0)
""",
        """
from support_lib.kit import local_mock, run

local_mock().configure(sloppy_writer=0.5)
answer = [run("Do you ship to Canada, and how long does it take?") for _ in range(5)]
local_mock().configure(sloppy_writer=0.0)
""",
        # right runs, but the knob is left on: every later run gets vague drafts
        """
from support_lib.exercises.lesson05 import CALM_QUESTIONS
from support_lib.kit import local_mock, run

local_mock().configure(sloppy_writer=0.5)
answer = [run(message) for message in CALM_QUESTIONS]
""",
    ),
)
def _half_vague(answer: Any) -> None:
    """The learner's runs: five different answered questions, vague and good drafts."""
    from ..engine import Trace

    expect(
        isinstance(answer, (list, tuple)) and all(isinstance(t, Trace) for t in answer),
        "give a list of the traces of your runs (what arun returns)",
    )
    messages = {trace.inputs.get("customer_message") for trace in answer}
    expect(len(messages) >= 5, f"run at least five different messages (you have {len(messages)})")
    for trace in answer:
        _check_run(trace)
    vague = [_first_score(trace) < PASS_SCORE for trace in answer]
    expect(
        any(vague),
        "no first draft failed its review: is server.configure(sloppy_writer=0.5) on?",
    )
    expect(
        not all(vague),
        "every first draft failed its review: at 0.5 about half should pass (is the knob at "
        "1.0? else add a few messages)",
    )
    knob = _knobs()["sloppy_writer"]
    expect(
        not knob,
        f"the sloppy_writer knob is still at {knob}: every later run gets vague drafts; "
        "turn it off with server.configure(sloppy_writer=0.0)",
    )


# ----------------------------------------------------------------------------- 05.3

BEST_CASES = (  # (budget, the reviewer's scores for the draft and each rewrite)
    (2, [5, 6, 4]), (2, [8]), (2, [5, 7]), (2, [6, 3, 2]), (0, [3]), (3, [2, 5, 4, 3]),
)  # fmt: skip


def _best_reference(budget: int, scores: list[int]) -> tuple[str, str, list[int]]:
    routes = routes_for(scores, budget)
    replies = ["Draft."] + [f"Rewrite {n}." for n in range(1, len(routes))]
    seen = scores[: len(routes)]
    if routes[-1] == "pass":
        return replies[-1], "pass", seen
    best = max(range(len(seen)), key=lambda i: (seen[i], -i))  # the first of the best
    return replies[best], "exhausted", seen


def _scripted_reviewer(budget: int, scores: list[int]) -> tuple[Any, Any, dict[str, int]]:
    """review(reply) and regenerate(reply, score) as plain functions, counting calls."""
    padded = scores + [1] * (budget + 1 - len(scores))
    calls = {"review": 0, "regenerate": 0}

    def review(reply: str) -> QualityScore:
        calls["review"] += 1
        if calls["review"] > budget + 1:
            raise Wrong(f"review was called {calls['review']} times with a budget of {budget}")
        return QualityScore(score=padded[calls["review"] - 1], issues=["name the order"])

    def regenerate(reply: str, score: QualityScore) -> str:
        calls["regenerate"] += 1
        return f"Rewrite {calls['regenerate']}."

    return review, regenerate, calls


@exercise(
    "05.3",
    "keep the best, not the last",
    hint="Inside the loop of improve, remember (score, reply) of the best reply so far; "
    "return it instead of the last reply when the budget is spent. Keep the rest as it was: "
    "a score of 7 passes, and the loop checks at most budget + 1 replies.",
    solution="""
from support_lib.workflow import PASS_SCORE


def improve_best(reply, budget, review, regenerate, pass_mark=PASS_SCORE):
    scores, best = [], None
    for attempt in range(budget + 1):
        score = review(reply)
        scores.append(score.score)
        if score.score >= pass_mark:
            return reply, "pass", scores
        if best is None or score.score > best[0]:
            best = (score.score, reply)
        if attempt == budget:
            return best[1], "exhausted", scores
        reply = regenerate(reply, score)


answer = improve_best
""",
    wrong=(
        """
def improve_best(reply, budget, review, regenerate, pass_mark=7):
    scores = []
    for attempt in range(budget + 1):
        score = review(reply)
        scores.append(score.score)
        if score.score >= pass_mark:
            return reply, "pass", scores
        if attempt == budget:
            return reply, "exhausted", scores
        reply = regenerate(reply, score)

answer = improve_best
""",
        """
def improve_best(reply, budget, review, regenerate, pass_mark=7):
    scores, best = [], None
    for attempt in range(budget + 1):
        score = review(reply)
        scores.append(score.score)
        if score.score > pass_mark:
            return reply, "pass", scores
        if best is None or score.score > best[0]:
            best = (score.score, reply)
        if attempt == budget:
            return best[1], "exhausted", scores
        reply = regenerate(reply, score)

answer = improve_best
""",
        """
def improve_best(reply, budget, review, regenerate, pass_mark=7):
    scores, best = [], None
    for attempt in range(budget):
        score = review(reply)
        scores.append(score.score)
        if score.score >= pass_mark:
            return reply, "pass", scores
        if best is None or score.score > best[0]:
            best = (score.score, reply)
        reply = regenerate(reply, score)
    return (best[1] if best else reply), "exhausted", scores

answer = improve_best
""",
    ),
)
def _keep_the_best(answer: Any) -> None:
    """Run the learner's loop with scripted reviews; compare with the reference."""
    expect(callable(answer), "give the function itself (answer = improve_best)")
    for budget, scores in BEST_CASES:
        review, regenerate, calls = _scripted_reviewer(budget, scores)
        got = answer("Draft.", budget, review, regenerate)
        want = _best_reference(budget, scores)
        case = f"with budget={budget} and the scores {scores} in turn (then 1 for any more)"
        given, got = got, as_pair(got, 3)
        expect(
            got is not None,
            f"return (reply, how it ended, scores) as improve does, not {given!r:.80}",
        )
        scores_given = got[2]
        expect(
            isinstance(scores_given, (list, tuple)),
            f"the third item should be the list of scores, not {scores_given!r:.40}",
        )
        got = (got[0], got[1], list(scores_given))
        expect(got == want, f"{case}, yours returned {got!r:.120}; the answer is {want}")
        rewrites = len(want[2]) - 1
        expect(
            calls["regenerate"] == rewrites,
            f"{case}, regenerate was called {calls['regenerate']} times, not {rewrites}: "
            "a rewrite that is never checked is paid for nothing",
        )


# ----------------------------------------------------------------------------- 05.4


async def calls_paid(limit: int) -> tuple[int, int]:
    """(reviewer calls, writer's rewrite calls) of a loop whose gate never lets go."""
    model = scripted_model([3] * (limit + 5))
    always_fail = Router("quality_gate", lambda _: "fail", routes=("pass", "fail", "exhausted"))
    trace = await quality_loop(limit, always_fail).arun(
        INPUTS, deps=SimpleNamespace(llm=model), check=False
    )
    if trace.status != "failed":
        raise RuntimeError("a gate that always fails should make the run fail")
    return len(model.calls_of("score_response")), len(model.calls_of("regenerate_response"))


@exercise(
    "05.4",
    "break the gate on purpose",
    hint="Run the broken gate with quality_loop(1, gate=...), then 2 and 3, and count "
    "len(trace.runs_of('score_response')) and len(trace.runs_of('regenerate_response')) "
    "(a failed run of a node was paid too). Then write the rule as a function of the limit.",
    solution="""
def calls_paid(loop_limit):
    # Each round pays a check and a rewrite. The engine refuses only when asked to follow
    # the loop edge once more than its limit: after the last rewrite was already written.
    return loop_limit + 1, loop_limit + 1


answer = calls_paid
""",
    wrong=(
        "answer = lambda loop_limit: (loop_limit + 1, loop_limit)",
        "answer = lambda loop_limit: (loop_limit, loop_limit)",
    ),
    praise="Right: the bound holds, and the last rewrite is paid for and thrown away.",
)
async def _broken_gate(answer: Any) -> None:
    """Compare the learner's rule with calls counted on scripted runs, limits 1 to 4."""
    expect(callable(answer), "give a function of the loop limit (answer = calls_paid)")
    for limit in (1, 2, 3, 4):
        given, want = answer(limit), await calls_paid(limit)
        got = as_pair(given)
        expect(got is not None, f"return a pair (reviewer calls, rewrite calls), not {given!r:.40}")
        wrong = [
            name for name, g, w in zip(("reviewer", "rewrite"), got, want, strict=True) if g != w
        ]
        what = "both counts are" if len(wrong) == 2 else f"the {''.join(wrong)} count is"
        expect(
            not wrong,
            f"with loop_limit={limit} your rule says {tuple(got)}: {what} off (count the "
            "runs of a broken loop again, failed ones included)",
        )
