"""Lesson 04's exercises: escalation by a rule, by a model, with a floor, and its price.

The deciders a learner writes are run on states and messages the checkers choose (not the
lesson's examples), and compared with what the library decides on the same input.
"""

from __future__ import annotations

import itertools
import random
from typing import Any

from . import exercise, expect

HUMAN_WORDS = ("manager", "supervisor", "real person", "human")
"""The words of exercise 04.2's keyword rule."""


def _labels(state: dict[str, Any]) -> str:
    return (
        f"{state['inquiry_type']} · {state['sentiment']} · {state['customer_info']['urgency']}"
        f" · account_action {state['account_action']}"
    )


# ----------------------------------------------------------------------------- 04.1


def _lesson_messages() -> set[str]:
    """Messages the lesson already shows: the labeled set and the kit's default."""
    from support_lib.examples import load_labeled
    from support_lib.workflow import DEFAULT_MESSAGE

    texts = [row["message"] for row in load_labeled()] + [DEFAULT_MESSAGE]
    return {" ".join(text.lower().split()) for text in texts}


@exercise(
    "04.1",
    "a message only the LLM node escalates",
    hint="Write a calm or mildly unhappy English message about an ordinary request in which "
    "the customer asks for a person in their own words (a real person, a callback...). "
    "Run it with arun and compare rule_decision(trace) with the run's escalation.",
    solution="""
answer = ("Could a real person look at my delivery problem? "
          "The chatbot keeps sending me in circles.")
""",
    wrong=(
        'answer = "Hi, when will my order #50422 arrive? No rush, thanks!"',
        'answer = "The app keeps crashing and I have lost my notes twice. So frustrating."',
        'answer = "Bonjour, ma commande 74420 n\'est toujours pas arrivée. Où est-elle ?"',
        # escalated for the suspended account of order 12345, not for asking for a person
        'answer = "Hi, could you send me a copy of the invoice for order #12345? Thanks."',
    ),
    praise="Right: the labels give the rule nothing to act on, the message itself does.",
)
async def _only_the_llm_node_escalates(answer: Any) -> None:
    """Run the real workflow on the learner's message; compare the two deciders on it."""
    from mock_server.offline.extract import wants_human
    from mock_server.offline.language import detect_language
    from support_lib.kit import arun
    from support_lib.workflow import SupportResult, rule_escalation

    expect(isinstance(answer, str) and answer.strip(), "give the message as a string")
    expect(
        " ".join(answer.lower().split()) not in _lesson_messages(),
        "that message is one of the lesson's: write one of your own",
    )
    language = detect_language(answer)
    expect(
        language.code == "en",
        f"the stand-in reads this as {language.name}, and it escalates every message that is "
        "not in English: write in English, so that the difference comes from what the "
        "customer asks",
    )
    trace = await arun(answer, check=False)
    expect(trace.status == "completed", f"the run did not complete: {str(trace.error)[:80]}")
    state = {"account_action": None, **trace.state}
    rule = rule_escalation(state)["escalation_decision"]
    expect(
        rule["decision"] == "generate_response",
        f"the fixed rule escalates it too ({rule['reason']}; labels: {_labels(state)})",
    )
    result = SupportResult.from_trace(trace)
    expect(
        result.escalated,
        f"the LLM node answers it automatically too ({result.escalation.reason[:160]})",
    )
    expect(
        wants_human(answer),
        f"the LLM node escalates it, but not because the customer asks for a person "
        f"({result.escalation.reason[:160]}): write a message that asks for one",
    )


# ----------------------------------------------------------------------------- 04.2

MESSAGES = (
    "Where is my parcel? It was due on Monday.",
    "I want to speak to your MANAGER about this.",
    "Is there a real person reading these emails?",
    "Please pass this to a Supervisor, thank you.",
    "My lawyer will hear about this.",
    "Thanks, everything arrived in good shape.",
    "Could the person who packed my order add a gift note?",
)
"""The checker's messages: none of the lesson's, some with capitals, one legal threat."""


def _states() -> list[dict[str, Any]]:
    """Every label combination (three kinds of account action) with every message."""
    from support_lib.workflow import INQUIRY_TYPES, SENTIMENTS, URGENCIES

    actions = (None, "needs_manual_review", "refund_eligible")
    grid = itertools.product(MESSAGES, INQUIRY_TYPES, SENTIMENTS, URGENCIES, actions)
    return [
        {
            "customer_message": message,
            "inquiry_type": inquiry,
            "sentiment": sentiment,
            "customer_info": {"urgency": urgency},
            "account_action": action,
        }
        for message, inquiry, sentiment, urgency, action in grid
    ]


def _keyword_reference(state: dict[str, Any]) -> str:
    from support_lib.workflow import rule_escalation

    if rule_escalation(state)["escalated"]:
        return "escalate"
    low = state["customer_message"].lower()
    return "escalate" if any(word in low for word in HUMAN_WORDS) else "generate_response"


