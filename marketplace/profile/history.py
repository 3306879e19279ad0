"""The store's record as the living profile learns from it: rated bookings, and the provider and
the customer's criteria as they were when each booking was made.

Read-only, from the indexer's event journal and criteria history: a rating is learned against
the listing the customer actually booked, not the listing as it is today.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, select

from marketplace.domain import BPS, customer_of
from marketplace.matching.eligibility import CriteriaView, ProviderView
from marketplace.store import schema

Row = dict[str, Any]


def view_of_criteria(row: Row, category: int, blocked: Iterable[int] = ()) -> CriteriaView:
    """A criteria row (current or versioned) as a CriteriaView."""
    return CriteriaView(
        category=category,
        region=int(row["region"]),
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
    """The provider as it was after all events up to and including `block`, from the journal."""
    events = schema.events
    query = (
        select(events.c.event, events.c.args)
        .where(events.c.provider_id == provider_id, events.c.block_number <= block,
               events.c.event.in_(("ProviderRegistered", "ProviderUpdated", "ProviderDeactivated",
                                   "ProviderReactivated", "BookingRated", "DisputeResolved")))
        .order_by(events.c.block_number, events.c.log_index)
    )
    view: dict[str, Any] | None = None
    for name, raw in conn.execute(query):
        a = json.loads(raw)
        if name == "ProviderRegistered":
            view = {"category": int(a["category"]), "region": int(a["region"]),
                    "attributes": int(a["attributes"]), "price": int(a["price"]),
                    "active": True, "count": 0, "sum": 0}
        elif view is None:
            continue
        elif name == "ProviderUpdated":
            view.update(region=int(a["region"]), attributes=int(a["attributes"]),
                        price=int(a["price"]))
        elif name in ("ProviderDeactivated", "ProviderReactivated"):
            view["active"] = name == "ProviderReactivated"
        elif name == "BookingRated":
            view["count"] += 1
            view["sum"] += int(a["stars"])
        elif int(a["refundBps"]) > BPS // 2:
            view["count"] += 1
            view["sum"] += 1
    if view is None:
        return None
    return ProviderView(provider_id, view["category"], view["region"], view["attributes"],
                        view["price"], view["active"], view["count"], view["sum"])


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
