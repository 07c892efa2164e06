"""The workflow behind a webhook, the way the original demo was triggered.

A small FastAPI app:

- ``POST /api/support/incoming`` with ``{"message": ..., "email"?: ..., "ticket_id"?: ...}``
  validates the request (422 with a readable reason), runs the workflow and answers with a
  summary: run_id, status, ticket_id, inquiry_type, sentiment, escalated, final_response,
  escalation_ticket;
- ``GET /api/support/runs/{run_id}``: the stored trace as JSON (the last 100 runs are kept
  in memory; 404 for any other id);
- ``GET /health``.

``start_service()`` runs it in a background thread (a notebook, a test);
``python -m support_lib.service --port 8090`` runs it in a terminal.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from collections import OrderedDict
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, field_validator
from starlette.exceptions import HTTPException as StarletteHTTPException

from .engine import ResumeError, Trace
from .inputs import MAX_MESSAGE_CHARS, check_email, check_message, check_ticket_id
from .kit import aresume as kit_aresume
from .kit import (
    arun,
    connect_mock,
    host_problem,
    local_mock,
    port_number,
    port_problem,
    run_store,
    serve_app,
)
from .terminal import SafeArgumentParser, terminal_safe
from .web import nested_deeper_than, read_body_within
from .workflow import SupportResult
from .workflow.human import answer_for

SERVICE_NAME = "support-workflow-service"
MAX_STORED_RUNS = 100
MAX_BODY_BYTES = 8 * MAX_MESSAGE_CHARS + 1024  # refuse huge bodies before parsing them
MAX_JSON_NESTING = 32  # a webhook body is two levels deep; refused before it is parsed
UNREADABLE_BODY = (
    "the body cannot be read: send JSON encoded as UTF-8, not nested too deeply "
    "and with no number over 4,300 digits"
)


class IncomingMessage(BaseModel):
    """What the webhook accepts. Unknown fields are ignored (webhook senders add extras)."""

    message: str = Field(description="What the customer wrote")
    email: str | None = Field(None, description="The customer's email, if known")
    ticket_id: str | None = Field(None, description="Your ticket id; else TICKET-xxxxxxxx")

    # The same policy as every other front door (support_lib/inputs.py).
    @field_validator("message", mode="before")
    @classmethod
    def _message(cls, value: Any) -> str:
        return check_message(value)

    @field_validator("email", mode="before")
    @classmethod
    def _email(cls, value: Any) -> str | None:
        return None if value is None else check_email(value)

    @field_validator("ticket_id", mode="before")
    @classmethod
    def _ticket_id(cls, value: Any) -> str | None:
        return None if value is None else check_ticket_id(value)


class RunSummary(BaseModel):
    """The webhook's answer: what the workflow decided, in one small object."""

    run_id: str
    status: str
    ticket_id: str | None
    inquiry_type: str | None
    sentiment: str | None
    escalated: bool | None
    final_response: str | None
    escalation_ticket: str | None
    error: str | None = None
    waiting_for: dict[str, Any] | None = None


class Decision(BaseModel):
    """A person's answer to a waiting run: an approver's decision, or an agent's reply."""

    decision: Literal["approve", "edit", "reject"] | None = None
    text: str | None = Field(None, description="the edited reply, or the agent's reply")
    by: str = Field("a support lead", max_length=100, description="who answers")


def summarize(trace: Trace) -> RunSummary:
    """A waiting run has sent nothing yet: its draft is in ``waiting_for``'s question, and
    ``final_response`` stays empty until a person has answered."""
    result = SupportResult.from_trace(trace)
    waiting = trace.status == "waiting"
    return RunSummary(
        run_id=result.run_id,
        status=result.status,
        ticket_id=result.ticket_id,
        inquiry_type=result.inquiry_type,
        sentiment=result.sentiment,
        escalated=result.escalated,
        final_response=None if waiting else result.final_response,
        escalation_ticket=result.escalation_ticket["ticket_id"]
        if result.escalation_ticket
        else None,
        error=result.error,
        waiting_for=trace.waiting_for if waiting else None,
    )


def _error(status: int, message: str, field: str | None = None) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "field": field}}, status_code=status)


