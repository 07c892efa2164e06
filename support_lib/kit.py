"""The composition root: the one module that wires the kit together.

Everything a real run needs is assembled here and nowhere else: the mock server (the
kit's stand-in for the support APIs and, offline, for the model), the backend choice, the
model and HTTP clients, and the :class:`~support_lib.workflow.SupportDeps` that carry
them to the nodes. The engine, the nodes and the workflow never learn that a mock server
exists; the CLI, the app and the webhook service call the functions below.

- ``await arun(message)`` in a notebook, ``run(message)`` in a script: one run, its trace.
- ``arun(inputs, workflow=my_graph)`` runs a graph of your own with its own inputs.
- ``local_mock()``: this process's mock server, started on first use (a free port and an
  in-memory database, so two open notebooks never mix their logs).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import math
import os
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .engine import Observer, ResumeError, RunStore, Trace, Workflow
from .engine.nodes import NO_ANSWER
from .inputs import InvalidInputError, make_inputs
from .llm import Backend, ChatModel, OpenAIModel, resolve_backend
from .workflow import DEFAULT_MESSAGE, SupportDeps, build_workflow
from .workflow.build import Escalation
from .workflow.human import check_answer

if TYPE_CHECKING:
    from mock_server import MockServer

__all__ = [
    "InvalidInputError",
    "aresume",
    "arun",
    "connect_mock",
    "local_mock",
    "make_inputs",
    "open_deps",
    "port_problem",
    "run_store",
    "run",
    "serve_app",
    "start_mock",
    "Timeouts",
    "standard_workflow",
    "workflow_of",
]


@dataclass(frozen=True)
class Timeouts:
    """How long things may take, in one place, nested so that the inner limit fires first:

    a model call (``model_call_s``, the client gives up and the engine retries) < the mock
    server's simulated hang (its ``timeout_s`` knob, 30 s) < a whole run (``run_s``, then
    the run fails and can be resumed). A support-API call has its own ``api_call_s``.

    ``SUPPORT_KIT_MODEL_TIMEOUT`` sets the model call's limit (a small model on a CPU may
    need minutes); the run's limit follows it unless ``SUPPORT_KIT_RUN_TIMEOUT`` is set."""

    model_call_s: float = 20.0
    api_call_s: float = 10.0
    run_s: float = 200.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Timeouts:
        """The limits, with the environment's; a setting that is not a positive number of
        seconds ("20s", "nan", "-1") is refused with its name, before any run starts."""
        env = os.environ if env is None else env
        model = _seconds(env, "SUPPORT_KIT_MODEL_TIMEOUT", cls.model_call_s)
        run = _seconds(env, "SUPPORT_KIT_RUN_TIMEOUT", max(cls.run_s, 10 * model))
        return cls(model_call_s=model, run_s=run)


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    text = env.get(name, "").strip()
    try:
        value = float(text) if text else default
    except ValueError:
        value = math.nan
    if not (0.1 <= value < math.inf):  # 1e-9 s would time out every call
        raise ValueError(f"{name}={text!r} is not a number of seconds, 0.1 or more (like 120)")
    return value


_local: MockServer | None = None


def local_mock(port: int | None = None, db_path: str | None = None) -> MockServer:
    """This process's mock server: started on first use, then reused.

    By default each process (each notebook kernel) gets its own server on a free port
    with an in-memory database. ``SUPPORT_KIT_MOCK_PORT`` or ``port=8081`` asks for a fixed
    port (as the original demo used)."""
    global _local
    if _local is not None and _local.running and port in (None, _local.port):
        return _local
    wanted = port if port is not None else int(os.environ.get("SUPPORT_KIT_MOCK_PORT", "0"))
    _local = start_mock(port=wanted, db_path=db_path or ":memory:")
    return _local


def start_mock(port: int = 0, db_path: str = ":memory:") -> MockServer:
    """A new mock server in a background thread, owned by the caller (``.stop()`` it)."""
    from mock_server import start_server

    return start_server(port=port, db_path=db_path)


def connect_mock(url: str) -> MockServer:
    """A handle on a mock server that is already running at ``url``
    ("http://127.0.0.1:8000"; its OpenAI base URL, ending in "/v1", is taken too)."""
    from urllib.parse import urlsplit

    from mock_server import MockServer

    url = url.strip().rstrip("/").removesuffix("/v1")
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:  # "http://host:70000", "http://host:abc"
        port = None
    if parts.scheme not in ("http", "https") or not parts.hostname or not port or parts.path:
        raise ValueError(
            f"{url!r} is not a mock server's address: give its scheme, host and port, "
            "like http://127.0.0.1:8000"
        )
    server = MockServer(url, owned=False)
    if not server.running:
        raise ConnectionError(
            f"cannot reach the mock server at {server.url}. Start it with "
            "`python -m mock_server`, or leave out the URL and the kit starts one itself."
        )
    return server


