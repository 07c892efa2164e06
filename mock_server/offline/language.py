"""Which language a message is in: by script first, then by common function words.

The offline model only understands English. It still recognises the other languages a
support team commonly gets, so that such a message is handled on purpose (the model says
so, and the escalation check hands it to a person) instead of being misread as English.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

NAMES = {
    "en": "English", "es": "Spanish", "fr": "French", "de": "German", "pt": "Portuguese",
    "it": "Italian", "ru": "Russian", "zh": "Chinese", "ja": "Japanese", "ko": "Korean",
    "ar": "Arabic", "he": "Hebrew", "el": "Greek",
}  # fmt: skip
SCRIPTS = [  # (language, characters of its script)
    ("zh", r"[\u4e00-\u9fff]"), ("ja", r"[\u3040-\u30ff]"), ("ko", r"[\uac00-\ud7af]"),
    ("ru", r"[\u0400-\u04ff]"), ("ar", r"[\u0600-\u06ff]"), ("he", r"[\u0590-\u05ff]"),
    ("el", r"[\u0370-\u03ff]"),
]  # fmt: skip
FUNCTION_WORDS = {
    "en": "the and is are my i you your to of it for with this that was have not but can please",
    "es": "el la los las de que y en mi es por para con una un pedido gracias hola",
    "fr": "le la les de des et est je mon ma pas pour avec une un vous bonjour merci commande",
    "de": "der die das und ist ich mein meine nicht mit für ein eine sie bitte danke hallo bin "
    "ihr ihre ihrem kann man beim von keine kein wirklich",
    "pt": "o os de que e em meu minha não para com uma um você obrigado obrigada olá pedido",
    "it": "il lo la di che e è mio mia non per con una un grazie ciao ordine sono ho",
}
WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


@dataclass(frozen=True)
class Language:
    code: str
    name: str
    evidence: str


ENGLISH = Language("en", "English", "the default")


def detect_language(text: str) -> Language:
    """The message's language (``en`` when unsure), with the evidence that decided."""
    letters = [ch for ch in text if ch.isalpha()]
    for code, chars in SCRIPTS:
        found = re.findall(chars, text)
        if letters and len(found) >= max(2, 0.3 * len(letters)):
            return Language(code, NAMES[code], f"{len(found)} characters of its script")
    words = [w.lower() for w in WORD.findall(text)]
    counts = {
        code: sum(w in set(vocab.split()) for w in words) for code, vocab in FUNCTION_WORDS.items()
    }
    best = max(counts, key=lambda code: (counts[code], code == "en"))
    if best != "en" and counts[best] >= 2 and counts[best] > counts["en"]:
        return Language(best, NAMES[best], f"{counts[best]} common {NAMES[best]} words")
    return Language("en", "English", f"{counts['en']} common English words")
