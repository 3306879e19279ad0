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
    ACCEPTED,
    ALLOWED_FROM,
    ETHER,
    REQUESTED,
    ZERO_ADDRESS,
    BookingState,
    ProviderState,
)
from marketplace.chain.logs import DecodedEvent
from marketplace.domain import (
    LOST_DISPUTE_STARS,
    STATUS_AFTER,
    count_resolution,
    customer_of,
    decode_booking_id,
    lost_dispute,
    provider_of,
)

if TYPE_CHECKING:
    from marketplace.audit.replay import Replay

Handler = Callable[["Replay", DecodedEvent], object]
_STATUS_AFTER = {name: int(status) for name, status in STATUS_AFTER.items()}


def requested(r: Replay, ev: DecodedEvent) -> None:
    """BookingRequested: the price goes into escrow in the booking's currency."""
    a = ev.args
    booking_id, customer, provider_id = a["bookingId"], a["customer"], a["providerId"]
    scope = r.scope
    state = r.customer(customer)
    b = BookingState(booking_id, customer, provider_id, ev, scope)
    b.currency = a["currency"]
    b.price = a["price"]
    b.fee = a["fee"]
    b.offer_version = a["offerVersion"]
    b.criteria_version = a["criteriaVersion"]
    b.arbiter_id = a["arbiterId"]
    b.deadline = a["respondBy"]
    key = decode_booking_id(booking_id)
    b.start, b.duration = key.start, key.duration_minutes
    provider = r.providers.get(provider_id)
    offer = provider.offers.get(b.offer_version) if provider is not None else None
    if offer is not None:  # the terms the booking locked
        b.free_cancel_hours, b.late_cancel_pct = offer.free_cancel_hours, offer.late_cancel_pct
    checks.check_request(r, ev, b, provider, key)
    compliance.check_booking(r, ev, b, provider)
    if offer is not None and offer.instant:  # accepted in the same transaction
        r.defer(partial(checks.check_instant, r, ev, b))
    if r.keep_events:
        b.events.append(len(r.events) - 1)
    r.bookings[booking_id] = b
    cur = r.currency(b.currency)
    cur.escrow += b.price
    if scope:
        state.bookings += 1
        state.volume[b.currency] = state.volume.get(b.currency, 0) + b.price
        cur.volume += b.price
        if provider is not None:
            provider.bookings += 1
            provider.volume += b.price
        day = r.day(ev, b.currency)
        if day is not None:
            day[0] += 1
            day[1] += b.price


def _move(r: Replay, ev: DecodedEvent) -> BookingState | None:
    """Move a booking on without paying it: a legal transition, in time (accept, complete)."""
    b = r.booking(ev, Invariant.TRANSITIONS)
    if b is None:
        return None
    if b.status not in ALLOWED_FROM[ev.name]:
        checks.illegal(r, ev, b)
    return b


def accepted(r: Replay, ev: DecodedEvent) -> None:
    """BookingAccepted: the provider commits to the slot; the stake locks until it could no
    longer be slashed."""
    b = _move(r, ev)
    if b is None:
        return
    if b.status == REQUESTED:
        checks.late(r, ev, b, "accepted")
    checks.check_service_by(r, ev, b)
    b.status = ACCEPTED
    b.accepted = True
    b.deadline = ev.args["serviceBy"]
    provider = r.providers.get(b.provider_id)
    if provider is not None:
        checks.check_stake_lock(r, ev, b, provider)
        provider.locked_until = max(provider.locked_until, ev.args["stakeLockedUntil"])


def completed(r: Replay, ev: DecodedEvent) -> None:
    """BookingCompleted: from the slot's start until serviceBy."""
    b = _move(r, ev)
    if b is None:
        return
    if b.status in ALLOWED_FROM[ev.name]:
        checks.not_before_start(r, ev, b)
        checks.late(r, ev, b, "completed")
    b.status = _STATUS_AFTER[ev.name]
    b.deadline = ev.args["confirmBy"]
    checks.check_window(r, ev, b, "confirm", b.deadline)


def disputed(r: Replay, ev: DecodedEvent) -> None:
    """BookingDisputed: the customer disputes a completed booking within the window, paying
    the bond in ether."""
    b = _move(r, ev)
    if b is None:
        return
    if b.status in ALLOWED_FROM[ev.name]:
        checks.late(r, ev, b, "was disputed")
    bond = ev.args["bond"]
    checks.check_bond(r, ev, b, bond)
    r.bonds += bond
    b.bond += bond
    b.status = _STATUS_AFTER[ev.name]
    b.deadline = ev.args["arbitrateBy"]
    checks.check_window(r, ev, b, "arbitration", b.deadline)
    if r.scope:
        r.totals["disputes"] += 1
        r.customer(b.customer).disputes += 1
        provider = r.providers.get(b.provider_id)
        if provider is not None:
            provider.disputes += 1


