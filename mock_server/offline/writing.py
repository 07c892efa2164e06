"""Writing around the reply: personalisation, the escalation acknowledgement, small talk.

The reply itself is written and reviewed in ``replies.py``. Here: ``personalize`` (node 15)
greets the customer by name, mentions the order once and signs as the agent; it also fills
"[Name]"-style placeholders a real model may leave. ``escalation_acknowledgement`` tells the
customer a person has the case. The rest answers plain prompts (lesson 00's first calls).
"""

from __future__ import annotations

import ast
import operator
import re

from .decisions import decide_escalation
from .extract import first_name
from .facts import Facts
from .text import normalize, split_sentences, word_count

AGENT_SIGNOFF = "Best regards,\nAlex from Customer Support\nsupport@example.com"

PLACEHOLDER = re.compile(
    r"\{\{.*?\}\}|\{\{|\}\}|\{[A-Za-z_]{2,30}\}"
    r"|\[(?:[A-Z][\w .'-]{0,30}|[a-z_ ]{2,30})\](?!\()"
    r"|<(?:customer|name|agent|order|product|your|insert)[^>]{0,30}>",
)

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


def _order_ref(facts: Facts) -> str:
    return f" (order #{facts.order_id})" if facts.order_id else ""


def personalize(draft: str, facts: Facts, history: str | None) -> str:
    """Greeting by name, the order/product referenced once, and the agent's sign-off (node 15)."""
    text = fill_placeholders(draft or "", facts)
    body, _signoff = split_signoff(text)
    body = strip_greeting(body).strip()
    if not body:
        from .replies import write_reply

        body = strip_greeting(split_signoff(write_reply(facts, None))[0]).strip()
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
    "I'm the offline teaching model: not a language model, but rules and small classifiers "
    "trained on the kit's own examples, running without a network. I handle the kit's "
    "customer-support tasks, the same way every time."
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
        from .replies import write_reply

        return write_reply(facts, None)
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
