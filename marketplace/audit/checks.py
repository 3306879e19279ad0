"""The invariants one event can break, checked against the state rebuilt before it.

Each check reads the replay's state, never changes it (except the reliability counters it
recomputes), and records what it finds with `Replay.violate` (which drops findings before the
audited range). The folds in `booking_events` and `market_events` call them before they apply the
event; which invariant each check belongs to is listed in docs/audit.md. Every rule is
`marketplace.domain`'s: this module compares what the chain did with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from marketplace.audit.model import Invariant
from marketplace.audit.state import (
    ACCEPTED,
    ALLOWED_FROM,
    OPEN,
    RATEABLE,
    REQUESTED,
    ZERO_ADDRESS,
    BookingState,
    ProviderState,
    short_id,
    status_name,
)
from marketplace.chain.logs import DecodedEvent
from marketplace.domain import (
    DEFAULT_REFUND_BPS,
    MAX_FEE_BPS,
    BookingKey,
    CancelTerms,
    Status,
    booking_fee,
    cancellation_split,
    count_outcome,
    customer_of,
    free_cancellation,
    no_show_slash,
    provider_of,
    rating_weight,
    resolve_by_default,
    resolve_dispute,
    respond_by,
    service_by,
    slot_problem,
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


def when(ts: int | None) -> str:
    """A Unix time in messages: UTC date and time."""
    if ts is None:
        return "an unknown time"
    import datetime as dt

    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


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


def late(r: Replay, ev: DecodedEvent, b: BookingState, what: str,
         invariant: Invariant = Invariant.TRANSITIONS) -> None:
    """The action is allowed while block.timestamp <= deadline."""
    ts = ev.block_timestamp
    if ts is not None and ts > b.deadline:
        _booking_violation(
            r, b, invariant, ev,
            f"booking {short_id(b.booking_id)} {what} at {when(ts)}, after its deadline "
            f"{when(b.deadline)}",
            timestamp=ts, deadline=b.deadline,
        )


def early(r: Replay, ev: DecodedEvent, b: BookingState, what: str, invariant: Invariant) -> None:
    """The timed exit opens when block.timestamp > deadline."""
    ts = ev.block_timestamp
    if ts is not None and ts <= b.deadline:
        _booking_violation(
            r, b, invariant, ev,
            f"booking {short_id(b.booking_id)} {what} at {when(ts)}, before its deadline "
            f"{when(b.deadline)} had passed",
            timestamp=ts, deadline=b.deadline,
        )


def not_before_start(r: Replay, ev: DecodedEvent, b: BookingState) -> None:
    """`complete` only from the slot's start."""
    ts = ev.block_timestamp
    if ts is not None and ts < b.start:
        _booking_violation(
            r, b, Invariant.TRANSITIONS, ev,
            f"booking {short_id(b.booking_id)} completed at {when(ts)}, before its slot "
            f"started at {when(b.start)}",
            timestamp=ts, start=b.start,
        )


def before_start(r: Replay, ev: DecodedEvent, b: BookingState, what: str) -> None:
    """A cancellation or decline of an accepted booking only before the slot's start."""
    ts = ev.block_timestamp
    if ts is not None and ts >= b.start:
        _booking_violation(
            r, b, Invariant.TRANSITIONS, ev,
            f"accepted booking {short_id(b.booking_id)} {what} at {when(ts)}, once its slot "
            f"had started ({when(b.start)})",
            timestamp=ts, start=b.start,
        )


def check_service_by(r: Replay, ev: DecodedEvent, b: BookingState) -> None:
    """serviceBy = start + duration + serviceGrace."""
    if r.windows is None:
        return
    expected = service_by(b.start, b.duration, r.windows.service_grace)
    got = ev.args["serviceBy"]
    if got != expected:
        _booking_violation(
            r, b, Invariant.TRANSITIONS, ev,
            f"booking {short_id(b.booking_id)} accepted with serviceBy {when(got)}, not its "
            f"slot's end plus the service grace ({when(expected)})",
            service_by=got, expected=expected,
        )


