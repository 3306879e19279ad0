"""The store's record as the living profile learns from it: rated bookings, and the provider and
the customer's criteria as they were when each booking was made.

Read-only, from the indexer's projections (`provider_history`, `criteria_versions`): a rating is
learned against the listing the customer actually booked, not the listing as it is today.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, select

from marketplace.domain import customer_of
from marketplace.matching.eligibility import CriteriaView, ProviderView
from marketplace.store import schema

Row = dict[str, Any]


def view_of_criteria(row: Row, category: int, blocked: Iterable[int] = (),
                     blocked_owners: Iterable[str] | None = None) -> CriteriaView:
    """A criteria row (current or versioned) as a CriteriaView; the owners it blocks are
    `blocked_owners`, else the row's own (`store.queries.current_criteria` adds them)."""
    owners = row.get("blocked_owners", ()) if blocked_owners is None else blocked_owners
    return CriteriaView(
        category=category,
        region=int(row["region"]),
        currency=int(row.get("currency") or 0),
        verified_attributes=int(row.get("verified_attributes") or 0),
        trusted_attestors=int(row.get("trusted_attestors") or 0),
        min_rating_weight=int(row.get("min_rating_weight") or 0),
        min_reliability=int(row.get("min_reliability") or 0),
        blocked_owners=frozenset(str(o).lower() for o in owners),
        min_score=int(row["min_score"]),
        max_price=int(row["max_price"]),
        premium_per_star=int(row["premium_per_star"]),
        required_attributes=int(row["required_attributes"]),
        refused_attributes=int(row["refused_attributes"]),
        score_weight=int(row["score_weight"]),
        price_weight=int(row["price_weight"]),
        version=int(row["version"]),
        blocked=frozenset(int(b) for b in blocked),
    )


def criteria_at_version(conn: Connection, customer: str, version: int) -> CriteriaView | None:
    """The criteria set that was current for its category at the customer's `version`.

    A booking records the version of its category's set; `criteria_versions` keeps every one.
    """
    table = schema.criteria_versions
    row = conn.execute(
        select(table).where(table.c.customer == customer.lower(), table.c.version == version)
    ).mappings().first()
    if row is None:
        return None
    return view_of_criteria(dict(row), int(row["category"]))


def provider_at_block(conn: Connection, provider_id: int, block: int) -> ProviderView | None:
    """The provider as it was after all events up to and including `block`.

    Read from the indexer's `provider_history` projection (one row per change of the listing);
    nothing here replays the event journal.
    """
    table = schema.provider_history
    row = conn.execute(
        select(table, schema.providers.c.owner)
        .join(schema.providers, schema.providers.c.provider_id == table.c.provider_id)
        .where(table.c.provider_id == provider_id, table.c.block_number <= block)
        .order_by(table.c.block_number.desc(), table.c.log_index.desc())
        .limit(1)
    ).mappings().first()
    if row is None:
        return None
    # The store keeps each attestor's current record only: a past view carries the records
    # made by then and still standing (a record revoked since is not seen).
    a = schema.attestations
    attested = {int(attestor): int(bits) for attestor, bits in conn.execute(
        select(a.c.attestor_id, a.c.attributes)
        .where(a.c.provider_id == provider_id, a.c.block_number <= block))}
    return ProviderView(
        provider_id=provider_id, owner=str(row["owner"]), category=int(row["category"]),
        region=int(row["region"]), attributes=int(row["attributes"]),
        currency=int(row["currency"]), price=int(row["price"]), active=bool(row["active"]),
        rating_weight=int(row["rating_weight"]), weighted_stars=int(row["weighted_stars"]),
        completed=int(row["completed"]), failures=int(row["failures"]),
        attestations={k: v for k, v in attested.items() if v},
    )


def rated_bookings_of(conn: Connection, customer: str) -> list[Row]:
    """The customer's rated bookings, oldest first."""
    table = schema.bookings
    query = (
        select(table)
        .where(table.c.customer == customer.lower(), table.c.rated.is_(True))
        .order_by(table.c.requested_block, table.c.booking_id)
    )
    return [dict(r) for r in conn.execute(query).mappings()]


def customers_rated_in(conn: Connection, after_block: int, up_to_block: int) -> set[str]:
    """Customers with a rating indexed in blocks (`after_block`, `up_to_block`]."""
    events = schema.events
    query = select(events.c.booking_id).where(
        events.c.event == "BookingRated",
        events.c.block_number > after_block,
        events.c.block_number <= up_to_block,
    )
    return {customer_of(int(booking_id)) for (booking_id,) in conn.execute(query)}
