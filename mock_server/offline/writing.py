"""Writing: the quality rubric, replies, regeneration, personalisation and small talk.

The rubric and the writer are two halves of the workflow's quality loop:

* ``quality_check`` scores a reply out of 10 with an explicit checklist, so every lost point
  comes with an issue the regenerator can act on.
* ``write_reply`` produces the first draft. To make the loop *visible* in the notebooks, about
  one first draft in three (chosen by a stable hash of the message, so it is reproducible) and
  every draft for an angry message with an order number forgets one checklist item. That is a
  deliberate teaching device: real LLMs forget things too, just less predictably.
* ``revise_reply`` fixes each issue it is given; ``personalize`` adds greeting and sign-off.
"""

from __future__ import annotations

import ast
import operator
import re

from .decisions import decide_escalation, suggested_solutions
from .extract import first_name
from .facts import Facts
from .text import normalize, split_sentences, stable_hash, word_count

AGENT_SIGNOFF = "Best regards,\nAlex from Customer Support\nsupport@example.com"
DRAFT_SIGNOFF = "Best regards,\nCustomer Support Team"
MIN_WORDS, MAX_WORDS = 40, 250

# ---------------------------------------------------------------------------
# The rubric
# ---------------------------------------------------------------------------

PLACEHOLDER = re.compile(
    r"\{\{.*?\}\}|\{\{|\}\}|\{[A-Za-z_]{2,30}\}"
    r"|\[(?:[A-Z][\w .'-]{0,30}|[a-z_ ]{2,30})\](?!\()"
    r"|<(?:customer|name|agent|order|product|your|insert)[^>]{0,30}>",
)
ACKNOWLEDGEMENT = re.compile(
    r"\bsorry\b|\bapologi[sz]e|\bapologies\b|\bunderstand\b|\bfrustrat|\binconvenien|\bregret\b"
    r"|\bthat must\b|\bi hear you\b|\bnot the experience\b|\bupsetting\b|\bdisappoint",
    re.IGNORECASE,
)
FURTHER_HELP = re.compile(
    r"\blet (?:me|us) know\b|\bany (?:other|further|more) questions\b|\banything else\b"
    r"|\bhappy to help\b|\bglad to help\b|\breach out\b|\bdon't hesitate\b|\bhere to help\b"
    r"|\bjust reply\b|\breply to this (?:email|message)\b|\bfurther (?:help|assistance|questions)\b"
    r"|\bget in touch\b|\bcontact us\b",
    re.IGNORECASE,
)
_STEP_VERBS = (
    r"send|refund|verify|check|process|issue|open|ship|update|reset|look|investigate|escalate|"
    r"email|cancel|credit|replace|review|arrange|unlock|lock|forward|share|contact|confirm|fix|"
    r"correct|reverse|expedite|track|file|log|pass|walk|help|explain|offer|delete|retry|guide|"
    r"passed|shared|sent|refunded|issued|processed|opened|escalated|updated|reviewed|arranged|"
    r"forwarded|logged|filed|credited|cancelled|canceled|checked|verified|confirmed"
)
CONCRETE_STEP = [
    re.compile(r"^\s*(?:\d+[.)]|[-*\u2022])\s+\S", re.MULTILINE),
    re.compile(
        rf"\b(?:we(?:'ll| will| have|'ve| are going to)|i(?:'ll| will| have|'ve))\s+"
        rf"(?:\w+\s+){{0,2}}?(?:{_STEP_VERBS})\b",
        re.IGNORECASE,
    ),
    re.compile(r"\bwithin\s+\d+", re.IGNORECASE),
    re.compile(
        r"(?:^|[.!?]\s+)(?:please\s+)?(?:click|go to|open|tap|try|check|reset|update|reinstall|"
        r"restart|visit|use|follow|sign in|log in|select|enter|clear|send us|reply with)\b",
        re.IGNORECASE | re.MULTILINE,
    ),
]
DEDUCTIONS = {
    "placeholder": 5,
    "order_id": 4,
    "acknowledgement": 4,
    "next_step": 4,
    "name": 3,
    "further_help": 2,
    "length": 2,
}


def find_placeholders(text: str) -> list[str]:
    return sorted(set(PLACEHOLDER.findall(text or "")))


