"""The invariants one event can break, checked against the state rebuilt before it.

Each check reads the replay's state, never changes it, and records what it finds with
`Replay.violate` (which drops findings before the audited range). The folds in `booking_events`
and `market_events` call them before they apply the event; which invariant each check belongs to
is listed in docs/audit.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from marketplace.audit.model import Invariant
from marketplace.audit.state import (
    ALLOWED_FROM,
    OPEN,
    RATEABLE,
    SEQ_MASK,
    ZERO_ADDRESS,
    BookingState,
    CustomerState,
    ProviderState,
    short_id,
    status_name,
)
from marketplace.chain.logs import DecodedEvent
from marketplace.domain import (
    BPS,
    DEFAULT_REFUND_BPS,
    MAX_FEE_BPS,
    customer_of,
    resolution_split,
    settlement_fee,
)

if TYPE_CHECKING:
    from marketplace.audit.replay import Replay

_SETTLE_FROM = ALLOWED_FROM["BookingSettled"]
_RESOLVE_FROM = ALLOWED_FROM["DisputeResolved"]


def _booking_violation(
    r: Replay, b: BookingState, invariant: Invariant, ev: DecodedEvent, message: str,
    **details: Any,
) -> None:
    r.violate(invariant, ev, message, booking=b.booking_id, provider=b.provider_id, **details)


def _provider_violation(
    r: Replay, p: ProviderState, invariant: Invariant, ev: DecodedEvent, message: str,
    **details: Any,
) -> None:
    r.violate(invariant, ev, message, provider=p.provider_id, **details)

# ---------------------------------------------------------------- transitions and deadlines


def illegal(r: Replay, ev: DecodedEvent, b: BookingState) -> None:
    """The event is not a transition the booking's state allows."""
    terminal = "; terminal states stay terminal" if b.status not in OPEN else ""
    _booking_violation(
        r, b, Invariant.TRANSITIONS, ev,
        f"{ev.name} on booking {short_id(b.booking_id)} in state {status_name(b.status)}: "
        f"not a legal transition{terminal}",
        status=status_name(b.status),
    )


def late(r: Replay, ev: DecodedEvent, b: BookingState, what: str) -> None:
    """The action is allowed while block.timestamp <= deadline."""
    ts = ev.block_timestamp
    if ts is not None and ts > b.deadline:
        _booking_violation(
            r, b, Invariant.TRANSITIONS, ev,
            f"booking {short_id(b.booking_id)} {what} at {ts}, after its deadline {b.deadline}",
            timestamp=ts, deadline=b.deadline,
        )


def early(r: Replay, ev: DecodedEvent, b: BookingState, what: str, invariant: Invariant) -> None:
    """The timed exit opens when block.timestamp > deadline."""
    ts = ev.block_timestamp
    if ts is not None and ts <= b.deadline:
        _booking_violation(
            r, b, invariant, ev,
            f"booking {short_id(b.booking_id)} {what} at {ts}, before its deadline "
            f"{b.deadline} had passed",
            timestamp=ts, deadline=b.deadline,
        )


# ---------------------------------------------------------------- a new booking


