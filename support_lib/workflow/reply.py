"""Nodes 9-15: plan a reply, write it, review it, rewrite it while it fails, personalise it.

The review's pass mark is decided in code (``PASS_SCORE``), not by the model. A failed
review sends the reply back for one more rewrite while the budget
(``max_regenerations``) lasts: a bounded loop, closed by the edge from
``regenerate_response`` back to ``score_response``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator

from ..engine import FirstAvailable, Router
from ..llm import LLMNode, Prompt
from .analysis import MESSAGE_BLOCK
from .common import SAFETY, labels, normalised, references_in, squashed, unaccented

INFO_BLOCK = "<customer_info>\n{{customer_info}}\n</customer_info>"
MAX_REPLY_CHARS = 4000
LEFTOVERS = re.compile(
    r"\{\{|\}\}|\[(?:customer|your|agent|company) ?name\]|<insert|\bTODO\b", re.I
)


# "order #50422", "order number 78-1123", "#ORD-99812": a reference with at least one digit.
ORDER_REFERENCE = re.compile(
    r"(?:#|\border\s+(?:no\.?|number|num\.?|id)?\s*#?)\s*(?P<ref>(?=[\w-]*\d)\w[\w-]{2,}\w)",
    re.I,
)

# "$120.50", "£14.99", "€ 20", "20 EUR", "49.99 dollars": an amount of money. At most 16
# digits and commas: a longer run of digits is no price, and stays a number a float can hold.
AMOUNT = re.compile(
    r"(?:[$€£¥]|\b(?:usd|eur|gbp)\b)\s?(?P<before>\d[\d,]{0,15}(?:\.\d+)?)"
    r"|(?P<after>\d[\d,]{0,15}(?:\.\d+)?)\s?(?:[$€£¥]|(?:usd|eur|gbp|dollars?|euros?|pounds?)\b)",
    re.I,
)  # "$49.99", "EUR 49.99", "49,99 €", "49.99 dollars"
NUMBER = re.compile(r"\d[\d,]{0,15}(?:\.\d+)?")

# "March 3", "3rd of March", "Dec. 24", "2026-12-01", "12/05/2026", "05.12.2026", "Friday": a
# day a customer reads as a promise ("it will arrive on Friday"). Month names are matched
# with their capital only, so "we may 5..." is no date. Relative times ("within five
# business days") are policy, not a fact of this case, and are not checked.
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MONTH_WORDS = {
    "jan", "january", "feb", "february", "mar", "march", "apr", "april", "may", "jun", "june",
    "jul", "july", "aug", "august", "sep", "sept", "september", "oct", "october", "nov",
    "november", "dec", "december",
}  # fmt: skip
# Each weekday as customers and models write it: in English, Spanish, French, German and
# Russian (with its case endings), in Chinese (written without spaces, so inside a
# sentence), and in English's short forms (only capitalised and not followed by a
# lower-case word, so "Sun cream" is no Sunday). A day is compared by its English name, so
# a reply's "Friday" is the customer's "viernes" or "周五".
WEEKDAY_WORDS = {
    "monday": r"monday|lunes|lundi|montag|понедельник\w?",
    "tuesday": r"tuesday|martes|mardi|dienstag|вторник\w?",
    "wednesday": r"wednesday|mi[eé]rcoles|mercredi|mittwoch|сред[аыуе]",
    "thursday": r"thursday|jueves|jeudi|donnerstag|четверг\w?",
    "friday": r"friday|viernes|vendredi|freitag|пятниц[аыуе]",
    "saturday": r"saturday|s[aá]bado|samedi|samstag|sonnabend|суббот[аыуе]",
    "sunday": r"sunday|domingo|dimanche|sonntag|воскресень[еяю]",
}
SHORT_WEEKDAYS = {
    "monday": "Mon", "tuesday": "Tues|Tue", "wednesday": "Wed", "thursday": "Thurs|Thur|Thu",
    "friday": "Fri", "saturday": "Sat", "sunday": "Sun",
}  # fmt: skip
CHINESE_WEEKDAYS = dict(zip(SHORT_WEEKDAYS, "一二三四五六", strict=False))
CHINESE_WEEKDAYS["sunday"] = "[日天]"


def _weekday_pattern(name: str) -> str:
    """One weekday, as a group named by its English name: a whole word ("Fridays" too, not
    "Fridayish"), the short form, or the Chinese inside a sentence."""
    return (
        rf"(?P<{name}>(?<!\w)(?:{WEEKDAY_WORDS[name]})s?(?![^\W\d_])"
        rf"|(?<!\w)(?-i:(?:{SHORT_WEEKDAYS[name]})\.?(?![^\W\d_]|\s+[a-z]))"
        rf"|(?:周|星期|礼拜){CHINESE_WEEKDAYS[name]})"
    )


_WEEKDAY = f"(?:{'|'.join(_weekday_pattern(name) for name in WEEKDAY_WORDS)})"


_MONTH = r"(?P<{0}>(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?)"
_DAY = r"(?P<{0}>[0-3]?\d)(?:st|nd|rd|th)?"
DATE = re.compile(
    rf"\b{_MONTH.format('month')},?\s+{_DAY.format('day')}\b"
    rf"|\b{_DAY.format('day2')}\s+(?:of\s+)?{_MONTH.format('month2')}"
    r"|\b(?P<iso>\d{4}-\d{1,2}-\d{1,2})\b"
    r"|\b(?P<numeric>\d{1,2}/\d{1,2}/\d{2,4}|\d{1,2}\.\d{1,2}\.\d{4})\b"  # not "v2.10.15"
    rf"|(?P<weekday>{_WEEKDAY})",
    re.I,
)
# A weekday a reply names is a day the customer will hold the shop to ("Expect it Friday",
# "it ships Monday"), unless it says how the shop works ("we are open Monday to Friday",
# "our line is closed on Sunday", "Sonntags geschlossen") or is a pleasantry ("Have a good
# Friday!", "¡Feliz viernes!"), in any of the six languages. A range is
# how the shop works only when nothing is promised before it in the sentence: "it will
# arrive Tuesday to Thursday" is a promise.
_RANGE = r"(?:to|through|thru|till|until|-|–|—|a|al|au|à|bis|до|по|至|到)"
WEEKDAY_RANGE_BEFORE = re.compile(rf"{_WEEKDAY}\s*{_RANGE}\s*$|\bbetween\s+$", re.I)
WEEKDAY_RANGE_AFTER = re.compile(rf"\s*(?:{_RANGE}|and)\s*{_WEEKDAY}", re.I)
PROMISE_WORDS = re.compile(
    r"\b(?:arriv|deliver|ship|dispatch|send|sent|reach|refund|credit|expect|collect|get|"
    r"receive|replace|repair|process|call|contact|back)\w*",
    re.I,
)
_CLOSED = r"closed|cerrad[oa]s?|ferm[ée](?:e|s|es)?|geschlossen|закрыт[аыо]?"  # six languages
SHOP_HOURS = re.compile(  # the weekday follows the word within a few words, same clause
    rf"\b(?:{_CLOSED}|open|opens|shut|staffed|hours\s+are|opening\s+hours"
    r"|abiert[oa]s?|abrimos|cerramos|horario|ouvert(?:e|s|es)?|ouvrons|fermons|horaires?"
    r"|geöffnet|öffnungszeiten|открыт[аыо]?|работаем)\b"
    r"(?:\s+[\w-]+){0,3}?"
    r"(?:\s+(?:on|from|at|and|el|los|las|le|les|am|an|den|в|по|и|y|et|und))?\s+$",
    re.I,
)
SHOP_HOURS_AFTER = re.compile(  # "Sonntags geschlossen", "周日休息": the word after the day
    r"(?:\s+[\w-]+){0,2}?[\s:—–-]*"  # up to two words, no comma: "Friday, closed box" is not
    rf"(?:{_CLOSED}|выходной|休息|不营业|营业)",
    re.I,
)
PLEASANTRY = re.compile(
    r"\b(?:every|each|happy|(?:wish(?:ing)?\s+you|have|enjoy)\s+(?:an?|your|the)\s+"
    r"(?:good|great|nice|lovely|wonderful|fantastic|relaxing|restful|pleasant|brilliant|"
    r"happy|super|fabulous|peaceful)|hope\s+your|enjoy\s+your|enjoy\s+the"
    r"|feliz|buen|bon|bonne|sch[öo]ne[nr]?|хорош\w+|приятн\w+"  # "¡Feliz viernes!"
    r"|cada|todos\s+los|chaque|tous\s+les|jeden|каждую|каждый|каждое)\s+$",  # "every"
    re.I,
)
PLEASANTRY_AFTER = re.compile(r"\s*(?:愉快|快乐)")  # "周五愉快！"


def _no_promise(text: str, start: int, end: int) -> bool:
    """Is the weekday at ``text[start:end]`` part of the shop's hours (a range with no
    promise before it in its sentence, or "closed on ...") or a pleasantry, rather than a
    day promised to the customer?"""
    before = text[max(0, start - 60) : start]
    clause = re.split(r"[.!?\n;]", before)[-1]
    ranged = WEEKDAY_RANGE_BEFORE.search(clause) or WEEKDAY_RANGE_AFTER.match(text, end)
    return bool(
        (ranged and not PROMISE_WORDS.search(clause))
        or SHOP_HOURS.search(clause)
        or SHOP_HOURS_AFTER.match(text, end)
        or PLEASANTRY.search(clause)
        or PLEASANTRY_AFTER.match(text, end)
    )


# "Hi Bob,", "Dear Ms Okafor,": the name a reply greets the customer by.
# Only a capitalised name is taken for one ("Hi, thanks for writing." greets nobody).
GREETING = re.compile(
    r"^\W*(?:hi|hello|hey|dear|hola|bonjour|hallo|ciao|good (?:morning|afternoon|evening))"
    r"[\s,]+(?P<name>[^\W\d_][^\W\d_'.-]*(?:[ '.-]+[^\W\d_]+){0,3})\s*[,!:.\n]",
    re.I,
)
NOBODY_IN_PARTICULAR = {
    "there", "team", "customer", "friend", "all", "everyone", "folks", "again",
    "valued customer", "dear customer", "sir or madam", "support team", "customer support",
}  # fmt: skip
TITLES = {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "madam"}
UNCHECKED_MODEL_TEXT = ("response_context", "quality_score", "subject")
"""Inputs a model wrote that nothing checked (the plan, the review, the extracted subject
line), at any depth: no source of facts for a reply. Drafts are: each passed this check
when it was written; so are the extracted name, order and product (``grounded``)."""


def _days(text: str, promised: bool = False) -> list[tuple[str, set[str]]]:
    """Each day ``text`` names, as written and as every month-day it could mean:
    "3/4/2026" is "3-4" or "4-3", "Friday" is "friday". ``promised``: weekdays only where
    they are promised (see ``_no_promise``)."""
    found = []
    for match in DATE.finditer(text):
        if match["weekday"] and promised and _no_promise(text, *match.span()):
            continue
        month_name = match["month"] or match["month2"]
        if month_name:
            if month_name.rstrip(".").casefold() not in MONTH_WORDS or month_name == "may":
                continue  # a word that only starts like a month ("marketing"), or "may 5"
            day = int(match["day"] or match["day2"])
            means = {f"{MONTHS.index(month_name[:3].title()) + 1}-{day}"}
        elif match["iso"]:
            _, month, day = match["iso"].split("-")
            means = {f"{int(month)}-{int(day)}"}
        elif match["numeric"]:
            first, second, _ = re.split(r"[/.]", match["numeric"])
            means = {f"{int(first)}-{int(second)}", f"{int(second)}-{int(first)}"}
        else:
            means = {next(name for name in WEEKDAY_WORDS if match[name])}
        found.append((match.group().rstrip("."), means))
    return found


def _value(number: str) -> float:
    """ "1,200.50" → 1200.5; "14,99" (a decimal comma) → 14.99."""
    if re.fullmatch(r"\d+,\d{2}", number):
        return float(number.replace(",", "."))
    return float(number.replace(",", ""))


def _texts(value: Any) -> list[str]:
    """Every string and number in a nested value, as text, but those under the keys of
    ``UNCHECKED_MODEL_TEXT``."""
    if isinstance(value, Mapping):
        return [
            text
            for key, item in value.items()
            if key not in UNCHECKED_MODEL_TEXT
            for text in _texts(item)
        ]
    if isinstance(value, (list, tuple)):
        return [text for item in value for text in _texts(item)]
    return [] if value is None else [str(value)]


def _named_in(name: str, given: str) -> bool:
    """Is ``name`` nobody in particular ("there", "Valued Customer") or a name whose every
    word (titles aside: "Ms Okafor") is a whole word of ``given``, accents aside ("José"
    for "Jose")? "Unknown", the extraction's word for no name, is no name."""
    words = [w for w in re.findall(r"[^\W\d_]+", unaccented(name)) if w not in TITLES]
    known = set(re.findall(r"[^\W\d_]+", unaccented(given))) - {"unknown"}
    return unaccented(name) in NOBODY_IN_PARTICULAR or bool(words) and set(words) <= known


