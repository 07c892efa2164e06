"""Start the mock server from Python (notebooks, tests) and talk to it through a handle.

`start_server()` runs uvicorn in a daemon thread, never on the caller's event loop: Jupyter
kernels already run a loop, and sync clients (httpx, the sync OpenAI client) would deadlock
against a server sharing it. Nothing is printed while it runs; read the request log with
`handle.requests()` and print it with `format_request_log(...)` when you want it.
"""

from __future__ import annotations

import argparse
import math
import os
import socket
import threading
import time
import warnings
from collections.abc import Iterable
from typing import Any, Literal

import httpx
import uvicorn

from .app import create_app
from .constants import DEFAULT_HOST, DEFAULT_PORT, SERVICE_NAME
from .knobs import DEFAULT_FAULT_KINDS, Knobs
from .store import resolve_db_path

START_TIMEOUT_S = 10.0


class PortInUseError(RuntimeError):
    """The port is taken by a program that is not the kit's mock server."""


# Servers this process started, by port: re-running a notebook cell returns the same one.
_servers: dict[int, MockServer] = {}
_servers_lock = threading.Lock()


def _url(host: str, port: int) -> str:
    if host in ("", "0.0.0.0", "::"):  # listening everywhere: talk to it over loopback
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _client(base_url: str, timeout: float = 5.0) -> httpx.Client:
    # trust_env=False: a proxy from the environment must never see loopback calls.
    return httpx.Client(base_url=base_url, timeout=timeout, trust_env=False)


def probe_port(host: str, port: int) -> Literal["free", "kit", "other"]:
    """Is anything listening on the port, and if so, is it the kit's mock server?"""
    url = _url(host, port)
    connect_host = url.split("//", 1)[1].rsplit(":", 1)[0].strip("[]")
    try:
        with socket.create_connection((connect_host, port), timeout=0.5):
            pass
    except OSError:
        return "free"
    try:
        with _client(url, timeout=1.0) as client:
            if client.get("/health").json().get("service") == SERVICE_NAME:
                return "kit"
    except (httpx.HTTPError, ValueError, AttributeError):
        pass
    return "other"


def _port_in_use_message(port: int, host: str = DEFAULT_HOST) -> str:
    """Why ``port`` cannot be used, and what to do; says whose it is when it is the kit's."""
    if probe_port(host, port) == "kit":
        who = f"the support kit's own mock server is already running at {_url(host, port)}"
        use = "use it (e.g. --mock-url), stop it, "
    else:
        who = "another program (not the support kit's mock server) is using it"
        use = "stop that program, "
    return (
        f"Port {port} is taken: {who}. To go on, {use}pick another port (e.g. {port + 1}), "
        "or use port 0 to get a free one."
    )


def start_server(
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    *,
    db_path: str | os.PathLike[str] | None = None,
    latency_ms: float = 0,
    per_token_ms: float = 0,
    fault_rate: float = 0.0,
    fault_kinds: Iterable[str] | str = DEFAULT_FAULT_KINDS,
    fault_seed: int = 0,
    timeout_s: float = 30.0,
) -> MockServer:
    """Start the mock server (or reuse a running one) and wait until it answers.

    - The port already served by this process: returns that same handle.
    - The kit's server from another process (e.g. `python -m mock_server`) on the port:
      returns a handle to it with `owned=False`.
    - Anything else on the port: raises PortInUseError. `port=0` picks a free port.
    In both reuse cases the knobs given here are applied to the running server.
    """
    knobs: dict[str, Any] = Knobs(
        latency_ms=latency_ms,
        per_token_ms=per_token_ms,
        fault_rate=fault_rate,
        fault_kinds=fault_kinds if isinstance(fault_kinds, str) else tuple(fault_kinds),
        fault_seed=fault_seed,
        timeout_s=timeout_s,
    ).model_dump(exclude={"fault_paths"})  # validated before anything starts

    with _servers_lock:
        if port:
            handle = _servers.get(port)
            if handle is None or not handle.running:
                state = probe_port(host, port)
                if state == "other":
                    raise PortInUseError(_port_in_use_message(port))
                handle = MockServer(_url(host, port), owned=False) if state == "kit" else None
            if handle is not None:
                if db_path is not None and resolve_db_path(db_path) != handle.db_path:
                    warnings.warn(
                        f"The server at {handle.url} already uses the database {handle.db_path}; "
                        f"db_path={db_path!r} is ignored. Stop it first to change the database.",
                        stacklevel=2,
                    )
                handle.configure(**knobs)
                return handle

        handle = _launch(host, port, db_path, knobs)
        _servers[handle.port] = handle
        return handle


