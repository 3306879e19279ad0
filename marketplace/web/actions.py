"""Every transaction the web app can prepare, from validated inputs: one place for pages and API.

Each `*_intent` function reads `Inputs` (a form or a JSON body), validates every field (raising
`FieldError`/`FormErrors` naming the field) and returns the `TxIntent`: the contract function
and arguments, the value to send, the API call that rebuilds it for a wallet, and the page to
show once the indexer has it.
"""

from __future__ import annotations

from typing import Any

from flask import url_for

from marketplace.catalogue import key_of, names
from marketplace.domain import UINT96_MAX
from marketplace.matching.criteria import CriteriaInput
from marketplace.units import format_wei
from marketplace.web import forms
from marketplace.web.context import services
from marketplace.web.db import put_metadata
from marketplace.web.errors import FieldError, FormErrors
from marketplace.web.forms import Inputs
from marketplace.web.txflow import TxIntent

MAX_NAME = 80
MAX_DESCRIPTION = 1_000

# Booking actions: (contract function, who may do it, label).
BOOKING_ACTIONS: dict[str, tuple[str, str, str]] = {
    "cancel": ("cancel", "customer", "Cancel the booking"),
    "confirm": ("confirm", "customer", "Confirm the service and release payment"),
    "dispute": ("dispute", "customer", "Dispute the completion"),
    "rate": ("rate", "customer", "Rate the booking"),
    "accept": ("accept", "provider", "Accept the booking"),
    "decline": ("decline", "provider", "Decline the booking"),
    "complete": ("complete", "provider", "Mark the service completed"),
    "expire": ("expire", "anyone", "Expire the booking (deadline passed)"),
    "settle": ("settle", "anyone", "Settle the booking (confirmation window passed)"),
    "resolve_by_default": ("resolveByDefault", "anyone", "Resolve the dispute by default"),
    "resolve": ("resolve", "arbiter", "Resolve the dispute"),
}

LISTING_ACTIONS: dict[str, tuple[str, str]] = {
    "deactivate": ("deactivate", "Stop taking bookings"),
    "reactivate": ("reactivate", "Take bookings again"),
    "release_stake": ("releaseStake", "Release the stake to your credit"),
}


def booking_path(booking_id: int) -> str:
    """The booking's page."""
    return url_for("customer.booking", booking_ref=hex(booking_id))


# ------------------------------------------------------------------ criteria


def criteria_intent(inputs: Inputs) -> tuple[TxIntent, CriteriaInput]:
    """setCriteria with every field validated."""
    criteria = forms.parse_criteria_inputs(inputs)
    key = category_key(criteria.category)
    intent = TxIntent(
        function="setCriteria",
        args=(criteria.as_tuple(),),
        label=f"Save your {key} criteria",
        api_path=url_for("api.criteria_tx"),
        api_body=forms.criteria_json(criteria),
        next_url=url_for("customer.matches", category=key),
    )
    return intent, criteria


def criteria_tuple_intent(criteria: CriteriaInput, label: str) -> TxIntent:
    """setCriteria for criteria already validated (an accepted proposal)."""
    key = category_key(criteria.category)
    return TxIntent(
        function="setCriteria",
        args=(criteria.as_tuple(),),
        label=label,
        api_path=url_for("api.criteria_tx"),
        api_body=forms.criteria_json(criteria),
        next_url=url_for("customer.matches", category=key),
    )


def block_intent(inputs: Inputs) -> TxIntent:
    """setBlocked(providerId, blocked)."""
    provider_id = forms.integer(inputs.get("provider_id"), "provider_id", low=1, high=2**32 - 1)
    blocked = forms.boolean(inputs.get("blocked"), "blocked", default=True)
    return TxIntent(
        function="setBlocked",
        args=(provider_id, blocked),
        label=f"{'Block' if blocked else 'Unblock'} provider #{provider_id}",
        api_path=url_for("api.block_tx"),
        api_body={"provider_id": provider_id, "blocked": blocked},
        next_url=url_for("customer.provider", provider_id=provider_id),
    )


