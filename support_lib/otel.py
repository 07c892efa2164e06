"""A run's trace as OpenTelemetry spans, for any tracing tool (an optional extra).

Every run already leaves a :class:`~support_lib.engine.Trace`. This module turns one into
OpenTelemetry spans after the run, following the OpenTelemetry GenAI semantic conventions,
so that Jaeger, Grafana Tempo, Phoenix, Honeycomb or any other OTLP tool can show it::

    pip install -e ".[otel]"          # opentelemetry-api, -sdk and the OTLP/HTTP exporter

    from support_lib import run
    from support_lib.otel import export, print_spans, trace_to_spans

    trace = run("I was charged twice for order #12345!")
    print_spans(trace)                # a readable summary, for a lesson
    export(trace, "http://localhost:4318")   # to an OTLP/HTTP collector

What the spans are:

- one root span per run, ``invoke_workflow customer_support`` (``gen_ai.operation.name`` is
  "invoke_workflow"), carrying the run id, the workflow's name, its status and duration;
- one child span per executed node run, named after the node (a node in a loop has one per
  iteration), timed exactly from the trace: ``started_at`` plus the node's ``start_ms`` and
  ``end_ms``, in nanoseconds. LLM and HTTP nodes are CLIENT spans, the others INTERNAL;
- LLM nodes carry the GenAI attributes (operation "chat", ``gen_ai.system`` and
  ``gen_ai.provider.name``, request and response model, temperature, max tokens, input and
  output tokens); a failed node has status ERROR and ``error.type``; each retried attempt
  is a "retry" event (at the span's start: the trace keeps no time per attempt); a node
  waiting for a person has ``support_kit.node.waiting_for_person`` and an event;
- skipped nodes are "node skipped" events on the root span, not spans: they never ran, so
  they have no start or end to draw.

Privacy: by default no message, prompt, reply, state or other customer text goes into the
spans (the GenAI conventions make content opt-in); ``with_content=True`` adds it. Error
messages are always kept, as tracing is for them (they can quote what a service answered).

Where to send them: ``export`` speaks OTLP over HTTP (protobuf), which every collector and
most tracing tools accept. Its ``endpoint`` is the collector's base URL (the spans go to
``{endpoint}/v1/traces``); without one it follows the standard variables
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` / ``OTEL_EXPORTER_OTLP_ENDPOINT`` (and
``OTEL_EXPORTER_OTLP_HEADERS`` for an API key), else ``http://localhost:4318``. Two ways to
look at them:

- Jaeger all-in-one (Docker): ``docker run --rm -p 16686:16686 -p 4318:4318
  jaegertracing/jaeger:latest``, then ``export(trace, "http://localhost:4318")`` and open
  http://localhost:16686 (service "support-workflow-kit").
- Phoenix, a local viewer for LLM traces installed from PyPI, that runs without any
  download at run time (it is large, so keep it in a venv of its own):
  ``python -m venv ~/phoenix && ~/phoenix/bin/pip install arize-phoenix &&
  ~/phoenix/bin/phoenix serve``, then ``export(trace, "http://localhost:6006")`` and open
  http://localhost:6006.

To feed an application's own setup: ``trace_to_spans(trace, get_tracer_provider())``.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import urlsplit

if TYPE_CHECKING:  # only for type checkers: importing this module needs no OpenTelemetry
    from opentelemetry.trace import Span, Tracer, TracerProvider

    from .engine.trace import NodeRun, Trace

INSTALL_HINT = 'OpenTelemetry export is an optional extra: pip install -e ".[otel]"'
SERVICE_NAME = "support-workflow-kit"
SCOPE = "support_lib.otel"
DEFAULT_SYSTEM = "openai"
"""``gen_ai.system``: the kit reaches every backend (OpenAI, a compatible server, the offline
model) through the OpenAI API, which is what the conventions ask for then."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ERROR_TYPE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Timeout|Exceeded))\b")
_HTTP_STATUS = re.compile(r"\banswered (\d{3})\b")


def require_otel() -> None:
    """Raise a clear ImportError when the optional OpenTelemetry packages are missing."""
    try:
        import opentelemetry.sdk.trace  # noqa: F401
        import opentelemetry.trace  # noqa: F401
    except ImportError as exc:
        raise ImportError(f"{INSTALL_HINT} (missing: {exc.name})") from exc


