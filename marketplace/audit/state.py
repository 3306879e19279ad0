"""The contract's state as the auditor rebuilds it from events: one class per kind of record.

Plain records with `__slots__` (the replay touches them for every event), each with the figures
its report row shows. The rules that move them are in `booking_events` and `market_events`; the
checks that find violations in `checks`. The contract's own definitions (statuses, transitions,
fee, weight, score, reliability, booking ids) come from `marketplace.domain`, shared with the app.
"""

from __future__ import annotations

from typing import Any

from marketplace.audit.model import hex_id
from marketplace.chain.logs import DecodedEvent
from marketplace.domain import (
    OPEN_STATUSES,
    RATEABLE_STATUSES,
    STATUS_AFTER,
    TRANSITIONS,
    CriteriaFacts,
    ListingFacts,
    Status,
    customer_of,
    provider_of,
    weighted_score,
)
from marketplace.domain import reliability as reliability_bps

ZERO_ADDRESS = "0x" + "0" * 40
DAY = 86_400
ETHER = 0  # currency id 0 is ether, always enabled

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


def parties(ev: DecodedEvent) -> tuple[str | None, int | None]:
    """The customer and listing of an event: as it names them, else (booking events after
    BookingRequested carry only the id) as its booking id encodes them."""
    a = ev.args
    booking_id = a.get("bookingId")
    customer, provider = a.get("customer"), a.get("providerId")
    if isinstance(booking_id, int):
        customer = customer if customer is not None else customer_of(booking_id)
        provider = provider if provider is not None else provider_of(booking_id)
    return customer, provider


def short_id(booking_id: int) -> str:
    """A booking id in messages: 0x hex, as every page shows it."""
    return hex_id(booking_id)


class Offer:
    """One version of a listing's offer, as its registration or update event stated it."""

    __slots__ = (
        "version", "region", "attributes", "currency", "price", "metadata_hash", "instant",
        "free_cancel_hours", "late_cancel_pct", "block",
    )

    def __init__(self, version: int, listing: dict[str, Any], block: int) -> None:
        self.version = version
        self.region = int(listing["region"])
        self.attributes = int(listing["attributes"])
        self.currency = int(listing["currency"])
        self.price = int(listing["price"])
        self.metadata_hash = listing["metadataHash"]
        self.instant = bool(listing["instant"])
        self.free_cancel_hours = int(listing["freeCancelHours"])
        self.late_cancel_pct = int(listing["lateCancelPct"])
        self.block = block

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "version": self.version,
            "region": self.region,
            "attributes": self.attributes,
            "currency": self.currency,
            "price": self.price,
            "metadata_hash": self.metadata_hash,
            "instant": self.instant,
            "free_cancel_hours": self.free_cancel_hours,
            "late_cancel_pct": self.late_cancel_pct,
            "block": self.block,
        }


