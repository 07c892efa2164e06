"""Does learning from dev too, after choosing on it, help? The measure of rule L in ``SPLITS.md``.

    python tests/tools/learn_from_dev.py                          # all four parts, salts 0 1 2
    python tests/tools/learn_from_dev.py --tasks sentiment --salts 0

``train.py`` chooses each model's data and settings on dev, and the model it keeps learned
without dev. Would it read the corpus's writer better if it then learned from dev too? To
answer without the test split, this cross-validates over all of that writer's labeled
rows in ``train`` and ``dev`` (ids ``m…``), in ``compare_training.py``'s five folds. For each
fold, with the data and settings ``train.choose`` picks on dev for the shuffle order: model
A learns the chosen data without the fold and without dev (the procedure before rule L),
model B the same plus the dev rows outside the fold. Both are measured on the fold. It
prints, per task and salt, how many of the rows each got right. ``intent`` sums the six
intent models, each measured on the rows of its type. The frozen test split is never read.
"""

from __future__ import annotations

import argparse
import json
import time

from compare_training import fold_of, is_right, salted, training_sources, writer_of

from mock_server.offline import train

PARTS = {
    "sentiment": ["sentiment"],
    "inquiry_type": ["inquiry_type"],
    "urgency": ["urgency"],
    "intent": [f"intent:{kind}" for kind in train.TYPES],
}


def measure(model_name: str, cache: dict) -> tuple[int, int, int]:
    """(right without dev, right with dev, rows) over the five folds, for one model."""
    field, only = train.TASKS[model_name]

    def kept(rows: list[dict]) -> list[dict]:
        return [r for r in rows if only in (None, r["inquiry_type"])]

    dev = kept(train.load("dev"))
    sources = {name: kept(rows) for name, rows in training_sources(set(), [], field).items()}
    (data, *setting), _, _ = train.choose(field, sources, dev, cache)
    rows = sources[data]
    writer = [r for r in rows + dev if writer_of(r["id"]) == "m" and r.get(field)]
    right_a = right_b = 0
    for k in range(5):
        held = {r["id"] for r in writer if fold_of(r["id"]) == k}
        learn = [r for r in rows if r["id"] not in held]
        without_dev = train.fit(field, learn, *setting, cache)
        dev_left = [r for r in dev if r["id"] not in held]
        with_dev = train.fit(field, learn + dev_left, *setting, cache)
        for r in writer:
            if r["id"] in held:
                right_a += is_right(without_dev, r, field, cache)
                right_b += is_right(with_dev, r, field, cache)
    return right_a, right_b, len(writer)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", nargs="+", choices=PARTS, default=list(PARTS))
    parser.add_argument("--salts", nargs="+", type=int, default=[0, 1, 2])
    args = parser.parse_args()
    cache: dict = {}
    for task in args.tasks:
        for salt in args.salts:
            started = time.perf_counter()
            train.shuffled = salted(salt)
            totals = [0, 0, 0]
            for name in PARTS[task]:
                totals = [t + m for t, m in zip(totals, measure(name, cache), strict=True)]
            a, b, n = totals
            shown = {"task": task, "salt": salt, "n": n, "without_dev": round(100 * a / n, 2)}
            shown["with_dev"] = round(100 * b / n, 2)
            print(json.dumps(shown) + f"  # {time.perf_counter() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main()