def check_window(r: Replay, ev: DecodedEvent, b: BookingState, window: str,
                 deadline: int) -> None:
    """confirmBy = now + confirmWindow; arbitrateBy = now + arbitrationWindow."""
    ts = ev.block_timestamp
    if r.windows is None or ts is None:
        return
    expected = ts + getattr(r.windows, window)
    if deadline != expected:
        _booking_violation(
            r, b, Invariant.TRANSITIONS, ev,
            f"booking {short_id(b.booking_id)}'s new deadline {when(deadline)} is not now plus "
            f"the {window} window ({when(expected)})",
            deadline=deadline, expected=expected,
        )


def lock_after(r: Replay, service_deadline: int) -> int:
    """The stake's lockedUntil an acceptance implies (serviceBy + confirm + arbitration)."""
    if r.windows is None:
        return service_deadline
    return service_deadline + r.windows.confirm + r.windows.arbitration


# ---------------------------------------------------------------- a new booking


def check_request(
    r: Replay, ev: DecodedEvent, b: BookingState, provider: ProviderState | None,
    key: BookingKey,
) -> None:
    """A booking request: its id encodes its customer, listing and slot, the slot is in the
    future and within a year, the id is new, nothing is paused, the currency is enabled, the
    arbiter is the default one, and the fee is the rule's at the rate and minimum fee in force
    (its compliance is `compliance.check_booking`). `key` is the booking id decoded."""
    a = ev.args
    ts = ev.block_timestamp

    def flag(invariant: Invariant, message: str, **details: Any) -> None:
        _booking_violation(r, b, invariant, ev, f"booking {short_id(b.booking_id)} {message}",
                           **details)

    if b.booking_id in r.bookings:
        flag(Invariant.TRANSITIONS, "was requested twice (a booking id is unique)")
    if key.customer != b.customer or key.provider_id != b.provider_id:
        flag(Invariant.TRANSITIONS,
             f"names customer {b.customer} and listing {b.provider_id}, but its id encodes "
             f"customer {key.customer} and listing {key.provider_id}",
             account=b.customer)
    if ts is not None and (problem := slot_problem(ts, key.start, key.duration_minutes)):
        flag(Invariant.TRANSITIONS, f"was accepted by the contract although {problem} "
             f"(booked at {when(ts)} for {when(key.start)})", start=key.start)
    instant = provider is not None and provider.offer.instant
    if ts is not None and instant:
        if b.deadline != ts:
            flag(Invariant.TRANSITIONS, f"of an instant listing must state the booking time "
                 f"{when(ts)} as respondBy, not {when(b.deadline)}", respond_by=b.deadline)
    elif ts is not None and r.windows is not None:
        expected = respond_by(ts, key.start, r.windows.respond)
        if b.deadline != expected:
            flag(Invariant.TRANSITIONS, f"must be answered by {when(b.deadline)}, not "
                 f"min(now + respond window, start) = {when(expected)}",
                 respond_by=b.deadline, expected=expected)
    elif ts is not None and not ts <= b.deadline <= key.start:
        flag(Invariant.TRANSITIONS, f"must be answered by {when(b.deadline)}, outside "
             f"[now, start] = [{when(ts)}, {when(key.start)}]", respond_by=b.deadline)
    if r.paused:
        flag(Invariant.TRANSITIONS, "was made while the marketplace was paused")
    cur = r.currencies.get(b.currency)
    if cur is None or not cur.enabled:
        flag(Invariant.COMPLIANCE, f"is in currency {b.currency}, which was not enabled",
             currency=b.currency)
    if a["arbiterId"] != r.default_arbiter:
        flag(Invariant.ROLES, f"fixed arbiter {a['arbiterId']}, but the default arbiter was "
             f"{r.default_arbiter}", arbiter_id=a["arbiterId"], default=r.default_arbiter)
    fee_bps = r.fee_bps or 0
    min_fee = cur.min_fee if cur is not None else 0
    b.min_fee = min_fee
    if fee_bps > MAX_FEE_BPS:
        flag(Invariant.FEE_CAP, f"was made at a fee rate of {fee_bps} bps, above the "
             f"{MAX_FEE_BPS} bps cap", fee_bps=fee_bps)
    expected_fee = booking_fee(b.price, fee_bps, min_fee)
    if b.fee != expected_fee:
        flag(Invariant.FEE_CAP,
             f"stored a fee of {b.fee}, not max(ceil({b.price} x {fee_bps} / 10,000), minimum "
             f"fee {min_fee}) = {expected_fee}", fee=b.fee, expected_fee=expected_fee,
             fee_bps=fee_bps, min_fee=min_fee)
    if b.fee > b.price:
        flag(Invariant.FEE_CAP, f"has a fee of {b.fee} above its price {b.price}",
             fee=b.fee, price=b.price)


