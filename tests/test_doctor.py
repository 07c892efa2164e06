"""``python -m support_lib doctor``: each problem it diagnoses, and its exit status."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading

import pytest

from support_lib import doctor
from support_lib.doctor import Finding


def test_a_healthy_machine_passes_every_check_and_exits_0():
    proc = subprocess.run(
        [sys.executable, "-m", "support_lib", "doctor"],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")},
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip().endswith("The kit will work.")
    assert "[ok  ] backend: offline teaching model" in proc.stdout
    assert "FAIL" not in proc.stdout


def test_an_old_python_fails():
    finding = doctor.check_python((3, 10, 13))  # the pinned FastAPI needs 3.11
    assert finding.level == "fail" and "3.10.13 is too old" in finding.message
    assert doctor.check_python((3, 11, 0)).level == "ok"


def test_missing_and_different_packages():
    pins = {"openai": "3.57.0", "httpx": "0.28.1"}
    missing = doctor.check_packages(pins, lambda n: None if n == "httpx" else "3.57.0")
    assert missing.level == "fail" and missing.message == "missing: httpx"
    assert "pip install -r requirements.txt" in missing.fix
    other = doctor.check_packages(pins, lambda n: {"openai": "3.60.0", "httpx": "0.28.1"}[n])
    assert other.level == "warn" and "openai 3.60.0 (tested 3.57.0)" in other.message


def test_the_tested_pins_are_read_from_requirements():
    pins = doctor.pinned()
    assert pins["ipywidgets"] == "8.1.9" and "nbval" not in pins  # test tools are not pinned here


@pytest.mark.parametrize(
    ("versions", "says"),
    [
        ({"ipywidgets": "8.1.9", "jupyterlab_widgets": None}, "jupyterlab_widgets"),
        ({"ipywidgets": "7.8.1", "jupyterlab_widgets": "3.0.17"}, "do not match"),
    ],
)
def test_a_missing_or_mismatched_widgets_front_end_fails(versions, says):
    finding = doctor.check_widgets(versions.get)
    assert finding.level == "fail" and says in finding.message


def test_an_unwritable_folder_fails(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):  # root may write anywhere: use a path that is a file
            locked.chmod(0o700)
            locked = tmp_path / "a-file"
            locked.write_text("")
        finding = doctor.check_folder(locked)
    finally:
        if locked.is_dir():
            locked.chmod(0o700)
    assert finding.level == "fail" and "cannot write in" in finding.message


def test_an_unreachable_model_server_fails_with_a_fix(refused_url):
    env = {"OPENAI_BASE_URL": f"{refused_url}/v1", "SUPPORT_KIT_MODEL": "llama3.2"}
    finding = doctor.check_backend(env, timeout=2)
    assert finding.level == "fail" and f"cannot connect to {refused_url}/v1" in finding.message
    assert "unset it to work offline" in finding.fix


@pytest.fixture
def model_server_answering():
    """A tiny server on a free port that answers every request with one status code."""
    servers = []

    def start(status: int) -> str:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the stdlib's naming
                body = json.dumps({"error": {"message": f"status {status}"}}).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return f"http://127.0.0.1:{srv.server_address[1]}/v1"

    yield start
    for srv in servers:
        srv.shutdown()


@pytest.mark.parametrize(
    ("status", "message", "fix"),
    [
        (401, "the API key was rejected", "check OPENAI_API_KEY"),
        (404, "answered 404", "SUPPORT_KIT_MODEL names a model"),
    ],
)
def test_a_rejected_key_or_unknown_model_fails(model_server_answering, status, message, fix):
    env = {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": model_server_answering(status)}
    finding = doctor.check_backend(env, timeout=5)
    assert finding.level == "fail" and message in finding.message and fix in finding.fix


def test_a_crashing_check_is_a_failure_not_a_traceback():
    def broken() -> Finding:
        raise RuntimeError("boom")

    findings = doctor.run_checks((doctor.check_python, broken))
    text, status = doctor.report(findings)
    assert status == 1 and "[FAIL] broken: the check crashed: RuntimeError('boom')" in text
    assert text.endswith("1 problem(s) to fix before the kit will work.")
