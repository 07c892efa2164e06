"""Would a change to the offline model's training help? The measure an adoption rule uses.

    python tests/tools/compare_training.py                        # the files as they are
    python tests/tools/compare_training.py --without extra_train_d   # leave a file out
    python tests/tools/compare_training.py --add more.jsonl           # try more training data
    python tests/tools/compare_training.py --tasks sentiment --salts 0 1 2

For each shuffle order ("salt"; 0 is the order ``train.py`` uses) and each task it runs the
training procedure of ``mock_server.offline.train`` as it is (the settings and the data
choice picked on dev), then 5-fold cross-validation on ``train.jsonl`` with what dev picked:
each fifth of ``train`` is left out in turn and the model learns from the rest and the extra
files. It prints dev accuracy, cross-validated accuracy and their mean, per salt and task, and how
many of the non-English messages among both were right.

Why both, and why three salts? Dev alone has 261 messages, and the order the training
examples are shown in moves dev sentiment by up to 3 points (``SPLITS.md``): a change must
help under every order, on dev and on messages ``train`` holds, to count. The frozen test
split is never read here.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import time
from pathlib import Path

from mock_server.offline import train

FOLDS = 5


def salted(salt: int):
    """``train.shuffled`` with another fixed order (salt 0 is the shipped one)."""

    def shuffled(rows: list[dict]) -> list[dict]:
        prefix = "" if salt == 0 else f"{salt}:"
        return sorted(rows, key=lambda row: hashlib.sha256((prefix + row["id"]).encode()).digest())

    return shuffled


def fold_of(row_id: str) -> int:
    return int(hashlib.sha256(f"fold:{row_id}".encode()).hexdigest(), 16) % FOLDS


def measure(
    task: str, salt: int, without: set[str], added: list[dict], cache: dict
) -> dict[str, object]:
    """Dev accuracy as ``train.py`` picks it, and cross-validated accuracy on ``train``."""
    train.shuffled = salted(salt)
    field, only = train.TASKS[task]
    dev = [r for r in train.load("dev") if only in (None, r["inquiry_type"])]
    letters = {name.removeprefix("extra_train_") for name in without}
    sources = {
        name: [r for r in rows if only in (None, r["inquiry_type"])]
        for name, rows in training_sources(letters, added, field).items()
    }
    choice, chosen, dev_acc = train.choose(field, sources, dev, cache)
    rows = sources[choice[0]]
    answers = [(r, is_right(chosen, r, field, cache)) for r in dev if r.get(field)]
    right = total = 0
    for k in range(FOLDS):
        held = [r for r in rows if r["id"].startswith("m") and fold_of(r["id"]) == k]
        held_ids = {r["id"] for r in held}
        model = train.fit(field, [r for r in rows if r["id"] not in held_ids], *choice[1:], cache)
        held_answers = [(r, is_right(model, r, field, cache)) for r in held if r.get(field)]
        right += sum(ok for _, ok in held_answers)
        total += len(held_answers)
        answers += held_answers
    cv_acc = right / total
    foreign = [ok for r, ok in answers if r["language"] != "en"]
    return {
        "dev": round(dev_acc, 4),
        "cv": round(cv_acc, 4),
        "mean": round((dev_acc + cv_acc) / 2, 4),
        "non_english": f"{sum(foreign)}/{len(foreign)}",
        "choice": choice,
    }


def training_sources(leave_out: set[str], added: list[dict], field: str) -> dict[str, list[dict]]:
    """``train.data_for(field)``'s data choices as rows, without the ``extra_train_`` files
    whose letters are in ``leave_out``, with ``added`` rows in "all files"."""
    sources = {}
    for name, files in train.data_for(field).items():
        rows = [r for f in files for r in train.load(f) if writer_of(r["id"]) not in leave_out]
        sources[name] = rows + train.load_older_set() + (added if name == "all files" else [])
    return sources


def writer_of(row_id: str) -> str:
    """The letters an id starts with: its file's ("m0001": the corpus, "aa0001": file aa)."""
    return re.match(r"[a-z]*", row_id).group()


def is_right(model, row: dict, field: str, cache: dict) -> bool:
    x = train.cache_features(row["message"], cache)
    return model.predict(row["message"], x).label == row[field]


def rows_from(paths: list[str]) -> list[dict]:
    """The labeled rows of corpus-format files given by path."""
    return [row for path in paths for row in train.rows_of(Path(path))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", nargs="+", default=["sentiment", "inquiry_type", "urgency"])
    parser.add_argument("--salts", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--without", nargs="*", default=[], help="extra_train_* files to leave out")
    parser.add_argument("--add", nargs="*", default=[], help="more files for the 'all files' data")
    args = parser.parse_args()
    added = rows_from(args.add)
    cache: dict = {}
    for task in args.tasks:
        for salt in args.salts:
            started = time.perf_counter()
            m = measure(task, salt, set(args.without), added, cache)
            print(
                json.dumps({"task": task, "salt": salt, **m})
                + f"  # {time.perf_counter() - started:.0f} s",
                flush=True,
            )


if __name__ == "__main__":
    main()