def check_instant(r: Replay, ev: DecodedEvent, b: BookingState) -> None:
    """(After the transaction) a booking of an instant listing was accepted on booking."""
    if not b.accepted:
        _booking_violation(
            r, b, Invariant.TRANSITIONS, ev,
            f"booking {short_id(b.booking_id)} of an instant listing was not accepted in the "
            "transaction that made it",
        )


# ---------------------------------------------------------------- paying a booking out


def paid_without_escrow(r: Replay, ev: DecodedEvent, refund: int, payout: int, fee: int) -> None:
    """A payment for a booking that never escrowed anything."""
    booking_id = ev.args["bookingId"]
    r.violate(
        Invariant.CONSERVATION, ev,
        f"{ev.name} pays out booking {short_id(booking_id)}, which never escrowed anything",
        booking=booking_id, provider=provider_of(booking_id), refund=refund, payout=payout,
        fee=fee,
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
    """A decline or expiry refunds the whole price."""
    if refund != b.price:
        _booking_violation(
            r, b, Invariant.CONSERVATION, ev,
            f"booking {short_id(b.booking_id)} refunded {refund} of its price {b.price}",
            refund=refund, price=b.price,
        )


def check_cancellation(
    r: Replay, ev: DecodedEvent, b: BookingState, previous: int, refund: int, compensation: int
) -> None:
    """refund + compensation == price, split by the terms the booking locked."""
    ts = ev.block_timestamp
    sid = short_id(b.booking_id)
    if refund + compensation != b.price:
        _booking_violation(
            r, b, Invariant.CONSERVATION, ev,
            f"booking {sid} cancelled with refund {refund} + compensation {compensation} != "
            f"price {b.price}", refund=refund, compensation=compensation, price=b.price,
        )
        return
    if previous == ACCEPTED:
        before_start(r, ev, b, "was cancelled")
    if ts is None or previous not in (REQUESTED, ACCEPTED):
        return
    terms = CancelTerms(b.free_cancel_hours, b.late_cancel_pct)
    expected = cancellation_split(b.price, Status(previous), ts, b.start, terms)
    if (refund, compensation) != expected:
        free = previous == REQUESTED or free_cancellation(ts, b.start, b.free_cancel_hours)
        _booking_violation(
            r, b, Invariant.CONSERVATION, ev,
            f"booking {sid} cancelled at {when(ts)} with refund {refund} and compensation "
            f"{compensation}, but its terms ({b.free_cancel_hours} h free, "
            f"{b.late_cancel_pct}% late) give {expected[0]} and {expected[1]}"
            + (" (a free cancellation)" if free else ""),
            refund=refund, compensation=compensation, expected_refund=expected[0],
            expected_compensation=expected[1],
        )


def check_settlement(r: Replay, ev: DecodedEvent, b: BookingState, previous: int) -> None:
    """payout + fee == price, the fee stored at booking, and only the customer settles before
    confirmBy."""
    a = ev.args
    payout, fee, price = a["payout"], a["fee"], b.price
    if payout + fee != price:
        _booking_violation(
            r, b, Invariant.CONSERVATION, ev,
            f"booking {short_id(b.booking_id)} settled with payout {payout} + fee {fee} "
            f"!= price {price}",
            payout=payout, fee=fee, price=price,
        )
    _check_fee(r, ev, b, fee)
    # The customer may confirm until confirmBy and, like anyone, settle after it: both emit
    # BookingSettled with `by` the customer. Anyone else only settles after the window.
    if previous in _SETTLE_FROM and a["by"] != b.customer:
        early(r, ev, b, f"was settled by {a['by']} (not its customer)", Invariant.ROLES)


def _check_fee(r: Replay, ev: DecodedEvent, b: BookingState, fee: int) -> None:
    """The fee taken is the one the booking stored."""
    if fee != b.fee:
        _booking_violation(
            r, b, Invariant.FEE_CAP, ev,
            f"booking {short_id(b.booking_id)} paid a fee of {fee}, not the {b.fee} it "
            "stored at booking",
            fee=fee, expected_fee=b.fee,
        )


def check_resolution(
    r: Replay, ev: DecodedEvent, b: BookingState, previous: int, provider: ProviderState | None,
    by_default: bool,
) -> None:
    """refund + payout + fee == price at the stated refund share; the fixed arbiter, no party,
    resolves in time, or the 50/50 default after it."""
    a = ev.args
    refund_bps, refund, payout, fee = a["refundBps"], a["refund"], a["payout"], a["fee"]
    arbiter, price, sid = a["arbiter"], b.price, short_id(b.booking_id)
    if refund + payout + fee != price:
        _booking_violation(
            r, b, Invariant.CONSERVATION, ev,
            f"booking {sid} resolved with refund {refund} + payout {payout} + fee {fee} "
            f"!= price {price}",
            refund=refund, payout=payout, fee=fee, price=price,
        )
    else:
        stake = provider.stake if provider is not None else 0
        expected = (resolve_by_default(price, b.fee, b.bond) if by_default
                    else resolve_dispute(price, b.fee, refund_bps, b.bond, stake))
        if refund != expected.refund:
            _booking_violation(
                r, b, Invariant.DISPUTES, ev,
                f"booking {sid} refunded {refund}, not (price - fee) x {refund_bps} / 10,000 "
                f"= {expected.refund}",
                refund=refund, refund_bps=refund_bps, expected=expected.refund,
            )
    _check_fee(r, ev, b, fee)
    if previous not in _RESOLVE_FROM:
        return
    if by_default:
        early(r, ev, b, "was resolved by default", Invariant.ROLES)
        if refund_bps != DEFAULT_REFUND_BPS:
            _booking_violation(
                r, b, Invariant.DISPUTES, ev,
                f"booking {sid} was resolved by default with a {refund_bps} bps refund, "
                f"not the default {DEFAULT_REFUND_BPS} bps",
            )
        return
    fixed = r.arbiters.get(b.arbiter_id)
    owner = provider.owner if provider is not None else None
    if fixed is None or fixed[0] != arbiter:
        problem = (f"is not arbiter {b.arbiter_id} ("
                   f"{fixed[0] if fixed else 'never named'}), fixed when it was booked")
    elif not fixed[1]:
        problem = f"was no longer a named arbiter (arbiter {b.arbiter_id} was removed)"
    elif arbiter in (b.customer, owner):
        problem = "is a party to the booking"
    else:
        problem = ""
    if problem:
        _booking_violation(
            r, b, Invariant.ROLES, ev,
            f"booking {sid} was resolved by {arbiter}, who {problem}",
            account=arbiter, arbiter_id=b.arbiter_id,
        )
    late(r, ev, b, "was resolved by its arbiter", Invariant.ROLES)


def check_bond(r: Replay, ev: DecodedEvent, b: BookingState, bond: int) -> None:
    """A dispute costs exactly the bond in force."""
    if bond != r.dispute_bond:
        _booking_violation(
            r, b, Invariant.DISPUTES, ev,
            f"booking {short_id(b.booking_id)} was disputed with a bond of {bond} wei, not "
            f"the {r.dispute_bond} wei in force",
            bond=bond, expected=r.dispute_bond,
        )


def bond_mismatch(r: Replay, ev: DecodedEvent, b: BookingState, bond: int) -> None:
    """The resolution names another bond than the dispute paid."""
    _booking_violation(
        r, b, Invariant.DISPUTES, ev,
        f"booking {short_id(b.booking_id)} resolved stating a bond of {bond} wei, but its "
        f"dispute paid {b.bond} wei",
        bond=bond, paid=b.bond,
    )


def check_flag(r: Replay, ev: DecodedEvent, b: BookingState, arg: str, expected: bool,
               what: str) -> None:
    """An event's flag (afterAcceptance, noShow, providerLost) says what the history says."""
    got = bool(ev.args[arg])
    if got != expected:
        _booking_violation(
            r, b, Invariant.RELIABILITY, ev,
            f"booking {short_id(b.booking_id)}'s {ev.name} says {arg}={got}, but it was "
            f"{'' if expected else 'not '}{what}",
            **{arg: got, "expected": expected},
        )


def _slashes(r: Replay, b: BookingState) -> list[tuple[str, int]]:
    return r.slashes.get(b.booking_id, [])


def check_no_show_slash(
    r: Replay, ev: DecodedEvent, b: BookingState, provider: ProviderState, no_show: bool,
    stake_before: int,
) -> None:
    """(After the transaction) a no-show slashed exactly 10% of the stake to the customer;
    any other expiry slashed nothing."""
    expected = [(b.customer, no_show_slash(stake_before))] if no_show else []
    expected = [(to, amount) for to, amount in expected if amount]
    got = _slashes(r, b)
    if got != expected:
        _booking_violation(
            r, b, Invariant.RELIABILITY, ev,
            f"booking {short_id(b.booking_id)} expired "
            + ("as a no-show" if no_show else "before acceptance")
            + f": the stake slashed {_pairs(got)}, but the rule is "
            + (f"10% of its {stake_before} wei stake to the customer ({_pairs(expected)})"
               if no_show else "no slash"),
            slashed=[list(x) for x in got], expected=[list(x) for x in expected],
        )


def check_arbiter_slash(
    r: Replay, ev: DecodedEvent, b: BookingState, provider: ProviderState, lost: bool,
    stake_before: int,
) -> None:
    """(After the transaction) a provider who lost pays the arbiter min(bond, stake) from its
    stake; otherwise the stake is untouched."""
    arbiter = ev.args["arbiter"]
    bond = ev.args["bond"]
    amount = min(bond, stake_before) if lost else 0
    expected = [(arbiter, amount)] if amount else []
    got = _slashes(r, b)
    if got != expected:
        _booking_violation(
            r, b, Invariant.DISPUTES, ev,
            f"booking {short_id(b.booking_id)}'s resolution slashed {_pairs(got)} from the "
            "stake, but the rule is "
            + (f"min(bond {bond}, stake {stake_before}) to the arbiter ({_pairs(expected)})"
               if lost else "nothing (the provider did not lose)"),
            slashed=[list(x) for x in got], expected=[list(x) for x in expected],
        )


def _pairs(pairs: list[tuple[str, int]]) -> str:
    return ", ".join(f"{amount} wei to {to}" for to, amount in pairs) or "nothing"


def check_loss_weight(r: Replay, ev: DecodedEvent, b: BookingState, lost: bool, stated: int,
                      weight: int) -> None:
    """A lost dispute's one-star rating weighs what the booking's rating would."""
    expected = weight if lost else 0
    if stated != expected and (lost or stated != weight):
        _booking_violation(
            r, b, Invariant.RATINGS, ev,
            f"booking {short_id(b.booking_id)}'s resolution states a weight of {stated}, not "
            f"{expected}" + (" (the booking's rating weight)" if lost else ""),
            weight=stated, expected=expected,
        )


def check_stake_lock(r: Replay, ev: DecodedEvent, b: BookingState,
                     provider: ProviderState) -> None:
    """lockedUntil = max(lockedUntil, serviceBy + confirm + arbitration windows)."""
    stated = ev.args["stakeLockedUntil"]
    service_deadline = ev.args["serviceBy"]
    if r.windows is not None:
        expected = max(provider.locked_until, lock_after(r, service_deadline))
        ok = stated == expected
    else:
        expected = max(provider.locked_until, service_deadline)
        ok = stated >= expected
    if not ok:
        _booking_violation(
            r, b, Invariant.RELIABILITY, ev,
            f"booking {short_id(b.booking_id)}'s acceptance locks listing "
            f"{provider.provider_id}'s stake until {when(stated)}, not "
            f"{when(expected)} (serviceBy + confirm + arbitration windows)",
            stake_locked_until=stated, expected=expected,
        )


def count_reliability(provider: ProviderState, *, failure: bool) -> None:
    """One more outcome in the listing's reliability counters (`domain.count_outcome`)."""
    provider.completed, provider.failures = count_outcome(
        provider.completed, provider.failures, failure=failure
    )


# ---------------------------------------------------------------- ratings


def weight_of(r: Replay, b: BookingState) -> int:
    """The weight of the booking's rating (or lost dispute): its fee over the currency's
    minimum fee in force when the rating is made (docs/contract-v2.md, Deployment notes)."""
    min_fee = r.currency(b.currency).min_fee
    return rating_weight(b.fee, min_fee) if min_fee > 0 else 0


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
            booking=a["bookingId"], provider=provider_of(a["bookingId"]),
            account=customer_of(a["bookingId"]),
        )


