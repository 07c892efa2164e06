"""Lesson 08's exercises: SQL, throughput, intervals, the reviewer, faster evaluation.

A run over the test split takes half a minute, too long for a check. So most exercises ask
for what the learner built (a query, a function, a prompt, a workflow) and the checkers run
it on small inputs of their own, where they know the right answer; a real batch is
spot-checked on a few rows. No check scores anything on the test split: one that did would
let a learner tune on it. Only the dev split is for tuning.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Set
from typing import Any

from support_lib.batch import wilson

from . import as_pair, exercise, expect

FIELDS = ("inquiry_type", "sentiment", "urgency")


def _offline() -> dict[str, Any]:
    """arun's keywords for the kernel's mock server and the offline model, whatever the
    environment says: the checks compare with the stand-in."""
    from support_lib.kit import local_mock
    from support_lib.llm import resolve_backend

    server = local_mock()
    return {"mock_url": server.url, "backend": resolve_backend(server.openai_base_url, env={})}


def _named(number: int, name: str) -> Any:
    """A made-up finished run whose model found ``name`` (to check a function fast)."""
    from support_lib.engine import Trace
    from support_lib.workflow import SupportResult

    info = {"customer_name": name, "order_id": None, "product": None, "urgency": "medium",
            "subject": "A question"}  # fmt: skip
    trace = Trace(f"run-{number:012d}", "customer_support", "", {}, {}, "completed")
    trace.state["customer_info"] = info
    return SupportResult.from_trace(trace)


def _jsonl(*parts: str) -> list[dict[str, Any]]:
    """The rows of a JSON-lines file of the kit's data folder."""
    from support_lib.examples import DATA

    text = DATA.joinpath(*parts).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


# ----------------------------------------------------------------------------- 08.1

LOGS = [  # (sentiment, inquiry_type, escalated): the made-up table the query runs on
    ("negative", "technical", 1), ("negative", "billing", 1), ("negative", "account", 1),
    ("negative", "shipping", 0), ("neutral", "billing", 1), ("neutral", "shipping", 0),
    ("neutral", "general", 0), ("positive", "general", 0), ("positive", "product", 0),
]  # fmt: skip


@exercise(
    "08.1",
    "escalation rate per sentiment",
    hint="AVG over a 0/1 column is the share of 1s: SELECT sentiment, AVG(escalated) AS rate "
    "FROM analytics_logs GROUP BY sentiment.",
    solution="""
answer = (
    "SELECT sentiment, AVG(escalated) AS rate FROM analytics_logs "
    "GROUP BY sentiment ORDER BY rate DESC"
)
""",
    wrong=(
        # a count of escalations, not a rate
        'answer = "SELECT sentiment, SUM(escalated) AS rate FROM analytics_logs GROUP BY 1"',
        # only the escalated rows are left to average: every rate is 1
        'answer = ("SELECT sentiment, AVG(escalated) AS rate FROM analytics_logs "\n'
        '          "WHERE escalated = 1 GROUP BY sentiment")',
        # the sentiments in capitals: the table holds them in lower case, so no row is left
        'answer = ("SELECT sentiment, AVG(escalated) AS rate FROM analytics_logs "\n'
        "          \"WHERE sentiment IN ('Negative', 'Neutral', 'Positive') GROUP BY 1\")",
    ),
    praise="Right. Now run it on the batch with server.query(answer).",
)
def _rate_per_sentiment(answer: Any) -> None:
    """The query runs on a made-up table whose rates the checker knows (a rate rounded to
    two decimals is right too)."""
    from mock_server.store import Store

    expect(isinstance(answer, str), "give the SQL query itself (a string)")
    store = Store(":memory:")
    try:
        for i, (sentiment, inquiry, escalated) in enumerate(LOGS):
            store.insert("analytics_logs", {"log_id": f"LOG-{i}", "sentiment": sentiment,
                         "inquiry_type": inquiry, "escalated": escalated,
                         "logged_at": "", "body": "{}"})  # fmt: skip
        rows = store.query(answer)
    finally:
        store.close()
    expect(
        rows,
        f"on a test table of {len(LOGS)} runs (sentiments written in lower case: negative, "
        "neutral, positive) your query returns no rows: does a WHERE leave them all out?",
    )
    expect("sentiment" in rows[0], "the query must return a column named sentiment")
    expect("rate" in rows[0], "name the rate's column rate (… AS rate)")
    got = {row["sentiment"]: row["rate"] for row in rows}
    expect(len(got) == 3 == len(rows), f"one row per sentiment, please: got {len(rows)} rows")
    for sentiment in got:
        flags = [escalated for s, _, escalated in LOGS if s == sentiment]
        rate = sum(flags) / len(flags)
        expect(
            isinstance(got[sentiment], (int, float)) and abs(got[sentiment] - rate) <= 0.005,
            f"on a test table where {sum(flags)} of {len(flags)} {sentiment} runs escalated, "
            f"your query gives {got[sentiment]!r} instead of the share {rate:.3f}",
        )