def reply_problem(text: str, inputs: Mapping[str, Any] | None = None) -> str | None:
    """What makes a reply unfit to send, or None. A reply must be complete (it ends a
    sentence, or ends with a sign-off such as "Best regards,\\nAlex"), free of template
    leftovers, and not overlong. A model cut off mid-sentence ("...is looking into t")
    fails here and is asked again, instead of the customer getting half a reply. Given
    the node's ``inputs``, an order number the reply names must be one of them: a model
    that writes "order #1234567890" for a customer who gave none (or "#5042" for
    "#50422") is asked again; so is one that greets the customer by a name ("Hi Bob,"),
    or names an amount of money ("a refund of $49.99"), a date ("by March 3") or a
    promised weekday ("it will arrive on Friday", "Fri", "el viernes": ``WEEKDAY_WORDS``)
    that no input holds: a customer takes a stated amount or day as a promise. The plan,
    the review and the subject line (``UNCHECKED_MODEL_TEXT``) do not count as inputs
    here: a fact a model made up there is still made up."""
    if len(text) > MAX_REPLY_CHARS:
        return f"it has {len(text):,} characters; a reply has at most {MAX_REPLY_CHARS:,}"
    leftover = LEFTOVERS.search(text)
    if leftover:
        return f"it still holds a template leftover ({leftover.group()!r})"
    if inputs is not None:
        given = "\n".join(_texts(inputs))  # what the node was given, but the model's own text
        references = references_in(given)
        for match in ORDER_REFERENCE.finditer(text):
            if squashed(match["ref"]) not in references:
                return f"it names order {match['ref']!r}, which nothing it was given holds"
        greeted = GREETING.match(text)
        capitalised = greeted and all(not w[0].islower() for w in greeted["name"].split())
        if capitalised and not _named_in(greeted["name"], given):
            name = greeted["name"]
            return f"it greets the customer as {name!r}, a name nothing it was given holds"
        amounts = list(AMOUNT.finditer(text))
        known = {round(_value(n), 2) for n in NUMBER.findall(given)} if amounts else set()
        for match in amounts:
            if round(_value(match["before"] or match["after"]), 2) not in known:
                amount = match.group().strip()
                return f"it names an amount ({amount}) that nothing it was given holds"
        named = _days(text, promised=True)
        known = set().union(*(means for _, means in _days(given))) if named else set()
        for day, means in named:
            if not means & known:
                return f"it names a day ({day}) that nothing it was given holds"
    if not text.strip():
        return "it is empty"
    if text.rstrip()[-1] in ".!?…)\"'»”’:。！？）」" or _ends_with_sign_off(text):
        return None
    return f"it stops mid-sentence (…{text.rstrip()[-30:]!r})"


