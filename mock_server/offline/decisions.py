"""Decisions: account analysis, escalation, response context and the follow-up plan.

These mirror what the workflow's LLM nodes are asked to decide. Here they are explicit rules,
which makes them a useful baseline: when a real model disagrees with them, one of the two is
wrong, and a learner can read the rule to find out which.
"""

from __future__ import annotations

from typing import Any

from .extract import first_name
from .facts import Facts
from .text import any_match

# ---------------------------------------------------------------------------
# Account analysis (node 6)
# ---------------------------------------------------------------------------

_PAYMENT_FAILED_WORDS = (
    "payment failed", "failed payment", "declined", "card was rejected", "payment bounced",
    "payment didn't go through", "payment did not go through", "payment error", "can't pay",
    "cannot pay", "unable to pay", "card expired",
)  # fmt: skip
_DISPUTE_ISSUES = {"double_charge", "unknown_charge", "overcharge", "refund"}


def analyze_account(status: Any, facts: Facts) -> tuple[str, str]:
    """(account_action, reason) from the ``<account_status>`` JSON and the message."""
    if not isinstance(status, dict) or not isinstance(status.get("status"), str):
        return (
            "needs_manual_review",
            "The account status is missing or unreadable, so a person must check the account.",
        )
    state = status["status"].strip().lower()
    account = status.get("account_id", "the account")
    outstanding = [str(i).lower() for i in status.get("outstanding_issues") or []]
    if state == "refund_eligible":
        balance = status.get("balance")
        extra = f" with a balance of {balance}" if balance not in (None, "") else ""
        return "refund_eligible", f"Account {account} is marked refund eligible{extra}."
    if state == "suspended":
        why = status.get("suspension_reason") or "an unspecified reason"
        return "account_suspended", f"Account {account} is suspended ({why})."
    if state == "active":
        if "payment_failed" in outstanding or any_match(_PAYMENT_FAILED_WORDS, facts.message):
            return (
                "payment_issue",
                f"Account {account} is active but has a failed or declined payment.",
            )
        if facts.issue.key in _DISPUTE_ISSUES or any_match(("dispute",), facts.message):
            return (
                "needs_manual_review",
                f"Account {account} is active but the customer disputes a charge "
                f"({facts.issue.phrase.removeprefix('your ').removeprefix('the ')}), "
                "which needs a manual check of the payments.",
            )
        tier = status.get("subscription_tier")
        tier_text = f" on the {tier} tier" if tier else ""
        return "subscription_active", f"Account {account} is active{tier_text} with no open issues."
    return (
        "needs_manual_review",
        f"Account {account} has an unexpected status '{state}', so a person must check it.",
    )


# ---------------------------------------------------------------------------
# Escalation (node 7)
# ---------------------------------------------------------------------------


def decide_escalation(facts: Facts, account_action: str | None) -> tuple[str, str]:
    """(decision, one-sentence reason naming the criterion that decided it)."""
    if facts.legal_threat:
        return "escalate", "Escalate: the customer mentions legal action or a chargeback."
    if facts.language.code != "en":
        return "escalate", f"Escalate: the message is in {facts.language.name}."
    if facts.wants_human:
        return (
            "escalate",
            "Escalate: the customer explicitly asks for a human, manager or supervisor.",
        )
    if facts.urgency == "high":
        return "escalate", "Escalate: the urgency is high."
    if facts.inquiry_type == "technical" and facts.sentiment == "negative":
        return "escalate", "Escalate: a technical problem reported by an unhappy customer."
    if facts.inquiry_type == "billing" and account_action in (
        "needs_manual_review",
        "account_suspended",
    ):
        return "escalate", f"Escalate: a billing inquiry whose account status is {account_action}."
    return (
        "generate_response",
        f"Generate a response: {_article(facts.inquiry_type)} {facts.inquiry_type} inquiry "
        f"with {facts.sentiment} sentiment and {facts.urgency} urgency meets no escalation "
        "criterion.",
    )


def suggested_solutions(facts: Facts, account_action: str | None = None) -> list[str]:
    """The concrete steps for the customer's intent (see replies.plan and intents.py)."""
    from .replies import plan

    return plan(facts, account_action).steps


# ---------------------------------------------------------------------------
# Response context (node 9)
# ---------------------------------------------------------------------------