# ----------------------------------------------------------------------------- 08.2


MEASURE = """
import asyncio
import concurrent.futures
import time

from support_lib.batch import arun_batch
from support_lib.examples import load_examples
from support_lib.kit import local_mock

server = local_mock()
messages = [e["message"] for e in load_examples()[:8]]


async def timed_batch(concurrency):
    started = time.perf_counter()
    traces = await arun_batch(messages, concurrency=concurrency, progress=False,
                              mock_url=server.url)
    return time.perf_counter() - started, traces


def measure(concurrency):  # in a cell, `await timed_batch(c)`; a thread with its own loop
    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # also works outside one
        return pool.submit(asyncio.run, timed_batch(concurrency)).result()

"""  # the measurement the solution and the wrong answers share
BATCHES = MEASURE + "\nmeasure(8)\n%s\ntimed = {c: measure(c) for c in (1, 2, 4, 8)}\n"


@exercise(
    "08.2",
    "throughput against concurrency",
    hint="Keep each batch's traces: batches[c] = await arun_batch(...), timed with "
    "time.perf_counter(); speedups[c] = (seconds at concurrency 1) / (seconds at c); "
    "server.configure(latency_ms=50) while you measure and latency_ms=0 afterwards.",
    solution=MEASURE
    + """
measure(8)  # a first pass, not timed: one-time work (loading the model...) is not measured
server.configure(latency_ms=50)  # every model call now waits 50 ms, like a remote API
try:
    timed = {c: measure(c) for c in (1, 2, 4, 8)}
finally:
    server.configure(latency_ms=0)  # back to full speed
speedups = {c: timed[1][0] / seconds for c, (seconds, _) in timed.items()}
batches = {c: traces for c, (_, traces) in timed.items()}
answer = (speedups, batches)
""",
    wrong=(
        # numbers typed in, with no batch behind them
        "answer = ({1: 1.0, 2: 1.9, 4: 3.5, 8: 6.0}, {})",
        # the durations, not the speed-ups (traces of real batches, latency on)
        BATCHES % "server.configure(latency_ms=50)" + "server.configure(latency_ms=0)\n"
        "answer = ({c: seconds for c, (seconds, _) in timed.items()},\n"
        "          {c: traces for c, (_, traces) in timed.items()})",
        # speed-ups typed in beside real batches: not what those batches show
        BATCHES % "server.configure(latency_ms=50)" + "server.configure(latency_ms=0)\n"
        "answer = ({1: 1.0, 2: 0.9, 4: 0.9, 8: 1.6},\n"
        "          {c: traces for c, (_, traces) in timed.items()})",
        # measured without the latency knob: the model answers in milliseconds
        BATCHES
        % ""
        + "answer = ({c: timed[1][0] / seconds for c, (seconds, _) in timed.items()},\n"
        "          {c: traces for c, (_, traces) in timed.items()})",
    ),
)
def _throughput(answer: Any) -> None:
    """Times vary by machine, so no figure is expected: the speed-ups must make sense, and
    they must be the ones the learner's own batches show. Each trace records when its run
    started and how long it took, so the checker recomputes every batch's duration and
    compares ratios (with room for the time ``arun_batch`` spends outside the runs); a
    model call that took under 50 ms means the latency knob was off."""
    import httpx

    from support_lib.engine import Trace
    from support_lib.kit import local_mock

    pair = as_pair(answer)
    expect(pair is not None, "give a pair: (speedups, batches)")
    speedups, batches = pair
    expect(isinstance(speedups, dict), "give a dict of speed-ups: concurrency -> speed-up")
    expect(sorted(speedups) == [1, 2, 4, 8], f"measure at 1, 2, 4 and 8, not {sorted(speedups)}")
    expect(all(isinstance(v, (int, float)) and v > 0 for v in speedups.values()), "give numbers")
    expect(
        isinstance(batches, dict) and sorted(batches) == [1, 2, 4, 8],
        "give each batch's traces too: batches[c] = the list arun_batch returned at concurrency c",
    )
    for c, traces in batches.items():
        expect(
            isinstance(traces, (list, tuple))
            and len(traces) >= 4
            and all(isinstance(t, Trace) and t.duration_ms is not None for t in traces),
            f"batches[{c}] is not a finished batch's list of traces (at least four runs)",
        )
    run_ids = [t.run_id for traces in batches.values() for t in traces]
    expect(len(set(run_ids)) == len(run_ids), "a run appears in two batches: time each one")
    model_ms = [
        r.duration_ms
        for traces in batches.values()
        for t in traces
        for r in t.node_runs
        if r.kind == "llm" and r.status == "completed" and r.duration_ms is not None
    ]
    expect(
        model_ms and min(model_ms) >= 45,
        f"a model call took {min(model_ms, default=0):.0f} ms: measure with "
        "server.configure(latency_ms=50), so the model answers like a remote API",
    )
    expect(
        speedups[8] > speedups[1],
        "your numbers fall as concurrency grows: those are durations, or the ratio is upside "
        "down (speed-up = seconds at concurrency 1 / seconds at concurrency c)",
    )
    expect(
        0.75 <= speedups[1] <= 1.33, f"at concurrency 1 the speed-up is about 1, not {speedups[1]}"
    )
    spans = {c: _span_ms(traces) for c, traces in batches.items()}
    for c in (2, 4, 8):
        shown = spans[1] / spans[c]
        expect(
            shown / 1.5 <= speedups[c] <= shown * 1.5,
            f"your batches' traces show a speed-up of {shown:.2f} at concurrency {c}, "
            f"your answer says {speedups[c]:.2f}: time the same batches you give",
        )
    expect(speedups[8] >= 1.5, f"eight at a time should be clearly faster: {speedups[8]:.2f}x")
    latency = httpx.get(local_mock().url + "/_config", trust_env=False).json()["latency_ms"]
    expect(latency == 0, f"the mock server still adds {latency} ms: set latency_ms=0 again")