def check_request(r: Replay, ev: DecodedEvent, customer: CustomerState) -> None:
    """A booking request: a fresh id in the customer's sequence, not paused, and the fee rate
    of the moment, within the cap (its compliance is `compliance.check_booking`)."""
    a = ev.args
    booking_id, provider_id, fee_bps = a["bookingId"], a["providerId"], a["feeBps"]
    if booking_id in r.bookings:
        r.violate(
            Invariant.TRANSITIONS, ev,
            f"booking {short_id(booking_id)} was requested twice",
            booking=booking_id, provider=provider_id,
        )
    if customer_of(booking_id) != customer.address or (
        booking_id & SEQ_MASK != customer.booking_count + 1
    ):
        r.violate(
            Invariant.TRANSITIONS, ev,
            f"booking id {short_id(booking_id)} does not follow customer {customer.address}'s "
            f"booking {customer.booking_count} (ids are the customer's address and 1, 2, 3 ...)",
            booking=booking_id, provider=provider_id, account=customer.address,
        )
    if r.paused:
        r.violate(
            Invariant.TRANSITIONS, ev,
            f"booking {short_id(booking_id)} was made while the marketplace was paused",
            booking=booking_id, provider=provider_id,
        )
    if fee_bps > MAX_FEE_BPS:
        r.violate(
            Invariant.FEE_CAP, ev,
            f"booking {short_id(booking_id)} snapshotted a fee rate of {fee_bps} bps, above "
            f"the {MAX_FEE_BPS} bps cap",
            booking=booking_id, provider=provider_id, fee_bps=fee_bps,
        )
    elif r.fee_bps is not None and fee_bps != r.fee_bps:
        r.violate(
            Invariant.FEE_CAP, ev,
            f"booking {short_id(booking_id)} snapshotted a fee rate of {fee_bps} bps, but "
            f"the rate was {r.fee_bps} bps",
            booking=booking_id, provider=provider_id, fee_bps=fee_bps, rate=r.fee_bps,
        )


# ---------------------------------------------------------------- paying a booking out


def paid_without_escrow(r: Replay, ev: DecodedEvent, refund: int, payout: int, fee: int) -> None:
    """A payment for a booking that never escrowed anything."""
    booking_id = ev.args["bookingId"]
    r.violate(
        Invariant.CONSERVATION, ev,
        f"{ev.name} pays out booking {short_id(booking_id)}, which never escrowed anything",
        booking=booking_id, provider=ev.args["providerId"], refund=refund, payout=payout, fee=fee,
    )


def paid_twice(
    r: Replay, ev: DecodedEvent, b: BookingState, first: DecodedEvent,
    refund: int, payout: int, fee: int,
) -> None:
    """A second payment of a booking (the escrow is released once)."""
    _booking_violation(
        r, b, Invariant.CONSERVATION, ev,
        f"booking {short_id(b.booking_id)} paid twice: {ev.name} after {first.name} in "
        f"block {first.block_number} (tx {first.tx_hash})",
        refund=refund, payout=payout, fee=fee, first_tx=first.tx_hash,
    )


def check_refund(r: Replay, ev: DecodedEvent, b: BookingState, refund: int) -> None:
    """A cancellation, decline or expiry refunds the whole price."""
    if refund != b.price:
        _booking_violation(
            r, b, Invariant.CONSERVATION, ev,
            f"booking {short_id(b.booking_id)} refunded {refund} wei of its {b.price} wei price",
            refund=refund, price=b.price,
        )


def check_settlement(r: Replay, ev: DecodedEvent, b: BookingState, previous: int) -> None:
    """payout + fee == price, the snapshotted fee rate, and only the customer settles early."""
    a = ev.args
    payout, fee, price = a["payout"], a["fee"], b.price
    if payout + fee != price:
        _booking_violation(
            r, b, Invariant.CONSERVATION, ev,
            f"booking {short_id(b.booking_id)} settled with payout {payout} + fee {fee} "
            f"!= price {price}",
            payout=payout, fee=fee, price=price,
        )
    _check_fee(r, ev, b, fee, price, "price")
    if previous in _SETTLE_FROM and a["by"] != b.customer:
        early(r, ev, b, f"was settled by {a['by']} (not its customer)", Invariant.ROLES)


def _check_fee(
    r: Replay, ev: DecodedEvent, b: BookingState, fee: int, share: int, what: str
) -> None:
    """The fee is the snapshotted rate of the provider's share (the price when settled)."""
    expected_fee = settlement_fee(share, b.fee_bps)
    if fee != expected_fee:
        _booking_violation(
            r, b, Invariant.FEE_CAP, ev,
            f"booking {short_id(b.booking_id)} paid a fee of {fee} wei, not its {what} "
            f"{share} x its snapshotted {b.fee_bps} bps = {expected_fee} wei",
            fee=fee, expected_fee=expected_fee,
        )


