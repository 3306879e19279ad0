"""What each booking event does to the replayed state: escrow, payouts, statuses, ratings.

Every handler first runs the checks its event must pass (`checks`, `compliance`), then applies
the event as it states its amounts, so one broken rule is one violation rather than a cascade.
Handlers take the `Replay` and the event; `HANDLERS` maps event names to them. The state machine
itself (which state each event may follow and leaves) is `marketplace.domain.TRANSITIONS`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from marketplace.audit import checks, compliance
from marketplace.audit.model import Invariant
from marketplace.audit.state import (
    ALLOWED_FROM,
    SEQ_MASK,
    ZERO_ADDRESS,
    BookingState,
    ProviderState,
)
from marketplace.chain.logs import DecodedEvent
from marketplace.domain import (
    LOST_DISPUTE_STARS,
    STATUS_AFTER,
    customer_of,
    lost_dispute,
)

if TYPE_CHECKING:
    from marketplace.audit.replay import Replay

Handler = Callable[["Replay", DecodedEvent], object]
_STATUS_AFTER = {name: int(status) for name, status in STATUS_AFTER.items()}


def requested(r: Replay, ev: DecodedEvent) -> None:
    """BookingRequested: the price goes into escrow."""
    a = ev.args
    booking_id, customer, provider_id, price = (
        a["bookingId"], a["customer"], a["providerId"], a["price"]
    )
    scope = r.scope
    state = r.customer(customer)
    checks.check_request(r, ev, state)
    compliance.check_booking(r, ev)
    state.booking_count = max(state.booking_count, booking_id & SEQ_MASK)
    b = BookingState(
        booking_id, customer, provider_id, price, a["feeBps"], a["criteriaVersion"],
        a["respondBy"], ev, scope,
    )
    if r.keep_events:
        b.events.append(len(r.events) - 1)
    r.bookings[booking_id] = b
    r.escrow += price
    if scope:
        state.bookings += 1
        state.volume += price
        r.totals["volume"] += price
        provider = r.providers.get(provider_id)
        if provider is not None:
            provider.bookings += 1
            provider.volume += price
        day = r.day(ev)
        if day is not None:
            day[0] += 1
            day[1] += price


def _move(deadline_arg: str, what: str, r: Replay, ev: DecodedEvent) -> BookingState | None:
    """Move a booking on without paying it: a legal transition, in time, to its new deadline.

    The event's particulars come first so that `partial(_move, deadline_arg, what)` is a handler
    the replay calls with positional arguments only (the cheapest call there is)."""
    b = r.booking(ev, Invariant.TRANSITIONS)
    if b is None:
        return None
    if b.status not in ALLOWED_FROM[ev.name]:
        checks.illegal(r, ev, b)
    else:
        checks.late(r, ev, b, what)
    b.status = _STATUS_AFTER[ev.name]
    b.deadline = ev.args[deadline_arg]
    return b


def _moved(deadline_arg: str, what: str) -> Handler:
    """An event that only moves a booking on (accept, complete); a partial, not a closure, so
    the replay calls `_move` directly."""
    return partial(_move, deadline_arg, what)


def disputed(r: Replay, ev: DecodedEvent) -> None:
    """BookingDisputed: the customer disputes a completed booking within the window."""
    b = _move("arbitrateBy", "was disputed", r, ev)
    if b is not None and r.scope:
        r.totals["disputes"] += 1
        r.customer(b.customer).disputes += 1
        provider = r.providers.get(b.provider_id)
        if provider is not None:
            provider.disputes += 1


def _pay(
    r: Replay, ev: DecodedEvent, refund: int, payout: int, fee: int
) -> tuple[BookingState | None, int]:
    """Common part of every event that ends a booking and releases its escrow.

    Returns the booking and its status before the event, or (None, 0) when the payment is
    not a legal first payment (unknown booking, or paid before): those are conservation
    violations, and the amounts the event claims are credited all the same.
    """
    a = ev.args
    b = r.bookings.get(a["bookingId"])
    if b is None:
        checks.paid_without_escrow(r, ev, refund, payout, fee)
        provider = r.providers.get(a["providerId"])
        _credit_all(r, customer_of(a["bookingId"]), provider, refund, payout, fee)
        return None, 0
    r.booking(ev, Invariant.CONSERVATION)  # checks the parties the event names
    if b.paid_by is not None:
        checks.paid_twice(r, ev, b, b.paid_by, refund, payout, fee)
        _credit_all(r, b.customer, r.providers.get(b.provider_id), refund, payout, fee)
        return None, 0
    previous = b.status
    if previous not in ALLOWED_FROM[ev.name]:
        checks.illegal(r, ev, b)
    r.escrow -= b.price
    b.paid_by = ev
    b.status = _STATUS_AFTER[ev.name]
    b.refund, b.payout, b.fee = refund, payout, fee
    provider = r.providers.get(b.provider_id)
    _credit_all(r, b.customer, provider, refund, payout, fee)
    if r.scope:
        totals = r.totals
        totals["refunds"] += refund
        totals["payouts"] += payout
        totals["fees"] += fee
        customer = r.customer(b.customer)
        customer.refunds += refund
        customer.spent += payout + fee
        if provider is not None:
            provider.payouts += payout
            provider.fees += fee
            provider.refunds += refund
        day = r.day(ev)
        if day is not None:
            day[2] += fee
            day[3] += refund
            day[4] += payout
    return b, previous


def _credit_all(
    r: Replay, customer: str, provider: ProviderState | None, refund: int, payout: int, fee: int
) -> None:
    r.credit(customer, refund)
    if payout:
        # A payout for an unknown provider is still owed to someone: keep the ledger whole.
        r.credit(provider.owner if provider is not None else ZERO_ADDRESS, payout)
    r.accrued_fees += fee


def _refunded(timed: bool) -> Handler:
    """An event that refunds the whole price (cancel, decline, expire)."""

    def handle(r: Replay, ev: DecodedEvent) -> None:
        refund = ev.args["refund"]
        b, previous = _pay(r, ev, refund, 0, 0)
        if b is None:
            return
        checks.check_refund(r, ev, b, refund)
        if timed and previous in ALLOWED_FROM[ev.name]:
            checks.early(r, ev, b, "expired", Invariant.TRANSITIONS)

    return handle


def settled(r: Replay, ev: DecodedEvent) -> None:
    """BookingSettled: payout to the provider's owner, the snapshotted fee accrued."""
    a = ev.args
    b, previous = _pay(r, ev, 0, a["payout"], a["fee"])
    if b is None:
        return
    checks.check_settlement(r, ev, b, previous)
    if r.scope:
        provider = r.providers.get(b.provider_id)
        if provider is not None:
            provider.settled += 1