def _span_ms(traces: Any) -> float:
    """From the first run's start to the last run's end, in milliseconds."""
    from datetime import datetime

    starts = [datetime.fromisoformat(t.started_at).timestamp() * 1000 for t in traces]
    ends = [s + t.duration_ms for s, t in zip(starts, traces, strict=True)]
    return max(ends) - min(starts)


# ----------------------------------------------------------------------------- 08.3

NAME_CASES = [  # (what the model found, the label): "Unknown" and None both mean no name
    ("Anna", "Anna"), ("Unknown", None), ("Unknown", "Tomás"), ("Sam", None),
    ("Unknown", None), ("Rekha Patel", "Rekha Patel"), ("Priya", "Priya"),
]  # fmt: skip


@exercise(
    "08.3",
    "name accuracy, with its interval",
    hint="A name matches when both are the same, or when the model says 'Unknown' and the "
    "label is None. The interval is wilson(correct, len(rows)).",
    solution="""
from support_lib.exercises.lesson08 import wilson  # the same function as section 5's


def name_score(results, rows):
    missed = []
    for result, row in zip(results, rows):
        found = result.customer.customer_name
        if (None if found == "Unknown" else found) != row["customer_name"]:
            missed.append(row["id"])
    return missed, wilson(len(rows) - len(missed), len(rows))


answer = name_score
""",
    wrong=(
        # "Unknown" is not None: every message without a name counts as a miss
        "from support_lib.exercises.lesson08 import wilson\n"
        "def name_score(results, rows):\n"
        "    missed = [row['id'] for r, row in zip(results, rows)\n"
        "              if r.customer.customer_name != row['customer_name']]\n"
        "    return missed, wilson(len(rows) - len(missed), len(rows))\n"
        "answer = name_score",
        # the textbook (Wald) interval instead of Wilson's
        "import math\n"
        "def name_score(results, rows):\n"
        "    found = [r.customer.customer_name.replace('Unknown', '') or None for r in results]\n"
        "    missed = [row['id'] for f, row in zip(found, rows) if f != row['customer_name']]\n"
        "    p = 1 - len(missed) / len(rows); half = 1.96 * math.sqrt(p * (1 - p) / len(rows))\n"
        "    return missed, (p - half, p + half)\n"
        "answer = name_score",
        # the number of misses, not their ids
        "from support_lib.exercises.lesson08 import wilson\n"
        "def name_score(results, rows):\n"
        "    found = [r.customer.customer_name.replace('Unknown', '') or None for r in results]\n"
        "    missed = sum(f != row['customer_name'] for f, row in zip(found, rows))\n"
        "    return missed, wilson(len(rows) - missed, len(rows))\n"
        "answer = name_score",
    ),
)
def _name_score(answer: Any) -> None:
    """Run on a made-up batch with a missed name, an invented one and no-name rows."""
    expect(callable(answer), "give the function name_score(results, rows)")
    results = [_named(i, found) for i, (found, _) in enumerate(NAME_CASES)]
    rows = [{"id": f"n{i}", "customer_name": label} for i, (_, label) in enumerate(NAME_CASES)]
    missed = [f"n{i}" for i, (found, label) in enumerate(NAME_CASES)
              if (None if found == "Unknown" else found) != label]  # fmt: skip
    given = answer(results, rows)
    got = as_pair(given)
    expect(got is not None, f"return a pair: (missed ids, (low, high)), not {given!r:.60}")
    expect(
        isinstance(got[0], (list, tuple, Set)),
        f"the first item should be the list of the missed rows' ids, not {got[0]!r:.40}",
    )
    expect(
        sorted(got[0], key=str) == missed,
        f"in a made-up batch of {len(rows)} where {missed} are wrong (a name missed, a name "
        f"invented), you report {str(got[0])[:80]}",
    )
    correct = len(rows) - len(missed)
    low, high = wilson(correct, len(rows))
    ci = got[1]
    expect(
        isinstance(ci, (tuple, list))
        and len(ci) == 2
        and all(isinstance(x, (int, float)) for x in ci),
        f"the interval is a pair of numbers (low, high), not {ci!r:.60}",
    )
    expect(
        abs(ci[0] - low) < 1e-6 and abs(ci[1] - high) < 1e-6,
        f"the Wilson interval of {correct}/{len(rows)} is ({low:.3f}, {high:.3f}), yours is "
        f"({ci[0]:.3f}, {ci[1]:.3f})",
    )