class ProviderState:
    """A listing as rebuilt from events, with its audit figures."""

    __slots__ = (
        "provider_id", "owner", "category", "offer", "offers", "stake", "active",
        "stake_unlock_at", "locked_until", "rating_weight", "weighted_stars", "rating_count",
        "rating_sum", "disputes_lost", "completed", "failures", "attested", "registered_block",
        "score_ok", "bookings", "volume", "payouts", "fees", "refunds", "settled", "disputes",
        "no_shows", "slashed", "arbiter_paid", "_facts", "_facts_of",
    )

    def __init__(self, provider_id: int, owner: str, category: int, offer: Offer) -> None:
        self.provider_id = provider_id
        self.owner = owner
        self.category = category
        self.offer = offer
        self.offers: dict[int, Offer] = {offer.version: offer}
        self.stake = 0
        self.active = True
        self.stake_unlock_at = 0
        self.locked_until = 0
        self.rating_weight = 0  # Σ weight of ratings and lost disputes
        self.weighted_stars = 0  # Σ stars × weight
        self.rating_count = 0
        self.rating_sum = 0
        self.disputes_lost = 0
        self.completed = 0
        self.failures = 0
        self.attested: dict[int, int] = {}  # attestor id -> attribute bits it verified
        self.registered_block = offer.block
        self.score_ok = True  # whether the last reported score matched the rebuilt one
        self.bookings = 0
        self.volume = 0
        self.payouts = 0
        self.fees = 0
        self.refunds = 0
        self.settled = 0
        self.disputes = 0
        self.no_shows = 0
        self.slashed = 0
        self.arbiter_paid = 0
        self._facts: ListingFacts | None = None  # the last facts(), and what they were of
        self._facts_of: tuple[Any, ...] = ()

    @property
    def score(self) -> int:
        """The weighted Bayesian score, stars x 10,000 (`marketplace.domain.weighted_score`)."""
        return weighted_score(self.rating_weight, self.weighted_stars)

    @property
    def reliability(self) -> int:
        """Reliability in basis points (`marketplace.domain.reliability_bps`)."""
        return reliability_bps(self.completed, self.failures)

    def add_rating(self, stars: int, weight: int) -> None:
        """One rating, or a lost dispute (one star), joins the weighted score."""
        self.rating_weight += weight
        self.weighted_stars += stars * weight

    def facts(self) -> ListingFacts:
        """What the eligibility rule (`marketplace.domain.first_failed_criterion`) reads.

        The last facts again while every value they hold is unchanged (four in five bookings
        on the benchmark chain: consecutive bookings of a listing between its ratings and
        outcomes); they are frozen, so the same object serves. Built anew otherwise."""
        o = self.offer
        values = (self.owner, self.category, o.region, o.attributes, o.currency, o.price,
                  self.active, self.rating_weight, self.weighted_stars, self.completed,
                  self.failures)
        facts = self._facts
        if facts is not None and values == self._facts_of and facts.attestations == self.attested:
            return facts
        facts = self._facts = ListingFacts(
            provider_id=self.provider_id,
            owner=self.owner,
            category=self.category,
            region=o.region,
            attributes=o.attributes,
            currency=o.currency,
            price=o.price,
            active=self.active,
            rating_weight=self.rating_weight,
            weighted_stars=self.weighted_stars,
            completed=self.completed,
            failures=self.failures,
            attestations=dict(self.attested),
        )
        self._facts_of = values
        return facts

    def figures(self) -> dict[str, Any]:
        """JSON-ready row for reports."""
        o = self.offer
        return {
            "provider_id": self.provider_id,
            "owner": self.owner,
            "category": self.category,
            "region": o.region,
            "currency": o.currency,
            "price": o.price,
            "offer_version": o.version,
            "instant": o.instant,
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
            "no_shows": self.no_shows,
            "slashed": self.slashed,
            "ratings": self.rating_count,
            "average_stars": round(self.rating_sum / self.rating_count, 3)
            if self.rating_count
            else None,
            "rating_weight": self.rating_weight,
            "score": self.score,
            "completed": self.completed,
            "failures": self.failures,
            "reliability": self.reliability,
        }


class CriteriaState:
    """A customer's criteria for one category, with its blocked listings."""

    __slots__ = (
        "category", "version", "values", "blocked", "facts", "facts_of",
    )

    def __init__(self, category: int) -> None:
        self.category = category
        self.version = 0
        self.values: dict[str, Any] = {}  # the CriteriaInput as the event stated it
        self.blocked: set[int] = set()
        # The domain's view of them for eligibility (`compliance`), and the `values` it was
        # built from: built again when anything in it changed.
        self.facts: CriteriaFacts | None = None
        self.facts_of: dict[str, Any] | None = None


