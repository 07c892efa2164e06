"""Lesson 10's exercises: people in the loop, runs kept in SQLite, each effect done once.

The checkers run what the learner wrote on runs of their own (messages the lesson did not
use), against this process's mock server, and judge it by what the mock server received:
what the customer got is the truth, whatever a trace says. They never reset the mock
server (that would wipe the learner's data); a knob they turn is put back.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import tempfile
from pathlib import Path
from typing import Any

from . import as_pair, exercise, expect

# Messages the lesson never shows: each is held at the approval gate (it mentions a
# refund) and none is escalated.
REFUND_CASES = (
    "Hi, I returned the blender from order #50014 last week. Could I get my refund? Mia",
    "Hello, I sent the headphones from order #50027 back on Monday. When do I get my refund? Tom",
)
CALM = "Hi, could you tell me when order #50422 will arrive? Thanks, Ravi"

# ----------------------------------------------------------------------------- helpers


async def waiting_run(message: str, store: Any = None) -> Any:
    """A run of the checker's own that waits at the approval gate (or a clear error)."""
    from support_lib.kit import arun, local_mock
    from support_lib.llm import resolve_backend

    offline = resolve_backend(local_mock().openai_base_url, env={})  # whatever the env says
    trace = await arun(message, human_in_the_loop=True, store=store, backend=offline)
    node = (trace.waiting_for or {}).get("node")
    if node != "approval_gate":  # the stand-in changed: the checker must be updated
        raise RuntimeError(f"the checker's run did not wait for approval ({trace.status}, {node})")
    return trace


def delivered(ticket_id: str) -> list[str]:
    """The messages the customer of this ticket really received (the mock's table)."""
    from support_lib.kit import local_mock

    rows = local_mock().query(
        "SELECT message FROM sent_messages WHERE ticket_id = ? ORDER BY sent_at", [ticket_id]
    )
    return [row["message"] for row in rows]


def send_requests(ticket_id: str) -> list[dict[str, Any]]:
    """The ``POST /support/send`` requests the mock server received for this ticket."""
    from support_lib.kit import local_mock

    entries = local_mock().requests("/support/send")
    return [
        e
        for e in entries
        if isinstance(e["body"], dict) and e["body"].get("ticket_id") == ticket_id
    ]


async def call(function: Any, *args: Any) -> Any:
    """Call the learner's function and await what it returns, if it must be awaited (an
    ``async def``, or a plain function that returns ``aresume(...)``)."""
    result = function(*args)
    return await result if inspect.isawaitable(result) else result


def short(text: Any) -> str:
    """A value cut short for a message (learner text is never shown whole)."""
    return repr(str(text)[:80])


def where_different(sent: str, claimed: str) -> str:
    """Where two texts part, in a few words each (two long replies share their start)."""
    at = len(os.path.commonprefix([sent, claimed]))
    start = max(0, at - 10)
    return (
        f"…{sent[start : at + 40]!r}…, but your trace's final_response says "
        f"…{claimed[start : at + 40]!r}…"
    )


# ----------------------------------------------------------------------------- 10.1