# ----------------------------------------------------------------------------- 08.4


@exercise(
    "08.4",
    "training data is not a test",
    hint="rows = load_labeled(); traces = await arun_batch(rows, progress=False); then "
    "evaluate(traces, rows, fields=FIELDS): the traces in the order of the rows.",
    solution="""
import asyncio
import concurrent.futures

from support_lib.batch import arun_batch, evaluate
from support_lib.examples import load_labeled

rows = load_labeled()
with concurrent.futures.ThreadPoolExecutor(1) as pool:  # in a cell: await arun_batch(...)
    traces = pool.submit(asyncio.run, arun_batch(rows, progress=False)).result()
answer = evaluate(traces, rows, fields=("inquiry_type", "sentiment", "urgency"))
""",
    wrong=(
        # a few rows are not the set
        "from support_lib.batch import evaluate\n"
        "from support_lib.examples import load_labeled\n"
        "from support_lib.kit import run\n"
        "rows = load_labeled()[:5]\n"
        "answer = evaluate([run(r['message']) for r in rows], rows)",
        # the test split's report, not the 132 messages'
        "answer = {'runs': 373, 'failed_runs': 0, 'fields': {f: {'scored': 373, 'errors': []}\n"
        "          for f in ('inquiry_type', 'sentiment', 'urgency')}}",
    ),
)
async def _train_report(answer: Any) -> None:
    """A few rows are run again: the report's errors must agree with them."""
    from support_lib.batch import arun_batch
    from support_lib.examples import load_labeled
    from support_lib.workflow import SupportResult

    rows = load_labeled()
    expect(isinstance(answer, dict) and "fields" in answer, "give the report evaluate returned")
    runs = answer.get("runs")
    expect(runs == len(rows), f"the set has {len(rows)} messages, the report scores {runs} runs")
    expect(answer.get("failed_runs") == 0, f"{answer.get('failed_runs')} runs failed")
    missing = [f for f in FIELDS if f not in answer["fields"]]
    expect(not missing, f"the report does not score {', '.join(missing)}")
    sample = list(range(0, len(rows), 33))  # a spot check: rerun a few rows
    traces = await arun_batch([rows[i] for i in sample], progress=False, **_offline())
    for field in FIELDS:
        wrong = {e["index"] for e in answer["fields"][field].get("errors", [])}
        for i, trace in zip(sample, traces, strict=True):
            said = getattr(SupportResult.from_trace(trace), field)
            expect(
                (i in wrong) == (said != rows[i][field]),
                f"row {i} ({rows[i]['id']}): the model says {field} {said}, the label "
                f"{rows[i][field]}, but your report {'counts' if i in wrong else 'misses'} "
                "it as an error: are the traces in the order of the rows?",
            )


