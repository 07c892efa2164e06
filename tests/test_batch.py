"""Batches and evaluation: input order, the concurrency bound, isolated failures, the
arithmetic of ``evaluate``, and the offline model's accuracy on the labeled set."""

from __future__ import annotations

import asyncio
from typing import Required

import pytest
from typing_extensions import TypedDict

from support_lib import FunctionNode, Trace, Workflow, arun, batch
from support_lib.batch import ConfusionMatrix, arun_batch, evaluate, format_evaluation
from support_lib.engine import START
from support_lib.examples import load_labeled
from support_lib.inputs import MAX_MESSAGE_CHARS
from support_lib.report import format_report


def make_trace(state: dict, status: str = "completed") -> Trace:
    return Trace(
        run_id="run-000000000000",
        workflow="test",
        started_at="2025-01-01T00:00:00+00:00",
        inputs={},
        graph={},
        status=status,
        state=state,
    )


class EchoState(TypedDict, total=False):
    """The echo graph's inputs are three of the support inputs (not ``history``)."""

    customer_message: Required[str]
    customer_email: Required[str]
    ticket_id: Required[str]
    echo: str


def echo_workflow() -> Workflow:
    """One node that copies the message, and fails for messages containing "boom"."""

    def echo(state):
        if "boom" in state["customer_message"]:
            raise RuntimeError("boom in the message")
        return {"echo": state["customer_message"]}

    wf = Workflow("echo", EchoState)
    wf.add(FunctionNode("echo", echo, reads=["customer_message"], writes=["echo"]))
    wf.edge(START, "echo")
    return wf


class FakeRun:
    """Stands in for ``support_lib.kit.arun``: counts how many runs are inside at once."""

    def __init__(self, delays: dict[str, float] | None = None):
        self.active = 0
        self.max_active = 0
        self.delays = delays or {}

    async def __call__(self, message, **kwargs):
        assert kwargs["check"] is False
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            await asyncio.sleep(self.delays.get(message, 0.01))
            if message == "raise":
                raise ConnectionError("the mock server is down")
            return make_trace({"echo": message, **kwargs.get("extra", {})})
        finally:
            self.active -= 1


# ----------------------------------------------------------------------------- running


async def test_results_keep_the_input_order_even_when_runs_finish_out_of_order(monkeypatch):
    # The first messages take longest, so they finish last.
    messages = [f"m{i}" for i in range(10)]
    fake = FakeRun({m: 0.05 - 0.005 * i for i, m in enumerate(messages)})
    monkeypatch.setattr(batch, "arun", fake)
    traces = await arun_batch(messages, concurrency=10, progress=False)
    assert [t.state["echo"] for t in traces] == messages


async def test_concurrency_bound_is_respected_and_reached(monkeypatch):
    fake = FakeRun()
    monkeypatch.setattr(batch, "arun", fake)
    traces = await arun_batch([f"m{i}" for i in range(12)], concurrency=3, progress=False)
    assert len(traces) == 12
    assert fake.max_active == 3


async def test_concurrency_bound_with_real_runs(server):
    active: set[str] = set()
    peak = 0

    def observer(event, node_run, trace):
        nonlocal peak
        if event == "run_finished":
            active.discard(trace.run_id)
        else:
            active.add(trace.run_id)
            peak = max(peak, len(active))

    messages = ["Where is my parcel? Order #50422.", "How do I reset my password?"] * 3
    traces = await arun_batch(
        messages, concurrency=2, progress=False, mock_url=server.url, observers=[observer]
    )
    assert [t.status for t in traces] == ["completed"] * 6
    assert [t.inputs["customer_message"] for t in traces] == messages
    assert 1 <= peak <= 2


async def test_dict_messages_pass_email_and_ticket_id(server):
    rows = [
        {"message": "How do I reset my password?", "email": "ann@example.com", "id": "x"},
        {"message": "Where is order #50422?", "ticket_id": "TICKET-0000ABCD"},
    ]
    traces = await arun_batch(rows, progress=False, mock_url=server.url, workflow=echo_workflow())
    assert traces[0].inputs["customer_email"] == "ann@example.com"
    assert traces[1].inputs["ticket_id"] == "TICKET-0000ABCD"
    # only the inputs the graph declares are passed: EchoState has no history
    assert [sorted(t.inputs) for t in traces] == [
        ["customer_email", "customer_message", "ticket_id"]
    ] * 2
    assert [t.state["echo"] for t in traces] == [r["message"] for r in rows]