@exercise(
    "04.2",
    "a rule that also reads words",
    hint="Start from rule_escalation(state)['escalated'] (it includes the legal floor); then "
    "look for the four words in state['customer_message'].lower(). Return the label, "
    "'escalate' or 'generate_response'.",
    solution="""
from support_lib.workflow import rule_escalation

HUMAN_WORDS = ("manager", "supervisor", "real person", "human")


def keyword_rule(state):
    if rule_escalation(state)["escalated"]:
        return "escalate"
    message = state["customer_message"].lower()
    if any(word in message for word in HUMAN_WORDS):
        return "escalate"
    return "generate_response"


answer = keyword_rule
""",
    wrong=(
        """
from support_lib.workflow import rule_escalation

def keyword_rule(state):
    if rule_escalation(state)["escalated"]:
        return "escalate"
    words = ("manager", "supervisor", "real person", "human")
    if any(word in state["customer_message"] for word in words):
        return "escalate"
    return "generate_response"

answer = keyword_rule
""",
        """
def keyword_rule(state):
    urgency = state["customer_info"]["urgency"]
    if state["inquiry_type"] == "technical" and state["sentiment"] == "negative":
        return "escalate"
    if urgency == "high" or state["account_action"] == "needs_manual_review":
        return "escalate"
    words = ("manager", "supervisor", "real person", "human")
    if any(word in state["customer_message"].lower() for word in words):
        return "escalate"
    return "generate_response"

answer = keyword_rule
""",
        """
from support_lib.workflow import rule_escalation

def keyword_rule(state):
    words = ("manager", "supervisor", "real person", "human")
    message = state["customer_message"].lower()
    return rule_escalation(state)["escalated"] or any(w in message for w in words)

answer = keyword_rule
""",
        # "person" alone: a message about the person who packed the order escalates
        """
from support_lib.workflow import rule_escalation

def keyword_rule(state):
    if rule_escalation(state)["escalated"]:
        return "escalate"
    words = ("manager", "supervisor", "person", "human")
    if any(word in state["customer_message"].lower() for word in words):
        return "escalate"
    return "generate_response"

answer = keyword_rule
""",
    ),
)
def _keyword_rule(answer: Any) -> None:
    """Run the learner's rule on every label combination with the checker's messages."""
    from support_lib.workflow import DECISIONS

    expect(callable(answer), "give the function itself (answer = keyword_rule), not a call")
    for state in _states():
        got = answer({**state, "customer_info": dict(state["customer_info"])})
        expect(
            got in DECISIONS,
            f"return the decision label ('escalate' or 'generate_response'), not {got!r:.80}",
        )
        want = _keyword_reference(state)
        expect(
            got == want,
            f"for the message {state['customer_message']!r} with the labels "
            f"{_labels(state)}, your rule says {got!r}; it should say {want!r}",
        )


# ----------------------------------------------------------------------------- 04.3


def _respond(state: dict[str, Any]) -> dict[str, str]:
    return {"decision": "generate_response", "reason": "no escalation criterion is met"}


def _escalate(state: dict[str, Any]) -> dict[str, str]:
    return {"decision": "escalate", "reason": "the urgency is high"}


FLOOR_MESSAGES = (
    "Where is my parcel? It was due on Monday.",
    "My LAWYER will call you tomorrow.",
    "I will file a Chargeback with my bank.",
    "Fine. I'll see you in small claims then.",
    "Thanks, all sorted now!",
    "I pursued the courier for a week, where is my parcel?",  # "sued" is a legal word
    "My nephew Nicolas loves the toy!",
)


def _floor_cases() -> list[tuple[Any, dict[str, Any]]]:
    return [
        (decide, {"customer_message": message, "inquiry_type": "general"})
        for decide in (_escalate, _respond)
        for message in FLOOR_MESSAGES
    ]


