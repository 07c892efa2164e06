"""A run's trace as OpenTelemetry spans (support_lib.otel, the optional "otel" extra): real
offline runs go through the SDK's in-memory exporter, the OTLP protobuf encoder and a
collector on a local port."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

REASON = 'the optional OpenTelemetry packages are not installed: pip install -e ".[otel]"'
pytest.importorskip("opentelemetry.sdk.trace", reason=REASON)
pytest.importorskip("opentelemetry.exporter.otlp.proto.http.trace_exporter", reason=REASON)

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans  # noqa: E402
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (  # noqa: E402
    ExportTraceServiceRequest,
)
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (  # noqa: E402
    InMemorySpanExporter,
)
from opentelemetry.trace import SpanKind, StatusCode  # noqa: E402

from support_lib import Trace, arun  # noqa: E402
from support_lib.otel import (  # noqa: E402
    epoch_ns,
    error_type,
    export,
    ms_to_ns,
    print_spans,
    trace_to_spans,
    traces_url,
)

CHARGED = "I was charged twice for order #12345!"
CALM = "Hi, when will order #50422 arrive? Thanks, Anna"
REFUND = "Hi, I returned the kettle from order #50005 last week. Could I get my refund? Anna"


@pytest.fixture
def memory():
    """A tracer provider whose spans land in an in-memory exporter as each one ends."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider, exporter
    provider.shutdown()


def exported(trace, memory, **options):
    """The run's spans as an exporter received them: (root, node spans in trace order)."""
    provider, exporter = memory
    trace_to_spans(trace, provider, **options)
    spans = exporter.get_finished_spans()
    roots = [span for span in spans if span.parent is None]
    assert len(roots) == 1, "one root span per run"
    nodes = sorted((s for s in spans if s.parent is not None), key=lambda s: s.start_time)
    return roots[0], nodes


def executed(trace):
    return [run for run in trace.node_runs if run.status != "skipped"]


def every_value(spans):
    """Every attribute and event attribute value of the spans, as text."""
    values = []
    for span in spans:
        values += [str(v) for v in span.attributes.values()]
        for event in span.events:
            values += [str(v) for v in event.attributes.values()]
    return " | ".join(values)


async def test_a_run_is_one_root_span_with_one_child_per_executed_node(fresh, memory):
    trace = await arun(CHARGED, mock_url=fresh.url)
    root, nodes = exported(trace, memory)
    assert root.name == "invoke_workflow customer_support"
    assert root.attributes["support_kit.run.id"] == trace.run_id
    assert root.attributes["gen_ai.workflow.name"] == trace.workflow
    assert root.attributes["support_kit.run.status"] == "completed"
    assert root.attributes["support_kit.run.duration_ms"] == trace.duration_ms
    runs = sorted(executed(trace), key=lambda run: run.start_ms)
    assert [span.name for span in nodes] == [run.node for run in runs]
    for span in nodes:
        assert span.parent.span_id == root.context.span_id
        assert span.context.trace_id == root.context.trace_id
    assert len({span.context.span_id for span in [root, *nodes]}) == len(nodes) + 1
    skipped = [run.node for run in trace.node_runs if run.status == "skipped"]
    assert skipped, "this run takes the escalation branch: the reply branch is skipped"
    events = [e for e in root.events if e.name == "node skipped"]
    assert [e.attributes["support_kit.node.name"] for e in events] == skipped


