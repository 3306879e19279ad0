"""Domain constants shared by every layer: booking states, criteria, score maths constants.

Mirrors the contract's enums and constants exactly (contracts/interfaces, contracts/libraries).
"""

from __future__ import annotations

from enum import IntEnum

STAR = 10_000  # one star in basis points; five stars = 50_000
MAX_SCORE = 5 * STAR
PRIOR_COUNT = 5  # Bayesian prior weight, in pseudo-ratings
PRIOR_MEAN = 35_000  # 3.5 stars
BPS = 10_000
MAX_FEE_BPS = 1_000
MAX_WEIGHT = 10_000
DEFAULT_REFUND_BPS = 5_000
MAX_WINDOW = 365 * 24 * 3600  # seconds; longest timing window the contract accepts
UINT96_MAX = 2**96 - 1
UINT64_MAX = 2**64 - 1
UINT16_MAX = 2**16 - 1


class Criterion(IntEnum):
    """The first criterion a provider fails, in the order the contract checks them."""

    NONE = 0
    PROVIDER_INACTIVE = 1
    CRITERIA_NOT_SET = 2
    REGION = 3
    BLOCKED = 4
    REQUIRED_ATTRIBUTES = 5
    REFUSED_ATTRIBUTES = 6
    MIN_SCORE = 7
    MAX_PRICE = 8

    @property
    def reason(self) -> str:
        """Plain words for a customer."""
        return _CRITERION_REASONS[self]


_CRITERION_REASONS = {
    Criterion.NONE: "meets all your criteria",
    Criterion.PROVIDER_INACTIVE: "the provider is not taking bookings",
    Criterion.CRITERIA_NOT_SET: "you have no criteria for this provider's category",
    Criterion.REGION: "the provider is outside your region",
    Criterion.BLOCKED: "you blocked this provider",
    Criterion.REQUIRED_ATTRIBUTES: "the provider lacks an attribute you require",
    Criterion.REFUSED_ATTRIBUTES: "the provider has an attribute you refuse",
    Criterion.MIN_SCORE: "the provider's score is below your minimum",
    Criterion.MAX_PRICE: "the provider's price is above your score-adjusted ceiling",
}


class Status(IntEnum):
    """Booking lifecycle states, as the contract numbers them."""

    NONE = 0
    REQUESTED = 1
    ACCEPTED = 2
    COMPLETED = 3
    SETTLED = 4
    CANCELLED = 5
    DECLINED = 6
    EXPIRED = 7
    DISPUTED = 8
    RESOLVED = 9

    @property
    def is_terminal(self) -> bool:
        """Whether no further transition can happen (ratings aside)."""
        return self in TERMINAL_STATUSES

    @property
    def holds_escrow(self) -> bool:
        """Whether the booking's price is still escrowed in the contract."""
        return self in OPEN_STATUSES


OPEN_STATUSES = frozenset({Status.REQUESTED, Status.ACCEPTED, Status.COMPLETED, Status.DISPUTED})
TERMINAL_STATUSES = frozenset(
    {Status.SETTLED, Status.CANCELLED, Status.DECLINED, Status.EXPIRED, Status.RESOLVED}
)


def booking_id(customer: str, n: int) -> int:
    """The id of `customer`'s n-th booking: customer address in the high bits, n in the low 64."""
    return (int(customer, 16) << 64) | n


def customer_of(booking: int) -> str:
    """The customer address encoded in a booking id (lower-case hex)."""
    return "0x" + format(booking >> 64, "040x")
