"""Provider pages: register, edit, incoming requests (accept, decline, complete), earnings."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from marketplace.catalogue import REGIONS
from marketplace.store import queries as store_queries
from marketplace.units import ether_text
from marketplace.web import actions, queries
from marketplace.web.auth import current_account, require_account
from marketplace.web.context import services
from marketplace.web.db import get_metadata
from marketplace.web.errors import FieldError, Forbidden, NotFound, TxRefused, WebError
from marketplace.web.forms import Inputs
from marketplace.web.present import booking_json, providers_json
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
        credit = store_queries.credit_of(conn, account)
    return render_template(
        "provider/dashboard.html",
        listings=providers_json(svc.engine, listings),
        incoming=[booking_json(b) for b in incoming],
        earned=earned,
        credit=credit,
    )


@bp.get("/requests")
def requests_page() -> ResponseReturnValue:
    """Every booking of my listings: open ones to accept, decline or complete; closed ones."""
    account = current_account()
    if account is None:
        return redirect(url_for("auth.signin", next=request.path))
    with services().engine.connect() as conn:
        rows = queries.incoming_bookings(conn, account, include_closed=True)
    return render_template("provider/requests.html", bookings=[booking_json(b) for b in rows])


def _register_defaults() -> dict[str, Any]:
    minimum = actions.services_min_stake()
    return {
        "category": "rides",
        "region": REGIONS[0].key,
        "attributes": [],
        "price": "0.05",
        "stake": ether_text(minimum) if minimum else "0.01",
        "name": "",
        "description": "",
    }


@bp.get("/register")
def register() -> ResponseReturnValue:
    """The registration form: stake, category, region, attributes, price, name, description."""
    return render_template("provider/register.html", values=_register_defaults(), errors={},
                           min_stake=actions.services_min_stake())


@bp.post("/register")
def register_submit() -> ResponseReturnValue:
    """Validate, store the metadata off-chain, and register the listing with its stake."""
    try:
        require_account()
        intent = actions.register_intent(Inputs(request.form))
        return submit(intent)
    except (FieldError, TxRefused, Forbidden) as exc:
        values: dict[str, Any] = {k: request.form.get(k, "") for k in request.form}
        values["attributes"] = request.form.getlist("attributes")
        return render_template("provider/register.html", values=values, errors=_errors_of(exc),
                               min_stake=actions.services_min_stake()), exc.status


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
    values = {
        "region": info["region"] or "any",
        "attributes": info["attributes"],
        "price": ether_text(int(row["price"])),
        "name": document.get("name", ""),
        "description": document.get("description", ""),
    }
    return render_template("provider/edit.html", provider=info, values=values, errors={})


@bp.post("/listings/<pid:provider_id>/edit")
def edit_submit(provider_id: int) -> ResponseReturnValue:
    """Validate and send updateProvider."""
    row = _owned_listing(provider_id)
    try:
        intent = actions.update_intent(provider_id, Inputs(request.form))
        return submit(intent)
    except (FieldError, TxRefused) as exc:
        values: dict[str, Any] = {k: request.form.get(k, "") for k in request.form}
        values["attributes"] = request.form.getlist("attributes")
        info = providers_json(services().engine, [row])[0]
        return render_template("provider/edit.html", provider=info, values=values,
                               errors=_errors_of(exc)), exc.status


@bp.post("/listings/<pid:provider_id>/<action>")
def listing_action(provider_id: int, action: str) -> ResponseReturnValue:
    """Deactivate, reactivate, or release the stake of a listing."""
    if action not in actions.LISTING_ACTIONS:
        raise NotFound("There is no such action.", None)
    _owned_listing(provider_id)
    return submit(actions.listing_action_intent(provider_id, action))
