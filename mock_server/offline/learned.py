"""A small linear model that reads labels off a message, trained on the kit's corpus.

Why a trained model and not only rules? Adding up hand-picked keyword weights cannot tell
the topic from the request ("a delivery *driver* was rude" is shipping, not technical),
and every new phrasing needs a new rule. A linear model learns, from a few thousand
labeled messages, how much each word, word pair and rule cue counts for each label. It is
still readable: a label's score is the sum of the weights of the features in the message,
and :func:`LinearModel.predict` returns the features that counted most, as evidence.

The weights live in ``weights.json`` beside this file; ``python -m mock_server.offline.train``
learns them again from ``support_lib/data/corpus`` (train split and extra training files),
deterministically, in about five minutes. The frozen test split is never used for training.
"""

from __future__ import annotations

import functools
import json
import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

WEIGHTS = Path(__file__).with_name("weights.json")
TYPOS = {
    "recieved": "received", "recieve": "receive", "recived": "received", "dissapointed":
    "disappointed", "dissapointing": "disappointing", "disapointed": "disappointed", "pasword":
    "password", "passwrod": "password", "cant": "can't", "dont": "don't", "wont": "won't",
    "im": "i'm", "ive": "i've", "didnt": "didn't", "doesnt": "doesn't", "isnt": "isn't",
    "acount": "account", "acc": "account", "pls": "please", "plz": "please", "u": "you",
    "ur": "your", "thx": "thanks", "ty": "thanks", "tysm": "thanks", "refnd": "refund",
    "shiping": "shipping", "delivry": "delivery", "delivary": "delivery", "adress": "address",
    "addres": "address", "wierd": "weird", "teh": "the", "definately": "definitely",
    "subscribtion": "subscription", "subcription": "subscription", "payed": "paid",
    "rn": "now", "asap": "urgently", "msg": "message", "pkg": "package", "cust": "customer",
}  # fmt: skip
TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)?|[\u4e00-\u9fff]")
ORDER_LIKE = re.compile(r"#\s?\d{3,}|\border\b[^.\n]{0,20}\d{3,}", re.I)
MONEY = re.compile(r"[$€£¥]\s?\d|\d\s?(?:usd|eur|gbp|dollars|euros|pounds)\b", re.I)


def tokens(text: str) -> list[str]:
    """Lower-cased words with common misspellings and chat shorthand mapped to the word."""
    low = unicodedata.normalize("NFKC", text).lower()
    return [TYPOS.get(word, word) for word in TOKEN.findall(low)]


