"""Provider pages: register, edit, incoming requests (accept, decline, complete), earnings."""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from marketplace.availability import InvalidSchedule, parse_schedule
from marketplace.availability.store import load_schedule, save_schedule
from marketplace.catalogue import REGIONS
from marketplace.store import queries as store_queries
from marketplace.units import ether_text, format_amount, format_wei
from marketplace.web import actions, queries
from marketplace.web.auth import current_account, require_account
from marketplace.web.context import services
from marketplace.web.customer.common import chain_time
from marketplace.web.customer.slot_booking import zone
from marketplace.web.db import get_metadata
from marketplace.web.errors import FieldError, Forbidden, NotFound, TxRefused, WebError
from marketplace.web.forms import Inputs
from marketplace.web.money import (
    amount_text,
    currencies,
    currency_infos,
    currency_or_default,
    local_time,
)
from marketplace.web.present import booking_json, providers_json
from marketplace.web.review import simple_review, terms_text
from marketplace.web.txflow import submit

bp = Blueprint("provider", __name__, url_prefix="/provider")


def _errors_of(error: WebError) -> dict[str, str]:
    from marketplace.web.customer.common import errors_of

    return errors_of(error)


@bp.get("/")
def dashboard() -> ResponseReturnValue:
    """My listings, open requests, earnings and withdrawable credit."""
    account = current_account()
    if account is None:
        return redirect(url_for("auth.signin", next=request.path))
    svc = services()
    with svc.engine.connect() as conn:
        listings = queries.providers_of_owner(conn, account)
        incoming = queries.incoming_bookings(conn, account)
        earned = queries.earnings(conn, account)
        credits = store_queries.credits_of(conn, account)
        known = currencies(conn)
    tz = zone()
    listed = providers_json(svc.engine, listings)
    names = {p["id"]: p["name"] for p in listed}
    now = chain_time()
    for item, row in zip(listed, listings, strict=True):
        until = stake_locked_until(row)
        item["stake_locked_label"] = local_time(until, tz) if until > now else ""
    incoming_json = []
    for b in incoming:
        item = booking_json(b, currency_or_default(known, int(b.get("currency") or 0)), tz)
        item["listing_name"] = names.get(item["provider_id"], f"listing #{item['provider_id']}")
        incoming_json.append(item)
    return render_template(
        "provider/dashboard.html",
        listings=listed,
        incoming=incoming_json,
        earned=[{"currency": currency_or_default(known, c), **e}
                for c, e in sorted(earned.items())],
        credits=[{"currency": currency_or_default(known, c), "amount": a}
                 for c, a in sorted(credits.items()) if a],
    )


@bp.get("/requests")
def requests_page() -> ResponseReturnValue:
    """Every booking of my listings: open ones to accept, decline or complete; closed ones."""
    account = current_account()
    if account is None:
        return redirect(url_for("auth.signin", next=request.path))
    svc = services()
    with svc.engine.connect() as conn:
        rows = queries.incoming_bookings(conn, account, include_closed=True)
        listings = queries.providers_of_owner(conn, account)
        known = currencies(conn)
    tz = zone()
    names = {p["id"]: p["name"] for p in providers_json(svc.engine, listings)}
    bookings = []
    for b in rows:
        item = booking_json(b, currency_or_default(known, int(b.get("currency") or 0)), tz)
        item["listing_name"] = names.get(item["provider_id"], f"listing #{item['provider_id']}")
        bookings.append(item)
    return render_template("provider/requests.html", bookings=bookings)


def _register_defaults() -> dict[str, Any]:
    minimum = actions.services_min_stake()
    return {
        "category": "rides",
        "region": REGIONS[0].key,
        "attributes": [],
        "price": "0.05",
        "currency": "0",
        "instant": "",
        "free_cancel_hours": "24",
        "late_cancel_pct": "50",
        "stake": ether_text(minimum) if minimum else "0.01",
        "name": "",
        "description": "",
    }


@bp.get("/register")
def register() -> ResponseReturnValue:
    """The registration form: stake, category, region, attributes, price, name, description."""
    return render_template("provider/register.html", values=_register_defaults(), errors={},
                           min_stake=actions.services_min_stake(),
                           currencies=_enabled_currencies())


def _known() -> dict[int, Any]:
    with services().engine.connect() as conn:
        return currencies(conn)


def _enabled_currencies() -> list[Any]:
    with services().engine.connect() as conn:
        infos = currency_infos(conn)
    return [i.currency for _, i in sorted(infos.items()) if i.enabled]


def _enabled() -> dict[int, Any]:
    """The currencies a listing may price in now (a disabled one takes no new listings: the
    form says so next to the currency)."""
    return {c.id: c for c in _enabled_currencies()}


