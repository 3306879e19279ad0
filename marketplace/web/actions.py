"""Every transaction the web app can prepare, from validated inputs: one place for pages and API.

Each `*_intent` function reads `Inputs` (a form or a JSON body), validates every field (raising
`FieldError`/`FormErrors` naming the field) and returns the `TxIntent`: the contract function
and arguments, the value to send, the API call that rebuilds it for a wallet, and the page to
show once the indexer has it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eth_utils.address import to_checksum_address
from flask import url_for

from marketplace.catalogue import CATEGORY_ATTRIBUTES, key_of, label, labels, mask, names
from marketplace.chain.market import ListingInput
from marketplace.domain import MAX_LATE_CANCEL_PCT, UINT96_MAX
from marketplace.matching.criteria import CriteriaInput
from marketplace.units import ETHER_CURRENCY, Currency, format_wei
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
    "confirm_and_rate": ("confirmAndRate", "customer", "Confirm and rate"),
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
    """setCriteria with every field validated (amounts in the chosen currency's units)."""
    from marketplace.web.money import currencies

    with services().engine.connect() as conn:
        known = currencies(conn)
    criteria = forms.parse_criteria_inputs(inputs, known)
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
    if action in ("rate", "confirm_and_rate"):
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
        verb = "Rate the booking" if action == "rate" else "Confirm and rate"
        label = f"{verb} {stars} star{'s' if stars != 1 else ''}"
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


def listing_fields(inputs: Inputs, *, with_category: bool,
                   known: Mapping[int, Currency] | None = None) -> dict[str, Any]:
    """Validated listing fields (`ListingInput` and the off-chain name and description);
    FormErrors names every bad one. The price is in the chosen currency's units on forms and in
    its smallest unit in JSON; the stake is always ether."""
    unit = "ether" if inputs.is_form else "wei"
    currencies = dict(known or {0: ETHER_CURRENCY})
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    try:
        values["currency"] = forms.currency_id(inputs.get("currency"), "currency", currencies)
    except FieldError as exc:
        errors["currency"] = exc.message
        values["currency"] = 0
    chosen = currencies.get(values["currency"], ETHER_CURRENCY)

    def price() -> int:
        if chosen.is_ether:
            return forms.amount(inputs.get("price"), "price", default_unit=unit, low=1)
        if not inputs.is_form:
            return forms.integer(inputs.get("price"), "price", low=1, high=2**88 - 1)
        from marketplace.web.money import parse_amount

        return parse_amount(inputs.get("price"), "price", chosen, low=1)

    checks: list[tuple[str, Any]] = []
    if with_category:
        checks.append(("category", lambda: forms.category(inputs.get("category"))))
    checks += [
        ("region", lambda: forms.region(inputs.get("region"))),
        ("attributes", lambda: forms.attribute_mask(inputs.getlist("attributes"), "attributes")),
        ("price", price),
        ("name", lambda: forms.text(inputs.get("name"), "name", max_len=MAX_NAME)),
        ("description", lambda: forms.text(inputs.get("description"), "description",
                                           max_len=MAX_DESCRIPTION, required=False)),
        ("instant", lambda: forms.boolean(inputs.get("instant"), "instant", default=False)),
        ("free_cancel_hours", lambda: forms.integer(
            inputs.get("free_cancel_hours") or 0, "free_cancel_hours", low=0, high=65_535)),
        ("late_cancel_pct", lambda: forms.integer(
            inputs.get("late_cancel_pct") or 0, "late_cancel_pct", low=0,
            high=MAX_LATE_CANCEL_PCT)),
    ]
    if with_category:
        checks.append(("stake", lambda: _stake(inputs.get("stake"), unit)))
    for name, parse in checks:
        try:
            values[name] = parse()
        except FieldError as exc:
            errors[name] = exc.message
    if (with_category and inputs.is_form and "category" in values
            and "attributes" in values):
        # A form offers only the category's attributes (issue 14); the API takes any.
        category_key = key_of("category", values["category"]) or ""
        foreign = [a for a in names("attribute", values["attributes"])
                   if a not in CATEGORY_ATTRIBUTES.get(category_key, ())]
        if foreign:
            errors["attributes"] = (
                f"Not an attribute of {label('category', values['category'])} listings: "
                + ", ".join(labels("attribute", mask("attribute", foreign))) + ".")
    if errors:
        raise FormErrors(errors)
    return values


def listing_input(values: dict[str, Any], category: int, digest: str) -> ListingInput:
    """The contract's `ListingInput` from validated fields."""
    return ListingInput(
        category=category, region=values["region"], attributes=values["attributes"],
        currency=values["currency"], price=values["price"],
        metadata_hash=bytes.fromhex(digest[2:]), instant=values["instant"],
        free_cancel_hours=values["free_cancel_hours"],
        late_cancel_pct=values["late_cancel_pct"])


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


def register_intent(inputs: Inputs, known: Mapping[int, Currency] | None = None) -> TxIntent:
    """register(ListingInput) with the stake as value."""
    values = listing_fields(inputs, with_category=True, known=known)
    document = metadata_document(values)
    digest = put_metadata(services().engine, document)
    listing = listing_input(values, values["category"], digest)
    return TxIntent(
        function="register",
        args=(listing.as_tuple(),),
        value=values["stake"],
        label=f"Register '{values['name']}'",
        api_path=url_for("api.register_tx"),
        api_body=_listing_body(values, with_category=True),
        next_url="/providers/{provider}",
    )


def update_intent(provider_id: int, inputs: Inputs,
                  known: Mapping[int, Currency] | None = None) -> TxIntent:
    """updateListing(providerId, ListingInput): a new offer version (the category stays)."""
    from marketplace.store import queries as store_queries

    with services().engine.connect() as conn:
        row = store_queries.get_provider(conn, provider_id)
    if row is None:
        raise FieldError(f"There is no listing #{provider_id}.", "provider_id", status=404)
    category = int(row["category"])
    values = listing_fields(inputs, with_category=False, known=known)
    digest = put_metadata(services().engine, metadata_document(values))
    listing = listing_input(values, category, digest)
    return TxIntent(
        function="updateListing",
        args=(provider_id, listing.as_tuple()),
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
        "currency": values["currency"],
        "instant": values["instant"],
        "free_cancel_hours": values["free_cancel_hours"],
        "late_cancel_pct": values["late_cancel_pct"],
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


# ------------------------------------------------------------------ contract v2 bookings


BookingRequest = tuple[int, int, int, int, int, int]


def booking_request(provider_id: int, start: int, minutes: int, salt: int, offer_version: int,
                    criteria_version: int) -> BookingRequest:
    """`BookingRequest { providerId, start, durationMinutes, salt, offerVersion,
    criteriaVersion }` as the contract takes it."""
    return (provider_id, start, minutes, salt, offer_version, criteria_version)


def book_v2_intent(request_: BookingRequest, *, price: int,
                   ether: bool, label: str, api_path: str, api_body: dict[str, Any]) -> TxIntent:
    """book(request): an ether booking sends exactly the price; a token booking after an
    approval sends nothing (the contract pulls the price)."""
    return TxIntent(
        function="book",
        args=(request_,),
        value=price if ether else 0,
        label=label,
        api_path=api_path,
        api_body=api_body,
        next_url="/bookings/{booking}",
    )


def book_permit_intent(request_: BookingRequest, *, deadline: int,
                       signature: tuple[int, bytes, bytes], label: str, api_path: str,
                       api_body: dict[str, Any]) -> TxIntent:
    """bookWithPermit(request, deadline, v, r, s): the permit for exactly the price and the
    booking in one transaction."""
    v, r, s = signature
    return TxIntent(
        function="bookWithPermit",
        args=(request_, deadline, v, r, s),
        label=label,
        api_path=api_path,
        api_body=api_body,
        next_url="/bookings/{booking}",
    )


def top_up_intent(provider_id: int, inputs: Inputs) -> TxIntent:
    """topUpStake(providerId) with the amount (ether) as value."""
    unit = "ether" if inputs.is_form else "wei"
    amount = forms.amount(inputs.get("amount"), "amount", default_unit=unit, low=1)
    if amount > UINT96_MAX:
        raise FieldError("The amount is too large.", "amount")
    return TxIntent(
        function="topUpStake",
        args=(provider_id,),
        value=amount,
        label=f"Add {format_wei(amount)} to the stake of listing #{provider_id}",
        api_path=url_for("api.listing_tx", provider_id=provider_id, action="top_up"),
        api_body={"amount": str(amount)},
        next_url=url_for("provider.dashboard"),
    )


def owner_block_intent(inputs: Inputs) -> TxIntent:
    """setOwnerBlocked(owner, blocked): every listing of that owner, present and future."""
    owner = forms.address(inputs.get("owner"), "owner")
    blocked = forms.boolean(inputs.get("blocked"), "blocked", default=True)
    return TxIntent(
        function="setOwnerBlocked",
        args=(to_checksum_address(owner), blocked),
        label=f"{'Block' if blocked else 'Unblock'} every listing of owner {owner}",
        api_path=url_for("api.block_tx"),
        api_body={"owner": owner, "blocked": blocked},
        next_url=url_for("customer.criteria"),
    )


def attest_intent(inputs: Inputs) -> TxIntent:
    """attest(providerId, attributes): replaces this attestor's record; no attributes revokes."""
    errors: dict[str, str] = {}
    provider_id = mask = 0
    try:
        provider_id = forms.integer(inputs.get("provider_id"), "provider_id", low=1,
                                    high=2**32 - 1)
    except FieldError as exc:
        errors["provider_id"] = exc.message
    try:
        mask = forms.attribute_mask(inputs.getlist("attributes"), "attributes")
    except FieldError as exc:
        errors["attributes"] = exc.message
    if errors:
        raise FormErrors(errors)
    label = (f"Revoke your attestation of listing #{provider_id}" if mask == 0 else
             f"Attest {', '.join(names('attribute', mask))} of listing #{provider_id}")
    return TxIntent(
        function="attest",
        args=(provider_id, mask),
        label=label,
        api_path="",
        api_body={"provider_id": provider_id, "attributes": names("attribute", mask)},
        next_url=url_for("customer.attest", provider_id=provider_id),
    )


def withdraw_currency_intent(currency: int, symbol: str) -> TxIntent:
    """withdraw(currency): the caller's whole credit in that currency."""
    return TxIntent(
        function="withdraw",
        args=(currency,),
        label=f"Withdraw your {symbol} credit",
        api_path=url_for("api.withdraw_tx"),
        api_body={"currency": currency},
        next_url=url_for("provider.dashboard"),
    )
