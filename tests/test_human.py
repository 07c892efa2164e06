"""People in the loop: approval of high-stakes replies, agents answering escalated cases,
runs kept in SQLite and resumed by another process, each side effect done once."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time

import pytest

from support_lib.engine import ResumeError, RunStore
from support_lib.inputs import make_inputs
from support_lib.testing import FakeSupportAPI, ScriptedModel, support_answers
from support_lib.workflow import SupportResult, build_workflow
from support_lib.workflow.human import answer_for, high_stakes

REFUND = "Hi, I returned the kettle from order #50005 last week. Could I get my refund? Anna"
ENV = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}


def refund_answers(**overrides):
    info = {
        **support_answers()["extract_customer_info"],
        "order_id": "50005",
        "subject": "Refund for order #50005",
    }
    return support_answers(
        classify_inquiry={"inquiry_type": "billing"},
        extract_customer_info=info,
        analyze_account_status={"account_action": "refund_eligible", "reason": "returned"},
        generate_response="Your refund for order #50005 is on its way.",
        regenerate_response="Hi Anna, the refund for order #50005 is on its way.",
        **overrides,
    )


async def start(api, model, message=REFUND, human=True):
    async with api.deps(model) as deps:
        wf = build_workflow(human_in_the_loop=human)
        trace = await wf.arun(make_inputs(message, ticket_id="T-9"), deps=deps, check=False)
    return wf, trace


async def resume(wf, trace, api, model, answer):
    async with api.deps(model) as deps:
        return await wf.aresume(trace, answer=answer, deps=deps, check=False)


def test_what_counts_as_high_stakes_is_data():
    assert high_stakes("Please refund me", None) == ["the message mentions refund"]
    assert high_stakes("Where is my parcel?", "account_suspended") == [
        "the account is account suspended"
    ]
    assert high_stakes("My lawyer will call", None) == ["legal words (lawyer)"]
    assert high_stakes("re\u200bfunds?", None) == ["the message mentions refund"]  # invisible
    assert high_stakes("Where is my parcel?", "subscription_active") == []


@pytest.mark.parametrize(
    ("message", "word"),
    [
        ("Quiero un reembolso.", "reembols"),
        ("Je demande le remboursement.", "rembours"),
        ("Ich möchte eine Rückerstattung.", "rückerstattung"),
        ("Верните деньги!", "верните деньги"),
        ("我要退款", "退款"),
        ("i want my money bak", "money bak"),
        ("Vous m'avez remboursé ?", "rembours"),
        ("Bitte erstatten Sie den Betrag.", "erstatt"),
        ("Верните мои деньги!", "верните мои деньги"),
        ("请把钱退给我", "退给我"),
        ("Хочу в\u006f\u0437врат.", "возврат"),  # a Latin "o" inside the Russian word
    ],
)
def test_a_refund_asked_in_another_language_is_high_stakes_too(message, word):
    assert high_stakes(message, None) == [f"the message mentions {word}"]


async def test_without_people_in_the_loop_a_run_ends_as_before():
    api, model = FakeSupportAPI(), ScriptedModel(refund_answers())
    _, trace = await start(api, model, human=False)
    assert trace.status == "completed" and api.performed("/support/send") == 1


async def test_a_low_stakes_reply_is_not_held():
    api, model = FakeSupportAPI(), ScriptedModel(support_answers())
    _, trace = await start(api, model, "When will order #50422 arrive? Thanks, Anna")
    assert trace.status == "completed" and trace.state["human"] is None


async def test_a_high_stakes_reply_waits_and_is_sent_once_approved():
    api, model = FakeSupportAPI(), ScriptedModel(refund_answers())
    wf, trace = await start(api, model)
    assert trace.status == "waiting" and trace.waiting_for["node"] == "approval_gate"
    question = trace.waiting_for["question"]
    assert question["why"] == ["the message mentions refund", "the account is refund eligible"]
    assert api.performed("/support/send") == 0  # nothing left before the person decides
    await resume(wf, trace, api, model, {"decision": "approve", "by": "Lee"})
    result = SupportResult.from_trace(trace)
    assert trace.status == "completed" and result.human["by"] == "Lee"
    assert result.final_response == question["reply"]
    assert api.performed("/support/send") == 1 and api.performed("/analytics/log") == 1
    log = [b for _, p, b in api.requests if p == "/analytics/log"][0]
    assert log["answered_by"] == "Lee" and log["human_decision"] == "approve"
    assert log["human_wait_ms"] >= 0


async def test_an_edited_reply_is_what_the_customer_gets():
    api, model = FakeSupportAPI(), ScriptedModel(refund_answers())
    wf, trace = await start(api, model)
    edited = "Hi Anna,\n\nYour refund for order #50005 is on its way.\n\nLee"
    await resume(wf, trace, api, model, {"decision": "edit", "text": edited, "by": "Lee"})
    (sent,) = [b for _, p, b in api.requests if p == "/support/send"]
    assert sent["body"] == edited


async def test_a_rejected_reply_waits_for_an_agent_who_writes_it():
    api, model = FakeSupportAPI(), ScriptedModel(refund_answers())
    wf, trace = await start(api, model)
    await resume(wf, trace, api, model, {"decision": "reject", "by": "Lee"})
    assert trace.status == "waiting" and trace.waiting_for["node"] == "agent_takes_over"
    await resume(wf, trace, api, model, {"reply": "Hi Anna, refund approved. Sam", "by": "Sam"})
    assert trace.status == "completed" and trace.status_of("send_response") == "skipped"
    (sent,) = [b for _, p, b in api.requests if p == "/support/send"]
    assert sent["body"] == "Hi Anna, refund approved. Sam"
    assert trace.state["human"]["by"] == "Sam"


async def test_an_escalated_case_waits_for_the_agents_reply_after_telling_the_customer():
    answers = support_answers(
        check_escalation={"decision": "escalate", "reason": "asks for a human"}
    )
    api, model = FakeSupportAPI(), ScriptedModel(answers)
    wf, trace = await start(api, model, "I want to talk to a person about order #50422.")
    assert trace.waiting_for["node"] == "wait_for_agent"
    assert api.performed("/support/send") == 1  # the acknowledgement is out already
    await resume(wf, trace, api, model, {"reply": "Hi, Sam here: it ships today.", "by": "Sam"})
    assert api.performed("/support/send") == 2 and api.performed("/analytics/log") == 1
    log = [b for _, p, b in api.requests if p == "/analytics/log"][0]
    assert log["escalated"] is True and log["answered_by"] == "Sam"


async def test_resuming_twice_or_with_a_wrong_answer_is_refused():
    api, model = FakeSupportAPI(), ScriptedModel(refund_answers())
    wf, trace = await start(api, model)
    with pytest.raises(ValueError, match="approve, edit"):
        answer_for(trace.waiting_for["question"], "maybe", None, "Lee")
    await resume(wf, trace, api, model, {"decision": "approve", "by": "Lee"})
    with pytest.raises(ResumeError, match="is completed: only a waiting or failed run"):
        await resume(wf, trace, api, model, {"decision": "approve", "by": "Lee"})
    assert api.performed("/support/send") == 1


def test_the_store_keeps_waiting_runs_and_lets_only_one_claim_them(tmp_path):
    from support_lib.engine import Trace

    trace = Trace(
        "run-1",
        "wf",
        "2026-11-30T10:00:00.000+00:00",
        {},
        {},
        status="waiting",
        waiting_for={"node": "gate", "question": {"why": ["refund"]}},
        checkpoint={"status": {}},
    )
    RunStore(tmp_path / "runs.sqlite3").save(trace)
    store = RunStore(tmp_path / "runs.sqlite3")  # another process, later
    assert [r["run_id"] for r in store.waiting()] == ["run-1"]
    assert store.claim("run-1").run_id == "run-1"
    with pytest.raises(ResumeError, match="being resumed"):
        store.claim("run-1")
    with pytest.raises(ResumeError, match="no run 'run-2'"):
        store.claim("run-2")


# ----------------------------------------------------------------------------- across processes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def mock_process(port: int, db: str) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mock_server", "--port", str(port), "--db", db],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    deadline = time.monotonic() + 20
    while "ready" not in proc.stdout.readline():
        assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read()
    return proc


PAUSE_AND_HANG = """
import asyncio, sys, time
from support_lib import kit
async def main():
    trace = await kit.arun(sys.argv[1], mock_url=sys.argv[2], human_in_the_loop=True,
                           store=kit.run_store(sys.argv[3]), check=False)
    print(trace.status, trace.run_id, flush=True)
