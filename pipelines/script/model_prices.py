"""The chat model the optional speaker pass uses by default, and the price table its cost
estimate reads: kept apart from the pass itself so that the command line can name the default
without loading attribution."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_MODEL = "gpt-4o-mini"


@dataclass(frozen=True, slots=True)
class Price:
    """USD per million tokens."""

    input: float
    output: float


# The one price table. Standard-tier list prices per million tokens, as copies of OpenAI's
# pricing page quoted them in May 2026 (read second-hand: no OpenAI page was reachable where
# this was written); check https://openai.com/api/pricing before trusting an estimate closely.
PRICES_AS_OF = "2026-05"
PRICES: dict[str, Price] = {
    "gpt-4o-mini": Price(0.15, 0.60),
    "gpt-4o": Price(2.50, 10.00),
    "gpt-4.1-mini": Price(0.40, 1.60),
    "gpt-4.1-nano": Price(0.10, 0.40),
}
# A model not in the table is priced high, so that the cap errs on the side of refusing.
UNLISTED_PRICE = Price(5.00, 20.00)
