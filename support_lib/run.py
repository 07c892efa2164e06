"""The headless run API: ``await arun(message)`` in a notebook, ``run(message)`` in a script.

Everything else (the CLI, the widget app, the lessons) is a thin shell over these two
functions and the :class:`~support_lib.engine.Trace` they return.

Without ``mock_url`` a run uses the kit's mock server, started inside this process on
first use (a free port and an in-memory database, private to this process).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx

from .engine import Observer, Trace, Workflow
from .llm import LLM, Backend, resolve_backend, tls_context
from .workflow import DEFAULT_EMAIL, DEFAULT_MESSAGE, build_workflow

MAX_MESSAGE_CHARS = 8000
"""Longer messages are refused before any call is made (about 2,000 tokens of text)."""


class InvalidMessageError(ValueError):
    """The customer message cannot be processed (empty or too long)."""


@dataclass
class Deps:
    """The services every node of a run shares (the engine passes them through)."""

    llm: LLM
    http: httpx.AsyncClient
    api_base_url: str
    api_token: str = "demo-token"
    """Bearer token for the account API; ``SUPPORT_API_TOKEN`` sets it (the mock accepts any)."""


_server: Any = None


def mock_server(port: int | None = None, db_path: str | None = None) -> Any:
    """The kit's mock server for this process: started on first use, then reused.

    By default each process (each notebook kernel) gets its own server on a free port
    with an in-memory database, so two open lessons never mix their request logs.
    ``SUPPORT_KIT_MOCK_PORT`` or ``port=8081`` asks for a fixed port (as the Go demo used).
    """
    global _server
    from mock_server import start_server

    if _server is not None and _server.running and port in (None, _server.port):
        return _server
    wanted = port if port is not None else int(os.environ.get("SUPPORT_KIT_MOCK_PORT", "0"))
    _server = start_server(port=wanted, db_path=db_path or ":memory:")
    return _server


def check_message(message: str) -> str:
    """Refuse what no model should be sent, with a message a learner can act on."""
    if not isinstance(message, str):
        raise InvalidMessageError(f"the message must be text, not {type(message).__name__}")
    text = message.strip()
    if not text:
        raise InvalidMessageError("the message is empty: type what the customer wrote")
    if len(text) > MAX_MESSAGE_CHARS:
        raise InvalidMessageError(
            f"the message has {len(text):,} characters; the limit is {MAX_MESSAGE_CHARS:,}. "
            "Shorten it or split it into several messages."
        )
    return text


def new_ticket_id() -> str:
    return f"TICKET-{secrets.token_hex(4).upper()}"


def make_inputs(
    message: str = DEFAULT_MESSAGE,
    *,
    email: str | None = None,
    ticket_id: str | None = None,
    history: str | None = None,
) -> dict[str, Any]:
    """The workflow's inputs with the spec's defaults filled in."""
    return {
        "customer_message": check_message(message),
        "customer_email": (email or "").strip() or DEFAULT_EMAIL,
        "ticket_id": ticket_id or new_ticket_id(),
        "history": history or "none",
    }


async def arun(
    message: str = DEFAULT_MESSAGE,
    *,
    email: str | None = None,
    ticket_id: str | None = None,
    history: str | None = None,
    mock_url: str | None = None,
    backend: Backend | None = None,
    workflow: Workflow | None = None,
    max_regenerations: int = 1,
    escalation: str = "llm",
    observers: Iterable[Observer] = (),
    check: bool = True,
) -> Trace:
    """Run the customer-support workflow once and return its trace.

    ``mock_url`` points at a running mock server (else one is started in-process);
    ``backend`` overrides the choice made from the environment (see ``llm.py``);
    ``workflow`` replaces the standard graph (a lesson's variant); ``check=False``
    returns a failed trace instead of raising ``WorkflowRunError``.
    """
    inputs = make_inputs(message, email=email, ticket_id=ticket_id, history=history)
    base_url = (mock_url or mock_server().url).rstrip("/")
    backend = backend or resolve_backend(offline_base_url=base_url + "/v1")
    wf = workflow or build_workflow(max_regenerations=max_regenerations, escalation=escalation)
    llm = LLM(backend)
    try:
        async with httpx.AsyncClient(timeout=15.0, verify=tls_context()) as http:
            token = os.environ.get("SUPPORT_API_TOKEN", "demo-token")
            deps = Deps(llm=llm, http=http, api_base_url=base_url, api_token=token)
            trace = await wf.arun(inputs, deps=deps, observers=observers, check=False)
    finally:
        await llm.aclose()
    trace.meta["backend"] = backend.describe()
    trace.meta["model"] = backend.model
    if check:
        trace.raise_for_status()
    return trace


def run(message: str = DEFAULT_MESSAGE, **kwargs: Any) -> Trace:
    """``arun`` for synchronous code. Inside Jupyter (an event loop is already running)
    it runs the workflow on a worker thread with its own loop, instead of patching the
    kernel's loop with nest_asyncio."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(arun(message, **kwargs))
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, arun(message, **kwargs)).result()
