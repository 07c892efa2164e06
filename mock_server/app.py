"""The FastAPI app: the Go demo's support APIs, the offline model, the request log and the
lesson knobs. `create_app()` builds one; `start_server()` (runner.py) runs it in a thread.

Request flow: one middleware reads the body (413 if over 1 MiB), applies the lesson knobs
(latency, injected faults), calls the route, turns any unexpected exception into a JSON
500, and records the request in the log. Error handlers give every error OpenAI's JSON
shape (errors.py), so clients never see an HTML page or a traceback.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from support_lib.web import read_body_within

from . import openai_compat, support_api
from .constants import MAX_BODY_BYTES, OFFLINE_MODEL_NAME, SERVICE_NAME, SERVICE_VERSION
from .errors import error_response, pause, shutting_down
from .knobs import Controls, Knobs
from .request_log import RequestLog, mask_authorization, utc_now_iso
from .store import QueryError, Store

# Not recorded in the request log: the kit's own plumbing and the API docs.
UNLOGGED_PATHS = ("/health", "/docs", "/docs/oauth2-redirect", "/openapi.json", "/redoc")
MAX_LOGGED_BODY_BYTES = 64 * 1024  # bigger bodies are logged as a note, not kept

CallNext = Callable[[Request], Awaitable[Response]]


def create_app(
    db_path: str | os.PathLike[str] | None = None,
    *,
    on_request: Callable[[dict[str, Any]], None] | None = None,
    **knobs: Any,
) -> FastAPI:
    """Build the app. `db_path`: see store.resolve_db_path; `on_request` is called with each
    new request-log entry (the CLI prints them); `knobs`: see knobs.Knobs."""
    controls = Controls(Knobs(**knobs))  # invalid knobs fail here, before anything starts
    store = Store(db_path)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # In a worker thread, so the server is ready at once and the loop never waits.
        warming = asyncio.get_running_loop().run_in_executor(None, openai_compat.warm_up)
        yield
        await warming
        store.close()

    app = FastAPI(
        title="Support workflow kit: mock server",
        version=SERVICE_VERSION,
        description="The Go demo's support APIs plus an offline OpenAI-compatible model.",
        lifespan=lifespan,
    )
    app.state.store = store
    app.state.one_query = asyncio.Lock()  # /_sql runs one query at a time (see run_sql)
    app.state.controls = controls
    app.state.request_log = RequestLog(on_entry=on_request)
    app.state.in_flight = 0  # requests being answered now (GET /_info shows it)
    app.state.idempotency_locks = {}

    app.middleware("http")(_middleware)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(RequestValidationError, _on_invalid_request)
    app.include_router(support_api.router)
    app.include_router(openai_compat.router)
    app.include_router(internal)
    return app


# ---- middleware: body limit, lesson knobs, catch-all, request log ----


def _fail(request: Request, status: int, message: str, **kwargs: Any) -> JSONResponse:
    """An error response, remembered for the request log's one-line result."""
    request.state.log_result = message if len(message) <= 80 else message[:79] + "…"
    return error_response(status, message, **kwargs)


def _is_kit_route(path: str) -> bool:
    """The kit's own routes: never logged, never given injected faults."""
    return path.startswith("/_") or path in UNLOGGED_PATHS


async def _middleware(request: Request, call_next: CallNext) -> Response:
    counted = not _is_kit_route(request.url.path)
    request.app.state.in_flight += counted
    try:
        return await _answer(request, call_next)
    finally:
        request.app.state.in_flight -= counted


async def _answer(request: Request, call_next: CallNext) -> Response:
    started = time.perf_counter()
    body: bytes | None = None
    try:
        body = await read_body_within(request, MAX_BODY_BYTES)
        if body is None:
            response: Response = _fail(
                request,
                413,
                f"Request body too large: the limit is {MAX_BODY_BYTES} bytes (1 MiB).",
            )
        elif problem := _not_strict_json(body, request.headers.get("content-type", "")):
            response = _fail(request, 400, f"The request body is not valid JSON: {problem}.")
        else:
            response = await _apply_knobs(request, call_next)
    except Exception as exc:  # a bug must still give the client JSON, not a traceback
        response = _fail(
            request, 500, f"Unexpected error in the mock server: {type(exc).__name__}: {exc}"
        )

    path = request.url.path
    if not _is_kit_route(path):
        request.app.state.request_log.add(
            method=request.method,
            path=path,
            query=dict(request.query_params),
            body=_body_for_log(body),
            status=response.status_code,
            duration_ms=round((time.perf_counter() - started) * 1000, 2),
            auth=mask_authorization(request.headers.get("authorization")),
            result=getattr(request.state, "log_result", None),
        )
    return response