# ----------------------------------------------------------------------------- 08.5


async def _passes(prompt: Any, rows: list[dict[str, Any]]) -> list[bool]:
    """The reviewer's pass/fail on each row, with ``prompt`` as its prompt."""
    from support_lib.kit import open_deps
    from support_lib.llm import ModelRequest
    from support_lib.workflow.reply import PASS_SCORE, QualityScore

    async with open_deps(_offline()["mock_url"], _offline()["backend"]) as deps:

        async def one(row: dict[str, Any]) -> bool:
            """The reviewer's verdict on one judged reply."""
            values = {"customer_message": row["message"], "customer_info": None,
                      "candidate_response": row["reply"]}  # fmt: skip
            values["account_action"] = row["account_action"]
            request = ModelRequest("score_response", prompt.render(values), QualityScore)
            return (await deps.llm.complete(request)).value.score >= PASS_SCORE

        return list(await asyncio.gather(*(one(row) for row in rows)))


@exercise(
    "08.5",
    "show the reviewer the account",
    hint="Keep QUALITY_PROMPT's system text and its user template, and add one block at the "
    "end: <account_action>{{account_action}}</account_action>.",
    solution="""
from support_lib.llm import Prompt
from support_lib.workflow.reply import QUALITY_PROMPT

answer = Prompt(
    QUALITY_PROMPT.system,
    QUALITY_PROMPT.user + "\\n<account_action>{{account_action}}</account_action>",
)
""",
    wrong=(
        # a tag the reviewer does not read
        "from support_lib.llm import Prompt\n"
        "from support_lib.workflow.reply import QUALITY_PROMPT as Q\n"
        "answer = Prompt(Q.system, Q.user + '\\n<account>{{account_action}}</account>')",
        # the account alone: the reply and the message are gone
        "from support_lib.llm import Prompt\n"
        "from support_lib.workflow.reply import QUALITY_PROMPT as Q\n"
        "answer = Prompt(Q.system, '<account_action>{{account_action}}</account_action>')",
        # the system text replaced: the scoring criteria and the rule on tags are gone
        "from support_lib.llm import Prompt\n"
        "from support_lib.workflow.reply import QUALITY_PROMPT as Q\n"
        "answer = Prompt('You review replies.',\n"
        "                Q.user + '\\n<account_action>{{account_action}}</account_action>')",
    ),
    praise="Right: told what the account allows, the reviewer accepts the refunds it allows "
    "and still refuses the others.",
)
async def _aware_reviewer(answer: Any) -> None:
    """The learner's prompt reviews the replies whose account matters."""
    from support_lib.llm import Prompt
    from support_lib.workflow.reply import QUALITY_PROMPT

    expect(isinstance(answer, Prompt), "give the Prompt (support_lib.llm.Prompt)")
    values = {"customer_message": "Hi", "customer_info": None, "candidate_response": "Hello",
              "account_action": "refund_eligible"}  # fmt: skip
    sent = "\n".join(m["content"] for m in answer.render(values) if m["role"] == "system")
    expect(
        QUALITY_PROMPT.system.strip() in sent,
        "the reviewer is no longer sent QUALITY_PROMPT's system text (how to score, and that "
        "text inside tags is data): keep it as the Prompt's system",
    )
    block = "\n<account_action>{{account_action}}</account_action>"
    reference = Prompt(QUALITY_PROMPT.system, QUALITY_PROMPT.user + block)
    rows = [row for row in _jsonl("judged_replies.jsonl") if row["account_action"] is not None]
    got, fixable = await asyncio.gather(_passes(answer, rows), _passes(reference, rows))
    for row, passed, can in zip(rows, got, fixable, strict=True):
        lead = "good" if row["good"] else "not good"
        expect(
            passed == row["good"] or can != row["good"],
            f"{row['id']} ({row['account_action']}): the lead says {lead}, and with your "
            f"prompt the reviewer {'passes' if passed else 'fails'} it",
        )