def rubric_misses(reply: str, facts: Facts) -> dict[str, str]:
    """Checklist item -> an instruction the regenerator can act on, for each missed item."""
    misses: dict[str, str] = {}
    reply = reply or ""
    low = normalize(reply)
    placeholders = find_placeholders(reply)
    if placeholders:
        # Name them without their brackets: issues are pasted into the next prompt, and a
        # literal "{{...}}" there would look like an unfilled template variable.
        names = ", ".join(p.strip("{}[]<> ") or "stray braces" for p in placeholders)
        misses["placeholder"] = f"Remove the unfilled placeholders ({names}); use real values."
    name = first_name(facts.customer_name)
    if name and not re.search(rf"\b{re.escape(name.lower())}\b", low):
        misses["name"] = f"Address the customer by name (greet them as {name})."
    if facts.order_id and facts.order_id.lower() not in low:
        misses["order_id"] = f"Mention the customer's order #{facts.order_id} explicitly."
    if facts.sentiment == "negative" and not ACKNOWLEDGEMENT.search(reply):
        misses["acknowledgement"] = (
            "Acknowledge the customer's frustration with a short apology before the solution."
        )
    if not any(p.search(reply) for p in CONCRETE_STEP):
        misses["next_step"] = (
            "Give at least one concrete next step: what we will do or what the customer should "
            "do, with a timeframe."
        )
    if not FURTHER_HELP.search(reply):
        misses["further_help"] = "End by offering further help (invite the customer to reply)."
    count = word_count(reply)
    if count < MIN_WORDS:
        misses["length"] = (
            f"The reply is too short ({count} words); expand it to at least 40 words."
        )
    elif count > MAX_WORDS:
        misses["length"] = f"The reply is too long ({count} words); shorten it to under 250 words."
    return misses


def quality_check(reply: str, facts: Facts) -> dict:
    """``{"score": 1-10, "issues": [...]}``: start at 10 and subtract per missed item."""
    misses = rubric_misses(reply, facts)
    score = 10 - sum(DEDUCTIONS[k] for k in misses)
    return {"score": max(1, min(10, score)), "issues": list(misses.values())}


# ---------------------------------------------------------------------------
# Writing replies
# ---------------------------------------------------------------------------

_ASK = re.compile(
    r"^(?:ask|advise|remind|invite|encourage)\s+the\s+customer\s+(?:to\s+)?", re.IGNORECASE
)
_GUIDE = re.compile(r"^guide\s+the\s+customer\s+to\s+", re.IGNORECASE)
_WE_VERBS = {
    "verify", "refund", "email", "send", "open", "offer", "check", "look", "compare", "process",
    "help", "explain", "cancel", "issue", "update", "unlock", "lock", "review", "reverse",
    "confirm", "delete", "share", "answer", "recommend", "link", "log", "escalate", "contact",
    "investigate", "arrange", "provide", "reset", "file", "ship", "resolve", "replace", "retry",
    "waive", "credit", "monitor", "follow", "schedule", "point", "walk", "tell", "notify",
    "expedite", "track", "redirect", "correct", "pass", "keep", "apply", "respond", "restore",
}  # fmt: skip


def customer_step(solution: str) -> str:
    """Turn an agent-facing solution ("Send the customer the tracking link") into a sentence
    for the customer ("We'll send you the tracking link.")."""
    text = " ".join(str(solution).split()).rstrip(".;")
    if not text:
        return ""
    if _ASK.match(text):
        text = "Please " + _ASK.sub("", text)
    elif _GUIDE.match(text):
        text = "Please go to " + _GUIDE.sub("", text)
    else:
        first = text.split()[0].lower()
        if first in _WE_VERBS:
            text = "We'll " + text[0].lower() + text[1:]
    text = re.sub(r"\bthe customer's\b", "your", text)
    text = re.sub(r"\bthe customer\b", "you", text)
    text = re.sub(r"\bcustomer's\b", "your", text)
    text = re.sub(r"\bthe account\b", "your account", text)
    return text + "."


def _order_ref(facts: Facts, include: bool = True) -> str:
    return f" for order #{facts.order_id}" if facts.order_id and include else ""


def acknowledgement(facts: Facts, *, empathetic: bool = True, include_order: bool = True) -> str:
    order = _order_ref(facts, include_order)
    phrase = facts.issue.phrase
    if facts.sentiment == "negative" and empathetic:
        return (
            f"I'm sorry for the trouble with {phrase}{order}, and I understand how "
            "frustrating this must be."
        )
    if facts.sentiment == "negative":
        return f"We have received your message about {phrase}{order}."
    if facts.sentiment == "positive":
        return f"Thank you for your message about {phrase}{order}; it's great to hear from you."
    return f"Thanks for contacting us about {phrase}{order}."


CLOSING = "If you have any other questions, just reply to this email and we'll be happy to help."