def check_weight(r: Replay, ev: DecodedEvent, b: BookingState, weight: int) -> None:
    """The rating weighs min(fee x 1,000 / minFee, 2^40), the minimum fee at booking."""
    expected = weight_of(r, b)
    if weight != expected:
        _booking_violation(
            r, b, Invariant.RATINGS, ev,
            f"booking {short_id(b.booking_id)}'s rating weighs {weight}, not min(fee {b.fee} x "
            f"1,000 / minimum fee {r.currency(b.currency).min_fee}, 2^40) = {expected}",
            weight=weight, expected=expected,
        )


def check_score(r: Replay, ev: DecodedEvent, provider: ProviderState) -> None:
    """The score the event reports is the weighted score of the listing's rating events and
    lost disputes; reported where the aggregate starts to differ, not again for each rating."""
    new_score, expected = ev.args["newScore"], provider.score
    if new_score == expected:
        provider.score_ok = True
        return
    if provider.score_ok:
        r.violate(
            Invariant.RATINGS, ev,
            f"listing {provider.provider_id}'s new score {new_score} differs from "
            f"{expected}, the weighted score of its {provider.rating_count} rating events and "
            f"{provider.disputes_lost} lost disputes (total weight {provider.rating_weight})",
            booking=ev.args["bookingId"], provider=provider.provider_id, reported=new_score,
            expected=expected,
        )
    provider.score_ok = False


