"""What the living profile stores: consent, the feedback it learned from, the customer's own
words about a booking (only with consent), and the notifications it found for the customer.
Nothing else.

Everything the profile knows is derived from these records (`LivingProfile.from_records`), so
erasing them erases the profile.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from marketplace.errors import MarketplaceError

PERSONALISATION = "personalised matching: learn from my ratings, complaints and choices"


class ProfileError(MarketplaceError):
    """A living-profile operation was given inconsistent data."""


@dataclass(frozen=True)
class ConsentRecord:
    """One opt-in: who agreed, to what purpose, when, and when they withdrew it (if they did)."""

    customer: str
    purpose: str
    granted_at: datetime
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        """Whether the consent still holds."""
        return self.revoked_at is None


@dataclass(frozen=True)
class RatingRecord:
    """A rating the customer gave, with the provider and criteria as they were at booking."""

    customer: str
    booking_id: int
    provider_id: int
    category: int
    stars: int  # 1..5
    complaints: int  # 32-bit mask of catalogue complaint tags
    attributes: int  # the provider's 64-bit attribute mask
    score: int  # the provider's score, basis points of a star
    price: int  # wei
    min_score: int  # the customer's minimum score then
    ceiling: int  # the customer's score-adjusted ceiling for this provider then
    rated_at: datetime


@dataclass(frozen=True)
class FeedbackText:
    """What the customer wrote about a booking on the rating step, in their own words.

    Personal data: kept only while the customer consents to the living profile, shown on the
    profile page, exported, and deleted by revoking consent or erasing. Only the complaint
    tags the customer kept go on-chain; the text never does.
    """

    customer: str
    booking_id: int
    text: str
    written_at: datetime


@dataclass(frozen=True)
class ChoiceRecord:
    """The customer booked `chosen` although `passed` was ranked above it.

    The terms are the ranking's score and price terms (0..1) of both, so the choice reveals how
    the customer trades score against price.
    """

    customer: str
    category: int
    chosen_provider_id: int
    passed_provider_id: int
    chosen_score_term: float
    chosen_price_term: float
    passed_score_term: float
    passed_price_term: float
    chosen_at: datetime


@dataclass(frozen=True)
class Dismissal:
    """The customer declined a proposed criteria change; it is not proposed again."""

    customer: str
    key: str
    dismissed_at: datetime


@dataclass(frozen=True)
class Notification:
    """News for a customer, found as events were indexed (`profile.notify`): a listing that
    entered their top three in a category they book (`kind` "top"), or one they rely on that no
    longer meets their criteria ("dropped"). `block` is the chain block that brought the change;
    `id` is the store's (0 until stored)."""

    customer: str
    kind: str
    provider_id: int
    category: int
    message: str
    block: int
    created_at: datetime
    read: bool = False
    id: int = 0


def normalise_customer(customer: str) -> str:
    """Customers are keyed by lower-case address ('0x' and 40 hex digits)."""
    text = customer.strip().lower()
    if not (text.startswith("0x") and len(text) == 42):
        raise ProfileError(f"{customer!r} is not an address")
    try:
        int(text, 16)
    except ValueError:
        raise ProfileError(f"{customer!r} is not an address") from None
    return text
