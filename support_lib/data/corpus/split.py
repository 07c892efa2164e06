"""Split messages.jsonl into train / dev / test, deterministically, by a hash of each id.

    python support_lib/data/corpus/split.py

The test split was frozen before any tuning (its SHA-256 is in SPLITS.md and checked by
tests/test_corpus.py): nothing may be tuned on it. Rows are assigned by the first byte of
sha256(id): 0-76 test (30%), 77-127 dev (20%), 128-255 train (50%).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

HERE = Path(__file__).parent


def split_of(row_id: str) -> str:
    first = hashlib.sha256(row_id.encode()).digest()[0]
    return "test" if first < 77 else "dev" if first < 128 else "train"


def main() -> None:
    rows = [json.loads(line) for line in (HERE / "messages.jsonl").read_text("utf-8").splitlines()]
    parts: dict[str, list[str]] = {"train": [], "dev": [], "test": []}
    for row in rows:
        parts[split_of(row["id"])].append(json.dumps(row, ensure_ascii=False))
    for name, lines in parts.items():
        data = "\n".join(lines) + "\n"
        (HERE / f"{name}.jsonl").write_text(data, encoding="utf-8")
        digest = hashlib.sha256(data.encode()).hexdigest()
        print(f"{name}: {len(lines)} rows, sha256 {digest}")


if __name__ == "__main__":
    main()