def _steps_block(steps: list[str]) -> str:
    lines = [f"{i}. {s}" for i, s in enumerate(steps, 1)]
    return "Here is what happens next:\n" + "\n".join(lines)


def first_draft_omission(facts: Facts) -> str | None:
    """Which checklist item the first draft forgets, if any (see the module docstring)."""
    h = stable_hash(facts.message)
    forced = bool(facts.order_id) and facts.sentiment == "negative"
    if not forced and h % 3 != 0:
        return None
    options = []
    if facts.order_id:
        options.append("order_id")
    if facts.sentiment == "negative":
        options.append("acknowledgement")
    if not options:
        options.append("next_step")
    return options[(h // 3) % len(options)]


def compose_reply(facts: Facts, solutions: list[str], omit: str | None = None) -> str:
    """A complete reply; ``omit`` leaves out one rubric item (used for the first draft)."""
    name = first_name(facts.customer_name)
    greeting = f"Hi {name}," if name else "Hello,"
    ack = acknowledgement(
        facts, empathetic=omit != "acknowledgement", include_order=omit != "order_id"
    )
    steps = [customer_step(s) for s in solutions if str(s).strip()][:3]
    if omit == "order_id" and facts.order_id:
        steps = [
            re.sub(rf"(?:order\s+)?#?{re.escape(facts.order_id)}", "your order", s) for s in steps
        ]
    if not steps:
        steps = [customer_step(s) for s in suggested_solutions(facts)]
    # A draft without steps is vague on purpose: the rubric should catch it.
    vague = "Our team is looking into this for you."
    body = vague if omit == "next_step" else _steps_block(steps)
    return f"{greeting}\n\n{ack}\n\n{body}\n\n{CLOSING}\n\n{DRAFT_SIGNOFF}"


def write_reply(facts: Facts, solutions: list[str]) -> str:
    """The first draft of the customer reply (node 10)."""
    return compose_reply(facts, solutions, omit=first_draft_omission(facts))


# ---------------------------------------------------------------------------
# Revising and personalising
# ---------------------------------------------------------------------------

_GREETING_LINE = re.compile(
    r"^\s*(?:hi|hello|hey|dear|greetings|good (?:morning|afternoon|evening))\b[^\n]*\n*",
    re.IGNORECASE,
)
_SIGNOFF_START = re.compile(
    r"^\s*(?:best regards|kind regards|warm regards|regards|best wishes|sincerely|yours sincerely|"
    r"yours truly|cheers|thanks|thank you|many thanks|best)\s*,?\s*$",
    re.IGNORECASE | re.MULTILINE,
)


def fill_placeholders(text: str, facts: Facts) -> str:
    """Replace "[Name]"-style and "{{...}}" placeholders with known values or drop them."""
    name = first_name(facts.customer_name)

    def value_for(match: re.Match) -> str:
        token = match.group(0).lower()
        if "name" in token and "agent" not in token and "company" not in token:
            return name or "there"
        if "order" in token:
            return f"#{facts.order_id}" if facts.order_id else "your order"
        if "product" in token:
            return facts.product or "your product"
        if "agent" in token or "signature" in token:
            return "Alex"
        if "company" in token:
            return "our team"
        if "email" in token or "contact" in token:
            return "support@example.com"
        return ""

    text = PLACEHOLDER.sub(value_for, text or "")
    text = re.sub(r"[ \t]+([,.!?])", r"\1", text)
    return re.sub(r"[ \t]{2,}", " ", text)


def split_signoff(text: str) -> tuple[str, str]:
    """(body, sign-off) where the sign-off starts at the last "Best regards,"-style line."""
    matches = list(_SIGNOFF_START.finditer(text))
    if matches:
        last = matches[-1]
        tail = text[last.start() :]
        if word_count(tail) <= 12:
            return text[: last.start()].rstrip(), tail.strip()
    return text.rstrip(), ""


def strip_greeting(text: str) -> str:
    return _GREETING_LINE.sub("", text.lstrip(), count=1)


def _issue_keys(issues: list[str]) -> set[str]:
    """Map free-text issues (ours or a real model's) to checklist items."""
    keys = set()
    for issue in issues:
        low = str(issue).lower()
        if "placeholder" in low or "[" in low or "{{" in low:
            keys.add("placeholder")
        if "name" in low and "placeholder" not in low:
            keys.add("name")
        if "order" in low:
            keys.add("order_id")
        if any(w in low for w in ("acknowledg", "empath", "apolog", "frustrat", "tone")):
            keys.add("acknowledgement")
        if any(w in low for w in ("step", "solution", "action", "concrete", "timeframe")):
            keys.add("next_step")
        if any(w in low for w in ("further help", "offer help", "invite", "follow-up question")):
            keys.add("further_help")
        if any(w in low for w in ("too long", "shorten", "concise", "too short", "expand")):
            keys.add("length")
    return keys


def revise_reply(previous: str, issues: list[str], facts: Facts, solutions: list[str]) -> str:
    """Fix every listed issue in ``previous`` (node 13); fall back to a fresh full reply."""
    if not solutions:
        solutions = suggested_solutions(facts)
    keys = _issue_keys(issues) | set(rubric_misses(previous, facts))
    if "length" in keys or not (previous or "").strip():
        return compose_reply(facts, solutions)
    text = fill_placeholders(previous, facts)
    body, signoff = split_signoff(text)
    body = strip_greeting(body).strip()
    name = first_name(facts.customer_name)
    greeting = f"Hi {name}," if name else "Hello,"
    paragraphs = [p for p in re.split(r"\n\s*\n", body) if p.strip()]
    opening = []
    needs_order = facts.order_id and facts.order_id.lower() not in body.lower()
    if ("acknowledgement" in keys or facts.sentiment == "negative") and not ACKNOWLEDGEMENT.search(
        body
    ):
        opening.append(acknowledgement(facts, include_order=bool(needs_order)))
        needs_order = False
    if needs_order and re.search(r"\byour order\b", body):
        body = re.sub(r"\byour order\b", f"your order #{facts.order_id}", body, count=1)
        paragraphs = [p for p in re.split(r"\n\s*\n", body) if p.strip()]
    elif needs_order:
        opening.append(f"I have looked into your order #{facts.order_id}.")
    if opening:
        paragraphs.insert(0, " ".join(opening))
    if not any(p.search(body) for p in CONCRETE_STEP) or (
        "next_step" in keys and not any(p.search(body) for p in CONCRETE_STEP[:2])
    ):
        steps = [customer_step(s) for s in solutions][:3]
        closing_at = next(
            (i for i, p in enumerate(paragraphs) if FURTHER_HELP.search(p)), len(paragraphs)
        )
        paragraphs.insert(closing_at, _steps_block(steps))
    if not FURTHER_HELP.search(body):
        paragraphs.append(CLOSING)
    revised = "\n\n".join([greeting, *paragraphs, signoff or DRAFT_SIGNOFF])
    if quality_check(revised, facts)["score"] < 7:
        return compose_reply(facts, solutions)
    return revised


def personalize(draft: str, facts: Facts, history: str | None) -> str:
    """Greeting by name, the order/product referenced once, and the agent's sign-off (node 15)."""
    text = fill_placeholders(draft or "", facts)
    body, _signoff = split_signoff(text)
    body = strip_greeting(body).strip()
    if not body:
        body = compose_reply(facts, suggested_solutions(facts))
        body = strip_greeting(split_signoff(body)[0]).strip()
    name = first_name(facts.customer_name)
    greeting = f"Hi {name}," if name else "Hello,"
    low = body.lower()
    extra = []
    if facts.order_id and facts.order_id.lower() not in low:
        extra.append(f"This is about your order #{facts.order_id}.")
    elif not facts.order_id and facts.product and facts.product.lower() not in low:
        extra.append(f"This is about your {facts.product}.")
    history_text = (history or "").strip()
    if history_text and history_text.lower() not in ("none", "null", "n/a", "no history", "[]"):
        extra.append(
            "Thank you for your patience, and for staying with us since your last request."
        )
    parts = [greeting]
    if extra:
        parts.append(" ".join(extra))
    parts.extend([body, AGENT_SIGNOFF])
    return "\n\n".join(parts)


def escalation_acknowledgement(facts: Facts, ticket: dict | None) -> str:
    """What the customer hears when a human takes over (the escalation branch)."""
    ticket = ticket if isinstance(ticket, dict) else {}
    ticket_id = ticket.get("ticket_id") or ticket.get("id")
    eta = ticket.get("estimated_response") or "24 hours"
    name = first_name(facts.customer_name)
    greeting = f"Hi {name}," if name else "Hello,"
    sorry = " I'm sorry for the trouble this has caused." if facts.sentiment == "negative" else ""
    ref = f" under ticket {ticket_id}" if ticket_id else ""
    return (
        f"{greeting}\n\nThank you for contacting us about {facts.issue.phrase}"
        f"{_order_ref(facts)}.{sorry} Your request has been passed to our senior support "
        f"team{ref}, and a specialist will get back to you within {eta}.\n\n"
        f"If you have anything to add, just reply to this email.\n\n{AGENT_SIGNOFF}"
    )


# ---------------------------------------------------------------------------
# Small talk and plain prompts
# ---------------------------------------------------------------------------

NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "twelve": 12, "fifteen": 15, "twenty": 20,
}  # fmt: skip
HELLOS = {
    1: "Hello!",
    2: "Hello there!",
    3: "Hello, dear learner!",
    4: "Hello there, dear learner!",
    5: "Hello! Nice to meet you.",
    6: "Hello there! Nice to meet you.",
    7: "Hello there, learner! Nice to meet you.",
}
IDENTITY = (
    "I'm the offline teaching model: a small rule-based stand-in for a language model that "
    "runs without a network. I handle the kit's customer-support tasks deterministically."
)
FALLBACK = (
    "Hello! I'm the offline teaching model, so I can only help with the kit's "
    "customer-support tasks and very simple questions."
)
_IDENTITY_Q = re.compile(
    r"\b(?:who|what) are you\b|\b(?:which|what) model\b|\byour name\b|\bintroduce yourself\b"
)
_HELLO_Q = re.compile(
    r"\b(?:say|write|give)\b[^.?!]{0,20}\b(?:hello|hi|greeting)\b|^\s*(?:hi|hello|hey)\b"
)
_MATH_Q = re.compile(r"(?:what is|what's|calculate|compute)\s+([\d\s.+\-*/()]+)")
_WORD_LIMIT = re.compile(
    r"\b(?:in|using|with)\s+(?:exactly\s+|just\s+|only\s+)?(\d+|[a-z]+)\s+words?\b",
    re.IGNORECASE,
)
_OPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.USub: operator.neg,
}


