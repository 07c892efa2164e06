"""How well does the offline model read messages by writers it never learned from?

    python tests/tools/held_out_writers.py                      # hold out files c and d
    python tests/tools/held_out_writers.py --add more.jsonl       # with more training data
    python tests/tools/held_out_writers.py --held-out c --salts 0
    python tests/tools/held_out_writers.py --held-out --measure-on \
        support_lib/data/corpus/new_writers/*.jsonl           # files never trained on

Dev and the test split come from one writer, the one ``train.jsonl`` comes from, so they
say how well the model reads that writer. The project is judged on messages by people it
never saw. Each ``extra_train_*`` file is one writer's, so a file can stand in for such a
person: for each held-out file and shuffle order ("salt", as in ``compare_training.py``),
this runs ``train.py``'s procedure as it is (settings and data chosen on dev) without that
file, then measures type, sentiment and urgency on it. It prints accuracy per held-out file
and salt, and over all held-out files per salt. ``--measure-on`` adds files that are not
training files at all (``new_writers/``): the model trained on everything is measured on
them as they are. It measures the learned models alone, as ``train.py`` measures dev; the
workflow's answers add a few rules on top (a legal threat makes urgency high), which
``evaluate_offline_model.py`` measures. The frozen test split is never read.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from compare_training import is_right, rows_from, salted, training_sources

from mock_server.offline import train

TASKS = ("inquiry_type", "sentiment", "urgency")


def measure(
    held_out: str, salt: int, added: list[dict], cache: dict, tasks: tuple[str, ...] = TASKS
) -> dict[str, list[int]]:
    """[right, total] per task on the held-out file (a letter of ``extra_train_*``, trained
    without it, or the path of a file that is never trained on)."""
    train.shuffled = salted(salt)
    if held_out.endswith(".jsonl"):  # never a training file: nothing to leave out
        held, leave_out = rows_from([held_out]), set()
    else:
        held, leave_out = train.load(f"extra_train_{held_out}"), {held_out}
    dev = train.load("dev")
    counts = {}
    for task in tasks:
        key = (salt, task, frozenset(leave_out))  # files never trained on share one model
        if key not in TRAINED:
            sources = training_sources(leave_out, added, task)
            TRAINED[key] = train.choose(task, sources, dev, cache)[1]
        model = TRAINED[key]
        counts[task] = [sum(is_right(model, r, task, cache) for r in held), len(held)]
    return counts


TRAINED: dict[tuple, object] = {}  # (salt, task, files left out) -> model, for one run


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--held-out", nargs="*", default=["c", "d"], help="extra_train_ letters")
    parser.add_argument("--measure-on", nargs="*", default=[], help="files never trained on")
    parser.add_argument("--salts", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--add", nargs="*", default=[], help="more files for the 'all files' data")
    parser.add_argument("--tasks", nargs="+", choices=TASKS, default=list(TASKS))
    args = parser.parse_args()
    added = rows_from(args.add)
    cache: dict = {}
    for salt in args.salts:
        total = {task: [0, 0] for task in args.tasks}
        for held_out in args.held_out + args.measure_on:
            started = time.perf_counter()
            counts = measure(held_out, salt, added, cache, tuple(args.tasks))
            for task, (right, n) in counts.items():
                total[task][0] += right
                total[task][1] += n
            shown = {task: round(100 * r / n, 2) for task, (r, n) in counts.items()}
            print(
                json.dumps({"salt": salt, "held_out": held_out, **shown})
                + f"  # {time.perf_counter() - started:.0f} s",
                flush=True,
            )
        shown = {task: round(100 * r / n, 2) for task, (r, n) in total.items()}
        names = [Path(name).stem for name in args.held_out + args.measure_on]
        print(json.dumps({"salt": salt, "held_out": "+".join(names), **shown}), flush=True)


if __name__ == "__main__":
    main()
