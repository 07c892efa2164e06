"""Runs kept in SQLite: a run that waits for a person survives a restart of the process.

A trace is plain JSON and carries its own checkpoint (see ``Workflow.aresume``), so a
store only has to keep traces by run id. SQLite is the embedded default: one file, no
server, readable with any SQL tool (lesson 10 looks inside). ``claim`` makes resuming
safe across processes: only one of two processes resuming the same run gets it.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .errors import ResumeError
from .trace import Trace

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id      TEXT PRIMARY KEY,
    workflow    TEXT NOT NULL,
    status      TEXT NOT NULL,          -- running, waiting, completed, failed
    waiting_for TEXT,                   -- the node waiting for a person, if any
    question    TEXT,                   -- what it asks (JSON)
    updated_at  TEXT NOT NULL,
    trace       TEXT NOT NULL           -- the whole trace, checkpoint included (JSON)
);
"""


class RunStore:
    """Traces by run id, in a SQLite file (``":memory:"`` for a store that dies with it)."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = str(path) if str(path) == ":memory:" else str(Path(path).resolve())
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            self.path, timeout=10, check_same_thread=False, isolation_level=None
        )
        with self._lock:
            if self.path != ":memory:":
                self._db.execute("PRAGMA journal_mode = WAL")
            self._db.executescript(SCHEMA)

    def __repr__(self) -> str:
        return f"RunStore({self.path!r})"

    def save(self, trace: Trace) -> None:
        waiting = trace.waiting_for or {}
        row = (
            trace.run_id,
            trace.workflow,
            trace.status,
            waiting.get("node"),
            json.dumps(waiting.get("question"), default=str) if waiting else None,
            datetime.now(UTC).isoformat(timespec="seconds"),
            trace.to_json(indent=None),
        )
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, ?, ?, ?)", row)

    def load(self, run_id: str) -> Trace:
        with self._lock:
            row = self._db.execute("SELECT trace FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        if row is None:
            raise ResumeError(f"no run {run_id!r} in {self.path}")
        return Trace.from_json(row[0])

    def waiting(self) -> list[dict[str, Any]]:
        """The runs waiting for a person, oldest first: id, workflow, node, question, since."""
        with self._lock:
            rows = self._db.execute(
                "SELECT run_id, workflow, waiting_for, question, updated_at FROM runs "
                "WHERE status = 'waiting' ORDER BY updated_at, run_id"
            ).fetchall()
        keys = ("run_id", "workflow", "node", "question", "since")
        return [
            dict(zip(keys, (*r[:3], json.loads(r[3] or "null"), r[4]), strict=True)) for r in rows
        ]

    def claim(self, run_id: str, stale_after_s: float | None = None) -> Trace:
        """Take a waiting or failed run to resume it; a second claim fails (once only).

        A claim older than ``stale_after_s`` seconds is taken over: the process that made it
        was killed (``kill -9``, out of memory), since a live resume ends within its run
        deadline and saves the run. Without it, such a run could never be resumed again."""
        now = datetime.now(UTC)
        stale = ""  # a claim made before this moment is stale ("": no moment is, no limit)
        if stale_after_s is not None:
            stale = (now - timedelta(seconds=stale_after_s)).isoformat(timespec="seconds")
        with self._lock:
            taken = self._db.execute(
                "UPDATE runs SET status = 'running', updated_at = ? WHERE run_id = ? "
                "AND (status IN ('waiting', 'failed') OR (status = 'running' AND updated_at < ?))",
                (now.isoformat(timespec="seconds"), run_id, stale),
            ).rowcount
            row = self._db.execute("SELECT status FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        if row is None:
            raise ResumeError(f"no run {run_id!r} in {self.path}")
        if not taken:
            state = "being resumed" if row[0] == "running" else row[0]
            later = (
                f" (if the process resuming it was killed, it can be taken over "
                f"{stale_after_s:g} s after it started)"
                if row[0] == "running" and stale_after_s is not None
                else ""
            )
            raise ResumeError(
                f"run {run_id} is {state}: only a waiting or failed run can be resumed, "
                f"and only once{later}"
            )
        return self.load(run_id)

    def release(self, run_id: str) -> None:
        """Give back a claimed run that was not resumed after all (the answer was refused,
        or the process resuming it stopped): it is waiting, or failed, again as its saved
        trace says, and can be claimed once more."""
        saved = self.load(run_id)
        with self._lock:
            self._db.execute(
                "UPDATE runs SET status = ? WHERE run_id = ? AND status = 'running'",
                (saved.status, run_id),
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()
