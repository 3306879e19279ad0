"""Apply decoded marketplace events to the store's projections: the app's one fold of events.

Every handler reads the rows it needs from the UnitOfWork, changes a copy and puts it back; the
rules mirror the contract (contracts/*.sol) so that the projections equal the contract's state
and, per currency, `escrow + credits + accrued fees (+ stakes + open bonds for ether)` equals the
contract's balance at every block. The contract's pure rules (state after each event, the booking
id's fields, rating weight, score, reliability, the lost-dispute rule) come from
`marketplace.domain`. Everything the web and matching show is read from these projections; to
change what an event does to the app's state, change its handler here (and its table in
`marketplace.store.schema`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from marketplace.chain.logs import DecodedEvent
from marketplace.errors import MarketplaceError
from marketplace.indexer import rules
from marketplace.indexer.state import Row, UnitOfWork
from marketplace.store.schema import LEDGER_DEFAULTS

log = logging.getLogger(__name__)

ETHER = rules.ETHER
SETTINGS_KEY = (1,)
ZERO_ADDRESS = rules.ZERO_ADDRESS

Handler = Callable[[UnitOfWork, DecodedEvent], None]


class ProjectionGap(MarketplaceError):
    """An event refers to a row the store does not have (history indexed from a later block)."""


# ---------------------------------------------------------------- row helpers


def ledger_key(currency: int) -> tuple[int]:
    """The ledger row of a currency."""
    return (currency,)


def _ledger(uow: UnitOfWork, currency: int) -> Row:
    row = uow.get("ledger", ledger_key(currency))
    if row is None:
        return {"currency": currency, **LEDGER_DEFAULTS}
    return dict(row)


def _put_ledger(uow: UnitOfWork, row: Row) -> None:
    uow.put("ledger", ledger_key(row["currency"]), row)


def default_settings() -> Row:
    """The settings row before the first operator event."""
    return {
        "id": 1,
        "owner": None,
        "pending_owner": None,
        "fee_bps": 0,
        "min_stake": 0,
        "dispute_bond": 0,
        "default_arbiter_id": 0,
        "paused": False,
    }


def _settings(uow: UnitOfWork) -> Row:
    row = uow.get("market_settings", SETTINGS_KEY)
    return default_settings() if row is None else dict(row)


def _existing(uow: UnitOfWork, table: str, key: tuple[Any, ...], what: str) -> Row:
    """A row that must exist, to read (`put` a changed copy)."""
    row = uow.get(table, key)
    if row is None:
        raise ProjectionGap(f"{what} {key[0]} is not in the store")
    return row


def _require(uow: UnitOfWork, table: str, key: tuple[Any, ...], what: str) -> Row:
    """A copy of a row that must exist, to change and `put`."""
    return dict(_existing(uow, table, key, what))


def _credit(uow: UnitOfWork, ledger: Row, account: str, amount: int) -> None:
    """`amount` of the ledger's currency to `account`'s withdrawable credit."""
    if amount == 0:
        return
    key = (account, ledger["currency"])
    row = uow.get("balances", key)
    new: Row = {
        "account": account,
        "currency": ledger["currency"],
        "credit": 0,
        "credited_total": 0,
        "withdrawn_total": 0,
    }
    if row is not None:
        new = dict(row)
    new["credit"] += amount
    new["credited_total"] += amount
    uow.put("balances", key, new)
    ledger["credits"] += amount


SIGNAL_FIELDS = (
    "rating_count",
    "rating_sum",
    "disputes_lost",
    "rating_weight",
    "weighted_stars",
    "completed",
    "failures",
    "no_shows",
)
"""A listing's track-record counters; an owner's are the sums over its listings."""


def empty_signals() -> Row:
    """The track record of a new listing or owner."""
    row: Row = {name: 0 for name in SIGNAL_FIELDS}
    row["score"] = rules.score(0, 0)
    row["reliability"] = rules.reliability(0, 0)
    return row


def _empty_owner(owner: str, block: int) -> Row:
    return {
        "owner": owner,
        "listings": 0,
        "active_listings": 0,
        "stake": 0,
        "stake_slashed": 0,
        **empty_signals(),
        "first_block": block,
        "updated_block": block,
    }


def _owner_follows(uow: UnitOfWork, before: Row | None, after: Row, block: int) -> None:
    """Add a listing's change to its owner's aggregate (sums of the listings' signals)."""
    key = (after["owner"],)
    current = uow.get("owners", key)
    owner = dict(current) if current is not None else _empty_owner(after["owner"], block)
    changed = current is None
    if before is None:
        owner["listings"] += 1
        changed = True
    for name in (*SIGNAL_FIELDS, "stake", "stake_slashed"):
        delta = after[name] - (before[name] if before is not None else 0)
        if delta:
            owner[name] += delta
            changed = True
    active_delta = int(after["active"]) - (int(before["active"]) if before is not None else 0)
    if active_delta:
        owner["active_listings"] += active_delta
        changed = True
    if not changed:
        return
    owner["score"] = rules.score(owner["rating_weight"], owner["weighted_stars"])
    owner["reliability"] = rules.reliability(owner["completed"], owner["failures"])
    owner["updated_block"] = block
    uow.put("owners", key, owner)


def _put_provider(
    uow: UnitOfWork,
    ev: DecodedEvent,
    row: Row,
    stars: int | None = None,
    weight: int | None = None,
    history: bool = True,
) -> None:
    """Store a changed listing, add the change to its owner's aggregate and, when `history`,
    record what eligibility and the score see of it in `provider_history`."""
    key = (row["provider_id"],)
    before = uow.get("providers", key)
    row["score"] = rules.score(row["rating_weight"], row["weighted_stars"])
    row["reliability"] = rules.reliability(row["completed"], row["failures"])
    row["updated_block"] = ev.block_number
    uow.put("providers", key, row)
    _owner_follows(uow, before, row, ev.block_number)
    if not history:
        return
    uow.append(
        "provider_history",
        {
            "provider_id": row["provider_id"],
            "block_number": ev.block_number,
            "log_index": ev.log_index,
            "event": ev.name,
            "category": row["category"],
            "region": row["region"],
            "attributes": row["attributes"],
            "currency": row["currency"],
            "price": row["price"],
            "offer_version": row["offer_version"],
            "active": row["active"],
            "rating_weight": row["rating_weight"],
            "weighted_stars": row["weighted_stars"],
            "score": row["score"],
            "completed": row["completed"],
            "failures": row["failures"],
            "reliability": row["reliability"],
            "stars": stars,
            "weight": weight,
        },
    )


def _stake_moved(
    uow: UnitOfWork,
    ev: DecodedEvent,
    provider: Row,
    kind: str,
    amount: int,
    to: str | None = None,
    booking_id: int | None = None,
) -> None:
    uow.append(
        "stake_movements",
        {
            "block_number": ev.block_number,
            "log_index": ev.log_index,
            "provider_id": provider["provider_id"],
            "kind": kind,
            "amount": amount,
            "to": to,
            "booking_id": booking_id,
            "stake_after": provider["stake"],
        },
    )


def _record_outcome(provider: Row, failure: bool) -> None:
    """One reliability outcome (the contract's halving included)."""
    provider["completed"], provider["failures"] = rules.record_outcome(
        provider["completed"], provider["failures"], failure
    )


# ---------------------------------------------------------------- listings


def _listing(args: Mapping[str, Any]) -> Mapping[str, Any]:
    """The ListingInput a listing event carries."""
    listing: Mapping[str, Any] = args["listing"]
    return listing


def _offer_row(ev: DecodedEvent, provider_id: int, listing: Mapping[str, Any], version: int,
               category: int) -> Row:
    return {
        "provider_id": provider_id,
        "offer_version": version,
        "category": category,
        "region": listing["region"],
        "attributes": listing["attributes"],
        "currency": listing["currency"],
        "price": listing["price"],
        "instant": bool(listing["instant"]),
        "free_cancel_hours": listing["freeCancelHours"],
        "late_cancel_pct": listing["lateCancelPct"],
        "metadata_hash": listing["metadataHash"],
        "event": ev.name,
        "block_number": ev.block_number,
        "log_index": ev.log_index,
        "tx_hash": ev.tx_hash,
    }


_OFFER_COLUMNS = (
    "region", "attributes", "currency", "price", "instant", "free_cancel_hours",
    "late_cancel_pct", "metadata_hash", "offer_version",
)


def _provider_registered(uow: UnitOfWork, ev: DecodedEvent) -> None:
    a = ev.args
    listing = _listing(a)
    provider_id = a["providerId"]
    category = a["category"]
    offer = _offer_row(ev, provider_id, listing, a["offerVersion"], category)
    row: Row = {
        "provider_id": provider_id,
        "owner": a["owner"],
        "category": category,
        **{c: offer[c] for c in _OFFER_COLUMNS},
        "active": True,
        "stake": a["stake"],
        "stake_unlock_at": 0,
        "locked_until": 0,
        "stake_topped_up": 0,
        "stake_slashed": 0,
        **empty_signals(),
        "registered_block": ev.block_number,
        "updated_block": ev.block_number,
    }
    _put_provider(uow, ev, row)
    uow.append("offers", offer)
    _stake_moved(uow, ev, row, "register", a["stake"])
    ledger = _ledger(uow, ETHER)
    ledger["stakes"] += a["stake"]
    _put_ledger(uow, ledger)


def _provider_updated(uow: UnitOfWork, ev: DecodedEvent) -> None:
    a = ev.args
    row = _require(uow, "providers", (a["providerId"],), "provider")
    offer = _offer_row(ev, row["provider_id"], _listing(a), a["offerVersion"], row["category"])
    row.update({c: offer[c] for c in _OFFER_COLUMNS})
    _put_provider(uow, ev, row)
    uow.append("offers", offer)


def _provider_change(**fields: Callable[[dict[str, Any]], Any]) -> Handler:
    def handle(uow: UnitOfWork, ev: DecodedEvent) -> None:
        row = _require(uow, "providers", (ev.args["providerId"],), "provider")
        for name, value in fields.items():
            row[name] = value(ev.args)
        _put_provider(uow, ev, row)

    return handle


def _stake_released(uow: UnitOfWork, ev: DecodedEvent) -> None:
    a = ev.args
    row = _require(uow, "providers", (a["providerId"],), "provider")
    row["stake"] -= a["amount"]
    _put_provider(uow, ev, row, history=False)
    _stake_moved(uow, ev, row, "release", a["amount"], a["owner"])
    ledger = _ledger(uow, ETHER)
    ledger["stakes"] -= a["amount"]
    _credit(uow, ledger, a["owner"], a["amount"])
    _put_ledger(uow, ledger)


def _stake_topped_up(uow: UnitOfWork, ev: DecodedEvent) -> None:
    a = ev.args
    row = _require(uow, "providers", (a["providerId"],), "provider")
    row["stake"] = a["stake"]
    row["stake_topped_up"] += a["amount"]
    _put_provider(uow, ev, row, history=False)
    _stake_moved(uow, ev, row, "top_up", a["amount"])
    ledger = _ledger(uow, ETHER)
    ledger["stakes"] += a["amount"]
    _put_ledger(uow, ledger)


def _stake_slashed(uow: UnitOfWork, ev: DecodedEvent) -> None:
    """Part of a stake to a no-show's customer, or to the arbiter of a dispute the provider lost
    (the booking's status tells which)."""
    a = ev.args
    amount, to, booking_id = a["amount"], a["to"], a["bookingId"]
    provider = _require(uow, "providers", (a["providerId"],), "provider")
    provider["stake"] -= amount
    provider["stake_slashed"] += amount
    _put_provider(uow, ev, provider, history=False)
    booking = uow.get("bookings", (booking_id,))
    kind = "slash"
    if booking is not None:
        row = dict(booking)
        if row["status"] in _DISPUTE_STATUSES:
            kind = "arbiter_pay"
            row["arbiter_pay"] = (row["arbiter_pay"] or 0) + amount
        else:
            row["slash"] = (row["slash"] or 0) + amount
        row["updated_block"] = ev.block_number
        uow.put("bookings", (booking_id,), row)
    _stake_moved(uow, ev, provider, kind, amount, to, booking_id)
    ledger = _ledger(uow, ETHER)
    ledger["stakes"] -= amount
    _credit(uow, ledger, to, amount)
    _put_ledger(uow, ledger)


# ---------------------------------------------------------------- attestations


def _attributes_attested(uow: UnitOfWork, ev: DecodedEvent) -> None:
    a = ev.args
    key = (a["providerId"], a["attestorId"])
    if a["attributes"] == 0:  # revoked
        uow.put("attestations", key, None)
        return
    uow.put(
        "attestations",
        key,
        {
            "provider_id": a["providerId"],
            "attestor_id": a["attestorId"],
            "attestor": a["attestor"],
            "attributes": a["attributes"],
            "block_number": ev.block_number,
        },
    )


# ---------------------------------------------------------------- criteria

CRITERIA_FIELDS = (
    ("region", "region"),
    ("currency", "currency"),
    ("min_score", "minScore"),
    ("max_price", "maxPrice"),
    ("premium_per_star", "premiumPerStar"),
    ("required_attributes", "requiredAttributes"),
    ("refused_attributes", "refusedAttributes"),
    ("verified_attributes", "verifiedAttributes"),
    ("trusted_attestors", "trustedAttestors"),
    ("min_rating_weight", "minRatingWeight"),
    ("min_reliability", "minReliability"),
    ("score_weight", "scoreWeight"),
    ("price_weight", "priceWeight"),
)
"""(column, CriteriaInput field) of every criteria value."""


def _empty_criteria(customer: str, category: int) -> Row:
    row: Row = {"customer": customer, "category": category}
    row.update({column: 0 for column, _ in CRITERIA_FIELDS})
    row.update({"version": 0, "blocked_count": 0, "updated_block": 0})
    return row


def _criteria_version(
    ev: DecodedEvent,
    customer: str,
    version: int,
    row: Row | None,
    change: str,
    provider_id: int | None = None,
    owner: str | None = None,
) -> Row:
    """A `criteria_versions` row: the criteria of the category concerned after the change (for an
    owner block, which spans every category, the values are zeros and the category NULL)."""
    values = row if row is not None else _empty_criteria(customer, 0)
    out: Row = {
        "customer": customer,
        "version": version,
        "category": row["category"] if row is not None else None,
        "change": change,
        "provider_id": provider_id,
        "owner": owner,
        "blocked_count": values["blocked_count"],
        "block_number": ev.block_number,
        "log_index": ev.log_index,
        "tx_hash": ev.tx_hash,
    }
    out.update({column: values[column] for column, _ in CRITERIA_FIELDS})
    return out


def _criteria_set(uow: UnitOfWork, ev: DecodedEvent) -> None:
    a = ev.args
    key = (a["customer"], a["category"])
    current = uow.get("criteria", key)
    row = dict(current) if current is not None else _empty_criteria(*key)
    values = a["criteria"]
    for column, name in CRITERIA_FIELDS:
        row[column] = values[name]
    row["version"] = a["version"]
    row["updated_block"] = ev.block_number
    uow.put("criteria", key, row)
    uow.append("criteria_versions", _criteria_version(ev, a["customer"], a["version"], row, "set"))


def _provider_block_changed(uow: UnitOfWork, ev: DecodedEvent) -> None:
    a = ev.args
    key = (a["customer"], a["category"])
    current = uow.get("criteria", key)
    row = dict(current) if current is not None else _empty_criteria(*key)
    row["version"] = a["version"]
    row["blocked_count"] += 1 if a["blocked"] else -1
    row["updated_block"] = ev.block_number
    uow.put("criteria", key, row)
    block_key = (a["customer"], a["providerId"])
    if a["blocked"]:
        uow.put(
            "criteria_blocks",
            block_key,
            {
                "customer": a["customer"],
                "provider_id": a["providerId"],
                "category": a["category"],
                "version": a["version"],
                "block_number": ev.block_number,
            },
        )
    else:
        uow.put("criteria_blocks", block_key, None)
    change = "block" if a["blocked"] else "unblock"
    uow.append(
        "criteria_versions",
        _criteria_version(ev, a["customer"], a["version"], row, change, a["providerId"]),
    )


def _owner_block_changed(uow: UnitOfWork, ev: DecodedEvent) -> None:
    a = ev.args
    key = (a["customer"], a["owner"])
    if a["blocked"]:
        uow.put(
            "owner_blocks",
            key,
            {
                "customer": a["customer"],
                "owner": a["owner"],
                "version": a["version"],
                "block_number": ev.block_number,
            },
        )
    else:
        uow.put("owner_blocks", key, None)
    change = "block_owner" if a["blocked"] else "unblock_owner"
    uow.append(
        "criteria_versions",
        _criteria_version(ev, a["customer"], a["version"], None, change, owner=a["owner"]),
    )


# ---------------------------------------------------------------- bookings


def _arbiter_account(uow: UnitOfWork, arbiter_id: int) -> str | None:
    row = uow.get("arbiters", (arbiter_id,))
    return None if row is None else str(row["arbiter"])


_DISPUTE_STATUSES = frozenset({rules.status_after("BookingDisputed"), rules.status_after(
    "DisputeResolved")})


def _booking_requested(uow: UnitOfWork, ev: DecodedEvent) -> None:
    a = ev.args
    booking_id = a["bookingId"]
    slot = rules.decode_booking_id(booking_id)
    provider = _existing(uow, "providers", (a["providerId"],), "provider")
    if provider["offer_version"] != a["offerVersion"]:  # cannot happen: the contract checks it
        log.warning(
            "booking %s names offer %s of provider %s, whose offer is %s (block %s)",
            booking_id, a["offerVersion"], a["providerId"], provider["offer_version"],
            ev.block_number,
        )
    uow.put(
        "bookings",
        (booking_id,),
        {
            "booking_id": booking_id,
            "customer": a["customer"],
            "provider_id": a["providerId"],
            "owner": provider["owner"],
            "start": slot.start,
            "duration_minutes": slot.duration_minutes,
            "salt": slot.salt,
            "offer_version": a["offerVersion"],
            "criteria_version": a["criteriaVersion"],
            "currency": a["currency"],
            "price": a["price"],
            "fee": a["fee"],
            "arbiter_id": a["arbiterId"],
            "arbiter": _arbiter_account(uow, a["arbiterId"]),
            # the terms the offer had (the contract locks the listing's terms into the booking)
            "instant": provider["instant"],
            "free_cancel_hours": provider["free_cancel_hours"],
            "late_cancel_pct": provider["late_cancel_pct"],
            "status": rules.status_after(ev.name),
            "deadline": a["respondBy"],
            "respond_by": a["respondBy"],
            "service_by": None,
            "confirm_by": None,
            "arbitrate_by": None,
            "requested_block": ev.block_number,
            "requested_at": ev.block_timestamp or 0,
            "updated_block": ev.block_number,
            "refund": None,
            "payout": None,
            "compensation": None,
            "slash": None,
            "bond": None,
            "bond_to": None,
            "arbiter_pay": None,
            "refund_bps": None,
            "by_default": None,
            "failure": False,
            "settled_by": None,
            "rated": False,
            "stars": None,
            "weight": None,
            "complaint_tags": None,
        },
    )
    ledger = _ledger(uow, a["currency"])
    ledger["escrow"] += a["price"]
    ledger["open_bookings"] += 1
    _put_ledger(uow, ledger)


def _booking(uow: UnitOfWork, ev: DecodedEvent) -> Row:
    row = _require(uow, "bookings", (ev.args["bookingId"],), "booking")
    row["updated_block"] = ev.block_number
    return row


def _booking_accepted(uow: UnitOfWork, ev: DecodedEvent) -> None:
    a = ev.args
    row = _booking(uow, ev)
    row.update(status=rules.status_after(ev.name), deadline=a["serviceBy"],
               service_by=a["serviceBy"])
    uow.put("bookings", (row["booking_id"],), row)
    provider = _existing(uow, "providers", (row["provider_id"],), "provider")
    if a["stakeLockedUntil"] != provider["locked_until"]:
        provider = dict(provider)
        provider["locked_until"] = a["stakeLockedUntil"]
        _put_provider(uow, ev, provider, history=False)


def _booking_moved(deadline_arg: str, column: str) -> Handler:
    def handle(uow: UnitOfWork, ev: DecodedEvent) -> None:
        row = _booking(uow, ev)
        row["status"] = rules.status_after(ev.name)
        row["deadline"] = row[column] = ev.args[deadline_arg]
        uow.put("bookings", (row["booking_id"],), row)

    return handle


def _booking_disputed(uow: UnitOfWork, ev: DecodedEvent) -> None:
    a = ev.args
    row = _booking(uow, ev)
    row["status"] = rules.status_after(ev.name)
    row["deadline"] = row["arbitrate_by"] = a["arbitrateBy"]
    row["bond"] = a["bond"]
    uow.put("bookings", (row["booking_id"],), row)
    if a["bond"]:
        ledger = _ledger(uow, ETHER)
        ledger["bonds"] += a["bond"]
        _put_ledger(uow, ledger)


def _close_escrow(uow: UnitOfWork, row: Row, released: int) -> Row:
    ledger = _ledger(uow, row["currency"])
    ledger["escrow"] -= released
    ledger["open_bookings"] -= 1
    return ledger


def _booking_refunded(uow: UnitOfWork, ev: DecodedEvent) -> None:
    """Declined, cancelled or expired: the refund (and a late cancellation's compensation); a
    decline or expiry after acceptance is a reliability failure (an expiry a no-show, whose
    stake slash is its own StakeSlashed event)."""
    a = ev.args
    row = _booking(uow, ev)
    before = row["status"]
    refund = a["refund"]
    compensation = a.get("compensation", 0)
    row["status"] = rules.status_after(ev.name)
    row["refund"] = refund
    if ev.name == "BookingCancelled":
        row["compensation"] = compensation
    failure = rules.is_failure(ev.name, before)
    flag = a.get("afterAcceptance", a.get("noShow"))
    if flag is not None and bool(flag) != failure:
        log.warning(
            "%s of booking %s: the event says %s, the booking was in status %s (block %s)",
            ev.name, row["booking_id"], flag, before, ev.block_number,
        )
        failure = bool(flag)
    row["failure"] = failure
    uow.put("bookings", (row["booking_id"],), row)
    ledger = _close_escrow(uow, row, refund + compensation)
    _credit(uow, ledger, row["customer"], refund)
    _credit(uow, ledger, row["owner"], compensation)
    _put_ledger(uow, ledger)
    if failure:
        provider = _require(uow, "providers", (row["provider_id"],), "provider")
        if ev.name == "BookingExpired":
            provider["no_shows"] += 1
        _record_outcome(provider, failure=True)
        _put_provider(uow, ev, provider)


def _booking_settled(uow: UnitOfWork, ev: DecodedEvent) -> None:
    a = ev.args
    row = _booking(uow, ev)
    row.update(status=rules.status_after(ev.name), payout=a["payout"], settled_by=a["by"])
    row["fee"] = a["fee"]
    uow.put("bookings", (row["booking_id"],), row)
    ledger = _close_escrow(uow, row, a["payout"] + a["fee"])
    ledger["accrued_fees"] += a["fee"]
    _credit(uow, ledger, row["owner"], a["payout"])
    _put_ledger(uow, ledger)
    provider = _require(uow, "providers", (row["provider_id"],), "provider")
    _record_outcome(provider, failure=False)
    _put_provider(uow, ev, provider)


def _dispute_resolved(uow: UnitOfWork, ev: DecodedEvent) -> None:
    """The fee is taken; refund and payout credited; the bond back to the customer (the provider
    lost, or the default split) or to the arbiter. An arbiter's ruling is a completion, a lost
    dispute also a failure and a one-star rating at the booking's weight; the default counts
    nothing. The arbiter's pay from a losing provider's stake is its own StakeSlashed event
    (emitted just before)."""
    a = ev.args
    row = _booking(uow, ev)
    arbiter = a["arbiter"]
    by_default = arbiter == ZERO_ADDRESS
    lost = bool(a["providerLost"])
    if lost != (not by_default and rules.lost_dispute(a["refundBps"])):
        log.warning(
            "dispute of booking %s: providerLost %s but refundBps %s (block %s)",
            row["booking_id"], lost, a["refundBps"], ev.block_number,
        )
    bond = a["bond"]
    bond_to = row["customer"] if by_default or lost else arbiter
    row.update(
        status=rules.status_after(ev.name),
        refund=a["refund"],
        payout=a["payout"],
        fee=a["fee"],
        refund_bps=a["refundBps"],
        by_default=by_default,
        failure=lost,
        bond=bond,
        bond_to=bond_to if bond else None,
    )
    if bond and bond_to == arbiter:
        row["arbiter_pay"] = (row["arbiter_pay"] or 0) + bond
    if lost:  # the ruling is the booking's rating: one star at its weight, and no other
        row.update(weight=a["weight"], rated=True, stars=rules.LOST_DISPUTE_STARS)
    uow.put("bookings", (row["booking_id"],), row)
    ledger = _close_escrow(uow, row, a["refund"] + a["payout"] + a["fee"])
    ledger["accrued_fees"] += a["fee"]
    _credit(uow, ledger, row["customer"], a["refund"])
    _credit(uow, ledger, row["owner"], a["payout"])
    _put_ledger(uow, ledger)
    if bond:
        ether = _ledger(uow, ETHER)
        ether["bonds"] -= bond
        _credit(uow, ether, bond_to, bond)
        _put_ledger(uow, ether)
    if by_default:
        return
    provider = _require(uow, "providers", (row["provider_id"],), "provider")
    provider["completed"], provider["failures"] = rules.record_resolution(
        provider["completed"], provider["failures"], lost
    )
    if not lost:
        _put_provider(uow, ev, provider)
        return
    weight = a["weight"]
    provider["disputes_lost"] += 1
    provider["rating_weight"] += weight
    provider["weighted_stars"] += rules.LOST_DISPUTE_STARS * weight
    _put_provider(uow, ev, provider, stars=rules.LOST_DISPUTE_STARS, weight=weight)


def _booking_rated(uow: UnitOfWork, ev: DecodedEvent) -> None:
    a = ev.args
    row = _booking(uow, ev)
    weight = a["weight"]
    row.update(rated=True, stars=a["stars"], complaint_tags=a["complaintTags"], weight=weight)
    uow.put("bookings", (row["booking_id"],), row)
    provider = _require(uow, "providers", (row["provider_id"],), "provider")
    provider["rating_count"] += 1
    provider["rating_sum"] += a["stars"]
    provider["rating_weight"] += weight
    provider["weighted_stars"] += a["stars"] * weight
    _put_provider(uow, ev, provider, a["stars"], weight)
    if provider["score"] != a["newScore"]:
        log.warning(
            "provider %s: computed score %s differs from the event's %s (block %s)",
            row["provider_id"], provider["score"], a["newScore"], ev.block_number,
        )


# ---------------------------------------------------------------- operator, registries, money


def _ownership_started(uow: UnitOfWork, ev: DecodedEvent) -> None:
    row = _settings(uow)
    row["pending_owner"] = ev.args["newOwner"]
    uow.put("market_settings", SETTINGS_KEY, row)


def _ownership_transferred(uow: UnitOfWork, ev: DecodedEvent) -> None:
    row = _settings(uow)
    row["owner"] = ev.args["newOwner"]
    row["pending_owner"] = None
    uow.put("market_settings", SETTINGS_KEY, row)


def _pause_changed(uow: UnitOfWork, ev: DecodedEvent) -> None:
    row = _settings(uow)
    row["paused"] = ev.args["paused"]
    uow.put("market_settings", SETTINGS_KEY, row)


def _change_key(a: Mapping[str, Any]) -> tuple[int, str, int]:
    return (a["kind"], a["account"], a["value"])


def _change_scheduled(uow: UnitOfWork, ev: DecodedEvent) -> None:
    a = ev.args
    key = _change_key(a)
    uow.put(
        "operator_changes",
        key,
        {
            "kind": key[0],
            "account": key[1],
            "value": key[2],
            "status": "scheduled",
            "eta": a["eta"],
            "scheduled_block": ev.block_number,
            "done_block": None,
        },
    )


def _change_done(status: str) -> Handler:
    def handle(uow: UnitOfWork, ev: DecodedEvent) -> None:
        a = ev.args
        key = _change_key(a)
        current = uow.get("operator_changes", key)
        row: Row
        if current is None:  # the constructor's setup applies without a schedule
            row = {
                "kind": key[0],
                "account": key[1],
                "value": key[2],
                "status": status,
                "eta": ev.block_timestamp or 0,
                "scheduled_block": ev.block_number,
                "done_block": ev.block_number,
            }
        else:
            row = dict(current)
            row.update(status=status, done_block=ev.block_number)
        uow.put("operator_changes", key, row)
        if status == "applied":
            _apply_setting(uow, ev, *key)

    return handle


def _apply_setting(uow: UnitOfWork, ev: DecodedEvent, kind: int, account: str, value: int) -> None:
    """What an applied change does to the settings (naming arbiters, attestors and currencies is
    projected from their own events)."""
    name = rules.change_kind_name(kind)
    if name == "MIN_FEE":
        _set_min_fee(uow, ev, account, value)
        return
    settings = _settings(uow)
    if name == "FEE_RATE":
        settings["fee_bps"] = value
    elif name == "MIN_STAKE":
        settings["min_stake"] = value
    elif name == "DISPUTE_BOND":
        settings["dispute_bond"] = value
    elif name == "DEFAULT_ARBITER":
        found = uow.lookup("arbiters", "arbiter", account, "arbiter_id")
        settings["default_arbiter_id"] = 0 if account == ZERO_ADDRESS or found is None else found
    else:
        return
    uow.put("market_settings", SETTINGS_KEY, settings)


def _set_min_fee(uow: UnitOfWork, ev: DecodedEvent, token: str, value: int) -> None:
    """A token's minimum fee (the zero address: ether's), kept by token because it is set before
    the token's currency id exists; copied to the currency's row when there is one."""
    uow.put("min_fees", (token,), {"token": token, "min_fee": value,
                                   "updated_block": ev.block_number})
    currency = ETHER if token == ZERO_ADDRESS else uow.lookup(
        "currencies", "token", token, "currency")
    if currency is None:
        return
    current = uow.get("currencies", (currency,))
    row = dict(current) if current is not None else _new_currency(uow, ev, currency, token, True)
    row.update(min_fee=value, updated_block=ev.block_number)
    uow.put("currencies", (currency,), row)


def _new_currency(
    uow: UnitOfWork, ev: DecodedEvent, currency: int, token: str, enabled: bool
) -> Row:
    known = rules.known_currency(currency) or uow.tokens.get(token)
    return {
        "currency": currency,
        "token": token,
        "enabled": enabled,
        "min_fee": 0,
        "symbol": known[0] if known else None,
        "decimals": known[1] if known else None,
        "updated_block": ev.block_number,
    }


def _named(table: str, id_column: str, account_column: str) -> Handler:
    def handle(uow: UnitOfWork, ev: DecodedEvent) -> None:
        a = ev.args
        uow.put(
            table,
            (a["id"],),
            {
                id_column: a["id"],
                account_column: a["account"],
                "allowed": a["allowed"],
                "updated_block": ev.block_number,
            },
        )

    return handle


def _currency_set(uow: UnitOfWork, ev: DecodedEvent) -> None:
    a = ev.args
    key = (a["id"],)
    current = uow.get("currencies", key)
    if current is None:
        row = _new_currency(uow, ev, a["id"], a["token"], a["enabled"])
        fee = uow.get("min_fees", (a["token"],))
        if fee is not None:
            row["min_fee"] = fee["min_fee"]
    else:
        row = dict(current)
        row.update(enabled=a["enabled"], updated_block=ev.block_number)
    uow.put("currencies", key, row)


def _fees_collected(uow: UnitOfWork, ev: DecodedEvent) -> None:
    a = ev.args
    ledger = _ledger(uow, a["currency"])
    ledger["accrued_fees"] -= a["amount"]
    ledger["fees_collected_total"] += a["amount"]
    _credit(uow, ledger, a["to"], a["amount"])
    _put_ledger(uow, ledger)


def _withdrawn(uow: UnitOfWork, ev: DecodedEvent) -> None:
    a = ev.args
    key = (a["account"], a["currency"])
    row = _require(uow, "balances", key, "balance of")
    row["credit"] -= a["amount"]
    row["withdrawn_total"] += a["amount"]
    uow.put("balances", key, row)
    ledger = _ledger(uow, a["currency"])
    ledger["credits"] -= a["amount"]
    ledger["withdrawn_total"] += a["amount"]
    _put_ledger(uow, ledger)


def _deactivated(uow: UnitOfWork, ev: DecodedEvent) -> None:
    """Inactive; the stake is locked until `unlockAt` (the later of the cooldown's end and the
    lock of its acceptances)."""
    row = _require(uow, "providers", (ev.args["providerId"],), "provider")
    row["active"] = False
    row["stake_unlock_at"] = ev.args["unlockAt"]
    row["locked_until"] = max(row["locked_until"], ev.args["unlockAt"])
    _put_provider(uow, ev, row)


_reactivated = _provider_change(active=lambda a: True, stake_unlock_at=lambda a: 0)

HANDLERS: dict[str, Handler] = {
    "ListingRegistered": _provider_registered,
    "ListingUpdated": _provider_updated,
    "ListingDeactivated": _deactivated,
    "ListingReactivated": _reactivated,
    "StakeReleased": _stake_released,
    "StakeToppedUp": _stake_topped_up,
    "StakeSlashed": _stake_slashed,
    "AttributesAttested": _attributes_attested,
    "CriteriaSet": _criteria_set,
    "ProviderBlockChanged": _provider_block_changed,
    "OwnerBlockChanged": _owner_block_changed,
    "BookingRequested": _booking_requested,
    "BookingAccepted": _booking_accepted,
    "BookingCompleted": _booking_moved("confirmBy", "confirm_by"),
    "BookingDisputed": _booking_disputed,
    "BookingDeclined": _booking_refunded,
    "BookingCancelled": _booking_refunded,
    "BookingExpired": _booking_refunded,
    "BookingSettled": _booking_settled,
    "DisputeResolved": _dispute_resolved,
    "BookingRated": _booking_rated,
    "PauseChanged": _pause_changed,
    "ChangeScheduled": _change_scheduled,
    "ChangeApplied": _change_done("applied"),
    "ChangeCancelled": _change_done("cancelled"),
    "ArbiterSet": _named("arbiters", "arbiter_id", "arbiter"),
    "AttestorSet": _named("attestors", "attestor_id", "attestor"),
    "CurrencySet": _currency_set,
    "FeesCollected": _fees_collected,
    "Withdrawn": _withdrawn,
    "OwnershipTransferStarted": _ownership_started,
    "OwnershipTransferred": _ownership_transferred,
}
"""The projection of each event of the v2 ABI, by event name."""
