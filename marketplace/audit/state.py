"""The contract's state as the auditor rebuilds it from events: one class per kind of record.

Plain records with `__slots__` (the replay touches them for every event), each with the figures
its report row shows. The rules that move them are in `booking_events` and `market_events`; the
checks that find violations in `checks`. The contract's own definitions (statuses, transitions,
the score) come from `marketplace.domain`, shared with the app.
"""

from __future__ import annotations

from typing import Any

from marketplace.chain.logs import DecodedEvent
from marketplace.domain import (
    OPEN_STATUSES,
    RATEABLE_STATUSES,
    STATUS_AFTER,
    TRANSITIONS,
    UINT64_MAX,
    Status,
    bayesian_score,
    customer_of,
)
from marketplace.matching.eligibility import CriteriaView, ProviderView

ZERO_ADDRESS = "0x" + "0" * 40
SEQ_MASK = UINT64_MAX  # the low 64 bits of a booking id: the customer's n-th booking
DAY = 86_400

# Plain ints: the replay compares a status with these for every booking event.
REQUESTED = int(Status.REQUESTED)
ACCEPTED = int(Status.ACCEPTED)
COMPLETED = int(Status.COMPLETED)
SETTLED = int(Status.SETTLED)
CANCELLED = int(Status.CANCELLED)
DECLINED = int(Status.DECLINED)
EXPIRED = int(Status.EXPIRED)
DISPUTED = int(Status.DISPUTED)
RESOLVED = int(Status.RESOLVED)
OPEN = frozenset(int(s) for s in OPEN_STATUSES)
RATEABLE = frozenset(int(s) for s in RATEABLE_STATUSES)
ALLOWED_FROM: dict[str, frozenset[int]] = {
    name: frozenset(int(s) for s in before) for name, (before, _) in TRANSITIONS.items()
}
"""The states each booking event may follow (`marketplace.domain.TRANSITIONS`), as ints."""
BOOKING_EVENTS = frozenset({*STATUS_AFTER, "BookingRated"})


def status_name(status: int) -> str:
    """`Status` name of a status number (the raw number if unknown)."""
    try:
        return Status(status).name
    except ValueError:
        return str(status)


def short_id(booking_id: int) -> str:
    """A booking id as `0x<customer prefix>…/<n>`: readable in messages."""
    return f"{customer_of(booking_id)[:10]}…/{booking_id & SEQ_MASK}"


class ProviderState:
    """A provider listing as rebuilt from events, with its audit figures."""

    __slots__ = (
        "provider_id", "owner", "category", "region", "attributes", "price", "stake", "active",
        "stake_unlock_at", "metadata_hash", "score_count", "score_sum", "rating_count",
        "rating_sum", "disputes_lost", "registered_block", "score_ok", "bookings", "volume",
        "payouts", "fees", "refunds", "settled", "disputes",
    )

    def __init__(self, provider_id: int, owner: str, category: int, block: int) -> None:
        self.provider_id = provider_id
        self.owner = owner
        self.category = category
        self.region = 0
        self.attributes = 0
        self.price = 0
        self.stake = 0
        self.active = True
        self.stake_unlock_at = 0
        self.metadata_hash = ""
        self.score_count = 0  # ratings plus lost disputes, as the contract counts them
        self.score_sum = 0
        self.rating_count = 0
        self.rating_sum = 0
        self.disputes_lost = 0
        self.registered_block = block
        self.score_ok = True  # whether the last reported score matched the rebuilt one
        self.bookings = 0
        self.volume = 0
        self.payouts = 0
        self.fees = 0
        self.refunds = 0
        self.settled = 0
        self.disputes = 0

    @property
    def score(self) -> int:
        """Bayesian score in basis points of a star, as `Score.bayesian`."""
        return bayesian_score(self.score_count, self.score_sum)

    def add_score(self, stars: int) -> None:
        """One rating, or a lost dispute (one star), joins the score aggregate."""
        self.score_count += 1
        self.score_sum += stars

    def view(self) -> ProviderView:
        """What the eligibility rule needs."""
        return ProviderView(
            provider_id=self.provider_id,
            category=self.category,
            region=self.region,
            attributes=self.attributes,
            price=self.price,
            active=self.active,
            score_count=self.score_count,
            score_sum=self.score_sum,
        )

    def figures(self) -> dict[str, Any]:
        """JSON-ready row for reports."""
        return {
            "provider_id": self.provider_id,
            "owner": self.owner,
            "category": self.category,
            "region": self.region,
            "price": self.price,
            "active": self.active,
            "stake": self.stake,
            "bookings": self.bookings,
            "volume": self.volume,
            "settled": self.settled,
            "payouts": self.payouts,
            "fees": self.fees,
            "refunds": self.refunds,
            "disputes": self.disputes,
            "disputes_lost": self.disputes_lost,
            "ratings": self.rating_count,
            "average_stars": round(self.rating_sum / self.rating_count, 3)
            if self.rating_count
            else None,
            "score": self.score,
        }


