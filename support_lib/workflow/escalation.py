"""Nodes 7-8: decide whether a human must take the case, and if so hand it over properly.

Two interchangeable versions of the decision (the lesson on escalation compares them):
an LLM that weighs the criteria (the default), and the original demo's fixed rule.
On the escalate route the case goes to a human (``POST /support/escalate``), and the
customer is told so: an acknowledgement naming the ticket and the wait is sent, and the
case is logged (the original demo's escalation branch ended without either).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal, NotRequired

from pydantic import BaseModel, ConfigDict, Field, with_config
from typing_extensions import TypedDict

from ..engine import FunctionNode
from ..http_node import HTTPNode
from ..llm import LLMNode, Prompt
from .analysis import MESSAGE_BLOCK
from .common import SAFETY, SIGN_OFF, labels, normalised, words_found
from .finish import send_node

# ----------------------------------------------------------------------------- 7. decide

Decision = Literal["escalate", "generate_response"]
DECISIONS = labels(Decision)


class EscalationDecision(BaseModel):
    """Hand the case to a human, or answer it automatically."""

    decision: Annotated[
        Decision, normalised(Decision, "escalate", {"respond": "generate_response"})
    ]
    reason: str = Field(description="One sentence naming the criterion that decided")


ESCALATION_PROMPT = Prompt(
    system=(
        "Decide whether a human agent must take this support case. Escalate when: the "
        "inquiry is technical and the customer is negative; urgency is high; the account "
        "needs manual review or is suspended; the customer threatens legal action or asks "
        "for a human. Otherwise choose generate_response. When unsure, escalate. "
        f"{SAFETY}"
    ),
    user=(
        f"{MESSAGE_BLOCK}\n"
        "<inquiry_type>{{inquiry_type}}</inquiry_type>\n"
        "<sentiment>{{sentiment}}</sentiment>\n"
        "<urgency>{{customer_info.urgency}}</urgency>\n"
        "<account_action>{{account_action}}</account_action>"
    ),
)

LEGAL_WORDS = (
    "lawyer*", "laywer*", "lawer*", "solicitor*", "attorney*", "attorny*", "barrister*",
    "legal action*", "legal proceeding*", "legal steps", "legal counsel", "legal team",
    "legal department", "law firm*", "lawsuit*", "law suit*", "litigat*", "class action",
    "cease and desist", "sue you", "sue your*", "sue u", "sue them", "sue the company",
    "will sue", "shall sue", "i'll sue", "we'll sue", "they'll sue", "gonna sue", "want to sue",
    "ready to sue", "plan to sue", "going to sue", "threaten to sue", "suing", "sued",
    "to court", "in court", "court case*", "small claims", "chargeback*", "charge back",
    "trading standards", "consumer protection", "ombudsman", "better business bureau",
    "the regulator*", "a regulator", "regulatory authorit*", "data protection authority",
    "the ico", "information commissioner*", "report you to",
    # Spanish, French, German, Russian, Chinese: the languages the kit recognises
    "abogado*", "abogada*", "demanda*", "denuncia*", "acción legal", "acciones legales",
    "medidas legales", "a juicio", "tribunal*", "avocat*", "procès", "poursuites judiciaires",
    "en justice", "porter plainte", "anwalt*", "anwält*", "rechtsanwalt*", "verklag*",
    "klage", "vor gericht", "zum gericht", "gerichtlich*", "rechtliche schritte", "rechtsweg*",
    "адвокат*", "юрист*", "в суд", "в суде", "судебн*", "судиться", "судимся", "засуж*",
    "через суд", "иск", "律师", "起诉", "法院", "诉讼", "告你", "法律行动", "法律途径",
    "法律手段", "打官司",
)  # fmt: skip
"""Words that make a case a legal matter. Whatever the model decided, such a case goes to a
person: a decision that matters has a floor in code, which no prompt injection can lower.
It is data: change the words and the rule changes. A trailing ``*`` stands for any ending;
``words_found`` reads the message as a person would, so "law\u00adyers" (with an invisible
soft hyphen) or "lаwyer" (with a Cyrillic "а") count too."""


def legal_words_in(message: str) -> list[str]:
    """The legal words in a message, as the list writes them (without the ``*``)."""
    return words_found(LEGAL_WORDS, message)


NO_ACCOUNT = {"account_action": None}
"""Off the billing route there is no account analysis: the prompt then says null."""


def escalation_to_state(decision: Mapping[str, Any], inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The decision as state; a legal threat escalates whatever was decided (the floor)."""
    decision = dict(decision)
    legal = legal_words_in(inputs["customer_message"])
    if legal and decision["decision"] != "escalate":
        decision = {
            "decision": "escalate",
            "reason": f"Escalated in code: the message mentions {', '.join(legal)}.",
        }
    return {"escalation_decision": decision, "escalated": decision["decision"] == "escalate"}


