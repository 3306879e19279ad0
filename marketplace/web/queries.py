"""Store reads the web pages need beyond `marketplace.store.queries` (read-only, plain dicts).

Score history, reviews, a provider's listings and incoming requests, the events of one
transaction, and a customer's criteria as matching takes them. Every state here is a projection
the indexer maintains; nothing replays the event journal. (A provider's or a customer's state as
it was at a past block, which the living profile learns from, is `marketplace.profile.history`.)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, and_, select

from marketplace.domain import OPEN_STATUSES, Status
from marketplace.matching.eligibility import CriteriaView
from marketplace.profile.history import view_of_criteria as view_of_criteria
from marketplace.store import queries as store_queries
from marketplace.store import schema

Row = dict[str, Any]

SCORE_EVENTS = ("BookingRated", "DisputeResolved")  # the provider_history rows that score


def providers_by_id(conn: Connection, ids: Iterable[int]) -> dict[int, Row]:
    """Provider rows by id for the ids that exist."""
    wanted = sorted(set(ids))
    table = schema.providers
    out: dict[int, Row] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        for row in conn.execute(select(table).where(table.c.provider_id.in_(chunk))).mappings():
            out[int(row["provider_id"])] = dict(row)
    return out


def providers_of_owner(conn: Connection, owner: str) -> list[Row]:
    """Every listing an address owns, by id."""
    table = schema.providers
    query = select(table).where(table.c.owner == owner.lower()).order_by(table.c.provider_id)
    return [dict(r) for r in conn.execute(query).mappings()]



def score_history(conn: Connection, provider_id: int, limit: int = 200) -> list[Row]:
    """The provider's score after each rating or lost dispute, oldest first.

    Each row: block, timestamp, event, stars (None for a dispute), score (basis points), from
    the indexer's `provider_history` (a lost dispute counts as a one-star rating).
    """
    history, blocks = schema.provider_history, schema.blocks
    query = (
        select(history.c.block_number, history.c.event, history.c.stars, history.c.score,
               blocks.c.timestamp)
        .join(blocks, blocks.c.number == history.c.block_number)
        .where(history.c.provider_id == provider_id, history.c.event.in_(SCORE_EVENTS))
        .order_by(history.c.block_number.desc(), history.c.log_index.desc())
        .limit(limit)
    )
    rows = [
        {
            "block": int(block),
            "timestamp": int(timestamp),
            "event": "rated" if name == "BookingRated" else "dispute lost",
            "stars": None if stars is None else int(stars),
            "score": int(score),
        }
        for block, name, stars, score, timestamp in conn.execute(query)
    ]
    rows.reverse()
    return rows


def reviews(conn: Connection, provider_id: int, limit: int = 50) -> list[Row]:
    """Rated bookings of a provider, newest first: stars, complaint tags, customer, when."""
    bookings, events, blocks = schema.bookings, schema.events, schema.blocks
    query = (
        select(bookings.c.booking_id, bookings.c.customer, bookings.c.stars,
               bookings.c.complaint_tags, bookings.c.price, blocks.c.timestamp)
        .join(events, and_(events.c.booking_id == bookings.c.booking_id,
                           events.c.event == "BookingRated"))
        .join(blocks, blocks.c.number == events.c.block_number)
        .where(bookings.c.provider_id == provider_id, bookings.c.rated.is_(True))
        .order_by(events.c.block_number.desc(), events.c.log_index.desc())
        .limit(limit)
    )
    return [dict(r) for r in conn.execute(query).mappings()]


def incoming_bookings(conn: Connection, owner: str, include_closed: bool = False) -> list[Row]:
    """Bookings of every listing `owner` owns: open ones (newest first), optionally all."""
    bookings, providers = schema.bookings, schema.providers
    query = (
        select(bookings)
        .join(providers, providers.c.provider_id == bookings.c.provider_id)
        .where(providers.c.owner == owner.lower())
        .order_by(bookings.c.requested_block.desc(), bookings.c.booking_id)
    )
    if not include_closed:
        query = query.where(bookings.c.status.in_(sorted(int(s) for s in OPEN_STATUSES)))
    rows = [dict(r) for r in conn.execute(query.limit(500)).mappings()]
    for row in rows:
        row["status_name"] = Status(row["status"]).name.lower()
    return rows


def earnings(conn: Connection, owner: str) -> dict[int, Row]:
    """What an owner's listings earned per currency: payouts (with late-cancellation
    compensation) and fees of settled/resolved bookings."""
    bookings, providers = schema.bookings, schema.providers
    query = (
        select(bookings.c.currency, bookings.c.payout, bookings.c.fee, bookings.c.compensation,
               bookings.c.status)
        .join(providers, providers.c.provider_id == bookings.c.provider_id)
        .where(providers.c.owner == owner.lower(),
               bookings.c.status.in_([int(Status.SETTLED), int(Status.RESOLVED),
                                      int(Status.CANCELLED)]))
    )
    out: dict[int, Row] = {}
    for currency, payout, fee, compensation, status in conn.execute(query):
        entry = out.setdefault(int(currency), {"payouts": 0, "fees": 0, "bookings": 0})
        entry["payouts"] += int(payout or 0) + int(compensation or 0)
        if int(status) != int(Status.CANCELLED):
            entry["fees"] += int(fee or 0)
            entry["bookings"] += 1
    return out


def tx_events(conn: Connection, tx_hash: str) -> list[Row]:
    """The marketplace events a transaction emitted (once indexed), in log order."""
    return store_queries.journal(conn, schema.events.c.tx_hash == tx_hash.lower())


def latest_block_time(conn: Connection) -> int | None:
    """The timestamp of the newest indexed block (chain time as the store knows it)."""
    blocks = schema.blocks
    row = conn.execute(
        select(blocks.c.timestamp).order_by(blocks.c.number.desc()).limit(1)
    ).first()
    return int(row[0]) if row is not None else None


def criteria_of(conn: Connection, customer: str) -> list[Row]:
    """A customer's current criteria in every category they set, by category."""
    table = schema.criteria
    query = select(table).where(table.c.customer == customer.lower()).order_by(table.c.category)
    return [dict(r) for r in conn.execute(query).mappings()]


