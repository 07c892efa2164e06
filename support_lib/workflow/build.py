"""The graph: the nodes of the other modules, connected by explicit edges.

```
extract ─┐
classify ┼─ check_billing ─┬ billing → prepare lookup → fetch account → analyse account ─┐
sentiment┘                 └ default ─────────────────────────────────── check_escalation ┘
check_escalation ─┬ escalate → escalate_to_human → compose + send acknowledgement → log
                  └ generate_response → plan → write → score → quality_gate
quality_gate ─┬ pass / exhausted → merge_responses → personalize ─┬ follow-up ─┐
              └ fail → regenerate ─(loop, at most N times)→ score │ send ──────┴ log
```
"""

from __future__ import annotations

from typing import Literal

from ..engine import START, Node, Workflow
from ..inputs import DEFAULT_EMAIL, DEFAULT_MESSAGE  # noqa: F401 - the run's defaults
from .analysis import analyze_sentiment, classify_inquiry, extract_customer_info
from .billing import (
    analyze_account_status,
    check_billing,
    fetch_account_status,
    prepare_account_lookup,
)
from .escalation import (
    compose_acknowledgement,
    escalate_to_human,
    llm_escalation_check,
    rule_escalation_check,
    send_acknowledgement,
)
from .finish import generate_follow_up, log_interaction, send_node, send_response
from .human import ApprovalGate, wait_for_agent
from .reply import (
    generate_response,
    generate_response_context,
    merge_responses,
    personalize_response,
    quality_gate,
    regenerate_response,
    score_response,
)
from .state import SupportDeps, SupportState

Escalation = Literal["llm", "rules"]


def build_workflow(
    *,
    max_regenerations: int = 1,
    escalation: Escalation = "llm",
    human_in_the_loop: bool = False,
) -> Workflow[SupportDeps]:
    """The whole support workflow. ``escalation`` is "llm" (default) or "rules";
    ``max_regenerations`` bounds the rewrite loop (0 turns it off); ``human_in_the_loop``
    holds high-stakes replies for approval and lets an agent answer escalated cases
    (see ``human.py``)."""
    if escalation not in ("llm", "rules"):
        raise ValueError("escalation must be 'llm' or 'rules'")
    if max_regenerations < 0:
        raise ValueError("max_regenerations must be 0 or more")
    wf: Workflow[SupportDeps] = Workflow("customer_support", SupportState)
    for node in _nodes(max_regenerations, escalation):
        wf.add(node)
    _analysis_and_billing_edges(wf)
    _escalation_edges(wf, human_in_the_loop)
    _reply_edges(wf, max_regenerations, human_in_the_loop)
    return wf.validate()


def _nodes(max_regenerations: int, escalation: Escalation) -> list[Node]:
    return [
        extract_customer_info,
        classify_inquiry,
        analyze_sentiment,
        check_billing,
        prepare_account_lookup,
        fetch_account_status,
        analyze_account_status,
        llm_escalation_check() if escalation == "llm" else rule_escalation_check(),
        escalate_to_human,
        compose_acknowledgement,
        send_acknowledgement,
        generate_response_context,
        generate_response,
        score_response,
        quality_gate(max_regenerations),
        *([regenerate_response] if max_regenerations > 0 else []),
        merge_responses,
        personalize_response,
        generate_follow_up,
        send_response,
        log_interaction,
    ]


def _analysis_and_billing_edges(wf: Workflow[SupportDeps]) -> None:
    for first in ("extract_customer_info", "classify_inquiry", "analyze_sentiment"):
        wf.edge(START, first)
        wf.edge(first, "check_billing")
    wf.edge("check_billing", "prepare_account_lookup", when="billing")
    wf.edge("prepare_account_lookup", "fetch_account_status")
    wf.edge("fetch_account_status", "analyze_account_status")
    wf.edge("check_billing", "check_escalation", when="default")
    wf.edge("analyze_account_status", "check_escalation")


def _escalation_edges(wf: Workflow[SupportDeps], human: bool) -> None:
    wf.edge("check_escalation", "escalate_to_human", when="escalate")
    wf.edge("escalate_to_human", "compose_acknowledgement")
    wf.edge("compose_acknowledgement", "send_acknowledgement")
    if not human:
        wf.edge("send_acknowledgement", "log_interaction")
        return
    wf.add(wait_for_agent("wait_for_agent", "Agent Answers Escalated Case"))
    wf.add(send_node("send_agent_answer", "Send Agent's Answer"))
    wf.edge("send_acknowledgement", "wait_for_agent")
    wf.edge("wait_for_agent", "send_agent_answer")
    wf.edge("send_agent_answer", "log_interaction")


def _reply_edges(wf: Workflow[SupportDeps], max_regenerations: int, human: bool) -> None:
    wf.edge("check_escalation", "generate_response_context", when="generate_response")
    wf.edge("generate_response_context", "generate_response")
    wf.edge("generate_response", "score_response")
    wf.edge("score_response", "quality_gate")
    wf.edge("quality_gate", "merge_responses", when="pass")
    wf.edge("quality_gate", "merge_responses", when="exhausted")
    if max_regenerations > 0:
        wf.edge("quality_gate", "regenerate_response", when="fail")
        wf.edge("regenerate_response", "score_response", loop_limit=max_regenerations)
    wf.edge("merge_responses", "personalize_response")
    ready = "personalize_response"
    if human:
        wf.add(ApprovalGate())
        wf.add(wait_for_agent("agent_takes_over", "Agent Rewrites Rejected Reply"))
        wf.add(send_node("send_agent_reply", "Send Agent's Reply"))
        wf.edge("personalize_response", "approval_gate")
        wf.edge("approval_gate", "agent_takes_over", when="agent")
        wf.edge("agent_takes_over", "send_agent_reply")
        wf.edge("send_agent_reply", "log_interaction")
        ready = "approval_gate"
    when = "send" if human else None
    wf.edge(ready, "generate_follow_up", when=when)
    wf.edge(ready, "send_response", when=when)
    wf.edge("generate_follow_up", "log_interaction")
    wf.edge("send_response", "log_interaction")