def port_number(text: str) -> int:
    """An argparse type: a TCP port, 0 (any free one) to 65535 (the mock server's rule)."""
    from mock_server.runner import port_number as checked

    return checked(text)


def host_problem(host: str) -> str | None:
    """Why ``host`` cannot be listened on (the mock server's rule), or None."""
    from mock_server.runner import host_problem as problem

    return problem(host)


def port_problem(host: str, port: int) -> str | None:
    """Why ``port`` cannot be served on (whose it is, what to do), or None when it is free."""
    from mock_server.runner import _port_in_use_message, probe_port

    if port == 0 or probe_port(host, port) == "free":
        return None
    return _port_in_use_message(port, host)


def serve_app(app: Any, host: str, port: int, name: str) -> Any:
    """Run an ASGI app with uvicorn in a daemon thread (the webhook service uses it)."""
    from mock_server.runner import serve_in_thread

    return serve_in_thread(app, host, port, name=name)


@functools.cache
def standard_workflow(
    max_regenerations: int = 1, escalation: Escalation = "llm", human_in_the_loop: bool = False
) -> Workflow:
    """The support workflow, built and checked once per variant (runs share it)."""
    return build_workflow(
        max_regenerations=max_regenerations,
        escalation=escalation,
        human_in_the_loop=human_in_the_loop,
    )


def run_store(path: str | os.PathLike[str] | None = None) -> RunStore:
    """Where runs that wait for a person are kept: ``path``, else ``$SUPPORT_KIT_DB``,
    else ``support_kit.sqlite3`` in the current folder (the mock server's default too)."""
    from mock_server.store import resolve_db_path

    return RunStore(resolve_db_path(path))


@asynccontextmanager
async def open_deps(
    api_base_url: str, backend: Backend | None = None, llm: ChatModel | None = None
) -> AsyncIterator[SupportDeps]:
    """The services of one run: a model client for ``backend`` (by default the one the
    environment picks, offline at ``api_base_url + "/v1"``) unless ``llm`` is given, an
    HTTP client, the API address and token. Both clients are closed afterwards."""
    import httpx

    from .llm import tls_context

    base = api_base_url.rstrip("/")
    limits = Timeouts.from_env()
    model = llm or OpenAIModel(
        backend or resolve_backend(offline_base_url=base + "/v1"), timeout=limits.model_call_s
    )
    try:
        async with httpx.AsyncClient(timeout=limits.api_call_s, verify=tls_context()) as http:
            token = os.environ.get("SUPPORT_API_TOKEN", "demo-token")
            yield SupportDeps(llm=model, http=http, api_base_url=base, api_token=token)
    finally:
        if isinstance(model, OpenAIModel) and llm is None:
            await model.aclose()


def _inputs_for(workflow: Workflow, message: Any, extra: dict[str, Any]) -> dict[str, Any]:
    """A string is a customer message (the support inputs, those the graph takes); a
    mapping is the graph's own inputs. Either way, a customer message and the support
    inputs that come with it go through the one input policy (:func:`make_inputs`)."""
    if isinstance(message, Mapping):
        given = dict(message)
        if "customer_message" not in given:
            return given
        extra = {
            "email": given.get("customer_email"),
            "ticket_id": given.get("ticket_id"),
            "history": given.get("history"),
        }
        support = make_inputs(given["customer_message"], **extra)
        return given | {k: v for k, v in support.items() if k in given or k in workflow.inputs}
    support = make_inputs(message, **extra)
    return {key: value for key, value in support.items() if key in workflow.inputs}