async def test_failures_are_isolated(server):
    messages = ["first", "", "a boom here", "x" * (MAX_MESSAGE_CHARS + 1), "last"]
    traces = await arun_batch(
        messages, concurrency=2, progress=False, mock_url=server.url, workflow=echo_workflow()
    )
    assert [t.status for t in traces] == ["completed", "failed", "failed", "failed", "completed"]
    assert traces[0].state["echo"] == "first" and traces[4].state["echo"] == "last"
    assert traces[1].error == (
        "InvalidInputError: the message is empty (nothing visible in it): type what the "
        "customer wrote"
    )
    assert "boom in the message" in traces[2].error  # failed inside the workflow
    assert traces[3].error.startswith(
        "InvalidInputError: the message has 8,001 characters; the limit is 8,000. "
    )
    assert len({t.run_id for t in traces}) == 5
    for trace in traces:  # a run that never started is reported too
        assert trace.run_id in format_report(trace)
    assert len(traces[3].inputs["customer_message"]) < 300  # the start of what was refused


async def test_an_exception_from_the_run_itself_becomes_a_failed_trace(monkeypatch):
    monkeypatch.setattr(batch, "arun", FakeRun())
    traces = await arun_batch(["ok", "raise", "ok"], progress=False)
    assert [t.status for t in traces] == ["completed", "failed", "completed"]
    assert traces[1].error == "ConnectionError: the mock server is down"
    assert traces[1].inputs == {"customer_message": "raise"}


async def test_bad_concurrency_is_refused():
    with pytest.raises(ValueError, match="concurrency"):
        await arun_batch(["x"], concurrency=0)


async def test_text_progress_only_when_asked_or_on_a_terminal(monkeypatch, capsys):
    monkeypatch.setattr(batch, "arun", FakeRun())
    await arun_batch(["a", "b"], progress=None)  # pytest's stderr is not a TTY
    assert capsys.readouterr().err == ""
    await arun_batch(["a", "b"], progress=True)
    err = capsys.readouterr().err
    assert err.endswith("runs [" + "#" * 30 + "] 2/2\n")
    assert "\n" not in err[:-1]  # one line, redrawn in place


