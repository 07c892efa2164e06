"""In-memory request log, so code and tests can read what was sent to the mock server.

Each entry is a plain dict:
`{"id", "time", "method", "path", "query", "body", "status", "duration_ms", "auth", "result"}`
(`auth` is the masked Authorization header, `result` a one-line summary of the answer).
`format_request_log` prints entries the way the Go demo logged requests.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections import deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from support_lib.terminal import terminal_safe

MAX_ENTRIES = 5000  # oldest entries are dropped beyond this, so memory stays bounded


def utc_now_iso() -> str:
    """Current time as ISO-8601 UTC with a `Z`, e.g. `2026-01-01T12:00:00.123Z`."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def mask_authorization(value: str | None) -> str | None:
    """Keep the scheme, hide the secret: `Bearer sk-123` -> `Bearer ***`."""
    if value is None:
        return None
    scheme, _, token = value.strip().partition(" ")
    if token.strip():
        return f"{scheme} ***"
    return "***" if scheme else "(empty)"


class RequestLog:
    """Thread-safe ring buffer of request entries (the server writes, handles read)."""

    def __init__(
        self,
        max_entries: int = MAX_ENTRIES,
        on_entry: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=max_entries)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._on_entry = on_entry  # e.g. print for the CLI; None inside notebooks

    def add(self, **fields: Any) -> dict[str, Any]:
        """Store one entry; `fields` are everything but `id` and `time`."""
        with self._lock:
            entry = {"id": next(self._ids), "time": utc_now_iso(), **fields}
            self._entries.append(entry)
        if self._on_entry is not None:
            self._on_entry(entry)
        return entry

    def entries(self, path_prefix: str | None = None) -> list[dict[str, Any]]:
        """Oldest first; only paths starting with `path_prefix` if given."""
        with self._lock:
            snapshot = list(self._entries)
        if path_prefix:
            snapshot = [e for e in snapshot if e["path"].startswith(path_prefix)]
        return snapshot

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def _short(value: Any, limit: int = 100) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_request_log(entries: Iterable[dict[str, Any]]) -> str:
    """Render entries in the Go demo's style (one header line, a few indented fields).

    Durations are left out on purpose: notebook outputs should not change run to run.
    Control characters a client sent are shown as escapes (never sent to the terminal).
    """
    lines: list[str] = []
    for entry in entries:
        target = entry["path"]
        if entry.get("query"):
            target += "?" + "&".join(f"{k}={v}" for k, v in entry["query"].items())
        lines.append(f"📥 {entry['method']} {target}")
        if entry.get("auth"):
            lines.append(f"   Authorization: {entry['auth']}")
        if entry.get("body") is not None:
            lines.append(f"   Body: {_short(entry['body'])}")
        result = f" {entry['result']}" if entry.get("result") else ""
        lines.append(f"   → {entry['status']}{result}")
    return terminal_safe("\n".join(lines))