async def _apply_knobs(request: Request, call_next: CallNext) -> Response:
    """Latency for /v1 calls, then maybe an injected fault, then the route itself."""
    controls: Controls = request.app.state.controls
    knobs = controls.knobs
    path = request.url.path
    if path.startswith("/v1") and knobs.latency_ms and not await pause(knobs.latency_ms / 1000):
        return shutting_down()  # (never time.sleep: it would block the loop)

    fault = None if _is_kit_route(path) else controls.next_fault(path)
    request.state.fault = fault  # the chat route reads it to produce malformed output
    note = "(fault injected by the mock server's lesson knobs)"
    if fault == "429":
        return _fail(
            request,
            429,
            f"Rate limit reached; retry after 1 second {note}.",
            code="rate_limit_exceeded",
            headers={"retry-after": "1"},
        )
    if fault == "500":
        return _fail(request, 500, f"The server had an error processing your request {note}.")
    if fault == "timeout":
        if not await pause(knobs.timeout_s):  # the client's own timeout should fire first
            return shutting_down()
        return _fail(request, 504, f"No answer for {knobs.timeout_s} s {note}.")

    response = await _once_per_key(request, call_next)
    if fault == "malformed" and path != "/v1/chat/completions" and response.status_code < 300:
        response = await _cut_in_half(response)
        request.state.log_result = f"malformed body {note}"
    return response


async def _once_per_key(request: Request, call_next: CallNext) -> Response:
    """A POST with an ``Idempotency-Key`` header is done once: a repeat (a retry, a resumed
    run) gets the first answer again and changes nothing. The key lives in the database,
    so it holds across restarts of a server with a database file."""
    key = request.headers.get("idempotency-key")
    if request.method != "POST" or not key or request.url.path.startswith("/v1"):
        return await call_next(request)
    store, locks = request.app.state.store, request.app.state.idempotency_locks
    full_key = f"{request.url.path} {key}"
    async with locks.setdefault(full_key, asyncio.Lock()):  # two at once: one does it
        remembered = store.recall(full_key)
        if remembered:
            status, answer = remembered
            request.state.log_result = f"replayed: this Idempotency-Key was seen before ({key})"
            headers = {"idempotent-replayed": "true"}
            return Response(answer, status, headers, media_type="application/json")
        response = await call_next(request)
        if response.status_code < 300:
            answer = b"".join([part async for part in response.body_iterator])
            store.remember(full_key, response.status_code, answer, utc_now_iso())
            response = Response(answer, response.status_code, media_type="application/json")
    locks.pop(full_key, None)  # later repeats find the answer in the database
    return response


