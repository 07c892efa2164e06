"""The webhook service: a real server on a free port, called over loopback with httpx."""

from __future__ import annotations

import httpx
import pytest

from support_lib.inputs import MAX_MESSAGE_CHARS
from support_lib.service import start_service
from support_lib.workflow import DEFAULT_MESSAGE

EMPTY = "the message is empty (nothing visible in it): type what the customer wrote"
NOT_AN_ADDRESS = "the email is not a single address (expected name@example.com)"


@pytest.fixture(scope="module")
def service(server):
    svc = start_service(port=0, mock_url=server.url)
    yield svc
    svc.stop()


@pytest.fixture
def client(service):
    with httpx.Client(base_url=service.url, timeout=30.0, trust_env=False) as c:
        yield c


def test_health(client):
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["service"] == "support-workflow-service"


def test_incoming_escalates_the_default_message(client, server):
    server.reset()
    response = client.post(
        "/api/support/incoming",
        json={"message": DEFAULT_MESSAGE, "email": "ann@example.com", "ticket_id": "T-1"},
    )
    assert response.status_code == 200
    summary = response.json()
    assert set(summary) == {
        "run_id", "status", "ticket_id", "inquiry_type", "sentiment", "escalated",
        "final_response", "escalation_ticket", "error", "waiting_for",
    }  # fmt: skip
    assert summary["run_id"].startswith("run-")
    assert summary["status"] == "completed" and summary["error"] is None
    assert summary["ticket_id"] == "T-1"
    assert (summary["inquiry_type"], summary["sentiment"]) == ("billing", "negative")
    assert summary["escalated"] is True
    assert summary["escalation_ticket"].startswith("ESC-")
    assert summary["escalation_ticket"] in summary["final_response"]
    sent = [r["body"] for r in server.requests("/support/send")]
    assert [s["to"] for s in sent] == ["ann@example.com"]
    assert sent[0]["ticket_id"] == "T-1"


def test_incoming_answers_a_calm_question_and_stores_the_trace(client):
    response = client.post("/api/support/incoming", json={"message": "Where is order #50422?"})
    assert response.status_code == 200
    summary = response.json()
    assert summary["escalated"] is False and summary["escalation_ticket"] is None
    assert summary["ticket_id"].startswith("TICKET-")
    assert summary["final_response"]

    trace = client.get(f"/api/support/runs/{summary['run_id']}")
    assert trace.status_code == 200
    data = trace.json()
    assert data["run_id"] == summary["run_id"] and data["status"] == "completed"
    assert data["inputs"]["customer_message"] == "Where is order #50422?"
    assert data["state"]["final_response"] == summary["final_response"]
    statuses = {run["node"]: run["status"] for run in data["node_runs"]}
    assert statuses["send_response"] == "completed"
    assert statuses["escalate_to_human"] == "skipped"


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"message": ""}, "message", EMPTY),
        ({"message": "   \n "}, "message", EMPTY),
        ({"message": "\u200b\u200d\t"}, "message", EMPTY),  # nothing visible
        ({"message": "x" * (MAX_MESSAGE_CHARS + 1)}, "message", "the limit is 8,000"),
        ({}, "message", "Field required"),
        ({"message": 42}, "message", "the message must be text, not int"),
        ({"message": "hi", "email": "not-an-address"}, "email", NOT_AN_ADDRESS),
        ({"message": "hi", "email": "a@example.com, b@example.com"}, "email", NOT_AN_ADDRESS),
        ({"message": "hi", "ticket_id": "a b/c"}, "ticket_id", "letters, digits"),
    ],
)
def test_bad_requests_get_422_with_a_clear_message(client, body, field, words):
    response = client.post("/api/support/incoming", json=body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["field"] == field
    assert error["message"].startswith(f"{field}: ")
    assert words in error["message"]


def test_undecodable_json_and_huge_bodies_are_refused(client):
    response = client.post(
        "/api/support/incoming", content=b"{oops", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["message"].startswith("the body is not valid JSON")
    response = client.post("/api/support/incoming", json={"message": "x" * 100_000})
    assert response.status_code == 413


def test_a_huge_body_sent_in_chunks_is_refused_too(client):
    """A chunked upload announces no length: the limit counts the bytes as they come."""

    def chunks():
        yield b'{"message": "'
        for _ in range(1000):
            yield b"x" * 10_000
        yield b'"}'

    response = client.post(
        "/api/support/incoming", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert "over" in response.json()["error"]["message"]


def test_unknown_run_is_404(client):
    response = client.get("/api/support/runs/run-000000000000")
    assert response.status_code == 404
    assert "run-000000000000" in response.json()["error"]["message"]


def test_only_the_last_runs_are_kept_and_the_server_stops(server):
    svc = start_service(port=0, mock_url=server.url, max_runs=2)
    with svc, httpx.Client(base_url=svc.url, timeout=30.0, trust_env=False) as c:
        messages = [f"How do I reset my password? ({i})" for i in range(3)]
        ids = [
            c.post("/api/support/incoming", json={"message": m}).json()["run_id"] for m in messages
        ]
        codes = [c.get(f"/api/support/runs/{run_id}").status_code for run_id in ids]
        assert codes == [404, 200, 200]
        assert c.get("/health").json()["runs_stored"] == 2
    assert svc.stopped
    assert not svc._running.thread.is_alive()
    with pytest.raises(httpx.ConnectError):
        httpx.get(svc.url + "/health", timeout=2.0, trust_env=False)
