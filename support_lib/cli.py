"""Command line: run the workflow once and print its report (or the trace as JSON).

    python -m support_lib --message "My parcel is late" [--email a@b.c] [--json]
    python -m support_lib --message M --require-approval [--db FILE] [--mock-url URL] [--json]
    python -m support_lib waiting [--db FILE] [--json]
    python -m support_lib resume RUN_ID (--approve | --edit FILE | --reject) [--by NAME]
                                 [--db FILE] [--mock-url URL] [--json]
    python -m support_lib doctor      # will the kit work here? (exit 0 only if so)

Without ``--mock-url`` it starts the kit's mock server itself on a free port. With
``--require-approval`` people are in the loop: a high-stakes or escalated run stops with
status "waiting", is kept in ``--db`` (default ``$SUPPORT_KIT_DB`` or
``support_kit.sqlite3`` here), and ``resume`` carries it on in any later process.
Errors end with one readable paragraph and exit code 1 (2 for bad arguments), never a
traceback. Customer text is printed with terminal control characters made visible.
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import signal
import sqlite3
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

from .terminal import SafeArgumentParser, terminal_safe


def run_parser() -> argparse.ArgumentParser:
    from .inputs import DEFAULT_MESSAGE

    parser = SafeArgumentParser(
        prog="python -m support_lib",
        description="Run the AI customer-support workflow once (offline unless "
        "OPENAI_API_KEY or OPENAI_BASE_URL is set). Other commands: waiting, resume, doctor.",
    )
    parser.add_argument("--message", default=DEFAULT_MESSAGE, help="the customer's message")
    parser.add_argument("--email", default=None, help="the customer's email address")
    parser.add_argument("--ticket-id", default=None, help="ticket id (default: random)")
    parser.add_argument(
        "--escalation", choices=("llm", "rules"), default="llm", help="escalation check"
    )
    parser.add_argument("--max-regenerations", type=int, default=1, metavar="N")
    parser.add_argument(
        "--require-approval",
        action="store_true",
        help="people in the loop: high-stakes replies wait for approval, agents answer "
        "escalated cases (the run may end 'waiting')",
    )
    _common(parser)
    return parser


def _common(parser: argparse.ArgumentParser, *, mock: bool = True) -> None:
    if mock:
        parser.add_argument("--mock-url", default=None, help="use a mock server already running")
    parser.add_argument("--db", default=None, help="where waiting runs are kept (SQLite)")
    parser.add_argument("--json", action="store_true", help="print JSON")


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):  # never a UnicodeEncodeError on a strict console
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    argv = sys.argv[1:] if argv is None else argv
    commands = {"doctor": _doctor, "waiting": _waiting, "resume": _resume}
    command = commands.get(argv[0]) if argv else None

    stops = _stop_signals_interrupt()
    try:
        return command(argv[1:]) if command else _run_once(argv)
    except KeyboardInterrupt as exc:  # with --db the run is kept failed, to resume later
        print("error: interrupted", file=sys.stderr)
        for note in getattr(exc, "__notes__", []):
            print(terminal_safe(f"  {note}"), file=sys.stderr)
        return 130
    except Exception as exc:  # the promise: one readable paragraph, never a traceback
        print(terminal_safe(f"error: {_explain(exc)}"), file=sys.stderr)
        return 1
    finally:
        for number, handler in stops.items():
            signal.signal(number, handler)


def _stop_signals_interrupt() -> dict[int, Any]:
    """SIGTERM (``kill``, ``docker stop``) and SIGHUP (the terminal closed) stop the CLI as
    Ctrl+C does, so a run being resumed is left failed and resumable, not claimed for ever.
    Returns the handlers to put back. Only in the main thread (the only one signals reach)."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    numbers = [getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)]
    return {number: signal.signal(number, signal.default_int_handler) for number in numbers}


def _doctor(argv: list[str]) -> int:
    from .doctor import main as doctor

    return doctor()