def _ends_with_sign_off(text: str) -> bool:
    """The last paragraph is a closing ("Best regards,") and a few short lines after it."""
    last = text.strip().split("\n\n")[-1].splitlines()
    return (
        1 < len(last) <= 4
        and last[0].rstrip().endswith(",")
        and all(len(line.split()) <= 8 for line in last)
    )


# ----------------------------------------------------------------------------- 9. plan

Tone = Literal["empathetic", "professional", "friendly"]
TONES = labels(Tone)


class ResponseContext(BaseModel):
    """The plan for a reply, before any wording."""

    key_points: list[str]
    tone: Annotated[Tone, normalised(Tone, "professional")]
    suggested_solutions: list[str]
    additional_info_needed: list[str]


CONTEXT_PROMPT = Prompt(
    system=(
        "Plan a reply to a customer: the key points to address, the tone (empathetic for "
        "upset customers, friendly for happy ones, professional otherwise), concrete "
        f"solutions, and any information we still need. {SAFETY}"
    ),
    user=(
        f"{MESSAGE_BLOCK}\n"
        "<inquiry_type>{{inquiry_type}}</inquiry_type>\n"
        "<sentiment>{{sentiment}}</sentiment>\n"
        f"{INFO_BLOCK}\n"
        "<account_status>\n{{account_status}}\n</account_status>\n"
        "<account_action>{{account_action}}</account_action>"
    ),
)