@exercise(
    "10.1",
    "a rule for approval",
    hint="Reuse the kit's rule: high_stakes(message, account_action) gives the reasons for "
    "the message; high_stakes(reply, None) applies the same words to the draft. Return "
    "True or False, not the list of reasons.",
    solution="""
from support_lib.workflow.human import high_stakes


def needs_approval(message, reply, account_action):
    return bool(high_stakes(message, account_action) or high_stakes(reply, None))


answer = needs_approval
""",
    wrong=(
        """
from support_lib.workflow.human import high_stakes

answer = lambda message, reply, account_action: bool(high_stakes(message, account_action))
""",
        """
answer = lambda message, reply, account_action: "refund" in message or "refund" in reply
""",
        """
from support_lib.workflow.human import high_stakes

answer = lambda message, reply, account_action: (
    high_stakes(message, account_action) + high_stakes(reply, None)
)
""",
        # the draft checked for money words only, not for the law
        """
from support_lib.workflow.common import words_found
from support_lib.workflow.human import HIGH_STAKES_WORDS, high_stakes

answer = lambda message, reply, account_action: bool(
    high_stakes(message, account_action) or words_found(HIGH_STAKES_WORDS, reply)
)
""",
    ),
)
def _rule(answer: Any) -> None:
    """Run the learner's rule on cases it never saw; the policy is computed here from the
    kit's own ``high_stakes``, so the checker follows the data if the word lists change."""
    from support_lib.workflow.human import high_stakes

    expect(callable(answer), "give a function needs_approval(message, reply, account_action)")
    cases = [
        ("Where is parcel #50422?", "Hi, it ships today. Alex", None),
        ("Where is parcel #50422?", "Sorry! As compensation we add a voucher.", None),
        ("I want my MONEY BACK for order #50007.", "We are looking into it.", None),
        ("Where is my parcel?", "It ships today.", "payment_issue"),
        ("Thanks, all good now!", "Glad to help!", "subscription_active"),
        ("My solicitor has all the papers.", "Noted, thank you.", None),
        ("Can I change my username?", "Yes, and we will reimburse the fee.", None),
        ("Please close my account.", "Done.", None),
        ("How do I reset my password?", "Use the link on the sign-in page.", "account_suspended"),
        ("Do you ship to Norway?", "Yes, within 5 days.", None),
        ("Where is my parcel?", "If you prefer, you can take this to small claims court.", None),
    ]
    for message, reply, action in cases:
        want = bool(high_stakes(message, action) or high_stakes(reply, None))
        got = answer(message, reply, action)
        expect(
            isinstance(got, bool), f"return True or False, not {type(got).__name__} {short(got)}"
        )
        expect(
            got == want,
            f"for the message {message!r}, the reply {reply!r} and the account action "
            f"{action!r} your rule says {got}, the policy says {want}",
        )


# ----------------------------------------------------------------------------- 10.2

SENTENCE = "Your refund has been approved."


@exercise(
    "10.2",
    "edit the reply",
    hint="Resume with {'decision': 'edit', 'text': ..., 'by': ...}: the text is the draft "
    "(trace.waiting_for['question']['reply']) with the sentence added before "
    "'Best regards,'. Return what aresume returns.",
    solution="""
from support_lib.kit import aresume


async def add_refund_note(trace):
    draft = trace.waiting_for["question"]["reply"]
    edited = draft.replace("Best regards,", "Your refund has been approved.\\n\\nBest regards,")
    return await aresume(trace, {"decision": "edit", "text": edited, "by": "Lee"})


answer = add_refund_note
""",
    wrong=(
        """
from support_lib.kit import aresume


async def add_refund_note(trace):
    return await aresume(trace, {"decision": "approve", "by": "Lee"})


answer = add_refund_note
""",
        """
from support_lib.kit import aresume


async def add_refund_note(trace):
    done = await aresume(trace, {"decision": "approve", "by": "Lee"})
    done.state["final_response"] = done.state["final_response"].replace(
        "Best regards,", "Your refund has been approved.\\n\\nBest regards,")
    return done


answer = add_refund_note
""",
        """
from support_lib.kit import aresume


async def add_refund_note(trace):
    text = "Your refund has been approved."
    return await aresume(trace, {"decision": "edit", "text": text, "by": "Lee"})


answer = add_refund_note
""",
        # the sentence after the sign-off, not just before it
        """
from support_lib.kit import aresume


async def add_refund_note(trace):
    draft = trace.waiting_for["question"]["reply"]
    text = draft + "\\n\\nYour refund has been approved."
    return await aresume(trace, {"decision": "edit", "text": text, "by": "Lee"})


answer = add_refund_note
""",
    ),
)
async def _edit(answer: Any) -> None:
    """Judge the edit by what the customer received (the mock's table), not by the trace."""
    expect(callable(answer), "give a function add_refund_note(trace) (async def ...)")
    trace = await waiting_run(REFUND_CASES[0])
    draft, ticket = trace.waiting_for["question"]["reply"], trace.inputs["ticket_id"]
    done = await call(answer, trace)
    expect(getattr(done, "status", None) == "completed",
           f"return the completed trace aresume gives back, not {short(done)}")  # fmt: skip
    sent = delivered(ticket)
    expect(len(sent) == 1, f"the customer should get one message; they got {len(sent)}")
    expect(
        sent[0] == done.state["final_response"],
        f"the customer received {where_different(sent[0], done.state['final_response'])}: "
        "changing a trace afterwards changes nothing that was sent; give the edit to the "
        "approval gate",
    )
    expect(SENTENCE in sent[0], f"the customer got {short(sent[0])}, without {SENTENCE!r}")
    expect(draft.splitlines()[0] in sent[0] and "Best regards," in sent[0],
           "keep the draft (greeting, steps, sign-off) and add the sentence to it")  # fmt: skip
    after = sent[0][sent[0].index(SENTENCE) + len(SENTENCE) :]
    expect(
        after.lstrip().startswith("Best regards,"),
        f"the sentence is followed by {short(after.strip())}: put it just before 'Best regards,'",
    )
    expect(
        " ".join(sent[0].replace(SENTENCE, " ").split()) == " ".join(draft.split()),
        "the customer got more than the draft and the sentence: keep the draft as it is and "
        "add only the sentence",
    )
    expect((done.state.get("human") or {}).get("decision") == "edit",
           "the log should say the reply was edited (decision 'edit')")  # fmt: skip