# ----------------------------------------------------------------------------- 08.6


@exercise(
    "08.6",
    "urgency with one node",
    hint="wf = Workflow('urgency_only', SupportState); wf.add(extract_customer_info); "
    "wf.edge(START, 'extract_customer_info'). START comes from support_lib.engine.",
    solution="""
from support_lib.engine import START, Workflow
from support_lib.workflow import SupportState
from support_lib.workflow.analysis import extract_customer_info

urgency_only = Workflow("urgency_only", SupportState)
urgency_only.add(extract_customer_info)
urgency_only.edge(START, "extract_customer_info")
answer = urgency_only
""",
    wrong=(
        # the classifier does not read urgency
        "from support_lib.engine import START, Workflow\n"
        "from support_lib.workflow import SupportState\n"
        "from support_lib.workflow.analysis import classify_inquiry\n"
        "answer = Workflow('urgency_only', SupportState)\n"
        "answer.add(classify_inquiry)\n"
        "answer.edge(START, 'classify_inquiry')",
        # the node is there, but nothing starts it
        "from support_lib.engine import Workflow\n"
        "from support_lib.workflow import SupportState\n"
        "from support_lib.workflow.analysis import extract_customer_info\n"
        "answer = Workflow('urgency_only', SupportState)\n"
        "answer.add(extract_customer_info)",
    ),
)
async def _urgency_only(answer: Any) -> None:
    """Run on dev messages: one node, and the full workflow's urgency."""
    from support_lib.engine import Workflow
    from support_lib.kit import arun
    from support_lib.workflow import SupportResult

    expect(isinstance(answer, Workflow), "give the Workflow you built")
    answer.validate()
    for row in [_jsonl("corpus", "dev.jsonl")[i] for i in (0, 40, 120)]:
        mine = await arun(row["message"], workflow=answer, **_offline())
        ran = [r.node for r in mine.node_runs if r.status != "skipped"]
        urgency = SupportResult.from_trace(mine).urgency
        expect(urgency is not None, f"runs of your workflow give no urgency (nodes run: {ran})")
        expect(len(ran) == 1, f"{len(ran)} nodes ran ({', '.join(ran)}): one is enough")
        full = SupportResult.from_trace(await arun(row["message"], **_offline())).urgency
        expect(urgency == full, f"{row['id']}: yours says {urgency}, the full workflow {full}")


