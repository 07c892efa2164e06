"""Printing untrusted text to a terminal safely.

Customer text can hold control characters: ``ESC [2J`` clears the screen, an OSC sequence
sets the window title, a carriage return overwrites the line. Everything the kit prints
to a terminal (the CLI's report, the mock server's request log) goes through
:func:`terminal_safe`, which shows such characters as visible escapes instead. Invisible
format characters are shown too: a right-to-left override (U+202E) makes a terminal draw
the rest of the line backwards ("gnp.exe" for "exe.png"), and zero-width spaces hide text
inside words; tag characters (U+E0000...) can spell a whole hidden sentence. The
zero-width joiner stays: emoji sequences (a family) need it.
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import sys
import unicodedata
from typing import Any, NoReturn


@functools.cache
def _control() -> re.Pattern[str]:
    """Controls, line and paragraph separators, and every format character but the
    zero-width joiner. Built on first use, not at import: it looks at every code point."""
    hidden = "".join(
        re.escape(chr(code))
        for code in range(0xA0, 0x110000)
        if unicodedata.category(chr(code)) == "Cf" and code != 0x200D
    )
    return re.compile(rf"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029{hidden}]")


def terminal_safe(text: str) -> str:
    """``text`` with control characters shown as escapes (``\\x1b``); newlines and tabs
    stay as they are."""
    return _control().sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def terminal_json(data: Any) -> str:
    """``data`` as indented JSON for a terminal: non-ASCII text stays readable, and the
    characters :func:`terminal_safe` escapes are written as JSON escapes (``\\u202e``),
    so the JSON still means the same."""
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    return _control().sub(lambda m: _json_escape(m.group()), text)


def _json_escape(ch: str) -> str:
    """``\\uXXXX``, as a surrogate pair above U+FFFF (the tag characters U+E0000...)."""
    units = ch.encode("utf-16-be")
    return "".join(
        f"\\u{int.from_bytes(units[i : i + 2], 'big'):04x}" for i in range(0, len(units), 2)
    )


class SafeArgumentParser(argparse.ArgumentParser):
    """argparse, with its error messages (which quote what was typed) made safe for a
    terminal: a message pasted as an argument must not retitle or clear the window."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, terminal_safe(f"{self.prog}: error: {message}") + "\n")