@bp.post("/register")
def register_submit() -> ResponseReturnValue:
    """Validate, store the metadata off-chain, review, and register the listing with its
    stake."""
    try:
        account = require_account()
        intent = actions.register_intent(Inputs(request.form), _enabled())
        stake = intent.value
        listing = intent.args[0]
        currency = _known().get(int(listing[3]))
        price = format_amount(int(listing[4]), currency) if currency else str(listing[4])
        review = simple_review([
            ("Listing", intent.label.removeprefix("Register ")),
            ("Price per booking", price),
            ("Stake sent now", format_wei(stake)),
            ("Booking", "instant" if listing[6] else "you accept each request"),
            ("Cancellation terms", terms_text(int(listing[7]), int(listing[8]))),
            ("Owner", account),
        ], [f"The stake ({format_wei(stake)}) stays in the contract while the listing is active "
            "and until every accepted booking's deadlines have passed; 10% of it goes to a "
            "customer for each no-show.",
            "The category cannot be changed later."], url_for("provider.register"))
        return submit(dataclasses.replace(intent, review=review))
    except (FieldError, TxRefused, Forbidden, WebError) as exc:
        values: dict[str, Any] = {k: request.form.get(k, "") for k in request.form}
        values["attributes"] = request.form.getlist("attributes")
        return render_template("provider/register.html", values=values, errors=_errors_of(exc),
                               min_stake=actions.services_min_stake(),
                               currencies=_enabled_currencies()), exc.status


def _owned_listing(provider_id: int) -> dict[str, Any]:
    account = require_account()
    with services().engine.connect() as conn:
        row = store_queries.get_provider(conn, provider_id)
    if row is None:
        raise NotFound(f"There is no provider #{provider_id}.", None)
    if row["owner"] != account:
        raise Forbidden(f"You do not own listing #{provider_id}.", None)
    return row


@bp.get("/listings/<pid:provider_id>/edit")
def edit(provider_id: int) -> ResponseReturnValue:
    """Edit a listing's region, attributes, price and metadata."""
    row = _owned_listing(provider_id)
    info = providers_json(services().engine, [row])[0]
    document = get_metadata(services().engine, str(row["metadata_hash"])) or {}
    currency = currency_or_default(_known(), int(row.get("currency") or 0))
    values = {
        "region": info["region"] or "any",
        "attributes": info["attributes"],
        "currency": str(currency.id),
        "price": amount_text(int(row["price"]), currency),
        "name": document.get("name", ""),
        "description": document.get("description", ""),
        "instant": "1" if row.get("instant") else "",
        "free_cancel_hours": str(int(row.get("free_cancel_hours") or 0)),
        "late_cancel_pct": str(int(row.get("late_cancel_pct") or 0)),
    }
    return _edit_page(provider_id, info, values, {})


def _edit_page(provider_id: int, info: dict[str, Any], values: dict[str, Any],
               errors: dict[str, str], status: int = 200,
               hours: dict[str, Any] | None = None) -> ResponseReturnValue:
    schedule = load_schedule(services().engine, provider_id)
    return render_template(
        "provider/edit.html", provider=info, values=values, errors=errors,
        currencies=_enabled_currencies(), schedule=schedule,
        hours=hours or _hours_values(schedule), days=DAY_LABELS,
        zones=COMMON_ZONES), status


@bp.post("/listings/<pid:provider_id>/edit")
def edit_submit(provider_id: int) -> ResponseReturnValue:
    """Validate and send updateProvider."""
    row = _owned_listing(provider_id)
    try:
        intent = actions.update_intent(provider_id, Inputs(request.form), _enabled())
        return submit(intent)
    except (FieldError, TxRefused) as exc:
        values: dict[str, Any] = {k: request.form.get(k, "") for k in request.form}
        values["attributes"] = request.form.getlist("attributes")
        info = providers_json(services().engine, [row])[0]
        return _edit_page(provider_id, info, values, _errors_of(exc), exc.status)


# ------------------------------------------------------------------ weekly availability

DAY_LABELS = (("mon", "Monday"), ("tue", "Tuesday"), ("wed", "Wednesday"), ("thu", "Thursday"),
              ("fri", "Friday"), ("sat", "Saturday"), ("sun", "Sunday"))
COMMON_ZONES = ("Europe/Helsinki", "Europe/Stockholm", "Europe/Berlin", "Europe/London", "UTC",
                "America/New_York", "America/Los_Angeles", "Asia/Tokyo")


def _hours_values(schedule: Any) -> dict[str, Any]:
    """The availability form's values: time zone and one from/to per day (first window)."""
    values: dict[str, Any] = {"time_zone": schedule.time_zone if schedule else
                              "Europe/Helsinki"}
    if schedule is not None:
        for window in schedule.windows:
            day = DAY_LABELS[window.day][0]
            if f"{day}_from" not in values:
                values[f"{day}_from"] = f"{window.start // 60:02d}:{window.start % 60:02d}"
                values[f"{day}_to"] = f"{window.end // 60:02d}:{window.end % 60:02d}"
    return values


