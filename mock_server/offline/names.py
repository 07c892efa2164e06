"""The customer's own name: from a self-introduction or a sign-off, in several languages.

Two places hold a name in a support message: the opening ("Priya here", "Hi, this is Tom",
"my name is Ana María", "me llamo Javier", "меня зовут Ольга") and the end ("Thanks, Anna",
"— Marco", "Regards,\\nDr. Lena Weiss", "Grüße, Jonas", "谢谢，张伟", or a name alone on
the last line). Titles are dropped ("Dr. Lena Weiss" → "Lena Weiss"), and so is what follows
a name ("Tom from Leeds", "Patrick Osei, Facilities"). Names of other people (the driver
Kevin) are not the customer's: only these two places are read. ``None`` when no name is
given: guessing one would put a wrong name in front of the customer.
"""

from __future__ import annotations

import functools
import re


def words_of(text: str) -> frozenset[str]:
    """A word list written as text (one place to read and edit it)."""
    return frozenset(text.split())


LETTER = r"[^\W\d_]"
WORD = rf"(?:{LETTER}\.|{LETTER}(?:{LETTER}|['’\-](?={LETTER}))*)"  # Anna, O'Connell, J.
TITLE = r"(?:(?:Dr|Mr|Mrs|Ms|Mx|Prof|Mme|Mlle|Sr|Sra|Srta|Dott)\.?[ \t]+)?"
RUN = rf"{TITLE}{WORD}(?:[ \t]+{WORD}){{0,3}}"  # up to four words, never across punctuation
CJK = r"[\u4e00-\u9fff]{2,4}"
EMOJI = r"(?:[^\w\s,.!?;:]{1,4}[ \t]*)?"  # "😊 Claudia", "🎄 Maja"
TITLES = {
    "dr", "mr", "mrs", "ms", "miss", "mx", "prof", "sir", "madam", "herr", "frau", "sr", "sra",
    "srta", "mme", "mlle", "dott", "sig", "aunt", "uncle", "auntie",
}  # fmt: skip
NOT_NAMES = words_of("""
i im a an the very so not really just still writing having trying getting looking here sorry
unable frustrated angry upset happy glad sure new done tired sick from customer support team
thanks thank regards best cheers hello hi hey hiii dear order please pls urgent asap again
disappointed contacting reaching going wondering interested calling curious confused
concerned worried extremely about on in at with furious annoyed fed also currently now
unknown your my sincerely kind warm yours thx ty cordially love respectfully today tomorrow
premium gold vip loyal long ok okay yes no this that afraid aware unhappy stuck waiting lost
out back away it its what why how when where who which help anyway everyone all guys folks
there x xx xo xoxo lol haha ngl tbh btw fyi admin me us we you monday tuesday wednesday
thursday friday saturday sunday sent iphone android windows mac ios app gmail outlook signed
anon anonymous ta tysm br kr mfg lg saludos gracias merci danke grazie obrigado obrigada
спасибо cordialement ps does do did could can are is was were will would should since big
two three tracking quick bit fine good great one some any every other another ever i'm i've
you've you're it's that's we're don't can't january february march april may june july
august september october november december spring summer autumn winter christmas easter
""")

INTRODUCTION = re.compile(
    r"(?:\bmy name(?: is|'s)|\bname'?s|(?:^|[\n.!?,;]\s*|\b(?:hi|hello|hey|dear \w+)[,!]?\s+)"
    r"(?:this is|it'?s|it is|i am|i'?m)|\b(?:me llamo|mi nombre es|je m'appelle|ich hei(?:ß|ss)e|"
    r"mein name ist|hier (?:ist|spricht)|mi chiamo|meu nome é|me chamo|aqui é|меня зовут)"
    rf")\s+({RUN})",
    re.IGNORECASE,
)
HERE = re.compile(
    rf"(?:^|[\n.!?]\s*|\b(?:hi|hello|hey|hiya)[,!]?\s+){EMOJI}({RUN})\s+(?:here|hier|aquí)\b",
    re.IGNORECASE,
)
SIGN_OFF = (
    r"(?:many |big |huge )?thanks?(?: you)?(?:[ \t]+[a-z]+){0,3}|thx|ty|tysm|ta|cheers|"
    r"(?:best |kind |warm |warmest |many )?(?:regards|wishes)|all the best|best|sincerely|"
    r"yours(?: sincerely| truly| faithfully)?|respectfully|cordially|warmly|br|kr|x+|xoxo|love|"
    r"take care|(?:viele |liebe |beste |freundliche )?grü(?:ß|ss)e|gru(?:ß|ss)|"
    r"mit freundlichen grü(?:ß|ss)en|"
    r"mfg|lg|danke(?: schön| sehr)?|merci(?: beaucoup| d'avance)?|(?:bien )?cordialement|"
    r"bien à vous|salutations|(?:un )?saludos?|gracias(?: de antemano)?|atentamente|"
    r"obrigad[oa]|abraços|atenciosamente|grazie(?: mille)?|(?:cordiali |distinti )?saluti|"
    r"спасибо(?: заранее)?|заранее спасибо|с уважением|всего доброго"
)
SEPARATOR = r"[ \t]*(?:[,!.]+[ \t]*\n?|\n)[ \t]*[-–—~]*[ \t]*"  # "Thanks, Anna", "Regards,\nAnna"
TRAILER = r"[ \t]*(?:\([^)\n]*\)|,[^\n]{0,40})?[ \t]*[.!]?[ \t]*$"  # "(formerly ...)", ", Accounts"
SIGNED = re.compile(
    rf"(?:^|[\s,.!?])(?:{SIGN_OFF})\b{SEPARATOR}{EMOJI}({RUN}){TRAILER}", re.IGNORECASE
)
SIGNED_PLAIN = re.compile(rf"(?:^|[\s,.!?])(?:{SIGN_OFF}|x+)\b[ \t]+({RUN}){TRAILER}", re.I)
AFTER_SENTENCE = re.compile(rf"[.!?][ \t]+{EMOJI}({RUN})[ \t]*$")
DASHED = re.compile(rf"(?:^|\s)[-–—~]+[ \t]*({RUN})[ \t]*(?:,[^\n]{{0,40}})?$")
LAST_LINE = re.compile(rf"\n[ \t]*{EMOJI}({RUN})[ \t]*$")
AFTER_EMOJI = re.compile(rf"[.!?][ \t]*[^\w\s,.!?;:]{{1,4}}[ \t]*({WORD})[ \t]*$")
CJK_SIGNED = re.compile(
    rf"(?:谢谢|感谢|我是|我叫)[！!，,。\s]*({CJK})[。！!]?$|[。！？!]\s*({CJK})$"
)


