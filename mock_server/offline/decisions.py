"""Decisions: account analysis, escalation, response context and the follow-up plan.

These mirror what the workflow's LLM nodes are asked to decide. Here they are explicit rules,
which makes them a useful baseline: when a real model disagrees with them, one of the two is
wrong, and a learner can read the rule to find out which.
"""

from __future__ import annotations

from typing import Any

from .extract import first_name
from .facts import Facts
from .text import any_match, strip_injections

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
        if "payment_failed" in outstanding or any_match(
            _PAYMENT_FAILED_WORDS, strip_injections(facts.message)
        ):
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


# ---------------------------------------------------------------------------
# Suggested solutions per issue (used by the context node and the replies)
# ---------------------------------------------------------------------------

SOLUTIONS: dict[str, list[str]] = {
    "double_charge": [
        "Verify the duplicate charge on {order} in the billing system",
        "Refund the duplicate payment to the original payment method within 3-5 business days",
        "Email the customer a confirmation once the refund is issued",
    ],
    "unknown_charge": [
        "Look up the charge in the billing system and explain what it was for",
        "Refund the charge within 3-5 business days if it was made in error",
        "Advise the customer to change the card password if the charge is not theirs",
    ],
    "overcharge": [
        "Compare the charged amount with the price on {order}",
        "Refund the difference to the original payment method within 3-5 business days",
    ],
    "payment_failed": [
        "Ask the customer to check the card details and billing address in account settings",
        "Ask the customer to try another payment method or contact the bank about the decline",
        "Retry the payment once the details are updated",
    ],
    "cancel_subscription": [
        "Cancel the subscription at the end of the current billing period",
        "Email the customer a cancellation confirmation",
        "Check whether a prorated refund applies",
    ],
    "refund": [
        "Check refund eligibility for {order} under the 30-day refund policy",
        "Issue the refund to the original payment method within 5-7 business days",
        "Email the customer a confirmation with the refund reference",
    ],
    "invoice": [
        "Send the customer a copy of the invoice for {order} by email",
        "Point the customer to Billing > Invoices in the account for future invoices",
    ],
    "damaged_item": [
        "Ask the customer for a photo of the damaged item and packaging",
        "Send a free replacement or a full refund for {order}, as the customer prefers",
        "File a damage claim with the carrier",
    ],
    "wrong_item": [
        "Send the customer a prepaid return label for the wrong item",
        "Ship the correct item for {order} with express delivery",
    ],
    "address_change": [
        "Update the delivery address on {order} if it has not shipped yet",
        "Ask the carrier to redirect the package if it has already shipped",
    ],
    "late_delivery": [
        "Send the customer the tracking link for {order}",
        "Open a carrier investigation if tracking shows no update after 5 business days",
        "Offer a replacement or refund if the package is confirmed lost",
    ],
    "tracking": [
        "Send the customer the tracking link for {order}",
        "Explain that tracking can take 24-48 hours to update after dispatch",
    ],
    "shipping_question": [
        "Share the shipping options, costs and delivery times for the customer's country",
        "Link the shipping policy page for details on international delivery",
    ],
    "login": [
        "Send the customer a password reset link to the email on file",
        "Ask the customer to clear the browser cache or try the mobile app",
        "Unlock the account if it was locked after too many attempts",
    ],
    "password": [
        "Send the customer a password reset link (valid for 24 hours) to the email on file",
        "Ask the customer to check the spam folder if the reset email does not arrive",
    ],
    "two_factor": [
        "Verify the customer's identity and reset two-factor authentication",
        "Guide the customer to set up the authenticator app again and save the backup codes",
    ],
    "email_change": [
        "Guide the customer to Settings > Account > Email to change the address",
        "Send a verification link to the new email address to confirm the change",
    ],
    "delete_account": [
        "Confirm the customer's identity before deleting the account",
        "Delete the account and its data within 30 days and send a confirmation",
    ],
    "security": [
        "Lock the account and send the customer a password reset link",
        "Review recent sign-ins and turn on two-factor authentication",
        "Reverse any unauthorized changes or charges",
    ],
    "crash": [
        "Ask the customer to update the app to the latest version",
        "Ask the customer to clear the app cache or reinstall the app",
        "Open a bug report with the device model and OS version if the crashes continue",
    ],
    "sync": [
        "Ask the customer to sign out and back in to force a fresh sync",
        "Check the sync service status and the customer's connection",
        "Open a bug report with the device details if data is still missing",
    ],
    "error": [
        "Ask the customer for the exact error message and a screenshot",
        "Ask the customer to update the app and restart the device",
        "Open a bug report for the engineering team if the error persists",
    ],
    "not_working": [
        "Walk the customer through a restart and a factory reset of the device",
        "Check that the firmware or app is up to date",
        "Offer a warranty replacement if the troubleshooting does not help",
    ],
    "how_to": [
        "Send the customer the step-by-step setup guide from the help center",
        "Offer a short screen-share session if the guide does not help",
    ],
    "compatibility": [
        "Confirm compatibility from the product specification sheet",
        "Link the compatibility list on the product page",
    ],
    "feature_request": [
        "Log the idea in the feature request tracker for the product team",
        "Tell the customer about any existing workaround",
    ],
    "recommendation": [
        "Recommend the model that matches the customer's stated needs",
        "Link the comparison table on the product page",
    ],
    "availability": [
        "Check the current stock level and restock date",
        "Offer a back-in-stock email notification",
    ],
    "specs": [
        "Send the customer the product specification sheet",
        "Answer the specific question from the product documentation",
    ],
    "hours": [
        "Share the support and store opening hours",
        "Mention the 24/7 help center and chat for urgent questions",
    ],
    "praise": [
        "Pass the kind words on to the team that helped",
        "Keep the customer posted about new features and offers they may enjoy",
    ],
    "feedback": [
        "Pass the feedback to the product team for review",
        "Tell the customer how feedback is used to improve the service",
    ],
}
CATEGORY_SOLUTIONS: dict[str, list[str]] = {
    "technical": SOLUTIONS["error"],
    "billing": [
        "Review the billing history for {order}",
        "Correct any billing error and email the customer a confirmation",
    ],
    "shipping": SOLUTIONS["tracking"],
    "product": [
        "Answer the question from the product documentation",
        "Link the relevant product page",
    ],
    "account": SOLUTIONS["login"],
    "general": [
        "Answer the question directly and link the help center",
        "Point the customer to the help center for related questions",
    ],
}