# ---------------------------------------------------------------- listings


def check_registration(r: Replay, ev: DecodedEvent) -> None:
    """A listing id is registered once, not while paused, with at least the minimum stake."""
    a = ev.args
    provider_id = a["providerId"]
    if provider_id in r.providers:
        r.violate(
            Invariant.TRANSITIONS, ev, f"listing {provider_id} was registered twice",
            provider=provider_id,
        )
    if r.paused:
        r.violate(
            Invariant.TRANSITIONS, ev,
            f"listing {provider_id} registered while the marketplace was paused",
            provider=provider_id,
        )
    check_listing_price(r, ev, provider_id, a["listing"])


def check_listing_price(r: Replay, ev: DecodedEvent, provider_id: int,
                        listing: dict[str, Any]) -> None:
    """A listing's currency is enabled, its price bears its fee, its terms are possible."""
    currency, price = listing["currency"], listing["price"]
    if listing["lateCancelPct"] > 100:
        r.violate(
            Invariant.CONSERVATION, ev,
            f"listing {provider_id} keeps {listing['lateCancelPct']}% of the price on a late "
            "cancellation, more than 100%",
            provider=provider_id,
        )
    cur = r.currencies.get(currency)
    if cur is None or not cur.enabled:
        r.violate(
            Invariant.COMPLIANCE, ev,
            f"listing {provider_id} prices in currency {currency}, which was not enabled",
            provider=provider_id, currency=currency,
        )
        return
    fee = booking_fee(price, r.fee_bps or 0, cur.min_fee)
    if fee > price:
        r.violate(
            Invariant.FEE_CAP, ev,
            f"listing {provider_id}'s price {price} is below its fee {fee} (minimum fee "
            f"{cur.min_fee})",
            provider=provider_id, price=price, fee=fee,
        )


