"""Command line: run the workflow once and print its report (or the trace as JSON).

    python -m support_lib --message "My parcel is late" [--email a@b.c] [--json]
    python -m support_lib doctor      # will the kit work here? (exit 0 only if so)

Without ``--mock-url`` it starts the kit's mock server itself on a free port. Errors end
with one readable paragraph and exit code 1 (2 for bad arguments), never a traceback.
Customer text is printed with terminal control characters made visible, so a message
cannot clear the screen or retitle the terminal.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    from .workflow import DEFAULT_MESSAGE

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


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):  # never a UnicodeEncodeError on a strict console
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["doctor"]:
        from .doctor import main as doctor

        return doctor()
    args = parse_args(argv)
    from .inputs import InvalidInputError, make_inputs

    try:
        inputs = make_inputs(args.message, email=args.email, ticket_id=args.ticket_id)
        if args.max_regenerations < 0:
            raise ValueError("--max-regenerations must be 0 or more")
    except (InvalidInputError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not args.json:  # the first line at once; the run takes a second or two
        from .report import HEADER

        print(HEADER, flush=True)
    try:
        trace, requests = _run(args, inputs)
    except Exception as exc:  # the promise: one readable paragraph, never a traceback
        print(f"error: {_explain(exc)}", file=sys.stderr)
        return 1
    _print(trace, requests, args.json)
    if trace.status == "failed":
        done = [r.node for r in trace.node_runs if r.status == "completed"]
        before = f" Completed before the failure: {', '.join(done)}." if done else ""
        print(f"error: the workflow failed: {trace.error}.{before}", file=sys.stderr)
        return 1
    return 0


def _run(args: argparse.Namespace, inputs: dict[str, Any]) -> tuple[Any, list[dict[str, Any]]]:
    """One run against the given mock server, or a private one started for it."""
    from . import kit

    server = kit.connect_mock(args.mock_url) if args.mock_url else kit.start_mock()
    try:
        before = max((entry["id"] for entry in server.requests()), default=0)
        trace = asyncio.run(
            kit.arun(
                inputs,
                workflow=kit.standard_workflow(args.max_regenerations, args.escalation),
                mock_url=server.url,
                check=False,
            )
        )
        return trace, [e for e in server.requests() if e["id"] > before]
    finally:
        if not args.mock_url:
            server.stop()


def _explain(exc: Exception) -> str:
    known = (ConnectionError, OSError, RuntimeError, ValueError)
    if isinstance(exc, known) or type(exc).__module__.startswith("httpx"):
        return str(exc)
    return (
        f"unexpected {type(exc).__name__}: {exc}. This is a bug in the kit; please report "
        "it with the command you ran."
    )


def _print(trace: Any, requests: list[dict[str, Any]], as_json: bool) -> None:
    from .metrics import compute_metrics
    from .report import format_report
    from .terminal import terminal_safe

    if not as_json:
        print(terminal_safe(format_report(trace, header=False)))
        return
    data = trace.to_dict()
    data["node_status"] = {run.node: trace.status_of(run.node) for run in trace.node_runs}
    data["metrics"] = compute_metrics(trace)
    data["mock_requests"] = [
        {key: entry.get(key) for key in ("method", "path", "body", "status")} for entry in requests
    ]
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str))


if __name__ == "__main__":
    sys.exit(main())