def response_context(facts: Facts, account_action: str | None, status: Any) -> dict:
    """key_points, tone, suggested_solutions and additional_info_needed for the reply writer."""
    from .replies import plan

    p = plan(facts, account_action)
    key_points = [f"The customer's request ({facts.intent.replace('_', ' ')}): {p.understood}"]
    if facts.order_id:
        key_points.append(f"Order #{facts.order_id} is referenced")
    if facts.product:
        key_points.append(f"Product: {facts.product}")
    key_points.append(
        f"Sentiment is {facts.sentiment} and urgency is {facts.urgency}"
        + ("; acknowledge the frustration first" if facts.sentiment == "negative" else "")
    )
    if account_action:
        key_points.append(f"Account analysis: {account_action.replace('_', ' ')}")
    elif isinstance(status, dict) and status.get("status"):
        key_points.append(f"Account status: {status['status']}")
    if p.template.promise and not p.promise:
        key_points.append("Do not promise a refund: the account does not show it is allowed")
    if p.language_note:
        key_points.append(f"The message is in {facts.language.name}")
    name = first_name(facts.customer_name)
    if name:
        key_points.append(f"Address the customer as {name}")
    tone = {"negative": "empathetic", "positive": "friendly"}.get(facts.sentiment, "professional")
    needed = []
    if not facts.order_id and p.template.steps != p.template.steps_without_order:
        needed.append("The order number")
    if facts.inquiry_type == "technical":
        needed.append("Device model, operating system and app version")
    return {
        "key_points": key_points,
        "tone": tone,
        "suggested_solutions": p.steps + ([p.promise] if p.promise else []),
        "additional_info_needed": needed,
    }


# ---------------------------------------------------------------------------
# Follow-up plan (node 16)
# ---------------------------------------------------------------------------

KNOWLEDGE_BASE_TOPICS = {
    "late_delivery": "Add a help-center article on tracking a package and what to do when "
    "tracking stops updating.",
    "tracking": "Add a help-center article on finding and reading the tracking link.",
    "password": "Add a help-center article on resetting a password, including the spam-folder tip.",
    "login": "Add a help-center article on sign-in problems and password resets.",
    "two_factor": "Add a help-center article on recovering access when the two-factor device "
    "is lost.",
    "double_charge": "Add a help-center article explaining duplicate charges and how their "
    "refunds work.",
    "refund": "Add a help-center article on the refund policy and refund timelines.",
    "cancel_subscription": "Add a help-center article on cancelling a subscription.",
    "crash": "Add a troubleshooting article for app crashes (update, clear cache, reinstall).",
    "sync": "Add a troubleshooting article for data that does not sync.",
    "payment_failed": "Add a help-center article on declined payments and updating a card.",
    "damaged_item": "Add a help-center article on reporting items damaged in transit.",
    "email_change": "Add a help-center article on changing the account email address.",
}
FOLLOW_UP_ACTIONS = {
    "billing": ["Confirm the refund or correction has reached the customer's account"],
    "shipping": ["Check the tracking status and confirm the package was delivered"],
    "technical": ["Check whether the fix worked and whether the bug report needs an update"],
    "account": ["Confirm the customer can sign in and the account settings are correct"],
    "product": ["Check whether the customer needs more product information before buying"],
    "general": ["Check whether the customer's question was fully answered"],
}


def follow_up_plan(facts: Facts) -> dict:
    """schedule_follow_up, follow_up_days, suggested_actions and knowledge_base_update."""
    schedule = bool(
        facts.has_problem
        or facts.sentiment == "negative"
        or facts.urgency == "high"
        or facts.inquiry_type in ("billing", "shipping", "technical", "account")
    )
    if facts.urgency == "high" or facts.sentiment == "negative":
        days = 1
    elif facts.urgency == "medium":
        days = 3
    else:
        days = 7
    actions = list(FOLLOW_UP_ACTIONS.get(facts.inquiry_type, FOLLOW_UP_ACTIONS["general"]))
    if facts.sentiment == "negative":
        actions.append("Send a short satisfaction check after the issue is resolved")
    if facts.order_id:
        actions.append(f"Add a note to order #{facts.order_id} with the outcome")
    if not schedule:
        actions = ["Thank the customer and close the ticket"]
    return {
        "schedule_follow_up": schedule,
        "follow_up_days": days,
        "suggested_actions": actions,
        "knowledge_base_update": KNOWLEDGE_BASE_TOPICS.get(facts.issue.key),
    }


def _article(word: str) -> str:
    """'an account inquiry', 'a billing inquiry'."""
    return "an" if word[:1].lower() in "aeiou" else "a"
