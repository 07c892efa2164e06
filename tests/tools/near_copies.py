"""Which rows of a new corpus file are near copies of a message the corpus already holds?

    python tests/tools/near_copies.py support_lib/data/corpus/new_writers/writer_r.jsonl

A new file used for training must not hold near copies of dev or test messages (that would
leak them into the model), and a file used to measure must not hold near copies of
training messages (that would make it easier than new mail). Two messages count as near
copies when the one has at least 60% of the other's distinct words and the other at least
60% of the one's, that is, when the words they share are 60% or more of the distinct words
of the longer one. Every ``*.jsonl`` file under the corpus folder is compared (splits,
training files, ``not_adopted/``, ``new_writers/``), and the older 132-message set. Prints
one line per near copy: the new row's id, the other message's id and the share.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from mock_server.offline.train import CORPUS, rows_of

OLDER = CORPUS.parent / "labeled_messages.jsonl"
WORD = re.compile(r"[^\W_]+", re.UNICODE)
LIMIT = 0.6


def words(text: str) -> frozenset[str]:
    return frozenset(WORD.findall(text.lower()))


def near_copies(new: list[dict], known: list[dict]) -> list[tuple[str, str, float]]:
    """(new id, known id, share) for every pair at or over the limit; a row is never
    compared with itself (same id)."""
    index: dict[str, list[int]] = {}  # word -> known rows holding it, to skip most pairs
    known_words = [words(row["message"]) for row in known]
    for k, ws in enumerate(known_words):
        for w in ws:
            index.setdefault(w, []).append(k)
    found = []
    for row in new:
        mine = words(row["message"])
        shared: dict[int, int] = {}
        for w in mine:
            for k in index.get(w, ()):
                shared[k] = shared.get(k, 0) + 1
        for k, n in shared.items():
            share = n / max(len(mine), len(known_words[k]))
            if share >= LIMIT and known[k]["id"] != row["id"]:
                found.append((row["id"], known[k]["id"], round(share, 2)))
    return found


def main(paths: list[str]) -> int:
    known = [row for path in sorted(CORPUS.rglob("*.jsonl")) for row in rows_of(path)]
    known = [row for row in known + rows_of(OLDER) if "message" in row]  # not the label files
    known = list({row["id"]: row for row in known}.values())  # splits repeat messages.jsonl
    for path in paths:
        for new_id, known_id, share in near_copies(rows_of(Path(path)), known):
            print(f"{new_id}\t{known_id}\t{share:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
