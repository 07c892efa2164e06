"""Run the workflow over many messages at once, then measure it against labels.

``await arun_batch(messages)`` runs :func:`support_lib.kit.arun` for every message, at
most ``concurrency`` at a time (an ``asyncio.Semaphore``), and returns the traces in the
order of the input. One failed run does not stop the batch: its slot holds a trace with
``status == "failed"`` and the reason in ``trace.error``.

``evaluate(traces, labels)`` compares what the workflow decided with the labeled set
(``support_lib.examples.load_labeled()``): accuracy per field, precision and recall per
class, and a confusion matrix, all as plain dicts. ``ConfusionMatrix`` draws one as an
HTML table in a notebook (plain text elsewhere).
"""

from __future__ import annotations

import asyncio
import html
import math
import sys
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from .engine import Trace
from .kit import arun
from .workflow import INQUIRY_TYPES, SENTIMENTS, URGENCIES, SupportResult

# ----------------------------------------------------------------------------- running

MESSAGE_KEYS = ("email", "ticket_id", "history")
"""Keys of a dict message passed on to ``arun`` (besides ``message``); others are ignored,
so rows of the labeled set can be passed as they are."""


async def arun_batch(
    messages: Sequence[str | Mapping[str, Any]],
    *,
    concurrency: int = 8,
    progress: bool | None = None,
    **arun_kwargs: Any,
) -> list[Trace]:
    """Run the workflow once per message, ``concurrency`` runs at a time.

    A message is a string or a dict with ``message`` and optionally ``email``,
    ``ticket_id``, ``history``. ``arun_kwargs`` go to every ``arun`` call (``mock_url``,
    ``workflow``, ``observers``...). ``progress``: ``True`` shows a progress bar, ``False``
    none, ``None`` (default) one where it is harmless: in a notebook, or on a terminal.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be 1 or more")
    arun_kwargs["check"] = False  # a failed run is a result, not the end of the batch
    semaphore = asyncio.Semaphore(concurrency)
    bar = make_progress(len(messages), progress)
    results: list[Trace | None] = [None] * len(messages)

    async def one(index: int, item: str | Mapping[str, Any]) -> None:
        async with semaphore:
            results[index] = await _run_one(item, arun_kwargs)
        bar.advance(failed=results[index].status == "failed")

    try:
        await asyncio.gather(*(one(i, item) for i, item in enumerate(messages)))
    finally:
        bar.close()
    return results  # type: ignore[return-value]  # every slot is filled by now


async def _run_one(item: str | Mapping[str, Any], kwargs: dict[str, Any]) -> Trace:
    """One run; an exception before the workflow starts (an empty message, a server that
    is down) becomes a failed trace, so the batch carries on."""
    if isinstance(item, Mapping):
        message = item.get("message", "")
        extra = {key: item[key] for key in MESSAGE_KEYS if item.get(key) is not None}
    else:
        message, extra = item, {}
    try:
        return await arun(message, **extra, **kwargs)
    except Exception as exc:
        return failed_trace(message, exc)


PREVIEW_CHARS = 200


def failed_trace(message: Any, exc: BaseException) -> Trace:
    """A trace for a run that could not start: no nodes ran, the error says why. It keeps
    the start of the refused message (the batch's list has all of it): a 10 MB message
    refused for its size should not make every saved batch 10 MB."""
    shown = message if isinstance(message, str) else repr(message)
    if len(shown) > PREVIEW_CHARS:
        shown = f"{shown[:PREVIEW_CHARS]}… ({len(shown):,} characters in all)"
    return Trace(
        run_id=f"run-{uuid.uuid4().hex[:12]}",
        workflow="customer_support",
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        inputs={"customer_message": shown},
        graph={},
        status="failed",
        duration_ms=0.0,
        error=f"{type(exc).__name__}: {exc}",
    )


# ----------------------------------------------------------------------------- progress


class _NoProgress:
    def advance(self, failed: bool = False) -> None:
        pass

    def close(self) -> None:
        pass


class _WidgetProgress(_NoProgress):
    """An ``IntProgress`` bar and an "n/total" label, shown in the notebook.

    The widgets are updated at most about a hundred times (every ``step`` runs, and at the
    end): a bar shows no finer steps, and every update is two messages on the kernel's
    output channel. A tool that reads that channel only when the cell ends (nbval,
    nbclient) loses messages past about a thousand, so a batch of 763 runs that updated
    on every run once made nbval miss the end of the cell."""

    def __init__(self, total: int):
        import ipywidgets as widgets
        from IPython.display import display

        self.total, self.done, self.failed = total, 0, 0
        self.step = max(1, total // 100)
        self.bar = widgets.IntProgress(value=0, min=0, max=max(total, 1), description="runs")
        self.label = widgets.Label(f"0/{total}")
        display(widgets.HBox([self.bar, self.label]))

    def advance(self, failed: bool = False) -> None:
        self.done += 1
        self.failed += failed
        if self.done % self.step == 0 or self.done == self.total:
            self._show()

    def _show(self) -> None:
        self.bar.value = self.done
        note = f" ({self.failed} failed)" if self.failed else ""
        self.label.value = f"{self.done}/{self.total}{note}"

    def close(self) -> None:
        self._show()  # the last count, whatever step it fell on
        self.bar.bar_style = "warning" if self.failed else "success"


class _TextProgress(_NoProgress):
    """A one-line bar on stderr, redrawn in place with a carriage return."""

    def __init__(self, total: int, width: int = 30):
        self.total, self.done, self.failed, self.width = total, 0, 0, width
        self._draw()

    def _draw(self, end: str = "") -> None:
        filled = self.width * self.done // max(self.total, 1)
        note = f" ({self.failed} failed)" if self.failed else ""
        bar = "#" * filled + "." * (self.width - filled)
        sys.stderr.write(f"\rruns [{bar}] {self.done}/{self.total}{note}{end}")
        sys.stderr.flush()

    def advance(self, failed: bool = False) -> None:
        self.done += 1
        self.failed += failed
        self._draw()

    def close(self) -> None:
        self._draw(end="\n")


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where widgets can be displayed)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def make_progress(total: int, progress: bool | None) -> _NoProgress:
    """The progress display for ``arun_batch`` (see its ``progress`` argument)."""
    if progress is False:
        return _NoProgress()
    if in_notebook():
        return _WidgetProgress(total)
    if progress or sys.stderr.isatty():  # auto: only on a terminal, never into CI logs
        return _TextProgress(total)
    return _NoProgress()


# ----------------------------------------------------------------------------- evaluation

MISSING = "(none)"
"""The predicted label of a run that produced no value (it failed before deciding)."""


FIELDS: dict[str, tuple[str, Callable[[SupportResult], Any], tuple[Any, ...]]] = {
    "inquiry_type": ("inquiry_type", lambda r: r.inquiry_type, INQUIRY_TYPES),
    "sentiment": ("sentiment", lambda r: r.sentiment, SENTIMENTS),
    "urgency": ("urgency", lambda r: r.urgency, URGENCIES),
    "escalation": ("expected_escalation", lambda r: r.escalated, (True, False)),
}
"""field → (key in a label row, how to read the prediction from a run's result, classes
in display order). A label of None is not scored (the labeled set leaves some
escalations open: reasonable people would decide either way)."""

DEFAULT_FIELDS = ("inquiry_type", "sentiment", "urgency", "escalation")


def _class_name(value: Any) -> str:
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "escalate" if value else "respond"
    return str(value)


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def wilson(correct: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval of the share ``correct / n``: honest for small ``n``
    and near 100%, where the textbook formula leaves 0-100% (lesson 08 derives it)."""
    if n == 0:
        return 0.0, 1.0  # no data: the share could be anything
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def evaluate(
    traces: Sequence[Trace],
    labels: Sequence[Mapping[str, Any]],
    fields: Iterable[str] = DEFAULT_FIELDS,
) -> dict[str, Any]:
    """Score traces against label rows (same order, same length).

    For each field: ``scored`` (rows with a label), ``correct``, ``accuracy``,
    ``classes`` (per class: support, predicted, correct, precision, recall),
    ``confusion`` (``confusion[expected][predicted] = count``, every class as a row and a
    column) and ``errors`` (the rows it got wrong: index, id, expected, predicted).
    Escalation classes are shown as "escalate" / "respond"; a failed run predicts "(none)".
    """
    if len(traces) != len(labels):
        raise ValueError(f"{len(traces)} traces but {len(labels)} labels: pass them in pairs")
    results = [SupportResult.from_trace(trace) for trace in traces]
    report: dict[str, Any] = {
        "runs": len(traces),
        "failed_runs": sum(t.status == "failed" for t in traces),
        "fields": {},
    }
    for field in fields:
        if field not in FIELDS:
            raise ValueError(f"unknown field {field!r}; choose from {', '.join(FIELDS)}")
        label_key, predict, known = FIELDS[field]
        pairs = [
            (_class_name(row[label_key]), _class_name(predict(result)), index, row)
            for index, (result, row) in enumerate(zip(results, labels, strict=True))
            if row.get(label_key) is not None
        ]
        report["fields"][field] = _score(pairs, [_class_name(k) for k in known])
    return report


def _score(pairs: list[tuple[str, str, int, Mapping[str, Any]]], known: list[str]) -> dict:
    """Accuracy, per-class precision and recall, the confusion matrix and the errors of
    (expected, predicted, index, row) pairs; ``known`` classes come first, in order."""
    seen = {name for expected, predicted, _, _ in pairs for name in (expected, predicted)}
    classes = known + sorted(seen - set(known))
    confusion = {e: dict.fromkeys(classes, 0) for e in classes}
    for expected, predicted, _, _ in pairs:
        confusion[expected][predicted] += 1
    correct = sum(confusion[c][c] for c in classes)
    per_class = {}
    for c in classes:
        support = sum(confusion[c].values())
        predicted_as = sum(confusion[e][c] for e in classes)
        per_class[c] = {
            "support": support,
            "predicted": predicted_as,
            "correct": confusion[c][c],
            "precision": _ratio(confusion[c][c], predicted_as),
            "recall": _ratio(confusion[c][c], support),
        }
    return {
        "scored": len(pairs),
        "correct": correct,
        "accuracy": _ratio(correct, len(pairs)),
        "classes": per_class,
        "confusion": confusion,
        "errors": [
            {"index": i, "id": row.get("id"), "expected": e, "predicted": p}
            for e, p, i, row in pairs
            if e != p
        ],
    }


def format_evaluation(report: Mapping[str, Any]) -> str:
    """Accuracy per field, one line each, plus how many runs failed."""
    lines = [f"runs: {report['runs']}, failed: {report['failed_runs']}"]
    for field, result in report["fields"].items():
        accuracy = result["accuracy"]
        shown = f"{accuracy:.1%}" if accuracy is not None else "n/a"
        lines.append(f"{field:<13} {shown:>6}  ({result['correct']}/{result['scored']} correct)")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- display


class ConfusionMatrix:
    """A confusion matrix as an HTML table (in a notebook) or aligned text (elsewhere).

    Rows are the expected labels, columns the predicted ones; the diagonal is what the
    model got right. Deterministic output; every label is HTML-escaped.
    """

    def __init__(
        self,
        matrix: Mapping[str, Mapping[str, int]],
        labels: Sequence[str] | None = None,
        title: str = "",
    ):
        self.matrix = matrix
        self.labels = list(labels) if labels is not None else list(matrix)
        self.title = title

    def _count(self, expected: str, predicted: str) -> int:
        return self.matrix.get(expected, {}).get(predicted, 0)

    def to_text(self) -> str:
        width = max([len(x) for x in self.labels] + [len("expected ↓ / predicted →")]) + 1
        cell = max(len(x) for x in self.labels) + 2
        lines = [self.title] if self.title else []
        head = "expected ↓ / predicted →".ljust(width)
        lines.append(head + "".join(x.rjust(cell) for x in self.labels))
        for e in self.labels:
            counts = "".join(str(self._count(e, p)).rjust(cell) for p in self.labels)
            lines.append(e.ljust(width) + counts)
        return "\n".join(lines)

    def to_html(self) -> str:
        esc = html.escape
        largest = max([self._count(e, p) for e in self.labels for p in self.labels] + [1])
        th = "style='padding:3px 8px;border:1px solid #ccc;background:#f4f4f4'"
        head = "".join(f"<th {th}>{esc(p)}</th>" for p in self.labels)
        rows = []
        for e in self.labels:
            cells = []
            for p in self.labels:
                n = self._count(e, p)
                alpha = 0.15 + 0.6 * n / largest if n else 0.0
                color = "46,160,67" if e == p else "220,60,50"
                style = "padding:3px 8px;border:1px solid #ccc;text-align:right;"
                style += f"background:rgba({color},{alpha:.2f})" if n else "color:#bbb"
                cells.append(f"<td style='{style}'>{n}</td>")
            rows.append(f"<tr><th {th}>{esc(e)}</th>{''.join(cells)}</tr>")
        caption = (
            f"<caption style='caption-side:top;font-weight:bold'>{esc(self.title)}</caption>"
            if self.title
            else ""
        )
        return (
            "<table style='border-collapse:collapse;font-family:sans-serif;font-size:13px'>"
            f"{caption}<tr><th {th}>expected ↓ / predicted →</th>{head}</tr>"
            f"{''.join(rows)}</table>"
        )

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        return self.to_text()
