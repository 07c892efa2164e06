"""The CLI as a user runs it: a subprocess, its output and exit code."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys

import pytest

from support_lib.examples import load_examples

ENV = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "support_lib", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=ENV,
    )


HEADER = "=== AI-Powered Customer Support Workflow Demo ==="
CALM = next(e for e in load_examples() if e["title"] == "Calm shipping question")


def test_text_report_has_the_demo_sections_in_order():
    result = cli()
    assert result.returncode == 0, result.stderr
    out = result.stdout
    # the header line is printed first (before the run), and only once
    assert out.startswith(HEADER + "\n\nCustomer Message: ")
    assert out.count(HEADER) == 1
    sections = [
        HEADER,
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


def test_control_characters_in_customer_text_are_printed_as_escapes():
    message = "Where is order #50422?\x1b]0;pwned\x07\x1b[2J Thanks, Anna\x9b"
    result = cli("--message", message)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    shown = "Where is order #50422?\\x1b]0;pwned\\x07\\x1b[2J Thanks, Anna\\x9b"
    assert f"Customer Message: {shown}\n" in out
    for raw in ("\x1b", "\x07", "\x9b"):
        assert raw not in out


def test_invisible_direction_and_width_characters_are_printed_as_escapes():
    """A right-to-left override makes a terminal draw "gnp.exe" for "exe.png"."""
    message = "Refund for order #12345 \u202egnp.exe\u202c, now\u200b please \u2066x\u2069"
    message += " \U000e0068\U000e0069"  # tag characters: hidden text
    for args in ((), ("--json",)):
        result = cli(*args, "--message", message)
        assert result.returncode == 0, result.stderr
        for raw in ("\u202e", "\u202c", "\u200b", "\u2066", "\u2069", "\U000e0068"):
            assert raw not in result.stdout
    assert json.loads(result.stdout)["inputs"]["customer_message"] == message  # same JSON


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
    quality = data["state"]["quality_score"]
    assert quality["passed"] is True and "pass" not in quality  # renamed from "pass"
    assert "email" not in data["state"]["customer_info"]  # the email is an input now
    assert data["state"]["customer_email"] == data["inputs"]["customer_email"]


def test_json_node_status_is_the_latest_executed_run_of_each_node(fresh):
    # With a sloppy first draft the reply is rewritten once: the loop ends with a skip of
    # regenerate_response after its real run, and that skip must not hide that it ran.
    fresh.configure(sloppy_writer=1.0)
    result = cli(
        "--json", "--mock-url", fresh.url, "--message", CALM["message"], "--email", CALM["email"]
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["state"]["regenerations"] == 1
    runs = [(r["status"], r["iteration"]) for r in data["node_runs"]]
    regen = [(r["status"], r["iteration"]) for r in data["node_runs"]
             if r["node"] == "regenerate_response"]  # fmt: skip
    assert regen == [("completed", 0), ("skipped", 1)]
    assert data["node_status"]["regenerate_response"] == "completed"
    assert data["node_status"]["score_response"] == "completed"
    assert data["node_status"]["escalate_to_human"] == "skipped"
    expected = {}
    for r in data["node_runs"]:
        if r["status"] != "skipped" or r["node"] not in expected:
            expected[r["node"]] = r["status"]
    assert data["node_status"] == expected
    assert len(runs) == 24 and len(expected) == 21


def test_empty_message_is_a_clear_error_not_a_traceback():
    result = cli("--message", "  ")
    assert result.returncode == 2
    assert result.stderr == (
        "error: the message is empty (nothing visible in it): type what the customer wrote\n"
    )
    assert result.stdout == ""  # refused before the header: nothing ran


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("--email", "not-an-address"), "the email is not a single address (expected "
         "name@example.com)"),
        (("--email", "a@example.com, b@example.com"), "the email is not a single address "
         "(expected name@example.com)"),
        (("--ticket-id", "a b/c"), "the ticket id must be 1-64 letters, digits, '-' or '_'"),
        (("--max-regenerations", "-1"), "--max-regenerations must be 0 or more"),
    ],
)  # fmt: skip
def test_bad_arguments_exit_2_with_one_line(args, error):
    result = cli(*args)
    assert result.returncode == 2
    assert result.stderr == f"error: {error}\n"
    assert result.stdout == ""


@pytest.fixture
def faulty(fresh):
    """The module's mock server; the knobs a test changes are put back afterwards."""
    knobs = fresh.configure()
    yield fresh
    fresh.configure(**knobs)


