"""Nodes 1-3: three analyses of the customer's message, run at the same time.

Each node comes with what it needs beside it: its label vocabulary (a ``Literal`` type,
the one definition that prompts, normalisers, evaluation and the offline model derive
from), the Pydantic model of its answer (structured output, sent as a JSON schema) and
its prompt. Prompts put every input in its own tagged block and end with ``SAFETY``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from ..llm import LLMNode, Prompt
from .common import SAFETY, labels, normalised, one_line, one_of, references_in, squashed

MESSAGE_BLOCK = "<customer_message>\n{{customer_message}}\n</customer_message>"

# ----------------------------------------------------------------------------- 1. extract

Urgency = Literal["high", "medium", "low"]
URGENCIES = labels(Urgency)


MAX_SUBJECT_CHARS = 120


class CustomerInfo(BaseModel):
    """What the message tells us about the customer."""

    customer_name: str = Field(description='The name the customer gives, else "Unknown"')
    order_id: str | None = Field(description="Order number without '#', or null")
    product: str | None = Field(description="The product concerned, or null")
    urgency: Annotated[
        Urgency, normalised(Urgency, "medium", {"urgent": "high", "normal": "medium"})
    ] = Field(description="high, medium or low")
    subject: Annotated[str, one_line(MAX_SUBJECT_CHARS)] = Field(
        description="A short subject line (3-8 words) for this request"
    )


EXTRACT_PROMPT = Prompt(
    system=(
        "You extract structured facts from customer-support messages. "
        'Use "Unknown" for a name that is not given and null for a missing order id or '
        "product. Urgency is high for demands like 'immediately', deadlines, legal threats; "
        f"low for relaxed questions; medium otherwise. {SAFETY}"
    ),
    user=MESSAGE_BLOCK,
)


# Where people give their own name: "This is Priya", "Priya here", "Thanks, Priya", "- Priya"
# at the end or on a short signature line. A name of someone else (the driver Kevin), a
# product or a place sits elsewhere. Built on the corpus's training files and checked on
# its dev split: all but 3 of the 3,867 customers' names of both sit in such a place.
SELF_CUES = (
    r"(?:this is|my name is|my name's|name is|my (?:actual |real |full )?name,|i'm|i am|im|"
    r"it's|its|from|name\s*:|from\s*:|soy|me llamo|je suis|je m'appelle|c'est|ich bin|"
    r"mein name ist|hier ist|меня зовут|это|我是|我叫|here\s*\()"
)
SIGN_OFF_CUES = (
    r"(?:thanks|thank you|thanks so much|thank you so much|thx|ty|cheers|regards|best|"
    r"wishes|sincerely|yours|yours faithfully|yours truly|br|warmly|respectfully|love|"
    r"gracias|saludos|merci|cordialement|danke|vielen dank|grüsse|grüssen|gruss|mfg|"  # ß→ss
    r"спасибо|с уважением|谢谢)"
)
HERE_CUES = r"(?:here|again|speaking|from|aquí|ici|hier|здесь)"
TITLE = r"(?:(?:dr|mr|mrs|ms|prof|eng)\.?\s+)?"
JOINING_WORDS = {"of", "and", "for", "at", "the", "de", "und", "owner", "manager", "director"}
NOT_A_ROLE = {"the", "a", "an", "your", "our", "my", "his", "her", "their", "who", "which",
              "that", "is", "was", "and", "but", "please"}  # fmt: skip
KISSES = r"\W*(?:(?:x+|xo+|xoxo)\W*)?"  # "Thanks! Amara x": nothing but a kiss follows


def _signature_tail(message: str, end: int, length: int) -> bool:
    """Is ``message[end:]`` a comma and a role or a company to the end ("..., IT, Hartwell
    Logistics", "..., owner of Café Lumen", "..., SRE lead"), or "at" and a company in
    capitals ("... at Whitehall Rescue"): at most 60 characters, no
    sentence end, and either every word capitalised or a small joining word, or a phrase of
    up to three words that does not start like a clause. "Kevin, the driver, said
    tomorrow" is not.
    ``length`` is the casefolded text's: where casefolding changed lengths (ß → ss) the
    positions do not match the message, and the answer is no."""
    tail = message[end:]
    if length != len(message):
        return False
    company = re.fullmatch(r"\s+(?:at|from|@)\s*([^.!?\n,]{1,50})", tail)
    if company:  # "Katie at Whitehall Rescue"
        words = re.findall(r"\w+", company[1])
        return bool(words) and all(w[0].isupper() for w in words)
    if not re.fullmatch(r"\s*,[^.!?\n]{1,60}", tail):
        return False
    words = re.findall(r"\w+", tail)
    if all(w[0].isupper() or w in JOINING_WORDS for w in words):
        return True
    # a short role in lower case ("Ffion, IT coordinator"): one phrase, not a clause
    return "," not in tail.strip()[1:] and len(words) <= 3 and words[0] not in NOT_A_ROLE


def _where_people_sign(name: str, message: str) -> bool:
    """Does ``name`` occur as whole words where a customer gives their own name? Each test
    looks at a short window around an occurrence, so a long message costs linear time."""
    text, wanted = message.casefold(), re.escape(name.casefold())
    if not re.search(r"[\u3000-\u9fff]", name):  # CJK is written without spaces
        wanted = rf"(?<!\w){wanted}(?!\w)"
    hits = list(re.finditer(wanted, text))
    for hit in hits[:10] + hits[10:][-10:]:  # a real name occurs a few times at most
        start, end = hit.span()
        before, after = text[max(0, start - 60) : start], text[end : end + 300]
        left = len(text) - end
        line_start = text.rfind("\n", max(0, start - 60), start)
        line_length = end - line_start + len(after.split("\n", 1)[0])  # "\n" included
        if (
            (left <= 300 and re.fullmatch(KISSES, after))  # the last words of the message
            or re.search(SIGN_OFF_CUES + r"[\s\W]*" + TITLE + "$", before[-30:])
            or (  # "- Sergio, owner of Café Lumen", "— Jay @ LiftWithJay" (not "— Maria went")
                re.search(r"(?:^|\s)[-—–~]+\s*" + TITLE + "$", before)
                and re.match(r"\s*[^\w\s]|\s*$", after)
                and left <= 60
            )
            or (  # "Please fix this today. Ana Sousa, Studio Manager": a signature that
                # opens the last sentence (an emoji may come first), with a role or a
                # company and no full stop
                (start == 0 or re.search(r"[.!?\n]\W*" + TITLE + "$", before))
                and _signature_tail(message, end, len(text))
            )
            or re.search(SELF_CUES + r"\W*" + TITLE + "$", before[-30:])
            or re.match(r"\W*" + HERE_CUES + r"\b", after)
            or (  # a short signature line near the end
                line_start >= 0
                and not re.search(r"\w", text[line_start:start])
                and line_length <= 61
                and left <= 300
                and after.count("\n") <= 2
            )
        ):
            return True
    return False


def grounded(info: dict[str, Any], inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The extracted facts, minus any the message does not contain.

    The name and the order number go back to the customer (the reply, the escalation
    acknowledgement), and a model can invent them ("Hi YourName", "order #1234567890").
    So a name is kept only if it looks like one (one to four words, no digits or sentence
    punctuation: a weak model may answer with a piece of the message) and the message
    gives it where people give their own name (``_where_people_sign``: a small model also
    answers with a product, a place or the driver's name); an order id only if it is a
    whole order number of the message (``references_in``: "5042" of "#50422" is not); a
    product only if each of its words occurs in it (so "SmartKettle" and "kettle" stand for
    "my smart kettle", but a model's "iPhone 15" for a message about a kettle goes).
    Otherwise the name becomes "Unknown", the order id and the product null, as if the
    message had none."""
    message = inputs["customer_message"]
    name = str(info.get("customer_name") or "Unknown")
    words = re.findall(r"\w+", name.casefold())
    # "M. Okonkwo" and "Ma. Cristina Santos" (Ma. for Maria) are names
    without_initials = re.sub(r"\b\w{1,2}\.(?=\s)|\b\w\.", "", name)
    looks_like_a_name = 1 <= len(words) <= 4 and not re.search(r"[\d.!?,;:@/<>]", without_initials)
    if name != "Unknown" and not (looks_like_a_name and _where_people_sign(name, message)):
        info = {**info, "customer_name": "Unknown"}
    flat = squashed(message)
    order = info.get("order_id")
    if order and squashed(str(order)) not in references_in(message) - {""}:
        info = {**info, "order_id": None}
    product_words = re.findall(r"[^\W_]+", str(info.get("product") or ""))
    if info.get("product") and not (
        product_words and all(w.casefold() in flat for w in product_words)
    ):
        info = {**info, "product": None}
    return {"customer_info": info}


extract_customer_info = LLMNode(
    "extract_customer_info",
    label="Extract Customer Information",
    prompt=EXTRACT_PROMPT,
    output_model=CustomerInfo,
    temperature=0.1,
    writes=["customer_info"],
    to_state=grounded,
)

# ----------------------------------------------------------------------------- 2. classify

InquiryType = Literal["technical", "billing", "shipping", "product", "account", "general"]
INQUIRY_TYPE_MEANINGS: dict[str, str] = {
    "technical": "issues, bugs, how-to",
    "billing": "payment, refunds, subscription",
    "shipping": "delivery, tracking",
    "product": "features, compatibility, recommendations",
    "account": "login, password, settings",
    "general": "questions, feedback",
}
INQUIRY_TYPES = labels(InquiryType)
assert tuple(INQUIRY_TYPE_MEANINGS) == INQUIRY_TYPES, "one meaning per inquiry type"


class InquiryClassification(BaseModel):
    """One of six inquiry types."""

    inquiry_type: Annotated[
        InquiryType,
        normalised(InquiryType, "general", {"tech": "technical", "payment": "billing"}),
    ]


CLASSIFY_PROMPT = Prompt(
    system=(
        "Classify the customer's inquiry as exactly one of: "
        f"{one_of(INQUIRY_TYPE_MEANINGS)}. {SAFETY}"
    ),
    user=MESSAGE_BLOCK,
)

classify_inquiry = LLMNode(
    "classify_inquiry",
    label="Classify Inquiry Type",
    prompt=CLASSIFY_PROMPT,
    output_model=InquiryClassification,
    temperature=0.1,
    writes=["inquiry_type"],
    to_state=lambda answer, inputs: {"inquiry_type": answer["inquiry_type"]},
)

# ----------------------------------------------------------------------------- 3. sentiment

Sentiment = Literal["positive", "neutral", "negative"]
SENTIMENTS = labels(Sentiment)


class SentimentAnalysis(BaseModel):
    """How the customer feels."""

    sentiment: Annotated[Sentiment, normalised(Sentiment, "neutral")]


SENTIMENT_PROMPT = Prompt(
    system=(
        "Read the sentiment of a customer-support message: "
        f"{one_of(SENTIMENTS)}. "
        "Complaints, demands and sarcasm are negative even when polite words appear. "
        f"{SAFETY}"
    ),
    user=MESSAGE_BLOCK,
)

analyze_sentiment = LLMNode(
    "analyze_sentiment",
    label="Analyze Customer Sentiment",
    prompt=SENTIMENT_PROMPT,
    output_model=SentimentAnalysis,
    temperature=0.1,
    writes=["sentiment"],
    to_state=lambda answer, inputs: {"sentiment": answer["sentiment"]},
)