async def _cut_in_half(response: Response) -> Response:
    """The 'malformed' fault for routes other than chat: half of the JSON body."""
    if hasattr(response, "body_iterator"):  # streamed by the app
        body = b"".join([chunk async for chunk in response.body_iterator])
    else:  # already whole (an idempotent POST's remembered answer)
        body = bytes(response.body)
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
    return Response(body[: len(body) // 2], status_code=response.status_code, headers=headers)


class _NotStrictJson(ValueError):
    pass


def _parse_strict_json(body: bytes) -> Any:
    """json.loads, minus what Python accepts but JSON forbids: NaN, Infinity and unpaired
    surrogates like "\\ud800" (they would later break storing or answering)."""

    def refuse(name: str) -> None:
        raise _NotStrictJson(f"{name} is not a JSON value")

    try:
        value = json.loads(body, parse_constant=refuse)
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise _NotStrictJson("it contains an unpaired surrogate (\\ud800-\\udfff)") from exc
    except RecursionError as exc:
        raise ValueError("nested too deeply") from exc
    return value


def _not_strict_json(body: bytes, content_type: str) -> str | None:
    """What is wrong with a JSON body that FastAPI would accept, or None. Syntax errors are
    left to FastAPI, which reports them itself."""
    if not body or "json" not in content_type:
        return None
    try:
        _parse_strict_json(body)
    except _NotStrictJson as exc:
        return str(exc)
    except ValueError:
        return None
    return None


def _body_for_log(body: bytes | None) -> Any:
    """Parsed JSON if possible, else text; None for no body."""
    if not body:
        return None
    if len(body) > MAX_LOGGED_BODY_BYTES:
        return f"({len(body)} bytes, not kept in the log)"
    try:
        parsed = _parse_strict_json(body)
    except ValueError:  # includes UnicodeDecodeError
        return body.decode("utf-8", errors="replace")
    if _nesting(parsed) > MAX_LOGGED_NESTING:  # the log is sent as JSON: keep it sendable
        return f"(JSON nested over {MAX_LOGGED_NESTING} deep, not kept in the log)"
    return parsed


MAX_LOGGED_NESTING = 64


def _nesting(value: Any) -> int:
    """How deep lists and objects nest in ``value`` (without recursion: it may be deep)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest


# ---- error handlers: every error is JSON in OpenAI's shape ----


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    method, path = request.method, request.url.path
    if exc.status_code == 404 and path.startswith("/v1"):
        message = (
            f"Unknown API path: {method} {path}. The offline model serves "
            "POST /v1/chat/completions and GET /v1/models."
        )
    elif exc.status_code == 404:
        message = f"No route for {method} {path}. The routes are listed at /docs."
    elif exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow", "another method")
        message = f"Method {method} is not allowed for {path}; use {allowed}."
    elif exc.status_code == 400 and exc.detail == "There was an error parsing the body":
        message = "The request body could not be parsed (not UTF-8, or JSON nested too deeply)."
    else:
        message = str(exc.detail)
    return _fail(request, exc.status_code, message, headers=exc.headers)


def _describe(errors: list[Any]) -> tuple[str, str | None]:
    """Pydantic errors as one readable line, plus the first offending field."""
    parts, params = [], []
    for error in errors[:5]:
        loc = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
        params.append(loc or None)
        parts.append(f"{loc or 'body'}: {error.get('msg')}")
    return "; ".join(parts), (params[0] if params else None)


async def _on_invalid_request(request: Request, exc: Exception) -> JSONResponse:
    """Undecodable JSON -> 400. A wrong shape -> 400 under /v1 (as OpenAI), else 422."""
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(error.get("type") == "json_invalid" for error in errors):
        return _fail(request, 400, "The request body is not valid JSON.")
    if any(isinstance(error.get("input"), bytes) for error in errors):
        # FastAPI left the body as raw bytes: it parses JSON only with a JSON content type.
        content_type = request.headers.get("content-type")
        return _fail(
            request,
            400,
            "Send the body as JSON with the header 'Content-Type: application/json' "
            f"(got {content_type or 'no Content-Type'}).",
        )
    message, param = _describe(errors)
    status = 400 if request.url.path.startswith("/v1") else 422
    return _fail(request, status, f"Invalid request: {message}", param=param)


# ---- the kit's own routes (not in the request log) ----

internal = APIRouter(tags=["mock server internals"])


@internal.get("/health")
async def health() -> dict[str, str]:
    """Identifies the kit's server, so a second start can tell it from a foreign program."""
    return {"service": SERVICE_NAME, "version": SERVICE_VERSION, "model": OFFLINE_MODEL_NAME}


@internal.get("/_info")
async def info(request: Request) -> dict[str, Any]:
    return {
        "service": SERVICE_NAME,
        "version": SERVICE_VERSION,
        "model": OFFLINE_MODEL_NAME,
        "db_path": request.app.state.store.path,
        "config": request.app.state.controls.knobs.model_dump(),
        "in_flight": request.app.state.in_flight,
    }


@internal.get("/_requests")
async def list_requests(request: Request, path_prefix: str | None = None) -> list[dict[str, Any]]:
    return request.app.state.request_log.entries(path_prefix)


@internal.delete("/_requests")
async def clear_requests(request: Request) -> dict[str, bool]:
    request.app.state.request_log.clear()
    return {"cleared": True}


@internal.post("/_reset")
async def reset(request: Request) -> dict[str, bool]:
    """Empty the request log and the database tables, and return every knob to its
    default (a lesson that slowed the model down or made it fail leaves nothing behind)."""
    request.app.state.request_log.clear()
    request.app.state.store.clear()
    request.app.state.controls.update(Knobs().model_dump())
    return {"reset": True}


@internal.get("/_config")
async def get_config(request: Request) -> dict[str, Any]:
    return request.app.state.controls.knobs.model_dump()


@internal.post("/_config")
async def set_config(changes: dict[str, Any], request: Request) -> JSONResponse:
    """Change some knobs; the others keep their values. Restarts the fault sequence."""
    try:
        knobs = request.app.state.controls.update(changes)
    except ValidationError as exc:
        message, param = _describe(exc.errors())
        return _fail(request, 422, f"Invalid knob value: {message}", param=param)
    return JSONResponse(knobs.model_dump())


class SqlQuery(BaseModel):
    sql: str
    params: list[str | int | float | None] = Field(default_factory=list)


@internal.post("/_sql")
async def run_sql(query: SqlQuery, request: Request) -> JSONResponse:
    """Read-only SQL over the store (what `MockServer.query` calls)."""
    try:
        # In a worker thread, one query at a time: the event loop keeps serving the other
        # routes, which wait for the store's lock at most one query's time limit.
        async with request.app.state.one_query:
            rows = await asyncio.to_thread(request.app.state.store.query, query.sql, query.params)
    except QueryError as exc:
        return _fail(request, 400, str(exc), param="sql")
    return JSONResponse(rows)
