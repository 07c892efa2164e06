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
from .common import SAFETY, labels, normalised, one_of

MESSAGE_BLOCK = "<customer_message>\n{{customer_message}}\n</customer_message>"

# ----------------------------------------------------------------------------- 1. extract

Urgency = Literal["high", "medium", "low"]
URGENCIES = labels(Urgency)


class CustomerInfo(BaseModel):
    """What the message tells us about the customer."""

    customer_name: str = Field(description='The name the customer gives, else "Unknown"')
    order_id: str | None = Field(description="Order number without '#', or null")
    product: str | None = Field(description="The product concerned, or null")
    urgency: Annotated[
        Urgency, normalised(Urgency, "medium", {"urgent": "high", "normal": "medium"})
    ] = Field(description="high, medium or low")
    subject: str = Field(description="A short subject line (3-8 words) for this request")


EXTRACT_PROMPT = Prompt(
    system=(
        "You extract structured facts from customer-support messages. "
        'Use "Unknown" for a name that is not given and null for a missing order id or '
        "product. Urgency is high for demands like 'immediately', deadlines, legal threats; "
        f"low for relaxed questions; medium otherwise. {SAFETY}"
    ),
    user=MESSAGE_BLOCK,
)


def _squashed(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.casefold())


def grounded(info: dict[str, Any], inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The extracted facts, minus any the message does not contain.

    The name and the order number go back to the customer (the reply, the escalation
    acknowledgement), and a model can invent them ("Hi YourName", "order #1234567890").
    So a name is kept only if it looks like one (one to four words, no digits or sentence
    punctuation: a weak model may answer with a piece of the message) and each of its
    words occurs in the message, and an order
    id only if its letters and digits occur in the message in that order; otherwise the
    name becomes "Unknown" and the order id null, as if the message had none."""
    message = inputs["customer_message"]
    name = str(info.get("customer_name") or "Unknown")
    words = re.findall(r"\w+", name.casefold())
    without_initials = re.sub(r"\b\w\.", "", name)  # "M. Okonkwo" is a name
    looks_like_a_name = 1 <= len(words) <= 4 and not re.search(r"[\d.!?,;:@/<>]", without_initials)
    if name != "Unknown" and not (
        looks_like_a_name and all(word in message.casefold() for word in words)
    ):
        info = {**info, "customer_name": "Unknown"}
    order = info.get("order_id")
    if order and (not _squashed(str(order)) or _squashed(str(order)) not in _squashed(message)):
        info = {**info, "order_id": None}
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
