"""Nodes 4-6: billing cases look at the customer's account before anything is decided.

``check_billing`` routes on the inquiry type; on the billing route the account API is
asked about the order (``GET /accounts/{id}``) and an LLM reads what the account's state
means for the request.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Annotated, Any, Literal, NotRequired

from pydantic import BaseModel, ConfigDict, with_config
from typing_extensions import TypedDict

from ..engine import FunctionNode, Router
from ..http_node import HTTPNode
from ..llm import LLMNode, Prompt
from .analysis import MESSAGE_BLOCK
from .common import SAFETY, labels, normalised, one_of

# ----------------------------------------------------------------------------- 4. route

check_billing = Router(
    "check_billing",
    lambda inputs: "billing" if inputs["inquiry_type"] == "billing" else "default",
    routes=("billing", "default"),
    label="Check if Billing Inquiry",
    reads=("inquiry_type",),
)

# ----------------------------------------------------------------------------- 5. fetch


def account_lookup_id(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The account API is keyed by order id; without one we ask about "unknown". Anything
    but letters, digits, ".", "_" and "-" becomes "-" ("PO 2024/117" asks about
    "PO-2024-117"): servers decode an escaped "/" into a path of two segments, which is
    another route or none ("../support/send" must never become a path). Fullwidth digits
    are read as digits; letters of any script stay (the URL escapes them)."""
    order_id = unicodedata.normalize("NFKC", str(inputs["customer_info"].get("order_id") or ""))
    key = re.sub(r"[^\w.-]+", "-", order_id.strip()).strip("-.")
    return {"account_lookup_id": key or "unknown"}


prepare_account_lookup = FunctionNode(
    "prepare_account_lookup",
    account_lookup_id,
    label="Prepare Account Lookup",
    reads=("customer_info",),
    writes=("account_lookup_id",),
)


@with_config(ConfigDict(extra="allow"))
class AccountStatus(TypedDict):
    """What ``GET /accounts/{id}`` answers (extra fields a real API sends are kept)."""

    account_id: str
    status: str
    subscription_tier: NotRequired[str]
    balance: NotRequired[float]
    last_payment: NotRequired[str]
    next_billing_date: NotRequired[str]
    outstanding_issues: NotRequired[list[str]]
    suspension_reason: NotRequired[str]


fetch_account_status = HTTPNode(
    "fetch_account_status",
    label="Fetch Account Status",
    method="GET",
    path="/accounts/{{account_lookup_id}}",
    auth=True,
    writes=["account_status"],
)

# ----------------------------------------------------------------------------- 6. analyse

AccountAction = Literal[
    "refund_eligible",
    "payment_issue",
    "subscription_active",
    "account_suspended",
    "needs_manual_review",
]
ACCOUNT_ACTIONS = labels(AccountAction)
ACCOUNT_ACTION_MEANINGS: dict[str, str] = {
    **dict.fromkeys(ACCOUNT_ACTIONS[:-1], ""),
    "needs_manual_review": "when the data does not settle it, e.g. a disputed double charge",
}


class AccountAnalysis(BaseModel):
    """What the account's state means for this request."""

    account_action: Annotated[
        AccountAction,
        normalised(
            AccountAction,
            "needs_manual_review",
            {"suspended": "account_suspended", "active": "subscription_active"},
        ),
    ]
    reason: str


ACCOUNT_PROMPT = Prompt(
    system=(
        "You review a customer's account for a billing request. Choose one action: "
        f"{one_of(ACCOUNT_ACTION_MEANINGS)}. Give a one-sentence reason. {SAFETY}"
    ),
    user=f"{MESSAGE_BLOCK}\n<account_status>\n{{{{account_status}}}}\n</account_status>",
)

analyze_account_status = LLMNode(
    "analyze_account_status",
    label="Analyze Account Status",
    prompt=ACCOUNT_PROMPT,
    output_model=AccountAnalysis,
    temperature=0.1,
    writes=["account_action", "account_analysis"],
    to_state=lambda answer, inputs: {
        "account_action": answer["account_action"],
        "account_analysis": answer,
    },
)
