"""Printing untrusted text to a terminal safely.

Customer text can hold control characters: ``ESC [2J`` clears the screen, an OSC sequence
sets the window title, a carriage return overwrites the line. Everything the kit prints
to a terminal (the CLI's report, the mock server's request log) goes through
:func:`terminal_safe`, which shows such characters as visible escapes instead. Invisible
format characters are shown too: a right-to-left override (U+202E) makes a terminal draw
the rest of the line backwards ("gnp.exe" for "exe.png"), and zero-width spaces hide text
inside words. The zero-width joiner stays: emoji sequences (a family, a flag) need it.
"""

from __future__ import annotations

import json
import re
from typing import Any

_CONTROL = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029"  # controls, line and paragraph separators
    r"\u00ad\u061c\u180e\u200b\u200c\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f"
    r"\ufeff\ufff9-\ufffb]"  # invisible format characters, bidirectional controls among them
)


def terminal_safe(text: str) -> str:
    """``text`` with control characters shown as escapes (``\\x1b``); newlines and tabs
    stay as they are."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def terminal_json(data: Any) -> str:
    """``data`` as indented JSON for a terminal: non-ASCII text stays readable, and the
    characters :func:`terminal_safe` escapes are written as JSON escapes (``\\u202e``),
    so the JSON still means the same."""
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    return _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
