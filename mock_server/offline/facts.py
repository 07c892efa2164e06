"""Everything the offline model knows about one customer message, computed once.

``analyze_message`` runs the extractors, the classifier and the sentiment scorer over the
customer's text. ``facts_from_prompt`` does the same for a whole prompt and then lets the
*outputs of earlier workflow nodes* (``<inquiry_type>``, ``<sentiment>``, ``<urgency>``,
``<customer_info>``) take precedence: a later node should build on what the workflow already
decided, exactly as a real LLM would read them from its prompt.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from functools import lru_cache

from support_lib.workflow import SENTIMENTS, URGENCIES

from .classify import CATEGORIES
from .extract import (
    Issue,
    detect_issues,
    extract_order_id,
    extract_product,
    has_legal_threat,
    main_issue,
    wants_human,
)
from .intents import INTENTS
from .language import ENGLISH, Language, detect_language
from .learned import Prediction, features, model
from .names import extract_name
from .sentiment import analyze_sentiment
from .text import Prompt

PROBLEM_ISSUES = {
    "double_charge", "unknown_charge", "overcharge", "payment_failed", "damaged_item",
    "wrong_item", "late_delivery", "login", "two_factor", "security", "crash", "sync", "error",
    "not_working",
}  # fmt: skip
_QUESTION_START = re.compile(
    r"^\s*(?:how|what|when|where|which|who|why|can|could|do|does|did|is|are|will|would|should)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Facts:
    """What the offline model concluded about one message; every task reads from this."""

    message: str
    customer_name: str | None
    order_id: str | None
    product: str | None
    inquiry_type: str
    sentiment: str
    urgency: str
    issue: Issue
    subject: str
    legal_threat: bool
    wants_human: bool
    is_question: bool
    has_problem: bool
    intent: str = "other"
    language: Language = ENGLISH
    evidence: dict[str, Prediction] = field(default_factory=dict)
    """Why each label: the model's confidence and the features that counted most."""


def normalize_label(value: object, allowed: tuple[str, ...], default: str | None) -> str | None:
    """Map a label from an earlier node ("Billing.", "NEGATIVE") onto the allowed set."""
    if value is None:
        return default
    text = re.sub(r"[^a-z_ ]", "", str(value).lower()).strip().replace(" ", "_")
    if not text:
        return default
    if text in allowed:
        return text
    for option in allowed:
        if option in text or (text and option.startswith(text)):
            return option
    return default


@lru_cache(maxsize=512)
def analyze_message(message: str) -> Facts:
    """Run every analyser over one customer message (all of it: injection attempts included,
    as a model would read them; the kit's defence is in how its prompts are built)."""
    message = message or ""
    x = features(message)
    evidence = {task: model(task).predict(message, x) for task in LABEL_TASKS}
    intent = _intent(message, x, evidence["inquiry_type"].label)
    evidence["intent"] = intent
    if has_legal_threat(message):  # a rule, not the classifier: the explanation must say so
        evidence["urgency"] = Prediction("high", 1.0, [("cue:legal_threat", 1.0)])
    issues = detect_issues(message)
    mood = analyze_sentiment(message)
    has_problem = any(i.key in PROBLEM_ISSUES for i in issues) or mood.score <= -1
    is_question = "?" in message or any(_QUESTION_START.match(s) for s in message.split(". "))
    inquiry_type = evidence["inquiry_type"].label
    issue = main_issue(message, inquiry_type)
    order_id = order_id_in(message)
    product = extract_product(message)
    return Facts(
        message=message,
        customer_name=name_in(message),
        order_id=order_id,
        product=product,
        inquiry_type=inquiry_type,
        sentiment=evidence["sentiment"].label,
        urgency=evidence["urgency"].label,
        issue=issue,
        subject=subject_line(intent.label, order_id),
        legal_threat=has_legal_threat(message),
        wants_human=wants_human(message),
        is_question=is_question,
        has_problem=has_problem,
        intent=intent.label,
        language=detect_language(message),
        evidence=evidence,
    )


