"""Apply decoded marketplace events to the store's projections.

Every handler reads the rows it needs from the UnitOfWork, changes a copy and puts it back; the
rules mirror the contract (contracts/*.sol) so that the projections equal the contract's state
and `escrow + credits + accrued fees + stakes` equals the contract's balance at every block.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from marketplace.chain.logs import DecodedEvent, SkippedLog
from marketplace.domain import DEFAULT_REFUND_BPS, PRIOR_COUNT, PRIOR_MEAN, STAR, Status
from marketplace.errors import MarketplaceError
from marketplace.indexer.state import Row, UnitOfWork

log = logging.getLogger(__name__)

_encode_json = json.JSONEncoder(separators=(",", ":")).encode
LEDGER_KEY = (1,)
SETTINGS_KEY = (1,)
_SEQ_MASK = (1 << 64) - 1
_ACCOUNT_ARGS = ("customer", "owner", "account", "to", "arbiter", "newOwner", "by")


class ProjectionGap(MarketplaceError):
    """An event refers to a row the store does not have (history indexed from a later block)."""


@dataclass
class ApplyStats:
    """What one batch did to the projections."""

    events: int = 0
    gaps: int = 0
    by_name: dict[str, int] = field(default_factory=dict)


# ---------------------------------------------------------------- row helpers


def bayesian_score(count: int, sum_stars: int) -> int:
    """`Score.bayesian` of the contract (restated here: the indexer sits below matching)."""
    return (PRIOR_COUNT * PRIOR_MEAN + STAR * sum_stars) // (PRIOR_COUNT + count)


def _ledger(uow: UnitOfWork) -> Row:
    row = uow.get("ledger", LEDGER_KEY)
    if row is None:
        return {
            "id": 1,
            "escrow": 0,
            "credits": 0,
            "accrued_fees": 0,
            "stakes": 0,
            "fees_collected_total": 0,
            "withdrawn_total": 0,
            "open_bookings": 0,
        }
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


def _owner_of(uow: UnitOfWork, provider_id: int) -> str:
    return str(_require(uow, "providers", (provider_id,), "provider")["owner"])


# ---------------------------------------------------------------- providers


def _provider_registered(uow: UnitOfWork, ev: DecodedEvent) -> None:
    a = ev.args
    uow.put(
        "providers",
        (a["providerId"],),
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


Handler = Callable[[UnitOfWork, DecodedEvent], None]


def _provider_change(**fields: Callable[[dict[str, Any]], Any]) -> Handler:
    def handle(uow: UnitOfWork, ev: DecodedEvent) -> None:
        key = (ev.args["providerId"],)
        row = _require(uow, "providers", key, "provider")
        for name, value in fields.items():
            row[name] = value(ev.args)
        row["updated_block"] = ev.block_number
        uow.put("providers", key, row)

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
            "seq": a["bookingId"] & _SEQ_MASK,
            "provider_id": a["providerId"],
            "price": a["price"],
            "fee_bps": a["feeBps"],
            "criteria_version": a["criteriaVersion"],
            "status": int(Status.REQUESTED),
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


def _booking_moved(status: Status, deadline_arg: str) -> Callable[[UnitOfWork, DecodedEvent], None]:
    def handle(uow: UnitOfWork, ev: DecodedEvent) -> None:
        row = _booking(uow, ev)
        row["status"] = int(status)
        row["deadline"] = ev.args[deadline_arg]
        uow.put("bookings", (row["booking_id"],), row)

    return handle


def _booking_refunded(status: Status) -> Callable[[UnitOfWork, DecodedEvent], None]:
    def handle(uow: UnitOfWork, ev: DecodedEvent) -> None:
        row = _booking(uow, ev)
        refund = ev.args["refund"]
        row["status"] = int(status)
        row["refund"] = refund
        uow.put("bookings", (row["booking_id"],), row)
        ledger = _ledger(uow)
        ledger["escrow"] -= refund
        ledger["open_bookings"] -= 1
        _credit(uow, ledger, ev.args["customer"], refund)
        uow.put("ledger", LEDGER_KEY, ledger)

    return handle


def _booking_settled(uow: UnitOfWork, ev: DecodedEvent) -> None:
    a = ev.args
    row = _booking(uow, ev)
    row.update(status=int(Status.SETTLED), payout=a["payout"], fee=a["fee"], settled_by=a["by"])
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
        status=int(Status.RESOLVED),
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
    if a["refundBps"] > DEFAULT_REFUND_BPS:  # the provider lost: counts as a one-star rating
        key = (a["providerId"],)
        provider = _require(uow, "providers", key, "provider")
        provider["disputes_lost"] += 1
        _add_score(provider, 1)
        provider["updated_block"] = ev.block_number
        uow.put("providers", key, provider)


def _booking_rated(uow: UnitOfWork, ev: DecodedEvent) -> None:
    a = ev.args
    row = _booking(uow, ev)
    row.update(rated=True, stars=a["stars"], complaint_tags=a["complaintTags"])
    uow.put("bookings", (row["booking_id"],), row)
    key = (a["providerId"],)
    provider = _require(uow, "providers", key, "provider")
    provider["rating_count"] += 1
    provider["rating_sum"] += a["stars"]
    _add_score(provider, a["stars"])
    provider["updated_block"] = ev.block_number
    if provider["score"] != a["newScore"]:
        log.warning(
            "provider %s: computed score %s differs from the event's %s (block %s)",
            a["providerId"], provider["score"], a["newScore"], ev.block_number,
        )
    uow.put("providers", key, provider)


# ---------------------------------------------------------------- operator and money


def _settings_change(column: str, arg: str) -> Callable[[UnitOfWork, DecodedEvent], None]:
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


HANDLERS: dict[str, Callable[[UnitOfWork, DecodedEvent], None]] = {
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
    "BookingAccepted": _booking_moved(Status.ACCEPTED, "serviceBy"),
    "BookingCompleted": _booking_moved(Status.COMPLETED, "confirmBy"),
    "BookingDisputed": _booking_moved(Status.DISPUTED, "arbitrateBy"),
    "BookingDeclined": _booking_refunded(Status.DECLINED),
    "BookingCancelled": _booking_refunded(Status.CANCELLED),
    "BookingExpired": _booking_refunded(Status.EXPIRED),
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


# ---------------------------------------------------------------- batch application


def _preload(uow: UnitOfWork, events: Sequence[DecodedEvent]) -> None:
    """Read every row the batch will touch with one query per table."""
    provider_ids: set[tuple[Any, ...]] = set()
    booking_ids: set[tuple[Any, ...]] = set()
    criteria_keys: set[tuple[Any, ...]] = set()
    block_keys: set[tuple[Any, ...]] = set()
    arbiter_keys: set[tuple[Any, ...]] = set()
    accounts: set[tuple[Any, ...]] = set()
    owners_needed: set[int] = set()
    registered: dict[int, str] = {}
    for ev in events:
        a = ev.args
        if "providerId" in a:
            provider_ids.add((a["providerId"],))
        if "bookingId" in a:
            booking_ids.add((a["bookingId"],))
        name = ev.name
        if name == "CriteriaSet" or name == "ProviderBlockChanged":
            criteria_keys.add((a["customer"], a["category"]))
            if name == "ProviderBlockChanged":
                block_keys.add((a["customer"], a["providerId"]))
        elif name in ("BookingDeclined", "BookingCancelled", "BookingExpired"):
            accounts.add((a["customer"],))
        elif name == "BookingSettled" or name == "DisputeResolved":
            accounts.add((a["customer"],))
            owners_needed.add(a["providerId"])
        elif name == "ProviderRegistered":
            registered[a["providerId"]] = a["owner"]
        elif name == "StakeReleased":
            accounts.add((a["owner"],))
        elif name == "FeesCollected":
            accounts.add((a["to"],))
        elif name == "Withdrawn":
            accounts.add((a["account"],))
        elif name == "ArbiterChanged":
            arbiter_keys.add((a["arbiter"],))
    uow.load("providers", provider_ids)
    uow.load("bookings", booking_ids)
    uow.load("criteria", criteria_keys)
    uow.load("criteria_blocks", block_keys)
    uow.load("arbiters", arbiter_keys)
    for provider_id in owners_needed:
        owner = registered.get(provider_id)
        if owner is None:
            row = uow.get("providers", (provider_id,))
            owner = None if row is None else row["owner"]
        if owner is not None:
            accounts.add((owner,))
    uow.load("balances", accounts)
    uow.load("ledger", [LEDGER_KEY])
    uow.load("market_settings", [SETTINGS_KEY])


def _journal_row(ev: DecodedEvent) -> Row:
    a = ev.args
    account = None
    for name in _ACCOUNT_ARGS:
        if name in a:
            account = a[name]
            break
    return {
        "block_number": ev.block_number,
        "log_index": ev.log_index,
        "tx_hash": ev.tx_hash,
        "tx_index": ev.tx_index,
        "block_hash": ev.block_hash,
        "event": ev.name,
        "booking_id": a.get("bookingId"),
        "provider_id": a.get("providerId"),
        "account": account,
        "args": _encode_json(a),
    }


def apply_events(uow: UnitOfWork, events: Sequence[DecodedEvent]) -> ApplyStats:
    """Journal every event, update the projections and the blocks table; events in chain order.

    Every event must carry its block timestamp (the scanner fills it in when the node omits it).
    """
    stats = ApplyStats()
    _preload(uow, events)
    block_rows: dict[int, Row] = {}
    by_name = stats.by_name
    for ev in events:
        uow.block = ev.block_number
        uow.append("events", _journal_row(ev))
        block = block_rows.get(ev.block_number)
        if block is None:
            block_rows[ev.block_number] = {
                "number": ev.block_number,
                "hash": ev.block_hash,
                "timestamp": ev.block_timestamp or 0,
                "event_count": 1,
            }
        else:
            block["event_count"] += 1
        handler = HANDLERS.get(ev.name)
        if handler is not None:
            try:
                handler(uow, ev)
            except ProjectionGap as exc:
                stats.gaps += 1
                log.warning("%s at block %s not projected: %s", ev.name, ev.block_number, exc)
        by_name[ev.name] = by_name.get(ev.name, 0) + 1
    for row in block_rows.values():
        uow.append("blocks", row)
    stats.events = len(events)
    return stats


def skipped_rows(skipped: Sequence[SkippedLog]) -> list[Row]:
    """Rows for `indexer_skipped_logs` (logs without a position cannot be stored, only counted)."""
    rows: dict[tuple[int, int], Row] = {}
    for s in skipped:
        if s.block_number is None or s.log_index is None:
            continue
        rows[(s.block_number, s.log_index)] = {
            "block_number": s.block_number,
            "log_index": s.log_index,
            "tx_hash": s.tx_hash or "",
            "topic0": s.topic0,
            "reason": s.reason[:500],
        }
    return list(rows.values())
