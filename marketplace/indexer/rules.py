"""The contract's rules as the projections use them: names from `marketplace.domain`, adapted.

Nothing here decides a rule: weight, score, reliability, the booking id's fields, the state after
each event, failures and the lost-dispute rule are `marketplace.domain`'s. This module only picks
what the projections need, in the shapes the fold uses, so that projections.py reads as the
contract's bookkeeping.
"""

from __future__ import annotations

from marketplace import domain

LOST_DISPUTE_STARS = domain.LOST_DISPUTE_STARS
ETHER = domain.ETHER
ZERO_ADDRESS = domain.ZERO_ADDRESS
ETHER_SYMBOL = ("ETH", 18)


def score(rating_weight: int, weighted_stars: int) -> int:
    """A listing's (or owner's) weighted Bayesian score, as the contract computes it."""
    return domain.weighted_score(rating_weight, weighted_stars)


def reliability(completed: int, failures: int) -> int:
    """Reliability in basis points from the two counters."""
    return domain.reliability(completed, failures)


def record_outcome(completed: int, failures: int, failure: bool) -> tuple[int, int]:
    """The counters after one more outcome (the contract halves both before either overflows)."""
    return domain.count_outcome(completed, failures, failure=failure)


def record_resolution(completed: int, failures: int, lost: bool) -> tuple[int, int]:
    """The counters after an arbiter's ruling: a completion, and a failure when the provider
    lost."""
    return domain.count_resolution(completed, failures, provider_lost=lost)


def rating_weight(fee: int, min_fee: int) -> int:
    """The weight of a rating of a booking that paid `fee` (0 when the minimum fee is unknown)."""
    return domain.rating_weight(fee, min_fee) if min_fee > 0 else 0


def lost_dispute(refund_bps: int) -> bool:
    """Whether an arbiter's ruling counts against the provider."""
    return domain.lost_dispute(refund_bps)


def status_after(event: str) -> int:
    """The booking status after a booking event."""
    return int(domain.STATUS_AFTER[event])


def is_failure(event: str, status_before: int) -> bool:
    """A decline (the provider's cancellation) or an expiry (a no-show) after acceptance."""
    return domain.counts_as_failure(event, domain.Status(status_before))


def is_no_show(event: str, status_before: int) -> bool:
    """An accepted booking expired."""
    return domain.is_no_show(event, domain.Status(status_before))


def decode_booking_id(booking_id: int) -> domain.BookingKey:
    """customer, provider, start, duration and salt of a booking id."""
    return domain.decode_booking_id(booking_id)


def customer_of(booking_id: int) -> str:
    """The customer a booking id names."""
    return domain.customer_of(booking_id)


def provider_of(booking_id: int) -> int:
    """The listing a booking id names."""
    return domain.provider_of(booking_id)


def change_kind_name(kind: int) -> str:
    """The ChangeKind's name (FEE_RATE, MIN_STAKE, ...); UNKNOWN_<n> for a kind we do not know."""
    try:
        return domain.ChangeKind(kind).name
    except ValueError:
        return f"UNKNOWN_{kind}"


def known_currency(currency: int) -> tuple[str, int] | None:
    """Symbol and decimals when known without asking the token (ether)."""
    return ETHER_SYMBOL if currency == ETHER else None