async def test_llm_spans_carry_the_genai_attributes_with_the_traces_numbers(fresh, memory):
    trace = await arun(CHARGED, mock_url=fresh.url)
    _, nodes = exported(trace, memory)
    spans = {span.name: span for span in nodes}
    llm_runs = [run for run in executed(trace) if run.kind == "llm"]
    assert len(llm_runs) >= 4
    for run in llm_runs:
        span = spans[run.node]
        assert span.kind is SpanKind.CLIENT
        assert span.attributes["gen_ai.operation.name"] == "chat"
        assert span.attributes["gen_ai.system"] == "openai"
        assert span.attributes["gen_ai.request.model"] == run.inputs["model"]
        assert span.attributes["gen_ai.request.temperature"] == run.inputs["temperature"]
        assert span.attributes["gen_ai.request.max_tokens"] == run.inputs["max_tokens"]
        assert span.attributes["gen_ai.response.model"] == run.usage["model"]
        assert span.attributes["gen_ai.usage.input_tokens"] == run.usage["prompt_tokens"]
        assert span.attributes["gen_ai.usage.output_tokens"] == run.usage["completion_tokens"]
        assert span.attributes["gen_ai.output.type"] == "json"  # all have a schema here
    http = spans["fetch_account_status"]
    assert http.kind is SpanKind.CLIENT and http.attributes["http.request.method"] == "GET"
    assert spans["check_billing"].attributes["support_kit.node.route"] == "billing"


async def test_span_times_are_the_traces_to_the_nanosecond_and_nest_in_the_root(fresh, memory):
    trace = await arun(CHARGED, mock_url=fresh.url)
    root, nodes = exported(trace, memory)
    started = datetime.fromisoformat(trace.started_at)  # milliseconds: exact as a float
    assert root.start_time == round(started.timestamp() * 1000) * 1_000_000
    assert root.end_time - root.start_time == round(trace.duration_ms * 10) * 100_000
    by_name = {span.name: span for span in nodes}
    for run in executed(trace):
        span = by_name[run.node]
        assert span.start_time - root.start_time == round(run.start_ms * 10) * 100_000
        assert span.end_time - root.start_time == round(run.end_ms * 10) * 100_000
        assert root.start_time <= span.start_time <= span.end_time <= root.end_time


async def test_a_streamed_text_reply_has_its_output_type_and_time_to_first_chunk(fresh, memory):
    trace = await arun(CALM, mock_url=fresh.url)
    _, nodes = exported(trace, memory)
    spans = {span.name: span for span in nodes}
    assert spans["generate_response"].attributes["gen_ai.output.type"] == "text"
    streamed = [run for run in executed(trace) if run.first_token_ms is not None]
    assert streamed, "the personalised reply is streamed token by token"
    for run in streamed:
        first_chunk = spans[run.node].attributes["gen_ai.response.time_to_first_chunk"]
        assert first_chunk == pytest.approx((run.first_token_ms - run.start_ms) / 1000)


def test_time_conversions_are_exact():
    assert epoch_ns("1970-01-01T00:00:01.001+00:00") == 1_001_000_000
    assert epoch_ns("2026-11-30T20:08:06.270+00:00") == epoch_ns("2026-11-30T20:08:06.270Z")
    assert epoch_ns("2026-11-30T21:08:06.270+01:00") == epoch_ns("2026-11-30T20:08:06.270")
    assert ms_to_ns(0.1) == 100_000 and ms_to_ns(165.5) == 165_500_000 and ms_to_ns(0) == 0
    assert traces_url("http://localhost:4318/") == "http://localhost:4318/v1/traces"
    assert traces_url("http://c:4318/v1/traces") == "http://c:4318/v1/traces"


async def test_a_failed_node_is_an_error_span_and_its_retries_are_events(fresh, memory):
    fresh.configure(fault_rate=1.0, fault_kinds=["500"], fault_paths=["/support/send"])
    trace = await arun(CALM, mock_url=fresh.url, check=False)
    failed = trace.node("send_response")
    assert trace.status == "failed" and failed.status == "failed" and failed.attempts > 1
    root, nodes = exported(trace, memory)
    span = next(span for span in nodes if span.name == "send_response")
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == failed.error
    assert span.attributes["error.type"] == "500"
    retries = [event for event in span.events if event.name == "retry"]
    assert [e.attributes["support_kit.attempt"] for e in retries] == list(range(1, failed.attempts))
    assert root.status.status_code is StatusCode.ERROR and root.status.description == trace.error
    others = [s for s in nodes if s.name != "send_response"]
    assert all(s.status.status_code is StatusCode.UNSET for s in others)


