"""The widget app, kernel-side: no browser, just the widgets' values after a click.

``SupportApp`` is a thin shell over ``support_lib.kit.arun``: these tests press its button
(with no running event loop the click runs the workflow synchronously; inside a loop it
starts a task) and check what each widget then holds: the trace, the reply, the tabs, the
live DAG and status line, escaping of hostile text, and readable errors.
"""

from __future__ import annotations

import html
import re

import pytest

from support_lib import Trace, arun
from support_lib.app import SupportApp
from support_lib.examples import load_examples
from support_lib.templates import escape_markup
from support_lib.workflow import SupportResult

CALM = next(e for e in load_examples() if e["title"] == "Calm shipping question")
HOSTILE = "<script>alert(1)</script><b>x</b>"
HOSTILE_ESCAPED = html.escape(HOSTILE, quote=True)
ERROR_SPAN = "<span style='color:#b91c1c'>❌ {}</span>"
NODE_STATUS = re.compile(r'<g class="skdag-node [^"]*skdag-(\w+)" data-node="([^"]+)"')


@pytest.fixture
def app(fresh):
    return SupportApp(mock_url=fresh.url)


def dag_statuses(svg: str) -> dict[str, str]:
    """node name -> status class, as drawn in the app's DAG."""
    return {name: status for status, name in NODE_STATUS.findall(svg)}


def all_html(app: SupportApp) -> list[str]:
    """Every piece of HTML the app can show, and the accordion titles."""
    panels = [child.value for child in app.nodes.children]
    titles = [app.nodes.get_title(i) for i in range(len(app.nodes.children))]
    return [
        app.reply.value,
        app.status.value,
        app.dag.value,
        app.metrics.value,
        app.timeline.value,
        *panels,
        *titles,
    ]


