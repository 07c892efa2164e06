"""Nodes 16-18: after the reply is final, plan a follow-up, send it, log the case.

``send_response`` and ``generate_follow_up`` run at the same time; ``log_interaction``
waits for both (on the escalation branch it waits for the acknowledgement instead).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, with_config
from typing_extensions import TypedDict

from ..http_node import HTTPNode
from ..llm import LLMNode, Prompt
from .analysis import MESSAGE_BLOCK
from .common import SAFETY

# ----------------------------------------------------------------------------- 16. follow-up


class FollowUpPlan(BaseModel):
    """What to do after the reply is sent."""

    schedule_follow_up: bool
    follow_up_days: int
    suggested_actions: list[str]
    knowledge_base_update: str | None


FOLLOW_UP_PROMPT = Prompt(
    system=(
        "Plan the follow-up for a support case: whether and after how many days to check "
        "back, actions for the team, and a knowledge-base article worth writing (or null). "
        f"{SAFETY}"
    ),
    user=(
        f"{MESSAGE_BLOCK}\n"
        "<inquiry_type>{{inquiry_type}}</inquiry_type>\n"
        "<final_response>\n{{final_response}}\n</final_response>"
    ),
)

generate_follow_up = LLMNode(
    "generate_follow_up",
    label="Generate Follow-up Suggestions",
    prompt=FOLLOW_UP_PROMPT,
    output_model=FollowUpPlan,
    temperature=0.3,
    writes=["follow_up_plan"],
    # Optional: the reply is already final (and is being sent at the same time), so a plan
    # the model could not make must not fail the run, cancel the send or lose the log. The
    # trace shows the node failed; the log gets "follow_up_plan": null.
    fallback={"follow_up_plan": None},
)

# ----------------------------------------------------------------------------- 17. send


@with_config(ConfigDict(extra="allow"))
class SendResult(TypedDict):
    """What ``POST /support/send`` answers."""

    message_id: str
    status: str


def send_node(name: str, label: str) -> HTTPNode:
    """``POST /support/send`` with the final reply: the same request on both branches."""
    return HTTPNode(
        name,
        label=label,
        effect="sent",
        method="POST",
        path="/support/send",
        body={
            "to": "{{customer_email}}",
            "subject": "Re: {{customer_info.subject}}",
            "body": "{{final_response}}",
            "ticket_id": "{{ticket_id}}",
        },
        writes=["send_result"],
    )


send_response = send_node("send_response", "Send Response to Customer")

# ----------------------------------------------------------------------------- 18. log


@with_config(ConfigDict(extra="allow"))
class LogResult(TypedDict):
    """What ``POST /analytics/log`` answers."""

    log_id: str
    status: str


log_interaction = HTTPNode(
    "log_interaction",
    label="Log Interaction",
    effect="logged",
    method="POST",
    path="/analytics/log",
    body={
        "ticket_id": "{{ticket_id}}",
        "customer_email": "{{customer_email}}",
        "inquiry_type": "{{inquiry_type}}",
        "sentiment": "{{sentiment}}",
        "escalated": "{{escalated}}",
        "escalation_ticket_id": "{{escalation_ticket.ticket_id}}",
        "quality_score": "{{quality_score.score}}",
        "regenerations": "{{regenerations}}",
        "response_time_ms": "{{run.elapsed_ms}}",
        "follow_up_plan": "{{follow_up_plan}}",
        "message_id": "{{send_result.message_id}}",
        "answered_by": "{{human.by}}",
        "human_decision": "{{human.decision}}",
        "human_wait_ms": "{{human.waited_ms}}",
    },
    writes=["log_result"],
    # Each branch leaves some of these unwritten; None fills the log's field with null.
    defaults={
        "escalation_ticket": None,
        "quality_score": None,
        "follow_up_plan": None,
        "regenerations": 0,
        "human": None,
    },
)
