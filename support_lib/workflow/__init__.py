"""The customer-support workflow, built on the engine.

One module per stretch of the graph, each node with what it needs beside it (its label
vocabulary, the Pydantic model of its answer, its prompt):

- ``analysis``: 1-3, extract customer facts, classify the inquiry, read the sentiment;
- ``billing``: 4-6, route billing cases to the account API and read the account;
- ``escalation``: 7-8, decide on a human, hand over, acknowledge;
- ``reply``: 9-15, plan, write, review, rewrite (a bounded loop), personalise;
- ``finish``: 16-18, follow-up plan, send, log;
- ``state``: the contract: ``SupportState``, ``SupportResult``, ``SupportDeps``;
- ``build``: the edges, in ``build_workflow()``.
"""

from .analysis import (
    INQUIRY_TYPE_MEANINGS,
    INQUIRY_TYPES,
    SENTIMENTS,
    URGENCIES,
    CustomerInfo,
    InquiryClassification,
    InquiryType,
    Sentiment,
    SentimentAnalysis,
    Urgency,
)
from .billing import ACCOUNT_ACTIONS, AccountAction, AccountAnalysis, AccountStatus
from .build import DEFAULT_EMAIL, DEFAULT_MESSAGE, build_workflow
from .common import SAFETY, SIGN_OFF
from .escalation import DECISIONS, EscalationDecision, EscalationTicket, rule_escalation
from .finish import FollowUpPlan
from .reply import (
    PASS_SCORE,
    TONES,
    QualityScore,
    QualityVerdict,
    ResponseContext,
    quality_gate,
)
from .state import SupportDeps, SupportResult, SupportState

__all__ = [
    "ACCOUNT_ACTIONS",
    "DECISIONS",
    "DEFAULT_EMAIL",
    "DEFAULT_MESSAGE",
    "INQUIRY_TYPES",
    "INQUIRY_TYPE_MEANINGS",
    "PASS_SCORE",
    "SAFETY",
    "SENTIMENTS",
    "SIGN_OFF",
    "TONES",
    "URGENCIES",
    "AccountAction",
    "AccountAnalysis",
    "AccountStatus",
    "CustomerInfo",
    "EscalationDecision",
    "EscalationTicket",
    "FollowUpPlan",
    "InquiryClassification",
    "InquiryType",
    "QualityScore",
    "QualityVerdict",
    "ResponseContext",
    "Sentiment",
    "SentimentAnalysis",
    "SupportDeps",
    "SupportResult",
    "SupportState",
    "Urgency",
    "build_workflow",
    "quality_gate",
    "rule_escalation",
]