async def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    """422 with one readable sentence, e.g. "message: the message is empty: type what ..."."""
    assert isinstance(exc, RequestValidationError)
    problems, fields = [], []
    for error in exc.errors():
        if error.get("type") == "json_invalid":
            reason = (error.get("ctx") or {}).get("error", "")
            problems.append(f"the body is not valid JSON ({reason})".replace(" ()", ""))
            fields.append(None)
            continue
        loc = [str(part) for part in error.get("loc", ()) if part != "body"]
        text = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        if not loc and error.get("type") in ("model_attributes_type", "dict_type"):
            decision = request.url.path.endswith("/decision")
            example = '"decision": "approve"' if decision else '"message": "..."'
            text = f"it must be a JSON object such as {{{example}}}"
        problems.append(f"{'.'.join(loc) or 'body'}: {text}")
        fields.append(".".join(loc) or None)
    return _error(422, "; ".join(problems), fields[0] if len(fields) == 1 else None)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    """Every other HTTP error (a body that is not UTF-8, an unknown path, a wrong method) in
    the same shape as the validation errors."""
    assert isinstance(exc, StarletteHTTPException)
    detail = str(exc.detail)
    if exc.status_code == 400 and "parsing the body" in detail:
        return _error(400, UNREADABLE_BODY)
    return _error(exc.status_code, detail)


async def _limit_body(request: Request, call_next: Any) -> Response:
    """413 for a body over the limit, announced or streamed, before it is parsed."""
    body = await read_body_within(request, MAX_BODY_BYTES)
    if body is None:
        return _error(413, f"the request body is over {MAX_BODY_BYTES // 1024} KiB")
    if nested_deeper_than(body, MAX_JSON_NESTING):
        return _error(400, UNREADABLE_BODY)
    return await call_next(request)


def create_service_app(
    mock_url: str | None = None,
    *,
    max_runs: int = MAX_STORED_RUNS,
    human_in_the_loop: bool = False,
    db: str | None = None,
) -> FastAPI:
    """The webhook app. ``mock_url``: the support APIs (and the offline model) to use; by
    default this process's mock server (``support_lib.kit.local_mock()``).
    ``human_in_the_loop``: runs may wait for a person; they are kept in ``db`` (see
    ``kit.run_store``) and answered with ``POST /api/support/runs/{run_id}/decision``."""
    app = FastAPI(
        title="Support workflow service",
        description="The customer-support workflow behind a webhook.",
    )
    app.state.runs = OrderedDict()  # the last `max_runs` traces, oldest first
    app.state.mock_url = mock_url or local_mock().url
    app.state.store = run_store(db) if human_in_the_loop else None
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.middleware("http")(_limit_body)
    _run_routes(app, max_runs, human_in_the_loop)
    _human_routes(app)
    return app


def _keep(app: FastAPI, trace: Trace, max_runs: int) -> JSONResponse:
    """Remember a trace and answer with its summary: 200 done, 202 waiting for a person,
    502 when a service behind us (model, support API) failed."""
    runs = app.state.runs
    runs[trace.run_id] = trace
    while len(runs) > max_runs:
        runs.popitem(last=False)
    status = {"completed": 200, "waiting": 202}.get(trace.status, 502)
    return JSONResponse(summarize(trace).model_dump(), status_code=status)


def _run_routes(app: FastAPI, max_runs: int, human: bool) -> None:
    @app.post("/api/support/incoming", response_model=RunSummary)
    async def incoming(body: IncomingMessage) -> JSONResponse:
        trace = await arun(
            body.message,
            email=body.email,
            ticket_id=body.ticket_id,
            mock_url=app.state.mock_url,
            human_in_the_loop=human,
            store=app.state.store,
            check=False,  # a failed run is still stored and reported, with its error
        )
        return _keep(app, trace, max_runs)

    @app.get("/api/support/runs/{run_id}")
    async def get_run(run_id: str) -> JSONResponse:
        trace = app.state.runs.get(run_id)
        if trace is None:
            return _error(
                404, f"no run {run_id!r}: this service keeps its last {max_runs} runs in memory"
            )
        return JSONResponse(json.loads(trace.to_json()))

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "service": SERVICE_NAME, "runs_stored": len(app.state.runs)}