def check_deactivation(r: Replay, ev: DecodedEvent, p: ProviderState) -> None:
    """Only an active listing deactivates; its stake unlocks at max(lockedUntil, now +
    stakeCooldown)."""
    if not p.active:
        _provider_violation(
            r, p, Invariant.TRANSITIONS, ev,
            f"listing {p.provider_id} deactivated while already inactive",
        )
    ts, unlock = ev.block_timestamp, ev.args["unlockAt"]
    if ts is None:
        return
    floor = max(p.locked_until, ts + (r.windows.stake_cooldown if r.windows else 0))
    if unlock != floor if r.windows is not None else unlock < floor:
        _provider_violation(
            r, p, Invariant.RELIABILITY, ev,
            f"listing {p.provider_id} deactivated with its stake unlocking at {when(unlock)}, "
            f"not max(locked until, now + cooldown) = {when(floor)}",
            unlock_at=unlock, expected=floor,
        )


def check_reactivation(r: Replay, ev: DecodedEvent, p: ProviderState) -> None:
    """Only an inactive listing with the minimum stake reactivates, and not while paused."""
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
            f"listing {p.provider_id} reactivated {problem}",
        )


def check_stake_release(r: Replay, ev: DecodedEvent, p: ProviderState) -> None:
    """The whole stake goes to its owner, once the listing is inactive, the cooldown passed and
    no accepted booking could still slash it (lockedUntil)."""
    amount, owner = ev.args["amount"], ev.args["owner"]
    if amount != p.stake or owner != p.owner:
        _provider_violation(
            r, p, Invariant.SOLVENCY, ev,
            f"listing {p.provider_id} released a stake of {amount} wei to {owner}, but it "
            f"held {p.stake} wei owned by {p.owner}",
            account=owner, amount=amount, stake=p.stake,
        )
    ts = ev.block_timestamp
    until = max(p.stake_unlock_at, p.locked_until)
    if p.active:
        problem = "while it was active"
    elif ts is not None and ts < until:
        problem = (f"at {when(ts)}, before it unlocked at {when(until)} (the cooldown over and "
                   "no accepted booking that can still slash it)")
    else:
        return
    _provider_violation(
        r, p, Invariant.TRANSITIONS, ev, f"listing {p.provider_id}'s stake released {problem}",
    )