def text_of(markup: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def click(app: SupportApp, message: str, email: str = "") -> None:
    app.message.value = message
    app.email.value = email
    app.button.click()  # no running loop here: the run happens inside the click


# --------------------------------------------------------------------------- a good run


def test_new_app_is_ready_and_shows_the_empty_workflow(app):
    assert app.status.value == "Ready."
    assert app.trace is None
    assert app.message.value == load_examples()[0]["message"]
    # the plain graph, not yet coloured by any run
    assert app.dag.value.startswith("<svg") and app.dag.value.count('<g class="skdag-node ') == 21
    assert dag_statuses(app.dag.value) == {}
    assert [app.tabs.get_title(i) for i in range(4)] == ["Reply", "Nodes", "Metrics", "Timeline"]


def test_click_runs_the_workflow_and_fills_every_tab(app, fresh):
    fresh.configure(sloppy_writer=1.0)  # a vague first draft: the reply is rewritten once
    click(app, CALM["message"], CALM["email"])
    trace = app.trace
    assert isinstance(trace, Trace) and trace.status == "completed"
    result = SupportResult.from_trace(trace)
    assert result.inquiry_type == "shipping"
    assert result.customer_email == CALM["email"]
    assert not app.button.disabled

    # Reply: the final response, escaped inside a <pre>
    assert app.reply.value.startswith("<pre")
    assert text_of(app.reply.value) == result.final_response
    assert "Hi Anna" in app.reply.value

    # Nodes: one accordion panel per node run, titled with icon, name and time
    assert len(app.nodes.children) == len(trace.node_runs) == 24
    titles = [app.nodes.get_title(i) for i in range(len(app.nodes.children))]
    assert [t.split(" ")[1] for t in titles] == [run.node for run in trace.node_runs]
    assert any(t.startswith("✅ score_response (round 2)") for t in titles)
    assert any(t.startswith("⏭️ prepare_account_lookup") for t in titles)
    extract = app.nodes.children[[r.node for r in trace.node_runs].index("extract_customer_info")]
    assert "<b>Status:</b> completed" in extract.value
    assert "Sent (rendered prompt or request)" in extract.value
    assert "<b>Tokens:</b>" in extract.value

    # Metrics: the per-node table with a row per node of the graph
    assert "<table" in app.metrics.value and "<b>AI API:</b>" in app.metrics.value
    assert app.metrics.value.count("<tr>") == 1 + len(trace.graph["nodes"])

    # Timeline: an SVG Gantt chart with a bar per executed run
    assert app.timeline.value.startswith("<svg") and 'class="sktl"' in app.timeline.value
    executed = sum(run.status != "skipped" for run in trace.node_runs)
    assert app.timeline.value.count('class="sktl-bar') == executed

    # DAG: coloured from the trace, every node either completed or skipped
    statuses = dag_statuses(app.dag.value)
    assert len(statuses) == 21
    assert statuses["send_response"] == statuses["log_interaction"] == "completed"
    assert statuses["escalate_to_human"] == statuses["fetch_account_status"] == "skipped"
    # the rewrite ran once, then the loop ended with a skip: the node still shows as run,
    # by the same rule as Trace.status_of
    assert statuses["regenerate_response"] == "completed"
    assert statuses == {name: trace.status_of(name) for name in statuses}
    assert "run completed" in app.dag.value

    # Status line: done, the routes and the decision
    assert re.fullmatch(
        r"✅ Done in \d+ ms: shipping, neutral; decision: generate_response", app.status.value
    )


def test_escalating_run_shows_the_acknowledgement(app):
    click(app, load_examples()[0]["message"])
    result = SupportResult.from_trace(app.trace)
    assert result.escalated is True and result.escalation.decision == "escalate"
    assert "decision: escalate" in app.status.value
    assert "ESC-" in app.reply.value  # the acknowledgement names the escalation ticket
    statuses = dag_statuses(app.dag.value)
    assert statuses["escalate_to_human"] == statuses["send_acknowledgement"] == "completed"
    assert statuses["generate_response"] == "skipped"


def test_observer_updates_the_dag_and_status_while_running(app, server):
    server.configure(latency_ms=60)  # a run long enough for several batched redraws
    dag_frames: list[str] = []
    status_lines: list[str] = []
    app.dag.observe(lambda change: dag_frames.append(change["new"]), names="value")
    app.status.observe(lambda change: status_lines.append(change["new"]), names="value")
    click(app, CALM["message"], CALM["email"])

    executed = {run.node for run in app.trace.node_runs if run.status == "completed"}
    started = {node for event, node in app.events if event == "node_started"}
    completed = {node for event, node in app.events if event == "node_completed"}
    assert started == completed == executed
    assert {node for event, node in app.events if event == "node_skipped"} >= {
        "escalate_to_human",
        "fetch_account_status",
    }
    assert app.events[-1][0] == "run_finished"

    # the DAG was redrawn while the run went on, in batches (not once per event, which
    # would slow the run down), and some frames show a node still running
    assert 3 <= len(dag_frames) < len(app.events)
    running = [frame for frame in dag_frames if "running" in dag_statuses(frame).values()]
    assert running, "no intermediate drawing showed a running node"
    assert "completed" in dag_statuses(running[-1]).values()
    assert status_lines[0] == "⏳ Running…"
    assert "⏳ extract_customer_info: running (0 done)" in status_lines
    assert any(line.startswith("✅ log_interaction: completed") for line in status_lines)
    assert status_lines[-1].startswith("✅ Done in")


# --------------------------------------------------------------------------- hostile input


def test_hostile_text_is_escaped_everywhere(app):
    click(app, f"Hello {HOSTILE} my order #50422 never arrived. Where is it?")
    assert app.trace.status == "completed"
    shown = all_html(app)
    for piece in shown:
        assert "<script" not in piece.lower()
        assert "<b>x</b>" not in piece
    # the node panels show what the model was sent: the message with its markup made inert
    # (&lt;script&gt;), escaped once more for the page
    panels = [child.value for child in app.nodes.children]
    assert any(html.escape(escape_markup(HOSTILE), quote=True) in panel for panel in panels)


def test_hostile_text_echoed_by_a_model_is_escaped_in_the_reply(server):
    """A real model may repeat the customer's words: the reply tab must still escape."""

    async def echoing_run(message, **kwargs):
        trace = await arun(message, **kwargs)
        trace.state["final_response"] = f"You wrote: {message}"
        return trace

    server.reset()
    app = SupportApp(mock_url=server.url, run_fn=echoing_run)
    click(app, f"Hello {HOSTILE} where is order #50422?")
    assert HOSTILE_ESCAPED in app.reply.value
    assert "<script" not in app.reply.value and "<b>x</b>" not in app.reply.value
    assert text_of(app.reply.value) == f"You wrote: Hello {HOSTILE} where is order #50422?"


def test_hostile_email_is_refused_before_the_run(app):
    click(app, CALM["message"], email='"><script>alert(2)</script>@example.com')
    assert app.trace is None
    assert app.status.value == ERROR_SPAN.format(
        "Please check the email: the email is not a single address (expected name@example.com)"
    )
    for piece in all_html(app):
        assert "<script" not in piece.lower()
    assert not app.button.disabled
    assert app.reply.value == "<i>The reply appears here after a run.</i>"


def test_email_with_html_characters_is_escaped_in_the_node_panels(app):
    # a valid address may still hold ' and &: what was sent shows them as text
    email = "o'neil&sons@example.com"
    click(app, CALM["message"], email=email)
    assert SupportResult.from_trace(app.trace).customer_email == email
    escaped = html.escape(email, quote=True)
    assert escaped == "o&#x27;neil&amp;sons@example.com"
    for piece in all_html(app):
        assert email not in piece
    sent = [app.nodes.children[i].value for i, run in enumerate(app.trace.node_runs)
            if run.node in ("send_response", "log_interaction")]  # fmt: skip
    assert len(sent) == 2 and all(escaped in panel for panel in sent)


# --------------------------------------------------------------------------- errors


def test_empty_message_gives_a_readable_error(app):
    click(app, "   \n ")
    assert app.trace is None
    assert app.status.value == ERROR_SPAN.format(
        "Please check the message: the message is empty (nothing visible in it): type what "
        "the customer wrote"
    )
    assert "Traceback" not in app.status.value
    assert not app.button.disabled
    assert app.reply.value == "<i>The reply appears here after a run.</i>"


def test_too_long_message_gives_a_readable_error(app):
    click(app, "Where is my parcel? " * 500)
    assert app.trace is None
    assert text_of(app.status.value).startswith(
        "❌ Please check the message: the message has 9,999 characters; the limit is 8,000."
    )


def test_server_down_shows_a_readable_failure(server, refused_url):
    app = SupportApp(mock_url=refused_url)
    click(app, CALM["message"])
    assert app.trace is not None and app.trace.status == "failed"
    status = text_of(app.status.value)
    assert status.startswith("❌ The workflow failed:")
    assert "Connection" in status and "Traceback" not in status
    assert app.reply.value == "<i>No reply was produced.</i>"
    assert "failed" in dag_statuses(app.dag.value).values()
    assert not app.button.disabled

    # a new app pointed at a running server works again
    server.reset()
    again = SupportApp(mock_url=server.url)
    click(again, CALM["message"], CALM["email"])
    assert again.trace.status == "completed"
    assert again.status.value.startswith("✅ Done in")


def test_an_exception_from_the_run_function_is_shown_not_raised(server):
    async def broken_run(message, **kwargs):
        raise RuntimeError("the database is on fire")

    app = SupportApp(mock_url=server.url, run_fn=broken_run)
    app.button.click()
    assert text_of(app.status.value) == "❌ RuntimeError: the database is on fire"
    assert not app.button.disabled


# --------------------------------------------------------------------------- widgets


def test_example_picker_fills_message_and_email(app):
    examples = load_examples()
    by_title = dict(app.picker.options)
    assert app.picker.options[0] == ("Pick an example…", "")
    assert len(app.picker.options) == len(examples) + 1

    app.picker.value = by_title["Calm shipping question"]
    assert app.message.value == CALM["message"]
    assert app.email.value == CALM["email"]

    app.picker.value = by_title["Double charge (default)"]  # its email is null
    assert app.message.value == examples[0]["message"]
    assert app.email.value == ""

    app.picker.value = ""  # back to the placeholder: the text stays
    assert app.message.value == examples[0]["message"]


def test_app_displays_as_its_widget_with_a_static_picture(app):
    bundle = app._repr_mimebundle_()
    view = bundle["application/vnd.jupyter.widget-view+json"]
    assert view["model_id"] == app.widget.model_id
    assert "A picture of the app" in bundle["text/html"]  # what a saved notebook shows

    def descendants(widget):
        for child in getattr(widget, "children", ()):
            yield child
            yield from descendants(child)

    parts = list(descendants(app.widget))
    assert all(part in parts for part in (app.message, app.button, app.dag, app.tabs))
    assert app.button.description == "Run workflow"


# --------------------------------------------------------------------------- inside a loop


async def test_click_inside_a_running_loop_starts_a_task(app):
    app.message.value = CALM["message"]
    app.email.value = CALM["email"]
    app.button.click()  # returns at once: the run is a task on this loop
    assert app.task is not None and not app.task.done()
    assert app.trace is None
    await app.task
    assert app.trace.status == "completed"
    assert SupportResult.from_trace(app.trace).inquiry_type == "shipping"
    assert app.status.value.startswith("✅ Done in")
    assert not app.button.disabled


async def test_run_message_awaited_directly(app):
    await app.run_message(CALM["message"], email=CALM["email"])
    assert SupportResult.from_trace(app.trace).final_response in text_of(app.reply.value)
    await app.run_message("")
    assert "Please check the message: the message is empty" in app.status.value


# --------------------------------------------------------------------------- streaming


async def test_the_reply_shows_as_it_streams(app):
    seen = []
    observe = app._observe

    def observe_and_look(event, run, trace):  # look at the reply right after each token
        observe(event, run, trace)
        if event == "node_token":
            app._flush()
            seen.append((run.node, text_of(app.reply.value)))

    app._observe = observe_and_look
    await app.run_message(CALM["message"], email=CALM["email"])
    final = SupportResult.from_trace(app.trace).final_response
    assert len(seen) > 3, "the reply should arrive in pieces"
    pieces = [text for _, text in seen]
    assert all(text.endswith("▌") for text in pieces)  # still being written
    assert all(len(a) <= len(b) for a, b in zip(pieces, pieces[1:], strict=False))  # grows
    assert pieces[-1].rstrip(" ▌") == final.rstrip()
    assert "▌" not in app.reply.value  # the finished reply has no cursor


# --------------------------------------------------------------------------- people in the loop

REFUND = "Hi, I returned the kettle from order #50005 last week. Could I get my refund? Anna"


@pytest.fixture
def store(tmp_path):
    from support_lib.engine import RunStore

    runs = RunStore(tmp_path / "runs.sqlite3")
    yield runs
    runs.close()


def sent_bodies(server) -> list[str]:
    return [e["body"]["body"] for e in server.requests("/support/send")]


async def test_a_high_stakes_reply_waits_and_the_edit_is_what_is_sent(fresh, store):
    app = SupportApp(mock_url=fresh.url, human_in_the_loop=True, store=store)
    await app.run_message(REFUND)
    assert app.trace.status == "waiting"
    assert app.status.value.startswith("⏸️ Waiting for a person at approval_gate")
    assert app.person.form.layout.display == ""  # the form shows
    assert "refund" in text_of(app.person.question.value)
    assert app.person.text.value == app.trace.waiting_for["question"]["reply"]
    assert [b.layout.display for b in app.person.buttons.values()] == ["", "", "", "none"]
    assert app.person.inbox.options[1][1] == app.trace.run_id  # listed as waiting
    assert sent_bodies(fresh) == []

    app.person.text.value = "Hi Anna, your refund is on its way. <b>Sam</b>"
    app.person.by.value = "Sam"
    app.person.buttons["edit"].click()
    await app.task
    assert app.trace.status == "completed"
    assert sent_bodies(fresh) == ["Hi Anna, your refund is on its way. <b>Sam</b>"]
    assert "&lt;b&gt;Sam&lt;/b&gt;" in app.reply.value  # shown as text
    assert app.person.form.layout.display == "none"
    assert len(app.person.inbox.options) == 1  # nothing waits any more
    assert SupportResult.from_trace(app.trace).human["by"] == "Sam"


async def test_an_empty_edit_is_refused_and_the_run_still_waits(fresh, store):
    app = SupportApp(mock_url=fresh.url, human_in_the_loop=True, store=store)
    await app.run_message(REFUND)
    app.person.text.value = "   "
    app.person.buttons["edit"].click()
    assert app.task is None or app.task.done()  # nothing started
    assert "Please check your answer" in app.status.value
    assert app.person.form.layout.display == ""
    assert store.waiting()[0]["run_id"] == app.trace.run_id


async def test_reject_hands_the_case_to_an_agent_then_their_reply_is_sent(fresh, store):
    app = SupportApp(mock_url=fresh.url, human_in_the_loop=True, store=store)
    await app.run_message(REFUND)
    app.person.buttons["reject"].click()
    await app.task
    assert app.trace.status == "waiting"
    assert app.trace.waiting_for["question"]["kind"] == "agent_reply"
    shown = [b.layout.display for b in app.person.buttons.values()]
    assert shown == ["none", "none", "none", ""]  # only "Send reply"
    app.person.text.value = "Hi Anna, I checked by hand: refunded. Sam"
    app.person.buttons["reply"].click()
    await app.task
    assert app.trace.status == "completed"
    assert sent_bodies(fresh) == ["Hi Anna, I checked by hand: refunded. Sam"]


async def test_a_run_left_waiting_elsewhere_can_be_opened_and_approved(fresh, store):
    left = await arun(REFUND, mock_url=fresh.url, human_in_the_loop=True, store=store)
    assert left.status == "waiting"
    app = SupportApp(mock_url=fresh.url, human_in_the_loop=True, store=store)
    assert [value for _, value in app.person.inbox.options] == ["", left.run_id]
    app.person.inbox.value = left.run_id
    app.person.open_button.click()
    assert app.trace.run_id == left.run_id and app.person.form.layout.display == ""
    app.person.buttons["approve"].click()
    await app.task
    assert app.trace.status == "completed"
    assert sent_bodies(fresh) == [left.waiting_for["question"]["reply"]]