def suggested_solutions(facts: Facts, account_action: str | None = None) -> list[str]:
    """Concrete solutions for the message's main issue, with the order id filled in."""
    base = SOLUTIONS.get(facts.issue.key) or CATEGORY_SOLUTIONS.get(facts.inquiry_type, [])
    order = f"order #{facts.order_id}" if facts.order_id else "the order"
    solutions = [s.replace("{order}", order) for s in base]
    if account_action == "refund_eligible" and facts.inquiry_type == "billing":
        solutions.insert(0, "Process the refund: the account is marked refund eligible")
    elif account_action == "payment_issue":
        solutions.insert(
            0, "Help the customer update the payment method to clear the failed payment"
        )
    elif account_action == "account_suspended":
        solutions.insert(0, "Explain the account suspension and how to appeal it")
    return solutions[:3]


# ---------------------------------------------------------------------------
# Response context (node 9)
# ---------------------------------------------------------------------------


def response_context(facts: Facts, account_action: str | None, status: Any) -> dict:
    """key_points, tone, suggested_solutions and additional_info_needed for the reply writer."""
    key_points = [f"Customer issue: {facts.subject}"]
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
    name = first_name(facts.customer_name)
    if name:
        key_points.append(f"Address the customer as {name}")
    tone = {"negative": "empathetic", "positive": "friendly"}.get(facts.sentiment, "professional")
    needed = []
    if not facts.order_id and facts.inquiry_type in ("billing", "shipping"):
        needed.append("The order number")
    if facts.inquiry_type == "technical":
        needed.append("Device model, operating system and app version")
        if facts.issue.key in ("error", "technical", "not_working"):
            needed.append("The exact error message or a screenshot")
    if facts.inquiry_type == "account" and "@" not in facts.message:
        needed.append("The email address on the account")
    if facts.inquiry_type == "product" and not facts.product:
        needed.append("Which product or model the customer means")
    return {
        "key_points": key_points,
        "tone": tone,
        "suggested_solutions": suggested_solutions(facts, account_action),
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
