"""How well do the intent models read writers they never learned from?

    python tests/tools/intents_on_writers.py               # the code as it is
    python tests/tools/intents_on_writers.py --measure-on FILE... --add FILE...

For each shuffle order ("salt", as in ``compare_training.py``) and each inquiry type, the
type's intent model is trained and chosen on dev exactly as ``train.py`` does, then
measured on the messages of that type (by their label) in ``new_writers/`` (or the files
given with ``--measure-on``), which no model learns from. ``--add`` gives more files to
learn from, in the "all files" data, as ``held_out_writers.py --add`` does. Prints the
accuracy per type and over all six, per salt. The frozen test split is never read.
"""

from __future__ import annotations

import argparse
import json

from compare_training import rows_from, salted, training_sources

from mock_server.offline import train


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--salts", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--measure-on", nargs="*", default=[], help="default: new_writers/")
    parser.add_argument("--add", nargs="*", default=[], help="more files for the 'all files' data")
    args = parser.parse_args()
    dev = train.load("dev")
    measured = rows_from(args.measure_on) if args.measure_on else train.load("new_writers/*")
    sources = training_sources(set(), rows_from(args.add), "intent")  # train.py's choices
    cache: dict = {}
    for salt in args.salts:
        train.shuffled = salted(salt)
        right = total = 0
        shown = {}
        for kind in train.TYPES:
            check = [r for r in dev if r["inquiry_type"] == kind]
            learn = {
                d: [r for r in rows if r["inquiry_type"] == kind] for d, rows in sources.items()
            }
            _, model, _ = train.choose("intent", learn, check, cache)
            rows = [r for r in measured if r["inquiry_type"] == kind and r.get("intent")]
            ok = sum(
                model.predict(r["message"], train.cache_features(r["message"], cache)).label
                == r["intent"]
                for r in rows
            )
            shown[kind] = round(100 * ok / len(rows), 2)
            right, total = right + ok, total + len(rows)
        print(
            json.dumps(
                {"salt": salt, "intent": round(100 * right / total, 2), "n": total, **shown}
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