def test_failed_run_exits_1_and_says_what_completed_before(faulty):
    """A failing send: the error line names the nodes that completed before it."""
    faulty.configure(fault_rate=1.0, fault_kinds=["500"], fault_paths=["/support/send"])
    result = cli("--json", "--mock-url", faulty.url, "--message", CALM["message"])
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["status"] == "failed"
    assert data["node_status"]["send_response"] == "failed"
    done = [r["node"] for r in data["node_runs"] if r["status"] == "completed"]
    assert "generate_follow_up" in done and "send_response" not in done
    assert result.stderr == (
        f"error: the workflow failed: {data['error']}. Completed before the failure: "
        f"{', '.join(done)}.\n"
    )
    assert data["error"].startswith("node 'send_response' failed: POST ")
    assert "Traceback" not in result.stderr


def test_failed_run_with_nothing_completed_has_no_completed_list(faulty):
    faulty.configure(fault_rate=1.0, fault_kinds=["500"], fault_paths=["/v1"])
    result = cli("--mock-url", faulty.url, "--message", CALM["message"])
    assert result.returncode == 1
    assert result.stdout.startswith(HEADER + "\n")
    assert "❌ RUN FAILED" in result.stdout
    assert result.stderr.startswith("error: the workflow failed: node '")
    assert "InternalServerError" in result.stderr
    assert "Completed before the failure" not in result.stderr
    assert result.stderr.endswith(".\n") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_unreachable_mock_url_is_explained(refused_url):
    result = cli("--mock-url", refused_url)
    assert result.returncode == 1
    assert "cannot reach the mock server" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == HEADER + "\n"  # the header comes first, before connecting


def test_a_strict_utf8_console_gets_a_sentence_not_a_traceback():
    env = {**os.environ, "PYTHONIOENCODING": "utf-8:strict"}
    env = {k: v for k, v in env.items() if not k.startswith("OPENAI_")}
    proc = subprocess.run(
        [sys.executable, "-m", "support_lib", "--message", "hi \udcff there"],
        capture_output=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 2 and b"Traceback" not in proc.stderr
    assert proc.stderr.startswith(b"error: the message holds a character that is not valid")


def test_argument_errors_show_what_was_typed_with_escapes():
    """A message pasted without --message comes back in argparse's error: its escape
    sequences must not retitle or clear the terminal."""
    result = cli("Hi\x1b]0;pwned\x07\x1b[2J \u202eevil")
    assert result.returncode == 2
    assert "unrecognized arguments: Hi\\x1b]0;pwned\\x07\\x1b[2J \\u202eevil" in result.stderr
    assert not any(ch in result.stderr for ch in "\x1b\x07\u202e")


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("localhost", "'localhost' is not a mock server's address"),
        ("http://127.0.0.1:70000", "'http://127.0.0.1:70000' is not a mock server's address"),
        ("http://127.0.0.1:8000/api", "'http://127.0.0.1:8000/api' is not a mock server's address"),
    ],
)
def test_a_mock_url_that_is_no_address_is_explained(url, said):
    result = cli("--mock-url", url, "--json")
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {said}: give its scheme, host and port")
    assert "bug in the kit" not in result.stderr


def test_the_openai_base_url_of_the_mock_is_taken_for_its_address(fresh):
    result = cli("--mock-url", fresh.url + "/v1", "--json", "--message", CALM["message"])
    assert result.returncode == 0 and json.loads(result.stdout)["status"] == "completed"


def test_a_run_database_that_cannot_be_opened_is_explained(tmp_path):
    result = cli("waiting", "--db", str(tmp_path))  # a folder
    assert result.returncode == 1
    assert result.stderr.startswith("error: the run database cannot be used")
    assert "bug in the kit" not in result.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM stops a process at once there")
def test_a_run_stopped_by_sigterm_is_kept_and_carried_on(tmp_path):
    """``kill`` (SIGTERM) while the model is slow: exit 130, the run kept failed in --db
    with what it did, a line to carry it on, and carrying it on sends the reply once."""
    import signal
    import time

    from support_lib import kit

    server = kit.start_mock()
    try:
        server.configure(latency_ms=2000)  # every model call takes 2 s
        db = tmp_path / "my runs; $(echo x).sqlite3"  # printed quoted, for a shell
        args = ["--message", CALM["message"], "--mock-url", server.url, "--db", str(db)]
        proc = subprocess.Popen(
            [sys.executable, "-m", "support_lib", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=ENV,
        )
        deadline = time.monotonic() + 60
        while not server.requests("/v1"):
            assert proc.poll() is None and time.monotonic() < deadline, "no model call seen"
            time.sleep(0.05)  # polling for a state: the first model call has come in
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err
        assert "error: interrupted" in err
        (line,) = [x for x in err.splitlines() if "python -m support_lib resume run-" in x]
        command = shlex.split(line)  # as a shell would read the printed line
        assert command[command.index("--db") + 1] == str(db)
        assert command[command.index("--mock-url") + 1] == server.url
        server.configure(latency_ms=0)
        result = cli(*command[3:])  # resume RUN_ID --db ... --mock-url ...
        assert result.returncode == 0, result.stderr
        assert len(server.requests("/support/send")) == 1
    finally:
        server.stop()