async def test_retries_of_a_node_that_then_worked_are_events_on_an_ok_span(fresh, memory):
    fresh.configure(fault_rate=1.0, fault_kinds=["429"], fault_limit=2)
    trace = await arun("Hi, how do I change my password? Thanks!", mock_url=fresh.url)
    retried = [run for run in trace.node_runs if run.attempts > 1]
    assert retried and trace.status == "completed"
    _, nodes = exported(trace, memory)
    for run in retried:
        span = next(span for span in nodes if span.name == run.node)
        events = [event for event in span.events if event.name == "retry"]
        assert len(events) == run.attempts - 1
        assert events[0].attributes["error.type"] == "RateLimitError"
        assert span.status.status_code is StatusCode.UNSET
        assert span.attributes["gen_ai.usage.input_tokens"] == run.usage["prompt_tokens"]


async def test_a_node_waiting_for_a_person_is_marked(fresh, memory):
    trace = await arun(REFUND, mock_url=fresh.url, human_in_the_loop=True, check=False)
    assert trace.status == "waiting" and trace.waiting_for["node"] == "approval_gate"
    root, nodes = exported(trace, memory)
    gate = next(span for span in nodes if span.name == "approval_gate")
    assert gate.attributes["support_kit.node.waiting_for_person"] is True
    assert [event.name for event in gate.events] == ["waiting for a person"]
    assert root.attributes["support_kit.run.waiting_for"] == "approval_gate"
    assert root.status.status_code is StatusCode.UNSET
    assert "support_kit.run.question" not in root.attributes  # the reply held is content


async def test_no_customer_text_in_the_spans_unless_asked_for(fresh, memory):
    trace = await arun(CHARGED, mock_url=fresh.url)
    customer_text = ["charged twice", "#12345", "Double charge"]
    root, nodes = exported(trace, memory)
    values = every_value([root, *nodes])
    assert not [text for text in customer_text if text in values]
    assert not any(key.endswith("messages") for s in nodes for key in s.attributes)

    memory[1].clear()
    root, nodes = exported(trace, memory, with_content=True)
    assert all(text in every_value([root, *nodes]) for text in customer_text)
    extract = next(span for span in nodes if span.name == "extract_customer_info")
    messages = json.loads(extract.attributes["gen_ai.input.messages"])
    assert messages[0]["role"] == "user" and CHARGED in messages[0]["parts"][0]["content"]
    assert json.loads(extract.attributes["gen_ai.system_instructions"])[0]["type"] == "text"
    output = json.loads(extract.attributes["gen_ai.output.messages"])
    assert output[0]["role"] == "assistant" and output[0]["finish_reason"] == "stop"


async def test_the_spans_are_valid_otlp(fresh):
    trace = await arun(CHARGED, mock_url=fresh.url)
    spans = trace_to_spans(trace)  # a private provider: recorded, not sent
    request = ExportTraceServiceRequest.FromString(encode_spans(spans).SerializeToString())
    [resource_spans] = request.resource_spans
    service = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
    assert service["service.name"] == "support-workflow-kit"
    [scope_spans] = resource_spans.scope_spans
    assert scope_spans.scope.name == "support_lib.otel"
    decoded = list(scope_spans.spans)
    assert len(decoded) == len(executed(trace)) + 1
    root = decoded[0]
    assert len(root.trace_id) == 16 and root.trace_id != bytes(16)
    assert root.parent_span_id == b""
    for span in decoded:
        assert len(span.span_id) == 8 and span.span_id != bytes(8)
        assert span.trace_id == root.trace_id
        assert 0 < span.start_time_unix_nano <= span.end_time_unix_nano
    assert all(span.parent_span_id == root.span_id for span in decoded[1:])
    assert all(span.get_span_context().is_valid for span in spans)