# --------------------------------------------------------------------------- time


def epoch_ns(started_at: str) -> int:
    """An ISO timestamp (the trace's ``started_at``) as integer nanoseconds since 1970, UTC
    when it names no zone."""
    text = started_at[:-1] + "+00:00" if started_at.endswith("Z") else started_at
    started = datetime.fromisoformat(text)
    if started.tzinfo is None:
        started = started.replace(tzinfo=UTC)
    return (started - _EPOCH) // timedelta(microseconds=1) * 1000


def ms_to_ns(ms: float) -> int:
    """Milliseconds (as the trace writes them, e.g. 165.5) as exact integer nanoseconds."""
    return round(Decimal(str(ms)) * 1_000_000)


def run_end_ms(trace: Trace) -> float:
    """When the run ended, in ms from its start: its duration, or the last node's end
    (so every node span nests inside the root, also for a trace saved mid-run)."""
    ends = [run.end_ms for run in trace.node_runs if run.end_ms is not None]
    return max([trace.duration_ms or 0.0, *ends])


# --------------------------------------------------------------------------- attributes


def _clean(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """Attributes OpenTelemetry accepts: no None values."""
    return {key: value for key, value in attributes.items() if value is not None}


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def error_type(message: str | None) -> str:
    """``error.type`` for an error message: the exception's class name when the message
    starts with one ("RateLimitError: ..."), the status code of an HTTP service that
    answered with an error ("500"), "timeout" for a time-out, else "_OTHER"."""
    text = message or ""
    found = _ERROR_TYPE.match(text) or _HTTP_STATUS.search(text)
    if found:
        return found.group(1)
    return "timeout" if "timed out" in text else "_OTHER"


def root_attributes(trace: Trace, with_content: bool) -> dict[str, Any]:
    """The run span's attributes: what ran, how it ended, what it cost."""
    usages = [run.usage for run in trace.node_runs if run.usage]
    attributes = {
        "gen_ai.operation.name": "invoke_workflow",
        "gen_ai.workflow.name": trace.workflow,
        "support_kit.run.id": trace.run_id,
        "support_kit.run.status": trace.status,
        "support_kit.run.duration_ms": trace.duration_ms,
        "support_kit.run.waiting_for": (trace.waiting_for or {}).get("node"),
        "support_kit.run.effects": [str(e.get("effect")) for e in trace.effects],
        "support_kit.model": trace.meta.get("model"),
        "support_kit.backend": trace.meta.get("backend"),
        "support_kit.usage.total_tokens": sum(u.get("total_tokens") or 0 for u in usages),
        "support_kit.cost_usd": sum(u.get("cost_usd") or 0.0 for u in usages),
    }
    if trace.status == "failed":
        attributes["error.type"] = error_type(trace.error)
    if with_content:
        attributes["support_kit.run.inputs"] = _json(trace.inputs)
        attributes["support_kit.run.state"] = _json(trace.state)
        if trace.waiting_for:
            attributes["support_kit.run.question"] = _json(trace.waiting_for.get("question"))
    return _clean(attributes)


def node_attributes(record: NodeRun, with_content: bool, system: str) -> dict[str, Any]:
    """A node span's attributes: the kit's own (``support_kit.*``) and, by the node's kind,
    the GenAI or HTTP conventions."""
    attributes: dict[str, Any] = {
        "support_kit.node.kind": record.kind,
        "support_kit.node.status": record.status,
        "support_kit.node.iteration": record.iteration,
        "support_kit.node.attempts": record.attempts,
        "support_kit.node.route": record.route,
    }
    if record.status == "waiting":
        attributes["support_kit.node.waiting_for_person"] = True
    if record.status == "failed":
        attributes["error.type"] = error_type(record.error)
    if record.kind == "llm":
        attributes.update(llm_attributes(record, system))
    elif record.kind == "http":
        attributes.update(http_attributes(record))
    if with_content:
        attributes.update(content_attributes(record))
    return _clean(attributes)


def llm_attributes(record: NodeRun, system: str) -> dict[str, Any]:
    """The GenAI conventions for a chat call. Usage adds up over the node's attempts, so
    the tokens are those the node paid for, as in the trace."""
    inputs, usage = record.inputs or {}, record.usage or {}
    fmt = inputs.get("response_format")  # "text", or the name of the output's schema
    first_chunk = None
    if record.first_token_ms is not None and record.start_ms is not None:
        first_chunk = round((record.first_token_ms - record.start_ms) / 1000, 4)
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.system": system,
        "gen_ai.provider.name": system,
        "gen_ai.request.model": inputs.get("model"),
        "gen_ai.request.temperature": inputs.get("temperature"),
        "gen_ai.request.max_tokens": inputs.get("max_tokens"),
        "gen_ai.output.type": "text" if fmt in (None, "text") else "json",
        "gen_ai.response.model": usage.get("model"),
        "gen_ai.response.time_to_first_chunk": first_chunk,
        "gen_ai.usage.input_tokens": usage.get("prompt_tokens"),
        "gen_ai.usage.output_tokens": usage.get("completion_tokens"),
        "support_kit.llm.response_format": fmt,
        "support_kit.usage.total_tokens": usage.get("total_tokens"),
        "support_kit.cost_usd": usage.get("cost_usd"),
    }


