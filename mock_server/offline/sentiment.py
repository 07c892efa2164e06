"""Sentiment: positive / neutral / negative for customer-support messages.

Why not just count happy and unhappy words? Because support language breaks a plain lexicon:

* complaints often carry no "emotional" word at all ("still not fixed", "third time I ask",
  "charged twice"), so problem phrases carry negative weight of their own;
* sarcasm uses positive words to complain ("great, just great", "love waiting 3 weeks");
* negation flips meaning ("not happy" is negative, "not bad" is mildly positive);
* intensity matters ("refund NOW!!!" is angrier than "refund, please");
* politeness is not praise ("Thanks!" after a question is neutral).

The scorer walks the message sentence by sentence, adds up weighted lexicon hits, applies those
rules, and maps the total to a label with two thresholds. It is a heuristic with known limits:
it has no real understanding, misses sarcasm without a marker, and only knows English.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .text import Hit, Lexicon, normalize, split_sentences, weighted

NEGATIVE_THRESHOLD = -1.5  # total <= this -> negative
POSITIVE_THRESHOLD = 1.5  # total >= this -> positive

# --- Lexicons --------------------------------------------------------------------------------
# Each line is "weight: term, term, ...". A trailing * matches the rest of a word; words in a
# phrase may be separated by spaces, hyphens or commas ("great, just great").

STRONG_NEGATIVE = weighted("""
-3: unacceptable, not acceptable, furious, outraged, livid, fuming, ridiculous, outrageous
-3: disgusting, disgrace*, shameful, worst, terrible, horrible, awful, pathetic, useless
-3: worthless, garbage, scam, scammed, fraud, fraudulent, rip off, ripoff, ripped off, cheated
-3: incompetent, incompetence, appalling, infuriat*, hate, hated, sick of, sick and tired
-3: fed up, had enough, never again, last straw, nightmare, disaster, hopeless, lied, pissed
-3: wtf, enraged, false advertising
-2.5: absurd, trash, rubbish, lying, sucks, waste of, a joke, runaround
-2: unbelievable, insane
""")

DISSATISFACTION = weighted("""
-2.5: angry, upset, frustrat*, disappoint*, unhappy, dissatisfied, displeased, rude
-2.5: unprofessional, screwed up, want my money back, lawyer, attorney, sue, legal action
-2.5: report you, reporting you, tired of, what's the point, terrified
-2: scared, afraid, anxious, nobody answers, no one answers, trading standards, i'm done
-2: done with, mad, annoy*, irritat*, sad, regret, shame, dislike, don't like, do not like
-2: didn't like, bad, mess, messed up, misleading, ignored, ignoring, no response, no reply
-2: no answer, not helpful, unhelpful, painful, unreliable, demand, cancel everything
-2: chargeback, bbb, better business bureau, consumer protection
-1.5: speak to a manager, talk to a manager, poor, complain*, worried, inconvenien*, hassle
-1.5: headache, too long, forever, money back, nervous, not here, isn't here
-1: even though, says delivered, nowhere, no one, nobody, concerned, confus*, unfortunately
-1: sadly, can't believe, cannot believe, want a refund
""")

# Problem reports carry no emotion word but are complaints all the same.
PROBLEM_REPORTS = weighted("""
-2.5: unusable, keep* crashing, still broken, fourth time
-2: charged twice, charged me twice, double charged, double charge, duplicate charge
-2: overcharged, charged again, unauthorized, hacked, defective, faulty, stopped working
-2: no longer work*, buggy, never arrived, never received, never got, still not, still waiting
-2: still no, still haven't, still hasn't, not fixed, third time, never arrive*, never came
-1.5: stolen, broken, broke, damaged, not working, isn't working, is not working, don't work
-1.5: crash*, freez*, froze, glitch*, hasn't arrived, has not arrived, haven't received
-1.5: have not received, not received, didn't arrive, not arrived, second time, multiple times
-1.5: several times, many times, been waiting, keep* happening, wrong address, wrong item
-1.5: wrong order, could be better
-1: lost, missing, error, errors, bug, bugs, problem, problems, still, again, every time, late
-1: delayed, delay, waiting for, slow, right now, immediately, keep getting, keeps getting
-1: anymore, hasn't shipped, locked out, hasn't updated, has not updated, not updated, fail*
-0.5: wrong, issue, issues, refund
""")
# "won't pair", "can't log in", "unable to connect": inability is a problem report too.
_INABILITY = ("won't", "will not", "can't", "cannot", "can not", "doesn't", "does not", "isn't",
              "didn't", "did not", "unable to", "not able to", "couldn't", "could not")  # fmt: skip
_ACTIONS = ("pair", "connect", "load", "open", "start", "sync", "charge", "turn on", "print",
            "save", "update", "install", "boot", "respond", "log in", "login", "sign in", "access",
            "download", "upload", "play", "work", "find", "reach", "get through", "checkout",
            "check out", "pay", "complete", "reset", "verify", "receive", "use")  # fmt: skip
PROBLEM_REPORTS.update({f"{neg} {act}": -1 for neg in _INABILITY for act in _ACTIONS})

# "for two weeks", "it's been 10 days", "every five minutes": time lost is a complaint.
ELAPSED = re.compile(
    r"\b(?:in|for|over|after|it's been|it has been|been)\s+(?:almost\s+|nearly\s+|over\s+)?"
    r"(?:a|one|two|three|four|five|six|ten|\d+|several|many|a few)\s+(?:days?|weeks?|months?)\b"
    r"|\bevery\s+(?:few|two|five|ten|\d+)\s+(?:minutes|hours|days)\b"
)

# Set phrases that are sarcastic on their own.
SARCASM_PHRASES = weighted("""
-3: thanks for nothing, thanks a lot for nothing, great just great, just great, just perfect
-3: just wonderful, just brilliant, just fantastic, oh great, oh wonderful, oh perfect, oh joy
-3: oh fantastic, oh brilliant, oh lovely, yeah right, what a joke
-2.5: oh good, real helpful
-2: big surprise, what a surprise, how convenient, shocker
""")

POSITIVE = weighted("""
3: love, loved, amazing, excellent, fantastic, wonderful, awesome, outstanding, brilliant
3: superb, exceptional, delighted, thrilled, thank you so much, thanks so much, thanks a ton
3: kudos, well done, great job, keep up the good work, five stars, 5 stars, works great
3: works perfectly, can't thank you enough, couldn't be happier, lifesaver, life saver
3: top notch, changed my life, game changer
2.5: loving, perfect, impressed, impressive, best, grateful, thankful, thank you very much
2.5: good job, works well, exceeded, big fan, inspiring, congrat*
2: perfectly, great, happy, pleased, glad, satisfied, helpful, appreciate, appreciated
2: many thanks, enjoy*, beautiful, lovely, excited, can't wait, pleasure, favorite, patient
2: my thanks, favourite, fan of, worth the money, has changed my, have changed my, inspired
1.5: good, nice, thanks for, thank you for, recommend, smooth*, easy, easier, faster, resolved
1.5: cool, friendly, reliable
1: quick, fast, better, no problem, not a problem, no worries
# Plain "thanks" is politeness, not praise.
0.5: thank you, thanks, thx
""")

EMOJI = {
    "\U0001f44d": 2, "\U0001f60a": 2, "\u2764\ufe0f": 2, ":)": 1.5, "\U0001f642": 1.5,
    "\U0001f621": -3, "\U0001f620": -3, "\U0001f624": -2, "\U0001f644": -2, "\U0001f61e": -2,
    "\U0001f622": -2, ":(": -2,
}  # fmt: skip

# Set phrases that would otherwise trigger a word above; a weight near 0 masks them.
NEUTRAL_MASKS = weighted("""
-0.5: as soon as possible
0.3: thanks in advance, thank you in advance, looking forward, would love, i'd love
0.3: would be great, would be nice
0: best regards, kind regards, warm regards, best wishes, all the best, best way
0: the best option, good morning, good afternoon, good evening, good day, not sure
0: you recommend, can you recommend, could you recommend, recommend a, recommend one, happy to
0: quick question, no rush, good condition, great deal, a good time, no longer need, is it good
0: where is my, how many times, no reply needed, no need to reply, no reply necessary
""")

LEXICON = Lexicon(
    {
        **STRONG_NEGATIVE,
        **DISSATISFACTION,
        **PROBLEM_REPORTS,
        **SARCASM_PHRASES,
        **POSITIVE,
        **NEUTRAL_MASKS,
        **EMOJI,
    }
)

NEGATORS = {
    "not", "no", "never", "hardly", "barely", "neither", "nor", "without", "nothing",
    "cant", "dont", "doesnt", "didnt", "isnt", "wasnt", "wont", "arent", "havent", "hasnt",
    "couldnt", "wouldnt", "shouldnt", "aint", "werent",
}  # fmt: skip
INTENSIFIERS = {
    "very", "so", "really", "extremely", "absolutely", "totally", "completely", "incredibly",
    "super", "truly", "utterly", "highly", "deeply", "seriously", "beyond", "too", "such",
}  # fmt: skip
ACRONYMS = {
    "ASAP", "USA", "FAQ", "API", "PDF", "USB", "HDMI", "SSD", "ETA", "DHL", "UPS", "USPS",
    "SMS", "VAT", "CEO", "iOS", "IOS", "MAC", "PIN", "URL", "CSV", "ID", "TV", "GPS", "LED",
    "RAM", "CPU", "GPU", "OS", "EU", "UK", "FEDEX", "PRO", "MAX", "XL", "XXL", "APP", "SKU",
}  # fmt: skip

# A positive word used sarcastically needs a marker *and* something to complain about.
SARCASM_MARKER = re.compile(
    r"^\s*(?:oh|wow|gee|great|wonderful|perfect|fantastic|brilliant|lovely|awesome|nice|"
    r"yeah|sure|thanks a lot|just great)\b"
    r"|\b(?:love|loving|enjoy|enjoying|adore)\s+(?:it\s+when|the\s+way|waiting|being|having|"
    r"getting|paying|spending|sitting|how|that|when)\b"
    r"|\bjust\s+(?:great|perfect|wonderful|fantastic|brilliant|lovely|awesome)\b"
    r"|\bthanks\s+a\s+lot\b|\b(?:so|really|very)\s+helpful\b|/s\b|\U0001f644"
    r"|\bwhat\s+a\s+(?:great|wonderful|fantastic|brilliant|lovely|awesome|nice)\b"
    r"|\b(?:nice|great|good)\s+job\b|\b(?:great|amazing|excellent|wonderful)\s+service\b"
)
COMPLAINT_CONTEXT = re.compile(
    r"\b(?:wait\w*|weeks?|days|hours|months|again|still|late|on hold|ignored|another|third|"
    r"charged|broke\w*|crash\w*|lost|nothing|no one|nobody|yet|delay\w*|never|twice)\b"
)
_CONTRAST = re.compile(r"\b(?:but|however)\b")
_CLAUSE_BREAK = re.compile(r"[,.;:!?]|\bbut\b|\band\b")


@dataclass(frozen=True)
class SentimentResult:
    label: str  # positive / neutral / negative
    score: float  # summed evidence; below zero is negative
    cues: tuple[str, ...]  # the words and rules that decided it, for explanations


CONTEXT_CHARS = 80  # how far back from a hit negators and intensifiers are looked for


def _blank(low: str, hits: list[Hit], index: int) -> str:
    """The text just before ``hits[index]`` with the other hits replaced by spaces, so that
    their words don't count as negators or intensifiers.

    Only the last ``CONTEXT_CHARS`` characters are kept (at most three words are read), and
    only the hits before it can lie there (``hits`` are sorted and do not overlap): so the
    work per hit stays small however long a hostile message is."""
    keep = hits[index]
    start = max(0, keep.start - CONTEXT_CHARS)
    chars = list(low[start : keep.start])
    if start and re.match(r"[\w']", low[start - 1]):  # a word cut in two: blank its end
        cut = re.match(r"[\w']*", low[start:]).end()
        chars[:cut] = " " * cut
    for h in (hits[j] for j in range(index - 1, -1, -1)):
        if h.end <= start:
            break
        a, b = max(h.start, start) - start, h.end - start
        chars[a:b] = " " * (b - a)
    return "".join(chars)


def _previous_tokens(low: str, start: int, n: int) -> list[str]:
    """The last ``n`` words before ``start`` within the same clause."""
    prefix = low[:start]
    breaks = list(_CLAUSE_BREAK.finditer(prefix))
    if breaks:
        prefix = prefix[breaks[-1].end() :]
    tokens = re.findall(r"[a-z']+", prefix)[-n:]
    return [t.replace("'", "") for t in tokens]


def _score_sentence(sentence: str, ironic: bool = False) -> tuple[float, float, list[str]]:
    """Score one sentence. Returns (score, positive part, cues).

    ``ironic`` means the whole message is marked as sarcastic (an eye-roll emoji, "/s", or a
    set phrase such as "oh wonderful") and complains about something: then every positive
    word in it is read as sarcasm.
    """
    low = normalize(sentence)
    hits = [h for h in LEXICON.find(sentence) if h.weight != 0]
    contrast = None
    for m in _CONTRAST.finditer(low):
        contrast = m.start()
    has_negative = any(h.weight < 0 for h in hits)
    sarcastic = ironic or (
        any(h.weight > 0 for h in hits)
        and (has_negative or COMPLAINT_CONTEXT.search(low) is not None)
        and SARCASM_MARKER.search(low) is not None
    )
    score, positive_part, cues = 0.0, 0.0, []
    for index, hit in enumerate(hits):
        w = hit.weight
        context = _blank(low, hits, index)  # the text before the hit, from the hit's start
        if w > 0 and sarcastic:
            w = -w
            cues.append(f"sarcasm: {hit.term!r}")
        elif any(t in NEGATORS or t.endswith("nt") and t[:-2] in ("don", "isn", "wasn")
                 for t in _previous_tokens(context, len(context), 3)):  # fmt: skip
            w = -w if w > 0 else -w * 0.5  # "not happy" -> negative; "not bad" -> mild positive
            cues.append(f"negated {hit.term!r}")
        else:
            cues.append(hit.term)
        if any(t in INTENSIFIERS for t in _previous_tokens(context, len(context), 2)):
            w *= 1.5
        original = sentence[hit.start : hit.end]
        if sum(c.isalpha() for c in original) >= 3 and original.isupper():
            w *= 1.5
        if contrast is not None:  # what comes after "but" counts more
            w *= 0.5 if hit.end <= contrast else 1.5
        score += w
        if w > 0:
            positive_part += w
    if ELAPSED.search(low):
        score -= 1
        cues.append("time waiting: " + ELAPSED.search(low).group(0))
    exclamations = min(sentence.count("!"), 3)
    if score < 0:
        score -= 0.5 * exclamations
    elif score > 0:
        score += 0.5 * exclamations
    return score, positive_part, cues


_IRONY = re.compile(r"\U0001f644|\U0001f612|(?<!\w)/s\b|\byeah,? right\b", re.IGNORECASE)
_INTERJECTION_ONLY = re.compile(
    r"^\s*(?:oh\s+|just\s+|wow,?\s+)?(?:great|wonderful|perfect|fantastic|brilliant|lovely|"
    r"awesome|nice|cool|super)\s*[.!,]*\s*$"
)


def analyze_sentiment(text: str) -> SentimentResult:
    """Classify the sentiment of a customer message (see the module docstring)."""
    clean = text or ""
    sentences = split_sentences(clean)
    all_hits = LEXICON.find(clean)
    ironic = bool(
        (_IRONY.search(clean) or any(h.term in SARCASM_PHRASES for h in all_hits))
        and (any(h.weight < 0 for h in all_hits) or COMPLAINT_CONTEXT.search(normalize(clean)))
    )
    scored = [_score_sentence(s, ironic) for s in sentences]
    negatives = sum(score < 0 for score, _pos, _cues in scored)
    total, cues = 0.0, []
    for sentence, (score, _pos, s_cues) in zip(sentences, scored, strict=True):
        low = normalize(sentence)
        # "Great. My order is late again." - a lone interjection beside a complaint.
        other_negatives = negatives - (score < 0)
        if _INTERJECTION_ONLY.match(low) and other_negatives:
            score = -abs(score) - 1
            s_cues = [f"sarcasm: {sentence.strip()!r}"]
        if re.match(r"^\s*(?:but|however|unfortunately)\b", low) and score < 0:
            total *= 0.5  # "Thanks for the reply. However, ..." - the later point dominates
            score *= 1.5
        total += score
        cues.extend(s_cues)
    # Shouting: ALL-CAPS words in an unhappy message make it angrier.
    shouted = [w for w in re.findall(r"\b[A-Z]{3,}\b", clean) if w not in ACRONYMS]
    if total < 0 and shouted:
        total -= 0.5 * min(len(shouted), 2)
        cues.append("shouting: " + " ".join(shouted[:2]))
    if total <= NEGATIVE_THRESHOLD:
        label = "negative"
    elif total >= POSITIVE_THRESHOLD:
        label = "positive"
    else:
        label = "neutral"
    return SentimentResult(label, round(total, 2), tuple(cues))
