"""Example and labeled customer messages shipped with the kit (``support_lib/data``).

``labeled_messages.jsonl`` (132 messages) is training data: the offline model was written
and trained with it in view, so it is never used to measure the model. Measurements use
the corpus's frozen test split (``load_split("test")``, see ``data/corpus/SPLITS.md``).
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


def load_split(name: str) -> list[dict[str, Any]]:
    """A split of the labeled corpus: "train", "dev" or the frozen "test" (measure on it,
    never tune on it)."""
    if name not in ("train", "dev", "test"):
        raise ValueError(f"no split {name!r}: the splits are train, dev and test")
    lines = (DATA / "corpus" / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def load_labeled() -> list[dict[str, Any]]:
    """The labeled set: message, inquiry_type, sentiment, urgency, expected_escalation..."""
    lines = (DATA / "labeled_messages.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]
