"""Command line: run the workflow once and print the Go demo's report (or the trace as JSON).

    python -m support_lib --message "My parcel is late" [--email a@b.c] [--json]

Without ``--mock-url`` it starts the kit's mock server itself on a free port. Errors end
with one readable paragraph and exit code 1 (2 for bad arguments), never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

import httpx

from mock_server import MockServer, start_server

from .metrics import compute_metrics
from .report import format_report
from .run import InvalidMessageError, arun
from .workflow import DEFAULT_MESSAGE


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m support_lib",
        description="Run the AI customer-support workflow once (offline unless "
        "OPENAI_API_KEY or OPENAI_BASE_URL is set).",
    )
    parser.add_argument("--message", default=DEFAULT_MESSAGE, help="the customer's message")
    parser.add_argument("--email", default=None, help="the customer's email address")
    parser.add_argument("--ticket-id", default=None, help="ticket id (default: random)")
    parser.add_argument("--mock-url", default=None, help="use a mock server already running")
    parser.add_argument(
        "--escalation", choices=("llm", "rules"), default="llm", help="escalation check"
    )
    parser.add_argument("--max-regenerations", type=int, default=1, metavar="N")
    parser.add_argument("--json", action="store_true", help="print the trace as JSON")
    return parser.parse_args(argv)


def _last_id(entries: list[dict[str, Any]]) -> int:
    return max((entry["id"] for entry in entries), default=0)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = None
    try:
        if args.mock_url:
            server = MockServer(args.mock_url.rstrip("/"), owned=False)
            if not server.running:
                raise ConnectionError(
                    f"cannot reach the mock server at {server.url}. Start it with "
                    "`python -m mock_server`, or leave out --mock-url and the CLI starts one "
                    "itself."
                )
        else:
            server = started = start_server(port=0, db_path=":memory:")
        before = _last_id(server.requests())
        trace = asyncio.run(
            arun(
                args.message,
                email=args.email,
                ticket_id=args.ticket_id,
                mock_url=server.url,
                escalation=args.escalation,
                max_regenerations=args.max_regenerations,
                check=False,
            )
        )
        requests = [e for e in server.requests() if e["id"] > before]
    except (InvalidMessageError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (ConnectionError, OSError, httpx.HTTPError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # the promise: one readable paragraph, never a traceback
        print(
            f"error: unexpected {type(exc).__name__}: {exc}. This is a bug in the kit; "
            "please report it with the command you ran.",
            file=sys.stderr,
        )
        return 1
    finally:
        if started is not None:
            started.stop()

    if args.json:
        data = trace.to_dict()
        data["node_status"] = {run.node: run.status for run in trace.node_runs}
        data["metrics"] = compute_metrics(trace)
        data["mock_requests"] = [
            {key: entry.get(key) for key in ("method", "path", "body", "status")}
            for entry in requests
        ]
        print(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    else:
        print(format_report(trace))
    if trace.status == "failed":
        print(
            f"error: the workflow failed: {trace.error}. Completed before the failure: "
            + ", ".join(r.node for r in trace.node_runs if r.status == "completed"),
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
