"""The offline teaching model: a deterministic, rule-based stand-in for an LLM.

Why it exists
-------------
The kit teaches how to design an AI workflow. Learners should be able to run every notebook
without an API key, without a network and without cost, and get the same output every time.
The mock server answers ``/v1/chat/completions`` by calling :func:`answer` below, so the real
``openai`` SDK (including ``chat.completions.parse`` with Pydantic models) works unchanged.

What it is - and is not
-----------------------
This is **not** a language model. It is readable Python: rules (names, order ids, language,
51 reply templates, a reviewer's checklist, escalation decisions) plus one small linear
classifier per label (inquiry type, sentiment, urgency, intent), trained on the kit's own
corpus by ``python -m mock_server.offline.train``. It does the kit's customer-support tasks
and nothing else well. Same input, same output: ``temperature`` is accepted but ignored.
Every answer explains itself: the server returns :func:`explain` as ``x_explanation``.

How it reads a request
----------------------
The kit's prompts put every input in a tagged block (``<customer_message>...</customer_message>``,
``<customer_info>``, ``<response>``...). Tags are read the naive way a careless model would
(see ``offline/text.py``): customer text that forges a closing tag and a label fools it,
unless the prompt escaped that text, which the kit's prompts do (lesson 07). Injection
phrases are not cut out; they are words of the message like any other.

* **Structured output** (``response_format`` = ``json_schema``): the task is recognised by the
  schema name, i.e. the Pydantic class name (``CustomerInfo``, ``InquiryClassification``,
  ``SentimentAnalysis``, ``AccountAnalysis``, ``EscalationDecision``, ``ResponseContext``,
  ``QualityScore``, ``FollowUpPlan``). The answer is then poured into the schema, so extra
  fields a learner adds - or a whole new class - still get sensible, valid values.
* **JSON mode** (``json_object``): a small JSON object with the keys the prompt asks for.
* **Free text**: recognised by the tags present - write a reply (``<response_context>``),
  revise it (``<previous_response>`` + ``<issues>``), personalise it (``<draft>``), acknowledge
  an escalation (``<ticket>``), or a short plain answer to anything else.

Limits (worth discussing with learners)
---------------------------------------
Trained and measured on English-first messages written in one style (its figures on the
frozen test split are in ``support_lib/data/corpus/SPLITS.md``); other languages are only
recognised, not understood; replies are templates, and some leave out the order number, so
the reviewer sends them back and the rewrite (which reads the reviewer's issues) adds it.
The ``sloppy_writer`` knob makes first drafts vague on purpose, for the quality-loop lessons.
Where the logic lives: ``mock_server/offline/`` (one module per concern).
"""

from __future__ import annotations

import json
import re
from typing import Any

from support_lib.workflow import ACCOUNT_ACTIONS

from .offline.decisions import analyze_account, decide_escalation, follow_up_plan, response_context
from .offline.facts import Facts, facts_from_prompt, normalize_label
from .offline.replies import review, write_reply
from .offline.schema_fill import MISSING, SchemaFiller, fill_schema
from .offline.text import Prompt, parse_prompt, stable_hash
from .offline.writing import escalation_acknowledgement, personalize, small_talk

__all__ = ["answer", "explain"]


def answer(
    messages: list[dict],
    response_format: dict | None,
    temperature: float | None,
    *,
    sloppy: float = 0.0,
) -> str:
    """Return the assistant message content for a chat request.

    ``messages`` are OpenAI chat messages; ``response_format`` is ``None``, ``{"type": "text"}``,
    ``{"type": "json_object"}`` or ``{"type": "json_schema", "json_schema": {...}}`` exactly as
    the openai SDK sends it. JSON text is returned for the JSON formats, plain text otherwise.
    ``temperature`` is ignored: the model is deterministic by design. ``sloppy`` is the
    mock server's ``sloppy_writer`` knob (see ``text_answer``).
    """
    del temperature  # deterministic: same input, same output
    prompt = parse_prompt(messages)
    kind = (
        (response_format or {}).get("type", "text") if isinstance(response_format, dict) else "text"
    )
    spec = response_format.get("json_schema") if kind == "json_schema" else None
    if isinstance(spec, dict):
        schema = spec.get("schema") if isinstance(spec.get("schema"), dict) else {}
        return json.dumps(structured_answer(prompt, str(spec.get("name", "")), schema))
    if kind in ("json_object", "json_schema"):  # JSON mode, or a schema we cannot read
        return json.dumps(json_object_answer(prompt))
    return text_answer(prompt, sloppy)


EXPLAINED = {  # schema name -> the labels its answer rests on
    "inquiryclassification": ("inquiry_type",),
    "sentimentanalysis": ("sentiment",),
    "customerinfo": ("urgency",),
}


def explain(messages: list[dict], response_format: dict | None) -> dict:
    """Why the model answers as it does: for each label it decided, its confidence and the
    features that counted most (the mock server returns this as ``x_explanation``)."""
    facts = facts_from_prompt(parse_prompt(messages))
    spec = (response_format or {}).get("json_schema") if isinstance(response_format, dict) else None
    task = re.sub(r"[^a-z]", "", str((spec or {}).get("name", "")).lower()) or "text"
    labels = EXPLAINED.get(task, ("intent",))
    why = {name: facts.evidence[name].explain() for name in labels if name in facts.evidence}
    return {"task": task, **why, "language": facts.language.name}


# ---------------------------------------------------------------------------
# Structured tasks, by schema name
# ---------------------------------------------------------------------------


def _account_action(prompt: Prompt, facts: Facts) -> str | None:
    """The account action from an earlier node, else computed from ``<account_status>``."""
    action = normalize_label(prompt.tag("account_action"), ACCOUNT_ACTIONS, None)
    if action is None and isinstance(prompt.tag_json("account_status"), dict):
        action = analyze_account(prompt.tag_json("account_status"), facts)[0]
    return action


