"""SQLite store for what the support APIs received (stdlib `sqlite3`, one table per API).

Every row keeps the full request body as JSON (`body` column) plus a few columns pulled out
of it so lessons can write simple queries, e.g.
`SELECT inquiry_type, COUNT(*) FROM analytics_logs GROUP BY inquiry_type`.

One connection is shared by the whole server and guarded by a lock, so concurrent requests
never lose a write; WAL mode and a busy timeout let other programs read the file meanwhile.
`:memory:` works too (the data then lives only as long as the server).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from typing import Any

from .constants import DB_ENV_VAR, DEFAULT_DB_FILENAME

SCHEMA = """
CREATE TABLE IF NOT EXISTS escalations (
    ticket_id         TEXT PRIMARY KEY,  -- ESC-..., returned by POST /support/escalate
    request_ticket_id TEXT,              -- the caller's own ticket id, if it sent one
    priority          TEXT,
    inquiry_type      TEXT,
    sentiment         TEXT,
    customer_name     TEXT,
    customer_email    TEXT,
    order_id          TEXT,
    message           TEXT,
    created_at        TEXT NOT NULL,
    body              TEXT NOT NULL      -- the full request body (JSON)
);
CREATE TABLE IF NOT EXISTS sent_messages (
    message_id TEXT PRIMARY KEY,         -- MSG-..., returned by POST /support/send
    ticket_id  TEXT,
    to_email   TEXT,
    subject    TEXT,
    message    TEXT,
    sent_at    TEXT NOT NULL,
    body       TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS analytics_logs (
    log_id           TEXT PRIMARY KEY,   -- LOG-..., returned by POST /analytics/log
    ticket_id        TEXT,
    inquiry_type     TEXT,
    sentiment        TEXT,
    escalated        INTEGER,            -- 1 / 0 / NULL if not sent
    quality_score    REAL,
    response_time_ms REAL,
    logged_at        TEXT NOT NULL,
    body             TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS idempotency (
    key        TEXT PRIMARY KEY,         -- the request's path + its Idempotency-Key header
    status     INTEGER NOT NULL,
    answer     TEXT NOT NULL,            -- the JSON answered the first time
    created_at TEXT NOT NULL
);
"""
TABLES = ("escalations", "sent_messages", "analytics_logs", "idempotency")

# Only statements that read may go through `query` (PRAGMA is out: it could switch
# query_only off again).
_READ_KEYWORDS = ("SELECT", "WITH", "VALUES", "EXPLAIN")


QUERY_SECONDS = 2.0
"""A `query` that runs longer is stopped: a recursive query that never ends must not stop
the server (its lock and connection are shared by every route)."""
QUERY_ROWS = 10_000
QUERY_BYTES = 20_000_000
"""A `query` that returns more rows, or more text, is refused: the answer is read whole
into memory (and sent as JSON)."""
MAX_VALUE_BYTES = 10_000_000
"""SQLite refuses to build a text or blob longer than this (``SELECT zeroblob(1e9)``)."""


class QueryError(ValueError):
    """A `query` that is not a single read-only statement, or that SQLite rejected."""


def resolve_db_path(path: str | os.PathLike[str] | None) -> str:
    """`None` means $SUPPORT_KIT_DB or ./support_kit.sqlite3; files become absolute paths."""
    if path is None:
        path = os.environ.get(DB_ENV_VAR) or DEFAULT_DB_FILENAME
    path = os.fspath(path)
    return path if path == ":memory:" else os.path.abspath(path)


class Store:
    """The three tables behind one lock-guarded connection."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = resolve_db_path(path)
        self._lock = threading.Lock()
        # isolation_level=None: every statement commits on its own (autocommit).
        self._conn = sqlite3.connect(
            self.path, timeout=10, check_same_thread=False, isolation_level=None
        )
        self._conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
        with self._lock:
            if self.path != ":memory:":
                self._conn.execute("PRAGMA journal_mode = WAL")
                self._conn.execute("PRAGMA synchronous = NORMAL")
            self._conn.executescript(SCHEMA)

    def insert(self, table: str, row: dict[str, Any]) -> None:
        """Insert one row; `row` keys are column names chosen by our code, never by a client."""
        if table not in TABLES:
            raise ValueError(f"unknown table {table!r}")
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        with self._lock:
            self._conn.execute(
                f"INSERT INTO {table} ({columns}) VALUES ({marks})", tuple(row.values())
            )

    def query(self, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        """Run one read-only statement and return its rows as dicts."""
        first_word = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
        if first_word not in _READ_KEYWORDS:
            raise QueryError(
                "only read-only statements are allowed (SELECT / WITH / VALUES / EXPLAIN); "
                "the server writes the tables itself"
            )
        deadline = time.monotonic() + QUERY_SECONDS
        with self._lock:
            # query_only makes SQLite itself refuse writes hidden inside the statement.
            self._conn.execute("PRAGMA query_only = ON")
            # SQLite calls this every 10,000 steps of its virtual machine; True stops the query.
            self._conn.set_progress_handler(lambda: time.monotonic() > deadline, 10_000)
            try:
                cursor = self._conn.execute(sql, tuple(params))
                names = [d[0] for d in cursor.description or ()]
                rows, size = [], 0
                while batch := cursor.fetchmany(100):
                    rows += batch
                    size += sum(len(v) for row in batch for v in row if isinstance(v, str | bytes))
                    if len(rows) > QUERY_ROWS or size > QUERY_BYTES:
                        break
            except (sqlite3.Error, OverflowError) as exc:
                if time.monotonic() > deadline:
                    raise QueryError(
                        f"the query ran for over {QUERY_SECONDS:g} s and was stopped: "
                        "add a WHERE or a LIMIT"
                    ) from exc
                raise QueryError(f"SQLite error: {exc}") from exc
            finally:
                self._conn.set_progress_handler(None, 0)
                self._conn.execute("PRAGMA query_only = OFF")
        if len(rows) > QUERY_ROWS:
            raise QueryError(f"the query returns over {QUERY_ROWS:,} rows: add a LIMIT")
        if size > QUERY_BYTES:
            raise QueryError(
                f"the query's answer is over {QUERY_BYTES // 1_000_000} MB: select fewer "
                "columns or rows"
            )
        return [dict(zip(names, values, strict=True)) for values in rows]

    def recall(self, key: str) -> tuple[int, bytes] | None:
        """The answer first given to a request with this idempotency key, if any."""
        with self._lock:
            row = self._conn.execute(
                "SELECT status, answer FROM idempotency WHERE key = ?", (key,)
            ).fetchone()
        return (row[0], row[1].encode()) if row else None

    def remember(self, key: str, status: int, answer: bytes, at: str) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT OR IGNORE INTO idempotency (key, status, answer, created_at) "
                "VALUES (?, ?, ?, ?)",
                (key, status, answer.decode(), at),
            )

    def clear(self) -> None:
        """Delete every row (used by `POST /_reset`)."""
        with self._lock:
            for table in TABLES:
                self._conn.execute(f"DELETE FROM {table}")

    def close(self) -> None:
        with self._lock:
            self._conn.close()


# Helpers to pull typed column values out of free-form request bodies.


def as_text(value: Any) -> str | None:
    """Strings stay, None stays None, anything else is stored as JSON text."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def as_number(value: Any) -> float | None:
    """Numbers, numeric strings, or `{"score": n}` (a whole quality-check result)."""
    if isinstance(value, dict):
        return as_number(value.get("score"))
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        try:
            return float(value)
        except OverflowError:  # an int of hundreds of digits is no score or duration
            return None
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def as_flag(value: Any) -> int | None:
    """true/false (or "true"/"false", 1/0) as 1/0; anything else NULL."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int) and value in (0, 1):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0", "yes", "no"):
        return int(value.strip().lower() in ("true", "1", "yes"))
    return None
