"""What model calls cost: a price table per model, in US dollars per million tokens.

The original demo priced every call as GPT-4; a table per model is closer to the truth.
Local models cost nothing here. ``PRICES_AS_OF`` says when the table was written.
"""

from __future__ import annotations

from dataclasses import dataclass

OFFLINE_MODEL = "support-kit-offline-1"


@dataclass(frozen=True)
class Price:
    """US dollars per million prompt and completion tokens."""

    prompt: float
    completion: float
    note: str = ""


PRICES: dict[str, Price] = {
    "gpt-4.1": Price(2.00, 8.00),
    "gpt-4.1-mini": Price(0.40, 1.60),
    "gpt-4.1-nano": Price(0.10, 0.40),
    "gpt-4o": Price(2.50, 10.00),
    "gpt-4o-mini": Price(0.15, 0.60),
    "gpt-4": Price(30.00, 60.00, "a flat GPT-4 price for every call (the original demo's)"),
    OFFLINE_MODEL: Price(0.40, 1.60, "illustrative: priced like gpt-4.1-mini"),
}
"""Known prices; a dated model name (``gpt-4.1-mini-2025-04-14``) uses its family's price.
Unknown models (local ones) cost 0."""
PRICES_AS_OF = "OpenAI's list prices of April 2025"
"""When the table was written: prices change, so check your provider's page before you
trust a cost to the cent."""


def price_for(model: str) -> Price:
    """The price of ``model``, matching the longest known prefix."""
    for name in sorted(PRICES, key=len, reverse=True):
        if model == name or model.startswith(name + "-"):
            return PRICES[name]
    return Price(0.0, 0.0, "unknown model: no price")


def estimate_cost(model: str, prompt_tokens: int, completion_tokens: int) -> float:
    price = price_for(model)
    cost = (prompt_tokens * price.prompt + completion_tokens * price.completion) / 1_000_000
    return round(cost, 8)