class ThreadedServer:
    """A uvicorn server running in a daemon thread (never on the caller's event loop)."""

    def __init__(self, server: uvicorn.Server, thread: threading.Thread, host: str):
        self.server = server
        self.thread = thread
        self.port: int = server.servers[0].sockets[0].getsockname()[1]
        self.url = _url(host, self.port)

    def stop(self, timeout: float = 5.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)


def serve_in_thread(
    app: Any, host: str = DEFAULT_HOST, port: int = 0, *, name: str = "server"
) -> ThreadedServer:
    """Run an ASGI app with uvicorn in a background thread; return once it is bound.

    A bind failure makes uvicorn call sys.exit inside the thread, so `started` never
    becomes true: watching `thread.is_alive()` turns that into a clear PortInUseError.
    `port=0` takes a free port (read it from the returned object's `.port`).
    """
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"{name}-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive():
            if port:
                raise PortInUseError(
                    f"The {name} could not start. " + _port_in_use_message(port, host)
                )
            raise RuntimeError(f"The {name} thread stopped during start-up (see above).")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"The {name} did not start within {START_TIMEOUT_S:.0f} s.")
        time.sleep(0.01)
    return ThreadedServer(server, thread, host)


def _launch(
    host: str, port: int, db_path: str | os.PathLike[str] | None, knobs: dict[str, Any]
) -> MockServer:
    app = create_app(db_path, **knobs)
    try:
        running = serve_in_thread(app, host, port, name="mock-server")
    except Exception:
        app.state.store.close()
        raise
    deadline = time.monotonic() + START_TIMEOUT_S
    handle = MockServer(running.url, owned=True, server=running.server, thread=running.thread)
    while True:  # started means bound; wait until a request really gets an answer
        try:
            handle._client.get("/health", timeout=0.5).raise_for_status()
            return handle
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                handle.stop()
                raise RuntimeError("The mock server started but /health does not answer.") from None
            time.sleep(0.01)


def port_number(text: str) -> int:
    """An argparse type: a TCP port, 0 (any free one) to 65535."""
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port: give 0 to 65535 (0: any free)")
    return port


def host_problem(host: str) -> str | None:
    """Why ``host`` cannot be listened on (no such address or name), or None. An empty
    host would listen on every interface: it is refused, "0.0.0.0" says so on purpose."""
    if not host.strip():
        return "give a host to listen on, such as 127.0.0.1 (or 0.0.0.0 for every interface)"
    try:
        socket.getaddrinfo(host, None)
    except (OSError, UnicodeError) as exc:
        return f"cannot listen on host {host!r} ({exc}): give an address such as 127.0.0.1"
    return None


