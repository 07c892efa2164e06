"""The interactive app: type a message, press Run, watch the workflow and its trace.

A thin shell over :func:`support_lib.kit.arun`: it passes an observer that redraws the
DAG on every node event, then renders the finished trace into tabs. All customer text
is HTML-escaped before it reaches an ``HTML`` widget, so a message holding ``<script>``
shows as text. In a notebook the run is a task on the kernel's own event loop, so the
kernel stays responsive and the drawing updates while nodes run.
"""

from __future__ import annotations

import asyncio
import html
import json
from collections.abc import Awaitable, Callable
from typing import Any

import ipywidgets as w

from .draw import dag_svg, timeline_svg
from .engine import NodeRun, Trace
from .examples import load_examples
from .inputs import InvalidInputError, make_inputs
from .kit import arun, standard_workflow
from .metrics import compute_metrics
from .workflow import SupportResult

STATUS_ICON = {
    "completed": "✅",
    "running": "⏳",
    "skipped": "⏭️",
    "failed": "❌",
    "pending": "·",
}


def escape(value: Any) -> str:
    """Any value as safe HTML text (dicts and lists as pretty JSON)."""
    if not isinstance(value, str):
        value = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    return html.escape(value, quote=True)


def pre(value: Any) -> str:
    return f"<pre style='white-space:pre-wrap;margin:0'>{escape(value)}</pre>"


def node_details_html(run: NodeRun) -> str:
    """One node run: status, timing, tokens, what it was sent and what it returned."""
    rows = [f"<b>Status:</b> {escape(run.status)}"]
    if run.duration_ms is not None:
        rows.append(f"<b>Duration:</b> {run.duration_ms:.0f} ms, attempts: {run.attempts}")
    if run.usage:
        u = run.usage
        rows.append(
            f"<b>Tokens:</b> {u.get('prompt_tokens')} prompt + {u.get('completion_tokens')} "
            f"completion, model {escape(u.get('model'))}, ${u.get('cost_usd', 0):.6f}"
        )
    if run.route:
        rows.append(f"<b>Route:</b> {escape(run.route)}")
    if run.skip_reason:
        rows.append(f"<b>Skipped:</b> {escape(run.skip_reason)}")
    if run.error:
        rows.append(f"<b style='color:#b91c1c'>Error:</b> {escape(run.error)}")
    parts = ["<br>".join(rows)]
    if run.inputs is not None:
        parts.append("<b>Sent (rendered prompt or request)</b>" + pre(run.inputs))
    if run.output is not None:
        parts.append("<b>Output</b>" + pre(run.output))
    return "<div>" + "<hr style='margin:6px 0'>".join(parts) + "</div>"


def metrics_html(trace: Trace) -> str:
    """The per-node metrics table and the AI API summary."""
    metrics = compute_metrics(trace)
    head = "".join(
        f"<th style='text-align:right;padding:2px 8px'>{h}</th>"
        for h in ("runs", "ok", "failed", "retries", "skipped", "total ms")
    )
    rows = []
    for name, row in metrics["nodes"].items():
        cells = "".join(
            f"<td style='text-align:right;padding:2px 8px'>{row[key]}</td>"
            for key in ("executions", "successes", "failures", "retries", "skipped", "total_ms")
        )
        rows.append(f"<tr><td>{escape(name)}</td>{cells}</tr>")
    ai = metrics["ai"]
    summary = (
        f"<p><b>AI API:</b> {ai['requests']} requests, {ai['prompt_tokens']} prompt + "
        f"{ai['completion_tokens']} completion tokens, estimated ${ai['cost_usd']:.6f}, "
        f"average latency {ai['avg_latency_ms']:.0f} ms</p>"
    )
    return (
        summary + "<table style='border-collapse:collapse;font-size:12px'>"
        f"<tr><th style='text-align:left'>node</th>{head}</tr>" + "".join(rows) + "</table>"
    )


RunFunction = Callable[..., Awaitable[Trace]]
REDRAW_S = 0.1