# ------------------------------------------------------------------ bookings


def book_intent(inputs: Inputs) -> TxIntent:
    """book(providerId, expectedPrice, criteriaVersion), sending exactly the quoted price."""
    errors: dict[str, str] = {}
    values: dict[str, int] = {}
    checks: tuple[tuple[str, Any], ...] = (
        ("provider_id", lambda v: forms.integer(v, "provider_id", low=1, high=2**32 - 1)),
        ("expected_price", lambda v: forms.amount(v, "expected_price", default_unit="wei",
                                                  low=1)),
        ("criteria_version", lambda v: forms.integer(v, "criteria_version", low=1,
                                                     high=2**32 - 1)),
    )
    for name, parse in checks:
        try:
            values[name] = parse(inputs.get(name))
        except FieldError as exc:
            errors[name] = exc.message
    if errors:
        raise FormErrors(errors)
    pid, price, version = values["provider_id"], values["expected_price"], values[
        "criteria_version"]
    return TxIntent(
        function="book",
        args=(pid, price, version),
        value=price,
        label=f"Book provider #{pid}",
        api_path=url_for("api.book_tx"),
        api_body={"provider_id": pid, "expected_price": str(price), "criteria_version": version},
        next_url="/bookings/{booking}",
    )


def booking_action_intent(booking_id: int, action: str, inputs: Inputs) -> TxIntent:
    """One step of a booking's state machine (rate takes stars and complaint tags)."""
    if action not in BOOKING_ACTIONS:
        known = ", ".join(BOOKING_ACTIONS)
        raise FieldError(f"Unknown action; one of: {known}.", "action", status=404)
    function, _who, label = BOOKING_ACTIONS[action]
    args: tuple[Any, ...] = (booking_id,)
    body: dict[str, Any] = {}
    if action == "rate":
        errors: dict[str, str] = {}
        stars = tags = 0
        try:
            stars = forms.stars(inputs.get("stars"))
        except FieldError as exc:
            errors["stars"] = exc.message
        try:
            tags = forms.complaint_mask(inputs.getlist("complaint_tags"))
        except FieldError as exc:
            errors["complaint_tags"] = exc.message
        if errors:
            raise FormErrors(errors)
        args = (booking_id, stars, tags)
        body = {"stars": stars, "complaint_tags": names("complaint tag", tags)}
        label = f"Rate the booking {stars} star{'s' if stars != 1 else ''}"
    elif action == "resolve":
        refund = forms.percent_bps(inputs.get("refund_percent"), "refund_percent")
        args = (booking_id, refund)
        body = {"refund_percent": str(refund / 100)}
        label = f"Resolve the dispute: refund {refund / 100:g}% to the customer"
    return TxIntent(
        function=function,
        args=args,
        label=label,
        api_path=url_for("api.booking_tx", booking_ref=hex(booking_id), action=action),
        api_body=body,
        next_url=booking_path(booking_id),
    )


# ------------------------------------------------------------------ listings


def listing_fields(inputs: Inputs, *, with_category: bool) -> dict[str, Any]:
    """Validated listing fields; FormErrors names every bad one."""
    unit = "ether" if inputs.is_form else "wei"
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    checks: list[tuple[str, Any]] = []
    if with_category:
        checks.append(("category", lambda: forms.category(inputs.get("category"))))
    checks += [
        ("region", lambda: forms.region(inputs.get("region"))),
        ("attributes", lambda: forms.attribute_mask(inputs.getlist("attributes"), "attributes")),
        ("price", lambda: forms.amount(inputs.get("price"), "price", default_unit=unit, low=1)),
        ("name", lambda: forms.text(inputs.get("name"), "name", max_len=MAX_NAME)),
        ("description", lambda: forms.text(inputs.get("description"), "description",
                                           max_len=MAX_DESCRIPTION, required=False)),
    ]
    if with_category:
        checks.append(("stake", lambda: _stake(inputs.get("stake"), unit)))
    for name, parse in checks:
        try:
            values[name] = parse()
        except FieldError as exc:
            errors[name] = exc.message
    if errors:
        raise FormErrors(errors)
    return values