def criteria_view(conn: Connection, customer: str, category: int) -> CriteriaView | None:
    """The customer's current criteria for a category, with blocks, as matching takes them."""
    row = store_queries.current_criteria(conn, customer, category)
    if row is None or int(row["version"]) == 0:
        return None
    return criteria_facts(row, category)


def criteria_facts(row: Row, category: int) -> CriteriaView:
    """A stored criteria row (with `blocked` and `blocked_owners`) as the domain's facts."""
    return CriteriaView(
        category=category,
        region=int(row["region"]),
        currency=int(row.get("currency") or 0),
        min_score=int(row["min_score"]),
        max_price=int(row["max_price"]),
        premium_per_star=int(row["premium_per_star"]),
        required_attributes=int(row["required_attributes"]),
        refused_attributes=int(row["refused_attributes"]),
        verified_attributes=int(row.get("verified_attributes") or 0),
        trusted_attestors=int(row.get("trusted_attestors") or 0),
        min_rating_weight=int(row.get("min_rating_weight") or 0),
        min_reliability=int(row.get("min_reliability") or 0),
        score_weight=int(row["score_weight"]),
        price_weight=int(row["price_weight"]),
        version=int(row["version"]),
        blocked=frozenset(int(b) for b in row.get("blocked", ()) or ()),
        blocked_owners=frozenset(str(o).lower() for o in row.get("blocked_owners", ()) or ()),
    )



def is_arbiter(conn: Connection, account: str) -> bool:
    """Whether the operator allowed `account` to resolve disputes."""
    table = schema.arbiters
    row = conn.execute(
        select(table.c.allowed).where(table.c.arbiter == account.lower())
    ).first()
    return bool(row[0]) if row is not None else False



def search_providers_by_ids(conn: Connection, ids: list[int]) -> list[Row]:
    """Provider rows in the order of `ids` (missing ones skipped)."""
    by_id = providers_by_id(conn, ids)
    return [by_id[i] for i in ids if i in by_id]




# ------------------------------------------------------------------ contract v2 projections


def attestors(conn: Connection) -> dict[int, Row]:
    """Attestors by id: {id: {"attestor_id", "account", "allowed"}}."""
    out: dict[int, Row] = {}
    for row in store_queries.attestors(conn):
        ident = int(row["attestor_id"])
        out[ident] = {"attestor_id": ident, "account": str(row["attestor"]).lower(),
                      "allowed": bool(row["allowed"])}
    return out


def attestations(conn: Connection, provider_id: int) -> list[Row]:
    """What each attestor recorded for a listing: [{"attestor_id", "attributes"}]."""
    return [{"attestor_id": int(r["attestor_id"]), "attributes": int(r["attributes"])}
            for r in store_queries.attestations_of(conn, provider_id)]