asyncio.run(main())
time.sleep(600)  # killed here, between pause and resume
"""


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "support_lib", *args],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=120,
    )


def test_a_paused_run_survives_a_killed_process_and_a_mock_restart(tmp_path):
    mock_db, runs_db = str(tmp_path / "mock.sqlite3"), str(tmp_path / "runs.sqlite3")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    mock = mock_process(port, mock_db)
    try:
        pauser = subprocess.Popen(
            [sys.executable, "-c", PAUSE_AND_HANG, REFUND, url, runs_db],
            stdout=subprocess.PIPE,
            text=True,
            env=ENV,
        )
        status, run_id = pauser.stdout.readline().split()
        assert status == "waiting"
        pauser.send_signal(signal.SIGKILL)
        pauser.wait(10)
        mock.terminate()
        mock.wait(20)
        mock = mock_process(port, mock_db)  # the support APIs restart on the same database
        listed = json.loads(cli("waiting", "--db", runs_db, "--json").stdout)
        assert [r["run_id"] for r in listed] == [run_id]
        edit = tmp_path / "reply.txt"
        edit.write_text("Hi Anna,\n\nYour refund for order #50005 is on its way.\n\nLee\n")
        done = cli(
            "resume",
            run_id,
            "--edit",
            str(edit),
            "--by",
            "Lee",
            "--db",
            runs_db,
            "--mock-url",
            url,
            "--json",
        )
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["status"] == "completed"
        again = cli("resume", run_id, "--approve", "--db", runs_db, "--mock-url", url)
        assert again.returncode == 1 and "is completed: there is nothing to answer" in again.stderr
        assert "Traceback" not in again.stderr
    finally:
        mock.terminate()
        mock.wait(20)
    with sqlite3.connect(mock_db) as db:
        sent = db.execute("SELECT message FROM sent_messages").fetchall()
        logged = db.execute("SELECT body FROM analytics_logs").fetchall()
    assert sent == [(edit.read_text().strip(),)]  # exactly one message, the edited text
    assert len(logged) == 1 and json.loads(logged[0][0])["answered_by"] == "Lee"


async def test_the_webhook_lists_waiting_runs_and_takes_decisions(fresh, tmp_path):
    import httpx

    from support_lib.service import create_service_app

    app = create_service_app(fresh.url, human_in_the_loop=True, db=str(tmp_path / "runs.sqlite3"))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
        started = await client.post("/api/support/incoming", json={"message": REFUND})
        assert started.status_code == 202 and started.json()["status"] == "waiting"
        run_id = started.json()["run_id"]
        assert started.json()["final_response"] is None  # nothing was sent yet
        question = started.json()["waiting_for"]["question"]
        assert started.json()["waiting_for"]["node"] == "approval_gate"
        assert question["kind"] == "approval" and "refund" in question["reply"].lower()
        waiting = (await client.get("/api/support/waiting")).json()
        assert [w["run_id"] for w in waiting] == [run_id] and waiting[0]["node"] == "approval_gate"
        bad = await client.post(f"/api/support/runs/{run_id}/decision", json={"decision": "maybe"})
        assert bad.status_code == 422
        empty = {"decision": "edit", "text": " \u200b "}
        bad = await client.post(f"/api/support/runs/{run_id}/decision", json=empty)
        assert bad.status_code == 422 and bad.json()["error"]["message"] == (
            "the edited reply is empty (nothing visible in it): write the edited reply"
        )
        missing = await client.post("/api/support/runs/run-000000000000/decision", json=empty)
        assert missing.status_code == 404 and "sqlite3" not in missing.text  # no server path
        text = "Hi Anna, your refund for order #50005 is on its way. Lee"
        body = {"decision": "edit", "text": text, "by": "Lee"}
        done = await client.post(f"/api/support/runs/{run_id}/decision", json=body)
        assert done.status_code == 200 and done.json()["final_response"] == text
        again = await client.post(f"/api/support/runs/{run_id}/decision", json=body)
        assert again.status_code == 409 and "nothing to answer" in again.json()["error"]["message"]
        assert (await client.get("/api/support/waiting")).json() == []
    assert fresh.query("SELECT message FROM sent_messages") == [{"message": text}]
    plain = create_service_app(fresh.url)
    transport = httpx.ASGITransport(app=plain)
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
        assert (await client.get("/api/support/waiting")).status_code == 404


async def test_a_wrong_answer_leaves_the_run_waiting_for_a_right_one(fresh, tmp_path):
    from support_lib.kit import aresume, arun
    from support_lib.workflow.human import AnswerError

    store = RunStore(tmp_path / "runs.sqlite3")
    from support_lib.engine import Workflow
    from support_lib.workflow.state import SupportState

    standard = build_workflow(human_in_the_loop=True)
    own = Workflow("my_support", SupportState)  # the same graph under a name of its own
    for node in standard.nodes.values():
        own.add(node)
    for e in standard.edges:
        own.edge(e.source, e.target, when=e.when, loop_limit=e.loop_limit)
    trace = await arun(REFUND, mock_url=fresh.url, workflow=own, store=store)
    assert trace.status == "waiting"
    with pytest.raises(AnswerError, match="approve, edit"):
        await aresume(trace.run_id, {"decision": "edit"}, store=store, workflow=own)
    assert [w["run_id"] for w in store.waiting()] == [trace.run_id]  # not failed, not stuck
    with pytest.raises(ResumeError, match="not made by the standard workflow"):
        await aresume(trace.run_id, {"decision": "approve"}, store=store, mock_url=fresh.url)
    assert [w["run_id"] for w in store.waiting()] == [trace.run_id]  # released again
    done = await aresume(
        trace.run_id, {"decision": "approve"}, store=store, mock_url=fresh.url, workflow=own
    )
    assert done.status == "completed"
    assert fresh.query("SELECT COUNT(*) AS n FROM sent_messages") == [{"n": 1}]


class StallingModel(ScriptedModel):
    """Answers as scripted, but never answers ``node``: a resume is stopped while it waits."""

    def __init__(self, answers, node):
        super().__init__(answers)
        self.node, self.stalled = node, asyncio.Event()

    async def complete(self, request):
        if request.node == self.node:
            self.stalled.set()
            await asyncio.Event().wait()  # for ever, until the task is cancelled
        return await super().complete(request)


async def test_an_interrupted_resume_keeps_the_run_to_resume_again(fresh, tmp_path):
    """Ctrl+C (or a lost client) while a resumed run waits on the model: the run was claimed,
    and once stranded "being resumed" for ever. It ends failed, and carries on later."""
    from support_lib.kit import aresume, arun

    store = RunStore(tmp_path / "runs.sqlite3")
    scripted = ScriptedModel(refund_answers())
    trace = await arun(
        REFUND, mock_url=fresh.url, llm=scripted, human_in_the_loop=True, store=store
    )
    assert trace.status == "waiting"
    stalling = StallingModel(refund_answers(), node="generate_follow_up")
    approve = {"decision": "approve", "by": "Lee"}
    resuming = asyncio.create_task(
        aresume(trace.run_id, approve, store=store, mock_url=fresh.url, llm=stalling)
    )
    await stalling.stalled.wait()  # the resume is inside a model call
    resuming.cancel()
    with pytest.raises(asyncio.CancelledError):
        await resuming
    saved = store.load(trace.run_id)
    assert saved.status == "failed" and "interrupted" in saved.error
    done = await aresume(trace.run_id, store=store, mock_url=fresh.url, llm=scripted)
    assert done.status == "completed"
    assert fresh.query("SELECT COUNT(*) AS n FROM sent_messages") == [{"n": 1}]  # once


async def test_a_first_run_interrupted_is_kept_to_carry_on(fresh, tmp_path):
    """Ctrl+C during a run's first pass (no resume yet): the store keeps it failed with
    its checkpoint, the exception names it, and carrying it on does not send twice."""
    from support_lib.kit import aresume, arun

    store = RunStore(tmp_path / "runs.sqlite3")
    stalling = StallingModel(refund_answers(), node="generate_response")
    running = asyncio.create_task(arun(REFUND, mock_url=fresh.url, llm=stalling, store=store))
    await stalling.stalled.wait()  # extraction and the account lookup are done
    running.cancel()
    with pytest.raises(asyncio.CancelledError) as stopped:
        await running
    (note,) = stopped.value.__notes__
    run_id = note.split()[1]
    saved = store.load(run_id)
    assert saved.status == "failed" and "interrupted" in saved.error
    assert saved.node("extract_customer_info").status == "completed"
    done = await aresume(
        run_id, store=store, mock_url=fresh.url, llm=ScriptedModel(refund_answers())
    )
    assert done.status == "completed"
    assert fresh.query("SELECT COUNT(*) AS n FROM sent_messages") == [{"n": 1}]


async def test_a_run_with_any_budget_of_rewrites_can_be_resumed(fresh, tmp_path):
    """The CLI takes any --max-regenerations; resuming once knew only 0 to 5."""
    from support_lib.kit import aresume, arun, standard_workflow

    store = RunStore(tmp_path / "runs.sqlite3")
    wf = standard_workflow(8, "llm", True)
    trace = await arun(REFUND, mock_url=fresh.url, workflow=wf, store=store)
    assert trace.status == "waiting"
    done = await aresume(trace.run_id, {"decision": "approve"}, store=store, mock_url=fresh.url)
    assert done.status == "completed"


def test_a_claim_whose_process_stopped_can_be_released(tmp_path):
    api, model = FakeSupportAPI(), ScriptedModel(refund_answers())
    import asyncio

    _, trace = asyncio.run(start(api, model))
    store = RunStore(tmp_path / "runs.sqlite3")
    store.save(trace)
    store.claim(trace.run_id)  # ... and the process claiming it dies
    assert store.waiting() == []
    with pytest.raises(ResumeError, match="being resumed"):
        store.claim(trace.run_id)
    store.release(trace.run_id)
    assert [w["run_id"] for w in store.waiting()] == [trace.run_id]
    assert store.claim(trace.run_id).run_id == trace.run_id


def test_a_claim_whose_process_was_killed_is_taken_over_once_stale(tmp_path):
    """kill -9 while resuming: nothing can release the claim, so an old one is taken over."""
    api, model = FakeSupportAPI(), ScriptedModel(refund_answers())
    import asyncio

    _, trace = asyncio.run(start(api, model))
    store = RunStore(tmp_path / "runs.sqlite3")
    store.save(trace)
    store.claim(trace.run_id)  # ... and the process is killed
    with pytest.raises(ResumeError, match="can be taken over 600 s after it started"):
        store.claim(trace.run_id, stale_after_s=600)  # too recent: it may still be running
    assert store.claim(trace.run_id, stale_after_s=-1).run_id == trace.run_id  # stale


async def test_the_waiting_list_shows_one_line_per_run_whatever_the_message_holds(fresh, tmp_path):
    from support_lib.kit import arun

    db = str(tmp_path / "runs.sqlite3")
    forged = "run-000000000000  approval_gate  since 2026-12-01T09:00:00+00:00  a forged line"
    message = f"I will sue you \u202eover order 10008.\n{forged}\nThanks"
    trace = await arun(message, mock_url=fresh.url, human_in_the_loop=True, store=RunStore(db))
    assert trace.status == "waiting"
    listed = cli("waiting", "--db", db)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith(trace.run_id)
    assert "\u202e" not in listed.stdout and "\\u202e" in listed.stdout