def stem(word: str) -> str:
    """A crude English stem ("charged" → "charg", "refunds" → "refund"): enough to let
    one weight serve a word's forms."""
    for suffix in ("ing", "ed", "es", "s", "ly"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


NEGATORS = {
    "not",
    "no",
    "never",
    "don't",
    "can't",
    "won't",
    "didn't",
    "doesn't",
    "isn't",
    "wasn't",
    "aren't",
    "haven't",
    "hasn't",
    "couldn't",
    "nothing",
    "nobody",
    "without",
}
MOOD_EMOJI = {
    "neg": "😡😠🤬😤🙄😒😞😢😭😫😩🤦👎💀😑",
    "pos": "😊🙂😀😃😄😁🥰😍❤️💕👍🙏🎉✨🌟😎🤩💯",
}


CONTRAST = {"but", "however", "although", "though", "tho", "yet", "except"}


def _negated(words: list[str]) -> list[str]:
    """Words right after a negator are marked: "not happy" gives "not_happy", so a model can
    learn that it counts the other way than "happy". Words after a "but" are marked too:
    "great product but the app keeps crashing" is mostly about what follows the "but"."""
    marked, left, after_but = [], 0, False
    for word in words:
        marked.append(f"not_{word}" if left else f"but_{word}" if after_but else word)
        left = 3 if word in NEGATORS else max(0, left - 1)
        after_but = after_but or word in CONTRAST
    return marked


def features(text: str) -> dict[str, float]:
    """The features of a message: words (negated ones marked), word pairs, Chinese
    character pairs, shape cues (a question, shouting, an order number, money, mood emoji)
    and the rule-based lexicons' scores."""
    words = [stem(w) for w in tokens(text)]
    marked = _negated(words)
    counts: Counter[str] = Counter(f"w:{w}" for w in marked)
    counts.update(f"w:{w}" for w, m in zip(words, marked, strict=True) if m.startswith("but_"))
    counts.update(f"b:{a}_{b}" for a, b in zip(words, words[1:], strict=False))
    counts.update(f"zh:{pair}" for pair in re.findall(r"(?=([\u4e00-\u9fff]{2}))", text))
    found = {key: 1.0 + math.log(n) for key, n in counts.items()}
    letters = [ch for ch in text if ch.isalpha()]
    shape = {
        "cue:question": "?" in text,
        "cue:exclaims": text.count("!") >= 2,
        "cue:shouting": len(letters) > 8 and sum(c.isupper() for c in letters) > 0.6 * len(letters),
        "cue:order_number": bool(ORDER_LIKE.search(text)),
        "cue:money": bool(MONEY.search(text)),
        "cue:short": len(words) <= 6,
        "cue:long": len(words) >= 60,
        "cue:sad_emoji": any(ch in MOOD_EMOJI["neg"] for ch in text) or ":(" in text,
        "cue:happy_emoji": any(ch in MOOD_EMOJI["pos"] for ch in text) or ":)" in text,
    }
    found.update({key: 1.0 for key, on in shape.items() if on})
    found.update(_rule_cues(text))
    return found


def _rule_cues(text: str) -> dict[str, float]:
    """The hand-written lexicons, as features: knowledge that holds for words the corpus
    never saw (see classify.py and sentiment.py)."""
    from .classify import classify_inquiry
    from .sentiment import analyze_sentiment

    rules = classify_inquiry(text)
    cues = {f"rule:{cat}": min(score, 10.0) / 3 for cat, score in rules.scores.items() if score}
    cues[f"rule_best:{rules.label}"] = 1.0
    mood = analyze_sentiment(text)
    cues[f"rule_mood:{mood.label}"] = 1.0
    cues["rule_mood_score"] = max(-5.0, min(5.0, mood.score)) / 3
    return cues


def describe_feature(name: str) -> str:
    """A feature as a learner reads it: "w:refund" → 'the word "refund…"'."""
    kind, _, value = name.partition(":")
    return {
        "w": f'the word "{value}"',
        "b": f'the words "{value.replace("_", " ")}"',
        "zh": f'the characters "{value}"',
        "rule": f"the {value} word list",
        "tag": f"the {value} written in the prompt, taken as given",
        "rule_best": f"the word lists' best guess ({value})",
        "rule_mood": f"the mood word list ({value})",
        "cue": {
            "question": "a question",
            "exclaims": "exclamation marks",
            "shouting": "capitals",
            "order_number": "an order number",
            "money": "an amount of money",
            "short": "a very short message",
            "long": "a long message",
            "legal_threat": "a legal threat (a rule that overrides the classifier)",
        }.get(value, value),
    }.get(kind, "the mood score" if name == "rule_mood_score" else name)


@dataclass(frozen=True)
class Prediction:
    label: str
    confidence: float
    evidence: list[tuple[str, float]]
    """The features that pushed hardest for the label, with how much (weight × value)."""

    def explain(self) -> dict:
        """The prediction as plain data a learner can read."""
        because = [f"{describe_feature(name)} (+{push:.1f})" for name, push in self.evidence]
        return {"label": self.label, "confidence": self.confidence, "because": because}


@dataclass
class LinearModel:
    """A linear classifier: a score per label = bias + Σ weight × feature. Trained as
    the average of two linear models (``train.fit_with_nb``), which is a linear model too."""

    task: str
    labels: list[str]
    bias: dict[str, float]
    weights: dict[str, dict[str, float]]  # label -> feature -> weight

    def scores(self, x: dict[str, float]) -> dict[str, float]:
        return {
            label: self.bias[label] + sum(self.weights[label].get(k, 0.0) * v for k, v in x.items())
            for label in self.labels
        }

    def probabilities(self, x: dict[str, float]) -> dict[str, float]:
        scores = self.scores(x)
        top = max(scores.values())
        exps = {label: math.exp(s - top) for label, s in scores.items()}
        total = sum(exps.values())
        return {label: e / total for label, e in exps.items()}

    def predict(self, text: str, x: dict[str, float] | None = None) -> Prediction:
        x = features(text) if x is None else x
        probs = self.probabilities(x)
        label = max(self.labels, key=lambda lab: (probs[lab], -self.labels.index(lab)))
        return Prediction(label, round(probs[label], 3), self.evidence(label, x))

    def evidence(self, label: str, x: dict[str, float], top: int = 5) -> list[tuple[str, float]]:
        """The features that pushed hardest for ``label`` (weight × value), strongest first."""
        pushes = [(k, round(self.weights[label].get(k, 0.0) * v, 3)) for k, v in x.items()]
        return sorted((p for p in pushes if p[1] > 0), key=lambda p: -p[1])[:top]

    def to_json(self) -> dict:
        """Compact: each feature once, with its weight toward each label in label order."""
        features = sorted({k for ws in self.weights.values() for k in ws})
        return {
            "labels": self.labels,
            "bias": [self.bias[lab] for lab in self.labels],
            "weights": {k: [self.weights[lab].get(k, 0) for lab in self.labels] for k in features},
        }


@functools.cache
def model(task: str) -> LinearModel:
    """The trained model for a task (inquiry_type, sentiment, urgency, intent:<type>)."""
    data = json.loads(WEIGHTS.read_text(encoding="utf-8"))[task]
    labels = data["labels"]
    weights = {lab: {} for lab in labels}
    for feature, row in data["weights"].items():
        for lab, weight in zip(labels, row, strict=True):
            if weight:
                weights[lab][feature] = weight
    return LinearModel(task, labels, dict(zip(labels, data["bias"], strict=True)), weights)