def _arith(node: ast.AST) -> float:
    """Evaluate + - * / on numbers only (never ``eval``: the prompt is untrusted)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_arith(node.left), _arith(node.right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_arith(node.operand))
    raise ValueError("not arithmetic")


def _word_limit(text: str) -> int | None:
    m = _WORD_LIMIT.search(text)
    if not m:
        return None
    raw = m.group(1).lower()
    return int(raw) if raw.isdigit() else NUMBER_WORDS.get(raw)


def _task_answer(low: str, facts: Facts) -> str | None:
    """A one-word or one-line answer when a plain prompt asks for one of the kit's labels."""
    if "sentiment" in low:
        return facts.sentiment
    if re.search(r"\bclassif|\bcategor|\binquiry type\b", low):
        return facts.inquiry_type
    if "urgen" in low or "priority" in low:
        return facts.urgency
    if "escalat" in low:
        return decide_escalation(facts, None)[0]
    if re.search(r"\bsummar|\bsubject\b|\btitle\b", low):
        return facts.subject
    if re.search(r"\b(?:reply|respond|response|answer the customer|write back)\b", low):
        return compose_reply(facts, suggested_solutions(facts))
    return None


def small_talk(instructions: str, facts: Facts | None, has_message: bool) -> str:
    """A short, relevant plain answer for prompts that are not one of the workflow's tasks.

    ``has_message`` says whether ``facts`` describe a real customer message (a tagged one, or
    an untagged chat prompt we may treat as the text to analyse).
    """
    low = normalize(instructions)
    limit = _word_limit(instructions)
    math = _MATH_Q.search(low)
    answer = None
    if _IDENTITY_Q.search(low):
        answer = IDENTITY
    elif _HELLO_Q.search(low):
        answer = HELLOS.get(limit or 5, HELLOS[5])
    elif math:
        try:
            value = _arith(ast.parse(math.group(1).strip(), mode="eval").body)
            answer = f"{math.group(1).strip()} = {value:g}"
        except (ValueError, SyntaxError, ZeroDivisionError):
            answer = "I can only do simple arithmetic offline."
    elif facts is not None and has_message:
        answer = _task_answer(low, facts) or (
            f"This reads as a {facts.inquiry_type} inquiry with {facts.sentiment} sentiment "
            f"and {facts.urgency} urgency: {facts.subject}."
        )
    answer = answer or FALLBACK
    if limit and word_count(answer) > limit:
        answer = " ".join(answer.split()[:limit]).rstrip(",;:")
    return answer


def summary_sentence(facts: Facts) -> str:
    """One sentence describing the message, for fields like ``summary``."""
    first = split_sentences(facts.message)[:1]
    gist = first[0] if first else facts.subject
    if word_count(gist) > 25:
        gist = " ".join(gist.split()[:25]) + "..."
    return f"{facts.subject}: {gist}"
