"""How good is the offline model (or a real one), on the corpus's dev and frozen test splits?

    python tests/tools/evaluate_offline_model.py            # dev only
    python tests/tools/evaluate_offline_model.py --test     # dev, then the frozen test split
    python tests/tools/evaluate_offline_model.py --test --base-url http://127.0.0.1:8080/v1 \
        --model smollm2 --limit 60                          # a real model, first 60 of each
    ... --record support_lib/data/recorded/smollm2-135m     # also keep every answer
    ... --test-only                                         # skip dev (a slow model)
    python tests/tools/evaluate_offline_model.py --on \
        support_lib/data/corpus/new_writers/writer_r.jsonl  # a labeled file instead of dev

With ``--base-url`` the same prompts go through the real ``openai`` SDK to that server
(structured output, with the JSON-mode fallback); an answer that fails counts as wrong.

Each message goes through the workflow's own prompts (extract, classify, sentiment) and the
offline model, exactly as a run would send them. Prints accuracy with a 95% Wilson interval
per field, names found, and the median time per model call. Run ``--test`` only to report:
nothing may be tuned on what it prints.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

from mock_server.offline.train import rows_of
from mock_server.offline_model import answer
from support_lib.batch import wilson
from support_lib.llm import response_format
from support_lib.workflow import CustomerInfo, InquiryClassification, SentimentAnalysis
from support_lib.workflow.analysis import CLASSIFY_PROMPT, EXTRACT_PROMPT, SENTIMENT_PROMPT

CORPUS = Path(__file__).resolve().parents[2] / "support_lib" / "data" / "corpus"


def ask(prompt, model, message: str, timings: list[float] | None = None):
    """One call as a run makes it; ``timings`` gets its time (the first call for a message
    does the analysis; later calls about the same message reuse it)."""
    started = time.perf_counter()
    raw = answer(prompt.render({"customer_message": message}), response_format(model), 0.1)
    if timings is not None:
        timings.append(time.perf_counter() - started)
    return model.model_validate_json(raw)


def real_asker(base_url: str, model_name: str):
    """``ask`` for a real server: one SDK client, one event loop, a failed call is None."""
    import asyncio

    from support_lib.llm import Backend, ModelError, ModelRequest, OpenAIModel

    loop = asyncio.new_event_loop()
    client = OpenAIModel(Backend("compatible", base_url, model_name, "not-needed"), timeout=300)

    def ask_real(prompt, model, message: str, timings: list[float] | None = None):
        started = time.perf_counter()
        request = ModelRequest(model.__name__, prompt.render({"customer_message": message}), model)
        try:
            value = loop.run_until_complete(client.complete(request)).value
        except ModelError as exc:
            print(f"    (a call failed: {str(exc)[:100]})", file=sys.stderr)
            value = None
        if timings is not None:
            timings.append(time.perf_counter() - started)
        return value

    return ask_real


def evaluate(split: str, limit: int | None = None, ask=ask, record: Path | None = None) -> None:
    """Measure one split; with ``record``, also write each message's answers to
    ``record/<split>.jsonl`` (lesson 08 compares a recorded real model with the stand-in)."""
    path = Path(split) if split.endswith(".jsonl") else CORPUS / f"{split}.jsonl"
    rows = rows_of(path)
    split = path.stem
    rows = rows[:limit] if limit else rows
    right = {"inquiry_type": 0, "sentiment": 0, "urgency": 0, "name": 0, "order_id": 0}
    named = found = false_names = given_ids = found_ids = wrong_ids = 0
    timings: list[float] = []
    answers = []
    for row in rows:
        message = row["message"]
        kind = getattr(ask(CLASSIFY_PROMPT, InquiryClassification, message, timings),
                       "inquiry_type", None)  # fmt: skip
        mood = getattr(ask(SENTIMENT_PROMPT, SentimentAnalysis, message), "sentiment", None)
        info = ask(EXTRACT_PROMPT, CustomerInfo, message) or CustomerInfo.model_construct(
            customer_name="Unknown", order_id=False, urgency=None
        )  # a failed call: nothing right
        name = None if info.customer_name == "Unknown" else info.customer_name
        order_id = info.order_id if info.order_id is not False else None
        answers.append({"id": row["id"], "inquiry_type": kind, "sentiment": mood,
                        "urgency": info.urgency, "customer_name": name, "order_id": order_id,
                        "classify_s": round(timings[-1], 3)})  # fmt: skip
        right["inquiry_type"] += kind == row["inquiry_type"]
        right["sentiment"] += mood == row["sentiment"]
        right["urgency"] += info.urgency == row["urgency"]
        right["name"] += name == row["customer_name"]
        right["order_id"] += info.order_id == row["order_id"]
        named += bool(row["customer_name"])
        found += bool(row["customer_name"]) and name == row["customer_name"]
        false_names += not row["customer_name"] and name is not None
        given_ids += row["order_id"] is not None
        found_ids += row["order_id"] is not None and order_id == row["order_id"]
        wrong_ids += order_id is not None and order_id != row["order_id"]
    n = len(rows)
    print(f"{split}: {n} messages")
    for field, count in right.items():
        low, high = wilson(count, n)
        print(f"  {field:<13} {count / n:6.1%}  (95% CI {low:.1%} to {high:.1%})")
    print(f"  names found   {found}/{named} given names; {false_names} names invented")
    # most messages give no id, so the share above mostly counts "none" said of "none"
    print(f"  ids found     {found_ids}/{given_ids} given order ids; {wrong_ids} ids wrong")
    median_ms = statistics.median(timings) * 1000
    print(f"  median time of a classify call: {median_ms:.1f} ms")
    if record:
        record.mkdir(parents=True, exist_ok=True)
        lines = [json.dumps(answer, ensure_ascii=False) for answer in answers]
        (record / f"{split}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def option(name: str) -> str | None:
    args = sys.argv[1:]
    return args[args.index(name) + 1] if name in args else None


if __name__ == "__main__":
    limit = int(option("--limit") or 0) or None
    base_url = option("--base-url")
    asker = real_asker(base_url, option("--model") or "local") if base_url else ask
    record = Path(option("--record")) if option("--record") else None
    if option("--on"):
        evaluate(option("--on"), limit, asker, record)
    elif "--test-only" not in sys.argv[1:]:  # a slow real model: spend its time on test
        evaluate("dev", limit, asker, record)
    if {"--test", "--test-only"} & set(sys.argv[1:]):
        evaluate("test", limit, asker, record)
