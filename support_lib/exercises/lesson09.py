"""Lesson 09's exercises: what the webhook sends and refuses, idempotency, faults, 202.

The webhooks learners build are checked the way a helpdesk would use them: the checker
serves the learner's FastAPI app itself, posts to it (twice at once, where that matters)
and looks at what reached the kernel's mock server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

from . import as_pair, exercise, expect

CALM = "Hi, could you tell me where my order #50422 is? Thanks, Sam"


@contextlib.contextmanager
def _served(app: Any) -> Iterator[str]:
    """Serve an ASGI app on a free port for the length of a check; yields its URL."""
    from mock_server.runner import serve_in_thread

    handle = serve_in_thread(app, port=0)
    try:
        yield handle.url
    finally:
        server_log = logging.getLogger("uvicorn.error")
        level = server_log.level
        server_log.setLevel(logging.CRITICAL)  # a request still hanging is cancelled: the
        try:  # check says so in a sentence, the server's traceback would only hide it
            handle.stop()
        finally:
            server_log.setLevel(level)


@contextlib.asynccontextmanager
async def _client(url: str) -> AsyncIterator[Any]:
    """An async HTTP client for a served app, proxies ignored."""
    import httpx

    async with httpx.AsyncClient(base_url=url, timeout=ANSWER_S, trust_env=False) as client:
        yield client


ANSWER_S = 20.0
"""How long the checker waits for the learner's webhook to answer a request: a run takes a
few seconds, so a request still unanswered after this never will be (it awaits something
that nothing finishes)."""


def _knobs() -> dict[str, Any]:
    """The mock server's knobs as they are now (read without changing them)."""
    import httpx

    from support_lib.kit import local_mock

    return httpx.get(local_mock().url + "/_config", trust_env=False).json()


# ----------------------------------------------------------------------------- 09.1

POST_WITH = """
import httpx
from support_lib.kit import local_mock
from support_lib.service import start_service

server = local_mock()
with start_service(port=0, mock_url=server.url) as service:
    summary = httpx.post(service.url + "/api/support/incoming", timeout=30, trust_env=False,
                         json={"message": "Where is my order #50422? Thanks, Kim"%s}).json()
"""


@exercise(
    "09.1",
    "what the webhook sent",
    hint="Post with 'email' in the JSON body, then take server.requests('/support/send')[-1] "
    "and keep its ['body'].",
    solution=POST_WITH % ', "email": "kim@example.org"'
    + 'answer = server.requests("/support/send")[-1]["body"]',
    wrong=(
        POST_WITH % ', "email": "kim@example.org"' + "answer = summary  # the webhook's answer",
        POST_WITH % ', "email": "kim@example.org"'
        + 'answer = server.requests("/support/send")[-1]  # the whole log entry',
        POST_WITH % "" + 'answer = server.requests("/support/send")[-1]["body"]  # no email',
        # posted straight to the mock's /support/send: no workflow run sent it
        "import httpx\nfrom support_lib.kit import local_mock\n"
        "body = {'to': 'kim@example.org', 'subject': 'Re: order', 'body': 'On its way.'}\n"
        "httpx.post(local_mock().url + '/support/send', json=body, trust_env=False)\n"
        "answer = body",
    ),
)
def _sent_body(answer: Any) -> None:
    """The body must be one the mock server really sent, to the learner's address, and
    sent by a workflow run: the run's send node gives each request an ``Idempotency-Key``,
    which the mock server remembers with its answer (the message id); a body posted
    straight to ``/support/send`` has none."""
    from support_lib.kit import local_mock
    from support_lib.workflow import DEFAULT_EMAIL

    expect(isinstance(answer, dict), "give the request's body (a dict)")
    expect("run_id" not in answer, "that is the webhook's answer (its summary), not what it sent")
    expect("path" not in answer, "that is the whole log entry: keep its ['body']")
    expect({"to", "subject", "body"} <= set(answer), f"not a /support/send body: {list(answer)}")
    expect(
        answer["to"] != DEFAULT_EMAIL,
        f"{DEFAULT_EMAIL} is the default address: post with an email of your own",
    )
    sent = local_mock().query(
        "SELECT COUNT(*) AS n, COUNT(i.key) AS by_a_run FROM sent_messages AS s "
        "LEFT JOIN idempotency AS i "
        "ON i.key LIKE '/support/send %' AND instr(i.answer, s.message_id) > 0 "
        "WHERE s.to_email = ? AND s.message = ?",
        [answer["to"], answer["body"]],
    )[0]
    expect(sent["n"] >= 1, "the mock server sent no such message: post it first")
    expect(
        sent["by_a_run"] >= 1,
        "that message was posted straight to /support/send; post the customer's message to "
        "the webhook (/api/support/incoming) and keep what its workflow run sent",
    )


