"""Apply decoded marketplace events to the store's projections: the app's one fold of events.

Every handler reads the rows it needs from the UnitOfWork, changes a copy and puts it back; the
rules mirror the contract (contracts/*.sol) so that the projections equal the contract's state
and `escrow + credits + accrued fees + stakes` equals the contract's balance at every block.
The contract's pure rules (state after each event, the score, the lost-dispute rule) come from
`marketplace.domain`. Everything the web and matching show is read from these projections; to
change what an event does to the app's state, change its handler here (and its table in
`marketplace.store.schema`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from marketplace.chain.logs import DecodedEvent
from marketplace.domain import (
    LOST_DISPUTE_STARS,
    STATUS_AFTER,
    UINT64_MAX,
    bayesian_score,
    lost_dispute,
)
from marketplace.errors import MarketplaceError
from marketplace.indexer.state import Row, UnitOfWork
from marketplace.store.schema import LEDGER_DEFAULTS

log = logging.getLogger(__name__)

LEDGER_KEY = (1,)
SETTINGS_KEY = (1,)
_STATUS_AFTER = {name: int(status) for name, status in STATUS_AFTER.items()}


Handler = Callable[[UnitOfWork, DecodedEvent], None]


class ProjectionGap(MarketplaceError):
    """An event refers to a row the store does not have (history indexed from a later block)."""


# ---------------------------------------------------------------- row helpers


def _ledger(uow: UnitOfWork) -> Row:
    row = uow.get("ledger", LEDGER_KEY)
    if row is None:
        return {"id": 1, **LEDGER_DEFAULTS}
    return dict(row)


def _settings(uow: UnitOfWork) -> Row:
    row = uow.get("market_settings", SETTINGS_KEY)
    if row is None:
        return {
            "id": 1,
            "owner": None,
            "pending_owner": None,
            "fee_bps": 0,
            "min_stake": 0,
            "paused": False,
        }
    return dict(row)


def _require(uow: UnitOfWork, table: str, key: tuple[Any, ...], what: str) -> Row:
    row = uow.get(table, key)
    if row is None:
        raise ProjectionGap(f"{what} {key[0]} is not in the store")
    return dict(row)


def _credit(uow: UnitOfWork, ledger: Row, account: str, amount: int) -> None:
    if amount == 0:
        return
    key = (account,)
    row = uow.get("balances", key)
    new: Row = {"account": account, "credit": 0, "credited_total": 0, "withdrawn_total": 0}
    if row is not None:
        new = dict(row)
    new["credit"] += amount
    new["credited_total"] += amount
    uow.put("balances", key, new)
    ledger["credits"] += amount


def _add_score(provider: Row, stars: int) -> None:
    provider["score_count"] += 1
    provider["score_sum"] += stars
    provider["score"] = bayesian_score(provider["score_count"], provider["score_sum"])


def _put_provider(uow: UnitOfWork, ev: DecodedEvent, row: Row, stars: int | None = None) -> None:
    """Store a changed provider, and what eligibility and the score see of it in its history."""
    uow.put("providers", (row["provider_id"],), row)
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
            "price": row["price"],
            "active": row["active"],
            "score_count": row["score_count"],
            "score_sum": row["score_sum"],
            "score": row["score"],
            "stars": stars,
        },
    )


def _owner_of(uow: UnitOfWork, provider_id: int) -> str:
    return str(_require(uow, "providers", (provider_id,), "provider")["owner"])


# ---------------------------------------------------------------- providers


def _provider_registered(uow: UnitOfWork, ev: DecodedEvent) -> None:
    a = ev.args
    _put_provider(
        uow,
        ev,
        {
            "provider_id": a["providerId"],
            "owner": a["owner"],
            "category": a["category"],
            "region": a["region"],
            "attributes": a["attributes"],
            "price": a["price"],
            "stake": a["stake"],
            "metadata_hash": a["metadataHash"],
            "active": True,
            "stake_unlock_at": 0,
            "score_count": 0,
            "score_sum": 0,
            "rating_count": 0,
            "rating_sum": 0,
            "disputes_lost": 0,
            "score": bayesian_score(0, 0),
            "registered_block": ev.block_number,
            "updated_block": ev.block_number,
        },
    )
    ledger = _ledger(uow)
    ledger["stakes"] += a["stake"]
    uow.put("ledger", LEDGER_KEY, ledger)



def _provider_change(**fields: Callable[[dict[str, Any]], Any]) -> Handler:
    def handle(uow: UnitOfWork, ev: DecodedEvent) -> None:
        row = _require(uow, "providers", (ev.args["providerId"],), "provider")
        for name, value in fields.items():
            row[name] = value(ev.args)
        row["updated_block"] = ev.block_number
        _put_provider(uow, ev, row)

    return handle


def _stake_released(uow: UnitOfWork, ev: DecodedEvent) -> None:
    a = ev.args
    key = (a["providerId"],)
    row = _require(uow, "providers", key, "provider")
    row["stake"] -= a["amount"]
    row["updated_block"] = ev.block_number
    uow.put("providers", key, row)
    ledger = _ledger(uow)
    ledger["stakes"] -= a["amount"]
    _credit(uow, ledger, a["owner"], a["amount"])
    uow.put("ledger", LEDGER_KEY, ledger)


# ---------------------------------------------------------------- criteria

_CRITERIA_FIELDS = (
    ("region", "region"),
    ("min_score", "minScore"),
    ("max_price", "maxPrice"),
    ("premium_per_star", "premiumPerStar"),
    ("required_attributes", "requiredAttributes"),
    ("refused_attributes", "refusedAttributes"),
    ("score_weight", "scoreWeight"),
    ("price_weight", "priceWeight"),
)


def _empty_criteria(customer: str, category: int) -> Row:
    row: Row = {"customer": customer, "category": category}
    row.update({column: 0 for column, _ in _CRITERIA_FIELDS})
    row.update({"version": 0, "blocked_count": 0, "updated_block": 0})
    return row


def _criteria_version(ev: DecodedEvent, row: Row, change: str, provider_id: int | None) -> Row:
    version: Row = {
        "customer": row["customer"],
        "version": row["version"],
        "category": row["category"],
        "change": change,
        "provider_id": provider_id,
        "blocked_count": row["blocked_count"],
        "block_number": ev.block_number,
        "log_index": ev.log_index,
        "tx_hash": ev.tx_hash,
    }
    version.update({column: row[column] for column, _ in _CRITERIA_FIELDS})
    return version


def _criteria_set(uow: UnitOfWork, ev: DecodedEvent) -> None:
    a = ev.args
    key = (a["customer"], a["category"])
    current = uow.get("criteria", key)
    row = dict(current) if current is not None else _empty_criteria(*key)
    values = a["criteria"]
    for column, name in _CRITERIA_FIELDS:
        row[column] = values[name]
    row["version"] = a["version"]
    row["updated_block"] = ev.block_number
    uow.put("criteria", key, row)
    uow.append("criteria_versions", _criteria_version(ev, row, "set", None))


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
    uow.append("criteria_versions", _criteria_version(ev, row, change, a["providerId"]))


# ---------------------------------------------------------------- bookings


def _booking_requested(uow: UnitOfWork, ev: DecodedEvent) -> None:
    a = ev.args
    uow.put(
        "bookings",
        (a["bookingId"],),
        {
            "booking_id": a["bookingId"],
            "customer": a["customer"],
            "seq": a["bookingId"] & UINT64_MAX,
            "provider_id": a["providerId"],
            "price": a["price"],
            "fee_bps": a["feeBps"],
            "criteria_version": a["criteriaVersion"],
            "status": _STATUS_AFTER["BookingRequested"],
            "deadline": a["respondBy"],
            "requested_block": ev.block_number,
            "requested_at": ev.block_timestamp or 0,
            "updated_block": ev.block_number,
            "refund": None,
            "payout": None,
            "fee": None,
            "refund_bps": None,
            "arbiter": None,
            "settled_by": None,
            "rated": False,
            "stars": None,
            "complaint_tags": None,
        },
    )
    ledger = _ledger(uow)
    ledger["escrow"] += a["price"]
    ledger["open_bookings"] += 1
    uow.put("ledger", LEDGER_KEY, ledger)


def _booking(uow: UnitOfWork, ev: DecodedEvent) -> Row:
    row = _require(uow, "bookings", (ev.args["bookingId"],), "booking")
    row["updated_block"] = ev.block_number
    return row


def _booking_moved(deadline_arg: str) -> Handler:
    def handle(uow: UnitOfWork, ev: DecodedEvent) -> None:
        row = _booking(uow, ev)
        row["status"] = _STATUS_AFTER[ev.name]
        row["deadline"] = ev.args[deadline_arg]
        uow.put("bookings", (row["booking_id"],), row)

    return handle


def _booking_refunded(uow: UnitOfWork, ev: DecodedEvent) -> None:
    row = _booking(uow, ev)
    refund = ev.args["refund"]
    row["status"] = _STATUS_AFTER[ev.name]
    row["refund"] = refund
    uow.put("bookings", (row["booking_id"],), row)
    ledger = _ledger(uow)
    ledger["escrow"] -= refund
    ledger["open_bookings"] -= 1
    _credit(uow, ledger, ev.args["customer"], refund)
    uow.put("ledger", LEDGER_KEY, ledger)


def _booking_settled(uow: UnitOfWork, ev: DecodedEvent) -> None:
    a = ev.args
    row = _booking(uow, ev)
    row.update(status=_STATUS_AFTER[ev.name], payout=a["payout"], fee=a["fee"], settled_by=a["by"])
    uow.put("bookings", (row["booking_id"],), row)
    ledger = _ledger(uow)
    ledger["escrow"] -= a["payout"] + a["fee"]
    ledger["open_bookings"] -= 1
    ledger["accrued_fees"] += a["fee"]
    _credit(uow, ledger, _owner_of(uow, a["providerId"]), a["payout"])
    uow.put("ledger", LEDGER_KEY, ledger)


def _dispute_resolved(uow: UnitOfWork, ev: DecodedEvent) -> None:
    a = ev.args
    row = _booking(uow, ev)
    row.update(
        status=_STATUS_AFTER[ev.name],
        refund=a["refund"],
        payout=a["payout"],
        fee=a["fee"],
        refund_bps=a["refundBps"],
        arbiter=a["arbiter"],
    )
    uow.put("bookings", (row["booking_id"],), row)
    ledger = _ledger(uow)
    ledger["escrow"] -= a["refund"] + a["payout"] + a["fee"]
    ledger["open_bookings"] -= 1
    ledger["accrued_fees"] += a["fee"]
    _credit(uow, ledger, a["customer"], a["refund"])
    _credit(uow, ledger, _owner_of(uow, a["providerId"]), a["payout"])
    uow.put("ledger", LEDGER_KEY, ledger)
    if lost_dispute(a["refundBps"]):  # counts as a one-star rating
        provider = _require(uow, "providers", (a["providerId"],), "provider")
        provider["disputes_lost"] += 1
        _add_score(provider, LOST_DISPUTE_STARS)
        provider["updated_block"] = ev.block_number
        _put_provider(uow, ev, provider)


def _booking_rated(uow: UnitOfWork, ev: DecodedEvent) -> None:
    a = ev.args
    row = _booking(uow, ev)
    row.update(rated=True, stars=a["stars"], complaint_tags=a["complaintTags"])
    uow.put("bookings", (row["booking_id"],), row)
    provider = _require(uow, "providers", (a["providerId"],), "provider")
    provider["rating_count"] += 1
    provider["rating_sum"] += a["stars"]
    _add_score(provider, a["stars"])
    provider["updated_block"] = ev.block_number
    if provider["score"] != a["newScore"]:
        log.warning(
            "provider %s: computed score %s differs from the event's %s (block %s)",
            a["providerId"], provider["score"], a["newScore"], ev.block_number,
        )
    _put_provider(uow, ev, provider, a["stars"])


# ---------------------------------------------------------------- operator and money


def _settings_change(column: str, arg: str) -> Handler:
    def handle(uow: UnitOfWork, ev: DecodedEvent) -> None:
        row = _settings(uow)
        row[column] = ev.args[arg]
        uow.put("market_settings", SETTINGS_KEY, row)

    return handle


def _ownership_started(uow: UnitOfWork, ev: DecodedEvent) -> None:
    row = _settings(uow)
    row["pending_owner"] = ev.args["newOwner"]
    uow.put("market_settings", SETTINGS_KEY, row)


def _ownership_transferred(uow: UnitOfWork, ev: DecodedEvent) -> None:
    row = _settings(uow)
    row["owner"] = ev.args["newOwner"]
    row["pending_owner"] = None
    uow.put("market_settings", SETTINGS_KEY, row)


def _arbiter_changed(uow: UnitOfWork, ev: DecodedEvent) -> None:
    a = ev.args
    uow.put(
        "arbiters",
        (a["arbiter"],),
        {"arbiter": a["arbiter"], "allowed": a["allowed"], "updated_block": ev.block_number},
    )


def _fees_collected(uow: UnitOfWork, ev: DecodedEvent) -> None:
    a = ev.args
    ledger = _ledger(uow)
    ledger["accrued_fees"] -= a["amount"]
    ledger["fees_collected_total"] += a["amount"]
    _credit(uow, ledger, a["to"], a["amount"])
    uow.put("ledger", LEDGER_KEY, ledger)


def _withdrawn(uow: UnitOfWork, ev: DecodedEvent) -> None:
    a = ev.args
    key = (a["account"],)
    row = _require(uow, "balances", key, "balance of")
    row["credit"] -= a["amount"]
    row["withdrawn_total"] += a["amount"]
    uow.put("balances", key, row)
    ledger = _ledger(uow)
    ledger["credits"] -= a["amount"]
    ledger["withdrawn_total"] += a["amount"]
    uow.put("ledger", LEDGER_KEY, ledger)


HANDLERS: dict[str, Handler] = {
    "ProviderRegistered": _provider_registered,
    "ProviderUpdated": _provider_change(
        region=lambda a: a["region"],
        attributes=lambda a: a["attributes"],
        price=lambda a: a["price"],
        metadata_hash=lambda a: a["metadataHash"],
    ),
    "ProviderDeactivated": _provider_change(
        active=lambda a: False, stake_unlock_at=lambda a: a["stakeUnlockAt"]
    ),
    "ProviderReactivated": _provider_change(active=lambda a: True, stake_unlock_at=lambda a: 0),
    "StakeReleased": _stake_released,
    "CriteriaSet": _criteria_set,
    "ProviderBlockChanged": _provider_block_changed,
    "BookingRequested": _booking_requested,
    "BookingAccepted": _booking_moved("serviceBy"),
    "BookingCompleted": _booking_moved("confirmBy"),
    "BookingDisputed": _booking_moved("arbitrateBy"),
    "BookingDeclined": _booking_refunded,
    "BookingCancelled": _booking_refunded,
    "BookingExpired": _booking_refunded,
    "BookingSettled": _booking_settled,
    "DisputeResolved": _dispute_resolved,
    "BookingRated": _booking_rated,
    "FeeRateChanged": _settings_change("fee_bps", "newFeeBps"),
    "MinStakeChanged": _settings_change("min_stake", "newMinStake"),
    "PauseChanged": _settings_change("paused", "paused"),
    "ArbiterChanged": _arbiter_changed,
    "FeesCollected": _fees_collected,
    "Withdrawn": _withdrawn,
    "OwnershipTransferStarted": _ownership_started,
    "OwnershipTransferred": _ownership_transferred,
}