def _pay(
    r: Replay, ev: DecodedEvent, refund: int, payout: int, fee: int, compensation: int = 0
) -> tuple[BookingState | None, int]:
    """Common part of every event that ends a booking and releases its escrow.

    Returns the booking and its status before the event, or (None, 0) when the payment is
    not a legal first payment (unknown booking, or paid before): those are conservation
    violations, and the amounts the event claims are credited all the same.
    """
    a = ev.args
    b = r.bookings.get(a["bookingId"])
    if b is None:
        checks.paid_without_escrow(r, ev, refund, payout + compensation, fee)
        provider = r.providers.get(provider_of(a["bookingId"]))
        currency = provider.offer.currency if provider is not None else ETHER
        _credit_all(r, customer_of(a["bookingId"]), provider, currency, refund,
                    payout + compensation, fee)
        return None, 0
    r.booking(ev, Invariant.CONSERVATION)  # checks the parties the event names
    provider = r.providers.get(b.provider_id)
    if b.paid_by is not None:
        checks.paid_twice(r, ev, b, b.paid_by, refund, payout + compensation, fee)
        _credit_all(r, b.customer, provider, b.currency, refund, payout + compensation, fee)
        return None, 0
    previous = b.status
    if previous not in ALLOWED_FROM[ev.name]:
        checks.illegal(r, ev, b)
    cur = r.currency(b.currency)
    cur.escrow -= b.price
    b.paid_by = ev
    b.status = _STATUS_AFTER[ev.name]
    b.refund, b.payout, b.fee_paid, b.compensation = refund, payout, fee, compensation
    _credit_all(r, b.customer, provider, b.currency, refund, payout + compensation, fee)
    if r.scope:
        cur.fees += fee
        customer = r.customer(b.customer)
        customer.refunds[b.currency] = customer.refunds.get(b.currency, 0) + refund
        customer.spent[b.currency] = (
            customer.spent.get(b.currency, 0) + payout + compensation + fee
        )
        if provider is not None:
            provider.payouts += payout + compensation
            provider.fees += fee
            provider.refunds += refund
        day = r.day(ev, b.currency)
        if day is not None:
            day[2] += fee
            day[3] += refund
            day[4] += payout + compensation
    return b, previous


def _credit_all(
    r: Replay, customer: str, provider: ProviderState | None, currency: int, refund: int,
    payout: int, fee: int,
) -> None:
    r.credit(customer, refund, currency)
    if payout:
        # A payout for an unknown provider is still owed to someone: keep the ledger whole.
        r.credit(provider.owner if provider is not None else ZERO_ADDRESS, payout, currency)
    r.currency(currency).accrued_fees += fee


def cancelled(r: Replay, ev: DecodedEvent) -> None:
    """BookingCancelled by the customer: a requested booking, or an accepted one before its
    start, under the terms the booking locked."""
    a = ev.args
    refund, compensation = a["refund"], a["compensation"]
    b, previous = _pay(r, ev, refund, 0, 0, compensation)
    if b is None:
        return
    checks.check_cancellation(r, ev, b, previous, refund, compensation)


def declined(r: Replay, ev: DecodedEvent) -> None:
    """BookingDeclined by the provider: a full refund; after acceptance, a failure."""
    refund = ev.args["refund"]
    b, previous = _pay(r, ev, refund, 0, 0)
    if b is None:
        return
    checks.check_refund(r, ev, b, refund)
    checks.check_flag(r, ev, b, "afterAcceptance", previous == ACCEPTED,
                      "a decline after acceptance")
    if previous == ACCEPTED:
        checks.before_start(r, ev, b, "declined")
        _reliability(r, b, failure=True)


def expired(r: Replay, ev: DecodedEvent) -> None:
    """BookingExpired: a full refund after the deadline; an accepted booking is a no-show whose
    StakeSlashed (same transaction) moves 10% of the stake to the customer's ether credit."""
    refund = ev.args["refund"]
    b, previous = _pay(r, ev, refund, 0, 0)
    if b is None:
        return
    checks.check_refund(r, ev, b, refund)
    if previous in ALLOWED_FROM[ev.name]:
        checks.early(r, ev, b, "expired", Invariant.TRANSITIONS)
    no_show = previous == ACCEPTED
    checks.check_flag(r, ev, b, "noShow", no_show, "a no-show")
    provider = r.providers.get(b.provider_id)
    if provider is None:
        return
    stake_before = provider.stake + sum(a for _, a in r.slashes.get(b.booking_id, ()))
    r.defer(partial(checks.check_no_show_slash, r, ev, b, provider, no_show, stake_before))
    if no_show:
        provider.no_shows += 1
        if r.scope:
            r.totals["no_shows"] += 1
        _reliability(r, b, failure=True)