# ----------------------------------------------------------------------------- 09.2


@exercise(
    "09.2",
    "the longest message",
    hint="Post 'x' * 8000 and 'x' * 8001 (MAX_MESSAGE_CHARS is in support_lib.inputs) and "
    "keep the two response.status_code.",
    solution="""
import httpx
from support_lib.inputs import MAX_MESSAGE_CHARS
from support_lib.kit import local_mock
from support_lib.service import start_service

with start_service(port=0, mock_url=local_mock().url) as service:
    codes = [
        httpx.post(service.url + "/api/support/incoming", json={"message": "x" * n},
                   timeout=30, trust_env=False).status_code
        for n in (MAX_MESSAGE_CHARS, MAX_MESSAGE_CHARS + 1)
    ]
answer = tuple(codes)
""",
    wrong=(
        "answer = (422, 422)  # 8,000 characters are still allowed",
        "answer = (200, 400)",
        "answer = (8000, 8001)  # the lengths, not the status codes",
    ),
)
async def _longest(answer: Any) -> None:
    """The two lengths are posted to a service of the checker's own."""
    from support_lib.inputs import MAX_MESSAGE_CHARS
    from support_lib.kit import local_mock
    from support_lib.service import create_service_app

    answer = as_pair(answer)
    expect(answer is not None, "give a pair: (status, status)")
    with _served(create_service_app(local_mock().url)) as url:
        async with _client(url) as client:
            codes = []
            for n in (MAX_MESSAGE_CHARS, MAX_MESSAGE_CHARS + 1):
                response = await client.post("/api/support/incoming", json={"message": "x" * n})
                codes.append(response.status_code)
    for length, got, want in zip(("8,000", "8,001"), answer, codes, strict=True):
        expect(got == want, f"a message of {length} characters gets {want}, not {got}")


# ----------------------------------------------------------------------------- 09.3

TINY = """
import asyncio

from fastapi import FastAPI
from pydantic import BaseModel

from support_lib.kit import arun, local_mock
from support_lib.workflow import SupportResult


class Incoming(BaseModel):
    message: str
    ticket_id: str | None = None


async def summary(body: Incoming):
    trace = await arun(body.message, ticket_id=body.ticket_id, mock_url=local_mock().url)
    return {"run_id": SupportResult.from_trace(trace).run_id}


answer = FastAPI()
"""


@exercise(
    "09.3",
    "a webhook that runs a ticket once",
    hint="Remember the ticket *before* awaiting the run: store "
    "asyncio.ensure_future(the run's coroutine) under the ticket id, and let every request "
    "for that ticket await the same future. A post without a ticket_id always runs.",
    solution=TINY
    + """runs = {}  # ticket id -> the future of its summary, stored before anything is awaited


@answer.post("/incoming")
async def incoming(body: Incoming):
    if body.ticket_id is None:
        return await summary(body)
    if body.ticket_id not in runs:
        runs[body.ticket_id] = asyncio.ensure_future(summary(body))
    return await runs[body.ticket_id]
""",
    wrong=(
        # the tiny webhook of section 1: no idempotency at all
        TINY + "answer.post('/incoming')(summary)\n",
        # remembered only after the run: two requests at once both miss it
        TINY + "done = {}\n"
        "@answer.post('/incoming')\n"
        "async def incoming(body: Incoming):\n"
        "    if body.ticket_id not in done:\n"
        "        done[body.ticket_id] = await summary(body)\n"
        "    return done[body.ticket_id]\n",
        # None is a key like any other: every post without a ticket gets the first one's answer
        TINY + "runs = {}\n"
        "@answer.post('/incoming')\n"
        "async def incoming(body: Incoming):\n"
        "    if body.ticket_id not in runs:\n"
        "        runs[body.ticket_id] = asyncio.ensure_future(summary(body))\n"
        "    return await runs[body.ticket_id]\n",
    ),
    praise="Right: two requests at once and a retry, one run and one email.",
)
async def _idempotent(answer: Any) -> None:
    """Two posts at once and a retry, as a helpdesk sends them; then count emails."""
    from fastapi import FastAPI

    from support_lib.kit import local_mock

    expect(isinstance(answer, FastAPI), "give the FastAPI app (not a running server)")
    import httpx

    ticket, other = (f"CHK-{uuid.uuid4().hex[:12]}" for _ in range(2))
    with _served(answer) as url:
        async with _client(url) as client:

            async def post(ticket_id: str | None) -> Any:
                """One post of the calm message under a ticket id (None: without one)."""
                body = {"message": CALM} | ({"ticket_id": ticket_id} if ticket_id else {})
                try:
                    return await client.post("/incoming", json=body)
                except httpx.TimeoutException:
                    expect(
                        False,
                        f"a POST /incoming {'for ticket ' + ticket_id if ticket_id else ''} "
                        f"got no answer within {ANSWER_S:.0f} s (a run takes a few): does "
                        "the request await a future that nothing ever finishes?",
                    )

            responses = list(await asyncio.gather(post(ticket), post(ticket)))
            responses += [await post(ticket), await post(other), await post(None)]
            responses.append(await post(None))
    codes = [r.status_code for r in responses]
    expect(codes == [200] * 6, f"POST /incoming answered {codes}")
    run_ids = [r.json().get("run_id") for r in responses]
    expect(None not in run_ids, "every answer must carry the run's run_id")
    sent = local_mock().query(
        "SELECT ticket_id, COUNT(*) AS n FROM sent_messages WHERE ticket_id IN (?, ?) "
        "GROUP BY ticket_id",
        [ticket, other],
    )
    count = {row["ticket_id"]: row["n"] for row in sent}.get(ticket, 0)
    expect(count, f"no reply was sent under ticket {ticket}: pass the ticket id on to arun")
    expect(count == 1, f"one ticket, posted twice at once and once more: {count} emails sent")
    expect(len(set(run_ids[:3])) == 1, f"one ticket got several runs: {run_ids[:3]}")
    expect(run_ids[3] != run_ids[0], "another ticket got the first ticket's answer")
    expect(
        run_ids[5] not in run_ids[:5],
        "a post without a ticket_id got the answer of an earlier one: the ticket id is "
        "optional, and a post without one is a new request that must run",
    )


