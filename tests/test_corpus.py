"""The labeled corpus: valid rows, and a test split that has not changed since it was frozen."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from support_lib.workflow import INQUIRY_TYPES, SENTIMENTS, URGENCIES

CORPUS = Path(__file__).resolve().parents[1] / "support_lib" / "data" / "corpus"
FROZEN = re.findall(r"\| (\w+) \| \d+ \| `([0-9a-f]{64})` \|", (CORPUS / "SPLITS.md").read_text())


def test_the_frozen_test_split_is_unchanged():
    recorded = dict(FROZEN)
    data = (CORPUS / "test.jsonl").read_bytes()
    assert hashlib.sha256(data).hexdigest() == recorded["test"], (
        "test.jsonl changed after it was frozen: it must stay exactly as measured"
    )


@pytest.mark.parametrize("split", ["train", "dev", "test"])
def test_each_split_matches_its_recorded_hash_and_the_split_rule(split):
    import sys

    sys.path.insert(0, str(CORPUS))
    from split import split_of

    data = (CORPUS / f"{split}.jsonl").read_bytes()
    assert hashlib.sha256(data).hexdigest() == dict(FROZEN)[split]
    rows = [json.loads(line) for line in data.decode().splitlines()]
    assert all(split_of(row["id"]) == split for row in rows)


def test_rows_use_the_workflows_vocabularies():
    rows = [json.loads(line) for line in (CORPUS / "messages.jsonl").read_text().splitlines()]
    assert len(rows) >= 1000 and len({r["id"] for r in rows}) == len(rows)
    for row in rows:
        assert row["inquiry_type"] in INQUIRY_TYPES, row["id"]
        assert row["sentiment"] in SENTIMENTS and row["urgency"] in URGENCIES, row["id"]
    assert {r["language"] for r in rows} >= {"en", "es", "fr", "de", "ru", "zh"}


def test_the_splits_load_by_name_and_a_wrong_name_is_refused():
    import pytest

    from support_lib.examples import load_split

    sizes = {name: len(load_split(name)) for name in ("train", "dev", "test")}
    assert sizes == {"train": 567, "dev": 261, "test": 373}
    with pytest.raises(ValueError, match="the splits are train, dev and test"):
        load_split("validation")


@pytest.mark.parametrize("split", ["dev", "test"])
def test_the_recorded_real_model_answers_the_first_messages_of_its_split(split):
    """Lesson 08 compares the stand-in with this recording row by row: it must hold the
    first messages of the split, in order, and only values of the vocabularies (or null
    where the model gave no valid answer)."""
    recorded_file = CORPUS.parent / "recorded" / "smollm2-135m" / f"{split}.jsonl"
    rows = [json.loads(line) for line in recorded_file.read_text("utf-8").splitlines()]
    split_ids = [json.loads(line)["id"] for line in (CORPUS / f"{split}.jsonl").open()]
    assert [row["id"] for row in rows] == split_ids[: len(rows)] and len(rows) == 60
    for field, vocabulary in (("inquiry_type", INQUIRY_TYPES), ("sentiment", SENTIMENTS),
                              ("urgency", URGENCIES)):  # fmt: skip
        assert {row[field] for row in rows} <= {*vocabulary, None}, field
    assert all(row["classify_s"] > 0 for row in rows)


def test_no_training_file_holds_a_near_copy_of_a_dev_or_test_message():
    """A model that learned a near copy of a held-out message scores it too easily, so the
    training files may not hold one (SPLITS.md: 17 such rows were removed)."""
    import sys

    sys.path.insert(0, str(CORPUS.parents[2] / "tests" / "tools"))
    from near_copies import near_copies

    from mock_server.offline.train import LEARNED, load

    held_out = load("dev", "test")
    # train.jsonl is left out: it came with the split of one writer's set (SPLITS.md)
    training_only = [name for name in LEARNED if name != "train"]
    assert near_copies(load(*training_only), held_out) == []
    # and the check finds one when there is one: a held-out message with one word changed
    copy = dict(held_out[0], id="x1", message=held_out[0]["message"] + " thanks")
    assert near_copies([copy], held_out)[0][:2] == ("x1", held_out[0]["id"])


def test_the_new_writers_files_are_never_trained_on_and_hold_no_near_copy():
    """new_writers/ measures how the model reads people it never learned from: no training
    file may be one of them, and none of their messages may be a near copy of a message
    the model learned from (SPLITS.md, rule T)."""
    import sys

    sys.path.insert(0, str(CORPUS.parents[2] / "tests" / "tools"))
    from near_copies import near_copies

    from mock_server.offline import train

    measured = train.load("new_writers/*")
    writers = {"bg", "bh", "bi", "bj", "bk", "bl", "bm", "bn"}
    assert len(measured) >= 2900 and {row["id"][:2] for row in measured} == writers
    learned = train.load(*train.LEARNED)  # every file a model learns from
    assert not {row["id"] for row in learned} & {row["id"] for row in measured}
    assert near_copies(measured, [*learned, *train.load_older_set()]) == []
