"""The contract's rules that every layer restates, written once: states, transitions, money maths.

Mirrors the contract's enums, constants and pure arithmetic exactly (contracts/interfaces,
contracts/libraries, contracts/Marketplace.sol). The app (indexer projections, matching, web) and
the auditor both import these; the contract, not our code, is the check on them (the contract
tests and the auditor's replay against a live chain compare what the chain did with these).
Nothing here touches the chain, the store or the web.
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


# ---------------------------------------------------------------- the state machine

TRANSITIONS: dict[str, tuple[frozenset[Status], Status]] = {
    "BookingRequested": (frozenset({Status.NONE}), Status.REQUESTED),
    "BookingAccepted": (frozenset({Status.REQUESTED}), Status.ACCEPTED),
    "BookingCompleted": (frozenset({Status.ACCEPTED}), Status.COMPLETED),
    "BookingCancelled": (frozenset({Status.REQUESTED}), Status.CANCELLED),
    "BookingDeclined": (frozenset({Status.REQUESTED, Status.ACCEPTED}), Status.DECLINED),
    "BookingExpired": (frozenset({Status.REQUESTED, Status.ACCEPTED}), Status.EXPIRED),
    "BookingSettled": (frozenset({Status.COMPLETED}), Status.SETTLED),
    "BookingDisputed": (frozenset({Status.COMPLETED}), Status.DISPUTED),
    "DisputeResolved": (frozenset({Status.DISPUTED}), Status.RESOLVED),
}
"""Each booking event: the states it may follow and the state it leaves (the contract's
state machine, docs/architecture.md). `BookingRated` changes no state: see RATEABLE_STATUSES."""

STATUS_AFTER: dict[str, Status] = {name: after for name, (_, after) in TRANSITIONS.items()}
"""The state a booking is in after each booking event."""

RATEABLE_STATUSES = frozenset({Status.SETTLED, Status.RESOLVED})
"""A booking may be rated once, by its customer, in one of these states."""

# ---------------------------------------------------------------- score and money


def bayesian_score(count: int, sum_stars: int) -> int:
    """(PRIOR_COUNT * PRIOR_MEAN + STAR * sum) // (PRIOR_COUNT + count), as `Score.bayesian`.

    `count` and `sum_stars` include lost disputes, each a one-star rating (`lost_dispute`).
    """
    return (PRIOR_COUNT * PRIOR_MEAN + STAR * sum_stars) // (PRIOR_COUNT + count)


def lost_dispute(refund_bps: int) -> bool:
    """Whether a resolution with this refund share is a lost dispute for the provider.

    The arbiter refunding more than half counts against the provider as a one-star rating (and
    in `disputesLost`); the 50/50 default does not.
    """
    return refund_bps * 2 > BPS


LOST_DISPUTE_STARS = 1
"""The stars a lost dispute adds to the provider's score aggregate."""


def settlement_fee(price: int, fee_bps: int) -> int:
    """The fee a settlement takes from the provider's share: `price * feeBps / 10000`, floored."""
    return price * fee_bps // BPS


def resolution_split(price: int, refund_bps: int, fee_bps: int) -> tuple[int, int, int]:
    """(refund, payout, fee) of resolving a dispute: the refund share of the price goes back to
    the customer, the fee is taken from the provider's part, the provider gets the rest."""
    refund = price * refund_bps // BPS
    fee = (price - refund) * fee_bps // BPS
    return refund, price - refund - fee, fee