def check_resolution(
    r: Replay, ev: DecodedEvent, b: BookingState, previous: int, provider: ProviderState | None
) -> None:
    """refund + payout + fee == price at the stated refund share and the snapshotted fee rate;
    an allowed arbiter who is no party resolves in time, or the 50/50 default after it."""
    a = ev.args
    refund_bps, refund, payout, fee = a["refundBps"], a["refund"], a["payout"], a["fee"]
    arbiter, price, sid = a["arbiter"], b.price, short_id(b.booking_id)
    if refund_bps > BPS or refund + payout + fee != price:
        _booking_violation(
            r, b, Invariant.CONSERVATION, ev,
            f"booking {sid} resolved with refund {refund} + payout {payout} + fee {fee} "
            f"!= price {price} (refund share {refund_bps} bps)",
            refund=refund, payout=payout, fee=fee, price=price,
        )
    elif refund != (expected_refund := resolution_split(price, refund_bps, b.fee_bps)[0]):
        _booking_violation(
            r, b, Invariant.CONSERVATION, ev,
            f"booking {sid} refunded {refund} wei, not {refund_bps} bps of its price "
            f"({expected_refund} wei)",
            refund=refund, refund_bps=refund_bps,
        )
    _check_fee(r, ev, b, fee, price - refund, "provider share")
    if previous not in _RESOLVE_FROM:
        return
    if arbiter == ZERO_ADDRESS:
        early(r, ev, b, "was resolved by default", Invariant.ROLES)
        if refund_bps != DEFAULT_REFUND_BPS:
            _booking_violation(
                r, b, Invariant.ROLES, ev,
                f"booking {sid} was resolved by default with a {refund_bps} bps refund, "
                f"not the default {DEFAULT_REFUND_BPS} bps",
            )
        return
    owner = provider.owner if provider is not None else None
    if arbiter not in r.arbiters:
        problem = "is not an allowed arbiter"
    elif arbiter in (b.customer, owner):
        problem = "is a party to the booking"
    else:
        problem = ""
    if problem:
        _booking_violation(
            r, b, Invariant.ROLES, ev,
            f"booking {sid} was resolved by {arbiter}, who {problem}",
            account=arbiter,
        )
    late(r, ev, b, "was resolved by an arbiter")


# ---------------------------------------------------------------- ratings


def check_rating(r: Replay, ev: DecodedEvent, b: BookingState | None) -> None:
    """At most one rating per booking, of 1 to 5 stars, after settlement or resolution."""
    a = ev.args
    stars = a["stars"]
    problems: list[str] = []
    if b is not None:
        if b.status not in RATEABLE:
            problems.append(
                f"rated while {status_name(b.status)}: only settled or resolved bookings "
                "may be rated"
            )
        if b.rated:
            problems.append("rated twice")
    if not 1 <= stars <= 5:
        problems.append(f"{stars} stars is outside 1..5")
    if problems:
        r.violate(
            Invariant.RATINGS, ev,
            f"booking {short_id(a['bookingId'])} " + "; ".join(problems),
            booking=a["bookingId"], provider=a["providerId"], account=a["customer"],
        )


def check_score(r: Replay, ev: DecodedEvent, provider: ProviderState) -> None:
    """The score the event reports is the score of the provider's rating events and lost
    disputes; reported where the aggregate starts to differ, not again for each rating."""
    new_score, expected = ev.args["newScore"], provider.score
    if new_score == expected:
        provider.score_ok = True
        return
    if provider.score_ok:
        r.violate(
            Invariant.RATINGS, ev,
            f"provider {provider.provider_id}'s new score {new_score} differs from "
            f"{expected}, the score of its {provider.rating_count} rating events and "
            f"{provider.disputes_lost} lost disputes",
            booking=ev.args["bookingId"], provider=provider.provider_id, reported=new_score,
            expected=expected,
        )
    provider.score_ok = False


# ---------------------------------------------------------------- providers


