"""`python -m mock_server`: run the mock server in a terminal and print every request.

python -m mock_server [--host 127.0.0.1] [--port 8081] [--db PATH] [--latency-ms N] ...
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sqlite3
import sys
from typing import Any

import uvicorn
from pydantic import ValidationError

from support_lib.terminal import SafeArgumentParser, terminal_safe

from .app import create_app
from .constants import DEFAULT_HOST, DEFAULT_PORT, OFFLINE_MODEL_NAME
from .knobs import DEFAULT_FAULT_KINDS
from .request_log import format_request_log
from .runner import _port_in_use_message, _url, host_problem, port_number, probe_port


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = SafeArgumentParser(
        prog="python -m mock_server",
        description="The support kit's mock server: support APIs plus an offline model.",
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help="default: %(default)s")
    parser.add_argument(
        "--port", type=port_number, default=DEFAULT_PORT, help="default: %(default)s"
    )
    parser.add_argument(
        "--db",
        default=None,
        help="SQLite file (default: $SUPPORT_KIT_DB or "
        "./support_kit.sqlite3; ':memory:' keeps nothing)",
    )
    parser.add_argument("--latency-ms", type=float, default=0, help="delay per /v1 call")
    parser.add_argument("--per-token-ms", type=float, default=0, help="delay per token")
    parser.add_argument("--fault-rate", type=float, default=0.0, help="0..1 share of failures")
    parser.add_argument(
        "--fault-kinds",
        default=",".join(DEFAULT_FAULT_KINDS),
        help="comma list of 429,500,timeout,malformed (default: %(default)s)",
    )
    parser.add_argument("--fault-seed", type=int, default=0)
    parser.add_argument("--timeout-s", type=float, default=30.0, help="how long 'timeout' hangs")
    return parser.parse_args(argv)


def _print_entry(entry: dict[str, Any]) -> None:
    print(format_request_log([entry]), flush=True)


async def _serve(server: uvicorn.Server, db_path: str) -> int:
    task = asyncio.create_task(server.serve())
    while not server.started:  # the ready line needs the real port (--port 0 picks one)
        if task.done():
            return 1
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    url = _url(server.config.host, port)
    print(
        f"✅ Mock server ready at {url} (offline model {OFFLINE_MODEL_NAME} at {url}/v1, "
        f"database {db_path}). Press Ctrl+C to stop.",
        flush=True,
    )
    await task
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    if hasattr(sys.stdout, "reconfigure"):  # emoji on consoles that cannot show them
        sys.stdout.reconfigure(errors="replace")
    problem = host_problem(args.host)
    if problem:
        print(terminal_safe(problem), file=sys.stderr)
        return 2
    if args.port:
        state = probe_port(args.host, args.port)
        if state != "free":
            if state == "kit":
                print(f"A kit mock server is already running at {_url(args.host, args.port)}.")
            else:
                print(_port_in_use_message(args.port, args.host), file=sys.stderr)
            return 1
    try:
        app = create_app(
            args.db,
            on_request=_print_entry,
            latency_ms=args.latency_ms,
            per_token_ms=args.per_token_ms,
            fault_rate=args.fault_rate,
            fault_kinds=[k.strip() for k in args.fault_kinds.split(",") if k.strip()],
            fault_seed=args.fault_seed,
            timeout_s=args.timeout_s,
        )
    except ValidationError as exc:  # a knob value out of range
        for error in exc.errors():
            name = "--" + str(error["loc"][0]).replace("_", "-")
            print(f"Invalid option {name}: {error['msg']}", file=sys.stderr)
        return 2
    except (sqlite3.Error, OSError) as exc:  # --db in a missing folder, or no database
        print(terminal_safe(f"Cannot use the database {args.db!r}: {exc}"), file=sys.stderr)
        return 2
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=1,
    )
    # Requests still waiting at Ctrl+C get a 503 (errors.pause); uvicorn's note that it
    # cancelled them is noise on a learner's console.
    logging.getLogger("uvicorn.error").addFilter(
        lambda record: "graceful shutdown exceeded" not in record.getMessage()
    )
    try:
        status = asyncio.run(_serve(uvicorn.Server(config), app.state.store.path))
    except KeyboardInterrupt:  # uvicorn shuts down cleanly, then re-raises Ctrl+C
        status = 0
    if status == 0:
        print("Mock server stopped.", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