def resolved(r: Replay, ev: DecodedEvent) -> None:
    """DisputeResolved: the split paid out; a lost dispute counts as a one-star rating."""
    a = ev.args
    refund_bps = a["refundBps"]
    b, previous = _pay(r, ev, a["refund"], a["payout"], a["fee"])
    provider = r.providers.get(b.provider_id if b is not None else a["providerId"])
    if lost_dispute(refund_bps):
        if provider is not None:
            provider.add_score(LOST_DISPUTE_STARS)
            provider.disputes_lost += 1
        if r.scope:
            r.totals["disputes_lost"] += 1
    if b is None:
        return
    b.refund_bps = refund_bps
    checks.check_resolution(r, ev, b, previous, provider)
    if r.scope:
        r.totals["disputes_resolved"] += 1
        if a["arbiter"] == ZERO_ADDRESS:
            r.totals["disputes_by_default"] += 1


def rated(r: Replay, ev: DecodedEvent) -> None:
    """BookingRated: the stars join the provider's score."""
    a = ev.args
    stars = a["stars"]
    b = r.booking(ev, Invariant.RATINGS)
    checks.check_rating(r, ev, b)
    provider = r.providers.get(b.provider_id if b is not None else a["providerId"])
    if b is not None:
        b.rated = True
        b.stars = stars
    if provider is None:
        return
    provider.add_score(stars)
    provider.rating_count += 1
    provider.rating_sum += stars
    checks.check_score(r, ev, provider)
    if r.scope:
        r.totals["ratings"] += 1
        r.customer(a["customer"]).ratings += 1


HANDLERS: dict[str, Handler] = {
    "BookingRequested": requested,
    "BookingAccepted": _moved("serviceBy", "accepted"),
    "BookingCompleted": _moved("confirmBy", "completed"),
    "BookingDisputed": disputed,
    "BookingCancelled": _refunded(timed=False),
    "BookingDeclined": _refunded(timed=False),
    "BookingExpired": _refunded(timed=True),
    "BookingSettled": settled,
    "DisputeResolved": resolved,
    "BookingRated": rated,
}
