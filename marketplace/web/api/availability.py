"""Weekly availability of a listing (published off-chain by its owner) and its free slots.

GET is public; PUT and DELETE are the listing owner's (signed in). A listing without published
hours is bookable at any time, less the slots its open bookings hold. The contract enforces only
the slot's own rules; these hours are what the API's booking preparation and the pages check.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask.typing import ResponseReturnValue

from marketplace.availability import (
    InvalidSchedule,
    WeeklySchedule,
    booked_slots,
    delete_schedule,
    free_slots,
    parse_schedule,
    save_schedule,
    schedule_in,
)
from marketplace.availability.schedule import MAX_QUERY_DAYS, MAX_SLOTS
from marketplace.store import queries as store_queries
from marketplace.web.api import bp
from marketplace.web.api.contract import parse_body, parse_query
from marketplace.web.api.models import AvailabilityBody, SlotsQuery
from marketplace.web.auth import require_account
from marketplace.web.context import services
from marketplace.web.customer.common import chain_time
from marketplace.web.errors import FieldError, Forbidden, NotFound
from marketplace.web.money import iso_time

DEFAULT_DAYS = 14


def _owner(provider_id: int) -> str:
    with services().engine.connect() as conn:
        row = store_queries.get_provider(conn, provider_id)
    if row is None:
        raise NotFound(f"There is no provider #{provider_id}.", "provider_id")
    return str(row["owner"]).lower()


def availability_json(provider_id: int, schedule: WeeklySchedule | None) -> dict[str, Any]:
    """The API's shape of a listing's hours."""
    return {
        "provider_id": provider_id,
        "schedule": schedule.as_json() if schedule is not None else None,
        "description": (schedule.describe() if schedule is not None
                        else "no hours published: bookable at any time"),
        "bookable_any_time": schedule is None,
    }


# One rule for the three methods: with a rule per method, werkzeug answers a provider id its
# converter refuses (0) with 405 for PUT and DELETE instead of 404.
@bp.route("/providers/<pid:provider_id>/availability", methods=["GET", "PUT", "DELETE"])
def availability(provider_id: int) -> ResponseReturnValue:
    """GET the listing's weekly hours (null: bookable at any time); PUT and DELETE them (its
    owner)."""
    if request.method == "PUT":
        return put_availability(provider_id)
    if request.method == "DELETE":
        return delete_availability(provider_id)
    _owner(provider_id)
    with services().engine.connect() as conn:
        schedule = schedule_in(conn, provider_id)
    return jsonify(availability_json(provider_id, schedule))


def put_availability(provider_id: int) -> ResponseReturnValue:
    """Publish the listing's weekly hours (its owner, signed in)."""
    account = require_account()
    body = parse_body(AvailabilityBody)
    _check_owner(provider_id, account)
    data = {"time_zone": body.time_zone,
            "hours": [{"day": h.day, "from": h.start, "to": h.end} for h in body.hours]}
    try:
        schedule = parse_schedule(data)
    except InvalidSchedule as exc:
        raise FieldError(exc.message[:1].upper() + exc.message[1:] + ".", exc.field,
                         status=422, code="unprocessable") from None
    save_schedule(services().engine, provider_id, schedule, account)
    return jsonify(availability_json(provider_id, schedule))


def delete_availability(provider_id: int) -> ResponseReturnValue:
    """Withdraw the published hours: the listing becomes bookable at any time (its owner)."""
    account = require_account()
    _check_owner(provider_id, account)
    delete_schedule(services().engine, provider_id)
    return jsonify(availability_json(provider_id, None))


def _check_owner(provider_id: int, account: str) -> None:
    owner = _owner(provider_id)
    if owner != account.lower():
        raise Forbidden(f"Only the listing's owner ({owner}) can change its availability.",
                        None, code="not_owner")


@bp.get("/providers/<pid:provider_id>/slots")
def slots(provider_id: int) -> ResponseReturnValue:
    """Free start times of a slot of `duration` minutes: inside the weekly hours (any time
    without them), after now, overlapping none of the listing's open bookings."""
    query = parse_query(SlotsQuery)
    _owner(provider_id)
    now = chain_time()
    since = max(query.since if query.since is not None else now, now + 1)
    until = query.until if query.until is not None else since + DEFAULT_DAYS * 86_400
    if until <= since:
        raise FieldError("`to` must be after `from` and after now.", "to", status=422,
                         code="unprocessable")
    if until - since > MAX_QUERY_DAYS * 86_400:
        raise FieldError(f"Ask for at most {MAX_QUERY_DAYS} days at a time.", "to",
                         status=422, code="unprocessable")
    with services().engine.connect() as conn:
        schedule = schedule_in(conn, provider_id)
        booked = booked_slots(conn, provider_id, since, until)
    starts = free_slots(schedule, since, until, query.duration, step_minutes=query.step,
                        booked=booked, limit=MAX_SLOTS)
    return jsonify({
        "provider_id": provider_id,
        "time_zone": schedule.time_zone if schedule is not None else None,
        "from": since, "to": until, "duration": query.duration,
        "bookable_any_time": schedule is None,
        "slots": [{"start": s, "end": s + query.duration * 60, "start_utc": iso_time(s)}
                  for s in starts],
        "booked": [{"start": s, "end": s + m * 60} for s, m in booked],
        "truncated": len(starts) >= MAX_SLOTS,
    })
