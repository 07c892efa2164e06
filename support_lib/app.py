"""The interactive app: type a message, press Run, watch the workflow and its trace.

A thin shell over :func:`support_lib.kit.arun`: it passes an observer that redraws the
DAG on every node event and shows the reply as it streams, then renders the finished
trace into tabs. All customer text is HTML-escaped before it reaches an ``HTML`` widget,
so a message holding ``<script>`` shows as text. In a notebook the run is a task on the
kernel's own event loop, so the kernel stays responsive and the drawing updates while
nodes run.

With ``human_in_the_loop=True`` a high-stakes reply waits for a person: the app shows
the question under the status line (approve, edit, reject; or write the reply for an
escalated case) and resumes the run with :func:`support_lib.kit.aresume` when you answer.
Runs are kept in ``store`` (by default :func:`support_lib.kit.run_store`), so the
"Waiting" list also shows runs left waiting by the CLI, the webhook or an earlier kernel.
"""

from __future__ import annotations

import asyncio
import html
import json
from collections.abc import Awaitable, Callable
from typing import Any

import ipywidgets as w

from .draw import dag_svg, timeline_svg
from .engine import NodeRun, RunStore, Trace
from .examples import load_examples
from .inputs import InvalidInputError, make_inputs
from .kit import aresume, arun, run_store, standard_workflow
from .metrics import compute_metrics
from .workflow import SupportResult
from .workflow.human import answer_for

STATUS_ICON = {
    "completed": "✅",
    "running": "⏳",
    "skipped": "⏭️",
    "failed": "❌",
    "pending": "·",
    "waiting": "⏸️",
}


def escape(value: Any) -> str:
    """Any value as safe HTML text (dicts and lists as pretty JSON)."""
    if not isinstance(value, str):
        value = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    return html.escape(value, quote=True)