def _email(prompt: Prompt) -> str | None:
    value = prompt.tag("customer_email")
    if value and re.fullmatch(r"\S+@\S+", value.strip()):
        return value.strip()
    info = prompt.tag_json("customer_info")
    if isinstance(info, dict) and isinstance(info.get("email"), str):
        return info["email"]
    return None


def _reply_under_review(prompt: Prompt) -> str | None:
    for name in ("response", "generated_response", "final_response", "reply"):
        if prompt.tag(name) is not None:
            return prompt.tag(name)
    return None


def known_values(task: str, prompt: Prompt, facts: Facts, extras: dict) -> dict:
    """What the offline model answers for each of the workflow's structured tasks."""
    action = extras.get("account_action")
    if task == "customerinfo":
        return {
            "customer_name": facts.customer_name or "Unknown",
            "order_id": facts.order_id,
            "product": facts.product,
            "urgency": facts.urgency,
            "subject": facts.subject,
            "email": extras.get("email") or "customer@example.com",
        }
    if task == "inquiryclassification":
        return {"inquiry_type": facts.inquiry_type}
    if task == "sentimentanalysis":
        return {"sentiment": facts.sentiment}
    if task == "accountanalysis":
        result, reason = analyze_account(prompt.tag_json("account_status"), facts)
        return {"account_action": result, "reason": reason}
    if task == "escalationdecision":
        decision, reason = decide_escalation(facts, action)
        return {"decision": decision, "reason": reason}
    if task == "responsecontext":
        return response_context(facts, action, prompt.tag_json("account_status"))
    if task == "qualityscore":
        return dict(extras.get("quality") or review("", facts, action))
    if task == "followupplan":
        return follow_up_plan(facts)
    return {}


def structured_answer(prompt: Prompt, name: str, schema: dict) -> Any:
    facts = facts_from_prompt(prompt)
    extras: dict = {"account_action": _account_action(prompt, facts), "email": _email(prompt)}
    reply = _reply_under_review(prompt)
    if reply is not None:
        extras["quality"] = review(reply, facts, extras["account_action"])
    task = re.sub(r"[^a-z]", "", str(name).lower())
    if task == "accountanalysis":
        extras["account_action"] = analyze_account(prompt.tag_json("account_status"), facts)[0]
    known = known_values(task, prompt, facts, extras)
    if not schema:  # a name without a schema: answer the task as we know it
        return known or json_object_answer(prompt)
    return fill_schema(schema, facts, known, extras)


_KEY_LIST = re.compile(
    r"\b(?:keys?|fields?|properties)\s*(?:named|called)?\s*:?\s*"
    r"((?:[`'\"]?[a-z_][a-z0-9_]*[`'\"]?\s*(?:,|and|or)\s*)*[`'\"]?[a-z_][a-z0-9_]*[`'\"]?)",
    re.IGNORECASE,
)


def json_object_answer(prompt: Prompt) -> dict:
    """JSON mode without a schema: use the keys the prompt names, else a small summary."""
    facts = facts_from_prompt(prompt)
    keys = re.findall(r'"([a-z_][a-z0-9_]*)"\s*:', prompt.instructions)
    if not keys:
        m = _KEY_LIST.search(prompt.instructions)
        if m:
            keys = [
                k for k in re.findall(r"[a-z_][a-z0-9_]*", m.group(1)) if k not in ("and", "or")
            ]
    if not keys:
        keys = ["summary", "inquiry_type", "sentiment", "urgency"]
    extras = {"account_action": _account_action(prompt, facts), "email": _email(prompt)}
    reply = _reply_under_review(prompt)
    if reply is not None:
        extras["quality"] = review(reply, facts, extras["account_action"])
    filler = SchemaFiller({}, facts, {}, extras)
    result = {}
    for key in dict.fromkeys(keys):  # keep the order, drop repeats
        value = filler.by_name(key, {}, 0)
        result[key] = facts.subject if value is MISSING else value
    return result


# ---------------------------------------------------------------------------
# Free-text tasks, by the tags present
# ---------------------------------------------------------------------------


def text_answer(prompt: Prompt, sloppy: float = 0.0) -> str:
    """Free text, by the tags present: personalise a draft, rewrite a reply that failed
    review, write a first draft, or acknowledge an escalation. ``sloppy`` (0-1, the
    ``sloppy_writer`` knob) is the share of first drafts that leave something out."""
    facts = facts_from_prompt(prompt)
    action = _account_action(prompt, facts)
    if prompt.tag("draft") is not None:
        return personalize(prompt.tag("draft"), facts, prompt.tag("history"))
    if prompt.tag("previous_response") is not None:  # a rewrite that reads the issues
        return write_reply(facts, action, feedback=prompt.tag("issues") or "")
    if prompt.tag("response_context") is not None:
        careless = stable_hash(facts.message) % 100 < round(sloppy * 100)
        return write_reply(facts, action, sloppy=careless)
    ticket = prompt.tag_json("escalation_ticket") or prompt.tag_json("ticket")
    if ticket is None and re.fullmatch(r"[A-Z]{2,10}-[\w-]+", prompt.tag("ticket") or ""):
        ticket = {"ticket_id": prompt.tag("ticket")}  # just an id such as "ESC-42"
    if isinstance(ticket, dict):
        return escalation_acknowledgement(facts, ticket)
    # An untagged chat prompt is its own "message" (see facts.customer_message).
    has_message = bool(facts.message.strip())
    return small_talk(prompt.last_user or prompt.instructions, facts, has_message)
