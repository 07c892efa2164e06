"""The mock server's support APIs, request log, database, error handling and start/stop."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from mock_server import (
    OFFLINE_MODEL_NAME,
    MockServer,
    PortInUseError,
    format_request_log,
    start_server,
)
from mock_server.accounts import STATUSES, status_for
from mock_server.constants import MAX_BODY_BYTES
from mock_server.store import resolve_db_path

REPO = Path(__file__).resolve().parents[1]
AUTH = {"Authorization": "Bearer test-token"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockServer]:
    db = tmp_path_factory.mktemp("mock_server") / "kit.sqlite3"
    handle = start_server(port=0, db_path=str(db))
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def http(server: MockServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10, trust_env=False) as client:
        yield client


@pytest.fixture(autouse=True)
def _clean(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test starts with an empty log and database and default knobs."""
    if "server" not in request.fixturenames:
        yield
        return
    server = request.getfixturevalue("server")
    server.reset()
    yield
    server.configure(fault_rate=0.0, fault_paths=["/v1"], latency_ms=0)


def is_iso_utc(value: str) -> bool:
    return value.endswith("Z") and datetime.fromisoformat(value.replace("Z", "+00:00")) is not None


def assert_error(response: httpx.Response, status: int, *words: str) -> None:
    """A JSON error in OpenAI's shape, with the given status and words in its message."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    for word in words:
        assert word.lower() in error["message"].lower(), error["message"]


# ---- routes and fields ----


def test_health_identifies_the_kit(http: httpx.Client) -> None:
    assert http.get("/health").json() == {
        "service": "support-kit-mock-server",
        "version": "1",
        "model": OFFLINE_MODEL_NAME,
    }


def test_go_demo_special_accounts(http: httpx.Client) -> None:
    assert http.get("/accounts/refund_case", headers=AUTH).json() == {
        "account_id": "refund_case",
        "status": "refund_eligible",
        "subscription_tier": "premium",
        "balance": -50.0,
        "last_payment": "2025-11-15",
        "outstanding_issues": ["payment_failed"],
    }
    assert http.get("/accounts/suspended", headers=AUTH).json() == {
        "account_id": "suspended",
        "status": "suspended",
        "subscription_tier": "free",
        "balance": 0.0,
        "suspension_reason": "terms_violation",
    }


def test_active_account_has_the_go_demo_fields(http: httpx.Client) -> None:
    assert http.get("/accounts/10008", headers=AUTH).json() == {
        "account_id": "10008",
        "status": "active",
        "subscription_tier": "basic",
        "balance": 120.5,
        "last_payment": "2025-11-20",
        "next_billing_date": "2025-12-20",
    }


def test_account_mapping_is_stable_and_covers_every_status(http: httpx.Client) -> None:
    ids = [str(n) for n in range(20000, 20060)]
    first = [http.get(f"/accounts/{i}", headers=AUTH).json()["status"] for i in ids]
    second = [http.get(f"/accounts/{i}", headers=AUTH).json()["status"] for i in ids]
    assert first == second == [status_for(i) for i in ids]
    assert set(first) == set(STATUSES)
    assert status_for("#12345") == status_for(" 12345 ") == status_for("12345")


def test_readme_example_ids_are_right(http: httpx.Client) -> None:
    readme = (REPO / "mock_server" / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (active|refund_eligible|suspended) \| ([\d, ]+) \|$", readme, re.M)
    assert {status for status, _ in rows} == set(STATUSES)
    for status, ids in rows:
        for account_id in ids.split(", "):
            assert http.get(f"/accounts/{account_id}", headers=AUTH).json()["status"] == status
    assert f"order `12345` is `{status_for('12345')}`" in readme


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"X-Api-Key": "abc"},
        {"Authorization": "Basic abc"},
    ],
)
def test_accounts_need_a_bearer_token(http: httpx.Client, headers: dict[str, str]) -> None:
    response = http.get("/accounts/12345", headers=headers)
    assert_error(response, 401, "Authorization: Bearer")
    assert response.headers["www-authenticate"] == "Bearer"


def test_escalate_echoes_priority_and_is_stored(server: MockServer, http: httpx.Client) -> None:
    body = {
        "message": "Charged twice!",
        "customer_info": {"customer_name": "Ann", "email": "ann@example.com", "order_id": "12345"},
        "inquiry_type": "billing",
        "sentiment": "negative",
        "priority": "urgent",
        "ticket_id": "TICKET-0001",
        "extra": {"kept": True},
    }
    reply = http.post("/support/escalate", json=body).json()
    assert set(reply) == {
        "ticket_id",
        "status",
        "assigned_to",
        "priority",
        "created_at",
        "estimated_response",
    }
    assert re.fullmatch(r"ESC-[0-9A-F]{12}", reply["ticket_id"])
    assert reply["status"] == "escalated"
    assert reply["assigned_to"] == "senior_support_team"
    assert reply["priority"] == "urgent"
    assert reply["estimated_response"] == "2 hours"
    assert is_iso_utc(reply["created_at"])
    assert http.post("/support/escalate", json={}).json()["priority"] == "high"

    row = server.query("SELECT * FROM escalations WHERE ticket_id = ?", [reply["ticket_id"]])[0]
    assert row["request_ticket_id"] == "TICKET-0001"
    assert (row["priority"], row["inquiry_type"], row["sentiment"]) == (
        "urgent",
        "billing",
        "negative",
    )
    assert (row["customer_name"], row["customer_email"], row["order_id"]) == (
        "Ann",
        "ann@example.com",
        "12345",
    )
    assert row["created_at"] == reply["created_at"]
    assert json.loads(row["body"]) == body


def test_send_is_stored(server: MockServer, http: httpx.Client) -> None:
    reply = http.post(
        "/support/send",
        json={
            "email": "ann@example.com",
            "subject": "Re: refund",
            "message": "Hi",
            "ticket_id": "T-1",
        },
    ).json()
    assert set(reply) == {"message_id", "status", "sent_at", "delivery_status"}
    assert re.fullmatch(r"MSG-[0-9A-F]{12}", reply["message_id"])
    assert (reply["status"], reply["delivery_status"]) == ("sent", "delivered")
    assert is_iso_utc(reply["sent_at"])
    http.post("/support/send", json={"to": "bob@example.com", "body": "Hello"})
    rows = server.query(
        "SELECT to_email, subject, message, ticket_id FROM sent_messages ORDER BY rowid"
    )
    assert rows == [
        {
            "to_email": "ann@example.com",
            "subject": "Re: refund",
            "message": "Hi",
            "ticket_id": "T-1",
        },
        {"to_email": "bob@example.com", "subject": None, "message": "Hello", "ticket_id": None},
    ]


def test_analytics_log_is_stored_with_columns(server: MockServer, http: httpx.Client) -> None:
    body = {
        "ticket_id": "T-9",
        "inquiry_type": "shipping",
        "sentiment": "neutral",
        "escalated": False,
        "quality_score": {"score": 8, "issues": []},
        "response_time_s": 1.5,
        "follow_up_plan": {"schedule_follow_up": True},
    }
    reply = http.post("/analytics/log", json=body).json()
    assert set(reply) == {"log_id", "status", "logged_at", "indexed"}
    assert re.fullmatch(r"LOG-[0-9A-F]{12}", reply["log_id"])
    assert (reply["status"], reply["indexed"]) == ("logged", True)
    assert is_iso_utc(reply["logged_at"])
    http.post(
        "/analytics/log", json={"escalated": "true", "quality_score": 6, "response_time_ms": 20}
    )
    rows = server.query(
        "SELECT escalated, quality_score, response_time_ms, body FROM analytics_logs ORDER BY rowid"
    )
    assert rows[0]["escalated"] == 0 and rows[0]["quality_score"] == 8.0
    assert rows[0]["response_time_ms"] == 1500.0
    assert json.loads(rows[0]["body"]) == body
    assert (rows[1]["escalated"], rows[1]["quality_score"], rows[1]["response_time_ms"]) == (
        1,
        6.0,
        20.0,
    )
    huge = b'{"quality_score": ' + b"9" * 400 + b"}"  # no float holds it: no score, no 500
    json_type = {"content-type": "application/json"}
    assert http.post("/analytics/log", content=huge, headers=json_type).status_code == 200
    assert server.query("SELECT quality_score FROM analytics_logs ORDER BY rowid")[2] == {
        "quality_score": None
    }


async def test_ids_unique_and_nothing_lost_under_concurrency(server: MockServer) -> None:
    routes = ["/support/escalate", "/support/send", "/analytics/log"]
    async with httpx.AsyncClient(base_url=server.url, timeout=30, trust_env=False) as client:
        replies = await asyncio.gather(
            *(client.post(routes[i % 3], json={"ticket_id": f"T-{i}"}) for i in range(200))
        )
    assert all(r.status_code == 200 for r in replies)
    ids = [next(iter(r.json().values())) for r in replies]  # the first field is the id
    assert len(set(ids)) == 200
    counts = server.query(
        "SELECT (SELECT COUNT(*) FROM escalations) AS e, (SELECT COUNT(*) FROM sent_messages) AS s,"
        " (SELECT COUNT(*) FROM analytics_logs) AS l"
    )[0]
    assert counts == {"e": 67, "s": 67, "l": 66}
    assert len(server.requests()) == 200


# ---- errors: always JSON, never 500 ----


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/support/send"),
        ("POST", "/accounts/1"),
        ("GET", "/support/escalate"),
        ("DELETE", "/analytics/log"),
    ],
)
def test_wrong_method_is_405(http: httpx.Client, method: str, path: str) -> None:
    assert_error(http.request(method, path, headers=AUTH), 405, "not allowed")


@pytest.mark.parametrize("path", ["/nope", "/accounts", "/support", "/accounts/1/extra"])
def test_unknown_path_is_404(http: httpx.Client, path: str) -> None:
    assert_error(http.get(path, headers=AUTH), 404, "no route")


@pytest.mark.parametrize(
    ("content", "headers", "status", "words"),
    [
        (b"{bad json", {"content-type": "application/json"}, 400, ["not valid JSON"]),
        (b"\xff\xfe{", {"content-type": "application/json"}, 400, ["could not be parsed"]),
        (b'{"a": NaN}', {"content-type": "application/json"}, 400, ["NaN"]),
        (b'{"a": "\\ud800"}', {"content-type": "application/json"}, 400, ["surrogate"]),
        (b"[" * 100_000 + b"]" * 100_000, {"content-type": "application/json"}, 400, ["parsed"]),
        (b'{"a": 1}', {}, 400, ["Content-Type: application/json"]),
        (b'{"a": 1}', {"content-type": "text/plain"}, 400, ["text/plain"]),
        (b"[1, 2]", {"content-type": "application/json"}, 422, ["dictionary"]),
        (b'"text"', {"content-type": "application/json"}, 422, ["dictionary"]),
        (b"", {"content-type": "application/json"}, 422, ["required"]),
    ],
)
@pytest.mark.parametrize("path", ["/support/escalate", "/support/send", "/analytics/log"])
def test_bad_bodies_are_4xx(
    http: httpx.Client, path: str, content: bytes, headers: dict, status: int, words: list[str]
) -> None:
    assert_error(http.post(path, content=content, headers=headers), status, *words)


def test_huge_body_is_413(server: MockServer, http: httpx.Client) -> None:
    too_big = b"x" * (MAX_BODY_BYTES + 1)
    assert_error(
        http.post("/support/send", content=too_big, headers={"content-type": "application/json"}),
        413,
        "1 MiB",
    )

    def chunks() -> Iterator[bytes]:  # no Content-Length: the server must count the bytes
        for _ in range(20):
            yield b"x" * 65536

    assert_error(http.post("/support/send", content=chunks()), 413, "too large")
    # A huge declared Content-Length is refused before any of the body is read.
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(
            b"POST /analytics/log HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000000000\r\n\r\n{}"
        )
        assert sock.recv(65536).startswith(b"HTTP/1.1 413 ")
    assert [e["status"] for e in server.requests()] == [413, 413, 413]
    ok = http.post("/support/send", json={"message": "y" * (MAX_BODY_BYTES - 100)})
    assert ok.status_code == 200


def test_errors_are_in_the_request_log(server: MockServer, http: httpx.Client) -> None:
    http.get("/nope")
    http.post("/support/send", content=b"{", headers={"content-type": "application/json"})
    assert [(e["path"], e["status"]) for e in server.requests()] == [
        ("/nope", 404),
        ("/support/send", 400),
    ]


# ---- request log ----


def test_request_log_entries_filter_and_clear(server: MockServer, http: httpx.Client) -> None:
    http.get("/accounts/12345?verbose=1", headers=AUTH)
    http.post("/support/escalate", json={"priority": "high"})
    http.get("/health")
    http.get("/_requests")
    entries = server.requests()
    assert [e["path"] for e in entries] == ["/accounts/12345", "/support/escalate"]
    first, second = entries
    assert set(first) == {
        "id",
        "time",
        "method",
        "path",
        "query",
        "body",
        "status",
        "duration_ms",
        "auth",
        "result",
    }
    assert first["query"] == {"verbose": "1"} and first["body"] is None
    assert first["auth"] == "Bearer ***" and "test-token" not in json.dumps(entries)
    assert first["status"] == 200 and first["duration_ms"] >= 0 and is_iso_utc(first["time"])
    assert first["result"] == status_for("12345")
    assert second["body"] == {"priority": "high"} and second["id"] > first["id"]
    assert [e["path"] for e in server.requests("/support")] == ["/support/escalate"]
    assert server.requests("/v1") == []

    text = format_request_log(entries)
    assert text.splitlines()[:3] == [
        "📥 GET /accounts/12345?verbose=1",
        "   Authorization: Bearer ***",
        f"   → 200 {status_for('12345')}",
    ]
    assert text.splitlines()[3:5] == ["📥 POST /support/escalate", '   Body: {"priority": "high"}']
    server.clear_requests()
    assert server.requests() == []


def test_in_process_server_prints_nothing(
    http: httpx.Client, capfd: pytest.CaptureFixture[str]
) -> None:
    http.get("/accounts/1", headers=AUTH)
    http.get("/nope")
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_reset_clears_log_and_tables(server: MockServer, http: httpx.Client) -> None:
    http.post("/support/escalate", json={})
    http.post("/analytics/log", json={})
    server.reset()
    assert server.requests() == []
    assert server.query("SELECT COUNT(*) AS n FROM escalations") == [{"n": 0}]
    assert server.query("SELECT COUNT(*) AS n FROM analytics_logs") == [{"n": 0}]


# ---- database ----


def test_query_is_read_only(server: MockServer, http: httpx.Client) -> None:
    http.post("/support/escalate", json={})
    for sql in [
        "DELETE FROM escalations",
        "WITH x AS (SELECT 1) DELETE FROM escalations",
        "PRAGMA query_only = OFF",
        "SELECT 1; DELETE FROM escalations",
        "SELECT * FROM no_such_table",
        "",
    ]:
        with pytest.raises(ValueError, match="400"):
            server.query(sql)
    assert server.query("SELECT COUNT(*) AS n FROM escalations") == [{"n": 1}]
    assert server.query("SELECT ? + 1 AS x", [41]) == [{"x": 42}]


def test_a_query_that_never_ends_is_stopped_and_the_server_keeps_serving(
    server: MockServer, http: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A longer limit than the 2 s shipped: /health must be answered while the query still
    # runs, even on a machine busy enough to delay a request by a second or two.
    monkeypatch.setattr("mock_server.store.QUERY_SECONDS", 3.0)  # (the client waits 5 s)
    count = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c{}) SELECT {} FROM c"
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(server.query, count.format("", "count(*)"))
        assert http.get("/health").status_code == 200
        assert not pending.done()  # /health was answered while the query ran
        with pytest.raises(ValueError, match="was stopped: add a WHERE or a LIMIT"):
            pending.result()
    assert server.query("SELECT 1 AS x") == [{"x": 1}]
    with pytest.raises(ValueError, match="over 10,000 rows: add a LIMIT"):
        server.query(count.format(" LIMIT 10001", "x"))
    with pytest.raises(ValueError, match="too big"):
        server.query("SELECT zeroblob(100000000) AS b")
    with pytest.raises(ValueError, match="over 20 MB"):  # few rows, each of them big
        server.query(count.format(" LIMIT 30", "zeroblob(1000000) AS b"))
    with pytest.raises(ValueError, match="too large"):
        server.query("SELECT ? AS x", [2**63])


def test_db_file_is_where_asked(server: MockServer, tmp_path: Path) -> None:
    assert server.db_path.endswith("kit.sqlite3") and Path(server.db_path).is_absolute()
    assert Path(server.db_path).exists()


def test_default_db_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SUPPORT_KIT_DB", raising=False)
    assert resolve_db_path(None) == str(tmp_path / "support_kit.sqlite3")
    monkeypatch.setenv("SUPPORT_KIT_DB", "other.db")
    assert resolve_db_path(None) == str(tmp_path / "other.db")
    assert resolve_db_path(":memory:") == ":memory:"


def test_memory_db_server() -> None:
    with start_server(port=0, db_path=":memory:") as handle:
        assert handle.db_path == ":memory:"
        httpx.post(handle.url + "/support/send", json={"to": "x"}, trust_env=False)
        assert handle.query("SELECT to_email FROM sent_messages") == [{"to_email": "x"}]


# ---- knobs outside /v1 ----


def test_faults_reach_other_paths_only_when_asked(server: MockServer, http: httpx.Client) -> None:
    server.configure(fault_rate=1.0, fault_kinds=["429"])
    assert http.post("/support/send", json={}).status_code == 200  # default: only /v1
    server.configure(fault_paths=["/v1", "/support"])
    response = http.post("/support/send", json={})
    assert_error(response, 429, "rate limit")
    assert response.headers["retry-after"] == "1"
    server.configure(fault_kinds=["malformed"])
    broken = http.post("/support/send", json={})
    assert broken.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(broken.text)


def test_faults_never_lock_out_the_kit_routes(server: MockServer, http: httpx.Client) -> None:
    server.configure(fault_rate=1.0, fault_kinds=["500"], fault_paths=["/"])
    assert http.get("/accounts/1", headers=AUTH).status_code == 500
    assert http.get("/health").status_code == 200
    assert server.requests()[-1]["status"] == 500
    server.configure(fault_rate=0.0)  # /_config itself still works
    assert http.get("/accounts/1", headers=AUTH).status_code == 200


def test_invalid_knobs_are_refused(server: MockServer) -> None:
    with pytest.raises(ValueError, match="latency"):
        server.configure(latency=5)
    with pytest.raises(ValueError, match="fault_rate"):
        server.configure(fault_rate=2)
    with pytest.raises(ValueError, match="fault_kinds"):
        server.configure(fault_kinds=["404"])
    with pytest.raises(ValueError):
        start_server(port=0, fault_rate=-1)
    assert server.configure(fault_kinds=[429, "timeout"])["fault_kinds"] == ["429", "timeout"]
    before = server.configure()
    with pytest.raises(ValueError, match="latency_ms=inf"):  # JSON cannot say it
        server.configure(latency_ms=float("inf"))
    reply = httpx.post(server.url + "/_config", json={"timeout_s": "inf"})  # JSON can
    assert reply.status_code == 422 and "timeout_s" in reply.text
    assert server.configure() == before  # nothing was applied


# ---- starting and stopping ----


def test_same_port_returns_the_same_handle(server: MockServer) -> None:
    again = start_server(port=server.port, latency_ms=0)
    assert again is server and again.owned and server.running
    assert repr(server) == f"MockServer(url='http://127.0.0.1:{server.port}', owned=True)"
    assert server.openai_base_url == server.url + "/v1"
    assert start_server(port=server.port, fault_seed=3, fault_kinds="500") is server
    knobs = server.configure()  # the knobs of the second call were applied
    assert (knobs["fault_seed"], knobs["fault_kinds"]) == (3, ["500"])
    with pytest.warns(UserWarning, match="ignored"):
        assert start_server(port=server.port, db_path="elsewhere.sqlite3") is server


def test_foreign_program_on_the_port_raises(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(PortInUseError) as info:
            start_server(port=port, db_path=str(tmp_path / "x.sqlite3"))
    message = str(info.value)
    assert str(port) in message and "not the support kit" in message and "use port 0" in message
    assert isinstance(info.value, RuntimeError)


def test_stop_is_clean_and_idempotent(tmp_path: Path) -> None:
    handle = start_server(port=0, db_path=str(tmp_path / "s.sqlite3"))
    port = handle.port
    assert handle.running
    handle.stop()
    handle.stop()
    assert not handle.running
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    with pytest.raises(RuntimeError, match="stopped"):
        handle.requests()
    with start_server(port=port, db_path=str(tmp_path / "s.sqlite3")) as again:  # port reusable
        assert again is not handle and again.running
    assert not again.running


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_cli_server_is_reused_and_prints_the_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    db = tmp_path / "cli.sqlite3"
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    process = subprocess.Popen(
        [sys.executable, "-m", "mock_server", "--port", str(port), "--db", str(db)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/health", trust_env=False).raise_for_status()
                break
            except httpx.HTTPError:
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline, "the CLI server did not start"
                time.sleep(0.05)

        handle = start_server(port=port)
        assert not handle.owned and handle.running
        assert repr(handle) == f"MockServer(url='http://127.0.0.1:{port}', owned=False)"
        assert handle.db_path == str(db)
        httpx.get(f"{handle.url}/accounts/12345", headers=AUTH, trust_env=False)
        assert [e["path"] for e in handle.requests()] == ["/accounts/12345"]
        handle.stop()
        assert "leaves it running" in capsys.readouterr().out
        assert handle.running
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    lines = out.splitlines()
    assert lines[0].startswith(f"✅ Mock server ready at http://127.0.0.1:{port}")
    assert lines[1:4] == [
        "📥 GET /accounts/12345",
        "   Authorization: Bearer ***",
        f"   → 200 {status_for('12345')}",
    ]
    assert lines[-1] == "Mock server stopped."


# ---- idempotency ----


def test_a_repeated_idempotency_key_gets_the_first_answer_and_changes_nothing(
    server: MockServer, http: httpx.Client
) -> None:
    body = {"to": "a@b.co", "subject": "Re: hi", "body": "Hello", "ticket_id": "T-9"}
    key = {"Idempotency-Key": "run-1/send_response/0"}
    first = http.post("/support/send", json=body, headers=key)
    again = http.post("/support/send", json=body, headers=key)
    other = http.post("/support/send", json=body, headers={"Idempotency-Key": "run-2/send/0"})
    assert first.json() == again.json() and again.headers["idempotent-replayed"] == "true"
    assert other.json()["message_id"] != first.json()["message_id"]
    assert server.query("SELECT COUNT(*) AS n FROM sent_messages")[0]["n"] == 2
    assert "replayed" in server.requests()[1]["result"]


async def test_two_requests_with_one_key_at_once_do_the_effect_once(server: MockServer) -> None:
    body = {"inquiry_type": "billing", "escalated": True}
    key = {"Idempotency-Key": "run-3/log_interaction/0"}
    async with httpx.AsyncClient(base_url=server.url, trust_env=False) as client:
        answers = await asyncio.gather(
            *(client.post("/analytics/log", json=body, headers=key) for _ in range(5))
        )
    assert len({a.json()["log_id"] for a in answers}) == 1
    assert server.query("SELECT COUNT(*) AS n FROM analytics_logs")[0]["n"] == 1


def test_idempotency_keys_survive_a_restart_of_a_server_with_a_database_file(
    tmp_path: Path,
) -> None:
    db = str(tmp_path / "keys.sqlite3")
    key = {"Idempotency-Key": "run-4/escalate_to_human/0"}
    with start_server(port=0, db_path=db) as first:
        ticket = httpx.post(f"{first.url}/support/escalate", json={"message": "x"}, headers=key)
    with start_server(port=0, db_path=db) as second:
        again = httpx.post(f"{second.url}/support/escalate", json={"message": "x"}, headers=key)
        assert again.json() == ticket.json()
        assert second.query("SELECT COUNT(*) AS n FROM escalations")[0]["n"] == 1


def test_model_knobs_warn_when_the_model_calls_go_elsewhere(fresh, monkeypatch):
    import warnings

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fresh.configure(sloppy_writer=1.0, latency_ms=0)  # the offline model: no warning
        monkeypatch.setenv("OPENAI_BASE_URL", fresh.openai_base_url)
        fresh.configure(sloppy_writer=1.0)  # pointed at this very server: still fine
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    with pytest.warns(UserWarning, match="sloppy_writer: these knobs act on this mock"):
        fresh.configure(sloppy_writer=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fresh.configure(sloppy_writer=0.0, fault_rate=0.0)  # back to defaults: nothing to say
        fresh.configure(fault_paths=["/support/send"], fault_rate=1.0)  # hits any model's run
        fresh.configure(fault_paths=["/v1"], fault_rate=0.0)
