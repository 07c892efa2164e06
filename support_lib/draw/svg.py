"""The drawing vocabulary shared by every picture: colours, fonts and small SVG helpers.

``KINDS`` and ``STATUSES`` say how each node kind and run status looks; the helpers turn
Python values into SVG text. They are where the determinism contract is kept: every
number goes through ``_num`` (rounded to 0.1), every string through ``_esc`` (XML-escaped),
attributes keep the order they are given in, and durations are only ever written by
``format_duration``. No other module writes numbers or text into SVG by hand.
"""

from __future__ import annotations

import html
import re
from typing import Any

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
# kind -> (tag, accent colour, light fill). Unknown kinds are drawn as "function".
KINDS = {
    "llm": ("LLM", "#7e57c2", "#f1ebfa"),
    "http": ("HTTP", "#1e88e5", "#e5f0fc"),
    "router": ("ROUTER", "#e65100", "#fff0de"),
    "merge": ("MERGE", "#00897b", "#dff3f0"),
    "function": ("FN", "#546e7a", "#edf1f3"),
}
# status -> (fill, stroke, stroke width, dash pattern, text opacity)
STATUSES = {
    "completed": ("#dcf2e0", "#2e7d32", 1.6, "", 1.0),
    "running": ("#fff3c4", "#e09b00", 3.2, "", 1.0),
    "waiting": ("#e3f2fd", "#1565c0", 2.2, "6 3", 1.0),  # asked a person (ctx.interrupt)
    "failed": ("#fde0dc", "#c62828", 2.2, "", 1.0),
    "skipped": ("#f2f2f2", "#9e9e9e", 1.2, "5 4", 0.45),
    "pending": ("#ffffff", "#9e9e9e", 1.2, "", 1.0),
}
INK, INK2, ROUTE_INK = "#1f2328", "#57606a", "#8a3a00"
PERSON_INK = "#1565c0"  # text and outlines about a person's part in a run
WAITING_NOTE = "waiting for a person"
HALO = {"stroke": "#fff", "stroke_width": 4, "paint_order": "stroke"}  # readable on lines
FIT = 'style="max-width: 100%; height: auto"'  # shrink to a narrow notebook column
BOLD, MIDDLE, END = {"font_weight": 700}, {"text_anchor": "middle"}, {"text_anchor": "end"}

_XML_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _esc(text: object) -> str:
    """XML-escape text (labels may hold <, & or quotes) and drop characters XML forbids."""
    return html.escape(_XML_FORBIDDEN.sub("", str(text)), quote=True)


def _num(value: float) -> str:
    """Round to 0.1 and drop a trailing '.0': stable, compact numbers."""
    text = f"{value:.1f}".removesuffix(".0")
    return "0" if text == "-0" else text


def _el(tag: str, text: str | None = None, **attrs: Any) -> str:
    """One SVG element; ``class_`` -> ``class``, ``stroke_width`` -> ``stroke-width``.
    Attributes keep the order given (deterministic output); None and "" are left out."""
    parts = [tag]
    for key, value in attrs.items():
        if value is not None and value != "":
            shown = _num(value) if isinstance(value, (int, float)) else _esc(value)
            parts.append(f'{key.rstrip("_").replace("_", "-")}="{shown}"')
    head = " ".join(parts)
    return f"<{head}/>" if text is None else f"<{head}>{_esc(text)}</{tag}>"


def _text(x: float, y: float, text: str, size: float = 11, fill: str = "#333", **kw: Any) -> str:
    """A ``<text>`` element at (x, y): the default size and colour suit small captions."""
    return _el("text", text, x=x, y=y, fill=fill, font_size=size, **kw)


def _d(*parts: str | float) -> str:
    """Path data from commands and numbers: ``_d("M", 0, 1.25, "H", 5)`` -> ``M0 1.2H5``."""
    out = ""
    for part in parts:
        if isinstance(part, str):
            out += part
        else:
            out += ("" if out[-1:].isalpha() else " ") + _num(part)
    return out


def _points(*xy: float) -> str:
    """A polygon's ``points``: ``_points(0, 1, 2, 3)`` -> ``0,1 2,3``."""
    return " ".join(f"{_num(a)},{_num(b)}" for a, b in zip(xy[::2], xy[1::2], strict=True))


def _svg_open(cls: str, width: float, height: float, title: str) -> list[str]:
    """Root element (standalone-valid: xmlns, viewBox, size), a tooltip and a white page."""
    w, h = _num(width), _num(height)
    size = f'width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="{FONT}"'
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{cls}" {size} role="img" {FIT}>',
        _el("title", title),
        _el("rect", width=width, height=height, fill="#fff"),
    ]


def format_duration(ms: float) -> str:
    """``412 ms`` below a second, else ``1.2 s``: the only two forms notebooks sanitize."""
    return f"{round(ms)} ms" if ms < 999.5 else f"{ms / 1000:.1f} s"


def _wrap(text: str, width: int = 22, max_lines: int = 2) -> list[str]:
    """Greedy word wrap; overlong words and a third line are cut with an ellipsis."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    if len(lines) > max_lines:
        lines = lines[: max_lines - 1] + [" ".join(lines[max_lines - 1 :])]
    return [ln if len(ln) <= width else ln[: width - 1].rstrip() + "…" for ln in lines] or [""]