LABEL_TASKS = ("inquiry_type", "sentiment", "urgency")


def without_tags(message: str) -> str:
    """The message with anything shaped like a tag (``<b>``, ``</customer_message>``) made a
    space: an id or a name is read from the words, never from markup around them."""
    return re.sub(r"</?[a-zA-Z][a-zA-Z0-9_]{0,40}>", " ", message)


def name_in(message: str) -> str | None:
    """The customer's name the extraction reads from a message, ``None`` for none
    (``tests/tools/order_ids.py --names`` measures it alone)."""
    return extract_name(without_tags(message or ""))


def order_id_in(message: str) -> str | None:
    """The order id the extraction reads from a message (``tests/tools/order_ids.py``
    measures it alone, without the classifiers)."""
    return extract_order_id(without_tags(message or ""))


def _intent(message: str, x: dict, inquiry_type: str) -> Prediction:
    """The most likely intent among those of the chosen inquiry type: each type has its own
    small intent model, which only has to tell that type's intents apart."""
    return model(f"intent:{inquiry_type}").predict(message, x)


def subject_line(intent: str, order_id: str | None) -> str:
    """A short subject such as "Late delivery (order #50422)"."""
    title = intent.replace("_", " ").capitalize()
    return f"{title} (order #{order_id})" if order_id else title


def customer_message(prompt: Prompt) -> str:
    """The customer's text: ``<customer_message>``, else a non-address ``<customer_email>``,
    else the ticket text, else (for an untagged chat prompt) the last user message."""
    for name in ("customer_message", "message", "customer_email", "email_body", "ticket"):
        value = prompt.tag(name)
        if value and not re.fullmatch(r"\S+@\S+", value.strip()):
            if name == "ticket" and (value.lstrip().startswith("{") or len(value.split()) < 4):
                continue  # a ticket record or id, not the customer's words
            return value
    if prompt.tags:  # a workflow prompt without the message (e.g. personalise): no message
        return ""
    return prompt.last_user or prompt.instructions


def facts_from_prompt(prompt: Prompt) -> Facts:
    """Facts about the prompt's customer message, refined by earlier nodes' outputs."""
    facts = analyze_message(customer_message(prompt))
    changes: dict = {}
    info = prompt.tag_json("customer_info")
    if isinstance(info, dict):
        name = info.get("customer_name") or info.get("name")
        if isinstance(name, str) and name.strip() and name.strip().lower() != "unknown":
            changes["customer_name"] = name.strip()
        for key in ("order_id", "product"):
            value = info.get(key)
            if isinstance(value, (str, int)) and str(value).strip():
                changes[key] = str(value).strip().lstrip("#")
        urgency = normalize_label(info.get("urgency"), URGENCIES, None)
        if urgency:
            changes["urgency"] = urgency
    for tag, allowed in (
        ("inquiry_type", CATEGORIES),
        ("sentiment", SENTIMENTS),
        ("urgency", URGENCIES),
    ):
        value = normalize_label(prompt.tag(tag), allowed, None)
        if value:
            changes[tag] = value
    if not changes:
        return facts
    evidence = dict(facts.evidence)  # a label taken as given: the explanation says from where
    for label in ("inquiry_type", "sentiment", "urgency"):
        if label in changes and label in evidence:
            evidence[label] = Prediction(changes[label], 1.0, [(f"tag:{label}", 1.0)])
    changes["evidence"] = evidence
    updated = dataclasses.replace(facts, **changes)
    if "inquiry_type" in changes and INTENTS[facts.intent].inquiry_type != updated.inquiry_type:
        x = features(facts.message)
        intent = _intent(facts.message, x, updated.inquiry_type).label
        updated = dataclasses.replace(updated, intent=intent)
    if "order_id" in changes or updated.intent != facts.intent:
        updated = dataclasses.replace(
            updated, subject=subject_line(updated.intent, updated.order_id)
        )
    return updated