def _run_once(argv: list[str]) -> int:
    args = run_parser().parse_args(argv)
    from .inputs import InvalidInputError, make_inputs

    try:
        inputs = make_inputs(args.message, email=args.email, ticket_id=args.ticket_id)
        if args.max_regenerations < 0:
            raise ValueError("--max-regenerations must be 0 or more")
    except (InvalidInputError, ValueError) as exc:
        print(terminal_safe(f"error: {exc}"), file=sys.stderr)
        return 2
    if not args.json:  # the first line at once; the run takes a second or two
        from .report import HEADER

        print(HEADER, flush=True)
    from . import kit

    workflow = kit.standard_workflow(args.max_regenerations, args.escalation, args.require_approval)
    store = kit.run_store(args.db) if args.require_approval or args.db else None
    run_id = f"run-{uuid.uuid4().hex[:12]}"  # known here, to name the run if it is stopped
    try:
        trace, requests = _against_mock(
            args,
            lambda url: kit.arun(
                inputs, workflow=workflow, mock_url=url, store=store, run_id=run_id, check=False
            ),
        )
    except KeyboardInterrupt as exc:  # Ctrl+C, SIGTERM: the store kept what was done
        if store is not None and store.path != ":memory:" and _kept(store, run_id):
            mock = f" --mock-url {shlex.quote(args.mock_url)}" if args.mock_url else ""
            exc.__notes__ = [  # in place of kit.arun's note, if it came through it
                f"run {run_id} was kept; carry it on with:",
                f"python -m support_lib resume {run_id} --db {shlex.quote(str(store.path))}{mock}",
            ]
        raise
    return _finish(trace, requests, args.json)


def _kept(store: Any, run_id: str) -> bool:
    from .engine.errors import ResumeError

    try:
        return store.load(run_id).status in ("failed", "waiting")
    except ResumeError:  # stopped before its first node: nothing to keep
        return False


def _against_mock(args: argparse.Namespace, make_run: Any) -> tuple[Any, list[dict[str, Any]]]:
    """One run (or resume) against the given mock server, or a private one started for it;
    the trace and the requests the mock received meanwhile."""
    from . import kit

    server = kit.connect_mock(args.mock_url) if args.mock_url else kit.start_mock()
    try:
        before = max((entry["id"] for entry in server.requests()), default=0)
        trace = asyncio.run(make_run(server.url))
        return trace, [e for e in server.requests() if e["id"] > before]
    finally:
        if not args.mock_url:
            server.stop()


def _finish(trace: Any, requests: list[dict[str, Any]], as_json: bool) -> int:
    _print(trace, requests, as_json)
    if trace.status == "failed":
        done = [r.node for r in trace.node_runs if r.status == "completed"]
        before = f" Completed before the failure: {', '.join(done)}." if done else ""
        failed = f"error: the workflow failed: {trace.error}.{before}"
        print(terminal_safe(failed), file=sys.stderr)
        return 1
    if trace.status == "waiting" and not as_json:
        print(
            f"Resume it with: python -m support_lib resume {trace.run_id} "
            "(--approve | --edit FILE | --reject)"
        )
    return 0


def _waiting(argv: list[str]) -> int:
    parser = SafeArgumentParser(
        prog="python -m support_lib waiting", description="The runs waiting for a person."
    )
    _common(parser, mock=False)
    args = parser.parse_args(argv)
    from . import kit
    from .terminal import terminal_json

    runs = kit.run_store(args.db).waiting()
    if args.json:
        print(terminal_json(runs))
        return 0
    if not runs:
        print("No run is waiting for a person.")
    for run in runs:  # one line each: a customer's line breaks must not make up runs
        question = run["question"] or {}
        why = question.get("why")
        what = "; ".join(why) if isinstance(why, list) else str(question.get("message") or "")
        what = " ".join(what.split())
        what = what if len(what) <= 80 else what[:79] + "…"
        print(terminal_safe(f"{run['run_id']}  {run['node']}  since {run['since']}  {what}"))
    return 0