class SupportApp:
    """The widget app. ``SupportApp().widget`` is the whole UI; displaying the app
    object shows it. ``run_fn`` defaults to :func:`arun` (tests may pass their own)."""

    def __init__(self, *, mock_url: str | None = None, run_fn: RunFunction = arun, **run_kwargs):
        self.mock_url = mock_url
        self.run_fn = run_fn
        self.run_kwargs = run_kwargs
        self.examples = load_examples()
        self.trace: Trace | None = None
        self.task: asyncio.Task[Any] | None = None
        self.events: list[tuple[str, str]] = []
        self._live: Trace | None = None  # the running trace, redrawn at most every REDRAW_S
        self._redraw: asyncio.TimerHandle | None = None
        self._build_inputs()
        self._build_outputs()
        self.widget = w.VBox(
            [
                w.HTML("<h3 style='margin:4px 0'>AI customer-support workflow</h3>"),
                self.picker,
                self.message,
                w.HBox([self.email, self.button]),
                self.status,
                w.HBox([self.graph_box, self.tabs], layout=w.Layout(align_items="flex-start")),
            ]
        )
        self._draw(None)

    def _build_inputs(self) -> None:
        self.picker = w.Dropdown(
            options=[("Pick an example…", "")]
            + [(e["title"], e["message"]) for e in self.examples],
            description="Example",
            layout=w.Layout(width="420px"),
        )
        self.message = w.Textarea(
            value=self.examples[0]["message"] if self.examples else "",
            placeholder="Type what the customer wrote…",
            description="Message",
            layout=w.Layout(width="100%", height="80px"),
        )
        self.email = w.Text(placeholder="customer@example.com", description="Email")
        self.button = w.Button(description="Run workflow", button_style="primary", icon="play")
        self.picker.observe(self._pick, names="value")
        self.button.on_click(self._clicked)

    def _build_outputs(self) -> None:
        self.status = w.HTML("Ready.")
        self.dag = w.HTML()
        self.reply = w.HTML("<i>The reply appears here after a run.</i>")
        self.nodes = w.Accordion()
        self.metrics = w.HTML()
        self.timeline = w.HTML()
        self.tabs = w.Tab(children=[self.reply, self.nodes, self.metrics, self.timeline])
        for index, title in enumerate(("Reply", "Nodes", "Metrics", "Timeline")):
            self.tabs.set_title(index, title)

        self.graph_box = w.Box(
            [self.dag], layout=w.Layout(width="46%", max_height="760px", overflow="auto")
        )
        self.tabs.layout = w.Layout(width="54%")

    # -- display ----------------------------------------------------------------------

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        """The live widget, plus a static picture of it for every place that cannot run it
        (a saved notebook before its cells run, GitHub, VS Code without a kernel)."""
        bundle = dict(self.widget._repr_mimebundle_(include=include, exclude=exclude) or {})
        bundle["text/html"] = self.snapshot_html()
        return bundle

    def snapshot_html(self) -> str:
        """The app as a picture: what it shows now (status, workflow, reply)."""
        return (
            "<div style='font-family:sans-serif;font-size:14px;border:1px solid #d0d7de;"
            "border-radius:6px;padding:10px;max-width:1100px'>"
            "<h3 style='margin:4px 0'>AI customer-support workflow</h3>"
            "<p style='color:#57606a;margin:4px 0'><i>A picture of the app: run this cell to "
            "type a message and run the workflow.</i></p>"
            f"<div style='margin:6px 0'>{self.status.value}</div>"
            f"<div style='overflow-x:auto'>{self.dag.value}</div>"
            f"<div style='margin-top:8px'><b>Reply</b>{self.reply.value}</div></div>"
        )

    def _pick(self, change: dict[str, Any]) -> None:
        if change["new"]:
            self.message.value = change["new"]
            example = next(e for e in self.examples if e["message"] == change["new"])
            self.email.value = example.get("email") or ""

    def _draw(self, trace: Trace | None) -> None:
        graph = trace.graph if trace else standard_workflow().describe()
        self.dag.value = dag_svg(graph, trace.to_dict() if trace else None)

    def _observe(self, event: str, run: NodeRun, trace: Trace) -> None:
        """Called by the engine on every node event: say what is happening, and redraw.

        Drawing the DAG takes a few milliseconds and the engine waits for observers, so
        redraws are batched (at most one per REDRAW_S); otherwise the app's own drawing
        would show up as gaps in the run's timeline."""
        self.events.append((event, run.node))
        done = sum(r.status == "completed" for r in trace.node_runs)
        icon = STATUS_ICON.get(run.status, "")
        self.status.value = f"{icon} {escape(run.node)}: {escape(run.status)} ({done} done)"
        self._live = trace
        if self._redraw is None:
            self._redraw = asyncio.get_running_loop().call_later(REDRAW_S, self._flush)

    def _flush(self) -> None:
        self._redraw = None
        if self._live is not None:
            self._draw(self._live)

    # -- running ----------------------------------------------------------------------

    def _clicked(self, _button: Any = None) -> None:
        """Start a run without blocking: a task on the running loop (the kernel's), or a
        plain blocking run when there is no loop (a script or a test)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            asyncio.run(self.run_message())
            return
        self.task = loop.create_task(self.run_message())

    async def run_message(self, message: str | None = None, email: str | None = None) -> None:
        """Run the workflow for the text box's message and show the result."""
        if message is not None:  # keep the text box showing what is being run
            self.message.value = message
        if email is not None:
            self.email.value = email
        message, email = self.message.value, self.email.value
        try:
            make_inputs(message, email=email)  # refuse bad input before touching the results
        except InvalidInputError as exc:
            self.show_error(f"Please check the {exc.field}: {exc}")
            return
        self.button.disabled = True
        self.events.clear()
        self.status.value = "⏳ Running…"
        self.reply.value = "<i>Running…</i>"  # never show the previous run's results
        self.nodes.children = []
        self.metrics.value = self.timeline.value = ""
        self._draw(None)
        try:
            self.trace = await self.run_fn(
                message,
                email=email or None,
                mock_url=self.mock_url,
                observers=[self._observe],
                check=False,
                **self.run_kwargs,
            )
        except InvalidInputError as exc:
            self.show_error(f"Please check the {exc.field}: {exc}")
        except Exception as exc:  # the app shows every failure as text, never a traceback
            self.show_error(f"{type(exc).__name__}: {exc}")
            self.reply.value = "<i>No reply was produced.</i>"
        else:
            self._stop_redrawing()  # ready again *before* "Done" shows: the browser sees the
            self.show_trace(self.trace)  # button enabled by the time it reads the status
        finally:
            self._stop_redrawing()

    def _stop_redrawing(self) -> None:
        if self._redraw is not None:
            self._redraw.cancel()
            self._redraw = None
        self._live = None
        self.button.disabled = False

    def show_error(self, text: str) -> None:
        self.status.value = f"<span style='color:#b91c1c'>❌ {escape(text)}</span>"

    def show_trace(self, trace: Trace) -> None:
        """Fill every tab from a finished trace."""
        self._draw(trace)
        result = SupportResult.from_trace(trace)
        if trace.status == "failed":
            self.show_error(f"The workflow failed: {trace.error}")
        else:
            routes = f"{result.inquiry_type}, {result.sentiment}"
            decision = result.escalation.decision if result.escalation else "-"
            self.status.value = (
                f"✅ Done in {trace.duration_ms:.0f} ms: {escape(routes)}; decision: "
                f"{escape(decision)}"
            )
        reply = result.final_response
        self.reply.value = pre(reply) if reply else "<i>No reply was produced.</i>"
        runs = [run for run in trace.node_runs]
        self.nodes.children = [w.HTML(node_details_html(run)) for run in runs]
        for index, run in enumerate(runs):
            repeat = f" (round {run.iteration + 1})" if run.iteration else ""
            duration = f" · {run.duration_ms:.0f} ms" if run.duration_ms is not None else ""
            title = f"{STATUS_ICON.get(run.status, '')} {run.node}{repeat}{duration}"
            self.nodes.set_title(index, title)
        self.metrics.value = metrics_html(trace)
        self.timeline.value = timeline_svg(trace.to_dict(), trace.graph)
