"""How far can two readers of the labeling guide agree on sentiment, and where does the
offline model stand between them?

    python tests/tools/label_agreement.py             # the dev split
    python tests/tools/label_agreement.py writer_h    # writer h (extra_train_h since rule H)

``support_lib/data/corpus/second_reader/<set>_sentiment.jsonl`` holds a second, blind
labeling of a set's sentiment: a helper agent (not a person) read only the guide's
sentiment rules and the messages, never the original labels or any model output, and
marked the cases it found borderline (``sure: false``). Two sets: dev (one writer, the one
the test split comes from) and writer h (who wrote to the guide alone, so their labels
are another writer's reading of it). Not the test split: it is measured, never read again.
Since rule H (SPLITS.md) the model learns from writer h's file, so on writer h the two
readers' agreement still means what it did, and the model's figures no longer do: they
are on messages it learned from.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(Path(__file__).parent)]

from evaluate_offline_model import ask  # noqa: E402

from support_lib.batch import wilson  # noqa: E402
from support_lib.workflow import SentimentAnalysis  # noqa: E402
from support_lib.workflow.analysis import SENTIMENT_PROMPT  # noqa: E402

CORPUS = ROOT / "support_lib" / "data" / "corpus"
SETS = {"dev": CORPUS / "dev.jsonl", "writer_h": CORPUS / "extra_train_h.jsonl"}
LABELS = ("negative", "neutral", "positive")


def kappa(a: list[str], b: list[str]) -> float:
    """Cohen's kappa: agreement beyond what the two label frequencies give by chance."""
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / len(a)
    ca, cb = Counter(a), Counter(b)
    chance = sum(ca[k] * cb[k] for k in LABELS) / len(a) ** 2
    return (observed - chance) / (1 - chance)


def main() -> None:
    which = sys.argv[1] if len(sys.argv) > 1 else "dev"
    if which not in SETS:
        sys.exit(f"usage: label_agreement.py [{' | '.join(SETS)}]")
    rows = [json.loads(line) for line in SETS[which].read_text("utf-8").splitlines() if line]
    second_path = CORPUS / "second_reader" / f"{which}_sentiment.jsonl"
    second = {
        row["id"]: row for row in map(json.loads, second_path.read_text("utf-8").splitlines())
    }
    labels = [row["sentiment"] for row in rows]
    reader = [second[row["id"]]["sentiment"] for row in rows]
    model = [ask(SENTIMENT_PROMPT, SentimentAnalysis, row["message"]).sentiment for row in rows]
    n = len(rows)
    for name, a, b in (
        ("second reader vs labels", reader, labels),
        ("offline model vs labels", model, labels),
        ("offline model vs second reader", model, reader),
    ):
        k = sum(x == y for x, y in zip(a, b, strict=True))
        low, high = wilson(k, n)
        print(
            f"{name:32}{k}/{n} = {k / n:.1%} (95% CI {low:.1%}-{high:.1%}), kappa {kappa(a, b):.2f}"
        )
    agreed = [i for i in range(n) if labels[i] == reader[i]]
    right = sum(model[i] == labels[i] for i in agreed)
    print(
        f"offline model on the {len(agreed)} messages both readers label alike: "
        f"{right / len(agreed):.1%}"
    )
    unsure = [i for i in range(n) if not second[rows[i]["id"]]["sure"]]
    alike = sum(labels[i] == reader[i] for i in unsure)
    print(
        f"the second reader marked {len(unsure)} borderline; the readers agree on {alike} of them"
    )
    print("labels (rows) against the second reader and the offline model (columns):")
    print(
        f"{'':12}"
        + "".join(f"{b[:3]:>5}" for b in LABELS)
        + "   "
        + "".join(f"{b[:3]:>5}" for b in LABELS)
    )
    for a in LABELS:
        to_reader = [sum(labels[i] == a and reader[i] == b for i in range(n)) for b in LABELS]
        to_model = [sum(labels[i] == a and model[i] == b for i in range(n)) for b in LABELS]
        print(
            f"{a:12}"
            + "".join(f"{v:>5}" for v in to_reader)
            + "   "
            + "".join(f"{v:>5}" for v in to_model)
        )


if __name__ == "__main__":
    main()
