"""How often does the offline model find the order id a message gives?

    python tests/tools/order_ids.py                  # the training files (rules come from these)
    python tests/tools/order_ids.py dev              # the split used to choose
    python tests/tools/order_ids.py new              # the writers no model learned from
    python tests/tools/order_ids.py test             # the frozen test split: measure only
    python tests/tools/order_ids.py train --misses   # list every miss, to read
    python tests/tools/order_ids.py new --names      # the customer's name, counted the same way

Most messages give no order id, so "the extracted id equals the label" is mostly "none"
said of "none" and hides misses. This counts, as the names are counted: ids **found**
(exactly the labeled id, of the messages that give one) and ids **wrong** (an id where the
label has none, or another id than the labeled one). It runs the same function the
workflow's extraction runs (``facts.order_id_in``), without the classifiers; ``--names``
counts the customer's name the same way (``facts.name_in``; rule N in ``SPLITS.md``).
"""

from __future__ import annotations

import sys
from pathlib import Path

from mock_server.offline import train
from mock_server.offline.facts import name_in, order_id_in

GROUPS = {  # corpus files as train.load names them
    "train": train.LEARNED,  # every file a model learns from
    "dev": ("dev",),
    "test": ("test",),
    "new": ("new_writers/*",),
}


def count(
    rows: list[dict], misses: bool = False, field: str = "order_id"
) -> tuple[int, int, int, int]:
    """(given, found, none given, wrong) over the rows; print each miss when asked."""
    read = order_id_in if field == "order_id" else name_in
    given = found = without = wrong = 0
    for row in rows:
        label, got = row.get(field), read(row["message"])
        given += label is not None
        found += label is not None and got == label
        without += label is None
        wrong += got is not None and got != label
        if misses and got != label:
            text = row["message"][:160].replace("\n", " ")
            print(f"  {row['id']}: label {label!r}, got {got!r}: {text!r}")
    return given, found, without, wrong


def main(argv: list[str]) -> None:
    names = [a for a in argv if not a.startswith("--")] or ["train"]
    for name in names:
        rows = train.load(*GROUPS[name]) if name in GROUPS else train.rows_of(Path(name))
        field = "customer_name" if "--names" in argv else "order_id"
        given, found, without, wrong = count(rows, "--misses" in argv, field)
        share = found / given if given else 0.0
        what = "names" if field == "customer_name" else "ids"
        print(f"{name}: {what} found {found} of {given} given ({share:.1%}); "
              f"wrong {wrong} ({without} messages give none)")  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1:])