def http_attributes(record: NodeRun) -> dict[str, Any]:
    """The HTTP client conventions, without the URL's path (it can hold an order or account
    number: ``url.full`` comes only with content)."""
    inputs = record.inputs or {}
    if not inputs.get("url"):
        return {"http.request.method": inputs.get("method")}
    url = urlsplit(str(inputs["url"]))
    return {
        "http.request.method": inputs.get("method"),
        "server.address": url.hostname,
        "server.port": url.port or {"http": 80, "https": 443}.get(url.scheme),
    }


def content_attributes(record: NodeRun) -> dict[str, Any]:
    """Opt-in content: the prompt and reply of an LLM node in the GenAI message format,
    the inputs and output of any other node as JSON."""
    inputs = record.inputs or {}
    if record.kind != "llm":
        return {
            "url.full": inputs.get("url") if record.kind == "http" else None,
            "support_kit.node.inputs": _json(inputs) if record.inputs is not None else None,
            "support_kit.node.output": _json(record.output) if record.output is not None else None,
        }
    messages = inputs.get("messages") or []
    system = [_part(m) for m in messages if m["role"] == "system"]
    chat = [{"role": m["role"], "parts": [_part(m)]} for m in messages if m["role"] != "system"]
    output = None
    if record.output is not None:
        reply = {"type": "text", "content": _json(record.output)}
        output = _json([{"role": "assistant", "parts": [reply], "finish_reason": "stop"}])
    return {
        "gen_ai.system_instructions": _json(system) if system else None,
        "gen_ai.input.messages": _json(chat),
        "gen_ai.output.messages": output,
    }


def _part(message: Mapping[str, Any]) -> dict[str, Any]:
    return {"type": "text", "content": message.get("content")}


# --------------------------------------------------------------------------- spans


def trace_to_spans(
    trace: Trace,
    tracer_provider: TracerProvider | None = None,
    *,
    with_content: bool = False,
    system: str = DEFAULT_SYSTEM,
) -> list[Span]:
    """Make the run's spans (root first) with ``tracer_provider``, which hands each one to
    its span processors as it ends (e.g. an exporter). Without a provider, a private one
    with no processors records them: nothing is sent, the spans are returned to read.

    ``with_content=True`` also records prompts, replies and the run's inputs and state
    (customer text: off by default). ``system`` is ``gen_ai.system`` for LLM nodes."""
    require_otel()
    from opentelemetry import trace as otel_trace
    from opentelemetry.trace import SpanKind, Status, StatusCode

    provider = tracer_provider or _private_provider()
    tracer = provider.get_tracer(SCOPE)
    start = epoch_ns(trace.started_at)
    end = start + ms_to_ns(run_end_ms(trace))
    root = tracer.start_span(
        f"invoke_workflow {trace.workflow}",
        kind=SpanKind.INTERNAL,
        attributes=root_attributes(trace, with_content),
        start_time=start,
    )
    parent = otel_trace.set_span_in_context(root)
    spans = [root]
    for record in trace.node_runs:
        if record.status == "skipped" or record.start_ms is None:
            root.add_event(*_not_run_event(record), timestamp=end)
        else:
            spans.append(_node_span(tracer, parent, record, (start, end), with_content, system))
    if trace.status == "failed":
        root.set_status(Status(StatusCode.ERROR, trace.error or "the run failed"))
    root.end(end_time=end)
    return spans