async def test_a_saved_trace_exports_the_same_spans(fresh, memory, tmp_path):
    trace = await arun(CHARGED, mock_url=fresh.url)
    loaded = Trace.load(trace.save(tmp_path / "run.json"))
    first, again = trace_to_spans(trace), trace_to_spans(loaded)
    assert [(s.name, s.start_time, s.end_time) for s in first] == [
        (s.name, s.start_time, s.end_time) for s in again
    ]
    assert [dict(s.attributes) for s in first] == [dict(s.attributes) for s in again]


class Collector(BaseHTTPRequestHandler):
    """An OTLP/HTTP collector on a local port that keeps what it is sent."""

    received: list[tuple[str, str, bytes]] = []

    def do_POST(self):  # noqa: N802 (the name http.server calls)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, self.headers["Content-Type"], body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def collector():
    Collector.received = []
    server = HTTPServer(("127.0.0.1", 0), Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", Collector.received
    server.shutdown()
    server.server_close()


async def test_export_sends_the_spans_to_an_otlp_http_collector(fresh, collector, monkeypatch):
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    url, received = collector
    trace = await arun(CHARGED, mock_url=fresh.url)
    assert export(trace, url) == len(executed(trace)) + 1
    [(path, content_type, body)] = received
    assert path == "/v1/traces" and content_type == "application/x-protobuf"
    request = ExportTraceServiceRequest.FromString(body)
    spans = request.resource_spans[0].scope_spans[0].spans
    assert [s.name for s in spans][0] == "invoke_workflow customer_support"
    assert len(spans) == len(executed(trace)) + 1

    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", url)  # the standard variable
    export(trace)
    assert [path for path, _, _ in received] == ["/v1/traces", "/v1/traces"]


async def test_export_to_no_collector_says_so(fresh, collector):
    url, _ = collector
    trace = await arun(CALM, mock_url=fresh.url)
    with pytest.raises(ConnectionError, match="is an OTLP/HTTP collector listening there"):
        export(trace, "http://127.0.0.1:9", timeout=2)  # the discard port: nothing listens


async def test_print_spans_shows_a_summary_or_the_raw_spans(fresh):
    fresh.configure(fault_rate=1.0, fault_kinds=["500"], fault_paths=["/support/send"])
    trace = await arun(CALM, mock_url=fresh.url, check=False)
    out = io.StringIO()
    spans = print_spans(trace, file=out)
    text = out.getvalue()
    assert text.startswith(f"OpenTelemetry trace {spans[0].get_span_context().trace_id:032x}")
    assert f"run {trace.run_id} failed" in text
    assert "extract_customer_info  [llm; chat support-kit-offline-1: " in text
    assert "send_response  [http; ERROR: POST " in text
    assert "- retry after attempt 1: 500" in text
    assert "- node skipped: escalate_to_human (no live input" in text
    raw = io.StringIO()
    print_spans(trace, raw=True, file=raw)
    assert raw.getvalue().count('"name": "send_response"') == 1


def test_error_types_follow_the_conventions():
    assert error_type("RateLimitError: Error code: 429 - slow down") == "RateLimitError"
    assert error_type("POST http://x/support/send answered 503: busy") == "503"
    assert error_type("timed out after 5.0 s") == "timeout"
    assert error_type("the output is not valid") == "_OTHER"


def test_the_kit_imports_without_opentelemetry_and_says_how_to_get_it():
    code = """
import sys
class NoOpenTelemetry:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "opentelemetry":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, NoOpenTelemetry())
import support_lib, support_lib.otel
assert not [m for m in sys.modules if m.startswith("opentelemetry")]
try:
    support_lib.otel.trace_to_spans(None)
except ImportError as exc:
    print(exc)
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert 'pip install -e ".[otel]"' in result.stdout