class CriteriaState:
    """A customer's criteria for one category, with its blocked providers."""

    __slots__ = (
        "category", "version", "region", "min_score", "max_price", "premium_per_star",
        "required", "refused", "score_weight", "price_weight", "blocked", "_view",
    )

    def __init__(self, category: int) -> None:
        self.category = category
        self.version = 0
        self.region = 0
        self.min_score = 0
        self.max_price = 0
        self.premium_per_star = 0
        self.required = 0
        self.refused = 0
        self.score_weight = 0
        self.price_weight = 0
        self.blocked: set[int] = set()
        self._view: CriteriaView | None = None

    def changed(self) -> None:
        """Call after changing any field: the next `view` is built again."""
        self._view = None

    def view(self) -> CriteriaView:
        """What the eligibility rule needs (built once per change: every booking asks)."""
        if self._view is None:
            self._view = self._build_view()
        return self._view

    def _build_view(self) -> CriteriaView:
        return CriteriaView(
            category=self.category,
            region=self.region,
            min_score=self.min_score,
            max_price=self.max_price,
            premium_per_star=self.premium_per_star,
            required_attributes=self.required,
            refused_attributes=self.refused,
            score_weight=self.score_weight,
            price_weight=self.price_weight,
            version=self.version,
            blocked=frozenset(self.blocked),
        )


class BookingState:
    """A booking as rebuilt from events."""

    __slots__ = (
        "booking_id", "customer", "provider_id", "price", "fee_bps", "criteria_version",
        "status", "deadline", "requested_block", "requested_at", "paid_by", "rated", "stars",
        "refund", "payout", "fee", "refund_bps", "in_scope", "events",
    )

    def __init__(
        self,
        booking_id: int,
        customer: str,
        provider_id: int,
        price: int,
        fee_bps: int,
        criteria_version: int,
        deadline: int,
        ev: DecodedEvent,
        in_scope: bool,
    ) -> None:
        self.booking_id = booking_id
        self.customer = customer
        self.provider_id = provider_id
        self.price = price
        self.fee_bps = fee_bps
        self.criteria_version = criteria_version
        self.status = REQUESTED
        self.deadline = deadline
        self.requested_block = ev.block_number
        self.requested_at = ev.block_timestamp
        self.paid_by: DecodedEvent | None = None
        self.rated = False
        self.stars: int | None = None
        self.refund = 0
        self.payout = 0
        self.fee = 0
        self.refund_bps: int | None = None
        self.in_scope = in_scope
        self.events: list[int] = []

    def figures(self) -> dict[str, Any]:
        """JSON-ready row for reports and exports."""
        return {
            "booking_id": str(self.booking_id),
            "number": self.booking_id & SEQ_MASK,
            "customer": self.customer,
            "provider_id": self.provider_id,
            "price": self.price,
            "fee_bps": self.fee_bps,
            "criteria_version": self.criteria_version,
            "status": status_name(self.status),
            "requested_block": self.requested_block,
            "requested_at": self.requested_at,
            "refund": self.refund,
            "payout": self.payout,
            "fee": self.fee,
            "refund_bps": self.refund_bps,
            "stars": self.stars,
        }


class CustomerState:
    """What one customer did, for the per-customer figures."""

    __slots__ = (
        "address", "bookings", "volume", "refunds", "spent", "disputes", "ratings",
        "criteria_changes", "criteria_version", "booking_count",
    )

    def __init__(self, address: str) -> None:
        self.address = address
        self.bookings = 0
        self.volume = 0
        self.refunds = 0
        self.spent = 0
        self.disputes = 0
        self.ratings = 0
        self.criteria_changes = 0
        self.criteria_version = 0  # the contract's per-customer counter
        self.booking_count = 0  # highest booking number seen

    def figures(self) -> dict[str, Any]:
        """JSON-ready row for reports."""
        return {
            "customer": self.address,
            "bookings": self.bookings,
            "volume": self.volume,
            "spent": self.spent,
            "refunds": self.refunds,
            "disputes": self.disputes,
            "ratings": self.ratings,
            "criteria_changes": self.criteria_changes,
        }