def route_escalation(view: Mapping[str, Any]) -> str:
    return view["escalation_decision"]["decision"]


def llm_escalation_check() -> LLMNode:
    """The version the Go README describes: an LLM weighs the criteria (node 7)."""
    return LLMNode(
        "check_escalation",
        label="Check Escalation Criteria",
        prompt=ESCALATION_PROMPT,
        output_model=EscalationDecision,
        temperature=0.1,
        writes=["escalation_decision", "escalated"],
        to_state=escalation_to_state,
        routes=DECISIONS,
        route=route_escalation,
        join="any",
        defaults=NO_ACCOUNT,
        fallback=ESCALATE_WHEN_UNDECIDED,
    )


ESCALATE_WHEN_UNDECIDED = {
    "escalation_decision": {
        "decision": "escalate",
        "reason": "The model gave no valid decision: escalated, as when unsure.",
    },
    "escalated": True,
}
"""Node 7's fallback: a decision the model could not make goes to a person ("when unsure,
escalate", the prompt's rule, applied in code). The trace records the node as failed."""


def rule_escalation(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The fixed rule (the original demo's, in Python): three criteria over the labels."""
    inquiry, sentiment = inputs["inquiry_type"], inputs["sentiment"]
    urgency = inputs["customer_info"].get("urgency")
    if inquiry == "technical" and sentiment == "negative":
        reason = "technical inquiry with negative sentiment"
    elif urgency == "high":
        reason = "high urgency"
    elif inputs.get("account_action") == "needs_manual_review":
        reason = "the account needs manual review"
    else:
        decision = {"decision": "generate_response", "reason": "no escalation rule matched"}
        return escalation_to_state(decision, inputs)
    return escalation_to_state({"decision": "escalate", "reason": reason}, inputs)


def rule_escalation_check() -> FunctionNode:
    """The rule-based alternative, for the lesson that compares the two."""
    return FunctionNode(
        "check_escalation",
        rule_escalation,
        label="Check Escalation Criteria (rules)",
        reads=("customer_message", "inquiry_type", "sentiment", "customer_info", "account_action"),
        writes=("escalation_decision", "escalated"),
        routes=DECISIONS,
        route=route_escalation,
        join="any",
        defaults=NO_ACCOUNT,
    )


# ----------------------------------------------------------------------------- 8. escalate


@with_config(ConfigDict(extra="allow"))
class EscalationTicket(TypedDict):
    """What ``POST /support/escalate`` answers."""

    ticket_id: str
    status: str
    assigned_to: NotRequired[str]
    priority: NotRequired[str]
    created_at: NotRequired[str]
    estimated_response: NotRequired[str]


escalate_to_human = HTTPNode(
    "escalate_to_human",
    label="Escalate to Human Agent",
    effect="escalated",
    method="POST",
    path="/support/escalate",
    body={
        "ticket_id": "{{ticket_id}}",
        "message": "{{customer_message}}",
        "customer_info": "{{customer_info}}",
        "inquiry_type": "{{inquiry_type}}",
        "sentiment": "{{sentiment}}",
        "reason": "{{escalation_decision.reason}}",
        "priority": "high",
    },
    writes=["escalation_ticket"],
)


def acknowledgement(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Tell the customer a person has the case, naming the ticket and the wait."""
    info, ticket = inputs["customer_info"], inputs["escalation_ticket"]
    name = info.get("customer_name")
    greeting = f"Hi {name}," if name and name != "Unknown" else "Hello,"
    order = f" about order #{info['order_id']}" if info.get("order_id") else ""
    wait = ticket.get("estimated_response", "a few hours")
    text = (
        f"{greeting}\n\nThank you for contacting us{order}. A senior member of our support "
        f"team is now handling your request (ticket {ticket['ticket_id']}), and you can "
        f"expect a reply within {wait}.\n\n{SIGN_OFF}"
    )
    return {"final_response": text}


compose_acknowledgement = FunctionNode(
    "compose_acknowledgement",
    acknowledgement,
    label="Compose Acknowledgement",
    reads=("customer_info", "escalation_ticket"),
    writes=("final_response",),
)

send_acknowledgement = send_node("send_acknowledgement", "Send Acknowledgement")
