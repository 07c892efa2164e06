"""Fake account records for `GET /accounts/{id}`.

The Go demo answered `active` for every ordinary id, so billing lessons never saw the other
cases. Here two ids keep the Go demo's special answers, and every other id maps to one of
the three statuses through a stable hash (sha256, not Python's `hash()`, which changes
between runs), so the same order id always gives the same account.
"""

from __future__ import annotations

import hashlib
from typing import Any

STATUSES = ("active", "refund_eligible", "suspended")

# The three account shapes, exactly as the Go demo returned them.
_RECORDS: dict[str, dict[str, Any]] = {
    "active": {
        "status": "active",
        "subscription_tier": "basic",
        "balance": 120.50,
        "last_payment": "2025-11-20",
        "next_billing_date": "2025-12-20",
    },
    "refund_eligible": {
        "status": "refund_eligible",
        "subscription_tier": "premium",
        "balance": -50.00,
        "last_payment": "2025-11-15",
        "outstanding_issues": ["payment_failed"],
    },
    "suspended": {
        "status": "suspended",
        "subscription_tier": "free",
        "balance": 0.00,
        "suspension_reason": "terms_violation",
    },
}

# The Go demo's two special ids.
_SPECIAL_IDS = {"refund_case": "refund_eligible", "suspended": "suspended"}


def status_for(account_id: str) -> str:
    """Return the status an id maps to: special ids first, else sha256(id) mod 3.

    Surrounding spaces and a leading "#" are ignored, so "#12345" and "12345" agree.
    """
    key = account_id.strip().lstrip("#")
    if key in _SPECIAL_IDS:
        return _SPECIAL_IDS[key]
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return STATUSES[int.from_bytes(digest[:8], "big") % len(STATUSES)]


def account_record(account_id: str) -> dict[str, Any]:
    """Build the JSON body for one account (a fresh dict each call, safe to modify)."""
    return {"account_id": account_id, **_RECORDS[status_for(account_id)]}