generate_response_context = LLMNode(
    "generate_response_context",
    label="Generate Response Context",
    prompt=CONTEXT_PROMPT,
    output_model=ResponseContext,
    temperature=0.3,
    writes=["response_context"],
    # Off the billing route the account was never fetched: the prompt then says null.
    defaults={"account_status": None, "account_action": None},
)

# ----------------------------------------------------------------------------- 10. write

RESPONSE_PROMPT = Prompt(
    system=(
        "You are a customer-support agent. Write the reply to the customer: use their "
        "name if known, acknowledge their situation, give actionable solutions, match the "
        "tone to their sentiment, be concise, and offer further help. Write only the reply "
        f"body, no subject line and no placeholders. {SAFETY}"
    ),
    user=(
        f"{MESSAGE_BLOCK}\n"
        "<inquiry_type>{{inquiry_type}}</inquiry_type>\n"
        "<sentiment>{{sentiment}}</sentiment>\n"
        f"{INFO_BLOCK}\n"
        "<response_context>\n{{response_context}}\n</response_context>"
    ),
)

generate_response = LLMNode(
    "generate_response",
    label="Generate Customer Response",
    prompt=RESPONSE_PROMPT,
    temperature=0.7,
    writes=["generated_response", "candidate_response"],
    to_state=lambda text, inputs: {"generated_response": text, "candidate_response": text},
    check=reply_problem,
    # Not in the prompt (the plan carries it): what the reply check takes as facts of the
    # account, since the plan, written by a model, does not count (UNCHECKED_MODEL_TEXT).
    reads=["account_status"],
    defaults={"account_status": None},
)