def check_registration(r: Replay, ev: DecodedEvent) -> None:
    """A provider id is registered once, and not while paused."""
    provider_id = ev.args["providerId"]
    if provider_id in r.providers:
        r.violate(
            Invariant.TRANSITIONS, ev, f"provider {provider_id} was registered twice",
            provider=provider_id,
        )
    if r.paused:
        r.violate(
            Invariant.TRANSITIONS, ev,
            f"provider {provider_id} registered while the marketplace was paused",
            provider=provider_id,
        )


def check_deactivation(r: Replay, ev: DecodedEvent, p: ProviderState) -> None:
    """Only an active provider deactivates."""
    if not p.active:
        _provider_violation(
            r, p, Invariant.TRANSITIONS, ev,
            f"provider {p.provider_id} deactivated while already inactive",
        )


def check_reactivation(r: Replay, ev: DecodedEvent, p: ProviderState) -> None:
    """Only an inactive provider with the minimum stake reactivates, and not while paused."""
    problem = (
        "while already active"
        if p.active
        else "while the marketplace was paused"
        if r.paused
        else f"with a stake of {p.stake} wei, below the minimum {r.min_stake} wei"
        if p.stake < r.min_stake
        else ""
    )
    if problem:
        _provider_violation(
            r, p, Invariant.TRANSITIONS, ev,
            f"provider {p.provider_id} reactivated {problem}",
        )


def check_stake_release(r: Replay, ev: DecodedEvent, p: ProviderState) -> None:
    """The whole stake goes to its owner, once the provider is inactive and the stake unlocked."""
    amount, owner = ev.args["amount"], ev.args["owner"]
    if amount != p.stake or owner != p.owner:
        _provider_violation(
            r, p, Invariant.SOLVENCY, ev,
            f"provider {p.provider_id} released a stake of {amount} wei to {owner}, but it "
            f"held {p.stake} wei owned by {p.owner}",
            account=owner, amount=amount, stake=p.stake,
        )
    ts = ev.block_timestamp
    if p.active or (ts is not None and ts < p.stake_unlock_at):
        _provider_violation(
            r, p, Invariant.TRANSITIONS, ev,
            f"provider {p.provider_id}'s stake released "
            + ("while it was active" if p.active else f"before it unlocked at "
               f"{p.stake_unlock_at}"),
        )


# ---------------------------------------------------------------- operator and money


def check_fee_rate(r: Replay, ev: DecodedEvent) -> None:
    """A new fee rate within the cap, changed from the rate in force."""
    previous, new = ev.args["previousFeeBps"], ev.args["newFeeBps"]
    if new > MAX_FEE_BPS:
        r.violate(
            Invariant.FEE_CAP, ev, f"fee rate set to {new} bps, above the {MAX_FEE_BPS} bps cap",
            fee_bps=new,
        )
    if previous != (r.fee_bps or 0):
        r.violate(
            Invariant.FEE_CAP, ev,
            f"fee rate change claims the previous rate was {previous} bps, but it was "
            f"{r.fee_bps or 0} bps",
        )


def check_fees_collected(r: Replay, ev: DecodedEvent) -> None:
    """No more fees collected than accrued."""
    amount = ev.args["amount"]
    if amount > r.accrued_fees:
        r.violate(
            Invariant.SOLVENCY, ev,
            f"{amount} wei of fees collected, but only {r.accrued_fees} wei had accrued",
            account=ev.args["to"], amount=amount, accrued=r.accrued_fees,
        )


def check_withdrawal(r: Replay, ev: DecodedEvent) -> None:
    """A withdrawal pays exactly the account's whole (non-zero) credit."""
    account, amount = ev.args["account"], ev.args["amount"]
    credit = r.credits.get(account, 0)
    if amount != credit or amount == 0:
        r.violate(
            Invariant.SOLVENCY, ev,
            f"{account} withdrew {amount} wei, but its credit was {credit} wei "
            "(a withdrawal pays exactly the whole credit)",
            account=account, amount=amount, credit=credit,
        )
