"""Replies that answer the request, and a reviewer that measures something real.

The writer (:func:`write_reply`) builds a reply from what the analysis decided: the
customer's intent (its template in ``intents.py``), their name, order and product, the
tone their sentiment calls for, and the account's state. It never promises money back
unless the account says the customer is eligible (``refund_eligible``), and it says so
when the message is not in English.

The reviewer (:func:`review`) scores a reply from 10 down, one deduction per real defect:
off-topic for the request, the order number or name missing, the wrong tone for the
customer's mood, a promise the account does not allow, no concrete next step, no offer of
further help, leftovers of a template, or a length out of range. It knows nothing about
how the writer works, so it can fail any writer, including a real model.

For the quality-loop lesson, the mock server's ``sloppy_writer`` knob makes some first
drafts leave something out on purpose; the lesson says so. Off by default.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .extract import first_name
from .facts import Facts
from .intents import CLOSINGS, INTENTS, LANGUAGE_NOTE, TONE_OPENERS, IntentReply
from .text import stable_hash, word_count

DRAFT_SIGNOFF = "Best regards,\nCustomer Support Team"
MIN_WORDS, MAX_WORDS = 30, 250
REFUND_PROMISE = re.compile(
    r"\b(?:we|i)(?:'ll| will| are going to| have| can)? (?:refund|reimburse|credit)\b"
    r"|\brefund (?:has been|was|will be|is being) (?:issued|processed|sent|made)"
    r"|\byou(?:'ll| will) (?:get|receive) (?:a |your )?(?:full )?(?:refund|money back)"
    r"|\beligible for a refund\b|\bissue (?:you )?a (?:full )?refund\b",
    re.IGNORECASE,
)
EMPATHY = re.compile(
    r"\bsorry\b|\bapologi[sz]e|\bapologies\b|\bunderstand\b|\bfrustrat|\binconvenien|\bregret\b",
    re.I,
)
THANKS_FOR_PRAISE = re.compile(
    r"\bkind words\b|\bglad you (?:like|love|enjoy)|\bthank you for your "
    r"(?:feedback|kind)",
    re.I,
)
NEXT_STEP = re.compile(r"^\s*\d+[.)]\s|\b(?:we(?:'ll| will| have)|please|you can)\b", re.I | re.M)
FURTHER_HELP = re.compile(
    r"\breply to this\b|\blet us know\b|\banything else\b|\bget in touch\b|"
    r"\bhappy to help\b|\bany other questions\b",
    re.I,
)
LEFTOVER = re.compile(r"\{\{|\}\}|\[(?:customer|your|agent) ?name\]|<insert", re.I)
PROMISE_ALLOWED = {"refund": ("refund_eligible",)}


@dataclass(frozen=True)
class Plan:
    """What a reply to this message must do (also the context node's answer)."""

    intent: str
    template: IntentReply
    understood: str
    steps: list[str]
    promise: str | None  # the refund promise line, when the account allows it
    language_note: str | None


def render(text: str, facts: Facts) -> str:
    order = f"order #{facts.order_id}" if facts.order_id else "your order"
    return text.replace("{order}", order).replace("{product}", facts.product or "your product")


def plan(facts: Facts, account_action: str | None) -> Plan:
    template = INTENTS[facts.intent]
    steps = template.steps if facts.order_id else template.steps_without_order
    promise = None
    if template.promise and account_action in PROMISE_ALLOWED[template.promise]:
        promise = (
            "Good news: your account is eligible for a refund, so we will refund the "
            "amount to your original payment method within 3-5 business days."
        )
    note = None
    if facts.language.code != "en":
        note = LANGUAGE_NOTE.format(language=facts.language.name)
    return Plan(
        facts.intent,
        template,
        render(template.understood, facts),
        [render(step, facts) for step in steps],
        promise,
        note,
    )


def write_reply(
    facts: Facts, account_action: str | None, *, sloppy: bool = False, feedback: str = ""
) -> str:
    """A complete reply draft (the personalise node adds the agent's sign-off). ``sloppy``
    writes the vague draft of a careless writer instead (the lesson-05 knob). ``feedback`` is
    the reviewer's issues on a rewrite: some templates leave out the order number, and a
    rewrite adds it when the reviewer asked, as a model reading the feedback would."""
    p = plan(facts, account_action)
    understood = p.understood
    if facts.order_id and "order #" in feedback.lower() and facts.order_id not in understood:
        understood = f"{understood.rstrip('.')} (order #{facts.order_id})."
    pick = stable_hash(facts.message)
    name = first_name(facts.customer_name)
    opener = TONE_OPENERS[facts.sentiment][pick % len(TONE_OPENERS[facts.sentiment])]
    steps = "\n".join(f"{i}. {step}" for i, step in enumerate(p.steps, 1))
    closing = CLOSINGS[pick % len(CLOSINGS)]
    parts = [f"Hi {name}," if name else "Hello,", f"{opener} {understood}", steps]
    parts += [line for line in (p.promise, p.language_note) if line]
    parts += [closing, DRAFT_SIGNOFF]
    if sloppy:  # the vague draft a careless writer sends: the reviewer should catch it
        parts = [
            parts[0],
            "Thanks for your message. Our team is looking into this.",
            closing,
            DRAFT_SIGNOFF,
        ]
    return "\n\n".join(parts)


def review(reply: str, facts: Facts, account_action: str | None) -> dict:
    """``{"score": 1-10, "issues": [...]}``: 10 minus one deduction per defect found."""
    found = [(points, issue) for points, issue in _defects(reply or "", facts, account_action)]
    score = 10 - sum(points for points, _ in found)
    return {"score": max(1, min(10, score)), "issues": [issue for _, issue in found]}


def _defects(reply: str, facts: Facts, account_action: str | None) -> list[tuple[int, str]]:
    low = reply.lower()
    template = INTENTS[facts.intent]
    defects = []
    if not any(word in low for word in template.keywords):
        defects.append((5, f"It does not address the request ({facts.intent.replace('_', ' ')})."))
    if facts.order_id and facts.order_id.lower() not in low:
        defects.append((4, f"Mention the customer's order #{facts.order_id}."))
    name = first_name(facts.customer_name)
    if name and not re.search(rf"\b{re.escape(name.lower())}\b", low):
        defects.append((1, f"Address the customer by name ({name})."))
    if facts.sentiment == "negative" and not EMPATHY.search(reply):
        defects.append((3, "Acknowledge the customer's frustration before the solution."))
    if facts.sentiment == "negative" and THANKS_FOR_PRAISE.search(reply):
        defects.append((4, "Do not thank an unhappy customer for kind words or feedback."))
    # Whatever the request, the account decides whether a refund may be promised.
    if REFUND_PROMISE.search(reply) and account_action not in PROMISE_ALLOWED["refund"]:
        defects.append((5, "Do not promise a refund: the account does not allow one."))
    if not NEXT_STEP.search(reply):
        defects.append((3, "Give a concrete next step (what we will do, or what they can do)."))
    if not FURTHER_HELP.search(reply):
        defects.append((1, "End by offering further help."))
    if LEFTOVER.search(reply):
        defects.append((4, "Remove the unfilled template placeholders."))
    words = word_count(reply)
    if not MIN_WORDS <= words <= MAX_WORDS:
        defects.append((2, f"Keep the reply between {MIN_WORDS} and {MAX_WORDS} words ({words})."))
    return defects
