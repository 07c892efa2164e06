"""Train the offline model's linear classifiers on the kit's labeled corpus.

    python -m mock_server.offline.train          # report dev accuracy, write weights.json
    python -m mock_server.offline.train --check  # report only

Data (``support_lib/data/corpus``): ``train.jsonl``, the ``extra_train_*.jsonl`` files and the
older labeled set to learn from, ``dev.jsonl`` to choose settings on.
``test.jsonl`` is frozen and never read here, and ``new_writers/`` neither: it measures
how the model reads people it never learned from. Dev only chooses between a few
settings, so its figures stay a fair estimate too. One of the settings is the data
itself: files ``c`` and ``d`` came later, from other writers, and their reading of the 51
intents is not quite the first writer's, so each model learns from all files or from the
first ones only, whichever does better on dev (on a tie, all of them). Files ``e`` to
``x`` (fourteen more writers) joined by rules H and I of ``SPLITS.md``; the eight in
``intents/`` (rules K and M) only the type and intent models learn from, the six in
``sentiment/`` (rule W2) only the sentiment model. Training is
deterministic: the same files give the same weights, byte for byte; it takes about five
minutes on 2 cores. Learners can add messages and train again.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
from collections import Counter, defaultdict
from pathlib import Path

from .learned import WEIGHTS, LinearModel, features

CORPUS = Path(__file__).resolve().parents[2] / "support_lib" / "data" / "corpus"
TYPES = ("technical", "billing", "shipping", "product", "account", "general")
TASKS = {  # model name -> (the label it learns, which rows it learns from)
    "inquiry_type": ("inquiry_type", None),
    "sentiment": ("sentiment", None),
    "urgency": ("urgency", None),
    # one intent model per inquiry type: it only has to tell apart that type's intents
    **{f"intent:{t}": ("intent", t) for t in TYPES},
}
SETTINGS = [(8, 1e-3), (16, 1e-3), (16, 1e-4)]  # (epochs, L2 penalty) tried on dev
DATA = {  # which files a model may learn from, tried on dev too (see the docstring)
    "all files": ("train", "extra_train_*"),
    "first files": ("train", "extra_train_a", "extra_train_b"),
}
INTENT_FILES = "intents/extra_train_*"
"""Eight more writers that the type and intent models learn from, and the sentiment and
urgency models do not (rules K and M in ``SPLITS.md``): with them, the intents and the
type rose on writers never seen, under every training order; sentiment and urgency did
not rise."""
SENTIMENT_FILES = "sentiment/extra_train_*"
"""Six more writers (ba to bf) that only the sentiment model learns from (rule W2 in
``SPLITS.md``): with them, sentiment rose on four writers never seen, under every training
order. The rule asked nothing of the other models, so they do not learn from them."""
MORE_FILES = {"intent": INTENT_FILES, "inquiry_type": INTENT_FILES, "sentiment": SENTIMENT_FILES}


def data_for(field: str) -> dict[str, tuple[str, ...]]:
    """The data choices (``DATA``) of the model that learns ``field``."""
    if field in MORE_FILES:
        return {**DATA, "all files": (*DATA["all files"], MORE_FILES[field])}
    return DATA


LEARNED = tuple(
    dict.fromkeys(name for field, _ in TASKS.values() for name in data_for(field)["all files"])
)
"""Every file some model learns from, as ``load`` names them ("all files" holds the first
ones too): what the checks that keep held-out messages out of training read."""


WITH_NB = {"inquiry_type", "intent", "sentiment", "urgency"}  # see fit_with_nb
MIN_SEEN = 2  # features seen in fewer training messages are left out
PRUNE = 0.06  # smaller weights are dropped: they change almost nothing and fill the file


def rows_of(path: Path) -> list[dict]:
    """The labeled rows of one corpus-format file (one JSON object per line)."""
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def load(*names: str) -> list[dict]:
    """The rows of the corpus files matching ``names`` ("dev", "extra_train_*",
    "new_writers/*"), sorted by id."""
    paths = [path for name in names for path in sorted(CORPUS.glob(f"{name}.jsonl"))]
    return sorted((row for path in paths for row in rows_of(path)), key=lambda row: row["id"])


def shuffled(rows: list[dict]) -> list[dict]:
    """A fixed shuffle (by a hash of each id): files written in different styles mix, so
    the last updates of an epoch do not all come from one file."""
    return sorted(rows, key=lambda row: hashlib.sha256(row["id"].encode()).hexdigest())


def load_older_set() -> list[dict]:
    """The 132 messages the first offline model was written against (no intents)."""
    return rows_of(CORPUS.parent / "labeled_messages.jsonl")


def examples(task: str, rows: list[dict], cache: dict) -> list[tuple[dict[str, float], str]]:
    """(features, label) of each row with the label, in the fixed shuffled order, without
    the features seen in fewer than ``MIN_SEEN`` rows: a feature seen in one message only
    teaches nothing that carries over."""
    rows = shuffled([row for row in rows if row.get(task)])  # the older set has no intents
    seen = Counter(k for row in rows for k in cache_features(row["message"], cache))
    return [
        (
            {k: v for k, v in cache_features(row["message"], cache).items() if seen[k] >= MIN_SEEN},
            row[task],
        )
        for row in rows
    ]


def fit(task: str, rows: list[dict], epochs: int, l2: float, cache: dict) -> LinearModel:
    """Stochastic gradient descent on the softmax loss, one pass per epoch, in a fixed
    shuffled order (averaged with ``fit_nb_scaled`` for the tasks in ``WITH_NB``)."""
    if task in WITH_NB:
        return fit_with_nb(task, rows, epochs, l2, cache)
    return fit_softmax(task, rows, epochs, l2, cache)


def fit_softmax(task: str, rows: list[dict], epochs: int, l2: float, cache: dict) -> LinearModel:
    """Multinomial logistic regression by stochastic gradient descent, as ``fit`` describes."""
    data = examples(task, rows, cache)
    labels = sorted({label for _, label in data})
    weights: dict[str, dict[str, float]] = {label: defaultdict(float) for label in labels}
    bias = dict.fromkeys(labels, 0.0)
    for epoch in range(epochs):
        rate = learning_rate(epoch)
        for x, truth in data:
            scores = {
                lab: bias[lab] + sum(weights[lab][k] * v for k, v in x.items()) for lab in labels
            }
            top = max(scores.values())
            exps = {lab: math.exp(s - top) for lab, s in scores.items()}
            total = sum(exps.values())
            for lab in labels:
                grad = exps[lab] / total - (lab == truth)
                if abs(grad) > 1e-6:
                    row_weights = weights[lab]
                    for k, v in x.items():
                        row_weights[k] -= rate * (grad * v + l2 * row_weights[k])
                    bias[lab] -= rate * grad
    kept = {lab: pruned(ws) for lab, ws in weights.items()}
    return LinearModel(task, labels, {lab: round(b, 4) for lab, b in bias.items()}, kept)


def learning_rate(epoch: int) -> float:
    """The step size of stochastic gradient descent, smaller each epoch."""
    return 0.5 / (1 + 0.2 * epoch)


def pruned(weights: dict[str, float]) -> dict[str, float]:
    """The weights worth keeping, rounded: smaller ones change almost nothing (``PRUNE``)."""
    return {k: round(w, 3) for k, w in sorted(weights.items()) if abs(w) >= PRUNE}


def nb_ratios(data: list[tuple[dict[str, float], str]]) -> dict[str, dict[str, float]]:
    """Each label's naive Bayes log-count ratio of each feature: how much more often it
    occurs in messages with the label than in the others (each message counts a feature
    once; add-one smoothing). Positive: a sign of the label; near 0: no sign either way.
    A signed score (the mood word list's, negative for a complaint) says nothing by being
    there, only by its value: it keeps a ratio of 1 and is learned as it is."""
    features = {k for x, _ in data for k in x}
    signed = {k for x, _ in data for k, v in x.items() if v < 0}
    present: dict[str, Counter[str]] = defaultdict(Counter)
    for x, truth in data:
        present[truth].update(x.keys())
    everywhere = sum(present.values(), Counter())
    ratios = {}
    for label, inside in present.items():
        outside = everywhere - inside
        size_in = sum(inside.values()) + len(features)
        size_out = sum(outside.values()) + len(features)
        ratios[label] = {
            k: 1.0
            if k in signed
            else math.log((inside[k] + 1) / size_in) - math.log((outside[k] + 1) / size_out)
            for k in features
        }
    return ratios


def fit_nb_scaled(task: str, rows: list[dict], epochs: int, l2: float, cache: dict) -> LinearModel:
    """One binary logistic regression per label (the label against the rest) on features
    scaled by their naive Bayes ratio for that label ("NB weighting", Wang and Manning
    2012). A separating word starts out large and a common one small, so a few thousand
    examples go further (rule V in ``SPLITS.md``; ``fit_with_nb`` uses it). The ratio is
    folded into each weight, so the result is a plain ``LinearModel``: a label's score is
    still a sum of weights, and the highest score still wins."""
    data = examples(task, rows, cache)
    labels = sorted({label for _, label in data})
    weights, bias = {}, {}
    ratios = nb_ratios(data)
    for label in labels:
        ratio = ratios[label]
        scaled = [({k: v * ratio[k] for k, v in x.items()}, truth == label) for x, truth in data]
        w: dict[str, float] = defaultdict(float)
        b = 0.0
        for epoch in range(epochs):
            rate = learning_rate(epoch)
            for x, is_label in scaled:
                score = max(-30.0, min(30.0, b + sum(w[k] * v for k, v in x.items())))
                grad = 1 / (1 + math.exp(-score)) - is_label
                for k, v in x.items():
                    w[k] -= rate * (grad * v + l2 * w[k])
                b -= rate * grad
        weights[label] = pruned({k: w[k] * ratio[k] for k in w})
        bias[label] = round(b, 4)
    return LinearModel(task, labels, bias, weights)


def fit_with_nb(task: str, rows: list[dict], epochs: int, l2: float, cache: dict) -> LinearModel:
    """The average of two linear models trained on the same rows: the softmax one and the
    naive Bayes-scaled one. Averaging scores is averaging weights, so the result is one
    ``LinearModel`` again. Why both: NB scaling reads writers it never saw better (rule V
    in ``SPLITS.md``), but it leans on the corpus's own words and almost ignores the mood
    word list ("furious", in no training message, lost to "absolutely", in 24 positive
    ones); the softmax model keeps the word list's weight. Adopted by rules E (sentiment), F
    (type, urgency) and G (the six intent models) in ``SPLITS.md``."""
    softmax = fit_softmax(task, rows, epochs, l2, cache)
    scaled = fit_nb_scaled(task, rows, epochs, l2, cache)
    weights = {
        lab: pruned(
            {
                k: round((softmax.weights[lab].get(k, 0) + scaled.weights[lab].get(k, 0)) / 2, 3)
                for k in softmax.weights[lab].keys() | scaled.weights[lab].keys()
            }
        )
        for lab in softmax.labels
    }
    bias = {lab: round((softmax.bias[lab] + scaled.bias[lab]) / 2, 4) for lab in softmax.labels}
    return LinearModel(task, softmax.labels, bias, weights)


def cache_features(message: str, cache: dict) -> dict[str, float]:
    if message not in cache:
        cache[message] = features(message)
    return cache[message]


def accuracy(model: LinearModel, rows: list[dict], task: str, cache: dict) -> float:
    rows = [row for row in rows if row.get(task)]
    right = sum(
        model.predict(row["message"], cache_features(row["message"], cache)).label == row[task]
        for row in rows
    )
    return right / len(rows)


def choose(
    field: str, sources: dict[str, list[dict]], check: list[dict], cache: dict
) -> tuple[tuple, LinearModel, float]:
    """Train one model per data choice and setting, and keep the best on ``check`` (dev):
    the choice (data, epochs, L2), its model and its accuracy. On a tie, all the files,
    then fewer epochs."""
    results, models = {}, {}
    for data, rows in sources.items():
        for setting in SETTINGS:
            models[(data, *setting)] = model = fit(field, rows, *setting, cache)
            results[(data, *setting)] = accuracy(model, check, field, cache)
    choice = max(results, key=lambda c: (results[c], c[0] == "all files", -c[1]))
    return choice, models[choice], results[choice]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mock_server.offline.train")
    parser.add_argument("--check", action="store_true", help="report only, write nothing")
    args = parser.parse_args(argv)
    dev = load("dev")
    cache: dict = {}
    loaded: dict[tuple[str, ...], list[dict]] = {}  # each choice of files read once
    trained = {}
    for name, (field, only) in TASKS.items():
        check = [r for r in dev if only in (None, r["inquiry_type"])]
        learn = {}
        for data, files in data_for(field).items():
            if files not in loaded:
                loaded[files] = load(*files) + load_older_set()
            learn[data] = [r for r in loaded[files] if only in (None, r["inquiry_type"])]
        (data, epochs, l2), best, score = choose(field, learn, check, cache)
        print(
            f"{name:<17} dev {score:.1%} with {epochs} epochs, "
            f"l2={l2:g}, {data} ({len(learn[data])} training rows)",
            flush=True,
        )
        trained[name] = best.to_json()  # learned without dev: dev only chose
    if not args.check:
        WEIGHTS.write_text(json.dumps(trained, sort_keys=True, separators=(",", ":")) + "\n")
        print(f"wrote {WEIGHTS} ({WEIGHTS.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