def _private_provider() -> TracerProvider:
    """An SDK provider with no processors, named "support-workflow-kit" unless
    ``OTEL_SERVICE_NAME`` or ``OTEL_RESOURCE_ATTRIBUTES`` name the service."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider

    resource = Resource.create()
    if str(resource.attributes.get("service.name", "")).startswith("unknown_service"):
        resource = resource.merge(Resource({"service.name": SERVICE_NAME}))
    return SdkTracerProvider(resource=resource)


def _not_run_event(record: NodeRun) -> tuple[str, dict[str, Any]]:
    """The root span's event for a node that did not run (skipped, or never started)."""
    name = "node skipped" if record.status == "skipped" else "node not started"
    attributes = {
        "support_kit.node.name": record.node,
        "support_kit.node.kind": record.kind,
        "support_kit.node.status": record.status,
        "support_kit.node.iteration": record.iteration,
        "support_kit.node.skip_reason": record.skip_reason,
    }
    return name, _clean(attributes)


def _node_span(
    tracer: Tracer,
    parent: Any,
    record: NodeRun,
    run: tuple[int, int],
    with_content: bool,
    system: str,
) -> Span:
    """One executed node run as a span under the root. ``run`` is the run's (start, end)
    in ns: a node still running when the trace was saved ends with the run."""
    from opentelemetry.trace import SpanKind, Status, StatusCode

    start = run[0] + ms_to_ns(record.start_ms or 0.0)
    end = run[0] + ms_to_ns(record.end_ms) if record.end_ms is not None else run[1]
    kind = SpanKind.CLIENT if record.kind in ("llm", "http") else SpanKind.INTERNAL
    span = tracer.start_span(
        record.node,
        context=parent,
        kind=kind,
        attributes=node_attributes(record, with_content, system),
        start_time=start,
    )
    for attempt, error in enumerate(record.attempt_errors, start=1):
        if attempt < record.attempts:  # this attempt failed and the node tried again
            retry = {"support_kit.attempt": attempt, "error.type": error_type(error)}
            span.add_event("retry", {**retry, "error.message": error}, timestamp=start)
    if record.status == "waiting":
        span.add_event("waiting for a person", {"support_kit.node.name": record.node}, end)
    if record.status == "failed":
        span.set_status(Status(StatusCode.ERROR, record.error or "the node failed"))
    span.end(end_time=max(start, end))
    return span


# --------------------------------------------------------------------------- sending


def export(
    trace: Trace,
    endpoint: str | None = None,
    *,
    with_content: bool = False,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10.0,
) -> int:
    """Send the run's spans to an OTLP/HTTP collector; return how many were sent.

    ``endpoint`` is the collector's base URL ("http://localhost:4318"; a URL that already
    ends in "/v1/traces" is used as it is). Without it the exporter follows
    ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` / ``OTEL_EXPORTER_OTLP_ENDPOINT``, else
    http://localhost:4318. ``headers`` (e.g. an API key) add to ``OTEL_EXPORTER_OTLP_HEADERS``.
    Raises ConnectionError when the collector does not take them."""
    require_otel()
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError as exc:
        raise ImportError(f"{INSTALL_HINT} (missing: {exc.name})") from exc
    from opentelemetry.sdk.trace.export import SpanExportResult

    url = traces_url(endpoint) if endpoint else None
    exporter = OTLPSpanExporter(endpoint=url, headers=dict(headers or {}) or None, timeout=timeout)
    spans = trace_to_spans(trace, with_content=with_content)
    try:
        result = exporter.export(spans)  # type: ignore[arg-type]  # SDK spans are readable
    finally:
        exporter.shutdown()
    if result is not SpanExportResult.SUCCESS:
        where = url or getattr(exporter, "_endpoint", "the OTLP endpoint")
        raise ConnectionError(
            f"the collector at {where} did not accept the {len(spans)} spans of run "
            f"{trace.run_id}: is an OTLP/HTTP collector listening there? (see the warning "
            "logged above, and `help(support_lib.otel)` for how to start one)"
        )
    return len(spans)