# ----------------------------------------------------------------------------- 08.7


@exercise(
    "08.7",
    "an urgency rule, tuned on dev",
    hint="Read the dev split's urgency errors and its high messages (deadlines, 'asap', "
    "'today'...) and low ones ('no rush'); answer 'medium' otherwise. Tune on dev, never test.",
    solution="""
import re


def urgency_rule(message):
    text = message.lower()
    if re.search(r"\\b(urgent|asap|immediately|right now|today|tomorrow|deadline)\\b", text):
        return "high"
    if re.search(r"no rush|no hurry|whenever|when you get a chance", text):
        return "low"
    return "medium"


answer = urgency_rule
""",
    wrong=(
        'answer = lambda message: "medium"  # the most common label, always',
        'answer = lambda message: "high" if "!" in message else "medium"  # excitement',
        'answer = lambda message: "HIGH" if "asap" in message.lower() else "MEDIUM"',
        # dev's labels learned by heart: right on dev, and no rule at all anywhere else
        "import json\n"
        "from support_lib.examples import DATA\n"
        "rows = [json.loads(line) for line in (DATA / 'corpus' / 'dev.jsonl').open()]\n"
        "labels = {row['message']: row['urgency'] for row in rows}\n"
        "answer = lambda message: labels.get(message, 'medium')",
    ),
    praise="Right, on the dev split. Now measure it on the test split once, write the number "
    "down, and do not change the rule after that.",
)
def _urgency_rule(answer: Any) -> None:
    """Scored on the dev split, where the learner tunes, and then on the train split, which
    the lesson never shows: a rule has to do better than always "medium" there too, so
    dev's labels learned by heart do not pass. Never on the test split: a check on it would
    tune on it."""
    from support_lib.workflow import URGENCIES

    expect(callable(answer), "give the function urgency_rule(message) -> urgency")
    rows = _jsonl("corpus", "dev.jsonl")
    said = [answer(row["message"]) for row in rows]
    odd = sorted({str(s) for s in said} - set(URGENCIES))
    expect(not odd, f"{odd[:3]} are not urgencies: answer one of {', '.join(URGENCIES)}")
    right = sum(s == row["urgency"] for s, row in zip(said, rows, strict=True))
    medium = sum(row["urgency"] == "medium" for row in rows)
    expect(
        right > medium,
        f"on the dev split your rule is right {right} times of {len(rows)}; always answering "
        f"medium is right {medium} times",
    )
    high = [s for s, row in zip(said, rows, strict=True) if row["urgency"] == "high"]
    found = sum(s == "high" for s in high)
    expect(
        found >= len(high) / 2,
        f"it finds {found} of the dev split's {len(high)} high-urgency messages: a missed "
        "high is the costly error, find at least half",
    )
    unseen = _jsonl("corpus", "train.jsonl")  # messages the learner did not tune on
    right = sum(answer(row["message"]) == row["urgency"] for row in unseen)
    medium = sum(row["urgency"] == "medium" for row in unseen)
    expect(
        right > medium,
        f"right on dev, but on {len(unseen)} messages it was not tuned on (the train split) "
        f"it is right {right} times, and always answering medium {medium} times: it has "
        "learned dev's messages, not urgency. Write cues that any message can have",
    )