# ----------------------------------------------------------------------------- 10.3


@exercise(
    "10.3",
    "count the sends",
    hint="In server.requests('/support/send') keep the entries whose body has this "
    "ticket_id (a replayed request is in the log too); what the customer received is in "
    "the sent_messages table: server.query('SELECT ... WHERE ticket_id = ?', [ticket_id]).",
    solution="""
def count_sends(server, ticket_id):
    log = server.requests("/support/send")
    requests = [e for e in log if e["body"]["ticket_id"] == ticket_id]
    rows = server.query("SELECT message_id FROM sent_messages WHERE ticket_id = ?", [ticket_id])
    return len(requests), len(rows)


answer = count_sends
""",
    wrong=(
        """
def count_sends(server, ticket_id):
    return len(server.requests("/support/send")), len(server.query("SELECT * FROM sent_messages"))


answer = count_sends
""",
        """
def count_sends(server, ticket_id):
    log = server.requests("/support/send")
    mine = [e for e in log if e["body"]["ticket_id"] == ticket_id]
    return len(mine), len([e for e in mine if e["status"] == 200])


answer = count_sends
""",
        # the distinct message ids of the answers: log entries hold no answer, so always one
        """
def count_sends(server, ticket_id):
    mine = [e for e in server.requests("/support/send") if e["body"]["ticket_id"] == ticket_id]
    return len(mine), len({str(e.get("response", {}).get("message_id")) for e in mine
                           if e.get("status") == 200})


answer = count_sends
""",
        # the delivered count not counted at all: always one
        """
def count_sends(server, ticket_id):
    log = server.requests("/support/send")
    return len([e for e in log if e["body"]["ticket_id"] == ticket_id]), 1


answer = count_sends
""",
    ),
)
async def _count(answer: Any) -> None:
    """Compare the learner's counts with the checker's own, on a run they did not see."""
    expect(callable(answer), "give a function count_sends(server, ticket_id)")
    ticket = await _retried_resume()
    want = (len(send_requests(ticket)), len(delivered(ticket)))
    from support_lib.kit import local_mock

    given = answer(local_mock(), ticket)
    got = as_pair(given)
    expect(got is not None, f"return a pair (requests, delivered), not {short(given)}")
    expect(
        got[0] == want[0],
        f"the mock server received {want[0]} POST /support/send for this ticket (a failed "
        f"attempt, its retry, and a resume's replay), you counted {got[0]}: count only this "
        "ticket's requests",
    )
    expect(
        got[1] == want[1],
        f"the customer received {want[1]} message(s), you counted {got[1]}: a replayed "
        "request answers 200 but sends nothing; count the rows of sent_messages",
    )
    twice = await _two_runs_one_ticket()
    want = (len(send_requests(twice)), len(delivered(twice)))
    got = as_pair(answer(local_mock(), twice))
    expect(
        got == want,
        f"for a ticket whose customer wrote twice and got {want[1]} replies ({want[0]} "
        f"requests), you counted {short(got)}: count what the log and the table hold for "
        "that ticket",
    )


async def _two_runs_one_ticket() -> str:
    """Two messages of one customer under one ticket, each answered: two sends."""
    import uuid

    from support_lib.kit import arun, local_mock
    from support_lib.llm import resolve_backend

    ticket, server = f"CHK-{uuid.uuid4().hex[:12]}", local_mock()
    offline = resolve_backend(server.openai_base_url, env={})
    for message in (CALM, "Do you ship to Norway, and how long does it take? Thanks, Ravi"):
        await arun(message, ticket_id=ticket, backend=offline)
    return ticket


