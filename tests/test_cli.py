"""The CLI as a user runs it: a subprocess, its output and exit code."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

ENV = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "support_lib", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=ENV,
    )


def test_text_report_has_the_demo_sections_in_order():
    result = cli()
    assert result.returncode == 0, result.stderr
    out = result.stdout
    sections = [
        "=== AI-Powered Customer Support Workflow Demo ===",
        "Customer Message: I've been charged twice",
        "LLM backend: offline teaching model",
        "Execution ID: run-",
        "👤 CUSTOMER INFORMATION",
        "📊 CLASSIFICATION & ANALYSIS",
        "💳 ACCOUNT STATUS",
        "🚨 ESCALATION TICKET",
        "💬 FINAL CUSTOMER RESPONSE",
        "EXECUTION METRICS",
        "AI API",
    ]
    positions = [out.index(s) for s in sections]
    assert positions == sorted(positions)
    assert "Escalation Decision: escalate" in out


def test_json_output_has_state_statuses_metrics_and_requests():
    result = cli("--json", "--message", "Hi, when will order #50422 arrive? Thanks, Anna")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    for key in (
        "customer_info",
        "inquiry_type",
        "sentiment",
        "escalation_decision",
        "final_response",
        "quality_score",
        "follow_up_plan",
    ):
        assert key in data["state"], key
    assert data["node_status"]["send_response"] == "completed"
    assert data["node_status"]["escalate_to_human"] == "skipped"
    assert data["metrics"]["summary"]["ai_requests"] > 0
    paths = [r["path"] for r in data["mock_requests"]]
    assert "/support/send" in paths and "/analytics/log" in paths
    assert any(p == "/v1/chat/completions" for p in paths)
    sent = next(r for r in data["mock_requests"] if r["path"] == "/support/send")
    assert sent["method"] == "POST" and sent["body"]["body"] == data["state"]["final_response"]


def test_empty_message_is_a_clear_error_not_a_traceback():
    result = cli("--message", "  ")
    assert result.returncode == 2
    assert "message is empty" in result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_mock_url_is_explained():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = cli("--mock-url", f"http://127.0.0.1:{port}")
    assert result.returncode == 1
    assert "cannot reach the mock server" in result.stderr
    assert "Traceback" not in result.stderr