class BookingState:
    """A booking as rebuilt from events."""

    __slots__ = (
        "booking_id", "customer", "provider_id", "currency", "price", "fee", "offer_version",
        "criteria_version", "arbiter_id", "start", "duration", "status", "deadline",
        "free_cancel_hours", "late_cancel_pct", "requested_block", "requested_at",
        "accepted", "bond", "min_fee", "paid_by", "rated", "stars", "weight", "refund", "payout",
        "compensation", "fee_paid", "slashed", "arbiter_pay", "refund_bps", "in_scope", "events",
    )

    def __init__(
        self,
        booking_id: int,
        customer: str,
        provider_id: int,
        ev: DecodedEvent,
        in_scope: bool,
    ) -> None:
        self.booking_id = booking_id
        self.customer = customer
        self.provider_id = provider_id
        self.currency = 0
        self.price = 0
        self.fee = 0
        self.offer_version = 0
        self.criteria_version = 0
        self.arbiter_id = 0
        self.start = 0
        self.duration = 0
        self.status = REQUESTED
        self.deadline = 0
        self.free_cancel_hours = 0
        self.late_cancel_pct = 0
        self.requested_block = ev.block_number
        self.requested_at = ev.block_timestamp
        self.accepted = False
        self.bond = 0  # the dispute bond held, in ether
        self.min_fee = 0  # the currency's minimum fee at booking (the rating weight's unit)
        self.paid_by: DecodedEvent | None = None
        self.rated = False
        self.stars: int | None = None
        self.weight: int | None = None
        self.refund = 0
        self.payout = 0
        self.compensation = 0
        self.fee_paid = 0
        self.slashed = 0
        self.arbiter_pay = 0
        self.refund_bps: int | None = None
        self.in_scope = in_scope
        self.events: list[int] = []

    def figures(self) -> dict[str, Any]:
        """JSON-ready row for reports and exports (raw integers; views add the units)."""
        return {
            "booking_id": hex_id(self.booking_id),
            "customer": self.customer,
            "provider_id": self.provider_id,
            "currency": self.currency,
            "price": self.price,
            "fee": self.fee,
            "offer_version": self.offer_version,
            "criteria_version": self.criteria_version,
            "arbiter_id": self.arbiter_id,
            "start": self.start,
            "duration_minutes": self.duration,
            "status": status_name(self.status),
            "requested_block": self.requested_block,
            "requested_at": self.requested_at,
            "refund": self.refund,
            "compensation": self.compensation,
            "payout": self.payout,
            "fee_paid": self.fee_paid,
            "slashed": self.slashed,
            "refund_bps": self.refund_bps,
            "stars": self.stars,
            "weight": self.weight,
        }


class CustomerState:
    """What one customer did, for the per-customer figures."""

    __slots__ = (
        "address", "bookings", "volume", "refunds", "spent", "disputes", "ratings",
        "criteria_changes", "criteria_version", "blocked_owners",
    )

    def __init__(self, address: str) -> None:
        self.address = address
        self.bookings = 0
        self.volume: dict[int, int] = {}  # per currency
        self.refunds: dict[int, int] = {}
        self.spent: dict[int, int] = {}
        self.disputes = 0
        self.ratings = 0
        self.criteria_changes = 0
        self.criteria_version = 0  # the contract's per-customer counter
        self.blocked_owners: set[str] = set()

    def figures(self) -> dict[str, Any]:
        """JSON-ready row for reports (amounts per currency id)."""
        return {
            "customer": self.address,
            "bookings": self.bookings,
            "volume": dict(self.volume),
            "spent": dict(self.spent),
            "refunds": dict(self.refunds),
            "disputes": self.disputes,
            "ratings": self.ratings,
            "criteria_changes": self.criteria_changes,
            "blocked_owners": sorted(self.blocked_owners),
        }


class CurrencyState:
    """A currency as its CurrencySet events named it, with its ledger."""

    __slots__ = ("currency_id", "token", "enabled", "min_fee", "symbol", "decimals",
                 "escrow", "credits", "accrued_fees", "fees_collected", "withdrawn",
                 "volume", "fees")

    def __init__(self, currency_id: int, token: str, enabled: bool) -> None:
        self.currency_id = currency_id
        self.token = token
        self.enabled = enabled
        self.min_fee = 0
        self.symbol = "ETH" if currency_id == ETHER else None
        self.decimals = 18 if currency_id == ETHER else None
        self.escrow = 0
        self.credits = 0
        self.accrued_fees = 0
        self.fees_collected = 0
        self.withdrawn = 0
        self.volume = 0
        self.fees = 0

    def figures(self) -> dict[str, Any]:
        """JSON-ready row."""
        return {
            "currency": self.currency_id,
            "token": self.token,
            "symbol": self.symbol,
            "decimals": self.decimals,
            "enabled": self.enabled,
            "min_fee": self.min_fee,
            "escrow": self.escrow,
            "credits": self.credits,
            "accrued_fees": self.accrued_fees,
            "fees_collected": self.fees_collected,
            "withdrawn": self.withdrawn,
            "volume": self.volume,
            "fees": self.fees,
        }