def pre(value: Any) -> str:
    """Preformatted text that wraps at spaces (a word is split only if it cannot fit)."""
    return (
        "<pre style='white-space:pre-wrap;word-break:normal;overflow-wrap:break-word;"
        f"margin:0;font-size:13px'>{escape(value)}</pre>"
    )


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

    def __init__(
        self,
        *,
        mock_url: str | None = None,
        run_fn: RunFunction = arun,
        human_in_the_loop: bool = False,
        store: RunStore | None = None,
        **run_kwargs: Any,
    ):
        self.mock_url = mock_url
        self.run_fn = run_fn
        self.run_kwargs = run_kwargs
        if human_in_the_loop:
            self.store = store or run_store()
            self.run_kwargs.update(human_in_the_loop=True, store=self.store)
        else:
            self.store = store
        self.examples = load_examples()
        self.trace: Trace | None = None
        self.task: asyncio.Task[Any] | None = None
        self.events: list[tuple[str, str]] = []
        self._live: Trace | None = None  # the running trace, redrawn at most every REDRAW_S
        self._redraw: asyncio.TimerHandle | None = None
        self._streaming = ""  # the reply so far, while a node streams it
        self._build_inputs()
        self._build_outputs()
        self.widget = w.VBox(
            [
                w.HTML("<h3 style='margin:4px 0'>AI customer-support workflow</h3>"),
                self.picker,
                self.message,
                w.HBox([self.email, self.button]),
                self.status,
                self.person.widget,
                w.HBox(
                    [self.graph_box, self.tabs],
                    layout=w.Layout(flex_flow="row wrap", align_items="flex-start"),
                ),
            ]
        )
        self._draw(None)
        self.person.refresh_inbox()

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

        self.person = PersonPanel(self)
        # The drawing at its own size (text 11 px and up, readable on a projector), nothing
        # cut off; the tabs beside it on a wide screen, below it on a narrower one.
        self.graph_box = w.Box(
            [self.dag], layout=w.Layout(width="830px", max_width="100%", overflow="auto")
        )
        self.tabs.layout = w.Layout(flex="1 1 440px", min_width="440px")

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
        self._live = trace
        if event == "node_token":  # a piece of the reply: show it as it comes
            self._streaming = run.streamed or ""
        else:
            self.events.append((event, run.node))
            self._say_progress(run, trace)
        if self._redraw is None:
            self._redraw = asyncio.get_running_loop().call_later(REDRAW_S, self._flush)

    def _say_progress(self, run: NodeRun, trace: Trace) -> None:
        done = sum(r.status == "completed" for r in trace.node_runs)
        icon = STATUS_ICON.get(run.status, "")
        self.status.value = f"{icon} {escape(run.node)}: {escape(run.status)} ({done} done)"

    def _flush(self) -> None:
        self._redraw = None
        if self._live is not None:
            self._draw(self._live)
        if self._streaming:
            self.reply.value = pre(self._streaming + " ▌")

    # -- running ----------------------------------------------------------------------

    def _clicked(self, _button: Any = None) -> None:
        self.start(self.run_message())

    def start(self, work: Awaitable[None]) -> None:
        """Start work without blocking: a task on the running loop (the kernel's), or a
        plain blocking run when there is no loop (a script or a test)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            asyncio.run(work)  # type: ignore[arg-type]
            return
        self.task = loop.create_task(work)  # type: ignore[arg-type]

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
        self._draw(None)  # never show the previous run's drawing
        await self._watch(
            lambda observers: self.run_fn(
                message,
                email=email or None,
                mock_url=self.mock_url,
                observers=observers,
                check=False,
                **self.run_kwargs,
            )
        )

    async def resume(self, answer: dict[str, Any]) -> None:
        """Answer the question the shown run waits on, and carry the run on from there."""
        waiting = self.trace
        if waiting is None or waiting.status != "waiting":
            self.show_error("No run is waiting for a person.")
            return
        run: Trace | str = waiting.run_id if self.store else waiting  # claimed once only
        await self._watch(
            lambda observers: aresume(
                run,
                answer,
                store=self.store,
                mock_url=self.mock_url,
                observers=observers,
                check=False,
            )  # fmt: skip
        )

    async def _watch(self, start: Callable[[list[Any]], Awaitable[Trace]]) -> None:
        """Run ``start(observers)`` with the app live: status, drawing, streamed reply."""
        self.button.disabled = True
        self.person.hide()
        self.events.clear()
        self.status.value = "⏳ Running…"
        self.reply.value = "<i>Running…</i>"  # never show the previous run's results
        self.tabs.selected_index = 0  # the reply tab: the reply streams there
        self.nodes.children = []
        self.metrics.value = self.timeline.value = ""
        try:
            self.trace = await start([self._observe])
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
            self.person.refresh_inbox()

    def _stop_redrawing(self) -> None:
        if self._redraw is not None:
            self._redraw.cancel()
            self._redraw = None
        self._live = None
        self._streaming = ""
        self.button.disabled = False

    def show_error(self, text: str) -> None:
        self.status.value = f"<span style='color:#b91c1c'>❌ {escape(text)}</span>"

    def show_trace(self, trace: Trace) -> None:
        """Fill every tab from a finished trace."""
        self._draw(trace)
        result = SupportResult.from_trace(trace)
        self.person.show(trace)
        if trace.status == "failed":
            self.show_error(f"The workflow failed: {trace.error}")
        elif trace.status == "waiting":
            node = (trace.waiting_for or {}).get("node", "?")
            self.status.value = (
                f"⏸️ Waiting for a person at {escape(node)}: answer below, and the run "
                "carries on from there."
            )
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


class PersonPanel:
    """Where a person answers a run that waits (approve, edit or reject a reply; or write
    the reply of an escalated case), and the list of runs waiting in the app's store."""

    CHOICES = {"approve": "Approve", "edit": "Send my edit", "reject": "Reject",
               "reply": "Send reply"}  # fmt: skip

    def __init__(self, app: SupportApp):
        self.app = app
        self.question = w.HTML()
        self.text = w.Textarea(layout=w.Layout(width="100%", height="140px"))
        self.by = w.Text(value="a support lead", description="You are")
        self.buttons = {name: w.Button(description=label) for name, label in self.CHOICES.items()}
        for name, button in self.buttons.items():
            button.on_click(lambda _b, name=name: self.answer(name))
        self.form = w.VBox([self.question, self.text, w.HBox([self.by, *self.buttons.values()])])
        self.inbox = w.Dropdown(description="Waiting", layout=w.Layout(width="560px"))
        self.open_button = w.Button(description="Open")
        self.open_button.on_click(lambda _b: self.open(self.inbox.value))
        self.inbox_row = w.HBox([self.inbox, self.open_button])
        self.widget = w.VBox([self.inbox_row, self.form])
        self.hide()

    def hide(self) -> None:
        self.form.layout.display = "none"

    def show(self, trace: Trace) -> None:
        """Show the form when ``trace`` waits for a person; hide it otherwise."""
        question = (trace.waiting_for or {}).get("question") or {}
        if trace.status != "waiting":
            return self.hide()
        agent = question.get("kind") == "agent_reply"
        why = "; ".join(str(reason) for reason in question.get("why", []))
        self.question.value = (
            "<b>⏸️ A person decides.</b> "
            + (
                "Write the reply to this escalated case."
                if agent
                else f"Approve this reply, edit it, or reject it. Why: {escape(why)}"
            )  # fmt: skip
        )
        self.text.value = str(question.get("draft") or question.get("reply") or "")
        for name, button in self.buttons.items():
            button.layout.display = "" if (name == "reply") == agent else "none"
        self.form.layout.display = ""

    def answer(self, choice: str) -> None:
        """Turn the clicked choice into the node's answer, then resume the run."""
        question = ((self.app.trace and self.app.trace.waiting_for) or {}).get("question") or {}
        text = self.text.value if choice in ("edit", "reply") else None
        try:
            decision = None if choice == "reply" else choice
            answer = answer_for(question, decision, text, self.by.value.strip() or "someone")
        except Exception as exc:  # a refused answer: say why, keep the form as it is
            self.app.show_error(f"Please check your answer: {exc}")
            return
        self.app.start(self.app.resume(answer))

    def refresh_inbox(self) -> None:
        """The runs waiting in the store: this app's and any other front door's."""
        store = self.app.store
        self.inbox_row.layout.display = "none" if store is None else ""
        if store is None:
            return
        runs = store.waiting()
        self.inbox.options = [(f"{len(runs)} waiting: pick one…", "")] + [
            (f"{r['run_id'][:12]} · {r['node']} · since {r['since']}", r["run_id"]) for r in runs
        ]

    def open(self, run_id: str) -> None:
        """Show a waiting run from the store, ready to answer."""
        if not run_id or self.app.store is None:
            return
        self.app.trace = self.app.store.load(run_id)
        self.app.show_trace(self.app.trace)
