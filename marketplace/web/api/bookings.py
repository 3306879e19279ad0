"""Bookings: one with its timeline, or a page of a customer's or a provider's."""

from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue

from marketplace.store import queries as store_queries
from marketplace.web.api import bp
from marketplace.web.api.contract import booking_number, parse_query
from marketplace.web.api.models import BookingsQuery
from marketplace.web.context import services
from marketplace.web.errors import NotFound
from marketplace.web.present import booking_json, timeline_json


@bp.get("/bookings/<bookingid:booking_ref>")
def booking(booking_ref: str) -> ResponseReturnValue:
    """One booking with its timeline."""
    booking_id = booking_number(booking_ref)
    with services().engine.connect() as conn:
        row = store_queries.get_booking(conn, booking_id) if booking_id else None
        if row is None:
            raise NotFound("There is no such booking.", "booking_id")
        events = store_queries.booking_timeline(conn, booking_id)
    data = booking_json(row)
    data["timeline"] = timeline_json(events)
    return jsonify(data)


@bp.get("/bookings")
def bookings() -> ResponseReturnValue:
    """Bookings of a customer (`customer`) and/or of a provider (`provider_id`), newest first;
    with neither, every booking (bookings are public on-chain records)."""
    query = parse_query(BookingsQuery)
    with services().engine.connect() as conn:
        rows = store_queries.bookings_of(
            conn, customer=query.customer.lower() if query.customer else None,
            provider_id=query.provider_id)
    rows.reverse()
    total = len(rows)
    chosen = rows[(query.page - 1) * query.per_page: query.page * query.per_page]
    return jsonify({"items": [booking_json(r) for r in chosen], "page": query.page,
                    "per_page": query.per_page, "total": total,
                    "pages": (total + query.per_page - 1) // query.per_page})