async def _retried_resume() -> str:
    """A decoy run, then a refund run whose send fails once (retried) and whose resume is
    repeated as after a crash before the store saved it. Returns the refund run's ticket."""
    from support_lib.engine import RunStore
    from support_lib.kit import aresume, arun, local_mock
    from support_lib.llm import resolve_backend

    server = local_mock()
    await arun(CALM, backend=resolve_backend(server.openai_base_url, env={}))  # not ours
    store = RunStore(":memory:")
    trace = await waiting_run(REFUND_CASES[1], store)
    approve = {"decision": "approve", "by": "Lee"}
    knobs = server.configure()
    try:
        server.configure(fault_paths=["/support/send"], fault_kinds=["500"], fault_rate=1.0,
                         fault_limit=1)  # fmt: skip
        await aresume(store.load(trace.run_id), approve)  # sends; the store is not told
    finally:
        server.configure(**knobs)
    await aresume(trace.run_id, approve, store=store)  # the retry after the "crash"
    return trace.inputs["ticket_id"]


# ----------------------------------------------------------------------------- 10.4


@exercise(
    "10.4",
    "one resume per run",
    hint="Let the store decide: aresume(run_id, answer, store=RunStore(db_path)) claims the "
    "run in SQLite first, so a second resume of the same run is refused. Loading the trace "
    "and checking its status yourself leaves a gap in which both pass.",
    solution="""
from support_lib.engine import RunStore
from support_lib.kit import aresume


async def resume_once(db_path, run_id, decision):
    return await aresume(run_id, decision, store=RunStore(db_path))


answer = resume_once
""",
    wrong=(
        """
from support_lib.engine import RunStore
from support_lib.kit import aresume


async def resume_once(db_path, run_id, decision):
    runs = RunStore(db_path)
    return await aresume(runs.load(run_id), decision, store=runs)


answer = resume_once
""",
        """
from support_lib.engine import ResumeError, RunStore
from support_lib.kit import aresume


async def resume_once(db_path, run_id, decision):
    runs = RunStore(db_path)
    trace = runs.load(run_id)
    if trace.status != "waiting":
        raise ResumeError(f"run {run_id} is {trace.status}")
    return await aresume(trace, decision, store=runs)


answer = resume_once
""",
    ),
)
async def _once(answer: Any) -> None:
    """Call the learner's resume twice at once on one run, as two browser tabs would."""
    from support_lib.engine import RunStore

    expect(callable(answer), "give a function resume_once(db_path, run_id, decision)")
    with tempfile.TemporaryDirectory(prefix="check-10.4-") as folder:
        db = str(Path(folder) / "runs.sqlite3")
        trace = await waiting_run(REFUND_CASES[0], RunStore(db))
        edit = {"decision": "edit", "text": "Hi Mia, your refund is on its way. Lee", "by": "Lee"}
        approve = {"decision": "approve", "by": "Sam"}
        outcomes = await asyncio.gather(call(answer, db, trace.run_id, approve),
                                        call(answer, db, trace.run_id, edit),
                                        return_exceptions=True)  # fmt: skip
        row = RunStore(db).load(trace.run_id)
    _judge_race(outcomes, trace.inputs["ticket_id"], row.status)


def _judge_race(outcomes: list[Any], ticket: str, stored: str) -> None:
    """Exactly one resume may go through; say what a racy one did to the customer."""
    won = [o for o in outcomes if getattr(o, "status", None) == "completed"]
    sent, requests = delivered(ticket), send_requests(ticket)
    if len(won) == 2:
        texts = [t.state["final_response"] for t in won]
        loser = next((t for t in texts if t not in sent), texts[1])
        expect(
            False,
            f"both resumes went through and both sent: the mock server received "
            f"{len(requests)} POST /support/send for this run. Its Idempotency-Key turned the "
            f"second into a replay, so the customer got {short(sent[0] if sent else '')}, while "
            f"the other trace says it sent {short(loser)}",
        )
    expect(won, f"neither resume went through: {[short(o) for o in outcomes]}")
    failed = [o for o in outcomes if isinstance(o, BaseException)]
    expect(len(failed) == 1, "the second resume of the same run must be refused with an error")
    expect(len(requests) == 1 and sent == [won[0].state["final_response"]],
           f"one send for the run; the mock server received {len(requests)}")  # fmt: skip
    expect(stored == "completed", f"the store should keep the run as completed, not {stored}")