def extract_name(text: str) -> str | None:
    """The name the customer gives for themselves, or None (see the module doc)."""
    text = (text or "").strip()
    found = [name for name in (_introduced(text), _signed(text)) if name]
    return max(found, key=len) if found else None  # the fuller form, when both


def _introduced(text: str) -> str | None:
    for match in INTRODUCTION.finditer(text):
        name = _clean(match.group(1), lowercase_ok=False)
        if name:
            return name
    here = HERE.search(text)
    if here:
        return _clean(here.group(1), lowercase_ok=True)
    cjk = re.search(rf"(?:我是|我叫)({CJK})", text)
    return cjk.group(1) if cjk else None


def _signed(text: str) -> str | None:
    tail = text[-200:]
    for pattern, lowercase_ok in (
        (SIGNED, True), (SIGNED_PLAIN, False), (DASHED, True), (LAST_LINE, False),
        (AFTER_EMOJI, False), (AFTER_SENTENCE, False),
    ):  # fmt: skip
        for match in reversed(list(pattern.finditer(tail))):  # the last sign-off counts
            name = _clean(match.group(1), lowercase_ok=lowercase_ok)
            if name and (pattern is not AFTER_SENTENCE or _surely_a_name(name)):
                return name
    cjk = CJK_SIGNED.search(tail)
    return (cjk.group(1) or cjk.group(2)) if cjk else None


GREETINGS = {"hi", "hello", "hey", "hiya", "hii", "hiii", "heya", "yo", "dear", "ok", "okay"}
COMMON_LAST_WORDS = words_of("""
ridiculous useless shame never brilliant lovely heartwarming seriously explain pathetic
unbelievable amazing awesome perfect great terrible awful disgusting typical classic
fantastic wonderful excellent incredible horrible unacceptable hopeless priceless sad sigh
cool nice sweet wow yikes ugh cheers bye regards thanks later soon urgently please asap help
hurry again fixed broken august september october november december january february march
april may june july spring summer autumn winter christmas easter honestly literally period
""")


def _surely_a_name(name: str) -> bool:
    """A word after the last sentence is a name only if it is not a common closing word
    ("...two years. Ridiculous.")."""
    return len(name.split()) > 1 or name.lower() not in COMMON_LAST_WORDS


@functools.cache
def lexicon_words() -> frozenset[str]:
    """Words the classification and sentiment lexicons know ("Unacceptable", "Billing"):
    never names."""
    from .classify import LEXICONS
    from .sentiment import LEXICON

    terms = [*LEXICON.terms, *(t for lex in LEXICONS.values() for t in lex.terms)]
    return frozenset(t.rstrip("*") for t in terms if " " not in t)


def _clean(candidate: str, *, lowercase_ok: bool) -> str | None:
    """A run of words cut to the name: no title, nothing after it; None if not a name."""
    words = candidate.split()
    while len(words) > 1 and words[0].lower().rstrip(".,!") in TITLES | GREETINGS:
        words = words[1:]
    name: list[str] = []
    for word in words:
        bare = word.lower()
        if bare in NOT_NAMES or (name and bare in ("from", "and", "at", "of", "de", "la", "via")):
            break
        if not word[0].isupper() and name:  # "Tom here", "Anna from ..." end the name
            break
        if re.search(r"[a-z][A-Z]", word) and not re.match(r"(?:Mc|Mac|O'|D')", word):
            return None  # PixelDesk, QuillNote: a product, not a person
        name.append(word)
    if not name or name[0].lower() in NOT_NAMES | lexicon_words():
        return None
    if len(name[0].rstrip(".")) < 2 and len(name) < 2:
        return None
    if name[0].isupper() and len(name[0]) > 3:  # ALL CAPS is shouting, not a name
        return None
    if not lowercase_ok and not name[0][0].isupper():
        return None
    return " ".join(name)
