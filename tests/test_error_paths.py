"""Error paths end in one sentence, never a traceback: taken ports, unreadable bodies,
Ctrl+C with a request waiting, control characters on the console."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest

from mock_server import format_request_log
from support_lib.service import create_service_app

ENV = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )


def wait_for_line(proc: subprocess.Popen, text: str, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if text in line:
            return line
        if not line and proc.poll() is not None:
            break
    raise AssertionError(f"never printed {text!r}")


def test_the_service_on_a_port_the_mock_holds_says_so(server):
    proc = subprocess.run(
        [sys.executable, "-m", "support_lib.service", "--port", str(server.port)],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=30,
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == (
        f"error: Port {server.port} is taken: the support kit's own mock server is already "
        f"running at {server.url}. To go on, use it (e.g. --mock-url), stop it, pick another "
        f"port (e.g. {server.port + 1}), or use port 0 to get a free one."
    )


@pytest.mark.parametrize(
    ("command", "args", "said"),
    [
        ("mock_server", ["--port", "70000"], "'70000' is not a port: give 0 to 65535"),
        ("mock_server", ["--port", "0", "--db", "/no/such/folder/x.db"], "Cannot use the database"),
        (
            "mock_server",
            ["--port", "0", "--host", "999.1.1.1"],
            "cannot listen on host '999.1.1.1'",
        ),
        ("support_lib.service", ["--port", "70000"], "'70000' is not a port: give 0 to 65535"),
        ("support_lib.service", ["--port", "0", "--host", ""], "give a host to listen on"),
        ("mock_server", ["--port", "0", "--host", " "], "give a host to listen on"),
        (
            "support_lib.service",
            ["--port", "0", "--mock-url", "localhost"],
            "error: 'localhost' is not a mock server's address",
        ),
        ("support_lib.service", ["--port", "0", "--bogus\x1b[2J"], "--bogus\\x1b[2J"),
        ("mock_server", ["--port", "0", "--bogus\x1b[2J"], "--bogus\\x1b[2J"),
        (
            "support_lib.service",
            ["--port", "0", "--require-approval", "--db", "/no/such/folder/x.db"],
            "error: the run database '/no/such/folder/x.db' cannot be used",
        ),
    ],
)
def test_a_bad_server_option_gets_one_sentence(command, args, said):
    proc = subprocess.run(
        [sys.executable, "-m", command, *args], capture_output=True, text=True, env=ENV, timeout=30
    )
    assert proc.returncode in (1, 2) and "Traceback" not in proc.stderr
    assert said in proc.stderr.strip().splitlines()[-1]
    assert "\x1b" not in proc.stderr  # what was typed is shown with escapes


def test_the_service_on_a_port_another_program_holds_says_so():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "support_lib.service", "--port", str(port)],
            capture_output=True,
            text=True,
            env=ENV,
            timeout=30,
        )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "another program (not the support kit's mock server) is using it" in proc.stderr


UNREADABLE = (
    "the body cannot be read: send JSON encoded as UTF-8, not nested too deeply and with no "
    "number over 4,300 digits"
)


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b'\xff\xfe{"message": "hi"}', 400, UNREADABLE),
        (b'{"message": ' + b"[" * 5000 + b"]" * 5000 + b"}", 400, UNREADABLE),  # deep
        (b"[]", 422, 'body: it must be a JSON object such as {"message": "..."}'),
        (b"not json", 422, "the body is not valid JSON (Expecting value)"),
    ],
)
async def test_unreadable_webhook_bodies_get_the_same_error_shape(server, body, status, message):
    app = create_service_app(server.url)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
        answer = await client.post(
            "/api/support/incoming", content=body, headers={"content-type": "application/json"}
        )
    assert answer.status_code == status
    assert answer.json() == {"error": {"message": message, "field": None}}


def test_ctrl_c_with_a_request_waiting_stops_quietly(tmp_path):
    port = free_port()
    proc = start(
        "-m",
        "mock_server",
        "--port",
        str(port),
        "--latency-ms",
        "20000",
        "--db",
        str(tmp_path / "m.sqlite3"),
    )
    answers: list[httpx.Response] = []
    try:
        wait_for_line(proc, "Mock server ready")
        body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
        url = f"http://127.0.0.1:{port}"
        sender = threading.Thread(
            target=lambda: answers.append(
                httpx.post(f"{url}/v1/chat/completions", json=body, timeout=30)
            )
        )
        sender.start()
        deadline = time.monotonic() + 20
        while httpx.get(f"{url}/_info").json()["in_flight"] < 1:  # until the server holds it
            assert time.monotonic() < deadline, "the request never reached the server"
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        sender.join(20)
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert "Traceback" not in err and "CancelledError" not in err, err
    assert err.strip() == ""
    assert out.strip().endswith("Mock server stopped.")
    assert answers and answers[0].status_code == 503


def test_the_request_log_shows_control_characters_as_escapes():
    entry = {
        "method": "POST",
        "path": "/support/send\x1b]0;owned\x07",
        "query": {},
        "body": {"body": "hi\x1b[2J\x9b"},
        "status": 200,
        "result": "ok\r",
    }
    text = format_request_log([entry])
    assert "\x1b" not in text and "\x07" not in text and "\x9b" not in text and "\r" not in text
    assert "\\x1b]0;owned\\x07" in text and "\\x9b" in text


def test_brackets_inside_strings_do_not_count_as_nesting():
    from support_lib.web import nested_deeper_than

    assert not nested_deeper_than(b'{"message": "' + b"[{" * 100 + b'"}', 2)
    assert not nested_deeper_than(b'{"message": "a \\" [[[ b"}', 1)  # an escaped quote
    assert nested_deeper_than(b'{"message": [[["deep"]]]}', 3)