def _stake(raw: Any, unit: str) -> int:
    stake = forms.amount(raw, "stake", default_unit=unit, low=1)
    if stake > UINT96_MAX:
        raise FieldError("The stake is too large.", "stake")
    minimum = services_min_stake()
    if minimum is not None and stake < minimum:
        raise FieldError(f"The minimum stake is {format_wei(minimum)}.", "stake")
    return stake


def services_min_stake() -> int | None:
    """The minimum stake as the store knows it (None before the indexer saw the deployment)."""
    from marketplace.store import queries as store_queries

    with services().engine.connect() as conn:
        settings = store_queries.market_settings(conn)
    return int(settings["min_stake"]) if settings else None


def metadata_document(values: dict[str, Any]) -> dict[str, str]:
    """The off-chain metadata of a listing: name and description only (no personal data)."""
    return {"name": values["name"], "description": values["description"]}


def register_intent(inputs: Inputs) -> TxIntent:
    """register(category, region, attributes, price, metadataHash) with the stake as value."""
    values = listing_fields(inputs, with_category=True)
    document = metadata_document(values)
    digest = put_metadata(services().engine, document)
    return TxIntent(
        function="register",
        args=(values["category"], values["region"], values["attributes"], values["price"],
              bytes.fromhex(digest[2:])),
        value=values["stake"],
        label=f"Register '{values['name']}'",
        api_path=url_for("api.register_tx"),
        api_body=_listing_body(values, with_category=True),
        next_url="/providers/{provider}",
    )


def update_intent(provider_id: int, inputs: Inputs) -> TxIntent:
    """updateProvider(providerId, region, attributes, price, metadataHash)."""
    values = listing_fields(inputs, with_category=False)
    digest = put_metadata(services().engine, metadata_document(values))
    return TxIntent(
        function="updateProvider",
        args=(provider_id, values["region"], values["attributes"], values["price"],
              bytes.fromhex(digest[2:])),
        label=f"Update listing #{provider_id}",
        api_path=url_for("api.listing_tx", provider_id=provider_id, action="update"),
        api_body=_listing_body(values, with_category=False),
        next_url=url_for("customer.provider", provider_id=provider_id),
    )


def listing_action_intent(provider_id: int, action: str) -> TxIntent:
    """deactivate / reactivate / releaseStake of a listing."""
    if action not in LISTING_ACTIONS:
        raise FieldError(f"Unknown action; one of: {', '.join(LISTING_ACTIONS)}.", "action",
                         status=404)
    function, label = LISTING_ACTIONS[action]
    return TxIntent(
        function=function,
        args=(provider_id,),
        label=f"{label} (listing #{provider_id})",
        api_path=url_for("api.listing_tx", provider_id=provider_id, action=action),
        next_url=url_for("provider.dashboard"),
    )


def withdraw_intent() -> TxIntent:
    """withdraw(): the caller's whole credit."""
    return TxIntent(
        function="withdraw",
        args=(),
        label="Withdraw your credit",
        api_path=url_for("api.withdraw_tx"),
        next_url=url_for("provider.dashboard"),
    )


def _listing_body(values: dict[str, Any], *, with_category: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "region": values["region"],
        "attributes": names("attribute", values["attributes"]),
        "price": str(values["price"]),
        "name": values["name"],
        "description": values["description"],
    }
    if with_category:
        body["category"] = values["category"]
        body["stake"] = str(values["stake"])
    return body


def category_key(code: int) -> str:
    """How a URL names a category: its catalogue key, or the code of one the catalogue lacks."""
    return key_of("category", code) or str(code)
