"""The support workflow's contract: its state, its typed result, and the services it needs.

- :class:`SupportState` declares every key the workflow's nodes read or write, with its
  type. The build-time checks hold every node, prompt and request body to it.
- :class:`SupportResult` is what a run decided and did, typed: the CLI, the app, the
  webhook service and batch evaluation read it instead of poking at state keys.
- :class:`SupportDeps` is what every node receives as ``ctx.deps``: the model, the HTTP
  client and the support API's address. ``support_lib.kit`` builds it for real runs;
  tests build it from a scripted model and a fake API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Required

import httpx
from pydantic import BaseModel, computed_field
from typing_extensions import TypedDict

from ..engine import Trace
from ..llm import ChatModel
from .analysis import CustomerInfo, InquiryType, Sentiment, Urgency
from .billing import AccountAction, AccountAnalysis, AccountStatus
from .escalation import EscalationDecision, EscalationTicket
from .finish import FollowUpPlan, LogResult, SendResult
from .human import HumanDecision
from .reply import QualityVerdict, ResponseContext


class SupportState(TypedDict, total=False):
    """Every key of the support workflow's state. ``Required`` keys are a run's inputs.

    Values are JSON: a key typed with a Pydantic model (``CustomerInfo``...) holds that
    model's fields as a dict, so a trace saves as it is; :class:`SupportResult` gives
    the objects back."""

    customer_message: Required[str]
    customer_email: Required[str]
    ticket_id: Required[str]
    history: Required[str]
    # 1-3: the three analyses
    customer_info: CustomerInfo
    inquiry_type: InquiryType
    sentiment: Sentiment
    # 4-6: billing only
    account_lookup_id: str
    account_status: AccountStatus
    account_action: AccountAction
    account_analysis: AccountAnalysis
    # 7-8: escalation
    escalation_decision: EscalationDecision
    escalated: bool
    escalation_ticket: EscalationTicket
    # 9-15: the reply
    response_context: ResponseContext
    generated_response: str
    candidate_response: str
    quality_score: QualityVerdict
    regenerated_response: str
    regenerations: int
    final_response_draft: str
    final_response: str
    # people in the loop (a mode, off by default)
    human: HumanDecision | None
    # 16-18: finishing
    follow_up_plan: FollowUpPlan | None  # None: planning failed (the node is optional)
    send_result: SendResult
    log_result: LogResult


class SupportResult(BaseModel):
    """What one run of the support workflow decided and did (None: not reached)."""

    run_id: str
    status: Literal["running", "waiting", "completed", "failed"]
    error: str | None
    ticket_id: str | None
    customer_email: str | None
    customer: CustomerInfo | None
    inquiry_type: InquiryType | None
    sentiment: Sentiment | None
    urgency: Urgency | None
    account_status: AccountStatus | None
    account_action: AccountAction | None
    escalation: EscalationDecision | None
    escalated: bool | None
    escalation_ticket: EscalationTicket | None
    final_response: str | None
    quality: QualityVerdict | None
    regenerations: int
    follow_up: FollowUpPlan | None
    sent: SendResult | None
    logged: LogResult | None
    effects: list[str]
    """The external effects that happened, in order ("escalated", "sent", "logged")."""
    human: HumanDecision | None = None
    """What a person did in this run (approved, edited, rejected, or wrote the reply)."""
    waiting_for: dict[str, Any] | None = None
    """While the run waits for a person: the node and its question."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def outstanding(self) -> list[str]:
        """What a run that stopped after acting still owes: once the customer was told
        something, the case must also be logged (and an escalated case answered). Empty
        for a completed run, or one that stopped before any effect."""
        if self.status in ("completed", "waiting") or not self.effects:
            return []
        return [e for e in ("sent", "logged") if e not in self.effects]

    @classmethod
    def from_trace(cls, trace: Trace) -> SupportResult:
        state: dict[str, Any] = trace.state
        customer = state.get("customer_info")
        return cls(
            run_id=trace.run_id,
            status=trace.status,
            error=trace.error,
            ticket_id=trace.inputs.get("ticket_id"),
            customer_email=trace.inputs.get("customer_email"),
            customer=customer,
            inquiry_type=state.get("inquiry_type"),
            sentiment=state.get("sentiment"),
            urgency=customer["urgency"] if customer else None,
            account_status=state.get("account_status"),
            account_action=state.get("account_action"),
            escalation=state.get("escalation_decision"),
            escalated=state.get("escalated"),
            escalation_ticket=state.get("escalation_ticket"),
            final_response=state.get("final_response"),
            quality=state.get("quality_score"),
            regenerations=state.get("regenerations", 0),
            follow_up=state.get("follow_up_plan"),
            sent=state.get("send_result"),
            logged=state.get("log_result"),
            effects=[effect["effect"] for effect in trace.effects],
            human=state.get("human"),
            waiting_for=trace.waiting_for,
        )


@dataclass
class SupportDeps:
    """The services every node of a run shares (the engine hands them over as
    ``ctx.deps``). The token is left out of ``repr`` so that showing deps never leaks it."""

    llm: ChatModel
    http: httpx.AsyncClient
    api_base_url: str
    api_token: str = field(default="demo-token", repr=False)
    """Bearer token for the account API; ``SUPPORT_API_TOKEN`` sets it (the mock accepts any)."""