def _human_routes(app: FastAPI) -> None:
    off = "people in the loop is off for this service (start it with --require-approval)"

    @app.get("/api/support/waiting")
    async def waiting() -> JSONResponse:
        if app.state.store is None:
            return _error(404, off)
        return JSONResponse(json.loads(json.dumps(app.state.store.waiting(), default=str)))

    @app.post("/api/support/runs/{run_id}/decision", response_model=RunSummary)
    async def decide(run_id: str, body: Decision) -> JSONResponse:
        store = app.state.store
        if store is None:
            return _error(404, off)
        try:
            trace = store.load(run_id)
            if trace.status != "waiting" or not trace.waiting_for:
                raise ResumeError(f"run {run_id} is {trace.status}: there is nothing to answer")
            answer = answer_for(trace.waiting_for["question"], body.decision, body.text, body.by)
            trace = await kit_aresume(
                run_id, answer, store=store, mock_url=app.state.mock_url, check=False
            )
        except ResumeError as exc:  # (the store's message names its file: not for callers)
            if "no run" in str(exc):
                return _error(404, f"no run {run_id!r} is kept by this service")
            return _error(409, str(exc))
        except ValueError as exc:
            return _error(422, str(exc).splitlines()[0])
        return _keep(app, trace, MAX_STORED_RUNS)


class ServiceHandle:
    """The service running in a background thread: ``.url``, ``.port``, ``.app``, ``.stop()``."""

    def __init__(self, app: FastAPI, running: Any):
        self.app = app
        self._running = running
        self.url: str = running.url
        self.port: int = running.port
        self.stopped = False

    def __repr__(self) -> str:
        return f"ServiceHandle(url={self.url!r}, stopped={self.stopped})"

    def stop(self) -> None:
        """Stop the server; safe to call twice."""
        if not self.stopped:
            self._running.stop()
            self.stopped = True

    def __enter__(self) -> ServiceHandle:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_service(
    port: int = 0,
    mock_url: str | None = None,
    *,
    host: str = "127.0.0.1",
    max_runs: int = MAX_STORED_RUNS,
    human_in_the_loop: bool = False,
    db: str | None = None,
) -> ServiceHandle:
    """Run the webhook with uvicorn in a daemon thread (``port=0``: a free port)."""
    app = create_service_app(
        mock_url, max_runs=max_runs, human_in_the_loop=human_in_the_loop, db=db
    )
    return ServiceHandle(app, serve_app(app, host, port, name="support-service"))


def main(argv: list[str] | None = None) -> int:
    """``python -m support_lib.service [--host 127.0.0.1] [--port 8090] [--mock-url URL]``."""
    parser = SafeArgumentParser(prog="python -m support_lib.service", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="default: %(default)s")
    parser.add_argument("--port", type=port_number, default=8090, help="default: %(default)s")
    parser.add_argument(
        "--mock-url", default=None, help="a running mock server (default: start one in-process)"
    )
    parser.add_argument("--require-approval", action="store_true", help="people in the loop")
    parser.add_argument("--db", default=None, help="where waiting runs are kept (SQLite)")
    args = parser.parse_args(argv)
    problem = host_problem(args.host) or port_problem(args.host, args.port)
    if problem:
        print(terminal_safe(f"error: {problem}"), file=sys.stderr)
        return 1
    if args.mock_url:  # checked now, not at the first message (a 502 for every one)
        try:
            args.mock_url = connect_mock(args.mock_url).url
        except (ValueError, ConnectionError) as exc:
            print(terminal_safe(f"error: {exc}"), file=sys.stderr)
            return 1
    try:
        app = create_service_app(args.mock_url, human_in_the_loop=args.require_approval, db=args.db)
        running = serve_app(app, args.host, args.port, name="support-service")
    except (RuntimeError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except sqlite3.Error as exc:  # --db in a missing folder, or a file that is no database
        print(f"error: the run database {args.db!r} cannot be used ({exc})", file=sys.stderr)
        return 1
    print(
        f"Support workflow service at {running.url} (POST /api/support/incoming; support "
        f"APIs at {app.state.mock_url}). Press Ctrl+C to stop it.",
        flush=True,
    )
    try:
        running.thread.join()
    except KeyboardInterrupt:
        running.stop()
        print("Service stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
