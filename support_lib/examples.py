"""Example and labeled customer messages shipped with the kit (``support_lib/data``).

``labeled_messages.jsonl`` was written independently of the offline model, so measuring
the model on it (lesson 08, the tests) is a fair check rather than a self-test.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"


@cache
def _examples() -> tuple[dict[str, Any], ...]:
    return tuple(json.loads((DATA / "examples.json").read_text(encoding="utf-8")))


def load_examples() -> list[dict[str, Any]]:
    """Showcase messages for the app's picker: ``{"title", "message", "email"}``."""
    return [dict(e) for e in _examples()]


def load_labeled() -> list[dict[str, Any]]:
    """The labeled set: message, inquiry_type, sentiment, urgency, expected_escalation..."""
    lines = (DATA / "labeled_messages.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]