def traces_url(endpoint: str) -> str:
    """The OTLP/HTTP traces URL for a collector's base URL."""
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith("/v1/traces") else f"{endpoint}/v1/traces"


# --------------------------------------------------------------------------- showing


def print_spans(
    trace: Trace,
    *,
    with_content: bool = False,
    raw: bool = False,
    file: TextIO | None = None,
) -> list[Span]:
    """Show the spans a run becomes: a short summary, one line per span (times in ms from
    the run's start), or with ``raw=True`` every span in full as OpenTelemetry's
    ``ConsoleSpanExporter`` prints it (JSON). Returns the spans."""
    require_otel()
    out = file or sys.stdout
    spans = trace_to_spans(trace, with_content=with_content)
    if raw:
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        ConsoleSpanExporter(out=out).export(spans)  # type: ignore[arg-type]
    else:
        print("\n".join(summary_lines(spans)), file=out)
    return spans


def summary_lines(spans: Sequence[Any]) -> list[str]:
    """One readable line per span (start and duration in ms from the run's start), each
    node's events indented below it; the root's events (skipped nodes) come last."""
    root, run_start = spans[0], spans[0].start_time or 0
    trace_id = format(root.get_span_context().trace_id, "032x")
    lines = [f"OpenTelemetry trace {trace_id}: {len(spans)} spans", _span_line(root, run_start)]
    for span in spans[1:]:
        lines.append(_span_line(span, run_start, indent="  "))
        lines.extend(_event_line(event, indent="    ") for event in span.events)
    lines.extend(_event_line(event, indent="  ") for event in root.events)
    return lines


def _span_line(span: Any, run_start: int, indent: str = "") -> str:
    start = ((span.start_time or 0) - run_start) / 1e6
    took = ((span.end_time or 0) - (span.start_time or 0)) / 1e6
    return f"{start:8.1f} ms {took:8.1f} ms  {indent}{span.name}  [{_describe(span)}]"


def _event_line(event: Any, indent: str) -> str:
    return f"{'':22}{indent}- {event.name}{_describe_event(event.attributes)}"


def _describe(span: Any) -> str:
    """What a summary line says after a span's name."""
    attributes = span.attributes or {}
    if "support_kit.run.status" in attributes:
        parts = [
            f"run {attributes['support_kit.run.id']} {attributes['support_kit.run.status']}",
            f"{attributes.get('support_kit.usage.total_tokens', 0)} tokens",
            f"${attributes.get('support_kit.cost_usd', 0.0):.4f}",
        ]
    else:
        parts = [str(attributes.get("support_kit.node.kind"))]
    if attributes.get("gen_ai.operation.name") == "chat":
        parts.append(
            f"chat {attributes.get('gen_ai.request.model')}: "
            f"{attributes.get('gen_ai.usage.input_tokens')} in / "
            f"{attributes.get('gen_ai.usage.output_tokens')} out tokens"
        )
    if "support_kit.node.route" in attributes:
        parts.append(f"route {attributes['support_kit.node.route']}")
    if attributes.get("support_kit.node.waiting_for_person"):
        parts.append("WAITING for a person")
    if span.status.status_code.name == "ERROR":
        error = span.status.description or ""
        parts.append(f"ERROR: {error if len(error) <= 90 else error[:89] + '…'}")
    return "; ".join(parts)


def _describe_event(attributes: Mapping[str, Any] | None) -> str:
    attributes = attributes or {}
    if "support_kit.attempt" in attributes:
        return f" after attempt {attributes['support_kit.attempt']}: {attributes['error.type']}"
    name = attributes.get("support_kit.node.name")
    if "support_kit.node.skip_reason" in attributes:
        return f": {name} ({attributes['support_kit.node.skip_reason']})"
    return f": {name}" if name else ""


__all__ = [
    "INSTALL_HINT",
    "epoch_ns",
    "export",
    "ms_to_ns",
    "print_spans",
    "require_otel",
    "summary_lines",
    "trace_to_spans",
    "traces_url",
]