def _resume(argv: list[str]) -> int:
    parser = SafeArgumentParser(
        prog="python -m support_lib resume",
        description="Give a waiting run a person's answer, or carry on a failed run (no "
        "answer): what it already did is not done again.",
    )
    parser.add_argument("run_id")
    choice = parser.add_mutually_exclusive_group()
    choice.add_argument("--approve", action="store_true", help="send the reply as it is")
    choice.add_argument("--edit", metavar="FILE", help="send this file's text instead")
    choice.add_argument("--reject", action="store_true", help="an agent writes the reply")
    parser.add_argument("--by", default="a support lead", help="who answers (for the log)")
    _common(parser)
    args = parser.parse_args(argv)
    from . import kit

    store = kit.run_store(args.db)
    trace = store.load(args.run_id)
    carry_on = trace.status == "failed" and not _answered(args)
    answer = kit.NO_ANSWER if carry_on else _answer_for(trace, args)
    trace, requests = _against_mock(
        args, lambda url: kit.aresume(args.run_id, answer, store=store, mock_url=url, check=False)
    )
    return _finish(trace, requests, args.json)


def _answered(args: argparse.Namespace) -> bool:
    return bool(args.approve or args.edit is not None or args.reject)


def _answer_for(trace: Any, args: argparse.Namespace) -> dict[str, Any]:
    """The person's answer, in the shape the waiting node asks for."""
    from .engine import ResumeError
    from .workflow.human import answer_for

    if trace.status == "failed":
        raise ResumeError(
            f"run {trace.run_id} failed: there is nothing to answer; resume it without "
            "--approve, --edit or --reject to carry it on"
        )
    if trace.status != "waiting" or not trace.waiting_for:
        raise ResumeError(f"run {trace.run_id} is {trace.status}: there is nothing to answer")
    if not _answered(args):
        raise ValueError(
            f"run {trace.run_id} waits for a person: give --approve, --edit FILE or --reject"
        )
    try:
        text = Path(args.edit).read_text(encoding="utf-8") if args.edit else None
    except UnicodeDecodeError:
        raise ValueError(f"{args.edit} is not UTF-8 text: save it as UTF-8") from None
    decision = "edit" if text is not None else "approve" if args.approve else "reject"
    if trace.waiting_for["question"].get("kind") == "agent_reply" and text is None:
        raise ValueError(f"run {trace.run_id} waits for an agent's reply: give it with --edit FILE")
    return answer_for(trace.waiting_for["question"], decision, text, args.by)


def _explain(exc: Exception) -> str:
    from .engine import ResumeError
    from .inputs import InvalidInputError

    known = (ConnectionError, OSError, RuntimeError, ValueError, ResumeError, InvalidInputError)
    if isinstance(exc, known) or type(exc).__module__.startswith(("httpx", "pydantic")):
        return str(exc)
    if isinstance(exc, sqlite3.Error):  # --db names a folder, or a file that is no database
        return f"the run database cannot be used ({exc}); give --db a new or kit-made file"
    return (
        f"unexpected {type(exc).__name__}: {exc}. This is a bug in the kit; please report "
        "it with the command you ran."
    )


def _print(trace: Any, requests: list[dict[str, Any]], as_json: bool) -> None:
    from .metrics import compute_metrics
    from .report import format_report
    from .terminal import terminal_json

    if not as_json:
        print(terminal_safe(format_report(trace, header=False)))
        return
    data = trace.to_dict()
    data["node_status"] = {run.node: trace.status_of(run.node) for run in trace.node_runs}
    data["metrics"] = compute_metrics(trace)
    data["mock_requests"] = [
        {key: entry.get(key) for key in ("method", "path", "body", "status")} for entry in requests
    ]
    print(terminal_json(data))


if __name__ == "__main__":
    sys.exit(main())
