"""One input policy for every front door: the Python API, the CLI, the app, the webhook.

Each front door calls :func:`make_inputs` (or one of the ``check_*`` functions), so a
message, an email or a ticket id is accepted or refused the same way everywhere, with
an :class:`InvalidInputError` that names the field and says what to do. Nothing is
silently dropped: text is only normalised (Unicode NFC, ``\\r\\n`` → ``\\n``, outer
whitespace trimmed), never filtered.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from typing import Any

DEFAULT_MESSAGE = (
    "I've been charged twice for my order #12345. This is unacceptable! "
    "I want a refund immediately."
)
"""The original demo's message: what a run without a message is about."""
DEFAULT_EMAIL = "customer@example.com"

MAX_MESSAGE_CHARS = 8000
"""Longer messages are refused before any call is made (about 2,000 tokens of text)."""
TICKET_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
EMAIL = re.compile(
    r"[^\s@<>()\[\],;:\"\\]{1,64}@[^\W_](?:[\w-]{0,62}[^\W_])?(?:\.[^\W_](?:[\w-]{0,62}[^\W_])?)+"
)
INVISIBLE = {"Cc", "Cf", "Zs", "Zl", "Zp", "Mn", "Me", "Cn", "Co", "Cs"}
"""Unicode categories that show nothing on their own (controls, format marks, spaces...)."""
BLANK_LETTERS = set("\u115f\u1160\u3164\uffa0\u2800\ufffc\U0001d159")
"""Characters that Unicode files as letters or symbols but that print as blank space (the
Hangul fillers, the blank Braille pattern, the object replacement character, a musical
null notehead): a message of only these is empty too."""


def _shows_nothing(ch: str) -> bool:
    return unicodedata.category(ch) in INVISIBLE or ch in BLANK_LETTERS


class InvalidInputError(ValueError):
    """An input cannot be processed; ``field`` names which one."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def check_text(value: Any, field: str = "message", limit: int = MAX_MESSAGE_CHARS) -> str:
    """Customer text, normalised; refused when it is not text, cannot be encoded, has
    nothing visible in it, or is too long."""
    if not isinstance(value, str):
        raise InvalidInputError(field, f"the {field} must be text, not {type(value).__name__}")
    bad = next((i for i, ch in enumerate(value) if 0xD800 <= ord(ch) <= 0xDFFF), None)
    if bad is not None:
        raise InvalidInputError(
            field,
            f"the {field} holds a character that is not valid Unicode (a lone surrogate at "
            f"position {bad}); it was probably damaged when it was copied. Paste it again.",
        )
    if "\x00" in value:
        raise InvalidInputError(field, f"the {field} holds a NUL character (\\x00); remove it")
    text = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n")).strip()
    if all(map(_shows_nothing, text)):
        advice = "type what the customer wrote" if field == "message" else f"write the {field}"
        raise InvalidInputError(field, f"the {field} is empty (nothing visible in it): {advice}")
    if len(text) > limit:
        raise InvalidInputError(
            field,
            f"the {field} has {len(text):,} characters; the limit is {limit:,}. "
            "Shorten it or split it into several messages.",
        )
    return text


def check_message(message: Any) -> str:
    """The customer's message (see :func:`check_text`)."""
    return check_text(message, "message")


def check_email(email: Any) -> str:
    """One email address, or the default when none is given. A value holding a second
    address, a display name or a line break is refused: it would become mail headers."""
    if email is None or (isinstance(email, str) and not email.strip()):
        return DEFAULT_EMAIL
    if not isinstance(email, str) or not EMAIL.fullmatch(email.strip()):
        raise InvalidInputError(
            "email", "the email is not a single address (expected name@example.com)"
        )
    hidden = next((ch for ch in email.strip() if _shows_nothing(ch)), None)
    if hidden is not None:  # it would reach the mail's "To:" unseen
        raise InvalidInputError(
            "email", f"the email holds an invisible or control character ({hidden!r}); remove it"
        )
    return email.strip()


def check_ticket_id(ticket_id: Any) -> str:
    """A ticket id of 1-64 letters, digits, '-' or '_' (it becomes part of URLs and
    records), or a new random one when none is given."""
    if ticket_id is None or ticket_id == "":
        return new_ticket_id()
    if not isinstance(ticket_id, str) or not TICKET_ID.fullmatch(ticket_id):
        raise InvalidInputError(
            "ticket_id", "the ticket id must be 1-64 letters, digits, '-' or '_'"
        )
    return ticket_id


def new_ticket_id() -> str:
    return f"TICKET-{secrets.token_hex(4).upper()}"


def make_inputs(
    message: Any = DEFAULT_MESSAGE,
    *,
    email: Any = None,
    ticket_id: Any = None,
    history: Any = None,
) -> dict[str, str]:
    """The support workflow's inputs, checked, with the defaults filled in."""
    return {
        "customer_message": check_message(message),
        "customer_email": check_email(email),
        "ticket_id": check_ticket_id(ticket_id),
        "history": "none" if history in (None, "") else check_text(history, "history"),
    }