# ----------------------------------------------------------------------------- 09.4


@exercise(
    "09.4",
    "when the model is down",
    hint="server.configure(fault_rate=1.0), post a message to the service, keep "
    "(response.status_code, response.json()['error']), then server.reset().",
    solution="""
import httpx
from support_lib.kit import local_mock
from support_lib.service import start_service

server = local_mock()
server.configure(fault_rate=1.0, fault_limit=None)  # every model call fails, retries too
try:
    with start_service(port=0, mock_url=server.url) as service:
        response = httpx.post(service.url + "/api/support/incoming", timeout=60,
                              trust_env=False, json={"message": "Where is my order #50422?"})
finally:
    server.reset()  # every knob back to its default
answer = (response.status_code, response.json()["error"])
""",
    wrong=(
        "answer = (500, \"node 'extract_customer_info' failed (after 3 attempts)\")",
        "answer = (502, {'status': 'failed', 'error': 'the model is down'})  # the whole body",
    ),
)
def _model_down(answer: Any) -> None:
    """The node and its attempts must match the workflow's own retry policy."""
    from support_lib.kit import standard_workflow

    pair = as_pair(answer)
    expect(pair is not None, "give a pair: (status, error)")
    status, error = pair
    expect(status != 500, "500 would say this service broke; it did not, the model did")
    expect(status != 422, "422 says the request was wrong; this one was fine")
    expect(status == 502, f"a failing service behind the webhook gives 502, not {status}")
    expect(isinstance(error, str), "give the summary's 'error' (a sentence), not the whole body")
    found = re.search(r"node '(\w+)' failed.*\(after (\d+) attempts\)", error)
    expect(found, f"that error does not name the node that failed: {error[:80]!r}")
    node = standard_workflow().nodes.get(found.group(1))
    expect(node is not None and node.kind == "llm", "the faults hit model calls only (/v1)")
    tries = node.retry.max_attempts
    expect(int(found.group(2)) == tries, f"{node.name} makes {tries} attempts before it fails")
    knobs = _knobs()
    expect(knobs["fault_rate"] == 0, "the mock server still fails its calls: server.reset()")


# ----------------------------------------------------------------------------- 09.5

ASYNC_HEAD = """
import asyncio
import json

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from support_lib.kit import arun, local_mock


class Incoming(BaseModel):
    message: str


answer = FastAPI()
"""


