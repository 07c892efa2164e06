"""Shared fixtures: every test runs offline, and tests that need the mock server share
one per module, on a free port with an in-memory database."""

from __future__ import annotations

import socket

import pytest

from mock_server import start_server


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    """No test may reach a real model, whatever the developer's shell has set."""
    for key in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "SUPPORT_KIT_MODEL"):
        monkeypatch.delenv(key, raising=False)


@pytest.fixture(scope="module")
def server():
    srv = start_server(port=0, db_path=":memory:")
    yield srv
    srv.stop()


@pytest.fixture
def fresh(server):
    """The module's server with an empty log and database and no latency or faults."""
    server.reset()
    server.configure(latency_ms=0, per_token_ms=0, fault_rate=0.0)
    return server


@pytest.fixture
def refused_url():
    """A loopback URL that refuses connections. Its port stays bound, without listening, for
    the whole test: a port bound and closed at once could be taken by another program (a
    second test suite, say) before the test connects, and would then answer."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
