"""Apply a chunk of decoded events to the store: journal, blocks and projections in one pass.

Reads every row the chunk will touch with one query per table (`_preload`), journals each
event, lets its projection handler (`projections.HANDLERS`) change the rows in memory and
records the chunk's blocks; the scanner then flushes the UnitOfWork in the chunk's transaction.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from operator import attrgetter
from typing import Any

import ujson

from marketplace.chain.logs import DecodedEvent, SkippedLog
from marketplace.indexer import rules
from marketplace.indexer.projections import ETHER, HANDLERS, SETTINGS_KEY, ProjectionGap
from marketplace.indexer.state import Row, UnitOfWork

log = logging.getLogger("marketplace.indexer.projections")

# The journal's `args`: the same text as json.dumps(args, separators=(",", ":")) (key order,
# ASCII escapes, arbitrary-size integers), in one C call instead of json's per-call encoder set-up.
_encode_json = partial(ujson.dumps, escape_forward_slashes=False)
_NAME = attrgetter("name")
_ACCOUNT_ARGS = (
    "customer", "owner", "account", "to", "attestor", "arbiter", "token", "newOwner", "by"
)
_SETTLING = frozenset(
    {
        "BookingDeclined",
        "BookingCancelled",
        "BookingExpired",
        "BookingSettled",
        "DisputeResolved",
    }
)


@dataclass
class ApplyStats:
    """What one batch did to the projections."""

    events: int = 0
    gaps: int = 0
    by_name: dict[str, int] = field(default_factory=dict)



def _preload(uow: UnitOfWork, events: Sequence[DecodedEvent]) -> None:
    """Read every row the batch will touch with one query per table (rows missed here are
    still read on first use, one query each). A booking requested in the batch is not read: its
    request writes it whole, unless an undo record needs the row it replaces."""
    provider_ids: set[tuple[Any, ...]] = set()
    booking_ids: set[int] = set()
    criteria_keys: set[tuple[Any, ...]] = set()
    block_keys: set[tuple[Any, ...]] = set()
    owner_block_keys: set[tuple[Any, ...]] = set()
    attestation_keys: set[tuple[Any, ...]] = set()
    change_keys: set[tuple[Any, ...]] = set()
    accounts: set[tuple[Any, ...]] = set()  # (account, currency)
    settling: list[int] = []  # booking ids credited per currency
    requested: dict[int, tuple[int, int]] = {}  # booking id -> (provider id, currency)
    unread: set[int] = set()  # requested, with no undo record to write
    undo_from = uow.undo_from
    registered: dict[int, str] = {}
    for ev in events:
        a = ev.args
        if "bookingId" in a:  # booking events after the request index only the id
            booking_ids.add(a["bookingId"])
        elif "providerId" in a:
            provider_ids.add((a["providerId"],))
        name = ev.name
        if name == "CriteriaSet" or name == "ProviderBlockChanged":
            criteria_keys.add((a["customer"], a["category"]))
            if name == "ProviderBlockChanged":
                block_keys.add((a["customer"], a["providerId"]))
        elif name == "BookingRequested":
            booking = a["bookingId"]
            requested[booking] = (a["providerId"], a["currency"])
            if undo_from is None or ev.block_number < undo_from:
                unread.add(booking)
        elif name in _SETTLING:
            settling.append(a["bookingId"])
            if name == "DisputeResolved":
                accounts.add((a["arbiter"], ETHER))  # a bond that pays the arbiter
        elif name == "StakeSlashed":
            accounts.add((a["to"], ETHER))
        elif name == "ListingRegistered":
            registered[a["providerId"]] = a["owner"]
        elif name == "StakeReleased":
            accounts.add((a["owner"], ETHER))
        elif name == "FeesCollected":
            accounts.add((a["to"], a["currency"]))
        elif name == "Withdrawn":
            accounts.add((a["account"], a["currency"]))
        elif name == "OwnerBlockChanged":
            owner_block_keys.add((a["customer"], a["owner"]))
        elif name == "AttributesAttested":
            attestation_keys.add((a["providerId"], a["attestorId"]))
        elif name in ("ChangeScheduled", "ChangeApplied", "ChangeCancelled"):
            change_keys.add((a["kind"], a["account"], a["value"]))
    provider_ids.update((rules.provider_of(booking),) for booking in booking_ids)
    uow.load("providers", provider_ids)
    uow.load("bookings", [(booking,) for booking in booking_ids - unread])
    uow.load("criteria", criteria_keys)
    uow.load("criteria_blocks", block_keys)
    uow.load("owner_blocks", owner_block_keys)
    uow.load("attestations", attestation_keys)
    uow.load("operator_changes", change_keys)
    for table in ("ledger", "currencies", "arbiters", "attestors"):
        uow.load_all(table)

    def owner_of(provider_id: int) -> str | None:
        owner = registered.get(provider_id)
        if owner is None:
            row = uow.get("providers", (provider_id,))
            owner = None if row is None else row["owner"]
        return owner

    owners = {(o,) for o in registered.values()}
    owners.update((row["owner"],) for key in provider_ids if (row := uow.get("providers", key)))
    uow.load("owners", owners)
    for booking_id in settling:
        if booking_id in requested:
            provider_id, currency = requested[booking_id]
            owner = owner_of(provider_id)
        elif (row := uow.get("bookings", (booking_id,))) is not None:
            currency, owner = row["currency"], row["owner"]
        else:
            continue
        customer = rules.customer_of(booking_id)
        accounts.add((customer, currency))
        accounts.add((customer, ETHER))  # slashes and bonds are ether
        if owner is not None:
            accounts.add((owner, currency))
    uow.load("balances", accounts)
    uow.load("market_settings", [SETTINGS_KEY])


def _journal_row(ev: DecodedEvent, parties: dict[int, tuple[str, int]]) -> tuple[Any, ...]:
    """The event's journal row, its values in the order of `schema.events`' columns; a booking
    event's listing and customer (its `account`) are the ones its id names, whether the event
    repeats them or not (`parties` keeps them by booking id for the batch's other events)."""
    a = ev.args
    account = None
    booking = a.get("bookingId")
    provider = a.get("providerId")
    if booking is not None:
        named = parties.get(booking)
        if named is None:
            named = parties[booking] = (rules.customer_of(booking), rules.provider_of(booking))
        account, provider = named
    else:
        for name in _ACCOUNT_ARGS:
            if name in a:
                account = a[name]
                break
    return (
        ev.block_number,
        ev.log_index,
        ev.tx_hash,
        ev.tx_index,
        ev.block_hash,
        ev.name,
        booking,
        provider,
        account,
        _encode_json(a),
    )


def event_counts(events: Sequence[DecodedEvent]) -> ApplyStats:
    """The counts `apply_events` reports for `events` before it finds any gap."""
    return ApplyStats(events=len(events), by_name=dict(Counter(map(_NAME, events))))


def apply_events(uow: UnitOfWork, events: Sequence[DecodedEvent]) -> ApplyStats:
    """Journal every event, update the projections and the blocks table; events in chain order.

    Every event must carry its block timestamp (the scanner fills it in when the node omits it).
    """
    stats = event_counts(events)
    _preload(uow, events)
    parties: dict[int, tuple[str, int]] = {}
    uow.append_values("events", [_journal_row(ev, parties) for ev in events])
    block_rows: dict[int, Row] = {}
    for ev in events:
        number = ev.block_number
        block = block_rows.get(number)
        if block is None:
            block_rows[number] = {
                "number": number,
                "hash": ev.block_hash,
                "timestamp": ev.block_timestamp or 0,
                "event_count": 1,
            }
        else:
            block["event_count"] += 1
        handler = HANDLERS.get(ev.name)
        if handler is not None:
            uow.block = number
            try:
                handler(uow, ev)
            except ProjectionGap as exc:
                stats.gaps += 1
                log.warning("%s at block %s not projected: %s", ev.name, number, exc)
    for row in block_rows.values():
        uow.append("blocks", row)
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