@exercise(
    "09.5",
    "answer at once, run in the background",
    hint="Start arun(...) with asyncio.create_task and an observer that stores the trace "
    "under trace.run_id at its first event; answer 202 once that id is known; GET returns "
    "json.loads(trace.to_json()), 404 for an id it does not know.",
    solution=ASYNC_HEAD
    + """traces = {}  # run id -> its trace, which the engine fills in as the run goes
tasks = set()  # the running tasks (a task nobody holds can be garbage-collected)


@answer.post("/api/support/incoming")
async def incoming(body: Incoming):
    started = asyncio.get_running_loop().create_future()

    def observe(event, run, trace):
        traces[trace.run_id] = trace
        if not started.done():
            started.set_result(trace.run_id)

    task = asyncio.create_task(arun(body.message, mock_url=local_mock().url,
                                    observers=[observe], check=False))
    tasks.add(task)
    task.add_done_callback(tasks.discard)
    await asyncio.wait([started, task], return_when=asyncio.FIRST_COMPLETED)
    if not started.done():  # refused before it started (an empty message...)
        return JSONResponse({"error": str(task.exception())}, status_code=422)
    return JSONResponse({"run_id": started.result(), "status": "running"}, status_code=202)


@answer.get("/api/support/runs/{run_id}")
async def get_run(run_id: str):
    if run_id not in traces:
        return JSONResponse({"error": f"no run {run_id!r}"}, status_code=404)
    return json.loads(traces[run_id].to_json())
""",
    wrong=(
        # waits for the whole run before it answers
        ASYNC_HEAD + "@answer.post('/api/support/incoming')\n"
        "async def incoming(body: Incoming):\n"
        "    trace = await arun(body.message, mock_url=local_mock().url)\n"
        "    return {'run_id': trace.run_id, 'status': trace.status}\n",
        # answers at once, but keeps the trace only when the run is over
        ASYNC_HEAD + "import uuid\ndone, tasks = {}, set()\n"
        "async def work(run_id, message):\n"
        "    done[run_id] = (await arun(message, mock_url=local_mock().url)).to_dict()\n"
        "@answer.post('/api/support/incoming')\n"
        "async def incoming(body: Incoming):\n"
        "    run_id = uuid.uuid4().hex\n"
        "    tasks.add(asyncio.create_task(work(run_id, body.message)))\n"
        "    return JSONResponse({'run_id': run_id, 'status': 'running'}, status_code=202)\n"
        "@answer.get('/api/support/runs/{run_id}')\n"
        "async def get_run(run_id: str):\n"
        "    if run_id in done:\n"
        "        return done[run_id]\n"
        "    return JSONResponse({'error': 'no such run'}, status_code=404)\n",
    ),
)
async def _background(answer: Any) -> None:
    """The model is slowed for a moment so that a run can be watched as it goes."""
    from fastapi import FastAPI

    from support_lib.kit import local_mock

    expect(isinstance(answer, FastAPI), "give the FastAPI app (not a running server)")
    server, latency = local_mock(), _knobs()["latency_ms"]
    server.configure(latency_ms=40)  # slow the model down for a moment, to see a run go
    try:
        with _served(answer) as url:
            async with _client(url) as client:
                response = await client.post("/api/support/incoming", json={"message": CALM})
                expect(
                    response.status_code == 202, f"answer 202 at once, not {response.status_code}"
                )
                body = response.json()
                expect(body.get("status") == "running", f"say status 'running', not {body}")
                snapshots = await _follow(client, f"/api/support/runs/{body.get('run_id')}")
                unknown = await client.get("/api/support/runs/run-000000000000")
    finally:
        server.configure(latency_ms=latency)
    expect(unknown.status_code == 404, f"an unknown run id gets {unknown.status_code}, not 404")
    partial = [s for s in snapshots if s["status"] == "running" and _done(s)]
    expect(
        partial,
        "GET never showed a run under way with some nodes done: keep the trace the observer "
        "sees, not a copy made at the end",
    )
    expect(snapshots[-1]["status"] == "completed", "the run did not complete")


def _done(snapshot: dict[str, Any]) -> int:
    """How many nodes a trace snapshot shows as completed."""
    return sum(run.get("status") == "completed" for run in snapshot.get("node_runs", []))


async def _follow(client: Any, path: str) -> list[dict[str, Any]]:
    """GET ``path`` every 20 ms until the run ends; every answer must be its trace."""
    snapshots: list[dict[str, Any]] = []
    for _ in range(500):
        response = await client.get(path)
        expect(
            response.status_code == 200,
            f"while the run is going, GET {path} answers {response.status_code}: keep the "
            "run's trace from its first event on",
        )
        snapshots.append(response.json())
        if snapshots[-1].get("status") in ("completed", "failed"):
            return snapshots
        await asyncio.sleep(0.02)
    return snapshots