@exercise(
    "04.3",
    "a floor that only raises",
    hint="In the wrapped decider, call decide(state) first; if legal_words_in(message) finds "
    "a word and the decision is not 'escalate', return an escalation whose reason names the "
    "word; otherwise return decide's answer unchanged.",
    solution="""
from support_lib.workflow.escalation import legal_words_in


def with_floor(decide):
    def floored(state):
        decision = decide(state)
        legal = legal_words_in(state["customer_message"])
        if legal and decision["decision"] != "escalate":
            return {"decision": "escalate", "reason": f"the message mentions {', '.join(legal)}"}
        return decision
    return floored


answer = with_floor
""",
    wrong=(
        """
from support_lib.workflow.escalation import LEGAL_WORDS

def with_floor(decide):
    def floored(state):
        decision = decide(state)
        legal = [word for word in LEGAL_WORDS if word in state["customer_message"]]
        if legal:
            return {"decision": "escalate", "reason": f"the message mentions {legal[0]}"}
        return decision
    return floored

answer = with_floor
""",
        """
def with_floor(decide):
    def floored(state):
        if "lawyer" in state["customer_message"].lower():
            return {"decision": "escalate", "reason": "the message mentions a lawyer"}
        return decide(state)
    return floored

answer = with_floor
""",
        """
from support_lib.workflow.escalation import legal_words_in

def with_floor(decide):
    def floored(state):
        legal = legal_words_in(state["customer_message"])
        if legal:
            return {"decision": "escalate", "reason": f"the message mentions {legal[0]}"}
        return {"decision": "generate_response", "reason": "no legal words"}
    return floored

answer = with_floor
""",
        # legal words found as substrings: "sued" (a legal word) inside "pursued"
        """
from support_lib.workflow.escalation import LEGAL_WORDS

def with_floor(decide):
    def floored(state):
        decision = decide(state)
        text = state["customer_message"].lower()
        legal = [w.rstrip("*") for w in LEGAL_WORDS if w.rstrip("*") in text]
        if legal and decision["decision"] != "escalate":
            return {"decision": "escalate", "reason": f"the message mentions {legal[0]}"}
        return decision
    return floored

answer = with_floor
""",
    ),
)
def _floor(answer: Any) -> None:
    """Wrap the checker's own deciders; compare with the library's floor on its messages."""
    from support_lib.workflow.escalation import escalation_to_state, legal_words_in

    expect(callable(answer), "give the function itself (answer = with_floor), not a call")
    for decide, state in _floor_cases():
        inner = decide(state)
        want = escalation_to_state(inner, state)["escalation_decision"]
        floored = answer(decide)
        expect(callable(floored), "with_floor(decide) must return a function of the state")
        got = floored(dict(state))
        expect(
            isinstance(got, dict) and "decision" in got,
            f"the wrapped decider must return a dict with 'decision' and 'reason', not {got!r:.80}",
        )
        said = f"when the decider says {inner['decision']!r} and the message is "
        said += f"{state['customer_message']!r}, yours says {got['decision']!r}"
        legal = legal_words_in(state["customer_message"])
        why = "" if legal else " (it names no legal word: legal_words_in matches whole words)"
        expect(
            got["decision"] == want["decision"], f"{said}; it should say {want['decision']!r}{why}"
        )
        if legal and inner["decision"] != "escalate":
            reason = str(got.get("reason", "")).lower()
            expect(
                any(word in reason for word in legal),
                f"{said}, but its reason {got.get('reason')!r:.80} does not name {legal[0]!r}",
            )
        elif not legal:
            expect(
                got == inner,
                f"without a legal word, return the decider's answer unchanged: for "
                f"{inner!r} yours returns {got!r:.80}",
            )


# ----------------------------------------------------------------------------- 04.4

MISSED_USD, UNNEEDED_USD = 50, 2


def _cost_cases() -> list[tuple[list[bool], list[bool]]]:
    """A few obvious cases, then random ones (seeded: the same every time)."""
    rng = random.Random(4)
    cases = [([], []), ([False], [True]), ([True], [False]), ([True, False], [True, False])]
    for size in (5, 12, 30):
        cases.append(([rng.random() < 0.4 for _ in range(size)],
                      [rng.random() < 0.3 for _ in range(size)]))  # fmt: skip
    return cases


@exercise(
    "04.4",
    "price the errors",
    hint="A missed escalation was wanted but not decided; an unneeded one was decided but "
    "not wanted. Count each over zip(decisions, wanted), then price them: $50 and $2.",
    solution="""
def error_cost(decisions, wanted):
    missed = sum(w and not d for d, w in zip(decisions, wanted, strict=True))
    unneeded = sum(d and not w for d, w in zip(decisions, wanted, strict=True))
    return 50 * missed + 2 * unneeded


answer = error_cost
""",
    wrong=(
        """
def error_cost(decisions, wanted):
    missed = sum(d and not w for d, w in zip(decisions, wanted, strict=True))
    unneeded = sum(w and not d for d, w in zip(decisions, wanted, strict=True))
    return 50 * missed + 2 * unneeded

answer = error_cost
""",
        """
def error_cost(decisions, wanted):
    return 50 * sum(d != w for d, w in zip(decisions, wanted, strict=True))

answer = error_cost
""",
    ),
)
def _error_cost(answer: Any) -> None:
    """Compare the learner's price with the checker's on lists it makes up."""
    expect(callable(answer), "give the function itself (answer = error_cost), not a number")
    for decisions, wanted in _cost_cases():
        missed = sum(w and not d for d, w in zip(decisions, wanted, strict=True))
        unneeded = sum(d and not w for d, w in zip(decisions, wanted, strict=True))
        want = MISSED_USD * missed + UNNEEDED_USD * unneeded
        got = answer(list(decisions), list(wanted))
        expect(
            isinstance(got, (int, float)) and abs(got - want) < 1e-9,
            f"for decisions={_short(decisions)} and wanted={_short(wanted)} (T: escalate; "
            f"{missed} missed, {unneeded} unneeded), your cost is {got!r:.40}; it should be "
            f"${want}",
        )


def _short(flags: list[bool]) -> str:
    text = "[" + ", ".join("T" if flag else "F" for flag in flags) + "]"
    return text if len(text) <= 40 else text[:37] + "…]"