async def arun(
    message: str | Mapping[str, Any] = DEFAULT_MESSAGE,
    *,
    email: str | None = None,
    ticket_id: str | None = None,
    history: str | None = None,
    workflow: Workflow | None = None,
    max_regenerations: int = 1,
    escalation: Escalation = "llm",
    mock_url: str | None = None,
    backend: Backend | None = None,
    llm: ChatModel | None = None,
    observers: Iterable[Observer] = (),
    check: bool = True,
    human_in_the_loop: bool = False,
    store: RunStore | None = None,
    run_id: str | None = None,
) -> Trace:
    """Run the support workflow (or ``workflow``) once and return its trace.

    ``message`` is the customer's text, or a mapping of inputs for a graph of your own.
    ``mock_url`` points at a running mock server (else this process's is used);
    ``backend`` overrides the environment's choice of model, and ``llm`` replaces the
    model client altogether (a scripted model in tests). ``check=False`` returns a failed
    trace instead of raising ``WorkflowRunError``. ``human_in_the_loop`` holds high-stakes
    replies for a person and lets agents answer escalated cases: such a run may end
    "waiting"; ``store`` keeps it (and every run) so any process can resume it. A run
    stopped by Ctrl+C, SIGTERM or a cancelled task is kept too, failed, and the exception
    carries a note with its run id (``run_id`` names the run in advance, else one is made).
    """
    wf = workflow or standard_workflow(max_regenerations, escalation, human_in_the_loop)
    inputs = _inputs_for(wf, message, {"email": email, "ticket_id": ticket_id, "history": history})
    base_url = mock_url or local_mock().url
    started: list[Trace] = []  # the run's trace, from its first event on

    def keep(event: str, record: Any, trace: Trace) -> None:
        started[:] = [trace]

    try:
        async with open_deps(base_url, backend, llm) as deps:
            deadline = Timeouts.from_env().run_s
            trace = await wf.arun(
                inputs,
                deps=deps,
                observers=[keep, *observers],
                run_id=run_id,
                check=False,
                deadline_s=deadline,
            )
            trace.meta["model"] = deps.llm.model_name
            if isinstance(deps.llm, OpenAIModel):
                trace.meta["backend"] = deps.llm.backend.describe()
    except BaseException as exc:  # Ctrl+C, SIGTERM, a cancelled task: the engine left the
        # run failed with its checkpoint (or it had ended just before): keep it as it is
        if store is not None and started and started[0].status != "running":
            store.save(started[0])
            exc.add_note(f"run {started[0].run_id} was kept in {store!r}: resume it to carry on")
        raise
    if store is not None:
        store.save(trace)
    return trace.raise_for_status() if check else trace


def workflow_of(trace: Trace) -> Workflow:
    """The standard workflow variant that made ``trace`` (for resuming it). Its budget of
    rewrites is the limit of its one loop edge (none: 0); the other choices are tried."""
    edges = trace.graph.get("edges", []) if isinstance(trace.graph, dict) else []
    limits = [e.get("loop_limit") for e in edges if isinstance(e, dict) and e.get("loop_limit")]
    regenerations = limits[0] if len(limits) == 1 and isinstance(limits[0], int) else 0
    for escalation in ("llm", "rules"):
        for human in (False, True):
            candidate = standard_workflow(regenerations, escalation, human)  # type: ignore[arg-type]
            if candidate.compile().description == trace.graph:
                return candidate
    raise ResumeError(f"run {trace.run_id} was not made by the standard workflow: pass workflow=")


async def aresume(
    run: Trace | str,
    answer: Any = NO_ANSWER,
    *,
    store: RunStore | None = None,
    workflow: Workflow | None = None,
    mock_url: str | None = None,
    backend: Backend | None = None,
    llm: ChatModel | None = None,
    observers: Iterable[Observer] = (),
    check: bool = True,
) -> Trace:
    """Carry on a run that stopped (waiting for a person, or failed) with fresh services:
    what it already did is not done again (see ``Workflow.aresume``). ``run`` is a trace,
    or a run id to take from ``store`` (only one resume of a run succeeds)."""
    claimed = isinstance(run, str) and store is not None
    # a claim older than the run deadline (and a minute) was made by a process now dead
    stale_after_s = Timeouts.from_env().run_s + 60
    trace = store.claim(run, stale_after_s) if claimed else run  # type: ignore[union-attr]
    if isinstance(trace, str):
        raise ResumeError("give a trace, or a run id and the store that keeps it")
    try:  # refused before anything runs: the run keeps waiting for a right answer
        wf = workflow or workflow_of(trace)
        if answer is not NO_ANSWER:
            check_answer(trace.waiting_for, answer)
    except BaseException:
        if claimed:
            store.release(trace.run_id)  # type: ignore[union-attr]
        raise
    try:
        async with open_deps(mock_url or local_mock().url, backend, llm) as deps:
            await wf.aresume(
                trace,
                answer=answer,
                deps=deps,
                observers=observers,
                check=False,
                deadline_s=Timeouts.from_env().run_s,
            )
    finally:  # interrupted too (Ctrl+C): the engine then leaves it failed, to carry on later
        if store is not None and trace.status != "running":
            store.save(trace)
    return trace.raise_for_status() if check else trace


def run(message: str | Mapping[str, Any] = DEFAULT_MESSAGE, **kwargs: Any) -> Trace:
    """``arun`` for synchronous code. Inside Jupyter (an event loop is already running)
    it runs the workflow on a worker thread with its own loop, instead of patching the
    kernel's loop with nest_asyncio."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(arun(message, **kwargs))
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, arun(message, **kwargs)).result()