def settled(r: Replay, ev: DecodedEvent) -> None:
    """BookingSettled: payout to the listing's owner, the booking's fee accrued."""
    a = ev.args
    b, previous = _pay(r, ev, 0, a["payout"], a["fee"])
    if b is None:
        return
    checks.check_settlement(r, ev, b, previous)
    provider = r.providers.get(b.provider_id)
    if r.scope and provider is not None:
        provider.settled += 1
    _reliability(r, b, failure=False)


def resolved(r: Replay, ev: DecodedEvent) -> None:
    """DisputeResolved: the split and where the bond went; a lost dispute is a one-star rating
    at the booking's weight, a failure, and the arbiter's pay from the stake (StakeSlashed)."""
    a = ev.args
    refund_bps = a["refundBps"]
    b, previous = _pay(r, ev, a["refund"], a["payout"], a["fee"])
    if b is None:
        return
    provider = r.providers.get(b.provider_id)
    b.refund_bps = refund_bps
    by_default = a["arbiter"] == ZERO_ADDRESS
    lost = not by_default and lost_dispute(refund_bps)
    checks.check_resolution(r, ev, b, previous, provider, by_default)
    checks.check_flag(r, ev, b, "providerLost", lost, "a dispute the provider lost")
    bond = a["bond"]
    if bond != b.bond:
        checks.bond_mismatch(r, ev, b, bond)
    # The bond goes back to the customer on a default or a provider's loss, else to the arbiter.
    r.bonds -= b.bond
    r.credit(b.customer if by_default or lost else a["arbiter"], b.bond, ETHER)
    if r.scope:
        r.totals["bonds_paid"] += b.bond
        r.totals["disputes_resolved"] += 1
        if by_default:
            r.totals["disputes_by_default"] += 1
    if provider is not None:
        stake_before = provider.stake + sum(x for _, x in r.slashes.get(b.booking_id, ()))
        r.defer(partial(checks.check_arbiter_slash, r, ev, b, provider, lost, stake_before))
    b.bond = 0
    if by_default:
        return
    weight = checks.weight_of(r, b)
    checks.check_loss_weight(r, ev, b, lost, a["weight"], weight)
    if lost:
        b.rated = True  # the ruling is the booking's rating: a later BookingRated is a second one
        if provider is not None:
            provider.add_rating(LOST_DISPUTE_STARS, weight)
            provider.disputes_lost += 1
        if r.scope:
            r.totals["disputes_lost"] += 1
    if provider is not None:  # a completion, and a loss also a failure
        provider.completed, provider.failures = count_resolution(
            provider.completed, provider.failures, provider_lost=lost
        )


def _reliability(r: Replay, b: BookingState, *, failure: bool) -> None:
    provider = r.providers.get(b.provider_id)
    if provider is not None:
        checks.count_reliability(provider, failure=failure)


def rated(r: Replay, ev: DecodedEvent) -> None:
    """BookingRated: the stars join the listing's weighted score at the booking's weight."""
    a = ev.args
    stars = a["stars"]
    b = r.booking(ev, Invariant.RATINGS)
    checks.check_rating(r, ev, b)
    provider = r.providers.get(b.provider_id if b is not None else provider_of(a["bookingId"]))
    weight = a["weight"]
    if b is not None:
        checks.check_weight(r, ev, b, weight)
        b.rated = True
        b.stars = stars
        b.weight = weight
    if provider is None:
        return
    provider.add_rating(stars, weight)
    provider.rating_count += 1
    provider.rating_sum += stars
    checks.check_score(r, ev, provider)
    if r.scope:
        r.totals["ratings"] += 1
        r.customer(customer_of(a["bookingId"])).ratings += 1


HANDLERS: dict[str, Handler] = {
    "BookingRequested": requested,
    "BookingAccepted": accepted,
    "BookingCompleted": completed,
    "BookingDisputed": disputed,
    "BookingCancelled": cancelled,
    "BookingDeclined": declined,
    "BookingExpired": expired,
    "BookingSettled": settled,
    "DisputeResolved": resolved,
    "BookingRated": rated,
}