# ---------------------------------------------------------------- money


def check_fees_collected(r: Replay, ev: DecodedEvent, currency: int, amount: int) -> None:
    """No more fees collected than accrued in that currency."""
    accrued = r.currency(currency).accrued_fees
    if amount > accrued:
        r.violate(
            Invariant.SOLVENCY, ev,
            f"{amount} of currency {currency} collected as fees, but only {accrued} had accrued",
            account=ev.args["to"], amount=amount, accrued=accrued, currency=currency,
        )


def check_withdrawal(r: Replay, ev: DecodedEvent, account: str, currency: int,
                     amount: int) -> None:
    """A withdrawal pays exactly the account's whole (non-zero) credit in that currency."""
    credit = r.credits.get((account, currency), 0)
    to = ev.args["to"]
    if to in (ZERO_ADDRESS, r.address):
        r.violate(
            Invariant.SOLVENCY, ev,
            f"{account} withdrew {amount} of currency {currency} to {to}, which may not receive "
            "(the zero address or the marketplace itself)",
            account=account, to=to,
        )
    if amount != credit or amount == 0:
        r.violate(
            Invariant.SOLVENCY, ev,
            f"{account} withdrew {amount} of currency {currency}, but its credit was {credit} "
            "(a withdrawal pays exactly the whole credit)",
            account=account, amount=amount, credit=credit, currency=currency,
        )


__all__ = ["ZERO_ADDRESS"]
