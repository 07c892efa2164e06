"""Printing untrusted text to a terminal safely.

Customer text can hold control characters: ``ESC [2J`` clears the screen, an OSC sequence
sets the window title, a carriage return overwrites the line. Everything the kit prints
to a terminal (the CLI's report, the mock server's request log) goes through
:func:`terminal_safe`, which shows such characters as visible escapes instead.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def terminal_safe(text: str) -> str:
    """``text`` with control characters shown as escapes (``\\x1b``); newlines and tabs
    stay as they are."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