@bp.post("/listings/<pid:provider_id>/availability")
def availability_submit(provider_id: int) -> ResponseReturnValue:
    """Save the listing's weekly hours (off-chain: nothing is signed; customers see the free
    times on the booking page and the pages refuse slots outside them)."""
    row = _owned_listing(provider_id)
    account = require_account()
    form = request.form
    hours = []
    for day, _label in DAY_LABELS:
        start, end = form.get(f"{day}_from", "").strip(), form.get(f"{day}_to", "").strip()
        if start or end:
            hours.append({"day": day, "from": start, "to": end})
    try:
        schedule = parse_schedule({"time_zone": form.get("time_zone", "").strip(),
                                   "hours": hours})
    except InvalidSchedule as exc:
        field = _schedule_field(exc.field, hours)
        info = providers_json(services().engine, [row])[0]
        return _edit_page(provider_id, info, _edit_values(row), {field: _sentence(exc)}, 400,
                          hours={k: form.get(k, "") for k in form})
    save_schedule(services().engine, provider_id, schedule, account)
    flash(f"Availability saved: {schedule.describe()}.")
    return redirect(url_for("provider.edit", provider_id=provider_id))


def _schedule_field(field: str, hours: list[dict[str, str]]) -> str:
    """The form field an availability error is about: hours[2].to -> wed_to."""
    if field.startswith("hours[") and "]" in field:
        index = int(field[6:field.index("]")])
        part = field.rsplit(".", 1)[-1] if "." in field else "from"
        return f"{hours[index]['day']}_{'to' if part == 'to' else 'from'}"
    return "time_zone" if field == "time_zone" else "hours"


def _sentence(exc: InvalidSchedule) -> str:
    text = str(getattr(exc, "message", "") or exc)
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _edit_values(row: dict[str, Any]) -> dict[str, Any]:
    info = providers_json(services().engine, [row])[0]
    document = get_metadata(services().engine, str(row["metadata_hash"])) or {}
    currency = currency_or_default(_known(), int(row.get("currency") or 0))
    return {"region": info["region"] or "any", "attributes": info["attributes"],
            "currency": str(currency.id), "price": amount_text(int(row["price"]), currency),
            "name": document.get("name", ""), "description": document.get("description", ""),
            "instant": "1" if row.get("instant") else "",
            "free_cancel_hours": str(int(row.get("free_cancel_hours") or 0)),
            "late_cancel_pct": str(int(row.get("late_cancel_pct") or 0))}


# ------------------------------------------------------------------ stake


@bp.post("/listings/<pid:provider_id>/top_up")
def top_up(provider_id: int) -> ResponseReturnValue:
    """Add to a listing's stake (topUpStake), after the review."""
    row = _owned_listing(provider_id)
    try:
        intent = actions.top_up_intent(provider_id, Inputs(request.form))
    except FieldError as exc:
        info = providers_json(services().engine, [row])[0]
        return _edit_page(provider_id, info, _edit_values(row), _errors_of(exc), exc.status)
    review = simple_review([
        ("Listing", f"#{provider_id}"),
        ("Added to the stake now", format_wei(intent.value)),
        ("Stake after", format_wei(int(row["stake"]) + intent.value)),
    ], ["The stake can be released only after the listing is deactivated, the cooldown has "
        "passed and no accepted booking can still slash it."],
        url_for("provider.edit", provider_id=provider_id))
    return submit(dataclasses.replace(intent, review=review))


@bp.post("/listings/<pid:provider_id>/<action>")
def listing_action(provider_id: int, action: str) -> ResponseReturnValue:
    """Deactivate, reactivate, or release the stake of a listing (release: after the review,
    and only once nothing can slash it any more)."""
    if action not in actions.LISTING_ACTIONS:
        raise NotFound("There is no such action.", None)
    row = _owned_listing(provider_id)
    intent = actions.listing_action_intent(provider_id, action)
    if action == "release_stake":
        until = stake_locked_until(row)
        if until > chain_time():
            raise WebError(f"The stake is locked until {local_time(until, zone())}: "
                           "an accepted booking could still slash it, or the cooldown after "
                           "deactivation has not passed.", "stake", status=409,
                           code="stake_locked")
        intent = dataclasses.replace(intent, review=simple_review(
            [("Listing", f"#{provider_id}"), ("Stake released to your credit",
                                               format_wei(int(row["stake"])))],
            ["The listing can take no bookings without a stake; withdraw the credit after."],
            url_for("provider.dashboard")))
    return submit(intent)


def stake_locked_until(row: dict[str, Any]) -> int:
    """When the stake can be released: after the cooldown and every slashable deadline."""
    return max(int(row.get("stake_unlock_at") or 0), int(row.get("locked_until") or 0))
