"""Replay marketplace events in chain order and check every rule the events themselves can prove.

`Replay` rebuilds the contract's state from its events alone (providers, criteria with their
versions and blocks, bookings, credits, accrued fees, stakes, the fee rate, arbiters, the pause)
and checks each event against the contract's rules before applying it. Amounts are applied as the
events state them, so one broken rule shows up as one violation rather than a cascade: a second
payout of a booking is a conservation violation and credits what it claims, while the escrow it
cannot release again stays released. At the end of every block the rebuilt ledger is recorded as
a `Checkpoint`; comparing those with the node's balances (solvency) is the `Auditor`'s job, since
it needs the node.

Rules that need more than events (who sent a transaction) are out of reach: see docs/audit.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from marketplace.audit.model import Checkpoint, Invariant, Violation
from marketplace.chain.logs import DecodedEvent, SkippedLog
from marketplace.domain import (
    BPS,
    DEFAULT_REFUND_BPS,
    MAX_FEE_BPS,
    MAX_SCORE,
    MAX_WEIGHT,
    Criterion,
    Status,
    customer_of,
)
from marketplace.matching.eligibility import (
    CriteriaView,
    ProviderView,
    bayesian_score,
    first_failed_criterion,
    price_ceiling,
)

ZERO_ADDRESS = "0x" + "0" * 40
SEQ_MASK = (1 << 64) - 1
DAY = 86_400

REQUESTED = int(Status.REQUESTED)
ACCEPTED = int(Status.ACCEPTED)
COMPLETED = int(Status.COMPLETED)
SETTLED = int(Status.SETTLED)
CANCELLED = int(Status.CANCELLED)
DECLINED = int(Status.DECLINED)
EXPIRED = int(Status.EXPIRED)
DISPUTED = int(Status.DISPUTED)
RESOLVED = int(Status.RESOLVED)
OPEN = frozenset({REQUESTED, ACCEPTED, COMPLETED, DISPUTED})

# Status a booking has after each booking event (for timelines).
STATUS_AFTER: dict[str, Status] = {
    "BookingRequested": Status.REQUESTED,
    "BookingAccepted": Status.ACCEPTED,
    "BookingCompleted": Status.COMPLETED,
    "BookingSettled": Status.SETTLED,
    "BookingCancelled": Status.CANCELLED,
    "BookingDeclined": Status.DECLINED,
    "BookingExpired": Status.EXPIRED,
    "BookingDisputed": Status.DISPUTED,
    "DisputeResolved": Status.RESOLVED,
}
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
        "required", "refused", "score_weight", "price_weight", "blocked",
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

    def view(self) -> CriteriaView:
        """What the eligibility rule needs."""
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


Handler = Callable[[DecodedEvent], None]


class Replay:
    """The contract's state rebuilt from events, with every violation found on the way.

    Feed `apply` whole blocks in chain order. Events before `from_block` rebuild state but are
    neither reported nor counted in the figures. With `keep_events`, every event is kept (the web
    explorer and booking timelines read them).
    """

    def __init__(self, from_block: int = 0, keep_events: bool = False) -> None:
        self.from_block = from_block
        self.keep_events = keep_events
        self.events: list[DecodedEvent] = []
        self.violations: list[Violation] = []
        self.providers: dict[int, ProviderState] = {}
        self.customers: dict[str, CustomerState] = {}
        self.criteria: dict[tuple[str, int], CriteriaState] = {}
        self.bookings: dict[int, BookingState] = {}
        self.credits: dict[str, int] = {}
        self.arbiters: set[str] = set()
        self.fee_bps: int | None = None
        self.min_stake = 0
        self.paused = False
        self.owner: str | None = None
        self.escrow = 0
        self.total_credits = 0
        self.accrued_fees = 0
        self.stakes = 0
        self.fees_collected = 0
        self.withdrawn = 0
        self.checkpoints: list[Checkpoint] = []
        self.events_seen = 0
        self.events_in_scope = 0
        self.skipped_logs = 0
        self.by_name: dict[str, int] = {}
        self.daily: dict[int, list[int]] = {}  # day -> [bookings, volume, fees, refunds, payouts]
        self.totals: dict[str, int] = dict.fromkeys(
            (
                "volume", "fees", "refunds", "payouts", "disputes", "disputes_resolved",
                "disputes_by_default", "disputes_lost", "ratings", "withdrawn", "fees_collected",
                "stakes_released",
            ),
            0,
        )
        self.first_block: int | None = None
        self.last_block: int | None = None
        self._block: int | None = None
        self._block_ts: int | None = None
        self._block_tx: str | None = None
        self._scope = False
        self._handlers: dict[str, Handler] = {
            "BookingRequested": self._requested,
            "BookingAccepted": self._moved(
                frozenset({REQUESTED}), ACCEPTED, "serviceBy", "accepted"
            ),
            "BookingCompleted": self._moved(
                frozenset({ACCEPTED}), COMPLETED, "confirmBy", "completed"
            ),
            "BookingDisputed": self._disputed,
            "BookingCancelled": self._refunded(frozenset({REQUESTED}), CANCELLED, timed=False),
            "BookingDeclined": self._refunded(
                frozenset({REQUESTED, ACCEPTED}), DECLINED, timed=False
            ),
            "BookingExpired": self._refunded(frozenset({REQUESTED, ACCEPTED}), EXPIRED, timed=True),
            "BookingSettled": self._settled,
            "DisputeResolved": self._resolved,
            "BookingRated": self._rated,
            "ProviderRegistered": self._registered,
            "ProviderUpdated": self._updated,
            "ProviderDeactivated": self._deactivated,
            "ProviderReactivated": self._reactivated,
            "StakeReleased": self._stake_released,
            "CriteriaSet": self._criteria_set,
            "ProviderBlockChanged": self._block_changed,
            "FeeRateChanged": self._fee_rate_changed,
            "MinStakeChanged": self._min_stake_changed,
            "PauseChanged": self._pause_changed,
            "ArbiterChanged": self._arbiter_changed,
            "FeesCollected": self._fees_collected,
            "Withdrawn": self._withdrawn,
            "OwnershipTransferred": self._ownership_transferred,
        }

    # ------------------------------------------------------------ feeding

    def apply(self, events: Iterable[DecodedEvent]) -> list[Checkpoint]:
        """Apply whole blocks of events in chain order; returns the checkpoints of those blocks."""
        handlers = self._handlers
        by_name = self.by_name
        keep = self.keep_events
        start = len(self.checkpoints)
        from_block = self.from_block
        for ev in events:
            block = ev.block_number
            if block != self._block:
                if self._block is not None:
                    self._close_block()
                if self.first_block is None:
                    self.first_block = block
                self._block = block
                self._block_ts = ev.block_timestamp
                self._scope = block >= from_block
            self._block_tx = ev.tx_hash
            self.events_seen += 1
            if keep:
                self.events.append(ev)
            if self._scope:
                self.events_in_scope += 1
                by_name[ev.name] = by_name.get(ev.name, 0) + 1
            handler = handlers.get(ev.name)
            if handler is not None:
                handler(ev)
        if self._block is not None:
            self._close_block()
        return self.checkpoints[start:]

    def skip(self, logs: Sequence[SkippedLog]) -> None:
        """Logs at the contract address that are not marketplace events: each is a violation."""
        for log in logs:
            self.skipped_logs += 1
            block = log.block_number if log.block_number is not None else -1
            if block >= self.from_block:
                self.violations.append(
                    Violation(
                        Invariant.EVENTS,
                        block,
                        f"a log that is not a marketplace event: {log.reason}",
                        tx_hash=log.tx_hash,
                        log_index=log.log_index,
                        details={"topic0": log.topic0},
                    )
                )

    def checkpoint_at(self, block: int, timestamp: int | None = None) -> Checkpoint:
        """A checkpoint of the current ledger at a block without events (e.g. the audit's end)."""
        checkpoint = self._checkpoint(block, timestamp, None)
        self.checkpoints.append(checkpoint)
        self.last_block = block
        return checkpoint

    def _checkpoint(self, block: int, timestamp: int | None, tx: str | None) -> Checkpoint:
        return Checkpoint(
            block, timestamp, self.escrow, self.total_credits, self.accrued_fees, self.stakes, tx
        )

    def _close_block(self) -> None:
        assert self._block is not None
        self.checkpoints.append(self._checkpoint(self._block, self._block_ts, self._block_tx))
        self.last_block = self._block
        self._block = None

    def add_violation(self, violation: Violation) -> None:
        """Record a violation found outside the replay (solvency), if it is in scope."""
        if violation.block >= self.from_block:
            self.violations.append(violation)

    # ------------------------------------------------------------ helpers

    def _violate(
        self,
        invariant: Invariant,
        ev: DecodedEvent,
        message: str,
        *,
        booking: int | None = None,
        provider: int | None = None,
        account: str | None = None,
        **details: Any,
    ) -> None:
        if not self._scope:
            return
        self.violations.append(
            Violation(
                invariant,
                ev.block_number,
                message,
                tx_hash=ev.tx_hash,
                log_index=ev.log_index,
                event=ev.name,
                booking_id=booking,
                provider_id=provider,
                account=account,
                details=details,
            )
        )

    def _credit(self, account: str, amount: int) -> None:
        if amount:
            self.credits[account] = self.credits.get(account, 0) + amount
            self.total_credits += amount

    def _customer(self, address: str) -> CustomerState:
        state = self.customers.get(address)
        if state is None:
            state = self.customers[address] = CustomerState(address)
        return state

    def _day(self, ev: DecodedEvent) -> list[int] | None:
        if ev.block_timestamp is None or not self._scope:
            return None
        day = ev.block_timestamp // DAY
        row = self.daily.get(day)
        if row is None:
            row = self.daily[day] = [0, 0, 0, 0, 0]
        return row

    def _booking(self, ev: DecodedEvent, invariant: Invariant) -> BookingState | None:
        """The event's booking, checking that it exists and that the event names its parties."""
        a = ev.args
        booking_id = a["bookingId"]
        b = self.bookings.get(booking_id)
        if b is None:
            self._violate(
                invariant,
                ev,
                f"{ev.name} for booking {short_id(booking_id)}, which was never requested",
                booking=booking_id,
                provider=a["providerId"],
            )
            return None
        if self.keep_events:
            b.events.append(len(self.events) - 1)
        if a["customer"] != b.customer or a["providerId"] != b.provider_id:
            self._violate(
                Invariant.RATINGS if invariant is Invariant.RATINGS else Invariant.TRANSITIONS,
                ev,
                f"{ev.name} names customer {a['customer']} and provider {a['providerId']}, but "
                f"booking {short_id(booking_id)} is customer {b.customer}'s with provider "
                f"{b.provider_id}",
                booking=booking_id,
                provider=b.provider_id,
                account=a["customer"],
            )
        return b

    def _illegal(self, ev: DecodedEvent, b: BookingState) -> None:
        terminal = "; terminal states stay terminal" if b.status not in OPEN else ""
        self._violate(
            Invariant.TRANSITIONS,
            ev,
            f"{ev.name} on booking {short_id(b.booking_id)} in state {status_name(b.status)}: "
            f"not a legal transition{terminal}",
            booking=b.booking_id,
            provider=b.provider_id,
            status=status_name(b.status),
        )

    def _late(self, ev: DecodedEvent, b: BookingState, what: str) -> None:
        """The action is allowed while block.timestamp <= deadline."""
        ts = ev.block_timestamp
        if ts is not None and ts > b.deadline:
            self._violate(
                Invariant.TRANSITIONS,
                ev,
                f"booking {short_id(b.booking_id)} {what} at {ts}, after its deadline "
                f"{b.deadline}",
                booking=b.booking_id,
                provider=b.provider_id,
                timestamp=ts,
                deadline=b.deadline,
            )

    def _early(self, ev: DecodedEvent, b: BookingState, what: str, invariant: Invariant) -> None:
        """The timed exit opens when block.timestamp > deadline."""
        ts = ev.block_timestamp
        if ts is not None and ts <= b.deadline:
            self._violate(
                invariant,
                ev,
                f"booking {short_id(b.booking_id)} {what} at {ts}, before its deadline "
                f"{b.deadline} had passed",
                booking=b.booking_id,
                provider=b.provider_id,
                timestamp=ts,
                deadline=b.deadline,
            )

    def _add_score(self, provider: ProviderState | None, stars: int) -> None:
        if provider is not None:
            provider.score_count += 1
            provider.score_sum += stars

    # ------------------------------------------------------------ bookings

    def _requested(self, ev: DecodedEvent) -> None:
        a = ev.args
        booking_id = a["bookingId"]
        customer = a["customer"]
        provider_id = a["providerId"]
        price = a["price"]
        fee_bps = a["feeBps"]
        version = a["criteriaVersion"]
        scope = self._scope
        if booking_id in self.bookings:
            self._violate(
                Invariant.TRANSITIONS,
                ev,
                f"booking {short_id(booking_id)} was requested twice",
                booking=booking_id,
                provider=provider_id,
            )
        encoded = customer_of(booking_id)
        state = self._customer(customer)
        seq = booking_id & SEQ_MASK
        if encoded != customer or seq != state.booking_count + 1:
            self._violate(
                Invariant.TRANSITIONS,
                ev,
                f"booking id {short_id(booking_id)} does not follow customer {customer}'s "
                f"booking {state.booking_count} (ids are the customer's address and 1, 2, 3 ...)",
                booking=booking_id,
                provider=provider_id,
                account=customer,
            )
        state.booking_count = max(state.booking_count, seq)
        if self.paused:
            self._violate(
                Invariant.TRANSITIONS,
                ev,
                f"booking {short_id(booking_id)} was made while the marketplace was paused",
                booking=booking_id,
                provider=provider_id,
            )
        if fee_bps > MAX_FEE_BPS:
            self._violate(
                Invariant.FEE_CAP,
                ev,
                f"booking {short_id(booking_id)} snapshotted a fee rate of {fee_bps} bps, above "
                f"the {MAX_FEE_BPS} bps cap",
                booking=booking_id,
                provider=provider_id,
                fee_bps=fee_bps,
            )
        elif self.fee_bps is not None and fee_bps != self.fee_bps:
            self._violate(
                Invariant.FEE_CAP,
                ev,
                f"booking {short_id(booking_id)} snapshotted a fee rate of {fee_bps} bps, but "
                f"the rate was {self.fee_bps} bps",
                booking=booking_id,
                provider=provider_id,
                fee_bps=fee_bps,
                rate=self.fee_bps,
            )
        self._check_compliance(ev, booking_id, customer, provider_id, price, version)

        b = BookingState(
            booking_id, customer, provider_id, price, fee_bps, version, a["respondBy"], ev, scope
        )
        if self.keep_events:
            b.events.append(len(self.events) - 1)
        self.bookings[booking_id] = b
        self.escrow += price
        if scope:
            state.bookings += 1
            state.volume += price
            self.totals["volume"] += price
            provider = self.providers.get(provider_id)
            if provider is not None:
                provider.bookings += 1
                provider.volume += price
            day = self._day(ev)
            if day is not None:
                day[0] += 1
                day[1] += price

    def _check_compliance(
        self,
        ev: DecodedEvent,
        booking_id: int,
        customer: str,
        provider_id: int,
        price: int,
        version: int,
    ) -> None:
        provider = self.providers.get(provider_id)
        if provider is None:
            self._violate(
                Invariant.COMPLIANCE,
                ev,
                f"booking {short_id(booking_id)} is of provider {provider_id}, which was never "
                "registered",
                booking=booking_id,
                provider=provider_id,
                account=customer,
            )
            return
        reasons: list[str] = []
        details: dict[str, Any] = {}
        if price != provider.price:
            reasons.append(f"price {price} wei is not the provider's price {provider.price} wei")
            details["provider_price"] = provider.price
        criteria = self.criteria.get((customer, provider.category))
        current = criteria.version if criteria is not None else 0
        if version != current:
            reasons.append(
                f"booked under criteria version {version}, but the customer's criteria for "
                f"category {provider.category} were at version {current}"
            )
            details["current_version"] = current
        view = provider.view()
        failed = first_failed_criterion(view, criteria.view() if criteria is not None else None)
        if failed is not Criterion.NONE:
            reasons.append(f"fails {failed.name}: {failed.reason}")
            details["criterion"] = failed.name
            details["score"] = view.score
            if criteria is not None:
                details["min_score"] = criteria.min_score
                details["ceiling"] = price_ceiling(criteria.view(), view.score)
        if reasons:
            self._violate(
                Invariant.COMPLIANCE,
                ev,
                f"booking {short_id(booking_id)} of provider {provider_id}: " + "; ".join(reasons),
                booking=booking_id,
                provider=provider_id,
                account=customer,
                **details,
            )

    def _moved(
        self, allowed: frozenset[int], status: int, deadline_arg: str, what: str
    ) -> Handler:
        def handle(ev: DecodedEvent) -> None:
            b = self._booking(ev, Invariant.TRANSITIONS)
            if b is None:
                return
            if b.status not in allowed:
                self._illegal(ev, b)
            else:
                self._late(ev, b, what)
            b.status = status
            b.deadline = ev.args[deadline_arg]

        return handle

    def _disputed(self, ev: DecodedEvent) -> None:
        b = self._booking(ev, Invariant.TRANSITIONS)
        if b is None:
            return
        if b.status != COMPLETED:
            self._illegal(ev, b)
        else:
            self._late(ev, b, "was disputed")
        b.status = DISPUTED
        b.deadline = ev.args["arbitrateBy"]
        if self._scope:
            self.totals["disputes"] += 1
            self._customer(b.customer).disputes += 1
            provider = self.providers.get(b.provider_id)
            if provider is not None:
                provider.disputes += 1

    def _pay(
        self,
        ev: DecodedEvent,
        allowed: frozenset[int],
        status: int,
        refund: int,
        payout: int,
        fee: int,
    ) -> tuple[BookingState | None, int]:
        """Common part of every event that ends a booking and releases its escrow.

        Returns the booking and its status before the event, or (None, 0) when the payment is
        not a legal first payment (unknown booking, or paid before): those are conservation
        violations, and the amounts the event claims are credited all the same.
        """
        a = ev.args
        booking_id = a["bookingId"]
        b = self.bookings.get(booking_id)
        if b is None:
            self._violate(
                Invariant.CONSERVATION,
                ev,
                f"{ev.name} pays out booking {short_id(booking_id)}, which never escrowed "
                "anything",
                booking=booking_id,
                provider=a["providerId"],
                refund=refund,
                payout=payout,
                fee=fee,
            )
            provider = self.providers.get(a["providerId"])
            self._credit_all(customer_of(booking_id), provider, refund, payout, fee)
            return None, 0
        b = self._booking(ev, Invariant.CONSERVATION)
        assert b is not None
        if b.paid_by is not None:
            first = b.paid_by
            self._violate(
                Invariant.CONSERVATION,
                ev,
                f"booking {short_id(booking_id)} paid twice: {ev.name} after {first.name} in "
                f"block {first.block_number} (tx {first.tx_hash})",
                booking=booking_id,
                provider=b.provider_id,
                refund=refund,
                payout=payout,
                fee=fee,
                first_tx=first.tx_hash,
            )
            self._credit_all(b.customer, self.providers.get(b.provider_id), refund, payout, fee)
            return None, 0
        previous = b.status
        if previous not in allowed:
            self._illegal(ev, b)
        self.escrow -= b.price
        b.paid_by = ev
        b.status = status
        b.refund, b.payout, b.fee = refund, payout, fee
        provider = self.providers.get(b.provider_id)
        self._credit_all(b.customer, provider, refund, payout, fee)
        if self._scope:
            totals = self.totals
            totals["refunds"] += refund
            totals["payouts"] += payout
            totals["fees"] += fee
            customer = self._customer(b.customer)
            customer.refunds += refund
            customer.spent += payout + fee
            if provider is not None:
                provider.payouts += payout
                provider.fees += fee
                provider.refunds += refund
            day = self._day(ev)
            if day is not None:
                day[2] += fee
                day[3] += refund
                day[4] += payout
        return b, previous

    def _credit_all(
        self, customer: str, provider: ProviderState | None, refund: int, payout: int, fee: int
    ) -> None:
        self._credit(customer, refund)
        if payout:
            # A payout for an unknown provider is still owed to someone: keep the ledger whole.
            self._credit(provider.owner if provider is not None else ZERO_ADDRESS, payout)
        self.accrued_fees += fee

    def _refunded(self, allowed: frozenset[int], status: int, timed: bool) -> Handler:
        def handle(ev: DecodedEvent) -> None:
            refund = ev.args["refund"]
            b, previous = self._pay(ev, allowed, status, refund, 0, 0)
            if b is None:
                return
            if refund != b.price:
                self._violate(
                    Invariant.CONSERVATION,
                    ev,
                    f"booking {short_id(b.booking_id)} refunded {refund} wei of its "
                    f"{b.price} wei price",
                    booking=b.booking_id,
                    provider=b.provider_id,
                    refund=refund,
                    price=b.price,
                )
            if timed and previous in allowed:
                self._early(ev, b, "expired", Invariant.TRANSITIONS)

        return handle

    def _settled(self, ev: DecodedEvent) -> None:
        a = ev.args
        payout, fee = a["payout"], a["fee"]
        b, previous = self._pay(ev, frozenset({COMPLETED}), SETTLED, 0, payout, fee)
        if b is None:
            return
        price = b.price
        if payout + fee != price:
            self._violate(
                Invariant.CONSERVATION,
                ev,
                f"booking {short_id(b.booking_id)} settled with payout {payout} + fee {fee} "
                f"!= price {price}",
                booking=b.booking_id,
                provider=b.provider_id,
                payout=payout,
                fee=fee,
                price=price,
            )
        expected_fee = price * b.fee_bps // BPS
        if fee != expected_fee:
            self._violate(
                Invariant.FEE_CAP,
                ev,
                f"booking {short_id(b.booking_id)} paid a fee of {fee} wei, not its price "
                f"{price} x its snapshotted {b.fee_bps} bps = {expected_fee} wei",
                booking=b.booking_id,
                provider=b.provider_id,
                fee=fee,
                expected_fee=expected_fee,
            )
        if previous == COMPLETED and a["by"] != b.customer:
            self._early(ev, b, f"was settled by {a['by']} (not its customer)", Invariant.ROLES)
        if self._scope:
            provider = self.providers.get(b.provider_id)
            if provider is not None:
                provider.settled += 1

    def _resolved(self, ev: DecodedEvent) -> None:
        a = ev.args
        refund_bps, refund, payout, fee = a["refundBps"], a["refund"], a["payout"], a["fee"]
        arbiter = a["arbiter"]
        b, previous = self._pay(ev, frozenset({DISPUTED}), RESOLVED, refund, payout, fee)
        provider = self.providers.get(b.provider_id if b is not None else a["providerId"])
        if refund_bps * 2 > BPS:  # the provider lost: counted as a one-star rating
            self._add_score(provider, 1)
            if provider is not None:
                provider.disputes_lost += 1
            if self._scope:
                self.totals["disputes_lost"] += 1
        if b is None:
            return
        b.refund_bps = refund_bps
        price = b.price
        sid = short_id(b.booking_id)
        if refund_bps > BPS or refund + payout + fee != price:
            self._violate(
                Invariant.CONSERVATION,
                ev,
                f"booking {sid} resolved with refund {refund} + payout {payout} + fee {fee} "
                f"!= price {price} (refund share {refund_bps} bps)",
                booking=b.booking_id,
                provider=b.provider_id,
                refund=refund,
                payout=payout,
                fee=fee,
                price=price,
            )
        elif refund != price * refund_bps // BPS:
            self._violate(
                Invariant.CONSERVATION,
                ev,
                f"booking {sid} refunded {refund} wei, not {refund_bps} bps of its price "
                f"({price * refund_bps // BPS} wei)",
                booking=b.booking_id,
                provider=b.provider_id,
                refund=refund,
                refund_bps=refund_bps,
            )
        expected_fee = (price - refund) * b.fee_bps // BPS
        if fee != expected_fee:
            self._violate(
                Invariant.FEE_CAP,
                ev,
                f"booking {sid} paid a fee of {fee} wei, not its provider share "
                f"{price - refund} x its snapshotted {b.fee_bps} bps = {expected_fee} wei",
                booking=b.booking_id,
                provider=b.provider_id,
                fee=fee,
                expected_fee=expected_fee,
            )
        if previous == DISPUTED:
            if arbiter == ZERO_ADDRESS:
                self._early(ev, b, "was resolved by default", Invariant.ROLES)
                if refund_bps != DEFAULT_REFUND_BPS:
                    self._violate(
                        Invariant.ROLES,
                        ev,
                        f"booking {sid} was resolved by default with a {refund_bps} bps refund, "
                        f"not the default {DEFAULT_REFUND_BPS} bps",
                        booking=b.booking_id,
                        provider=b.provider_id,
                    )
            else:
                owner = provider.owner if provider is not None else None
                if arbiter not in self.arbiters:
                    problem = "is not an allowed arbiter"
                elif arbiter in (b.customer, owner):
                    problem = "is a party to the booking"
                else:
                    problem = ""
                if problem:
                    self._violate(
                        Invariant.ROLES,
                        ev,
                        f"booking {sid} was resolved by {arbiter}, who {problem}",
                        booking=b.booking_id,
                        provider=b.provider_id,
                        account=arbiter,
                    )
                self._late(ev, b, "was resolved by an arbiter")
        if self._scope:
            self.totals["disputes_resolved"] += 1
            if arbiter == ZERO_ADDRESS:
                self.totals["disputes_by_default"] += 1

    def _rated(self, ev: DecodedEvent) -> None:
        a = ev.args
        booking_id, stars, new_score = a["bookingId"], a["stars"], a["newScore"]
        b = self._booking(ev, Invariant.RATINGS)
        problems: list[str] = []
        if b is not None:
            if b.status not in (SETTLED, RESOLVED):
                problems.append(
                    f"rated while {status_name(b.status)}: only settled or resolved bookings "
                    "may be rated"
                )
            if b.rated:
                problems.append("rated twice")
        if not 1 <= stars <= 5:
            problems.append(f"{stars} stars is outside 1..5")
        if problems:
            self._violate(
                Invariant.RATINGS,
                ev,
                f"booking {short_id(booking_id)} " + "; ".join(problems),
                booking=booking_id,
                provider=a["providerId"],
                account=a["customer"],
            )
        provider = self.providers.get(b.provider_id if b is not None else a["providerId"])
        if b is not None:
            b.rated = True
            b.stars = stars
        if provider is None:
            return
        self._add_score(provider, stars)
        provider.rating_count += 1
        provider.rating_sum += stars
        expected = provider.score
        if new_score != expected:
            if provider.score_ok:  # report where the aggregate starts to differ, not each rating
                self._violate(
                    Invariant.RATINGS,
                    ev,
                    f"provider {provider.provider_id}'s new score {new_score} differs from "
                    f"{expected}, the score of its {provider.rating_count} rating events and "
                    f"{provider.disputes_lost} lost disputes",
                    booking=booking_id,
                    provider=provider.provider_id,
                    reported=new_score,
                    expected=expected,
                )
            provider.score_ok = False
        else:
            provider.score_ok = True
        if self._scope:
            self.totals["ratings"] += 1
            self._customer(a["customer"]).ratings += 1

    # ------------------------------------------------------------ providers

    def _registered(self, ev: DecodedEvent) -> None:
        a = ev.args
        provider_id = a["providerId"]
        if provider_id in self.providers:
            self._violate(
                Invariant.TRANSITIONS,
                ev,
                f"provider {provider_id} was registered twice",
                provider=provider_id,
            )
        if self.paused:
            self._violate(
                Invariant.TRANSITIONS,
                ev,
                f"provider {provider_id} registered while the marketplace was paused",
                provider=provider_id,
            )
        p = ProviderState(provider_id, a["owner"], a["category"], ev.block_number)
        p.region = a["region"]
        p.attributes = a["attributes"]
        p.price = a["price"]
        p.stake = a["stake"]
        p.metadata_hash = a["metadataHash"]
        self.providers[provider_id] = p
        self.stakes += a["stake"]

    def _provider(self, ev: DecodedEvent) -> ProviderState | None:
        provider_id = ev.args["providerId"]
        p = self.providers.get(provider_id)
        if p is None:
            self._violate(
                Invariant.TRANSITIONS,
                ev,
                f"{ev.name} for provider {provider_id}, which was never registered",
                provider=provider_id,
            )
        return p

    def _updated(self, ev: DecodedEvent) -> None:
        p = self._provider(ev)
        if p is not None:
            a = ev.args
            p.region = a["region"]
            p.attributes = a["attributes"]
            p.price = a["price"]
            p.metadata_hash = a["metadataHash"]

    def _deactivated(self, ev: DecodedEvent) -> None:
        p = self._provider(ev)
        if p is None:
            return
        if not p.active:
            self._violate(
                Invariant.TRANSITIONS,
                ev,
                f"provider {p.provider_id} deactivated while already inactive",
                provider=p.provider_id,
            )
        p.active = False
        p.stake_unlock_at = ev.args["stakeUnlockAt"]

    def _reactivated(self, ev: DecodedEvent) -> None:
        p = self._provider(ev)
        if p is None:
            return
        problem = (
            "while already active"
            if p.active
            else "while the marketplace was paused"
            if self.paused
            else f"with a stake of {p.stake} wei, below the minimum {self.min_stake} wei"
            if p.stake < self.min_stake
            else ""
        )
        if problem:
            self._violate(
                Invariant.TRANSITIONS,
                ev,
                f"provider {p.provider_id} reactivated {problem}",
                provider=p.provider_id,
            )
        p.active = True
        p.stake_unlock_at = 0

    def _stake_released(self, ev: DecodedEvent) -> None:
        a = ev.args
        amount, owner = a["amount"], a["owner"]
        p = self._provider(ev)
        self.stakes -= amount
        self._credit(owner, amount)
        if self._scope:
            self.totals["stakes_released"] += amount
        if p is None:
            return
        if amount != p.stake or owner != p.owner:
            self._violate(
                Invariant.SOLVENCY,
                ev,
                f"provider {p.provider_id} released a stake of {amount} wei to {owner}, but it "
                f"held {p.stake} wei owned by {p.owner}",
                provider=p.provider_id,
                account=owner,
                amount=amount,
                stake=p.stake,
            )
        ts = ev.block_timestamp
        if p.active or (ts is not None and ts < p.stake_unlock_at):
            self._violate(
                Invariant.TRANSITIONS,
                ev,
                f"provider {p.provider_id}'s stake released "
                + ("while it was active" if p.active else f"before it unlocked at "
                   f"{p.stake_unlock_at}"),
                provider=p.provider_id,
            )
        p.stake -= amount

    # ------------------------------------------------------------ criteria

    def _next_version(self, ev: DecodedEvent, customer: str, version: int) -> CustomerState:
        state = self._customer(customer)
        if version != state.criteria_version + 1:
            self._violate(
                Invariant.COMPLIANCE,
                ev,
                f"customer {customer}'s criteria jumped from version {state.criteria_version} "
                f"to {version}: every change must be the next version",
                account=customer,
                version=version,
            )
        state.criteria_version = max(state.criteria_version, version)
        if self._scope:
            state.criteria_changes += 1
        return state

    def _criteria_set(self, ev: DecodedEvent) -> None:
        a = ev.args
        customer, category, version = a["customer"], a["category"], a["version"]
        values = a["criteria"]
        self._next_version(ev, customer, version)
        problems = []
        if values["category"] != category:
            problems.append(f"its category {values['category']} differs from topic {category}")
        if values["requiredAttributes"] & values["refusedAttributes"]:
            problems.append("an attribute is both required and refused")
        if values["minScore"] > MAX_SCORE:
            problems.append(f"minimum score {values['minScore']} is above five stars")
        weights = (values["scoreWeight"], values["priceWeight"])
        if max(weights) > MAX_WEIGHT or weights == (0, 0):
            problems.append(f"ranking weights {weights} are not two shares of at most 10000, "
                            "not both zero")
        if problems:
            self._violate(
                Invariant.COMPLIANCE,
                ev,
                f"customer {customer}'s criteria version {version} should have been refused: "
                + "; ".join(problems),
                account=customer,
            )
        key = (customer, category)
        c = self.criteria.get(key)
        if c is None:
            c = self.criteria[key] = CriteriaState(category)
        c.version = version
        c.region = values["region"]
        c.min_score = values["minScore"]
        c.max_price = values["maxPrice"]
        c.premium_per_star = values["premiumPerStar"]
        c.required = values["requiredAttributes"]
        c.refused = values["refusedAttributes"]
        c.score_weight = values["scoreWeight"]
        c.price_weight = values["priceWeight"]

    def _block_changed(self, ev: DecodedEvent) -> None:
        a = ev.args
        customer, provider_id, category = a["customer"], a["providerId"], a["category"]
        blocked, version = a["blocked"], a["version"]
        self._next_version(ev, customer, version)
        c = self.criteria.get((customer, category))
        provider = self.providers.get(provider_id)
        problems = []
        if provider is None or provider.category != category:
            problems.append(f"provider {provider_id} is not in category {category}")
        if c is None or c.version == 0:
            problems.append(f"the customer has no criteria for category {category}")
        elif (provider_id in c.blocked) == blocked:
            problems.append(f"provider {provider_id} was already {'un' * (not blocked)}blocked")
        if problems:
            self._violate(
                Invariant.COMPLIANCE,
                ev,
                f"customer {customer}'s block change (version {version}) should have been "
                "refused: " + "; ".join(problems),
                provider=provider_id,
                account=customer,
            )
        if c is None:
            c = self.criteria[(customer, category)] = CriteriaState(category)
        c.version = version
        if blocked:
            c.blocked.add(provider_id)
        else:
            c.blocked.discard(provider_id)

    # ------------------------------------------------------------ operator and money

    def _fee_rate_changed(self, ev: DecodedEvent) -> None:
        a = ev.args
        previous, new = a["previousFeeBps"], a["newFeeBps"]
        if new > MAX_FEE_BPS:
            self._violate(
                Invariant.FEE_CAP,
                ev,
                f"fee rate set to {new} bps, above the {MAX_FEE_BPS} bps cap",
                fee_bps=new,
            )
        if previous != (self.fee_bps or 0):
            self._violate(
                Invariant.FEE_CAP,
                ev,
                f"fee rate change claims the previous rate was {previous} bps, but it was "
                f"{self.fee_bps or 0} bps",
            )
        self.fee_bps = new

    def _min_stake_changed(self, ev: DecodedEvent) -> None:
        self.min_stake = ev.args["newMinStake"]

    def _pause_changed(self, ev: DecodedEvent) -> None:
        self.paused = ev.args["paused"]

    def _arbiter_changed(self, ev: DecodedEvent) -> None:
        a = ev.args
        if a["allowed"]:
            self.arbiters.add(a["arbiter"])
        else:
            self.arbiters.discard(a["arbiter"])

    def _ownership_transferred(self, ev: DecodedEvent) -> None:
        self.owner = ev.args["newOwner"]

    def _fees_collected(self, ev: DecodedEvent) -> None:
        a = ev.args
        amount = a["amount"]
        if amount > self.accrued_fees:
            self._violate(
                Invariant.SOLVENCY,
                ev,
                f"{amount} wei of fees collected, but only {self.accrued_fees} wei had accrued",
                account=a["to"],
                amount=amount,
                accrued=self.accrued_fees,
            )
        self.accrued_fees -= amount
        self._credit(a["to"], amount)
        if self._scope:
            self.totals["fees_collected"] += amount
        self.fees_collected += amount

    def _withdrawn(self, ev: DecodedEvent) -> None:
        a = ev.args
        account, amount = a["account"], a["amount"]
        credit = self.credits.get(account, 0)
        if amount != credit or amount == 0:
            self._violate(
                Invariant.SOLVENCY,
                ev,
                f"{account} withdrew {amount} wei, but its credit was {credit} wei "
                "(a withdrawal pays exactly the whole credit)",
                account=account,
                amount=amount,
                credit=credit,
            )
        self.credits[account] = credit - amount
        self.total_credits -= amount
        self.withdrawn += amount
        if self._scope:
            self.totals["withdrawn"] += amount