class MockServer:
    """Handle to a running mock server (started here, or by another process)."""

    def __init__(
        self,
        url: str,
        *,
        owned: bool,
        server: uvicorn.Server | None = None,
        thread: threading.Thread | None = None,
    ) -> None:
        self.url = url
        self.port = int(url.rsplit(":", 1)[1])
        self.owned = owned
        self._server = server
        self._thread = thread
        self._client = _client(url)
        self._db_path: str | None = None
        self._stopped = False

    def __repr__(self) -> str:
        return f"MockServer(url={self.url!r}, owned={self.owned})"

    @property
    def openai_base_url(self) -> str:
        """Pass this as `OpenAI(base_url=...)` to use the offline model."""
        return self.url + "/v1"

    @property
    def running(self) -> bool:
        if self.owned:
            alive = self._thread is not None and self._thread.is_alive()
            return alive and not self._stopped
        try:
            return self._client.get("/health", timeout=0.5).status_code == 200
        except httpx.HTTPError:
            return False

    @property
    def db_path(self) -> str:
        """Absolute path of the SQLite file (or ':memory:'), as the server reports it."""
        if self._db_path is None:
            self._db_path = self._call("GET", "/_info")["db_path"]
        return self._db_path

    def requests(self, path_prefix: str | None = None) -> list[dict[str, Any]]:
        """The request log, oldest first (see request_log.py for the entry fields)."""
        params = {"path_prefix": path_prefix} if path_prefix else None
        return self._call("GET", "/_requests", params=params)

    def clear_requests(self) -> None:
        self._call("DELETE", "/_requests")

    def reset(self) -> None:
        """Empty the request log and the database tables; every knob back to its default."""
        self._call("POST", "/_reset")

    def configure(self, **knobs: Any) -> dict[str, Any]:
        """Change lesson knobs at runtime (latency_ms, per_token_ms, fault_rate, fault_kinds,
        fault_seed, fault_limit, timeout_s, fault_paths); returns all knobs. Restarts the fault
        sequence.

        The model knobs act on this server's offline model only: when the environment sends
        the kit's model calls elsewhere (``OPENAI_API_KEY`` / ``OPENAI_BASE_URL``, see
        ``support_lib.llm.resolve_backend``), a warning says they will change nothing there."""
        for name, value in knobs.items():  # JSON has no inf or nan: say which knob, here
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"{name}={value!r}: a knob's value must be a finite number")
        model_knobs = {"latency_ms", "per_token_ms", "sloppy_writer", "fault_rate"} & set(knobs)
        paths = knobs.get("fault_paths", ("/v1",))  # faults on the support APIs hit any model
        if not any(str(p).startswith("/v1") for p in paths):
            model_knobs.discard("fault_rate")
        elsewhere = os.environ.get("OPENAI_API_KEY", "").strip() or (
            os.environ.get("OPENAI_BASE_URL", "").strip().rstrip("/") != self.openai_base_url
            and os.environ.get("OPENAI_BASE_URL", "").strip()
        )
        if model_knobs and elsewhere and any(knobs[k] for k in model_knobs):
            warnings.warn(
                f"{', '.join(sorted(model_knobs))}: these knobs act on this mock server's offline "
                "model, but OPENAI_API_KEY or OPENAI_BASE_URL sends model calls elsewhere",
                stacklevel=2,
            )
        return self._call("POST", "/_config", json=knobs)

    def query(self, sql: str, params: Iterable[Any] = ()) -> list[dict[str, Any]]:
        """Run a read-only SQL statement on the server's database, rows as dicts."""
        return self._call("POST", "/_sql", json={"sql": sql, "params": list(params)})

    def stop(self) -> None:
        """Stop the server if this process started it; safe to call twice."""
        if not self.owned:
            print(
                f"{self!r} was started by another process; stop() leaves it running. "
                "Stop it where it was started (Ctrl+C in its terminal)."
            )
            return
        if self._stopped:
            return
        self._stopped = True
        assert self._server is not None and self._thread is not None
        self._server.should_exit = True
        self._thread.join(timeout=5)
        if self._thread.is_alive():  # a request still hangs: stop without waiting for it
            self._server.force_exit = True
            self._thread.join(timeout=5)
        self._client.close()
        with _servers_lock:
            if _servers.get(self.port) is self:
                del _servers[self.port]

    def __enter__(self) -> MockServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        if self._stopped:
            raise RuntimeError(f"{self!r} has been stopped; start a new one with start_server().")
        response = self._client.request(method, path, **kwargs)
        if response.status_code >= 400:
            try:
                message = response.json()["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = response.text
            error = ValueError if response.status_code < 500 else RuntimeError
            raise error(f"{method} {path} failed ({response.status_code}): {message}")
        return response.json()