# ----------------------------------------------------------------------------- 11-12. review

PASS_SCORE = 7
"""A reply passes the review at this score or above; decided in code, not by the model."""


class QualityScore(BaseModel):
    """The reviewer's answer: a 1-10 score and what is wrong."""

    score: int = Field(description="1 (unusable) to 10 (excellent)")
    issues: list[str] = Field(description="Concrete problems the writer should fix")

    @field_validator("score", mode="before")
    @classmethod
    def _clamp(cls, value: Any) -> int:
        return max(1, min(10, int(float(value))))


class QualityVerdict(QualityScore):
    """The review as the state keeps it: the model's score, and the verdict from code."""

    passed: bool


QUALITY_PROMPT = Prompt(
    system=(
        "You review a support reply before it is sent. Score it from 1 to 10 and list "
        "concrete issues: does it use the customer's name when known, reference their "
        "order, acknowledge their feelings, give a concrete next step, offer further help, "
        f"stay concise and free of placeholders? {SAFETY}"
    ),
    user=(f"{MESSAGE_BLOCK}\n{INFO_BLOCK}\n<response>\n{{{{candidate_response}}}}\n</response>"),
)


def verdict(score: Mapping[str, Any], inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Pass or fail is decided here, in code, not by the model's own word."""
    return {"quality_score": {**score, "passed": score["score"] >= PASS_SCORE}}


score_response = LLMNode(
    "score_response",
    label="Quality Check Response",
    prompt=QUALITY_PROMPT,
    output_model=QualityScore,
    temperature=0.1,
    writes=["quality_score"],
    to_state=verdict,
)


def quality_gate(max_regenerations: int) -> Router:
    """pass → send it; fail → rewrite while the budget lasts; exhausted → send the last
    rewrite anyway (the loop is bounded, so a run always ends)."""

    def decide(inputs: Mapping[str, Any]) -> str:
        if inputs["quality_score"]["passed"]:
            return "pass"
        return "fail" if inputs["regenerations"] < max_regenerations else "exhausted"

    return Router(
        "quality_gate",
        decide,
        routes=("pass", "fail", "exhausted") if max_regenerations else ("pass", "exhausted"),
        label="Check Quality Score",
        reads=("quality_score", "regenerations"),
        defaults={"regenerations": 0},
    )


# ----------------------------------------------------------------------------- 13. rewrite

REGENERATE_PROMPT = Prompt(
    system=(
        "You are a customer-support agent improving a reply that failed review. Rewrite it "
        "so that every listed issue is fixed; keep what was good. Write only the reply "
        f"body. {SAFETY}"
    ),
    user=(
        f"{MESSAGE_BLOCK}\n{INFO_BLOCK}\n"
        "<response_context>\n{{response_context}}\n</response_context>\n"
        "<previous_response>\n{{candidate_response}}\n</previous_response>\n"
        "<issues>\n{{quality_score.issues}}\n</issues>"
    ),
)


def rewritten(text: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "regenerated_response": text,
        "candidate_response": text,
        "regenerations": inputs["regenerations"] + 1,
    }


regenerate_response = LLMNode(
    "regenerate_response",
    label="Regenerate Response with Feedback",
    prompt=REGENERATE_PROMPT,
    temperature=0.6,
    writes=["regenerated_response", "candidate_response", "regenerations"],
    to_state=rewritten,
    check=reply_problem,
    reads=["regenerations", "account_status"],  # the account: as for generate_response
    defaults={"regenerations": 0, "account_status": None},
)

# ----------------------------------------------------------------------------- 14-15. finish

merge_responses = FirstAvailable(
    "merge_responses",
    candidates=("regenerated_response", "generated_response"),
    output="final_response_draft",
    label="Merge Responses",
)

PERSONALIZE_PROMPT = Prompt(
    system=(
        "Personalize a support reply before it is sent: greet the customer by name if "
        "known, reference their order or product once, keep the substance, and end with a "
        "sign-off from the agent 'Alex from Customer Support' with the contact "
        f"support@example.com. Write only the final reply. {SAFETY}"
    ),
    user=(
        f"{INFO_BLOCK}\n"
        "<history>{{history}}</history>\n"
        "<draft>\n{{final_response_draft}}\n</draft>"
    ),
)

personalize_response = LLMNode(
    "personalize_response",
    label="Personalize Response",
    prompt=PERSONALIZE_PROMPT,
    temperature=0.5,
    writes=["final_response"],
    check=reply_problem,
    stream=True,  # the customer's reply appears in the app as it is written
)