async def test_widget_progress_in_a_notebook(monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(batch, "arun", FakeRun())
    monkeypatch.setattr(batch, "in_notebook", lambda: True)
    monkeypatch.setattr(IPython.display, "display", shown.append)
    traces = await arun_batch(["a", "raise", "c"])
    assert [t.status for t in traces] == ["completed", "failed", "completed"]
    (box,) = shown
    bar, label = box.children
    assert (bar.value, bar.max, bar.bar_style) == (3, 3, "warning")
    assert label.value == "3/3 (1 failed)"


# ----------------------------------------------------------------------------- evaluation


def test_evaluate_arithmetic_on_a_hand_made_example():
    def state(kind, sentiment, urgency, escalated):
        # a whole CustomerInfo: evaluate reads each trace through SupportResult
        info = {"customer_name": "Unknown", "order_id": None, "product": None,
                "urgency": urgency, "subject": "A question"}  # fmt: skip
        return {"inquiry_type": kind, "sentiment": sentiment, "customer_info": info,
                "escalated": escalated}  # fmt: skip

    traces = [
        make_trace(state("billing", "negative", "high", True)),
        make_trace(state("billing", "neutral", "medium", False)),
        make_trace(state("shipping", "negative", "low", False)),
        make_trace(state("technical", "positive", "low", True)),
        make_trace({}, status="failed"),
    ]
    labels = [
        {"id": "a", "inquiry_type": "billing", "sentiment": "negative", "urgency": "high",
         "expected_escalation": True},
        {"id": "b", "inquiry_type": "shipping", "sentiment": "neutral", "urgency": "medium",
         "expected_escalation": None},
        {"id": "c", "inquiry_type": "shipping", "sentiment": "negative", "urgency": "medium",
         "expected_escalation": False},
        {"id": "d", "inquiry_type": "technical", "sentiment": "positive", "urgency": "low",
         "expected_escalation": False},
        {"id": "e", "inquiry_type": "billing", "sentiment": "neutral", "urgency": "low",
         "expected_escalation": None},
    ]  # fmt: skip
    report = evaluate(traces, labels)
    assert report["runs"] == 5 and report["failed_runs"] == 1

    kind = report["fields"]["inquiry_type"]
    assert (kind["scored"], kind["correct"], kind["accuracy"]) == (5, 3, 0.6)
    assert kind["confusion"]["shipping"] == {
        "technical": 0, "billing": 1, "shipping": 1, "product": 0, "account": 0,
        "general": 0, "(none)": 0,
    }  # fmt: skip
    assert kind["confusion"]["billing"]["(none)"] == 1  # the failed run predicted nothing
    assert kind["classes"]["billing"] == {
        "support": 2, "predicted": 2, "correct": 1, "precision": 0.5, "recall": 0.5,
    }  # fmt: skip
    assert kind["classes"]["shipping"]["precision"] == 1.0
    assert kind["classes"]["shipping"]["recall"] == 0.5
    assert kind["classes"]["product"]["precision"] is None  # never predicted: undefined
    assert [e["id"] for e in kind["errors"]] == ["b", "e"]
    assert kind["errors"][0] == {
        "index": 1, "id": "b", "expected": "shipping", "predicted": "billing",
    }  # fmt: skip

    assert report["fields"]["sentiment"]["accuracy"] == 0.8
    assert report["fields"]["urgency"]["correct"] == 3

    esc = report["fields"]["escalation"]
    assert esc["scored"] == 3  # None labels are not scored
    assert (esc["correct"], esc["accuracy"]) == (2, 0.6667)
    assert esc["confusion"] == {
        "escalate": {"escalate": 1, "respond": 0},
        "respond": {"escalate": 1, "respond": 1},
    }
    assert esc["classes"]["escalate"]["precision"] == 0.5
    assert esc["classes"]["respond"]["recall"] == 0.5

    text = format_evaluation(report)
    assert "inquiry_type   60.0%  (3/5 correct)" in text
    assert "escalation     66.7%  (2/3 correct)" in text


def test_evaluate_refuses_unpaired_input_and_unknown_fields():
    with pytest.raises(ValueError, match="in pairs"):
        evaluate([make_trace({})], [])
    with pytest.raises(ValueError, match="unknown field"):
        evaluate([make_trace({})], [{}], fields=["colour"])


def test_confusion_matrix_renders_deterministically_and_escapes_labels():
    matrix = {"<b>": {"<b>": 2, "ok": 1}, "ok": {"<b>": 0, "ok": 3}}
    view = ConfusionMatrix(matrix, title="x & y")
    html = view._repr_html_()
    assert "&lt;b&gt;" in html and "<b>" not in html
    assert "x &amp; y" in html
    assert html == ConfusionMatrix(matrix, title="x & y").to_html()
    assert repr(view).splitlines() == [
        "x & y",
        "expected ↓ / predicted →   <b>   ok",
        "<b>                          2    1",
        "ok                           0    3",
    ]


# ----------------------------------------------------------------------------- the real model


async def test_a_batch_decides_what_single_runs_decide(server):
    """Sixteen labeled messages as a batch: no run fails, and each run's labels are the
    ones a single run gives. (The offline model's accuracy on the whole labeled set is
    checked once, in test_offline_model.py.)"""
    labels = load_labeled()[:16]
    traces = await arun_batch(labels, concurrency=8, progress=False, mock_url=server.url)
    report = evaluate(traces, labels)
    assert report["failed_runs"] == 0 and report["fields"]["inquiry_type"]["scored"] == 16
    for row, trace in list(zip(labels, traces, strict=True))[:4]:
        single = await arun(row["message"], mock_url=server.url)
        assert single.state["inquiry_type"] == trace.state["inquiry_type"]
        assert single.state["sentiment"] == trace.state["sentiment"]


def test_the_notebook_progress_bar_updates_about_a_hundred_times_and_ends_on_the_count(capsys):
    """Every widget update is a message on the kernel's output channel; nbval loses them
    past about a thousand, so a long batch must not send one per run."""
    from support_lib.batch import _WidgetProgress

    progress = _WidgetProgress(763)
    shown = []
    progress.bar.observe(lambda change: shown.append(change["new"]), names="value")
    for run in range(763):
        progress.advance(failed=run == 5)
    progress.close()
    assert 50 <= len(shown) <= 110, len(shown)
    assert shown[-1] == 763 and progress.label.value == "763/763 (1 failed)"
    assert progress.bar.bar_style == "warning"
    small = _WidgetProgress(3)  # a short batch still shows every run
    values = []
    small.bar.observe(lambda change: values.append(change["new"]), names="value")
    for _ in range(3):
        small.advance()
    assert values == [1, 2, 3]
